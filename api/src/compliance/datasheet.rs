//! A dataset version's datasheet (Gebru et al.: motivation, composition, collection,
//! preprocessing, uses, distribution, maintenance), with what the registry knows: provenance
//! and content hash, schema, lineage, quality results, and statistics: the profile for data
//! below `confidential`, differentially private figures (charged to the privacy budget) for
//! sensitive data, whose raw figures a datasheet never carries.

use std::collections::BTreeMap;

use serde_json::Value;
use verity_policy::Sensitivity;
use verity_store::Report;
use verity_store::compliance::DocumentedField;
use verity_store::masking::MaskMode;
use verity_store::model::{Dataset, DatasetVersion, LineageGraph};

use super::document::{Section, number, utc};
use super::fields::{DATASET_VERSION_FIELDS, block};

/// The datasheet's statistics.
pub enum Statistics {
    /// The version's profile (through the dataset's masks), for data below `confidential`.
    Profile(Value),
    /// DP answers for sensitive data: (question as asked, the release, ledger entry id).
    Private(Vec<(Value, Value, i64)>),
}

/// Everything a datasheet says.
pub struct DatasheetFacts {
    /// The dataset.
    pub dataset: Dataset,
    /// The version documented.
    pub version: DatasetVersion,
    /// The version it was derived from.
    pub derived_from: Option<DatasetVersion>,
    /// The dataset's masks.
    pub masks: BTreeMap<String, MaskMode>,
    /// Upstream lineage (what produced it).
    pub upstream: LineageGraph,
    /// Downstream lineage (runs that read it, models they made).
    pub downstream: LineageGraph,
    /// Quality reports on the version, newest first.
    pub quality: Vec<Report>,
    /// Statistics.
    pub statistics: Statistics,
    /// What people wrote.
    pub written: BTreeMap<String, DocumentedField>,
}

impl DatasheetFacts {
    /// `dataset/{name}/version/{n}`.
    pub fn subject(&self) -> String {
        format!(
            "dataset/{}/version/{}",
            self.version.dataset, self.version.version
        )
    }
}

/// Whether a dataset's sensitivity keeps raw figures out of its datasheets.
pub fn is_sensitive(dataset: &Dataset) -> bool {
    // An unknown level counts as the highest, as in every authorization decision.
    dataset
        .sensitivity
        .parse::<Sensitivity>()
        .map_or(true, |s| s >= Sensitivity::Confidential)
}

