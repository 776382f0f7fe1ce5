//! The MLflow tracking protocol with the real `mlflow` client from PyPI (installed by
//! scripts/test.sh into a virtual environment; `VERITY_MLFLOW_PYTHON` names its interpreter):
//! tests/mlflow/tracking_client.py does what training code does and asserts every result; the
//! objects are then read through Verity's own API. With authentication on, the client's
//! bearer token and basic credentials work, and roles apply.

use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use verity_tests::ServerOptions;

use crate::{Api, expect_status, items};

/// The interpreter of the virtual environment that holds `mlflow`.
fn python() -> Result<String> {
    let python = std::env::var("VERITY_MLFLOW_PYTHON")
        .unwrap_or_else(|_| "/var/tmp/verity-mlflow-venv/bin/python".to_owned());
    if !std::path::Path::new(&python).exists() {
        bail!(
            "{python} does not exist: run scripts/test.sh, which installs mlflow into a virtual \
             environment, or set VERITY_MLFLOW_PYTHON"
        );
    }
    Ok(python)
}

/// Runs Python code (`-c`) or a script with the MLflow client pointed at `api`.
fn run_python(api: &Api, args: &[&str], env: &[(&str, &str)]) -> Result<(bool, String)> {
    let work = tempfile::tempdir()?;
    let out = Command::new(python()?)
        .args(args)
        .current_dir(work.path())
        .env("MLFLOW_TRACKING_URI", api.server.base())
        .env("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        .env("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
        // Only loopback is reached from tests.
        .env("MLFLOW_DISABLE_TELEMETRY", "true")
        .env("DO_NOT_TRACK", "true")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .context("starting python")?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((out.status.success(), text))
}

#[tokio::test]
async fn the_mlflow_client_logs_into_verity() -> Result<()> {
    let api = crate::server()?;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/mlflow/tracking_client.py"
    );
    let result = tempfile::NamedTempFile::new()?;
    let result_path = result.path().to_string_lossy().into_owned();
    let (ok, output) = run_python(&api, &[script], &[("VERITY_RESULT", &result_path)])?;
    assert!(ok, "{output}");
    assert!(output.contains("mlflow client checks passed"), "{output}");
    let ids: Value = serde_json::from_str(&std::fs::read_to_string(result.path())?)?;
    let run = ids["run_id"].as_str().context("run id")?;

    // The same objects through Verity's own API, in the project `default`.
    let experiments = items(&api.get("/api/v1/projects/default/experiments").await?);
    let names: Vec<&str> = experiments
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(
        names.contains(&"churn-v2") && names.contains(&"Default"),
        "{names:?}"
    );
    // Tags set by the client are there too (the description is not a tag on /api/v1).
    let churn = experiments
        .iter()
        .find(|e| e["name"] == "churn-v2")
        .context("churn-v2")?;
    assert_eq!(
        churn["tags"],
        json!([{"key": "owner", "value": "risk-team"}]),
        "{churn}"
    );
    let renamed = api
        .get("/api/v1/projects/default/models/renamed-model")
        .await?;
    assert_eq!(renamed.1["tags"], json!([{"key": "k", "value": "v"}]));
    let reply = api.get(&format!("/api/v1/runs/{run}")).await?;
    expect_status(&reply, 200);
    let text = reply.1.to_string();
    assert!(text.contains("\"lr\"") && text.contains("0.01"), "{text}");
    assert_eq!(reply.1["status"], "FINISHED", "{}", reply.1);
    let history = api
        .get(&format!("/api/v1/runs/{run}/metric-history?key=loss"))
        .await?;
    expect_status(&history, 200);
    assert_eq!(
        history.1["items"].as_array().map(Vec::len),
        Some(5),
        "{}",
        history.1
    );
    let artifacts = api
        .get(&format!("/api/v1/runs/{run}/artifacts?path=data/sub"))
        .await?;
    expect_status(&artifacts, 200);
    assert_eq!(
        artifacts.1["files"][0]["path"], "data/sub/deep.bin",
        "{}",
        artifacts.1
    );
    assert_eq!(artifacts.1["files"][0]["byte_size"], 10_240);

    // The registered model: two Verity versions from the logged model's files, with lineage
    // from the run that logged it.
    let model_run = ids["model_run_id"].as_str().context("model run")?;
    let model_id = ids["model_id"].as_str().context("model id")?;
    let version = api
        .get("/api/v1/projects/default/models/churn-model/versions/1")
        .await?;
    expect_status(&version, 200);
    assert_eq!(version.1["source_run_id"], model_run, "{}", version.1);
    assert_eq!(version.1["source_path"], format!("models/{model_id}"));
    let files = version.1["files"].to_string();
    assert!(
        files.contains("MLmodel") && files.contains("python_model.pkl"),
        "{files}"
    );
    let lineage = api
        .get(&format!(
            "/api/v1/lineage?kind=model_version&id={}&direction=upstream",
            version.1["id"]
        ))
        .await?;
    assert!(lineage.1.to_string().contains(model_run), "{}", lineage.1);
    let model = api
        .get("/api/v1/projects/default/models/churn-model")
        .await?;
    assert_eq!(model.1["latest_version"], 2);
    assert_eq!(
        model.1["aliases"],
        json!([]),
        "the client deleted its alias"
    );
    Ok(())
}

