//! The authorization matrix: every route of /openapi.json × every role × (for dataset
//! routes) every sensitivity level × (for run routes) own or someone else's run, against an
//! independent statement of the documented action × role table (docs/access-control.md).
//! A route without an entry here fails the test, so no route ships unchecked.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result, bail};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use verity_tests::ServerOptions;

use crate::{Api, csv_bytes, openapi_operations};

const ADMIN_PASSWORD: &str = "matrix-admin-password";
const USER_PASSWORD: &str = "matrix-user-password";

/// Roles under test; `outsider` is authenticated but has no role, `anonymous` sends nothing.
const ROLES: [&str; 9] = [
    "admin",
    "owner",
    "maintainer",
    "contributor",
    "viewer",
    "auditor",
    "approver",
    "outsider",
    "anonymous",
];

/// Project members' clearance (the default for new users); the admin's is `restricted`.
const MEMBER_CLEARANCE: usize = 1;
const SENSITIVITIES: [&str; 4] = ["public", "internal", "confidential", "restricted"];

/// The documented table, written out independently of the server's rules: may `role` take
/// `action` on data of this sensitivity (`None`: no data), on their own run or another's?
pub(crate) fn allowed(role: &str, action: &str, sensitivity: Option<&str>, own_run: bool) -> bool {
    const VIEW: &[&str] = &[
        "project.read",
        "dataset.read",
        "dataset.read_data",
        "experiment.read",
        "run.read",
        "model.read",
        "lineage.read",
        "report.read",
        "monitor.read",
        "dataset.query_dp",
    ];
    const CONTRIBUTE: &[&str] = &[
        "dataset.create",
        "dataset.write",
        "experiment.create",
        "run.create",
        "model.create",
        "model_version.create",
        "check.run",
        "alert.update",
    ];
    const RUN_CHANGES: &[&str] = &["run.write", "run.delete"];
    const MAINTAIN: &[&str] = &[
        "experiment.update",
        "experiment.delete",
        "model.update",
        "model_version.update",
        "model.alias",
        "monitor.manage",
    ];
    const OWN: &[&str] = &[
        "project.update",
        "dataset.update",
        "project.manage_members",
        "audit.read",
        "webhook.manage",
        "privacy.manage",
        "privacy.read",
        "gate.manage",
    ];
    if role == "anonymous" {
        return action == "public";
    }
    // Four eyes: the matrix's model versions are the administrator's, who may not review them.
    if action == "model_version.approve (not own)" {
        return matches!(role, "approver" | "owner");
    }
    // Masking opens a view to readers below the sensitivity: owners need clearance for it.
    if action == "privacy.manage+clearance" {
        return allowed(role, "privacy.manage", sensitivity, own_run)
            && allowed(role, "dataset.read_data", sensitivity, own_run);
    }
    if action == "public" || action == "self" {
        return true;
    }
    // Reports show what the data holds, and a check reads the data.
    if matches!(action, "dataset.read_data" | "report.read" | "check.run") {
        let needed = SENSITIVITIES
            .iter()
            .position(|s| Some(*s) == sensitivity)
            .unwrap_or(0);
        let clearance = if role == "admin" { 3 } else { MEMBER_CLEARANCE };
        if needed > clearance {
            return false;
        }
    }
    let has = |set: &[&str]| set.contains(&action);
    match role {
        "admin" => true,
        "owner" => has(VIEW) || has(CONTRIBUTE) || has(RUN_CHANGES) || has(MAINTAIN) || has(OWN),
        "maintainer" => has(VIEW) || has(CONTRIBUTE) || has(RUN_CHANGES) || has(MAINTAIN),
        "contributor" => has(VIEW) || has(CONTRIBUTE) || (own_run && has(RUN_CHANGES)),
        "viewer" | "approver" => has(VIEW),
        "auditor" => has(VIEW) || matches!(action, "audit.read" | "privacy.read"),
        _ => false,
    }
}

/// A request body.
#[derive(Clone)]
enum Body {
    None,
    Json(Value),
    Bytes(&'static str, Vec<u8>),
}

/// One request to send.
#[derive(Clone)]
struct Req {
    method: Method,
    path: String,
    body: Body,
}

fn req(method: Method, path: impl Into<String>, body: Body) -> Req {
    Req {
        method,
        path: path.into(),
        body,
    }
}

/// A client acting as one role.
struct As<'a> {
    api: &'a Api,
    token: Option<String>,
}

impl As<'_> {
    async fn send(&self, r: &Req) -> Result<(StatusCode, Value)> {
        let client = self.api.server.client();
        let mut builder = client.request(r.method.clone(), self.api.server.url(&r.path));
        if let Some(token) = &self.token {
            builder = builder.bearer_auth(token);
        }
        builder = match &r.body {
            Body::None => builder,
            Body::Json(v) => builder.json(v),
            Body::Bytes(ct, bytes) => builder.header("content-type", *ct).body(bytes.clone()),
        };
        let resp = builder
            .send()
            .await
            .with_context(|| format!("{} {}", r.method, r.path))?;
        let status = resp.status();
        let bytes = resp.bytes().await?;
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((status, value))
    }

    async fn ok(&self, r: Req) -> Result<Value> {
        let (status, body) = self.send(&r).await?;
        if !status.is_success() {
            bail!("setup {} {} failed: {status} {body}", r.method, r.path);
        }
        Ok(body)
    }
}

/// Ids of what the fixture created.
struct Fixture {
    experiment: i64,
    spare_experiment: i64,
    contributor_run: String,
    maintainer_run: String,
    dataset_version_id: i64,
    /// A profile report per dataset sensitivity.
    reports: BTreeMap<&'static str, i64>,
    /// An alert for the acknowledge route, another for the resolve route.
    alerts: (i64, i64),
    webhook: i64,
}

