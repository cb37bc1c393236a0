//! Layout and drawing of a [`Figure`] into a [`Scene`]: title, legend outside the data,
//! panels stacked vertically, each with its axes, ticks and content.

use ox_analysis::describe::percentile_sorted;

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

fn look(i: usize, n: usize, style: &Style) -> Look {
    if n > MAX_LEGEND {
        // Many overlaid runs: thin, slightly transparent, colours only.
        return Look {
            color: PALETTE[i % PALETTE.len()].alpha(0.65),
            dash: Vec::new(),
            width: style.line_pt * 0.6,
            marker: 0,
        };
    }
    let dash = if n >= 4 {
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
                        look: look(i, series.len(), &fig.style),
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
        Content::Lines(series) => draw_lines(ctx, panel, series, r),
        Content::Bars(bars) => draw_bars(ctx, panel, bars, r),
        Content::Heatmap(h) => draw_heatmap(ctx, panel, h, r),
        Content::Boxes(b) => draw_boxes(ctx, panel, b, r),
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

fn draw_lines(ctx: &mut Ctx<'_>, panel: &Panel, series: &[Series], r: Rect) {
    let s = ctx.style;
    let xs = series.iter().flat_map(|se| {
        se.points
            .iter()
            .map(|p| p.0)
            .chain(se.band.iter().map(|b| b.0))
    });
    let x = Range::covering(xs, panel.x.scale, 0.02);
    let ys = series.iter().flat_map(|se| {
        se.points
            .iter()
            .map(|p| p.1)
            .chain(se.band.iter().flat_map(|b| [b.1, b.2]))
            .chain(se.errors.iter().flat_map(|b| [b.1, b.2]))
    });
    let y = Range::covering(ys, panel.y.scale, 0.05);
    let below = s.tick_pt * 1.2;
    let (f, yt) = frame(ctx, r, &y, &panel.y.label, below, 0.0);
    let p = f.plot;
    axes(ctx, &f, &y, &yt, &panel.x.label, &panel.y.label, below);
    // x ticks: as many as fit without their labels touching.
    let mut target = ((p.w / (s.tick_pt * 6.0)).round() as usize).clamp(2, 9);
    let xt = loop {
        let t = ticks(&x, target);
        let widest = t
            .iter()
            .filter_map(|t| t.label.as_deref())
            .map(|l| ctx.width(l, s.tick_pt))
            .fold(0.0, f64::max);
        let labelled = t.iter().filter(|t| t.label.is_some()).count() as f64;
        if target <= 2 || labelled * (widest + s.tick_pt * 1.5) <= p.w {
            break t;
        }
        target -= 1;
    };
    x_ticks(ctx, p, &x, &xt);
    let to_px = |(vx, vy): (f64, f64)| -> (f64, f64) {
        let fx = x.frac(vx);
        let fy = y.frac(vy);
        if fx.is_finite() && fy.is_finite() {
            (p.x + p.w * fx, p.y + p.h * (1.0 - fy))
        } else {
            (f64::NAN, f64::NAN)
        }
    };
    ctx.items.push(Item::ClipBegin {
        x: p.x,
        y: p.y,
        w: p.w,
        h: p.h,
    });
    let n = series.len();
    for (i, se) in series.iter().enumerate() {
        let lk = look(i, n, &s);
        for segment in se
            .band
            .split(|b| !(b.1.is_finite() && b.2.is_finite()))
            .filter(|seg| !seg.is_empty())
        {
            let mut poly: Vec<(f64, f64)> = segment.iter().map(|b| to_px((b.0, b.2))).collect();
            poly.extend(segment.iter().rev().map(|b| to_px((b.0, b.1))));
            ctx.items.push(Item::Path {
                points: poly,
                closed: true,
                stroke: None,
                fill: Some(lk.color.alpha(0.2)),
                class: "band",
            });
        }
    }
    for (i, se) in series.iter().enumerate() {
        let lk = look(i, n, &s);
        if se.line {
            let pts: Vec<(f64, f64)> = se.points.iter().map(|&pt| to_px(pt)).collect();
            ctx.items.push(Item::Path {
                points: pts,
                closed: false,
                stroke: Some(Stroke {
                    color: lk.color,
                    width: lk.width,
                    dash: lk.dash.clone(),
                }),
                fill: None,
                class: "series",
            });
        }
        for &(ex, lo, hi) in &se.errors {
            let (px, plo) = to_px((ex, lo));
            let (_, phi) = to_px((ex, hi));
            let cap = s.line_pt * 2.5;
            let color = lk.color.alpha(1.0);
            ctx.line(
                vec![(px, plo), (px, phi)],
                color,
                s.line_pt * 0.9,
                "errorbar",
            );
            ctx.line(
                vec![(px - cap, plo), (px + cap, plo)],
                color,
                s.line_pt * 0.9,
                "errorbar",
            );
            ctx.line(
                vec![(px - cap, phi), (px + cap, phi)],
                color,
                s.line_pt * 0.9,
                "errorbar",
            );
        }
        for (&pt, label) in se.points.iter().zip(&se.point_labels) {
            let (px, py) = to_px(pt);
            if px.is_finite() && py.is_finite() && !label.is_empty() {
                let size = s.tick_pt * 0.9;
                // Left of the point when it would run past the right edge.
                let right = px + size * 0.6 + ctx.width(label, size) > p.x + p.w;
                let (tx, anchor) = if right {
                    (px - size * 0.6, Anchor::End)
                } else {
                    (px + size * 0.6, Anchor::Start)
                };
                ctx.text(tx, py - size * 0.5, label, size, anchor, "pointlabel");
            }
        }
        if se.line && !se.markers {
            // A point with no finite neighbour draws no line: mark it, or it would vanish.
            let finite = |i: usize| {
                se.points
                    .get(i)
                    .is_some_and(|p| p.0.is_finite() && p.1.is_finite())
            };
            for (k, &pt) in se.points.iter().enumerate() {
                if finite(k) && !(k > 0 && finite(k - 1)) && !finite(k + 1) {
                    let (px, py) = to_px(pt);
                    if px.is_finite() && py.is_finite() {
                        marker(ctx, px, py, 0, lk.color, "marker");
                    }
                }
            }
        }
        if se.markers {
            for &pt in &se.points {
                let (px, py) = to_px(pt);
                if px.is_finite() && py.is_finite() {
                    marker(ctx, px, py, lk.marker, lk.color, "marker");
                }
            }
        }
    }
    ctx.items.push(Item::ClipEnd);
    frame_box(ctx, p);
}

fn x_ticks(ctx: &mut Ctx<'_>, p: Rect, x: &Range, xt: &[Tick]) {
    let s = ctx.style;
    let tick_len = s.tick_pt * 0.35;
    for t in xt {
        let px = p.x + p.w * x.frac(t.value);
        if !px.is_finite() {
            continue;
        }
        if t.label.is_some() {
            ctx.line(vec![(px, p.y), (px, p.y + p.h)], GRID, 0.5, "grid");
        }
        let len = if t.label.is_some() {
            tick_len
        } else {
            tick_len * 0.6
        };
        ctx.line(
            vec![(px, p.y + p.h), (px, p.y + p.h + len)],
            AXIS,
            0.6,
            "tick",
        );
        if let Some(l) = &t.label {
            ctx.text(
                px,
                p.y + p.h + tick_len + s.tick_pt * 1.0,
                l,
                s.tick_pt,
                Anchor::Middle,
                "xtick",
            );
        }
    }
}

/// Category labels under slots `0..n` of the plot area.
fn category_labels(ctx: &mut Ctx<'_>, p: Rect, cats: &Categories) {
    let s = ctx.style;
    let n = cats.labels.len().max(1) as f64;
    let slot = p.w / n;
    let tick_len = s.tick_pt * 0.35;
    for (i, l) in cats.labels.iter().enumerate() {
        let px = p.x + slot * (i as f64 + 0.5);
        ctx.line(
            vec![(px, p.y + p.h), (px, p.y + p.h + tick_len)],
            AXIS,
            0.6,
            "tick",
        );
        if cats.rotated {
            ctx.items.push(Item::Text {
                x: px + s.tick_pt * 0.3,
                y: p.y + p.h + tick_len + s.tick_pt * 0.9,
                text: l.clone(),
                size: s.tick_pt,
                anchor: Anchor::End,
                rotate: -30.0,
                color: TEXT,
                class: "xtick",
            });
        } else {
            ctx.text(
                px,
                p.y + p.h + tick_len + s.tick_pt,
                l,
                s.tick_pt,
                Anchor::Middle,
                "xtick",
            );
        }
    }
}

/// The room categorical labels need, computed for the plot width they will get.
fn category_layout(ctx: &Ctx<'_>, labels: &[String], r: Rect) -> Categories {
    // The y tick labels take some width; estimate the plot width without them first.
    let approx_w = r.w - ctx.style.font_pt * 5.0;
    categories(ctx, labels, approx_w / labels.len().max(1) as f64)
}

fn draw_bars(ctx: &mut Ctx<'_>, panel: &Panel, bars: &[Bar], r: Rect) {
    let s = ctx.style;
    let labels: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
    let cats = category_layout(ctx, &labels, r);
    let values = bars.iter().flat_map(|b| {
        [b.value, 0.0]
            .into_iter()
            .chain(b.interval.into_iter().flat_map(|(lo, hi)| [lo, hi]))
    });
    let mut y = Range::covering(values, Scale::Linear, 0.06);
    // Bars grow from zero: no padding below zero when nothing is negative.
    if bars
        .iter()
        .all(|b| b.value >= 0.0 && b.interval.is_none_or(|i| i.0 >= 0.0))
    {
        y.lo = 0.0;
    }
    // Room above the tallest bar for the "best" mark.
    if bars.iter().any(|b| b.best) {
        y.hi += (y.hi - y.lo) * 0.07;
    }
    let (f, yt) = frame(ctx, r, &y, &panel.y.label, cats.height, 0.0);
    let p = f.plot;
    axes(
        ctx,
        &f,
        &y,
        &yt,
        &panel.x.label,
        &panel.y.label,
        cats.height,
    );
    category_labels(ctx, p, &cats);
    let slot = p.w / bars.len().max(1) as f64;
    let to_y = |v: f64| p.y + p.h * (1.0 - y.frac(v));
    for (i, b) in bars.iter().enumerate() {
        let cx = p.x + slot * (i as f64 + 0.5);
        let bw = slot * 0.62;
        let (top, base) = (to_y(b.value), to_y(0.0f64.max(y.lo)));
        let color = if b.best { PALETTE[1] } else { PALETTE[0] };
        if top.is_finite() {
            ctx.rect(
                Rect {
                    x: cx - bw / 2.0,
                    y: top.min(base),
                    w: bw,
                    h: (base - top).abs(),
                },
                Some(color),
                Some(Stroke {
                    color: if b.best { Rgba::BLACK } else { color },
                    width: if b.best { 1.2 } else { 0.5 },
                    dash: Vec::new(),
                }),
                "bar",
            );
        }
        let mut label_y = top;
        if let Some((lo, hi)) = b.interval {
            let (plo, phi) = (to_y(lo), to_y(hi));
            let cap = bw * 0.18;
            ctx.line(vec![(cx, plo), (cx, phi)], Rgba::BLACK, 1.0, "errorbar");
            ctx.line(
                vec![(cx - cap, phi), (cx + cap, phi)],
                Rgba::BLACK,
                1.0,
                "errorbar",
            );
            ctx.line(
                vec![(cx - cap, plo), (cx + cap, plo)],
                Rgba::BLACK,
                1.0,
                "errorbar",
            );
            label_y = label_y.min(phi);
        }
        if b.best && label_y.is_finite() {
            // Above the error bar, in the headroom added to the range.
            ctx.text(
                cx,
                label_y - s.tick_pt * 0.4,
                "best",
                s.tick_pt,
                Anchor::Middle,
                "best",
            );
        }
    }
    frame_box(ctx, p);
}

/// Viridis at 9 stops (colour-blind safe and monotone in lightness).
const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 144, 141),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
];

