//! The versioned on-disk format: snapshots, journal lines and sealed values. These types are
//! the file format, kept apart from the [`Snapshot`] model so either can change with a
//! conversion in between.

use std::collections::BTreeMap;

use omniform_core::{AttrPath, InstanceAddress, ResourceAddress, Value};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::StateError;
use crate::crypto::Cipher;
use crate::snapshot::{
    ChangeCounts, DeposedObject, OutputState, ResourceInstance, Snapshot, StateOp,
};

/// The snapshot format this code writes.
pub const FORMAT_VERSION: u32 = 1;

/// A value as stored: JSON, with sensitive parts sealed (their paths listed) and unknown
/// parts null (their paths listed; only plans hold unknowns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredValue {
    pub value: serde_json::Value,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<String>,
}

/// Seals the sensitive parts of a value.
pub fn encode_value(v: &Value, cipher: &Cipher) -> Result<StoredValue, StateError> {
    fn walk(
        v: &Value,
        at: &mut AttrPath,
        cipher: &Cipher,
        sensitive: &mut Vec<String>,
        unknown: &mut Vec<String>,
    ) -> Result<serde_json::Value, StateError> {
        Ok(match v {
            Value::Sensitive(inner) => {
                sensitive.push(path_text(at));
                let plain = serde_json::to_vec(&plain_json(inner, at, unknown))
                    .expect("JSON values serialize");
                serde_json::Value::String(cipher.seal(&plain)?)
            }
            Value::Unknown => {
                unknown.push(path_text(at));
                serde_json::Value::Null
            }
            Value::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    at.push(omniform_core::PathStep::Index(i));
                    out.push(walk(item, at, cipher, sensitive, unknown)?);
                    at.pop();
                }
                serde_json::Value::Array(out)
            }
            Value::Map(items) => {
                let mut out = serde_json::Map::new();
                for (k, item) in items {
                    at.push(omniform_core::PathStep::Key(k.clone()));
                    out.insert(k.clone(), walk(item, at, cipher, sensitive, unknown)?);
                    at.pop();
                }
                serde_json::Value::Object(out)
            }
            other => other.to_json(false),
        })
    }
    /// A secret's plain JSON; a secret that is still unknown is recorded as unknown (it
    /// carries nothing to hide).
    fn plain_json(v: &Value, at: &mut AttrPath, unknown: &mut Vec<String>) -> serde_json::Value {
        if v.is_unknown() {
            unknown.push(path_text(at));
        }
        v.to_json(false)
    }
    let mut sensitive = Vec::new();
    let mut unknown = Vec::new();
    let value = walk(
        v,
        &mut AttrPath::root(),
        cipher,
        &mut sensitive,
        &mut unknown,
    )?;
    Ok(StoredValue {
        value,
        sensitive,
        unknown,
    })
}

fn path_text(p: &AttrPath) -> String {
    if p.is_root() {
        String::new()
    } else {
        p.to_string()
    }
}

fn parse_path(text: &str) -> Result<AttrPath, StateError> {
    if text.is_empty() {
        return Ok(AttrPath::root());
    }
    text.parse().map_err(
        |e: omniform_core::path::PathParseError| StateError::Corrupt {
            path: "value".into(),
            message: e.to_string(),
        },
    )
}

fn set(root: &mut Value, path: &AttrPath, v: Value) {
    if path.is_root() {
        *root = v;
    } else {
        root.set_path(path, v);
    }
}

/// Opens the sealed parts of a stored value.
pub fn decode_value(s: &StoredValue, cipher: &Cipher) -> Result<Value, StateError> {
    let mut v = Value::from_json(&s.value);
    for p in &s.sensitive {
        let path = parse_path(p)?;
        let sealed = if path.is_root() {
            v.clone()
        } else {
            v.get_path(&path).cloned().unwrap_or(Value::Null)
        };
        let Some(text) = sealed.as_str() else {
            return Err(StateError::Corrupt {
                path: p.clone(),
                message: "a sensitive value is not sealed".into(),
            });
        };
        let plain = cipher.open(text)?;
        let json: serde_json::Value =
            serde_json::from_slice(&plain).map_err(|e| StateError::Corrupt {
                path: p.clone(),
                message: e.to_string(),
            })?;
        let unknown_inside = s.unknown.iter().any(|u| u == p);
        let inner = if unknown_inside {
            Value::Unknown
        } else {
            Value::from_json(&json)
        };
        set(&mut v, &path, inner.sensitive());
    }
    for p in &s.unknown {
        if s.sensitive.contains(p) {
            continue;
        }
        let path = parse_path(p)?;
        set(&mut v, &path, Value::Unknown);
    }
    Ok(v)
}

