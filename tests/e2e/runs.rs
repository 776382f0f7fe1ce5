//! Runs: lifecycle, params, tags, metrics (special values, big batches, history paging,
//! downsampling), inputs and outputs.

use anyhow::Result;
use serde_json::{Value, json};

use crate::{csv_bytes, enc, expect_status, items, server};

fn by_key(list: &Value) -> Vec<(String, Value)> {
    list.as_array()
        .map(|a| {
            a.iter()
                .map(|kv| {
                    (
                        kv["key"].as_str().unwrap_or("?").to_string(),
                        kv["value"].clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn run_lifecycle() -> Result<()> {
    let api = server()?;
    api.project("p").await?;
    let exp = api.experiment("p", "e").await?;
    let reply = api
        .post(
            &format!("/api/v1/projects/p/experiments/{exp}/runs"),
            json!({"name": "first", "start_time": 1_700_000_000_000_i64, "tags": [{"key": "team", "value": "vision"}]}),
        )
        .await?;
    expect_status(&reply, 201);
    let run = reply.1.clone();
    let run_id = run["run_id"].as_str().unwrap().to_string();
    assert_eq!(run_id.len(), 32);
    assert!(run_id.chars().all(|c| c.is_ascii_hexdigit()), "{run_id}");
    assert_eq!(run["project"], "p");
    assert_eq!(run["experiment_id"], exp);
    assert_eq!(run["name"], "first");
    assert_eq!(run["status"], "RUNNING");
    assert_eq!(run["start_time"], 1_700_000_000_000_i64);
    assert_eq!(run["end_time"], Value::Null);
    assert_eq!(run["deleted_at"], Value::Null);
    assert_eq!(run["created_by"], "local");
    assert_eq!(
        by_key(&run["tags"]),
        vec![("team".to_string(), json!("vision"))]
    );
    assert_eq!(run["params"], json!([]));
    assert_eq!(run["metrics"], json!([]));
    assert_eq!(run["inputs"], json!([]));
    assert_eq!(run["outputs"], json!({"datasets": [], "models": []}));

    // A run without a name gets one.
    let unnamed = api.run("p", exp, json!({})).await?;
    let reply = api.get(&format!("/api/v1/runs/{unnamed}")).await?;
    expect_status(&reply, 200);
    assert!(
        reply.1["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("run-")),
        "{}",
        reply.1
    );

    let reply = api.get(&format!("/api/v1/runs/{run_id}")).await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1, run);

    let reply = api
        .patch(
            &format!("/api/v1/runs/{run_id}"),
            json!({"name": "renamed"}),
        )
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["name"], "renamed");
    assert_eq!(reply.1["status"], "RUNNING");
    assert_eq!(reply.1["end_time"], Value::Null);

    let reply = api
        .patch(
            &format!("/api/v1/runs/{run_id}"),
            json!({"status": "FINISHED"}),
        )
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["status"], "FINISHED");
    assert!(
        reply.1["end_time"]
            .as_i64()
            .is_some_and(|t| t >= 1_700_000_000_000),
        "a terminal status sets end_time: {}",
        reply.1
    );
    let reply = api
        .patch(
            &format!("/api/v1/runs/{run_id}"),
            json!({"end_time": 1_700_000_100_000_i64}),
        )
        .await?;
    assert_eq!(reply.1["end_time"], 1_700_000_100_000_i64);

    let reply = api.delete(&format!("/api/v1/runs/{run_id}")).await?;
    expect_status(&reply, 200);
    assert!(reply.1["deleted_at"].as_i64().is_some(), "{}", reply.1);
    assert_eq!(reply.1["run_id"], run_id.as_str());
    // A deleted run takes no more data.
    let reply = api
        .post(
            &format!("/api/v1/runs/{run_id}/batch"),
            json!({"tags": [{"key": "x", "value": "y"}]}),
        )
        .await?;
    crate::expect_error(&reply, 409, "conflict");

    let reply = api
        .post(&format!("/api/v1/runs/{run_id}/restore"), json!({}))
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["deleted_at"], Value::Null);
    assert_eq!(reply.1["name"], "renamed");
    api.batch(&run_id, json!({"tags": [{"key": "x", "value": "y"}]}))
        .await?;
    Ok(())
}

#[tokio::test]
async fn single_param_tag_and_metric_routes() -> Result<()> {
    let api = server()?;
    let (_, run) = api.project_with_run("p").await?;
    let reply = api
        .post(
            &format!("/api/v1/runs/{run}/params"),
            json!({"key": "lr", "value": "0.1"}),
        )
        .await?;
    expect_status(&reply, 204);
    assert_eq!(reply.1, Value::Null);
    // The same pair again is a no-op.
    expect_status(
        &api.post(
            &format!("/api/v1/runs/{run}/params"),
            json!({"key": "lr", "value": "0.1"}),
        )
        .await?,
        204,
    );

    expect_status(
        &api.post(
            &format!("/api/v1/runs/{run}/tags"),
            json!({"key": "team", "value": "a"}),
        )
        .await?,
        204,
    );
    expect_status(
        &api.post(
            &format!("/api/v1/runs/{run}/tags"),
            json!({"key": "team", "value": "b"}),
        )
        .await?,
        204,
    );
    expect_status(
        &api.post(
            &format!("/api/v1/runs/{run}/tags"),
            json!({"key": "note", "value": "multi\nline"}),
        )
        .await?,
        204,
    );
    expect_status(
        &api.post(
            &format!("/api/v1/runs/{run}/tags"),
            json!({"key": "val loss/epoch:1", "value": "k"}),
        )
        .await?,
        204,
    );

    let reply = api
        .post(
            &format!("/api/v1/runs/{run}/metrics"),
            json!({"key": "acc", "value": 0.5, "step": 1, "timestamp": 1000}),
        )
        .await?;
    expect_status(&reply, 204);
    expect_status(
        &api.post(
            &format!("/api/v1/runs/{run}/metrics"),
            json!({"key": "acc", "value": 0.75, "step": 2, "timestamp": 2000}),
        )
        .await?,
        204,
    );
    // An older step does not replace the latest value.
    expect_status(
        &api.post(
            &format!("/api/v1/runs/{run}/metrics"),
            json!({"key": "acc", "value": 0.1, "step": 0, "timestamp": 3000}),
        )
        .await?,
        204,
    );
    // Integer values and a default step.
    expect_status(
        &api.post(
            &format!("/api/v1/runs/{run}/metrics"),
            json!({"key": "epochs", "value": 3}),
        )
        .await?,
        204,
    );

    let reply = api.get(&format!("/api/v1/runs/{run}/metrics")).await?;
    expect_status(&reply, 200);
    let metrics = reply.1["metrics"].as_array().unwrap().clone();
    assert_eq!(metrics.len(), 2, "{}", reply.1);
    assert_eq!(
        metrics[0],
        json!({"key": "acc", "value": 0.75, "step": 2, "timestamp": 2000})
    );
    assert_eq!(metrics[1]["key"], "epochs");
    assert_eq!(metrics[1]["value"], 3.0);
    assert_eq!(metrics[1]["step"], 0);
    assert!(
        metrics[1]["timestamp"]
            .as_i64()
            .is_some_and(|t| t > 1_600_000_000_000),
        "timestamp defaults to now: {}",
        metrics[1]
    );

    let reply = api
        .delete(&format!(
            "/api/v1/runs/{run}/tags/{}",
            enc("val loss/epoch:1")
        ))
        .await?;
    expect_status(&reply, 204);
    let reply = api.delete(&format!("/api/v1/runs/{run}/tags/note")).await?;
    expect_status(&reply, 204);
    let reply = api.delete(&format!("/api/v1/runs/{run}/tags/note")).await?;
    crate::expect_error(&reply, 404, "tag_not_found");

    let detail = api.get(&format!("/api/v1/runs/{run}")).await?.1;
    assert_eq!(
        by_key(&detail["params"]),
        vec![("lr".to_string(), json!("0.1"))]
    );
    assert_eq!(
        by_key(&detail["tags"]),
        vec![("team".to_string(), json!("b"))]
    );
    assert_eq!(detail["metrics"], reply_metrics(&api, &run).await?);
    let history = items(
        &api.get(&format!("/api/v1/runs/{run}/metric-history?key=acc"))
            .await?,
    );
    assert_eq!(
        history,
        vec![
            json!({"value": 0.1, "step": 0, "timestamp": 3000}),
            json!({"value": 0.5, "step": 1, "timestamp": 1000}),
            json!({"value": 0.75, "step": 2, "timestamp": 2000}),
        ]
    );
    Ok(())
}

async fn reply_metrics(api: &crate::Api, run: &str) -> Result<Value> {
    Ok(api.get(&format!("/api/v1/runs/{run}/metrics")).await?.1["metrics"].clone())
}

#[tokio::test]
async fn nan_and_infinities_round_trip() -> Result<()> {
    let api = server()?;
    let (_, run) = api.project_with_run("p").await?;
    api.batch(
        &run,
        json!({"metrics": [
            {"key": "nan", "value": "NaN", "step": 0, "timestamp": 10},
            {"key": "pinf", "value": "Infinity", "step": 0, "timestamp": 10},
            {"key": "ninf", "value": "-Infinity", "step": 0, "timestamp": 10},
            {"key": "mixed", "value": 1.5, "step": 0, "timestamp": 10},
            {"key": "mixed", "value": "NaN", "step": 1, "timestamp": 11},
            {"key": "mixed", "value": "-Infinity", "step": 2, "timestamp": 12},
            {"key": "mixed", "value": "Infinity", "step": 3, "timestamp": 13},
            {"key": "mixed", "value": -0.25, "step": 4, "timestamp": 14},
        ]}),
    )
    .await?;
    let latest = reply_metrics(&api, &run).await?;
    let latest: Vec<(String, Value)> = latest
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["key"].as_str().unwrap().to_string(), m["value"].clone()))
        .collect();
    assert_eq!(
        latest,
        vec![
            ("mixed".to_string(), json!(-0.25)),
            ("nan".to_string(), json!("NaN")),
            ("ninf".to_string(), json!("-Infinity")),
            ("pinf".to_string(), json!("Infinity")),
        ]
    );
    let history = items(
        &api.get(&format!("/api/v1/runs/{run}/metric-history?key=mixed"))
            .await?,
    );
    let values: Vec<Value> = history.iter().map(|p| p["value"].clone()).collect();
    assert_eq!(
        values,
        vec![
            json!(1.5),
            json!("NaN"),
            json!("-Infinity"),
            json!("Infinity"),
            json!(-0.25)
        ]
    );
    let detail = api.get(&format!("/api/v1/runs/{run}")).await?.1;
    let nan = detail["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == "nan")
        .cloned()
        .unwrap();
    assert_eq!(nan["value"], "NaN");

    // Downsampling ignores NaN in min/max and keeps the infinities.
    let reply = api
        .get(&format!(
            "/api/v1/runs/{run}/metric-history/downsampled?key=mixed&buckets=1"
        ))
        .await?;
    expect_status(&reply, 200);
    let buckets = reply.1["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 1, "{}", reply.1);
    assert_eq!(buckets[0]["count"], 5);
    assert_eq!(buckets[0]["min"], "-Infinity");
    assert_eq!(buckets[0]["max"], "Infinity");
    assert_eq!(buckets[0]["first"], 1.5);
    assert_eq!(buckets[0]["last"], -0.25);
    Ok(())
}

#[tokio::test]
async fn batch_of_50000_points_is_accepted_whole() -> Result<()> {
    let api = server()?;
    let (_, run) = api.project_with_run("p").await?;
    let n = 50_000_i64;
    let metrics: Vec<Value> = (0..n)
        .map(|i| json!({"key": "loss", "value": i as f64 / 4.0, "step": i, "timestamp": 1_000 + i}))
        .collect();
    let params: Vec<Value> = (0..300)
        .map(|i| json!({"key": format!("p{i}"), "value": i.to_string()}))
        .collect();
    let tags: Vec<Value> = (0..300)
        .map(|i| json!({"key": format!("t{i}"), "value": "v"}))
        .collect();
    api.batch(
        &run,
        json!({"metrics": metrics, "params": params, "tags": tags}),
    )
    .await?;

    let reply = api
        .get(&format!("/api/v1/runs/{run}/metric-history?key=loss"))
        .await?;
    let history = items(&reply);
    assert!(
        reply.1.get("next_cursor").is_none(),
        "all points on one default page"
    );
    assert_eq!(history.len(), 50_000);
    for (i, point) in history.iter().enumerate() {
        let i = i as i64;
        assert_eq!(point["step"], i, "{point}");
        assert_eq!(point["value"].as_f64(), Some(i as f64 / 4.0), "{point}");
        assert_eq!(point["timestamp"], 1_000 + i);
    }
    let latest = reply_metrics(&api, &run).await?;
    assert_eq!(
        latest,
        json!([{"key": "loss", "value": 49_999.0 / 4.0, "step": 49_999, "timestamp": 50_999}])
    );
    let detail = api.get(&format!("/api/v1/runs/{run}")).await?.1;
    assert_eq!(detail["params"].as_array().map(Vec::len), Some(300));
    assert_eq!(detail["tags"].as_array().map(Vec::len), Some(300));
    Ok(())
}

#[tokio::test]
async fn metric_history_pages_with_cursor() -> Result<()> {
    let api = server()?;
    let (_, run) = api.project_with_run("p").await?;
    let metrics: Vec<Value> = (0..250)
        .map(|i| json!({"key": "acc", "value": i, "step": i}))
        .collect();
    api.batch(&run, json!({"metrics": metrics})).await?;
    let mut steps = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = format!("/api/v1/runs/{run}/metric-history?key=acc&limit=100");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={}", enc(c)));
        }
        let reply = api.get(&path).await?;
        let page = items(&reply);
        pages += 1;
        steps.extend(page.iter().map(|p| p["step"].as_i64().unwrap()));
        match reply.1["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(page.len(), 100);
                cursor = Some(next.to_string());
            }
            None => {
                assert_eq!(page.len(), 50);
                break;
            }
        }
        assert!(pages <= 3, "too many pages");
    }
    assert_eq!(pages, 3);
    assert_eq!(steps, (0..250).collect::<Vec<i64>>());
    // A metric that was never logged is 404.
    let reply = api
        .get(&format!("/api/v1/runs/{run}/metric-history?key=nope"))
        .await?;
    crate::expect_error(&reply, 404, "metric_not_found");
    Ok(())
}

