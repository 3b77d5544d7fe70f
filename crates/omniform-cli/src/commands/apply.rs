//! `apply`, `destroy` and `rollback`: plan (or load a saved plan), ask, carry it out, and
//! write the next state snapshot.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use omniform::planfile;
use omniform::state::{LocalStore, Snapshot, StateStore};
use omniform::{ApplyOptions, Desired, Engine, NoHooks, Plan, PlanMode, PlanOptions, Stack, Value};

use super::{
    load_stack, load_vars, lock, now, open_store, recover_and_read, select, stack_text,
    state_error, store_notice,
};
use crate::Outcome;
use crate::args::{ApplyArgs, DestroyArgs, ImportArgs, RollbackArgs};
use crate::progress::Progress;
use crate::ui::{Reported, Ui, confirm};

/// How to carry out a plan.
struct Flow<'a> {
    stack_path: &'a Path,
    auto_approve: bool,
    parallelism: usize,
    /// What the snapshot says wrote it: apply, destroy, rollback to N.
    operation: String,
}

pub async fn apply(ui: &Ui, args: ApplyArgs) -> Result<Outcome> {
    let bytes =
        std::fs::read(&args.path).with_context(|| format!("reading {}", args.path.display()))?;
    if planfile::looks_like_plan(&bytes) {
        return apply_saved(ui, &args, &bytes).await;
    }
    let stack = load_stack(ui, &args.path)?;
    let vars = load_vars(ui, &stack, &args.vars)?;
    let mut opts = PlanOptions::new(now()?);
    select(ui, &args.select, &mut opts)?;
    if args.refresh_only {
        opts.mode = PlanMode::RefreshOnly;
    }
    let flow = Flow {
        stack_path: &args.path,
        auto_approve: args.auto_approve,
        parallelism: args.parallelism,
        operation: "apply".into(),
    };
    plan_and_apply(
        ui,
        &stack,
        &vars,
        opts,
        args.refresh,
        args.lock.lock_timeout,
        flow,
    )
    .await
}

pub async fn destroy(ui: &Ui, args: DestroyArgs) -> Result<Outcome> {
    let stack = load_stack(ui, &args.stack.stack)?;
    let vars = load_vars(ui, &stack, &args.stack.vars)?;
    let mut opts = PlanOptions::new(now()?);
    select(ui, &args.select, &mut opts)?;
    opts.mode = PlanMode::Destroy;
    let flow = Flow {
        stack_path: &args.stack.stack,
        auto_approve: args.auto_approve,
        parallelism: args.parallelism,
        operation: "destroy".into(),
    };
    plan_and_apply(ui, &stack, &vars, opts, true, args.lock.lock_timeout, flow).await
}

async fn plan_and_apply(
    ui: &Ui,
    stack: &Stack,
    vars: &BTreeMap<String, Value>,
    opts: PlanOptions,
    refresh: bool,
    timeout: std::time::Duration,
    flow: Flow<'_>,
) -> Result<Outcome> {
    let path = flow.stack_path;
    let store = open_store(ui, path, stack)?;
    let _guard = lock(ui, path, &store, &flow.operation, timeout)?;
    let prior = recover_and_read(ui, path, &store, stack)?;
    let engine = Engine::new();
    let refreshed = if refresh {
        engine
            .refresh_for(stack, vars, &prior, &NoHooks)
            .await
            .map_err(|d| {
                ui.diagnostics(&d);
                anyhow::Error::from(Reported)
            })?
    } else {
        omniform::Refreshed {
            state: prior.clone(),
            drift: Vec::new(),
            stats: Default::default(),
        }
    };
    let plan = engine
        .plan_refreshed(stack, vars, &refreshed, &opts, &NoHooks)
        .map_err(|d| {
            ui.diagnostics(&d);
            anyhow::Error::from(Reported)
        })?;
    // Credentials are checked before the plan is shown, so nobody approves a plan that
    // cannot start.
    if plan.has_changes() && plan.mode != PlanMode::RefreshOnly {
        configure(ui, &engine, stack, vars, &plan).await?;
    }
    print!("{}", omniform::render::text::plan(&plan, ui.out));
    if !plan.has_changes() && refreshed.drift.is_empty() {
        // Values only the provider sets moved (an instance's public IP once an elastic IP
        // is attached): state follows them without asking.
        if quiet_updates(&refreshed.state, &prior) > 0 {
            return record_refresh(ui, &store, path, &refreshed.state, &prior);
        }
        return Ok(Outcome::Ok);
    }
    if plan.mode == PlanMode::RefreshOnly {
        if !flow.auto_approve && !confirm("Would you like to update the Omniform state to reflect these detected changes?", "Omniform will write these changes to the state without modifying any real infrastructure.").await? {
            println!("\nApply cancelled.");
            return Err(Reported.into());
        }
        return record_refresh(ui, &store, path, &refreshed.state, &prior);
    }
    if plan.has_changes() && !flow.auto_approve {
        let (question, detail) = if plan.mode == PlanMode::Destroy {
            (
                "Do you really want to destroy all resources?",
                "Omniform will destroy all your managed infrastructure, as shown above.",
            )
        } else {
            (
                "Do you want to perform these actions?",
                "Omniform will perform the actions described above.",
            )
        };
        if !confirm(question, detail).await? {
            println!("\nApply cancelled.");
            return Err(Reported.into());
        }
    }
    execute(
        ui,
        &engine,
        Desired::Stack { stack, vars },
        &plan,
        &refreshed.state,
        &prior,
        &store,
        &flow,
    )
    .await
}

