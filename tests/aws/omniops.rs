//! The Omniops stack (stacks/omniops/production.toml with local.toml) end to end against
//! moto, and checkov reading its plan.

use std::path::Path;

use aws_sdk_ec2::types::Filter;
use omniform::{Action, SourceFile};

use crate::support::{Moto, endpoint};

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn production() -> String {
    std::fs::read_to_string(repo().join("stacks/omniops/production.toml"))
        .expect("the Omniops stack")
}

/// A moto account and a lab set up like `--var-file stacks/omniops/local.toml`, with the
/// endpoint and account given as `--var` would.
async fn lab() -> Moto {
    let mut m = Moto::new().await;
    m.lab.prelude.clear();
    let local =
        std::fs::read_to_string(repo().join("stacks/omniops/local.toml")).expect("local.toml");
    m.lab
        .var_files
        .push(SourceFile::new("stacks/omniops/local.toml", local));
    m.lab.vars.push(("aws_endpoint_url".into(), endpoint()));
    m.lab.vars.push((
        "aws_request_headers".into(),
        format!("{{ \"x-moto-account-id\" = \"{}\" }}", m.account),
    ));
    m
}

async fn running_instances(m: &Moto) -> usize {
    let resp = m
        .sdk
        .ec2
        .describe_instances()
        .filters(
            Filter::builder()
                .name("instance-state-name")
                .values("pending")
                .values("running")
                .build(),
        )
        .send()
        .await
        .unwrap();
    resp.reservations()
        .iter()
        .map(|r| r.instances().len())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn omniops_applies_replans_clean_and_destroys_to_nothing() {
    let m = lab().await;
    let text = production();
    let plan = m
        .lab
        .plan(&text)
        .await
        .unwrap_or_else(|d| panic!("{}", omniform_tests::render_diags(&d)));
    assert_eq!(plan.summary().add, 33);
    let applied = m.lab.apply(&text).await;
    assert!(
        applied.report.is_success(),
        "{:?} skipped {:?}",
        applied.report.failed,
        applied.report.skipped
    );
    assert_eq!(applied.report.counts.added, 33);

    // What the checklist asks for, as AWS reports it.
    assert_eq!(
        running_instances(&m).await,
        4,
        "the app server, two scraping and one embedding worker"
    );
    let app = m.lab.attr("aws_instance.app", "id");
    let volume = m
        .lab
        .attr("aws_instance.app", "root_block_device[0].volume_id");
    let vol = m
        .sdk
        .ec2
        .describe_volumes()
        .volume_ids(volume.as_str().unwrap())
        .send()
        .await
        .unwrap();
    let vol = &vol.volumes()[0];
    assert_eq!((vol.size(), vol.encrypted()), (Some(100), Some(true)));
    assert_eq!(vol.volume_type().unwrap().as_str(), "gp3");
    let eip = m.lab.attr("aws_eip.app", "public_ip");
    assert_eq!(m.lab.attr("aws_eip.app", "instance"), app);
    assert_eq!(
        m.lab.attr("aws_route53_record.apex_a", "records"),
        omniform::Value::List(vec![eip.clone()])
    );
    let zone = m.lab.attr("aws_route53_zone.main", "zone_id");
    let records = m
        .sdk
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(zone.as_str().unwrap())
        .send()
        .await
        .unwrap();
    let kinds: Vec<&str> = records
        .resource_record_sets()
        .iter()
        .map(|r| r.r#type().as_str())
        .collect();
    for kind in ["A", "AAAA", "CNAME"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let secrets = m.sdk.secrets.list_secrets().send().await.unwrap();
    assert_eq!(secrets.secret_list().len(), 10);
    let key = m
        .sdk
        .secrets
        .get_secret_value()
        .secret_id("omniops/production/ENCRYPTION_KEY")
        .send()
        .await
        .unwrap();
    assert_eq!(key.secret_string().unwrap().len(), 32);
    let cron = m
        .sdk
        .secrets
        .get_secret_value()
        .secret_id("omniops/production/CRON_SECRET")
        .send()
        .await
        .unwrap();
    assert_eq!(cron.secret_string().unwrap().len(), 64);
    let openai = m
        .sdk
        .secrets
        .get_secret_value()
        .secret_id("omniops/production/OPENAI_API_KEY")
        .send()
        .await
        .unwrap();
    assert_eq!(
        openai.secret_string(),
        Some("set-OMNIFORM_VAR_openai_api_key")
    );

    // Nothing changed: the re-plan is clean.
    let plan = m.lab.plan(&text).await.unwrap();
    assert!(
        !plan.has_changes(),
        "{}",
        omniform::render::text::plan(&plan, omniform::render::Style::PLAIN)
    );
    assert!(plan.drift.is_empty(), "{:?}", plan.drift);

    // Destroy: nothing is left.
    let destroyed = m
        .lab
        .apply_with(&text, |o| o.mode = omniform::PlanMode::Destroy)
        .await;
    assert!(
        destroyed.report.is_success(),
        "{:?}",
        destroyed.report.failed
    );
    assert!(destroyed.state.resources.is_empty());
    assert_eq!(running_instances(&m).await, 0);
    assert!(
        m.sdk
            .route53
            .list_hosted_zones()
            .send()
            .await
            .unwrap()
            .hosted_zones()
            .is_empty()
    );
    assert!(
        m.sdk
            .secrets
            .list_secrets()
            .send()
            .await
            .unwrap()
            .secret_list()
            .is_empty()
    );
    let groups = m.sdk.ec2.describe_security_groups().send().await.unwrap();
    assert!(
        groups
            .security_groups()
            .iter()
            .all(|g| g.group_name() == Some("default"))
    );
    assert!(
        m.sdk
            .ec2
            .describe_addresses()
            .send()
            .await
            .unwrap()
            .addresses()
            .is_empty()
    );
    let planned = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::NoOp)
        .count();
    assert_eq!(planned, 33);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkov_reads_the_omniops_plan() {
    let checkov = std::env::var("CHECKOV")
        .expect("CHECKOV is not set: scripts/test installs checkov and sets it");
    let m = lab().await;
    let plan = m.lab.plan(&production()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    std::fs::write(
        &file,
        serde_json::to_string_pretty(&omniform::render::json::plan(&plan)).unwrap(),
    )
    .unwrap();
    let out = std::process::Command::new(checkov)
        .args([
            "-f",
            file.to_str().unwrap(),
            "--framework",
            "terraform_plan",
            "--skip-download",
            "-o",
            "json",
            "--soft-fail",
        ])
        .env("BC_SKIP_MAPPING", "TRUE")
        .env("CKV_SKIP_PACKAGE_UPDATE_CHECK", "true")
        .output()
        .expect("checkov runs");
    assert!(
        out.status.success(),
        "checkov failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("checkov writes JSON");
    assert_eq!(report["summary"]["parsing_errors"], 0, "{report:#}");
    assert!(
        report["summary"]["resource_count"].as_u64().unwrap() >= 30,
        "{:#}",
        report["summary"]
    );
    let results = |kind: &str| -> Vec<(String, String)> {
        report["results"][kind]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["check_id"].as_str().unwrap().to_string(),
                    c["resource"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let passed = results("passed_checks");
    let failed = results("failed_checks");
    let passes = |id: &str, resource: &str| passed.iter().any(|(c, r)| c == id && r == resource);
    // The app server: encrypted root volume, IMDSv2 required, detailed monitoring.
    for id in ["CKV_AWS_8", "CKV_AWS_79", "CKV_AWS_126"] {
        assert!(
            passes(id, "aws_instance.app"),
            "{id} on aws_instance.app; failed: {failed:?}"
        );
        assert!(
            passes(id, "aws_instance.scraping_worker[0]"),
            "{id} on a worker; failed: {failed:?}"
        );
    }
    // The security groups: rules described, no SSH or RDP open to the world.
    for id in ["CKV_AWS_23", "CKV_AWS_24", "CKV_AWS_25"] {
        assert!(
            passes(id, "aws_security_group.app"),
            "{id} on aws_security_group.app; failed: {failed:?}"
        );
    }
}
