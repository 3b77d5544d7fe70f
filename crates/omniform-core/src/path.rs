//! Attribute paths inside a resource's value: `input.name`, `ingress[0].from_port`,
//! `tags["Name"]`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One step into a value: a map key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    Key(String),
    Index(usize),
}

/// A path from a resource's root value to one of its parts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttrPath(Vec<PathStep>);

impl AttrPath {
    pub fn root() -> Self {
        Self(Vec::new())
    }

    pub fn from_steps(steps: Vec<PathStep>) -> Self {
        Self(steps)
    }

    /// A path of one top-level attribute.
    pub fn attr(name: &str) -> Self {
        Self(vec![PathStep::Key(name.to_string())])
    }

    pub fn steps(&self) -> &[PathStep] {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    pub fn push(&mut self, step: PathStep) {
        self.0.push(step);
    }

    pub fn pop(&mut self) -> Option<PathStep> {
        self.0.pop()
    }

    /// This path with one more step.
    pub fn child(&self, step: PathStep) -> Self {
        let mut next = self.clone();
        next.push(step);
        next
    }

    /// The last step and the path to its parent.
    pub fn split_last(&self) -> Option<(&PathStep, AttrPath)> {
        let (last, rest) = self.0.split_last()?;
        Some((last, AttrPath(rest.to_vec())))
    }

    /// True when `self` is `other` or lies inside it.
    pub fn starts_with(&self, other: &AttrPath) -> bool {
        self.0.starts_with(&other.0)
    }

    /// The top-level attribute this path lies in.
    pub fn top_level(&self) -> Option<&str> {
        match self.0.first() {
            Some(PathStep::Key(k)) => Some(k),
            _ => None,
        }
    }

    /// The path as Terraform's JSON writes it: a list of keys and indexes.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Array(
            self.0
                .iter()
                .map(|s| match s {
                    PathStep::Key(k) => serde_json::Value::String(k.clone()),
                    PathStep::Index(i) => serde_json::Value::from(*i),
                })
                .collect(),
        )
    }
}

fn is_plain_key(k: &str) -> bool {
    let mut chars = k.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Key(k) if is_plain_key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                PathStep::Key(k) => write!(f, "[{}]", crate::address::quote(k))?,
                PathStep::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// Why a string is not an attribute path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid attribute path {input:?}: {reason}")]
pub struct PathParseError {
    pub input: String,
    pub reason: &'static str,
}

impl FromStr for AttrPath {
    type Err = PathParseError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason| PathParseError {
            input: input.to_string(),
            reason,
        };
        let bytes = input.as_bytes();
        let mut steps = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'.' if !steps.is_empty() => i += 1,
                b'[' => {
                    let close = input[i..]
                        .find(']')
                        .map(|c| c + i)
                        .ok_or_else(|| err("unclosed `[`"))?;
                    let inner = &input[i + 1..close];
                    if inner.starts_with('"') {
                        let key: String = serde_json::from_str(inner)
                            .map_err(|_| err("a key in brackets must be a quoted string"))?;
                        steps.push(PathStep::Key(key));
                    } else {
                        steps.push(PathStep::Index(
                            inner
                                .parse()
                                .map_err(|_| err("an index in brackets must be a number"))?,
                        ));
                    }
                    i = close + 1;
                    continue;
                }
                _ => {}
            }
            let start = i;
            while i < bytes.len() && bytes[i] != b'.' && bytes[i] != b'[' {
                i += 1;
            }
            let key = &input[start..i];
            if !is_plain_key(key) {
                return Err(err("attribute names are letters, digits, `_` and `-`"));
            }
            steps.push(PathStep::Key(key.to_string()));
        }
        if steps.is_empty() {
            return Err(err("the path is empty"));
        }
        Ok(AttrPath(steps))
    }
}

impl Serialize for AttrPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AttrPath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for text in [
            "input",
            "input.name",
            "ingress[0].from_port",
            "tags[\"Name Tag\"]",
        ] {
            let path: AttrPath = text.parse().unwrap();
            assert_eq!(path.to_string(), text);
        }
    }

    #[test]
    fn rejects_bad_paths() {
        for text in ["", "a..b", "a[", "a[x]", "a.b c"] {
            assert!(text.parse::<AttrPath>().is_err(), "{text}");
        }
    }

    #[test]
    fn prefix_checks() {
        let a: AttrPath = "input.name".parse().unwrap();
        assert!(a.starts_with(&"input".parse().unwrap()));
        assert!(!a.starts_with(&"inputs".parse().unwrap()));
        assert_eq!(a.to_json(), serde_json::json!(["input", "name"]));
    }
}
