use omniform::{Action, ActionReason, Value};

use crate::support::{Moto, action, apply_ok, assert_no_changes, stack};

fn secrets(name: &str, description: &str, value: &str) -> String {
    stack(&format!(
        r#"
[variable.api_key]
type = "string"
default = "{value}"
sensitive = true

[resource.aws_secretsmanager_secret.api]
name = "{name}"
description = "{description}"
tags = {{ App = "omniops" }}

[resource.aws_secretsmanager_secret_version.api]
secret_id = "${{aws_secretsmanager_secret.api.arn}}"
secret_string = "${{var.api_key}}"
"#
    ))
}

async fn current_value(m: &Moto, name: &str) -> Option<String> {
    m.sdk
        .secrets
        .get_secret_value()
        .secret_id(name)
        .send()
        .await
        .ok()
        .and_then(|v| v.secret_string().map(str::to_string))
}

async fn described(
    m: &Moto,
    name: &str,
) -> aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput {
    m.sdk
        .secrets
        .describe_secret()
        .secret_id(name)
        .send()
        .await
        .unwrap()
}

async fn live_names(m: &Moto) -> Vec<String> {
    m.sdk
        .secrets
        .list_secrets()
        .send()
        .await
        .unwrap()
        .secret_list()
        .iter()
        .filter_map(|s| s.name().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_and_version_lifecycle() {
    let m = Moto::new().await;
    let lab = &m.lab;
    apply_ok(lab, &secrets("omniops/test/API_KEY", "one", "sk-first")).await;
    assert_eq!(
        current_value(&m, "omniops/test/API_KEY").await.as_deref(),
        Some("sk-first")
    );
    assert!(
        lab.attr("aws_secretsmanager_secret_version.api", "secret_string")
            .is_sensitive()
    );
    assert_no_changes(lab, &secrets("omniops/test/API_KEY", "one", "sk-first")).await;

    // Update in place: the description.
    let plan = lab
        .plan(&secrets("omniops/test/API_KEY", "two", "sk-first"))
        .await
        .unwrap();
    assert_eq!(
        action(&plan, "aws_secretsmanager_secret.api"),
        Action::Update
    );
    apply_ok(lab, &secrets("omniops/test/API_KEY", "two", "sk-first")).await;

    // A new value is a new version.
    let plan = lab
        .plan(&secrets("omniops/test/API_KEY", "two", "sk-second"))
        .await
        .unwrap();
    assert_eq!(
        action(&plan, "aws_secretsmanager_secret_version.api"),
        Action::DeleteThenCreate
    );
    let text = omniform::render::text::plan(&plan, omniform::render::Style::PLAIN);
    assert!(
        !text.contains("sk-second") && !text.contains("sk-first"),
        "{text}"
    );
    apply_ok(lab, &secrets("omniops/test/API_KEY", "two", "sk-second")).await;
    assert_eq!(
        current_value(&m, "omniops/test/API_KEY").await.as_deref(),
        Some("sk-second")
    );

    // Drift: a value stored outside is replaced by the stack's.
    m.sdk
        .secrets
        .put_secret_value()
        .secret_id("omniops/test/API_KEY")
        .secret_string("sk-outside")
        .send()
        .await
        .unwrap();
    let plan = lab
        .plan(&secrets("omniops/test/API_KEY", "two", "sk-second"))
        .await
        .unwrap();
    assert_eq!(plan.drift.len(), 1);
    assert_eq!(
        action(&plan, "aws_secretsmanager_secret_version.api"),
        Action::DeleteThenCreate
    );
    let text = omniform::render::text::plan(&plan, omniform::render::Style::PLAIN);
    assert!(!text.contains("sk-outside"), "drift is masked too:\n{text}");
    apply_ok(lab, &secrets("omniops/test/API_KEY", "two", "sk-second")).await;
    assert_eq!(
        current_value(&m, "omniops/test/API_KEY").await.as_deref(),
        Some("sk-second")
    );

    // Import both into another state: no changes.
    let other = m.second_lab();
    let text = secrets("omniops/test/API_KEY", "two", "sk-second");
    other
        .import(
            &text,
            "aws_secretsmanager_secret.api",
            lab.attr("aws_secretsmanager_secret.api", "arn")
                .as_str()
                .unwrap(),
        )
        .await
        .unwrap();
    other
        .import(
            &text,
            "aws_secretsmanager_secret_version.api",
            lab.attr("aws_secretsmanager_secret_version.api", "id")
                .as_str()
                .unwrap(),
        )
        .await
        .unwrap();
    assert_no_changes(&other, &text).await;

    // A new name is a new secret; the old one waits out its recovery window.
    let plan = lab
        .plan(&secrets("omniops/test/API_KEY2", "two", "sk-second"))
        .await
        .unwrap();
    assert_eq!(
        action(&plan, "aws_secretsmanager_secret.api"),
        Action::DeleteThenCreate
    );
    apply_ok(lab, &secrets("omniops/test/API_KEY2", "two", "sk-second")).await;
    assert_eq!(live_names(&m).await, vec!["omniops/test/API_KEY2"]);

    // Deleted outside: made again, with its value.
    m.sdk
        .secrets
        .delete_secret()
        .secret_id("omniops/test/API_KEY2")
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    let plan = lab
        .plan(&secrets("omniops/test/API_KEY2", "two", "sk-second"))
        .await
        .unwrap();
    for addr in [
        "aws_secretsmanager_secret.api",
        "aws_secretsmanager_secret_version.api",
    ] {
        let c = plan
            .changes
            .iter()
            .find(|c| c.address.to_string() == addr)
            .unwrap();
        assert_eq!(
            (c.action, c.reason),
            (
                Action::Create,
                Some(ActionReason::CreateBecauseDeletedOutside)
            ),
            "{addr}"
        );
    }
    apply_ok(lab, &secrets("omniops/test/API_KEY2", "two", "sk-second")).await;
    assert_eq!(
        current_value(&m, "omniops/test/API_KEY2").await.as_deref(),
        Some("sk-second")
    );

    let applied = lab
        .apply_with(&secrets("omniops/test/API_KEY2", "two", "sk-second"), |o| {
            o.mode = omniform::PlanMode::Destroy
        })
        .await;
    assert!(applied.report.is_success(), "{:?}", applied.report.failed);
    assert!(live_names(&m).await.is_empty(), "nothing is left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_key_rotates_into_its_secret() {
    let m = Moto::new().await;
    let text = stack(
        r#"
[resource.random_id.encryption_key]
byte_length = 16
rotate_after_days = 90
sensitive = true

[resource.aws_secretsmanager_secret.key]
name = "omniops/test/ENCRYPTION_KEY"
recovery_window_in_days = 0

[resource.aws_secretsmanager_secret_version.key]
secret_id = "${aws_secretsmanager_secret.key.arn}"
secret_string = "${random_id.encryption_key.hex}"
"#,
    );
    apply_ok(&m.lab, &text).await;
    let first = current_value(&m, "omniops/test/ENCRYPTION_KEY")
        .await
        .unwrap();
    assert_eq!(first.len(), 32);
    assert!(first.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(
        m.lab.attr("random_id.encryption_key", "hex").unmarked(),
        Value::from(first.as_str())
    );

    // 91 days later the plan replaces the key, says why, and the new value flows into a new
    // version of the secret.
    let later = omniform_tests::test_now() + omniform::time::Duration::days(91);
    let plan = m.lab.plan_with(&text, |o| o.now = later).await.unwrap();
    let key = plan
        .changes
        .iter()
        .find(|c| c.address.to_string() == "random_id.encryption_key")
        .unwrap();
    assert_eq!(key.reason, Some(ActionReason::ReplaceBecauseRotationDue));
    assert_eq!(
        key.reason_detail.as_deref(),
        Some("rotation due: created 91 days ago (rotate_after_days = 90)")
    );
    assert_eq!(
        action(&plan, "aws_secretsmanager_secret_version.key"),
        Action::DeleteThenCreate
    );
    let applied = m.lab.apply_with(&text, |o| o.now = later).await;
    assert!(applied.report.is_success(), "{:?}", applied.report.failed);
    let second = current_value(&m, "omniops/test/ENCRYPTION_KEY")
        .await
        .unwrap();
    assert_ne!(first, second);
    assert_eq!(second.len(), 32);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destroyed_secret_in_its_recovery_window_is_restored_by_the_next_apply() {
    let m = Moto::new().await;
    let lab = &m.lab;
    let name = "omniops/test/RESTORED";
    let first = secrets(name, "first", "v1");
    apply_ok(lab, &first).await;
    let arn = lab.attr("aws_secretsmanager_secret.api", "arn");
    let destroyed = lab
        .apply_with(&first, |o| o.mode = omniform::PlanMode::Destroy)
        .await;
    assert!(
        destroyed.report.is_success(),
        "{:?}",
        destroyed.report.failed
    );
    let gone = described(&m, name).await;
    assert!(
        gone.deleted_date().is_some(),
        "AWS keeps it for the recovery window"
    );

    // Importing it says why it cannot be.
    let err = m
        .second_lab()
        .import(&first, "aws_secretsmanager_secret.api", name)
        .await
        .unwrap_err();
    let text = omniform_tests::render_diags(&err);
    assert!(text.contains("is scheduled for deletion"), "{text}");

    // Applying the stack again brings it back as the stack now says, instead of failing
    // on a name AWS still holds.
    let second = secrets(name, "second", "v2");
    apply_ok(lab, &second).await;
    assert_eq!(lab.attr("aws_secretsmanager_secret.api", "arn"), arn);
    let live = described(&m, name).await;
    assert!(live.deleted_date().is_none());
    assert_eq!(live.description(), Some("second"));
    assert_eq!(current_value(&m, name).await.as_deref(), Some("v2"));
    assert_no_changes(lab, &second).await;
}
