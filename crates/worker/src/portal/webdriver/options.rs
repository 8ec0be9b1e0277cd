//! What the adapter is configured with: [`WebDriverOptions`] read from the
//! settings, and the report message template it fills for each order.

use std::path::PathBuf;
use std::time::Duration;

use reporter_core::config::Settings;
use reporter_core::models::pipeline::StuckOrder;

use super::Profile;

/// The message template every process starts with: the default of
/// `REPORTER_REPORT_MESSAGE_TEMPLATE` in the settings table.
pub fn default_message_template() -> &'static str {
    reporter_core::config::SETTINGS
        .iter()
        .find(|s| s.env == "REPORTER_REPORT_MESSAGE_TEMPLATE")
        .and_then(|s| s.default)
        .unwrap_or_default()
}

/// Everything the adapter needs; built from [`Settings`] by [`WebDriverOptions::from_settings`].
#[derive(Debug, Clone)]
pub struct WebDriverOptions {
    pub webdriver_url: String,
    pub portal_url: String,
    pub profile: Profile,
    pub page_load_timeout: Duration,
    pub element_timeout: Duration,
    pub chrome_binary: Option<String>,
    pub artifacts_dir: PathBuf,
    pub message_template: String,
    /// Tries of one page (or one order's report) that answered 5xx or timed out.
    pub page_attempts: u32,
}

impl WebDriverOptions {
    pub fn from_settings(s: &Settings) -> Result<Self, String> {
        Ok(WebDriverOptions {
            webdriver_url: s.webdriver_url.trim_end_matches('/').to_string(),
            portal_url: s.portal_url.trim_end_matches('/').to_string(),
            profile: Profile::load(s.portal_profile.as_deref())?,
            page_load_timeout: Duration::from_secs(s.page_load_timeout_secs),
            element_timeout: Duration::from_secs(s.element_timeout_secs),
            chrome_binary: s.chrome_binary.clone(),
            artifacts_dir: PathBuf::from(&s.artifacts_dir),
            message_template: s.report_message_template.clone(),
            page_attempts: 4,
        })
    }
}

/// Fills the report message template.
pub fn render_message(template: &str, order: &StuckOrder) -> String {
    template
        .replace("{order_id}", &order.order_id.to_string())
        .replace("{order_date}", &order.order_date)
        .replace("{status}", &order.status)
        .replace("{carrier}", &order.carrier)
        .replace("{tracking_number}", &order.tracking_number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_default_template() {
        let o = StuckOrder {
            position: 1,
            order_id: 100001,
            status: "EN_TRANSITO".into(),
            carrier: "Servientrega".into(),
            tracking_number: "SV1".into(),
            order_date: "2026-10-01".into(),
        };
        assert_eq!(
            render_message(default_message_template(), &o),
            "Orden 100001 sin movimiento desde el 2026-10-01: estado EN_TRANSITO, transportadora Servientrega, guía SV1."
        );
    }
}
