//! Apply: carry out a plan. Creates and updates walk the graph forward (a block starts when
//! everything it depends on is done); deletes, and the old halves of create-before-destroy
//! replacements, walk it backward afterwards. Each finished operation is recorded at once,
//! so a failure or a kill loses nothing that finished.
//!
//! Unknown values in the plan are filled from the results of what they depend on: each
//! instance's configuration is evaluated again with the values applied so far, and the
//! result must agree with every value the plan already knew. What a provider returns must
//! agree with the final planned value too; anything else is an error, never accepted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::future::join_all;
use omniform_core::{
    Action, AttrPath, Diagnostics, InstanceAddress, InstanceKey, PathStep, Plan, PlanMode,
    ResourceAddress, ResourceChange, Value,
};
use omniform_graph::{Dag, NodeId, WalkOrder};
use omniform_provider::{CreateRequest, DeleteRequest, PlanRequest, UpdateRequest};
use omniform_stack::{InstanceScope, Repetition, Stack, eval};
use omniform_state::{
    ChangeCounts, DeposedObject, OutputState, Recorder, ResourceInstance, Snapshot, StateOp,
};
use time::OffsetDateTime;
use tokio::sync::Semaphore;

use crate::events::{Event, Hooks};
use crate::plan::{BlockValues, Instance, Values, evaluate_config, expand, propose};
use crate::providers::ProviderSet;

/// How often a running operation reports progress.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Where each instance's final configuration comes from at apply time.
#[derive(Debug, Clone, Copy)]
pub enum Desired<'a> {
    /// Evaluate the stack again with the values applied so far.
    Stack {
        stack: &'a Stack,
        vars: &'a BTreeMap<String, Value>,
    },
    /// The plan's `after` values are the configuration (rollback to a snapshot). Outputs
    /// are the stack's, evaluated over the resulting resources, when a stack is given (the
    /// snapshot's own outputs may name objects a rollback made again); otherwise, and for
    /// outputs the stack cannot evaluate there, the snapshot's.
    Fixed {
        outputs_from: Option<(&'a Stack, &'a BTreeMap<String, Value>)>,
    },
}

/// How to apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// At most this many provider calls at once.
    pub parallelism: usize,
    pub now: OffsetDateTime,
    /// Once set, no new operation starts; running ones finish.
    pub stop: Arc<AtomicBool>,
}

impl ApplyOptions {
    pub fn new(now: OffsetDateTime) -> Self {
        Self {
            parallelism: 10,
            now,
            stop: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// What an apply did.
#[derive(Debug, Clone)]
pub struct ApplyReport {
    /// The state after the apply (same serial and lineage as the input; the caller writes
    /// it as the next serial).
    pub state: Snapshot,
    pub counts: ChangeCounts,
    /// Instances whose operation failed, with the provider's message.
    pub failed: Vec<(InstanceAddress, String)>,
    /// Instances not touched because something they depend on failed.
    pub skipped: Vec<InstanceAddress>,
    /// Instances not started because the apply was stopped.
    pub not_started: Vec<InstanceAddress>,
    /// Outputs that could not be evaluated (they keep their previous value).
    pub output_errors: Diagnostics,
}

impl ApplyReport {
    pub fn is_success(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty() && self.not_started.is_empty()
    }

    pub fn interrupted(&self) -> bool {
        !self.not_started.is_empty()
    }
}

/// State shared by the operations of one apply.
struct Run<'a> {
    desired: Desired<'a>,
    providers: &'a ProviderSet,
    recorder: &'a dyn Recorder,
    hooks: &'a dyn Hooks,
    opts: &'a ApplyOptions,
    permits: Semaphore,
    state: Mutex<Snapshot>,
    values: Mutex<Values<'a>>,
    counts: Mutex<ChangeCounts>,
    failed: Mutex<Vec<(InstanceAddress, String)>>,
    /// Instances that were waiting to start when the apply was stopped.
    not_started: Mutex<Vec<InstanceAddress>>,
    /// Old objects of create-before-destroy replacements, deleted at the end.
    deposed: Mutex<Vec<DeposedObject>>,
}

fn empty_vars() -> &'static BTreeMap<String, Value> {
    static EMPTY: std::sync::OnceLock<BTreeMap<String, Value>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(BTreeMap::new)
}

/// Carries out `plan` on top of `prior`, recording each finished operation.
pub async fn apply(
    desired: Desired<'_>,
    plan: &Plan,
    prior: &Snapshot,
    providers: &ProviderSet,
    recorder: &dyn Recorder,
    hooks: &dyn Hooks,
    opts: &ApplyOptions,
) -> ApplyReport {
    let deleted: HashSet<&InstanceAddress> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Delete && c.deposed.is_none())
        .map(|c| &c.address)
        .collect();
    let values = match desired {
        Desired::Stack { stack, vars } => initial_values(stack, vars, prior, &deleted),
        Desired::Fixed { .. } => Values {
            vars: empty_vars(),
            blocks: HashMap::new(),
        },
    };
    let run = Run {
        desired,
        providers,
        recorder,
        hooks,
        opts,
        permits: Semaphore::new(opts.parallelism.max(1)),
        state: Mutex::new(prior.clone()),
        values: Mutex::new(values),
        counts: Mutex::new(ChangeCounts::default()),
        failed: Mutex::new(Vec::new()),
        not_started: Mutex::new(Vec::new()),
        deposed: Mutex::new(Vec::new()),
    };
    let mut skipped = Vec::new();
    let mut not_started = Vec::new();

