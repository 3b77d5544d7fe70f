//! The value model: JSON-like data that can also be unknown (known only after apply) or
//! marked sensitive (never shown, never stored in plain text).
//!
//! Marks follow Terraform's cty: `Sensitive` wraps the part of a value that is secret, and
//! anything computed from a sensitive value is sensitive too. `Unknown` stands for a value
//! the plan cannot know yet; anything computed from it is unknown.

use std::collections::BTreeMap;
use std::fmt;

use crate::path::{AttrPath, PathStep};

/// A number as TOML and JSON write it: an integer, or a float when it has a fraction.
#[derive(Debug, Clone, Copy)]
pub enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    /// The number as an integer, when it is one (a float with no fraction counts).
    pub fn as_i64(self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(i),
            Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
            Number::Float(_) => None,
        }
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => a == b,
            _ => self.as_f64() == other.as_f64(),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Float(x) if x.fract() == 0.0 && x.is_finite() => write!(f, "{x:.1}"),
            Number::Float(x) => write!(f, "{x}"),
        }
    }
}

/// A value in a stack, a plan or a state snapshot.
#[derive(Debug, Clone, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    /// Known only after apply.
    Unknown,
    /// A secret: masked in every rendering, encrypted at rest.
    Sensitive(Box<Value>),
}

impl PartialEq for Value {
    /// Equality ignores sensitivity marks: a secret equals the same text unmarked.
    /// Two unknowns are equal, so a plan that leaves an unknown untouched is a no-op.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Sensitive(a), b) => a.as_ref() == b,
            (a, Value::Sensitive(b)) => a == b.as_ref(),
            (Value::Null, Value::Null) | (Value::Unknown, Value::Unknown) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Map(a), Value::Map(b)) => a == b,
            _ => false,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Number(Number::Int(i))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl<V: Into<Value>> From<Vec<V>> for Value {
    fn from(items: Vec<V>) -> Self {
        Value::List(items.into_iter().map(Into::into).collect())
    }
}

impl<V: Into<Value>> From<BTreeMap<String, V>> for Value {
    fn from(items: BTreeMap<String, V>) -> Self {
        Value::Map(items.into_iter().map(|(k, v)| (k, v.into())).collect())
    }
}

impl Value {
    /// A map value from pairs, handy in tests and in code-built stacks.
    pub fn map<K: Into<String>, V: Into<Value>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        Value::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// Marks this value sensitive (a no-op when it already is).
    pub fn sensitive(self) -> Self {
        match self {
            Value::Sensitive(_) => self,
            other => Value::Sensitive(Box::new(other)),
        }
    }

    /// The value without its outermost sensitivity mark.
    pub fn peel(&self) -> &Value {
        match self {
            Value::Sensitive(inner) => inner.peel(),
            other => other,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.peel(), Value::Null)
    }

    /// True when this value itself (not something inside it) is unknown.
    pub fn is_unknown(&self) -> bool {
        matches!(self.peel(), Value::Unknown)
    }

    /// True when this value is marked sensitive at its root.
    pub fn is_sensitive(&self) -> bool {
        matches!(self, Value::Sensitive(_))
    }

    /// True when no part of the value is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::Sensitive(v) => v.is_wholly_known(),
            Value::List(items) => items.iter().all(Value::is_wholly_known),
            Value::Map(items) => items.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// True when some part of the value is sensitive.
    pub fn contains_sensitive(&self) -> bool {
        match self {
            Value::Sensitive(_) => true,
            Value::List(items) => items.iter().any(Value::contains_sensitive),
            Value::Map(items) => items.values().any(Value::contains_sensitive),
            _ => false,
        }
    }

