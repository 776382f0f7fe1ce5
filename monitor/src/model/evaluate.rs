//! Evaluating a model on a dataset version: rows are read with DataFusion in their stored order,
//! encoded into f32 inputs (see [`encode`] for the refusal policy), run through the network
//! batch by batch, written to a predictions file, and summarised into metrics overall and per
//! value of each sensitive column; for a binary model the per-group figures also go through
//! the fairness engine ([`crate::fairness`]) and its conditions (the four-fifths rule by
//! default).

mod encode;
mod groups;
mod predictions;

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use futures::StreamExt;
use object_store::ObjectStore;
use serde::{Deserialize, Serialize};

use super::check::check_model;
use super::metrics::{self, BinaryMetrics, MulticlassMetrics, RegressionMetrics};
use super::network::{DeviceChoice, Network};
use super::safetensors::SafeTensors;
use super::spec::{ModelSpec, Output};
use crate::check::fairness::{
    FairnessCondition, Family, LabelLiteral, binarize_pair, distinct, validate_conditions,
};
use crate::check::{Progress, Status};
use crate::read::{ReadAs, cast_utf8, row_count, stream};
use crate::source::{Limits, Session, Source, df_error, quote, reserve};
use crate::{Error, Result};

use encode::{LabelBatch, LabelReader, feature_columns};
pub use groups::{ColumnFairness, ColumnGroups, GroupEvaluation};
use predictions::{PredictionWriter, is_reserved};

const TABLE: &str = "evaluated";
/// Rows per forward pass unless configured.
pub const DEFAULT_BATCH_SIZE: usize = 8192;
/// The largest batch size accepted.
pub const MAX_BATCH_SIZE: usize = 1 << 20;
/// The most values one layer's activations may hold in a batch (64 MiB of f32): a wide model's
/// batches shrink to fit.
pub const MAX_BATCH_VALUES: usize = 1 << 24;
/// The most distinct values a sensitive column may have.
pub const MAX_GROUPS: usize = 1000;

fn default_batch_size() -> usize {
    DEFAULT_BATCH_SIZE
}

fn default_bins() -> usize {
    metrics::DEFAULT_CALIBRATION_BINS
}

/// What an evaluation reads and how it judges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationConfig {
    /// The true label (regression target, binary label, or class) column.
    pub label: String,
    /// Columns whose values form groups; metrics are also given per value of each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<String>,
    /// A binary model's positive label; by default 1 of {0, 1} or {-1, 1} (text needs one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positive_label: Option<LabelLiteral>,
    /// Rows per forward pass (1 to 1,048,576; default 8192).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Bins of the calibration table (1 to 100; default 10).
    #[serde(default = "default_bins")]
    pub calibration_bins: usize,
    /// Bounds on fairness figures (binary models with sensitive columns); the four-fifths rule
    /// on the demographic parity ratio when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<FairnessCondition>>,
}

impl EvaluationConfig {
    /// A configuration with defaults reading `label`.
    pub fn new(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            sensitive: Vec::new(),
            positive_label: None,
            batch_size: DEFAULT_BATCH_SIZE,
            calibration_bins: metrics::DEFAULT_CALIBRATION_BINS,
            conditions: None,
        }
    }

    /// Checks what does not depend on the model or the data.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] describing the first problem.
    pub fn validate(&self) -> Result<()> {
        if self.label.is_empty() {
            return Err(Error::invalid("name the label column"));
        }
        if !(1..=MAX_BATCH_SIZE).contains(&self.batch_size) {
            return Err(Error::invalid(format!(
                "batch_size must be between 1 and {MAX_BATCH_SIZE}, got {}",
                self.batch_size
            )));
        }
        if !(1..=100).contains(&self.calibration_bins) {
            return Err(Error::invalid(format!(
                "calibration_bins must be between 1 and 100, got {}",
                self.calibration_bins
            )));
        }
        let mut seen = std::collections::HashSet::new();
        for s in &self.sensitive {
            if !seen.insert(s.as_str()) {
                return Err(Error::invalid(format!(
                    "sensitive column '{s}' is named twice"
                )));
            }
            if *s == self.label {
                return Err(Error::invalid(format!(
                    "'{s}' cannot be both the label and a sensitive column"
                )));
            }
            if is_reserved(s) {
                return Err(Error::invalid(format!(
                    "sensitive column '{s}' clashes with a column of the predictions file (row, \
                     label, predicted, score, residual, score_*); rename it first"
                )));
            }
        }
        if let Some(conditions) = &self.conditions {
            validate_conditions(conditions, false)?;
        }
        Ok(())
    }
}

