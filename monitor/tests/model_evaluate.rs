//! Evaluation end to end over bytes in an object store: hand-computed predictions and
//! figures for each output, the predictions file, per-group figures and fairness, batch-size
//! independence, the comparison, and the bad inputs of issue 5.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{
    ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{Field, Float32Type, Float64Type, Schema, UInt64Type};
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use serde_json::{Value, json};
use verity_monitor::ErrorKind;
use verity_monitor::check::{NoProgress, Status};
use verity_monitor::model::safetensors::write_f32;
use verity_monitor::model::{
    Better, DeviceChoice, EvaluationConfig, EvaluationOutcome, Metrics, Model, compare, evaluate,
};
use verity_monitor::source::Source;
use verity_store::DataFormat;

fn parquet(columns: Vec<(&str, ArrayRef)>) -> Vec<u8> {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch =
        RecordBatch::try_new(schema, columns.into_iter().map(|(_, a)| a).collect()).unwrap();
    let mut out = Vec::new();
    let mut writer = parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    out
}

/// A `Write` whose bytes the test reads afterwards.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn read_parquet(bytes: Vec<u8>) -> RecordBatch {
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(
        bytes::Bytes::from(bytes),
        1 << 20,
    )
    .unwrap();
    let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
    datafusion::arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap()
}

async fn run(
    data: Vec<u8>,
    model: &Model,
    config: EvaluationConfig,
) -> verity_monitor::Result<(EvaluationOutcome, RecordBatch)> {
    let store = Arc::new(InMemory::new());
    store.put(&Path::from("data"), data.into()).await.unwrap();
    let store: Arc<dyn ObjectStore> = store;
    let sink = Shared::default();
    let source = Source {
        key: "data".into(),
        format: DataFormat::Parquet,
    };
    let outcome = evaluate(
        store,
        &source,
        model,
        &config,
        Some(Box::new(sink.clone())),
        &NoProgress,
    )
    .await?;
    let bytes = sink.0.lock().unwrap().clone();
    Ok((outcome, read_parquet(bytes)))
}

fn model(spec: Value, tensors: &[(&str, Vec<u64>, Vec<f32>)]) -> Model {
    Model::load(
        spec.to_string().as_bytes(),
        &write_f32(tensors),
        DeviceChoice::Cpu,
    )
    .unwrap()
}

