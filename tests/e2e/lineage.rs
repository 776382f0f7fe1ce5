//! The lineage graph and OpenLineage events.

use anyhow::Result;
use serde_json::{Value, json};

use crate::{Api, csv_bytes, expect_error, expect_status, server};

/// Ids of the lineage fixture.
struct Graph {
    train: i64,
    features: i64,
    eval: i64,
    preds: i64,
    run: String,
    model_version: i64,
    features_hash: String,
}

/// train@v1 -derived-> features@v1 -input(training)-> run <-input(evaluation)- eval@v1;
/// run -produced-> classifier@v1; run -output-> preds@v1.
async fn fixture(api: &Api) -> Result<Graph> {
    api.project("p").await?;
    let experiment = api.experiment("p", "training-job").await?;
    for name in ["train", "features", "eval", "preds"] {
        api.dataset("p", name).await?;
    }
    let train = api
        .upload_version("p", "train", Some("text/csv"), csv_bytes(100, "raw"))
        .await?;
    expect_status(&train, 201);
    let train_id = train.1["id"].as_i64().unwrap();
    let features = api
        .send_bytes(
            reqwest::Method::POST,
            &format!("/api/v1/projects/p/datasets/features/versions?derived_from={train_id}"),
            Some("text/csv"),
            csv_bytes(80, "feat"),
        )
        .await?;
    expect_status(&features, 201);
    assert_eq!(features.1["derived_from_id"], train_id);
    let eval = api
        .upload_version("p", "eval", Some("text/csv"), csv_bytes(20, "eval"))
        .await?;
    let preds = api
        .upload_version("p", "preds", Some("text/csv"), csv_bytes(20, "pred"))
        .await?;
    let run = api
        .run(
            "p",
            experiment,
            json!({"name": "fit", "start_time": 1_795_786_595_123_i64}),
        )
        .await?;
    let features_id = features.1["id"].as_i64().unwrap();
    let eval_id = eval.1["id"].as_i64().unwrap();
    let preds_id = preds.1["id"].as_i64().unwrap();
    expect_status(
        &api.post(
            &format!("/api/v1/runs/{run}/inputs"),
            json!({"dataset_version_id": features_id, "context": "training"}),
        )
        .await?,
        200,
    );
    expect_status(
        &api.post(
            &format!("/api/v1/runs/{run}/inputs"),
            json!({"dataset_version_id": eval_id, "context": "evaluation"}),
        )
        .await?,
        200,
    );
    expect_status(
        &api.post(
            &format!("/api/v1/runs/{run}/outputs"),
            json!({"dataset_version_id": preds_id}),
        )
        .await?,
        200,
    );
    expect_status(
        &api.put_artifact(&run, "model.pkl", b"pickled".to_vec())
            .await?,
        200,
    );
    api.model("p", "classifier").await?;
    let mv = api
        .post(
            "/api/v1/projects/p/models/classifier/versions",
            json!({"run_id": run, "artifact_path": "model.pkl"}),
        )
        .await?;
    expect_status(&mv, 201);
    Ok(Graph {
        train: train_id,
        features: features_id,
        eval: eval_id,
        preds: preds_id,
        run,
        model_version: mv.1["id"].as_i64().unwrap(),
        features_hash: features.1["content_hash"].as_str().unwrap().to_string(),
    })
}

