//! `reporterctl portal check` (and the API's `PortalCheck` job): log into
//! one customer's portal account with the configured driver and profile,
//! download the export and check its columns, open one order's page and
//! check every selector a report needs, and say what was found or missing.
//! Files nothing: the order is checked with
//! [`PortalSession::check_order`], the shadow runs' read-only check, and
//! `report` is never called.
//!
//! The browser is taken like the jobs take theirs: a lease of the fleet's
//! Redis semaphore (`MAX_ACTIVE_SELENIUM`), waited for a bounded time.

mod report;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::PgConnection;
use redis::aio::ConnectionManager;
use reporter_core::browser_semaphore::{BrowserSemaphore, HeldLease, Holder, SemaphoreError};
use reporter_core::config::Settings;
use reporter_core::credentials::CredentialsCipher;
use reporter_core::domain::is_terminal;
use reporter_core::models::pipeline::StuckOrder;
use reporter_core::models::user;

pub use report::{CheckRow, PortalCheckReport};

use crate::portal::http::{HttpPortal, HttpPortalOptions};
use crate::portal::webdriver::{Profile, WebDriverOptions, WebDriverPortal};
use crate::portal::{
    fake::FakePortal, BrowserStarted, BrowserStarting, OrderCheck, Portal, PortalError,
    PortalSession, SessionContext, StillHeld,
};

/// The portal the settings configure (`REPORTER_PORTAL_DRIVER`,
/// `REPORTER_PORTAL_URL`, `REPORTER_PORTAL_PROFILE`, …), built as the
/// worker builds its own.
pub fn build_portal(
    settings: &Settings,
    redis: ConnectionManager,
) -> anyhow::Result<Arc<dyn Portal>> {
    Ok(match settings.portal_driver.as_str() {
        "fake" => Arc::new(FakePortal::new(redis, &settings.redis_prefix)),
        "webdriver" => {
            let opts = WebDriverOptions::from_settings(settings)
                .map_err(|e| anyhow::anyhow!("REPORTER_PORTAL_PROFILE: {e}"))?;
            Arc::new(WebDriverPortal::new(opts))
        }
        "http" => {
            let opts = HttpPortalOptions::from_settings(settings)
                .map_err(|e| anyhow::anyhow!("REPORTER_PORTAL_PROFILE: {e}"))?;
            Arc::new(
                HttpPortal::new(opts)
                    .map_err(|e| anyhow::anyhow!("REPORTER_PORTAL_DRIVER=http: {e}"))?,
            )
        }
        other => anyhow::bail!(
            "REPORTER_PORTAL_DRIVER={other}: expected `webdriver`, `http` or `fake` (see docs/portal.md)"
        ),
    })
}

/// Why a check could not start.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("no user with email {0}")]
    UnknownEmail(String),
    #[error("user {0} has no portal credentials (reporterctl user set-portal-credentials)")]
    NoCredentials(String),
    #[error("cannot decrypt the portal password of {0} (REPORTER_CREDENTIALS_KEY changed?)")]
    Undecryptable(String),
    #[error("no browser free: all {limit} places (MAX_ACTIVE_SELENIUM) stayed taken for {waited:?}; try again later")]
    NoBrowser { limit: u32, waited: Duration },
    #[error("browser semaphore: {0}")]
    Semaphore(String),
    #[error("REPORTER_PORTAL_PROFILE: {0}")]
    Profile(String),
    #[error("database: {0}")]
    Db(String),
}

/// Whose portal account is checked.
#[derive(Debug, Clone)]
pub struct CheckTarget {
    pub user_id: i64,
    pub email: String,
    pub portal_email: String,
    pub portal_password: String,
}

/// Looks `email` up and decrypts its portal credentials.
pub fn target(
    conn: &mut PgConnection,
    cipher: &CredentialsCipher,
    email: &str,
) -> Result<CheckTarget, CheckError> {
    let email = user::normalize_email(email);
    let u = user::find_by_email(conn, &email)
        .map_err(|e| CheckError::Db(e.to_string()))?
        .ok_or_else(|| CheckError::UnknownEmail(email.clone()))?;
    let (portal_email, portal_password) = u
        .portal_credentials(cipher)
        .map_err(|_| CheckError::Undecryptable(email.clone()))?
        .ok_or_else(|| CheckError::NoCredentials(email.clone()))?;
    Ok(CheckTarget {
        user_id: u.id,
        email,
        portal_email,
        portal_password,
    })
}

