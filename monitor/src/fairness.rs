//! Group fairness metrics with Fairlearn's and AIF360's conventions.
//!
//! # Flow
//!
//! 1. Binarise labels and predictions with [`Labels`] ([`Labels::from_values`],
//!    [`Labels::pair_from_values`] or [`Labels::from_scores`] for `score >= threshold`).
//! 2. Feed rows to a [`FairnessAccumulator`] in batches. It keeps one confusion matrix per group
//!    in a single pass (one hash look-up per sensitive column per row, or none with
//!    [`FairnessAccumulator::push_coded`]); memory grows with the number of groups, not rows.
//! 3. [`FairnessAccumulator::finish`] turns the counts into a [`FairnessReport`]: per-group and
//!    overall [`Rates`], Fairlearn's aggregates under both `method`s and both equalized-odds
//!    `agg`s, and, given a privileged group, AIF360's four headline metrics. Every figure carries
//!    its [`Convention`].
//!
//! # Groups
//!
//! With several sensitive columns a group is the tuple of their values, as in Fairlearn's
//! `MetricFrame` with several sensitive features (and AIF360's conditions on several protected
//! attributes). Fairlearn's `by_group` also lists every combination of values that never occurs,
//! as an all-NaN row that no aggregate uses; the report lists only the observed combinations,
//! sorted by their tuple (byte-wise string order). Missing (null) sensitive values are the
//! caller's business: map them to a value of their own (e.g. `"(null)"`) or drop the rows.
//!
//! # Zero denominators
//!
//! Per group (and overall) the rates follow Fairlearn 0.15, which computes TPR, FPR, FNR and TNR
//! from scikit-learn's `confusion_matrix(normalize="true")` (0/0 becomes 0 by `nan_to_num`), and
//! scikit-learn's `precision_score` (`zero_division="warn"`, which returns 0):
//!
//! | figure | definition | at 0/0 |
//! |---|---|---|
//! | selection rate | predicted positives / rows | never (groups are non-empty) |
//! | TPR, FNR | TP / P, FN / P | 0 (so TPR + FNR = 0 when a group has no positive label) |
//! | FPR, TNR | FP / N, TN / N | 0 (so FPR + TNR = 0 when a group has no negative label) |
//! | precision | TP / (TP + FP) | 0 |
//! | accuracy | (TP + TN) / rows | never |
//!
//! Fairlearn's aggregates can still be NaN (a ratio `0/0`, e.g. demographic parity ratio when
//! nothing is selected); AIF360 divides plainly (`TP/P` is NaN when a side has no positive label,
//! disparate impact is `inf` or NaN when the privileged selection rate is 0). JSON has no NaN or
//! infinity, so such a figure has `value: None` and a `note` saying what the library returns;
//! the report's `warnings` repeat it. Every aggregate otherwise equals Fairlearn's to the last
//! bit on the reference data (see `tests/fairness_reference.rs`).
//!
//! # Bad input
//!
//! No rows → [`Error::InvalidArgument`](crate::Error::InvalidArgument); labels or predictions
//! that are not binary → the same, listing up to 5 offending values; NaN scores → the same,
//! naming how many; a privileged group that matches no row, or every row → the same. One group
//! only → Fairlearn's figures (differences 0; ratios 1, or undefined where the rate is 0) plus a
//! warning.

mod accumulator;
mod aif360;
mod fairlearn;
mod finish;
mod labels;
mod rates;
mod report;

pub use accumulator::{FairnessAccumulator, GroupId};
pub use labels::{LabelValue, Labels};
pub use rates::{ConfusionCounts, GroupMetrics, Rates};
pub use report::{
    Convention, EqualizedOddsAgg, FairnessConfig, FairnessFigure, FairnessMetric, FairnessReport,
    GroupSelector, PrivilegedSummary,
};
