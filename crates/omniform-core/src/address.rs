//! Resource and resource-instance addresses, written like Terraform's:
//! `omniform_data.server`, `omniform_data.server[0]`, `omniform_data.server["a"]`.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The address of a resource block: its type and its name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceAddress {
    pub type_name: String,
    pub name: String,
}

impl ResourceAddress {
    pub fn new(type_name: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            type_name: type_name.into(),
            name: name.into(),
        }
    }

    /// The address of one instance of this resource.
    pub fn instance(&self, key: Option<InstanceKey>) -> InstanceAddress {
        InstanceAddress {
            resource: self.clone(),
            key,
        }
    }
}

impl fmt::Display for ResourceAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.type_name, self.name)
    }
}

/// The key that tells the instances of a `count` or `for_each` resource apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum InstanceKey {
    Int(i64),
    Str(String),
}

impl Ord for InstanceKey {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (InstanceKey::Int(a), InstanceKey::Int(b)) => a.cmp(b),
            (InstanceKey::Str(a), InstanceKey::Str(b)) => a.cmp(b),
            (InstanceKey::Int(_), InstanceKey::Str(_)) => Ordering::Less,
            (InstanceKey::Str(_), InstanceKey::Int(_)) => Ordering::Greater,
        }
    }
}

impl PartialOrd for InstanceKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::Int(i) => write!(f, "[{i}]"),
            InstanceKey::Str(s) => write!(f, "[{}]", quote(s)),
        }
    }
}

/// Quotes a string the way addresses and rendered values show it.
pub fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// The address of one resource instance.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceAddress {
    pub resource: ResourceAddress,
    pub key: Option<InstanceKey>,
}

impl InstanceAddress {
    pub fn new(type_name: &str, name: &str, key: Option<InstanceKey>) -> Self {
        ResourceAddress::new(type_name, name).instance(key)
    }
}

impl fmt::Display for InstanceAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.resource)?;
        if let Some(key) = &self.key {
            write!(f, "{key}")?;
        }
        Ok(())
    }
}

/// Why a string is not an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid resource address {input:?}: {reason}")]
pub struct AddressParseError {
    pub input: String,
    pub reason: String,
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl FromStr for InstanceAddress {
    type Err = AddressParseError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason: &str| AddressParseError {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        let (head, key) = match input.find('[') {
            Some(open) => {
                let rest = &input[open..];
                if !rest.ends_with(']') {
                    return Err(err("an instance key must end with `]`"));
                }
                let inner = &rest[1..rest.len() - 1];
                let key = if inner.starts_with('"') {
                    let s: String = serde_json::from_str(inner)
                        .map_err(|_| err("a string key must be a quoted string, like [\"a\"]"))?;
                    InstanceKey::Str(s)
                } else {
                    InstanceKey::Int(
                        inner.parse().map_err(|_| {
                            err("a key is a number like [0] or a string like [\"a\"]")
                        })?,
                    )
                };
                (&input[..open], Some(key))
            }
            None => (input, None),
        };
        let mut parts = head.split('.');
        let (Some(type_name), Some(name), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(err("expected <type>.<name>, like omniform_data.server"));
        };
        if !is_identifier(type_name) || !is_identifier(name) {
            return Err(err(
                "type and name are identifiers: letters, digits, `_` and `-`",
            ));
        }
        Ok(ResourceAddress::new(type_name, name).instance(key))
    }
}

impl FromStr for ResourceAddress {
    type Err = AddressParseError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let addr: InstanceAddress = input.parse()?;
        if addr.key.is_some() {
            return Err(AddressParseError {
                input: input.to_string(),
                reason: "expected a resource address without an instance key".into(),
            });
        }
        Ok(addr.resource)
    }
}

impl Serialize for InstanceAddress {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for InstanceAddress {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for ResourceAddress {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ResourceAddress {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_key_shape() {
        for text in [
            "omniform_data.server",
            "omniform_data.server[0]",
            "omniform_data.server[\"a b\"]",
            "aws_instance.app-1[12]",
        ] {
            let addr: InstanceAddress = text.parse().unwrap();
            assert_eq!(addr.to_string(), text);
        }
    }

    #[test]
    fn rejects_malformed_addresses() {
        for text in ["server", "a.b.c", "a.b[x]", "a.b[0", "1a.b", "a.b[\"x]"] {
            assert!(text.parse::<InstanceAddress>().is_err(), "{text}");
        }
    }

    #[test]
    fn integer_keys_sort_numerically() {
        let a: InstanceAddress = "t.n[2]".parse().unwrap();
        let b: InstanceAddress = "t.n[10]".parse().unwrap();
        assert!(a < b);
    }
}
