//! Plans from the command line: formats, exit codes, variables, targets, colour.

use std::process::Command;

use super::*;

#[test]
fn validate_quickstart() {
    let o = run(&["validate", quickstart().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("is valid: 6 resources"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn plan_quickstart_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let q = quickstart_copy(dir.path());
    let q = q.to_str().unwrap();
    let text = run(&["plan", q]);
    assert!(text.status.success(), "{}", stderr(&text));
    let out = stdout(&text);
    assert!(
        out.contains("Plan: 8 to add, 0 to change, 0 to destroy."),
        "{out}"
    );
    assert!(!out.contains("\x1b["), "piped output must not be coloured");
    assert!(
        !out.contains("dev-token-change-me"),
        "a sensitive default leaked"
    );

    let json = run(&["plan", q, "--format", "json"]);
    assert!(json.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).expect("valid JSON");
    assert_eq!(doc["format_version"], "1.2");
    assert_eq!(doc["resource_changes"].as_array().unwrap().len(), 8);
    assert!(!stdout(&json).contains("dev-token-change-me"));

    let md = run(&["plan", q, "--format", "markdown"]);
    assert!(md.status.success());
    assert!(stdout(&md).contains("**Plan: 8 to add, 0 to change, 0 to destroy.**"));
}

#[test]
fn detailed_exitcode() {
    let dir = tempfile::tempdir().unwrap();
    let q = quickstart_copy(dir.path());
    let o = run(&["plan", q.to_str().unwrap(), "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(2));
    let empty = dir.path().join("empty.toml");
    std::fs::write(&empty, "[stack]\nname = \"empty\"\n").unwrap();
    let o = run(&["plan", empty.to_str().unwrap(), "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("No changes. Your infrastructure matches the configuration."));
}

#[test]
fn errors_exit_1_with_positions() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[stack]\nname = \"bad\"\n\n[resource.omniform_data.a]\ninptu = 1\n",
    )
    .unwrap();
    for cmd in ["validate", "plan", "graph"] {
        let o = run(&[cmd, bad.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{cmd}");
        let err = stderr(&o);
        assert!(
            err.contains("bad.toml:5:1: error: unknown attribute `inptu` for omniform_data"),
            "{cmd}: {err}"
        );
        assert!(err.contains("did you mean `input`?"), "{err}");
    }
    let o = run(&["plan", "does/not/exist.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("reading stack file does/not/exist.toml"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn variables_from_flags_files_and_environment() {
    let dir = tempfile::tempdir().unwrap();
    let stack = dir.path().join("s.toml");
    std::fs::write(&stack, "[stack]\nname = \"v\"\n\n[variable.n]\ntype = \"number\"\n\n[resource.omniform_data.a]\ncount = \"${var.n}\"\n").unwrap();
    let s = stack.to_str().unwrap();
    let o = run(&["plan", s]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("variable `n` has no value"),
        "{}",
        stderr(&o)
    );
    let o = run(&["plan", s, "--var", "n=3"]);
    assert!(stdout(&o).contains("Plan: 3 to add"), "{}", stderr(&o));
    let vars = dir.path().join("vars.toml");
    std::fs::write(&vars, "n = 4\n").unwrap();
    let o = run(&[
        "plan",
        s,
        "--var",
        "n=3",
        "--var-file",
        vars.to_str().unwrap(),
    ]);
    assert!(
        stdout(&o).contains("Plan: 3 to add"),
        "--var wins: {}",
        stderr(&o)
    );
    let o = bin()
        .current_dir(repo())
        .args(["plan", s])
        .env("OMNIFORM_VAR_n", "5")
        .output()
        .unwrap();
    assert!(stdout(&o).contains("Plan: 5 to add"), "{}", stderr(&o));
    let o = bin()
        .current_dir(repo())
        .args(["plan", s, "--var-file", vars.to_str().unwrap()])
        .env("OMNIFORM_VAR_n", "5")
        .output()
        .unwrap();
    assert!(
        stdout(&o).contains("Plan: 4 to add"),
        "a file wins over the environment: {}",
        stderr(&o)
    );
    let o = run(&["plan", s, "--var", "n=many"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("invalid --var \"n=many\""),
        "{}",
        stderr(&o)
    );
}

#[test]
fn target_and_exclude() {
    let dir = tempfile::tempdir().unwrap();
    let q = quickstart_copy(dir.path());
    let o = run(&[
        "plan",
        q.to_str().unwrap(),
        "--target",
        "omniform_data.server[0]",
    ]);
    let out = stdout(&o);
    assert!(out.contains("Plan: 2 to add"), "{out}");
    assert!(out.contains("Warning: resource targeting is in effect"));
    let o = run(&[
        "plan",
        q.to_str().unwrap(),
        "--exclude",
        "omniform_data.network",
    ]);
    assert!(stdout(&o).contains("Plan: 3 to add"), "{}", stdout(&o));
    let o = run(&["plan", q.to_str().unwrap(), "--target", "not an address"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("invalid --target"), "{}", stderr(&o));
}

#[test]
fn graph_formats() {
    let q = quickstart();
    let o = run(&["graph", q.to_str().unwrap(), "--format", "mermaid"]);
    assert!(stdout(&o).starts_with("flowchart RL\n"));
    assert!(stdout(&o).contains("[\"omniform_data.server\"]"));
    let o = run(&["graph", q.to_str().unwrap()]);
    assert!(
        stdout(&o).contains("\"omniform_data.server\" -> \"omniform_data.network\""),
        "{}",
        stdout(&o)
    );
}

#[test]
fn colour_only_on_a_terminal() {
    // `script` gives the command a pseudo-terminal, as a user's shell would.
    let dir = tempfile::tempdir().unwrap();
    let cmd = format!(
        "{} plan {}",
        env!("CARGO_BIN_EXE_omniform"),
        quickstart_copy(dir.path()).display()
    );
    let tty = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env_remove("NO_COLOR")
        .output()
        .expect("script(1) from util-linux");
    assert!(
        stdout(&tty).contains("\x1b[32m+\x1b[0m resource"),
        "{}",
        stdout(&tty)
    );
    let plain = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!stdout(&plain).contains("\x1b["));
    let flag = Command::new("script")
        .args(["-qec", &format!("{cmd} --no-color"), "/dev/null"])
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(!stdout(&flag).contains("\x1b["));
}

#[test]
fn validate_makes_every_check_a_plan_makes() {
    let dir = tempfile::tempdir().unwrap();
    let text = r#"[stack]
name = "checks"

[variable.inside]
type = "list"
default = ["10.0.0.0/8"]

[resource.aws_security_group.web]
name = "web"

[[resource.aws_security_group.web.ingress]]
protocol = "tcp"
from_port = 443
to_port = 443
cidr_blocks = ["0.0.0.0/33"]

[[resource.aws_security_group.web.ingress]]
protocol = "tcp"
from_port = 3000
to_port = 3000
cidr_blocks = "${var.inside}"

[resource.random_id.key]
byte_length = 0
"#;
    let stack = write_stack(dir.path(), text);
    let s = stack.to_str().unwrap();
    // Literal mistakes next to references are found before anything is evaluated.
    let o = run(&["validate", s]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains("stack.toml:15:16: error: \"0.0.0.0/33\" is not an IPv4 CIDR"),
        "{err}"
    );
    assert!(
        err.contains("stack.toml:24:15: error: byte_length must be 1 to 1024, got 0"),
        "{err}"
    );
    // Values that come from variables are checked as a plan checks them.
    std::fs::write(
        &stack,
        text.replace("0.0.0.0/33", "0.0.0.0/0")
            .replace("byte_length = 0", "byte_length = 16"),
    )
    .unwrap();
    let vars = dir.path().join("vars.toml");
    std::fs::write(&vars, "inside = [\"300.1.1.1/32\"]\n").unwrap();
    let o = run(&["validate", s, "--var-file", vars.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("\"300.1.1.1/32\" is not an IPv4 CIDR"),
        "{}",
        stderr(&o)
    );
    let o = run(&["validate", s]);
    assert!(o.status.success(), "{}", stderr(&o));
}
