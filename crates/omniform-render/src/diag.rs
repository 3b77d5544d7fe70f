//! Diagnostics rendered like a compiler's: `file:line:column: error: summary`, the line of
//! source with the mistake underlined, then what it concerns and how to fix it.

use omniform_core::{Diagnostic, Diagnostics, Severity};

use crate::style::Style;

pub fn diagnostic(d: &Diagnostic, style: Style) -> String {
    let severity = match d.severity {
        Severity::Error => style.red(&style.bold("error")),
        Severity::Warning => style.yellow(&style.bold("warning")),
    };
    let mut out = String::new();
    if let Some(loc) = &d.location {
        out.push_str(&style.bold(&format!("{loc}: ")));
    }
    out.push_str(&format!("{severity}: {}\n", style.bold(&d.summary)));
    if let Some(loc) = &d.location {
        let num = loc.line.to_string();
        let gutter = " ".repeat(num.len());
        let line = loc.source_line.replace('\t', " ");
        let caret_start = loc.column.saturating_sub(1) as usize;
        let width = (loc.width as usize).max(1);
        out.push_str(&format!("{gutter} {}\n", style.cyan("|")));
        out.push_str(&format!(
            "{} {} {line}\n",
            style.cyan(&num),
            style.cyan("|")
        ));
        out.push_str(&format!(
            "{gutter} {} {}{}\n",
            style.cyan("|"),
            " ".repeat(caret_start),
            style.red(&"^".repeat(width))
        ));
    }
    let eq = format!(
        "{} =",
        " ".repeat(
            d.location
                .as_ref()
                .map(|l| l.line.to_string().len())
                .unwrap_or(0)
        )
    );
    if let Some(addr) = &d.address {
        out.push_str(&format!("{eq} in: {addr}\n"));
    }
    if let Some(detail) = &d.detail {
        for (i, line) in detail.lines().enumerate() {
            if i == 0 {
                out.push_str(&format!("{eq} note: {line}\n"));
            } else {
                out.push_str(&format!("{eq}       {line}\n"));
            }
        }
    }
    if let Some(hint) = &d.hint {
        out.push_str(&format!("{eq} {}: {hint}\n", style.cyan("help")));
    }
    out
}

/// Every diagnostic, then a count line when there are errors.
pub fn diagnostics(diags: &Diagnostics, style: Style) -> String {
    let mut out = String::new();
    for d in diags.iter() {
        out.push_str(&diagnostic(d, style));
        out.push('\n');
    }
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    if errors > 0 {
        out.push_str(&format!(
            "{}: found {errors} error{}\n",
            style.red(&style.bold("error")),
            if errors == 1 { "" } else { "s" }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use omniform_core::Location;

    #[test]
    fn renders_like_a_compiler() {
        let d = Diagnostic::error("unknown attribute `inptu` for omniform_data")
            .with_location(Some(Location {
                file: "stack.toml".into(),
                line: 12,
                column: 1,
                width: 5,
                source_line: "inptu = 1".into(),
            }))
            .with_address("omniform_data.network")
            .with_hint("did you mean `input`?");
        assert_eq!(
            diagnostic(&d, Style::PLAIN),
            "stack.toml:12:1: error: unknown attribute `inptu` for omniform_data\n   |\n12 | inptu = 1\n   | ^^^^^\n   = in: omniform_data.network\n   = help: did you mean `input`?\n"
        );
    }
}
