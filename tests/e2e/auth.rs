//! Authentication end to end: dashboard sessions with their CSRF token, API tokens (revoked,
//! expired, malformed, scoped, read-only), login throttling, the hash-chained audit trail, the
//! `verity user|token|audit` commands, and the same core flow on PostgreSQL.
//!
//! Raw changes to the SQLite file (expiring a token, tampering with the audit trail) go through
//! the `sqlite3` command-line tool.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, ensure};
use base64::Engine as _;
use futures::future::join_all;
use reqwest::header::{
    AUTHORIZATION, CONTENT_TYPE, COOKIE, HeaderMap, RETRY_AFTER, SET_COOKIE, WWW_AUTHENTICATE,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use verity_tests::{FreshDatabase, ServerOptions};

use crate::{Api, BIN, csv_bytes, enc, expect_error, expect_status};

/// The first administrator's password in every test here.
const ADMIN_PASSWORD: &str = "admin-password-1234";

/// The hash before the first audit event.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Options for a server with authentication on, on SQLite in a fresh data directory.
fn auth_on() -> ServerOptions {
    ServerOptions {
        admin_password: Some(ADMIN_PASSWORD.to_owned()),
        ..ServerOptions::default()
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// How a request proves who sends it.
#[derive(Debug, Clone)]
enum Cred {
    /// No credentials at all.
    None,
    /// `Authorization: <value>`, exactly as given.
    Authorization(String),
    /// `Cookie: <cookie>`, and `X-CSRF-Token` when given.
    Cookie {
        cookie: String,
        csrf: Option<String>,
    },
}

/// A whole reply.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    /// The body as JSON (`Null` when empty).
    fn json(&self) -> Result<Value> {
        if self.body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body).with_context(|| {
            format!(
                "{}: body is not JSON: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Status and JSON body, the shape `expect_status` and `expect_error` take.
    fn pair(&self) -> Result<(StatusCode, Value)> {
        Ok((self.status, self.json()?))
    }

    /// One header as text.
    fn header(&self, name: impl reqwest::header::AsHeaderName) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

/// A logged-in dashboard session.
#[derive(Debug, Clone)]
struct Session {
    /// `verity_session=vts_...`, ready for a `Cookie` header.
    cookie: String,
    /// The session's CSRF token.
    csrf: String,
    /// The whole `Set-Cookie` header of the login reply.
    set_cookie: String,
}

impl Session {
    /// The secret part of the cookie.
    fn secret(&self) -> &str {
        self.cookie
            .split_once('=')
            .map(|(_, v)| v)
            .unwrap_or_default()
    }
}

/// A client of one server acting with one credential.
#[derive(Clone)]
struct As<'a> {
    api: &'a Api,
    cred: Cred,
}

impl<'a> As<'a> {
    fn anonymous(api: &'a Api) -> Self {
        Self {
            api,
            cred: Cred::None,
        }
    }

    fn bearer(api: &'a Api, token: &str) -> Self {
        Self::authorization(api, &format!("Bearer {token}"))
    }

    fn authorization(api: &'a Api, value: &str) -> Self {
        Self {
            api,
            cred: Cred::Authorization(value.to_owned()),
        }
    }

    /// The session's cookie and its CSRF token.
    fn session(api: &'a Api, session: &Session) -> Self {
        Self {
            api,
            cred: Cred::Cookie {
                cookie: session.cookie.clone(),
                csrf: Some(session.csrf.clone()),
            },
        }
    }

    /// The session's cookie with this CSRF header (or none).
    fn cookie_with_csrf(api: &'a Api, session: &Session, csrf: Option<&str>) -> Self {
        Self {
            api,
            cred: Cred::Cookie {
                cookie: session.cookie.clone(),
                csrf: csrf.map(str::to_owned),
            },
        }
    }

    /// Sends a request with a JSON body or raw bytes (with their Content-Type).
    async fn request(
        &self,
        method: Method,
        path: &str,
        json_body: Option<&Value>,
        bytes: Option<(&str, Vec<u8>)>,
    ) -> Result<Reply> {
        let server = &self.api.server;
        let mut request = server.client().request(method.clone(), server.url(path));
        match &self.cred {
            Cred::None => {}
            Cred::Authorization(value) => request = request.header(AUTHORIZATION, value),
            Cred::Cookie { cookie, csrf } => {
                request = request.header(COOKIE, cookie);
                if let Some(csrf) = csrf {
                    request = request.header("X-CSRF-Token", csrf);
                }
            }
        }
        if let Some(body) = json_body {
            request = request.json(body);
        }
        if let Some((content_type, bytes)) = bytes {
            request = request.header(CONTENT_TYPE, content_type).body(bytes);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        Ok(Reply {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.bytes().await?.to_vec(),
        })
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value)> {
        self.request(method, path, body.as_ref(), None)
            .await?
            .pair()
    }

    async fn get(&self, path: &str) -> Result<(StatusCode, Value)> {
        self.send(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Result<(StatusCode, Value)> {
        self.send(Method::POST, path, Some(body)).await
    }

    async fn put(&self, path: &str, body: Value) -> Result<(StatusCode, Value)> {
        self.send(Method::PUT, path, Some(body)).await
    }

    async fn patch(&self, path: &str, body: Value) -> Result<(StatusCode, Value)> {
        self.send(Method::PATCH, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> Result<(StatusCode, Value)> {
        self.send(Method::DELETE, path, None).await
    }

    /// Creates a project (asserting 201).
    async fn project(&self, name: &str) -> Result<()> {
        let reply = self.post("/api/v1/projects", json!({"name": name})).await?;
        expect_status(&reply, 201);
        Ok(())
    }

    /// Creates a user with a password and a clearance (asserting 201).
    async fn create_user(&self, name: &str, password: &str, clearance: &str) -> Result<()> {
        let reply = self
            .post(
                "/api/v1/users",
                json!({"name": name, "password": password, "clearance": clearance}),
            )
            .await?;
        expect_status(&reply, 201);
        assert_eq!(reply.1["user"]["name"], name);
        assert_eq!(reply.1["user"]["clearance"], clearance);
        assert_eq!(reply.1["user"]["disabled"], false);
        assert!(
            reply.1.get("password").is_none(),
            "a chosen password is never echoed: {}",
            reply.1
        );
        assert!(!reply.1.to_string().contains(password), "{}", reply.1);
        Ok(())
    }

    /// Gives `user` a role in `project` (asserting 200).
    async fn set_role(&self, project: &str, user: &str, role: &str) -> Result<()> {
        let reply = self
            .put(
                &format!("/api/v1/projects/{}/members/{}", enc(project), enc(user)),
                json!({"role": role}),
            )
            .await?;
        expect_status(&reply, 200);
        assert_eq!(reply.1, json!({"user": user, "role": role}));
        Ok(())
    }

    /// Creates an API token (asserting 201); returns the secret and the whole reply.
    async fn create_token(&self, body: Value) -> Result<(String, Value)> {
        let reply = self.post("/api/v1/tokens", body.clone()).await?;
        expect_status(&reply, 201);
        let secret = reply.1["token"]
            .as_str()
            .with_context(|| format!("no token in {}", reply.1))?
            .to_owned();
        assert!(secret.starts_with("vty_"), "{secret}");
        assert_eq!(secret.len(), 4 + 43, "{secret}");
        assert_eq!(
            reply.1["prefix"].as_str(),
            Some(&secret[..12]),
            "{}",
            reply.1
        );
        assert_eq!(reply.1["name"], body["name"]);
        assert!(reply.1["id"].is_i64(), "{}", reply.1);
        assert!(reply.1["revoked_at"].is_null(), "{}", reply.1);
        Ok((secret, reply.1))
    }

    /// Creates an experiment; returns the reply.
    async fn experiment(&self, project: &str, name: &str) -> Result<(StatusCode, Value)> {
        self.post(
            &format!("/api/v1/projects/{}/experiments", enc(project)),
            json!({"name": name}),
        )
        .await
    }

    /// The names of a project's experiments.
    async fn experiment_names(&self, project: &str) -> Result<Vec<String>> {
        let reply = self
            .get(&format!("/api/v1/projects/{}/experiments", enc(project)))
            .await?;
        expect_status(&reply, 200);
        let mut names: Vec<String> = reply.1["items"]
            .as_array()
            .context("items")?
            .iter()
            .filter_map(|e| e["name"].as_str().map(str::to_owned))
            .collect();
        names.sort();
        Ok(names)
    }

    /// The names of the projects this caller sees.
    async fn project_names(&self) -> Result<Vec<String>> {
        let reply = self.get("/api/v1/projects").await?;
        expect_status(&reply, 200);
        let mut names: Vec<String> = reply.1["items"]
            .as_array()
            .context("items")?
            .iter()
            .filter_map(|p| p["name"].as_str().map(str::to_owned))
            .collect();
        names.sort();
        Ok(names)
    }

    /// Every audit event matching `query` (e.g. `project=p`), following `next_cursor` with
    /// small pages so that paging is exercised.
    async fn audit(&self, query: &str) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/audit?limit=37&{query}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={}", enc(c)));
            }
            let reply = self.get(&path).await?;
            expect_status(&reply, 200);
            out.extend(
                reply.1["items"]
                    .as_array()
                    .context("items")?
                    .iter()
                    .cloned(),
            );
            match reply.1["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        Ok(out)
    }
}

/// `POST /api/v1/auth/login` with extra request headers.
async fn login(api: &Api, user: &str, password: &str, headers: &[(&str, &str)]) -> Result<Reply> {
    let server = &api.server;
    let mut request = server
        .client()
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({"username": user, "password": password}));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.context("POST /api/v1/auth/login")?;
    Ok(Reply {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.bytes().await?.to_vec(),
    })
}

/// The session of a successful login reply.
fn session_of(reply: &Reply) -> Result<Session> {
    ensure!(
        reply.status == StatusCode::OK,
        "login failed: {} {}",
        reply.status,
        String::from_utf8_lossy(&reply.body)
    );
    let set_cookie = reply.header(SET_COOKIE).context("no Set-Cookie on login")?;
    let cookie = set_cookie
        .split(';')
        .next()
        .context("empty Set-Cookie")?
        .trim()
        .to_owned();
    let csrf = reply.json()?["csrf_token"]
        .as_str()
        .context("no csrf_token")?
        .to_owned();
    Ok(Session {
        cookie,
        csrf,
        set_cookie,
    })
}

/// Logs in (asserting 200) and returns the session.
async fn log_in(api: &Api, user: &str, password: &str) -> Result<Session> {
    session_of(&login(api, user, password, &[]).await?)
}

/// Logs in as `admin` and returns a client acting with that session (CSRF token included).
async fn admin(api: &Api) -> Result<As<'_>> {
    let session = log_in(api, "admin", ADMIN_PASSWORD).await?;
    Ok(As::session(api, &session))
}

/// Asserts a 401 in the error shape with code `unauthenticated` and the challenge header;
/// returns the message.
#[track_caller]
fn expect_unauthenticated(reply: &Reply) -> String {
    let pair = reply.pair().unwrap_or_else(|e| panic!("{e:#}"));
    let message = expect_error(&pair, 401, "unauthenticated");
    let challenge = reply.header(WWW_AUTHENTICATE).unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer"),
        "401 without a WWW-Authenticate challenge: {:?}",
        reply.headers
    );
    message
}

/// Asserts that `events` is the whole chain: dense sequence numbers from 1, each prev_hash the
/// previous event's hash, the first one's the genesis hash.
#[track_caller]
fn assert_chain(events: &[Value]) {
    let mut prev = GENESIS.to_owned();
    for (i, event) in events.iter().enumerate() {
        assert_eq!(
            event["seq"].as_i64(),
            Some(i as i64 + 1),
            "sequence numbers are dense from 1: {event}"
        );
        assert_eq!(
            event["prev_hash"].as_str(),
            Some(prev.as_str()),
            "prev_hash links to the previous event: {event}"
        );
        let hash = event["hash"].as_str().unwrap_or_default();
        assert_eq!(hash.len(), 64, "{event}");
        prev = hash.to_owned();
    }
}

/// The events of `events` with this action (and outcome, when given).
fn events_with<'e>(events: &'e [Value], action: &str, outcome: Option<&str>) -> Vec<&'e Value> {
    events
        .iter()
        .filter(|e| e["action"] == action && outcome.is_none_or(|o| e["outcome"] == o))
        .collect()
}

/// The SQLite database of a server's data directory.
fn sqlite_file(data_dir: &Path) -> PathBuf {
    data_dir.join("verity.db")
}

/// Runs one SQL statement on a SQLite file with the `sqlite3` tool; returns its output.
fn sqlite(db: &Path, sql: &str) -> Result<String> {
    let out = Command::new("sqlite3")
        .arg("-cmd")
        .arg(".timeout 10000")
        .arg(db)
        .arg(sql)
        .stdin(Stdio::null())
        .output()
        .context("running sqlite3 (the SQLite command-line tool is needed for raw changes)")?;
    ensure!(
        out.status.success(),
        "sqlite3 {sql:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

/// Runs `verity <args> --data-dir <data_dir>`, with `stdin` piped in when given.
fn verity(args: &[&str], data_dir: &Path, stdin: Option<&str>) -> Result<Output> {
    use std::io::Write as _;
    let mut command = Command::new(BIN);
    command
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("VERITY_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = match stdin {
        Some(text) => {
            command.stdin(Stdio::piped());
            let mut child = command.spawn().context("spawning verity")?;
            child
                .stdin
                .take()
                .context("no stdin")?
                .write_all(text.as_bytes())?;
            child.wait_with_output()?
        }
        None => command.stdin(Stdio::null()).output()?,
    };
    Ok(output)
}

/// Like [`verity`], asserting success; returns stdout and stderr.
fn verity_ok(args: &[&str], data_dir: &Path, stdin: Option<&str>) -> Result<(String, String)> {
    let out = verity(args, data_dir, stdin)?;
    let stdout = String::from_utf8(out.stdout)?;
    let stderr = String::from_utf8(out.stderr)?;
    ensure!(
        out.status.success(),
        "verity {args:?} failed ({}): {stdout}{stderr}",
        out.status
    );
    Ok((stdout, stderr))
}

/// Parses the id out of `token <id> for '<user>' (shown once):` on the CLI's stderr.
fn cli_token_id(stderr: &str) -> Result<i64> {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("token "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|id| id.parse().ok())
        .with_context(|| format!("no token id in {stderr:?}"))
}

#[tokio::test]
async fn login_session_cookie_csrf_logout() -> Result<()> {
    let api = Api::start(auth_on())?;
    let anonymous = As::anonymous(&api);

    // Nothing works without credentials.
    let reply = anonymous
        .request(Method::GET, "/api/v1/projects", None, None)
        .await?;
    expect_unauthenticated(&reply);
    let reply = anonymous
        .request(
            Method::POST,
            "/api/v1/projects",
            Some(&json!({"name": "anon"})),
            None,
        )
        .await?;
    expect_unauthenticated(&reply);

    // A wrong password: 401, the challenge, and no cookie.
    let reply = login(&api, "admin", "not-the-password-at-all", &[]).await?;
    let message = expect_unauthenticated(&reply);
    assert!(
        message.contains("invalid user name or password"),
        "{message}"
    );
    assert!(reply.header(SET_COOKIE).is_none(), "{:?}", reply.headers);

    // The login: the cookie's attributes and the CSRF token.
    let before = now_ms();
    let reply = login(&api, "admin", ADMIN_PASSWORD, &[]).await?;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let body = reply.json()?;
    assert_eq!(body["username"], "admin");
    let csrf = body["csrf_token"].as_str().context("csrf_token")?;
    assert_eq!(csrf.len(), 43, "{body}");
    assert!(
        body["expires_at"].as_i64().context("expires_at")? > before + 3600 * 1000,
        "{body}"
    );
    let session = session_of(&reply)?;
    let attributes: Vec<&str> = session.set_cookie.split(';').map(str::trim).collect();
    assert!(
        attributes[0].starts_with("verity_session=vts_") && session.secret().len() == 47,
        "{}",
        session.set_cookie
    );
    for attribute in ["Path=/", "HttpOnly", "SameSite=Strict"] {
        assert!(
            attributes.contains(&attribute),
            "{attribute} in {}",
            session.set_cookie
        );
    }
    assert!(
        !attributes.iter().any(|a| a.eq_ignore_ascii_case("secure")),
        "no Secure over plain HTTP by default: {}",
        session.set_cookie
    );
    assert!(
        !String::from_utf8_lossy(&reply.body).contains(session.secret()),
        "the session id is only in the cookie"
    );

    // Behind a TLS-terminating proxy the cookie is Secure.
    let reply = login(
        &api,
        "admin",
        ADMIN_PASSWORD,
        &[("X-Forwarded-Proto", "https")],
    )
    .await?;
    let other = session_of(&reply)?;
    let attributes: Vec<&str> = other.set_cookie.split(';').map(str::trim).collect();
    assert!(attributes.contains(&"Secure"), "{}", other.set_cookie);
    assert_ne!(other.secret(), session.secret());
    assert_ne!(other.csrf, session.csrf);

    // Reads with the cookie need no CSRF token.
    let no_csrf = As::cookie_with_csrf(&api, &session, None);
    let me = no_csrf.get("/api/v1/auth/me").await?;
    expect_status(&me, 200);
    assert_eq!(me.1["username"], "admin");
    assert_eq!(me.1["credential"], "session");
    assert_eq!(me.1["admin"], true);
    assert_eq!(me.1["clearance"], "restricted");
    assert_eq!(me.1["token_project"], Value::Null);
    assert_eq!(no_csrf.project_names().await?, Vec::<String>::new());

    // Changes with the cookie need the session's own CSRF token.
    let wrong = "A".repeat(43);
    for (label, client) in [
        ("no X-CSRF-Token", no_csrf.clone()),
        (
            "a wrong token",
            As::cookie_with_csrf(&api, &session, Some(&wrong)),
        ),
        (
            "another session's token",
            As::cookie_with_csrf(&api, &session, Some(&other.csrf)),
        ),
        (
            "an empty token",
            As::cookie_with_csrf(&api, &session, Some("")),
        ),
    ] {
        let reply = client
            .post("/api/v1/projects", json!({"name": "p"}))
            .await?;
        let message = expect_error(&reply, 403, "csrf_failed");
        assert!(message.contains("X-CSRF-Token"), "{label}: {message}");
    }
    assert_eq!(
        no_csrf.project_names().await?,
        Vec::<String>::new(),
        "refused changes created nothing"
    );
    let with_csrf = As::session(&api, &session);
    with_csrf.project("p").await?;
    assert_eq!(no_csrf.project_names().await?, vec!["p".to_owned()]);
    // The other session has its own token.
    As::session(&api, &other).project("p2").await?;

    // A bearer token needs no CSRF token (it is not sent by browsers on their own).
    let (token, _) = with_csrf.create_token(json!({"name": "admin-cli"})).await?;
    let bearer = As::bearer(&api, &token);
    let me = bearer.get("/api/v1/auth/me").await?;
    assert_eq!(me.1["credential"], "token");
    expect_status(
        &bearer
            .post("/api/v1/projects", json!({"name": "by-token"}))
            .await?,
        201,
    );
    // Logout is for sessions; tokens are revoked instead.
    let reply = bearer.post("/api/v1/auth/logout", json!({})).await?;
    expect_error(&reply, 400, "invalid_argument");

    // Logout needs the CSRF token too.
    let reply = no_csrf.post("/api/v1/auth/logout", json!({})).await?;
    expect_error(&reply, 403, "csrf_failed");
    expect_status(&no_csrf.get("/api/v1/auth/me").await?, 200);
    let reply = with_csrf
        .request(Method::POST, "/api/v1/auth/logout", None, None)
        .await?;
    assert_eq!(
        reply.status,
        204,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let cleared = reply
        .header(SET_COOKIE)
        .context("logout clears the cookie")?;
    assert!(
        cleared.starts_with("verity_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    // The same cookie is dead, for reads and (CSRF token and all) for changes.
    let reply = with_csrf
        .request(Method::GET, "/api/v1/auth/me", None, None)
        .await?;
    expect_unauthenticated(&reply);
    let reply = with_csrf
        .request(
            Method::POST,
            "/api/v1/projects",
            Some(&json!({"name": "after-logout"})),
            None,
        )
        .await?;
    expect_unauthenticated(&reply);
    let reply = with_csrf
        .request(Method::POST, "/api/v1/auth/logout", None, None)
        .await?;
    expect_unauthenticated(&reply);
    // Only that session ended.
    expect_status(
        &As::session(&api, &other).get("/api/v1/auth/me").await?,
        200,
    );

    // A made-up session cookie.
    let forged = Session {
        cookie: format!("verity_session=vts_{}", "B".repeat(43)),
        csrf: wrong.clone(),
        set_cookie: String::new(),
    };
    let reply = As::session(&api, &forged)
        .request(Method::GET, "/api/v1/projects", None, None)
        .await?;
    expect_unauthenticated(&reply);

    let mut projects = bearer.project_names().await?;
    projects.sort();
    assert_eq!(projects, vec!["by-token", "p", "p2"]);

    // The trail: the refused CSRF attempts, the logins and the logout.
    let events = bearer.audit("").await?;
    assert_chain(&events);
    let csrf_denials = events_with(&events, "auth.csrf", Some("denied"));
    assert_eq!(csrf_denials.len(), 5, "{csrf_denials:?}");
    assert!(csrf_denials.iter().all(|e| e["actor"] == "admin"));
    assert_eq!(events_with(&events, "auth.login", Some("success")).len(), 2);
    assert_eq!(events_with(&events, "auth.login", Some("failure")).len(), 1);
    assert_eq!(
        events_with(&events, "auth.logout", Some("success")).len(),
        1
    );
    Ok(())
}

#[tokio::test]
async fn tokens_revoked_expired_wrong_prefix_malformed_scoped_read_only() -> Result<()> {
    let api = Api::start(auth_on())?;
    let admin = admin(&api).await?;
    let dana_password = "dana-password-123";
    admin.create_user("dana", dana_password, "internal").await?;
    admin.project("p").await?;
    admin.project("q").await?;
    admin.set_role("p", "dana", "maintainer").await?;
    admin.set_role("q", "dana", "maintainer").await?;
    let members = admin.get("/api/v1/projects/p/members").await?;
    expect_status(&members, 200);
    assert!(
        members.1["items"]
            .as_array()
            .context("items")?
            .contains(&json!({"user": "dana", "role": "maintainer"})),
        "{}",
        members.1
    );

    let (normal, normal_meta) = admin
        .create_token(json!({"name": "normal", "user": "dana"}))
        .await?;
    assert_eq!(normal_meta["user"], "dana");
    assert_eq!(normal_meta["read_only"], false);
    assert_eq!(normal_meta["project"], Value::Null);
    assert_eq!(normal_meta["expires_at"], Value::Null);
    let (read_only, read_only_meta) = admin
        .create_token(json!({"name": "ro", "user": "dana", "read_only": true}))
        .await?;
    assert_eq!(read_only_meta["read_only"], true);
    let (scoped, scoped_meta) = admin
        .create_token(json!({"name": "scoped", "user": "dana", "project": "p"}))
        .await?;
    assert_eq!(scoped_meta["project"], "p");
    let (expiring, expiring_meta) = admin
        .create_token(json!({"name": "exp", "user": "dana", "expires_in_days": 1}))
        .await?;
    let created_at = expiring_meta["created_at"].as_i64().context("created_at")?;
    let expires_at = expiring_meta["expires_at"].as_i64().context("expires_at")?;
    assert!(
        (expires_at - created_at - 24 * 3600 * 1000).abs() < 60_000,
        "one day: {expiring_meta}"
    );
    // Out-of-range expiry and unknown projects are refused.
    for body in [
        json!({"name": "x", "user": "dana", "expires_in_days": 0}),
        json!({"name": "x", "user": "dana", "expires_in_days": 3651}),
    ] {
        expect_error(
            &admin.post("/api/v1/tokens", body).await?,
            400,
            "invalid_argument",
        );
    }
    expect_error(
        &admin
            .post(
                "/api/v1/tokens",
                json!({"name": "x", "user": "dana", "project": "nope"}),
            )
            .await?,
        404,
        "project_not_found",
    );
    let secrets = [&normal, &read_only, &scoped, &expiring];

    // The listing shows prefixes, never secrets.
    let listing = admin.get("/api/v1/tokens?user=dana").await?;
    expect_status(&listing, 200);
    let listed = listing.1["items"].as_array().context("items")?;
    assert_eq!(listed.len(), 4, "{}", listing.1);
    let text = listing.1.to_string();
    for (secret, item) in secrets.iter().zip(listed) {
        assert!(!text.contains(secret.as_str()), "a secret in {text}");
        assert!(item.get("token").is_none(), "{item}");
        assert_eq!(item["prefix"].as_str(), Some(&secret[..12]), "{item}");
        assert_eq!(item["user"], "dana");
    }

    // The normal token: who am I, and a change.
    let dana = As::bearer(&api, &normal);
    let me = dana.get("/api/v1/auth/me").await?;
    expect_status(&me, 200);
    assert_eq!(
        me.1,
        json!({"username": "dana", "clearance": "internal", "admin": false, "credential": "token", "token_project": null, "token_read_only": false, "csrf_token": null, "global_actions": []})
    );
    expect_status(&dana.experiment("p", "by-normal").await?, 201);
    // dana sees her own tokens, not other people's.
    let own = dana.get("/api/v1/tokens").await?;
    expect_status(&own, 200);
    assert_eq!(own.1["items"].as_array().map(Vec::len), Some(4));
    expect_error(
        &dana.get("/api/v1/tokens?user=admin").await?,
        403,
        "forbidden",
    );

    // Basic authentication with the token as the password (what MLflow clients send).
    let basic = |user: &str, secret: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"))
        )
    };
    let reply = As::authorization(&api, &basic("dana", &normal))
        .get("/api/v1/projects/p")
        .await?;
    expect_status(&reply, 200);
    let reply = As::authorization(&api, &basic("eve", &normal))
        .request(Method::GET, "/api/v1/projects/p", None, None)
        .await?;
    expect_unauthenticated(&reply);
    let reply = As::authorization(&api, &basic("dana", dana_password))
        .request(Method::GET, "/api/v1/projects/p", None, None)
        .await?;
    expect_unauthenticated(&reply);
    let reply = As::authorization(&api, "Basic !!!not-base64!!!")
        .request(Method::GET, "/api/v1/projects/p", None, None)
        .await?;
    expect_unauthenticated(&reply);

    // Wrong prefix, malformed, unknown, other schemes.
    let reply = As::bearer(&api, "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB")
        .request(Method::GET, "/api/v1/projects", None, None)
        .await?;
    let message = expect_unauthenticated(&reply);
    assert!(message.contains("vty_"), "{message}");
    for malformed in [
        "vty_short".to_owned(),
        format!("vty_{}!", "a".repeat(42)),
        format!("vty_{}a", &normal[4..]),
        "vty_".to_owned(),
    ] {
        let reply = As::bearer(&api, &malformed)
            .request(Method::GET, "/api/v1/projects", None, None)
            .await?;
        let message = expect_unauthenticated(&reply);
        assert!(message.contains("malformed"), "{malformed}: {message}");
    }
    let reply = As::bearer(&api, &format!("vty_{}", "A".repeat(43)))
        .request(Method::GET, "/api/v1/projects", None, None)
        .await?;
    let message = expect_unauthenticated(&reply);
    assert!(message.contains("unknown"), "{message}");
    for header in [
        format!("Token {normal}"),
        normal.clone(),
        "Bearer".to_owned(),
    ] {
        let reply = As::authorization(&api, &header)
            .request(Method::GET, "/api/v1/projects", None, None)
            .await?;
        expect_unauthenticated(&reply);
    }

    // Read-only: reads work, changes are refused and change nothing.
    let ro = As::bearer(&api, &read_only);
    let me = ro.get("/api/v1/auth/me").await?;
    assert_eq!(me.1["token_read_only"], true);
    expect_status(&ro.get("/api/v1/projects/p/experiments").await?, 200);
    let reply = ro.experiment("p", "by-read-only").await?;
    let message = expect_error(&reply, 403, "forbidden");
    assert!(message.contains("read-only"), "{message}");
    // A read-only token cannot mint a writable one, only another read-only one.
    let reply = ro
        .post("/api/v1/tokens", json!({"name": "escalate"}))
        .await?;
    expect_error(&reply, 403, "forbidden");
    let (child, _) = ro
        .create_token(json!({"name": "ro-child", "read_only": true}))
        .await?;
    let reply = As::bearer(&api, &child).experiment("p", "by-child").await?;
    expect_error(&reply, 403, "forbidden");

    // Scoped to p: works there only, and no global actions.
    let sc = As::bearer(&api, &scoped);
    let me = sc.get("/api/v1/auth/me").await?;
    assert_eq!(me.1["token_project"], "p");
    expect_status(&sc.get("/api/v1/projects/p").await?, 200);
    expect_status(&sc.experiment("p", "by-scoped").await?, 201);
    let message = expect_error(&sc.get("/api/v1/projects/q").await?, 403, "forbidden");
    assert!(message.contains("'p'"), "{message}");
    expect_error(&sc.experiment("q", "by-scoped").await?, 403, "forbidden");
    let reply = sc
        .post("/api/v1/projects", json!({"name": "by-scoped"}))
        .await?;
    expect_error(&reply, 403, "forbidden");
    // The project listing only shows p to the scoped token.
    assert_eq!(sc.project_names().await?, vec!["p".to_owned()]);
    // A scoped token mints only tokens with the same scope.
    for body in [
        json!({"name": "wider"}),
        json!({"name": "elsewhere", "project": "q"}),
    ] {
        expect_error(&sc.post("/api/v1/tokens", body).await?, 403, "forbidden");
    }
    let (same_scope, same_meta) = sc
        .create_token(json!({"name": "same-scope", "project": "p"}))
        .await?;
    assert_eq!(same_meta["project"], "p");
    assert_eq!(same_meta["user"], "dana");
    expect_error(
        &As::bearer(&api, &same_scope).experiment("q", "x").await?,
        403,
        "forbidden",
    );

    // Nothing the refusals touched changed.
    assert_eq!(
        admin.experiment_names("p").await?,
        vec!["by-normal", "by-scoped"]
    );
    assert_eq!(admin.experiment_names("q").await?, Vec::<String>::new());
    assert_eq!(admin.project_names().await?, vec!["p", "q"]);
    let listing = admin.get("/api/v1/tokens?user=dana").await?;
    assert_eq!(
        listing.1["items"].as_array().map(Vec::len),
        Some(6),
        "4 + the read-only child + the same-scope one: {}",
        listing.1
    );

    // Revocation takes effect on the next request; revoking twice is a conflict.
    let id = normal_meta["id"].as_i64().context("id")?;
    let reply = admin.delete(&format!("/api/v1/tokens/{id}")).await?;
    expect_status(&reply, 200);
    assert!(reply.1["revoked_at"].is_i64(), "{}", reply.1);
    let reply = dana
        .request(Method::GET, "/api/v1/projects/p", None, None)
        .await?;
    let message = expect_unauthenticated(&reply);
    assert!(message.contains("revoked"), "{message}");
    expect_error(
        &admin.delete(&format!("/api/v1/tokens/{id}")).await?,
        409,
        "conflict",
    );
    expect_error(
        &admin.delete("/api/v1/tokens/999999").await?,
        404,
        "token_not_found",
    );
    // A token's owner may revoke it herself; someone else's is answered as if it did not
    // exist (ids cannot be probed).
    let admin_token_id = admin.create_token(json!({"name": "admin-own"})).await?.1["id"]
        .as_i64()
        .context("id")?;
    expect_error(
        &As::bearer(&api, &scoped)
            .delete(&format!("/api/v1/tokens/{admin_token_id}"))
            .await?,
        404,
        "token_not_found",
    );
    let child_id = ro.get("/api/v1/tokens").await?.1["items"]
        .as_array()
        .context("items")?
        .iter()
        .find(|t| t["name"] == "ro-child")
        .and_then(|t| t["id"].as_i64())
        .context("ro-child")?;
    // A limited (scoped or read-only) token revokes only itself; a full token of the same
    // user revokes her others.
    expect_error(
        &As::bearer(&api, &scoped)
            .delete(&format!("/api/v1/tokens/{child_id}"))
            .await?,
        403,
        "forbidden",
    );
    let (full, _) = admin
        .create_token(json!({"name": "full", "user": "dana"}))
        .await?;
    expect_status(
        &As::bearer(&api, &full)
            .delete(&format!("/api/v1/tokens/{child_id}"))
            .await?,
        200,
    );
    let message = expect_unauthenticated(
        &As::bearer(&api, &child)
            .request(Method::GET, "/api/v1/projects", None, None)
            .await?,
    );
    assert!(message.contains("revoked"), "{message}");

    // Expiry: the token works until its time has passed.
    let exp = As::bearer(&api, &expiring);
    expect_status(&exp.get("/api/v1/projects/p").await?, 200);
    let expiring_id = expiring_meta["id"].as_i64().context("id")?;
    sqlite(
        &sqlite_file(api.server.data_dir()),
        &format!("UPDATE api_tokens SET expires_at = 1 WHERE id = {expiring_id}"),
    )?;
    let reply = exp
        .request(Method::GET, "/api/v1/projects/p", None, None)
        .await?;
    let message = expect_unauthenticated(&reply);
    assert!(message.contains("expired"), "{message}");

    // Disabling dana stops her tokens and her sessions at once.
    let dana_session = log_in(&api, "dana", dana_password).await?;
    let dana_cookie = As::session(&api, &dana_session);
    expect_status(&dana_cookie.get("/api/v1/auth/me").await?, 200);
    expect_status(&sc.get("/api/v1/projects/p").await?, 200);
    let reply = admin
        .patch("/api/v1/users/dana", json!({"disabled": true}))
        .await?;
    expect_status(&reply, 200);
    assert_eq!(reply.1["disabled"], true);
    for secret in [&scoped, &read_only, &same_scope] {
        let reply = As::bearer(&api, secret)
            .request(Method::GET, "/api/v1/projects/p", None, None)
            .await?;
        let message = expect_unauthenticated(&reply);
        assert!(message.contains("disabled"), "{message}");
    }
    let reply = dana_cookie
        .request(Method::GET, "/api/v1/auth/me", None, None)
        .await?;
    expect_unauthenticated(&reply);
    let reply = login(&api, "dana", dana_password, &[]).await?;
    expect_unauthenticated(&reply);
    // Enabling her again brings the tokens back (they were never revoked).
    expect_status(
        &admin
            .patch("/api/v1/users/dana", json!({"disabled": false}))
            .await?,
        200,
    );
    expect_status(&sc.get("/api/v1/projects/p").await?, 200);

    // Every refusal is in the trail (401s are not: nobody was authenticated).
    let denied = admin.audit("actor=dana&outcome=denied").await?;
    let actions: Vec<(&str, &str)> = denied
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default(),
                e["project"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("user.manage", "-"),
            ("experiment.create", "p"),
            ("token.create", "-"),
            ("experiment.create", "p"),
            ("project.read", "q"),
            ("experiment.create", "q"),
            ("project.create", "-"),
            ("token.create", "-"),
            ("token.create", "q"),
            ("experiment.create", "q"),
            ("user.manage", "-"),
            ("token.revoke", "-"),
        ],
        "dana's denials: {denied:#?}"
    );
    assert!(
        denied.iter().all(|e| e["details"]["reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty())),
        "{denied:#?}"
    );
    let everything = admin.audit("").await?;
    assert_chain(&everything);
    let text = serde_json::to_string(&everything)?;
    for secret in secrets.iter().map(|s| s.as_str()).chain([
        child.as_str(),
        same_scope.as_str(),
        dana_password,
        ADMIN_PASSWORD,
    ]) {
        assert!(!text.contains(secret), "a secret in the audit trail");
    }
    Ok(())
}

#[tokio::test]
async fn login_brute_force_gets_429_and_unknown_user_costs_the_same() -> Result<()> {
    // Five failures lock the account for that address, even for the right password.
    let api = Api::start(auth_on())?;
    let admin_client = admin(&api).await?;
    admin_client
        .create_user("bea", "bea-password-1234", "internal")
        .await?;
    for i in 0..5 {
        let reply = login(&api, "admin", &format!("wrong-password-{i}"), &[]).await?;
        expect_unauthenticated(&reply);
    }
    let reply = login(&api, "admin", ADMIN_PASSWORD, &[]).await?;
    let pair = reply.pair()?;
    expect_error(&pair, 429, "too_many_requests");
    let retry_after: u64 = reply
        .header(RETRY_AFTER)
        .context("429 without Retry-After")?
        .parse()?;
    assert!(
        (1..=15 * 60).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    assert!(reply.header(SET_COOKIE).is_none(), "{:?}", reply.headers);
    // Still locked, with the right password or a wrong one.
    let reply = login(&api, "admin", "wrong-password-x", &[]).await?;
    expect_error(&reply.pair()?, 429, "too_many_requests");
    // Another account from the same address is not locked, and sessions already open live on.
    log_in(&api, "bea", "bea-password-1234").await?;
    expect_status(&admin_client.get("/api/v1/auth/me").await?, 200);
    let failures = admin_client
        .audit("action=auth.login&actor=admin&outcome=failure")
        .await?;
    let reasons: Vec<&str> = failures
        .iter()
        .filter_map(|e| e["details"]["reason"].as_str())
        .collect();
    assert_eq!(
        reasons,
        [
            "bad_credentials",
            "bad_credentials",
            "bad_credentials",
            "bad_credentials",
            "bad_credentials",
            // Refusals are audited once per limiter window and address.
            "rate_limited",
        ]
    );
    drop(api);

    // Unknown users and wrong passwords: the same answer in about the same time. A fresh
    // server, so that the address limit (20 a minute) is far away.
    let api = Api::start(auth_on())?;
    let started = Instant::now();
    let admin_client = admin(&api).await?;
    admin_client
        .create_user("tim", "tim-password-1234", "internal")
        .await?;
    let mut attempts = 1;
    let mut unknown = Vec::new();
    let mut wrong = Vec::new();
    let mut answers = Vec::new();
    for i in 0..5 {
        for (user, times) in [("nobody-at-all", &mut unknown), ("tim", &mut wrong)] {
            let t = Instant::now();
            let reply = login(&api, user, &format!("guessed-password-{i}"), &[]).await?;
            times.push(t.elapsed());
            attempts += 1;
            expect_unauthenticated(&reply);
            answers.push((reply.status, reply.json()?, reply.header(WWW_AUTHENTICATE)));
        }
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "unknown users and wrong passwords get the same answer: {answers:?}"
    );
    let median = |times: &mut Vec<Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    let (unknown, wrong) = (median(&mut unknown), median(&mut wrong));
    let ratio = unknown.as_secs_f64() / wrong.as_secs_f64();
    assert!(
        (1.0 / 3.0..=3.0).contains(&ratio),
        "an unknown user costs the same as a wrong password (both run argon2): unknown {unknown:?}, wrong password {wrong:?}"
    );

    // Per address: at most 20 attempts a minute, whatever the user names.
    let mut first_refused = None;
    for i in 0..30 {
        let reply = login(&api, &format!("probe-{i}"), "guessed-password", &[]).await?;
        attempts += 1;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            expect_error(&reply.pair()?, 429, "too_many_requests");
            let retry_after: u64 = reply
                .header(RETRY_AFTER)
                .context("429 without Retry-After")?
                .parse()?;
            assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
            first_refused = Some(attempts);
            break;
        }
        expect_unauthenticated(&reply);
    }
    let first_refused = first_refused.context("no 429 after 41 attempts from one address")?;
    assert!(
        first_refused == 21 || (first_refused > 21 && started.elapsed() > Duration::from_secs(60)),
        "the 21st attempt within a minute is refused, not attempt {first_refused}"
    );
    // The address is refused even for a valid account and password.
    let reply = login(&api, "tim", "tim-password-1234", &[]).await?;
    expect_error(&reply.pair()?, 429, "too_many_requests");
    Ok(())
}

#[tokio::test]
async fn audit_trail_records_changes_denials_logins_and_sensitive_reads() -> Result<()> {
    let api = Api::start(auth_on())?;
    let admin_session = log_in(&api, "admin", ADMIN_PASSWORD).await?;
    let admin = As::session(&api, &admin_session);
    admin.project("p").await?;
    let reply = admin
        .post(
            "/api/v1/projects/p/datasets",
            json!({"name": "secret", "sensitivity": "confidential"}),
        )
        .await?;
    expect_status(&reply, 201);
    assert_eq!(reply.1["sensitivity"], "confidential");
    let csv = csv_bytes(25, "secret");
    let reply = admin
        .request(
            Method::POST,
            "/api/v1/projects/p/datasets/secret/versions",
            None,
            Some(("text/csv", csv.clone())),
        )
        .await?;
    expect_status(&reply.pair()?, 201);
    let vic_password = "vic-password-1234";
    admin.create_user("vic", vic_password, "internal").await?;
    admin.set_role("p", "vic", "viewer").await?;
    let (vic_token, _) = admin
        .create_token(json!({"name": "vic", "user": "vic"}))
        .await?;
    let vic = As::bearer(&api, &vic_token);

    // Raw rows need clearance: vic (internal) may not read confidential data; admin may.
    let content = "/api/v1/projects/p/datasets/secret/versions/1/content";
    expect_status(&vic.get("/api/v1/projects/p/datasets/secret").await?, 200);
    let reply = vic.request(Method::GET, content, None, None).await?;
    expect_error(&reply.pair()?, 403, "forbidden");
    let reply = admin.request(Method::GET, content, None, None).await?;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, csv);

    // A failed login.
    expect_unauthenticated(&login(&api, "vic", "not-vics-password", &[]).await?);

    // A viewer may not read the project's trail, nor the whole one.
    expect_error(&vic.get("/api/v1/audit?project=p").await?, 403, "forbidden");
    expect_error(&vic.get("/api/v1/audit").await?, 403, "forbidden");
    expect_error(&vic.get("/api/v1/audit/verify").await?, 403, "forbidden");

    let events = admin.audit("project=p").await?;
    assert!(!events.is_empty());
    for event in &events {
        assert_eq!(event["project"], "p", "{event}");
        assert!(
            event["request_id"].as_str().is_some_and(|r| !r.is_empty()),
            "every request's event has its request id: {event}"
        );
        assert_eq!(event["client_addr"], "127.0.0.1", "{event}");
    }
    assert!(
        events
            .windows(2)
            .all(|w| w[0]["seq"].as_i64() < w[1]["seq"].as_i64()),
        "in sequence order"
    );
    let request_ids: std::collections::BTreeSet<&str> = events
        .iter()
        .filter_map(|e| e["request_id"].as_str())
        .collect();
    assert_eq!(request_ids.len(), events.len(), "one request, one id");
    for (action, actor, outcome) in [
        ("project.create", "admin", "success"),
        ("dataset.create", "admin", "success"),
        ("dataset.write", "admin", "success"),
        ("project.manage_members", "admin", "success"),
        ("dataset.read_data", "vic", "denied"),
        ("dataset.read_data", "admin", "success"),
        ("audit.read", "vic", "denied"),
    ] {
        let found = events
            .iter()
            .filter(|e| e["action"] == action && e["actor"] == actor && e["outcome"] == outcome)
            .count();
        assert_eq!(
            found, 1,
            "one {action} by {actor} ({outcome}) in {events:#?}"
        );
    }
    let read = events
        .iter()
        .find(|e| e["action"] == "dataset.read_data" && e["outcome"] == "success")
        .context("read")?;
    assert_eq!(read["resource"], "project/p/dataset/secret/version/1");
    assert_eq!(read["details"]["sensitivity"], "confidential");
    let denied = events
        .iter()
        .find(|e| e["action"] == "dataset.read_data" && e["outcome"] == "denied")
        .context("denial")?;
    assert!(
        denied["details"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("vic")),
        "{denied}"
    );
    let members = events_with(&events, "project.manage_members", None);
    assert_eq!(
        members[0]["details"],
        json!({"user": "vic", "role": "viewer"})
    );

    // The whole chain.
    let all = admin.audit("").await?;
    assert_chain(&all);
    let failed_login = all
        .iter()
        .find(|e| e["action"] == "auth.login" && e["outcome"] == "failure")
        .context("the failed login is recorded")?;
    assert_eq!(failed_login["actor"], "vic");
    assert_eq!(failed_login["resource"], "user/vic");
    assert_eq!(failed_login["client_addr"], "127.0.0.1");
    assert_eq!(failed_login["details"]["reason"], "bad_credentials");
    assert!(all.iter().any(|e| e["action"] == "auth.login"
        && e["outcome"] == "success"
        && e["actor"] == "admin"));
    assert!(
        all.iter()
            .any(|e| e["action"] == "user.create" && e["resource"] == "user/vic")
    );
    assert!(
        all.iter()
            .any(|e| e["action"] == "token.create" && e["details"]["user"] == "vic")
    );

    // An auditor of p reads p's trail, still not the whole trail.
    admin.set_role("p", "vic", "auditor").await?;
    let mine = vic.audit("project=p").await?;
    assert!(
        mine.len() > events.len(),
        "{} vs {}",
        mine.len(),
        events.len()
    );
    assert!(mine.iter().all(|e| e["project"] == "p"));
    expect_error(&vic.get("/api/v1/audit").await?, 403, "forbidden");
    expect_error(
        &vic.get("/api/v1/audit?actor=admin").await?,
        403,
        "forbidden",
    );
    let reply = vic
        .request(Method::GET, "/api/v1/audit/export?project=p", None, None)
        .await?;
    assert_eq!(reply.status, 200);
    expect_error(&vic.get("/api/v1/audit/export").await?, 403, "forbidden");
    expect_error(&vic.get("/api/v1/audit/verify").await?, 403, "forbidden");

    // The export: JSON Lines, the same events as the paged list.
    let listed = admin.audit("").await?;
    let reply = admin
        .request(Method::GET, "/api/v1/audit/export", None, None)
        .await?;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header(CONTENT_TYPE).as_deref(),
        Some("application/x-ndjson")
    );
    let text = String::from_utf8(reply.body.clone())?;
    assert!(text.ends_with('\n'), "{text}");
    let exported: Vec<Value> = text
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert!(exported.iter().all(Value::is_object));
    assert_eq!(exported.len(), listed.len());
    assert_eq!(exported, listed);
    // No secret anywhere in the trail.
    for secret in [
        ADMIN_PASSWORD,
        vic_password,
        "not-vics-password",
        vic_token.as_str(),
        admin_session.secret(),
        admin_session.csrf.as_str(),
    ] {
        assert!(!text.contains(secret), "a secret in the audit export");
    }
    // A filtered export.
    let reply = admin
        .request(
            Method::GET,
            "/api/v1/audit/export?project=p&outcome=denied",
            None,
            None,
        )
        .await?;
    let denied_lines = String::from_utf8(reply.body)?.lines().count();
    assert_eq!(
        denied_lines,
        listed
            .iter()
            .filter(|e| e["project"] == "p" && e["outcome"] == "denied")
            .count()
    );

    let reply = admin.get("/api/v1/audit/verify").await?;
    expect_status(&reply, 200);
    let head = listed.last().context("events")?["seq"].clone();
    assert_eq!(
        reply.1,
        json!({"intact": true, "checked": head, "head_seq": head, "first_broken": null, "problem": null})
    );
    Ok(())
}

#[tokio::test]
async fn cli_users_tokens_and_audit_verify_detects_tampering() -> Result<()> {
    let temp = tempfile::tempdir()?;
    let dir = temp.path();
    let alice_password = "alice-password-1234";
    let (out, _) = verity_ok(
        &["user", "create", "alice", "--password-stdin"],
        dir,
        Some(&format!("{alice_password}\n")),
    )?;
    assert!(out.contains("created user 'alice'"), "{out}");
    assert!(!out.contains(alice_password), "{out}");
    let (out, _) = verity_ok(
        &["user", "create", "root", "--admin", "--password-stdin"],
        dir,
        Some("root-password-1234\n"),
    )?;
    assert!(out.contains("(admin)"), "{out}");
    // Too short, a name taken, no password on stdin: refused.
    let out = verity(
        &["user", "create", "shorty", "--password-stdin"],
        dir,
        Some("short\n"),
    )?;
    assert!(!out.status.success());
    let out = verity(
        &["user", "create", "alice", "--password-stdin"],
        dir,
        Some("another-password-1234\n"),
    )?;
    assert!(!out.status.success());
    let out = verity(
        &["user", "create", "nopw", "--password-stdin"],
        dir,
        Some(""),
    )?;
    assert!(!out.status.success());
    // Without --password-stdin a password is generated and shown once.
    let (out, _) = verity_ok(&["user", "create", "gen"], dir, None)?;
    let generated = out
        .lines()
        .find_map(|l| l.strip_prefix("password (shown once): "))
        .with_context(|| format!("no generated password in {out:?}"))?
        .to_owned();
    assert!(generated.len() >= 12, "{generated}");

    let (out, _) = verity_ok(&["user", "list"], dir, None)?;
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.contains(&"alice\tinternal\tactive"), "{out}");
    assert!(lines.contains(&"root\tinternal\tactive"), "{out}");
    assert!(!out.contains("shorty") && !out.contains("nopw"), "{out}");

    // A token, revoked before it was ever used.
    let (first, stderr) = verity_ok(&["token", "create", "--user", "alice"], dir, None)?;
    let first = first.trim().to_owned();
    assert!(first.starts_with("vty_") && first.len() == 47, "{first}");
    let first_id = cli_token_id(&stderr)?;
    let (out, _) = verity_ok(&["token", "revoke", &first_id.to_string()], dir, None)?;
    assert!(out.contains(&format!("revoked token {first_id}")), "{out}");
    let out = verity(&["token", "revoke", &first_id.to_string()], dir, None)?;
    assert!(!out.status.success(), "revoking twice fails");
    let out = verity(&["token", "create", "--user", "nobody"], dir, None)?;
    assert!(!out.status.success(), "tokens need an existing user");
    let (second, stderr) = verity_ok(
        &["token", "create", "--user", "alice", "--name", "laptop"],
        dir,
        None,
    )?;
    let second = second.trim().to_owned();
    let second_id = cli_token_id(&stderr)?;

    // A server on the same data. Users exist, so no `admin` is bootstrapped.
    let api = Api::start(ServerOptions {
        data_dir: Some(dir.to_path_buf()),
        ..auth_on()
    })?;
    expect_unauthenticated(&login(&api, "admin", ADMIN_PASSWORD, &[]).await?);
    let root = As::session(&api, &log_in(&api, "root", "root-password-1234").await?);
    assert_eq!(root.get("/api/v1/auth/me").await?.1["admin"], true);
    log_in(&api, "gen", &generated).await?;
    let alice_session = log_in(&api, "alice", alice_password).await?;
    let me = As::session(&api, &alice_session)
        .get("/api/v1/auth/me")
        .await?;
    assert_eq!(me.1["username"], "alice");
    assert_eq!(me.1["admin"], false);

    let reply = As::bearer(&api, &first)
        .request(Method::GET, "/api/v1/auth/me", None, None)
        .await?;
    assert!(expect_unauthenticated(&reply).contains("revoked"));
    let alice = As::bearer(&api, &second);
    let me = alice.get("/api/v1/auth/me").await?;
    expect_status(&me, 200);
    assert_eq!(me.1["credential"], "token");
    let listed = alice.get("/api/v1/tokens").await?;
    assert_eq!(listed.1["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(listed.1["items"][1]["name"], "laptop");
    // Revoked from the command line while the server runs: refused on the next request.
    verity_ok(&["token", "revoke", &second_id.to_string()], dir, None)?;
    let reply = alice
        .request(Method::GET, "/api/v1/auth/me", None, None)
        .await?;
    assert!(expect_unauthenticated(&reply).contains("revoked"));

    // A new password: the old one stops working, sessions end.
    let new_password = "alice-new-password-5678";
    let (out, _) = verity_ok(
        &["user", "reset-password", "alice", "--password-stdin"],
        dir,
        Some(&format!("{new_password}\n")),
    )?;
    assert!(out.contains("new password set for 'alice'"), "{out}");
    let out = verity(
        &["user", "reset-password", "alice", "--password-stdin"],
        dir,
        Some("short\n"),
    )?;
    assert!(!out.status.success(), "a short password is refused");
    expect_unauthenticated(
        &As::session(&api, &alice_session)
            .request(Method::GET, "/api/v1/auth/me", None, None)
            .await?,
    );
    expect_unauthenticated(&login(&api, "alice", alice_password, &[]).await?);
    let alice_session = log_in(&api, "alice", new_password).await?;

    // Disabled: logins fail, the session and fresh tokens stop working.
    let (third, _) = verity_ok(&["token", "create", "--user", "alice"], dir, None)?;
    let third = third.trim().to_owned();
    expect_status(&As::bearer(&api, &third).get("/api/v1/auth/me").await?, 200);
    let (out, _) = verity_ok(&["user", "disable", "alice"], dir, None)?;
    assert!(out.contains("disabled user 'alice'"), "{out}");
    expect_unauthenticated(&login(&api, "alice", new_password, &[]).await?);
    expect_unauthenticated(
        &As::session(&api, &alice_session)
            .request(Method::GET, "/api/v1/auth/me", None, None)
            .await?,
    );
    let reply = As::bearer(&api, &third)
        .request(Method::GET, "/api/v1/auth/me", None, None)
        .await?;
    assert!(expect_unauthenticated(&reply).contains("disabled"));
    let (out, _) = verity_ok(&["user", "list"], dir, None)?;
    assert!(
        out.lines().any(|l| l == "alice\tinternal\tdisabled"),
        "{out}"
    );

    // The command line's changes are in the trail, as `cli`.
    let events = root.audit("actor=cli").await?;
    let actions: Vec<&str> = events.iter().filter_map(|e| e["action"].as_str()).collect();
    for action in ["user.create", "token.create", "token.revoke", "user.update"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    assert!(
        events.iter().all(|e| e["client_addr"]
            .as_str()
            .is_some_and(|a| a.starts_with("local:"))),
        "{events:#?}"
    );
    let all = root.audit("").await?;
    assert_chain(&all);
    let text = serde_json::to_string(&all)?;
    for secret in [&first, &second, &third, &generated] {
        assert!(!text.contains(secret.as_str()), "a secret in the trail");
    }
    let head = all.len();
    drop(api);

    // Verification: intact, then an edited event, then a removed tail.
    let (out, _) = verity_ok(&["audit", "verify"], dir, None)?;
    assert!(
        out.contains(&format!(
            "audit trail intact: {head} events, head at {head}"
        )),
        "{out}"
    );
    let db = sqlite_file(dir);
    let victim = 3;
    let actor = sqlite(
        &db,
        &format!("SELECT actor FROM audit_events WHERE seq = {victim}"),
    )?;
    sqlite(
        &db,
        &format!("UPDATE audit_events SET actor = 'mallory' WHERE seq = {victim}"),
    )?;
    let out = verity(&["audit", "verify"], dir, None)?;
    let stdout = String::from_utf8(out.stdout)?;
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("BROKEN at sequence number {victim}")),
        "{stdout}"
    );
    // Put back, it checks out again.
    sqlite(
        &db,
        &format!("UPDATE audit_events SET actor = '{actor}' WHERE seq = {victim}"),
    )?;
    verity_ok(&["audit", "verify"], dir, None)?;
    // Rewriting an event together with its hash still breaks the link to the next one.
    sqlite(
        &db,
        &format!(
            "UPDATE audit_events SET hash = '{}' WHERE seq = {victim}",
            "f".repeat(64)
        ),
    )?;
    let out = verity(&["audit", "verify"], dir, None)?;
    let stdout = String::from_utf8(out.stdout)?;
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("sequence number {victim}")),
        "{stdout}"
    );
    let original = all[victim - 1]["hash"].as_str().context("hash")?;
    sqlite(
        &db,
        &format!("UPDATE audit_events SET hash = '{original}' WHERE seq = {victim}"),
    )?;
    verity_ok(&["audit", "verify"], dir, None)?;
    // Deleting the last event.
    sqlite(
        &db,
        "DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)",
    )?;
    let out = verity(&["audit", "verify"], dir, None)?;
    let stdout = String::from_utf8(out.stdout)?;
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("BROKEN at sequence number {head}")),
        "{stdout}"
    );
    // Deleting one in the middle.
    sqlite(&db, "DELETE FROM audit_events WHERE seq = 2")?;
    let out = verity(&["audit", "verify"], dir, None)?;
    let stdout = String::from_utf8(out.stdout)?;
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("BROKEN at sequence number 2"), "{stdout}");
    Ok(())
}

#[tokio::test]
async fn postgres_auth_and_audit() -> Result<()> {
    let db = FreshDatabase::create().context(
        "PostgreSQL is required for this test (VERITY_TEST_POSTGRES_URL or the local server)",
    )?;
    let api = Api::start(ServerOptions {
        database_url: Some(db.url.clone()),
        ..auth_on()
    })?;
    let admin = admin(&api).await?;
    admin.project("pg").await?;
    admin
        .create_user("uma", "uma-password-1234", "internal")
        .await?;
    admin.set_role("pg", "uma", "contributor").await?;
    let (token, _) = admin
        .create_token(json!({"name": "ci", "user": "uma"}))
        .await?;
    let uma = As::bearer(&api, &token);
    let me = uma.get("/api/v1/auth/me").await?;
    assert_eq!(me.1["username"], "uma");

    // A denial, recorded; nothing created.
    let reply = uma
        .post("/api/v1/projects", json!({"name": "not-hers"}))
        .await?;
    expect_error(&reply, 403, "forbidden");
    assert_eq!(admin.project_names().await?, vec!["pg"]);
    let denied = admin.audit("actor=uma&outcome=denied").await?;
    assert_eq!(denied.len(), 1, "{denied:#?}");
    assert_eq!(denied[0]["action"], "project.create");
    // Token revocation and the wrong-password path on this backend too.
    let (spare, spare_meta) = admin
        .create_token(json!({"name": "spare", "user": "uma"}))
        .await?;
    let spare_id = spare_meta["id"].as_i64().context("id")?;
    expect_status(
        &admin.delete(&format!("/api/v1/tokens/{spare_id}")).await?,
        200,
    );
    let reply = As::bearer(&api, &spare)
        .request(Method::GET, "/api/v1/auth/me", None, None)
        .await?;
    assert!(expect_unauthenticated(&reply).contains("revoked"));
    expect_unauthenticated(&login(&api, "uma", "wrong-password-123", &[]).await?);

    // Concurrent writers: 8 runs, 20 batches each, all at once.
    let (status, experiment) = uma.experiment("pg", "load").await?;
    assert_eq!(status, 201, "{experiment}");
    let experiment = experiment["id"].as_i64().context("experiment id")?;
    const TASKS: usize = 8;
    const BATCHES: usize = 20;
    let uma_ref = &uma;
    let tasks = (0..TASKS).map(|task| async move {
        let reply = uma_ref
            .post(
                &format!("/api/v1/projects/pg/experiments/{experiment}/runs"),
                json!({"name": format!("task-{task}")}),
            )
            .await?;
        expect_status(&reply, 201);
        let run = reply.1["run_id"].as_str().context("run_id")?.to_owned();
        for batch in 0..BATCHES {
            let reply = uma_ref
                .post(
                    &format!("/api/v1/runs/{run}/batch"),
                    json!({"metrics": [{"key": "loss", "value": 1.0 / (batch as f64 + 1.0), "step": batch}]}),
                )
                .await?;
            expect_status(&reply, 204);
        }
        anyhow::Ok(run)
    });
    let runs: Vec<String> = join_all(tasks).await.into_iter().collect::<Result<_>>()?;

    let all = admin.audit("").await?;
    assert_chain(&all);
    for run in &runs {
        let writes = all
            .iter()
            .filter(|e| {
                e["action"] == "run.write"
                    && e["resource"] == format!("run/{run}")
                    && e["actor"] == "uma"
                    && e["project"] == "pg"
            })
            .count();
        assert_eq!(writes, BATCHES, "one event per batch of run {run}");
    }
    let reply = admin.get("/api/v1/audit/verify").await?;
    expect_status(&reply, 200);
    let head = all.len();
    assert_eq!(
        reply.1,
        json!({"intact": true, "checked": head, "head_seq": head, "first_broken": null, "problem": null})
    );
    drop(api);
    Ok(())
}

/// Fixes from the security review: reclassifying needs clearance for both levels; a token's
/// children expire with it and are revoked with it; a limited token revokes only itself;
/// impossible user names fail like unknown ones without reaching the trail; `*` is reserved;
/// a derived version cannot name another project's parent.
#[tokio::test]
async fn review_hardening_clearance_token_children_and_names() -> Result<()> {
    let api = Api::start(auth_on())?;
    let admin = admin(&api).await?;
    admin.project("p").await?;
    admin.project("q").await?;
    admin
        .create_user("olga", "olga-password-123", "internal")
        .await?;
    admin.set_role("p", "olga", "owner").await?;
    let (olga_token, _) = admin
        .create_token(json!({"name": "o", "user": "olga"}))
        .await?;
    let olga = As::bearer(&api, &olga_token);

    // An owner with internal clearance may classify up to internal, not lower a restricted set.
    let created = admin
        .post(
            "/api/v1/projects/p/datasets",
            json!({"name": "secret", "sensitivity": "restricted"}),
        )
        .await?;
    expect_status(&created, 201);
    let lower = olga
        .patch(
            "/api/v1/projects/p/datasets/secret",
            json!({"sensitivity": "public"}),
        )
        .await?;
    expect_error(&lower, 403, "forbidden");
    let raise = olga
        .post("/api/v1/projects/p/datasets", json!({"name": "open"}))
        .await?;
    expect_status(&raise, 201);
    let up = olga
        .patch(
            "/api/v1/projects/p/datasets/open",
            json!({"sensitivity": "confidential"}),
        )
        .await?;
    expect_error(&up, 403, "forbidden");
    let ok = olga
        .patch(
            "/api/v1/projects/p/datasets/open",
            json!({"sensitivity": "public", "description": "fine"}),
        )
        .await?;
    expect_status(&ok, 200);
    assert_eq!(ok.1["sensitivity"], "public");
    let secret = admin.get("/api/v1/projects/p/datasets/secret").await?;
    assert_eq!(secret.1["sensitivity"], "restricted", "unchanged");
    let denials = olga_denials(&admin).await?;
    assert_eq!(denials, 2, "each refusal is audited");

    // A token's child inherits its expiry and dies with it.
    let (parent, parent_meta) = olga
        .create_token(json!({"name": "parent", "expires_in_days": 1}))
        .await?;
    let parent_id = parent_meta["id"].as_i64().context("id")?;
    let (child, child_meta) = As::bearer(&api, &parent)
        .create_token(json!({"name": "child"}))
        .await?;
    assert_eq!(
        child_meta["expires_at"], parent_meta["expires_at"],
        "a child of an expiring token expires with it"
    );
    let (grandchild, _) = As::bearer(&api, &child)
        .create_token(json!({"name": "grandchild", "expires_in_days": 3650}))
        .await?;
    expect_status(
        &As::bearer(&api, &grandchild).get("/api/v1/auth/me").await?,
        200,
    );
    let revoked = olga.delete(&format!("/api/v1/tokens/{parent_id}")).await?;
    expect_status(&revoked, 200);
    for token in [&parent, &child, &grandchild] {
        let me = As::bearer(&api, token).get("/api/v1/auth/me").await?;
        expect_error(&me, 401, "unauthenticated");
    }
    expect_status(&olga.get("/api/v1/auth/me").await?, 200);

    // A read-only (or scoped) token revokes itself only.
    let (read_only, ro_meta) = olga
        .create_token(json!({"name": "ro", "read_only": true}))
        .await?;
    let olga_meta = olga.get("/api/v1/tokens").await?;
    let full_id = olga_meta.1["items"]
        .as_array()
        .context("items")?
        .iter()
        .find(|t| t["name"] == "o")
        .and_then(|t| t["id"].as_i64())
        .context("olga's full token")?;
    let refused = As::bearer(&api, &read_only)
        .delete(&format!("/api/v1/tokens/{full_id}"))
        .await?;
    expect_error(&refused, 403, "forbidden");
    expect_status(&olga.get("/api/v1/auth/me").await?, 200);
    let own = As::bearer(&api, &read_only)
        .delete(&format!("/api/v1/tokens/{}", ro_meta["id"]))
        .await?;
    expect_status(&own, 200);

    // Impossible user names: the same 401, and no giant or NUL text in the trail.
    let long = "x".repeat(10_000);
    for name in [long.as_str(), "bad\u{0}name", "with space"] {
        let reply = login(&api, name, "whatever-password", &[]).await?;
        expect_unauthenticated(&reply);
    }
    let events = admin.audit("action=auth.login&outcome=failure").await?;
    assert_eq!(events.len(), 3, "{events:?}");
    for event in &events {
        let text = event.to_string();
        assert!(
            text.len() < 2_000,
            "event stays small: {} bytes",
            text.len()
        );
        assert_eq!(event["actor"], "(invalid user name)");
    }

    // `*` names the global domain: no project may be called that.
    let star = admin.post("/api/v1/projects", json!({"name": "*"})).await?;
    expect_error(&star, 400, "invalid_argument");

    // A derived version must derive from this project's data.
    admin
        .post("/api/v1/projects/q/datasets", json!({"name": "raw"}))
        .await?;
    let parent_version = admin
        .request(
            Method::POST,
            "/api/v1/projects/q/datasets/raw/versions",
            None,
            Some(("text/csv", csv_bytes(3, "q"))),
        )
        .await?
        .pair()?;
    expect_status(&parent_version, 201);
    let foreign = parent_version.1["id"].as_i64().context("version id")?;
    let derived = admin
        .request(
            Method::POST,
            &format!("/api/v1/projects/p/datasets/open/versions?derived_from={foreign}"),
            None,
            Some(("text/csv", csv_bytes(3, "p"))),
        )
        .await?
        .pair()?;
    // As for a version that does not exist: the other project is not named.
    let message = expect_error(&derived, 404, "dataset_version_not_found");
    assert!(!message.contains("'q'"), "{message}");
    let versions = admin
        .get("/api/v1/projects/p/datasets/open/versions")
        .await?;
    assert_eq!(versions.1["items"], json!([]), "nothing stored");
    Ok(())
}

async fn olga_denials(admin: &As<'_>) -> Result<usize> {
    Ok(admin.audit("actor=olga&outcome=denied").await?.len())
}
