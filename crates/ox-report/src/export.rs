//! `ox export`: one row per run (flattened params, metric summaries, status, duration), one
//! row per group (mean, std, interval, n per metric), and the full series in long format
//! (run, name, step, metric, value) for pandas and polars.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use ox_analysis::Direction;
use ox_analysis::describe::{describe, t_interval};
use ox_analysis::group::{Observation, group_by, level_number};
use ox_core::{MetricSummary, Run, flatten_params};
use ox_render::{Cell, Estimate, ResultCell, ResultsTable, Table};
use serde_json::Value;

/// One run as the exporters and reports see it (borrowed from the catalog's view).
#[derive(Debug, Clone, Copy)]
pub struct RunRecord<'a> {
    pub run: &'a Run,
    pub duration_s: Option<f64>,
    pub metrics: &'a BTreeMap<String, MetricSummary>,
}

impl RunRecord<'_> {
    /// The run's name, or its id when it has none.
    pub fn label(&self) -> &str {
        self.run.name.as_deref().unwrap_or(self.run.id.as_str())
    }

    /// The flattened params (`model.layers`), cloned into an owned map.
    pub fn flat_params(&self) -> BTreeMap<String, Value> {
        flatten_params(&self.run.params)
            .into_iter()
            .map(|(k, v)| (k, v.clone()))
            .collect()
    }
}

/// The summaries a metric column can show.
pub const AGGREGATES: [&str; 6] = ["first", "last", "min", "max", "mean", "count"];

/// A metric column: the metric and which per-run summary of its series (`last` unless
/// `M:min` etc. asked for another).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricColumn {
    pub metric: String,
    pub aggregate: &'static str,
}

impl MetricColumn {
    /// Parses `M` or `M:AGG` (`first`, `last`, `min`, `max`, `mean`, `count`); a colon
    /// followed by anything else stays part of the name (`eval:acc`).
    pub fn parse(spec: &str) -> Self {
        if let Some((name, suffix)) = spec.rsplit_once(':')
            && !name.is_empty()
            && let Some(agg) = AGGREGATES.iter().find(|a| **a == suffix)
        {
            return MetricColumn {
                metric: name.to_string(),
                aggregate: agg,
            };
        }
        MetricColumn {
            metric: spec.to_string(),
            aggregate: "last",
        }
    }

    /// The column title: the metric's name for its last value, `M.AGG` otherwise (as in the
    /// query language, where `metrics.loss` is the last value).
    pub fn title(&self) -> String {
        if self.aggregate == "last" {
            self.metric.clone()
        } else {
            format!("{}.{}", self.metric, self.aggregate)
        }
    }

    /// This column's value for one run, when the run has the metric.
    pub fn value(&self, metrics: &BTreeMap<String, MetricSummary>) -> Option<f64> {
        metrics.get(&self.metric)?.get(self.aggregate)
    }

    /// Whether lower or higher is better, from the metric's name (None when it cannot
    /// tell; `count` has no better side).
    pub fn direction(&self) -> Option<Direction> {
        if self.aggregate == "count" {
            return None;
        }
        Direction::infer(&self.metric)
    }
}

