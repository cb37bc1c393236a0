//! `ox notes`: the results table of seed 000's NOTES.md (final and best value with its
//! step, wall time, peak GPU memory) and the key-findings block of a study's README, both
//! as generated blocks inside files people write in.

use ox_analysis::Direction;
use ox_render::{Cell, ResultsTable, format_number};

use crate::blocks::wrap;
use crate::report::duration;

/// One metric of one run: its final value and its best value with the step.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricNote {
    pub metric: String,
    pub last: f64,
    pub last_step: i64,
    /// Best value and its step (None when the direction is unknown).
    pub best: Option<(f64, i64)>,
}

/// What NOTES.md says about one run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunNote {
    pub label: String,
    pub status: String,
    pub metrics: Vec<MetricNote>,
    pub wall_time_s: Option<f64>,
    pub peak_gpu_mem_bytes: Option<f64>,
}

/// The best point of a series in `direction`.
pub fn best_point(points: &[(i64, f64)], direction: Direction) -> Option<(f64, i64)> {
    points
        .iter()
        .filter(|(_, v)| v.is_finite())
        .min_by(|a, b| direction.cmp_best_first(a.1, b.1))
        .map(|&(s, v)| (v, s))
}

fn gib(b: f64) -> String {
    format!("{:.1} GiB peak", b / (1024.0 * 1024.0 * 1024.0))
}

/// Seed 000's table for one run: `| Metric | Value |` with Final/Best rows per metric,
/// wall time and GPU memory.
pub fn run_results_block(note: &RunNote) -> String {
    let mut t = ResultsTable::new(vec!["Metric".into(), "Value".into()]);
    for m in &note.metrics {
        t.rows.push(vec![
            Cell::Text(format!("Final {}", m.metric)).into(),
            Cell::Text(format!("{} (step {})", format_number(m.last), m.last_step)).into(),
        ]);
        if let Some((v, step)) = m.best {
            t.rows.push(vec![
                Cell::Text(format!("Best {}", m.metric)).into(),
                Cell::Text(format!("{} (step {step})", format_number(v))).into(),
            ]);
        }
    }
    if let Some(w) = note.wall_time_s {
        t.rows.push(vec![
            Cell::Text("Wall time".into()).into(),
            Cell::Text(duration(w)).into(),
        ]);
    }
    if let Some(g) = note.peak_gpu_mem_bytes {
        t.rows.push(vec![
            Cell::Text("GPU memory".into()).into(),
            Cell::Text(gib(g)).into(),
        ]);
    }
    wrap("results", &t.to_markdown())
}

/// A study's NOTES.md table: one row per run (status, final and best of each metric, wall
/// time, GPU memory).
pub fn study_results_block(notes: &[RunNote]) -> String {
    let mut cols = vec!["Run".to_string(), "Status".to_string()];
    let metrics: Vec<String> = notes
        .iter()
        .flat_map(|n| n.metrics.iter().map(|m| m.metric.clone()))
        .fold(Vec::new(), |mut v, m| {
            if !v.contains(&m) {
                v.push(m);
            }
            v
        });
    for m in &metrics {
        cols.push(format!("Final {m}"));
        cols.push(format!("Best {m} (step)"));
    }
    cols.push("Wall time".into());
    let gpu = notes.iter().any(|n| n.peak_gpu_mem_bytes.is_some());
    if gpu {
        cols.push("GPU memory".into());
    }
    let mut t = ResultsTable::new(cols);
    for n in notes {
        let mut row = vec![
            Cell::Text(n.label.clone()).into(),
            Cell::Text(n.status.clone()).into(),
        ];
        for m in &metrics {
            let found = n.metrics.iter().find(|x| &x.metric == m);
            row.push(found.map_or(Cell::Empty, |x| Cell::Num(x.last)).into());
            row.push(
                found
                    .and_then(|x| x.best)
                    .map_or(Cell::Empty, |(v, s)| {
                        Cell::Text(format!("{} ({s})", format_number(v)))
                    })
                    .into(),
            );
        }
        row.push(
            n.wall_time_s
                .map_or(Cell::Empty, |w| Cell::Text(duration(w)))
                .into(),
        );
        if gpu {
            row.push(
                n.peak_gpu_mem_bytes
                    .map_or(Cell::Empty, |g| Cell::Text(gib(g)))
                    .into(),
            );
        }
        t.rows.push(row);
    }
    wrap("results", &t.to_markdown())
}

/// A new NOTES.md in seed 000's shape around the generated results block.
pub fn notes_skeleton(title: &str, results_block: &str) -> String {
    format!(
        "# Notes: {title}\n\n## Observations\n\n- (training dynamics, stability, surprises)\n\n## Results\n\n{results_block}\n## Conclusions\n\n(what this means and what to try next; link follow-up experiments)\n"
    )
}

/// The study README's key findings as a generated block (numbered sentences).
pub fn key_findings_block(findings: &[String]) -> String {
    let mut body = String::new();
    for (i, f) in findings.iter().enumerate() {
        body.push_str(&format!("{}. {f}\n", i + 1));
    }
    if findings.is_empty() {
        body.push_str("No findings yet: no completed run has a comparable metric.\n");
    }
    wrap("key-findings", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_table_follows_seed_000() {
        let note = RunNote {
            label: "lr-3e4".into(),
            status: "completed".into(),
            metrics: vec![MetricNote {
                metric: "loss".into(),
                last: 2.34,
                last_step: 20,
                best: best_point(&[(0, 3.0), (12, 2.31), (20, 2.34)], Direction::Min),
            }],
            wall_time_s: Some(2700.0),
            peak_gpu_mem_bytes: Some(8.2 * 1024.0 * 1024.0 * 1024.0),
        };
        let block = run_results_block(&note);
        assert!(block.contains("| Final loss | 2.34 (step 20) |"), "{block}");
        assert!(block.contains("| Best loss | 2.31 (step 12) |"), "{block}");
        assert!(block.contains("| Wall time | 45.0 min |"), "{block}");
        assert!(block.contains("| GPU memory | 8.2 GiB peak |"), "{block}");
    }
}
