//! Accounts and look-ups after the security review (issue 14): password changes end other
//! credentials, resets revoke tokens, ids of other projects cannot be probed, the first
//! administrator's password stays out of the log, and `verity audit verify` changes nothing.

use anyhow::{Context, Result};
use reqwest::Method;
use serde_json::{Value, json};
use verity_tests::ServerOptions;

use crate::mlflow::server_with_members;
use crate::{Api, BIN, expect_error, expect_status, verity_command};

#[tokio::test]
async fn password_changes_end_other_credentials() -> Result<()> {
    let (api, tokens) =
        server_with_members(ServerOptions::default(), &[("carl", "viewer")]).await?;
    let first = tokens[0].clone();
    let second = api.server.login_token("carl", "carl-password-1234").await?;
    let me = |token: String| {
        let api = &api;
        async move { api.get_as(&token, "/api/v1/auth/me").await }
    };
    expect_status(&me(second.clone()).await?, 200);

    // Bad input: a wrong current password (audited, counted by the login limits), a short new
    // one, unknown fields, no body.
    let change = |token: String, body: Value| {
        let api = &api;
        async move {
            api.send_as(
                Some(&token),
                Method::POST,
                "/api/v1/auth/password",
                Some(&body),
            )
            .await
        }
    };
    let wrong = change(
        first.clone(),
        json!({"current_password": "not-the-password", "new_password": "a-new-password-5678"}),
    )
    .await?;
    expect_error(&wrong, 403, "wrong_password");
    let short = change(
        first.clone(),
        json!({"current_password": "carl-password-1234", "new_password": "short"}),
    )
    .await?;
    expect_error(&short, 400, "invalid_argument");
    let unknown = change(
        first.clone(),
        json!({"current_password": "carl-password-1234", "new_password": "a-new-password-5678", "user": "admin"}),
    )
    .await?;
    assert_eq!(unknown.0, 422, "{}", unknown.1);
    let anonymous = api
        .server
        .client()
        .post(api.server.url("/api/v1/auth/password"))
        .header("authorization", "Bearer nope")
        .json(&json!({"current_password": "x", "new_password": "a-new-password-5678"}))
        .send()
        .await?;
    assert_eq!(anonymous.status(), 401);
    // A read-only token cannot be used to end the user's other credentials.
    let read_only = api
        .send_as(
            Some(&first),
            Method::POST,
            "/api/v1/tokens",
            Some(&json!({"name": "ro", "read_only": true})),
        )
        .await?;
    expect_status(&read_only, 201);
    let read_only = read_only.1["token"].as_str().context("token")?.to_owned();
    let refused = change(
        read_only,
        json!({"current_password": "carl-password-1234", "new_password": "a-new-password-5678"}),
    )
    .await?;
    expect_error(&refused, 403, "forbidden");

    // Carl changes his password with his first token: it keeps working, the other is revoked.
    let changed = change(
        first.clone(),
        json!({"current_password": "carl-password-1234", "new_password": "a-new-password-5678"}),
    )
    .await?;
    assert_eq!(changed.0, 204, "{}", changed.1);
    expect_status(&me(first.clone()).await?, 200);
    expect_error(&me(second).await?, 401, "unauthenticated");
    assert!(
        api.server
            .login_token("carl", "carl-password-1234")
            .await
            .is_err(),
        "the old password no longer logs in"
    );
    let third = api
        .server
        .login_token("carl", "a-new-password-5678")
        .await?;
    expect_status(&me(third.clone()).await?, 200);

    // An administrator's reset revokes every token and ends every session.
    expect_status(
        &api.patch(
            "/api/v1/users/carl",
            json!({"password": "reset-by-the-admin-9999"}),
        )
        .await?,
        200,
    );
    expect_error(&me(first).await?, 401, "unauthenticated");
    expect_error(&me(third).await?, 401, "unauthenticated");
    let audit = api.get("/api/v1/audit?action=user.update&limit=10").await?;
    let details = audit.1["items"][0]["details"].clone();
    assert_eq!(details["tokens_revoked"], 2, "{details}");
    Ok(())
}

