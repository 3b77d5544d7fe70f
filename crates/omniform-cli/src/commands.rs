//! The commands: each reads its inputs, calls the library and renders the result.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use omniform::render::graph::GraphView;
use omniform::{
    Diagnostic, Diagnostics, Engine, InstanceAddress, OffsetDateTime, PlanMode, PlanOptions,
    Snapshot, SourceFile, Stack, Value, VariableInputs,
};

use crate::Outcome;
use crate::args::{GraphArgs, GraphFormat, PlanArgs, PlanFormat, StackArgs};
use crate::ui::{Reported, Ui};

/// Loads the stack and resolves its variables, reporting every problem of both.
fn load(ui: &Ui, args: &StackArgs) -> Result<(Stack, BTreeMap<String, Value>)> {
    let stack = match omniform::load_stack(&args.stack) {
        Ok(s) => s,
        Err(d) => {
            ui.diagnostics(&d);
            return Err(Reported.into());
        }
    };
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
    match omniform::resolve_variables(&stack, &inputs) {
        Ok(vars) => Ok((stack, vars)),
        Err(d) => {
            ui.diagnostics(&d);
            Err(Reported.into())
        }
    }
}

/// The clock: now, or `OMNIFORM_NOW` (RFC 3339) so tests can move time.
fn now() -> Result<OffsetDateTime> {
    match std::env::var("OMNIFORM_NOW") {
        Ok(text) => OffsetDateTime::parse(
            &text,
            &omniform::time::format_description::well_known::Rfc3339,
        )
        .with_context(|| format!("OMNIFORM_NOW={text:?} is not an RFC 3339 time")),
        Err(_) => Ok(OffsetDateTime::now_utc()),
    }
}

fn addresses(flag: &str, list: &[String]) -> Result<Vec<InstanceAddress>, Diagnostics> {
    let mut diags = Diagnostics::new();
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
    diags.into_result(out)
}

pub fn validate(ui: &Ui, args: StackArgs) -> Result<Outcome> {
    let (stack, _vars) = load(ui, &args)?;
    let diags = Engine::new().validate(&stack);
    if !diags.is_empty() {
        ui.diagnostics(&diags);
    }
    if diags.has_errors() {
        return Err(Reported.into());
    }
    println!(
        "{} {} is valid: {} resources, {} variables, {} outputs.",
        ui.out.green("Success!"),
        args.stack.display(),
        stack.resources.len(),
        stack.variables.len(),
        stack.outputs.len()
    );
    Ok(Outcome::Ok)
}

pub fn plan(ui: &Ui, args: PlanArgs) -> Result<Outcome> {
    let (stack, vars) = load(ui, &args.stack)?;
    let mut opts = PlanOptions::new(now()?);
    let targets = addresses("--target", &args.target).and_then(|t| {
        Ok((
            t,
            addresses("--exclude", &args.exclude)?,
            addresses("--replace", &args.replace)?,
        ))
    });
    let (targets, excludes, replace) = match targets {
        Ok(t) => t,
        Err(d) => {
            ui.diagnostics(&d);
            return Err(Reported.into());
        }
    };
    opts.targets = targets;
    opts.excludes = excludes;
    opts.replace = replace;
    if args.destroy {
        opts.mode = PlanMode::Destroy;
    }
    let prior = Snapshot::empty(&stack.name);
    let plan = match Engine::new().plan(&stack, &vars, &prior, &opts) {
        Ok(p) => p,
        Err(d) => {
            ui.diagnostics(&d);
            return Err(Reported.into());
        }
    };
    match args.format {
        PlanFormat::Text => print!("{}", omniform::render::text::plan(&plan, ui.out)),
        PlanFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&omniform::render::json::plan(&plan))?
        ),
        PlanFormat::Markdown => print!("{}", omniform::render::markdown::plan(&plan)),
    }
    Ok(if args.detailed_exitcode && plan.has_changes() {
        Outcome::Changes
    } else {
        Outcome::Ok
    })
}

pub fn graph(ui: &Ui, args: GraphArgs) -> Result<Outcome> {
    let stack = match omniform::load_stack(&args.stack) {
        Ok(s) => s,
        Err(d) => {
            ui.diagnostics(&d);
            return Err(Reported.into());
        }
    };
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
