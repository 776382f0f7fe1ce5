//! Model evaluation end to end: a Verity model logged as run artifacts and registered (checked
//! against its tensors), evaluated over the API with per-group figures and fairness, the
//! predictions stored as a dataset version linked in lineage, a challenger compared with the
//! champion alias, and `verity eval`. The refusals are in `evaluation_refusals.rs`.

use anyhow::Result;
use serde_json::{Value, json};
use verity_monitor::model::safetensors::write_f32;
use verity_tests::ServerOptions;

use crate::{Api, expect_status, items};

/// logit = w·x + (country a: +1, b: −1) − 0.5.
pub(crate) fn spec() -> Value {
    json!({
        "format": "verity-model/1",
        "architecture": {"type": "logistic_regression"},
        "features": [{"column": "x"}, {"column": "country", "one_hot": ["a", "b"]}],
        "output": {"type": "binary"}
    })
}

pub(crate) fn weights(w: f32) -> Vec<u8> {
    write_f32(&[
        ("weight", vec![1, 3], vec![w, 1.0, -1.0]),
        ("bias", vec![1], vec![-0.5]),
    ])
}

/// 200 rows: x in [−2, 2), country alternating, the label 1 when 2x + c − 0.5 ≥ 0 except for
/// every tenth row (so the model with w = 2 scores 90 % and the one with w = −2 far less),
/// group f for the first 80 rows and m after.
pub(crate) fn scoring_csv() -> Vec<u8> {
    let mut out = String::from("x,country,label,group\n");
    for i in 0..200 {
        let x = f64::from(i) / 50.0 - 2.0;
        let country = if i % 2 == 0 { "a" } else { "b" };
        let c = if i % 2 == 0 { 1.0 } else { -1.0 };
        let mut label = i32::from(2.0 * x + c - 0.5 >= 0.0);
        if i % 10 == 0 {
            label = 1 - label;
        }
        let group = if i < 80 { "f" } else { "m" };
        out.push_str(&format!("{x},{country},{label},{group}\n"));
    }
    out.into_bytes()
}

/// A project `p` with model `clf` (version 1 good, version 2 worse, `champion` → 1) and the
/// dataset `scoring`; returns the run id.
pub(crate) async fn setup(api: &Api) -> Result<String> {
    let (_, run) = api.project_with_run("p").await?;
    for (dir, w) in [("good", 2.0), ("worse", -2.0)] {
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
            &api.put_artifact(&run, &format!("{dir}/model.safetensors"), weights(w))
                .await?,
            200,
        );
    }
    api.model("p", "clf").await?;
    for dir in ["good", "worse"] {
        let reply = api
            .post(
                "/api/v1/projects/p/models/clf/versions",
                json!({"run_id": run, "artifact_path": dir}),
            )
            .await?;
        expect_status(&reply, 201);
    }
    expect_status(
        &api.put(
            "/api/v1/projects/p/models/clf/aliases/champion",
            json!({"version": 1}),
        )
        .await?,
        200,
    );
    api.dataset("p", "scoring").await?;
    expect_status(
        &api.upload_version("p", "scoring", Some("text/csv"), scoring_csv())
            .await?,
        201,
    );
    Ok(run)
}

