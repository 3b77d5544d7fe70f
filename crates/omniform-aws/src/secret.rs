//! `aws_secretsmanager_secret`: a secret's container (its values are
//! `aws_secretsmanager_secret_version`s). A new name replaces it; deleting it waits out
//! `recovery_window_in_days` (0 deletes at once).

use std::collections::BTreeMap;

use aws_sdk_secretsmanager::types::Tag;
use omniform_core::{AttrType, Attribute, InstanceAddress, ResourceSchema, Value};
use omniform_provider::{
    AttrProblem, CreateRequest, DeleteRequest, ErrorKind, ProviderError, UpdateRequest,
};

use crate::attrs;
use crate::client::{Clients, sdk_error};
use crate::validate;

pub const TYPE: &str = "aws_secretsmanager_secret";

pub fn schema() -> ResourceSchema {
    ResourceSchema::new(
        TYPE,
        "A Secrets Manager secret.",
        vec![
            Attribute::required("name", AttrType::String).force_new(),
            Attribute::optional("description", AttrType::String),
            Attribute::optional("kms_key_id", AttrType::String),
            Attribute::optional("recovery_window_in_days", AttrType::Number)
                .default(30)
                .describe("0 deletes at once; otherwise 7 to 30"),
            Attribute::optional("tags", AttrType::map(AttrType::String)),
            Attribute::computed("id", AttrType::String),
            Attribute::computed("arn", AttrType::String),
        ],
    )
}

pub fn validate(config: &Value) -> Vec<AttrProblem> {
    let mut out = Vec::new();
    if let Some(name) = attrs::string(config, "name") {
        let ok_chars = name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c));
        if name.is_empty() || name.len() > 512 || !ok_chars {
            out.push(validate::problem(
                "name",
                format!("{name:?} is not a valid secret name"),
                "use 1 to 512 of letters, digits and /_+=.@-",
            ));
        }
    }
    if let Some(days) = attrs::int(config, "recovery_window_in_days")
        && days != 0
        && !(7..=30).contains(&days)
    {
        out.push(validate::problem(
            "recovery_window_in_days",
            format!("recovery_window_in_days {days} is out of range"),
            "use 0 (delete at once) or 7 to 30",
        ));
    }
    out
}

fn tags_value(tags: &[Tag]) -> Value {
    attrs::tags_value(
        tags.iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
            .collect::<BTreeMap<_, _>>(),
    )
}

/// Every live secret in the account, by ARN, 100 per call.
async fn list(c: &Clients) -> Result<BTreeMap<String, Value>, ProviderError> {
    let mut out = BTreeMap::new();
    let mut token = None;
    loop {
        let resp = c
            .secrets
            .list_secrets()
            .max_results(100)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| sdk_error("listing Secrets Manager secrets", e))?;
        for s in resp.secret_list() {
            if s.deleted_date().is_some() {
                continue;
            }
            let arn = s.arn().unwrap_or_default().to_string();
            out.insert(
                arn.clone(),
                Value::map([
                    ("id", Value::from(arn.as_str())),
                    ("arn", Value::from(arn.as_str())),
                    ("name", attrs::opt_str(s.name())),
                    ("description", attrs::opt_str(s.description())),
                    ("kms_key_id", attrs::opt_str(s.kms_key_id())),
                    ("tags", tags_value(s.tags())),
                ]),
            );
        }
        token = resp.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(out)
}

pub async fn read(
    c: &Clients,
    instances: &[(InstanceAddress, Value)],
) -> Result<Vec<Option<Value>>, ProviderError> {
    let live = list(c).await?;
    Ok(instances
        .iter()
        .map(|(_, v)| {
            live.get(&attrs::id(v))
                .map(|s| attrs::overlay(v, s.clone()))
        })
        .collect())
}

