//! Bad input: every test asserts a 4xx, the one JSON error shape, and that nothing was stored.

use anyhow::Result;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use verity_tests::ServerOptions;

use crate::{
    Api, blob_files, csv_bytes, enc, expect_client_error, expect_error, expect_status, items,
    noise, parquet_bytes, server, tmp_files,
};

/// The number of projects the server lists.
async fn project_count(api: &Api) -> Result<usize> {
    Ok(items(&api.get("/api/v1/projects").await?).len())
}

/// A run's params, tags and latest metrics.
async fn run_data(api: &Api, run: &str) -> Result<(Value, Value, Value)> {
    let reply = api.get(&format!("/api/v1/runs/{run}")).await?;
    expect_status(&reply, 200);
    Ok((
        reply.1["params"].clone(),
        reply.1["tags"].clone(),
        reply.1["metrics"].clone(),
    ))
}

/// Asserts that a dataset has no versions and that no blob (or staged leftover) is on disk.
async fn assert_no_versions(api: &Api, project: &str, dataset: &str) -> Result<()> {
    let reply = api
        .get(&format!(
            "/api/v1/projects/{}/datasets/{}",
            enc(project),
            enc(dataset)
        ))
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["version_count"], 0, "{}", reply.1);
    assert!(
        items(
            &api.get(&format!(
                "/api/v1/projects/{}/datasets/{}/versions",
                enc(project),
                enc(dataset)
            ))
            .await?
        )
        .is_empty()
    );
    assert!(
        blob_files(api).is_empty(),
        "no blob stored: {:?}",
        blob_files(api)
    );
    assert!(
        tmp_files(api).is_empty(),
        "no staged leftovers: {:?}",
        tmp_files(api)
    );
    Ok(())
}

async fn post_raw_json(api: &Api, path: &str, text: &str) -> Result<(StatusCode, Value)> {
    api.send_bytes(
        Method::POST,
        path,
        Some("application/json"),
        text.as_bytes().to_vec(),
    )
    .await
}

#[tokio::test]
async fn malformed_json_is_400() -> Result<()> {
    let api = server()?;
    for text in [
        "{\"name\":",
        "{name: 'x'}",
        "not json",
        "",
        "{\"name\": \"x\"} trailing",
    ] {
        let reply = post_raw_json(&api, "/api/v1/projects", text).await?;
        let (code, _) = expect_client_error(&reply);
        assert_eq!(reply.0, 400, "{text:?}: {}", reply.1);
        assert!(
            code == "malformed_json" || code == "invalid_body",
            "{text:?}: {}",
            reply.1
        );
    }
    assert_eq!(project_count(&api).await?, 0);

    let (_, run) = api.project_with_run("p").await?;
    let reply = post_raw_json(
        &api,
        &format!("/api/v1/runs/{run}/batch"),
        "{\"metrics\": [{\"key\": \"a\", \"value\": 1}",
    )
    .await?;
    expect_error(&reply, 400, "malformed_json");
    assert_eq!(
        run_data(&api, &run).await?,
        (json!([]), json!([]), json!([]))
    );

    // The JSON forms of the upload routes too.
    api.dataset("p", "d").await?;
    let reply = post_raw_json(
        &api,
        "/api/v1/projects/p/datasets/d/versions",
        "{\"source_uri\": ",
    )
    .await?;
    expect_error(&reply, 400, "malformed_json");
    assert_no_versions(&api, "p", "d").await?;
    api.model("p", "m").await?;
    let reply = post_raw_json(&api, "/api/v1/projects/p/models/m/versions", "{\"run_id\"").await?;
    expect_error(&reply, 400, "malformed_json");
    assert_eq!(
        api.get("/api/v1/projects/p/models/m").await?.1["latest_version"],
        0
    );
    Ok(())
}

#[tokio::test]
async fn wrong_types_are_rejected() -> Result<()> {
    let api = server()?;
    let reply = api.post("/api/v1/projects", json!({"name": 5})).await?;
    let message = expect_error(&reply, 422, "invalid_body");
    assert!(
        message.contains("name"),
        "the message names the field: {message}"
    );
    let reply = api.post("/api/v1/projects", json!({"name": ["a"]})).await?;
    expect_client_error(&reply);
    let reply = api.post("/api/v1/projects", json!({"name": null})).await?;
    expect_client_error(&reply);
    let reply = api.post("/api/v1/projects", json!([{"name": "x"}])).await?;
    expect_client_error(&reply);
    assert_eq!(project_count(&api).await?, 0);

    let (exp, run) = api.project_with_run("p").await?;
    for body in [
        json!({"metrics": [{"key": "a", "value": true}]}),
        json!({"metrics": [{"key": "a", "value": "high"}]}),
        json!({"metrics": [{"key": "a", "value": 1, "step": "one"}]}),
        json!({"params": [{"key": "lr", "value": 0.1}]}),
        json!({"tags": {"key": "t", "value": "v"}}),
    ] {
        let reply = api
            .post(&format!("/api/v1/runs/{run}/batch"), body.clone())
            .await?;
        let (code, _) = expect_client_error(&reply);
        assert_eq!(code, "invalid_body", "{body}: {}", reply.1);
    }
    assert_eq!(
        run_data(&api, &run).await?,
        (json!([]), json!([]), json!([]))
    );
    let reply = api
        .patch(
            &format!("/api/v1/projects/p/experiments/{exp}"),
            json!({"name": 1}),
        )
        .await?;
    expect_client_error(&reply);
    assert_eq!(
        api.get(&format!("/api/v1/projects/p/experiments/{exp}"))
            .await?
            .1["name"],
        "exp"
    );
    Ok(())
}

#[tokio::test]
async fn unknown_fields_are_rejected() -> Result<()> {
    let api = server()?;
    let reply = api
        .post("/api/v1/projects", json!({"name": "x", "colour": "red"}))
        .await?;
    let message = expect_error(&reply, 422, "invalid_body");
    assert!(
        message.contains("colour"),
        "the message names the field: {message}"
    );
    assert_eq!(project_count(&api).await?, 0);

    let (_, run) = api.project_with_run("p").await?;
    let reply = api
        .post(
            &format!("/api/v1/runs/{run}/batch"),
            json!({"metrics": [{"key": "a", "value": 1, "unit": "s"}]}),
        )
        .await?;
    expect_client_error(&reply);
    let reply = api
        .post(
            &format!("/api/v1/runs/{run}/batch"),
            json!({"params": [], "artifacts": []}),
        )
        .await?;
    expect_client_error(&reply);
    assert_eq!(
        run_data(&api, &run).await?,
        (json!([]), json!([]), json!([]))
    );
    let reply = api
        .post(
            "/api/v1/projects/p/runs/search",
            json!({"filters": "metrics.a > 1"}),
        )
        .await?;
    expect_client_error(&reply);

    api.dataset("p", "d").await?;
    let reply = api
        .post(
            "/api/v1/projects/p/datasets/d/versions",
            json!({"source_uri": "s3://b/k.csv", "bucket": "b"}),
        )
        .await?;
    expect_client_error(&reply);
    assert_no_versions(&api, "p", "d").await?;
    Ok(())
}

