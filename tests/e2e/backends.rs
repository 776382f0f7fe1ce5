//! The same flows on the other backends: PostgreSQL, S3 (moto on loopback), and a restart on
//! the same SQLite data directory.

use anyhow::{Context, Result};
use serde_json::{Value, json};
use verity_tests::{FreshDatabase, MotoServer, ServerOptions};

use crate::{Api, csv_bytes, enc, expect_error, expect_status, items, noise};

/// project → dataset (CSV upload) → experiment → run → batch → search → model version from a
/// run artifact → alias; asserting the answers along the way.
async fn smoke_flow(api: &Api) -> Result<()> {
    let project = "smoke test";
    let p = enc(project);
    api.project(project).await?;
    api.dataset(project, "train").await?;
    let csv = csv_bytes(321, "smoke");
    let version = api
        .upload_version(project, "train", Some("text/csv"), csv.clone())
        .await?;
    expect_status(&version, 201);
    assert_eq!(version.1["row_count"], 321);
    assert_eq!(version.1["schema"]["fields"][2]["data_type"], "Float64");
    let again = api
        .upload_version(project, "train", Some("text/csv"), csv.clone())
        .await?;
    expect_status(&again, 200);
    assert_eq!(again.1["id"], version.1["id"]);
    let (_, _, downloaded) = api
        .download(&format!(
            "/api/v1/projects/{p}/datasets/train/versions/1/content"
        ))
        .await?;
    assert_eq!(downloaded, csv);

    let experiment = api.experiment(project, "exp").await?;
    let run = api
        .run(
            project,
            experiment,
            json!({"name": "fit", "tags": [{"key": "team", "value": "a"}]}),
        )
        .await?;
    let other = api
        .run(project, experiment, json!({"name": "other"}))
        .await?;
    let metrics: Vec<Value> = (0..5000)
        .map(|i| json!({"key": "loss", "value": 1.0 / f64::from(i + 1), "step": i}))
        .collect();
    api.batch(
        &run,
        json!({"params": [{"key": "lr", "value": "0.1"}], "metrics": metrics}),
    )
    .await?;
    api.batch(&run, json!({"metrics": [{"key": "acc", "value": 0.93}, {"key": "weird", "value": "NaN"}, {"key": "big", "value": "Infinity"}]})).await?;
    api.batch(&other, json!({"params": [{"key": "lr", "value": "0.2"}], "metrics": [{"key": "acc", "value": 0.5}]})).await?;
    let reply = api
        .post(
            &format!("/api/v1/runs/{run}/params"),
            json!({"key": "lr", "value": "0.3"}),
        )
        .await?;
    crate::expect_error(&reply, 409, "conflict");
    let reply = api
        .post(
            &format!("/api/v1/runs/{run}/inputs"),
            json!({"dataset_version_id": version.1["id"], "context": "training"}),
        )
        .await?;
    expect_status(&reply, 200);

    let found = items(
        &api.post(
            &format!("/api/v1/projects/{p}/runs/search"),
            json!({"filter": "metrics.acc > 0.9 and (params.lr = '0.1' or tags.team = 'b')", "order_by": ["metrics.acc DESC"]}),
        )
        .await?,
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["run_id"], run.as_str());
    let names: Vec<Value> = items(
        &api.post(
            &format!("/api/v1/projects/{p}/runs/search"),
            json!({"order_by": ["metrics.acc"]}),
        )
        .await?,
    )
    .iter()
    .map(|r| r["name"].clone())
    .collect();
    assert_eq!(names, vec![json!("other"), json!("fit")]);
    let latest = api.get(&format!("/api/v1/runs/{run}/metrics")).await?.1;
    let values: Vec<(Value, Value)> = latest["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["key"].clone(), m["value"].clone()))
        .collect();
    assert_eq!(
        values,
        vec![
            (json!("acc"), json!(0.93)),
            (json!("big"), json!("Infinity")),
            (json!("loss"), json!(1.0 / 5000.0)),
            (json!("weird"), json!("NaN"))
        ]
    );
    assert_eq!(
        items(
            &api.get(&format!("/api/v1/runs/{run}/metric-history?key=loss"))
                .await?
        )
        .len(),
        5000
    );
    let buckets = api
        .get(&format!(
            "/api/v1/runs/{run}/metric-history/downsampled?key=loss&buckets=50"
        ))
        .await?;
    expect_status(&buckets, 200);
    let buckets = buckets.1["buckets"].as_array().unwrap().clone();
    assert_eq!(buckets.len(), 50);
    assert_eq!(buckets[0]["max"], 1.0);

    let weights = noise(100_000, 7);
    expect_status(
        &api.put_artifact(&run, "model/weights.bin", weights.clone())
            .await?,
        200,
    );
    expect_status(
        &api.put_artifact(&run, "model/config.json", b"{}".to_vec())
            .await?,
        200,
    );
    crate::expect_error(
        &api.put_artifact(&run, "model", b"x".to_vec()).await?,
        409,
        "conflict",
    );
    let listing = api
        .get(&format!("/api/v1/runs/{run}/artifacts?path=model"))
        .await?;
    expect_status(&listing, 200);
    assert_eq!(
        listing.1["files"].as_array().map(Vec::len),
        Some(2),
        "{}",
        listing.1
    );
    api.model(project, "clf").await?;
    let mv = api
        .post(
            &format!("/api/v1/projects/{p}/models/clf/versions"),
            json!({"run_id": run, "artifact_path": "model"}),
        )
        .await?;
    expect_status(&mv, 201);
    assert_eq!(mv.1["version"], 1);
    assert_eq!(mv.1["files"].as_array().map(Vec::len), Some(2), "{}", mv.1);
    let reply = api
        .put(
            &format!("/api/v1/projects/{p}/models/clf/aliases/champion"),
            json!({"version": 1}),
        )
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["aliases"], json!(["champion"]));
    let resolved = api
        .get(&format!("/api/v1/projects/{p}/models/clf/aliases/champion"))
        .await?;
    expect_status(&resolved, 200);
    assert_eq!(resolved.1["id"], mv.1["id"]);
    let history = items(
        &api.get(&format!(
            "/api/v1/projects/{p}/models/clf/alias-history?alias=champion"
        ))
        .await?,
    );
    assert_eq!(history.len(), 1);
    let at = history[0]["at"].as_i64().unwrap();
    assert_eq!(
        api.get(&format!(
            "/api/v1/projects/{p}/models/clf/aliases/champion?at={at}"
        ))
        .await?
        .1["version"],
        1
    );
    let (_, _, bytes) = api
        .download(&format!(
            "/api/v1/projects/{p}/models/clf/versions/1/files/weights.bin"
        ))
        .await?;
    assert!(bytes == weights, "model file differs");

    let mv_id = mv.1["id"].as_i64().unwrap();
    let graph = api
        .get(&format!(
            "/api/v1/lineage?kind=model_version&id={mv_id}&direction=upstream"
        ))
        .await?;
    expect_status(&graph, 200);
    let dataset_id = version.1["id"].as_i64().unwrap().to_string();
    assert!(
        graph.1["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "dataset_version" && n["id"] == dataset_id.as_str()),
        "{}",
        graph.1
    );
    expect_status(
        &api.patch(
            &format!("/api/v1/runs/{run}"),
            json!({"status": "FINISHED"}),
        )
        .await?,
        200,
    );
    let events = api.get(&format!("/api/v1/runs/{run}/openlineage")).await?.1;
    assert_eq!(
        events["events"].as_array().map(Vec::len),
        Some(2),
        "{events}"
    );
    Ok(())
}

#[tokio::test]
async fn sqlite_smoke_flow() -> Result<()> {
    let api = crate::server()?;
    smoke_flow(&api).await
}

#[tokio::test]
async fn postgres_smoke_flow() -> Result<()> {
    let db = FreshDatabase::create().context(
        "PostgreSQL is required for this test (VERITY_TEST_POSTGRES_URL or the local server)",
    )?;
    let api = Api::start(ServerOptions {
        database_url: Some(db.url.clone()),
        ..ServerOptions::default()
    })?;
    let (status, body) = api.get("/ready").await?;
    assert_eq!(status, 200, "{body}");
    smoke_flow(&api).await?;
    drop(api);
    Ok(())
}

/// Starts moto, failing (not skipping) when it is missing.
fn moto() -> Result<MotoServer> {
    MotoServer::start().context(
        "moto_server is required for the S3 backend test (CI installs it: pip install 'moto[server]'; or set MOTO_SERVER to its path)",
    )
}

#[tokio::test]
async fn s3_object_store_on_moto() -> Result<()> {
    let moto = moto()?;
    let bucket = "verity-e2e";
    moto.create_bucket(bucket).await?;
    let api = Api::start(ServerOptions {
        object_store: Some(format!("s3://{bucket}/verity")),
        env: moto.env(),
        ..ServerOptions::default()
    })?;
    let (status, body) = api.get("/ready").await?;
    assert_eq!(status, 200, "{body}");
    let sha_keys = || moto.list_keys(bucket, "verity/sha256/");
    let tmp_keys = || moto.list_keys(bucket, "verity/tmp/");

    let (_, run) = api.project_with_run("p").await?;
    api.dataset("p", "d").await?;
    // 20 MiB of CSV: staged to S3 as a multipart upload of several parts, then inspected.
    let csv = csv_bytes(850_000, "s3");
    assert!(csv.len() > 20 * 1024 * 1024, "{} bytes", csv.len());
    let v1 = api
        .upload_version("p", "d", Some("text/csv"), csv.clone())
        .await?;
    expect_status(&v1, 201);
    assert_eq!(v1.1["row_count"], 850_000);
    assert_eq!(v1.1["byte_size"], csv.len());
    let (status, _, bytes) = api
        .download("/api/v1/projects/p/datasets/d/versions/1/content")
        .await?;
    assert_eq!(status, 200);
    assert!(
        bytes == csv,
        "20 MiB dataset version differs after the round trip"
    );

    // 20 MiB: a multipart upload of several parts.
    let big = noise(20 * 1024 * 1024, 42);
    let reply = api
        .put_artifact(&run, "weights/big.bin", big.clone())
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["byte_size"], big.len());
    let big_hash = reply.1["content_hash"].as_str().unwrap().to_string();
    let (status, _, bytes) = api
        .download(&format!("/api/v1/runs/{run}/artifacts/weights/big.bin"))
        .await?;
    assert_eq!(status, 200);
    assert_eq!(bytes.len(), big.len());
    assert!(bytes == big, "20 MiB artifact differs after the round trip");

    // The same bytes again, three ways: nothing new is stored.
    let again = api
        .upload_version("p", "d", Some("text/csv"), csv.clone())
        .await?;
    expect_status(&again, 200);
    assert_eq!(again.1["content_hash"], v1.1["content_hash"]);
    expect_status(
        &api.put_artifact(&run, "weights/big.bin", big.clone())
            .await?,
        200,
    );
    expect_status(
        &api.put_artifact(&run, "weights/copy.bin", big.clone())
            .await?,
        200,
    );
    let keys = sha_keys().await?;
    assert_eq!(keys.len(), 2, "one object per distinct content: {keys:?}");
    // Verity's own blobs cannot be registered as a source (the server's credentials would
    // copy bytes the caller may not read), whatever the spelling of the URL.
    let hash = v1.1["content_hash"].as_str().unwrap();
    let h2 = &hash[..2];
    let own = |path: &str| format!("s3://{bucket}/{path}");
    let blob = format!("sha256/{h2}/{hash}");
    // (url, what the refusal says)
    let refused = [
        (own(&format!("verity/{blob}")), "own object store"),
        (format!("s3a://{bucket}/verity/{blob}"), "own object store"),
        (own("verity/tmp/whatever"), "own object store"),
        // Spellings that decode or resolve to the same object (the security review's bypass
        // was the percent-encoded one: the check compared the raw path, the read decoded it).
        (own(&format!("%76erity/{blob}")), "own object store"),
        (
            own(&format!("%76%65%72%69%74%79/{blob}")),
            "own object store",
        ),
        (
            own(&format!("verity%2F{}", blob.replace('/', "%2F"))),
            "own object store",
        ),
        (own(&format!("raw/../verity/{blob}")), "own object store"),
        (
            own(&format!("raw/%2e%2e/verity/{blob}")),
            "own object store",
        ),
        (own(&format!("./verity/{blob}")), "own object store"),
        // A bucket spelled with escapes or in capitals would be sent as written and reach the
        // same bucket under another name: bucket names must be plain.
        (format!("s3://%76erity-e2e/verity/{blob}"), "bucket plainly"),
        (
            format!("s3://{}/verity/{blob}", bucket.replace('v', "%76")),
            "bucket plainly",
        ),
        (
            format!("s3://{}/verity/{blob}", bucket.to_uppercase()),
            "bucket plainly",
        ),
        // Encoded separators that would climb out of a folder are not a path at all.
        (own(&format!("raw%2F..%2Fverity/{blob}")), ""),
    ];
    for (url, says) in refused {
        let reply = api
            .post(
                "/api/v1/projects/p/datasets/d/versions",
                serde_json::json!({"source_uri": url}),
            )
            .await?;
        let message = expect_error(&reply, 400, "invalid_argument");
        assert!(message.contains(says), "{url}: {message}");
    }
    assert_eq!(
        api.get("/api/v1/projects/p/datasets/d").await?.1["version_count"],
        1,
        "no refused source became a version"
    );
    assert!(keys.iter().any(|k| k.ends_with(&big_hash)), "{keys:?}");
    assert!(
        keys.iter()
            .any(|k| k.ends_with(v1.1["content_hash"].as_str().unwrap())),
        "{keys:?}"
    );
    assert!(
        tmp_keys().await?.is_empty(),
        "no staged objects remain: {:?}",
        tmp_keys().await?
    );

    // Register a version by URL: Verity reads and copies the object.
    let raw = csv_bytes(77, "raw");
    moto.put_object(bucket, "raw/data.csv", raw.clone()).await?;
    let uri = format!("s3://{bucket}/raw/data.csv");
    let reply = api
        .post(
            "/api/v1/projects/p/datasets/d/versions",
            json!({"source_uri": uri, "description": "from s3"}),
        )
        .await?;
    expect_status(&reply, 201);
    assert_eq!(reply.1["version"], 2);
    assert_eq!(reply.1["row_count"], 77);
    assert_eq!(reply.1["format"], "csv");
    assert_eq!(reply.1["source_uri"], uri.as_str());
    assert_eq!(reply.1["description"], "from s3");
    let (_, _, bytes) = api
        .download("/api/v1/projects/p/datasets/d/versions/2/content")
        .await?;
    assert_eq!(bytes, raw);
    let reply = api
        .post(
            "/api/v1/projects/p/datasets/d/versions",
            json!({"source_uri": uri}),
        )
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["version"], 2);
    // A missing object is a client error, and leaves nothing behind.
    let reply = api
        .post(
            "/api/v1/projects/p/datasets/d/versions",
            json!({"source_uri": format!("s3://{bucket}/raw/missing.csv")}),
        )
        .await?;
    crate::expect_error(&reply, 400, "invalid_argument");
    let keys = sha_keys().await?;
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(tmp_keys().await?.is_empty(), "{:?}", tmp_keys().await?);
    assert_eq!(
        api.get("/api/v1/projects/p/datasets/d").await?.1["version_count"],
        2
    );
    let reply = api
        .post(
            "/api/v1/projects/p/datasets/d/versions",
            json!({"source_uri": format!("s3://{bucket}")}),
        )
        .await?;
    crate::expect_error(&reply, 400, "invalid_argument");
    let reply = api
        .post(
            "/api/v1/projects/p/datasets/d/versions",
            json!({"source_uri": "file:///etc/passwd"}),
        )
        .await?;
    crate::expect_error(&reply, 400, "invalid_argument");

    // A second server on the same bucket with a small upload limit refuses a large registration.
    let small = Api::start(ServerOptions {
        object_store: Some(format!("s3://{bucket}/small")),
        env: moto.env(),
        max_upload_bytes: Some(1000),
        ..ServerOptions::default()
    })?;
    small.project("p").await?;
    small.dataset("p", "d").await?;
    let reply = small
        .post(
            "/api/v1/projects/p/datasets/d/versions",
            json!({"source_uri": uri}),
        )
        .await?;
    crate::expect_error(&reply, 413, "payload_too_large");
    assert_eq!(
        small.get("/api/v1/projects/p/datasets/d").await?.1["version_count"],
        0
    );
    assert!(
        moto.list_keys(bucket, "small/").await?.is_empty(),
        "{:?}",
        moto.list_keys(bucket, "small/").await?
    );
    Ok(())
}

