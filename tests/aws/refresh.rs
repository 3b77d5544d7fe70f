use crate::support::{Moto, apply_ok, stack};

/// A mix of every type: 12 security groups, 6 instances, 3 elastic IPs, a zone with 15
/// records, 25 secrets with their values.
fn fleet() -> String {
    stack(
        r#"
[resource.aws_security_group.g]
count = 12
name = "g-${count.index}"

[resource.aws_instance.i]
count = 6
ami = "ami-0c7217cdde317cfec"
instance_type = "t3.small"

[resource.aws_eip.e]
count = 3

[resource.aws_route53_zone.z]
name = "fleet.test"

[resource.aws_route53_record.r]
count = 15
zone_id = "${aws_route53_zone.z.zone_id}"
name = "r${count.index}.fleet.test"
type = "A"
ttl = 60
records = ["192.0.2.1"]

[resource.aws_secretsmanager_secret.s]
count = 25
name = "fleet/s${count.index}"
recovery_window_in_days = 0

[resource.aws_secretsmanager_secret_version.v]
count = 25
secret_id = "${aws_secretsmanager_secret.s[count.index].arn}"
secret_string = "value-${count.index}"
"#,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_costs_a_few_calls_per_type_not_one_per_resource() {
    let m = Moto::new().await;
    apply_ok(&m.lab, &fleet()).await;
    let plan = m.lab.plan(&fleet()).await.unwrap();
    assert!(
        !plan.has_changes(),
        "{}",
        omniform::render::text::plan(&plan, omniform::render::Style::PLAIN)
    );
    let stats = plan.refresh.expect("refresh statistics");
    assert_eq!(stats.resources, 12 + 6 + 3 + 1 + 15 + 25 + 25);
    // ec2: one call each for groups, instances, their root volumes, addresses;
    // route53: the zone list and one record listing for the zone;
    // secretsmanager: the secret list and two batches of twenty values.
    let calls: Vec<(String, u64)> = stats.calls.into_iter().collect();
    assert_eq!(
        calls,
        vec![
            ("ec2".to_string(), 4),
            ("route53".to_string(), 2),
            ("secretsmanager".to_string(), 3)
        ]
    );
    let json = omniform::render::json::plan(&m.lab.plan(&fleet()).await.unwrap());
    assert_eq!(json["refresh_stats"]["total_api_calls"], 9);
    let destroy = m
        .lab
        .apply_with(&fleet(), |o| o.mode = omniform::PlanMode::Destroy)
        .await;
    assert!(destroy.report.is_success(), "{:?}", destroy.report.failed);
}
