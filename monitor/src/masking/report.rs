//! Masked views of stored reports. Each report kind puts column values in known places
//! (a profile's top values, a quality result's unexpected values, drift categories, fairness
//! and evaluation groups, positive labels and class names); in a masked view those of masked
//! or hidden columns become pseudonyms, and statistics that are values of such a column (min,
//! max, mean, quartiles, numeric bin edges, a regression's errors in the label's units, a
//! score threshold) are removed. Profile, quality and drift entries about a hidden column are
//! left out; fairness and evaluation groups of a hidden sensitive column keep the column's
//! name with pseudonymous values. A kind without a masked view is refused, never shown in
//! clear.

use serde_json::{Map, Value, json};

use super::{MaskMode, Masker};
use crate::{Error, Result};

/// Written in place of a rule's text that names a masked or hidden column.
const WITHHELD: &str = "(withheld: refers to a masked column)";

/// Masks a report of `kind` in place: its configuration as run and its result.
///
/// # Errors
/// [`Error::InvalidArgument`] for a kind that has no masked view.
pub fn mask_report(
    kind: &str,
    config: &mut Value,
    result: &mut Value,
    masker: &Masker,
) -> Result<()> {
    if masker.columns().is_empty() {
        return Ok(());
    }
    // A check that could not run says why, and the reason can quote a cell.
    if let Some(error) = at(result, &["error"]).filter(|e| e.is_string()) {
        *error = json!(WITHHELD);
    }
    match kind {
        "profile" => mask_profile(result, masker),
        "quality" => {
            mask_expectations(at(config, &["expectations"]), masker);
            mask_quality_results(at(result, &["results"]), masker);
        }
        "drift" => mask_drift(config, result, masker),
        "fairness" => {
            mask_fairness_config(config, masker);
            if let Some(report) = at(result, &["report"]) {
                mask_fairness_report(report, masker);
            }
        }
        "evaluation" => {
            let label = label_column(&config["evaluation"]).map(str::to_owned);
            mask_evaluation_config(at(config, &["evaluation"]), masker);
            mask_evaluation(result, label.as_deref(), masker);
        }
        // Figures and metric names; the evaluation options may name a positive label.
        "comparison" => {
            let covered = label_column(&config["evaluation"]).is_some_and(|l| masker.covers(l));
            mask_evaluation_config(at(config, &["evaluation"]), masker);
            if covered {
                mask_comparison(result);
            }
        }
        other => {
            return Err(Error::invalid(format!(
                "reports of kind '{other}' have no masked view"
            )));
        }
    }
    Ok(())
}

/// The value at `path` (object keys), if every step exists; never adds a key.
fn at<'a>(value: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |v, key| v.get_mut(*key))
}

/// Sets `key` of an object to null when it holds something (never adds a key).
fn clear(value: &mut Value, key: &str) {
    if let Some(slot) = value.get_mut(key) {
        *slot = Value::Null;
    }
}

/// The text a JSON scalar stands for (`None` for null, arrays and objects).
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Replaces a scalar by its pseudonym (null stays null; anything else becomes null).
fn pseudonymise(value: &mut Value, masker: &Masker) {
    *value = match scalar_text(value) {
        Some(text) => Value::String(masker.pseudonym(&text)),
        None => Value::Null,
    };
}

fn pseudonymise_all(values: Option<&mut Value>, masker: &Masker) {
    if let Some(items) = values.and_then(Value::as_array_mut) {
        items.iter_mut().for_each(|v| pseudonymise(v, masker));
    }
}

fn is_hidden(masker: &Masker, column: &str) -> bool {
    masker.mode(column) == Some(MaskMode::Hidden)
}

/// Keeps the names of `list` that are not hidden.
fn drop_hidden_names(list: Option<&mut Value>, masker: &Masker) {
    if let Some(items) = list.and_then(Value::as_array_mut) {
        items.retain(|name| !name.as_str().is_some_and(|n| is_hidden(masker, n)));
    }
}

