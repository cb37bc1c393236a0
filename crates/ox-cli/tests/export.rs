#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `ox export` end to end: runs written in the real format, the real binary, its tables
//! (golden Markdown and LaTeX), its series in long format, and Parquet read back by pyarrow
//! and polars.

use std::process::Command;

use ox_test_support::{TestProject, stderr, stdout};

fn sweep() -> TestProject {
    TestProject::sweep(env!("CARGO_BIN_EXE_ox"))
}

#[test]
fn export_runs_as_csv_and_json() {
    let p = sweep();
    let out = p.ox(&[
        "export",
        "-s",
        "sweep",
        "--format",
        "csv",
        "--metrics",
        "loss,loss:min",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    insta::assert_snapshot!(stdout(&out));
    let out = p.ox(&["export", "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 5);
    assert_eq!(rows[4]["status"], "failed");
    assert_eq!(
        rows[4]["loss"],
        serde_json::Value::Null,
        "NaN is null in JSON"
    );
    assert_eq!(rows[0]["model.layers"], 2.0);
}

#[test]
fn export_groups_as_markdown_and_latex() {
    let p = sweep();
    let md = p.ox(&[
        "export",
        "-s",
        "sweep",
        "--group-by",
        "lr",
        "--format",
        "md",
    ]);
    assert!(md.status.success(), "{}", stderr(&md));
    insta::assert_snapshot!("groups_md", stdout(&md));
    let tex = p.ox(&[
        "export",
        "-s",
        "sweep",
        "--group-by",
        "lr",
        "--metrics",
        "loss,train/acc",
        "--format",
        "latex",
    ]);
    assert!(tex.status.success(), "{}", stderr(&tex));
    let tex = stdout(&tex);
    insta::assert_snapshot!("groups_latex", tex);
    assert!(
        tex.contains("\\toprule") && tex.contains("\\mathbf{"),
        "booktabs, best in bold"
    );
}

#[test]
fn export_group_csv_has_intervals() {
    let p = sweep();
    let out = p.ox(&[
        "export",
        "-s",
        "sweep",
        "--group-by",
        "lr",
        "--metrics",
        "loss",
        "--format",
        "csv",
    ]);
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("lr,n,loss.mean,loss.std,loss.ci_low,loss.ci_high,loss.n")
    );
    // lr=0.01: losses 1/(1+4·0.01·s) for seeds 1 and 2.
    let (a, b) = (1.0 / 1.04, 1.0 / 1.08);
    let fields: Vec<f64> = lines
        .next()
        .unwrap()
        .split(',')
        .map(|f| f.parse().unwrap())
        .collect();
    assert_eq!(fields[0], 0.01);
    assert!((fields[2] - (a + b) / 2.0).abs() < 1e-12);
    // t(0.975, 1) · sem, sem = |a − b| / 2.
    let half = 12.706_204_736_174_7 * (a - b).abs() / 2.0;
    assert!((fields[5] - fields[2] - half).abs() < 1e-9, "{fields:?}");
}

#[test]
fn export_series_in_long_format() {
    let p = sweep();
    let out = p.ox(&[
        "export",
        "-s",
        "sweep",
        "--series",
        "--metrics",
        "loss",
        "--format",
        "csv",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "run,name,step,metric,value");
    assert_eq!(lines.len(), 1 + 4 * 5, "4 runs × 5 steps of loss");
    assert!(lines[1].ends_with(",lr0-s1,0,loss,1"), "{}", lines[1]);
}

#[test]
fn export_usage_errors_say_what_to_do() {
    let p = sweep();
    let out = p.ox(&["export", "--format", "csv", "--metrics", "los"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean loss?"),
        "{}",
        stderr(&out)
    );
    let out = p.ox(&["export", "--format", "parquet"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("-o FILE.parquet"), "{}", stderr(&out));
    let out = p.ox(&["export", "-s", "swep", "--format", "csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean sweep?"),
        "{}",
        stderr(&out)
    );
    let out = p.ox(&["export", "--group-by", "lrr", "--format", "csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean lr?"),
        "{}",
        stderr(&out)
    );
}

/// Whether Python with pyarrow and polars is here; under CI=true it must be.
fn python_readers() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import pyarrow, polars"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but pyarrow/polars are missing (.ci/run installs them)"
        );
        eprintln!(
            "skipped: python3 with pyarrow and polars is not installed (pip install pyarrow polars)"
        );
    }
    ok
}

#[test]
fn parquet_reads_back_in_pyarrow_and_polars() {
    if !python_readers() {
        return;
    }
    let p = sweep();
    let series = p.root().join("series.parquet");
    let runs = p.root().join("runs.parquet");
    let out = p.ox(&[
        "export",
        "--series",
        "--format",
        "parquet",
        "-o",
        series.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("wrote 41 points"), "{}", stderr(&out));
    let out = p.ox(&[
        "export",
        "--format",
        "parquet",
        "-o",
        runs.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let script = r#"
import sys, math, pyarrow.parquet as pq, polars as pl
t = pq.read_table(sys.argv[1])
assert t.num_rows == 41, t.num_rows
types = {f.name: str(f.type) for f in t.schema}
assert types == {"run": "string", "name": "string", "step": "int64", "metric": "string", "value": "double"}, types
df = pl.read_parquet(sys.argv[1])
assert df.schema["step"] == pl.Int64 and df.schema["value"] == pl.Float64, df.schema
first = df.filter((pl.col("name") == "lr0-s2") & (pl.col("metric") == "loss")).sort("step")
assert first["value"].to_list()[1] == 1 / (1 + 0.2), first
crashy = df.filter(pl.col("name") == "crashy")["value"].to_list()
assert len(crashy) == 1 and math.isnan(crashy[0]), "its only loss, NaN, is kept as NaN"
r = pq.read_table(sys.argv[2]).to_pylist()
assert len(r) == 5 and r[0]["lr"] == 0.1 and r[0]["study"] == "sweep", r[0]
assert r[4]["status"] == "failed" and math.isnan(r[4]["loss"]), r[4]
runs = pl.read_parquet(sys.argv[2])
assert runs.schema["lr"] == pl.Float64 and runs.schema["name"] == pl.String, runs.schema
print("ok")
"#;
    let out = Command::new("python3")
        .args([
            "-c",
            script,
            series.to_str().unwrap(),
            runs.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
}

/// `pdflatex`, or `None` with the reason printed (required under CI, which installs TeX).
fn pdflatex() -> Option<&'static str> {
    let found = Command::new("pdflatex")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "pdflatex is required under CI (.ci/run installs texlive-latex-recommended)"
        );
        eprintln!("skipped: pdflatex is not installed (apt-get install texlive-latex-recommended)");
        return None;
    }
    Some("pdflatex")
}

#[test]
fn latex_tables_compile_with_booktabs() {
    let Some(pdflatex) = pdflatex() else {
        return;
    };
    let p = sweep();
    let mut body = String::new();
    for args in [
        &["export", "--format", "latex"][..],
        &[
            "export",
            "--group-by",
            "lr",
            "--metrics",
            "loss,train/acc",
            "--format",
            "latex",
        ][..],
    ] {
        let out = p.ox(args);
        assert!(out.status.success(), "{}", stderr(&out));
        body.push_str(&stdout(&out));
        body.push_str("\n\\bigskip\n\n");
    }
    let doc = format!(
        "\\documentclass{{article}}\n\\usepackage{{booktabs}}\n\\begin{{document}}\n{body}\\end{{document}}\n"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tables.tex"), doc).unwrap();
    let out = Command::new(pdflatex)
        .current_dir(dir.path())
        .args(["-interaction=nonstopmode", "-halt-on-error", "tables.tex"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pdflatex failed:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(dir.path().join("tables.pdf").is_file());
}
