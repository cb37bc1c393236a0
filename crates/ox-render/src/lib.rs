//! Rendering values into bytes: tables (text, CSV, Markdown, LaTeX), numbers and sparklines.
//!
//! Pure functions of their inputs: no files, no terminal queries. Callers decide where the
//! bytes go and whether colour or width apply.

pub mod number;
pub mod sparkline;
pub mod table;

pub use number::format_number;
pub use sparkline::sparkline;
pub use table::{Align, Cell, Table, ellipsize};
