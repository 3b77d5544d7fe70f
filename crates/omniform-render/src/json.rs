//! The plan as JSON in the shape of `terraform show -json`, so existing tools (checkov,
//! conftest, tfcmt) read it. Unlike Terraform, sensitive values are masked here too: they
//! are `null`, with `true` at their place in `before_sensitive` / `after_sensitive`.

use omniform_core::{Action, InstanceKey, OutputChange, Plan, PlanMode, ResourceChange, Value};
use serde_json::{Map, Value as Json, json};

/// The version of the plan format; Terraform's current one.
pub const FORMAT_VERSION: &str = "1.2";

/// A value as it appears in `before`, `after` and `values`: unknown parts left out of
/// objects (and `null` in lists), sensitive parts `null`.
pub fn masked(v: &Value) -> Json {
    match v {
        Value::Unknown | Value::Sensitive(_) => Json::Null,
        Value::Map(items) => Json::Object(
            items
                .iter()
                .filter(|(_, v)| !v.is_unknown())
                .map(|(k, v)| (k.clone(), masked(v)))
                .collect(),
        ),
        Value::List(items) => Json::Array(items.iter().map(masked).collect()),
        other => other.to_json(true),
    }
}

fn unknown_tree(v: Option<&Value>) -> Json {
    match v {
        None => Json::Bool(false),
        // A sensitive value not known yet is unknown too.
        Some(v) => v.mark_tree(&Value::is_unknown),
    }
}

fn sensitive_tree(v: Option<&Value>) -> Json {
    match v {
        None => Json::Bool(false),
        Some(v) => v.mark_tree(&|v| v.is_sensitive()),
    }
}

fn opt(v: Option<&Value>) -> Json {
    v.map(masked).unwrap_or(Json::Null)
}

fn index(key: &Option<InstanceKey>) -> Option<Json> {
    key.as_ref().map(|k| match k {
        InstanceKey::Int(i) => json!(i),
        InstanceKey::Str(s) => json!(s),
    })
}

/// The provider name as Terraform writes it.
fn provider_name(provider: &str) -> String {
    format!("registry.omniform.dev/omniform/{provider}")
}

fn identity(c: &ResourceChange) -> Map<String, Json> {
    let mut m = Map::new();
    m.insert("address".into(), json!(c.address.to_string()));
    m.insert("mode".into(), json!("managed"));
    m.insert("type".into(), json!(c.address.resource.type_name));
    m.insert("name".into(), json!(c.address.resource.name));
    if let Some(i) = index(&c.address.key) {
        m.insert("index".into(), i);
    }
    m.insert("provider_name".into(), json!(provider_name(&c.provider)));
    m
}

/// One entry of `resource_changes` or `resource_drift`.
pub fn resource_change(c: &ResourceChange) -> Json {
    let mut m = identity(c);
    let mut change = Map::new();
    change.insert("actions".into(), json!(c.action.json_actions()));
    change.insert("before".into(), opt(c.before.as_ref()));
    change.insert("after".into(), opt(c.after.as_ref()));
    change.insert("after_unknown".into(), unknown_tree(c.after.as_ref()));
    change.insert("before_sensitive".into(), sensitive_tree(c.before.as_ref()));
    change.insert("after_sensitive".into(), sensitive_tree(c.after.as_ref()));
    if !c.replace_paths.is_empty() {
        change.insert(
            "replace_paths".into(),
            Json::Array(c.replace_paths.iter().map(|p| p.to_json()).collect()),
        );
    }
    m.insert("change".into(), Json::Object(change));
    if let Some(reason) = c.reason {
        m.insert("action_reason".into(), json!(reason.code()));
    }
    if let Some(detail) = &c.reason_detail {
        m.insert("action_reason_detail".into(), json!(detail));
    }
    if let Some(key) = &c.deposed {
        m.insert("deposed".into(), json!(key));
    }
    Json::Object(m)
}

