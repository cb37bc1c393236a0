//! Table-driven tests: queries against a small fixed catalog (the contract schema, built in
//! an in-memory SQLite database), each with the run ids it must return, in order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ox_query::{KnownKeys, SqlValue, compile};
use rusqlite::{Connection, params_from_iter};

/// The catalog schema from the contract (ox-store creates the same tables).
const SCHEMA: &str = "
CREATE TABLE runs (rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, name TEXT,
  study TEXT NOT NULL, status TEXT NOT NULL, created TEXT NOT NULL, started TEXT, ended TEXT,
  duration REAL, exit_code INTEGER, host TEXT, source_key TEXT, json TEXT NOT NULL);
CREATE TABLE tags (rid INTEGER NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (rid, tag)) WITHOUT ROWID;
CREATE TABLE params (rid INTEGER NOT NULL, key TEXT NOT NULL, num REAL, text TEXT,
  PRIMARY KEY (rid, key)) WITHOUT ROWID;
CREATE INDEX params_key_num ON params(key, num);
CREATE INDEX params_key_text ON params(key, text);
CREATE TABLE metrics (rid INTEGER NOT NULL, key TEXT NOT NULL, first REAL, last REAL, min REAL,
  max REAL, mean REAL, count INTEGER NOT NULL, last_step INTEGER, PRIMARY KEY (rid, key)) WITHOUT ROWID;
CREATE INDEX metrics_key_last ON metrics(key, last);
";

/// Six runs covering missing fields, JSON nulls, numeric strings, text params and tags.
/// Creation order: r6, r1, r2, r3, r4, r5.
const DATA: &str = "
INSERT INTO runs VALUES
 (1,'r1','a1','sa','completed','2026-01-01T10:00:00.000000Z','2026-01-01T10:00:01.000000Z','2026-01-01T10:01:31.000000Z',90,0,'gpu1',NULL,'{}'),
 (2,'r2','a2','sa','completed','2026-01-02T10:00:00.000000Z','2026-01-02T10:00:00.000000Z','2026-01-02T11:00:00.000000Z',3600,0,'gpu2',NULL,'{}'),
 (3,'r3','a3','sa','failed','2026-01-03T10:00:00.000000Z','2026-01-03T10:00:00.000000Z','2026-01-03T10:00:30.000000Z',30,1,'gpu1',NULL,'{}'),
 (4,'r4','b1','sb','running','2026-01-04T10:00:00.000000Z','2026-01-04T10:00:00.000000Z',NULL,NULL,NULL,'gpu2',NULL,'{}'),
 (5,'r5','b2','sb','completed','2026-01-05T10:00:00.000000Z','2026-01-05T10:00:00.000000Z','2026-01-05T10:10:00.000000Z',600,0,NULL,NULL,'{}'),
 (6,'r6',NULL,'sparse-attention','completed','2025-12-31T23:00:00.000000Z',NULL,NULL,7200,0,'gpu3',NULL,'{}');
INSERT INTO tags VALUES (1,'baseline'),(2,'baseline'),(2,'long'),(5,'ablation'),(6,'baseline');
INSERT INTO params VALUES
 (1,'lr',0.001,'0.001'),(1,'seed',1,'1'),(1,'model.layers',12,'12'),(1,'opt',NULL,'adam'),(1,'amp',NULL,'true'),
 (2,'lr',0.0003,'0.0003'),(2,'seed',2,'2'),(2,'model.layers',24,'24'),(2,'opt',NULL,'sgd'),(2,'amp',NULL,'false'),
 (3,'lr',0.0003,'3e-4'),(3,'seed',1,'1'),(3,'opt',NULL,'adam'),
 (4,'lr',0.01,'0.01'),(4,'seed',3,'3'),(4,'opt',NULL,NULL),
 (5,'lr',NULL,'auto'),(5,'seed',1,'1'),
 (6,'lr',0.001,'0.001'),(6,'seed',2,'2');
