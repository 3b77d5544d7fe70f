//! The state snapshot model: every resource instance omniform manages, with its attributes
//! (sensitive parts marked), direct dependencies and lifecycle flags.

use std::collections::BTreeMap;

use omniform_core::{InstanceAddress, ResourceAddress, Value};
use time::OffsetDateTime;

/// One resource instance as recorded in state.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceInstance {
    pub provider: String,
    pub schema_version: u64,
    /// The object's attributes; sensitive parts carry the sensitive mark.
    pub attributes: Value,
    /// Direct dependencies only (never transitive ones).
    pub dependencies: Vec<ResourceAddress>,
    pub create_before_destroy: bool,
    /// Kept in state so that removing the block from the stack does not bypass it.
    pub prevent_destroy: bool,
    /// When the object was created; rotation periods count from here.
    pub created_at: OffsetDateTime,
    /// A create that did not finish: the object must be made again.
    pub tainted: bool,
}

/// An output value as recorded in state.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputState {
    pub value: Value,
    pub sensitive: bool,
}

/// The state of one stack at one serial.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub stack: String,
    /// A random id made at the first apply; it never changes for the life of the state.
    pub lineage: String,
    /// Grows by one per write.
    pub serial: u64,
    /// The omniform version that wrote the snapshot.
    pub omniform_version: String,
    pub written_at: OffsetDateTime,
    pub resources: BTreeMap<InstanceAddress, ResourceInstance>,
    pub outputs: BTreeMap<String, OutputState>,
}

impl Snapshot {
    /// The state of a stack that was never applied.
    pub fn empty(stack: &str) -> Self {
        Self {
            stack: stack.to_string(),
            lineage: String::new(),
            serial: 0,
            omniform_version: String::new(),
            written_at: OffsetDateTime::UNIX_EPOCH,
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
        }
    }

    /// True for a stack that was never applied.
    pub fn is_new(&self) -> bool {
        self.lineage.is_empty()
    }

    /// The instances of one resource block.
    pub fn instances_of<'a>(
        &'a self,
        addr: &'a ResourceAddress,
    ) -> impl Iterator<Item = (&'a InstanceAddress, &'a ResourceInstance)> + 'a {
        let start = addr.instance(None);
        self.resources
            .range(start..)
            .take_while(move |(a, _)| &a.resource == addr)
    }
}
