//! The engine's lifecycle, pinned against the in-process test provider: create, no-op,
//! update, both replacement orders, delete, destroy, drift, partial failure and resume,
//! a provider that breaks its promise, rollback.

use omniform::state::StateStore;
use omniform::{Action, ActionReason, Desired, Event, PlanMode, Value};
use omniform_tests::{Lab, test_now};

fn stack(body: &str) -> String {
    format!("[stack]\nname = \"lab\"\n\n{body}")
}

const V1: &str = r#"
[resource.test_resource.a]
name = "a"
size = 1

[resource.test_resource.b]
name = "b"
link = "${test_resource.a.id}"
"#;

fn position(log: &[String], entry: &str) -> usize {
    log.iter()
        .position(|l| l == entry)
        .unwrap_or_else(|| panic!("{entry} not in {log:?}"))
}

#[tokio::test]
async fn create_noop_update_replace_delete_destroy() {
    let lab = Lab::new();

    // Create: b's link is filled from a's id at apply time.
    let applied = lab.apply(&stack(V1)).await;
    assert!(applied.report.is_success(), "{:?}", applied.report.failed);
    assert_eq!(applied.serial, Some(1));
    assert_eq!(applied.report.counts.added, 2);
    let a_id = lab.attr("test_resource.a", "id");
    assert_eq!(lab.attr("test_resource.b", "link"), a_id);
    assert_eq!(lab.provider.objects().len(), 2);
    assert_eq!(
        lab.state().resources[&"test_resource.b".parse().unwrap()].dependencies,
        vec!["test_resource.a".parse().unwrap()]
    );

    // No-op: nothing to do, nothing written.
    let plan = lab.plan(&stack(V1)).await.unwrap();
    assert!(!plan.has_changes(), "{:?}", plan.changes);
    lab.provider.clear_log();
    let applied = lab.apply(&stack(V1)).await;
    assert_eq!(applied.serial, None);
    assert!(
        lab.provider.log().iter().all(|l| l.starts_with("read")),
        "{:?}",
        lab.provider.log()
    );

    // Update in place: the version becomes known after apply.
    let v2 = V1.replace("size = 1", "size = 2");
    let plan = lab.plan(&stack(&v2)).await.unwrap();
    let a = plan
        .changes
        .iter()
        .find(|c| c.address.resource.name == "a")
        .unwrap();
    assert_eq!(a.action, Action::Update);
    assert!(
        a.after
            .as_ref()
            .unwrap()
            .get_path(&"version".parse().unwrap())
            .unwrap()
            .is_unknown()
    );
    let applied = lab.apply(&stack(&v2)).await;
    assert_eq!(applied.report.counts.changed, 1);
    assert_eq!(lab.attr("test_resource.a", "version"), Value::from(2));
    assert_eq!(
        lab.attr("test_resource.a", "id"),
        a_id,
        "an update keeps the object"
    );

    // Replace, delete first: a new id flows into b.
    let v3 = v2.replace("name = \"a\"", "name = \"a2\"");
    lab.provider.clear_log();
    let applied = lab.apply(&stack(&v3)).await;
    assert!(applied.report.is_success(), "{:?}", applied.report.failed);
    let log = lab.provider.log();
    assert!(position(&log, "delete test_resource.a") < position(&log, "create test_resource.a"));
    assert!(position(&log, "create test_resource.a") < position(&log, "update test_resource.b"));
    let new_id = lab.attr("test_resource.a", "id");
    assert_ne!(new_id, a_id);
    assert_eq!(lab.attr("test_resource.b", "link"), new_id);
    assert_eq!(lab.provider.objects().len(), 2);

    // Replace, create first: the old object goes last, after its dependents moved on.
    let v4 = format!(
        "{}\n[resource.test_resource.a.lifecycle]\ncreate_before_destroy = true\n",
        v3.replace("name = \"a2\"", "name = \"a3\"")
    );
    lab.provider.clear_log();
    let applied = lab.apply(&stack(&v4)).await;
    assert!(applied.report.is_success(), "{:?}", applied.report.failed);
    let log = lab.provider.log();
    assert!(position(&log, "create test_resource.a") < position(&log, "update test_resource.b"));
    assert!(position(&log, "update test_resource.b") < position(&log, "delete test_resource.a"));
    assert_eq!(lab.provider.objects().len(), 2);
    assert_eq!(applied.report.counts.added, 1);
    assert_eq!(applied.report.counts.destroyed, 1);

    // Delete: b leaves the stack.
    let v5 = v4.replace(
        "[resource.test_resource.b]\nname = \"b\"\nlink = \"${test_resource.a.id}\"\n",
        "",
    );
    let plan = lab.plan(&stack(&v5)).await.unwrap();
    let b = plan
        .changes
        .iter()
        .find(|c| c.address.resource.name == "b")
        .unwrap();
    assert_eq!(
        (b.action, b.reason),
        (
            Action::Delete,
            Some(ActionReason::DeleteBecauseNoResourceConfig)
        )
    );
    lab.apply(&stack(&v5)).await;
    assert_eq!(lab.provider.objects().len(), 1);
    assert_eq!(lab.state().resources.len(), 1);

    // Destroy.
    let applied = lab
        .apply_with(&stack(&v5), |o| o.mode = PlanMode::Destroy)
        .await;
    assert!(applied.report.is_success());
    assert!(lab.provider.objects().is_empty(), "destroy leaves nothing");
    assert!(lab.state().resources.is_empty());

    // Every write is kept.
    let history = lab.store.history().unwrap();
    assert_eq!(
        history.iter().map(|h| h.serial).collect::<Vec<_>>(),
        (1..=history.len() as u64).collect::<Vec<_>>()
    );
    assert_eq!(lab.store.read_serial(1).unwrap().resources.len(), 2);
}