#[tokio::test]
async fn json_without_content_type_is_415() -> Result<()> {
    let api = server()?;
    let reply = api
        .send_bytes(
            Method::POST,
            "/api/v1/projects",
            None,
            br#"{"name": "x"}"#.to_vec(),
        )
        .await?;
    expect_error(&reply, 415, "unsupported_media_type");
    assert_eq!(project_count(&api).await?, 0);
    Ok(())
}

#[tokio::test]
async fn unknown_project_is_404() -> Result<()> {
    let api = server()?;
    expect_error(
        &api.get("/api/v1/projects/nope").await?,
        404,
        "project_not_found",
    );
    expect_error(
        &api.patch("/api/v1/projects/nope", json!({"description": "x"}))
            .await?,
        404,
        "project_not_found",
    );
    expect_error(
        &api.post("/api/v1/projects/nope/experiments", json!({"name": "e"}))
            .await?,
        404,
        "project_not_found",
    );
    expect_error(
        &api.post("/api/v1/projects/nope/datasets", json!({"name": "d"}))
            .await?,
        404,
        "project_not_found",
    );
    expect_error(
        &api.post("/api/v1/projects/nope/models", json!({"name": "m"}))
            .await?,
        404,
        "project_not_found",
    );
    expect_error(
        &api.get("/api/v1/projects/nope/experiments").await?,
        404,
        "project_not_found",
    );
    expect_error(
        &api.get("/api/v1/projects/nope/datasets").await?,
        404,
        "project_not_found",
    );
    expect_error(
        &api.get("/api/v1/projects/nope/models").await?,
        404,
        "project_not_found",
    );
    expect_error(
        &api.post("/api/v1/projects/nope/runs/search", json!({}))
            .await?,
        404,
        "project_not_found",
    );
    assert_eq!(
        project_count(&api).await?,
        0,
        "nothing was created on the way"
    );
    Ok(())
}

#[tokio::test]
async fn unknown_experiment_is_404() -> Result<()> {
    let api = server()?;
    let (exp, _) = api.project_with_run("p").await?;
    api.project("q").await?;
    expect_error(
        &api.get("/api/v1/projects/p/experiments/999999").await?,
        404,
        "experiment_not_found",
    );
    // An experiment of another project is not found through this one.
    expect_error(
        &api.get(&format!("/api/v1/projects/q/experiments/{exp}"))
            .await?,
        404,
        "experiment_not_found",
    );
    expect_error(
        &api.patch(
            "/api/v1/projects/p/experiments/999999",
            json!({"name": "x"}),
        )
        .await?,
        404,
        "experiment_not_found",
    );
    expect_error(
        &api.delete("/api/v1/projects/p/experiments/999999").await?,
        404,
        "experiment_not_found",
    );
    expect_error(
        &api.post("/api/v1/projects/p/experiments/999999/restore", json!({}))
            .await?,
        404,
        "experiment_not_found",
    );
    expect_error(
        &api.post(
            "/api/v1/projects/p/experiments/999999/runs",
            json!({"name": "r"}),
        )
        .await?,
        404,
        "experiment_not_found",
    );
    expect_error(
        &api.post(
            &format!("/api/v1/projects/q/experiments/{exp}/runs"),
            json!({"name": "r"}),
        )
        .await?,
        404,
        "experiment_not_found",
    );
    let runs = items(
        &api.post("/api/v1/projects/p/runs/search", json!({"view": "all"}))
            .await?,
    );
    assert_eq!(runs.len(), 1, "no run was created: {runs:?}");
    assert!(
        items(
            &api.post("/api/v1/projects/q/runs/search", json!({"view": "all"}))
                .await?
        )
        .is_empty()
    );
    // A non-numeric experiment id is a bad path.
    expect_error(
        &api.get("/api/v1/projects/p/experiments/abc").await?,
        400,
        "invalid_path",
    );
    Ok(())
}

#[tokio::test]
async fn unknown_run_is_404() -> Result<()> {
    let api = server()?;
    api.project_with_run("p").await?;
    let nope = "0123456789abcdef0123456789abcdef";
    expect_error(
        &api.get(&format!("/api/v1/runs/{nope}")).await?,
        404,
        "run_not_found",
    );
    expect_error(
        &api.patch(
            &format!("/api/v1/runs/{nope}"),
            json!({"status": "FINISHED"}),
        )
        .await?,
        404,
        "run_not_found",
    );
    expect_error(
        &api.delete(&format!("/api/v1/runs/{nope}")).await?,
        404,
        "run_not_found",
    );
    expect_error(
        &api.post(&format!("/api/v1/runs/{nope}/restore"), json!({}))
            .await?,
        404,
        "run_not_found",
    );
    expect_error(
        &api.post(
            &format!("/api/v1/runs/{nope}/batch"),
            json!({"metrics": [{"key": "a", "value": 1}]}),
        )
        .await?,
        404,
        "run_not_found",
    );
    expect_error(
        &api.post(
            &format!("/api/v1/runs/{nope}/params"),
            json!({"key": "a", "value": "1"}),
        )
        .await?,
        404,
        "run_not_found",
    );
    expect_error(
        &api.post(
            &format!("/api/v1/runs/{nope}/tags"),
            json!({"key": "a", "value": "1"}),
        )
        .await?,
        404,
        "run_not_found",
    );
    expect_error(
        &api.post(
            &format!("/api/v1/runs/{nope}/metrics"),
            json!({"key": "a", "value": 1}),
        )
        .await?,
        404,
        "run_not_found",
    );
    expect_error(
        &api.get(&format!("/api/v1/runs/{nope}/metrics")).await?,
        404,
        "run_not_found",
    );
    expect_error(
        &api.get(&format!("/api/v1/runs/{nope}/metric-history?key=a"))
            .await?,
        404,
        "run_not_found",
    );
    expect_error(
        &api.get(&format!(
            "/api/v1/runs/{nope}/metric-history/downsampled?key=a"
        ))
        .await?,
        404,
        "run_not_found",
    );
    expect_error(
        &api.get(&format!("/api/v1/runs/{nope}/artifacts")).await?,
        404,
        "run_not_found",
    );
    expect_error(
        &api.put_artifact(nope, "a.txt", b"bytes".to_vec()).await?,
        404,
        "run_not_found",
    );
    expect_error(
        &api.get(&format!("/api/v1/runs/{nope}/openlineage")).await?,
        404,
        "run_not_found",
    );
    assert!(
        blob_files(&api).is_empty(),
        "no artifact stored: {:?}",
        blob_files(&api)
    );
    api.model("p", "m").await?;
    let reply = api
        .post(
            "/api/v1/projects/p/models/m/versions",
            json!({"run_id": nope, "artifact_path": "model.pkl"}),
        )
        .await?;
    expect_error(&reply, 404, "run_not_found");
    assert_eq!(
        api.get("/api/v1/projects/p/models/m").await?.1["latest_version"],
        0
    );
    Ok(())
}

