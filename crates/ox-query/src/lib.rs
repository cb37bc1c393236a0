//! The run query language: parser with spans, AST, and parametrized SQL over the catalog schema.
//!
//! ```text
//! study = 'sparse-attention' AND status = 'completed' AND metrics.loss.min < 0.5
//!   ORDER BY lr DESC, metrics.loss LIMIT 10
//! ```
//!
//! [`compile`] turns such a text into a [`CompiledQuery`]: SQL fragments over the catalog
//! tables (`runs r`, `params`, `metrics`, `tags`) whose `?`s are bound to [`SqlValue`]s, so
//! no user text is ever spliced into SQL. Names resolve against [`KnownKeys`] (the params
//! and metrics present in the catalog), which is also where "did you mean" hints come from.
//! This crate does no I/O and links no SQLite.

pub mod ast;
mod error;
mod lexer;
mod parser;
mod resolve;
mod sql;

pub use error::{QueryError, Span};
pub use lexer::{CmpOp, Number};
pub use parser::parse;
pub use resolve::{Field, KnownKeys, RunField, Summary, resolve};
pub use sql::{CompiledQuery, Fragment, SqlValue, compile, compile_query, parse_duration};