/// Where the check's screenshots go:
/// `REPORTER_ARTIFACTS_DIR/portal-check/{timestamp}/`.
pub fn screenshots_dir(settings: &Settings) -> PathBuf {
    Path::new(&settings.artifacts_dir)
        .join("portal-check")
        .join(chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ").to_string())
}

/// Takes a browser lease (waiting at most `wait`), runs [`check`] with it
/// and releases it. `holder_job` names the lease's holder (e.g.
/// `portal-check:{id}`), as operators see it on the console.
#[allow(clippy::too_many_arguments)]
pub async fn check_with_lease(
    semaphore: &BrowserSemaphore,
    portal: &dyn Portal,
    settings: &Settings,
    worker: &str,
    holder_job: &str,
    target: &CheckTarget,
    wait: Duration,
) -> Result<PortalCheckReport, CheckError> {
    let profile = Profile::load(settings.portal_profile.as_deref()).map_err(CheckError::Profile)?;
    let lease = match semaphore
        .acquire_held(Holder::new(worker, holder_job), wait)
        .await
    {
        Ok(l) => l,
        Err(SemaphoreError::Timeout { waited }) => {
            return Err(CheckError::NoBrowser {
                limit: semaphore.limit(),
                waited,
            })
        }
        Err(e) => return Err(CheckError::Semaphore(e.to_string())),
    };
    let ctx = lease_context(semaphore, &lease, target.user_id);
    let report = check(
        portal,
        &profile,
        &settings.portal_url,
        target,
        ctx,
        Some(&screenshots_dir(settings)),
    )
    .await;
    let _ = lease.release().await;
    Ok(report)
}

/// The session's hooks on `lease`, as the jobs' (see
/// `Environment::record_browser_tag_on`).
fn lease_context(sem: &BrowserSemaphore, lease: &HeldLease, user_id: i64) -> SessionContext {
    let (s1, l1) = (sem.clone(), lease.lease().clone());
    let (s2, l2) = (sem.clone(), lease.lease().clone());
    let watch = lease.watch();
    SessionContext {
        run_id: 0,
        user_id,
        range_id: None,
        on_browser_starting: BrowserStarting::new(move |tag: String| {
            let (sem, lease) = (s1.clone(), l1.clone());
            async move { sem.set_browser_tag(&lease, &tag).await.unwrap_or(false) }
        }),
        on_browser_started: BrowserStarted::new(move |id: &str| {
            let (sem, lease, id) = (s2.clone(), l2.clone(), id.to_string());
            tokio::spawn(async move {
                let _ = sem.set_webdriver_session(&lease, &id).await;
            });
        }),
        still_held: StillHeld::new(move || !watch.is_lost()),
    }
}

fn ms(since: Instant) -> u64 {
    since.elapsed().as_millis() as u64
}

/// The check itself, in one portal session (the caller holds the browser
/// lease). Screenshots of the orders page and the order page go to
/// `shots` when the driver has a screen.
pub async fn check(
    portal: &dyn Portal,
    profile: &Profile,
    portal_url: &str,
    target: &CheckTarget,
    ctx: SessionContext,
    shots: Option<&Path>,
) -> PortalCheckReport {
    let mut r = PortalCheckReport::new(&target.email, &profile.name, portal_url);
    let started = Instant::now();
    let login_item = format!("login.logged_in = {}", profile.login.logged_in);
    let mut session = match portal
        .login(&target.portal_email, &target.portal_password, &ctx)
        .await
    {
        Ok(s) => s,
        Err(e) => {
            r.row(
                "login",
                login_item,
                false,
                true,
                ms(started),
                Some(e.to_string()),
            );
            r.error = Some(format!("login failed: {e}"));
            r.finish();
            return r;
        }
    };
    r.row("login", login_item, true, true, ms(started), None);
    check_in_session(&mut r, session.as_mut(), profile, shots).await;
    session.close().await;
    r.finish();
    r
}

async fn screenshot(
    r: &mut PortalCheckReport,
    s: &mut dyn PortalSession,
    dir: Option<&Path>,
    name: &str,
) {
    let Some(dir) = dir else { return };
    let path = dir.join(name);
    match s.screenshot(&path).await {
        Ok(true) => r.screenshots.push(path.display().to_string()),
        Ok(false) => {}
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "portal check: screenshot failed")
        }
    }
}

