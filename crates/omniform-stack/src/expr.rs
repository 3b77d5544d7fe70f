//! Expressions in a stack: literal values, and strings with `${...}` references.
//!
//! A string that is exactly one reference takes the referenced value's type; any other
//! string with references is a template whose parts are joined as text. `$${` writes a
//! literal `${`.

use std::fmt;

use indexmap::IndexMap;
use omniform_core::{InstanceKey, PathStep, ResourceAddress, Value};

use crate::source::Span;

/// An expression with the span of the source text it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
    /// Where the parts of a literal table or array are written, so a mistake deep inside
    /// one is reported at its own line.
    pub parts: Option<Box<SpanTree>>,
}

/// The spans of a literal's parts, by key or index.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpanTree {
    pub span: Span,
    pub children: Vec<(PathStep, SpanTree)>,
}

impl SpanTree {
    /// The span of the deepest part on `path`.
    pub fn find(&self, path: &[PathStep]) -> Span {
        let Some((first, rest)) = path.split_first() else {
            return self.span;
        };
        match self.children.iter().find(|(step, _)| step == first) {
            Some((_, child)) => child.find(rest),
            None => self.span,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A value with no references anywhere inside.
    Literal(Value),
    /// A string with at least one reference.
    Template(Vec<TemplatePart>),
    List(Vec<Expr>),
    /// A table; each key keeps the span where it is written.
    Map(IndexMap<String, (Span, Expr)>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum TemplatePart {
    Text(String),
    Ref(Reference),
}

/// What a reference points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefTarget {
    /// `var.<name>`
    Var(String),
    /// `count.index`
    CountIndex,
    /// `each.key`
    EachKey,
    /// `each.value`
    EachValue,
    /// `<type>.<name>` with an optional instance selector.
    Resource {
        addr: ResourceAddress,
        instance: InstanceSel,
    },
}

/// Which instances of a `count` / `for_each` resource a reference means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceSel {
    /// No selector: the resource has a single instance.
    Single,
    Key(InstanceKey),
    /// `[each.key]`: the instance with the same key as the one being evaluated.
    EachKey,
    /// `[count.index]`: the instance with the same index as the one being evaluated.
    CountIndex,
    /// `[*]`: every instance, as a list.
    Splat,
}

/// One step into the referenced value: `.name`, `[0]` or `["key"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefStep {
    Attr(String),
    Index(i64),
    Key(String),
}

/// A `${...}` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub target: RefTarget,
    pub steps: Vec<RefStep>,
    /// Where `${...}` is written, when it came from a file.
    pub span: Span,
}

