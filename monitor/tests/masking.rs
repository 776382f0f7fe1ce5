//! Masking: masked copies of dataset versions, and masked views of real reports (profile,
//! quality, drift, fairness) in which no value of a masked or hidden column appears in clear.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Float64Array, Int64Array, StringArray};
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use serde_json::{Value, json};
use verity_monitor::check::{CheckSpec, NoProgress, run_check};
use verity_monitor::masking::{ColumnMasks, MaskMode, MaskedExport, Masker, mask_report};
use verity_monitor::source::{Session, Source};
use verity_store::DataFormat;

use common::{parquet, read_parquet};

const EMAILS: [&str; 6] = [
    "ann@example.org",
    "bob@example.org",
    "cy@example.org",
    "ann@example.org",
    "dee@example.org",
    "eve@example.org",
];
const SSNS: [&str; 6] = [
    "111-11-1111",
    "222-22-2222",
    "333-33-3333",
    "444-44-4444",
    "555-55-5555",
    "666-66-6666",
];
const REGIONS: [&str; 6] = [
    "region-north",
    "region-south",
    "region-north",
    "region-south",
    "region-north",
    "region-south",
];

fn strs(values: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

fn people(ages: [f64; 6]) -> Vec<u8> {
    parquet(vec![
        ("email", strs(&EMAILS)),
        ("ssn", strs(&SSNS)),
        ("region", strs(&REGIONS)),
        ("age", Arc::new(Float64Array::from(ages.to_vec()))),
        ("label", Arc::new(Int64Array::from(vec![1, 0, 1, 1, 0, 0]))),
        (
            "predicted",
            Arc::new(Int64Array::from(vec![1, 0, 0, 1, 1, 0])),
        ),
    ])
}

fn csv_people() -> Vec<u8> {
    let mut text = String::from("email,ssn,region,age\n");
    for i in 0..6 {
        text.push_str(&format!(
            "{},{},{},{}\n",
            EMAILS[i],
            SSNS[i],
            REGIONS[i],
            20 + i
        ));
    }
    text.into_bytes()
}

fn masker() -> Masker {
    let columns: ColumnMasks = [
        ("email".to_owned(), MaskMode::Masked),
        ("region".to_owned(), MaskMode::Masked),
        ("age".to_owned(), MaskMode::Masked),
        ("ssn".to_owned(), MaskMode::Hidden),
    ]
    .into();
    Masker::new([7; 32], columns)
}

async fn session(files: Vec<(&str, Vec<u8>)>, sequential: bool) -> Session {
    let store = Arc::new(InMemory::new());
    for (key, bytes) in files {
        store.put(&Path::from(key), bytes.into()).await.unwrap();
    }
    let store: Arc<dyn ObjectStore> = store;
    if sequential {
        Session::sequential(store, 2).unwrap()
    } else {
        Session::new(store).unwrap()
    }
}

fn source(key: &str, format: DataFormat) -> Source {
    Source {
        key: key.into(),
        format,
    }
}

async fn export(bytes: Vec<u8>, format: DataFormat, masker: Masker) -> Vec<u8> {
    let session = session(vec![("data", bytes)], true).await;
    let mut export = MaskedExport::open(&session, &source("data", format), masker)
        .await
        .unwrap();
    let mut out = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = export.next_chunk().await.unwrap() {
        out.extend(chunk);
        chunks += 1;
    }
    assert!(chunks >= 1);
    assert!(
        export.next_chunk().await.unwrap().is_none(),
        "stays finished"
    );
    out
}

/// Every clear value of the masked and hidden text columns.
fn clear_values() -> Vec<&'static str> {
    EMAILS
        .iter()
        .chain(&SSNS)
        .chain(&REGIONS)
        .copied()
        .collect()
}

fn assert_no_clear_value(what: &str, text: &str) {
    for value in clear_values() {
        assert!(
            !text.contains(value),
            "{what} shows {value} in clear: {text}"
        );
    }
}

