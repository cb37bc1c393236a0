//! The run query language: parser with spans, AST, and parametrized SQL over the catalog schema.
//!
//! ```text
//! study = 'sparse-attention' AND status = 'completed' AND metrics.loss.min < 0.5
//!   ORDER BY lr DESC, metrics.loss LIMIT 10
//! ```
//!
//! # The language
//!
//! - **Conditions**: comparisons `= != <> < <= > >=` (and `==`), `AND`, `OR`, `NOT` (usual
//!   precedence: `NOT` binds tightest, then `AND`, then `OR`), parentheses, `IN (…)`,
//!   `NOT IN (…)`, `LIKE` / `NOT LIKE` (`%` any run of characters, `_` one; ASCII letters
//!   match either case, as in SQLite), `BETWEEN a AND b` (inclusive), `IS [NOT] NULL`.
//!   Keywords are case-insensitive. A value may come first: `0.5 > metrics.loss`.
//! - **Values**: `'single'` or `"double"` quoted strings (escapes `\\ \' \" \n \t \r \0`, or a
//!   doubled quote), integers, floats (`3e-4`, `.5`, `-2`), `true`, `false`.
//! - **Then** optionally `ORDER BY key [ASC|DESC], …` and `LIMIT n`. An empty query selects
//!   every run; `ORDER BY` alone sorts them all.
//! - **Names**: run fields `id name study status created started ended duration exit_code
//!   host sweep parent tags` (case-insensitive); params `params.model.layers`, or bare (`lr`,
//!   `model.layers`) when no run field has the name; metric summaries `metrics.loss` (last
//!   value) and `metrics.loss.first|last|min|max|mean|count|last_step` (a bare metric name
//!   works too when no param has it). Other characters go in backticks:
//!   ``metrics.`train/loss`.min``, ``params.`optimizer-name` ``. A metric name with dots is
//!   written plainly (`metrics.val.acc`) or in backticks.
//!
//! # Meaning
//!
//! - Param values compare as numbers with a number (`lr = 3e-4` matches a param logged as
//!   `0.0003` or as the string `"3e-4"`), as text with a string or boolean. A param whose
//!   value is text is unequal to every number and neither less nor greater than one.
//! - A run that lacks a field (or holds a JSON `null` there) matches neither a condition on
//!   it nor that condition's `NOT`; only `IS NULL` matches it. In `ORDER BY` it sorts last,
//!   ascending or descending. Param sorting puts numbers (numerically) before text values.
//! - `tags` is a set: `tags = 'x'` and `'x' IN tags` test membership, `tags != 'x'` and
//!   `'x' NOT IN tags` its absence, `tags IN ('a', 'b')` any of them, `tags LIKE 'a%'` any
//!   tag matching, `tags IS NULL` no tags at all.
//! - Times (`created started ended`, stored as `2026-01-02T10:00:00Z`) compare as ISO text:
//!   `created > '2026-01-01'`, `ended < '2026-01-02 10:30'`; a value that is not a real date
//!   (`'2026-13-45'`, `'yesterday'`) or not quoted is an error. `duration` is seconds and
//!   also takes `'248ms'`, `'90s'`, `'10m'`, `'2h'`, `'1h30m'`, `'1d'`. `status` values are
//!   checked. Text fields (`id name study status host`) take quoted strings: `name > 5` is an
//!   error, not a text comparison.
//!
//! # Use
//!
//! [`compile`] turns a query into a [`CompiledQuery`]: SQL fragments over the catalog tables
//! (`runs r`, `params`, `metrics`, `tags`) whose `?`s are bound to [`SqlValue`]s, so no user
//! text is ever spliced into SQL. Names resolve against [`KnownKeys`] (the params and metrics
//! present in the catalog), which is also where "did you mean" hints come from. Errors
//! ([`QueryError`]) carry the byte span they are about; [`QueryError::render`] echoes the
//! query with a caret under it. This crate does no I/O and links no SQLite.
//!
//! ```
//! use ox_query::{KnownKeys, SqlValue, compile};
//!
//! let keys = KnownKeys::new(["lr".to_string()], ["loss".to_string()]);
//! let q = compile("lr < 1e-3 ORDER BY metrics.loss LIMIT 5", &keys).unwrap();
//! let stmt = q.select_rids();
//! assert!(stmt.sql.starts_with("SELECT r.rid FROM runs r WHERE r.rid IN (SELECT p.rid FROM params p"));
//! assert_eq!(stmt.params[1], SqlValue::Real(1e-3));
//!
//! let err = compile("lrr < 1", &keys).unwrap_err();
//! assert_eq!(err.render("lrr < 1"), "unknown name `lrr`\n  lrr < 1\n  ^^^");
//! assert_eq!(err.hint.as_deref(), Some("did you mean lr (param)?"));
//! ```

pub mod ast;
mod error;
mod lexer;
mod parser;
mod resolve;
mod sql;
pub mod suggest;
mod values;

pub use error::{QueryError, Span};
pub use lexer::{CmpOp, Number};
pub use parser::parse;
pub use resolve::{Field, KnownKeys, RunField, Summary, resolve};
pub use sql::{CompiledQuery, Fragment, SqlValue, compile, compile_query};
pub use values::parse_duration;
