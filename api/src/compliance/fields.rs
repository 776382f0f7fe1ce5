//! The fields of a report that only a person can write, per documented kind. The registry
//! fills everything else; these are stored per version (`.../documentation`) and marked
//! missing in a report until written.

use std::collections::BTreeMap;

use verity_store::compliance::DocumentedField;

use super::document::Block;

/// A field a person writes.
#[derive(Debug, Clone, Copy)]
pub struct HumanField {
    /// Stable key.
    pub key: &'static str,
    /// Label.
    pub label: &'static str,
    /// What it should say.
    pub guidance: &'static str,
}

const fn field(key: &'static str, label: &'static str, guidance: &'static str) -> HumanField {
    HumanField {
        key,
        label,
        guidance,
    }
}

/// A model version's fields: the model card's (Model Card Toolkit, Mitchell et al.) and the
/// EU AI Act Annex IV documentation's.
pub const MODEL_VERSION_FIELDS: &[HumanField] = &[
    field(
        "overview",
        "Overview",
        "What the model does and how, in a paragraph.",
    ),
    field(
        "licenses",
        "License",
        "The license the model is used or released under (SPDX identifier or text).",
    ),
    field(
        "intended_uses",
        "Intended uses (intended purpose)",
        "The primary uses the model is built for, in its deployment context.",
    ),
    field(
        "intended_users",
        "Intended users",
        "Who is meant to use the model or act on its outputs.",
    ),
    field(
        "out_of_scope_uses",
        "Out-of-scope uses",
        "Uses the model must not be put to, and why.",
    ),
    field(
        "factors",
        "Relevant factors",
        "Groups, instruments and environments that can change the model's performance, and which were evaluated.",
    ),
    field(
        "ethical_considerations",
        "Ethical considerations",
        "Risks the model poses (to whom, how likely) and how each is mitigated.",
    ),
    field(
        "caveats_and_recommendations",
        "Caveats and recommendations",
        "Known limitations and what users should do about them.",
    ),
    field(
        "hardware_requirements",
        "Hardware and software",
        "Annex IV 1(c)-(e): the hardware, software and versions the system runs on, and how it is placed on the market or put into service.",
    ),
    field(
        "instructions_for_use",
        "Instructions for use",
        "Annex IV 1(h): instructions for the deployer (Art. 13).",
    ),
    field(
        "design_choices",
        "Design specifications and choices",
        "Annex IV 2(b): the general logic, key design choices and assumptions, what the system optimises for, and the trade-offs made.",
    ),
    field(
        "human_oversight",
        "Human oversight measures",
        "Annex IV 2(e): the measures for human oversight (Art. 14), including how outputs can be interpreted.",
    ),
    field(
        "predetermined_changes",
        "Pre-determined changes",
        "Annex IV 2(f): changes to the system and its performance decided in advance, and how conformity is kept.",
    ),
    field(
        "cybersecurity",
        "Cybersecurity measures",
        "Annex IV 2(h): the measures taken for accuracy, robustness and cybersecurity (Art. 15).",
    ),
    field(
        "foreseeable_unintended_outcomes",
        "Foreseeable unintended outcomes",
        "Annex IV 3: foreseeable unintended outcomes and sources of risk to health, safety and fundamental rights.",
    ),
    field(
        "metrics_appropriateness",
        "Appropriateness of the performance metrics",
        "Annex IV 4: why the metrics above suit this system.",
    ),
    field(
        "risk_management",
        "Risk-management system",
        "Annex IV 5: the risk-management system (Art. 9).",
    ),
    field(
        "harmonised_standards",
        "Harmonised standards applied",
        "Annex IV 7: the harmonised standards or other specifications applied.",
    ),
    field(
        "declaration_of_conformity",
        "EU declaration of conformity",
        "Annex IV 8: a copy of (or reference to) the EU declaration of conformity (Art. 47).",
    ),
    field(
        "post_market_monitoring_plan",
        "Post-market monitoring plan",
        "Annex IV 9: how performance is evaluated after deployment (Art. 72); the monitors below are its automated part.",
    ),
];

/// A dataset version's fields (Datasheets for Datasets, Gebru et al.).
pub const DATASET_VERSION_FIELDS: &[HumanField] = &[
    field(
        "motivation",
        "Motivation",
        "Why the dataset was created, by whom, and who funded it.",
    ),
    field(
        "composition",
        "Composition",
        "What the rows represent, whether it is a sample, what is missing, and whether it holds personal or sensitive data.",
    ),
    field(
        "collection_process",
        "Collection process",
        "How, when and by whom the data was collected; consent where people are concerned.",
    ),
    field(
        "preprocessing",
        "Preprocessing, cleaning and labelling",
        "What was done to the raw data, and whether the raw data is kept.",
    ),
    field(
        "uses",
        "Uses",
        "What the dataset has been and should be used for, and uses to avoid.",
    ),
    field(
        "distribution",
        "Distribution",
        "Who it is shared with, how, and under which license or terms.",
    ),
    field(
        "maintenance",
        "Maintenance",
        "Who maintains it, how errors are reported and corrected, and how long it is kept.",
    ),
];

/// The field of `fields` with this key.
pub fn find(fields: &[HumanField], key: &str) -> Option<HumanField> {
    fields.iter().copied().find(|f| f.key == key)
}

/// The block of field `key` (one of `fields`), written or marked missing.
pub fn block(
    fields: &[HumanField],
    key: &str,
    written: &BTreeMap<String, DocumentedField>,
) -> Block {
    let f = find(fields, key).unwrap_or(HumanField {
        key: "",
        label: "",
        guidance: "",
    });
    let found = written.get(key);
    Block::Human {
        key: key.to_owned(),
        label: f.label.to_owned(),
        guidance: f.guidance.to_owned(),
        value: found.map(|d| d.value.clone()),
        written_by: found.map(|d| d.updated_by.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_labelled() {
        for fields in [MODEL_VERSION_FIELDS, DATASET_VERSION_FIELDS] {
            let mut keys: Vec<&str> = fields.iter().map(|f| f.key).collect();
            keys.sort_unstable();
            keys.dedup();
            assert_eq!(keys.len(), fields.len());
            assert!(
                fields
                    .iter()
                    .all(|f| !f.label.is_empty() && !f.guidance.is_empty())
            );
        }
    }
}
