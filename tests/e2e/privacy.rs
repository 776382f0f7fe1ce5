//! Differential privacy end to end (issue 16): a viewer without clearance is refused rows but
//! gets DP answers charged to the dataset's budget; the ledger shows every charge; a question
//! the budget cannot pay for is refused with nothing released; concurrent questions never
//! overspend; bad input is a 400 with nothing charged. On SQLite and PostgreSQL.

use anyhow::{Context, Result};
use reqwest::Method;
use serde_json::{Value, json};
use verity_tests::{FreshDatabase, ServerOptions};

use crate::mlflow::server_with_members;
use crate::{Api, expect_error, expect_status};

/// 1,000 rows: `age` 20..=69 (mean 44.5), `income` (float), `region` a/b/c/d.
fn people_csv() -> Vec<u8> {
    let mut csv = String::from("age,income,region\n");
    for i in 0..1000 {
        let region = ["a", "b", "c", "d"][i % 4];
        csv.push_str(&format!(
            "{},{}.5,{}\n",
            20 + i % 50,
            30_000 + (i * 37) % 40_000,
            region
        ));
    }
    csv.into_bytes()
}

/// A server with owner `olga` and viewer `vera` (clearance internal) in project `default`,
/// and a confidential dataset `people` with one version; returns (api, olga, vera).
async fn setup(options: ServerOptions) -> Result<(Api, String, String)> {
    let (api, tokens) =
        server_with_members(options, &[("olga", "owner"), ("vera", "viewer")]).await?;
    expect_status(
        &api.post(
            "/api/v1/projects/default/datasets",
            json!({"name": "people", "sensitivity": "confidential"}),
        )
        .await?,
        201,
    );
    expect_status(
        &api.upload_version("default", "people", Some("text/csv"), people_csv())
            .await?,
        201,
    );
    Ok((api, tokens[0].clone(), tokens[1].clone()))
}

const DP: &str = "/api/v1/projects/default/datasets/people/versions/1/dp";
const BUDGETS: &str = "/api/v1/projects/default/datasets/people/privacy/budgets";
const LEDGER: &str = "/api/v1/projects/default/datasets/people/privacy/ledger";

async fn ask(api: &Api, token: &str, body: Value) -> Result<(reqwest::StatusCode, Value)> {
    api.send_as(Some(token), Method::POST, DP, Some(&body))
        .await
}

async fn ledger_len(api: &Api, token: &str) -> Result<usize> {
    let ledger = api.get_as(token, LEDGER).await?;
    expect_status(&ledger, 200);
    Ok(ledger.1["items"].as_array().context("items")?.len())
}

