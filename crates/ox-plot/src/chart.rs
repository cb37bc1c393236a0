//! Layout and drawing of a [`Figure`] into a [`Scene`]: title, legend outside the data,
//! panels stacked vertically, each with its axes, ticks and content (one submodule per kind).

mod categorical;
mod heatmap;
mod lines;

use crate::axis::{Range, Scale, Tick, format_value, ticks};
use crate::font::Font;
use crate::scene::{Anchor, Item, Rgba, Scene, Stroke};
use crate::{Bar, BoxGroup, Content, Figure, Heatmap, MAX_LEGEND, Panel, Series, Style};

/// Okabe & Ito's colour-blind-safe palette (yellow left out: too pale on white).
pub const PALETTE: [Rgba; 7] = [
    Rgba(0x00, 0x72, 0xB2, 1.0),
    Rgba(0xE6, 0x9F, 0x00, 1.0),
    Rgba(0x00, 0x9E, 0x73, 1.0),
    Rgba(0xD5, 0x5E, 0x00, 1.0),
    Rgba(0xCC, 0x79, 0xA7, 1.0),
    Rgba(0x56, 0xB4, 0xE9, 1.0),
    Rgba(0x00, 0x00, 0x00, 1.0),
];

/// Dash patterns in multiples of the line width: solid, dashed, dotted, dash-dot. With 7
/// colours and 4 patterns, 28 series differ in both.
const DASHES: [&[f64]; 4] = [&[], &[5.0, 2.5], &[1.2, 1.8], &[5.0, 2.0, 1.2, 2.0]];

const GRID: Rgba = Rgba(0xE4, 0xE4, 0xE4, 1.0);
const AXIS: Rgba = Rgba(0x33, 0x33, 0x33, 1.0);
const TEXT: Rgba = Rgba(0x1A, 0x1A, 0x1A, 1.0);
const LONGEST_CATEGORY: usize = 28;

/// How the `i`-th of `n` series is drawn.
struct Look {
    color: Rgba,
    dash: Vec<f64>,
    width: f64,
    marker: usize,
}

/// Whether a panel's lines are denser than the figure's width in points: a dash pattern
/// along a line that zigzags within every pixel column is invisible, so such lines are
/// drawn solid (and shown solid in the legend).
fn dense(series: &[Series], style: &Style) -> bool {
    let width_pt = style.width_in * 72.0;
    series
        .iter()
        .any(|s| s.line && s.points.len() as f64 > width_pt)
}

fn look(i: usize, series: &[Series], style: &Style) -> Look {
    let n = series.len();
    if n > MAX_LEGEND {
        // Many overlaid runs: thin, slightly transparent, colours only.
        return Look {
            color: PALETTE[i % PALETTE.len()].alpha(0.65),
            dash: Vec::new(),
            width: style.line_pt * 0.6,
            marker: 0,
        };
    }
    let dash = if n >= 4 && !dense(series, style) {
        DASHES[i % DASHES.len()]
            .iter()
            .map(|d| d * style.line_pt)
            .collect()
    } else {
        Vec::new()
    };
    Look {
        color: PALETTE[i % PALETTE.len()],
        dash,
        width: style.line_pt,
        marker: i % 4,
    }
}

/// A rectangle in points.
#[derive(Debug, Clone, Copy)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

struct Ctx<'a> {
    font: &'a Font<'a>,
    style: Style,
    items: Vec<Item>,
}

impl Ctx<'_> {
    fn text(&mut self, x: f64, y: f64, text: &str, size: f64, anchor: Anchor, class: &'static str) {
        self.items.push(Item::Text {
            x,
            y,
            text: text.to_string(),
            size,
            anchor,
            rotate: 0.0,
            color: TEXT,
            class,
        });
    }

    fn line(&mut self, points: Vec<(f64, f64)>, color: Rgba, width: f64, class: &'static str) {
        self.items.push(Item::Path {
            points,
            closed: false,
            stroke: Some(Stroke {
                color,
                width,
                dash: Vec::new(),
            }),
            fill: None,
            class,
        });
    }

    fn rect(&mut self, r: Rect, fill: Option<Rgba>, stroke: Option<Stroke>, class: &'static str) {
        self.items.push(Item::Path {
            points: vec![
                (r.x, r.y),
                (r.x + r.w, r.y),
                (r.x + r.w, r.y + r.h),
                (r.x, r.y + r.h),
            ],
            closed: true,
            stroke,
            fill,
            class,
        });
    }

    fn width(&self, text: &str, size: f64) -> f64 {
        self.font.width(text, size)
    }

    /// `text` cut with an ellipsis to fit `max` points.
    fn fit(&self, text: &str, size: f64, max: f64) -> String {
        if self.width(text, size) <= max {
            return text.to_string();
        }
        let chars: Vec<char> = text.chars().collect();
        let mut n = chars.len();
        while n > 1 {
            n -= 1;
            let s: String = chars[..n].iter().collect::<String>() + "…";
            if self.width(&s, size) <= max {
                return s;
            }
        }
        "…".into()
    }
}

