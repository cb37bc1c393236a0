//! Text logs: SLURM job output (`slurm-*.out`), torchtune consoles (tqdm progress frames
//! `epoch|step|Loss: …`, `Step N | k:v …` logger lines, the resolved config), torchtune's
//! DiskLogger files (`log_*.txt`), generic `key=value` / `key: number` lines, and the
//! user's patterns from `.ox/config.toml`.
//!
//! Generic pairs: a line with a `step` (or `global_step`, `iter`, `iteration`) pair gives
//! metrics at that step; lines without one give params (keys already seen as metrics are
//! left out, e.g. a closing `final: loss=…`). A file with no stepped line at all counts
//! each key seen on several lines as a metric (one point per line) and the rest as params.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;

use ox_core::{Status, parse_param_value, set_dotted};
use regex::Regex;
use serde_json::{Map, Value};

use crate::patterns::parse_number;
use crate::{ImportedRun, IngestError, LogPatterns, Source, SourceKind};

static PROGRESS: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^\s*(\d+)\|(\d+)\|Loss: ([^:]+):").ok());
static STEP_LINE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^Step (\d+) \| (.*)$").ok());
static PAIR_EQ: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?:^|[\s,;(\[{])([A-Za-z_][\w./-]*)=([^\s,;)\]}]+)").ok());
static PAIR_COLON: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?:^|[\s,;(\[{|])([A-Za-z_][\w./-]*):\s+([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf|-inf)(?:[\s,;)\]}|]|$)").ok()
});

const STEP_KEYS: [&str; 4] = ["step", "global_step", "iter", "iteration"];

/// Whether most non-empty lines of `text` are DiskLogger `Step N | …` lines.
pub(crate) fn is_disk_logger(text: &str) -> bool {
    let mut total = 0;
    let mut steps = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()).take(50) {
        total += 1;
        if line.starts_with("Step ") && line.contains(" | ") {
            steps += 1;
        }
    }
    total > 0 && steps * 2 > total
}

/// Whether `name` is a SLURM job output's: `slurm-<job>.out` by default, or any `--output`
/// name that starts with `slurm` followed by `-`, `_` or a space (`slurm 47.out`) and ends
/// in `.out`.
pub(crate) fn is_slurm_output_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".out")
        && lower
            .strip_prefix("slurm")
            .is_some_and(|rest| rest.starts_with(['-', '_', ' ']))
}

/// When torchtune's DiskLogger opened its file: the Unix time in its default name
/// `log_<int(time.time())>.txt` / `.jsonl` (a number before 2000 is not taken for one).
pub(crate) fn disk_logger_start(path: &Path) -> Option<chrono::DateTime<chrono::Utc>> {
    let stem = path.file_stem()?.to_str()?;
    let secs: i64 = stem.strip_prefix("log_")?.parse().ok()?;
    (secs >= 946_684_800)
        .then(|| chrono::DateTime::from_timestamp(secs, 0))
        .flatten()
}

/// Imports one text log file.
pub(crate) fn import_file(path: &Path, patterns: &LogPatterns) -> Result<ImportedRun, IngestError> {
    let bytes = fs_err::read(path).map_err(|e| IngestError::io("read", path, e))?;
    if bytes.iter().take(8192).filter(|&&b| b == 0).count() > 0 {
        return Err(IngestError::invalid(path, "binary data, not a text log"));
    }
    let text = String::from_utf8_lossy(&bytes);
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = path
        .file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let disk_logger = is_disk_logger(&text);
    let kind = if disk_logger {
        SourceKind::Torchtune
    } else if is_slurm_output_name(&file_name) {
        SourceKind::Slurm
    } else {
        SourceKind::Text
    };
    let canonical = fs_err::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut run = ImportedRun::new(
        Source {
            kind,
            key: format!("{}:{}", kind.as_str(), canonical.display()),
            path: canonical,
        },
        kind.as_str(),
    );
    run.name = Some(stem);
    if kind == SourceKind::Torchtune {
        run.created = disk_logger_start(path);
        run.started = run.created;
    } else {
        run.console_log = Some(path.to_path_buf());
    }
    parse_text(&text, patterns, &mut run);
    // A text file of no known kind that holds no metric (a requirements.txt, a patch, a
    // batch script) is not a log: importing it would make an empty run.
    if kind == SourceKind::Text && run.metrics.is_empty() {
        return Err(IngestError::invalid(
            path,
            "not recognized: no known format and no metric in it \
             (for a log with its own line format, add a [[log_patterns]] entry to .ox/config.toml)",
        ));
    }
    Ok(run)
}

/// One line's generic pairs.
struct PairLine {
    step: Option<i64>,
    pairs: Vec<(String, String)>,
}

