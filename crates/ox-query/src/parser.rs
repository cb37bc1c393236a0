//! Recursive-descent parser: tokens → [`Query`]. Precedence, lowest first: `OR`, `AND`,
//! `NOT`, then one predicate or a parenthesised expression.

use crate::ast::{Expr, Limit, Literal, Name, OrderKey, Query, Segment, Value};
use crate::error::{QueryError, Span};
use crate::lexer::{Number, Tok, Token, tokenize};

/// How deeply parentheses and `NOT`s may nest; deeper input is rejected rather than
/// risking the stack.
const MAX_DEPTH: usize = 100;

/// Parses a query. An empty (or all-blank) query selects all runs.
pub fn parse(input: &str) -> Result<Query, QueryError> {
    let tokens = tokenize(input)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    p.query()
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

/// What a [`Parser::describe`] of the current token says, for "expected …, found …".
fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Word(w) => {
            if keyword_of(w).is_some() {
                w.to_ascii_uppercase()
            } else {
                format!("`{w}`")
            }
        }
        Tok::Quoted(q) => format!("`{q}`"),
        Tok::Str(_) => "a string".into(),
        Tok::Number { text, .. } => format!("`{text}`"),
        Tok::Dot => "`.`".into(),
        Tok::Comma => "`,`".into(),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::Minus => "`-`".into(),
        Tok::Op(op) => format!("`{}`", op.sql()),
        Tok::End => "end of query".into(),
    }
}

/// Reserved words, matched case-insensitively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kw {
    And,
    Or,
    Not,
    In,
    Like,
    Between,
    Is,
    Null,
    True,
    False,
    Order,
    By,
    Asc,
    Desc,
    Limit,
}

fn keyword_of(word: &str) -> Option<Kw> {
    const KEYWORDS: [(&str, Kw); 15] = [
        ("and", Kw::And),
        ("or", Kw::Or),
        ("not", Kw::Not),
        ("in", Kw::In),
        ("like", Kw::Like),
        ("between", Kw::Between),
        ("is", Kw::Is),
        ("null", Kw::Null),
        ("true", Kw::True),
        ("false", Kw::False),
        ("order", Kw::Order),
        ("by", Kw::By),
        ("asc", Kw::Asc),
        ("desc", Kw::Desc),
        ("limit", Kw::Limit),
    ];
    KEYWORDS
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(word))
        .map(|(_, kw)| *kw)
}

/// Words that end an expression or separate its parts; they cannot start a name.
fn is_structural(kw: Kw) -> bool {
    matches!(
        kw,
        Kw::And
            | Kw::Or
            | Kw::Not
            | Kw::In
            | Kw::Like
            | Kw::Between
            | Kw::Is
            | Kw::Order
            | Kw::Limit
    )
}

const EXPECT_OPERATOR: &str =
    "a comparison (=, !=, <, <=, >, >=), IN, NOT IN, LIKE, NOT LIKE, BETWEEN or IS [NOT] NULL";
const EXPECT_AFTER_EXPR: &str = "AND, OR, ORDER BY, LIMIT or the end of the query";

impl Parser {
    fn token(&self) -> &Token {
        // The token list always ends with `End`, and `pos` never moves past it.
        let last = self.tokens.len().saturating_sub(1);
        match self.tokens.get(self.pos.min(last)) {
            Some(t) => t,
            None => &END,
        }
    }

    fn tok(&self) -> &Tok {
        &self.token().tok
    }

    fn span(&self) -> Span {
        self.token().span
    }

    fn advance(&mut self) -> Token {
        let t = self.token().clone();
        if !matches!(t.tok, Tok::End) {
            self.pos += 1;
        }
        t
    }

    fn kw(&self) -> Option<Kw> {
        match self.tok() {
            Tok::Word(w) => keyword_of(w),
            _ => None,
        }
    }

