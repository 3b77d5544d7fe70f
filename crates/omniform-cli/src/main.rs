//! The `omniform` binary: the only part of omniform that knows the command line and the
//! terminal.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod args;
mod commands;
mod ui;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

/// How a command ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// A plan with changes under --detailed-exitcode.
    Changes,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ui = ui::Ui::new(cli.no_color);
    let result = match cli.command {
        Command::Validate(a) => commands::validate(&ui, a),
        Command::Plan(a) => commands::plan(&ui, a),
        Command::Graph(a) => commands::graph(&ui, a),
    };
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Changes) => ExitCode::from(2),
        Err(err) => {
            ui.error(&err);
            ExitCode::from(1)
        }
    }
}
