use insta::assert_snapshot;
use omniform::{Action, ActionReason, InstanceAddress, PlanMode, Snapshot, Value};
use omniform_tests::{data_state, plan, plan_with, render_diags, renderings, state};

fn snapshot_all(name: &str, plan: &omniform::Plan) {
    let (text, json, md) = renderings(plan);
    assert_snapshot!(format!("{name}.text"), text);
    assert_snapshot!(format!("{name}.json"), json);
    assert_snapshot!(format!("{name}.md"), md);
}

fn action(plan: &omniform::Plan, addr: &str) -> Action {
    let addr: InstanceAddress = addr.parse().unwrap();
    plan.changes
        .iter()
        .find(|c| c.address == addr)
        .unwrap_or_else(|| panic!("no change for {addr}"))
        .action
}

const NETWORK: &str = r#"
[stack]
name = "t"

[resource.omniform_data.network]
input = { cidr = "10.0.0.0/16", name = "net" }
"#;

#[test]
fn create_with_unknowns() {
    let p = plan(
        &format!(
            "{NETWORK}
[resource.omniform_data.server]
input = {{ net = \"${{omniform_data.network.id}}\", cidr = \"${{omniform_data.network.output.cidr}}\", label = \"srv-${{omniform_data.network.id}}\" }}

[output.server]
value = \"${{omniform_data.server.id}}\"
"
        ),
        &Snapshot::empty("t"),
    );
    assert_eq!(p.summary().add, 2);
    let server = p
        .changes
        .iter()
        .find(|c| c.address.resource.name == "server")
        .unwrap();
    let after = server.after.as_ref().unwrap();
    assert!(
        after
            .get_path(&"input.net".parse().unwrap())
            .unwrap()
            .is_unknown()
    );
    assert!(
        after
            .get_path(&"input.label".parse().unwrap())
            .unwrap()
            .is_unknown()
    );
    assert_eq!(
        server.dependencies,
        vec!["omniform_data.network".parse().unwrap()]
    );
    snapshot_all("create_with_unknowns", &p);
}

#[test]
fn no_changes_when_state_matches() {
    let prior = state(
        "t",
        vec![(
            "omniform_data.network",
            data_state(
                "id-1",
                Value::map([("cidr", "10.0.0.0/16"), ("name", "net")]),
                Value::Null,
            ),
        )],
    );
    let p = plan(NETWORK, &prior);
    assert!(!p.has_changes());
    assert_eq!(action(&p, "omniform_data.network"), Action::NoOp);
    snapshot_all("no_changes", &p);
}

#[test]
fn update_in_place_makes_output_unknown() {
    let prior = state(
        "t",
        vec![(
            "omniform_data.network",
            data_state(
                "id-1",
                Value::map([("cidr", "10.1.0.0/16"), ("name", "net")]),
                Value::Null,
            ),
        )],
    );
    let p = plan(NETWORK, &prior);
    let c = &p.changes[0];
    assert_eq!(c.action, Action::Update);
    assert!(
        c.after
            .as_ref()
            .unwrap()
            .get_path(&"output".parse().unwrap())
            .unwrap()
            .is_unknown()
    );
    assert_eq!(
        c.after.as_ref().unwrap().get_path(&"id".parse().unwrap()),
        Some(&Value::from("id-1"))
    );
    snapshot_all("update", &p);
}

const REPLACED: &str = r#"
[stack]
name = "t"

[resource.omniform_data.app]
input = "v1"
triggers_replace = ["release-2"]
"#;

fn replaced_prior() -> Snapshot {
    state(
        "t",
        vec![(
            "omniform_data.app",
            data_state("id-app", Value::from("v1"), Value::from(vec!["release-1"])),
        )],
    )
}

#[test]
fn replace_delete_then_create() {
    let p = plan(REPLACED, &replaced_prior());
    let c = &p.changes[0];
    assert_eq!(c.action, Action::DeleteThenCreate);
    assert_eq!(c.reason, Some(ActionReason::ReplaceBecauseCannotUpdate));
    assert_eq!(c.replace_paths, vec!["triggers_replace".parse().unwrap()]);
    assert!(
        c.after
            .as_ref()
            .unwrap()
            .get_path(&"id".parse().unwrap())
            .unwrap()
            .is_unknown()
    );
    assert_eq!(p.summary().add, 1);
    assert_eq!(p.summary().destroy, 1);
    snapshot_all("replace_delete_then_create", &p);
}

#[test]
fn replace_create_then_delete() {
    let text = format!(
        "{REPLACED}\n[resource.omniform_data.app.lifecycle]\ncreate_before_destroy = true\n"
    );
    let p = plan(&text, &replaced_prior());
    assert_eq!(p.changes[0].action, Action::CreateThenDelete);
    snapshot_all("replace_create_then_delete", &p);
}

#[test]
fn replace_by_request() {
    let prior = state(
        "t",
        vec![(
            "omniform_data.app",
            data_state("id-app", Value::from("v1"), Value::from(vec!["release-2"])),
        )],
    );
    let p = plan_with(REPLACED, &prior, |o| {
        o.replace = vec!["omniform_data.app".parse().unwrap()]
    })
    .unwrap();
    assert_eq!(p.changes[0].action, Action::DeleteThenCreate);
    assert_eq!(p.changes[0].reason, Some(ActionReason::ReplaceByRequest));
}

#[test]
fn deletes_with_reasons() {
    let prior = state(
        "t",
        vec![
            (
                "omniform_data.gone",
                data_state("id-g", Value::from("x"), Value::Null),
            ),
            (
                "omniform_data.srv[0]",
                data_state("id-0", Value::from("s"), Value::Null),
            ),
            (
                "omniform_data.srv[1]",
                data_state("id-1", Value::from("s"), Value::Null),
            ),
            (
                "omniform_data.srv[2]",
                data_state("id-2", Value::from("s"), Value::Null),
            ),
            (
                "omniform_data.dns[\"api\"]",
                data_state("id-api", Value::from("api"), Value::Null),
            ),
            (
                "omniform_data.dns[\"www\"]",
                data_state("id-www", Value::from("www"), Value::Null),
            ),
        ],
    );
    let p = plan(
        r#"
[stack]
name = "t"

[resource.omniform_data.srv]
count = 2
input = "s"

[resource.omniform_data.dns]
for_each = ["www"]
input = "${each.key}"
"#,
        &prior,
    );
    let reason = |a: &str| {
        p.changes
            .iter()
            .find(|c| c.address.to_string() == a)
            .unwrap()
            .reason
    };
    assert_eq!(
        reason("omniform_data.gone"),
        Some(ActionReason::DeleteBecauseNoResourceConfig)
    );
    assert_eq!(
        reason("omniform_data.srv[2]"),
        Some(ActionReason::DeleteBecauseCountIndex)
    );
    assert_eq!(
        reason("omniform_data.dns[\"api\"]"),
        Some(ActionReason::DeleteBecauseEachKey)
    );
    assert_eq!(action(&p, "omniform_data.srv[1]"), Action::NoOp);
    assert_eq!(action(&p, "omniform_data.dns[\"www\"]"), Action::NoOp);
    assert_eq!(p.summary().destroy, 3);
    snapshot_all("deletes", &p);
}

#[test]
fn destroy_plan_deletes_everything() {
    let prior = replaced_prior();
    let p = plan_with(REPLACED, &prior, |o| o.mode = PlanMode::Destroy).unwrap();
    assert_eq!(p.changes.len(), 1);
    assert_eq!(p.changes[0].action, Action::Delete);
    assert_eq!(p.changes[0].reason, None);
}

#[test]
fn sensitive_values_are_masked_everywhere() {
    let text = r#"
[stack]
name = "t"

[variable.token]
type = "string"
default = "tok-SECRET-123"
sensitive = true

[resource.random_password.db]
length = 24

[resource.omniform_data.config]
input = { token = "${var.token}", header = "Bearer ${var.token}", db = "${random_password.db.result}", plain = "visible" }

[output.token]
value = "${var.token}"
sensitive = true
"#;
    let p = plan(text, &Snapshot::empty("t"));
    let (t, j, m) = renderings(&p);
    for rendering in [&t, &j, &m] {
        assert!(
            !rendering.contains("tok-SECRET-123"),
            "secret leaked:\n{rendering}"
        );
        assert!(rendering.contains("visible"));
    }
    let json: serde_json::Value = serde_json::from_str(&j).unwrap();
    let config = json["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "config")
        .unwrap();
    assert_eq!(config["change"]["after_sensitive"]["input"]["token"], true);
    assert_eq!(config["change"]["after_sensitive"]["input"]["header"], true);
    assert_eq!(
        config["change"]["after"]["input"]["token"],
        serde_json::Value::Null
    );
    assert_eq!(json["variables"]["token"]["value"], serde_json::Value::Null);
    snapshot_all("sensitive", &p);
}

#[test]
fn sensitive_output_must_be_declared() {
    let text = r#"
[stack]
name = "t"

[variable.token]
type = "string"
default = "x"
sensitive = true

[output.token]
value = "${var.token}"
"#;
    let err = plan_with(text, &Snapshot::empty("t"), |_| {}).unwrap_err();
    assert_snapshot!(render_diags(&err));
}

#[test]
fn count_and_for_each_expand() {
    let text = r#"
[stack]
name = "t"

[variable.zones]
type = "map"
default = { a = "10.0.1.0/24", b = "10.0.2.0/24" }

[resource.omniform_data.subnet]
for_each = "${var.zones}"
input = { zone = "${each.key}", cidr = "${each.value}" }

[resource.omniform_data.server]
count = 3
input = { name = "srv-${count.index}", subnet = "${omniform_data.subnet[\"a\"].input.cidr}" }

[output.servers]
value = "${omniform_data.server[*].input.name}"
"#;
    let p = plan(text, &Snapshot::empty("t"));
    let addrs: Vec<String> = p.changes.iter().map(|c| c.address.to_string()).collect();
    assert_eq!(
        addrs,
        vec![
            "omniform_data.server[0]",
            "omniform_data.server[1]",
            "omniform_data.server[2]",
            "omniform_data.subnet[\"a\"]",
            "omniform_data.subnet[\"b\"]"
        ]
    );
    let out = p.outputs.iter().find(|o| o.name == "servers").unwrap();
    assert_eq!(
        out.after,
        Some(Value::from(vec!["srv-0", "srv-1", "srv-2"]))
    );
    snapshot_all("count_for_each", &p);
}

const LAYERED: &str = r#"
[stack]
name = "t"

[resource.omniform_data.network]
input = "net"

[resource.omniform_data.subnet]
input = "${omniform_data.network.id}"

[resource.omniform_data.server]
count = 2
input = "${omniform_data.subnet.id}"

[resource.omniform_data.dns]
input = "${omniform_data.server[*].id}"

[resource.omniform_data.unrelated]
input = "u"
"#;

#[test]
fn target_takes_dependencies() {
    let p = plan_with(LAYERED, &Snapshot::empty("t"), |o| {
        o.targets = vec!["omniform_data.server[1]".parse().unwrap()]
    })
    .unwrap();
    let addrs: Vec<String> = p.changes.iter().map(|c| c.address.to_string()).collect();
    assert_eq!(
        addrs,
        vec![
            "omniform_data.network",
            "omniform_data.server[1]",
            "omniform_data.subnet"
        ]
    );
    assert!(p.warnings.iter().any(|w| w.summary.contains("targeting")));
    snapshot_all("target", &p);
}

#[test]
fn exclude_takes_dependents() {
    let p = plan_with(LAYERED, &Snapshot::empty("t"), |o| {
        o.excludes = vec!["omniform_data.subnet".parse().unwrap()]
    })
    .unwrap();
    let addrs: Vec<String> = p.changes.iter().map(|c| c.address.to_string()).collect();
    assert_eq!(
        addrs,
        vec!["omniform_data.network", "omniform_data.unrelated"]
    );
}

#[test]
fn exclude_one_instance() {
    let p = plan_with(LAYERED, &Snapshot::empty("t"), |o| {
        o.excludes = vec!["omniform_data.server[0]".parse().unwrap()]
    })
    .unwrap();
    let addrs: Vec<String> = p.changes.iter().map(|c| c.address.to_string()).collect();
    assert_eq!(
        addrs,
        vec![
            "omniform_data.network",
            "omniform_data.server[1]",
            "omniform_data.subnet",
            "omniform_data.unrelated"
        ]
    );
}

#[test]
fn target_that_matches_nothing_is_an_error() {
    let err = plan_with(LAYERED, &Snapshot::empty("t"), |o| {
        o.targets = vec!["omniform_data.servr".parse().unwrap()]
    })
    .unwrap_err();
    assert_snapshot!(render_diags(&err));
}

#[test]
fn ignore_changes_suppresses_diffs() {
    let text = r#"
[stack]
name = "t"

[resource.omniform_data.server]
input = { name = "new-name", size = 2 }

[resource.omniform_data.server.lifecycle]
ignore_changes = ["input.name"]
"#;
    let prior = state(
        "t",
        vec![(
            "omniform_data.server",
            data_state(
                "id",
                Value::map([("name", Value::from("old-name")), ("size", Value::from(2))]),
                Value::Null,
            ),
        )],
    );
    let p = plan(text, &prior);
    assert_eq!(p.changes[0].action, Action::NoOp);
    let changed = text.replace("size = 2", "size = 3");
    let p = plan(&changed, &prior);
    assert_eq!(p.changes[0].action, Action::Update);
    let after = p.changes[0].after.as_ref().unwrap();
    assert_eq!(
        after.get_path(&"input.name".parse().unwrap()),
        Some(&Value::from("old-name"))
    );
}

#[test]
fn multi_line_strings_diff_by_line() {
    let text = "[stack]\nname = \"t\"\n\n[resource.omniform_data.init]\ninput = \"\"\"\n#cloud-config\npackages:\n  - docker-ce\n  - docker-compose-plugin\nruncmd:\n  - systemctl enable docker\n\"\"\"\n";
    let prior = state(
        "t",
        vec![(
            "omniform_data.init",
            data_state(
                "id",
                Value::from(
                    "#cloud-config\npackages:\n  - docker-ce\nruncmd:\n  - systemctl enable docker\n",
                ),
                Value::Null,
            ),
        )],
    );
    let p = plan(text, &prior);
    let (t, _, _) = renderings(&p);
    assert!(
        t.contains("+ docker-compose-plugin") || t.contains("+   - docker-compose-plugin"),
        "{t}"
    );
    assert_snapshot!("multiline.text", t);
}

#[test]
fn prevent_destroy_stops_a_replacement() {
    let text =
        format!("{REPLACED}\n[resource.omniform_data.app.lifecycle]\nprevent_destroy = true\n");
    let err = plan_with(&text, &replaced_prior(), |_| {}).unwrap_err();
    assert_snapshot!(render_diags(&err));
}

#[test]
fn prevent_destroy_in_state_outlives_the_block() {
    let mut prior = replaced_prior();
    for inst in prior.resources.values_mut() {
        inst.prevent_destroy = true;
    }
    let err = plan_with("[stack]\nname = \"t\"\n", &prior, |_| {}).unwrap_err();
    let text = render_diags(&err);
    assert!(
        text.contains("omniform_data.app has lifecycle.prevent_destroy set"),
        "{text}"
    );
    assert!(text.contains("state rm"), "{text}");
}

#[test]
fn rotation_replaces_old_keys() {
    let text = "[stack]\nname = \"t\"\n[resource.random_id.key]\nbyte_length = 16\nrotate_after_days = 90\n";
    let key_state = Value::map([
        ("byte_length", Value::from(16)),
        ("rotate_after_days", Value::from(90)),
        ("sensitive", Value::from(false)),
        ("hex", Value::from("00112233445566778899aabbccddeeff")),
        ("id", Value::from("ABEiM0RVZneImaq7zN3u_w")),
        ("b64_url", Value::from("ABEiM0RVZneImaq7zN3u_w")),
        ("b64_std", Value::from("ABEiM0RVZneImaq7zN3u/w==")),
    ]);
    let mut prior = state("t", vec![("random_id.key", key_state)]);
    let fresh = plan(text, &prior);
    assert_eq!(fresh.changes[0].action, Action::NoOp);
    for inst in prior.resources.values_mut() {
        inst.created_at = omniform_tests::test_now() - omniform::time::Duration::days(91);
    }
    let due = plan(text, &prior);
    assert_eq!(due.changes[0].action, Action::DeleteThenCreate);
    assert_eq!(
        due.changes[0].reason,
        Some(ActionReason::ReplaceBecauseRotationDue)
    );
    assert_eq!(
        due.changes[0].reason_detail.as_deref(),
        Some("rotation due: created 91 days ago (rotate_after_days = 90)")
    );
    let (t, _, _) = renderings(&due);
    assert!(t.contains("# (rotation due: created 91 days ago"), "{t}");
}

#[test]
fn markdown_stays_under_the_comment_limit() {
    let mut text = String::from("[stack]\nname = \"big\"\n");
    for i in 0..2000 {
        text.push_str(&format!("[resource.omniform_data.r{i}]\ninput = {{ name = \"resource-{i}\", payload = \"{}\" }}\n", "x".repeat(40)));
    }
    let p = plan(&text, &Snapshot::empty("big"));
    let md = omniform::render::markdown::plan(&p);
    assert!(
        md.chars().count() <= omniform::render::markdown::COMMENT_LIMIT,
        "{}",
        md.chars().count()
    );
    assert!(md.starts_with(
        "### Omniform plan for `big`\n\n**Plan: 2000 to add, 0 to change, 0 to destroy.**"
    ));
    assert!(
        md.contains(
            "diffs were left out to keep this comment under GitHub's 65536-character limit"
        )
    );
}
