//! Evaluating expressions: references are looked up through a [`Lookup`], unknown values
//! spread to whatever uses them, and sensitivity marks stay on what is computed from
//! secrets.

use omniform_core::{InstanceKey, Number, ResourceAddress, Value};

use crate::expr::{Expr, ExprKind, InstanceSel, RefStep, RefTarget, Reference, TemplatePart};
use crate::source::Span;

/// The values of one resource's instances, as a reference sees them.
#[derive(Debug)]
pub enum ResourceValues<'a> {
    /// A resource without `count` or `for_each`.
    Single(&'a Value),
    /// The instances of a `count` or `for_each` resource, in key order.
    Many(Vec<(&'a InstanceKey, &'a Value)>),
    /// The resource's instances cannot be known yet (its `count` is unknown).
    Unknown,
}

/// Where references find their values.
pub trait Lookup {
    fn variable(&self, name: &str) -> Option<&Value>;
    fn resource(&self, addr: &ResourceAddress) -> Option<ResourceValues<'_>>;
}

/// The `count.index` or `each.*` of the instance being evaluated.
#[derive(Debug, Clone, Copy, Default)]
pub struct InstanceScope<'a> {
    pub count_index: Option<i64>,
    pub each: Option<(&'a str, &'a Value)>,
}

/// A reference that cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    pub span: Span,
    pub message: String,
    pub hint: String,
}

fn error(r: &Reference, message: String, hint: impl Into<String>) -> EvalError {
    EvalError {
        span: r.span,
        message,
        hint: hint.into(),
    }
}

/// Evaluates an expression to a value.
pub fn eval(
    expr: &Expr,
    lookup: &dyn Lookup,
    scope: &InstanceScope<'_>,
) -> Result<Value, EvalError> {
    match &expr.kind {
        ExprKind::Literal(v) => Ok(v.clone()),
        ExprKind::List(items) => items
            .iter()
            .map(|e| eval(e, lookup, scope))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::List),
        ExprKind::Map(items) => items
            .iter()
            .map(|(k, (_, e))| eval(e, lookup, scope).map(|v| (k.clone(), v)))
            .collect::<Result<_, _>>()
            .map(Value::Map),
        ExprKind::Template(parts) => {
            if let [TemplatePart::Ref(r)] = parts.as_slice() {
                return eval_reference(r, lookup, scope);
            }
            let mut out = String::new();
            let mut unknown = false;
            let mut sensitive = false;
            for part in parts {
                match part {
                    TemplatePart::Text(t) => out.push_str(t),
                    TemplatePart::Ref(r) => {
                        let v = eval_reference(r, lookup, scope)?;
                        sensitive |= v.contains_sensitive();
                        match v.peel() {
                            Value::Unknown => unknown = true,
                            Value::String(s) => out.push_str(s),
                            Value::Number(n) => out.push_str(&n.to_string()),
                            Value::Bool(b) => out.push_str(&b.to_string()),
                            Value::Null => {
                                return Err(error(
                                    r,
                                    format!("`{r}` is null and cannot be put into a string"),
                                    "give it a value, or reference it on its own (\"${...}\") to keep null",
                                ));
                            }
                            other => {
                                return Err(error(
                                    r,
                                    format!(
                                        "`{r}` is a {} and cannot be put into a string",
                                        other.kind()
                                    ),
                                    "reference a list or map on its own, as the whole string (\"${...}\"), to keep its type",
                                ));
                            }
                        }
                    }
                }
            }
            let v = if unknown {
                Value::Unknown
            } else {
                Value::String(out)
            };
            Ok(if sensitive { v.sensitive() } else { v })
        }
    }
}