fn mask_profile(result: &mut Value, masker: &Masker) {
    drop_hidden_names(at(result, &["constant_columns"]), masker);
    drop_hidden_names(at(result, &["empty_columns"]), masker);
    let Some(columns) = at(result, &["columns"]).and_then(Value::as_array_mut) else {
        return;
    };
    columns.retain(|c| !c["name"].as_str().is_some_and(|n| is_hidden(masker, n)));
    for column in columns {
        let covered = column["name"].as_str().is_some_and(|n| masker.covers(n));
        if !covered {
            continue;
        }
        for statistic in ["min", "max", "mean", "std", "quartiles"] {
            clear(column, statistic);
        }
        if let Some(top) = at(column, &["top"]).and_then(Value::as_array_mut) {
            for entry in top {
                if let Some(value) = entry.get_mut(0) {
                    pseudonymise(value, masker);
                }
            }
        }
    }
}

/// How an expectation fares in a masked view.
enum Seen {
    /// In clear.
    Clear,
    /// About a masked column, or a rule naming one: values pseudonymised or withheld.
    Masked,
    /// About a hidden column: left out.
    Hidden,
}

/// Whether `text` (a SQL predicate) names a masked or hidden column.
fn names_covered_column(text: &str, masker: &Masker) -> bool {
    let lower = text.to_lowercase();
    masker
        .columns()
        .keys()
        .any(|column| lower.contains(&column.to_lowercase()))
}

/// Masks one expectation's rule in place.
fn mask_expectation(expectation: &mut Value, masker: &Masker) -> Seen {
    if let Some(column) = expectation["column"].as_str() {
        return match masker.mode(column) {
            None => Seen::Clear,
            Some(MaskMode::Hidden) => Seen::Hidden,
            Some(MaskMode::Masked) => {
                pseudonymise_all(at(expectation, &["value_set"]), masker);
                clear(expectation, "min_value");
                clear(expectation, "max_value");
                if let Some(regex) = at(expectation, &["regex"]).filter(|r| r.is_string()) {
                    *regex = json!(WITHHELD);
                }
                Seen::Masked
            }
        };
    }
    match expectation["predicate"].as_str() {
        Some(predicate) if names_covered_column(predicate, masker) => {
            if let Some(slot) = at(expectation, &["predicate"]) {
                *slot = json!(WITHHELD);
            }
            Seen::Masked
        }
        _ => Seen::Clear,
    }
}

fn mask_expectations(expectations: Option<&mut Value>, masker: &Masker) {
    if let Some(items) = expectations.and_then(Value::as_array_mut) {
        items.retain_mut(|e| !matches!(mask_expectation(e, masker), Seen::Hidden));
    }
}

fn mask_quality_results(results: Option<&mut Value>, masker: &Masker) {
    let Some(items) = results.and_then(Value::as_array_mut) else {
        return;
    };
    items.retain_mut(|result| {
        let column_rule = result["expectation"]["column"].is_string();
        let Some(expectation) = at(result, &["expectation"]) else {
            return true;
        };
        match mask_expectation(expectation, masker) {
            Seen::Clear => true,
            Seen::Hidden => false,
            Seen::Masked => {
                let Some(object) = result.as_object_mut() else {
                    return true;
                };
                if column_rule {
                    pseudonymise_all(object.get_mut("partial_unexpected_list"), masker);
                } else {
                    object.remove("partial_unexpected_list");
                }
                // A statistic of the column is one of its values; a type name is not.
                if object.get("observed_value").is_some_and(|v| !v.is_string()) {
                    object.remove("observed_value");
                }
                if object.contains_key("error") {
                    object.insert("error".into(), json!(WITHHELD));
                }
                true
            }
        }
    });
}

