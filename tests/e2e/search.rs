//! Run search: filters with AND, OR and parentheses, ordering, paging, experiments and views.

use anyhow::Result;
use serde_json::{Value, json};

use crate::{Api, expect_status, items, server};

/// Five runs in two experiments of project `p` (`e` deleted); returns (api, exp1, exp2).
async fn fixture() -> Result<(Api, i64, i64)> {
    let api = server()?;
    api.project("p").await?;
    let exp1 = api.experiment("p", "one").await?;
    let exp2 = api.experiment("p", "two").await?;
    // name, experiment, lr, team, acc, start_time
    type Row<'a> = (&'a str, i64, &'a str, Option<&'a str>, f64, i64);
    let runs: [Row; 5] = [
        ("a", exp1, "0.1", Some("a"), 0.9, 1_000),
        ("b", exp1, "0.01", Some("b"), 0.95, 2_000),
        ("c", exp1, "0.1", Some("b"), 0.5, 3_000),
        ("d", exp2, "0.001", None, 0.7, 4_000),
        ("e", exp2, "0.1", Some("a"), 0.99, 5_000),
    ];
    for (name, exp, lr, team, acc, start) in runs {
        let tags: Vec<Value> = team
            .map(|t| json!({"key": "team", "value": t}))
            .into_iter()
            .collect();
        let run = api
            .run(
                "p",
                exp,
                json!({"name": name, "start_time": start, "tags": tags}),
            )
            .await?;
        api.batch(&run, json!({"params": [{"key": "lr", "value": lr}], "metrics": [{"key": "acc", "value": acc}]})).await?;
        if name == "a" {
            expect_status(
                &api.patch(
                    &format!("/api/v1/runs/{run}"),
                    json!({"status": "FINISHED"}),
                )
                .await?,
                200,
            );
        }
        if name == "e" {
            expect_status(&api.delete(&format!("/api/v1/runs/{run}")).await?, 200);
        }
    }
    // Another project's runs never show up.
    let (_, other) = api.project_with_run("q").await?;
    api.batch(&other, json!({"params": [{"key": "lr", "value": "0.1"}], "metrics": [{"key": "acc", "value": 0.99}]})).await?;
    Ok((api, exp1, exp2))
}

async fn names(api: &Api, body: Value) -> Result<Vec<String>> {
    let reply = api
        .post("/api/v1/projects/p/runs/search", body.clone())
        .await?;
    assert_eq!(reply.0, 200, "search {body}: {}", reply.1);
    Ok(items(&reply)
        .iter()
        .map(|r| r["name"].as_str().unwrap_or("?").to_string())
        .collect())
}

#[tokio::test]
async fn search_with_and_or_and_parentheses() -> Result<()> {
    let (api, _, _) = fixture().await?;
    // Default order: newest start_time first; deleted runs excluded.
    assert_eq!(names(&api, json!({})).await?, ["d", "c", "b", "a"]);
    assert_eq!(
        names(&api, json!({"filter": "metrics.acc > 0.8"})).await?,
        ["b", "a"]
    );
    assert_eq!(
        names(
            &api,
            json!({"filter": "params.lr = '0.1' and metrics.acc > 0.8"})
        )
        .await?,
        ["a"]
    );
    assert_eq!(
        names(
            &api,
            json!({"filter": "params.lr = '0.1' OR tags.team = 'b'"})
        )
        .await?,
        ["c", "b", "a"]
    );
    assert_eq!(
        names(
            &api,
            json!({"filter": "metrics.acc > 0.6 and (params.lr = '0.001' or tags.team = 'a')"})
        )
        .await?,
        ["d", "a"]
    );
    // Without the parentheses AND binds tighter: (acc > 0.6 and lr = 0.001) or team = a.
    assert_eq!(
        names(
            &api,
            json!({"filter": "metrics.acc > 0.95 and params.lr = '0.001' or tags.team = 'a'"})
        )
        .await?,
        ["a"]
    );
    assert_eq!(
        names(
            &api,
            json!({"filter": "(params.lr = '0.1' or params.lr = '0.01') and (tags.team = 'b')"})
        )
        .await?,
        ["c", "b"]
    );
    assert_eq!(
        names(&api, json!({"filter": "tags.team IS NULL"})).await?,
        ["d"]
    );
    assert_eq!(
        names(&api, json!({"filter": "tags.team LIKE 'b%'"})).await?,
        ["c", "b"]
    );
    assert_eq!(
        names(&api, json!({"filter": "params.lr IN ('0.01', '0.001')"})).await?,
        ["d", "b"]
    );
    assert_eq!(
        names(&api, json!({"filter": "attributes.status = 'FINISHED'"})).await?,
        ["a"]
    );
    assert_eq!(
        names(&api, json!({"filter": "attributes.run_name = 'c'"})).await?,
        ["c"]
    );
    assert_eq!(
        names(
            &api,
            json!({"filter": "metrics.acc >= 0.5 AND metrics.acc < 0.9"})
        )
        .await?,
        ["d", "c"]
    );
    assert_eq!(
        names(&api, json!({"filter": ""})).await?,
        ["d", "c", "b", "a"]
    );
    // A value that looks like SQL is only a value.
    assert_eq!(
        names(&api, json!({"filter": "params.lr = '0.1'' OR ''1''=''1'"})).await?,
        Vec::<String>::new()
    );
    Ok(())
}

