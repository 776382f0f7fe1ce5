//! NumPy-compatible equal-width binning (`np.linspace`, `np.histogram_bin_edges(bins="sturges")`,
//! `np.histogram` with explicit edges), so that binned statistics match Evidently's to rounding.

/// `np.linspace(start, stop, num)` with `endpoint=True`: `i * step + start`, the last edge set
/// to `stop` exactly.
pub(crate) fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    if num == 0 {
        return Vec::new();
    }
    if num == 1 {
        return vec![start];
    }
    let div = (num - 1) as f64;
    let delta = stop - start;
    let step = delta / div;
    let mut edges: Vec<f64> = (0..num)
        .map(|i| {
            let y = if step == 0.0 {
                i as f64 / div * delta
            } else {
                i as f64 * step
            };
            y + start
        })
        .collect();
    if let Some(last) = edges.last_mut() {
        *last = stop;
    }
    edges
}

/// NumPy's outer edges for data spanning `[min, max]`: an empty range widens to `±0.5`.
fn outer_edges(min: f64, max: f64) -> (f64, f64) {
    if min == max {
        (min - 0.5, max + 0.5)
    } else {
        (min, max)
    }
}

/// `np.histogram_bin_edges(values, bins="sturges")` for finite `sorted` values (ascending,
/// not empty): bin width `ptp / (log2(n) + 1)`, at least 1 for integer data, and
/// `ceil(range / width)` equal-width bins. `None` when the values are empty or span more than
/// `f64` can hold (NumPy raises there).
pub(crate) fn sturges_edges(sorted: &[f64], integer: bool) -> Option<Vec<f64>> {
    let (&min, &max) = (sorted.first()?, sorted.last()?);
    let (first, last) = outer_edges(min, max);
    let ptp = max - min;
    let mut width = ptp / ((sorted.len() as f64).log2() + 1.0);
    let bins = if width != 0.0 {
        if integer && width < 1.0 {
            width = 1.0;
        }
        let bins = ((last - first) / width).ceil();
        if !(1.0..=1e7).contains(&bins) {
            return None;
        }
        bins as usize
    } else {
        1
    };
    let edges = linspace(first, last, bins + 1);
    edges.iter().all(|e| e.is_finite()).then_some(edges)
}

/// Equal-width edges for a chart: `bins` bins over `[min, max]` (NumPy's `±0.5` widening when
/// `min == max`). `None` for a non-finite bound or zero bins.
pub(crate) fn chart_edges(min: f64, max: f64, bins: usize) -> Option<Vec<f64>> {
    if !(min.is_finite() && max.is_finite()) || bins == 0 {
        return None;
    }
    let (first, last) = outer_edges(min, max);
    let edges = linspace(first, last, bins + 1);
    edges.iter().all(|e| e.is_finite()).then_some(edges)
}

/// `np.histogram(values, bins=edges)[0]` for ascending `sorted` values: bin `i` counts
/// `edges[i] <= v < edges[i + 1]`, the last bin also counts `v == edges[last]`; values outside
/// the edges are not counted.
pub(crate) fn histogram_counts(sorted: &[f64], edges: &[f64]) -> Vec<u64> {
    if edges.len() < 2 {
        return Vec::new();
    }
    let last = edges.len() - 1;
    let cumulative: Vec<usize> = edges
        .iter()
        .enumerate()
        .map(|(i, &e)| {
            if i == last {
                sorted.partition_point(|&v| v <= e)
            } else {
                sorted.partition_point(|&v| v < e)
            }
        })
        .collect();
    cumulative
        .windows(2)
        .map(|w| w[1].saturating_sub(w[0]) as u64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linspace_like_numpy() {
        assert_eq!(linspace(0.0, 1.0, 5), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        // np.linspace(0.1, 0.7, 4) -> [0.1, 0.3, 0.5, 0.7]
        assert_eq!(linspace(0.1, 0.7, 4), vec![0.1, 0.3, 0.5, 0.7]);
        assert_eq!(linspace(2.0, 2.0, 3), vec![2.0, 2.0, 2.0]);
    }

    /// `np.histogram_bin_edges([0, 1, 2, 3, 4, 5, 6, 7], "sturges")`: width 7 / (3 + 1) = 1.75,
    /// ceil(7 / 1.75) = 4 bins -> [0, 1.75, 3.5, 5.25, 7].
    #[test]
    fn sturges_float_and_integer() {
        let v: Vec<f64> = (0..8).map(f64::from).collect();
        assert_eq!(
            sturges_edges(&v, false),
            Some(vec![0.0, 1.75, 3.5, 5.25, 7.0])
        );
        // Integer data: width 2 / (log2(4) + 1) = 2/3 < 1 -> 1, so 2 bins of width 1.
        let ints = [0.0, 1.0, 1.0, 2.0];
        assert_eq!(sturges_edges(&ints, true), Some(vec![0.0, 1.0, 2.0]));
        assert_eq!(
            sturges_edges(&ints, false),
            Some(vec![0.0, 2.0 / 3.0, 4.0 / 3.0, 2.0])
        );
        // A single value: one bin of width 1 around it.
        assert_eq!(sturges_edges(&[3.0, 3.0], false), Some(vec![2.5, 3.5]));
        assert_eq!(sturges_edges(&[], false), None);
        assert_eq!(sturges_edges(&[-f64::MAX, f64::MAX], false), None);
    }

    #[test]
    fn counts_like_numpy() {
        // np.histogram([0, 1, 1.75, 2, 7], [0, 1.75, 3.5, 5.25, 7]) -> [2, 2, 0, 1]
        let edges = [0.0, 1.75, 3.5, 5.25, 7.0];
        assert_eq!(
            histogram_counts(&[0.0, 1.0, 1.75, 2.0, 7.0], &edges),
            vec![2, 2, 0, 1]
        );
        assert_eq!(histogram_counts(&[-1.0, 8.0], &edges), vec![0, 0, 0, 0]);
        assert_eq!(chart_edges(1.0, 1.0, 2), Some(vec![0.5, 1.0, 1.5]));
        assert_eq!(chart_edges(f64::NAN, 1.0, 2), None);
    }
}
