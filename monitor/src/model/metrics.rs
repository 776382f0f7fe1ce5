//! Evaluation metrics with scikit-learn's definitions: binary classification (threshold figures,
//! ROC AUC, average precision, log loss, Brier score, reliability diagram), multiclass
//! classification (macro and weighted averages, one-vs-rest AUC) and regression.
//!
//! Every figure is computed in `f64` from the model's `f32` outputs, with one sort
//! (O(n log n)) per ranking or quantile set and no per-row allocation; sums are compensated
//! (Neumaier), so means over millions of rows keep full precision. `tests/model_metrics.rs`
//! checks the figures against scikit-learn 1.9.1 to 1e-9 (relative).
//!
//! Conventions, as scikit-learn 1.9 has them:
//! - Log loss clips each probability to `[ε, 1 − ε]` with ε = [`f64::EPSILON`] and does not
//!   renormalise the rows (scikit-learn only warns when a row does not sum to one). scikit-learn
//!   takes ε (and its arithmetic) from the input's dtype: these are its figures for the scores
//!   widened to `float64`, not for `float32` input.
//! - The Brier score over `k` classes is the mean over rows of Σ (p_c − onehot_c)², halved when
//!   k = 2 (scikit-learn's `scale_by_half="auto"`), so the binary score is the mean of (y − p)².
//! - A ratio with a zero denominator is `None` (scikit-learn's `zero_division`). F1 is
//!   2·TP / (2·TP + FP + FN), as scikit-learn computes it, so it is `None` only when that
//!   denominator is zero and `Some(0.0)` when precision is undefined but positives exist.
//! - Calibration bins are `bins` uniform bins with edges `np.linspace(0, 1, bins + 1)`, and a
//!   probability goes to bin `np.searchsorted(edges[1:-1], p)` (side "left"): bin `i` holds
//!   `(edge_i, edge_i+1]` (the first also holds 0), so a probability on an inner edge falls in
//!   the lower bin. Empty bins are left out, as `calibration_curve` does.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// How many calibration bins by default.
pub const DEFAULT_CALIBRATION_BINS: usize = 10;

/// The quantiles of the regression residuals that [`regression`] reports.
const RESIDUAL_QUANTILES: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];

/// Binary classification figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinaryMetrics {
    /// Rows evaluated.
    pub rows: u64,
    /// Rows whose label is positive.
    pub positives: u64,
    /// A row is predicted positive when its score is at least this.
    pub threshold: f64,
    /// (TP + TN) / rows.
    pub accuracy: f64,
    /// TP / (TP + FP); `None` when nothing is predicted positive.
    pub precision: Option<f64>,
    /// TP / (TP + FN); `None` when no label is positive.
    pub recall: Option<f64>,
    /// 2·TP / (2·TP + FP + FN); `None` when no label and no prediction is positive.
    pub f1: Option<f64>,
    /// Area under the ROC curve (ties count one half); `None` unless both classes are present.
    pub roc_auc: Option<f64>,
    /// Average precision (`average_precision_score`); `None` when no label is positive.
    pub pr_auc: Option<f64>,
    /// Mean cross-entropy, probabilities clipped to `[ε, 1 − ε]`.
    pub log_loss: f64,
    /// Mean of (label − score)².
    pub brier: f64,
    /// `[[TN, FP], [FN, TP]]`: `[label][prediction]`, as `confusion_matrix(labels=[0, 1])`.
    pub confusion_matrix: [[u64; 2]; 2],
    /// Reliability diagram of the scores against the labels (non-empty bins only).
    pub calibration: Vec<CalibrationBin>,
}

/// One bin of a reliability diagram (scikit-learn's `calibration_curve` with
/// `strategy="uniform"`; empty bins are left out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// The bin's lower edge.
    pub lower: f64,
    /// The bin's upper edge.
    pub upper: f64,
    /// Rows in the bin.
    pub count: u64,
    /// Mean predicted probability of those rows (`prob_pred`).
    pub mean_predicted: f64,
    /// Fraction of those rows that are positive (`prob_true`).
    pub fraction_positive: f64,
}

