//! A stdio MCP server as a child process Runway owns and watches.
//!
//! rmcp speaks MCP to the child, but every byte passes through here first, so
//! that what rmcp would hide or cannot do is seen and reported:
//! - stdout is read line by line (each line bounded in bytes); a line that is
//!   not a JSON-RPC message is kept (the first one, bounded) for
//!   `mcp.stdio.stdout`, since the stdio transport says a server MUST NOT
//!   write anything else there, and is never passed on to rmcp;
//! - stderr is drained (a server blocked on a full pipe would look hung) and
//!   its last lines are kept, bounded, for the failure of a server that exits;
//! - the exit status is recorded as soon as the child exits;
//! - raw lines (malformed JSON, invalid requests) can be written to the
//!   child's stdin between rmcp's messages ([`StdioChild::probe`]); answers
//!   to them (a null id or an id with [`RAW_ID_PREFIX`]) come back here
//!   instead of confusing rmcp.
//!
//! The child runs in its own process group, and the whole group is killed
//! when the [`StdioChild`] is dropped.

use std::{
    collections::VecDeque,
    io,
    process::Stdio,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use runway_core::Redactor;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader, DuplexStream},
    process::{Child, ChildStdin},
    sync::{mpsc, watch},
    task::JoinHandle,
};

/// Ids of the requests Runway writes itself start with this, so their answers
/// are told apart from rmcp's (which uses numbers).
pub const RAW_ID_PREFIX: &str = "runway-raw-";
/// How many of the last stderr lines are kept, and how long each may be.
pub const STDERR_LINES: usize = 20;
pub const STDERR_LINE_BYTES: usize = 512;
/// How much of a non-MCP stdout line is quoted.
pub const QUOTE_BYTES: usize = 200;
/// After a server's first non-MCP line, how long the handshake may still take
/// before the server is declared to be printing garbage.
pub const GARBAGE_GRACE: Duration = Duration::from_secs(2);

/// The first line on stdout that was not an MCP message.
#[derive(Debug, Clone)]
pub struct Offence {
    /// 1-based line number on the child's stdout.
    pub line: u64,
    /// The line, its secrets removed, then cut to [`QUOTE_BYTES`].
    pub text: String,
    /// Whether the server had written no MCP message before it.
    pub before_mcp: bool,
}

/// What the watchers have seen so far.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// JSON-RPC messages read from stdout.
    pub mcp_messages: u64,
    /// Lines on stdout that were not JSON-RPC messages.
    pub offences: u64,
    /// `notifications/message` (log messages) read from stdout.
    pub log_messages: u64,
    pub first_offence: Option<Offence>,
    /// Lines longer than the line limit (dropped).
    pub oversized: u64,
    pub stdout_closed: bool,
    /// `exit status 3`, `signal 9`, once the child has exited.
    pub exit: Option<String>,
    /// The last lines of stderr, each cut to [`STDERR_LINE_BYTES`].
    pub stderr_tail: VecDeque<String>,
}

impl Seen {
    /// The last `n` stderr lines, joined with ` | ` (for a one-line message).
    pub fn stderr_summary(&self, n: usize) -> Option<String> {
        let lines: Vec<&str> = self
            .stderr_tail
            .iter()
            .skip(self.stderr_tail.len().saturating_sub(n))
            .map(String::as_str)
            .collect();
        (!lines.is_empty()).then(|| lines.join(" | "))
    }

    /// Why no MCP conversation is possible, when that is already certain:
    /// the child exited or closed stdout, or it writes garbage and no MCP.
    fn fatal(&self, since_offence: Option<Duration>) -> bool {
        self.exit.is_some()
            || self.stdout_closed
            || (self.mcp_messages == 0 && since_offence.is_some_and(|d| d >= GARBAGE_GRACE))
    }
}

struct Shared {
    seen: Mutex<Seen>,
    /// Bumped on every change of `seen`, so waiters never miss one.
    changed: watch::Sender<u64>,
    /// When the first non-MCP line arrived.
    first_offence_at: Mutex<Option<Instant>>,
    /// Removes secrets from what is quoted, before it is cut.
    redactor: Redactor,
}