/// Configures the providers a plan needs (credentials are checked here).
async fn configure(
    ui: &Ui,
    engine: &Engine,
    stack: &Stack,
    vars: &BTreeMap<String, Value>,
    plan: &Plan,
) -> Result<()> {
    engine
        .configure_for_plan(stack, vars, plan)
        .await
        .map_err(|d| {
            ui.diagnostics(&d);
            anyhow::Error::from(Reported)
        })
}

/// Writes refreshed state as the next snapshot: `apply --refresh-only`.
/// How many instances refresh updated without drift to show: values the provider set.
pub fn quiet_updates(refreshed: &Snapshot, prior: &Snapshot) -> usize {
    refreshed
        .resources
        .iter()
        .filter(|(a, i)| prior.resources.get(*a).is_some_and(|p| p != *i))
        .count()
}

fn record_refresh(
    ui: &Ui,
    store: &LocalStore,
    path: &Path,
    refreshed: &Snapshot,
    on_disk: &Snapshot,
) -> Result<Outcome> {
    let mut next = refreshed.clone();
    next.serial = on_disk.serial + 1;
    next.written_at = omniform::OffsetDateTime::now_utc();
    next.omniform_version = env!("CARGO_PKG_VERSION").to_string();
    let counts = next.changes_since(on_disk);
    store
        .write(&next, "refresh-only", counts)
        .map_err(|e| state_error(ui, path, store, e))?;
    println!(
        "\n{} Resources: 0 added, 0 changed, 0 destroyed; the state now records what exists (serial {}).",
        ui.out.green(&ui.out.bold("Apply complete!")),
        next.serial
    );
    Ok(Outcome::Ok)
}

async fn apply_saved(ui: &Ui, args: &ApplyArgs, bytes: &[u8]) -> Result<Outcome> {
    if !args.vars.vars.is_empty()
        || !args.vars.var_files.is_empty()
        || !args.select.target.is_empty()
        || !args.select.exclude.is_empty()
        || !args.select.replace.is_empty()
    {
        anyhow::bail!(
            "a saved plan carries its own variables and targets; apply it without --var, --var-file, --target, --exclude or --replace"
        );
    }
    let stack_path = planfile::stack_path_of(bytes, &args.path)?;
    let stack = load_stack(ui, &stack_path)?;
    let store = open_store(ui, &stack_path, &stack)?;
    let _guard = lock(ui, &stack_path, &store, "apply", args.lock.lock_timeout)?;
    let prior = recover_and_read(ui, &stack_path, &store, &stack)?;
    let cipher = store
        .cipher()
        .map_err(|e| state_error(ui, &stack_path, &store, e))?;
    let saved = planfile::decode(bytes, &args.path, &cipher)?;
    let (lineage, serial) = if prior.is_new() {
        (None, None)
    } else {
        (Some(prior.lineage.as_str()), Some(prior.serial))
    };
    saved.check_fresh(&stack_text(&stack), lineage, serial)?;
    let engine = Engine::new();
    if saved.plan.mode == PlanMode::RefreshOnly {
        anyhow::bail!(
            "a refresh-only plan is applied with `omniform apply --refresh-only {}`",
            stack_path.display()
        );
    }
    let operation = if saved.plan.mode == PlanMode::Destroy {
        "destroy"
    } else {
        "apply"
    };
    let flow = Flow {
        stack_path: &stack_path,
        auto_approve: true,
        parallelism: args.parallelism,
        operation: operation.into(),
    };
    println!(
        "Applying the saved plan {} ({}).",
        args.path.display(),
        omniform::render::text::summary_line(&saved.plan)
    );
    configure(ui, &engine, &stack, &saved.variables, &saved.plan).await?;
    execute(
        ui,
        &engine,
        Desired::Stack {
            stack: &stack,
            vars: &saved.variables,
        },
        &saved.plan,
        &prior,
        &prior,
        &store,
        &flow,
    )
    .await
}