#[tokio::test]
async fn data_survives_a_restart() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let options = || ServerOptions {
        data_dir: Some(dir.path().to_path_buf()),
        ..ServerOptions::default()
    };
    let api = Api::start(options())?;
    let (experiment, run) = api.project_with_run("p").await?;
    api.dataset("p", "d").await?;
    let csv = csv_bytes(10, "keep");
    expect_status(
        &api.upload_version("p", "d", Some("text/csv"), csv.clone())
            .await?,
        201,
    );
    api.batch(&run, json!({"params": [{"key": "lr", "value": "0.1"}], "metrics": [{"key": "acc", "value": 0.8, "step": 3}]})).await?;
    let weights = noise(10_000, 11);
    expect_status(
        &api.put_artifact(&run, "model.pkl", weights.clone()).await?,
        200,
    );
    api.model("p", "m").await?;
    expect_status(
        &api.post(
            "/api/v1/projects/p/models/m/versions",
            json!({"run_id": run, "artifact_path": "model.pkl"}),
        )
        .await?,
        201,
    );
    expect_status(
        &api.put(
            "/api/v1/projects/p/models/m/aliases/prod",
            json!({"version": 1}),
        )
        .await?,
        200,
    );
    let before = (
        api.get("/api/v1/projects").await?.1,
        api.get(&format!("/api/v1/runs/{run}")).await?.1,
        api.get("/api/v1/projects/p/datasets/d/versions/1").await?.1,
        api.get("/api/v1/projects/p/models/m").await?.1,
        api.get("/api/v1/projects/p/models/m/alias-history")
            .await?
            .1,
    );
    assert!(
        api.server.stop().is_none(),
        "the test owns the data directory"
    );

    let api = Api::start(options())?;
    let after = (
        api.get("/api/v1/projects").await?.1,
        api.get(&format!("/api/v1/runs/{run}")).await?.1,
        api.get("/api/v1/projects/p/datasets/d/versions/1").await?.1,
        api.get("/api/v1/projects/p/models/m").await?.1,
        api.get("/api/v1/projects/p/models/m/alias-history")
            .await?
            .1,
    );
    assert_eq!(after, before);
    assert_eq!(after.1["metrics"][0]["value"], 0.8);
    let (_, _, bytes) = api
        .download("/api/v1/projects/p/datasets/d/versions/1/content")
        .await?;
    assert_eq!(bytes, csv);
    let (_, _, bytes) = api
        .download("/api/v1/projects/p/models/m/versions/1/files/model.pkl")
        .await?;
    assert!(bytes == weights);
    assert_eq!(
        api.get("/api/v1/projects/p/models/m/aliases/prod").await?.1["version"],
        1
    );
    // And it keeps working: new rows continue the old numbering.
    let second = api.run("p", experiment, json!({})).await?;
    assert_ne!(second, run);
    let v2 = api
        .upload_version("p", "d", Some("text/csv"), csv_bytes(11, "keep"))
        .await?;
    expect_status(&v2, 201);
    assert_eq!(v2.1["version"], 2);
    Ok(())
}