impl Reference {
    /// The resource this reference points at, if any.
    pub fn resource(&self) -> Option<&ResourceAddress> {
        match &self.target {
            RefTarget::Resource { addr, .. } => Some(addr),
            _ => None,
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            RefTarget::Var(name) => write!(f, "var.{name}")?,
            RefTarget::CountIndex => f.write_str("count.index")?,
            RefTarget::EachKey => f.write_str("each.key")?,
            RefTarget::EachValue => f.write_str("each.value")?,
            RefTarget::Resource { addr, instance } => {
                write!(f, "{addr}")?;
                match instance {
                    InstanceSel::Single => {}
                    InstanceSel::Key(k) => write!(f, "{k}")?,
                    InstanceSel::EachKey => f.write_str("[each.key]")?,
                    InstanceSel::CountIndex => f.write_str("[count.index]")?,
                    InstanceSel::Splat => f.write_str("[*]")?,
                }
            }
        }
        for step in &self.steps {
            match step {
                RefStep::Attr(a) => write!(f, ".{a}")?,
                RefStep::Index(i) => write!(f, "[{i}]")?,
                RefStep::Key(k) => write!(f, "[{}]", omniform_core::address::quote(k))?,
            }
        }
        Ok(())
    }
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Self {
            kind,
            span,
            parts: None,
        }
    }

    pub fn literal(value: Value, span: Span) -> Self {
        Self {
            parts: None,
            kind: ExprKind::Literal(value),
            span,
        }
    }

    /// Every reference inside the expression, in source order.
    pub fn references(&self) -> Vec<&Reference> {
        let mut out = Vec::new();
        self.collect_refs(&mut out);
        out
    }

    fn collect_refs<'a>(&'a self, out: &mut Vec<&'a Reference>) {
        match &self.kind {
            ExprKind::Literal(_) => {}
            ExprKind::Template(parts) => {
                for p in parts {
                    if let TemplatePart::Ref(r) = p {
                        out.push(r);
                    }
                }
            }
            ExprKind::List(items) => items.iter().for_each(|e| e.collect_refs(out)),
            ExprKind::Map(items) => items.values().for_each(|(_, e)| e.collect_refs(out)),
        }
    }

    /// Builds an expression from a value, reading `${...}` in its strings. Used for stacks
    /// built in code; spans are empty.
    pub fn from_value(value: Value) -> Result<Self, TemplateError> {
        let span = Span::default();
        let kind = match value {
            Value::String(s) => return parse_string(&s, span, None),
            Value::List(items) => ExprKind::List(
                items
                    .into_iter()
                    .map(Expr::from_value)
                    .collect::<Result<_, _>>()?,
            ),
            Value::Map(items) => ExprKind::Map(
                items
                    .into_iter()
                    .map(|(k, v)| Ok((k, (span, Expr::from_value(v)?))))
                    .collect::<Result<_, TemplateError>>()?,
            ),
            other => ExprKind::Literal(other),
        };
        Ok(Expr::new(kind, span).simplified())
    }

    /// Folds containers that hold only literals into one literal, so evaluating them is a
    /// clone; where their parts are written is kept in `parts`.
    pub fn simplified(self) -> Self {
        let span = self.span;
        match self.kind {
            ExprKind::List(items) if items.iter().all(Expr::is_literal) => {
                let children = items
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (PathStep::Index(i), e.span_tree()))
                    .collect();
                let mut e = Expr::literal(
                    Value::List(items.into_iter().map(Expr::into_literal).collect()),
                    span,
                );
                e.parts = Some(Box::new(SpanTree { span, children }));
                e
            }
            ExprKind::Map(items) if items.values().all(|(_, e)| e.is_literal()) => {
                let children = items
                    .iter()
                    .map(|(k, (_, e))| (PathStep::Key(k.clone()), e.span_tree()))
                    .collect();
                let mut e = Expr::literal(
                    Value::Map(
                        items
                            .into_iter()
                            .map(|(k, (_, e))| (k, e.into_literal()))
                            .collect(),
                    ),
                    span,
                );
                e.parts = Some(Box::new(SpanTree { span, children }));
                e
            }
            kind => Expr::new(kind, span),
        }
    }

    /// This expression's span with those of its parts.
    fn span_tree(&self) -> SpanTree {
        match &self.parts {
            Some(tree) => (**tree).clone(),
            None => SpanTree {
                span: self.span,
                children: Vec::new(),
            },
        }
    }

    /// The span of the part of the expression at `path`, or the nearest enclosing one.
    pub fn span_at(&self, path: &[PathStep]) -> Span {
        let Some((first, rest)) = path.split_first() else {
            return self.span;
        };
        match (&self.kind, first) {
            (ExprKind::Map(items), PathStep::Key(k)) => items
                .get(k)
                .map(|(_, e)| e.span_at(rest))
                .unwrap_or(self.span),
            (ExprKind::List(items), PathStep::Index(i)) => {
                items.get(*i).map(|e| e.span_at(rest)).unwrap_or(self.span)
            }
            (ExprKind::Literal(_), _) => self
                .parts
                .as_ref()
                .map(|t| t.find(path))
                .unwrap_or(self.span),
            _ => self.span,
        }
    }

    pub fn is_literal(&self) -> bool {
        matches!(self.kind, ExprKind::Literal(_))
    }

    fn into_literal(self) -> Value {
        match self.kind {
            ExprKind::Literal(v) => v,
            _ => unreachable!("checked by is_literal"),
        }
    }

    /// The span of the key `key` in a map expression, when there is one.
    pub fn key_span(&self, key: &str) -> Option<Span> {
        match &self.kind {
            ExprKind::Map(items) => items.get(key).map(|(s, _)| *s),
            _ => None,
        }
    }
}

