//! Projects, experiments, datasets and dataset versions.

use anyhow::Result;
use serde_json::{Value, json};

use crate::{blob_files, csv_bytes, enc, expect_status, items, parquet_bytes, server, tmp_files};

/// SHA-256 of `a,b,c\n1,x,2.5\n2,y,3.5\n` (from `sha256sum`).
const SMALL_CSV: &[u8] = b"a,b,c\n1,x,2.5\n2,y,3.5\n";
const SMALL_CSV_SHA256: &str = "9602dd1a148ac7bea0156cbd35c9445f372a52f9adddfe17a19ce04137415be8";

fn field_types(schema: &Value) -> Vec<(String, String)> {
    schema["fields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .map(|f| {
                    (
                        f["name"].as_str().unwrap_or("?").to_string(),
                        f["data_type"].as_str().unwrap_or("?").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn projects_create_list_get_update() -> Result<()> {
    let api = server()?;
    let created = api.project("alpha").await?;
    assert_eq!(created["name"], "alpha");
    assert_eq!(created["description"], "alpha project");
    assert_eq!(created["created_by"], "local");
    assert!(
        created["created_at"]
            .as_i64()
            .is_some_and(|t| t > 1_600_000_000_000),
        "created_at in ms: {created}"
    );

    let reply = api.get("/api/v1/projects/alpha").await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1, created);

    let reply = api
        .patch("/api/v1/projects/alpha", json!({"description": "changed"}))
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["description"], "changed");
    assert_eq!(reply.1["name"], "alpha");
    assert_eq!(
        api.get("/api/v1/projects/alpha").await?.1["description"],
        "changed"
    );

    // A name with spaces and unicode is fine, percent-encoded in the path.
    let odd = "my project ü";
    api.project(odd).await?;
    let reply = api.get(&format!("/api/v1/projects/{}", enc(odd))).await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["name"], odd);

    // A duplicate name is a conflict.
    let reply = api
        .post("/api/v1/projects", json!({"name": "alpha"}))
        .await?;
    crate::expect_error(&reply, 409, "project_already_exists");

    // Paging: 5 projects, 2 per page.
    for name in ["p3", "p4", "p5"] {
        api.project(name).await?;
    }
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/projects?limit=2&cursor={}", enc(c)),
            None => "/api/v1/projects?limit=2".to_string(),
        };
        let reply = api.get(&path).await?;
        let page = items(&reply);
        assert!(page.len() <= 2, "{}", reply.1);
        names.extend(
            page.iter()
                .map(|p| p["name"].as_str().unwrap_or_default().to_string()),
        );
        pages += 1;
        match reply.1["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(names, vec!["alpha", odd, "p3", "p4", "p5"]);
    assert_eq!(pages, 3);
    let all = items(&api.get("/api/v1/projects").await?);
    assert_eq!(all.len(), 5);
    assert!(
        api.get("/api/v1/projects")
            .await?
            .1
            .get("next_cursor")
            .is_none(),
        "no cursor on the last page"
    );
    Ok(())
}