/// Multiclass figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MulticlassMetrics {
    /// Rows evaluated.
    pub rows: u64,
    /// The class names, in probability-column order.
    pub classes: Vec<String>,
    /// Rows whose top class is the label, over rows.
    pub accuracy: f64,
    /// Unweighted mean of the per-class precisions, an undefined one counting 0.
    pub macro_precision: f64,
    /// Unweighted mean of the per-class recalls, an undefined one counting 0.
    pub macro_recall: f64,
    /// Unweighted mean of the per-class F1 scores, an undefined one counting 0.
    pub macro_f1: f64,
    /// Support-weighted mean of the per-class precisions, an undefined one counting 0.
    pub weighted_precision: f64,
    /// Support-weighted mean of the per-class recalls (equal to the accuracy).
    pub weighted_recall: f64,
    /// Support-weighted mean of the per-class F1 scores, an undefined one counting 0.
    pub weighted_f1: f64,
    /// Each class against the others.
    pub per_class: Vec<ClassMetrics>,
    /// Macro mean of the one-vs-rest ROC AUCs; `None` when some class has no row (scikit-learn
    /// raises then) or every row.
    pub roc_auc_ovr: Option<f64>,
    /// Macro mean of the one-vs-rest average precisions of the classes with at least one row;
    /// `None` when there is none.
    pub pr_auc_ovr: Option<f64>,
    /// Mean cross-entropy of the label's probability, clipped to `[ε, 1 − ε]`.
    pub log_loss: f64,
    /// Mean over rows of Σ (p_c − onehot_c)², halved for two classes (scikit-learn's
    /// `scale_by_half="auto"`).
    pub brier: f64,
    /// `[label][prediction]` counts, the prediction being the most probable class.
    pub confusion_matrix: Vec<Vec<u64>>,
    /// Reliability diagram of the top-class probability against whether the top class is the
    /// label.
    pub calibration: Vec<CalibrationBin>,
}

/// One class against the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// The class name.
    pub class: String,
    /// Rows labelled with the class.
    pub support: u64,
    /// Of the rows predicted as the class, the fraction labelled so; `None` when there is none.
    pub precision: Option<f64>,
    /// Of the rows labelled with the class, the fraction predicted so; `None` when there is
    /// none.
    pub recall: Option<f64>,
    /// 2·TP / (support + predicted); `None` when both are zero.
    pub f1: Option<f64>,
}

/// Regression figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionMetrics {
    /// Rows evaluated.
    pub rows: u64,
    /// Mean absolute error.
    pub mae: f64,
    /// Mean squared error.
    pub mse: f64,
    /// Root of the mean squared error.
    pub rmse: f64,
    /// Coefficient of determination (`r2_score`); `None` when the labels are constant
    /// (scikit-learn forces 0 or 1 there).
    pub r2: Option<f64>,
    /// Mean of the residuals, label − prediction.
    pub mean_residual: f64,
    /// Residual quantiles at 0.05, 0.25, 0.5, 0.75 and 0.95, interpolated linearly (NumPy's
    /// default method).
    pub residual_quantiles: Vec<Quantile>,
    /// Largest absolute residual (`max_error`).
    pub max_error: f64,
}

/// One quantile of a distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quantile {
    /// The probability, in [0, 1].
    pub q: f64,
    /// The value at that quantile.
    pub value: f64,
}

/// Binary classification figures of `scores` (probabilities of the positive class) against
/// `labels`; a row is predicted positive when its score is at least `threshold`, and the
/// reliability diagram has `bins` uniform bins.
pub fn binary(
    labels: &[bool],
    scores: &[f32],
    threshold: f64,
    bins: usize,
) -> Result<BinaryMetrics> {
    check_rows(labels.len(), scores.len(), "scores")?;
    check_bins(bins)?;
    if threshold.is_nan() {
        return Err(Error::invalid("the threshold is NaN"));
    }
    let mut confusion = [[0_u64; 2]; 2];
    let mut log_loss = Sum::default();
    let mut brier = Sum::default();
    let mut calibration = Calibration::new(bins);
    let mut keys = Vec::with_capacity(labels.len());
    for (&label, &score) in labels.iter().zip(scores) {
        let p = probability(score)?;
        confusion[usize::from(label)][usize::from(p >= threshold)] += 1;
        // log_loss widens p to the columns [1 − p, p] and clips both.
        log_loss.add(-clip(if label { p } else { 1.0 - p }).ln());
        brier.add((f64::from(u8::from(label)) - p).powi(2));
        calibration.add(p, label);
        keys.push(rank_key(score, label));
    }
    let rows = labels.len() as f64;
    let [[tn, fp], [fn_, tp]] = confusion;
    let ranking = rank(&mut keys);
    Ok(BinaryMetrics {
        rows: labels.len() as u64,
        positives: tp + fn_,
        threshold,
        accuracy: (tp + tn) as f64 / rows,
        precision: ratio(tp, tp + fp),
        recall: ratio(tp, tp + fn_),
        f1: ratio(2 * tp, 2 * tp + fp + fn_),
        roc_auc: ranking.roc_auc,
        pr_auc: ranking.average_precision,
        log_loss: log_loss.value() / rows,
        brier: brier.value() / rows,
        confusion_matrix: confusion,
        calibration: calibration.finish(),
    })
}

