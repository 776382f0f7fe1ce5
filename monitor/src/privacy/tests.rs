#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use serde_json::{Value, json};
use verity_store::DataFormat;

use super::*;
use crate::ErrorKind;
use crate::source::{Limits, Source};

const TABLE: &str = "t";

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

async fn session_with(bytes: Vec<u8>, format: DataFormat, limits: Limits) -> Session {
    let store = Arc::new(InMemory::new());
    store.put(&Path::from("data"), bytes.into()).await.unwrap();
    let store: Arc<dyn ObjectStore> = store;
    let session = Session::new_with_limits(store, limits).unwrap();
    let source = Source {
        key: "data".into(),
        format,
    };
    session.register(TABLE, &source).await.unwrap();
    session
}

/// 1,000 rows: `x` = 0..99 repeated (every 10th row null), `g` text (a, b, c, null),
/// `flag` boolean, `k` integer 0..4, `name` text for type errors.
const ROWS: usize = 1000;

fn x(i: usize) -> Option<f64> {
    (i % 10 != 3).then_some((i % 100) as f64)
}

async fn sample() -> Session {
    let xs: Vec<Option<f64>> = (0..ROWS).map(x).collect();
    let g: Vec<Option<&str>> = (0..ROWS)
        .map(|i| match i % 4 {
            0 => Some("a"),
            1 => Some("b"),
            2 => Some("c"),
            _ => None,
        })
        .collect();
    let flag: Vec<Option<bool>> = (0..ROWS).map(|i| Some(i % 5 == 0)).collect();
    let k: Vec<Option<i64>> = (0..ROWS).map(|i| Some((i % 5) as i64)).collect();
    let bytes = parquet(vec![
        ("x", Arc::new(Float64Array::from(xs))),
        ("g", Arc::new(StringArray::from(g))),
        ("flag", Arc::new(BooleanArray::from(flag))),
        ("k", Arc::new(Int64Array::from(k))),
    ]);
    session_with(bytes, DataFormat::Parquet, Limits::default()).await
}

fn request(value: Value) -> DpRequest {
    serde_json::from_value(value).unwrap()
}

fn laplace(query: Value, epsilon: f64) -> DpRequest {
    request(json!({"query": query, "epsilon": epsilon}))
}

fn gaussian(query: Value, epsilon: f64, delta: f64) -> DpRequest {
    request(json!({"query": query, "epsilon": epsilon, "delta": delta, "mechanism": "gaussian"}))
}

fn true_sum() -> f64 {
    (0..ROWS).filter_map(x).sum()
}

fn true_mean_imputed() -> f64 {
    // Missing values count as the bounds' midpoint, 50 for [0, 100].
    (0..ROWS).map(|i| x(i).unwrap_or(50.0)).sum::<f64>() / ROWS as f64
}

