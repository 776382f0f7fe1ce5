//! Benchmarks of the registry core, end to end over HTTP against the real binary.
//!
//! ```text
//! cargo build --release -p verity -p verity-tests
//! target/release/verity-bench            # all benchmarks, SQLite in a temp dir
//! target/release/verity-bench --only ingest --points 2000000
//! ```
//! Figures are printed as a Markdown table (and JSON with --json).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use futures::StreamExt;
use serde_json::{Value, json};
use verity_tests::{ServerOptions, TestServer};

/// Command-line options.
#[derive(Debug, Parser)]
#[command(about = "Benchmarks of Verity's registry core over HTTP")]
struct Args {
    /// Path of the verity binary (default: next to this program).
    #[arg(long)]
    verity_bin: Option<PathBuf>,
    /// Run only this benchmark: startup, ingest, search, history.
    #[arg(long)]
    only: Option<String>,
    /// Metric points to ingest.
    #[arg(long, default_value_t = 2_000_000)]
    points: usize,
    /// Points per batch request.
    #[arg(long, default_value_t = 10_000)]
    batch: usize,
    /// Concurrent ingest requests.
    #[arg(long, default_value_t = 2)]
    concurrency: usize,
    /// Runs to create for the search benchmark.
    #[arg(long, default_value_t = 100_000)]
    runs: usize,
    /// Points in the metric-history benchmark.
    #[arg(long, default_value_t = 100_000)]
    history_points: usize,
    /// Repetitions of each timed query.
    #[arg(long, default_value_t = 30)]
    repeat: usize,
    /// Database URL (default: SQLite in the temp data directory).
    #[arg(long)]
    database_url: Option<String>,
    /// Run with authentication, authorization and audit on (`on`, the server's default) or
    /// with `--auth disabled` (`off`); `both` runs ingest and search each way and prints the
    /// ratio.
    #[arg(long, default_value = "on")]
    auth: String,
}

const BENCH_ADMIN_PASSWORD: &str = "benchmark-admin-password";

/// Starts a server; with auth on, every request of its client carries an admin API token.
async fn start(bin: &PathBuf, options: &ServerOptions, auth: bool) -> Result<TestServer> {
    let mut options = options.clone();
    if auth {
        options.admin_password = Some(BENCH_ADMIN_PASSWORD.to_string());
    }
    let mut server = TestServer::start(bin, options)?;
    if auth {
        server
            .authenticate_as("admin", BENCH_ADMIN_PASSWORD)
            .await?;
    }
    Ok(server)
}

struct Row {
    name: String,
    value: String,
    goal: String,
    met: bool,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let bin = match &args.verity_bin {
        Some(p) => p.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("no parent dir")?
            .join("verity"),
    };
    if !bin.exists() {
        bail!(
            "{} not found: build it with cargo build --release -p verity",
            bin.display()
        );
    }
    let want = |name: &str| args.only.as_deref().is_none_or(|o| o == name);
    let modes: Vec<bool> = match args.auth.as_str() {
        "on" => vec![true],
        "off" => vec![false],
        "both" => vec![false, true],
        other => bail!("--auth must be on, off or both, not {other}"),
    };
    let mut rows = Vec::new();
    if want("startup") {
        rows.extend(startup(&bin).await?);
    }
    let options = ServerOptions {
        database_url: args.database_url.clone(),
        ..ServerOptions::default()
    };
    let label = |auth: bool, mut row: Row| {
        if modes.len() > 1 {
            row.name = format!("{} (auth {})", row.name, if auth { "on" } else { "off" });
        }
        row
    };
    let mut ingest_rates = Vec::new();
    let mut search_p50 = Vec::new();
    for &auth in &modes {
        if want("ingest") {
            let server = start(&bin, &options, auth).await?;
            let row = ingest(&server, &args).await?;
            ingest_rates.push(row.value.clone());
            rows.push(label(auth, row));
        }
        if want("search") {
            let server = start(&bin, &options, auth).await?;
            let row = search(&server, &args).await?;
            search_p50.push(row.value.clone());
            rows.push(label(auth, row));
        }
        if want("history") {
            let server = start(&bin, &options, auth).await?;
            rows.extend(
                history(&server, &args)
                    .await?
                    .into_iter()
                    .map(|r| label(auth, r)),
            );
        }
    }
    if modes.len() > 1 {
        println!("auth off → on: ingest {ingest_rates:?}, search {search_p50:?}");
    }
    println!("| benchmark | measured | goal | met |\n|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} |",
            r.name,
            r.value,
            r.goal,
            if r.met { "yes" } else { "no" }
        );
    }
    Ok(())
}

