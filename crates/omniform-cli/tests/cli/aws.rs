//! The Omniops stack from the command line: planning with no AWS account, one clear error
//! without credentials, and the whole cycle against moto (apply, drift, refresh-only,
//! import, destroy) with the SDK changing things behind omniform's back.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_sdk_ec2::types::{Filter, Tag};
use omniform::Value;
use omniform_aws::{CallLog, Clients};

use super::*;

/// A copy of stacks/omniops in `dir`, so the state is the test's own.
fn omniops_copy(dir: &Path) -> PathBuf {
    for file in ["production.toml", "staging.toml", "local.toml"] {
        std::fs::copy(repo().join("stacks/omniops").join(file), dir.join(file))
            .expect("copy the Omniops stack");
    }
    dir.join("production.toml")
}

/// The binary with no AWS credentials anywhere: no AWS_* variables, an empty home, no
/// instance metadata service.
fn without_credentials(dir: &Path) -> Command {
    let mut c = bin();
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            c.env_remove(k);
        }
    }
    let home = dir.join("home");
    std::fs::create_dir_all(&home).expect("a home");
    c.current_dir(dir)
        .env("HOME", &home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", home.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"));
    c
}

/// Everything under `dir` but the copied stack files and the empty home.
fn created_files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read the directory") {
            let path = entry.expect("an entry").path();
            let rel = path.strip_prefix(dir).unwrap().display().to_string();
            if path.is_dir() {
                if rel != "home" {
                    found.push(rel);
                }
                stack.push(path);
            } else if !["production.toml", "staging.toml", "local.toml"].contains(&rel.as_str()) {
                found.push(rel);
            }
        }
    }
    found
}

#[test]
fn the_omniops_plan_needs_no_account_and_apply_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let stack = omniops_copy(dir.path());

    let o = without_credentials(dir.path())
        .args(["plan", stack.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("# aws_instance.app will be created"), "{out}");
    assert!(
        out.contains("Plan: 32 to add, 0 to change, 0 to destroy."),
        "{out}"
    );
    // Staging is production under its own name, with its own sizes.
    let staging = dir.path().join("staging.toml");
    let o = without_credentials(dir.path())
        .args(["plan", staging.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("Name        = \"omniops-staging-app\""),
        "{out}"
    );
    assert!(
        out.contains("instance_type          = \"c6i.xlarge\""),
        "{out}"
    );
    assert!(
        out.contains("Plan: 31 to add, 0 to change, 0 to destroy."),
        "{out}"
    );
    // Planning against empty state reads nothing and writes nothing.
    assert_eq!(created_files(dir.path()), Vec::<String>::new());

    let o = without_credentials(dir.path())
        .args(["apply", stack.to_str().unwrap(), "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(
            "production.toml:96:1: error: configuring the aws provider: no AWS credentials found"
        ),
        "{err}"
    );
    assert!(err.contains("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or access_key and secret_key"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(
        err.matches("error:").count(),
        2,
        "one error and its count:\n{err}"
    );
    assert!(
        !stdout(&o).contains("will be created"),
        "no plan before the provider is ready"
    );
    // No snapshot was written.
    let o = run_in(dir.path(), &["state", "list", stack.to_str().unwrap()]);
    assert!(stdout(&o).trim().is_empty(), "{}", stdout(&o));

    // Credentials that AWS (here: an endpoint nobody listens on) does not accept are caught
    // by one cheap call, again before anything is touched.
    let o = without_credentials(dir.path())
        .args(["apply", stack.to_str().unwrap(), "--auto-approve"])
        .env("OMNIFORM_VAR_aws_endpoint_url", "http://127.0.0.1:9")
        .env("OMNIFORM_VAR_aws_access_key", "AKIAEXAMPLE")
        .env("OMNIFORM_VAR_aws_secret_key", "not-a-secret")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("checking the AWS credentials with DescribeAvailabilityZones"),
        "{err}"
    );
    assert!(!err.contains("not-a-secret"), "{err}");
}

/// moto, started by the test script.
fn moto() -> String {
    std::env::var("MOTO_ENDPOINT").expect(
        "MOTO_ENDPOINT is not set: this test runs against moto_server; run it with scripts/test or scripts/with-services",
    )
}

/// An account of this test's own on moto.
fn account() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    format!(
        "{}",
        300_000_000_000 + (std::process::id() as u64 * 7_919 + nanos) % 99_999_999_999
    )
}

struct Cli {
    dir: tempfile::TempDir,
    stack: String,
    account: String,
}

impl Cli {
    /// Runs `omniform ARGS STACK --var-file local.toml` pointed at the test's moto account.
    fn run(&self, args: &[&str]) -> Output {
        let mut c = bin();
        c.current_dir(self.dir.path())
            .arg(args[0])
            .arg(&self.stack)
            .args(&args[1..])
            .args(["--var-file", "local.toml"])
            .arg("--var")
            .arg(format!("aws_endpoint_url={}", moto()))
            .arg("--var")
            .arg(format!(
                "aws_request_headers={{ \"x-moto-account-id\" = \"{}\" }}",
                self.account
            ));
        c.output().expect("the binary runs")
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "omniform {args:?} failed:\n{}\n{}",
            stdout(&o),
            stderr(&o)
        );
        stdout(&o)
    }

    /// Runs a command that takes no stack file and no variables.
    fn state(&self, args: &[&str]) -> String {
        let o = run_in(self.dir.path(), args);
        assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
        stdout(&o)
    }
}

