//! Agreement with scikit-learn (version in the fixture, 1.9.1 when written) on the data of
//! `tests/fixtures/make_metrics_reference.py`: 2,000 binary rows with tied float32 scores,
//! 1,500 three-class rows with float32 probabilities (ties within rows included), 1,000
//! regression rows. Figures agree to 1e-9 relative; counts and bin edges exactly.
#![allow(clippy::unwrap_used, missing_docs)]

use serde_json::Value;
use verity_monitor::model::metrics::{CalibrationBin, binary, multiclass, regression};

const TOLERANCE: f64 = 1e-9;

fn reference() -> Value {
    serde_json::from_str(include_str!("fixtures/metrics_reference.json")).unwrap()
}

fn close(what: &str, actual: f64, expected: &Value) {
    let expected = expected
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: {expected} is not a number"));
    assert!(
        (actual - expected).abs() <= TOLERANCE * expected.abs() + 1e-15,
        "{what}: {actual} != {expected} (scikit-learn)"
    );
}

fn close_option(what: &str, actual: Option<f64>, expected: &Value) {
    match actual {
        Some(actual) => close(what, actual, expected),
        None => assert!(
            expected.is_null(),
            "{what}: undefined, scikit-learn says {expected}"
        ),
    }
}

fn floats(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

/// The file's numbers are the exact float64 widenings of float32 values.
fn float32s(value: &Value) -> Vec<f32> {
    floats(value)
        .into_iter()
        .map(|v| {
            let narrow = v as f32;
            assert_eq!(f64::from(narrow), v, "{v} is not a float32");
            narrow
        })
        .collect()
}

fn counts(value: &Value) -> Vec<u64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect()
}

fn matrix(value: &Value) -> Vec<Vec<u64>> {
    value.as_array().unwrap().iter().map(counts).collect()
}

fn check_calibration(what: &str, actual: &[CalibrationBin], expected: &Value) {
    let count = counts(&expected["count"]);
    assert_eq!(
        actual.iter().map(|b| b.count).collect::<Vec<_>>(),
        count,
        "{what} counts"
    );
    for (i, bin) in actual.iter().enumerate() {
        assert_eq!(
            bin.lower,
            expected["lower"][i].as_f64().unwrap(),
            "{what} bin {i} lower"
        );
        assert_eq!(
            bin.upper,
            expected["upper"][i].as_f64().unwrap(),
            "{what} bin {i} upper"
        );
        close(
            &format!("{what} bin {i} prob_pred"),
            bin.mean_predicted,
            &expected["prob_pred"][i],
        );
        close(
            &format!("{what} bin {i} prob_true"),
            bin.fraction_positive,
            &expected["prob_true"][i],
        );
    }
}

#[test]
fn sklearn_version_is_recorded() {
    let reference = reference();
    let version = reference["versions"]["scikit-learn"].as_str().unwrap();
    assert!(version.starts_with("1."), "{version}");
}

