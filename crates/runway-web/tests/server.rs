//! The accept loop on 127.0.0.1:0: a client that sends its headers slowly is
//! cut off, connections beyond the cap wait and are served when a slot
//! frees, idle connections holding every slot cannot starve a new client,
//! shutdown does not wait for idle connections, and a request for a `Host`
//! the server does not go by (DNS rebinding) is refused on every route.

use std::sync::Arc;
use std::time::{Duration, Instant};

use runway_ledger::{Ledger, LedgerUrl};
use runway_web::{ServeLimits, Web};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Server {
    addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
}

async fn start(limits: ServeLimits) -> Server {
    start_with(limits, Vec::new()).await
}

async fn start_with(limits: ServeLimits, hosts: Vec<String>) -> Server {
    start_web(limits, |w| w.with_hosts(hosts)).await
}

async fn start_web(limits: ServeLimits, build: impl FnOnce(Web) -> Web) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let url = LedgerUrl::parse(
        &format!("sqlite://{}", dir.path().join("ledger.db").display()),
        dir.path(),
    )
    .unwrap();
    let ledger: Arc<dyn Ledger> = Arc::from(runway_ledger::open(&url).await.unwrap());
    let web = Arc::new(build(Web::new(ledger, vec!["production".into()])));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(runway_web::serve_with(
        listener,
        web,
        async {
            let _ = stopped.await;
        },
        limits,
    ));
    Server {
        addr,
        stop: Some(stop),
        task,
        _dir: dir,
    }
}

fn limits(header_read_timeout: Duration, max_connections: usize) -> ServeLimits {
    ServeLimits {
        header_read_timeout,
        max_connections,
        ..ServeLimits::default()
    }
}

/// A GET of `/livez` on a fresh client: its status.
async fn livez(addr: std::net::SocketAddr, timeout: Duration) -> Result<u16, reqwest::Error> {
    runway_verify::http::install_crypto_provider();
    let client = reqwest::Client::builder().timeout(timeout).build().unwrap();
    let r = client.get(format!("http://{addr}/livez")).send().await?;
    Ok(r.status().as_u16())
}

/// Reads until the server closes the connection (or 10 s pass): what it
/// sent, and when it closed.
async fn read_to_close(mut r: tokio::net::tcp::OwnedReadHalf) -> (Vec<u8>, Option<Instant>) {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let end = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(end, r.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (got, Some(Instant::now())),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (got, None),
        }
    }
}

#[tokio::test]
async fn a_client_sending_its_headers_slowly_is_cut_off_while_others_are_served() {
    let s = start(limits(Duration::from_millis(400), 8)).await;
    let (r, mut w) = TcpStream::connect(s.addr).await.unwrap().into_split();
    let started = Instant::now();
    let reader = tokio::spawn(read_to_close(r));
    // One header line every 100 ms, for at most 4 s: always sending, never done.
    let dripper = tokio::spawn(async move {
        if w.write_all(b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            .await
            .is_err()
        {
            return;
        }
        for i in 0..40 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if w.write_all(format!("X-Drip-{i}: 1\r\n").as_bytes())
                .await
                .is_err()
            {
                return;
            }
        }
    });
    // Meanwhile a normal client is answered at once.
    let t = Instant::now();
    assert_eq!(livez(s.addr, Duration::from_secs(5)).await.unwrap(), 200);
    assert!(
        t.elapsed() < Duration::from_millis(350),
        "{:?}",
        t.elapsed()
    );

    let (got, closed) = reader.await.unwrap();
    let closed = closed.expect("the server never closed the slow connection");
    let took = closed - started;
    assert!(
        took >= Duration::from_millis(350) && took < Duration::from_secs(2),
        "the slow client was cut after {took:?}, expected about 400 ms"
    );
    let text = String::from_utf8_lossy(&got);
    assert!(
        !text.contains("200 OK"),
        "the slow request was served: {text}"
    );
    dripper.abort();
}

#[tokio::test]
async fn a_connection_beyond_the_cap_waits_and_is_served_when_a_slot_frees() {
    let s = start(limits(Duration::from_secs(30), 2)).await;
    // Two connections that send nothing take both slots.
    let first = TcpStream::connect(s.addr).await.unwrap();
    let second = TcpStream::connect(s.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let addr = s.addr;
    let third = tokio::spawn(async move {
        let r = livez(addr, Duration::from_secs(10)).await;
        (r.map_err(|e| e.to_string()), Instant::now())
    });
    // Queued, not refused and not served.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        !third.is_finished(),
        "a third connection was served beyond the cap of 2"
    );
    let freed = Instant::now();
    drop(first);
    let (status, answered) = tokio::time::timeout(Duration::from_secs(5), third)
        .await
        .expect("the queued client was not served after a slot freed")
        .unwrap();
    assert_eq!(status.unwrap(), 200);
    assert!(
        answered - freed < Duration::from_secs(2),
        "{:?}",
        answered - freed
    );
    drop(second);
}

