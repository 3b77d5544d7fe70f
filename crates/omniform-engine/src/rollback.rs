//! Rollback: plan the changes that bring the resources back to an earlier snapshot. The
//! snapshot's attributes are the desired state of every resource it held; what was added
//! since is deleted, what was deleted since is made again.

use std::collections::BTreeSet;

use omniform_core::{
    Action, Diagnostic, Diagnostics, InstanceAddress, OutputChange, Plan, PlanMode, Presence,
    ResourceChange, Value,
};
use omniform_stack::Lifecycle;
use omniform_state::Snapshot;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::plan::{InstanceInput, decide, prevent_destroy_error};
use crate::providers::ProviderSet;

/// The plan that turns `current` back into `target`.
pub fn rollback_plan(
    current: &Snapshot,
    target: &Snapshot,
    providers: &ProviderSet,
    now: OffsetDateTime,
) -> Result<Plan, Diagnostics> {
    let mut diags = Diagnostics::new();
    let mut changes = Vec::new();
    let addresses: BTreeSet<&InstanceAddress> = current
        .resources
        .keys()
        .chain(target.resources.keys())
        .collect();
    for address in addresses {
        let type_name = &address.resource.type_name;
        let Some((provider, schema)) = providers.get(type_name) else {
            diags.push(
                Diagnostic::error(format!(
                    "cannot roll back {address}: no provider serves resource type {type_name}"
                ))
                .with_address(address),
            );
            continue;
        };
        let cur = current.resources.get(address);
        match target.resources.get(address) {
            Some(t) => {
                // The settable attributes of the snapshot are the configuration; computed
                // ones come from the provider (or, for state-only objects, the snapshot).
                let mut config = t.attributes.clone();
                for attr in schema
                    .attributes
                    .iter()
                    .filter(|a| a.presence == Presence::Computed)
                {
                    config.set_path(&omniform_core::AttrPath::attr(&attr.name), Value::Null);
                }
                let lifecycle = Lifecycle {
                    create_before_destroy: t.create_before_destroy,
                    prevent_destroy: cur.map(|c| c.prevent_destroy).unwrap_or(t.prevent_destroy),
                    ..Lifecycle::default()
                };
                match decide(InstanceInput {
                    address: address.clone(),
                    provider: provider.as_ref(),
                    schema,
                    config,
                    prior: cur,
                    lifecycle: &lifecycle,
                    replace_requested: false,
                    dependencies: t.dependencies.clone(),
                    now,
                    restore: Some(&t.attributes),
                }) {
                    Ok(mut change) => {
                        // An object that lives only in state (a generated key replaced
                        // since) comes back exactly, even where its settings did not change.
                        if let Some(cur) = cur
                            && matches!(change.action, Action::NoOp | Action::Update)
                            && provider.can_restore(type_name)
                            && cur.attributes != t.attributes
                        {
                            let mut after = t.attributes.clone();
                            schema.mark_sensitive(&mut after);
                            change.action = Action::Update;
                            change.after = Some(after);
                        }
                        if change.action != Action::NoOp {
                            change
                                .reason_detail
                                .get_or_insert_with(|| format!("back to serial {}", target.serial));
                        }
                        changes.push(change);
                    }
                    Err(d) => diags.push(*d),
                }
            }
            None => {
                let cur = cur.expect("the address came from one of the two");
                if cur.prevent_destroy {
                    diags.push(prevent_destroy_error(address));
                    continue;
                }
                let mut before = cur.attributes.clone();
                schema.mark_sensitive(&mut before);
                changes.push(ResourceChange {
                    address: address.clone(),
                    action: Action::Delete,
                    reason: None,
                    reason_detail: Some(format!("not in serial {}", target.serial)),
                    before: Some(before),
                    after: None,
                    replace_paths: Vec::new(),
                    provider: cur.provider.clone(),
                    schema_version: cur.schema_version,
                    dependencies: cur.dependencies.clone(),
                    prevent_destroy: false,
                    deposed: None,
                });
            }
        }
    }
    changes.extend(current.deposed.iter().map(crate::plan::deposed_delete));
    if diags.has_errors() {
        return Err(diags);
    }
    let marked = |o: &omniform_state::OutputState| {
        if o.sensitive {
            o.value.clone().sensitive()
        } else {
            o.value.clone()
        }
    };
    let names: BTreeSet<&String> = current
        .outputs
        .keys()
        .chain(target.outputs.keys())
        .collect();
    let outputs = names
        .into_iter()
        .map(|name| {
            let before = current.outputs.get(name).map(marked);
            let after = target.outputs.get(name).map(marked);
            let action = match (&before, &after) {
                (None, Some(_)) => Action::Create,
                (Some(_), None) => Action::Delete,
                (Some(b), Some(a)) if b == a => Action::NoOp,
                _ => Action::Update,
            };
            let sensitive = target
                .outputs
                .get(name)
                .or(current.outputs.get(name))
                .is_some_and(|o| o.sensitive);
            OutputChange {
                name: name.clone(),
                action,
                before,
                after,
                sensitive,
            }
        })
        .collect();
    Ok(Plan {
        stack: current.stack.clone(),
        mode: PlanMode::Normal,
        changes,
        drift: Vec::new(),
        outputs,
        variables: Default::default(),
        prior_lineage: (!current.is_new()).then(|| current.lineage.clone()),
        prior_serial: (!current.is_new()).then_some(current.serial),
        targets: Vec::new(),
        excludes: Vec::new(),
        warnings: Vec::new(),
        refresh: None,
        timestamp: now.format(&Rfc3339).unwrap_or_default(),
    })
}
