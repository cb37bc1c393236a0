//! Names → fields: run fields, params and metric summaries, with "did you mean" hints.

use std::collections::BTreeSet;
use std::fmt;

use crate::ast::{Name, quote_segment};
use crate::error::QueryError;

/// The param and metric keys that exist in the catalog; names resolve against these.
#[derive(Debug, Clone, Default)]
pub struct KnownKeys {
    params: BTreeSet<String>,
    metrics: BTreeSet<String>,
}

impl KnownKeys {
    /// Known dotted param keys (`model.layers`) and metric names (`train/loss`).
    pub fn new(
        params: impl IntoIterator<Item = String>,
        metrics: impl IntoIterator<Item = String>,
    ) -> Self {
        KnownKeys {
            params: params.into_iter().collect(),
            metrics: metrics.into_iter().collect(),
        }
    }

    /// Whether `key` is a known param.
    pub fn has_param(&self, key: &str) -> bool {
        self.params.contains(key)
    }

    /// Whether `key` is a known metric.
    pub fn has_metric(&self, key: &str) -> bool {
        self.metrics.contains(key)
    }
}

/// A column of the `runs` table that queries may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunField {
    Id,
    Name,
    Study,
    Status,
    Created,
    Started,
    Ended,
    /// Seconds, a number.
    Duration,
    /// An integer.
    ExitCode,
    Host,
    /// The sweep a run is a member of (run.json `sweep`).
    Sweep,
    /// The run this one is a pipeline step of (run.json `parent`).
    Parent,
}

impl RunField {
    /// All run fields in the order the docs list them.
    pub const ALL: [RunField; 12] = [
        RunField::Id,
        RunField::Name,
        RunField::Study,
        RunField::Status,
        RunField::Created,
        RunField::Started,
        RunField::Ended,
        RunField::Duration,
        RunField::ExitCode,
        RunField::Host,
        RunField::Sweep,
        RunField::Parent,
    ];

    /// The field's name in queries, which is also its column in `runs`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunField::Id => "id",
            RunField::Name => "name",
            RunField::Study => "study",
            RunField::Status => "status",
            RunField::Created => "created",
            RunField::Started => "started",
            RunField::Ended => "ended",
            RunField::Duration => "duration",
            RunField::ExitCode => "exit_code",
            RunField::Host => "host",
            RunField::Sweep => "sweep",
            RunField::Parent => "parent",
        }
    }

    /// The SQL expression of the field over `runs r`: its column, or for the fields kept
    /// only in the record, the value inside `r.json`.
    pub fn sql(self) -> String {
        match self {
            RunField::Sweep => "json_extract(r.json, '$.sweep')".to_string(),
            RunField::Parent => "json_extract(r.json, '$.parent')".to_string(),
            f => format!("r.{}", f.as_str()),
        }
    }

    /// Whether the column holds numbers.
    pub fn is_numeric(self) -> bool {
        matches!(self, RunField::Duration | RunField::ExitCode)
    }

    fn from_name(name: &str) -> Option<RunField> {
        RunField::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

/// Which summary of a metric's series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Summary {
    First,
    Last,
    Min,
    Max,
    Mean,
    Count,
    LastStep,
}

impl Summary {
    /// All summaries.
    pub const ALL: [Summary; 7] = [
        Summary::First,
        Summary::Last,
        Summary::Min,
        Summary::Max,
        Summary::Mean,
        Summary::Count,
        Summary::LastStep,
    ];

    /// The name in queries, which is also the column in `metrics`.
    pub fn as_str(self) -> &'static str {
        match self {
            Summary::First => "first",
            Summary::Last => "last",
            Summary::Min => "min",
            Summary::Max => "max",
            Summary::Mean => "mean",
            Summary::Count => "count",
            Summary::LastStep => "last_step",
        }
    }

    fn from_name(name: &str) -> Option<Summary> {
        Summary::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// What a name in a query refers to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    Run(RunField),
    /// The run's tags (a set of strings).
    Tags,
    /// A param by its dotted key.
    Param(String),
    /// A summary of a metric's series.
    Metric {
        key: String,
        summary: Summary,
    },
}

impl fmt::Display for Field {
    /// The field as it can be written in a query (`params.lr`, ``metrics.`a/b`.min``).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Run(r) => f.write_str(r.as_str()),
            Field::Tags => f.write_str("tags"),
            Field::Param(key) => write!(f, "params.{}", quote_key(key)),
            Field::Metric {
                key,
                summary: Summary::Last,
            } => {
                write!(f, "metrics.{}", quote_segment(key))
            }
            Field::Metric { key, summary } => {
                write!(f, "metrics.{}.{}", quote_segment(key), summary.as_str())
            }
        }
    }
}

/// A dotted param key written as a name: plain segments stay dotted, others in backticks.
fn quote_key(key: &str) -> String {
    key.split('.')
        .map(quote_segment)
        .collect::<Vec<_>>()
        .join(".")
}