fn time_text(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn parse_time(text: &str, what: &str) -> Result<OffsetDateTime, StateError> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|e| StateError::Corrupt {
        path: what.to_string(),
        message: format!("bad time {text:?}: {e}"),
    })
}

/// One resource instance as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredInstance {
    pub address: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub provider: String,
    pub schema_version: u64,
    pub attributes: StoredValue,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub create_before_destroy: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub prevent_destroy: bool,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tainted: bool,
    /// Set on the old object of an unfinished create-before-destroy replacement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deposed: Option<String>,
}

pub fn encode_instance(
    addr: &InstanceAddress,
    i: &ResourceInstance,
    cipher: &Cipher,
) -> Result<StoredInstance, StateError> {
    Ok(StoredInstance {
        address: addr.to_string(),
        type_name: addr.resource.type_name.clone(),
        provider: i.provider.clone(),
        schema_version: i.schema_version,
        attributes: encode_value(&i.attributes, cipher)?,
        dependencies: i.dependencies.iter().map(ToString::to_string).collect(),
        create_before_destroy: i.create_before_destroy,
        prevent_destroy: i.prevent_destroy,
        created_at: time_text(i.created_at),
        tainted: i.tainted,
        deposed: None,
    })
}

pub fn decode_instance(
    s: &StoredInstance,
    cipher: &Cipher,
) -> Result<(InstanceAddress, ResourceInstance), StateError> {
    let corrupt = |m: String| StateError::Corrupt {
        path: s.address.clone(),
        message: m,
    };
    let address: InstanceAddress = s
        .address
        .parse()
        .map_err(|e: omniform_core::AddressParseError| corrupt(e.to_string()))?;
    let dependencies = s
        .dependencies
        .iter()
        .map(|d| {
            d.parse::<ResourceAddress>()
                .map_err(|e| corrupt(e.to_string()))
        })
        .collect::<Result<_, _>>()?;
    Ok((
        address,
        ResourceInstance {
            provider: s.provider.clone(),
            schema_version: s.schema_version,
            attributes: decode_value(&s.attributes, cipher)?,
            dependencies,
            create_before_destroy: s.create_before_destroy,
            prevent_destroy: s.prevent_destroy,
            created_at: parse_time(&s.created_at, &s.address)?,
            tainted: s.tainted,
        },
    ))
}

/// An output as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredOutput {
    pub value: StoredValue,
    #[serde(default)]
    pub sensitive: bool,
}

/// A snapshot file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSnapshot {
    pub format_version: u32,
    pub stack: String,
    pub lineage: String,
    pub serial: u64,
    pub omniform_version: String,
    pub written_at: String,
    /// What wrote it: apply, destroy, rollback, state rm, import, recovered...
    pub operation: String,
    pub changes: ChangeCounts,
    /// A sealed constant: a wrong key fails here before anything else is read.
    pub key_check: String,
    pub resources: Vec<StoredInstance>,
    pub outputs: BTreeMap<String, StoredOutput>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deposed: Vec<StoredInstance>,
}

/// The header of a snapshot file, for history listings.
#[derive(Debug, Clone, Deserialize)]
pub struct StoredHeader {
    pub format_version: u32,
    pub serial: u64,
    pub omniform_version: String,
    pub written_at: String,
    pub operation: String,
    pub changes: ChangeCounts,
    pub resources: Vec<serde::de::IgnoredAny>,
}