#[tokio::test]
async fn deletes_run_dependents_first() {
    let lab = Lab::new();
    let chain = r#"
[resource.test_resource.net]
name = "net"

[resource.test_resource.subnet]
name = "subnet"
link = "${test_resource.net.id}"

[resource.test_resource.server]
name = "server"
link = "${test_resource.subnet.id}"
"#;
    lab.apply(&stack(chain)).await;
    lab.provider.clear_log();
    lab.apply_with(&stack(chain), |o| o.mode = PlanMode::Destroy)
        .await;
    assert_eq!(
        lab.provider
            .log()
            .into_iter()
            .filter(|l| l.starts_with("delete"))
            .collect::<Vec<_>>(),
        vec![
            "delete test_resource.server",
            "delete test_resource.subnet",
            "delete test_resource.net"
        ]
    );
}

#[tokio::test]
async fn partial_failure_then_resume() {
    let lab = Lab::new();
    let body = r#"
[resource.test_resource.a]
name = "a"

[resource.test_resource.b]
name = "b"
link = "${test_resource.a.id}"

[resource.test_resource.c]
name = "c"
"#;
    lab.provider.fail_on("a");
    let applied = lab.apply(&stack(body)).await;
    let r = &applied.report;
    assert_eq!(r.failed.len(), 1);
    assert_eq!(r.failed[0].0.to_string(), "test_resource.a");
    assert!(
        r.failed[0].1.contains("injected failure"),
        "{}",
        r.failed[0].1
    );
    assert_eq!(
        r.skipped
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        vec!["test_resource.b"]
    );
    assert_eq!(r.counts.added, 1);
    assert_eq!(applied.serial, Some(1), "what finished is recorded");
    assert_eq!(
        lab.state()
            .resources
            .keys()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        vec!["test_resource.c"]
    );
    let events = lab.events.lock().unwrap().clone();
    assert!(events.iter().any(|e| matches!(e, Event::PlannedChange { address, action: Action::Create, .. } if address.to_string() == "test_resource.a")));
    assert!(events.iter().any(|e| matches!(e, Event::ApplyComplete { address, .. } if address.to_string() == "test_resource.c")));
    assert!(events.iter().any(|e| matches!(e, Event::ApplyErrored { address, .. } if address.to_string() == "test_resource.a")));
    assert!(events.iter().any(
        |e| matches!(e, Event::Skipped { address } if address.to_string() == "test_resource.b")
    ));

    // The next plan picks up where it stopped.
    lab.provider.clear_failures();
    let plan = lab.plan(&stack(body)).await.unwrap();
    let creates: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Create)
        .map(|c| c.address.to_string())
        .collect();
    assert_eq!(creates, vec!["test_resource.a", "test_resource.b"]);
    lab.provider.clear_log();
    let applied = lab.apply(&stack(body)).await;
    assert!(applied.report.is_success());
    assert!(
        !lab.provider
            .log()
            .contains(&"create test_resource.c".to_string()),
        "nothing is applied twice"
    );
    assert_eq!(lab.provider.objects().len(), 3);
}

#[tokio::test]
async fn a_result_the_plan_did_not_allow_is_an_error() {
    let lab = Lab::new();
    lab.provider
        .misbehave
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let applied = lab
        .apply(&stack(
            "[resource.test_resource.a]\nname = \"a\"\nsize = 3\n",
        ))
        .await;
    let (addr, message) = &applied.report.failed[0];
    assert_eq!(addr.to_string(), "test_resource.a");
    assert!(
        message.contains(
            "the provider returned a result the plan did not allow: `size` planned 3, got 999"
        ),
        "{message}"
    );
}