/// logit = 2·x + (1 for country a, −1 for b) − 0.5.
fn logistic() -> Model {
    model(
        json!({
            "format": "verity-model/1",
            "architecture": {"type": "logistic_regression"},
            "features": [{"column": "x"}, {"column": "country", "one_hot": ["a", "b"]}],
            "output": {"type": "binary"}
        }),
        &[
            ("weight", vec![1, 3], vec![2.0, 1.0, -1.0]),
            ("bias", vec![1], vec![-0.5]),
        ],
    )
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

fn binary_data() -> (Vec<u8>, Vec<f64>, Vec<i64>) {
    let x = vec![-1.0, 0.0, 0.5, 1.0, -0.5, 0.25, 2.0, -2.0];
    let country = vec!["a", "b", "a", "b", "a", "b", "b", "a"];
    let label = vec![0, 0, 1, 1, 1, 0, 1, 0];
    let group = vec!["f", "f", "f", "m", "m", "m", "m", "m"];
    let scores: Vec<f64> = x
        .iter()
        .zip(&country)
        .map(|(x, c)| sigmoid(2.0 * x + if *c == "a" { 1.0 } else { -1.0 } - 0.5))
        .collect();
    let data = parquet(vec![
        ("x", Arc::new(Float64Array::from(x))),
        ("country", Arc::new(StringArray::from(country))),
        ("label", Arc::new(Int64Array::from(label.clone()))),
        ("group", Arc::new(StringArray::from(group))),
    ]);
    (data, scores, label)
}

#[tokio::test]
async fn binary_predictions_metrics_groups_and_fairness() {
    let (data, scores, labels) = binary_data();
    let mut config = EvaluationConfig::new("label");
    config.sensitive = vec!["group".into()];
    let (outcome, predictions) = run(data, &logistic(), config).await.unwrap();
    assert_eq!(outcome.rows, 8);
    assert_eq!(outcome.device, "cpu");

    // The predictions file: row numbers, labels as read, scores, decisions, the group.
    let rows = predictions
        .column_by_name("row")
        .unwrap()
        .as_primitive::<UInt64Type>();
    assert_eq!(rows.values().to_vec(), (0..8).collect::<Vec<u64>>());
    let score = predictions
        .column_by_name("score")
        .unwrap()
        .as_primitive::<Float32Type>();
    for (got, want) in score.values().iter().zip(&scores) {
        assert!((f64::from(*got) - want).abs() < 1e-6, "{got} vs {want}");
    }
    let predicted = predictions
        .column_by_name("predicted")
        .unwrap()
        .as_boolean();
    let decisions: Vec<bool> = scores.iter().map(|s| *s >= 0.5).collect();
    assert_eq!(
        predicted.iter().map(Option::unwrap).collect::<Vec<_>>(),
        decisions
    );
    let label = predictions
        .column_by_name("label")
        .unwrap()
        .as_primitive::<Float64Type>();
    assert_eq!(label.value(2), 1.0);
    assert_eq!(
        predictions
            .column_by_name("group")
            .unwrap()
            .as_string::<i32>()
            .value(4),
        "m"
    );

    // Overall: logits −1.5, −1.5, 1.5, 0.5, −0.5, −1, 2.5, −3.5 → decisions 0,0,1,1,0,0,1,0
    // against labels 0,0,1,1,1,0,1,0: one false negative (row 4).
    let Metrics::Binary(m) = &outcome.overall else {
        panic!("binary expected")
    };
    let correct = decisions
        .iter()
        .zip(&labels)
        .filter(|(d, l)| **d == (**l == 1))
        .count();
    assert_eq!(m.accuracy, correct as f64 / 8.0);
    assert_eq!(m.accuracy, 7.0 / 8.0);
    assert_eq!(m.confusion_matrix, [[4, 0], [1, 3]]);
    // Every positive scores above every negative (−0.5 > −1).
    assert_eq!(m.roc_auc, Some(1.0));
    let brier: f64 = scores
        .iter()
        .zip(&labels)
        .map(|(s, l)| (s - *l as f64).powi(2))
        .sum::<f64>()
        / 8.0;
    assert!((m.brier - brier).abs() < 1e-6);

    // Per group: f holds rows 0-2, m rows 3-7.
    let groups = &outcome.by_group[0];
    assert_eq!(groups.column, "group");
    let names: Vec<&str> = groups.groups.iter().map(|g| g.value.as_str()).collect();
    assert_eq!(names, ["f", "m"]);
    assert_eq!(groups.groups[0].rows, 3);
    assert_eq!(groups.groups[1].rows, 5);

    // Fairness: selection rates f = 1/3, m = 2/5 → demographic parity ratio 5/6 ≥ 0.8.
    let fairness = &outcome.fairness[0];
    assert_eq!(fairness.conditions.len(), 1);
    assert!((fairness.conditions[0].value.unwrap() - 5.0 / 6.0).abs() < 1e-12);
    assert_eq!(outcome.status, Status::Pass);
    assert!(
        outcome.summary.contains("0 of 1 conditions failed"),
        "{}",
        outcome.summary
    );
}

#[tokio::test]
async fn a_failed_fairness_condition_fails_the_evaluation() {
    let (data, _, _) = binary_data();
    let mut config = EvaluationConfig::new("label");
    config.sensitive = vec!["country".into()];
    let (outcome, _) = run(data, &logistic(), config).await.unwrap();
    // Country a: rows 0,2,4,7 → decisions 0,1,0,0 (rate 1/4); b: rows 1,3,5,6 → 0,1,0,1
    // (1/2): ratio 0.5 fails the four-fifths rule.
    assert_eq!(outcome.fairness[0].conditions[0].value, Some(0.5));
    assert_eq!(outcome.status, Status::Fail);
    assert!(
        outcome
            .summary
            .contains("country: demographic_parity_ratio = 0.5000"),
        "{}",
        outcome.summary
    );

    // A bound the groups' 5/6 misses fails too, whatever the batch size.
    let (data, _, _) = binary_data();
    let mut config: EvaluationConfig = serde_json::from_value(json!({
        "label": "label",
        "sensitive": ["group"],
        "conditions": [{"metric": "demographic_parity_ratio", "min": 1.01}]
    }))
    .unwrap();
    config.batch_size = 3;
    let (outcome, _) = run(data, &logistic(), config).await.unwrap();
    assert_eq!(outcome.status, Status::Fail);
    assert!(outcome.summary.contains("1 of 1 conditions failed"));
}

#[tokio::test]
async fn batch_size_does_not_change_anything() {
    let (data, _, _) = binary_data();
    let mut small = EvaluationConfig::new("label");
    small.sensitive = vec!["group".into()];
    small.batch_size = 3;
    let mut large = small.clone();
    large.batch_size = 8192;
    let (a, pa) = run(data.clone(), &logistic(), small).await.unwrap();
    let (b, pb) = run(data, &logistic(), large).await.unwrap();
    assert_eq!(a.overall, b.overall);
    assert_eq!(a.by_group, b.by_group);
    assert_eq!(pa, pb);
}

#[tokio::test]
async fn regression_with_standardisation() {
    // predicted = 3·(x − 10)/2 + 1.
    let m = model(
        json!({
            "format": "verity-model/1",
            "architecture": {"type": "linear_regression"},
            "features": [{"column": "x", "standardize": {"mean": 10.0, "std": 2.0}}],
            "output": {"type": "regression"}
        }),
        &[
            ("0.weight", vec![1, 1], vec![3.0]),
            ("0.bias", vec![1], vec![1.0]),
        ],
    );
    let y = vec![-2.0, 2.0, 4.0, 6.0]; // predictions −2, 1, 4, 7 → residuals 0, 1, 0, −1
    let data = parquet(vec![
        ("x", Arc::new(Int64Array::from(vec![8, 10, 12, 14]))),
        ("y", Arc::new(Float64Array::from(y))),
    ]);
    let (outcome, predictions) = run(data, &m, EvaluationConfig::new("y")).await.unwrap();
    let Metrics::Regression(r) = &outcome.overall else {
        panic!("regression expected")
    };
    assert!((r.mae - 0.5).abs() < 1e-12);
    assert!((r.rmse - 0.5f64.sqrt()).abs() < 1e-12);
    assert_eq!(r.max_error, 1.0);
    let residual = predictions
        .column_by_name("residual")
        .unwrap()
        .as_primitive::<Float64Type>();
    assert_eq!(residual.values().to_vec(), [0.0, 1.0, 0.0, -1.0]);
}

#[tokio::test]
async fn multiclass_with_integer_labels() {
    // logits = identity of the one-hot input: the predicted class is the input category.
    let m = model(
        json!({
            "format": "verity-model/1",
            "architecture": {"type": "softmax_regression"},
            "features": [{"column": "c", "one_hot": ["x", "y", "z"]}],
            "output": {"type": "multiclass", "classes": ["0", "1", "2"]}
        }),
        &[(
            "weight",
            vec![3, 3],
            vec![4.0, 0.0, 0.0, 0.0, 4.0, 0.0, 0.0, 0.0, 4.0],
        )],
    );
    let data = parquet(vec![
        ("c", Arc::new(StringArray::from(vec!["x", "y", "z", "z"]))),
        ("k", Arc::new(Int64Array::from(vec![0, 1, 2, 0]))),
    ]);
    let (outcome, predictions) = run(data, &m, EvaluationConfig::new("k")).await.unwrap();
    let Metrics::Multiclass(mc) = &outcome.overall else {
        panic!("multiclass expected")
    };
    assert_eq!(mc.accuracy, 0.75);
    assert_eq!(
        mc.confusion_matrix,
        vec![vec![1, 0, 1], vec![0, 1, 0], vec![0, 0, 1]]
    );
    let predicted = predictions
        .column_by_name("predicted")
        .unwrap()
        .as_string::<i32>();
    assert_eq!(predicted.value(3), "2");
    // softmax of (4, 0, 0): e⁴ / (e⁴ + 2).
    let p = predictions
        .column_by_name("score_0")
        .unwrap()
        .as_primitive::<Float32Type>();
    let want = 4f64.exp() / (4f64.exp() + 2.0);
    assert!((f64::from(p.value(0)) - want).abs() < 1e-6);
}

#[tokio::test]
async fn comparison_of_two_evaluations() {
    let (data, _, _) = binary_data();
    let (good, _) = run(data.clone(), &logistic(), EvaluationConfig::new("label"))
        .await
        .unwrap();
    // A worse model: the sign of x flipped.
    let worse = model(
        json!({
            "format": "verity-model/1",
            "architecture": {"type": "logistic_regression"},
            "features": [{"column": "x"}, {"column": "country", "one_hot": ["a", "b"]}],
            "output": {"type": "binary"}
        }),
        &[("weight", vec![1, 3], vec![-2.0, 0.0, 0.0])],
    );
    let (bad, _) = run(data, &worse, EvaluationConfig::new("label"))
        .await
        .unwrap();
    let c = compare(&good, &bad).unwrap();
    assert_eq!(c.primary_metric, "roc_auc");
    assert_eq!(c.verdict, Some(Better::Challenger));
    let accuracy = c.overall.iter().find(|d| d.metric == "accuracy").unwrap();
    assert_eq!(accuracy.challenger, Some(0.875));
    assert!(accuracy.difference.unwrap() > 0.0);
    assert_eq!(
        compare(&bad, &good).unwrap().verdict,
        Some(Better::Champion)
    );
    assert_eq!(compare(&good, &good).unwrap().verdict, Some(Better::Tie));
}

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
