//! Number formatting for humans: a few significant digits, integers as integers.

/// Formats `v` with `sig` significant digits (at least 1): integers print whole, very large
/// or small magnitudes in scientific notation, trailing zeros are trimmed; NaN and infinities
/// print as `nan`, `inf`, `-inf`.
pub fn format_number_sig(v: f64, sig: usize) -> String {
    let sig = sig.max(1);
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v == v.trunc() && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    let mag = v.abs().log10().floor() as i32;
    if !(-4..6).contains(&mag) {
        let s = format!("{:.*e}", sig - 1, v);
        // Trim zeros in the mantissa: 1.500e-5 -> 1.5e-5.
        return match s.split_once('e') {
            Some((m, e)) if m.contains('.') => {
                format!("{}e{e}", m.trim_end_matches('0').trim_end_matches('.'))
            }
            _ => s,
        };
    }
    let decimals = (sig as i32 - 1 - mag).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// [`format_number_sig`] with 4 significant digits, the default for tables.
pub fn format_number(v: f64) -> String {
    format_number_sig(v, 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(0.0003), "0.0003");
        assert_eq!(format_number(0.52346), "0.5235");
        assert_eq!(format_number(1234.5678), "1235");
        assert_eq!(format_number(-2.5), "-2.5");
        assert_eq!(format_number(1.5e-5), "1.5e-5");
        assert_eq!(format_number(123456.7), "123457");
        assert_eq!(format_number(12345678.9), "1.235e7");
        assert_eq!(format_number(f64::NAN), "nan");
        assert_eq!(format_number(f64::NEG_INFINITY), "-inf");
    }
}