/// Resolves a name:
/// - `params.<key>` and `metrics.<key>[.<summary>]` name params and metrics explicitly;
/// - a bare name is a run field if one has that name, else a param, else a metric.
///
/// A metric name may itself contain dots: `metrics.a.b.min` is the `min` of `a.b` when `a.b`
/// is a known metric, and `metrics.a.b` is the metric `a.b` when no metric `a` exists.
pub fn resolve(name: &Name, keys: &KnownKeys) -> Result<Field, QueryError> {
    let segs = &name.segments;
    let Some(first) = segs.first() else {
        return Err(QueryError::new("empty name", name.span));
    };
    let rest = segs.get(1..).unwrap_or_default();
    let prefix = |p: &str| !first.quoted && first.text.eq_ignore_ascii_case(p);
    if (prefix("params") || prefix("metrics")) && rest.is_empty() {
        return Err(QueryError::new(
            format!(
                "expected a name after `{}.`",
                first.text.to_ascii_lowercase()
            ),
            name.span,
        )
        .with_hint(format!(
            "for example {}.lr",
            first.text.to_ascii_lowercase()
        )));
    }
    if prefix("params") {
        let key = join(rest);
        if keys.has_param(&key) {
            return Ok(Field::Param(key));
        }
        return Err(unknown(name, &key, keys, Scope::Params));
    }
    if prefix("metrics") {
        return resolve_metric(rest, keys).ok_or_else(|| {
            let key = join(rest);
            unknown(name, &key, keys, Scope::Metrics)
        });
    }
    if segs.len() == 1 && !first.quoted {
        if let Some(f) = RunField::from_name(&first.text) {
            return Ok(Field::Run(f));
        }
        if first.text == "tags" {
            return Ok(Field::Tags);
        }
    }
    let key = join(segs);
    if keys.has_param(&key) {
        return Ok(Field::Param(key));
    }
    if let Some(metric) = resolve_metric(segs, keys) {
        return Ok(metric);
    }
    // Run field names are case-insensitive like keywords, unless a param claims the spelling.
    if segs.len() == 1 && !first.quoted {
        let lower = first.text.to_ascii_lowercase();
        if let Some(f) = RunField::from_name(&lower) {
            return Ok(Field::Run(f));
        }
        if lower == "tags" {
            return Ok(Field::Tags);
        }
    }
    Err(unknown(name, &key, keys, Scope::All))
}

fn join(segs: &[crate::ast::Segment]) -> String {
    segs.iter()
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

fn resolve_metric(segs: &[crate::ast::Segment], keys: &KnownKeys) -> Option<Field> {
    if let Some((last, base)) = segs.split_last()
        && !last.quoted
        && !base.is_empty()
        && let Some(summary) = Summary::from_name(&last.text.to_ascii_lowercase())
    {
        let key = join(base);
        if keys.has_metric(&key) {
            return Some(Field::Metric { key, summary });
        }
    }
    let key = join(segs);
    keys.has_metric(&key).then_some(Field::Metric {
        key,
        summary: Summary::Last,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Params,
    Metrics,
    All,
}

fn unknown(name: &Name, key: &str, keys: &KnownKeys, scope: Scope) -> QueryError {
    let (what, all_candidates) = match scope {
        Scope::Params => ("param", candidates(keys, false, true, false)),
        Scope::Metrics => ("metric", candidates(keys, false, false, true)),
        Scope::All => ("name", candidates(keys, true, true, true)),
    };
    // A summary suffix that did not resolve is not part of what the user misspelled.
    let wanted = match scope {
        Scope::Metrics => key
            .rsplit_once('.')
            .filter(|(_, s)| Summary::from_name(s).is_some())
            .map_or(key, |(base, _)| base),
        _ => key,
    };
    let err = QueryError::new(format!("unknown {what} `{}`", name.display()), name.span);
    let close = closest(wanted, &all_candidates);
    if close.is_empty() {
        let mut hint = String::from(match scope {
            Scope::Params => "no param has that name",
            Scope::Metrics => "no metric has that name",
            Scope::All => "no run field, param or metric has that name",
        });
        let listed = listing(&all_candidates, scope);
        if !listed.is_empty() {
            hint.push_str("; ");
            hint.push_str(&listed);
        }
        return err.with_hint(hint);
    }
    let names: Vec<String> = close
        .iter()
        .map(|c| format!("{} ({})", c.written, c.kind))
        .collect();
    err.with_hint(format!("did you mean {}?", crate::suggest::or_list(&names)))
}

struct Candidate {
    /// The bare key, for similarity.
    key: String,
    /// How to write it in a query.
    written: String,
    kind: &'static str,
}

fn candidates(keys: &KnownKeys, runs: bool, params: bool, metrics: bool) -> Vec<Candidate> {
    let mut out = Vec::new();
    if runs {
        for f in RunField::ALL {
            out.push(Candidate {
                key: f.as_str().into(),
                written: f.as_str().into(),
                kind: "run field",
            });
        }
        out.push(Candidate {
            key: "tags".into(),
            written: "tags".into(),
            kind: "run field",
        });
    }
    if params {
        for p in &keys.params {
            let bare = quote_key(p);
            // A bare name works unless a run field has it, or it starts with params/metrics.
            let first = p.split('.').next().unwrap_or_default();
            let bare_ok = RunField::from_name(p).is_none()
                && p != "tags"
                && first != "params"
                && first != "metrics"
                && !bare.starts_with('`');
            let written = if bare_ok && !runs {
                format!("params.{bare}")
            } else if bare_ok {
                bare
            } else {
                format!("params.{bare}")
            };
            out.push(Candidate {
                key: p.clone(),
                written,
                kind: "param",
            });
        }
    }
    if metrics {
        for m in &keys.metrics {
            out.push(Candidate {
                key: m.clone(),
                written: format!("metrics.{}", quote_segment(m)),
                kind: "metric",
            });
        }
    }
    out
}

fn closest<'a>(wanted: &str, candidates: &'a [Candidate]) -> Vec<&'a Candidate> {
    let mut scored: Vec<(usize, &Candidate)> = candidates
        .iter()
        .filter_map(|c| crate::suggest::closeness(wanted, &c.key).map(|d| (d, c)))
        .collect();
    scored.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.written.cmp(&b.1.written)));
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