async fn post(server: &TestServer, path: &str, body: &Value) -> Result<Value> {
    let response = server
        .client()
        .post(server.url(path))
        .json(body)
        .send()
        .await?;
    let status = response.status();
    let value: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("POST {path}: {status} {value}");
    }
    Ok(value)
}

async fn setup_run(server: &TestServer, project: &str) -> Result<(i64, String)> {
    post(server, "/api/v1/projects", &json!({"name": project})).await?;
    let experiment = post(
        server,
        &format!("/api/v1/projects/{project}/experiments"),
        &json!({"name": "bench"}),
    )
    .await?;
    let experiment_id = experiment["id"].as_i64().context("experiment id")?;
    let run = post(
        server,
        &format!("/api/v1/projects/{project}/experiments/{experiment_id}/runs"),
        &json!({}),
    )
    .await?;
    Ok((
        experiment_id,
        run["run_id"].as_str().context("run id")?.to_string(),
    ))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn startup(bin: &PathBuf) -> Result<Vec<Row>> {
    let mut times = Vec::new();
    let mut rss_kb = 0;
    for _ in 0..5 {
        let started = Instant::now();
        // The default start: authentication on (the first start also creates the admin).
        let server = TestServer::start(
            bin,
            ServerOptions {
                admin_password: Some(BENCH_ADMIN_PASSWORD.to_string()),
                ..ServerOptions::default()
            },
        )?;
        loop {
            let ready = server.client().get(server.url("/ready")).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        times.push(started.elapsed());
        tokio::time::sleep(Duration::from_secs(2)).await;
        let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid()))?;
        rss_kb = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
            .max(rss_kb);
    }
    times.sort();
    let p50 = percentile(&times, 0.5);
    let rss_mb = rss_kb as f64 / 1024.0;
    Ok(vec![
        Row {
            name: "serve → /ready 200 on a fresh data dir (median of 5)".into(),
            value: format!("{:.0} ms", ms(p50)),
            goal: "≤ 1000 ms".into(),
            met: p50 <= Duration::from_secs(1),
        },
        Row {
            name: "idle memory (VmRSS, max of 5)".into(),
            value: format!("{rss_mb:.1} MB"),
            goal: "≤ 100 MB".into(),
            met: rss_mb <= 100.0,
        },
    ])
}

