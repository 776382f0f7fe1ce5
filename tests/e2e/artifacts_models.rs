//! Run artifacts, registered models, model versions, files, aliases and the alias history.

use std::time::Duration;

use anyhow::Result;
use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    Api, blob_files, expect_client_error, expect_error, expect_status, items, noise, server,
    tmp_files,
};

#[tokio::test]
async fn artifacts_upload_list_download() -> Result<()> {
    let api = server()?;
    let (exp, run) = api.project_with_run("p").await?;
    let weights = noise(300_000, 1);
    let reply = api
        .put_artifact(&run, "model/weights.bin", weights.clone())
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["path"], "model/weights.bin");
    assert_eq!(reply.1["byte_size"], weights.len());
    assert_eq!(reply.1["created_by"], "local");
    let hash = reply.1["content_hash"].as_str().unwrap().to_string();
    assert_eq!(hash.len(), 64);
    expect_status(
        &api.put_artifact(&run, "model/config.json", b"{\"layers\": 3}".to_vec())
            .await?,
        200,
    );
    expect_status(
        &api.put_artifact(&run, "model/sub/deep.txt", b"deep".to_vec())
            .await?,
        200,
    );
    expect_status(
        &api.put_artifact(&run, "README.md", b"# readme".to_vec())
            .await?,
        200,
    );
    // An empty file is a file.
    let reply = api.put_artifact(&run, "empty.txt", Vec::new()).await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["byte_size"], 0);

    let reply = api.get(&format!("/api/v1/runs/{run}/artifacts")).await?;
    expect_status(&reply, 200);
    assert_eq!(
        reply.1,
        json!({"root": "", "files": [
            {"path": "README.md", "is_dir": false, "byte_size": 8},
            {"path": "empty.txt", "is_dir": false, "byte_size": 0},
            {"path": "model", "is_dir": true, "byte_size": null},
        ]})
    );
    let reply = api
        .get(&format!("/api/v1/runs/{run}/artifacts?path=model"))
        .await?;
    expect_status(&reply, 200);
    assert_eq!(
        reply.1,
        json!({"root": "model", "files": [
            {"path": "model/config.json", "is_dir": false, "byte_size": 13},
            {"path": "model/sub", "is_dir": true, "byte_size": null},
            {"path": "model/weights.bin", "is_dir": false, "byte_size": 300_000},
        ]})
    );

    let (status, headers, bytes) = api
        .download(&format!("/api/v1/runs/{run}/artifacts/model/weights.bin"))
        .await?;
    assert_eq!(status, 200);
    assert!(bytes == weights, "artifact bytes differ");
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert_eq!(headers["etag"].to_str()?, format!("\"{hash}\""));
    let (status, _, bytes) = api
        .download(&format!("/api/v1/runs/{run}/artifacts/empty.txt"))
        .await?;
    assert_eq!(status, 200);
    assert!(bytes.is_empty());

    // Same bytes again: a no-op. Other bytes: 409, and the stored bytes are unchanged.
    let reply = api
        .put_artifact(&run, "model/weights.bin", weights.clone())
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["content_hash"], hash.as_str());
    let reply = api
        .put_artifact(&run, "model/weights.bin", noise(10, 2))
        .await?;
    expect_error(&reply, 409, "conflict");
    // A file cannot go under a file, nor where a directory is.
    expect_error(
        &api.put_artifact(&run, "README.md/x", b"x".to_vec()).await?,
        409,
        "conflict",
    );
    expect_error(
        &api.put_artifact(&run, "model", b"x".to_vec()).await?,
        409,
        "conflict",
    );
    let (_, _, bytes) = api
        .download(&format!("/api/v1/runs/{run}/artifacts/model/weights.bin"))
        .await?;
    assert!(
        bytes == weights,
        "a refused upload must not change the artifact"
    );
    // The same bytes under another path, or in another run, are stored once.
    expect_status(
        &api.put_artifact(&run, "copy.bin", weights.clone()).await?,
        200,
    );
    let other_run = api.run("p", exp, json!({})).await?;
    expect_status(
        &api.put_artifact(&other_run, "w.bin", weights.clone())
            .await?,
        200,
    );
    assert_eq!(
        blob_files(&api).len(),
        5,
        "weights, config, deep, readme, empty: {:?}",
        blob_files(&api)
    );
    assert!(tmp_files(&api).is_empty(), "{:?}", tmp_files(&api));

    let reply = api
        .get(&format!("/api/v1/runs/{run}/artifacts/nope.txt"))
        .await?;
    expect_error(&reply, 404, "artifact_not_found");

    // Percent-encoded names round-trip: spaces, '#', '?', '%' and non-ASCII.
    let odd = "odd dir/file #1?%ü.txt";
    let encoded: Vec<String> = odd.split('/').map(crate::enc).collect();
    let encoded = encoded.join("/");
    let reply = api
        .put_artifact(&other_run, &encoded, b"odd".to_vec())
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["path"], odd);
    let (status, _, bytes) = api
        .download(&format!("/api/v1/runs/{other_run}/artifacts/{encoded}"))
        .await?;
    assert_eq!(status, 200);
    assert_eq!(bytes, b"odd");
    let reply = api
        .get(&format!(
            "/api/v1/runs/{other_run}/artifacts?path={}",
            crate::enc("odd dir")
        ))
        .await?;
    expect_status(&reply, 200);
    assert_eq!(
        reply.1["files"],
        json!([{"path": odd, "is_dir": false, "byte_size": 3}])
    );
    Ok(())
}