fn viridis(t: f64) -> Rgba {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let pos = t * (VIRIDIS.len() - 1) as f64;
    let i = (pos.floor() as usize).min(VIRIDIS.len() - 2);
    let f = pos - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * f).round() as u8;
    Rgba(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2), 1.0)
}

fn draw_heatmap(ctx: &mut Ctx<'_>, panel: &Panel, h: &Heatmap, r: Rect) {
    let s = ctx.style;
    let values: Vec<f64> = h
        .cells
        .iter()
        .flatten()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let vrange = if lo.is_finite() && hi > lo {
        Range {
            lo,
            hi,
            scale: Scale::Linear,
        }
    } else {
        Range::covering(values.iter().copied(), Scale::Linear, 0.0)
    };
    // Colour bar on the right: bar, tick labels, rotated label.
    let cb_ticks = ticks(&vrange, 5);
    let cb_label_w = cb_ticks
        .iter()
        .filter_map(|t| t.label.as_deref())
        .map(|l| ctx.width(l, s.tick_pt))
        .fold(0.0, f64::max);
    let bar_w = s.font_pt * 0.9;
    let right = s.font_pt * 0.8 + bar_w + s.tick_pt * 0.6 + cb_label_w + s.font_pt * 1.6;
    let cats = category_layout(
        ctx,
        &h.x_labels,
        Rect {
            w: r.w - right,
            ..r
        },
    );
    // The y axis is categorical: its "tick labels" are the y levels.
    let y_widest = h
        .y_labels
        .iter()
        .map(|l| ctx.width(l, s.tick_pt))
        .fold(0.0, f64::max);
    let tick_len = s.tick_pt * 0.35;
    let label_room = if panel.y.label.is_empty() {
        0.0
    } else {
        s.font_pt * 1.4
    };
    let left = label_room + y_widest + tick_len + s.tick_pt * 0.4;
    let top = s.tick_pt * 0.6;
    let bottom = tick_len + cats.height + s.font_pt * 1.5;
    let p = Rect {
        x: r.x + left,
        y: r.y + top,
        w: (r.w - left - right).max(10.0),
        h: (r.h - top - bottom).max(10.0),
    };
    let nx = h.x_labels.len().max(1);
    let ny = h.y_labels.len().max(1);
    let (cw, ch) = (p.w / nx as f64, p.h / ny as f64);
    for (row, cells) in h.cells.iter().enumerate() {
        for (col, cell) in cells.iter().enumerate() {
            let rect = Rect {
                x: p.x + col as f64 * cw,
                y: p.y + p.h - (row + 1) as f64 * ch,
                w: cw,
                h: ch,
            };
            let (fill, text, dark) = match cell {
                Some(v) if v.is_finite() => {
                    let c = viridis(vrange.frac(*v));
                    let lum =
                        0.2126 * f64::from(c.0) + 0.7152 * f64::from(c.1) + 0.0722 * f64::from(c.2);
                    (c, format_value(*v), lum < 140.0)
                }
                _ => (Rgba(0xF2, 0xF2, 0xF2, 1.0), "–".to_string(), false),
            };
            ctx.rect(
                rect,
                Some(fill),
                Some(Stroke {
                    color: Rgba::WHITE,
                    width: 1.0,
                    dash: Vec::new(),
                }),
                "cell",
            );
            let size = s.tick_pt.min(ch * 0.6);
            if ctx.width(&text, size) < cw * 0.95 {
                ctx.items.push(Item::Text {
                    x: rect.x + cw / 2.0,
                    y: rect.y + ch / 2.0 + size * 0.35,
                    text,
                    size,
                    anchor: Anchor::Middle,
                    rotate: 0.0,
                    color: if dark { Rgba::WHITE } else { TEXT },
                    class: "annotation",
                });
            }
        }
    }
    category_labels(ctx, p, &cats);
    for (i, l) in h.y_labels.iter().enumerate() {
        let py = p.y + p.h - (i as f64 + 0.5) * ch;
        ctx.line(vec![(p.x - tick_len, py), (p.x, py)], AXIS, 0.6, "tick");
        ctx.text(
            p.x - tick_len - s.tick_pt * 0.3,
            py + s.tick_pt * 0.35,
            l,
            s.tick_pt,
            Anchor::End,
            "ytick",
        );
    }
    if !panel.y.label.is_empty() {
        let fitted = ctx.fit(&panel.y.label, s.font_pt, p.h);
        ctx.items.push(Item::Text {
            x: r.x + s.font_pt * 0.9,
            y: p.y + p.h / 2.0,
            text: fitted,
            size: s.font_pt,
            anchor: Anchor::Middle,
            rotate: -90.0,
            color: TEXT,
            class: "ylabel",
        });
    }
    if !panel.x.label.is_empty() {
        let fitted = ctx.fit(&panel.x.label, s.font_pt, p.w);
        ctx.text(
            p.x + p.w / 2.0,
            p.y + p.h + tick_len + cats.height + s.font_pt * 1.15,
            &fitted,
            s.font_pt,
            Anchor::Middle,
            "xlabel",
        );
    }
    // Colour bar.
    let bx = p.x + p.w + s.font_pt * 0.8;
    let steps = 48;
    for k in 0..steps {
        let t0 = k as f64 / steps as f64;
        let seg_h = p.h / steps as f64;
        ctx.rect(
            Rect {
                x: bx,
                y: p.y + p.h - (k + 1) as f64 * seg_h,
                w: bar_w,
                h: seg_h + 0.3,
            },
            Some(viridis(t0 + 0.5 / steps as f64)),
            None,
            "colorbar",
        );
    }
    for t in &cb_ticks {
        let py = p.y + p.h * (1.0 - vrange.frac(t.value));
        if let Some(l) = &t.label {
            ctx.line(
                vec![(bx + bar_w, py), (bx + bar_w + tick_len, py)],
                AXIS,
                0.6,
                "tick",
            );
            ctx.text(
                bx + bar_w + tick_len + s.tick_pt * 0.25,
                py + s.tick_pt * 0.35,
                l,
                s.tick_pt,
                Anchor::Start,
                "cbtick",
            );
        }
    }
    let fitted = ctx.fit(&h.value_label, s.font_pt, p.h);
    ctx.items.push(Item::Text {
        x: bx + bar_w + tick_len + s.tick_pt * 0.5 + cb_label_w + s.font_pt * 0.9,
        y: p.y + p.h / 2.0,
        text: fitted,
        size: s.font_pt,
        anchor: Anchor::Middle,
        rotate: -90.0,
        color: TEXT,
        class: "cblabel",
    });
}