INSERT INTO metrics VALUES
 (1,'loss',2.0,0.5,0.4,2.0,1.0,100,99),(1,'acc',0.1,0.8,0.1,0.8,0.5,100,99),
 (2,'loss',2.1,0.3,0.3,2.1,0.9,200,199),(2,'acc',0.1,0.9,0.1,0.9,0.6,200,199),
 (3,'loss',2.2,0.9,0.9,2.2,1.5,10,9),
 (5,'loss',1.0,0.2,0.2,1.0,0.5,50,49),
 (6,'train/loss',1.5,0.7,0.6,1.5,1.0,20,19);
";

fn catalog() -> (Connection, KnownKeys) {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(SCHEMA).unwrap();
    conn.execute_batch(DATA).unwrap();
    let keys = KnownKeys::new(
        ["lr", "seed", "model.layers", "opt", "amp"].map(String::from),
        ["loss", "acc", "train/loss"].map(String::from),
    );
    (conn, keys)
}

fn to_sql(v: &SqlValue) -> rusqlite::types::Value {
    match v {
        SqlValue::Integer(i) => rusqlite::types::Value::Integer(*i),
        SqlValue::Real(f) => rusqlite::types::Value::Real(*f),
        SqlValue::Text(s) => rusqlite::types::Value::Text(s.clone()),
    }
}