#[tokio::test]
async fn idle_connections_holding_every_slot_cannot_starve_a_new_client() {
    let s = start(limits(Duration::from_millis(300), 2)).await;
    let mut idle = Vec::new();
    for _ in 0..2 {
        let (r, w) = TcpStream::connect(s.addr).await.unwrap().into_split();
        idle.push((tokio::spawn(read_to_close(r)), w));
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let t = Instant::now();
    assert_eq!(livez(s.addr, Duration::from_secs(5)).await.unwrap(), 200);
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(200) && waited < Duration::from_secs(3),
        "the new client waited {waited:?}: expected it to wait for the idle ones' 300 ms deadline"
    );
    for (reader, _w) in idle {
        let (got, closed) = reader.await.unwrap();
        assert!(closed.is_some(), "an idle connection was never closed");
        assert!(!String::from_utf8_lossy(&got).contains("200 OK"));
    }
}

#[tokio::test]
async fn shutdown_does_not_wait_for_idle_connections() {
    let mut s = start(limits(Duration::from_secs(30), 8)).await;
    let (r, _w) = TcpStream::connect(s.addr).await.unwrap().into_split();
    let reader = tokio::spawn(read_to_close(r));
    // A keep-alive connection that has been served once and is now idle.
    let mut kept = TcpStream::connect(s.addr).await.unwrap();
    kept.write_all(b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 2048];
    let n = kept.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t = Instant::now();
    s.stop.take().unwrap().send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(3), &mut s.task)
        .await
        .expect("serve did not return within 3 s of shutdown")
        .unwrap()
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(3));
    let (_, closed) = reader.await.unwrap();
    assert!(
        closed.is_some(),
        "the idle connection stayed open after shutdown"
    );
    assert!(
        TcpStream::connect(s.addr).await.is_err(),
        "still accepting after shutdown"
    );
}

#[tokio::test]
async fn limits_that_cannot_serve_are_an_error() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = LedgerUrl::parse(
        &format!("sqlite://{}", dir.path().join("ledger.db").display()),
        dir.path(),
    )
    .unwrap();
    let ledger: Arc<dyn Ledger> = Arc::from(runway_ledger::open(&url).await.unwrap());
    let web = Arc::new(Web::new(ledger, vec![]));
    let e = runway_web::serve_with(l, web, async {}, limits(Duration::from_secs(1), 0))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("max_connections"), "{e}");
}

/// One request on a fresh connection with this `Host`: the status line and the body.
async fn get_with_host(addr: std::net::SocketAddr, path: &str, host: &str) -> (String, String) {
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let (r, _w) = c.into_split();
    let (got, closed) = read_to_close(r).await;
    assert!(
        closed.is_some(),
        "the server did not close after `Connection: close`"
    );
    let text = String::from_utf8_lossy(&got).into_owned();
    let status = text.lines().next().unwrap_or_default().to_owned();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn a_foreign_host_is_refused_on_every_route_and_known_names_are_served() {
    let s = start_with(ServeLimits::default(), vec!["status.example.com".into()]).await;
    let port = s.addr.port();
    for path in [
        "/api/status",
        "/",
        "/status",
        "/metrics",
        "/livez",
        "/no-such-page",
    ] {
        for host in [
            "evil.example".to_owned(),
            format!("evil.example:{port}"),
            format!("127.0.0.1.nip.io:{port}"),
        ] {
            let (status, body) = get_with_host(s.addr, path, &host).await;
            assert!(
                status.contains(" 403 "),
                "{path} with Host {host}: {status}"
            );
            assert!(body.contains("forbidden_host"), "{body}");
            assert!(
                !body.contains("production"),
                "{path} leaked data to a foreign host: {body}"
            );
        }
    }
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        "status.example.com".to_owned(),
    ] {
        let (status, body) = get_with_host(s.addr, "/api/status", &host).await;
        assert!(status.contains(" 200 "), "Host {host}: {status}");
        assert!(body.contains("production"), "{body}");
    }
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(b"GET /api/status HTTP/1.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (r, _w) = c.into_split();
    let (got, _) = read_to_close(r).await;
    assert!(
        String::from_utf8_lossy(&got).starts_with("HTTP/1.1 400"),
        "no Host: {}",
        String::from_utf8_lossy(&got)
    );
}

#[tokio::test]
async fn a_client_without_the_token_is_limited_per_second_and_told_when_to_retry() {
    let token = "web-token-for-the-rate-limit-test";
    let s = start_web(ServeLimits::default(), |w| {
        w.with_rate_limit(5)
            .with_token(Some(runway_core::Secret::new(token.to_owned())))
    })
    .await;
    runway_verify::http::install_crypto_provider();
    let client = reqwest::Client::new();
    let url = format!("http://{}/api/status", s.addr);
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(client.get(&url).send().await.unwrap());
    }
    let codes: Vec<u16> = statuses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(&codes[..5], &[200; 5], "{codes:?}");
    let limited = statuses.last().unwrap();
    assert_eq!(limited.status().as_u16(), 429, "{codes:?}");
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(retry, 1, "a one-second window");
    assert!(limited.headers().contains_key("x-content-type-options"));
    // The operator's token is never limited.
    for _ in 0..8 {
        let r = client.get(&url).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
    // The window passes: the anonymous client is served again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        client.get(&url).send().await.unwrap().status().as_u16(),
        200
    );
    let mut s = s;
    s.stop.take().unwrap().send(()).unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(3), &mut s.task).await;
}
