//! inspect-ai `.json` log parsing: the cost of reading Python's bare `NaN`/`Infinity`
//! tokens. Generates two logs of `--samples` samples with the shape inspect writes (a
//! message history of about 1 KB and one score per sample), one with finite scores only
//! and one where every fourth score is `NaN` (the tokens are rewritten into strings before
//! parsing), parses each `--repeats` times the way `ox import` does and prints MB/s.
//!
//! `cargo run --release -p ox-ingest --example inspect_bench -- [--samples 20000] [--repeats 5]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use ox_ingest::{LogPatterns, discover, parse_unit};

// The allocator of the `ox` binary, so the figure is what `ox import` does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn log_text(samples: usize, with_nan: bool) -> String {
    let mut out = String::with_capacity(samples * 1300);
    out.push_str(
        r#"{"version": 2, "status": "success", "eval": {"eval_id": "E1", "run_id": "R1", "task": "bench", "model": "mockllm/model", "config": {"epochs": 1}, "model_generate_config": {}}, "plan": {"config": {"temperature": 0.7, "max_connections": 4}}, "results": {"total_samples": 1, "completed_samples": 1, "scores": [{"name": "ratio", "metrics": {"mean": {"value": NaN}}}]}, "stats": {"started_at": "2026-12-04T20:00:00+00:00", "completed_at": "2026-12-04T20:10:00+00:00"}, "samples": ["#,
    );
    let filler = "Let me think about this step by step, carefully. ".repeat(18);
    for i in 0..samples {
        if i > 0 {
            out.push_str(", ");
        }
        let score = if with_nan && i % 4 == 1 {
            "NaN".to_string()
        } else {
            format!("{}", (i % 7) as f64 / 7.0)
        };
        write!(
            out,
            r#"{{"id": "s{i}", "epoch": 1, "input": "What is {i} + 1?", "target": "{t}", "messages": [{{"role": "user", "content": "What is {i} + 1?"}}, {{"role": "assistant", "content": "{filler}The answer is {t}"}}], "output": {{"completion": "The answer is {t}"}}, "scores": {{"ratio": {{"value": {score}, "answer": "{t}", "explanation": "ratio of lengths"}}}}}}"#,
            t = i + 1,
        )
        .unwrap();
    }
    out.push_str("]}\n");
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let samples = arg("--samples", 20_000);
    let repeats = arg("--repeats", 5);
    let tmp = tempfile::tempdir().unwrap();
    for (label, with_nan) in [("finite scores", false), ("NaN tokens", true)] {
        let path = tmp.path().join(format!("{}.json", label.replace(' ', "_")));
        std::fs::write(&path, log_text(samples, with_nan)).unwrap();
        let mb = std::fs::metadata(&path).unwrap().len() as f64 / 1e6;
        let mut best = f64::INFINITY;
        for _ in 0..repeats {
            let t = Instant::now();
            let run = parse(&path);
            best = best.min(t.elapsed().as_secs_f64());
            assert_eq!(run.samples.len(), samples);
        }
        println!(
            "{label:>13}: {mb:.1} MB, {samples} samples, best of {repeats}: {:.3} s = {:.0} MB/s",
            best,
            mb / best
        );
    }
}

fn parse(path: &Path) -> ox_ingest::ImportedRun {
    let found = discover(&[path.to_path_buf()]);
    let unit = found.units.first().expect("an inspect log");
    parse_unit(unit, &LogPatterns::default()).unwrap().remove(0)
}
