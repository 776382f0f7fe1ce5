//! `GET metrics/get-history-bulk-interval`, the sampled histories MLflow's UI charts (it asks
//! for 320 points): one metric of up to 100 runs, each run sampled as MLflow's SQL store does
//! (`Store::metric_sample`: evenly over the points in the step range, first and last kept).

use axum::Json;
use axum::extract::{RawQuery, State};
use serde::Deserialize;
use serde_json::{Value, json};
use verity_policy::Action;

use super::wire::{self, Int};
use super::{MlflowError, authorize_run};
use crate::auth::Caller;
use crate::state::AppState;

/// Most runs in one request (MLflow's `MAX_RUNS_GET_METRIC_HISTORY_BULK`).
const MAX_RUNS: usize = 100;
/// Most sampled steps (MLflow's `MAX_RESULTS_PER_RUN`), also the default.
const MAX_RESULTS: i64 = 2500;

#[derive(Deserialize)]
pub(super) struct Request {
    #[serde(default)]
    run_ids: Value,
    metric_key: String,
    #[serde(default)]
    start_step: Option<Int>,
    #[serde(default)]
    end_step: Option<Int>,
    #[serde(default)]
    max_results: Option<Int>,
}

/// `GET metrics/get-history-bulk-interval`.
pub(super) async fn bulk_interval(
    State(state): State<AppState>,
    c: Caller,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, MlflowError> {
    let req: Request = wire::query(q.as_deref())?;
    let run_ids: Vec<String> = match req.run_ids {
        Value::String(one) => vec![one],
        Value::Array(list) => list
            .into_iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    if run_ids.is_empty() {
        return Err(MlflowError::invalid("run_ids is required"));
    }
    if run_ids.len() > MAX_RUNS {
        return Err(MlflowError::invalid(format!(
            "GetMetricHistoryBulkInterval request must specify at most {MAX_RUNS} run_ids. \
             Received {} run_ids.",
            run_ids.len()
        )));
    }
    let max = req.max_results.map_or(MAX_RESULTS, |m| m.0);
    if !(1..=MAX_RESULTS).contains(&max) {
        return Err(MlflowError::invalid(format!(
            "max_results must be between 1 and {MAX_RESULTS}."
        )));
    }
    let range = match (req.start_step, req.end_step) {
        (Some(Int(start)), Some(Int(end))) if start > end => {
            return Err(MlflowError::invalid(format!(
                "end_step must be greater than start_step. Found start_step={start} and \
                 end_step={end}."
            )));
        }
        (Some(Int(start)), Some(Int(end))) => Some((start, end)),
        (None, None) => None,
        _ => {
            return Err(MlflowError::invalid(
                "If either start step or end step are specified, both must be specified.",
            ));
        }
    };
    let max = u32::try_from(max).unwrap_or(1);
    let mut runs = Vec::with_capacity(run_ids.len());
    for id in &run_ids {
        runs.push(authorize_run(&state, &c, Action::RunRead, id).await?.uuid);
    }
    let mut metrics = Vec::new();
    for run in &runs {
        for p in state
            .metric_sample(run, &req.metric_key, max, range)
            .await?
        {
            metrics.push(json!({
                "key": req.metric_key, "value": wire::double(p.value),
                "timestamp": p.timestamp, "step": p.step, "run_id": run,
            }));
        }
    }
    Ok(Json(json!({"metrics": metrics})))
}