#[test]
fn pseudonyms_are_keyed_stable_and_short() {
    let m = masker();
    let p = m.pseudonym("ann@example.org");
    assert_eq!(p.len(), 32);
    assert!(
        p.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert_eq!(p, m.pseudonym("ann@example.org"));
    assert_ne!(p, m.pseudonym("ann@example.org "));
    let other_key = Masker::new([8; 32], m.columns().clone());
    assert_ne!(p, other_key.pseudonym("ann@example.org"));
    assert!(
        !format!("{m:?}").contains("[7, 7"),
        "the key stays out of Debug"
    );
}

#[tokio::test]
async fn parquet_export_hides_and_pseudonymises_in_row_order() {
    let m = masker();
    let bytes = export(
        people([30.0, 41.0, 52.0, 30.0, 64.0, 75.0]),
        DataFormat::Parquet,
        m.clone(),
    )
    .await;
    let batch = read_parquet(bytes);
    let names: Vec<&str> = batch
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(names, ["email", "region", "age", "label", "predicted"]);
    let email = batch
        .column(0)
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    for (i, clear) in EMAILS.iter().enumerate() {
        assert_eq!(
            email.value(i),
            m.pseudonym(clear),
            "row {i} in stored order"
        );
    }
    assert_eq!(email.value(0), email.value(3), "equal values stay equal");
    let age = batch
        .column(2)
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    assert_eq!(age.value(0), age.value(3));
    assert_ne!(age.value(0), age.value(1));
    let label = batch
        .column(3)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap();
    assert_eq!(
        label.values(),
        &[1, 0, 1, 1, 0, 0],
        "clear columns unchanged"
    );
}

#[tokio::test]
async fn csv_export_matches_the_parquet_pseudonyms_of_text() {
    let m = masker();
    let text = String::from_utf8(export(csv_people(), DataFormat::Csv, m.clone()).await).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("email,region,age"));
    let first: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(first[0], m.pseudonym("ann@example.org"));
    assert_eq!(first[1], m.pseudonym("region-north"));
    assert_eq!(lines.count(), 5);
    assert_no_clear_value("the CSV export", &text);

    // No rows: the header alone.
    let empty = export(
        b"email,ssn\n".to_vec(),
        DataFormat::Csv,
        Masker::new([1; 32], [("ssn".to_owned(), MaskMode::Hidden)].into()),
    )
    .await;
    assert_eq!(String::from_utf8(empty).unwrap().trim_end(), "email");
}

#[tokio::test]
async fn nothing_masked_exports_the_rows_unchanged() {
    let text = export(
        csv_people(),
        DataFormat::Csv,
        Masker::new([1; 32], ColumnMasks::new()),
    )
    .await;
    let text = String::from_utf8(text).unwrap();
    assert!(text.starts_with("email,ssn,region,age\nann@example.org,111-11-1111"));
}

async fn report(spec: Value, reference: bool) -> (Value, Value) {
    let session = session(
        vec![
            ("current", people([30.0, 41.0, 52.0, 30.0, 64.0, 75.0])),
            ("reference", people([31.0, 42.0, 53.0, 31.0, 65.0, 76.0])),
        ],
        false,
    )
    .await;
    let check = CheckSpec::from_json("check", &spec).unwrap();
    let reference_source = source("reference", DataFormat::Parquet);
    let outcome = run_check(
        &session,
        &check,
        &source("current", DataFormat::Parquet),
        reference.then_some(&reference_source),
        &NoProgress,
    )
    .await
    .unwrap();
    (
        serde_json::to_value(&check).unwrap(),
        serde_json::to_value(&outcome).unwrap(),
    )
}

fn masked(kind: &str, (mut config, mut result): (Value, Value)) -> (Value, Value) {
    mask_report(kind, &mut config, &mut result, &masker()).unwrap();
    let text = format!("{config}{result}");
    assert_no_clear_value(kind, &text);
    assert!(
        !text.contains("ssn"),
        "{kind}: the hidden column is left out: {text}"
    );
    (config, result)
}

#[tokio::test]
async fn profiles_show_pseudonyms_and_no_statistic_of_masked_columns() {
    let (clear_config, clear_result) = report(json!({"kind": "profile"}), false).await;
    assert!(clear_result.to_string().contains("ann@example.org"));
    let (_, result) = masked("profile", (clear_config, clear_result));
    let columns = result["columns"].as_array().unwrap();
    let email = columns.iter().find(|c| c["name"] == "email").unwrap();
    assert_eq!(email["top"][0][0], masker().pseudonym("ann@example.org"));
    assert_eq!(email["top"][0][1], 2);
    let age = columns.iter().find(|c| c["name"] == "age").unwrap();
    for statistic in ["min", "max", "mean", "std", "quartiles"] {
        assert!(age[statistic].is_null(), "age {statistic}: {age}");
    }
    let label = columns.iter().find(|c| c["name"] == "label").unwrap();
    assert_eq!(label["max"], "1", "clear columns keep their figures");
}

