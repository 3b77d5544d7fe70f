//! State: what omniform knows exists. The [`Snapshot`] model here is what the engine reads
//! and writes; the on-disk format and the stores are kept apart from it.

pub mod snapshot;

pub use snapshot::{OutputState, ResourceInstance, Snapshot};
