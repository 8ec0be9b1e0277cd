//! The portal profile: every selector, path, form value and export header
//! the browser adapter uses, read from TOML (see `docs/portal.md`).

use std::time::Duration;

use regex::Regex;
use serde::Deserialize;

use super::xlsx::normalize_header;
use crate::portal::PortalError;

/// The simulator's profile, used when `REPORTER_PORTAL_PROFILE` is empty.
pub const PORTAL_SIM_PROFILE: &str = include_str!("../../../profiles/portal-sim.toml");

/// The profile of the simulator's second layout (`portal-sim --layout alt`):
/// other paths and texts, a text-only ticket and an export generated on
/// demand. Compiled in so tests can load it; workers select it by path.
pub const PORTAL_SIM_ALT_PROFILE: &str = include_str!("../../../profiles/portal-sim-alt.toml");

/// Upper bound of `orders.export_ready_timeout_secs`: a portal that needs
/// longer than this to build an export is better retried by the job.
pub const MAX_EXPORT_READY_TIMEOUT_SECS: u64 = 1800;

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
    /// A button that asks the portal to build the export; clicked before
    /// waiting for [`Self::export_link`]. Absent: the link is on the page.
    #[serde(default)]
    pub generate_export: Option<String>,
    /// How long the export link may take to appear (after the click on
    /// [`Self::generate_export`], if any). Absent: the element timeout.
    #[serde(default)]
    pub export_ready_timeout_secs: Option<u64>,
}

impl OrdersProfile {
    /// The wait for the export link: the profile's, else `element_timeout`.
    pub fn export_ready_timeout(&self, element_timeout: Duration) -> Duration {
        self.export_ready_timeout_secs
            .map_or(element_timeout, Duration::from_secs)
    }

    fn validate(&self) -> Result<(), String> {
        if let Some(s) = self.export_ready_timeout_secs {
            if s == 0 || s > MAX_EXPORT_READY_TIMEOUT_SECS {
                return Err(format!(
                    "orders.export_ready_timeout_secs: {s} is not between 1 and {MAX_EXPORT_READY_TIMEOUT_SECS} seconds"
                ));
            }
        }
        if self
            .generate_export
            .as_deref()
            .is_some_and(|g| g.trim().is_empty())
        {
            return Err(
                "orders.generate_export: empty selector (leave the key out instead)".into(),
            );
        }
        Ok(())
    }
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
    /// The attribute of [`Self::report_ok`] and [`Self::already_reported`]
    /// that holds the ticket.
    #[serde(default)]
    pub ticket_attribute: Option<String>,
    /// For portals that show the ticket only as text: a regex on the text of
    /// those elements whose capture group 1 is the ticket. Tried when the
    /// element lacks [`Self::ticket_attribute`] (or none is set).
    #[serde(default)]
    pub ticket_text_regex: Option<String>,
    /// [`Self::ticket_text_regex`] compiled by [`Profile::parse`].
    #[serde(skip)]
    ticket_regex: Option<Regex>,
}

impl OrderProfile {
    /// The ticket of a confirmation element, from its `attr` value (that of
    /// [`Self::ticket_attribute`]) or, failing that, group 1 of
    /// [`Self::ticket_text_regex`] in its `text`.
    pub fn ticket_from(&self, attr: Option<&str>, text: Option<&str>) -> Option<String> {
        let attr = attr.map(str::trim).filter(|a| !a.is_empty());
        if let (Some(_), Some(a)) = (&self.ticket_attribute, attr) {
            return Some(a.to_string());
        }
        let text = text?;
        self.ticket_regex
            .as_ref()?
            .captures(text)?
            .get(1)
            .map(|m| m.as_str().trim().to_string())
            .filter(|t| !t.is_empty())
    }

    /// Whether the element's text is needed to read a ticket.
    pub fn ticket_needs_text(&self) -> bool {
        self.ticket_text_regex.is_some()
    }

    /// Where the ticket is looked for, for error messages.
    pub fn ticket_source(&self) -> String {
        match (&self.ticket_attribute, &self.ticket_text_regex) {
            (Some(a), Some(r)) => format!("attribute {a} or text matching {r:?}"),
            (Some(a), None) => format!("attribute {a}"),
            (None, Some(r)) => format!("text matching {r:?}"),
            (None, None) => "ticket source".into(),
        }
    }

    /// Compiles the ticket regex; errors name the field.
    fn prepare(&mut self) -> Result<(), String> {
        if self
            .ticket_attribute
            .as_deref()
            .is_some_and(|a| a.trim().is_empty())
        {
            return Err(
                "order.ticket_attribute: empty attribute name (leave the key out instead)".into(),
            );
        }
        if let Some(r) = &self.ticket_text_regex {
            let re = Regex::new(r)
                .map_err(|e| format!("order.ticket_text_regex: invalid regex {r:?}: {e}"))?;
            if re.captures_len() < 2 {
                return Err(format!(
                    "order.ticket_text_regex: {r:?} has no capture group; the ticket is group 1"
                ));
            }
            self.ticket_regex = Some(re);
        }
        if self.ticket_attribute.is_none() && self.ticket_regex.is_none() {
            return Err(
                "order.ticket_attribute: missing; set it or order.ticket_text_regex (where the ticket is)"
                    .into(),
            );
        }
        Ok(())
    }
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
        let mut p: Profile = toml::from_str(text).map_err(|e| e.to_string())?;
        p.orders.validate()?;
        p.order.prepare()?;
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

