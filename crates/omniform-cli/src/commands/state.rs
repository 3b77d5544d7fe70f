//! `state list | show | history | rm | mv`, `output` and `force-unlock`.

use std::path::Path;

use anyhow::Result;
use omniform::state::StateStore;
use omniform::{InstanceAddress, OffsetDateTime, ResourceAddress};
use serde_json::json;

use super::{load_stack, lock, open_store, read, recover_and_read, state_error};
use crate::Outcome;
use crate::args::{ForceUnlockArgs, LockArgs, OutputArgs};
use crate::ui::{Reported, Ui};

/// Instance addresses in `snapshot` that `pattern` names: one instance, or every instance of
/// a resource when it has no key.
fn matching(snapshot: &omniform::Snapshot, pattern: &str) -> Result<Vec<InstanceAddress>> {
    let addr: InstanceAddress = pattern.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(snapshot
        .resources
        .keys()
        .filter(|a| {
            if addr.key.is_some() {
                **a == addr
            } else {
                a.resource == addr.resource
            }
        })
        .cloned()
        .collect())
}

pub fn list(ui: &Ui, stack_path: &Path) -> Result<Outcome> {
    let stack = load_stack(ui, stack_path)?;
    let store = open_store(ui, stack_path, &stack)?;
    let snapshot = read(ui, stack_path, &store, &stack)?;
    for addr in snapshot.resources.keys() {
        println!("{addr}");
    }
    for d in &snapshot.deposed {
        println!("{} (deposed object {})", d.address, d.key);
    }
    Ok(Outcome::Ok)
}

pub fn show(ui: &Ui, stack_path: &Path, address: &str, serial: Option<u64>) -> Result<Outcome> {
    let stack = load_stack(ui, stack_path)?;
    let store = open_store(ui, stack_path, &stack)?;
    let snapshot = match serial {
        Some(s) => store
            .read_serial(s)
            .map_err(|e| state_error(ui, stack_path, &store, e))?,
        None => read(ui, stack_path, &store, &stack)?,
    };
    let found = matching(&snapshot, address)?;
    if found.is_empty() {
        anyhow::bail!(
            "no resource instance {address} in state{}; `omniform state list {}` shows what there is",
            serial
                .map(|s| format!(" at serial {s}"))
                .unwrap_or_default(),
            stack_path.display()
        );
    }
    for (i, addr) in found.iter().enumerate() {
        if i > 0 {
            println!();
        }
        print!(
            "{}",
            omniform::render::text::resource_state(
                addr,
                &snapshot.resources[addr].attributes,
                ui.out
            )
        );
    }
    Ok(Outcome::Ok)
}

pub fn history(ui: &Ui, stack_path: &Path) -> Result<Outcome> {
    let stack = load_stack(ui, stack_path)?;
    let store = open_store(ui, stack_path, &stack)?;
    let entries = store
        .history()
        .map_err(|e| state_error(ui, stack_path, &store, e))?;
    if entries.is_empty() {
        println!("{} has no state yet.", stack.name);
        return Ok(Outcome::Ok);
    }
    for e in entries {
        println!(
            "{:>6}  {}  omniform {}  +{} ~{} -{}  {} resources  {}",
            e.serial,
            e.written_at,
            e.omniform_version,
            e.changes.added,
            e.changes.changed,
            e.changes.destroyed,
            e.resources,
            e.operation
        );
    }
    Ok(Outcome::Ok)
}

/// Writes `next` as the next serial under the lock already held.
fn write_next(
    ui: &Ui,
    stack_path: &Path,
    store: &omniform::state::LocalStore,
    prior: &omniform::Snapshot,
    mut next: omniform::Snapshot,
    operation: &str,
) -> Result<()> {
    next.serial = prior.serial + 1;
    next.written_at = OffsetDateTime::now_utc();
    next.omniform_version = env!("CARGO_PKG_VERSION").to_string();
    let counts = next.changes_since(prior);
    store
        .write(&next, operation, counts)
        .map_err(|e| state_error(ui, stack_path, store, e))
}

pub fn rm(
    ui: &Ui,
    stack_path: &Path,
    addresses: &[String],
    lock_args: &LockArgs,
) -> Result<Outcome> {
    let stack = load_stack(ui, stack_path)?;
    let store = open_store(ui, stack_path, &stack)?;
    let _guard = lock(ui, stack_path, &store, "state rm", lock_args.lock_timeout)?;
    let prior = recover_and_read(ui, stack_path, &store, &stack)?;
    let mut next = prior.clone();
    let mut removed = Vec::new();
    for pattern in addresses {
        let found = matching(&prior, pattern)?;
        if found.is_empty() {
            anyhow::bail!("no resource instance {pattern} in state; nothing was removed");
        }
        for a in found {
            next.resources.remove(&a);
            removed.push(a);
        }
    }
    write_next(ui, stack_path, &store, &prior, next, "state rm")?;
    for a in &removed {
        println!("Removed {a}");
    }
    println!(
        "Successfully removed {} resource instance(s); the objects themselves were not destroyed.",
        removed.len()
    );
    Ok(Outcome::Ok)
}

