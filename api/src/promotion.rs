//! Promotion gates (no HTTP): a gate's requirements, checked when it is set, and judged
//! against the stored evidence for a candidate version: its evaluation reports (a metric
//! within bounds, no worse than the alias's current holder, fairness figures within bounds),
//! its training data's quality reports, open drift alerts, and reviews by people other than
//! its creator (four eyes). The verdict lists every requirement, met or not, with the evidence
//! it relied on; an alias move through a gate stores it.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use verity_store::model::{Direction, ModelVersion, NodeKind};
use verity_store::promotion::{Decision, Gate};
use verity_store::{PageRequest, Report, ReportFilter, Store};

use crate::error::{ApiError, ApiResult};
use crate::wire::read_pages;

/// Most requirements of one kind a gate may list.
pub const MAX_REQUIREMENTS: usize = 50;

/// Most approvals a gate may ask for.
pub const MAX_APPROVALS: u32 = 10;

/// Evaluation metrics a gate may name, with whether higher is better.
const METRICS: &[(&str, bool)] = &[
    ("accuracy", true),
    ("precision", true),
    ("recall", true),
    ("f1", true),
    ("roc_auc", true),
    ("pr_auc", true),
    ("log_loss", false),
    ("brier", false),
    ("macro_f1", true),
    ("weighted_f1", true),
    ("roc_auc_ovr", true),
    ("rmse", false),
    ("mae", false),
    ("mse", false),
    ("r2", true),
    ("max_error", false),
];

/// Fairness figures a gate may name (the evaluation's per sensitive column).
const FAIRNESS: &[&str] = &[
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
    "statistical_parity_difference",
    "disparate_impact",
    "average_odds_difference",
];

/// An evaluation metric within bounds, on the newest evaluation of the candidate on `dataset`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricBound {
    /// The evaluation dataset's name.
    pub dataset: String,
    /// Its version; the latest when absent (pin it: anyone who may write the dataset can add
    /// a version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// The metric, e.g. `roc_auc`.
    pub metric: String,
    /// Lowest acceptable value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Highest acceptable value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

/// No worse than the alias's current holder by more than `margin`, on `dataset`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoWorse {
    /// The evaluation dataset's name.
    pub dataset: String,
    /// Its version (both sides are judged on it); the latest when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// The metric.
    pub metric: String,
    /// Tolerated loss (≥ 0).
    #[serde(default)]
    pub margin: f64,
}

/// A fairness figure within bounds for every sensitive column the evaluation grouped by (or
/// for `column` only).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FairnessBound {
    /// The evaluation dataset's name.
    pub dataset: String,
    /// Its version; the latest when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// Only figures of this convention (`fairlearn` or `aif360`; AIF360's differences are
    /// signed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub convention: Option<String>,
    /// The figure, e.g. `disparate_impact`.
    pub metric: String,
    /// Only this sensitive column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// Lowest acceptable value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Highest acceptable value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

/// What a gate requires of a candidate version.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirements {
    /// Evaluation metrics within bounds.
    #[serde(default)]
    pub metrics: Vec<MetricBound>,
    /// No worse than the current holder of the alias.
    #[serde(default)]
    pub no_worse_than_current: Vec<NoWorse>,
    /// Fairness figures within bounds.
    #[serde(default)]
    pub fairness: Vec<FairnessBound>,
    /// The newest quality report of every dataset version that trained it passes (or warns).
    #[serde(default)]
    pub training_data_quality: bool,
    /// No unresolved drift alert on its training or evaluation datasets.
    #[serde(default)]
    pub no_open_drift_alert: bool,
    /// Approvals by reviewers other than the version's creator, and no rejection.
    #[serde(default)]
    pub approvals: u32,
}

impl Requirements {
    /// The datasets the requirements name, each once.
    pub fn datasets(&self) -> BTreeSet<&str> {
        self.metrics
            .iter()
            .map(|m| m.dataset.as_str())
            .chain(
                self.no_worse_than_current
                    .iter()
                    .map(|n| n.dataset.as_str()),
            )
            .chain(self.fairness.iter().map(|f| f.dataset.as_str()))
            .collect()
    }
}

