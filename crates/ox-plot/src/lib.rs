//! Figures as values: charts laid out and drawn to SVG or PNG bytes, with an embedded font.
//!
//! A [`Figure`] is a title, a [`Style`] and one or more [`Panel`]s stacked vertically; each
//! panel holds one [`Content`]: lines/points with bands and error bars ([`Series`]), bars
//! with intervals ([`Bar`]), a [`Heatmap`] or box plots ([`BoxGroup`]). [`Figure::to_svg`]
//! and [`Figure::to_png`] turn it into bytes; both draw the same [`scene::Scene`], so the
//! formats agree. No I/O: the caller reads runs and writes files.
//!
//! Defaults meant to be pasted into a paper: Okabe–Ito colours (colour-blind safe) with a
//! dash pattern per series from four series up (distinguishable in greyscale), round ticks
//! (1/2/5 × 10ᵏ, SI suffixes, decade ticks on log axes), the legend outside the data
//! (right of the plot on wide figures, below it on narrow ones), category labels rotated
//! when they would overlap, and [`Style::paper`] for a 3.3 in one-column figure with 8-pt
//! text. The SVG marks what it draws with classes (`series`, `band`, `marker`,
//! `errorbar`, `bar`, `cell`, `box`, `legend`, `xlabel`, `ylabel`, `title`) so tools and
//! tests can count them.

pub mod axis;
mod chart;
pub mod font;
pub mod raster;
pub mod scene;

pub use axis::Scale;

/// Errors of drawing a figure.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("the embedded font did not load: {0}")]
    Font(String),
    #[error("a {width}×{height} pixel image is not possible (each side 1 to {max} pixels)")]
    Size { width: f64, height: f64, max: u32 },
    #[error("PNG encoding failed: {0}")]
    Encode(String),
}

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Svg,
    Png,
}

impl Format {
    /// The format named by a file extension (`svg`, `png`, any case).
    pub fn from_extension(ext: &str) -> Option<Format> {
        match ext.to_ascii_lowercase().as_str() {
            "svg" => Some(Format::Svg),
            "png" => Some(Format::Png),
            _ => None,
        }
    }
}

/// Size and type sizes of a figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Style {
    pub width_in: f64,
    pub height_in: f64,
    /// Pixels per inch of the PNG.
    pub dpi: f64,
    /// Axis labels and legend, in points.
    pub font_pt: f64,
    /// Tick labels and data labels, in points.
    pub tick_pt: f64,
    /// Title, in points.
    pub title_pt: f64,
    /// Series lines, in points.
    pub line_pt: f64,
}

impl Style {
    /// A screen/slide figure: 6.4 × 4.4 in at 150 dpi (960 × 660 px), 10-pt labels.
    pub fn default_style() -> Style {
        Style {
            width_in: 6.4,
            height_in: 4.4,
            dpi: 150.0,
            font_pt: 10.0,
            tick_pt: 9.0,
            title_pt: 11.0,
            line_pt: 1.3,
        }
    }

    /// A one-column paper figure: 3.3 × 2.5 in at 300 dpi, 8-pt text throughout.
    pub fn paper() -> Style {
        Style {
            width_in: 3.3,
            height_in: 2.5,
            dpi: 300.0,
            font_pt: 8.0,
            tick_pt: 8.0,
            title_pt: 8.5,
            line_pt: 1.0,
        }
    }

    /// The PNG size in pixels.
    pub fn pixels(&self) -> (u32, u32) {
        (
            (self.width_in * self.dpi).round().max(0.0) as u32,
            (self.height_in * self.dpi).round().max(0.0) as u32,
        )
    }
}

impl Default for Style {
    fn default() -> Self {
        Style::default_style()
    }
}

/// A numeric axis: its label and scale.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Axis {
    pub label: String,
    pub scale: Scale,
}

impl Axis {
    /// A linear axis labelled `label`.
    pub fn linear(label: impl Into<String>) -> Axis {
        Axis {
            label: label.into(),
            scale: Scale::Linear,
        }
    }
}

/// One line and/or set of points, with an optional shaded band and error bars.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// The legend entry; empty for none.
    pub label: String,
    /// `(x, y)` in drawing order; a non-finite `y` breaks the line.
    pub points: Vec<(f64, f64)>,
    /// `(x, lo, hi)`: a shaded band (a confidence interval); NaN bounds break it.
    pub band: Vec<(f64, f64, f64)>,
    /// `(x, lo, hi)`: vertical error bars.
    pub errors: Vec<(f64, f64, f64)>,
    /// Join the points with a line.
    pub line: bool,
    /// Draw a marker at each point.
    pub markers: bool,
    /// Text beside each point (same order as `points`; empty strings and a shorter list
    /// leave points unlabelled), e.g. the configurations on a Pareto front.
    pub point_labels: Vec<String>,
}

/// One bar: a value with its interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub interval: Option<(f64, f64)>,
    /// Marked as the best.
    pub best: bool,
}

/// A grid of values over two categorical axes, each cell annotated with its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    pub x_labels: Vec<String>,
    pub y_labels: Vec<String>,
    /// `cells[row][column]`: row `i` is `y_labels[i]` (drawn bottom-up), column `j` is
    /// `x_labels[j]`; `None` is an empty cell.
    pub cells: Vec<Vec<Option<f64>>>,
    /// What the colour means (the metric).
    pub value_label: String,
}

/// The distribution of one group's values, drawn as a box plot.
#[derive(Debug, Clone, PartialEq)]
pub struct BoxGroup {
    pub label: String,
    pub values: Vec<f64>,
}

/// What a panel shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    Lines(Vec<Series>),
    Bars(Vec<Bar>),
    Heatmap(Heatmap),
    Boxes(Vec<BoxGroup>),
}

/// One plot area with its axes. For bars, boxes and heatmaps the x axis is categorical and
/// only its label is used (a heatmap's y axis too).
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub x: Axis,
    pub y: Axis,
    pub content: Content,
}

/// A whole figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub title: Option<String>,
    pub panels: Vec<Panel>,
    pub style: Style,
}

/// Most legend entries shown; a figure with more series (e.g. 100 overlaid runs) draws
/// them as thin uniform lines without a legend.
pub const MAX_LEGEND: usize = 12;

impl Figure {
    /// The figure laid out as a drawing in points.
    pub fn scene(&self) -> Result<scene::Scene, PlotError> {
        let font = font::Font::embedded()?;
        Ok(chart::draw(self, &font))
    }

    /// The figure as an SVG document.
    pub fn to_svg(&self) -> Result<Vec<u8>, PlotError> {
        Ok(self.scene()?.to_svg().into_bytes())
    }

    /// The figure as a PNG of [`Style::pixels`].
    pub fn to_png(&self) -> Result<Vec<u8>, PlotError> {
        raster::to_png(&self.scene()?, self.style.dpi)
    }

    /// The figure in `format`.
    pub fn render(&self, format: Format) -> Result<Vec<u8>, PlotError> {
        match format {
            Format::Svg => self.to_svg(),
            Format::Png => self.to_png(),
        }
    }
}