fn mask_drift(config: &mut Value, result: &mut Value, masker: &Masker) {
    drop_hidden_names(at(config, &["columns"]), masker);
    for map in [
        "per_column_method",
        "per_column_threshold",
        "per_column_kind",
    ] {
        if let Some(entries) = at(config, &[map]).and_then(Value::as_object_mut) {
            entries.retain(|column, _| !is_hidden(masker, column));
        }
    }
    drop_hidden_names(at(result, &["drift", "skipped_columns"]), masker);
    if let Some(unsupported) = at(result, &["unsupported_columns"]).and_then(Value::as_array_mut) {
        unsupported.retain(|c| !c["column"].as_str().is_some_and(|n| is_hidden(masker, n)));
    }
    let Some(columns) = at(result, &["drift", "columns"]).and_then(Value::as_array_mut) else {
        return;
    };
    columns.retain(|c| !c["column"].as_str().is_some_and(|n| is_hidden(masker, n)));
    for column in columns {
        if !column["column"].as_str().is_some_and(|n| masker.covers(n)) {
            continue;
        }
        if let Some(histogram) = at(column, &["histogram"]) {
            match histogram["type"].as_str() {
                Some("categories") => pseudonymise_all(at(histogram, &["labels"]), masker),
                Some("empty") => {}
                // Bin edges are values of the column.
                _ => *histogram = json!({"type": "masked"}),
            }
        }
        if let Some(note) = at(column, &["note"]).filter(|n| !n.is_null()) {
            *note = json!(WITHHELD);
        }
    }
}

/// `{"column": value}` maps (privileged groups as configured): values of covered columns
/// pseudonymised.
fn mask_value_maps(maps: Option<&mut Value>, masker: &Masker) {
    let Some(items) = maps.and_then(Value::as_array_mut) else {
        return;
    };
    for map in items.iter_mut().filter_map(Value::as_object_mut) {
        for (column, value) in map.iter_mut() {
            if masker.covers(column) {
                pseudonymise(value, masker);
            }
        }
    }
}

fn label_column(config: &Value) -> Option<&str> {
    config["label"].as_str()
}

fn mask_positive_label(config: &mut Value, masker: &Masker) {
    let covered = label_column(config).is_some_and(|label| masker.covers(label));
    if let Some(positive) = at(config, &["positive_label"]).filter(|p| covered && !p.is_null()) {
        pseudonymise(positive, masker);
    }
}

fn mask_fairness_config(config: &mut Value, masker: &Masker) {
    // The positive label is a value of the label and of the prediction column; the threshold
    // one of the score column.
    let covered = ["label", "prediction"]
        .iter()
        .any(|key| config[*key].as_str().is_some_and(|c| masker.covers(c)));
    if let Some(positive) = at(config, &["positive_label"]).filter(|p| covered && !p.is_null()) {
        pseudonymise(positive, masker);
    }
    if config["score"].as_str().is_some_and(|c| masker.covers(c)) {
        clear(config, "threshold");
    }
    mask_value_maps(at(config, &["privileged"]), masker);
}

fn mask_evaluation_config(config: Option<&mut Value>, masker: &Masker) {
    if let Some(config) = config {
        mask_positive_label(config, masker);
    }
}

/// Replaces the covered positions of a group tuple, returning the tuple as the fairness
/// engine's warnings write it before and after.
fn mask_tuple(tuple: &mut Value, covered: &[bool], masker: &Masker) -> Option<(String, String)> {
    let items = tuple.as_array_mut()?;
    let before: Vec<String> = items
        .iter()
        .map(|v| scalar_text(v).unwrap_or_default())
        .collect();
    for (item, covered) in items.iter_mut().zip(covered) {
        if *covered && !item.is_null() {
            pseudonymise(item, masker);
        }
    }
    let after: Vec<String> = items
        .iter()
        .map(|v| scalar_text(v).unwrap_or_default())
        .collect();
    Some((
        format!("({})", before.join(", ")),
        format!("({})", after.join(", ")),
    ))
}

