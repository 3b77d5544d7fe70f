//! Reading a stack file's TOML into a [`Stack`], reporting every mistake in the file at once.

use std::collections::HashSet;
use std::sync::Arc;

use indexmap::IndexMap;
use omniform_core::{Diagnostic, Diagnostics, Number, ResourceAddress, Value};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::expr::{Expr, ExprKind, parse_string};
use crate::source::{SourceFile, Span};
use crate::{
    Backend, Lifecycle, Output, ProviderBlock, Repetition, Resource, Stack, VarType, Variable,
};

const TOP_LEVEL: &[&str] = &[
    "stack", "variable", "resource", "output", "provider", "backend",
];

/// Parses a stack file. All mistakes the file has are returned together.
pub fn parse(file: SourceFile) -> Result<Stack, Diagnostics> {
    let file = Arc::new(file);
    let mut p = Parser {
        file: &file,
        diags: Diagnostics::new(),
    };
    let (root, errors) = DeTable::parse_recoverable(&file.text);
    if !errors.is_empty() {
        for e in errors {
            p.toml_error(&e);
        }
        return Err(p.diags);
    }
    let mut stack = p.stack(root.get_ref(), Span::from(root.span()));
    stack.source = Some(file.clone());
    let mut diags = p.diags;
    diags.sort();
    diags.into_result(stack)
}

/// Turns a TOML syntax error into a diagnostic at its position.
pub(crate) fn toml_diagnostic(file: &SourceFile, e: &toml::de::Error) -> Diagnostic {
    let span = e.span().map(Span::from).unwrap_or_default();
    let message = e.message().trim().trim_end_matches('.').to_string();
    let (summary, hint) = if message.starts_with("duplicate key") {
        let key = file.slice(span).trim_matches(|c| c == '[' || c == ']');
        (
            format!("duplicate key `{key}`: it is already defined above"),
            "each variable, resource, output and attribute is defined once; remove or rename one of them",
        )
    } else {
        (
            format!("invalid TOML: {message}"),
            "fix the TOML syntax; https://toml.io/ describes it",
        )
    };
    Diagnostic::error(summary)
        .with_location(Some(file.locate(span)))
        .with_hint(hint)
}

struct Parser<'f> {
    file: &'f SourceFile,
    diags: Diagnostics,
}

/// Reads a value in which references are not allowed; `None` when it has any (or another
/// mistake).
pub(crate) fn plain_value(file: &SourceFile, value: &Spanned<DeValue<'_>>) -> Option<Value> {
    let mut p = Parser {
        file,
        diags: Diagnostics::new(),
    };
    let e = p.expr(value);
    match e.kind {
        ExprKind::Literal(v) if p.diags.is_empty() => Some(v),
        _ => None,
    }
}

type Table<'a> = DeTable<'a>;

fn close_matches<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(s, _)| *s > 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().map(|(_, c)| c).take(3).collect()
}

