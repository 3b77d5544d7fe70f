//! `aws_instance`: an EC2 instance. A new AMI, subnet, key or user data replaces it; a new
//! instance type is applied in place by stopping, modifying and starting it again (AWS
//! refuses to change a running instance's type); security groups, metadata options,
//! monitoring, tags and the root volume's size and type change in place.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_ec2::types::{
    AttributeValue, BlockDeviceMapping, EbsBlockDevice, Filter, HttpTokensState,
    InstanceMetadataEndpointState, InstanceMetadataOptionsRequest, InstanceStateName, InstanceType,
    ResourceType, RunInstancesMonitoringEnabled, Tag, TagSpecification, Volume, VolumeType,
};
use base64::Engine;
use omniform_core::{AttrType, Attribute, InstanceAddress, ResourceSchema, Value};
use omniform_provider::{
    AttrProblem, CreateRequest, DeleteRequest, PlanRequest, PlanResponse, ProviderError,
    UpdateRequest,
};

use crate::attrs::{self, set};
use crate::client::{Clients, chunks, sdk_error};
use crate::security_group::update_tags;
use crate::validate;

pub const TYPE: &str = "aws_instance";

/// How long to wait for an instance to reach a state.
const STATE_TIMEOUT: Duration = Duration::from_secs(600);

pub fn schema() -> ResourceSchema {
    ResourceSchema::new(
        TYPE,
        "An EC2 instance.",
        vec![
            Attribute::required("ami", AttrType::String).force_new(),
            Attribute::required("instance_type", AttrType::String)
                .describe("changed in place: stop, modify, start"),
            Attribute::optional_computed("subnet_id", AttrType::String).force_new(),
            Attribute::optional_computed(
                "vpc_security_group_ids",
                AttrType::list(AttrType::String),
            ),
            Attribute::optional("key_name", AttrType::String).force_new(),
            Attribute::optional("user_data", AttrType::String)
                .force_new()
                .describe("cloud-init text; a change replaces the instance"),
            Attribute::optional_computed(
                "root_block_device",
                AttrType::block(vec![
                    Attribute::optional_computed("volume_size", AttrType::Number).describe("GiB"),
                    Attribute::optional_computed("volume_type", AttrType::String)
                        .describe("gp3, gp2, io1, io2, st1, sc1, standard"),
                    Attribute::optional_computed("encrypted", AttrType::Bool).force_new(),
                    Attribute::computed("volume_id", AttrType::String),
                    Attribute::computed("device_name", AttrType::String),
                ]),
            ),
            Attribute::optional_computed(
                "metadata_options",
                AttrType::block(vec![
                    Attribute::optional_computed("http_tokens", AttrType::String)
                        .describe("required (IMDSv2) or optional"),
                    Attribute::optional_computed("http_endpoint", AttrType::String)
                        .describe("enabled or disabled"),
                ]),
            ),
            Attribute::optional("monitoring", AttrType::Bool).default(false),
            Attribute::optional("tags", AttrType::map(AttrType::String)),
            Attribute::computed("id", AttrType::String),
            Attribute::computed("arn", AttrType::String),
            Attribute::computed("public_ip", AttrType::String),
            Attribute::computed("private_ip", AttrType::String),
            Attribute::computed("instance_state", AttrType::String),
        ],
    )
}

pub fn validate(config: &Value) -> Vec<AttrProblem> {
    let mut out = Vec::new();
    if let Some(ami) = attrs::string(config, "ami") {
        validate::check_ami(&mut out, "ami", &ami);
    }
    if let Some(t) = attrs::string(config, "instance_type") {
        validate::check_instance_type(&mut out, "instance_type", &t);
    }
    if let Some(root) = attrs::block(config, "root_block_device") {
        if let Some(size) = attrs::int(root, "volume_size")
            && !(1..=16384).contains(&size)
        {
            out.push(validate::problem(
                "root_block_device[0].volume_size",
                format!("volume_size {size} is out of range"),
                "a volume is 1 to 16384 GiB",
            ));
        }
        if let Some(t) = attrs::string(root, "volume_type")
            && !["gp2", "gp3", "io1", "io2", "st1", "sc1", "standard"].contains(&t.as_str())
        {
            out.push(validate::problem(
                "root_block_device[0].volume_type",
                format!("unknown volume type {t:?}"),
                "use gp3, gp2, io1, io2, st1, sc1 or standard",
            ));
        }
    }
    if let Some(m) = attrs::block(config, "metadata_options")
        && let Some(t) = attrs::string(m, "http_tokens")
        && t != "required"
        && t != "optional"
    {
        out.push(validate::problem(
            "metadata_options[0].http_tokens",
            format!("http_tokens must be \"required\" or \"optional\", not {t:?}"),
            "use \"required\" to enforce IMDSv2",
        ));
    }
    out
}

