//! The fairness report and its configuration.

use serde::{Deserialize, Serialize};

use super::rates::{ConfusionCounts, GroupMetrics};

/// Which library's definition a figure follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Convention {
    /// Fairlearn, `method="between_groups"`: over all groups, max − min (differences) or
    /// min / max (ratios).
    #[serde(rename = "fairlearn:between_groups")]
    FairlearnBetweenGroups,
    /// Fairlearn, `method="to_overall"`: each group against the overall value, the largest
    /// `|g − overall|` (differences) or the smallest of `min(g/overall, overall/g)` (ratios).
    #[serde(rename = "fairlearn:to_overall")]
    FairlearnToOverall,
    /// AIF360's `ClassificationMetric`: unprivileged − privileged (differences) or
    /// unprivileged / privileged (ratios), signed, with unprivileged = every other row.
    #[serde(rename = "aif360")]
    Aif360,
}

impl Convention {
    /// The name stored with each figure (`"fairlearn:between_groups"`,
    /// `"fairlearn:to_overall"`, `"aif360"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Convention::FairlearnBetweenGroups => "fairlearn:between_groups",
            Convention::FairlearnToOverall => "fairlearn:to_overall",
            Convention::Aif360 => "aif360",
        }
    }
}

/// How Fairlearn's equalized-odds figures combine the TPR and FPR disparities (`agg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EqualizedOddsAgg {
    /// The larger difference or the smaller ratio (Fairlearn's default).
    WorstCase,
    /// The mean of the two.
    Mean,
}

impl EqualizedOddsAgg {
    /// Fairlearn's name (`"worst_case"`, `"mean"`).
    pub fn as_str(self) -> &'static str {
        match self {
            EqualizedOddsAgg::WorstCase => "worst_case",
            EqualizedOddsAgg::Mean => "mean",
        }
    }
}

/// The fairness figures computed; the name is the reference library's function name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FairnessMetric {
    /// Fairlearn: disparity of selection rates (0 = parity).
    DemographicParityDifference,
    /// Fairlearn: ratio of selection rates (1 = parity).
    DemographicParityRatio,
    /// Fairlearn: TPR and FPR differences combined by `agg`.
    EqualizedOddsDifference,
    /// Fairlearn: TPR and FPR ratios combined by `agg`.
    EqualizedOddsRatio,
    /// Fairlearn: TPR disparity; AIF360: TPR(unprivileged) − TPR(privileged).
    EqualOpportunityDifference,
    /// Fairlearn: TPR ratio.
    EqualOpportunityRatio,
    /// AIF360: selection rate (unprivileged) − selection rate (privileged).
    StatisticalParityDifference,
    /// AIF360: selection rate (unprivileged) / selection rate (privileged).
    DisparateImpact,
    /// AIF360: ½ [(FPR_u − FPR_p) + (TPR_u − TPR_p)].
    AverageOddsDifference,
}

impl FairnessMetric {
    /// The reference library's function name, e.g. `"demographic_parity_difference"`.
    pub fn as_str(self) -> &'static str {
        match self {
            FairnessMetric::DemographicParityDifference => "demographic_parity_difference",
            FairnessMetric::DemographicParityRatio => "demographic_parity_ratio",
            FairnessMetric::EqualizedOddsDifference => "equalized_odds_difference",
            FairnessMetric::EqualizedOddsRatio => "equalized_odds_ratio",
            FairnessMetric::EqualOpportunityDifference => "equal_opportunity_difference",
            FairnessMetric::EqualOpportunityRatio => "equal_opportunity_ratio",
            FairnessMetric::StatisticalParityDifference => "statistical_parity_difference",
            FairnessMetric::DisparateImpact => "disparate_impact",
            FairnessMetric::AverageOddsDifference => "average_odds_difference",
        }
    }
}