    /// The same value with every sensitivity mark removed.
    pub fn unmarked(&self) -> Value {
        match self {
            Value::Sensitive(v) => v.unmarked(),
            Value::List(items) => Value::List(items.iter().map(Value::unmarked).collect()),
            Value::Map(items) => Value::Map(
                items
                    .iter()
                    .map(|(k, v)| (k.clone(), v.unmarked()))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Paths of every sensitive part of the value, outermost first.
    pub fn sensitive_paths(&self) -> Vec<AttrPath> {
        let mut out = Vec::new();
        self.collect_sensitive(&mut AttrPath::root(), &mut out);
        out
    }

    fn collect_sensitive(&self, at: &mut AttrPath, out: &mut Vec<AttrPath>) {
        match self {
            Value::Sensitive(_) => out.push(at.clone()),
            Value::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    at.push(PathStep::Index(i));
                    item.collect_sensitive(at, out);
                    at.pop();
                }
            }
            Value::Map(items) => {
                for (k, item) in items {
                    at.push(PathStep::Key(k.clone()));
                    item.collect_sensitive(at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }

    /// Marks the value at `path` sensitive, when that path exists.
    pub fn mark_sensitive_at(&mut self, path: &AttrPath) {
        if let Some(v) = self.get_path_mut(path) {
            let taken = std::mem::take(v);
            *v = taken.sensitive();
        }
    }

    /// The value at `path`, looking through sensitivity marks.
    pub fn get_path(&self, path: &AttrPath) -> Option<&Value> {
        let mut current = self;
        for step in path.steps() {
            current = match (current.peel(), step) {
                (Value::Map(m), PathStep::Key(k)) => m.get(k)?,
                (Value::List(l), PathStep::Index(i)) => l.get(*i)?,
                _ => return None,
            };
        }
        Some(current)
    }

    /// The value at `path`, mutably, looking through sensitivity marks.
    pub fn get_path_mut(&mut self, path: &AttrPath) -> Option<&mut Value> {
        let mut current = self;
        for step in path.steps() {
            while let Value::Sensitive(inner) = current {
                current = inner.as_mut();
            }
            current = match (current, step) {
                (Value::Map(m), PathStep::Key(k)) => m.get_mut(k)?,
                (Value::List(l), PathStep::Index(i)) => l.get_mut(*i)?,
                _ => return None,
            };
        }
        Some(current)
    }

    /// Sets the value at `path`, creating maps along the way. Returns false when a list
    /// index along the way does not exist or a non-container is in the way.
    pub fn set_path(&mut self, path: &AttrPath, value: Value) -> bool {
        let mut current = self;
        for step in path.steps() {
            while let Value::Sensitive(inner) = current {
                current = inner.as_mut();
            }
            if current.is_null()
                && let PathStep::Key(_) = step
            {
                *current = Value::Map(BTreeMap::new());
            }
            current = match (current, step) {
                (Value::Map(m), PathStep::Key(k)) => m.entry(k.clone()).or_default(),
                (Value::List(l), PathStep::Index(i)) if *i < l.len() => &mut l[*i],
                _ => return false,
            };
        }
        *current = value;
        true
    }

    /// Removes the value at `path` from its parent map. Returns the removed value.
    pub fn remove_path(&mut self, path: &AttrPath) -> Option<Value> {
        let (last, parent) = path.split_last()?;
        let parent = self.get_path_mut(&parent)?;
        let mut parent = parent;
        while let Value::Sensitive(inner) = parent {
            parent = inner.as_mut();
        }
        match (parent, last) {
            (Value::Map(m), PathStep::Key(k)) => m.remove(k),
            _ => None,
        }
    }

    /// A short name for the value's kind, used in type errors.
    pub fn kind(&self) -> &'static str {
        match self.peel() {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Unknown => "unknown",
            Value::Sensitive(_) => "sensitive",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self.peel() {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.peel() {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.peel() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self.peel() {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self.peel() {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// Converts to JSON. Unknowns become null; sensitive parts become null when `mask` is set
    /// and their plain value otherwise (only for encrypting or handing to a provider).
    pub fn to_json(&self, mask: bool) -> serde_json::Value {
        match self {
            Value::Null | Value::Unknown => serde_json::Value::Null,
            Value::Sensitive(_) if mask => serde_json::Value::Null,
            Value::Sensitive(v) => v.to_json(mask),
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(Number::Int(i)) => serde_json::Value::from(*i),
            Value::Number(Number::Float(f)) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::List(items) => {
                serde_json::Value::Array(items.iter().map(|v| v.to_json(mask)).collect())
            }
            Value::Map(items) => serde_json::Value::Object(
                items
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json(mask)))
                    .collect(),
            ),
        }
    }

    /// Converts from JSON; the result carries no marks.
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Number(Number::Int(i)),
                None => Value::Number(Number::Float(n.as_f64().unwrap_or(f64::NAN))),
            },
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(items) => {
                Value::List(items.iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(items) => Value::Map(
                items
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// A mirror of the value with `true` where `pick` holds and nested objects where it
    /// holds somewhere below; `false` when it holds nowhere. This is the shape of
    /// Terraform's `after_unknown` and `after_sensitive`.
    pub fn mark_tree(&self, pick: &dyn Fn(&Value) -> bool) -> serde_json::Value {
        if pick(self) {
            return serde_json::Value::Bool(true);
        }
        match self.peel() {
            Value::List(items) => {
                serde_json::Value::Array(items.iter().map(|v| v.mark_tree(pick)).collect())
            }
            Value::Map(items) => {
                let mut out = serde_json::Map::new();
                for (k, v) in items {
                    let m = v.mark_tree(pick);
                    if m != serde_json::Value::Bool(false) {
                        out.insert(k.clone(), m);
                    }
                }
                serde_json::Value::Object(out)
            }
            _ => serde_json::Value::Bool(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_ignores_marks() {
        assert_eq!(Value::from("x").sensitive(), Value::from("x"));
        assert_ne!(Value::from("x"), Value::Unknown);
        assert_eq!(
            Value::Number(Number::Int(2)),
            Value::Number(Number::Float(2.0))
        );
    }

    #[test]
    fn paths_reach_through_marks() {
        let mut v = Value::map([("a", Value::map([("b", Value::from(1))]).sensitive())]);
        let path: AttrPath = "a.b".parse().unwrap();
        assert_eq!(v.get_path(&path), Some(&Value::from(1)));
        assert!(v.set_path(&path, Value::from(2)));
        assert_eq!(v.get_path(&path), Some(&Value::from(2)));
        assert_eq!(v.sensitive_paths(), vec!["a".parse::<AttrPath>().unwrap()]);
        assert!(!v.unmarked().contains_sensitive());
    }

    #[test]
    fn mark_tree_has_terraform_shape() {
        let v = Value::map([
            ("id", Value::Unknown),
            ("input", Value::map([("a", Value::from("x"))])),
            ("list", Value::List(vec![Value::from(1), Value::Unknown])),
        ]);
        let tree = v.mark_tree(&|v| matches!(v, Value::Unknown));
        assert_eq!(
            tree,
            serde_json::json!({"id": true, "input": {}, "list": [false, true]})
        );
    }

    #[test]
    fn json_masks_secrets_when_asked() {
        let v = Value::map([("p", Value::from("hunter2").sensitive())]);
        assert_eq!(v.to_json(true), serde_json::json!({"p": null}));
        assert_eq!(v.to_json(false), serde_json::json!({"p": "hunter2"}));
    }
}