#[tokio::test]
async fn unknown_model_is_404() -> Result<()> {
    let api = server()?;
    let (_, run) = api.project_with_run("p").await?;
    expect_status(
        &api.put_artifact(&run, "model.pkl", b"m".to_vec()).await?,
        200,
    );
    api.model("p", "m").await?;
    expect_error(
        &api.get("/api/v1/projects/p/models/nope").await?,
        404,
        "model_not_found",
    );
    expect_error(
        &api.patch(
            "/api/v1/projects/p/models/nope",
            json!({"description": "x"}),
        )
        .await?,
        404,
        "model_not_found",
    );
    expect_error(
        &api.get("/api/v1/projects/p/models/nope/versions").await?,
        404,
        "model_not_found",
    );
    let reply = api
        .post(
            "/api/v1/projects/p/models/nope/versions",
            json!({"run_id": run, "artifact_path": "model.pkl"}),
        )
        .await?;
    expect_error(&reply, 404, "model_not_found");
    let reply = api
        .send_bytes(
            Method::POST,
            "/api/v1/projects/p/models/nope/versions",
            Some("application/octet-stream"),
            b"bytes".to_vec(),
        )
        .await?;
    expect_error(&reply, 404, "model_not_found");
    expect_error(
        &api.put(
            "/api/v1/projects/p/models/nope/aliases/prod",
            json!({"version": 1}),
        )
        .await?,
        404,
        "model_not_found",
    );
    expect_error(
        &api.get("/api/v1/projects/p/models/nope/alias-history")
            .await?,
        404,
        "model_not_found",
    );
    // Unknown versions of a known model.
    expect_error(
        &api.get("/api/v1/projects/p/models/m/versions/7").await?,
        404,
        "model_version_not_found",
    );
    expect_error(
        &api.patch(
            "/api/v1/projects/p/models/m/versions/7",
            json!({"description": "x"}),
        )
        .await?,
        404,
        "model_version_not_found",
    );
    expect_error(
        &api.get("/api/v1/projects/p/models/m/versions/7/files/model.pkl")
            .await?,
        404,
        "model_version_not_found",
    );
    expect_error(
        &api.put(
            "/api/v1/projects/p/models/m/aliases/prod",
            json!({"version": 7}),
        )
        .await?,
        404,
        "model_version_not_found",
    );
    expect_error(
        &api.put(
            "/api/v1/projects/p/models/m/aliases/prod",
            json!({"model_version_id": 999_999}),
        )
        .await?,
        404,
        "model_version_not_found",
    );
    expect_error(
        &api.get("/api/v1/projects/p/models/m/aliases/prod").await?,
        404,
        "alias_not_found",
    );
    let model = api.get("/api/v1/projects/p/models/m").await?.1;
    assert_eq!(model["latest_version"], 0);
    assert_eq!(model["aliases"], json!([]));
    assert!(items(&api.get("/api/v1/projects/p/models/m/alias-history").await?).is_empty());
    let models = items(&api.get("/api/v1/projects/p/models").await?);
    assert_eq!(models.len(), 1, "{models:?}");
    Ok(())
}

#[tokio::test]
async fn unknown_dataset_or_dataset_version_is_404() -> Result<()> {
    let api = server()?;
    let (_, run) = api.project_with_run("p").await?;
    api.dataset("p", "d").await?;
    expect_error(
        &api.get("/api/v1/projects/p/datasets/nope").await?,
        404,
        "dataset_not_found",
    );
    expect_error(
        &api.get("/api/v1/projects/p/datasets/nope/versions").await?,
        404,
        "dataset_not_found",
    );
    let reply = api
        .upload_version("p", "nope", Some("text/csv"), csv_bytes(3, "x"))
        .await?;
    expect_error(&reply, 404, "dataset_not_found");
    expect_error(
        &api.get("/api/v1/dataset-versions/999999").await?,
        404,
        "dataset_version_not_found",
    );
    expect_error(
        &api.get("/api/v1/projects/p/datasets/d/versions/1").await?,
        404,
        "dataset_version_not_found",
    );
    expect_error(
        &api.get("/api/v1/projects/p/datasets/d/versions/1/schema")
            .await?,
        404,
        "dataset_version_not_found",
    );
    expect_error(
        &api.get("/api/v1/projects/p/datasets/d/versions/1/content")
            .await?,
        404,
        "dataset_version_not_found",
    );
    let reply = api
        .post(
            &format!("/api/v1/runs/{run}/inputs"),
            json!({"dataset_version_id": 999_999, "context": "training"}),
        )
        .await?;
    expect_error(&reply, 404, "dataset_version_not_found");
    let reply = api
        .post(
            &format!("/api/v1/runs/{run}/outputs"),
            json!({"dataset_version_id": 999_999}),
        )
        .await?;
    expect_error(&reply, 404, "dataset_version_not_found");
    expect_error(
        &api.get("/api/v1/lineage?kind=dataset_version&id=999999")
            .await?,
        404,
        "dataset_version_not_found",
    );
    // A version derived from a version that does not exist.
    let reply = api
        .send_bytes(
            Method::POST,
            "/api/v1/projects/p/datasets/d/versions?derived_from=999999",
            Some("text/csv"),
            csv_bytes(3, "x"),
        )
        .await?;
    expect_error(&reply, 404, "dataset_version_not_found");
    let detail = api.get(&format!("/api/v1/runs/{run}")).await?.1;
    assert_eq!(detail["inputs"], json!([]));
    assert_eq!(detail["outputs"]["datasets"], json!([]));
    assert_no_versions(&api, "p", "d").await?;
    Ok(())
}

