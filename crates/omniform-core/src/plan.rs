//! The plan as data: what will happen to each resource instance and each output, and why.
//!
//! | action | `before` | `after` |
//! |---|---|---|
//! | `NoOp` | the prior state | the same value |
//! | `Create` | `None` | the planned value, with unknowns |
//! | `Update` | the prior state | the planned value, with unknowns |
//! | `DeleteThenCreate` | the prior state of the old object | the planned value of the new one |
//! | `CreateThenDelete` | as `DeleteThenCreate`; the new object exists before the old one goes | |
//! | `Delete` | the prior state | `None` |
//! | `Read` | the prior state, or `None` | the value read back (refresh-only plans) |

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::address::{InstanceAddress, ResourceAddress};
use crate::diag::Diagnostic;
use crate::path::AttrPath;
use crate::value::Value;

/// What happens to one resource instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    NoOp,
    Create,
    Read,
    Update,
    DeleteThenCreate,
    CreateThenDelete,
    Delete,
}

impl Action {
    /// The symbol Terraform prints for the action.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Read => "<=",
            Action::Update => "~",
            Action::DeleteThenCreate => "-/+",
            Action::CreateThenDelete => "+/-",
            Action::Delete => "-",
        }
    }

    /// The `change.actions` list of Terraform's JSON plan.
    pub fn json_actions(self) -> &'static [&'static str] {
        match self {
            Action::NoOp => &["no-op"],
            Action::Create => &["create"],
            Action::Read => &["read"],
            Action::Update => &["update"],
            Action::DeleteThenCreate => &["delete", "create"],
            Action::CreateThenDelete => &["create", "delete"],
            Action::Delete => &["delete"],
        }
    }

    pub fn is_replace(self) -> bool {
        matches!(self, Action::DeleteThenCreate | Action::CreateThenDelete)
    }

    /// True for anything that removes an existing object.
    pub fn destroys(self) -> bool {
        self.is_replace() || self == Action::Delete
    }

    /// The phrase after the address in `# <addr> will be created`.
    pub fn phrase(self) -> &'static str {
        match self {
            Action::NoOp => "is unchanged",
            Action::Create => "will be created",
            Action::Read => "will be read",
            Action::Update => "will be updated in-place",
            Action::DeleteThenCreate | Action::CreateThenDelete => "must be replaced",
            Action::Delete => "will be destroyed",
        }
    }
}

/// Why a resource is replaced or deleted, with Terraform's `action_reason` codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionReason {
    /// An attribute that cannot be updated in place changed (see `replace_paths`).
    ReplaceBecauseCannotUpdate,
    /// The user asked for the replacement.
    ReplaceByRequest,
    /// A previous create failed half-way; the object must be made again.
    ReplaceBecauseTainted,
    /// A value with a rotation period is older than the period.
    ReplaceBecauseRotationDue,
    /// The resource block is gone from the stack.
    DeleteBecauseNoResourceConfig,
    /// The instance's index is beyond the new `count`.
    DeleteBecauseCountIndex,
    /// The instance's key is no longer in `for_each`.
    DeleteBecauseEachKey,
    /// The block switched between single, `count` and `for_each`.
    DeleteBecauseWrongRepetition,
    /// The object was deleted outside omniform and will be made again.
    CreateBecauseDeletedOutside,
}

impl ActionReason {
    pub fn code(self) -> &'static str {
        match self {
            ActionReason::ReplaceBecauseCannotUpdate => "replace_because_cannot_update",
            ActionReason::ReplaceByRequest => "replace_by_request",
            ActionReason::ReplaceBecauseTainted => "replace_because_tainted",
            ActionReason::ReplaceBecauseRotationDue => "replace_because_rotation_due",
            ActionReason::DeleteBecauseNoResourceConfig => "delete_because_no_resource_config",
            ActionReason::DeleteBecauseCountIndex => "delete_because_count_index",
            ActionReason::DeleteBecauseEachKey => "delete_because_each_key",
            ActionReason::DeleteBecauseWrongRepetition => "delete_because_wrong_repetition",
            ActionReason::CreateBecauseDeletedOutside => "create_because_deleted_outside",
        }
    }
}

