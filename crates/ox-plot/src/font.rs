//! The embedded font (DejaVu Sans, `fonts/`): text widths for layout and glyph outlines for
//! the PNG rasterizer, so a figure looks the same on a machine with no fonts installed.

use ttf_parser::{Face, GlyphId, OutlineBuilder};

use crate::PlotError;

/// DejaVu Sans 2.37 (see `fonts/README.md`).
pub static DEJAVU_SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

/// The family name written into SVG `font-family` (with fallbacks for viewers without it).
pub const SVG_FONT_FAMILY: &str = "'DejaVu Sans', Verdana, Arial, sans-serif";

/// The parsed embedded font.
pub struct Font<'a> {
    face: Face<'a>,
    units_per_em: f64,
    fallback: Option<GlyphId>,
}

impl Font<'static> {
    /// Parses the embedded font.
    pub fn embedded() -> Result<Font<'static>, PlotError> {
        let face = Face::parse(DEJAVU_SANS, 0).map_err(|e| PlotError::Font(e.to_string()))?;
        let units_per_em = f64::from(face.units_per_em().max(1));
        let fallback = face.glyph_index('?');
        Ok(Font {
            face,
            units_per_em,
            fallback,
        })
    }
}

impl Font<'_> {
    fn glyph(&self, c: char) -> Option<GlyphId> {
        self.face.glyph_index(c).or(self.fallback)
    }

    /// The advance width of `text` at `size` (same units as `size`), without kerning.
    pub fn width(&self, text: &str, size: f64) -> f64 {
        let units: f64 = text
            .chars()
            .filter_map(|c| self.glyph(c))
            .map(|g| f64::from(self.face.glyph_hor_advance(g).unwrap_or(0)))
            .sum();
        units * size / self.units_per_em
    }

    /// Calls `sink` with the outline of every glyph of `text` at `size`, starting at the
    /// origin with y pointing down (the baseline at y = 0).
    pub fn outline(&self, text: &str, size: f64, sink: &mut dyn PathSink) {
        let scale = size / self.units_per_em;
        let mut pen = 0.0;
        for c in text.chars() {
            let Some(g) = self.glyph(c) else { continue };
            let mut b = Transformed {
                sink,
                scale,
                dx: pen,
            };
            self.face.outline_glyph(g, &mut b);
            pen += f64::from(self.face.glyph_hor_advance(g).unwrap_or(0)) * scale;
        }
    }
}

/// Receives glyph outlines (absolute coordinates, y down).
pub trait PathSink {
    fn move_to(&mut self, x: f64, y: f64);
    fn line_to(&mut self, x: f64, y: f64);
    fn quad_to(&mut self, x1: f64, y1: f64, x: f64, y: f64);
    fn cubic_to(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, x: f64, y: f64);
    fn close(&mut self);
}

struct Transformed<'s> {
    sink: &'s mut dyn PathSink,
    scale: f64,
    dx: f64,
}

impl Transformed<'_> {
    fn p(&self, x: f32, y: f32) -> (f64, f64) {
        (
            self.dx + f64::from(x) * self.scale,
            -f64::from(y) * self.scale,
        )
    }
}

impl OutlineBuilder for Transformed<'_> {
    fn move_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.p(x, y);
        self.sink.move_to(x, y);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.p(x, y);
        self.sink.line_to(x, y);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (x1, y1) = self.p(x1, y1);
        let (x, y) = self.p(x, y);
        self.sink.quad_to(x1, y1, x, y);
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let (x1, y1) = self.p(x1, y1);
        let (x2, y2) = self.p(x2, y2);
        let (x, y) = self.p(x, y);
        self.sink.cubic_to(x1, y1, x2, y2, x, y);
    }
    fn close(&mut self) {
        self.sink.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_scale_with_size_and_length() {
        let f = Font::embedded().unwrap();
        let a = f.width("loss", 10.0);
        assert!(a > 10.0 && a < 30.0, "{a}");
        assert!((f.width("loss", 20.0) - 2.0 * a).abs() < 1e-9);
        assert!(f.width("loss/val", 10.0) > a);
        // Superscripts and the ellipsis used by tick labels exist in the font.
        assert!(f.face.glyph_index('⁻').is_some() && f.face.glyph_index('…').is_some());
    }
}
