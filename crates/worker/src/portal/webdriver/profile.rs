//! The portal profile: every selector, path, form value and export header
//! the browser adapter uses, read from TOML (see `docs/portal.md`).

use serde::Deserialize;

use super::xlsx::normalize_header;
use crate::portal::PortalError;

/// The simulator's profile, used when `REPORTER_PORTAL_PROFILE` is empty.
pub const PORTAL_SIM_PROFILE: &str = include_str!("../../../profiles/portal-sim.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    pub paths: Paths,
    pub login: LoginProfile,
    pub orders: OrdersProfile,
    pub order: OrderProfile,
    pub export: ExportProfile,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paths {
    pub login: String,
    pub orders: String,
    /// `{order_id}` is replaced by the order id.
    pub order: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginProfile {
    pub form: String,
    pub email: String,
    pub password: String,
    pub submit: String,
    pub error: String,
    pub invalid_credentials_text: String,
    pub blocked_text: String,
    pub logged_in: String,
}

impl LoginProfile {
    /// What the login error text `text` means: a blocked account, wrong
    /// credentials, or another refusal (none of them worth retrying).
    pub fn refusal(&self, text: &str) -> PortalError {
        let norm = normalize_header(text);
        if norm.contains(&normalize_header(&self.blocked_text)) {
            PortalError::Blocked
        } else if norm.contains(&normalize_header(&self.invalid_credentials_text)) {
            PortalError::InvalidCredentials
        } else {
            PortalError::Permanent(format!("the portal refused the login: {}", text.trim()))
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrdersProfile {
    pub ready: String,
    pub export_link: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderProfile {
    pub report_form: String,
    pub reason: String,
    pub reason_value: String,
    pub message: String,
    pub submit: String,
    pub already_reported: String,
    pub report_ok: String,
    pub ticket_attribute: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportProfile {
    #[serde(default)]
    pub sheet: String,
    #[serde(default)]
    pub optional_columns: Vec<String>,
    pub columns: Columns,
}

/// Header text of each field of [`reporter_core::domain::OrderSnapshot`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    pub order_id: String,
    pub order_date: String,
    pub status: String,
    pub carrier: String,
    pub tracking_number: String,
    pub customer: String,
    pub city: String,
    pub total: String,
}

impl Columns {
    /// (field name, header text), in snapshot order.
    pub fn fields(&self) -> [(&'static str, &str); 8] {
        [
            ("order_id", &self.order_id),
            ("order_date", &self.order_date),
            ("status", &self.status),
            ("carrier", &self.carrier),
            ("tracking_number", &self.tracking_number),
            ("customer", &self.customer),
            ("city", &self.city),
            ("total", &self.total),
        ]
    }
}

impl Profile {
    pub fn parse(text: &str) -> Result<Self, String> {
        let p: Profile = toml::from_str(text).map_err(|e| e.to_string())?;
        for c in &p.export.optional_columns {
            if !p.export.columns.fields().iter().any(|(f, _)| f == c) {
                return Err(format!("export.optional_columns: unknown field {c:?}"));
            }
        }
        if p.export.optional_columns.iter().any(|c| c == "order_id") {
            return Err("export.optional_columns: order_id cannot be optional".into());
        }
        Ok(p)
    }

    /// The built-in simulator profile.
    #[allow(
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "cannot fail: built-in profile parses"
    )]
    pub fn portal_sim() -> Self {
        Self::parse(PORTAL_SIM_PROFILE).expect("built-in profile parses")
    }

    /// `path` (a TOML file), or the built-in profile when `None`.
    pub fn load(path: Option<&str>) -> Result<Self, String> {
        match path {
            None => Ok(Self::portal_sim()),
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| format!("cannot read portal profile {p}: {e}"))?;
                Self::parse(&text).map_err(|e| format!("invalid portal profile {p}: {e}"))
            }
        }
    }

    pub fn order_path(&self, order_id: i64) -> String {
        self.paths
            .order
            .replace("{order_id}", &order_id.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_profile_parses() {
        let p = Profile::portal_sim();
        assert_eq!(p.order_path(100001), "/orders/100001");
        assert_eq!(p.export.columns.tracking_number, "NÚMERO GUIA");
    }

    #[test]
    fn unknown_optional_column_is_rejected() {
        let text = PORTAL_SIM_PROFILE.replace(
            "optional_columns = [\"customer\", \"city\", \"total\"]",
            "optional_columns = [\"nope\"]",
        );
        assert!(Profile::parse(&text).unwrap_err().contains("nope"));
    }
}