fn output_change(o: &OutputChange) -> Json {
    json!({
        "actions": o.action.json_actions(),
        "before": opt(o.before.as_ref()),
        "after": opt(o.after.as_ref()),
        "after_unknown": match &o.after {
            Some(v) if !v.is_wholly_known() => unknown_tree(Some(v)),
            _ => Json::Bool(false),
        },
        "before_sensitive": o.before.as_ref().is_some_and(Value::contains_sensitive),
        "after_sensitive": o.after.as_ref().is_some_and(Value::contains_sensitive),
    })
}

fn state_resource(c: &ResourceChange, value: &Value) -> Json {
    let mut m = identity(c);
    m.insert("schema_version".into(), json!(c.schema_version));
    m.insert("values".into(), masked(value));
    m.insert(
        "sensitive_values".into(),
        match value.mark_tree(&|v| v.is_sensitive()) {
            Json::Bool(_) => json!({}),
            tree => tree,
        },
    );
    Json::Object(m)
}

/// The whole plan document.
pub fn plan(plan: &Plan) -> Json {
    let planned_resources: Vec<Json> = plan
        .changes
        .iter()
        .filter_map(|c| c.after.as_ref().map(|a| state_resource(c, a)))
        .collect();
    let prior_resources: Vec<Json> = plan
        .changes
        .iter()
        .filter_map(|c| c.before.as_ref().map(|b| state_resource(c, b)))
        .collect();
    let planned_outputs: Map<String, Json> = plan
        .outputs
        .iter()
        .filter_map(|o| {
            let after = o.after.as_ref()?;
            let mut m = Map::new();
            m.insert("sensitive".into(), json!(o.sensitive));
            if !after.is_unknown() {
                m.insert("value".into(), masked(after));
            }
            Some((o.name.clone(), Json::Object(m)))
        })
        .collect();
    let prior_outputs: Map<String, Json> = plan
        .outputs
        .iter()
        .filter_map(|o| {
            let before = o.before.as_ref()?;
            Some((
                o.name.clone(),
                json!({"sensitive": o.sensitive, "value": masked(before)}),
            ))
        })
        .collect();
    let variables: Map<String, Json> = plan
        .variables
        .iter()
        .map(|(k, v)| (k.clone(), json!({ "value": masked(v) })))
        .collect();
    let mut doc = Map::new();
    doc.insert("format_version".into(), json!(FORMAT_VERSION));
    doc.insert("omniform_version".into(), json!(env!("CARGO_PKG_VERSION")));
    // Policy tools (checkov) only read a plan that names the version that made it.
    doc.insert("terraform_version".into(), json!(env!("CARGO_PKG_VERSION")));
    doc.insert("stack".into(), json!(plan.stack));
    doc.insert("variables".into(), Json::Object(variables));
    doc.insert(
        "planned_values".into(),
        json!({ "outputs": planned_outputs, "root_module": { "resources": planned_resources } }),
    );
    doc.insert(
        "resource_drift".into(),
        Json::Array(plan.drift.iter().map(resource_change).collect()),
    );
    doc.insert(
        "resource_changes".into(),
        Json::Array(
            plan.changes
                .iter()
                .filter(|c| plan.mode != PlanMode::RefreshOnly || c.action != Action::NoOp)
                .map(resource_change)
                .collect(),
        ),
    );
    doc.insert(
        "output_changes".into(),
        Json::Object(
            plan.outputs
                .iter()
                .map(|o| (o.name.clone(), output_change(o)))
                .collect(),
        ),
    );
    if plan.prior_serial.is_some() {
        doc.insert(
            "prior_state".into(),
            json!({
                "format_version": "1.0",
                "values": { "outputs": prior_outputs, "root_module": { "resources": prior_resources } },
            }),
        );
    }
    if let Some(stats) = &plan.refresh {
        doc.insert(
            "refresh_stats".into(),
            json!({ "api_calls": stats.calls, "total_api_calls": stats.total_calls(), "resources": stats.resources, "millis": stats.millis }),
        );
    }
    doc.insert("timestamp".into(), json!(plan.timestamp));
    doc.insert("applyable".into(), json!(plan.has_changes()));
    doc.insert(
        "complete".into(),
        json!(plan.targets.is_empty() && plan.excludes.is_empty()),
    );
    doc.insert("errored".into(), json!(false));
    Json::Object(doc)
}
