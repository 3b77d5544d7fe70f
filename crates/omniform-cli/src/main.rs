//! The `omniform` binary: the only part of omniform that knows the command line and the
//! terminal.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod args;
mod commands;
mod progress;
mod ui;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use args::{Cli, Command, StateCommand};

// Planning and applying allocate many small values; mimalloc handles that much better than
// the system allocator (see the benchmark).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How a command ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// A plan with changes under --detailed-exitcode.
    Changes,
}

/// `omniform output | head` closes the pipe early: stop quietly, as Unix tools do, instead
/// of the panic `println!` raises.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.contains("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    quiet_on_broken_pipe();
    let cli = Cli::parse();
    let ui = ui::Ui::new(cli.no_color);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Validate(a) => commands::plan::validate(&ui, a),
            Command::Plan(a) => commands::plan::plan(&ui, a).await,
            Command::Show(a) => commands::plan::show(&ui, a),
            Command::Graph(a) => commands::plan::graph(&ui, a),
            Command::Apply(a) => commands::apply::apply(&ui, a).await,
            Command::Destroy(a) => commands::apply::destroy(&ui, a).await,
            Command::Rollback(a) => commands::apply::rollback(&ui, a).await,
            Command::Output(a) => commands::state::output(&ui, a),
            Command::ForceUnlock(a) => commands::state::force_unlock(&ui, a),
            Command::Import(a) => commands::apply::import(&ui, a).await,
            Command::State { command } => match command {
                StateCommand::List { stack } => commands::state::list(&ui, &stack),
                StateCommand::Show {
                    stack,
                    address,
                    serial,
                } => commands::state::show(&ui, &stack, &address, serial),
                StateCommand::History { stack } => commands::state::history(&ui, &stack),
                StateCommand::Rm {
                    stack,
                    addresses,
                    lock,
                } => commands::state::rm(&ui, &stack, &addresses, &lock),
                StateCommand::Mv {
                    stack,
                    from,
                    to,
                    lock,
                } => commands::state::mv(&ui, &stack, &from, &to, &lock),
            },
        }
    });
    // A prompt may still be waiting on stdin; do not wait for it.
    runtime.shutdown_timeout(Duration::from_millis(100));
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Changes) => ExitCode::from(2),
        Err(err) => {
            ui.error(&err);
            ExitCode::from(1)
        }
    }
}
