//! Monitoring end to end: checks over the API, monitors fired by a new dataset version,
//! alerts, signed webhooks delivered (with a retry) to a receiver on loopback, the job queue
//! across a restart, and `verity check` on files and stored versions.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use verity_tests::ServerOptions;

use crate::{Api, expect_error, expect_status, items, server};

#[path = "../../api/src/signature.rs"]
#[allow(dead_code)]
mod signature;

/// A CSV with a numeric column `x` and a text column `c`: 2000 rows. `shift` moves `x`,
/// `category` replaces every `c`, `reverse` lists the same rows backwards (same distribution,
/// other bytes).
fn drift_csv(shift: f64, category: Option<&str>, reverse: bool) -> Vec<u8> {
    let mut rows: Vec<String> = (0..2000)
        .map(|i| {
            let x = f64::from(i % 100) / 10.0 + shift;
            let c = category.unwrap_or(["a", "b", "c"][i as usize % 3]);
            format!("{x},{c}")
        })
        .collect();
    if reverse {
        rows.reverse();
    }
    format!("x,c\n{}\n", rows.join("\n")).into_bytes()
}

/// One request the receiver got: its headers (lower-case names) and body.
#[derive(Debug)]
pub(crate) struct Received {
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A webhook receiver on 127.0.0.1: answers 500 to the first `failures` requests, then 200.
pub(crate) async fn receiver(
    failures: usize,
) -> Result<(String, mpsc::UnboundedReceiver<Received>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut served = 0;
        while let Ok((mut socket, _)) = listener.accept().await {
            let Ok(request) = read_request(&mut socket).await else {
                continue;
            };
            served += 1;
            let status = if served <= failures {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            let reply =
                format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = socket.write_all(reply.as_bytes()).await;
            let _ = socket.shutdown().await;
            if served > failures {
                let _ = tx.send(request);
            }
        }
    });
    Ok((url, rx))
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> Result<Received> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            bail!("connection closed before the headers ended");
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Received { headers, body })
}