fn run_query(conn: &Connection, keys: &KnownKeys, q: &str) -> Vec<String> {
    let compiled = compile(q, keys).unwrap_or_else(|e| panic!("{q}: {}", e.render(q)));
    let stmt = compiled.select("r.id");
    let mut prepared = conn
        .prepare(&stmt.sql)
        .unwrap_or_else(|e| panic!("{q}: {e}\n{}", stmt.sql));
    let rows = prepared
        .query_map(params_from_iter(stmt.params.iter().map(to_sql)), |row| {
            row.get::<_, String>(0)
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

const CASES: &[(&str, &str)] = &[
    ("", "r6 r1 r2 r3 r4 r5"),
    ("study = 'sa'", "r1 r2 r3"),
    ("STUDY = 'sa' and Status = \"completed\"", "r1 r2"),
    (
        "study = 'sparse-attention' AND status = 'completed' ORDER BY lr",
        "r6",
    ),
    // Numbers compare numerically, whatever their spelling or type in run.json.
    ("lr = 3e-4", "r2 r3"),
    ("lr = 0.0003", "r2 r3"),
    ("lr = '3e-4'", "r3"),
    ("0.001 = lr", "r6 r1"),
    ("0.0005 < lr", "r6 r1 r4"),
    ("lr > 0.0005", "r6 r1 r4"),
    ("lr > 0.0005 LIMIT 2", "r6 r1"),
    ("LIMIT 0", ""),
    // A text value is unequal to every number, and neither less nor greater.
    ("lr != 0.001", "r2 r3 r4 r5"),
    ("NOT lr = 0.001", "r2 r3 r4 r5"),
    ("NOT lr > 0.0005", "r2 r3"),
    ("NOT NOT lr > 0.0005", "r6 r1 r4"),
    ("lr IN (0.001, 'auto')", "r6 r1 r5"),
    ("lr NOT IN (0.001, 'auto')", "r2 r3 r4"),
    ("NOT lr IN (0.001, 'auto')", "r2 r3 r4"),
    ("lr IN (0.01)", "r4"),
    ("lr NOT IN (0.01, 0.001)", "r2 r3 r5"),
    // Missing values and JSON nulls match neither a comparison nor its negation.
    ("opt = 'adam'", "r1 r3"),
    ("opt != 'adam'", "r2"),
    ("NOT opt = 'adam'", "r2"),
    ("NOT (opt = 'adam')", "r2"),
    ("opt <> 'adam'", "r2"),
    ("opt IS NULL", "r6 r4 r5"),
    ("opt IS NOT NULL", "r1 r2 r3"),
    ("NOT opt IS NULL", "r1 r2 r3"),
    ("model.layers >= 12", "r1 r2"),
    ("params.model.layers = 24", "r2"),
    ("NOT model.layers = 24", "r1"),
    ("seed BETWEEN 2 AND 3", "r6 r2 r4"),
    ("seed NOT BETWEEN 2 AND 3", "r1 r3 r5"),
    ("NOT seed BETWEEN 2 AND 3", "r1 r3 r5"),
    ("amp = true", "r1"),
    ("amp = FALSE", "r2"),
    ("amp != true", "r2"),
    ("seed = 1 AND NOT (status = 'failed')", "r1 r5"),
    // Metrics.
    ("metrics.loss < 0.5", "r2 r5"),
    ("NOT metrics.loss < 0.5", "r1 r3"),
    ("metrics.loss.last >= 0.5", "r1 r3"),
    ("metrics.loss.min <= 0.3", "r2 r5"),
    ("metrics.loss.count > 50", "r1 r2"),
    ("metrics.loss.last_step = 9", "r3"),
    ("metrics.loss.mean BETWEEN 0.5 AND 1", "r1 r2 r5"),
    ("metrics.loss.first IN (1, 2)", "r1 r5"),
    ("metrics.`train/loss` < 1", "r6"),
    ("metrics.`train/loss`.max = 1.5", "r6"),
    ("metrics.acc > 0.5 OR metrics.loss < 0.25", "r1 r2 r5"),
    ("NOT (metrics.acc > 0.85)", "r1"),
    ("metrics.acc IS NULL", "r6 r3 r4 r5"),
    ("loss < 0.4", "r2 r5"),
    // Tags are a set.
    ("tags = 'baseline'", "r6 r1 r2"),
    ("'baseline' IN tags", "r6 r1 r2"),
    ("tags != 'baseline'", "r3 r4 r5"),
    ("NOT 'baseline' IN tags", "r3 r4 r5"),
    ("'baseline' NOT IN tags", "r3 r4 r5"),
    ("tags IN ('long', 'ablation')", "r2 r5"),
    ("tags NOT IN ('long', 'ablation')", "r6 r1 r3 r4"),
    ("tags IS NULL", "r3 r4"),
    ("tags IS NOT NULL", "r6 r1 r2 r5"),
    ("tags LIKE 'base%'", "r6 r1 r2"),
    ("tags = 'baseline' AND tags = 'long'", "r2"),
    // Run fields.
    ("created > '2026-01-03'", "r3 r4 r5"),
    ("created < '2026-01-01'", "r6"),
    ("created >= '2026-01-03 10:00'", "r3 r4 r5"),
    ("ended < '2026-01-02 10:30'", "r1"),
    ("created = '2026-01-02T12:00:00+02:00'", "r2"),
    ("created BETWEEN '2026-01-02' AND '2026-01-04'", "r2 r3"),
    ("duration > '10m'", "r6 r2"),
    ("duration >= '10m'", "r6 r2 r5"),
    ("duration < 60", "r3"),
    ("duration < '1m'", "r3"),
    ("duration = '1h'", "r2"),
    ("NOT duration < 60", "r6 r1 r2 r5"),
    ("ended IS NULL", "r6 r4"),
    ("name IS NULL", "r6"),
    ("exit_code != 0", "r3"),
    ("NOT exit_code = 0", "r3"),
    ("exit_code IS NULL", "r4"),
    ("name LIKE 'a%'", "r1 r2 r3"),
    ("name LIKE 'A_'", "r1 r2 r3"),
    ("name NOT LIKE 'a%'", "r4 r5"),
    ("id = 'r3'", "r3"),
    ("host = 'gpu1' OR host = 'gpu3'", "r6 r1 r3"),
    ("NOT (host = 'gpu1' OR study = 'sb')", "r6 r2"),
    ("status IN ('failed', 'running')", "r3 r4"),
    ("status NOT IN ('failed', 'running')", "r6 r1 r2 r5"),
    (
        "(study = 'sa' OR study = 'sb') AND (status = 'completed')",
        "r1 r2 r5",
    ),
    // An indexed run-field equality makes the other conditions per-run lookups (EXISTS).
    ("study = 'sa' AND NOT lr > 0.0005", "r2 r3"),
    ("study = 'sa' AND tags != 'baseline'", "r3"),
    ("study = 'sb' AND opt IS NULL", "r4 r5"),
    ("study = 'sa' AND metrics.acc IS NULL", "r3"),
    (
        "study IN ('sa', 'sb') AND lr IN (0.001, 'auto') AND metrics.loss < 1",
        "r1 r5",
    ),
    ("NOT (study != 'sa' OR lr != 0.0003)", "r2 r3"),
    // Sorting: missing values last in both directions.
    ("ORDER BY metrics.loss", "r5 r2 r1 r3 r6 r4"),
    ("ORDER BY metrics.loss DESC", "r3 r1 r2 r5 r6 r4"),
    ("ORDER BY lr", "r2 r3 r6 r1 r4 r5"),
    ("ORDER BY lr DESC", "r4 r6 r1 r2 r3 r5"),
    ("ORDER BY opt, name LIMIT 3", "r1 r3 r2"),
    ("ORDER BY exit_code DESC", "r3 r6 r1 r2 r5 r4"),
    ("ORDER BY name DESC", "r5 r4 r3 r2 r1 r6"),
    (
        "study = 'sa' ORDER BY metrics.acc.max DESC, seed",
        "r2 r1 r3",
    ),
    ("ORDER BY study ASC, duration DESC", "r2 r1 r3 r5 r4 r6"),
];

#[test]
fn queries_select_the_expected_runs() {
    let (conn, keys) = catalog();
    let mut failures = Vec::new();
    for (q, expected) in CASES {
        let got = run_query(&conn, &keys, q).join(" ");
        if got != *expected {
            failures.push(format!("{q:?}: expected [{expected}], got [{got}]"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A condition and its negation never both match a run, and together they match exactly
/// the runs that have the field.
#[test]
fn negation_partitions_the_runs_that_have_the_field() {
    let (conn, keys) = catalog();
    for (cond, present) in [
        ("lr > 0.0005", "lr IS NOT NULL AND NOT lr = 'auto'"),
        ("opt = 'adam'", "opt IS NOT NULL"),
        ("metrics.loss < 0.5", "metrics.loss IS NOT NULL"),
        ("duration BETWEEN 60 AND 4000", "duration IS NOT NULL"),
        ("seed IN (1, 3)", "seed IS NOT NULL"),
        ("name LIKE 'a%'", "name IS NOT NULL"),
    ] {
        let mut yes = run_query(&conn, &keys, cond);
        let no = run_query(&conn, &keys, &format!("NOT ({cond})"));
        assert!(yes.iter().all(|id| !no.contains(id)), "{cond}");
        yes.extend(no);
        yes.sort();
        let mut all = run_query(&conn, &keys, present);
        all.sort();
        assert_eq!(yes, all, "{cond}");
    }
}

/// The largest queries the compiler accepts still run in SQLite (its expression depth limit
/// is 1000).
#[test]
fn largest_accepted_queries_run() {
    let (conn, keys) = catalog();
    let wide = vec!["seed = 3"; 400].join(" OR ");
    assert_eq!(run_query(&conn, &keys, &wide), ["r4"]);
    let wide_and = vec!["NOT seed = 3"; 399].join(" AND ") + " AND study = 'sb'";
    assert_eq!(run_query(&conn, &keys, &wide_and), ["r5"]);
    let deep = format!("{}seed = 3{}", "(seed = 9 OR ".repeat(99), ")".repeat(99));
    assert_eq!(run_query(&conn, &keys, &deep), ["r4"]);
    let deep_not = format!("{}seed = 3{}", "NOT (".repeat(48), ")".repeat(48));
    assert_eq!(run_query(&conn, &keys, &deep_not), ["r4"]);
    let list = format!(
        "seed IN ({})",
        (0..29_000)
            .map(|i| (i + 3).to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    assert_eq!(run_query(&conn, &keys, &list), ["r4"]);
}
