//! `aws_security_group`: a VPC security group with inline ingress and egress rules. Rule
//! changes are made in place (revoke, then authorize); a new name or description replaces
//! the group. As in Terraform, the rules are exactly those written: the allow-all egress
//! rule AWS adds to a new group is removed unless the stack has it.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, Ipv6Range, ResourceType, SecurityGroup, Tag, TagSpecification,
};
use omniform_core::{AttrType, Attribute, ResourceSchema, Value};
use omniform_provider::{
    AttrProblem, CreateRequest, DeleteRequest, PlanRequest, PlanResponse, ProviderError,
    UpdateRequest,
};

use crate::attrs::{self, set};
use crate::client::{Clients, chunks, sdk_error};
use crate::validate;

pub const TYPE: &str = "aws_security_group";

fn rule() -> Vec<Attribute> {
    vec![
        Attribute::required("from_port", AttrType::Number),
        Attribute::required("to_port", AttrType::Number),
        Attribute::required("protocol", AttrType::String)
            .describe("tcp, udp, icmp, icmpv6, -1 (all) or a number"),
        Attribute::optional("cidr_blocks", AttrType::list(AttrType::String)),
        Attribute::optional("ipv6_cidr_blocks", AttrType::list(AttrType::String)),
        Attribute::optional("description", AttrType::String),
    ]
}

pub fn schema() -> ResourceSchema {
    ResourceSchema::new(
        TYPE,
        "A VPC security group and its rules.",
        vec![
            Attribute::required("name", AttrType::String).force_new(),
            Attribute::optional("description", AttrType::String)
                .default("Managed by Omniform")
                .force_new(),
            Attribute::optional_computed("vpc_id", AttrType::String)
                .force_new()
                .describe("the default VPC when left out"),
            Attribute::optional("ingress", AttrType::block(rule())),
            Attribute::optional("egress", AttrType::block(rule())),
            Attribute::optional("tags", AttrType::map(AttrType::String)),
            Attribute::computed("id", AttrType::String),
            Attribute::computed("arn", AttrType::String),
            Attribute::computed("owner_id", AttrType::String),
        ],
    )
}

pub fn validate(config: &Value) -> Vec<AttrProblem> {
    let mut out = Vec::new();
    if let Some(name) = attrs::string(config, "name")
        && (name.is_empty() || name.len() > 255 || name.starts_with("sg-"))
    {
        out.push(validate::problem(
            "name",
            format!("{name:?} is not a valid security group name"),
            "use 1 to 255 characters, not starting with sg-",
        ));
    }
    for kind in ["ingress", "egress"] {
        for (i, r) in attrs::blocks(config, kind).iter().enumerate() {
            let path = format!("{kind}[{i}]");
            let proto = attrs::string(r, "protocol").unwrap_or_default();
            if attrs::get(r, "protocol").is_some_and(|p| !p.is_unknown()) {
                validate::check_protocol(&mut out, &format!("{path}.protocol"), &proto);
            }
            if let (Some(from), Some(to)) = (attrs::int(r, "from_port"), attrs::int(r, "to_port")) {
                validate::check_ports(&mut out, &path, &proto, from, to);
            }
            for (list, v6) in [("cidr_blocks", false), ("ipv6_cidr_blocks", true)] {
                if let Some(items) = attrs::get(r, list).and_then(Value::as_list) {
                    for (j, c) in items.iter().enumerate() {
                        if let Some(c) = c.as_str() {
                            validate::check_cidr(&mut out, &format!("{path}.{list}[{j}]"), c, v6);
                        }
                    }
                }
            }
        }
    }
    out
}

/// A rule in its one canonical shape, so what is written and what AWS reports compare equal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Rule {
    protocol: String,
    from: i64,
    to: i64,
    description: Option<String>,
    cidrs: Vec<String>,
    cidrs6: Vec<String>,
}