#[tokio::test]
async fn search_order_by_paging_experiments_and_views() -> Result<()> {
    let (api, exp1, exp2) = fixture().await?;
    assert_eq!(
        names(&api, json!({"order_by": ["metrics.acc DESC"]})).await?,
        ["b", "a", "d", "c"]
    );
    assert_eq!(
        names(&api, json!({"order_by": ["metrics.acc"]})).await?,
        ["c", "d", "a", "b"]
    );
    assert_eq!(
        names(
            &api,
            json!({"order_by": ["params.lr ASC", "attributes.start_time DESC"]})
        )
        .await?,
        ["d", "b", "c", "a"]
    );
    assert_eq!(
        names(&api, json!({"order_by": ["attributes.start_time"]})).await?,
        ["a", "b", "c", "d"]
    );

    // Pages of two, ordered by accuracy.
    let first = api
        .post(
            "/api/v1/projects/p/runs/search",
            json!({"order_by": ["metrics.acc DESC"], "limit": 2}),
        )
        .await?;
    let page1: Vec<Value> = items(&first).iter().map(|r| r["name"].clone()).collect();
    assert_eq!(page1, [json!("b"), json!("a")]);
    let cursor = first.1["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let second = api
        .post(
            "/api/v1/projects/p/runs/search",
            json!({"order_by": ["metrics.acc DESC"], "limit": 2, "cursor": cursor}),
        )
        .await?;
    let page2: Vec<Value> = items(&second).iter().map(|r| r["name"].clone()).collect();
    assert_eq!(page2, [json!("d"), json!("c")]);
    assert!(
        second.1.get("next_cursor").is_none(),
        "last page: {}",
        second.1
    );

    // Search results carry the run's data.
    let reply = api
        .post(
            "/api/v1/projects/p/runs/search",
            json!({"filter": "attributes.run_name = 'a'"}),
        )
        .await?;
    let a = &items(&reply)[0];
    assert_eq!(a["params"], json!([{"key": "lr", "value": "0.1"}]));
    assert_eq!(a["tags"], json!([{"key": "team", "value": "a"}]));
    assert_eq!(a["metrics"][0]["key"], "acc");
    assert_eq!(a["metrics"][0]["value"], 0.9);
    assert_eq!(a["status"], "FINISHED");
    assert_eq!(a["experiment_id"], exp1);

    assert_eq!(names(&api, json!({"experiment_ids": [exp2]})).await?, ["d"]);
    assert_eq!(
        names(
            &api,
            json!({"experiment_ids": [exp1, exp2], "filter": "metrics.acc < 0.8"})
        )
        .await?,
        ["d", "c"]
    );
    assert_eq!(names(&api, json!({"view": "deleted_only"})).await?, ["e"]);
    assert_eq!(
        names(&api, json!({"view": "all", "filter": "metrics.acc > 0.8"})).await?,
        ["e", "b", "a"]
    );
    Ok(())
}

async fn run_id(api: &Api, name: &str) -> Result<String> {
    let reply = api
        .post(
            "/api/v1/projects/p/runs/search",
            json!({"filter": format!("attributes.run_name = '{name}'"), "view": "all"}),
        )
        .await?;
    Ok(items(&reply)[0]["run_id"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

#[tokio::test]
async fn search_like_missing_keys_datasets_and_attributes() -> Result<()> {
    let (api, _, exp2) = fixture().await?;
    let (b, c, a) = (
        run_id(&api, "b").await?,
        run_id(&api, "c").await?,
        run_id(&api, "a").await?,
    );
    api.batch(&b, json!({"metrics": [{"key": "loss", "value": 0.3}]}))
        .await?;
    api.batch(&c, json!({"metrics": [{"key": "loss", "value": 0.1}]}))
        .await?;
    // Runs without the key sort last in both directions.
    assert_eq!(
        names(&api, json!({"order_by": ["metrics.loss ASC"]})).await?,
        ["c", "b", "d", "a"]
    );
    assert_eq!(
        names(&api, json!({"order_by": ["metrics.loss DESC"]})).await?,
        ["b", "c", "d", "a"]
    );
    assert_eq!(
        names(&api, json!({"order_by": ["tags.team DESC"]})).await?,
        ["c", "b", "a", "d"]
    );
    // So do unfinished runs by end_time.
    assert_eq!(
        names(&api, json!({"order_by": ["attributes.end_time DESC"]})).await?,
        ["a", "d", "c", "b"]
    );
    assert_eq!(
        names(&api, json!({"filter": "attributes.end_time IS NULL"})).await?,
        ["d", "c", "b"]
    );
    assert_eq!(
        names(&api, json!({"filter": "attributes.start_time >= 2000"})).await?,
        ["d", "c", "b"]
    );
    assert_eq!(
        names(
            &api,
            json!({"filter": format!("attributes.experiment_id = {exp2}")})
        )
        .await?,
        ["d"]
    );
    assert_eq!(
        names(
            &api,
            json!({"filter": format!("attributes.run_id = '{a}'")})
        )
        .await?,
        ["a"]
    );
    assert_eq!(
        names(
            &api,
            json!({"filter": "attributes.user_id = 'local' AND metrics.loss < 1"})
        )
        .await?,
        ["c", "b"]
    );
    // LIKE is case-sensitive, ILIKE is not.
    assert_eq!(
        names(&api, json!({"filter": "tags.team LIKE 'B%'"})).await?,
        Vec::<String>::new()
    );
    assert_eq!(
        names(&api, json!({"filter": "tags.team ILIKE 'B%'"})).await?,
        ["c", "b"]
    );
    assert_eq!(
        names(&api, json!({"filter": "params.lr != '0.1'"})).await?,
        ["d", "b"]
    );
    assert_eq!(
        names(&api, json!({"filter": "params.lr NOT IN ('0.1', '0.01')"})).await?,
        ["d"]
    );
    assert_eq!(
        names(
            &api,
            json!({"filter": "tags.team IS NOT NULL AND metrics.acc <= 0.9"})
        )
        .await?,
        ["c", "a"]
    );

    // Filters on input datasets.
    api.dataset("p", "train").await?;
    let version = api
        .upload_version("p", "train", Some("text/csv"), crate::csv_bytes(5, "t"))
        .await?;
    expect_status(&version, 201);
    let reply = api
        .post(
            &format!("/api/v1/runs/{a}/inputs"),
            json!({"dataset_version_id": version.1["id"], "context": "training"}),
        )
        .await?;
    expect_status(&reply, 200);
    assert_eq!(
        names(&api, json!({"filter": "datasets.name = 'train'"})).await?,
        ["a"]
    );
    assert_eq!(
        names(
            &api,
            json!({"filter": "datasets.context = 'training' OR metrics.acc > 0.94"})
        )
        .await?,
        ["b", "a"]
    );
    let digest = version.1["content_hash"].as_str().unwrap();
    assert_eq!(
        names(
            &api,
            json!({"filter": format!("datasets.digest = '{digest}'")})
        )
        .await?,
        ["a"]
    );
    assert_eq!(
        names(&api, json!({"filter": "datasets.name = 'other'"})).await?,
        Vec::<String>::new()
    );
    Ok(())
}
