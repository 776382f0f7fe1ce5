//! API-level tests: method choice, bad input, results and their JSON.

use super::*;
use crate::ErrorKind;

fn floats(v: &[f64]) -> ColumnData {
    ColumnData::Numeric(v.to_vec())
}

fn strings(v: &[&str]) -> ColumnData {
    ColumnData::Categorical(v.iter().map(|s| Some(s.to_string())).collect())
}

fn ints(v: impl IntoIterator<Item = i64>) -> ColumnData {
    ColumnData::Integer(v.into_iter().map(Some).collect())
}

fn run(reference: &ColumnData, current: &ColumnData) -> ColumnDrift {
    column_drift("c", reference, current, &ColumnOptions::default()).expect("valid input")
}

/// The table of Evidently's `_get_default_stattest` (`registry.py`).
#[test]
fn default_method_table() {
    use ColumnKind::*;
    assert_eq!(default_method(Numerical, 1000, 6), Some(Method::Ks));
    assert_eq!(default_method(Numerical, 1000, 5), Some(Method::ChiSquare));
    assert_eq!(default_method(Numerical, 1000, 3), Some(Method::ChiSquare));
    assert_eq!(default_method(Numerical, 1000, 2), Some(Method::ZTest));
    assert_eq!(
        default_method(Numerical, 1001, 6),
        Some(Method::Wasserstein)
    );
    assert_eq!(
        default_method(Numerical, 1001, 5),
        Some(Method::JensenShannon)
    );
    assert_eq!(
        default_method(Categorical, 1000, 3),
        Some(Method::ChiSquare)
    );
    assert_eq!(default_method(Categorical, 10, 2), Some(Method::ZTest));
    assert_eq!(default_method(Categorical, 10, 1), Some(Method::ZTest));
    assert_eq!(
        default_method(Categorical, 1001, 2),
        Some(Method::JensenShannon)
    );
    assert_eq!(default_method(Text, 10, 100), None);
}

/// The reference's *non-missing* count decides: 1001 rows with one NaN is still "small".
#[test]
fn reference_rows_are_counted_after_dropping_missing() {
    let mut r: Vec<f64> = (0..1001).map(|i| f64::from(i % 50)).collect();
    r[0] = f64::NAN;
    let c: Vec<f64> = (0..300).map(|i| f64::from(i % 50)).collect();
    let d = run(&floats(&r), &floats(&c));
    assert_eq!(d.method, Some(Method::Ks));
    assert_eq!((d.reference_rows, d.reference_missing), (1000, 1));
    r[0] = 1.0;
    assert_eq!(
        run(&floats(&r), &floats(&c)).method,
        Some(Method::Wasserstein)
    );
}

/// Distinct values are counted on both sides together: 3 in the reference plus 3 new ones in
/// the current data make 6, so KS rather than chi-squared.
#[test]
fn unique_values_count_both_sides() {
    let d = run(&floats(&[1.0, 2.0, 3.0, 1.0]), &floats(&[4.0, 5.0, 6.0]));
    assert_eq!((d.unique_values, d.method), (6, Some(Method::Ks)));
    let d = run(&floats(&[1.0, 2.0, 1.0]), &floats(&[1.0, 2.0, 2.0, 3.0]));
    assert_eq!(d.method, Some(Method::ChiSquare));
    let d = run(&floats(&[0.0, 1.0, 1.0]), &floats(&[1.0, 0.0]));
    assert_eq!(d.method, Some(Method::ZTest));
    // An integer column with <= 10 distinct current values is categorical.
    let d = run(&ints(0..40), &ints((0..40).map(|i| i % 7)));
    assert_eq!(
        (d.kind, d.method),
        (ColumnKind::Categorical, Some(Method::ChiSquare))
    );
}

#[test]
fn empty_and_all_null_sides_are_defined() {
    let d = run(&floats(&[]), &floats(&[1.0]));
    assert_eq!((d.score, d.drifted), (None, false));
    assert!(d.note.as_deref().is_some_and(|n| n.contains("reference")));
    let d = run(&floats(&[f64::NAN, f64::INFINITY]), &floats(&[f64::NAN]));
    assert_eq!(
        (d.score, d.reference_missing, d.current_missing),
        (None, 2, 1)
    );
    assert_eq!(d.histogram, Histogram::Empty);
    let d = run(
        &ColumnData::Categorical(vec![None, None]),
        &strings(&["a", "a"]),
    );
    assert_eq!(d.score, None);
    let d = run(&ColumnData::Integer(vec![]), &ColumnData::Integer(vec![]));
    assert_eq!(d.score, None);
}

