//! The drawing: a list of paths and texts in points (1/72 in, y down), written as SVG here
//! and rasterized in [`crate::raster`], so both formats show the same geometry.

use std::fmt::Write;

use crate::font::SVG_FONT_FAMILY;

/// An sRGB colour with alpha.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rgba(pub u8, pub u8, pub u8, pub f64);

impl Rgba {
    pub const BLACK: Rgba = Rgba(0, 0, 0, 1.0);
    pub const WHITE: Rgba = Rgba(255, 255, 255, 1.0);

    /// The same colour with alpha `a`.
    pub fn alpha(self, a: f64) -> Rgba {
        Rgba(self.0, self.1, self.2, a)
    }

    fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// How a path's outline is drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct Stroke {
    pub color: Rgba,
    pub width: f64,
    /// Dash and gap lengths; empty for a solid line.
    pub dash: Vec<f64>,
}

/// Horizontal anchor of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

/// One thing drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A polyline (closed when `closed`); a point with a NaN coordinate breaks it in two.
    Path {
        points: Vec<(f64, f64)>,
        closed: bool,
        stroke: Option<Stroke>,
        fill: Option<Rgba>,
        /// A CSS class naming what this is (`series`, `band`, `bar`, `cell`, …), so tests
        /// and readers of the SVG can count them.
        class: &'static str,
    },
    /// Text whose baseline starts (or is centred / ends, per `anchor`) at `(x, y)`, rotated
    /// by `rotate` degrees (clockwise) around that point.
    Text {
        x: f64,
        y: f64,
        text: String,
        size: f64,
        anchor: Anchor,
        rotate: f64,
        color: Rgba,
        class: &'static str,
    },
    /// Until the matching [`Item::ClipEnd`], only the inside of this rectangle is drawn.
    ClipBegin {
        x: f64,
        y: f64,
        w: f64,
        h: f64,
    },
    ClipEnd,
}

/// A drawing of `width` × `height` points on a white background.
#[derive(Debug, Clone, PartialEq)]
pub struct Scene {
    pub width: f64,
    pub height: f64,
    pub items: Vec<Item>,
}

impl Scene {
    /// The drawing as a standalone SVG document whose size is in points.
    pub fn to_svg(&self) -> String {
        let mut s = String::with_capacity(4096 + self.items.len() * 64);
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}pt\" height=\"{h}pt\" viewBox=\"0 0 {w} {h}\" font-family=\"{SVG_FONT_FAMILY}\">\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n",
            w = num(self.width),
            h = num(self.height),
        );
        let mut clip_id = 0usize;
        for item in &self.items {
            match item {
                Item::Path {
                    points,
                    closed,
                    stroke,
                    fill,
                    class,
                } => {
                    let d = path_data(points, *closed);
                    if d.is_empty() {
                        continue;
                    }
                    let _ = write!(s, "<path class=\"{class}\" d=\"{d}\"");
                    match fill {
                        Some(f) => {
                            let _ = write!(s, " fill=\"{}\"", f.hex());
                            if f.3 < 1.0 {
                                let _ = write!(s, " fill-opacity=\"{}\"", num(f.3));
                            }
                        }
                        None => s.push_str(" fill=\"none\""),
                    }
                    if let Some(st) = stroke {
                        let _ = write!(
                            s,
                            " stroke=\"{}\" stroke-width=\"{}\" stroke-linejoin=\"round\" stroke-linecap=\"butt\"",
                            st.color.hex(),
                            num(st.width)
                        );
                        if st.color.3 < 1.0 {
                            let _ = write!(s, " stroke-opacity=\"{}\"", num(st.color.3));
                        }
                        if !st.dash.is_empty() {
                            let dash: Vec<String> = st.dash.iter().map(|d| num(*d)).collect();
                            let _ = write!(s, " stroke-dasharray=\"{}\"", dash.join(" "));
                        }
                    }
                    s.push_str("/>\n");
                }
                Item::Text {
                    x,
                    y,
                    text,
                    size,
                    anchor,
                    rotate,
                    color,
                    class,
                } => {
                    let anchor = match anchor {
                        Anchor::Start => "start",
                        Anchor::Middle => "middle",
                        Anchor::End => "end",
                    };
                    let _ = write!(
                        s,
                        "<text class=\"{class}\" x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"{anchor}\" fill=\"{}\"",
                        num(*x),
                        num(*y),
                        num(*size),
                        color.hex()
                    );
                    if *rotate != 0.0 {
                        let _ = write!(
                            s,
                            " transform=\"rotate({} {} {})\"",
                            num(*rotate),
                            num(*x),
                            num(*y)
                        );
                    }
                    let _ = writeln!(s, ">{}</text>", escape(text));
                }
                Item::ClipBegin { x, y, w, h } => {
                    clip_id += 1;
                    let _ = write!(
                        s,
                        "<clipPath id=\"clip{clip_id}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></clipPath>\n<g clip-path=\"url(#clip{clip_id})\">\n",
                        num(*x),
                        num(*y),
                        num(*w),
                        num(*h)
                    );
                }
                Item::ClipEnd => s.push_str("</g>\n"),
            }
        }
        s.push_str("</svg>\n");
        s
    }
}

/// SVG path data; NaN points start a new subpath.
fn path_data(points: &[(f64, f64)], closed: bool) -> String {
    let mut d = String::with_capacity(points.len() * 14);
    let mut pen_down = false;
    for &(x, y) in points {
        if !(x.is_finite() && y.is_finite()) {
            pen_down = false;
            continue;
        }
        d.push(if pen_down { 'L' } else { 'M' });
        d.push_str(&num(x));
        d.push(' ');
        d.push_str(&num(y));
        pen_down = true;
    }
    if closed && !d.is_empty() {
        d.push('Z');
    }
    d
}

/// A coordinate with at most two decimals and no trailing zeros.
fn num(v: f64) -> String {
    let r = (v * 100.0).round() / 100.0;
    let r = if r == 0.0 { 0.0 } else { r };
    let s = format!("{r:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_points_split_the_path() {
        let d = path_data(
            &[(0.0, 0.0), (1.0, 1.5), (2.0, f64::NAN), (3.0, 2.0)],
            false,
        );
        assert_eq!(d, "M0 0L1 1.5M3 2");
    }

    #[test]
    fn text_is_escaped_and_rotated() {
        let scene = Scene {
            width: 10.0,
            height: 10.0,
            items: vec![Item::Text {
                x: 1.0,
                y: 2.0,
                text: "a<b & c".into(),
                size: 8.0,
                anchor: Anchor::Middle,
                rotate: -90.0,
                color: Rgba::BLACK,
                class: "label",
            }],
        };
        let svg = scene.to_svg();
        assert!(svg.contains(">a&lt;b &amp; c</text>"), "{svg}");
        assert!(svg.contains("rotate(-90 1 2)"));
    }
}
