//! The resource types that need no cloud: `omniform_data` (Terraform's `terraform_data`),
//! `random_id` and `random_password`. Each lives in its own module with the same shape:
//! schema, plan, create, update, then tests.

mod omniform_data;
mod random_id;
mod random_password;
mod rotation;

use async_trait::async_trait;
use omniform_core::{ResourceSchema, Value};
use omniform_provider::{
    AttrProblem, CreateRequest, DeleteRequest, PlanRequest, PlanResponse, Provider, ProviderError,
    UpdateRequest, ValidateRequest,
};

/// A problem when the integer attribute `name` is known and outside `min..=max`.
fn in_range(config: &Value, name: &str, min: i64, max: i64, advice: &str) -> Vec<AttrProblem> {
    let path = omniform_core::AttrPath::attr(name);
    match config.get_path(&path).and_then(Value::as_i64) {
        Some(n) if !(min..=max).contains(&n) => vec![AttrProblem {
            path,
            message: format!("{name} must be {min} to {max}, got {n}"),
            hint: format!("set {name} between {min} and {max}; {advice}"),
        }],
        _ => Vec::new(),
    }
}

/// The provider of the built-in resource types.
#[derive(Debug)]
pub struct Builtin {
    schemas: Vec<ResourceSchema>,
}

impl Default for Builtin {
    fn default() -> Self {
        Self::new()
    }
}

impl Builtin {
    pub fn new() -> Self {
        Self {
            schemas: vec![
                omniform_data::schema(),
                random_id::schema(),
                random_password::schema(),
            ],
        }
    }
}

/// A computed value the plan already knows (a rollback restoring an object), or a new one.
fn known_or<F>(planned: &Value, name: &str, make: F) -> Result<Value, ProviderError>
where
    F: FnOnce() -> Result<Value, ProviderError>,
{
    match planned.get_path(&omniform_core::AttrPath::attr(name)) {
        Some(v) if v.is_wholly_known() && !v.is_null() => Ok(v.clone()),
        _ => make(),
    }
}

/// Random bytes from the operating system.
fn random_bytes(n: usize) -> Result<Vec<u8>, ProviderError> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf)
        .map_err(|e| ProviderError::api(format!("reading random bytes: {e}")))?;
    Ok(buf)
}

fn unsupported(type_name: &str) -> ProviderError {
    ProviderError::unsupported(format!(
        "the builtin provider has no resource type {type_name}"
    ))
}

#[async_trait]
impl Provider for Builtin {
    fn name(&self) -> &str {
        "builtin"
    }

    fn schemas(&self) -> &[ResourceSchema] {
        &self.schemas
    }

    fn validate(&self, req: &ValidateRequest<'_>) -> Vec<AttrProblem> {
        match req.type_name {
            random_id::TYPE => random_id::validate(req.config),
            random_password::TYPE => random_password::validate(req.config),
            _ => Vec::new(),
        }
    }

    fn plan(&self, req: PlanRequest<'_>) -> Result<PlanResponse, ProviderError> {
        match req.type_name {
            omniform_data::TYPE => Ok(omniform_data::plan(req)),
            random_id::TYPE => Ok(random_id::plan(req)),
            random_password::TYPE => Ok(rotation::plan(req)),
            other => Err(unsupported(other)),
        }
    }

    async fn create(&self, req: CreateRequest) -> Result<Value, ProviderError> {
        match req.type_name.as_str() {
            omniform_data::TYPE => omniform_data::create(&req),
            random_id::TYPE => random_id::create(&req),
            random_password::TYPE => random_password::create(&req),
            other => Err(unsupported(other)),
        }
    }

    async fn update(&self, req: UpdateRequest) -> Result<Value, ProviderError> {
        match req.type_name.as_str() {
            omniform_data::TYPE => Ok(omniform_data::update(&req)),
            // Only rotate_after_days can change in place; the value stays.
            random_id::TYPE | random_password::TYPE => Ok(req.planned),
            other => Err(unsupported(other)),
        }
    }

    fn can_restore(&self, _type_name: &str) -> bool {
        // These objects live only in state, so an earlier value can be made again exactly.
        true
    }

    async fn delete(&self, _req: DeleteRequest) -> Result<(), ProviderError> {
        // These resources live only in state.
        Ok(())
    }
}
