//! The omniform engine: checks a stack against resource schemas, builds its dependency graph,
//! refreshes state, diffs it into a plan, and carries plans out.

pub mod apply;
pub mod events;
pub mod graph;
pub mod plan;
pub mod providers;
pub mod refresh;
pub mod rollback;
pub mod validate;

pub use apply::{ApplyOptions, ApplyReport, Desired, apply};
pub use events::{Event, Hooks, NoHooks, announce_plan};
pub use graph::StackGraph;
pub use plan::{PlanOptions, plan};
pub use providers::ProviderSet;
pub use refresh::{Refreshed, refresh};
pub use rollback::rollback_plan;
pub use validate::validate;
