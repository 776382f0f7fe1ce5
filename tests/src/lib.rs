//! Harness for end-to-end tests and benchmarks: starts the real `verity` binary on an
//! ephemeral port with a temporary data directory, a fresh PostgreSQL database, or an S3 API
//! on loopback (moto), and talks to it over HTTP.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Options for a server under test.
#[derive(Debug, Default, Clone)]
pub struct ServerOptions {
    /// `--database-url`; SQLite in the data directory when None.
    pub database_url: Option<String>,
    /// `--object-store`; `<data-dir>/blobs` when None.
    pub object_store: Option<String>,
    /// `--max-body-bytes`.
    pub max_body_bytes: Option<usize>,
    /// `--max-upload-bytes`.
    pub max_upload_bytes: Option<u64>,
    /// Reuse this data directory (e.g. to restart on the same data).
    pub data_dir: Option<PathBuf>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// With a password, authentication is on and the first administrator `admin` gets it;
    /// without, the server runs with `--auth disabled` (anonymous, every right).
    pub admin_password: Option<String>,
    /// Pipe the server's standard error (its log) and collect its lines, for
    /// [`TestServer::stderr_lines`]; otherwise it goes to the test's own standard error.
    pub capture_stderr: bool,
}

/// A running `verity serve`.
pub struct TestServer {
    child: Child,
    base: String,
    data_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    client: reqwest::Client,
    /// The lines of standard error so far, with [`ServerOptions::capture_stderr`].
    stderr: Arc<Mutex<Vec<String>>>,
    /// Time from spawn to the listening line.
    pub started_in: Duration,
}