#[tokio::test]
async fn experiments_lifecycle() -> Result<()> {
    let api = server()?;
    api.project("p").await?;
    let reply = api
        .post(
            "/api/v1/projects/p/experiments",
            json!({"name": "baseline", "description": "first"}),
        )
        .await?;
    expect_status(&reply, 201);
    let id = reply.1["id"].as_i64().unwrap();
    assert_eq!(reply.1["project"], "p");
    assert_eq!(reply.1["name"], "baseline");
    assert_eq!(reply.1["description"], "first");
    assert_eq!(reply.1["deleted_at"], Value::Null);
    assert_eq!(reply.1["created_by"], "local");
    let other = api.experiment("p", "other").await?;

    let reply = api
        .get(&format!("/api/v1/projects/p/experiments/{id}"))
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["name"], "baseline");

    let listed = items(&api.get("/api/v1/projects/p/experiments").await?);
    assert_eq!(
        listed.iter().map(|e| e["name"].clone()).collect::<Vec<_>>(),
        vec![json!("baseline"), json!("other")]
    );

    let reply = api
        .patch(
            &format!("/api/v1/projects/p/experiments/{id}"),
            json!({"name": "renamed", "description": "second"}),
        )
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["name"], "renamed");
    assert_eq!(reply.1["description"], "second");
    assert_eq!(reply.1["id"], id);
    let reply = api
        .patch(
            &format!("/api/v1/projects/p/experiments/{id}"),
            json!({"description": "third"}),
        )
        .await?;
    assert_eq!(reply.1["name"], "renamed", "a missing name keeps the name");
    assert_eq!(reply.1["description"], "third");
    // Renaming onto another experiment's name is a conflict.
    let reply = api
        .patch(
            &format!("/api/v1/projects/p/experiments/{id}"),
            json!({"name": "other"}),
        )
        .await?;
    crate::expect_error(&reply, 409, "experiment_already_exists");

    let reply = api
        .delete(&format!("/api/v1/projects/p/experiments/{id}"))
        .await?;
    expect_status(&reply, 200);
    let deleted_at = reply.1["deleted_at"].as_i64().expect("deleted_at set");
    assert!(deleted_at > 0);
    let active = items(&api.get("/api/v1/projects/p/experiments").await?);
    assert_eq!(
        active
            .iter()
            .map(|e| e["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![other]
    );
    let deleted = items(
        &api.get("/api/v1/projects/p/experiments?view=deleted_only")
            .await?,
    );
    assert_eq!(
        deleted
            .iter()
            .map(|e| e["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![id]
    );
    assert_eq!(
        items(&api.get("/api/v1/projects/p/experiments?view=all").await?).len(),
        2
    );
    // A deleted experiment takes no new runs.
    let reply = api
        .post(
            &format!("/api/v1/projects/p/experiments/{id}/runs"),
            json!({}),
        )
        .await?;
    crate::expect_error(&reply, 409, "conflict");

    let reply = api
        .post(
            &format!("/api/v1/projects/p/experiments/{id}/restore"),
            json!({}),
        )
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["deleted_at"], Value::Null);
    assert_eq!(
        items(&api.get("/api/v1/projects/p/experiments").await?).len(),
        2
    );
    api.run("p", id, json!({})).await?;
    Ok(())
}

#[tokio::test]
async fn dataset_csv_upload_reads_schema_and_rows() -> Result<()> {
    let api = server()?;
    api.project("p").await?;
    let reply = api
        .post(
            "/api/v1/projects/p/datasets",
            json!({"name": "iris", "description": "flowers"}),
        )
        .await?;
    expect_status(&reply, 201);
    assert_eq!(reply.1["project"], "p");
    assert_eq!(reply.1["name"], "iris");
    assert_eq!(reply.1["description"], "flowers");
    assert_eq!(reply.1["version_count"], 0);

    let reply = api
        .upload_version("p", "iris", Some("text/csv"), SMALL_CSV.to_vec())
        .await?;
    expect_status(&reply, 201);
    let v = reply.1.clone();
    assert_eq!(v["project"], "p");
    assert_eq!(v["dataset"], "iris");
    assert_eq!(v["version"], 1);
    assert_eq!(v["format"], "csv");
    assert_eq!(v["row_count"], 2);
    assert_eq!(v["byte_size"], SMALL_CSV.len());
    assert_eq!(v["content_hash"], SMALL_CSV_SHA256);
    assert_eq!(v["source_uri"], Value::Null);
    assert_eq!(v["derived_from_id"], Value::Null);
    assert_eq!(
        field_types(&v["schema"]),
        vec![
            ("a".into(), "Int64".into()),
            ("b".into(), "Utf8".into()),
            ("c".into(), "Float64".into())
        ]
    );
    let id = v["id"].as_i64().unwrap();

    // A bigger CSV, format from ?format= and a description from the query.
    let big = csv_bytes(1234, "row");
    let reply = api
        .send_bytes(
            reqwest::Method::POST,
            "/api/v1/projects/p/datasets/iris/versions?format=csv&description=more%20rows",
            Some("application/octet-stream"),
            big.clone(),
        )
        .await?;
    expect_status(&reply, 201);
    assert_eq!(reply.1["version"], 2);
    assert_eq!(reply.1["row_count"], 1234);
    assert_eq!(reply.1["description"], "more rows");
    assert_eq!(
        field_types(&reply.1["schema"]),
        vec![
            ("id".into(), "Int64".into()),
            ("name".into(), "Utf8".into()),
            ("score".into(), "Float64".into())
        ]
    );

    let reply = api
        .get("/api/v1/projects/p/datasets/iris/versions/1")
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1, v);
    let reply = api.get(&format!("/api/v1/dataset-versions/{id}")).await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1, v);
    let reply = api
        .get("/api/v1/projects/p/datasets/iris/versions/1/schema")
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1, v["schema"]);
    assert_eq!(
        reply.1["fields"][0],
        json!({"name": "a", "data_type": "Int64", "nullable": true})
    );

    let (status, headers, bytes) = api
        .download("/api/v1/projects/p/datasets/iris/versions/1/content")
        .await?;
    assert_eq!(status, 200);
    assert_eq!(bytes, SMALL_CSV);
    assert_eq!(headers["content-type"], "text/csv");
    assert_eq!(headers["etag"].to_str()?, format!("\"{SMALL_CSV_SHA256}\""));
    assert!(
        headers["content-disposition"]
            .to_str()?
            .contains("iris-v1.csv"),
        "{headers:?}"
    );
    let (status, _, bytes) = api
        .download("/api/v1/projects/p/datasets/iris/versions/2/content")
        .await?;
    assert_eq!(status, 200);
    assert_eq!(bytes, big);

    let versions = items(&api.get("/api/v1/projects/p/datasets/iris/versions").await?);
    assert_eq!(
        versions
            .iter()
            .map(|v| v["version"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![1, 2]
    );
    let page = api
        .get("/api/v1/projects/p/datasets/iris/versions?limit=1")
        .await?;
    assert_eq!(items(&page).len(), 1);
    let cursor = page.1["next_cursor"]
        .as_str()
        .expect("next_cursor")
        .to_string();
    let page2 = items(
        &api.get(&format!(
            "/api/v1/projects/p/datasets/iris/versions?limit=1&cursor={}",
            enc(&cursor)
        ))
        .await?,
    );
    assert_eq!(page2[0]["version"], 2);

    let reply = api.get("/api/v1/projects/p/datasets/iris").await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["version_count"], 2);
    api.dataset("p", "other").await?;
    let datasets = items(&api.get("/api/v1/projects/p/datasets").await?);
    assert_eq!(
        datasets
            .iter()
            .map(|d| d["name"].clone())
            .collect::<Vec<_>>(),
        vec![json!("iris"), json!("other")]
    );
    assert_eq!(datasets[0]["version_count"], 2);
    assert_eq!(datasets[1]["version_count"], 0);
    Ok(())
}