#[tokio::test]
async fn evaluate_store_predictions_and_compare() -> Result<()> {
    let api = crate::server()?;
    setup(&api).await?;
    let reply = api
        .post(
            "/api/v1/projects/p/evaluations",
            json!({"model": "clf", "alias": "champion", "dataset": "scoring",
                   "evaluation": {"label": "label", "sensitive": ["group"]}}),
        )
        .await?;
    expect_status(&reply, 201);
    let report = reply.1;
    assert_eq!(report["kind"], "evaluation");
    assert_eq!(report["model"], "clf");
    assert_eq!(report["model_version"], 1);
    assert_eq!(report["version"], 1);
    let result = &report["result"];
    assert_eq!(result["rows"], 200);
    assert_eq!(result["device"], "cpu");
    assert_eq!(result["overall"]["task"], "binary");
    // Every tenth label is flipped: 180 of 200 right.
    assert_eq!(result["overall"]["accuracy"], 0.9, "{result}");
    let groups = &result["by_group"][0]["groups"];
    assert_eq!(groups[0]["value"], "f");
    assert_eq!(groups[0]["rows"], 80);
    assert_eq!(groups[1]["rows"], 120);
    assert!(result["fairness"][0]["report"]["figures"].is_array());
    // Group f (x < −0.4) never gets a positive decision: the four-fifths rule fails.
    assert_eq!(report["status"], "fail");
    assert_eq!(result["fairness"][0]["conditions"][0]["value"], 0.0);
    assert_eq!(report["config"]["evaluation"]["label"], "label");

    // The predictions: a version of `clf-predictions`, as sensitive as the data, 200 rows.
    let output = report["output_version_id"].as_i64().unwrap();
    let predictions = api
        .get("/api/v1/projects/p/datasets/clf-predictions")
        .await?;
    expect_status(&predictions, 200);
    assert_eq!(predictions.1["version_count"], 1);
    let scoring = api.get("/api/v1/projects/p/datasets/scoring").await?;
    assert_eq!(predictions.1["sensitivity"], scoring.1["sensitivity"]);
    let version = api
        .get("/api/v1/projects/p/datasets/clf-predictions/versions/1")
        .await?;
    expect_status(&version, 200);
    assert_eq!(version.1["id"], output);
    assert_eq!(version.1["row_count"], 200);
    assert_eq!(version.1["format"], "parquet");
    let text = version.1["schema"].to_string();
    for column in ["row", "label", "score", "predicted", "group"] {
        assert!(text.contains(&format!("\"{column}\"")), "{text}");
    }

    // Lineage: model version and data → report → predictions.
    let id = report["id"].as_i64().unwrap();
    let up = api
        .get(&format!(
            "/api/v1/lineage?kind=report&id={id}&direction=upstream"
        ))
        .await?;
    expect_status(&up, 200);
    let text = up.1.to_string();
    assert!(
        text.contains("evaluated") && text.contains("checked"),
        "{text}"
    );
    assert!(text.contains("p/clf@v1"), "{text}");
    let down = api
        .get(&format!(
            "/api/v1/lineage?kind=report&id={id}&direction=downstream"
        ))
        .await?;
    assert!(down.1.to_string().contains("predicted"), "{}", down.1);
    let derived = api
        .get(&format!(
            "/api/v1/lineage?kind=dataset_version&id={output}&direction=upstream"
        ))
        .await?;
    assert!(
        derived.1.to_string().contains("p/scoring@v1"),
        "{}",
        derived.1
    );

    // The challenger (version 2) against the champion.
    let reply = api
        .post(
            "/api/v1/projects/p/comparisons",
            json!({"model": "clf", "version": 2, "dataset": "scoring",
                   "evaluation": {"label": "label", "sensitive": ["group"]}}),
        )
        .await?;
    expect_status(&reply, 201);
    let comparison = &reply.1["comparison"];
    assert_eq!(comparison["kind"], "comparison");
    assert_eq!(comparison["status"], "warn", "{comparison}");
    assert_eq!(comparison["model_version"], 2);
    let result = &comparison["result"]["comparison"];
    assert_eq!(result["primary_metric"], "roc_auc");
    assert_eq!(result["verdict"], "champion");
    assert_eq!(reply.1["challenger"]["model_version"], 2);
    assert_eq!(reply.1["champion"]["model_version"], 1);
    assert!(
        comparison["summary"]
            .as_str()
            .unwrap()
            .contains("worse than @champion")
    );
    let listed = items(
        &api.get("/api/v1/projects/p/reports?kind=comparison&model=clf")
            .await?,
    );
    assert_eq!(listed.len(), 1);
    let evaluations = items(
        &api.get("/api/v1/projects/p/reports?kind=evaluation&model=clf")
            .await?,
    );
    assert_eq!(evaluations.len(), 3);
    assert!(items(&api.get("/api/v1/projects/p/reports?model=nope").await?).is_empty());
    let cid = comparison["id"].as_i64().unwrap();
    let up = api
        .get(&format!(
            "/api/v1/lineage?kind=report&id={cid}&direction=upstream"
        ))
        .await?;
    assert!(up.1.to_string().contains("reference_model"), "{}", up.1);
    Ok(())
}

fn eval_cli(args: &[&str]) -> Result<(i32, String, String)> {
    crate::verity_command("eval", args)
}

#[tokio::test]
async fn eval_command() -> Result<()> {
    let data = tempfile::tempdir()?;
    let api = Api::start(ServerOptions {
        data_dir: Some(data.path().to_path_buf()),
        ..ServerOptions::default()
    })?;
    setup(&api).await?;
    let dir = data.path().to_string_lossy().into_owned();
    let (code, out, err) = eval_cli(&[
        "--project",
        "p",
        "--model",
        "clf@champion",
        "--dataset",
        "scoring@1",
        "--label",
        "label",
        "--sensitive",
        "group",
        "--batch-size",
        "7",
        "--compare-to",
        "champion",
        "--quiet",
        "--data-dir",
        &dir,
    ])?;
    // Group f (x < −0.4) never gets a positive decision: the four-fifths rule fails (exit 1).
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("fail: binary classifier on 200 rows: accuracy 0.9000")
            && out.contains("group: demographic_parity_ratio = 0.0000"),
        "{out}"
    );
    assert!(out.contains("is tied with @champion"), "{out}");
    let reports = items(
        &api.get("/api/v1/projects/p/reports?kind=evaluation")
            .await?,
    );
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["created_by"], "cli");

    let (code, out, err) = eval_cli(&[
        "--project",
        "p",
        "--model",
        "clf/2",
        "--dataset",
        "scoring",
        "--label",
        "label",
        "--json",
        "--quiet",
        "--data-dir",
        &dir,
    ])?;
    assert_eq!(code, 0, "{out}{err}");
    let parsed: Value = serde_json::from_str(&out)?;
    assert_eq!(parsed["evaluation"]["model_version"], 2);
    assert_eq!(parsed["evaluation"]["result"]["overall"]["task"], "binary");

    for (args, needle) in [
        (
            vec!["--model", "clf", "--dataset", "scoring", "--label", "label"],
            "NAME@ALIAS or NAME/VERSION",
        ),
        (vec!["--model", "clf/1", "--dataset", "scoring"], "--label"),
        (
            vec![
                "--model",
                "clf/1",
                "--dataset",
                "scoring@x",
                "--label",
                "label",
            ],
            "must be a number",
        ),
        (
            vec![
                "--model",
                "clf/1",
                "--dataset",
                "scoring",
                "--label",
                "label",
                "--device",
                "cuda",
            ],
            "built without CUDA",
        ),
        (
            vec![
                "--model",
                "clf/1",
                "--dataset",
                "scoring",
                "--label",
                "nope",
            ],
            "label column 'nope' does not exist",
        ),
        (
            vec![
                "--model",
                "clf@nope",
                "--dataset",
                "scoring",
                "--label",
                "label",
            ],
            "nope",
        ),
    ] {
        let mut full = vec!["--project", "p"];
        full.extend(args.iter().copied());
        full.extend(["--quiet", "--data-dir", dir.as_str()]);
        let (code, out, err) = eval_cli(&full)?;
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    Ok(())
}
