//! Stack variants: a file that reuses another stack file under its own name (so its own
//! state) with its own variable values, for environments such as staging.
//!
//! ```toml
//! [stack]
//! name = "omniops-staging"
//! extends = "production.toml"
//!
//! [variables]
//! environment = "staging"
//! ```
//!
//! The values sit between the base file's defaults and everything a user passes
//! (`--var`, `--var-file`, `OMNIFORM_VAR_*`).

use std::sync::Arc;

use omniform_core::{Diagnostic, Diagnostics};
use toml::de::{DeTable, DeValue};

use crate::Stack;
use crate::parse::is_identifier;
use crate::source::{SourceFile, Span};

/// A stack file that extends another.
#[derive(Debug, Clone)]
pub struct Variant {
    pub name: String,
    /// The base stack file, as written (relative to the variant's directory).
    pub extends: String,
    pub extends_span: Span,
    pub file: Arc<SourceFile>,
}

impl Variant {
    /// Where the `extends` value is written.
    pub fn extends_location(&self) -> omniform_core::Location {
        self.file.locate(self.extends_span)
    }
}

/// Reads `[stack] extends` from a stack file: `Ok(None)` for an ordinary stack file (whose
/// problems the normal parse reports), the variant otherwise, or what is wrong with it.
pub fn parse_variant(file: &SourceFile) -> Result<Option<Variant>, Diagnostics> {
    let (root, errors) = DeTable::parse_recoverable(&file.text);
    if !errors.is_empty() {
        return Ok(None);
    }
    let root = root.get_ref();
    let Some(DeValue::Table(stack)) = root.get("stack").map(|v| v.get_ref()) else {
        return Ok(None);
    };
    let Some(extends) = stack.get("extends") else {
        return Ok(None);
    };
    let mut diags = Diagnostics::new();
    let at = |span: std::ops::Range<usize>| Some(file.locate(span.into()));
    let base = match extends.get_ref().as_str() {
        Some(path) if !path.trim().is_empty() => path.to_string(),
        _ => {
            diags.push(
                Diagnostic::error("`extends` names the stack file this one reuses")
                    .with_location(at(extends.span()))
                    .with_hint("write extends = \"production.toml\", relative to this file"),
            );
            String::new()
        }
    };
    let mut name = String::new();
    for (key, value) in stack.iter() {
        match &**key.get_ref() {
            "name" => match value.get_ref().as_str() {
                Some(n) if is_identifier(n) => name = n.to_string(),
                _ => diags.push(
                    Diagnostic::error("the stack name must be an identifier")
                        .with_location(at(value.span()))
                        .with_hint("use letters, digits, `_` and `-`, starting with a letter"),
                ),
            },
            "extends" | "description" => {}
            other => diags.push(
                Diagnostic::error(format!("unknown key `{other}` in [stack]"))
                    .with_location(at(key.span()))
                    .with_hint("[stack] takes `name`, `description` and `extends`"),
            ),
        }
    }
    if !stack.contains_key("name") {
        diags.push(
            Diagnostic::error("missing `name` in [stack]")
                .with_location(at(root.get("stack").map(|v| v.span()).unwrap_or(0..0)))
                .with_hint(
                    "a stack that extends another needs a name of its own: the name names its state",
                ),
        );
    }
    for (key, value) in root.iter() {
        match &**key.get_ref() {
            "stack" => {}
            "variables" if matches!(value.get_ref(), DeValue::Table(_)) => {}
            "variables" => diags.push(
                Diagnostic::error("[variables] holds variable values")
                    .with_location(at(value.span()))
                    .with_hint("write a [variables] section with name = value lines"),
            ),
            other => diags.push(
                Diagnostic::error(format!(
                    "a stack that extends another holds only [stack] and [variables], not `{other}`"
                ))
                .with_location(at(key.span()))
                .with_hint(format!(
                    "a variant only sets values: declare resources, variables, outputs and providers in {base}, and set variables here under [variables]"
                )),
            ),
        }
    }
    diags.into_result(Some(Variant {
        name,
        extends: base,
        extends_span: extends.span().into(),
        file: Arc::new(file.clone()),
    }))
}

impl Stack {
    /// The base stack, under the variant's name and with its values.
    pub fn with_variant(mut self, variant: Variant) -> Self {
        self.name = variant.name;
        self.variant = Some(variant.file);
        self
    }

    /// The text the stack came from, base and variant: what a saved plan is checked against.
    pub fn text(&self) -> String {
        let mut text = self
            .source
            .as_ref()
            .map(|s| s.text.clone())
            .unwrap_or_default();
        if let Some(v) = &self.variant {
            text.push('\0');
            text.push_str(&v.text);
        }
        text
    }
}
