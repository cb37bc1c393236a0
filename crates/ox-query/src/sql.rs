//! Resolved query → SQL over the catalog schema, with every user value bound as a parameter.
//!
//! Three-valued logic without SQL `NOT`: a run that lacks a field (or holds a JSON null
//! there) matches neither a comparison on it nor that comparison's negation. So `NOT` is
//! pushed down to the leaves (De Morgan), where each leaf knows both its "true" condition
//! and its "definitely false" condition. Each leaf is a set test such as
//! `r.rid IN (SELECT rid FROM params WHERE key = ? AND num > ?)`, which SQLite answers
//! from the `(key, num)` index.

use crate::ast::{Expr, Literal, Query, Value};
use crate::error::{QueryError, Span};
use crate::lexer::CmpOp;
use crate::resolve::{Field, KnownKeys, RunField, Summary, resolve};
use crate::values::{
    Typed, duration_value, exit_code_value, number_value, param_typed, text_of, text_value,
    time_value,
};

/// A value bound to a `?` of the generated SQL.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Integer(i64),
    Real(f64),
    Text(String),
}

/// A piece of SQL and the values for its `?`s, in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fragment {
    pub sql: String,
    pub params: Vec<SqlValue>,
}

/// A query compiled against the catalog schema (`runs` aliased `r`).
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledQuery {
    /// A boolean condition on `r` (`1` when the query has none).
    pub filter: Fragment,
    /// Sort keys for `ORDER BY` (never empty: ties end on creation time and id).
    pub order_by: Fragment,
    pub limit: Option<u64>,
    /// The fields the query mentions, in order of first mention, each once.
    pub fields: Vec<Field>,
}

impl CompiledQuery {
    /// `SELECT r.rid FROM runs r WHERE … ORDER BY … [LIMIT ?]`: the matching runs' row ids
    /// in order.
    pub fn select_rids(&self) -> Fragment {
        self.select("r.rid")
    }

    /// The same statement selecting `columns` (SQL written by the caller, not user text).
    pub fn select(&self, columns: &str) -> Fragment {
        let mut sql = format!(
            "SELECT {columns} FROM runs r WHERE {} ORDER BY {}",
            self.filter.sql, self.order_by.sql
        );
        let mut params = self.filter.params.clone();
        params.extend(self.order_by.params.iter().cloned());
        if let Some(n) = self.limit {
            sql.push_str(" LIMIT ?");
            params.push(SqlValue::Integer(i64::try_from(n).unwrap_or(i64::MAX)));
        }
        Fragment { sql, params }
    }
}

/// Parses, resolves names against `keys`, and compiles `input`.
pub fn compile(input: &str, keys: &KnownKeys) -> Result<CompiledQuery, QueryError> {
    let query = crate::parser::parse(input)?;
    compile_query(&query, keys)
}

