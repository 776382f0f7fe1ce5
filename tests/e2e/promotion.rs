//! Promotion gates end to end (issue 17, part 1): an owner registers a version; the gate on
//! `production` refuses the promotion with the unmet requirements; an evaluation supplies the
//! metric and fairness evidence; the creator's own approval is refused (four eyes); two
//! approvers approve (a second approval by the same person is refused); the promotion then
//! succeeds and the alias history keeps the verdict it relied on. Retired versions take no
//! alias. Bad gates, reviews and retirements are 4xx. On SQLite and PostgreSQL.

use anyhow::{Context, Result};
use reqwest::Method;
use serde_json::{Value, json};
use verity_tests::{FreshDatabase, ServerOptions};

use crate::mlflow::{member_token, server_with_members};
use crate::{Api, expect_error, expect_status};

const GATES: &str = "/api/v1/projects/p/gates";
const V3: &str = "/api/v1/projects/p/models/clf/versions/3";

async fn send(
    api: &Api,
    token: &str,
    method: Method,
    path: &str,
    body: Value,
) -> Result<(reqwest::StatusCode, Value)> {
    api.send_as(Some(token), method, path, Some(&body)).await
}

async fn review(
    api: &Api,
    token: &str,
    decision: &str,
    comment: &str,
) -> Result<(reqwest::StatusCode, Value)> {
    send(
        api,
        token,
        Method::POST,
        &format!("{V3}/reviews"),
        json!({"alias": "production", "decision": decision, "comment": comment}),
    )
    .await
}

async fn promote(api: &Api, token: &str, version: i64) -> Result<(reqwest::StatusCode, Value)> {
    send(
        api,
        token,
        Method::PUT,
        "/api/v1/projects/p/models/clf/aliases/production",
        json!({"version": version}),
    )
    .await
}

