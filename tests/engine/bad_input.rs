//! Every kind of mistake a user can make in a stack, each with the message, the position
//! and the hint it gets. The snapshots are what the CLI prints.

use insta::assert_snapshot;
use omniform::{Snapshot, VariableInputs};
use omniform_tests::{plan_with, render_diags, stack};

/// Parses, validates and plans `text`, returning the rendered diagnostics.
fn diagnose(text: &str) -> String {
    match plan_with(text, &Snapshot::empty("t"), |_| {}) {
        Ok(_) => panic!("expected diagnostics for:\n{text}"),
        Err(d) => render_diags(&d),
    }
}

const HEAD: &str = "[stack]\nname = \"t\"\n\n";

#[test]
fn toml_syntax() {
    let d = diagnose(&format!(
        "{HEAD}[resource.omniform_data.a]\ninput = {{ name = \"x\" \n"
    ));
    assert!(d.starts_with("stack.toml:5:"), "{d}");
    assert_snapshot!(d);
}

#[test]
fn unknown_top_level_table() {
    assert_snapshot!(diagnose(&format!(
        "{HEAD}[resources.omniform_data.a]\ninput = 1\n"
    )));
}

#[test]
fn unknown_resource_type() {
    assert_snapshot!(diagnose(&format!(
        "{HEAD}[resource.omniform_dat.a]\ninput = 1\n"
    )));
}

#[test]
fn unknown_attribute() {
    assert_snapshot!(diagnose(&format!(
        "{HEAD}[resource.omniform_data.a]\ninptu = 1\n"
    )));
}

#[test]
fn computed_attribute_set() {
    assert_snapshot!(diagnose(&format!(
        "{HEAD}[resource.omniform_data.a]\nid = \"mine\"\n"
    )));
}

#[test]
fn missing_required_attribute() {
    assert_snapshot!(diagnose(&format!(
        "{HEAD}[resource.random_password.a]\nspecial = false\n"
    )));
}

#[test]
fn wrong_value_type() {
    assert_snapshot!(diagnose(&format!(
        "{HEAD}[resource.random_password.a]\nlength = 16\nspecial = [\"yes\"]\n"
    )));
}

#[test]
fn wrong_value_type_through_a_variable() {
    assert_snapshot!(diagnose(&format!(
        "{HEAD}[variable.len]\ntype = \"string\"\ndefault = \"long\"\n\n[resource.random_id.a]\nbyte_length = \"${{var.len}}\"\n"
    )));
}

#[test]
fn reference_to_missing_resource() {
    assert_snapshot!(diagnose(&format!(
        "{HEAD}[resource.omniform_data.a]\ninput = \"${{omniform_data.netwrk.id}}\"\n\n[resource.omniform_data.network]\n"
    )));
}

#[test]
fn reference_to_missing_attribute() {
    assert_snapshot!(diagnose(&format!(
        "{HEAD}[resource.omniform_data.a]\ninput = \"${{omniform_data.b.identifier}}\"\n\n[resource.omniform_data.b]\n"
    )));
}

#[test]
fn reference_to_missing_variable() {
    assert_snapshot!(diagnose(&format!(
        "{HEAD}[variable.domain]\ndefault = \"x\"\n\n[resource.omniform_data.a]\ninput = \"www.${{var.domian}}\"\n"
    )));
}

#[test]
fn reference_to_missing_instance_key() {
    assert_snapshot!(diagnose(&format!(
        "{HEAD}[resource.omniform_data.srv]\ncount = 2\n\n[resource.omniform_data.a]\ninput = \"${{omniform_data.srv[5].id}}\"\n"
    )));
}

#[test]
fn reference_without_instance_key() {
    assert_snapshot!(diagnose(&format!(
        "{HEAD}[resource.omniform_data.srv]\ncount = 2\n\n[resource.omniform_data.a]\ninput = \"${{omniform_data.srv.id}}\"\n"
    )));
}

#[test]
fn count_and_for_each_together() {
    assert_snapshot!(diagnose(&format!(
        "{HEAD}[resource.omniform_data.a]\ncount = 2\nfor_each = [\"x\"]\n"
    )));
}

#[test]
fn negative_count() {
    assert_snapshot!(diagnose(&format!(
        "{HEAD}[resource.omniform_data.a]\ncount = -2\n"
    )));
}

#[test]
fn negative_count_through_a_variable() {
    assert_snapshot!(diagnose(&format!(
        "{HEAD}[variable.n]\ntype = \"number\"\ndefault = -1\n\n[resource.omniform_data.a]\ncount = \"${{var.n}}\"\n"
    )));
}