    fn eat_kw(&mut self, kw: Kw) -> bool {
        if self.kw() == Some(kw) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn unexpected(&self, expected: &str) -> QueryError {
        let found = describe(self.tok());
        QueryError::new(format!("expected {expected}, found {found}"), self.span())
    }

    fn query(&mut self) -> Result<Query, QueryError> {
        let filter = match self.kw() {
            _ if matches!(self.tok(), Tok::End) => None,
            Some(Kw::Order | Kw::Limit) => None,
            _ => Some(self.or_expr()?),
        };
        let mut order_by = Vec::new();
        if self.kw() == Some(Kw::Order) {
            self.advance();
            if !self.eat_kw(Kw::By) {
                return Err(self.unexpected("BY after ORDER"));
            }
            loop {
                let name = self.name_or_err("a name to sort by")?;
                let descending = if self.eat_kw(Kw::Desc) {
                    true
                } else {
                    self.eat_kw(Kw::Asc);
                    false
                };
                order_by.push(OrderKey { name, descending });
                if !matches!(self.tok(), Tok::Comma) {
                    break;
                }
                self.advance();
            }
        }
        let mut limit = None;
        if self.kw() == Some(Kw::Limit) {
            self.advance();
            let span = self.span();
            match self.tok() {
                Tok::Number {
                    value: Number::Int(n),
                    ..
                } if *n >= 0 => {
                    limit = Some(Limit {
                        count: n.unsigned_abs(),
                        span,
                    });
                    self.advance();
                }
                _ => {
                    return Err(self
                        .unexpected("a whole number after LIMIT")
                        .with_hint("LIMIT 10 keeps the first 10 runs"));
                }
            }
        }
        if !matches!(self.tok(), Tok::End) {
            let expected = if limit.is_some() {
                "the end of the query"
            } else if !order_by.is_empty() {
                "`,`, ASC, DESC, LIMIT or the end of the query"
            } else {
                EXPECT_AFTER_EXPR
            };
            let mut err = self.unexpected(expected);
            if limit.is_some() && self.kw() == Some(Kw::Order) {
                err = err.with_hint("ORDER BY comes before LIMIT");
            } else if limit.is_none()
                && matches!(self.tok(), Tok::Word(_) | Tok::Quoted(_))
                && order_by.is_empty()
            {
                err = err.with_hint("join conditions with AND or OR");
            }
            return Err(err);
        }
        Ok(Query {
            filter,
            order_by,
            limit,
        })
    }

    fn enter(&mut self) -> Result<(), QueryError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(QueryError::new(
                format!("expression nested more than {MAX_DEPTH} levels deep"),
                self.span(),
            ));
        }
        Ok(())
    }

    fn or_expr(&mut self) -> Result<Expr, QueryError> {
        let mut parts = vec![self.and_expr()?];
        while self.eat_kw(Kw::Or) {
            parts.push(self.and_expr()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Or(parts)
        })
    }

    fn and_expr(&mut self) -> Result<Expr, QueryError> {
        let mut parts = vec![self.not_expr()?];
        while self.eat_kw(Kw::And) {
            parts.push(self.not_expr()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(parts)
        })
    }

    fn not_expr(&mut self) -> Result<Expr, QueryError> {
        if self.eat_kw(Kw::Not) {
            self.enter()?;
            let inner = self.not_expr()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        if matches!(self.tok(), Tok::LParen) {
            let open = self.advance().span;
            self.enter()?;
            let inner = self.or_expr()?;
            self.depth -= 1;
            if !matches!(self.tok(), Tok::RParen) {
                let err = self.unexpected("`)`, AND or OR");
                return Err(err.with_hint(format!("the `(` at byte {} is not closed", open.start)));
            }
            self.advance();
            return Ok(inner);
        }
        self.predicate()
    }

    fn predicate(&mut self) -> Result<Expr, QueryError> {
        if let Some(lit) = self.literal()? {
            return self.predicate_after_value(lit);
        }
        let name = self.name_or_err("a condition (a name, a value, NOT or `(`)")?;
        let span = self.span();
        match self.tok().clone() {
            Tok::Op(op) => {
                self.advance();
                if let Some(value) = self.literal()? {
                    return Ok(Expr::Compare { name, op, value });
                }
                if let Tok::Word(w) | Tok::Quoted(w) = self.tok()
                    && !self.kw().is_some_and(is_structural)
                {
                    let hint = format!(
                        "to compare with the text, quote it: {} {} '{}'",
                        name.display(),
                        op.sql(),
                        w.replace('\'', "''")
                    );
                    return Err(QueryError::new(
                        "a name can only be compared with a value",
                        self.span(),
                    )
                    .with_hint(hint));
                }
                Err(self.unexpected("a value (a 'string', a number, true, false)"))
            }
            _ => match self.kw() {
                Some(Kw::Not | Kw::In | Kw::Like | Kw::Between) => {
                    let negated = self.eat_kw(Kw::Not);
                    let kw = self.kw();
                    if matches!(kw, Some(Kw::In | Kw::Like | Kw::Between)) {
                        self.advance();
                    }
                    match kw {
                        Some(Kw::In) => Ok(Expr::In {
                            name,
                            values: self.value_list()?,
                            negated,
                        }),
                        Some(Kw::Like) => Ok(Expr::Like {
                            name,
                            pattern: self.value_or_err()?,
                            negated,
                        }),
                        Some(Kw::Between) => {
                            let (low, high) = self.between_bounds()?;
                            Ok(Expr::Between {
                                name,
                                low,
                                high,
                                negated,
                            })
                        }
                        _ => Err(self.unexpected("IN, LIKE or BETWEEN after NOT")),
                    }
                }
                Some(Kw::Is) => {
                    self.advance();
                    let negated = self.eat_kw(Kw::Not);
                    if !self.eat_kw(Kw::Null) {
                        return Err(self.unexpected(if negated {
                            "NULL after IS NOT"
                        } else {
                            "NULL or NOT NULL after IS"
                        }));
                    }
                    Ok(Expr::IsNull { name, negated })
                }
                _ => {
                    let mut err = QueryError::new(
                        format!("expected {EXPECT_OPERATOR}, found {}", describe(self.tok())),
                        span,
                    );
                    if matches!(self.tok(), Tok::End | Tok::RParen)
                        || self
                            .kw()
                            .is_some_and(|k| matches!(k, Kw::And | Kw::Or | Kw::Order | Kw::Limit))
                    {
                        err = err.with_hint(format!(
                            "a condition compares a name with a value: {} = …",
                            name.display()
                        ));
                    }
                    Err(err)
                }
            },
        }
    }

    /// `value op name`, `value [NOT] IN name`.
    fn predicate_after_value(&mut self, value: Literal) -> Result<Expr, QueryError> {
        match self.tok().clone() {
            Tok::Op(op) => {
                self.advance();
                if self.literal_ahead() {
                    return Err(QueryError::new(
                        "a comparison needs a name on one side",
                        value.span.to(self.span()),
                    )
                    .with_hint("compare a run field, param or metric with a value: lr = 0.001"));
                }
                let name = self.name_or_err("a name")?;
                Ok(Expr::Compare {
                    name,
                    op: op.flip(),
                    value,
                })
            }
            _ => {
                let negated = self.eat_kw(Kw::Not);
                if !self.eat_kw(Kw::In) {
                    return Err(self.unexpected(if negated {
                        "IN after NOT"
                    } else {
                        "a comparison (=, !=, <, <=, >, >=) or IN"
                    }));
                }
                let name = self.name_or_err("a name (like tags) after IN")?;
                Ok(Expr::Member {
                    value,
                    name,
                    negated,
                })
            }
        }
    }

    fn between_bounds(&mut self) -> Result<(Literal, Literal), QueryError> {
        let low = self.value_or_err()?;
        if !self.eat_kw(Kw::And) {
            return Err(self.unexpected("AND between the bounds of BETWEEN"));
        }
        let high = self.value_or_err()?;
        Ok((low, high))
    }

    fn value_list(&mut self) -> Result<Vec<Literal>, QueryError> {
        if !matches!(self.tok(), Tok::LParen) {
            return Err(self
                .unexpected("`(` starting a list of values")
                .with_hint("write IN ('a', 'b')"));
        }
        self.advance();
        let mut values = Vec::new();
        loop {
            values.push(self.value_or_err()?);
            match self.tok() {
                Tok::Comma => {
                    self.advance();
                }
                Tok::RParen => {
                    self.advance();
                    return Ok(values);
                }
                _ => return Err(self.unexpected("`,` or `)`")),
            }
        }
    }

    fn literal_ahead(&self) -> bool {
        match self.tok() {
            Tok::Str(_) | Tok::Number { .. } | Tok::Minus => true,
            Tok::Word(w) => matches!(keyword_of(w), Some(Kw::True | Kw::False | Kw::Null)),
            _ => false,
        }
    }

    fn value_or_err(&mut self) -> Result<Literal, QueryError> {
        match self.literal()? {
            Some(l) => Ok(l),
            None => {
                let mut err = self.unexpected("a value (a 'string', a number, true, false)");
                if matches!(self.tok(), Tok::Word(_) | Tok::Quoted(_)) {
                    err = err.with_hint("put text values in quotes: 'completed'");
                }
                Err(err)
            }
        }
    }

    /// A literal if one starts here.
    fn literal(&mut self) -> Result<Option<Literal>, QueryError> {
        let span = self.span();
        let value = match self.tok().clone() {
            Tok::Str(s) => Value::Str(s),
            Tok::Number { value, text } => Value::Num { value, text },
            Tok::Minus => {
                self.advance();
                let Tok::Number { value, text } = self.tok().clone() else {
                    return Err(self.unexpected("a number after `-`"));
                };
                let end = self.span();
                self.advance();
                let value = match value {
                    Number::Int(i) => Number::Int(-i),
                    Number::Float(f) => Number::Float(-f),
                };
                return Ok(Some(Literal {
                    value: Value::Num {
                        value,
                        text: format!("-{text}"),
                    },
                    span: span.to(end),
                }));
            }
            Tok::Word(w) => match keyword_of(&w) {
                Some(Kw::True) => Value::Bool(true),
                Some(Kw::False) => Value::Bool(false),
                Some(Kw::Null) => Value::Null,
                _ => return Ok(None),
            },
            _ => return Ok(None),
        };
        self.advance();
        Ok(Some(Literal { value, span }))
    }

    fn name_or_err(&mut self, expected: &str) -> Result<Name, QueryError> {
        let start = self.span();
        let first = match self.tok().clone() {
            Tok::Word(w) if !keyword_of(&w).is_some_and(is_structural) => Segment {
                text: w,
                quoted: false,
                span: start,
            },
            Tok::Quoted(q) => Segment {
                text: q,
                quoted: true,
                span: start,
            },
            _ => return Err(self.unexpected(expected)),
        };
        self.advance();
        let mut segments = vec![first];
        let mut end = start;
        while matches!(self.tok(), Tok::Dot) {
            self.advance();
            let span = self.span();
            let seg = match self.tok().clone() {
                // After a dot any word is a name part, keywords included (`params.order`).
                Tok::Word(w) => Segment {
                    text: w,
                    quoted: false,
                    span,
                },
                Tok::Quoted(q) => Segment {
                    text: q,
                    quoted: true,
                    span,
                },
                Tok::Number { text, .. } if text.bytes().all(|b| b.is_ascii_digit()) => Segment {
                    text,
                    quoted: false,
                    span,
                },
                _ => {
                    return Err(self.unexpected("a name part after `.`").with_hint(
                        "names with other characters go in backticks: metrics.`train/loss`",
                    ));
                }
            };
            self.advance();
            end = span;
            segments.push(seg);
        }
        Ok(Name {
            segments,
            span: start.to(end),
        })
    }
}

