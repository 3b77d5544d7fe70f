//! The command line, as clap sees it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "omniform",
    version,
    about = "Infrastructure as code: plan and apply stacks of typed resources"
)]
pub struct Cli {
    /// Never colour the output (colour is also off when NO_COLOR is set or output is piped).
    #[arg(long, global = true)]
    pub no_color: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a stack file: syntax, resource types, attributes, references, cycles.
    Validate(StackArgs),
    /// Show what apply would change.
    Plan(PlanArgs),
    /// Draw the dependency graph of a stack.
    Graph(GraphArgs),
}

/// The stack file and its variables.
#[derive(Debug, Args)]
pub struct StackArgs {
    /// The stack file, e.g. stacks/quickstart/stack.toml.
    pub stack: PathBuf,

    /// Set a variable: --var name=value (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,

    /// Read variables from a TOML file of name = value lines (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub stack: StackArgs,

    /// How to print the plan.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,

    /// Plan only this resource and what it depends on (repeatable).
    #[arg(long, value_name = "ADDR")]
    pub target: Vec<String>,

    /// Leave out this resource and what depends on it (repeatable).
    #[arg(long, value_name = "ADDR")]
    pub exclude: Vec<String>,

    /// Replace this resource even if nothing changed (repeatable).
    #[arg(long, value_name = "ADDR")]
    pub replace: Vec<String>,

    /// Plan to destroy everything in state.
    #[arg(long)]
    pub destroy: bool,

    /// Exit 0 when there are no changes, 1 on error, 2 when there are changes.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The stack file.
    pub stack: PathBuf,

    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
}
