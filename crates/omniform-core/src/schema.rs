//! Resource schemas: what attributes a resource type has, their types, which are required,
//! computed, force replacement or are sensitive. The schema drives validation, diffing and
//! rendering, so the engine needs no special case for any resource type.

use std::collections::BTreeMap;
use std::fmt;

use crate::path::{AttrPath, PathStep};
use crate::value::{Number, Value};

/// The type of an attribute's value.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrType {
    String,
    Number,
    Bool,
    /// Any value at all, like Terraform's `any` / dynamic.
    Any,
    List(Box<AttrType>),
    Map(Box<AttrType>),
    /// An object with named attributes of its own; a nested block is a list of these.
    Object(Vec<Attribute>),
}

impl AttrType {
    pub fn list(of: AttrType) -> Self {
        AttrType::List(Box::new(of))
    }

    pub fn map(of: AttrType) -> Self {
        AttrType::Map(Box::new(of))
    }

    /// A nested block written as a table (or a list of tables), like `root_block_device`.
    /// Plans and JSON show it as a list of objects, as Terraform does.
    pub fn block(attributes: Vec<Attribute>) -> Self {
        AttrType::List(Box::new(AttrType::Object(attributes)))
    }

    /// The type of the part of a value at `step` below a value of this type.
    pub fn step(&self, step: &PathStep) -> Option<StepTarget<'_>> {
        match (self, step) {
            (AttrType::Any, _) => Some(StepTarget::Type(&AttrType::Any)),
            (AttrType::List(of), PathStep::Index(_)) => Some(StepTarget::Type(of)),
            (AttrType::Map(of), PathStep::Key(_)) => Some(StepTarget::Type(of)),
            (AttrType::Object(attrs), PathStep::Key(k)) => attrs
                .iter()
                .find(|a| &a.name == k)
                .map(StepTarget::Attribute),
            _ => None,
        }
    }

    /// Checks a value against this type and converts what Terraform converts
    /// (numbers and bools to strings, numeric strings to numbers, one table to a
    /// one-element block list). Unknown values fit every type.
    pub fn conform(&self, value: Value, at: &AttrPath) -> Result<Value, TypeMismatch> {
        let mismatch = |found: &Value| TypeMismatch {
            path: at.clone(),
            expected: self.to_string(),
            found: found.kind().to_string(),
            detail: None,
        };
        match value {
            Value::Sensitive(inner) => {
                return self.conform(*inner, at).map(Value::sensitive);
            }
            Value::Unknown | Value::Null => return Ok(value),
            _ => {}
        }
        match self {
            AttrType::Any => Ok(value),
            AttrType::String => match value {
                Value::String(_) => Ok(value),
                Value::Number(n) => Ok(Value::String(n.to_string())),
                Value::Bool(b) => Ok(Value::String(b.to_string())),
                other => Err(mismatch(&other)),
            },
            AttrType::Number => match value {
                Value::Number(_) => Ok(value),
                Value::String(ref s) => {
                    if let Ok(i) = s.parse::<i64>() {
                        Ok(Value::Number(Number::Int(i)))
                    } else if let Ok(f) = s.parse::<f64>() {
                        Ok(Value::Number(Number::Float(f)))
                    } else {
                        Err(mismatch(&value))
                    }
                }
                other => Err(mismatch(&other)),
            },
            AttrType::Bool => match value {
                Value::Bool(_) => Ok(value),
                Value::String(ref s) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
                other => Err(mismatch(&other)),
            },
            AttrType::List(of) => match value {
                Value::List(items) => items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| of.conform(v, &at.child(PathStep::Index(i))))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::List),
                Value::Map(_) if matches!(**of, AttrType::Object(_)) => Ok(Value::List(vec![
                    of.conform(value, &at.child(PathStep::Index(0)))?,
                ])),
                other => Err(mismatch(&other)),
            },
            AttrType::Map(of) => match value {
                Value::Map(items) => items
                    .into_iter()
                    .map(|(k, v)| {
                        let child = at.child(PathStep::Key(k.clone()));
                        of.conform(v, &child).map(|v| (k, v))
                    })
                    .collect::<Result<BTreeMap<_, _>, _>>()
                    .map(Value::Map),
                other => Err(mismatch(&other)),
            },
            AttrType::Object(attrs) => conform_object(attrs, value, at),
        }
    }
}

