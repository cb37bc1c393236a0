//! Axis scales and ticks: round linear ticks (1, 2, 5 × 10ᵏ) with SI labels for large
//! numbers, and decade ticks (`10⁻³`) with unlabelled minor ticks for log axes.

/// How values map onto an axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scale {
    #[default]
    Linear,
    Log,
}

/// A numeric axis range with its scale; maps values to `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub lo: f64,
    pub hi: f64,
    pub scale: Scale,
}

impl Range {
    /// The range covering `values` (finite ones; positive ones on a log scale), padded by
    /// `pad` of its span on each side. A single value gets a unit-wide range around it.
    pub fn covering(values: impl IntoIterator<Item = f64>, scale: Scale, pad: f64) -> Range {
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for v in values {
            let v = match scale {
                Scale::Linear if v.is_finite() => v,
                Scale::Log if v.is_finite() && v > 0.0 => v.log10(),
                _ => continue,
            };
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if lo > hi {
            (lo, hi) = (0.0, 1.0);
        } else if lo == hi {
            let half = if lo == 0.0 || scale == Scale::Log {
                0.5
            } else {
                lo.abs() * 0.05
            };
            (lo, hi) = (lo - half, hi + half);
        } else {
            let span = hi - lo;
            (lo, hi) = (lo - span * pad, hi + span * pad);
        }
        match scale {
            Scale::Linear => Range { lo, hi, scale },
            Scale::Log => Range {
                lo: 10f64.powf(lo),
                hi: 10f64.powf(hi),
                scale,
            },
        }
    }

    /// Widens the range to include `v`.
    pub fn include(&mut self, v: f64) {
        if v.is_finite() && (self.scale == Scale::Linear || v > 0.0) {
            self.lo = self.lo.min(v);
            self.hi = self.hi.max(v);
        }
    }

    /// Where `v` falls, 0 at `lo` and 1 at `hi`; NaN for a value the scale cannot show.
    pub fn frac(&self, v: f64) -> f64 {
        match self.scale {
            Scale::Linear => (v - self.lo) / (self.hi - self.lo),
            Scale::Log => {
                if v > 0.0 {
                    (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
                } else {
                    f64::NAN
                }
            }
        }
    }
}

/// One tick: its value, and its label (`None` for a minor tick).
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    pub value: f64,
    pub label: Option<String>,
}

/// Ticks inside `range`, about `target` labelled ones.
pub fn ticks(range: &Range, target: usize) -> Vec<Tick> {
    match range.scale {
        Scale::Linear => linear_ticks(range.lo, range.hi, target),
        Scale::Log => log_ticks(range.lo, range.hi, target),
    }
}

/// The round step (1, 2 or 5 × 10ᵏ) giving about `target` intervals over `span`.
pub fn nice_step(span: f64, target: usize) -> f64 {
    let raw = span / target.max(1) as f64;
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let frac = raw / mag;
    let nice = if frac < 1.5 {
        1.0
    } else if frac < 3.0 {
        2.0
    } else if frac < 7.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

fn linear_ticks(lo: f64, hi: f64, target: usize) -> Vec<Tick> {
    let step = nice_step(hi - lo, target);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    if last < first || last - first > 1000 {
        return Vec::new();
    }
    (first..=last)
        .map(|k| {
            let v = k as f64 * step;
            Tick {
                value: v,
                label: Some(format_tick(v, step)),
            }
        })
        .collect()
}

fn log_ticks(lo: f64, hi: f64, target: usize) -> Vec<Tick> {
    if !(lo > 0.0 && hi > lo) {
        return Vec::new();
    }
    let d0 = lo.log10().floor() as i32;
    let d1 = hi.log10().ceil() as i32;
    let decades = (d1 - d0).max(1) as usize;
    // Label every k-th decade so at most `target` labels show.
    let every = decades.div_ceil(target.max(1)).max(1) as i32;
    let mut out = Vec::new();
    let labelled_decades = (d0..=d1)
        .filter(|d| {
            let v = 10f64.powi(*d);
            v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9)
        })
        .count();
    for d in d0..=d1 {
        for m in 1..10 {
            let v = f64::from(m) * 10f64.powi(d);
            if v < lo * (1.0 - 1e-9) || v > hi * (1.0 + 1e-9) {
                continue;
            }
            let label = if m == 1 && d.rem_euclid(every) == 0 {
                Some(decade_label(d))
            } else if labelled_decades < 2 && (m == 2 || m == 5) && decades <= 2 {
                // Less than two decades in view: label 2× and 5× too, or there would be
                // one label or none.
                Some(format_tick(v, 10f64.powi(d)))
            } else {
                None
            };
            out.push(Tick { value: v, label });
        }
    }
    out
}

/// `10ᵈ` with superscript digits (1 and 10 written plainly).
fn decade_label(d: i32) -> String {
    match d {
        0 => "1".into(),
        1 => "10".into(),
        _ => {
            let sup: String = d
                .to_string()
                .chars()
                .map(|c| match c {
                    '-' => '⁻',
                    '0' => '⁰',
                    '1' => '¹',
                    '2' => '²',
                    '3' => '³',
                    '4' => '⁴',
                    '5' => '⁵',
                    '6' => '⁶',
                    '7' => '⁷',
                    '8' => '⁸',
                    _ => '⁹',
                })
                .collect();
            format!("10{sup}")
        }
    }
}

/// A tick label for `v` on an axis whose ticks are `step` apart: SI suffixes from 10 000
/// (`20k`, `1.5M`), scientific for very small steps (`2e-5`), else just enough decimals.
pub fn format_tick(v: f64, step: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if a >= 1e4 {
        for (div, suffix) in [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")] {
            if a >= div {
                let decimals = decimals_for(step / div);
                return format!("{:.*}{suffix}", decimals, v / div);
            }
        }
    }
    let decimals = decimals_for(step);
    // Exponents only for tiny values (1e-5) or steps too fine for 6 decimals; a fine step
    // on ordinary values (0.01975) stays readable as a decimal.
    if (a < 1e-3 && decimals > 4) || decimals > 6 {
        let exp = a.log10().floor() as i32;
        let mantissa = v / 10f64.powi(exp);
        let m = format!(
            "{:.*}",
            decimals_for(step / 10f64.powi(exp)).min(3),
            mantissa
        );
        return format!("{m}e{exp}");
    }
    format!("{v:.decimals$}")
}

fn decimals_for(step: f64) -> usize {
    if !(step.is_finite() && step > 0.0) {
        return 0;
    }
    // A step like 0.25 needs two decimals; 0.2 one; 5 none.
    let mut d = 0usize;
    let mut s = step;
    while d < 12 && (s - s.round()).abs() > 1e-6 * s.max(1.0) {
        s *= 10.0;
        d += 1;
    }
    d
}

/// A value for a data label (bar tops, heatmap cells): 3 significant digits.
pub fn format_value(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        return format!("{v:.2e}");
    }
    let digits = if a == 0.0 {
        0
    } else {
        (2 - a.log10().floor() as i32).max(0) as usize
    };
    format!("{v:.digits$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(t: &[Tick]) -> Vec<String> {
        t.iter().filter_map(|t| t.label.clone()).collect()
    }