/// One legend entry.
struct Entry {
    label: String,
    look: Look,
    markers: bool,
    line: bool,
}

pub(crate) fn draw(fig: &Figure, font: &Font<'_>) -> Scene {
    let style = fig.style;
    let width = style.width_in * 72.0;
    let height = style.height_in * 72.0;
    let mut ctx = Ctx {
        font,
        style,
        items: Vec::new(),
    };
    let pad = style.font_pt * 0.6;
    let mut area = Rect {
        x: pad,
        y: pad * 0.8,
        w: width - 2.0 * pad,
        h: height - 1.8 * pad,
    };
    if let Some(title) = &fig.title {
        let t = ctx.fit(title, style.title_pt, area.w);
        ctx.text(
            width / 2.0,
            area.y + style.title_pt * 0.9,
            &t,
            style.title_pt,
            Anchor::Middle,
            "title",
        );
        area.y += style.title_pt * 1.5;
        area.h -= style.title_pt * 1.5;
    }
    let entries = legend_entries(fig);
    if !entries.is_empty() {
        area = legend(&mut ctx, &entries, area, width);
    }
    let n = fig.panels.len().max(1) as f64;
    let gap = if n > 1.0 { style.font_pt * 0.8 } else { 0.0 };
    let panel_h = (area.h - gap * (n - 1.0)) / n;
    for (i, panel) in fig.panels.iter().enumerate() {
        let r = Rect {
            x: area.x,
            y: area.y + i as f64 * (panel_h + gap),
            w: area.w,
            h: panel_h,
        };
        draw_panel(&mut ctx, panel, r);
    }
    Scene {
        width,
        height,
        items: ctx.items,
    }
}

fn legend_entries(fig: &Figure) -> Vec<Entry> {
    let mut out = Vec::new();
    for p in &fig.panels {
        if let Content::Lines(series) = &p.content {
            if series.len() > MAX_LEGEND {
                continue;
            }
            for (i, s) in series.iter().enumerate() {
                if !s.label.is_empty() {
                    out.push(Entry {
                        label: s.label.clone(),
                        look: look(i, series, &fig.style),
                        markers: s.markers,
                        line: s.line,
                    });
                }
            }
        }
    }
    // One entry per label (several panels may show the same series).
    let mut seen = std::collections::HashSet::new();
    out.retain(|e| seen.insert(e.label.clone()));
    out
}

/// Draws the legend beside (wide figures) or below (narrow ones) `area` and returns what
/// is left for the panels.
fn legend(ctx: &mut Ctx<'_>, entries: &[Entry], area: Rect, fig_width: f64) -> Rect {
    let s = ctx.style;
    let size = s.tick_pt;
    let swatch = size * 2.4;
    let row_h = size * 1.35;
    let label_max = (area.w * 0.3).max(size * 6.0);
    let labels: Vec<String> = entries
        .iter()
        .map(|e| ctx.fit(&e.label, size, label_max))
        .collect();
    let widest = labels
        .iter()
        .map(|l| ctx.width(l, size))
        .fold(0.0, f64::max);
    let entry_w = swatch + size * 0.5 + widest;
    let wide = fig_width >= 5.0 * 72.0;
    if wide {
        let w = entry_w + size;
        let x = area.x + area.w - entry_w;
        let total_h = row_h * entries.len() as f64;
        let mut y = area.y + (size * 0.5).max((area.h - total_h) / 2.0 * 0.0);
        for (e, label) in entries.iter().zip(&labels) {
            legend_entry(ctx, e, label, x, y + row_h / 2.0, swatch, size);
            y += row_h;
        }
        Rect {
            w: area.w - w,
            ..area
        }
    } else {
        let col_w = entry_w + size * 1.2;
        let cols = ((area.w / col_w).floor() as usize).clamp(1, entries.len());
        let rows = entries.len().div_ceil(cols);
        let h = rows as f64 * row_h + size * 0.3;
        let total_w = cols as f64 * col_w - size * 1.2;
        let x0 = area.x + (area.w - total_w).max(0.0) / 2.0;
        let y0 = area.y + area.h - h;
        for (k, (e, label)) in entries.iter().zip(&labels).enumerate() {
            let (r, c) = (k / cols, k % cols);
            legend_entry(
                ctx,
                e,
                label,
                x0 + c as f64 * col_w,
                y0 + size * 0.3 + r as f64 * row_h + row_h / 2.0,
                swatch,
                size,
            );
        }
        Rect {
            h: area.h - h,
            ..area
        }
    }
}

