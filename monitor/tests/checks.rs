//! Quality suites, drift and fairness checks run end to end over bytes in an object store,
//! with hand-computed expectations and the bad inputs of issue 4.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use serde_json::json;
use verity_monitor::ErrorKind;
use verity_monitor::check::{
    DriftConfig, FairnessCheckConfig, NoProgress, QualitySuite, Status, run_drift, run_fairness,
    run_quality,
};
use verity_monitor::source::{Session, Source};
use verity_store::DataFormat;

use common::parquet;

struct Files {
    session: Session,
}

impl Files {
    async fn new(files: Vec<(&str, Vec<u8>)>) -> Self {
        let store = Arc::new(InMemory::new());
        for (key, bytes) in files {
            store.put(&Path::from(key), bytes.into()).await.unwrap();
        }
        let store: Arc<dyn ObjectStore> = store;
        Files {
            session: Session::new(store).unwrap(),
        }
    }
}

fn source(key: &str) -> Source {
    Source {
        key: key.into(),
        format: DataFormat::Parquet,
    }
}

fn csv_source(key: &str) -> Source {
    Source {
        key: key.into(),
        format: DataFormat::Csv,
    }
}

fn f64s(v: &[Option<f64>]) -> ArrayRef {
    Arc::new(Float64Array::from(v.to_vec()))
}
fn strs(v: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}
fn ints(v: &[i64]) -> ArrayRef {
    Arc::new(Int64Array::from(v.to_vec()))
}

/// age: 10, 20, 30, NaN, null, 250 (NaN and null missing); email: two bad; id repeats 3.
fn people() -> Vec<u8> {
    parquet(vec![
        (
            "age",
            f64s(&[
                Some(10.0),
                Some(20.0),
                Some(30.0),
                Some(f64::NAN),
                None,
                Some(250.0),
            ]),
        ),
        (
            "email",
            strs(&[
                Some("a@x.org"),
                Some("b@x.org"),
                Some("nope"),
                None,
                Some("c@x.org"),
                Some("also nope"),
            ]),
        ),
        ("id", ints(&[1, 2, 3, 3, 3, 4])),
        (
            "country",
            strs(&[
                Some("FR"),
                Some("DE"),
                Some("FR"),
                Some("XX"),
                Some("DE"),
                None,
            ]),
        ),
    ])
}

async fn quality(
    suite: serde_json::Value,
) -> verity_monitor::Result<verity_monitor::check::QualityOutcome> {
    let files = Files::new(vec![("people", people())]).await;
    let suite: QualitySuite = serde_json::from_value(suite).unwrap();
    run_quality(&files.session, &source("people"), &suite, &NoProgress).await
}

