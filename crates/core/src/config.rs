//! Settings: built-in defaults, then an optional TOML file (`REPORTER_CONFIG`),
//! then environment variables under the names operators already use.
//!
//! Every setting is declared once in [`SETTINGS`]; that table drives loading,
//! validation, error messages and the docs check in the test suite.

use std::collections::HashMap;
use std::path::Path;

use base64::Engine;
use chrono_tz::Tz;
use secrecy::{ExposeSecret, SecretString};
use thiserror::Error;

use crate::credentials::CredentialsCipher;

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

#[derive(Debug, Error, PartialEq)]
pub enum ConfigError {
    #[error("missing required setting {var}: set the environment variable {var} (or `{key}` in REPORTER_CONFIG)")]
    Missing {
        var: &'static str,
        key: &'static str,
    },
    #[error("invalid {var}: {reason}")]
    Invalid { var: &'static str, reason: String },
    #[error("cannot read REPORTER_CONFIG file {path}: {reason}")]
    File { path: String, reason: String },
}

/// The validated settings every binary runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: SecretString,
    pub redis_url: SecretString,
    credentials: CredentialsCipher,
    pub max_active_selenium: u32,
    pub estimated_pending_factor: f64,
    pub range_size: u32,
    pub selenium_semaphore_ttl_secs: u64,
    pub semaphore_lease_secs: u64,
    pub timezone: Tz,
    pub beat_catch_up: crate::schedule::CatchUp,
    pub download_retry_secs: u64,
    pub range_retry_secs: u64,
    pub portal_driver: String,
    pub api_bind: String,
    pub migrate_on_start: bool,
    pub db_pool_size: u32,
    pub redis_prefix: String,
    pub worker_concurrency: u32,
    pub webdriver_url: String,
    pub portal_url: String,
    pub artifacts_dir: String,
    pub portal_profile: Option<String>,
    pub page_load_timeout_secs: u64,
    pub element_timeout_secs: u64,
    pub chrome_binary: Option<String>,
    pub report_message_template: String,
    pub metrics_bind: Option<String>,
    pub api_drain_secs: u64,
    pub api_shutdown_secs: u64,
    pub heartbeat_file: Option<String>,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Origins (`scheme://host[:port]`, lower-case) the forms accept; empty =
    /// the request's `Host`.
    pub public_urls: Vec<String>,
    pub token_ttl_days: u32,
    pub export_retention_days: u32,
    pub run_retention_days: u32,
    pub report_retention_days: u32,
    pub job_retention_days: u32,
    pub prune_hour: u32,
    pub prune_batch: u32,
    pub log_json: bool,
}

impl Settings {
    /// Loads from the process environment (and `REPORTER_CONFIG` if set).
    pub fn load() -> Result<Self, ConfigError> {
        Self::from_env(&std::env::vars().collect())
    }

    /// For binaries: on error, print one line naming the variable and exit 2.
    pub fn load_or_exit() -> Self {
        Self::load().unwrap_or_else(|e| {
            eprintln!("configuration error: {e}");
            std::process::exit(2);
        })
    }