/// Polls `path` until `done` holds for its JSON (at most 60 s).
pub(crate) async fn wait_for(
    api: &Api,
    path: &str,
    done: impl Fn(&Value) -> bool,
) -> Result<Value> {
    for _ in 0..600 {
        let reply = api.get(path).await?;
        if reply.0.is_success() && done(&reply.1) {
            return Ok(reply.1);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{path} did not reach the expected state within 60 s")
}

pub(crate) async fn next_delivery(rx: &mut mpsc::UnboundedReceiver<Received>) -> Result<Received> {
    tokio::time::timeout(Duration::from_secs(60), rx.recv())
        .await
        .context("no webhook delivery within 60 s")?
        .context("receiver stopped")
}

/// The job of the monitor for dataset version `id`, once it finished.
async fn finished_job(api: &Api, version_id: i64) -> Result<Value> {
    let jobs = wait_for(api, "/api/v1/projects/p/jobs?monitor=watch", |v| {
        v["items"].as_array().is_some_and(|jobs| {
            jobs.iter().any(|j| {
                j["dataset_version_id"] == version_id
                    && (j["state"] == "succeeded" || j["state"] == "failed")
            })
        })
    })
    .await?;
    jobs["items"]
        .as_array()
        .and_then(|jobs| jobs.iter().find(|j| j["dataset_version_id"] == version_id))
        .cloned()
        .context("job")
}

#[tokio::test]
async fn new_version_fires_monitor_alert_and_signed_webhook() -> Result<()> {
    let api = server()?;
    let (url, mut deliveries) = receiver(1).await?;
    let secret = "a-shared-signing-secret";
    api.project("p").await?;
    api.dataset("p", "scores").await?;
    let v1 = api
        .upload_version("p", "scores", Some("text/csv"), drift_csv(0.0, None, false))
        .await?;
    expect_status(&v1, 201);
    let hook = api
        .post(
            "/api/v1/projects/p/webhooks",
            json!({"url": url, "events": ["alert.opened", "alert.resolved"], "secret": secret}),
        )
        .await?;
    expect_status(&hook, 201);
    assert_eq!(hook.1["secret"], secret);
    let hook_id = hook.1["id"].as_i64().unwrap();
    let listed = items(&api.get("/api/v1/projects/p/webhooks").await?);
    assert_eq!(listed.len(), 1);
    assert!(listed[0].get("secret").is_none(), "secrets are shown once");
    let monitor = api
        .post(
            "/api/v1/projects/p/monitors",
            json!({
                "name": "watch",
                "dataset": "scores",
                "reference": {"version": 1},
                "checks": [
                    {"kind": "drift"},
                    {"kind": "quality", "expectations": [
                        {"type": "expect_column_values_to_not_be_null", "column": "x"}]}
                ]
            }),
        )
        .await?;
    expect_status(&monitor, 201);
    assert_eq!(monitor.1["reference_version_id"], v1.1["id"]);
    assert_eq!(monitor.1["on_new_version"], true);

    // The same distribution (other bytes): the monitor passes, no alert.
    let v2 = api
        .upload_version("p", "scores", Some("text/csv"), drift_csv(0.0, None, true))
        .await?;
    expect_status(&v2, 201);
    let job = finished_job(&api, v2.1["id"].as_i64().unwrap()).await?;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(job["trigger"], "new_version");
    assert!(items(&api.get("/api/v1/projects/p/alerts").await?).is_empty());

    // Shifted numbers and one new category: dataset drift, the monitor fails.
    let v3 = api
        .upload_version(
            "p",
            "scores",
            Some("text/csv"),
            drift_csv(20.0, Some("z"), false),
        )
        .await?;
    expect_status(&v3, 201);
    let v3_id = v3.1["id"].as_i64().unwrap();
    let job = finished_job(&api, v3_id).await?;
    assert_eq!(job["state"], "succeeded", "{job}");
    let alerts = items(&api.get("/api/v1/projects/p/alerts?state=open").await?);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let alert = &alerts[0];
    assert_eq!(alert["monitor"], "watch");
    assert_eq!(alert["severity"], "fail");
    assert_eq!(alert["last_report_id"], job["report_id"]);
    let summary = alert["summary"].as_str().unwrap();
    assert!(
        summary.contains("scores v3") && summary.contains("drift"),
        "{summary}"
    );

    // The failing report names its inputs and holds the per-column figures.
    let report = api
        .get(&format!("/api/v1/projects/p/reports/{}", job["report_id"]))
        .await?;
    expect_status(&report, 200);
    assert_eq!(report.1["kind"], "drift");
    assert_eq!(report.1["status"], "fail");
    assert_eq!(report.1["dataset_version_id"], v3_id);
    assert_eq!(report.1["reference_version_id"], v1.1["id"]);
    assert_eq!(report.1["monitor"], "watch");
    assert_eq!(report.1["created_by"], "system:monitor");
    let columns = report.1["result"]["drift"]["columns"].as_array().unwrap();
    assert_eq!(columns.len(), 2);
    assert!(columns.iter().all(|c| c["drifted"] == true), "{columns:?}");
    let reports = items(
        &api.get("/api/v1/projects/p/reports?monitor=watch&kind=quality")
            .await?,
    );
    assert_eq!(reports.len(), 2, "one quality report per run");
    assert!(
        reports
            .iter()
            .all(|r| r["status"] == "pass" && r.get("result").is_none())
    );

    // The receiver answered 500 first; the retry was delivered, signed.
    let got = next_delivery(&mut deliveries).await?;
    assert_eq!(got.header("x-verity-event"), Some("alert.opened"));
    assert_eq!(got.header("content-type"), Some("application/json"));
    // Signed with a timestamp (as Stripe signs): checks out now, not as a replay later.
    let header = got
        .header("x-verity-signature")
        .unwrap_or_default()
        .to_owned();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    assert_eq!(
        signature::verify(secret.as_bytes(), &header, &got.body, now, 300),
        Ok(()),
        "{header}"
    );
    assert_eq!(
        signature::verify(secret.as_bytes(), &header, &got.body, now + 3600, 300),
        Err(signature::Invalid::Stale)
    );
    let body: Value = serde_json::from_slice(&got.body)?;
    assert_eq!(body["event"], "alert.opened");
    assert_eq!(body["alert"]["id"], alert["id"]);
    assert_eq!(body["monitor"], "watch");
    let log = wait_for(
        &api,
        &format!("/api/v1/projects/p/webhooks/{hook_id}/deliveries"),
        |v| v["items"][0]["state"] == "delivered",
    )
    .await?;
    let delivery = &log["items"][0];
    assert_eq!(delivery["attempts"], 2, "{delivery}");
    let attempts = delivery["attempt_log"].as_array().unwrap();
    assert_eq!(attempts[0]["status"], 500);
    assert_eq!(attempts[1]["status"], 200);
    assert!(attempts[0]["error"].as_str().unwrap().contains("500"));

    // Acknowledge, then resolve by hand: `alert.resolved` is delivered too.
    let alert_id = alert["id"].as_i64().unwrap();
    let acked = api
        .post(
            &format!("/api/v1/projects/p/alerts/{alert_id}/acknowledge"),
            json!({}),
        )
        .await?;
    expect_status(&acked, 200);
    assert_eq!(acked.1["state"], "acknowledged");
    assert_eq!(acked.1["acknowledged_by"], "local");
    let resolved = api
        .post(
            &format!("/api/v1/projects/p/alerts/{alert_id}/resolve"),
            json!({}),
        )
        .await?;
    expect_status(&resolved, 200);
    assert_eq!(resolved.1["state"], "resolved");
    let got = next_delivery(&mut deliveries).await?;
    let body: Value = serde_json::from_slice(&got.body)?;
    assert_eq!(body["event"], "alert.resolved");
    assert_eq!(body["alert"]["state"], "resolved");
    let acked_again = api
        .post(
            &format!("/api/v1/projects/p/alerts/{alert_id}/acknowledge"),
            json!({}),
        )
        .await?;
    expect_error(&acked_again, 409, "conflict");

    let one = api
        .get(&format!("/api/v1/projects/p/alerts/{alert_id}"))
        .await?;
    assert_eq!(one.1["resolved_by"], "local");
    let one = api
        .get(&format!("/api/v1/projects/p/jobs/{}", job["id"]))
        .await?;
    expect_status(&one, 200);
    assert_eq!(one.1["report_id"], job["report_id"]);
    assert_eq!(one.1["attempts"], 1);
    let monitors = items(&api.get("/api/v1/projects/p/monitors").await?);
    assert_eq!(monitors.len(), 1);
    let watch = api.get("/api/v1/projects/p/monitors/watch").await?;
    assert!(watch.1["last_run_at"].as_i64().is_some(), "{}", watch.1);
    expect_status(
        &api.delete(&format!("/api/v1/projects/p/webhooks/{hook_id}"))
            .await?,
        204,
    );
    assert!(items(&api.get("/api/v1/projects/p/webhooks").await?).is_empty());

    // The report is a lineage node linked to both inputs.
    let lineage = api
        .get(&format!(
            "/api/v1/lineage?kind=report&id={}&direction=upstream",
            job["report_id"]
        ))
        .await?;
    expect_status(&lineage, 200);
    let text = lineage.1.to_string();
    assert!(
        text.contains("checked") && text.contains("reference"),
        "{text}"
    );
    Ok(())
}

#[tokio::test]
async fn queued_jobs_survive_a_restart() -> Result<()> {
    let data = tempfile::tempdir()?;
    let options = |no_worker: bool| ServerOptions {
        data_dir: Some(data.path().to_path_buf()),
        env: if no_worker {
            vec![("VERITY_NO_WORKER".into(), "true".into())]
        } else {
            Vec::new()
        },
        ..ServerOptions::default()
    };
    // A server without a worker queues the job and is killed.
    let api = Api::start(options(true))?;
    api.project("p").await?;
    api.dataset("p", "scores").await?;
    api.upload_version("p", "scores", Some("text/csv"), drift_csv(0.0, None, false))
        .await?;
    let monitor = api
        .post(
            "/api/v1/projects/p/monitors",
            json!({"name": "watch", "dataset": "scores",
                   "checks": [{"kind": "profile"}]}),
        )
        .await?;
    expect_status(&monitor, 201);
    let v2 = api
        .upload_version("p", "scores", Some("text/csv"), drift_csv(1.0, None, false))
        .await?;
    expect_status(&v2, 201);
    let manual = api
        .post(
            "/api/v1/projects/p/monitors/watch/runs",
            json!({"version": 1}),
        )
        .await?;
    expect_status(&manual, 202);
    assert_eq!(manual.1["state"], "queued");
    let jobs = items(&api.get("/api/v1/projects/p/jobs").await?);
    assert_eq!(jobs.len(), 2);
    assert!(jobs.iter().all(|j| j["state"] == "queued"));
    drop(api.server.stop());

    // The next server on the same data runs both, once each.
    let api = Api::start(options(false))?;
    let done = wait_for(&api, "/api/v1/projects/p/jobs", |v| {
        v["items"]
            .as_array()
            .is_some_and(|jobs| jobs.iter().all(|j| j["state"] == "succeeded"))
    })
    .await?;
    for job in done["items"].as_array().unwrap() {
        assert_eq!(job["attempts"], 1, "{job}");
        let report = api
            .get(&format!("/api/v1/projects/p/reports/{}", job["report_id"]))
            .await?;
        expect_status(&report, 200);
        assert_eq!(report.1["kind"], "profile");
        assert_eq!(report.1["result"]["rows"], 2000);
    }
    let reports = items(&api.get("/api/v1/projects/p/reports?monitor=watch").await?);
    assert_eq!(reports.len(), 2, "each job ran once");
    Ok(())
}

#[tokio::test]
async fn checks_over_the_api() -> Result<()> {
    let api = server()?;
    api.project("p").await?;
    api.dataset("p", "preds").await?;
    // label, prediction, group: group a selects 4 of 5, group b 2 of 5.
    let csv =
        "label,pred,group\n1,1,a\n1,1,a\n0,1,a\n0,1,a\n0,0,a\n1,1,b\n0,1,b\n0,0,b\n1,0,b\n0,0,b\n";
    expect_status(
        &api.upload_version("p", "preds", Some("text/csv"), csv.into())
            .await?,
        201,
    );
    let profile = api
        .post(
            "/api/v1/projects/p/checks",
            json!({"check": {"kind": "profile"}, "dataset": "preds"}),
        )
        .await?;
    expect_status(&profile, 201);
    assert_eq!(profile.1["status"], "pass");
    assert_eq!(profile.1["trigger"], "manual");
    assert_eq!(profile.1["result"]["rows"], 10);
    assert_eq!(profile.1["version"], 1);

    let fairness = api
        .post(
            "/api/v1/projects/p/checks",
            json!({"check": {"kind": "fairness", "label": "label", "prediction": "pred",
                             "sensitive": ["group"]},
                   "dataset": "preds", "version": 1}),
        )
        .await?;
    expect_status(&fairness, 201);
    // Demographic parity ratio 0.4 / 0.8 = 0.5 < 0.8: the four-fifths rule fails.
    assert_eq!(fairness.1["status"], "fail", "{}", fairness.1);
    let text = fairness.1["result"].to_string();
    assert!(text.contains("demographic_parity_ratio"), "{text}");

    let quality = api
        .post(
            "/api/v1/projects/p/checks",
            json!({"check": {"kind": "quality", "expectations": [
                        {"type": "expect_column_values_to_be_in_set", "column": "group", "value_set": ["a", "b"]},
                        {"type": "expect_column_to_exist", "column": "missing"}]},
                   "dataset": "preds"}),
        )
        .await?;
    expect_status(&quality, 201);
    assert_eq!(quality.1["status"], "fail");
    let results = quality.1["result"]["results"].as_array().unwrap();
    assert_eq!(results[0]["success"], true);
    assert_eq!(results[1]["success"], false);

    let all = items(&api.get("/api/v1/projects/p/reports").await?);
    assert_eq!(all.len(), 3);
    assert_eq!(all[0]["kind"], "quality", "newest first");
    let fair = items(
        &api.get("/api/v1/projects/p/reports?kind=fairness&status=fail")
            .await?,
    );
    assert_eq!(fair.len(), 1);
    assert_eq!(fair[0]["id"], fairness.1["id"]);
    Ok(())
}

#[tokio::test]
async fn monitoring_bad_input() -> Result<()> {
    let api = server()?;
    api.project("p").await?;
    api.dataset("p", "a").await?;
    api.dataset("p", "b").await?;
    api.dataset("p", "empty").await?;
    api.upload_version("p", "a", Some("text/csv"), drift_csv(0.0, None, false))
        .await?;
    api.upload_version(
        "p",
        "b",
        Some("text/csv"),
        b"y,label\n1,0\n2,1\n3,2\n".to_vec(),
    )
    .await?;
    let check = |check: Value| json!({"check": check, "dataset": "a"});
    let cases = [
        (check(json!({"kind": "wavelets"})), 400, "invalid_check"),
        (check(json!({"kind": "drift"})), 400, "invalid_argument"),
        (
            json!({"check": {"kind": "profile"}, "dataset": "a", "reference": {"version": 1}}),
            400,
            "invalid_argument",
        ),
        (
            json!({"check": {"kind": "drift"}, "dataset": "a", "reference": {"dataset": "b", "version": 1}}),
            400,
            "invalid_check",
        ),
        (
            check(json!({"kind": "drift", "drift_share": 2})),
            400,
            "invalid_check",
        ),
        (
            check(json!({"kind": "quality", "expectations": [
                {"type": "expect_column_values_to_match_regex", "column": "c", "regex": "("}]})),
            400,
            "invalid_check",
        ),
        (
            check(json!({"kind": "quality", "expectations": [
                {"type": "expect_rows_to_satisfy", "predicate": "x IN (SELECT y FROM other)"}]})),
            400,
            "invalid_check",
        ),
        (
            json!({"check": {"kind": "fairness", "label": "label", "prediction": "y", "sensitive": ["y"]},
                   "dataset": "b"}),
            400,
            "invalid_check",
        ),
        (
            check(json!({"kind": "profile", "extra": 1})),
            400,
            "invalid_check",
        ),
        (
            json!({"check": {"kind": "profile"}, "dataset": "nope"}),
            404,
            "dataset_not_found",
        ),
        (
            json!({"check": {"kind": "profile"}, "dataset": "a", "version": 9}),
            404,
            "dataset_version_not_found",
        ),
        (
            json!({"check": {"kind": "profile"}, "dataset": "empty"}),
            404,
            "dataset_version_not_found",
        ),
        (json!({"check": {"kind": "profile"}}), 422, "invalid_body"),
    ];
    for (body, status, code) in cases {
        let reply = api.post("/api/v1/projects/p/checks", body.clone()).await?;
        let message = expect_error(&reply, status, code);
        assert!(!message.is_empty(), "{body}");
    }
    let schema = api
        .post(
            "/api/v1/projects/p/checks",
            json!({"check": {"kind": "drift"}, "dataset": "a", "reference": {"dataset": "b", "version": 1}}),
        )
        .await?;
    assert!(schema.1["error"]["message"].as_str().unwrap().contains('x'));

    let monitor = |extra: Value| {
        let mut body = json!({"name": "m", "dataset": "a", "checks": [{"kind": "profile"}]});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let cases = [
        (monitor(json!({"checks": []})), 400, "invalid_argument"),
        (
            monitor(json!({"checks": [{"kind": "drift"}]})),
            400,
            "invalid_argument",
        ),
        (
            monitor(json!({"checks": [{"kind": "nope"}]})),
            400,
            "invalid_check",
        ),
        (
            monitor(json!({"interval_seconds": 5})),
            400,
            "invalid_argument",
        ),
        (
            monitor(json!({"dataset": "nope"})),
            404,
            "dataset_not_found",
        ),
        (
            monitor(json!({"reference": {"version": 7}})),
            404,
            "dataset_version_not_found",
        ),
        (monitor(json!({"name": ""})), 400, "invalid_argument"),
        (monitor(json!({"bogus": true})), 422, "invalid_body"),
    ];
    for (body, status, code) in cases {
        let reply = api
            .post("/api/v1/projects/p/monitors", body.clone())
            .await?;
        expect_error(&reply, status, code);
    }
    expect_status(
        &api.post("/api/v1/projects/p/monitors", monitor(json!({})))
            .await?,
        201,
    );
    expect_error(
        &api.post("/api/v1/projects/p/monitors", monitor(json!({})))
            .await?,
        409,
        "monitor_already_exists",
    );
    expect_error(
        &api.patch(
            "/api/v1/projects/p/monitors/m",
            json!({"checks": [{"kind": "drift"}]}),
        )
        .await?,
        400,
        "invalid_argument",
    );
    let patched = api
        .patch(
            "/api/v1/projects/p/monitors/m",
            json!({"interval_seconds": 3600, "enabled": false}),
        )
        .await?;
    expect_status(&patched, 200);
    assert_eq!(patched.1["interval_seconds"], 3600);
    assert_eq!(patched.1["enabled"], false);
    assert_eq!(patched.1["checks"], json!([{"kind": "profile"}]));
    let cleared = api
        .patch(
            "/api/v1/projects/p/monitors/m",
            json!({"interval_seconds": null}),
        )
        .await?;
    assert_eq!(cleared.1["interval_seconds"], Value::Null);
    expect_error(
        &api.post("/api/v1/projects/p/monitors/m/runs", json!({"version": 5}))
            .await?,
        404,
        "dataset_version_not_found",
    );
    expect_error(
        &api.post("/api/v1/projects/p/monitors/zzz/runs", json!({}))
            .await?,
        404,
        "monitor_not_found",
    );
    expect_status(&api.delete("/api/v1/projects/p/monitors/m").await?, 204);
    expect_error(
        &api.get("/api/v1/projects/p/monitors/m").await?,
        404,
        "monitor_not_found",
    );

    for (body, code) in [
        (json!({"url": "ftp://127.0.0.1/x"}), "invalid_argument"),
        (json!({"url": "not a url"}), "invalid_argument"),
        (
            json!({"url": "http://127.0.0.1:9/", "events": ["alert.exploded"]}),
            "invalid_argument",
        ),
        (
            json!({"url": "http://127.0.0.1:9/", "secret": "short"}),
            "invalid_argument",
        ),
    ] {
        let reply = api.post("/api/v1/projects/p/webhooks", body).await?;
        expect_error(&reply, 400, code);
    }
    for path in [
        "/api/v1/projects/p/alerts/999",
        "/api/v1/projects/p/reports/999",
        "/api/v1/projects/p/jobs/999",
        "/api/v1/projects/p/webhooks/999/deliveries",
        "/api/v1/projects/nope/reports",
    ] {
        let reply = api.get(path).await?;
        assert_eq!(reply.0, 404, "{path}: {}", reply.1);
    }
    expect_error(
        &api.post("/api/v1/projects/p/alerts/999/resolve", json!({}))
            .await?,
        404,
        "alert_not_found",
    );
    let bad_filter = api.get("/api/v1/projects/p/reports?kind=astrology").await?;
    expect_error(&bad_filter, 400, "invalid_argument");
    let bad_state = api.get("/api/v1/projects/p/alerts?state=sleepy").await?;
    expect_error(&bad_state, 400, "invalid_argument");

    // A run on a dataset without versions cannot succeed: it fails at once, saying why.
    let on_empty = api
        .post(
            "/api/v1/projects/p/monitors",
            json!({"name": "on-empty", "dataset": "empty", "checks": [{"kind": "profile"}]}),
        )
        .await?;
    expect_status(&on_empty, 201);
    let job = api
        .post("/api/v1/projects/p/monitors/on-empty/runs", json!({}))
        .await?;
    expect_status(&job, 202);
    let failed = wait_for(
        &api,
        &format!("/api/v1/projects/p/jobs/{}", job.1["id"]),
        |j| j["state"] == "failed",
    )
    .await?;
    assert_eq!(failed["attempts"], 1, "{failed}");
    assert!(
        failed["error"].as_str().unwrap().contains("no versions"),
        "{failed}"
    );
    Ok(())
}

/// Runs `verity check ...`; returns the exit code, stdout and stderr.
fn cli(args: &[&str]) -> Result<(i32, String, String)> {
    crate::verity_command("check", args)
}

#[tokio::test]
async fn check_command_on_files_and_stored_versions() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    std::fs::write(path("ref.csv"), drift_csv(0.0, None, false))?;
    std::fs::write(path("same.csv"), drift_csv(0.0, None, true))?;
    std::fs::write(path("moved.csv"), drift_csv(20.0, Some("z"), false))?;

    let (code, out, err) = cli(&[
        "drift",
        "--reference",
        &path("ref.csv"),
        &path("same.csv"),
        "--quiet",
    ])?;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("pass: "), "{out}");
    let (code, out, _) = cli(&[
        "drift",
        "--reference",
        &path("ref.csv"),
        &path("moved.csv"),
        "--json",
        "--quiet",
    ])?;
    assert_eq!(code, 1, "drift fails the command");
    let report: Value = serde_json::from_str(&out)?;
    assert_eq!(report["status"], "fail");
    assert_eq!(report["drift"]["dataset_drift"], true, "{report}");
    let suite = r#"{"expectations": [{"type": "expect_column_values_to_be_between", "column": "x", "min_value": 0, "max_value": 10}]}"#;
    std::fs::write(path("suite.json"), suite)?;
    let (code, out, _) = cli(&[
        "quality",
        "--config",
        &format!("@{}", path("suite.json")),
        &path("ref.csv"),
    ])?;
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = cli(&["quality", "--config", suite, &path("moved.csv")])?;
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("fail: "), "{out}");

    // Usage and data errors exit with 2 and say why.
    std::fs::write(path("other.csv"), "y,c\n1,a\n")?;
    let (reference, other) = (path("ref.csv"), path("other.csv"));
    let bad_suite = r#"{"expectations": [{"type": "expect_magic"}]}"#;
    for (args, needle) in [
        (vec!["drift", &reference], "needs --reference"),
        (vec!["profile", "/does/not/exist.csv"], "cannot open"),
        (
            vec!["quality", "--config", "{", &reference],
            "not valid JSON",
        ),
        (
            vec!["quality", "--config", bad_suite, &reference],
            "expect_magic",
        ),
        (
            vec!["drift", "--reference", &reference, &other],
            "only in the reference: [\"x\"]",
        ),
    ] {
        let (code, out, err) = cli(&args)?;
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }

    // Stored versions, recorded as a report the API serves.
    let data = tempfile::tempdir()?;
    let api = Api::start(ServerOptions {
        data_dir: Some(data.path().to_path_buf()),
        ..ServerOptions::default()
    })?;
    api.project("p").await?;
    api.dataset("p", "scores").await?;
    api.upload_version("p", "scores", Some("text/csv"), drift_csv(0.0, None, false))
        .await?;
    api.upload_version(
        "p",
        "scores",
        Some("text/csv"),
        drift_csv(20.0, Some("z"), false),
    )
    .await?;
    let data_dir = data.path().to_string_lossy().into_owned();
    let (code, out, err) = cli(&[
        "drift",
        "--project",
        "p",
        "--reference",
        "scores@1",
        "scores",
        "--record",
        "--quiet",
        "--data-dir",
        &data_dir,
    ])?;
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("stored as report"), "{out}");
    let reports = items(&api.get("/api/v1/projects/p/reports?kind=drift").await?);
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0]["version"], 2);
    assert_eq!(reports[0]["created_by"], "cli");
    let (code, _, err) = cli(&[
        "profile",
        "--project",
        "p",
        "scores@x",
        "--data-dir",
        &data_dir,
    ])?;
    assert_eq!(code, 2);
    assert!(err.contains("must be a number"), "{err}");
    Ok(())
}