/// Security group ids are a set: sorted, so their order is no change. A new instance type
/// means a stop and a start, after which the public IP is a new one.
pub fn plan(req: PlanRequest<'_>) -> PlanResponse {
    let mut planned = req.proposed;
    if let Some(prior) = req.prior
        && attrs::get(prior, "instance_type") != attrs::get(&planned, "instance_type")
    {
        set(&mut planned, "public_ip", Value::Unknown);
    }
    if let Some(ids) = attrs::get(&planned, "vpc_security_group_ids").and_then(Value::as_list)
        && ids.iter().all(Value::is_wholly_known)
    {
        let mut ids = ids.to_vec();
        ids.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        ids.dedup();
        set(&mut planned, "vpc_security_group_ids", Value::List(ids));
    }
    PlanResponse::accept(planned)
}

/// Instances with these ids that exist (not terminated), with their owner account, at
/// most 200 ids per call.
async fn describe(
    c: &Clients,
    ids: &[String],
) -> Result<BTreeMap<String, (aws_sdk_ec2::types::Instance, String)>, ProviderError> {
    let mut out = BTreeMap::new();
    for chunk in chunks(ids, 200) {
        let mut token = None;
        loop {
            let resp = c
                .ec2
                .describe_instances()
                .filters(
                    Filter::builder()
                        .name("instance-id")
                        .set_values(Some(chunk.clone()))
                        .build(),
                )
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| sdk_error("reading EC2 instances", e))?;
            for r in resp.reservations() {
                let owner = r.owner_id().unwrap_or_default().to_string();
                for i in r.instances() {
                    let gone = matches!(
                        i.state().and_then(|s| s.name()),
                        Some(InstanceStateName::Terminated) | Some(InstanceStateName::ShuttingDown)
                    );
                    if let (Some(id), false) = (i.instance_id(), gone) {
                        out.insert(id.to_string(), (i.clone(), owner.clone()));
                    }
                }
            }
            token = resp.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    Ok(out)
}

async fn volumes(c: &Clients, ids: &[String]) -> Result<BTreeMap<String, Volume>, ProviderError> {
    let mut out = BTreeMap::new();
    for chunk in chunks(ids, 200) {
        let mut token = None;
        loop {
            let resp = c
                .ec2
                .describe_volumes()
                .filters(
                    Filter::builder()
                        .name("volume-id")
                        .set_values(Some(chunk.clone()))
                        .build(),
                )
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| sdk_error("reading EBS volumes", e))?;
            for v in resp.volumes() {
                if let Some(id) = v.volume_id() {
                    out.insert(id.to_string(), v.clone());
                }
            }
            token = resp.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    Ok(out)
}

fn root_volume_id(i: &aws_sdk_ec2::types::Instance) -> Option<String> {
    let root = i.root_device_name()?;
    i.block_device_mappings()
        .iter()
        .find(|m| m.device_name() == Some(root))
        .and_then(|m| m.ebs()?.volume_id())
        .map(str::to_string)
}

fn to_state(
    c: &Clients,
    i: &aws_sdk_ec2::types::Instance,
    owner: &str,
    volumes: &BTreeMap<String, Volume>,
) -> Value {
    let id = i.instance_id().unwrap_or_default();
    let mut groups: Vec<String> = i
        .security_groups()
        .iter()
        .filter_map(|g| g.group_id().map(str::to_string))
        .collect();
    groups.sort();
    let root = root_volume_id(i).and_then(|v| volumes.get(&v)).map(|v| {
        Value::List(vec![Value::map([
            ("volume_id", attrs::opt_str(v.volume_id())),
            ("device_name", attrs::opt_str(i.root_device_name())),
            (
                "volume_size",
                v.size()
                    .map(|s| Value::from(s as i64))
                    .unwrap_or(Value::Null),
            ),
            (
                "volume_type",
                attrs::opt_str(v.volume_type().map(|t| t.as_str())),
            ),
            (
                "encrypted",
                v.encrypted().map(Value::from).unwrap_or(Value::Null),
            ),
        ])])
    });
    let metadata = i.metadata_options().map(|m| {
        Value::List(vec![Value::map([
            (
                "http_tokens",
                attrs::opt_str(m.http_tokens().map(|t| t.as_str())),
            ),
            (
                "http_endpoint",
                attrs::opt_str(m.http_endpoint().map(|t| t.as_str())),
            ),
        ])])
    });
    let tags: BTreeMap<String, String> = i
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
        .collect();
    let monitoring = i
        .monitoring()
        .and_then(|m| m.state())
        .map(|s| matches!(s.as_str(), "enabled" | "pending"));
    Value::map([
        ("id", Value::from(id)),
        (
            "arn",
            Value::from(format!("arn:aws:ec2:{}:{owner}:instance/{id}", c.region)),
        ),
        ("ami", attrs::opt_str(i.image_id())),
        (
            "instance_type",
            attrs::opt_str(i.instance_type().map(|t| t.as_str())),
        ),
        ("subnet_id", attrs::opt_str(i.subnet_id())),
        ("vpc_security_group_ids", attrs::str_list(groups)),
        ("key_name", attrs::opt_str(i.key_name())),
        ("root_block_device", root.unwrap_or(Value::Null)),
        ("metadata_options", metadata.unwrap_or(Value::Null)),
        ("monitoring", Value::from(monitoring.unwrap_or(false))),
        ("tags", attrs::tags_value(tags)),
        ("public_ip", attrs::opt_str(i.public_ip_address())),
        ("private_ip", attrs::opt_str(i.private_ip_address())),
        (
            "instance_state",
            attrs::opt_str(i.state().and_then(|s| s.name()).map(|n| n.as_str())),
        ),
    ])
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
    let volume_ids: Vec<String> = found
        .values()
        .filter_map(|(i, _)| root_volume_id(i))
        .collect();
    let vols = volumes(c, &volume_ids).await?;
    // user_data cannot change without replacing the instance and costs one call per instance
    // to read, so refresh keeps what state has.
    Ok(instances
        .iter()
        .map(|(_, v)| {
            found
                .get(&attrs::id(v))
                .map(|(i, owner)| attrs::overlay(v, to_state(c, i, owner, &vols)))
        })
        .collect())
}

async fn read_one(c: &Clients, id: &str) -> Result<Option<Value>, ProviderError> {
    let found = describe(c, &[id.to_string()]).await?;
    let Some((i, owner)) = found.get(id) else {
        return Ok(None);
    };
    let vols = volumes(c, &root_volume_id(i).into_iter().collect::<Vec<_>>()).await?;
    Ok(Some(to_state(c, i, owner, &vols)))
}

pub async fn import(c: &Clients, id: &str) -> Result<Option<Value>, ProviderError> {
    let Some(mut state) = read_one(c, id).await? else {
        return Ok(None);
    };
    let attr = c
        .ec2
        .describe_instance_attribute()
        .instance_id(id)
        .attribute(aws_sdk_ec2::types::InstanceAttributeName::UserData)
        .send()
        .await
        .map_err(|e| sdk_error(format!("reading the user data of EC2 instance ({id})"), e))?;
    let user_data = attr
        .user_data()
        .and_then(|u| u.value())
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok());
    set(
        &mut state,
        "user_data",
        attrs::opt_str(user_data.as_deref()),
    );
    Ok(Some(state))
}

/// Waits until the instance is in one of `want`.
async fn wait_for(c: &Clients, id: &str, want: &[InstanceStateName]) -> Result<(), ProviderError> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(200);
    loop {
        let resp = c
            .ec2
            .describe_instances()
            .filters(Filter::builder().name("instance-id").values(id).build())
            .send()
            .await
            .map_err(|e| sdk_error(format!("waiting for EC2 instance ({id})"), e))?;
        let state = resp
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .find_map(|i| i.state()?.name().cloned());
        match state {
            Some(s) if want.contains(&s) => return Ok(()),
            None if want.contains(&InstanceStateName::Terminated) => return Ok(()),
            s if started.elapsed() > STATE_TIMEOUT => {
                return Err(ProviderError::api(format!(
                    "waiting for EC2 instance ({id}) to be {}: still {} after {}s",
                    want.iter()
                        .map(|w| w.as_str())
                        .collect::<Vec<_>>()
                        .join(" or "),
                    s.map(|s| s.as_str().to_string())
                        .unwrap_or_else(|| "missing".into()),
                    STATE_TIMEOUT.as_secs()
                )));
            }
            _ => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
}

fn name_of(v: &Value) -> String {
    attrs::string_map(v, "tags")
        .get("Name")
        .cloned()
        .unwrap_or_else(|| attrs::id(v))
}

pub async fn create(c: &Clients, req: &CreateRequest) -> Result<Value, ProviderError> {
    let p = &req.planned;
    let what = format!("creating EC2 instance ({})", req.address);
    let mut call = c
        .ec2
        .run_instances()
        .image_id(attrs::string(p, "ami").unwrap_or_default())
        .instance_type(InstanceType::from(
            attrs::string(p, "instance_type")
                .unwrap_or_default()
                .as_str(),
        ))
        .min_count(1)
        .max_count(1)
        .set_subnet_id(attrs::string(p, "subnet_id"))
        .set_key_name(attrs::string(p, "key_name"))
        .monitoring(
            RunInstancesMonitoringEnabled::builder()
                .enabled(attrs::boolean(p, "monitoring").unwrap_or(false))
                .build(),
        );
    let groups = attrs::strings(p, "vpc_security_group_ids");
    if !groups.is_empty() {
        call = call.set_security_group_ids(Some(groups));
    }
    if let Some(ud) = attrs::string(p, "user_data") {
        call = call.user_data(base64::engine::general_purpose::STANDARD.encode(ud));
    }
    if let Some(root) = attrs::block(p, "root_block_device") {
        let ebs = EbsBlockDevice::builder()
            .set_volume_size(attrs::int(root, "volume_size").map(|s| s as i32))
            .set_volume_type(
                attrs::string(root, "volume_type").map(|t| VolumeType::from(t.as_str())),
            )
            .set_encrypted(attrs::boolean(root, "encrypted"))
            .delete_on_termination(true)
            .build();
        // The root device name comes from the AMI; ask for it rather than guess.
        let device = root_device_of_ami(c, &attrs::string(p, "ami").unwrap_or_default()).await?;
        call = call.block_device_mappings(
            BlockDeviceMapping::builder()
                .device_name(device)
                .ebs(ebs)
                .build(),
        );
    }
    if let Some(m) = attrs::block(p, "metadata_options") {
        call = call.metadata_options(
            InstanceMetadataOptionsRequest::builder()
                .set_http_tokens(
                    attrs::string(m, "http_tokens").map(|t| HttpTokensState::from(t.as_str())),
                )
                .set_http_endpoint(
                    attrs::string(m, "http_endpoint")
                        .map(|t| InstanceMetadataEndpointState::from(t.as_str())),
                )
                .build(),
        );
    }
    let tags = attrs::string_map(p, "tags");
    if !tags.is_empty() {
        let mut spec = TagSpecification::builder().resource_type(ResourceType::Instance);
        for (k, v) in &tags {
            spec = spec.tags(Tag::builder().key(k).value(v).build());
        }
        call = call.tag_specifications(spec.build());
    }
    let resp = call.send().await.map_err(|e| sdk_error(&what, e))?;
    let id = resp
        .instances()
        .first()
        .and_then(|i| i.instance_id())
        .unwrap_or_default()
        .to_string();
    wait_for(c, &id, &[InstanceStateName::Running]).await?;
    let mut state = read_one(c, &id).await?.ok_or_else(|| {
        ProviderError::api(format!("{what}: instance {id} vanished after launch"))
    })?;
    set(
        &mut state,
        "user_data",
        attrs::get(p, "user_data").cloned().unwrap_or(Value::Null),
    );
    Ok(state)
}

async fn root_device_of_ami(c: &Clients, ami: &str) -> Result<String, ProviderError> {
    let resp = c
        .ec2
        .describe_images()
        .image_ids(ami)
        .send()
        .await
        .map_err(|e| sdk_error(format!("reading AMI ({ami})"), e))?;
    Ok(resp
        .images()
        .first()
        .and_then(|i| i.root_device_name())
        .unwrap_or("/dev/sda1")
        .to_string())
}

pub async fn update(c: &Clients, req: &UpdateRequest) -> Result<Value, ProviderError> {
    let (old, new) = (&req.prior, &req.planned);
    let id = attrs::id(old);
    let name = name_of(old);
    let what = |verb: &str| format!("{verb} EC2 instance ({name})");
    let new_type = attrs::string(new, "instance_type").unwrap_or_default();
    if attrs::string(old, "instance_type").as_deref() != Some(new_type.as_str()) {
        // AWS only changes the type of a stopped instance.
        c.ec2
            .stop_instances()
            .instance_ids(&id)
            .send()
            .await
            .map_err(|e| sdk_error(what("stopping"), e))?;
        wait_for(c, &id, &[InstanceStateName::Stopped]).await?;
        c.ec2
            .modify_instance_attribute()
            .instance_id(&id)
            .instance_type(AttributeValue::builder().value(&new_type).build())
            .send()
            .await
            .map_err(|e| sdk_error(what("changing the instance type of"), e))?;
        c.ec2
            .start_instances()
            .instance_ids(&id)
            .send()
            .await
            .map_err(|e| sdk_error(what("starting"), e))?;
        wait_for(c, &id, &[InstanceStateName::Running]).await?;
    }
    let groups = attrs::strings(new, "vpc_security_group_ids");
    if !groups.is_empty() && groups != attrs::strings(old, "vpc_security_group_ids") {
        c.ec2
            .modify_instance_attribute()
            .instance_id(&id)
            .set_groups(Some(groups))
            .send()
            .await
            .map_err(|e| sdk_error(what("changing the security groups of"), e))?;
    }
    let (om, nm) = (
        attrs::block(old, "metadata_options"),
        attrs::block(new, "metadata_options"),
    );
    if let Some(nm) = nm
        && om != Some(nm)
    {
        c.ec2
            .modify_instance_metadata_options()
            .instance_id(&id)
            .set_http_tokens(
                attrs::string(nm, "http_tokens").map(|t| HttpTokensState::from(t.as_str())),
            )
            .set_http_endpoint(
                attrs::string(nm, "http_endpoint")
                    .map(|t| InstanceMetadataEndpointState::from(t.as_str())),
            )
            .send()
            .await
            .map_err(|e| sdk_error(what("changing the metadata options of"), e))?;
    }
    let monitoring = attrs::boolean(new, "monitoring").unwrap_or(false);
    if attrs::boolean(old, "monitoring").unwrap_or(false) != monitoring {
        if monitoring {
            c.ec2
                .monitor_instances()
                .instance_ids(&id)
                .send()
                .await
                .map_err(|e| sdk_error(what("turning on the monitoring of"), e))?;
        } else {
            c.ec2
                .unmonitor_instances()
                .instance_ids(&id)
                .send()
                .await
                .map_err(|e| sdk_error(what("turning off the monitoring of"), e))?;
        }
    }
    if let (Some(or), Some(nr)) = (
        attrs::block(old, "root_block_device"),
        attrs::block(new, "root_block_device"),
    ) {
        let size = attrs::int(nr, "volume_size");
        let vtype = attrs::string(nr, "volume_type");
        if size != attrs::int(or, "volume_size") || vtype != attrs::string(or, "volume_type") {
            c.ec2
                .modify_volume()
                .volume_id(attrs::string(or, "volume_id").unwrap_or_default())
                .set_size(size.map(|s| s as i32))
                .set_volume_type(vtype.map(|t| VolumeType::from(t.as_str())))
                .send()
                .await
                .map_err(|e| sdk_error(what("resizing the root volume of"), e))?;
        }
    }
    update_tags(c, &id, &format!("EC2 instance ({name})"), old, new).await?;
    let mut state = read_one(c, &id)
        .await?
        .ok_or_else(|| ProviderError::api(format!("{}: it is gone", what("updating"))))?;
    set(
        &mut state,
        "user_data",
        attrs::get(new, "user_data").cloned().unwrap_or(Value::Null),
    );
    // A volume modification may still be under way; report what was asked for.
    if let Some(nr) = attrs::block(new, "root_block_device")
        && let Some(Value::List(items)) = attrs::get(&state, "root_block_device").cloned()
        && let Some(mut root) = items.into_iter().next()
    {
        for k in ["volume_size", "volume_type"] {
            if let Some(v) = attrs::get(nr, k) {
                set(&mut root, k, v.clone());
            }
        }
        set(&mut state, "root_block_device", Value::List(vec![root]));
    }
    Ok(state)
}

pub async fn delete(c: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
    let id = attrs::id(&req.prior);
    match c.ec2.terminate_instances().instance_ids(&id).send().await {
        Ok(_) => wait_for(c, &id, &[InstanceStateName::Terminated]).await,
        Err(e) => {
            let err = sdk_error(
                format!("terminating EC2 instance ({})", name_of(&req.prior)),
                e,
            );
            if err.kind == omniform_provider::ErrorKind::NotFound {
                Ok(())
            } else {
                Err(err)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        let config = Value::map([
            ("ami", Value::from("ubuntu-22.04")),
            ("instance_type", Value::from("large")),
            (
                "root_block_device",
                Value::List(vec![Value::map([
                    ("volume_size", Value::from(0)),
                    ("volume_type", Value::from("ssd")),
                ])]),
            ),
            (
                "metadata_options",
                Value::List(vec![Value::map([("http_tokens", Value::from("maybe"))])]),
            ),
        ]);
        let paths: Vec<String> = validate(&config)
            .iter()
            .map(|p| p.path.to_string())
            .collect();
        assert_eq!(
            paths,
            vec![
                "ami",
                "instance_type",
                "root_block_device[0].volume_size",
                "root_block_device[0].volume_type",
                "metadata_options[0].http_tokens"
            ]
        );
    }
}
