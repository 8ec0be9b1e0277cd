//! The page-state protocol: the scripts the adapter runs in the page (each
//! defines `pageState`) and the [`PageState`] they answer.

use serde::Deserialize;

/// What the page looks like now (one script call).
#[derive(Debug, Deserialize)]
pub(super) struct PageState {
    /// The marker set before a submit is still there: same document.
    pub(super) marked: bool,
    ready: String,
    /// HTTP status of the document (0 = unknown).
    pub(super) status: u16,
    pub(super) path: String,
    /// `location.href`.
    pub(super) url: String,
    /// Which of the asked selectors are present.
    pub(super) found: Vec<bool>,
    /// The asked attribute of each selector's first match, if any.
    pub(super) attrs: Vec<Option<String>>,
    /// The text of each selector's first match, when asked for (tickets
    /// shown only as text).
    #[serde(default)]
    pub(super) texts: Vec<Option<String>>,
    /// [`FILL_REPORT_JS`] filled the report form and clicked its submit button.
    #[serde(default)]
    pub(super) submitted: bool,
    /// [`FILL_REPORT_JS`]: the element of the form it could not find.
    #[serde(default)]
    pub(super) missing: Option<String>,
}

impl PageState {
    pub(super) fn loaded(&self, new_document: bool) -> bool {
        self.ready == "complete" && !(new_document && self.marked)
    }
}

/// `pageState(selectors, attribute, withText)`: the [`PageState`] of the
/// document. The text is the rendered one (`innerText`: what a user reads,
/// with markup and hidden parts left out).
pub(super) const PAGE_STATE_FN: &str = r#"
function pageState(sels, attr, withText) {
  const nav = performance.getEntriesByType('navigation')[0];
  const els = sels.map(function (s) { try { return document.querySelector(s); } catch (e) { return null; } });
  return {
    marked: window.__reporterMark === true,
    ready: document.readyState,
    status: nav && nav.responseStatus ? nav.responseStatus : 0,
    path: location.pathname,
    url: location.href,
    found: els.map(function (e) { return e !== null; }),
    attrs: els.map(function (e) { return e && attr ? e.getAttribute(attr) : null; }),
    texts: els.map(function (e) {
      if (!e || !withText) { return null; }
      return typeof e.innerText === 'string' ? e.innerText : e.textContent;
    }),
  };
}
"#;

/// Arguments: selectors, attribute name (or null), whether to read texts.
pub(super) const STATE_JS: &str = "return pageState(arguments[0], arguments[1], arguments[2]);";

/// One round trip for a loaded order page: its state (selectors
/// `[already_reported, report_form]`) and, when it shows the report form
/// and no existing report, the form filled in and sent the way a user
/// sends it: the reason option is selected and the message written through
/// the elements' value setters, each followed by `input` and `change`
/// events, then the form's own submit button is clicked (the browser runs
/// the form's validation and submit handlers and posts it). Sets the
/// document marker first, so the wait that follows knows the answer page
/// from this one.
///
/// Arguments: selectors, ticket attribute (or null), whether to read texts,
/// `{login, reason, reason_value, message, text, submit}`.
pub(super) const FILL_REPORT_JS: &str = r#"
const s = pageState(arguments[0], arguments[1], arguments[2]);
const f = arguments[3];
s.submitted = false;
s.missing = null;
if (s.ready !== 'complete' || s.status >= 400 || s.path === f.login || s.found[0] || !s.found[1]) {
  return s;
}
const q = function (sel) { try { return document.querySelector(sel); } catch (e) { return null; } };
const reason = q(f.reason), message = q(f.message), submit = q(f.submit);
if (!reason) { s.missing = f.reason; return s; }
if (!Array.prototype.some.call(reason.options || [], function (o) { return o.value === f.reason_value; })) {
  s.missing = f.reason + ' option ' + JSON.stringify(f.reason_value);
  return s;
}
if (!message) { s.missing = f.message; return s; }
if (!submit) { s.missing = f.submit; return s; }
const setValue = function (el, v) {
  el.focus();
  const d = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(el), 'value');
  if (d && d.set) { d.set.call(el, v); } else { el.value = v; }
  el.dispatchEvent(new Event('input', { bubbles: true }));
  el.dispatchEvent(new Event('change', { bubbles: true }));
};
setValue(reason, f.reason_value);
setValue(message, f.text);
if (reason.value !== f.reason_value || message.value !== f.text) {
  s.missing = 'the values of ' + f.reason + ' and ' + f.message + ' (the page changed them)';
  return s;
}
window.__reporterMark = true;
submit.click();
s.submitted = true;
return s;
"#;

/// What a state call reads from each selector's first match besides its
/// presence.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Read<'a> {
    pub(super) attr: Option<&'a str>,
    pub(super) text: bool,
}

impl<'a> Read<'a> {
    pub(super) const NOTHING: Read<'static> = Read {
        attr: None,
        text: false,
    };

    pub(super) fn attr(name: &'a str) -> Self {
        Read {
            attr: Some(name),
            text: false,
        }
    }
}

/// The arguments of [`STATE_JS`] (and the first three of [`FILL_REPORT_JS`]).
pub(super) fn state_args(selectors: &[&str], read: Read<'_>) -> Vec<serde_json::Value> {
    vec![
        selectors
            .iter()
            .map(|s| serde_json::Value::from(*s))
            .collect(),
        read.attr.map_or(serde_json::Value::Null, Into::into),
        read.text.into(),
    ]
}
