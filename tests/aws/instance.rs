use aws_sdk_ec2::types::{Filter, Tag};
use omniform::{Action, ActionReason, Value};

use crate::support::{Moto, action, apply_ok, assert_no_changes, stack};

const JAMMY: &str = "ami-0c7217cdde317cfec";
const JAMMY_NEWER: &str = "ami-0e2c8caa4b6378d8c";

fn server(ami: &str, instance_type: &str) -> String {
    stack(&format!(
        r#"
[resource.aws_security_group.app]
name = "app"

[resource.aws_instance.app]
ami = "{ami}"
instance_type = "{instance_type}"
vpc_security_group_ids = ["${{aws_security_group.app.id}}"]
monitoring = true
root_block_device = {{ volume_size = 40, volume_type = "gp3", encrypted = true }}
metadata_options = {{ http_tokens = "required" }}
user_data = """
#cloud-config
runcmd:
  - echo hello
"""
tags = {{ Name = "app", Role = "app" }}
"#
    ))
}

/// Instances that are not terminated.
async fn live(m: &Moto) -> Vec<aws_sdk_ec2::types::Instance> {
    let resp = m
        .sdk
        .ec2
        .describe_instances()
        .filters(
            Filter::builder()
                .name("instance-state-name")
                .values("pending")
                .values("running")
                .values("stopping")
                .values("stopped")
                .build(),
        )
        .send()
        .await
        .unwrap();
    resp.reservations()
        .iter()
        .flat_map(|r| r.instances().to_vec())
        .collect()
}