fn nodes(graph: &Value) -> Vec<(String, String, u64)> {
    graph["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["kind"].as_str().unwrap().to_string(),
                n["id"].as_str().unwrap().to_string(),
                n["depth"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn has_edge(
    graph: &Value,
    from: (&str, &str),
    to: (&str, &str),
    relation: &str,
    context: &str,
) -> bool {
    graph["edges"].as_array().unwrap().iter().any(|e| {
        e["from_kind"] == from.0
            && e["from_id"] == from.1
            && e["to_kind"] == to.0
            && e["to_id"] == to.1
            && e["relation"] == relation
            && e["context"] == context
    })
}

#[tokio::test]
async fn lineage_upstream_of_a_model_reaches_the_training_data() -> Result<()> {
    let api = server()?;
    let g = fixture(&api).await?;
    let mv = g.model_version.to_string();
    let reply = api
        .get(&format!(
            "/api/v1/lineage?kind=model_version&id={mv}&direction=upstream&depth=5"
        ))
        .await?;
    expect_status(&reply, 200);
    let graph = reply.1;
    let found = nodes(&graph);
    assert_eq!(
        found[0],
        ("model_version".to_string(), mv.clone(), 0),
        "the start node comes first: {graph}"
    );
    assert!(
        found.contains(&("run".to_string(), g.run.clone(), 1)),
        "{found:?}"
    );
    assert!(
        found.contains(&("dataset_version".to_string(), g.features.to_string(), 2)),
        "training data reached: {found:?}"
    );
    assert!(
        found.contains(&("dataset_version".to_string(), g.eval.to_string(), 2)),
        "{found:?}"
    );
    assert!(
        found.contains(&("dataset_version".to_string(), g.train.to_string(), 3)),
        "the raw data it derives from: {found:?}"
    );
    assert!(
        !found.iter().any(|n| n.1 == g.preds.to_string()),
        "outputs are downstream, not upstream: {found:?}"
    );
    assert_eq!(found.len(), 5, "{found:?}");
    assert!(
        has_edge(
            &graph,
            ("run", &g.run),
            ("model_version", &mv),
            "produced",
            ""
        ),
        "{graph}"
    );
    assert!(
        has_edge(
            &graph,
            ("dataset_version", &g.features.to_string()),
            ("run", &g.run),
            "input",
            "training"
        ),
        "{graph}"
    );
    assert!(
        has_edge(
            &graph,
            ("dataset_version", &g.eval.to_string()),
            ("run", &g.run),
            "input",
            "evaluation"
        ),
        "{graph}"
    );
    assert!(
        has_edge(
            &graph,
            ("dataset_version", &g.train.to_string()),
            ("dataset_version", &g.features.to_string()),
            "derived",
            ""
        ),
        "{graph}"
    );
    let labels: Vec<&str> = graph["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["label"].as_str().unwrap())
        .collect();
    assert!(
        labels.contains(&"p/classifier@v1")
            && labels.contains(&"p/features@v1")
            && labels.contains(&"p/training-job/fit"),
        "{labels:?}"
    );
    let edge = &graph["edges"][0];
    assert_eq!(edge["created_by"], "local");
    assert!(edge["created_at"].as_i64().is_some());

    // Depth limits the walk.
    let reply = api
        .get(&format!(
            "/api/v1/lineage?kind=model_version&id={mv}&direction=upstream&depth=1"
        ))
        .await?;
    expect_status(&reply, 200);
    assert_eq!(
        nodes(&reply.1),
        vec![
            ("model_version".to_string(), mv.clone(), 0),
            ("run".to_string(), g.run.clone(), 1)
        ]
    );
    // Default depth (3) reaches the raw data too.
    let reply = api
        .get(&format!(
            "/api/v1/lineage?kind=model_version&id={mv}&direction=upstream"
        ))
        .await?;
    assert!(
        nodes(&reply.1).iter().any(|n| n.1 == g.train.to_string()),
        "{}",
        reply.1
    );
    Ok(())
}

#[tokio::test]
async fn lineage_downstream_and_both_ways() -> Result<()> {
    let api = server()?;
    let g = fixture(&api).await?;
    let reply = api
        .get(&format!(
            "/api/v1/lineage?kind=dataset_version&id={}&direction=downstream&depth=5",
            g.train
        ))
        .await?;
    expect_status(&reply, 200);
    let found = nodes(&reply.1);
    assert_eq!(
        found[0],
        ("dataset_version".to_string(), g.train.to_string(), 0)
    );
    assert!(
        found.contains(&("dataset_version".to_string(), g.features.to_string(), 1)),
        "{found:?}"
    );
    assert!(
        found.contains(&("run".to_string(), g.run.clone(), 2)),
        "{found:?}"
    );
    assert!(
        found.contains(&("model_version".to_string(), g.model_version.to_string(), 3)),
        "{found:?}"
    );
    assert!(
        found.contains(&("dataset_version".to_string(), g.preds.to_string(), 3)),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|n| n.1 == g.eval.to_string()),
        "eval is not downstream of train: {found:?}"
    );

    // Both ways from the run, one hop: its inputs, outputs and model.
    let reply = api
        .get(&format!("/api/v1/lineage?kind=run&id={}&depth=1", g.run))
        .await?;
    expect_status(&reply, 200);
    let mut found = nodes(&reply.1);
    assert_eq!(found.remove(0), ("run".to_string(), g.run.clone(), 0));
    found.sort();
    let mut want = vec![
        ("dataset_version".to_string(), g.features.to_string(), 1),
        ("dataset_version".to_string(), g.eval.to_string(), 1),
        ("dataset_version".to_string(), g.preds.to_string(), 1),
        ("model_version".to_string(), g.model_version.to_string(), 1),
    ];
    want.sort();
    assert_eq!(found, want);
    assert_eq!(
        reply.1["edges"].as_array().map(Vec::len),
        Some(4),
        "{}",
        reply.1
    );
    assert!(
        has_edge(
            &reply.1,
            ("run", &g.run),
            ("dataset_version", &g.preds.to_string()),
            "output",
            ""
        ),
        "{}",
        reply.1
    );

    expect_error(
        &api.get("/api/v1/lineage?kind=run&id=00000000000000000000000000000000")
            .await?,
        404,
        "run_not_found",
    );
    expect_error(
        &api.get("/api/v1/lineage?kind=model_version&id=999999")
            .await?,
        404,
        "model_version_not_found",
    );
    Ok(())
}

fn dashed(run_id: &str) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        &run_id[..8],
        &run_id[8..12],
        &run_id[12..16],
        &run_id[16..20],
        &run_id[20..]
    )
}

#[tokio::test]
async fn openlineage_start_then_complete() -> Result<()> {
    let api = server()?;
    let g = fixture(&api).await?;
    let reply = api
        .get(&format!("/api/v1/runs/{}/openlineage", g.run))
        .await?;
    expect_status(&reply, 200);
    let events = reply.1["events"].as_array().unwrap().clone();
    assert_eq!(events.len(), 1, "only START while running: {}", reply.1);
    let start = &events[0];
    assert_eq!(start["eventType"], "START");
    assert_eq!(start["eventTime"], "2026-11-27T13:36:35.123Z");
    let run_uuid = start["run"]["runId"].as_str().unwrap();
    assert_eq!(run_uuid, dashed(&g.run));
    let parts: Vec<usize> = run_uuid.split('-').map(str::len).collect();
    assert_eq!(parts, vec![8, 4, 4, 4, 12], "{run_uuid}");
    assert_eq!(
        start["run"]["facets"]["verity_run"]["run_id"],
        g.run.as_str()
    );
    assert_eq!(start["run"]["facets"]["verity_run"]["status"], "RUNNING");
    assert_eq!(start["job"]["namespace"], "verity://p");
    assert_eq!(start["job"]["name"], "training-job");
    assert_eq!(start["producer"], "https://github.com/verity-ml/verity");
    assert!(
        start["schemaURL"]
            .as_str()
            .unwrap()
            .contains("OpenLineage.json")
    );
    assert_eq!(start["outputs"], json!([]));
    let inputs = start["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 2);
    let features = inputs
        .iter()
        .find(|i| i["name"] == "features")
        .expect("features input");
    assert_eq!(features["namespace"], "verity://p");
    assert_eq!(
        features["facets"]["version"]["datasetVersion"],
        g.features_hash.as_str()
    );
    assert_eq!(
        features["facets"]["schema"]["fields"],
        json!([{"name": "id", "type": "Int64"}, {"name": "name", "type": "Utf8"}, {"name": "score", "type": "Float64"}])
    );
    assert_eq!(
        features["inputFacets"]["verity_input"]["context"],
        "training"
    );
    assert_eq!(features["inputFacets"]["verity_input"]["row_count"], 80);

    let reply = api
        .patch(
            &format!("/api/v1/runs/{}", g.run),
            json!({"status": "FINISHED", "end_time": 1_795_786_600_000_i64}),
        )
        .await?;
    expect_status(&reply, 200);
    let reply = api
        .get(&format!("/api/v1/runs/{}/openlineage", g.run))
        .await?;
    expect_status(&reply, 200);
    let events = reply.1["events"].as_array().unwrap().clone();
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(types, vec!["START", "COMPLETE"]);
    let complete = &events[1];
    assert_eq!(complete["eventTime"], "2026-11-27T13:36:40.000Z");
    assert_eq!(complete["run"]["runId"], dashed(&g.run).as_str());
    assert_eq!(
        complete["run"]["facets"]["verity_run"]["status"],
        "FINISHED"
    );
    assert_eq!(complete["inputs"], events[0]["inputs"]);
    let outputs = complete["outputs"].as_array().unwrap();
    let names: Vec<&str> = outputs
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["preds", "models/classifier"]);
    assert_eq!(outputs[1]["facets"]["version"]["datasetVersion"], "1");
    assert!(
        outputs[0]["inputFacets"].is_null(),
        "outputs have no input facets: {}",
        outputs[0]
    );
    Ok(())
}

#[tokio::test]
async fn openlineage_fail_and_abort() -> Result<()> {
    let api = server()?;
    let (experiment, failed) = api.project_with_run("p").await?;
    let killed = api.run("p", experiment, json!({})).await?;
    expect_status(
        &api.patch(
            &format!("/api/v1/runs/{failed}"),
            json!({"status": "FAILED"}),
        )
        .await?,
        200,
    );
    expect_status(
        &api.patch(
            &format!("/api/v1/runs/{killed}"),
            json!({"status": "KILLED"}),
        )
        .await?,
        200,
    );
    for (run, terminal) in [(failed, "FAIL"), (killed, "ABORT")] {
        let reply = api.get(&format!("/api/v1/runs/{run}/openlineage")).await?;
        expect_status(&reply, 200);
        let types: Vec<Value> = reply.1["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["eventType"].clone())
            .collect();
        assert_eq!(types, vec![json!("START"), json!(terminal)]);
    }
    expect_error(
        &api.get("/api/v1/runs/ffffffffffffffffffffffffffffffff/openlineage")
            .await?,
        404,
        "run_not_found",
    );
    Ok(())
}
