//! HTML building blocks: escaping every user string, the page layout,
//! data maps rendered readably.

use std::fmt::Write as _;

use coordinate::{Map, Value};

/// `s` with `& < > " '` escaped, safe in element text and quoted attributes.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A URL path with its query, each pair form-encoded (then HTML-escaped
/// by the caller through [`esc`] when put in an attribute).
pub(crate) fn url(path: &str, pairs: &[(&str, &str)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    let q = ser.finish();
    if q.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{q}")
    }
}

/// The whole page around `body`.
pub(crate) struct Layout<'a> {
    pub(crate) title: &'a str,
    /// Breadcrumbs: (label, href); the last is the current page.
    pub(crate) crumbs: Vec<(String, String)>,
    pub(crate) read_only: bool,
    pub(crate) logged_in: bool,
    pub(crate) csrf: &'a str,
    /// Whether the page refreshes its `#live` part by polling.
    pub(crate) live: bool,
}

impl Layout<'_> {
    pub(crate) fn render(&self, body: &str) -> String {
        let mut crumbs = String::new();
        for (i, (label, href)) in self.crumbs.iter().enumerate() {
            if i > 0 {
                crumbs.push_str(" <span class=\"sep\">/</span> ");
            }
            if i + 1 == self.crumbs.len() {
                let _ = write!(crumbs, "<span>{}</span>", esc(label));
            } else {
                let _ = write!(crumbs, "<a href=\"{}\">{}</a>", esc(href), esc(label));
            }
        }
        let badge = if self.read_only {
            "<span class=\"badge ro\" id=\"read-only\">read-only</span>"
        } else {
            ""
        };
        let logout = if self.logged_in {
            format!(
                "<form method=\"post\" action=\"/ui/logout\" class=\"inline\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
                 <button type=\"submit\" class=\"link\">log out</button></form>",
                esc(self.csrf)
            )
        } else {
            String::new()
        };
        let live = if self.live {
            "<label class=\"live\"><input type=\"checkbox\" id=\"live-toggle\" checked> live</label>"
        } else {
            ""
        };
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title} · coordinated</title>\
             <link rel=\"icon\" href=\"/ui/static/icon.svg\">\
             <link rel=\"stylesheet\" href=\"/ui/static/style.css\">\
             <script src=\"/ui/static/app.js\" defer></script></head>\
             <body><header><a class=\"brand\" href=\"/ui/\">coordinated</a> \
             <nav>{crumbs}</nav><span class=\"right\">{live} {badge} {logout}</span></header>\
             <main>{body}</main></body></html>\n",
            title = esc(self.title),
        )
    }
}

/// A value as compact JSON-like text (bytes as `b"..."` hex-free text).
pub(crate) fn value_text(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v);
    out
}

fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => {
            let _ = write!(out, "{f:?}");
        }
        Value::String(s) => {
            let _ = write!(out, "{s:?}");
        }
        Value::Bytes(b) => {
            out.push_str("b\"");
            for &byte in b {
                if byte.is_ascii_graphic() && byte != b'"' && byte != b'\\' {
                    out.push(char::from(byte));
                } else {
                    let _ = write!(out, "\\x{byte:02x}");
                }
            }
            out.push('"');
        }
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "{k:?}: ");
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

/// A data map as a table: one row a key; multi-line strings (tracebacks)
/// in `<pre>` as they are, everything else as compact text.
pub(crate) fn data_table(data: &Map, class: &str) -> String {
    if data.is_empty() {
        return "<p class=\"muted\">(empty)</p>".to_owned();
    }
    let mut out = format!("<table class=\"data {}\">", esc(class));
    for (k, v) in data {
        let shown = match v {
            Value::String(s) if s.contains('\n') => {
                format!("<pre class=\"traceback\">{}</pre>", esc(s))
            }
            Value::String(s) => format!("<code>{}</code>", esc(s)),
            other => format!("<code>{}</code>", esc(&value_text(other))),
        };
        let _ = write!(out, "<tr><th>{}</th><td>{shown}</td></tr>", esc(k));
    }
    out.push_str("</table>");
    out
}

/// Whether `v` is what a search for `wanted` means: the string itself, or
/// the compact text of any other value (`3`, `true`, `null`).
pub(crate) fn value_matches(v: &Value, wanted: &str) -> bool {
    match v {
        Value::String(s) => s == wanted,
        other => value_text(other) == wanted,
    }
}

/// Hex of bytes (session and form tokens).
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
    }

    #[test]
    fn urls_encode_pairs() {
        assert_eq!(
            url("/ui/spec", &[("ns", "a b"), ("spec", "x&y")]),
            "/ui/spec?ns=a+b&spec=x%26y"
        );
        assert_eq!(url("/ui/", &[]), "/ui/");
    }

    #[test]
    fn values_as_text() {
        let v = Value::List(vec![
            Value::Int(3),
            Value::String("a\"b".into()),
            Value::Bytes(vec![0, b'z']),
        ]);
        assert_eq!(value_text(&v), "[3, \"a\\\"b\", b\"\\x00z\"]");
        assert!(value_matches(&Value::Int(3), "3"));
        assert!(value_matches(&Value::String("en".into()), "en"));
        assert!(!value_matches(&Value::String("en".into()), "\"en\""));
    }

    #[test]
    fn tracebacks_in_pre() {
        let mut m = Map::new();
        m.insert(
            "traceback".into(),
            Value::String("Traceback:\n  <boom>".into()),
        );
        let t = data_table(&m, "x");
        assert!(t.contains("<pre class=\"traceback\">Traceback:\n  &lt;boom&gt;</pre>"));
    }
}