/// The figures of one model on one set of rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum Metrics {
    /// A regression model's.
    Regression(RegressionMetrics),
    /// A binary classifier's.
    Binary(BinaryMetrics),
    /// A multi-class classifier's.
    Multiclass(MulticlassMetrics),
}

impl Metrics {
    /// `regression`, `binary` or `multiclass`.
    pub fn task(&self) -> &'static str {
        match self {
            Metrics::Regression(_) => "regression",
            Metrics::Binary(_) => "binary",
            Metrics::Multiclass(_) => "multiclass",
        }
    }
}

/// An evaluation's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvaluationOutcome {
    /// `fail` or `warn` when a fairness condition failed at that severity, else `pass`.
    pub status: Status,
    /// One line for lists.
    pub summary: String,
    /// Rows evaluated.
    pub rows: u64,
    /// `cpu` or `cuda`: where the forward pass ran.
    pub device: String,
    /// Rows per forward pass.
    pub batch_size: usize,
    /// Figures over every row.
    pub overall: Metrics,
    /// Figures per value of each sensitive column.
    pub by_group: Vec<ColumnGroups>,
    /// Fairness figures and conditions per sensitive column (binary models).
    pub fairness: Vec<ColumnFairness>,
    /// Rows whose value of some sensitive column was missing (grouped as `(null)`).
    pub rows_with_missing_sensitive: u64,
}

/// A model ready to evaluate: its checked spec and its weights on a device.
#[derive(Debug)]
pub struct Model {
    spec: ModelSpec,
    network: Network,
}

impl Model {
    /// Parses `verity-model.json` and `model.safetensors`, checks them against each other and
    /// that every weight is finite, and loads the weights on `device`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bad spec or file, a mismatch, a non-finite weight, or
    /// a device this binary or machine cannot use.
    pub fn load(spec_json: &[u8], weights: &[u8], device: DeviceChoice) -> Result<Self> {
        let spec = check_model(spec_json, weights)?;
        let tensors = SafeTensors::parse(weights)?;
        let network = Network::load(&spec, &tensors, &device.device()?)?;
        Ok(Self { spec, network })
    }

    /// The spec.
    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    /// `cuda` or `cpu`.
    pub fn device_name(&self) -> &'static str {
        if self.network.is_cuda() {
            "cuda"
        } else {
            "cpu"
        }
    }
}

/// The index of a row's largest value (the first on ties).
pub(crate) fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, v) in row.iter().enumerate() {
        if *v > row[best] {
            best = i;
        }
    }
    best
}

/// Everything gathered row by row, for the metrics at the end.
#[derive(Debug, Default)]
struct Gathered {
    labels: LabelBatch,
    outputs: Vec<f32>,
    /// Per sensitive column: the group code of each row.
    codes: Vec<Vec<u32>>,
    /// Per sensitive column: value → code and code → value.
    dictionaries: Vec<(HashMap<String, u32>, Vec<String>)>,
    missing_sensitive: u64,
}

/// Evaluates `model` on the dataset version `source` (read from `blobs`), writing the
/// predictions as Parquet to `predictions` when given.
///
/// # Errors
/// [`Error::InvalidArgument`] for a bad configuration, missing or mistyped columns, refused
/// values (see [`encode`]), labels that do not fit the output, or an empty dataset;
/// [`Error::ResourcesExhausted`] past the default memory limit (see
/// [`evaluate_with_limits`]); [`Error::Internal`] when reading, computing or writing fails.
pub async fn evaluate(
    blobs: Arc<dyn ObjectStore>,
    source: &Source,
    model: &Model,
    config: &EvaluationConfig,
    predictions: Option<Box<dyn Write + Send>>,
    progress: &dyn Progress,
) -> Result<EvaluationOutcome> {
    let limits = Limits::default();
    evaluate_with_limits(blobs, limits, source, model, config, predictions, progress).await
}

