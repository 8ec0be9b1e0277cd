//! Just enough HTML reading for the HTTP portal driver: the start tags of a
//! page with their attributes, and the profile's selectors matched against
//! them.
//!
//! Why not an HTML crate (`scraper`): the profile's selectors are single
//! compound selectors (`div#report-ok`, `input[name=email]`), the pages are
//! the simulator's, and a new dependency tree in the shared lock file is a
//! bigger cost than this scanner. Selectors outside that subset are refused
//! when the driver is built, never half-matched at run time.

/// One simple compound selector: `tag`, `#id`, `.class` and `[attr]` /
/// `[attr=value]` parts, all required of the same element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    source: String,
    tag: Option<String>,
    id: Option<String>,
    classes: Vec<String>,
    attrs: Vec<(String, Option<String>)>,
}

impl Selector {
    pub fn parse(css: &str) -> Result<Self, String> {
        let unsupported = |why: &str| {
            format!("selector {css:?}: {why} (the http driver reads only one compound selector: tag, #id, .class, [attr=value])")
        };
        let s = css.trim();
        if s.is_empty() {
            return Err(unsupported("empty"));
        }
        let mut sel = Selector {
            source: s.to_string(),
            tag: None,
            id: None,
            classes: Vec::new(),
            attrs: Vec::new(),
        };
        let chars: Vec<char> = s.chars().collect();
        let ident_end = |from: usize| {
            let mut i = from;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '-' || chars[i] == '_')
            {
                i += 1;
            }
            i
        };
        let mut i = 0;
        if chars[0] == '*' {
            i = 1;
        } else if chars[0].is_alphabetic() {
            i = ident_end(0);
            sel.tag = Some(chars[..i].iter().collect::<String>().to_ascii_lowercase());
        }
        while i < chars.len() {
            match chars[i] {
                '#' | '.' => {
                    let end = ident_end(i + 1);
                    if end == i + 1 {
                        return Err(unsupported("a name must follow # or ."));
                    }
                    let name: String = chars[i + 1..end].iter().collect();
                    if chars[i] == '#' {
                        sel.id = Some(name);
                    } else {
                        sel.classes.push(name);
                    }
                    i = end;
                }
                '[' => {
                    let close = chars[i..]
                        .iter()
                        .position(|c| *c == ']')
                        .map(|p| i + p)
                        .ok_or_else(|| unsupported("unclosed ["))?;
                    let inner: String = chars[i + 1..close].iter().collect();
                    sel.attrs
                        .push(parse_attr(&inner).map_err(|w| unsupported(&w))?);
                    i = close + 1;
                }
                c => return Err(unsupported(&format!("{c:?} is not supported"))),
            }
        }
        Ok(sel)
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    fn matches(&self, el: &Element) -> bool {
        self.tag.as_ref().is_none_or(|t| *t == el.name)
            && self
                .id
                .as_ref()
                .is_none_or(|id| el.attr("id") == Some(id.as_str()))
            && self.classes.iter().all(|c| {
                el.attr("class")
                    .is_some_and(|v| v.split_ascii_whitespace().any(|x| x == c))
            })
            && self.attrs.iter().all(|(name, value)| match value {
                None => el.attr(name).is_some(),
                Some(v) => el.attr(name) == Some(v.as_str()),
            })
    }

    /// The `name=value` the selector requires, if any: what a form field
    /// selector such as `input[name=email]` already says about the field.
    pub fn required_attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }
}

fn parse_attr(inner: &str) -> Result<(String, Option<String>), String> {
    let Some((name, value)) = inner.split_once('=') else {
        let name = inner.trim();
        if name.is_empty() || name.contains(|c: char| c.is_whitespace()) {
            return Err(format!("[{inner}] is not an attribute name"));
        }
        return Ok((name.to_ascii_lowercase(), None));
    };
    let name = name.trim();
    if name.is_empty() || name.ends_with(['~', '|', '^', '$', '*']) {
        return Err(format!(
            "[{inner}]: only [attr] and [attr=value] are supported"
        ));
    }
    let value = value.trim();
    let unquoted = ['"', '\'']
        .iter()
        .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
        .unwrap_or(value);
    Ok((name.to_ascii_lowercase(), Some(unquoted.to_string())))
}

/// A start tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Lower case.
    pub name: String,
    /// Names lower case, values with character references decoded.
    attrs: Vec<(String, String)>,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Start(Element),
    End(String),
    Text(String),
}