/// A server on the fresh PostgreSQL database `db`, with its blobs under `data`.
fn on_postgres(
    db: &verity_tests::FreshDatabase,
    data: &std::path::Path,
    admin_password: Option<&str>,
) -> ServerOptions {
    ServerOptions {
        database_url: Some(db.url.clone()),
        data_dir: Some(data.to_path_buf()),
        admin_password: admin_password.map(str::to_owned),
        ..ServerOptions::default()
    }
}

#[tokio::test]
async fn two_servers_on_postgres_run_each_job_once() -> Result<()> {
    let db = verity_tests::FreshDatabase::create()
        .context("PostgreSQL must run on 127.0.0.1:5432 (see README)")?;
    let data = tempfile::tempdir()?;
    let options = || on_postgres(&db, data.path(), None);
    let first = Api::start(options())?;
    let second = Api::start(options())?;
    first.project("p").await?;
    first.dataset("p", "scores").await?;
    first
        .upload_version("p", "scores", Some("text/csv"), drift_csv(0.0, None, false))
        .await?;
    let monitor = first
        .post(
            "/api/v1/projects/p/monitors",
            json!({"name": "watch", "dataset": "scores", "checks": [{"kind": "profile"}],
                   "on_new_version": false}),
        )
        .await?;
    expect_status(&monitor, 201);
    const JOBS: usize = 16;
    for i in 0..JOBS {
        let api = if i % 2 == 0 { &first } else { &second };
        let queued = api
            .post("/api/v1/projects/p/monitors/watch/runs", json!({}))
            .await?;
        expect_status(&queued, 202);
    }
    let done = wait_for(&second, "/api/v1/projects/p/jobs", |v| {
        v["items"].as_array().is_some_and(|jobs| {
            jobs.len() == JOBS && jobs.iter().all(|j| j["state"] == "succeeded")
        })
    })
    .await?;
    for job in done["items"].as_array().unwrap() {
        assert_eq!(job["attempts"], 1, "{job}");
    }
    let reports = items(
        &first
            .get("/api/v1/projects/p/reports?monitor=watch&limit=100")
            .await?,
    );
    assert_eq!(reports.len(), JOBS, "one report per job, none twice");
    let mut jobs: Vec<i64> = reports
        .iter()
        .filter_map(|r| r["job_id"].as_i64())
        .collect();
    jobs.sort_unstable();
    jobs.dedup();
    assert_eq!(jobs.len(), JOBS);
    Ok(())
}

