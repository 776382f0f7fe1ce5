//! The `verity` binary: the HTTP API over the registry store.

mod admin;
mod auth;
mod check_cli;
mod checks;
mod compliance;
mod config;
mod error;
mod eval_cli;
mod evaluations;
mod extract;
mod guard;
mod mlflow;
mod promotion;
mod routes;
mod serve;
mod signature;
mod state;
mod ui;
mod webhook_target;
mod wire;
mod worker;

use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser as _;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;
use verity_store::{BlobStore, Store, sqlite_url_for};

use crate::auth::AuthMode;
use crate::config::{Cli, Command, StorageArgs};
use crate::state::{AppState, load_rules};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("VERITY_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Migrate(storage) => {
            let store = open_store(&storage).await?;
            store.migrate().await.context("applying migrations")?;
            println!("migrations applied");
            Ok(())
        }
        Command::User(command) => admin::user_command(command).await,
        Command::Token(command) => admin::token_command(command).await,
        Command::Audit(command) => {
            if admin::audit_command(command).await? {
                Ok(())
            } else {
                std::process::exit(1)
            }
        }
        Command::Check(args) => match check_cli::check_command(args).await {
            Ok(verity_monitor::check::Status::Fail) => std::process::exit(1),
            Ok(_) => Ok(()),
            Err(e) => {
                eprintln!("error: {e:#}");
                std::process::exit(2)
            }
        },
        Command::Eval(args) => match eval_cli::eval_command(args).await {
            Ok(verity_monitor::check::Status::Fail) => std::process::exit(1),
            Ok(_) => Ok(()),
            Err(e) => {
                eprintln!("error: {e:#}");
                std::process::exit(2)
            }
        },
        Command::Serve(args) => {
            let store = open_migrated(&args.storage).await?;
            store.set_project_quota(args.project_quota_bytes);
            admin::seed_rules(&store).await?;
            match args.auth {
                AuthMode::Enabled => admin::bootstrap_admin(&store).await?,
                AuthMode::Disabled => {
                    let banner = "AUTHENTICATION IS DISABLED: every request acts as";
                    println!(
                        "WARNING: {banner} '{}' with every right. Use only on a single-user machine.",
                        args.local_principal
                    );
                    tracing::warn!("{banner} '{}'", args.local_principal);
                }
            }
            let (revision, rules) = load_rules(&store).await?;
            let authorizer = verity_policy::Authorizer::new(&rules).await?;
            let state = AppState {
                store: store.clone(),
                local_principal: Arc::from(args.local_principal.as_str()),
                max_body_bytes: args.max_body_bytes,
                auth_mode: args.auth,
                authorizer: Arc::new(authorizer),
                policy_revision: Arc::new(AtomicI64::new(revision)),
                policy_reload: Arc::default(),
                login_limiter: Arc::new(verity_policy::LoginLimiter::new(
                    verity_policy::LimiterConfig::default(),
                )),
                session_ttl: Duration::from_secs(args.session_hours.max(1) * 3600),
                secure_cookies: args.secure_cookies,
                mlflow_project: Arc::from(args.mlflow_project.as_str()),
                mlflow_uploads: Arc::new(mlflow::Uploads::new(Duration::from_secs(
                    args.multipart_ttl_secs.max(1),
                ))),
                guard: Arc::new(guard_config(&args)?),
                check_limits: verity_monitor::source::Limits::shared_memory(
                    args.check_memory_mb.max(4).saturating_mul(1024 * 1024),
                ),
            };
            // Rules changed by another process (or the CLI) take effect within two seconds.
            let watcher = state.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(2));
                loop {
                    tick.tick().await;
                    if let Err(e) = watcher.refresh_policies().await {
                        tracing::warn!(error = ?e, "reloading access rules failed");
                    }
                }
            });
            if args.no_worker {
                tracing::info!("monitor jobs and webhooks are left to other processes");
            } else {
                let owner_access = match args.auth {
                    AuthMode::Enabled => worker::OwnerAccess::Rules(state.authorizer.clone()),
                    AuthMode::Disabled => worker::OwnerAccess::Unchecked,
                };
                let mut config = worker::WorkerConfig::new(
                    format!(
                        "{}:{}:{}",
                        hostname(),
                        std::process::id(),
                        uuid::Uuid::new_v4().simple()
                    ),
                    owner_access,
                );
                config.lease = Duration::from_millis(args.job_lease_ms.max(100));
                config.poll = Duration::from_millis(args.worker_poll_ms.max(10));
                config.retry_base = Duration::from_millis(args.retry_base_ms);
                config.delivery_attempts = args.webhook_attempts.max(1);
                config.allow_private_targets = args.webhook_allow_private;
                config.check_limits = state.check_limits.clone();
                worker::spawn(store.clone(), config);
            }
            // Expired multipart uploads lose their staged parts.
            let uploads = (Arc::clone(&state.mlflow_uploads), store.clone());
            let sweep_every = Duration::from_secs(args.multipart_ttl_secs.clamp(1, 60));
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(sweep_every);
                loop {
                    tick.tick().await;
                    uploads.0.sweep(uploads.1.blobs());
                }
            });
            let app = routes::app(state);
            // Uploads staged by a process that died mid-upload are garbage; an hour (or the
            // multipart uploads' lifetime, when longer) is far longer than any upload in flight.
            let sweeper = store.clone();
            let stale_after = Duration::from_secs(args.multipart_ttl_secs.max(3600));
            tokio::spawn(async move {
                match sweeper.blobs().sweep_staging(stale_after).await {
                    Ok(0) => {}
                    Ok(removed) => tracing::info!(removed, "removed abandoned staged uploads"),
                    Err(e) => {
                        tracing::warn!(error = %e, "sweeping abandoned staged uploads failed")
                    }
                }
            });
            let listener = TcpListener::bind(&args.bind)
                .await
                .with_context(|| format!("binding {}", args.bind))?;
            let addr = listener.local_addr()?;
            println!("verity listening on http://{addr}");
            tracing::info!(%addr, database = ?store.backend(), blobs = store.blobs().description(), "serving");
            let options = serve::ServeOptions {
                header_read_timeout: Duration::from_millis(args.header_read_timeout_ms.max(1)),
                shutdown_grace: Duration::from_secs(30),
            };
            serve::serve(listener, app, options, shutdown_signal()).await;
            store.close().await;
            Ok(())
        }
    }
}