/// Tries a bad name on every entity that has one; asserts 400 and that nothing changed.
async fn check_bad_name(name: &str, fragment: &str) -> Result<()> {
    let api = server()?;
    let reply = api.post("/api/v1/projects", json!({"name": name})).await?;
    let message = expect_error(&reply, 400, "invalid_argument");
    assert!(message.contains(fragment), "{name:?}: {message}");
    assert_eq!(project_count(&api).await?, 0);

    let (exp, run) = api.project_with_run("p").await?;
    for (path, what) in [
        ("/api/v1/projects/p/experiments", "experiment"),
        ("/api/v1/projects/p/datasets", "dataset"),
        ("/api/v1/projects/p/models", "model"),
    ] {
        let reply = api.post(path, json!({"name": name})).await?;
        let message = expect_error(&reply, 400, "invalid_argument");
        assert!(message.contains(fragment), "{what} {name:?}: {message}");
    }
    let reply = api
        .post(
            &format!("/api/v1/projects/p/experiments/{exp}/runs"),
            json!({"name": name}),
        )
        .await?;
    expect_error(&reply, 400, "invalid_argument");
    let reply = api
        .patch(
            &format!("/api/v1/projects/p/experiments/{exp}"),
            json!({"name": name}),
        )
        .await?;
    expect_error(&reply, 400, "invalid_argument");
    let reply = api
        .patch(&format!("/api/v1/runs/{run}"), json!({"name": name}))
        .await?;
    expect_error(&reply, 400, "invalid_argument");

    assert_eq!(project_count(&api).await?, 1);
    assert_eq!(
        items(&api.get("/api/v1/projects/p/experiments?view=all").await?).len(),
        1
    );
    assert_eq!(
        api.get(&format!("/api/v1/projects/p/experiments/{exp}"))
            .await?
            .1["name"],
        "exp"
    );
    assert!(items(&api.get("/api/v1/projects/p/datasets").await?).is_empty());
    assert!(items(&api.get("/api/v1/projects/p/models").await?).is_empty());
    let runs = items(
        &api.post("/api/v1/projects/p/runs/search", json!({"view": "all"}))
            .await?,
    );
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["run_id"], run.as_str());
    assert!(
        runs[0]["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("run-")),
        "run name unchanged: {}",
        runs[0]
    );
    Ok(())
}

#[tokio::test]
async fn empty_names_are_rejected() -> Result<()> {
    check_bad_name("", "empty").await
}

#[tokio::test]
async fn too_long_names_are_rejected() -> Result<()> {
    check_bad_name(&"x".repeat(300), "longer than 256").await
}

#[tokio::test]
async fn names_with_control_characters_are_rejected() -> Result<()> {
    check_bad_name("a\u{7}b", "control").await?;
    check_bad_name("tab\there", "control").await
}

#[tokio::test]
async fn names_with_a_slash_are_rejected() -> Result<()> {
    check_bad_name("a/b", "'/'").await
}

/// Asserts a run still has no artifacts and nothing reached the blob store.
async fn assert_no_artifacts(api: &Api, run: &str) -> Result<()> {
    let reply = api.get(&format!("/api/v1/runs/{run}/artifacts")).await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["files"], json!([]));
    assert!(blob_files(api).is_empty(), "{:?}", blob_files(api));
    assert!(tmp_files(api).is_empty(), "{:?}", tmp_files(api));
    Ok(())
}

#[tokio::test]
async fn artifact_path_with_dot_dot_is_rejected() -> Result<()> {
    let api = server()?;
    let (_, run) = api.project_with_run("p").await?;
    // Byte for byte over TCP: HTTP clients would normalise these away.
    for path in [
        "%2E%2E/x",
        "../x",
        "a/%2E%2E/b",
        "a/../../x",
        "%2e%2e/%2e%2e/etc/passwd",
        "./x",
    ] {
        let reply = api
            .raw(
                "PUT",
                &format!("/api/v1/runs/{run}/artifacts/{path}"),
                b"evil",
            )
            .await?;
        let message = expect_error(&reply, 400, "invalid_argument");
        assert!(message.contains(".."), "{path}: {message}");
        let reply = api
            .raw("GET", &format!("/api/v1/runs/{run}/artifacts/{path}"), b"")
            .await?;
        expect_error(&reply, 400, "invalid_argument");
    }
    // Through a client, with the slash encoded as well so nothing normalises it.
    let reply = api
        .put_artifact(&run, "%2E%2E%2Fx", b"evil".to_vec())
        .await?;
    expect_error(&reply, 400, "invalid_argument");
    assert_no_artifacts(&api, &run).await?;
    let reply = api
        .get(&format!(
            "/api/v1/runs/{run}/artifacts?path={}",
            enc("../x")
        ))
        .await?;
    expect_error(&reply, 400, "invalid_argument");
    // Model versions take paths too.
    api.model("p", "m").await?;
    let reply = api
        .post(
            "/api/v1/projects/p/models/m/versions",
            json!({"run_id": run, "artifact_path": "../x"}),
        )
        .await?;
    expect_error(&reply, 400, "invalid_argument");
    let reply = api
        .send_bytes(
            Method::POST,
            "/api/v1/projects/p/models/m/versions?file_name=..%2Fx",
            Some("application/octet-stream"),
            b"evil".to_vec(),
        )
        .await?;
    expect_error(&reply, 400, "invalid_argument");
    assert_eq!(
        api.get("/api/v1/projects/p/models/m").await?.1["latest_version"],
        0
    );
    assert_no_artifacts(&api, &run).await?;
    Ok(())
}

#[tokio::test]
async fn absolute_artifact_path_is_rejected() -> Result<()> {
    let api = server()?;
    let (_, run) = api.project_with_run("p").await?;
    let reply = api
        .put_artifact(&run, "%2Fetc%2Fpasswd", b"evil".to_vec())
        .await?;
    let message = expect_error(&reply, 400, "invalid_argument");
    assert!(message.contains("relative"), "{message}");
    let reply = api
        .raw(
            "PUT",
            &format!("/api/v1/runs/{run}/artifacts/%2Fetc%2Fpasswd"),
            b"evil",
        )
        .await?;
    expect_error(&reply, 400, "invalid_argument");
    for path in ["C:%2Fwindows", "a%5Cb"] {
        let reply = api.put_artifact(&run, path, b"evil".to_vec()).await?;
        expect_error(&reply, 400, "invalid_argument");
    }
    let reply = api
        .get(&format!("/api/v1/runs/{run}/artifacts/%2Fetc%2Fpasswd"))
        .await?;
    expect_error(&reply, 400, "invalid_argument");
    assert_no_artifacts(&api, &run).await?;
    Ok(())
}

#[tokio::test]
async fn artifact_path_with_nul_is_rejected() -> Result<()> {
    let api = server()?;
    let (_, run) = api.project_with_run("p").await?;
    let reply = api.put_artifact(&run, "a%00b", b"evil".to_vec()).await?;
    let message = expect_error(&reply, 400, "invalid_argument");
    assert!(message.contains("NUL"), "{message}");
    let reply = api.put_artifact(&run, "a%0Ab", b"evil".to_vec()).await?;
    expect_error(&reply, 400, "invalid_argument");
    let reply = api.put_artifact(&run, "a//b", b"evil".to_vec()).await?;
    expect_error(&reply, 400, "invalid_argument");
    assert_no_artifacts(&api, &run).await?;
    Ok(())
}

#[tokio::test]
async fn csv_with_ragged_rows_is_rejected() -> Result<()> {
    let api = server()?;
    api.project("p").await?;
    api.dataset("p", "d").await?;
    let reply = api
        .upload_version(
            "p",
            "d",
            Some("text/csv"),
            b"a,b,c\n1,2,3\n4,5\n6,7,8\n".to_vec(),
        )
        .await?;
    let message = expect_error(&reply, 400, "invalid_argument");
    assert!(message.contains("CSV"), "{message}");
    // Sniffed as CSV from a generic content type: same answer.
    let reply = api
        .upload_version(
            "p",
            "d",
            Some("application/octet-stream"),
            b"a,b\n1,2,3,4\n".to_vec(),
        )
        .await?;
    expect_error(&reply, 400, "invalid_argument");
    assert_no_versions(&api, "p", "d").await
}

