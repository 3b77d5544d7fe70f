//! Building stacks in code: typed structs for the built-in resource types, and references as
//! typed handles (`network.id()`), which become the same stack a TOML file would.

use std::marker::PhantomData;

use omniform_core::{AttrPath, Diagnostic, Diagnostics, ResourceAddress, Value};
use omniform_stack::{
    Expr, Lifecycle, Output, Repetition, Resource, Span, Stack, VarType, Variable,
};

/// A value known only once something is applied: a reference, embedded anywhere a value
/// goes. It becomes `${...}` in the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref(String);

impl Ref {
    /// The reference as written in a stack file, such as `${omniform_data.network.id}`.
    pub fn expression(&self) -> &str {
        &self.0
    }

    /// This reference inside a string, like `format!` would: `Ref::interpolate("srv-{}", &id)`.
    pub fn interpolate(template: &str, r: &Ref) -> Value {
        Value::String(template.replace("{}", &r.0))
    }
}

impl From<Ref> for Value {
    fn from(r: Ref) -> Self {
        Value::String(r.0)
    }
}

/// The `count.index` of the instance being built, for use inside a counted resource.
pub fn count_index() -> Ref {
    Ref("${count.index}".into())
}

/// The `each.key` of the instance being built, for use inside a `for_each` resource.
pub fn each_key() -> Ref {
    Ref("${each.key}".into())
}

/// The `each.value` of the instance being built.
pub fn each_value() -> Ref {
    Ref("${each.value}".into())
}

/// Settings every resource has: repetition, explicit dependencies, lifecycle.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    count: Option<Value>,
    for_each: Option<Value>,
    depends_on: Vec<ResourceAddress>,
    lifecycle: Lifecycle,
}

/// A resource type that can be built in code.
pub trait ResourceDef {
    /// The resource type, like `omniform_data`.
    const TYPE: &'static str;
    fn name(&self) -> &str;
    fn meta_mut(&mut self) -> &mut Meta;
    /// The attributes the user set.
    fn attributes(&self) -> Vec<(&'static str, Value)>;
    fn into_meta(self) -> Meta;

    /// Makes `n` numbered copies (`count`).
    fn count(mut self, n: impl Into<Value>) -> Self
    where
        Self: Sized,
    {
        self.meta_mut().count = Some(n.into());
        self
    }

    /// Makes one copy per key (`for_each`): a list of strings or a map.
    fn for_each(mut self, keys: impl Into<Value>) -> Self
    where
        Self: Sized,
    {
        self.meta_mut().for_each = Some(keys.into());
        self
    }

    /// Adds an explicit dependency.
    fn depends_on<R>(mut self, other: &Handle<R>) -> Self
    where
        Self: Sized,
    {
        self.meta_mut().depends_on.push(other.addr.clone());
        self
    }

    fn create_before_destroy(mut self, on: bool) -> Self
    where
        Self: Sized,
    {
        self.meta_mut().lifecycle.create_before_destroy = on;
        self
    }

    fn prevent_destroy(mut self, on: bool) -> Self
    where
        Self: Sized,
    {
        self.meta_mut().lifecycle.prevent_destroy = on;
        self
    }

    /// Leaves changes at these attribute paths (like `input.name`) out of plans.
    fn ignore_changes(mut self, paths: &[&str]) -> Self
    where
        Self: Sized,
    {
        for p in paths {
            if let Ok(path) = p.parse::<AttrPath>() {
                self.meta_mut()
                    .lifecycle
                    .ignore_changes
                    .push((path, Span::default()));
            }
        }
        self
    }
}

/// A handle on a resource added to a stack; its methods make references to its attributes.
#[derive(Debug)]
pub struct Handle<R> {
    addr: ResourceAddress,
    selector: String,
    _type: PhantomData<R>,
}

impl<R> Clone for Handle<R> {
    fn clone(&self) -> Self {
        Self {
            addr: self.addr.clone(),
            selector: self.selector.clone(),
            _type: PhantomData,
        }
    }
}

impl<R> Handle<R> {
    pub fn address(&self) -> &ResourceAddress {
        &self.addr
    }

    /// Instance `i` of a counted resource.
    pub fn at(&self, i: i64) -> Self {
        Self {
            selector: format!("[{i}]"),
            ..self.clone()
        }
    }

    /// Instance `key` of a `for_each` resource.
    pub fn key(&self, key: &str) -> Self {
        Self {
            selector: format!("[{}]", omniform_core::address::quote(key)),
            ..self.clone()
        }
    }

