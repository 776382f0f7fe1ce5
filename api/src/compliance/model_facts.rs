//! What the registry knows about a model version, gathered once for its model card and its
//! Annex IV documentation: the run that made it, its training data (by lineage), its
//! evaluations, its gates' verdicts, reviews and alias history, and what people wrote.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use verity_store::compliance::{DocumentedField, DocumentedKind};
use verity_store::model::{AliasEvent, DatasetVersion, ModelVersion, RegisteredModel, RunDetail};
use verity_store::promotion::Review;
use verity_store::{PageRequest, Report, ReportFilter, Store};

use super::document::{number, utc};
use crate::error::ApiResult;
use crate::promotion::{Requirements, Verdict, judge, training_versions};

/// Most evaluations a report lists (newest first).
const MAX_EVALUATIONS: usize = 50;
/// Most alias moves a report lists (newest first).
const MAX_ALIAS_EVENTS: usize = 500;

/// Everything a model version's reports say.
pub struct ModelFacts {
    /// The registered model.
    pub model: RegisteredModel,
    /// The version documented.
    pub version: ModelVersion,
    /// The run that produced it, when it came from one.
    pub run: Option<RunDetail>,
    /// That run's experiment's name.
    pub experiment: Option<String>,
    /// The dataset versions it was trained on.
    pub training: Vec<DatasetVersion>,
    /// Its evaluations, newest first, with the dataset version each read.
    pub evaluations: Vec<(Report, DatasetVersion)>,
    /// The verdict of every gate on one of the model's aliases.
    pub verdicts: Vec<Verdict>,
    /// Reviews of the version.
    pub reviews: Vec<Review>,
    /// The model's alias moves, newest first.
    pub alias_history: Vec<AliasEvent>,
    /// The project's owners.
    pub owners: Vec<String>,
    /// What people wrote about the version.
    pub written: BTreeMap<String, DocumentedField>,
    /// Datasets whose derived figures the reports quote.
    pub quoted: BTreeSet<String>,
}

impl ModelFacts {
    /// Gathers the facts of `version` of `model`.
    pub async fn gather(
        store: &Store,
        project: &str,
        model: &str,
        version: i64,
    ) -> ApiResult<Self> {
        let registered = store.get_model(project, model).await?;
        let version = store.get_model_version(project, model, version).await?;
        let (run, experiment) = match &version.source_run_id {
            Some(uuid) => match store.get_run_detail(uuid).await {
                Ok(detail) => {
                    let experiment = store
                        .get_experiment(project, detail.run.experiment_id)
                        .await
                        .ok()
                        .map(|e| e.name);
                    (Some(detail), experiment)
                }
                Err(e) if e.kind() == verity_store::ErrorKind::NotFound => (None, None),
                Err(e) => return Err(e.into()),
            },
            None => (None, None),
        };
        let mut training = Vec::new();
        for (_, id) in training_versions(store, &version).await? {
            training.push(store.get_dataset_version_by_id(id).await?);
        }
        let evaluations = evaluations(store, project, &version).await?;
        let mut quoted: BTreeSet<String> = training.iter().map(|v| v.dataset.clone()).collect();
        quoted.extend(evaluations.iter().map(|(r, _)| r.dataset.clone()));
        let mut verdicts = Vec::new();
        let aliases: BTreeSet<String> = store
            .gates(project)
            .await?
            .into_iter()
            .filter(|g| g.model.as_deref().is_none_or(|m| m == model))
            .map(|g| g.alias)
            .collect();
        for alias in aliases {
            if let Some(gate) = store.gate_for(project, model, &alias).await? {
                let requirements = Requirements::stored(&gate.requirements)?;
                quoted.extend(requirements.datasets().into_iter().map(str::to_owned));
                verdicts.push(judge(store, &gate, &requirements, &version).await?);
            }
        }
        let reviews = store.reviews(project, model, version.version).await?;
        let history = store
            .alias_history(
                project,
                model,
                None,
                &PageRequest::new(Some(MAX_ALIAS_EVENTS as u32), None)?,
            )
            .await?
            .items;
        let owners = store
            .project_members(project)
            .await?
            .into_iter()
            .filter(|(_, role)| role == "owner")
            .map(|(user, _)| user)
            .collect();
        let written = store
            .documentation(DocumentedKind::ModelVersion, version.id)
            .await?;
        Ok(Self {
            model: registered,
            version,
            run,
            experiment,
            training,
            evaluations,
            verdicts,
            reviews,
            alias_history: history,
            owners,
            written,
            quoted,
        })
    }

    /// `model/{name}/version/{n}`.
    pub fn subject(&self) -> String {
        format!(
            "model/{}/version/{}",
            self.version.model, self.version.version
        )
    }

