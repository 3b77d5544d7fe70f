//! The AWS provider: EC2 instances, security groups and elastic IPs, Route53 zones and
//! records, Secrets Manager secrets and versions. Names and attributes follow the Terraform
//! AWS provider, so engineers know them and policy tools read our plans.
//!
//! Refresh reads all instances of a type with as few calls as the API allows (filters of up
//! to 200 ids, one record listing per zone, batched secret reads). Every API call is
//! counted per service, for `plan --stats`.
//!
//! Each resource lives in its own module with the same shape: schema, validation, plan
//! adjustments, create / read / update / delete / import, converters.

mod attrs;
mod client;
mod eip;
mod instance;
mod route53_record;
mod route53_zone;
mod secret;
mod secret_version;
mod security_group;
mod validate;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use omniform_core::{ResourceSchema, Value};
use omniform_provider::{
    AttrProblem, ConfigureRequest, CreateRequest, DeleteRequest, ImportRequest, PlanRequest,
    PlanResponse, Provider, ProviderError, ReadRequest, ReadResponse, UpdateRequest,
    ValidateRequest,
};
use tokio::sync::OnceCell;

pub use client::{CallLog, Clients};

/// The AWS provider.
#[derive(Debug)]
pub struct Aws {
    schemas: Vec<ResourceSchema>,
    clients: OnceCell<Clients>,
    calls: Arc<CallLog>,
    records: route53_record::Batcher,
}

impl Default for Aws {
    fn default() -> Self {
        Self::new()
    }
}

impl Aws {
    pub fn new() -> Self {
        Self {
            schemas: vec![
                security_group::schema(),
                instance::schema(),
                eip::schema(),
                route53_zone::schema(),
                route53_record::schema(),
                secret::schema(),
                secret_version::schema(),
            ],
            clients: OnceCell::new(),
            calls: Arc::new(CallLog::default()),
            records: route53_record::Batcher::default(),
        }
    }

    /// Every API call made so far, in order, as (service, operation).
    pub fn call_log(&self) -> Vec<(String, String)> {
        self.calls.entries()
    }

    fn clients(&self) -> Result<&Clients, ProviderError> {
        self.clients.get().ok_or_else(|| {
            ProviderError::configuration(
                "the aws provider is not configured: the engine configures it before it is used",
            )
        })
    }
}

fn unknown_type(type_name: &str) -> ProviderError {
    ProviderError::unsupported(format!("the aws provider has no resource type {type_name}"))
}

#[async_trait]
impl Provider for Aws {
    fn name(&self) -> &str {
        "aws"
    }

    fn schemas(&self) -> &[ResourceSchema] {
        &self.schemas
    }

    fn settings_schema(&self) -> Option<ResourceSchema> {
        use omniform_core::{AttrType, Attribute};
        Some(ResourceSchema::new(
            "aws",
            "AWS settings",
            vec![
                Attribute::optional("region", AttrType::String)
                    .describe("like us-east-1; AWS_REGION otherwise"),
                Attribute::optional("profile", AttrType::String)
                    .describe("a profile of ~/.aws/config"),
                Attribute::optional("endpoint_url", AttrType::String)
                    .describe("one endpoint for every service (emulators)"),
                Attribute::optional("max_attempts", AttrType::Number)
                    .describe("retries with backoff, adaptive mode (default 5)"),
                Attribute::optional("access_key", AttrType::String).sensitive(),
                Attribute::optional("secret_key", AttrType::String).sensitive(),
                Attribute::optional("request_headers", AttrType::map(AttrType::String))
                    .describe("extra HTTP headers on every request (emulators, proxies)"),
            ],
        ))
    }

    async fn configure(&self, req: ConfigureRequest) -> Result<(), ProviderError> {
        let calls = self.calls.clone();
        self.clients
            .get_or_try_init(|| Clients::connect(&req.settings, calls))
            .await
            .map(|_| ())
    }

    fn validate(&self, req: &ValidateRequest<'_>) -> Vec<AttrProblem> {
        match req.type_name {
            security_group::TYPE => security_group::validate(req.config),
            instance::TYPE => instance::validate(req.config),
            route53_zone::TYPE => route53_zone::validate(req.config),
            route53_record::TYPE => route53_record::validate(req.config),
            secret::TYPE => secret::validate(req.config),
            _ => Vec::new(),
        }
    }