const ADMIN_PASSWORD: &str = "mlflow-admin-password";

/// A server with authentication on, the administrator signed in, the MLflow project
/// `default`, and these members of it (user, role); returns the members' API tokens in order.
pub(crate) async fn server_with_members(
    options: ServerOptions,
    members: &[(&str, &str)],
) -> Result<(Api, Vec<String>)> {
    let mut api = Api::start(ServerOptions {
        admin_password: Some(ADMIN_PASSWORD.to_owned()),
        ..options
    })?;
    api.server.authenticate_as("admin", ADMIN_PASSWORD).await?;
    expect_status(
        &api.post("/api/v1/projects", json!({"name": "default"}))
            .await?,
        201,
    );
    let mut tokens = Vec::new();
    for (user, role) in members {
        tokens.push(member_token(&api, "default", user, role).await?);
    }
    Ok((api, tokens))
}

/// Creates `user` (clearance internal) as the signed-in administrator, makes them a `role` of
/// `project`, and returns their API token.
pub(crate) async fn member_token(
    api: &Api,
    project: &str,
    user: &str,
    role: &str,
) -> Result<String> {
    let password = format!("{user}-password-1234");
    expect_status(
        &api.post(
            "/api/v1/users",
            json!({"name": user, "password": password, "clearance": "internal"}),
        )
        .await?,
        201,
    );
    expect_status(
        &api.put(
            &format!("/api/v1/projects/{project}/members/{user}"),
            json!({"role": role}),
        )
        .await?,
        200,
    );
    api.server.login_token(user, &password).await
}

#[tokio::test]
async fn mlflow_clients_authenticate_and_roles_apply() -> Result<()> {
    let (api, tokens) = server_with_members(
        ServerOptions::default(),
        &[("dana", "contributor"), ("vic", "viewer")],
    )
    .await?;
    let (contributor, viewer) = (tokens[0].as_str(), tokens[1].as_str());

    let log = r#"
import mlflow
mlflow.set_experiment("auth")
with mlflow.start_run() as run:
    mlflow.log_param("p", 1)
    mlflow.log_metric("m", 2.0)
print("RUN", run.info.run_id, mlflow.get_run(run.info.run_id).info.user_id)
"#;
    // A bearer token (MLFLOW_TRACKING_TOKEN): the run's user is the token's, whatever the
    // client claims.
    let (ok, out) = run_python(
        &api,
        &["-c", log],
        &[
            ("MLFLOW_TRACKING_TOKEN", contributor),
            ("USER", "someone-else"),
        ],
    )?;
    assert!(ok, "{out}");
    assert!(out.contains(" dana"), "{out}");
    // Basic credentials with the token as the password.
    let (ok, out) = run_python(
        &api,
        &["-c", log],
        &[
            ("MLFLOW_TRACKING_USERNAME", "dana"),
            ("MLFLOW_TRACKING_PASSWORD", contributor),
        ],
    )?;
    assert!(ok, "{out}");

    let expect_code = |code: &str| {
        format!(
            r#"
import mlflow
from mlflow.exceptions import MlflowException
try:
    mlflow.set_experiment("auth")
    with mlflow.start_run():
        pass
    raise SystemExit("expected a refusal")
except MlflowException as e:
    assert e.error_code == "{code}", e.error_code
    print("REFUSED", e.error_code)
"#
        )
    };
    // A viewer reads but cannot create runs; no credentials at all is unauthenticated.
    let (ok, out) = run_python(
        &api,
        &["-c", &expect_code("PERMISSION_DENIED")],
        &[("MLFLOW_TRACKING_TOKEN", viewer)],
    )?;
    assert!(ok && out.contains("REFUSED PERMISSION_DENIED"), "{out}");
    let (ok, out) = run_python(&api, &["-c", &expect_code("UNAUTHENTICATED")], &[])?;
    assert!(ok && out.contains("REFUSED UNAUTHENTICATED"), "{out}");
    let (ok, out) = run_python(
        &api,
        &["-c", &expect_code("UNAUTHENTICATED")],
        &[("MLFLOW_TRACKING_TOKEN", "vty_not-a-real-token")],
    )?;
    assert!(ok, "{out}");

    // The audit trail names the MLflow client's changes with the token's user.
    let audit = items(&api.get("/api/v1/audit?project=default&actor=dana").await?);
    assert!(
        audit.iter().any(|e| e["action"] == "run.create"),
        "{audit:?}"
    );
    let denied = items(&api.get("/api/v1/audit?outcome=denied&actor=vic").await?);
    assert!(!denied.is_empty());
    Ok(())
}

