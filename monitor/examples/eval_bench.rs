//! End-to-end model evaluation over a generated Parquet file, a benchmark program:
//!
//! ```text
//! cargo run --release -p verity-monitor --example eval_bench -- [ROWS] [KEEP_DIR] [DEVICE] [BATCH]
//! ```
//!
//! Writes ROWS rows (default 1,000,000) of 20 float features, a 0/1 label and a sensitive
//! column with 4 groups into a temporary directory (or KEEP_DIR, reused by the next run), then
//! evaluates an MLP 20→64→64→1 (relu, binary output, random weights) on DEVICE (`cpu`, `cuda`
//! or `auto`; default `cpu`) with BATCH rows per forward pass (default 8192), end to end: rows
//! read through DataFusion from a local object store, standardised, the forward pass, the
//! predictions written as Parquet, and the report (classification metrics overall and per
//! group, fairness). Prints wall time and rows per second; the issue's goal is ≥ 1,000,000
//! rows/s on the CPU of a 2-core machine, and ≥ 20× that on a GPU over 10M rows.
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use serde_json::json;
use verity_monitor::check::NoProgress;
use verity_monitor::model::safetensors::write_f32;
use verity_monitor::model::{DeviceChoice, EvaluationConfig, Metrics, Model, evaluate};
use verity_monitor::source::Source;
use verity_store::DataFormat;

const FEATURES: usize = 20;
const HIDDEN: usize = 64;

struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit().max(1e-300), self.unit());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
    fn values(&mut self, n: usize, scale: f64) -> Vec<f32> {
        (0..n)
            .map(|_| ((self.unit() * 2.0 - 1.0) * scale) as f32)
            .collect()
    }
}

fn write_data(path: &std::path::Path, rows: usize) {
    let mut fields: Vec<Field> = (0..FEATURES)
        .map(|i| Field::new(format!("f{i}"), DataType::Float64, false))
        .collect();
    fields.push(Field::new("label", DataType::Int64, false));
    fields.push(Field::new("group", DataType::Utf8, false));
    let schema = Arc::new(Schema::new(fields));
    let file = std::fs::File::create(path).unwrap();
    let mut writer =
        datafusion::parquet::arrow::ArrowWriter::try_new(file, schema.clone(), None).unwrap();
    let mut rng = Rng(7);
    let chunk = 65_536;
    let mut done = 0;
    while done < rows {
        let n = chunk.min(rows - done);
        let mut columns: Vec<ArrayRef> = Vec::new();
        let mut first = Vec::new();
        for i in 0..FEATURES {
            let values: Vec<f64> = (0..n).map(|_| rng.normal() * 2.0 + i as f64).collect();
            if i == 0 {
                first = values.clone();
            }
            columns.push(Arc::new(Float64Array::from(values)));
        }
        let labels: Vec<i64> = first
            .iter()
            .map(|v| i64::from(*v + rng.normal() > 0.0))
            .collect();
        columns.push(Arc::new(Int64Array::from(labels)));
        let groups: Vec<&str> = (0..n)
            .map(|r| ["a", "b", "c", "d"][(done + r) % 4])
            .collect();
        columns.push(Arc::new(StringArray::from(groups)));
        writer
            .write(&RecordBatch::try_new(schema.clone(), columns).unwrap())
            .unwrap();
        done += n;
    }
    writer.close().unwrap();
}

fn model(device: DeviceChoice) -> Model {
    let features: Vec<_> = (0..FEATURES)
        .map(|i| json!({"column": format!("f{i}"), "standardize": {"mean": i as f64, "std": 2.0}}))
        .collect();
    let spec = json!({
        "format": "verity-model/1",
        "architecture": {"type": "mlp", "hidden_layers": [HIDDEN, HIDDEN], "activation": "relu"},
        "features": features,
        "output": {"type": "binary"}
    });
    let mut rng = Rng(11);
    let sizes = [FEATURES, HIDDEN, HIDDEN, 1];
    let mut tensors = Vec::new();
    for k in 0..3 {
        let (i, o) = (sizes[k], sizes[k + 1]);
        let scale = 1.0 / (i as f64).sqrt();
        tensors.push((
            format!("{}.weight", 2 * k),
            vec![o as u64, i as u64],
            rng.values(o * i, scale),
        ));
        tensors.push((
            format!("{}.bias", 2 * k),
            vec![o as u64],
            rng.values(o, scale),
        ));
    }
    let named: Vec<(&str, Vec<u64>, Vec<f32>)> = tensors
        .iter()
        .map(|(n, s, v)| (n.as_str(), s.clone(), v.clone()))
        .collect();
    Model::load(spec.to_string().as_bytes(), &write_f32(&named), device).unwrap()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rows: usize = args.get(1).map_or(1_000_000, |a| a.parse().unwrap());
    let temp = tempfile_dir();
    let dir = args
        .get(2)
        .map_or_else(|| temp.clone(), std::path::PathBuf::from);
    let device: DeviceChoice = args.get(3).map_or("cpu", String::as_str).parse().unwrap();
    let batch: usize = args.get(4).map_or(8192, |a| a.parse().unwrap());
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join(format!("eval-{rows}.parquet"));
    if !data.exists() {
        let started = Instant::now();
        write_data(&data, rows);
        eprintln!(
            "wrote {} in {:.2} s",
            data.display(),
            started.elapsed().as_secs_f64()
        );
    }
    let model = model(device);
    let root: Arc<dyn ObjectStore> = Arc::new(LocalFileSystem::new());
    let source = Source {
        key: data.to_str().unwrap().trim_start_matches('/').to_owned(),
        format: DataFormat::Parquet,
    };
    let mut config = EvaluationConfig::new("label");
    config.sensitive = vec!["group".into()];
    config.batch_size = batch;
    let predictions = dir.join("predictions.parquet");
    let mut timings = Vec::new();
    for _ in 0..3 {
        let sink = std::io::BufWriter::new(std::fs::File::create(&predictions).unwrap());
        let started = Instant::now();
        let outcome = evaluate(
            root.clone(),
            &source,
            &model,
            &config,
            Some(Box::new(sink)),
            &NoProgress,
        )
        .await
        .unwrap();
        let seconds = started.elapsed().as_secs_f64();
        timings.push(seconds);
        let Metrics::Binary(m) = &outcome.overall else {
            panic!("binary expected")
        };
        println!(
            "evaluate mlp {FEATURES}->{HIDDEN}->{HIDDEN}->1 on {} ({}), batch {batch}: {rows} rows in {seconds:.3} s = {:.0} rows/s (accuracy {:.4}, ROC AUC {:.4})",
            outcome.device,
            device_label(device),
            rows as f64 / seconds,
            m.accuracy,
            m.roc_auc.unwrap_or(f64::NAN)
        );
    }
    timings.sort_by(f64::total_cmp);
    println!(
        "median {:.3} s = {:.0} rows/s",
        timings[1],
        rows as f64 / timings[1]
    );
    if args.get(2).is_none() {
        let _ = std::fs::remove_dir_all(&temp);
    }
}

fn device_label(device: DeviceChoice) -> &'static str {
    match device {
        DeviceChoice::Cpu => "asked cpu",
        DeviceChoice::Cuda => "asked cuda",
        DeviceChoice::Auto => "asked auto",
    }
}

fn tempfile_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("verity-eval-bench-{}", std::process::id()))
}
