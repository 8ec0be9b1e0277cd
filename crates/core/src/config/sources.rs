//! Where the values come from (defaults, the optional file, the
//! environment, merged with the `config` crate) and how each kind of text
//! is parsed and checked.

use std::collections::HashMap;
use std::path::Path;

use base64::Engine;
use secrecy::SecretString;

use super::{ConfigError, Kind, Setting, SETTINGS};

pub(super) fn invalid(var: &'static str, reason: String) -> ConfigError {
    ConfigError::Invalid { var, reason }
}

#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "cannot fail: setting declared in SETTINGS"
)]
pub(super) fn setting(env: &str) -> &'static Setting {
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
pub(super) fn merge_sources(
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

pub(super) struct Values<'a> {
    pub(super) raw: &'a HashMap<&'static str, String>,
}

impl Values<'_> {
    pub(super) fn text(&mut self, env: &'static str) -> Result<String, ConfigError> {
        Ok(self.raw[env].trim().to_string())
    }

    pub(super) fn secret(&mut self, env: &'static str) -> Result<SecretString, ConfigError> {
        Ok(SecretString::from(self.text(env)?))
    }

    pub(super) fn int(&mut self, env: &'static str) -> Result<i64, ConfigError> {
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

    pub(super) fn float(&mut self, env: &'static str) -> Result<f64, ConfigError> {
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

    pub(super) fn bool(&mut self, env: &'static str) -> Result<bool, ConfigError> {
        let raw = self.text(env)?;
        match raw.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(invalid(env, format!("expected true or false, got {raw:?}"))),
        }
    }
}

pub(super) fn parse_proxies(raw: &str) -> Result<Vec<ipnet::IpNet>, ConfigError> {
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

pub(super) fn parse_origins(raw: &str) -> Result<Vec<String>, ConfigError> {
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

pub(super) fn parse_key(raw: &str) -> Result<[u8; 32], ConfigError> {
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
