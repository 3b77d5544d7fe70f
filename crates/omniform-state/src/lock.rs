//! State locks: a lock file made with create-new semantics, holding who took it, from which
//! process on which host, for what, and when.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Who holds a lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// Give this to `omniform force-unlock`.
    pub id: String,
    /// `user@host`.
    pub who: String,
    pub pid: u32,
    pub host: String,
    /// What the holder is doing: plan, apply, destroy, state rm...
    pub operation: String,
    /// When it was taken, RFC 3339.
    pub created: String,
    pub version: String,
}

impl LockInfo {
    /// A lock for this process.
    pub fn new(operation: &str) -> Self {
        let host = hostname();
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| "unknown".into());
        let mut id = [0u8; 16];
        let _ = getrandom::fill(&mut id);
        Self {
            id: hex::encode(id),
            who: format!("{user}@{host}"),
            pid: std::process::id(),
            host,
            operation: operation.to_string(),
            created: time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }

    /// True when the holder ran on this host and its process is gone.
    pub fn is_stale(&self) -> bool {
        self.host == hostname() && !process_alive(self.pid)
    }
}

/// This machine's host name.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// Whether a process with this pid exists on this host.
pub fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let stat = std::path::Path::new("/proc")
        .join(pid.to_string())
        .join("stat");
    match std::fs::read_to_string(stat) {
        // A zombie has exited; it only waits for its parent to reap it.
        Ok(text) => !text
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// A held lock; dropping it releases the lock.
#[derive(Debug)]
pub struct LockGuard {
    pub(crate) path: PathBuf,
    pub info: LockInfo,
}

impl LockGuard {
    /// Releases the lock now (dropping does the same).
    pub fn release(self) {}
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Only remove the file if it is still ours (a force-unlock may have replaced it).
        if let Ok(text) = std::fs::read_to_string(&self.path)
            && serde_json::from_str::<LockInfo>(&text).is_ok_and(|l| l.id == self.info.id)
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