#[tokio::test]
async fn session_cookies_are_secure_behind_https() -> Result<()> {
    let api = Api::start(ServerOptions {
        admin_password: Some("secure-admin-password".into()),
        ..ServerOptions::default()
    })?;
    for (header, value, secure) in [
        ("x-forwarded-proto", "https", true),
        ("forwarded", "for=192.0.2.1;proto=https", true),
        ("forwarded", "proto=http", false),
        ("x-request-id", "plain-http", false),
    ] {
        let resp = api
            .server
            .client()
            .post(api.server.url("/api/v1/auth/login"))
            .header(header, value)
            .json(&json!({"username": "admin", "password": "secure-admin-password"}))
            .send()
            .await?;
        assert_eq!(resp.status(), 200);
        let cookie = resp
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .context("a session cookie")?
            .to_owned();
        assert_eq!(
            cookie.split(';').any(|a| a.trim() == "Secure"),
            secure,
            "{header}: {value} gave {cookie}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn ids_of_other_projects_cannot_be_probed() -> Result<()> {
    let (api, tokens) = server_with_members(ServerOptions::default(), &[("otto", "owner")]).await?;
    let otto = tokens[0].as_str();
    // A second project Otto is not a member of, with a dataset version and a run.
    api.project("hidden").await?;
    api.dataset("hidden", "d").await?;
    let version = api
        .upload_version("hidden", "d", Some("text/csv"), crate::csv_bytes(3, "h"))
        .await?;
    let hidden_id = version.1["id"].as_i64().context("version id")?;
    let missing_id = hidden_id + 1000;
    let (_, hidden_run) = api.project_with_run("other").await?;
    let admin_token = api
        .post("/api/v1/tokens", json!({"name": "admins"}))
        .await?;
    let admin_token_id = admin_token.1["id"].as_i64().context("token id")?;

    // The same answer for "there is none" and "it is not yours".
    let existing = api
        .get_as(otto, &format!("/api/v1/dataset-versions/{hidden_id}"))
        .await?;
    let absent = api
        .get_as(otto, &format!("/api/v1/dataset-versions/{missing_id}"))
        .await?;
    expect_error(&existing, 404, "dataset_version_not_found");
    expect_error(&absent, 404, "dataset_version_not_found");
    let existing = api
        .get_as(
            otto,
            &format!("/api/v1/lineage?kind=dataset_version&id={hidden_id}"),
        )
        .await?;
    let absent = api
        .get_as(
            otto,
            &format!("/api/v1/lineage?kind=dataset_version&id={missing_id}"),
        )
        .await?;
    expect_error(&existing, 404, "dataset_version_not_found");
    expect_error(&absent, 404, "dataset_version_not_found");
    let existing = api
        .send_as(
            Some(otto),
            Method::DELETE,
            &format!("/api/v1/tokens/{admin_token_id}"),
            None,
        )
        .await?;
    let absent = api
        .send_as(Some(otto), Method::DELETE, "/api/v1/tokens/999999", None)
        .await?;
    expect_error(&existing, 404, "token_not_found");
    expect_error(&absent, 404, "token_not_found");
    assert_eq!(
        existing.1["error"]["message"]
            .as_str()
            .map(|m| m.replace(&admin_token_id.to_string(), "N")),
        absent.1["error"]["message"]
            .as_str()
            .map(|m| m.replace("999999", "N")),
    );
    // Datasets of a project the caller is not in: 403 whether they exist or not.
    for dataset in ["d", "no-such-dataset"] {
        let reply = api
            .send_as(
                Some(otto),
                Method::PATCH,
                &format!("/api/v1/projects/hidden/datasets/{dataset}"),
                Some(&json!({"description": "x"})),
            )
            .await?;
        expect_error(&reply, 403, "forbidden");
    }
    // Refusals naming another project's version do not name that project.
    let (_, run) = api.project_with_run("mine").await?;
    let linked = api
        .post(
            &format!("/api/v1/runs/{run}/inputs"),
            json!({"dataset_version_id": hidden_id}),
        )
        .await?;
    assert!(linked.0.is_client_error(), "{}", linked.1);
    assert!(!linked.1.to_string().contains("hidden"), "{}", linked.1);
    let linked = api
        .post(
            &format!("/api/v1/runs/{hidden_run}/inputs"),
            json!({"dataset_version_id": hidden_id}),
        )
        .await?;
    assert!(!linked.1.to_string().contains("'hidden'"), "{}", linked.1);
    // The denials are audited all the same.
    let denied = api
        .get("/api/v1/audit?outcome=denied&actor=otto&limit=100")
        .await?;
    let count = denied.1["items"].as_array().map_or(0, Vec::len);
    assert!(count >= 5, "{}", denied.1);
    Ok(())
}

#[tokio::test]
async fn the_generated_admin_password_goes_to_standard_error_only() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut child = std::process::Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("VERITY_LOG", "debug")
        .env_remove("VERITY_ADMIN_PASSWORD")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().context("stdout")?;
    let stderr = child.stderr.take().context("stderr")?;
    // Read standard error all along: a full pipe would stop the server.
    let err_reader = std::thread::spawn(move || std::io::read_to_string(stderr));
    let out_reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut lines = Vec::new();
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let done = line.starts_with("verity listening on");
            lines.push(line);
            if done {
                break;
            }
        }
        lines
    });
    let out = out_reader
        .join()
        .map_err(|_| anyhow::anyhow!("stdout reader"))?;
    child.kill()?;
    child.wait()?;
    let err = err_reader
        .join()
        .map_err(|_| anyhow::anyhow!("stderr reader"))??;
    assert!(
        out.iter().all(|l| !l.contains("password")),
        "standard output shows no password: {out:?}"
    );
    let line = err
        .lines()
        .find(|l| l.contains("created the first administrator 'admin' with the password"))
        .context("the password on standard error")?;
    let password = line.rsplit(' ').next().context("password")?.trim();
    assert!(password.len() >= 20, "{line}");
    // Log lines (they carry a level) never quote it.
    for l in err.lines().filter(|l| l.contains(password)) {
        assert!(
            !["TRACE", "DEBUG", " INFO", " WARN", "ERROR"]
                .iter()
                .any(|level| l.contains(level)),
            "a log line quotes the password: {l}"
        );
    }
    assert_eq!(err.lines().filter(|l| l.contains(password)).count(), 1);
    Ok(())
}