impl fmt::Display for ActionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The planned change of one resource instance.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceChange {
    pub address: InstanceAddress,
    pub action: Action,
    pub reason: Option<ActionReason>,
    /// A sentence for people, such as "rotation due: created 91 days ago".
    pub reason_detail: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    /// The attributes whose change forces the replacement.
    pub replace_paths: Vec<AttrPath>,
    /// The name of the provider that manages the resource type.
    pub provider: String,
    pub schema_version: u64,
    /// Direct dependencies only, as written in the stack (or recorded in state).
    pub dependencies: Vec<ResourceAddress>,
    pub prevent_destroy: bool,
    /// The key of the deposed object this change deletes: the old object of an unfinished
    /// create-before-destroy replacement, which shares its address with the current one.
    pub deposed: Option<String>,
}

impl ResourceChange {
    /// Attribute paths whose value differs between `before` and `after`, at the leaves.
    pub fn changed_paths(&self) -> Vec<AttrPath> {
        let mut out = Vec::new();
        diff_paths(
            self.before.as_ref().unwrap_or(&Value::Null),
            self.after.as_ref().unwrap_or(&Value::Null),
            &mut AttrPath::root(),
            &mut out,
        );
        out
    }
}

/// Collects the paths at which two values differ, descending into maps and equal-length
/// lists.
pub fn diff_paths(before: &Value, after: &Value, at: &mut AttrPath, out: &mut Vec<AttrPath>) {
    // Most values of most plans are unchanged; comparing costs no allocation.
    if before == after && after.is_wholly_known() {
        return;
    }
    match (before.peel(), after.peel()) {
        (Value::Map(a), Value::Map(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                at.push(crate::path::PathStep::Key(k.clone()));
                diff_paths(
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                    at,
                    out,
                );
                at.pop();
            }
        }
        (Value::List(a), Value::List(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                at.push(crate::path::PathStep::Index(i));
                diff_paths(x, y, at, out);
                at.pop();
            }
        }
        (a, b) => {
            if a != b {
                out.push(at.clone());
            }
        }
    }
}

/// The planned change of one output value.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputChange {
    pub name: String,
    pub action: Action,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub sensitive: bool,
}

/// What kind of plan this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlanMode {
    #[default]
    Normal,
    /// Destroy everything in state.
    Destroy,
    /// Only bring the state up to date with what exists.
    RefreshOnly,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
    pub unchanged: usize,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} to add, {} to change, {} to destroy",
            self.add, self.change, self.destroy
        )
    }
}

/// API calls made while refreshing, per service, with how long refresh took.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshStats {
    pub calls: BTreeMap<String, u64>,
    pub resources: usize,
    pub millis: u64,
}

impl RefreshStats {
    pub fn total_calls(&self) -> u64 {
        self.calls.values().sum()
    }
}

/// The whole plan of a stack.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub stack: String,
    pub mode: PlanMode,
    /// One entry per resource instance in the stack or the prior state, sorted by address.
    pub changes: Vec<ResourceChange>,
    /// Objects that changed outside omniform since the last apply.
    pub drift: Vec<ResourceChange>,
    pub outputs: Vec<OutputChange>,
    /// The variables the plan was made with (sensitive ones marked).
    pub variables: BTreeMap<String, Value>,
    /// The lineage and serial of the state the plan was made against.
    pub prior_lineage: Option<String>,
    pub prior_serial: Option<u64>,
    pub targets: Vec<String>,
    pub excludes: Vec<String>,
    pub warnings: Vec<Diagnostic>,
    pub refresh: Option<RefreshStats>,
    /// When the plan was made, RFC 3339.
    pub timestamp: String,
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            match c.action {
                Action::Create => s.add += 1,
                Action::Update => s.change += 1,
                Action::Delete => s.destroy += 1,
                Action::DeleteThenCreate | Action::CreateThenDelete => {
                    s.add += 1;
                    s.destroy += 1;
                }
                Action::NoOp | Action::Read => s.unchanged += 1,
            }
        }
        s
    }

    /// True when applying the plan would change anything: resources, outputs, or (in a
    /// refresh-only plan) the recorded state.
    pub fn has_changes(&self) -> bool {
        self.changes
            .iter()
            .any(|c| !matches!(c.action, Action::NoOp | Action::Read))
            || self.outputs.iter().any(|o| o.action != Action::NoOp)
            || (self.mode == PlanMode::RefreshOnly && !self.drift.is_empty())
    }

    /// The changes that do something, in address order.
    pub fn actionable(&self) -> impl Iterator<Item = &ResourceChange> {
        self.changes.iter().filter(|c| c.action != Action::NoOp)
    }
}
