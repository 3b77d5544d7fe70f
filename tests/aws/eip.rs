use omniform::{Action, ActionReason, Value};

use crate::support::{Moto, action, apply_ok, assert_no_changes, stack};

fn stack_with(attached: bool, team: &str) -> String {
    let instance = if attached {
        "instance = \"${aws_instance.app.id}\""
    } else {
        ""
    };
    stack(&format!(
        r#"
[resource.aws_instance.app]
ami = "ami-0c7217cdde317cfec"
instance_type = "t3.small"

[resource.aws_eip.app]
{instance}
tags = {{ Team = "{team}" }}
"#
    ))
}

async fn addresses(m: &Moto) -> Vec<aws_sdk_ec2::types::Address> {
    m.sdk
        .ec2
        .describe_addresses()
        .send()
        .await
        .unwrap()
        .addresses()
        .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eip_lifecycle() {
    let m = Moto::new().await;
    let lab = &m.lab;
    apply_ok(lab, &stack_with(false, "a")).await;
    let id = lab.attr("aws_eip.app", "id").as_str().unwrap().to_string();
    assert_eq!(addresses(&m).await.len(), 1);
    assert!(lab.attr("aws_eip.app", "public_ip").as_str().is_some());
    assert_no_changes(lab, &stack_with(false, "a")).await;

    // Associating it is an update in place.
    let plan = lab.plan(&stack_with(true, "a")).await.unwrap();
    assert_eq!(action(&plan, "aws_eip.app"), Action::Update);
    apply_ok(lab, &stack_with(true, "a")).await;
    let instance = lab.attr("aws_instance.app", "id");
    assert_eq!(lab.attr("aws_eip.app", "instance"), instance);
    assert_eq!(addresses(&m).await[0].instance_id(), instance.as_str());
    // The instance's public IP moved to the EIP's; that is not reported as drift.
    let plan = lab.plan(&stack_with(true, "a")).await.unwrap();
    assert!(
        !plan.has_changes() && plan.drift.is_empty(),
        "{:?}",
        plan.drift
    );

    // Drift: a tag changed outside.
    m.sdk
        .ec2
        .create_tags()
        .resources(&id)
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key("Team")
                .value("x")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let plan = lab.plan(&stack_with(true, "a")).await.unwrap();
    assert_eq!(plan.drift.len(), 1);
    apply_ok(lab, &stack_with(true, "a")).await;
    assert_eq!(lab.attr("aws_eip.app", "tags.Team"), Value::from("a"));

    // Replace on request: a new address.
    let applied = lab
        .apply_with(&stack_with(true, "a"), |o| {
            o.replace = vec!["aws_eip.app".parse().unwrap()]
        })
        .await;
    assert!(applied.report.is_success(), "{:?}", applied.report.failed);
    let new_id = lab.attr("aws_eip.app", "id").as_str().unwrap().to_string();
    assert_ne!(new_id, id);
    assert_eq!(addresses(&m).await.len(), 1);

    // Import, then no changes.
    let other = m.second_lab();
    other
        .import(
            &stack_with(true, "a"),
            "aws_instance.app",
            instance.as_str().unwrap(),
        )
        .await
        .unwrap();
    other
        .import(&stack_with(true, "a"), "aws_eip.app", &new_id)
        .await
        .unwrap();
    assert_no_changes(&other, &stack_with(true, "a")).await;

    // Released outside: made again.
    m.sdk
        .ec2
        .disassociate_address()
        .association_id(lab.attr("aws_eip.app", "association_id").as_str().unwrap())
        .send()
        .await
        .unwrap();
    m.sdk
        .ec2
        .release_address()
        .allocation_id(&new_id)
        .send()
        .await
        .unwrap();
    let plan = lab.plan(&stack_with(true, "a")).await.unwrap();
    let c = plan
        .changes
        .iter()
        .find(|c| c.address.to_string() == "aws_eip.app")
        .unwrap();
    assert_eq!(
        (c.action, c.reason),
        (
            Action::Create,
            Some(ActionReason::CreateBecauseDeletedOutside)
        )
    );
    apply_ok(lab, &stack_with(true, "a")).await;

    let applied = lab
        .apply_with(&stack_with(true, "a"), |o| {
            o.mode = omniform::PlanMode::Destroy
        })
        .await;
    assert!(applied.report.is_success(), "{:?}", applied.report.failed);
    assert!(addresses(&m).await.is_empty(), "nothing is left");
}
