use aws_sdk_ec2::types::{Filter, IpPermission, IpRange};
use omniform::{Action, ActionReason};

use crate::support::{Moto, action, apply_ok, assert_no_changes, stack};

fn group(name: &str, extra_rule: bool) -> String {
    let mut body = format!(
        r#"
[resource.aws_security_group.web]
name = "{name}"
description = "web servers"
tags = {{ Team = "platform" }}

[[resource.aws_security_group.web.ingress]]
description = "HTTPS"
protocol = "tcp"
from_port = 443
to_port = 443
cidr_blocks = ["0.0.0.0/0"]

[[resource.aws_security_group.web.egress]]
protocol = "-1"
from_port = 0
to_port = 0
cidr_blocks = ["0.0.0.0/0"]
"#
    );
    if extra_rule {
        body.push_str("\n[[resource.aws_security_group.web.ingress]]\ndescription = \"HTTP\"\nprotocol = \"tcp\"\nfrom_port = 80\nto_port = 80\ncidr_blocks = [\"0.0.0.0/0\", \"10.0.0.0/8\"]\n");
    }
    stack(&body)
}

/// Groups other than the VPC's default one, by id, with their ingress rules.
async fn groups(m: &Moto) -> Vec<(String, Vec<IpPermission>)> {
    let resp = m.sdk.ec2.describe_security_groups().send().await.unwrap();
    resp.security_groups()
        .iter()
        .filter(|g| g.group_name() != Some("default"))
        .map(|g| {
            (
                g.group_id().unwrap().to_string(),
                g.ip_permissions().to_vec(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_group_lifecycle() {
    let m = Moto::new().await;
    let lab = &m.lab;

    // Create: exactly the written rules (AWS's default egress is replaced by ours).
    apply_ok(lab, &group("web", false)).await;
    let id = lab
        .attr("aws_security_group.web", "id")
        .as_str()
        .unwrap()
        .to_string();
    let live = groups(&m).await;
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].0, id);
    assert_eq!(live[0].1.len(), 1);
    assert!(
        lab.attr("aws_security_group.web", "arn")
            .as_str()
            .unwrap()
            .ends_with(&format!(":security-group/{id}"))
    );
    assert_no_changes(lab, &group("web", false)).await;

    // Update in place: a rule is authorized, the group stays.
    let plan = lab.plan(&group("web", true)).await.unwrap();
    assert_eq!(action(&plan, "aws_security_group.web"), Action::Update);
    apply_ok(lab, &group("web", true)).await;
    assert_eq!(
        lab.attr("aws_security_group.web", "id").as_str().unwrap(),
        id
    );
    let rules = &groups(&m).await[0].1;
    assert_eq!(rules.len(), 2);
    assert!(
        m.operations()
            .iter()
            .any(|o| o == "AuthorizeSecurityGroupIngress")
    );
    assert_no_changes(lab, &group("web", true)).await;

    // Drift: a rule added outside omniform shows, and the plan takes it away again.
    m.sdk
        .ec2
        .authorize_security_group_ingress()
        .group_id(&id)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(22)
                .to_port(22)
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let plan = lab.plan(&group("web", true)).await.unwrap();
    assert_eq!(plan.drift.len(), 1, "{:?}", plan.drift);
    assert_eq!(action(&plan, "aws_security_group.web"), Action::Update);
    apply_ok(lab, &group("web", true)).await;
    assert_eq!(
        groups(&m).await[0].1.len(),
        2,
        "the rule from outside is revoked"
    );

    // Replace: a new name is a new group; the old one goes.
    let plan = lab.plan(&group("web2", true)).await.unwrap();
    assert_eq!(
        action(&plan, "aws_security_group.web"),
        Action::DeleteThenCreate
    );
    assert_eq!(plan.changes[0].replace_paths, vec!["name".parse().unwrap()]);
    apply_ok(lab, &group("web2", true)).await;
    let new_id = lab
        .attr("aws_security_group.web", "id")
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_id, id);
    assert_eq!(
        groups(&m)
            .await
            .iter()
            .map(|g| g.0.clone())
            .collect::<Vec<_>>(),
        vec![new_id.clone()]
    );

    // Deleted outside: planned again, with the reason.
    m.sdk
        .ec2
        .delete_security_group()
        .group_id(&new_id)
        .send()
        .await
        .unwrap();
    let plan = lab.plan(&group("web2", true)).await.unwrap();
    let c = plan
        .changes
        .iter()
        .find(|c| c.address.to_string() == "aws_security_group.web")
        .unwrap();
    assert_eq!(
        (c.action, c.reason),
        (
            Action::Create,
            Some(ActionReason::CreateBecauseDeletedOutside)
        )
    );
    apply_ok(lab, &group("web2", true)).await;
    let id = lab
        .attr("aws_security_group.web", "id")
        .as_str()
        .unwrap()
        .to_string();

    // Import into another state, then no changes.
    let other = m.second_lab();
    other
        .import(&group("web2", true), "aws_security_group.web", &id)
        .await
        .unwrap();
    assert_no_changes(&other, &group("web2", true)).await;

    // Destroy leaves nothing.
    let applied = lab
        .apply_with(&group("web2", true), |o| {
            o.mode = omniform::PlanMode::Destroy
        })
        .await;
    assert!(applied.report.is_success(), "{:?}", applied.report.failed);
    assert!(groups(&m).await.is_empty(), "nothing is left");
    let gone = m
        .sdk
        .ec2
        .describe_security_groups()
        .filters(Filter::builder().name("group-id").values(&id).build())
        .send()
        .await
        .unwrap();
    assert!(gone.security_groups().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_rules_are_caught_before_any_call() {
    let m = Moto::new().await;
    let text = stack(
        r#"
[resource.aws_security_group.web]
name = "web"

[[resource.aws_security_group.web.ingress]]
protocol = "tcp"
from_port = 443
to_port = 80
cidr_blocks = ["10.0.0.0/33"]
"#,
    );
    let err = m.lab.plan(&text).await.unwrap_err();
    let text = omniform_tests::render_diags(&err);
    assert!(
        text.contains("stack.toml:10:13: error: from_port 443 is greater than to_port 80"),
        "{text}"
    );
    assert!(
        text.contains("stack.toml:12:16: error: \"10.0.0.0/33\" is not an IPv4 CIDR"),
        "{text}"
    );
    assert!(m.operations().is_empty(), "no API call was made");
}
