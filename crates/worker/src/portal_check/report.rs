//! The portal check's report: one row per step and selector or column,
//! found or missing, with its time; serialized as the API's and
//! `reporterctl portal check --json`'s answer, and printed as a table.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One thing checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRow {
    /// `login`, `export`, `column`, `order`.
    pub step: String,
    /// The profile key and its selector or header text
    /// (`order.submit = button#report-submit`).
    pub item: String,
    pub found: bool,
    /// A missing required row fails the check; a missing optional column
    /// (`export.optional_columns`) is only reported.
    pub required: bool,
    /// Time of the step that checked it, in milliseconds.
    pub ms: u64,
    /// Why it is missing, or what was found (a ticket, the headers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The whole check of one customer's portal account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalCheckReport {
    /// The customer's email in our users table.
    pub email: String,
    /// The portal profile's `name`.
    pub profile: String,
    pub portal_url: String,
    pub started_at: DateTime<Utc>,
    pub elapsed_ms: u64,
    /// Every required row found and no error.
    pub ok: bool,
    /// The order whose page was checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<i64>,
    pub rows: Vec<CheckRow>,
    /// Screenshots saved (paths), webdriver driver only.
    #[serde(default)]
    pub screenshots: Vec<String>,
    /// Why the check stopped early (login refused, no browser free, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl PortalCheckReport {
    pub(super) fn new(email: &str, profile: &str, portal_url: &str) -> Self {
        PortalCheckReport {
            email: email.to_string(),
            profile: profile.to_string(),
            portal_url: portal_url.to_string(),
            started_at: Utc::now(),
            elapsed_ms: 0,
            ok: false,
            order_id: None,
            rows: Vec::new(),
            screenshots: Vec::new(),
            error: None,
        }
    }

    /// A report of a check that could not start (no browser, no
    /// credentials): `error` and no rows.
    pub fn failed(email: &str, profile: &str, portal_url: &str, error: String) -> Self {
        let mut r = Self::new(email, profile, portal_url);
        r.error = Some(error);
        r
    }

    pub(super) fn row(
        &mut self,
        step: &str,
        item: String,
        found: bool,
        required: bool,
        ms: u64,
        detail: Option<String>,
    ) {
        self.rows.push(CheckRow {
            step: step.to_string(),
            item,
            found,
            required,
            ms,
            detail,
        });
    }

    /// Sets `ok` and `elapsed_ms`.
    pub(super) fn finish(&mut self) {
        self.ok = self.error.is_none()
            && !self.rows.is_empty()
            && self.rows.iter().all(|r| r.found || !r.required);
        self.elapsed_ms = (Utc::now() - self.started_at).num_milliseconds().max(0) as u64;
    }

    /// The rows that fail the check.
    pub fn misses(&self) -> impl Iterator<Item = &CheckRow> {
        self.rows.iter().filter(|r| r.required && !r.found)
    }

    /// The report as a plain-text table: step, selector or column,
    /// found/missing, time (ms), then the screenshots and the verdict.
    pub fn table(&self) -> String {
        let status = |r: &CheckRow| match (r.found, r.required) {
            (true, _) => "found",
            (false, true) => "MISSING",
            (false, false) => "missing (optional)",
        };
        let w_step = self
            .rows
            .iter()
            .map(|r| r.step.len())
            .max()
            .unwrap_or(0)
            .max(4);
        let w_item = self
            .rows
            .iter()
            .map(|r| r.item.chars().count())
            .max()
            .unwrap_or(0)
            .max(18);
        let mut out = format!(
            "portal check of {} (profile {}, {})\n",
            self.email, self.profile, self.portal_url
        );
        out += &format!(
            "{:<w_step$}  {:<w_item$}  {:<18}  {:>8}\n",
            "step", "selector or column", "result", "time ms"
        );
        for r in &self.rows {
            let pad = w_item.saturating_sub(r.item.chars().count());
            out += &format!(
                "{:<w_step$}  {}{}  {:<18}  {:>8}",
                r.step,
                r.item,
                " ".repeat(pad),
                status(r),
                r.ms
            );
            if let Some(d) = &r.detail {
                out += &format!("  {d}");
            }
            out.push('\n');
        }
        for s in &self.screenshots {
            out += &format!("screenshot: {s}\n");
        }
        if let Some(e) = &self.error {
            out += &format!("error: {e}\n");
        }
        let misses = self.misses().count();
        out += &if self.ok {
            format!(
                "OK: everything the reports need was found ({} ms)\n",
                self.elapsed_ms
            )
        } else {
            format!(
                "FAILED: {misses} required item{} missing{} ({} ms)\n",
                if misses == 1 { "" } else { "s" },
                if self.error.is_some() {
                    ", check stopped"
                } else {
                    ""
                },
                self.elapsed_ms
            )
        };
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ok_needs_every_required_row_and_no_error() {
        let mut r = PortalCheckReport::new("a@b", "portal-sim", "http://p");
        r.row(
            "login",
            "login.logged_in = span".into(),
            true,
            true,
            5,
            None,
        );
        r.row("column", "customer = CLIENTE".into(), false, false, 1, None);
        r.finish();
        assert!(r.ok, "an optional column does not fail the check");
        assert!(r.table().contains("missing (optional)"));
        r.row(
            "order",
            "order.submit = button#nope".into(),
            false,
            true,
            3,
            None,
        );
        r.finish();
        assert!(!r.ok);
        assert_eq!(r.misses().count(), 1);
        assert!(r.table().contains("MISSING"), "{}", r.table());
        let mut e = PortalCheckReport::failed("a@b", "p", "u", "no browser".into());
        e.finish();
        assert!(!e.ok);
    }
}
