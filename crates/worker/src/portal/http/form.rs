//! A page's form as a browser posts it: its action, its hidden inputs, the
//! names of the fields to fill and the submit button.

use reqwest::Url;

use super::page::{Page, Selector};
use crate::portal::PortalError;

/// A form about to be posted: where to, and the fields so far.
pub(super) struct FormPost {
    pub(super) action: Url,
    pub(super) fields: Vec<(String, String)>,
}

impl FormPost {
    /// The submit button must be there, as for a user; a named one is
    /// posted too, as browsers do.
    pub(super) fn add_submit(&mut self, page: &Page, sel: &Selector) -> Result<(), PortalError> {
        let button = page
            .find(sel)
            .ok_or_else(|| PortalError::Transient(format!("missing {}", sel.source())))?;
        if let Some(name) = button.attr("name").filter(|n| !n.is_empty()) {
            let value = button.attr("value").unwrap_or("").to_string();
            self.fields.push((name.to_string(), value));
        }
        Ok(())
    }
}

/// The form `sel` on `page` (loaded from `url`): its action, and its hidden
/// inputs (a portal's CSRF token goes with the post, as from a browser).
pub(super) fn form_fields(page: &Page, sel: &Selector, url: &Url) -> Result<FormPost, PortalError> {
    let form = page
        .find(sel)
        .ok_or_else(|| PortalError::Transient(format!("missing {}", sel.source())))?;
    let action = match form.attr("action").filter(|a| !a.trim().is_empty()) {
        Some(a) => url
            .join(a.trim())
            .map_err(|e| PortalError::Permanent(format!("{} action {a:?}: {e}", sel.source())))?,
        None => url.clone(),
    };
    let fields = page
        .descendants(sel)
        .into_iter()
        .filter(|e| {
            e.name == "input"
                && e.attr("type")
                    .is_some_and(|t| t.eq_ignore_ascii_case("hidden"))
        })
        .filter_map(|e| {
            let name = e.attr("name").filter(|n| !n.is_empty())?;
            Some((name.to_string(), e.attr("value").unwrap_or("").to_string()))
        })
        .collect();
    Ok(FormPost { action, fields })
}

/// The `name` a form field is posted under: the element's own, so a
/// profile may select a field by id as well as by name.
pub(super) fn field_name(page: &Page, sel: &Selector) -> Result<String, PortalError> {
    let el = page
        .find(sel)
        .ok_or_else(|| PortalError::Transient(format!("missing {}", sel.source())))?;
    el.attr("name")
        .filter(|n| !n.is_empty())
        .or_else(|| sel.required_attr("name"))
        .map(str::to_string)
        .ok_or_else(|| PortalError::Permanent(format!("{} has no name", sel.source())))
}
