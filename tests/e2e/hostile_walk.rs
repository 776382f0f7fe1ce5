//! A hostile-input walk: every route of /openapi.json and every MLflow route
//! ([`crate::mlflow_routes`]: both prefixes, and the proxied artifact routes), called without
//! credentials and as a project viewer with hostile path parameters (over-long names,
//! traversal, NUL, invalid UTF-8, SQL, unicode, ids that overflow), hostile bodies (empty,
//! `null`, 2 MB strings, 1,000-deep nesting, huge numbers, invalid UTF-8, SQL in every string
//! of the right shape, form and `text/plain` types) and hostile query strings. No answer is a
//! 5xx, no caller gets a success the authorization matrix denies, every refusal carries its
//! route's JSON error envelope, and no secret (passwords, API tokens, the webhook signing
//! secret, the session cookie, password hashes) is in any answer or any line of the server's
//! debug log. The server answers /health afterwards.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use futures::StreamExt as _;
use reqwest::Method;
use serde_json::{Value, json};
use verity_tests::ServerOptions;

use crate::mlflow_routes::{self, ARTIFACTS_PREFIX, TRACKING_PREFIXES, served_routes};
use crate::{Api, csv_bytes, enc, openapi_operations, raw_http};

const ADMIN_PASSWORD: &str = "hostile-admin-password-0451";
const VIEWER_PASSWORD: &str = "hostile-viewer-password-0452";
const WEBHOOK_SECRET: &str = "hostile-webhook-signing-secret-0453";

/// Requests in flight at once (CI runs on 2 cores).
const CONCURRENCY: usize = 8;

/// MLflow POSTs that only read: a viewer may make them.
const MLFLOW_READ_POSTS: &[&str] = &[
    "/runs/search",
    "/experiments/search",
    "/registered-models/search",
    "/model-versions/search",
    "/logged-models/search",
    "/registered-models/get-latest-versions",
    "/metrics/get-history-bulk-interval",
];

/// The query parameters each MLflow GET takes.
fn mlflow_query_keys(suffix: &str) -> &'static [&'static str] {
    match suffix {
        "/experiments/get" => &["experiment_id"],
        "/experiments/get-by-name" => &["experiment_name"],
        "/experiments/search" | "/registered-models/search" | "/model-versions/search" => &[
            "filter",
            "order_by",
            "max_results",
            "page_token",
            "view_type",
        ],
        "/runs/get" => &["run_id", "run_uuid"],
        "/metrics/get-history" => &["run_id", "metric_key", "max_results", "page_token"],
        "/metrics/get-history-bulk-interval" => &[
            "run_ids",
            "metric_key",
            "start_step",
            "end_step",
            "max_results",
        ],
        "/registered-models/get" => &["name"],
        "/registered-models/alias" => &["name", "alias"],
        "/model-versions/get" | "/model-versions/get-download-uri" => &["name", "version"],
        "/registered-models/get-latest-versions" => &["name", "stages"],
        "/artifacts" => &["path"],
        _ => &[],
    }
}

/// Hostile values for a path parameter: (label, the text as it goes into the URL).
fn path_values() -> Vec<(&'static str, String)> {
    vec![
        ("300 chars", "n".repeat(300)),
        ("70,000 chars", "n".repeat(70_000)),
        ("..", "..".into()),
        ("../../etc/passwd", "../../etc/passwd".into()),
        ("../../etc/passwd escaped", enc("../../etc/passwd")),
        ("%2e%2e%2f", "%2e%2e%2f".into()),
        ("%00", "a%00b".into()),
        ("invalid UTF-8", "%ff%fe".into()),
        ("SQL quote", enc("' OR 1=1 --")),
        ("SQL drop", enc("\"; DROP TABLE projects; --")),
        ("emoji", enc("\u{1F525}\u{1F600}")),
        ("RTL marks", enc("\u{202E}gnp.exe\u{200F}")),
        ("-1", "-1".into()),
        ("0", "0".into()),
        ("i64 overflow", "99999999999999999999999".into()),
        ("1e309", "1e309".into()),
        ("NaN", "NaN".into()),
    ]
}

/// Hostile values for MLflow query fields (already escaped).
fn query_values() -> Vec<(&'static str, String)> {
    path_values()
        .into_iter()
        .filter(|(label, _)| !matches!(*label, "70,000 chars" | "../../etc/passwd"))
        .collect()
}

/// Who sends a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Anonymous,
    Viewer,
}

/// One request of the walk.
#[derive(Clone)]
struct Probe {
    who: Who,
    method: Method,
    /// The route as listed (full path template).
    template: String,
    /// Path and query as sent.
    target: String,
    content_type: Option<&'static str>,
    body: Option<Bytes>,
    variant: String,
}