/// Asserts MLflow's error envelope: the status and `error_code`; returns the message.
pub(crate) fn mlflow_error(
    reply: &(reqwest::StatusCode, Value),
    status: u16,
    code: &str,
) -> String {
    assert_eq!(reply.0.as_u16(), status, "{}", reply.1);
    assert_eq!(reply.1["error_code"], code, "{}", reply.1);
    reply.1["message"].as_str().unwrap_or_default().to_owned()
}

/// Creates, with `api`'s own client, an MLflow experiment and a run in it (asserting 200 for
/// each); returns the experiment's id and the run's id.
pub(crate) async fn mlflow_experiment_with_run(api: &Api, name: &str) -> Result<(String, String)> {
    let created = api
        .post("/api/2.0/mlflow/experiments/create", json!({"name": name}))
        .await?;
    expect_status(&created, 200);
    let experiment = created.1["experiment_id"]
        .as_str()
        .context("experiment id")?
        .to_owned();
    let run = api
        .post(
            "/api/2.0/mlflow/runs/create",
            json!({"experiment_id": experiment}),
        )
        .await?;
    expect_status(&run, 200);
    let run_id = run.1["run"]["info"]["run_id"]
        .as_str()
        .context("run id")?
        .to_owned();
    Ok((experiment, run_id))
}

