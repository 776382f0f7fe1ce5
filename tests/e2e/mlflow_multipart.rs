//! MLflow's multipart artifact upload over raw HTTP, with authentication on: the part URLs the
//! server answers (used without credentials, as the client uses presigned URLs), completion
//! into one immutable, audited artifact, and every refusal. The real client's own multipart
//! upload is in tests/mlflow/tracking_client.py.

use anyhow::{Context, Result};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use verity_tests::ServerOptions;

use crate::mlflow::{mlflow_error, server_with_members};
use crate::{Api, expect_status, header_text, items, sha256_hex};

const A: &str = "/api/2.0/mlflow-artifacts";
/// The server's largest file; the test's three parts (300,003 bytes) fit.
const MAX_UPLOAD: u64 = 400_000;

/// PUTs a part to its URL without credentials; returns the status, the ETag and the body.
pub(crate) async fn put_part(url: &str, bytes: Vec<u8>) -> Result<(StatusCode, String, Value)> {
    let resp = reqwest::Client::new().put(url).body(bytes).send().await?;
    let status = resp.status();
    let etag = header_text(resp.headers(), "etag");
    Ok((status, etag, crate::json(resp).await?))
}

/// `POST mpu/<step>/<location>` as `token`.
async fn mpu(
    api: &Api,
    token: Option<&str>,
    step: &str,
    location: &str,
    body: Value,
) -> Result<(StatusCode, Value)> {
    let path = format!("{A}/mpu/{step}/{location}");
    api.send_as(token, Method::POST, &path, Some(&body)).await
}

