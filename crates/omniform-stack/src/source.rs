//! Source files and byte spans, turned into `file:line:column` locations for diagnostics.

use omniform_core::Location;

/// A byte range in a source file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Self {
            start: start as u32,
            end: end as u32,
        }
    }
}

impl From<std::ops::Range<usize>> for Span {
    fn from(r: std::ops::Range<usize>) -> Self {
        Span::new(r.start, r.end)
    }
}

/// The text of a stack (or variables) file, with the index to find lines in it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self {
            path: path.into(),
            text,
            line_starts,
        }
    }

    /// The text a span covers (empty when the span is out of range).
    pub fn slice(&self, span: Span) -> &str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }

    /// The location of a span's start, with the text of its line.
    pub fn locate(&self, span: Span) -> Location {
        let start = (span.start as usize).min(self.text.len());
        let line_idx = match self.line_starts.binary_search(&start) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let line_start = self.line_starts[line_idx];
        let line_end = self
            .line_starts
            .get(line_idx + 1)
            .map(|e| e - 1)
            .unwrap_or(self.text.len());
        let line_text = self.text[line_start..line_end].trim_end_matches('\r');
        let column = self.text[line_start..start].chars().count() + 1;
        let end = (span.end as usize).clamp(start, line_start + line_text.len());
        let width = self.text[start..end].chars().count().max(1);
        Location {
            file: self.path.clone(),
            line: line_idx as u32 + 1,
            column: column as u32,
            width: width as u32,
            source_line: line_text.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_lines_and_columns() {
        let f = SourceFile::new("s.toml", "a = 1\nbé = \"x\"\n");
        let loc = f.locate(Span::new(12, 15));
        assert_eq!((loc.line, loc.column, loc.width), (2, 6, 3));
        assert_eq!(loc.source_line, "bé = \"x\"");
        assert_eq!(loc.to_string(), "s.toml:2:6");
    }
}