#[tokio::test]
async fn quality_suite_counts_like_great_expectations() {
    let out = quality(json!({"expectations": [
        {"type": "expect_table_row_count_to_be_between", "min_value": 1, "max_value": 10},
        {"type": "expect_column_to_exist", "column": "age"},
        {"type": "expect_column_values_to_be_of_type", "column": "age", "type_": "float"},
        {"type": "expect_column_values_to_not_be_null", "column": "age", "mostly": 0.6},
        {"type": "expect_column_values_to_not_be_null", "column": "age"},
        {"type": "expect_column_values_to_be_between", "column": "age", "min_value": 0, "max_value": 120},
        {"type": "expect_column_values_to_be_between", "column": "age", "min_value": 0, "max_value": 120, "mostly": 0.75},
        {"type": "expect_column_values_to_be_unique", "column": "id"},
        {"type": "expect_column_values_to_be_in_set", "column": "country", "value_set": ["FR", "DE"]},
        {"type": "expect_column_values_to_match_regex", "column": "email", "regex": "^[^@ ]+@[^@ ]+$", "severity": "warn"},
        {"type": "expect_column_mean_to_be_between", "column": "age", "min_value": 77, "max_value": 78},
        {"type": "expect_column_median_to_be_between", "column": "age", "min_value": 25, "max_value": 25},
        {"type": "expect_column_stdev_to_be_between", "column": "age", "min_value": 100, "max_value": 120},
        {"type": "expect_rows_to_satisfy", "predicate": "id < 4 AND age > 5"},
        {"type": "expect_column_values_to_not_be_null", "column": "missing_column"},
    ]}))
    .await
    .unwrap();
    assert_eq!(out.rows, 6);
    let r = &out.results;
    assert!(r[0].success && r[1].success && r[2].success);
    // 2 of 6 missing: 4/6 = 0.667 >= 0.6 holds; without mostly it fails.
    assert!(r[3].success);
    assert_eq!(
        (r[3].missing_count, r[3].unexpected_count),
        (Some(2), Some(2))
    );
    assert!(!r[4].success);
    assert!((r[4].unexpected_percent.unwrap() - 100.0 * 2.0 / 6.0).abs() < 1e-12);
    // 250 out of 4 present values: 25 % unexpected.
    assert!(!r[5].success);
    assert_eq!(r[5].unexpected_count, Some(1));
    assert_eq!(r[5].unexpected_percent, Some(25.0));
    assert_eq!(r[5].partial_unexpected_list, vec!["250.0"]);
    assert!(r[6].success);
    // Every row of the repeated 3 is unexpected (GX).
    assert_eq!(r[7].unexpected_count, Some(3));
    assert_eq!(r[7].partial_unexpected_list, vec!["3"]);
    assert_eq!(r[8].unexpected_count, Some(1));
    assert_eq!(r[8].partial_unexpected_list, vec!["XX"]);
    assert_eq!(r[9].unexpected_count, Some(2));
    // mean of 10, 20, 30, 250 = 77.5; median 25; sample std.
    let mean = 77.5;
    let var = [10.0f64, 20.0, 30.0, 250.0]
        .iter()
        .map(|x| (x - mean) * (x - mean))
        .sum::<f64>()
        / 3.0;
    let observed = |i: usize| {
        serde_json::to_value(&r[i].observed_value)
            .unwrap()
            .as_f64()
            .unwrap()
    };
    assert_eq!(observed(10), 77.5);
    assert_eq!(observed(11), 25.0);
    assert!((observed(12) - var.sqrt()).abs() < 1e-9, "{}", observed(12));
    assert!(r[10].success && r[11].success && r[12].success);
    // id < 4 AND age > 5: rows 1-3 true; NaN > 5 is true (NaN sorts above every number, as in
    // PostgreSQL), null → unknown, id 4 false.
    assert_eq!(r[13].unexpected_count, Some(2));
    assert!(!r[14].success);
    assert!(r[14].error.as_deref().unwrap().contains("does not exist"));
    assert_eq!(out.status, Status::Fail);
}

#[tokio::test]
async fn quality_warn_only_failures_warn() {
    let out = quality(json!({"expectations": [
        {"type": "expect_column_values_to_match_regex", "column": "email", "regex": "@", "severity": "warn"},
        {"type": "expect_column_to_exist", "column": "id"},
    ]}))
    .await
    .unwrap();
    assert_eq!(out.status, Status::Warn);
    let out =
        quality(json!({"expectations": [{"type": "expect_column_to_exist", "column": "id"}]}))
            .await
            .unwrap();
    assert_eq!(out.status, Status::Pass);
}

