//! `aws_route53_record`: a DNS record set, plain (`ttl` and `records`) or an alias. Changes
//! that start together go to Route53 as one ChangeBatch per zone (UPSERT and DELETE), so a
//! stack of many records costs a few calls, not one per record. A new name or type
//! replaces the record.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use omniform_core::{AttrType, Attribute, InstanceAddress, ResourceSchema, Value};
use omniform_provider::{
    AttrProblem, CreateRequest, DeleteRequest, PlanRequest, PlanResponse, ProviderError,
    UpdateRequest,
};
use tokio::sync::oneshot;

use crate::attrs::{self, set};
use crate::client::{Clients, sdk_error};
use crate::route53_zone::short_id;
use crate::validate;

pub const TYPE: &str = "aws_route53_record";

const TYPES: &[&str] = &["A", "AAAA", "CNAME", "TXT", "MX", "NS"];

/// How long the first change for a zone waits for others to join its batch.
const BATCH_WINDOW: Duration = Duration::from_millis(20);

pub fn schema() -> ResourceSchema {
    ResourceSchema::new(
        TYPE,
        "A Route53 record set.",
        vec![
            Attribute::required("zone_id", AttrType::String).force_new(),
            Attribute::required("name", AttrType::String)
                .force_new()
                .describe("the full name, like www.example.com"),
            Attribute::required("type", AttrType::String)
                .force_new()
                .describe("A, AAAA, CNAME, TXT, MX or NS"),
            Attribute::optional("ttl", AttrType::Number),
            Attribute::optional("records", AttrType::list(AttrType::String)),
            Attribute::optional(
                "alias",
                AttrType::block(vec![
                    Attribute::required("name", AttrType::String),
                    Attribute::required("zone_id", AttrType::String),
                    Attribute::optional("evaluate_target_health", AttrType::Bool).default(false),
                ]),
            ),
            Attribute::computed("id", AttrType::String),
            Attribute::computed("fqdn", AttrType::String),
        ],
    )
}

pub fn validate(config: &Value) -> Vec<AttrProblem> {
    let mut out = Vec::new();
    if let Some(name) = attrs::string(config, "name") {
        validate::check_dns_name(&mut out, "name", &name);
    }
    let kind = attrs::string(config, "type");
    if let Some(t) = &kind
        && !TYPES.contains(&t.as_str())
    {
        out.push(validate::problem(
            "type",
            format!("unsupported record type {t:?}"),
            format!("use one of {}", TYPES.join(", ")),
        ));
    }
    if let Some(ttl) = attrs::int(config, "ttl")
        && !(0..=2_147_483_647).contains(&ttl)
    {
        out.push(validate::problem(
            "ttl",
            format!("ttl {ttl} is out of range"),
            "a TTL is 0 to 2147483647 seconds",
        ));
    }
    // Unknown values (references) count as given.
    let alias = attrs::get(config, "alias");
    let records = attrs::get(config, "records");
    match (alias, records) {
        (Some(_), Some(_)) => out.push(validate::problem(
            "alias",
            "a record has either `records` or an `alias`, not both",
            "remove records and ttl from an alias record",
        )),
        (Some(_), None) if attrs::get(config, "ttl").is_some() => out.push(validate::problem(
            "ttl",
            "an alias record has no ttl",
            "remove ttl; the alias target's TTL applies",
        )),
        (None, None) => out.push(validate::problem(
            "records",
            "a record needs `records` (with `ttl`) or an `alias`",
            "add records = [\"203.0.113.10\"] and ttl = 300",
        )),
        (None, Some(_)) if attrs::get(config, "ttl").is_none() => out.push(validate::problem(
            "ttl",
            "a record with `records` needs a `ttl`",
            "add ttl = 300",
        )),
        _ => {}
    }
    if let (Some(t), Some(items)) = (kind.as_deref(), records.and_then(Value::as_list)) {
        let texts: Vec<(usize, &str)> = items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.as_str().map(|s| (i, s)))
            .collect();
        for (i, s) in &texts {
            let path = format!("records[{i}]");
            match t {
                "A" if !validate::ipv4_ok(s) => out.push(validate::problem(
                    &path,
                    format!("{s:?} is not an IPv4 address, which an A record needs"),
                    "write it like 203.0.113.10, or use an AAAA record for IPv6",
                )),
                "AAAA" if !validate::ipv6_ok(s) => out.push(validate::problem(
                    &path,
                    format!("{s:?} is not an IPv6 address, which an AAAA record needs"),
                    "write it like 2001:db8::10, or use an A record for IPv4",
                )),
                "CNAME" | "NS" => validate::check_dns_name(&mut out, &path, s),
                "MX" => {
                    let ok = s.split_once(' ').is_some_and(|(p, host)| {
                        p.parse::<u16>().is_ok() && validate::dns_name_ok(host.trim())
                    });
                    if !ok {
                        out.push(validate::problem(
                            &path,
                            format!("{s:?} is not an MX value"),
                            "write the priority and the host, like \"10 mail.example.com\"",
                        ));
                    }
                }
                _ => {}
            }
        }
        if t == "CNAME" && items.len() != 1 {
            out.push(validate::problem(
                "records",
                format!("a CNAME record has exactly one value, not {}", items.len()),
                "keep one name in records",
            ));
        }
    }
    out
}

