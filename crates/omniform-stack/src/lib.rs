//! Stack files: the TOML a user writes, read into a [`Stack`] whose every part remembers
//! where it was written, plus variables, references, `count` / `for_each` and outputs.
//!
//! This crate checks what can be checked without knowing resource schemas (syntax, the
//! shape of tables, references, meta-arguments); `omniform-engine` checks the rest.
//! It does no IO: callers hand it file contents.

pub mod eval;
pub mod expr;
mod parse;
pub mod source;
pub mod variant;
pub mod vars;

use std::sync::Arc;

use indexmap::IndexMap;
use omniform_core::{AttrPath, Location, ResourceAddress, Value};

pub use eval::{EvalError, InstanceScope, Lookup, ResourceValues, eval};
pub use expr::{
    Expr, ExprKind, InstanceSel, RefStep, RefTarget, Reference, SpanTree, TemplatePart,
};
pub use parse::parse;
pub use source::{SourceFile, Span};
pub use variant::{Variant, parse_variant};
pub use vars::{VariableInputs, resolve_variables};

/// A parsed stack.
#[derive(Debug, Clone)]
pub struct Stack {
    pub name: String,
    /// The file the stack came from; `None` for stacks built in code.
    pub source: Option<Arc<SourceFile>>,
    /// A variant file that reuses this stack (`extends`): its [variables] give values.
    pub variant: Option<Arc<SourceFile>>,
    pub variables: IndexMap<String, Variable>,
    /// By address, in the order they are written.
    pub resources: IndexMap<ResourceAddress, Resource>,
    pub outputs: IndexMap<String, Output>,
    pub providers: IndexMap<String, ProviderBlock>,
    pub backend: Option<Backend>,
}

impl Stack {
    /// An empty stack, for building in code.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            source: None,
            variant: None,
            variables: IndexMap::new(),
            resources: IndexMap::new(),
            outputs: IndexMap::new(),
            providers: IndexMap::new(),
            backend: None,
        }
    }

    /// Where a span is, when the stack came from a file.
    pub fn locate(&self, span: Span) -> Option<Location> {
        self.source.as_ref().map(|s| s.locate(span))
    }

    pub fn resource(&self, addr: &ResourceAddress) -> Option<&Resource> {
        self.resources.get(addr)
    }
}

/// The declared type of a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarType {
    String,
    Number,
    Bool,
    List,
    Map,
    Any,
}

impl VarType {
    pub fn name(self) -> &'static str {
        match self {
            VarType::String => "string",
            VarType::Number => "number",
            VarType::Bool => "bool",
            VarType::List => "list",
            VarType::Map => "map",
            VarType::Any => "any",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "string" => VarType::String,
            "number" => VarType::Number,
            "bool" => VarType::Bool,
            "list" => VarType::List,
            "map" => VarType::Map,
            "any" => VarType::Any,
            _ => return None,
        })
    }

    /// Whether a value fits the type (unknowns fit everything).
    pub fn accepts(self, v: &Value) -> bool {
        matches!(
            (self, v.peel()),
            (VarType::Any, _)
                | (_, Value::Unknown)
                | (VarType::String, Value::String(_))
                | (VarType::Number, Value::Number(_))
                | (VarType::Bool, Value::Bool(_))
                | (VarType::List, Value::List(_))
                | (VarType::Map, Value::Map(_))
        )
    }
}

/// A `[variable.<name>]` block.
#[derive(Debug, Clone)]
pub struct Variable {
    pub name: String,
    pub ty: VarType,
    pub default: Option<Value>,
    pub description: String,
    pub sensitive: bool,
    pub span: Span,
}

/// How many instances a resource block has.
#[derive(Debug, Clone, PartialEq)]
pub enum Repetition {
    Single,
    Count(Expr),
    ForEach(Expr),
}

/// The `lifecycle` table of a resource.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lifecycle {
    pub create_before_destroy: bool,
    pub prevent_destroy: bool,
    /// `ignore_changes = "all"`.
    pub ignore_all_changes: bool,
    pub ignore_changes: Vec<(AttrPath, Span)>,
}

/// A `[resource.<type>.<name>]` block.
#[derive(Debug, Clone)]
pub struct Resource {
    pub addr: ResourceAddress,
    /// The block's header (or inline table).
    pub span: Span,
    pub type_span: Span,
    pub repetition: Repetition,
    /// The resource's attributes as written, with the span of each key.
    pub attributes: IndexMap<String, (Span, Expr)>,
    pub depends_on: Vec<(ResourceAddress, Span)>,
    pub lifecycle: Lifecycle,
}

impl Resource {
    /// A resource with no attributes yet, for building in code.
    pub fn new(addr: ResourceAddress) -> Self {
        Self {
            addr,
            span: Span::default(),
            type_span: Span::default(),
            repetition: Repetition::Single,
            attributes: IndexMap::new(),
            depends_on: Vec::new(),
            lifecycle: Lifecycle::default(),
        }
    }

    /// Every reference in the block: attributes and the `count` / `for_each` expression.
    pub fn references(&self) -> Vec<&Reference> {
        let mut refs: Vec<&Reference> = Vec::new();
        match &self.repetition {
            Repetition::Single => {}
            Repetition::Count(e) | Repetition::ForEach(e) => refs.extend(e.references()),
        }
        for (_, e) in self.attributes.values() {
            refs.extend(e.references());
        }
        refs
    }
}

/// An `[output.<name>]` block.
#[derive(Debug, Clone)]
pub struct Output {
    pub name: String,
    pub value: Expr,
    pub sensitive: bool,
    pub description: String,
    pub span: Span,
}

/// A `[provider.<name>]` block: settings handed to the provider, which may reference
/// variables.
#[derive(Debug, Clone)]
pub struct ProviderBlock {
    pub name: String,
    pub settings: IndexMap<String, (Span, Expr)>,
    pub span: Span,
}

/// The `[backend]` table: where state lives.
#[derive(Debug, Clone, PartialEq)]
pub struct Backend {
    pub kind: String,
    pub settings: IndexMap<String, Value>,
    pub span: Span,
}