/// A parsed page: its tokens in document order.
#[derive(Debug, Clone)]
pub struct Page {
    tokens: Vec<Token>,
}

/// Elements whose content is text up to their end tag, never markup: a
/// `#login-error` inside a `<style>` block must not look like an element.
const RAW_TEXT: &[&str] = &["script", "style", "textarea", "title"];

impl Page {
    pub fn parse(html: &str) -> Self {
        let mut tokens = Vec::new();
        let mut rest = html;
        while !rest.is_empty() {
            let Some(lt) = rest.find('<') else {
                tokens.push(Token::Text(decode(rest)));
                break;
            };
            if lt > 0 {
                tokens.push(Token::Text(decode(&rest[..lt])));
            }
            rest = &rest[lt..];
            if let Some(after) = rest.strip_prefix("<!--") {
                rest = after.find("-->").map_or("", |e| &after[e + 3..]);
            } else if rest.starts_with("<!") || rest.starts_with("<?") {
                rest = rest.find('>').map_or("", |e| &rest[e + 1..]);
            } else if let Some(after) = rest.strip_prefix("</") {
                let end = after.find('>').unwrap_or(after.len());
                let name = after[..end]
                    .trim()
                    .split(|c: char| c.is_whitespace())
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                tokens.push(Token::End(name));
                rest = after.get(end + 1..).unwrap_or("");
            } else if rest[1..].starts_with(|c: char| c.is_ascii_alphabetic()) {
                let (el, after) = start_tag(&rest[1..]);
                rest = after;
                let raw = RAW_TEXT.contains(&el.name.as_str());
                let name = el.name.clone();
                tokens.push(Token::Start(el));
                if raw {
                    let close = find_ci(rest, &format!("</{name}")).unwrap_or(rest.len());
                    tokens.push(Token::Text(decode(&rest[..close])));
                    rest = &rest[close..];
                }
            } else {
                // A lone `<` in text.
                tokens.push(Token::Text("<".into()));
                rest = &rest[1..];
            }
        }
        Page { tokens }
    }

    fn first_index(&self, sel: &Selector) -> Option<usize> {
        self.tokens
            .iter()
            .position(|t| matches!(t, Token::Start(el) if sel.matches(el)))
    }

    /// The first element `sel` matches, like `document.querySelector`.
    pub fn find(&self, sel: &Selector) -> Option<&Element> {
        self.first_index(sel).map(|i| match &self.tokens[i] {
            Token::Start(el) => el,
            _ => unreachable!("first_index returns start tags"),
        })
    }

    /// The text inside the first element `sel` matches (its descendants'
    /// text too), like `textContent`.
    pub fn text(&self, sel: &Selector) -> Option<String> {
        let start = self.first_index(sel)?;
        let mut out = String::new();
        for t in self.content(start) {
            if let Token::Text(s) = t {
                out.push_str(s);
            }
        }
        Some(out)
    }

    /// The start tags inside the first element `sel` matches.
    pub fn descendants(&self, sel: &Selector) -> Vec<&Element> {
        let Some(start) = self.first_index(sel) else {
            return Vec::new();
        };
        self.content(start)
            .iter()
            .filter_map(|t| match t {
                Token::Start(el) => Some(el),
                _ => None,
            })
            .collect()
    }

    /// The tokens between the start tag at `start` and its end tag (or the
    /// end of the page when it has none).
    fn content(&self, start: usize) -> &[Token] {
        let Token::Start(open) = &self.tokens[start] else {
            return &[];
        };
        if is_void(&open.name) {
            return &[];
        }
        let mut depth = 0usize;
        for (i, t) in self.tokens.iter().enumerate().skip(start + 1) {
            match t {
                Token::Start(el) if el.name == open.name => depth += 1,
                Token::End(n) if *n == open.name => {
                    if depth == 0 {
                        return &self.tokens[start + 1..i];
                    }
                    depth -= 1;
                }
                _ => {}
            }
        }
        &self.tokens[start + 1..]
    }
}

fn is_void(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "source"
            | "track"
            | "wbr"
    )
}

/// Case-insensitive find of an ASCII needle.
fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    (0..h.len().saturating_sub(n.len()) + 1)
        .find(|&i| h.len() >= n.len() && h[i..i + n.len()].eq_ignore_ascii_case(n))
}

