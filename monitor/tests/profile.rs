//! Data profiles computed by DataFusion from bytes in an object store.
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use verity_monitor::ErrorKind;
use verity_monitor::profile::profile;
use verity_monitor::source::{Session, Source};
use verity_store::DataFormat;

fn batch() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("x", DataType::Float64, true),
        Field::new("cat", DataType::Utf8, true),
        Field::new("k", DataType::Int64, false),
        Field::new("e", DataType::Float64, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Float64Array::from(vec![
            Some(1.0),
            Some(2.0),
            Some(1.0),
            Some(4.0),
            Some(f64::NAN),
            None,
        ])),
        Arc::new(StringArray::from(vec![
            Some("a"),
            Some("b"),
            Some("a"),
            Some("a"),
            None,
            Some("c"),
        ])),
        Arc::new(Int64Array::from(vec![7; 6])),
        Arc::new(Float64Array::from(vec![None::<f64>; 6])),
    ];
    RecordBatch::try_new(schema, columns).unwrap()
}

fn parquet_bytes() -> Vec<u8> {
    let batch = batch();
    let mut out = Vec::new();
    let mut writer = parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    out
}

async fn session_with(key: &str, bytes: Vec<u8>) -> Session {
    let store = Arc::new(InMemory::new());
    store.put(&Path::from(key), bytes.into()).await.unwrap();
    let store: Arc<dyn ObjectStore> = store;
    Session::new(store).unwrap()
}

#[tokio::test]
async fn parquet_profile_has_hand_computed_figures() {
    let key = "sha256/ab/abcdef";
    let session = session_with(key, parquet_bytes()).await;
    let source = Source {
        key: key.into(),
        format: DataFormat::Parquet,
    };
    let p = profile(&session, &source).await.unwrap();
    assert_eq!(p.rows, 6);
    // Row 2 repeats row 0.
    assert_eq!(p.duplicated_rows, 1);
    assert_eq!(p.constant_columns, vec!["k".to_string()]);
    assert_eq!(p.empty_columns, vec!["e".to_string()]);

    let x = &p.columns[0];
    assert_eq!((x.name.as_str(), x.kind), ("x", "numeric"));
    // NaN and null are both missing: 2 of 6.
    assert_eq!(x.missing, 2);
    assert!((x.missing_share - 2.0 / 6.0).abs() < 1e-12);
    assert_eq!(x.distinct, 3);
    assert_eq!((x.min.as_deref(), x.max.as_deref()), (Some("1"), Some("4")));
    // mean(1, 2, 1, 4) = 2; sample std = sqrt((1 + 0 + 1 + 4) / 3) = sqrt(2).
    assert!((x.mean.unwrap() - 2.0).abs() < 1e-12);
    assert!((x.std.unwrap() - 2f64.sqrt()).abs() < 1e-12);
    let q = x.quartiles.unwrap();
    assert!(
        q[0] <= q[1] && q[1] <= q[2] && q[0] >= 1.0 && q[2] <= 4.0,
        "{q:?}"
    );

    let cat = &p.columns[1];
    assert_eq!(cat.kind, "categorical");
    assert_eq!((cat.missing, cat.distinct), (1, 3));
    assert_eq!(
        cat.top,
        vec![
            ("a".to_string(), 3),
            ("b".to_string(), 1),
            ("c".to_string(), 1)
        ]
    );

    let k = &p.columns[2];
    assert_eq!((k.distinct, k.mean, k.std), (1, Some(7.0), Some(0.0)));

    let e = &p.columns[3];
    assert_eq!(
        (e.missing, e.distinct, e.mean, e.min.clone()),
        (6, 0, None, None)
    );
}

#[tokio::test]
async fn csv_profile_and_unreadable_bytes() {
    let key = "sha256/cd/cdef01";
    let csv = "x,cat\n1,a\n2,b\n2,b\n,c\n";
    let session = session_with(key, csv.as_bytes().to_vec()).await;
    let p = profile(
        &session,
        &Source {
            key: key.into(),
            format: DataFormat::Csv,
        },
    )
    .await
    .unwrap();
    assert_eq!((p.rows, p.duplicated_rows), (4, 1));
    assert_eq!(p.columns[0].missing, 1);
    assert!((p.columns[0].mean.unwrap() - 5.0 / 3.0).abs() < 1e-12);
    assert_eq!(p.columns[1].top[0], ("b".to_string(), 2));

    // Bytes that are not Parquet: a clear error, not a panic.
    let session = session_with(key, b"not parquet at all".to_vec()).await;
    let err = profile(
        &session,
        &Source {
            key: key.into(),
            format: DataFormat::Parquet,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
}

#[tokio::test]
async fn empty_dataset_profiles_to_zero_rows() {
    let key = "sha256/ef/ef0123";
    let session = session_with(key, b"x,y\n".to_vec()).await;
    let p = profile(
        &session,
        &Source {
            key: key.into(),
            format: DataFormat::Csv,
        },
    )
    .await
    .unwrap();
    assert_eq!((p.rows, p.duplicated_rows), (0, 0));
    assert!(p.empty_columns.is_empty());
    assert!(p.columns.iter().all(|c| c.missing == 0 && c.mean.is_none()));
}
