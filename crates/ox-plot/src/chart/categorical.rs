//! Categorical x axes: their labels (rotated when they would collide), bars with
//! intervals ([`Content::Bars`]) and box plots ([`Content::Boxes`]).

use ox_analysis::describe::percentile_sorted;

use super::*;

/// Category labels under slots `0..n` of the plot area.
pub(super) fn category_labels(ctx: &mut Ctx<'_>, p: Rect, cats: &Categories) {
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
pub(super) fn category_layout(ctx: &Ctx<'_>, labels: &[String], r: Rect) -> Categories {
    // The y tick labels take some width; estimate the plot width without them first.
    let approx_w = r.w - ctx.style.font_pt * 5.0;
    categories(ctx, labels, approx_w / labels.len().max(1) as f64)
}

/// The frame, both axes and the category labels of a categorical panel; the plot area.
fn categorical_axes(
    ctx: &mut Ctx<'_>,
    panel: &Panel,
    y: &Range,
    cats: &Categories,
    r: Rect,
) -> Rect {
    let (f, yt) = frame(ctx, r, y, &panel.y.label, cats.height, 0.0);
    axes(ctx, &f, y, &yt, &panel.x.label, &panel.y.label, cats.height);
    category_labels(ctx, f.plot, cats);
    f.plot
}

pub(super) fn draw_bars(ctx: &mut Ctx<'_>, panel: &Panel, bars: &[Bar], r: Rect) {
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
    let p = categorical_axes(ctx, panel, &y, &cats, r);
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

pub(super) fn draw_boxes(ctx: &mut Ctx<'_>, panel: &Panel, groups: &[BoxGroup], r: Rect) {
    let s = ctx.style;
    let labels: Vec<String> = groups.iter().map(|g| g.label.clone()).collect();
    let cats = category_layout(ctx, &labels, r);
    let y = Range::covering(
        groups.iter().flat_map(|g| g.values.iter().copied()),
        Scale::Linear,
        0.06,
    );
    let p = categorical_axes(ctx, panel, &y, &cats, r);
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