/// Quartiles, whiskers (the furthest values within 1.5 IQR) and outliers of a sample.
struct BoxStats {
    q1: f64,
    median: f64,
    q3: f64,
    lo: f64,
    hi: f64,
    outliers: Vec<f64>,
}

fn box_stats(values: &[f64]) -> Option<BoxStats> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let q1 = percentile_sorted(&v, 0.25)?;
    let median = percentile_sorted(&v, 0.5)?;
    let q3 = percentile_sorted(&v, 0.75)?;
    let iqr = q3 - q1;
    let (fence_lo, fence_hi) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
    let inside: Vec<f64> = v
        .iter()
        .copied()
        .filter(|x| *x >= fence_lo && *x <= fence_hi)
        .collect();
    Some(BoxStats {
        q1,
        median,
        q3,
        lo: inside.first().copied().unwrap_or(q1),
        hi: inside.last().copied().unwrap_or(q3),
        outliers: v
            .iter()
            .copied()
            .filter(|x| *x < fence_lo || *x > fence_hi)
            .collect(),
    })
}

fn draw_boxes(ctx: &mut Ctx<'_>, panel: &Panel, groups: &[BoxGroup], r: Rect) {
    let s = ctx.style;
    let labels: Vec<String> = groups.iter().map(|g| g.label.clone()).collect();
    let cats = category_layout(ctx, &labels, r);
    let y = Range::covering(
        groups.iter().flat_map(|g| g.values.iter().copied()),
        Scale::Linear,
        0.06,
    );
    let (f, yt) = frame(ctx, r, &y, &panel.y.label, cats.height, 0.0);
    let p = f.plot;
    axes(
        ctx,
        &f,
        &y,
        &yt,
        &panel.x.label,
        &panel.y.label,
        cats.height,
    );
    category_labels(ctx, p, &cats);
    let slot = p.w / groups.len().max(1) as f64;
    let to_y = |v: f64| p.y + p.h * (1.0 - y.frac(v));
    for (i, g) in groups.iter().enumerate() {
        let Some(b) = box_stats(&g.values) else {
            continue;
        };
        let cx = p.x + slot * (i as f64 + 0.5);
        let bw = (slot * 0.5).min(s.font_pt * 6.0);
        let color = PALETTE[i % PALETTE.len()];
        let edge = Stroke {
            color: AXIS,
            width: 0.9,
            dash: Vec::new(),
        };
        ctx.line(
            vec![(cx, to_y(b.lo)), (cx, to_y(b.q1))],
            AXIS,
            0.9,
            "whisker",
        );
        ctx.line(
            vec![(cx, to_y(b.q3)), (cx, to_y(b.hi))],
            AXIS,
            0.9,
            "whisker",
        );
        for w in [b.lo, b.hi] {
            ctx.line(
                vec![(cx - bw / 4.0, to_y(w)), (cx + bw / 4.0, to_y(w))],
                AXIS,
                0.9,
                "whisker",
            );
        }
        ctx.rect(
            Rect {
                x: cx - bw / 2.0,
                y: to_y(b.q3),
                w: bw,
                h: (to_y(b.q1) - to_y(b.q3)).max(0.5),
            },
            Some(color.alpha(0.35)),
            Some(edge),
            "box",
        );
        ctx.line(
            vec![
                (cx - bw / 2.0, to_y(b.median)),
                (cx + bw / 2.0, to_y(b.median)),
            ],
            AXIS,
            1.6,
            "median",
        );
        // Few values: show each one (deterministic jitter), so n = 3 seeds reads as 3 dots.
        let finite = g.values.iter().filter(|v| v.is_finite()).count();
        let points: Vec<f64> = if finite <= 30 {
            g.values.iter().copied().filter(|v| v.is_finite()).collect()
        } else {
            b.outliers.clone()
        };
        for (k, v) in points.iter().enumerate() {
            let jitter = ((k % 5) as f64 - 2.0) * bw * 0.12;
            let (px, py) = (cx + jitter, to_y(*v));
            let rad = s.line_pt + 0.6;
            ctx.items.push(Item::Path {
                points: (0..12)
                    .map(|a| {
                        let t = f64::from(a) * std::f64::consts::PI / 6.0;
                        (px + rad * t.cos(), py + rad * t.sin())
                    })
                    .collect(),
                closed: true,
                stroke: Some(Stroke {
                    color: Rgba::WHITE,
                    width: 0.4,
                    dash: Vec::new(),
                }),
                fill: Some(AXIS.alpha(0.75)),
                class: "point",
            });
        }
    }
    frame_box(ctx, p);
}
