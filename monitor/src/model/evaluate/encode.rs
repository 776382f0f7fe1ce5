//! From a dataset's columns to a model's inputs and labels, batch by batch.
//!
//! The policy for bad values is to refuse, never to guess: a missing (null) or non-finite
//! feature value, a category the model was not trained on, or a missing label stops the
//! evaluation with the column, the row (counting from 0) and the value.

use std::collections::HashMap;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Float64Type, Schema};

use crate::check::fairness::Binarizer;
use crate::model::spec::{Feature, ModelSpec, Standardize};
use crate::read::{ReadAs, cast_utf8};
use crate::{Error, Result};

/// How one feature column becomes inputs.
#[derive(Debug, Clone)]
enum Encoder {
    /// One input: the value, standardised when asked.
    Number(Option<Standardize>),
    /// One input per category: 1 for the row's category.
    OneHot(HashMap<String, usize>),
}

/// One feature column, checked against the dataset's schema.
#[derive(Debug, Clone)]
pub(crate) struct FeatureColumn {
    name: String,
    encoder: Encoder,
    /// Its first input's index.
    offset: usize,
}

/// Finds each feature of `spec` in `schema` and checks that its type fits.
///
/// # Errors
/// [`Error::InvalidArgument`] naming a missing column, or a column whose type the feature
/// cannot read (text for a numeric feature, floats or dates for a one-hot one).
pub(crate) fn feature_columns(spec: &ModelSpec, schema: &Schema) -> Result<Vec<FeatureColumn>> {
    let mut offset = 0;
    let mut out = Vec::with_capacity(spec.features.len());
    for feature in &spec.features {
        let field = schema.field_with_name(&feature.column).map_err(|_| {
            Error::invalid(format!(
                "the model reads column '{}', which the dataset does not have",
                feature.column
            ))
        })?;
        let read = ReadAs::of(field.data_type());
        let encoder = encoder(feature, read, field.data_type())?;
        let width = match &encoder {
            Encoder::Number(_) => 1,
            Encoder::OneHot(index) => index.len(),
        };
        out.push(FeatureColumn {
            name: feature.column.clone(),
            encoder,
            offset,
        });
        offset += width;
    }
    Ok(out)
}

/// Whether a column's values can be matched as text: strings, integers (unsigned 64-bit
/// ones too) and booleans, not floats.
pub(crate) fn reads_as_text(data_type: &DataType) -> bool {
    matches!(
        ReadAs::of(data_type),
        Some(ReadAs::Text | ReadAs::Integer | ReadAs::Boolean)
    ) || *data_type == DataType::UInt64
}

fn encoder(feature: &Feature, read: Option<ReadAs>, data_type: &DataType) -> Result<Encoder> {
    let column = &feature.column;
    match (&feature.one_hot, read) {
        (Some(categories), _) if reads_as_text(data_type) => Ok(Encoder::OneHot(
            categories
                .iter()
                .enumerate()
                .map(|(i, c)| (c.clone(), i))
                .collect(),
        )),
        (None, Some(ReadAs::Float | ReadAs::Integer | ReadAs::Boolean)) => {
            Ok(Encoder::Number(feature.standardize))
        }
        (None, Some(ReadAs::Text)) => Err(Error::invalid(format!(
            "feature '{column}' is numeric in the model but the column holds text ({data_type}); \
             list its categories under one_hot in verity-model.json, or choose a numeric column"
        ))),
        (Some(_), Some(ReadAs::Float)) => Err(Error::invalid(format!(
            "feature '{column}' is one-hot encoded, which matches categories as text, but the \
             column holds floating-point numbers ({data_type}); store it as text or integers"
        ))),
        (_, _) => Err(Error::invalid(format!(
            "feature '{column}' has type {data_type}, which cannot be a model input"
        ))),
    }
}