fn higher_is_better(metric: &str) -> Option<bool> {
    METRICS.iter().find(|(m, _)| *m == metric).map(|(_, h)| *h)
}

fn check_bounds(what: &str, min: Option<f64>, max: Option<f64>) -> ApiResult<()> {
    for bound in [min, max].into_iter().flatten() {
        if !bound.is_finite() {
            return Err(ApiError::bad_request(format!(
                "{what}: bounds must be finite"
            )));
        }
    }
    match (min, max) {
        (None, None) => Err(ApiError::bad_request(format!(
            "{what}: give `min`, `max` or both"
        ))),
        (Some(lo), Some(hi)) if lo > hi => Err(ApiError::bad_request(format!(
            "{what}: `min` {lo} is above `max` {hi}"
        ))),
        _ => Ok(()),
    }
}

impl Requirements {
    /// Reads requirements as a gate stored them (checked by [`Requirements::parse`] when set).
    pub fn stored(value: &Value) -> ApiResult<Self> {
        serde_json::from_value(value.clone()).map_err(|e| {
            ApiError::bad_request(format!("the gate's requirements do not parse: {e}"))
        })
    }

    /// Parses and checks requirements: known metrics, sound bounds, and datasets that exist
    /// in `project`.
    pub async fn parse(store: &Store, project: &str, value: &Value) -> ApiResult<Self> {
        let parsed = Self::stored(value)?;
        let counts = [
            parsed.metrics.len(),
            parsed.no_worse_than_current.len(),
            parsed.fairness.len(),
        ];
        if counts.iter().any(|n| *n > MAX_REQUIREMENTS) {
            return Err(ApiError::bad_request(format!(
                "a gate lists at most {MAX_REQUIREMENTS} requirements of each kind"
            )));
        }
        if parsed.approvals > MAX_APPROVALS {
            return Err(ApiError::bad_request(format!(
                "a gate asks for at most {MAX_APPROVALS} approvals"
            )));
        }
        let mut datasets = BTreeSet::new();
        let pinned = parsed
            .metrics
            .iter()
            .map(|m| (&m.dataset, m.version))
            .chain(
                parsed
                    .no_worse_than_current
                    .iter()
                    .map(|n| (&n.dataset, n.version)),
            )
            .chain(parsed.fairness.iter().map(|f| (&f.dataset, f.version)));
        for (dataset, version) in pinned {
            if let Some(version) = version {
                store.get_dataset_version(project, dataset, version).await?;
            }
        }
        for f in &parsed.fairness {
            if let Some(c) = f.convention.as_deref()
                && !["fairlearn", "aif360"].contains(&c)
            {
                return Err(ApiError::bad_request(format!(
                    "unknown convention '{c}': use `fairlearn` or `aif360`"
                )));
            }
        }
        for m in &parsed.metrics {
            let what = format!("metric requirement '{}' on '{}'", m.metric, m.dataset);
            if higher_is_better(&m.metric).is_none() {
                return Err(unknown_metric(&m.metric));
            }
            check_bounds(&what, m.min, m.max)?;
            datasets.insert(m.dataset.as_str());
        }
        for n in &parsed.no_worse_than_current {
            if higher_is_better(&n.metric).is_none() {
                return Err(unknown_metric(&n.metric));
            }
            if !n.margin.is_finite() || n.margin < 0.0 {
                return Err(ApiError::bad_request(format!(
                    "the margin of '{}' must be a finite number ≥ 0",
                    n.metric
                )));
            }
            datasets.insert(n.dataset.as_str());
        }
        for f in &parsed.fairness {
            if !FAIRNESS.contains(&f.metric.as_str()) {
                return Err(ApiError::bad_request(format!(
                    "unknown fairness figure '{}': use one of {}",
                    f.metric,
                    FAIRNESS.join(", ")
                )));
            }
            check_bounds(
                &format!("fairness requirement '{}'", f.metric),
                f.min,
                f.max,
            )?;
            datasets.insert(f.dataset.as_str());
        }
        for dataset in datasets {
            store.get_dataset(project, dataset).await?;
        }
        Ok(parsed)
    }
}

