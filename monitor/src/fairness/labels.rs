//! Turning label, prediction and score columns into booleans, with scikit-learn's conventions
//! for the positive label.

use std::fmt;

use crate::{Error, Result};

/// How many offending values an error message lists.
const LISTED: usize = 5;

/// A value read from a label or prediction column.
///
/// Implemented for `bool`, the integer types, `f32`, `f64`, `&str` and `String`.
pub trait LabelValue: PartialEq + Clone + fmt::Debug {
    /// The value as a number, for the default positive-label rule; `None` for text.
    fn numeric(&self) -> Option<f64>;
}

impl LabelValue for bool {
    fn numeric(&self) -> Option<f64> {
        Some(if *self { 1.0 } else { 0.0 })
    }
}

macro_rules! numeric_label {
    ($($t:ty),*) => {$(
        impl LabelValue for $t {
            fn numeric(&self) -> Option<f64> {
                Some(*self as f64)
            }
        }
    )*};
}
numeric_label!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

impl LabelValue for &str {
    fn numeric(&self) -> Option<f64> {
        None
    }
}

impl LabelValue for String {
    fn numeric(&self) -> Option<f64> {
        None
    }
}

/// One binary column: `true` is the positive (favourable) class.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Labels(Vec<bool>);

impl Labels {
    /// Binarises a label (or prediction) column.
    ///
    /// With `positive: None` the values must all lie in {0, 1} or all in {-1, 1} and 1 is
    /// positive (Fairlearn's rule for `pos_label=None`; `bool` counts as {0, 1}); text needs an
    /// explicit positive label. With `positive: Some(p)` there must be at most two distinct
    /// values and, when there are two, `p` must be one of them (Fairlearn's "Must have pos_label
    /// in y values"); a single distinct value other than `p` makes every row negative.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming up to 5 offending distinct values, or the number of NaN
    /// values.
    pub fn from_values<T: LabelValue>(values: &[T], positive: Option<&T>) -> Result<Self> {
        let mut scan = Scan::default();
        scan.add(values);
        let positive = scan.positive_rule(positive, "labels")?;
        Ok(Labels(values.iter().map(|v| positive.is(v)).collect()))
    }

    /// Binarises labels and predictions together, checking their union of values as Fairlearn's
    /// `true_positive_rate` & co. do (labels in {-1, 1} with predictions in {0, 1} are refused).
    ///
    /// # Errors
    /// As [`Labels::from_values`], plus a length mismatch.
    pub fn pair_from_values<T: LabelValue>(
        labels: &[T],
        predictions: &[T],
        positive: Option<&T>,
    ) -> Result<(Self, Self)> {
        if labels.len() != predictions.len() {
            return Err(Error::invalid(format!(
                "{} labels but {} predictions",
                labels.len(),
                predictions.len()
            )));
        }
        let mut scan = Scan::default();
        scan.add(labels);
        scan.add(predictions);
        let positive = scan.positive_rule(positive, "labels and predictions")?;
        Ok((
            Labels(labels.iter().map(|v| positive.is(v)).collect()),
            Labels(predictions.iter().map(|v| positive.is(v)).collect()),
        ))
    }

    /// Predictions from scores: `score >= threshold` is positive (scikit-learn's `roc_curve`
    /// convention); infinite scores are allowed.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the threshold or any score is NaN (the message gives the
    /// count): drop or impute such rows first.
    pub fn from_scores(scores: &[f64], threshold: f64) -> Result<Self> {
        if threshold.is_nan() {
            return Err(Error::invalid("the score threshold is NaN"));
        }
        let nan = scores.iter().filter(|s| s.is_nan()).count();
        if nan > 0 {
            return Err(Error::invalid(format!(
                "{nan} of {} scores are NaN; fairness needs a score for every row \
                 (drop or impute them first)",
                scores.len()
            )));
        }
        Ok(Labels(scores.iter().map(|&s| s >= threshold).collect()))
    }

    /// The booleans, `true` = positive.
    pub fn as_slice(&self) -> &[bool] {
        &self.0
    }

    /// The booleans, `true` = positive.
    pub fn into_vec(self) -> Vec<bool> {
        self.0
    }