impl Rule {
    fn from_value(v: &Value) -> Option<Rule> {
        let protocol = validate::protocol(&attrs::string(v, "protocol")?)?;
        let all = protocol == "-1";
        Some(Rule {
            from: if all { 0 } else { attrs::int(v, "from_port")? },
            to: if all { 0 } else { attrs::int(v, "to_port")? },
            protocol,
            description: attrs::string(v, "description").filter(|d| !d.is_empty()),
            cidrs: attrs::strings(v, "cidr_blocks"),
            cidrs6: attrs::strings(v, "ipv6_cidr_blocks"),
        })
    }

    fn to_value(&self) -> Value {
        Value::map([
            ("from_port", Value::from(self.from)),
            ("to_port", Value::from(self.to)),
            ("protocol", Value::from(self.protocol.as_str())),
            ("cidr_blocks", attrs::str_list(self.cidrs.clone())),
            ("ipv6_cidr_blocks", attrs::str_list(self.cidrs6.clone())),
            ("description", attrs::opt_str(self.description.as_deref())),
        ])
    }

    fn to_sdk(&self) -> IpPermission {
        let mut b = IpPermission::builder().ip_protocol(&self.protocol);
        if self.protocol != "-1" {
            b = b.from_port(self.from as i32).to_port(self.to as i32);
        }
        for c in &self.cidrs {
            b = b.ip_ranges(
                IpRange::builder()
                    .cidr_ip(c)
                    .set_description(self.description.clone())
                    .build(),
            );
        }
        for c in &self.cidrs6 {
            b = b.ipv6_ranges(
                Ipv6Range::builder()
                    .cidr_ipv6(c)
                    .set_description(self.description.clone())
                    .build(),
            );
        }
        b.build()
    }
}

/// Protocol, ports and description: what AWS keeps a rule's addresses under.
type RuleKey = (String, i64, i64, Option<String>);

/// Merges rules with the same protocol, ports and description (AWS keeps them as one) and
/// sorts everything.
fn canonical(rules: impl IntoIterator<Item = Rule>) -> Vec<Rule> {
    let mut merged: BTreeMap<RuleKey, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for r in rules {
        let e = merged
            .entry((r.protocol, r.from, r.to, r.description))
            .or_default();
        e.0.extend(r.cidrs);
        e.1.extend(r.cidrs6);
    }
    merged
        .into_iter()
        .map(
            |((protocol, from, to, description), (mut cidrs, mut cidrs6))| {
                cidrs.sort();
                cidrs.dedup();
                cidrs6.sort();
                cidrs6.dedup();
                Rule {
                    protocol,
                    from,
                    to,
                    description,
                    cidrs,
                    cidrs6,
                }
            },
        )
        .collect()
}

fn rules_value(rules: &[Rule]) -> Value {
    if rules.is_empty() {
        Value::Null
    } else {
        Value::List(rules.iter().map(Rule::to_value).collect())
    }
}

fn rules_of(v: &Value, kind: &str) -> Vec<Rule> {
    canonical(attrs::blocks(v, kind).iter().filter_map(Rule::from_value))
}

/// Rules in canonical form, so a reordered or regrouped stack is no change.
pub fn plan(req: PlanRequest<'_>) -> PlanResponse {
    let mut planned = req.proposed;
    for kind in ["ingress", "egress"] {
        let known = attrs::blocks(&planned, kind)
            .iter()
            .all(Value::is_wholly_known);
        if known {
            let rules = rules_of(&planned, kind);
            set(&mut planned, kind, rules_value(&rules));
        }
    }
    PlanResponse::accept(planned)
}