async fn describe(c: &Clients, id: &str) -> Result<Option<Value>, ProviderError> {
    match c.secrets.describe_secret().secret_id(id).send().await {
        Ok(s) if s.deleted_date().is_none() => {
            let arn = s.arn().unwrap_or_default().to_string();
            Ok(Some(Value::map([
                ("id", Value::from(arn.as_str())),
                ("arn", Value::from(arn.as_str())),
                ("name", attrs::opt_str(s.name())),
                ("description", attrs::opt_str(s.description())),
                ("kms_key_id", attrs::opt_str(s.kms_key_id())),
                ("tags", tags_value(s.tags())),
            ])))
        }
        Ok(_) => Ok(None),
        Err(e) => {
            let err = sdk_error(format!("reading secret ({id})"), e);
            if err.kind == ErrorKind::NotFound {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}

/// The ARN of the secret named `name` when it is scheduled for deletion.
async fn scheduled_for_deletion(c: &Clients, name: &str) -> Option<String> {
    let s = c
        .secrets
        .describe_secret()
        .secret_id(name)
        .send()
        .await
        .ok()?;
    s.deleted_date()?;
    s.arn().map(str::to_string)
}

/// Restores a secret scheduled for deletion and gives it the planned settings.
async fn restore(c: &Clients, arn: &str, name: &str, p: &Value) -> Result<String, ProviderError> {
    let what = |verb: &str| format!("{verb} secret ({name}), which was scheduled for deletion");
    c.secrets
        .restore_secret()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| sdk_error(what("restoring"), e))?;
    c.secrets
        .update_secret()
        .secret_id(arn)
        .description(attrs::string(p, "description").unwrap_or_default())
        .set_kms_key_id(attrs::string(p, "kms_key_id"))
        .send()
        .await
        .map_err(|e| sdk_error(what("updating the restored"), e))?;
    if let Some(tags) = sdk_tags(p) {
        c.secrets
            .tag_resource()
            .secret_id(arn)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| sdk_error(what("tagging the restored"), e))?;
    }
    Ok(arn.to_string())
}

pub async fn import(c: &Clients, id: &str) -> Result<Option<Value>, ProviderError> {
    if scheduled_for_deletion(c, id).await.is_some() {
        return Err(ProviderError::api(format!(
            "secret {id} is scheduled for deletion; apply the stack to restore it (creating a secret of that name restores it), or restore it with `aws secretsmanager restore-secret --secret-id {id}`"
        )));
    }
    Ok(describe(c, id).await?.map(|mut v| {
        attrs::set(&mut v, "recovery_window_in_days", Value::from(30));
        v
    }))
}

fn with_settings(mut live: Value, planned: &Value) -> Value {
    attrs::set(
        &mut live,
        "recovery_window_in_days",
        attrs::get(planned, "recovery_window_in_days")
            .cloned()
            .unwrap_or(Value::from(30)),
    );
    live
}

fn sdk_tags(v: &Value) -> Option<Vec<Tag>> {
    let tags = attrs::string_map(v, "tags");
    (!tags.is_empty()).then(|| {
        tags.iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect()
    })
}

pub async fn create(c: &Clients, req: &CreateRequest) -> Result<Value, ProviderError> {
    let p = &req.planned;
    let name = attrs::string(p, "name").unwrap_or_default();
    let resp = c
        .secrets
        .create_secret()
        .name(&name)
        .set_description(attrs::string(p, "description"))
        .set_kms_key_id(attrs::string(p, "kms_key_id"))
        .set_tags(sdk_tags(p))
        .send()
        .await;
    let arn = match resp {
        Ok(resp) => resp.arn().unwrap_or_default().to_string(),
        Err(e) => {
            let err = sdk_error(format!("creating secret ({name})"), e);
            match scheduled_for_deletion(c, &name).await {
                // Destroyed earlier and still in its recovery window (AWS keeps the name):
                // bring it back and make it what the stack says.
                Some(arn) => restore(c, &arn, &name, p).await?,
                None if err.message.contains("ResourceExists") => {
                    return Err(ProviderError::api(format!(
                        "{}; if it belongs to this stack, import it: omniform import STACK ADDRESS {name}",
                        err.message
                    )));
                }
                None => return Err(err),
            }
        }
    };
    let live = describe(c, &arn).await?.ok_or_else(|| {
        ProviderError::api(format!("creating secret ({name}): it is gone right after"))
    })?;
    Ok(with_settings(live, p))
}

pub async fn update(c: &Clients, req: &UpdateRequest) -> Result<Value, ProviderError> {
    let (old, new) = (&req.prior, &req.planned);
    let id = attrs::id(old);
    let name = attrs::string(new, "name").unwrap_or_default();
    if attrs::string(old, "description") != attrs::string(new, "description")
        || attrs::string(old, "kms_key_id") != attrs::string(new, "kms_key_id")
    {
        c.secrets
            .update_secret()
            .secret_id(&id)
            .description(attrs::string(new, "description").unwrap_or_default())
            .set_kms_key_id(attrs::string(new, "kms_key_id"))
            .send()
            .await
            .map_err(|e| sdk_error(format!("updating secret ({name})"), e))?;
    }
    let (have, want) = (
        attrs::string_map(old, "tags"),
        attrs::string_map(new, "tags"),
    );
    let gone: Vec<String> = have
        .keys()
        .filter(|k| !want.contains_key(*k))
        .cloned()
        .collect();
    if !gone.is_empty() {
        c.secrets
            .untag_resource()
            .secret_id(&id)
            .set_tag_keys(Some(gone))
            .send()
            .await
            .map_err(|e| sdk_error(format!("removing tags of secret ({name})"), e))?;
    }
    let changed: Vec<Tag> = want
        .iter()
        .filter(|(k, v)| have.get(*k) != Some(v))
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    if !changed.is_empty() {
        c.secrets
            .tag_resource()
            .secret_id(&id)
            .set_tags(Some(changed))
            .send()
            .await
            .map_err(|e| sdk_error(format!("tagging secret ({name})"), e))?;
    }
    let live = describe(c, &id)
        .await?
        .ok_or_else(|| ProviderError::api(format!("updating secret ({name}): it is gone")))?;
    Ok(with_settings(live, new))
}

pub async fn delete(c: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
    let id = attrs::id(&req.prior);
    let days = attrs::int(&req.prior, "recovery_window_in_days").unwrap_or(30);
    let mut call = c.secrets.delete_secret().secret_id(&id);
    call = if days == 0 {
        call.force_delete_without_recovery(true)
    } else {
        call.recovery_window_in_days(days)
    };
    match call.send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let err = sdk_error(
                format!(
                    "deleting secret ({})",
                    attrs::string(&req.prior, "name").unwrap_or(id)
                ),
                e,
            );
            // Already deleted, or already waiting out its recovery window.
            let scheduled =
                err.message.contains("InvalidRequestException") && err.message.contains("deletion");
            if err.kind == ErrorKind::NotFound || scheduled {
                Ok(())
            } else {
                Err(err)
            }
        }
    }
}
