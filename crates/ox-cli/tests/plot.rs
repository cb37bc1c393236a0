#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `ox plot` end to end: a generated sweep (lr × layers × 3 seeds) written in the real
//! format, every kind drawn to SVG and PNG by the real binary and checked structurally
//! (PNG size and ink, the SVG's series / bars / cells / boxes and axis labels), the curves'
//! band checked against `ox stats`' interval, and the usage errors (exit 2).

use ox_core::Status;
use ox_test_support::{TestProject, stderr, stdout};
use serde_json::{Value, json};

const LRS: [f64; 3] = [1e-4, 1e-3, 1e-2];
const LAYERS: [i64; 2] = [2, 4];

/// 18 completed runs: lr × layers × seed, `loss` over 40 steps (one NaN in the middle of
/// one run), `accuracy` and a string param `optimizer`; plus a failed run.
fn project() -> TestProject {
    let mut p = TestProject::new(env!("CARGO_BIN_EXE_ox"));
    for (i, lr) in LRS.iter().enumerate() {
        for layers in LAYERS {
            for seed in 1..=3i64 {
                let end = 0.3 + 0.1 * i as f64 + 0.02 * seed as f64 - 0.03 * (layers as f64 / 2.0);
                let metrics: Vec<(i64, Vec<(&str, f64)>)> = (0..40)
                    .map(|s| {
                        let mut loss = end + 2.0 * (-(s as f64) / 8.0).exp();
                        if i == 0 && layers == 2 && seed == 1 && s == 20 {
                            loss = f64::NAN;
                        }
                        let acc = 1.0 - end / 2.0 + 0.01 * seed as f64;
                        (s, vec![("loss", loss), ("accuracy", acc)])
                    })
                    .collect();
                let id = p.add_run(
                    "sweep",
                    &format!("lr{i}-l{layers}-s{seed}"),
                    Status::Completed,
                    json!({"lr": lr, "layers": layers, "seed": seed, "optimizer": if seed == 1 { "adam" } else { "sgd" }}),
                    &metrics,
                );
                // TestProject writes NaN as null; training scripts write the NaN token.
                let path = p.project.metrics_path(&id);
                let text = std::fs::read_to_string(&path).unwrap();
                std::fs::write(&path, text.replace("\"loss\":null", "\"loss\":NaN")).unwrap();
            }
        }
    }
    p.add_run(
        "sweep",
        "broken",
        Status::Failed,
        json!({"lr": 0.5, "layers": 2, "seed": 9}),
        &[(0, vec![("loss", 9.0)])],
    );
    p
}

struct Drawn {
    svg: String,
    png: Vec<u8>,
}

/// Runs `ox plot ARGS` to an SVG and a PNG and returns both.
fn draw(p: &TestProject, args: &[&str]) -> Drawn {
    let dir = p.root();
    let svg_path = dir.join("fig.svg");
    let png_path = dir.join("fig.png");
    for path in [&svg_path, &png_path] {
        let mut full: Vec<&str> = vec!["plot"];
        full.extend_from_slice(args);
        let out_arg = path.to_str().unwrap();
        full.extend_from_slice(&["-o", out_arg]);
        let o = p.ox(&full);
        assert!(
            o.status.success(),
            "ox {full:?}: {}{}",
            stdout(&o),
            stderr(&o)
        );
    }
    Drawn {
        svg: std::fs::read_to_string(&svg_path).unwrap(),
        png: std::fs::read(&png_path).unwrap(),
    }
}

/// (width, height, share of pixels that are not white).
fn png_facts(png: &[u8]) -> (u32, u32, f64) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let samples = info.color_type.samples();
    let pixels = buf[..info.buffer_size()].chunks(samples);
    let total = (info.width * info.height) as f64;
    let inked = pixels
        .filter(|px| px.iter().take(3).any(|&c| c < 230))
        .count() as f64;
    (info.width, info.height, inked / total)
}

fn count(svg: &str, class: &str) -> usize {
    svg.matches(&format!("class=\"{class}\"")).count()
}

