use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use omniform::{Action, ActionReason, Value};

use crate::support::{Moto, action, apply_ok, assert_no_changes, stack};

fn dns(comment: &str, ttl: i64, www: &str) -> String {
    stack(&format!(
        r#"
[resource.aws_route53_zone.main]
name = "example.test"
comment = "{comment}"

[resource.aws_route53_record.apex]
zone_id = "${{aws_route53_zone.main.zone_id}}"
name = "example.test"
type = "A"
ttl = {ttl}
records = ["203.0.113.10", "203.0.113.11"]

[resource.aws_route53_record.apex6]
zone_id = "${{aws_route53_zone.main.zone_id}}"
name = "example.test"
type = "AAAA"
ttl = 300
records = ["2001:db8::10"]

[resource.aws_route53_record.www]
zone_id = "${{aws_route53_zone.main.zone_id}}"
name = "{www}.example.test"
type = "CNAME"
ttl = 300
records = ["example.test"]

[resource.aws_route53_record.spf]
zone_id = "${{aws_route53_zone.main.zone_id}}"
name = "example.test"
type = "TXT"
ttl = 300
records = ["v=spf1 -all"]

[resource.aws_route53_record.mail]
zone_id = "${{aws_route53_zone.main.zone_id}}"
name = "example.test"
type = "MX"
ttl = 300
records = ["10 mail.example.test"]

[resource.aws_route53_record.api]
zone_id = "${{aws_route53_zone.main.zone_id}}"
name = "api.example.test"
type = "A"
alias = {{ name = "example.test", zone_id = "${{aws_route53_zone.main.zone_id}}", evaluate_target_health = false }}
"#
    ))
}

