//! Times the SQL side of a query on an existing catalog, without the catalog refresh that
//! `ox` does on start-up: name lookup, compilation, the selection, and loading the matched
//! rows (`json` + metric summaries, as `ox query` does).
//!
//! usage: cargo run --release -p ox-query --example query_sql -- PATH/TO/ox.db "QUERY"
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use ox_query::{KnownKeys, SqlValue, compile};
use rusqlite::{Connection, OpenFlags, params_from_iter};

fn keys_of(conn: &Connection, table: &str) -> Vec<String> {
    let sql = format!(
        "WITH RECURSIVE k(key) AS (SELECT MIN(key) FROM {table} UNION ALL SELECT (SELECT MIN(key) FROM {table} WHERE key > k.key) FROM k WHERE k.key IS NOT NULL) SELECT key FROM k WHERE key IS NOT NULL"
    );
    let mut stmt = conn.prepare(&sql).unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn to_sql(v: &SqlValue) -> rusqlite::types::Value {
    match v {
        SqlValue::Integer(i) => rusqlite::types::Value::Integer(*i),
        SqlValue::Real(f) => rusqlite::types::Value::Real(*f),
        SqlValue::Text(s) => rusqlite::types::Value::Text(s.clone()),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let db = args.next().expect("usage: query_sql DB QUERY");
    let query = args.next().unwrap_or_default();
    let t0 = Instant::now();
    let conn = Connection::open_with_flags(&db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let keys = KnownKeys::new(keys_of(&conn, "params"), keys_of(&conn, "metrics"));
    let t_keys = t0.elapsed();
    let compiled = compile(&query, &keys).unwrap_or_else(|e| panic!("{}", e.render(&query)));
    let t_compile = t0.elapsed();
    let stmt = compiled.select("r.rid, r.json");
    if std::env::var_os("PLAN").is_some() {
        println!("{}", stmt.sql);
        let mut plan = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", stmt.sql))
            .unwrap();
        let mut q = plan
            .query(params_from_iter(stmt.params.iter().map(to_sql)))
            .unwrap();
        while let Some(row) = q.next().unwrap() {
            println!("  {}", row.get::<_, String>(3).unwrap());
        }
    }
    let mut prepared = conn.prepare(&stmt.sql).unwrap();
    let rows: Vec<(i64, String)> = prepared
        .query_map(params_from_iter(stmt.params.iter().map(to_sql)), |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let t_select = t0.elapsed();
    let mut parsed = 0usize;
    for (_, json) in &rows {
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        parsed += usize::from(v.is_object());
    }
    let mut metric_rows = 0usize;
    for chunk in rows.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(",");
        let mut s = conn
            .prepare_cached(&format!("SELECT rid, key, first, last, min, max, mean, count, last_step FROM metrics WHERE rid IN ({marks})"))
            .unwrap();
        let mut q = s
            .query(params_from_iter(chunk.iter().map(|r| r.0)))
            .unwrap();
        while q.next().unwrap().is_some() {
            metric_rows += 1;
        }
    }
    let t_load = t0.elapsed();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{} runs ({parsed} parsed, {metric_rows} metric rows): open+keys {:.1} ms, compile {:.2} ms, select {:.1} ms, load {:.1} ms, total {:.1} ms",
        rows.len(),
        ms(t_keys),
        ms(t_compile - t_keys),
        ms(t_select - t_compile),
        ms(t_load - t_select),
        ms(t_load)
    );
}