    // Creates, updates and replacements, dependencies first.
    let forward: Vec<&ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| !matches!(c.action, Action::Delete | Action::Read))
        .collect();
    let (dag, blocks) = block_graph(&forward, |c| c.dependencies.clone());
    let report = dag
        .walk(WalkOrder::Dependencies, usize::MAX, &opts.stop, |id| {
            run.block(&blocks[dag.node(id)])
        })
        .await;
    let mut blocked: HashSet<ResourceAddress> = HashSet::new();
    for id in report.skipped {
        blocked.insert(dag.node(id).clone());
        for c in &blocks[dag.node(id)] {
            hooks.event(&Event::Skipped {
                address: c.address.clone(),
            });
            skipped.push(c.address.clone());
        }
    }
    for (id, _) in &report.failed {
        blocked.insert(dag.node(*id).clone());
    }
    for id in report.not_started {
        blocked.insert(dag.node(id).clone());
        not_started.extend(blocks[dag.node(id)].iter().map(|c| c.address.clone()));
    }

    // Deletes, dependents first. A delete waits for nothing that failed: if something that
    // depended on the object did not finish, the object stays.
    let still_needed: HashSet<ResourceAddress> = prior
        .resources
        .iter()
        .filter(|(a, _)| blocked.contains(&a.resource))
        .flat_map(|(_, i)| i.dependencies.iter().cloned())
        .collect();
    let deposed: Vec<ResourceChange> = run
        .deposed
        .lock()
        .expect("deposed")
        .iter()
        .map(crate::plan::deposed_delete)
        .collect();
    let mut backward: Vec<&ResourceChange> = Vec::new();
    for c in plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .chain(deposed.iter())
    {
        if still_needed.contains(&c.address.resource) {
            hooks.event(&Event::Skipped {
                address: c.address.clone(),
            });
            skipped.push(c.address.clone());
        } else {
            backward.push(c);
        }
    }
    let (dag, blocks) = block_graph(&backward, |c| {
        prior
            .resources
            .get(&c.address)
            .map(|i| i.dependencies.clone())
            .unwrap_or_else(|| c.dependencies.clone())
    });
    let report = dag
        .walk(WalkOrder::Dependents, usize::MAX, &opts.stop, |id| {
            run.delete_block(&blocks[dag.node(id)])
        })
        .await;
    for id in report.skipped {
        for c in &blocks[dag.node(id)] {
            hooks.event(&Event::Skipped {
                address: c.address.clone(),
            });
            skipped.push(c.address.clone());
        }
    }
    for id in report.not_started {
        not_started.extend(blocks[dag.node(id)].iter().map(|c| c.address.clone()));
    }

    let output_errors = run.outputs(plan);
    let Run {
        state,
        counts,
        failed,
        not_started: stopped,
        ..
    } = run;
    let mut failed = failed.into_inner().expect("failures");
    not_started.extend(stopped.into_inner().expect("not started"));
    failed.sort();
    skipped.sort();
    not_started.sort();
    ApplyReport {
        state: state.into_inner().expect("state"),
        counts: counts.into_inner().expect("counts"),
        failed,
        skipped,
        not_started,
        output_errors,
    }
}