/// Evaluates one reference.
pub fn eval_reference(
    r: &Reference,
    lookup: &dyn Lookup,
    scope: &InstanceScope<'_>,
) -> Result<Value, EvalError> {
    let base = match &r.target {
        RefTarget::Var(name) => {
            let v = lookup.variable(name).ok_or_else(|| {
                error(
                    r,
                    format!("reference to undeclared variable `var.{name}`"),
                    format!("declare it with [variable.{name}]"),
                )
            })?;
            return walk(r, v, &r.steps);
        }
        RefTarget::CountIndex => match scope.count_index {
            Some(i) => Value::Number(Number::Int(i)),
            None => {
                return Err(error(
                    r,
                    "`count.index` is only defined in a resource with `count`".into(),
                    "set count on the resource, or remove the reference",
                ));
            }
        },
        RefTarget::EachKey => match scope.each {
            Some((k, _)) => Value::String(k.to_string()),
            None => {
                return Err(error(
                    r,
                    "`each.key` is only defined in a resource with `for_each`".into(),
                    "set for_each on the resource, or remove the reference",
                ));
            }
        },
        RefTarget::EachValue => match scope.each {
            Some((_, v)) => v.clone(),
            None => {
                return Err(error(
                    r,
                    "`each.value` is only defined in a resource with `for_each`".into(),
                    "set for_each on the resource, or remove the reference",
                ));
            }
        },
        RefTarget::Resource { addr, instance } => {
            let values = lookup.resource(addr).ok_or_else(|| {
                error(
                    r,
                    format!("reference to undeclared resource `{addr}`"),
                    format!(
                        "declare it with [resource.{}.{}]",
                        addr.type_name, addr.name
                    ),
                )
            })?;
            // `[each.key]` and `[count.index]` pick the instance matching the one evaluated.
            let instance = match instance {
                InstanceSel::EachKey => match scope.each {
                    Some((k, _)) => InstanceSel::Key(InstanceKey::Str(k.to_string())),
                    None => {
                        return Err(error(
                            r,
                            "`[each.key]` is only defined in a resource with `for_each`".into(),
                            "set for_each on the resource, or name the instance",
                        ));
                    }
                },
                InstanceSel::CountIndex => match scope.count_index {
                    Some(i) => InstanceSel::Key(InstanceKey::Int(i)),
                    None => {
                        return Err(error(
                            r,
                            "`[count.index]` is only defined in a resource with `count`".into(),
                            "set count on the resource, or name the instance",
                        ));
                    }
                },
                other => other.clone(),
            };
            return resource_reference(r, addr, &instance, values);
        }
    };
    walk(r, &base, &r.steps)
}

fn resource_reference(
    r: &Reference,
    addr: &ResourceAddress,
    instance: &InstanceSel,
    values: ResourceValues<'_>,
) -> Result<Value, EvalError> {
    match (instance, values) {
        (_, ResourceValues::Unknown) => Ok(Value::Unknown),
        (InstanceSel::Single, ResourceValues::Single(v)) => walk(r, v, &r.steps),
        (InstanceSel::Single, ResourceValues::Many(_)) => Err(error(
            r,
            format!("`{addr}` has count or for_each, so a reference must say which instance"),
            format!(
                "write {addr}[0].<attribute>, {addr}[\"key\"].<attribute> or {addr}[*].<attribute>"
            ),
        )),
        (InstanceSel::Key(k), ResourceValues::Many(items)) => {
            match items.iter().find(|(key, _)| *key == k) {
                Some((_, v)) => walk(r, v, &r.steps),
                None => Err(error(
                    r,
                    format!("`{addr}` has no instance {k}"),
                    format!(
                        "its instances are {}",
                        if items.is_empty() {
                            "none (count is 0 or for_each is empty)".to_string()
                        } else {
                            items
                                .iter()
                                .map(|(k, _)| k.to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        }
                    ),
                )),
            }
        }
        (InstanceSel::Key(k), ResourceValues::Single(_)) => Err(error(
            r,
            format!("`{addr}` has no count or for_each, so it has no instance {k}"),
            format!("write {addr}.<attribute> without the key"),
        )),
        (InstanceSel::Splat, ResourceValues::Many(items)) => items
            .into_iter()
            .map(|(_, v)| walk(r, v, &r.steps))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::List),
        (InstanceSel::EachKey | InstanceSel::CountIndex, _) => {
            unreachable!("resolved from the scope")
        }
        (InstanceSel::Splat, ResourceValues::Single(v)) => {
            Ok(Value::List(vec![walk(r, v, &r.steps)?]))
        }
    }
}

/// Follows the steps of a reference into a value, cloning only what it lands on.
fn walk(r: &Reference, value: &Value, steps: &[RefStep]) -> Result<Value, EvalError> {
    let mut sensitive = false;
    let mut current = value;
    for (i, step) in steps.iter().enumerate() {
        while let Value::Sensitive(inner) = current {
            sensitive = true;
            current = inner;
        }
        let at = || {
            let mut shown = r.clone();
            shown.steps.truncate(i);
            shown.to_string()
        };
        current = match (current, step) {
            (Value::Unknown, _) => return Ok(mark(Value::Unknown, sensitive)),
            (Value::Map(m), RefStep::Attr(k) | RefStep::Key(k)) => match m.get(k) {
                Some(v) => v,
                None => {
                    let keys: Vec<&str> = m.keys().map(String::as_str).collect();
                    return Err(error(
                        r,
                        format!("`{}` has no attribute or key `{k}`", at()),
                        if keys.is_empty() {
                            "it is empty".to_string()
                        } else {
                            format!("it has {}", keys.join(", "))
                        },
                    ));
                }
            },
            (Value::List(l), RefStep::Index(n)) => {
                match usize::try_from(*n).ok().and_then(|n| l.get(n)) {
                    Some(v) => v,
                    None => {
                        return Err(error(
                            r,
                            format!("index {n} is out of range for `{}`", at()),
                            format!("it has {} elements", l.len()),
                        ));
                    }
                }
            }
            (Value::Null, _) => {
                return Err(error(
                    r,
                    format!("`{}` is null", at()),
                    "check that the value is set before following it",
                ));
            }
            (other, _) => {
                return Err(error(
                    r,
                    format!("cannot follow `{}` into a {}", at(), other.kind()),
                    "use .name or [\"key\"] on maps and [N] on lists",
                ));
            }
        };
    }
    Ok(mark(current.clone(), sensitive))
}