#[tokio::test]
async fn drift_is_shown_and_deleted_objects_are_made_again() {
    let lab = Lab::new();
    lab.apply(&stack(V1)).await;
    let a_id = lab.attr("test_resource.a", "id");
    let b_id = lab.attr("test_resource.b", "id");
    lab.provider
        .modify_outside(a_id.as_str().unwrap(), "size", Value::from(7));
    lab.provider.delete_outside(b_id.as_str().unwrap());
    let plan = lab.plan(&stack(V1)).await.unwrap();
    let drift: Vec<(String, Action)> = plan
        .drift
        .iter()
        .map(|d| (d.address.to_string(), d.action))
        .collect();
    assert_eq!(
        drift,
        vec![
            ("test_resource.a".into(), Action::Update),
            ("test_resource.b".into(), Action::Delete)
        ]
    );
    let a = plan
        .changes
        .iter()
        .find(|c| c.address.resource.name == "a")
        .unwrap();
    assert_eq!(a.action, Action::Update, "the drift is undone");
    let b = plan
        .changes
        .iter()
        .find(|c| c.address.resource.name == "b")
        .unwrap();
    assert_eq!(
        (b.action, b.reason),
        (
            Action::Create,
            Some(ActionReason::CreateBecauseDeletedOutside)
        )
    );
    let text = omniform::render::text::plan(&plan, omniform::render::Style::PLAIN);
    assert!(
        text.contains("Objects have changed outside of Omniform"),
        "{text}"
    );
    assert!(
        text.contains("# test_resource.b has been deleted"),
        "{text}"
    );
    let json = omniform::render::json::plan(&plan);
    assert_eq!(json["resource_drift"].as_array().unwrap().len(), 2);
    let drift_events = lab.events.lock().unwrap().clone();
    assert!(drift_events.iter().any(|e| matches!(e, Event::Drift { address, action: Action::Delete } if address.to_string() == "test_resource.b")));
    let applied = lab.apply(&stack(V1)).await;
    assert!(applied.report.is_success());
    assert_eq!(lab.attr("test_resource.a", "size"), Value::from(1));
    assert_eq!(lab.provider.objects().len(), 2);
}

#[tokio::test]
async fn prevent_destroy_is_kept_in_state() {
    let lab = Lab::new();
    lab.apply(&stack("[resource.test_resource.a]\nname = \"a\"\n\n[resource.test_resource.a.lifecycle]\nprevent_destroy = true\n")).await;
    assert!(
        lab.state()
            .resources
            .values()
            .next()
            .unwrap()
            .prevent_destroy
    );
    let err = lab.plan(&stack("")).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("test_resource.a has lifecycle.prevent_destroy set"),
        "{err}"
    );
    assert_eq!(lab.provider.objects().len(), 1);
}

#[tokio::test]
async fn rollback_to_an_older_serial() {
    let lab = Lab::new();
    let v1 = r#"
[resource.test_resource.a]
name = "a"
size = 1

[resource.test_resource.b]
name = "b"

[resource.random_password.pw]
length = 20

[output.size]
value = "${test_resource.a.size}"

[output.b_id]
value = "${test_resource.b.id}"
"#;
    lab.apply(&stack(v1)).await;
    let pw = lab.attr("random_password.pw", "result");
    let b_id = lab.attr("test_resource.b", "id");
    let v2 = r#"
[resource.test_resource.a]
name = "a"
size = 5

[resource.test_resource.c]
name = "c"

[output.size]
value = "${test_resource.a.size}"
"#;
    lab.apply(&stack(v2)).await;
    assert_eq!(lab.state().serial, 2);

    let current = lab.state();
    let target = lab.store.read_serial(1).unwrap();
    let plan = lab
        .engine
        .rollback_plan(&current, &target, test_now())
        .unwrap();
    let actions: Vec<(String, Action)> = plan
        .changes
        .iter()
        .map(|c| (c.address.to_string(), c.action))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("random_password.pw".into(), Action::Create),
            ("test_resource.a".into(), Action::Update),
            ("test_resource.b".into(), Action::Create),
            ("test_resource.c".into(), Action::Delete),
        ]
    );
    // The stack file is back at v1; its outputs are evaluated over what the rollback made.
    let (v1_stack, v1_vars) = lab.load(&stack(v1)).unwrap();
    let desired = Desired::Fixed {
        outputs_from: Some((&v1_stack, &v1_vars)),
    };
    let applied = lab
        .apply_plan(desired, &plan, &current, &current, "rollback to 1")
        .await;
    assert!(applied.report.is_success(), "{:?}", applied.report.failed);
    assert_eq!(applied.serial, Some(3));
    assert_eq!(lab.attr("test_resource.a", "size"), Value::from(1));
    assert_ne!(
        lab.attr("test_resource.b", "id"),
        b_id,
        "a cloud object is made again, with a new id"
    );
    assert_eq!(
        lab.attr("random_password.pw", "result"),
        pw,
        "a state-only secret comes back exactly"
    );
    assert!(lab.attr("random_password.pw", "result").is_sensitive());
    assert_eq!(lab.state().outputs["size"].value, Value::from(1));
    assert_eq!(
        lab.state().outputs["b_id"].value,
        lab.attr("test_resource.b", "id"),
        "outputs name the objects made again, not the ones the snapshot knew"
    );
    let names: Vec<String> = lab
        .provider
        .objects()
        .values()
        .map(|o| {
            o.get_path(&"name".parse().unwrap())
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"a".to_string()) && names.contains(&"b".to_string()));
    assert_eq!(
        lab.store.history().unwrap().last().unwrap().operation,
        "rollback to 1"
    );
}

