//! The state snapshot model: every resource instance omniform manages, with its attributes
//! (sensitive parts marked), direct dependencies and lifecycle flags.

use std::collections::BTreeMap;

use omniform_core::{InstanceAddress, ResourceAddress, Value};
use serde::{Deserialize, Serialize};
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

/// The old object of a create-before-destroy replacement whose delete has not happened yet
/// (the apply was stopped, killed, or the delete failed). The next apply deletes it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeposedObject {
    pub address: InstanceAddress,
    /// Tells deposed objects of one address apart: 8 hex digits, as in Terraform.
    pub key: String,
    pub instance: ResourceInstance,
}

impl DeposedObject {
    /// A fresh random key.
    pub fn new_key() -> String {
        let mut b = [0u8; 4];
        if getrandom::fill(&mut b).is_err() {
            b = (OffsetDateTime::now_utc().unix_timestamp_nanos() as u32).to_le_bytes();
        }
        hex::encode(b)
    }
}

/// An output value as recorded in state.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputState {
    pub value: Value,
    pub sensitive: bool,
}

/// How many resources a write added, changed and destroyed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeCounts {
    pub added: usize,
    pub changed: usize,
    pub destroyed: usize,
}

/// One finished operation, as the journal records it.
#[derive(Debug, Clone, PartialEq)]
pub enum StateOp {
    /// The instance exists with this state (after a create, update or import).
    Put {
        address: InstanceAddress,
        instance: ResourceInstance,
    },
    /// The instance no longer exists.
    Remove { address: InstanceAddress },
    /// A create-before-destroy replacement's new object is in place (`replacement`), and
    /// the old one waits to be deleted: one operation, so no crash falls between the two.
    Depose {
        old: DeposedObject,
        replacement: ResourceInstance,
    },
    /// A deposed object was deleted.
    DropDeposed {
        address: InstanceAddress,
        key: String,
    },
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
    /// Old objects of replacements still to be deleted.
    pub deposed: Vec<DeposedObject>,
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
            deposed: Vec::new(),
        }
    }

    /// True for a stack that was never applied.
    pub fn is_new(&self) -> bool {
        self.lineage.is_empty()
    }

    /// Gives a new state its lineage (a random UUID).
    pub fn ensure_lineage(&mut self) {
        if self.lineage.is_empty() {
            let mut b = [0u8; 16];
            // A lineage only needs to be unique; fall back to the clock if the OS has no
            // randomness to give.
            if getrandom::fill(&mut b).is_err() {
                b[..16].copy_from_slice(
                    &OffsetDateTime::now_utc()
                        .unix_timestamp_nanos()
                        .to_le_bytes(),
                );
            }
            b[6] = (b[6] & 0x0f) | 0x40;
            b[8] = (b[8] & 0x3f) | 0x80;
            let h = hex::encode(b);
            self.lineage = format!(
                "{}-{}-{}-{}-{}",
                &h[0..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..32]
            );
        }
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

    /// Applies one finished operation.
    pub fn apply_op(&mut self, op: StateOp) {
        match op {
            StateOp::Put { address, instance } => {
                self.resources.insert(address, instance);
            }
            StateOp::Remove { address } => {
                self.resources.remove(&address);
            }
            StateOp::Depose { old, replacement } => {
                self.resources.insert(old.address.clone(), replacement);
                self.deposed.push(old);
            }
            StateOp::DropDeposed { address, key } => {
                self.deposed
                    .retain(|d| !(d.address == address && d.key == key));
            }
        }
    }

    /// What changed from `before` to this snapshot, resource by resource.
    pub fn changes_since(&self, before: &Snapshot) -> ChangeCounts {
        let mut c = ChangeCounts::default();
        for (addr, inst) in &self.resources {
            match before.resources.get(addr) {
                None => c.added += 1,
                Some(old) if old != inst => {
                    let old_id = old
                        .attributes
                        .get_path(&omniform_core::AttrPath::attr("id"));
                    let new_id = inst
                        .attributes
                        .get_path(&omniform_core::AttrPath::attr("id"));
                    if old_id.is_some() && old_id != new_id {
                        c.added += 1;
                        c.destroyed += 1;
                    } else {
                        c.changed += 1;
                    }
                }
                Some(_) => {}
            }
        }
        c.destroyed += before
            .resources
            .keys()
            .filter(|a| !self.resources.contains_key(a))
            .count();
        c.destroyed += before
            .deposed
            .iter()
            .filter(|d| {
                !self
                    .deposed
                    .iter()
                    .any(|n| n.key == d.key && n.address == d.address)
            })
            .count();
        c
    }
}
