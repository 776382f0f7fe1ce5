//! Evaluation end to end over bytes in an object store: hand-computed predictions and
//! figures for each output, the predictions file, per-group figures and fairness, batch-size
//! independence, missing sensitive values, wide models and the comparison.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::sync::Arc;

use datafusion::arrow::array::{AsArray, Float64Array, Int64Array, StringArray};
use datafusion::arrow::datatypes::{Float32Type, Float64Type, UInt64Type};
use serde_json::json;
use verity_monitor::check::Status;
use verity_monitor::model::{Better, EvaluationConfig, Metrics, compare};

use common::{binary_data, logistic, model, parquet, run};

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

#[tokio::test]
async fn missing_sensitive_values_unsigned_categories_and_wide_models() {
    // Row 1 lacks both sensitive values: one row, counted once; its group is "(null)".
    let m = model(
        json!({
            "format": "verity-model/1",
            "architecture": {"type": "linear_regression"},
            "features": [{"column": "k", "one_hot": ["1", "2"]}],
            "output": {"type": "regression"}
        }),
        &[("weight", vec![1, 2], vec![1.0, 2.0])],
    );
    let data = parquet(vec![
        (
            "k",
            Arc::new(datafusion::arrow::array::UInt64Array::from(vec![
                1u64, 2, 1,
            ])),
        ),
        ("y", Arc::new(Float64Array::from(vec![1.0, 2.0, 1.0]))),
        (
            "s",
            Arc::new(StringArray::from(vec![Some("a"), None, Some("b")])),
        ),
        (
            "t",
            Arc::new(StringArray::from(vec![Some("a"), None, None])),
        ),
    ]);
    let mut config = EvaluationConfig::new("y");
    config.sensitive = vec!["s".into(), "t".into()];
    let (outcome, _) = run(data, &m, config).await.unwrap();
    assert_eq!(outcome.rows_with_missing_sensitive, 2);
    let values: Vec<&str> = outcome.by_group[0]
        .groups
        .iter()
        .map(|g| g.value.as_str())
        .collect();
    assert_eq!(values, ["(null)", "a", "b"]);
    let Metrics::Regression(r) = &outcome.overall else {
        panic!("regression expected")
    };
    assert_eq!(r.max_error, 0.0, "unsigned categories one-hot encoded");

    // A layer 4096 wide: batches shrink so that activations stay within 2^24 values.
    let hidden = 4096u64;
    let wide = model(
        json!({
            "format": "verity-model/1",
            "architecture": {"type": "mlp", "hidden_layers": [hidden], "activation": "relu"},
            "features": [{"column": "x"}],
            "output": {"type": "regression"}
        }),
        &[
            ("0.weight", vec![hidden, 1], vec![1.0; hidden as usize]),
            ("2.weight", vec![1, hidden], vec![0.5; hidden as usize]),
        ],
    );
    let data = parquet(vec![
        ("x", Arc::new(Float64Array::from(vec![1.0, 2.0]))),
        ("y", Arc::new(Float64Array::from(vec![2048.0, 4096.0]))),
    ]);
    let (outcome, _) = run(data, &wide, EvaluationConfig::new("y")).await.unwrap();
    assert_eq!(outcome.batch_size, 4096);
    let Metrics::Regression(r) = &outcome.overall else {
        panic!("regression expected")
    };
    assert_eq!(r.max_error, 0.0);
}