fn attribute(shown: &str, name: &str) -> String {
    shown
        .lines()
        .find_map(|l| {
            let (k, v) = l.trim().split_once(" = ")?;
            (k.trim() == name).then(|| v.trim().trim_matches('"').to_string())
        })
        .unwrap_or_else(|| panic!("no {name} in:\n{shown}"))
}

#[test]
fn omniops_from_the_command_line_against_moto() {
    let dir = tempfile::tempdir().unwrap();
    let stack = omniops_copy(dir.path()).display().to_string();
    let cli = Cli {
        dir,
        stack: stack.clone(),
        account: account(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let sdk = rt
        .block_on(Clients::connect(
            &Value::map([
                ("region", Value::from("us-east-1")),
                ("endpoint_url", Value::from(moto().as_str())),
                ("access_key", Value::from("testing")),
                ("secret_key", Value::from("testing")),
                (
                    "request_headers",
                    Value::map([("x-moto-account-id", cli.account.as_str())]),
                ),
            ]),
            Arc::new(CallLog::default()),
        ))
        .expect("moto answers");

    let out = cli.ok(&["plan", "--stats"]);
    assert!(
        out.contains("Plan: 33 to add, 0 to change, 0 to destroy."),
        "{out}"
    );
    assert!(
        out.contains("Refresh: 0 resources read with 0 API calls"),
        "{out}"
    );

    let out = cli.ok(&["apply", "--auto-approve"]);
    assert!(
        out.contains("Apply complete! Resources: 33 added, 0 changed, 0 destroyed."),
        "{out}"
    );

    let o = cli.run(&["plan", "--stats", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("no changes are needed"), "{out}");
    assert!(out.contains("Refresh: 33 resources read with "), "{out}");
    // The elastic IP gave the app server a new public IP after it was recorded: that is
    // no drift, and the next apply records it.
    assert!(
        out.contains("Note: 1 object has values the provider set since the last apply"),
        "{out}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&cli.ok(&["plan", "--format", "json"])).expect("a JSON plan");
    let calls = &json["refresh_stats"]["api_calls"];
    assert!(calls["ec2"].as_u64().unwrap() >= 1, "{json:#}");
    assert!(calls["route53"].as_u64().unwrap() >= 1, "{json:#}");

    // Someone renames the app server in the console. The drift shows the name, not the
    // public IP the elastic IP brought.
    let app = cli.state(&["state", "show", &stack, "aws_instance.app"]);
    let app_id = attribute(&app, "id");
    rt.block_on(
        sdk.ec2
            .create_tags()
            .resources(&app_id)
            .tags(Tag::builder().key("Name").value("renamed-by-hand").build())
            .send(),
    )
    .unwrap();
    let history = cli.state(&["state", "history", &stack]);

    // --refresh-only shows the drift and plans nothing else.
    let o = cli.run(&["plan", "--refresh-only", "--detailed-exitcode"]);
    let out = stdout(&o);
    assert!(
        out.contains("Objects have changed outside of Omniform"),
        "{out}"
    );
    assert!(out.contains("aws_instance.app"), "{out}");
    assert!(out.contains("renamed-by-hand"), "{out}");
    assert!(!out.contains("public_ip"), "{out}");
    assert!(!out.contains("to add"), "{out}");
    assert_eq!(
        cli.state(&["state", "history", &stack]),
        history,
        "a plan writes nothing"
    );

    // apply --refresh-only records it without touching the server.
    cli.ok(&["apply", "--refresh-only", "--auto-approve"]);
    let app = cli.state(&["state", "show", &stack, "aws_instance.app"]);
    assert!(app.contains("renamed-by-hand"), "{app}");
    let eip = cli.state(&["state", "show", &stack, "aws_eip.app"]);
    assert_eq!(attribute(&app, "public_ip"), attribute(&eip, "public_ip"));
    assert_ne!(cli.state(&["state", "history", &stack]), history);
    let live = rt
        .block_on(sdk.ec2.describe_instances().instance_ids(&app_id).send())
        .unwrap();
    let tags = live.reservations()[0].instances()[0].tags().to_vec();
    assert!(tags.iter().any(|t| t.value() == Some("renamed-by-hand")));

    // Now a normal plan puts the name back.
    let o = cli.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(2), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("# aws_instance.app will be updated in-place"),
        "{out}"
    );
    assert!(
        out.contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{out}"
    );

    // Forget the elastic IP, then import it back by its allocation id.
    let eip = cli.state(&["state", "show", &stack, "aws_eip.app"]);
    let allocation = attribute(&eip, "allocation_id");
    cli.state(&["state", "rm", &stack, "aws_eip.app"]);
    let out = cli.ok(&["plan"]);
    assert!(out.contains("# aws_eip.app will be created"), "{out}");
    let out = cli.ok(&["import", "aws_eip.app", &allocation]);
    assert!(out.contains("aws_eip.app"), "{out}");
    let out = cli.ok(&["plan"]);
    assert!(
        !out.contains("aws_eip.app"),
        "imported as the stack says:\n{out}"
    );
    assert!(
        out.contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{out}"
    );

    cli.ok(&["apply", "--auto-approve"]);
    let o = cli.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));

    let out = cli.ok(&["destroy", "--auto-approve"]);
    assert!(out.contains("33 destroyed"), "{out}");
    let running = rt
        .block_on(
            sdk.ec2
                .describe_instances()
                .filters(
                    Filter::builder()
                        .name("instance-state-name")
                        .values("pending")
                        .values("running")
                        .values("stopped")
                        .build(),
                )
                .send(),
        )
        .unwrap();
    assert!(running.reservations().is_empty(), "{running:?}");
    let addresses = rt.block_on(sdk.ec2.describe_addresses().send()).unwrap();
    assert!(addresses.addresses().is_empty());
    assert!(cli.state(&["state", "list", &stack]).trim().is_empty());
}

#[test]
fn credentials_and_region_from_a_named_profile() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".aws")).unwrap();
    std::fs::write(
        home.join(".aws/credentials"),
        "[prod]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .unwrap();
    std::fs::write(
        home.join(".aws/config"),
        "[profile prod]\nregion = eu-west-1\n",
    )
    .unwrap();
    let stack = write_stack(
        dir.path(),
        &format!(
            r#"[stack]
name = "profiled"

[provider.aws]
profile = "prod"
endpoint_url = "{}"
request_headers = {{ "x-moto-account-id" = "{}" }}

[resource.aws_security_group.web]
name = "web"
"#,
            moto(),
            account()
        ),
    );
    let run = |args: &[&str]| {
        let mut c = without_credentials(dir.path());
        c.env("AWS_CONFIG_FILE", home.join(".aws/config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", home.join(".aws/credentials"))
            .args(args)
            .arg(&stack)
            .arg("--auto-approve");
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
        stdout(&o)
    };
    run(&["apply"]);
    let shown = run_in(
        dir.path(),
        &[
            "state",
            "show",
            stack.to_str().unwrap(),
            "aws_security_group.web",
        ],
    );
    // The region came from the profile.
    assert!(
        stdout(&shown).contains("arn:aws:ec2:eu-west-1:"),
        "{}",
        stdout(&shown)
    );
    let out = run(&["destroy"]);
    assert!(out.contains("1 destroyed"), "{out}");
}
