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
    json["terraform_version"] = serde_json::Value::String("[version]".into());
    let json = serde_json::to_string_pretty(&json).expect("json");
    let md = omniform::render::markdown::plan(plan);
    (text, json, md)
}

/// A stack's state in a temporary directory, with the in-process test provider beside the
/// built-in types: the whole plan → apply → snapshot cycle, as the CLI runs it.
#[allow(missing_debug_implementations)]
pub struct Lab {
    pub dir: tempfile::TempDir,
    pub store: omniform_state::LocalStore,
    pub provider: std::sync::Arc<omniform_provider::testing::TestProvider>,
    pub engine: Engine,
    pub events: std::sync::Arc<std::sync::Mutex<Vec<omniform::Event>>>,
}

impl Default for Lab {
    fn default() -> Self {
        Self::new()
    }
}

impl Lab {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = omniform_state::LocalStore::open(
            dir.path().join("state"),
            "lab",
            Some("ab".repeat(32)),
        )
        .expect("the store opens");
        let provider = std::sync::Arc::new(omniform_provider::testing::TestProvider::new());
        let engine = Engine::new().with_provider(provider.clone());
        Self {
            dir,
            store,
            provider,
            engine,
            events: Default::default(),
        }
    }

    /// The newest state, or an empty one.
    pub fn state(&self) -> Snapshot {
        use omniform_state::StateStore;
        self.store
            .read_latest()
            .expect("state reads")
            .unwrap_or_else(|| Snapshot::empty("lab"))
    }

    /// Refreshes and plans `text` against the newest state.
    pub async fn plan(&self, text: &str) -> Result<Plan, Diagnostics> {
        let s = stack(text)?;
        let vars = omniform::resolve_variables(&s, &VariableInputs::default())?;
        let refreshed = self.engine.refresh(&self.state(), &self.hooks()).await?;
        self.engine.plan_refreshed(
            &s,
            &vars,
            &refreshed,
            &PlanOptions::new(test_now()),
            &self.hooks(),
        )
    }

    /// Locks, recovers, refreshes, plans and applies `text`, like `omniform apply`.
    pub async fn apply(&self, text: &str) -> omniform::Applied {
        self.apply_with(text, |_| {}).await
    }

    pub async fn apply_with(
        &self,
        text: &str,
        adjust: impl FnOnce(&mut PlanOptions),
    ) -> omniform::Applied {
        use omniform_state::StateStore;
        let s = stack(text).unwrap_or_else(|d| panic!("{}", render_diags(&d)));
        let vars = omniform::resolve_variables(&s, &VariableInputs::default()).expect("variables");
        let _guard = self
            .store
            .lock("apply", std::time::Duration::ZERO, &mut |_| {})
            .expect("the lock");
        let (_, on_disk) = omniform::recover_and_read(&self.store, "lab").expect("state");
        let refreshed = self
            .engine
            .refresh(&on_disk, &self.hooks())
            .await
            .expect("refresh");
        let mut opts = PlanOptions::new(test_now());
        adjust(&mut opts);
        let plan = self
            .engine
            .plan_refreshed(&s, &vars, &refreshed, &opts, &self.hooks())
            .unwrap_or_else(|d| panic!("plan failed:\n{}", render_diags(&d)));
        self.apply_plan(
            omniform::Desired::Stack {
                stack: &s,
                vars: &vars,
            },
            &plan,
            &refreshed.state,
            &on_disk,
            "apply",
        )
        .await
    }

    /// Hooks that keep every event in `events`.
    pub fn hooks(&self) -> impl omniform::Hooks + use<> {
        let events = self.events.clone();
        move |e: &omniform::Event| events.lock().expect("events").push(e.clone())
    }

    /// Applies a plan and records it.
    pub async fn apply_plan(
        &self,
        desired: omniform::Desired<'_>,
        plan: &Plan,
        base: &Snapshot,
        on_disk: &Snapshot,
        operation: &str,
    ) -> omniform::Applied {
        let hooks = self.hooks();
        let opts = omniform::ApplyOptions::new(test_now());
        self.engine
            .apply_recorded(
                &self.store,
                desired,
                plan,
                base,
                on_disk,
                operation,
                &hooks,
                &opts,
            )
            .await
            .expect("state is recorded")
    }

    /// The attribute `path` of the instance `addr` in the newest state.
    pub fn attr(&self, addr: &str, path: &str) -> Value {
        let state = self.state();
        let inst = state
            .resources
            .get(&addr.parse().expect("an address"))
            .unwrap_or_else(|| panic!("{addr} is not in state"));
        inst.attributes
            .get_path(&path.parse().expect("a path"))
            .cloned()
            .unwrap_or(Value::Null)
    }
}
