//! One query per file: `fixtures/ok/*.oxq` snapshot the generated SQL and bound values,
//! `fixtures/err/*.oxq` snapshot the error as the user sees it (message, echoed query with
//! a caret, hint). Update snapshots with `INSTA_UPDATE=always cargo test -p ox-query`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write;

use ox_query::{KnownKeys, compile};

fn keys() -> KnownKeys {
    KnownKeys::new(
        ["lr", "seed", "model.layers", "opt", "amp"].map(String::from),
        ["loss", "acc", "train/loss"].map(String::from),
    )
}

#[test]
fn ok_fixtures() {
    insta::glob!("fixtures/ok/*.oxq", |path| {
        let query = std::fs::read_to_string(path).unwrap();
        let compiled = compile(&query, &keys()).unwrap_or_else(|e| panic!("{}", e.render(&query)));
        let stmt = compiled.select_rids();
        let mut out = format!("query: {query}\nsql: {}\nparams:\n", stmt.sql);
        for p in &stmt.params {
            writeln!(out, "  {p:?}").unwrap();
        }
        let fields: Vec<String> = compiled.fields.iter().map(ToString::to_string).collect();
        writeln!(out, "fields: {}", fields.join(", ")).unwrap();
        insta::assert_snapshot!(out);
    });
}

#[test]
fn err_fixtures() {
    insta::glob!("fixtures/err/*.oxq", |path| {
        let query = std::fs::read_to_string(path).unwrap();
        let err = compile(&query, &keys()).expect_err("query should be rejected");
        assert!(err.span.start <= err.span.end && err.span.end <= query.len());
        let mut out = format!("error: {}\n", err.render(&query));
        if let Some(hint) = &err.hint {
            writeln!(out, "hint: {hint}").unwrap();
        }
        insta::assert_snapshot!(out);
    });
}
