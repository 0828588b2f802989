//! A long operation (`verify`) sends MCP progress for the request's
//! `progressToken`, and `notifications/cancelled` stops it: the connection it
//! held to the target is dropped long before the check's own timeout.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rmcp::ServiceExt as _;
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, ClientCapabilities, ClientConfig, ClientRequest,
    Implementation, ProgressNotificationParam,
};
use rmcp::service::{NotificationContext, PeerRequestOptions};
use rmcp::{ClientHandler, RoleClient};
use tokio::io::AsyncReadExt as _;
use tokio::sync::mpsc;

#[derive(Clone)]
struct Watching(mpsc::UnboundedSender<ProgressNotificationParam>);

impl ClientHandler for Watching {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let _ = self.0.send(params);
    }

    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("progress-test", "1.0.0"),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_reports_progress_and_stops_when_cancelled() {
    // A target that accepts and never answers: the verify run waits on it.
    let target = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", target.local_addr().unwrap());
    let open = Arc::new(AtomicUsize::new(0));
    let counter = open.clone();
    let holder = tokio::spawn(async move {
        for _ in 0..32 {
            let Ok((mut sock, _)) = target.accept().await else {
                return;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                // Read until the client goes away; never answer.
                while let Ok(n) = sock.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
                counter.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    let open_for = |want: fn(usize) -> bool, within: Duration| {
        let open = open.clone();
        async move {
            let deadline = tokio::time::Instant::now() + within;
            while !want(open.load(Ordering::SeqCst)) {
                if tokio::time::Instant::now() > deadline {
                    return false;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            true
        }
    };

    let dir = tempfile::tempdir().unwrap();
    let ws = runway_mcp::Workspace {
        root: dir.path().to_path_buf(),
        config: None,
        ledger: runway_ledger::LedgerUrl::default_for(dir.path()),
    };
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    let (sr, sw) = tokio::io::split(server_io);
    tokio::spawn(runway_mcp::serve_io(ws, sr, sw));
    let (tx, mut progress) = mpsc::unbounded_channel();
    let (cr, cw) = tokio::io::split(client_io);
    let c = Watching(tx).serve((cr, cw)).await.unwrap();

    let mut p = CallToolRequestParams::new("verify");
    p.arguments = serde_json::json!({"target": url, "suite": "smoke"})
        .as_object()
        .cloned();
    let handle = c
        .peer()
        .send_cancellable_request(
            ClientRequest::CallToolRequest(CallToolRequest::new(p)),
            PeerRequestOptions::no_options(),
        )
        .await
        .unwrap();
    let token = handle.progress_token.clone();

    let first = tokio::time::timeout(Duration::from_secs(10), progress.recv())
        .await
        .expect("no progress notification within 10 s")
        .unwrap();
    assert_eq!(first.progress_token, token);
    assert_eq!(first.total, Some(1.0));
    assert!(
        first.message.as_deref().unwrap_or("").contains(&url),
        "{first:?}"
    );
    // A request is waiting on the target (held past any quick port probe).
    assert!(
        open_for(|n| n > 0, Duration::from_secs(10)).await,
        "verify never connected to the target"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(open.load(Ordering::SeqCst) > 0, "verify gave up on its own");

    handle.cancel(Some("test".into())).await.unwrap();
    // The check's own timeout is 10 s away; the cancelled run lets go at once.
    assert!(
        open_for(|n| n == 0, Duration::from_secs(3)).await,
        "the cancelled verify kept its connection to the target"
    );
    // And the server goes on serving.
    let tools = c.list_all_tools().await.unwrap();
    assert!(!tools.is_empty());
    c.cancel().await.unwrap();
    holder.abort();
}
