//! A regression test: DataFusion 55 with file statistics read a Parquet column holding NaN
//! and otherwise equal values as that constant (NaN is left out of Parquet's min/max), so a
//! check or an evaluation never saw the NaN. Sessions now plan without file statistics.
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use verity_monitor::drift::ColumnData;
use verity_monitor::source::{Session, Source};
use verity_store::DataFormat;

#[tokio::test]
async fn nan_next_to_equal_values_is_read_as_nan() {
    let column: ArrayRef = Arc::new(Float64Array::from(vec![f64::NAN, 1.0, 1.0]));
    let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)]));
    let batch = RecordBatch::try_new(schema, vec![column]).unwrap();
    let mut bytes = Vec::new();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(&mut bytes, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    let store = Arc::new(InMemory::new());
    store.put(&Path::from("data"), bytes.into()).await.unwrap();
    let store: Arc<dyn ObjectStore> = store;
    let source = Source {
        key: "data".into(),
        format: DataFormat::Parquet,
    };
    for session in [
        Session::new(store.clone()).unwrap(),
        Session::sequential(store.clone(), 2).unwrap(),
    ] {
        session.register("t", &source).await.unwrap();
        let field = Field::new("x", DataType::Float64, true);
        let ColumnData::Numeric(values) = verity_monitor::read::read_column(&session, "t", &field)
            .await
            .unwrap()
        else {
            panic!("numbers expected")
        };
        assert!(values[0].is_nan(), "{values:?}");
        assert_eq!(&values[1..], [1.0, 1.0]);
    }
}
