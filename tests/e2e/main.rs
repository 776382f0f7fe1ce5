//! End-to-end tests: every test starts the real `verity` binary (SQLite in a temporary data
//! directory unless it says otherwise) and talks to it over HTTP, as a client would.
//!
//! Shared helpers live here; each area has its own module. `openapi_routes_are_all_covered`
//! fails when the OpenAPI document lists a route that [`COVERED_ROUTES`] does not name, so a
//! new route cannot ship without a test.

#![allow(clippy::unwrap_used)]

mod artifacts_models;
mod auth;
mod authz_matrix;
mod backends;
mod bad_input;
mod compliance;
mod dashboard;
mod evaluation;
mod evaluation_refusals;
mod hostile_walk;
mod lineage;
mod masking;
mod mlflow;
mod mlflow_history;
mod mlflow_matrix;
mod mlflow_multipart;
mod mlflow_routes;
mod monitoring;
mod privacy;
mod projects_datasets;
mod promotion;
mod raw_http;
mod runs;
mod search;
mod security_abuse;
mod security_accounts;
mod security_monitors;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use verity_tests::{ServerOptions, TestServer};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_verity");

/// Every route of the OpenAPI document, and the test that exercises it with a success case.
pub const COVERED_ROUTES: &[(&str, &str)] = &[
    // projects_datasets::projects_create_list_get_update
    ("POST", "/api/v1/projects"),
    ("GET", "/api/v1/projects"),
    ("GET", "/api/v1/projects/{project}"),
    ("PATCH", "/api/v1/projects/{project}"),
    // dashboard::access_and_me_tell_the_dashboard_what_to_offer
    ("GET", "/api/v1/projects/{project}/access"),
    // promotion::sqlite_gated_promotion (compliance::promoted_version_reports)
    ("POST", "/api/v1/projects/{project}/compliance-reports"),
    ("GET", "/api/v1/projects/{project}/compliance-reports"),
    ("GET", "/api/v1/projects/{project}/compliance-reports/{id}"),
    (
        "GET",
        "/api/v1/projects/{project}/compliance-reports/{id}/{format}",
    ),
    (
        "GET",
        "/api/v1/projects/{project}/models/{model}/versions/{version}/documentation",
    ),
    (
        "PUT",
        "/api/v1/projects/{project}/models/{model}/versions/{version}/documentation",
    ),
    (
        "GET",
        "/api/v1/projects/{project}/datasets/{dataset}/versions/{version}/documentation",
    ),
    (
        "PUT",
        "/api/v1/projects/{project}/datasets/{dataset}/versions/{version}/documentation",
    ),
    ("GET", "/api/v1/projects/{project}/gates"),
    ("PUT", "/api/v1/projects/{project}/gates"),
    ("DELETE", "/api/v1/projects/{project}/gates/{alias}"),
    (
        "GET",
        "/api/v1/projects/{project}/models/{model}/versions/{version}/gates/{alias}",
    ),
    (
        "GET",
        "/api/v1/projects/{project}/models/{model}/versions/{version}/reviews",
    ),
    (
        "POST",
        "/api/v1/projects/{project}/models/{model}/versions/{version}/reviews",
    ),
    (
        "POST",
        "/api/v1/projects/{project}/models/{model}/versions/{version}/retire",
    ),
    // masking::sqlite_masked_reads
    (
        "GET",
        "/api/v1/projects/{project}/datasets/{dataset}/masking",
    ),
    (
        "PUT",
        "/api/v1/projects/{project}/datasets/{dataset}/masking",
    ),
    // privacy::sqlite_viewer_gets_dp_answers_not_rows
    (
        "GET",
        "/api/v1/projects/{project}/datasets/{dataset}/privacy/budgets",
    ),
    (
        "PUT",
        "/api/v1/projects/{project}/datasets/{dataset}/privacy/budgets",
    ),
    (
        "GET",
        "/api/v1/projects/{project}/datasets/{dataset}/privacy/ledger",
    ),
    (
        "POST",
        "/api/v1/projects/{project}/datasets/{dataset}/versions/{version}/dp",
    ),
    // projects_datasets::experiments_lifecycle
    ("POST", "/api/v1/projects/{project}/experiments"),
    ("GET", "/api/v1/projects/{project}/experiments"),
    ("GET", "/api/v1/projects/{project}/experiments/{experiment}"),
    (
        "PATCH",
        "/api/v1/projects/{project}/experiments/{experiment}",
    ),
    (
        "DELETE",
        "/api/v1/projects/{project}/experiments/{experiment}",
    ),
    (
        "POST",
        "/api/v1/projects/{project}/experiments/{experiment}/restore",
    ),
    // projects_datasets::dataset_csv_upload_reads_schema_and_rows (and the parquet test)
    ("POST", "/api/v1/projects/{project}/datasets"),
    ("GET", "/api/v1/projects/{project}/datasets"),
    ("GET", "/api/v1/projects/{project}/datasets/{dataset}"),
    (
        "POST",
        "/api/v1/projects/{project}/datasets/{dataset}/versions",
    ),
    (
        "GET",
        "/api/v1/projects/{project}/datasets/{dataset}/versions",
    ),
    (
        "GET",
        "/api/v1/projects/{project}/datasets/{dataset}/versions/{version}",
    ),
    (
        "GET",
        "/api/v1/projects/{project}/datasets/{dataset}/versions/{version}/schema",
    ),
    (
        "GET",
        "/api/v1/projects/{project}/datasets/{dataset}/versions/{version}/content",
    ),
    ("GET", "/api/v1/dataset-versions/{id}"),
    // runs::run_lifecycle, runs::single_param_tag_and_metric_routes, runs::* metrics tests
    (
        "POST",
        "/api/v1/projects/{project}/experiments/{experiment}/runs",
    ),
    ("GET", "/api/v1/runs/{run_id}"),
    ("PATCH", "/api/v1/runs/{run_id}"),
    ("DELETE", "/api/v1/runs/{run_id}"),
    ("POST", "/api/v1/runs/{run_id}/restore"),
    ("POST", "/api/v1/runs/{run_id}/batch"),
    ("POST", "/api/v1/runs/{run_id}/params"),
    ("POST", "/api/v1/runs/{run_id}/tags"),
    ("DELETE", "/api/v1/runs/{run_id}/tags/{key}"),
    ("POST", "/api/v1/runs/{run_id}/metrics"),
    ("GET", "/api/v1/runs/{run_id}/metrics"),
    ("GET", "/api/v1/runs/{run_id}/metric-history"),
    ("GET", "/api/v1/runs/{run_id}/metric-history/downsampled"),
    // runs::inputs_and_outputs
    ("POST", "/api/v1/runs/{run_id}/inputs"),
    ("POST", "/api/v1/runs/{run_id}/outputs"),
    // search::*
    ("POST", "/api/v1/projects/{project}/runs/search"),
    // artifacts_models::artifacts_upload_list_download
    ("PUT", "/api/v1/runs/{run_id}/artifacts/{path}"),
    ("GET", "/api/v1/runs/{run_id}/artifacts/{path}"),
    ("GET", "/api/v1/runs/{run_id}/artifacts"),
    // artifacts_models::models_versions_and_files, artifacts_models::aliases_history_and_time_travel
    ("POST", "/api/v1/projects/{project}/models"),
    ("GET", "/api/v1/projects/{project}/models"),
    ("GET", "/api/v1/projects/{project}/models/{model}"),
    ("PATCH", "/api/v1/projects/{project}/models/{model}"),
    ("POST", "/api/v1/projects/{project}/models/{model}/versions"),
    ("GET", "/api/v1/projects/{project}/models/{model}/versions"),
    (
        "GET",
        "/api/v1/projects/{project}/models/{model}/versions/{version}",
    ),
    (
        "PATCH",
        "/api/v1/projects/{project}/models/{model}/versions/{version}",
    ),
    (
        "GET",
        "/api/v1/projects/{project}/models/{model}/versions/{version}/files/{path}",
    ),
    (
        "GET",
        "/api/v1/projects/{project}/models/{model}/aliases/{alias}",
    ),
    (
        "PUT",
        "/api/v1/projects/{project}/models/{model}/aliases/{alias}",
    ),
    (
        "DELETE",
        "/api/v1/projects/{project}/models/{model}/aliases/{alias}",
    ),
    (
        "GET",
        "/api/v1/projects/{project}/models/{model}/alias-history",
    ),
    // lineage::*
    ("GET", "/api/v1/lineage"),
    ("GET", "/api/v1/runs/{run_id}/openlineage"),
    // authz_matrix::* (every route, every role) and auth::*
    ("PATCH", "/api/v1/projects/{project}/datasets/{dataset}"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/auth/me"),
    // security_accounts::password_changes_end_other_credentials
    ("POST", "/api/v1/auth/password"),
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users"),
    ("GET", "/api/v1/users/{name}"),
    ("PATCH", "/api/v1/users/{name}"),
    ("GET", "/api/v1/tokens"),
    ("POST", "/api/v1/tokens"),
    ("DELETE", "/api/v1/tokens/{id}"),
    ("GET", "/api/v1/projects/{project}/members"),
    ("PUT", "/api/v1/projects/{project}/members/{user}"),
    ("DELETE", "/api/v1/projects/{project}/members/{user}"),
    ("GET", "/api/v1/policies"),
    ("POST", "/api/v1/policies"),
    ("DELETE", "/api/v1/policies/{id}"),
    ("GET", "/api/v1/audit"),
    ("GET", "/api/v1/audit/export"),
    ("GET", "/api/v1/audit/verify"),
    // monitoring::checks_over_the_api
    ("POST", "/api/v1/projects/{project}/checks"),
    ("POST", "/api/v1/projects/{project}/evaluations"),
    ("POST", "/api/v1/projects/{project}/comparisons"),
    ("GET", "/api/v1/projects/{project}/reports"),
    ("GET", "/api/v1/projects/{project}/reports/{id}"),
    // monitoring::monitoring_bad_input and new_version_fires_monitor_alert_and_signed_webhook
    ("POST", "/api/v1/projects/{project}/monitors"),
    ("GET", "/api/v1/projects/{project}/monitors"),
    ("GET", "/api/v1/projects/{project}/monitors/{monitor}"),
    ("PATCH", "/api/v1/projects/{project}/monitors/{monitor}"),
    ("DELETE", "/api/v1/projects/{project}/monitors/{monitor}"),
    ("POST", "/api/v1/projects/{project}/monitors/{monitor}/runs"),
    ("GET", "/api/v1/projects/{project}/jobs"),
    ("GET", "/api/v1/projects/{project}/jobs/{id}"),
    ("GET", "/api/v1/projects/{project}/alerts"),
    ("GET", "/api/v1/projects/{project}/alerts/{id}"),
    ("POST", "/api/v1/projects/{project}/alerts/{id}/acknowledge"),
    ("POST", "/api/v1/projects/{project}/alerts/{id}/resolve"),
    ("POST", "/api/v1/projects/{project}/webhooks"),
    ("GET", "/api/v1/projects/{project}/webhooks"),
    ("DELETE", "/api/v1/projects/{project}/webhooks/{id}"),
    ("GET", "/api/v1/projects/{project}/webhooks/{id}/deliveries"),
];

/// A running server and a client for it.
pub struct Api {
    /// The server process.
    pub server: TestServer,
}

/// Starts a server on SQLite in a fresh temporary data directory.
pub fn server() -> Result<Api> {
    Api::start(ServerOptions::default())
}

/// Reads a response body as JSON (`Null` when empty).
pub async fn json(resp: reqwest::Response) -> Result<Value> {
    let status = resp.status();
    let bytes = resp.bytes().await?;
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{status}: body is not JSON: {}",
            String::from_utf8_lossy(&bytes)
        )
    })
}

