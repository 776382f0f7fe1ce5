//! Hand-computed examples; the arithmetic is in the comments.

use super::*;
use crate::ErrorKind;

fn close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= 1e-12 * expected.abs().max(1.0),
        "{actual} != {expected}"
    );
}

fn some_close(actual: Option<f64>, expected: f64) {
    close(actual.expect("defined"), expected);
}

fn bin(
    lower: f64,
    upper: f64,
    count: u64,
    mean_predicted: f64,
    fraction_positive: f64,
) -> CalibrationBin {
    CalibrationBin {
        lower,
        upper,
        count,
        mean_predicted,
        fraction_positive,
    }
}

/// (score, label): (0.25, F) (0.5, T) (0.5, F) (0.75, T) (1.0, T) (0.0, F); P = N = 3, and a
/// positive and a negative tie at 0.5.
const LABELS: [bool; 6] = [false, true, false, true, true, false];
const SCORES: [f32; 6] = [0.25, 0.5, 0.5, 0.75, 1.0, 0.0];

#[test]
fn binary_with_tied_scores() {
    let m = binary(&LABELS, &SCORES, 0.5, 4).expect("valid");
    assert_eq!((m.rows, m.positives), (6, 3));
    // Predicted positive (score ≥ 0.5): rows 2, 3, 4, 5 → TP 3 (2, 4, 5), FP 1 (3),
    // TN 2 (1, 6), FN 0.
    assert_eq!(m.confusion_matrix, [[2, 1], [0, 3]]);
    close(m.accuracy, 5.0 / 6.0);
    some_close(m.precision, 3.0 / 4.0);
    some_close(m.recall, 1.0);
    some_close(m.f1, 6.0 / 7.0); // 2·3 / (2·3 + 1 + 0)
    // U: positive 0.5 beats 0.25 and 0.0 and ties 0.5 → 2.5; 0.75 and 1.0 beat all three → 3
    // each; U = 8.5 of P·N = 9.
    some_close(m.roc_auc, 8.5 / 9.0);
    // Thresholds down: 1.0 (TP 1, FP 0): ⅓·1; 0.75 (TP 2, FP 0): ⅓·1; 0.5 (TP 3, FP 1): ⅓·¾;
    // 0.25 and 0.0 add no positive → AP = ⅓ + ⅓ + ¼ = 11/12.
    some_close(m.pr_auc, 11.0 / 12.0);
    // −ln of the label's probability: 0.75, 0.5, 0.5, 0.75, 1 − ε (1.0 clipped), 1 − ε (1 − 0.0
    // clipped).
    let expected =
        (2.0 * (4.0_f64 / 3.0).ln() + 2.0 * 2.0_f64.ln() - 2.0 * (1.0 - f64::EPSILON).ln()) / 6.0;
    close(m.log_loss, expected);
    // (y − p)²: 0.0625 + 0.25 + 0.25 + 0.0625 + 0 + 0 = 0.625.
    close(m.brier, 0.625 / 6.0);
    // Edges 0, 0.25, 0.5, 0.75, 1; a score on an inner edge goes to the lower bin:
    // 0.0 and 0.25 → bin 0; 0.5, 0.5 → bin 1; 0.75 → bin 2; 1.0 → bin 3.
    assert_eq!(
        m.calibration,
        vec![
            bin(0.0, 0.25, 2, 0.125, 0.0),
            bin(0.25, 0.5, 2, 0.5, 0.5),
            bin(0.5, 0.75, 1, 0.75, 1.0),
            bin(0.75, 1.0, 1, 1.0, 1.0),
        ]
    );
}

#[test]
fn binary_threshold_moves_the_confusion_matrix_only() {
    let base = binary(&LABELS, &SCORES, 0.5, 4).expect("valid");
    // Score ≥ 0.75: rows 4, 5 → TP 2, FP 0, FN 1, TN 3.
    let m = binary(&LABELS, &SCORES, 0.75, 4).expect("valid");
    assert_eq!(m.confusion_matrix, [[3, 0], [1, 2]]);
    close(m.accuracy, 5.0 / 6.0);
    some_close(m.precision, 1.0);
    some_close(m.recall, 2.0 / 3.0);
    some_close(m.f1, 0.8); // 4 / (4 + 0 + 1)
    assert_eq!(
        (m.roc_auc, m.pr_auc, m.log_loss, m.brier),
        (base.roc_auc, base.pr_auc, base.log_loss, base.brier)
    );
    assert_eq!(m.calibration, base.calibration);
    // Just above 0.5, the two rows at 0.5 turn negative: TP 2, FP 0, FN 1, TN 3 again.
    let m = binary(&LABELS, &SCORES, 0.500_000_1, 4).expect("valid");
    assert_eq!(m.confusion_matrix, [[3, 0], [1, 2]]);
    // Threshold 0: everything positive → TP 3, FP 3; precision ½, F1 6/9.
    let m = binary(&LABELS, &SCORES, 0.0, 4).expect("valid");
    assert_eq!(m.confusion_matrix, [[0, 3], [0, 3]]);
    some_close(m.precision, 0.5);
    some_close(m.f1, 6.0 / 9.0);
    // Above every score: nothing predicted positive → precision 0/0 undefined, recall 0/3,
    // F1 = 0 / (0 + 0 + 3) = 0 as scikit-learn computes it.
    let m = binary(&LABELS, &SCORES, 1.5, 4).expect("valid");
    assert_eq!(m.confusion_matrix, [[3, 0], [3, 0]]);
    assert_eq!((m.precision, m.recall, m.f1), (None, Some(0.0), Some(0.0)));
}

