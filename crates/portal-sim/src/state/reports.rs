//! Filed "no movement" reports, one per order and portal day.

use std::collections::HashMap;

use chrono::{NaiveDate, SecondsFormat, Utc};
use serde::Serialize;

/// One report as listed by `GET /_sim/reports`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub account: String,
    pub order_id: u64,
    pub ticket: String,
    /// The portal day the report belongs to.
    pub day: NaiveDate,
    /// Wall-clock time it was filed (RFC 3339, UTC).
    pub at: String,
    pub reason: String,
    pub message: String,
}

/// Outcome of filing a report.
#[derive(Debug, PartialEq, Eq)]
pub enum Filing {
    Created { ticket: String },
    AlreadyReported { ticket: String },
}

#[derive(Debug, Default)]
pub struct ReportBook {
    reports: Vec<Report>,
    // Order ids are unique across accounts, so (day, order) identifies a report.
    tickets: HashMap<(NaiveDate, u64), String>,
}

impl ReportBook {
    pub fn all(&self) -> &[Report] {
        &self.reports
    }

    pub fn ticket_for(&self, day: NaiveDate, order_id: u64) -> Option<&str> {
        self.tickets.get(&(day, order_id)).map(String::as_str)
    }

    pub fn file(
        &mut self,
        account: &str,
        order_id: u64,
        day: NaiveDate,
        reason: &str,
        message: &str,
    ) -> Filing {
        if let Some(ticket) = self.ticket_for(day, order_id) {
            return Filing::AlreadyReported {
                ticket: ticket.to_owned(),
            };
        }
        let ticket = format!("TK-{}-{:05}", day.format("%Y%m%d"), self.reports.len() + 1);
        self.tickets.insert((day, order_id), ticket.clone());
        self.reports.push(Report {
            account: account.to_owned(),
            order_id,
            ticket: ticket.clone(),
            day,
            at: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            reason: reason.to_owned(),
            message: message.to_owned(),
        });
        Filing::Created { ticket }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_report_per_order_and_day() {
        let mut book = ReportBook::default();
        let d1 = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
        let d2 = d1.succ_opt().unwrap();
        let Filing::Created { ticket } = book.file("a", 7, d1, "sin_movimiento", "m") else {
            panic!("first report must be created");
        };
        assert_eq!(
            book.file("a", 7, d1, "sin_movimiento", "m"),
            Filing::AlreadyReported { ticket }
        );
        assert!(matches!(
            book.file("a", 7, d2, "sin_movimiento", "m"),
            Filing::Created { .. }
        ));
        assert_eq!(book.all().len(), 2);
    }
}