async fn viewer_gets_dp_answers_not_rows(options: ServerOptions) -> Result<()> {
    let (api, olga, vera) = setup(options).await?;
    // Rows are refused to a viewer below the dataset's sensitivity.
    let rows = api
        .send_as(
            Some(&vera),
            Method::GET,
            "/api/v1/projects/default/datasets/people/versions/1/content",
            None,
        )
        .await?;
    assert_eq!(rows.0, 403, "{}", rows.1);
    // Without a budget nothing is released.
    let no_budget = ask(
        &api,
        &vera,
        json!({"query": {"kind": "count"}, "epsilon": 0.5}),
    )
    .await?;
    expect_error(&no_budget, 409, "privacy_budget_exceeded");
    // Only owners set budgets.
    let refused = api
        .send_as(
            Some(&vera),
            Method::PUT,
            BUDGETS,
            Some(&json!({"scope": "total", "epsilon": 2.0})),
        )
        .await?;
    expect_error(&refused, 403, "forbidden");
    let set = api
        .send_as(
            Some(&olga),
            Method::PUT,
            BUDGETS,
            Some(&json!({"scope": "total", "epsilon": 2.0})),
        )
        .await?;
    expect_status(&set, 200);

    let count = ask(
        &api,
        &vera,
        json!({"query": {"kind": "count"}, "epsilon": 1.0}),
    )
    .await?;
    expect_status(&count, 200);
    let noisy = count.1["release"]["value"].as_i64().context("count")?;
    assert!(
        (noisy - 1000).abs() < 60,
        "a count near 1000 at ε=1: {}",
        count.1
    );
    assert_eq!(count.1["release"]["mechanism"], "discrete_laplace");
    assert_eq!(count.1["charge"]["principal"], "vera");
    let mean = ask(
        &api,
        &vera,
        json!({"query": {"kind": "mean", "column": "age", "lower": 0, "upper": 100}, "epsilon": 0.9}),
    )
    .await?;
    expect_status(&mean, 200);
    let value = mean.1["release"]["value"].as_f64().context("mean")?;
    assert!((value - 44.5).abs() < 5.0, "a mean near 44.5: {}", mean.1);
    assert!(
        (mean.1["remaining_epsilon"].as_f64().unwrap_or(-1.0) - 0.1).abs() < 1e-9,
        "{}",
        mean.1
    );

    // The ledger (owners) shows both charges; viewers may not read it.
    let ledger = api.get_as(&olga, LEDGER).await?;
    expect_status(&ledger, 200);
    let kinds: Vec<_> = ledger.1["items"]
        .as_array()
        .context("items")?
        .iter()
        .map(|c| c["query"]["kind"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(kinds, ["mean", "count"]);
    expect_error(&api.get_as(&vera, LEDGER).await?, 403, "forbidden");

    // Over budget: refused, nothing released, nothing charged.
    let over = ask(
        &api,
        &vera,
        json!({"query": {"kind": "count"}, "epsilon": 0.2}),
    )
    .await?;
    expect_error(&over, 409, "privacy_budget_exceeded");
    assert!(over.1.get("release").is_none());
    assert_eq!(ledger_len(&api, &olga).await?, 2);

    // A budget below what was spent is refused.
    let below = api
        .send_as(
            Some(&olga),
            Method::PUT,
            BUDGETS,
            Some(&json!({"scope": "total", "epsilon": 1.0})),
        )
        .await?;
    expect_error(&below, 400, "invalid_argument");

    // Bad input: each a 400 (or the JSON extractor's 4xx), nothing charged.
    let budget = api
        .send_as(
            Some(&olga),
            Method::PUT,
            BUDGETS,
            Some(&json!({"scope": "total", "epsilon": 100.0, "delta": 0.01})),
        )
        .await?;
    expect_status(&budget, 200);
    let bad = [
        json!({"query": {"kind": "count"}, "epsilon": 0}),
        json!({"query": {"kind": "count"}, "epsilon": -1}),
        json!({"query": {"kind": "count"}, "epsilon": 1e300}),
        json!({"query": {"kind": "count"}, "epsilon": 1, "mechanism": "gaussian"}),
        json!({"query": {"kind": "count"}, "epsilon": 1, "mechanism": "gaussian", "delta": 1.5}),
        json!({"query": {"kind": "count"}, "epsilon": 1, "mechanism": "gaussian", "delta": 0}),
        json!({"query": {"kind": "count"}, "epsilon": 1, "delta": 0.001}),
        json!({"query": {"kind": "count"}, "epsilon": 1, "mechanism": "cauchy"}),
        json!({"query": {"kind": "mean", "column": "age", "lower": 100, "upper": 0}, "epsilon": 1}),
        json!({"query": {"kind": "mean", "column": "region", "lower": 0, "upper": 1}, "epsilon": 1}),
        json!({"query": {"kind": "mean", "column": "nope", "lower": 0, "upper": 1}, "epsilon": 1}),
        json!({"query": {"kind": "histogram", "column": "age", "lower": 0, "upper": 100, "bins": 0}, "epsilon": 1}),
        json!({"query": {"kind": "median", "column": "age"}, "epsilon": 1}),
        json!({"query": {"kind": "count", "extra": 1}, "epsilon": 1}),
    ];
    for body in bad {
        let answer = ask(&api, &vera, body.clone()).await?;
        assert!(
            answer.0.is_client_error() && answer.1["error"]["message"].is_string(),
            "{body}: {} {}",
            answer.0,
            answer.1
        );
    }
    // NaN is not JSON: refused before anything else.
    let nan = reqwest::Client::new()
        .post(api.server.url(DP))
        .bearer_auth(&vera)
        .header("content-type", "application/json")
        .body(r#"{"query": {"kind": "count"}, "epsilon": NaN}"#)
        .send()
        .await?;
    assert!(nan.status().is_client_error(), "{}", nan.status());
    assert_eq!(
        ledger_len(&api, &olga).await?,
        2,
        "bad input charged nothing"
    );
    Ok(())
}

#[tokio::test]
async fn sqlite_viewer_gets_dp_answers_not_rows() -> Result<()> {
    viewer_gets_dp_answers_not_rows(ServerOptions::default()).await
}

#[tokio::test]
async fn postgres_viewer_gets_dp_answers_not_rows() -> Result<()> {
    let db = FreshDatabase::create().context("PostgreSQL is required for this test")?;
    viewer_gets_dp_answers_not_rows(ServerOptions {
        database_url: Some(db.url.clone()),
        ..ServerOptions::default()
    })
    .await
}

async fn concurrent_questions_never_overspend(options: ServerOptions) -> Result<()> {
    let (api, olga, vera) = setup(options).await?;
    // Nearly exhausted: 0.25 of ε left after a first answer, and each question costs 0.01.
    let set = api
        .send_as(
            Some(&olga),
            Method::PUT,
            BUDGETS,
            Some(&json!({"scope": "total", "epsilon": 1.25})),
        )
        .await?;
    expect_status(&set, 200);
    expect_status(
        &ask(
            &api,
            &vera,
            json!({"query": {"kind": "count"}, "epsilon": 1.0}),
        )
        .await?,
        200,
    );
    let mut questions = Vec::new();
    for _ in 0..100 {
        let (api, vera) = (&api, vera.clone());
        questions.push(async move {
            ask(
                api,
                &vera,
                json!({"query": {"kind": "count"}, "epsilon": 0.01}),
            )
            .await
        });
    }
    let answers = futures::future::join_all(questions).await;
    let mut granted = 0;
    for answer in answers {
        let answer = answer?;
        match answer.0.as_u16() {
            200 => granted += 1,
            409 => assert_eq!(answer.1["error"]["code"], "privacy_budget_exceeded"),
            other => panic!("unexpected {other}: {}", answer.1),
        }
    }
    assert_eq!(
        granted, 25,
        "0.25 left pays for exactly 25 questions of 0.01"
    );
    assert_eq!(ledger_len(&api, &olga).await?, 26);
    let budgets = api.get_as(&olga, BUDGETS).await?;
    let spent = budgets.1["items"][0]["spent_epsilon"]
        .as_f64()
        .context("spent")?;
    assert!(spent <= 1.25 + 1e-9, "{}", budgets.1);
    Ok(())
}

#[tokio::test]
async fn sqlite_concurrent_questions_never_overspend() -> Result<()> {
    concurrent_questions_never_overspend(ServerOptions::default()).await
}

#[tokio::test]
async fn postgres_concurrent_questions_never_overspend() -> Result<()> {
    let db = FreshDatabase::create().context("PostgreSQL is required for this test")?;
    concurrent_questions_never_overspend(ServerOptions {
        database_url: Some(db.url.clone()),
        ..ServerOptions::default()
    })
    .await
}