impl Shared {
    fn update(&self, f: impl FnOnce(&mut Seen)) {
        f(&mut self.seen.lock().unwrap_or_else(|p| p.into_inner()));
        self.changed.send_modify(|v| *v += 1);
    }

    fn snapshot(&self) -> Seen {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// How long a probe waits for a raw line's answer after the `ping` behind it
/// was answered (servers may answer out of order).
const LATE_ANSWER: Duration = Duration::from_millis(500);

/// The answer to a raw line, and whether the server still answers after it.
#[derive(Debug, Clone)]
pub struct Probe {
    /// The first answer with a null id or the raw line's id.
    pub reply: Option<Value>,
    /// Whether the `ping` sent after the raw line was answered in time.
    pub alive: bool,
    /// A non-MCP line the server wrote while the probe ran.
    pub garbage: Option<String>,
    /// The child's exit status, if it exited during the probe.
    pub exit: Option<String>,
    pub stderr: Option<String>,
    pub elapsed: Duration,
}

/// A running stdio server; the whole process group dies with this value.
pub struct StdioChild {
    pgid: Option<i32>,
    stdin: Arc<tokio::sync::Mutex<Option<ChildStdin>>>,
    shared: Arc<Shared>,
    raw: tokio::sync::Mutex<mpsc::Receiver<Value>>,
    next_raw: AtomicU64,
    tasks: Vec<JoinHandle<()>>,
}

impl StdioChild {
    /// Starts `cmd` in its own process group with piped stdio. Returns the
    /// child and the two ends rmcp talks through (read, write).
    pub fn spawn(
        mut cmd: tokio::process::Command,
        max_line: usize,
        redactor: Redactor,
    ) -> io::Result<(StdioChild, DuplexStream, DuplexStream)> {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        let mut child = cmd.spawn()?;
        let pgid = child.id().and_then(|p| i32::try_from(p).ok());
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(io::Error::other("the child's stdio could not be piped"));
        };
        let (changed, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            seen: Mutex::new(Seen::default()),
            changed,
            first_offence_at: Mutex::new(None),
            redactor,
        });
        let stdin = Arc::new(tokio::sync::Mutex::new(Some(stdin)));
        // rmcp reads what the stdout task passes on, and writes into a pipe
        // that the stdin task copies to the child, one whole line at a time.
        let (rmcp_read, to_rmcp) = tokio::io::duplex(64 * 1024);
        let (rmcp_write, from_rmcp) = tokio::io::duplex(64 * 1024);
        let (raw_tx, raw_rx) = mpsc::channel(64);
        let tasks = vec![
            tokio::spawn(read_stdout(
                BufReader::new(stdout),
                to_rmcp,
                raw_tx,
                shared.clone(),
                max_line,
            )),
            tokio::spawn(read_stderr(BufReader::new(stderr), shared.clone())),
            tokio::spawn(copy_lines(BufReader::new(from_rmcp), stdin.clone())),
            tokio::spawn(wait_exit(child, shared.clone())),
        ];
        Ok((
            StdioChild {
                pgid,
                stdin,
                shared,
                raw: tokio::sync::Mutex::new(raw_rx),
                next_raw: AtomicU64::new(1),
                tasks,
            },
            rmcp_read,
            rmcp_write,
        ))
    }

    /// What has been seen so far.
    pub fn seen(&self) -> Seen {
        self.shared.snapshot()
    }

