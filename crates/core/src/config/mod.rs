//! Settings: built-in defaults, then an optional TOML file (`REPORTER_CONFIG`),
//! then environment variables under the names operators already use.
//!
//! Every setting is declared once in [`SETTINGS`]; that table drives loading,
//! validation, error messages and the docs check in the test suite.

use std::collections::HashMap;

use chrono_tz::Tz;
use secrecy::{ExposeSecret, SecretString};
use thiserror::Error;

use crate::credentials::CredentialsCipher;

mod settings_table;
mod sources;

pub use settings_table::{Kind, Setting, SETTINGS};
pub use sources::normalize_origin;
use sources::*;

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
    /// Planner: share of an hour's browser time kept free.
    pub planner_margin: f64,
    /// Planner: days of history its medians are taken over.
    pub planner_history_days: u32,
    /// What a reservation over its hour's browser-time budget gets.
    pub admission: crate::planner::Admission,
    pub selenium_semaphore_ttl_secs: u64,
    pub semaphore_lease_secs: u64,
    pub timezone: Tz,
    pub beat_catch_up: crate::schedule::CatchUp,
    pub download_retry_secs: u64,
    pub range_retry_secs: u64,
    pub portal_driver: String,
    /// Whether the fleet files reports (`live`) or only rehearses them
    /// (`shadow`); a customer's own mode overrides it.
    pub report_mode: crate::domain::ReportMode,
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
            planner_margin: v.float("REPORTER_PLANNER_MARGIN")?,
            planner_history_days: v.int("REPORTER_PLANNER_HISTORY_DAYS")? as u32,
            admission: v
                .text("REPORTER_ADMISSION")?
                .parse()
                .map_err(|e| invalid("REPORTER_ADMISSION", e))?,
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
            report_mode: {
                let mode = v.text("REPORTER_REPORT_MODE")?;
                crate::domain::ReportMode::parse(mode.trim()).ok_or_else(|| {
                    invalid(
                        "REPORTER_REPORT_MODE",
                        format!("expected `live` or `shadow`, got {mode:?}"),
                    )
                })?
            },
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
            ("REPORTER_ADMISSION", "strict"),
            ("REPORTER_PLANNER_MARGIN", "1"),
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
