//! The `verity` binary: the HTTP API over the registry store.

mod config;
mod error;
mod extract;
mod routes;
mod state;
mod wire;

use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser as _;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;
use verity_store::{BlobStore, Store, sqlite_url_for};

use crate::config::{Cli, Command, StorageArgs};
use crate::state::AppState;

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
        Command::Serve(args) => {
            let store = open_store(&args.storage).await?;
            store.migrate().await.context("applying migrations")?;
            let state = AppState {
                store: store.clone(),
                local_principal: Arc::from(args.local_principal.as_str()),
                max_body_bytes: args.max_body_bytes,
            };
            let app = routes::app(state);
            // Uploads staged by a process that died mid-upload are garbage; an hour is far
            // longer than any upload in flight.
            let sweeper = store.clone();
            tokio::spawn(async move {
                match sweeper
                    .blobs()
                    .sweep_staging(std::time::Duration::from_secs(3600))
                    .await
                {
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
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown_signal())
                .await?;
            store.close().await;
            Ok(())
        }
    }
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
