//! What the pipeline needs from a supplier portal, whatever drives it: a
//! real browser (the thirtyfour adapter), a browserless HTTP client of the
//! portal contract for soaks against portal-sim, or the scripted fake used
//! by the scheduler tests and benchmarks.

pub mod fake;
pub mod http;
pub mod inspection;
mod session_retry;
pub mod webdriver;

use async_trait::async_trait;
use futures::future::BoxFuture;
use reporter_core::domain::OrderSnapshot;
use reporter_core::models::pipeline::StuckOrder;

/// Why a portal call failed, and therefore what to do next.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum PortalError {
    /// Wrong credentials: retrying cannot help.
    #[error("invalid portal credentials")]
    InvalidCredentials,
    /// The portal answered "Cuenta bloqueada": retrying cannot help.
    #[error("portal account blocked")]
    Blocked,
    /// Timeouts, 5xx, a broken session: worth retrying.
    #[error("transient portal failure: {0}")]
    Transient(String),
    /// The portal answered something we cannot use (e.g. an export without a
    /// required column): retrying the same thing gives the same answer.
    #[error("permanent portal failure: {0}")]
    Permanent(String),
}

impl PortalError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, PortalError::Transient(_))
    }
}

/// The result of reporting one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportReceipt {
    pub ticket: String,
    /// The portal already had a report of this order today.
    pub already_reported: bool,
}

/// Where a session is used, for logs and failure artifacts.
#[derive(Debug, Clone, Default)]
pub struct SessionContext {
    pub run_id: i64,
    pub user_id: i64,
    pub range_id: Option<i64>,
    /// Told the browser's tag (its unique `--user-data-dir`) before the
    /// browser is asked for, and awaited: a worker killed while the browser
    /// starts leaves a record the reaper can find the session by. `false`
    /// (the lease is gone) means no browser may be started.
    pub on_browser_starting: BrowserStarting,
    /// Told the browser's session id as soon as the browser exists, before
    /// logging in, so a worker killed mid-login leaves a reapable record.
    pub on_browser_started: BrowserStarted,
    /// Asked before every retry inside the adapter: once the browser lease
    /// is lost (a worker resumed after a pause past its lease), the reaper
    /// may have ended this browser and another worker owns the work, so no
    /// further portal call is made.
    pub still_held: StillHeld,
}

/// Whether the session's browser lease is still ours; always true when not
/// set (tools and tests without a semaphore).
#[derive(Clone, Default)]
pub struct StillHeld(Option<std::sync::Arc<dyn Fn() -> bool + Send + Sync>>);

impl StillHeld {
    pub fn new(f: impl Fn() -> bool + Send + Sync + 'static) -> Self {
        StillHeld(Some(std::sync::Arc::new(f)))
    }

    pub fn held(&self) -> bool {
        self.0.as_ref().is_none_or(|f| f())
    }

    /// `Err` to end a retry loop once the lease is gone.
    pub fn ensure(&self, what: &str) -> Result<(), PortalError> {
        if self.held() {
            Ok(())
        } else {
            Err(PortalError::Transient(format!(
                "{what}: browser lease lost; no more portal calls"
            )))
        }
    }
}

impl std::fmt::Debug for StillHeld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "StillHeld(set)"
        } else {
            "StillHeld(none)"
        })
    }
}

/// An async callback for the tag of a browser about to be started; `true`
/// when it was recorded. Without one, browsers start untracked.
#[derive(Clone, Default)]
pub struct BrowserStarting(Option<TagCallback>);

type TagCallback = std::sync::Arc<dyn Fn(String) -> BoxFuture<'static, bool> + Send + Sync>;

impl BrowserStarting {
    pub fn new<F, Fut>(f: F) -> Self
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = bool> + Send + 'static,
    {
        BrowserStarting(Some(std::sync::Arc::new(move |tag| Box::pin(f(tag)))))
    }

    /// Records `tag`; returns once it is recorded (or refused).
    pub async fn record(&self, tag: &str) -> bool {
        match &self.0 {
            Some(f) => f(tag.to_string()).await,
            None => true,
        }
    }
}

impl std::fmt::Debug for BrowserStarting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "BrowserStarting(set)"
        } else {
            "BrowserStarting(none)"
        })
    }
}

/// A callback for the WebDriver session id of a just-started browser.
#[derive(Clone, Default)]
pub struct BrowserStarted(Option<SessionIdCallback>);

type SessionIdCallback = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