/// A graph of resource blocks holding the given changes, with edges from `deps`.
fn block_graph<'c>(
    changes: &[&'c ResourceChange],
    deps: impl Fn(&ResourceChange) -> Vec<ResourceAddress>,
) -> (
    Dag<ResourceAddress, ()>,
    HashMap<ResourceAddress, Vec<&'c ResourceChange>>,
) {
    let mut blocks: HashMap<ResourceAddress, Vec<&ResourceChange>> = HashMap::new();
    for c in changes {
        blocks
            .entry(c.address.resource.clone())
            .or_default()
            .push(c);
    }
    let mut dag = Dag::with_capacity(blocks.len(), blocks.len());
    let mut ids: HashMap<ResourceAddress, NodeId> = HashMap::new();
    let mut names: Vec<&ResourceAddress> = blocks.keys().collect();
    names.sort();
    for name in names {
        ids.insert(name.clone(), dag.add_node(name.clone()));
    }
    let mut edges = HashSet::new();
    for c in changes {
        let from = ids[&c.address.resource];
        for d in deps(c) {
            if let Some(to) = ids.get(&d)
                && *to != from
                && edges.insert((from, *to))
            {
                dag.add_edge(from, *to, ());
            }
        }
    }
    (dag, blocks)
}

/// The values references see before anything is applied: the prior state, less what the
/// plan deletes.
fn initial_values<'a>(
    stack: &Stack,
    vars: &'a BTreeMap<String, Value>,
    prior: &Snapshot,
    deleted: &HashSet<&InstanceAddress>,
) -> Values<'a> {
    let mut blocks = HashMap::with_capacity(stack.resources.len());
    for r in stack.resources.values() {
        let live = prior
            .instances_of(&r.addr)
            .filter(|(a, _)| !deleted.contains(a));
        let v = match r.repetition {
            Repetition::Single => live
                .filter(|(a, _)| a.key.is_none())
                .map(|(_, i)| BlockValues::Single(i.attributes.clone()))
                .next()
                .unwrap_or(BlockValues::Unknown),
            _ => BlockValues::Many(
                live.filter_map(|(a, i)| a.key.clone().map(|k| (k, i.attributes.clone())))
                    .collect(),
            ),
        };
        blocks.insert(r.addr.clone(), v);
    }
    Values { vars, blocks }
}