/// Fills `run` (metrics, params, status) from a log's text.
pub(crate) fn parse_text(text: &str, patterns: &LogPatterns, run: &mut ImportedRun) {
    let mut progress: BTreeMap<i64, f64> = BTreeMap::new();
    let mut pair_lines = Vec::new();
    let mut pattern_counts: BTreeMap<String, i64> = BTreeMap::new();
    let mut config_lines: Option<Vec<&str>> = None;
    let mut in_config = false;
    let mut config_started = false;
    for segment in text.split(['\n', '\r']) {
        if in_config {
            if segment.trim().is_empty() {
                if config_started {
                    in_config = false;
                }
                continue;
            }
            config_started = true;
            if let Some(lines) = config_lines.as_mut() {
                lines.push(segment);
            }
            continue;
        }
        if segment.trim_end().ends_with("with resolved config:") {
            in_config = true;
            config_started = false;
            config_lines = Some(Vec::new());
            continue;
        }
        if segment.contains("Traceback (most recent call last):") && run.status == Status::Completed
        {
            run.status = Status::Failed;
        }
        if segment.contains("*** JOB") && segment.contains("CANCELLED") {
            run.status = Status::Killed;
            let reason = segment
                .get(segment.find("*** JOB").unwrap_or(0)..)
                .unwrap_or(segment)
                .trim();
            run.extra
                .insert("slurm".into(), serde_json::json!({"cancelled": reason}));
        }
        let line_metrics = patterns.metrics_from_line(segment);
        for (name, value) in line_metrics.values {
            let count = pattern_counts.entry(name.clone()).or_insert(0);
            let step = line_metrics.step.unwrap_or(*count);
            *count += 1;
            run.metrics.push_named(&name, step, None, value);
        }
        if let Some(caps) = PROGRESS.as_ref().and_then(|r| r.captures(segment)) {
            let step = caps.get(2).and_then(|m| m.as_str().parse::<i64>().ok());
            let loss = caps.get(3).and_then(|m| parse_number(m.as_str()));
            if let (Some(step), Some(loss)) = (step, loss) {
                progress.insert(step, loss);
            }
            continue;
        }
        if let Some(caps) = STEP_LINE
            .as_ref()
            .and_then(|r| r.captures(segment.trim_end()))
        {
            let step = caps.get(1).and_then(|m| m.as_str().parse::<i64>().ok());
            if let (Some(step), Some(rest)) = (step, caps.get(2)) {
                for token in rest.as_str().split_whitespace() {
                    if let Some((k, v)) = token.split_once(':')
                        && let Some(v) = parse_number(v)
                    {
                        run.metrics.push_named(k, step, None, v);
                    }
                }
                continue;
            }
        }
        if segment.starts_with([' ', '\t']) {
            continue;
        }
        if let Some(line) = generic_pairs(segment) {
            pair_lines.push(line);
        }
    }
    if !progress.is_empty() {
        let id = run.metrics.metric_id("loss");
        for (step, loss) in progress {
            run.metrics.push(id, step, None, loss);
        }
    }
    if let Some(lines) = config_lines {
        read_yaml_block(&lines, run);
    }
    apply_pairs(pair_lines, run);
}

fn generic_pairs(line: &str) -> Option<PairLine> {
    let mut pairs = Vec::new();
    for re in [PAIR_EQ.as_ref(), PAIR_COLON.as_ref()]
        .into_iter()
        .flatten()
    {
        for caps in re.captures_iter(line) {
            if let (Some(k), Some(v)) = (caps.get(1), caps.get(2)) {
                pairs.push((k.as_str().to_string(), v.as_str().to_string()));
            }
        }
    }
    if pairs.is_empty() {
        return None;
    }
    let step = pairs
        .iter()
        .find(|(k, _)| STEP_KEYS.contains(&k.to_ascii_lowercase().as_str()))
        .and_then(|(_, v)| parse_number(v))
        .filter(|s| s.fract() == 0.0)
        .map(|s| s as i64);
    Some(PairLine { step, pairs })
}

