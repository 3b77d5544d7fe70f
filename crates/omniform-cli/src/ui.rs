//! The terminal: whether it takes colour, how errors reach it, and asking for confirmation.

use std::io::{BufRead, IsTerminal, Write};

use omniform::Diagnostics;
use omniform::render::Style;
use omniform::state::{LockInfo, StateError};

/// A failure that has already been reported.
#[derive(Debug)]
pub struct Reported;

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("reported")
    }
}

impl std::error::Error for Reported {}

#[derive(Debug, Clone, Copy)]
pub struct Ui {
    pub out: Style,
    pub err: Style,
    /// Whether stdout is a terminal (live progress) or not (one line per operation).
    pub tty: bool,
}

impl Ui {
    pub fn new(no_color: bool) -> Self {
        let allowed = !no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let tty = std::io::stdout().is_terminal();
        Self {
            out: Style {
                color: allowed && tty,
            },
            err: Style {
                color: allowed && std::io::stderr().is_terminal(),
            },
            tty,
        }
    }

    /// Prints diagnostics to stderr.
    pub fn diagnostics(&self, diags: &Diagnostics) {
        eprint!("{}", omniform::render::diag::diagnostics(diags, self.err));
    }

    /// Prints a warning or notice to stderr.
    pub fn notice(&self, text: &str) {
        eprintln!("{} {text}", self.err.yellow(&self.err.bold("note:")));
    }

    /// Prints an error that ends the command, unless it was reported already.
    pub fn error(&self, err: &anyhow::Error) {
        if err.downcast_ref::<Reported>().is_some() {
            return;
        }
        if let Some(diags) = err.downcast_ref::<Diagnostics>() {
            self.diagnostics(diags);
            return;
        }
        let mut text = format!("{err}");
        for cause in err.chain().skip(1) {
            text.push_str(&format!(": {cause}"));
        }
        eprintln!("{}: {text}", self.err.red(&self.err.bold("error")));
    }

    /// Prints a state error; a lock conflict gets the holder's details and the way out.
    pub fn state_error(&self, stack: &std::path::Path, location: &str, err: &StateError) {
        let red = |t: &str| self.err.red(&self.err.bold(t));
        match err {
            StateError::Locked { holder, stale } => {
                eprintln!("{}: state is locked", red("error"));
                eprint!("{}", lock_info(holder, location));
                let unlock = format!("omniform force-unlock {} {}", stack.display(), holder.id);
                if *stale {
                    eprintln!(
                        "  = note: the lock is stale: process {} on this host ({}) is gone",
                        holder.pid, holder.host
                    );
                    eprintln!(
                        "  = help: if no other omniform process is using this state, release it with: {unlock}"
                    );
                } else {
                    eprintln!(
                        "  = help: another omniform process ({} {}) is using this state; wait for it, or retry with --lock-timeout 60s; if you are sure it is gone: {unlock}",
                        holder.operation, holder.who
                    );
                }
            }
            other => eprintln!("{}: {other}", red("error")),
        }
    }
}

pub fn lock_info(holder: &LockInfo, location: &str) -> String {
    format!(
        "  Lock Info:\n    ID:        {}\n    Path:      {location}/lock.json\n    Operation: {}\n    Who:       {}\n    PID:       {}\n    Host:      {}\n    Version:   {}\n    Created:   {}\n",
        holder.id,
        holder.operation,
        holder.who,
        holder.pid,
        holder.host,
        holder.version,
        holder.created
    )
}

/// Asks "yes?" on the terminal. Ctrl-C or anything but "yes" declines. Without a terminal
/// it refuses rather than guess.
pub async fn confirm(question: &str, detail: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "refusing to go ahead without confirmation: there is no terminal to ask on; pass --auto-approve (or save a plan with `omniform plan --out plan.bin` and apply that)"
        );
    }
    print!(
        "\n{question}\n  {detail}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
    );
    std::io::stdout().flush()?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    // A plain thread, not the runtime's blocking pool, so exiting never waits for it.
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
        let _ = tx.send(line);
    });
    tokio::select! {
        line = rx => Ok(line.is_ok_and(|l| l.trim() == "yes")),
        _ = tokio::signal::ctrl_c() => {
            println!();
            Ok(false)
        }
    }
}