/// A malformed `${...}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub span: Span,
    pub message: String,
    pub hint: String,
}

/// Parses a string value into a literal or a template. `raw` is the string's source text
/// (with quotes), used to find where each `${` is written; `span` covers it.
pub fn parse_string(text: &str, span: Span, raw: Option<&str>) -> Result<Expr, TemplateError> {
    if !text.contains("${") {
        return Ok(Expr::literal(Value::String(text.to_string()), span));
    }
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    let mut raw_cursor = 0usize;
    while let Some(pos) = rest.find("${") {
        if pos > 0 && rest[..pos].ends_with('$') {
            // `$${` is an escaped `${`.
            literal.push_str(&rest[..pos - 1]);
            literal.push_str("${");
            rest = &rest[pos + 2..];
            continue;
        }
        literal.push_str(&rest[..pos]);
        let body_start = pos + 2;
        let Some(close) = find_close(&rest[body_start..]) else {
            return Err(TemplateError {
                span: locate_in_raw(raw, &rest[pos..], span, &mut raw_cursor),
                message: "unterminated reference: `${` has no closing `}`".into(),
                hint: "close the reference with `}`, or write `$${` for a literal `${`".into(),
            });
        };
        let whole = &rest[pos..body_start + close + 1];
        let ref_span = locate_in_raw(raw, whole, span, &mut raw_cursor);
        let body = rest[body_start..body_start + close].trim();
        let reference = parse_reference(body, ref_span)?;
        if !literal.is_empty() {
            parts.push(TemplatePart::Text(std::mem::take(&mut literal)));
        }
        parts.push(TemplatePart::Ref(reference));
        rest = &rest[body_start + close + 1..];
    }
    literal.push_str(rest);
    if parts.is_empty() {
        return Ok(Expr::literal(Value::String(literal), span));
    }
    if !literal.is_empty() {
        parts.push(TemplatePart::Text(literal));
    }
    Ok(Expr::new(ExprKind::Template(parts), span))
}

/// Finds the `}` that closes a reference body, skipping quoted keys like `["a}"]`.
fn find_close(body: &str) -> Option<usize> {
    let mut in_quote = false;
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quote => escaped = true,
            '"' => in_quote = !in_quote,
            '}' if !in_quote => return Some(i),
            _ => {}
        }
    }
    None
}