/// Adds the JSON body to a request; a POST without one still declares the JSON type, as the
/// server requires.
fn with_json_body(
    request: reqwest::RequestBuilder,
    method: &Method,
    body: Option<&Value>,
) -> reqwest::RequestBuilder {
    match body {
        Some(body) => request.json(body),
        None if *method == Method::POST => {
            request.header(reqwest::header::CONTENT_TYPE, "application/json")
        }
        None => request,
    }
}

/// Sends a request and reads the answer: the status and the JSON body (`Null` when empty).
async fn json_reply(
    request: reqwest::RequestBuilder,
    method: &Method,
    path: &str,
) -> Result<(StatusCode, Value)> {
    let resp = request
        .send()
        .await
        .with_context(|| format!("{method} {path}"))?;
    let status = resp.status();
    Ok((
        status,
        json(resp)
            .await
            .with_context(|| format!("{method} {path}"))?,
    ))
}

/// Percent-encodes one path segment or query value (everything but unreserved characters).
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A header's value as text; empty when it is absent or not text.
pub fn header_text(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The SHA-256 of some bytes, in lowercase hex (the server's ETags are this, quoted).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Every operation of an OpenAPI document: (method in capitals, path template, operation).
pub fn openapi_operations(spec: &Value) -> Result<Vec<(String, String, &Value)>> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().context("paths")? {
        for method in [
            "get", "put", "post", "delete", "patch", "head", "options", "trace",
        ] {
            if let Some(operation) = item.get(method) {
                out.push((method.to_uppercase(), path.clone(), operation));
            }
        }
    }
    Ok(out)
}

/// Asserts the status of a reply, showing the body when it differs.
#[track_caller]
pub fn expect_status(reply: &(StatusCode, Value), want: u16) {
    assert_eq!(
        reply.0.as_u16(),
        want,
        "unexpected status, body: {}",
        reply.1
    );
}

/// Asserts an error reply: the status, the one JSON error shape, the code; returns the message.
#[track_caller]
pub fn expect_error(reply: &(StatusCode, Value), want_status: u16, want_code: &str) -> String {
    assert_eq!(
        reply.0.as_u16(),
        want_status,
        "unexpected status, body: {}",
        reply.1
    );
    let error = reply
        .1
        .get("error")
        .unwrap_or_else(|| panic!("no `error` object in {}", reply.1));
    let code = error["code"]
        .as_str()
        .unwrap_or_else(|| panic!("error.code is not a string in {}", reply.1));
    let message = error["message"]
        .as_str()
        .unwrap_or_else(|| panic!("error.message is not a string in {}", reply.1));
    assert_eq!(code, want_code, "unexpected error code, body: {}", reply.1);
    assert!(!message.is_empty(), "empty error message: {}", reply.1);
    assert_eq!(
        reply.1.as_object().map(|o| o.len()),
        Some(1),
        "only `error` at the top: {}",
        reply.1
    );
    message.to_string()
}

/// Asserts a client error (any 4xx) in the one JSON error shape; returns (code, message).
#[track_caller]
pub fn expect_client_error(reply: &(StatusCode, Value)) -> (String, String) {
    assert!(
        reply.0.is_client_error(),
        "expected a 4xx, got {}: {}",
        reply.0,
        reply.1
    );
    let code = reply.1["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error.code in {}", reply.1))
        .to_string();
    let message = reply.1["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no error.message in {}", reply.1))
        .to_string();
    assert!(
        !code.is_empty() && !message.is_empty(),
        "empty code or message: {}",
        reply.1
    );
    (code, message)
}

