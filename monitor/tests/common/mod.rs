//! Helpers shared by the evaluation tests: Parquet bytes, a run of `evaluate` over an
//! in-memory object store that returns the outcome and the predictions file, and small models.
#![allow(clippy::unwrap_used, dead_code)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{Field, Schema};
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use serde_json::{Value, json};
use verity_monitor::check::NoProgress;
use verity_monitor::model::safetensors::write_f32;
use verity_monitor::model::{DeviceChoice, EvaluationConfig, EvaluationOutcome, Model, evaluate};
use verity_monitor::source::Source;
use verity_store::DataFormat;

pub fn parquet(columns: Vec<(&str, ArrayRef)>) -> Vec<u8> {
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
pub struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn read_parquet(bytes: Vec<u8>) -> RecordBatch {
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(
        bytes::Bytes::from(bytes),
        1 << 20,
    )
    .unwrap();
    let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
    datafusion::arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap()
}

pub async fn run(
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

pub fn model(spec: Value, tensors: &[(&str, Vec<u64>, Vec<f32>)]) -> Model {
    Model::load(
        spec.to_string().as_bytes(),
        &write_f32(tensors),
        DeviceChoice::Cpu,
    )
    .unwrap()
}

/// logit = 2·x + (1 for country a, −1 for b) − 0.5.
pub fn logistic() -> Model {
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

pub fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

pub fn binary_data() -> (Vec<u8>, Vec<f64>, Vec<i64>) {
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