pub fn encode_snapshot(
    s: &Snapshot,
    operation: &str,
    changes: ChangeCounts,
    cipher: &Cipher,
) -> Result<Vec<u8>, StateError> {
    let stored = StoredSnapshot {
        format_version: FORMAT_VERSION,
        stack: s.stack.clone(),
        lineage: s.lineage.clone(),
        serial: s.serial,
        omniform_version: s.omniform_version.clone(),
        written_at: time_text(s.written_at),
        operation: operation.to_string(),
        changes,
        key_check: cipher.key_check()?,
        resources: s
            .resources
            .iter()
            .map(|(a, i)| encode_instance(a, i, cipher))
            .collect::<Result<_, _>>()?,
        outputs: s
            .outputs
            .iter()
            .map(|(k, o)| {
                let value = if o.sensitive {
                    o.value.clone().sensitive()
                } else {
                    o.value.clone()
                };
                Ok((
                    k.clone(),
                    StoredOutput {
                        value: encode_value(&value, cipher)?,
                        sensitive: o.sensitive,
                    },
                ))
            })
            .collect::<Result<_, StateError>>()?,
        deposed: s
            .deposed
            .iter()
            .map(|d| encode_deposed(d, cipher))
            .collect::<Result<_, _>>()?,
    };
    let mut bytes = serde_json::to_vec_pretty(&stored).expect("snapshots serialize");
    bytes.push(b'\n');
    Ok(bytes)
}

pub fn decode_snapshot(bytes: &[u8], path: &str, cipher: &Cipher) -> Result<Snapshot, StateError> {
    let stored: StoredSnapshot =
        serde_json::from_slice(bytes).map_err(|e| StateError::Corrupt {
            path: path.into(),
            message: e.to_string(),
        })?;
    if stored.format_version > FORMAT_VERSION {
        return Err(StateError::Corrupt {
            path: path.into(),
            message: format!(
                "written in state format {} by omniform {}, which is newer than this omniform ({}); upgrade omniform",
                stored.format_version,
                stored.omniform_version,
                env!("CARGO_PKG_VERSION")
            ),
        });
    }
    cipher.verify(&stored.key_check)?;
    let mut resources = BTreeMap::new();
    for r in &stored.resources {
        let (a, i) = decode_instance(r, cipher)?;
        resources.insert(a, i);
    }
    let mut outputs = BTreeMap::new();
    for (k, o) in &stored.outputs {
        let value = decode_value(&o.value, cipher)?;
        let value = if o.sensitive {
            value.peel().clone()
        } else {
            value
        };
        outputs.insert(
            k.clone(),
            OutputState {
                value,
                sensitive: o.sensitive,
            },
        );
    }
    Ok(Snapshot {
        stack: stored.stack,
        lineage: stored.lineage,
        serial: stored.serial,
        omniform_version: stored.omniform_version,
        written_at: parse_time(&stored.written_at, path)?,
        resources,
        outputs,
        deposed: stored
            .deposed
            .iter()
            .map(|d| decode_deposed(d, cipher))
            .collect::<Result<_, _>>()?,
    })
}

fn encode_deposed(d: &DeposedObject, cipher: &Cipher) -> Result<StoredInstance, StateError> {
    let mut stored = encode_instance(&d.address, &d.instance, cipher)?;
    stored.deposed = Some(d.key.clone());
    Ok(stored)
}

fn decode_deposed(s: &StoredInstance, cipher: &Cipher) -> Result<DeposedObject, StateError> {
    let (address, instance) = decode_instance(s, cipher)?;
    Ok(DeposedObject {
        address,
        key: s.deposed.clone().unwrap_or_default(),
        instance,
    })
}

/// A line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JournalLine {
    /// The first line: which snapshot the operations apply on top of.
    Begin {
        stack: String,
        lineage: String,
        base_serial: u64,
        key_check: String,
        started_at: String,
    },
    Put {
        instance: StoredInstance,
    },
    Remove {
        address: String,
    },
    Depose {
        old: Box<StoredInstance>,
        replacement: Box<StoredInstance>,
    },
    DropDeposed {
        address: String,
        key: String,
    },
}