impl Probe {
    fn label(&self) -> String {
        let mut target = clip(&self.target, 200);
        if self.target.len() > 200 {
            target = format!("{target}…({} bytes)", self.target.len());
        }
        format!(
            "{:?} {} {} [{}] ({target})",
            self.who, self.method, self.template, self.variant
        )
    }

    fn is_mlflow(&self) -> bool {
        mlflow_suffix(&self.template).is_some()
    }
}

/// At most `max` characters of a text.
fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// An answer.
struct Outcome {
    status: u16,
    headers: String,
    body: Bytes,
}

/// The ids and names the fixture made, and every secret it knows.
struct Fixture {
    /// Valid values for path parameters.
    values: BTreeMap<&'static str, String>,
    viewer_token: String,
    admin_token: String,
    secrets: Vec<(&'static str, String)>,
}

/// Sends a request as the administrator (token) and asserts success.
async fn admin(
    api: &Api,
    token: &str,
    method: Method,
    path: &str,
    body: Option<(&str, Vec<u8>)>,
) -> Result<Value> {
    let mut request = api
        .server
        .client()
        .request(method.clone(), api.server.url(path))
        .bearer_auth(token);
    if let Some((content_type, bytes)) = body {
        request = request.header("content-type", content_type).body(bytes);
    }
    let response = request.send().await?;
    let status = response.status();
    let bytes = response.bytes().await?;
    if !status.is_success() {
        bail!(
            "setup {method} {path}: {status} {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn fixture(api: &Api) -> Result<Fixture> {
    // A session of the administrator's (its cookie is a secret too), which makes the API token.
    let (cookie, csrf) = api.server.login_session("admin", ADMIN_PASSWORD).await?;
    let session = cookie
        .split_once('=')
        .map(|(_, v)| v.to_owned())
        .context("cookie value")?;
    let created: Value = reqwest::Client::new()
        .post(api.server.url("/api/v1/tokens"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "hostile-admin"}))
        .send()
        .await?
        .json()
        .await?;
    let token = created["token"].as_str().context("admin token")?.to_owned();
    let admin_token_id = created["id"].as_i64().context("admin token id")?;
    let t = token.as_str();
    let j = |v: Value| Some(("application/json", v.to_string().into_bytes()));
    let bytes = |ct: &'static str, b: &[u8]| Some((ct, b.to_vec()));

    let mut steps = vec![(
        Method::POST,
        "/api/v1/users".to_owned(),
        j(json!({"name": "vic", "password": VIEWER_PASSWORD})),
    )];
    for project in ["p", "default"] {
        steps.extend([
            (
                Method::POST,
                "/api/v1/projects".to_owned(),
                j(json!({"name": project})),
            ),
            (
                Method::PUT,
                format!("/api/v1/projects/{project}/members/vic"),
                j(json!({"role": "viewer"})),
            ),
            (
                Method::POST,
                format!("/api/v1/projects/{project}/models"),
                j(json!({"name": "m"})),
            ),
            (
                Method::POST,
                format!("/api/v1/projects/{project}/models/m/versions?file_name=model.bin"),
                bytes("application/octet-stream", b"weights"),
            ),
            (
                Method::PUT,
                format!("/api/v1/projects/{project}/models/m/aliases/champion"),
                j(json!({"version": 1})),
            ),
        ]);
    }
    steps.extend([
        (
            Method::POST,
            "/api/v1/projects/p/datasets".to_owned(),
            j(json!({"name": "ds"})),
        ),
        (
            Method::POST,
            "/api/v1/projects/p/monitors".to_owned(),
            j(
                json!({"name": "mon", "dataset": "ds", "checks": [{"kind": "profile"}],
                "on_new_version": false}),
            ),
        ),
    ]);
    for (method, path, body) in steps {
        admin(api, t, method, &path, body).await?;
    }
    let version = admin(
        api,
        t,
        Method::POST,
        "/api/v1/projects/p/datasets/ds/versions",
        Some(("text/csv", csv_bytes(5, "hostile"))),
    )
    .await?;
    let dataset_version_id = version["id"].as_i64().context("dataset version id")?;
    // An experiment and a run (with a tag and an artifact) in `p` and in MLflow's `default`.
    let mut runs = Vec::new();
    for project in ["p", "default"] {
        let path = format!("/api/v1/projects/{project}/experiments");
        let experiment = admin(api, t, Method::POST, &path, j(json!({"name": "e"}))).await?["id"]
            .as_i64()
            .context("experiment id")?;
        let path = format!("{path}/{experiment}/runs");
        let run = admin(api, t, Method::POST, &path, j(json!({}))).await?["run_id"]
            .as_str()
            .context("run id")?
            .to_owned();
        let path = format!("/api/v1/runs/{run}/tags");
        admin(
            api,
            t,
            Method::POST,
            &path,
            j(json!({"key": "k", "value": "v"})),
        )
        .await?;
        let path = format!("/api/v1/runs/{run}/artifacts/a.txt");
        let artifact = bytes("application/octet-stream", b"artifact");
        admin(api, t, Method::PUT, &path, artifact).await?;
        runs.push((experiment, run));
    }
    let webhook = admin(
        api,
        t,
        Method::POST,
        "/api/v1/projects/p/webhooks",
        j(json!({"url": "http://127.0.0.1:9/hook", "secret": WEBHOOK_SECRET})),
    )
    .await?;
    assert_eq!(webhook["secret"], WEBHOOK_SECRET, "{webhook}");
    let webhook_id = webhook["id"].as_i64().context("webhook id")?;
    let check = j(json!({"check": {"kind": "profile"}, "dataset": "ds"}));
    let report = admin(api, t, Method::POST, "/api/v1/projects/p/checks", check).await?;
    let report_id = report["id"].as_i64().context("report id")?;

    let viewer_token = api.server.login_token("vic", VIEWER_PASSWORD).await?;
    let (p_experiment, p_run) = runs[0].clone();
    let (mlflow_experiment, mlflow_run) = runs[1].clone();
    let values: BTreeMap<&'static str, String> = [
        ("project", "p".to_owned()),
        ("dataset", "ds".to_owned()),
        ("version", "1".to_owned()),
        ("experiment", p_experiment.to_string()),
        ("run_id", p_run),
        ("key", "k".to_owned()),
        ("model", "m".to_owned()),
        ("alias", "champion".to_owned()),
        ("monitor", "mon".to_owned()),
        ("user", "vic".to_owned()),
        // Someone else: a user reads only their own record.
        ("name", "admin".to_owned()),
        ("dataset_version_id", dataset_version_id.to_string()),
        ("token_id", admin_token_id.to_string()),
        ("webhook_id", webhook_id.to_string()),
        ("report_id", report_id.to_string()),
        ("model_id", "m-00000000000000000000000000000000".to_owned()),
        (
            "mlflow_artifact",
            format!("{mlflow_experiment}/{mlflow_run}/artifacts/a.txt"),
        ),
        (
            "mlflow_run_root",
            format!("{mlflow_experiment}/{mlflow_run}/artifacts"),
        ),
        (
            "upload_id",
            "00000000-0000-4000-8000-000000000000".to_owned(),
        ),
        ("part_number", "1".to_owned()),
    ]
    .into_iter()
    .collect();
    let secrets = vec![
        ("the administrator's password", ADMIN_PASSWORD.to_owned()),
        ("the viewer's password", VIEWER_PASSWORD.to_owned()),
        ("the administrator's API token", token.clone()),
        ("the viewer's API token", viewer_token.clone()),
        ("the webhook signing secret", WEBHOOK_SECRET.to_owned()),
        ("the session cookie", session),
        ("the session's CSRF token", csrf),
        ("a password hash", "$argon2".to_owned()),
    ];
    Ok(Fixture {
        values,
        viewer_token,
        admin_token: token,
        secrets,
    })
}

/// The value a path parameter of a route takes in the fixture.
fn valid_value(fx: &Fixture, template: &str, param: &str) -> String {
    let key = match param {
        "id" if template.contains("/tokens/") => "token_id",
        "id" if template.contains("/webhooks/") => "webhook_id",
        "id" if template.contains("/dataset-versions/") => "dataset_version_id",
        "id" if template.contains("/reports/") => "report_id",
        "id" => return "1".to_owned(),
        "path" if template.contains("/models/") => return "model.bin".to_owned(),
        "path" if template.starts_with(ARTIFACTS_PREFIX) => "mlflow_artifact",
        "path" => return "a.txt".to_owned(),
        other => other,
    };
    fx.values
        .get(key)
        .cloned()
        .unwrap_or_else(|| "1".to_owned())
}

/// The `{param}` names of a template, in order.
fn params(template: &str) -> Vec<String> {
    template
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(str::to_owned)
        .collect()
}

/// The template with every parameter filled: `hostile` for `param`, valid values for the rest.
fn fill(fx: &Fixture, template: &str, hostile: Option<(&str, &str)>) -> String {
    let mut out = template.to_owned();
    for param in params(template) {
        let value = match hostile {
            Some((p, v)) if p == param => v.to_owned(),
            _ => valid_value(fx, template, &param),
        };
        out = out.replace(&format!("{{{param}}}"), &value);
    }
    out
}

/// A route to walk.
struct Route {
    method: Method,
    template: String,
    /// Query parameters it documents.
    query: Vec<String>,
    /// Request body schema (OpenAPI), if it takes JSON.
    schema: Option<Value>,
    /// Whether it takes a body at all.
    takes_body: bool,
}

/// Fills a schema: strings from `string`, numbers `number`.
fn shape(
    spec: &Value,
    schema: &Value,
    string: &mut dyn FnMut() -> Value,
    number: &Value,
    depth: usize,
) -> Value {
    if depth > 8 {
        return Value::Null;
    }
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or_default();
        return shape(
            spec,
            &spec["components"]["schemas"][name],
            string,
            number,
            depth + 1,
        );
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(options) = schema[key].as_array()
            && let Some(first) = options.iter().find(|o| o["type"] != "null")
        {
            return shape(spec, first, string, number, depth + 1);
        }
    }
    let ty = match &schema["type"] {
        Value::String(t) => t.clone(),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("string")
            .to_owned(),
        _ if schema["properties"].is_object() => "object".to_owned(),
        _ => "string".to_owned(),
    };
    match ty.as_str() {
        "integer" | "number" => number.clone(),
        "boolean" => Value::Bool(false),
        "array" => json!([shape(spec, &schema["items"], string, number, depth + 1)]),
        "object" => match schema["properties"].as_object() {
            Some(properties) => Value::Object(
                properties
                    .iter()
                    .map(|(k, s)| (k.clone(), shape(spec, s, string, number, depth + 1)))
                    .collect(),
            ),
            None => json!({"kind": string()}),
        },
        _ => string(),
    }
}

