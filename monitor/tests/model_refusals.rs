//! Evaluation refuses what it cannot judge, naming the column, the row and the value: missing
//! or mistyped columns, null, NaN and infinite values, unseen categories, labels that do not fit
//! the output, models that cannot load, too many groups, an output that overflows.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
use serde_json::{Value, json};
use verity_monitor::ErrorKind;
use verity_monitor::model::safetensors::write_f32;
use verity_monitor::model::{DeviceChoice, EvaluationConfig, Model};

use common::{logistic, model, parquet, run};

async fn refused(data: Vec<u8>, model: &Model, config: Value) -> String {
    let parsed: EvaluationConfig = serde_json::from_value(config.clone()).unwrap();
    let Err(err) = run(data, model, parsed).await else {
        panic!("{config} was accepted");
    };
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    err.to_string()
}

#[tokio::test]
async fn bad_inputs_are_refused_with_the_reason() {
    let m = logistic();
    let table = |x: ArrayRef, country: ArrayRef, label: ArrayRef| {
        parquet(vec![("x", x), ("country", country), ("label", label)])
    };
    let good_x: ArrayRef = Arc::new(Float64Array::from(vec![0.0, 1.0]));
    let good_c: ArrayRef = Arc::new(StringArray::from(vec!["a", "b"]));
    let good_l: ArrayRef = Arc::new(Int64Array::from(vec![0, 1]));
    let base = json!({"label": "label"});

    let cases: Vec<(Vec<u8>, Value, &str)> = vec![
        (
            parquet(vec![("country", good_c.clone()), ("label", good_l.clone())]),
            base.clone(),
            "reads column 'x', which the dataset does not have",
        ),
        (
            table(
                Arc::new(StringArray::from(vec!["1", "2"])),
                good_c.clone(),
                good_l.clone(),
            ),
            base.clone(),
            "feature 'x' is numeric in the model but the column holds text",
        ),
        (
            table(
                Arc::new(Float64Array::from(vec![Some(0.0), None])),
                good_c.clone(),
                good_l.clone(),
            ),
            base.clone(),
            "feature 'x' is missing (null) at row 1",
        ),
        (
            table(
                Arc::new(Float64Array::from(vec![f64::NAN, 1.0])),
                good_c.clone(),
                good_l.clone(),
            ),
            base.clone(),
            "feature 'x' is NaN at row 0",
        ),
        (
            table(
                good_x.clone(),
                Arc::new(StringArray::from(vec!["a", "zz"])),
                good_l.clone(),
            ),
            base.clone(),
            "category \"zz\" at row 1, which the model was not trained on (it knows a, b)",
        ),
        (
            table(
                good_x.clone(),
                Arc::new(Float64Array::from(vec![1.0, 2.0])),
                good_l.clone(),
            ),
            base.clone(),
            "one-hot encoded, which matches categories as text",
        ),
        (
            table(
                good_x.clone(),
                good_c.clone(),
                Arc::new(Int64Array::from(vec![Some(0), None])),
            ),
            base.clone(),
            "missing values",
        ),
        (
            table(
                Arc::new(Float64Array::from(vec![0.0, 1.0, 2.0])),
                Arc::new(StringArray::from(vec!["a", "b", "a"])),
                Arc::new(Int64Array::from(vec![0, 1, 7])),
            ),
            base.clone(),
            "7",
        ),
        (
            table(good_x.clone(), good_c.clone(), good_l.clone()),
            json!({"label": "nope"}),
            "label column 'nope' does not exist",
        ),
        (
            table(good_x.clone(), good_c.clone(), good_l.clone()),
            json!({"label": "label", "sensitive": ["nope"]}),
            "sensitive column 'nope' does not exist",
        ),
        (
            table(good_x.clone(), good_c.clone(), good_l.clone()),
            json!({"label": "label", "sensitive": ["score"]}),
            "clashes with a column of the predictions file",
        ),
        (
            table(good_x.clone(), good_c.clone(), good_l.clone()),
            json!({"label": "label", "batch_size": 0}),
            "batch_size must be between 1 and",
        ),
        (
            table(good_x.clone(), good_c.clone(), good_l.clone()),
            json!({"label": "label", "calibration_bins": 0}),
            "calibration_bins must be between 1 and 100",
        ),
        (
            table(
                Arc::new(Float64Array::from(Vec::<f64>::new())),
                Arc::new(StringArray::from(Vec::<&str>::new())),
                Arc::new(Int64Array::from(Vec::<i64>::new())),
            ),
            base.clone(),
            "no rows to evaluate",
        ),
    ];
    for (data, config, expected) in cases {
        let message = refused(data, &m, config.clone()).await;
        assert!(
            message.contains(expected),
            "{config}: {message} lacks {expected}"
        );
    }
}

