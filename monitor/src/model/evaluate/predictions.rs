//! The predictions file: one Parquet row per evaluated row, in the dataset's order.
//!
//! Columns: `row` (the row's position, from 0), `label` (as read: numbers as float64, text as
//! text), then by output: `predicted` and `residual` (regression); `score` (the positive
//! class's probability) and `predicted` (score ≥ threshold) (binary); `predicted` (the most
//! probable class) and one `score_<class>` per class (multiclass); then each sensitive column
//! as text.

use std::io::Write;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, AsArray, BooleanArray, Float32Array, Float64Array, StringArray, UInt64Array,
};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;

use crate::model::spec::Output;
use crate::{Error, Result};

/// Column names the predictions file uses for itself.
pub(crate) const RESERVED: [&str; 5] = ["row", "label", "predicted", "score", "residual"];

/// Whether a sensitive column's name would clash with the predictions' own columns.
pub(crate) fn is_reserved(name: &str) -> bool {
    RESERVED.contains(&name) || name.starts_with("score_")
}

fn write_error(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("writing the predictions failed: {e}"))
}

/// Writes predictions batch by batch.
pub(crate) struct PredictionWriter {
    writer: ArrowWriter<Box<dyn Write + Send>>,
    schema: SchemaRef,
    output: Output,
}

impl std::fmt::Debug for PredictionWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PredictionWriter").finish_non_exhaustive()
    }
}

impl PredictionWriter {
    /// A writer for `output`, with a label column of `label_type` (float64 or utf8) and the
    /// given sensitive columns.
    pub(crate) fn new(
        sink: Box<dyn Write + Send>,
        output: &Output,
        label_type: DataType,
        sensitive: &[String],
    ) -> Result<Self> {
        let mut fields = vec![
            Field::new("row", DataType::UInt64, false),
            Field::new("label", label_type, false),
        ];
        match output {
            Output::Regression => {
                fields.push(Field::new("predicted", DataType::Float64, false));
                fields.push(Field::new("residual", DataType::Float64, false));
            }
            Output::Binary { .. } => {
                fields.push(Field::new("score", DataType::Float32, false));
                fields.push(Field::new("predicted", DataType::Boolean, false));
            }
            Output::Multiclass { classes } => {
                fields.push(Field::new("predicted", DataType::Utf8, false));
                for class in classes {
                    fields.push(Field::new(
                        format!("score_{class}"),
                        DataType::Float32,
                        false,
                    ));
                }
            }
        }
        for name in sensitive {
            fields.push(Field::new(name, DataType::Utf8, true));
        }
        let schema = Arc::new(Schema::new(fields));
        let writer = ArrowWriter::try_new(sink, schema.clone(), None).map_err(write_error)?;
        Ok(Self {
            writer,
            schema,
            output: output.clone(),
        })
    }

    /// Writes one batch: `outputs` is the network's output (rows × output width), `label` the
    /// label column as stored, `sensitive` the sensitive columns as text.
    pub(crate) fn write(
        &mut self,
        first_row: u64,
        label: &ArrayRef,
        outputs: &[f32],
        sensitive: &[ArrayRef],
    ) -> Result<()> {
        let rows = label.len();
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(UInt64Array::from_iter_values(
                first_row..first_row + rows as u64,
            )),
            label.clone(),
        ];
        match &self.output {
            Output::Regression => {
                let labels = label.as_primitive::<Float64Type>().values();
                let predicted: Vec<f64> = outputs.iter().map(|&v| f64::from(v)).collect();
                let residual: Vec<f64> =
                    labels.iter().zip(&predicted).map(|(y, p)| y - p).collect();
                columns.push(Arc::new(Float64Array::from(predicted)));
                columns.push(Arc::new(Float64Array::from(residual)));
            }
            Output::Binary { .. } => {
                let threshold = self.output.threshold().unwrap_or(0.5);
                columns.push(Arc::new(Float32Array::from(outputs.to_vec())));
                columns.push(Arc::new(BooleanArray::from_iter(
                    outputs.iter().map(|&s| Some(f64::from(s) >= threshold)),
                )));
            }
            Output::Multiclass { classes } => {
                let k = classes.len();
                let predicted: StringArray = outputs
                    .chunks_exact(k)
                    .map(|row| Some(classes[super::argmax(row)].as_str()))
                    .collect();
                columns.push(Arc::new(predicted));
                for class in 0..k {
                    let scores: Float32Array = outputs
                        .iter()
                        .skip(class)
                        .step_by(k)
                        .copied()
                        .map(Some)
                        .collect();
                    columns.push(Arc::new(scores));
                }
            }
        }
        columns.extend(sensitive.iter().cloned());
        let batch = RecordBatch::try_new(self.schema.clone(), columns).map_err(write_error)?;
        self.writer.write(&batch).map_err(write_error)
    }

    /// Finishes the file (footer) and flushes it.
    pub(crate) fn finish(self) -> Result<()> {
        let mut sink = self.writer.into_inner().map_err(write_error)?;
        sink.flush().map_err(write_error)
    }
}