    pub fn from_env(env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let raw = merge_sources(env)?;
        let mut v = Values { raw: &raw };
        let tz_name = v.text("REPORTER_TIMEZONE")?;
        let timezone: Tz = tz_name.parse().map_err(|_| {
            invalid(
                "REPORTER_TIMEZONE",
                format!("unknown time zone {tz_name:?}"),
            )
        })?;
        let log_format = v.text("LOG_FORMAT")?;
        if !matches!(log_format.as_str(), "text" | "json") {
            return Err(invalid(
                "LOG_FORMAT",
                format!("expected `text` or `json`, got {log_format:?}"),
            ));
        }
        let metrics_bind = v.text("REPORTER_METRICS_BIND")?;
        Ok(Settings {
            database_url: v.secret("DATABASE_URL")?,
            redis_url: v.secret("REDIS_URL")?,
            credentials: CredentialsCipher::new(&parse_key(&v.text("REPORTER_CREDENTIALS_KEY")?)?),
            max_active_selenium: v.int("MAX_ACTIVE_SELENIUM")? as u32,
            estimated_pending_factor: v.float("REPORTER_ESTIMATED_PENDING_FACTOR")?,
            range_size: v.int("REPORTER_RANGE_SIZE")? as u32,
            selenium_semaphore_ttl_secs: v.int("REPORTER_SELENIUM_SEMAPHORE_TTL")? as u64,
            semaphore_lease_secs: v.int("REPORTER_SEMAPHORE_LEASE_SECS")? as u64,
            timezone,
            beat_catch_up: v
                .text("REPORTER_BEAT_CATCHUP_MINUTES")?
                .parse()
                .map_err(|e| invalid("REPORTER_BEAT_CATCHUP_MINUTES", e))?,
            download_retry_secs: v.int("REPORTER_DOWNLOAD_RETRY_SECS")? as u64,
            range_retry_secs: v.int("REPORTER_RANGE_RETRY_SECS")? as u64,
            portal_driver: v.text("REPORTER_PORTAL_DRIVER")?,
            api_bind: v.text("REPORTER_API_BIND")?,
            migrate_on_start: v.bool("REPORTER_MIGRATE_ON_START")?,
            db_pool_size: v.int("REPORTER_DB_POOL_SIZE")? as u32,
            redis_prefix: v.text("REPORTER_REDIS_PREFIX")?,
            worker_concurrency: v.int("REPORTER_WORKER_CONCURRENCY")? as u32,
            webdriver_url: v.text("REPORTER_WEBDRIVER_URL")?,
            portal_url: v
                .text("REPORTER_PORTAL_URL")?
                .trim_end_matches('/')
                .to_string(),
            artifacts_dir: v.text("REPORTER_ARTIFACTS_DIR")?,
            portal_profile: Some(v.text("REPORTER_PORTAL_PROFILE")?).filter(|p| !p.is_empty()),
            page_load_timeout_secs: v.int("REPORTER_PAGE_LOAD_TIMEOUT_SECS")? as u64,
            element_timeout_secs: v.int("REPORTER_ELEMENT_TIMEOUT_SECS")? as u64,
            chrome_binary: Some(v.text("REPORTER_CHROME_BINARY")?).filter(|p| !p.is_empty()),
            report_message_template: v.text("REPORTER_REPORT_MESSAGE_TEMPLATE")?,
            metrics_bind: Some(metrics_bind).filter(|m| !m.is_empty()),
            api_drain_secs: v.int("REPORTER_API_DRAIN_SECS")? as u64,
            api_shutdown_secs: v.int("REPORTER_API_SHUTDOWN_SECS")? as u64,
            heartbeat_file: Some(v.text("REPORTER_HEARTBEAT_FILE")?).filter(|p| !p.is_empty()),
            trusted_proxies: parse_proxies(&v.text("REPORTER_TRUSTED_PROXIES")?)?,
            public_urls: parse_origins(&v.text("REPORTER_PUBLIC_URLS")?)?,
            token_ttl_days: v.int("REPORTER_TOKEN_TTL_DAYS")? as u32,
            export_retention_days: v.int("REPORTER_EXPORT_RETENTION_DAYS")? as u32,
            run_retention_days: v.int("REPORTER_RUN_RETENTION_DAYS")? as u32,
            report_retention_days: v.int("REPORTER_REPORT_RETENTION_DAYS")? as u32,
            job_retention_days: v.int("REPORTER_JOB_RETENTION_DAYS")? as u32,
            prune_hour: match v.int("REPORTER_PRUNE_HOUR")? {
                h @ 0..=23 => h as u32,
                h => {
                    return Err(invalid(
                        "REPORTER_PRUNE_HOUR",
                        format!("expected an hour 0-23, got {h}"),
                    ))
                }
            },
            prune_batch: v.int("REPORTER_PRUNE_BATCH")? as u32,
            log_json: log_format == "json",
        })
    }

    /// Lifetime of API tokens issued by a login (`REPORTER_TOKEN_TTL_DAYS`).
    pub fn token_ttl(&self) -> chrono::Duration {
        chrono::Duration::days(i64::from(self.token_ttl_days))
    }

    pub fn credentials_cipher(&self) -> &CredentialsCipher {
        &self.credentials
    }

    pub fn database_url(&self) -> &str {
        self.database_url.expose_secret()
    }

    pub fn redis_url(&self) -> &str {
        self.redis_url.expose_secret()
    }
}

fn invalid(var: &'static str, reason: String) -> ConfigError {
    ConfigError::Invalid { var, reason }
}

#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "cannot fail: setting declared in SETTINGS"
)]
fn setting(env: &str) -> &'static Setting {
    SETTINGS
        .iter()
        .find(|s| s.env == env)
        .expect("setting declared in SETTINGS")
}