/// The request guards' settings from the server's options.
fn guard_config(args: &config::ServeArgs) -> anyhow::Result<guard::GuardConfig> {
    let trusted_proxies =
        guard::TrustedProxies::parse(&args.trusted_proxies).map_err(anyhow::Error::msg)?;
    let public_hosts = args
        .public_host
        .iter()
        .map(|h| h.trim())
        .filter(|h| !h.is_empty())
        .map(guard::host_name)
        .collect();
    Ok(guard::GuardConfig {
        trusted_proxies,
        public_hosts,
        auth_disabled: args.auth == AuthMode::Disabled,
        body_deadline: guard::BodyDeadline {
            base: Duration::from_millis(args.body_read_timeout_ms.max(1)),
            min_rate: args.body_min_bytes_per_second.max(1),
        },
    })
}

/// Opens the stores and applies pending migrations.
pub(crate) async fn open_migrated(args: &StorageArgs) -> anyhow::Result<Store> {
    let store = open_store(args).await?;
    store.migrate().await.context("applying migrations")?;
    Ok(store)
}

/// Opens the metadata and blob stores from the storage options.
async fn open_store(args: &StorageArgs) -> anyhow::Result<Store> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating {}", args.data_dir.display()))?;
    let data_dir = args.data_dir.canonicalize()?;
    let blobs = match &args.object_store {
        Some(url) => BlobStore::from_url(url, args.max_upload_bytes)?,
        None => BlobStore::local(&data_dir.join("blobs"), args.max_upload_bytes)?,
    };
    let database_url = args
        .database_url
        .clone()
        .unwrap_or_else(|| sqlite_url_for(&data_dir));
    Store::connect(&database_url, blobs)
        .await
        .context("connecting to the database")
}

/// Opens an existing database read-only, creating nothing (no data directory, no database
/// file, no blob folder) and migrating nothing.
pub(crate) async fn open_read_only(args: &StorageArgs) -> anyhow::Result<Store> {
    let database_url = match &args.database_url {
        Some(url) => url.clone(),
        None => {
            let file = args.data_dir.join("verity.db");
            anyhow::ensure!(
                file.is_file(),
                "no Verity database at {} (set --data-dir or --database-url)",
                file.display()
            );
            format!("sqlite://{}", file.canonicalize()?.display())
        }
    };
    // The audit chain lives in the database; the blob store is never touched.
    let blobs = BlobStore::new(
        std::sync::Arc::new(object_store::memory::InMemory::new()),
        0,
        "unused",
    );
    Store::connect_read_only(&database_url, blobs)
        .await
        .context("opening the database read-only")
}

/// This machine's name, for worker ids in job leases.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