fn listing(candidates: &[Candidate], scope: Scope) -> String {
    let mut parts = Vec::new();
    for kind in ["param", "metric"] {
        let names: Vec<&str> = candidates
            .iter()
            .filter(|c| c.kind == kind)
            .map(|c| c.written.as_str())
            .collect();
        if names.is_empty() {
            continue;
        }
        let shown: Vec<&str> = names.iter().take(8).copied().collect();
        let more = names.len().saturating_sub(shown.len());
        let mut s = format!("{kind}s: {}", shown.join(", "));
        if more > 0 {
            s.push_str(&format!(" and {more} more"));
        }
        parts.push(s);
    }
    if scope == Scope::All {
        parts.insert(0, "run fields: id, name, study, status, created, started, ended, duration, exit_code, host, sweep, parent, tags".into());
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse;

    fn keys() -> KnownKeys {
        KnownKeys::new(
            ["lr", "model.layers", "status", "optimizer-name"].map(String::from),
            ["loss", "train/loss", "val.acc", "val"].map(String::from),
        )
    }

    fn field(s: &str) -> Result<Field, QueryError> {
        let q = parse(&format!("ORDER BY {s}")).unwrap();
        resolve(&q.order_by[0].name, &keys())
    }

    #[test]
    fn names_resolve() {
        assert_eq!(field("status").unwrap(), Field::Run(RunField::Status));
        assert_eq!(
            field("params.status").unwrap(),
            Field::Param("status".into())
        );
        assert_eq!(field("lr").unwrap(), Field::Param("lr".into()));
        assert_eq!(
            field("model.layers").unwrap(),
            Field::Param("model.layers".into())
        );
        assert_eq!(
            field("params.`optimizer-name`").unwrap(),
            Field::Param("optimizer-name".into())
        );
        assert_eq!(
            field("metrics.`train/loss`.min").unwrap(),
            Field::Metric {
                key: "train/loss".into(),
                summary: Summary::Min
            }
        );
        assert_eq!(
            field("metrics.loss").unwrap(),
            Field::Metric {
                key: "loss".into(),
                summary: Summary::Last
            }
        );
        assert_eq!(
            field("metrics.val.acc").unwrap(),
            Field::Metric {
                key: "val.acc".into(),
                summary: Summary::Last
            }
        );
        assert_eq!(
            field("metrics.val.max").unwrap(),
            Field::Metric {
                key: "val".into(),
                summary: Summary::Max
            }
        );
        assert_eq!(
            field("loss.last_step").unwrap(),
            Field::Metric {
                key: "loss".into(),
                summary: Summary::LastStep
            }
        );
    }

    #[test]
    fn unknown_names_suggest_the_closest() {
        let e = field("lrr").unwrap_err();
        assert_eq!(e.message, "unknown name `lrr`");
        assert_eq!(e.hint.as_deref(), Some("did you mean lr (param)?"));
        let e = field("metrics.los.min").unwrap_err();
        assert_eq!(
            e.hint.as_deref(),
            Some("did you mean metrics.loss (metric) or metrics.`train/loss` (metric)?")
        );
        let e = field("params.zzz").unwrap_err();
        assert!(
            e.hint
                .unwrap()
                .starts_with("no param has that name; params: params.lr")
        );
    }
}