/// Record sets other than the zone's own SOA and NS.
async fn records(m: &Moto, zone: &str) -> Vec<ResourceRecordSet> {
    let resp = m
        .sdk
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .unwrap();
    resp.resource_record_sets()
        .iter()
        .filter(|r| !matches!(r.r#type(), RrType::Soa | RrType::Ns))
        .cloned()
        .collect()
}

fn count(ops: &[String], op: &str) -> usize {
    ops.iter().filter(|o| *o == op).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zone_and_records_lifecycle() {
    let m = Moto::new().await;
    let lab = &m.lab;

    apply_ok(lab, &dns("a", 300, "www")).await;
    let zone = lab
        .attr("aws_route53_zone.main", "zone_id")
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        lab.attr("aws_route53_zone.main", "name_servers")
            .as_list()
            .unwrap()
            .len(),
        4
    );
    assert_eq!(records(&m, &zone).await.len(), 6);
    // Six records, ready together, went in one ChangeBatch.
    assert_eq!(
        count(&m.operations(), "ChangeResourceRecordSets"),
        1,
        "{:?}",
        m.operations()
    );
    assert_eq!(
        lab.attr("aws_route53_record.www", "fqdn"),
        Value::from("www.example.test")
    );
    assert_eq!(
        lab.attr("aws_route53_record.apex", "id"),
        Value::from(format!("{zone}_example.test_A"))
    );
    assert_no_changes(lab, &dns("a", 300, "www")).await;

    // Updates in place: the zone's comment and a record's TTL.
    let plan = lab.plan(&dns("b", 600, "www")).await.unwrap();
    assert_eq!(action(&plan, "aws_route53_zone.main"), Action::Update);
    assert_eq!(action(&plan, "aws_route53_record.apex"), Action::Update);
    apply_ok(lab, &dns("b", 600, "www")).await;
    assert_eq!(
        lab.attr("aws_route53_zone.main", "zone_id")
            .as_str()
            .unwrap(),
        zone
    );
    let apex = records(&m, &zone)
        .await
        .into_iter()
        .find(|r| r.r#type() == &RrType::A && r.alias_target().is_none())
        .unwrap();
    assert_eq!(apex.ttl(), Some(600));
    assert_no_changes(lab, &dns("b", 600, "www")).await;

    // Drift: the A record changed outside is put back.
    let outside = ResourceRecordSet::builder()
        .name("example.test.")
        .r#type(RrType::A)
        .ttl(600)
        .resource_records(
            ResourceRecord::builder()
                .value("198.51.100.1")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let batch = ChangeBatch::builder()
        .changes(
            Change::builder()
                .action(ChangeAction::Upsert)
                .resource_record_set(outside)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    m.sdk
        .route53
        .change_resource_record_sets()
        .hosted_zone_id(&zone)
        .change_batch(batch)
        .send()
        .await
        .unwrap();
    let plan = lab.plan(&dns("b", 600, "www")).await.unwrap();
    assert_eq!(
        plan.drift
            .iter()
            .map(|d| d.address.to_string())
            .collect::<Vec<_>>(),
        vec!["aws_route53_record.apex"]
    );
    assert_eq!(action(&plan, "aws_route53_record.apex"), Action::Update);
    apply_ok(lab, &dns("b", 600, "www")).await;
    assert_eq!(
        lab.attr("aws_route53_record.apex", "records"),
        Value::from(vec!["203.0.113.10", "203.0.113.11"])
    );

    // A new name replaces the record.
    let plan = lab.plan(&dns("b", 600, "www2")).await.unwrap();
    assert_eq!(
        action(&plan, "aws_route53_record.www"),
        Action::DeleteThenCreate
    );
    apply_ok(lab, &dns("b", 600, "www2")).await;
    let names: Vec<String> = records(&m, &zone)
        .await
        .iter()
        .map(|r| r.name().to_string())
        .collect();
    assert!(
        names.iter().any(|n| n.starts_with("www2."))
            && !names.iter().any(|n| n.starts_with("www.")),
        "{names:?}"
    );

    // Deleted outside: made again.
    let www = records(&m, &zone)
        .await
        .into_iter()
        .find(|r| r.name().starts_with("www2."))
        .unwrap();
    let batch = ChangeBatch::builder()
        .changes(
            Change::builder()
                .action(ChangeAction::Delete)
                .resource_record_set(www)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    m.sdk
        .route53
        .change_resource_record_sets()
        .hosted_zone_id(&zone)
        .change_batch(batch)
        .send()
        .await
        .unwrap();
    let plan = lab.plan(&dns("b", 600, "www2")).await.unwrap();
    let c = plan
        .changes
        .iter()
        .find(|c| c.address.to_string() == "aws_route53_record.www")
        .unwrap();
    assert_eq!(
        (c.action, c.reason),
        (
            Action::Create,
            Some(ActionReason::CreateBecauseDeletedOutside)
        )
    );
    apply_ok(lab, &dns("b", 600, "www2")).await;

    // Import the zone and the records into another state: no changes.
    let other = m.second_lab();
    let text = dns("b", 600, "www2");
    other
        .import(&text, "aws_route53_zone.main", &zone)
        .await
        .unwrap();
    for (addr, name, kind) in [
        ("aws_route53_record.apex", "example.test", "A"),
        ("aws_route53_record.apex6", "example.test", "AAAA"),
        ("aws_route53_record.www", "www2.example.test", "CNAME"),
        ("aws_route53_record.spf", "example.test", "TXT"),
        ("aws_route53_record.mail", "example.test", "MX"),
        ("aws_route53_record.api", "api.example.test", "A"),
    ] {
        other
            .import(&text, addr, &format!("{zone}_{name}_{kind}"))
            .await
            .unwrap();
    }
    assert_no_changes(&other, &text).await;

    // Destroy: records first, then the zone; nothing is left.
    let applied = lab
        .apply_with(&text, |o| o.mode = omniform::PlanMode::Destroy)
        .await;
    assert!(applied.report.is_success(), "{:?}", applied.report.failed);
    assert!(
        m.sdk
            .route53
            .list_hosted_zones()
            .send()
            .await
            .unwrap()
            .hosted_zones()
            .is_empty(),
        "nothing is left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zone_with_force_destroy_is_replaced_with_foreign_records_in_it() {
    let m = Moto::new().await;
    let zone = |name: &str| {
        stack(&format!(
            "[resource.aws_route53_zone.z]\nname = \"{name}\"\nforce_destroy = true\n"
        ))
    };
    apply_ok(&m.lab, &zone("one.test")).await;
    let id = m
        .lab
        .attr("aws_route53_zone.z", "zone_id")
        .as_str()
        .unwrap()
        .to_string();
    // A record omniform does not know about.
    let foreign = ResourceRecordSet::builder()
        .name("x.one.test.")
        .r#type(RrType::Txt)
        .ttl(60)
        .resource_records(ResourceRecord::builder().value("\"hi\"").build().unwrap())
        .build()
        .unwrap();
    let batch = ChangeBatch::builder()
        .changes(
            Change::builder()
                .action(ChangeAction::Create)
                .resource_record_set(foreign)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    m.sdk
        .route53
        .change_resource_record_sets()
        .hosted_zone_id(&id)
        .change_batch(batch)
        .send()
        .await
        .unwrap();
    let plan = m.lab.plan(&zone("two.test")).await.unwrap();
    assert_eq!(
        action(&plan, "aws_route53_zone.z"),
        Action::DeleteThenCreate
    );
    apply_ok(&m.lab, &zone("two.test")).await;
    let zones = m.sdk.route53.list_hosted_zones().send().await.unwrap();
    assert_eq!(
        zones
            .hosted_zones()
            .iter()
            .map(|z| z.name().to_string())
            .collect::<Vec<_>>(),
        vec!["two.test."]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_values_are_checked_against_their_type() {
    let m = Moto::new().await;
    let text = stack(
        r#"
[resource.aws_route53_record.bad]
zone_id = "Z1"
name = "example.test"
type = "A"
ttl = 300
records = ["2001:db8::1"]
"#,
    );
    let err = omniform_tests::render_diags(&m.lab.plan(&text).await.unwrap_err());
    assert!(err.contains("stack.toml:10:12: error: \"2001:db8::1\" is not an IPv4 address, which an A record needs"), "{err}");
    assert!(
        err.contains("help: write it like 203.0.113.10, or use an AAAA record for IPv6"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_counted_block_of_records_goes_in_one_change_batch() {
    let m = Moto::new().await;
    let lab = &m.lab;
    let text = |ttl: i64| {
        stack(&format!(
            r#"
[resource.aws_route53_zone.main]
name = "many.test"

[resource.aws_route53_record.host]
count = 25
zone_id = "${{aws_route53_zone.main.zone_id}}"
name = "host${{count.index}}.many.test"
type = "A"
ttl = {ttl}
records = ["192.0.2.${{count.index}}"]
"#
        ))
    };
    // 25 records, more than the 10 operations that run at once: still one call.
    let applied = lab.apply(&text(60)).await;
    assert!(applied.report.is_success(), "{:?}", applied.report.failed);
    let zone = lab.attr("aws_route53_zone.main", "zone_id");
    assert_eq!(records(&m, zone.as_str().unwrap()).await.len(), 25);
    assert_eq!(count(&m.operations(), "ChangeResourceRecordSets"), 1);

    let applied = lab.apply(&text(120)).await;
    assert!(applied.report.is_success(), "{:?}", applied.report.failed);
    assert_eq!(applied.report.counts.changed, 25);
    assert_eq!(count(&m.operations(), "ChangeResourceRecordSets"), 2);

    let destroyed = lab
        .apply_with(&text(120), |o| o.mode = omniform::PlanMode::Destroy)
        .await;
    assert!(
        destroyed.report.is_success(),
        "{:?}",
        destroyed.report.failed
    );
    assert_eq!(count(&m.operations(), "ChangeResourceRecordSets"), 3);
}