/// Names as Route53 keeps them: lower case, no trailing dot, `*` unescaped.
pub fn normal_name(name: &str) -> String {
    name.trim_end_matches('.')
        .replace("\\052", "*")
        .to_ascii_lowercase()
}

fn unquote(s: &str) -> String {
    s.strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(s)
        .to_string()
}

/// Names, record order and TXT quotes in one shape, so what is written and what Route53
/// reports compare equal.
pub fn plan(req: PlanRequest<'_>) -> PlanResponse {
    let mut planned = req.proposed;
    if let Some(name) = attrs::get(&planned, "name")
        .and_then(Value::as_str)
        .map(normal_name)
    {
        set(&mut planned, "name", Value::from(name));
    }
    let kind = attrs::string(&planned, "type").unwrap_or_default();
    if let Some(items) = attrs::get(&planned, "records").and_then(Value::as_list)
        && items.iter().all(Value::is_wholly_known)
    {
        let mut texts: Vec<String> = items
            .iter()
            .filter_map(|v| v.as_str())
            .map(|s| {
                if kind == "TXT" {
                    unquote(s)
                } else {
                    s.to_string()
                }
            })
            .collect();
        texts.sort();
        texts.dedup();
        set(&mut planned, "records", attrs::str_list(texts));
    }
    if let Some(Value::List(items)) = attrs::get(&planned, "alias").cloned() {
        let items = items
            .into_iter()
            .map(|mut a| {
                if let Some(n) = a
                    .get_path(&"name".parse().expect("a path"))
                    .and_then(Value::as_str)
                    .map(normal_name)
                {
                    set(&mut a, "name", Value::from(n));
                }
                a
            })
            .collect();
        set(&mut planned, "alias", Value::List(items));
    }
    PlanResponse::accept(planned)
}

fn record_id(zone: &str, name: &str, kind: &str) -> String {
    format!("{zone}_{name}_{kind}")
}

