//! Planning: evaluate every resource instance against the prior state and decide, attribute
//! by attribute, what must happen to it.

use std::collections::{BTreeMap, HashMap, HashSet};

use omniform_core::plan::diff_paths;
use omniform_core::{
    Action, ActionReason, AttrPath, AttrType, Attribute, Diagnostic, Diagnostics, InstanceAddress,
    InstanceKey, OutputChange, PathStep, Plan, PlanMode, Presence, ResourceAddress, ResourceChange,
    ResourceSchema, Value,
};
use omniform_graph::NodeId;
use omniform_provider::{PlanRequest, Provider, ValidateRequest};
use omniform_stack::{
    InstanceScope, Lifecycle, Lookup, Repetition, Resource, ResourceValues, Stack, eval,
};
use omniform_state::{DeposedObject, ResourceInstance, Snapshot};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::graph::StackGraph;
use crate::providers::ProviderSet;
use crate::validate::{did_you_mean, span_at, type_mismatch, validate};

/// What to plan.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub mode: PlanMode,
    /// Plan only these (and what they depend on).
    pub targets: Vec<InstanceAddress>,
    /// Leave out these (and what depends on them).
    pub excludes: Vec<InstanceAddress>,
    /// Replace these even if nothing changed.
    pub replace: Vec<InstanceAddress>,
    /// The clock the plan is made at; rotation periods are measured against it.
    pub now: OffsetDateTime,
}

impl PlanOptions {
    pub fn new(now: OffsetDateTime) -> Self {
        Self {
            mode: PlanMode::Normal,
            targets: Vec::new(),
            excludes: Vec::new(),
            replace: Vec::new(),
            now,
        }
    }
}

/// The values of one block's instances, as references see them while planning.
#[derive(Debug, Clone)]
pub(crate) enum BlockValues {
    Single(Value),
    Many(Vec<(InstanceKey, Value)>),
    Unknown,
}

/// Evaluation of a stack's blocks against values known so far: planned values while
/// planning, applied values while applying.
#[derive(Debug)]
pub(crate) struct Values<'a> {
    pub vars: &'a BTreeMap<String, Value>,
    pub blocks: HashMap<ResourceAddress, BlockValues>,
}

impl Lookup for Values<'_> {
    fn variable(&self, name: &str) -> Option<&Value> {
        self.vars.get(name)
    }

    fn resource(&self, addr: &ResourceAddress) -> Option<ResourceValues<'_>> {
        Some(match self.blocks.get(addr)? {
            BlockValues::Single(v) => ResourceValues::Single(v),
            BlockValues::Many(items) => {
                ResourceValues::Many(items.iter().map(|(k, v)| (k, v)).collect())
            }
            BlockValues::Unknown => ResourceValues::Unknown,
        })
    }
}

/// One instance of a block: its key and what `count.index` / `each.*` are for it.
#[derive(Debug, Clone)]
pub(crate) struct Instance {
    pub key: Option<InstanceKey>,
    pub each_value: Option<Value>,
}

impl Instance {
    pub fn scope(&self) -> InstanceScope<'_> {
        match (&self.key, &self.each_value) {
            (Some(InstanceKey::Int(i)), None) => InstanceScope {
                count_index: Some(*i),
                each: None,
            },
            (Some(InstanceKey::Str(k)), Some(v)) => InstanceScope {
                count_index: None,
                each: Some((k, v)),
            },
            _ => InstanceScope::default(),
        }
    }
}

