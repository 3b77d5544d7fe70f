//! Colour, or none: ANSI codes when the output is a terminal that wants them.

/// Whether renderings carry ANSI colour codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub const PLAIN: Style = Style { color: false };
    pub const COLOR: Style = Style { color: true };

    fn wrap(self, code: &str, text: &str) -> String {
        if self.color && !text.is_empty() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }

    pub fn green(self, text: &str) -> String {
        self.wrap("32", text)
    }

    pub fn yellow(self, text: &str) -> String {
        self.wrap("33", text)
    }

    pub fn red(self, text: &str) -> String {
        self.wrap("31", text)
    }

    pub fn cyan(self, text: &str) -> String {
        self.wrap("36", text)
    }

    pub fn dim(self, text: &str) -> String {
        self.wrap("2", text)
    }

    /// An action symbol in its colour: `+` green, `-` red, `~` yellow, each part of
    /// `-/+` in its own.
    pub fn symbol(self, symbol: &str) -> String {
        if !self.color {
            return symbol.to_string();
        }
        symbol
            .chars()
            .map(|c| match c {
                '+' => self.green("+"),
                '-' => self.red("-"),
                '~' => self.yellow("~"),
                '<' | '=' => self.cyan(&c.to_string()),
                other => other.to_string(),
            })
            .collect()
    }
}