/// Constant columns: KS gives p = 1 when both are the same constant; Wasserstein divides by
/// 0.001 when the reference is constant; the Z-test gives 1 for the same single value.
#[test]
fn constant_columns() {
    let same = run(&floats(&[2.0; 5]), &floats(&[2.0; 7]));
    assert_eq!(
        (same.method, same.score, same.drifted),
        (Some(Method::ZTest), Some(1.0), false)
    );
    let opts = ColumnOptions {
        method: Some(Method::Wasserstein),
        ..Default::default()
    };
    let d = column_drift(
        "c",
        &floats(&[1.0; 4]),
        &floats(&[1.0, 1.0, 1.0, 1.001]),
        &opts,
    )
    .expect("valid");
    // W = 0.001 / 4 = 0.00025, normed by 0.001 -> 0.25.
    assert!(
        d.score.is_some_and(|s| (s - 0.25).abs() < 1e-9),
        "{:?}",
        d.score
    );
    assert!(d.drifted);
    let opts = ColumnOptions {
        method: Some(Method::Ks),
        ..Default::default()
    };
    let d = column_drift("c", &floats(&[3.0; 4]), &floats(&[3.0; 9]), &opts).expect("valid");
    assert_eq!(d.score, Some(1.0));
}

#[test]
fn bad_input_is_an_error_naming_the_column() {
    let err = column_drift(
        "age",
        &floats(&[1.0]),
        &strings(&["a"]),
        &ColumnOptions::default(),
    )
    .expect_err("mixed types");
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("'age'"), "{err}");
    let opts = ColumnOptions {
        kind: Some(ColumnKind::Numerical),
        ..Default::default()
    };
    assert!(column_drift("s", &strings(&["a"]), &strings(&["b"]), &opts).is_err());
    let opts = ColumnOptions {
        method: Some(Method::Ks),
        ..Default::default()
    };
    assert!(column_drift("s", &strings(&["a"]), &strings(&["a"]), &opts).is_err());
    let opts = ColumnOptions {
        threshold: Some(f64::NAN),
        ..Default::default()
    };
    assert!(column_drift("x", &floats(&[1.0]), &floats(&[1.0]), &opts).is_err());
    let opts = ColumnOptions {
        histogram_bins: Some(0),
        ..Default::default()
    };
    assert!(column_drift("x", &floats(&[1.0]), &floats(&[1.0]), &opts).is_err());
}

#[test]
fn text_columns_are_not_tested() {
    let d = run(&strings(&["a", "b", "c"]), &strings(&["x", "y", "z", "x"]));
    assert_eq!((d.kind, d.method, d.score), (ColumnKind::Text, None, None));
    let opts = ColumnOptions {
        kind: Some(ColumnKind::Categorical),
        ..Default::default()
    };
    let d = column_drift(
        "t",
        &strings(&["a", "b", "c"]),
        &strings(&["x", "y", "z", "x"]),
        &opts,
    )
    .expect("valid");
    assert_eq!((d.method, d.score), (Some(Method::ChiSquare), Some(0.0)));
}

/// Forcing `chisquare` on a single category gives an undefined statistic (SciPy: NaN).
#[test]
fn undefined_statistic_has_no_score() {
    let opts = ColumnOptions {
        method: Some(Method::ChiSquare),
        ..Default::default()
    };
    let d = column_drift(
        "c",
        &strings(&["a", "a"]),
        &strings(&["a", "a", "a"]),
        &opts,
    )
    .expect("valid");
    assert_eq!((d.score, d.drifted), (None, false));
    assert!(d.note.is_some());
}

#[test]
fn thresholds_are_configurable() {
    let r = floats(&(0..100).map(f64::from).collect::<Vec<_>>());
    let c = floats(&(10..110).map(f64::from).collect::<Vec<_>>());
    let d = run(&r, &c);
    assert_eq!((d.threshold, d.drifted), (Some(0.05), false));
    let opts = ColumnOptions {
        threshold: Some(0.9),
        ..Default::default()
    };
    let d = column_drift("c", &r, &c, &opts).expect("valid");
    assert_eq!((d.threshold, d.drifted), (Some(0.9), true));
}

