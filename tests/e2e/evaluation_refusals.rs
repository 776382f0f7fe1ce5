//! Model evaluation refuses what it cannot judge, and stores nothing then: registrations whose
//! spec does not match its tensors (or is hostile, alone, or from another project's run),
//! evaluations of missing or bad data, bad options, unknown models and datasets, CUDA on a build
//! without it, and comparisons whose champion cannot be evaluated.

use anyhow::Result;
use reqwest::Method;
use serde_json::{Value, json};
use verity_monitor::model::safetensors::write_f32;

use crate::evaluation::{scoring_csv, setup, spec, weights};
use crate::{expect_error, expect_status, items};

#[tokio::test]
async fn registration_checks_the_model() -> Result<()> {
    let api = crate::server()?;
    let run = setup(&api).await?;
    // A spec whose tensors do not match.
    expect_status(
        &api.put_artifact(
            &run,
            "bad/verity-model.json",
            spec().to_string().into_bytes(),
        )
        .await?,
        200,
    );
    expect_status(
        &api.put_artifact(
            &run,
            "bad/model.safetensors",
            write_f32(&[("weight", vec![1, 2], vec![1.0, 2.0])]),
        )
        .await?,
        200,
    );
    let message = expect_error(
        &api.post(
            "/api/v1/projects/p/models/clf/versions",
            json!({"run_id": run, "artifact_path": "bad"}),
        )
        .await?,
        400,
        "invalid_check",
    );
    assert!(
        message.contains("tensor 'weight' has shape [1, 2]"),
        "{message}"
    );
    // A spec without weights.
    expect_status(
        &api.put_artifact(
            &run,
            "lonely/verity-model.json",
            spec().to_string().into_bytes(),
        )
        .await?,
        200,
    );
    let message = expect_error(
        &api.post(
            "/api/v1/projects/p/models/clf/versions",
            json!({"run_id": run, "artifact_path": "lonely"}),
        )
        .await?,
        400,
        "invalid_check",
    );
    assert!(message.contains("needs a model.safetensors"), "{message}");
    // A spec that is not one.
    expect_status(
        &api.put_artifact(&run, "junk/verity-model.json", b"{\"format\": 1}".to_vec())
            .await?,
        200,
    );
    expect_status(
        &api.put_artifact(&run, "junk/model.safetensors", weights(1.0))
            .await?,
        200,
    );
    expect_error(
        &api.post(
            "/api/v1/projects/p/models/clf/versions",
            json!({"run_id": run, "artifact_path": "junk"}),
        )
        .await?,
        400,
        "invalid_check",
    );
    // The spec alone as an upload.
    let reply = api
        .send_bytes(
            Method::POST,
            "/api/v1/projects/p/models/clf/versions?file_name=verity-model.json",
            Some("application/octet-stream"),
            spec().to_string().into_bytes(),
        )
        .await?;
    expect_error(&reply, 400, "invalid_argument");
    // Nothing was registered by the refusals.
    let model = api.get("/api/v1/projects/p/models/clf").await?;
    assert_eq!(model.1["latest_version"], 2);
    Ok(())
}

