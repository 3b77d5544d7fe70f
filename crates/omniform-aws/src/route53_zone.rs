//! `aws_route53_zone`: a public hosted zone. With `force_destroy`, deleting it first deletes
//! the records omniform did not make.

use std::collections::BTreeMap;

use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, HostedZone, HostedZoneConfig, RrType,
};
use omniform_core::{AttrType, Attribute, InstanceAddress, ResourceSchema, Value};
use omniform_provider::{
    AttrProblem, CreateRequest, DeleteRequest, ErrorKind, ProviderError, UpdateRequest,
};

use crate::attrs;
use crate::client::{Clients, sdk_error};
use crate::validate;

pub const TYPE: &str = "aws_route53_zone";

pub fn schema() -> ResourceSchema {
    ResourceSchema::new(
        TYPE,
        "A Route53 public hosted zone.",
        vec![
            Attribute::required("name", AttrType::String).force_new(),
            Attribute::optional("comment", AttrType::String).default("Managed by Omniform"),
            Attribute::optional("force_destroy", AttrType::Bool)
                .default(false)
                .describe("delete the zone's records when destroying it"),
            Attribute::computed("id", AttrType::String),
            Attribute::computed("zone_id", AttrType::String),
            Attribute::computed("arn", AttrType::String),
            Attribute::computed("name_servers", AttrType::list(AttrType::String)),
        ],
    )
}

pub fn validate(config: &Value) -> Vec<AttrProblem> {
    let mut out = Vec::new();
    if let Some(name) = attrs::string(config, "name") {
        validate::check_dns_name(&mut out, "name", &name);
    }
    out
}

/// `/hostedzone/Z123` → `Z123`.
pub fn short_id(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

fn to_state(z: &HostedZone, name_servers: Option<Vec<String>>) -> Value {
    let id = short_id(z.id()).to_string();
    let mut v = Value::map([
        ("id", Value::from(id.as_str())),
        ("zone_id", Value::from(id.as_str())),
        (
            "arn",
            Value::from(format!("arn:aws:route53:::hostedzone/{id}")),
        ),
        ("name", Value::from(z.name().trim_end_matches('.'))),
        (
            "comment",
            attrs::opt_str(z.config().and_then(|c| c.comment())),
        ),
    ]);
    if let Some(ns) = name_servers {
        attrs::set(&mut v, "name_servers", attrs::str_list(ns));
    }
    v
}

/// Every hosted zone in the account, 100 per call.
async fn list(c: &Clients) -> Result<BTreeMap<String, HostedZone>, ProviderError> {
    let mut out = BTreeMap::new();
    let mut marker = None;
    loop {
        let resp = c
            .route53
            .list_hosted_zones()
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| sdk_error("listing Route53 hosted zones", e))?;
        for z in resp.hosted_zones() {
            out.insert(short_id(z.id()).to_string(), z.clone());
        }
        marker = resp
            .next_marker()
            .map(str::to_string)
            .filter(|_| resp.is_truncated());
        if marker.is_none() {
            break;
        }
    }
    Ok(out)
}

pub async fn read(
    c: &Clients,
    instances: &[(InstanceAddress, Value)],
) -> Result<Vec<Option<Value>>, ProviderError> {
    let zones = list(c).await?;
    // Name servers do not change for the life of a zone; state keeps them.
    Ok(instances
        .iter()
        .map(|(_, v)| {
            zones
                .get(&attrs::id(v))
                .map(|z| attrs::overlay(v, to_state(z, None)))
        })
        .collect())
}