/// Works out the instances of a block from its `count` or `for_each`.
pub(crate) fn expand(
    stack: &Stack,
    r: &Resource,
    values: &Values<'_>,
) -> Result<Vec<Instance>, Box<Diagnostic>> {
    let unknown = |what: &str, span| {
        Diagnostic::error(format!("{what} of {} depends on values known only after apply", r.addr))
            .with_location(stack.locate(span))
            .with_address(&r.addr)
            .with_hint(format!(
                "apply what it depends on first (omniform apply --target <address>), or compute {what} from variables"
            ))
    };
    let eval_err = |e: omniform_stack::EvalError| {
        Diagnostic::error(e.message)
            .with_location(stack.locate(e.span))
            .with_address(&r.addr)
            .with_hint(e.hint)
    };
    match &r.repetition {
        Repetition::Single => Ok(vec![Instance {
            key: None,
            each_value: None,
        }]),
        Repetition::Count(expr) => {
            let v =
                eval(expr, values, &InstanceScope::default()).map_err(|e| Box::new(eval_err(e)))?;
            if !v.is_wholly_known() {
                return Err(Box::new(unknown("count", expr.span)));
            }
            match v.as_i64() {
                Some(n) if n >= 0 => Ok((0..n)
                    .map(|i| Instance {
                        key: Some(InstanceKey::Int(i)),
                        each_value: None,
                    })
                    .collect()),
                Some(n) => Err(Box::new(
                    Diagnostic::error(format!("count is {n}, but it must not be negative"))
                        .with_location(stack.locate(expr.span))
                        .with_address(&r.addr)
                        .with_hint("set count to 0 or more"),
                )),
                None => Err(Box::new(
                    Diagnostic::error(format!("count must be a whole number, found {}", v.kind()))
                        .with_location(stack.locate(expr.span))
                        .with_address(&r.addr)
                        .with_hint("give count a number"),
                )),
            }
        }
        Repetition::ForEach(expr) => {
            let v =
                eval(expr, values, &InstanceScope::default()).map_err(|e| Box::new(eval_err(e)))?;
            if !v.is_wholly_known() {
                return Err(Box::new(unknown("for_each", expr.span)));
            }
            let bad = |found: &str| {
                Diagnostic::error(format!(
                    "for_each must be a list of strings or a map, found {found}"
                ))
                .with_location(stack.locate(expr.span))
                .with_address(&r.addr)
                .with_hint("write for_each = [\"a\", \"b\"] or for_each = { a = 1, b = 2 }")
            };
            match v.unmarked() {
                Value::List(items) => {
                    let mut seen = HashSet::new();
                    let mut out = Vec::new();
                    for item in items {
                        let Some(s) = item.as_str() else {
                            return Err(Box::new(bad(&format!("a list with a {}", item.kind()))));
                        };
                        if !seen.insert(s.to_string()) {
                            return Err(Box::new(
                                Diagnostic::error(format!("duplicate for_each key {s:?}"))
                                    .with_location(stack.locate(expr.span))
                                    .with_address(&r.addr)
                                    .with_hint("each key in for_each must be unique"),
                            ));
                        }
                        out.push(Instance {
                            key: Some(InstanceKey::Str(s.to_string())),
                            each_value: Some(item.clone()),
                        });
                    }
                    out.sort_by(|a, b| a.key.cmp(&b.key));
                    Ok(out)
                }
                Value::Map(items) => Ok(items
                    .into_iter()
                    .map(|(k, v)| Instance {
                        key: Some(InstanceKey::Str(k)),
                        each_value: Some(v),
                    })
                    .collect()),
                other => Err(Box::new(bad(other.kind()))),
            }
        }
    }
}