#[test]
fn binary_with_one_class() {
    // All positive: no AUC; AP: 0.9 (TP 1, FP 0) ½·1, 0.2 (TP 2, FP 0) ½·1 → 1.
    let m = binary(&[true, true], &[0.2, 0.9], 0.5, 10).expect("valid");
    assert_eq!(m.roc_auc, None);
    some_close(m.pr_auc, 1.0);
    assert_eq!(m.confusion_matrix, [[0, 0], [1, 1]]);
    assert_eq!(
        (m.precision, m.recall, m.f1),
        (Some(1.0), Some(0.5), Some(2.0 / 3.0))
    );
    // All negative: no AUC, no AP, recall 0/0; 0.9 is a false positive → precision 0/1,
    // F1 0 / (0 + 1 + 0).
    let m = binary(&[false, false], &[0.2, 0.9], 0.5, 10).expect("valid");
    assert_eq!((m.roc_auc, m.pr_auc), (None, None));
    assert_eq!(
        (m.positives, m.precision, m.recall, m.f1),
        (0, Some(0.0), None, Some(0.0))
    );
    // No label and no prediction positive: F1 is 0/0.
    let m = binary(&[false], &[0.1], 0.5, 10).expect("valid");
    assert_eq!((m.precision, m.recall, m.f1), (None, None, None));
    close(m.accuracy, 1.0);
}

#[test]
fn perfect_and_reversed_rankings() {
    let m = binary(&[false, false, true, true], &[0.1, 0.2, 0.8, 0.9], 0.5, 10).expect("valid");
    assert_eq!((m.roc_auc, m.pr_auc), (Some(1.0), Some(1.0)));
    // Reversed: U = 0; AP: 0.9, 0.8 negatives; 0.2 (TP 1, FP 2): ½·⅓; 0.1 (TP 2, FP 2): ½·½.
    let m = binary(&[true, true, false, false], &[0.1, 0.2, 0.8, 0.9], 0.5, 10).expect("valid");
    assert_eq!(m.roc_auc, Some(0.0));
    some_close(m.pr_auc, 1.0 / 6.0 + 1.0 / 4.0);
    // All tied: every pair counts ½.
    let m = binary(&[true, false, true], &[0.3, 0.3, 0.3], 0.5, 10).expect("valid");
    some_close(m.roc_auc, 0.5);
    some_close(m.pr_auc, 2.0 / 3.0);
}

#[test]
fn calibration_edges_follow_numpy() {
    // np.linspace(0, 1, 11)[3] = 3 · 0.1 = 0.30000000000000004; the f32 0.3 (0.300000011920…)
    // is above it (bin 3), the f32 0.7 (0.699999988…) below 7 · 0.1 (bin 6), 0.5 on the edge
    // 5 · 0.1 = 0.5 goes to bin 4, and 1.0 to the last bin.
    let m = binary(&[true, false, true, false], &[0.3, 0.7, 0.5, 1.0], 0.5, 10).expect("valid");
    let lower: Vec<f64> = m.calibration.iter().map(|b| b.lower).collect();
    assert_eq!(lower, [3.0 * 0.1, 0.4, 6.0 * 0.1, 9.0 * 0.1]);
    assert_eq!(m.calibration[0].upper, 4.0 * 0.1);
    assert_eq!(m.calibration[3].upper, 1.0);
    assert!(m.calibration.iter().all(|b| b.count == 1));
    // One bin holds everything.
    let m = binary(&[true, false], &[0.0, 1.0], 0.5, 1).expect("valid");
    assert_eq!(m.calibration, vec![bin(0.0, 1.0, 2, 0.5, 0.5)]);
}