    /// The version's facts as (key, label, value).
    pub fn details(&self) -> Vec<(&'static str, &'static str, String)> {
        let v = &self.version;
        let mut facts = vec![
            ("name", "Model", v.model.clone()),
            ("version", "Version", v.version.to_string()),
            (
                "model_description",
                "Model description",
                or_none(&self.model.description),
            ),
            (
                "version_description",
                "Version description",
                or_none(&v.description),
            ),
            ("status", "Status", v.status.clone()),
            ("registered_by", "Registered by", v.created_by.clone()),
            ("registered_at", "Registered at", utc(v.created_at)),
            (
                "aliases",
                "Aliases now",
                if v.aliases.is_empty() {
                    "none".into()
                } else {
                    v.aliases.join(", ")
                },
            ),
            ("owners", "Project owners", or_none(&self.owners.join(", "))),
        ];
        if !v.tags.is_empty() {
            let tags: Vec<String> = v
                .tags
                .iter()
                .map(|t| format!("{}={}", t.key, t.value))
                .collect();
            facts.push(("tags", "Tags", tags.join(", ")));
        }
        match &self.run {
            Some(run) => {
                facts.push((
                    "source_run",
                    "Produced by run",
                    format!(
                        "{} ({}, experiment {}, by {})",
                        run.run.uuid,
                        run.run.name,
                        self.experiment.as_deref().unwrap_or("?"),
                        run.run.created_by
                    ),
                ));
            }
            None => facts.push(("source_run", "Produced by run", "none recorded".into())),
        }
        if let Some(r) = &v.retired {
            facts.push((
                "retired",
                "Retired",
                format!("{} by {}: {}", utc(r.retired_at), r.retired_by, r.reason),
            ));
        }
        facts
    }

    /// The version's files.
    pub fn files_rows(&self) -> Vec<Vec<String>> {
        self.version
            .files
            .iter()
            .map(|f| {
                vec![
                    f.path.clone(),
                    f.content_hash.clone(),
                    f.byte_size.to_string(),
                ]
            })
            .collect()
    }

    /// The run's parameters.
    pub fn parameter_rows(&self) -> Vec<Vec<String>> {
        self.run
            .iter()
            .flat_map(|r| r.params.iter())
            .map(|p| vec![p.key.clone(), p.value.clone()])
            .collect()
    }

    /// Training data rows: dataset, version, content hash, rows, logged by.
    pub fn training_rows(&self) -> Vec<Vec<String>> {
        self.training.iter().map(version_row).collect()
    }

    /// Evaluation data rows (each dataset version once).
    pub fn evaluation_data_rows(&self) -> Vec<Vec<String>> {
        let mut seen = BTreeSet::new();
        self.evaluations
            .iter()
            .filter(|(_, v)| seen.insert(v.id))
            .map(|(_, v)| version_row(v))
            .collect()
    }

    /// One row per evaluation and overall figure.
    pub fn metric_rows(&self) -> Vec<Vec<String>> {
        let mut rows = Vec::new();
        for (report, on) in &self.evaluations {
            for (metric, value) in scalars(&report.result["overall"]) {
                rows.push(vec![
                    format!("#{}", report.id),
                    format!("{}@{}", on.dataset, on.version),
                    utc(report.created_at),
                    metric,
                    value,
                ]);
            }
        }
        rows
    }

    /// One row per evaluation, sensitive column and group.
    pub fn group_rows(&self) -> Vec<Vec<String>> {
        let mut rows = Vec::new();
        for (report, on) in &self.evaluations {
            for column in report.result["by_group"].as_array().into_iter().flatten() {
                let name = column["column"].as_str().unwrap_or_default();
                for group in column["groups"].as_array().into_iter().flatten() {
                    let figures: Vec<String> = scalars(&group["metrics"])
                        .into_iter()
                        .map(|(k, v)| format!("{k} {v}"))
                        .collect();
                    rows.push(vec![
                        format!("#{} {}@{}", report.id, on.dataset, on.version),
                        name.to_owned(),
                        group["value"].as_str().unwrap_or_default().to_owned(),
                        group["rows"].to_string(),
                        figures.join("; "),
                    ]);
                }
            }
        }
        rows
    }

    /// One row per evaluation, sensitive column and fairness figure.
    pub fn fairness_rows(&self) -> Vec<Vec<String>> {
        let mut rows = Vec::new();
        for (report, on) in &self.evaluations {
            for column in report.result["fairness"].as_array().into_iter().flatten() {
                let name = column["column"].as_str().unwrap_or_default();
                for figure in column["report"]["figures"].as_array().into_iter().flatten() {
                    let value = match figure["value"].as_f64() {
                        Some(v) => number(v),
                        None => format!(
                            "undefined ({})",
                            figure["note"].as_str().unwrap_or("no value")
                        ),
                    };
                    rows.push(vec![
                        format!("#{} {}@{}", report.id, on.dataset, on.version),
                        name.to_owned(),
                        text_of(&figure["metric"]),
                        text_of(&figure["convention"]),
                        value,
                    ]);
                }
            }
        }
        rows
    }