fn rules_from_sdk(perms: &[IpPermission]) -> Vec<Rule> {
    let mut out = Vec::new();
    for p in perms {
        let protocol =
            validate::protocol(p.ip_protocol().unwrap_or("-1")).unwrap_or_else(|| "-1".into());
        let all = protocol == "-1";
        let from = if all {
            0
        } else {
            p.from_port().unwrap_or(0) as i64
        };
        let to = if all {
            0
        } else {
            p.to_port().unwrap_or(0) as i64
        };
        for r in p.ip_ranges() {
            out.push(Rule {
                protocol: protocol.clone(),
                from,
                to,
                description: r
                    .description()
                    .filter(|d| !d.is_empty())
                    .map(str::to_string),
                cidrs: r.cidr_ip().map(|c| vec![c.to_string()]).unwrap_or_default(),
                cidrs6: vec![],
            });
        }
        for r in p.ipv6_ranges() {
            out.push(Rule {
                protocol: protocol.clone(),
                from,
                to,
                description: r
                    .description()
                    .filter(|d| !d.is_empty())
                    .map(str::to_string),
                cidrs: vec![],
                cidrs6: r
                    .cidr_ipv6()
                    .map(|c| vec![c.to_string()])
                    .unwrap_or_default(),
            });
        }
    }
    canonical(out)
}

fn tags_of(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
        .collect()
}

fn to_state(c: &Clients, sg: &SecurityGroup) -> Value {
    let id = sg.group_id().unwrap_or_default();
    let owner = sg.owner_id().unwrap_or_default();
    Value::map([
        ("id", Value::from(id)),
        (
            "arn",
            Value::from(format!(
                "arn:aws:ec2:{}:{owner}:security-group/{id}",
                c.region
            )),
        ),
        ("owner_id", Value::from(owner)),
        ("name", attrs::opt_str(sg.group_name())),
        ("description", attrs::opt_str(sg.description())),
        ("vpc_id", attrs::opt_str(sg.vpc_id())),
        ("ingress", rules_value(&rules_from_sdk(sg.ip_permissions()))),
        (
            "egress",
            rules_value(&rules_from_sdk(sg.ip_permissions_egress())),
        ),
        ("tags", attrs::tags_value(tags_of(sg.tags()))),
    ])
}

