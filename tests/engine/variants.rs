//! Stack variants: a file that reuses another stack file (`[stack] extends`) under its own
//! name with its own variable values, as staging reuses production.

use std::path::Path;

use insta::assert_snapshot;
use omniform::{Engine, PlanOptions, Snapshot, SourceFile, Value, VariableInputs};
use omniform_tests::render_diags;

const BASE: &str = r#"[stack]
name = "shop-production"

[variable.environment]
type = "string"
default = "production"

[variable.replicas]
type = "number"
default = 3

[resource.omniform_data.server]
count = "${var.replicas}"
input = "${var.environment}-${count.index}"
"#;

const STAGING: &str = r#"[stack]
name = "shop-staging"
extends = "production.toml"

[variables]
environment = "staging"
replicas = 1
"#;

fn files(dir: &Path, variant: &str) -> std::path::PathBuf {
    std::fs::write(dir.join("production.toml"), BASE).unwrap();
    let path = dir.join("staging.toml");
    std::fs::write(&path, variant).unwrap();
    path
}

/// Loads `variant` next to the base and renders what is wrong, with the directory removed.
fn diagnose(variant: &str, inputs: &VariableInputs) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = files(dir.path(), variant);
    let d = match omniform::load_stack(&path) {
        Ok(stack) => match omniform::resolve_variables(&stack, inputs) {
            Ok(_) => panic!("expected diagnostics for:\n{variant}"),
            Err(d) => d,
        },
        Err(d) => d,
    };
    render_diags(&d).replace(&format!("{}/", dir.path().display()), "")
}

#[test]
fn a_variant_plans_its_base_under_its_own_name_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = files(dir.path(), STAGING);
    let stack = omniform::load_stack(&path).expect("the variant loads");
    assert_eq!(stack.name, "shop-staging");
    let vars = omniform::resolve_variables(&stack, &VariableInputs::default()).unwrap();
    assert_eq!(vars["environment"], Value::from("staging"));
    assert_eq!(vars["replicas"], Value::from(1));
    let plan = Engine::new()
        .plan(
            &stack,
            &vars,
            &Snapshot::empty("shop-staging"),
            &PlanOptions::new(omniform::OffsetDateTime::UNIX_EPOCH),
        )
        .unwrap();
    assert_eq!(plan.summary().add, 1);
    let text = omniform::render::text::plan(&plan, omniform::render::Style::PLAIN);
    assert!(text.contains("omniform_data.server[0]"), "{text}");
    assert!(text.contains("\"staging-0\""), "{text}");

    // What the user passes still wins over the variant's values.
    let inputs = VariableInputs {
        files: vec![SourceFile::new("more.toml", "replicas = 2\n")],
        env: vec![("environment".into(), "qa".into())],
        ..Default::default()
    };
    let vars = omniform::resolve_variables(&stack, &inputs).unwrap();
    assert_eq!(vars["replicas"], Value::from(2));
    assert_eq!(vars["environment"], Value::from("qa"));

    // The base alone is still production.
    let base = omniform::load_stack(&dir.path().join("production.toml")).unwrap();
    assert_eq!(base.name, "shop-production");
    let vars = omniform::resolve_variables(&base, &VariableInputs::default()).unwrap();
    assert_eq!(vars["replicas"], Value::from(3));

    // A saved plan for the variant goes stale when either file changes.
    let before = stack.text();
    std::fs::write(&path, STAGING.replace("replicas = 1", "replicas = 2")).unwrap();
    assert_ne!(omniform::load_stack(&path).unwrap().text(), before);
}

#[test]
fn a_variant_value_of_the_wrong_type() {
    let d = diagnose(
        &STAGING.replace("replicas = 1", "replicas = \"one\""),
        &VariableInputs::default(),
    );
    assert!(d.starts_with("staging.toml:7:12: error"), "{d}");
    assert_snapshot!(d);
}

#[test]
fn a_variant_value_for_an_undeclared_variable() {
    let d = diagnose(
        &STAGING.replace("replicas = 1", "replica = 1"),
        &VariableInputs::default(),
    );
    assert!(d.starts_with("staging.toml:7:1: error"), "{d}");
    assert_snapshot!(d);
}

#[test]
fn a_variant_that_declares_resources() {
    let d = diagnose(
        &format!("{STAGING}\n[resource.omniform_data.extra]\ninput = 1\n"),
        &VariableInputs::default(),
    );
    assert!(d.starts_with("staging.toml:9:2: error"), "{d}");
    assert_snapshot!(d);
}

#[test]
fn a_variant_of_a_missing_file() {
    let d = diagnose(
        &STAGING.replace("production.toml", "prod.toml"),
        &VariableInputs::default(),
    );
    assert!(d.starts_with("staging.toml:3:11: error"), "{d}");
    assert_snapshot!(d);
}

#[test]
fn a_variant_without_a_name_of_its_own() {
    let d = diagnose(
        &STAGING.replace("name = \"shop-staging\"\n", ""),
        &VariableInputs::default(),
    );
    assert_snapshot!(d);
}

#[test]
fn variants_do_not_chain() {
    let dir = tempfile::tempdir().unwrap();
    files(dir.path(), STAGING);
    let qa = dir.path().join("qa.toml");
    std::fs::write(
        &qa,
        "[stack]\nname = \"shop-qa\"\nextends = \"staging.toml\"\n",
    )
    .unwrap();
    let d = render_diags(&omniform::load_stack(&qa).unwrap_err())
        .replace(&format!("{}/", dir.path().display()), "");
    assert_snapshot!(d);
}
