//! `GET metrics/get-history-bulk-interval`, the sampled histories MLflow's UI charts (it asks
//! for 320 points): one metric of up to 100 runs, sampled on the steps that exist, keeping every
//! run's first and last step, as MLflow's `get_metric_history_bulk_interval` does.

use std::collections::{BTreeSet, HashSet};

use axum::Json;
use axum::extract::{RawQuery, State};
use serde::Deserialize;
use serde_json::{Value, json};
use verity_policy::Action;
use verity_store::model::MetricValue;

use super::wire::{self, Int};
use super::{MlflowError, authorize_run, caller};
use crate::auth::Caller;
use crate::error::ApiError;
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

/// At most `max` indices into `total` items, evenly spaced, the first and last included
/// (rounding half to even, as Python's `round`).
fn evenly_spaced(total: usize, max: usize) -> Vec<usize> {
    if total <= max {
        return (0..total).collect();
    }
    if max <= 1 {
        return vec![total - 1];
    }
    let step = (total - 1) as f64 / (max - 1) as f64;
    let picked: BTreeSet<usize> = (0..max)
        .map(|i| (i as f64 * step).round_ties_even() as usize)
        .collect();
    picked.into_iter().collect()
}

/// The steps to return: `max` steps evenly over the distinct steps in range, the range's
/// last, and every run's first and last step inside the range.
fn sampled_steps(runs: &[Vec<MetricValue>], range: Option<(i64, i64)>, max: usize) -> HashSet<i64> {
    let all: BTreeSet<i64> = runs.iter().flatten().map(|p| p.step).collect();
    let (start, end) = range.unwrap_or((0, all.last().copied().unwrap_or(0)));
    let bounds = runs
        .iter()
        .filter_map(|points| {
            let lo = points.iter().map(|p| p.step).min()?;
            let hi = points.iter().map(|p| p.step).max()?;
            Some([lo, hi])
        })
        .flatten()
        .filter(|s| (start..=end).contains(s));
    let in_range: Vec<i64> = all.range(start..=end).copied().collect();
    let mut steps: HashSet<i64> = if in_range.len() <= max {
        in_range.iter().copied().collect()
    } else {
        let interval = in_range.len() as f64 / max as f64;
        let mut picked: HashSet<i64> = (0..max)
            .filter_map(|i| in_range.get((i as f64 * interval) as usize).copied())
            .collect();
        picked.extend(in_range.last().copied());
        picked
    };
    steps.extend(bounds);
    steps
}

/// A run's whole history of one metric (empty when the run never logged it).
async fn history(state: &AppState, run: &str, key: &str) -> Result<Vec<MetricValue>, MlflowError> {
    let mut points = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = match state
            .metric_history(run, key, None, cursor.as_deref())
            .await
        {
            Ok(page) => page,
            Err(e) if e.kind() == verity_store::ErrorKind::NotFound && points.is_empty() => {
                // The run exists (it was authorized); the metric does not.
                return Ok(Vec::new());
            }
            Err(e) => return Err(e.into()),
        };
        points.extend(page.items);
        cursor = page.next_cursor;
        if cursor.is_none() {
            return Ok(points);
        }
    }
}

/// `GET metrics/get-history-bulk-interval`.
pub(super) async fn bulk_interval(
    State(state): State<AppState>,
    c: Result<Caller, ApiError>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, MlflowError> {
    let c = caller(c)?;
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
    let max = usize::try_from(max).unwrap_or(1);
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
    let mut runs = Vec::with_capacity(run_ids.len());
    for id in &run_ids {
        let run = authorize_run(&state, &c, Action::RunRead, id).await?;
        runs.push(history(&state, &run.uuid, &req.metric_key).await?);
    }
    let steps = sampled_steps(&runs, range, max);
    let per_run = max.max(steps.len());
    let mut metrics = Vec::new();
    for (id, points) in run_ids.iter().zip(&runs) {
        // The history comes ordered by step, then timestamp.
        let kept: Vec<&MetricValue> = points.iter().filter(|p| steps.contains(&p.step)).collect();
        for i in evenly_spaced(kept.len(), per_run) {
            let p = kept[i];
            metrics.push(json!({
                "key": req.metric_key, "value": wire::double(p.value),
                "timestamp": p.timestamp, "step": p.step, "run_id": id,
            }));
        }
    }
    Ok(Json(json!({"metrics": metrics})))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn points(steps: &[i64]) -> Vec<MetricValue> {
        steps
            .iter()
            .map(|&step| MetricValue {
                value: step as f64,
                step,
                timestamp: step,
            })
            .collect()
    }

    #[test]
    fn evenly_spaced_keeps_the_ends_like_mlflow() {
        assert_eq!(evenly_spaced(3, 5), [0, 1, 2]);
        assert_eq!(evenly_spaced(10, 1), [9]);
        assert_eq!(evenly_spaced(10, 4), [0, 3, 6, 9]);
        // 0.5 and 2.5 round to even, as Python's round does.
        assert_eq!(evenly_spaced(6, 3), [0, 2, 5]);
        assert!(evenly_spaced(0, 3).is_empty());
    }

    #[test]
    fn steps_are_sampled_over_existing_steps_with_each_runs_bounds() {
        let long = points(&(0..1000).collect::<Vec<_>>());
        let short = points(&[3, 501]);
        let steps = sampled_steps(&[long.clone(), short], None, 10);
        let mut sorted: Vec<i64> = steps.into_iter().collect();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            [0, 3, 100, 200, 300, 400, 500, 501, 600, 700, 800, 900, 999]
        );
        let ranged = sampled_steps(&[long], Some((10, 12)), 10);
        assert_eq!(ranged.len(), 3);
        assert!(sampled_steps(&[Vec::new()], None, 5).is_empty());
    }
}