/// Checks a map against an object's attributes: every key must be an attribute, every
/// required attribute must be there, and missing optional ones take their default (or null).
pub fn conform_object(
    attrs: &[Attribute],
    value: Value,
    at: &AttrPath,
) -> Result<Value, TypeMismatch> {
    let items = match value {
        Value::Map(items) => items,
        Value::Sensitive(inner) => return conform_object(attrs, *inner, at).map(Value::sensitive),
        Value::Unknown | Value::Null => return Ok(value),
        other => {
            return Err(TypeMismatch {
                path: at.clone(),
                expected: "object".into(),
                found: other.kind().to_string(),
                detail: None,
            });
        }
    };
    let mut out = BTreeMap::new();
    for (k, v) in items {
        let child = at.child(PathStep::Key(k.clone()));
        let Some(attr) = attrs.iter().find(|a| a.name == k) else {
            return Err(TypeMismatch {
                path: child,
                expected: "one of the object's attributes".into(),
                found: format!("unknown attribute {k:?}"),
                detail: Some(format!(
                    "valid attributes: {}",
                    attrs
                        .iter()
                        .map(|a| a.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            });
        };
        out.insert(k, attr.ty.conform(v, &child)?);
    }
    for attr in attrs {
        if !out.contains_key(&attr.name) {
            if attr.presence == Presence::Required {
                return Err(TypeMismatch {
                    path: at.child(PathStep::Key(attr.name.clone())),
                    expected: attr.ty.to_string(),
                    found: "nothing".into(),
                    detail: Some(format!("attribute {:?} is required", attr.name)),
                });
            }
            out.insert(
                attr.name.clone(),
                attr.default.clone().unwrap_or(Value::Null),
            );
        }
    }
    Ok(Value::Map(out))
}

/// Where a path step lands in a schema: on a named attribute, or on a bare element type.
#[derive(Debug, Clone, Copy)]
pub enum StepTarget<'a> {
    Attribute(&'a Attribute),
    Type(&'a AttrType),
}

impl StepTarget<'_> {
    pub fn ty(&self) -> &AttrType {
        match self {
            StepTarget::Attribute(a) => &a.ty,
            StepTarget::Type(t) => t,
        }
    }
}

impl fmt::Display for AttrType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrType::String => f.write_str("string"),
            AttrType::Number => f.write_str("number"),
            AttrType::Bool => f.write_str("bool"),
            AttrType::Any => f.write_str("any"),
            AttrType::List(of) => write!(f, "list of {of}"),
            AttrType::Map(of) => write!(f, "map of {of}"),
            AttrType::Object(_) => f.write_str("object"),
        }
    }
}

/// A value that does not fit its declared type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeMismatch {
    pub path: AttrPath,
    pub expected: String,
    pub found: String,
    pub detail: Option<String>,
}

/// Who sets an attribute: the user, the provider, or either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Required,
    Optional,
    /// Set by the provider only; writing it in a stack is an error.
    Computed,
    /// Set by the user, or by the provider when the user leaves it out.
    OptionalComputed,
}

/// One attribute of a resource type.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub name: String,
    pub ty: AttrType,
    pub presence: Presence,
    /// A change to this attribute replaces the resource.
    pub force_new: bool,
    /// The value is secret: masked in every rendering and encrypted at rest.
    pub sensitive: bool,
    /// The value an optional attribute takes when the user leaves it out.
    pub default: Option<Value>,
    pub description: String,
}

impl Attribute {
    fn new(name: &str, ty: AttrType, presence: Presence) -> Self {
        Self {
            name: name.to_string(),
            ty,
            presence,
            force_new: false,
            sensitive: false,
            default: None,
            description: String::new(),
        }
    }

    pub fn required(name: &str, ty: AttrType) -> Self {
        Self::new(name, ty, Presence::Required)
    }

    pub fn optional(name: &str, ty: AttrType) -> Self {
        Self::new(name, ty, Presence::Optional)
    }

    pub fn computed(name: &str, ty: AttrType) -> Self {
        Self::new(name, ty, Presence::Computed)
    }

    pub fn optional_computed(name: &str, ty: AttrType) -> Self {
        Self::new(name, ty, Presence::OptionalComputed)
    }

    pub fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }

    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    pub fn default(mut self, value: impl Into<Value>) -> Self {
        self.default = Some(value.into());
        self
    }

    pub fn describe(mut self, text: &str) -> Self {
        self.description = text.to_string();
        self
    }

    pub fn is_computed(&self) -> bool {
        matches!(
            self.presence,
            Presence::Computed | Presence::OptionalComputed
        )
    }

    pub fn is_settable(&self) -> bool {
        self.presence != Presence::Computed
    }
}

/// The schema of one resource type.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceSchema {
    pub type_name: String,
    /// Grows when the shape of the state changes, so old snapshots can be upgraded.
    pub version: u64,
    pub description: String,
    pub attributes: Vec<Attribute>,
}

impl ResourceSchema {
    pub fn new(type_name: &str, description: &str, attributes: Vec<Attribute>) -> Self {
        Self {
            type_name: type_name.to_string(),
            version: 0,
            description: description.to_string(),
            attributes,
        }
    }

    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The names of the attributes a user may write.
    /// Checks a resource's configured value against the schema (see [`conform_object`]).
    pub fn conform(&self, value: Value) -> Result<Value, TypeMismatch> {
        conform_object(&self.attributes, value, &AttrPath::root())
    }

