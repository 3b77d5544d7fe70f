//! Typed events the engine emits while it refreshes and applies, for the CLI to render and
//! for embedding programs to subscribe to. The engine itself never prints.

use std::time::Duration;

use omniform_core::{Action, InstanceAddress, Plan};

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
    /// The plan will change this instance (one event per change, when a plan is made).
    PlannedChange {
        address: InstanceAddress,
        action: Action,
        reason: Option<String>,
    },
    /// Refresh found an object changed (`Update`) or deleted (`Delete`) outside omniform.
    Drift {
        address: InstanceAddress,
        action: Action,
    },
    /// An operation on one instance began.
    ApplyStart {
        address: InstanceAddress,
        action: Action,
    },
    /// An operation is still running (sent every ten seconds while it does).
    ApplyProgress {
        address: InstanceAddress,
        action: Action,
        elapsed: Duration,
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

/// Sends a `PlannedChange` for every change a plan makes.
pub fn announce_plan(plan: &Plan, hooks: &dyn Hooks) {
    for c in plan.actionable() {
        let reason = c
            .reason_detail
            .clone()
            .or_else(|| c.reason.map(|r| r.code().to_string()));
        hooks.event(&Event::PlannedChange {
            address: c.address.clone(),
            action: c.action,
            reason,
        });
    }
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