#[tokio::test]
async fn csv_with_invalid_utf8_is_rejected() -> Result<()> {
    let api = server()?;
    api.project("p").await?;
    api.dataset("p", "d").await?;
    let mut bytes = b"name,value\nok,1\n".to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe, 0xc3, 0x28, b',', b'2', b'\n']);
    let reply = api
        .upload_version("p", "d", Some("text/csv"), bytes)
        .await?;
    let message = expect_error(&reply, 400, "invalid_argument");
    assert!(message.contains("CSV"), "{message}");
    // Binary noise declared as CSV, and an empty body.
    expect_error(
        &api.upload_version("p", "d", Some("text/csv"), noise(2000, 9))
            .await?,
        400,
        "invalid_argument",
    );
    expect_error(
        &api.upload_version("p", "d", Some("text/csv"), Vec::new())
            .await?,
        400,
        "invalid_argument",
    );
    assert_no_versions(&api, "p", "d").await
}

#[tokio::test]
async fn truncated_parquet_is_rejected() -> Result<()> {
    let api = server()?;
    api.project("p").await?;
    api.dataset("p", "d").await?;
    let whole = parquet_bytes(500)?;
    for cut in [1, 8, 100, whole.len() / 2] {
        let truncated = whole[..whole.len() - cut].to_vec();
        let reply = api
            .upload_version(
                "p",
                "d",
                Some("application/vnd.apache.parquet"),
                truncated.clone(),
            )
            .await?;
        let message = expect_error(&reply, 400, "invalid_argument");
        assert!(message.contains("Parquet"), "cut {cut}: {message}");
        // Sniffed by its PAR1 head, still refused.
        expect_client_error(&api.upload_version("p", "d", None, truncated).await?);
    }
    // Garbage with a valid head and tail magic but a broken footer.
    let mut fake = b"PAR1".to_vec();
    fake.extend_from_slice(&noise(100, 4));
    fake.extend_from_slice(&50u32.to_le_bytes());
    fake.extend_from_slice(b"PAR1");
    expect_error(
        &api.upload_version("p", "d", Some("application/vnd.apache.parquet"), fake)
            .await?,
        400,
        "invalid_argument",
    );
    // CSV declared as Parquet.
    expect_error(
        &api.upload_version(
            "p",
            "d",
            Some("application/vnd.apache.parquet"),
            csv_bytes(5, "x"),
        )
        .await?,
        400,
        "invalid_argument",
    );
    assert_no_versions(&api, "p", "d").await
}

#[tokio::test]
async fn unknown_format_is_rejected() -> Result<()> {
    let api = server()?;
    api.project("p").await?;
    api.dataset("p", "d").await?;
    let reply = api
        .send_bytes(
            Method::POST,
            "/api/v1/projects/p/datasets/d/versions?format=xlsx",
            Some("text/csv"),
            csv_bytes(3, "x"),
        )
        .await?;
    let message = expect_error(&reply, 400, "invalid_argument");
    assert!(message.contains("xlsx"), "{message}");
    assert_no_versions(&api, "p", "d").await
}

/// Two runs with params and metrics.
async fn searchable(api: &Api) -> Result<()> {
    let (exp, run) = api.project_with_run("p").await?;
    api.batch(
        &run,
        json!({"params": [{"key": "x", "value": "1"}], "metrics": [{"key": "acc", "value": 0.5}]}),
    )
    .await?;
    let second = api.run("p", exp, json!({})).await?;
    api.batch(&second, json!({"params": [{"key": "x", "value": "2"}]}))
        .await?;
    Ok(())
}

#[tokio::test]
async fn filter_with_unterminated_string_is_400_with_position() -> Result<()> {
    let api = server()?;
    searchable(&api).await?;
    let reply = api
        .post(
            "/api/v1/projects/p/runs/search",
            json!({"filter": "params.x = 'abc"}),
        )
        .await?;
    let message = expect_error(&reply, 400, "invalid_filter");
    assert!(message.contains("unterminated string"), "{message}");
    assert!(
        message.contains("position 11"),
        "the message names the position: {message}"
    );
    let reply = api
        .post(
            "/api/v1/projects/p/runs/search",
            json!({"filter": "metrics.acc > 0.1 AND tags.\"t = 'b'"}),
        )
        .await?;
    let message = expect_error(&reply, 400, "invalid_filter");
    assert!(message.contains("position 27"), "{message}");
    let reply = api
        .post(
            "/api/v1/projects/p/runs/search",
            json!({"order_by": ["metrics.acc SIDEWAYS"]}),
        )
        .await?;
    let message = expect_error(&reply, 400, "invalid_argument");
    assert!(message.contains("position"), "{message}");
    assert_eq!(
        items(
            &api.post("/api/v1/projects/p/runs/search", json!({}))
                .await?
        )
        .len(),
        2
    );
    Ok(())
}

#[tokio::test]
async fn filter_injection_attempt_is_400() -> Result<()> {
    let api = server()?;
    searchable(&api).await?;
    for filter in [
        "params.x = '1' OR 1=1 --",
        "params.x = '1'; DROP TABLE runs",
        "params.x = '1' UNION SELECT * FROM runs",
        "metrics.acc > 0 --",
        "params.`x` = '1' /* comment */",
    ] {
        let reply = api
            .post("/api/v1/projects/p/runs/search", json!({"filter": filter}))
            .await?;
        let message = expect_error(&reply, 400, "invalid_filter");
        assert!(message.contains("position"), "{filter}: {message}");
    }
    // Nothing was dropped or changed: the runs and their data are all there.
    let runs = items(
        &api.post("/api/v1/projects/p/runs/search", json!({}))
            .await?,
    );
    assert_eq!(runs.len(), 2);
    let one = items(
        &api.post(
            "/api/v1/projects/p/runs/search",
            json!({"filter": "params.x = '1'"}),
        )
        .await?,
    );
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["metrics"][0]["value"], 0.5);
    // A key that is SQL is only a key.
    let none = items(
        &api.post(
            "/api/v1/projects/p/runs/search",
            json!({"filter": "params.`x' OR '1'='1` = '1'"}),
        )
        .await?,
    );
    assert!(none.is_empty(), "{none:?}");
    Ok(())
}