/// A body in the shape MLflow's routes read (the union of their fields; MLflow's fields are
/// not refused when unknown).
fn mlflow_shape(suffix: &str, string: &mut dyn FnMut() -> Value, number: &Value) -> Value {
    let mut s = || string();
    let pair = |s: &mut dyn FnMut() -> Value| json!({"key": s(), "value": s()});
    let mut body = json!({
        "name": s(), "experiment_id": s(), "run_id": s(), "run_uuid": s(), "key": s(),
        "value": s(), "experiment_name": s(), "filter": s(), "page_token": s(), "alias": s(),
        "version": s(), "description": s(), "source": s(), "new_name": s(), "stage": s(),
        "status": s(), "model_id": s(), "artifact_location": s(), "run_name": s(),
        "user_id": s(), "metric_key": s(), "path": s(), "view_type": s(),
        "experiment_ids": [s()], "order_by": [s()], "run_ids": [s()], "stages": [s()],
        "max_results": number, "timestamp": number, "step": number, "start_time": number,
        "end_time": number, "num_parts": number,
    });
    body["tags"] = json!([pair(&mut s)]);
    body["params"] = json!([pair(&mut s)]);
    body["metrics"] = json!([{"key": s(), "value": number, "timestamp": number, "step": number}]);
    body["datasets"] = json!([{"dataset": {"name": s(), "digest": s(), "source_type": s(),
        "source": s()}, "tags": [pair(&mut s)]}]);
    body["models"] = json!([{"model_id": s(), "step": number}]);
    body["parts"] = json!([{"part_number": number, "etag": s()}]);
    if suffix == "/runs/log-metric" {
        body["value"] = number.clone();
    }
    body
}