/// Every place where `actual` disagrees with a known part of `planned`.
fn disagreements(planned: &Value, actual: &Value) -> Vec<(AttrPath, Value, Value)> {
    fn walk(p: &Value, a: &Value, at: &mut AttrPath, out: &mut Vec<(AttrPath, Value, Value)>) {
        match (p.peel(), a.peel()) {
            (Value::Unknown, _) => {}
            (Value::Map(pm), Value::Map(am)) => {
                let mut keys: Vec<&String> = pm.keys().chain(am.keys()).collect();
                keys.sort();
                keys.dedup();
                for k in keys {
                    at.push(PathStep::Key(k.clone()));
                    walk(
                        pm.get(k).unwrap_or(&Value::Null),
                        am.get(k).unwrap_or(&Value::Null),
                        at,
                        out,
                    );
                    at.pop();
                }
            }
            (Value::List(pl), Value::List(al)) if pl.len() == al.len() => {
                for (i, (x, y)) in pl.iter().zip(al).enumerate() {
                    at.push(PathStep::Index(i));
                    walk(x, y, at, out);
                    at.pop();
                }
            }
            (x, y) => {
                if x != y {
                    out.push((at.clone(), p.clone(), a.clone()));
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(planned, actual, &mut AttrPath::root(), &mut out);
    out
}

fn shown(v: &Value) -> String {
    if v.contains_sensitive() {
        "(sensitive value)".into()
    } else if v.is_unknown() {
        "(known after apply)".into()
    } else {
        serde_json_text(v)
    }
}

fn serde_json_text(v: &Value) -> String {
    v.to_json(true).to_string()
}

fn describe(diffs: &[(AttrPath, Value, Value)]) -> String {
    diffs
        .iter()
        .take(5)
        .map(|(p, want, got)| {
            format!(
                "`{}` planned {}, got {}",
                if p.is_root() {
                    "value".into()
                } else {
                    p.to_string()
                },
                shown(want),
                shown(got)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

impl Run<'_> {
    fn fail(&self, address: &InstanceAddress, action: Action, message: String) {
        self.hooks.event(&Event::ApplyErrored {
            address: address.clone(),
            action,
            message: message.clone(),
        });
        self.failed
            .lock()
            .expect("failures")
            .push((address.clone(), message));
    }

    fn record(&self, op: StateOp) -> Result<(), String> {
        self.recorder
            .record(&op)
            .map_err(|e| format!("recording the result in state: {e}"))?;
        self.state.lock().expect("state").apply_op(op);
        Ok(())
    }

    /// Updates the value references see for one instance.
    fn set_value(&self, address: &InstanceAddress, value: Value) {
        let mut values = self.values.lock().expect("values");
        let entry = values
            .blocks
            .entry(address.resource.clone())
            .or_insert_with(|| match address.key {
                Some(_) => BlockValues::Many(Vec::new()),
                None => BlockValues::Unknown,
            });
        match (&address.key, entry) {
            (None, e) => *e = BlockValues::Single(value),
            (Some(k), BlockValues::Many(items)) => {
                match items.binary_search_by(|(x, _)| x.cmp(k)) {
                    Ok(i) => items[i].1 = value,
                    Err(i) => items.insert(i, (k.clone(), value)),
                }
            }
            (Some(k), e) => *e = BlockValues::Many(vec![(k.clone(), value)]),
        }
    }

    /// Applies every change of one block; fails when any of them fails.
    async fn block(&self, changes: &[&ResourceChange]) -> Result<(), ()> {
        let instances: HashMap<Option<InstanceKey>, Instance> = match self.desired {
            Desired::Stack { stack, .. } => {
                let addr = &changes[0].address.resource;
                match stack.resource(addr) {
                    Some(r) => {
                        let values = self.values.lock().expect("values");
                        match expand(stack, r, &values) {
                            Ok(list) => list.into_iter().map(|i| (i.key.clone(), i)).collect(),
                            Err(d) => {
                                drop(values);
                                for c in changes {
                                    self.fail(&c.address, c.action, d.summary.clone());
                                }
                                return Err(());
                            }
                        }
                    }
                    None => HashMap::new(),
                }
            }
            Desired::Fixed { .. } => HashMap::new(),
        };
        let batched = self.batched(changes);
        let _slot = self.slot(batched).await;
        let results = join_all(
            changes
                .iter()
                .map(|c| self.instance(c, instances.get(&c.address.key), batched)),
        )
        .await;
        if results.iter().all(|r| r.is_ok()) {
            Ok(())
        } else {
            Err(())
        }
    }

    /// One of the `--parallelism` slots, when `take` is set.
    async fn slot(&self, take: bool) -> Option<tokio::sync::SemaphorePermit<'_>> {
        match take {
            true => Some(
                self.permits
                    .acquire()
                    .await
                    .expect("the semaphore is never closed"),
            ),
            false => None,
        }
    }

    /// Whether the provider gathers this block's operations into one call, so they all
    /// start at once in one parallelism slot.
    fn batched(&self, changes: &[&ResourceChange]) -> bool {
        changes.first().is_some_and(|c| {
            let type_name = &c.address.resource.type_name;
            self.providers
                .get(type_name)
                .is_some_and(|(p, _)| p.batches_calls(type_name))
        })
    }

    /// The final value to apply for one change: the configuration evaluated with what is
    /// known now, checked against the plan.
    fn final_value(
        &self,
        change: &ResourceChange,
        instance: Option<&Instance>,
        prior: Option<&ResourceInstance>,
    ) -> Result<Value, String> {
        let planned_after = change.after.clone().unwrap_or(Value::Null);
        let (provider, schema) = self
            .providers
            .get(&change.address.resource.type_name)
            .ok_or_else(|| {
                format!(
                    "no provider serves resource type {}",
                    change.address.resource.type_name
                )
            })?;
        let value = match self.desired {
            Desired::Fixed { .. } => planned_after.clone(),
            Desired::Stack { stack, .. } => {
                let r = stack
                    .resource(&change.address.resource)
                    .ok_or("the resource is no longer in the stack")?;
                let instance =
                    instance.ok_or("the instance is no longer in the stack's count or for_each")?;
                let config = {
                    let values = self.values.lock().expect("values");
                    evaluate_config(stack, r, instance, schema, provider.as_ref(), &values)
                        .map_err(|d| {
                            d.iter()
                                .map(|d| d.summary.clone())
                                .collect::<Vec<_>>()
                                .join("; ")
                        })?
                };
                let update = change.action == Action::Update;
                let prior_value = if update {
                    prior.map(|p| &p.attributes)
                } else {
                    None
                };
                let proposed = propose(schema, config, prior_value, &r.lifecycle);
                let resp = provider
                    .plan(PlanRequest {
                        type_name: &change.address.resource.type_name,
                        prior: prior_value,
                        proposed,
                        created_at: if update {
                            prior.map(|p| p.created_at)
                        } else {
                            None
                        },
                        now: self.opts.now,
                    })
                    .map_err(|e| e.to_string())?;
                let mut v = resp.planned;
                schema.mark_sensitive(&mut v);
                v
            }
        };
        let diffs = disagreements(&planned_after, &value);
        if !diffs.is_empty() {
            return Err(format!(
                "the configuration no longer matches the plan: {}; make a new plan",
                describe(&diffs)
            ));
        }
        Ok(value)
    }

    /// Checks a provider's result against the final planned value and keeps the secrets
    /// marked.
    fn checked_result(
        &self,
        change: &ResourceChange,
        planned: &Value,
        mut result: Value,
    ) -> Result<Value, String> {
        let diffs = disagreements(planned, &result);
        if !diffs.is_empty() {
            return Err(format!(
                "the provider returned a result the plan did not allow: {}",
                describe(&diffs)
            ));
        }
        if !result.is_wholly_known() {
            return Err("the provider left values unknown after apply".into());
        }
        for p in planned.sensitive_paths() {
            if p.is_root() {
                result = result.sensitive();
            } else {
                result.mark_sensitive_at(&p);
            }
        }
        if let Some(schema) = self.providers.schema(&change.address.resource.type_name) {
            schema.mark_sensitive(&mut result);
        }
        Ok(result)
    }

    fn lifecycle_cbd(&self, change: &ResourceChange, prior: Option<&ResourceInstance>) -> bool {
        match self.desired {
            Desired::Stack { stack, .. } => stack
                .resource(&change.address.resource)
                .is_some_and(|r| r.lifecycle.create_before_destroy),
            Desired::Fixed { .. } => prior.is_some_and(|p| p.create_before_destroy),
        }
    }

    async fn instance(
        &self,
        change: &ResourceChange,
        instance: Option<&Instance>,
        batched: bool,
    ) -> Result<(), ()> {
        if matches!(change.action, Action::NoOp | Action::Read) {
            return Ok(());
        }
        // One provider operation per slot (a batched block holds one slot for all);
        // once stopped, what is still waiting for a slot does not start.
        let _permit = self.slot(!batched).await;
        if self.opts.stop.load(Ordering::SeqCst) {
            self.not_started
                .lock()
                .expect("not started")
                .push(change.address.clone());
            return Err(());
        }
        self.hooks.event(&Event::ApplyStart {
            address: change.address.clone(),
            action: change.action,
        });
        let started = Instant::now();
        // Long operations report that they are still running, every ten seconds.
        let work = self.run_instance(change, instance);
        tokio::pin!(work);
        let mut ticks =
            tokio::time::interval_at(tokio::time::Instant::now() + PROGRESS_EVERY, PROGRESS_EVERY);
        let result = loop {
            tokio::select! {
                result = &mut work => break result,
                _ = ticks.tick() => self.hooks.event(&Event::ApplyProgress {
                    address: change.address.clone(),
                    action: change.action,
                    elapsed: started.elapsed(),
                }),
            }
        };
        match result {
            Ok(()) => {
                self.hooks.event(&Event::ApplyComplete {
                    address: change.address.clone(),
                    action: change.action,
                    elapsed: started.elapsed(),
                });
                Ok(())
            }
            Err(message) => {
                self.fail(&change.address, change.action, message);
                Err(())
            }
        }
    }

    async fn run_instance(
        &self,
        change: &ResourceChange,
        instance: Option<&Instance>,
    ) -> Result<(), String> {
        let address = &change.address;
        let type_name = address.resource.type_name.clone();
        let (provider, schema) = self
            .providers
            .get(&type_name)
            .ok_or_else(|| format!("no provider serves resource type {type_name}"))?;
        let prior = self
            .state
            .lock()
            .expect("state")
            .resources
            .get(address)
            .cloned();
        let planned = self.final_value(change, instance, prior.as_ref())?;
        let put = |attributes: Value, created_at: OffsetDateTime| StateOp::Put {
            address: address.clone(),
            instance: ResourceInstance {
                provider: provider.name().to_string(),
                schema_version: schema.version,
                attributes,
                dependencies: change.dependencies.clone(),
                create_before_destroy: self.lifecycle_cbd(change, prior.as_ref()),
                prevent_destroy: change.prevent_destroy,
                created_at,
                tainted: false,
            },
        };
        let create = || async {
            provider
                .create(CreateRequest {
                    address: address.clone(),
                    type_name: type_name.clone(),
                    planned: planned.clone(),
                })
                .await
                .map_err(|e| e.to_string())
        };
        match change.action {
            Action::Create => {
                let result = create().await?;
                let result = self.checked_result(change, &planned, result)?;
                self.record(put(result.clone(), self.opts.now))?;
                self.counts.lock().expect("counts").added += 1;
                self.set_value(address, result);
            }
            Action::Update => {
                let prior = prior
                    .as_ref()
                    .ok_or("the object is not in state any more")?;
                let result = {
                    provider
                        .update(UpdateRequest {
                            address: address.clone(),
                            type_name: type_name.clone(),
                            prior: prior.attributes.clone(),
                            planned: planned.clone(),
                        })
                        .await
                        .map_err(|e| e.to_string())?
                };
                let result = self.checked_result(change, &planned, result)?;
                self.record(put(result.clone(), prior.created_at))?;
                self.counts.lock().expect("counts").changed += 1;
                self.set_value(address, result);
            }
            Action::DeleteThenCreate => {
                if let Some(prior) = &prior {
                    {
                        provider
                            .delete(DeleteRequest {
                                address: address.clone(),
                                type_name: type_name.clone(),
                                prior: prior.attributes.clone(),
                            })
                            .await
                            .map_err(|e| format!("deleting the old object: {e}"))?;
                    }
                    self.record(StateOp::Remove {
                        address: address.clone(),
                    })?;
                    self.counts.lock().expect("counts").destroyed += 1;
                }
                let result = create().await?;
                let result = self.checked_result(change, &planned, result)?;
                self.record(put(result.clone(), self.opts.now))?;
                self.counts.lock().expect("counts").added += 1;
                self.set_value(address, result);
            }
            Action::CreateThenDelete => {
                let result = create().await?;
                let result = self.checked_result(change, &planned, result)?;
                let new = put(result.clone(), self.opts.now);
                match (&prior, new) {
                    // The old object stays in state, deposed, until it is deleted.
                    (Some(prior), StateOp::Put { instance, .. }) => {
                        let old = DeposedObject {
                            address: address.clone(),
                            key: DeposedObject::new_key(),
                            instance: prior.clone(),
                        };
                        self.record(StateOp::Depose {
                            old: old.clone(),
                            replacement: instance,
                        })?;
                        self.deposed.lock().expect("deposed").push(old);
                    }
                    (_, new) => self.record(new)?,
                }
                self.counts.lock().expect("counts").added += 1;
                self.set_value(address, result);
            }
            Action::Delete | Action::NoOp | Action::Read => unreachable!("handled elsewhere"),
        }
        Ok(())
    }

    /// Deletes every instance of one block.
    async fn delete_block(&self, changes: &[&ResourceChange]) -> Result<(), ()> {
        let batched = self.batched(changes);
        let _slot = self.slot(batched).await;
        let results = join_all(changes.iter().map(|c| self.delete(c, batched))).await;
        if results.iter().all(|r| r.is_ok()) {
            Ok(())
        } else {
            Err(())
        }
    }

    async fn delete(&self, change: &ResourceChange, batched: bool) -> Result<(), ()> {
        let address = &change.address;
        let _permit = self.slot(!batched).await;
        if self.opts.stop.load(Ordering::SeqCst) {
            self.not_started
                .lock()
                .expect("not started")
                .push(address.clone());
            return Err(());
        }
        self.hooks.event(&Event::ApplyStart {
            address: address.clone(),
            action: Action::Delete,
        });
        let started = Instant::now();
        let result = async {
            let type_name = &address.resource.type_name;
            let (provider, _) = self
                .providers
                .get(type_name)
                .ok_or_else(|| format!("no provider serves resource type {type_name}"))?;
            let prior = change.before.clone().unwrap_or(Value::Null);
            {
                provider
                    .delete(DeleteRequest {
                        address: address.clone(),
                        type_name: type_name.clone(),
                        prior,
                    })
                    .await
                    .map_err(|e| e.to_string())?;
            }
            if let Some(key) = &change.deposed {
                self.record(StateOp::DropDeposed {
                    address: address.clone(),
                    key: key.clone(),
                })?;
            } else {
                self.record(StateOp::Remove {
                    address: address.clone(),
                })?;
                let mut values = self.values.lock().expect("values");
                if let Some(BlockValues::Many(items)) = values.blocks.get_mut(&address.resource) {
                    items.retain(|(k, _)| Some(k) != address.key.as_ref());
                }
            }
            self.counts.lock().expect("counts").destroyed += 1;
            Ok::<(), String>(())
        }
        .await;
        match result {
            Ok(()) => {
                self.hooks.event(&Event::ApplyComplete {
                    address: address.clone(),
                    action: Action::Delete,
                    elapsed: started.elapsed(),
                });
                Ok(())
            }
            Err(message) => {
                self.fail(address, Action::Delete, message);
                Err(())
            }
        }
    }

    /// Evaluates the outputs against what was applied.
    fn outputs(&self, plan: &Plan) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let mut state = self.state.lock().expect("state");
        match (self.desired, plan.mode) {
            (_, PlanMode::Destroy) => state.outputs.clear(),
            (Desired::Stack { stack, .. }, _) => {
                let values = self.values.lock().expect("values");
                state
                    .outputs
                    .retain(|name, _| stack.outputs.contains_key(name));
                for o in stack.outputs.values() {
                    match eval(&o.value, &*values, &InstanceScope::default()) {
                        Ok(v) if v.is_wholly_known() => {
                            state.outputs.insert(
                                o.name.clone(),
                                OutputState {
                                    value: v.unmarked(),
                                    sensitive: o.sensitive || v.contains_sensitive(),
                                },
                            );
                        }
                        Ok(_) => {}
                        Err(e) => diags.push(
                            omniform_core::Diagnostic::warning(format!(
                                "output `{}` keeps its previous value: {}",
                                o.name, e.message
                            ))
                            .with_address(format!("output.{}", o.name)),
                        ),
                    }
                }
            }
            (Desired::Fixed { outputs_from }, _) => {
                let from_stack: BTreeMap<String, Value> = outputs_from
                    .map(|(stack, vars)| {
                        let none = HashSet::new();
                        let values = initial_values(stack, vars, &state, &none);
                        stack
                            .outputs
                            .values()
                            .filter_map(|o| {
                                let v = eval(&o.value, &values, &InstanceScope::default()).ok()?;
                                v.is_wholly_known().then(|| (o.name.clone(), v))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                for o in &plan.outputs {
                    if let Some(v) = from_stack.get(&o.name).filter(|_| o.after.is_some()) {
                        state.outputs.insert(
                            o.name.clone(),
                            OutputState {
                                value: v.unmarked(),
                                sensitive: o.sensitive || v.contains_sensitive(),
                            },
                        );
                        continue;
                    }
                    match &o.after {
                        Some(v) if v.is_wholly_known() => {
                            state.outputs.insert(
                                o.name.clone(),
                                OutputState {
                                    value: v.unmarked(),
                                    sensitive: o.sensitive,
                                },
                            );
                        }
                        None => {
                            state.outputs.remove(&o.name);
                        }
                        Some(_) => {}
                    }
                }
            }
        }
        diags
    }
}
