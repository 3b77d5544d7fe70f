//! `aws_eip`: an elastic IP address, optionally associated with an instance (the
//! association changes in place).

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{Address, DomainType, Filter, ResourceType, Tag, TagSpecification};
use omniform_core::{AttrType, Attribute, InstanceAddress, ResourceSchema, Value};
use omniform_provider::{
    CreateRequest, DeleteRequest, ErrorKind, PlanRequest, PlanResponse, ProviderError,
    UpdateRequest,
};

use crate::attrs;
use crate::client::{Clients, chunks, sdk_error};
use crate::security_group::update_tags;

pub const TYPE: &str = "aws_eip";

/// A new association moves the association id, which the plan cannot know.
pub fn plan(req: PlanRequest<'_>) -> PlanResponse {
    let mut planned = req.proposed;
    if let Some(prior) = req.prior
        && attrs::get(prior, "instance") != attrs::get(&planned, "instance")
    {
        attrs::set(&mut planned, "association_id", Value::Unknown);
    }
    PlanResponse::accept(planned)
}

pub fn schema() -> ResourceSchema {
    ResourceSchema::new(
        TYPE,
        "An elastic IP address.",
        vec![
            Attribute::optional("instance", AttrType::String)
                .describe("the instance it is associated with"),
            Attribute::optional("domain", AttrType::String)
                .default("vpc")
                .force_new(),
            Attribute::optional("tags", AttrType::map(AttrType::String)),
            Attribute::computed("id", AttrType::String),
            Attribute::computed("allocation_id", AttrType::String),
            Attribute::computed("association_id", AttrType::String),
            Attribute::computed("public_ip", AttrType::String),
        ],
    )
}

fn to_state(a: &Address) -> Value {
    let tags: BTreeMap<String, String> = a
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
        .collect();
    Value::map([
        ("id", attrs::opt_str(a.allocation_id())),
        ("allocation_id", attrs::opt_str(a.allocation_id())),
        (
            "association_id",
            attrs::opt_str(a.association_id().filter(|s| !s.is_empty())),
        ),
        ("public_ip", attrs::opt_str(a.public_ip())),
        // Some endpoints answer "" for "not associated".
        (
            "instance",
            attrs::opt_str(a.instance_id().filter(|s| !s.is_empty())),
        ),
        ("domain", attrs::opt_str(a.domain().map(|d| d.as_str()))),
        ("tags", attrs::tags_value(tags)),
    ])
}

async fn describe(c: &Clients, ids: &[String]) -> Result<BTreeMap<String, Address>, ProviderError> {
    let mut out = BTreeMap::new();
    for chunk in chunks(ids, 200) {
        let resp = c
            .ec2
            .describe_addresses()
            .filters(
                Filter::builder()
                    .name("allocation-id")
                    .set_values(Some(chunk))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_error("reading elastic IPs", e))?;
        for a in resp.addresses() {
            if let Some(id) = a.allocation_id() {
                out.insert(id.to_string(), a.clone());
            }
        }
    }
    Ok(out)
}

pub async fn read(
    c: &Clients,
    instances: &[(InstanceAddress, Value)],
) -> Result<Vec<Option<Value>>, ProviderError> {
    let ids: Vec<String> = instances
        .iter()
        .map(|(_, v)| attrs::id(v))
        .filter(|id| !id.is_empty())
        .collect();
    let found = describe(c, &ids).await?;
    Ok(instances
        .iter()
        .map(|(_, v)| {
            found
                .get(&attrs::id(v))
                .map(|a| attrs::overlay(v, to_state(a)))
        })
        .collect())
}

pub async fn import(c: &Clients, id: &str) -> Result<Option<Value>, ProviderError> {
    Ok(describe(c, &[id.to_string()]).await?.get(id).map(to_state))
}

async fn read_back(c: &Clients, id: &str) -> Result<Value, ProviderError> {
    import(c, id).await?.ok_or_else(|| {
        ProviderError::api(format!(
            "reading elastic IP ({id}) after writing it: it is gone"
        ))
    })
}

async fn associate(c: &Clients, id: &str, instance: &str) -> Result<(), ProviderError> {
    c.ec2
        .associate_address()
        .allocation_id(id)
        .instance_id(instance)
        .send()
        .await
        .map_err(|e| {
            sdk_error(
                format!("associating elastic IP ({id}) with instance {instance}"),
                e,
            )
        })?;
    Ok(())
}

pub async fn create(c: &Clients, req: &CreateRequest) -> Result<Value, ProviderError> {
    let p = &req.planned;
    let tags = attrs::string_map(p, "tags");
    let mut call = c.ec2.allocate_address().domain(DomainType::from(
        attrs::string(p, "domain")
            .unwrap_or_else(|| "vpc".into())
            .as_str(),
    ));
    if !tags.is_empty() {
        let mut spec = TagSpecification::builder().resource_type(ResourceType::ElasticIp);
        for (k, v) in &tags {
            spec = spec.tags(Tag::builder().key(k).value(v).build());
        }
        call = call.tag_specifications(spec.build());
    }
    let id = call
        .send()
        .await
        .map_err(|e| sdk_error(format!("allocating elastic IP ({})", req.address), e))?
        .allocation_id()
        .unwrap_or_default()
        .to_string();
    if let Some(instance) = attrs::string(p, "instance") {
        associate(c, &id, &instance).await?;
    }
    read_back(c, &id).await
}

pub async fn update(c: &Clients, req: &UpdateRequest) -> Result<Value, ProviderError> {
    let (old, new) = (&req.prior, &req.planned);
    let id = attrs::id(old);
    let (was, now) = (
        attrs::string(old, "instance"),
        attrs::string(new, "instance"),
    );
    if was != now {
        if let Some(assoc) = attrs::string(old, "association_id") {
            c.ec2
                .disassociate_address()
                .association_id(assoc)
                .send()
                .await
                .map_err(|e| sdk_error(format!("disassociating elastic IP ({id})"), e))?;
        }
        if let Some(instance) = now {
            associate(c, &id, &instance).await?;
        }
    }
    update_tags(c, &id, &format!("elastic IP ({id})"), old, new).await?;
    read_back(c, &id).await
}

pub async fn delete(c: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
    let id = attrs::id(&req.prior);
    if let Some(assoc) = attrs::string(&req.prior, "association_id")
        && let Err(e) = c
            .ec2
            .disassociate_address()
            .association_id(assoc)
            .send()
            .await
    {
        let err = sdk_error(format!("disassociating elastic IP ({id})"), e);
        if err.kind != ErrorKind::NotFound {
            return Err(err);
        }
    }
    match c.ec2.release_address().allocation_id(&id).send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let err = sdk_error(format!("releasing elastic IP ({id})"), e);
            if err.kind == ErrorKind::NotFound {
                Ok(())
            } else {
                Err(err)
            }
        }
    }
}