#[tokio::test]
async fn downsampled_view_keeps_the_spike() -> Result<()> {
    let api = server()?;
    let (_, run) = api.project_with_run("p").await?;
    let spike_step = 61_803_i64;
    for chunk in 0..2_i64 {
        let metrics: Vec<Value> = (chunk * 50_000..(chunk + 1) * 50_000)
            .map(|i| {
                let value = if i == spike_step {
                    1_000.0
                } else {
                    ((i as f64) / 1000.0).sin()
                };
                json!({"key": "loss", "value": value, "step": i, "timestamp": i})
            })
            .collect();
        api.batch(&run, json!({"metrics": metrics})).await?;
    }
    let reply = api
        .get(&format!(
            "/api/v1/runs/{run}/metric-history/downsampled?key=loss&buckets=100"
        ))
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["key"], "loss");
    let buckets = reply.1["buckets"].as_array().unwrap();
    assert!(
        !buckets.is_empty() && buckets.len() <= 100,
        "{} buckets",
        buckets.len()
    );
    let total: i64 = buckets.iter().map(|b| b["count"].as_i64().unwrap()).sum();
    assert_eq!(total, 100_000);
    assert_eq!(buckets[0]["start_step"], 0);
    assert_eq!(buckets[buckets.len() - 1]["end_step"], 99_999);
    let mut previous_end = -1;
    for b in buckets {
        let (start, end) = (
            b["start_step"].as_i64().unwrap(),
            b["end_step"].as_i64().unwrap(),
        );
        assert!(
            start > previous_end && end >= start,
            "buckets in step order without overlap: {b}"
        );
        previous_end = end;
        let (min, max) = (b["min"].as_f64().unwrap(), b["max"].as_f64().unwrap());
        assert!(min <= max, "{b}");
        if (start..=end).contains(&spike_step) {
            assert_eq!(max, 1_000.0, "the spike survives in the bucket max: {b}");
        } else {
            assert!(max <= 1.0, "no other bucket sees the spike: {b}");
        }
    }
    assert_eq!(buckets.iter().filter(|b| b["max"] == 1_000.0).count(), 1);
    let first = &buckets[0];
    assert_eq!(first["first"].as_f64(), Some(0.0));

    // A step range narrows the view.
    let reply = api
        .get(&format!("/api/v1/runs/{run}/metric-history/downsampled?key=loss&buckets=10&start_step=60000&end_step=60999"))
        .await?;
    expect_status(&reply, 200);
    let buckets = reply.1["buckets"].as_array().unwrap();
    assert!(buckets.len() <= 10 && !buckets.is_empty());
    assert_eq!(
        buckets
            .iter()
            .map(|b| b["count"].as_i64().unwrap())
            .sum::<i64>(),
        1000
    );
    assert_eq!(buckets[0]["start_step"], 60_000);
    assert_eq!(buckets[buckets.len() - 1]["end_step"], 60_999);
    Ok(())
}

