//! The syntax tree of a query, before names are resolved. Every node keeps its span so
//! that later errors (an unknown name, a value of the wrong type) can point at it.

use crate::error::Span;
use crate::lexer::{CmpOp, Number};

/// A whole query: an optional condition, sort keys, and a limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// `None` selects every run.
    pub filter: Option<Expr>,
    pub order_by: Vec<OrderKey>,
    pub limit: Option<Limit>,
}

/// One `ORDER BY` key.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderKey {
    pub name: Name,
    pub descending: bool,
}

/// `LIMIT n`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub count: u64,
    pub span: Span,
}

/// A condition on a run.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// All must hold (at least two operands).
    And(Vec<Expr>),
    /// One must hold (at least two operands).
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// `name op value` (a `value op name` in the input is stored flipped).
    Compare {
        name: Name,
        op: CmpOp,
        value: Literal,
    },
    /// `name [NOT] IN (v, …)`.
    In {
        name: Name,
        values: Vec<Literal>,
        negated: bool,
    },
    /// `value [NOT] IN name`: membership in a many-valued field (`'baseline' IN tags`).
    Member {
        value: Literal,
        name: Name,
        negated: bool,
    },
    /// `name [NOT] LIKE pattern`.
    Like {
        name: Name,
        pattern: Literal,
        negated: bool,
    },
    /// `name [NOT] BETWEEN low AND high` (inclusive).
    Between {
        name: Name,
        low: Literal,
        high: Literal,
        negated: bool,
    },
    /// `name IS [NOT] NULL`.
    IsNull {
        name: Name,
        negated: bool,
    },
}

/// A dotted name as written: `params.model.layers`, ``metrics.`train/loss`.min``, `lr`.
#[derive(Debug, Clone, PartialEq)]
pub struct Name {
    pub segments: Vec<Segment>,
    pub span: Span,
}

impl Name {
    /// The name as the user wrote it, for messages (backticks only where needed).
    pub fn display(&self) -> String {
        self.segments
            .iter()
            .map(Segment::display)
            .collect::<Vec<_>>()
            .join(".")
    }
}

/// One part of a dotted name.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub text: String,
    /// Written in backticks (so never a keyword nor a summary name like `min`).
    pub quoted: bool,
    pub span: Span,
}

impl Segment {
    fn display(&self) -> String {
        quote_segment(&self.text)
    }
}

/// `text` as it must be written in a query: bare when it is a plain identifier, else in
/// backticks (with backticks doubled).
pub fn quote_segment(text: &str) -> String {
    let plain = text
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && text.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !is_keyword(text);
    if plain {
        text.to_string()
    } else {
        format!("`{}`", text.replace('`', "``"))
    }
}

/// Whether `word` is reserved (and so must be quoted to be used as the first part of a name).
fn is_keyword(word: &str) -> bool {
    [
        "and", "or", "not", "in", "like", "between", "is", "null", "true", "false", "order", "by",
        "asc", "desc", "limit",
    ]
    .iter()
    .any(|k| k.eq_ignore_ascii_case(word))
}

/// A literal value with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Literal {
    pub value: Value,
    pub span: Span,
}

/// The value of a literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    /// A number and its text as written (`3e-4`).
    Num {
        value: Number,
        text: String,
    },
    Bool(bool),
    Null,
}
