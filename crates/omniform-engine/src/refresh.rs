//! Refresh: read what exists, all instances of a type at once, and compare it with state.

use std::collections::BTreeMap;
use std::time::Instant;

use futures_util::future::join_all;
use omniform_core::{
    Action, Diagnostic, Diagnostics, InstanceAddress, RefreshStats, ResourceChange, Value,
};
use omniform_provider::ReadRequest;
use omniform_state::Snapshot;

use crate::events::{Event, Hooks};
use crate::providers::ProviderSet;

/// State brought up to date, with what changed outside omniform.
#[derive(Debug, Clone)]
pub struct Refreshed {
    pub state: Snapshot,
    /// Objects changed (`Update`) or deleted (`Delete`) outside omniform.
    pub drift: Vec<ResourceChange>,
    pub stats: RefreshStats,
}

/// Reads the live state of every instance in `prior`, one batched read per resource type.
pub async fn refresh(
    prior: &Snapshot,
    providers: &ProviderSet,
    hooks: &dyn Hooks,
) -> Result<Refreshed, Diagnostics> {
    let started = Instant::now();
    let mut by_type: BTreeMap<&str, Vec<(InstanceAddress, Value)>> = BTreeMap::new();
    for (addr, inst) in &prior.resources {
        let live = providers
            .get(&addr.resource.type_name)
            .is_none_or(|(p, _)| p.reads_live_state(&addr.resource.type_name));
        if !live {
            continue;
        }
        by_type
            .entry(addr.resource.type_name.as_str())
            .or_default()
            .push((addr.clone(), inst.attributes.clone()));
    }
    let calls_before: BTreeMap<String, u64> = providers
        .providers()
        .iter()
        .flat_map(|p| p.api_calls())
        .collect();
    let mut diags = Diagnostics::new();
    let reads = by_type.into_iter().map(|(type_name, instances)| async move {
        let count = instances.len();
        let Some((provider, _)) = providers.get(type_name) else {
            return (type_name, instances, Err(format!("no provider serves resource type {type_name}; it is in state but not known to this omniform")));
        };
        hooks.event(&Event::RefreshStart { type_name: type_name.to_string(), instances: count });
        let t = Instant::now();
        let result = provider
            .read(ReadRequest { type_name: type_name.to_string(), instances: instances.clone() })
            .await
            .map_err(|e| format!("refreshing {type_name}: {e}"));
        hooks.event(&Event::RefreshComplete { type_name: type_name.to_string(), instances: count, elapsed: t.elapsed() });
        (type_name, instances, result.map(|r| r.states))
    });
    let mut state = prior.clone();
    let mut drift = Vec::new();
    for (type_name, instances, result) in join_all(reads).await {
        let states = match result {
            Ok(s) if s.len() == instances.len() => s,
            Ok(s) => {
                diags.push(Diagnostic::error(format!(
                    "refreshing {type_name}: the provider answered {} reads for {} instances",
                    s.len(),
                    instances.len()
                )));
                continue;
            }
            Err(message) => {
                diags.push(Diagnostic::error(message).with_hint(
                    "check the provider's settings and credentials; nothing was changed",
                ));
                continue;
            }
        };
        let schema = providers.schema(type_name);
        for ((addr, before), live) in instances.into_iter().zip(states) {
            let inst = &prior.resources[&addr];
            match live {
                None => {
                    state.resources.remove(&addr);
                    hooks.event(&Event::Drift {
                        address: addr.clone(),
                        action: Action::Delete,
                    });
                    drift.push(drift_change(&addr, inst, before, None));
                }
                Some(mut live) => {
                    if let Some(schema) = schema {
                        schema.mark_sensitive(&mut live);
                    }
                    if live != before {
                        if let Some(i) = state.resources.get_mut(&addr) {
                            i.attributes = live.clone();
                        }
                        // A value only the provider sets (an instance's public IP after an
                        // elastic IP is attached) moving is news to nobody: state follows
                        // it quietly.
                        if !only_computed_changed(schema, &before, &live) {
                            hooks.event(&Event::Drift {
                                address: addr.clone(),
                                action: Action::Update,
                            });
                            // The drift shows what someone changed, not what the provider
                            // set along the way.
                            let before = with_computed_from(schema, before, &live);
                            drift.push(drift_change(&addr, inst, before, Some(live)));
                        }
                    }
                }
            }
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    let calls_after: BTreeMap<String, u64> = providers
        .providers()
        .iter()
        .flat_map(|p| p.api_calls())
        .collect();
    let calls = calls_after
        .into_iter()
        .map(|(k, v)| {
            let before = calls_before.get(&k).copied().unwrap_or(0);
            (k, v - before)
        })
        .filter(|(_, v)| *v > 0)
        .collect();
    Ok(Refreshed {
        state,
        drift,
        stats: RefreshStats {
            calls,
            resources: prior.resources.len(),
            millis: started.elapsed().as_millis() as u64,
        },
    })
}

/// `before` with the provider-set (computed-only) attributes taken from `live`.
fn with_computed_from(
    schema: Option<&omniform_core::ResourceSchema>,
    mut before: Value,
    live: &Value,
) -> Value {
    let (Some(schema), Some(live)) = (schema, live.as_map()) else {
        return before;
    };
    if let Value::Map(map) = &mut before {
        for (name, value) in live {
            if schema
                .attribute(name)
                .is_some_and(|a| a.presence == omniform_core::Presence::Computed)
            {
                map.insert(name.clone(), value.clone());
            }
        }
    }
    before
}

fn only_computed_changed(
    schema: Option<&omniform_core::ResourceSchema>,
    before: &Value,
    after: &Value,
) -> bool {
    let Some(schema) = schema else { return false };
    let mut changed = Vec::new();
    omniform_core::plan::diff_paths(
        before,
        after,
        &mut omniform_core::AttrPath::root(),
        &mut changed,
    );
    changed.iter().all(|p| {
        p.top_level()
            .and_then(|t| schema.attribute(t))
            .is_some_and(|a| a.presence == omniform_core::Presence::Computed)
    })
}

fn drift_change(
    addr: &InstanceAddress,
    inst: &omniform_state::ResourceInstance,
    before: Value,
    after: Option<Value>,
) -> ResourceChange {
    ResourceChange {
        address: addr.clone(),
        action: if after.is_some() {
            Action::Update
        } else {
            Action::Delete
        },
        reason: None,
        reason_detail: None,
        before: Some(before),
        after,
        replace_paths: Vec::new(),
        provider: inst.provider.clone(),
        schema_version: inst.schema_version,
        dependencies: inst.dependencies.clone(),
        prevent_destroy: inst.prevent_destroy,
        deposed: None,
    }
}
