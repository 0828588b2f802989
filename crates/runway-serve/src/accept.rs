//! The accept loop: HTTP/1.1 over hyper with a deadline for each request's
//! headers, a cap on open connections, and the Host allow-list.
//!
//! A client that opens a connection and sends its headers slowly (or not at
//! all, slowloris) is cut once [`Limits::header_read_timeout`] has passed
//! since the server started waiting for that request's head; the same
//! deadline closes a keep-alive connection that stays idle. At most
//! [`Limits::max_connections`] connections are served at once: while they
//! are all taken the server stops accepting, so further clients wait in the
//! listen queue (they are not refused) and are accepted, in order, as soon as
//! a connection closes, which the header deadline bounds for a client that
//! sends nothing useful.
//!
//! Every request carries two extensions: axum's `ConnectInfo<SocketAddr>`
//! (the peer) and [`ConnectionId`] (which connection of this server it came
//! on), so a handler can bind state to a connection.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt as _;

use crate::Hosts;

/// The limits of [`serve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long a client has to send a request's headers, from when the
    /// server starts waiting for them (also how long a keep-alive connection
    /// may stay idle).
    pub header_read_timeout: Duration,
    /// Connections served at once; more wait in the listen queue.
    pub max_connections: usize,
    /// After shutdown, how long requests under way may take to finish.
    pub shutdown_grace: Duration,
}

/// Default [`Limits::header_read_timeout`].
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Default [`Limits::max_connections`].
pub const MAX_CONNECTIONS: usize = 128;
/// Default [`Limits::shutdown_grace`].
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(15);

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_read_timeout: HEADER_READ_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
            shutdown_grace: SHUTDOWN_GRACE,
        }
    }
}

/// Which connection of this server a request came on: unique for the
/// server's life, never reused, and not something a client can choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectionId(pub u64);

/// After an accept error that is not about one connection (out of file
/// descriptors), wait this long before accepting again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `app` on `listener` until `shutdown` completes, then lets requests
/// under way finish (at most [`Limits::shutdown_grace`]). Every request's
/// `Host` must be one `hosts` allows (403 otherwise, 400 without one).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    hosts: Hosts,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: Limits,
) -> std::io::Result<()> {
    if limits.max_connections == 0 || limits.header_read_timeout.is_zero() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the server needs max_connections >= 1 and a header_read_timeout above 0",
        ));
    }
    let app = crate::hosts::guard(app, Arc::new(hosts));
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let next_id = AtomicU64::new(1);
    // Dropped to ask every connection to finish; each holds a receiver, so
    // `closed()` resolves once the last one has.
    let (stop_tx, stop_rx) = watch::channel(());
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        // A slot first: at the cap the listener is not polled, so new
        // clients queue in the kernel's backlog instead of being refused.
        let permit = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) if is_per_connection(&e) => continue,
                Err(e) => {
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let id = ConnectionId(next_id.fetch_add(1, Ordering::Relaxed));
        let app = app.clone();
        let service =
            hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                let mut req = req.map(axum::body::Body::new);
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                req.extensions_mut().insert(id);
                app.clone().oneshot(req)
            });
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!("connection from {peer}: {e}");
                    }
                    return;
                }
                _ = stop.changed() => {}
            }
            // Shutdown: finish the request under way, then close.
            conn.as_mut().graceful_shutdown();
            if let Err(e) = conn.await {
                tracing::debug!("connection from {peer}: {e}");
            }
        });
    }
    drop(listener);
    drop(stop_rx);
    // Wakes every connection's `changed()`; `closed()` resolves once the last
    // one has finished.
    stop_tx.send_replace(());
    let _ = tokio::time::timeout(
        limits.shutdown_grace + limits.header_read_timeout,
        stop_tx.closed(),
    )
    .await;
    Ok(())
}

/// Accept errors that concern one client only (it gave up before we took it).
fn is_per_connection(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}