    /// Every instance: attribute references become lists.
    pub fn all(&self) -> Self {
        Self {
            selector: "[*]".into(),
            ..self.clone()
        }
    }

    /// A reference to any attribute by name.
    pub fn attr(&self, name: &str) -> Ref {
        Ref(format!("${{{}{}.{name}}}", self.addr, self.selector))
    }
}

macro_rules! attributes {
    ($ty:ty { $($(#[$doc:meta])* $name:ident),* $(,)? }) => {
        impl Handle<$ty> {
            $( $(#[$doc])* pub fn $name(&self) -> Ref { self.attr(stringify!($name)) } )*
        }
    };
}

/// `omniform_data`: a value kept in state (Terraform's `terraform_data`).
#[derive(Debug, Clone)]
pub struct OmniformData {
    name: String,
    input: Option<Value>,
    triggers_replace: Option<Value>,
    meta: Meta,
}

impl OmniformData {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.into(),
            input: None,
            triggers_replace: None,
            meta: Meta::default(),
        }
    }

    pub fn input(mut self, v: impl Into<Value>) -> Self {
        self.input = Some(v.into());
        self
    }

    pub fn triggers_replace(mut self, v: impl Into<Value>) -> Self {
        self.triggers_replace = Some(v.into());
        self
    }
}

impl ResourceDef for OmniformData {
    const TYPE: &'static str = "omniform_data";
    fn name(&self) -> &str {
        &self.name
    }
    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }
    fn attributes(&self) -> Vec<(&'static str, Value)> {
        let mut a = Vec::new();
        if let Some(v) = &self.input {
            a.push(("input", v.clone()));
        }
        if let Some(v) = &self.triggers_replace {
            a.push(("triggers_replace", v.clone()));
        }
        a
    }
    fn into_meta(self) -> Meta {
        self.meta
    }
}

attributes!(OmniformData {
    /// The random id made at create.
    id,
    /// Equal to `input` after apply.
    output,
});

/// `random_id`: random bytes, shown as hex and base64.
#[derive(Debug, Clone)]
pub struct RandomId {
    name: String,
    byte_length: i64,
    keepers: Option<Value>,
    rotate_after_days: Option<i64>,
    meta: Meta,
}

impl RandomId {
    pub fn new(name: &str, byte_length: i64) -> Self {
        Self {
            name: name.into(),
            byte_length,
            keepers: None,
            rotate_after_days: None,
            meta: Meta::default(),
        }
    }

    pub fn keepers(mut self, v: impl Into<Value>) -> Self {
        self.keepers = Some(v.into());
        self
    }

    pub fn rotate_after_days(mut self, days: i64) -> Self {
        self.rotate_after_days = Some(days);
        self
    }
}

impl ResourceDef for RandomId {
    const TYPE: &'static str = "random_id";
    fn name(&self) -> &str {
        &self.name
    }
    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }
    fn attributes(&self) -> Vec<(&'static str, Value)> {
        let mut a = vec![("byte_length", Value::from(self.byte_length))];
        if let Some(v) = &self.keepers {
            a.push(("keepers", v.clone()));
        }
        if let Some(d) = self.rotate_after_days {
            a.push(("rotate_after_days", Value::from(d)));
        }
        a
    }
    fn into_meta(self) -> Meta {
        self.meta
    }
}

attributes!(RandomId {
    id,
    hex,
    b64_url,
    b64_std
});

/// `random_password`: a random string; its `result` is always sensitive.
#[derive(Debug, Clone)]
pub struct RandomPassword {
    name: String,
    length: i64,
    special: Option<bool>,
    keepers: Option<Value>,
    rotate_after_days: Option<i64>,
    meta: Meta,
}

impl RandomPassword {
    pub fn new(name: &str, length: i64) -> Self {
        Self {
            name: name.into(),
            length,
            special: None,
            keepers: None,
            rotate_after_days: None,
            meta: Meta::default(),
        }
    }

    pub fn special(mut self, on: bool) -> Self {
        self.special = Some(on);
        self
    }

    pub fn keepers(mut self, v: impl Into<Value>) -> Self {
        self.keepers = Some(v.into());
        self
    }

    pub fn rotate_after_days(mut self, days: i64) -> Self {
        self.rotate_after_days = Some(days);
        self
    }
}

impl ResourceDef for RandomPassword {
    const TYPE: &'static str = "random_password";
    fn name(&self) -> &str {
        &self.name
    }
    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }
    fn attributes(&self) -> Vec<(&'static str, Value)> {
        let mut a = vec![("length", Value::from(self.length))];
        if let Some(s) = self.special {
            a.push(("special", Value::from(s)));
        }
        if let Some(v) = &self.keepers {
            a.push(("keepers", v.clone()));
        }
        if let Some(d) = self.rotate_after_days {
            a.push(("rotate_after_days", Value::from(d)));
        }
        a
    }
    fn into_meta(self) -> Meta {
        self.meta
    }
}

attributes!(RandomPassword { id, result });

/// Builds a [`Stack`] in code.
#[derive(Debug)]
pub struct StackBuilder {
    stack: Stack,
    diags: Diagnostics,
}

impl StackBuilder {
    pub fn new(name: &str) -> Self {
        Self {
            stack: Stack::new(name),
            diags: Diagnostics::new(),
        }
    }

