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

/// A stack's state in a temporary directory and an engine: the whole plan → apply →
/// snapshot cycle, as the CLI runs it (lock, recover, configure, refresh, plan, apply,
/// record). `Lab::new` has the in-process test provider beside the built-in types;
/// `Lab::with` takes any engine and a `prelude` (provider settings) added to every stack.
#[allow(missing_debug_implementations)]
pub struct Lab {
    pub dir: tempfile::TempDir,
    pub store: omniform_state::LocalStore,
    pub provider: std::sync::Arc<omniform_provider::testing::TestProvider>,
    pub engine: Engine,
    pub events: std::sync::Arc<std::sync::Mutex<Vec<omniform::Event>>>,
    pub prelude: String,
    /// Variables every stack gets, as `--var name=value` would give them.
    pub vars: Vec<(String, String)>,
    /// Variable files every stack gets, as --var-file would give them.
    pub var_files: Vec<SourceFile>,
}

impl Default for Lab {
    fn default() -> Self {
        Self::new()
    }
}

impl Lab {
    pub fn new() -> Self {
        let provider = std::sync::Arc::new(omniform_provider::testing::TestProvider::new());
        let mut lab = Self::with(Engine::new().with_provider(provider.clone()), "");
        lab.provider = provider;
        lab
    }

    pub fn with(engine: Engine, prelude: &str) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = omniform_state::LocalStore::open(
            dir.path().join("state"),
            "lab",
            Some("ab".repeat(32)),
        )
        .expect("the store opens");
        Self {
            dir,
            store,
            provider: std::sync::Arc::new(omniform_provider::testing::TestProvider::new()),
            engine,
            events: Default::default(),
            prelude: prelude.to_string(),
            vars: Vec::new(),
            var_files: Vec::new(),
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

    /// Parses `text` with the prelude, and resolves its variables.
    pub fn load(
        &self,
        text: &str,
    ) -> Result<(Stack, std::collections::BTreeMap<String, Value>), Diagnostics> {
        let s = stack(&format!("{text}\n{}", self.prelude))?;
        let inputs = VariableInputs {
            cli: self.vars.iter().map(|(k, v)| format!("{k}={v}")).collect(),
            files: self.var_files.clone(),
            ..Default::default()
        };
        let vars = omniform::resolve_variables(&s, &inputs)?;
        Ok((s, vars))
    }

    /// Hooks that keep every event in `events`.
    pub fn hooks(&self) -> impl omniform::Hooks + use<> {
        let events = self.events.clone();
        move |e: &omniform::Event| events.lock().expect("events").push(e.clone())
    }

    /// Refreshes and plans `text` against the newest state.
    pub async fn plan(&self, text: &str) -> Result<Plan, Diagnostics> {
        self.plan_with(text, |_| {}).await
    }

    pub async fn plan_with(
        &self,
        text: &str,
        adjust: impl FnOnce(&mut PlanOptions),
    ) -> Result<Plan, Diagnostics> {
        let (s, vars) = self.load(text)?;
        let refreshed = self
            .engine
            .refresh_for(&s, &vars, &self.state(), &self.hooks())
            .await?;
        let mut opts = PlanOptions::new(test_now());
        adjust(&mut opts);
        self.engine
            .plan_refreshed(&s, &vars, &refreshed, &opts, &self.hooks())
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
        let (s, vars) = self
            .load(text)
            .unwrap_or_else(|d| panic!("{}", render_diags(&d)));
        let _guard = self
            .store
            .lock("apply", std::time::Duration::ZERO, &mut |_| {})
            .expect("the lock");
        let (_, on_disk) = omniform::recover_and_read(&self.store, "lab").expect("state");
        let refreshed = self
            .engine
            .refresh_for(&s, &vars, &on_disk, &self.hooks())
            .await
            .unwrap_or_else(|d| panic!("refresh failed:\n{}", render_diags(&d)));
        let mut opts = PlanOptions::new(test_now());
        adjust(&mut opts);
        let plan = self
            .engine
            .plan_refreshed(&s, &vars, &refreshed, &opts, &self.hooks())
            .unwrap_or_else(|d| panic!("plan failed:\n{}", render_diags(&d)));
        self.engine
            .configure_for_plan(&s, &vars, &plan)
            .await
            .unwrap_or_else(|d| panic!("configure failed:\n{}", render_diags(&d)));
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

    /// Imports the object `id` into `addr` of the stack `text`, and records it.
    pub async fn import(&self, text: &str, addr: &str, id: &str) -> Result<(), Diagnostics> {
        use omniform_state::StateStore;
        let (s, vars) = self.load(text)?;
        let address: omniform::InstanceAddress = addr.parse().expect("an address");
        let instance = self
            .engine
            .import_resource(&s, &vars, &address, id, test_now())
            .await?;
        let prior = self.state();
        let mut next = prior.clone();
        next.ensure_lineage();
        next.resources.insert(address, instance);
        next.serial = prior.serial + 1;
        let counts = next.changes_since(&prior);
        self.store
            .write(&next, "import", counts)
            .expect("state is written");
        Ok(())
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
