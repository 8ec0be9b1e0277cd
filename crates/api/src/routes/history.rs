//! The customer's recent days, one entry per business day: stuck orders
//! found, orders reported, late starts and failures.

use actix_web::{web, HttpResponse};
use chrono::{NaiveDate, Utc};
use reporter_core::models::history::{self, HistoryDay};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// The longest history one request reads.
pub const MAX_DAYS: i64 = 90;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// How many business days, ending today (1–90, default 30).
    #[param(minimum = 1, maximum = 90)]
    pub days: Option<i64>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct HistoryTotals {
    pub stuck_orders: i64,
    pub reported: i64,
    /// Days with a late start.
    pub late_days: i64,
    /// Days with a failed run (download failed, or a range failed for good).
    pub failed_days: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    /// Today, in the reporter's time zone.
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    /// Every day of `from..=to`, oldest first.
    pub days: Vec<HistoryDay>,
    pub totals: HistoryTotals,
}

/// The caller's last `days` business days.
#[utoipa::path(get, path = "/api/reporter/history/", tag = "reporter", params(HistoryQuery),
    responses((status = 200, body = History), (status = 400, description = "`invalid_days`", body = ErrorBody)),
    security(("token" = [])))]
pub async fn history(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let n = q.days.unwrap_or(30);
    if !(1..=MAX_DAYS).contains(&n) {
        return Err(ApiError::bad_request(
            "invalid_days",
            format!("days debe estar entre 1 y {MAX_DAYS}"),
        ));
    }
    let to = reporter_core::schedule::business_date(Utc::now(), state.settings.timezone);
    let from = to - chrono::Duration::days(n - 1);
    let uid = auth.user_id;
    let days = state
        .db(move |c| Ok(history::days_between(c, uid, from, to)?))
        .await?;
    let totals = days.iter().fold(HistoryTotals::default(), |mut t, d| {
        t.stuck_orders += d.stuck_orders;
        t.reported += d.reported;
        t.late_days += i64::from(d.late);
        t.failed_days += i64::from(d.failed);
        t
    });
    Ok(HttpResponse::Ok().json(History {
        from,
        to,
        days,
        totals,
    }))
}