pub fn mv(
    ui: &Ui,
    stack_path: &Path,
    from: &str,
    to: &str,
    lock_args: &LockArgs,
) -> Result<Outcome> {
    let stack = load_stack(ui, stack_path)?;
    let store = open_store(ui, stack_path, &stack)?;
    let _guard = lock(ui, stack_path, &store, "state mv", lock_args.lock_timeout)?;
    let prior = recover_and_read(ui, stack_path, &store, &stack)?;
    let from_addr: InstanceAddress = from
        .parse()
        .map_err(|e| anyhow::anyhow!("invalid source address: {e}"))?;
    let to_addr: InstanceAddress = to
        .parse()
        .map_err(|e| anyhow::anyhow!("invalid destination address: {e}"))?;
    if from_addr.resource.type_name != to_addr.resource.type_name {
        anyhow::bail!(
            "cannot move {from} to {to}: a resource keeps its type ({} is not {})",
            from_addr.resource.type_name,
            to_addr.resource.type_name
        );
    }
    let found = matching(&prior, from)?;
    if found.is_empty() {
        anyhow::bail!("no resource instance {from} in state; nothing was moved");
    }
    let mut next = prior.clone();
    let mut moves = Vec::new();
    for a in found {
        let dest = if from_addr.key.is_none() && to_addr.key.is_none() {
            ResourceAddress::new(&to_addr.resource.type_name, &to_addr.resource.name)
                .instance(a.key.clone())
        } else {
            to_addr.clone()
        };
        if prior.resources.contains_key(&dest) {
            anyhow::bail!(
                "cannot move {a} to {dest}: {dest} is already in state; nothing was moved"
            );
        }
        let inst = next.resources.remove(&a).expect("found in state");
        next.resources.insert(dest.clone(), inst);
        moves.push((a, dest));
    }
    write_next(ui, stack_path, &store, &prior, next, "state mv")?;
    for (a, b) in moves {
        println!("Moved {a} to {b}");
    }
    Ok(Outcome::Ok)
}

pub fn output(ui: &Ui, args: OutputArgs) -> Result<Outcome> {
    let stack = load_stack(ui, &args.stack)?;
    let store = open_store(ui, &args.stack, &stack)?;
    let snapshot = read(ui, &args.stack, &store, &stack)?;
    let shown = |o: &omniform::state::OutputState, reveal: bool| -> serde_json::Value {
        if o.sensitive && !reveal {
            serde_json::Value::Null
        } else {
            o.value.to_json(false)
        }
    };
    match &args.name {
        Some(name) => {
            let Some(o) = snapshot.outputs.get(name) else {
                let names: Vec<&String> = snapshot.outputs.keys().collect();
                anyhow::bail!(
                    "no output {name:?} in state; the outputs are: {}",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names
                            .iter()
                            .map(|n| n.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                );
            };
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&shown(o, args.show_sensitive))?
                );
            } else if o.sensitive && !args.show_sensitive {
                println!("<sensitive>");
                ui.notice("the value is sensitive; add --show-sensitive to print it");
            } else {
                match &o.value {
                    omniform::Value::String(s) => println!("{s}"),
                    v => println!("{}", omniform::render::text::output_value(v, false)),
                }
            }
        }
        None => {
            if args.json {
                let doc: serde_json::Map<String, serde_json::Value> = snapshot
                    .outputs
                    .iter()
                    .map(|(k, o)| {
                        (
                            k.clone(),
                            json!({ "sensitive": o.sensitive, "value": shown(o, args.show_sensitive) }),
                        )
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&doc)?);
            } else {
                for (name, o) in &snapshot.outputs {
                    println!(
                        "{name} = {}",
                        omniform::render::text::output_value(
                            &o.value,
                            o.sensitive && !args.show_sensitive
                        )
                    );
                }
            }
        }
    }
    Ok(Outcome::Ok)
}

pub fn force_unlock(ui: &Ui, args: ForceUnlockArgs) -> Result<Outcome> {
    let stack = load_stack(ui, &args.stack)?;
    let store = open_store(ui, &args.stack, &stack)?;
    match store.force_unlock(&args.lock_id) {
        Ok(holder) => {
            println!(
                "{} the lock {} held by {} (pid {}, {}) was released.",
                ui.out.green("Unlocked:"),
                holder.id,
                holder.who,
                holder.pid,
                holder.operation
            );
            Ok(Outcome::Ok)
        }
        Err(e) => {
            ui.state_error(&args.stack, &store.location(), &e);
            Err(Reported.into())
        }
    }
}