#[tokio::test]
async fn dataset_parquet_upload_reads_footer() -> Result<()> {
    let api = server()?;
    api.project("p").await?;
    api.dataset("p", "events").await?;
    let bytes = parquet_bytes(1000)?;
    let reply = api
        .upload_version(
            "p",
            "events",
            Some("application/vnd.apache.parquet"),
            bytes.clone(),
        )
        .await?;
    expect_status(&reply, 201);
    assert_eq!(reply.1["format"], "parquet");
    assert_eq!(reply.1["row_count"], 1000);
    assert_eq!(reply.1["byte_size"], bytes.len());
    assert_eq!(
        field_types(&reply.1["schema"]),
        vec![
            ("id".into(), "Int64".into()),
            ("name".into(), "Utf8".into()),
            ("score".into(), "Float64".into())
        ]
    );
    let (status, headers, downloaded) = api
        .download("/api/v1/projects/p/datasets/events/versions/1/content")
        .await?;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/vnd.apache.parquet");
    assert!(
        downloaded == bytes,
        "downloaded parquet differs from the upload"
    );

    // With a generic Content-Type and no ?format= the format is sniffed from the PAR1 magic.
    let other = parquet_bytes(7)?;
    let reply = api
        .upload_version("p", "events", Some("application/octet-stream"), other)
        .await?;
    expect_status(&reply, 201);
    assert_eq!(reply.1["format"], "parquet");
    assert_eq!(reply.1["row_count"], 7);
    assert_eq!(reply.1["version"], 2);
    Ok(())
}