/// The span of `needle` inside the string's raw source text, or the whole string's span
/// when it cannot be found there (escapes can make the two differ).
fn locate_in_raw(raw: Option<&str>, needle: &str, span: Span, cursor: &mut usize) -> Span {
    if let Some(raw) = raw
        && let Some(found) = raw.get(*cursor..).and_then(|r| r.find(needle))
    {
        let start = *cursor + found;
        *cursor = start + needle.len();
        return Span::new(
            span.start as usize + start,
            span.start as usize + start + needle.len(),
        );
    }
    span
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

struct RefLexer<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> RefLexer<'a> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn ident(&mut self) -> Option<&'a str> {
        let start = self.pos;
        let mut chars = self.text[start..].char_indices();
        match chars.next() {
            Some((_, c)) if is_ident_start(c) => {}
            _ => return None,
        }
        let len = chars
            .find(|(_, c)| !is_ident_char(*c))
            .map(|(i, _)| i)
            .unwrap_or(self.text.len() - start);
        self.pos += len;
        Some(&self.text[start..start + len])
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    /// After `[`: a number, a quoted string or `*`, then `]`.
    fn bracket(&mut self) -> Result<Bracket, String> {
        let rest = &self.text[self.pos..];
        let close = if rest.starts_with('"') {
            let end = find_string_end(rest).ok_or("unterminated string in `[...]`")?;
            end + 1
        } else {
            rest.find(']').ok_or("missing `]`")?
        };
        let inner = rest[..close].trim();
        if rest.as_bytes().get(close) != Some(&b']') {
            return Err("missing `]` after the key".into());
        }
        self.pos += close + 1;
        match inner {
            "*" => return Ok(Bracket::Splat),
            "each.key" => return Ok(Bracket::EachKey),
            "count.index" => return Ok(Bracket::CountIndex),
            _ => {}
        }
        if inner.starts_with('"') {
            let key: String = serde_like_unquote(inner).ok_or("malformed string key")?;
            return Ok(Bracket::Key(key));
        }
        inner
            .parse::<i64>()
            .map(Bracket::Index)
            .map_err(|_| format!("`[{inner}]` is not an index: use [0], [\"key\"] or [*]"))
    }
}

enum Bracket {
    Index(i64),
    Key(String),
    EachKey,
    CountIndex,
    Splat,
}

fn find_string_end(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(i),
            _ => {}
        }
    }
    None
}

