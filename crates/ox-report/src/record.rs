//! `ox record`: an experiment record following seed 003's template, filled from the runs
//! (date, run ids, seeds, invocation, config, derived parameters, datasets and checksums,
//! git revision, results with intervals, artifacts by relative path). The human sections
//! (goals, analysis, follow-ups) stay prompts; generated parts sit in marked blocks so a
//! second `ox record` refreshes them and keeps everything else (see [`crate::blocks`]).

use std::collections::{BTreeMap, BTreeSet};

use ox_analysis::group::is_seed_like;
use ox_core::Provenance;
use serde_json::Value;

use crate::blocks::wrap;
use crate::export::{
    RunRecord, default_metric_columns, group_rows, groups_results_table, runs_results_table,
};

/// Paths of a run's files, relative to the directory the record is written in.
#[derive(Debug, Clone)]
pub struct RunFiles {
    pub run_json: String,
    pub metrics: String,
    /// The run's directory (artifact paths are relative to it).
    pub run_dir: String,
}

/// One run of the record with what it recorded.
#[derive(Debug, Clone)]
pub struct RecordRun<'a> {
    pub record: RunRecord<'a>,
    pub provenance: Provenance,
    pub files: RunFiles,
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The first param whose last dotted segment is one of `names` (case-insensitive).
fn find_param<'p>(params: &'p BTreeMap<String, Value>, names: &[&str]) -> Option<(&'p str, f64)> {
    names.iter().find_map(|n| {
        params.iter().find_map(|(k, v)| {
            let last = k.rsplit('.').next().unwrap_or(k).to_ascii_lowercase();
            (last == *n)
                .then(|| v.as_f64().map(|x| (k.as_str(), x)))
                .flatten()
        })
    })
}

/// Effective batch size (batch × gradient accumulation × devices) and tokens per update
/// (× sequence length), when the params name them; each line says which params it used.
pub fn derived_parameters(params: &BTreeMap<String, Value>) -> Vec<String> {
    let Some((bk, batch)) = find_param(
        params,
        &[
            "batch_size",
            "per_device_train_batch_size",
            "micro_batch_size",
            "train_batch_size",
            "batch",
            "bs",
        ],
    ) else {
        return Vec::new();
    };
    let mut factors = vec![format!("`{bk}` = {}", fmt(batch))];
    let mut effective = batch;
    if let Some((k, a)) = find_param(
        params,
        &[
            "gradient_accumulation_steps",
            "grad_accum",
            "grad_accumulation",
            "accumulate_grad_batches",
            "accum_steps",
            "grad_accum_steps",
        ],
    ) {
        factors.push(format!("`{k}` = {}", fmt(a)));
        effective *= a;
    }
    if let Some((k, d)) = find_param(
        params,
        &[
            "devices",
            "num_devices",
            "num_gpus",
            "n_gpus",
            "gpus",
            "world_size",
        ],
    ) {
        factors.push(format!("`{k}` = {}", fmt(d)));
        effective *= d;
    }
    let mut out = vec![format!(
        "Effective batch size: {} ({})",
        fmt(effective),
        factors.join(" × ")
    )];
    if let Some((k, len)) = find_param(
        params,
        &[
            "seq_len",
            "max_seq_len",
            "sequence_length",
            "max_seq_length",
            "context_length",
            "block_size",
            "max_length",
        ],
    ) {
        out.push(format!(
            "Tokens per update: {} (effective batch × `{k}` = {})",
            fmt(effective * len),
            fmt(len)
        ));
    }
    out
}

fn fmt(v: f64) -> String {
    ox_render::format_number(v)
}

fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut unit = 0usize;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    match UNITS.get(unit) {
        Some(u) if unit > 0 => format!("{v:.1} {u}"),
        _ => format!("{b} B"),
    }
}