/// Compiles a parsed query.
pub fn compile_query(query: &Query, keys: &KnownKeys) -> Result<CompiledQuery, QueryError> {
    let mut c = Compiler {
        keys,
        params: Vec::new(),
        fields: Vec::new(),
        conditions: 0,
    };
    let filter_sql = match &query.filter {
        Some(e) => c.expr(e, true)?,
        None => "1".to_string(),
    };
    if c.params.len() > MAX_VALUES {
        return Err(QueryError::new(
            format!("the query has more than {MAX_VALUES} values"),
            Span::new(0, 0),
        )
        .with_hint("select fewer values, or a range with BETWEEN or < and >"));
    }
    let filter = Fragment {
        sql: filter_sql,
        params: std::mem::take(&mut c.params),
    };
    let mut keys_sql = Vec::new();
    for key in &query.order_by {
        let field = c.field(&key.name)?;
        let dir = if key.descending { "DESC" } else { "ASC" };
        let exprs: Vec<String> = match &field {
            Field::Run(f) => vec![f.sql()],
            Field::Tags => {
                return Err(QueryError::new("cannot sort by tags", key.name.span)
                    .with_hint("sort by a run field, a param or a metric"));
            }
            Field::Param(k) => {
                // Numbers first (numerically; equal numbers tie whatever their spelling), then
                // text values; runs without it last.
                c.params.push(SqlValue::Text(k.clone()));
                c.params.push(SqlValue::Text(k.clone()));
                vec![
                    "(SELECT p.num FROM params p WHERE p.rid = r.rid AND p.key = ?)".into(),
                    "(SELECT CASE WHEN p.num IS NULL THEN p.text END FROM params p WHERE p.rid = r.rid AND p.key = ?)".into(),
                ]
            }
            Field::Metric { key, summary } => {
                c.params.push(SqlValue::Text(key.clone()));
                vec![format!(
                    "(SELECT m.{} FROM metrics m WHERE m.rid = r.rid AND m.key = ?)",
                    summary.as_str()
                )]
            }
        };
        for e in exprs {
            keys_sql.push(format!("{e} {dir} NULLS LAST"));
        }
    }
    keys_sql.push("r.created ASC".into());
    keys_sql.push("r.id ASC".into());
    let order_by = Fragment {
        sql: keys_sql.join(", "),
        params: std::mem::take(&mut c.params),
    };
    Ok(CompiledQuery {
        filter,
        order_by,
        limit: query.limit.map(|l| l.count),
        fields: c.fields,
    })
}

/// A condition on one present value, after `NOT` has been pushed into it.
#[derive(Clone, Copy)]
enum Pred<'a> {
    Cmp(CmpOp, &'a Literal),
    In(&'a [Literal], bool),
    Like(&'a Literal, bool),
    Between(&'a Literal, &'a Literal, bool),
}

impl Pred<'_> {
    fn negate(self) -> Self {
        match self {
            Pred::Cmp(op, v) => Pred::Cmp(op.negate(), v),
            Pred::In(vs, neg) => Pred::In(vs, !neg),
            Pred::Like(p, neg) => Pred::Like(p, !neg),
            Pred::Between(lo, hi, neg) => Pred::Between(lo, hi, !neg),
        }
    }
}

const STATUSES: [&str; 6] = [
    "queued",
    "running",
    "completed",
    "failed",
    "killed",
    "crashed",
];

/// At most this many conditions: SQLite nests `a OR b OR …` one level per operand and
/// refuses expressions deeper than 1000 levels.
const MAX_CONDITIONS: usize = 400;

/// At most this many bound values (SQLite allows 32766 per statement).
const MAX_VALUES: usize = 30_000;

struct Compiler<'k> {
    keys: &'k KnownKeys,
    params: Vec<SqlValue>,
    fields: Vec<Field>,
    /// Conditions compiled so far.
    conditions: usize,
}