/// The walk's requests of one route, for one caller.
fn probes(spec: &Value, route: &Route, fx: &Fixture, who: Who) -> Vec<Probe> {
    let mut out = Vec::new();
    let method = route.method.clone();
    let template = route.template.as_str();
    let probe = |target: String,
                 content_type: Option<&'static str>,
                 body: Option<Bytes>,
                 variant: String| Probe {
        who,
        method: method.clone(),
        template: template.to_owned(),
        target,
        content_type,
        body,
        variant,
    };
    // A small valid-looking body for requests whose hostile part is elsewhere.
    let plain_body = || -> (Option<&'static str>, Option<Bytes>) {
        if route.takes_body {
            (Some("application/json"), Some(Bytes::from_static(b"{}")))
        } else {
            (None, None)
        }
    };
    // Path parameters.
    for param in params(template) {
        for (label, value) in path_values() {
            let (ct, body) = plain_body();
            out.push(probe(
                fill(fx, template, Some((&param, &value))),
                ct,
                body.clone(),
                format!("{{{param}}} = {label}"),
            ));
            // An MLflow artifact location: the hostile part inside a real run's artifacts too.
            if param == "path" && template.starts_with(ARTIFACTS_PREFIX) {
                let inner = format!("{}/{value}", fx.values["mlflow_run_root"]);
                out.push(probe(
                    fill(fx, template, Some((&param, &inner))),
                    ct,
                    body,
                    format!("{{{param}}} = <run>/artifacts/{label}"),
                ));
            }
        }
    }
    let base = fill(fx, template, None);
    let mlflow_suffix = mlflow_suffix(template);
    let is_mlflow = mlflow_suffix.is_some();
    // Query strings.
    if method == Method::GET || !route.query.is_empty() {
        let sql = enc("' OR 1=1 --");
        let mut filter = format!("filter={sql}");
        for key in &route.query {
            if key != "filter" {
                filter.push_str(&format!("&{key}={}", enc("\"; DROP TABLE projects; --")));
            }
        }
        let (page, cursor) = if is_mlflow {
            ("max_results", "page_token")
        } else {
            ("limit", "cursor")
        };
        for (label, query) in [
            ("hostile filter", filter),
            ("limit -1", format!("{page}=-1")),
            ("limit overflow", format!("{page}=99999999999999999999")),
            ("garbage cursor", format!("{cursor}=garbage")),
            ("40 KB query", format!("q={}", "x".repeat(40 * 1024))),
        ] {
            let (ct, body) = plain_body();
            out.push(probe(
                format!("{base}?{query}"),
                ct,
                body,
                format!("query: {label}"),
            ));
        }
        // MLflow GETs read their fields from the query: every field hostile at once.
        if let Some(suffix) = mlflow_suffix {
            let keys = mlflow_query_keys(suffix);
            if !keys.is_empty() {
                for (label, value) in query_values() {
                    let query: Vec<String> = keys.iter().map(|k| format!("{k}={value}")).collect();
                    let (ct, body) = plain_body();
                    out.push(probe(
                        format!("{base}?{}", query.join("&")),
                        ct,
                        body,
                        format!("query fields = {label}"),
                    ));
                }
            }
        }
    }
    // Bodies.
    if route.takes_body {
        let sqls = ["' OR 1=1 --", "\"; DROP TABLE projects; --"];
        let make = |string: &mut dyn FnMut() -> Value, number: &Value| -> Value {
            match (&route.schema, mlflow_suffix) {
                (_, Some(suffix)) => mlflow_shape(suffix, string, number),
                (Some(schema), None) => shape(spec, schema, string, number, 0),
                (None, None) => json!({"name": string(), "value": number}),
            }
        };
        let json_bytes = |v: &Value| Bytes::from(v.to_string().into_bytes());
        let mut n = 0;
        let sql_body = make(
            &mut || {
                n += 1;
                Value::String(sqls[n % 2].to_owned())
            },
            &json!(1),
        );
        let mut first = true;
        let big = "b".repeat(2 * 1024 * 1024);
        let big_body = make(
            &mut || {
                if std::mem::take(&mut first) {
                    Value::String(big.clone())
                } else {
                    Value::String("x".to_owned())
                }
            },
            &json!(1),
        );
        let marker = 7_373_737_373_i64;
        let number_body = make(&mut || Value::String("x".to_owned()), &json!(marker)).to_string();
        let deep_arrays = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
        let deep_objects = format!("{}1{}", "{\"a\":".repeat(1000), "}".repeat(1000));
        let mut bodies: Vec<(&str, Option<&'static str>, Bytes)> = vec![
            ("empty", Some("application/json"), Bytes::new()),
            (
                "null",
                Some("application/json"),
                Bytes::from_static(b"null"),
            ),
            (
                "2 MB string",
                Some("application/json"),
                json_bytes(&big_body),
            ),
            (
                "1,000-deep arrays",
                Some("application/json"),
                Bytes::from(deep_arrays),
            ),
            (
                "1,000-deep objects",
                Some("application/json"),
                Bytes::from(deep_objects),
            ),
            (
                "invalid UTF-8",
                Some("application/json"),
                Bytes::from_static(b"{\"name\": \"\xff\xfe\xfd\", \"key\": \"\xc3\x28\"}"),
            ),
            (
                "SQL in every string",
                Some("application/json"),
                json_bytes(&sql_body),
            ),
            (
                "text/plain",
                Some("text/plain"),
                Bytes::from_static(b"{\"name\": \"x\"}"),
            ),
            (
                "form",
                Some("application/x-www-form-urlencoded"),
                Bytes::from_static(b"name=x&password=y&current_password=z"),
            ),
            (
                "no content type",
                None,
                Bytes::from_static(b"{\"name\": \"x\"}"),
            ),
        ];
        for (label, literal) in [
            ("1e400", "1e400"),
            ("-1e400", "-1e400"),
            ("2^64", "18446744073709551616"),
        ] {
            let text = if number_body.contains(&marker.to_string()) {
                number_body.replace(&marker.to_string(), literal)
            } else {
                format!("{{\"value\": {literal}, \"version\": {literal}}}")
            };
            bodies.push((label, Some("application/json"), Bytes::from(text)));
        }
        for (label, ct, body) in bodies {
            out.push(probe(
                base.clone(),
                ct,
                Some(body),
                format!("body: {label}"),
            ));
        }
    }
    out
}

