//! Renderings of plans, diagnostics and graphs: text like Terraform's, JSON in the shape of
//! `terraform show -json` (with secrets masked), and Markdown for pull-request comments.
//!
//! Everything here returns strings; the CLI decides where they go and whether the terminal
//! takes colour.

pub mod diag;
pub mod graph;
pub mod json;
pub mod markdown;
mod style;
pub mod text;
mod value;

pub use style::Style;
