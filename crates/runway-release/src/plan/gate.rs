//! The user's `[[release.gates]]` commands: run with `sh -c` in the project
//! root, bounded in time and in the memory their output may take.
//!
//! A gate runs in a process group of its own, so that a timeout kills the test
//! runner it started too, not only its `sh`; whatever of the group is left
//! when `sh` exits is killed as well, since nothing a gate starts may outlive
//! `release check`. Output is read through pipes (no file another user could
//! plant a symlink at) into a bounded tail, redacted whole, and only then cut
//! to what the report shows, so a secret is never cut in half and shown.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use super::CheckRow;
use crate::redact::OutputRedactor;

/// How much of a gate's output the report shows, in bytes.
const SHOWN_TAIL: usize = 4096;
/// How much of a gate's output is kept while it runs, in bytes: the shown
/// tail with room to redact before cutting.
const KEPT_TAIL: usize = 64 * 1024;
/// How long to wait for the pipes to close once the gate is over.
const DRAIN_GRACE: Duration = Duration::from_secs(2);
/// How often a running gate is polled.
const POLL: Duration = Duration::from_millis(20);

/// The last bytes a gate wrote, on stdout and stderr together.
#[derive(Debug, Default)]
struct Tail {
    bytes: Vec<u8>,
    /// True once older bytes were dropped.
    cut: bool,
}

impl Tail {
    fn push(&mut self, chunk: &[u8]) {
        self.bytes.extend_from_slice(chunk);
        // Trim only when twice over, so each byte is moved a bounded number of times.
        if self.bytes.len() > 2 * KEPT_TAIL {
            let excess = self.bytes.len() - KEPT_TAIL;
            self.bytes.drain(..excess);
            self.cut = true;
        }
    }

    /// The text the report shows: redacted first, then cut to [`SHOWN_TAIL`].
    fn shown(&self, redactor: &OutputRedactor) -> String {
        let mut bytes = &self.bytes[..];
        if self.bytes.len() > KEPT_TAIL {
            bytes = &bytes[bytes.len() - KEPT_TAIL..];
        }
        if self.cut || self.bytes.len() > KEPT_TAIL {
            // The first bytes may be the end of a secret (or of a URL with
            // credentials) whose start was dropped: no redaction can know it,
            // so skip past the longest secret and start at a whole line.
            let skip = redactor.longest_secret().min(bytes.len());
            bytes = &bytes[skip..];
            bytes = match bytes.iter().position(|b| *b == b'\n') {
                Some(nl) => &bytes[nl + 1..],
                None => &[],
            };
        }
        let text = redactor.redact(&String::from_utf8_lossy(bytes));
        let text = text.trim();
        let mut start = text.len().saturating_sub(SHOWN_TAIL);
        while !text.is_char_boundary(start) {
            start += 1;
        }
        text[start..].trim_start().to_owned()
    }
}

/// Copies one pipe into the shared tail until it closes.
fn drain(mut pipe: impl Read + Send + 'static, tail: Arc<Mutex<Tail>>, done: mpsc::Sender<()>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => tail
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(&buf[..n]),
            }
        }
        let _ = done.send(());
    });
}

#[cfg(unix)]
fn own_group(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0);
}

#[cfg(not(unix))]
fn own_group(_cmd: &mut Command) {}