fn unknown_metric(metric: &str) -> ApiError {
    let known: Vec<&str> = METRICS.iter().map(|(m, _)| *m).collect();
    ApiError::bad_request(format!(
        "unknown metric '{metric}': use one of {}",
        known.join(", ")
    ))
}

/// One requirement's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What is required, for people.
    pub requirement: String,
    /// Whether it is met.
    pub met: bool,
    /// What was found.
    pub detail: String,
    /// The evidence: report, alert and review ids.
    pub evidence: Value,
}

/// A gate's verdict on a candidate version.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// The gate's model (`None`: every model of the project).
    pub gate_model: Option<String>,
    /// The guarded alias.
    pub alias: String,
    /// The candidate's version number.
    pub version: i64,
    /// Whether every requirement is met.
    pub satisfied: bool,
    /// Every requirement, met or not.
    pub checks: Vec<Check>,
}

impl Verdict {
    /// The requirements not met, one line each.
    pub fn unmet(&self) -> Vec<String> {
        self.checks
            .iter()
            .filter(|c| !c.met)
            .map(|c| format!("{}: {}", c.requirement, c.detail))
            .collect()
    }
}

/// The dataset version a requirement judges on: the pinned one, else the latest.
async fn judged_version(
    store: &Store,
    project: &str,
    dataset: &str,
    version: Option<i64>,
) -> ApiResult<i64> {
    let version = match version {
        Some(v) => v,
        None => store.get_dataset(project, dataset).await?.version_count,
    };
    Ok(store
        .get_dataset_version(project, dataset, version)
        .await?
        .id)
}

/// The newest evaluation report of model version `id` on dataset version `on`.
async fn newest_evaluation(
    store: &Store,
    project: &str,
    id: i64,
    on: i64,
) -> ApiResult<Option<Report>> {
    let filter = ReportFilter {
        kind: Some("evaluation".into()),
        model_version_id: Some(id),
        dataset_version_id: Some(on),
        ..ReportFilter::default()
    };
    newest(store, project, &filter).await
}

/// The newest report matching `filter`.
async fn newest(store: &Store, project: &str, filter: &ReportFilter) -> ApiResult<Option<Report>> {
    let request = PageRequest::new(Some(1), None)?;
    let page = store.list_reports(project, filter, &request).await?;
    Ok(page.items.into_iter().next())
}

fn metric_of(report: &Report, metric: &str) -> Option<f64> {
    report.result["overall"][metric].as_f64()
}

fn within(value: f64, min: Option<f64>, max: Option<f64>) -> bool {
    min.is_none_or(|lo| value >= lo) && max.is_none_or(|hi| value <= hi)
}

fn bounds_text(min: Option<f64>, max: Option<f64>) -> String {
    match (min, max) {
        (Some(lo), Some(hi)) => format!("between {lo} and {hi}"),
        (Some(lo), None) => format!("≥ {lo}"),
        (None, Some(hi)) => format!("≤ {hi}"),
        (None, None) => "any value".into(),
    }
}

