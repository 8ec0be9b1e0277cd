//! The settings table: every variable once, with its key in the TOML file,
//! its kind (which bounds it), its default and the help text the docs check
//! compares with README, deploy/env.example and docs/configuration.md.

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Text,
    Secret,
    /// Integer with an inclusive lower bound.
    Int(i64),
    /// Float in an inclusive range.
    Float(f64, f64),
    Bool,
    TimeZone,
}

/// One setting: its environment name, its key in the TOML file, its default
/// (`None` = required) and what it means.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    pub env: &'static str,
    pub key: &'static str,
    pub kind: Kind,
    pub default: Option<&'static str>,
    pub help: &'static str,
}

const fn s(
    env: &'static str,
    key: &'static str,
    kind: Kind,
    default: Option<&'static str>,
    help: &'static str,
) -> Setting {
    Setting {
        env,
        key,
        kind,
        default,
        help,
    }
}

pub const SETTINGS: &[Setting] = &[
    s("DATABASE_URL", "database_url", Kind::Secret, None, "PostgreSQL URL"),
    s("REDIS_URL", "redis_url", Kind::Secret, None, "Redis URL (queues, semaphore, locks)"),
    s("REPORTER_CREDENTIALS_KEY", "credentials_key", Kind::Secret, None,
      "Base64 of 32 random bytes: the AES-256-GCM key that encrypts portal passwords"),
    s("MAX_ACTIVE_SELENIUM", "max_active_selenium", Kind::Int(1), Some("6"),
      "Browser sessions allowed at once across the whole fleet"),
    s("REPORTER_ESTIMATED_PENDING_FACTOR", "estimated_pending_factor", Kind::Float(0.0, 1.0), Some("0.08"),
      "Share of monthly orders expected to be pending on a run"),
    s("REPORTER_RANGE_SIZE", "range_size", Kind::Int(1), Some("100"), "Stuck orders per report-range job"),
    s("REPORTER_SELENIUM_SEMAPHORE_TTL", "selenium_semaphore_ttl_secs", Kind::Int(1), Some("3300"),
      "Seconds a job waits for a browser lease before it is retried later"),
    s("REPORTER_SEMAPHORE_LEASE_SECS", "semaphore_lease_secs", Kind::Int(2), Some("60"),
      "Seconds a browser lease lives without a heartbeat (a killed holder's place comes back after this)"),
    s("REPORTER_TIMEZONE", "timezone", Kind::TimeZone, Some("America/Bogota"),
      "IANA zone whose wall-clock hours the slots are"),
    s("REPORTER_BEAT_CATCHUP_MINUTES", "beat_catchup_minutes", Kind::Text, Some("day"),
      "How late a slot hour without a run is still enqueued: `day` (the rest of its business day) or a number of minutes; later it is recorded missed"),
    s("REPORTER_DOWNLOAD_RETRY_SECS", "download_retry_secs", Kind::Int(0), Some("120"),
      "Delay between download-compare attempts (5 retries)"),
    s("REPORTER_RANGE_RETRY_SECS", "range_retry_secs", Kind::Int(0), Some("60"),
      "Delay between report-range attempts (2 retries)"),
    s("REPORTER_PORTAL_DRIVER", "portal_driver", Kind::Text, Some("webdriver"),
      "`webdriver` (a real browser), `http` (a browserless client of the portal contract, for soaks against portal-sim only, never a production portal) or `fake` (the scripted portal for tests and benchmarks)"),
    s("REPORTER_API_BIND", "api_bind", Kind::Text, Some("127.0.0.1:8000"), "Address the API listens on"),
    s("REPORTER_MIGRATE_ON_START", "migrate_on_start", Kind::Bool, Some("false"),
      "Apply pending migrations when the API starts (under an advisory lock)"),
    s("REPORTER_DB_POOL_SIZE", "db_pool_size", Kind::Int(1), Some("16"), "PostgreSQL connections per process"),
    s("REPORTER_REDIS_PREFIX", "redis_prefix", Kind::Text, Some("reporter"),
      "Prefix of every Redis key (queues, semaphore, locks)"),
    s("REPORTER_WORKER_CONCURRENCY", "worker_concurrency", Kind::Int(1), Some("2"),
      "Jobs one worker process runs at once"),
    s("REPORTER_WEBDRIVER_URL", "webdriver_url", Kind::Text, Some("http://127.0.0.1:9515"),
      "WebDriver endpoint: a local chromedriver or a Selenium Grid"),
    s("REPORTER_PORTAL_URL", "portal_url", Kind::Text, Some("http://127.0.0.1:9100"), "Supplier portal base URL"),
    s("REPORTER_ARTIFACTS_DIR", "artifacts_dir", Kind::Text, Some("artifacts"),
      "Where failure screenshots and page sources are saved"),
    s("REPORTER_PORTAL_PROFILE", "portal_profile", Kind::Text, Some(""),
      "Portal profile TOML (selectors, paths, form values, export columns); empty = the built-in portal-sim profile"),
    s("REPORTER_PAGE_LOAD_TIMEOUT_SECS", "page_load_timeout_secs", Kind::Int(1), Some("30"),
      "Seconds a portal page may take to load in the browser"),
    s("REPORTER_ELEMENT_TIMEOUT_SECS", "element_timeout_secs", Kind::Int(1), Some("10"),
      "Seconds the browser adapter waits for an expected element or page change"),
    s("REPORTER_CHROME_BINARY", "chrome_binary", Kind::Text, Some(""),
      "Chromium/Chrome binary for the WebDriver session; empty = the driver's default (leave empty for a Selenium Grid)"),
    s("REPORTER_REPORT_MESSAGE_TEMPLATE", "report_message_template", Kind::Text,
      Some("Orden {order_id} sin movimiento desde el {order_date}: estado {status}, transportadora {carrier}, guía {tracking_number}."),
      "Message of each report; placeholders {order_id}, {order_date}, {status}, {carrier}, {tracking_number}"),
    s("REPORTER_METRICS_BIND", "metrics_bind", Kind::Text, Some(""),
      "Address for the worker/beat Prometheus endpoint (empty = off)"),
    s("REPORTER_API_DRAIN_SECS", "api_drain_secs", Kind::Int(0), Some("5"),
      "After SIGTERM, seconds the API keeps serving while `/readyz` answers 503, so the proxy takes it out before it stops accepting"),
    s("REPORTER_API_SHUTDOWN_SECS", "api_shutdown_secs", Kind::Int(1), Some("30"),
      "After the drain, seconds in-flight requests get to finish before the API exits"),
    s("REPORTER_HEARTBEAT_FILE", "heartbeat_file", Kind::Text, Some(""),
      "File the worker and beat touch while their loops run, read by `reporterctl alive` (empty = off)"),
    s("REPORTER_TRUSTED_PROXIES", "trusted_proxies", Kind::Text, Some("127.0.0.0/8,::1/128"),
      "Comma-separated CIDRs (or addresses) of the reverse proxies in front of the API: only a request whose peer is one of them has its client address read from `X-Forwarded-For` (login rate limits); empty = trust none"),
    s("REPORTER_PUBLIC_URLS", "public_urls", Kind::Text, Some(""),
      "Comma-separated origins the site is served at (e.g. `https://reporter.example.com`); the `/login` and `/logout` forms accept only these in `Origin`; empty = the request's own `Host` header (never `X-Forwarded-Host`)"),
    s("REPORTER_TOKEN_TTL_DAYS", "token_ttl_days", Kind::Int(1), Some("30"),
      "Days an API token from `POST /api/auth/login/` lives; older login tokens without an expiry count from their creation"),
    s("REPORTER_EXPORT_RETENTION_DAYS", "export_retention_days", Kind::Int(2), Some("14"),
      "Days export rows are kept (a customer's newest baseline export is kept whatever its age)"),
    s("REPORTER_RUN_RETENTION_DAYS", "run_retention_days", Kind::Int(7), Some("90"),
      "Days finished runs keep their stuck lists (the runs, with their users and ranges, stay as long as their ledger rows)"),
    s("REPORTER_REPORT_RETENTION_DAYS", "report_retention_days", Kind::Int(30), Some("400"),
      "Days the reports ledger is kept (the customers' evidence)"),
    s("REPORTER_JOB_RETENTION_DAYS", "job_retention_days", Kind::Int(1), Some("7"),
      "Days finished queue jobs keep their payload in Redis"),
    s("REPORTER_PRUNE_HOUR", "prune_hour", Kind::Int(0), Some("3"),
      "Hour (0-23, REPORTER_TIMEZONE) beat prunes once a day; keep it outside the reporter window"),
    s("REPORTER_PRUNE_BATCH", "prune_batch", Kind::Int(100), Some("5000"),
      "Rows one pruning statement deletes at most (each commits on its own)"),
    s("LOG_FORMAT", "log_format", Kind::Text, Some("text"), "`text` (human) or `json`"),
];