#[tokio::test]
async fn evaluation_bad_input() -> Result<()> {
    let api = crate::server()?;
    let run = setup(&api).await?;
    // Version 3: a plain file, not a Verity model.
    expect_status(
        &api.put_artifact(&run, "plain/model.pkl", b"pickle".to_vec())
            .await?,
        200,
    );
    expect_status(
        &api.post(
            "/api/v1/projects/p/models/clf/versions",
            json!({"run_id": run, "artifact_path": "plain"}),
        )
        .await?,
        201,
    );
    // A restricted dataset and a public predictions dataset.
    expect_status(
        &api.post(
            "/api/v1/projects/p/datasets",
            json!({"name": "secret", "sensitivity": "restricted"}),
        )
        .await?,
        201,
    );
    expect_status(
        &api.upload_version("p", "secret", Some("text/csv"), scoring_csv())
            .await?,
        201,
    );
    expect_status(
        &api.post(
            "/api/v1/projects/p/datasets",
            json!({"name": "open", "sensitivity": "public"}),
        )
        .await?,
        201,
    );
    let eval = |extra: Value| {
        let mut body = json!({"model": "clf", "version": 1, "dataset": "scoring",
                              "evaluation": {"label": "label"}});
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    let cases = [
        (
            eval(json!({"alias": "champion"})),
            400,
            "invalid_argument",
            "either `version` or `alias`",
        ),
        (
            eval(json!({"version": null})),
            400,
            "invalid_argument",
            "either `version` or `alias`",
        ),
        (
            eval(json!({"version": null, "alias": "nope"})),
            404,
            "alias_not_found",
            "nope",
        ),
        (
            eval(json!({"version": 9})),
            404,
            "model_version_not_found",
            "",
        ),
        (eval(json!({"model": "nope"})), 404, "model_not_found", ""),
        (
            eval(json!({"dataset": "nope"})),
            404,
            "dataset_not_found",
            "",
        ),
        (
            eval(json!({"dataset_version": 7})),
            404,
            "dataset_version_not_found",
            "",
        ),
        (
            eval(json!({"device": "tpu"})),
            400,
            "invalid_check",
            "not one of cpu, cuda, auto",
        ),
        (
            eval(json!({"device": "cuda"})),
            400,
            "invalid_check",
            "built without CUDA",
        ),
        (
            eval(json!({"version": 3})),
            400,
            "invalid_check",
            "has no verity-model.json",
        ),
        (
            eval(json!({"evaluation": {"label": "nope"}})),
            400,
            "invalid_check",
            "label column 'nope' does not exist",
        ),
        (
            eval(json!({"evaluation": {"label": "label", "typo": 1}})),
            400,
            "invalid_argument",
            "unknown field `typo`",
        ),
        (
            eval(json!({"evaluation": {"label": "label", "batch_size": 0}})),
            400,
            "invalid_check",
            "batch_size",
        ),
        (
            eval(json!({"evaluation": {"label": "label", "sensitive": ["label"]}})),
            400,
            "invalid_check",
            "both the label and a sensitive",
        ),
        (
            eval(json!({"evaluation": {"label": "group"}})),
            400,
            "invalid_check",
            "name the positive label",
        ),
        (
            eval(json!({"dataset": "secret", "predictions_dataset": "open"})),
            400,
            "invalid_check",
            "the predictions dataset 'open' is public",
        ),
        (
            eval(json!({"predictions_dataset": "a/b"})),
            400,
            "invalid_argument",
            "must not contain '/'",
        ),
        (
            eval(json!({"surprise": true})),
            422,
            "invalid_body",
            "unknown field `surprise`",
        ),
    ];
    for (body, status, code, needle) in cases {
        let reply = api
            .post("/api/v1/projects/p/evaluations", body.clone())
            .await?;
        let message = expect_error(&reply, status, code);
        assert!(message.contains(needle), "{body}: {message}");
    }
    // Comparisons: an alias that does not exist, a version that does not.
    let compare = |extra: Value| {
        let mut body = json!({"model": "clf", "version": 2, "dataset": "scoring",
                              "evaluation": {"label": "label"}});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    for (body, status, code) in [
        (compare(json!({"alias": "gone"})), 404, "alias_not_found"),
        (
            compare(json!({"version": 42})),
            404,
            "model_version_not_found",
        ),
        (
            compare(json!({"evaluation": {"label": 3}})),
            400,
            "invalid_argument",
        ),
    ] {
        let reply = api
            .post("/api/v1/projects/p/comparisons", body.clone())
            .await?;
        expect_error(&reply, status, code);
    }
    // Nothing was stored by the refusals.
    assert!(items(&api.get("/api/v1/projects/p/reports").await?).is_empty());
    Ok(())
}

#[tokio::test]
async fn refusals_store_nothing() -> Result<()> {
    let api = crate::server()?;
    let run = setup(&api).await?;
    let post = |dataset: &str| json!({"model": "clf", "version": 1, "dataset": dataset, "evaluation": {"label": "label"}});
    for (name, csv, needle) in [
        (
            "missing",
            "country,label\na,1\n",
            "reads column 'x', which the dataset does not have",
        ),
        (
            "nan",
            "x,country,label\n1.5,a,1\nNaN,b,0\n",
            "feature 'x' is NaN at row 1",
        ),
        (
            "unseen",
            "x,country,label\n1.5,a,1\n0.5,zz,0\n",
            "category \"zz\" at row 1",
        ),
    ] {
        api.dataset("p", name).await?;
        expect_status(
            &api.upload_version("p", name, Some("text/csv"), csv.as_bytes().to_vec())
                .await?,
            201,
        );
        let message = expect_error(
            &api.post("/api/v1/projects/p/evaluations", post(name))
                .await?,
            400,
            "invalid_check",
        );
        assert!(message.contains(needle), "{name}: {message}");
    }
    // The predictions cannot go into the evaluated dataset.
    let mut body = post("scoring");
    body["predictions_dataset"] = json!("scoring");
    let message = expect_error(
        &api.post("/api/v1/projects/p/evaluations", body).await?,
        400,
        "invalid_check",
    );
    assert!(message.contains("evaluated dataset 'scoring'"), "{message}");

    // A comparison whose champion is not a Verity model stores neither evaluation.
    expect_status(
        &api.put_artifact(&run, "plain/model.pkl", b"pickle".to_vec())
            .await?,
        200,
    );
    expect_status(
        &api.post(
            "/api/v1/projects/p/models/clf/versions",
            json!({"run_id": run, "artifact_path": "plain"}),
        )
        .await?,
        201,
    );
    expect_status(
        &api.put(
            "/api/v1/projects/p/models/clf/aliases/plain",
            json!({"version": 3}),
        )
        .await?,
        200,
    );
    let message = expect_error(
        &api.post(
            "/api/v1/projects/p/comparisons",
            json!({"model": "clf", "version": 2, "alias": "plain", "dataset": "scoring",
                   "evaluation": {"label": "label"}}),
        )
        .await?,
        400,
        "invalid_check",
    );
    assert!(message.contains("has no verity-model.json"), "{message}");

    assert!(items(&api.get("/api/v1/projects/p/reports").await?).is_empty());
    expect_error(
        &api.get("/api/v1/projects/p/datasets/clf-predictions")
            .await?,
        404,
        "dataset_not_found",
    );
    Ok(())
}

#[tokio::test]
async fn registration_refuses_hostile_files_and_foreign_runs() -> Result<()> {
    let api = crate::server()?;
    let run = setup(&api).await?;
    // A header length far past the file, and offsets that overlap.
    let mut huge = u64::MAX.to_le_bytes().to_vec();
    huge.extend_from_slice(b"{}");
    let header = br#"{"weight":{"dtype":"F32","shape":[1,3],"data_offsets":[0,12]},"bias":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#;
    let mut overlapping = (header.len() as u64).to_le_bytes().to_vec();
    overlapping.extend_from_slice(header);
    overlapping.extend_from_slice(&[0u8; 12]);
    for (dir, bytes, needle) in [
        ("huge", huge, "header"),
        ("overlap", overlapping, "overlap"),
    ] {
        expect_status(
            &api.put_artifact(
                &run,
                &format!("{dir}/verity-model.json"),
                spec().to_string().into_bytes(),
            )
            .await?,
            200,
        );
        expect_status(
            &api.put_artifact(&run, &format!("{dir}/model.safetensors"), bytes)
                .await?,
            200,
        );
        let message = expect_error(
            &api.post(
                "/api/v1/projects/p/models/clf/versions",
                json!({"run_id": run, "artifact_path": dir}),
            )
            .await?,
            400,
            "invalid_check",
        );
        assert!(message.contains(needle), "{dir}: {message}");
    }
    // The spec file itself is not a model.
    let message = expect_error(
        &api.post(
            "/api/v1/projects/p/models/clf/versions",
            json!({"run_id": run, "artifact_path": "good/verity-model.json"}),
        )
        .await?,
        400,
        "invalid_check",
    );
    assert!(message.contains("not the spec file"), "{message}");
    // A run of another project is refused by the registry without its files being read.
    let (_, foreign) = api.project_with_run("q").await?;
    expect_status(
        &api.put_artifact(&foreign, "m/verity-model.json", b"not json".to_vec())
            .await?,
        200,
    );
    let reply = api
        .post(
            "/api/v1/projects/p/models/clf/versions",
            json!({"run_id": foreign, "artifact_path": "m"}),
        )
        .await?;
    let message = expect_error(&reply, 409, "conflict");
    // The other project is not named: the caller may not be able to read it.
    assert!(message.contains("is not a run of project 'p'"), "{message}");
    assert!(!message.contains("'q'"), "{message}");
    assert_eq!(
        api.get("/api/v1/projects/p/models/clf").await?.1["latest_version"],
        2
    );
    Ok(())
}