/// A database whose default rules were written before the monitoring actions existed gets
/// their rules from migration 0004 on upgrade.
#[tokio::test]
async fn upgrade_grants_the_monitoring_actions() -> Result<()> {
    let db = verity_tests::FreshDatabase::create()
        .context("PostgreSQL must run on 127.0.0.1:5432 (see README)")?;
    let data = tempfile::tempdir()?;
    let options = || on_postgres(&db, data.path(), Some("upgrade-admin-password"));
    let api = Api::start(options())?;
    drop(api.server.stop());
    // As a database seeded by the previous release: no monitoring rules, migration 0004 not applied.
    db.execute(
        "DELETE FROM policy_rules WHERE v1 IN ('report.read', 'check.run', 'monitor.read', \
         'monitor.manage', 'alert.update', 'webhook.manage'); \
         DELETE FROM _sqlx_migrations WHERE version = 4",
    )?;
    let mut api = Api::start(options())?;
    api.server
        .authenticate_as("admin", "upgrade-admin-password")
        .await?;
    let rules = items(&api.get("/api/v1/policies").await?);
    let granted = |role: &str, action: &str| {
        rules
            .iter()
            .any(|r| r["ptype"] == "p" && r["v0"] == role && r["v1"] == action)
    };
    for (role, action) in [
        ("viewer", "report.read"),
        ("viewer", "monitor.read"),
        ("contributor", "check.run"),
        ("contributor", "alert.update"),
        ("maintainer", "monitor.manage"),
        ("owner", "webhook.manage"),
    ] {
        assert!(
            granted(role, action),
            "{role} lacks {action} after the upgrade"
        );
    }
    assert!(!granted("viewer", "check.run"));
    let report_rule = rules
        .iter()
        .find(|r| r["v0"] == "viewer" && r["v1"] == "report.read")
        .unwrap();
    assert_eq!(report_rule["v2"], "clearance");
    Ok(())
}