/// Judges `gate` (its requirements `req`) for promoting `candidate` to the gate's alias of
/// `candidate.model`.
pub async fn judge(
    store: &Store,
    gate: &Gate,
    req: &Requirements,
    candidate: &ModelVersion,
) -> ApiResult<Verdict> {
    let project = candidate.project.as_str();
    let model = candidate.model.as_str();
    let mut checks = Vec::new();
    let mut datasets: BTreeSet<String> = BTreeSet::new();

    for m in &req.metrics {
        datasets.insert(m.dataset.clone());
        let requirement = format!(
            "{} on {} {}",
            m.metric,
            m.dataset,
            bounds_text(m.min, m.max)
        );
        let on = judged_version(store, project, &m.dataset, m.version).await?;
        let report = newest_evaluation(store, project, candidate.id, on).await?;
        checks.push(match report {
            None => missing(requirement, &m.dataset),
            Some(r) => match metric_of(&r, &m.metric) {
                Some(v) => Check {
                    met: within(v, m.min, m.max),
                    detail: format!("{} = {v} (report #{})", m.metric, r.id),
                    requirement,
                    evidence: json!({"report_id": r.id, "value": v}),
                },
                None => Check {
                    met: false,
                    detail: format!("report #{} has no {}", r.id, m.metric),
                    requirement,
                    evidence: json!({"report_id": r.id}),
                },
            },
        });
    }

    for n in &req.no_worse_than_current {
        datasets.insert(n.dataset.clone());
        let requirement = format!(
            "{} on {} no worse than @{} by more than {}",
            n.metric, n.dataset, gate.alias, n.margin
        );
        checks.push(
            no_worse(
                store,
                project,
                model,
                candidate,
                &gate.alias,
                n,
                requirement,
            )
            .await?,
        );
    }

    for f in &req.fairness {
        datasets.insert(f.dataset.clone());
        let requirement = format!(
            "{} on {}{} {}",
            f.metric,
            f.dataset,
            f.column
                .as_deref()
                .map(|c| format!(" for {c}"))
                .unwrap_or_default(),
            bounds_text(f.min, f.max)
        );
        let on = judged_version(store, project, &f.dataset, f.version).await?;
        let report = newest_evaluation(store, project, candidate.id, on).await?;
        checks.push(match report {
            None => missing(requirement, &f.dataset),
            Some(r) => fairness_check(&r, f, requirement),
        });
    }

    let training = training_versions(store, candidate).await?;
    if req.training_data_quality {
        checks.push(training_quality(store, project, &training).await?);
    }
    if req.no_open_drift_alert {
        datasets.extend(training.iter().map(|(name, _)| name.clone()));
        checks.push(open_drift_alerts(store, project, &datasets).await?);
    }
    if req.approvals > 0 {
        checks.push(reviews_check(store, candidate, &gate.alias, req.approvals).await?);
    }
    Ok(Verdict {
        gate_model: gate.model.clone(),
        alias: gate.alias.clone(),
        version: candidate.version,
        satisfied: checks.iter().all(|c| c.met),
        checks,
    })
}

fn missing(requirement: String, dataset: &str) -> Check {
    Check {
        requirement,
        met: false,
        detail: format!("no evaluation of this version on {dataset}"),
        evidence: Value::Null,
    }
}

async fn no_worse(
    store: &Store,
    project: &str,
    model: &str,
    candidate: &ModelVersion,
    alias: &str,
    n: &NoWorse,
    requirement: String,
) -> ApiResult<Check> {
    // The current holder; when the alias was deleted, the last version it pointed at (so a
    // delete cannot lower the bar).
    let holder = match store.resolve_alias(project, model, alias, None).await {
        Ok(holder) => holder,
        Err(e) if e.kind() == verity_store::ErrorKind::NotFound => {
            match last_holder(store, project, model, alias).await? {
                Some(version) => store.get_model_version(project, model, version).await?,
                None => {
                    return Ok(Check {
                        requirement,
                        met: true,
                        detail: format!("@{alias} has never pointed at a version"),
                        evidence: Value::Null,
                    });
                }
            }
        }
        Err(e) => return Err(e.into()),
    };
    let on = judged_version(store, project, &n.dataset, n.version).await?;
    let mine = newest_evaluation(store, project, candidate.id, on).await?;
    let theirs = newest_evaluation(store, project, holder.id, on).await?;
    let (Some(mine), Some(theirs)) = (mine, theirs) else {
        return Ok(Check {
            requirement,
            met: false,
            detail: format!(
                "both this version and v{} (@{alias}) need an evaluation on {}",
                holder.version, n.dataset
            ),
            evidence: Value::Null,
        });
    };
    let (Some(a), Some(b)) = (metric_of(&mine, &n.metric), metric_of(&theirs, &n.metric)) else {
        return Ok(Check {
            requirement,
            met: false,
            detail: format!("an evaluation has no {}", n.metric),
            evidence: json!({"report_id": mine.id, "current_report_id": theirs.id}),
        });
    };
    let higher = higher_is_better(&n.metric).unwrap_or(true);
    let loss = if higher { b - a } else { a - b };
    Ok(Check {
        requirement,
        met: loss <= n.margin,
        detail: format!(
            "{} = {a} against {b} for v{} (report #{} vs #{})",
            n.metric, holder.version, mine.id, theirs.id
        ),
        evidence: json!({"report_id": mine.id, "current_report_id": theirs.id, "value": a, "current_value": b}),
    })
}

