//! Checks and evaluations run under a memory limit: over it they fail with
//! `ErrorKind::ResourcesExhausted` and a message naming the limit only; under the default
//! limit the same work passes.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use serde_json::json;
use verity_monitor::check::{
    CheckOutcome, CheckSpec, DriftConfig, NoProgress, run_check, run_drift,
};
use verity_monitor::model::{EvaluationConfig, evaluate_with_limits};
use verity_monitor::profile::profile;
use verity_monitor::source::{DEFAULT_MEMORY_LIMIT, Limits, Session, Source};
use verity_monitor::{Error, ErrorKind};
use verity_store::DataFormat;

use common::{logistic, parquet};

const ROWS: usize = 200_000;
const TINY: usize = 64 * 1024;

/// 200k rows: a string column of distinct values, a float column, an int label and a
/// two-valued country (for the logistic model of `common`).
fn wide_data() -> Vec<u8> {
    let ids: Vec<String> = (0..ROWS)
        .map(|i| format!("secret-customer-{i:08}"))
        .collect();
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("id", Arc::new(StringArray::from(ids))),
        (
            "x",
            Arc::new(Float64Array::from(
                (0..ROWS)
                    .map(|i| (i % 1000) as f64 / 500.0 - 1.0)
                    .collect::<Vec<_>>(),
            )),
        ),
        (
            "country",
            Arc::new(StringArray::from(
                (0..ROWS)
                    .map(|i| if i % 3 == 0 { "a" } else { "b" })
                    .collect::<Vec<_>>(),
            )),
        ),
        (
            "label",
            Arc::new(Int64Array::from(
                (0..ROWS).map(|i| (i % 2) as i64).collect::<Vec<_>>(),
            )),
        ),
    ];
    parquet(columns)
}

async fn store() -> Arc<dyn ObjectStore> {
    let store = Arc::new(InMemory::new());
    store
        .put(&Path::from("data"), wide_data().into())
        .await
        .unwrap();
    let few: Vec<(&str, ArrayRef)> =
        vec![("id", Arc::new(StringArray::from(vec!["a", "b", "c", "a"])))];
    store
        .put(&Path::from("small"), parquet(few).into())
        .await
        .unwrap();
    store
}

fn source() -> Source {
    Source {
        key: "data".into(),
        format: DataFormat::Parquet,
    }
}

fn small() -> Source {
    Source {
        key: "small".into(),
        format: DataFormat::Parquet,
    }
}

/// The error names the limit and leaks neither data values nor DataFusion's words.
fn assert_exhausted(err: &Error, limit: &str) {
    assert_eq!(err.kind(), ErrorKind::ResourcesExhausted, "{err}");
    let message = err.to_string();
    assert_eq!(
        message,
        format!(
            "the check needs more memory than the server allows checks (limit {limit}): check \
             fewer columns or a smaller version"
        )
    );
    for leak in [
        "secret",
        "Resources exhausted",
        "allocate",
        "DataFusion",
        "reservation",
    ] {
        assert!(!message.contains(leak), "{leak}: {message}");
    }
}

#[tokio::test]
async fn a_profile_over_the_limit_fails_with_resources_exhausted() {
    let blobs = store().await;
    let tight = Session::new_with_limits(blobs.clone(), Limits::memory(TINY)).unwrap();
    assert_eq!(tight.limits().memory_bytes, TINY);
    let err = profile(&tight, &source()).await.unwrap_err();
    assert_exhausted(&err, "64 KiB");
    // The same through `run_check`, as the API and monitors run it.
    let spec = CheckSpec::from_json("check", &json!({"kind": "profile"})).unwrap();
    let err = run_check(&tight, &spec, &source(), None, &NoProgress)
        .await
        .unwrap_err();
    assert_exhausted(&err, "64 KiB");

    // It is the data that needs the memory: under 4 MiB a small version passes, 200,000
    // distinct strings do not.
    let modest = Session::new_with_limits(blobs.clone(), Limits::memory(4 << 20)).unwrap();
    assert_eq!(profile(&modest, &small()).await.unwrap().rows, 4);
    let err = profile(&modest, &source()).await.unwrap_err();
    assert_exhausted(&err, "4 MiB");

    // Under the default limit the same profile passes.
    let session = Session::new(blobs).unwrap();
    assert_eq!(session.limits().memory_bytes, DEFAULT_MEMORY_LIMIT);
    assert!(!session.limits().is_shared());
    let found = profile(&session, &source()).await.unwrap();
    assert_eq!(found.rows, ROWS as u64);
    let id = found.columns.iter().find(|c| c.name == "id").unwrap();
    assert_eq!(id.distinct, ROWS as u64);
}

#[tokio::test]
async fn quality_and_drift_over_the_limit_fail_with_resources_exhausted() {
    let blobs = store().await;
    let tight = Session::new_with_limits(blobs.clone(), Limits::memory(TINY)).unwrap();
    let unique = CheckSpec::from_json(
        "check",
        &json!({"kind": "quality", "expectations": [
            {"type": "expect_column_values_to_be_unique", "column": "id"}
        ]}),
    )
    .unwrap();
    let err = run_check(&tight, &unique, &source(), None, &NoProgress)
        .await
        .unwrap_err();
    assert_exhausted(&err, "64 KiB");
    // Drift reads numbers into memory: counted against the limit too.
    let config = DriftConfig {
        columns: Some(vec!["x".into()]),
        ..DriftConfig::default()
    };
    let err = run_drift(&tight, &source(), &source(), &config, &NoProgress)
        .await
        .unwrap_err();
    assert_exhausted(&err, "64 KiB");

    let session = Session::new(blobs).unwrap();
    let outcome = run_check(&session, &unique, &source(), None, &NoProgress)
        .await
        .unwrap();
    assert!(matches!(outcome, CheckOutcome::Quality(_)));
    let drift = run_drift(&session, &source(), &source(), &config, &NoProgress)
        .await
        .unwrap();
    assert_eq!(drift.drift.number_of_drifted_columns, 0);
}

#[tokio::test]
async fn an_evaluation_over_the_limit_fails_with_resources_exhausted() {
    let blobs = store().await;
    let config = EvaluationConfig::new("label");
    let tight = Limits::memory(TINY);
    let model = logistic();
    let err = evaluate_with_limits(
        blobs.clone(),
        tight,
        &source(),
        &model,
        &config,
        None,
        &NoProgress,
    )
    .await
    .unwrap_err();
    assert_exhausted(&err, "64 KiB");
    let outcome = evaluate_with_limits(
        blobs,
        Limits::default(),
        &source(),
        &model,
        &config,
        None,
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(outcome.rows, ROWS as u64);
}
