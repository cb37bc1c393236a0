//! Heatmaps ([`Content::Heatmap`]): viridis cells annotated with their values, and a
//! colour bar.

use super::categorical::{category_labels, category_layout};
use super::*;

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

pub(super) fn draw_heatmap(ctx: &mut Ctx<'_>, panel: &Panel, h: &Heatmap, r: Rect) {
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
