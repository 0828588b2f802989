//! The one way Runway is told to stop: Ctrl-C or SIGTERM for the binary, a
//! cancelled request for the MCP server, nothing for a test that wants none.
//!
//! A deployment in flight ends `aborted` on it, `runway monitor` drains its
//! runs, the MCP and reference servers close their listeners.

use tokio::sync::watch;

/// Flips once, with the reason (`SIGINT`, `SIGTERM`, `cancelled`).
#[derive(Debug, Clone)]
pub struct Shutdown {
    rx: watch::Receiver<Option<String>>,
    /// For [`Shutdown::never`]: the sender no one will use, kept so `changed` waits.
    _keep: Option<std::sync::Arc<watch::Sender<Option<String>>>>,
}

/// The sending half of [`Shutdown::channel`].
#[derive(Debug)]
pub struct ShutdownHandle(watch::Sender<Option<String>>);

impl ShutdownHandle {
    /// Fires with this reason; later calls change nothing.
    pub fn fire(&self, reason: impl Into<String>) {
        let reason = reason.into();
        self.0.send_if_modified(|v| {
            if v.is_none() {
                *v = Some(reason);
                true
            } else {
                false
            }
        });
    }
}

impl Shutdown {
    /// A shutdown that never comes.
    pub fn never() -> Shutdown {
        let (tx, rx) = watch::channel(None);
        Shutdown {
            rx,
            _keep: Some(std::sync::Arc::new(tx)),
        }
    }

    /// A shutdown the caller triggers through the handle.
    pub fn channel() -> (ShutdownHandle, Shutdown) {
        let (tx, rx) = watch::channel(None);
        (ShutdownHandle(tx), Shutdown { rx, _keep: None })
    }

    /// Ctrl-C (`SIGINT`) or SIGTERM. Needs a tokio runtime.
    pub fn on_signals() -> Shutdown {
        let (handle, abort) = Shutdown::channel();
        tokio::spawn(async move {
            let term = async {
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(_) => std::future::pending::<()>().await,
                }
            };
            let which = tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                () = term => "SIGTERM",
            };
            handle.fire(which);
            // Hold the sender so the receivers keep the value.
            std::future::pending::<()>().await;
        });
        abort
    }

    /// Resolves with the reason once fired; never, if it never is.
    pub async fn fired(&self) -> String {
        let mut rx = self.rx.clone();
        loop {
            if let Some(s) = rx.borrow().clone() {
                return s;
            }
            if rx.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }
}
