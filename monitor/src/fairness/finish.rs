//! From accumulated counts to a [`FairnessReport`].

use super::accumulator::FairnessAccumulator;
use super::rates::{ConfusionCounts, GroupMetrics, Rates};
use super::report::{FairnessConfig, FairnessReport, PrivilegedSummary};
use super::{aif360, fairlearn};
use crate::{Error, Result};

/// How many groups a warning names.
const NAMED: usize = 5;

impl FairnessAccumulator {
    /// Computes the report from the rows accumulated so far (the accumulator is left as is, so
    /// more rows may follow and a later call sees them too).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when there are no rows, when a privileged selector has the
    /// wrong number of values, or when the privileged groups match no row or every row.
    pub fn finish(&self, config: &FairnessConfig) -> Result<FairnessReport> {
        let mut groups: Vec<(Vec<String>, ConfusionCounts)> = self
            .groups()
            .filter(|(_, c)| c.count() > 0)
            .map(|(k, c)| (k.to_vec(), c))
            .collect();
        if groups.is_empty() {
            return Err(Error::invalid(
                "no rows: fairness needs at least one row with a label, a prediction and \
                 sensitive values",
            ));
        }
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        let mut total = ConfusionCounts::default();
        for (_, c) in &groups {
            total.merge(c);
        }
        let columns = self.sensitive_columns().to_vec();
        let overall = GroupMetrics::new(Vec::new(), total);
        let by_group: Vec<GroupMetrics> = groups
            .into_iter()
            .map(|(k, c)| GroupMetrics::new(k, c))
            .collect();

        let mut warnings = group_warnings(&columns, &by_group);
        let rates: Vec<Rates> = by_group.iter().map(|g| g.rates).collect();
        let mut figures = fairlearn::figures(&rates, &overall.rates);

        let privileged = if config.privileged.is_empty() {
            None
        } else {
            let split = split(config, &columns, &by_group, &total)?;
            figures.extend(aif360::figures(&split.privileged, &split.unprivileged));
            Some(split)
        };

        for f in &figures {
            if let Some(note) = &f.note {
                let agg = f
                    .agg
                    .map(|a| format!(", agg={}", a.as_str()))
                    .unwrap_or_default();
                let (metric, convention) = (f.metric.as_str(), f.convention.as_str());
                warnings.push(format!("{metric} ({convention}{agg}): {note}"));
            }
        }
        Ok(FairnessReport {
            sensitive_columns: columns,
            rows: total.count(),
            overall,
            by_group,
            figures,
            privileged,
            warnings,
        })
    }
}

/// Splits the rows into privileged (groups matched by a selector) and unprivileged (the rest).
fn split(
    config: &FairnessConfig,
    columns: &[String],
    by_group: &[GroupMetrics],
    total: &ConfusionCounts,
) -> Result<PrivilegedSummary> {
    if let Some(bad) = config
        .privileged
        .iter()
        .find(|s| s.values.len() != columns.len())
    {
        return Err(Error::invalid(format!(
            "a privileged group has {} values but there are {} sensitive columns ({})",
            bad.values.len(),
            columns.len(),
            columns.join(", ")
        )));
    }
    let mut privileged = ConfusionCounts::default();
    let mut privileged_groups = Vec::new();
    for g in by_group {
        if config.privileged.iter().any(|s| s.matches(&g.group)) {
            privileged.merge(&g.confusion);
            privileged_groups.push(g.group.clone());
        }
    }
    if privileged.count() == 0 {
        return Err(Error::invalid(format!(
            "the privileged group {} does not occur in {}",
            describe(config),
            columns.join(", ")
        )));
    }
    if privileged.count() == total.count() {
        return Err(Error::invalid(format!(
            "the privileged group {} covers every row: there is no unprivileged group",
            describe(config)
        )));
    }
    let unprivileged = ConfusionCounts {
        true_positives: total.true_positives - privileged.true_positives,
        false_positives: total.false_positives - privileged.false_positives,
        true_negatives: total.true_negatives - privileged.true_negatives,
        false_negatives: total.false_negatives - privileged.false_negatives,
    };
    Ok(PrivilegedSummary {
        selectors: config.privileged.clone(),
        privileged_groups,
        privileged,
        unprivileged,
    })
}

fn describe(config: &FairnessConfig) -> String {
    let selectors: Vec<String> = config
        .privileged
        .iter()
        .map(|s| {
            let values: Vec<&str> = s
                .values
                .iter()
                .map(|v| v.as_deref().unwrap_or("*"))
                .collect();
            format!("({})", values.join(", "))
        })
        .collect();
    selectors.join(" or ")
}

/// Warnings about the groups: a single group, and rates set by convention at 0/0.
fn group_warnings(columns: &[String], by_group: &[GroupMetrics]) -> Vec<String> {
    let mut warnings = Vec::new();
    if let [only] = by_group {
        warnings.push(format!(
            "only one group ({}) in {}: there is nothing to compare; as in Fairlearn, \
             differences are 0 and ratios 1 (undefined where the rate is 0)",
            only.group.join(", "),
            columns.join(", ")
        ));
    }
    let mut note = |select: fn(&ConfusionCounts) -> bool, what: &str| {
        let hit: Vec<String> = by_group
            .iter()
            .filter(|g| select(&g.confusion))
            .map(|g| format!("({})", g.group.join(", ")))
            .collect();
        if !hit.is_empty() {
            let more = if hit.len() > NAMED {
                format!(" and {} more", hit.len() - NAMED)
            } else {
                String::new()
            };
            warnings.push(format!(
                "{} {}{more}: {what}",
                plural(hit.len()),
                hit[..hit.len().min(NAMED)].join(", ")
            ));
        }
    };
    note(
        |c| c.positives() == 0,
        "no positive label, so TPR and FNR are reported as 0 (Fairlearn's convention), \
         which weighs on equal opportunity and equalized odds",
    );
    note(
        |c| c.negatives() == 0,
        "no negative label, so FPR and TNR are reported as 0 (Fairlearn's convention), \
         which weighs on equalized odds",
    );
    note(
        |c| c.predicted_positives() == 0,
        "nothing predicted positive, so precision is reported as 0 (scikit-learn's \
         zero_division default)",
    );
    warnings
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "group" } else { "groups" }
}