/// The texts of the elements of `class`.
fn texts(svg: &str, class: &str) -> Vec<String> {
    let marker = format!("<text class=\"{class}\"");
    svg.match_indices(&marker)
        .filter_map(|(i, _)| {
            let rest = &svg[i..];
            let start = rest.find('>')? + 1;
            let end = rest.find("</text>")?;
            Some(rest[start..end].to_string())
        })
        .collect()
}

#[track_caller]
fn check_png(d: &Drawn, size: (u32, u32)) {
    let (w, h, ink) = png_facts(&d.png);
    assert_eq!((w, h), size);
    assert!(ink > 0.01, "PNG nearly blank: {ink}");
}

const DEFAULT_PX: (u32, u32) = (960, 660);
const PAPER_PX: (u32, u32) = (990, 750);

#[test]
fn curves_overlay_every_run() {
    let p = project();
    let d = draw(&p, &["curves", "-s", "sweep", "--metric", "loss"]);
    check_png(&d, DEFAULT_PX);
    // 19 runs: more than a legend holds, so thin lines and the count in the title.
    assert_eq!(count(&d.svg, "series"), 19);
    assert_eq!(count(&d.svg, "legend"), 0);
    assert_eq!(texts(&d.svg, "title"), ["loss · 19 runs · study sweep"]);
    assert_eq!(texts(&d.svg, "xlabel"), ["step"]);
    assert_eq!(texts(&d.svg, "ylabel"), ["loss"]);
}