/// Layers defaults, the optional file and the environment with the `config`
/// crate and returns every setting's final text.
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "cannot fail: static default; string override"
)]
fn merge_sources(
    env: &HashMap<String, String>,
) -> Result<HashMap<&'static str, String>, ConfigError> {
    let mut b = config::Config::builder();
    for s in SETTINGS {
        if let Some(d) = s.default {
            b = b.set_default(s.key, d).expect("static default");
        }
    }
    if let Some(path) = env.get("REPORTER_CONFIG").filter(|p| !p.is_empty()) {
        if !Path::new(path).is_file() {
            return Err(ConfigError::File {
                path: path.clone(),
                reason: "no such file".into(),
            });
        }
        b = b.add_source(config::File::new(path, config::FileFormat::Toml));
    }
    for s in SETTINGS {
        if let Some(v) = env.get(s.env) {
            b = b.set_override(s.key, v.as_str()).expect("string override");
        }
    }
    let cfg = b.build().map_err(|e| ConfigError::File {
        path: env.get("REPORTER_CONFIG").cloned().unwrap_or_default(),
        reason: e.to_string(),
    })?;
    let mut out = HashMap::new();
    for s in SETTINGS {
        match cfg.get_string(s.key) {
            Ok(v) if !(v.is_empty() && s.default.is_none()) => {
                out.insert(s.env, v);
            }
            _ if s.default.is_none() => {
                return Err(ConfigError::Missing {
                    var: s.env,
                    key: s.key,
                })
            }
            _ => {
                return Err(invalid(
                    s.env,
                    format!("`{}` in REPORTER_CONFIG must be a plain value", s.key),
                ))
            }
        }
    }
    Ok(out)
}

struct Values<'a> {
    raw: &'a HashMap<&'static str, String>,
}

impl Values<'_> {
    fn text(&mut self, env: &'static str) -> Result<String, ConfigError> {
        Ok(self.raw[env].trim().to_string())
    }

    fn secret(&mut self, env: &'static str) -> Result<SecretString, ConfigError> {
        Ok(SecretString::from(self.text(env)?))
    }

    fn int(&mut self, env: &'static str) -> Result<i64, ConfigError> {
        let Kind::Int(min) = setting(env).kind else {
            unreachable!("{env} is not an integer setting")
        };
        let raw = self.text(env)?;
        match raw.parse::<i64>() {
            Ok(n) if n >= min && n <= i64::from(u32::MAX) => Ok(n),
            _ => Err(invalid(
                env,
                format!("expected a whole number >= {min}, got {raw:?}"),
            )),
        }
    }

    fn float(&mut self, env: &'static str) -> Result<f64, ConfigError> {
        let Kind::Float(lo, hi) = setting(env).kind else {
            unreachable!("{env} is not a float setting")
        };
        let raw = self.text(env)?;
        match raw.parse::<f64>() {
            Ok(f) if f.is_finite() && f >= lo && f <= hi => Ok(f),
            _ => Err(invalid(
                env,
                format!("expected a number between {lo} and {hi}, got {raw:?}"),
            )),
        }
    }

    fn bool(&mut self, env: &'static str) -> Result<bool, ConfigError> {
        let raw = self.text(env)?;
        match raw.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(invalid(env, format!("expected true or false, got {raw:?}"))),
        }
    }
}

fn parse_proxies(raw: &str) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    raw.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<ipnet::IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    invalid(
                        "REPORTER_TRUSTED_PROXIES",
                        format!("expected CIDRs like 10.0.0.0/8 or addresses, got {p:?}"),
                    )
                })
        })
        .collect()
}

/// `https://Reporter.example.com/` -> `https://reporter.example.com`.
pub fn normalize_origin(raw: &str) -> Option<String> {
    let raw = raw.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, host) = raw.split_once("://")?;
    let ok = matches!(scheme, "http" | "https")
        && !host.is_empty()
        && !host.contains(['/', '?', '#', '@', ' ']);
    ok.then_some(raw)
}

fn parse_origins(raw: &str) -> Result<Vec<String>, ConfigError> {
    raw.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|o| {
            normalize_origin(o).ok_or_else(|| {
                invalid(
                    "REPORTER_PUBLIC_URLS",
                    format!("expected origins like https://reporter.example.com, got {o:?}"),
                )
            })
        })
        .collect()
}