#[tokio::test]
async fn inputs_and_outputs() -> Result<()> {
    let api = server()?;
    let (_, run) = api.project_with_run("p").await?;
    api.dataset("p", "train").await?;
    api.dataset("p", "preds").await?;
    let train = api
        .upload_version("p", "train", Some("text/csv"), csv_bytes(10, "t"))
        .await?;
    expect_status(&train, 201);
    let preds = api
        .upload_version("p", "preds", Some("text/csv"), csv_bytes(5, "p"))
        .await?;
    expect_status(&preds, 201);
    let train_id = train.1["id"].as_i64().unwrap();
    let preds_id = preds.1["id"].as_i64().unwrap();

    let reply = api
        .post(
            &format!("/api/v1/runs/{run}/inputs"),
            json!({"dataset_version_id": train_id, "context": "training"}),
        )
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["run_id"], run.as_str());
    assert_eq!(
        reply.1["inputs"],
        json!([{
            "dataset_version_id": train_id, "project": "p", "dataset": "train", "version": 1,
            "content_hash": train.1["content_hash"], "context": "training"
        }])
    );
    // Recording the same input again is a no-op.
    let reply = api
        .post(
            &format!("/api/v1/runs/{run}/inputs"),
            json!({"dataset_version_id": train_id, "context": "training"}),
        )
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["inputs"].as_array().map(Vec::len), Some(1));

    let reply = api
        .post(
            &format!("/api/v1/runs/{run}/outputs"),
            json!({"dataset_version_id": preds_id}),
        )
        .await?;
    expect_status(&reply, 200);
    assert_eq!(
        reply.1["outputs"]["datasets"],
        json!([{
            "dataset_version_id": preds_id, "project": "p", "dataset": "preds", "version": 1,
            "content_hash": preds.1["content_hash"], "context": ""
        }])
    );
    assert_eq!(reply.1["inputs"].as_array().map(Vec::len), Some(1));
    let detail = api.get(&format!("/api/v1/runs/{run}")).await?.1;
    assert_eq!(detail["inputs"], reply.1["inputs"]);
    assert_eq!(detail["outputs"], reply.1["outputs"]);

    // A dataset version of another project cannot be an input.
    api.project("q").await?;
    api.dataset("q", "foreign").await?;
    let foreign = api
        .upload_version("q", "foreign", Some("text/csv"), csv_bytes(3, "f"))
        .await?;
    let reply = api
        .post(
            &format!("/api/v1/runs/{run}/inputs"),
            json!({"dataset_version_id": foreign.1["id"], "context": "training"}),
        )
        .await?;
    // Answered as for a version that does not exist: the other project is not named.
    let message = crate::expect_error(&reply, 404, "dataset_version_not_found");
    assert!(!message.contains("'q'"), "{message}");
    assert_eq!(
        api.get(&format!("/api/v1/runs/{run}")).await?.1["inputs"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    Ok(())
}