    fn plan(&self, req: PlanRequest<'_>) -> Result<PlanResponse, ProviderError> {
        Ok(match req.type_name {
            security_group::TYPE => security_group::plan(req),
            instance::TYPE => instance::plan(req),
            eip::TYPE => eip::plan(req),
            route53_record::TYPE => route53_record::plan(req),
            secret_version::TYPE => secret_version::plan(req),
            _ => PlanResponse::accept(req.proposed),
        })
    }

    fn reads_live_state(&self, _type_name: &str) -> bool {
        true
    }

    fn batches_calls(&self, type_name: &str) -> bool {
        type_name == route53_record::TYPE
    }

    async fn create(&self, req: CreateRequest) -> Result<Value, ProviderError> {
        let c = self.clients()?;
        match req.type_name.as_str() {
            security_group::TYPE => security_group::create(c, &req).await,
            instance::TYPE => instance::create(c, &req).await,
            eip::TYPE => eip::create(c, &req).await,
            route53_zone::TYPE => route53_zone::create(c, &req).await,
            route53_record::TYPE => route53_record::create(c, &self.records, &req).await,
            secret::TYPE => secret::create(c, &req).await,
            secret_version::TYPE => secret_version::create(c, &req).await,
            other => Err(unknown_type(other)),
        }
    }

    async fn update(&self, req: UpdateRequest) -> Result<Value, ProviderError> {
        let c = self.clients()?;
        match req.type_name.as_str() {
            security_group::TYPE => security_group::update(c, &req).await,
            instance::TYPE => instance::update(c, &req).await,
            eip::TYPE => eip::update(c, &req).await,
            route53_zone::TYPE => route53_zone::update(c, &req).await,
            route53_record::TYPE => route53_record::update(c, &self.records, &req).await,
            secret::TYPE => secret::update(c, &req).await,
            secret_version::TYPE => Ok(req.planned),
            other => Err(unknown_type(other)),
        }
    }

    async fn delete(&self, req: DeleteRequest) -> Result<(), ProviderError> {
        let c = self.clients()?;
        match req.type_name.as_str() {
            security_group::TYPE => security_group::delete(c, &req).await,
            instance::TYPE => instance::delete(c, &req).await,
            eip::TYPE => eip::delete(c, &req).await,
            route53_zone::TYPE => route53_zone::delete(c, &req).await,
            route53_record::TYPE => route53_record::delete(c, &self.records, &req).await,
            secret::TYPE => secret::delete(c, &req).await,
            secret_version::TYPE => Ok(()),
            other => Err(unknown_type(other)),
        }
    }

    async fn read(&self, req: ReadRequest) -> Result<ReadResponse, ProviderError> {
        let c = self.clients()?;
        let states = match req.type_name.as_str() {
            security_group::TYPE => security_group::read(c, &req.instances).await?,
            instance::TYPE => instance::read(c, &req.instances).await?,
            eip::TYPE => eip::read(c, &req.instances).await?,
            route53_zone::TYPE => route53_zone::read(c, &req.instances).await?,
            route53_record::TYPE => route53_record::read(c, &req.instances).await?,
            secret::TYPE => secret::read(c, &req.instances).await?,
            secret_version::TYPE => secret_version::read(c, &req.instances).await?,
            other => return Err(unknown_type(other)),
        };
        Ok(ReadResponse { states })
    }

    async fn import(&self, req: ImportRequest) -> Result<Value, ProviderError> {
        let c = self.clients()?;
        let found = match req.type_name.as_str() {
            security_group::TYPE => security_group::import(c, &req.id).await?,
            instance::TYPE => instance::import(c, &req.id).await?,
            eip::TYPE => eip::import(c, &req.id).await?,
            route53_zone::TYPE => route53_zone::import(c, &req.id).await?,
            route53_record::TYPE => route53_record::import(c, &req.id).await?,
            secret::TYPE => secret::import(c, &req.id).await?,
            secret_version::TYPE => secret_version::import(c, &req.id).await?,
            other => return Err(unknown_type(other)),
        };
        found.ok_or_else(|| {
            ProviderError::not_found(format!(
                "importing {} ({}): no {} with that id exists",
                req.address, req.id, req.type_name
            ))
        })
    }

    fn api_calls(&self) -> BTreeMap<String, u64> {
        self.calls.counts()
    }
}