/// Concurrent writers to one entity: every request gets a proper answer (no 500), versions are
/// numbered without gaps or duplicates, identical bytes make one version, a param gets one value.
async fn concurrent_writers(api: &Api) -> Result<()> {
    use futures::future::join_all;
    const N: usize = 8;
    let (_, run) = api.project_with_run("p").await?;
    expect_status(
        &api.put_artifact(&run, "model.pkl", b"weights".to_vec())
            .await?,
        200,
    );
    api.model("p", "m").await?;
    let replies = join_all((0..N).map(|_| {
        api.post(
            "/api/v1/projects/p/models/m/versions",
            json!({"run_id": run, "artifact_path": "model.pkl"}),
        )
    }))
    .await;
    let mut versions = Vec::new();
    for reply in replies {
        let reply = reply?;
        expect_status(&reply, 201);
        versions.push(reply.1["version"].as_i64().unwrap());
    }
    versions.sort_unstable();
    assert_eq!(versions, (1..=N as i64).collect::<Vec<_>>());

    api.dataset("p", "distinct").await?;
    let replies =
        join_all((0..N).map(|i| {
            api.upload_version("p", "distinct", Some("text/csv"), csv_bytes(10 + i, "c"))
        }))
        .await;
    let mut versions = Vec::new();
    for reply in replies {
        let reply = reply?;
        expect_status(&reply, 201);
        versions.push(reply.1["version"].as_i64().unwrap());
    }
    versions.sort_unstable();
    assert_eq!(versions, (1..=N as i64).collect::<Vec<_>>());

    api.dataset("p", "same").await?;
    let replies = join_all(
        (0..N).map(|_| api.upload_version("p", "same", Some("text/csv"), csv_bytes(10, "same"))),
    )
    .await;
    let mut created = 0;
    let mut ids = std::collections::BTreeSet::new();
    for reply in replies {
        let reply = reply?;
        assert!(reply.0 == 201 || reply.0 == 200, "{}: {}", reply.0, reply.1);
        created += usize::from(reply.0 == 201);
        ids.insert(reply.1["id"].as_i64().unwrap());
    }
    assert_eq!(
        (created, ids.len()),
        (1, 1),
        "identical bytes make exactly one version"
    );
    assert_eq!(
        api.get("/api/v1/projects/p/datasets/same").await?.1["version_count"],
        1
    );

    let params_path = format!("/api/v1/runs/{run}/params");
    let replies = join_all(
        (0..N).map(|i| api.post(&params_path, json!({"key": "seed", "value": i.to_string()}))),
    )
    .await;
    let mut statuses = Vec::new();
    for reply in replies {
        let reply = reply?;
        if reply.0 != 204 {
            crate::expect_error(&reply, 409, "conflict");
        }
        statuses.push(reply.0.as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 204).count(),
        1,
        "{statuses:?}"
    );
    let detail = api.get(&format!("/api/v1/runs/{run}")).await?.1;
    assert_eq!(
        detail["params"].as_array().map(Vec::len),
        Some(1),
        "{}",
        detail["params"]
    );
    Ok(())
}

