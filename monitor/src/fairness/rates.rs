//! Confusion counts and the per-group rates derived from them.

use serde::Serialize;

/// The binary confusion matrix of one group (or of all rows).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ConfusionCounts {
    /// Label positive, prediction positive.
    pub true_positives: u64,
    /// Label negative, prediction positive.
    pub false_positives: u64,
    /// Label negative, prediction negative.
    pub true_negatives: u64,
    /// Label positive, prediction negative.
    pub false_negatives: u64,
}

impl ConfusionCounts {
    /// From the accumulator's cells, indexed by `label << 1 | prediction`.
    pub(crate) fn from_cells(cells: [u64; 4]) -> Self {
        ConfusionCounts {
            true_negatives: cells[0],
            false_positives: cells[1],
            false_negatives: cells[2],
            true_positives: cells[3],
        }
    }

    /// Adds one row.
    pub fn add(&mut self, label: bool, prediction: bool) {
        match (label, prediction) {
            (true, true) => self.true_positives += 1,
            (false, true) => self.false_positives += 1,
            (false, false) => self.true_negatives += 1,
            (true, false) => self.false_negatives += 1,
        }
    }

    /// Adds another matrix's counts.
    pub fn merge(&mut self, other: &ConfusionCounts) {
        self.true_positives += other.true_positives;
        self.false_positives += other.false_positives;
        self.true_negatives += other.true_negatives;
        self.false_negatives += other.false_negatives;
    }

    /// Rows.
    pub fn count(&self) -> u64 {
        self.true_positives + self.false_positives + self.true_negatives + self.false_negatives
    }

    /// Rows with a positive label (P).
    pub fn positives(&self) -> u64 {
        self.true_positives + self.false_negatives
    }

    /// Rows with a negative label (N).
    pub fn negatives(&self) -> u64 {
        self.false_positives + self.true_negatives
    }

    /// Rows predicted positive.
    pub fn predicted_positives(&self) -> u64 {
        self.true_positives + self.false_positives
    }

    /// The rates with Fairlearn's and scikit-learn's zero-denominator conventions (see
    /// [`Rates`]).
    pub fn rates(&self) -> Rates {
        Rates {
            selection_rate: or_zero(self.predicted_positives(), self.count()),
            true_positive_rate: or_zero(self.true_positives, self.positives()),
            false_positive_rate: or_zero(self.false_positives, self.negatives()),
            false_negative_rate: or_zero(self.false_negatives, self.positives()),
            true_negative_rate: or_zero(self.true_negatives, self.negatives()),
            precision: or_zero(self.true_positives, self.predicted_positives()),
            accuracy: or_zero(self.true_positives + self.true_negatives, self.count()),
        }
    }
}

/// `num / den`, or 0 when `den` is 0 (scikit-learn's `nan_to_num` and `zero_division`).
fn or_zero(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// The rates of one group, as Fairlearn 0.15's base metrics compute them. None is ever NaN.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rates {
    /// Predicted positives / rows (Fairlearn `selection_rate`).
    pub selection_rate: f64,
    /// TP / P (Fairlearn `true_positive_rate`); 0 when the group has no positive label.
    pub true_positive_rate: f64,
    /// FP / N (Fairlearn `false_positive_rate`); 0 when the group has no negative label.
    pub false_positive_rate: f64,
    /// FN / P (Fairlearn `false_negative_rate`); 0 when the group has no positive label.
    pub false_negative_rate: f64,
    /// TN / N (Fairlearn `true_negative_rate`); 0 when the group has no negative label.
    pub true_negative_rate: f64,
    /// TP / (TP + FP) (scikit-learn `precision_score`); 0 when nothing is predicted positive.
    pub precision: f64,
    /// (TP + TN) / rows (scikit-learn `accuracy_score`).
    pub accuracy: f64,
}

/// One group's counts and rates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupMetrics {
    /// The group: one value per sensitive column, in the accumulator's column order (empty for
    /// the overall figures).
    pub group: Vec<String>,
    /// Rows (Fairlearn `count`).
    pub count: u64,
    /// The confusion matrix.
    pub confusion: ConfusionCounts,
    /// The rates.
    #[serde(flatten)]
    pub rates: Rates,
}

impl GroupMetrics {
    /// Counts and rates of `group`.
    pub fn new(group: Vec<String>, confusion: ConfusionCounts) -> Self {
        GroupMetrics {
            group,
            count: confusion.count(),
            confusion,
            rates: confusion.rates(),
        }
    }
}
