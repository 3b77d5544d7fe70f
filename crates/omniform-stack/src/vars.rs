//! Variable values, in increasing precedence as in Terraform: defaults, a variant's
//! [variables], `OMNIFORM_VAR_<name>`, `--var-file` (later files win), `--var name=value`.

use std::collections::BTreeMap;

use omniform_core::{Diagnostic, Diagnostics, Value};
use toml::de::DeTable;

use crate::parse::{did_you_mean, toml_diagnostic};
use crate::source::{SourceFile, Span};
use crate::{Stack, VarType};

/// The values a user gave for variables, before they are checked against the stack.
#[derive(Debug, Clone, Default)]
pub struct VariableInputs {
    /// `--var name=value`, as written.
    pub cli: Vec<String>,
    /// `--var-file` contents, in the order given.
    pub files: Vec<SourceFile>,
    /// `OMNIFORM_VAR_<name>` environment variables, as (name, value) with the prefix
    /// removed.
    pub env: Vec<(String, String)>,
}

/// Where a value came from, for messages.
enum Origin<'a> {
    Cli(&'a str),
    Env(&'a str),
}

/// Resolves every variable of the stack to a value, checking types. Sensitive variables come
/// back marked sensitive. Every problem is reported, not just the first.
pub fn resolve_variables(
    stack: &Stack,
    inputs: &VariableInputs,
) -> Result<BTreeMap<String, Value>, Diagnostics> {
    let mut diags = Diagnostics::new();
    let mut values: BTreeMap<String, Value> = BTreeMap::new();
    let names = || stack.variables.keys().map(String::as_str);
    for (name, var) in &stack.variables {
        if let Some(d) = &var.default {
            values.insert(name.clone(), d.clone());
        }
    }

    // A variant's values (`extends`), above the defaults and below what the user passes.
    if let Some(file) = &stack.variant {
        let (table, _) = DeTable::parse_recoverable(&file.text);
        if let Some(toml::de::DeValue::Table(entries)) =
            table.get_ref().get("variables").map(|v| v.get_ref())
        {
            file_values(stack, file, entries, &mut values, &mut diags);
        }
    }

    for (name, text) in &inputs.env {
        let Some(var) = stack.variables.get(name) else {
            // Like Terraform, environment variables for undeclared names are ignored:
            // one environment often serves several stacks.
            continue;
        };
        match parse_text(var.ty, text) {
            Ok(v) => {
                values.insert(name.clone(), v);
            }
            Err(why) => diags.push(invalid(name, var.ty, Origin::Env(name), &why)),
        }
    }

    for file in &inputs.files {
        let (table, errors) = DeTable::parse_recoverable(&file.text);
        if !errors.is_empty() {
            for e in errors {
                diags.push(toml_diagnostic(file, &e));
            }
            continue;
        }
        file_values(stack, file, table.get_ref(), &mut values, &mut diags);
    }

    for raw in &inputs.cli {
        let Some((name, text)) = raw.split_once('=') else {
            diags.push(
                Diagnostic::error(format!("invalid --var {raw:?}: expected NAME=VALUE"))
                    .with_hint("write --var domain=example.com"),
            );
            continue;
        };
        let name = name.trim();
        match stack.variables.get(name) {
            Some(var) => match parse_text(var.ty, text) {
                Ok(v) => {
                    values.insert(name.to_string(), v);
                }
                Err(why) => diags.push(invalid(name, var.ty, Origin::Cli(raw), &why)),
            },
            None => diags.push(
                Diagnostic::error(format!(
                    "invalid --var {raw:?}: the stack declares no variable `{name}`"
                ))
                .with_hint(format!(
                    "{}declare it with [variable.{name}] or fix the name",
                    did_you_mean(name, names())
                )),
            ),
        }
    }

    for (name, var) in &stack.variables {
        match values.get_mut(name) {
            Some(v) => {
                if var.sensitive {
                    *v = std::mem::take(v).sensitive();
                }
            }
            None => diags.push(
                Diagnostic::error(format!("variable `{name}` has no value"))
                    .with_location(stack.locate(var.span))
                    .with_address(format!("var.{name}"))
                    .with_hint(format!(
                        "set it with --var {name}=VALUE, in a --var-file, with OMNIFORM_VAR_{name}, or give it a default"
                    )),
            ),
        }
    }
    diags.into_result(values)
}

/// Values from a file (a `--var-file`, or a variant's [variables]), checked against the
/// declared variables.
fn file_values(
    stack: &Stack,
    file: &SourceFile,
    entries: &DeTable<'_>,
    values: &mut BTreeMap<String, Value>,
    diags: &mut Diagnostics,
) {
    let names = || stack.variables.keys().map(String::as_str);
    for (key, value) in entries.iter() {
        let name: &str = key.get_ref();
        let span: Span = value.span().into();
        let Some(var) = stack.variables.get(name) else {
            diags.push(
                Diagnostic::error(format!("the stack declares no variable `{name}`"))
                    .with_location(Some(file.locate(key.span().into())))
                    .with_hint(format!(
                        "{}declare it with [variable.{name}] or remove it from the file",
                        did_you_mean(name, names())
                    )),
            );
            continue;
        };
        match crate::parse::plain_value(file, value) {
            Some(v) if var.ty.accepts(&v) => {
                values.insert(name.to_string(), v);
            }
            Some(v) => diags.push(
                Diagnostic::error(format!(
                    "variable `{name}` is a {}, but the value is a {}",
                    var.ty.name(),
                    v.kind()
                ))
                .with_location(Some(file.locate(span)))
                .with_hint(format!("give `{name}` a {} value", var.ty.name())),
            ),
            None => diags.push(
                Diagnostic::error(format!("the value of `{name}` cannot hold references"))
                    .with_location(Some(file.locate(span)))
                    .with_hint("variable files hold plain values"),
            ),
        }
    }
}

fn invalid(name: &str, ty: VarType, origin: Origin<'_>, why: &str) -> Diagnostic {
    let (what, hint) = match origin {
        Origin::Cli(raw) => (
            format!("invalid --var {raw:?}"),
            format!("write --var {name}=<{}>", ty.name()),
        ),
        Origin::Env(n) => (
            format!("invalid OMNIFORM_VAR_{n}"),
            format!("set OMNIFORM_VAR_{n} to a {} value", ty.name()),
        ),
    };
    Diagnostic::error(format!("{what}: {why}")).with_hint(hint)
}

/// Reads a value written on the command line or in the environment. Strings are taken as
/// they are; other types are read as a TOML value (`3`, `true`, `["a", "b"]`, `{ a = 1 }`).
fn parse_text(ty: VarType, text: &str) -> Result<Value, String> {
    if ty == VarType::String {
        return Ok(Value::String(text.to_string()));
    }
    let doc = format!("v = {text}");
    let parsed = DeTable::parse(&doc).ok().and_then(|t| {
        let v = t.get_ref().get("v")?;
        crate::parse::plain_value(&SourceFile::new("", doc.clone()), v)
    });
    match parsed {
        Some(v) if ty.accepts(&v) => Ok(v),
        Some(v) => Err(format!("expected a {}, found a {}", ty.name(), v.kind())),
        None if ty == VarType::Any => Ok(Value::String(text.to_string())),
        None => Err(format!("{text:?} is not a {} value", ty.name())),
    }
}