#[tokio::test]
async fn identical_bytes_are_one_version_and_one_blob() -> Result<()> {
    let api = server()?;
    api.project("p").await?;
    api.dataset("p", "a").await?;
    api.dataset("p", "b").await?;
    let bytes = csv_bytes(50, "same");

    let first = api
        .upload_version("p", "a", Some("text/csv"), bytes.clone())
        .await?;
    expect_status(&first, 201);
    let again = api
        .upload_version("p", "a", Some("text/csv"), bytes.clone())
        .await?;
    expect_status(&again, 200);
    assert_eq!(again.1["content_hash"], first.1["content_hash"]);
    assert_eq!(again.1["id"], first.1["id"]);
    assert_eq!(again.1["version"], 1);
    assert_eq!(
        api.get("/api/v1/projects/p/datasets/a").await?.1["version_count"],
        1
    );
    assert_eq!(
        items(&api.get("/api/v1/projects/p/datasets/a/versions").await?).len(),
        1
    );

    let blobs = blob_files(&api);
    assert_eq!(blobs.len(), 1, "one blob for one content: {blobs:?}");
    let hash = first.1["content_hash"].as_str().unwrap();
    assert!(
        blobs[0].ends_with(format!("{}/{hash}", &hash[..2])),
        "blob at sha256/<2>/<hash>: {blobs:?}"
    );
    assert_eq!(std::fs::read(&blobs[0])?, bytes);

    // The same bytes in another dataset are a new version there, still one blob.
    let other = api
        .upload_version("p", "b", Some("text/csv"), bytes.clone())
        .await?;
    expect_status(&other, 201);
    assert_eq!(other.1["content_hash"], first.1["content_hash"]);
    assert_ne!(other.1["id"], first.1["id"]);
    assert_eq!(blob_files(&api).len(), 1, "{:?}", blob_files(&api));

    // Other bytes: a second version and a second blob.
    let changed = api
        .upload_version("p", "a", Some("text/csv"), csv_bytes(51, "same"))
        .await?;
    expect_status(&changed, 201);
    assert_eq!(changed.1["version"], 2);
    assert_ne!(changed.1["content_hash"], first.1["content_hash"]);
    assert_eq!(blob_files(&api).len(), 2);
    assert!(
        tmp_files(&api).is_empty(),
        "no staged leftovers: {:?}",
        tmp_files(&api)
    );

    let (_, _, downloaded) = api
        .download("/api/v1/projects/p/datasets/b/versions/1/content")
        .await?;
    assert_eq!(downloaded, bytes);

    // The same bytes streamed in uneven chunks (chunked transfer encoding): same hash, 200.
    let chunks: Vec<std::io::Result<Vec<u8>>> = bytes.chunks(7).map(|c| Ok(c.to_vec())).collect();
    let resp = api
        .server
        .client()
        .post(api.server.url("/api/v1/projects/p/datasets/a/versions"))
        .header("content-type", "text/csv")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    let streamed = crate::json(resp).await?;
    assert_eq!(streamed["content_hash"], first.1["content_hash"]);
    assert_eq!(streamed["version"], 1);
    assert_eq!(blob_files(&api).len(), 2);
    assert!(tmp_files(&api).is_empty(), "{:?}", tmp_files(&api));
    Ok(())
}