/// The last version `alias` pointed at, from its history.
async fn last_holder(
    store: &Store,
    project: &str,
    model: &str,
    alias: &str,
) -> ApiResult<Option<i64>> {
    let history = read_pages(usize::MAX, move |page| async move {
        store
            .alias_history(project, model, Some(alias), &page)
            .await
    })
    .await?;
    Ok(history.iter().rev().find_map(|e| e.new_version))
}

fn fairness_check(report: &Report, f: &FairnessBound, requirement: String) -> Check {
    let mut found = Vec::new();
    for column in report.result["fairness"].as_array().into_iter().flatten() {
        let name = column["column"].as_str().unwrap_or_default();
        if f.column.as_deref().is_some_and(|c| c != name) {
            continue;
        }
        for figure in column["report"]["figures"].as_array().into_iter().flatten() {
            let convention_ok = f
                .convention
                .as_deref()
                .is_none_or(|c| figure["convention"] == c);
            if figure["metric"] == f.metric.as_str() && convention_ok {
                found.push((name.to_owned(), figure["value"].as_f64()));
            }
        }
    }
    if found.is_empty() {
        return Check {
            requirement,
            met: false,
            detail: format!(
                "report #{} has no {} figure (AIF360's figures need privileged groups)",
                report.id, f.metric
            ),
            evidence: json!({"report_id": report.id}),
        };
    }
    let met = found
        .iter()
        .all(|(_, v)| v.is_some_and(|v| within(v, f.min, f.max)));
    let detail = found
        .iter()
        .map(|(c, v)| match v {
            Some(v) => format!("{c}: {v}"),
            None => format!("{c}: undefined"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    Check {
        requirement,
        met,
        detail: format!("{detail} (report #{})", report.id),
        evidence: json!({"report_id": report.id}),
    }
}

/// Input contexts that mean "trained on" (an input logged without a context counts as
/// training data).
const TRAINING_CONTEXTS: [&str; 3] = ["", "training", "train"];

/// The dataset versions the version was trained on: inputs, with a training context, of the
/// run that produced it, as (dataset, version id).
pub(crate) async fn training_versions(
    store: &Store,
    candidate: &ModelVersion,
) -> ApiResult<Vec<(String, i64)>> {
    let graph = store
        .lineage(
            NodeKind::ModelVersion,
            &candidate.id.to_string(),
            Direction::Upstream,
            2,
        )
        .await?;
    if graph.truncated {
        return Err(ApiError::bad_request(
            "the version's lineage is too large to judge its training data",
        ));
    }
    let runs: BTreeSet<&str> = graph
        .edges
        .iter()
        .filter(|e| e.relation == "produced" && e.to_kind == NodeKind::ModelVersion)
        .map(|e| e.from_id.as_str())
        .collect();
    let mut found: Vec<(String, i64)> = Vec::new();
    for edge in &graph.edges {
        let training = edge.relation == "input"
            && edge.from_kind == NodeKind::DatasetVersion
            && runs.contains(edge.to_id.as_str())
            && TRAINING_CONTEXTS.contains(&edge.context.to_lowercase().as_str());
        if let (true, Ok(id)) = (training, edge.from_id.parse::<i64>())
            && !found.iter().any(|(_, seen)| *seen == id)
        {
            let version = store.get_dataset_version_by_id(id).await?;
            found.push((version.dataset, id));
        }
    }
    Ok(found)
}

async fn training_quality(
    store: &Store,
    project: &str,
    training: &[(String, i64)],
) -> ApiResult<Check> {
    let requirement = "the training data's quality suites pass".to_owned();
    if training.is_empty() {
        return Ok(Check {
            requirement,
            met: false,
            detail: "no training dataset version in its lineage".into(),
            evidence: Value::Null,
        });
    }
    let mut met = true;
    let mut lines = Vec::new();
    let mut evidence = Vec::new();
    for (dataset, id) in training {
        // Reports run by hand do not count: anyone who may run a check could pick a suite
        // that passes.
        let filter = ReportFilter {
            kind: Some("quality".into()),
            dataset_version_id: Some(*id),
            monitor_made: true,
            ..ReportFilter::default()
        };
        match newest(store, project, &filter).await? {
            Some(r) => {
                met &= r.status != "fail" && r.status != "error";
                lines.push(format!("{dataset}: {} (report #{})", r.status, r.id));
                evidence
                    .push(json!({"dataset_version_id": id, "report_id": r.id, "status": r.status}));
            }
            None => {
                met = false;
                lines.push(format!(
                    "{dataset}: no quality report of a monitor on the version that trained it"
                ));
                evidence.push(json!({"dataset_version_id": id}));
            }
        }
    }
    Ok(Check {
        requirement,
        met,
        detail: lines.join("; "),
        evidence: Value::Array(evidence),
    })
}

async fn open_drift_alerts(
    store: &Store,
    project: &str,
    datasets: &BTreeSet<String>,
) -> ApiResult<Check> {
    let requirement = "no open drift alert on its training or evaluation data".to_owned();
    let mut open = Vec::new();
    for state in ["open", "acknowledged"] {
        let alerts = read_pages(usize::MAX, move |page| async move {
            store.list_alerts(project, Some(state), &page).await
        })
        .await?;
        for alert in alerts {
            let monitor = store.monitor_by_id(alert.monitor_id).await?;
            let drift = monitor
                .checks
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["kind"] == "drift");
            if drift && datasets.contains(&monitor.dataset) {
                open.push((alert.id, monitor.name, monitor.dataset));
            }
        }
    }
    Ok(Check {
        requirement,
        met: open.is_empty(),
        detail: if open.is_empty() {
            format!(
                "none on {}",
                datasets.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        } else {
            open.iter()
                .map(|(id, m, d)| format!("alert #{id} of monitor {m} on {d}"))
                .collect::<Vec<_>>()
                .join(", ")
        },
        evidence: json!({"alert_ids": open.iter().map(|(id, _, _)| id).collect::<Vec<_>>()}),
    })
}

async fn reviews_check(
    store: &Store,
    candidate: &ModelVersion,
    alias: &str,
    needed: u32,
) -> ApiResult<Check> {
    let reviews = store
        .reviews(&candidate.project, &candidate.model, candidate.version)
        .await?;
    let makers = creators(store, candidate).await?;
    let relevant: Vec<_> = reviews
        .iter()
        .filter(|r| r.alias == alias && !makers.contains(&r.reviewer))
        .collect();
    let approvals: Vec<_> = relevant
        .iter()
        .filter(|r| r.decision == Decision::Approve)
        .collect();
    let rejections: Vec<_> = relevant
        .iter()
        .filter(|r| r.decision == Decision::Reject)
        .collect();
    let requirement = format!(
        "{needed} approval{} by people other than its makers",
        if needed == 1 { "" } else { "s" }
    );
    let mut detail = format!(
        "{} approval{}{}",
        approvals.len(),
        if approvals.len() == 1 { "" } else { "s" },
        if approvals.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                approvals
                    .iter()
                    .map(|r| r.reviewer.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    for r in &rejections {
        detail.push_str(&format!("; rejected by {}: {}", r.reviewer, r.comment));
    }
    Ok(Check {
        requirement,
        met: approvals.len() >= needed as usize && rejections.is_empty(),
        detail,
        evidence: json!({"review_ids": relevant.iter().map(|r| r.id).collect::<Vec<_>>()}),
    })
}

/// Who made a version: whoever registered it and whoever made the run it came from. Neither
/// may approve it (four eyes).
pub async fn creators(store: &Store, candidate: &ModelVersion) -> ApiResult<Vec<String>> {
    let mut makers = vec![candidate.created_by.clone()];
    if let Some(run) = &candidate.source_run_id {
        let run = store.get_run(run).await?;
        if !makers.contains(&run.created_by) {
            makers.push(run.created_by);
        }
    }
    Ok(makers)
}