#[tokio::test]
async fn quality_bad_suites_are_refused() {
    let bad = [
        json!({"expectations": []}),
        json!({"expectations": [{"type": "expect_column_values_to_match_regex", "column": "email", "regex": "(["}]}),
        json!({"expectations": [{"type": "expect_column_values_to_be_between", "column": "age", "min_value": 5, "max_value": 1}]}),
        json!({"expectations": [{"type": "expect_column_values_to_be_between", "column": "age"}]}),
        json!({"expectations": [{"type": "expect_column_values_to_not_be_null", "column": "age", "mostly": 1.5}]}),
        json!({"expectations": [{"type": "expect_column_values_to_be_of_type", "column": "age", "type_": "quaternion"}]}),
        json!({"expectations": [{"type": "expect_column_to_exist", "column": "age", "regex": "x"}]}),
        json!({"expectations": [{"type": "expect_rows_to_satisfy", "predicate": "id IN (SELECT 1)"}]}),
        json!({"expectations": [{"type": "expect_rows_to_satisfy", "predicate": "EXISTS (SELECT * FROM people)"}]}),
        json!({"expectations": [{"type": "expect_rows_to_satisfy", "predicate": "1; DROP TABLE checked"}]}),
        json!({"expectations": [{"type": "expect_rows_to_satisfy", "predicate": "(SELECT max(id) FROM checked) > 1"}]}),
    ];
    for suite in bad {
        let err = quality(suite.clone()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{suite}: {err}");
    }
    // Unknown fields and types are refused by the parser.
    assert!(
        serde_json::from_value::<QualitySuite>(json!({"expectations": [{"type": "expect_magic"}]}))
            .is_err()
    );
    assert!(serde_json::from_value::<QualitySuite>(json!({"expectations": [{"type": "expect_column_to_exist", "column": "a", "colum": "b"}]})).is_err());
}

#[tokio::test]
async fn quality_on_empty_and_all_null_columns() {
    let empty = parquet(vec![("x", f64s(&[])), ("s", strs(&[]))]);
    let nulls = parquet(vec![("x", f64s(&[None, None])), ("s", strs(&[None, None]))]);
    let files = Files::new(vec![("empty", empty), ("nulls", nulls)]).await;
    let suite: QualitySuite = serde_json::from_value(json!({"expectations": [
        {"type": "expect_column_values_to_be_between", "column": "x", "min_value": 0},
        {"type": "expect_column_mean_to_be_between", "column": "x", "min_value": 0},
        {"type": "expect_column_values_to_be_unique", "column": "s"},
        {"type": "expect_table_row_count_to_be_between", "min_value": 1},
    ]}))
    .unwrap();
    for key in ["empty", "nulls"] {
        let out = run_quality(&files.session, &source(key), &suite, &NoProgress)
            .await
            .unwrap();
        // No value to judge: vacuously true; the mean is undefined and fails.
        assert!(out.results[0].success, "{key}");
        assert!(
            !out.results[1].success && out.results[1].error.is_some(),
            "{key}"
        );
        assert!(out.results[2].success, "{key}");
        assert_eq!(out.results[3].success, key == "nulls");
    }
}

fn numbers(n: usize, shift: f64) -> Vec<Option<f64>> {
    (0..n).map(|i| Some((i % 97) as f64 + shift)).collect()
}

#[tokio::test]
async fn drift_streams_each_column_and_decides() {
    let n = 3000;
    let cats = |flip: bool| -> Vec<Option<&str>> {
        (0..n)
            .map(|i| {
                Some(if (i % 3 == 0) ^ (flip && i % 2 == 0) {
                    "a"
                } else {
                    "b"
                })
            })
            .collect()
    };
    let reference = parquet(vec![
        ("x", f64s(&numbers(n, 0.0))),
        ("y", f64s(&numbers(n, 0.0))),
        ("c", strs(&cats(false))),
    ]);
    let current = parquet(vec![
        ("x", f64s(&numbers(n, 30.0))),
        ("y", f64s(&numbers(n, 0.0))),
        ("c", strs(&cats(true))),
    ]);
    let files = Files::new(vec![("ref", reference), ("cur", current)]).await;
    let out = run_drift(
        &files.session,
        &source("ref"),
        &source("cur"),
        &DriftConfig::default(),
        &NoProgress,
    )
    .await
    .unwrap();
    let d = &out.drift;
    assert_eq!((out.reference_rows, out.current_rows), (3000, 3000));
    assert_eq!(d.columns.len(), 3);
    let x = &d.columns[0];
    assert_eq!(x.method.unwrap().as_str(), "wasserstein");
    assert!(x.drifted);
    assert!(!d.columns[1].drifted);
    assert_eq!(d.columns[1].score, Some(0.0));
    assert_eq!(d.columns[2].method.unwrap().as_str(), "jensenshannon");
    assert_eq!(d.number_of_drifted_columns, 2);
    assert!(d.dataset_drift);
    assert_eq!(out.status, Status::Fail);

    // Only `y`: no drift.
    let config: DriftConfig = serde_json::from_value(json!({"columns": ["y"]})).unwrap();
    let out = run_drift(
        &files.session,
        &source("ref"),
        &source("cur"),
        &config,
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(out.status, Status::Pass);
}

#[tokio::test]
async fn drift_bad_inputs() {
    let a = parquet(vec![
        ("x", f64s(&[Some(1.0), Some(2.0)])),
        ("s", strs(&[Some("a"), None])),
    ]);
    let b = parquet(vec![
        ("x", strs(&[Some("1"), Some("2")])),
        ("s", strs(&[Some("a"), None])),
    ]);
    let c = parquet(vec![("x", f64s(&[Some(1.0)])), ("t", strs(&[Some("a")]))]);
    let empty = parquet(vec![("x", f64s(&[])), ("s", strs(&[]))]);
    let files = Files::new(vec![("a", a), ("b", b), ("c", c), ("empty", empty)]).await;
    let run = |r: &'static str, c: &'static str, config: serde_json::Value| {
        let session = files.session.clone();
        async move {
            let config: DriftConfig = serde_json::from_value(config).unwrap();
            run_drift(&session, &source(r), &source(c), &config, &NoProgress).await
        }
    };
    // Numeric in one, text in the other.
    let err = run("a", "b", json!({})).await.unwrap_err();
    assert!(err.to_string().contains("column 'x'"), "{err}");
    // Different columns.
    let err = run("a", "c", json!({})).await.unwrap_err();
    assert!(err.to_string().contains("different columns"), "{err}");
    // Shared ones named: fine.
    run("a", "c", json!({"columns": ["x"]})).await.unwrap();
    let err = run("a", "c", json!({"columns": ["s"]})).await.unwrap_err();
    assert!(
        err.to_string().contains("missing from the current"),
        "{err}"
    );
    // Unknown per-column key, bad share, ks forced on text.
    for config in [
        json!({"per_column_method": {"nope": "psi"}}),
        json!({"drift_share": 2.0}),
        json!({"per_column_method": {"s": "ks"}}),
        json!({"histogram_bins": 0}),
    ] {
        let err = run("a", "a", config.clone()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{config}");
    }
    assert!(serde_json::from_value::<DriftConfig>(json!({"methd": "psi"})).is_err());
    // An empty current side: defined result, nothing tested, warn.
    let out = run("a", "empty", json!({})).await.unwrap();
    assert_eq!(out.drift.number_of_columns, 0);
    assert_eq!(out.status, Status::Warn);
}

#[tokio::test]
async fn drift_reads_csv_and_skips_unsupported_types() {
    let csv =
        b"x,flag,when\n1.5,true,2024-01-01\n2.5,false,2024-01-02\n3.5,true,2024-01-03\n".to_vec();
    let files = Files::new(vec![("csv", csv)]).await;
    let out = run_drift(
        &files.session,
        &csv_source("csv"),
        &csv_source("csv"),
        &DriftConfig::default(),
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(out.drift.columns.len(), 2);
    assert_eq!(out.unsupported_columns.len(), 1);
    assert_eq!(out.unsupported_columns[0].column, "when");
    assert!(out.drift.columns.iter().all(|c| !c.drifted));
}

fn scored() -> Vec<u8> {
    // Group A: labels 1,1,0,0 predictions 1,0,1,0; group B: labels 1,0,0 predictions 1,1,1.
    parquet(vec![
        ("y", ints(&[1, 1, 0, 0, 1, 0, 0])),
        ("pred", ints(&[1, 0, 1, 0, 1, 1, 1])),
        (
            "score",
            f64s(&[
                Some(0.9),
                Some(0.2),
                Some(0.6),
                Some(0.1),
                Some(0.8),
                Some(0.7),
                Some(0.55),
            ]),
        ),
        (
            "group",
            strs(&[
                Some("A"),
                Some("A"),
                Some("A"),
                Some("A"),
                Some("B"),
                Some("B"),
                Some("B"),
            ]),
        ),
        ("one", strs(&[Some("x"); 7])),
        (
            "text_label",
            strs(&[
                Some("yes"),
                Some("yes"),
                Some("no"),
                Some("no"),
                Some("yes"),
                Some("no"),
                Some("maybe"),
            ]),
        ),
        (
            "flag",
            Arc::new(BooleanArray::from(vec![
                true, true, false, false, true, false, false,
            ])) as ArrayRef,
        ),
    ])
}

async fn fairness(
    config: serde_json::Value,
) -> verity_monitor::Result<verity_monitor::check::FairnessOutcome> {
    let files = Files::new(vec![("scored", scored())]).await;
    let config: FairnessCheckConfig = serde_json::from_value(config).unwrap();
    run_fairness(&files.session, &source("scored"), &config, &NoProgress).await
}

#[tokio::test]
async fn fairness_streams_groups_and_applies_conditions() {
    let out = fairness(json!({"label": "y", "prediction": "pred", "sensitive": ["group"]}))
        .await
        .unwrap();
    let a = out.report.group(&["A"]).unwrap();
    let b = out.report.group(&["B"]).unwrap();
    // Selection rates: A 2/4, B 3/3 → demographic parity ratio 0.5 < 0.8: the four-fifths
    // rule fails.
    assert_eq!(a.rates.selection_rate, 0.5);
    assert_eq!(b.rates.selection_rate, 1.0);
    assert_eq!(out.conditions.len(), 1);
    assert_eq!(out.conditions[0].value, Some(0.5));
    assert!(!out.conditions[0].passed);
    assert_eq!(out.status, Status::Fail);
    // Score ≥ 0.6 gives the same predictions except row 7 (0.55 → 0).
    let out = fairness(json!({"label": "y", "score": "score", "threshold": 0.6, "sensitive": ["group"],
        "privileged": [{"group": "A"}],
        "conditions": [{"metric": "statistical_parity_difference", "min": -0.1, "max": 0.5, "severity": "warn"}]}))
    .await
    .unwrap();
    // B selects 2/3, A 2/4: AIF360 SPD = 2/3 − 1/2.
    assert!((out.conditions[0].value.unwrap() - (2.0 / 3.0 - 0.5)).abs() < 1e-12);
    assert!(out.conditions[0].passed);
    assert_eq!(out.status, Status::Pass);
    // Booleans are labels too.
    let out = fairness(json!({"label": "flag", "prediction": "flag", "sensitive": ["group"]}))
        .await
        .unwrap();
    assert_eq!(out.report.overall.rates.accuracy, 1.0);
}

#[tokio::test]
async fn fairness_bad_inputs() {
    // A single group: defined (parity), with a warning.
    let out = fairness(json!({"label": "y", "prediction": "pred", "sensitive": ["one"]}))
        .await
        .unwrap();
    assert!(!out.report.warnings.is_empty());
    assert_eq!(out.status, Status::Pass);
    let bad = [
        // Labels that are not binary.
        json!({"label": "text_label", "prediction": "text_label", "positive_label": "yes", "sensitive": ["group"]}),
        json!({"label": "score", "prediction": "score", "sensitive": ["group"]}),
        // Text without a positive label; a positive label of the wrong type.
        json!({"label": "text_label", "prediction": "text_label", "sensitive": ["group"]}),
        json!({"label": "y", "prediction": "pred", "positive_label": "1", "sensitive": ["group"]}),
        // Missing columns, bad combinations.
        json!({"label": "nope", "prediction": "pred", "sensitive": ["group"]}),
        json!({"label": "y", "prediction": "pred", "sensitive": ["nope"]}),
        json!({"label": "y", "prediction": "pred", "sensitive": []}),
        json!({"label": "y", "sensitive": ["group"]}),
        json!({"label": "y", "score": "score", "sensitive": ["group"]}),
        json!({"label": "y", "prediction": "pred", "sensitive": ["group"], "privileged": [{"nope": "A"}]}),
        json!({"label": "y", "prediction": "pred", "sensitive": ["group"], "conditions": [{"metric": "disparate_impact", "min": 0.8}]}),
        json!({"label": "y", "prediction": "pred", "sensitive": ["group"], "conditions": [{"metric": "demographic_parity_ratio"}]}),
        json!({"label": "y", "prediction": "text_label", "sensitive": ["group"]}),
        // A privileged group matching every row.
        json!({"label": "y", "prediction": "pred", "sensitive": ["one"], "privileged": [{"one": "x"}]}),
    ];
    for config in bad {
        let err = fairness(config.clone()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{config}: {err}");
    }
}