async fn check_in_session(
    r: &mut PortalCheckReport,
    s: &mut dyn PortalSession,
    profile: &Profile,
    shots: Option<&Path>,
) {
    let started = Instant::now();
    let link_item = format!("orders.export_link = {}", profile.orders.export_link);
    let inspected = s.inspect_export().await;
    let t = ms(started);
    screenshot(r, s, shots, "orders.png").await;
    let export = match inspected {
        Ok(x) => x,
        Err(e) => {
            r.row("export", link_item, false, true, t, Some(e.to_string()));
            r.error = Some(format!("export failed: {e}"));
            return;
        }
    };
    r.row(
        "export",
        link_item,
        true,
        true,
        t,
        Some(format!(
            "{} orders, sheet {:?}",
            export.orders.len(),
            export.sheet
        )),
    );
    let found: Vec<String> = export
        .headers
        .iter()
        .map(|h| crate::portal::webdriver::xlsx::normalize_header(h))
        .collect();
    for (field, text) in profile.export.columns.fields() {
        let required = !profile.export.optional_columns.iter().any(|c| c == field);
        let here = found.contains(&crate::portal::webdriver::xlsx::normalize_header(text));
        let detail =
            (!here && required).then(|| format!("headers: {}", export.headers.join(" | ")));
        r.row(
            "column",
            format!("{field} = {text}"),
            here,
            required,
            t,
            detail,
        );
    }
    if let Some(e) = &export.parse_error {
        if r.misses().next().is_none() {
            r.error = Some(format!("export unusable: {e}"));
        }
    }
    // A non-terminal order first: that is the kind a run reports.
    let Some(order) = export
        .orders
        .iter()
        .find(|o| !is_terminal(&o.status))
        .or_else(|| export.orders.first())
    else {
        r.row(
            "order",
            format!("paths.order = {}", profile.paths.order),
            false,
            true,
            0,
            Some("the export has no order whose page could be checked".into()),
        );
        return;
    };
    r.order_id = Some(order.order_id);
    let stuck = StuckOrder {
        position: 1,
        order_id: order.order_id,
        status: order.status.clone(),
        carrier: order.carrier.clone(),
        tracking_number: order.tracking_number.clone(),
        order_date: order.order_date.clone(),
    };
    let started = Instant::now();
    let checked = s.check_order(&stuck).await;
    let t = ms(started);
    screenshot(r, s, shots, &format!("order-{}.png", order.order_id)).await;
    order_rows(r, profile, &profile.order_path(order.order_id), checked, t);
}

/// The order page's rows from the shadow check's answer.
fn order_rows(
    r: &mut PortalCheckReport,
    profile: &Profile,
    path: &str,
    checked: Result<OrderCheck, PortalError>,
    t: u64,
) {
    let o = &profile.order;
    let form_rows = [
        (
            format!("order.report_form = {}", o.report_form),
            o.report_form.clone(),
        ),
        (format!("order.reason = {}", o.reason), o.reason.clone()),
        (
            format!("order.reason_value = {:?}", o.reason_value),
            format!(
                "{} option {}",
                o.reason,
                serde_json::Value::from(o.reason_value.as_str())
            ),
        ),
        (format!("order.message = {}", o.message), o.message.clone()),
        (format!("order.submit = {}", o.submit), o.submit.clone()),
    ];
    match checked {
        Ok(OrderCheck::WouldReport) => {
            for (item, _) in form_rows {
                r.row("order", item, true, true, t, None);
            }
        }
        Ok(OrderCheck::AlreadyReported { ticket }) => {
            r.row(
                "order",
                format!("order.already_reported = {}", o.already_reported),
                true,
                true,
                t,
                Some("the order is reported already: the report form is not shown".into()),
            );
            let how = match (&o.ticket_attribute, &o.ticket_text_regex) {
                (Some(a), _) => format!("order.ticket_attribute = {a}"),
                (None, Some(re)) => format!("order.ticket_text_regex = {re}"),
                (None, None) => "order ticket".to_string(),
            };
            let found = !ticket.trim().is_empty();
            r.row(
                "order",
                how,
                found,
                true,
                t,
                Some(format!("ticket {ticket:?}")),
            );
        }
        Err(PortalError::Permanent(msg)) if msg.contains("the report form lacks ") => {
            let listed = msg
                .split_once("the report form lacks ")
                .map(|(_, rest)| {
                    rest.rsplit_once(" (portal profile")
                        .map_or(rest, |(l, _)| l)
                })
                .unwrap_or_default();
            let missing: Vec<&str> = listed.split(", ").collect();
            let no_form = missing.contains(&o.report_form.as_str());
            for (item, sel) in form_rows {
                let here = !no_form && !missing.contains(&sel.as_str());
                let detail = (!here).then(|| {
                    if no_form && sel != o.report_form {
                        "not checked: no report form".to_string()
                    } else {
                        format!("not on {path}")
                    }
                });
                r.row("order", item, here, true, t, detail);
            }
        }
        Err(e) => {
            r.row(
                "order",
                format!("{} or {} on {path}", o.report_form, o.already_reported),
                false,
                true,
                t,
                Some(e.to_string()),
            );
        }
    }
}