#[test]
fn binary_matches_sklearn() {
    let reference = reference();
    let case = &reference["binary"];
    let labels: Vec<bool> = case["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_bool().unwrap())
        .collect();
    let scores = float32s(&case["scores"]);
    let bins = usize::try_from(case["bins"].as_u64().unwrap()).unwrap();
    let evaluations = case["evaluations"].as_array().unwrap();
    assert_eq!(evaluations.len(), 2);
    for expected in evaluations {
        let threshold = expected["threshold"].as_f64().unwrap();
        let m = binary(&labels, &scores, threshold, bins).unwrap();
        let what = |name: &str| format!("binary at {threshold}: {name}");
        assert_eq!(m.rows, 2000);
        assert_eq!(m.positives, case["positives"].as_u64().unwrap());
        assert_eq!(m.threshold, threshold);
        let confusion: Vec<Vec<u64>> = m.confusion_matrix.iter().map(|row| row.to_vec()).collect();
        assert_eq!(
            confusion,
            matrix(&expected["confusion_matrix"]),
            "{}",
            what("confusion")
        );
        close(&what("accuracy"), m.accuracy, &expected["accuracy"]);
        close_option(&what("precision"), m.precision, &expected["precision"]);
        close_option(&what("recall"), m.recall, &expected["recall"]);
        close_option(&what("f1"), m.f1, &expected["f1"]);
        close_option(&what("roc_auc"), m.roc_auc, &case["roc_auc"]);
        close_option(
            &what("average_precision"),
            m.pr_auc,
            &case["average_precision"],
        );
        close(&what("log_loss"), m.log_loss, &case["log_loss"]);
        close(&what("brier"), m.brier, &case["brier"]);
        check_calibration(&what("calibration"), &m.calibration, &case["calibration"]);
    }
}

#[test]
fn multiclass_matches_sklearn() {
    let reference = reference();
    let case = &reference["multiclass"];
    let classes: Vec<String> = case["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let labels: Vec<u32> = case["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| u32::try_from(v.as_u64().unwrap()).unwrap())
        .collect();
    let rows = case["probabilities"].as_array().unwrap();
    let probabilities: Vec<f32> = rows.iter().flat_map(float32s).collect();
    assert_eq!(probabilities.len(), labels.len() * classes.len());
    let bins = usize::try_from(case["bins"].as_u64().unwrap()).unwrap();
    let m = multiclass(&labels, &probabilities, &classes, bins).unwrap();

    assert_eq!(m.rows, 1500);
    assert_eq!(m.classes, classes);
    assert_eq!(m.confusion_matrix, matrix(&case["confusion_matrix"]));
    close("accuracy", m.accuracy, &case["accuracy"]);
    close(
        "macro precision",
        m.macro_precision,
        &case["macro"]["precision"],
    );
    close("macro recall", m.macro_recall, &case["macro"]["recall"]);
    close("macro f1", m.macro_f1, &case["macro"]["f1"]);
    close(
        "weighted precision",
        m.weighted_precision,
        &case["weighted"]["precision"],
    );
    close(
        "weighted recall",
        m.weighted_recall,
        &case["weighted"]["recall"],
    );
    close("weighted f1", m.weighted_f1, &case["weighted"]["f1"]);
    for (i, (actual, expected)) in m
        .per_class
        .iter()
        .zip(case["per_class"].as_array().unwrap())
        .enumerate()
    {
        assert_eq!(actual.class, classes[i]);
        assert_eq!(
            actual.support,
            expected["support"].as_u64().unwrap(),
            "class {i} support"
        );
        close_option(
            &format!("class {i} precision"),
            actual.precision,
            &expected["precision"],
        );
        close_option(
            &format!("class {i} recall"),
            actual.recall,
            &expected["recall"],
        );
        close_option(&format!("class {i} f1"), actual.f1, &expected["f1"]);
    }
    close_option("roc_auc_ovr", m.roc_auc_ovr, &case["roc_auc_ovr"]);
    close_option("pr_auc_ovr", m.pr_auc_ovr, &case["pr_auc_ovr"]);
    close("log_loss", m.log_loss, &case["log_loss"]);
    close("brier", m.brier, &case["brier"]);
    check_calibration(
        "multiclass calibration",
        &m.calibration,
        &case["calibration"],
    );
}

#[test]
fn regression_matches_sklearn() {
    let reference = reference();
    let case = &reference["regression"];
    let labels = floats(&case["labels"]);
    let predictions = float32s(&case["predictions"]);
    let m = regression(&labels, &predictions).unwrap();

    assert_eq!(m.rows, 1000);
    close("mae", m.mae, &case["mae"]);
    close("mse", m.mse, &case["mse"]);
    close("rmse", m.rmse, &case["rmse"]);
    close_option("r2", m.r2, &case["r2"]);
    close("mean_residual", m.mean_residual, &case["mean_residual"]);
    close("max_error", m.max_error, &case["max_error"]);
    let quantiles = floats(&case["quantiles"]);
    assert_eq!(
        m.residual_quantiles.iter().map(|q| q.q).collect::<Vec<_>>(),
        quantiles
    );
    for (actual, expected) in m
        .residual_quantiles
        .iter()
        .zip(case["residual_quantiles"].as_array().unwrap())
    {
        close(
            &format!("residual quantile {}", actual.q),
            actual.value,
            expected,
        );
    }
}
