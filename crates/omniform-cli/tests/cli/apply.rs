//! Apply, state and history from the command line: saved and stale plans, locks, a killed
//! apply, secrets, rollback.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;

use super::*;

const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn apply(dir: &Path, stack: &Path) -> Output {
    let o = run_in(dir, &["apply", stack.to_str().unwrap(), "--auto-approve"]);
    assert!(
        o.status.success(),
        "apply failed:\n{}\n{}",
        stdout(&o),
        stderr(&o)
    );
    o
}

fn lock_id(err: &str) -> String {
    err.lines()
        .find_map(|l| l.trim().strip_prefix("ID:"))
        .map(|id| id.trim().to_string())
        .unwrap_or_else(|| panic!("no lock id in:\n{err}"))
}

#[test]
fn apply_then_inspect_state() {
    let dir = tempfile::tempdir().unwrap();
    let stack = quickstart_copy(dir.path());
    let s = stack.to_str().unwrap();
    let o = apply(dir.path(), &stack);
    let out = stdout(&o);
    assert!(
        out.contains("Apply complete! Resources: 8 added, 0 changed, 0 destroyed."),
        "{out}"
    );
    assert!(
        out.contains("omniform_data.network: Creation complete after"),
        "CI prints one line per operation:\n{out}"
    );
    assert!(out.contains("encryption_key = <sensitive>"), "{out}");
    assert!(
        stderr(&o).contains("created a new state encryption key"),
        "{}",
        stderr(&o)
    );

    let o = run_in(dir.path(), &["plan", s, "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("No changes."));

    let list = stdout(&run_in(dir.path(), &["state", "list", s]));
    assert_eq!(list.lines().count(), 8, "{list}");
    assert!(list.contains("omniform_data.dns[\"www\"]"));
    let show = stdout(&run_in(
        dir.path(),
        &["state", "show", s, "random_password.cron_secret"],
    ));
    assert!(
        show.contains("resource \"random_password\" \"cron_secret\""),
        "{show}"
    );
    assert!(
        show.contains("result") && show.contains("(sensitive value)"),
        "{show}"
    );
    let out = stdout(&run_in(dir.path(), &["output", s, "network_cidr"]));
    assert_eq!(out, "10.0.0.0/16\n");
    let json: serde_json::Value =
        serde_json::from_slice(&run_in(dir.path(), &["output", s, "--json"]).stdout).unwrap();
    assert_eq!(json["encryption_key"]["sensitive"], true);
    assert_eq!(json["encryption_key"]["value"], serde_json::Value::Null);
    let key = stdout(&run_in(
        dir.path(),
        &["output", s, "encryption_key", "--show-sensitive"],
    ));
    assert_eq!(key.trim().len(), 32, "a 32-character hex key: {key}");
    let json: serde_json::Value = serde_json::from_slice(
        &run_in(dir.path(), &["output", s, "--json", "--show-sensitive"]).stdout,
    )
    .unwrap();
    assert_eq!(json["encryption_key"]["value"], key.trim());

    // Change a variable: history grows by one line per apply.
    let o = run_in(
        dir.path(),
        &["apply", s, "--auto-approve", "--var", "server_count=3"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("Resources: 1 added, 2 changed, 0 destroyed."),
        "{}",
        stdout(&o)
    );
    let history = stdout(&run_in(dir.path(), &["state", "history", s]));
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines.len(), 2, "{history}");
    assert!(
        lines[0].trim_start().starts_with("1 ")
            && lines[0].contains("+8 ~0 -0")
            && lines[0].contains("apply"),
        "{history}"
    );
    assert!(
        lines[1].trim_start().starts_with("2 ") && lines[1].contains("+1 ~2 -0"),
        "{history}"
    );
    let old = stdout(&run_in(
        dir.path(),
        &["state", "show", s, "omniform_data.server", "--serial", "1"],
    ));
    assert!(
        old.contains("server[0]") && old.contains("server[1]") && !old.contains("server[2]"),
        "{old}"
    );

    // state mv and rm write new snapshots.
    let o = run_in(
        dir.path(),
        &[
            "state",
            "mv",
            s,
            "omniform_data.network",
            "omniform_data.net",
        ],
    );
    assert!(
        stdout(&o).contains("Moved omniform_data.network to omniform_data.net"),
        "{}",
        stderr(&o)
    );
    let o = run_in(dir.path(), &["state", "rm", s, "omniform_data.net"]);
    assert!(
        stdout(&o).contains("Removed omniform_data.net"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        stdout(&run_in(dir.path(), &["state", "history", s]))
            .lines()
            .count(),
        4
    );
    let o = run_in(dir.path(), &["state", "rm", s, "omniform_data.nope"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn refuses_to_apply_without_a_terminal_or_approval() {
    let dir = tempfile::tempdir().unwrap();
    let stack = quickstart_copy(dir.path());
    let o = bin()
        .current_dir(dir.path())
        .args(["apply", stack.to_str().unwrap()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("refusing to go ahead without confirmation"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("--auto-approve"));
    assert!(
        !dir.path().join(".omniform/quickstart/snapshots").exists()
            || std::fs::read_dir(dir.path().join(".omniform/quickstart/snapshots"))
                .unwrap()
                .count()
                == 0
    );
    assert!(
        !dir.path().join(".omniform/quickstart/lock.json").exists(),
        "the lock is released"
    );
}

#[test]
fn saved_plan_is_applied_then_refused_when_stale() {
    let dir = tempfile::tempdir().unwrap();
    let stack = quickstart_copy(dir.path());
    let s = stack.to_str().unwrap();
    let plan = dir.path().join("plan.bin");
    let p = plan.to_str().unwrap();
    let o = run_in(dir.path(), &["plan", s, "--out", p]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("omniform apply"), "{}", stdout(&o));
    let shown = stdout(&run_in(dir.path(), &["show", p]));
    assert!(shown.contains("Plan: 8 to add"), "{shown}");
    let o = run_in(dir.path(), &["apply", p]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("Apply complete! Resources: 8 added"),
        "{}",
        stdout(&o)
    );

    // The state moved on: the same plan is stale.
    let o = run_in(dir.path(), &["apply", p]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o)
            .contains("error: saved plan is stale: the state changed after the plan was made"),
        "{}",
        stderr(&o)
    );

    // The stack file changed: stale too.
    let o = run_in(
        dir.path(),
        &["plan", s, "--out", p, "--var", "server_count=1"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(
        &stack,
        std::fs::read_to_string(&stack).unwrap() + "\n# edited\n",
    )
    .unwrap();
    let o = run_in(dir.path(), &["apply", p]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("saved plan is stale")
            && stderr(&o).contains("changed after the plan was made"),
        "{}",
        stderr(&o)
    );
    let o = run_in(dir.path(), &["apply", p, "--var", "x=1"]);
    assert!(
        stderr(&o).contains("a saved plan carries its own variables"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_lock_held_elsewhere_is_reported_waited_for_and_forced() {
    let dir = tempfile::tempdir().unwrap();
    let stack = quickstart_copy(dir.path());
    let s = stack.to_str().unwrap();
    apply(dir.path(), &stack);
    let lock = dir.path().join(".omniform/quickstart/lock.json");

    // A live holder: another process on this host.
    let mut holder = Command::new("sleep").arg("600").spawn().unwrap();
    let info = serde_json::json!({
        "id": "feedfacefeedface", "who": "ci@elsewhere", "pid": holder.id(), "host": std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim(),
        "operation": "apply", "created": "2026-01-01T00:00:00Z", "version": "0.1.0"
    });
    std::fs::write(&lock, serde_json::to_vec(&info).unwrap()).unwrap();
    let o = run_in(dir.path(), &["plan", s]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.starts_with("error: state is locked"), "{err}");
    assert_eq!(lock_id(&err), "feedfacefeedface");
    assert!(
        err.contains("Who:       ci@elsewhere") && err.contains("Operation: apply"),
        "{err}"
    );
    assert!(err.contains("--lock-timeout"), "{err}");
    for cmd in [
        vec!["apply", s, "--auto-approve"],
        vec!["destroy", s, "--auto-approve"],
        vec!["state", "rm", s, "omniform_data.network"],
    ] {
        let o = run_in(dir.path(), &cmd);
        assert!(
            stderr(&o).starts_with("error: state is locked"),
            "{cmd:?}: {}",
            stderr(&o)
        );
    }

    // --lock-timeout waits for the holder to let go.
    let mut waiter = bin()
        .current_dir(dir.path())
        .args(["plan", s, "--lock-timeout", "60s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(waiter.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(
        line.contains("waiting up to 60s for the state lock held by ci@elsewhere"),
        "{line}"
    );
    std::fs::remove_file(&lock).unwrap();
    let status = waiter.wait().unwrap();
    assert!(status.success());

    // A holder that is gone is reported as stale, and force-unlock releases it.
    holder.kill().unwrap();
    holder.wait().unwrap();
    std::fs::write(&lock, serde_json::to_vec(&info).unwrap()).unwrap();
    let o = run_in(dir.path(), &["plan", s, "--lock-timeout", "60s"]);
    let err = stderr(&o);
    assert!(
        err.contains("the lock is stale"),
        "a stale lock is not waited for:\n{err}"
    );
    assert!(
        err.contains(&format!("omniform force-unlock {s} feedfacefeedface")),
        "{err}"
    );
    let o = run_in(dir.path(), &["force-unlock", s, "wrong"]);
    assert_eq!(o.status.code(), Some(1));
    let o = run_in(dir.path(), &["force-unlock", s, "feedfacefeedface"]);
    assert!(stdout(&o).contains("Unlocked"), "{}", stderr(&o));
    assert!(run_in(dir.path(), &["plan", s]).status.success());
}

#[test]
fn a_killed_apply_loses_nothing_it_finished() {
    let dir = tempfile::tempdir().unwrap();
    let stack = write_stack(
        dir.path(),
        "[stack]\nname = \"many\"\n\n[resource.omniform_data.item]\ncount = 4000\ninput = \"item-${count.index}\"\n",
    );
    let s = stack.to_str().unwrap();
    let mut child = bin()
        .current_dir(dir.path())
        .args(["apply", s, "--auto-approve"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Read until 100 operations have finished, then stop reading: the apply blocks on its
    // full pipe, and is killed in the middle.
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut finished = Vec::new();
    let mut line = String::new();
    while finished.len() < 100 {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the apply ended early"
        );
        if let Some(addr) = line
            .strip_suffix('\n')
            .and_then(|l| l.split(": Creation complete").next())
            .filter(|_| line.contains("Creation complete"))
        {
            finished.push(addr.to_string());
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();

    // Everything seen finished is in state (read with the journal folded in).
    let listed = stdout(&run_in(dir.path(), &["state", "list", s]));
    let in_state: std::collections::HashSet<&str> = listed.lines().collect();
    assert!(
        in_state.len() >= 100 && in_state.len() < 4000,
        "{} in state",
        in_state.len()
    );
    for addr in &finished {
        assert!(
            in_state.contains(addr.as_str()),
            "{addr} finished but is not in state"
        );
    }

    // The dead apply's lock is stale; after force-unlock, the journal is folded in and the
    // plan creates exactly what is missing.
    let o = run_in(dir.path(), &["plan", s]);
    let err = stderr(&o);
    assert!(err.contains("the lock is stale"), "{err}");
    run_in(dir.path(), &["force-unlock", s, &lock_id(&err)]);
    let o = run_in(dir.path(), &["plan", s, "--format", "json"]);
    assert!(
        stderr(&o).contains(&format!("recovered {} finished operations", in_state.len())),
        "{}",
        stderr(&o)
    );
    let plan: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let creates: Vec<&str> = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["change"]["actions"] == serde_json::json!(["create"]))
        .map(|c| c["address"].as_str().unwrap())
        .collect();
    assert_eq!(creates.len(), 4000 - in_state.len());
    assert!(
        creates.iter().all(|c| !in_state.contains(c)),
        "nothing is applied twice"
    );
    let o = run_in(dir.path(), &["apply", s, "--auto-approve"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&run_in(dir.path(), &["state", "list", s]))
            .lines()
            .count(),
        4000
    );
    let history = stdout(&run_in(dir.path(), &["state", "history", s]));
    assert!(
        history.lines().next().unwrap().contains("recovered"),
        "{history}"
    );
}

#[test]
fn secrets_never_reach_disk_or_output_in_plain_text() {
    let dir = tempfile::tempdir().unwrap();
    let token = "tok-Zq8VnW3-SECRET";
    let stack = write_stack(
        dir.path(),
        r#"[stack]
name = "secret"

[variable.token]
type = "string"
sensitive = true

[resource.random_password.db]
length = 40
special = false

[resource.random_id.key]
byte_length = 16
sensitive = true

[resource.omniform_data.config]
input = { token = "${var.token}", db = "${random_password.db.result}", key = "${random_id.key.hex}", url = "postgres://app:${random_password.db.result}@db/app" }

[output.db_password]
value = "${random_password.db.result}"
sensitive = true

[output.key]
value = "${random_id.key.hex}"
sensitive = true
"#,
    );
    let s = stack.to_str().unwrap();
    let plan_file = dir.path().join("plan.bin");
    let mut logs = String::new();
    let mut run_logged = |args: &[&str]| {
        let o = bin()
            .current_dir(dir.path())
            .args(args)
            .env("OMNIFORM_VAR_token", token)
            .output()
            .unwrap();
        logs.push_str(&stdout(&o));
        logs.push_str(&stderr(&o));
        o
    };
    let o = run_logged(&["plan", s, "--out", plan_file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    run_logged(&["plan", s, "--format", "json"]);
    run_logged(&["plan", s, "--format", "markdown"]);
    let o = run_logged(&["apply", plan_file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    run_logged(&["plan", s, "--format", "json"]);
    run_logged(&["state", "show", s, "omniform_data.config"]);
    run_logged(&["output", s]);
    run_logged(&["output", s, "--json"]);
    run_logged(&["show", plan_file.to_str().unwrap(), "--format", "json"]);
    // The generated secrets, asked for by name.
    let password = stdout(&run_in(
        dir.path(),
        &["output", s, "db_password", "--show-sensitive"],
    ))
    .trim()
    .to_string();
    let key = stdout(&run_in(
        dir.path(),
        &["output", s, "key", "--show-sensitive"],
    ))
    .trim()
    .to_string();
    assert_eq!(password.len(), 40);
    assert_eq!(key.len(), 32);

    let mut files = vec![plan_file.clone()];
    let mut stack_dirs = vec![dir.path().join(".omniform")];
    while let Some(d) = stack_dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack_dirs.push(p)
            } else {
                files.push(p)
            }
        }
    }
    assert!(files.len() >= 3, "{files:?}");
    for secret in [token, password.as_str(), key.as_str()] {
        assert!(!logs.contains(secret), "a secret is in the output");
        for f in &files {
            let bytes = std::fs::read(f).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(secret),
                "a secret is in {}",
                f.display()
            );
        }
    }
}

#[test]
fn rollback_to_an_earlier_serial() {
    let dir = tempfile::tempdir().unwrap();
    let stack = quickstart_copy(dir.path());
    let s = stack.to_str().unwrap();
    apply(dir.path(), &stack);
    let secret = stdout(&run_in(
        dir.path(),
        &["output", s, "encryption_key", "--show-sensitive"],
    ));
    let o = run_in(
        dir.path(),
        &[
            "apply",
            s,
            "--auto-approve",
            "--var",
            "server_count=3",
            "--replace",
            "random_id.encryption_key",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_ne!(
        stdout(&run_in(
            dir.path(),
            &["output", s, "encryption_key", "--show-sensitive"]
        )),
        secret
    );
    let o = run_in(dir.path(), &["rollback", s, "--to", "1", "--auto-approve"]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("Rolling quickstart back from serial 2 to serial 1"),
        "{out}"
    );
    assert!(
        out.contains("omniform_data.server[2] will be destroyed"),
        "{out}"
    );
    assert_eq!(
        stdout(&run_in(
            dir.path(),
            &["output", s, "encryption_key", "--show-sensitive"]
        )),
        secret,
        "the key is restored"
    );
    assert_eq!(
        stdout(&run_in(dir.path(), &["state", "list", s]))
            .lines()
            .count(),
        8
    );
    let history = stdout(&run_in(dir.path(), &["state", "history", s]));
    assert!(
        history.lines().last().unwrap().contains("rollback to 1"),
        "{history}"
    );
    let o = run_in(dir.path(), &["rollback", s, "--to", "9", "--auto-approve"]);
    assert!(
        stderr(&o).contains("state snapshot 9 does not exist"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_wrong_state_key_is_refused_and_nothing_is_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let stack = quickstart_copy(dir.path());
    let s = stack.to_str().unwrap();
    let o = bin()
        .current_dir(dir.path())
        .args(["apply", s, "--auto-approve"])
        .env("OMNIFORM_STATE_KEY", KEY)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!dir.path().join(".omniform/quickstart/state.key").exists());
    let snapshot = dir
        .path()
        .join(".omniform/quickstart/snapshots/0000000001.json");
    let before = std::fs::read(&snapshot).unwrap();
    let wrong = KEY.replace('0', "f");
    let o = bin()
        .current_dir(dir.path())
        .args(["apply", s, "--auto-approve"])
        .env("OMNIFORM_STATE_KEY", &wrong)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(
            "cannot decrypt the sensitive values in state: the key is wrong (OMNIFORM_STATE_KEY)"
        ),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&snapshot).unwrap(), before);
    assert_eq!(
        std::fs::read_dir(snapshot.parent().unwrap())
            .unwrap()
            .count(),
        1
    );
    let o = bin()
        .current_dir(dir.path())
        .args(["plan", s])
        .env("OMNIFORM_STATE_KEY", "not-a-key")
        .output()
        .unwrap();
    assert!(
        stderr(&o).contains("openssl rand -hex 32"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn ctrl_c_stops_new_operations_and_saves_state() {
    let dir = tempfile::tempdir().unwrap();
    let stack = write_stack(
        dir.path(),
        "[stack]\nname = \"many\"\n\n[resource.omniform_data.item]\ncount = 4000\ninput = \"item-${count.index}\"\n",
    );
    let s = stack.to_str().unwrap();
    let mut child = bin()
        .current_dir(dir.path())
        .args(["apply", s, "--auto-approve"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut completed = 0;
    let mut line = String::new();
    let mut interrupted = false;
    loop {
        line.clear();
        if out.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if line.contains("Creation complete") {
            completed += 1;
            if completed == 50 && !interrupted {
                let status = Command::new("kill")
                    .args(["-INT", &child.id().to_string()])
                    .status()
                    .unwrap();
                assert!(status.success());
                interrupted = true;
            }
        }
    }
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("Interrupt received"), "{err}");
    assert!(
        err.contains("Apply interrupted:") && err.contains("not started"),
        "{err}"
    );
    assert!(completed < 4000, "the interrupt stopped the apply");
    let listed = stdout(&run_in(dir.path(), &["state", "list", s]));
    assert_eq!(
        listed.lines().count(),
        completed,
        "every finished operation is in state"
    );
    assert!(
        !dir.path().join(".omniform/many/lock.json").exists(),
        "the lock is released"
    );
    assert!(
        !dir.path().join(".omniform/many/journal.jsonl").exists(),
        "the journal is folded into the snapshot"
    );
    let o = run_in(dir.path(), &["apply", s, "--auto-approve"]);
    assert!(
        stdout(&o).contains(&format!("Resources: {} added", 4000 - completed)),
        "{}",
        stdout(&o)
    );
}
