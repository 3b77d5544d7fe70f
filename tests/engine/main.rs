//! The engine as a user meets it: plan cases (decisions as data, with text, JSON and
//! Markdown renderings as snapshots), every kind of bad input with its message and position,
//! stacks built in code, and the whole lifecycle (apply, state, failure, rollback) against
//! the in-process test provider.

mod bad_input;
mod cases;
mod embedding;
mod lifecycle;
mod variants;
