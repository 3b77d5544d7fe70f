//! The commands: each reads its inputs, calls the library and renders the result.

pub mod apply;
pub mod plan;
pub mod state;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use omniform::state::{LocalStore, LockGuard, Snapshot, StateError, StateStore};
use omniform::{
    Diagnostic, Diagnostics, InstanceAddress, OffsetDateTime, PlanOptions, SourceFile, Stack,
    Value, VariableInputs,
};

use crate::args::{SelectArgs, VarArgs};
use crate::ui::{Reported, Ui};

/// Reads and parses a stack file, printing its diagnostics.
pub fn load_stack(ui: &Ui, path: &Path) -> Result<Stack> {
    omniform::load_stack(path).map_err(|d| {
        ui.diagnostics(&d);
        Reported.into()
    })
}

/// The stack file's text (with a variant's), for hashing.
pub fn stack_text(stack: &Stack) -> String {
    stack.text()
}

/// Resolves variables from flags, files and the environment, printing every problem.
pub fn load_vars(ui: &Ui, stack: &Stack, args: &VarArgs) -> Result<BTreeMap<String, Value>> {
    let mut inputs = VariableInputs {
        cli: args.vars.clone(),
        ..Default::default()
    };
    for path in &args.var_files {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading variables file {}", path.display()))?;
        inputs
            .files
            .push(SourceFile::new(path.display().to_string(), text));
    }
    for (k, v) in std::env::vars() {
        if let Some(name) = k.strip_prefix("OMNIFORM_VAR_") {
            inputs.env.push((name.to_string(), v));
        }
    }
    omniform::resolve_variables(stack, &inputs).map_err(|d| {
        ui.diagnostics(&d);
        Reported.into()
    })
}

/// The clock: now, or `OMNIFORM_NOW` (RFC 3339) so tests can move time.
pub fn now() -> Result<OffsetDateTime> {
    match std::env::var("OMNIFORM_NOW") {
        Ok(text) => OffsetDateTime::parse(
            &text,
            &omniform::time::format_description::well_known::Rfc3339,
        )
        .with_context(|| format!("OMNIFORM_NOW={text:?} is not an RFC 3339 time")),
        Err(_) => Ok(OffsetDateTime::now_utc()),
    }
}

fn addresses(flag: &str, list: &[String], diags: &mut Diagnostics) -> Vec<InstanceAddress> {
    let mut out = Vec::new();
    for text in list {
        match text.parse::<InstanceAddress>() {
            Ok(a) => out.push(a),
            Err(e) => diags.push(
                Diagnostic::error(format!("invalid {flag} {text:?}: {}", e.reason))
                    .with_hint("addresses look like omniform_data.server, omniform_data.server[0] or omniform_data.server[\"a\"]"),
            ),
        }
    }
    out
}

/// Reads --target, --exclude and --replace into plan options.
pub fn select(ui: &Ui, args: &SelectArgs, opts: &mut PlanOptions) -> Result<()> {
    let mut diags = Diagnostics::new();
    opts.targets = addresses("--target", &args.target, &mut diags);
    opts.excludes = addresses("--exclude", &args.exclude, &mut diags);
    opts.replace = addresses("--replace", &args.replace, &mut diags);
    if diags.has_errors() {
        ui.diagnostics(&diags);
        return Err(Reported.into());
    }
    Ok(())
}

/// Opens the stack's state store; the key comes from OMNIFORM_STATE_KEY or the key file.
pub fn open_store(ui: &Ui, stack_path: &Path, stack: &Stack) -> Result<LocalStore> {
    let env_key = std::env::var("OMNIFORM_STATE_KEY")
        .ok()
        .filter(|k| !k.is_empty());
    omniform::state::open_store(stack_path, stack, env_key).map_err(|d| {
        ui.diagnostics(&d);
        Reported.into()
    })
}

/// Prints a state error (a lock conflict in full) and returns it as reported.
pub fn state_error(
    ui: &Ui,
    stack_path: &Path,
    store: &LocalStore,
    err: StateError,
) -> anyhow::Error {
    ui.state_error(stack_path, &store.location(), &err);
    Reported.into()
}

/// Takes the state lock, saying so when it has to wait.
pub fn lock(
    ui: &Ui,
    stack_path: &Path,
    store: &LocalStore,
    operation: &str,
    timeout: Duration,
) -> Result<LockGuard> {
    store
        .lock(operation, timeout, &mut |holder| {
            ui.notice(&format!(
                "waiting up to {}s for the state lock held by {} ({}, pid {})...",
                timeout.as_secs(),
                holder.who,
                holder.operation,
                holder.pid
            ))
        })
        .map_err(|e| state_error(ui, stack_path, store, e))
}

/// Under the lock: folds a journal left by a killed apply, then reads the newest state.
pub fn recover_and_read(
    ui: &Ui,
    stack_path: &Path,
    store: &LocalStore,
    stack: &Stack,
) -> Result<Snapshot> {
    let (recovered, snapshot) = omniform::recover_and_read(store, &stack.name)
        .map_err(|e| state_error(ui, stack_path, store, e))?;
    if recovered > 0 {
        ui.notice(&format!(
            "recovered {recovered} finished operations from an apply that was interrupted; they are now in state"
        ));
    }
    Ok(snapshot)
}

/// The newest state (with any journal folded in, in memory), or an empty one.
pub fn read(ui: &Ui, stack_path: &Path, store: &LocalStore, stack: &Stack) -> Result<Snapshot> {
    Ok(store
        .read_latest()
        .map_err(|e| state_error(ui, stack_path, store, e))?
        .unwrap_or_else(|| Snapshot::empty(&stack.name)))
}

/// Prints the store's one-time notice, if any.
pub fn store_notice(ui: &Ui, store: &LocalStore) {
    if let Some(n) = store.take_notice() {
        ui.notice(&n);
    }
}