#[test]
fn privacy_requests_parse_round_trip_and_refuse_unknown_fields() {
    for value in [
        json!({"query": {"kind": "count"}, "epsilon": 1.0}),
        json!({"query": {"kind": "count_by", "column": "g", "categories": ["a"]}, "epsilon": 1.0}),
        json!({"query": {"kind": "sum", "column": "x", "lower": 0.0, "upper": 1.0},
               "epsilon": 1.0, "delta": 1e-6, "mechanism": "gaussian"}),
        json!({"query": {"kind": "mean", "column": "x", "lower": 0.0, "upper": 1.0}, "epsilon": 1.0}),
        json!({"query": {"kind": "histogram", "column": "x", "lower": 0.0, "upper": 1.0, "bins": 4},
               "epsilon": 1.0, "mechanism": "laplace"}),
        json!({"query": {"kind": "quantiles", "column": "x", "lower": 0.0, "upper": 1.0,
               "probabilities": [0.5]}, "epsilon": 1.0}),
    ] {
        let parsed: DpRequest = serde_json::from_value(value.clone()).unwrap();
        parsed.validate().unwrap();
        let back: DpRequest =
            serde_json::from_value(serde_json::to_value(&parsed).unwrap()).unwrap();
        assert_eq!(back, parsed);
        assert_eq!(parsed.query.kind(), value["query"]["kind"]);
    }
    assert_eq!(
        laplace(json!({"kind": "count"}), 1.0).mechanism,
        Mechanism::Laplace
    );
    for bad in [
        json!({"query": {"kind": "count", "column": "x"}, "epsilon": 1.0}),
        json!({"query": {"kind": "count"}, "epsilon": 1.0, "budget": 3}),
        json!({"query": {"kind": "sum", "column": "x", "lower": 0.0, "upper": 1.0, "clamp": true},
               "epsilon": 1.0}),
        json!({"query": {"kind": "median", "column": "x"}, "epsilon": 1.0}),
        json!({"query": {"kind": "count"}, "epsilon": 1.0, "mechanism": "geometric"}),
        json!({"query": {"kind": "histogram", "column": "x", "lower": 0.0, "upper": 1.0,
               "bins": -1}, "epsilon": 1.0}),
        json!({"query": {"kind": "count"}}),
    ] {
        assert!(
            serde_json::from_value::<DpRequest>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn privacy_cost_is_exactly_what_was_asked() {
    let cost = laplace(json!({"kind": "count"}), 0.25).cost();
    assert_eq!(
        cost,
        PrivacyCost {
            epsilon: 0.25,
            delta: 0.0
        }
    );
    let cost = gaussian(json!({"kind": "count"}), 0.5, 1e-7).cost();
    assert_eq!(
        cost,
        PrivacyCost {
            epsilon: 0.5,
            delta: 1e-7
        }
    );
}

#[test]
fn privacy_bad_requests_are_refused_without_data() {
    let sum = json!({"kind": "sum", "column": "x", "lower": 0.0, "upper": 1.0});
    let mut bad: Vec<DpRequest> = Vec::new();
    for eps in [0.0, -1.0, f64::NAN, f64::INFINITY, 10.000001, 1e9] {
        let mut r = laplace(json!({"kind": "count"}), 1.0);
        r.epsilon = eps;
        bad.push(r);
    }
    for delta in [0.0, 1.0, -0.1, 1.5, f64::NAN] {
        let mut r = gaussian(json!({"kind": "count"}), 1.0, 0.5);
        r.delta = Some(delta);
        bad.push(r);
    }
    // δ with Laplace, Gaussian without δ.
    let mut r = laplace(json!({"kind": "count"}), 1.0);
    r.delta = Some(1e-6);
    bad.push(r);
    let mut r = gaussian(json!({"kind": "count"}), 1.0, 1e-6);
    r.delta = None;
    bad.push(r);
    for (lower, upper) in [
        (f64::NAN, 1.0),
        (0.0, f64::NAN),
        (0.0, f64::INFINITY),
        (f64::NEG_INFINITY, 0.0),
        (1.0, 0.0),
        (1.0, 1.0),
        (-2e15, 0.0),
        (0.0, 1.5e15),
    ] {
        for kind in ["sum", "mean", "histogram", "quantiles"] {
            let mut r = laplace(sum.clone(), 1.0);
            r.query = match kind {
                "sum" => DpQuery::Sum {
                    column: "x".into(),
                    lower,
                    upper,
                },
                "mean" => DpQuery::Mean {
                    column: "x".into(),
                    lower,
                    upper,
                },
                "histogram" => DpQuery::Histogram {
                    column: "x".into(),
                    lower,
                    upper,
                    bins: 3,
                },
                _ => DpQuery::Quantiles {
                    column: "x".into(),
                    lower,
                    upper,
                    probabilities: vec![0.5],
                },
            };
            bad.push(r);
        }
    }
    for bins in [0, 1001, 100_000] {
        bad.push(laplace(
            json!({"kind": "histogram", "column": "x", "lower": 0.0, "upper": 1.0, "bins": bins}),
            1.0,
        ));
    }
    let many: Vec<f64> = (0..100).map(|i| f64::from(i) / 100.0).collect();
    for probabilities in [json!([]), json!(many), json!([-0.1]), json!([0.5, 1.1])] {
        bad.push(laplace(
            json!({"kind": "quantiles", "column": "x", "lower": 0.0, "upper": 1.0,
                   "probabilities": probabilities}),
            1.0,
        ));
    }
    let mut nan_p = laplace(
        json!({"kind": "quantiles", "column": "x", "lower": 0.0, "upper": 1.0,
               "probabilities": [0.5]}),
        1.0,
    );
    nan_p.query = DpQuery::Quantiles {
        column: "x".into(),
        lower: 0.0,
        upper: 1.0,
        probabilities: vec![f64::NAN],
    };
    bad.push(nan_p);
    bad.push(gaussian(
        json!({"kind": "quantiles", "column": "x", "lower": 0.0, "upper": 1.0,
               "probabilities": [0.5]}),
        1.0,
        1e-6,
    ));
    let thousand_and_one: Vec<String> = (0..1001).map(|i| i.to_string()).collect();
    for categories in [json!([]), json!(thousand_and_one), json!(["a", "b", "a"])] {
        bad.push(laplace(
            json!({"kind": "count_by", "column": "g", "categories": categories}),
            1.0,
        ));
    }
    bad.push(laplace(
        json!({"kind": "mean", "column": "", "lower": 0.0, "upper": 1.0}),
        1.0,
    ));

    let schema = Schema::new(vec![Field::new("x", DataType::Float64, true)]);
    for r in bad {
        let err = r.validate().expect_err("invalid");
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{r:?}: {err}");
        let err = r.check_dataset(&schema, 10).expect_err("invalid");
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{r:?}: {err}");
    }
    // Messages name the problem.
    let mut r = laplace(json!({"kind": "count"}), 1.0);
    r.epsilon = 50.0;
    assert!(r.validate().unwrap_err().to_string().contains("at most 10"));
}

#[tokio::test]
async fn privacy_requests_that_do_not_fit_the_dataset_are_refused() {
    let session = sample().await;
    let schema = session.schema(TABLE).await.unwrap();
    let bad = [
        laplace(
            json!({"kind": "sum", "column": "nope", "lower": 0.0, "upper": 1.0}),
            1.0,
        ),
        laplace(
            json!({"kind": "sum", "column": "g", "lower": 0.0, "upper": 1.0}),
            1.0,
        ),
        laplace(
            json!({"kind": "mean", "column": "flag", "lower": 0.0, "upper": 1.0}),
            1.0,
        ),
        laplace(
            json!({"kind": "histogram", "column": "g", "lower": 0.0, "upper": 1.0, "bins": 2}),
            1.0,
        ),
        laplace(
            json!({"kind": "quantiles", "column": "g", "lower": 0.0, "upper": 1.0,
                   "probabilities": [0.5]}),
            1.0,
        ),
        laplace(
            json!({"kind": "count_by", "column": "x", "categories": ["1"]}),
            1.0,
        ),
        laplace(
            json!({"kind": "count_by", "column": "nope", "categories": ["1"]}),
            1.0,
        ),
        laplace(
            json!({"kind": "count_by", "column": "flag", "categories": ["maybe"]}),
            1.0,
        ),
        laplace(
            json!({"kind": "count_by", "column": "k", "categories": ["one"]}),
            1.0,
        ),
        laplace(
            json!({"kind": "count_by", "column": "k", "categories": ["7", "07"]}),
            1.0,
        ),
        laplace(
            json!({"kind": "count_by", "column": "flag", "categories": ["true", "TRUE"]}),
            1.0,
        ),
    ];
    for r in &bad {
        let err = r
            .check_dataset(&schema, ROWS as u64)
            .expect_err("does not fit");
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{r:?}: {err}");
        let err = release(&session, TABLE, r).await.expect_err("not released");
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{r:?}: {err}");
    }
    let unknown = bad[0].check_dataset(&schema, 1).unwrap_err().to_string();
    assert!(
        unknown.contains("'nope'") && !unknown.contains("flag"),
        "{unknown}"
    );
    let text = bad[1].check_dataset(&schema, 1).unwrap_err().to_string();
    assert!(text.contains("numeric"), "{text}");
    // A mean needs rows to divide by; the other queries run on an empty dataset.
    let mean = laplace(
        json!({"kind": "mean", "column": "x", "lower": 0.0, "upper": 1.0}),
        1.0,
    );
    assert_eq!(
        mean.check_dataset(&schema, 0).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    let sum = laplace(
        json!({"kind": "sum", "column": "x", "lower": 0.0, "upper": 1.0}),
        1.0,
    );
    sum.check_dataset(&schema, 0).unwrap();
}

/// Every query, both mechanisms, at ε = 10: the figures stay near the truth.
#[tokio::test]
async fn privacy_every_query_is_near_the_truth_with_a_large_epsilon() {
    let session = sample().await;
    let eps = 10.0;
    for gauss in [false, true] {
        let req = |q: Value| {
            if gauss {
                gaussian(q, eps, 1e-6)
            } else {
                laplace(q, eps)
            }
        };
        let (discrete, float) = if gauss {
            (
                ReleasedMechanism::DiscreteGaussian,
                ReleasedMechanism::Gaussian,
            )
        } else {
            (
                ReleasedMechanism::DiscreteLaplace,
                ReleasedMechanism::Laplace,
            )
        };

        let out = release(&session, TABLE, &req(json!({"kind": "count"})))
            .await
            .unwrap();
        let DpResult::Count { value } = out.result else {
            panic!("{out:?}")
        };
        assert!((value - ROWS as i64).abs() <= 5, "count {value}");
        assert_eq!(out.mechanism, discrete);
        assert_eq!((out.epsilon, out.bounds), (eps, None));

        let out = release(
            &session,
            TABLE,
            &req(json!({"kind": "count_by", "column": "g", "categories": ["b", "a", "zz"]})),
        )
        .await
        .unwrap();
        let DpResult::CountBy { bins, other } = &out.result else {
            panic!("{out:?}")
        };
        let labels: Vec<&str> = bins.iter().map(|b| b.category.as_str()).collect();
        assert_eq!(labels, ["b", "a", "zz"]);
        for (bin, truth) in bins.iter().zip([250, 250, 0]) {
            assert!((bin.count - truth).abs() <= 5, "{bins:?}");
        }
        // "c" and the nulls.
        assert!((other - 500).abs() <= 5, "other {other}");
        assert_eq!(out.mechanism, discrete);

        for (column, categories, truths) in [
            ("flag", json!(["true", "False"]), [200, 800, 0]),
            ("k", json!(["0", "+4", "9"]), [200, 200, 0]),
        ] {
            let out = release(
                &session,
                TABLE,
                &req(json!({"kind": "count_by", "column": column, "categories": categories})),
            )
            .await
            .unwrap();
            let DpResult::CountBy { bins, other } = &out.result else {
                panic!("{out:?}")
            };
            for (bin, truth) in bins.iter().zip(truths) {
                assert!((bin.count - truth).abs() <= 5, "{column}: {bins:?}");
            }
            let rest = ROWS as i64 - truths.iter().sum::<i64>();
            assert!((other - rest).abs() <= 5, "{column}: other {other}");
        }

        let out = release(
            &session,
            TABLE,
            &req(json!({"kind": "sum", "column": "x", "lower": 0.0, "upper": 100.0})),
        )
        .await
        .unwrap();
        let DpResult::Sum { value } = out.result else {
            panic!("{out:?}")
        };
        assert!(
            (value - true_sum()).abs() <= 200.0,
            "sum {value} vs {}",
            true_sum()
        );
        assert_eq!(out.mechanism, float);
        assert_eq!(
            out.bounds,
            Some(DpBounds {
                lower: 0.0,
                upper: 100.0
            })
        );

        // Clamping: every value above 10 counts as 10.
        let out = release(
            &session,
            TABLE,
            &req(json!({"kind": "sum", "column": "x", "lower": 0.0, "upper": 10.0})),
        )
        .await
        .unwrap();
        let clamped: f64 = (0..ROWS).filter_map(x).map(|v| v.min(10.0)).sum();
        let DpResult::Sum { value } = out.result else {
            panic!("{out:?}")
        };
        assert!(
            (value - clamped).abs() <= 20.0,
            "clamped sum {value} vs {clamped}"
        );

        let out = release(
            &session,
            TABLE,
            &req(json!({"kind": "mean", "column": "x", "lower": 0.0, "upper": 100.0})),
        )
        .await
        .unwrap();
        let DpResult::Mean { value } = out.result else {
            panic!("{out:?}")
        };
        assert!((value - true_mean_imputed()).abs() <= 0.5, "mean {value}");
        assert_eq!(out.mechanism, float);

        // An integer column reads as numbers too.
        let out = release(
            &session,
            TABLE,
            &req(json!({"kind": "mean", "column": "k", "lower": 0.0, "upper": 4.0})),
        )
        .await
        .unwrap();
        let DpResult::Mean { value } = out.result else {
            panic!("{out:?}")
        };
        assert!((value - 2.0).abs() <= 0.1, "mean of k {value}");

        let out = release(
            &session,
            TABLE,
            &req(
                json!({"kind": "histogram", "column": "x", "lower": 10.0, "upper": 90.0,
                        "bins": 4}),
            ),
        )
        .await
        .unwrap();
        let DpResult::Histogram { bins } = &out.result else {
            panic!("{out:?}")
        };
        let edges: Vec<(f64, f64)> = bins.iter().map(|b| (b.lower, b.upper)).collect();
        assert_eq!(
            edges,
            [(10.0, 30.0), (30.0, 50.0), (50.0, 70.0), (70.0, 90.0)]
        );
        // 900 values: 0..29 (below 10 clamped in) in the first bin, 70..99 in the last.
        let truth = |lo: usize, hi: usize| {
            (0..ROWS)
                .filter_map(x)
                .filter(|v| (lo as f64..hi as f64).contains(v))
                .count() as i64
        };
        for (bin, t) in
            bins.iter()
                .zip([truth(0, 30), truth(30, 50), truth(50, 70), truth(70, 100)])
        {
            assert!((bin.count - t).abs() <= 5, "{bins:?}");
        }
        assert_eq!(out.mechanism, discrete);
    }

    let out = release(
        &session,
        TABLE,
        &laplace(
            json!({"kind": "quantiles", "column": "x", "lower": 0.0, "upper": 100.0,
                   "probabilities": [0.1, 0.5, 0.9]}),
            eps,
        ),
    )
    .await
    .unwrap();
    let DpResult::Quantiles { quantiles } = &out.result else {
        panic!("{out:?}")
    };
    for (q, truth) in quantiles.iter().zip([10.0, 50.0, 90.0]) {
        assert!((q.value - truth).abs() <= 5.0, "{quantiles:?}");
    }
    let probabilities: Vec<f64> = quantiles.iter().map(|q| q.probability).collect();
    assert_eq!(probabilities, [0.1, 0.5, 0.9]);
    assert_eq!(out.mechanism, ReleasedMechanism::Exponential);
}

/// The scale follows the sensitivity: `1 / ε` for a count, `(upper − lower) / (n ε)` for a
/// mean (one row changed), `max(|lower|, |upper|, upper − lower) / ε` and a little for the
/// float sum's rounding error, and σ grows as δ shrinks.
#[tokio::test]
async fn privacy_scales_follow_the_sensitivity() {
    let session = sample().await;
    let out = release(&session, TABLE, &laplace(json!({"kind": "count"}), 0.5))
        .await
        .unwrap();
    assert_eq!(out.scale, 2.0);
    let out = release(
        &session,
        TABLE,
        &laplace(
            json!({"kind": "mean", "column": "x", "lower": -50.0, "upper": 50.0}),
            2.0,
        ),
    )
    .await
    .unwrap();
    let expected = 100.0 / ROWS as f64 / 2.0;
    assert!(
        (out.scale / expected - 1.0).abs() < 1e-6,
        "{} vs {expected}",
        out.scale
    );
    let out = release(
        &session,
        TABLE,
        &laplace(
            json!({"kind": "sum", "column": "x", "lower": -10.0, "upper": 40.0}),
            1.0,
        ),
    )
    .await
    .unwrap();
    assert!(out.scale >= 50.0 && out.scale < 50.001, "{}", out.scale);
    let loose = gaussian(json!({"kind": "count"}), 1.0, 1e-3);
    let tight = gaussian(json!({"kind": "count"}), 1.0, 1e-9);
    let schema = session.schema(TABLE).await.unwrap();
    let (a, b) = (
        loose.plan(&schema, 10).unwrap().scale,
        tight.plan(&schema, 10).unwrap().scale,
    );
    assert!(1.0 < a && a < b && b < 10.0, "{a} {b}");
}

/// The measurement is built again at release time and its loss checked against what was
/// charged: a scale too small for the budget is refused and nothing is sampled.
#[tokio::test]
async fn privacy_a_scale_too_small_for_the_budget_is_refused() {
    let session = sample().await;
    let schema = session.schema(TABLE).await.unwrap();
    for (charged, planned) in [
        (
            laplace(json!({"kind": "count"}), 0.5),
            laplace(json!({"kind": "count"}), 1.0),
        ),
        (
            gaussian(json!({"kind": "count"}), 0.5, 1e-6),
            gaussian(json!({"kind": "count"}), 1.0, 1e-6),
        ),
        (
            gaussian(json!({"kind": "count"}), 1.0, 1e-7),
            gaussian(json!({"kind": "count"}), 1.0, 1e-6),
        ),
    ] {
        let plan = planned.plan(&schema, ROWS as u64).unwrap();
        measure::count(&planned, &plan).unwrap();
        let err = measure::count(&charged, &plan).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Internal, "{err}");
        assert!(err.to_string().contains("nothing was released"), "{err}");
    }
    let planned = laplace(
        json!({"kind": "mean", "column": "x", "lower": 0.0, "upper": 100.0}),
        1.0,
    );
    let plan = planned.plan(&schema, ROWS as u64).unwrap();
    let values = vec![1.0; ROWS];
    measure::numeric(&planned, &plan, values.clone()).unwrap();
    let mut charged = planned.clone();
    charged.epsilon = 0.9;
    let err = measure::numeric(&charged, &plan, values).unwrap_err();
    assert!(err.to_string().contains("nothing was released"), "{err}");
}

/// The release holds the noisy figures and how they were made, nothing else: no exact value
/// and no row count.
#[tokio::test]
async fn privacy_releases_carry_no_exact_value() {
    let session = sample().await;
    let mean = release(
        &session,
        TABLE,
        &laplace(
            json!({"kind": "mean", "column": "x", "lower": 0.0, "upper": 100.0}),
            1.0,
        ),
    )
    .await
    .unwrap();
    let value = serde_json::to_value(&mean).unwrap();
    let keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [
            "bounds",
            "delta",
            "epsilon",
            "kind",
            "mechanism",
            "scale",
            "value"
        ],
        "{value}"
    );
    assert_eq!(value["kind"], "mean");
    assert_eq!(value["mechanism"], "laplace");
    assert_eq!(value["bounds"], json!({"lower": 0.0, "upper": 100.0}));
    let released = value["value"].as_f64().unwrap();
    assert_ne!(released, true_mean_imputed());
    let exact_mean_of_present = true_sum() / 900.0;
    assert_ne!(released, exact_mean_of_present);

    let sum = release(
        &session,
        TABLE,
        &laplace(
            json!({"kind": "sum", "column": "x", "lower": 0.0, "upper": 100.0}),
            1.0,
        ),
    )
    .await
    .unwrap();
    let value = serde_json::to_value(&sum).unwrap();
    assert_ne!(value["value"].as_f64().unwrap(), true_sum());
    let numbers: Vec<f64> = ["scale", "epsilon", "delta", "value"]
        .iter()
        .filter_map(|k| value[k].as_f64())
        .collect();
    assert!(
        !numbers.contains(&(ROWS as f64)) && !numbers.contains(&900.0),
        "{value}"
    );

    let count = release(&session, TABLE, &laplace(json!({"kind": "count"}), 1.0))
        .await
        .unwrap();
    let value = serde_json::to_value(&count).unwrap();
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["delta", "epsilon", "kind", "mechanism", "scale", "value"]
    );
    assert_eq!(value["mechanism"], "discrete_laplace");
    let back: DpRelease = serde_json::from_value(value).unwrap();
    assert_eq!(back, count);
}

/// CSV versions release like Parquet ones; a numeric column over the memory limit is
/// refused before it is read.
#[tokio::test]
async fn privacy_csv_and_the_memory_limit() {
    let csv = format!("k,s\n{}", "1,x\n2,y\n2,x\n,z\n".repeat(50));
    let session = session_with(csv.into_bytes(), DataFormat::Csv, Limits::default()).await;
    let out = release(
        &session,
        TABLE,
        &laplace(
            json!({"kind": "count_by", "column": "k", "categories": ["2", "1"]}),
            10.0,
        ),
    )
    .await
    .unwrap();
    let DpResult::CountBy { bins, other } = &out.result else {
        panic!("{out:?}")
    };
    assert!(
        (bins[0].count - 100).abs() <= 5 && (bins[1].count - 50).abs() <= 5,
        "{bins:?}"
    );
    assert!((other - 50).abs() <= 5);

    let n = 300_000;
    let bytes = parquet(vec![(
        "v",
        Arc::new(Float64Array::from(
            (0..n).map(f64::from).collect::<Vec<_>>(),
        )),
    )]);
    let session = session_with(bytes, DataFormat::Parquet, Limits::memory(1 << 20)).await;
    let err = release(
        &session,
        TABLE,
        &laplace(
            json!({"kind": "mean", "column": "v", "lower": 0.0, "upper": 1.0}),
            1.0,
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResourcesExhausted, "{err}");
}

/// Many releases of a count at a known scale: the noise has the stated distribution.
///
/// Discrete Laplace at scale b = 10 (ε = 0.1): E|X| = 2q / (1 − q²) with q = e^(−1/b), 9.983,
/// within 0.2% of b, and sd(|X|) ≈ b. Over N = 4,000 releases the mean of |X| has a standard
/// error of b / √N = 0.016 b, so the 10% tolerance is 6.3 standard errors: a false failure
/// has a probability below 1e-9. Discrete Gaussian at σ ≈ 5.8 (ε = 1, δ = 1e-9): its variance
/// is σ² to far better than 1e-6; the sample standard deviation has a standard error of
/// σ / √(2N) = 0.011 σ, so 10% is 8.9 standard errors (probability below 1e-18).
///
/// The Laplace draws are full releases (read, calibrate, verify, sample); the Gaussian ones
/// reuse one calibration (a few ms each in debug builds) and run the rest of the release:
/// build the measurement at that scale, verify its loss, sample.
#[tokio::test]
async fn privacy_noise_has_the_stated_scale() {
    const N: usize = 4000;
    let session = sample().await;
    let truth = ROWS as f64;

    let req = laplace(json!({"kind": "count"}), 0.1);
    let mut abs_noise = 0.0;
    let mut scale = 0.0;
    for _ in 0..N {
        let out = release(&session, TABLE, &req).await.unwrap();
        let DpResult::Count { value } = out.result else {
            panic!("{out:?}")
        };
        abs_noise += (value as f64 - truth).abs();
        scale = out.scale;
    }
    assert_eq!(scale, 10.0);
    let mean_abs = abs_noise / N as f64;
    assert!(
        (mean_abs / scale - 1.0).abs() < 0.1,
        "mean |noise| {mean_abs} at scale {scale}"
    );

    let req = gaussian(json!({"kind": "count"}), 1.0, 1e-9);
    let schema = session.schema(TABLE).await.unwrap();
    let plan = req.plan(&schema, ROWS as u64).unwrap();
    let sigma = plan.scale;
    assert!(5.0 < sigma && sigma < 7.0, "{sigma}");
    let mut squares = 0.0;
    for _ in 0..N {
        let DpResult::Count { value } = measure::count(&req, &plan).unwrap() else {
            panic!("not a count")
        };
        squares += (value as f64 - truth).powi(2);
    }
    let sd = (squares / N as f64).sqrt();
    assert!((sd / sigma - 1.0).abs() < 0.1, "sd {sd} at sigma {sigma}");
}
