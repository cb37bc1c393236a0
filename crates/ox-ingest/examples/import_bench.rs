//! Import throughput: generates TensorBoard event files and `metrics.ndjson` directories
//! (about `--mb` megabytes in all, half each), imports them into a fresh project the way
//! `ox import` does (discover, parse, write run files) and prints MB/s of input.
//!
//! `cargo run --release -p ox-ingest --example import_bench -- [--mb 1024] [--dir DIR]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use ox_ingest::{LogPatterns, RunWriter, default_threads, discover, parse_units};

// The allocator of the `ox` binary, so the figure is what `ox import` does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn masked_crc(data: &[u8]) -> u32 {
    crc32c::crc32c(data)
        .rotate_right(15)
        .wrapping_add(0xa282_ead8)
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn scalar_event(buf: &mut Vec<u8>, step: u64, time: f64, tag: &str, value: f32) {
    let mut value_msg = vec![0x0a, tag.len() as u8];
    value_msg.extend_from_slice(tag.as_bytes());
    value_msg.push(0x15);
    value_msg.extend_from_slice(&value.to_le_bytes());
    let mut summary = vec![0x0a, value_msg.len() as u8];
    summary.extend_from_slice(&value_msg);
    buf.clear();
    buf.push(0x09);
    buf.extend_from_slice(&time.to_le_bytes());
    buf.push(0x10);
    varint(buf, step);
    buf.push(0x2a);
    varint(buf, summary.len() as u64);
    buf.extend_from_slice(&summary);
}

fn write_record(out: &mut impl Write, payload: &[u8]) {
    let len = (payload.len() as u64).to_le_bytes();
    out.write_all(&len).unwrap();
    out.write_all(&masked_crc(&len).to_le_bytes()).unwrap();
    out.write_all(payload).unwrap();
    out.write_all(&masked_crc(payload).to_le_bytes()).unwrap();
}

const TAGS: [&str; 4] = ["train/loss", "train/lr", "val/loss", "grad_norm"];

fn generate_tfevents(dir: &Path, bytes: u64) -> u64 {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("events.out.tfevents.1795418288.bench");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut buf = Vec::new();
    let mut written = 0u64;
    let mut step = 0u64;
    while written < bytes {
        for (i, tag) in TAGS.iter().enumerate() {
            let v = 2.0 / (1.0 + step as f32 * 0.001) + i as f32;
            scalar_event(&mut buf, step, 1_795_418_288.0 + step as f64 * 0.01, tag, v);
            write_record(&mut out, &buf);
            written += buf.len() as u64 + 16;
        }
        step += 1;
    }
    out.flush().unwrap();
    written
}

fn generate_jsonl(dir: &Path, bytes: u64) -> u64 {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("params.ndjson"), "{\"lr\": 0.0003, \"seed\": 1}\n").unwrap();
    let mut out =
        std::io::BufWriter::new(std::fs::File::create(dir.join("metrics.ndjson")).unwrap());
    let mut written = 0u64;
    let mut step = 0u64;
    while written < bytes {
        let loss = 2.0 / (1.0 + step as f64 * 0.001);
        let line = format!(
            "{{\"step\": {step}, \"time\": {:.3}, \"train/loss\": {loss}, \"lr\": {}, \"acc\": {}}}\n",
            1_795_418_288.0 + step as f64 * 0.01,
            3e-4 * (1.0 - step as f64 * 1e-7),
            1.0 - loss / 3.0
        );
        out.write_all(line.as_bytes()).unwrap();
        written += line.len() as u64;
        step += 1;
    }
    out.flush().unwrap();
    written
}

/// CPU seconds (user + system) this process used so far (Linux; 0 elsewhere).
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at index 2.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn import(paths: &[PathBuf], project: &ox_core::Project) -> (usize, f64) {
    let start = Instant::now();
    let cpu_start = cpu_secs();
    let found = discover(paths);
    assert!(found.failures.is_empty(), "{:?}", found.failures);
    let mut writer = RunWriter::open(project.clone()).unwrap();
    let mut n = 0;
    parse_units(
        &found.units,
        &LogPatterns::default(),
        default_threads(),
        |unit, result| {
            let runs = result.unwrap_or_else(|e| panic!("{}: {e}", unit.path.display()));
            for mut run in runs {
                writer.write(&mut run, None).unwrap();
                n += 1;
            }
        },
    );
    eprintln!("  CPU time {:.2}s", cpu_secs() - cpu_start);
    (n, start.elapsed().as_secs_f64())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut mb = 1024u64;
    let mut base: Option<PathBuf> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--mb" => mb = args.next().and_then(|v| v.parse().ok()).expect("--mb N"),
            "--dir" => base = args.next().map(PathBuf::from),
            other => panic!("unknown argument {other}"),
        }
    }
    let tmp = tempfile::tempdir_in(base.unwrap_or_else(std::env::temp_dir)).unwrap();
    let data = tmp.path().join("data");
    let runs = 32u64;
    let per_run = mb * 1024 * 1024 / 2 / runs;
    let gen_start = Instant::now();
    let (mut tf_bytes, mut jsonl_bytes) = (0, 0);
    for i in 0..runs {
        tf_bytes += generate_tfevents(&data.join(format!("tb/run{i:02}")), per_run);
        jsonl_bytes += generate_jsonl(&data.join(format!("jsonl/run{i:02}")), per_run);
    }
    eprintln!(
        "generated {:.0} MB tfevents + {:.0} MB JSONL in {:.1}s",
        tf_bytes as f64 / 1e6,
        jsonl_bytes as f64 / 1e6,
        gen_start.elapsed().as_secs_f64()
    );
    let project = ox_core::Project::init(&tmp.path().join("proj")).unwrap();
    let (n_tf, t_tf) = import(&[data.join("tb")], &project);
    let (n_js, t_js) = import(&[data.join("jsonl")], &project);
    let mbps = |b: u64, t: f64| b as f64 / 1e6 / t;
    println!(
        "tfevents: {n_tf} runs, {:.0} MB in {t_tf:.2}s = {:.0} MB/s",
        tf_bytes as f64 / 1e6,
        mbps(tf_bytes, t_tf)
    );
    println!(
        "jsonl:    {n_js} runs, {:.0} MB in {t_js:.2}s = {:.0} MB/s",
        jsonl_bytes as f64 / 1e6,
        mbps(jsonl_bytes, t_js)
    );
    println!(
        "total:    {:.0} MB in {:.2}s = {:.0} MB/s",
        (tf_bytes + jsonl_bytes) as f64 / 1e6,
        t_tf + t_js,
        mbps(tf_bytes + jsonl_bytes, t_tf + t_js)
    );
}