/// [`evaluate`] under `limits`: the reading session's queries and the per-row results the
/// metrics need (outputs, labels, group codes: about `8 + 4 × (outputs + sensitive columns)`
/// bytes per row) count against `limits.memory_bytes`.
///
/// # Errors
/// As [`evaluate`]; [`Error::ResourcesExhausted`] naming the limit when the evaluation would
/// go over it.
pub async fn evaluate_with_limits(
    blobs: Arc<dyn ObjectStore>,
    limits: Limits,
    source: &Source,
    model: &Model,
    config: &EvaluationConfig,
    predictions: Option<Box<dyn Write + Send>>,
    progress: &dyn Progress,
) -> Result<EvaluationOutcome> {
    config.validate()?;
    let spec = &model.spec;
    if config.conditions.is_some() && !matches!(spec.output, Output::Binary { .. }) {
        return Err(Error::invalid(
            "fairness conditions apply to binary models only",
        ));
    }
    // Activations are batch × layer width values: keep the widest under MAX_BATCH_VALUES.
    let widest = spec.layer_sizes().into_iter().max().unwrap_or(1).max(1) as usize;
    if widest > MAX_BATCH_VALUES {
        return Err(Error::invalid(format!(
            "the model has a layer {widest} wide; Verity evaluates layers up to {MAX_BATCH_VALUES} wide"
        )));
    }
    let batch_size = config.batch_size.min(MAX_BATCH_VALUES / widest).max(1);
    let session = Session::sequential_with_limits(blobs, batch_size, limits)?;
    session
        .bounded(evaluate_in(
            &session,
            source,
            model,
            config,
            predictions,
            progress,
        ))
        .await
}

async fn evaluate_in(
    session: &Session,
    source: &Source,
    model: &Model,
    config: &EvaluationConfig,
    predictions: Option<Box<dyn Write + Send>>,
    progress: &dyn Progress,
) -> Result<EvaluationOutcome> {
    let spec = &model.spec;
    let batch_size = session.batch_size();
    session.register(TABLE, source).await?;
    let schema = session.schema(TABLE).await?;
    let features = feature_columns(spec, &schema)?;
    for s in &config.sensitive {
        let field = schema
            .field_with_name(s)
            .map_err(|_| Error::invalid(format!("sensitive column '{s}' does not exist")))?;
        if ReadAs::of(field.data_type()).is_none() {
            return Err(Error::invalid(format!(
                "sensitive column '{s}' has type {}, which cannot form groups",
                field.data_type()
            )));
        }
    }
    let labels = label_reader(session, spec, config, &schema).await?;
    let rows = row_count(session, TABLE).await?;
    if rows == 0 {
        return Err(Error::invalid("the dataset has no rows to evaluate"));
    }

    // A column may be a feature, the label and a sensitive column at once: select it once.
    let mut columns: Vec<String> = Vec::new();
    let mut index_of = |name: &str| -> usize {
        columns.iter().position(|c| c == name).unwrap_or_else(|| {
            columns.push(name.to_owned());
            columns.len() - 1
        })
    };
    let feature_index: Vec<usize> = features.iter().map(|f| index_of(f.name())).collect();
    let label_index = index_of(&config.label);
    let sensitive_index: Vec<usize> = config.sensitive.iter().map(|s| index_of(s)).collect();
    let select: Vec<String> = columns.iter().map(|c| quote(c)).collect();
    let sql = format!("SELECT {} FROM {}", select.join(", "), quote(TABLE));
    let mut batches = stream(session, &sql).await?;

    let label_type = labels.stored_type();
    let mut writer = predictions
        .map(|sink| PredictionWriter::new(sink, &spec.output, label_type, &config.sensitive))
        .transpose()?;
    let width = spec.input_width() as usize;
    let mut gathered = Gathered {
        codes: vec![Vec::new(); config.sensitive.len()],
        dictionaries: vec![Default::default(); config.sensitive.len()],
        ..Gathered::default()
    };
    let mut first_row = 0u64;
    // What `gathered` holds per row, counted against the session's memory limit.
    let per_row = 8 + 4 * (spec.output_width() as usize + config.sensitive.len());
    let held = session.reservation("evaluation rows");
    progress.start("rows", rows);
    while let Some(batch) = batches.next().await {
        let batch = batch.map_err(df_error)?;
        let n = batch.num_rows();
        if n == 0 {
            continue;
        }
        reserve(&held, n.saturating_mul(per_row))?;
        let mut inputs = vec![0f32; n * width];
        for (feature, &i) in features.iter().zip(&feature_index) {
            feature.encode(batch.column(i), &mut inputs, width, first_row)?;
        }
        let label = labels.stored(batch.column(label_index))?;
        labels.read(&config.label, &label, first_row, &mut gathered.labels)?;
        let outputs = model.network.forward(inputs, n)?;
        if let Some(bad) = outputs.iter().position(|v| !v.is_finite()) {
            let out = spec.output_width() as usize;
            return Err(Error::invalid(format!(
                "the model's output is not finite at row {} (its weights or inputs overflow f32)",
                first_row + (bad / out) as u64
            )));
        }
        let mut sensitive = Vec::with_capacity(config.sensitive.len());
        let mut row_missing = vec![false; n];
        for (c, &i) in sensitive_index.iter().enumerate() {
            let column = cast_utf8(batch.column(i))?;
            gathered.code(c, &config.sensitive[c], &column, &mut row_missing)?;
            sensitive.push(column);
        }
        gathered.missing_sensitive += row_missing.iter().filter(|m| **m).count() as u64;
        if let Some(writer) = writer.as_mut() {
            writer.write(first_row, &label, &outputs, &sensitive)?;
        }
        gathered.outputs.extend_from_slice(&outputs);
        first_row += n as u64;
        progress.advance(n as u64);
    }
    if let Some(writer) = writer {
        writer.finish()?;
    }
    let outcome = groups::summarise(model, config, batch_size, gathered, first_row);
    drop(held);
    outcome
}

