//! Running the query language (`ox-query`) against the catalog: the names it knows, and
//! the runs a query selects.

use ox_query::{CompiledQuery, KnownKeys, SqlValue};
use rusqlite::types::Value;

use crate::{Catalog, RunView, StoreError, sql_err};

/// Distinct keys of a `(key, …)`-indexed table by skipping through the index: one seek per
/// distinct key instead of a scan of every row (100,000 runs × 20 params = 2M rows).
fn distinct_keys_sql(table: &str) -> String {
    format!(
        "WITH RECURSIVE k(key) AS (SELECT MIN(key) FROM {table} \
         UNION ALL SELECT (SELECT MIN(key) FROM {table} WHERE key > k.key) FROM k WHERE k.key IS NOT NULL) \
         SELECT key FROM k WHERE key IS NOT NULL"
    )
}

impl Catalog {
    /// The param and metric keys present in the catalog, for resolving names in queries.
    pub fn known_keys(&self) -> Result<KnownKeys, StoreError> {
        Ok(KnownKeys::new(
            self.keys_of("params")?,
            self.keys_of("metrics")?,
        ))
    }

    fn keys_of(&self, table: &str) -> Result<Vec<String>, StoreError> {
        let db = self.project.db_path();
        let mut stmt = self
            .conn
            .prepare_cached(&distinct_keys_sql(table))
            .map_err(|e| sql_err(&db, e))?;
        stmt.query_map([], |r| r.get(0))
            .map_err(|e| sql_err(&db, e))?
            .collect::<rusqlite::Result<Vec<String>>>()
            .map_err(|e| sql_err(&db, e))
    }

    /// Compiles `expr` against this catalog's names (errors carry the position and a hint).
    pub fn compile_query(&self, expr: &str) -> Result<CompiledQuery, StoreError> {
        Ok(ox_query::compile(expr, &self.known_keys()?)?)
    }

    /// The runs selected by the query `expr`, in its order (see `ox_query`).
    pub fn query(&self, expr: &str) -> Result<Vec<RunView>, StoreError> {
        let compiled = self.compile_query(expr)?;
        self.query_compiled(&compiled)
    }

    /// The runs selected by an already compiled query.
    pub fn query_compiled(&self, q: &CompiledQuery) -> Result<Vec<RunView>, StoreError> {
        let mut binds: Vec<Value> = q.filter.params.iter().map(to_value).collect();
        binds.extend(q.order_by.params.iter().map(to_value));
        let limit = q.limit.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        self.select_views(&q.filter.sql, &q.order_by.sql, limit, &binds)
    }
}

/// What a reader needs to know whether a run changed: the refresh that last wrote its row
/// (`runs.written`), and its status and duration (which change without a rewrite: a crash
/// found, a running run's clock).
#[derive(Debug, Clone, PartialEq)]
pub struct RunStamp {
    pub rid: i64,
    pub id: String,
    pub written: i64,
    pub status: String,
    pub duration: Option<f64>,
}

impl Catalog {
    /// The stamps of the runs a compiled query selects, in its order, without loading them:
    /// a reader that kept what it made of each run (by `(id, stamp)`) loads only the others
    /// with [`Catalog::views_by_rid`].
    pub fn query_stamps(&self, q: &CompiledQuery) -> Result<Vec<RunStamp>, StoreError> {
        let db = self.project.db_path();
        let mut binds: Vec<Value> = q.filter.params.iter().map(to_value).collect();
        binds.extend(q.order_by.params.iter().map(to_value));
        let limit = q.limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
        let sql = format!(
            "SELECT r.rid, r.id, r.written, r.status, r.duration FROM runs r WHERE {} ORDER BY {}{limit}",
            q.filter.sql, q.order_by.sql
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| sql_err(&db, e))?;
        stmt.query_map(rusqlite::params_from_iter(binds.iter()), |r| {
            Ok(RunStamp {
                rid: r.get(0)?,
                id: r.get(1)?,
                written: r.get(2)?,
                status: r.get(3)?,
                duration: r.get(4)?,
            })
        })
        .map_err(|e| sql_err(&db, e))?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(|e| sql_err(&db, e))
    }

    /// The runs with these row ids (in row id order).
    pub fn views_by_rid(&self, rids: &[i64]) -> Result<Vec<RunView>, StoreError> {
        let mut views = Vec::with_capacity(rids.len());
        for chunk in rids.chunks(500) {
            let binds: Vec<Value> = chunk.iter().map(|r| Value::Integer(*r)).collect();
            let placeholders = vec!["?"; chunk.len()].join(",");
            views.extend(self.select_views(
                &format!("r.rid IN ({placeholders})"),
                "r.rid",
                None,
                &binds,
            )?);
        }
        Ok(views)
    }
}

/// A summary of the whole catalog that changes whenever a run is added, removed, rewritten
/// or changes status: how many runs per status, and the latest `runs.written`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct CatalogFingerprint {
    pub runs: u64,
    pub written: i64,
    pub status: std::collections::BTreeMap<String, u64>,
}

impl Catalog {
    /// The catalog's [`CatalogFingerprint`] (one grouped scan of `runs`).
    pub fn fingerprint(&self) -> Result<CatalogFingerprint, StoreError> {
        let db = self.project.db_path();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT status, count(*), max(written) FROM runs GROUP BY status")
            .map_err(|e| sql_err(&db, e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                ))
            })
            .map_err(|e| sql_err(&db, e))?;
        let mut fp = CatalogFingerprint::default();
        for row in rows {
            let (status, n, written) = row.map_err(|e| sql_err(&db, e))?;
            let n = u64::try_from(n).unwrap_or(0);
            fp.runs += n;
            fp.written = fp.written.max(written.unwrap_or(0));
            fp.status.insert(status, n);
        }
        Ok(fp)
    }
}

fn to_value(v: &SqlValue) -> Value {
    match v {
        SqlValue::Integer(i) => Value::Integer(*i),
        SqlValue::Real(f) => Value::Real(*f),
        SqlValue::Text(s) => Value::Text(s.clone()),
    }
}