#[test]
fn count_known_only_after_apply() {
    assert_snapshot!(diagnose(&format!(
        "{HEAD}[resource.random_id.n]\nbyte_length = 1\n\n[resource.omniform_data.a]\ncount = \"${{random_id.n.hex}}\"\n"
    )));
}

#[test]
fn cycle() {
    let d = diagnose(&format!(
        "{HEAD}[resource.omniform_data.a]\ninput = \"${{omniform_data.b.id}}\"\n\n[resource.omniform_data.b]\ninput = \"${{omniform_data.c.id}}\"\n\n[resource.omniform_data.c]\ndepends_on = [\"omniform_data.a\"]\n"
    ));
    assert!(d.contains("dependency cycle: omniform_data.a -> omniform_data.b -> omniform_data.c -> omniform_data.a"), "{d}");
    assert_snapshot!(d);
}

#[test]
fn duplicate_names() {
    assert_snapshot!(diagnose(&format!(
        "{HEAD}[resource.omniform_data.a]\ninput = 1\n\n[resource.omniform_data.a]\ninput = 2\n"
    )));
}

#[test]
fn duplicate_for_each_keys() {
    assert_snapshot!(diagnose(&format!(
        "{HEAD}[resource.omniform_data.a]\nfor_each = [\"x\", \"y\", \"x\"]\n"
    )));
}

#[test]
fn count_index_outside_count() {
    assert_snapshot!(diagnose(&format!(
        "{HEAD}[resource.omniform_data.a]\ninput = \"srv-${{count.index}}\"\n"
    )));
}

#[test]
fn malformed_reference() {
    assert_snapshot!(diagnose(&format!(
        "{HEAD}[resource.omniform_data.a]\ninput = \"${{omniform_data}}\"\n"
    )));
}

#[test]
fn every_mistake_in_a_file_at_once() {
    let d = diagnose(&format!(
        "{HEAD}[resource.omniform_data.a]\ninptu = 1\n\n[resource.random_password.b]\nspecial = 3\n\n[resource.omniform_data.c]\ninput = \"${{var.nope}}\"\n"
    ));
    assert!(d.ends_with("error: found 4 errors\n"), "{d}");
}

#[test]
fn invalid_var() {
    let s = stack(&format!("{HEAD}[variable.count]\ntype = \"number\"\n\n[variable.name]\ntype = \"string\"\ndefault = \"x\"\n")).unwrap();
    let inputs = VariableInputs {
        cli: vec!["count=three".into(), "nmae=y".into(), "justtext".into()],
        ..Default::default()
    };
    let d = omniform::resolve_variables(&s, &inputs).unwrap_err();
    assert_snapshot!(render_diags(&d));
}

#[test]
fn variable_without_value() {
    let s = stack(&format!("{HEAD}[variable.region]\ntype = \"string\"\n")).unwrap();
    let d = omniform::resolve_variables(&s, &VariableInputs::default()).unwrap_err();
    assert_snapshot!(render_diags(&d));
}

#[test]
fn variable_precedence() {
    let s = stack(&format!(
        "{HEAD}[variable.v]\ntype = \"string\"\ndefault = \"default\"\n"
    ))
    .unwrap();
    // As in Terraform: defaults < environment < files (later wins) < --var.
    let value =
        |inputs: &VariableInputs| omniform::resolve_variables(&s, inputs).unwrap()["v"].clone();
    let mut inputs = VariableInputs {
        env: vec![("v".into(), "env".into())],
        ..Default::default()
    };
    assert_eq!(value(&inputs), "env".into());
    inputs
        .files
        .push(omniform::SourceFile::new("a.toml", "v = \"file a\"\n"));
    inputs
        .files
        .push(omniform::SourceFile::new("b.toml", "v = \"file b\"\n"));
    assert_eq!(value(&inputs), "file b".into());
    inputs.cli.push("v=cli".into());
    assert_eq!(value(&inputs), "cli".into());
}

#[test]
fn bad_var_file() {
    let s = stack(&format!(
        "{HEAD}[variable.n]\ntype = \"number\"\ndefault = 1\n"
    ))
    .unwrap();
    let inputs = VariableInputs {
        files: vec![omniform::SourceFile::new(
            "vars.toml",
            "n = \"many\"\nm = 2\n",
        )],
        ..Default::default()
    };
    assert_snapshot!(render_diags(
        &omniform::resolve_variables(&s, &inputs).unwrap_err()
    ));
}