impl Compiler<'_> {
    fn field(&mut self, name: &crate::ast::Name) -> Result<Field, QueryError> {
        self.conditions += 1;
        if self.conditions > MAX_CONDITIONS {
            return Err(QueryError::new(
                format!("the query has more than {MAX_CONDITIONS} conditions"),
                name.span,
            )
            .with_hint("for many values of one field, use IN ('a', 'b', …)"));
        }
        let f = resolve(name, self.keys)?;
        if !self.fields.contains(&f) {
            self.fields.push(f.clone());
        }
        Ok(f)
    }

    fn bind(&mut self, v: SqlValue) -> &'static str {
        self.params.push(v);
        "?"
    }

    /// SQL that is true exactly when `e` is true (`positive`) or definitely false.
    fn expr(&mut self, e: &Expr, positive: bool) -> Result<String, QueryError> {
        Ok(match e {
            Expr::And(parts) | Expr::Or(parts) => {
                let and = matches!(e, Expr::And(_)) == positive;
                let sql: Result<Vec<String>, _> =
                    parts.iter().map(|p| self.expr(p, positive)).collect();
                format!("({})", sql?.join(if and { " AND " } else { " OR " }))
            }
            Expr::Not(inner) => self.expr(inner, !positive)?,
            Expr::Compare { name, op, value } => {
                let field = self.field(name)?;
                self.leaf(&field, name.span, Pred::Cmp(*op, value), positive)?
            }
            Expr::In {
                name,
                values,
                negated,
            } => {
                let field = self.field(name)?;
                self.leaf(&field, name.span, Pred::In(values, *negated), positive)?
            }
            Expr::Member {
                value,
                name,
                negated,
            } => {
                let field = self.field(name)?;
                if field != Field::Tags {
                    return Err(QueryError::new(
                        format!("`{}` holds one value, not a list", name.display()),
                        name.span,
                    )
                    .with_hint(format!(
                        "compare it instead: {} = …; only tags holds several values",
                        name.display()
                    )));
                }
                self.leaf(
                    &field,
                    name.span,
                    Pred::Cmp(CmpOp::Eq, value),
                    positive != *negated,
                )?
            }
            Expr::Like {
                name,
                pattern,
                negated,
            } => {
                let field = self.field(name)?;
                self.leaf(&field, name.span, Pred::Like(pattern, *negated), positive)?
            }
            Expr::Between {
                name,
                low,
                high,
                negated,
            } => {
                let field = self.field(name)?;
                self.leaf(
                    &field,
                    name.span,
                    Pred::Between(low, high, *negated),
                    positive,
                )?
            }
            Expr::IsNull { name, negated } => {
                let field = self.field(name)?;
                self.null_test(&field, positive != *negated)
            }
        })
    }

    /// Whether run `r` has (`not` empty) or lacks (`not` = `"NOT "`) a row in `table`
    /// (aliased `alias`) meeting `cond`. By default SQLite collects an `IN (SELECT …)` set
    /// once, from an index that covers `cond` (measured faster than per-run lookups even
    /// when `study = …` leaves a tenth of the runs); `correlated` asks for `EXISTS`, a
    /// primary-key lookup per candidate run, for conditions no index covers.
    fn set_test(not: &str, table: &str, alias: &str, cond: &str, correlated: bool) -> String {
        if correlated {
            format!(
                "{not}EXISTS (SELECT 1 FROM {table} {alias} WHERE {alias}.rid = r.rid AND {cond})"
            )
        } else {
            format!("r.rid {not}IN (SELECT {alias}.rid FROM {table} {alias} WHERE {cond})")
        }
    }

    fn null_test(&mut self, field: &Field, is_null: bool) -> String {
        let not = if is_null { "NOT " } else { "" };
        match field {
            Field::Run(f) => {
                format!("{} IS {}NULL", f.sql(), if is_null { "" } else { "NOT " })
            }
            Field::Tags => Self::set_test(not, "tags", "t", "1", false),
            Field::Param(k) => {
                let p = self.bind(SqlValue::Text(k.clone()));
                let cond = format!("p.key = {p} AND (p.num IS NOT NULL OR p.text IS NOT NULL)");
                Self::set_test(not, "params", "p", &cond, false)
            }
            Field::Metric { key, summary } => {
                let p = self.bind(SqlValue::Text(key.clone()));
                let cond = format!("m.key = {p} AND m.{} IS NOT NULL", summary.as_str());
                Self::set_test(not, "metrics", "m", &cond, *summary != Summary::Last)
            }
        }
    }

    fn leaf(
        &mut self,
        field: &Field,
        span: Span,
        pred: Pred<'_>,
        positive: bool,
    ) -> Result<String, QueryError> {
        check_no_null(pred)?;
        match field {
            Field::Tags => self.tags(span, pred, positive),
            _ => {
                let pred = if positive { pred } else { pred.negate() };
                match field {
                    Field::Run(f) => self.run_field(*f, pred),
                    Field::Param(k) => self.param(k, pred),
                    Field::Metric { key, summary } => self.metric(key, *summary, pred),
                    Field::Tags => Err(QueryError::new("internal: tags", span)),
                }
            }
        }
    }

    /// Tags are a set: `tags = 'x'` is membership and its negation is non-membership.
    fn tags(&mut self, span: Span, pred: Pred<'_>, positive: bool) -> Result<String, QueryError> {
        let (cond, member) = match pred {
            Pred::Cmp(op @ (CmpOp::Eq | CmpOp::Ne), v) => {
                let p = self.bind(SqlValue::Text(text_of(v)));
                (format!("tag = {p}"), (op == CmpOp::Eq) == positive)
            }
            Pred::In(vs, negated) => {
                let list = self.bind_list(vs.iter().map(|v| SqlValue::Text(text_of(v))));
                (format!("tag IN ({list})"), negated != positive)
            }
            Pred::Like(pat, negated) => {
                let p = self.bind(SqlValue::Text(text_of(pat)));
                (format!("tag LIKE {p}"), negated != positive)
            }
            Pred::Cmp(..) | Pred::Between(..) => {
                return Err(QueryError::new("tags can only be tested for membership", span)
                    .with_hint("use tags = 'x', tags != 'x', 'x' IN tags, tags IN ('x', 'y'), tags LIKE 'x%' or tags IS NULL"));
            }
        };
        let not = if member { "" } else { "NOT " };
        Ok(Self::set_test(not, "tags", "t", &cond, false))
    }

    fn bind_list(&mut self, values: impl Iterator<Item = SqlValue>) -> String {
        let marks: Vec<&str> = values.map(|v| self.bind(v)).collect();
        marks.join(", ")
    }

    fn run_field(&mut self, f: RunField, pred: Pred<'_>) -> Result<String, QueryError> {
        let col = f.sql();
        let typed = |lit: &Literal| -> Result<SqlValue, QueryError> {
            match f {
                RunField::Duration => duration_value(lit),
                RunField::ExitCode => exit_code_value(lit),
                RunField::Created | RunField::Started | RunField::Ended => {
                    time_value(f.as_str(), lit)
                }
                _ => text_value(f.as_str(), lit),
            }
        };
        if f == RunField::Status {
            check_statuses(pred)?;
        }
        Ok(match pred {
            Pred::Cmp(op, v) => {
                let p = self.bind(typed(v)?);
                format!("{col} {} {p}", op.sql())
            }
            Pred::In(vs, negated) => {
                let values = vs.iter().map(typed).collect::<Result<Vec<_>, _>>()?;
                let list = self.bind_list(values.into_iter());
                format!("{col} {}IN ({list})", if negated { "NOT " } else { "" })
            }
            Pred::Like(pat, negated) => {
                let p = self.bind(SqlValue::Text(text_of(pat)));
                format!("{col} {}LIKE {p}", if negated { "NOT " } else { "" })
            }
            Pred::Between(lo, hi, negated) => {
                let (lo, hi) = (typed(lo)?, typed(hi)?);
                let a = self.bind(lo);
                let b = self.bind(hi);
                format!(
                    "{col} {}BETWEEN {a} AND {b}",
                    if negated { "NOT " } else { "" }
                )
            }
        })
    }

    /// Params compare numerically with a number when their value is numeric; a text value
    /// is unequal to every number and neither less nor greater than one.
    fn param(&mut self, key: &str, pred: Pred<'_>) -> Result<String, QueryError> {
        let k = self.bind(SqlValue::Text(key.to_string()));
        let cond = match pred {
            Pred::Cmp(op, v) => match param_typed(v) {
                Typed::Num(n) => {
                    let p = self.bind(n);
                    if op == CmpOp::Ne {
                        format!("text IS NOT NULL AND (num IS NULL OR num != {p})")
                    } else {
                        format!("num {} {p}", op.sql())
                    }
                }
                Typed::Text(s) => {
                    let p = self.bind(SqlValue::Text(s));
                    format!("text {} {p}", op.sql())
                }
            },
            Pred::In(vs, negated) => {
                let (mut nums, mut texts) = (Vec::new(), Vec::new());
                for v in vs {
                    match param_typed(v) {
                        Typed::Num(n) => nums.push(n),
                        Typed::Text(s) => texts.push(SqlValue::Text(s)),
                    }
                }
                let nums = (!nums.is_empty()).then(|| self.bind_list(nums.into_iter()));
                let texts = (!texts.is_empty()).then(|| self.bind_list(texts.into_iter()));
                match (negated, nums, texts) {
                    (false, Some(n), None) => format!("num IN ({n})"),
                    (false, None, Some(t)) => format!("text IN ({t})"),
                    (false, Some(n), Some(t)) => format!("(num IN ({n}) OR text IN ({t}))"),
                    (true, Some(n), None) => {
                        format!("text IS NOT NULL AND (num IS NULL OR num NOT IN ({n}))")
                    }
                    (true, None, Some(t)) => format!("text NOT IN ({t})"),
                    (true, Some(n), Some(t)) => {
                        // Bound in order: the numbers, then the texts.
                        format!("(num IS NULL OR num NOT IN ({n})) AND text NOT IN ({t})")
                    }
                    (_, None, None) => "0".to_string(),
                }
            }
            Pred::Like(pat, negated) => {
                let p = self.bind(SqlValue::Text(text_of(pat)));
                format!("text {}LIKE {p}", if negated { "NOT " } else { "" })
            }
            Pred::Between(lo, hi, negated) => {
                let not = if negated { "NOT " } else { "" };
                match (param_typed(lo), param_typed(hi)) {
                    (Typed::Num(a), Typed::Num(b)) => {
                        let a = self.bind(a);
                        let b = self.bind(b);
                        format!("num {not}BETWEEN {a} AND {b}")
                    }
                    (Typed::Text(a), Typed::Text(b)) => {
                        let a = self.bind(SqlValue::Text(a));
                        let b = self.bind(SqlValue::Text(b));
                        format!("text {not}BETWEEN {a} AND {b}")
                    }
                    _ => {
                        return Err(QueryError::new(
                            "BETWEEN needs two numbers or two strings",
                            lo.span.to(hi.span),
                        ));
                    }
                }
            }
        };
        Ok(Self::set_test(
            "",
            "params",
            "p",
            &format!("p.key = {k} AND {cond}"),
            false,
        ))
    }

    fn metric(
        &mut self,
        key: &str,
        summary: Summary,
        pred: Pred<'_>,
    ) -> Result<String, QueryError> {
        let k = self.bind(SqlValue::Text(key.to_string()));
        let col = format!("m.{}", summary.as_str());
        let num = |lit: &Literal| -> Result<SqlValue, QueryError> {
            match &lit.value {
                Value::Num { value, .. } => Ok(number_value(*value)),
                _ => Err(
                    QueryError::new("metrics are numbers; compare with a number", lit.span)
                        .with_hint("write the value without quotes: metrics.loss < 0.5"),
                ),
            }
        };
        let cond = match pred {
            Pred::Cmp(op, v) => {
                let p = self.bind(num(v)?);
                format!("{col} {} {p}", op.sql())
            }
            Pred::In(vs, negated) => {
                let values = vs.iter().map(num).collect::<Result<Vec<_>, _>>()?;
                let list = self.bind_list(values.into_iter());
                format!("{col} {}IN ({list})", if negated { "NOT " } else { "" })
            }
            Pred::Like(pat, _) => {
                return Err(QueryError::new(
                    "LIKE matches text, and metrics are numbers",
                    pat.span,
                ));
            }
            Pred::Between(lo, hi, negated) => {
                let (lo, hi) = (num(lo)?, num(hi)?);
                let a = self.bind(lo);
                let b = self.bind(hi);
                format!(
                    "{col} {}BETWEEN {a} AND {b}",
                    if negated { "NOT " } else { "" }
                )
            }
        };
        // Only `last` is covered by an index (`metrics_key_last`); other summaries would cost
        // a table lookup per index entry, more than a primary-key lookup per candidate run.
        let cond = format!("m.key = {k} AND {cond}");
        Ok(Self::set_test(
            "",
            "metrics",
            "m",
            &cond,
            summary != Summary::Last,
        ))
    }
}

