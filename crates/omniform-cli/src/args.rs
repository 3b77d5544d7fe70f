//! The command line, as clap sees it.

use std::path::PathBuf;
use std::time::Duration;

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
    /// Make the changes: plan, ask, apply (or apply a saved plan).
    Apply(ApplyArgs),
    /// Destroy everything the stack manages.
    Destroy(DestroyArgs),
    /// Show a saved plan.
    Show(ShowArgs),
    /// Show output values from state.
    Output(OutputArgs),
    /// Draw the dependency graph of a stack.
    Graph(GraphArgs),
    /// Inspect and edit state.
    State {
        #[command(subcommand)]
        command: StateCommand,
    },
    /// Bring the resources back to an earlier state snapshot.
    Rollback(RollbackArgs),
    /// Release a lock left by a process that is gone.
    ForceUnlock(ForceUnlockArgs),
    /// Bring an existing cloud object under management: read it into state.
    Import(ImportArgs),
}

/// The stack file and its variables.
#[derive(Debug, Args)]
pub struct StackArgs {
    /// The stack file, e.g. stacks/quickstart/stack.toml.
    pub stack: PathBuf,

    #[command(flatten)]
    pub vars: VarArgs,
}

#[derive(Debug, Args, Default)]
pub struct VarArgs {
    /// Set a variable: --var name=value (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,

    /// Read variables from a TOML file of name = value lines (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 30s, 2m or 500ms"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("{text:?} is not a duration like 30s, 2m or 500ms")),
    };
    Ok(Duration::from_secs_f64(secs))
}

#[derive(Debug, Args)]
pub struct LockArgs {
    /// How long to wait for a lock another process holds (e.g. 30s, 2m).
    #[arg(long, value_parser = parse_duration, default_value = "0s", value_name = "DURATION")]
    pub lock_timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
    Markdown,
}

/// Which resources a plan covers.
#[derive(Debug, Args, Default)]
pub struct SelectArgs {
    /// Plan only this resource and what it depends on (repeatable).
    #[arg(long, value_name = "ADDR")]
    pub target: Vec<String>,

    /// Leave out this resource and what depends on it (repeatable).
    #[arg(long, value_name = "ADDR")]
    pub exclude: Vec<String>,

    /// Replace this resource even if nothing changed (repeatable).
    #[arg(long, value_name = "ADDR")]
    pub replace: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub stack: StackArgs,

    /// How to print the plan.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,

    #[command(flatten)]
    pub select: SelectArgs,

    /// Plan to destroy everything in state.
    #[arg(long)]
    pub destroy: bool,

    /// Read live state first (default true); with false, plan against the recorded state.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub refresh: bool,

    /// Only bring the state up to date with what exists; change nothing.
    #[arg(long)]
    pub refresh_only: bool,

    /// Print the API calls refresh made, per service, and how long it took.
    #[arg(long)]
    pub stats: bool,

    /// Save the plan to this file, for `omniform apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Exit 0 when there are no changes, 1 on error, 2 when there are changes.
    #[arg(long)]
    pub detailed_exitcode: bool,

    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A stack file, or a plan saved with `plan --out`.
    #[arg(value_name = "STACK_OR_PLAN")]
    pub path: PathBuf,

    #[command(flatten)]
    pub vars: VarArgs,

    #[command(flatten)]
    pub select: SelectArgs,

    /// Apply without asking for confirmation.
    #[arg(long)]
    pub auto_approve: bool,

    /// At most this many provider operations at once.
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,

    /// Only record what exists in state; change nothing.
    #[arg(long)]
    pub refresh_only: bool,

    /// Read live state first (default true).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub refresh: bool,

    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub stack: StackArgs,

    #[command(flatten)]
    pub select: SelectArgs,

    #[arg(long)]
    pub auto_approve: bool,

    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,

    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A plan saved with `plan --out`.
    pub plan: PathBuf,

    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    pub stack: PathBuf,

    /// One output; without it, all of them.
    pub name: Option<String>,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,

    /// Print sensitive values instead of masking them (only when asked for by name).
    #[arg(long)]
    pub show_sensitive: bool,
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

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// List the resource instances in state.
    List { stack: PathBuf },
    /// Show one resource instance, now or at an earlier serial.
    Show {
        stack: PathBuf,
        address: String,
        #[arg(long)]
        serial: Option<u64>,
    },
    /// List every snapshot: serial, time, omniform version, what changed.
    History { stack: PathBuf },
    /// Forget resources without destroying them.
    Rm {
        stack: PathBuf,
        #[arg(required = true)]
        addresses: Vec<String>,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Move a resource to another address (after renaming it in the stack).
    Mv {
        stack: PathBuf,
        from: String,
        to: String,
        #[command(flatten)]
        lock: LockArgs,
    },
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    pub stack: PathBuf,

    #[command(flatten)]
    pub vars: VarArgs,

    /// The serial of the snapshot to go back to (see `omniform state history`).
    #[arg(long = "to", value_name = "SERIAL")]
    pub to: u64,

    #[arg(long)]
    pub auto_approve: bool,

    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,

    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub stack: StackArgs,

    /// Where it goes in the stack, like aws_instance.app.
    pub address: String,

    /// The object's id in the cloud, like i-0abc123.
    pub id: String,

    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct ForceUnlockArgs {
    pub stack: PathBuf,
    /// The lock id from the "state is locked" message.
    pub lock_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("5").unwrap(), Duration::from_secs(5));
        assert!(parse_duration("soon").is_err());
    }
}
