//! A [`Scene`] rasterized with tiny-skia at a given DPI and encoded as PNG; text is drawn
//! from the embedded font's glyph outlines.

use tiny_skia::{FillRule, LineCap, LineJoin, Mask, Paint, PathBuilder, Pixmap, Transform};

use crate::PlotError;
use crate::font::{Font, PathSink};
use crate::scene::{Anchor, Item, Rgba, Scene};

/// Largest PNG side in pixels (a typo in `--dpi` must not allocate gigabytes).
pub const MAX_PIXELS_PER_SIDE: u32 = 20_000;

/// The scene as PNG bytes at `dpi` (a scene point is 1/72 inch).
pub fn to_png(scene: &Scene, dpi: f64) -> Result<Vec<u8>, PlotError> {
    let scale = dpi / 72.0;
    let w = (scene.width * scale).round();
    let h = (scene.height * scale).round();
    if !(w >= 1.0
        && h >= 1.0
        && w <= f64::from(MAX_PIXELS_PER_SIDE)
        && h <= f64::from(MAX_PIXELS_PER_SIDE))
    {
        return Err(PlotError::Size {
            width: w,
            height: h,
            max: MAX_PIXELS_PER_SIDE,
        });
    }
    let (w, h) = (w as u32, h as u32);
    let mut pixmap = Pixmap::new(w, h).ok_or(PlotError::Size {
        width: f64::from(w),
        height: f64::from(h),
        max: MAX_PIXELS_PER_SIDE,
    })?;
    pixmap.fill(tiny_skia::Color::WHITE);
    let font = Font::embedded()?;
    let base = Transform::from_scale(scale as f32, scale as f32);
    let mut clip: Option<Mask> = None;
    for item in &scene.items {
        match item {
            Item::Path {
                points,
                closed,
                stroke,
                fill,
                ..
            } => {
                let Some(path) = polyline(points, *closed) else {
                    continue;
                };
                if let Some(f) = fill {
                    pixmap.fill_path(&path, &paint(*f), FillRule::Winding, base, clip.as_ref());
                }
                if let Some(st) = stroke {
                    let mut s = tiny_skia::Stroke {
                        width: st.width as f32,
                        line_cap: LineCap::Butt,
                        line_join: LineJoin::Round,
                        ..tiny_skia::Stroke::default()
                    };
                    if !st.dash.is_empty() {
                        s.dash = tiny_skia::StrokeDash::new(
                            st.dash.iter().map(|d| *d as f32).collect(),
                            0.0,
                        );
                    }
                    pixmap.stroke_path(&path, &paint(st.color), &s, base, clip.as_ref());
                }
            }
            Item::Text {
                x,
                y,
                text,
                size,
                anchor,
                rotate,
                color,
                ..
            } => {
                let width = font.width(text, *size);
                let dx = match anchor {
                    Anchor::Start => 0.0,
                    Anchor::Middle => -width / 2.0,
                    Anchor::End => -width,
                };
                let mut sink = SkiaSink(PathBuilder::new());
                font.outline(text, *size, &mut sink);
                let Some(path) = sink.0.finish() else {
                    continue;
                };
                let t = base
                    .pre_translate(*x as f32, *y as f32)
                    .pre_rotate(*rotate as f32)
                    .pre_translate(dx as f32, 0.0);
                pixmap.fill_path(&path, &paint(*color), FillRule::Winding, t, clip.as_ref());
            }
            Item::ClipBegin { x, y, w: cw, h: ch } => {
                let rect = tiny_skia::Rect::from_xywh(*x as f32, *y as f32, *cw as f32, *ch as f32);
                clip = rect.and_then(|r| {
                    let mut mask = Mask::new(w, h)?;
                    mask.fill_path(&PathBuilder::from_rect(r), FillRule::Winding, true, base);
                    Some(mask)
                });
            }
            Item::ClipEnd => clip = None,
        }
    }
    pixmap
        .encode_png()
        .map_err(|e| PlotError::Encode(e.to_string()))
}

fn paint(c: Rgba) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color_rgba8(c.0, c.1, c.2, (c.3.clamp(0.0, 1.0) * 255.0).round() as u8);
    p.anti_alias = true;
    p
}

/// The polyline as a path (NaN points start a new subpath); `None` when nothing is left.
fn polyline(points: &[(f64, f64)], closed: bool) -> Option<tiny_skia::Path> {
    let mut pb = PathBuilder::with_capacity(points.len() + 1, points.len() + 1);
    let mut pen_down = false;
    for &(x, y) in points {
        if !(x.is_finite() && y.is_finite()) {
            pen_down = false;
            continue;
        }
        if pen_down {
            pb.line_to(x as f32, y as f32);
        } else {
            pb.move_to(x as f32, y as f32);
            pen_down = true;
        }
    }
    if closed {
        pb.close();
    }
    pb.finish()
}

struct SkiaSink(PathBuilder);

impl PathSink for SkiaSink {
    fn move_to(&mut self, x: f64, y: f64) {
        self.0.move_to(x as f32, y as f32);
    }
    fn line_to(&mut self, x: f64, y: f64) {
        self.0.line_to(x as f32, y as f32);
    }
    fn quad_to(&mut self, x1: f64, y1: f64, x: f64, y: f64) {
        self.0.quad_to(x1 as f32, y1 as f32, x as f32, y as f32);
    }
    fn cubic_to(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, x: f64, y: f64) {
        self.0.cubic_to(
            x1 as f32, y1 as f32, x2 as f32, y2 as f32, x as f32, y as f32,
        );
    }
    fn close(&mut self) {
        self.0.close();
    }
}