fn check_no_null(pred: Pred<'_>) -> Result<(), QueryError> {
    let lits: Vec<&Literal> = match pred {
        Pred::Cmp(_, v) | Pred::Like(v, _) => vec![v],
        Pred::In(vs, _) => vs.iter().collect(),
        Pred::Between(a, b, _) => vec![a, b],
    };
    for lit in lits {
        if lit.value == Value::Null {
            return Err(
                QueryError::new("NULL is not a value to compare with", lit.span)
                    .with_hint("test for a missing value with IS NULL or IS NOT NULL"),
            );
        }
    }
    Ok(())
}

fn check_statuses(pred: Pred<'_>) -> Result<(), QueryError> {
    let lits: Vec<&Literal> = match pred {
        Pred::Cmp(CmpOp::Eq | CmpOp::Ne, v) => vec![v],
        Pred::In(vs, _) => vs.iter().collect(),
        _ => return Ok(()),
    };
    for lit in lits {
        let s = text_of(lit);
        if !STATUSES.contains(&s.as_str()) {
            let close: Vec<&str> = STATUSES
                .iter()
                .copied()
                .filter(|st| st.starts_with(s.get(..2).unwrap_or(&s)) || s.starts_with(st))
                .collect();
            let hint = match close.first() {
                Some(c) => format!("did you mean '{c}'? statuses: {}", STATUSES.join(", ")),
                None => format!("statuses: {}", STATUSES.join(", ")),
            };
            return Err(QueryError::new(format!("unknown status '{s}'"), lit.span).with_hint(hint));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> KnownKeys {
        KnownKeys::new(["lr".to_string()], ["loss".to_string()])
    }

    #[test]
    fn not_is_pushed_to_the_leaves() {
        let q = compile("NOT (lr > 0.1 AND status = 'completed')", &keys()).unwrap();
        assert_eq!(
            q.filter.sql,
            "(r.rid IN (SELECT p.rid FROM params p WHERE p.key = ? AND num <= ?) OR r.status != ?)"
        );
        assert_eq!(
            q.filter.params,
            vec![
                SqlValue::Text("lr".into()),
                SqlValue::Real(0.1),
                SqlValue::Text("completed".into())
            ]
        );
    }

    #[test]
    fn only_uncovered_metric_summaries_use_exists() {
        let q = compile("metrics.loss.min < 1 AND metrics.loss < 1", &keys()).unwrap();
        assert_eq!(
            q.filter.sql,
            "(EXISTS (SELECT 1 FROM metrics m WHERE m.rid = r.rid AND m.key = ? AND m.min < ?) \
             AND r.rid IN (SELECT m.rid FROM metrics m WHERE m.key = ? AND m.last < ?))"
        );
    }

    #[test]
    fn order_by_puts_missing_last() {
        let q = compile("ORDER BY metrics.loss DESC LIMIT 5", &keys()).unwrap();
        let s = q.select_rids();
        assert_eq!(
            s.sql,
            "SELECT r.rid FROM runs r WHERE 1 ORDER BY (SELECT m.last FROM metrics m WHERE m.rid = r.rid AND m.key = ?) DESC NULLS LAST, r.created ASC, r.id ASC LIMIT ?"
        );
        assert_eq!(
            s.params,
            vec![SqlValue::Text("loss".into()), SqlValue::Integer(5)]
        );
    }

    #[test]
    fn user_text_is_never_in_the_sql() {
        let q = compile(
            "name = 'x''; DROP TABLE runs; --' OR lr LIKE '%'' OR 1=1'",
            &keys(),
        )
        .unwrap();
        assert!(!q.filter.sql.contains("DROP"));
        assert!(!q.filter.sql.contains("1=1"));
    }

    #[test]
    fn oversized_queries_are_errors() {
        let many = vec!["lr = 1"; MAX_CONDITIONS + 1].join(" OR ");
        let e = compile(&many, &keys()).unwrap_err();
        assert!(e.message.contains("conditions"), "{e:?}");
        assert!(compile(&vec!["lr = 1"; MAX_CONDITIONS].join(" OR "), &keys()).is_ok());
        let list = format!("lr IN ({})", vec!["1"; MAX_VALUES + 1].join(","));
        assert!(
            compile(&list, &keys())
                .unwrap_err()
                .message
                .contains("values")
        );
    }
}
