//! End-to-end drift and fairness checks over generated Parquet files, a benchmark program:
//!
//! ```text
//! cargo run --release -p verity-monitor --example check_bench -- [ROWS] [KEEP_DIR]
//! ```
//!
//! Writes a reference and a current file of ROWS rows (default 1,000,000) × 20 columns
//! (14 float, 5 string with 8–50 categories, 1 boolean) into a temporary directory (or into
//! KEEP_DIR, kept afterwards for `monitor/examples/anchors_bench.py`, and reused by the next run
//! with the same KEEP_DIR, which then measures the checks' memory alone), then times
//! [`run_drift`] over all 20 columns and [`run_fairness`] over the current file (label,
//! prediction, one sensitive column), reading through DataFusion from a local object store.
//! Prints wall time and the process's peak resident memory (`VmHWM`). The issue's goals:
//! drift 1M rows ≤ 2 s, 10M rows with peak memory ≤ 1 GiB; fairness 1M rows ≤ 0.5 s.
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::StringArray;
use datafusion::arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{Field, Schema};
use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use verity_monitor::check::{
    DriftConfig, FairnessCheckConfig, NoProgress, run_drift, run_fairness,
};
use verity_monitor::source::{Session, Source};
use verity_store::DataFormat;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 11
    }
    fn unit(&mut self) -> f64 {
        self.next() as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit().max(1e-300), self.unit());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

fn schema() -> Arc<Schema> {
    let mut fields = Vec::new();
    for i in 0..14 {
        fields.push(Field::new(
            format!("num{i}"),
            datafusion::arrow::datatypes::DataType::Float64,
            true,
        ));
    }
    for i in 0..5 {
        fields.push(Field::new(
            format!("cat{i}"),
            datafusion::arrow::datatypes::DataType::Utf8,
            true,
        ));
    }
    fields.push(Field::new(
        "flag",
        datafusion::arrow::datatypes::DataType::Boolean,
        true,
    ));
    fields.push(Field::new(
        "label",
        datafusion::arrow::datatypes::DataType::Int64,
        true,
    ));
    fields.push(Field::new(
        "prediction",
        datafusion::arrow::datatypes::DataType::Int64,
        true,
    ));
    Arc::new(Schema::new(fields))
}

/// Writes `rows` rows; `shift` moves half of the numeric columns and one category mix.
fn write(path: &std::path::Path, rows: usize, shift: f64, seed: u64) {
    let file = std::fs::File::create(path).unwrap();
    let schema = schema();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema.clone(), None).unwrap();
    let mut rng = Rng(seed);
    let categories: Vec<Vec<String>> = (0..5)
        .map(|c| (0..8 + c * 10).map(|k| format!("c{c}_{k}")).collect())
        .collect();
    let chunk = 65_536;
    let mut done = 0;
    while done < rows {
        let n = chunk.min(rows - done);
        let mut columns: Vec<ArrayRef> = Vec::new();
        for i in 0..14 {
            let s = if i % 2 == 0 { shift } else { 0.0 };
            columns.push(Arc::new(Float64Array::from_iter_values(
                (0..n).map(|_| rng.normal() * (1.0 + i as f64) + s),
            )));
        }
        for (c, cats) in categories.iter().enumerate() {
            let skew = if c == 0 { shift } else { 0.0 };
            columns.push(Arc::new(StringArray::from_iter_values((0..n).map(|_| {
                let u = rng.unit();
                let k = ((u * u.powf(skew.abs())) * cats.len() as f64) as usize;
                cats[k.min(cats.len() - 1)].clone()
            }))));
        }
        columns.push(Arc::new(BooleanArray::from_iter(
            (0..n).map(|_| Some(rng.unit() < 0.3)),
        )));
        let labels: Vec<i64> = (0..n).map(|_| i64::from(rng.unit() < 0.4)).collect();
        let predictions: Vec<i64> = labels
            .iter()
            .map(|&l| if rng.unit() < 0.85 { l } else { 1 - l })
            .collect();
        columns.push(Arc::new(Int64Array::from(labels)));
        columns.push(Arc::new(Int64Array::from(predictions)));
        writer
            .write(&RecordBatch::try_new(schema.clone(), columns).unwrap())
            .unwrap();
        done += n;
    }
    writer.close().unwrap();
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

#[tokio::main]
async fn main() {
    let rows: usize = std::env::args()
        .nth(1)
        .map_or(1_000_000, |a| a.parse().expect("ROWS must be a number"));
    let keep = std::env::args().nth(2).map(std::path::PathBuf::from);
    let dir = keep.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("verity-check-bench-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir).unwrap();
    // Files kept from an earlier run are reused, so that the peak memory measured is the
    // checks' alone (writing buffers a Parquet row group).
    if dir.join("reference").exists() && dir.join("current").exists() {
        println!("reusing the files in {}", dir.display());
    } else {
        let started = Instant::now();
        write(&dir.join("reference"), rows, 0.0, 1);
        write(&dir.join("current"), rows, 0.3, 2);
        println!("generated 2 × {rows} rows in {:?}", started.elapsed());
    }
    let store: Arc<dyn ObjectStore> = Arc::new(LocalFileSystem::new_with_prefix(&dir).unwrap());
    let source = |key: &str| Source {
        key: key.into(),
        format: DataFormat::Parquet,
    };
    let config = DriftConfig {
        columns: Some(
            (0..14)
                .map(|i| format!("num{i}"))
                .chain((0..5).map(|i| format!("cat{i}")))
                .chain(["flag".to_owned()])
                .collect(),
        ),
        ..DriftConfig::default()
    };
    let session = Session::new(store.clone()).unwrap();
    let before = peak_rss_mib();
    let t = Instant::now();
    let drift = run_drift(
        &session,
        &source("reference"),
        &source("current"),
        &config,
        &NoProgress,
    )
    .await
    .unwrap();
    println!(
        "drift, {rows} rows × 20 columns: {:?} ({}; peak RSS {:.0} MiB, {:.0} MiB before)",
        t.elapsed(),
        drift.summary,
        peak_rss_mib(),
        before
    );
    let fairness: FairnessCheckConfig = FairnessCheckConfig {
        label: "label".into(),
        prediction: Some("prediction".into()),
        score: None,
        threshold: None,
        positive_label: None,
        sensitive: vec!["cat1".into()],
        privileged: Vec::new(),
        conditions: Vec::new(),
    };
    let session = Session::new(store).unwrap();
    let t = Instant::now();
    let out = run_fairness(&session, &source("current"), &fairness, &NoProgress)
        .await
        .unwrap();
    println!(
        "fairness, {rows} rows, {} groups: {:?}",
        out.report.by_group.len(),
        t.elapsed()
    );
    if keep.is_none() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