fn parse_key(raw: &str) -> Result<[u8; 32], ConfigError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(raw)
        .map_err(|_| {
            invalid(
                "REPORTER_CREDENTIALS_KEY",
                "expected base64 (e.g. `openssl rand -base64 32`)".into(),
            )
        })?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
        invalid(
            "REPORTER_CREDENTIALS_KEY",
            format!("expected 32 bytes once decoded, got {}", bytes.len()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn base() -> HashMap<String, String> {
        [
            ("DATABASE_URL", "postgres://x"),
            ("REDIS_URL", "redis://y"),
            ("REPORTER_CREDENTIALS_KEY", KEY),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn defaults_apply() {
        let s = Settings::from_env(&base()).unwrap();
        assert_eq!(s.max_active_selenium, 6);
        assert_eq!(s.range_size, 100);
        assert_eq!(s.selenium_semaphore_ttl_secs, 3300);
        assert!((s.estimated_pending_factor - 0.08).abs() < 1e-12);
        assert_eq!(s.timezone, chrono_tz::America::Bogota);
        assert!(!s.log_json);
        assert_eq!(s.token_ttl_days, 30);
        assert!(s.public_urls.is_empty());
        let loopback: Vec<ipnet::IpNet> =
            vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
        assert_eq!(s.trusted_proxies, loopback);
    }

    #[test]
    fn proxies_and_origins_parse() {
        let mut env = base();
        env.insert(
            "REPORTER_TRUSTED_PROXIES".into(),
            " 172.16.0.0/12, 10.1.2.3 ,".into(),
        );
        env.insert(
            "REPORTER_PUBLIC_URLS".into(),
            "https://Reporter.Example.com/, http://localhost:8000".into(),
        );
        let s = Settings::from_env(&env).unwrap();
        assert_eq!(s.trusted_proxies.len(), 2);
        assert!(s.trusted_proxies[1].contains(&"10.1.2.3".parse::<std::net::IpAddr>().unwrap()));
        assert_eq!(
            s.public_urls,
            ["https://reporter.example.com", "http://localhost:8000"]
        );
        env.insert("REPORTER_TRUSTED_PROXIES".into(), "".into());
        assert!(Settings::from_env(&env).unwrap().trusted_proxies.is_empty());
    }

    #[test]
    fn env_overrides_and_errors_name_the_variable() {
        let mut env = base();
        env.insert("MAX_ACTIVE_SELENIUM".into(), "2".into());
        assert_eq!(Settings::from_env(&env).unwrap().max_active_selenium, 2);
        for (var, bad) in [
            ("MAX_ACTIVE_SELENIUM", "abc"),
            ("MAX_ACTIVE_SELENIUM", "0"),
            ("REPORTER_RANGE_SIZE", "-5"),
            ("REPORTER_ESTIMATED_PENDING_FACTOR", "1.5"),
            ("REPORTER_TIMEZONE", "Mars/Olympus"),
            ("REPORTER_CREDENTIALS_KEY", "short"),
            ("LOG_FORMAT", "xml"),
            ("REPORTER_TRUSTED_PROXIES", "10.0.0.0/33"),
            ("REPORTER_TRUSTED_PROXIES", "caddy"),
            ("REPORTER_PUBLIC_URLS", "reporter.example.com"),
            ("REPORTER_PUBLIC_URLS", "https://reporter.example.com/app"),
            ("REPORTER_TOKEN_TTL_DAYS", "0"),
        ] {
            let mut env = base();
            env.insert(var.into(), bad.into());
            let err = Settings::from_env(&env).unwrap_err().to_string();
            assert!(err.contains(var), "{var}={bad}: {err}");
        }
    }

    #[test]
    fn missing_required_is_named() {
        for var in ["DATABASE_URL", "REDIS_URL", "REPORTER_CREDENTIALS_KEY"] {
            let mut env = base();
            env.remove(var);
            let err = Settings::from_env(&env).unwrap_err();
            assert!(
                matches!(err, ConfigError::Missing { var: v, .. } if v == var),
                "{err}"
            );
        }
    }

    #[test]
    fn file_layer_sits_between_defaults_and_env() {
        let dir = std::env::temp_dir().join(format!("reporter-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("reporter.toml");
        std::fs::write(&path, "range_size = 50\nmax_active_selenium = 3\n").unwrap();
        let mut env = base();
        env.insert("REPORTER_CONFIG".into(), path.display().to_string());
        env.insert("MAX_ACTIVE_SELENIUM".into(), "4".into());
        let s = Settings::from_env(&env).unwrap();
        assert_eq!(s.range_size, 50);
        assert_eq!(s.max_active_selenium, 4);
        env.insert(
            "REPORTER_CONFIG".into(),
            dir.join("nope.toml").display().to_string(),
        );
        assert!(matches!(
            Settings::from_env(&env),
            Err(ConfigError::File { .. })
        ));
    }

    #[test]
    fn secrets_are_not_debug_printed() {
        let s = Settings::from_env(&base()).unwrap();
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("postgres://x"));
        assert!(!dbg.contains(KEY));
    }
}