/// Parses a start tag from just after its `<`; returns it and what follows
/// its `>`.
fn start_tag(s: &str) -> (Element, &str) {
    let name_end = s
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .unwrap_or(s.len());
    let name = s[..name_end].to_ascii_lowercase();
    let mut attrs = Vec::new();
    let mut rest = &s[name_end..];
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() {
            break;
        }
        if let Some(after) = rest.strip_prefix('>') {
            rest = after;
            break;
        }
        let n_end = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '>' || c == '/')
            .unwrap_or(rest.len())
            .max(1);
        let attr_name = rest[..n_end].to_ascii_lowercase();
        rest = rest[n_end..].trim_start();
        let mut value = String::new();
        if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            if let Some(q) = after.chars().next().filter(|c| *c == '"' || *c == '\'') {
                let body = &after[1..];
                let end = body.find(q).unwrap_or(body.len());
                value = decode(&body[..end]);
                rest = body.get(end + 1..).unwrap_or("");
            } else {
                let end = after
                    .find(|c: char| c.is_whitespace() || c == '>')
                    .unwrap_or(after.len());
                value = decode(&after[..end]);
                rest = &after[end..];
            }
        }
        // The first of repeated attributes wins, as in browsers.
        if !attrs.iter().any(|(n, _)| *n == attr_name) {
            attrs.push((attr_name, value));
        }
    }
    (Element { name, attrs }, rest)
}

/// Decodes the character references a server-side escaper produces
/// (named basics and numeric ones); anything else is left as written.
fn decode(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').filter(|&e| e <= 10).and_then(|e| {
            let entity = &rest[1..e];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(s: &str) -> Selector {
        Selector::parse(s).unwrap()
    }

    #[test]
    fn reads_the_profiles_kind_of_selectors() {
        let s = sel("input[name=email]");
        assert_eq!(s.required_attr("name"), Some("email"));
        assert_eq!(sel("div#report-ok").id.as_deref(), Some("report-ok"));
        assert_eq!(
            sel("a.btn.primary[data-x='1']").attrs,
            vec![("data-x".into(), Some("1".into()))]
        );
        for bad in ["div > a", "a, b", "a:hover", "[x~=y]", "form #x", ""] {
            assert!(Selector::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn finds_elements_attributes_and_text_outside_style_blocks() {
        let html = r#"<!doctype html><html><head><style>#login-error{color:#b00}</style>
<title>x <div id="login-error">no</div></title></head><body>
<!-- <div id="login-error">comment</div> -->
<DIV id="login-error" role=alert>Credenciales <b>inv&aacute;lidas</b> &amp; m&#225;s</DIV>
<div id="already-reported" data-ticket="T&quot;1">Ya</div>
<form id="report-form" action="/orders/5/report"><select name="reason"><option value="a">A</option>
<option value="sin_movimiento">S</option></select><textarea name="message">a <b> c</textarea>
<input type=hidden name=k value=v><button id="report-submit">Enviar</button></form>
<div id="after"></div></body></html>"#;
        let page = Page::parse(html);
        assert_eq!(
            page.text(&sel("div#login-error")).as_deref(),
            Some("Credenciales inv&aacute;lidas & más")
        );
        assert_eq!(
            page.find(&sel("div#already-reported"))
                .and_then(|e| e.attr("data-ticket")),
            Some("T\"1")
        );
        let options: Vec<_> = page
            .descendants(&sel("select[name=reason]"))
            .into_iter()
            .filter_map(|e| e.attr("value"))
            .collect();
        assert_eq!(options, ["a", "sin_movimiento"]);
        let in_form: Vec<_> = page
            .descendants(&sel("form#report-form"))
            .into_iter()
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(
            in_form,
            ["select", "option", "option", "textarea", "input", "button"]
        );
        assert_eq!(
            page.find(&sel("input[name=k]")).unwrap().attr("value"),
            Some("v")
        );
        assert!(page.find(&sel("div#after")).is_some());
        assert!(page.find(&sel("div#missing")).is_none());
    }

    #[test]
    fn nested_elements_of_the_same_tag_keep_their_text() {
        let page = Page::parse(r#"<div id="a">x<div>y</div>z</div><div>w</div>"#);
        assert_eq!(page.text(&sel("#a")).as_deref(), Some("xyz"));
    }
}
