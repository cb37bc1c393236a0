//! Rendering values into bytes: tables (text/csv/md/latex), sparklines, charts, reports.