/// The record set a state value describes, as the API takes it.
fn to_sdk(v: &Value) -> Result<ResourceRecordSet, ProviderError> {
    let kind = attrs::string(v, "type").unwrap_or_default();
    let mut b = ResourceRecordSet::builder()
        .name(attrs::string(v, "name").unwrap_or_default())
        .r#type(RrType::from(kind.as_str()));
    if let Some(alias) = attrs::block(v, "alias") {
        b = b.alias_target(
            AliasTarget::builder()
                .dns_name(attrs::string(alias, "name").unwrap_or_default())
                .hosted_zone_id(attrs::string(alias, "zone_id").unwrap_or_default())
                .evaluate_target_health(
                    attrs::boolean(alias, "evaluate_target_health").unwrap_or(false),
                )
                .build()
                .map_err(|e| ProviderError::api(format!("building an alias record: {e}")))?,
        );
    } else {
        b = b.set_ttl(attrs::int(v, "ttl"));
        for r in attrs::strings(v, "records") {
            let value = if kind == "TXT" && !r.starts_with('"') {
                format!("\"{r}\"")
            } else {
                r
            };
            b = b.resource_records(
                ResourceRecord::builder()
                    .value(value)
                    .build()
                    .map_err(|e| ProviderError::api(format!("building a record: {e}")))?,
            );
        }
    }
    b.build()
        .map_err(|e| ProviderError::api(format!("building a record set: {e}")))
}

fn from_sdk(zone: &str, r: &ResourceRecordSet) -> Value {
    let name = normal_name(r.name());
    let kind = r.r#type().as_str().to_string();
    let mut v = Value::map([
        ("id", Value::from(record_id(zone, &name, &kind))),
        ("fqdn", Value::from(name.as_str())),
        ("zone_id", Value::from(zone)),
        ("name", Value::from(name.as_str())),
        ("type", Value::from(kind.as_str())),
    ]);
    match r.alias_target() {
        Some(a) => set(
            &mut v,
            "alias",
            Value::List(vec![Value::map([
                ("name", Value::from(normal_name(a.dns_name()))),
                ("zone_id", Value::from(a.hosted_zone_id())),
                (
                    "evaluate_target_health",
                    Value::from(a.evaluate_target_health()),
                ),
            ])]),
        ),
        None => {
            let mut records: Vec<String> = r
                .resource_records()
                .iter()
                .map(|x| {
                    if kind == "TXT" {
                        unquote(x.value())
                    } else {
                        x.value().to_string()
                    }
                })
                .collect();
            records.sort();
            set(&mut v, "records", attrs::str_list(records));
            set(
                &mut v,
                "ttl",
                r.ttl().map(Value::from).unwrap_or(Value::Null),
            );
        }
    }
    v
}

/// Every record set of a zone (Route53 pages by name and type, up to 300 a call).
pub async fn list_zone(c: &Clients, zone: &str) -> Result<Vec<ResourceRecordSet>, ProviderError> {
    let mut out = Vec::new();
    let (mut name, mut kind) = (None, None);
    loop {
        let resp = c
            .route53
            .list_resource_record_sets()
            .hosted_zone_id(zone)
            .set_start_record_name(name)
            .set_start_record_type(kind)
            .send()
            .await
            .map_err(|e| {
                sdk_error(
                    format!("listing the records of Route53 hosted zone ({zone})"),
                    e,
                )
            })?;
        out.extend(resp.resource_record_sets().iter().cloned());
        if !resp.is_truncated() {
            break;
        }
        name = resp.next_record_name().map(str::to_string);
        kind = resp.next_record_type().cloned();
        if name.is_none() {
            break;
        }
    }
    Ok(out)
}