#[tokio::test]
async fn json_body_over_the_limit_is_413() -> Result<()> {
    let api = Api::start(ServerOptions {
        max_body_bytes: Some(1024),
        ..ServerOptions::default()
    })?;
    let (_, run) = api.project_with_run("p").await?;
    let metrics: Vec<Value> = (0..400)
        .map(|i| json!({"key": "loss", "value": i, "step": i}))
        .collect();
    let body = json!({"metrics": metrics, "params": [{"key": "lr", "value": "0.1"}]});
    assert!(body.to_string().len() > 10_000);
    let reply = api.post(&format!("/api/v1/runs/{run}/batch"), body).await?;
    expect_error(&reply, 413, "payload_too_large");
    assert_eq!(
        run_data(&api, &run).await?,
        (json!([]), json!([]), json!([]))
    );
    expect_error(
        &api.get(&format!("/api/v1/runs/{run}/metric-history?key=loss"))
            .await?,
        404,
        "metric_not_found",
    );
    // A small batch still goes through.
    api.batch(&run, json!({"metrics": [{"key": "loss", "value": 1}]}))
        .await?;
    // Uploads are bounded by max_upload_bytes, not by the JSON limit.
    api.dataset("p", "d").await?;
    let reply = api
        .upload_version("p", "d", Some("text/csv"), csv_bytes(500, "big"))
        .await?;
    expect_status(&reply, 201);
    Ok(())
}

#[tokio::test]
async fn json_registration_body_respects_max_body_bytes() -> Result<()> {
    // `--max-body-bytes` is "the largest JSON request body"; the JSON forms of
    // POST .../datasets/{d}/versions and POST .../models/{m}/versions must honour it too.
    let api = Api::start(ServerOptions {
        max_body_bytes: Some(1024),
        ..ServerOptions::default()
    })?;
    let (_, run) = api.project_with_run("p").await?;
    api.dataset("p", "d").await?;
    api.model("p", "m").await?;
    let big = "x".repeat(4096);
    let reply = api
        .post(
            "/api/v1/projects/p/datasets/d/versions",
            json!({"source_uri": "memory://bucket/k.csv", "description": big}),
        )
        .await?;
    expect_error(&reply, 413, "payload_too_large");
    let reply = api
        .post(
            "/api/v1/projects/p/models/m/versions",
            json!({"run_id": run, "artifact_path": "m.pkl", "description": big}),
        )
        .await?;
    expect_error(&reply, 413, "payload_too_large");
    assert_no_versions(&api, "p", "d").await?;
    assert_eq!(
        api.get("/api/v1/projects/p/models/m").await?.1["latest_version"],
        0
    );
    Ok(())
}

#[tokio::test]
async fn upload_over_the_limit_is_413() -> Result<()> {
    let api = Api::start(ServerOptions {
        max_upload_bytes: Some(1000),
        ..ServerOptions::default()
    })?;
    let (_, run) = api.project_with_run("p").await?;
    api.dataset("p", "d").await?;
    let bytes = csv_bytes(300, "five-kilobytes");
    assert!(bytes.len() > 5000);
    let reply = api
        .upload_version("p", "d", Some("text/csv"), bytes)
        .await?;
    expect_error(&reply, 413, "payload_too_large");
    assert_no_versions(&api, "p", "d").await?;

    let reply = api.put_artifact(&run, "big.bin", noise(5000, 1)).await?;
    expect_error(&reply, 413, "payload_too_large");
    assert_no_artifacts(&api, &run).await?;

    api.model("p", "m").await?;
    let reply = api
        .send_bytes(
            Method::POST,
            "/api/v1/projects/p/models/m/versions",
            Some("application/octet-stream"),
            noise(5000, 2),
        )
        .await?;
    expect_error(&reply, 413, "payload_too_large");
    assert_eq!(
        api.get("/api/v1/projects/p/models/m").await?.1["latest_version"],
        0
    );
    assert!(
        blob_files(&api).is_empty() && tmp_files(&api).is_empty(),
        "{:?} {:?}",
        blob_files(&api),
        tmp_files(&api)
    );

    // Exactly at the limit is fine.
    let reply = api.put_artifact(&run, "fits.bin", noise(1000, 3)).await?;
    expect_status(&reply, 200);
    Ok(())
}

#[tokio::test]
async fn second_param_value_is_409_and_the_batch_is_atomic() -> Result<()> {
    let api = server()?;
    let (_, run) = api.project_with_run("p").await?;
    api.batch(
        &run,
        json!({"params": [{"key": "lr", "value": "0.1"}], "tags": [{"key": "t", "value": "1"}]}),
    )
    .await?;
    let before = run_data(&api, &run).await?;

    let reply = api
        .post(
            &format!("/api/v1/runs/{run}/batch"),
            json!({
                "params": [{"key": "epochs", "value": "5"}, {"key": "lr", "value": "0.2"}],
                "tags": [{"key": "t", "value": "2"}],
                "metrics": [{"key": "acc", "value": 0.9, "step": 1}],
            }),
        )
        .await?;
    let message = expect_error(&reply, 409, "conflict");
    assert!(message.contains("lr"), "{message}");
    assert_eq!(
        run_data(&api, &run).await?,
        before,
        "no param, tag or metric of the failed batch is stored"
    );
    expect_error(
        &api.get(&format!("/api/v1/runs/{run}/metric-history?key=acc"))
            .await?,
        404,
        "metric_not_found",
    );

    // The single-param route too; and two values for one key within one batch.
    expect_error(
        &api.post(
            &format!("/api/v1/runs/{run}/params"),
            json!({"key": "lr", "value": "0.3"}),
        )
        .await?,
        409,
        "conflict",
    );
    let reply = api
        .post(
            &format!("/api/v1/runs/{run}/batch"),
            json!({"params": [{"key": "wd", "value": "1"}, {"key": "wd", "value": "2"}], "metrics": [{"key": "acc", "value": 1}]}),
        )
        .await?;
    expect_error(&reply, 409, "conflict");
    assert_eq!(run_data(&api, &run).await?, before);

    // Invalid keys fail the whole batch as well.
    let reply = api
        .post(&format!("/api/v1/runs/{run}/batch"), json!({"params": [{"key": "a$b", "value": "1"}], "metrics": [{"key": "acc", "value": 1}]}))
        .await?;
    expect_error(&reply, 400, "invalid_argument");
    let reply = api
        .post(
            &format!("/api/v1/runs/{run}/batch"),
            json!({"metrics": [{"key": "../acc", "value": 1}]}),
        )
        .await?;
    expect_error(&reply, 400, "invalid_argument");
    let reply = api
        .post(
            &format!("/api/v1/runs/{run}/batch"),
            json!({"tags": [{"key": "t", "value": "x".repeat(8001)}]}),
        )
        .await?;
    expect_error(&reply, 400, "invalid_argument");
    assert_eq!(run_data(&api, &run).await?, before);
    Ok(())
}