#[tokio::test]
async fn audit_verify_reads_only() -> Result<()> {
    // Nothing there: an error, and nothing created.
    let empty = tempfile::tempdir()?;
    let missing = empty.path().join("no-such-dir");
    let (code, _, err) = verity_command(
        "audit",
        &["verify", "--data-dir", missing.to_str().context("path")?],
    )?;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no Verity database"), "{err}");
    assert!(!missing.exists(), "verify created the data directory");

    // A database with events: verified without a byte of it changing.
    let api = crate::server()?;
    api.project("p").await?;
    let dir = api.server.stop().context("the data directory")?;
    let db = dir.path().join("verity.db");
    let before = std::fs::read(&db)?;
    let listing = |p: &std::path::Path| -> Result<Vec<String>> {
        let mut names: Vec<String> = std::fs::read_dir(p)?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        Ok(names)
    };
    let files_before = listing(dir.path())?;
    let (code, out, err) = verity_command(
        "audit",
        &["verify", "--data-dir", dir.path().to_str().context("path")?],
    )?;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("audit trail intact"), "{out}");
    assert_eq!(std::fs::read(&db)?, before, "verify changed the database");
    let after: Vec<String> = listing(dir.path())?
        .into_iter()
        .filter(|n| !n.ends_with("-shm") && !n.ends_with("-wal"))
        .collect();
    let before: Vec<String> = files_before
        .into_iter()
        .filter(|n| !n.ends_with("-shm") && !n.ends_with("-wal"))
        .collect();
    assert_eq!(after, before);
    Ok(())
}
