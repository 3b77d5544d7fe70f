//! The vocabulary every other omniform crate speaks: addresses, values, attribute paths,
//! resource schemas, diagnostics and the plan as documented data.
//!
//! This crate does no IO and knows nothing about TOML, providers or the terminal.

pub mod address;
pub mod diag;
pub mod path;
pub mod plan;
pub mod schema;
pub mod value;

pub use address::{AddressParseError, InstanceAddress, InstanceKey, ResourceAddress};
pub use diag::{Diagnostic, Diagnostics, Location, Severity};
pub use path::{AttrPath, PathStep};
pub use plan::{
    Action, ActionReason, OutputChange, Plan, PlanMode, RefreshStats, ResourceChange, Summary,
};
pub use schema::{AttrType, Attribute, Presence, ResourceSchema, TypeMismatch};
pub use value::{Number, Value};
