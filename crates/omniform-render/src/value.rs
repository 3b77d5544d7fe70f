//! How single values read in renderings: quoted strings, `(known after apply)`,
//! `(sensitive value)`.

use omniform_core::Value;

pub const UNKNOWN: &str = "(known after apply)";
pub const SENSITIVE: &str = "(sensitive value)";

/// A map key as written: bare when it is an identifier, quoted otherwise.
pub fn key(k: &str) -> String {
    let mut chars = k.chars();
    let bare = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare { k.to_string() } else { quote(k) }
}

pub fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// True for a string that is shown as a heredoc.
pub fn is_multiline(v: &Value) -> bool {
    matches!(v, Value::String(s) if s.trim_end_matches('\n').contains('\n'))
}

/// A value on one line, or `None` when it needs several (non-empty lists and maps,
/// multi-line strings).
pub fn inline(v: &Value) -> Option<String> {
    Some(match v {
        Value::Null => "null".into(),
        Value::Unknown => UNKNOWN.into(),
        Value::Sensitive(_) => SENSITIVE.into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(_) if is_multiline(v) => return None,
        Value::String(s) => quote(s),
        Value::List(items) if items.is_empty() => "[]".into(),
        Value::Map(items) if items.is_empty() => "{}".into(),
        Value::List(_) | Value::Map(_) => return None,
    })
}

/// A value as one line no matter what, for compact lists (Markdown tables, list diffs).
pub fn compact(v: &Value) -> String {
    match inline(v) {
        Some(s) => s,
        None => match v {
            Value::String(s) => quote(s),
            Value::List(items) => format!(
                "[{}]",
                items.iter().map(compact).collect::<Vec<_>>().join(", ")
            ),
            Value::Map(items) => format!(
                "{{ {} }}",
                items
                    .iter()
                    .map(|(k, v)| format!("{} = {}", key(k), compact(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => unreachable!("inline covers the rest"),
        },
    }
}