fn apply_pairs(lines: Vec<PairLine>, run: &mut ImportedRun) {
    let any_stepped = lines.iter().any(|l| l.step.is_some());
    let mut occurrences: BTreeMap<&str, usize> = BTreeMap::new();
    if !any_stepped {
        for line in &lines {
            for (k, v) in &line.pairs {
                if parse_number(v).is_some() {
                    *occurrences.entry(k.as_str()).or_insert(0) += 1;
                }
            }
        }
    }
    let mut implicit_steps: BTreeMap<String, i64> = BTreeMap::new();
    let mut params: Vec<(String, String)> = Vec::new();
    for line in &lines {
        for (k, v) in &line.pairs {
            if STEP_KEYS.contains(&k.to_ascii_lowercase().as_str()) && line.step.is_some() {
                continue;
            }
            let number = parse_number(v);
            match (line.step, number) {
                (Some(step), Some(x)) => run.metrics.push_named(k, step, None, x),
                (None, Some(x)) if occurrences.get(k.as_str()).is_some_and(|&n| n > 1) => {
                    let step = implicit_steps.entry(k.clone()).or_insert(0);
                    run.metrics.push_named(k, *step, None, x);
                    *step += 1;
                }
                (None, _) => params.push((k.clone(), v.clone())),
                (Some(_), None) => {}
            }
        }
    }
    for (k, v) in params {
        if !run.metrics.series(&k).is_empty() {
            continue;
        }
        let value = parse_param_value(&v);
        if set_dotted(&mut run.params, &k, value.clone()).is_err() {
            run.params.insert(k, value);
        }
    }
}

/// Reads the resolved config (OmegaConf's YAML dump) into params: each top-level key,
/// lists and nested maps kept as they are. A block that is not a YAML mapping is reported.
fn read_yaml_block(lines: &[&str], run: &mut ImportedRun) {
    match serde_norway::from_str::<Map<String, Value>>(&lines.join("\n")) {
        Ok(config) => run.params.extend(config),
        Err(e) => run
            .warnings
            .push(format!("the resolved config is not a YAML mapping: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> ImportedRun {
        let mut run = ImportedRun::new(
            Source {
                kind: SourceKind::Text,
                key: "k".into(),
                path: "p".into(),
            },
            "text",
        );
        parse_text(text, &LogPatterns::default(), &mut run);
        run
    }

    #[test]
    fn stepped_pairs_are_metrics_and_the_rest_params() {
        let run = parse(
            "seed=1 lr=0.001 name=x\nepoch=1 step=100 loss=1.5\nepoch=2 step=200 loss=1.0\nfinal: loss=1.0\n",
        );
        assert_eq!(run.metrics.series("loss"), vec![(100, 1.5), (200, 1.0)]);
        assert_eq!(run.metrics.series("epoch"), vec![(100, 1.0), (200, 2.0)]);
        assert_eq!(
            Value::Object(run.params),
            json!({"seed": 1, "lr": 0.001, "name": "x"})
        );
    }

    #[test]
    fn unstepped_repeated_keys_are_series() {
        let run = parse("Epoch: 1, Loss: 0.5\nEpoch: 2, Loss: 0.25\nmodel=big\n");
        assert_eq!(run.metrics.series("Loss"), vec![(0, 0.5), (1, 0.25)]);
        assert_eq!(run.params["model"], "big");
    }

    #[test]
    fn progress_frames_keep_the_last_per_step_and_cancellation_kills() {
        let text = "  0%|  | 0/3\r1|1|Loss: 2.5:  33%|█ | 1/3\r1|1|Loss: 2.5: 66%\r1|2|Loss: 2.25: 66%|██ | 2/3  slurmstepd-vm: error: *** JOB 50 ON vm CANCELLED AT 2026-11-23T07:24:02 ***\n";
        let run = parse(text);
        assert_eq!(run.metrics.series("loss"), vec![(1, 2.5), (2, 2.25)]);
        assert_eq!(run.status, Status::Killed);
        assert!(
            parse("Traceback (most recent call last):\n  File x\nValueError\n").status
                == Status::Failed
        );
    }

    #[test]
    fn resolved_config_becomes_nested_params() {
        let text = "INFO:x:Running R with resolved config:\n\nbatch_size: 4\nmodel:\n  _component_: m.lora\n  lora_attn_modules:\n  - q_proj\n  - v_proj\n  lora_rank: 8\noptimizer:\n  lr: 0.0003\nseed: 0\ntag: 'a: b'\n\nWriting logs to /x\n";
        let run = parse(text);
        assert_eq!(
            Value::Object(run.params),
            json!({"batch_size": 4, "model": {"_component_": "m.lora", "lora_attn_modules": ["q_proj", "v_proj"], "lora_rank": 8}, "optimizer": {"lr": 0.0003}, "seed": 0, "tag": "a: b"})
        );
        assert!(run.warnings.is_empty());
    }

    #[test]
    fn disk_logger_lines() {
        let text = "Step 1 | loss:2.5 lr:0.1 \nStep 2 | loss:nan lr:0.0 \n";
        assert!(is_disk_logger(text));
        let run = parse(text);
        assert_eq!(run.metrics.series("lr"), vec![(1, 0.1), (2, 0.0)]);
        assert!(run.metrics.series("loss")[1].1.is_nan());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC*") {
            let _ = parse(&s);
            let _ = is_disk_logger(&s);
        }
    }
}
