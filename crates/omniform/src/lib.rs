//! Omniform: infrastructure as code, as a library.
//!
//! Build a stack in code (or load a TOML stack file), plan it against the prior state, and
//! read the plan as data:
//!
//! ```
//! use omniform::build::{OmniformData, ResourceDef, StackBuilder};
//! use omniform::{Engine, Value};
//!
//! let mut stack = StackBuilder::new("demo");
//! let network = stack.add(OmniformData::new("network").input(Value::map([("cidr", "10.0.0.0/16")])));
//! stack.add(OmniformData::new("server").count(2).input(Value::map([("net", network.id())])));
//! let stack = stack.build().unwrap();
//!
//! let engine = Engine::new();
//! let plan = engine.plan_fresh(&stack).unwrap();
//! assert_eq!(plan.summary().add, 3);
//! ```
//!
//! This crate is the only API boundary for embedders; the `omniform-*` crates behind it
//! may change shape.

pub mod build;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

pub use omniform_core::{
    Action, ActionReason, AttrPath, Diagnostic, Diagnostics, InstanceAddress, InstanceKey,
    OutputChange, Plan, PlanMode, ResourceAddress, ResourceChange, ResourceSchema, Severity,
    Summary, Value,
};
pub use omniform_engine::{PlanOptions, ProviderSet, StackGraph};
pub use omniform_provider::Provider;
pub use omniform_render as render;
pub use omniform_stack::{SourceFile, Stack, VarType, VariableInputs};
pub use omniform_state::Snapshot;
pub use time::{self, OffsetDateTime};

/// Reads and parses a stack file.
pub fn load_stack(path: &Path) -> Result<Stack, Diagnostics> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Diagnostics::from(
            Diagnostic::error(format!("reading stack file {}: {e}", path.display())).with_hint(
                "check the path; a stack file is a TOML file such as stacks/quickstart/stack.toml",
            ),
        )
    })?;
    omniform_stack::parse(SourceFile::new(path.display().to_string(), text))
}

/// Parses a stack from a file's contents.
pub fn parse_stack(file: SourceFile) -> Result<Stack, Diagnostics> {
    omniform_stack::parse(file)
}

/// Resolves the stack's variables from defaults and the given inputs.
pub fn resolve_variables(
    stack: &Stack,
    inputs: &VariableInputs,
) -> Result<BTreeMap<String, Value>, Diagnostics> {
    omniform_stack::resolve_variables(stack, inputs)
}

/// The engine with its providers.
#[derive(Debug, Clone)]
pub struct Engine {
    providers: ProviderSet,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

impl Engine {
    /// An engine with the built-in resource types (`omniform_data`, `random_id`,
    /// `random_password`).
    pub fn new() -> Self {
        Self {
            providers: ProviderSet::new().with(Arc::new(omniform_builtin::Builtin::new())),
        }
    }

    /// Adds a provider.
    pub fn with_provider(mut self, provider: Arc<dyn Provider>) -> Self {
        self.providers.add(provider);
        self
    }

    pub fn providers(&self) -> &ProviderSet {
        &self.providers
    }

    /// Checks a stack against the resource schemas without computing anything.
    pub fn validate(&self, stack: &Stack) -> Diagnostics {
        omniform_engine::validate(stack, &self.providers)
    }

    /// Plans a stack against a prior state.
    pub fn plan(
        &self,
        stack: &Stack,
        variables: &BTreeMap<String, Value>,
        prior: &Snapshot,
        options: &PlanOptions,
    ) -> Result<Plan, Diagnostics> {
        omniform_engine::plan(stack, variables, prior, &self.providers, options)
    }

    /// Plans a stack that was never applied, with its variables' defaults.
    pub fn plan_fresh(&self, stack: &Stack) -> Result<Plan, Diagnostics> {
        let vars = resolve_variables(stack, &VariableInputs::default())?;
        self.plan(
            stack,
            &vars,
            &Snapshot::empty(&stack.name),
            &PlanOptions::new(OffsetDateTime::now_utc()),
        )
    }
}
