//! Property tests: no input makes the query compiler panic; every rejection points inside
//! the input; well-formed expressions compile to SQL that SQLite accepts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ox_query::{KnownKeys, compile};
use proptest::prelude::*;

fn keys() -> KnownKeys {
    KnownKeys::new(
        ["lr", "seed", "model.layers", "opt"].map(String::from),
        ["loss", "train/loss"].map(String::from),
    )
}

fn check(input: &str) {
    if let Err(e) = compile(input, &keys()) {
        assert!(e.span.start <= e.span.end, "{input:?}: {e:?}");
        assert!(e.span.end <= input.len(), "{input:?}: {e:?}");
        assert!(input.is_char_boundary(e.span.start) && input.is_char_boundary(e.span.end));
        let _ = e.render(input);
    }
}

/// Pieces of the language, glued together at random: mostly nonsense, sometimes valid.
fn token_soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("lr"),
        Just("metrics.loss"),
        Just("metrics.`train/loss`.min"),
        Just("tags"),
        Just("status"),
        Just("params.model.layers"),
        Just("'completed'"),
        Just("\"x\\\"y\""),
        Just("3e-4"),
        Just(".5"),
        Just("-2"),
        Just("true"),
        Just("NULL"),
        Just("AND"),
        Just("OR"),
        Just("NOT"),
        Just("IN"),
        Just("LIKE"),
        Just("BETWEEN"),
        Just("IS"),
        Just("ORDER BY"),
        Just("LIMIT"),
        Just("DESC"),
        Just("("),
        Just(")"),
        Just(","),
        Just("="),
        Just("!="),
        Just("<>"),
        Just("<="),
        Just(">"),
        Just("."),
        Just("`"),
        Just("'"),
        Just("é"),
        Just("\n"),
        Just("10"),
    ];
    prop::collection::vec(piece, 0..20).prop_map(|v| v.join(" "))
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        (-1000i64..1000).prop_map(|i| i.to_string()),
        (-1e6f64..1e6).prop_map(|f| format!("{f:e}")),
        "[a-z '\\\\%_]{0,8}"
            .prop_map(|s| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))),
        Just("true".to_string()),
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("lr"),
        Just("seed"),
        Just("model.layers"),
        Just("params.opt"),
        Just("metrics.loss"),
        Just("metrics.loss.min"),
        Just("metrics.`train/loss`.count"),
        Just("status"),
        Just("created"),
        Just("duration"),
        Just("exit_code"),
        Just("name"),
        Just("host"),
    ]
    .prop_map(String::from)
}

/// Well-formed expressions (they may still be rejected, e.g. a metric compared with text).
fn expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        (
            name(),
            prop_oneof![Just("="), Just("!="), Just("<"), Just(">="), Just("<>")],
            value()
        )
            .prop_map(|(n, op, v)| format!("{n} {op} {v}")),
        (name(), prop::collection::vec(value(), 1..4), any::<bool>()).prop_map(|(n, vs, neg)| {
            format!(
                "{n} {}IN ({})",
                if neg { "NOT " } else { "" },
                vs.join(", ")
            )
        }),
        (name(), value(), value()).prop_map(|(n, a, b)| format!("{n} BETWEEN {a} AND {b}")),
        (name(), any::<bool>())
            .prop_map(|(n, neg)| format!("{n} IS {}NULL", if neg { "NOT " } else { "" })),
        Just("'x' IN tags".to_string()),
        Just("tags LIKE 'a%'".to_string()),
    ];
    leaf.prop_recursive(4, 32, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} AND {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} OR {b})")),
            inner.prop_map(|a| format!("NOT ({a})")),
        ]
    })
}

const SCHEMA: &str = "
CREATE TABLE runs (rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, name TEXT,
  study TEXT NOT NULL, status TEXT NOT NULL, created TEXT NOT NULL, started TEXT, ended TEXT,
  duration REAL, exit_code INTEGER, host TEXT, source_key TEXT, json TEXT NOT NULL);
CREATE TABLE tags (rid INTEGER NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (rid, tag)) WITHOUT ROWID;
CREATE TABLE params (rid INTEGER NOT NULL, key TEXT NOT NULL, num REAL, text TEXT,
  PRIMARY KEY (rid, key)) WITHOUT ROWID;
CREATE TABLE metrics (rid INTEGER NOT NULL, key TEXT NOT NULL, first REAL, last REAL, min REAL,
  max REAL, mean REAL, count INTEGER NOT NULL, last_step INTEGER, PRIMARY KEY (rid, key)) WITHOUT ROWID;
";

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(s in "\\PC{0,60}") {
        check(&s);
    }

    #[test]
    fn token_soup_never_panics(s in token_soup()) {
        check(&s);
    }

    #[test]
    fn well_formed_expressions_compile_to_valid_sql(
        e in expr(),
        order in prop::option::of((name(), any::<bool>())),
        limit in prop::option::of(0u32..100),
    ) {
        let mut q = e;
        if let Some((n, desc)) = order {
            q.push_str(&format!(" ORDER BY {n}{}", if desc { " DESC" } else { "" }));
        }
        if let Some(l) = limit {
            q.push_str(&format!(" LIMIT {l}"));
        }
        check(&q);
        if let Ok(compiled) = compile(&q, &keys()) {
            let conn = rusqlite::Connection::open_in_memory().unwrap();
            conn.execute_batch(SCHEMA).unwrap();
            let stmt = compiled.select_rids();
            let prepared = conn.prepare(&stmt.sql).unwrap();
            prop_assert_eq!(prepared.parameter_count(), stmt.params.len(), "{}", q);
        }
    }
}

#[test]
fn pathological_inputs() {
    for s in [
        "'".to_string(),
        "`".to_string(),
        "\\".to_string(),
        "-".to_string(),
        "- -1".to_string(),
        "lr IN ()".to_string(),
        "lr = 99999999999999999999999".to_string(),
        "lr = -9223372036854775808".to_string(),
        "LIMIT 99999999999999999999".to_string(),
        "(".repeat(10_000),
        "NOT ".repeat(10_000),
        format!("lr IN ({})", vec!["1"; 5000].join(",")),
        "metrics.loss.min.max.count = 1".to_string(),
        "\u{0}".to_string(),
        "name = '\u{202e}'".to_string(),
    ] {
        check(&s);
    }
}