/// Multiclass figures of `probabilities` (row-major, one row of `classes.len()` probabilities
/// per label) against `labels` (class indices); the prediction is the most probable class, the
/// first on ties (NumPy's `argmax`), and the reliability diagram has `bins` uniform bins.
pub fn multiclass(
    labels: &[u32],
    probabilities: &[f32],
    classes: &[String],
    bins: usize,
) -> Result<MulticlassMetrics> {
    let k = classes.len();
    if k < 2 {
        return Err(Error::invalid(format!(
            "{k} classes: a classifier needs at least two"
        )));
    }
    if !probabilities.len().is_multiple_of(k) {
        return Err(Error::invalid(format!(
            "{} probabilities do not make rows of {k} classes",
            probabilities.len()
        )));
    }
    check_rows(labels.len(), probabilities.len() / k, "probability rows")?;
    check_bins(bins)?;
    let mut confusion = vec![vec![0_u64; k]; k];
    let mut log_loss = Sum::default();
    let mut brier = Sum::default();
    let mut calibration = Calibration::new(bins);
    for (&label, row) in labels.iter().zip(probabilities.chunks_exact(k)) {
        let truth = usize::try_from(label)
            .ok()
            .filter(|&truth| truth < k)
            .ok_or_else(|| {
                Error::invalid(format!("label {label} is not a class index below {k}"))
            })?;
        let (mut predicted, mut top, mut squares) = (0, f64::NEG_INFINITY, 0.0);
        for (class, &value) in row.iter().enumerate() {
            let p = probability(value)?;
            if p > top {
                (predicted, top) = (class, p);
            }
            squares += (p - f64::from(u8::from(class == truth))).powi(2);
        }
        confusion[truth][predicted] += 1;
        log_loss.add(-clip(f64::from(row[truth])).ln());
        brier.add(squares);
        calibration.add(top, predicted == truth);
    }

    let rows = labels.len() as f64;
    let mut per_class = Vec::with_capacity(k);
    let (mut correct, mut macro_sums, mut weighted_sums) = (0, [0.0; 3], [0.0; 3]);
    for (class, (name, row)) in classes.iter().zip(&confusion).enumerate() {
        let tp = row[class];
        let support: u64 = row.iter().sum();
        let predicted: u64 = confusion.iter().map(|row| row[class]).sum();
        let figures = ClassMetrics {
            class: name.clone(),
            support,
            precision: ratio(tp, predicted),
            recall: ratio(tp, support),
            f1: ratio(2 * tp, support + predicted),
        };
        let values = [figures.precision, figures.recall, figures.f1].map(|v| v.unwrap_or(0.0));
        for ((m, w), v) in macro_sums.iter_mut().zip(&mut weighted_sums).zip(values) {
            *m += v;
            *w += v * support as f64;
        }
        correct += tp;
        per_class.push(figures);
    }
    let [macro_precision, macro_recall, macro_f1] = macro_sums.map(|s| s / k as f64);
    let [weighted_precision, weighted_recall, weighted_f1] = weighted_sums.map(|s| s / rows);

    // One vs rest: one sort per class, in one reused buffer.
    let mut keys = Vec::with_capacity(labels.len());
    let (mut auc_sum, mut every_auc) = (0.0, true);
    let (mut ap_sum, mut present) = (0.0, 0_usize);
    for class in 0..k {
        keys.clear();
        keys.extend(
            labels
                .iter()
                .zip(probabilities.chunks_exact(k))
                .map(|(&label, row)| rank_key(row[class], label as usize == class)),
        );
        let ranking = rank(&mut keys);
        match ranking.roc_auc {
            Some(auc) => auc_sum += auc,
            None => every_auc = false,
        }
        if let Some(ap) = ranking.average_precision {
            ap_sum += ap;
            present += 1;
        }
    }

    let halve = if k == 2 { 0.5 } else { 1.0 };
    Ok(MulticlassMetrics {
        rows: labels.len() as u64,
        classes: classes.to_vec(),
        accuracy: correct as f64 / rows,
        macro_precision,
        macro_recall,
        macro_f1,
        weighted_precision,
        weighted_recall,
        weighted_f1,
        per_class,
        roc_auc_ovr: every_auc.then(|| auc_sum / k as f64),
        pr_auc_ovr: (present > 0).then(|| ap_sum / present as f64),
        log_loss: log_loss.value() / rows,
        brier: halve * brier.value() / rows,
        confusion_matrix: confusion,
        calibration: calibration.finish(),
    })
}