/// Evaluates an instance's attributes and checks them against the schema.
pub(crate) fn evaluate_config(
    stack: &Stack,
    r: &Resource,
    instance: &Instance,
    schema: &ResourceSchema,
    provider: &dyn Provider,
    values: &Values<'_>,
) -> Result<Value, Diagnostics> {
    let addr = r.addr.instance(instance.key.clone());
    let scope = instance.scope();
    let mut diags = Diagnostics::new();
    let mut config = BTreeMap::new();
    let mut all_literal = true;
    for (name, (_, expr)) in &r.attributes {
        all_literal &= expr.is_literal();
        match eval(expr, values, &scope) {
            Ok(v) => {
                config.insert(name.clone(), v);
            }
            Err(e) => diags.push(
                Diagnostic::error(e.message)
                    .with_location(stack.locate(e.span))
                    .with_address(&addr)
                    .with_attribute(AttrPath::attr(name))
                    .with_hint(e.hint),
            ),
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    let config = match schema.conform(Value::Map(config)) {
        Ok(v) => v,
        Err(m) => {
            let span = match m.path.steps().split_first() {
                Some((PathStep::Key(k), rest)) => r
                    .attributes
                    .get(k)
                    .map(|(_, e)| span_at(e, rest))
                    .unwrap_or(r.span),
                _ => r.span,
            };
            return Err(type_mismatch(&m, &addr.to_string())
                .with_location(stack.locate(span))
                .into());
        }
    };
    if !all_literal {
        // Literal values were checked before planning; check what references filled in.
        for p in provider.validate(&ValidateRequest {
            type_name: &r.addr.type_name,
            config: &config,
        }) {
            let span = match p.path.steps().split_first() {
                Some((PathStep::Key(k), rest)) => r
                    .attributes
                    .get(k)
                    .map(|(_, e)| span_at(e, rest))
                    .unwrap_or(r.span),
                _ => r.span,
            };
            diags.push(
                Diagnostic::error(p.message)
                    .with_location(stack.locate(span))
                    .with_address(&addr)
                    .with_attribute(p.path)
                    .with_hint(p.hint),
            );
        }
    }
    diags.into_result(config)
}

/// The value the engine proposes for an instance: the configuration, with computed values
/// taken from the prior state (or unknown on create) and `ignore_changes` applied.
pub(crate) fn propose(
    schema: &ResourceSchema,
    config: Value,
    prior: Option<&Value>,
    lifecycle: &Lifecycle,
) -> Value {
    let mut proposed = merge_computed(&schema.attributes, config, prior);
    if let Some(prior) = prior {
        if lifecycle.ignore_all_changes {
            for attr in schema.attributes.iter().filter(|a| a.is_settable()) {
                let p = AttrPath::attr(&attr.name);
                proposed.set_path(&p, prior.get_path(&p).cloned().unwrap_or(Value::Null));
            }
        }
        for (path, _) in &lifecycle.ignore_changes {
            match prior.get_path(path) {
                Some(v) => {
                    proposed.set_path(path, v.clone());
                }
                None => {
                    proposed.remove_path(path);
                }
            }
        }
    }
    proposed
}

/// The configured value with computed attributes filled from `prior` (or unknown), taking
/// the configuration apart rather than copying it.
fn merge_computed(attrs: &[Attribute], config: Value, prior: Option<&Value>) -> Value {
    let mut config = match config {
        Value::Map(m) => m,
        _ => BTreeMap::new(),
    };
    let prior = prior.and_then(Value::as_map);
    let mut out = BTreeMap::new();
    for attr in attrs {
        let cfg = config.remove(&attr.name).unwrap_or(Value::Null);
        let old = prior.and_then(|p| p.get(&attr.name));
        let value = match attr.presence {
            Presence::Computed => old.cloned().unwrap_or(Value::Unknown),
            Presence::OptionalComputed if cfg.is_null() => old.cloned().unwrap_or(Value::Unknown),
            _ => match (&attr.ty, cfg) {
                // Blocks may hold computed attributes of their own.
                (AttrType::List(of), Value::List(items)) if matches!(**of, AttrType::Object(_)) => {
                    let AttrType::Object(inner) = of.as_ref() else {
                        unreachable!()
                    };
                    let old_items = old.and_then(Value::as_list);
                    Value::List(
                        items
                            .into_iter()
                            .enumerate()
                            .map(|(i, item)| {
                                merge_computed(inner, item, old_items.and_then(|o| o.get(i)))
                            })
                            .collect(),
                    )
                }
                (AttrType::Object(inner), cfg @ Value::Map(_)) => merge_computed(inner, cfg, old),
                (_, cfg) => cfg,
            },
        };
        out.insert(attr.name.clone(), value);
    }
    Value::Map(out)
}

/// The shortest prefix of `path` that a force-new attribute covers.
fn replacement_root(schema: &ResourceSchema, path: &AttrPath) -> Option<AttrPath> {
    let steps = path.steps();
    (1..=steps.len())
        .map(|n| AttrPath::from_steps(steps[..n].to_vec()))
        .find(|p| schema.forces_replacement(p))
}

/// Everything needed to decide what happens to one instance.
pub(crate) struct InstanceInput<'a> {
    pub address: InstanceAddress,
    pub provider: &'a dyn Provider,
    pub schema: &'a ResourceSchema,
    /// The configured value, conformed to the schema.
    pub config: Value,
    pub prior: Option<&'a ResourceInstance>,
    pub lifecycle: &'a Lifecycle,
    pub replace_requested: bool,
    pub dependencies: Vec<ResourceAddress>,
    pub now: OffsetDateTime,
    /// A whole earlier value to bring back when the instance is created (rollback), for
    /// providers that can restore objects.
    pub restore: Option<&'a Value>,
}

/// The error when a plan would destroy something `prevent_destroy` protects.
pub(crate) fn prevent_destroy_error(addr: &InstanceAddress) -> Diagnostic {
    Diagnostic::error(format!("{addr} has lifecycle.prevent_destroy set, but the plan would destroy it"))
        .with_address(addr)
        .with_hint("to destroy it on purpose, set prevent_destroy = false and apply that first; otherwise change the plan so it is kept (or use --exclude)")
}

/// Decides the change of one instance: no-op, create, update or replace, and why.
pub(crate) fn decide(input: InstanceInput<'_>) -> Result<ResourceChange, Box<Diagnostic>> {
    let InstanceInput {
        address,
        provider,
        schema,
        config,
        prior,
        lifecycle,
        replace_requested,
        dependencies,
        now,
        restore,
    } = input;
    let type_name = &address.resource.type_name;
    let planning_error = |e: omniform_provider::ProviderError| {
        Box::new(Diagnostic::error(format!("planning {address}: {e}")).with_address(&address))
    };
    let prior_value = prior.map(|p| &p.attributes);
    let fresh = |config: Value| -> Result<Value, Box<Diagnostic>> {
        let proposed = match restore {
            Some(v) if provider.can_restore(type_name) => {
                merge_computed(&schema.attributes, config, Some(v))
            }
            _ => propose(schema, config, None, lifecycle),
        };
        provider
            .plan(PlanRequest {
                type_name,
                prior: None,
                proposed,
                created_at: None,
                now,
            })
            .map(|r| r.planned)
            .map_err(planning_error)
    };
    let mut change = ResourceChange {
        address: address.clone(),
        action: Action::Create,
        reason: None,
        reason_detail: None,
        before: prior_value.cloned(),
        after: None,
        replace_paths: Vec::new(),
        provider: provider.name().to_string(),
        schema_version: schema.version,
        dependencies,
        prevent_destroy: lifecycle.prevent_destroy,
        deposed: None,
    };
    let mut after = match prior {
        None => fresh(config)?,
        Some(p) => {
            // The configuration is needed again only if the instance is replaced.
            let kept = config.clone();
            let proposed = propose(schema, config, prior_value, lifecycle);
            let resp = provider
                .plan(PlanRequest {
                    type_name,
                    prior: prior_value,
                    proposed,
                    created_at: Some(p.created_at),
                    now,
                })
                .map_err(planning_error)?;
            let mut changed = Vec::new();
            diff_paths(
                &p.attributes,
                &resp.planned,
                &mut AttrPath::root(),
                &mut changed,
            );
            let mut replace_paths: Vec<AttrPath> = Vec::new();
            for c in &changed {
                if let Some(root) = replacement_root(schema, c)
                    && !replace_paths.contains(&root)
                {
                    replace_paths.push(root);
                }
            }
            for rp in &resp.requires_replace {
                if !replace_paths.contains(rp) {
                    replace_paths.push(rp.clone());
                }
            }
            let reason = if p.tainted {
                Some((ActionReason::ReplaceBecauseTainted, None))
            } else if replace_requested {
                Some((ActionReason::ReplaceByRequest, None))
            } else if let Some((reason, detail)) = resp.reason.clone() {
                Some((reason, Some(detail)))
            } else if !replace_paths.is_empty() {
                Some((ActionReason::ReplaceBecauseCannotUpdate, None))
            } else {
                None
            };
            if let Some((reason, detail)) = reason {
                if lifecycle.prevent_destroy {
                    return Err(Box::new(prevent_destroy_error(&address)));
                }
                change.action = if lifecycle.create_before_destroy {
                    Action::CreateThenDelete
                } else {
                    Action::DeleteThenCreate
                };
                change.reason = Some(reason);
                change.reason_detail = detail;
                replace_paths.sort();
                change.replace_paths = replace_paths;
                fresh(kept)?
            } else {
                change.action = if changed.is_empty() {
                    Action::NoOp
                } else {
                    Action::Update
                };
                resp.planned
            }
        }
    };
    schema.mark_sensitive(&mut after);
    if let Some(before) = &mut change.before {
        schema.mark_sensitive(before);
    }
    change.after = Some(after);
    Ok(change)
}

struct Selection {
    blocks: Option<HashSet<ResourceAddress>>,
    keyed_targets: HashMap<ResourceAddress, HashSet<Option<InstanceKey>>>,
    excluded_blocks: HashSet<ResourceAddress>,
    excluded_instances: HashSet<InstanceAddress>,
}

impl Selection {
    fn new(graph: &StackGraph, opts: &PlanOptions) -> Self {
        let blocks = (!opts.targets.is_empty()).then(|| {
            let roots: Vec<NodeId> = opts
                .targets
                .iter()
                .filter_map(|t| graph.index.get(&t.resource).copied())
                .collect();
            let mut set: HashSet<ResourceAddress> = graph
                .dag
                .dependency_closure(&roots)
                .into_iter()
                .map(|n| graph.dag.node(n).clone())
                .collect();
            // Targets that are only in state (their block is gone) are selected too.
            set.extend(opts.targets.iter().map(|t| t.resource.clone()));
            set
        });
        let mut keyed_targets: HashMap<ResourceAddress, HashSet<Option<InstanceKey>>> =
            HashMap::new();
        for t in &opts.targets {
            keyed_targets
                .entry(t.resource.clone())
                .or_default()
                .insert(t.key.clone());
        }
        let mut excluded_blocks = HashSet::new();
        let mut excluded_instances = HashSet::new();
        for e in &opts.excludes {
            if let Some(id) = graph.index.get(&e.resource) {
                for n in graph.dag.dependent_closure(&[*id]) {
                    let a = graph.dag.node(n);
                    if a != &e.resource || e.key.is_none() {
                        excluded_blocks.insert(a.clone());
                    }
                }
            } else if e.key.is_none() {
                excluded_blocks.insert(e.resource.clone());
            }
            if e.key.is_some() {
                excluded_instances.insert(e.clone());
            }
        }
        Self {
            blocks,
            keyed_targets,
            excluded_blocks,
            excluded_instances,
        }
    }

    fn block(&self, addr: &ResourceAddress) -> bool {
        !self.excluded_blocks.contains(addr)
            && self.blocks.as_ref().is_none_or(|b| b.contains(addr))
    }

    fn instance(&self, addr: &InstanceAddress) -> bool {
        if !self.block(&addr.resource) || self.excluded_instances.contains(addr) {
            return false;
        }
        match self.keyed_targets.get(&addr.resource) {
            Some(keys) if self.blocks.is_some() => keys.contains(&None) || keys.contains(&addr.key),
            _ => true,
        }
    }
}

/// The delete of a deposed object: the old half of a create-before-destroy replacement
/// that an earlier apply did not finish (stopped, killed, or its delete failed).
pub(crate) fn deposed_delete(d: &DeposedObject) -> ResourceChange {
    ResourceChange {
        address: d.address.clone(),
        action: Action::Delete,
        reason: None,
        reason_detail: Some(
            "the old object of a create-before-destroy replacement, still to be deleted".into(),
        ),
        before: Some(d.instance.attributes.clone()),
        after: None,
        replace_paths: Vec::new(),
        provider: d.instance.provider.clone(),
        schema_version: d.instance.schema_version,
        dependencies: d.instance.dependencies.clone(),
        prevent_destroy: false,
        deposed: Some(d.key.clone()),
    }
}

/// Makes the plan of a stack against its prior state.
pub fn plan(
    stack: &Stack,
    vars: &BTreeMap<String, Value>,
    prior: &Snapshot,
    providers: &ProviderSet,
    opts: &PlanOptions,
) -> Result<Plan, Diagnostics> {
    let diags = validate(stack, providers);
    if diags.has_errors() {
        return Err(diags);
    }
    let graph = StackGraph::build(stack);
    let order = graph.order(stack)?;
    let mut p = Planner {
        stack,
        prior,
        providers,
        opts,
        graph: &graph,
        selection: Selection::new(&graph, opts),
        values: Values {
            vars,
            blocks: HashMap::with_capacity(stack.resources.len()),
        },
        changes: Vec::with_capacity(prior.resources.len().max(stack.resources.len())),
        diags: Diagnostics::new(),
        planned_instances: HashSet::new(),
        planned_blocks: HashSet::new(),
    };
    p.check_addresses();
    if opts.mode != PlanMode::Destroy {
        for id in order {
            let addr = graph.dag.node(id);
            let r = stack
                .resource(addr)
                .expect("graph nodes are stack resources");
            p.block(r);
        }
    }
    p.orphans();
    let outputs = p.outputs();
    if p.diags.has_errors() {
        p.diags.sort();
        return Err(p.diags);
    }
    let mut changes = p.changes;
    changes.sort_by(|a, b| a.address.cmp(&b.address));
    let mut warnings: Vec<Diagnostic> = p.diags.0;
    if !opts.targets.is_empty() || !opts.excludes.is_empty() {
        warnings.push(
            Diagnostic::warning("resource targeting is in effect")
                .with_detail("the plan may be incomplete: only the selected resources (with --target their dependencies, with --exclude without their dependents) were planned")
                .with_hint("use --target and --exclude for exceptional situations, such as recovering from mistakes"),
        );
    }
    Ok(Plan {
        stack: stack.name.clone(),
        mode: opts.mode,
        changes,
        drift: Vec::new(),
        outputs,
        variables: vars.clone(),
        prior_lineage: (!prior.is_new()).then(|| prior.lineage.clone()),
        prior_serial: (!prior.is_new()).then_some(prior.serial),
        targets: opts.targets.iter().map(ToString::to_string).collect(),
        excludes: opts.excludes.iter().map(ToString::to_string).collect(),
        warnings,
        refresh: None,
        timestamp: opts.now.format(&Rfc3339).unwrap_or_default(),
    })
}

struct Planner<'a> {
    stack: &'a Stack,
    prior: &'a Snapshot,
    providers: &'a ProviderSet,
    opts: &'a PlanOptions,
    graph: &'a StackGraph,
    selection: Selection,
    values: Values<'a>,
    changes: Vec<ResourceChange>,
    diags: Diagnostics,
    planned_instances: HashSet<InstanceAddress>,
    planned_blocks: HashSet<ResourceAddress>,
}