/// Every metric any of `runs` has, sorted; `detailed` gives last, min, max and mean of each
/// (data formats), otherwise the last value only (tables for papers).
pub fn default_metric_columns(runs: &[RunRecord<'_>], detailed: bool) -> Vec<MetricColumn> {
    let names: BTreeSet<&String> = runs.iter().flat_map(|r| r.metrics.keys()).collect();
    let aggs: &[&'static str] = if detailed {
        &["last", "min", "max", "mean"]
    } else {
        &["last"]
    };
    names
        .into_iter()
        .flat_map(|m| {
            aggs.iter().map(move |a| MetricColumn {
                metric: m.clone(),
                aggregate: a,
            })
        })
        .collect()
}

fn value_cell(v: &Value) -> Cell {
    match v {
        Value::Number(n) => n.as_f64().map_or(Cell::Empty, Cell::Num),
        Value::String(s) => Cell::Text(s.clone()),
        Value::Bool(b) => Cell::Text(b.to_string()),
        Value::Null => Cell::Empty,
        other => Cell::Text(other.to_string()),
    }
}

fn num(v: Option<f64>) -> Cell {
    v.map_or(Cell::Empty, Cell::Num)
}

/// Param column titles: the dotted key, or `params.KEY` when a metric column has the
/// same title.
fn param_titles(keys: &[String], metric_titles: &BTreeSet<String>) -> Vec<String> {
    keys.iter()
        .map(|k| {
            if metric_titles.contains(k)
                || ["id", "name", "study", "status", "duration_s"].contains(&k.as_str())
            {
                format!("params.{k}")
            } else {
                k.clone()
            }
        })
        .collect()
}

/// One row per run: `id, name, study, status, duration_s`, every param any run has
/// (flattened, sorted), then `columns`.
pub fn runs_table(runs: &[RunRecord<'_>], columns: &[MetricColumn]) -> Table {
    let flat: Vec<BTreeMap<String, Value>> = runs.iter().map(RunRecord::flat_params).collect();
    let keys: Vec<String> = flat
        .iter()
        .flat_map(|p| p.keys().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let metric_titles: BTreeSet<String> = columns.iter().map(MetricColumn::title).collect();
    let mut titles: Vec<String> = ["id", "name", "study", "status", "duration_s"]
        .map(String::from)
        .to_vec();
    titles.extend(param_titles(&keys, &metric_titles));
    titles.extend(columns.iter().map(MetricColumn::title));
    let mut t = Table::new(titles);
    for (r, params) in runs.iter().zip(&flat) {
        let mut row = vec![
            Cell::Text(r.run.id.to_string()),
            r.run.name.clone().map_or(Cell::Empty, Cell::Text),
            Cell::Text(r.run.study.clone()),
            Cell::Text(r.run.status.as_str().to_string()),
            num(r.duration_s),
        ];
        row.extend(
            keys.iter()
                .map(|k| params.get(k).map_or(Cell::Empty, value_cell)),
        );
        row.extend(columns.iter().map(|c| num(c.value(r.metrics))));
        t.push(row);
    }
    t
}

/// One metric's statistics within a group.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricGroupStats {
    /// Runs of the group with a finite value.
    pub n: usize,
    pub mean: Option<f64>,
    pub std: Option<f64>,
    /// Student-t interval of the mean (n ≥ 2).
    pub ci: Option<(f64, f64)>,
}

/// One configuration: its key and per metric column its statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRow {
    pub key: Vec<(String, Value)>,
    pub runs: usize,
    pub metrics: Vec<MetricGroupStats>,
}

fn cmp_values(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (level_number(Some(a)), level_number(Some(b))) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.to_string().cmp(&b.to_string()),
    }
}