async fn get(c: &Clients, id: &str) -> Result<Option<Value>, ProviderError> {
    match c.route53.get_hosted_zone().id(id).send().await {
        Ok(resp) => {
            let ns = resp
                .delegation_set()
                .map(|d| d.name_servers().to_vec())
                .unwrap_or_default();
            Ok(resp.hosted_zone().map(|z| {
                let mut v = to_state(z, Some(ns));
                attrs::set(&mut v, "force_destroy", Value::from(false));
                v
            }))
        }
        Err(e) => {
            let err = sdk_error(format!("reading Route53 hosted zone ({id})"), e);
            if err.kind == ErrorKind::NotFound {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}

pub async fn import(c: &Clients, id: &str) -> Result<Option<Value>, ProviderError> {
    get(c, short_id(id)).await
}

pub async fn create(c: &Clients, req: &CreateRequest) -> Result<Value, ProviderError> {
    let p = &req.planned;
    let name = attrs::string(p, "name").unwrap_or_default();
    let reference = format!(
        "omniform-{}-{}",
        req.address,
        time::OffsetDateTime::now_utc().unix_timestamp_nanos()
    );
    let resp = c
        .route53
        .create_hosted_zone()
        .name(&name)
        .caller_reference(reference)
        .hosted_zone_config(
            HostedZoneConfig::builder()
                .set_comment(attrs::string(p, "comment"))
                .build(),
        )
        .send()
        .await
        .map_err(|e| sdk_error(format!("creating Route53 hosted zone ({name})"), e))?;
    let zone = resp.hosted_zone().ok_or_else(|| {
        ProviderError::api(format!(
            "creating Route53 hosted zone ({name}): no zone in the answer"
        ))
    })?;
    let ns = resp
        .delegation_set()
        .map(|d| d.name_servers().to_vec())
        .unwrap_or_default();
    let mut state = to_state(zone, Some(ns));
    attrs::set(
        &mut state,
        "force_destroy",
        Value::from(attrs::boolean(p, "force_destroy").unwrap_or(false)),
    );
    Ok(state)
}

pub async fn update(c: &Clients, req: &UpdateRequest) -> Result<Value, ProviderError> {
    let id = attrs::id(&req.prior);
    if attrs::string(&req.prior, "comment") != attrs::string(&req.planned, "comment") {
        c.route53
            .update_hosted_zone_comment()
            .id(&id)
            .set_comment(attrs::string(&req.planned, "comment"))
            .send()
            .await
            .map_err(|e| {
                sdk_error(
                    format!("updating the comment of Route53 hosted zone ({id})"),
                    e,
                )
            })?;
    }
    let mut state = get(c, &id).await?.ok_or_else(|| {
        ProviderError::api(format!("updating Route53 hosted zone ({id}): it is gone"))
    })?;
    attrs::set(
        &mut state,
        "force_destroy",
        Value::from(attrs::boolean(&req.planned, "force_destroy").unwrap_or(false)),
    );
    Ok(state)
}

pub async fn delete(c: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
    let id = attrs::id(&req.prior);
    let name = attrs::string(&req.prior, "name").unwrap_or_default();
    if attrs::boolean(&req.prior, "force_destroy").unwrap_or(false) {
        let records = crate::route53_record::list_zone(c, &id).await?;
        let doomed: Vec<Change> = records
            .into_iter()
            .filter(|r| {
                !(matches!(r.r#type(), RrType::Soa | RrType::Ns)
                    && r.name().trim_end_matches('.') == name)
            })
            .map(|r| {
                Change::builder()
                    .action(ChangeAction::Delete)
                    .resource_record_set(r)
                    .build()
            })
            .collect::<Result<_, _>>()
            .map_err(|e| {
                ProviderError::api(format!(
                    "deleting the records of Route53 hosted zone ({name}): {e}"
                ))
            })?;
        for batch in doomed.chunks(500) {
            let batch = ChangeBatch::builder()
                .set_changes(Some(batch.to_vec()))
                .build()
                .map_err(|e| {
                    ProviderError::api(format!(
                        "deleting the records of Route53 hosted zone ({name}): {e}"
                    ))
                })?;
            c.route53
                .change_resource_record_sets()
                .hosted_zone_id(&id)
                .change_batch(batch)
                .send()
                .await
                .map_err(|e| {
                    sdk_error(
                        format!("deleting the records of Route53 hosted zone ({name})"),
                        e,
                    )
                })?;
        }
    }
    match c.route53.delete_hosted_zone().id(&id).send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let err = sdk_error(format!("deleting Route53 hosted zone ({name})"), e);
            match err.kind {
                ErrorKind::NotFound => Ok(()),
                _ if err.message.contains("HostedZoneNotEmpty") => {
                    Err(ProviderError::api(format!(
                        "{}; delete its records first, or set force_destroy = true on the zone",
                        err.message
                    )))
                }
                _ => Err(err),
            }
        }
    }
}