fn legend_entry(
    ctx: &mut Ctx<'_>,
    e: &Entry,
    label: &str,
    x: f64,
    mid: f64,
    swatch: f64,
    size: f64,
) {
    if e.line || !e.markers {
        ctx.items.push(Item::Path {
            points: vec![(x, mid), (x + swatch, mid)],
            closed: false,
            stroke: Some(Stroke {
                color: e.look.color.alpha(1.0),
                width: e.look.width.max(ctx.style.line_pt),
                dash: e.look.dash.clone(),
            }),
            fill: None,
            class: "legend",
        });
    }
    if e.markers {
        marker(
            ctx,
            x + swatch / 2.0,
            mid,
            e.look.marker,
            e.look.color,
            "legend",
        );
    }
    ctx.text(
        x + swatch + size * 0.5,
        mid + size * 0.35,
        label,
        size,
        Anchor::Start,
        "legend",
    );
}

fn marker(ctx: &mut Ctx<'_>, x: f64, y: f64, shape: usize, color: Rgba, class: &'static str) {
    let r = ctx.style.line_pt * 1.4 + 1.2;
    let points: Vec<(f64, f64)> = match shape {
        1 => vec![
            (x - r, y - r),
            (x + r, y - r),
            (x + r, y + r),
            (x - r, y + r),
        ],
        2 => vec![
            (x, y - r * 1.25),
            (x + r * 1.15, y + r * 0.8),
            (x - r * 1.15, y + r * 0.8),
        ],
        3 => vec![
            (x, y - r * 1.3),
            (x + r * 1.1, y),
            (x, y + r * 1.3),
            (x - r * 1.1, y),
        ],
        _ => (0..16)
            .map(|k| {
                let a = f64::from(k) * std::f64::consts::PI / 8.0;
                (x + r * a.cos(), y + r * a.sin())
            })
            .collect(),
    };
    ctx.items.push(Item::Path {
        points,
        closed: true,
        stroke: Some(Stroke {
            color: Rgba::WHITE,
            width: 0.5,
            dash: Vec::new(),
        }),
        fill: Some(color.alpha(1.0)),
        class,
    });
}

/// Where the plot area of a panel goes, given the label widths its axes need.
struct Frame {
    plot: Rect,
    /// The y label does not fit along a short panel: it is written above it instead.
    y_label_above: bool,
}

/// Categories of a categorical axis, and whether their labels are drawn rotated.
struct Categories {
    labels: Vec<String>,
    rotated: bool,
    /// Extra height the labels need below the axis.
    height: f64,
}

fn categories(ctx: &Ctx<'_>, labels: &[String], slot: f64) -> Categories {
    let size = ctx.style.tick_pt;
    let labels: Vec<String> = labels
        .iter()
        .map(|l| {
            let chars: Vec<char> = l.chars().collect();
            if chars.len() > LONGEST_CATEGORY {
                chars[..LONGEST_CATEGORY - 1].iter().collect::<String>() + "…"
            } else {
                l.clone()
            }
        })
        .collect();
    let widest = labels
        .iter()
        .map(|l| ctx.width(l, size))
        .fold(0.0, f64::max);
    let rotated = widest > slot * 0.92;
    let height = if rotated {
        widest * 0.5 + size * 0.9
    } else {
        size * 1.2
    };
    Categories {
        labels,
        rotated,
        height,
    }
}

fn draw_panel(ctx: &mut Ctx<'_>, panel: &Panel, r: Rect) {
    match &panel.content {
        Content::Lines(series) => lines::draw_lines(ctx, panel, series, r),
        Content::Bars(bars) => categorical::draw_bars(ctx, panel, bars, r),
        Content::Heatmap(h) => heatmap::draw_heatmap(ctx, panel, h, r),
        Content::Boxes(b) => categorical::draw_boxes(ctx, panel, b, r),
    }
}