/// The record's Markdown: seed 003's template with the generated blocks `header`,
/// `configuration`, `provenance`, `results` and `artifacts`.
pub fn record_markdown(title: &str, date: &str, runs: &[RecordRun<'_>], confidence: f64) -> String {
    let mut s = format!("# Experiment: {title}\n");
    // Header.
    let mut header = format!("- **Date:** {date}\n- **Run IDs:** ");
    header.push_str(
        &runs
            .iter()
            .map(|r| match &r.record.run.name {
                Some(n) => format!("`{}` ({n})", r.record.run.id),
                None => format!("`{}`", r.record.run.id),
            })
            .collect::<Vec<_>>()
            .join(", "),
    );
    header.push('\n');
    let flat: Vec<BTreeMap<String, Value>> = runs.iter().map(|r| r.record.flat_params()).collect();
    let mut seeds: Vec<String> = flat
        .iter()
        .flat_map(|p| {
            p.iter()
                .filter(|(k, _)| is_seed_like(k, &[]))
                .map(|(_, v)| value_text(v))
                .collect::<Vec<_>>()
        })
        .collect();
    seeds.dedup();
    let seeds: Vec<String> = seeds
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    header.push_str(&format!(
        "- **Seed(s):** {}\n",
        if seeds.is_empty() {
            "none recorded (no `seed` param)".to_string()
        } else {
            seeds.join(", ")
        }
    ));
    let studies: BTreeSet<&str> = runs.iter().map(|r| r.record.run.study.as_str()).collect();
    header.push_str(&format!(
        "- **Study:** {}\n",
        studies.into_iter().collect::<Vec<_>>().join(", ")
    ));
    s.push_str(&wrap("header", &header));
    s.push_str("- **Owner(s):** <name(s)>\n- **Related PRs / Issues:** <links>\n\n");
    s.push_str("## Goals\n- What question does this experiment answer?\n- What hypothesis is being tested?\n\n");

    // Configuration.
    s.push_str("## Configuration\n");
    let mut cfg = String::new();
    let commands: BTreeSet<String> = runs
        .iter()
        .filter(|r| !r.record.run.command.is_empty())
        .map(|r| ox_core::shell::join(&r.record.run.command))
        .collect();
    match commands.len() {
        0 => cfg.push_str("- **CLI invocation:** not recorded\n"),
        1 => cfg.push_str(&format!(
            "- **CLI invocation:** `{}`\n",
            commands.iter().next().map_or("", String::as_str)
        )),
        _ => {
            cfg.push_str("- **CLI invocation:**\n");
            for r in runs.iter().filter(|r| !r.record.run.command.is_empty()) {
                cfg.push_str(&format!(
                    "  - {}: `{}`\n",
                    r.record.label(),
                    ox_core::shell::join(&r.record.run.command)
                ));
            }
        }
    }
    // Params common to every run, then those that vary (per run).
    let keys: BTreeSet<&String> = flat.iter().flat_map(|p| p.keys()).collect();
    let (mut common, mut varying) = (Vec::new(), Vec::new());
    for k in keys {
        let first = flat.first().and_then(|p| p.get(k));
        if flat.iter().all(|p| p.get(k) == first) {
            if let Some(v) = first {
                common.push(format!("`{k}` = {}", value_text(v)));
            }
        } else {
            varying.push(k.clone());
        }
    }
    cfg.push_str(&format!(
        "- **Config snapshot:** {} (each run's full config: its `run.json`, listed under Artifacts)\n",
        if common.is_empty() {
            "no param shared by all runs".to_string()
        } else {
            common.join(", ")
        }
    ));
    if !varying.is_empty() {
        cfg.push_str(&format!(
            "- **Varied:** {}\n",
            varying
                .iter()
                .map(|k| {
                    let vals: BTreeSet<String> = flat
                        .iter()
                        .filter_map(|p| p.get(k))
                        .map(value_text)
                        .collect();
                    format!(
                        "`{k}` ∈ {{{}}}",
                        vals.into_iter().collect::<Vec<_>>().join(", ")
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    let mut derived: BTreeSet<String> = BTreeSet::new();
    for p in &flat {
        derived.extend(derived_parameters(p));
    }
    if derived.is_empty() {
        cfg.push_str("- **Derived parameters:** none derivable (no batch-size param)\n");
    } else {
        cfg.push_str("- **Derived parameters:**\n");
        for d in derived {
            cfg.push_str(&format!("  - {d}\n"));
        }
    }
    s.push_str(&wrap("configuration", &cfg));
    s.push('\n');

    // Data & provenance.
    s.push_str("## Data & Provenance\n");
    let mut prov = String::new();
    let mut datasets: Vec<&ox_core::FileRecord> = Vec::new();
    for r in runs {
        for d in &r.provenance.datasets {
            if !datasets
                .iter()
                .any(|x| x.path == d.path && x.sha256 == d.sha256)
            {
                datasets.push(d);
            }
        }
    }
    if datasets.is_empty() {
        prov.push_str("- **Datasets:** none recorded (the Python client's `run.log_dataset(path)` records them)\n");
    } else {
        prov.push_str("- **Datasets:**\n");
        for d in &datasets {
            let mut facts = Vec::new();
            if let Some(b) = d.bytes {
                facts.push(human_bytes(b));
            }
            if let Some(rows) = d.rows {
                facts.push(format!("{rows} rows"));
            }
            prov.push_str(&format!(
                "  - {}`{}`{}\n",
                d.name
                    .as_deref()
                    .map(|n| format!("{n}: "))
                    .unwrap_or_default(),
                d.path,
                if facts.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", facts.join(", "))
                }
            ));
        }
        prov.push_str("- **Checksums (sha256):**\n");
        for d in &datasets {
            prov.push_str(&format!(
                "  - `{}`: `{}`\n",
                d.name.as_deref().unwrap_or(&d.path),
                d.sha256.as_deref().unwrap_or("not recorded")
            ));
        }
    }
    let revisions: BTreeSet<String> = runs
        .iter()
        .filter_map(|r| r.record.run.git.as_ref())
        .map(|g| {
            format!(
                "git `{}`{}{}",
                g.commit.as_deref().unwrap_or("?"),
                g.branch
                    .as_deref()
                    .map(|b| format!(" on `{b}`"))
                    .unwrap_or_default(),
                if g.dirty {
                    " (uncommitted changes)"
                } else {
                    ""
                }
            )
        })
        .collect();
    prov.push_str(&format!(
        "- **Input revisions:** {}\n",
        if revisions.is_empty() {
            "no git revision recorded".to_string()
        } else {
            revisions.into_iter().collect::<Vec<_>>().join("; ")
        }
    ));
    s.push_str(&wrap("provenance", &prov));
    s.push('\n');

    // Results.
    s.push_str("## Results\n");
    let records: Vec<RunRecord<'_>> = runs.iter().map(|r| r.record).collect();
    let mut res = String::new();
    let columns = default_metric_columns(&records, false);
    let group_keys: Vec<String> = varying
        .iter()
        .filter(|k| !is_seed_like(k, &[]))
        .cloned()
        .collect();
    let has_seeds = varying.iter().any(|k| is_seed_like(k, &[]));
    if columns.is_empty() {
        res.push_str("No metrics recorded.\n");
    } else if has_seeds {
        let rows = group_rows(&records, &group_keys, &columns, confidence);
        res.push_str(&format!(
            "Final values, mean ± half-width of the {:.0}% interval over seeds{}:\n\n",
            confidence * 100.0,
            if rows.len() > 1 {
                " (best in bold)"
            } else {
                ""
            }
        ));
        res.push_str(&groups_results_table(&rows, &group_keys, &columns).to_markdown());
    } else {
        res.push_str("Final values per run (one seed each, so no intervals; best in bold):\n\n");
        res.push_str(&runs_results_table(&records, &varying, &columns).to_markdown());
    }
    res.push_str("\nMetric logs: ");
    res.push_str(
        &runs
            .iter()
            .map(|r| format!("[{}]({})", r.record.label(), r.files.metrics))
            .collect::<Vec<_>>()
            .join(", "),
    );
    res.push('\n');
    s.push_str(&wrap("results", &res));
    s.push('\n');

    s.push_str("## Analysis\n- Interpretation of the results: what worked, what regressed, and surprises.\n- Comparison to previous baselines or control runs.\n- Notable logs, anomalies, or qualitative findings.\n\n");
    s.push_str("## Follow-ups\n- [ ] Immediate fixes or re-runs required.\n- [ ] Longer-term ideas unlocked by this experiment.\n- [ ] Documentation or code updates required.\n\n");

    // Artifacts.
    s.push_str("## Artifacts\n");
    let mut art = String::new();
    for r in runs {
        art.push_str(&format!(
            "- {}: [`run.json`]({}) (config snapshot), [metrics]({}) (structured metrics log)",
            r.record.label(),
            r.files.run_json,
            r.files.metrics
        ));
        for a in &r.provenance.artifacts {
            let path = if a.path.starts_with('/') {
                a.path.clone()
            } else {
                format!("{}/{}", r.files.run_dir, a.path)
            };
            art.push_str(&format!(
                ", [`{}`]({path}){}",
                a.path.rsplit('/').next().unwrap_or(&a.path),
                a.sha256
                    .as_deref()
                    .map(|h| format!(" (sha256 `{}`)", h.get(..12).unwrap_or(h)))
                    .unwrap_or_default()
            ));
        }
        art.push('\n');
    }
    s.push_str(&wrap("artifacts", &art));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn derived_parameters_say_their_factors() {
        let p: BTreeMap<String, Value> = [
            ("train.batch_size".to_string(), json!(8)),
            ("gradient_accumulation_steps".to_string(), json!(4)),
            ("num_gpus".to_string(), json!(2)),
            ("max_seq_len".to_string(), json!(2048)),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            derived_parameters(&p),
            vec![
                "Effective batch size: 64 (`train.batch_size` = 8 × `gradient_accumulation_steps` = 4 × `num_gpus` = 2)",
                "Tokens per update: 131072 (effective batch × `max_seq_len` = 2048)"
            ]
        );
        assert!(derived_parameters(&BTreeMap::new()).is_empty());
    }
}