    /// Declares a variable and returns a reference to it.
    pub fn variable(
        &mut self,
        name: &str,
        ty: VarType,
        default: Option<Value>,
        sensitive: bool,
    ) -> Ref {
        self.stack.variables.insert(
            name.to_string(),
            Variable {
                name: name.into(),
                ty,
                default,
                description: String::new(),
                sensitive,
                span: Span::default(),
            },
        );
        Ref(format!("${{var.{name}}}"))
    }

    fn expr(&mut self, owner: &str, v: Value) -> Expr {
        Expr::from_value(v).unwrap_or_else(|e| {
            self.diags.push(
                Diagnostic::error(e.message)
                    .with_address(owner)
                    .with_hint(e.hint),
            );
            Expr::literal(Value::Null, Span::default())
        })
    }

    /// Adds a resource and returns a handle for referencing it.
    pub fn add<R: ResourceDef>(&mut self, def: R) -> Handle<R> {
        let addr = ResourceAddress::new(R::TYPE, def.name());
        let owner = addr.to_string();
        let mut r = Resource::new(addr.clone());
        for (name, value) in def.attributes() {
            let e = self.expr(&owner, value);
            r.attributes.insert(name.to_string(), (Span::default(), e));
        }
        let meta = def.into_meta();
        r.repetition = match (meta.count, meta.for_each) {
            (Some(c), None) => Repetition::Count(self.expr(&owner, c)),
            (None, Some(f)) => Repetition::ForEach(self.expr(&owner, f)),
            (None, None) => Repetition::Single,
            (Some(_), Some(_)) => {
                self.diags.push(
                    Diagnostic::error("`count` and `for_each` cannot both be set")
                        .with_address(&owner)
                        .with_hint("keep one of them"),
                );
                Repetition::Single
            }
        };
        r.depends_on = meta
            .depends_on
            .into_iter()
            .map(|a| (a, Span::default()))
            .collect();
        r.lifecycle = meta.lifecycle;
        if self.stack.resource(&addr).is_some() {
            self.diags.push(
                Diagnostic::error(format!("duplicate resource `{addr}`"))
                    .with_address(&owner)
                    .with_hint("give each resource its own name"),
            );
        }
        self.stack.resources.insert(addr.clone(), r);
        Handle {
            addr,
            selector: String::new(),
            _type: PhantomData,
        }
    }

    /// Adds an output.
    pub fn output(&mut self, name: &str, value: impl Into<Value>, sensitive: bool) {
        let value = self.expr(&format!("output.{name}"), value.into());
        self.stack.outputs.insert(
            name.to_string(),
            Output {
                name: name.into(),
                value,
                sensitive,
                description: String::new(),
                span: Span::default(),
            },
        );
    }

    /// The stack, or what is wrong with it.
    pub fn build(self) -> Result<Stack, Diagnostics> {
        self.diags.into_result(self.stack)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_make_references() {
        let mut b = StackBuilder::new("t");
        let net = b.add(OmniformData::new("network"));
        let srv = b.add(
            OmniformData::new("server")
                .count(2)
                .input(Value::map([("net", net.output())])),
        );
        assert_eq!(net.id().expression(), "${omniform_data.network.id}");
        assert_eq!(srv.all().id().expression(), "${omniform_data.server[*].id}");
        assert_eq!(srv.at(1).id().expression(), "${omniform_data.server[1].id}");
        let stack = b.build().unwrap();
        assert_eq!(stack.resources[1].references().len(), 1);
    }
}