fn mark(v: Value, sensitive: bool) -> Value {
    if sensitive { v.sensitive() } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::parse_string;
    use std::collections::BTreeMap;

    struct Fixture {
        vars: BTreeMap<String, Value>,
        net: Value,
        servers: Vec<(InstanceKey, Value)>,
    }

    impl Lookup for Fixture {
        fn variable(&self, name: &str) -> Option<&Value> {
            self.vars.get(name)
        }
        fn resource(&self, addr: &ResourceAddress) -> Option<ResourceValues<'_>> {
            match addr.name.as_str() {
                "network" => Some(ResourceValues::Single(&self.net)),
                "server" => Some(ResourceValues::Many(
                    self.servers.iter().map(|(k, v)| (k, v)).collect(),
                )),
                _ => None,
            }
        }
    }

    fn fixture() -> Fixture {
        Fixture {
            vars: BTreeMap::from([
                ("domain".to_string(), Value::from("example.com")),
                ("token".to_string(), Value::from("s3cret").sensitive()),
            ]),
            net: Value::map([
                ("id", Value::Unknown),
                ("output", Value::map([("cidr", "10.0.0.0/16")])),
            ]),
            servers: vec![
                (InstanceKey::Int(0), Value::map([("id", "a")])),
                (InstanceKey::Int(1), Value::map([("id", "b")])),
            ],
        }
    }

    fn run(text: &str, scope: InstanceScope<'_>) -> Result<Value, EvalError> {
        let e = parse_string(text, Span::default(), None).unwrap();
        eval(&e, &fixture(), &scope)
    }

    #[test]
    fn exact_reference_keeps_type() {
        let v = run("${omniform_data.server[*].id}", InstanceScope::default()).unwrap();
        assert_eq!(v, Value::from(vec!["a", "b"]));
        let v = run(
            "${omniform_data.network.output.cidr}",
            InstanceScope::default(),
        )
        .unwrap();
        assert_eq!(v, Value::from("10.0.0.0/16"));
    }

    #[test]
    fn unknown_spreads_and_secrets_stay_marked() {
        assert_eq!(
            run("x-${omniform_data.network.id}", InstanceScope::default()).unwrap(),
            Value::Unknown
        );
        let v = run("Bearer ${var.token}", InstanceScope::default()).unwrap();
        assert!(v.is_sensitive());
        assert_eq!(v.unmarked(), Value::from("Bearer s3cret"));
    }

    #[test]
    fn count_index_and_each() {
        let scope = InstanceScope {
            count_index: Some(3),
            each: None,
        };
        assert_eq!(
            run("srv-${count.index}", scope).unwrap(),
            Value::from("srv-3")
        );
        let each_value = Value::from(2);
        let scope = InstanceScope {
            count_index: None,
            each: Some(("a", &each_value)),
        };
        assert_eq!(
            run("${each.key}=${each.value}", scope).unwrap(),
            Value::from("a=2")
        );
        assert!(run("${count.index}", InstanceScope::default()).is_err());
    }

    #[test]
    fn missing_things_are_errors_with_hints() {
        let e = run("${omniform_data.server[5].id}", InstanceScope::default()).unwrap_err();
        assert!(e.message.contains("no instance [5]"), "{}", e.message);
        assert!(e.hint.contains("[0], [1]"));
        let e = run("${omniform_data.server.id}", InstanceScope::default()).unwrap_err();
        assert!(e.message.contains("must say which instance"));
        let e = run(
            "${omniform_data.network.output.nope}",
            InstanceScope::default(),
        )
        .unwrap_err();
        assert!(e.hint.contains("cidr"));
        let e = run("${var.nope}", InstanceScope::default()).unwrap_err();
        assert!(e.message.contains("undeclared variable"));
    }
}
