//! Abuse of the server by clients without credentials or with few rights (security review,
//! issue 14): audit flooding, over-long names, bodies read before authentication, slow
//! clients, cross-site requests, DNS rebinding, the login limits behind a proxy, storage
//! quotas, expiring multipart uploads and the memory limit of checks.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use verity_tests::ServerOptions;

use crate::mlflow::{mlflow_experiment_with_run, server_with_members};
use crate::{Api, expect_error, expect_status, header_text, items, raw_http};

const ADMIN_PASSWORD: &str = "abuse-admin-password";

/// Options for a server with these environment variables.
fn with_env(env: &[(&str, &str)]) -> ServerOptions {
    ServerOptions {
        env: env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..ServerOptions::default()
    }
}

/// [`with_env`], with authentication on and the administrator's password.
fn with_admin(env: &[(&str, &str)]) -> ServerOptions {
    ServerOptions {
        admin_password: Some(ADMIN_PASSWORD.into()),
        ..with_env(env)
    }
}

/// `host:port` of a server.
fn address(api: &Api) -> String {
    api.server.base().trim_start_matches("http://").to_owned()
}

/// Writes `head` (and `body`) on a fresh connection and reads what comes back within
/// `wait` ([`raw_http::exchange`]); returns the text and how long until the server answered
/// or closed.
async fn exchange(
    api: &Api,
    head: &str,
    body: &[u8],
    wait: Duration,
) -> Result<(String, Duration)> {
    let (answer, took) =
        raw_http::exchange(&address(api), head.to_owned(), body.to_vec(), wait).await?;
    Ok((String::from_utf8_lossy(&answer).into_owned(), took))
}

