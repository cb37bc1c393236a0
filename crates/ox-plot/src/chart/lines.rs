//! Lines, bands, error bars and markers on numeric axes ([`Content::Lines`]).

use super::*;

pub(super) fn draw_lines(ctx: &mut Ctx<'_>, panel: &Panel, series: &[Series], r: Rect) {
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
    for (i, se) in series.iter().enumerate() {
        let lk = look(i, series, &s);
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
        let lk = look(i, series, &s);
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

pub(super) fn x_ticks(ctx: &mut Ctx<'_>, p: Rect, x: &Range, xt: &[Tick]) {
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
