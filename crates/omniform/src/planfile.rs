//! Saved plans (`omniform plan --out plan.bin`): a versioned file with the plan, the hash of
//! the stack file, the variables, and the lineage and serial of the state it was made
//! against, so `apply plan.bin` applies exactly that plan or refuses it as stale. Secrets in
//! it are sealed with the state's key, like the state itself.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use omniform_core::{
    Action, ActionReason, Diagnostic, InstanceAddress, OutputChange, Plan, PlanMode, RefreshStats,
    ResourceAddress, ResourceChange, Value,
};
use omniform_state::Cipher;
use omniform_state::format::{StoredValue, decode_value, encode_value};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::PlanOptions;

/// The first bytes of every saved plan.
pub const MAGIC: &str = "omniform-plan";
/// The saved-plan format this code writes.
pub const FORMAT_VERSION: u32 = 1;

/// Why a saved plan cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("{path} is not a saved omniform plan")]
    NotAPlan { path: String },
    #[error(
        "{path} was saved in plan format {found} by omniform {by}; this omniform reads format {FORMAT_VERSION}"
    )]
    Version {
        path: String,
        found: u32,
        by: String,
    },
    #[error("saved plan is stale: {reason}")]
    Stale { reason: String },
    #[error("{0}")]
    State(#[from] omniform_state::StateError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

/// The SHA-256 of a stack file's contents, in hex.
pub fn stack_hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A plan with what is needed to apply it later.
#[derive(Debug, Clone)]
pub struct SavedPlan {
    /// The stack file, as an absolute path.
    pub stack_path: PathBuf,
    pub stack_hash: String,
    pub plan: Plan,
    pub variables: BTreeMap<String, Value>,
    pub targets: Vec<InstanceAddress>,
    pub excludes: Vec<InstanceAddress>,
    pub replace: Vec<InstanceAddress>,
}

impl SavedPlan {
    /// Checks the plan against the stack file's current contents and the current state.
    pub fn check_fresh(
        &self,
        stack_text: &str,
        lineage: Option<&str>,
        serial: Option<u64>,
    ) -> Result<(), PlanFileError> {
        if stack_hash(stack_text) != self.stack_hash {
            return Err(PlanFileError::Stale {
                reason: format!(
                    "{} changed after the plan was made; make a new plan",
                    self.stack_path.display()
                ),
            });
        }
        let made = (self.plan.prior_lineage.as_deref(), self.plan.prior_serial);
        if made != (lineage, serial) {
            let show = |s: Option<u64>| {
                s.map(|s| format!("serial {s}"))
                    .unwrap_or_else(|| "no state".into())
            };
            return Err(PlanFileError::Stale {
                reason: format!(
                    "the state changed after the plan was made (the plan was made against {}, the state is now at {}); make a new plan",
                    show(self.plan.prior_serial),
                    show(serial)
                ),
            });
        }
        Ok(())
    }

    /// The plan options it was made with.
    pub fn options(&self, now: time::OffsetDateTime) -> PlanOptions {
        let mut o = PlanOptions::new(now);
        o.mode = self.plan.mode;
        o.targets = self.targets.clone();
        o.excludes = self.excludes.clone();
        o.replace = self.replace.clone();
        o
    }
}

#[derive(Serialize, Deserialize)]
struct ChangeFile {
    address: String,
    action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<ActionReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason_detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    before: Option<StoredValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<StoredValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    replace_paths: Vec<String>,
    provider: String,
    schema_version: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    dependencies: Vec<String>,
    #[serde(default)]
    prevent_destroy: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deposed: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct OutputFile {
    name: String,
    action: Action,
    before: Option<StoredValue>,
    after: Option<StoredValue>,
    sensitive: bool,
}

#[derive(Serialize, Deserialize)]
struct PlanFile {
    magic: String,
    format_version: u32,
    omniform_version: String,
    stack: String,
    stack_path: String,
    stack_hash: String,
    key_check: String,
    mode: PlanMode,
    prior_lineage: Option<String>,
    prior_serial: Option<u64>,
    timestamp: String,
    targets: Vec<String>,
    excludes: Vec<String>,
    replace: Vec<String>,
    variables: BTreeMap<String, StoredValue>,
    changes: Vec<ChangeFile>,
    drift: Vec<ChangeFile>,
    outputs: Vec<OutputFile>,
    warnings: Vec<String>,
    refresh: Option<RefreshStats>,
}

fn enc(v: &Option<Value>, c: &Cipher) -> Result<Option<StoredValue>, PlanFileError> {
    v.as_ref()
        .map(|v| encode_value(v, c))
        .transpose()
        .map_err(Into::into)
}

fn dec(v: &Option<StoredValue>, c: &Cipher) -> Result<Option<Value>, PlanFileError> {
    v.as_ref()
        .map(|v| decode_value(v, c))
        .transpose()
        .map_err(Into::into)
}

fn change_file(ch: &ResourceChange, c: &Cipher) -> Result<ChangeFile, PlanFileError> {
    Ok(ChangeFile {
        address: ch.address.to_string(),
        action: ch.action,
        reason: ch.reason,
        reason_detail: ch.reason_detail.clone(),
        before: enc(&ch.before, c)?,
        after: enc(&ch.after, c)?,
        replace_paths: ch.replace_paths.iter().map(ToString::to_string).collect(),
        provider: ch.provider.clone(),
        schema_version: ch.schema_version,
        dependencies: ch.dependencies.iter().map(ToString::to_string).collect(),
        prevent_destroy: ch.prevent_destroy,
        deposed: ch.deposed.clone(),
    })
}

fn corrupt(path: &str, m: impl std::fmt::Display) -> PlanFileError {
    PlanFileError::State(omniform_state::StateError::Corrupt {
        path: path.to_string(),
        message: m.to_string(),
    })
}

fn change_from(f: &ChangeFile, c: &Cipher, path: &str) -> Result<ResourceChange, PlanFileError> {
    Ok(ResourceChange {
        address: f.address.parse().map_err(|e| corrupt(path, e))?,
        action: f.action,
        reason: f.reason,
        reason_detail: f.reason_detail.clone(),
        before: dec(&f.before, c)?,
        after: dec(&f.after, c)?,
        replace_paths: f
            .replace_paths
            .iter()
            .map(|p| p.parse())
            .collect::<Result<_, _>>()
            .map_err(|e| corrupt(path, e))?,
        provider: f.provider.clone(),
        schema_version: f.schema_version,
        dependencies: f
            .dependencies
            .iter()
            .map(|d| d.parse::<ResourceAddress>())
            .collect::<Result<_, _>>()
            .map_err(|e| corrupt(path, e))?,
        prevent_destroy: f.prevent_destroy,
        deposed: f.deposed.clone(),
    })
}

fn addresses(list: &[String], path: &str) -> Result<Vec<InstanceAddress>, PlanFileError> {
    list.iter()
        .map(|a| a.parse().map_err(|e| corrupt(path, e)))
        .collect()
}

/// The bytes of a saved plan.
pub fn encode(saved: &SavedPlan, cipher: &Cipher) -> Result<Vec<u8>, PlanFileError> {
    let p = &saved.plan;
    let file = PlanFile {
        magic: MAGIC.into(),
        format_version: FORMAT_VERSION,
        omniform_version: env!("CARGO_PKG_VERSION").into(),
        stack: p.stack.clone(),
        stack_path: saved.stack_path.display().to_string(),
        stack_hash: saved.stack_hash.clone(),
        key_check: cipher.key_check()?,
        mode: p.mode,
        prior_lineage: p.prior_lineage.clone(),
        prior_serial: p.prior_serial,
        timestamp: p.timestamp.clone(),
        targets: saved.targets.iter().map(ToString::to_string).collect(),
        excludes: saved.excludes.iter().map(ToString::to_string).collect(),
        replace: saved.replace.iter().map(ToString::to_string).collect(),
        variables: saved
            .variables
            .iter()
            .map(|(k, v)| Ok((k.clone(), encode_value(v, cipher)?)))
            .collect::<Result<_, PlanFileError>>()?,
        changes: p
            .changes
            .iter()
            .map(|c| change_file(c, cipher))
            .collect::<Result<_, _>>()?,
        drift: p
            .drift
            .iter()
            .map(|c| change_file(c, cipher))
            .collect::<Result<_, _>>()?,
        outputs: p
            .outputs
            .iter()
            .map(|o| {
                Ok(OutputFile {
                    name: o.name.clone(),
                    action: o.action,
                    before: enc(&o.before, cipher)?,
                    after: enc(&o.after, cipher)?,
                    sensitive: o.sensitive,
                })
            })
            .collect::<Result<_, PlanFileError>>()?,
        warnings: p.warnings.iter().map(|w| w.summary.clone()).collect(),
        refresh: p.refresh.clone(),
    };
    Ok(serde_json::to_vec(&file).expect("plans serialize"))
}

/// True when `bytes` start like a saved plan.
pub fn looks_like_plan(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64)];
    head.starts_with(format!("{{\"magic\":\"{MAGIC}\"").as_bytes())
}