async fn fixture(
    api: &Api,
    admin: &As<'_>,
    tokens: &mut BTreeMap<&'static str, Option<String>>,
) -> Result<Fixture> {
    for user in ROLES
        .iter()
        .filter(|r| !matches!(**r, "admin" | "anonymous"))
        .chain(["extra"].iter())
    {
        admin
            .ok(req(
                Method::POST,
                "/api/v1/users",
                Body::Json(json!({"name": user, "password": USER_PASSWORD})),
            ))
            .await?;
        let token = admin
            .ok(req(
                Method::POST,
                "/api/v1/tokens",
                Body::Json(json!({"name": "t", "user": user})),
            ))
            .await?;
        if let Some(role) = ROLES.iter().find(|r| *r == user) {
            tokens.insert(
                role,
                Some(token["token"].as_str().context("token")?.to_owned()),
            );
        }
    }
    for project in ["p", "p2"] {
        admin
            .ok(req(
                Method::POST,
                "/api/v1/projects",
                Body::Json(json!({"name": project})),
            ))
            .await?;
    }
    for role in [
        "owner",
        "maintainer",
        "contributor",
        "viewer",
        "auditor",
        "approver",
    ] {
        admin
            .ok(req(
                Method::PUT,
                format!("/api/v1/projects/p/members/{role}"),
                Body::Json(json!({"role": role})),
            ))
            .await?;
    }
    let mut dataset_version_id = 0;
    for s in SENSITIVITIES {
        admin
            .ok(req(
                Method::POST,
                "/api/v1/projects/p/datasets",
                Body::Json(json!({"name": s, "sensitivity": s})),
            ))
            .await?;
        let v = admin
            .ok(req(
                Method::POST,
                format!("/api/v1/projects/p/datasets/{s}/versions"),
                Body::Bytes("text/csv", csv_bytes(5, s)),
            ))
            .await?;
        if s == "public" {
            dataset_version_id = v["id"].as_i64().context("version id")?;
        }
    }
    let experiment = admin
        .ok(req(
            Method::POST,
            "/api/v1/projects/p/experiments",
            Body::Json(json!({"name": "e"})),
        ))
        .await?["id"]
        .as_i64()
        .context("experiment id")?;
    let spare_experiment = admin
        .ok(req(
            Method::POST,
            "/api/v1/projects/p/experiments",
            Body::Json(json!({"name": "spare"})),
        ))
        .await?["id"]
        .as_i64()
        .context("experiment id")?;
    let mut runs = Vec::new();
    for role in ["contributor", "maintainer"] {
        let who = As {
            api,
            token: tokens[role].clone(),
        };
        let run = who
            .ok(req(
                Method::POST,
                format!("/api/v1/projects/p/experiments/{experiment}/runs"),
                Body::Json(json!({})),
            ))
            .await?;
        let id = run["run_id"].as_str().context("run id")?.to_owned();
        who.ok(req(
            Method::POST,
            format!("/api/v1/runs/{id}/metrics"),
            Body::Json(json!({"key": "loss", "value": 0.5})),
        ))
        .await?;
        who.ok(req(
            Method::PUT,
            format!("/api/v1/runs/{id}/artifacts/a.txt"),
            Body::Bytes("application/octet-stream", b"artifact".to_vec()),
        ))
        .await?;
        runs.push(id);
    }
    admin
        .ok(req(
            Method::POST,
            "/api/v1/projects/p/models",
            Body::Json(json!({"name": "m"})),
        ))
        .await?;
    admin
        .ok(req(
            Method::POST,
            "/api/v1/projects/p/models/m/versions",
            Body::Bytes("application/octet-stream", b"weights".to_vec()),
        ))
        .await?;
    admin
        .ok(req(
            Method::PUT,
            "/api/v1/projects/p/models/m/aliases/champion",
            Body::Json(json!({"version": 1})),
        ))
        .await?;
    // A Verity model (regression of `score` on `id`) for the evaluation routes.
    let run = admin
        .ok(req(
            Method::POST,
            format!("/api/v1/projects/p/experiments/{experiment}/runs"),
            Body::Json(json!({})),
        ))
        .await?;
    let run = run["run_id"].as_str().context("run id")?.to_owned();
    let spec = json!({"format": "verity-model/1", "architecture": {"type": "linear_regression"},
        "features": [{"column": "id"}], "output": {"type": "regression"}});
    let weights =
        verity_monitor::model::safetensors::write_f32(&[("weight", vec![1, 1], vec![2.0])]);
    for (name, bytes) in [
        ("verity-model.json", spec.to_string().into_bytes()),
        ("model.safetensors", weights),
    ] {
        admin
            .ok(req(
                Method::PUT,
                format!("/api/v1/runs/{run}/artifacts/vm/{name}"),
                Body::Bytes("application/octet-stream", bytes),
            ))
            .await?;
    }
    admin
        .ok(req(
            Method::POST,
            "/api/v1/projects/p/models",
            Body::Json(json!({"name": "vm"})),
        ))
        .await?;
    admin
        .ok(req(
            Method::POST,
            "/api/v1/projects/p/models/vm/versions",
            Body::Json(json!({"run_id": run, "artifact_path": "vm"})),
        ))
        .await?;
    admin
        .ok(req(
            Method::PUT,
            "/api/v1/projects/p/models/vm/aliases/champion",
            Body::Json(json!({"version": 1})),
        ))
        .await?;
    let maintainer_run = runs.pop().context("run")?;
    let contributor_run = runs.pop().context("run")?;
    let (reports, alerts, webhook) = monitoring_fixture(admin).await?;
    Ok(Fixture {
        experiment,
        spare_experiment,
        contributor_run,
        maintainer_run,
        dataset_version_id,
        reports,
        alerts,
        webhook,
    })
}