impl BrowserStarted {
    pub fn new(f: impl Fn(&str) + Send + Sync + 'static) -> Self {
        BrowserStarted(Some(std::sync::Arc::new(f)))
    }

    pub fn notify(&self, session_id: &str) {
        if let Some(f) = &self.0 {
            f(session_id);
        }
    }
}

impl std::fmt::Debug for BrowserStarted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "BrowserStarted(set)"
        } else {
            "BrowserStarted(none)"
        })
    }
}

/// Opens logged-in sessions. One session = one browser = one semaphore lease.
#[async_trait]
pub trait Portal: Send + Sync {
    async fn login(
        &self,
        email: &str,
        password: &str,
        ctx: &SessionContext,
    ) -> Result<Box<dyn PortalSession>, PortalError>;

    /// Ends a session left behind by a dead worker (found through its
    /// expired semaphore lease): at a WebDriver server, `DELETE /session/{id}`.
    async fn discard_session(&self, session_id: &str);

    /// Ends the sessions of browsers whose dead holders recorded only their
    /// tag (see [`SessionContext::on_browser_starting`]); returns the tags
    /// whose session was found and ended. A tag not found may belong to a
    /// browser still starting, or to one that never started.
    async fn discard_tagged_sessions(&self, _tags: &[String]) -> Result<Vec<String>, SweepError> {
        Err(SweepError::Unsupported(
            "this portal driver has no browser tags".into(),
        ))
    }
}

/// Why tagged sessions could not be looked up.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SweepError {
    /// The WebDriver server cannot list its sessions (e.g. a Selenium Grid
    /// has no `GET /sessions`): trying again cannot help.
    #[error("cannot list WebDriver sessions: {0}")]
    Unsupported(String),
    /// The server did not answer, or a delete failed: worth trying again.
    #[error("WebDriver server unreachable: {0}")]
    Unreachable(String),
}

/// What a shadow run learns from an order's page ([`PortalSession::check_order`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderCheck {
    /// The report form has every field the report needs: a live run would
    /// file it.
    WouldReport,
    /// The portal shows the order as reported already, with this ticket.
    AlreadyReported { ticket: String },
}

/// A logged-in session, reused for every order of a range.
#[async_trait]
pub trait PortalSession: Send {
    /// The WebDriver session id, if a browser backs this session; kept with
    /// the lease so whoever reaps an orphaned lease can delete the session.
    fn webdriver_session(&self) -> Option<String>;

    async fn export(&mut self) -> Result<Vec<OrderSnapshot>, PortalError>;

    /// The steps of [`report`](Self::report) before anything is filed:
    /// open the order's page and look whether it is already reported (the
    /// view before submit). `Some` means it is, and nothing must be filed.
    ///
    /// The worker runs this while the previous order's ledger row is being
    /// written, and calls `report` for the same order only once that write
    /// is confirmed, so no filing ever starts before the previous one is
    /// recorded under a live fence. The default does nothing and leaves
    /// every step to `report`.
    async fn open_order(
        &mut self,
        _order: &StuckOrder,
    ) -> Result<Option<ReportReceipt>, PortalError> {
        Ok(None)
    }

    /// Files the report of `order` (after [`open_order`](Self::open_order)
    /// of the same order, only the steps that remain).
    async fn report(&mut self, order: &StuckOrder) -> Result<ReportReceipt, PortalError>;

    /// Shadow runs: everything [`report`](Self::report) does short of
    /// submitting. Opens the order's page and checks that its report form
    /// has each field the report needs (the reason with its value, the
    /// message, the submit button; a missing one is `Permanent`, naming its
    /// selector), or that it shows an existing report. Never files. No
    /// default: every portal must say how it checks without filing.
    async fn check_order(&mut self, order: &StuckOrder) -> Result<OrderCheck, PortalError>;

    /// Always called, also after errors; must not fail loudly.
    async fn close(self: Box<Self>);

    /// `reporterctl portal check`: downloads the export like
    /// [`export`](Self::export) and returns its header row with its orders
    /// (a missing required column is [`ExportInspection::parse_error`], not
    /// an error). Never files.
    async fn inspect_export(&mut self) -> Result<inspection::ExportInspection, PortalError>;

    /// A PNG screenshot of the page the session is on, saved at `path`;
    /// `Ok(false)` when the driver has no screen (no browser).
    async fn screenshot(&mut self, _path: &std::path::Path) -> Result<bool, PortalError> {
        Ok(false)
    }
}
