//! `aws_secretsmanager_secret_version`: the current value of a secret. A new value is a new
//! version (a replacement); the old version stays in Secrets Manager until AWS ages it out.
//! Refresh reads values twenty at a time with BatchGetSecretValue; a value changed outside
//! omniform shows as drift.

use std::collections::BTreeMap;

use omniform_core::{AttrType, Attribute, InstanceAddress, ResourceSchema, Value};
use omniform_provider::{CreateRequest, ErrorKind, PlanRequest, PlanResponse, ProviderError};

use crate::attrs;
use crate::client::{Clients, chunks, sdk_error};

pub const TYPE: &str = "aws_secretsmanager_secret_version";

pub fn schema() -> ResourceSchema {
    ResourceSchema::new(
        TYPE,
        "The current value of a Secrets Manager secret.",
        vec![
            Attribute::required("secret_id", AttrType::String)
                .force_new()
                .describe("the secret's ARN or name"),
            Attribute::optional("secret_string", AttrType::String)
                .force_new()
                .sensitive(),
            Attribute::computed("id", AttrType::String),
            Attribute::computed("arn", AttrType::String),
            Attribute::computed("version_id", AttrType::String),
        ],
    )
}

pub fn plan(req: PlanRequest<'_>) -> PlanResponse {
    PlanResponse::accept(req.proposed)
}

pub async fn create(c: &Clients, req: &CreateRequest) -> Result<Value, ProviderError> {
    let p = &req.planned;
    let secret = attrs::string(p, "secret_id").unwrap_or_default();
    let value = attrs::get(p, "secret_string")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let resp = c
        .secrets
        .put_secret_value()
        .secret_id(&secret)
        .secret_string(value)
        .send()
        .await
        .map_err(|e| sdk_error(format!("storing a value in secret ({secret})"), e))?;
    let arn = resp.arn().unwrap_or(secret.as_str()).to_string();
    let version = resp.version_id().unwrap_or_default().to_string();
    let mut state = p.clone();
    attrs::set(&mut state, "arn", Value::from(arn.as_str()));
    attrs::set(&mut state, "version_id", Value::from(version.as_str()));
    attrs::set(&mut state, "id", Value::from(format!("{arn}|{version}")));
    Ok(state)
}

/// The current value of each secret, twenty secrets per call.
async fn current(
    c: &Clients,
    secrets: &[String],
) -> Result<BTreeMap<String, (String, String, String)>, ProviderError> {
    let mut out = BTreeMap::new();
    for chunk in chunks(secrets, 20) {
        let resp = c
            .secrets
            .batch_get_secret_value()
            .set_secret_id_list(Some(chunk.clone()))
            .send()
            .await
            .map_err(|e| sdk_error("reading secret values", e))?;
        for s in resp.secret_values() {
            let (Some(arn), Some(version)) = (s.arn(), s.version_id()) else {
                continue;
            };
            let entry = (
                arn.to_string(),
                version.to_string(),
                s.secret_string().unwrap_or_default().to_string(),
            );
            out.insert(arn.to_string(), entry.clone());
            if let Some(name) = s.name() {
                out.insert(name.to_string(), entry);
            }
        }
    }
    Ok(out)
}

pub async fn read(
    c: &Clients,
    instances: &[(InstanceAddress, Value)],
) -> Result<Vec<Option<Value>>, ProviderError> {
    let mut ids: Vec<String> = instances
        .iter()
        .filter_map(|(_, v)| attrs::string(v, "arn").or_else(|| attrs::string(v, "secret_id")))
        .collect();
    ids.sort();
    ids.dedup();
    let values = current(c, &ids).await?;
    Ok(instances
        .iter()
        .map(|(_, v)| {
            let key = attrs::string(v, "arn")
                .or_else(|| attrs::string(v, "secret_id"))
                .unwrap_or_default();
            let (arn, version, text) = values.get(&key)?;
            if Some(version) == attrs::string(v, "version_id").as_ref() {
                return Some(v.clone());
            }
            // Someone stored a new value: that is drift.
            let mut live = v.clone();
            attrs::set(&mut live, "version_id", Value::from(version.as_str()));
            attrs::set(&mut live, "id", Value::from(format!("{arn}|{version}")));
            attrs::set(
                &mut live,
                "secret_string",
                Value::from(text.as_str()).sensitive(),
            );
            Some(live)
        })
        .collect())
}

pub async fn import(c: &Clients, id: &str) -> Result<Option<Value>, ProviderError> {
    let (secret, version) = match id.split_once('|') {
        Some((s, v)) => (s, Some(v)),
        None => (id, None),
    };
    match c
        .secrets
        .get_secret_value()
        .secret_id(secret)
        .set_version_id(version.map(str::to_string))
        .send()
        .await
    {
        Ok(s) => {
            let arn = s.arn().unwrap_or(secret).to_string();
            let version = s.version_id().unwrap_or_default().to_string();
            Ok(Some(Value::map([
                ("id", Value::from(format!("{arn}|{version}"))),
                ("arn", Value::from(arn.as_str())),
                ("secret_id", Value::from(arn.as_str())),
                ("version_id", Value::from(version)),
                (
                    "secret_string",
                    attrs::opt_str(s.secret_string()).sensitive(),
                ),
            ])))
        }
        Err(e) => {
            let err = sdk_error(format!("reading secret value ({id})"), e);
            if err.kind == ErrorKind::NotFound {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}