#[tokio::test]
async fn multipart_uploads_become_one_artifact_and_refuse_bad_input() -> Result<()> {
    let (api, tokens) = server_with_members(
        ServerOptions {
            max_upload_bytes: Some(MAX_UPLOAD),
            ..ServerOptions::default()
        },
        &[
            ("dana", "contributor"),
            ("erin", "contributor"),
            ("vic", "viewer"),
        ],
    )
    .await?;
    let (dana, erin, vic) = (
        Some(tokens[0].as_str()),
        Some(tokens[1].as_str()),
        Some(tokens[2].as_str()),
    );
    let experiment = api
        .send_as(
            dana,
            Method::POST,
            "/api/2.0/mlflow/experiments/create",
            Some(&json!({"name": "big-files"})),
        )
        .await?;
    expect_status(&experiment, 200);
    let experiment = experiment.1["experiment_id"]
        .as_str()
        .context("id")?
        .to_owned();
    let run = api
        .send_as(
            dana,
            Method::POST,
            "/api/2.0/mlflow/runs/create",
            Some(&json!({"experiment_id": experiment})),
        )
        .await?;
    expect_status(&run, 200);
    let run = run.1["run"]["info"]["run_id"]
        .as_str()
        .context("run id")?
        .to_owned();
    let location = format!("{experiment}/{run}/artifacts/weights");
    // Refused creations.
    for (body, needle) in [
        (json!({"path": "/tmp/x"}), "num_parts is required"),
        (
            json!({"num_parts": 1}),
            "path (the local file's name) is required",
        ),
        (
            json!({"path": "/tmp/", "num_parts": 1}),
            "does not end with a file name",
        ),
        (json!({"path": "x", "num_parts": 0}), "between 1 and 10000"),
        (
            json!({"path": "x", "num_parts": 10_001}),
            "between 1 and 10000",
        ),
        (json!({"path": "x", "num_parts": "many"}), "int64"),
        (json!({"num_parts": 2, "path": "a\u{0}b"}), "NUL"),
    ] {
        let message = mlflow_error(
            &mpu(&api, dana, "create", &location, body).await?,
            400,
            "INVALID_PARAMETER_VALUE",
        );
        assert!(message.contains(needle), "{message}");
    }
    mlflow_error(
        &mpu(
            &api,
            dana,
            "create",
            &format!("{experiment}/{run}/nothing"),
            json!({"path": "x", "num_parts": 1}),
        )
        .await?,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    mlflow_error(
        &mpu(
            &api,
            dana,
            "create",
            "nowhere/at/all",
            json!({"path": "x", "num_parts": 1}),
        )
        .await?,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    mlflow_error(
        &mpu(
            &api,
            dana,
            "create",
            &format!("{experiment}/{}/artifacts", "0".repeat(32)),
            json!({"path": "a.bin", "num_parts": 1}),
        )
        .await?,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );
    mlflow_error(
        &mpu(
            &api,
            None,
            "create",
            &location,
            json!({"path": "a", "num_parts": 1}),
        )
        .await?,
        401,
        "UNAUTHENTICATED",
    );
    mlflow_error(
        &mpu(
            &api,
            vic,
            "create",
            &location,
            json!({"path": "a", "num_parts": 1}),
        )
        .await?,
        403,
        "PERMISSION_DENIED",
    );

    // An upload of three parts: part URLs on this server, one per part.
    let created = mpu(
        &api,
        dana,
        "create",
        &location,
        json!({"path": "/home/dana/model.bin", "num_parts": "3"}),
    )
    .await?;
    expect_status(&created, 200);
    let upload = created.1["upload_id"]
        .as_str()
        .context("upload id")?
        .to_owned();
    assert_eq!(upload.len(), 64, "two UUIDv4s, hex");
    let credentials = created.1["credentials"].as_array().context("credentials")?;
    assert_eq!(credentials.len(), 3, "{}", created.1);
    let urls: Vec<String> = credentials
        .iter()
        .enumerate()
        .map(|(i, c)| {
            assert_eq!(c["part_number"], i + 1, "{c}");
            assert_eq!(c["headers"], json!({}), "{c}");
            c["url"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    assert_eq!(
        urls[0],
        api.server
            .url(&format!("{A}/mpu/part/{upload}/1"))
            .to_string()
    );
    let parts: Vec<Vec<u8>> = (0..3u8)
        .map(|k| {
            (0..(100_000 + usize::from(k)))
                .map(|i| (i % 251) as u8 ^ k)
                .collect()
        })
        .collect();

    // Part 2 first (the client sends them in parallel), then part 1 twice: the last one counts.
    let (status, etag2, _) = put_part(&urls[1], parts[1].clone()).await?;
    assert_eq!(status, 200);
    assert_eq!(etag2, format!("\"{}\"", sha256_hex(&parts[1])));
    let complete_body = |etags: &[(i64, &str)]| {
        json!({
            "path": "/home/dana/model.bin",
            "upload_id": upload,
            "parts": etags
                .iter()
                .map(|(n, e)| json!({"part_number": n, "etag": e, "url": "ignored"}))
                .collect::<Vec<_>>(),
        })
    };
    let message = mlflow_error(
        &mpu(
            &api,
            dana,
            "complete",
            &location,
            complete_body(&[(1, "\"x\""), (2, &etag2), (3, "\"y\"")]),
        )
        .await?,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    assert!(message.contains("part 1 was never uploaded"), "{message}");
    let (status, _, _) = put_part(&urls[0], b"not the first part".to_vec()).await?;
    assert_eq!(status, 200);
    let (status, etag1, _) = put_part(&urls[0], parts[0].clone()).await?;
    assert_eq!(status, 200);
    let (status, etag3, _) = put_part(&urls[2], parts[2].clone()).await?;
    assert_eq!(status, 200);

    // Parts outside the upload, and uploads that do not exist.
    let message = mlflow_error(
        &put_part(
            &api.server.url(&format!("{A}/mpu/part/{upload}/4")),
            vec![1],
        )
        .await
        .map(|r| (r.0, r.2))?,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    assert!(
        message.contains("outside this upload's parts 1 to 3"),
        "{message}"
    );
    mlflow_error(
        &put_part(
            &api.server.url(&format!("{A}/mpu/part/{upload}/first")),
            vec![1],
        )
        .await
        .map(|r| (r.0, r.2))?,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    mlflow_error(
        &put_part(
            &api.server
                .url(&format!("{A}/mpu/part/{}/1", "f".repeat(64))),
            vec![1],
        )
        .await
        .map(|r| (r.0, r.2))?,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );

    // Completion checks the list against what arrived.
    for (body, needle) in [
        (
            complete_body(&[(1, &etag1), (2, &etag2)]),
            "has 3 parts; the request lists 2",
        ),
        (
            complete_body(&[(2, &etag2), (1, &etag1), (3, &etag3)]),
            "in order",
        ),
        (
            complete_body(&[(1, &etag1), (2, &etag3), (3, &etag3)]),
            "ETag",
        ),
    ] {
        let message = mlflow_error(
            &mpu(&api, dana, "complete", &location, body).await?,
            400,
            "INVALID_PARAMETER_VALUE",
        );
        assert!(message.contains(needle), "{message}");
    }
    let good = complete_body(&[(1, &etag1), (2, &etag2), (3, &etag3)]);
    // Only its creator completes it, at its own location: another contributor may not write
    // the run at all, and an administrator, who may, does not hold the upload.
    mlflow_error(
        &mpu(&api, erin, "complete", &location, good.clone()).await?,
        403,
        "PERMISSION_DENIED",
    );
    mlflow_error(
        &api.post(&format!("{A}/mpu/complete/{location}"), good.clone())
            .await?,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );
    mlflow_error(
        &mpu(
            &api,
            dana,
            "complete",
            &format!("{experiment}/{run}/artifacts/weights/other"),
            good.clone(),
        )
        .await?,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );
    mlflow_error(
        &mpu(&api, vic, "complete", &location, good.clone()).await?,
        403,
        "PERMISSION_DENIED",
    );
    let done = mpu(&api, dana, "complete", &location, good.clone()).await?;
    expect_status(&done, 200);
    assert_eq!(done.1, json!({}));

    // One artifact, the parts in order, readable through both APIs; the upload is gone.
    let whole = parts.concat();
    let (status, headers, bytes) = api
        .download(&format!("{A}/artifacts/{location}/model.bin"))
        .await?;
    assert_eq!(status, 200);
    assert_eq!(
        headers.get("etag").and_then(|v| v.to_str().ok()),
        Some(format!("\"{}\"", sha256_hex(&whole)).as_str()),
        "stored under the whole file's hash"
    );
    assert!(bytes == whole, "the stored file is not the parts in order");
    let listed = api
        .get(&format!("/api/v1/runs/{run}/artifacts?path=weights"))
        .await?;
    expect_status(&listed, 200);
    assert_eq!(
        listed.1["files"][0]["path"], "weights/model.bin",
        "{}",
        listed.1
    );
    assert_eq!(listed.1["files"][0]["byte_size"], whole.len());
    mlflow_error(
        &mpu(&api, dana, "complete", &location, good).await?,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );
    let (status, _, _) = put_part(&urls[0], parts[0].clone()).await?;
    assert_eq!(status, 404, "a completed upload takes no more parts");
    let audit = items(&api.get("/api/v1/audit?project=default&actor=dana").await?);
    assert!(
        audit.iter().any(|e| e["resource"]
            .as_str()
            .is_some_and(|r| r.ends_with("/artifact/weights/model.bin"))),
        "{audit:?}"
    );

    // The same path with other bytes is refused at completion (artifacts are immutable).
    let again = mpu(
        &api,
        dana,
        "create",
        &location,
        json!({"path": "model.bin", "num_parts": 1}),
    )
    .await?;
    expect_status(&again, 200);
    let again_id = again.1["upload_id"].as_str().context("id")?.to_owned();
    let url = again.1["credentials"][0]["url"]
        .as_str()
        .context("url")?
        .to_owned();
    let (_, etag, _) = put_part(&url, b"different bytes".to_vec()).await?;
    let message = mlflow_error(
        &mpu(&api,
            dana,
            "complete",
            &location,
            json!({"path": "model.bin", "upload_id": again_id, "parts": [{"part_number": 1, "etag": etag}]}),
        )
        .await?,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    assert!(message.contains("weights/model.bin"), "{message}");
    // The refused upload stays open for the client's abort.
    expect_status(
        &mpu(
            &api,
            dana,
            "abort",
            &location,
            json!({"path": "model.bin", "upload_id": again_id}),
        )
        .await?,
        200,
    );

    // An upload's parts together may not pass the largest file: the part that would is refused
    // (and a replaced part counts once).
    let sized = mpu(
        &api,
        dana,
        "create",
        &location,
        json!({"path": "huge.bin", "num_parts": 3}),
    )
    .await?;
    let sized_id = sized.1["upload_id"].as_str().context("id")?.to_owned();
    let part = |n: u32| api.server.url(&format!("{A}/mpu/part/{sized_id}/{n}"));
    for _ in 0..3 {
        let (status, _, _) = put_part(&part(1), vec![1; 200_000]).await?;
        assert_eq!(status, 200, "sending a part again replaces it");
    }
    let (status, _, _) = put_part(&part(2), vec![2; 150_000]).await?;
    assert_eq!(status, 200);
    let (status, _, body) = put_part(&part(3), vec![3; 60_000]).await?;
    let message = mlflow_error(&(status, body), 400, "INVALID_PARAMETER_VALUE");
    assert!(message.contains("400000 bytes"), "{message}");
    expect_status(
        &mpu(
            &api,
            dana,
            "abort",
            &location,
            json!({"path": "huge.bin", "upload_id": sized_id}),
        )
        .await?,
        200,
    );

    // Abort forgets the upload and its parts.
    let tmp_location = format!("{experiment}/{run}/artifacts");
    let aborted = mpu(
        &api,
        dana,
        "create",
        &tmp_location,
        json!({"path": "/work/tmp.bin", "num_parts": 2}),
    )
    .await?;
    let aborted_id = aborted.1["upload_id"].as_str().context("id")?.to_owned();
    let url = aborted.1["credentials"][0]["url"]
        .as_str()
        .context("url")?
        .to_owned();
    let (status, _, _) = put_part(&url, vec![7; 10]).await?;
    assert_eq!(status, 200);
    let abort_body = json!({"path": "/work/tmp.bin", "upload_id": aborted_id});
    mlflow_error(
        &mpu(&api, erin, "abort", &tmp_location, abort_body.clone()).await?,
        403,
        "PERMISSION_DENIED",
    );
    mlflow_error(
        &api.post(&format!("{A}/mpu/abort/{tmp_location}"), abort_body.clone())
            .await?,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );
    expect_status(
        &mpu(&api, dana, "abort", &tmp_location, abort_body.clone()).await?,
        200,
    );
    mlflow_error(
        &mpu(&api, dana, "abort", &tmp_location, abort_body).await?,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );
    let (status, _, _) = put_part(&url, vec![7; 10]).await?;
    assert_eq!(status, 404);
    // Staged parts are discarded in the background: completed, refused and aborted uploads
    // leave nothing in the temporary area.
    let mut left = crate::tmp_files(&api);
    for _ in 0..50 {
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        left = crate::tmp_files(&api);
    }
    assert!(left.is_empty(), "staged parts left behind: {left:?}");
    let missing = api
        .get(&format!("/api/v1/runs/{run}/artifacts?path=tmp.bin"))
        .await?;
    assert!(
        missing.1["files"].as_array().is_none_or(Vec::is_empty),
        "{}",
        missing.1
    );
    Ok(())
}