/// Kills every process left in the gate's group (its id is the `sh`'s pid).
#[cfg(unix)]
fn kill_group(child: &Child) {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;
    if let Ok(pid) = i32::try_from(child.id()) {
        // ESRCH (the group is already gone) is the usual, good case.
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

#[cfg(not(unix))]
fn kill_group(_child: &Child) {}

/// Runs one gate with `sh -c`, bounded in time; its output is kept for failures only.
pub fn run_gate(root: &Path, name: &str, cmd: &str, timeout: Duration) -> CheckRow {
    let start = Instant::now();
    let title = format!("gate: {name}");
    let redactor = OutputRedactor::from_env();
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(cmd)
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    own_group(&mut command);
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            return CheckRow::new(
                &title,
                false,
                redactor.redact(&format!("`{cmd}` did not start: {e}")),
            );
        }
    };
    let tail = Arc::new(Mutex::new(Tail::default()));
    let (done_tx, done_rx) = mpsc::channel();
    let mut pipes = 0;
    if let Some(out) = child.stdout.take() {
        drain(out, Arc::clone(&tail), done_tx.clone());
        pipes += 1;
    }
    if let Some(err) = child.stderr.take() {
        drain(err, Arc::clone(&tail), done_tx.clone());
        pipes += 1;
    }
    drop(done_tx);

    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if start.elapsed() >= timeout => {
                kill_group(&child);
                let _ = child.kill();
                let _ = child.wait();
                timed_out = true;
                break None;
            }
            Ok(None) => std::thread::sleep(POLL),
            Err(_) => {
                kill_group(&child);
                let _ = child.kill();
                break None;
            }
        }
    };
    // What the gate started in the background goes with it; that also closes
    // the pipes it inherited, so the readers finish.
    kill_group(&child);
    let drained_by = Instant::now() + DRAIN_GRACE;
    for _ in 0..pipes {
        let left = drained_by.saturating_duration_since(Instant::now());
        if done_rx.recv_timeout(left).is_err() {
            break;
        }
    }
    let shown = tail
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .shown(&redactor);
    let elapsed = start.elapsed();
    let mut row = match (status, timed_out) {
        (Some(s), _) if s.success() => CheckRow::new(&title, true, format!("`{cmd}` passed")),
        (Some(s), _) => CheckRow::new(
            &title,
            false,
            format!(
                "`{cmd}` exited with {}{}",
                s.code().map_or("a signal".into(), |c| format!("code {c}")),
                if shown.is_empty() {
                    String::new()
                } else {
                    format!("\n{shown}")
                }
            ),
        ),
        (None, true) => CheckRow::new(
            &title,
            false,
            format!("`{cmd}` was stopped after {}s", timeout.as_secs()),
        )
        .hint("raise `timeout_secs` for this gate in `runway.toml` if it is just slow"),
        (None, false) => CheckRow::new(&title, false, format!("`{cmd}` could not be waited for")),
    };
    row.duration_ms = Some(elapsed.as_millis());
    // The command itself may carry a credential (`twine upload -p ...`, a URL).
    row.detail = redactor.redact(&row.detail);
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(secret: &str) -> OutputRedactor {
        let mut r = OutputRedactor::empty();
        r.add(secret);
        r
    }

    #[test]
    fn a_secret_across_the_cut_is_redacted_not_halved() {
        let secret = "pypi-AgEIcHlwaS5vcmcCJGFiY2RlZjAxMjM0NTY3ODk";
        // The old order (cut to 4 KiB, then redact) left the secret's second half.
        let mut text = String::from("uploading with ");
        text.push_str(secret);
        text.push_str(&"x".repeat(SHOWN_TAIL - secret.len() / 2));
        let mut t = Tail::default();
        t.push(text.as_bytes());
        let shown = t.shown(&redactor(secret));
        assert!(shown.len() <= SHOWN_TAIL, "{}", shown.len());
        for window in secret.as_bytes().windows(8) {
            let part = std::str::from_utf8(window).unwrap();
            assert!(!shown.contains(part), "`{part}` of the secret is shown");
        }
        assert!(shown.ends_with('x'));
    }

    #[test]
    fn the_kept_tail_is_bounded_and_a_dropped_start_never_shows_half_a_secret() {
        let secret = "hunter2hunter2hunter2";
        let mut t = Tail::default();
        // 100 lines of 8 KiB each, a secret at every line start.
        for _ in 0..100 {
            let mut line = secret.to_owned();
            line.push_str(&"y".repeat(8191 - secret.len()));
            line.push('\n');
            t.push(line.as_bytes());
            assert!(t.bytes.len() <= 2 * KEPT_TAIL + 8192);
        }
        assert!(t.cut);
        let shown = t.shown(&redactor(secret));
        assert!(!shown.contains("hunter"), "{shown}");
        assert!(shown.len() <= SHOWN_TAIL);
    }

    #[test]
    fn a_secret_whose_start_was_dropped_is_not_shown_in_part() {
        // A long secret, and enough of its redacted copies after it that the
        // shown 4 KiB would reach back to the start of the kept tail.
        let secret: String = (0..600)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        let mut text = secret.clone();
        text.push('\n');
        for _ in 0..109 {
            text.push_str(&secret);
            text.push('\n');
        }
        text.push_str("tail-marker");
        let mut t = Tail::default();
        t.push(text.as_bytes());
        // The kept tail starts inside the first secret.
        let start = text.len() - KEPT_TAIL;
        assert!(start > 0 && start < secret.len(), "{start}");
        let shown = t.shown(&redactor(&secret));
        assert!(!shown.contains(&secret[start..]), "{shown}");
        assert!(shown.ends_with("[redacted]\ntail-marker"), "{shown}");
    }
}
