//! A DP mean over a generated Parquet column, a benchmark program:
//!
//! ```text
//! cargo run --release -p verity-monitor --example dp_bench -- [ROWS]
//! ```
//!
//! Writes ROWS rows (default 1,000,000) of one f64 column (0.0 to 99.9) to Parquet in memory,
//! then releases a Laplace mean (ε = 1, bounds 0–100) five times through
//! `verity_monitor::privacy::release`: the column read through DataFusion, clamped and averaged
//! by OpenDP's sized mean, noise from OpenDP. Prints each release's wall time; the issue's goal
//! is ≤ 200 ms on the 2 cores of these machines.
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{ArrayRef, Float64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use serde_json::json;
use verity_monitor::privacy::{DpRequest, DpResult, release};
use verity_monitor::source::{Limits, Session, Source};
use verity_store::DataFormat;

#[tokio::main]
async fn main() {
    let rows: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("ROWS must be a number"))
        .unwrap_or(1_000_000);
    let column: ArrayRef = Arc::new(Float64Array::from(
        (0..rows)
            .map(|i| (i % 1000) as f64 / 10.0)
            .collect::<Vec<_>>(),
    ));
    let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Float64, false)]));
    let batch = RecordBatch::try_new(schema, vec![column]).unwrap();
    let mut bytes = Vec::new();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(&mut bytes, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();

    let store = Arc::new(InMemory::new());
    store.put(&Path::from("data"), bytes.into()).await.unwrap();
    let store: Arc<dyn ObjectStore> = store;
    let session = Session::new_with_limits(store, Limits::default()).unwrap();
    let source = Source {
        key: "data".into(),
        format: DataFormat::Parquet,
    };
    session.register("t", &source).await.unwrap();
    let request: DpRequest = serde_json::from_value(json!({
        "query": {"kind": "mean", "column": "v", "lower": 0.0, "upper": 100.0},
        "epsilon": 1.0,
    }))
    .unwrap();
    let truth = (0..rows).map(|i| (i % 1000) as f64 / 10.0).sum::<f64>() / rows as f64;
    for _ in 0..5 {
        let started = Instant::now();
        let out = release(&session, "t", &request).await.unwrap();
        let took = started.elapsed();
        let DpResult::Mean { value } = out.result else {
            panic!("not a mean: {out:?}")
        };
        println!(
            "DP mean over {rows} rows: {:.1} ms (value {value:.3}, true {truth:.3}, scale {:.2e})",
            took.as_secs_f64() * 1000.0,
            out.scale
        );
    }
}