/// Profile reports on each dataset; two failing monitors run by the server's worker, whose
/// alerts the alert routes act on; a webhook.
async fn monitoring_fixture(
    admin: &As<'_>,
) -> Result<(BTreeMap<&'static str, i64>, (i64, i64), i64)> {
    let mut reports = BTreeMap::new();
    for s in SENSITIVITIES {
        let report = admin
            .ok(req(
                Method::POST,
                "/api/v1/projects/p/checks",
                Body::Json(json!({"check": {"kind": "profile"}, "dataset": s})),
            ))
            .await?;
        reports.insert(s, report["id"].as_i64().context("report id")?);
    }
    let webhook = admin
        .ok(req(
            Method::POST,
            "/api/v1/projects/p/webhooks",
            Body::Json(json!({"url": "http://127.0.0.1:9/hook"})),
        ))
        .await?["id"]
        .as_i64()
        .context("webhook id")?;
    for name in ["mon", "failing-a", "failing-b"] {
        let check = if name == "mon" {
            json!({"kind": "profile"})
        } else {
            json!({"kind": "quality", "expectations": [
                {"type": "expect_table_row_count_to_be_between", "min_value": 1000}]})
        };
        admin
            .ok(req(
                Method::POST,
                "/api/v1/projects/p/monitors",
                Body::Json(json!({"name": name, "dataset": "public", "checks": [check],
                    "on_new_version": false})),
            ))
            .await?;
        if name != "mon" {
            admin
                .ok(req(
                    Method::POST,
                    format!("/api/v1/projects/p/monitors/{name}/runs"),
                    Body::None,
                ))
                .await?;
        }
    }
    for _ in 0..300 {
        let alerts = admin
            .ok(req(Method::GET, "/api/v1/projects/p/alerts", Body::None))
            .await?;
        let ids: Vec<i64> = alerts["items"]
            .as_array()
            .context("alerts")?
            .iter()
            .filter_map(|a| a["id"].as_i64())
            .collect();
        if let [a, b] = ids[..] {
            return Ok((reports, (a, b), webhook));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    bail!("the failing monitors opened no alerts within 30 s")
}

/// One matrix row: a request, the action it needs, its attributes, and what to prepare (as
/// the administrator) before each attempt.
struct Row {
    action: &'static str,
    sensitivity: Option<&'static str>,
    run_owner: Option<&'static str>,
    /// A look-up by an id the caller chose: a refusal answers 404, as for an id that does not
    /// exist (and is audited as a denial all the same).
    hides: bool,
    /// Requests made as the administrator before each attempt; a route template's `{id}` is
    /// filled from the last one's answer.
    setup: Vec<Req>,
    request: Req,
}

/// The rows of one route. `n` makes names unique per attempt.
fn rows(method: &str, template: &str, fx: &Fixture, n: usize) -> Option<Vec<Row>> {
    use Method as M;
    let j = |v: Value| Body::Json(v);
    let row = |action, m: Method, path: String, body: Body| Row {
        action,
        sensitivity: None,
        run_owner: None,
        hides: false,
        setup: Vec::new(),
        request: req(m, path, body),
    };
    let (e, spare) = (fx.experiment, fx.spare_experiment);
    let one = |r: Row| Some(vec![r]);
    let per_dataset =
        |action: &'static str, m: Method, suffix: &str, body: &dyn Fn(&str) -> Body| {
            Some(
                SENSITIVITIES
                    .iter()
                    .map(|s| Row {
                        action,
                        sensitivity: Some(*s),
                        run_owner: None,
                        hides: false,
                        setup: Vec::new(),
                        request: req(
                            m.clone(),
                            format!("/api/v1/projects/p/datasets/{s}{suffix}"),
                            body(s),
                        ),
                    })
                    .collect(),
            )
        };
    let per_run = |action: &'static str, m: Method, suffix: &str, body: Body| {
        Some(
            [
                ("contributor", &fx.contributor_run),
                ("maintainer", &fx.maintainer_run),
            ]
            .into_iter()
            .map(|(owner, id)| Row {
                action,
                sensitivity: None,
                run_owner: Some(owner),
                hides: false,
                // Another attempt may have deleted the run: restore it first.
                setup: vec![req(
                    M::POST,
                    format!("/api/v1/runs/{id}/restore"),
                    Body::None,
                )],
                request: req(
                    m.clone(),
                    format!("/api/v1/runs/{id}{suffix}"),
                    body.clone(),
                ),
            })
            .collect(),
        )
    };
    let dv = fx.dataset_version_id;
    match (method, template) {
        ("POST", "/api/v1/auth/login") => one(row(
            "public",
            M::POST,
            "/api/v1/auth/login".into(),
            j(json!({"username": "extra", "password": USER_PASSWORD})),
        )),
        ("POST", "/api/v1/auth/logout") => one(row(
            "logout",
            M::POST,
            "/api/v1/auth/logout".into(),
            Body::None,
        )),
        ("GET", "/api/v1/auth/me") => {
            one(row("self", M::GET, "/api/v1/auth/me".into(), Body::None))
        }
        // The password stays the same; every role but the administrator (whose own password
        // the loop puts in) has USER_PASSWORD.
        ("POST", "/api/v1/auth/password") => one(row(
            "self",
            M::POST,
            "/api/v1/auth/password".into(),
            j(json!({"current_password": USER_PASSWORD, "new_password": USER_PASSWORD})),
        )),
        ("GET", "/api/v1/users") => one(row(
            "user.manage",
            M::GET,
            "/api/v1/users".into(),
            Body::None,
        )),
        ("POST", "/api/v1/users") => one(row(
            "user.manage",
            M::POST,
            "/api/v1/users".into(),
            j(json!({"name": format!("new{n}"), "password": USER_PASSWORD})),
        )),
        ("GET", "/api/v1/users/{name}") => one(row(
            "user.manage",
            M::GET,
            "/api/v1/users/extra".into(),
            Body::None,
        )),
        ("PATCH", "/api/v1/users/{name}") => one(row(
            "user.manage",
            M::PATCH,
            "/api/v1/users/extra".into(),
            j(json!({"clearance": "internal"})),
        )),
        ("GET", "/api/v1/tokens") => one(row("self", M::GET, "/api/v1/tokens".into(), Body::None)),
        ("POST", "/api/v1/tokens") => one(row(
            "self",
            M::POST,
            "/api/v1/tokens".into(),
            j(json!({"name": format!("t{n}")})),
        )),
        ("DELETE", "/api/v1/tokens/{id}") => one(Row {
            hides: true,
            setup: vec![req(
                M::POST,
                "/api/v1/tokens",
                j(json!({"name": format!("x{n}"), "user": "extra"})),
            )],
            ..row(
                "user.manage",
                M::DELETE,
                "/api/v1/tokens/{id}".into(),
                Body::None,
            )
        }),
        ("GET", "/api/v1/policies") => one(row(
            "policy.manage",
            M::GET,
            "/api/v1/policies".into(),
            Body::None,
        )),
        ("POST", "/api/v1/policies") => one(row(
            "policy.manage",
            M::POST,
            "/api/v1/policies".into(),
            j(json!({"ptype": "g", "v0": "extra", "v1": "viewer", "v2": "p2"})),
        )),
        ("DELETE", "/api/v1/policies/{id}") => one(Row {
            setup: vec![
                req(
                    M::POST,
                    "/api/v1/projects",
                    j(json!({"name": format!("pol{n}")})),
                ),
                req(
                    M::POST,
                    "/api/v1/policies",
                    j(
                        json!({"ptype": "g", "v0": "extra", "v1": "auditor", "v2": format!("pol{n}")}),
                    ),
                ),
            ],
            ..row(
                "policy.manage",
                M::DELETE,
                "/api/v1/policies/{id}".into(),
                Body::None,
            )
        }),
        ("GET", "/api/v1/audit") => one(row(
            "audit.read",
            M::GET,
            "/api/v1/audit?project=p".into(),
            Body::None,
        )),
        ("GET", "/api/v1/audit/export") => one(row(
            "audit.read",
            M::GET,
            "/api/v1/audit/export?project=p".into(),
            Body::None,
        )),
        ("GET", "/api/v1/audit/verify") => one(row(
            "audit.read_all",
            M::GET,
            "/api/v1/audit/verify".into(),
            Body::None,
        )),
        ("GET", "/api/v1/projects") => {
            one(row("self", M::GET, "/api/v1/projects".into(), Body::None))
        }
        ("POST", "/api/v1/projects") => one(row(
            "project.create",
            M::POST,
            "/api/v1/projects".into(),
            j(json!({"name": format!("proj{n}")})),
        )),
        ("GET", "/api/v1/projects/{project}") => one(row(
            "project.read",
            M::GET,
            "/api/v1/projects/p".into(),
            Body::None,
        )),
        ("GET", "/api/v1/projects/{project}/access") => one(row(
            "project.read",
            M::GET,
            "/api/v1/projects/p/access".into(),
            Body::None,
        )),
        ("PATCH", "/api/v1/projects/{project}") => one(row(
            "project.update",
            M::PATCH,
            "/api/v1/projects/p".into(),
            j(json!({"description": "d"})),
        )),
        ("GET", "/api/v1/projects/{project}/members") => one(row(
            "project.read",
            M::GET,
            "/api/v1/projects/p/members".into(),
            Body::None,
        )),
        ("PUT", "/api/v1/projects/{project}/members/{user}") => one(row(
            "project.manage_members",
            M::PUT,
            "/api/v1/projects/p/members/extra".into(),
            j(json!({"role": "viewer"})),
        )),
        ("DELETE", "/api/v1/projects/{project}/members/{user}") => one(Row {
            setup: vec![req(
                M::PUT,
                "/api/v1/projects/p/members/extra",
                j(json!({"role": "viewer"})),
            )],
            ..row(
                "project.manage_members",
                M::DELETE,
                "/api/v1/projects/p/members/extra".into(),
                Body::None,
            )
        }),
        ("GET", "/api/v1/projects/{project}/datasets") => one(row(
            "dataset.read",
            M::GET,
            "/api/v1/projects/p/datasets".into(),
            Body::None,
        )),
        ("POST", "/api/v1/projects/{project}/datasets") => one(row(
            "dataset.create",
            M::POST,
            "/api/v1/projects/p/datasets".into(),
            j(json!({"name": format!("ds{n}")})),
        )),
        ("GET", "/api/v1/projects/{project}/datasets/{dataset}") => {
            per_dataset("dataset.read", M::GET, "", &|_| Body::None)
        }
        ("PATCH", "/api/v1/projects/{project}/datasets/{dataset}") => {
            per_dataset("dataset.update", M::PATCH, "", &|_| {
                j(json!({"description": "d"}))
            })
        }
        ("GET", "/api/v1/projects/{project}/datasets/{dataset}/versions") => {
            per_dataset("dataset.read", M::GET, "/versions", &|_| Body::None)
        }
        ("POST", "/api/v1/projects/{project}/datasets/{dataset}/versions") => {
            per_dataset("dataset.write", M::POST, "/versions", &|s| {
                Body::Bytes("text/csv", csv_bytes(3, &format!("{s}{n}")))
            })
        }
        ("GET", "/api/v1/projects/{project}/datasets/{dataset}/versions/{version}") => {
            per_dataset("dataset.read", M::GET, "/versions/1", &|_| Body::None)
        }
        ("GET", "/api/v1/projects/{project}/datasets/{dataset}/versions/{version}/schema") => {
            per_dataset("dataset.read", M::GET, "/versions/1/schema", &|_| {
                Body::None
            })
        }
        ("GET", "/api/v1/projects/{project}/datasets/{dataset}/versions/{version}/content") => {
            per_dataset("dataset.read_data", M::GET, "/versions/1/content", &|_| {
                Body::None
            })
        }
        ("GET", "/api/v1/projects/{project}/datasets/{dataset}/privacy/budgets") => {
            per_dataset("privacy.read", M::GET, "/privacy/budgets", &|_| Body::None)
        }
        ("PUT", "/api/v1/projects/{project}/datasets/{dataset}/privacy/budgets") => {
            per_dataset("privacy.manage", M::PUT, "/privacy/budgets", &|_| {
                j(json!({"scope": "total", "epsilon": 1000.0}))
            })
        }
        ("GET", "/api/v1/projects/{project}/datasets/{dataset}/masking") => {
            per_dataset("dataset.read", M::GET, "/masking", &|_| Body::None)
        }
        ("PUT", "/api/v1/projects/{project}/datasets/{dataset}/masking") => {
            // Empty: the datasets stay unmasked for the other rows' expectations.
            per_dataset("privacy.manage+clearance", M::PUT, "/masking", &|_| {
                j(json!({"columns": []}))
            })
        }
        ("GET", "/api/v1/projects/{project}/datasets/{dataset}/privacy/ledger") => {
            per_dataset("privacy.read", M::GET, "/privacy/ledger", &|_| Body::None)
        }
        ("POST", "/api/v1/projects/{project}/datasets/{dataset}/versions/{version}/dp") => Some(
            SENSITIVITIES
                .iter()
                .map(|s| Row {
                    action: "dataset.query_dp",
                    sensitivity: Some(*s),
                    run_owner: None,
                    hides: false,
                    // A budget that every attempt can pay from.
                    setup: vec![req(
                        M::PUT,
                        format!("/api/v1/projects/p/datasets/{s}/privacy/budgets"),
                        j(json!({"scope": "total", "epsilon": 1000.0})),
                    )],
                    request: req(
                        M::POST,
                        format!("/api/v1/projects/p/datasets/{s}/versions/1/dp"),
                        j(json!({"query": {"kind": "count"}, "epsilon": 0.01})),
                    ),
                })
                .collect(),
        ),
        ("GET", "/api/v1/dataset-versions/{id}") => one(Row {
            hides: true,
            ..row(
                "dataset.read",
                M::GET,
                format!("/api/v1/dataset-versions/{dv}"),
                Body::None,
            )
        }),
        ("GET", "/api/v1/projects/{project}/experiments") => one(row(
            "experiment.read",
            M::GET,
            "/api/v1/projects/p/experiments".into(),
            Body::None,
        )),
        ("POST", "/api/v1/projects/{project}/experiments") => one(row(
            "experiment.create",
            M::POST,
            "/api/v1/projects/p/experiments".into(),
            j(json!({"name": format!("exp{n}")})),
        )),
        ("GET", "/api/v1/projects/{project}/experiments/{experiment}") => one(row(
            "experiment.read",
            M::GET,
            format!("/api/v1/projects/p/experiments/{e}"),
            Body::None,
        )),
        ("PATCH", "/api/v1/projects/{project}/experiments/{experiment}") => one(Row {
            setup: vec![req(
                M::POST,
                format!("/api/v1/projects/p/experiments/{spare}/restore"),
                Body::None,
            )],
            ..row(
                "experiment.update",
                M::PATCH,
                format!("/api/v1/projects/p/experiments/{spare}"),
                j(json!({"description": "d"})),
            )
        }),
        ("DELETE", "/api/v1/projects/{project}/experiments/{experiment}") => one(row(
            "experiment.delete",
            M::DELETE,
            format!("/api/v1/projects/p/experiments/{spare}"),
            Body::None,
        )),
        ("POST", "/api/v1/projects/{project}/experiments/{experiment}/restore") => one(row(
            "experiment.delete",
            M::POST,
            format!("/api/v1/projects/p/experiments/{spare}/restore"),
            Body::None,
        )),
        ("POST", "/api/v1/projects/{project}/experiments/{experiment}/runs") => one(row(
            "run.create",
            M::POST,
            format!("/api/v1/projects/p/experiments/{e}/runs"),
            j(json!({})),
        )),
        ("POST", "/api/v1/projects/{project}/runs/search") => one(row(
            "run.read",
            M::POST,
            "/api/v1/projects/p/runs/search".into(),
            j(json!({})),
        )),
        ("GET", "/api/v1/runs/{run_id}") => per_run("run.read", M::GET, "", Body::None),
        ("PATCH", "/api/v1/runs/{run_id}") => per_run(
            "run.write",
            M::PATCH,
            "",
            j(json!({"name": format!("r{n}")})),
        ),
        ("DELETE", "/api/v1/runs/{run_id}") => per_run("run.delete", M::DELETE, "", Body::None),
        ("POST", "/api/v1/runs/{run_id}/restore") => {
            per_run("run.delete", M::POST, "/restore", Body::None)
        }
        ("POST", "/api/v1/runs/{run_id}/batch") => per_run(
            "run.write",
            M::POST,
            "/batch",
            j(json!({"metrics": [{"key": "loss", "value": 0.1, "step": n}]})),
        ),
        ("POST", "/api/v1/runs/{run_id}/params") => per_run(
            "run.write",
            M::POST,
            "/params",
            j(json!({"key": format!("k{n}"), "value": "v"})),
        ),
        ("POST", "/api/v1/runs/{run_id}/tags") => per_run(
            "run.write",
            M::POST,
            "/tags",
            j(json!({"key": "t", "value": "v"})),
        ),
        ("DELETE", "/api/v1/runs/{run_id}/tags/{key}") => {
            per_run("run.write", M::DELETE, "/tags/t", Body::None).map(|rows| {
                rows.into_iter()
                    .map(|mut r| {
                        // The tag must exist: set it (restoring the run is the run routes' setup).
                        let run_path = r.request.path.trim_end_matches("/tags/t").to_owned();
                        r.setup.push(req(
                            M::POST,
                            format!("{run_path}/tags"),
                            j(json!({"key": "t", "value": "v"})),
                        ));
                        r
                    })
                    .collect()
            })
        }
        ("POST", "/api/v1/runs/{run_id}/metrics") => per_run(
            "run.write",
            M::POST,
            "/metrics",
            j(json!({"key": "loss", "value": 0.2})),
        ),
        ("GET", "/api/v1/runs/{run_id}/metrics") => {
            per_run("run.read", M::GET, "/metrics", Body::None)
        }
        ("GET", "/api/v1/runs/{run_id}/metric-history") => {
            per_run("run.read", M::GET, "/metric-history?key=loss", Body::None)
        }
        ("GET", "/api/v1/runs/{run_id}/metric-history/downsampled") => per_run(
            "run.read",
            M::GET,
            "/metric-history/downsampled?key=loss",
            Body::None,
        ),
        ("POST", "/api/v1/runs/{run_id}/inputs") => per_run(
            "run.write",
            M::POST,
            "/inputs",
            j(json!({"dataset_version_id": dv, "context": "training"})),
        ),
        ("POST", "/api/v1/runs/{run_id}/outputs") => per_run(
            "run.write",
            M::POST,
            "/outputs",
            j(json!({"dataset_version_id": dv})),
        ),
        ("GET", "/api/v1/runs/{run_id}/artifacts") => {
            per_run("run.read", M::GET, "/artifacts", Body::None)
        }
        ("GET", "/api/v1/runs/{run_id}/artifacts/{path}") => {
            per_run("run.read", M::GET, "/artifacts/a.txt", Body::None)
        }
        ("PUT", "/api/v1/runs/{run_id}/artifacts/{path}") => per_run(
            "run.write",
            M::PUT,
            &format!("/artifacts/f{n}.txt"),
            Body::Bytes("application/octet-stream", b"bytes".to_vec()),
        ),
        ("GET", "/api/v1/runs/{run_id}/openlineage") => {
            per_run("lineage.read", M::GET, "/openlineage", Body::None)
        }
        ("GET", "/api/v1/lineage") => one(Row {
            hides: true,
            ..row(
                "lineage.read",
                M::GET,
                format!("/api/v1/lineage?kind=run&id={}", fx.contributor_run),
                Body::None,
            )
        }),
        ("GET", "/api/v1/projects/{project}/models") => one(row(
            "model.read",
            M::GET,
            "/api/v1/projects/p/models".into(),
            Body::None,
        )),
        ("POST", "/api/v1/projects/{project}/models") => one(row(
            "model.create",
            M::POST,
            "/api/v1/projects/p/models".into(),
            j(json!({"name": format!("m{n}")})),
        )),
        ("GET", "/api/v1/projects/{project}/models/{model}") => one(row(
            "model.read",
            M::GET,
            "/api/v1/projects/p/models/m".into(),
            Body::None,
        )),
        ("PATCH", "/api/v1/projects/{project}/models/{model}") => one(row(
            "model.update",
            M::PATCH,
            "/api/v1/projects/p/models/m".into(),
            j(json!({"description": "d"})),
        )),
        ("GET", "/api/v1/projects/{project}/models/{model}/versions") => one(row(
            "model.read",
            M::GET,
            "/api/v1/projects/p/models/m/versions".into(),
            Body::None,
        )),
        ("POST", "/api/v1/projects/{project}/models/{model}/versions") => one(row(
            "model_version.create",
            M::POST,
            "/api/v1/projects/p/models/m/versions".into(),
            Body::Bytes("application/octet-stream", format!("w{n}").into_bytes()),
        )),
        ("GET", "/api/v1/projects/{project}/models/{model}/versions/{version}") => one(row(
            "model.read",
            M::GET,
            "/api/v1/projects/p/models/m/versions/1".into(),
            Body::None,
        )),
        ("PATCH", "/api/v1/projects/{project}/models/{model}/versions/{version}") => one(row(
            "model_version.update",
            M::PATCH,
            "/api/v1/projects/p/models/m/versions/1".into(),
            j(json!({"description": "d"})),
        )),
        ("GET", "/api/v1/projects/{project}/models/{model}/versions/{version}/files/{path}") => {
            one(row(
                "model.read",
                M::GET,
                "/api/v1/projects/p/models/m/versions/1/files/model.bin".into(),
                Body::None,
            ))
        }
        ("GET", "/api/v1/projects/{project}/models/{model}/aliases/{alias}") => one(row(
            "model.read",
            M::GET,
            "/api/v1/projects/p/models/m/aliases/champion".into(),
            Body::None,
        )),
        ("PUT", "/api/v1/projects/{project}/models/{model}/aliases/{alias}") => one(row(
            "model.alias",
            M::PUT,
            "/api/v1/projects/p/models/m/aliases/challenger".into(),
            j(json!({"version": 1})),
        )),
        ("DELETE", "/api/v1/projects/{project}/models/{model}/aliases/{alias}") => one(Row {
            setup: vec![req(
                M::PUT,
                "/api/v1/projects/p/models/m/aliases/old",
                j(json!({"version": 1})),
            )],
            ..row(
                "model.alias",
                M::DELETE,
                "/api/v1/projects/p/models/m/aliases/old".into(),
                Body::None,
            )
        }),
        ("GET", "/api/v1/projects/{project}/gates") => one(row(
            "model.read",
            M::GET,
            "/api/v1/projects/p/gates".into(),
            Body::None,
        )),
        ("PUT", "/api/v1/projects/{project}/gates") => one(row(
            "gate.manage",
            M::PUT,
            "/api/v1/projects/p/gates".into(),
            j(json!({"alias": format!("g{n}"), "requirements": {}})),
        )),
        ("DELETE", "/api/v1/projects/{project}/gates/{alias}") => one(Row {
            setup: vec![req(
                M::PUT,
                "/api/v1/projects/p/gates",
                j(json!({"alias": format!("d{n}"), "requirements": {}})),
            )],
            ..row(
                "gate.manage",
                M::DELETE,
                format!("/api/v1/projects/p/gates/d{n}"),
                Body::None,
            )
        }),
        ("GET", "/api/v1/projects/{project}/models/{model}/versions/{version}/gates/{alias}") => {
            one(Row {
                setup: vec![req(
                    M::PUT,
                    "/api/v1/projects/p/gates",
                    j(json!({"model": "m", "alias": format!("gv{n}"), "requirements": {}})),
                )],
                ..row(
                    "model.read",
                    M::GET,
                    format!("/api/v1/projects/p/models/m/versions/1/gates/gv{n}"),
                    Body::None,
                )
            })
        }
        ("GET", "/api/v1/projects/{project}/models/{model}/versions/{version}/documentation") => {
            one(row(
                "model.read",
                M::GET,
                "/api/v1/projects/p/models/m/versions/1/documentation".into(),
                Body::None,
            ))
        }
        ("PUT", "/api/v1/projects/{project}/models/{model}/versions/{version}/documentation") => {
            one(row(
                "model_version.update",
                M::PUT,
                "/api/v1/projects/p/models/m/versions/1/documentation".into(),
                j(json!({"fields": {"overview": format!("o{n}")}})),
            ))
        }
        (
            "GET",
            "/api/v1/projects/{project}/datasets/{dataset}/versions/{version}/documentation",
        ) => per_dataset("dataset.read", M::GET, "/versions/1/documentation", &|_| {
            Body::None
        }),
        (
            "PUT",
            "/api/v1/projects/{project}/datasets/{dataset}/versions/{version}/documentation",
        ) => per_dataset(
            "dataset.update",
            M::PUT,
            "/versions/1/documentation",
            &|_| j(json!({"fields": {"motivation": format!("m{n}")}})),
        ),
        ("POST", "/api/v1/projects/{project}/compliance-reports") => {
            let mut rows = vec![
                row(
                    "model.read",
                    M::POST,
                    "/api/v1/projects/p/compliance-reports".into(),
                    j(json!({"kind": "model_card", "model": "m", "version": 1})),
                ),
                row(
                    "audit.read",
                    M::POST,
                    "/api/v1/projects/p/compliance-reports".into(),
                    j(json!({"kind": "audit_export", "resource": "project/p/model/m"})),
                ),
            ];
            // A datasheet quotes the profile of data below `confidential` (clearance), and
            // nothing computed from the rows of sensitive data.
            rows.extend(SENSITIVITIES.iter().map(|s| Row {
                sensitivity: Some(*s),
                ..row(
                    if matches!(*s, "public" | "internal") {
                        "report.read"
                    } else {
                        "dataset.read"
                    },
                    M::POST,
                    "/api/v1/projects/p/compliance-reports".into(),
                    j(json!({"kind": "datasheet", "dataset": s, "version": 1})),
                )
            }));
            Some(rows)
        }
        ("GET", "/api/v1/projects/{project}/compliance-reports") => one(row(
            "project.read",
            M::GET,
            "/api/v1/projects/p/compliance-reports".into(),
            Body::None,
        )),
        ("GET", "/api/v1/projects/{project}/compliance-reports/{id}") => one(Row {
            setup: vec![req(
                M::POST,
                "/api/v1/projects/p/compliance-reports",
                j(json!({"kind": "model_card", "model": "m", "version": 1})),
            )],
            ..row(
                "model.read",
                M::GET,
                "/api/v1/projects/p/compliance-reports/{id}".into(),
                Body::None,
            )
        }),
        ("GET", "/api/v1/projects/{project}/compliance-reports/{id}/{format}") => one(Row {
            setup: vec![req(
                M::POST,
                "/api/v1/projects/p/compliance-reports",
                j(json!({"kind": "audit_export", "resource": "project/p/dataset"})),
            )],
            ..row(
                "audit.read",
                M::GET,
                "/api/v1/projects/p/compliance-reports/{id}/pdf".into(),
                Body::None,
            )
        }),
        ("GET", "/api/v1/projects/{project}/models/{model}/versions/{version}/reviews") => {
            one(row(
                "model.read",
                M::GET,
                "/api/v1/projects/p/models/m/versions/1/reviews".into(),
                Body::None,
            ))
        }
        ("POST", "/api/v1/projects/{project}/models/{model}/versions/{version}/reviews") => {
            one(row(
                "model_version.approve (not own)",
                M::POST,
                "/api/v1/projects/p/models/m/versions/1/reviews".into(),
                j(json!({"alias": format!("r{n}"), "decision": "approve", "comment": "ok"})),
            ))
        }
        ("POST", "/api/v1/projects/{project}/models/{model}/versions/{version}/retire") => {
            one(Row {
                setup: vec![
                    req(
                        M::POST,
                        "/api/v1/projects/p/models",
                        j(json!({"name": format!("retire{n}")})),
                    ),
                    req(
                        M::POST,
                        format!("/api/v1/projects/p/models/retire{n}/versions"),
                        Body::Bytes("application/octet-stream", format!("r{n}").into_bytes()),
                    ),
                ],
                ..row(
                    "model_version.update",
                    M::POST,
                    format!("/api/v1/projects/p/models/retire{n}/versions/1/retire"),
                    j(json!({"reason": "superseded"})),
                )
            })
        }
        ("GET", "/api/v1/projects/{project}/models/{model}/alias-history") => one(row(
            "model.read",
            M::GET,
            "/api/v1/projects/p/models/m/alias-history".into(),
            Body::None,
        )),
        ("POST", "/api/v1/projects/{project}/checks") => Some(
            SENSITIVITIES
                .iter()
                .map(|s| Row {
                    sensitivity: Some(*s),
                    ..row(
                        "check.run",
                        M::POST,
                        "/api/v1/projects/p/checks".into(),
                        j(json!({"check": {"kind": "profile"}, "dataset": s})),
                    )
                })
                .collect(),
        ),
        ("POST", "/api/v1/projects/{project}/evaluations") => Some(
            SENSITIVITIES
                .iter()
                .map(|s| Row {
                    sensitivity: Some(*s),
                    ..row(
                        "check.run",
                        M::POST,
                        "/api/v1/projects/p/evaluations".into(),
                        j(json!({"model": "vm", "version": 1, "dataset": s,
                            "evaluation": {"label": "score"},
                            "predictions_dataset": format!("pred-{s}-{n}")})),
                    )
                })
                .collect(),
        ),
        ("POST", "/api/v1/projects/{project}/comparisons") => Some(
            SENSITIVITIES
                .iter()
                .map(|s| Row {
                    sensitivity: Some(*s),
                    ..row(
                        "check.run",
                        M::POST,
                        "/api/v1/projects/p/comparisons".into(),
                        j(json!({"model": "vm", "version": 1, "dataset": s,
                            "evaluation": {"label": "score"},
                            "predictions_dataset": format!("cmp-{s}-{n}")})),
                    )
                })
                .collect(),
        ),
        ("GET", "/api/v1/projects/{project}/reports") => one(row(
            "monitor.read",
            M::GET,
            "/api/v1/projects/p/reports".into(),
            Body::None,
        )),
        ("GET", "/api/v1/projects/{project}/reports/{id}") => Some(
            fx.reports
                .iter()
                .map(|(s, id)| Row {
                    sensitivity: Some(*s),
                    ..row(
                        "report.read",
                        M::GET,
                        format!("/api/v1/projects/p/reports/{id}"),
                        Body::None,
                    )
                })
                .collect(),
        ),
        ("POST", "/api/v1/projects/{project}/monitors") => one(row(
            "monitor.manage",
            M::POST,
            "/api/v1/projects/p/monitors".into(),
            j(json!({"name": format!("m{n}"), "dataset": "public",
                "checks": [{"kind": "profile"}], "on_new_version": false})),
        )),
        ("GET", "/api/v1/projects/{project}/monitors") => one(row(
            "monitor.read",
            M::GET,
            "/api/v1/projects/p/monitors".into(),
            Body::None,
        )),
        ("GET", "/api/v1/projects/{project}/monitors/{monitor}") => one(row(
            "monitor.read",
            M::GET,
            "/api/v1/projects/p/monitors/mon".into(),
            Body::None,
        )),
        ("PATCH", "/api/v1/projects/{project}/monitors/{monitor}") => one(row(
            "monitor.manage",
            M::PATCH,
            "/api/v1/projects/p/monitors/mon".into(),
            j(json!({"enabled": false})),
        )),
        ("DELETE", "/api/v1/projects/{project}/monitors/{monitor}") => one(Row {
            setup: vec![req(
                M::POST,
                "/api/v1/projects/p/monitors",
                j(json!({"name": format!("del{n}"), "dataset": "public",
                    "checks": [{"kind": "profile"}], "on_new_version": false})),
            )],
            ..row(
                "monitor.manage",
                M::DELETE,
                format!("/api/v1/projects/p/monitors/del{n}"),
                Body::None,
            )
        }),
        ("POST", "/api/v1/projects/{project}/monitors/{monitor}/runs") => one(row(
            "monitor.manage",
            M::POST,
            "/api/v1/projects/p/monitors/mon/runs".into(),
            j(json!({"version": 1})),
        )),
        ("GET", "/api/v1/projects/{project}/jobs") => one(row(
            "monitor.read",
            M::GET,
            "/api/v1/projects/p/jobs?monitor=mon".into(),
            Body::None,
        )),
        ("GET", "/api/v1/projects/{project}/jobs/{id}") => one(Row {
            setup: vec![req(
                M::POST,
                "/api/v1/projects/p/monitors/mon/runs",
                Body::None,
            )],
            ..row(
                "monitor.read",
                M::GET,
                "/api/v1/projects/p/jobs/{id}".into(),
                Body::None,
            )
        }),
        ("GET", "/api/v1/projects/{project}/alerts") => one(row(
            "monitor.read",
            M::GET,
            "/api/v1/projects/p/alerts?state=open".into(),
            Body::None,
        )),
        ("GET", "/api/v1/projects/{project}/alerts/{id}") => one(row(
            "monitor.read",
            M::GET,
            format!("/api/v1/projects/p/alerts/{}", fx.alerts.0),
            Body::None,
        )),
        ("POST", "/api/v1/projects/{project}/alerts/{id}/acknowledge") => one(row(
            "alert.update",
            M::POST,
            format!("/api/v1/projects/p/alerts/{}/acknowledge", fx.alerts.0),
            Body::None,
        )),
        ("POST", "/api/v1/projects/{project}/alerts/{id}/resolve") => one(row(
            "alert.update",
            M::POST,
            format!("/api/v1/projects/p/alerts/{}/resolve", fx.alerts.1),
            Body::None,
        )),
        ("POST", "/api/v1/projects/{project}/webhooks") => one(row(
            "webhook.manage",
            M::POST,
            "/api/v1/projects/p/webhooks".into(),
            j(json!({"url": format!("http://127.0.0.1:9/h{n}"), "events": ["alert.opened"]})),
        )),
        ("GET", "/api/v1/projects/{project}/webhooks") => one(row(
            "webhook.manage",
            M::GET,
            "/api/v1/projects/p/webhooks".into(),
            Body::None,
        )),
        ("DELETE", "/api/v1/projects/{project}/webhooks/{id}") => one(Row {
            setup: vec![req(
                M::POST,
                "/api/v1/projects/p/webhooks",
                j(json!({"url": format!("http://127.0.0.1:9/d{n}")})),
            )],
            ..row(
                "webhook.manage",
                M::DELETE,
                "/api/v1/projects/p/webhooks/{id}".into(),
                Body::None,
            )
        }),
        ("GET", "/api/v1/projects/{project}/webhooks/{id}/deliveries") => one(row(
            "webhook.manage",
            M::GET,
            format!("/api/v1/projects/p/webhooks/{}/deliveries", fx.webhook),
            Body::None,
        )),
        _ => None,
    }
}