/// The datasheet's sections.
pub fn sections(f: &DatasheetFacts) -> Vec<Section> {
    let human = |key: &str| block(DATASET_VERSION_FIELDS, key, &f.written);
    let v = &f.version;
    let schema_rows: Vec<Vec<String>> = v.schema["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let name = c["name"].as_str().unwrap_or_default().to_owned();
            let mask = match f.masks.get(&name) {
                Some(MaskMode::Masked) => "masked (keyed pseudonym)",
                Some(MaskMode::Hidden) => "hidden",
                None => "clear",
            };
            vec![
                name,
                type_text(&c["data_type"]),
                c["nullable"]
                    .as_bool()
                    .map_or("-".into(), |n| n.to_string()),
                mask.to_owned(),
            ]
        })
        .collect();
    let provenance = vec![
        ("dataset", "Dataset", v.dataset.clone()),
        ("version", "Version", v.version.to_string()),
        ("content_hash", "Content SHA-256", v.content_hash.clone()),
        ("format", "Format", v.format.as_str().to_owned()),
        ("bytes", "Size (bytes)", v.byte_size.to_string()),
        ("rows", "Rows", v.row_count.to_string()),
        ("sensitivity", "Sensitivity", f.dataset.sensitivity.clone()),
        (
            "source_uri",
            "Registered from",
            v.source_uri.clone().unwrap_or_else(|| "uploaded".into()),
        ),
        (
            "derived_from",
            "Derived from",
            f.derived_from.as_ref().map_or("none".into(), |d| {
                format!("{}@{} ({})", d.dataset, d.version, d.content_hash)
            }),
        ),
        ("registered_by", "Registered by", v.created_by.clone()),
        ("registered_at", "Registered at", utc(v.created_at)),
        (
            "description",
            "Version description",
            if v.description.is_empty() {
                "none".into()
            } else {
                v.description.clone()
            },
        ),
        (
            "dataset_description",
            "Dataset description",
            if f.dataset.description.is_empty() {
                "none".into()
            } else {
                f.dataset.description.clone()
            },
        ),
    ];
    let quality: Vec<Vec<String>> = f
        .quality
        .iter()
        .map(|r| {
            vec![
                format!("#{}", r.id),
                utc(r.created_at),
                r.status.clone(),
                r.monitor
                    .clone()
                    .unwrap_or_else(|| format!("by hand ({})", r.created_by)),
                r.summary.clone(),
            ]
        })
        .collect();
    let statistics = match &f.statistics {
        Statistics::Profile(profile) => Section::new("statistics", "Statistics")
            .facts([
                ("rows", "Rows", profile["rows"].to_string()),
                (
                    "duplicated_rows",
                    "Duplicated rows",
                    profile["duplicated_rows"].to_string(),
                ),
            ])
            .table(
                Some("Profile per column (masked columns through their pseudonyms)"),
                &[
                    "Column", "Type", "Missing", "Distinct", "Min", "Max", "Mean",
                ],
                profile_rows(profile),
                "No columns.",
            ),
        Statistics::Private(answers) => {
            let rows: Vec<Vec<String>> = answers
                .iter()
                .map(|(question, release, ledger)| {
                    vec![
                        question.to_string(),
                        release_text(release),
                        release["mechanism"].as_str().unwrap_or("-").to_owned(),
                        release["epsilon"].as_f64().map_or("-".into(), number),
                        format!("#{ledger}"),
                    ]
                })
                .collect();
            Section::new("statistics", "Statistics (differentially private)")
                .text(format!(
                    "The dataset is {}: this datasheet carries no figure computed from its rows other than the differentially private releases below, each charged to its privacy budget.",
                    f.dataset.sensitivity
                ))
                .table(
                    None,
                    &["Question", "Release", "Mechanism", "ε", "Ledger entry"],
                    rows,
                    "MISSING: no differentially private statistics were requested for this datasheet.",
                )
        }
    };
    vec![
        Section::new("motivation", "Motivation").block(human("motivation")),
        Section::new("composition", "Composition")
            .facts(provenance)
            .table(
                Some("Schema"),
                &[
                    "Column",
                    "Type",
                    "Nullable",
                    "Shown to readers below its sensitivity",
                ],
                schema_rows,
                "No schema recorded.",
            )
            .block(human("composition")),
        Section::new("collection_process", "Collection process")
            .table(
                Some("Upstream lineage: what produced this version"),
                &["From", "Relation", "To"],
                edge_rows(&f.upstream),
                "Nothing upstream is recorded: the version was registered directly.",
            )
            .block(human("collection_process")),
        Section::new("preprocessing", "Preprocessing, cleaning and labelling")
            .block(human("preprocessing")),
        statistics,
        Section::new("quality", "Quality results").table(
            Some("Quality checks of this version, newest first"),
            &["Report", "When", "Status", "Run by", "Summary"],
            quality,
            "No quality check has run on this version.",
        ),
        Section::new("uses", "Uses")
            .table(
                Some("Downstream lineage: runs that read it and what they made"),
                &["From", "Relation", "To"],
                edge_rows(&f.downstream),
                "Nothing has used this version yet.",
            )
            .block(human("uses")),
        Section::new("distribution", "Distribution").block(human("distribution")),
        Section::new("maintenance", "Maintenance").block(human("maintenance")),
    ]
}

/// A lineage graph's edges as (from, relation, to), with the nodes' labels.
pub fn edge_rows(graph: &LineageGraph) -> Vec<Vec<String>> {
    let label = |kind, id: &str| {
        graph
            .nodes
            .iter()
            .find(|n| n.kind == kind && n.id == id)
            .map_or_else(
                || id.to_owned(),
                |n| format!("{} {}", n.kind.as_str(), n.label),
            )
    };
    let mut rows: Vec<Vec<String>> = graph
        .edges
        .iter()
        .map(|e| {
            let relation = if e.context.is_empty() {
                e.relation.clone()
            } else {
                format!("{} ({})", e.relation, e.context)
            };
            vec![
                label(e.from_kind, &e.from_id),
                relation,
                label(e.to_kind, &e.to_id),
            ]
        })
        .collect();
    if graph.truncated {
        rows.push(vec![
            "…".into(),
            "more edges than a report lists".into(),
            "…".into(),
        ]);
    }
    rows
}

fn profile_rows(profile: &Value) -> Vec<Vec<String>> {
    profile["columns"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let text = |v: &Value| match v {
                Value::Null => "-".to_owned(),
                Value::String(s) => s.clone(),
                Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), number),
                other => other.to_string(),
            };
            vec![
                text(&c["name"]),
                text(&c["data_type"]),
                text(&c["missing"]),
                text(&c["distinct"]),
                text(&c["min"]),
                text(&c["max"]),
                text(&c["mean"]),
            ]
        })
        .collect()
}

/// A DP release's figures in a line.
fn release_text(release: &Value) -> String {
    match &release["result"] {
        Value::Null => release.to_string(),
        result => result.to_string(),
    }
}

fn type_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