pub async fn rollback(ui: &Ui, args: RollbackArgs) -> Result<Outcome> {
    let path = &args.stack;
    let stack = load_stack(ui, path)?;
    let vars = load_vars(ui, &stack, &args.vars)?;
    let store = open_store(ui, path, &stack)?;
    let operation = format!("rollback to {}", args.to);
    let _guard = lock(ui, path, &store, &operation, args.lock.lock_timeout)?;
    let current = recover_and_read(ui, path, &store, &stack)?;
    if current.is_new() {
        anyhow::bail!("nothing to roll back: {} has no state yet", stack.name);
    }
    let target = store
        .read_serial(args.to)
        .map_err(|e| state_error(ui, path, &store, e))?;
    let engine = Engine::new();
    let plan = engine
        .rollback_plan(&current, &target, now()?)
        .map_err(|d| {
            ui.diagnostics(&d);
            anyhow::Error::from(Reported)
        })?;
    println!(
        "Rolling {} back from serial {} to serial {} (written {} by omniform {}).\n",
        stack.name,
        current.serial,
        target.serial,
        fmt_time(&target),
        target.omniform_version
    );
    if plan.has_changes() {
        configure(ui, &engine, &stack, &vars, &plan).await?;
    }
    print!("{}", omniform::render::text::plan(&plan, ui.out));
    if !plan.has_changes() {
        return Ok(Outcome::Ok);
    }
    if !args.auto_approve
        && !confirm(
            "Do you want to roll back?",
            "Omniform will perform the actions described above.",
        )
        .await?
    {
        println!("\nRollback cancelled.");
        return Err(Reported.into());
    }
    let flow = Flow {
        stack_path: path,
        auto_approve: true,
        parallelism: args.parallelism,
        operation,
    };
    execute(
        ui,
        &engine,
        Desired::Fixed {
            outputs_from: Some((&stack, &vars)),
        },
        &plan,
        &current,
        &current,
        &store,
        &flow,
    )
    .await
}