impl FeatureColumn {
    /// The column's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Writes this feature's inputs for the rows of `array` into `inputs` (row-major, `width`
    /// inputs per row, already zeroed). `first_row` numbers the batch's first row in errors.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a missing or non-finite value or an unseen category.
    pub(crate) fn encode(
        &self,
        array: &ArrayRef,
        inputs: &mut [f32],
        width: usize,
        first_row: u64,
    ) -> Result<()> {
        let missing = |row: usize| {
            Error::invalid(format!(
                "feature '{}' is missing (null) at row {}; Verity does not impute: fill or drop \
                 such rows before evaluating",
                self.name,
                first_row + row as u64
            ))
        };
        match &self.encoder {
            Encoder::Number(standardize) => {
                let values = datafusion::arrow::compute::cast(array, &DataType::Float64)
                    .map_err(|e| Error::invalid(format!("feature '{}': {e}", self.name)))?;
                let values = values.as_primitive::<Float64Type>();
                let (shift, scale) = standardize.map_or((0.0, 1.0), |s| (s.mean, 1.0 / s.std));
                for (row, value) in values.values().iter().enumerate() {
                    if values.is_null(row) {
                        return Err(missing(row));
                    }
                    if !value.is_finite() {
                        return Err(Error::invalid(format!(
                            "feature '{}' is {value} at row {}; Verity does not impute: fill or \
                             drop such rows before evaluating",
                            self.name,
                            first_row + row as u64
                        )));
                    }
                    inputs[row * width + self.offset] = ((value - shift) * scale) as f32;
                }
            }
            Encoder::OneHot(index) => {
                let values = cast_utf8(array)?;
                let values = values.as_string::<i32>();
                for row in 0..values.len() {
                    if values.is_null(row) {
                        return Err(missing(row));
                    }
                    let value = values.value(row);
                    let category = index.get(value).ok_or_else(|| {
                        let mut known: Vec<&str> = index.keys().map(String::as_str).collect();
                        known.sort_unstable();
                        Error::invalid(format!(
                            "feature '{}' has category \"{value}\" at row {}, which the model was \
                             not trained on (it knows {})",
                            self.name,
                            first_row + row as u64,
                            known.join(", ")
                        ))
                    })?;
                    inputs[row * width + self.offset + category] = 1.0;
                }
            }
        }
        Ok(())
    }
}

/// How the label column is read, by the model's output.
#[derive(Debug, Clone)]
pub(crate) enum LabelReader {
    /// Numbers, as `f64`.
    Regression,
    /// Two values mapped to positive/negative; numbers are compared as `f64`.
    Binary {
        /// The value → positive map.
        binarizer: Binarizer,
        /// Whether the column holds text (else numbers).
        text: bool,
    },
    /// Class labels as text, mapped to the spec's class index.
    Multiclass(HashMap<String, u32>),
}

/// A batch's labels, as the metrics take them.
#[derive(Debug, Default)]
pub(crate) struct LabelBatch {
    /// Regression targets.
    pub values: Vec<f64>,
    /// Binary labels.
    pub positives: Vec<bool>,
    /// Class indices.
    pub classes: Vec<u32>,
}

impl LabelReader {
    /// The type of [`stored`](Self::stored) labels.
    pub(crate) fn stored_type(&self) -> DataType {
        match self {
            LabelReader::Regression | LabelReader::Binary { text: false, .. } => DataType::Float64,
            LabelReader::Binary { text: true, .. } | LabelReader::Multiclass(_) => DataType::Utf8,
        }
    }

    /// The label column as the predictions file stores it: `f64` numbers or text.
    pub(crate) fn stored(&self, array: &ArrayRef) -> Result<ArrayRef> {
        match self {
            LabelReader::Regression | LabelReader::Binary { text: false, .. } => {
                datafusion::arrow::compute::cast(array, &DataType::Float64)
                    .map_err(|e| Error::invalid(format!("label: {e}")))
            }
            LabelReader::Binary { text: true, .. } | LabelReader::Multiclass(_) => cast_utf8(array),
        }
    }

    /// Appends a batch's labels (given as [`stored`](Self::stored) returns them) to `out`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a missing or non-finite label, or a class the model
    /// does not know.
    pub(crate) fn read(
        &self,
        column: &str,
        stored: &ArrayRef,
        first_row: u64,
        out: &mut LabelBatch,
    ) -> Result<()> {
        if let Some(row) = (0..stored.len()).find(|&r| stored.is_null(r)) {
            return Err(Error::invalid(format!(
                "label column '{column}' is missing (null) at row {}; every evaluated row needs \
                 a label",
                first_row + row as u64
            )));
        }
        match self {
            LabelReader::Regression => {
                let values = stored.as_primitive::<Float64Type>().values();
                if let Some(row) = values.iter().position(|v| !v.is_finite()) {
                    return Err(Error::invalid(format!(
                        "label column '{column}' is {} at row {}; every evaluated row needs a \
                         finite label",
                        values[row],
                        first_row + row as u64
                    )));
                }
                out.values.extend_from_slice(values);
            }
            LabelReader::Binary { binarizer, .. } => {
                crate::check::fairness::apply(binarizer, stored, &mut out.positives)?;
            }
            LabelReader::Multiclass(classes) => {
                let values = stored.as_string::<i32>();
                for row in 0..values.len() {
                    let value = values.value(row);
                    let class = classes.get(value).ok_or_else(|| {
                        Error::invalid(format!(
                            "label column '{column}' has \"{value}\" at row {}, which is not one \
                             of the model's classes",
                            first_row + row as u64
                        ))
                    })?;
                    out.classes.push(*class);
                }
            }
        }
        Ok(())
    }
}
