//! The accept loop: HTTP/1.1 over hyper with a deadline for each request's
//! headers and a cap on open connections.
//!
//! A client that opens a connection and sends its headers slowly (or not at
//! all, slowloris) is cut once [`ServeLimits::header_read_timeout`] has
//! passed since the server started waiting for that request's head; the same
//! deadline closes a keep-alive connection that stays idle. At most
//! [`ServeLimits::max_connections`] connections are served at once: while
//! they are all taken the server stops accepting, so further clients wait in
//! the listen queue (they are not refused) and are accepted, in order, as
//! soon as a connection closes, which the header deadline bounds for a
//! client that sends nothing useful.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::{Semaphore, watch};

/// The connection limits of [`crate::serve_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// How long a client has to send a request's headers, from when the
    /// server starts waiting for them (also how long a keep-alive connection
    /// may stay idle).
    pub header_read_timeout: Duration,
    /// Connections served at once; more wait in the listen queue.
    pub max_connections: usize,
}

/// Default [`ServeLimits::header_read_timeout`].
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Default [`ServeLimits::max_connections`].
pub const MAX_CONNECTIONS: usize = 128;

impl Default for ServeLimits {
    fn default() -> ServeLimits {
        ServeLimits {
            header_read_timeout: HEADER_READ_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
        }
    }
}

/// After an accept error that is not about one connection (out of file
/// descriptors), wait this long before accepting again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: ServeLimits,
) -> std::io::Result<()> {
    if limits.max_connections == 0 || limits.header_read_timeout.is_zero() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the web server needs max_connections >= 1 and a header_read_timeout above 0",
        ));
    }
    let slots = Arc::new(Semaphore::new(limits.max_connections));
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
                    tracing::warn!("web: accepting a connection failed: {e}");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!("web: connection from {peer}: {e}");
                    }
                    return;
                }
                _ = stop.changed() => {}
            }
            // Shutdown: finish the request under way (bounded by the
            // request timeout), then close.
            conn.as_mut().graceful_shutdown();
            if let Err(e) = conn.await {
                tracing::debug!("web: connection from {peer}: {e}");
            }
        });
    }
    drop(listener);
    drop(stop_rx);
    // Wakes every connection's `changed()`; `closed()` resolves once the last
    // one has finished (each is bounded by the request timeout).
    stop_tx.send_replace(());
    let _ = tokio::time::timeout(
        crate::REQUEST_TIMEOUT + limits.header_read_timeout,
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
