//! What stops a deployment in flight: Ctrl-C or SIGTERM for the binary, a
//! cancelled request for the MCP server, nothing for a test that wants none.

use tokio::sync::watch;

/// Flips once, with the reason (`SIGINT`, `SIGTERM`, `cancelled`).
#[derive(Debug, Clone)]
pub struct Abort {
    rx: watch::Receiver<Option<String>>,
    /// For [`Abort::never`]: the sender no one will use, kept so `changed` waits.
    _keep: Option<std::sync::Arc<watch::Sender<Option<String>>>>,
}

/// The sending half of [`Abort::channel`].
#[derive(Debug)]
pub struct AbortHandle(watch::Sender<Option<String>>);

impl AbortHandle {
    /// Aborts with this reason; later calls change nothing.
    pub fn abort(&self, reason: impl Into<String>) {
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

impl Abort {
    /// An abort that never comes.
    pub fn never() -> Abort {
        let (tx, rx) = watch::channel(None);
        Abort {
            rx,
            _keep: Some(std::sync::Arc::new(tx)),
        }
    }

    /// An abort the caller triggers through the handle.
    pub fn channel() -> (AbortHandle, Abort) {
        let (tx, rx) = watch::channel(None);
        (AbortHandle(tx), Abort { rx, _keep: None })
    }

    /// Ctrl-C or SIGTERM. Needs a tokio runtime.
    pub fn on_signals() -> Abort {
        let (handle, abort) = Abort::channel();
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
            handle.abort(which);
            // Hold the sender so the receivers keep the value.
            std::future::pending::<()>().await;
        });
        abort
    }

    /// Resolves with the reason once aborted; never, if it never is.
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