/// The `items` of a list reply.
#[track_caller]
pub fn items(reply: &(StatusCode, Value)) -> Vec<Value> {
    expect_status(reply, 200);
    reply.1["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items array in {}", reply.1))
        .clone()
}

/// A CSV file with a header `id,name,score` and `rows` rows.
pub fn csv_bytes(rows: usize, salt: &str) -> Vec<u8> {
    let mut out = String::from("id,name,score\n");
    for i in 0..rows {
        out.push_str(&format!("{i},{salt}-{i},{}.5\n", i * 2));
    }
    out.into_bytes()
}

/// A Parquet file (written with arrow's ArrowWriter) with columns id (Int64), name (Utf8) and
/// score (Float64), and `rows` rows.
pub fn parquet_bytes(rows: usize) -> Result<Vec<u8>> {
    use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
    let n = i64::try_from(rows)?;
    let ids: ArrayRef = Arc::new(Int64Array::from_iter_values(0..n));
    let names: ArrayRef = Arc::new(StringArray::from_iter_values(
        (0..rows).map(|i| format!("name-{i}")),
    ));
    let scores: ArrayRef = Arc::new(Float64Array::from_iter_values(
        (0..n).map(|i| i as f64 * 0.5),
    ));
    let batch = RecordBatch::try_from_iter([("id", ids), ("name", names), ("score", scores)])?;
    let mut buf = Vec::new();
    let mut writer = parquet::arrow::ArrowWriter::try_new(&mut buf, batch.schema(), None)?;
    writer.write(&batch)?;
    writer.close()?;
    Ok(buf)
}

