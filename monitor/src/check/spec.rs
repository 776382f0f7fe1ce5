//! One check of any kind, as a monitor stores it and the API and CLI accept it:
//! `{"kind": "drift", ...DriftConfig}`, `{"kind": "quality", "expectations": [...]}`,
//! `{"kind": "fairness", ...FairnessCheckConfig}` or `{"kind": "profile"}`.

use serde::{Deserialize, Serialize};

use super::{
    DriftConfig, DriftOutcome, FairnessCheckConfig, FairnessOutcome, Progress, QualityOutcome,
    QualitySuite, Status, run_drift, run_fairness, run_quality,
};
use crate::profile::{Profile, profile};
use crate::source::{Session, Source};
use crate::{Error, Result};

/// A check and its configuration, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum CheckSpec {
    /// A data profile (informational: always `pass`).
    Profile(ProfileConfig),
    /// A quality suite.
    Quality(QualitySuite),
    /// Drift of the current version from a reference version.
    Drift(DriftConfig),
    /// Fairness of the predictions in the current version.
    Fairness(FairnessCheckConfig),
}

impl CheckSpec {
    /// `profile`, `quality`, `drift` or `fairness` (the report kinds).
    pub fn kind(&self) -> &'static str {
        match self {
            CheckSpec::Profile(_) => "profile",
            CheckSpec::Quality(_) => "quality",
            CheckSpec::Drift(_) => "drift",
            CheckSpec::Fairness(_) => "fairness",
        }
    }

    /// Whether the check compares with a reference version.
    pub fn needs_reference(&self) -> bool {
        matches!(self, CheckSpec::Drift(_))
    }

    /// Checks the configuration without data.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] saying what is wrong.
    pub fn validate(&self) -> Result<()> {
        match self {
            CheckSpec::Profile(_) => Ok(()),
            CheckSpec::Quality(suite) => suite.validate(),
            CheckSpec::Drift(config) => config.validate(),
            CheckSpec::Fairness(config) => config.validate(),
        }
    }

    /// Parses and validates a JSON check, naming it `what` in errors.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for JSON that is no check or an invalid configuration.
    pub fn from_json(what: &str, value: &serde_json::Value) -> Result<Self> {
        let spec: CheckSpec = serde_json::from_value(value.clone())
            .map_err(|e| Error::invalid(format!("{what}: {e}")))?;
        spec.validate()
            .map_err(|e| Error::invalid(format!("{what}: {e}")))?;
        Ok(spec)
    }
}

/// A profile takes no options (any field is refused).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileConfig {}

/// What a check found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CheckOutcome {
    /// A profile.
    Profile(Profile),
    /// A quality suite's results.
    Quality(QualityOutcome),
    /// Drift per column and for the dataset.
    Drift(DriftOutcome),
    /// Fairness figures and conditions (boxed: far larger than the others).
    Fairness(Box<FairnessOutcome>),
}

impl CheckOutcome {
    /// The verdict (a profile always passes).
    pub fn status(&self) -> Status {
        match self {
            CheckOutcome::Profile(_) => Status::Pass,
            CheckOutcome::Quality(o) => o.status,
            CheckOutcome::Drift(o) => o.status,
            CheckOutcome::Fairness(o) => o.status,
        }
    }

    /// One line for lists and alerts.
    pub fn summary(&self) -> String {
        match self {
            CheckOutcome::Profile(p) => format!(
                "{} rows, {} columns, {} duplicated rows, {} constant and {} empty columns",
                p.rows,
                p.columns.len(),
                p.duplicated_rows,
                p.constant_columns.len(),
                p.empty_columns.len()
            ),
            CheckOutcome::Quality(o) => o.summary.clone(),
            CheckOutcome::Drift(o) => o.summary.clone(),
            CheckOutcome::Fairness(o) => o.summary.clone(),
        }
    }
}

/// Runs `spec` on `current` (and `reference`, which drift needs) in a fresh session over
/// `session`'s store.
///
/// # Errors
/// [`Error::InvalidArgument`] for an invalid configuration, a missing reference for drift, or
/// data the check cannot judge (see each check); [`Error::ResourcesExhausted`] when the check
/// needs more memory than the session's limit; [`Error::Internal`] for read failures.
pub async fn run_check(
    session: &Session,
    spec: &CheckSpec,
    current: &Source,
    reference: Option<&Source>,
    progress: &dyn Progress,
) -> Result<CheckOutcome> {
    Ok(match spec {
        CheckSpec::Profile(_) => {
            progress.start("profile", 1);
            let found = profile(session, current).await?;
            progress.advance(1);
            CheckOutcome::Profile(found)
        }
        CheckSpec::Quality(suite) => {
            CheckOutcome::Quality(run_quality(session, current, suite, progress).await?)
        }
        CheckSpec::Drift(config) => {
            let reference = reference.ok_or_else(|| {
                Error::invalid("a drift check needs a reference version to compare with")
            })?;
            CheckOutcome::Drift(run_drift(session, reference, current, config, progress).await?)
        }
        CheckSpec::Fairness(config) => CheckOutcome::Fairness(Box::new(
            run_fairness(session, current, config, progress).await?,
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_kind_parses_and_round_trips() {
        for value in [
            json!({"kind": "profile"}),
            json!({"kind": "drift", "drift_share": 0.3}),
            json!({"kind": "quality", "expectations": [
                {"type": "expect_column_to_exist", "column": "a"}]}),
            json!({"kind": "fairness", "label": "y", "prediction": "p", "sensitive": ["g"]}),
        ] {
            let spec = CheckSpec::from_json("check", &value).expect("valid");
            assert_eq!(spec.kind(), value["kind"]);
            let back = serde_json::to_value(&spec).expect("serializes");
            assert_eq!(CheckSpec::from_json("check", &back).expect("again"), spec);
        }
        assert!(CheckSpec::Drift(DriftConfig::default()).needs_reference());
        assert!(!CheckSpec::Profile(ProfileConfig::default()).needs_reference());
    }

    #[test]
    fn bad_checks_are_refused_with_their_name() {
        for value in [
            json!({"kind": "wavelets"}),
            json!({"columns": ["a"]}),
            json!({"kind": "profile", "extra": 1}),
            json!({"kind": "drift", "drift_share": 1.5}),
            json!({"kind": "drift", "typo": true}),
            json!({"kind": "quality"}),
            json!({"kind": "fairness", "label": "y"}),
            json!("drift"),
        ] {
            let err = CheckSpec::from_json("check 2", &value).expect_err("invalid");
            assert_eq!(err.kind(), crate::ErrorKind::InvalidArgument, "{value}");
            assert!(err.to_string().starts_with("check 2: "), "{err}");
        }
    }
}
