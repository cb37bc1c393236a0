//! The run query language: parser with spans, AST, and parametrized SQL over the catalog schema.
