//! Faults injected into portal pages on request of `POST /_sim/faults`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Faults {
    pub latency_ms: u64,
    pub error_rate: f64,
    pub login_error_rate: f64,
    pub blocked_accounts: Vec<String>,
}

/// Body of `POST /_sim/faults`: fields present are set, omitted ones keep
/// their value (send the field with 0 / `[]` to clear it).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsUpdate {
    pub latency_ms: Option<u64>,
    pub error_rate: Option<f64>,
    pub login_error_rate: Option<f64>,
    pub blocked_accounts: Option<Vec<String>>,
}

impl FaultsUpdate {
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("error_rate", self.error_rate),
            ("login_error_rate", self.login_error_rate),
        ] {
            if let Some(rate) = rate {
                if !(0.0..=1.0).contains(&rate) {
                    return Err(format!("{name} must be between 0 and 1, got {rate}"));
                }
            }
        }
        Ok(())
    }
}

impl Faults {
    pub fn apply(&mut self, update: FaultsUpdate) {
        if let Some(latency_ms) = update.latency_ms {
            self.latency_ms = latency_ms;
        }
        if let Some(rate) = update.error_rate {
            self.error_rate = rate;
        }
        if let Some(rate) = update.login_error_rate {
            self.login_error_rate = rate;
        }
        if let Some(blocked) = update.blocked_accounts {
            self.blocked_accounts = blocked;
        }
    }

    pub fn is_blocked(&self, email: &str) -> bool {
        self.blocked_accounts
            .iter()
            .any(|b| b.trim().eq_ignore_ascii_case(email.trim()))
    }
}