    /// The profile of `portal-sim --layout alt` (compiled in).
    #[allow(
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "cannot fail: built-in profile parses"
    )]
    pub fn portal_sim_alt() -> Self {
        Self::parse(PORTAL_SIM_ALT_PROFILE).expect("built-in alt profile parses")
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

    #[test]
    fn the_classic_profile_reads_the_ticket_attribute_only() {
        let p = Profile::portal_sim().order;
        assert_eq!(p.ticket_attribute.as_deref(), Some("data-ticket"));
        assert!(!p.ticket_needs_text());
        assert_eq!(
            p.ticket_from(Some("TK-1"), Some("Ticket TK-2")),
            Some("TK-1".into())
        );
        assert_eq!(p.ticket_from(None, Some("Ticket TK-2")), None);
        assert_eq!(p.ticket_from(Some(" "), None), None);
        let orders = Profile::portal_sim().orders;
        assert!(orders.generate_export.is_none());
        assert_eq!(
            orders.export_ready_timeout(Duration::from_secs(7)),
            Duration::from_secs(7)
        );
    }

    #[test]
    fn the_alt_profile_loads_from_its_file() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/profiles/portal-sim-alt.toml");
        let p = Profile::load(Some(path)).unwrap();
        assert_eq!(p.name, "portal-sim-alt");
        assert_eq!(p.order_path(100001), "/pedidos/100001");
        assert_eq!(p.paths.login, "/acceso");
        assert_eq!(
            p.orders.generate_export.as_deref(),
            Some("button#generar-exportacion")
        );
        assert_eq!(
            p.orders.export_ready_timeout(Duration::from_secs(7)),
            Duration::from_secs(60)
        );
        assert!(p.order.ticket_attribute.is_none());
        assert!(p.order.ticket_needs_text());
        assert_eq!(
            p.order
                .ticket_from(None, Some("Reporte registrado. Ticket TK-20260303-00001\n")),
            Some("TK-20260303-00001".into())
        );
        assert_eq!(
            p.order.ticket_from(
                None,
                Some("Este pedido ya tiene un reporte de hoy. Ticket  TK-9")
            ),
            Some("TK-9".into())
        );
        assert_eq!(p.order.ticket_from(None, Some("Reporte registrado.")), None);
        assert_eq!(
            Profile::portal_sim_alt().export.columns.tracking_number,
            "Guía"
        );
    }

    #[test]
    fn an_attribute_first_and_the_text_when_it_is_missing() {
        let text = PORTAL_SIM_PROFILE.replace(
            "ticket_attribute = \"data-ticket\"",
            "ticket_attribute = \"data-ticket\"\nticket_text_regex = 'Ticket:\\s*(\\S+)'",
        );
        let p = Profile::parse(&text).unwrap().order;
        assert!(p.ticket_needs_text());
        assert_eq!(
            p.ticket_from(Some("A"), Some("Ticket: B")),
            Some("A".into())
        );
        assert_eq!(p.ticket_from(None, Some("Ticket: B")), Some("B".into()));
    }

    /// Profile text with the classic ticket attribute replaced by `with`.
    fn ticket_profile(with: &str) -> String {
        PORTAL_SIM_PROFILE.replace("ticket_attribute = \"data-ticket\"", with)
    }

    #[test]
    fn ticket_errors_name_the_field() {
        let err =
            Profile::parse(&ticket_profile("ticket_text_regex = 'Ticket (\\w+'")).unwrap_err();
        assert!(err.contains("order.ticket_text_regex"), "{err}");
        let err = Profile::parse(&ticket_profile("ticket_text_regex = 'Ticket \\w+'")).unwrap_err();
        assert!(err.contains("order.ticket_text_regex"), "{err}");
        assert!(err.contains("capture group"), "{err}");
        let err = Profile::parse(&ticket_profile("")).unwrap_err();
        assert!(err.contains("order.ticket_attribute"), "{err}");
        assert!(err.contains("order.ticket_text_regex"), "{err}");
        let err = Profile::parse(&ticket_profile("ticket_attribute = \"\"")).unwrap_err();
        assert!(err.contains("order.ticket_attribute"), "{err}");
        let err = Profile::parse(&ticket_profile("ticket_regex = 'x(y)'")).unwrap_err();
        assert!(err.contains("ticket_regex"), "{err}");
    }

    #[test]
    fn export_option_errors_name_the_field() {
        let with = |extra: &str| {
            PORTAL_SIM_PROFILE.replace(
                "export_link = \"a#export-orders\"",
                &format!("export_link = \"a#export-orders\"\n{extra}"),
            )
        };
        for bad in [
            "export_ready_timeout_secs = 0",
            "export_ready_timeout_secs = 999999",
        ] {
            let err = Profile::parse(&with(bad)).unwrap_err();
            assert!(err.contains("orders.export_ready_timeout_secs"), "{err}");
        }
        let err = Profile::parse(&with("export_ready_timeout_secs = \"soon\"")).unwrap_err();
        assert!(err.contains("export_ready_timeout_secs"), "{err}");
        let err = Profile::parse(&with("generate_export = \" \"")).unwrap_err();
        assert!(err.contains("orders.generate_export"), "{err}");
        let err = Profile::parse(&with("next_page = \"a[rel=next]\"")).unwrap_err();
        assert!(err.contains("next_page"), "{err}");
        let p = Profile::parse(&with(
            "generate_export = \"button#go\"\nexport_ready_timeout_secs = 30",
        ))
        .unwrap();
        assert_eq!(p.orders.generate_export.as_deref(), Some("button#go"));
        assert_eq!(p.orders.export_ready_timeout_secs, Some(30));
    }
}
