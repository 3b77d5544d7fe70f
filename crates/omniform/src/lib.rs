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
pub mod planfile;
pub mod state;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

pub use omniform_core::{
    Action, ActionReason, AttrPath, Diagnostic, Diagnostics, InstanceAddress, InstanceKey,
    OutputChange, Plan, PlanMode, ResourceAddress, ResourceChange, ResourceSchema, Severity,
    Summary, Value,
};
pub use omniform_engine::{
    ApplyOptions, ApplyReport, Desired, Event, Hooks, NoHooks, PlanOptions, ProviderSet, Refreshed,
    StackGraph,
};
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
    let file = SourceFile::new(path.display().to_string(), text);
    let Some(variant) = omniform_stack::parse_variant(&file)? else {
        return omniform_stack::parse(file);
    };
    // A variant (`[stack] extends`): the base file, under the variant's name and values.
    let base_path = path
        .parent()
        .unwrap_or(Path::new(""))
        .join(&variant.extends);
    let at = || Some(variant.extends_location());
    let text = std::fs::read_to_string(&base_path).map_err(|e| {
        Diagnostics::from(
            Diagnostic::error(format!(
                "reading the stack file it extends, {}: {e}",
                base_path.display()
            ))
            .with_location(at())
            .with_hint("`extends` is a path relative to this file, such as \"production.toml\""),
        )
    })?;
    let base = SourceFile::new(base_path.display().to_string(), text);
    if omniform_stack::parse_variant(&base)?.is_some() {
        return Err(Diagnostics::from(
            Diagnostic::error(format!(
                "{} extends another stack itself",
                base_path.display()
            ))
            .with_location(at())
            .with_hint("extend the stack file that declares the resources; variants do not chain"),
        ));
    }
    Ok(omniform_stack::parse(base)?.with_variant(variant))
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

/// What [`Engine::apply_recorded`] did.
#[derive(Debug, Clone)]
pub struct Applied {
    pub report: ApplyReport,
    /// The serial written, or `None` when nothing changed.
    pub serial: Option<u64>,
    /// The state as written (or as it stands, when nothing changed).
    pub state: Snapshot,
}

/// Records nothing: for applies that only change outputs.
struct NoRecorder;

impl state::Recorder for NoRecorder {
    fn record(&self, _op: &state::StateOp) -> Result<(), state::StateError> {
        Ok(())
    }
}

