//! A model version's model card: the Model Card Toolkit's sections (Mitchell et al.: details,
//! intended use, factors, metrics, evaluation and training data, quantitative analyses,
//! ethical considerations, caveats), then its governance record: gate verdicts, reviews and
//! alias history.

use super::document::Section;
use super::fields::{MODEL_VERSION_FIELDS, block};
use super::model_facts::ModelFacts;

const DATA_COLUMNS: [&str; 5] = [
    "Dataset",
    "Version",
    "Content SHA-256",
    "Rows",
    "Registered by",
];

/// The card's sections.
pub fn sections(f: &ModelFacts) -> Vec<Section> {
    let human = |key: &str| block(MODEL_VERSION_FIELDS, key, &f.written);
    let evaluated = f.sensitive_columns();
    vec![
        Section::new("model_details", "Model details")
            .facts(f.details())
            .block(human("overview"))
            .block(human("licenses"))
            .table(
                Some("Files"),
                &["Path", "SHA-256", "Bytes"],
                f.files_rows(),
                "No files are stored with this version.",
            ),
        Section::new("model_parameters", "Model parameters").table(
            Some("Parameters of the run that produced it"),
            &["Parameter", "Value"],
            f.parameter_rows(),
            "No parameters were logged by the run that produced it.",
        ),
        Section::new("intended_use", "Intended use")
            .block(human("intended_uses"))
            .block(human("intended_users"))
            .block(human("out_of_scope_uses")),
        Section::new("factors", "Factors")
            .facts([(
                "evaluated_groups",
                "Sensitive columns evaluated",
                if evaluated.is_empty() {
                    "none".to_owned()
                } else {
                    evaluated.join(", ")
                },
            )])
            .block(human("factors")),
        Section::new("metrics", "Metrics").table(
            Some("Overall figures of each evaluation (newest first)"),
            &["Evaluation", "Data", "When", "Metric", "Value"],
            f.metric_rows(),
            "No evaluation of this version is recorded.",
        ),
        Section::new("evaluation_data", "Evaluation data").table(
            None,
            &DATA_COLUMNS,
            f.evaluation_data_rows(),
            "No evaluation data: the version has not been evaluated.",
        ),
        Section::new("training_data", "Training data").table(
            Some("Inputs of the run that produced it (by lineage)"),
            &DATA_COLUMNS,
            f.training_rows(),
            "No training dataset version is recorded in its lineage.",
        ),
        Section::new("quantitative_analysis", "Quantitative analyses")
            .table(
                Some("Figures per group (unitary)"),
                &["Evaluation", "Column", "Group", "Rows", "Figures"],
                f.group_rows(),
                "No evaluation named sensitive columns, so there are no figures per group.",
            )
            .table(
                Some("Fairness figures"),
                &["Evaluation", "Column", "Metric", "Convention", "Value"],
                f.fairness_rows(),
                "No fairness figures (they come from evaluations of binary models with sensitive columns).",
            ),
        Section::new("ethical_considerations", "Ethical considerations")
            .block(human("ethical_considerations")),
        Section::new("caveats_and_recommendations", "Caveats and recommendations")
            .block(human("caveats_and_recommendations")),
        Section::new("governance", "Governance: gates, approvals and alias history")
            .table(
                Some("Promotion gates on the model's aliases, judged now"),
                &["Alias", "Gate of", "Verdict", "Requirements"],
                f.verdict_rows(),
                "No promotion gate guards an alias of this model.",
            )
            .table(
                Some("Reviews"),
                &["When", "Reviewer", "Alias", "Decision", "Comment"],
                f.review_rows(),
                "No one has reviewed this version.",
            )
            .table(
                Some("Alias history of this version (the evidence each move relied on)"),
                &["When", "Alias", "From", "To", "By", "Evidence"],
                f.alias_rows(false),
                "No alias has pointed at this version.",
            ),
    ]
}
