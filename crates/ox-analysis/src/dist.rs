//! Distribution functions used by the tests, on top of `statrs`' special functions.
//!
//! - Student's t, two-sided tail: `P(|T| ≥ |t|) = I_{ν/(ν+t²)}(ν/2, 1/2)` (regularized
//!   incomplete beta), which keeps full relative precision for tiny p-values (SciPy's
//!   `2 * t.sf(|t|, ν)`).
//! - Student's t quantile: `statrs`' inverse (via the inverse incomplete beta) refined by
//!   Newton steps on the upper tail `sf(t) = I_{ν/(ν+t²)}(ν/2, 1/2) / 2`, so the interval
//!   half-width matches `scipy.stats.t.ppf` to ~1e-14 instead of the inverse's ~1e-9.
//! - Standard normal upper tail: `Φ̄(z) = erfc(z/√2) / 2` (SciPy's `special.ndtr(-z)`).
//! - Binomial lower tail with `p = 1/2`: `P(X ≤ k) = I_{1/2}(n − k, k + 1)`.
//! - F distribution upper tail: `P(F > f) = I_{d₂/(d₂ + d₁f)}(d₂/2, d₁/2)`
//!   (`scipy.stats.f.sf`).

use statrs::distribution::{ContinuousCDF, StudentsT};
use statrs::function::beta::beta_reg;
use statrs::function::erf::erfc;
use statrs::function::gamma::ln_gamma;

/// Two-sided p-value of a t statistic with `df` degrees of freedom, `P(|T| ≥ |t|)`.
/// NaN in gives NaN; an infinite `t` gives 0.
pub fn t_two_sided_p(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if t.is_infinite() {
        return 0.0;
    }
    if t == 0.0 {
        return 1.0;
    }
    let x = df / (df + t * t);
    beta_reg(df / 2.0, 0.5, x).clamp(0.0, 1.0)
}

/// Upper tail `P(T > t)` for `t ≥ 0`.
fn t_sf_nonneg(t: f64, df: f64) -> f64 {
    0.5 * t_two_sided_p(t, df)
}

/// Density of Student's t.
fn t_pdf(t: f64, df: f64) -> f64 {
    let ln = ln_gamma((df + 1.0) / 2.0)
        - ln_gamma(df / 2.0)
        - 0.5 * (df * std::f64::consts::PI).ln()
        - (df + 1.0) / 2.0 * (1.0 + t * t / df).ln();
    ln.exp()
}

/// The `p` quantile of Student's t for `p` in (0.5, 1): `scipy.stats.t.ppf(p, df)`.
/// Returns NaN outside that range or for a non-positive `df`.
pub fn t_quantile_upper(p: f64, df: f64) -> f64 {
    if !(p > 0.5 && p < 1.0) || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    let Ok(dist) = StudentsT::new(0.0, 1.0, df) else {
        return f64::NAN;
    };
    let tail = 1.0 - p;
    let mut t = dist.inverse_cdf(p);
    if !t.is_finite() || t <= 0.0 {
        t = 1.0;
    }
    // Newton on sf(t) - tail = 0; sf' = -pdf. The start is already close, so this converges
    // in a few steps; the loop is bounded in case of a pathological df.
    for _ in 0..50 {
        let f = t_sf_nonneg(t, df) - tail;
        let d = t_pdf(t, df);
        if d <= 0.0 || !d.is_finite() {
            break;
        }
        let mut next = t + f / d;
        if next <= 0.0 {
            next = t / 2.0;
        }
        let converged = (next - t).abs() <= 1e-15 * t.abs();
        t = next;
        if converged {
            break;
        }
    }
    t
}

/// Standard normal upper tail `P(Z > z)`.
pub fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// `P(X ≤ k)` for `X ~ Binomial(n, 1/2)`.
pub fn binomial_half_cdf(k: u64, n: u64) -> f64 {
    if k >= n {
        return 1.0;
    }
    beta_reg((n - k) as f64, k as f64 + 1.0, 0.5)
}

/// Upper tail `P(F > f)` of the F distribution with `(d1, d2)` degrees of freedom; NaN for
/// bad input, 1 for `f ≤ 0`, 0 for `f = ∞`.
pub fn f_sf(f: f64, d1: f64, d2: f64) -> f64 {
    if f.is_nan() || !(d1 > 0.0 && d2 > 0.0) {
        return f64::NAN;
    }
    if f <= 0.0 {
        return 1.0;
    }
    if f.is_infinite() {
        return 0.0;
    }
    beta_reg(d2 / 2.0, d1 / 2.0, d2 / (d2 + d1 * f)).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantile_matches_known_values() {
        // scipy.stats.t.ppf(0.975, df)
        let cases = [
            (1.0, 12.706204736174698),
            (2.0, 4.302652729749464),
            (4.0, 2.7764451051977934),
            (30.0, 2.0422724563012373),
        ];
        for (df, want) in cases {
            let got = t_quantile_upper(0.975, df);
            assert!(
                ((got - want) / want).abs() < 1e-12,
                "df {df}: {got} vs {want}"
            );
        }
        assert!(t_quantile_upper(0.4, 3.0).is_nan());
    }

    #[test]
    fn tails() {
        assert_eq!(t_two_sided_p(0.0, 3.0), 1.0);
        assert_eq!(t_two_sided_p(f64::INFINITY, 3.0), 0.0);
        assert!((normal_sf(0.0) - 0.5).abs() < 1e-16);
        assert!(
            (binomial_half_cdf(0, 1) - 0.5).abs() < 1e-14,
            "{}",
            binomial_half_cdf(0, 1)
        );
        assert_eq!(binomial_half_cdf(3, 3), 1.0);
    }
}