#[tokio::test]
async fn every_route_every_role_every_sensitivity() -> Result<()> {
    let api = Api::start(ServerOptions {
        admin_password: Some(ADMIN_PASSWORD.into()),
        ..ServerOptions::default()
    })?;
    let admin = As {
        api: &api,
        token: Some(api.server.login_token("admin", ADMIN_PASSWORD).await?),
    };
    let mut tokens: BTreeMap<&'static str, Option<String>> = BTreeMap::new();
    tokens.insert("admin", admin.token.clone());
    tokens.insert("anonymous", None);
    let fx = fixture(&api, &admin, &mut tokens).await?;

    let (_, spec) = api.get("/openapi.json").await?;
    let routes: BTreeSet<(String, String)> = openapi_operations(&spec)?
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    let mut n = 0;
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut counts: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    for (method, template) in &routes {
        let Some(first) = rows(method, template, &fx, 0) else {
            failures.push(format!(
                "{method} {template}: no matrix entry (add it to rows())"
            ));
            continue;
        };
        for variant in 0..first.len() {
            for role in ROLES {
                n += 1;
                let mut rows = rows(method, template, &fx, n).context("rows")?;
                let mut row = rows.swap_remove(variant);
                for setup in &row.setup {
                    let made = admin.ok(setup.clone()).await?;
                    // Routes on a freshly made object take its id.
                    if let Some(id) = made["id"].as_i64() {
                        row.request.path = row.request.path.replace("{id}", &id.to_string());
                    }
                }
                if role == "admin" && row.request.path == "/api/v1/auth/password" {
                    row.request.body = Body::Json(
                        json!({"current_password": ADMIN_PASSWORD, "new_password": ADMIN_PASSWORD}),
                    );
                }
                let own = row.run_owner == Some(role);
                let expect_allowed = allowed(role, row.action, row.sensitivity, own);
                let who = As {
                    api: &api,
                    token: tokens[role].clone(),
                };
                let (status, body) = who.send(&row.request).await?;
                checked += 1;
                let label = format!(
                    "{role:<11} {method:<6} {} [{}{}]",
                    row.request.path,
                    row.sensitivity.unwrap_or(""),
                    row.run_owner
                        .map(|o| format!("run of {o}"))
                        .unwrap_or_default()
                );
                let good = if status.is_server_error() {
                    false
                } else if role == "anonymous" && row.action != "public" {
                    status == 401 && body["error"]["code"] == "unauthenticated"
                } else if row.action == "logout" {
                    // A token is not a session: there is nothing to log out of.
                    status == 400
                } else if expect_allowed {
                    status.is_success()
                } else if row.hides {
                    status == 404
                        && body["error"]["code"]
                            .as_str()
                            .is_some_and(|c| c.ends_with("_not_found"))
                } else {
                    status == 403 && body["error"]["code"] == "forbidden"
                };
                let entry = counts.entry(role).or_default();
                if status.is_success() {
                    entry.0 += 1;
                } else {
                    entry.1 += 1;
                }
                if !good {
                    let want = if expect_allowed { "allow" } else { "deny" };
                    failures.push(format!("{label}: expected {want}, got {status} {body}"));
                }
            }
        }
    }
    println!(
        "authorization matrix: {checked} requests over {} routes; (allowed, refused) per role: {counts:?}",
        routes.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} matrix cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Every denial above is in the audit trail, and the chain is intact.
    let denied: Value = admin
        .ok(req(
            Method::GET,
            "/api/v1/audit?outcome=denied&limit=1000",
            Body::None,
        ))
        .await?;
    let refused: u32 = counts
        .iter()
        .filter(|(role, _)| !matches!(**role, "anonymous"))
        .map(|(_, c)| c.1)
        .sum();
    assert!(
        denied["next_cursor"].is_null(),
        "more denials than one page"
    );
    let denied_events = denied["items"].as_array().map_or(0, Vec::len) as u32;
    // Refusals include the logout 400s, which are not denials.
    let logout_refusals = (ROLES.len() - 1) as u32;
    assert_eq!(
        denied_events,
        refused - logout_refusals,
        "one denial event per 403"
    );
    let verify = admin
        .ok(req(Method::GET, "/api/v1/audit/verify", Body::None))
        .await?;
    assert_eq!(verify["intact"], true, "{verify}");
    Ok(())
}