    /// A fresh raw request id.
    pub fn raw_id(&self) -> String {
        format!(
            "{RAW_ID_PREFIX}{}",
            self.next_raw.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Resolves once no MCP conversation is possible any more: the child
    /// exited, closed stdout, or wrote non-MCP output and no MCP message for
    /// [`GARBAGE_GRACE`].
    pub async fn fatal(&self) -> Seen {
        let mut rx = self.shared.changed.subscribe();
        loop {
            let since = self
                .shared
                .first_offence_at
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .map(|t| t.elapsed());
            let seen = self.shared.snapshot();
            if seen.fatal(since) {
                return seen;
            }
            // Wake on a change, or when the grace after garbage runs out.
            let wait = match since {
                Some(d) if seen.mcp_messages == 0 => GARBAGE_GRACE.saturating_sub(d),
                _ => Duration::from_secs(3600),
            };
            let _ = tokio::time::timeout(wait, rx.changed()).await;
        }
    }

    /// Waits up to `wait` for the exit status once stdout has closed (the
    /// child may close it a moment before it is reaped).
    pub async fn settle(&self, wait: Duration) -> Seen {
        let mut rx = self.shared.changed.subscribe();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let seen = self.shared.snapshot();
            if seen.exit.is_some() || !seen.stdout_closed {
                return seen;
            }
            if tokio::time::timeout_at(deadline, rx.changed())
                .await
                .is_err()
            {
                return self.shared.snapshot();
            }
        }
    }

    /// Writes one raw line to the child's stdin.
    pub async fn write_raw(&self, line: &str) -> io::Result<()> {
        let mut guard = self.stdin.lock().await;
        let Some(stdin) = guard.as_mut() else {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the server's stdin is closed",
            ));
        };
        let mut bytes = line.as_bytes().to_vec();
        bytes.push(b'\n');
        stdin.write_all(&bytes).await?;
        stdin.flush().await
    }

    /// Writes `line` (if any), then a `ping` (with `ping_params`), and waits up
    /// to `timeout` for the ping's answer, keeping the first answer with a
    /// null id or `line_id` that comes before it. Since stdout is ordered,
    /// everything the server wrote before answering the ping has been read
    /// once this returns with `alive`.
    pub async fn probe(
        &self,
        line: Option<&str>,
        line_id: Option<&str>,
        ping_params: Value,
        timeout: Duration,
    ) -> Probe {
        let start = Instant::now();
        let mut raw = self.raw.lock().await;
        while raw.try_recv().is_ok() {}
        let before = self.shared.snapshot().offences;
        let ping_id = self.raw_id();
        let ping =
            json!({"jsonrpc": "2.0", "id": ping_id, "method": "ping", "params": ping_params});
        let mut reply = None;
        let mut alive = false;
        let written = match line {
            Some(line) => self.write_raw(line).await,
            None => Ok(()),
        };
        let written = match written {
            Ok(()) => self.write_raw(&ping.to_string()).await,
            Err(e) => Err(e),
        };
        if written.is_ok() {
            let mut rx = self.shared.changed.subscribe();
            let mut deadline = tokio::time::Instant::now() + timeout;
            loop {
                if self.shared.snapshot().stdout_closed {
                    // Answers already read are still in the channel.
                    while let Ok(msg) = raw.try_recv() {
                        if msg.get("id").and_then(Value::as_str) == Some(ping_id.as_str()) {
                            alive = true;
                        } else if reply.is_none() {
                            reply = Some(msg);
                        }
                    }
                    break;
                }
                tokio::select! {
                    msg = raw.recv() => match msg {
                        Some(msg) => {
                            let id = msg.get("id").cloned().unwrap_or(Value::Null);
                            if id.as_str() == Some(ping_id.as_str()) {
                                alive = true;
                                // A server may answer requests out of order (the
                                // ping before a slower request): give the line's
                                // own answer a moment more.
                                if reply.is_some() || line_id.is_none() {
                                    break;
                                }
                                deadline = deadline.min(tokio::time::Instant::now() + LATE_ANSWER);
                                continue;
                            }
                            if reply.is_none() && (id.is_null() || id.as_str() == line_id) {
                                reply = Some(msg);
                                if alive {
                                    break;
                                }
                            }
                        }
                        None => break,
                    },
                    changed = tokio::time::timeout_at(deadline, rx.changed()) => {
                        if changed.is_err() {
                            break;
                        }
                    }
                }
            }
        }
        drop(raw);
        let seen = if alive {
            self.shared.snapshot()
        } else {
            self.settle(Duration::from_millis(500)).await
        };
        let garbage = (seen.offences > before)
            .then(|| seen.first_offence.as_ref().map(|o| o.text.clone()))
            .flatten();
        Probe {
            reply,
            alive,
            garbage,
            exit: seen.exit.clone(),
            stderr: seen.stderr_summary(3),
            elapsed: start.elapsed(),
        }
    }
}

