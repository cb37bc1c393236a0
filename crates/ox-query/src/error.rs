//! Query errors: a message, the byte span it is about, and a hint saying what to write.

use std::fmt;

/// A byte range `start..end` of the query text. Always within the input (`end <= len`);
/// an error at the end of the input has `start == end == len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    /// The span `start..end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// Why a query was rejected, where, and what to do about it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct QueryError {
    /// One line saying what is wrong (`unknown name \`lrr\``).
    pub message: String,
    /// Where in the query text.
    pub span: Span,
    /// What to write instead, or the names that come closest.
    pub hint: Option<String>,
}

impl QueryError {
    /// An error about `span`, without a hint.
    pub fn new(message: impl Into<String>, span: Span) -> Self {
        QueryError {
            message: message.into(),
            span,
            hint: None,
        }
    }

    /// Adds a hint.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The message, the query echoed on the next line, and carets under the offending part:
    ///
    /// ```text
    /// unknown name `lrr`
    ///   lrr > 3
    ///   ^^^
    /// ```
    ///
    /// Control characters in the query are shown as spaces so that the caret lines up.
    pub fn render(&self, query: &str) -> String {
        format!(
            "{}\n{}",
            self.message,
            Caret {
                query,
                span: self.span
            }
        )
    }
}

/// The query and a caret line under `span`.
struct Caret<'a> {
    query: &'a str,
    span: Span,
}

impl fmt::Display for Caret<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: String = self
            .query
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let col = |byte: usize| {
            self.query
                .char_indices()
                .take_while(|(i, _)| *i < byte)
                .count()
        };
        let start = col(self.span.start.min(self.query.len()));
        let end = col(self.span.end.min(self.query.len())).max(start + 1);
        write!(
            f,
            "  {}\n  {}{}",
            shown.trim_end(),
            " ".repeat(start),
            "^".repeat(end - start)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_counts_characters_not_bytes() {
        let e = QueryError::new("bad", Span::new(7, 9));
        assert_eq!(e.render("'é' = xy"), "bad\n  'é' = xy\n        ^^");
    }

    #[test]
    fn caret_at_end_of_input() {
        let e = QueryError::new("expected a value", Span::new(4, 4));
        assert_eq!(e.render("a = "), "expected a value\n  a =\n      ^");
    }
}