#[tokio::test]
async fn quality_results_list_only_pseudonyms() {
    let spec = json!({"kind": "quality", "expectations": [
        {"type": "expect_column_values_to_be_in_set", "column": "email", "value_set": ["ann@example.org"]},
        {"type": "expect_column_values_to_match_regex", "column": "email", "regex": "^ann@"},
        {"type": "expect_column_values_to_be_between", "column": "age", "min_value": 0, "max_value": 40},
        {"type": "expect_column_values_to_be_unique", "column": "ssn"},
        {"type": "expect_column_mean_to_be_between", "column": "age", "min_value": 0, "max_value": 100},
        {"type": "expect_rows_to_satisfy", "predicate": "ssn <> '111-11-1111'"},
        {"type": "expect_column_values_to_be_in_set", "column": "label", "value_set": [0, 1]}
    ]});
    let clear = report(spec, false).await;
    assert!(
        clear.1.to_string().contains("bob@example.org"),
        "{}",
        clear.1
    );
    let (config, result) = masked("quality", clear);
    let results = result["results"].as_array().unwrap();
    assert_eq!(
        results.len(),
        6,
        "the hidden column's expectation is left out"
    );
    assert_eq!(config["expectations"].as_array().unwrap().len(), 6);
    let in_set = &results[0];
    let unexpected = in_set["partial_unexpected_list"].as_array().unwrap();
    assert!(unexpected.contains(&json!(masker().pseudonym("bob@example.org"))));
    assert_eq!(in_set["unexpected_count"], 4, "counts stay");
    assert_eq!(
        in_set["expectation"]["value_set"][0],
        masker().pseudonym("ann@example.org")
    );
    assert!(!results[1].to_string().contains("^ann@"));
    assert!(results[2]["expectation"]["max_value"].is_null());
    assert!(
        results[3].get("observed_value").is_none(),
        "a mean is a value"
    );
    assert!(results[4].get("partial_unexpected_list").is_none());
    assert_eq!(results[5]["expectation"]["value_set"], json!([0.0, 1.0]));
}

#[tokio::test]
async fn drift_shows_pseudonymous_categories_and_no_bin_edges() {
    let clear = report(json!({"kind": "drift"}), true).await;
    let (_, result) = masked("drift", clear);
    let columns = result["drift"]["columns"].as_array().unwrap();
    assert!(columns.iter().all(|c| c["column"] != "ssn"));
    let region = columns.iter().find(|c| c["column"] == "region").unwrap();
    let labels = region["histogram"]["labels"].as_array().unwrap();
    assert!(labels.contains(&json!(masker().pseudonym("region-north"))));
    let age = columns.iter().find(|c| c["column"] == "age").unwrap();
    assert_eq!(age["histogram"], json!({"type": "masked"}));
    assert!(age["score"].is_number(), "the statistic stays: {age}");
}

#[tokio::test]
async fn fairness_groups_and_privileged_values_are_pseudonyms() {
    let spec = json!({"kind": "fairness", "label": "label", "prediction": "predicted",
        "sensitive": ["region"], "privileged": [{"region": "region-north"}]});
    let clear = report(spec, false).await;
    let (config, result) = masked("fairness", clear);
    let north = masker().pseudonym("region-north");
    assert_eq!(config["privileged"][0]["region"], north);
    let groups: Vec<&Value> = result["report"]["by_group"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| &g["group"][0])
        .collect();
    assert!(groups.contains(&&json!(north)), "{groups:?}");
    assert_eq!(
        result["report"]["privileged"]["privileged_groups"][0][0],
        north
    );
}

#[test]
fn unknown_kinds_are_refused_and_odd_shapes_do_not_panic() {
    let m = masker();
    let (mut config, mut result) = (json!({}), json!({}));
    assert!(mask_report("novel", &mut config, &mut result, &m).is_err());
    for kind in [
        "profile",
        "quality",
        "drift",
        "fairness",
        "evaluation",
        "comparison",
    ] {
        for (mut config, mut result) in [
            (json!(null), json!(null)),
            (json!([1, 2]), json!("text")),
            (
                json!({"evaluation": 3}),
                json!({"columns": 4, "report": [], "by_group": [{"groups": 1}]}),
            ),
        ] {
            mask_report(kind, &mut config, &mut result, &m).unwrap();
        }
    }
    let mut failed = json!({"error": "cannot cast 'ann@example.org' to Float64"});
    mask_report("quality", &mut json!({}), &mut failed, &m).unwrap();
    assert_no_clear_value("an error report", &failed.to_string());
}

