//! Typed events the engine emits while it refreshes and applies, for the CLI to render and
//! for embedding programs to subscribe to. The engine itself never prints.

use std::time::Duration;

use omniform_core::{Action, InstanceAddress};

/// One thing that happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Refresh of one resource type began.
    RefreshStart { type_name: String, instances: usize },
    /// Refresh of one resource type finished.
    RefreshComplete {
        type_name: String,
        instances: usize,
        elapsed: Duration,
    },
    /// An operation on one instance began.
    ApplyStart {
        address: InstanceAddress,
        action: Action,
    },
    /// An operation on one instance finished.
    ApplyComplete {
        address: InstanceAddress,
        action: Action,
        elapsed: Duration,
    },
    /// An operation on one instance failed.
    ApplyErrored {
        address: InstanceAddress,
        action: Action,
        message: String,
    },
    /// An instance was not touched because something it depends on failed.
    Skipped { address: InstanceAddress },
    /// Something the user should know that is not an error.
    Notice { message: String },
}

/// Receives events. Implementations must be quick: the engine calls them inline.
pub trait Hooks: Send + Sync {
    fn event(&self, event: &Event);
}

/// Hooks that ignore everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHooks;

impl Hooks for NoHooks {
    fn event(&self, _: &Event) {}
}

impl<F: Fn(&Event) + Send + Sync> Hooks for F {
    fn event(&self, event: &Event) {
        self(event)
    }
}
