//! An in-process provider for engine lifecycle tests. It keeps its "cloud" in memory, logs
//! every call and can be told to fail or to take its time. It never stands in for a vendor
//! API.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use omniform_core::{AttrPath, AttrType, Attribute, ResourceSchema, Value};

use crate::{
    CreateRequest, DeleteRequest, ImportRequest, PlanRequest, PlanResponse, Provider,
    ProviderError, ReadRequest, ReadResponse, UpdateRequest,
};

/// The resource type the test provider serves.
pub const TEST_RESOURCE: &str = "test_resource";

fn schema() -> ResourceSchema {
    ResourceSchema::new(
        TEST_RESOURCE,
        "an object in the test provider's memory",
        vec![
            Attribute::required("name", AttrType::String).force_new(),
            Attribute::optional("size", AttrType::Number),
            Attribute::optional("tags", AttrType::map(AttrType::String)),
            Attribute::optional("secret", AttrType::String).sensitive(),
            Attribute::optional("link", AttrType::Any),
            Attribute::computed("id", AttrType::String),
            Attribute::computed("version", AttrType::Number),
        ],
    )
}

/// The test provider. Cheap to make; share it with `Arc`.
#[derive(Debug)]
pub struct TestProvider {
    schemas: Vec<ResourceSchema>,
    objects: Mutex<BTreeMap<String, Value>>,
    log: Mutex<Vec<String>>,
    fail_names: Mutex<HashSet<String>>,
    delay: Mutex<Duration>,
    next_id: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    /// When set, create returns a `size` different from the plan, which the engine must
    /// refuse.
    pub misbehave: std::sync::atomic::AtomicBool,
}

impl Default for TestProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl TestProvider {
    pub fn new() -> Self {
        Self {
            schemas: vec![schema()],
            objects: Mutex::new(BTreeMap::new()),
            log: Mutex::new(Vec::new()),
            fail_names: Mutex::new(HashSet::new()),
            delay: Mutex::new(Duration::ZERO),
            next_id: AtomicU64::new(1),
            in_flight: AtomicU64::new(0),
            max_in_flight: AtomicU64::new(0),
            misbehave: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Creates, updates and deletes of objects with this `name` fail from now on.
    pub fn fail_on(&self, name: &str) {
        self.fail_names.lock().unwrap().insert(name.to_string());
    }

    pub fn clear_failures(&self) {
        self.fail_names.lock().unwrap().clear();
    }

    /// Every create, update and delete waits this long.
    pub fn set_delay(&self, delay: Duration) {
        *self.delay.lock().unwrap() = delay;
    }

    /// The calls made so far, like `create test_resource.a`.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    pub fn clear_log(&self) {
        self.log.lock().unwrap().clear();
    }

    /// The objects that exist, by id.
    pub fn objects(&self) -> BTreeMap<String, Value> {
        self.objects.lock().unwrap().clone()
    }

    /// Deletes an object behind the engine's back.
    pub fn delete_outside(&self, id: &str) {
        self.objects.lock().unwrap().remove(id);
    }

    /// Changes an object behind the engine's back.
    pub fn modify_outside(&self, id: &str, path: &str, value: Value) {
        let path: AttrPath = path.parse().expect("a valid path");
        if let Some(obj) = self.objects.lock().unwrap().get_mut(id) {
            obj.set_path(&path, value);
        }
    }

    fn record(&self, what: String) {
        self.log.lock().unwrap().push(what);
    }

    /// The most create, update and delete calls that were running at once.
    pub fn max_concurrency(&self) -> u64 {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    async fn pause(&self) {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let delay = *self.delay.lock().unwrap();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }

    fn check_failure(&self, verb: &str, value: &Value) -> Result<(), ProviderError> {
        let name = value
            .get_path(&AttrPath::attr("name"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if self.fail_names.lock().unwrap().contains(name) {
            return Err(ProviderError::api(format!(
                "{verb} test object ({name}): injected failure"
            )));
        }
        Ok(())
    }
}

#[async_trait]
impl Provider for TestProvider {
    fn name(&self) -> &str {
        "test"
    }

    fn schemas(&self) -> &[ResourceSchema] {
        &self.schemas
    }

    fn reads_live_state(&self, _type_name: &str) -> bool {
        true
    }

    fn plan(&self, req: PlanRequest<'_>) -> Result<PlanResponse, ProviderError> {
        let mut planned = req.proposed;
        // Every in-place change bumps the version, which the plan cannot know.
        if let Some(prior) = req.prior
            && prior.unmarked() != planned.unmarked()
        {
            planned.set_path(&AttrPath::attr("version"), Value::Unknown);
        }
        Ok(PlanResponse {
            planned,
            requires_replace: Vec::new(),
            reason: None,
        })
    }

    async fn create(&self, req: CreateRequest) -> Result<Value, ProviderError> {
        self.record(format!("create {}", req.address));
        self.pause().await;
        self.check_failure("creating", &req.planned)?;
        let id = format!("t-{}", self.next_id.fetch_add(1, Ordering::SeqCst));
        let mut state = req.planned.unmarked();
        state.set_path(&AttrPath::attr("id"), Value::from(id.as_str()));
        state.set_path(&AttrPath::attr("version"), Value::from(1));
        if self.misbehave.load(Ordering::SeqCst) {
            state.set_path(&AttrPath::attr("size"), Value::from(999));
        }
        self.objects.lock().unwrap().insert(id, state.clone());
        Ok(state)
    }

    async fn update(&self, req: UpdateRequest) -> Result<Value, ProviderError> {
        self.record(format!("update {}", req.address));
        self.pause().await;
        self.check_failure("updating", &req.planned)?;
        let id = req
            .prior
            .get_path(&AttrPath::attr("id"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let version = req
            .prior
            .get_path(&AttrPath::attr("version"))
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let mut state = req.planned.unmarked();
        state.set_path(&AttrPath::attr("version"), Value::from(version + 1));
        let mut objects = self.objects.lock().unwrap();
        if !objects.contains_key(&id) {
            return Err(ProviderError::not_found(format!(
                "updating test object ({id}): not found"
            )));
        }
        objects.insert(id, state.clone());
        Ok(state)
    }

    async fn delete(&self, req: DeleteRequest) -> Result<(), ProviderError> {
        self.record(format!("delete {}", req.address));
        self.pause().await;
        self.check_failure("deleting", &req.prior)?;
        let id = req
            .prior
            .get_path(&AttrPath::attr("id"))
            .and_then(Value::as_str)
            .unwrap_or("");
        self.objects.lock().unwrap().remove(id);
        Ok(())
    }

    async fn read(&self, req: ReadRequest) -> Result<ReadResponse, ProviderError> {
        self.record(format!("read {} x{}", req.type_name, req.instances.len()));
        let objects = self.objects.lock().unwrap();
        let states = req
            .instances
            .iter()
            .map(|(_, v)| {
                let id = v.get_path(&AttrPath::attr("id")).and_then(Value::as_str)?;
                objects.get(id).cloned()
            })
            .collect();
        Ok(ReadResponse { states })
    }

    async fn import(&self, req: ImportRequest) -> Result<Value, ProviderError> {
        self.record(format!("import {} {}", req.address, req.id));
        self.objects
            .lock()
            .unwrap()
            .get(&req.id)
            .cloned()
            .ok_or_else(|| {
                ProviderError::not_found(format!("importing test object ({}): not found", req.id))
            })
    }
}
