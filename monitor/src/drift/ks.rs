//! The two-sample Kolmogorov–Smirnov test as `scipy.stats.ks_2samp(a, b)` computes it
//! (two-sided, `method="auto"`; SciPy 1.17 `_stats_py.py` and `_stats_pythran.py`).

use super::kolmogorov::kstwo_sf;

/// `method="auto"` is exact while both samples have at most this many values.
const MAX_AUTO_N: usize = 10_000;

/// The statistic and p-value of one test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct KsResult {
    /// `D = sup |F_a - F_b|` (for the exact path, rounded to a multiple of `1 / lcm(n, m)`).
    pub statistic: f64,
    /// The two-sided p-value, clipped to `[0, 1]`.
    pub p_value: f64,
}

/// `ks_2samp(a, b)` on two ascending, finite, non-empty samples. `None` when a sample is
/// empty (SciPy raises).
pub(crate) fn ks_2samp(a: &[f64], b: &[f64]) -> Option<KsResult> {
    let (n1, n2) = (a.len(), b.len());
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let d = ks_statistic(a, b);
    let g = gcd(n1, n2);
    let mut d_used = d;
    if n1.max(n2) <= MAX_AUTO_N {
        let (success, d_exact, prob) = attempt_exact(n1, n2, g, d);
        d_used = d_exact;
        if success {
            return Some(KsResult {
                statistic: d_exact,
                p_value: prob.clamp(0.0, 1.0),
            });
        }
    }
    // Smirnov's asymptotic formula: kstwo.sf(d, round(m * n / (m + n))).
    let (m, n) = (n1.max(n2) as f64, n1.min(n2) as f64);
    let en = m * n / (m + n);
    let prob = kstwo_sf(en.round_ties_even(), d_used);
    Some(KsResult {
        statistic: d_used,
        p_value: prob.clamp(0.0, 1.0),
    })
}