async fn ingest(server: &TestServer, args: &Args) -> Result<Row> {
    let (_, run_id) = setup_run(server, "ingest").await?;
    let batches = args.points.div_ceil(args.batch);
    let keys = ["loss", "accuracy", "val_loss", "val_accuracy", "lr"];
    let now = 1_795_000_000_000i64;
    // Bodies are serialised before the clock starts: this measures the server, not serde on the client.
    let bodies: Vec<Vec<u8>> = (0..batches)
        .map(|b| {
            let metrics: Vec<Value> = (0..args.batch)
                .map(|i| {
                    let n = b * args.batch + i;
                    json!({"key": keys[n % keys.len()], "value": (n as f64).sin(), "step": n / keys.len(), "timestamp": now + n as i64})
                })
                .collect();
            serde_json::to_vec(&json!({ "metrics": metrics })).unwrap_or_default()
        })
        .collect();
    let url = server.url(&format!("/api/v1/runs/{run_id}/batch"));
    let client = server.client().clone();
    let started = Instant::now();
    let results: Vec<Result<()>> = futures::stream::iter(bodies)
        .map(|body| {
            let client = client.clone();
            let url = url.clone();
            async move {
                let r = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await?;
                if !r.status().is_success() {
                    bail!(
                        "batch: {} {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    );
                }
                Ok(())
            }
        })
        .buffer_unordered(args.concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    for r in results {
        r?;
    }
    let rate = (batches * args.batch) as f64 / elapsed.as_secs_f64();
    Ok(Row {
        name: format!(
            "batch ingest, {} points in batches of {} ({} concurrent)",
            batches * args.batch,
            args.batch,
            args.concurrency
        ),
        value: format!("{rate:.0} points/s"),
        goal: "≥ 500,000 points/s".into(),
        met: rate >= 500_000.0,
    })
}

async fn search(server: &TestServer, args: &Args) -> Result<Row> {
    let (experiment_id, _) = setup_run(server, "search").await?;
    let create = format!("/api/v1/projects/search/experiments/{experiment_id}/runs");
    let seeded = Instant::now();
    let results: Vec<Result<()>> = futures::stream::iter(0..args.runs)
        .map(|i| {
            let create = create.clone();
            async move {
                let team = ["a", "b", "c"][i % 3];
                let run = post(server, &create, &json!({"name": format!("run-{i}"), "tags": [{"key": "team", "value": team}]})).await?;
                let run_id = run["run_id"].as_str().context("run id")?.to_string();
                let lr = ["0.1", "0.01", "0.001", "0.0001"][i % 4];
                let acc = ((i * 7919) % 10_000) as f64 / 10_000.0;
                let body = json!({"params": [{"key": "lr", "value": lr}], "metrics": [{"key": "acc", "value": acc, "step": 1}, {"key": "loss", "value": 1.0 - acc, "step": 1}]});
                post(server, &format!("/api/v1/runs/{run_id}/batch"), &body).await?;
                Ok(())
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    for r in results {
        r?;
    }
    eprintln!(
        "seeded {} runs in {:.1} s",
        args.runs,
        seeded.elapsed().as_secs_f64()
    );
    let body = json!({
        "experiment_ids": [experiment_id],
        "filter": "metrics.acc > 0.9 and params.lr = '0.01'",
        "order_by": ["metrics.acc DESC"],
        "limit": 100,
    });
    let mut times = Vec::new();
    for _ in 0..args.repeat {
        let started = Instant::now();
        let page = post(server, "/api/v1/projects/search/runs/search", &body).await?;
        times.push(started.elapsed());
        let items = page["items"].as_array().map_or(0, Vec::len);
        if items != 100 {
            bail!("search returned {items} runs, expected 100");
        }
    }
    times.sort();
    let p50 = percentile(&times, 0.5);
    Ok(Row {
        name: format!(
            "search {} runs: metric filter + param filter, order by metric, 100 per page (p50 of {}; p95 {:.1} ms)",
            args.runs,
            args.repeat,
            ms(percentile(&times, 0.95))
        ),
        value: format!("{:.1} ms", ms(p50)),
        goal: "p50 ≤ 50 ms".into(),
        met: p50 <= Duration::from_millis(50),
    })
}

async fn history(server: &TestServer, args: &Args) -> Result<Vec<Row>> {
    let (_, run_id) = setup_run(server, "history").await?;
    for chunk in (0..args.history_points).collect::<Vec<_>>().chunks(10_000) {
        let metrics: Vec<Value> = chunk
            .iter()
            .map(|&i| json!({"key": "loss", "value": if i == args.history_points / 2 { 1000.0 } else { (i as f64).cos() }, "step": i, "timestamp": i}))
            .collect();
        post(
            server,
            &format!("/api/v1/runs/{run_id}/batch"),
            &json!({ "metrics": metrics }),
        )
        .await?;
    }
    let mut rows = Vec::new();
    for (label, path, goal_ms) in [
        (
            format!(
                "metric history, all {} points in one response",
                args.history_points
            ),
            format!(
                "/api/v1/runs/{run_id}/metric-history?key=loss&limit={}",
                args.history_points
            ),
            100u64,
        ),
        (
            format!(
                "downsampled view of {} points to 1000 buckets",
                args.history_points
            ),
            format!("/api/v1/runs/{run_id}/metric-history/downsampled?key=loss&buckets=1000"),
            20u64,
        ),
    ] {
        let mut times = Vec::new();
        for _ in 0..args.repeat {
            // Timed until the last byte arrives; parsing the body is the client's cost, not the server's.
            let started = Instant::now();
            let response = server.client().get(server.url(&path)).send().await?;
            let bytes = response.bytes().await?;
            times.push(started.elapsed());
            let body: Value = serde_json::from_slice(&bytes)?;
            let n = body["items"]
                .as_array()
                .or(body["buckets"].as_array())
                .map_or(0, Vec::len);
            if n == 0 {
                bail!("{path} returned nothing: {body}");
            }
        }
        times.sort();
        let p50 = percentile(&times, 0.5);
        rows.push(Row {
            name: format!("{label} (p50 of {})", args.repeat),
            value: format!("{:.1} ms", ms(p50)),
            goal: format!("≤ {goal_ms} ms"),
            met: p50 <= Duration::from_millis(goal_ms),
        });
    }
    Ok(rows)
}