    #[test]
    fn linear_ticks_are_round() {
        let r = Range {
            lo: -0.03,
            hi: 1.07,
            scale: Scale::Linear,
        };
        assert_eq!(
            labels(&ticks(&r, 5)),
            ["0", "0.2", "0.4", "0.6", "0.8", "1.0"]
        );
        let steps = Range {
            lo: 0.0,
            hi: 100_000.0,
            scale: Scale::Linear,
        };
        assert_eq!(
            labels(&ticks(&steps, 5)),
            ["0", "20k", "40k", "60k", "80k", "100k"]
        );
    }

    #[test]
    fn small_numbers_use_exponents() {
        assert_eq!(format_tick(2e-5, 1e-5), "2e-5");
        assert_eq!(format_tick(0.0003, 0.0001), "0.0003");
        assert_eq!(format_tick(1_500_000.0, 500_000.0), "1.5M");
    }

    #[test]
    fn log_ticks_label_decades() {
        let r = Range {
            lo: 1e-5,
            hi: 1e-2,
            scale: Scale::Log,
        };
        assert_eq!(labels(&ticks(&r, 6)), ["10⁻⁵", "10⁻⁴", "10⁻³", "10⁻²"]);
        let narrow = Range {
            lo: 1.5e-4,
            hi: 8e-4,
            scale: Scale::Log,
        };
        assert_eq!(labels(&ticks(&narrow, 6)), ["0.0002", "0.0005"]);
    }

    #[test]
    fn covering_pads_and_handles_constants() {
        let r = Range::covering([1.0, 3.0], Scale::Linear, 0.05);
        assert!((r.lo - 0.9).abs() < 1e-12 && (r.hi - 3.1).abs() < 1e-12);
        let c = Range::covering([2.0, f64::NAN], Scale::Linear, 0.05);
        assert!(c.lo < 2.0 && c.hi > 2.0);
        let l = Range::covering([1e-4, 1e-2, -1.0], Scale::Log, 0.0);
        assert!((l.lo - 1e-4).abs() < 1e-12 && (l.frac(1e-3) - 0.5).abs() < 1e-9);
    }

    #[test]
    fn values_get_three_significant_digits() {
        assert_eq!(format_value(0.91234), "0.912");
        assert_eq!(format_value(12.345), "12.3");
        assert_eq!(format_value(1234.4), "1234");
        assert_eq!(format_value(0.0), "0");
    }
}