/// A drift report shows both sides' histograms: reading it needs clearance for the reference's
/// dataset too, and lists leave out what the caller may not read.
#[tokio::test]
async fn reports_need_clearance_for_every_input() -> Result<()> {
    let mut api = Api::start(ServerOptions {
        admin_password: Some("clearance-admin-password".into()),
        ..ServerOptions::default()
    })?;
    api.server
        .authenticate_as("admin", "clearance-admin-password")
        .await?;
    api.project("p").await?;
    for (name, sensitivity) in [("open", "public"), ("secret", "restricted")] {
        let made = api
            .post(
                "/api/v1/projects/p/datasets",
                json!({"name": name, "sensitivity": sensitivity}),
            )
            .await?;
        expect_status(&made, 201);
        api.upload_version("p", name, Some("text/csv"), drift_csv(0.0, None, false))
            .await?;
    }
    let drift = |reference: &str| {
        json!({"check": {"kind": "drift"}, "dataset": "open",
               "reference": {"dataset": reference, "version": 1}})
    };
    let mixed = api
        .post("/api/v1/projects/p/checks", drift("secret"))
        .await?;
    expect_status(&mixed, 201);
    let plain = api.post("/api/v1/projects/p/checks", drift("open")).await?;
    expect_status(&plain, 201);
    let user = api
        .post(
            "/api/v1/users",
            json!({"name": "vic", "password": "vic-the-viewer-password"}),
        )
        .await?;
    expect_status(&user, 201);
    expect_status(
        &api.put("/api/v1/projects/p/members/vic", json!({"role": "viewer"}))
            .await?,
        200,
    );
    let token = api
        .server
        .login_token("vic", "vic-the-viewer-password")
        .await?;
    let as_viewer = |path: String| {
        let (api, token) = (&api, &token);
        async move { api.get_as(token, &path).await }
    };
    let me = as_viewer("/api/v1/auth/me".into()).await?;
    assert_eq!(me.1["username"], "vic", "{}", me.1);
    let denied = as_viewer(format!("/api/v1/projects/p/reports/{}", mixed.1["id"])).await?;
    expect_error(&denied, 403, "forbidden");
    let allowed = as_viewer(format!("/api/v1/projects/p/reports/{}", plain.1["id"])).await?;
    expect_status(&allowed, 200);
    let listed = items(&as_viewer("/api/v1/projects/p/reports".into()).await?);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["id"], plain.1["id"]);
    Ok(())
}

