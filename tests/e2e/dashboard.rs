//! The dashboard's server side: the built files under `/ui` (or a clear answer when the binary
//! was built without them), and what the dashboard asks to offer only allowed actions:
//! `GET /auth/me`'s CSRF token and global actions, `GET /projects/{p}/access`.

use std::path::Path;

use anyhow::{Context, Result};
use reqwest::Method;
use serde_json::{Value, json};
use verity_tests::ServerOptions;

use crate::mlflow::server_with_members;
use crate::{Api, expect_error, expect_status, header_text};

/// Where `npm run build` puts the dashboard (debug builds read it from disk).
fn dist() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../frontend/dist"))
}

#[tokio::test]
async fn dashboard_is_served_under_ui() -> Result<()> {
    let api = Api::start(ServerOptions::default())?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    for from in ["/", "/ui"] {
        let answer = client.get(api.server.url(from)).send().await?;
        assert_eq!(answer.status(), 307, "{from}");
        assert_eq!(header_text(answer.headers(), "location"), "/ui/");
    }
    // The server's own open files (its SQLite database among them) behind /proc symlinks.
    for fd in 0..24 {
        let answer = client
            .get(api.server.url(&format!("/ui/%2Fproc%2Fself%2Ffd%2F{fd}")))
            .send()
            .await?;
        let bytes = answer.bytes().await?;
        assert!(
            !bytes.windows(15).any(|w| w == b"SQLite format 3"),
            "fd {fd}: the database was served"
        );
    }
    let index = dist().join("index.html");
    let page = client
        .get(api.server.url("/ui/projects/demo"))
        .send()
        .await?;
    if !index.exists() {
        // Built without Node: every page says how to build the dashboard.
        assert_eq!(page.status(), 503);
        let body: Value = page.json().await?;
        assert_eq!(body["error"]["code"], "dashboard_not_built");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("npm")
        );
        return Ok(());
    }
    let built = std::fs::read(&index)?;
    // Pages of the dashboard (no file extension) all get index.html, with a strict policy.
    // Names may hold dots: `team.ml` and `iris.csv` are pages, not files.
    for page in [
        "/ui/",
        "/ui/projects/demo",
        "/ui/runs/0123abcd",
        "/ui/projects/team.ml",
        "/ui/projects/p/datasets/iris.csv",
    ] {
        let answer = client.get(api.server.url(page)).send().await?;
        assert_eq!(answer.status(), 200, "{page}");
        let headers = answer.headers().clone();
        assert!(header_text(&headers, "content-type").starts_with("text/html"));
        assert_eq!(header_text(&headers, "cache-control"), "no-cache");
        let policy = header_text(&headers, "content-security-policy");
        assert!(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"));
        assert_eq!(header_text(&headers, "x-content-type-options"), "nosniff");
        assert_eq!(answer.bytes().await?.as_ref(), built.as_slice(), "{page}");
    }
    // The scripts index.html names are served, cached for good, and revalidate by ETag.
    let html = String::from_utf8(built)?;
    let script = html
        .split("src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .context("index.html names no script")?;
    assert!(script.starts_with("/ui/assets/"), "{script}");
    let asset = client.get(api.server.url(script)).send().await?;
    assert_eq!(asset.status(), 200);
    let headers = asset.headers().clone();
    assert!(header_text(&headers, "content-type").contains("javascript"));
    assert!(header_text(&headers, "cache-control").contains("immutable"));
    let etag = header_text(&headers, "etag");
    let again = client
        .get(api.server.url(script))
        .header("if-none-match", &etag)
        .send()
        .await?;
    assert_eq!(again.status(), 304);
    let weak = client
        .get(api.server.url(script))
        .header("if-none-match", format!("W/{etag}"))
        .send()
        .await?;
    assert_eq!(weak.status(), 304);
    // A file that is not there is a 404 in the one error shape, not the page.
    for missing in [
        "/ui/assets/nope.js",
        "/ui/assets/nope",
        "/ui/favicon.ico",
        "/ui/.gitignore",
    ] {
        let answer = client.get(api.server.url(missing)).send().await?;
        assert_eq!(answer.status(), 404, "{missing}");
        let body: Value = answer.json().await?;
        assert_eq!(body["error"]["code"], "route_not_found", "{missing}");
    }
    // Only GET: the dashboard's paths take no writes.
    let put = client
        .put(api.server.url("/ui/"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await?;
    assert_eq!(put.status(), 405);
    Ok(())
}

#[tokio::test]
async fn stored_bytes_never_run_as_pages_of_the_dashboards_origin() -> Result<()> {
    let api = Api::start(ServerOptions::default())?;
    let (_, run) = api.project_with_run("p").await?;
    let page = b"<html><script>alert(document.cookie)</script></html>".to_vec();
    expect_status(&api.put_artifact(&run, "page.html", page).await?, 200);
    let (status, headers, _) = api
        .download(&format!("/api/v1/runs/{run}/artifacts/page.html"))
        .await?;
    assert_eq!(status, 200);
    assert_eq!(header_text(&headers, "x-content-type-options"), "nosniff");
    assert_eq!(header_text(&headers, "content-security-policy"), "sandbox");
    assert!(header_text(&headers, "content-disposition").starts_with("attachment"));
    Ok(())
}

#[tokio::test]
async fn access_and_me_tell_the_dashboard_what_to_offer() -> Result<()> {
    let (api, tokens) = server_with_members(
        ServerOptions::default(),
        &[
            ("vera", "viewer"),
            ("cody", "contributor"),
            ("olga", "owner"),
        ],
    )
    .await?;
    let access = |token: &str, project: &str| {
        let api = &api;
        let (token, path) = (
            token.to_owned(),
            format!("/api/v1/projects/{project}/access"),
        );
        async move { api.get_as(&token, &path).await }
    };
    let strings = |value: &Value| -> Vec<String> {
        value
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };

    let viewer = access(&tokens[0], "default").await?;
    expect_status(&viewer, 200);
    assert_eq!(strings(&viewer.1["roles"]), ["viewer"]);
    let actions = strings(&viewer.1["actions"]);
    assert!(actions.contains(&"run.read".to_owned()));
    assert!(!actions.contains(&"run.create".to_owned()));
    assert!(!actions.contains(&"model.alias".to_owned()));
    assert!(strings(&viewer.1["own_actions"]).is_empty());

    // A contributor changes only their own runs: run.write is an own action.
    let contributor = access(&tokens[1], "default").await?;
    expect_status(&contributor, 200);
    assert!(strings(&contributor.1["actions"]).contains(&"run.create".to_owned()));
    assert!(!strings(&contributor.1["actions"]).contains(&"run.write".to_owned()));
    assert!(strings(&contributor.1["own_actions"]).contains(&"run.write".to_owned()));

    let owner = access(&tokens[2], "default").await?;
    let owner_actions = strings(&owner.1["actions"]);
    assert!(owner_actions.contains(&"project.manage_members".to_owned()));
    assert!(owner_actions.contains(&"audit.read".to_owned()));
    assert!(
        !owner_actions.iter().any(|a| a == "user.manage"),
        "global actions stay out"
    );

    // The answer agrees with what the server then does.
    let refused = api
        .send_as(
            Some(&tokens[0]),
            Method::POST,
            "/api/v1/projects/default/experiments",
            Some(&json!({"name": "nope"})),
        )
        .await?;
    expect_error(&refused, 403, "forbidden");

    // Bad input: an unknown project (admin: 404), a project the caller is not in (403), an
    // over-long name, no credentials.
    let admin = api.get("/api/v1/projects/missing/access").await?;
    expect_error(&admin, 404, "project_not_found");
    expect_status(
        &api.post("/api/v1/projects", json!({"name": "other"}))
            .await?,
        201,
    );
    expect_error(&access(&tokens[0], "other").await?, 403, "forbidden");
    // Names a URL cannot address (`.` and `..` are rewritten by browsers) are refused.
    for name in [".", ".."] {
        let refused = api.post("/api/v1/projects", json!({"name": name})).await?;
        expect_error(&refused, 400, "invalid_argument");
    }
    let long = access(&tokens[0], &"p".repeat(300)).await?;
    assert_eq!(long.0, 400, "{}", long.1);
    let anonymous = api
        .send_as(None, Method::GET, "/api/v1/projects/default/access", None)
        .await?;
    expect_error(&anonymous, 401, "unauthenticated");

    // /auth/me: global actions by role; the CSRF token only for a session.
    let me = api.get_as(&tokens[0], "/api/v1/auth/me").await?;
    assert!(strings(&me.1["global_actions"]).is_empty(), "{}", me.1);
    assert!(me.1["csrf_token"].is_null());
    let admin_me = api.get("/api/v1/auth/me").await?;
    let globals = strings(&admin_me.1["global_actions"]);
    for action in [
        "project.create",
        "user.manage",
        "policy.manage",
        "audit.read_all",
    ] {
        assert!(
            globals.contains(&action.to_owned()),
            "{action}: {globals:?}"
        );
    }
    let (cookie, csrf) = api
        .server
        .login_session("vera", "vera-password-1234")
        .await?;
    // A client of its own: the shared one sends the administrator's token.
    let session_me: Value = reqwest::Client::new()
        .get(api.server.url("/api/v1/auth/me"))
        .header("cookie", &cookie)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(session_me["credential"], "session", "{session_me}");
    // Another origin's page cannot read it: no CORS grant, and no cache keeps it.
    let cross = reqwest::Client::new()
        .get(api.server.url("/api/v1/auth/me"))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .send()
        .await?;
    assert_eq!(cross.status(), 200);
    assert!(cross.headers().get("access-control-allow-origin").is_none());
    assert!(
        cross
            .headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
    assert_eq!(header_text(cross.headers(), "cache-control"), "no-store");
    assert_eq!(session_me["csrf_token"], csrf.as_str());
    Ok(())
}
