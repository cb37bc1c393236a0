//! Every content kind drawn to SVG and PNG, checked structurally: the PNG has the style's
//! pixel size and is not blank, the SVG holds one element per series / bar / cell / box and
//! the axis labels. `OX_PLOT_DUMP=DIR` also writes the files there, to look at them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ox_plot::{Axis, Bar, BoxGroup, Content, Figure, Heatmap, Panel, Scale, Series, Style};

fn dump(name: &str, fig: &Figure) -> (String, Vec<u8>) {
    let svg = String::from_utf8(fig.to_svg().unwrap()).unwrap();
    let png = fig.to_png().unwrap();
    if let Some(dir) = std::env::var_os("OX_PLOT_DUMP") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.svg")), &svg).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
    }
    (svg, png)
}

/// Width, height and whether any pixel differs from white.
fn png_facts(png: &[u8]) -> (u32, u32, bool) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let inked = buf[..info.buffer_size()]
        .chunks(info.color_type.samples())
        .any(|px| px.iter().take(3).any(|&c| c < 200));
    (info.width, info.height, inked)
}

fn count(svg: &str, class: &str) -> usize {
    svg.matches(&format!("class=\"{class}\"")).count()
}

fn styles() -> [(&'static str, Style); 2] {
    [
        ("default", Style::default_style()),
        ("paper", Style::paper()),
    ]
}

fn check(name: &str, fig: &Figure) -> String {
    let (svg, png) = dump(name, fig);
    let (w, h, inked) = png_facts(&png);
    assert_eq!((w, h), fig.style.pixels(), "{name}");
    assert!(inked, "{name}: blank PNG");
    svg
}

fn curves(style: Style) -> Figure {
    let series = (0..3)
        .map(|k| {
            let points: Vec<(f64, f64)> = (0..2000)
                .map(|i| {
                    let x = f64::from(i) * 50.0;
                    let y = 2.0 * (-x / (20_000.0 + 10_000.0 * f64::from(k))).exp() + 0.3;
                    (x, if i == 1500 && k == 0 { f64::NAN } else { y })
                })
                .collect();
            let band = points
                .iter()
                .map(|&(x, y)| (x, y - 0.05, y + 0.05))
                .collect();
            Series {
                label: format!("lr={}", [0.001, 0.0003, 0.0001][k as usize]),
                points,
                band,
                line: true,
                ..Series::default()
            }
        })
        .collect();
    Figure {
        title: Some("loss by lr (study sweep)".into()),
        panels: vec![Panel {
            x: Axis::linear("step"),
            y: Axis {
                label: "train/loss".into(),
                scale: Scale::Log,
            },
            content: Content::Lines(series),
        }],
        style,
    }
}

#[test]
fn curves_draw_each_series_with_its_band() {
    for (tag, style) in styles() {
        let svg = check(&format!("curves-{tag}"), &curves(style));
        assert_eq!(count(&svg, "series"), 3);
        assert_eq!(count(&svg, "band"), 3 + 1, "the NaN splits one band in two");
        assert!(svg.contains(">step</text>") && svg.contains(">train/loss</text>"));
        assert_eq!(count(&svg, "title"), 1);
        assert!(svg.contains(">lr=0.0003</text>"), "legend entry");
    }
}

#[test]
fn many_runs_have_no_legend() {
    let series = (0..40)
        .map(|k| Series {
            label: format!("run{k}"),
            points: (0..100).map(|i| (f64::from(i), f64::from(i * k))).collect(),
            line: true,
            ..Series::default()
        })
        .collect();
    let fig = Figure {
        title: None,
        panels: vec![Panel {
            x: Axis::linear("step"),
            y: Axis::linear("loss"),
            content: Content::Lines(series),
        }],
        style: Style::default(),
    };
    let svg = check("many", &fig);
    assert_eq!(count(&svg, "series"), 40);
    assert_eq!(count(&svg, "legend"), 0);
}

#[test]
fn sweep_has_markers_and_error_bars_on_a_log_axis() {
    for (tag, style) in styles() {
        let lrs = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3];
        let series: Vec<Series> = ["accuracy", "f1"]
            .iter()
            .enumerate()
            .map(|(k, name)| {
                let points: Vec<(f64, f64)> = lrs
                    .iter()
                    .enumerate()
                    .map(|(i, &lr)| (lr, 0.6 + 0.05 * i as f64 - 0.02 * k as f64))
                    .collect();
                Series {
                    label: (*name).into(),
                    errors: points
                        .iter()
                        .map(|&(x, y)| (x, y - 0.02, y + 0.02))
                        .collect(),
                    points,
                    line: true,
                    markers: true,
                    ..Series::default()
                }
            })
            .collect();
        let fig = Figure {
            title: Some("accuracy, f1 against lr".into()),
            panels: vec![Panel {
                x: Axis {
                    label: "lr".into(),
                    scale: Scale::Log,
                },
                y: Axis::linear("value"),
                content: Content::Lines(series),
            }],
            style,
        };
        let svg = check(&format!("sweep-{tag}"), &fig);
        assert_eq!(count(&svg, "series"), 2);
        assert_eq!(count(&svg, "marker"), 10);
        assert_eq!(count(&svg, "errorbar"), 30);
        assert!(svg.contains(">10⁻⁴</text>"));
    }
}