    /// The sensitive columns evaluated.
    pub fn sensitive_columns(&self) -> Vec<String> {
        let mut columns = BTreeSet::new();
        for (report, _) in &self.evaluations {
            for column in report.result["by_group"].as_array().into_iter().flatten() {
                if let Some(name) = column["column"].as_str() {
                    columns.insert(name.to_owned());
                }
            }
        }
        columns.into_iter().collect()
    }

    /// One row per gate verdict.
    pub fn verdict_rows(&self) -> Vec<Vec<String>> {
        self.verdicts
            .iter()
            .map(|v| {
                let requirements: Vec<String> = v
                    .checks
                    .iter()
                    .map(|c| {
                        format!(
                            "{} {}: {}",
                            if c.met { "[met]" } else { "[UNMET]" },
                            c.requirement,
                            c.detail
                        )
                    })
                    .collect();
                vec![
                    v.alias.clone(),
                    v.gate_model.clone().unwrap_or_else(|| "every model".into()),
                    if v.satisfied {
                        "satisfied"
                    } else {
                        "not satisfied"
                    }
                    .into(),
                    requirements.join("\n"),
                ]
            })
            .collect()
    }

    /// One row per review.
    pub fn review_rows(&self) -> Vec<Vec<String>> {
        self.reviews
            .iter()
            .map(|r| {
                vec![
                    utc(r.created_at),
                    r.reviewer.clone(),
                    r.alias.clone(),
                    r.decision.to_string(),
                    r.comment.clone(),
                ]
            })
            .collect()
    }

    /// One row per alias move involving this version (or every move, `all`).
    pub fn alias_rows(&self, all: bool) -> Vec<Vec<String>> {
        let n = self.version.version;
        self.alias_history
            .iter()
            .filter(|e| all || e.old_version == Some(n) || e.new_version == Some(n))
            .map(|e| {
                vec![
                    utc(e.at),
                    e.alias.clone(),
                    e.old_version.map_or("-".into(), |v| format!("v{v}")),
                    e.new_version.map_or("removed".into(), |v| format!("v{v}")),
                    e.actor.clone(),
                    evidence_text(e.evidence.as_ref()),
                ]
            })
            .collect()
    }
}

/// The newest evaluations of `version` (at most [`MAX_EVALUATIONS`]).
async fn evaluations(
    store: &Store,
    project: &str,
    version: &ModelVersion,
) -> ApiResult<Vec<(Report, DatasetVersion)>> {
    let filter = ReportFilter {
        kind: Some("evaluation".into()),
        model_version_id: Some(version.id),
        ..ReportFilter::default()
    };
    let request = PageRequest::new(Some(MAX_EVALUATIONS as u32), None)?;
    let mut found = Vec::new();
    for report in store.list_reports(project, &filter, &request).await?.items {
        let on = store
            .get_dataset_version_by_id(report.dataset_version_id)
            .await?;
        found.push((report, on));
    }
    Ok(found)
}

/// A dataset version as a row: dataset, version, content hash, rows, registered by.
pub fn version_row(v: &DatasetVersion) -> Vec<String> {
    vec![
        v.dataset.clone(),
        v.version.to_string(),
        v.content_hash.clone(),
        v.row_count.to_string(),
        v.created_by.clone(),
    ]
}

/// The number-valued entries of a JSON object, as (key, text).
fn scalars(value: &Value) -> Vec<(String, String)> {
    value
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| v.as_f64().map(|n| (k.clone(), number(n))))
        .collect()
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// A stored verdict in one line: satisfied or not, and how many requirements.
fn evidence_text(evidence: Option<&Value>) -> String {
    let Some(evidence) = evidence else {
        return "no gate".into();
    };
    let checks = evidence["checks"].as_array().map_or(0, Vec::len);
    let met = evidence["checks"]
        .as_array()
        .map_or(0, |c| c.iter().filter(|c| c["met"] == true).count());
    let satisfied = evidence["satisfied"] == true;
    format!(
        "gate {}: {met} of {checks} requirements met",
        if satisfied {
            "satisfied"
        } else {
            "not satisfied"
        }
    )
}

fn or_none(text: &str) -> String {
    if text.trim().is_empty() {
        "none".into()
    } else {
        text.to_owned()
    }
}