/// `max(max(cdf_a - cdf_b), clip(-min(cdf_a - cdf_b), 0, 1))` over the pooled values, with the
/// empirical CDFs computed as `searchsorted(side="right") / n` like SciPy.
fn ks_statistic(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut max_diff = f64::NEG_INFINITY;
    let mut min_diff = f64::INFINITY;
    while i < a.len() || j < b.len() {
        // The next pooled value, and both CDFs just after it.
        let v = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        while i < a.len() && a[i] <= v {
            i += 1;
        }
        while j < b.len() && b[j] <= v {
            j += 1;
        }
        let diff = i as f64 / n1 - j as f64 / n2;
        max_diff = max_diff.max(diff);
        min_diff = min_diff.min(diff);
    }
    let min_s = (-min_diff).clamp(0.0, 1.0);
    if min_s > max_diff { min_s } else { max_diff }
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// SciPy's `_attempt_exact_2kssamp` for the two-sided alternative: `(success, d, p)`, with `d`
/// rounded to `h / lcm`.
fn attempt_exact(n1: usize, n2: usize, g: usize, d: f64) -> (bool, f64, f64) {
    let lcm = (n1 / g) as f64 * n2 as f64;
    let h = (d * lcm).round_ties_even();
    let d = h / lcm;
    if h == 0.0 {
        return (true, d, 1.0);
    }
    let h = h as i64;
    let prob = if n1 == n2 {
        prob_outside_square(n1 as i64, h)
    } else {
        outer_prob_inside(n1 as i64, n2 as i64, g as i64, h)
    };
    if !(0.0..=1.0).contains(&prob) {
        return (false, d, prob);
    }
    (true, d, prob)
}

/// SciPy's `_compute_prob_outside_square(n, h)`: `P(D_{n,n} >= h / n)` by the alternating
/// binomial series in Horner form.
fn prob_outside_square(n: i64, h: i64) -> f64 {
    let mut p = 0.0;
    let mut k = (n as f64 / h as f64).floor() as i64;
    while k >= 0 {
        let mut p1 = 1.0;
        for j in 0..h {
            p1 = (n - k * h - j) as f64 * p1 / (n + k * h + j + 1) as f64;
        }
        p = p1 * (1.0 - p);
        k -= 1;
    }
    2.0 * p
}

/// SciPy's `_compute_outer_prob_inside_method(m, n, g, h)` (Hodges' inside method with
/// Viehmann's `1 - p` recursion): the share of lattice paths leaving the band
/// `|x/m - y/n| < h / lcm(m, n)`. NaN if the recursion would index outside its window.
fn outer_prob_inside(m: i64, n: i64, g: i64, h: i64) -> f64 {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (mg, ng) = (m / g, n / g);
    let mut minj: i64 = 0;
    let mut maxj: i64 = ((h as f64 / mg as f64).ceil() as i64).min(n + 1);
    let mut curlen = maxj - minj;
    let len_a = (2 * maxj + 2).min(n + 1).max(0) as usize;
    let mut a = vec![1.0f64; len_a];
    for slot in a.iter_mut().take(maxj.max(0) as usize) {
        *slot = 0.0;
    }
    for i in 1..=m {
        let (lastminj, lastlen) = (minj, curlen);
        minj = (((ng * i - h) as f64 / mg as f64).floor() as i64 + 1).max(0);
        minj = minj.min(n);
        maxj = (((ng * i + h) as f64 / mg as f64).ceil() as i64).min(n + 1);
        if maxj <= minj {
            return 1.0;
        }
        let mut val = if minj == 0 { 0.0 } else { 1.0 };
        for jj in 0..(maxj - minj) {
            let j = jj + minj;
            let Some(&prev) = usize::try_from(jj + minj - lastminj)
                .ok()
                .and_then(|k| a.get(k))
            else {
                return f64::NAN;
            };
            val = (prev * i as f64 + val * j as f64) / (i + j) as f64;
            match a.get_mut(jj as usize) {
                Some(slot) => *slot = val,
                None => return f64::NAN,
            }
        }
        curlen = maxj - minj;
        if lastlen > curlen {
            let start = (maxj - minj) as usize;
            let end = (start + (lastlen - curlen) as usize).min(a.len());
            for slot in a.iter_mut().take(end).skip(start) {
                *slot = 1.0;
            }
        }
    }
    usize::try_from(maxj - minj - 1)
        .ok()
        .and_then(|k| a.get(k))
        .copied()
        .unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(f64::MIN_POSITIVE)
    }

    /// a = [1, 2, 3], b = [4, 5, 6]: D = 1, h = 3 and the exact two-sided p-value is
    /// 2 / C(6, 3) = 2 / 20 = 0.1 (only the two extreme orderings reach D = 1);
    /// `ks_2samp([1,2,3],[4,5,6])` gives (1.0, 0.1).
    #[test]
    fn exact_equal_sizes() {
        let r = ks_2samp(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]).expect("non-empty");
        assert_eq!(r.statistic, 1.0);
        assert!(close(r.p_value, 0.09999999999999999, 1e-14));
    }

    /// a = [1, 2], b = [3, 4, 5]: D = 1, and only the ordering a < b of the C(5, 2) = 10
    /// reaches it from one side, b < a from the other (D = 1 as well): p = 2 / 10 = 0.2;
    /// `ks_2samp([1,2],[3,4,5])` gives (1.0, 0.2).
    #[test]
    fn exact_unequal_sizes() {
        let r = ks_2samp(&[1.0, 2.0], &[3.0, 4.0, 5.0]).expect("non-empty");
        assert_eq!(r.statistic, 1.0);
        assert!(close(r.p_value, 0.2, 1e-14));
    }

    /// Identical samples: D = 0, so h = 0 and p = 1. Ties across samples use the right-side
    /// CDF: a = [1, 1, 2], b = [1, 2, 2] -> at 1: 2/3 - 1/3 = 1/3, at 2: 0 -> D = 1/3.
    #[test]
    fn ties_and_identical() {
        let r = ks_2samp(&[1.0, 2.0], &[1.0, 2.0]).expect("non-empty");
        assert_eq!((r.statistic, r.p_value), (0.0, 1.0));
        let r = ks_2samp(&[1.0, 1.0, 2.0], &[1.0, 2.0, 2.0]).expect("non-empty");
        assert!(close(r.statistic, 1.0 / 3.0, 1e-15));
        assert!(ks_2samp(&[], &[1.0]).is_none());
    }

    /// `scipy.stats.ks_2samp` p-values (SciPy 1.17.1) for a = i / n1 (i < n1) and
    /// b = shift + i / n2 (i < n2): the square recursion (40, 40), the inside method
    /// (40, 55), (300, 700), and the asymptotic `kstwo` path (max size > 10000).
    #[test]
    fn matches_scipy_on_grids() {
        let grid = |shift: f64, n: usize| -> Vec<f64> {
            (0..n).map(|i| shift + i as f64 / n as f64).collect()
        };
        let cases: [(usize, f64, usize, f64); 6] = [
            (40, 0.1, 40, 0.9188052214121167),
            (40, 0.2, 55, 0.16175452320149614),
            (300, 0.08, 700, 0.10264533421454705),
            (50, 0.1, 10050, 0.4337679661310233),
            (200, 0.05, 12000, 0.5712008903376038),
            (1000, 0.03, 20000, 0.3131399879269694),
        ];
        for (n1, shift, n2, expected) in cases {
            let r = ks_2samp(&grid(0.0, n1), &grid(shift, n2)).expect("non-empty");
            assert!(
                close(r.p_value, expected, 1e-9),
                "{n1} {shift} {n2}: {} vs {expected}",
                r.p_value
            );
        }
    }
}
