//! The distance methods: Wasserstein (normed), Jensen–Shannon, PSI, KL divergence and
//! Hellinger, as Evidently 0.7 computes them (`wasserstein_distance_norm.py`,
//! `jensenshannon.py`, `psi.py`, `kl_div.py`, `hellinger_distance.py`, `utils.py`).

use super::binning::{histogram_counts, sturges_edges};

/// `scipy.stats.wasserstein_distance(u, v)` for ascending samples: the integral of
/// `|F_u - F_v|` over the pooled values. NaN when a sample is empty.
pub(crate) fn wasserstein(u: &[f64], v: &[f64]) -> f64 {
    if u.is_empty() || v.is_empty() {
        return f64::NAN;
    }
    let mut all: Vec<f64> = Vec::with_capacity(u.len() + v.len());
    all.extend_from_slice(u);
    all.extend_from_slice(v);
    all.sort_by(f64::total_cmp);
    let (nu, nv) = (u.len() as f64, v.len() as f64);
    let (mut iu, mut iv) = (0usize, 0usize);
    let mut total = 0.0;
    for w in all.windows(2) {
        let (x, next) = (w[0], w[1]);
        while iu < u.len() && u[iu] <= x {
            iu += 1;
        }
        while iv < v.len() && v[iv] <= x {
            iv += 1;
        }
        total += (iu as f64 / nu - iv as f64 / nv).abs() * (next - x);
    }
    total
}

/// Population standard deviation (`np.std`, `ddof=0`), two-pass.
pub(crate) fn std_ddof0(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let ss: f64 = values.iter().map(|&x| (x - mean) * (x - mean)).sum();
    (ss / n).sqrt()
}

/// Evidently's `_wasserstein_distance_norm`: `wasserstein_distance(ref, cur) /
/// max(std(ref), 0.001)`.
pub(crate) fn wasserstein_norm(reference: &[f64], current: &[f64]) -> f64 {
    let norm = std_ddof0(reference).max(0.001);
    wasserstein(reference, current) / norm
}

/// The per-bin (or per-category) shares of both sides, as Evidently's `get_binned_data`
/// returns them before the optional zero filling.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Percents {
    /// Reference shares.
    pub reference: Vec<f64>,
    /// Current shares.
    pub current: Vec<f64>,
}

impl Percents {
    /// Shares from counts: `count / n` per side, `n` the side's number of values.
    pub(crate) fn from_counts(reference: &[u64], current: &[u64]) -> Percents {
        let share = |counts: &[u64]| -> Vec<f64> {
            let n = counts.iter().sum::<u64>() as f64;
            counts.iter().map(|&c| c as f64 / n).collect()
        };
        Percents {
            reference: share(reference),
            current: share(current),
        }
    }

    /// The numerical branch of `get_binned_data`: Sturges bins over the pooled values
    /// (`np.histogram_bin_edges(concat, "sturges")`), then `np.histogram(side, bins) / n`.
    /// `None` when the bins cannot be built (values spanning more than `f64` holds).
    pub(crate) fn sturges(reference: &[f64], current: &[f64], integer: bool) -> Option<Percents> {
        let mut pooled: Vec<f64> = Vec::with_capacity(reference.len() + current.len());
        pooled.extend_from_slice(reference);
        pooled.extend_from_slice(current);
        pooled.sort_by(f64::total_cmp);
        let edges = sturges_edges(&pooled, integer)?;
        Some(Percents::from_counts(
            &histogram_counts(reference, &edges),
            &histogram_counts(current, &edges),
        ))
    }

    /// `get_binned_data(..., feel_zeroes=True)`: each side's empty bins get
    /// `min(non-zero) / 1e6` when that minimum is at most 0.0001, else 0.0001.
    pub(crate) fn fill_zeroes(mut self) -> Percents {
        fill(&mut self.reference);
        fill(&mut self.current);
        self
    }
}

fn fill(shares: &mut [f64]) {
    let Some(min) = shares
        .iter()
        .copied()
        .filter(|&p| p != 0.0)
        .reduce(f64::min)
    else {
        return;
    };
    let value = if min <= 0.0001 { min / 1e6 } else { 0.0001 };
    for p in shares.iter_mut().filter(|p| **p == 0.0) {
        *p = value;
    }
}

