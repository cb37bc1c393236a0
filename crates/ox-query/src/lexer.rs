//! Tokens of the query language, each with the byte span it covers in the input.

use crate::error::{QueryError, Span};

/// One token. Keywords are not distinguished here: they are [`Tok::Word`]s that the parser
/// compares case-insensitively, so that a word after a `.` (`params.order`) stays a name.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A bare word: `[A-Za-z_][A-Za-z0-9_]*`.
    Word(String),
    /// A name in backticks, with ``` `` ``` unescaped to one backtick.
    Quoted(String),
    /// A string literal in single or double quotes, escapes resolved.
    Str(String),
    /// A number literal; the text is kept so that a number compared with a text field is
    /// compared as written (`name = 3e-4` looks for the name `3e-4`).
    Number {
        value: Number,
        text: String,
    },
    Dot,
    Comma,
    LParen,
    RParen,
    Minus,
    Op(CmpOp),
    /// End of input (always the last token, with an empty span at the input's end).
    End,
}

/// A numeric literal: integers stay exact when they fit an `i64`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    /// The value as a float (integers beyond 2^53 round).
    #[allow(clippy::cast_precision_loss)]
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// The SQL spelling.
    pub fn sql(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    /// The operator that holds exactly when this one does not (for a present value).
    pub fn negate(self) -> CmpOp {
        match self {
            CmpOp::Eq => CmpOp::Ne,
            CmpOp::Ne => CmpOp::Eq,
            CmpOp::Lt => CmpOp::Ge,
            CmpOp::Le => CmpOp::Gt,
            CmpOp::Gt => CmpOp::Le,
            CmpOp::Ge => CmpOp::Lt,
        }
    }

    /// The operator with its operands swapped (`1 < x` is `x > 1`).
    pub fn flip(self) -> CmpOp {
        match self {
            CmpOp::Eq => CmpOp::Eq,
            CmpOp::Ne => CmpOp::Ne,
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
        }
    }
}

/// A token and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