#[test]
fn histograms_share_bins_and_categories() {
    let d = run(
        &floats(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
        &floats(&[10.0]),
    );
    let Histogram::Bins {
        edges,
        reference,
        current,
    } = &d.histogram
    else {
        panic!("numerical histogram expected: {:?}", d.histogram);
    };
    assert_eq!((edges.len(), edges[0], edges[20]), (21, 0.0, 10.0));
    assert_eq!((reference.iter().sum::<u64>(), current[19]), (7, 1));
    let many: Vec<String> = (0..30).map(|i| format!("k{i:02}")).collect();
    let r: Vec<&str> = many.iter().map(String::as_str).chain(["k00"; 30]).collect();
    let d = run(&strings(&r), &strings(&["k00", "k01", "k00", "k00"]));
    let Histogram::Categories { labels, other, .. } = &d.histogram else {
        panic!("categorical histogram expected");
    };
    assert_eq!(
        (labels.len(), labels[0].as_str()),
        (MAX_HISTOGRAM_CATEGORIES, "k00")
    );
    assert_eq!(
        other
            .as_ref()
            .map(|o| (o.categories, o.reference, o.current)),
        Some((10, 10, 0))
    );
}

#[test]
fn dataset_drift_share() {
    let cols = vec![
        run(
            &floats(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
            &floats(&[11.0, 12.0, 13.0, 14.0, 15.0, 16.0]),
        ),
        run(
            &strings(&["a", "b", "a", "b"]),
            &strings(&["a", "b", "b", "a"]),
        ),
        run(&floats(&[]), &floats(&[1.0])),
    ];
    assert!(cols[0].drifted && !cols[1].drifted);
    let d = dataset_drift(cols.clone(), DEFAULT_DRIFT_SHARE);
    assert_eq!((d.number_of_columns, d.number_of_drifted_columns), (2, 1));
    assert_eq!((d.share_of_drifted_columns, d.dataset_drift), (0.5, true));
    assert_eq!(d.skipped_columns, vec!["c".to_string()]);
    assert!(!dataset_drift(cols.clone(), 0.6).dataset_drift);
    assert!(!dataset_drift(cols[2..].to_vec(), 0.0).dataset_drift);
    assert!(!dataset_drift(cols, f64::NAN).dataset_drift);
}

#[test]
fn results_serialize() {
    let d = run(
        &strings(&["a", "b", "a", "b"]),
        &strings(&["a", "a", "a", "b"]),
    );
    let json = serde_json::to_value(&d).expect("serializable");
    assert_eq!(json["method"], "z");
    assert_eq!(json["kind"], "categorical");
    assert_eq!(json["histogram"]["type"], "categories");
    let ds = serde_json::to_value(dataset_drift(vec![d], 0.5)).expect("serializable");
    assert_eq!(ds["number_of_columns"], 1);
}

/// Every method on awkward inputs returns a result or an error, never a panic: extreme and
/// subnormal values, ranges that overflow `f64`, single values, all-missing sides.
#[test]
fn no_panics_on_awkward_input() {
    let numeric = [
        vec![],
        vec![f64::NAN; 3],
        vec![f64::INFINITY, f64::NEG_INFINITY],
        vec![0.0],
        vec![-f64::MAX, f64::MAX],
        vec![f64::MIN_POSITIVE, 5e-324, 0.0, -0.0],
        vec![1e300, -1e300, 0.0, 1.0, 2.0, 3.0, 4.0],
        (0..50).map(|i| f64::from(i) * 1e-310).collect(),
    ];
    let categorical = [
        vec![],
        vec![None],
        vec![Some("a".to_string())],
        vec![Some(String::new()), Some("é".to_string())],
    ];
    let kinds = [
        None,
        Some(ColumnKind::Numerical),
        Some(ColumnKind::Categorical),
        Some(ColumnKind::Text),
    ];
    let methods = std::iter::once(None).chain(Method::ALL.into_iter().map(Some));
    for method in methods {
        for kind in kinds {
            let opts = ColumnOptions {
                method,
                kind,
                ..Default::default()
            };
            for r in &numeric {
                for c in &numeric {
                    if let Ok(d) = column_drift("n", &floats(r), &floats(c), &opts) {
                        assert!(
                            d.score.is_none_or(f64::is_finite),
                            "{r:?} {c:?} {opts:?}: {d:?}"
                        );
                        assert!(serde_json::to_string(&d).is_ok());
                    }
                }
            }
            for r in &categorical {
                for c in &categorical {
                    let (r, c) = (
                        ColumnData::Categorical(r.clone()),
                        ColumnData::Categorical(c.clone()),
                    );
                    let _ = column_drift("s", &r, &c, &opts);
                }
            }
            let b = ColumnData::Boolean(vec![Some(true), None, Some(false)]);
            let _ = column_drift("b", &b, &b, &opts);
            let i = ColumnData::Integer(vec![Some(i64::MAX), Some(i64::MIN), None]);
            let _ = column_drift("i", &i, &ints([0, 1, 2]), &opts);
        }
    }
}