/// Runs `verity <subcommand> <args>` with no standard input; returns the exit code, standard
/// output and standard error.
pub fn verity_command(subcommand: &str, args: &[&str]) -> Result<(i32, String, String)> {
    let out = std::process::Command::new(BIN)
        .arg(subcommand)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// Deterministic pseudo-random bytes (xorshift), so large uploads do not compress or repeat.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Every regular file under a directory, recursively (empty when it does not exist).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The content-addressed blob files of a server with local blobs.
pub fn blob_files(api: &Api) -> Vec<PathBuf> {
    files_under(&api.server.data_dir().join("blobs").join("sha256"))
}

/// Files left in the local blob store's temporary area.
pub fn tmp_files(api: &Api) -> Vec<PathBuf> {
    files_under(&api.server.data_dir().join("blobs").join("tmp"))
}

impl Api {
    /// Starts a server with these options.
    pub fn start(options: ServerOptions) -> Result<Self> {
        Ok(Self {
            server: TestServer::start(BIN, options)?,
        })
    }

    /// Sends a request with an optional JSON body; returns the status and the JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, Value)> {
        let request = self
            .server
            .client()
            .request(method.clone(), self.server.url(path));
        json_reply(with_json_body(request, &method, body), &method, path).await
    }

    /// Like [`Api::send`], as the holder of `token` (its Bearer credential in place of the
    /// client's own), or with no credentials at all for `None`.
    pub async fn send_as(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, Value)> {
        let url = self.server.url(path);
        let request = match token {
            Some(token) => self
                .server
                .client()
                .request(method.clone(), url)
                .bearer_auth(token),
            // A client of its own: the shared one may send the administrator's token.
            None => reqwest::Client::new().request(method.clone(), url),
        };
        json_reply(with_json_body(request, &method, body), &method, path).await
    }

    /// GET as the holder of `token` (see [`Api::send_as`]).
    pub async fn get_as(&self, token: &str, path: &str) -> Result<(StatusCode, Value)> {
        self.send_as(Some(token), Method::GET, path, None).await
    }

    /// GET.
    pub async fn get(&self, path: &str) -> Result<(StatusCode, Value)> {
        self.send(Method::GET, path, None).await
    }

    /// POST with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> Result<(StatusCode, Value)> {
        self.send(Method::POST, path, Some(&body)).await
    }

    /// PUT with a JSON body.
    pub async fn put(&self, path: &str, body: Value) -> Result<(StatusCode, Value)> {
        self.send(Method::PUT, path, Some(&body)).await
    }

    /// PATCH with a JSON body.
    pub async fn patch(&self, path: &str, body: Value) -> Result<(StatusCode, Value)> {
        self.send(Method::PATCH, path, Some(&body)).await
    }

    /// DELETE.
    pub async fn delete(&self, path: &str) -> Result<(StatusCode, Value)> {
        self.send(Method::DELETE, path, None).await
    }

    /// Sends raw bytes with an optional Content-Type.
    pub async fn send_bytes(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        bytes: Vec<u8>,
    ) -> Result<(StatusCode, Value)> {
        let mut request = self
            .server
            .client()
            .request(method.clone(), self.server.url(path))
            .body(bytes);
        if let Some(ct) = content_type {
            request = request.header(reqwest::header::CONTENT_TYPE, ct);
        }
        json_reply(request, &method, path).await
    }

    /// Downloads bytes: status, headers and body.
    pub async fn download(&self, path: &str) -> Result<(StatusCode, HeaderMap, Vec<u8>)> {
        let resp = self
            .server
            .client()
            .get(self.server.url(path))
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        Ok((status, headers, resp.bytes().await?.to_vec()))
    }

    /// Sends a request byte for byte over TCP (no URL normalisation by a client library);
    /// returns the status and the JSON body.
    pub async fn raw(&self, method: &str, path: &str, body: &[u8]) -> Result<(StatusCode, Value)> {
        let addr = self.server.base().trim_start_matches("http://");
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let (buf, _) =
            raw_http::exchange(addr, head, body.to_vec(), Duration::from_secs(300)).await?;
        let answer = raw_http::parse(&buf, true)
            .with_context(|| format!("no whole answer in {:?}", String::from_utf8_lossy(&buf)))?;
        let body = if answer.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&answer.body)
                .with_context(|| format!("not JSON: {:?}", String::from_utf8_lossy(&answer.body)))?
        };
        Ok((StatusCode::from_u16(answer.status)?, body))
    }

    /// Creates a project (asserting 201).
    pub async fn project(&self, name: &str) -> Result<Value> {
        let reply = self
            .post(
                "/api/v1/projects",
                json!({"name": name, "description": format!("{name} project")}),
            )
            .await?;
        expect_status(&reply, 201);
        Ok(reply.1)
    }

    /// Creates an experiment (asserting 201); returns its id.
    pub async fn experiment(&self, project: &str, name: &str) -> Result<i64> {
        let reply = self
            .post(
                &format!("/api/v1/projects/{}/experiments", enc(project)),
                json!({"name": name}),
            )
            .await?;
        expect_status(&reply, 201);
        reply.1["id"].as_i64().context("experiment id")
    }

    /// Starts a run (asserting 201); returns its run_id.
    pub async fn run(&self, project: &str, experiment: i64, body: Value) -> Result<String> {
        let reply = self
            .post(
                &format!(
                    "/api/v1/projects/{}/experiments/{experiment}/runs",
                    enc(project)
                ),
                body,
            )
            .await?;
        expect_status(&reply, 201);
        Ok(reply.1["run_id"].as_str().context("run_id")?.to_string())
    }

    /// A project, an experiment and a run in it: (experiment id, run id).
    pub async fn project_with_run(&self, project: &str) -> Result<(i64, String)> {
        self.project(project).await?;
        let experiment = self.experiment(project, "exp").await?;
        let run = self.run(project, experiment, json!({})).await?;
        Ok((experiment, run))
    }

    /// Creates a dataset (asserting 201).
    pub async fn dataset(&self, project: &str, name: &str) -> Result<Value> {
        let reply = self
            .post(
                &format!("/api/v1/projects/{}/datasets", enc(project)),
                json!({"name": name}),
            )
            .await?;
        expect_status(&reply, 201);
        Ok(reply.1)
    }

    /// Uploads a dataset version; returns the reply.
    pub async fn upload_version(
        &self,
        project: &str,
        dataset: &str,
        content_type: Option<&str>,
        bytes: Vec<u8>,
    ) -> Result<(StatusCode, Value)> {
        self.send_bytes(
            Method::POST,
            &format!(
                "/api/v1/projects/{}/datasets/{}/versions",
                enc(project),
                enc(dataset)
            ),
            content_type,
            bytes,
        )
        .await
    }

    /// Logs a batch (asserting 204).
    pub async fn batch(&self, run: &str, body: Value) -> Result<()> {
        let reply = self
            .post(&format!("/api/v1/runs/{run}/batch"), body)
            .await?;
        expect_status(&reply, 204);
        Ok(())
    }

    /// Uploads an artifact; returns the reply.
    pub async fn put_artifact(
        &self,
        run: &str,
        path: &str,
        bytes: Vec<u8>,
    ) -> Result<(StatusCode, Value)> {
        self.send_bytes(
            Method::PUT,
            &format!("/api/v1/runs/{run}/artifacts/{path}"),
            Some("application/octet-stream"),
            bytes,
        )
        .await
    }

    /// Creates a registered model (asserting 201).
    pub async fn model(&self, project: &str, name: &str) -> Result<Value> {
        let reply = self
            .post(
                &format!("/api/v1/projects/{}/models", enc(project)),
                json!({"name": name}),
            )
            .await?;
        expect_status(&reply, 201);
        Ok(reply.1)
    }
}

