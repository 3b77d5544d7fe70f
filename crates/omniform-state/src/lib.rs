//! State: what omniform knows exists. The [`Snapshot`] model is what the engine reads and
//! writes; the on-disk format ([`format`]) and the stores ([`local`]) are kept apart from it.
//!
//! Every write makes a new, immutable snapshot with the next serial, so the history of a
//! stack can be read back and rolled back to. During an apply, each finished operation is
//! appended to a journal beside the snapshots; the journal is folded into a new snapshot at
//! the end, or on the next run if the process died.
//!
//! Sensitive values are never written in plain text: they are sealed with AES-256-GCM.

pub mod crypto;
pub mod format;
pub mod local;
pub mod lock;
pub mod snapshot;

use std::time::Duration;

pub use crypto::Cipher;
pub use local::LocalStore;
pub use lock::{LockGuard, LockInfo};
pub use snapshot::{ChangeCounts, DeposedObject, OutputState, ResourceInstance, Snapshot, StateOp};

/// A failure to read or write state.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state is locked")]
    Locked {
        /// Who holds the lock.
        holder: Box<LockInfo>,
        /// The holder ran on this host and its process is gone.
        stale: bool,
    },
    #[error(
        "cannot decrypt the sensitive values in state: the key is wrong ({source_of_key}); nothing was changed"
    )]
    WrongKey { source_of_key: String },
    #[error("invalid state encryption key: {0}")]
    BadKey(String),
    #[error(
        "state snapshot {serial} does not exist; `omniform state history` lists the serials there are"
    )]
    NoSuchSerial { serial: u64 },
    #[error("{path}: {message}")]
    Corrupt { path: String, message: String },
    #[error("no lock with id {id} is held on this state")]
    NotLocked { id: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl StateError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StateError {
        let context = context.into();
        move |source| StateError::Io { context, source }
    }
}

/// One line of `state history`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub serial: u64,
    pub written_at: String,
    pub omniform_version: String,
    /// What wrote it: apply, destroy, rollback, state rm, import, recovered...
    pub operation: String,
    pub changes: ChangeCounts,
    pub resources: usize,
}

/// Where a store appends the operations of an apply as they finish.
pub trait Recorder: Send + Sync {
    fn record(&self, op: &StateOp) -> Result<(), StateError>;
}

/// A place state lives: local files today; S3 and PostgreSQL stores implement the same.
pub trait StateStore: Send + Sync {
    /// The newest snapshot, with any journal left by a killed apply folded in (in memory);
    /// `None` for a stack never applied.
    fn read_latest(&self) -> Result<Option<Snapshot>, StateError>;

    /// The snapshot with this serial.
    fn read_serial(&self, serial: u64) -> Result<Snapshot, StateError>;

    /// Writes `snapshot` as a new serial (which must be the next one) and clears the journal.
    fn write(
        &self,
        snapshot: &Snapshot,
        operation: &str,
        changes: ChangeCounts,
    ) -> Result<(), StateError>;

    /// Every snapshot, oldest first.
    fn history(&self) -> Result<Vec<HistoryEntry>, StateError>;

    /// Takes the lock, waiting up to `timeout`; `waiting` is called once if it has to wait.
    fn lock(
        &self,
        operation: &str,
        timeout: Duration,
        waiting: &mut dyn FnMut(&LockInfo),
    ) -> Result<LockGuard, StateError>;

    /// Removes the lock with this id, whoever holds it.
    fn force_unlock(&self, id: &str) -> Result<LockInfo, StateError>;

    /// Starts the journal of an apply on top of `base`.
    fn begin_journal(&self, base: &Snapshot) -> Result<Box<dyn Recorder>, StateError>;

    /// Removes the journal of an apply that changed nothing.
    fn discard_journal(&self) -> Result<(), StateError>;

    /// Folds a journal left by a killed apply into a new snapshot; returns how many
    /// operations it held (0 when there was none).
    fn recover(&self) -> Result<usize, StateError>;

    /// The cipher that seals this state's secrets (made on first use), also used for saved
    /// plans.
    fn cipher(&self) -> Result<Cipher, StateError>;

    /// A message to show once, such as "created a new state key".
    fn take_notice(&self) -> Option<String>;

    /// Where the state lives, for messages.
    fn location(&self) -> String;
}