pub async fn read(
    c: &Clients,
    instances: &[(InstanceAddress, Value)],
) -> Result<Vec<Option<Value>>, ProviderError> {
    let mut zones: BTreeMap<String, HashMap<(String, String), Value>> = BTreeMap::new();
    for (_, v) in instances {
        zones
            .entry(short_id(&attrs::string(v, "zone_id").unwrap_or_default()).to_string())
            .or_default();
    }
    for (zone, found) in &mut zones {
        let listed = match list_zone(c, zone).await {
            Ok(l) => l,
            // A zone that is gone takes its records with it.
            Err(e) if e.kind == omniform_provider::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        for r in &listed {
            let v = from_sdk(zone, r);
            found.insert(
                (
                    attrs::string(&v, "name").unwrap_or_default(),
                    attrs::string(&v, "type").unwrap_or_default(),
                ),
                v,
            );
        }
    }
    Ok(instances
        .iter()
        .map(|(_, v)| {
            let zone = short_id(&attrs::string(v, "zone_id").unwrap_or_default()).to_string();
            let key = (
                normal_name(&attrs::string(v, "name").unwrap_or_default()),
                attrs::string(v, "type").unwrap_or_default(),
            );
            zones
                .get(&zone)?
                .get(&key)
                .map(|live| attrs::overlay(v, live.clone()))
        })
        .collect())
}

pub async fn import(c: &Clients, id: &str) -> Result<Option<Value>, ProviderError> {
    let mut parts = id.splitn(3, '_');
    let (Some(zone), Some(name), Some(kind)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(ProviderError::api(format!(
            "importing Route53 record ({id}): the id is ZONEID_NAME_TYPE, like Z123_www.example.com_A"
        )));
    };
    Ok(list_zone(c, zone)
        .await?
        .iter()
        .map(|r| from_sdk(zone, r))
        .find(|v| {
            attrs::string(v, "name").as_deref() == Some(normal_name(name).as_str())
                && attrs::string(v, "type").as_deref() == Some(kind)
        }))
}

type Waiter = oneshot::Sender<Result<(), ProviderError>>;

/// Collects the record changes that start together into one ChangeBatch per zone.
#[derive(Debug, Default)]
pub struct Batcher {
    pending: Mutex<HashMap<String, Vec<(Change, Waiter)>>>,
}

impl Batcher {
    async fn submit(&self, c: &Clients, zone: &str, change: Change) -> Result<(), ProviderError> {
        let (tx, rx) = oneshot::channel();
        let first = {
            let mut pending = self.pending.lock().expect("batches");
            let list = pending.entry(zone.to_string()).or_default();
            list.push((change, tx));
            list.len() == 1
        };
        if first {
            // This change sends the batch, after giving the changes started with it time to
            // join.
            tokio::time::sleep(BATCH_WINDOW).await;
            let batch = self
                .pending
                .lock()
                .expect("batches")
                .remove(zone)
                .unwrap_or_default();
            let (changes, waiters): (Vec<Change>, Vec<Waiter>) = batch.into_iter().unzip();
            let result = send(c, zone, changes).await;
            for w in waiters {
                let _ = w.send(result.clone());
            }
        }
        rx.await
            .unwrap_or_else(|_| Err(ProviderError::api("a Route53 change batch was dropped")))
    }
}

/// Route53 takes at most 1,000 changes per ChangeBatch.
const MAX_BATCH: usize = 1000;

async fn send(c: &Clients, zone: &str, changes: Vec<Change>) -> Result<(), ProviderError> {
    for part in crate::client::chunks(&changes, MAX_BATCH) {
        send_one(c, zone, part).await?;
    }
    Ok(())
}

async fn send_one(c: &Clients, zone: &str, changes: Vec<Change>) -> Result<(), ProviderError> {
    let n = changes.len();
    let batch = ChangeBatch::builder()
        .comment("omniform")
        .set_changes(Some(changes))
        .build()
        .map_err(|e| ProviderError::api(format!("building a change batch for zone {zone}: {e}")))?;
    c.route53
        .change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(batch)
        .send()
        .await
        .map_err(|e| {
            sdk_error(
                format!("changing {n} records in Route53 hosted zone ({zone})"),
                e,
            )
        })?;
    Ok(())
}

fn change(action: ChangeAction, v: &Value) -> Result<Change, ProviderError> {
    Change::builder()
        .action(action)
        .resource_record_set(to_sdk(v)?)
        .build()
        .map_err(|e| ProviderError::api(format!("building a record change: {e}")))
}

fn state_of(planned: &Value) -> Value {
    let mut v = planned.clone();
    let zone = short_id(&attrs::string(planned, "zone_id").unwrap_or_default()).to_string();
    let name = normal_name(&attrs::string(planned, "name").unwrap_or_default());
    let kind = attrs::string(planned, "type").unwrap_or_default();
    set(&mut v, "zone_id", Value::from(zone.as_str()));
    set(&mut v, "id", Value::from(record_id(&zone, &name, &kind)));
    set(&mut v, "fqdn", Value::from(name));
    v
}

pub async fn create(
    c: &Clients,
    batcher: &Batcher,
    req: &CreateRequest,
) -> Result<Value, ProviderError> {
    let state = state_of(&req.planned);
    let zone = attrs::string(&state, "zone_id").unwrap_or_default();
    batcher
        .submit(c, &zone, change(ChangeAction::Upsert, &state)?)
        .await
        .map_err(|e| {
            ProviderError::new(
                e.kind,
                format!("creating Route53 record ({}): {}", req.address, e.message),
            )
        })?;
    Ok(state)
}

pub async fn update(
    c: &Clients,
    batcher: &Batcher,
    req: &UpdateRequest,
) -> Result<Value, ProviderError> {
    let state = state_of(&req.planned);
    let zone = attrs::string(&state, "zone_id").unwrap_or_default();
    // An alias and a plain record of the same name and type cannot both be kept: UPSERT
    // replaces whichever is there.
    batcher
        .submit(c, &zone, change(ChangeAction::Upsert, &state)?)
        .await
        .map_err(|e| {
            ProviderError::new(
                e.kind,
                format!("updating Route53 record ({}): {}", req.address, e.message),
            )
        })?;
    Ok(state)
}

pub async fn delete(
    c: &Clients,
    batcher: &Batcher,
    req: &DeleteRequest,
) -> Result<(), ProviderError> {
    let zone = short_id(&attrs::string(&req.prior, "zone_id").unwrap_or_default()).to_string();
    match batcher
        .submit(c, &zone, change(ChangeAction::Delete, &req.prior)?)
        .await
    {
        Ok(()) => Ok(()),
        // Already gone (or its zone is).
        Err(e)
            if e.kind == omniform_provider::ErrorKind::NotFound
                || e.message.contains("not found") =>
        {
            Ok(())
        }
        Err(e) => Err(ProviderError::new(
            e.kind,
            format!("deleting Route53 record ({}): {}", req.address, e.message),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: &str, records: &[&str]) -> Value {
        Value::map([
            ("zone_id", Value::from("Z1")),
            ("name", Value::from("www.example.com")),
            ("type", Value::from(kind)),
            ("ttl", Value::from(300)),
            ("records", attrs::str_list(records.iter().copied())),
        ])
    }

    fn problems(v: &Value) -> Vec<String> {
        validate(v)
            .iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect()
    }

    #[test]
    fn record_values_match_their_type() {
        assert!(problems(&record("A", &["203.0.113.10"])).is_empty());
        assert_eq!(
            problems(&record("A", &["2001:db8::1"])),
            vec!["records[0]: \"2001:db8::1\" is not an IPv4 address, which an A record needs"]
        );
        assert_eq!(problems(&record("AAAA", &["203.0.113.10"])).len(), 1);
        assert_eq!(
            problems(&record("CNAME", &["a.example.com", "b.example.com"])),
            vec!["records: a CNAME record has exactly one value, not 2"]
        );
        assert_eq!(problems(&record("MX", &["mail.example.com"])).len(), 1);
        assert!(problems(&record("MX", &["10 mail.example.com"])).is_empty());
        assert_eq!(
            problems(&record("SRV", &["x"])),
            vec!["type: unsupported record type \"SRV\""]
        );
        let mut bad_ttl = record("A", &["203.0.113.10"]);
        set(&mut bad_ttl, "ttl", Value::from(-5));
        assert_eq!(problems(&bad_ttl), vec!["ttl: ttl -5 is out of range"]);
    }

    #[test]
    fn names_are_normalised() {
        assert_eq!(normal_name("WWW.Example.com."), "www.example.com");
        assert_eq!(normal_name("\\052.example.com."), "*.example.com");
    }
}