#[tokio::test]
async fn openapi_routes_are_all_covered() -> Result<()> {
    let api = server()?;
    let (status, spec) = api.get("/openapi.json").await?;
    assert_eq!(status, 200);
    assert!(
        spec["openapi"].as_str().is_some_and(|v| v.starts_with('3')),
        "{}",
        spec["openapi"]
    );
    assert_eq!(spec["info"]["title"], "Verity");
    let listed: BTreeSet<(String, String)> = openapi_operations(&spec)?
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    let covered: BTreeSet<(String, String)> = COVERED_ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(
        covered.len(),
        COVERED_ROUTES.len(),
        "COVERED_ROUTES has duplicates"
    );
    let untested: Vec<_> = listed.difference(&covered).collect();
    let stale: Vec<_> = covered.difference(&listed).collect();
    assert!(
        untested.is_empty(),
        "routes in /openapi.json without an end-to-end test: {untested:?}"
    );
    assert!(
        stale.is_empty(),
        "COVERED_ROUTES names routes that /openapi.json does not list: {stale:?}"
    );
    // Every operation documents its error body.
    assert!(
        spec["components"]["schemas"]["ErrorBody"].is_object(),
        "ErrorBody schema is documented"
    );
    Ok(())
}

#[tokio::test]
async fn health_and_ready() -> Result<()> {
    let api = server()?;
    let (status, body) = api.get("/health").await?;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"status": "ok"}));
    let (status, body) = api.get("/ready").await?;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"status": "ready"}));
    Ok(())
}

#[tokio::test]
async fn unknown_route_is_404_json() -> Result<()> {
    let api = server()?;
    for path in [
        "/nope",
        "/api/v1/nope",
        "/api/v2/projects",
        "/api/v1/runs/abc/unknown-sub-resource",
    ] {
        let reply = api.get(path).await?;
        expect_error(&reply, 404, "route_not_found");
    }
    let reply = api
        .post("/api/v1/not-a-collection", json!({"name": "x"}))
        .await?;
    expect_error(&reply, 404, "route_not_found");
    // Every response carries a request id.
    let resp = api
        .server
        .client()
        .get(api.server.url("/nope"))
        .send()
        .await?;
    assert!(
        resp.headers().contains_key("x-request-id"),
        "x-request-id header: {:?}",
        resp.headers()
    );
    Ok(())
}
