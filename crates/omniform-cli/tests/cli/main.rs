//! The `omniform` binary as a user runs it.

mod apply;
mod aws;
mod plan;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_omniform"));
    c.env_remove("NO_COLOR");
    for (k, _) in std::env::vars() {
        if k.starts_with("OMNIFORM_") {
            c.env_remove(k);
        }
    }
    c
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn quickstart() -> PathBuf {
    repo().join("stacks/quickstart/stack.toml")
}

pub fn run(args: &[&str]) -> Output {
    bin()
        .current_dir(repo())
        .args(args)
        .output()
        .expect("the binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A copy of the quickstart stack in its own directory, so its state is the test's own.
pub fn quickstart_copy(dir: &Path) -> PathBuf {
    let path = dir.join("stack.toml");
    std::fs::copy(quickstart(), &path).expect("copy the quickstart stack");
    path
}

/// Writes a stack file into `dir`.
pub fn write_stack(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("stack.toml");
    std::fs::write(&path, text).expect("write the stack");
    path
}

/// Runs the binary in `dir`.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    bin()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the binary runs")
}