/// Whether a request goes out over a connection of its own, byte for byte: a client library
/// would normalise `..` away or refuse a URL this long, and a server that refuses a request
/// before reading its body closes the connection, which a pooled client reports as an error
/// instead of the answer.
fn needs_raw(p: &Probe) -> bool {
    let path = p.target.split('?').next().unwrap_or_default();
    p.body.is_some() || path.split('/').any(|s| s == ".." || s == ".") || p.target.len() > 60_000
}

async fn send(
    client: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    p: &Probe,
) -> Result<Outcome> {
    if needs_raw(p) {
        return send_raw(base, token, p).await;
    }
    let mut request = client
        .request(p.method.clone(), format!("{base}{}", p.target))
        .timeout(Duration::from_secs(60));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(ct) = p.content_type {
        request = request.header("content-type", ct);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let headers = format!("{:?}", response.headers());
    let body = response.bytes().await?;
    Ok(Outcome {
        status,
        headers,
        body,
    })
}

/// Sends a request over a fresh TCP connection, exactly as written, and reads the answer.
async fn send_raw(base: &str, token: Option<&str>, p: &Probe) -> Result<Outcome> {
    let addr = base.trim_start_matches("http://");
    let body = p.body.clone().unwrap_or_default();
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        p.method,
        p.target,
        body.len()
    );
    if let Some(token) = token {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    if let Some(ct) = p.content_type {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    head.push_str("\r\n");
    let (buf, took) =
        raw_http::exchange(addr, head, body.to_vec(), Duration::from_secs(60)).await?;
    if buf.is_empty() {
        bail!("no answer (after {took:?})");
    }
    let answer = raw_http::parse(&buf, true).with_context(|| {
        format!(
            "an incomplete answer: {}",
            clip(&String::from_utf8_lossy(&buf), 300)
        )
    })?;
    Ok(Outcome {
        status: answer.status,
        headers: answer.head,
        body: Bytes::from(answer.body),
    })
}

/// Whether a template is a route of the MLflow protocol.
fn mlflow_suffix(template: &str) -> Option<&str> {
    TRACKING_PREFIXES
        .iter()
        .find_map(|p| template.strip_prefix(p))
        .or_else(|| template.strip_prefix(ARTIFACTS_PREFIX))
}

/// Reads the authorization matrix (docs/access-control.md) for the viewer: may this request
/// succeed?
fn viewer_may_succeed(method: &Method, template: &str) -> bool {
    let reads_only = |t: &str| {
        !(t.starts_with("/api/v1/users")
            || t.starts_with("/api/v1/audit")
            || t.starts_with("/api/v1/policies")
            || t.contains("/webhooks"))
    };
    if *method == Method::GET {
        return reads_only(template);
    }
    if let Some(suffix) = mlflow_suffix(template) {
        return *method == Method::POST && MLFLOW_READ_POSTS.contains(&suffix);
    }
    // A search is a read; every user may make an API token of their own ("self"); a model
    // card of what a viewer may read is generated for them too.
    *method == Method::POST
        && matches!(
            template,
            "/api/v1/projects/{project}/runs/search"
                | "/api/v1/tokens"
                | "/api/v1/projects/{project}/compliance-reports"
        )
}

/// What is wrong with an answer, if anything.
fn judge(p: &Probe, o: &Outcome, secrets: &[(&'static str, String)]) -> Vec<String> {
    let mut wrong = Vec::new();
    let status = o.status;
    let success = (200..300).contains(&status);
    let path_len = p.target.split('?').next().map_or(0, str::len);
    if status >= 500 {
        wrong.push(format!("server error {status}"));
    } else if !(200..300).contains(&status) && !(400..500).contains(&status) {
        wrong.push(format!("unexpected status {status}"));
    }
    let mpu_part = p.template.ends_with("/mpu/part/{upload_id}/{part_number}");
    match p.who {
        Who::Anonymous => {
            if success {
                wrong.push(format!("{status} without credentials"));
            }
            if p.template == "/api/v1/auth/login"
                && !matches!(status, 400 | 401 | 413 | 415 | 422 | 429)
            {
                wrong.push(format!("login answered {status}"));
            }
            if mpu_part && !(matches!(status, 400 | 404) || (status == 414 && path_len > 16384)) {
                wrong.push(format!("made-up upload part answered {status}"));
            }
            // Authenticated before anything else (the guards' 400/414/415 come first, and a
            // path no route matches is 404).
            if p.is_mlflow() && !mpu_part && !matches!(status, 400 | 401 | 404 | 414 | 415) {
                wrong.push(format!(
                    "MLflow route without credentials answered {status}"
                ));
            }
        }
        Who::Viewer => {
            // A token is not a session: there is nothing to log out of. The current password
            // the walk sends is never the viewer's.
            if p.template == "/api/v1/auth/logout" && status != 400 {
                wrong.push(format!("logout with a token answered {status}"));
            }
            if p.template == "/api/v1/auth/password"
                && !matches!(status, 400 | 403 | 413 | 415 | 422)
            {
                wrong.push(format!("a password change answered {status}"));
            }
            if success && !viewer_may_succeed(&p.method, &p.template) {
                wrong.push(format!("the viewer got {status}, which the matrix denies"));
            }
            if mpu_part && success {
                wrong.push(format!("made-up upload part answered {status}"));
            }
        }
    }
    // A URL longer than the HTTP library takes (65,534 bytes) is refused by hyper itself, with
    // an empty 414, before any of Verity's code sees the request.
    let refused_by_hyper = status == 414 && p.target.len() > 65_534 && o.body.is_empty();
    if (400..500).contains(&status) && !refused_by_hyper {
        match serde_json::from_slice::<Value>(&o.body) {
            Err(_) => wrong.push(format!(
                "{status} without a JSON body: {:?}",
                clip(&String::from_utf8_lossy(&o.body), 300)
            )),
            Ok(body) => {
                let good = if p.is_mlflow() {
                    body["error_code"].as_str().is_some_and(|c| !c.is_empty())
                        && body["message"].is_string()
                } else {
                    body["error"]["code"]
                        .as_str()
                        .is_some_and(|c| !c.is_empty())
                        && body["error"]["message"].is_string()
                };
                if !good {
                    let text = body.to_string();
                    wrong.push(format!(
                        "{status} in the wrong error envelope: {}",
                        clip(&text, 300)
                    ));
                }
            }
        }
    }
    let text = String::from_utf8_lossy(&o.body);
    for (what, secret) in secrets {
        if o.headers.contains(secret.as_str()) || text.contains(secret.as_str()) {
            wrong.push(format!("{what} is in the answer"));
        }
    }
    if text.contains("root:x:0:0") {
        wrong.push("/etc/passwd is in the answer".to_owned());
    }
    wrong
}

/// Removes ANSI colour sequences from a log line.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_walk() -> Result<()> {
    let started = Instant::now();
    // The MLflow routes walked are the server's: a route added there must be listed.
    mlflow_routes::lists_match_api_source()?;

    let api = Api::start(ServerOptions {
        admin_password: Some(ADMIN_PASSWORD.into()),
        capture_stderr: true,
        env: vec![("VERITY_LOG".into(), "debug".into())],
        ..ServerOptions::default()
    })?;
    let fx = fixture(&api).await?;

    let (_, spec) = api.get("/openapi.json").await?;
    let mut routes = Vec::new();
    for (method, path, op) in openapi_operations(&spec)? {
        let query = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .filter_map(|p| p["name"].as_str().map(str::to_owned))
            .collect();
        let schema = op["requestBody"]["content"]["application/json"]["schema"].clone();
        routes.push(Route {
            method: Method::from_bytes(method.as_bytes())?,
            template: path,
            query,
            schema: (!schema.is_null()).then_some(schema),
            takes_body: matches!(method.as_str(), "POST" | "PUT" | "PATCH"),
        });
    }
    let openapi_routes = routes.len();
    for (prefix, method, suffix) in served_routes() {
        routes.push(Route {
            method: Method::from_bytes(method.as_bytes())?,
            // `{*path}` (the rest of the path) is filled as any other parameter.
            template: format!("{prefix}{}", suffix.replace("{*", "{")),
            query: mlflow_query_keys(suffix)
                .iter()
                .map(|k| (*k).to_owned())
                .collect(),
            schema: None,
            // MLflow's DELETEs read a JSON body too; of the artifact routes, only the uploads
            // and the multipart steps take one.
            takes_body: if prefix == ARTIFACTS_PREFIX {
                matches!(method, "POST" | "PUT")
            } else {
                method != "GET"
            },
        });
    }

    let mut all = Vec::new();
    for who in [Who::Anonymous, Who::Viewer] {
        for route in &routes {
            all.extend(probes(&spec, route, &fx, who));
        }
    }
    let total = all.len();
    println!(
        "hostile walk: {} routes ({openapi_routes} from /openapi.json), {total} requests",
        routes.len()
    );

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;
    let base = api.server.base().to_owned();
    let viewer = fx.viewer_token.clone();
    let secrets = fx.secrets.clone();
    let walk_started = Instant::now();
    let results: Vec<(Probe, Result<Outcome>)> = futures::stream::iter(all)
        .map(|p| {
            let client = &client;
            let base = base.as_str();
            let token = (p.who == Who::Viewer).then_some(viewer.as_str());
            async move {
                let outcome = send(client, base, token, &p).await;
                (p, outcome)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let walked_in = walk_started.elapsed();

    let mut histogram: BTreeMap<(Who, String), usize> = BTreeMap::new();
    let mut by_variant: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut transport = Vec::new();
    for (p, outcome) in &results {
        match outcome {
            Ok(o) => {
                *histogram.entry((p.who, o.status.to_string())).or_default() += 1;
                let kind = p
                    .variant
                    .split_once("} = ")
                    .map_or(p.variant.as_str(), |(_, v)| v);
                *by_variant
                    .entry(format!("{:?} {kind}", p.who))
                    .or_default()
                    .entry(o.status.to_string())
                    .or_default() += 1;
                for wrong in judge(p, o, &secrets) {
                    failures.push(format!("{}: {wrong}", p.label()));
                }
            }
            Err(e) => {
                *histogram.entry((p.who, "no answer".into())).or_default() += 1;
                transport.push(format!("{}: {e:#}", p.label()));
            }
        }
    }

    // The server is still up, the administrator's token still works, nothing the fixture made
    // was changed, and the audit chain is intact.
    let health = client.get(api.server.url("/health")).send().await?;
    assert_eq!(health.status(), 200, "the server did not survive the walk");
    let admin_token = fx.admin_token.as_str();
    let version = admin(
        &api,
        admin_token,
        Method::GET,
        "/api/v1/projects/p/models/m/versions/1",
        None,
    )
    .await?;
    assert_eq!(version["version"], 1, "{version}");
    let members = admin(
        &api,
        admin_token,
        Method::GET,
        "/api/v1/projects/p/members",
        None,
    )
    .await?;
    assert!(
        members.to_string().contains("\"viewer\""),
        "vic is still a viewer: {members}"
    );
    let verify = admin(&api, admin_token, Method::GET, "/api/v1/audit/verify", None).await?;
    assert_eq!(verify["intact"], true, "{verify}");

    // Every log line, since the start.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let lines = api.server.stderr_lines();
    let mut leaked = Vec::new();
    for line in &lines {
        let line = strip_ansi(line);
        for (what, secret) in &secrets {
            if line.contains(secret.as_str()) {
                leaked.push(format!("{what} in the log: {}", clip(&line, 400)));
            }
        }
    }

    println!(
        "hostile walk: {total} requests in {:.1} s ({:.1} s in all), {} log lines checked",
        walked_in.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        lines.len()
    );
    println!("status histogram (caller, status): {histogram:?}");
    for (variant, statuses) in &by_variant {
        println!("  {variant}: {statuses:?}");
    }
    let show = |list: &[String]| {
        let mut list = list.to_vec();
        list.sort();
        let more = list.len().saturating_sub(60);
        let mut text = list.into_iter().take(60).collect::<Vec<_>>().join("\n");
        if more > 0 {
            text.push_str(&format!("\n… and {more} more"));
        }
        text
    };
    assert!(
        failures.is_empty(),
        "{} of {total} answers wrong:\n{}",
        failures.len(),
        show(&failures)
    );
    assert!(
        transport.is_empty(),
        "{} requests got no answer:\n{}",
        transport.len(),
        show(&transport)
    );
    assert!(leaked.is_empty(), "secrets in the log:\n{}", show(&leaked));
    assert!(
        lines.len() > 1000,
        "the debug log was captured ({} lines)",
        lines.len()
    );
    // The log that was checked shows the requests (a secret in a URL would be seen), and the
    // check finds a secret where there is one.
    assert!(
        lines
            .iter()
            .any(|l| l.contains("/api/v1/projects/p/datasets/ds")),
        "request URIs are in the debug log"
    );
    let planted = Outcome {
        status: 400,
        headers: String::new(),
        body: Bytes::from(format!(
            "{{\"error\": {{\"code\": \"x\", \"message\": \"{ADMIN_PASSWORD}\"}}}}"
        )),
    };
    let probe = results.first().context("no request")?.0.clone();
    assert!(
        judge(&probe, &planted, &secrets)
            .iter()
            .any(|w| w.contains("the administrator's password")),
        "the secret check finds a planted secret"
    );
    Ok(())
}
