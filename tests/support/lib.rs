//! Helpers shared by the workspace tests: stacks from text, prior states from literals, and
//! renderings of plans and diagnostics.

use omniform::{
    Diagnostics, Engine, OffsetDateTime, Plan, PlanOptions, Snapshot, SourceFile, Stack, Value,
    VariableInputs,
};
use omniform_state::ResourceInstance;

/// The clock every test plans at: 2026-01-01T00:00:00Z.
pub fn test_now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600).expect("a valid time")
}

/// Parses a stack from text, as if read from `stack.toml`.
pub fn stack(text: &str) -> Result<Stack, Diagnostics> {
    parse_named("stack.toml", text)
}

/// Parses a stack from text, reporting positions in `name`.
pub fn parse_named(name: &str, text: &str) -> Result<Stack, Diagnostics> {
    omniform::parse_stack(SourceFile::new(name, text))
}

/// A prior state with the given instances (attributes as written), at serial 3.
pub fn state(stack: &str, items: Vec<(&str, Value)>) -> Snapshot {
    let mut s = Snapshot::empty(stack);
    s.lineage = "00000000-test-lineage".into();
    s.serial = 3;
    for (addr, attributes) in items {
        s.resources.insert(
            addr.parse().expect("a valid address"),
            ResourceInstance {
                provider: "builtin".into(),
                schema_version: 0,
                attributes,
                dependencies: Vec::new(),
                create_before_destroy: false,
                prevent_destroy: false,
                created_at: test_now(),
                tainted: false,
            },
        );
    }
    s
}

/// The state of an applied `omniform_data` instance.
pub fn data_state(id: &str, input: Value, triggers: Value) -> Value {
    Value::map([
        ("id", Value::from(id)),
        ("input", input.clone()),
        ("output", input),
        ("triggers_replace", triggers),
    ])
}

/// Plans `text` against `prior` with `options` adjusting the defaults.
pub fn plan_with(
    text: &str,
    prior: &Snapshot,
    adjust: impl FnOnce(&mut PlanOptions),
) -> Result<Plan, Diagnostics> {
    let stack = stack(text)?;
    let vars = omniform::resolve_variables(&stack, &VariableInputs::default())?;
    let mut opts = PlanOptions::new(test_now());
    adjust(&mut opts);
    Engine::new().plan(&stack, &vars, prior, &opts)
}

/// Plans `text` against `prior`.
pub fn plan(text: &str, prior: &Snapshot) -> Plan {
    plan_with(text, prior, |_| {}).unwrap_or_else(|d| panic!("plan failed:\n{}", render_diags(&d)))
}

/// Diagnostics as the CLI prints them, without colour.
pub fn render_diags(d: &Diagnostics) -> String {
    omniform::render::diag::diagnostics(d, omniform::render::Style::PLAIN)
}

/// The plan as text, JSON (timestamp removed) and Markdown, one after the other.
pub fn renderings(plan: &Plan) -> (String, String, String) {
    let text = omniform::render::text::plan(plan, omniform::render::Style::PLAIN);
    let mut json = omniform::render::json::plan(plan);
    json["timestamp"] = serde_json::Value::String("[timestamp]".into());
    json["omniform_version"] = serde_json::Value::String("[version]".into());
    let json = serde_json::to_string_pretty(&json).expect("json");
    let md = omniform::render::markdown::plan(plan);
    (text, json, md)
}