pub fn encode_op(op: &StateOp, cipher: &Cipher) -> Result<JournalLine, StateError> {
    Ok(match op {
        StateOp::Put { address, instance } => JournalLine::Put {
            instance: encode_instance(address, instance, cipher)?,
        },
        StateOp::Remove { address } => JournalLine::Remove {
            address: address.to_string(),
        },
        StateOp::Depose { old, replacement } => JournalLine::Depose {
            old: Box::new(encode_deposed(old, cipher)?),
            replacement: Box::new(encode_instance(&old.address, replacement, cipher)?),
        },
        StateOp::DropDeposed { address, key } => JournalLine::DropDeposed {
            address: address.to_string(),
            key: key.clone(),
        },
    })
}

pub fn decode_op(line: &JournalLine, cipher: &Cipher) -> Result<Option<StateOp>, StateError> {
    Ok(match line {
        JournalLine::Begin { .. } => None,
        JournalLine::Put { instance } => {
            let (address, instance) = decode_instance(instance, cipher)?;
            Some(StateOp::Put { address, instance })
        }
        JournalLine::Remove { address } => Some(StateOp::Remove {
            address: journal_address(address)?,
        }),
        JournalLine::Depose { old, replacement } => Some(StateOp::Depose {
            old: decode_deposed(old, cipher)?,
            replacement: decode_instance(replacement, cipher)?.1,
        }),
        JournalLine::DropDeposed { address, key } => Some(StateOp::DropDeposed {
            address: journal_address(address)?,
            key: key.clone(),
        }),
    })
}

fn journal_address(text: &str) -> Result<InstanceAddress, StateError> {
    text.parse()
        .map_err(|e: omniform_core::AddressParseError| StateError::Corrupt {
            path: "journal".into(),
            message: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> Cipher {
        Cipher::generate("test").unwrap().0
    }

    #[test]
    fn values_round_trip_with_marks() {
        let c = cipher();
        let v = Value::map([
            ("plain", Value::from("x")),
            ("secret", Value::from("hunter2").sensitive()),
            (
                "nested",
                Value::map([
                    ("token", Value::map([("a", 1)]).sensitive()),
                    ("later", Value::Unknown),
                ]),
            ),
            ("list", Value::List(vec![Value::from(1), Value::Unknown])),
        ]);
        let stored = encode_value(&v, &c).unwrap();
        let text = serde_json::to_string(&stored).unwrap();
        assert!(!text.contains("hunter2"), "{text}");
        assert_eq!(stored.sensitive, vec!["nested.token", "secret"]);
        let back = decode_value(&stored, &c).unwrap();
        assert_eq!(back, v);
        assert_eq!(back.sensitive_paths(), v.sensitive_paths());
        assert!(
            back.get_path(&"nested.later".parse().unwrap())
                .unwrap()
                .is_unknown()
        );
    }

    #[test]
    fn a_wholly_sensitive_value_round_trips() {
        let c = cipher();
        let v = Value::from("s3cret").sensitive();
        let stored = encode_value(&v, &c).unwrap();
        assert_eq!(stored.sensitive, vec![""]);
        assert!(decode_value(&stored, &c).unwrap().is_sensitive());
    }

    #[test]
    fn snapshots_round_trip() {
        let c = cipher();
        let mut s = Snapshot::empty("demo");
        s.ensure_lineage();
        s.serial = 7;
        s.resources.insert(
            "random_password.db".parse().unwrap(),
            ResourceInstance {
                provider: "builtin".into(),
                schema_version: 0,
                attributes: Value::map([
                    ("length", Value::from(8)),
                    ("result", Value::from("pa55word").sensitive()),
                ]),
                dependencies: vec!["omniform_data.a".parse().unwrap()],
                create_before_destroy: true,
                prevent_destroy: false,
                created_at: OffsetDateTime::UNIX_EPOCH,
                tainted: false,
            },
        );
        s.outputs.insert(
            "pw".into(),
            OutputState {
                value: Value::from("pa55word"),
                sensitive: true,
            },
        );
        let bytes = encode_snapshot(
            &s,
            "apply",
            ChangeCounts {
                added: 1,
                changed: 0,
                destroyed: 0,
            },
            &c,
        )
        .unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains("pa55word"));
        let back = decode_snapshot(&bytes, "x", &c).unwrap();
        assert_eq!(back, s);
        let other = cipher();
        assert!(matches!(
            decode_snapshot(&bytes, "x", &other),
            Err(StateError::WrongKey { .. })
        ));
    }
}
