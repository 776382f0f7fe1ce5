//! MLflow's sampled metric histories (`metrics/get-history-bulk-interval`, what MLflow's UI
//! charts): each run sampled evenly over its points as MLflow's SQL store does (NTILE buckets,
//! the last point kept), and the bad requests.

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::expect_status;

const M: &str = "/ajax-api/2.0/mlflow";

fn steps(reply: &Value, run: &str) -> Vec<i64> {
    reply["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["run_id"] == run)
        .filter_map(|m| m["step"].as_i64())
        .collect()
}

#[tokio::test]
async fn sampled_histories_keep_each_runs_ends_and_refuse_bad_requests() -> Result<()> {
    let api = crate::server()?;
    let experiment = api
        .post(
            "/api/2.0/mlflow/experiments/create",
            json!({"name": "charts"}),
        )
        .await?;
    expect_status(&experiment, 200);
    let experiment = experiment.1["experiment_id"].clone();
    let mut runs = Vec::new();
    for steps in [1000, 2, 20] {
        let run = api
            .post(
                "/api/2.0/mlflow/runs/create",
                json!({"experiment_id": experiment}),
            )
            .await?;
        let id = run.1["run"]["info"]["run_id"]
            .as_str()
            .context("run id")?
            .to_owned();
        let points: Vec<Value> = (0..steps)
            .map(|s| {
                // The short run logs steps 3 and 501; the third logs each of 0..9 twice.
                let (step, timestamp) = match steps {
                    2 => ([3, 501][s as usize], 1000),
                    20 => (s / 2, 1000 + s),
                    _ => (s, 1000 + s),
                };
                json!({"key": "loss", "value": step as f64 / 10.0, "timestamp": timestamp, "step": step})
            })
            .collect();
        expect_status(
            &api.post(
                "/api/2.0/mlflow/runs/log-batch",
                json!({"run_id": id, "metrics": points}),
            )
            .await?,
            200,
        );
        runs.push(id);
    }
    let (long, short, twice) = (&runs[0], &runs[1], &runs[2]);
    let reply = api
        .get(&format!(
            "{M}/metrics/get-history-bulk-interval?run_ids={long}&run_ids={short}&metric_key=loss&max_results=10"
        ))
        .await?;
    expect_status(&reply, 200);
    assert_eq!(
        steps(&reply.1, long),
        [0, 100, 200, 300, 400, 500, 600, 700, 800, 999],
        "{}",
        reply.1
    );
    assert_eq!(steps(&reply.1, short), [3, 501]);
    // Sampled by point, not by step: 20 points in 4 runs of 5, then the last point.
    let reply = api
        .get(&format!(
            "{M}/metrics/get-history-bulk-interval?run_ids={twice}&metric_key=loss&max_results=4"
        ))
        .await?;
    assert_eq!(steps(&reply.1, twice), [0, 2, 5, 9], "{}", reply.1);
    let stamps: Vec<i64> = reply.1["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["timestamp"].as_i64())
        .collect();
    assert_eq!(stamps, [1000, 1005, 1010, 1019]);
    let first = reply.1["metrics"][0].clone();
    assert_eq!(
        (
            first["key"].as_str(),
            first["value"].as_f64(),
            first["timestamp"].as_i64()
        ),
        (Some("loss"), Some(0.0), Some(1000))
    );
    // A step range; a metric the run never logged gives nothing for it.
    let reply = api
        .get(&format!(
            "{M}/metrics/get-history-bulk-interval?run_ids={long}&metric_key=loss&start_step=10&end_step=14"
        ))
        .await?;
    assert_eq!(steps(&reply.1, long), [10, 11, 12, 13, 14]);
    let reply = api
        .get(&format!(
            "{M}/metrics/get-history-bulk-interval?run_ids={long}&metric_key=nothing"
        ))
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1, json!({"metrics": []}));

    let many: String = (0..101).map(|_| format!("run_ids={long}&")).collect();
    for (query, status, needle) in [
        ("metric_key=loss".to_owned(), 400, "run_ids is required"),
        (format!("{many}metric_key=loss"), 400, "at most 100 run_ids"),
        (format!("run_ids={long}"), 400, "metric_key"),
        (
            format!("run_ids={long}&metric_key=loss&max_results=0"),
            400,
            "between 1 and 2500",
        ),
        (
            format!("run_ids={long}&metric_key=loss&max_results=2501"),
            400,
            "between 1 and 2500",
        ),
        (
            format!("run_ids={long}&metric_key=loss&start_step=5"),
            400,
            "both must be specified",
        ),
        (
            format!("run_ids={long}&metric_key=loss&start_step=5&end_step=1"),
            400,
            "greater than start_step",
        ),
        (
            format!("run_ids={long}&metric_key=loss&max_results=x"),
            400,
            "int64",
        ),
        (
            format!("run_ids={}&metric_key=loss", "0".repeat(32)),
            404,
            "not found",
        ),
    ] {
        let reply = api
            .get(&format!("{M}/metrics/get-history-bulk-interval?{query}"))
            .await?;
        assert_eq!(reply.0.as_u16(), status, "{query}: {}", reply.1);
        let message = reply.1["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{query}: {message}");
    }
    Ok(())
}
