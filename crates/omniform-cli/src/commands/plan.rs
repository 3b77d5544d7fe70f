//! `validate`, `plan`, `show` and `graph`.

use anyhow::{Context, Result};
use omniform::planfile::{self, SavedPlan};
use omniform::render::graph::GraphView;
use omniform::state::StateStore;
use omniform::{Engine, NoHooks, Plan, PlanMode, PlanOptions, Refreshed};

use super::{
    load_stack, load_vars, lock, now, open_store, read, recover_and_read, select, stack_text,
    state_error, store_notice,
};
use crate::Outcome;
use crate::args::{GraphArgs, GraphFormat, PlanArgs, PlanFormat, ShowArgs, StackArgs};
use crate::ui::{Reported, Ui};

pub fn validate(ui: &Ui, args: StackArgs) -> Result<Outcome> {
    let stack = load_stack(ui, &args.stack)?;
    let vars = load_vars(ui, &stack, &args.vars)?;
    let engine = Engine::new();
    let mut diags = engine.validate(&stack);
    if !diags.has_errors() {
        // The checks that need values (CIDRs, ports, record values...) run as a plan
        // against empty state would run them; nothing is read or written.
        let empty = omniform::Snapshot::empty(&stack.name);
        if let Err(found) = engine.plan(&stack, &vars, &empty, &PlanOptions::new(now()?)) {
            diags = found;
        }
    }
    if !diags.is_empty() {
        ui.diagnostics(&diags);
    }
    if diags.has_errors() {
        return Err(Reported.into());
    }
    let count = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    println!(
        "{} {} is valid: {}, {}, {}.",
        ui.out.green("Success!"),
        args.stack.display(),
        count(stack.resources.len(), "resource"),
        count(stack.variables.len(), "variable"),
        count(stack.outputs.len(), "output")
    );
    Ok(Outcome::Ok)
}

/// Prints a plan in the chosen format.
pub fn print_plan(ui: &Ui, plan: &Plan, format: PlanFormat) -> Result<()> {
    match format {
        PlanFormat::Text => print!("{}", omniform::render::text::plan(plan, ui.out)),
        PlanFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&omniform::render::json::plan(plan))?
        ),
        PlanFormat::Markdown => print!("{}", omniform::render::markdown::plan(plan)),
    }
    Ok(())
}

pub async fn plan(ui: &Ui, args: PlanArgs) -> Result<Outcome> {
    let path = &args.stack.stack;
    let stack = load_stack(ui, path)?;
    let vars = load_vars(ui, &stack, &args.stack.vars)?;
    let mut opts = PlanOptions::new(now()?);
    select(ui, &args.select, &mut opts)?;
    if args.destroy {
        opts.mode = PlanMode::Destroy;
    }
    if args.refresh_only {
        opts.mode = PlanMode::RefreshOnly;
    }
    let store = open_store(ui, path, &stack)?;
    let engine = Engine::new();
    // Reading live state takes the lock; planning against recorded state does not, and
    // neither does planning a stack that has no state yet (nothing is created for it).
    let (_guard, prior, refreshed) = if args.refresh && store.dir().exists() {
        let guard = lock(ui, path, &store, "plan", args.lock.lock_timeout)?;
        let prior = recover_and_read(ui, path, &store, &stack)?;
        let refreshed = engine
            .refresh_for(&stack, &vars, &prior, &NoHooks)
            .await
            .map_err(|d| {
                ui.diagnostics(&d);
                anyhow::Error::from(Reported)
            })?;
        (Some(guard), prior, refreshed)
    } else {
        let prior = read(ui, path, &store, &stack)?;
        (
            None,
            prior.clone(),
            Refreshed {
                state: prior,
                drift: Vec::new(),
                stats: Default::default(),
            },
        )
    };
    let plan = engine
        .plan_refreshed(&stack, &vars, &refreshed, &opts, &NoHooks)
        .map_err(|d| {
            ui.diagnostics(&d);
            anyhow::Error::from(Reported)
        })?;
    print_plan(ui, &plan, args.format)?;
    let quiet = super::apply::quiet_updates(&refreshed.state, &prior);
    if args.format == PlanFormat::Text && refreshed.drift.is_empty() && quiet > 0 {
        println!(
            "\nNote: {quiet} object{} values the provider set since the last apply (such as a public IP assigned when an elastic IP was attached); the next apply records them in state.",
            if quiet == 1 { " has" } else { "s have" }
        );
    }
    if args.stats {
        print_stats(&plan);
    }
    if let Some(out) = &args.out {
        let saved = SavedPlan {
            stack_path: std::fs::canonicalize(path)
                .with_context(|| format!("resolving {}", path.display()))?,
            stack_hash: planfile::stack_hash(&stack_text(&stack)),
            plan: plan.clone(),
            variables: vars.clone(),
            targets: opts.targets.clone(),
            excludes: opts.excludes.clone(),
            replace: opts.replace.clone(),
        };
        let cipher = store
            .cipher()
            .map_err(|e| state_error(ui, path, &store, e))?;
        let bytes = planfile::encode(&saved, &cipher)?;
        planfile::write(out, &bytes)?;
        if args.format == PlanFormat::Text {
            println!(
                "\nSaved the plan to: {}\n\nTo perform exactly these actions, run:\n    omniform apply {}",
                out.display(),
                out.display()
            );
        }
    }
    store_notice(ui, &store);
    Ok(if args.detailed_exitcode && plan.has_changes() {
        Outcome::Changes
    } else {
        Outcome::Ok
    })
}

/// The refresh line of `--stats`.
fn print_stats(plan: &Plan) {
    let Some(stats) = &plan.refresh else { return };
    let per_service = if stats.calls.is_empty() {
        "none".to_string()
    } else {
        stats
            .calls
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "\nRefresh: {} resources read with {} API calls in {} ms ({per_service}).",
        stats.resources,
        stats.total_calls(),
        stats.millis
    );
}

pub fn show(ui: &Ui, args: ShowArgs) -> Result<Outcome> {
    let bytes =
        std::fs::read(&args.plan).with_context(|| format!("reading {}", args.plan.display()))?;
    let stack_path = planfile::stack_path_of(&bytes, &args.plan)?;
    let stack = load_stack(ui, &stack_path)?;
    let store = open_store(ui, &stack_path, &stack)?;
    let cipher = store
        .cipher()
        .map_err(|e| state_error(ui, &stack_path, &store, e))?;
    let saved = planfile::decode(&bytes, &args.plan, &cipher)?;
    print_plan(ui, &saved.plan, args.format)?;
    Ok(Outcome::Ok)
}

pub fn graph(ui: &Ui, args: GraphArgs) -> Result<Outcome> {
    let stack = load_stack(ui, &args.stack)?;
    let diags = Engine::new().validate(&stack);
    if diags.has_errors() {
        ui.diagnostics(&diags);
        return Err(Reported.into());
    }
    let g = omniform::StackGraph::build(&stack);
    let view = GraphView {
        nodes: stack.resources.keys().map(ToString::to_string).collect(),
        edges: g
            .dag
            .edges()
            .map(|(a, b, _)| (g.dag.node(a).to_string(), g.dag.node(b).to_string()))
            .collect(),
    };
    match args.format {
        GraphFormat::Dot => print!("{}", omniform::render::graph::dot(&view)),
        GraphFormat::Mermaid => print!("{}", omniform::render::graph::mermaid(&view)),
    }
    Ok(Outcome::Ok)
}