/// Model `a` and `b` with one version each, from one run; returns the id of b's version.
async fn two_models(api: &Api) -> Result<i64> {
    let (_, run) = api.project_with_run("p").await?;
    expect_status(
        &api.put_artifact(&run, "model.pkl", b"m".to_vec()).await?,
        200,
    );
    let mut b_id = 0;
    for model in ["a", "b"] {
        api.model("p", model).await?;
        let reply = api
            .post(
                &format!("/api/v1/projects/p/models/{model}/versions"),
                json!({"run_id": run, "artifact_path": "model.pkl"}),
            )
            .await?;
        expect_status(&reply, 201);
        b_id = reply.1["id"].as_i64().unwrap();
    }
    Ok(b_id)
}

async fn assert_no_aliases(api: &Api, model: &str) -> Result<()> {
    let reply = api
        .get(&format!("/api/v1/projects/p/models/{model}"))
        .await?;
    assert_eq!(reply.1["aliases"], json!([]), "{}", reply.1);
    assert!(
        items(
            &api.get(&format!("/api/v1/projects/p/models/{model}/alias-history"))
                .await?
        )
        .is_empty()
    );
    Ok(())
}

#[tokio::test]
async fn alias_to_another_models_version_is_409() -> Result<()> {
    let api = server()?;
    let b_version = two_models(&api).await?;
    let reply = api
        .put(
            "/api/v1/projects/p/models/a/aliases/prod",
            json!({"model_version_id": b_version}),
        )
        .await?;
    let message = expect_error(&reply, 409, "conflict");
    assert!(message.contains("another model"), "{message}");
    assert_no_aliases(&api, "a").await?;
    assert_no_aliases(&api, "b").await
}

#[tokio::test]
async fn reserved_alias_is_400() -> Result<()> {
    let api = server()?;
    two_models(&api).await?;
    for alias in ["latest", "LATEST", "v1", "V12", "has%20space", "dot.ted"] {
        let reply = api
            .put(
                &format!("/api/v1/projects/p/models/a/aliases/{alias}"),
                json!({"version": 1}),
            )
            .await?;
        expect_error(&reply, 400, "invalid_argument");
    }
    let reply = api
        .put(
            "/api/v1/projects/p/models/a/aliases/latest",
            json!({"version": 1}),
        )
        .await?;
    let message = expect_error(&reply, 400, "invalid_argument");
    assert!(message.contains("reserved"), "{message}");
    assert_no_aliases(&api, "a").await
}

#[tokio::test]
async fn alias_without_exactly_one_version_is_400() -> Result<()> {
    let api = server()?;
    let b_version = two_models(&api).await?;
    let reply = api
        .put("/api/v1/projects/p/models/a/aliases/prod", json!({}))
        .await?;
    let message = expect_error(&reply, 400, "invalid_argument");
    assert!(message.contains("exactly one"), "{message}");
    let reply = api
        .put(
            "/api/v1/projects/p/models/a/aliases/prod",
            json!({"version": 1, "model_version_id": b_version - 1}),
        )
        .await?;
    expect_error(&reply, 400, "invalid_argument");
    assert_no_aliases(&api, "a").await
}

#[tokio::test]
async fn invalid_run_status_is_400() -> Result<()> {
    let api = server()?;
    let (_, run) = api.project_with_run("p").await?;
    for status in ["DONE", "finished", ""] {
        let reply = api
            .patch(
                &format!("/api/v1/runs/{run}"),
                json!({"status": status, "name": "changed"}),
            )
            .await?;
        let message = expect_error(&reply, 400, "invalid_argument");
        assert!(message.contains("status"), "{message}");
    }
    let reply = api
        .patch(&format!("/api/v1/runs/{run}"), json!({"end_time": 0}))
        .await?;
    expect_error(&reply, 400, "invalid_argument");
    let detail = api.get(&format!("/api/v1/runs/{run}")).await?.1;
    assert_eq!(detail["status"], "RUNNING");
    assert_eq!(detail["end_time"], Value::Null);
    assert!(
        detail["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("run-")),
        "{detail}"
    );
    Ok(())
}

#[tokio::test]
async fn page_limit_out_of_range_is_400() -> Result<()> {
    let api = server()?;
    let (_, run) = api.project_with_run("p").await?;
    for limit in ["0", "5000", "-1", "ten"] {
        for path in [
            "/api/v1/projects",
            "/api/v1/projects/p/experiments",
            "/api/v1/projects/p/datasets",
            "/api/v1/projects/p/models",
        ] {
            let reply = api.get(&format!("{path}?limit={limit}")).await?;
            expect_client_error(&reply);
            assert_eq!(reply.0, 400, "{path}?limit={limit}: {}", reply.1);
        }
    }
    let message = expect_error(
        &api.get("/api/v1/projects?limit=0").await?,
        400,
        "invalid_argument",
    );
    assert!(message.contains("limit"), "{message}");
    for limit in [0, 5000] {
        expect_error(
            &api.post("/api/v1/projects/p/runs/search", json!({"limit": limit}))
                .await?,
            400,
            "invalid_argument",
        );
    }
    api.batch(&run, json!({"metrics": [{"key": "a", "value": 1}]}))
        .await?;
    expect_error(
        &api.get(&format!("/api/v1/runs/{run}/metric-history?key=a&limit=0"))
            .await?,
        400,
        "invalid_argument",
    );
    expect_error(
        &api.get(&format!(
            "/api/v1/runs/{run}/metric-history?key=a&limit=100001"
        ))
        .await?,
        400,
        "invalid_argument",
    );
    assert_eq!(project_count(&api).await?, 1);
    Ok(())
}

#[tokio::test]
async fn garbage_cursor_is_400() -> Result<()> {
    let api = server()?;
    let (_, run) = api.project_with_run("p").await?;
    api.batch(&run, json!({"metrics": [{"key": "a", "value": 1}]}))
        .await?;
    for cursor in ["garbage", "!!!", "djI6MQ", "v1:1"] {
        let c = enc(cursor);
        for path in [
            format!("/api/v1/projects?cursor={c}"),
            format!("/api/v1/projects/p/experiments?cursor={c}"),
            format!("/api/v1/runs/{run}/metric-history?key=a&cursor={c}"),
        ] {
            let message = expect_error(&api.get(&path).await?, 400, "invalid_argument");
            assert!(message.contains("cursor"), "{path}: {message}");
        }
        let reply = api
            .post("/api/v1/projects/p/runs/search", json!({"cursor": cursor}))
            .await?;
        expect_error(&reply, 400, "invalid_argument");
    }
    assert_eq!(project_count(&api).await?, 1);
    Ok(())
}

#[tokio::test]
async fn downsample_with_zero_buckets_is_400() -> Result<()> {
    let api = server()?;
    let (_, run) = api.project_with_run("p").await?;
    api.batch(&run, json!({"metrics": [{"key": "a", "value": 1, "step": 1}, {"key": "a", "value": 2, "step": 2}]})).await?;
    let message = expect_error(
        &api.get(&format!(
            "/api/v1/runs/{run}/metric-history/downsampled?key=a&buckets=0"
        ))
        .await?,
        400,
        "invalid_argument",
    );
    assert!(message.contains("buckets"), "{message}");
    expect_error(
        &api.get(&format!(
            "/api/v1/runs/{run}/metric-history/downsampled?key=a&buckets=10001"
        ))
        .await?,
        400,
        "invalid_argument",
    );
    let reply = api
        .get(&format!(
            "/api/v1/runs/{run}/metric-history/downsampled?key=a&start_step=5&end_step=1"
        ))
        .await?;
    expect_error(&reply, 400, "invalid_argument");
    expect_error(
        &api.get(&format!("/api/v1/runs/{run}/metric-history/downsampled"))
            .await?,
        400,
        "invalid_query",
    );
    assert_eq!(
        items(
            &api.get(&format!("/api/v1/runs/{run}/metric-history?key=a"))
                .await?
        )
        .len(),
        2
    );
    Ok(())
}

#[tokio::test]
async fn lineage_depth_zero_is_400() -> Result<()> {
    let api = server()?;
    let (_, run) = api.project_with_run("p").await?;
    let message = expect_error(
        &api.get(&format!("/api/v1/lineage?kind=run&id={run}&depth=0"))
            .await?,
        400,
        "invalid_argument",
    );
    assert!(message.contains("depth"), "{message}");
    expect_error(
        &api.get(&format!("/api/v1/lineage?kind=run&id={run}&depth=21"))
            .await?,
        400,
        "invalid_argument",
    );
    expect_error(
        &api.get("/api/v1/lineage?kind=dataset_version&id=abc")
            .await?,
        400,
        "invalid_argument",
    );
    let reply = api
        .get(&format!("/api/v1/lineage?kind=run&id={run}&depth=1"))
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["edges"], json!([]));
    Ok(())
}