#[tokio::test]
async fn sqlite_concurrent_writers() -> Result<()> {
    let api = crate::server()?;
    concurrent_writers(&api).await
}

#[tokio::test]
async fn postgres_concurrent_writers() -> Result<()> {
    let db = FreshDatabase::create().context(
        "PostgreSQL is required for this test (VERITY_TEST_POSTGRES_URL or the local server)",
    )?;
    let api = Api::start(ServerOptions {
        database_url: Some(db.url.clone()),
        ..ServerOptions::default()
    })?;
    concurrent_writers(&api).await?;
    drop(api);
    Ok(())
}

#[tokio::test]
async fn ready_is_503_when_the_object_store_is_unreachable() -> Result<()> {
    // An S3 endpoint on a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let env = [
        ("AWS_ENDPOINT", format!("http://127.0.0.1:{port}")),
        ("AWS_ALLOW_HTTP", "true".to_string()),
        ("AWS_ACCESS_KEY_ID", "x".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "x".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
    ];
    let api = Api::start(ServerOptions {
        object_store: Some("s3://nowhere/verity".into()),
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        ..ServerOptions::default()
    })?;
    let (status, body) = api.get("/health").await?;
    assert_eq!(
        (status.as_u16(), body),
        (200, json!({"status": "ok"})),
        "liveness does not depend on the store"
    );
    let started = std::time::Instant::now();
    let reply = api.get("/ready").await?;
    crate::expect_error(&reply, 503, "not_ready");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "readiness answered in {:?}",
        started.elapsed()
    );
    Ok(())
}