/// A project with a run that has a model directory and a single model file as artifacts.
async fn run_with_model_artifacts(api: &Api) -> Result<String> {
    let (_, run) = api.project_with_run("p").await?;
    expect_status(
        &api.put_artifact(&run, "model/weights.bin", noise(1000, 3))
            .await?,
        200,
    );
    expect_status(
        &api.put_artifact(&run, "model/config.json", b"{}".to_vec())
            .await?,
        200,
    );
    expect_status(
        &api.put_artifact(&run, "model/sub/vocab.txt", b"a\nb\n".to_vec())
            .await?,
        200,
    );
    expect_status(
        &api.put_artifact(&run, "model.pkl", noise(500, 4)).await?,
        200,
    );
    Ok(run)
}

#[tokio::test]
async fn models_versions_and_files() -> Result<()> {
    let api = server()?;
    let run = run_with_model_artifacts(&api).await?;

    let reply = api
        .post(
            "/api/v1/projects/p/models",
            json!({"name": "classifier", "description": "v0"}),
        )
        .await?;
    expect_status(&reply, 201);
    assert_eq!(reply.1["project"], "p");
    assert_eq!(reply.1["name"], "classifier");
    assert_eq!(reply.1["description"], "v0");
    assert_eq!(reply.1["latest_version"], 0);
    assert_eq!(reply.1["aliases"], json!([]));
    assert_eq!(reply.1["created_by"], "local");
    expect_error(
        &api.post("/api/v1/projects/p/models", json!({"name": "classifier"}))
            .await?,
        409,
        "model_already_exists",
    );

    let reply = api
        .patch(
            "/api/v1/projects/p/models/classifier",
            json!({"description": "changed"}),
        )
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["description"], "changed");
    assert_eq!(reply.1["tags"], json!([]));
    // Tags alone keep the description; a bad tag changes nothing.
    let reply = api
        .patch(
            "/api/v1/projects/p/models/classifier",
            json!({"tags": [{"key": "domain", "value": "churn"}]}),
        )
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["description"], "changed");
    assert_eq!(
        reply.1["tags"],
        json!([{"key": "domain", "value": "churn"}])
    );
    let reply = api
        .patch(
            "/api/v1/projects/p/models/classifier",
            json!({"description": "lost?", "tags": [{"key": "", "value": "x"}]}),
        )
        .await?;
    expect_client_error(&reply);
    let reply = api.get("/api/v1/projects/p/models/classifier").await?;
    assert_eq!(
        reply.1["description"], "changed",
        "a refused update changes nothing"
    );

    // Version 1: a directory artifact of the run.
    let reply = api
        .post(
            "/api/v1/projects/p/models/classifier/versions",
            json!({"run_id": run, "artifact_path": "model", "description": "dir", "tags": [{"key": "stage", "value": "dev"}]}),
        )
        .await?;
    expect_status(&reply, 201);
    let v1 = reply.1.clone();
    assert_eq!(v1["project"], "p");
    assert_eq!(v1["model"], "classifier");
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["source_run_id"], run.as_str());
    assert_eq!(v1["source_path"], "model");
    assert_eq!(v1["status"], "READY");
    assert_eq!(v1["description"], "dir");
    assert_eq!(v1["tags"], json!([{"key": "stage", "value": "dev"}]));
    assert_eq!(v1["aliases"], json!([]));
    let files: Vec<(Value, Value)> = v1["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].clone(), f["byte_size"].clone()))
        .collect();
    assert_eq!(
        files,
        vec![
            (json!("config.json"), json!(2)),
            (json!("sub/vocab.txt"), json!(4)),
            (json!("weights.bin"), json!(1000))
        ]
    );

    // Version 2: one file artifact.
    let reply = api
        .post(
            "/api/v1/projects/p/models/classifier/versions",
            json!({"run_id": run, "artifact_path": "model.pkl"}),
        )
        .await?;
    expect_status(&reply, 201);
    assert_eq!(reply.1["version"], 2);
    assert_eq!(
        reply.1["files"]
            .as_array()
            .map(|f| f.iter().map(|f| f["path"].clone()).collect::<Vec<_>>()),
        Some(vec![json!("model.pkl")])
    );

    // Version 3: an uploaded file, with a run and a file name.
    let onnx = noise(4096, 5);
    let reply = api
        .send_bytes(
            Method::POST,
            &format!("/api/v1/projects/p/models/classifier/versions?file_name=model.onnx&run_id={run}&description=uploaded"),
            Some("application/octet-stream"),
            onnx.clone(),
        )
        .await?;
    expect_status(&reply, 201);
    assert_eq!(reply.1["version"], 3);
    assert_eq!(reply.1["source_run_id"], run.as_str());
    assert_eq!(reply.1["source_path"], Value::Null);
    assert_eq!(reply.1["description"], "uploaded");
    assert_eq!(reply.1["files"][0]["path"], "model.onnx");
    assert_eq!(reply.1["files"][0]["byte_size"], 4096);
    // Version 4: an upload without run or file name.
    let reply = api
        .send_bytes(
            Method::POST,
            "/api/v1/projects/p/models/classifier/versions",
            Some("application/octet-stream"),
            b"tiny".to_vec(),
        )
        .await?;
    expect_status(&reply, 201);
    assert_eq!(reply.1["version"], 4);
    assert_eq!(reply.1["source_run_id"], Value::Null);
    assert_eq!(reply.1["files"][0]["path"], "model.bin");

    let reply = api
        .get("/api/v1/projects/p/models/classifier/versions/1")
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1, v1);
    let versions = items(
        &api.get("/api/v1/projects/p/models/classifier/versions")
            .await?,
    );
    assert_eq!(
        versions
            .iter()
            .map(|v| v["version"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    let page = api
        .get("/api/v1/projects/p/models/classifier/versions?limit=3")
        .await?;
    assert_eq!(items(&page).len(), 3);
    let cursor = page.1["next_cursor"].as_str().unwrap().to_string();
    let rest = items(
        &api.get(&format!(
            "/api/v1/projects/p/models/classifier/versions?limit=3&cursor={cursor}"
        ))
        .await?,
    );
    assert_eq!(
        rest.iter()
            .map(|v| v["version"].clone())
            .collect::<Vec<_>>(),
        vec![json!(4)]
    );

    let reply = api
        .patch("/api/v1/projects/p/models/classifier/versions/1", json!({"description": "promoted", "tags": [{"key": "stage", "value": "prod"}, {"key": "owner", "value": "me"}]}))
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["description"], "promoted");
    assert_eq!(
        reply.1["tags"],
        json!([{"key": "owner", "value": "me"}, {"key": "stage", "value": "prod"}])
    );
    assert!(reply.1["updated_at"].as_i64() >= v1["updated_at"].as_i64());
    let reply = api
        .patch(
            "/api/v1/projects/p/models/classifier/versions/1",
            json!({"tags": []}),
        )
        .await?;
    assert_eq!(
        reply.1["description"], "promoted",
        "a missing description keeps it"
    );

    let (status, _, bytes) = api
        .download("/api/v1/projects/p/models/classifier/versions/1/files/weights.bin")
        .await?;
    assert_eq!(status, 200);
    assert!(bytes == noise(1000, 3), "model file bytes differ");
    let (status, _, bytes) = api
        .download("/api/v1/projects/p/models/classifier/versions/1/files/sub/vocab.txt")
        .await?;
    assert_eq!(status, 200);
    assert_eq!(bytes, b"a\nb\n");
    let (status, _, bytes) = api
        .download("/api/v1/projects/p/models/classifier/versions/3/files/model.onnx")
        .await?;
    assert_eq!(status, 200);
    assert!(bytes == onnx);
    let reply = api
        .get("/api/v1/projects/p/models/classifier/versions/1/files/nope.bin")
        .await?;
    expect_error(&reply, 404, "model_file_not_found");

    let reply = api.get("/api/v1/projects/p/models/classifier").await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["latest_version"], 4);
    api.model("p", "ranker").await?;
    let models = items(&api.get("/api/v1/projects/p/models").await?);
    assert_eq!(
        models.iter().map(|m| m["name"].clone()).collect::<Vec<_>>(),
        vec![json!("classifier"), json!("ranker")]
    );
    assert_eq!(models[0]["latest_version"], 4);

    // The run lists the model versions it produced.
    let detail = api.get(&format!("/api/v1/runs/{run}")).await?.1;
    assert_eq!(
        detail["outputs"]["models"],
        json!([
            {"model_version_id": v1["id"], "model": "classifier", "version": 1},
            {"model_version_id": v1["id"].as_i64().unwrap() + 1, "model": "classifier", "version": 2},
            {"model_version_id": v1["id"].as_i64().unwrap() + 2, "model": "classifier", "version": 3},
        ])
    );
    Ok(())
}