/// Masks a fairness report (a fairness check's, or one column's in an evaluation).
fn mask_fairness_report(report: &mut Value, masker: &Masker) {
    let covered: Vec<bool> = report["sensitive_columns"]
        .as_array()
        .map(|columns| {
            columns
                .iter()
                .map(|c| c.as_str().is_some_and(|n| masker.covers(n)))
                .collect()
        })
        .unwrap_or_default();
    if !covered.contains(&true) {
        return;
    }
    let mut renamed = Vec::new();
    if let Some(groups) = at(report, &["by_group"]).and_then(Value::as_array_mut) {
        for group in groups.iter_mut().filter_map(|g| g.get_mut("group")) {
            renamed.extend(mask_tuple(group, &covered, masker));
        }
    }
    let selectors = at(report, &["privileged", "selectors"]).and_then(Value::as_array_mut);
    for values in selectors
        .into_iter()
        .flatten()
        .filter_map(|s| s.get_mut("values"))
    {
        mask_tuple(values, &covered, masker);
    }
    let groups = at(report, &["privileged", "privileged_groups"]).and_then(Value::as_array_mut);
    for group in groups.into_iter().flatten() {
        renamed.extend(mask_tuple(group, &covered, masker));
    }
    // Warnings name groups as "(a, b)": longest first, so no tuple is replaced inside another.
    renamed.sort_by_key(|(before, _)| std::cmp::Reverse(before.len()));
    if let Some(warnings) = at(report, &["warnings"]).and_then(Value::as_array_mut) {
        for warning in warnings {
            if let Some(text) = warning.as_str() {
                let mut text = text.to_owned();
                for (before, after) in &renamed {
                    text = text.replace(before.as_str(), after);
                }
                *warning = Value::String(text);
            }
        }
    }
}

/// Class names in a model's metrics (multi-class): `classes` lists and `class` fields.
fn mask_classes(metrics: &mut Value, masker: &Masker) {
    match metrics {
        Value::Object(map) => mask_class_fields(map, masker),
        Value::Array(items) => items.iter_mut().for_each(|v| mask_classes(v, masker)),
        _ => {}
    }
}

fn mask_class_fields(map: &mut Map<String, Value>, masker: &Masker) {
    for (key, value) in map.iter_mut() {
        match key.as_str() {
            "classes" => pseudonymise_all(Some(value), masker),
            "class" => pseudonymise(value, masker),
            _ => mask_classes(value, masker),
        }
    }
}

/// A regression's error figures are in the label's units: values of a masked label.
const REGRESSION_ERRORS: [&str; 6] = [
    "mae",
    "mse",
    "rmse",
    "mean_residual",
    "residual_quantiles",
    "max_error",
];

/// Masks a model's metrics when its label is masked or hidden.
fn mask_label_metrics(metrics: &mut Value, masker: &Masker) {
    mask_classes(metrics, masker);
    if metrics["task"] == "regression" {
        for figure in REGRESSION_ERRORS {
            clear(metrics, figure);
        }
    }
}

/// A comparison of models whose label is masked: regression error figures removed.
fn mask_comparison(result: &mut Value) {
    for side in ["overall", "fairness"] {
        let figures = at(result, &["comparison", side]).and_then(Value::as_array_mut);
        for figure in figures.into_iter().flatten() {
            if figure["metric"]
                .as_str()
                .is_some_and(|m| REGRESSION_ERRORS.contains(&m))
            {
                for value in ["challenger", "champion", "difference"] {
                    clear(figure, value);
                }
            }
        }
    }
}

fn mask_evaluation(result: &mut Value, label: Option<&str>, masker: &Masker) {
    let label_covered = label.is_some_and(|l| masker.covers(l));
    if let Some(overall) = at(result, &["overall"]).filter(|_| label_covered) {
        mask_label_metrics(overall, masker);
    }
    if let Some(columns) = at(result, &["by_group"]).and_then(Value::as_array_mut) {
        for column in columns {
            let covered = column["column"].as_str().is_some_and(|n| masker.covers(n));
            let Some(groups) = at(column, &["groups"]).and_then(Value::as_array_mut) else {
                continue;
            };
            for group in groups {
                if let Some(value) = at(group, &["value"]).filter(|_| covered) {
                    pseudonymise(value, masker);
                }
                if let Some(metrics) = at(group, &["metrics"]).filter(|_| label_covered) {
                    mask_label_metrics(metrics, masker);
                }
            }
        }
    }
    if let Some(columns) = at(result, &["fairness"]).and_then(Value::as_array_mut) {
        for report in columns.iter_mut().filter_map(|c| c.get_mut("report")) {
            mask_fairness_report(report, masker);
        }
    }
}