/// `scipy.special.rel_entr(x, y)`.
fn rel_entr(x: f64, y: f64) -> f64 {
    if x > 0.0 && y > 0.0 {
        x * (x / y).ln()
    } else if x == 0.0 && y >= 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

fn normalised(p: &[f64]) -> Vec<f64> {
    let s: f64 = p.iter().sum();
    p.iter().map(|&x| x / s).collect()
}

/// `scipy.spatial.distance.jensenshannon(p, q)` with the natural log: both vectors are
/// normalised, `m = (p + q) / 2`, and the distance is `sqrt((KL(p‖m) + KL(q‖m)) / 2)`.
pub(crate) fn jensen_shannon(percents: &Percents) -> f64 {
    let p = normalised(&percents.reference);
    let q = normalised(&percents.current);
    let m: Vec<f64> = p.iter().zip(&q).map(|(a, b)| (a + b) / 2.0).collect();
    let left: f64 = p.iter().zip(&m).map(|(&a, &b)| rel_entr(a, b)).sum();
    let right: f64 = q.iter().zip(&m).map(|(&a, &b)| rel_entr(a, b)).sum();
    ((left + right) / 2.0).sqrt()
}

/// Evidently's `_psi`: `sum((ref - cur) * ln(ref / cur))` over zero-filled shares.
pub(crate) fn psi(percents: &Percents) -> f64 {
    percents
        .reference
        .iter()
        .zip(&percents.current)
        .map(|(&r, &c)| (r - c) * (r / c).ln())
        .sum()
}

/// Evidently's `_kl_div`: `scipy.stats.entropy(ref, cur)` over zero-filled shares, i.e.
/// `sum(p ln(p / q))` after normalising both.
pub(crate) fn kl_div(percents: &Percents) -> f64 {
    let p = normalised(&percents.reference);
    let q = normalised(&percents.current);
    p.iter().zip(&q).map(|(&a, &b)| rel_entr(a, b)).sum()
}

/// Evidently's `_hellinger_distance` for a categorical column:
/// `sqrt(1 - clip(sum(sqrt(p_ref * p_cur)), 0, 1))` over the union of categories, with
/// `p = count / n`.
pub(crate) fn hellinger_categorical(reference: &[u64], current: &[u64]) -> f64 {
    let percents = Percents::from_counts(reference, current);
    let bc: f64 = percents
        .reference
        .iter()
        .zip(&percents.current)
        .map(|(&a, &b)| (a * b).sqrt())
        .sum();
    (1.0 - bc.clamp(0.0, 1.0)).sqrt()
}

/// Evidently's `_hellinger_distance` for a numerical column: Sturges bins over the *distinct*
/// pooled values (`np.histogram_bin_edges(keys, "sturges")`), density histograms of both sides,
/// `sum(sqrt(h_ref * h_cur) * width)` with `width = (max - min) / bins`, clipped to `[0, 1]`;
/// the distance is `sqrt(1 - that)`. `None` when the bins cannot be built.
pub(crate) fn hellinger_numerical(
    reference: &[f64],
    current: &[f64],
    distinct: &[f64],
    integer: bool,
) -> Option<f64> {
    let edges = sturges_edges(distinct, integer)?;
    let density = |sorted: &[f64]| -> Vec<f64> {
        let counts = histogram_counts(sorted, &edges);
        let total = counts.iter().sum::<u64>() as f64;
        counts
            .iter()
            .zip(edges.windows(2))
            .map(|(&c, w)| c as f64 / (w[1] - w[0]) / total)
            .collect()
    };
    let (h1, h2) = (density(reference), density(current));
    let (first, last) = (edges.first()?, edges.last()?);
    let width = (last - first) / (edges.len() - 1) as f64;
    let bc: f64 = h1
        .iter()
        .zip(&h2)
        .map(|(&a, &b)| (a * b).sqrt() * width)
        .sum();
    Some((1.0 - bc.clamp(0.0, 1.0)).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(f64::MIN_POSITIVE)
    }

    /// u = [0, 1, 3], v = [5, 6, 8]: every quantile moves by 5, so W = 5 (SciPy's docstring).
    /// u = [1, 2], v = [1, 3]: F_u - F_v = 0 on [1, 2), 1/2 on [2, 3): W = 0.5.
    #[test]
    fn wasserstein_by_hand() {
        assert!(close(
            wasserstein(&[0.0, 1.0, 3.0], &[5.0, 6.0, 8.0]),
            5.0,
            1e-15
        ));
        assert!(close(wasserstein(&[1.0, 2.0], &[1.0, 3.0]), 0.5, 1e-15));
        assert_eq!(wasserstein(&[2.0, 2.0], &[2.0]), 0.0);
        // std([1, 2]) = 0.5, so the normed distance is 0.5 / 0.5 = 1.
        assert!(close(
            wasserstein_norm(&[1.0, 2.0], &[1.0, 3.0]),
            1.0,
            1e-15
        ));
        // Constant reference: the norm is 0.001, so W = 1 becomes 1000.
        assert!(close(wasserstein_norm(&[1.0, 1.0], &[2.0]), 1000.0, 1e-12));
    }

    /// p = [1, 0], q = [0, 1] (disjoint): m = [1/2, 1/2], KL(p‖m) = ln 2, so
    /// JS = sqrt((ln 2 + ln 2) / 2) = sqrt(ln 2) = 0.8325546… Identical shares give 0.
    #[test]
    fn jensen_shannon_by_hand() {
        let disjoint = Percents {
            reference: vec![1.0, 0.0],
            current: vec![0.0, 1.0],
        };
        assert!(close(jensen_shannon(&disjoint), 2f64.ln().sqrt(), 1e-15));
        let same = Percents::from_counts(&[2, 6], &[1, 3]);
        assert_eq!(jensen_shannon(&same), 0.0);
    }

    /// Shares [0.5, 0.5, 0] and [0.25, 0.25, 0.5]. Filling: reference min non-zero 0.5 > 1e-4,
    /// so its zero becomes 1e-4. PSI = 2 * (0.25 * ln 2) + (1e-4 - 0.5) * ln(1e-4 / 0.5)
    /// = 0.3465736 + 4.2580… = 4.6046…
    #[test]
    fn psi_and_kl_by_hand() {
        let p = Percents::from_counts(&[2, 2, 0], &[1, 1, 2]).fill_zeroes();
        assert_eq!(p.reference, vec![0.5, 0.5, 1e-4]);
        let expected = 2.0 * 0.25 * 2f64.ln() + (1e-4 - 0.5) * (1e-4f64 / 0.5).ln();
        assert!(close(psi(&p), expected, 1e-14));
        // KL after normalising: r = [0.5, 0.5, 1e-4] / 1.0001.
        let s = 1.0001;
        let r: [f64; 3] = [0.5 / s, 0.5 / s, 1e-4 / s];
        let q: [f64; 3] = [0.25, 0.25, 0.5];
        let kl: f64 = r.iter().zip(q).map(|(a, b)| a * (a / b).ln()).sum();
        assert!(close(kl_div(&p), kl, 1e-14));
        // A minimum at or below 1e-4 is divided by 1e6.
        let tiny = Percents {
            reference: vec![0.0, 1e-4, 1.0 - 1e-4],
            current: vec![1.0, 0.0, 0.0],
        }
        .fill_zeroes();
        assert_eq!(tiny.reference[0], 1e-4 / 1e6);
        assert_eq!(tiny.current[1], 1e-4);
    }

    /// Counts [1, 3] vs [3, 1]: BC = 2 * sqrt(0.25 * 0.75) = 0.8660254, so
    /// H = sqrt(1 - 0.8660254) = 0.3660254…
    #[test]
    fn hellinger_by_hand() {
        let h = hellinger_categorical(&[1, 3], &[3, 1]);
        assert!(close(h, (1.0 - 0.75f64.sqrt()).sqrt(), 1e-15));
        // Numerical: distinct values [0, 1, 2, 3] -> width 3 / 3 = 1, 3 bins [0,1,2,3];
        // ref [0, 1] -> densities [1/2, 1/2, 0], cur [2, 3] -> [0, 0, 1]: BC = 0, H = 1.
        let h = hellinger_numerical(&[0.0, 1.0], &[2.0, 3.0], &[0.0, 1.0, 2.0, 3.0], false);
        assert_eq!(h, Some(1.0));
        let same = hellinger_numerical(&[0.0, 3.0], &[0.0, 3.0], &[0.0, 3.0], false);
        assert!(same.is_some_and(|h| h.abs() < 1e-7));
    }
}