/// Regression figures of `predictions` against `labels`; residuals are label − prediction.
pub fn regression(labels: &[f64], predictions: &[f32]) -> Result<RegressionMetrics> {
    check_rows(labels.len(), predictions.len(), "predictions")?;
    let mut residuals = Vec::with_capacity(labels.len());
    let (mut absolute, mut squared, mut signed, mut label_sum) = (
        Sum::default(),
        Sum::default(),
        Sum::default(),
        Sum::default(),
    );
    let mut max_error = 0.0_f64;
    for (&label, &prediction) in labels.iter().zip(predictions) {
        if !label.is_finite() || !prediction.is_finite() {
            return Err(Error::invalid(format!(
                "label {label} and prediction {prediction}: both must be finite"
            )));
        }
        let residual = label - f64::from(prediction);
        absolute.add(residual.abs());
        squared.add(residual * residual);
        signed.add(residual);
        label_sum.add(label);
        max_error = max_error.max(residual.abs());
        residuals.push(residual);
    }
    let rows = labels.len() as f64;
    let mean_label = label_sum.value() / rows;
    let mut total = Sum::default();
    for &label in labels {
        total.add((label - mean_label).powi(2));
    }
    let constant = labels.iter().all(|&label| label == labels[0]);
    let total = total.value();
    let mse = squared.value() / rows;
    residuals.sort_unstable_by(f64::total_cmp);
    Ok(RegressionMetrics {
        rows: labels.len() as u64,
        mae: absolute.value() / rows,
        mse,
        rmse: mse.sqrt(),
        r2: (!constant && total > 0.0).then(|| 1.0 - squared.value() / total),
        mean_residual: signed.value() / rows,
        residual_quantiles: RESIDUAL_QUANTILES
            .iter()
            .map(|&q| Quantile {
                q,
                value: quantile(&residuals, q),
            })
            .collect(),
        max_error,
    })
}

/// Errors unless there are rows and as many outputs (`what`) as labels.
fn check_rows(labels: usize, outputs: usize, what: &str) -> Result<()> {
    if labels != outputs {
        return Err(Error::invalid(format!(
            "{labels} labels but {outputs} {what}"
        )));
    }
    if labels == 0 {
        return Err(Error::invalid("no rows to evaluate"));
    }
    Ok(())
}

/// Errors when a reliability diagram would have no bin.
fn check_bins(bins: usize) -> Result<()> {
    if bins == 0 {
        return Err(Error::invalid("calibration needs at least one bin"));
    }
    Ok(())
}

/// The model output as an `f64` probability; errors outside [0, 1] (NaN included), as
/// scikit-learn does.
fn probability(value: f32) -> Result<f64> {
    let p = f64::from(value);
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(Error::invalid(format!(
            "{value} is not a probability in [0, 1]"
        )))
    }
}

/// A probability clipped to `[ε, 1 − ε]` for the log loss.
fn clip(p: f64) -> f64 {
    p.clamp(f64::EPSILON, 1.0 - f64::EPSILON)
}

/// `numerator / denominator`, `None` when the denominator is zero.
fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// A Neumaier-compensated sum of `f64`s.
#[derive(Debug, Clone, Copy, Default)]
struct Sum {
    /// The running sum.
    sum: f64,
    /// The low-order bits the running sum lost.
    compensation: f64,
}

impl Sum {
    /// Adds one term.
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        self.compensation += if self.sum.abs() >= x.abs() {
            (self.sum - t) + x
        } else {
            (x - t) + self.sum
        };
        self.sum = t;
    }

    /// The sum.
    fn value(self) -> f64 {
        self.sum + self.compensation
    }
}

/// The bins of a reliability diagram being filled.
struct Calibration {
    /// `np.linspace(0, 1, bins + 1)`: edge `i` is `i · (1 / bins)`, the last exactly 1.
    edges: Vec<f64>,
    /// Per bin: rows, positive rows and the sum of the probabilities.
    bins: Vec<(u64, u64, Sum)>,
}

