//! Terminal sparklines: a series squeezed into a row of block characters.

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Renders `values` as at most `width` block characters. Points are averaged into buckets
/// when there are more values than columns; NaN buckets show as a space and infinite values
/// are left out of the scale (a diverged run shows its finite part).
pub fn sparkline(values: &[f64], width: usize) -> String {
    if values.is_empty() || width == 0 {
        return String::new();
    }
    let buckets = width.min(values.len());
    let mut means = Vec::with_capacity(buckets);
    for b in 0..buckets {
        let lo = b * values.len() / buckets;
        let hi = ((b + 1) * values.len() / buckets).max(lo + 1);
        let finite: Vec<f64> = values[lo..hi.min(values.len())]
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        means.push(if finite.is_empty() {
            f64::NAN
        } else {
            finite.iter().sum::<f64>() / finite.len() as f64
        });
    }
    let (min, max) = means
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    means
        .iter()
        .map(|&v| {
            if !v.is_finite() {
                ' '
            } else if max > min {
                let i = ((v - min) / (max - min) * 7.0).round() as usize;
                BARS[i.min(7)]
            } else {
                BARS[3]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_and_buckets() {
        assert_eq!(
            sparkline(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], 8),
            "▁▂▃▄▅▆▇█"
        );
        assert_eq!(sparkline(&[1.0, 1.0], 10), "▄▄");
        assert_eq!(sparkline(&[0.0, 0.0, 10.0, 10.0], 2), "▁█");
        assert_eq!(sparkline(&[1.0, f64::NAN, 2.0], 3), "▁ █");
        assert_eq!(sparkline(&[], 5), "");
    }
}