/// The stack file a saved plan was made from, read without the key.
pub fn stack_path_of(bytes: &[u8], path: &Path) -> Result<PathBuf, PlanFileError> {
    #[derive(Deserialize)]
    struct Head {
        stack_path: String,
    }
    if !looks_like_plan(bytes) {
        return Err(PlanFileError::NotAPlan {
            path: path.display().to_string(),
        });
    }
    let head: Head =
        serde_json::from_slice(bytes).map_err(|e| corrupt(&path.display().to_string(), e))?;
    Ok(PathBuf::from(head.stack_path))
}

/// Reads a saved plan.
pub fn decode(bytes: &[u8], path: &Path, cipher: &Cipher) -> Result<SavedPlan, PlanFileError> {
    let shown = path.display().to_string();
    if !looks_like_plan(bytes) {
        return Err(PlanFileError::NotAPlan { path: shown });
    }
    let f: PlanFile = serde_json::from_slice(bytes).map_err(|e| corrupt(&shown, e))?;
    if f.format_version != FORMAT_VERSION {
        return Err(PlanFileError::Version {
            path: shown,
            found: f.format_version,
            by: f.omniform_version,
        });
    }
    cipher.verify(&f.key_check)?;
    let plan = Plan {
        stack: f.stack.clone(),
        mode: f.mode,
        changes: f
            .changes
            .iter()
            .map(|c| change_from(c, cipher, &shown))
            .collect::<Result<_, _>>()?,
        drift: f
            .drift
            .iter()
            .map(|c| change_from(c, cipher, &shown))
            .collect::<Result<_, _>>()?,
        outputs: f
            .outputs
            .iter()
            .map(|o| {
                Ok(OutputChange {
                    name: o.name.clone(),
                    action: o.action,
                    before: dec(&o.before, cipher)?,
                    after: dec(&o.after, cipher)?,
                    sensitive: o.sensitive,
                })
            })
            .collect::<Result<_, PlanFileError>>()?,
        variables: f
            .variables
            .iter()
            .map(|(k, v)| Ok((k.clone(), decode_value(v, cipher)?)))
            .collect::<Result<_, PlanFileError>>()?,
        prior_lineage: f.prior_lineage.clone(),
        prior_serial: f.prior_serial,
        targets: f.targets.clone(),
        excludes: f.excludes.clone(),
        warnings: f.warnings.iter().map(Diagnostic::warning).collect(),
        refresh: f.refresh.clone(),
        timestamp: f.timestamp.clone(),
    };
    Ok(SavedPlan {
        stack_path: PathBuf::from(&f.stack_path),
        stack_hash: f.stack_hash.clone(),
        variables: plan.variables.clone(),
        targets: addresses(&f.targets, &shown)?,
        excludes: addresses(&f.excludes, &shown)?,
        replace: addresses(&f.replace, &shown)?,
        plan,
    })
}

/// Writes a saved plan to `path` (temporary file, then rename).
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), PlanFileError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|source| PlanFileError::Io {
            context: format!("writing {}", path.display()),
            source,
        })
}