    /// Rows.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<bool>> for Labels {
    fn from(values: Vec<bool>) -> Self {
        Labels(values)
    }
}

/// The distinct values seen (up to `LISTED + 1`, enough to say "and more") and the NaN count.
struct Scan<T> {
    distinct: Vec<T>,
    more: bool,
    nan: usize,
    rows: usize,
}

impl<T> Default for Scan<T> {
    fn default() -> Self {
        Scan {
            distinct: Vec::new(),
            more: false,
            nan: 0,
            rows: 0,
        }
    }
}

/// Which values are positive.
enum Positive<T> {
    /// Numeric values equal to 1.
    One,
    /// Values equal to this one.
    Value(T),
}

impl<T: LabelValue> Positive<T> {
    fn is(&self, v: &T) -> bool {
        match self {
            Positive::One => v.numeric() == Some(1.0),
            Positive::Value(p) => v == p,
        }
    }
}

impl<T: LabelValue> Scan<T> {
    fn add(&mut self, values: &[T]) {
        self.rows += values.len();
        for v in values {
            if v.numeric().is_some_and(f64::is_nan) {
                self.nan += 1;
            } else if !self.distinct.contains(v) {
                if self.distinct.len() <= LISTED {
                    self.distinct.push(v.clone());
                } else {
                    self.more = true;
                }
            }
        }
    }

    fn list(values: &[&T], more: bool) -> String {
        let mut text: Vec<String> = values
            .iter()
            .take(LISTED)
            .map(|v| format!("{v:?}"))
            .collect();
        if more || values.len() > LISTED {
            text.push("…".to_owned());
        }
        text.join(", ")
    }

    fn positive_rule(self, positive: Option<&T>, what: &str) -> Result<Positive<T>> {
        if self.nan > 0 {
            return Err(Error::invalid(format!(
                "{} of {} {what} are NaN; they must be binary",
                self.nan, self.rows
            )));
        }
        match positive {
            Some(p) => {
                if p.numeric().is_some_and(f64::is_nan) {
                    return Err(Error::invalid("the positive label is NaN"));
                }
                if self.distinct.len() > 2 {
                    let all: Vec<&T> = self.distinct.iter().collect();
                    return Err(Error::invalid(format!(
                        "{what} are not binary: more than 2 distinct values ({})",
                        Self::list(&all, self.more)
                    )));
                }
                if self.distinct.len() == 2 && !self.distinct.contains(p) {
                    let all: Vec<&T> = self.distinct.iter().collect();
                    return Err(Error::invalid(format!(
                        "the positive label {p:?} is not among the {what} values ({})",
                        Self::list(&all, false)
                    )));
                }
                Ok(Positive::Value(p.clone()))
            }
            None => self.default_rule(what),
        }
    }

    fn default_rule(self, what: &str) -> Result<Positive<T>> {
        let numbers: Option<Vec<f64>> = self.distinct.iter().map(LabelValue::numeric).collect();
        let Some(numbers) = numbers else {
            let all: Vec<&T> = self.distinct.iter().collect();
            return Err(Error::invalid(format!(
                "{what} are text ({}); name the positive label (scikit-learn's pos_label)",
                Self::list(&all, self.more)
            )));
        };
        let in01 = numbers.iter().all(|&x| x == 0.0 || x == 1.0);
        let in11 = numbers.iter().all(|&x| x == -1.0 || x == 1.0);
        if in01 || in11 {
            return Ok(Positive::One);
        }
        let offending: Vec<&T> = self
            .distinct
            .iter()
            .zip(&numbers)
            .filter(|&(_, &x)| x != 0.0 && x != 1.0 && x != -1.0)
            .map(|(v, _)| v)
            .collect();
        let message = if offending.is_empty() {
            format!(
                "{what} mix the {{0, 1}} and {{-1, 1}} conventions ({}); \
                 name the positive label",
                Self::list(&self.distinct.iter().collect::<Vec<_>>(), false)
            )
        } else {
            format!(
                "{what} are not binary: without a positive label they must all be in {{0, 1}} \
                 or all in {{-1, 1}}; offending values: {}",
                Self::list(&offending, self.more)
            )
        };
        Err(Error::invalid(message))
    }
}
