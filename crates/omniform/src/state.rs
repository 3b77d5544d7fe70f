//! Where a stack's state lives and how to open it: `.omniform/<stack>/` next to the stack
//! file, or the `path` of a `[backend]` table with `kind = "local"`.

use std::path::{Path, PathBuf};

use omniform_core::{Diagnostic, Diagnostics};
use omniform_stack::Stack;

pub use omniform_state::{
    ChangeCounts, Cipher, HistoryEntry, LocalStore, LockGuard, LockInfo, OutputState, Recorder,
    ResourceInstance, Snapshot, StateError, StateOp, StateStore,
};

/// The state directory of a stack read from `stack_path`.
pub fn state_dir(stack_path: &Path, stack: &Stack) -> Result<PathBuf, Diagnostics> {
    let base = stack_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let Some(backend) = &stack.backend else {
        return Ok(base.join(".omniform").join(&stack.name));
    };
    if backend.kind != "local" {
        return Err(
            Diagnostic::error(format!("unknown backend kind {:?}", backend.kind))
                .with_location(stack.locate(backend.span))
                .with_hint("the backends are: kind = \"local\" (with an optional path)")
                .into(),
        );
    }
    let mut diags = Diagnostics::new();
    for key in backend.settings.keys().filter(|k| k.as_str() != "path") {
        diags.push(
            Diagnostic::error(format!("unknown setting `{key}` in [backend]"))
                .with_location(stack.locate(backend.span))
                .with_hint("a local backend takes `path`"),
        );
    }
    let path = match backend.settings.get("path") {
        None => base.join(".omniform").join(&stack.name),
        Some(v) => match v.as_str() {
            Some(p) => base.join(p),
            None => {
                diags.push(
                    Diagnostic::error("the backend path must be a string")
                        .with_location(stack.locate(backend.span))
                        .with_hint("write path = \"state/production\""),
                );
                PathBuf::new()
            }
        },
    };
    diags.into_result(path)
}

/// Opens the local store of a stack. `env_key` is the value of `OMNIFORM_STATE_KEY`, if set.
pub fn open_store(
    stack_path: &Path,
    stack: &Stack,
    env_key: Option<String>,
) -> Result<LocalStore, Diagnostics> {
    let dir = state_dir(stack_path, stack)?;
    LocalStore::open(dir, &stack.name, env_key).map_err(|e| {
        Diagnostics::from(Diagnostic::error(e.to_string()).with_hint(
            "set OMNIFORM_STATE_KEY to 32 bytes as 64 hex digits (openssl rand -hex 32)",
        ))
    })
}
