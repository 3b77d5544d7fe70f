//! Plan cases: the engine's decisions as data, and their text, JSON and Markdown renderings
//! as snapshots; then every kind of bad input, with its message and position.

mod bad_input;
mod cases;
mod embedding;
