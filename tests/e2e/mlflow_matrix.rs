//! The MLflow authorization matrix: every route the MLflow protocol serves
//! (api/src/mlflow/mod.rs: the tracking routes under both `/api/2.0/mlflow` and
//! `/ajax-api/2.0/mlflow`, the proxied artifact and multipart routes under
//! `/api/2.0/mlflow-artifacts`) × every identity (the administrator, the owner of the MLflow
//! project `default`, the contributor who owns the fixture run, another contributor who does
//! not, a viewer, and an outsider who is a member of another project only), checked against an
//! independent statement of docs/mlflow.md's "Access control" table over the action × role
//! table of docs/access-control.md. A route that mod.rs declares without a matrix entry (or
//! without its place in [`crate::mlflow_routes`]) fails [`every_mlflow_route_is_in_the_matrix`],
//! so no MLflow route ships unchecked.
//!
//! Also: every route refuses an unauthenticated caller with MLflow's 401 and a Bearer
//! challenge (never Basic), before reading the body; the multipart part URL is its own
//! credential; only the creator of a multipart upload completes or aborts it; a POST needs a
//! JSON content type unless it carries a Bearer token or a CSRF token.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result, bail};
use reqwest::header::{HeaderMap, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use verity_tests::ServerOptions;

use crate::authz_matrix;
use crate::mlflow::server_with_members;
use crate::mlflow_multipart::put_part;
use crate::mlflow_routes::{
    self, ARTIFACT_ROUTES, ARTIFACTS_PREFIX, TRACKING_PREFIXES, TRACKING_ROUTES, served_routes,
};
use crate::{Api, enc, expect_status, sha256_hex};

/// The multipart part route: no credentials by design (the upload id is the credential).
const PART_ROUTE: (&str, &str) = ("PUT", "/mpu/part/{upload_id}/{part_number}");

/// The identities under test; each is also the user's name (the administrator is `admin`).
const IDENTITIES: [&str; 6] = ["admin", "owner", "contrib", "other", "viewer", "outsider"];
/// The contributor who created the fixture run (and the other runs' owner in setups).
const RUN_OWNER: &str = "contrib";

/// Every action the rows name (a typo in a row fails instead of silently denying).
const ACTIONS: &[&str] = &[
    "experiment.read",
    "experiment.create",
    "experiment.update",
    "experiment.delete",
    "run.read",
    "run.create",
    "run.write",
    "run.delete",
    "model.read",
    "model.create",
    "model.update",
    "model_version.create",
    "model_version.update",
    "model.alias",
    PART_CREDENTIAL,
];
/// The "action" of a multipart part upload: holding the upload id.
const PART_CREDENTIAL: &str = "upload_id";

/// The documented table for these identities in the project `default`: docs/access-control.md's
/// action × role table ([`authz_matrix::allowed`], written out independently of the server's
/// rules) for each identity's role there (the outsider, a member of another project only, has
/// none). A part URL is good for whoever holds it.
fn allowed(identity: &str, action: &str, run_owner: Option<&str>) -> bool {
    assert!(ACTIONS.contains(&action), "unknown action {action}");
    if action == PART_CREDENTIAL {
        return true;
    }
    let role = match identity {
        "admin" | "owner" | "viewer" => identity,
        "contrib" | "other" => "contributor",
        _ => "outsider",
    };
    authz_matrix::allowed(role, action, None, run_owner == Some(identity))
}

/// A request body.
#[derive(Clone)]
enum Body {
    Empty,
    Json(Value),
    Bytes(Vec<u8>),
}

/// One request to send; `{experiment_id}`, `{run_id}`, `{model_id}` and `{upload_id}` in its
/// path or JSON body are filled from the answers of the row's setup requests.
#[derive(Clone)]
struct Req {
    method: Method,
    path: String,
    body: Body,
}

fn get(path: String) -> Req {
    Req {
        method: Method::GET,
        path,
        body: Body::Empty,
    }
}

fn post(path: String, body: Value) -> Req {
    Req {
        method: Method::POST,
        path,
        body: Body::Json(body),
    }
}

fn patch(path: String, body: Value) -> Req {
    Req {
        method: Method::PATCH,
        path,
        body: Body::Json(body),
    }
}

fn delete(path: String) -> Req {
    Req {
        method: Method::DELETE,
        path,
        body: Body::Empty,
    }
}

fn put_bytes(path: String, bytes: &[u8]) -> Req {
    Req {
        method: Method::PUT,
        path,
        body: Body::Bytes(bytes.to_vec()),
    }
}

/// Replaces the placeholders of a request with what the setup answered.
fn fill(req: &Req, vars: &BTreeMap<&'static str, String>) -> Result<Req> {
    let replace = |text: &str| {
        vars.iter().fold(text.to_owned(), |text, (key, value)| {
            text.replace(&format!("{{{key}}}"), value)
        })
    };
    let body = match &req.body {
        Body::Json(value) => Body::Json(serde_json::from_str(&replace(&value.to_string()))?),
        other => other.clone(),
    };
    Ok(Req {
        method: req.method.clone(),
        path: replace(&req.path),
        body,
    })
}

/// Keeps the ids a setup request's answer holds, for the placeholders of the next requests.
fn capture(answer: &Value, vars: &mut BTreeMap<&'static str, String>) {
    for (key, found) in [
        ("experiment_id", &answer["experiment_id"]),
        ("run_id", &answer["run"]["info"]["run_id"]),
        ("model_id", &answer["model"]["info"]["model_id"]),
        ("upload_id", &answer["upload_id"]),
    ] {
        if let Some(id) = found.as_str() {
            vars.insert(key, id.to_owned());
        }
    }
}

/// Who sends a setup request.
#[derive(Clone, Copy)]
enum By {
    Admin,
    RunOwner,
    /// The identity under test when the table allows it the row, else the run's owner: a
    /// multipart upload can only be completed or aborted by its creator.
    CallerIfAllowedElseRunOwner,
}

/// One cell's request, the actions it needs, and what to prepare before each attempt.
struct Row {
    /// The actions the call needs, all of them.
    needs: Vec<&'static str>,
    /// Whose run the call changes (for contributors' "own runs only").
    run_owner: Option<&'static str>,
    /// Refused by design for everyone: what a caller the table allows gets instead of 2xx.
    refused: Option<(u16, &'static str)>,
    setup: Vec<(By, Req)>,
    request: Req,
}

impl Row {
    fn new(needs: &[&'static str], request: Req) -> Self {
        Self {
            needs: needs.to_vec(),
            run_owner: None,
            refused: None,
            setup: Vec::new(),
            request,
        }
    }

    /// The call changes the fixture run (or another run of its owner).
    fn on_owned_run(mut self) -> Self {
        self.run_owner = Some(RUN_OWNER);
        self
    }

    fn refused(mut self, status: u16, code: &'static str) -> Self {
        self.refused = Some((status, code));
        self
    }

    fn after(mut self, by: By, req: Req) -> Self {
        self.setup.push((by, req));
        self
    }
}

/// What the fixture holds.
struct Fixture {
    /// The experiment of the fixture run (an id, as MLflow writes it).
    experiment: String,
    /// An experiment the update and tag rows change.
    spare_experiment: String,
    /// The fixture run, created by [`RUN_OWNER`].
    run: String,
    /// A logged model of the fixture run.
    logged_model: String,
}

/// The registered model (with version 1, alias `champion`, from the logged model).
const MODEL: &str = "rm";
/// The bytes of each multipart part the rows send.
const PART: &[u8] = b"one part of a multipart upload";

impl Fixture {
    /// The run's artifact location, as MLflow clients name it.
    fn location(&self) -> String {
        format!("{}/{}/artifacts", self.experiment, self.run)
    }
}

/// The matrix row of one route (`prefix` is the one the request goes to); `n` makes names
/// unique per attempt. `None`: the route has no entry.
fn row(method: &str, template: &str, prefix: &str, fx: &Fixture, n: usize) -> Option<Row> {
    let at = |tail: &str| format!("{prefix}{tail}");
    let (experiment, spare, run, logged) = (
        fx.experiment.as_str(),
        fx.spare_experiment.as_str(),
        fx.run.as_str(),
        fx.logged_model.as_str(),
    );
    let location = fx.location();
    let model_filter = enc(&format!("name = '{MODEL}'"));
    Some(match (method, template) {
        // Experiments.
        ("POST", "/experiments/create") => Row::new(
            &["experiment.create"],
            post(
                at("/experiments/create"),
                json!({"name": format!("created-{n}")}),
            ),
        ),
        ("GET", "/experiments/get") => Row::new(
            &["experiment.read"],
            get(at(&format!("/experiments/get?experiment_id={experiment}"))),
        ),
        ("GET", "/experiments/get-by-name") => Row::new(
            &["experiment.read"],
            get(at("/experiments/get-by-name?experiment_name=matrix")),
        ),
        ("POST", "/experiments/search") => Row::new(
            &["experiment.read"],
            post(at("/experiments/search"), json!({"max_results": 10})),
        ),
        ("GET", "/experiments/search") => Row::new(
            &["experiment.read"],
            get(at("/experiments/search?max_results=10")),
        ),
        ("POST", "/experiments/update") => Row::new(
            &["experiment.update"],
            post(
                at("/experiments/update"),
                json!({"experiment_id": spare, "new_name": format!("spare-{n}")}),
            ),
        ),
        ("POST", "/experiments/delete") => Row::new(
            &["experiment.delete"],
            post(
                at("/experiments/delete"),
                json!({"experiment_id": "{experiment_id}"}),
            ),
        )
        .after(
            By::Admin,
            post(
                at("/experiments/create"),
                json!({"name": format!("doomed-{n}")}),
            ),
        ),
        ("POST", "/experiments/restore") => Row::new(
            &["experiment.delete"],
            post(
                at("/experiments/restore"),
                json!({"experiment_id": "{experiment_id}"}),
            ),
        )
        .after(
            By::Admin,
            post(
                at("/experiments/create"),
                json!({"name": format!("deleted-{n}")}),
            ),
        )
        .after(
            By::Admin,
            post(
                at("/experiments/delete"),
                json!({"experiment_id": "{experiment_id}"}),
            ),
        ),
        ("POST", "/experiments/set-experiment-tag") => Row::new(
            &["experiment.update"],
            post(
                at("/experiments/set-experiment-tag"),
                json!({"experiment_id": spare, "key": "k", "value": format!("v{n}")}),
            ),
        ),
        ("POST", "/experiments/delete-experiment-tag") => Row::new(
            &["experiment.update"],
            post(
                at("/experiments/delete-experiment-tag"),
                json!({"experiment_id": spare, "key": format!("gone-{n}")}),
            ),
        )
        .after(
            By::Admin,
            post(
                at("/experiments/set-experiment-tag"),
                json!({"experiment_id": spare, "key": format!("gone-{n}"), "value": "x"}),
            ),
        ),
        // Runs.
        ("POST", "/runs/create") => Row::new(
            &["run.create"],
            post(
                at("/runs/create"),
                json!({"experiment_id": experiment, "run_name": format!("run-{n}")}),
            ),
        ),
        ("GET", "/runs/get") => {
            Row::new(&["run.read"], get(at(&format!("/runs/get?run_id={run}"))))
        }
        ("POST", "/runs/update") => Row::new(
            &["run.write"],
            post(
                at("/runs/update"),
                json!({"run_id": run, "status": "RUNNING"}),
            ),
        )
        .on_owned_run(),
        ("POST", "/runs/delete") => Row::new(
            &["run.delete"],
            post(at("/runs/delete"), json!({"run_id": "{run_id}"})),
        )
        .on_owned_run()
        .after(
            By::RunOwner,
            post(at("/runs/create"), json!({"experiment_id": experiment})),
        ),
        ("POST", "/runs/restore") => Row::new(
            &["run.delete"],
            post(at("/runs/restore"), json!({"run_id": "{run_id}"})),
        )
        .on_owned_run()
        .after(
            By::RunOwner,
            post(at("/runs/create"), json!({"experiment_id": experiment})),
        )
        .after(
            By::RunOwner,
            post(at("/runs/delete"), json!({"run_id": "{run_id}"})),
        ),
        ("POST", "/runs/log-batch") => Row::new(
            &["run.write"],
            post(
                at("/runs/log-batch"),
                json!({"run_id": run,
                    "metrics": [{"key": "m", "value": 1.5, "timestamp": 2, "step": n}],
                    "tags": [{"key": "batch", "value": format!("b{n}")}]}),
            ),
        )
        .on_owned_run(),
        ("POST", "/runs/log-metric") => Row::new(
            &["run.write"],
            post(
                at("/runs/log-metric"),
                json!({"run_id": run, "key": "m", "value": 0.25, "timestamp": 3, "step": n}),
            ),
        )
        .on_owned_run(),
        ("POST", "/runs/log-parameter") => Row::new(
            &["run.write"],
            post(
                at("/runs/log-parameter"),
                json!({"run_id": run, "key": format!("p{n}"), "value": "1"}),
            ),
        )
        .on_owned_run(),
        ("POST", "/runs/set-tag") => Row::new(
            &["run.write"],
            post(
                at("/runs/set-tag"),
                json!({"run_id": run, "key": "t", "value": format!("v{n}")}),
            ),
        )
        .on_owned_run(),
        ("POST", "/runs/delete-tag") => Row::new(
            &["run.write"],
            post(
                at("/runs/delete-tag"),
                json!({"run_id": run, "key": format!("gone-{n}")}),
            ),
        )
        .on_owned_run()
        .after(
            By::RunOwner,
            post(
                at("/runs/set-tag"),
                json!({"run_id": run, "key": format!("gone-{n}"), "value": "x"}),
            ),
        ),
        ("POST", "/runs/search") => Row::new(
            &["run.read"],
            post(
                at("/runs/search"),
                json!({"experiment_ids": [experiment], "max_results": 10}),
            ),
        ),
        ("GET", "/metrics/get-history") => Row::new(
            &["run.read"],
            get(at(&format!(
                "/metrics/get-history?run_id={run}&metric_key=m"
            ))),
        ),
        ("GET", "/metrics/get-history-bulk-interval") => Row::new(
            &["run.read"],
            get(at(&format!(
                "/metrics/get-history-bulk-interval?run_ids={run}&metric_key=m"
            ))),
        ),
        ("POST", "/runs/outputs") => Row::new(
            &["run.write", "run.read"],
            post(
                at("/runs/outputs"),
                json!({"run_id": run, "models": [{"model_id": logged, "step": 0}]}),
            ),
        )
        .on_owned_run(),
        ("POST", "/runs/log-inputs") => Row::new(
            &["run.write"],
            post(
                at("/runs/log-inputs"),
                json!({"run_id": run, "datasets": [{"dataset":
                    {"name": format!("d{n}"), "digest": format!("digest{n}")}}]}),
            ),
        )
        .on_owned_run(),
        // Logged models (authorized on their source run).
        ("POST", "/logged-models") => Row::new(
            &["run.write"],
            post(
                at("/logged-models"),
                json!({"experiment_id": experiment, "name": format!("lm-{n}"),
                    "source_run_id": run}),
            ),
        )
        .on_owned_run(),
        ("POST", "/logged-models/search") => Row::new(
            &["run.read"],
            post(
                at("/logged-models/search"),
                json!({"experiment_ids": [experiment]}),
            ),
        ),
        ("GET", "/logged-models/{model_id}") => {
            Row::new(&["run.read"], get(at(&format!("/logged-models/{logged}"))))
        }
        ("PATCH", "/logged-models/{model_id}") => Row::new(
            &["run.write"],
            patch(
                at(&format!("/logged-models/{logged}")),
                json!({"status": "LOGGED_MODEL_READY"}),
            ),
        )
        .on_owned_run(),
        ("DELETE", "/logged-models/{model_id}") => {
            Row::new(&["run.write"], delete(at("/logged-models/{model_id}")))
                .on_owned_run()
                .after(
                    By::RunOwner,
                    post(
                        at("/logged-models"),
                        json!({"experiment_id": experiment, "name": format!("doomed-{n}"),
                    "source_run_id": run}),
                    ),
                )
        }
        ("PATCH", "/logged-models/{model_id}/tags") => Row::new(
            &["run.write"],
            patch(
                at(&format!("/logged-models/{logged}/tags")),
                json!({"tags": [{"key": "k", "value": format!("v{n}")}]}),
            ),
        )
        .on_owned_run(),
        ("DELETE", "/logged-models/{model_id}/tags/{key}") => Row::new(
            &["run.write"],
            delete(at(&format!("/logged-models/{logged}/tags/gone-{n}"))),
        )
        .on_owned_run()
        .after(
            By::RunOwner,
            patch(
                at(&format!("/logged-models/{logged}/tags")),
                json!({"tags": [{"key": format!("gone-{n}"), "value": "x"}]}),
            ),
        ),
        ("POST", "/logged-models/{model_id}/params") => Row::new(
            &["run.write"],
            post(
                at(&format!("/logged-models/{logged}/params")),
                json!({"params": [{"key": format!("p{n}"), "value": "1"}]}),
            ),
        )
        .on_owned_run(),
        // The registry.
        ("POST", "/registered-models/create") => Row::new(
            &["model.create"],
            post(
                at("/registered-models/create"),
                json!({"name": format!("created-{n}")}),
            ),
        ),
        ("GET", "/registered-models/get") => Row::new(
            &["model.read"],
            get(at(&format!("/registered-models/get?name={MODEL}"))),
        ),
        ("GET", "/registered-models/search") => Row::new(
            &["model.read"],
            get(at("/registered-models/search?max_results=10")),
        ),
        ("POST", "/registered-models/search") => Row::new(
            &["model.read"],
            post(at("/registered-models/search"), json!({"max_results": 10})),
        ),
        ("PATCH", "/registered-models/update") => Row::new(
            &["model.update"],
            patch(
                at("/registered-models/update"),
                json!({"name": MODEL, "description": format!("d{n}")}),
            ),
        ),
        ("GET", "/model-versions/search") => Row::new(
            &["model.read"],
            get(at(&format!("/model-versions/search?filter={model_filter}"))),
        ),
        ("POST", "/model-versions/search") => Row::new(
            &["model.read"],
            post(
                at("/model-versions/search"),
                json!({"filter": format!("name = '{MODEL}'")}),
            ),
        ),
        ("PATCH", "/model-versions/update") => Row::new(
            &["model_version.update"],
            patch(
                at("/model-versions/update"),
                json!({"name": MODEL, "version": "1", "description": format!("d{n}")}),
            ),
        ),
        ("POST", "/registered-models/alias") => Row::new(
            &["model.alias"],
            post(
                at("/registered-models/alias"),
                json!({"name": MODEL, "alias": "challenger", "version": "1"}),
            ),
        ),
        ("GET", "/registered-models/alias") => Row::new(
            &["model.read"],
            get(at(&format!(
                "/registered-models/alias?name={MODEL}&alias=champion"
            ))),
        ),
        ("DELETE", "/registered-models/alias") => Row::new(
            &["model.alias"],
            delete(at(&format!(
                "/registered-models/alias?name={MODEL}&alias=old{n}"
            ))),
        )
        .after(
            By::Admin,
            post(
                at("/registered-models/alias"),
                json!({"name": MODEL, "alias": format!("old{n}"), "version": "1"}),
            ),
        ),
        ("POST", "/model-versions/create") => Row::new(
            &["model_version.create", "run.read"],
            post(
                at("/model-versions/create"),
                json!({"name": MODEL, "source": format!("models:/{logged}")}),
            ),
        ),
        ("GET", "/model-versions/get") => Row::new(
            &["model.read"],
            get(at(&format!("/model-versions/get?name={MODEL}&version=1"))),
        ),
        ("GET", "/model-versions/get-download-uri") => Row::new(
            &["model.read", "run.read"],
            get(at(&format!(
                "/model-versions/get-download-uri?name={MODEL}&version=1"
            ))),
        ),
        ("POST", "/registered-models/set-tag") => Row::new(
            &["model.update"],
            post(
                at("/registered-models/set-tag"),
                json!({"name": MODEL, "key": "k", "value": format!("v{n}")}),
            ),
        ),
        ("DELETE", "/registered-models/delete-tag") => Row::new(
            &["model.update"],
            delete(at(&format!(
                "/registered-models/delete-tag?name={MODEL}&key=gone-{n}"
            ))),
        )
        .after(
            By::Admin,
            post(
                at("/registered-models/set-tag"),
                json!({"name": MODEL, "key": format!("gone-{n}"), "value": "x"}),
            ),
        ),
        ("POST", "/model-versions/set-tag") => Row::new(
            &["model_version.update"],
            post(
                at("/model-versions/set-tag"),
                json!({"name": MODEL, "version": "1", "key": "k", "value": format!("v{n}")}),
            ),
        ),
        ("DELETE", "/model-versions/delete-tag") => Row::new(
            &["model_version.update"],
            delete(at(&format!(
                "/model-versions/delete-tag?name={MODEL}&version=1&key=gone-{n}"
            ))),
        )
        .after(
            By::Admin,
            post(
                at("/model-versions/set-tag"),
                json!({"name": MODEL, "version": "1", "key": format!("gone-{n}"),
                    "value": "x"}),
            ),
        ),
        ("GET", "/registered-models/get-latest-versions") => Row::new(
            &["model.read"],
            get(at(&format!(
                "/registered-models/get-latest-versions?name={MODEL}"
            ))),
        ),
        ("POST", "/registered-models/get-latest-versions") => Row::new(
            &["model.read"],
            post(
                at("/registered-models/get-latest-versions"),
                json!({"name": MODEL}),
            ),
        ),
        ("POST", "/registered-models/rename") => Row::new(
            &["model.update"],
            post(
                at("/registered-models/rename"),
                json!({"name": format!("old-name-{n}"), "new_name": format!("new-name-{n}")}),
            ),
        )
        .after(
            By::Admin,
            post(
                at("/registered-models/create"),
                json!({"name": format!("old-name-{n}")}),
            ),
        ),
        // Refused for everyone (docs/mlflow.md): deleting registered models and versions is
        // PERMISSION_DENIED even for those who may update models; stages do not exist.
        ("DELETE", "/registered-models/delete") => Row::new(
            &["model.update"],
            delete(at(&format!("/registered-models/delete?name={MODEL}"))),
        )
        .refused(403, "PERMISSION_DENIED"),
        ("DELETE", "/model-versions/delete") => Row::new(
            &["model.update"],
            delete(at(&format!(
                "/model-versions/delete?name={MODEL}&version=1"
            ))),
        )
        .refused(403, "PERMISSION_DENIED"),
        ("POST", "/model-versions/transition-stage") => Row::new(
            &["model.update"],
            post(
                at("/model-versions/transition-stage"),
                json!({"name": MODEL, "version": "1", "stage": "Production"}),
            ),
        )
        .refused(400, "INVALID_PARAMETER_VALUE"),
        // Proxied artifacts of the fixture run.
        ("GET", "/artifacts") => Row::new(
            &["run.read"],
            get(at(&format!("/artifacts?path={}", enc(&location)))),
        ),
        ("GET", "/artifacts/{*path}") => Row::new(
            &["run.read"],
            get(at(&format!("/artifacts/{location}/a.txt"))),
        ),
        ("PUT", "/artifacts/{*path}") => Row::new(
            &["run.write"],
            put_bytes(
                at(&format!("/artifacts/{location}/uploads/u{n}.txt")),
                b"uploaded",
            ),
        )
        .on_owned_run(),
        // Artifacts are immutable: a caller who may read the run is told so.
        ("DELETE", "/artifacts/{*path}") => Row::new(
            &["run.read"],
            delete(at(&format!("/artifacts/{location}/a.txt"))),
        )
        .refused(400, "INVALID_PARAMETER_VALUE"),
        ("POST", "/mpu/create/{*path}") => Row::new(
            &["run.write"],
            post(
                at(&format!("/mpu/create/{location}/mpu")),
                json!({"path": format!("created-{n}.bin"), "num_parts": 1}),
            ),
        )
        .on_owned_run(),
        // An upload is completed or aborted by its creator: an allowed caller's own upload,
        // else the run owner's.
        ("POST", "/mpu/complete/{*path}") => Row::new(
            &["run.write"],
            post(
                at(&format!("/mpu/complete/{location}/mpu")),
                json!({"path": format!("completed-{n}.bin"), "upload_id": "{upload_id}",
                    "parts": [{"part_number": 1, "etag": format!("\"{}\"", sha256_hex(PART))}]}),
            ),
        )
        .on_owned_run()
        .after(
            By::CallerIfAllowedElseRunOwner,
            post(
                at(&format!("/mpu/create/{location}/mpu")),
                json!({"path": format!("completed-{n}.bin"), "num_parts": 1}),
            ),
        )
        .after(
            By::CallerIfAllowedElseRunOwner,
            put_bytes(at("/mpu/part/{upload_id}/1"), PART),
        ),
        ("POST", "/mpu/abort/{*path}") => Row::new(
            &["run.write"],
            post(
                at(&format!("/mpu/abort/{location}/mpu")),
                json!({"path": format!("aborted-{n}.bin"), "upload_id": "{upload_id}"}),
            ),
        )
        .on_owned_run()
        .after(
            By::CallerIfAllowedElseRunOwner,
            post(
                at(&format!("/mpu/create/{location}/mpu")),
                json!({"path": format!("aborted-{n}.bin"), "num_parts": 1}),
            ),
        ),
        // The part URL carries no credentials: the upload id (the run owner's upload here) is
        // the credential, whoever sends the bytes.
        ("PUT", "/mpu/part/{upload_id}/{part_number}") => Row::new(
            &[PART_CREDENTIAL],
            put_bytes(at("/mpu/part/{upload_id}/1"), PART),
        )
        .after(
            By::RunOwner,
            post(
                at(&format!("/mpu/create/{location}/mpu")),
                json!({"path": format!("part-{n}.bin"), "num_parts": 1}),
            ),
        ),
        _ => return None,
    })
}

#[test]
fn every_mlflow_route_is_in_the_matrix() -> Result<()> {
    mlflow_routes::lists_match_api_source()?;
    let fx = Fixture {
        experiment: "1".into(),
        spare_experiment: "2".into(),
        run: "0".repeat(32),
        logged_model: "m-0".into(),
    };
    let missing: Vec<String> = served_routes()
        .into_iter()
        .filter(|(prefix, method, template)| row(method, template, prefix, &fx, 0).is_none())
        .map(|(prefix, method, template)| format!("{method} {prefix}{template}"))
        .collect();
    assert!(
        missing.is_empty(),
        "MLflow routes without a matrix entry (add them to row()): {missing:?}"
    );
    Ok(())
}

/// An answer: status, headers, the body's bytes and, when it is JSON, its value (else null).
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    bytes: Vec<u8>,
    body: Value,
}

/// Whether an answer is MLflow's error envelope, exactly `{"error_code", "message"}`, with this
/// code.
fn is_mlflow_error(reply: &Reply, code: &str) -> bool {
    reply.body["error_code"] == code
        && reply.body["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
        && reply.body.as_object().map(serde_json::Map::len) == Some(2)
}

/// Sends requests as one identity or another (or none).
struct Http {
    client: reqwest::Client,
    base: String,
    tokens: BTreeMap<&'static str, String>,
}

impl Http {
    fn token(&self, identity: &str) -> Option<&str> {
        self.tokens.get(identity).map(String::as_str)
    }

    /// Sends `req` with a Bearer token, or without credentials for `None`.
    async fn send(&self, identity: Option<&str>, req: &Req) -> Result<Reply> {
        let mut builder = self
            .client
            .request(req.method.clone(), format!("{}{}", self.base, req.path));
        if let Some(identity) = identity {
            builder = builder.bearer_auth(self.token(identity).context("no such identity")?);
        }
        builder = match &req.body {
            Body::Empty => builder,
            Body::Json(value) => builder.json(value),
            Body::Bytes(bytes) => builder
                .header("content-type", "application/octet-stream")
                .body(bytes.clone()),
        };
        self.reply(builder, &format!("{} {}", req.method, req.path))
            .await
    }

    async fn reply(&self, builder: reqwest::RequestBuilder, label: &str) -> Result<Reply> {
        let resp = builder.send().await.with_context(|| label.to_owned())?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await?.to_vec();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Reply {
            status,
            headers,
            bytes,
            body,
        })
    }

    /// Sends `req` as `identity` and insists on a 2xx.
    async fn ok(&self, identity: &str, req: &Req) -> Result<Value> {
        let reply = self.send(Some(identity), req).await?;
        if !reply.status.is_success() {
            bail!(
                "{identity}: {} {} failed: {} {}",
                req.method,
                req.path,
                reply.status,
                String::from_utf8_lossy(&reply.bytes)
            );
        }
        Ok(reply.body)
    }
}

/// The server, its users and the fixture: members of `default` through
/// [`server_with_members`], the outsider a member of another project; the fixture run, its
/// param, metric, tag, artifact and logged model logged by its owner through MLflow; the
/// registered model, its version and alias made by the project's owner.
async fn start() -> Result<(Api, Http, Fixture)> {
    let (api, member_tokens) = server_with_members(
        ServerOptions {
            // Small, so that an oversized body shows it is not read before authentication.
            max_body_bytes: Some(MAX_BODY_BYTES),
            ..ServerOptions::default()
        },
        &[
            ("owner", "owner"),
            ("contrib", "contributor"),
            ("other", "contributor"),
            ("viewer", "viewer"),
        ],
    )
    .await?;
    let mut tokens = BTreeMap::new();
    for (identity, token) in ["owner", "contrib", "other", "viewer"]
        .into_iter()
        .zip(member_tokens)
    {
        tokens.insert(identity, token);
    }
    // The outsider: authenticated, a contributor of another project only.
    let outsider_password = "outsider-password-1234";
    expect_status(
        &api.post(
            "/api/v1/users",
            json!({"name": "outsider", "password": outsider_password, "clearance": "internal"}),
        )
        .await?,
        201,
    );
    api.project("elsewhere").await?;
    expect_status(
        &api.put(
            "/api/v1/projects/elsewhere/members/outsider",
            json!({"role": "contributor"}),
        )
        .await?,
        200,
    );
    tokens.insert(
        "outsider",
        api.server
            .login_token("outsider", outsider_password)
            .await?,
    );
    // The administrator's own token (the harness's client sends another).
    let admin = api
        .post("/api/v1/tokens", json!({"name": "mlflow-matrix"}))
        .await?;
    expect_status(&admin, 201);
    tokens.insert(
        "admin",
        admin.1["token"].as_str().context("admin token")?.to_owned(),
    );
    let http = Http {
        client: reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()?,
        base: api.server.base().to_owned(),
        tokens,
    };

    let m = TRACKING_PREFIXES[0];
    let experiment = http
        .ok(
            RUN_OWNER,
            &post(format!("{m}/experiments/create"), json!({"name": "matrix"})),
        )
        .await?["experiment_id"]
        .as_str()
        .context("experiment id")?
        .to_owned();
    let spare_experiment = http
        .ok(
            "admin",
            &post(format!("{m}/experiments/create"), json!({"name": "spare"})),
        )
        .await?["experiment_id"]
        .as_str()
        .context("experiment id")?
        .to_owned();
    let run = http
        .ok(
            RUN_OWNER,
            &post(
                format!("{m}/runs/create"),
                json!({"experiment_id": experiment, "run_name": "fixture"}),
            ),
        )
        .await?["run"]["info"]["run_id"]
        .as_str()
        .context("run id")?
        .to_owned();
    for (route, body) in [
        (
            "runs/log-parameter",
            json!({"run_id": run, "key": "p", "value": "1"}),
        ),
        (
            "runs/log-metric",
            json!({"run_id": run, "key": "m", "value": 0.5, "timestamp": 1, "step": 0}),
        ),
        (
            "runs/set-tag",
            json!({"run_id": run, "key": "t", "value": "v"}),
        ),
    ] {
        http.ok(RUN_OWNER, &post(format!("{m}/{route}"), body))
            .await?;
    }
    let location = format!("{experiment}/{run}/artifacts");
    http.ok(
        RUN_OWNER,
        &put_bytes(
            format!("{ARTIFACTS_PREFIX}/artifacts/{location}/a.txt"),
            b"artifact",
        ),
    )
    .await?;
    let logged_model = http
        .ok(
            RUN_OWNER,
            &post(
                format!("{m}/logged-models"),
                json!({"experiment_id": experiment, "name": "lm", "source_run_id": run}),
            ),
        )
        .await?["model"]["info"]["model_id"]
        .as_str()
        .context("model id")?
        .to_owned();
    http.ok(
        RUN_OWNER,
        &put_bytes(
            format!("{ARTIFACTS_PREFIX}/artifacts/{location}/models/{logged_model}/MLmodel"),
            b"flavors: {}\n",
        ),
    )
    .await?;
    for (route, body) in [
        ("registered-models/create", json!({"name": MODEL})),
        (
            "model-versions/create",
            json!({"name": MODEL, "source": format!("models:/{logged_model}")}),
        ),
        (
            "registered-models/alias",
            json!({"name": MODEL, "alias": "champion", "version": "1"}),
        ),
    ] {
        http.ok("owner", &post(format!("{m}/{route}"), body))
            .await?;
    }
    let fx = Fixture {
        experiment,
        spare_experiment,
        run,
        logged_model,
    };
    Ok((api, http, fx))
}

/// The largest JSON body the test server takes.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Per identity: calls the table allows (each succeeded, or the matrix failed), calls it
/// denies, calls refused by design, and denied calls that succeeded anyway.
#[derive(Debug, Default)]
struct Tally {
    allowed: u32,
    denied: u32,
    refused_by_design: u32,
    unauthorised_successes: u32,
}

/// Every route, under every prefix, as every identity: the answers against the table.
async fn check_every_cell(http: &Http, fx: &Fixture) -> Result<(usize, Vec<String>)> {
    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut n = 0;
    for (prefix, method, template) in served_routes() {
        for identity in IDENTITIES {
            n += 1;
            let cell = row(method, template, prefix, fx, n).context("a route without a row")?;
            let allow = cell
                .needs
                .iter()
                .all(|action| allowed(identity, action, cell.run_owner));
            let mut vars = BTreeMap::new();
            for (by, setup) in &cell.setup {
                let who = match by {
                    By::Admin => "admin",
                    By::RunOwner => RUN_OWNER,
                    By::CallerIfAllowedElseRunOwner if allow => identity,
                    By::CallerIfAllowedElseRunOwner => RUN_OWNER,
                };
                let answer = http
                    .ok(who, &fill(setup, &vars)?)
                    .await
                    .with_context(|| format!("setup of {method} {prefix}{template}"))?;
                capture(&answer, &mut vars);
            }
            let request = fill(&cell.request, &vars)?;
            let reply = http.send(Some(identity), &request).await?;
            checked += 1;
            let tally = tallies.entry(identity).or_default();
            let status = reply.status;
            let good = if status.is_server_error() {
                false
            } else if !allow {
                if status.is_success() {
                    tally.unauthorised_successes += 1;
                }
                tally.denied += 1;
                status == StatusCode::FORBIDDEN && is_mlflow_error(&reply, "PERMISSION_DENIED")
            } else if let Some((want_status, want_code)) = cell.refused {
                tally.refused_by_design += 1;
                status.as_u16() == want_status && is_mlflow_error(&reply, want_code)
            } else {
                tally.allowed += 1;
                status.is_success()
            };
            if !good {
                let want = match (allow, cell.refused) {
                    (false, _) => "403 PERMISSION_DENIED".to_owned(),
                    (true, Some((s, code))) => format!("{s} {code}"),
                    (true, None) => "2xx".to_owned(),
                };
                failures.push(format!(
                    "{identity:<8} {method:<6} {} (route {prefix}{template}): expected {want}, \
                     got {status} {}",
                    request.path,
                    String::from_utf8_lossy(&reply.bytes)
                ));
            }
        }
    }
    let unauthorised: u32 = tallies.values().map(|t| t.unauthorised_successes).sum();
    println!(
        "MLflow authorization matrix: {checked} requests = {} routes ({} tracking routes × {} \
         prefixes + {} artifact routes) × {} identities; unauthorised successes: {unauthorised}",
        served_routes().len(),
        TRACKING_ROUTES.len(),
        TRACKING_PREFIXES.len(),
        ARTIFACT_ROUTES.len(),
        IDENTITIES.len()
    );
    for (identity, tally) in &tallies {
        println!("  {identity:<8} {tally:?}");
    }
    assert_eq!(
        unauthorised,
        0,
        "successes the table denies:\n{}",
        failures.join("\n")
    );
    Ok((checked, failures))
}

/// Every route without credentials: MLflow's 401 with a Bearer challenge (never Basic), except
/// the part URL, where a made-up upload id is not found. Also what an endpoint that is not
/// served, or a served one called with another method, answers.
async fn check_unauthenticated(http: &Http, fx: &Fixture) -> Result<Vec<String>> {
    let mut failures = Vec::new();
    let mut vars = BTreeMap::new();
    vars.insert("experiment_id", fx.experiment.clone());
    vars.insert("run_id", fx.run.clone());
    vars.insert("model_id", fx.logged_model.clone());
    vars.insert("upload_id", "f".repeat(64));
    for (prefix, method, template) in served_routes() {
        let entry = row(method, template, prefix, fx, 0).context("a route without a row")?;
        let request = fill(&entry.request, &vars)?;
        let reply = http.send(None, &request).await?;
        let label = format!("anonymous {method} {}", request.path);
        if (method, template) == PART_ROUTE {
            if !(reply.status == StatusCode::NOT_FOUND
                && is_mlflow_error(&reply, "RESOURCE_DOES_NOT_EXIST"))
            {
                failures.push(format!(
                    "{label}: a made-up upload id should be 404 RESOURCE_DOES_NOT_EXIST, got {} {}",
                    reply.status, reply.body
                ));
            }
            continue;
        }
        let challenges: Vec<&str> = reply
            .headers
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if reply.status != StatusCode::UNAUTHORIZED
            || !is_mlflow_error(&reply, "UNAUTHENTICATED")
            || challenges != [r#"Bearer realm="verity""#]
            || challenges
                .iter()
                .any(|c| c.to_ascii_lowercase().contains("basic"))
        {
            failures.push(format!(
                "{label}: expected 401 UNAUTHENTICATED with WWW-Authenticate: Bearer \
                 realm=\"verity\", got {} {challenges:?} {}",
                reply.status, reply.body
            ));
        }
    }

    // Endpoints that are not served: MLflow's ENDPOINT_NOT_FOUND for a caller who signed in;
    // a served endpoint with another method is BAD_REQUEST (405).
    let not_served = [
        format!("{}/runs/nope", TRACKING_PREFIXES[0]),
        format!("{}/runs/nope", TRACKING_PREFIXES[1]),
        format!(
            "{}/model-versions/get-latest-versions",
            TRACKING_PREFIXES[0]
        ),
        format!("{ARTIFACTS_PREFIX}/nope"),
    ];
    for path in &not_served {
        for method in [Method::GET, Method::POST] {
            let request = Req {
                method: method.clone(),
                path: path.clone(),
                body: if method == Method::POST {
                    Body::Json(json!({}))
                } else {
                    Body::Empty
                },
            };
            let reply = http.send(Some("viewer"), &request).await?;
            if !(reply.status == StatusCode::NOT_FOUND
                && is_mlflow_error(&reply, "ENDPOINT_NOT_FOUND"))
            {
                failures.push(format!(
                    "viewer {method} {path}: expected 404 ENDPOINT_NOT_FOUND, got {} {}",
                    reply.status, reply.body
                ));
            }
            // Without credentials, nothing is said about what is served.
            let reply = http.send(None, &request).await?;
            if !(reply.status == StatusCode::UNAUTHORIZED
                && is_mlflow_error(&reply, "UNAUTHENTICATED"))
            {
                failures.push(format!(
                    "anonymous {method} {path}: expected 401 UNAUTHENTICATED, got {} {}",
                    reply.status, reply.body
                ));
            }
        }
    }
    // The methods a route template does not list are not served on its path (so the lists
    // above name every method of every path).
    let mut methods_by_path: BTreeMap<(&str, &str), (BTreeSet<&str>, String)> = BTreeMap::new();
    for (prefix, method, template) in served_routes() {
        let entry = row(method, template, prefix, fx, 0).context("a route without a row")?;
        let path = fill(&entry.request, &vars)?.path;
        let path = path.split('?').next().unwrap_or_default().to_owned();
        methods_by_path
            .entry((prefix, template))
            .or_insert_with(|| (BTreeSet::new(), path))
            .0
            .insert(method);
    }
    for (methods, path) in methods_by_path.values() {
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            if methods.contains(method) {
                continue;
            }
            let request = Req {
                method: method.parse()?,
                path: path.clone(),
                body: if method == "GET" || method == "DELETE" {
                    Body::Empty
                } else {
                    Body::Json(json!({}))
                },
            };
            let reply = http.send(Some("viewer"), &request).await?;
            if !(reply.status == StatusCode::METHOD_NOT_ALLOWED
                && is_mlflow_error(&reply, "BAD_REQUEST"))
            {
                failures.push(format!(
                    "viewer {method} {path}: the route lists {methods:?}, so expected 405 \
                     BAD_REQUEST, got {} {}",
                    reply.status, reply.body
                ));
            }
        }
    }
    Ok(failures)
}

/// Multipart uploads on the fixture run: who may open one, and that only its creator completes
/// or aborts it, while its part URLs work without credentials.
async fn check_multipart(http: &Http, fx: &Fixture) -> Result<Vec<String>> {
    let mut failures = Vec::new();
    let location = fx.location();
    let at = |step: &str| format!("{ARTIFACTS_PREFIX}/mpu/{step}/{location}/owned");
    let may_write = ["admin", "owner", RUN_OWNER];
    let mut uploads: BTreeMap<&str, (String, Vec<String>)> = BTreeMap::new();
    for identity in IDENTITIES {
        let reply = http
            .send(
                Some(identity),
                &post(
                    at("create"),
                    json!({"path": format!("/local/{identity}.bin"), "num_parts": 2}),
                ),
            )
            .await?;
        if may_write.contains(&identity) {
            if reply.status != StatusCode::OK {
                failures.push(format!(
                    "{identity} mpu/create: expected 200, got {} {}",
                    reply.status, reply.body
                ));
                continue;
            }
            let id = reply.body["upload_id"]
                .as_str()
                .context("upload id")?
                .to_owned();
            let urls: Vec<String> = reply.body["credentials"]
                .as_array()
                .context("credentials")?
                .iter()
                .filter_map(|c| c["url"].as_str().map(str::to_owned))
                .collect();
            let expected: Vec<String> = (1..=2)
                .map(|k| format!("{}{ARTIFACTS_PREFIX}/mpu/part/{id}/{k}", http.base))
                .collect();
            assert_eq!(urls, expected, "{identity}'s part URLs");
            uploads.insert(identity, (id, urls));
        } else if !(reply.status == StatusCode::FORBIDDEN
            && is_mlflow_error(&reply, "PERMISSION_DENIED"))
        {
            failures.push(format!(
                "{identity} mpu/create: expected 403 PERMISSION_DENIED, got {} {}",
                reply.status, reply.body
            ));
        }
    }
    let (Some(contrib), Some(owner), Some(admin)) = (
        uploads.get(RUN_OWNER).cloned(),
        uploads.get("owner").cloned(),
        uploads.get("admin").cloned(),
    ) else {
        return Ok(failures);
    };
    // The run owner's parts, sent without credentials to the part URLs.
    let parts: [&[u8]; 2] = [b"first part, ", b"second part"];
    let mut etags = Vec::new();
    for (url, bytes) in contrib.1.iter().zip(parts) {
        let (status, etag, _) = put_part(url, bytes.to_vec()).await?;
        assert_eq!(status, StatusCode::OK, "part PUT to {url}");
        assert_eq!(etag, format!("\"{}\"", sha256_hex(bytes)));
        etags.push(etag);
    }
    let complete = json!({"path": format!("/local/{RUN_OWNER}.bin"), "upload_id": contrib.0,
        "parts": [{"part_number": 1, "etag": etags[0]}, {"part_number": 2, "etag": etags[1]}]});
    // Abort and complete by anyone else: refused by the rules (403), or, for those who may
    // write the run, not their upload (404); the upload stays open for its creator.
    let owner_abort = json!({"path": "/local/owner.bin", "upload_id": owner.0});
    for (step, body, creator) in [
        ("complete", &complete, RUN_OWNER),
        ("abort", &owner_abort, "owner"),
    ] {
        for identity in IDENTITIES.into_iter().filter(|i| *i != creator) {
            let reply = http
                .send(Some(identity), &post(at(step), body.clone()))
                .await?;
            let (want, code) = if may_write.contains(&identity) {
                (StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST")
            } else {
                (StatusCode::FORBIDDEN, "PERMISSION_DENIED")
            };
            if !(reply.status == want && is_mlflow_error(&reply, code)) {
                failures.push(format!(
                    "{identity} mpu/{step} of {creator}'s upload: expected {want} {code}, got \
                     {} {}",
                    reply.status, reply.body
                ));
            }
        }
        let reply = http
            .send(Some(creator), &post(at(step), body.clone()))
            .await?;
        if reply.status != StatusCode::OK {
            failures.push(format!(
                "{creator} mpu/{step} of its own upload: expected 200, got {} {}",
                reply.status, reply.body
            ));
        }
    }
    // The completed file is the run's artifact, readable by a viewer.
    let file = http
        .send(
            Some("viewer"),
            &get(format!(
                "{ARTIFACTS_PREFIX}/artifacts/{location}/owned/{RUN_OWNER}.bin"
            )),
        )
        .await?;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.bytes, parts.concat(), "the parts, in order");
    // An aborted upload's part URLs are gone; the administrator aborts its own.
    let resp = http
        .client
        .put(&owner.1[0])
        .body(b"late".to_vec())
        .send()
        .await?;
    assert_eq!(
        resp.status(),
        StatusCode::NOT_FOUND,
        "aborted upload's part"
    );
    http.ok(
        "admin",
        &post(
            at("abort"),
            json!({"path": "/local/admin.bin", "upload_id": admin.0}),
        ),
    )
    .await?;
    Ok(failures)
}

/// A POST needs a JSON content type unless it carries a Bearer token or a CSRF token (415
/// otherwise, in MLflow's envelope); Basic credentials, as MLflow clients send them, work with
/// JSON. An unauthenticated request is refused before its body is read.
async fn check_content_types_and_body_order(http: &Http, fx: &Fixture) -> Result<Vec<String>> {
    let mut failures = Vec::new();
    let search = format!("{}/runs/search", TRACKING_PREFIXES[0]);
    let token = http.token(RUN_OWNER).context("token")?.to_owned();
    let body = json!({"experiment_ids": [fx.experiment]}).to_string();
    // (credential, content type, whether an X-CSRF-Token header is sent, expected status)
    let cases: [(&str, Option<&str>, bool, u16); 7] = [
        ("basic", Some("text/plain"), false, 415),
        (
            "basic",
            Some("application/x-www-form-urlencoded"),
            false,
            415,
        ),
        ("basic", Some("multipart/form-data; boundary=x"), false, 415),
        ("basic", None, false, 415),
        ("basic", Some("application/json"), false, 200),
        ("bearer", Some("text/plain"), false, 200),
        ("basic", Some("text/plain"), true, 200),
    ];
    for (credential, content_type, csrf, want) in cases {
        let mut builder = http
            .client
            .post(format!("{}{search}", http.base))
            .body(body.clone());
        builder = if credential == "basic" {
            builder.basic_auth(RUN_OWNER, Some(&token))
        } else {
            builder.bearer_auth(&token)
        };
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        if csrf {
            builder = builder.header("x-csrf-token", "anything");
        }
        let reply = http.reply(builder, &search).await?;
        let shape_ok = want != 415 || is_mlflow_error(&reply, "BAD_REQUEST");
        if reply.status.as_u16() != want || !shape_ok {
            failures.push(format!(
                "POST {search} with {credential} credentials, content type {content_type:?}, \
                 CSRF header {csrf}: expected {want}, got {} {}",
                reply.status, reply.body
            ));
        }
    }
    // GET with Basic credentials needs no content type.
    let builder = http
        .client
        .get(format!(
            "{}{}/runs/get?run_id={}",
            http.base, TRACKING_PREFIXES[1], fx.run
        ))
        .basic_auth(RUN_OWNER, Some(&token));
    let reply = http.reply(builder, "runs/get").await?;
    if reply.status != StatusCode::OK {
        failures.push(format!(
            "GET runs/get with Basic credentials: expected 200, got {} {}",
            reply.status, reply.body
        ));
    }
    // Authenticated before the body is read: without credentials, a body that is not JSON, or
    // one over the limit, is still 401; with them, 400 and 413. Also on an artifact directory
    // whose path holds `/mpu/part/`, the part URLs' prefix (which carry no credentials).
    let paths = [
        format!("{}/runs/create", TRACKING_PREFIXES[0]),
        format!("{ARTIFACTS_PREFIX}/mpu/create/{}/mpu/part/1", fx.location()),
    ];
    let oversized = format!(
        "{{\"experiment_id\": \"{}\", \"path\": \"{}\"}}",
        fx.experiment,
        "x".repeat(MAX_BODY_BYTES + 1024)
    );
    for path in &paths {
        for (bytes, signed_in_status) in [
            (b"{not json".to_vec(), 400),
            (oversized.clone().into_bytes(), 413),
        ] {
            for identity in [None, Some(RUN_OWNER)] {
                // Over a bare connection: the server answers (and closes) before it has read
                // the body, and a client library may report only the broken write.
                let addr = http.base.trim_start_matches("http://");
                let auth = match identity {
                    Some(identity) => format!(
                        "Authorization: Bearer {}\r\n",
                        http.token(identity).context("token")?
                    ),
                    None => String::new(),
                };
                let head = format!(
                    "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\n{auth}Connection: close\r\n\r\n",
                    bytes.len()
                );
                let (raw, _) = crate::raw_http::exchange(
                    addr,
                    head,
                    bytes.clone(),
                    std::time::Duration::from_secs(30),
                )
                .await?;
                let answer = crate::raw_http::parse(&raw, true)
                    .with_context(|| format!("POST {path}: no answer"))?;
                let reply = Reply {
                    status: StatusCode::from_u16(answer.status)?,
                    headers: HeaderMap::new(),
                    body: serde_json::from_slice(&answer.body).unwrap_or(Value::Null),
                    bytes: answer.body,
                };
                let want = if identity.is_some() {
                    signed_in_status
                } else {
                    401
                };
                if reply.status.as_u16() != want
                    || (want == 401 && !is_mlflow_error(&reply, "UNAUTHENTICATED"))
                {
                    failures.push(format!(
                        "POST {path} ({} body bytes) as {identity:?}: expected {want}, got {} {}",
                        bytes.len(),
                        reply.status,
                        String::from_utf8_lossy(&reply.bytes)
                    ));
                }
            }
        }
    }
    Ok(failures)
}

#[tokio::test]
async fn every_mlflow_route_as_every_identity() -> Result<()> {
    let started = std::time::Instant::now();
    let (api, http, fx) = start().await?;
    let mut failures = check_unauthenticated(&http, &fx).await?;
    let (checked, cells) = check_every_cell(&http, &fx).await?;
    failures.extend(cells);
    failures.extend(check_multipart(&http, &fx).await?);
    failures.extend(check_content_types_and_body_order(&http, &fx).await?);
    println!(
        "MLflow matrix: {checked} cells and the checks around them in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} MLflow authorization checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Every refusal is in the audit trail, and the chain is intact.
    let verify = api.get("/api/v1/audit/verify").await?;
    expect_status(&verify, 200);
    assert_eq!(verify.1["intact"], true, "{}", verify.1);
    Ok(())
}