/// Splits `input` into tokens, ending with [`Tok::End`]. Fails at the first character that
/// cannot start a token, an unterminated string or name, a bad escape, or a malformed number.
pub fn tokenize(input: &str) -> Result<Vec<Token>, QueryError> {
    let mut lexer = Lexer {
        input,
        pos: 0,
        out: Vec::new(),
    };
    lexer.run()?;
    Ok(lexer.out)
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    out: Vec<Token>,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.input.get(self.pos..).and_then(|s| s.chars().next())
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.input
            .get(self.pos..)
            .and_then(|s| s.chars().nth(offset))
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn push(&mut self, tok: Tok, start: usize) {
        self.out.push(Token {
            tok,
            span: Span::new(start, self.pos),
        });
    }

    fn run(&mut self) -> Result<(), QueryError> {
        while let Some(c) = self.peek() {
            let start = self.pos;
            match c {
                c if c.is_whitespace() => {
                    self.bump();
                }
                c if c.is_alphabetic() || c == '_' => {
                    while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        self.bump();
                    }
                    let word = self
                        .input
                        .get(start..self.pos)
                        .unwrap_or_default()
                        .to_string();
                    self.push(Tok::Word(word), start);
                }
                '0'..='9' => self.number(start)?,
                '.' if self.peek_at(1).is_some_and(|c| c.is_ascii_digit())
                    && !self.after_name() =>
                {
                    self.number(start)?;
                }
                '.' => self.single(Tok::Dot),
                ',' => self.single(Tok::Comma),
                '(' => self.single(Tok::LParen),
                ')' => self.single(Tok::RParen),
                '-' => self.single(Tok::Minus),
                '=' => {
                    self.bump();
                    // `==` is a common slip; accept it as `=`.
                    if self.peek() == Some('=') {
                        self.bump();
                    }
                    self.push(Tok::Op(CmpOp::Eq), start);
                }
                '!' => {
                    self.bump();
                    if self.peek() == Some('=') {
                        self.bump();
                        self.push(Tok::Op(CmpOp::Ne), start);
                    } else {
                        return Err(QueryError::new(
                            "unexpected character `!`",
                            Span::new(start, self.pos),
                        )
                        .with_hint("write `!=` for \"not equal\", or NOT before a condition"));
                    }
                }
                '<' => {
                    self.bump();
                    let op = match self.peek() {
                        Some('=') => CmpOp::Le,
                        Some('>') => CmpOp::Ne,
                        _ => CmpOp::Lt,
                    };
                    if op != CmpOp::Lt {
                        self.bump();
                    }
                    self.push(Tok::Op(op), start);
                }
                '>' => {
                    self.bump();
                    let op = if self.peek() == Some('=') {
                        self.bump();
                        CmpOp::Ge
                    } else {
                        CmpOp::Gt
                    };
                    self.push(Tok::Op(op), start);
                }
                '\'' | '"' => self.string(c, start)?,
                '`' => self.quoted_name(start)?,
                other => {
                    self.bump();
                    let hint = match other {
                        '&' => "join conditions with AND",
                        '|' => "join conditions with OR",
                        ';' => "a query is one expression; join conditions with AND or OR",
                        _ => {
                            "names with characters other than letters, digits and `_` go in backticks: metrics.`train/loss`"
                        }
                    };
                    return Err(QueryError::new(
                        format!("unexpected character `{other}`"),
                        Span::new(start, self.pos),
                    )
                    .with_hint(hint));
                }
            }
        }
        let end = self.input.len();
        self.out.push(Token {
            tok: Tok::End,
            span: Span::new(end, end),
        });
        Ok(())
    }

    /// Whether the previous token ends a name, so that `.5` after it is a dot and a segment
    /// (`metrics.x.5` is not valid, but it is a name error, not a number).
    fn after_name(&self) -> bool {
        matches!(
            self.out.last(),
            Some(Token { tok: Tok::Word(_) | Tok::Quoted(_), span }) if span.end == self.pos
        )
    }

    fn single(&mut self, tok: Tok) {
        let start = self.pos;
        self.bump();
        self.push(tok, start);
    }

    fn number(&mut self, start: usize) -> Result<(), QueryError> {
        let digits = |lx: &mut Self| {
            let mut n = 0;
            while lx.peek().is_some_and(|c| c.is_ascii_digit()) {
                lx.bump();
                n += 1;
            }
            n
        };
        let mut is_float = false;
        digits(self);
        if self.peek() == Some('.') {
            is_float = true;
            self.bump();
            digits(self);
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            is_float = true;
            self.bump();
            if matches!(self.peek(), Some('+' | '-')) {
                self.bump();
            }
            if digits(self) == 0 {
                return Err(QueryError::new(
                    "malformed number: expected digits after the exponent",
                    Span::new(start, self.pos),
                ));
            }
        }
        // A number running into a letter (`3abc`, `1e5x`) is a typo, not two tokens.
        if self
            .peek()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
        {
            while self
                .peek()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
            {
                self.bump();
            }
            return Err(
                QueryError::new("malformed number", Span::new(start, self.pos))
                    .with_hint("put text values in quotes: 'abc'"),
            );
        }
        let text = self
            .input
            .get(start..self.pos)
            .unwrap_or_default()
            .to_string();
        let value = if is_float {
            None
        } else {
            text.parse::<i64>().ok().map(Number::Int)
        };
        let value = match value {
            Some(v) => v,
            None => match text.parse::<f64>() {
                Ok(f) if f.is_finite() => Number::Float(f),
                _ => {
                    return Err(QueryError::new(
                        "number out of range",
                        Span::new(start, self.pos),
                    ));
                }
            },
        };
        self.push(Tok::Number { value, text }, start);
        Ok(())
    }

    fn string(&mut self, quote: char, start: usize) -> Result<(), QueryError> {
        self.bump();
        let mut value = String::new();
        loop {
            let here = self.pos;
            match self.bump() {
                None => {
                    return Err(
                        QueryError::new("unterminated string", Span::new(start, self.pos))
                            .with_hint(format!("close the string with {quote}")),
                    );
                }
                Some(c) if c == quote => {
                    // SQL style: a doubled quote is one quote character.
                    if self.peek() == Some(quote) {
                        self.bump();
                        value.push(quote);
                    } else {
                        break;
                    }
                }
                Some('\\') => {
                    let escaped = match self.bump() {
                        Some('\\') => '\\',
                        Some('\'') => '\'',
                        Some('"') => '"',
                        Some('n') => '\n',
                        Some('t') => '\t',
                        Some('r') => '\r',
                        Some('0') => '\0',
                        other => {
                            let shown = other.map_or_else(String::new, String::from);
                            return Err(QueryError::new(
                                format!("unknown escape `\\{shown}` in string"),
                                Span::new(here, self.pos),
                            )
                            .with_hint(r#"known escapes: \\ \' \" \n \t \r \0"#));
                        }
                    };
                    value.push(escaped);
                }
                Some(c) => value.push(c),
            }
        }
        self.push(Tok::Str(value), start);
        Ok(())
    }

    fn quoted_name(&mut self, start: usize) -> Result<(), QueryError> {
        self.bump();
        let mut value = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(QueryError::new(
                        "unterminated name in backticks",
                        Span::new(start, self.pos),
                    )
                    .with_hint("close the name with `"));
                }
                Some('`') => {
                    if self.peek() == Some('`') {
                        self.bump();
                        value.push('`');
                    } else {
                        break;
                    }
                }
                Some(c) => value.push(c),
            }
        }
        if value.is_empty() {
            return Err(QueryError::new(
                "empty name in backticks",
                Span::new(start, self.pos),
            ));
        }
        self.push(Tok::Quoted(value), start);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn numbers_keep_their_text_and_exactness() {
        assert_eq!(
            toks("3e-4 .5 12 1.0"),
            vec![
                Tok::Number {
                    value: Number::Float(3e-4),
                    text: "3e-4".into()
                },
                Tok::Number {
                    value: Number::Float(0.5),
                    text: ".5".into()
                },
                Tok::Number {
                    value: Number::Int(12),
                    text: "12".into()
                },
                Tok::Number {
                    value: Number::Float(1.0),
                    text: "1.0".into()
                },
                Tok::End
            ]
        );
    }

    #[test]
    fn dot_after_a_name_is_a_separator() {
        assert_eq!(
            toks("metrics.`a b`.5"),
            vec![
                Tok::Word("metrics".into()),
                Tok::Dot,
                Tok::Quoted("a b".into()),
                Tok::Dot,
                Tok::Number {
                    value: Number::Int(5),
                    text: "5".into()
                },
                Tok::End
            ]
        );
    }

    #[test]
    fn strings_unescape() {
        assert_eq!(
            toks(r#"'it''s' "a\"b\\" 'x\ny'"#)[..3],
            [
                Tok::Str("it's".into()),
                Tok::Str("a\"b\\".into()),
                Tok::Str("x\ny".into())
            ]
        );
    }

    #[test]
    fn operators() {
        let ops: Vec<Tok> = toks("= == != <> < <= > >=");
        assert_eq!(ops.len(), 9);
        assert_eq!(ops[3], Tok::Op(CmpOp::Ne));
    }

    #[test]
    fn errors_have_spans() {
        let e = tokenize("a = 'abc").unwrap_err();
        assert_eq!(e.span, Span::new(4, 8));
        let e = tokenize("a = 3x").unwrap_err();
        assert_eq!(e.span, Span::new(4, 6));
        let e = tokenize("a # b").unwrap_err();
        assert_eq!(e.span, Span::new(2, 3));
        let e = tokenize("a = 'é\\q'").unwrap_err();
        assert_eq!(e.span, Span::new(7, 9));
        assert!(tokenize("1e999").is_err());
    }
}