/// Groups `runs` by the values of `keys` (rows sorted by those values) with, per metric
/// column, n, mean, std (n − 1) and the Student-t interval at `confidence`.
pub fn group_rows(
    runs: &[RunRecord<'_>],
    keys: &[String],
    columns: &[MetricColumn],
    confidence: f64,
) -> Vec<GroupRow> {
    let obs: Vec<Observation> = runs
        .iter()
        .map(|r| Observation {
            run_id: r.run.id.to_string(),
            name: r.run.name.clone(),
            params: r.flat_params(),
            value: f64::NAN,
            cost: None,
        })
        .collect();
    let mut rows: Vec<GroupRow> = group_by(&obs, keys)
        .into_iter()
        .map(|cfg| {
            let metrics = columns
                .iter()
                .map(|c| {
                    let values: Vec<f64> = cfg
                        .members
                        .iter()
                        .filter_map(|&i| runs.get(i))
                        .filter_map(|r| c.value(r.metrics))
                        .filter(|v| v.is_finite())
                        .collect();
                    let d = describe(&values);
                    let ci = match (d.mean, d.sem) {
                        (Some(m), Some(s)) => t_interval(m, s, d.n, confidence),
                        _ => None,
                    };
                    MetricGroupStats {
                        n: d.n,
                        mean: d.mean,
                        std: d.std,
                        ci,
                    }
                })
                .collect();
            GroupRow {
                key: cfg.key,
                runs: cfg.members.len(),
                metrics,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        a.key
            .iter()
            .zip(&b.key)
            .map(|((_, x), (_, y))| cmp_values(x, y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    rows
}

/// Groups as data: `KEY…, n`, then per metric `M.mean, M.std, M.ci_low, M.ci_high, M.n`.
pub fn groups_data_table(rows: &[GroupRow], keys: &[String], columns: &[MetricColumn]) -> Table {
    let mut titles: Vec<String> = keys.to_vec();
    titles.push("n".into());
    for c in columns {
        let t = c.title();
        titles.extend(["mean", "std", "ci_low", "ci_high", "n"].map(|s| format!("{t}.{s}")));
    }
    let mut t = Table::new(titles);
    for g in rows {
        let mut row: Vec<Cell> = g.key.iter().map(|(_, v)| value_cell(v)).collect();
        row.push(Cell::Num(g.runs as f64));
        for m in &g.metrics {
            row.extend([
                num(m.mean),
                num(m.std),
                num(m.ci.map(|c| c.0)),
                num(m.ci.map(|c| c.1)),
                Cell::Num(m.n as f64),
            ]);
        }
        t.push(row);
    }
    t
}

/// Groups for a paper or a README: `KEY…, n`, then per metric `mean ± half-width` of its
/// interval, the best group of each metric in bold (when the metric's name says which way
/// is better).
pub fn groups_results_table(
    rows: &[GroupRow],
    keys: &[String],
    columns: &[MetricColumn],
) -> ResultsTable {
    let mut titles: Vec<String> = keys.to_vec();
    titles.push("n".into());
    titles.extend(columns.iter().map(MetricColumn::title));
    let mut t = ResultsTable::new(titles);
    for g in rows {
        let mut row: Vec<ResultCell> = g.key.iter().map(|(_, v)| value_cell(v).into()).collect();
        row.push(Cell::Num(g.runs as f64).into());
        for m in &g.metrics {
            row.push(match m.mean {
                Some(mean) => ResultCell::Estimate(Estimate {
                    mean,
                    half_width: m.ci.map(|(lo, hi)| (hi - lo) / 2.0),
                }),
                None => Cell::Empty.into(),
            });
        }
        t.rows.push(row);
    }
    for (i, c) in columns.iter().enumerate() {
        let Some(dir) = c.direction() else { continue };
        if rows.len() < 2 {
            break;
        }
        let best = rows
            .iter()
            .enumerate()
            .filter_map(|(r, g)| Some((r, g.metrics.get(i)?.mean?)))
            .min_by(|a, b| dir.cmp_best_first(a.1, b.1))
            .map(|(r, _)| r);
        if let Some(slot) = t.best.get_mut(keys.len() + 1 + i) {
            *slot = best;
        }
    }
    t
}

/// Runs as a results table for Markdown/LaTeX: name, the varying params, then `columns`,
/// the best run of each metric in bold.
pub fn runs_results_table(
    runs: &[RunRecord<'_>],
    params: &[String],
    columns: &[MetricColumn],
) -> ResultsTable {
    let mut titles = vec!["run".to_string()];
    titles.extend(params.iter().cloned());
    titles.push("status".into());
    titles.extend(columns.iter().map(MetricColumn::title));
    let mut t = ResultsTable::new(titles);
    for r in runs {
        let flat = r.flat_params();
        let mut row: Vec<ResultCell> = vec![Cell::Text(r.label().to_string()).into()];
        row.extend(
            params
                .iter()
                .map(|k| flat.get(k).map_or(Cell::Empty, value_cell).into()),
        );
        row.push(Cell::Text(r.run.status.as_str().to_string()).into());
        row.extend(columns.iter().map(|c| num(c.value(r.metrics)).into()));
        t.rows.push(row);
    }
    for (i, c) in columns.iter().enumerate() {
        let Some(dir) = c.direction() else { continue };
        if runs.len() < 2 {
            break;
        }
        let best = runs
            .iter()
            .enumerate()
            .filter_map(|(r, run)| Some((r, c.value(run.metrics).filter(|v| v.is_finite())?)))
            .min_by(|a, b| dir.cmp_best_first(a.1, b.1))
            .map(|(r, _)| r);
        if let Some(slot) = t.best.get_mut(params.len() + 2 + i) {
            *slot = best;
        }
    }
    t
}

fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

/// The header of the long-format series CSV.
pub const SERIES_COLUMNS: [&str; 5] = ["run", "name", "step", "metric", "value"];

/// Writes the CSV header of [`write_series_csv`].
pub fn write_series_csv_header(w: &mut impl Write) -> io::Result<()> {
    writeln!(w, "{}", SERIES_COLUMNS.join(","))
}

/// Writes one metric series of one run as CSV rows `run,name,step,metric,value`
/// (non-finite values as `NaN`, `inf`, `-inf`, which pandas and polars read as floats).
pub fn write_series_csv(
    w: &mut impl Write,
    run_id: &str,
    name: &str,
    metric: &str,
    points: &[(i64, f64)],
) -> io::Result<()> {
    let prefix = format!("{},{},", csv_field(run_id), csv_field(name));
    let metric = csv_field(metric);
    let mut buf = String::with_capacity(32);
    for &(step, value) in points {
        w.write_all(prefix.as_bytes())?;
        write!(w, "{step},{metric},")?;
        buf.clear();
        if value.is_nan() {
            buf.push_str("NaN");
        } else if value.is_infinite() {
            buf.push_str(if value > 0.0 { "inf" } else { "-inf" });
        } else {
            use std::fmt::Write as _;
            let _ = write!(buf, "{value}");
        }
        w.write_all(buf.as_bytes())?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// Writes one series as JSON objects `{"run", "name", "step", "metric", "value"}`, each
/// preceded by `,\n` unless `first` (the caller writes `[` and `]`); non-finite values are
/// `null`. Returns whether anything was written.
pub fn write_series_json(
    w: &mut impl Write,
    first: bool,
    run_id: &str,
    name: &str,
    metric: &str,
    points: &[(i64, f64)],
) -> io::Result<bool> {
    let head = format!(
        "{{\"run\":{},\"name\":{},\"metric\":{},",
        Value::String(run_id.into()),
        Value::String(name.into()),
        Value::String(metric.into())
    );
    let mut wrote = !first;
    for &(step, value) in points {
        if wrote {
            w.write_all(b",\n")?;
        }
        wrote = true;
        w.write_all(head.as_bytes())?;
        if value.is_finite() {
            write!(w, "\"step\":{step},\"value\":{value}}}")?;
        } else {
            write!(w, "\"step\":{step},\"value\":null}}")?;
        }
    }
    Ok(wrote)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ox_core::{RunId, Status};
    use serde_json::json;

    fn run(name: &str, lr: f64, seed: i64, status: Status) -> Run {
        let mut r = Run::new(RunId::parse(&format!("id-{name}")).unwrap(), status);
        r.name = Some(name.into());
        r.study = "s".into();
        r.params = json!({"lr": lr, "seed": seed, "model": {"layers": 2}})
            .as_object()
            .unwrap()
            .clone();
        r
    }

    fn summary(last: f64) -> MetricSummary {
        MetricSummary {
            first: 2.0,
            last,
            min: last.min(2.0),
            max: 2.0,
            mean: (last + 2.0) / 2.0,
            count: 10,
            last_step: 9,
        }
    }

    #[test]
    fn metric_specs() {
        assert_eq!(MetricColumn::parse("loss").title(), "loss");
        assert_eq!(MetricColumn::parse("val/acc:max").title(), "val/acc.max");
        assert_eq!(MetricColumn::parse("eval:acc").metric, "eval:acc");
    }

    #[test]
    fn runs_and_groups() {
        let runs = [
            run("a1", 0.1, 1, Status::Completed),
            run("a2", 0.1, 2, Status::Completed),
            run("b1", 0.01, 1, Status::Completed),
            run("b2", 0.01, 2, Status::Failed),
        ];
        let metrics: Vec<BTreeMap<String, MetricSummary>> = [0.5, 0.7, 0.3, 0.2]
            .iter()
            .map(|&l| BTreeMap::from([("loss".to_string(), summary(l))]))
            .collect();
        let recs: Vec<RunRecord<'_>> = runs
            .iter()
            .zip(&metrics)
            .map(|(r, m)| RunRecord {
                run: r,
                duration_s: Some(10.0),
                metrics: m,
            })
            .collect();
        let cols = default_metric_columns(&recs, true);
        let t = runs_table(&recs, &cols);
        assert_eq!(
            t.columns,
            [
                "id",
                "name",
                "study",
                "status",
                "duration_s",
                "lr",
                "model.layers",
                "seed",
                "loss",
                "loss.min",
                "loss.max",
                "loss.mean"
            ]
        );
        assert_eq!(t.rows[3][3], Cell::Text("failed".into()));

        let keys = vec!["lr".to_string()];
        let cols = vec![MetricColumn::parse("loss")];
        let rows = group_rows(&recs, &keys, &cols, 0.95);
        assert_eq!(rows[0].key[0].1, json!(0.01), "sorted by lr");
        assert_eq!(rows[1].metrics[0].mean, Some(0.6));
        // t(0.975, 1) = 12.706; sem = 0.1.
        let (lo, hi) = rows[1].metrics[0].ci.unwrap();
        assert!((hi - lo - 2.0 * 12.7062047 * 0.1).abs() < 1e-6);
        let md = groups_results_table(&rows, &keys, &cols).to_markdown();
        assert!(md.contains("| 0.01 | 2 | **0.25 ± 0.64** |"), "{md}");
    }

    #[test]
    fn series_csv_and_json() {
        let mut out = Vec::new();
        write_series_csv_header(&mut out).unwrap();
        write_series_csv(&mut out, "r1", "a,b", "loss", &[(0, 1.5), (1, f64::NAN)]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "run,name,step,metric,value\nr1,\"a,b\",0,loss,1.5\nr1,\"a,b\",1,loss,NaN\n"
        );
        let mut out = b"[".to_vec();
        let wrote = write_series_json(
            &mut out,
            true,
            "r1",
            "n",
            "loss",
            &[(0, 1.0), (1, f64::INFINITY)],
        )
        .unwrap();
        write_series_json(&mut out, !wrote, "r2", "n", "acc", &[(3, 0.5)]).unwrap();
        out.extend_from_slice(b"]");
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v[1]["value"], Value::Null);
        assert_eq!(
            v[2],
            json!({"run": "r2", "name": "n", "metric": "acc", "step": 3, "value": 0.5})
        );
    }
}