#[tokio::test]
async fn refused_logins_are_audited_once_per_window_and_request_ids_are_bounded() -> Result<()> {
    let mut api = Api::start(with_admin(&[]))?;
    let long_id = "r".repeat(10_000);
    let mut statuses = Vec::new();
    for i in 0..30 {
        let id = if i == 0 {
            "client-id-1".to_owned()
        } else {
            long_id.clone()
        };
        let resp = api
            .server
            .client()
            .post(api.server.url("/api/v1/auth/login"))
            .header("x-request-id", id)
            .json(&json!({"username": "ghost", "password": "not-a-password-at-all"}))
            .send()
            .await?;
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(&statuses[..5], &[401; 5], "{statuses:?}");
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
    api.server.authenticate_as("admin", ADMIN_PASSWORD).await?;
    let events = items(
        &api.get("/api/v1/audit?action=auth.login&limit=1000")
            .await?,
    );
    let failed: Vec<&Value> = events
        .iter()
        .filter(|e| e["resource"] == "user/ghost")
        .collect();
    let reasons: Vec<&str> = failed
        .iter()
        .filter_map(|e| e["details"]["reason"].as_str())
        .collect();
    assert_eq!(
        reasons.iter().filter(|r| **r == "bad_credentials").count(),
        5,
        "{reasons:?}"
    );
    assert_eq!(
        reasons.iter().filter(|r| **r == "rate_limited").count(),
        1,
        "25 refused attempts write one row: {reasons:?}"
    );
    for event in &failed {
        let id = event["request_id"].as_str().unwrap_or_default();
        assert!(!id.is_empty() && id.len() <= 128, "request id {id:?}");
    }
    assert!(
        failed.iter().any(|e| e["request_id"] == "client-id-1"),
        "a well-formed client id is kept"
    );
    // The id a client sent but the server replaced comes back as the server's.
    let resp = api
        .server
        .client()
        .get(api.server.url("/health"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await?;
    let echoed = header_text(resp.headers(), "x-request-id");
    assert!(
        !echoed.is_empty() && echoed != "bad id with spaces",
        "{echoed}"
    );
    Ok(())
}

#[tokio::test]
async fn overlong_names_are_refused_before_authorization() -> Result<()> {
    let (api, tokens) = server_with_members(ServerOptions::default(), &[("vic", "viewer")]).await?;
    let vic = tokens[0].as_str();
    let name = "n".repeat(300);
    let reply = api
        .get_as(vic, &format!("/api/v1/projects/{name}/datasets"))
        .await?;
    let message = expect_error(&reply, 400, "invalid_argument");
    assert!(message.contains("at most 256"), "{message}");
    // A segment named like a file route's does not exempt what follows from the bound.
    let reply = api
        .get_as(vic, &format!("/api/v1/projects/artifacts/datasets/{name}"))
        .await?;
    expect_error(&reply, 400, "invalid_argument");
    let escaped = "%C3%A9".repeat(300);
    expect_error(
        &api.get_as(vic, &format!("/api/v1/projects/{escaped}"))
            .await?,
        400,
        "invalid_argument",
    );
    let huge = "n".repeat(20_000);
    expect_error(
        &api.get_as(vic, &format!("/api/v1/projects/{huge}/datasets"))
            .await?,
        414,
        "uri_too_long",
    );
    expect_error(
        &api.get_as(vic, &format!("/api/v1/audit?project={name}"))
            .await?,
        400,
        "invalid_argument",
    );
    let big_query = format!("/api/v1/projects?x={}", "q".repeat(40_000));
    expect_error(&api.get_as(vic, &big_query).await?, 414, "uri_too_long");
    // A name of 256 characters is a name: refused by the rules, as any other project of
    // someone else's.
    let at_limit = "n".repeat(256);
    expect_error(
        &api.get_as(vic, &format!("/api/v1/projects/{at_limit}/datasets"))
            .await?,
        403,
        "forbidden",
    );
    // Nothing over-long reached the audit trail.
    let denied = items(&api.get("/api/v1/audit?outcome=denied&limit=1000").await?);
    assert!(!denied.is_empty());
    for event in &denied {
        let resource = event["resource"].as_str().unwrap_or_default();
        assert!(resource.len() < 600, "{} characters", resource.len());
    }
    Ok(())
}

#[tokio::test]
async fn bodies_are_not_read_before_authentication_and_slow_clients_are_cut_off() -> Result<()> {
    let api = Api::start(with_admin(&[
        ("VERITY_HEADER_READ_TIMEOUT_MS", "600"),
        ("VERITY_BODY_READ_TIMEOUT_MS", "600"),
        ("VERITY_BODY_MIN_BYTES_PER_SECOND", "1000"),
    ]))?;
    let host = address(&api);
    // An unauthenticated MLflow call announcing 50 MB is refused at once, body unread.
    let head = format!(
        "POST /api/2.0/mlflow/runs/log-batch HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n\r\n"
    );
    let (answer, took) = exchange(&api, &head, b"{\"run_id\": \"", Duration::from_secs(5)).await?;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer:?}");
    assert!(answer.contains("UNAUTHENTICATED"), "{answer}");
    assert!(took < Duration::from_secs(2), "answered after {took:?}");
    // Logins read at most 16 KiB (over a bare connection: the server answers before it has
    // read the rest, which a client library may report as a broken write).
    let body = format!(
        "{{\"username\": \"admin\", \"password\": \"{}\"}}",
        "p".repeat(100_000)
    );
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (raw, _) =
        crate::raw_http::exchange(&host, head, body.into_bytes(), Duration::from_secs(10)).await?;
    let answer = crate::raw_http::parse(&raw, true).context("an answer to the long login")?;
    assert_eq!(
        answer.status,
        413,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );

    // A client that connects and sends nothing, or only HTTP/2's preface, is closed after the
    // header timeout too.
    for opening in [&b""[..], b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"] {
        let mut stream = TcpStream::connect(&host).await?;
        let started = Instant::now();
        stream.write_all(opening).await?;
        let mut sink = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut sink)).await;
        assert!(read.is_ok(), "a silent connection was kept for 5 s");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "closed after {:?}",
            started.elapsed()
        );
    }

    // Headers sent a line every 200 ms: the connection is closed after the header timeout.
    let mut stream = TcpStream::connect(&host).await?;
    let started = Instant::now();
    stream
        .write_all(format!("GET /health HTTP/1.1\r\nHost: {host}\r\n").as_bytes())
        .await?;
    let mut closed_after = None;
    for i in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if stream
            .write_all(format!("X-Slow-{i}: 1\r\n").as_bytes())
            .await
            .is_err()
        {
            closed_after = Some(started.elapsed());
            break;
        }
        let mut probe = [0u8; 1024];
        match tokio::time::timeout(Duration::from_millis(1), stream.read(&mut probe)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed_after = Some(started.elapsed());
                break;
            }
            Ok(Ok(_)) => {
                // hyper may answer 408 before closing.
                closed_after = Some(started.elapsed());
                break;
            }
            Err(_) => {}
        }
    }
    let closed_after = closed_after.context("a slow client kept its connection for 10 s")?;
    assert!(closed_after < Duration::from_secs(3), "{closed_after:?}");

    // A body sent a byte every 200 ms: 408 once the deadline passes.
    let mut stream = TcpStream::connect(&host).await?;
    stream
        .write_all(
            format!(
                "POST /api/v1/auth/login HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
            )
            .as_bytes(),
        )
        .await?;
    let started = Instant::now();
    let mut answer = Vec::new();
    for _ in 0..50 {
        if stream.write_all(b" ").await.is_err() {
            break;
        }
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                answer.extend_from_slice(&chunk[..n]);
                if raw_http::parse(&answer, false).is_some() {
                    break;
                }
            }
            Err(_) => {}
        }
    }
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(answer.contains("request_timeout"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    // Ordinary clients are unaffected.
    expect_status(&api.get("/health").await?, 200);
    Ok(())
}

#[tokio::test]
async fn browsers_cannot_be_made_to_post_cross_site() -> Result<()> {
    let (api, tokens) =
        server_with_members(ServerOptions::default(), &[("dana", "contributor")]).await?;
    let dana = tokens[0].as_str();
    // MLflow's challenge no longer makes browsers prompt for (and then replay) Basic
    // credentials.
    let resp = api
        .server
        .client()
        .get(api.server.url("/api/2.0/mlflow/experiments/search"))
        .header("authorization", "Basic ZHVkZTp3cm9uZw==")
        .send()
        .await?;
    assert_eq!(resp.status(), 401);
    let challenge = header_text(resp.headers(), "www-authenticate");
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    // What a form can send, with Basic credentials a browser would replay: refused.
    let post = |path: &str, content_type: &str, body: &str, auth: &str| {
        api.server
            .client()
            .post(api.server.url(path))
            .header("content-type", content_type)
            .header("authorization", auth)
            .body(body.to_owned())
            .send()
    };
    use base64::Engine as _;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("dana:{dana}"))
    );
    let experiment = r#"{"name": "csrf"}"#;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/plain; charset=utf-8",
    ] {
        let resp = post(
            "/api/2.0/mlflow/experiments/create",
            content_type,
            experiment,
            &basic,
        )
        .await?;
        assert_eq!(resp.status(), 415, "{content_type}");
        let body: Value = resp.json().await?;
        assert!(body["error_code"].is_string(), "{body}");
    }
    let resp = post(
        "/api/2.0/mlflow/experiments/create",
        "application/json",
        experiment,
        &basic,
    )
    .await?;
    assert_eq!(
        resp.status(),
        200,
        "JSON with Basic is what the MLflow client sends"
    );
    // On /api/v1 too; a Bearer token (which no browser attaches by itself) may send any type.
    let resp = post(
        "/api/v1/projects/default/datasets",
        "text/plain",
        r#"{"name": "d"}"#,
        &basic,
    )
    .await?;
    assert_eq!(resp.status(), 415);
    let body: Value = resp.json().await?;
    assert_eq!(body["error"]["code"], "unsupported_media_type");
    expect_status(
        &api.post("/api/v1/projects/default/datasets", json!({"name": "d"}))
            .await?,
        201,
    );
    let resp = post(
        "/api/v1/projects/default/datasets/d/versions",
        "text/plain",
        "a,b\n1,2\n",
        &format!("Bearer {dana}"),
    )
    .await?;
    assert_eq!(resp.status(), 201);

    // Authentication disabled: no credentials at all, so only the content type and the Host
    // protect the server from other sites' pages.
    let open = Api::start(with_env(&[("VERITY_PUBLIC_HOSTS", "verity.internal:8080")]))?;
    let refused = open
        .send_bytes(
            reqwest::Method::POST,
            "/api/v1/projects",
            Some("text/plain"),
            br#"{"name": "p"}"#.to_vec(),
        )
        .await?;
    expect_error(&refused, 415, "unsupported_media_type");
    let refused = open
        .send_bytes(
            reqwest::Method::POST,
            "/api/v1/projects",
            None,
            br#"{"name": "p"}"#.to_vec(),
        )
        .await?;
    expect_error(&refused, 415, "unsupported_media_type");
    expect_status(
        &open.post("/api/v1/projects", json!({"name": "p"})).await?,
        201,
    );
    for (host, allowed) in [
        ("localhost", true),
        ("127.0.0.1:8080", true),
        ("[::1]", true),
        ("verity.internal", true),
        ("evil.example.com", false),
        ("localhost.evil.example.com", false),
        ("10.0.0.5:8080", false),
    ] {
        let head =
            format!("GET /api/v1/projects HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        let (answer, _) = exchange(&open, &head, b"", Duration::from_secs(5)).await?;
        if allowed {
            assert!(answer.starts_with("HTTP/1.1 200"), "{host}: {answer}");
        } else {
            assert!(answer.starts_with("HTTP/1.1 400"), "{host}: {answer}");
            assert!(answer.contains("host_not_allowed"), "{host}: {answer}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn login_limits_behind_a_trusted_proxy() -> Result<()> {
    let behind = Api::start(with_admin(&[("VERITY_TRUSTED_PROXIES", "127.0.0.1, ::1")]))?;
    let login = |api: &Api, from: &str, password: &str| {
        api.server
            .client()
            .post(api.server.url("/api/v1/auth/login"))
            .header("x-forwarded-for", from)
            .json(&json!({"username": "admin", "password": password}))
            .send()
    };
    // Five wrong passwords from one client lock that client out of `admin`...
    for _ in 0..5 {
        let resp = login(&behind, "6.6.6.6, 198.51.100.1", "wrong-password-guess").await?;
        assert_eq!(resp.status(), 401);
    }
    let resp = login(&behind, "198.51.100.1", ADMIN_PASSWORD).await?;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key("retry-after"));
    // ...but not the administrator at another address, who only waits a little.
    let started = Instant::now();
    let resp = login(&behind, "198.51.100.2", ADMIN_PASSWORD).await?;
    assert_eq!(resp.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let mut behind = behind;
    behind
        .server
        .authenticate_as("admin", ADMIN_PASSWORD)
        .await?;
    let events = items(
        &behind
            .get("/api/v1/audit?action=auth.login&outcome=failure&limit=100")
            .await?,
    );
    assert!(
        events.iter().all(|e| e["client_addr"] == "198.51.100.1"),
        "the client behind the proxy, not the proxy or a forged entry: {events:?}"
    );

    // Without --trusted-proxies the header is the client's own claim, and ignored.
    let direct = Api::start(with_admin(&[]))?;
    for _ in 0..5 {
        let resp = login(&direct, "203.0.113.77", "wrong-password-guess").await?;
        assert_eq!(resp.status(), 401);
    }
    // Forging another address does not escape the lock-out.
    let resp = login(&direct, "203.0.113.78", "wrong-password-guess").await?;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    Ok(())
}

#[tokio::test]
async fn project_quotas_refuse_what_would_pass_them() -> Result<()> {
    let api = Api::start(with_env(&[("VERITY_PROJECT_QUOTA_BYTES", "3000")]))?;
    let (_, run) = api.project_with_run("p").await?;
    api.dataset("p", "d").await?;
    let csv = |salt: &str| crate::csv_bytes(100, salt);
    let first = csv("a");
    assert!(first.len() > 1000 && first.len() < 1500, "{}", first.len());
    expect_status(
        &api.upload_version("p", "d", Some("text/csv"), first.clone())
            .await?,
        201,
    );
    // The same bytes again record nothing new.
    expect_status(
        &api.upload_version("p", "d", Some("text/csv"), first)
            .await?,
        200,
    );
    let second = csv("b");
    expect_status(
        &api.upload_version("p", "d", Some("text/csv"), second)
            .await?,
        201,
    );
    let third = api
        .upload_version("p", "d", Some("text/csv"), csv("c"))
        .await?;
    let message = expect_error(&third, 413, "quota_exceeded");
    assert!(message.contains("quota of 3000 bytes"), "{message}");
    let artifact = api
        .put_artifact(&run, "weights.bin", vec![7u8; 1000])
        .await?;
    expect_error(&artifact, 413, "quota_exceeded");
    let model = api.model("p", "m").await?;
    assert_eq!(model["name"], "m");
    let version = api
        .send_bytes(
            reqwest::Method::POST,
            "/api/v1/projects/p/models/m/versions",
            Some("application/octet-stream"),
            vec![1u8; 1000],
        )
        .await?;
    expect_error(&version, 413, "quota_exceeded");
    // Another project has its own quota.
    api.project("q").await?;
    api.dataset("q", "d").await?;
    expect_status(
        &api.upload_version("q", "d", Some("text/csv"), csv("c"))
            .await?,
        201,
    );
    assert!(
        crate::tmp_files(&api).is_empty(),
        "{:?}",
        crate::tmp_files(&api)
    );
    // MLflow multipart parts count against the quota while they are staged: two open uploads
    // cannot stage more than the project may hold.
    let (experiment, mlflow_run) = crate::mlflow::mlflow_experiment_with_run(&api, "big").await?;
    let mut part_urls = Vec::new();
    for name in ["one", "two"] {
        let created = api
            .post(
                &format!("/api/2.0/mlflow-artifacts/mpu/create/{experiment}/{mlflow_run}/artifacts/{name}"),
                json!({"path": format!("/tmp/{name}.bin"), "num_parts": 1}),
            )
            .await?;
        expect_status(&created, 200);
        part_urls.push(
            created.1["credentials"][0]["url"]
                .as_str()
                .context("part url")?
                .to_owned(),
        );
    }
    let put = reqwest::Client::new()
        .put(&part_urls[0])
        .body(vec![1u8; 2000])
        .send()
        .await?;
    assert_eq!(put.status(), 200);
    let put = reqwest::Client::new()
        .put(&part_urls[1])
        .body(vec![2u8; 2000])
        .send()
        .await?;
    // MLflow's envelope calls a value over a limit INVALID_PARAMETER_VALUE (400).
    assert_eq!(put.status(), 400);
    let body: Value = put.json().await?;
    assert_eq!(body["error_code"], "INVALID_PARAMETER_VALUE");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("quota"),
        "{body}"
    );
    Ok(())
}

#[tokio::test]
async fn multipart_uploads_expire_with_their_parts() -> Result<()> {
    let api = Api::start(with_env(&[("VERITY_MULTIPART_TTL_SECS", "2")]))?;
    let (experiment, run) = mlflow_experiment_with_run(&api, "e").await?;
    let created = api
        .post(
            &format!("/api/2.0/mlflow-artifacts/mpu/create/{experiment}/{run}/artifacts/big"),
            json!({"path": "/tmp/file.bin", "num_parts": 2}),
        )
        .await?;
    expect_status(&created, 200);
    let url = created.1["credentials"][0]["url"]
        .as_str()
        .context("part url")?
        .to_owned();
    let put = reqwest::Client::new()
        .put(&url)
        .body(vec![5u8; 1000])
        .send()
        .await?;
    assert_eq!(put.status(), 200);
    assert!(!crate::tmp_files(&api).is_empty(), "the part is staged");
    // Past its lifetime the upload is gone, and so are its parts.
    let mut gone = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if crate::tmp_files(&api).is_empty() {
            gone = true;
            break;
        }
    }
    assert!(
        gone,
        "staged parts outlived the upload: {:?}",
        crate::tmp_files(&api)
    );
    let put = reqwest::Client::new()
        .put(&url)
        .body(vec![5u8; 1000])
        .send()
        .await?;
    assert_eq!(put.status(), 404);
    let body: Value = put.json().await?;
    assert_eq!(body["error_code"], "RESOURCE_DOES_NOT_EXIST");
    Ok(())
}

#[tokio::test]
async fn checks_run_under_a_memory_limit() -> Result<()> {
    let api = Api::start(with_env(&[("VERITY_CHECK_MEMORY_MB", "4")]))?;
    api.project("p").await?;
    api.dataset("p", "big").await?;
    api.dataset("p", "small").await?;
    let mut csv = String::from("id,code\n");
    for i in 0..200_000 {
        csv.push_str(&format!("{i},value-{i:08}-distinct\n"));
    }
    expect_status(
        &api.upload_version("p", "big", Some("text/csv"), csv.into_bytes())
            .await?,
        201,
    );
    expect_status(
        &api.upload_version("p", "small", Some("text/csv"), crate::csv_bytes(20, "s"))
            .await?,
        201,
    );
    let check = |dataset: &str| {
        api.post(
            "/api/v1/projects/p/checks",
            json!({"check": {"kind": "profile"}, "dataset": dataset}),
        )
    };
    let refused = check("big").await?;
    let message = expect_error(&refused, 413, "check_memory_exceeded");
    assert!(message.contains("limit 4 MiB"), "{message}");
    assert!(
        !message.contains("distinct"),
        "no data in the message: {message}"
    );
    expect_status(&check("small").await?, 201);
    Ok(())
}
