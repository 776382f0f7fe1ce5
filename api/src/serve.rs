//! The HTTP server loop. axum's `serve` gives no header-read timeout, so a client could hold
//! a connection open forever by sending nothing, or its headers a byte at a time (slowloris).
//! This loop serves each connection with hyper's HTTP/1.1 server, whose header-read timer runs
//! whenever a request head is awaited (from the connection's start, and while a kept-alive
//! connection idles), so a connection that sends no complete head in time is closed. It hands
//! every request its peer address (`ConnectInfo`), and on shutdown stops accepting and lets
//! requests in flight finish for a grace period. Request bodies have their own deadline
//! ([`crate::guard::body_deadline`]). HTTP/2 is not served: no client of Verity needs it, and
//! its preface would otherwise open a connection without a header timer.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1::Builder;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt as _;

/// Limits of the server loop.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// How long a connection may wait before a request's headers are complete (also while
    /// idle between requests).
    pub header_read_timeout: Duration,
    /// How long requests in flight may run on after a shutdown signal.
    pub shutdown_grace: Duration,
}

/// Serves `app` on `listener` until `shutdown` completes, then drains connections for at most
/// the grace period.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "setting TCP_NODELAY failed");
        }
        let service = app
            .clone()
            .map_request(move |request: Request<Incoming>| with_peer(request, peer));
        let connection =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(options.shutdown_grace) => {
            tracing::warn!(
                grace_ms = options.shutdown_grace.as_millis() as u64,
                "requests still running after the shutdown grace period were cut off"
            );
        }
    }
}

/// The request as axum takes it, with the connection's peer address.
fn with_peer(request: Request<Incoming>, peer: SocketAddr) -> Request<Body> {
    let mut request = request.map(Body::new);
    request.extensions_mut().insert(ConnectInfo(peer));
    request
}