/// One aggregate figure with the convention it follows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FairnessFigure {
    /// What is measured.
    pub metric: FairnessMetric,
    /// Whose definition.
    pub convention: Convention,
    /// For the equalized-odds figures, how TPR and FPR combine; `None` otherwise.
    pub agg: Option<EqualizedOddsAgg>,
    /// The value; `None` where the reference library returns NaN or an infinity.
    pub value: Option<f64>,
    /// Why the value is missing, when it is.
    pub note: Option<String>,
}

/// Picks groups for AIF360's privileged side: one entry per sensitive column, `None` matching
/// any value (like an AIF360 condition that leaves that attribute out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSelector {
    /// Per sensitive column, the required value or `None` for any.
    pub values: Vec<Option<String>>,
}

impl GroupSelector {
    /// A selector for exactly this tuple of values.
    pub fn exact<I, S>(values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        GroupSelector {
            values: values.into_iter().map(|v| Some(v.into())).collect(),
        }
    }

    /// Whether the group `key` is selected.
    pub fn matches(&self, key: &[String]) -> bool {
        self.values.len() == key.len()
            && self
                .values
                .iter()
                .zip(key)
                .all(|(want, have)| want.as_ref().is_none_or(|w| w == have))
    }
}

/// What to compute beyond the per-group rates and Fairlearn's aggregates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FairnessConfig {
    /// AIF360's privileged groups (a row is privileged when any selector matches its group,
    /// like AIF360's list of condition dicts); every other row is unprivileged. Empty: no
    /// AIF360 figures.
    #[serde(default)]
    pub privileged: Vec<GroupSelector>,
}

/// The two sides of the AIF360 comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrivilegedSummary {
    /// The selectors asked for.
    pub selectors: Vec<GroupSelector>,
    /// The observed groups they matched.
    pub privileged_groups: Vec<Vec<String>>,
    /// Counts over the privileged rows.
    pub privileged: ConfusionCounts,
    /// Counts over every other row.
    pub unprivileged: ConfusionCounts,
}

/// Fairness of one set of predictions across the groups of one or more sensitive columns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FairnessReport {
    /// The sensitive columns; a group is the tuple of their values.
    pub sensitive_columns: Vec<String>,
    /// Rows.
    pub rows: u64,
    /// Figures over all rows (Fairlearn's `MetricFrame.overall`); its `group` is empty.
    pub overall: GroupMetrics,
    /// Figures per observed group, sorted by group tuple (Fairlearn's `MetricFrame.by_group`
    /// without the rows of unobserved combinations).
    pub by_group: Vec<GroupMetrics>,
    /// Fairlearn's aggregates (both methods, both `agg`s), then AIF360's when configured.
    pub figures: Vec<FairnessFigure>,
    /// The privileged/unprivileged split, when configured.
    pub privileged: Option<PrivilegedSummary>,
    /// Things a reader should know: one group only, rates defined by convention at 0/0,
    /// undefined figures.
    pub warnings: Vec<String>,
}

impl FairnessReport {
    /// The figure for `metric` under `convention` (and `agg` for equalized odds), if computed.
    pub fn figure(
        &self,
        metric: FairnessMetric,
        convention: Convention,
        agg: Option<EqualizedOddsAgg>,
    ) -> Option<&FairnessFigure> {
        self.figures
            .iter()
            .find(|f| f.metric == metric && f.convention == convention && f.agg == agg)
    }

    /// The value of [`figure`](Self::figure), `None` when missing or undefined.
    pub fn value(
        &self,
        metric: FairnessMetric,
        convention: Convention,
        agg: Option<EqualizedOddsAgg>,
    ) -> Option<f64> {
        self.figure(metric, convention, agg).and_then(|f| f.value)
    }

    /// The per-group figures of `group`, if observed.
    pub fn group<S: AsRef<str>>(&self, group: &[S]) -> Option<&GroupMetrics> {
        self.by_group.iter().find(|g| {
            g.group.len() == group.len() && g.group.iter().zip(group).all(|(a, b)| a == b.as_ref())
        })
    }
}
