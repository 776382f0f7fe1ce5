//! Monitors and clearance (security review, issue 14): a monitor reads its dataset with its
//! owner's access, so only callers cleared for the data may create, change or run one; what a
//! monitor produces (alerts, jobs, reports, webhook payloads) never quotes the data, and is
//! only listed to callers cleared for it.

use anyhow::{Context, Result};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use verity_tests::ServerOptions;

use crate::mlflow::server_with_members;
use crate::monitoring::{next_delivery, receiver, wait_for};
use crate::{Api, expect_error, expect_status, items};

/// A cell value of the restricted dataset that a failing check's error quotes.
const SECRET: &str = "TOPSECRET-4711";

/// Rows whose `code` column cannot be cast to an integer: the cast error names the value.
fn secret_csv() -> Vec<u8> {
    let mut csv = String::from("id,code,x\n");
    for i in 0..50 {
        csv.push_str(&format!("{i},{SECRET},{}\n", i as f64 / 10.0));
    }
    csv.into_bytes()
}

/// A client acting with one token ([`Api::send_as`]); every answer is kept, to look for leaks.
struct As<'a> {
    api: &'a Api,
    token: &'a str,
    seen: std::cell::RefCell<Vec<String>>,
}

impl<'a> As<'a> {
    fn new(api: &'a Api, token: &'a str) -> Self {
        Self {
            api,
            token,
            seen: Default::default(),
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value)> {
        let reply = self
            .api
            .send_as(Some(self.token), method.clone(), path, body.as_ref())
            .await?;
        self.seen
            .borrow_mut()
            .push(format!("{method} {path} -> {} {}", reply.0, reply.1));
        Ok(reply)
    }

    async fn get(&self, path: &str) -> Result<(StatusCode, Value)> {
        self.send(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Result<(StatusCode, Value)> {
        self.send(Method::POST, path, Some(body)).await
    }

    /// Asserts that no answer so far quoted the secret cell value.
    fn assert_nothing_leaked(&self) {
        for answer in self.seen.borrow().iter() {
            assert!(!answer.contains(SECRET), "the data leaked: {answer}");
        }
    }
}

/// Sets a user's clearance (as the administrator, asserting 200).
async fn set_clearance(api: &Api, user: &str, clearance: &str) -> Result<()> {
    expect_status(
        &api.patch(
            &format!("/api/v1/users/{user}"),
            json!({"clearance": clearance}),
        )
        .await?,
        200,
    );
    Ok(())
}

/// The project `default` with a restricted dataset `secrets` (one version), a public one
/// `open`, and the members' tokens.
async fn setup(members: &[(&str, &str)]) -> Result<(Api, Vec<String>)> {
    let (api, tokens) = server_with_members(
        ServerOptions {
            env: vec![("VERITY_LOG".into(), "warn".into())],
            ..ServerOptions::default()
        },
        members,
    )
    .await?;
    for (name, sensitivity) in [("secrets", "restricted"), ("open", "public")] {
        expect_status(
            &api.post(
                "/api/v1/projects/default/datasets",
                json!({"name": name, "sensitivity": sensitivity}),
            )
            .await?,
            201,
        );
        api.upload_version("default", name, Some("text/csv"), secret_csv())
            .await?;
    }
    Ok((api, tokens))
}

/// The newest finished job of a monitor.
async fn finished(api: &Api, monitor: &str, after: i64) -> Result<Value> {
    let jobs = wait_for(
        api,
        &format!("/api/v1/projects/default/jobs?monitor={monitor}"),
        |v| {
            v["items"].as_array().is_some_and(|jobs| {
                jobs.iter().any(|j| {
                    j["id"].as_i64() > Some(after)
                        && matches!(j["state"].as_str(), Some("succeeded" | "failed"))
                })
            })
        },
    )
    .await?;
    Ok(jobs["items"][0].clone())
}

/// Runs a monitor as the administrator (asserting 202) and waits for the job; returns the
/// finished job and its report (asserting 200).
async fn run_monitor(api: &Api, monitor: &str) -> Result<(Value, Value)> {
    let queued = api
        .post(
            &format!("/api/v1/projects/default/monitors/{monitor}/runs"),
            json!({}),
        )
        .await?;
    expect_status(&queued, 202);
    let id = queued.1["id"].as_i64().context("job id")?;
    let job = finished(api, monitor, id - 1).await?;
    let report_id = job["report_id"]
        .as_i64()
        .with_context(|| format!("no report of {job}"))?;
    let report = api
        .get(&format!("/api/v1/projects/default/reports/{report_id}"))
        .await?;
    expect_status(&report, 200);
    Ok((job, report.1))
}

#[tokio::test]
async fn uncleared_maintainers_cannot_make_monitors_read_restricted_data() -> Result<()> {
    let (api, tokens) = setup(&[("mona", "maintainer")]).await?;
    // Mona maintains the project but may only read public data.
    set_clearance(&api, "mona", "public").await?;
    let mona = As::new(&api, &tokens[0]);
    let (hook_url, mut deliveries) = receiver(0).await?;
    expect_status(
        &api.post(
            "/api/v1/projects/default/webhooks",
            json!({"url": hook_url}),
        )
        .await?,
        201,
    );

    // Mona cannot create a monitor of the restricted dataset, nor one of a public dataset
    // that compares with it.
    let profile = json!({"kind": "profile"});
    for body in [
        json!({"name": "m1", "dataset": "secrets", "checks": [profile]}),
        json!({"name": "m2", "dataset": "open", "checks": [{"kind": "drift"}],
               "reference": {"dataset": "secrets", "version": 1}}),
    ] {
        let reply = mona.post("/api/v1/projects/default/monitors", body).await?;
        expect_error(&reply, 403, "forbidden");
    }
    // Of public data she can.
    expect_status(
        &mona
            .post(
                "/api/v1/projects/default/monitors",
                json!({"name": "mine", "dataset": "open", "checks": [profile],
                       "on_new_version": false}),
            )
            .await?,
        201,
    );

    // The administrator makes one whose check fails with an error quoting the data.
    let failing = json!({"kind": "quality", "expectations": [
        {"type": "expect_rows_to_satisfy", "predicate": "CAST(code AS INT) > 0"}]});
    expect_status(
        &api.post(
            "/api/v1/projects/default/monitors",
            json!({"name": "watch", "dataset": "secrets", "checks": [failing],
                   "on_new_version": false}),
        )
        .await?,
        201,
    );
    // Mona can neither run it, nor change it (which would make her its owner), nor delete it,
    // nor point her own monitor at the restricted data.
    for (method, path, body) in [
        (
            Method::DELETE,
            "/api/v1/projects/default/monitors/watch",
            None,
        ),
        (
            Method::POST,
            "/api/v1/projects/default/monitors/watch/runs",
            Some(json!({})),
        ),
        (
            Method::PATCH,
            "/api/v1/projects/default/monitors/watch",
            Some(json!({"enabled": false})),
        ),
        (
            Method::PATCH,
            "/api/v1/projects/default/monitors/mine",
            Some(json!({"checks": [{"kind": "drift"}], "reference": {"dataset": "secrets"}})),
        ),
    ] {
        let reply = mona.send(method, path, body).await?;
        expect_error(&reply, 403, "forbidden");
    }
    let (job, report) = run_monitor(&api, "watch").await?;
    assert_eq!(job["state"], "succeeded", "{job}");

    // The data is in the report, for those cleared to read it (else this test proves nothing).
    let report_id = job["report_id"].as_i64().context("report id")?;
    assert_eq!(report["status"], "error");
    assert!(report["result"].to_string().contains(SECRET), "{}", report);
    // Its summary, the alert, the job and the webhook payload do not quote it.
    assert!(
        !report["summary"].to_string().contains(SECRET),
        "{}",
        report
    );
    let alerts = items(&api.get("/api/v1/projects/default/alerts").await?);
    let alert = alerts
        .iter()
        .find(|a| a["monitor"] == "watch")
        .context("an alert of watch")?
        .clone();
    assert!(!alert.to_string().contains(SECRET), "{alert}");
    assert!(!job.to_string().contains(SECRET), "{job}");
    let delivery = next_delivery(&mut deliveries).await?;
    let payload = String::from_utf8_lossy(&delivery.body).to_string();
    assert!(payload.contains("alert.opened"), "{payload}");
    assert!(!payload.contains(SECRET), "{payload}");
    let audit = api.get("/api/v1/audit?limit=1000").await?;
    assert!(
        !audit.1.to_string().contains(SECRET),
        "the audit trail quotes the data"
    );

    // Mona sees none of it: lists leave it out, reads are refused.
    let alert_id = alert["id"].as_i64().context("alert id")?;
    let job_id = job["id"].as_i64().context("job id")?;
    for path in [
        "/api/v1/projects/default/alerts",
        "/api/v1/projects/default/alerts?state=open",
        "/api/v1/projects/default/jobs",
        "/api/v1/projects/default/jobs?monitor=watch",
        "/api/v1/projects/default/reports",
        "/api/v1/projects/default/reports?monitor=watch",
        "/api/v1/projects/default/monitors",
    ] {
        let listed = mona.get(path).await?;
        expect_status(&listed, 200);
        for item in items(&listed) {
            assert_ne!(item["monitor"], "watch", "{path} lists {item}");
            assert_ne!(item["name"], "watch", "{path} lists {item}");
            assert_ne!(item["dataset"], "secrets", "{path} lists {item}");
        }
    }
    for path in [
        format!("/api/v1/projects/default/alerts/{alert_id}"),
        format!("/api/v1/projects/default/jobs/{job_id}"),
        format!("/api/v1/projects/default/reports/{report_id}"),
        "/api/v1/projects/default/monitors/watch".to_owned(),
    ] {
        expect_error(&mona.get(&path).await?, 403, "forbidden");
    }
    for action in ["acknowledge", "resolve"] {
        let reply = mona
            .send(
                Method::POST,
                &format!("/api/v1/projects/default/alerts/{alert_id}/{action}"),
                Some(json!({})),
            )
            .await?;
        expect_error(&reply, 403, "forbidden");
    }
    // Her own monitor's things she still sees.
    let listed = items(&mona.get("/api/v1/projects/default/monitors").await?);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["name"], "mine");
    mona.assert_nothing_leaked();
    Ok(())
}

#[tokio::test]
async fn monitors_run_with_their_owners_access() -> Result<()> {
    let (api, tokens) = setup(&[("olga", "maintainer")]).await?;
    set_clearance(&api, "olga", "restricted").await?;
    let olga = As::new(&api, &tokens[0]);
    let made = olga
        .post(
            "/api/v1/projects/default/monitors",
            json!({"name": "olgas", "dataset": "secrets", "checks": [{"kind": "profile"}],
                   "on_new_version": false}),
        )
        .await?;
    expect_status(&made, 201);
    assert_eq!(made.1["owner"], "olga");
    let (_, report) = run_monitor(&api, "olgas").await?;
    assert_eq!(report["status"], "pass", "{report}");

    // Olga loses her clearance: the next run is refused, the data not read.
    set_clearance(&api, "olga", "internal").await?;
    let (_, report) = run_monitor(&api, "olgas").await?;
    assert_eq!(report["status"], "error", "{report}");
    let summary = report["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("owner 'olga' may not read") && summary.contains("secrets"),
        "{summary}"
    );
    assert!(report["result"].get("profile").is_none(), "{report}");
    let alerts = items(&api.get("/api/v1/projects/default/alerts").await?);
    assert!(
        alerts
            .iter()
            .any(|a| a["monitor"] == "olgas" && a["state"] == "open"),
        "{alerts:?}"
    );

    // An administrator who changes the monitor takes it over; it runs again.
    let changed = api
        .patch(
            "/api/v1/projects/default/monitors/olgas",
            json!({"enabled": true}),
        )
        .await?;
    expect_status(&changed, 200);
    assert_eq!(changed.1["owner"], "admin");
    let (_, report) = run_monitor(&api, "olgas").await?;
    assert_eq!(report["status"], "pass", "{report}");
    Ok(())
}

#[tokio::test]
async fn webhooks_follow_their_creators_clearance() -> Result<()> {
    let (api, tokens) = setup(&[("olivia", "owner")]).await?;
    // Olivia owns the project but may only read public data; the administrator may read all.
    set_clearance(&api, "olivia", "public").await?;
    let olivia = As::new(&api, &tokens[0]);
    let (cleared_url, mut cleared) = receiver(0).await?;
    let (public_url, mut public) = receiver(0).await?;
    let made = api
        .post(
            "/api/v1/projects/default/webhooks",
            json!({"url": cleared_url}),
        )
        .await?;
    expect_status(&made, 201);
    assert_eq!(made.1["clearance"], "restricted");
    let cleared_hook = made.1["id"].as_i64().context("webhook id")?;
    let made = olivia
        .post(
            "/api/v1/projects/default/webhooks",
            json!({"url": public_url}),
        )
        .await?;
    expect_status(&made, 201);
    assert_eq!(made.1["clearance"], "public");
    let public_hook = made.1["id"].as_i64().context("webhook id")?;
    // A failing monitor of each dataset.
    let rows = |dataset: &str| {
        json!({"name": format!("rows-{dataset}"), "dataset": dataset, "on_new_version": false,
               "checks": [{"kind": "quality", "expectations": [
                   {"type": "expect_table_row_count_to_be_between", "min_value": 1000}]}]})
    };
    for dataset in ["secrets", "open"] {
        expect_status(
            &api.post("/api/v1/projects/default/monitors", rows(dataset))
                .await?,
            201,
        );
        run_monitor(&api, &format!("rows-{dataset}")).await?;
    }
    // The administrator's webhook hears of both alerts, Olivia's only of the public one.
    let mut heard = Vec::new();
    for _ in 0..2 {
        let got = next_delivery(&mut cleared).await?;
        let body: Value = serde_json::from_slice(&got.body)?;
        heard.push(body["monitor"].as_str().unwrap_or_default().to_owned());
    }
    heard.sort();
    assert_eq!(heard, ["rows-open", "rows-secrets"]);
    let got = next_delivery(&mut public).await?;
    let body: Value = serde_json::from_slice(&got.body)?;
    assert_eq!(body["monitor"], "rows-open");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        public.try_recv().is_err(),
        "Olivia's webhook heard of restricted data"
    );
    // The delivery log shows Olivia only what she may read; the administrator everything.
    let admin_token = api
        .post("/api/v1/tokens", json!({"name": "admin-hooks"}))
        .await?;
    let admin_token = admin_token.1["token"].as_str().context("token")?.to_owned();
    let admin = As::new(&api, &admin_token);
    let seen = deliveries(&olivia, cleared_hook).await?;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0]["payload"]
            .as_str()
            .unwrap_or_default()
            .contains("rows-open")
    );
    assert_eq!(deliveries(&admin, cleared_hook).await?.len(), 2);
    assert_eq!(deliveries(&admin, public_hook).await?.len(), 1);
    olivia.assert_nothing_leaked();
    Ok(())
}

/// The deliveries of a webhook of `default` that `who` may see.
async fn deliveries(who: &As<'_>, hook: i64) -> Result<Vec<Value>> {
    let path = format!("/api/v1/projects/default/webhooks/{hook}/deliveries");
    Ok(items(&who.get(&path).await?))
}
