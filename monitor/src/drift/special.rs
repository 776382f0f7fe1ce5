//! The special functions behind the p-values, written as SciPy evaluates them.

use libm::{erf, erfc};
use statrs::function::gamma::checked_gamma_ur;

/// The standard normal CDF, as `scipy.special.ndtr` (xsf/cephes `ndtr`) computes it, so that
/// `1 - ndtr(z)` rounds the way Evidently's `2 * (1 - norm.cdf(|z|))` does. `erf`/`erfc` come
/// from `libm` (musl, within 1 ulp): statrs 0.19's are off by about 1e-10 relative.
pub(crate) fn ndtr(a: f64) -> f64 {
    if a.is_nan() {
        return f64::NAN;
    }
    let x = a * std::f64::consts::FRAC_1_SQRT_2;
    let z = x.abs();
    if z < 1.0 {
        0.5 + 0.5 * erf(x)
    } else {
        let y = 0.5 * erfc(z);
        if x > 0.0 { 1.0 - y } else { y }
    }
}

/// The chi-squared survival function `P(X >= x)` with `dof` degrees of freedom
/// (`scipy.special.chdtrc`): the regularised upper incomplete gamma `Q(dof/2, x/2)`.
/// `x = 0` gives 1, `x = inf` gives 0, `dof <= 0` or NaN gives NaN (as SciPy does).
pub(crate) fn chi2_sf(x: f64, dof: f64) -> f64 {
    if x.is_nan() || dof.is_nan() || dof <= 0.0 {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    if x == f64::INFINITY {
        return 0.0;
    }
    checked_gamma_ur(dof / 2.0, x / 2.0).unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(f64::MIN_POSITIVE)
    }

    /// Values from `scipy.special.ndtr` (SciPy 1.17.1).
    #[test]
    fn ndtr_matches_scipy() {
        assert_eq!(ndtr(0.0), 0.5);
        assert!(close(ndtr(1.959963984540054), 0.975, 1e-14));
        assert!(close(ndtr(-3.0), 0.0013498980316300933, 1e-13));
        assert!(close(1.0 - ndtr(5.0), 2.866515719235352e-07, 1e-8));
        assert!(ndtr(f64::NAN).is_nan());
    }

    /// Values from `scipy.stats.chi2.sf` (SciPy 1.17.1).
    #[test]
    fn chi2_sf_matches_scipy() {
        // chi2.sf(6.0, 2) = exp(-3)
        assert!(close(chi2_sf(6.0, 2.0), (-3.0f64).exp(), 1e-13));
        assert!(close(chi2_sf(3.84, 1.0), 0.05004352124870519, 1e-12));
        assert!(close(chi2_sf(100.0, 4.0), 9.836624224615988e-21, 1e-10));
        assert_eq!(chi2_sf(0.0, 3.0), 1.0);
        assert_eq!(chi2_sf(f64::INFINITY, 3.0), 0.0);
        assert!(chi2_sf(1.0, 0.0).is_nan());
    }
}