impl TestServer {
    /// Starts `bin serve` on 127.0.0.1:0 and waits for its listening line.
    pub fn start(bin: impl AsRef<Path>, options: ServerOptions) -> Result<Self> {
        let (data_dir, temp) = match &options.data_dir {
            Some(dir) => (dir.clone(), None),
            None => {
                let temp = tempfile::tempdir()?;
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        let mut command = Command::new(bin.as_ref());
        command
            .arg("serve")
            .arg("--bind")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(&data_dir);
        if let Some(url) = &options.database_url {
            command.arg("--database-url").arg(url);
        }
        if let Some(url) = &options.object_store {
            command.arg("--object-store").arg(url);
        }
        if let Some(n) = options.max_body_bytes {
            command.arg("--max-body-bytes").arg(n.to_string());
        }
        if let Some(n) = options.max_upload_bytes {
            command.arg("--max-upload-bytes").arg(n.to_string());
        }
        match &options.admin_password {
            Some(password) => {
                command.env("VERITY_ADMIN_PASSWORD", password);
            }
            None => {
                command.arg("--auth").arg("disabled");
            }
        }
        // Quick background work so tests need not wait: short job leases (a stopped server's
        // job is taken over within 3 s), fast polling, fast retries, webhooks to loopback. `env`
        // can override them.
        for (k, v) in [
            ("VERITY_JOB_LEASE_MS", "3000"),
            ("VERITY_WORKER_POLL_MS", "100"),
            ("VERITY_RETRY_BASE_MS", "200"),
            // Webhook receivers in tests listen on loopback.
            ("VERITY_WEBHOOK_ALLOW_PRIVATE", "true"),
        ] {
            command.env(k, v);
        }
        command.env(
            "VERITY_LOG",
            std::env::var("VERITY_LOG").unwrap_or_else(|_| "warn".into()),
        );
        // After the default, so that a test's own `VERITY_LOG` wins.
        for (k, v) in &options.env {
            command.env(k, v);
        }
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(if options.capture_stderr {
                Stdio::piped()
            } else {
                Stdio::inherit()
            });
        let started = Instant::now();
        let mut child = command
            .spawn()
            .with_context(|| format!("spawning {}", bin.as_ref().display()))?;
        let stderr_lines = Arc::new(Mutex::new(Vec::new()));
        if let Some(stderr) = child.stderr.take() {
            let lines = Arc::clone(&stderr_lines);
            std::thread::spawn(move || {
                // Lines that are not UTF-8 are kept, lossily: a log line with odd bytes must
                // not end the capture.
                let mut reader = BufReader::new(stderr);
                let mut line = Vec::new();
                while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                    let text = String::from_utf8_lossy(&line).trim_end().to_owned();
                    lines
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(text);
                    line.clear();
                }
            });
        }
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            while let Some(Ok(line)) = lines.next() {
                if let Some(url) = line.strip_prefix("verity listening on ") {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let base = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(base) => base,
            Err(_) => {
                let _ = child.kill();
                bail!("verity did not print its listening address within 60 s");
            }
        };
        let started_in = started.elapsed();
        let client = client_builder().build()?;
        Ok(Self {
            child,
            base,
            data_dir,
            _temp: temp,
            client,
            stderr: stderr_lines,
            started_in,
        })
    }

    /// The lines the server has written to standard error so far (its log, with ANSI colours
    /// if it wrote any), when started with [`ServerOptions::capture_stderr`]; empty otherwise.
    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The full URL of a path such as `/api/v1/projects`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// An HTTP client (after [`TestServer::authenticate_as`], it sends the token).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Logs in as `user` with a client of its own; returns the session cookie (`name=value`,
    /// ready for a `Cookie` header) and the session's CSRF token.
    pub async fn login_session(&self, user: &str, password: &str) -> Result<(String, String)> {
        let login = Self::own_client()?
            .post(self.url("/api/v1/auth/login"))
            .json(&serde_json::json!({"username": user, "password": password}))
            .send()
            .await?;
        if !login.status().is_success() {
            bail!("login as {user} failed: {}", login.status());
        }
        let cookie = login
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .context("no session cookie")?
            .to_owned();
        let body: serde_json::Value = login.json().await?;
        let csrf = body["csrf_token"]
            .as_str()
            .context("no csrf token")?
            .to_owned();
        Ok((cookie, csrf))
    }

    /// Logs in as `user` (session + CSRF token) and creates an API token; returns its secret.
    /// The client is left as it was. A client of its own makes the requests: after
    /// [`TestServer::authenticate_as`] the shared one sends a token, which would win over the
    /// session.
    pub async fn login_token(&self, user: &str, password: &str) -> Result<String> {
        let (cookie, csrf) = self.login_session(user, password).await?;
        let created: serde_json::Value = Self::own_client()?
            .post(self.url("/api/v1/tokens"))
            .header("cookie", cookie)
            .header("x-csrf-token", csrf)
            .json(&serde_json::json!({"name": "test-harness"}))
            .send()
            .await?
            .json()
            .await?;
        Ok(created["token"]
            .as_str()
            .context("no token in the answer")?
            .to_owned())
    }

    /// A client without the shared one's credentials, for logging in.
    fn own_client() -> Result<reqwest::Client> {
        Ok(client_builder().timeout(Duration::from_secs(60)).build()?)
    }

    /// Like [`TestServer::login_token`], and makes [`TestServer::client`] send the token as
    /// `Authorization: Bearer` on every request. Returns the token.
    pub async fn authenticate_as(&mut self, user: &str, password: &str) -> Result<String> {
        let token = self.login_token(user, password).await?;
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {token}").parse()?,
        );
        self.client = client_builder().default_headers(headers).build()?;
        Ok(token)
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the server (SIGKILL) and returns the temporary directory, if any, so that a new
    /// server can reuse it.
    pub fn stop(mut self) -> Option<tempfile::TempDir> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self._temp.take()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The harness's HTTP clients: a long request timeout, and idle connections kept for less time
/// than the server keeps them (`--header-read-timeout-ms`), so a request never goes out on a
/// connection the server is closing.
fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .pool_idle_timeout(Duration::from_secs(20))
}

/// The PostgreSQL server used by tests: `VERITY_TEST_POSTGRES_URL` or the local one.
pub fn postgres_admin_url() -> String {
    std::env::var("VERITY_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".to_string())
}

/// A database created for one test run and dropped afterwards.
pub struct FreshDatabase {
    admin_url: String,
    name: String,
    /// URL of the new database.
    pub url: String,
}

impl FreshDatabase {
    /// Creates `verity_e2e_<random>` on the test PostgreSQL server (with psql).
    pub fn create() -> Result<Self> {
        let admin_url = postgres_admin_url();
        let name = format!("verity_e2e_{}", random_hex(8));
        psql(&admin_url, &format!("CREATE DATABASE {name}"))?;
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b.to_string())
            .context("postgres url has no database")?;
        Ok(Self {
            url: format!("{base}/{name}"),
            admin_url,
            name,
        })
    }
}

impl FreshDatabase {
    /// Runs SQL in the database (with psql), e.g. to simulate an older schema.
    pub fn execute(&self, sql: &str) -> Result<()> {
        psql(&self.url, sql)
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        let _ = psql(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

fn psql(url: &str, sql: &str) -> Result<()> {
    let out = Command::new("psql")
        .arg(url)
        .arg("-v")
        .arg("ON_ERROR_STOP=1")
        .arg("-qc")
        .arg(sql)
        .output()
        .context("running psql")?;
    if !out.status.success() {
        bail!("psql failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// Random lower-case hex of `n` bytes (from the OS via a temp file name's entropy).
pub fn random_hex(n: usize) -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::new();
    while out.len() < n * 2 {
        let mut h = RandomState::new().build_hasher();
        h.write_u128(Instant::now().elapsed().as_nanos());
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out.truncate(n * 2);
    out
}

/// A moto S3 server on a free loopback port.
pub struct MotoServer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

impl MotoServer {
    /// Starts `moto_server` (from `pip install 'moto[server]'`) and waits until it answers.
    pub fn start() -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let bin = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".to_string());
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| {
                format!("spawning {bin}: install it with pip install 'moto[server]'")
            })?;
        let endpoint = format!("http://127.0.0.1:{port}");
        let mut server = Self { child, endpoint };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            // A wrapper (e.g. a pyenv shim) may start and exit at once when moto is not installed.
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "{bin} exited ({status}) before listening: install it with pip install 'moto[server]'"
                );
            }
            if Instant::now() > deadline {
                bail!("moto_server did not listen within 30 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(server)
    }

    /// Environment for object_store's S3 client to reach this server.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT", self.endpoint.as_str()),
            ("AWS_ALLOW_HTTP", "true"),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// Creates a bucket (moto accepts unsigned requests).
    pub async fn create_bucket(&self, bucket: &str) -> Result<()> {
        let response = reqwest::Client::new()
            .put(format!("{}/{bucket}", self.endpoint))
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("creating bucket {bucket}: {}", response.status());
        }
        Ok(())
    }

    /// Puts an object directly (bypassing Verity).
    pub async fn put_object(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<()> {
        let response = reqwest::Client::new()
            .put(format!("{}/{bucket}/{key}", self.endpoint))
            .body(body)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("putting {bucket}/{key}: {}", response.status());
        }
        Ok(())
    }

    /// Keys in a bucket under a prefix (ListObjectsV2, first 1000).
    pub async fn list_keys(&self, bucket: &str, prefix: &str) -> Result<Vec<String>> {
        let text = reqwest::Client::new()
            .get(format!(
                "{}/{bucket}?list-type=2&prefix={prefix}",
                self.endpoint
            ))
            .send()
            .await?
            .text()
            .await?;
        Ok(text
            .split("<Key>")
            .skip(1)
            .filter_map(|s| s.split("</Key>").next())
            .map(str::to_string)
            .collect())
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