static END: Token = Token {
    tok: Tok::End,
    span: Span { start: 0, end: 0 },
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::CmpOp;

    #[test]
    fn precedence_and_flattening() {
        let q = parse("a = 1 OR b = 2 AND NOT c = 3 OR d = 4").unwrap();
        let Some(Expr::Or(parts)) = q.filter else {
            panic!()
        };
        assert_eq!(parts.len(), 3);
        assert!(matches!(&parts[1], Expr::And(v) if v.len() == 2 && matches!(v[1], Expr::Not(_))));
    }

    #[test]
    fn value_first_comparison_is_flipped() {
        let q = parse("0.5 < metrics.loss").unwrap();
        assert!(matches!(
            q.filter,
            Some(Expr::Compare { op: CmpOp::Gt, .. })
        ));
    }

    #[test]
    fn order_and_limit_alone() {
        let q = parse("order by lr desc, metrics.loss LIMIT 3").unwrap();
        assert!(q.filter.is_none());
        assert_eq!(q.order_by.len(), 2);
        assert!(q.order_by[0].descending);
        assert_eq!(q.limit.map(|l| l.count), Some(3));
        assert_eq!(parse("   ").unwrap().filter, None);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}a = 1{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(parse(&deep).is_err());
        let nots = format!("{} a = 1", "NOT ".repeat(100_000));
        assert!(parse(&nots).is_err());
        let wide = vec!["a = 1"; 10_000].join(" AND ");
        assert!(parse(&wide).is_ok());
    }
}