impl Gathered {
    /// Appends the group codes of one batch's sensitive column `c` named `name` (text; null is
    /// `(null)`, and marks the row in `missing`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] past [`MAX_GROUPS`] distinct values.
    fn code(
        &mut self,
        c: usize,
        name: &str,
        column: &datafusion::arrow::array::ArrayRef,
        missing: &mut [bool],
    ) -> Result<()> {
        use datafusion::arrow::array::{Array, AsArray};
        let column = column.as_string::<i32>();
        let (index, values) = &mut self.dictionaries[c];
        let codes = &mut self.codes[c];
        codes.reserve(column.len());
        for (row, missing) in missing.iter_mut().enumerate().take(column.len()) {
            let value = if column.is_null(row) {
                *missing = true;
                crate::check::fairness::NULL_GROUP
            } else {
                column.value(row)
            };
            let code = match index.get(value) {
                Some(code) => *code,
                None if values.len() >= MAX_GROUPS => {
                    return Err(Error::invalid(format!(
                        "sensitive column '{name}' has more than {MAX_GROUPS} distinct values; \
                         group by a coarser column"
                    )));
                }
                None => {
                    let code = values.len() as u32;
                    index.insert(value.to_owned(), code);
                    values.push(value.to_owned());
                    code
                }
            };
            codes.push(code);
        }
        Ok(())
    }
}

/// How the label column is read for this model's output.
async fn label_reader(
    session: &Session,
    spec: &ModelSpec,
    config: &EvaluationConfig,
    schema: &datafusion::arrow::datatypes::Schema,
) -> Result<LabelReader> {
    let name = &config.label;
    let field = schema
        .field_with_name(name)
        .map_err(|_| Error::invalid(format!("label column '{name}' does not exist")))?;
    let read = ReadAs::of(field.data_type());
    let mistyped = |what: &str| {
        Error::invalid(format!(
            "label column '{name}' has type {}, but this model's labels are {what}",
            field.data_type()
        ))
    };
    if config.positive_label.is_some() && !matches!(spec.output, Output::Binary { .. }) {
        return Err(Error::invalid(
            "positive_label applies to binary models only",
        ));
    }
    match &spec.output {
        Output::Regression => match read {
            Some(ReadAs::Float | ReadAs::Integer) => Ok(LabelReader::Regression),
            _ => Err(mistyped("numbers")),
        },
        Output::Binary { .. } => {
            let family = match read {
                Some(ReadAs::Text) => Family::Text,
                Some(_) => Family::Number,
                None => return Err(mistyped("two values")),
            };
            let values = distinct(session, TABLE, name, family).await?;
            let (binarizer, _) = binarize_pair(&values, &values, config.positive_label.as_ref())?;
            Ok(LabelReader::Binary {
                binarizer,
                text: family == Family::Text,
            })
        }
        Output::Multiclass { classes } => match read {
            _ if encode::reads_as_text(field.data_type()) => Ok(LabelReader::Multiclass(
                classes
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (c.clone(), i as u32))
                    .collect(),
            )),
            _ => Err(mistyped("class names (text or integers)")),
        },
    }
}