fn unmet(verdict: &Value) -> Vec<String> {
    verdict["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["met"] == false)
        .filter_map(|c| c["requirement"].as_str().map(str::to_owned))
        .collect()
}

async fn bad_gates(api: &Api) -> Result<()> {
    for (requirements, status, needle) in [
        (
            json!({"metrics": [{"dataset": "nope", "metric": "roc_auc", "min": 0.5}]}),
            404,
            "nope",
        ),
        (
            json!({"metrics": [{"dataset": "scoring", "metric": "vibes", "min": 0.5}]}),
            400,
            "vibes",
        ),
        (
            json!({"metrics": [{"dataset": "scoring", "metric": "roc_auc", "min": 0.9, "max": 0.1}]}),
            400,
            "above",
        ),
        (
            json!({"metrics": [{"dataset": "scoring", "metric": "roc_auc"}]}),
            400,
            "min",
        ),
        (
            json!({"fairness": [{"dataset": "scoring", "metric": "fairness_ish", "min": 0.8}]}),
            400,
            "fairness_ish",
        ),
        (
            json!({"no_worse_than_current": [{"dataset": "scoring", "metric": "roc_auc", "margin": -1}]}),
            400,
            "margin",
        ),
        (json!({"approvals": 99}), 400, "approvals"),
        (json!({"approval": 1}), 400, "approval"),
    ] {
        let reply = api
            .put(
                GATES,
                json!({"model": "clf", "alias": "production", "requirements": requirements}),
            )
            .await?;
        assert_eq!(reply.0, status, "{requirements} → {}", reply.1);
        let message = reply.1["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{requirements} → {message}");
    }
    let no_model = api
        .put(
            GATES,
            json!({"model": "nope", "alias": "production", "requirements": {}}),
        )
        .await?;
    expect_error(&no_model, 404, "model_not_found");
    assert_eq!(
        api.get(GATES).await?.1["items"],
        json!([]),
        "nothing was set"
    );
    Ok(())
}

async fn gated_promotion(options: ServerOptions) -> Result<()> {
    let (api, _) = server_with_members(options, &[]).await?;
    let run = crate::evaluation::setup(&api).await?;
    let olga = member_token(&api, "p", "olga", "owner").await?;
    let bob = member_token(&api, "p", "bob", "approver").await?;
    let bea = member_token(&api, "p", "bea", "approver").await?;
    let vic = member_token(&api, "p", "vic", "viewer").await?;

    bad_gates(&api).await?;
    // Only owners set gates.
    let refused = send(
        &api,
        &bob,
        Method::PUT,
        GATES,
        json!({"alias": "production", "requirements": {}}),
    )
    .await?;
    expect_error(&refused, 403, "forbidden");
    let gate = api
        .put(
            GATES,
            json!({"model": "clf", "alias": "production", "requirements": {
                "metrics": [{"dataset": "scoring", "metric": "accuracy", "min": 0.85}],
                "no_worse_than_current": [{"dataset": "scoring", "metric": "accuracy", "margin": 0.01}],
                "fairness": [{"dataset": "scoring", "metric": "demographic_parity_difference", "max": 1.0}],
                "approvals": 2}}),
        )
        .await?;
    expect_status(&gate, 200);

    // The owner registers version 3 (the good weights again).
    let registered = send(
        &api,
        &olga,
        Method::POST,
        "/api/v1/projects/p/models/clf/versions",
        json!({"run_id": run, "artifact_path": "good"}),
    )
    .await?;
    expect_status(&registered, 201);
    assert_eq!(registered.1["version"], 3);

    // Refused with every unmet requirement.
    let early = promote(&api, &olga, 3).await?;
    let message = expect_error(&early, 409, "gate_unmet");
    assert!(
        message.contains("no evaluation of this version on scoring"),
        "{message}"
    );
    assert!(message.contains("2 approvals"), "{message}");
    let verdict = api.get_as(&vic, &format!("{V3}/gates/production")).await?;
    expect_status(&verdict, 200);
    assert_eq!(verdict.1["satisfied"], false);
    assert_eq!(unmet(&verdict.1).len(), 3, "{}", verdict.1);
    assert_eq!(
        verdict.1["checks"][1]["met"], true,
        "@production points at nothing yet"
    );

    // Evidence: an evaluation of version 3 on the scoring data.
    let evaluated = api
        .post(
            "/api/v1/projects/p/evaluations",
            json!({"model": "clf", "version": 3, "dataset": "scoring",
                   "evaluation": {"label": "label", "sensitive": ["group"]}}),
        )
        .await?;
    expect_status(&evaluated, 201);
    let verdict = api.get_as(&vic, &format!("{V3}/gates/production")).await?;
    assert_eq!(
        unmet(&verdict.1),
        vec!["2 approvals by people other than its makers"]
    );

    // Four eyes: the creator may not approve; a viewer may not review at all.
    let own = review(&api, &olga, "approve", "mine, and fine").await?;
    let message = expect_error(&own, 403, "forbidden");
    assert!(message.contains("four eyes"), "{message}");
    expect_error(
        &review(&api, &vic, "approve", "me too").await?,
        403,
        "forbidden",
    );
    // Nor may whoever made the run it came from (the administrator here).
    let runs_maker = api
        .post(
            &format!("{V3}/reviews"),
            json!({"alias": "production", "decision": "approve", "comment": "my run"}),
        )
        .await?;
    let message = expect_error(&runs_maker, 403, "forbidden");
    assert!(message.contains("four eyes"), "{message}");
    // Bad reviews.
    expect_error(
        &review(&api, &bob, "maybe", "hmm").await?,
        400,
        "invalid_argument",
    );
    expect_error(
        &review(&api, &bob, "approve", "  ").await?,
        400,
        "invalid_argument",
    );
    let unknown = send(
        &api,
        &bob,
        Method::POST,
        "/api/v1/projects/p/models/clf/versions/99/reviews",
        json!({"alias": "production", "decision": "approve", "comment": "?"}),
    )
    .await?;
    assert_eq!(unknown.0, 404, "{}", unknown.1);

    expect_status(
        &review(&api, &bob, "approve", "metrics and fairness as required").await?,
        201,
    );
    expect_error(
        &review(&api, &bob, "approve", "again").await?,
        409,
        "conflict",
    );
    expect_error(&promote(&api, &olga, 3).await?, 409, "gate_unmet");
    expect_status(&review(&api, &bea, "approve", "agreed").await?, 201);
    let reviews = api.get_as(&vic, &format!("{V3}/reviews")).await?;
    assert_eq!(reviews.1["items"].as_array().map(Vec::len), Some(2));

    // Promoted; the alias history keeps the verdict.
    let promoted = promote(&api, &olga, 3).await?;
    expect_status(&promoted, 200);
    let history = api
        .get("/api/v1/projects/p/models/clf/alias-history?alias=production")
        .await?;
    expect_status(&history, 200);
    let evidence = &history.1["items"][0]["evidence"];
    assert_eq!(evidence["satisfied"], true, "{}", history.1);
    assert_eq!(evidence["checks"].as_array().map(Vec::len), Some(4));

    // A worse version is refused against the holder: no worse than @production.
    let worse = api
        .post(
            "/api/v1/projects/p/evaluations",
            json!({"model": "clf", "version": 2, "dataset": "scoring",
                   "evaluation": {"label": "label", "sensitive": ["group"]}}),
        )
        .await?;
    expect_status(&worse, 201);
    let message = expect_error(&promote(&api, &olga, 2).await?, 409, "gate_unmet");
    assert!(message.contains("no worse than @production"), "{message}");
    // Deleting the alias does not lower the bar: the last holder still counts.
    let deleted = api
        .delete("/api/v1/projects/p/models/clf/aliases/production")
        .await?;
    assert_eq!(deleted.0, 204, "{}", deleted.1);
    let message = expect_error(&promote(&api, &olga, 2).await?, 409, "gate_unmet");
    assert!(message.contains("for v3"), "{message}");
    expect_status(&promote(&api, &olga, 3).await?, 200);

    // Retirement: with a reason; not while an alias points at it; a retired version takes no
    // alias and no review.
    let retire = |version: i64, body: Value| {
        let olga = olga.clone();
        let api = &api;
        async move {
            send(
                api,
                &olga,
                Method::POST,
                &format!("/api/v1/projects/p/models/clf/versions/{version}/retire"),
                body,
            )
            .await
        }
    };
    expect_error(&retire(3, json!({"reason": "old"})).await?, 409, "conflict");
    expect_error(
        &retire(2, json!({"reason": ""})).await?,
        400,
        "invalid_argument",
    );
    expect_error(&retire(2, json!({})).await?, 422, "invalid_body");
    assert_eq!(retire(99, json!({"reason": "x"})).await?.0, 404);
    let retired = retire(2, json!({"reason": "scores below the holder"})).await?;
    expect_status(&retired, 200);
    assert_eq!(retired.1["retired_by"], "olga");
    expect_error(
        &retire(2, json!({"reason": "again"})).await?,
        409,
        "conflict",
    );
    let shown = api.get("/api/v1/projects/p/models/clf/versions/2").await?;
    assert_eq!(shown.1["retired"]["reason"], "scores below the holder");
    let aliased = api
        .put(
            "/api/v1/projects/p/models/clf/aliases/staging",
            json!({"version": 2}),
        )
        .await?;
    let message = expect_error(&aliased, 409, "conflict");
    assert!(message.contains("retired"), "{message}");
    let reviewed = send(
        &api,
        &bob,
        Method::POST,
        "/api/v1/projects/p/models/clf/versions/2/reviews",
        json!({"alias": "staging", "decision": "approve", "comment": "?"}),
    )
    .await?;
    expect_error(&reviewed, 409, "conflict");

    // The promoted version's reports: the model card shows all of it, its hash recorded.
    crate::compliance::promoted_version_reports(&api, &olga, &vic).await?;

    // Gates are listed for every member and removed by owners.
    let listed = api.get_as(&vic, GATES).await?;
    assert_eq!(listed.1["items"][0]["alias"], "production");
    let deleted = api
        .send(
            Method::DELETE,
            "/api/v1/projects/p/gates/production?model=clf",
            None,
        )
        .await?;
    assert_eq!(deleted.0, 204, "{}", deleted.1);
    let verdict = api.get(&format!("{V3}/gates/production")).await?;
    assert_eq!(verdict.0, 404);
    Ok(())
}

#[tokio::test]
async fn sqlite_gated_promotion() -> Result<()> {
    gated_promotion(ServerOptions::default()).await
}

#[tokio::test]
async fn postgres_gated_promotion() -> Result<()> {
    let db = FreshDatabase::create().context("PostgreSQL is required for this test")?;
    gated_promotion(ServerOptions {
        database_url: Some(db.url.clone()),
        ..ServerOptions::default()
    })
    .await
}