#[tokio::test]
async fn parallelism_bounds_provider_calls() {
    let lab = Lab::new();
    lab.provider.set_delay(std::time::Duration::from_millis(20));
    let mut body = String::new();
    for i in 0..12 {
        body.push_str(&format!(
            "[resource.test_resource.r{i}]\nname = \"r{i}\"\n\n"
        ));
    }
    let s = omniform_tests::stack(&stack(&body)).unwrap();
    let vars = Default::default();
    let plan = lab
        .engine
        .plan(
            &s,
            &vars,
            &lab.state(),
            &omniform::PlanOptions::new(test_now()),
        )
        .unwrap();
    let mut opts = omniform::ApplyOptions::new(test_now());
    opts.parallelism = 3;
    let empty = lab.state();
    let recorder = lab.store.begin_journal(&empty).unwrap();
    let report = lab
        .engine
        .apply(
            Desired::Stack {
                stack: &s,
                vars: &vars,
            },
            &plan,
            &empty,
            recorder.as_ref(),
            &omniform::NoHooks,
            &opts,
        )
        .await;
    assert!(report.is_success());
    assert_eq!(lab.provider.objects().len(), 12);
    assert_eq!(
        lab.provider.max_concurrency(),
        3,
        "twelve independent creates, three at a time"
    );
}

#[tokio::test]
async fn an_old_object_not_yet_deleted_is_kept_as_deposed_and_deleted_next_time() {
    let lab = Lab::new();
    let body = |name: &str| {
        stack(&format!(
            "[resource.test_resource.a]\nname = \"{name}\"\n\n[resource.test_resource.a.lifecycle]\ncreate_before_destroy = true\n\n[resource.test_resource.b]\nname = \"b\"\nlink = \"${{test_resource.a.id}}\"\n"
        ))
    };
    lab.apply(&body("a")).await;
    let old_id = lab.attr("test_resource.a", "id");

    // The replacement's new object is made and b moves to it, but the old object's
    // delete fails: the old object stays in state, deposed, instead of being forgotten.
    lab.provider.fail_on("a");
    let applied = lab.apply(&body("a2")).await;
    assert_eq!(
        applied.report.failed.len(),
        1,
        "{:?}",
        applied.report.failed
    );
    assert!(
        applied.report.failed[0]
            .1
            .contains("deleting test object (a)")
    );
    let state = lab.state();
    assert_ne!(lab.attr("test_resource.a", "id"), old_id);
    assert_eq!(
        lab.attr("test_resource.b", "link"),
        lab.attr("test_resource.a", "id")
    );
    assert_eq!(state.deposed.len(), 1);
    let key = state.deposed[0].key.clone();
    assert_eq!(key.len(), 8);
    assert_eq!(
        state.deposed[0]
            .instance
            .attributes
            .get_path(&"id".parse().unwrap()),
        Some(&old_id)
    );
    assert_eq!(lab.provider.objects().len(), 3);

    // The next plan deletes it, and says which object that is.
    lab.provider.clear_failures();
    let plan = lab.plan(&body("a2")).await.unwrap();
    let changes: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .collect();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].action, Action::Delete);
    assert_eq!(changes[0].deposed.as_deref(), Some(key.as_str()));
    let text = omniform::render::text::plan(&plan, omniform::render::Style::PLAIN);
    assert!(
        text.contains(&format!(
            "# test_resource.a (deposed object {key}) will be destroyed"
        )),
        "{text}"
    );
    assert!(
        text.contains("Plan: 0 to add, 0 to change, 1 to destroy."),
        "{text}"
    );
    let json = omniform::render::json::plan(&plan);
    let deposed: Vec<_> = json["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["deposed"] == key.as_str())
        .collect();
    assert_eq!(deposed.len(), 1, "{json:#}");

    let applied = lab.apply(&body("a2")).await;
    assert!(applied.report.is_success(), "{:?}", applied.report.failed);
    assert!(lab.state().deposed.is_empty());
    assert_eq!(lab.provider.objects().len(), 2);
    assert!(
        !lab.provider
            .objects()
            .contains_key(old_id.as_str().unwrap())
    );
    let plan = lab.plan(&body("a2")).await.unwrap();
    assert!(!plan.has_changes());
}