    pub fn settable_names(&self) -> Vec<&str> {
        self.attributes
            .iter()
            .filter(|a| a.is_settable())
            .map(|a| a.name.as_str())
            .collect()
    }

    /// Walks `path` through the schema, calling `visit` with every attribute it passes.
    /// Returns false when the path leaves the schema.
    pub fn walk_path(&self, path: &AttrPath, visit: &mut dyn FnMut(&Attribute)) -> bool {
        let mut steps = path.steps().iter();
        let Some(PathStep::Key(first)) = steps.next() else {
            return false;
        };
        let Some(mut attr) = self.attribute(first) else {
            return false;
        };
        visit(attr);
        let mut ty = &attr.ty;
        for step in steps {
            match ty.step(step) {
                Some(StepTarget::Attribute(a)) => {
                    attr = a;
                    visit(attr);
                    ty = &attr.ty;
                }
                Some(StepTarget::Type(t)) => ty = t,
                None => return false,
            }
        }
        true
    }

    /// True when a change at `path` replaces the resource: the path lies in or below a
    /// force-new attribute.
    pub fn forces_replacement(&self, path: &AttrPath) -> bool {
        let mut force = false;
        self.walk_path(path, &mut |a| force |= a.force_new);
        force
    }

    /// Whether the path names something that exists in the schema.
    pub fn has_path(&self, path: &AttrPath) -> bool {
        self.walk_path(path, &mut |_| {})
    }

    /// Marks every sensitive attribute of `value` (at any depth) as sensitive.
    pub fn mark_sensitive(&self, value: &mut Value) {
        fn walk(attrs: &[Attribute], value: &mut Value) {
            let Value::Map(map) = value else {
                if let Value::Sensitive(inner) = value {
                    walk(attrs, inner);
                }
                return;
            };
            for attr in attrs {
                let Some(v) = map.get_mut(&attr.name) else {
                    continue;
                };
                if attr.sensitive {
                    if !v.is_null() && !v.is_sensitive() {
                        *v = std::mem::take(v).sensitive();
                    }
                    continue;
                }
                match &attr.ty {
                    AttrType::Object(inner) => walk(inner, v),
                    AttrType::List(of) => {
                        if let (AttrType::Object(inner), Value::List(items)) = (of.as_ref(), v) {
                            for item in items {
                                walk(inner, item);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        walk(&self.attributes, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> ResourceSchema {
        ResourceSchema::new(
            "test_thing",
            "",
            vec![
                Attribute::required("name", AttrType::String).force_new(),
                Attribute::optional("size", AttrType::Number),
                Attribute::optional(
                    "disk",
                    AttrType::block(vec![
                        Attribute::optional("encrypted", AttrType::Bool).force_new(),
                        Attribute::optional("gb", AttrType::Number),
                    ]),
                ),
                Attribute::computed("secret", AttrType::String).sensitive(),
            ],
        )
    }

    #[test]
    fn force_new_is_inherited_by_nested_paths() {
        let s = schema();
        assert!(s.forces_replacement(&"name".parse().unwrap()));
        assert!(s.forces_replacement(&"disk[0].encrypted".parse().unwrap()));
        assert!(!s.forces_replacement(&"disk[0].gb".parse().unwrap()));
        assert!(!s.has_path(&"disk[0].nope".parse().unwrap()));
    }

    #[test]
    fn conform_converts_like_terraform() {
        let ty = AttrType::Object(schema().attributes);
        let v = Value::map([
            ("name", Value::from(5)),
            ("size", Value::from("12")),
            ("disk", Value::map([("gb", Value::from(10))])),
        ]);
        let out = ty.conform(v, &AttrPath::root()).unwrap();
        assert_eq!(
            out.get_path(&"name".parse().unwrap()),
            Some(&Value::from("5"))
        );
        assert_eq!(
            out.get_path(&"size".parse().unwrap()),
            Some(&Value::from(12))
        );
        assert_eq!(
            out.get_path(&"disk[0].gb".parse().unwrap()),
            Some(&Value::from(10))
        );
    }

    #[test]
    fn conform_reports_the_path_of_a_mismatch() {
        let ty = AttrType::list(AttrType::Number);
        let err = ty
            .conform(
                Value::List(vec![Value::from(1), Value::from("x")]),
                &AttrPath::attr("ports"),
            )
            .unwrap_err();
        assert_eq!(err.path.to_string(), "ports[1]");
        assert_eq!(err.expected, "number");
        assert_eq!(err.found, "string");
    }

    #[test]
    fn sensitive_attributes_are_marked() {
        let mut v = Value::map([("secret", Value::from("s")), ("name", Value::from("n"))]);
        schema().mark_sensitive(&mut v);
        assert_eq!(v.sensitive_paths(), vec![AttrPath::attr("secret")]);
    }
}