#[tokio::test]
async fn mlflow_bad_input() -> Result<()> {
    let api = crate::server()?;
    const M: &str = "/api/2.0/mlflow";
    let (experiment, run_id) = mlflow_experiment_with_run(&api, "e").await?;
    let on_run = |extra: Value| {
        let mut body = json!({"run_id": run_id});
        for (k, v) in extra.as_object().into_iter().flatten() {
            body[k] = v.clone();
        }
        body
    };

    let message = mlflow_error(
        &api.raw("POST", &format!("{M}/runs/create"), b"{not json")
            .await?,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    assert!(message.contains("not valid"), "{message}");
    let posts = [
        (
            "runs/log-metric",
            json!({"key": "m", "value": 1}),
            400,
            "INVALID_PARAMETER_VALUE",
            "run_id is required",
        ),
        (
            "runs/log-metric",
            json!({"run_id": "0".repeat(32), "key": "m", "value": 1}),
            404,
            "RESOURCE_DOES_NOT_EXIST",
            "not found",
        ),
        (
            "runs/log-metric",
            on_run(json!({"key": "m", "value": "fast"})),
            400,
            "INVALID_PARAMETER_VALUE",
            "not a double",
        ),
        (
            "runs/log-metric",
            on_run(json!({"key": "m", "value": 1, "step": 1.5})),
            400,
            "INVALID_PARAMETER_VALUE",
            "int64",
        ),
        (
            "runs/update",
            on_run(json!({"status": "DONE"})),
            400,
            "INVALID_PARAMETER_VALUE",
            "RUNNING, SCHEDULED",
        ),
        (
            "runs/search",
            json!({"max_results": 0}),
            400,
            "INVALID_PARAMETER_VALUE",
            "max_results",
        ),
        (
            "runs/search",
            json!({"max_results": 60000}),
            400,
            "INVALID_PARAMETER_VALUE",
            "50000",
        ),
        (
            "runs/search",
            json!({"filter": "metrics.a >>> 1"}),
            400,
            "INVALID_PARAMETER_VALUE",
            "",
        ),
        (
            "runs/search",
            json!({"run_view_type": "SOME"}),
            400,
            "INVALID_PARAMETER_VALUE",
            "ACTIVE_ONLY",
        ),
        (
            "runs/search",
            json!({"experiment_ids": ["abc"]}),
            400,
            "INVALID_PARAMETER_VALUE",
            "not a number",
        ),
        (
            "runs/search",
            json!({"experiment_ids": ["999"]}),
            404,
            "RESOURCE_DOES_NOT_EXIST",
            "999",
        ),
        (
            "experiments/search",
            json!({"filter": "params.lr = '1'"}),
            400,
            "INVALID_PARAMETER_VALUE",
            "'params' is not a searchable attribute",
        ),
        (
            "experiments/search",
            json!({"filter": "creation_time > 'yesterday'"}),
            400,
            "INVALID_PARAMETER_VALUE",
            "does not apply",
        ),
        (
            "experiments/search",
            json!({"order_by": ["colour ASC"]}),
            400,
            "INVALID_PARAMETER_VALUE",
            "ordered by name, experiment_id",
        ),
        (
            "experiments/search",
            json!({"page_token": "not-a-token"}),
            400,
            "INVALID_PARAMETER_VALUE",
            "page_token",
        ),
        (
            "experiments/create",
            json!({"name": "x", "artifact_location": "s3://b/x"}),
            400,
            "INVALID_PARAMETER_VALUE",
            "artifact_location",
        ),
        (
            "experiments/create",
            json!({"name": "  "}),
            400,
            "INVALID_PARAMETER_VALUE",
            "empty",
        ),
        (
            "experiments/create",
            json!({"name": "x", "tags": [{"key": "", "value": "a"}]}),
            400,
            "INVALID_PARAMETER_VALUE",
            "tag key",
        ),
        (
            "experiments/set-experiment-tag",
            json!({"experiment_id": experiment, "key": "k", "value": "a\u{0}"}),
            400,
            "INVALID_PARAMETER_VALUE",
            "NUL",
        ),
        (
            "experiments/set-experiment-tag",
            json!({"experiment_id": "777", "key": "k", "value": "v"}),
            404,
            "RESOURCE_DOES_NOT_EXIST",
            "777",
        ),
        (
            "experiments/delete-experiment-tag",
            json!({"experiment_id": experiment, "key": "never-set"}),
            404,
            "RESOURCE_DOES_NOT_EXIST",
            "never-set",
        ),
        (
            "experiments/create",
            json!({"name": "e"}),
            400,
            "RESOURCE_ALREADY_EXISTS",
            "",
        ),
        (
            "runs/create",
            json!({"experiment_id": experiment, "run_name": "a", "tags": [{"key": "mlflow.runName", "value": "b"}]}),
            400,
            "INVALID_PARAMETER_VALUE",
            "differ",
        ),
        (
            "runs/log-batch",
            on_run(
                json!({"params": (0..101).map(|i| json!({"key": format!("p{i}"), "value": "1"})).collect::<Vec<_>>()}),
            ),
            400,
            "INVALID_PARAMETER_VALUE",
            "at most 100 params",
        ),
        (
            "runs/log-parameter",
            on_run(json!({"key": "../x", "value": "1"})),
            400,
            "INVALID_PARAMETER_VALUE",
            "",
        ),
    ];
    for (path, body, status, code, needle) in posts {
        let reply = api.post(&format!("{M}/{path}"), body.clone()).await?;
        let message = mlflow_error(&reply, status, code);
        assert!(message.contains(needle), "{path} {body}: {message}");
    }
    for (path, status, code) in [
        (
            "experiments/get?experiment_id=abc",
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            "experiments/get?experiment_id=999",
            404,
            "RESOURCE_DOES_NOT_EXIST",
        ),
        ("experiments/get", 400, "INVALID_PARAMETER_VALUE"),
        (
            "experiments/get-by-name?experiment_name=nope",
            404,
            "RESOURCE_DOES_NOT_EXIST",
        ),
        (
            "metrics/get-history?run_id=x",
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            "model-versions/get-latest-versions",
            404,
            "ENDPOINT_NOT_FOUND",
        ),
    ] {
        mlflow_error(&api.get(&format!("{M}/{path}")).await?, status, code);
    }
    // Logged models and the registry.
    let registry = [
        (
            "logged-models",
            json!({"experiment_id": experiment, "name": "m"}),
            400,
            "INVALID_PARAMETER_VALUE",
            "source_run_id",
        ),
        (
            "logged-models/search",
            json!({"filter": "metrics.auc > 0.9"}),
            400,
            "INVALID_PARAMETER_VALUE",
            "not a searchable attribute",
        ),
        (
            "logged-models/search",
            json!({"order_by": [{"field_name": "metrics.auc"}]}),
            400,
            "INVALID_PARAMETER_VALUE",
            "order_by",
        ),
        (
            "logged-models/search",
            json!({"max_results": 5000}),
            400,
            "INVALID_PARAMETER_VALUE",
            "max_results",
        ),
        (
            "runs/outputs",
            on_run(json!({"models": [{"model_id": "m-nope", "step": 0}]})),
            404,
            "RESOURCE_DOES_NOT_EXIST",
            "m-nope",
        ),
        (
            "runs/log-inputs",
            on_run(json!({"models": [{"model_id": "m-x"}]})),
            400,
            "INVALID_PARAMETER_VALUE",
            "model inputs",
        ),
        (
            "runs/log-inputs",
            on_run(json!({"datasets": [{"dataset": {"name": "d", "digest": "x".repeat(40)}}]})),
            400,
            "INVALID_PARAMETER_VALUE",
            "digest",
        ),
        (
            "registered-models/create",
            json!({"name": "r", "tags": [{"key": "k", "value": "v".repeat(9000)}]}),
            400,
            "INVALID_PARAMETER_VALUE",
            "tag value",
        ),
        (
            "registered-models/create",
            json!({"name": "r"}),
            200,
            "",
            "",
        ),
        (
            "registered-models/create",
            json!({"name": "r"}),
            400,
            "RESOURCE_ALREADY_EXISTS",
            "",
        ),
        (
            "model-versions/create",
            json!({"name": "r", "source": "s3://bucket/model"}),
            400,
            "INVALID_PARAMETER_VALUE",
            "not a model Verity holds",
        ),
        (
            "model-versions/create",
            json!({"name": "r", "source": format!("runs:/{run_id}/nothing")}),
            404,
            "RESOURCE_DOES_NOT_EXIST",
            "",
        ),
        (
            "model-versions/create",
            json!({"name": "r", "source": format!("runs:/{run_id}/x"), "run_id": "0".repeat(32)}),
            400,
            "INVALID_PARAMETER_VALUE",
            "names run",
        ),
        (
            "registered-models/alias",
            json!({"name": "r", "alias": "a", "version": "one"}),
            400,
            "INVALID_PARAMETER_VALUE",
            "not a number",
        ),
        (
            "registered-models/alias",
            json!({"name": "r", "alias": "a", "version": "7"}),
            404,
            "RESOURCE_DOES_NOT_EXIST",
            "",
        ),
        (
            "registered-models/set-tag",
            json!({"name": "nope", "key": "k", "value": "v"}),
            404,
            "RESOURCE_DOES_NOT_EXIST",
            "nope",
        ),
        (
            "model-versions/set-tag",
            json!({"name": "r", "key": "k", "value": "v"}),
            400,
            "INVALID_PARAMETER_VALUE",
            "version is required",
        ),
        (
            "model-versions/set-tag",
            json!({"name": "r", "version": "one", "key": "k", "value": "v"}),
            400,
            "INVALID_PARAMETER_VALUE",
            "not a number",
        ),
        (
            "model-versions/set-tag",
            json!({"name": "r", "version": "9", "key": "k", "value": "v"}),
            404,
            "RESOURCE_DOES_NOT_EXIST",
            "",
        ),
        (
            "registered-models/get-latest-versions",
            json!({"name": "r", "stages": ["Live"]}),
            400,
            "INVALID_PARAMETER_VALUE",
            "Staging, Production",
        ),
        (
            "registered-models/get-latest-versions",
            json!({"name": "nope"}),
            404,
            "RESOURCE_DOES_NOT_EXIST",
            "",
        ),
        (
            "model-versions/transition-stage",
            json!({"name": "r", "version": "9", "stage": "Production"}),
            404,
            "RESOURCE_DOES_NOT_EXIST",
            "",
        ),
    ];
    for (path, body, status, code, needle) in registry {
        let reply = api.post(&format!("{M}/{path}"), body.clone()).await?;
        if status == 200 {
            expect_status(&reply, 200);
            continue;
        }
        let message = mlflow_error(&reply, status, code);
        assert!(message.contains(needle), "{path} {body}: {message}");
    }
    for (path, status, code) in [
        ("logged-models/m-nope", 404, "RESOURCE_DOES_NOT_EXIST"),
        (
            "registered-models/get?name=nope",
            404,
            "RESOURCE_DOES_NOT_EXIST",
        ),
        (
            "model-versions/get?name=r&version=x",
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            "model-versions/get?name=r&version=3",
            404,
            "RESOURCE_DOES_NOT_EXIST",
        ),
        (
            "registered-models/alias?name=r&alias=none",
            404,
            "RESOURCE_DOES_NOT_EXIST",
        ),
    ] {
        mlflow_error(&api.get(&format!("{M}/{path}")).await?, status, code);
    }
    // A version uploaded through /api/v1 has no run directory to download from.
    expect_status(
        &api.send_bytes(
            reqwest::Method::POST,
            "/api/v1/projects/default/models/r/versions",
            Some("application/octet-stream"),
            b"weights".to_vec(),
        )
        .await?,
        201,
    );
    let message = mlflow_error(
        &api.get(&format!(
            "{M}/model-versions/get-download-uri?name=r&version=1"
        ))
        .await?,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    assert!(message.contains("uploaded as one file"), "{message}");
    // Deleting registered models or versions is refused for everyone (they are the record);
    // what does not exist is not found; a missing tag cannot be deleted.
    for (path, body, status, code) in [
        (
            "registered-models/delete",
            json!({"name": "r"}),
            403,
            "PERMISSION_DENIED",
        ),
        (
            "model-versions/delete",
            json!({"name": "r", "version": "1"}),
            403,
            "PERMISSION_DENIED",
        ),
        (
            "registered-models/delete",
            json!({"name": "nope"}),
            404,
            "RESOURCE_DOES_NOT_EXIST",
        ),
        (
            "model-versions/delete",
            json!({"name": "r", "version": "5"}),
            404,
            "RESOURCE_DOES_NOT_EXIST",
        ),
        (
            "registered-models/delete-tag",
            json!({"name": "r", "key": "nothing"}),
            404,
            "RESOURCE_DOES_NOT_EXIST",
        ),
    ] {
        let reply = api
            .send(reqwest::Method::DELETE, &format!("{M}/{path}"), Some(&body))
            .await?;
        mlflow_error(&reply, status, code);
    }
    expect_status(
        &api.get("/api/v1/projects/default/models/r/versions/1")
            .await?,
        200,
    );
    // Registry searches and updates.
    for (path, status, code) in [
        (
            "registered-models/search?filter=version%20%3D%20%271%27",
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            "registered-models/search?max_results=5000",
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        ("model-versions/search", 400, "INVALID_PARAMETER_VALUE"),
        (
            "model-versions/search?filter=name%20%3D%20%27nope%27",
            404,
            "RESOURCE_DOES_NOT_EXIST",
        ),
    ] {
        mlflow_error(&api.get(&format!("{M}/{path}")).await?, status, code);
    }
    let reply = api
        .get(&format!(
            "{M}/registered-models/search?filter=name%20LIKE%20%27r%25%27"
        ))
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["registered_models"][0]["name"], "r", "{}", reply.1);
    for (path, body, status, code) in [
        (
            "registered-models/update",
            r#"{"name": "nope", "description": "x"}"#,
            404,
            "RESOURCE_DOES_NOT_EXIST",
        ),
        (
            "model-versions/update",
            r#"{"name": "r", "version": "x"}"#,
            400,
            "INVALID_PARAMETER_VALUE",
        ),
    ] {
        let reply = api
            .raw("PATCH", &format!("{M}/{path}"), body.as_bytes())
            .await?;
        mlflow_error(&reply, status, code);
    }
    let reply = api
        .raw(
            "PATCH",
            &format!("{M}/logged-models/m-nope"),
            br#"{"status": "LOGGED_MODEL_READY"}"#,
        )
        .await?;
    mlflow_error(&reply, 404, "RESOURCE_DOES_NOT_EXIST");

    // The default experiment stays; NUL is refused; a wrong method is MLflow-shaped.
    let message = mlflow_error(
        &api.post(
            &format!("{M}/experiments/delete"),
            json!({"experiment_id": "0"}),
        )
        .await?,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    assert!(message.contains("default experiment"), "{message}");
    mlflow_error(
        &api.get(&format!("{M}/experiments/get-by-name?experiment_name=%00"))
            .await?,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    mlflow_error(
        &api.post(
            &format!("{M}/runs/set-tag"),
            on_run(json!({"key": "k", "value": "a\u{0}b"})),
        )
        .await?,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    mlflow_error(
        &api.get(&format!("{M}/runs/create")).await?,
        405,
        "BAD_REQUEST",
    );
    // A model logged from a run of another Verity project is refused.
    api.project("other").await?;
    let other_experiment = api.experiment("other", "e").await?;
    let other_run = api.run("other", other_experiment, json!({})).await?;
    let message = mlflow_error(
        &api.post(
            &format!("{M}/logged-models"),
            json!({"experiment_id": experiment, "name": "m", "source_run_id": other_run}),
        )
        .await?,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    assert!(
        message.contains("belongs to Verity project 'other'"),
        "{message}"
    );
    // A Verity model directory whose tensors do not match its spec is not registered.
    let spec = json!({"format": "verity-model/1", "architecture": {"type": "linear_regression"},
        "features": [{"column": "x"}], "output": {"type": "regression"}});
    expect_status(
        &api.put_artifact(
            &run_id,
            "vm/verity-model.json",
            spec.to_string().into_bytes(),
        )
        .await?,
        200,
    );
    expect_status(
        &api.put_artifact(
            &run_id,
            "vm/model.safetensors",
            verity_monitor::model::safetensors::write_f32(&[(
                "weight",
                vec![1, 2],
                vec![1.0, 2.0],
            )]),
        )
        .await?,
        200,
    );
    let message = mlflow_error(
        &api.post(
            &format!("{M}/model-versions/create"),
            json!({"name": "r", "source": format!("runs:/{run_id}/vm")}),
        )
        .await?,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    assert!(
        message.contains("tensor 'weight' has shape [1, 2]"),
        "{message}"
    );

    // A run in a deleted experiment cannot start.
    expect_status(
        &api.post(
            &format!("{M}/experiments/delete"),
            json!({"experiment_id": experiment}),
        )
        .await?,
        200,
    );
    let message = mlflow_error(
        &api.post(
            &format!("{M}/runs/create"),
            json!({"experiment_id": experiment}),
        )
        .await?,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    assert!(message.contains("active"), "{message}");
    // Proxied artifacts: a location that is not one, and deletion (artifacts are immutable).
    let artifacts = "/api/2.0/mlflow-artifacts/artifacts";
    mlflow_error(
        &api.get(&format!("{artifacts}?path=nowhere")).await?,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    let message = mlflow_error(
        &api.delete(&format!(
            "{artifacts}/{experiment}/{run_id}/artifacts/a.txt"
        ))
        .await?,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    assert!(message.contains("immutable"), "{message}");
    mlflow_error(
        &api.get(&format!(
            "{artifacts}/{experiment}/{}/artifacts/a.txt",
            "0".repeat(32)
        ))
        .await?,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );
    Ok(())
}
