//! Checks of a stack against the resource schemas, before any value is computed: resource
//! types, attribute names, literal types, references, and cycles. Every problem is reported.

use std::collections::HashMap;

use omniform_core::{
    AttrPath, AttrType, Diagnostic, Diagnostics, Presence, ResourceAddress, ResourceSchema, Value,
};
use omniform_provider::ValidateRequest;
use omniform_stack::{
    Expr, ExprKind, InstanceSel, RefStep, RefTarget, Reference, Repetition, Resource, Span, Stack,
};

use crate::graph::StackGraph;
use crate::providers::ProviderSet;

/// The candidates closest to `word`, best first (at most three).
fn close_matches<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(s, _)| *s > 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

/// "did you mean `x`? " for a list of suggestions, or an empty string.
fn suggestion<S: AsRef<str>>(matches: &[S]) -> String {
    match matches {
        [] => String::new(),
        [one] => format!("did you mean `{}`? ", one.as_ref()),
        many => format!(
            "did you mean one of {}? ",
            many.iter()
                .map(|m| format!("`{}`", m.as_ref()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// "did you mean `x`?" for close matches, or an empty string.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    suggestion(&close_matches(word, candidates))
}

/// The span of the part of an expression at `path`, or the nearest enclosing one.
pub(crate) fn span_at(expr: &Expr, path: &[omniform_core::PathStep]) -> Span {
    expr.span_at(path)
}

/// Runs every static check on a stack.
pub fn validate(stack: &Stack, providers: &ProviderSet) -> Diagnostics {
    let mut v = Validator {
        stack,
        providers,
        diags: Diagnostics::new(),
        blocks: HashMap::new(),
    };
    for r in stack.resources.values() {
        v.blocks.insert(r.addr.clone(), r);
    }
    for r in stack.resources.values() {
        v.resource(r);
    }
    for output in stack.outputs.values() {
        for reference in output.value.references() {
            v.reference(reference, None, &format!("output.{}", output.name));
        }
    }
    for block in stack.providers.values() {
        v.provider_block(block);
        for (_, expr) in block.settings.values() {
            for reference in expr.references() {
                if !matches!(reference.target, RefTarget::Var(_)) {
                    v.push(Diagnostic::error(format!("provider settings can only reference variables, not `{reference}`"))
                        .with_location(stack.locate(reference.span))
                        .with_address(format!("provider.{}", block.name))
                        .with_hint("use a variable (${var.<name>}) for values that change between environments"));
                } else {
                    v.reference(reference, None, &format!("provider.{}", block.name));
                }
            }
        }
    }
    let graph = StackGraph::build(stack);
    if let Err(cycles) = graph.order(stack) {
        v.diags.extend(cycles);
    }
    let mut diags = v.diags;
    diags.sort();
    diags
}

struct Validator<'a> {
    stack: &'a Stack,
    providers: &'a ProviderSet,
    diags: Diagnostics,
    blocks: HashMap<ResourceAddress, &'a Resource>,
}

impl<'a> Validator<'a> {
    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn at(&self, span: Span) -> Option<omniform_core::Location> {
        self.stack.locate(span)
    }

    fn resource(&mut self, r: &'a Resource) {
        let addr = r.addr.to_string();
        let Some((provider, schema)) = self.providers.get(&r.addr.type_name) else {
            let types = self.providers.type_names();
            let hint = format!(
                "{}the known resource types are {}",
                did_you_mean(&r.addr.type_name, types.iter().copied()),
                types.join(", ")
            );
            self.push(
                Diagnostic::error(format!("unknown resource type `{}`", r.addr.type_name))
                    .with_location(self.at(r.type_span))
                    .with_address(&addr)
                    .with_hint(hint),
            );
            return;
        };
        for (name, (key_span, expr)) in &r.attributes {
            match schema.attribute(name) {
                None => {
                    let valid = schema.settable_names();
                    self.push(
                        Diagnostic::error(format!("unknown attribute `{name}` for {}", r.addr.type_name))
                            .with_location(self.at(*key_span))
                            .with_address(&addr)
                            .with_attribute(AttrPath::attr(name))
                            .with_hint(format!(
                                "{}valid attributes are {}, plus count, for_each, depends_on and lifecycle",
                                did_you_mean(name, valid.iter().copied()),
                                valid.join(", ")
                            )),
                    );
                }
                Some(attr) if attr.presence == Presence::Computed => {
                    self.push(
                        Diagnostic::error(format!(
                            "`{name}` is computed by the provider and cannot be set"
                        ))
                        .with_location(self.at(*key_span))
                        .with_address(&addr)
                        .with_attribute(AttrPath::attr(name))
                        .with_hint(format!(
                            "remove `{name}`; read it with ${{{}.{name}}}",
                            r.addr
                        )),
                    );
                }
                Some(attr) => {
                    if let ExprKind::Literal(value) = &expr.kind
                        && let Err(m) = attr.ty.conform(value.clone(), &AttrPath::attr(name))
                    {
                        let span = span_at(expr, &m.path.steps()[1..]);
                        self.push(type_mismatch(&m, &addr).with_location(self.at(span)));
                    }
                }
            }
        }
        for attr in &schema.attributes {
            if attr.presence == Presence::Required && !r.attributes.contains_key(&attr.name) {
                self.push(
                    Diagnostic::error(format!("missing required attribute `{}`", attr.name))
                        .with_location(self.at(r.span))
                        .with_address(&addr)
                        .with_attribute(AttrPath::attr(&attr.name))
                        .with_hint(format!(
                            "add {} = <{}>{}",
                            attr.name,
                            attr.ty,
                            describe(&attr.description)
                        )),
                );
            }
        }
        // Provider checks of the literal parts (CIDRs, ports, names...).
        let literal: Value = Value::Map(
            r.attributes
                .iter()
                .map(|(k, (_, e))| {
                    // Literal parts as written, references unknown; in the shape the
                    // provider sees at plan time (a table given for a block is a list of
                    // one).
                    let v = literal_parts(e);
                    let v = match schema.attribute(k) {
                        Some(attr) => attr.ty.conform(v.clone(), &AttrPath::attr(k)).unwrap_or(v),
                        None => v,
                    };
                    (k.clone(), v)
                })
                .collect(),
        );
        let problems = provider.validate(&ValidateRequest {
            type_name: &r.addr.type_name,
            config: &literal,
        });
        for p in problems {
            let span = match p.path.steps().split_first() {
                Some((omniform_core::PathStep::Key(k), rest)) => r
                    .attributes
                    .get(k)
                    .map(|(_, e)| span_at(e, rest))
                    .unwrap_or(r.span),
                _ => r.span,
            };
            self.push(
                Diagnostic::error(p.message)
                    .with_location(self.at(span))
                    .with_address(&addr)
                    .with_attribute(p.path)
                    .with_hint(p.hint),
            );
        }
        for (path, span) in &r.lifecycle.ignore_changes {
            if !schema.has_path(path) && !path_in_any(schema, path) {
                self.push(
                    Diagnostic::error(format!(
                        "ignore_changes names `{path}`, which {} does not have",
                        r.addr.type_name
                    ))
                    .with_location(self.at(*span))
                    .with_address(&addr)
                    .with_hint(format!(
                        "valid attributes are {}",
                        schema.settable_names().join(", ")
                    )),
                );
            }
        }
        for (dep, span) in &r.depends_on {
            if !self.blocks.contains_key(dep) {
                let suggestion = self.suggest_resource(dep);
                self.push(
                    Diagnostic::error(format!("depends_on names undeclared resource `{dep}`"))
                        .with_location(self.at(*span))
                        .with_address(&addr)
                        .with_hint(format!(
                            "{suggestion}declare it, or remove it from depends_on"
                        )),
                );
            }
        }
        for reference in r.references() {
            self.reference(reference, Some(r), &addr);
        }
    }

    /// Checks a `[provider.<name>]` block: a known provider, known settings, right types.
    fn provider_block(&mut self, block: &omniform_stack::ProviderBlock) {
        let owner = format!("provider.{}", block.name);
        let Some(provider) = self.providers.by_name(&block.name) else {
            let names: Vec<&str> = self
                .providers
                .providers()
                .iter()
                .map(|p| p.name())
                .collect();
            self.push(
                Diagnostic::error(format!("unknown provider `{}`", block.name))
                    .with_location(self.at(block.span))
                    .with_address(&owner)
                    .with_hint(format!(
                        "{}the providers are {}",
                        did_you_mean(&block.name, names.iter().copied()),
                        names.join(", ")
                    )),
            );
            return;
        };
        let Some(schema) = provider.settings_schema() else {
            if let Some((key, (span, _))) = block.settings.first() {
                self.push(
                    Diagnostic::error(format!(
                        "provider `{}` takes no settings, but `{key}` is set",
                        block.name
                    ))
                    .with_location(self.at(*span))
                    .with_address(&owner)
                    .with_hint(format!("remove the [provider.{}] table", block.name)),
                );
            }
            return;
        };
        for (key, (span, expr)) in &block.settings {
            match schema.attribute(key) {
                None => {
                    let names: Vec<&str> =
                        schema.attributes.iter().map(|a| a.name.as_str()).collect();
                    self.push(
                        Diagnostic::error(format!(
                            "unknown setting `{key}` for provider `{}`",
                            block.name
                        ))
                        .with_location(self.at(*span))
                        .with_address(&owner)
                        .with_hint(format!(
                            "{}its settings are {}",
                            did_you_mean(key, names.iter().copied()),
                            names.join(", ")
                        )),
                    );
                }
                Some(attr) => {
                    if let ExprKind::Literal(value) = &expr.kind
                        && let Err(m) = attr.ty.conform(value.clone(), &AttrPath::attr(key))
                    {
                        let span = span_at(expr, &m.path.steps()[1..]);
                        self.push(type_mismatch(&m, &owner).with_location(self.at(span)));
                    }
                }
            }
        }
    }

    /// "did you mean" for a resource address: close names of the same type first, then
    /// very close addresses of any type.
    fn suggest_resource(&self, addr: &ResourceAddress) -> String {
        let same_type: Vec<&str> = self
            .blocks
            .keys()
            .filter(|a| a.type_name == addr.type_name)
            .map(|a| a.name.as_str())
            .collect();
        let by_name: Vec<String> = close_matches(&addr.name, same_type)
            .into_iter()
            .map(|n| format!("{}.{n}", addr.type_name))
            .collect();
        if !by_name.is_empty() {
            return suggestion(&by_name);
        }
        let names: Vec<String> = self.blocks.keys().map(|a| a.to_string()).collect();
        did_you_mean(&addr.to_string(), names.iter().map(String::as_str))
    }

    /// Checks one reference; `within` is the resource it is written in, if any.
    fn reference(&mut self, reference: &Reference, within: Option<&Resource>, owner: &str) {
        let mut problems: Vec<(String, String)> = Vec::new();
        let mut fail = |summary: String, hint: String| problems.push((summary, hint));
        match &reference.target {
            RefTarget::Var(name) => {
                if !self.stack.variables.contains_key(name) {
                    fail(
                        format!("reference to undeclared variable `var.{name}`"),
                        format!(
                            "{}declare it with [variable.{name}]",
                            did_you_mean(name, self.stack.variables.keys().map(String::as_str))
                        ),
                    );
                }
            }
            RefTarget::CountIndex => {
                if !matches!(within.map(|r| &r.repetition), Some(Repetition::Count(_))) {
                    fail(
                        "`count.index` is only defined in a resource with `count`".into(),
                        "set count on the resource, or remove the reference".into(),
                    );
                }
            }
            RefTarget::EachKey | RefTarget::EachValue => {
                if !matches!(within.map(|r| &r.repetition), Some(Repetition::ForEach(_))) {
                    fail(
                        format!("`{reference}` is only defined in a resource with `for_each`"),
                        "set for_each on the resource, or remove the reference".into(),
                    );
                }
            }
            RefTarget::Resource { addr, instance } => {
                let Some(target) = self.blocks.get(addr).copied() else {
                    let suggestion = self.suggest_resource(addr);
                    fail(
                        format!("reference to undeclared resource `{addr}`"),
                        format!(
                            "{suggestion}declare it with [resource.{}.{}]",
                            addr.type_name, addr.name
                        ),
                    );
                    self.flush(reference, owner, problems);
                    return;
                };
                match (instance, &target.repetition) {
                    (InstanceSel::Single, Repetition::Count(_) | Repetition::ForEach(_)) => fail(
                        format!(
                            "`{addr}` has count or for_each, so a reference must say which instance"
                        ),
                        format!(
                            "write {addr}[0].<attribute>, {addr}[\"key\"].<attribute> or {addr}[*].<attribute>"
                        ),
                    ),
                    (InstanceSel::Key(k), Repetition::Single) => fail(
                        format!("`{addr}` has no count or for_each, so it has no instance {k}"),
                        format!("write {addr}.<attribute> without the key"),
                    ),
                    (
                        InstanceSel::Key(omniform_core::InstanceKey::Str(_)),
                        Repetition::Count(_),
                    ) => fail(
                        format!("`{addr}` uses count, so its instances have number keys"),
                        format!("write {addr}[0]"),
                    ),
                    (InstanceSel::EachKey, Repetition::Single | Repetition::Count(_)) => fail(
                        format!(
                            "`{addr}` has no for_each, so [each.key] names none of its instances"
                        ),
                        format!("give {addr} a for_each with the same keys, or name the instance"),
                    ),
                    (InstanceSel::CountIndex, Repetition::Single | Repetition::ForEach(_)) => fail(
                        format!(
                            "`{addr}` has no count, so [count.index] names none of its instances"
                        ),
                        format!("give {addr} a count, or name the instance"),
                    ),
                    (
                        InstanceSel::Key(omniform_core::InstanceKey::Int(_)),
                        Repetition::ForEach(_),
                    ) => fail(
                        format!("`{addr}` uses for_each, so its instances have string keys"),
                        format!("write {addr}[\"key\"]"),
                    ),
                    _ => {}
                }
                if let (Some(RefStep::Attr(name)), Some(schema)) = (
                    reference.steps.first(),
                    self.providers.schema(&addr.type_name),
                ) && schema.attribute(name).is_none()
                {
                    let names: Vec<&str> =
                        schema.attributes.iter().map(|a| a.name.as_str()).collect();
                    fail(
                        format!("`{addr}` has no attribute `{name}`"),
                        format!(
                            "{}{} has {}",
                            did_you_mean(name, names.iter().copied()),
                            addr.type_name,
                            names.join(", ")
                        ),
                    );
                }
            }
        }
        self.flush(reference, owner, problems);
    }

    /// Reports the problems found with one reference, at its place.
    fn flush(&mut self, reference: &Reference, owner: &str, problems: Vec<(String, String)>) {
        let loc = self.at(reference.span);
        for (summary, hint) in problems {
            self.diags.push(
                Diagnostic::error(summary)
                    .with_location(loc.clone())
                    .with_address(owner)
                    .with_hint(hint),
            );
        }
    }
}

/// True when the path goes through an `any`-typed attribute, where anything may lie below.
fn path_in_any(schema: &ResourceSchema, path: &AttrPath) -> bool {
    path.top_level()
        .and_then(|t| schema.attribute(t))
        .is_some_and(|a| a.ty == AttrType::Any)
}

fn describe(description: &str) -> String {
    if description.is_empty() {
        String::new()
    } else {
        format!(" ({description})")
    }
}

/// The diagnostic for a value of the wrong type.
pub(crate) fn type_mismatch(m: &omniform_core::TypeMismatch, owner: &str) -> Diagnostic {
    let summary = if m.found == "nothing" {
        format!(
            "missing `{}`: {}",
            m.path,
            m.detail.clone().unwrap_or_default()
        )
    } else if m.found.starts_with("unknown attribute") {
        format!("{} in `{}`", m.found, m.path)
    } else {
        format!(
            "wrong type for `{}`: expected {}, found {}",
            m.path, m.expected, m.found
        )
    };
    let hint = match &m.detail {
        Some(d) if m.found != "nothing" => d.clone(),
        _ => format!("give `{}` a {} value", m.path, m.expected),
    };
    Diagnostic::error(summary)
        .with_address(owner)
        .with_attribute(m.path.clone())
        .with_hint(hint)
}

/// An expression's literal parts, with every reference unknown: what can be checked before
/// anything is evaluated (a list of rules with one rule's CIDRs from a variable still has
/// its other rules checked).
fn literal_parts(e: &omniform_stack::Expr) -> Value {
    match &e.kind {
        ExprKind::Literal(v) => v.clone(),
        ExprKind::Template(_) => Value::Unknown,
        ExprKind::List(items) => Value::List(items.iter().map(literal_parts).collect()),
        ExprKind::Map(m) => Value::Map(
            m.iter()
                .map(|(k, (_, e))| (k.clone(), literal_parts(e)))
                .collect(),
        ),
    }
}