impl Planner<'_> {
    /// Targets, excludes and replacements must name something in the stack or the state.
    fn check_addresses(&mut self) {
        if self.opts.targets.is_empty()
            && self.opts.excludes.is_empty()
            && self.opts.replace.is_empty()
        {
            return;
        }
        let known: HashSet<&ResourceAddress> = self
            .stack
            .resources
            .keys()
            .chain(self.prior.resources.keys().map(|a| &a.resource))
            .collect();
        for (flag, list) in [
            ("--target", &self.opts.targets),
            ("--exclude", &self.opts.excludes),
            ("--replace", &self.opts.replace),
        ] {
            for a in list {
                if !known.contains(&a.resource) {
                    let names: Vec<String> = known.iter().map(|k| k.to_string()).collect();
                    self.diags.push(
                        Diagnostic::error(format!(
                            "{flag} {a} matches no resource in the stack or the state"
                        ))
                        .with_hint(format!(
                            "{}check the address; `omniform state list` shows what is in state",
                            did_you_mean(&a.resource.to_string(), names.iter().map(String::as_str))
                        )),
                    );
                }
            }
        }
    }

    /// Values of a block that is not planned: what the state holds.
    fn prior_values(&self, r: &Resource) -> BlockValues {
        let instances: Vec<(InstanceKey, Value)> = self
            .prior
            .instances_of(&r.addr)
            .filter_map(|(a, i)| a.key.clone().map(|k| (k, i.attributes.clone())))
            .collect();
        match r.repetition {
            Repetition::Single => match self.prior.resources.get(&r.addr.instance(None)) {
                Some(i) => BlockValues::Single(i.attributes.clone()),
                None => BlockValues::Unknown,
            },
            _ => BlockValues::Many(instances),
        }
    }

    fn block(&mut self, r: &Resource) {
        let (provider, schema) = self.providers.get(&r.addr.type_name).expect("validated");
        // A refresh-only plan changes nothing; references see the refreshed state.
        if !self.selection.block(&r.addr) || self.opts.mode == PlanMode::RefreshOnly {
            let v = self.prior_values(r);
            self.values.blocks.insert(r.addr.clone(), v);
            return;
        }
        let instances = match expand(self.stack, r, &self.values) {
            Ok(i) => i,
            Err(d) => {
                self.diags.push(*d);
                self.values
                    .blocks
                    .insert(r.addr.clone(), BlockValues::Unknown);
                return;
            }
        };
        self.planned_blocks.insert(r.addr.clone());
        let dependencies = self.graph.dependencies_of(&r.addr);
        let mut planned: Vec<(InstanceKey, Value)> = Vec::with_capacity(instances.len());
        let mut single = None;
        for instance in &instances {
            let addr = r.addr.instance(instance.key.clone());
            let value = if self.selection.instance(&addr) {
                self.planned_instances.insert(addr.clone());
                self.instance(r, instance, addr, provider.as_ref(), schema, &dependencies)
            } else {
                self.planned_instances.insert(addr.clone());
                self.prior
                    .resources
                    .get(&addr)
                    .map(|i| i.attributes.clone())
                    .unwrap_or(Value::Unknown)
            };
            match &instance.key {
                Some(k) => planned.push((k.clone(), value)),
                None => single = Some(value),
            }
        }
        let v = match single {
            Some(v) => BlockValues::Single(v),
            None => BlockValues::Many(planned),
        };
        self.values.blocks.insert(r.addr.clone(), v);
    }

    /// Plans one instance and returns its planned value.
    fn instance(
        &mut self,
        r: &Resource,
        instance: &Instance,
        addr: InstanceAddress,
        provider: &dyn Provider,
        schema: &ResourceSchema,
        dependencies: &[ResourceAddress],
    ) -> Value {
        let config = match evaluate_config(self.stack, r, instance, schema, provider, &self.values)
        {
            Ok(c) => c,
            Err(d) => {
                self.diags.extend(d);
                return Value::Unknown;
            }
        };
        let replace_requested = self.opts.replace.contains(&addr);
        let decided = decide(InstanceInput {
            address: addr,
            provider,
            schema,
            config,
            prior: self
                .prior
                .resources
                .get(&r.addr.instance(instance.key.clone())),
            lifecycle: &r.lifecycle,
            replace_requested,
            dependencies: dependencies.to_vec(),
            now: self.opts.now,
            restore: None,
        });
        match decided {
            Ok(change) => {
                let after = change.after.clone().unwrap_or(Value::Unknown);
                self.changes.push(change);
                after
            }
            Err(d) => {
                let d = if d.location.is_none() {
                    d.with_location(self.stack.locate(r.span))
                } else {
                    *d
                };
                self.diags.push(d);
                Value::Unknown
            }
        }
    }

    /// Instances in state that the stack no longer has, and everything in a destroy plan.
    fn orphans(&mut self) {
        if self.opts.mode == PlanMode::RefreshOnly {
            return;
        }
        for (addr, inst) in &self.prior.resources {
            if self.planned_instances.contains(addr) || !self.selection.instance(addr) {
                continue;
            }
            let block = self.stack.resource(&addr.resource);
            // A block that exists but was not planned (an error, or not selected) keeps
            // its instances.
            if block.is_some()
                && self.opts.mode != PlanMode::Destroy
                && !self.planned_blocks.contains(&addr.resource)
            {
                continue;
            }
            let reason = match (self.opts.mode, block.map(|b| &b.repetition), &addr.key) {
                (PlanMode::Destroy, _, _) => None,
                (_, None, _) => Some(ActionReason::DeleteBecauseNoResourceConfig),
                (_, Some(Repetition::Count(_)), Some(InstanceKey::Int(_))) => {
                    Some(ActionReason::DeleteBecauseCountIndex)
                }
                (_, Some(Repetition::ForEach(_)), Some(InstanceKey::Str(_))) => {
                    Some(ActionReason::DeleteBecauseEachKey)
                }
                _ => Some(ActionReason::DeleteBecauseWrongRepetition),
            };
            let prevent =
                inst.prevent_destroy || block.is_some_and(|b| b.lifecycle.prevent_destroy);
            if prevent {
                let location = block.and_then(|b| self.stack.locate(b.span));
                self.diags.push(
                    Diagnostic::error(format!("{addr} has lifecycle.prevent_destroy set, but the plan would destroy it"))
                        .with_location(location)
                        .with_address(addr)
                        .with_detail("prevent_destroy is recorded in state, so removing the block does not lift it")
                        .with_hint(format!(
                            "to destroy it on purpose, put the block back with prevent_destroy = false and apply, or run `omniform state rm` to forget {addr} without destroying it"
                        )),
                );
            }
            let mut before = inst.attributes.clone();
            if let Some(schema) = self.providers.schema(&addr.resource.type_name) {
                schema.mark_sensitive(&mut before);
            }
            self.changes.push(ResourceChange {
                address: addr.clone(),
                action: Action::Delete,
                reason,
                reason_detail: None,
                before: Some(before),
                after: None,
                replace_paths: Vec::new(),
                provider: inst.provider.clone(),
                schema_version: inst.schema_version,
                dependencies: inst.dependencies.clone(),
                prevent_destroy: prevent,
                deposed: None,
            });
        }
        for d in &self.prior.deposed {
            if self.selection.instance(&d.address) {
                self.changes.push(deposed_delete(d));
            }
        }
    }

    fn outputs(&mut self) -> Vec<OutputChange> {
        let mut out = Vec::new();
        for o in self.stack.outputs.values() {
            let before = self.prior.outputs.get(&o.name).map(|s| {
                if s.sensitive {
                    s.value.clone().sensitive()
                } else {
                    s.value.clone()
                }
            });
            if self.opts.mode == PlanMode::Destroy {
                if let Some(before) = before {
                    out.push(OutputChange {
                        name: o.name.clone(),
                        action: Action::Delete,
                        before: Some(before),
                        after: None,
                        sensitive: o.sensitive,
                    });
                }
                continue;
            }
            let value = match eval(&o.value, &self.values, &InstanceScope::default()) {
                Ok(v) => v,
                Err(e) => {
                    self.diags.push(
                        Diagnostic::error(e.message)
                            .with_location(self.stack.locate(e.span))
                            .with_address(format!("output.{}", o.name))
                            .with_hint(e.hint),
                    );
                    continue;
                }
            };
            if value.contains_sensitive() && !o.sensitive {
                self.diags.push(
                    Diagnostic::error(format!("output `{}` refers to sensitive values", o.name))
                        .with_location(self.stack.locate(o.value.span))
                        .with_address(format!("output.{}", o.name))
                        .with_hint("set sensitive = true on the output to confirm it may be shown only masked"),
                );
                continue;
            }
            let after = if o.sensitive {
                value.sensitive()
            } else {
                value
            };
            let action = match &before {
                None => Action::Create,
                Some(b) if b == &after && after.is_wholly_known() => Action::NoOp,
                Some(_) => Action::Update,
            };
            out.push(OutputChange {
                name: o.name.clone(),
                action,
                before,
                after: Some(after),
                sensitive: o.sensitive,
            });
        }
        for (name, state) in &self.prior.outputs {
            if !self.stack.outputs.contains_key(name) {
                let before = if state.sensitive {
                    state.value.clone().sensitive()
                } else {
                    state.value.clone()
                };
                out.push(OutputChange {
                    name: name.clone(),
                    action: Action::Delete,
                    before: Some(before),
                    after: None,
                    sensitive: state.sensitive,
                });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}
