//! `verity eval`: evaluates a registered model version on a stored dataset version (and, with
//! `--compare-to`, the version an alias points to), with a progress bar on standard error;
//! stores the predictions and the reports, and prints the outcome.

use std::io::IsTerminal;
use std::time::Instant;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use verity_monitor::check::{NoProgress, Progress, Status};
use verity_monitor::model::{DeviceChoice, EvaluationConfig};

use crate::check_cli::{ProgressBar, dataset_ref, parse_config};
use crate::checks;
use crate::config::EvalArgs;
use crate::evaluations::{EvaluationRequest, ModelSelector, run_comparison, run_evaluation};

/// The evaluation options from `--config`, overridden by the flags.
fn evaluation_config(args: &EvalArgs) -> anyhow::Result<EvaluationConfig> {
    let mut config = match &args.config {
        Some(text) => parse_config(text)?,
        None => json!({}),
    };
    let Some(object) = config.as_object_mut() else {
        bail!("--config must be a JSON object");
    };
    if let Some(label) = &args.label {
        object.insert("label".into(), Value::String(label.clone()));
    }
    if !args.sensitive.is_empty() {
        object.insert("sensitive".into(), json!(args.sensitive));
    }
    if let Some(size) = args.batch_size {
        object.insert("batch_size".into(), json!(size));
    }
    if !object.contains_key("label") {
        bail!("name the label column with --label (or \"label\" in --config)");
    }
    let config: EvaluationConfig =
        serde_json::from_value(config).context("the evaluation options are not valid")?;
    config.validate()?;
    Ok(config)
}

/// Runs the command; returns the evaluation's status.
pub async fn eval_command(args: EvalArgs) -> anyhow::Result<Status> {
    let config = evaluation_config(&args)?;
    let device: DeviceChoice = args.device.parse()?;
    let selector = ModelSelector::parse(&args.model).map_err(anyhow::Error::msg)?;
    let (dataset, dataset_version) = dataset_ref(&args.dataset)?;
    let store = crate::open_migrated(&args.storage).await?;
    let model = selector.resolve(&store, &args.project).await?;
    let dataset = checks::version(&store, &args.project, dataset, dataset_version).await?;
    let request = EvaluationRequest {
        predictions_dataset: args
            .predictions_dataset
            .clone()
            .unwrap_or_else(|| EvaluationRequest::default_predictions_dataset(&model.model)),
        model,
        dataset,
        config,
        device,
        limits: Default::default(),
    };
    let bar = ProgressBar::new(!args.quiet && std::io::stderr().is_terminal());
    let progress: &dyn Progress = if args.quiet { &NoProgress } else { &bar };
    let started = Instant::now();
    let actor = crate::admin::cli_actor();
    let result = match &args.compare_to {
        None => run_evaluation(&store, &request, &actor, progress)
            .await
            .map(|e| (e.report, None)),
        Some(alias) => run_comparison(&store, &request, alias, &actor, progress)
            .await
            .map(|c| (c.challenger, Some(c.report))),
    };
    bar.finish();
    store.close().await;
    let (evaluation, comparison) = result?;
    let status = match evaluation.status.as_str() {
        "fail" => Status::Fail,
        "warn" => Status::Warn,
        _ => Status::Pass,
    };
    if args.json {
        let out = json!({
            "evaluation": report_json(&evaluation),
            "comparison": comparison.as_ref().map(report_json),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{}: {}", evaluation.status, evaluation.summary);
        println!("stored as report {}", evaluation.id);
        if let Some(id) = evaluation.models.output_version_id {
            println!("predictions: dataset version {id}");
        }
        if let Some(c) = &comparison {
            println!("{}: {}", c.status, c.summary);
            println!("comparison stored as report {}", c.id);
        }
        eprintln!("took {:.2} s", started.elapsed().as_secs_f64());
    }
    Ok(status)
}

fn report_json(report: &verity_store::Report) -> Value {
    json!({
        "id": report.id,
        "kind": report.kind,
        "status": report.status,
        "summary": report.summary,
        "model": report.model,
        "model_version": report.model_version,
        "output_version_id": report.models.output_version_id,
        "result": report.result,
    })
}