#[tokio::test]
async fn output_specific_refusals() {
    let regression = model(
        json!({
            "format": "verity-model/1",
            "architecture": {"type": "linear_regression"},
            "features": [{"column": "x"}],
            "output": {"type": "regression"}
        }),
        &[("weight", vec![1, 1], vec![1.0])],
    );
    let text_label = parquet(vec![
        ("x", Arc::new(Float64Array::from(vec![1.0]))),
        ("y", Arc::new(StringArray::from(vec!["high"]))),
    ]);
    let message = refused(text_label, &regression, json!({"label": "y"})).await;
    assert!(
        message.contains("this model's labels are numbers"),
        "{message}"
    );
    let data = parquet(vec![
        ("x", Arc::new(Float64Array::from(vec![1.0]))),
        ("y", Arc::new(Float64Array::from(vec![1.0]))),
    ]);
    let message = refused(
        data.clone(),
        &regression,
        json!({"label": "y", "conditions": [{"metric": "demographic_parity_ratio", "min": 0.8}]}),
    )
    .await;
    assert!(message.contains("binary models only"), "{message}");
    let message = refused(
        data,
        &regression,
        json!({"label": "y", "positive_label": 1}),
    )
    .await;
    assert!(message.contains("binary models only"), "{message}");

    let multiclass = model(
        json!({
            "format": "verity-model/1",
            "architecture": {"type": "softmax_regression"},
            "features": [{"column": "x"}],
            "output": {"type": "multiclass", "classes": ["cat", "dog"]}
        }),
        &[("weight", vec![2, 1], vec![1.0, -1.0])],
    );
    let data = parquet(vec![
        ("x", Arc::new(Float64Array::from(vec![1.0, 2.0]))),
        ("y", Arc::new(StringArray::from(vec!["cat", "bird"]))),
    ]);
    let message = refused(data, &multiclass, json!({"label": "y"})).await;
    assert!(
        message.contains("has \"bird\" at row 1, which is not one of the model's classes"),
        "{message}"
    );
}

#[test]
fn models_that_cannot_load_are_refused() {
    let spec = json!({
        "format": "verity-model/1",
        "architecture": {"type": "linear_regression"},
        "features": [{"column": "x"}],
        "output": {"type": "regression"}
    })
    .to_string();
    let nan = write_f32(&[("weight", vec![1, 1], vec![f32::NAN])]);
    let err = Model::load(spec.as_bytes(), &nan, DeviceChoice::Cpu).unwrap_err();
    assert!(err.to_string().contains("NaN or infinite"), "{err}");
    let wrong = write_f32(&[("weight", vec![1, 2], vec![1.0, 2.0])]);
    let err = Model::load(spec.as_bytes(), &wrong, DeviceChoice::Cpu).unwrap_err();
    assert!(err.to_string().contains("shape"), "{err}");
    let good = write_f32(&[("weight", vec![1, 1], vec![1.0])]);
    if !cfg!(feature = "cuda") {
        let err = Model::load(spec.as_bytes(), &good, DeviceChoice::Cuda).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(err.to_string().contains("built without CUDA"), "{err}");
    }
    // auto falls back to the CPU.
    let model = Model::load(spec.as_bytes(), &good, DeviceChoice::Auto).unwrap();
    if !cfg!(feature = "cuda") {
        assert_eq!(model.device_name(), "cpu");
    }
    assert!(Model::load(b"{}", &good, DeviceChoice::Cpu).is_err());
}

#[tokio::test]
async fn more_refusals_and_limits() {
    // A non-finite regression label, and an output that overflows f32.
    let regression = |w: f32| {
        model(
            json!({
                "format": "verity-model/1",
                "architecture": {"type": "linear_regression"},
                "features": [{"column": "x"}],
                "output": {"type": "regression"}
            }),
            &[("weight", vec![1, 1], vec![w])],
        )
    };
    let data = |y: f64| {
        parquet(vec![
            ("x", Arc::new(Float64Array::from(vec![10.0, 20.0]))),
            ("y", Arc::new(Float64Array::from(vec![1.0, y]))),
        ])
    };
    let message = refused(data(f64::INFINITY), &regression(1.0), json!({"label": "y"})).await;
    assert!(
        message.contains("label column 'y' is inf at row 1"),
        "{message}"
    );
    let message = refused(data(1.0), &regression(3.0e38), json!({"label": "y"})).await;
    assert!(
        message.contains("output is not finite at row 0"),
        "{message}"
    );
    let infinite = parquet(vec![
        (
            "x",
            Arc::new(Float64Array::from(vec![1.0, f64::NEG_INFINITY])),
        ),
        ("y", Arc::new(Float64Array::from(vec![1.0, 1.0]))),
    ]);
    let message = refused(infinite, &regression(1.0), json!({"label": "y"})).await;
    assert!(
        message.contains("feature 'x' is -inf at row 1"),
        "{message}"
    );

    // A binary label column with NaN is refused (it is neither 0 nor 1).
    let nan_label = parquet(vec![
        ("x", Arc::new(Float64Array::from(vec![0.0, 1.0, 2.0]))),
        ("country", Arc::new(StringArray::from(vec!["a", "b", "a"]))),
        (
            "label",
            Arc::new(Float64Array::from(vec![0.0, 1.0, f64::NAN])),
        ),
    ]);
    refused(nan_label, &logistic(), json!({"label": "label"})).await;

    // More than 1000 groups in a sensitive column.
    let n = 1001;
    let ids: Vec<String> = (0..n).map(|i| format!("id{i}")).collect();
    let many = parquet(vec![
        ("x", Arc::new(Float64Array::from(vec![1.0; n]))),
        ("y", Arc::new(Float64Array::from(vec![1.0; n]))),
        ("id", Arc::new(StringArray::from(ids))),
    ]);
    let message = refused(
        many,
        &regression(1.0),
        json!({"label": "y", "sensitive": ["id"]}),
    )
    .await;
    assert!(
        message.contains("more than 1000 distinct values"),
        "{message}"
    );
}
