//! Checks as stored and scheduled: a JSON configuration per kind, a runner that reads dataset
//! versions through a [`Session`](crate::source::Session), and an outcome with a status.
//!
//! * [`drift`]: [`DriftConfig`] → [`DriftOutcome`] (Evidently's `DataDriftPreset` options);
//! * [`fairness`]: [`FairnessCheckConfig`] → [`FairnessOutcome`] (Fairlearn/AIF360 figures and
//!   pass/fail conditions on them, the four-fifths rule by default);
//! * [`quality`]: [`QualitySuite`] → [`QualityOutcome`] (Great Expectations' vocabulary);
//! * [`spec`]: [`CheckSpec`], any of them tagged by `kind`, run with [`run_check`].
//!
//! Configurations reject unknown fields, so a typo is an error rather than a silently ignored
//! option.

pub mod drift;
pub mod fairness;
pub mod quality;
pub mod spec;

use serde::{Deserialize, Serialize};

pub use drift::{DriftConfig, DriftOutcome, run_drift};
pub use fairness::{FairnessCheckConfig, FairnessOutcome, run_fairness};
pub use quality::{QualityOutcome, QualitySuite, run_quality};
pub use spec::{CheckOutcome, CheckSpec, run_check};

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Everything held.
    Pass,
    /// Something a person should look at, below the failure bar.
    Warn,
    /// The check failed.
    Fail,
}

impl Status {
    /// `pass`, `warn` or `fail`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a failed expectation or condition makes of the check (Deequ's `CheckLevel`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A failure makes the check `warn`.
    Warn,
    /// A failure makes the check `fail` (the default).
    #[default]
    Fail,
}

impl Severity {
    /// The status a failure at this severity gives.
    pub fn status(self) -> Status {
        match self {
            Severity::Warn => Status::Warn,
            Severity::Fail => Status::Fail,
        }
    }
}

/// Progress of a long check, for a progress bar. Implementations must be cheap.
pub trait Progress: Send + Sync {
    /// A phase starts with `total` units of work (columns, rows, expectations).
    fn start(&self, phase: &str, total: u64);
    /// `units` more are done.
    fn advance(&self, units: u64);
}

/// A [`Progress`] that reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _phase: &str, _total: u64) {}
    fn advance(&self, _units: u64) {}
}

/// A number or a bound given in a configuration must be finite.
pub(crate) fn finite(what: &str, value: Option<f64>) -> crate::Result<()> {
    match value {
        Some(v) if !v.is_finite() => Err(crate::Error::invalid(format!(
            "{what} must be a finite number, got {v}"
        ))),
        _ => Ok(()),
    }
}