#[test]
fn bars_mark_the_best() {
    for (tag, style) in styles() {
        let bars = [
            "rank8_lr1e-5",
            "rank16_lr5e-5",
            "rank32_lr1e-4",
            "rank64_lr5e-5",
        ]
        .iter()
        .enumerate()
        .map(|(i, l)| Bar {
            label: (*l).into(),
            value: 0.8 + 0.03 * i as f64,
            interval: Some((0.78 + 0.03 * i as f64, 0.82 + 0.03 * i as f64)),
            best: i == 3,
        })
        .collect();
        let fig = Figure {
            title: Some("accuracy by config".into()),
            panels: vec![Panel {
                x: Axis::linear("config"),
                y: Axis::linear("accuracy (mean, 95% CI)"),
                content: Content::Bars(bars),
            }],
            style,
        };
        let svg = check(&format!("bar-{tag}"), &fig);
        assert_eq!(count(&svg, "bar"), 4);
        assert_eq!(count(&svg, "errorbar"), 12);
        assert_eq!(count(&svg, "best"), 1);
        assert_eq!(count(&svg, "xtick"), 4);
    }
}

#[test]
fn heatmap_annotates_every_cell() {
    for (tag, style) in styles() {
        let cells: Vec<Vec<Option<f64>>> = (0..3)
            .map(|r| {
                (0..4)
                    .map(|c| {
                        (r != 2 || c != 3)
                            .then_some(0.7 + 0.05 * f64::from(r) + 0.02 * f64::from(c))
                    })
                    .collect()
            })
            .collect();
        let fig = Figure {
            title: Some("accuracy over lr × rank".into()),
            panels: vec![Panel {
                x: Axis::linear("lr"),
                y: Axis::linear("lora_rank"),
                content: Content::Heatmap(Heatmap {
                    x_labels: vec!["1e-5".into(), "5e-5".into(), "1e-4".into(), "5e-4".into()],
                    y_labels: vec!["8".into(), "16".into(), "32".into()],
                    cells,
                    value_label: "accuracy".into(),
                }),
            }],
            style,
        };
        let svg = check(&format!("heatmap-{tag}"), &fig);
        assert_eq!(count(&svg, "cell"), 12);
        assert_eq!(count(&svg, "annotation"), 12);
        assert!(svg.contains(">0.700</text>") && svg.contains(">–</text>"));
        assert!(svg.contains(">lora_rank</text>") && svg.contains(">accuracy</text>"));
    }
}

#[test]
fn boxes_show_quartiles_and_points() {
    for (tag, style) in styles() {
        let groups = (0..3)
            .map(|g| BoxGroup {
                label: format!("model-{g}"),
                values: (0..50)
                    .map(|i| f64::from((i * 37 + g * 11) % 50) / 50.0 + f64::from(g) * 0.2)
                    .chain([if g == 1 { 3.0 } else { 0.5 }])
                    .collect(),
            })
            .collect();
        let fig = Figure {
            title: Some("score per sample".into()),
            panels: vec![Panel {
                x: Axis::linear("run"),
                y: Axis::linear("score"),
                content: Content::Boxes(groups),
            }],
            style,
        };
        let svg = check(&format!("box-{tag}"), &fig);
        assert_eq!(count(&svg, "box"), 3);
        assert_eq!(count(&svg, "median"), 3);
        assert_eq!(
            count(&svg, "point"),
            1,
            "only the outlier of 51 values is drawn"
        );
    }
}

#[test]
fn stacked_panels_for_system_metrics() {
    let panel = |label: &str, scale: f64| Panel {
        x: Axis::linear("time (min)"),
        y: Axis::linear(label),
        content: Content::Lines(vec![Series {
            label: "run-a".into(),
            points: (0..300)
                .map(|i| {
                    (
                        f64::from(i) / 10.0,
                        scale * (1.0 + (f64::from(i) / 20.0).sin()),
                    )
                })
                .collect(),
            line: true,
            ..Series::default()
        }]),
    };
    let fig = Figure {
        title: Some("system".into()),
        panels: vec![
            panel("CPU (%)", 100.0),
            panel("RSS (GiB)", 2.0),
            panel("GPU util (%)", 50.0),
        ],
        style: Style::default(),
    };
    let svg = check("system", &fig);
    assert_eq!(count(&svg, "series"), 3);
    assert_eq!(count(&svg, "ylabel"), 3);
    assert_eq!(
        count(&svg, "legend"),
        2,
        "one entry (swatch and text) for all panels"
    );
}

#[test]
fn dashes_tell_four_sparse_series_apart_but_not_dense_ones() {
    let fig = |points: i32| Figure {
        title: None,
        panels: vec![Panel {
            x: Axis::linear("step"),
            y: Axis::linear("loss"),
            content: Content::Lines(
                (0..4)
                    .map(|k| Series {
                        label: format!("s{k}"),
                        points: (0..points)
                            .map(|i| (f64::from(i), f64::from((i * 7 + k) % 11)))
                            .collect(),
                        line: true,
                        ..Series::default()
                    })
                    .collect(),
            ),
        }],
        style: Style::default(),
    };
    let sparse = String::from_utf8(fig(50).to_svg().unwrap()).unwrap();
    assert_eq!(
        sparse.matches("stroke-dasharray").count(),
        6,
        "3 lines + 3 legend swatches"
    );
    let dense = String::from_utf8(fig(5000).to_svg().unwrap()).unwrap();
    assert_eq!(dense.matches("stroke-dasharray").count(), 0);
}