fn position(ops: &[String], op: &str) -> usize {
    ops.iter()
        .rposition(|o| o == op)
        .unwrap_or_else(|| panic!("{op} was not called: {ops:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_lifecycle() {
    let m = Moto::new().await;
    let lab = &m.lab;

    apply_ok(lab, &server(JAMMY, "t3.medium")).await;
    let id = lab
        .attr("aws_instance.app", "id")
        .as_str()
        .unwrap()
        .to_string();
    let instances = live(&m).await;
    assert_eq!(instances.len(), 1);
    let i = &instances[0];
    assert_eq!(i.instance_type().unwrap().as_str(), "t3.medium");
    assert_eq!(
        i.metadata_options()
            .unwrap()
            .http_tokens()
            .unwrap()
            .as_str(),
        "required"
    );
    assert_eq!(
        lab.attr("aws_instance.app", "root_block_device[0].volume_size"),
        Value::from(40)
    );
    assert_eq!(
        lab.attr("aws_instance.app", "root_block_device[0].encrypted"),
        Value::from(true)
    );
    assert_eq!(
        lab.attr("aws_instance.app", "instance_state"),
        Value::from("running")
    );
    assert!(
        lab.attr("aws_instance.app", "arn")
            .as_str()
            .unwrap()
            .ends_with(&format!(":instance/{id}"))
    );
    assert_no_changes(lab, &server(JAMMY, "t3.medium")).await;

    // A new type is applied in place: stop, modify, start, in that order (moto would accept
    // a modify while running; AWS does not).
    let plan = lab.plan(&server(JAMMY, "t3.large")).await.unwrap();
    assert_eq!(action(&plan, "aws_instance.app"), Action::Update);
    apply_ok(lab, &server(JAMMY, "t3.large")).await;
    let ops = m.operations();
    let (stop, modify, start) = (
        position(&ops, "StopInstances"),
        position(&ops, "ModifyInstanceAttribute"),
        position(&ops, "StartInstances"),
    );
    assert!(stop < modify && modify < start, "{ops:?}");
    assert_eq!(
        lab.attr("aws_instance.app", "id").as_str().unwrap(),
        id,
        "the same instance"
    );
    assert_eq!(
        live(&m).await[0].instance_type().unwrap().as_str(),
        "t3.large"
    );
    assert_no_changes(lab, &server(JAMMY, "t3.large")).await;

    // Drift: a tag changed outside is put back.
    m.sdk
        .ec2
        .create_tags()
        .resources(&id)
        .tags(Tag::builder().key("Role").value("hacked").build())
        .send()
        .await
        .unwrap();
    let plan = lab.plan(&server(JAMMY, "t3.large")).await.unwrap();
    assert_eq!(plan.drift.len(), 1);
    assert_eq!(action(&plan, "aws_instance.app"), Action::Update);
    apply_ok(lab, &server(JAMMY, "t3.large")).await;
    assert_eq!(
        lab.attr("aws_instance.app", "tags.Role"),
        Value::from("app")
    );

    // Import into another state, then no changes (user data included).
    let other = m.second_lab();
    other
        .import(
            &server(JAMMY, "t3.large"),
            "aws_security_group.app",
            lab.attr("aws_security_group.app", "id").as_str().unwrap(),
        )
        .await
        .unwrap();
    other
        .import(&server(JAMMY, "t3.large"), "aws_instance.app", &id)
        .await
        .unwrap();
    assert_eq!(
        other.attr("aws_instance.app", "user_data"),
        lab.attr("aws_instance.app", "user_data")
    );
    assert_no_changes(&other, &server(JAMMY, "t3.large")).await;

    // A new AMI replaces the instance.
    let plan = lab.plan(&server(JAMMY_NEWER, "t3.large")).await.unwrap();
    assert_eq!(action(&plan, "aws_instance.app"), Action::DeleteThenCreate);
    apply_ok(lab, &server(JAMMY_NEWER, "t3.large")).await;
    let new_id = lab
        .attr("aws_instance.app", "id")
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_id, id);
    let instances = live(&m).await;
    assert_eq!(instances.len(), 1);
    assert_eq!(instances[0].image_id(), Some(JAMMY_NEWER));

    // Terminated outside: made again.
    m.sdk
        .ec2
        .terminate_instances()
        .instance_ids(&new_id)
        .send()
        .await
        .unwrap();
    let plan = lab.plan(&server(JAMMY_NEWER, "t3.large")).await.unwrap();
    let c = plan
        .changes
        .iter()
        .find(|c| c.address.to_string() == "aws_instance.app")
        .unwrap();
    assert_eq!(
        (c.action, c.reason),
        (
            Action::Create,
            Some(ActionReason::CreateBecauseDeletedOutside)
        )
    );
    apply_ok(lab, &server(JAMMY_NEWER, "t3.large")).await;
    assert_eq!(live(&m).await.len(), 1);

    // Destroy leaves nothing running.
    let applied = lab
        .apply_with(&server(JAMMY_NEWER, "t3.large"), |o| {
            o.mode = omniform::PlanMode::Destroy
        })
        .await;
    assert!(applied.report.is_success(), "{:?}", applied.report.failed);
    assert!(live(&m).await.is_empty());
    let groups = m.sdk.ec2.describe_security_groups().send().await.unwrap();
    assert!(
        groups
            .security_groups()
            .iter()
            .all(|g| g.group_name() == Some("default"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_instance_type_is_caught_before_any_call_and_an_unknown_one_by_aws() {
    let m = Moto::new().await;
    let err = m.lab.plan(&server(JAMMY, "xlarge")).await.unwrap_err();
    assert!(omniform_tests::render_diags(&err).contains("\"xlarge\" is not an EC2 instance type"));
    let err = m.lab.plan(&server(JAMMY, "m6i.xlarg")).await.unwrap_err();
    assert!(omniform_tests::render_diags(&err).contains("there is no size \"xlarg\""));
    // Well-formed but unknown: AWS (moto, with validation on) refuses it, and the error says so.
    let applied = m.lab.apply(&server(JAMMY, "t3.24xlarge")).await;
    let (addr, message) = &applied.report.failed[0];
    assert_eq!(addr.to_string(), "aws_instance.app");
    assert!(
        message.contains("creating EC2 instance (aws_instance.app): InvalidInstanceType.NotFound"),
        "{message}"
    );
}