fn serde_like_unquote(s: &str) -> Option<String> {
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                c @ ('"' | '\\') => out.push(c),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Parses the inside of `${...}`.
pub fn parse_reference(body: &str, span: Span) -> Result<Reference, TemplateError> {
    let err = |message: String, hint: &str| TemplateError {
        span,
        message,
        hint: hint.to_string(),
    };
    const SHAPES: &str = "references look like ${var.name}, ${count.index}, ${each.key}, \
                          ${each.value}, ${<type>.<name>.<attribute>}, \
                          ${<type>.<name>[0].<attribute>} or ${<type>.<name>[*].<attribute>}";
    let mut lx = RefLexer { text: body, pos: 0 };
    let Some(root) = lx.ident() else {
        return Err(err(format!("malformed reference `${{{body}}}`"), SHAPES));
    };
    if !lx.eat('.') {
        return Err(err(
            format!("malformed reference `${{{body}}}`: `{root}` alone names nothing"),
            SHAPES,
        ));
    }
    let Some(second) = lx.ident() else {
        return Err(err(
            format!("malformed reference `${{{body}}}`: expected a name after `{root}.`"),
            SHAPES,
        ));
    };
    let target = match root {
        "var" => RefTarget::Var(second.to_string()),
        "count" if second == "index" => RefTarget::CountIndex,
        "count" => {
            return Err(err(
                format!("`count.{second}` does not exist"),
                "the only attribute of count is `count.index`",
            ));
        }
        "each" if second == "key" => RefTarget::EachKey,
        "each" if second == "value" => RefTarget::EachValue,
        "each" => {
            return Err(err(
                format!("`each.{second}` does not exist"),
                "use `each.key` or `each.value`",
            ));
        }
        type_name => {
            let mut instance = InstanceSel::Single;
            if lx.eat('[') {
                instance = match lx.bracket().map_err(|m| err(m, SHAPES))? {
                    Bracket::Index(i) => InstanceSel::Key(InstanceKey::Int(i)),
                    Bracket::Key(k) => InstanceSel::Key(InstanceKey::Str(k)),
                    Bracket::EachKey => InstanceSel::EachKey,
                    Bracket::CountIndex => InstanceSel::CountIndex,
                    Bracket::Splat => InstanceSel::Splat,
                };
            }
            RefTarget::Resource {
                addr: ResourceAddress::new(type_name, second),
                instance,
            }
        }
    };
    let mut steps = Vec::new();
    loop {
        if lx.eat('.') {
            let Some(name) = lx.ident() else {
                return Err(err(
                    format!("malformed reference `${{{body}}}`: expected a name after `.`"),
                    SHAPES,
                ));
            };
            steps.push(RefStep::Attr(name.to_string()));
        } else if lx.eat('[') {
            match lx.bracket().map_err(|m| err(m, SHAPES))? {
                Bracket::Index(i) => steps.push(RefStep::Index(i)),
                Bracket::Key(k) => steps.push(RefStep::Key(k)),
                Bracket::EachKey | Bracket::CountIndex => {
                    return Err(err(
                        "`[each.key]` and `[count.index]` may only follow the resource name".into(),
                        "write ${<type>.<name>[each.key].<attribute>}",
                    ));
                }
                Bracket::Splat => {
                    return Err(err(
                        "`[*]` may only follow the resource name".into(),
                        "write ${<type>.<name>[*].<attribute>}",
                    ));
                }
            }
        } else if lx.pos == body.len() {
            break;
        } else {
            return Err(err(
                format!(
                    "malformed reference `${{{body}}}`: unexpected `{}`",
                    &body[lx.pos..]
                ),
                "references name things; expressions and functions are not supported",
            ));
        }
    }
    Ok(Reference {
        target,
        steps,
        span,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Expr {
        parse_string(s, Span::default(), None).unwrap()
    }

    #[test]
    fn plain_strings_are_literals() {
        assert!(parse("hello").is_literal());
        assert_eq!(
            parse("cost $${HOME}").kind,
            ExprKind::Literal(Value::from("cost ${HOME}"))
        );
    }

    #[test]
    fn exact_reference_is_one_part() {
        let e = parse("${omniform_data.network.output.cidr}");
        let ExprKind::Template(parts) = e.kind else {
            panic!("not a template")
        };
        assert_eq!(parts.len(), 1);
        let TemplatePart::Ref(r) = &parts[0] else {
            panic!("not a ref")
        };
        assert_eq!(r.to_string(), "omniform_data.network.output.cidr");
    }

    #[test]
    fn interpolation_keeps_text_around() {
        let e = parse("srv-${count.index}-x");
        let ExprKind::Template(parts) = e.kind else {
            panic!()
        };
        assert_eq!(parts.len(), 3);
        assert_eq!(
            parts[1],
            TemplatePart::Ref(Reference {
                target: RefTarget::CountIndex,
                steps: vec![],
                span: Span::default(),
            })
        );
    }

    #[test]
    fn instance_selectors() {
        for (text, printed) in [
            ("${a.b[0].id}", "a.b[0].id"),
            ("${a.b[\"k\"].id}", "a.b[\"k\"].id"),
            ("${a.b[*].id}", "a.b[*].id"),
            ("${ var.tags[\"Name\"] }", "var.tags[\"Name\"]"),
            ("${a.b[each.key].arn}", "a.b[each.key].arn"),
            ("${a.b[count.index].id}", "a.b[count.index].id"),
            ("${each.value.size}", "each.value.size"),
        ] {
            let e = parse(text);
            assert_eq!(e.references()[0].to_string(), printed);
        }
    }

    #[test]
    fn malformed_references_are_errors() {
        for text in [
            "${",
            "${var}",
            "${count.value}",
            "${a.b[x]}",
            "${a.b.c + 1}",
            "${a.b.c[*]}",
            "${each.nope}",
        ] {
            assert!(parse_string(text, Span::default(), None).is_err(), "{text}");
        }
    }

    #[test]
    fn reference_spans_point_into_the_raw_source() {
        let raw = "\"x-${var.a}\"";
        let e = parse_string("x-${var.a}", Span::new(10, 10 + raw.len()), Some(raw)).unwrap();
        let r = e.references()[0];
        assert_eq!((r.span.start, r.span.end), (13, 21));
    }
}
