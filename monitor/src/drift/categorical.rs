//! The categorical p-value tests: Evidently's `chisquare` and `z` stattests.

use super::special::{chi2_sf, ndtr};

/// Evidently's `_chi_stat_test` (`chisquare_stattest.py`): `scipy.stats.chisquare(f_obs,
/// f_exp)` with `f_obs` the current counts and `f_exp` the reference counts scaled by
/// `n_current / n_reference`, over the union of categories; `k - 1` degrees of freedom.
/// A category absent from the reference gives an infinite statistic and p = 0; a single
/// category gives NaN (0 degrees of freedom), as in SciPy.
pub(crate) fn chi_square(reference: &[u64], current: &[u64]) -> f64 {
    let n_ref: u64 = reference.iter().sum();
    let n_cur: u64 = current.iter().sum();
    if n_ref == 0 || n_cur == 0 {
        return f64::NAN;
    }
    let k_norm = n_cur as f64 / n_ref as f64;
    let statistic: f64 = reference
        .iter()
        .zip(current)
        .map(|(&r, &c)| {
            let expected = r as f64 * k_norm;
            let diff = c as f64 - expected;
            diff * diff / expected
        })
        .sum();
    chi2_sf(statistic, reference.len() as f64 - 1.0)
}

/// Evidently's `_z_stat_test` (`z_stattest.py`): with the categories in ascending order, the
/// share of values other than the first one is compared between the two sides,
/// `z = (p1 - p2) / sqrt(P (1 - P) (1/n1 + 1/n2))` with the pooled `P`, and
/// `p = 2 * (1 - Φ(|z|))`. Both sides holding the same single value give p = 1.
pub(crate) fn z_test(reference: &[u64], current: &[u64]) -> f64 {
    let n1: u64 = reference.iter().sum();
    let n2: u64 = current.iter().sum();
    if n1 == 0 || n2 == 0 || reference.is_empty() {
        return f64::NAN;
    }
    let ref_present: Vec<usize> = (0..reference.len()).filter(|&i| reference[i] > 0).collect();
    let cur_present: Vec<usize> = (0..current.len()).filter(|&i| current[i] > 0).collect();
    if ref_present.len() == 1 && cur_present == ref_present {
        return 1.0;
    }
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let p1 = (n1 - reference[0]) as f64 / n1f;
    let p2 = (n2 - current.first().copied().unwrap_or(0)) as f64 / n2f;
    let pooled = (p1 * n1f + p2 * n2f) / (n1f + n2f);
    let z = (p1 - p2) / (pooled * (1.0 - pooled) * (1.0 / n1f + 1.0 / n2f)).sqrt();
    2.0 * (1.0 - ndtr(z.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(f64::MIN_POSITIVE)
    }

    /// Reference counts [10, 20, 30] (n = 60), current [30, 10, 20] (n = 60): k_norm = 1,
    /// statistic = 20²/10 + 10²/20 + 10²/30 = 40 + 5 + 3.333… = 48.333…, 2 degrees of
    /// freedom: p = exp(-48.333…/2) = 3.2e-11 (`chisquare([30,10,20],[10,20,30])`).
    #[test]
    fn chi_square_by_hand() {
        let p = chi_square(&[10, 20, 30], &[30, 10, 20]);
        assert!(
            close(p, (-48.333_333_333_333_336f64 / 2.0).exp(), 1e-12),
            "{p}"
        );
    }

    /// Reference [5, 5, 0], current [2, 2, 1]: a category only in the current data
    /// has f_exp = 0: infinite statistic, p = 0. One category: NaN (0 dof).
    #[test]
    fn chi_square_edges() {
        assert_eq!(chi_square(&[5, 5, 0], &[2, 2, 1]), 0.0);
        assert!(chi_square(&[4], &[7]).is_nan());
        // Same proportions: statistic 0 -> p = 1.
        assert_eq!(chi_square(&[1, 2, 3], &[2, 4, 6]), 1.0);
    }

    /// Reference 10 values, 3 of them not the first category (p1 = 0.3); current 20 values,
    /// 12 not the first (p2 = 0.6). Pooled P = (3 + 12) / 30 = 0.5;
    /// z = -0.3 / sqrt(0.25 * (0.1 + 0.05)) = -0.3 / 0.193649… = -1.549193…;
    /// p = 2 * (1 - Φ(1.549193)) = 0.121335… (scipy: 0.12133525035848214).
    #[test]
    fn z_test_by_hand() {
        let p = z_test(&[7, 3], &[8, 12]);
        assert!(close(p, 0.12133525035848214, 1e-12), "{p}");
    }

    #[test]
    fn z_test_edges() {
        // Same single value on both sides.
        assert_eq!(z_test(&[5, 0], &[9, 0]), 1.0);
        // Different single values: p1 = 0, p2 = 1, P = 9/14.
        let p = z_test(&[5, 0], &[0, 9]);
        assert!(close(p, 0.00018281063298175582, 1e-10), "{p}");
        assert!(z_test(&[], &[]).is_nan());
    }
}
