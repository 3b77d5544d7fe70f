//! The omniform engine: checks a stack against resource schemas, builds its dependency graph,
//! diffs it against the prior state into a plan, and carries plans out.

pub mod graph;
pub mod plan;
pub mod providers;
pub mod validate;

pub use graph::StackGraph;
pub use plan::{PlanOptions, plan};
pub use providers::ProviderSet;
pub use validate::validate;
