//! Reading attributes out of resource values, and building values from SDK answers.

use std::collections::BTreeMap;

use omniform_core::{AttrPath, Value};

pub fn get<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.as_map()?.get(name).filter(|v| !v.is_null())
}

pub fn string(v: &Value, name: &str) -> Option<String> {
    get(v, name)?.as_str().map(str::to_string)
}

pub fn int(v: &Value, name: &str) -> Option<i64> {
    get(v, name)?.as_i64()
}

pub fn boolean(v: &Value, name: &str) -> Option<bool> {
    get(v, name)?.as_bool()
}

pub fn strings(v: &Value, name: &str) -> Vec<String> {
    get(v, name)
        .and_then(Value::as_list)
        .map(|l| {
            l.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub fn string_map(v: &Value, name: &str) -> BTreeMap<String, String> {
    get(v, name)
        .and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, x)| Some((k.clone(), x.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The first (only) element of a nested block.
pub fn block<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    get(v, name)?.as_list()?.first()
}

/// The elements of a nested block.
pub fn blocks<'a>(v: &'a Value, name: &str) -> &'a [Value] {
    get(v, name).and_then(Value::as_list).unwrap_or(&[])
}

/// The id of an object from its state.
pub fn id(v: &Value) -> String {
    string(v, "id").unwrap_or_default()
}

/// Sets a top-level attribute.
pub fn set(v: &mut Value, name: &str, x: Value) {
    v.set_path(&AttrPath::attr(name), x);
}

pub fn opt_str(s: Option<&str>) -> Value {
    s.map(Value::from).unwrap_or(Value::Null)
}

pub fn str_list<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> Value {
    Value::List(items.into_iter().map(|s| Value::String(s.into())).collect())
}

/// Tags as a map value (null when there are none, as Terraform shows them).
pub fn tags_value(tags: BTreeMap<String, String>) -> Value {
    if tags.is_empty() {
        Value::Null
    } else {
        Value::Map(
            tags.into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        )
    }
}

/// The desired value with what the API reports put in: for each attribute of `live`, the
/// live value wins. Attributes the API cannot report (like secrets) keep their prior value.
pub fn overlay(prior: &Value, live: Value) -> Value {
    let mut out = prior.clone();
    if let Value::Map(m) = live {
        for (k, v) in m {
            out.set_path(&AttrPath::attr(&k), v);
        }
    }
    out
}