impl Drop for StdioChild {
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid.filter(|p| *p > 1) {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pgid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// `exit status 3`, `signal 9`.
fn describe(status: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(s)) => format!("signal {s}"),
        _ => "an unknown status".into(),
    }
}

async fn wait_exit(mut child: Child, shared: Arc<Shared>) {
    if let Ok(status) = child.wait().await {
        shared.update(|s| s.exit = Some(describe(&status)));
    }
}

/// One line of at most `max` bytes (the rest of a longer line is skipped);
/// `None` at the end of the stream. The flag says the line was cut.
pub async fn read_line_bounded<R: AsyncBufRead + Unpin>(
    r: &mut R,
    max: usize,
) -> io::Result<Option<(Vec<u8>, bool)>> {
    let mut buf = Vec::new();
    let mut cut = false;
    loop {
        let chunk = r.fill_buf().await?;
        if chunk.is_empty() {
            return Ok((!buf.is_empty() || cut).then_some((buf, cut)));
        }
        let (take, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let room = max.saturating_sub(buf.len());
        if take > room {
            cut = true;
        }
        buf.extend_from_slice(&chunk[..take.min(room)]);
        r.consume(take);
        if done {
            return Ok(Some((buf, cut)));
        }
    }
}

/// How a stdout line is treated.
#[derive(Debug, PartialEq)]
pub enum LineKind {
    /// A JSON-RPC message for rmcp.
    Mcp,
    /// An answer to one of Runway's raw lines (null id or a raw id).
    Raw(Value),
    /// Whitespace only: ignored.
    Blank,
    /// Anything else: a banner, a log line, JSON that is not JSON-RPC.
    NotMcp,
}

fn is_message(v: &Value) -> bool {
    v.get("jsonrpc").and_then(Value::as_str) == Some("2.0")
}

/// Sorts one stdout line (without its newline).
pub fn classify(line: &[u8]) -> LineKind {
    let text = line.strip_suffix(b"\r").unwrap_or(line);
    if text.iter().all(u8::is_ascii_whitespace) {
        return LineKind::Blank;
    }
    let Ok(v) = serde_json::from_slice::<Value>(text) else {
        return LineKind::NotMcp;
    };
    match &v {
        Value::Object(_) if is_message(&v) => {
            let answer = v.get("result").is_some() || v.get("error").is_some();
            // A server that cannot tell the id sends null, or (rmcp) no id at all.
            let raw_id = match v.get("id") {
                None | Some(Value::Null) => true,
                Some(Value::String(s)) => s.starts_with(RAW_ID_PREFIX),
                _ => false,
            };
            if answer && raw_id {
                LineKind::Raw(v)
            } else {
                LineKind::Mcp
            }
        }
        Value::Array(items) if !items.is_empty() && items.iter().all(is_message) => LineKind::Mcp,
        _ => LineKind::NotMcp,
    }
}

async fn read_stdout<R: AsyncBufRead + Unpin, W: AsyncWrite + Unpin>(
    mut stdout: R,
    mut to_rmcp: W,
    raw: mpsc::Sender<Value>,
    shared: Arc<Shared>,
    max_line: usize,
) {
    let mut number = 0u64;
    let mut rmcp_open = true;
    while let Ok(Some((mut line, cut))) = read_line_bounded(&mut stdout, max_line).await {
        number += 1;
        if cut {
            shared.update(|s| s.oversized += 1);
            continue;
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        match classify(&line) {
            LineKind::Blank => {}
            LineKind::Raw(v) => {
                shared.update(|s| s.mcp_messages += 1);
                let _ = raw.try_send(v);
            }
            LineKind::Mcp => {
                let log = line
                    .windows(b"notifications/message".len())
                    .any(|w| w == b"notifications/message")
                    && serde_json::from_slice::<Value>(&line).is_ok_and(|v| {
                        v.get("method").and_then(Value::as_str) == Some("notifications/message")
                    });
                shared.update(|s| {
                    s.mcp_messages += 1;
                    s.log_messages += u64::from(log);
                });
                if rmcp_open {
                    line.push(b'\n');
                    rmcp_open =
                        to_rmcp.write_all(&line).await.is_ok() && to_rmcp.flush().await.is_ok();
                }
            }
            LineKind::NotMcp => {
                {
                    let mut at = shared
                        .first_offence_at
                        .lock()
                        .unwrap_or_else(|p| p.into_inner());
                    at.get_or_insert_with(Instant::now);
                }
                let text = crate::http::redacted_excerpt(&shared.redactor, &line, QUOTE_BYTES);
                shared.update(|s| {
                    s.offences += 1;
                    if s.first_offence.is_none() {
                        s.first_offence = Some(Offence {
                            line: number,
                            text,
                            before_mcp: s.mcp_messages == 0,
                        });
                    }
                });
            }
        }
    }
    let _ = to_rmcp.shutdown().await;
    shared.update(|s| s.stdout_closed = true);
}

async fn read_stderr<R: AsyncBufRead + Unpin>(mut stderr: R, shared: Arc<Shared>) {
    // Read past the kept length, so a secret that straddles it is redacted whole.
    let read = STDERR_LINE_BYTES + crate::http::REDACT_WINDOW;
    while let Ok(Some((line, _))) = read_line_bounded(&mut stderr, read).await {
        let line = line.trim_ascii_end();
        let text = crate::http::redacted_excerpt(&shared.redactor, line, STDERR_LINE_BYTES);
        if text.is_empty() {
            continue;
        }
        shared.update(|s| {
            if s.stderr_tail.len() == STDERR_LINES {
                s.stderr_tail.pop_front();
            }
            s.stderr_tail.push_back(text);
        });
    }
}

/// Copies rmcp's output to the child's stdin a whole line at a time, so a
/// raw line written in between never lands inside one of rmcp's messages.
async fn copy_lines<R: AsyncBufRead + Unpin>(
    mut from: R,
    stdin: Arc<tokio::sync::Mutex<Option<ChildStdin>>>,
) {
    let mut line = Vec::new();
    loop {
        line.clear();
        match from.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let mut guard = stdin.lock().await;
        let Some(s) = guard.as_mut() else { break };
        if s.write_all(&line).await.is_err() || s.flush().await.is_err() {
            break;
        }
    }
    // rmcp is done: closing stdin tells the server to end.
    stdin.lock().await.take();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_sorted_into_mcp_raw_answers_and_the_rest() {
        assert_eq!(
            classify(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#),
            LineKind::Mcp
        );
        assert_eq!(
            classify(br#"{"jsonrpc":"2.0","method":"notifications/message"}"#),
            LineKind::Mcp
        );
        assert!(matches!(
            classify(br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700}}"#),
            LineKind::Raw(_)
        ));
        assert!(matches!(
            classify(br#"{"jsonrpc":"2.0","error":{"code":-32600}}"#),
            LineKind::Raw(_)
        ));
        assert!(matches!(
            classify(br#"{"jsonrpc":"2.0","id":"runway-raw-3","result":{}}"#),
            LineKind::Raw(_)
        ));
        assert_eq!(classify(b"  \r"), LineKind::Blank);
        assert_eq!(classify(b"Server listening on stdio"), LineKind::NotMcp);
        assert_eq!(
            classify(br#"{"level":"info","msg":"up"}"#),
            LineKind::NotMcp
        );
        assert_eq!(classify(b"[]"), LineKind::NotMcp);
    }

    #[tokio::test]
    async fn a_long_line_is_cut_and_the_next_line_still_read() {
        let data = format!("{}\nnext\nlast", "x".repeat(100));
        let mut r = BufReader::with_capacity(8, data.as_bytes());
        let (first, cut) = read_line_bounded(&mut r, 10).await.unwrap().unwrap();
        assert!(cut);
        assert_eq!(first, b"xxxxxxxxxx");
        let (next, cut) = read_line_bounded(&mut r, 10).await.unwrap().unwrap();
        assert_eq!((next.as_slice(), cut), (&b"next\n"[..], false));
        let (last, _) = read_line_bounded(&mut r, 10).await.unwrap().unwrap();
        assert_eq!(last, b"last");
        assert!(read_line_bounded(&mut r, 10).await.unwrap().is_none());
    }
}
