//! The AWS provider against moto_server on loopback (started by scripts/test; the tests
//! read its address from MOTO_ENDPOINT and fail loudly without it). Every test runs in an
//! AWS account of its own (moto's x-moto-account-id header), so they run in parallel.
//!
//! Per resource type: create, no-op re-plan, update in place, replace, drift on an
//! attribute, deleted outside (made again), import then no-op, destroy leaves nothing
//! (checked by listing through the SDK). Then refresh costs, the Omniops stack end to end,
//! and checkov reading its plan.

mod eip;
mod instance;
mod omniops;
mod refresh;
mod route53;
mod secrets;
mod security_group;
mod support;
