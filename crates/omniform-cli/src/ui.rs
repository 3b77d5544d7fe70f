//! The terminal: whether it takes colour, and how errors and diagnostics reach it.

use std::io::IsTerminal;

use omniform::Diagnostics;
use omniform::render::Style;

/// A failure that has already been reported as diagnostics.
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
}

impl Ui {
    pub fn new(no_color: bool) -> Self {
        let allowed = !no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Self {
            out: Style {
                color: allowed && std::io::stdout().is_terminal(),
            },
            err: Style {
                color: allowed && std::io::stderr().is_terminal(),
            },
        }
    }

    /// Prints diagnostics to stderr.
    pub fn diagnostics(&self, diags: &Diagnostics) {
        eprint!("{}", omniform::render::diag::diagnostics(diags, self.err));
    }

    /// Prints an error that ends the command; diagnostics were already printed.
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
}