#[tokio::test]
async fn unknown_lineage_kind_is_400() -> Result<()> {
    let api = server()?;
    let (_, run) = api.project_with_run("p").await?;
    let message = expect_error(
        &api.get(&format!("/api/v1/lineage?kind=experiment&id={run}"))
            .await?,
        400,
        "invalid_query",
    );
    assert!(message.contains("experiment"), "{message}");
    expect_error(
        &api.get(&format!(
            "/api/v1/lineage?kind=run&id={run}&direction=sideways"
        ))
        .await?,
        400,
        "invalid_query",
    );
    expect_error(&api.get("/api/v1/lineage").await?, 400, "invalid_query");
    Ok(())
}

#[tokio::test]
async fn wrong_method_is_405_json() -> Result<()> {
    // "Every error response: {"error": {"code", "message"}}" (api/src/error.rs) holds for a
    // known path with a method it does not serve, too.
    let api = server()?;
    let reply = api.delete("/api/v1/projects").await?;
    assert_eq!(reply.0, 405, "{}", reply.1);
    expect_client_error(&reply);
    let reply = api.put("/api/v1/runs/abc/batch", json!({})).await?;
    assert_eq!(reply.0, 405, "{}", reply.1);
    expect_client_error(&reply);
    Ok(())
}

#[tokio::test]
async fn interrupted_upload_leaves_nothing() -> Result<()> {
    let api = server()?;
    let (_, run) = api.project_with_run("p").await?;
    api.dataset("p", "d").await?;
    let interrupted = |path: String| {
        let chunks: Vec<std::io::Result<Vec<u8>>> = vec![
            Ok(b"id,name\n".to_vec()),
            Ok(csv_bytes(2000, "partial")),
            Err(std::io::Error::other("client gave up")),
        ];
        let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
        api.server
            .client()
            .post(api.server.url(&path))
            .header("content-type", "text/csv")
            .body(body)
            .send()
    };
    // The client aborts mid-body: the request fails on the client side, whatever the server says.
    let _ = interrupted("/api/v1/projects/p/datasets/d/versions".to_string()).await;
    let body = reqwest::Body::wrap_stream(futures::stream::iter(vec![
        Ok(noise(100_000, 1)),
        Err(std::io::Error::other("gone")),
    ]));
    let _ = api
        .server
        .client()
        .put(
            api.server
                .url(&format!("/api/v1/runs/{run}/artifacts/partial.bin")),
        )
        .body(body)
        .send()
        .await;
    // The server cleans up asynchronously; give it a moment.
    for _ in 0..50 {
        if tmp_files(&api).is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_no_versions(&api, "p", "d").await?;
    assert_no_artifacts(&api, &run).await?;
    // The server is still fine.
    expect_status(
        &api.upload_version("p", "d", Some("text/csv"), csv_bytes(3, "ok"))
            .await?,
        201,
    );
    Ok(())
}

#[tokio::test]
async fn json_of_wrong_types_on_upload_routes_is_422() -> Result<()> {
    // README: "422 (JSON of the wrong types)", as every other JSON route answers; the JSON forms of
    // POST .../datasets/{d}/versions and POST .../models/{m}/versions must agree.
    let api = server()?;
    let (_, run) = api.project_with_run("p").await?;
    api.dataset("p", "d").await?;
    api.model("p", "m").await?;
    let reply = api
        .post(
            "/api/v1/projects/p/datasets/d/versions",
            json!({"source_uri": 5}),
        )
        .await?;
    expect_error(&reply, 422, "invalid_body");
    let reply = api
        .post(
            "/api/v1/projects/p/models/m/versions",
            json!({"run_id": run, "artifact_path": ["model.pkl"]}),
        )
        .await?;
    expect_error(&reply, 422, "invalid_body");
    assert_no_versions(&api, "p", "d").await?;
    assert_eq!(
        api.get("/api/v1/projects/p/models/m").await?.1["latest_version"],
        0
    );
    Ok(())
}

#[tokio::test]
async fn json_content_type_is_recognised_in_any_case() -> Result<()> {
    // `Application/JSON` is JSON: the registration body must be read as a request, never stored
    // as the bytes of a dataset version or a model file.
    let api = server()?;
    api.project_with_run("p").await?;
    api.dataset("p", "d").await?;
    api.model("p", "m").await?;
    let body = br#"{"source_uri": "file:///etc/hostname"}"#.to_vec();
    let reply = api
        .send_bytes(
            Method::POST,
            "/api/v1/projects/p/datasets/d/versions",
            Some("Application/JSON; charset=UTF-8"),
            body,
        )
        .await?;
    expect_error(&reply, 400, "invalid_argument");
    assert_no_versions(&api, "p", "d").await?;
    let body = br#"{"run_id": "nope", "artifact_path": "model"}"#.to_vec();
    let reply = api
        .send_bytes(
            Method::POST,
            "/api/v1/projects/p/models/m/versions",
            Some("APPLICATION/json"),
            body,
        )
        .await?;
    expect_error(&reply, 404, "run_not_found");
    assert_eq!(
        api.get("/api/v1/projects/p/models/m").await?.1["latest_version"],
        0
    );
    Ok(())
}