#[test]
fn evaluation_groups_and_classes_are_pseudonyms() {
    let m = masker();
    let mut config = json!({"evaluation": {"label": "region", "sensitive": ["email"], "positive_label": "region-north"}});
    let mut result = json!({
        "overall": {"task": "multiclass", "classes": ["region-north", "region-south"]},
        "by_group": [{"column": "email", "groups": [{"value": "ann@example.org", "rows": 2,
            "metrics": {"task": "multiclass", "classes": ["region-north"]}}]}],
        "fairness": [{"column": "email", "report": {"sensitive_columns": ["email"],
            "by_group": [{"group": ["ann@example.org"]}, {"group": ["bob@example.org"]}],
            "warnings": ["only (ann@example.org) has positives"]}}]
    });
    mask_report("evaluation", &mut config, &mut result, &m).unwrap();
    assert_no_clear_value("an evaluation", &format!("{config}{result}"));
    assert_eq!(
        result["fairness"][0]["report"]["warnings"][0],
        format!("only ({}) has positives", m.pseudonym("ann@example.org"))
    );
    assert_eq!(result["overall"]["classes"][1], m.pseudonym("region-south"));
}

#[test]
fn masked_labels_hide_regression_errors_and_thresholds() {
    let m = Masker::new(
        [3; 32],
        [
            ("income".to_owned(), MaskMode::Masked),
            ("p".to_owned(), MaskMode::Masked),
            ("s".to_owned(), MaskMode::Hidden),
        ]
        .into(),
    );
    let mut config = json!({"evaluation": {"label": "income"}});
    let mut result = json!({"overall": {"task": "regression", "rows": 9, "mae": 1200.5, "rmse": 1500.0,
        "r2": 0.7, "residual_quantiles": [{"q": 0.5, "value": 10.0}], "max_error": 9000.0}});
    mask_report("evaluation", &mut config, &mut result, &m).unwrap();
    let overall = &result["overall"];
    for figure in ["mae", "rmse", "residual_quantiles", "max_error"] {
        assert!(overall[figure].is_null(), "{figure}: {overall}");
    }
    assert_eq!(overall["r2"], 0.7, "a ratio without units stays");
    assert_eq!(overall["rows"], 9);

    let mut comparison = json!({"comparison": {"overall": [
        {"metric": "rmse", "challenger": 1.0, "champion": 2.0, "difference": -1.0},
        {"metric": "r2", "challenger": 0.5, "champion": 0.4, "difference": 0.1}]}});
    mask_report("comparison", &mut config, &mut comparison, &m).unwrap();
    assert!(comparison["comparison"]["overall"][0]["challenger"].is_null());
    assert_eq!(comparison["comparison"]["overall"][1]["challenger"], 0.5);

    let mut fairness = json!({"label": "y", "prediction": "p", "score": "s", "threshold": 0.37,
        "positive_label": "approved"});
    mask_report("fairness", &mut fairness, &mut json!({}), &m).unwrap();
    assert_eq!(fairness["positive_label"], m.pseudonym("approved"));
    assert!(fairness["threshold"].is_null());
}

#[tokio::test]
async fn hiding_every_column_is_refused_not_a_crash() {
    let everything = Masker::new(
        [1; 32],
        ["email", "ssn", "region", "age"]
            .map(|c| (c.to_owned(), MaskMode::Hidden))
            .into(),
    );
    let session = session(vec![("data", csv_people())], true).await;
    let refused = MaskedExport::open(&session, &source("data", DataFormat::Csv), everything)
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), verity_monitor::ErrorKind::InvalidArgument);
}

#[tokio::test]
async fn columns_of_any_type_can_be_masked() {
    use datafusion::arrow::array::{BinaryArray, ListArray};
    use datafusion::arrow::datatypes::Int32Type;
    let list: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
        Some(vec![Some(1), Some(2)]),
        None,
    ]));
    let binary: ArrayRef = Arc::new(BinaryArray::from_vec(vec![b"\xff\x00", b"ok"]));
    let m = Masker::new(
        [2; 32],
        [
            ("l".to_owned(), MaskMode::Masked),
            ("b".to_owned(), MaskMode::Masked),
        ]
        .into(),
    );
    let batch = read_parquet(
        export(
            parquet(vec![("l", list), ("b", binary)]),
            DataFormat::Parquet,
            m,
        )
        .await,
    );
    let l = batch
        .column(0)
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    assert_eq!(l.value(0).len(), 32);
    assert!(l.is_null(1), "nulls stay null");
    let b = batch
        .column(1)
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    assert_ne!(b.value(0), b.value(1));
}
