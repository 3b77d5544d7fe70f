//! The contract between the engine and providers: one request struct in, one response struct
//! out, per operation. A provider serves one or more resource types, each described by a
//! [`ResourceSchema`]; the engine does everything the schema can say, and asks the provider
//! only for what is specific to a type.

pub mod testing;

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use omniform_core::{ActionReason, AttrPath, InstanceAddress, ResourceSchema, Value};
use time::OffsetDateTime;

/// A failure reported by a provider. Vendor SDK errors are turned into this; they never leak.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    pub kind: ErrorKind,
    /// Lowercase, "creating DNS record (api.example.com): ..." form.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The object does not exist (reads treat this as "gone").
    NotFound,
    /// The provider's settings or credentials are wrong.
    Configuration,
    /// The API refused or failed the request.
    Api,
    /// The provider cannot do this for this resource type.
    Unsupported,
    /// The provider returned something the plan did not allow.
    Inconsistent,
}

impl ProviderError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub fn api(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Api, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    pub fn configuration(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Configuration, message)
    }

    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }
}

/// A problem with one attribute's value, found by a provider's own checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrProblem {
    pub path: AttrPath,
    pub message: String,
    pub hint: String,
}

/// The settings of a `[provider.<name>]` block, with variables resolved.
#[derive(Debug, Clone)]
pub struct ConfigureRequest {
    pub settings: Value,
}

/// A resource's configured value to check, before any API call.
#[derive(Debug)]
pub struct ValidateRequest<'a> {
    pub type_name: &'a str,
    /// Known parts are checked; unknown parts are checked at apply.
    pub config: &'a Value,
}

/// Asks a provider to adjust the engine's proposed value for one instance.
#[derive(Debug)]
pub struct PlanRequest<'a> {
    pub type_name: &'a str,
    /// The prior state, or `None` when the instance is being created.
    pub prior: Option<&'a Value>,
    /// The configured value, with computed attributes taken from the prior state (or
    /// unknown on create) and `ignore_changes` applied.
    pub proposed: Value,
    /// When the instance was created, from state.
    pub created_at: Option<OffsetDateTime>,
    /// The clock the plan is made at (tests set it).
    pub now: OffsetDateTime,
}

/// The provider's planned value for one instance.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanResponse {
    pub planned: Value,
    /// Paths whose change the provider says cannot be made in place, beyond the schema's
    /// force-new attributes.
    pub requires_replace: Vec<AttrPath>,
    /// Why, when the provider replaces for a reason of its own (like rotation).
    pub reason: Option<(ActionReason, String)>,
}

impl PlanResponse {
    /// The proposed value, unchanged.
    pub fn accept(proposed: Value) -> Self {
        Self {
            planned: proposed,
            requires_replace: Vec::new(),
            reason: None,
        }
    }
}

/// Makes a new object.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    pub address: InstanceAddress,
    pub type_name: String,
    /// Fully known, except computed attributes, which are unknown.
    pub planned: Value,
}

/// Changes an object in place.
#[derive(Debug, Clone)]
pub struct UpdateRequest {
    pub address: InstanceAddress,
    pub type_name: String,
    pub prior: Value,
    pub planned: Value,
}

/// Removes an object.
#[derive(Debug, Clone)]
pub struct DeleteRequest {
    pub address: InstanceAddress,
    pub type_name: String,
    pub prior: Value,
}

/// Reads the live state of many instances of one type at once.
#[derive(Debug, Clone)]
pub struct ReadRequest {
    pub type_name: String,
    pub instances: Vec<(InstanceAddress, Value)>,
}

/// What refresh found, in the order of the request; `None` where the object is gone.
#[derive(Debug, Clone, Default)]
pub struct ReadResponse {
    pub states: Vec<Option<Value>>,
}

/// Reads an existing object into state.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub address: InstanceAddress,
    pub type_name: String,
    pub id: String,
}

/// A provider: a set of resource types and the operations on them.
#[async_trait]
pub trait Provider: Send + Sync + fmt::Debug {
    /// The provider's name, as in `[provider.<name>]`.
    fn name(&self) -> &str;

    /// The resource types it serves.
    fn schemas(&self) -> &[ResourceSchema];

    /// The settings a `[provider.<name>]` block may hold (as attributes: type, required,
    /// sensitive); the engine checks blocks against them before anything runs. `None`
    /// means the provider takes no settings.
    fn settings_schema(&self) -> Option<ResourceSchema> {
        None
    }

    /// Takes the provider's settings; checks credentials before any resource is touched.
    async fn configure(&self, _req: ConfigureRequest) -> Result<(), ProviderError> {
        Ok(())
    }

    /// Checks values beyond their types (CIDR syntax, port ranges, name rules).
    fn validate(&self, _req: &ValidateRequest<'_>) -> Vec<AttrProblem> {
        Vec::new()
    }

    /// Adjusts the proposed value: marks computed values that will change as unknown, or
    /// asks for replacement.
    fn plan(&self, req: PlanRequest<'_>) -> Result<PlanResponse, ProviderError> {
        Ok(PlanResponse::accept(req.proposed))
    }

    /// Creates the object and returns its state, read back.
    async fn create(&self, req: CreateRequest) -> Result<Value, ProviderError>;

    /// Updates the object in place and returns its new state.
    async fn update(&self, req: UpdateRequest) -> Result<Value, ProviderError>;

    /// Deletes the object. Deleting what is already gone succeeds.
    async fn delete(&self, req: DeleteRequest) -> Result<(), ProviderError>;

    /// Whether objects of this type exist outside state, so refresh must read them. The
    /// default is no (resources that live only in state); providers that implement
    /// [`Provider::read`] say yes.
    fn reads_live_state(&self, _type_name: &str) -> bool {
        false
    }

    /// Whether the provider gathers the operations on this type that start together into
    /// one API call (Route53 record changes into one ChangeBatch per zone). The engine then
    /// starts every instance of a block at once, as one of its `--parallelism` slots.
    fn batches_calls(&self, _type_name: &str) -> bool {
        false
    }

    /// Reads live state. The default says every object is as recorded, which is right for
    /// resources that live only in state.
    async fn read(&self, req: ReadRequest) -> Result<ReadResponse, ProviderError> {
        Ok(ReadResponse {
            states: req.instances.into_iter().map(|(_, v)| Some(v)).collect(),
        })
    }

    /// Reads an existing object by its id.
    async fn import(&self, req: ImportRequest) -> Result<Value, ProviderError> {
        Err(ProviderError::unsupported(format!(
            "importing {}: {} cannot be imported",
            req.address, req.type_name
        )))
    }

    /// Whether creating an object can bring back the computed values of an earlier one
    /// (true for resources that live only in state); rollback uses it to restore secrets
    /// and ids exactly.
    fn can_restore(&self, _type_name: &str) -> bool {
        false
    }

    /// API calls made so far, per service, for `--stats`.
    fn api_calls(&self) -> BTreeMap<String, u64> {
        BTreeMap::new()
    }
}