/// Under the state lock: folds a journal left by an interrupted apply into a new snapshot,
/// then reads the newest state. Returns how many operations were recovered.
pub fn recover_and_read(
    store: &dyn state::StateStore,
    stack: &str,
) -> Result<(usize, Snapshot), state::StateError> {
    let recovered = store.recover()?;
    let snapshot = store
        .read_latest()?
        .unwrap_or_else(|| Snapshot::empty(stack));
    Ok((recovered, snapshot))
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
    /// `random_password`) and the AWS provider.
    pub fn new() -> Self {
        Self {
            providers: ProviderSet::new()
                .with(Arc::new(omniform_builtin::Builtin::new()))
                .with(Arc::new(omniform_aws::Aws::new())),
        }
    }

    /// Configures the providers that serve `types` from the stack's `[provider.*]` blocks
    /// (credentials are checked here, before any resource is touched). Providers nothing
    /// needs are left alone: a plan against empty state needs no cloud account.
    pub async fn configure<'a>(
        &self,
        stack: &Stack,
        variables: &BTreeMap<String, Value>,
        types: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), Diagnostics> {
        self.providers.configure(stack, variables, types).await
    }

    /// Configures the providers a plan's changes need.
    pub async fn configure_for_plan(
        &self,
        stack: &Stack,
        variables: &BTreeMap<String, Value>,
        plan: &Plan,
    ) -> Result<(), Diagnostics> {
        let types: std::collections::BTreeSet<&str> = plan
            .actionable()
            .map(|c| c.address.resource.type_name.as_str())
            .collect();
        self.configure(stack, variables, types).await
    }

    /// Configures what refreshing `prior` needs, then refreshes it.
    pub async fn refresh_for(
        &self,
        stack: &Stack,
        variables: &BTreeMap<String, Value>,
        prior: &Snapshot,
        hooks: &dyn Hooks,
    ) -> Result<Refreshed, Diagnostics> {
        let types: std::collections::BTreeSet<&str> = prior
            .resources
            .keys()
            .map(|a| a.resource.type_name.as_str())
            .collect();
        self.configure(stack, variables, types).await?;
        self.refresh(prior, hooks).await
    }

    /// Reads an existing object into a state instance for `address`, which the stack must
    /// declare. The caller records it.
    pub async fn import_resource(
        &self,
        stack: &Stack,
        variables: &BTreeMap<String, Value>,
        address: &InstanceAddress,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<state::ResourceInstance, Diagnostics> {
        let Some(block) = stack.resource(&address.resource) else {
            return Err(Diagnostic::error(format!(
                "cannot import into {address}: the stack declares no {}",
                address.resource
            ))
            .with_address(address)
            .with_hint(format!(
                "add a [resource.{}.{}] block for it first, then import",
                address.resource.type_name, address.resource.name
            ))
            .into());
        };
        let keyed = !matches!(block.repetition, omniform_stack::Repetition::Single);
        if keyed != address.key.is_some() {
            return Err(Diagnostic::error(format!(
                "cannot import into {address}: the address does not match the block"
            ))
            .with_location(stack.locate(block.span))
            .with_address(address)
            .with_hint(if keyed {
                format!(
                    "{} has count or for_each; give the instance key, like {}[0]",
                    address.resource, address.resource
                )
            } else {
                format!(
                    "{} has no count or for_each; leave out the key",
                    address.resource
                )
            })
            .into());
        }
        let Some((provider, schema)) = self.providers.get(&address.resource.type_name) else {
            return Err(Diagnostic::error(format!(
                "unknown resource type `{}`",
                address.resource.type_name
            ))
            .into());
        };
        self.configure(stack, variables, [address.resource.type_name.as_str()])
            .await?;
        let mut attributes = provider
            .import(omniform_provider::ImportRequest {
                address: address.clone(),
                type_name: address.resource.type_name.clone(),
                id: id.to_string(),
            })
            .await
            .map_err(|e| Diagnostics::from(Diagnostic::error(e.message).with_address(address).with_hint("check the id: the one the cloud gives the object, such as i-0abc123 for an instance, eipalloc-... for an elastic IP, ZONEID_NAME_TYPE for a DNS record, or a secret's name or ARN")))?;
        schema.mark_sensitive(&mut attributes);
        let graph = StackGraph::build(stack);
        Ok(state::ResourceInstance {
            provider: provider.name().to_string(),
            schema_version: schema.version,
            attributes,
            dependencies: graph.dependencies_of(&address.resource),
            create_before_destroy: block.lifecycle.create_before_destroy,
            prevent_destroy: block.lifecycle.prevent_destroy,
            created_at: now,
            tainted: false,
        })
    }

    /// An engine with exactly these providers.
    pub fn from_providers(providers: ProviderSet) -> Self {
        Self { providers }
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

    /// Reads the live state of everything in `prior`, batched per resource type.
    pub async fn refresh(
        &self,
        prior: &Snapshot,
        hooks: &dyn Hooks,
    ) -> Result<Refreshed, Diagnostics> {
        omniform_engine::refresh(prior, &self.providers, hooks).await
    }

    /// Plans against freshly read state: drift goes into the plan, and objects deleted
    /// outside omniform are planned for re-creation with that reason. Each change is
    /// announced to `hooks`.
    pub fn plan_refreshed(
        &self,
        stack: &Stack,
        variables: &BTreeMap<String, Value>,
        refreshed: &Refreshed,
        options: &PlanOptions,
        hooks: &dyn Hooks,
    ) -> Result<Plan, Diagnostics> {
        let mut plan = self.plan(stack, variables, &refreshed.state, options)?;
        let deleted: std::collections::HashSet<&InstanceAddress> = refreshed
            .drift
            .iter()
            .filter(|d| d.action == Action::Delete)
            .map(|d| &d.address)
            .collect();
        for c in &mut plan.changes {
            if c.action == Action::Create && deleted.contains(&c.address) {
                c.reason = Some(ActionReason::CreateBecauseDeletedOutside);
            }
        }
        plan.drift = refreshed.drift.clone();
        plan.refresh = Some(refreshed.stats.clone());
        omniform_engine::announce_plan(&plan, hooks);
        Ok(plan)
    }

    /// Carries out a plan on top of `prior`, recording each finished operation with
    /// `recorder`. The returned state is the caller's to write as the next serial.
    pub async fn apply(
        &self,
        desired: Desired<'_>,
        plan: &Plan,
        prior: &Snapshot,
        recorder: &dyn state::Recorder,
        hooks: &dyn Hooks,
        options: &ApplyOptions,
    ) -> ApplyReport {
        omniform_engine::apply(
            desired,
            plan,
            prior,
            &self.providers,
            recorder,
            hooks,
            options,
        )
        .await
    }

    /// Applies `plan` and records it: each finished operation goes to the store's journal
    /// as it happens, and the result is written as the serial after `on_disk` (when
    /// anything changed). `base` is the state the plan was made against (refreshed).
    #[allow(clippy::too_many_arguments)]
    pub async fn apply_recorded(
        &self,
        store: &dyn state::StateStore,
        desired: Desired<'_>,
        plan: &Plan,
        base: &Snapshot,
        on_disk: &Snapshot,
        operation: &str,
        hooks: &dyn Hooks,
        options: &ApplyOptions,
    ) -> Result<Applied, state::StateError> {
        let mut base = base.clone();
        base.ensure_lineage();
        base.serial = on_disk.serial;
        let actionable = plan.actionable().count();
        let report = if actionable > 0 {
            let recorder = store.begin_journal(&base)?;
            let report = self
                .apply(desired, plan, &base, recorder.as_ref(), hooks, options)
                .await;
            drop(recorder);
            report
        } else {
            self.apply(desired, plan, &base, &NoRecorder, hooks, options)
                .await
        };
        let mut next = report.state.clone();
        let changed = next.resources != on_disk.resources
            || next.outputs != on_disk.outputs
            || next.deposed != on_disk.deposed
            || (on_disk.is_new() && actionable > 0);
        let serial = if changed {
            next.serial = on_disk.serial + 1;
            next.written_at = OffsetDateTime::now_utc();
            next.omniform_version = env!("CARGO_PKG_VERSION").to_string();
            let counts = next.changes_since(on_disk);
            store.write(&next, operation, counts)?;
            Some(next.serial)
        } else {
            store.discard_journal()?;
            None
        };
        Ok(Applied {
            report,
            serial,
            state: next,
        })
    }

    /// The plan that brings the resources back to `target`, an earlier snapshot.
    pub fn rollback_plan(
        &self,
        current: &Snapshot,
        target: &Snapshot,
        now: OffsetDateTime,
    ) -> Result<Plan, Diagnostics> {
        omniform_engine::rollback_plan(current, target, &self.providers, now)
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
