//! Child processes, bounded: placeholders, process groups, output and time.
//!
//! Every command Runway runs for a target (the operator's deploy script, a
//! server it starts) runs in its own process group, so a timeout or a stop
//! kills everything it started, not just the first process. What a command
//! prints is kept only up to a fixed number of bytes (the tail), and what it
//! prints is redacted before anyone sees it.

use std::{
    collections::VecDeque,
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use nix::{
    sys::signal::{Signal, kill, killpg},
    unistd::Pid,
};
use runway_core::{Redactor, Secret};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Why a child could not be run to its end. A non-zero exit is not one of
/// these: it is a [`Finished`] with `success: false`.
#[derive(Debug, thiserror::Error)]
pub enum ChildError {
    #[error("failed to start `{program}`: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    /// The child ran out of time; it was killed with its process group.
    #[error("{what} did not finish within {}s", after.as_secs_f64())]
    Timeout { what: String, after: Duration },
}

/// Values substituted into command lines and instructions.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    pub version: String,
    pub port: Option<u16>,
    pub image: Option<String>,
    pub sha: Option<String>,
}

impl Vars {
    /// Replaces `{version}`, `{port}`, `{image}` and `{sha}`; other braces stay as written.
    pub fn apply(&self, template: &str) -> String {
        let mut s = template.replace("{version}", &self.version);
        if let Some(p) = self.port {
            s = s.replace("{port}", &p.to_string());
        }
        if let Some(i) = &self.image {
            s = s.replace("{image}", i);
        }
        if let Some(h) = &self.sha {
            s = s.replace("{sha}", h);
        }
        s
    }

    pub fn apply_all(&self, argv: &[String]) -> Vec<String> {
        argv.iter().map(|a| self.apply(a)).collect()
    }

    /// The first placeholder in `argv` that has no value, for a clear error.
    pub fn missing(&self, argv: &[String]) -> Option<&'static str> {
        let joined = argv.join(" ");
        [
            ("{port}", self.port.is_none()),
            ("{image}", self.image.is_none()),
            ("{sha}", self.sha.is_none()),
        ]
        .into_iter()
        .find(|(p, unset)| *unset && joined.contains(p))
        .map(|(p, _)| p)
    }
}

/// A command line as it would be typed, for messages (arguments with spaces quoted).
pub fn display(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if a.is_empty() || a.contains(char::is_whitespace) || a.contains('"') {
                format!("{a:?}")
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A redactor that hides every value in `env` (all of them secrets).
pub fn redactor_for(env: &[(String, Secret)]) -> Redactor {
    let mut r = Redactor::new();
    for (_, v) in env {
        if v.expose().len() >= 4 {
            r.add(v);
        }
    }
    r
}

/// The last `max` bytes written to it.
#[derive(Debug)]
pub struct Tail {
    buf: VecDeque<u8>,
    max: usize,
    pub truncated: bool,
}

impl Tail {
    pub fn new(max: usize) -> Tail {
        Tail {
            buf: VecDeque::new(),
            max,
            truncated: false,
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend(bytes);
        if self.buf.len() > self.max {
            let extra = self.buf.len() - self.max;
            self.buf.drain(..extra);
            self.truncated = true;
        }
    }

    pub fn text(&self) -> String {
        let (a, b) = self.buf.as_slices();
        let mut v = Vec::with_capacity(a.len() + b.len());
        v.extend_from_slice(a);
        v.extend_from_slice(b);
        String::from_utf8_lossy(&v).into_owned()
    }
}

/// What a finished command left.
#[derive(Debug, Clone)]
pub struct Finished {
    pub success: bool,
    /// `exit status 3`, `signal 9`.
    pub status: String,
    /// The tail of stdout and stderr, redacted.
    pub output: String,
    pub truncated: bool,
}

/// One bounded command.
#[derive(Debug, Clone)]
pub struct Run<'a> {
    pub argv: &'a [String],
    pub cwd: &'a Path,
    pub env: &'a [(String, Secret)],
    pub timeout: Duration,
    pub max_output: usize,
    /// Hides the secrets (not every value of `env`: a plain setting stays readable).
    pub redactor: &'a Redactor,
}

/// Runs a command in its own process group, keeping the tail of its output;
/// on timeout the whole group is killed. A non-zero exit is not an error here.
pub async fn run(r: Run<'_>) -> Result<Finished, ChildError> {
    let Some((program, args)) = r.argv.split_first() else {
        return Err(ChildError::Spawn {
            program: String::new(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "empty command"),
        });
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .current_dir(r.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    for (k, v) in r.env {
        cmd.env(k, v.expose());
    }
    let mut child = cmd.spawn().map_err(|source| ChildError::Spawn {
        program: program.clone(),
        source,
    })?;
    let pgid = child.id().map(|p| p as i32);
    let tail = Arc::new(Mutex::new(Tail::new(r.max_output)));
    let out = child.stdout.take();
    let err = child.stderr.take();
    let readers = futures_join(drain(out, tail.clone()), drain(err, tail.clone()));
    let work = async {
        tokio::pin!(readers);
        let mut read_done = false;
        let status = loop {
            tokio::select! {
                s = child.wait() => break s,
                _ = &mut readers, if !read_done => read_done = true,
            }
        };
        // A background grandchild may hold the pipes open: give them a moment, no more.
        if !read_done {
            let _ = tokio::time::timeout(Duration::from_millis(500), &mut readers).await;
        }
        status
    };
    let status = match tokio::time::timeout(r.timeout, work).await {
        Ok(s) => s.map_err(|source| ChildError::Spawn {
            program: program.clone(),
            source,
        })?,
        Err(_) => {
            if let Some(g) = pgid {
                kill_group(g, Duration::ZERO).await;
            }
            let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
            return Err(ChildError::Timeout {
                what: format!("`{}`", display(r.argv)),
                after: r.timeout,
            });
        }
    };
    let redactor = r.redactor;
    let t = tail.lock().unwrap_or_else(|p| p.into_inner());
    Ok(Finished {
        success: status.success(),
        status: describe(&status),
        output: redactor.redact(&t.text()),
        truncated: t.truncated,
    })
}

async fn futures_join<A: std::future::Future, B: std::future::Future>(a: A, b: B) {
    tokio::join!(a, b);
}

async fn drain<R: AsyncRead + Unpin>(r: Option<R>, tail: Arc<Mutex<Tail>>) {
    let Some(mut r) = r else { return };
    let mut buf = [0u8; 8192];
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => tail
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(&buf[..n]),
        }
    }
}

/// `exit status 3`, `signal 9`.
pub fn describe(status: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(s)) => format!("signal {s}"),
        _ => "an unknown status".into(),
    }
}