/// The groups with these ids that exist, at most 200 ids per call.
async fn describe(
    c: &Clients,
    ids: &[String],
) -> Result<BTreeMap<String, SecurityGroup>, ProviderError> {
    let mut out = BTreeMap::new();
    for chunk in chunks(ids, 200) {
        let mut token = None;
        loop {
            let resp = c
                .ec2
                .describe_security_groups()
                .filters(
                    Filter::builder()
                        .name("group-id")
                        .set_values(Some(chunk.clone()))
                        .build(),
                )
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| sdk_error("reading security groups", e))?;
            for sg in resp.security_groups() {
                if let Some(id) = sg.group_id() {
                    out.insert(id.to_string(), sg.clone());
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

pub async fn read(
    c: &Clients,
    instances: &[(omniform_core::InstanceAddress, Value)],
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
                .map(|sg| attrs::overlay(v, to_state(c, sg)))
        })
        .collect())
}

pub async fn import(c: &Clients, id: &str) -> Result<Option<Value>, ProviderError> {
    Ok(describe(c, &[id.to_string()])
        .await?
        .get(id)
        .map(|sg| to_state(c, sg)))
}

async fn default_vpc(c: &Clients) -> Result<String, ProviderError> {
    let resp = c
        .ec2
        .describe_vpcs()
        .filters(Filter::builder().name("is-default").values("true").build())
        .send()
        .await
        .map_err(|e| sdk_error("finding the default VPC", e))?;
    resp.vpcs()
        .first()
        .and_then(|v| v.vpc_id())
        .map(str::to_string)
        .ok_or_else(|| {
            ProviderError::api("finding the default VPC: this region has none; set vpc_id")
        })
}

async fn change_rules(
    c: &Clients,
    name: &str,
    id: &str,
    egress: bool,
    revoke: Vec<Rule>,
    authorize: Vec<Rule>,
) -> Result<(), ProviderError> {
    let kind = if egress { "egress" } else { "ingress" };
    if !revoke.is_empty() {
        let perms: Vec<IpPermission> = revoke.iter().map(Rule::to_sdk).collect();
        let what = format!("revoking {kind} rules of security group ({name})");
        if egress {
            c.ec2
                .revoke_security_group_egress()
                .group_id(id)
                .set_ip_permissions(Some(perms))
                .send()
                .await
                .map_err(|e| sdk_error(what, e))?;
        } else {
            c.ec2
                .revoke_security_group_ingress()
                .group_id(id)
                .set_ip_permissions(Some(perms))
                .send()
                .await
                .map_err(|e| sdk_error(what, e))?;
        }
    }
    if !authorize.is_empty() {
        let perms: Vec<IpPermission> = authorize.iter().map(Rule::to_sdk).collect();
        let what = format!("authorizing {kind} rules of security group ({name})");
        if egress {
            c.ec2
                .authorize_security_group_egress()
                .group_id(id)
                .set_ip_permissions(Some(perms))
                .send()
                .await
                .map_err(|e| sdk_error(what, e))?;
        } else {
            c.ec2
                .authorize_security_group_ingress()
                .group_id(id)
                .set_ip_permissions(Some(perms))
                .send()
                .await
                .map_err(|e| sdk_error(what, e))?;
        }
    }
    Ok(())
}

fn difference(a: &[Rule], b: &[Rule]) -> Vec<Rule> {
    a.iter().filter(|r| !b.contains(r)).cloned().collect()
}

async fn read_back(c: &Clients, id: &str, name: &str) -> Result<Value, ProviderError> {
    describe(c, &[id.to_string()])
        .await?
        .get(id)
        .map(|sg| to_state(c, sg))
        .ok_or_else(|| {
            ProviderError::api(format!(
                "reading security group ({name}) after writing it: it is gone"
            ))
        })
}

pub async fn create(c: &Clients, req: &CreateRequest) -> Result<Value, ProviderError> {
    let p = &req.planned;
    let name = attrs::string(p, "name").unwrap_or_default();
    let vpc = match attrs::string(p, "vpc_id") {
        Some(v) => v,
        None => default_vpc(c).await?,
    };
    let tags = attrs::string_map(p, "tags");
    let mut call = c
        .ec2
        .create_security_group()
        .group_name(&name)
        .description(
            attrs::string(p, "description").unwrap_or_else(|| "Managed by Omniform".into()),
        )
        .vpc_id(&vpc);
    if !tags.is_empty() {
        let mut spec = TagSpecification::builder().resource_type(ResourceType::SecurityGroup);
        for (k, v) in &tags {
            spec = spec.tags(Tag::builder().key(k).value(v).build());
        }
        call = call.tag_specifications(spec.build());
    }
    let id = call
        .send()
        .await
        .map_err(|e| sdk_error(format!("creating security group ({name})"), e))?
        .group_id()
        .unwrap_or_default()
        .to_string();
    // The new group has AWS's default egress rule; make the rules exactly the stack's.
    let current = read_back(c, &id, &name).await?;
    let (want_in, want_out) = (rules_of(p, "ingress"), rules_of(p, "egress"));
    let (have_in, have_out) = (rules_of(&current, "ingress"), rules_of(&current, "egress"));
    change_rules(
        c,
        &name,
        &id,
        false,
        difference(&have_in, &want_in),
        difference(&want_in, &have_in),
    )
    .await?;
    change_rules(
        c,
        &name,
        &id,
        true,
        difference(&have_out, &want_out),
        difference(&want_out, &have_out),
    )
    .await?;
    read_back(c, &id, &name).await
}

pub async fn update(c: &Clients, req: &UpdateRequest) -> Result<Value, ProviderError> {
    let (old, new) = (&req.prior, &req.planned);
    let id = attrs::id(old);
    let name = attrs::string(new, "name").unwrap_or_default();
    for (kind, egress) in [("ingress", false), ("egress", true)] {
        let (have, want) = (rules_of(old, kind), rules_of(new, kind));
        change_rules(
            c,
            &name,
            &id,
            egress,
            difference(&have, &want),
            difference(&want, &have),
        )
        .await?;
    }
    update_tags(c, &id, &format!("security group ({name})"), old, new).await?;
    read_back(c, &id, &name).await
}

/// Makes the tags of an EC2 resource those of `new`.
pub async fn update_tags(
    c: &Clients,
    id: &str,
    what: &str,
    old: &Value,
    new: &Value,
) -> Result<(), ProviderError> {
    let (have, want) = (
        attrs::string_map(old, "tags"),
        attrs::string_map(new, "tags"),
    );
    let gone: Vec<Tag> = have
        .keys()
        .filter(|k| !want.contains_key(*k))
        .map(|k| Tag::builder().key(k).build())
        .collect();
    if !gone.is_empty() {
        c.ec2
            .delete_tags()
            .resources(id)
            .set_tags(Some(gone))
            .send()
            .await
            .map_err(|e| sdk_error(format!("removing tags of {what}"), e))?;
    }
    let changed: Vec<Tag> = want
        .iter()
        .filter(|(k, v)| have.get(*k) != Some(v))
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    if !changed.is_empty() {
        c.ec2
            .create_tags()
            .resources(id)
            .set_tags(Some(changed))
            .send()
            .await
            .map_err(|e| sdk_error(format!("tagging {what}"), e))?;
    }
    Ok(())
}

/// How long a group that is still in use (by an instance being terminated) is waited for.
const DELETE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

pub async fn delete(c: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
    let id = attrs::id(&req.prior);
    let name = attrs::string(&req.prior, "name").unwrap_or_default();
    let started = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(500);
    loop {
        match c.ec2.delete_security_group().group_id(&id).send().await {
            Ok(_) => return Ok(()),
            Err(e) => {
                let err = sdk_error(format!("deleting security group ({name})"), e);
                if err.kind == omniform_provider::ErrorKind::NotFound {
                    return Ok(());
                }
                // Still attached to something that is going away: wait, within the timeout.
                if err.message.contains("DependencyViolation") && started.elapsed() < DELETE_TIMEOUT
                {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(std::time::Duration::from_secs(15));
                    continue;
                }
                return Err(err);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(proto: &str, from: i64, to: i64, cidrs: &[&str], desc: Option<&str>) -> Value {
        Value::map([
            ("protocol", Value::from(proto)),
            ("from_port", Value::from(from)),
            ("to_port", Value::from(to)),
            ("cidr_blocks", attrs::str_list(cidrs.iter().copied())),
            ("description", attrs::opt_str(desc)),
        ])
    }

    #[test]
    fn rules_are_canonical() {
        let a = Value::map([(
            "ingress",
            Value::List(vec![
                rule("TCP", 443, 443, &["10.0.0.0/8"], Some("https")),
                rule("6", 443, 443, &["0.0.0.0/0"], Some("https")),
                rule("all", -1, -1, &["1.2.3.4/32"], None),
            ]),
        )]);
        let rules = rules_of(&a, "ingress");
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].protocol, "-1");
        assert_eq!((rules[0].from, rules[0].to), (0, 0));
        assert_eq!(rules[1].cidrs, vec!["0.0.0.0/0", "10.0.0.0/8"]);
        let b = Value::map([(
            "ingress",
            Value::List(vec![
                rule("tcp", 443, 443, &["0.0.0.0/0", "10.0.0.0/8"], Some("https")),
                rule("-1", 0, 0, &["1.2.3.4/32"], None),
            ]),
        )]);
        assert_eq!(rules_of(&b, "ingress"), rules);
    }

    #[test]
    fn validation_names_the_rule() {
        let config = Value::map([
            ("name", Value::from("web")),
            (
                "ingress",
                Value::List(vec![
                    rule("tcp", 80, 80, &["0.0.0.0/0"], None),
                    rule("tcpp", 443, 80, &["10.0.0.0/33"], None),
                ]),
            ),
        ]);
        let problems: Vec<String> = validate(&config)
            .iter()
            .map(|p| p.path.to_string())
            .collect();
        assert_eq!(
            problems,
            vec![
                "ingress[1].protocol",
                "ingress[1].from_port",
                "ingress[1].cidr_blocks[0]"
            ]
        );
    }
}