fn classes(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

#[test]
fn multiclass_three_classes() {
    #[rustfmt::skip]
    let probabilities: [f32; 15] = [
        0.5, 0.25, 0.25,    // label a, predicted a
        0.25, 0.5, 0.25,    // label b, predicted b
        0.5, 0.25, 0.25,    // label c, predicted a
        0.0, 0.25, 0.75,    // label c, predicted c
        0.125, 0.125, 0.75, // label b, predicted c
    ];
    let m = multiclass(
        &[0, 1, 2, 2, 1],
        &probabilities,
        &classes(&["a", "b", "c"]),
        2,
    )
    .expect("valid");
    assert_eq!(m.rows, 5);
    assert_eq!(
        m.confusion_matrix,
        vec![vec![1, 0, 0], vec![0, 1, 1], vec![1, 0, 1]]
    );
    close(m.accuracy, 0.6);
    // a: support 1, predicted 2, TP 1 → ½, 1, 2/3. b: 2, 1, 1 → 1, ½, 2/3. c: 2, 2, 1 → ½, ½, ½.
    let figures: Vec<_> = m
        .per_class
        .iter()
        .map(|c| (c.class.as_str(), c.support))
        .collect();
    assert_eq!(figures, [("a", 1), ("b", 2), ("c", 2)]);
    for (class, [p, r, f]) in m.per_class.iter().zip([
        [0.5, 1.0, 2.0 / 3.0],
        [1.0, 0.5, 2.0 / 3.0],
        [0.5, 0.5, 0.5],
    ]) {
        some_close(class.precision, p);
        some_close(class.recall, r);
        some_close(class.f1, f);
    }
    close(m.macro_precision, 2.0 / 3.0); // (½ + 1 + ½) / 3
    close(m.macro_recall, 2.0 / 3.0); // (1 + ½ + ½) / 3
    close(m.macro_f1, 11.0 / 18.0); // (2/3 + 2/3 + ½) / 3
    close(m.weighted_precision, 0.7); // (½·1 + 1·2 + ½·2) / 5
    close(m.weighted_recall, 0.6); // (1·1 + ½·2 + ½·2) / 5
    close(m.weighted_f1, 0.6); // (2/3·1 + 2/3·2 + ½·2) / 5
    // a: the positive 0.5 beats 0.25, 0, 0.125 and ties 0.5 → 3.5/4.
    // b: positives 0.5 (beats 3 × 0.25) and 0.125 (beats none) → 3/6.
    // c: positives 0.25 (ties two 0.25 → 1) and 0.75 (beats two, ties one → 2.5) → 3.5/6.
    // Mean: (21/24 + 12/24 + 14/24) / 3 = 47/72.
    some_close(m.roc_auc_ovr, 47.0 / 72.0);
    // AP a: 0.5 (TP 1, FP 1) → 1·½. b: 0.5 (1, 0) → ½·1; 0.125 (2, 3) → ½·⅖ → 0.7.
    // c: 0.75 (1, 1) → ½·½; 0.25 (2, 3) → ½·⅖ → 0.45. Mean: 1.65 / 3 = 0.55.
    some_close(m.pr_auc_ovr, 0.55);
    // −ln p(label): ½, ½, ¼, ¾, ⅛ → (7 ln 2 + ln 4/3) / 5.
    close(
        m.log_loss,
        (7.0 * 2.0_f64.ln() + (4.0_f64 / 3.0).ln()) / 5.0,
    );
    // Σ (p − onehot)² per row: 0.375, 0.375, 0.875, 0.125, 1.34375 → 3.09375 / 5.
    close(m.brier, 0.61875);
    // Top probability vs correct: (½ ✓) (½ ✓) (½ ✗) (¾ ✓) (¾ ✗); ½ sits on the inner edge → bin 0.
    assert_eq!(
        m.calibration,
        vec![
            bin(0.0, 0.5, 3, 0.5, 2.0 / 3.0),
            bin(0.5, 1.0, 2, 0.75, 0.5)
        ]
    );
}

#[test]
fn multiclass_absent_class_and_two_classes() {
    // Class c has no row: no OvR AUC; AP over a and b only.
    // a: column 0.75 (+), 0.25 (+), 0.5: 0.75 (TP 1, FP 0) → ½·1; 0.5 (1, 1) adds no positive;
    // 0.25 (2, 1) → ½·⅔; AP ⅚.
    // b: column 0.25, 0.75, 0.5 (+): 0.75 (0, 1); 0.5 (1, 1) → 1·½; AP ½.
    #[rustfmt::skip]
    let probabilities: [f32; 9] = [
        0.75, 0.25, 0.0, // a
        0.25, 0.75, 0.0, // a
        0.5, 0.5, 0.0,   // b, tie → predicted a
    ];
    let m = multiclass(&[0, 0, 1], &probabilities, &classes(&["a", "b", "c"]), 10).expect("valid");
    assert_eq!(m.roc_auc_ovr, None);
    some_close(m.pr_auc_ovr, (5.0 / 6.0 + 0.5) / 2.0);
    assert_eq!(
        m.confusion_matrix,
        vec![vec![1, 1, 0], vec![1, 0, 0], vec![0, 0, 0]]
    );
    assert_eq!(
        (
            m.per_class[2].support,
            m.per_class[2].precision,
            m.per_class[2].f1
        ),
        (0, None, None)
    );
    close(m.macro_recall, 0.5 / 3.0); // (½ + 0 + 0 undefined → 0) / 3
    // Two classes: the Brier score is halved, as the binary one: ((0.25² · 2) + (0.5² · 2)) / 2 / 2.
    let m = multiclass(
        &[0, 1],
        &[0.75, 0.25, 0.5, 0.5],
        &classes(&["no", "yes"]),
        10,
    )
    .expect("valid");
    close(m.brier, (0.125 + 0.5) / 2.0 / 2.0);
}

#[test]
fn regression_figures() {
    // Residuals y − p: −0.5, 0, 1, −1, 2.
    let m = regression(&[1.0, 2.0, 3.0, 4.0, 10.0], &[1.5, 2.0, 2.0, 5.0, 8.0]).expect("valid");
    assert_eq!(m.rows, 5);
    close(m.mae, 0.9); // (0.5 + 0 + 1 + 1 + 2) / 5
    close(m.mse, 1.25); // (0.25 + 0 + 1 + 1 + 4) / 5
    close(m.rmse, 1.25_f64.sqrt());
    close(m.mean_residual, 0.3); // 1.5 / 5
    close(m.max_error, 2.0);
    // Mean label 4, SS_tot = 9 + 4 + 1 + 0 + 36 = 50, SS_res = 6.25 → 1 − 0.125.
    some_close(m.r2, 0.875);
    // Sorted −1, −0.5, 0, 1, 2; index 4q: 0.2 → −1 + 0.2·0.5; 1, 2, 3 exact; 3.8 → 1 + 0.8·1.
    let quantiles: Vec<f64> = m.residual_quantiles.iter().map(|q| q.q).collect();
    assert_eq!(quantiles, [0.05, 0.25, 0.5, 0.75, 0.95]);
    for (q, expected) in m.residual_quantiles.iter().zip([-0.9, -0.5, 0.0, 1.0, 1.8]) {
        close(q.value, expected);
    }
    // Constant labels: R² undefined; one row: every quantile is the residual.
    let m = regression(&[3.0, 3.0], &[1.0, 2.0]).expect("valid");
    assert_eq!(m.r2, None);
    let m = regression(&[3.0], &[1.0]).expect("valid");
    assert!(m.residual_quantiles.iter().all(|q| q.value == 2.0));
}

fn invalid<T: std::fmt::Debug>(result: Result<T>, message: &str) {
    let error = result.expect_err("invalid input");
    assert_eq!(error.kind(), ErrorKind::InvalidArgument);
    assert!(error.to_string().contains(message), "{error}");
}

#[test]
fn errors() {
    let abc = classes(&["a", "b", "c"]);
    invalid(binary(&[], &[], 0.5, 10), "no rows to evaluate");
    invalid(multiclass(&[], &[], &abc, 10), "no rows to evaluate");
    invalid(regression(&[], &[]), "no rows to evaluate");
    invalid(
        binary(&[true], &[0.5, 0.5], 0.5, 10),
        "1 labels but 2 scores",
    );
    invalid(
        multiclass(&[0, 1], &[0.5, 0.25, 0.25], &abc, 10),
        "2 labels but 1 probability rows",
    );
    invalid(multiclass(&[0], &[0.5, 0.5], &abc, 10), "do not make rows");
    invalid(
        regression(&[1.0], &[1.0, 2.0]),
        "1 labels but 2 predictions",
    );
    invalid(binary(&[true], &[0.5], 0.5, 0), "at least one bin");
    invalid(
        multiclass(&[0], &[0.5, 0.25, 0.25], &abc, 0),
        "at least one bin",
    );
    invalid(multiclass(&[3], &[0.5, 0.25, 0.25], &abc, 10), "label 3");
    invalid(
        multiclass(&[0], &[1.0], &classes(&["a"]), 10),
        "at least two",
    );
    invalid(binary(&[true], &[1.5], 0.5, 10), "not a probability");
    invalid(binary(&[true], &[f32::NAN], 0.5, 10), "not a probability");
    invalid(
        multiclass(&[0], &[0.5, -0.25, 0.75], &abc, 10),
        "not a probability",
    );
    invalid(binary(&[true], &[0.5], f64::NAN, 10), "threshold");
    invalid(regression(&[f64::NAN], &[1.0]), "finite");
    invalid(regression(&[1.0], &[f32::INFINITY]), "finite");
}