fn fmt_time(s: &Snapshot) -> String {
    s.written_at
        .format(&omniform::time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Applies `plan` on top of `base`, then writes the next snapshot after `on_disk`.
#[allow(clippy::too_many_arguments)]
async fn execute(
    ui: &Ui,
    engine: &Engine,
    desired: Desired<'_>,
    plan: &Plan,
    base: &Snapshot,
    on_disk: &Snapshot,
    store: &LocalStore,
    flow: &Flow<'_>,
) -> Result<Outcome> {
    let path = flow.stack_path;
    let stop = Arc::new(AtomicBool::new(false));
    let opts = ApplyOptions {
        parallelism: flow.parallelism,
        now: super::now()?,
        stop: stop.clone(),
    };
    let interrupts = tokio::spawn(async move {
        let mut count = 0;
        while tokio::signal::ctrl_c().await.is_ok() {
            count += 1;
            if count == 1 {
                stop.store(true, Ordering::SeqCst);
                eprintln!(
                    "\nInterrupt received: no new operations will start; waiting for the running ones, then saving state. Press Ctrl-C again to exit at once."
                );
            } else {
                eprintln!("Exiting at once; the journal keeps every operation that finished.");
                std::process::exit(130);
            }
        }
    });
    println!();
    let progress = Progress::new(ui.out, ui.tty, plan.actionable().count());
    let applied = engine
        .apply_recorded(
            store,
            desired,
            plan,
            base,
            on_disk,
            &flow.operation,
            &progress,
            &opts,
        )
        .await;
    progress.finish();
    interrupts.abort();
    let applied = applied.map_err(|e| state_error(ui, path, store, e))?;
    let (report, next) = (&applied.report, &applied.state);
    store_notice(ui, store);
    for d in report.output_errors.iter() {
        ui.notice(&d.summary);
    }

    let c = report.counts;
    let verb = if plan.mode == PlanMode::Destroy {
        "Destroy"
    } else {
        "Apply"
    };
    if report.is_success() {
        let summary = if plan.mode == PlanMode::Destroy {
            format!("Resources: {} destroyed.", c.destroyed)
        } else {
            format!(
                "Resources: {} added, {} changed, {} destroyed.",
                c.added, c.changed, c.destroyed
            )
        };
        println!(
            "\n{} {summary}",
            ui.out.green(&ui.out.bold(&format!("{verb} complete!")))
        );
        print_outputs(ui, next);
        return Ok(Outcome::Ok);
    }
    eprintln!();
    for (addr, message) in &report.failed {
        eprintln!("{}: {addr}: {message}", ui.err.red(&ui.err.bold("error")));
    }
    if !report.skipped.is_empty() {
        eprintln!(
            "skipped because something they depend on failed: {}",
            report
                .skipped
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if report.interrupted() {
        eprintln!(
            "not started because of the interrupt: {} operations",
            report.not_started.len()
        );
    }
    let next = if report.interrupted() {
        "Run `omniform apply` again to finish."
    } else {
        "Fix what failed (the messages above), then run `omniform apply` again to finish."
    };
    let saved = match applied.serial {
        Some(serial) => format!("state saved as serial {serial}"),
        None => "state unchanged".into(),
    };
    eprintln!(
        "\n{} {} added, {} changed, {} destroyed; {} failed, {} skipped, {} not started; {saved}. {next}",
        ui.err.red(&ui.err.bold(&format!(
            "{verb} {}:",
            if report.interrupted() {
                "interrupted"
            } else {
                "failed"
            }
        ))),
        c.added,
        c.changed,
        c.destroyed,
        report.failed.len(),
        report.skipped.len(),
        report.not_started.len()
    );
    Err(Reported.into())
}

/// Prints the outputs after an apply, secrets masked.
fn print_outputs(ui: &Ui, state: &Snapshot) {
    if state.outputs.is_empty() {
        return;
    }
    println!("\n{}\n", ui.out.bold("Outputs:"));
    for (name, o) in &state.outputs {
        println!(
            "{name} = {}",
            omniform::render::text::output_value(&o.value, o.sensitive)
        );
    }
}

pub async fn import(ui: &Ui, args: ImportArgs) -> Result<Outcome> {
    let path = &args.stack.stack;
    let stack = load_stack(ui, path)?;
    let vars = load_vars(ui, &stack, &args.stack.vars)?;
    let address: omniform::InstanceAddress = args
        .address
        .parse()
        .map_err(|e| anyhow::anyhow!("invalid address: {e}"))?;
    let diags = Engine::new().validate(&stack);
    if diags.has_errors() {
        ui.diagnostics(&diags);
        return Err(Reported.into());
    }
    let store = open_store(ui, path, &stack)?;
    let _guard = lock(ui, path, &store, "import", args.lock.lock_timeout)?;
    let prior = recover_and_read(ui, path, &store, &stack)?;
    if prior.resources.contains_key(&address) {
        anyhow::bail!(
            "{address} is already managed by omniform; to import another object there, first forget this one with `omniform state rm {} {address}`",
            path.display()
        );
    }
    let engine = Engine::new();
    let instance = engine
        .import_resource(&stack, &vars, &address, &args.id, now()?)
        .await
        .map_err(|d| {
            ui.diagnostics(&d);
            anyhow::Error::from(Reported)
        })?;
    let mut next = prior.clone();
    next.ensure_lineage();
    next.resources.insert(address.clone(), instance.clone());
    next.serial = prior.serial + 1;
    next.written_at = omniform::OffsetDateTime::now_utc();
    next.omniform_version = env!("CARGO_PKG_VERSION").to_string();
    let counts = next.changes_since(&prior);
    store
        .write(&next, &format!("import {address}"), counts)
        .map_err(|e| state_error(ui, path, &store, e))?;
    store_notice(ui, &store);
    print!(
        "{}",
        omniform::render::text::resource_state(&address, &instance.attributes, ui.out)
    );
    println!(
        "\n{} {address} is now in state (serial {}). Run `omniform plan {}` to see how it differs from the stack.",
        ui.out.green(&ui.out.bold("Import successful!")),
        next.serial,
        path.display()
    );
    Ok(Outcome::Ok)
}