/// Lays out a plot area inside `r`: room on the left for the y tick labels (chosen for the
/// area's height) and the y label, below for `below` plus the x label.
fn frame(
    ctx: &Ctx<'_>,
    r: Rect,
    y: &Range,
    y_label: &str,
    below: f64,
    right: f64,
) -> (Frame, Vec<Tick>) {
    let s = ctx.style;
    let tick_len = s.tick_pt * 0.35;
    let bottom = tick_len + below + s.font_pt * 1.5;
    let mut top = s.tick_pt * 0.6;
    let mut h = (r.h - bottom - top).max(10.0);
    let y_label_above = !y_label.is_empty() && ctx.width(y_label, s.font_pt) > h;
    if y_label_above {
        top += s.font_pt * 1.3;
        h = (h - s.font_pt * 1.3).max(10.0);
    }
    let target = ((h / (s.tick_pt * 3.2)).round() as usize).clamp(2, 8);
    let yt = ticks(y, target);
    let widest = yt
        .iter()
        .filter_map(|t| t.label.as_deref())
        .map(|l| ctx.width(l, s.tick_pt))
        .fold(0.0, f64::max);
    let label_room = if y_label.is_empty() || y_label_above {
        0.0
    } else {
        s.font_pt * 1.4
    };
    let left = label_room + widest + tick_len + s.tick_pt * 0.4;
    let plot = Rect {
        x: r.x + left,
        y: r.y + top,
        w: (r.w - left - right - s.tick_pt * 0.6).max(10.0),
        h,
    };
    (
        Frame {
            plot,
            y_label_above,
        },
        yt,
    )
}

/// Grid lines, the y ticks and labels, the frame and the axis labels of a panel.
fn axes(
    ctx: &mut Ctx<'_>,
    f: &Frame,
    y: &Range,
    yt: &[Tick],
    x_label: &str,
    y_label: &str,
    below: f64,
) {
    let s = ctx.style;
    let p = f.plot;
    let tick_len = s.tick_pt * 0.35;
    for t in yt {
        let py = p.y + p.h * (1.0 - y.frac(t.value));
        if !py.is_finite() {
            continue;
        }
        if t.label.is_some() {
            ctx.line(vec![(p.x, py), (p.x + p.w, py)], GRID, 0.5, "grid");
        }
        let len = if t.label.is_some() {
            tick_len
        } else {
            tick_len * 0.6
        };
        ctx.line(vec![(p.x - len, py), (p.x, py)], AXIS, 0.6, "tick");
        if let Some(l) = &t.label {
            ctx.text(
                p.x - tick_len - s.tick_pt * 0.3,
                py + s.tick_pt * 0.35,
                l,
                s.tick_pt,
                Anchor::End,
                "ytick",
            );
        }
    }
    if f.y_label_above {
        let fitted = ctx.fit(y_label, s.font_pt, p.w);
        let x = (p.x - f_left_room(ctx, yt)).max(0.0);
        ctx.text(
            x,
            p.y - s.font_pt * 0.5,
            &fitted,
            s.font_pt,
            Anchor::Start,
            "ylabel",
        );
    } else if !y_label.is_empty() {
        let fitted = ctx.fit(y_label, s.font_pt, p.h);
        ctx.items.push(Item::Text {
            x: p.x - f_left_room(ctx, yt) - s.font_pt * 0.35,
            y: p.y + p.h / 2.0,
            text: fitted,
            size: s.font_pt,
            anchor: Anchor::Middle,
            rotate: -90.0,
            color: TEXT,
            class: "ylabel",
        });
    }
    if !x_label.is_empty() {
        let fitted = ctx.fit(x_label, s.font_pt, p.w);
        ctx.text(
            p.x + p.w / 2.0,
            p.y + p.h + tick_len + below + s.font_pt * 1.15,
            &fitted,
            s.font_pt,
            Anchor::Middle,
            "xlabel",
        );
    }
}

/// Width of the y tick labels and tick marks left of the plot.
fn f_left_room(ctx: &Ctx<'_>, yt: &[Tick]) -> f64 {
    let s = ctx.style;
    let widest = yt
        .iter()
        .filter_map(|t| t.label.as_deref())
        .map(|l| ctx.width(l, s.tick_pt))
        .fold(0.0, f64::max);
    widest + s.tick_pt * 0.35 + s.tick_pt * 0.4
}

fn frame_box(ctx: &mut Ctx<'_>, p: Rect) {
    ctx.items.push(Item::Path {
        points: vec![(p.x, p.y), (p.x, p.y + p.h), (p.x + p.w, p.y + p.h)],
        closed: false,
        stroke: Some(Stroke {
            color: AXIS,
            width: 0.8,
            dash: Vec::new(),
        }),
        fill: None,
        class: "frame",
    });
}