/// Without --webhook-allow-private a delivery to loopback is refused at once (no retries),
/// and the receiver never hears from the server.
#[tokio::test]
async fn webhooks_to_private_addresses_are_refused_by_default() -> Result<()> {
    let api = Api::start(ServerOptions {
        env: vec![("VERITY_WEBHOOK_ALLOW_PRIVATE".into(), "false".into())],
        ..ServerOptions::default()
    })?;
    let (url, mut received) = receiver(0).await?;
    let hook = failing_monitor_with_webhook(&api, &url).await?;
    let log = wait_for(
        &api,
        &format!("/api/v1/projects/p/webhooks/{hook}/deliveries"),
        |v| v["items"][0]["state"] == "failed",
    )
    .await?;
    let delivery = &log["items"][0];
    assert_eq!(delivery["event"], "alert.opened");
    assert_eq!(
        delivery["attempts"], 1,
        "a refusal is not retried: {delivery}"
    );
    let error = delivery["last_error"].as_str().unwrap();
    assert!(error.contains("private address 127.0.0.1"), "{error}");
    assert!(received.try_recv().is_err(), "nothing reached the receiver");
    Ok(())
}

/// Deliveries go straight to the checked address: proxy settings in the server's environment
/// (which would send them elsewhere, past the address guard) are ignored.
#[tokio::test]
async fn webhook_deliveries_ignore_proxy_settings() -> Result<()> {
    // A proxy nobody listens on: a delivery through it could not arrive.
    let proxy = "http://127.0.0.1:9";
    let api = Api::start(ServerOptions {
        env: [
            "HTTP_PROXY",
            "http_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
        ]
        .iter()
        .map(|k| ((*k).to_owned(), proxy.to_owned()))
        .chain([("NO_PROXY".to_owned(), String::new())])
        .collect(),
        ..ServerOptions::default()
    })?;
    let (url, mut received) = receiver(0).await?;
    failing_monitor_with_webhook(&api, &url).await?;
    let got = next_delivery(&mut received).await?;
    assert_eq!(got.header("x-verity-event"), Some("alert.opened"));
    Ok(())
}

/// Project `p` with a two-row dataset, a webhook to `url`, and a monitor `rows` that fails (it
/// wants 100 rows) queued to run; returns the webhook's id.
async fn failing_monitor_with_webhook(api: &Api, url: &str) -> Result<i64> {
    api.project("p").await?;
    api.dataset("p", "small").await?;
    api.upload_version("p", "small", Some("text/csv"), b"x\n1\n2\n".to_vec())
        .await?;
    let hook = api
        .post("/api/v1/projects/p/webhooks", json!({"url": url}))
        .await?;
    expect_status(&hook, 201);
    let monitor = api
        .post(
            "/api/v1/projects/p/monitors",
            json!({"name": "rows", "dataset": "small", "on_new_version": false,
                   "checks": [{"kind": "quality", "expectations": [
                       {"type": "expect_table_row_count_to_be_between", "min_value": 100}]}]}),
        )
        .await?;
    expect_status(&monitor, 201);
    expect_status(
        &api.post("/api/v1/projects/p/monitors/rows/runs", json!({}))
            .await?,
        202,
    );
    hook.1["id"].as_i64().context("webhook id")
}