impl Calibration {
    /// `bins` (at least one) empty uniform bins on [0, 1].
    fn new(bins: usize) -> Self {
        let step = 1.0 / bins as f64;
        let mut edges: Vec<f64> = (0..=bins).map(|i| i as f64 * step).collect();
        if let Some(last) = edges.last_mut() {
            *last = 1.0;
        }
        Calibration {
            edges,
            bins: vec![(0, 0, Sum::default()); bins],
        }
    }

    /// Adds one row: its probability `p` (in [0, 1]) and whether it is positive.
    fn add(&mut self, p: f64, positive: bool) {
        // np.searchsorted(edges[1:-1], p): the number of inner edges strictly below p.
        let inner = &self.edges[1..self.edges.len() - 1];
        let (count, positives, sum) = &mut self.bins[inner.partition_point(|&edge| edge < p)];
        *count += 1;
        *positives += u64::from(positive);
        sum.add(p);
    }

    /// The non-empty bins.
    fn finish(self) -> Vec<CalibrationBin> {
        self.edges
            .windows(2)
            .zip(self.bins)
            .filter(|(_, (count, _, _))| *count > 0)
            .map(|(edges, (count, positives, sum))| CalibrationBin {
                lower: edges[0],
                upper: edges[1],
                count,
                mean_predicted: sum.value() / count as f64,
                fraction_positive: positives as f64 / count as f64,
            })
            .collect()
    }
}

/// A row's sort key for ranking: the score's bits above the label bit. The bits of a
/// non-negative `f32` order like its value, so sorting the keys sorts by score and keeps equal
/// scores together (−0 is read as 0).
fn rank_key(score: f32, positive: bool) -> u64 {
    let bits = if score == 0.0 { 0 } else { score.to_bits() };
    (u64::from(bits) << 1) | u64::from(positive)
}

/// ROC AUC and average precision of a ranking.
struct Ranking {
    /// `None` unless both classes are present.
    roc_auc: Option<f64>,
    /// `None` when no row is positive.
    average_precision: Option<f64>,
}

/// Ranks the keys of [`rank_key`] (sorting them in place) and walks the distinct scores from
/// the highest down. The AUC is the Mann–Whitney U over P·N, counted exactly in integers: each
/// positive scores 1 per negative below it and ½ per negative tied with it (the trapezoid rule
/// over the ROC curve). Average precision is Σ (Rₙ − Rₙ₋₁)·Pₙ over those thresholds.
fn rank(keys: &mut [u64]) -> Ranking {
    keys.sort_unstable();
    let positives = keys.iter().filter(|&&key| key & 1 == 1).count() as u64;
    let negatives = keys.len() as u64 - positives;
    let (mut tp, mut fp, mut twice_u) = (0_u64, 0_u64, 0_u128);
    let mut average_precision = Sum::default();
    for group in keys.chunk_by(|a, b| a >> 1 == b >> 1).rev() {
        let group_positives = group.iter().filter(|&&key| key & 1 == 1).count() as u64;
        let group_negatives = group.len() as u64 - group_positives;
        tp += group_positives;
        fp += group_negatives;
        // Negatives strictly below count 2 (in 2U), tied ones 1.
        twice_u += u128::from(group_positives) * u128::from(2 * (negatives - fp) + group_negatives);
        if group_positives > 0 {
            average_precision
                .add(group_positives as f64 / positives as f64 * (tp as f64 / (tp + fp) as f64));
        }
    }
    Ranking {
        roc_auc: (positives > 0 && negatives > 0)
            .then(|| twice_u as f64 / (2.0 * positives as f64 * negatives as f64)),
        average_precision: (positives > 0).then(|| average_precision.value()),
    }
}

/// The `q` quantile of sorted, non-empty values with NumPy's default (linear, type 7)
/// interpolation, computed as NumPy's `_lerp` does.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let last = sorted.len() - 1;
    let index = last as f64 * q;
    if index >= last as f64 {
        return sorted[last];
    }
    let below = index.floor();
    let (a, b) = (sorted[below as usize], sorted[below as usize + 1]);
    let t = index - below;
    if t >= 0.5 {
        b - (b - a) * (1.0 - t)
    } else {
        a + (b - a) * t
    }
}

#[cfg(test)]
mod tests;
