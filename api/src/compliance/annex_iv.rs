//! A model version's technical documentation after the EU AI Act's Annex IV (Art. 11): its
//! nine points, filled from the registry where the registry knows (versions, data, lineage,
//! validation and testing, monitoring, changes) and flagged for a person where it cannot
//! (intended purpose, oversight, risk management, standards, conformity).

use verity_store::Monitor;
use verity_store::compliance::ComplianceReport;
use verity_store::model::DatasetVersion;

use super::document::{Section, utc};
use super::fields::{MODEL_VERSION_FIELDS, block};
use super::model_facts::ModelFacts;

/// What the Annex IV document adds to the model's facts.
pub struct AnnexFacts {
    /// Datasheets generated for the training data: (dataset version, report).
    pub datasheets: Vec<(DatasetVersion, Option<ComplianceReport>)>,
    /// Monitors on the datasets the version was trained or evaluated on.
    pub monitors: Vec<Monitor>,
    /// Open alerts of those monitors: (monitor, summary, opened at).
    pub open_alerts: Vec<(String, String, i64)>,
    /// Audit events recorded on the model, and whether the whole chain verifies.
    pub audit: (usize, bool),
}

/// The document's sections.
pub fn sections(f: &ModelFacts, a: &AnnexFacts) -> Vec<Section> {
    let human = |key: &str| block(MODEL_VERSION_FIELDS, key, &f.written);
    let data_columns = [
        "Dataset",
        "Version",
        "Content SHA-256",
        "Rows",
        "Registered by",
    ];
    let datasheets: Vec<Vec<String>> = a
        .datasheets
        .iter()
        .map(|(v, report)| {
            vec![
                format!("{}@{}", v.dataset, v.version),
                match report {
                    Some(r) => format!(
                        "datasheet #{} of {} (JSON SHA-256 {})",
                        r.id,
                        utc(r.created_at),
                        r.files
                            .first()
                            .map(|f| f.content_hash.as_str())
                            .unwrap_or("?")
                    ),
                    None => "MISSING: no datasheet generated yet".into(),
                },
            ]
        })
        .collect();
    let monitors: Vec<Vec<String>> = a
        .monitors
        .iter()
        .map(|m| {
            let kinds: Vec<String> = m
                .checks
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["kind"].as_str().map(str::to_owned))
                .collect();
            vec![
                m.name.clone(),
                m.dataset.clone(),
                kinds.join(", "),
                match (m.on_new_version, m.interval_seconds) {
                    (true, Some(s)) => format!("each new version and every {s} s"),
                    (true, None) => "each new version".into(),
                    (false, Some(s)) => format!("every {s} s"),
                    (false, None) => "by hand".into(),
                },
                if m.enabled { "yes" } else { "no" }.into(),
            ]
        })
        .collect();
    let alerts: Vec<Vec<String>> = a
        .open_alerts
        .iter()
        .map(|(m, s, at)| vec![utc(*at), m.clone(), s.clone()])
        .collect();
    vec![
        Section::new("general_description", "1. General description of the AI system")
            .facts(f.details())
            .block(human("intended_uses"))
            .block(human("overview"))
            .block(human("hardware_requirements"))
            .block(human("instructions_for_use"))
            .table(
                Some("Files of this version"),
                &["Path", "SHA-256", "Bytes"],
                f.files_rows(),
                "No files are stored with this version.",
            ),
        Section::new("development", "2. Elements of the AI system and its development")
            .block(human("design_choices"))
            .table(
                Some("2(b), (d): parameters of the run that produced it"),
                &["Parameter", "Value"],
                f.parameter_rows(),
                "No parameters were logged by the run that produced it.",
            )
            .table(
                Some("2(d): training data (by lineage), with content hashes"),
                &data_columns,
                f.training_rows(),
                "No training dataset version is recorded in its lineage.",
            )
            .table(
                Some("2(d): datasheets of the training data"),
                &["Training data", "Datasheet"],
                datasheets,
                "No training data to describe.",
            )
            .block(human("human_oversight"))
            .block(human("predetermined_changes"))
            .table(
                Some("2(g): validation and testing: overall figures of each evaluation"),
                &["Evaluation", "Data", "When", "Metric", "Value"],
                f.metric_rows(),
                "MISSING: no evaluation of this version is recorded.",
            )
            .table(
                Some("2(g): testing data"),
                &data_columns,
                f.evaluation_data_rows(),
                "No testing data.",
            )
            .table(
                Some("2(g): potentially discriminatory impacts: fairness figures"),
                &["Evaluation", "Column", "Metric", "Convention", "Value"],
                f.fairness_rows(),
                "No fairness figures (they come from evaluations of binary models with sensitive columns).",
            )
            .block(human("cybersecurity")),
        Section::new("monitoring", "3. Monitoring, functioning and control")
            .table(
                Some("Accuracy for specific groups"),
                &["Evaluation", "Column", "Group", "Rows", "Figures"],
                f.group_rows(),
                "No evaluation named sensitive columns.",
            )
            .block(human("foreseeable_unintended_outcomes"))
            .block(human("caveats_and_recommendations")),
        Section::new("metrics_appropriateness", "4. Appropriateness of the performance metrics")
            .block(human("metrics_appropriateness")),
        Section::new("risk_management", "5. Risk-management system")
            .block(human("risk_management"))
            .block(human("ethical_considerations")),
        Section::new("lifecycle_changes", "6. Changes through the lifecycle")
            .table(
                Some("Every move of the model's aliases, with the evidence each relied on"),
                &["When", "Alias", "From", "To", "By", "Evidence"],
                f.alias_rows(true),
                "No alias of this model has moved.",
            )
            .table(
                Some("Promotion gates, judged now"),
                &["Alias", "Gate of", "Verdict", "Requirements"],
                f.verdict_rows(),
                "No promotion gate guards an alias of this model.",
            )
            .table(
                Some("Reviews of this version"),
                &["When", "Reviewer", "Alias", "Decision", "Comment"],
                f.review_rows(),
                "No one has reviewed this version.",
            ),
        Section::new("standards", "7. Harmonised standards").block(human("harmonised_standards")),
        Section::new("declaration_of_conformity", "8. EU declaration of conformity")
            .block(human("declaration_of_conformity")),
        Section::new("post_market_monitoring", "9. Post-market monitoring")
            .block(human("post_market_monitoring_plan"))
            .table(
                Some("Monitors on its training and evaluation data"),
                &["Monitor", "Dataset", "Checks", "Runs on", "Enabled"],
                monitors,
                "No monitor watches its training or evaluation data.",
            )
            .table(
                Some("Open alerts of those monitors"),
                &["Opened", "Monitor", "Summary"],
                alerts,
                "No open alert.",
            )
            .facts([
                (
                    "audit_events",
                    "Record-keeping (Art. 12): audit events on this model",
                    a.audit.0.to_string(),
                ),
                (
                    "audit_chain",
                    "Audit chain verifies",
                    if a.audit.1 { "yes" } else { "NO: see GET /api/v1/audit/verify" }.into(),
                ),
            ]),
    ]
}