#[tokio::test]
async fn aliases_history_and_time_travel() -> Result<()> {
    let api = server()?;
    let run = run_with_model_artifacts(&api).await?;
    api.model("p", "m").await?;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let reply = api
            .post(
                "/api/v1/projects/p/models/m/versions",
                json!({"run_id": run, "artifact_path": "model.pkl"}),
            )
            .await?;
        expect_status(&reply, 201);
        ids.push(reply.1["id"].as_i64().unwrap());
    }
    let pause = || tokio::time::sleep(Duration::from_millis(25));

    let reply = api
        .put(
            "/api/v1/projects/p/models/m/aliases/champion",
            json!({"version": 1}),
        )
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["version"], 1);
    assert_eq!(reply.1["aliases"], json!(["champion"]));
    pause().await;
    let reply = api
        .put(
            "/api/v1/projects/p/models/m/aliases/champion",
            json!({"model_version_id": ids[1]}),
        )
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["version"], 2);
    // Setting the alias to where it points already records nothing.
    expect_status(
        &api.put(
            "/api/v1/projects/p/models/m/aliases/champion",
            json!({"version": 2}),
        )
        .await?,
        200,
    );
    pause().await;
    expect_status(
        &api.put(
            "/api/v1/projects/p/models/m/aliases/challenger",
            json!({"version": 3}),
        )
        .await?,
        200,
    );
    pause().await;
    expect_status(
        &api.put(
            "/api/v1/projects/p/models/m/aliases/champion",
            json!({"version": 3}),
        )
        .await?,
        200,
    );

    let reply = api
        .get("/api/v1/projects/p/models/m/aliases/champion")
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["version"], 3);
    assert_eq!(reply.1["aliases"], json!(["challenger", "champion"]));
    let model = api.get("/api/v1/projects/p/models/m").await?.1;
    let aliases: Vec<(Value, Value)> = model["aliases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["alias"].clone(), a["version"].clone()))
        .collect();
    assert_eq!(
        aliases,
        vec![
            (json!("challenger"), json!(3)),
            (json!("champion"), json!(3))
        ]
    );
    assert_eq!(model["aliases"][0]["set_by"], "local");
    assert_eq!(
        api.get("/api/v1/projects/p/models/m/versions/2").await?.1["aliases"],
        json!([])
    );

    pause().await;
    let reply = api
        .delete("/api/v1/projects/p/models/m/aliases/challenger")
        .await?;
    expect_status(&reply, 204);
    expect_error(
        &api.get("/api/v1/projects/p/models/m/aliases/challenger")
            .await?,
        404,
        "alias_not_found",
    );
    expect_error(
        &api.delete("/api/v1/projects/p/models/m/aliases/challenger")
            .await?,
        404,
        "alias_not_found",
    );

    let reply = api.get("/api/v1/projects/p/models/m/alias-history").await?;
    let history = items(&reply);
    let moves: Vec<(Value, Value, Value)> = history
        .iter()
        .map(|e| {
            (
                e["alias"].clone(),
                e["old_version"].clone(),
                e["new_version"].clone(),
            )
        })
        .collect();
    assert_eq!(
        moves,
        vec![
            (json!("champion"), Value::Null, json!(1)),
            (json!("champion"), json!(1), json!(2)),
            (json!("challenger"), Value::Null, json!(3)),
            (json!("champion"), json!(2), json!(3)),
            (json!("challenger"), json!(3), Value::Null),
        ]
    );
    assert!(history.iter().all(|e| e["actor"] == "local"), "{history:?}");
    let times: Vec<i64> = history.iter().map(|e| e["at"].as_i64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    let only = items(
        &api.get("/api/v1/projects/p/models/m/alias-history?alias=champion")
            .await?,
    );
    assert_eq!(only.len(), 3);
    assert!(only.iter().all(|e| e["alias"] == "champion"));
    let page = api
        .get("/api/v1/projects/p/models/m/alias-history?limit=2")
        .await?;
    assert_eq!(items(&page).len(), 2);
    let cursor = page.1["next_cursor"].as_str().unwrap().to_string();
    let rest = items(
        &api.get(&format!(
            "/api/v1/projects/p/models/m/alias-history?limit=10&cursor={cursor}"
        ))
        .await?,
    );
    assert_eq!(rest.len(), 3);
    assert_eq!(rest[0]["id"], history[2]["id"]);

    // Time travel: where did champion point at each moment?
    let at = |t: i64| format!("/api/v1/projects/p/models/m/aliases/champion?at={t}");
    expect_error(&api.get(&at(times[0] - 1)).await?, 404, "alias_not_found");
    assert_eq!(api.get(&at(times[0])).await?.1["version"], 1);
    assert_eq!(api.get(&at(times[1] - 1)).await?.1["version"], 1);
    assert_eq!(api.get(&at(times[1])).await?.1["version"], 2);
    assert_eq!(api.get(&at(times[3] - 1)).await?.1["version"], 2);
    assert_eq!(api.get(&at(times[3])).await?.1["version"], 3);
    let challenger_at = |t: i64| format!("/api/v1/projects/p/models/m/aliases/challenger?at={t}");
    assert_eq!(api.get(&challenger_at(times[4] - 1)).await?.1["version"], 3);
    expect_error(
        &api.get(&challenger_at(times[4])).await?,
        404,
        "alias_not_found",
    );
    Ok(())
}