#[test]
fn grouped_curves_band_is_the_stats_interval() {
    let p = project();
    for (style, px) in [("default", DEFAULT_PX), ("paper", PAPER_PX)] {
        let d = draw(
            &p,
            &[
                "curves",
                "-s",
                "sweep",
                "--status",
                "completed",
                "--metric",
                "loss",
                "--group-by",
                "lr",
                "--style",
                style,
            ],
        );
        check_png(&d, px);
        assert_eq!(count(&d.svg, "series"), 3);
        assert!(count(&d.svg, "band") >= 3);
        assert_eq!(
            texts(&d.svg, "legend"),
            ["lr=0.0001", "lr=0.001", "lr=0.01"]
        );
    }
    let o = p.ox(&[
        "plot",
        "curves",
        "-s",
        "sweep",
        "--status",
        "completed",
        "--metric",
        "loss",
        "--group-by",
        "lr",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let plot: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let o = p.ox(&[
        "stats",
        "-s",
        "sweep",
        "--metric",
        "loss",
        "--group-by",
        "lr",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stats: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let series = plot["panels"][0]["series"].as_array().unwrap();
    assert_eq!(series.len(), 3);
    for s in series {
        let group = stats["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["key"] == s["key"])
            .unwrap();
        // The band's last step is the interval ox stats reports for the group's last values.
        let band_last = s["band"].as_array().unwrap().last().unwrap();
        let ci = group["ci"].as_array().unwrap();
        assert_eq!(band_last[0], json!(39.0));
        assert_eq!(band_last[1], ci[0], "{}", s["label"]);
        assert_eq!(band_last[2], ci[1], "{}", s["label"]);
        assert_eq!(s["last"]["mean"], group["mean"]);
        assert_eq!(s["last"]["n"], group["n"]);
    }
}

#[test]
fn curves_smooth_and_log_y() {
    let p = project();
    let d = draw(
        &p,
        &[
            "curves",
            "-s",
            "sweep",
            "--metric",
            "loss",
            "--where",
            "layers = 2 AND seed = 1",
            "--smooth",
            "0.6",
            "--log-y",
        ],
    );
    check_png(&d, DEFAULT_PX);
    assert_eq!(count(&d.svg, "series"), 3);
    assert_eq!(count(&d.svg, "legend"), 6, "3 entries: swatch and name");
    let o = p.ox(&[
        "plot",
        "curves",
        "--metric",
        "loss",
        "--smooth",
        "0.6",
        "--format",
        "json",
        "--where",
        "name = 'lr0-l2-s1'",
    ]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let pts = v["panels"][0]["series"][0]["points"].as_array().unwrap();
    // Smoothing keeps the first value (debiased EMA) and the NaN gap.
    assert!((pts[0][1].as_f64().unwrap() - 2.29).abs() < 1e-9);
    assert!(pts.iter().any(|p| p[1].is_null()));
}

#[test]
fn bar_marks_the_best_group() {
    let p = project();
    for (style, px) in [("default", DEFAULT_PX), ("paper", PAPER_PX)] {
        let d = draw(
            &p,
            &[
                "bar",
                "-s",
                "sweep",
                "--metric",
                "loss",
                "--group-by",
                "lr",
                "--style",
                style,
            ],
        );
        check_png(&d, px);
        assert_eq!(count(&d.svg, "bar"), 3);
        assert_eq!(count(&d.svg, "errorbar"), 9);
        assert_eq!(count(&d.svg, "best"), 1);
        assert_eq!(texts(&d.svg, "xtick"), ["0.0001", "0.001", "0.01"]);
        assert_eq!(texts(&d.svg, "xlabel"), ["lr"]);
        assert_eq!(texts(&d.svg, "ylabel"), ["loss (mean, 95% CI)"]);
    }
    let o = p.ox(&[
        "plot",
        "bar",
        "-s",
        "sweep",
        "--metric",
        "loss",
        "--group-by",
        "lr",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let best: Vec<&Value> = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["best"] == json!(true))
        .collect();
    assert_eq!(best.len(), 1);
    assert_eq!(best[0]["key"], json!({"lr": 1e-4}));
    // The failed run is left out, with the reason.
    assert_eq!(v["excluded"].as_array().unwrap().len(), 1);
}

#[test]
fn sweep_draws_several_metrics_on_a_log_axis() {
    let p = project();
    for (style, px) in [("default", DEFAULT_PX), ("paper", PAPER_PX)] {
        let d = draw(
            &p,
            &[
                "sweep",
                "-s",
                "sweep",
                "--metrics",
                "loss,accuracy",
                "--x",
                "lr",
                "--style",
                style,
            ],
        );
        check_png(&d, px);
        assert_eq!(count(&d.svg, "series"), 2);
        assert_eq!(count(&d.svg, "marker"), 6);
        assert_eq!(count(&d.svg, "errorbar"), 18);
        assert_eq!(texts(&d.svg, "xtick"), ["10⁻⁴", "10⁻³", "10⁻²"]);
        assert_eq!(texts(&d.svg, "xlabel"), ["lr"]);
    }
    // --group-by splits the sweep into one line per layers value.
    let d = draw(
        &p,
        &[
            "sweep",
            "-s",
            "sweep",
            "--metric",
            "loss",
            "--x",
            "lr",
            "--group-by",
            "layers",
        ],
    );
    assert_eq!(count(&d.svg, "series"), 2);
    assert_eq!(texts(&d.svg, "legend"), ["layers=2", "layers=4"]);
}

#[test]
fn heatmap_annotates_each_cell_with_its_mean() {
    let p = project();
    for (style, px) in [("default", DEFAULT_PX), ("paper", PAPER_PX)] {
        let d = draw(
            &p,
            &[
                "heatmap", "-s", "sweep", "--metric", "loss", "--x", "lr", "--y", "layers",
                "--style", style,
            ],
        );
        check_png(&d, px);
        assert_eq!(count(&d.svg, "cell"), 6);
        assert_eq!(count(&d.svg, "annotation"), 6);
        assert_eq!(texts(&d.svg, "xlabel"), ["lr"]);
        assert_eq!(texts(&d.svg, "ylabel"), ["layers"]);
        assert_eq!(texts(&d.svg, "ytick"), ["2", "4"]);
    }
    let o = p.ox(&[
        "plot", "heatmap", "-s", "sweep", "--metric", "loss", "--x", "lr", "--y", "layers",
        "--format", "json",
    ]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let o = p.ox(&[
        "stats",
        "-s",
        "sweep",
        "--metric",
        "loss",
        "--group-by",
        "lr,layers",
        "--format",
        "json",
    ]);
    let stats: Value = serde_json::from_str(&stdout(&o)).unwrap();
    for cell in v["cells"].as_array().unwrap() {
        let g = stats["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["key"]["lr"] == cell["x"] && g["key"]["layers"] == cell["y"])
            .unwrap();
        assert_eq!(cell["mean"], g["mean"]);
        assert_eq!(cell["ci"], g["ci"]);
    }
}

#[test]
fn box_per_group_and_per_sample() {
    let mut p = project();
    for (style, px) in [("default", DEFAULT_PX), ("paper", PAPER_PX)] {
        let d = draw(
            &p,
            &[
                "box",
                "-s",
                "sweep",
                "--metric",
                "loss",
                "--group-by",
                "lr",
                "--style",
                style,
            ],
        );
        check_png(&d, px);
        assert_eq!(count(&d.svg, "box"), 3);
        assert_eq!(count(&d.svg, "median"), 3);
        assert_eq!(count(&d.svg, "point"), 18, "few values: each run is a dot");
    }
    // Per-sample scores of two evaluations.
    for (name, offset) in [("eval-a", 0.0), ("eval-b", 0.3)] {
        let id = p.add_run("evals", name, Status::Completed, json!({}), &[]);
        let lines: String = (0..40)
            .map(|i| {
                let score = f64::from(i % 10) / 10.0 + offset;
                format!(
                    "{}\n{}\n",
                    json!({"id": i, "epoch": 1, "scorer": "match", "score": score}),
                    json!({"id": i, "epoch": 1, "scorer": "other", "score": 1})
                )
            })
            .collect();
        std::fs::write(p.project.samples_path(&id), lines).unwrap();
    }
    let d = draw(
        &p,
        &["box", "-s", "evals", "--metric", "match", "--samples"],
    );
    check_png(&d, DEFAULT_PX);
    assert_eq!(count(&d.svg, "box"), 2);
    assert_eq!(texts(&d.svg, "xtick"), ["eval-a", "eval-b"]);
    let o = p.ox(&[
        "plot",
        "box",
        "-s",
        "evals",
        "--metric",
        "mach",
        "--samples",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("did you mean match?"), "{}", stderr(&o));
}

#[test]
fn pareto_draws_the_front() {
    let p = project();
    for (style, px) in [("default", DEFAULT_PX), ("paper", PAPER_PX)] {
        let d = draw(
            &p,
            &[
                "pareto",
                "-s",
                "sweep",
                "--metric",
                "loss",
                "--group-by",
                "lr",
                "--style",
                style,
            ],
        );
        check_png(&d, px);
        assert_eq!(count(&d.svg, "series"), 1, "the front is the one line");
        assert!(count(&d.svg, "marker") >= 4);
        assert!(texts(&d.svg, "xlabel")[0].starts_with("duration ("));
    }
    let o = p.ox(&[
        "plot",
        "pareto",
        "-s",
        "sweep",
        "--metric",
        "loss",
        "--group-by",
        "lr",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let o = p.ox(&[
        "stats",
        "-s",
        "sweep",
        "--metric",
        "loss",
        "--group-by",
        "lr",
        "--format",
        "json",
    ]);
    let stats: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let front: Vec<&Value> = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["pareto"] == json!(true))
        .map(|g| &g["key"])
        .collect();
    let stats_front: Vec<&Value> = stats["pareto"].as_array().unwrap().iter().collect();
    assert_eq!(front.len(), stats_front.len());
    assert!(front.iter().all(|k| stats_front.contains(k)));
}

#[test]
fn system_draws_a_panel_per_resource() {
    let mut p = project();
    let id = p.add_run("sys", "trainer", Status::Completed, json!({}), &[]);
    let lines: String = (0..600u32)
        .map(|i| {
            let t = 1_700_000_000.0 + f64::from(i) * 2.0;
            format!(
                "{}\n",
                json!({"type": "system", "time": t, "cpu_percent": 100.0 + f64::from(i % 50),
                       "rss_bytes": 2_000_000_000u64 + u64::from(i) * 1_000_000, "processes": 3,
                       "gpu_util_percent": f64::from(i % 100), "gpu_mem_bytes": 8_000_000_000u64})
            )
        })
        .collect();
    std::fs::write(p.project.system_path(&id), lines).unwrap();
    // Four panels: the figure grows to 1.5× its height.
    for (style, px) in [("default", (960, 990)), ("paper", (990, 1125))] {
        let d = draw(&p, &["system", "-s", "sys", "--style", style]);
        check_png(&d, px);
        assert_eq!(count(&d.svg, "series"), 4);
        assert_eq!(
            texts(&d.svg, "ylabel"),
            ["CPU (%)", "RSS (GiB)", "GPU util (%)", "GPU memory (GiB)"]
        );
        assert_eq!(texts(&d.svg, "xlabel"), ["time (min)"; 4]);
    }
    let o = p.ox(&["plot", "system", "-s", "sweep", "-o", "x.png"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no selected run has system samples"));
}

#[test]
fn width_height_and_dpi_set_the_png_size() {
    let p = project();
    let d = draw(
        &p,
        &[
            "bar", "-s", "sweep", "--metric", "loss", "--width", "4", "--height", "3", "--dpi",
            "100",
        ],
    );
    check_png(&d, (400, 300));
    assert!(d.svg.contains("width=\"288pt\" height=\"216pt\""));
}

/// Exit code and stderr of a failing `ox plot ARGS`.
fn fails(p: &TestProject, args: &[&str]) -> String {
    let mut full = vec!["plot"];
    full.extend_from_slice(args);
    let o = p.ox(&full);
    assert_eq!(o.status.code(), Some(2), "ox {full:?}: {}", stderr(&o));
    assert!(!p.root().join("bad.png").exists(), "no file on error");
    stderr(&o)
}

#[test]
fn bad_input_is_a_usage_error() {
    let p = project();
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "unknown_metric",
            vec!["curves", "--metric", "los", "-o", "bad.png"],
        ),
        (
            "unknown_param",
            vec![
                "bar",
                "--metric",
                "loss",
                "--group-by",
                "lrr",
                "-o",
                "bad.png",
            ],
        ),
        (
            "sweep_string_param",
            vec![
                "sweep",
                "--metric",
                "loss",
                "--x",
                "optimizer",
                "-o",
                "bad.png",
            ],
        ),
        (
            "heatmap_one_level",
            vec![
                "heatmap",
                "--metric",
                "loss",
                "--x",
                "lr",
                "--y",
                "layers",
                "--where",
                "layers = 2",
                "-o",
                "bad.png",
            ],
        ),
        (
            "heatmap_not_crossed",
            vec![
                "heatmap",
                "--metric",
                "loss",
                "--x",
                "lr",
                "--y",
                "seed",
                "--where",
                "(lr = 0.0001 AND seed = 1) OR (lr = 0.001 AND seed = 2) OR (lr = 0.01 AND seed = 3)",
                "-o",
                "bad.png",
            ],
        ),
        (
            "nothing_selected",
            vec!["bar", "--metric", "loss", "-s", "nope", "-o", "bad.png"],
        ),
        ("no_output", vec!["bar", "--metric", "loss"]),
        (
            "bad_extension",
            vec!["bar", "--metric", "loss", "-o", "bad.pdf"],
        ),
        (
            "bad_smooth",
            vec![
                "curves", "--metric", "loss", "--smooth", "1.5", "-o", "bad.png",
            ],
        ),
        (
            "bad_dpi",
            vec![
                "bar", "--metric", "loss", "--dpi", "100000", "-o", "bad.png",
            ],
        ),
        (
            "curves_x_param",
            vec!["curves", "--metric", "loss", "--x", "lr", "-o", "bad.png"],
        ),
    ];
    let mut report = String::new();
    for (name, args) in cases {
        report.push_str(&format!("## {name}\n{}\n", fails(&p, &args)));
    }
    insta::assert_snapshot!(report);
}

#[test]
fn curves_against_wall_time() {
    let mut p = project();
    let id = p.add_run("timed", "clock", Status::Completed, json!({}), &[]);
    let lines: String = (0..500)
        .map(|i| {
            format!(
                "{}\n",
                json!({"type": "metrics", "step": i, "time": 1_780_000_000.0 + f64::from(i) * 15.0,
                       "loss": 1.0 / f64::from(i + 1)})
            )
        })
        .collect();
    std::fs::write(p.project.metrics_path(&id), lines).unwrap();
    let d = draw(
        &p,
        &["curves", "-s", "timed", "--metric", "loss", "--x", "time"],
    );
    check_png(&d, DEFAULT_PX);
    // 500 points 15 s apart: a span of about two hours, shown in minutes from the start.
    assert_eq!(texts(&d.svg, "xlabel"), ["time (min)"]);
    assert_eq!(
        texts(&d.svg, "xtick").first().map(String::as_str),
        Some("0")
    );
    let o = p.ox(&[
        "plot", "curves", "-s", "timed", "--metric", "loss", "--x", "time", "--format", "json",
    ]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["x"], json!("time_min"));
    let pts = v["panels"][0]["series"][0]["points"].as_array().unwrap();
    assert_eq!(pts.last().unwrap()[0], json!(499.0 * 15.0 / 60.0));
}

/// A run of 50,000 steps with a spike and a dip at known steps.
fn long_run(p: &mut TestProject) -> ox_core::RunId {
    let points: Vec<(i64, Vec<(&str, f64)>)> = (0..50_000)
        .map(|s| {
            let v = match s {
                12_345 => 9.0,
                33_333 => -3.0,
                _ => ((s * 7919) % 100) as f64 / 100.0,
            };
            (s, vec![("loss", v)])
        })
        .collect();
    p.add_run(
        "long",
        "long",
        Status::Completed,
        json!({"lr": 0.1}),
        &points,
    )
}

#[test]
fn long_curves_are_drawn_from_the_catalog_envelope_with_every_extreme() {
    let mut p = TestProject::new(env!("CARGO_BIN_EXE_ox"));
    let id = long_run(&mut p);
    let plot = |p: &TestProject, extra: &[&str]| -> Vec<(f64, f64)> {
        let mut args = vec![
            "plot", "curves", "-s", "long", "--metric", "loss", "--format", "json",
        ];
        args.extend_from_slice(extra);
        let o = p.ox(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        v["panels"][0]["series"][0]["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
            .collect()
    };
    let drawn = plot(&p, &[]);
    assert!(drawn.len() <= 4 * 960 + 8, "{}", drawn.len());
    assert!(drawn.contains(&(12_345.0, 9.0)), "the spike, at its step");
    assert!(drawn.contains(&(33_333.0, -3.0)), "the dip, at its step");
    assert_eq!(drawn.first().map(|p| p.0), Some(0.0));
    assert_eq!(drawn.last().map(|p| p.0), Some(49_999.0));
    // Where it comes from: the catalog, not the file. A finished run's file is not read
    // again, so a hand edit shows only in what reads the file (smoothing needs every
    // point) until `ox reindex`.
    let max = |pts: &[(f64, f64)]| pts.iter().map(|p| p.1).fold(f64::MIN, f64::max);
    let flat: String = (0..50_000)
        .map(|s| format!("{{\"type\": \"metrics\", \"step\": {s}, \"loss\": 0.5}}\n"))
        .collect();
    std::fs::write(p.project.metrics_path(&id), flat).unwrap();
    assert_eq!(max(&plot(&p, &[])), 9.0, "drawn from the envelope");
    assert_eq!(
        max(&plot(&p, &["--smooth", "0.5"])),
        0.5,
        "read from the file"
    );
    assert!(p.ox(&["reindex"]).status.success());
    assert_eq!(
        max(&plot(&p, &[])),
        0.5,
        "the envelope of the file as it is now"
    );
}
