//! The drift methods, their names, default thresholds and drift rules.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// A per-column drift method, named as in Evidently's stattest registry
/// (`evidently/legacy/calculations/stattests/*.py`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Method {
    /// Two-sample Kolmogorov–Smirnov test (`scipy.stats.ks_2samp`, two-sided, `method="auto"`);
    /// the score is the p-value. Numerical columns only.
    #[serde(rename = "ks")]
    Ks,
    /// Pearson's chi-squared test of the current counts against the reference proportions
    /// scaled to the current size; the score is the p-value. Categorical columns only.
    #[serde(rename = "chisquare")]
    ChiSquare,
    /// Two-proportion Z-test (the smallest value against the rest); the score is the
    /// p-value. Categorical columns only.
    #[serde(rename = "z")]
    ZTest,
    /// Wasserstein-1 distance divided by `max(std(reference), 0.001)`. Numerical columns only.
    #[serde(rename = "wasserstein")]
    Wasserstein,
    /// Jensen–Shannon distance (natural log) between the reference and current distributions.
    #[serde(rename = "jensenshannon")]
    JensenShannon,
    /// Population stability index.
    #[serde(rename = "psi")]
    Psi,
    /// Kullback–Leibler divergence of the reference from the current distribution.
    #[serde(rename = "kl_div")]
    KlDiv,
    /// Hellinger distance.
    #[serde(rename = "hellinger")]
    Hellinger,
}

impl Method {
    /// Every method, in declaration order.
    pub const ALL: [Method; 8] = [
        Method::Ks,
        Method::ChiSquare,
        Method::ZTest,
        Method::Wasserstein,
        Method::JensenShannon,
        Method::Psi,
        Method::KlDiv,
        Method::Hellinger,
    ];

    /// Evidently's registry name (`ks`, `chisquare`, `z`, `wasserstein`, `jensenshannon`,
    /// `psi`, `kl_div`, `hellinger`).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Ks => "ks",
            Method::ChiSquare => "chisquare",
            Method::ZTest => "z",
            Method::Wasserstein => "wasserstein",
            Method::JensenShannon => "jensenshannon",
            Method::Psi => "psi",
            Method::KlDiv => "kl_div",
            Method::Hellinger => "hellinger",
        }
    }

    /// Whether the score is a p-value (drift when small) rather than a distance (drift when
    /// large).
    pub fn is_p_value(self) -> bool {
        matches!(self, Method::Ks | Method::ChiSquare | Method::ZTest)
    }

    /// Evidently's default threshold: 0.05 for the p-value tests, 0.1 for the distances.
    pub fn default_threshold(self) -> f64 {
        if self.is_p_value() { 0.05 } else { 0.1 }
    }

    /// Evidently's drift rule for `score` against `threshold`: `ks` drifts when
    /// `p <= threshold` (`ks_stattest.py`), `chisquare` and `z` when `p < threshold`, and the
    /// distances when `score >= threshold`. A NaN score or threshold never drifts.
    pub fn drifted(self, score: f64, threshold: f64) -> bool {
        match self {
            Method::Ks => score <= threshold,
            Method::ChiSquare | Method::ZTest => score < threshold,
            _ => score >= threshold,
        }
    }

    /// Whether Evidently lets a user pick this method for a column of `kind`
    /// (`allowed_feature_types`). The default choice may still pick `chisquare` or `z` for a
    /// numerical column with few values, as Evidently's `_get_default_stattest` does.
    pub fn allows(self, kind: super::ColumnKind) -> bool {
        use super::ColumnKind;
        match self {
            Method::Ks | Method::Wasserstein => kind == ColumnKind::Numerical,
            Method::ChiSquare | Method::ZTest => kind == ColumnKind::Categorical,
            Method::JensenShannon | Method::Psi | Method::KlDiv | Method::Hellinger => {
                kind != ColumnKind::Text
            }
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Method {
    type Err = Error;

    /// Parses an Evidently registry name; `chi_square`, `chi2`, `z_test`, `wasserstein_norm`,
    /// `js`, `kl` and `kl_divergence` are accepted as aliases, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        let method = match lower.as_str() {
            "ks" => Method::Ks,
            "chisquare" | "chi_square" | "chi2" => Method::ChiSquare,
            "z" | "z_test" | "ztest" => Method::ZTest,
            "wasserstein" | "wasserstein_norm" => Method::Wasserstein,
            "jensenshannon" | "jensen_shannon" | "js" => Method::JensenShannon,
            "psi" => Method::Psi,
            "kl_div" | "kl" | "kl_divergence" => Method::KlDiv,
            "hellinger" => Method::Hellinger,
            _ => {
                let names: Vec<&str> = Method::ALL.iter().map(|m| m.as_str()).collect();
                return Err(Error::invalid(format!(
                    "unknown drift method '{s}'; expected one of: {}",
                    names.join(", ")
                )));
            }
        };
        Ok(method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::ColumnKind;

    #[test]
    fn names_round_trip() {
        for m in Method::ALL {
            assert_eq!(m.as_str().parse::<Method>().ok(), Some(m));
            assert_eq!(
                serde_json::to_string(&m).ok(),
                Some(format!("\"{}\"", m.as_str()))
            );
        }
        assert_eq!("Chi2".parse::<Method>().ok(), Some(Method::ChiSquare));
        assert!("t_test".parse::<Method>().is_err());
    }

    /// Thresholds and directions from `ks_stattest.py` (`p_value <= threshold`),
    /// `chisquare_stattest.py`, `z_stattest.py` (`p_value < threshold`) and the distance
    /// stattests (`value >= threshold`).
    #[test]
    fn thresholds_and_directions() {
        assert_eq!(Method::Ks.default_threshold(), 0.05);
        assert_eq!(Method::Wasserstein.default_threshold(), 0.1);
        assert!(Method::Ks.drifted(0.05, 0.05));
        assert!(!Method::ChiSquare.drifted(0.05, 0.05));
        assert!(!Method::ZTest.drifted(0.05, 0.05));
        assert!(Method::Psi.drifted(0.1, 0.1));
        assert!(!Method::Hellinger.drifted(f64::NAN, 0.1));
        assert!(!Method::Ks.drifted(f64::NAN, 0.05));
    }

    #[test]
    fn allowed_kinds() {
        assert!(Method::Ks.allows(ColumnKind::Numerical));
        assert!(!Method::Ks.allows(ColumnKind::Categorical));
        assert!(!Method::ChiSquare.allows(ColumnKind::Numerical));
        assert!(Method::Psi.allows(ColumnKind::Categorical));
        assert!(!Method::Psi.allows(ColumnKind::Text));
    }
}