/// Whether a process with this id runs (a zombie does not count).
pub fn alive(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    if raw <= 0 || kill(Pid::from_raw(raw), None).is_err() {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state is the first field after the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_none_or(|state| state != "Z" && state != "X"),
        Err(_) => true,
    }
}

/// The process group of `pid`, from `/proc`, when it can be read.
pub fn group_of(pid: u32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    // Fields after the name: state, ppid, pgrp.
    rest.split_whitespace().nth(2)?.parse().ok()
}

/// Whether any live process is in group `pgid`.
fn group_alive(pgid: i32) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return killpg(Pid::from_raw(pgid), None).is_ok();
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .any(|pid| group_of(pid) == Some(pgid) && alive(pid))
}

/// Stops a whole process group: SIGTERM, then SIGKILL after `grace` (at once when zero).
/// Returns once no live process is left in it, or after a bounded wait.
pub async fn kill_group(pgid: i32, grace: Duration) {
    if pgid <= 1 {
        return;
    }
    let group = Pid::from_raw(pgid);
    if !grace.is_zero() && killpg(group, Signal::SIGTERM).is_ok() {
        let deadline = tokio::time::Instant::now() + grace;
        while tokio::time::Instant::now() < deadline {
            if !group_alive(pgid) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let _ = killpg(group, Signal::SIGKILL);
    for _ in 0..100 {
        if !group_alive(pgid) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether `program` could be started: a path to an executable file, or a name found on `PATH`.
pub fn runnable(program: &str, cwd: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let is_exec = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    if program.contains('/') {
        let p = cwd.join(program);
        return is_exec(&p).then_some(p);
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join(program))
            .find(|p| is_exec(p))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Vec<String> {
        vec!["sh".into(), "-c".into(), script.into()]
    }

    #[test]
    fn placeholders_are_substituted_and_missing_ones_named() {
        let v = Vars {
            version: "1.2.0".into(),
            port: Some(8080),
            image: None,
            sha: Some("abc".into()),
        };
        let argv = vec![
            "run".into(),
            "--v={version}".into(),
            "{port}".into(),
            "{x}".into(),
        ];
        assert_eq!(v.apply_all(&argv), ["run", "--v=1.2.0", "8080", "{x}"]);
        assert_eq!(v.missing(&["{image}".to_string()]), Some("{image}"));
        assert_eq!(v.missing(&["{sha}".to_string()]), None);
    }

    #[test]
    fn the_tail_keeps_the_last_bytes() {
        let mut t = Tail::new(4);
        t.push(b"abc");
        t.push(b"def");
        assert_eq!(t.text(), "cdef");
        assert!(t.truncated);
    }

    #[tokio::test]
    async fn output_is_bounded_and_redacted() {
        let dir = tempfile::tempdir().unwrap();
        let env = vec![("TOKEN".to_string(), Secret::new("s3cr3t-value"))];
        let f = run(Run {
            argv: &sh("head -c 100000 /dev/zero | tr '\\0' x; echo; echo token=$TOKEN; exit 3"),
            cwd: dir.path(),
            env: &env,
            timeout: Duration::from_secs(10),
            max_output: 1000,
            redactor: &redactor_for(&env),
        })
        .await
        .unwrap();
        assert!(!f.success);
        assert_eq!(f.status, "exit status 3");
        assert!(f.truncated);
        assert!(f.output.len() <= 1000, "{}", f.output.len());
        assert!(!f.output.contains("s3cr3t-value"), "{}", f.output);
        assert!(f.output.contains("token="), "{}", f.output);
    }

    #[tokio::test]
    async fn a_timeout_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("grandchild.pid");
        let script = format!("sleep 30 & echo $! > {}; wait", pidfile.display());
        let started = std::time::Instant::now();
        let e = run(Run {
            argv: &sh(&script),
            cwd: dir.path(),
            env: &[],
            timeout: Duration::from_millis(500),
            max_output: 1000,
            redactor: &Redactor::new(),
        })
        .await
        .unwrap_err();
        assert!(matches!(e, ChildError::Timeout { .. }), "{e}");
        assert!(started.elapsed() < Duration::from_secs(8));
        let grandchild: u32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(
            !alive(grandchild),
            "the background `sleep` outlived the timeout"
        );
    }

    #[test]
    fn runnable_finds_programs_on_path_and_by_path() {
        let dir = tempfile::tempdir().unwrap();
        assert!(runnable("sh", dir.path()).is_some());
        assert!(runnable("no-such-program-runway", dir.path()).is_none());
        assert!(runnable("./missing.sh", dir.path()).is_none());
    }
}