/// "did you mean `x`?" for the closest matches, or an empty string.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    let matches = close_matches(word, candidates);
    match matches.as_slice() {
        [] => String::new(),
        [one] => format!("did you mean `{one}`? "),
        many => format!(
            "did you mean one of {}? ",
            many.iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl Parser<'_> {
    fn error(
        &mut self,
        span: Span,
        summary: impl Into<String>,
        hint: impl Into<String>,
    ) -> &mut Diagnostic {
        self.diags.push(
            Diagnostic::error(summary)
                .with_location(Some(self.file.locate(span)))
                .with_hint(hint),
        );
        self.diags.0.last_mut().expect("just pushed")
    }

    fn toml_error(&mut self, e: &toml::de::Error) {
        let d = toml_diagnostic(self.file, e);
        self.diags.push(d);
    }

    fn table<'b, 'a>(
        &mut self,
        value: &'b Spanned<DeValue<'a>>,
        what: &str,
    ) -> Option<&'b Table<'a>> {
        match value.get_ref() {
            DeValue::Table(t) => Some(t),
            other => {
                self.error(
                    value.span().into(),
                    format!("{what} must be a table, found {}", other.type_str()),
                    format!("write it as a [{what}] section or an inline {{ ... }} table"),
                );
                None
            }
        }
    }

    fn stack(&mut self, root: &Table<'_>, root_span: Span) -> Stack {
        let mut stack = Stack::new("");
        let mut saw_stack = false;
        for (key, value) in root.iter() {
            let key_span = Span::from(key.span());
            match &**key.get_ref() {
                "stack" => {
                    saw_stack = true;
                    if let Some(t) = self.table(value, "stack") {
                        self.stack_table(t, value.span().into(), &mut stack);
                    }
                }
                "variable" => {
                    if let Some(t) = self.table(value, "variable") {
                        for (name, body) in t.iter() {
                            if let Some(v) = self.variable(name, body) {
                                stack.variables.insert(v.name.clone(), v);
                            }
                        }
                    }
                }
                "resource" => {
                    if let Some(t) = self.table(value, "resource") {
                        self.resources(t, &mut stack);
                    }
                }
                "output" => {
                    if let Some(t) = self.table(value, "output") {
                        for (name, body) in t.iter() {
                            if let Some(o) = self.output(name, body) {
                                stack.outputs.insert(o.name.clone(), o);
                            }
                        }
                    }
                }
                "provider" => {
                    if let Some(t) = self.table(value, "provider") {
                        for (name, body) in t.iter() {
                            let Some(settings) =
                                self.table(body, &format!("provider.{}", name.get_ref()))
                            else {
                                continue;
                            };
                            let settings = self.body(settings);
                            stack.providers.insert(
                                name.get_ref().to_string(),
                                ProviderBlock {
                                    name: name.get_ref().to_string(),
                                    settings,
                                    span: body.span().into(),
                                },
                            );
                        }
                    }
                }
                "backend" => {
                    if let Some(t) = self.table(value, "backend") {
                        stack.backend = self.backend(t, value.span().into());
                    }
                }
                other => {
                    let hint = format!(
                        "{}a stack file has the tables {}",
                        did_you_mean(other, TOP_LEVEL.iter().copied()),
                        TOP_LEVEL
                            .iter()
                            .map(|t| format!("[{t}]"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    self.error(key_span, format!("unknown top-level table `{other}`"), hint);
                }
            }
        }
        if !saw_stack {
            self.error(
                Span::new(root_span.start as usize, root_span.start as usize),
                "missing [stack] table",
                "start the file with [stack] and name = \"<stack name>\"; the name names the state",
            );
        }
        stack
    }

    fn stack_table(&mut self, t: &Table<'_>, span: Span, stack: &mut Stack) {
        for (key, value) in t.iter() {
            match &**key.get_ref() {
                "name" => match value.get_ref().as_str() {
                    Some(name) if is_identifier(name) => stack.name = name.to_string(),
                    _ => {
                        self.error(
                            value.span().into(),
                            "the stack name must be an identifier",
                            "use letters, digits, `_` and `-`, starting with a letter, like name = \"quickstart\"",
                        );
                    }
                },
                "description" => {}
                other => {
                    self.error(
                        key.span().into(),
                        format!("unknown key `{other}` in [stack]"),
                        "[stack] takes `name` and `description`",
                    );
                }
            }
        }
        if stack.name.is_empty() && !t.contains_key("name") {
            self.error(
                span,
                "missing `name` in [stack]",
                "add name = \"<stack name>\"; the name names the state",
            );
        }
    }

    fn variable(
        &mut self,
        name: &Spanned<std::borrow::Cow<'_, str>>,
        body: &Spanned<DeValue<'_>>,
    ) -> Option<Variable> {
        let name_str = name.get_ref().to_string();
        if !is_identifier(&name_str) {
            self.error(
                name.span().into(),
                format!("invalid variable name `{name_str}`"),
                "variable names are identifiers: letters, digits, `_` and `-`",
            );
        }
        let t = self.table(body, &format!("variable.{name_str}"))?;
        let mut var = Variable {
            name: name_str.clone(),
            ty: VarType::Any,
            default: None,
            description: String::new(),
            sensitive: false,
            span: body.span().into(),
        };
        for (key, value) in t.iter() {
            match &**key.get_ref() {
                "type" => match value.get_ref().as_str().and_then(VarType::parse) {
                    Some(ty) => var.ty = ty,
                    None => {
                        self.error(
                            value.span().into(),
                            format!("invalid type for variable `{name_str}`"),
                            "type is one of \"string\", \"number\", \"bool\", \"list\", \"map\", \"any\"",
                        );
                    }
                },
                "default" => var.default = Some(self.plain_value(value)),
                "description" => {
                    var.description = value.get_ref().as_str().unwrap_or_default().to_string()
                }
                "sensitive" => var.sensitive = self.bool(value, "sensitive"),
                other => {
                    self.error(
                        key.span().into(),
                        format!("unknown key `{other}` in variable `{name_str}`"),
                        format!(
                            "{}a variable takes type, default, description and sensitive",
                            did_you_mean(other, ["type", "default", "description", "sensitive"])
                        ),
                    );
                }
            }
        }
        if let Some(default) = &var.default
            && !var.ty.accepts(default)
        {
            let span = t
                .get("default")
                .map(|v| v.span().into())
                .unwrap_or(var.span);
            self.error(
                span,
                format!(
                    "the default of variable `{name_str}` is a {}, but its type is {}",
                    default.kind(),
                    var.ty.name()
                ),
                "change the default or the type so they agree",
            );
        }
        Some(var)
    }

    fn bool(&mut self, value: &Spanned<DeValue<'_>>, what: &str) -> bool {
        match value.get_ref().as_bool() {
            Some(b) => b,
            None => {
                self.error(
                    value.span().into(),
                    format!("`{what}` must be true or false"),
                    format!("write {what} = true or {what} = false"),
                );
                false
            }
        }
    }

    fn resources(&mut self, t: &Table<'_>, stack: &mut Stack) {
        for (type_key, by_name) in t.iter() {
            let type_name = type_key.get_ref().to_string();
            let type_span: Span = type_key.span().into();
            if !is_identifier(&type_name) {
                self.error(
                    type_span,
                    format!("invalid resource type `{type_name}`"),
                    "resource types are identifiers, like omniform_data",
                );
                continue;
            }
            let Some(by_name) = self.table(by_name, &format!("resource.{type_name}")) else {
                continue;
            };
            for (name_key, body) in by_name.iter() {
                let name = name_key.get_ref().to_string();
                let addr = ResourceAddress::new(&type_name, &name);
                if !is_identifier(&name) {
                    self.error(
                        name_key.span().into(),
                        format!("invalid resource name `{name}`"),
                        "resource names are identifiers: letters, digits, `_` and `-`, starting with a letter",
                    )
                    .address = Some(addr.to_string());
                    continue;
                }
                let Some(body_table) = self.table(body, &format!("resource.{type_name}.{name}"))
                else {
                    continue;
                };
                let resource = self.resource(addr, body_table, body.span().into(), type_span);
                stack.resources.insert(resource.addr.clone(), resource);
            }
        }
    }

    fn resource(
        &mut self,
        addr: ResourceAddress,
        t: &Table<'_>,
        span: Span,
        type_span: Span,
    ) -> Resource {
        let mut r = Resource::new(addr.clone());
        r.span = span;
        r.type_span = type_span;
        let before = self.diags.len();
        let mut count: Option<(Span, Expr)> = None;
        let mut for_each: Option<(Span, Expr)> = None;
        let mut attributes = IndexMap::new();
        for (key, value) in t.iter() {
            let key_span: Span = key.span().into();
            match &**key.get_ref() {
                "count" => {
                    let e = self.expr(value);
                    if let ExprKind::Literal(v) = &e.kind {
                        match v.as_i64() {
                            Some(n) if n < 0 => {
                                self.error(
                                    e.span,
                                    format!("count is {n}, but it must not be negative"),
                                    "set count to 0 or more",
                                );
                            }
                            Some(_) => {}
                            None => {
                                self.error(
                                    e.span,
                                    format!("count must be a whole number, found {}", v.kind()),
                                    "write count = 2, or count = \"${var.<name>}\"",
                                );
                            }
                        }
                    }
                    count = Some((key_span, e));
                }
                "for_each" => {
                    let e = self.expr(value);
                    self.check_for_each_literal(&e);
                    for_each = Some((key_span, e));
                }
                "depends_on" => r.depends_on = self.depends_on(value),
                "lifecycle" => {
                    if let Some(lt) = self.table(value, "lifecycle") {
                        r.lifecycle = self.lifecycle(lt);
                    }
                }
                name => {
                    attributes.insert(name.to_string(), (key_span, self.expr(value)));
                }
            }
        }
        r.attributes = attributes;
        match (count, for_each) {
            (Some(_), Some((fe_span, _))) => {
                self.error(
                    fe_span,
                    "`count` and `for_each` cannot both be set",
                    "keep `count` for numbered copies or `for_each` for named ones, and remove the other",
                );
            }
            (Some((_, c)), None) => r.repetition = Repetition::Count(c),
            (None, Some((_, f))) => r.repetition = Repetition::ForEach(f),
            (None, None) => {}
        }
        for d in &mut self.diags.0[before..] {
            d.address.get_or_insert_with(|| addr.to_string());
        }
        r
    }

    fn check_for_each_literal(&mut self, e: &Expr) {
        let ExprKind::Literal(v) = &e.kind else {
            return;
        };
        match v {
            Value::List(items) => {
                let mut seen = HashSet::new();
                for item in items {
                    match item.as_str() {
                        Some(s) => {
                            if !seen.insert(s) {
                                self.error(
                                    e.span,
                                    format!("duplicate for_each key {s:?}"),
                                    "each key in for_each must be unique",
                                );
                            }
                        }
                        None => {
                            self.error(
                                e.span,
                                format!(
                                    "for_each list items must be strings, found {}",
                                    item.kind()
                                ),
                                "write for_each = [\"a\", \"b\"] or a table { a = 1, b = 2 }",
                            );
                        }
                    }
                }
            }
            Value::Map(_) => {}
            other => {
                self.error(
                    e.span,
                    format!(
                        "for_each must be a list of strings or a table, found {}",
                        other.kind()
                    ),
                    "write for_each = [\"a\", \"b\"] or for_each = { a = 1, b = 2 }",
                );
            }
        }
    }

    fn depends_on(&mut self, value: &Spanned<DeValue<'_>>) -> Vec<(ResourceAddress, Span)> {
        let DeValue::Array(items) = value.get_ref() else {
            self.error(
                value.span().into(),
                "depends_on must be a list of resource addresses",
                "write depends_on = [\"omniform_data.network\"]",
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items.iter() {
            let span: Span = item.span().into();
            let text = item.get_ref().as_str().unwrap_or_default();
            let text = text
                .strip_prefix("${")
                .and_then(|t| t.strip_suffix('}'))
                .unwrap_or(text)
                .trim();
            match text.parse::<ResourceAddress>() {
                Ok(addr) => out.push((addr, span)),
                Err(e) => {
                    self.error(
                        span,
                        format!("invalid depends_on entry: {}", e.reason),
                        "depends_on lists resources as \"<type>.<name>\", without instance keys",
                    );
                }
            }
        }
        out
    }

    fn lifecycle(&mut self, t: &Table<'_>) -> Lifecycle {
        let mut l = Lifecycle::default();
        const KEYS: [&str; 3] = ["create_before_destroy", "prevent_destroy", "ignore_changes"];
        for (key, value) in t.iter() {
            match &**key.get_ref() {
                "create_before_destroy" => {
                    l.create_before_destroy = self.bool(value, "create_before_destroy")
                }
                "prevent_destroy" => l.prevent_destroy = self.bool(value, "prevent_destroy"),
                "ignore_changes" => match value.get_ref() {
                    DeValue::String(s) if s == "all" => l.ignore_all_changes = true,
                    DeValue::Array(items) => {
                        for item in items.iter() {
                            let span: Span = item.span().into();
                            match item.get_ref().as_str().map(str::parse) {
                                Some(Ok(path)) => l.ignore_changes.push((path, span)),
                                _ => {
                                    self.error(
                                        span,
                                        "ignore_changes entries are attribute paths",
                                        "write ignore_changes = [\"input.name\", \"tags\"]",
                                    );
                                }
                            }
                        }
                    }
                    _ => {
                        self.error(
                            value.span().into(),
                            "ignore_changes must be a list of attribute paths or \"all\"",
                            "write ignore_changes = [\"input.name\"]",
                        );
                    }
                },
                other => {
                    self.error(
                        key.span().into(),
                        format!("unknown lifecycle setting `{other}`"),
                        format!(
                            "{}lifecycle takes {}",
                            did_you_mean(other, KEYS),
                            KEYS.join(", ")
                        ),
                    );
                }
            }
        }
        l
    }

    fn output(
        &mut self,
        name: &Spanned<std::borrow::Cow<'_, str>>,
        body: &Spanned<DeValue<'_>>,
    ) -> Option<Output> {
        let name_str = name.get_ref().to_string();
        let t = self.table(body, &format!("output.{name_str}"))?;
        let mut value = None;
        let mut out = Output {
            name: name_str.clone(),
            value: Expr::literal(Value::Null, body.span().into()),
            sensitive: false,
            description: String::new(),
            span: body.span().into(),
        };
        for (key, v) in t.iter() {
            match &**key.get_ref() {
                "value" => value = Some(self.expr(v)),
                "sensitive" => out.sensitive = self.bool(v, "sensitive"),
                "description" => {
                    out.description = v.get_ref().as_str().unwrap_or_default().to_string()
                }
                other => {
                    self.error(
                        key.span().into(),
                        format!("unknown key `{other}` in output `{name_str}`"),
                        format!(
                            "{}an output takes value, sensitive and description",
                            did_you_mean(other, ["value", "sensitive", "description"])
                        ),
                    );
                }
            }
        }
        match value {
            Some(v) => out.value = v,
            None => {
                self.error(
                    out.span,
                    format!("output `{name_str}` has no value"),
                    "add value = \"${<type>.<name>.<attribute>}\"",
                );
            }
        }
        Some(out)
    }

    fn backend(&mut self, t: &Table<'_>, span: Span) -> Option<Backend> {
        let mut settings = IndexMap::new();
        let mut kind = None;
        for (key, value) in t.iter() {
            if key.get_ref() == "kind" {
                kind = value.get_ref().as_str().map(str::to_string);
            } else {
                settings.insert(key.get_ref().to_string(), self.plain_value(value));
            }
        }
        let Some(kind) = kind else {
            self.error(span, "[backend] has no `kind`", "write kind = \"local\"");
            return None;
        };
        Some(Backend {
            kind,
            settings,
            span,
        })
    }

    /// The body of a table, each key's value read as an expression.
    fn body(&mut self, t: &Table<'_>) -> IndexMap<String, (Span, Expr)> {
        t.iter()
            .map(|(k, v)| {
                (
                    k.get_ref().to_string(),
                    (Span::from(k.span()), self.expr(v)),
                )
            })
            .collect()
    }

    /// A value where references are not allowed (defaults, backend settings).
    fn plain_value(&mut self, value: &Spanned<DeValue<'_>>) -> Value {
        let e = self.expr(value);
        match e.kind {
            ExprKind::Literal(v) => v,
            _ => {
                self.error(e.span, "references are not allowed here", "write a plain value; references to variables and resources work in resources and outputs");
                Value::Null
            }
        }
    }

    fn expr(&mut self, value: &Spanned<DeValue<'_>>) -> Expr {
        let span: Span = value.span().into();
        let kind = match value.get_ref() {
            DeValue::String(s) => {
                let raw = self.file.slice(span).to_string();
                match parse_string(s, span, Some(&raw)) {
                    Ok(e) => return e,
                    Err(e) => {
                        self.error(e.span, e.message, e.hint);
                        return Expr::literal(Value::Null, span);
                    }
                }
            }
            DeValue::Integer(i) => {
                let digits = i.as_str().replace('_', "");
                let digits = digits
                    .trim_start_matches("0x")
                    .trim_start_matches("0o")
                    .trim_start_matches("0b");
                match i64::from_str_radix(digits, i.radix()) {
                    Ok(n) => ExprKind::Literal(Value::Number(Number::Int(n))),
                    Err(_) => {
                        self.error(span, "integer out of range", "integers must fit in 64 bits");
                        ExprKind::Literal(Value::Null)
                    }
                }
            }
            DeValue::Float(f) => {
                let text = f.as_str().replace('_', "");
                ExprKind::Literal(Value::Number(Number::Float(
                    text.parse().unwrap_or(f64::NAN),
                )))
            }
            DeValue::Boolean(b) => ExprKind::Literal(Value::Bool(*b)),
            DeValue::Datetime(d) => ExprKind::Literal(Value::String(d.to_string())),
            DeValue::Array(items) => ExprKind::List(items.iter().map(|i| self.expr(i)).collect()),
            DeValue::Table(t) => ExprKind::Map(self.body(t)),
        };
        Expr::new(kind, span).simplified()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::ExprKind;

    fn ok(text: &str) -> Stack {
        parse(SourceFile::new("stack.toml", text)).unwrap_or_else(|d| panic!("{d}"))
    }

    fn errors(text: &str) -> Vec<String> {
        parse(SourceFile::new("stack.toml", text))
            .unwrap_err()
            .iter()
            .map(|d| d.to_string())
            .collect()
    }

    #[test]
    fn reads_the_contract_example() {
        let s = ok(r#"
[stack]
name = "quickstart"

[variable.domain]
type = "string"
default = "example.com"
description = "Main domain"

[resource.omniform_data.network]
input = { cidr = "10.0.0.0/16", name = "net" }

[resource.omniform_data.server]
count = 2
input = { name = "srv-${count.index}", net = "${omniform_data.network.id}" }
triggers_replace = ["${var.domain}"]
depends_on = ["omniform_data.network"]

[resource.omniform_data.server.lifecycle]
create_before_destroy = true
ignore_changes = ["input.name"]

[output.server_ids]
value = "${omniform_data.server[*].id}"
"#);
        assert_eq!(s.name, "quickstart");
        assert_eq!(
            s.variables["domain"].default,
            Some(Value::from("example.com"))
        );
        assert_eq!(s.resources.len(), 2);
        let server = &s.resources[1];
        assert!(matches!(server.repetition, Repetition::Count(_)));
        assert!(server.lifecycle.create_before_destroy);
        assert_eq!(
            server.lifecycle.ignore_changes[0].0.to_string(),
            "input.name"
        );
        assert_eq!(server.depends_on[0].0.to_string(), "omniform_data.network");
        assert!(matches!(
            server.attributes["input"].1.kind,
            ExprKind::Map(_)
        ));
        assert!(s.resources[0].attributes["input"].1.is_literal());
        assert_eq!(server.references().len(), 3);
    }

    #[test]
    fn unknown_top_level_table_suggests_the_right_one() {
        let errs = errors("[stack]\nname = \"x\"\n[resources.a.b]\n");
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].starts_with("stack.toml:3:2: error: unknown top-level table `resources`"),
            "{}",
            errs[0]
        );
        let d = parse(SourceFile::new(
            "stack.toml",
            "[stack]\nname = \"x\"\n[resources.a.b]\n",
        ))
        .unwrap_err();
        assert!(
            d.0[0]
                .hint
                .as_deref()
                .unwrap()
                .contains("did you mean `resource`")
        );
    }

    #[test]
    fn toml_syntax_errors_point_at_the_spot() {
        let errs = errors("[stack]\nname = \"x\"\n[resource.a.b]\ninput = \n");
        assert!(errs[0].starts_with("stack.toml:4:"), "{errs:?}");
        assert!(errs[0].contains("invalid TOML"));
    }

    #[test]
    fn duplicate_names_are_reported() {
        let errs = errors("[stack]\nname = \"x\"\n[resource.a.b]\n[resource.a.b]\n");
        assert!(errs[0].contains("duplicate key"), "{errs:?}");
        assert!(errs[0].starts_with("stack.toml:4:"), "{errs:?}");
    }

    #[test]
    fn count_and_for_each_together() {
        let errs = errors("[stack]\nname = \"x\"\n[resource.a.b]\ncount = 1\nfor_each = [\"a\"]\n");
        assert_eq!(
            errs,
            vec!["stack.toml:5:1: error: `count` and `for_each` cannot both be set (in a.b)"]
        );
    }

    #[test]
    fn negative_count() {
        let errs = errors("[stack]\nname = \"x\"\n[resource.a.b]\ncount = -1\n");
        assert_eq!(
            errs,
            vec!["stack.toml:4:9: error: count is -1, but it must not be negative (in a.b)"]
        );
    }

    #[test]
    fn duplicate_for_each_keys() {
        let errs = errors("[stack]\nname = \"x\"\n[resource.a.b]\nfor_each = [\"a\", \"a\"]\n");
        assert!(errs[0].contains("duplicate for_each key \"a\""), "{errs:?}");
    }

    #[test]
    fn bad_reference_syntax_points_at_the_reference() {
        let errs = errors("[stack]\nname = \"x\"\n[resource.a.b]\ninput = \"x-${var}\"\n");
        assert!(
            errs[0].starts_with("stack.toml:4:12: error: malformed reference"),
            "{errs:?}"
        );
    }

    #[test]
    fn every_mistake_is_reported_at_once() {
        let errs = errors(
            "[stack]\nname = \"x\"\n[resource.a.b]\ncount = -1\n[resource.a.c]\nlifecycle = { nope = true }\n[bogus]\n",
        );
        assert_eq!(errs.len(), 3, "{errs:?}");
    }

    #[test]
    fn missing_stack_table() {
        let errs = errors("[resource.a.b]\n");
        assert!(errs[0].contains("missing [stack] table"));
    }
}
