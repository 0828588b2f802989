//! [`Test`]: one way to run the `runway` binary from a test, and [`Output`] to assert on.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a command may run before its process group is killed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// The `runway` binary cargo built beside the running test
/// (`target/<profile>/runway`; the test itself is in `target/<profile>/deps/`).
/// `RUNWAY_BIN` names another one.
pub fn runway_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("RUNWAY_BIN").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("the test knows its own path");
    let mut dir = exe.parent().expect("a test binary lives in a directory");
    if dir.ends_with("deps") {
        dir = dir.parent().expect("deps/ has a parent");
    }
    let bin = dir.join(format!("runway{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "the `runway` binary is not built at `{}`: run `cargo build -p runway` first (a workspace `cargo test` builds it)",
        bin.display()
    );
    bin
}

/// A run of the `runway` binary: arguments, environment, stdin, a deadline,
/// and what the output must show. Methods take `&mut self`, like
/// [`std::process::Command`], so a test can build it up in steps.
pub struct Test {
    command: Command,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
}

impl Default for Test {
    fn default() -> Self {
        Test::new()
    }
}

impl Test {
    /// `runway` with no colour and no inherited `GITHUB_REF`/`GITHUB_STEP_SUMMARY`/`RUNWAY_LOG`.
    pub fn new() -> Test {
        Test::program(runway_bin())
    }

    /// Another program with the same bounds (a fixture script, `bash -c`).
    pub fn program(program: impl AsRef<OsStr>) -> Test {
        let mut command = Command::new(program);
        command
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_REF")
            .env_remove("GITHUB_STEP_SUMMARY")
            .env_remove("RUNWAY_LOG");
        Test {
            command,
            stdin: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Test {
        self.command.arg(arg);
        self
    }

    pub fn args<I, S>(&mut self, args: I) -> &mut Test
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command.args(args);
        self
    }

    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Test {
        self.command.env(key, value);
        self
    }

    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Test
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.command.envs(vars);
        self
    }

    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Test {
        self.command.env_remove(key);
        self
    }

    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Test {
        self.command.current_dir(dir);
        self
    }

    /// The pinned fixture environment ([`crate::git::PINNED_ENV`]) with `HOME` at `home`.
    pub fn pinned(&mut self, home: impl AsRef<Path>) -> &mut Test {
        self.envs(crate::git::PINNED_ENV.iter().copied())
            .env("HOME", home.as_ref())
    }

    /// Bytes to write on the command's stdin (default: none, stdin is closed).
    pub fn stdin(&mut self, bytes: impl Into<Vec<u8>>) -> &mut Test {
        self.stdin = Some(bytes.into());
        self
    }

    pub fn timeout(&mut self, timeout: Duration) -> &mut Test {
        self.timeout = timeout;
        self
    }

    /// The underlying command, for a test that needs the process itself
    /// (to read its stdout while it runs, or to kill it half-way).
    pub fn command(&mut self) -> &mut Command {
        &mut self.command
    }

    /// The command itself, configured as above, for a test that spawns it.
    pub fn into_command(self) -> Command {
        self.command
    }

    /// Runs the command to the end (or kills its process group at the
    /// deadline, which fails the test) and returns what it printed.
    pub fn run(&mut self) -> Output {
        let mut child = self
            .command
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so a timeout kills what it started too.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", self.command.get_program()));
        let feeder = self.stdin.clone().and_then(|bytes| {
            let mut pipe = child.stdin.take()?;
            Some(std::thread::spawn(move || {
                let _ = pipe.write_all(&bytes);
            }))
        });
        let out = reader(child.stdout.take());
        let err = reader(child.stderr.take());
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for the command") {
                break status;
            }
            if Instant::now() >= deadline {
                kill_group(child.id());
                let _ = child.wait();
                panic!(
                    "{:?} {:?} did not finish within {:?}; its process group was killed",
                    self.command.get_program(),
                    self.command.get_args().collect::<Vec<_>>(),
                    self.timeout
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        if let Some(f) = feeder {
            let _ = f.join();
        }
        // A background child that kept the pipes open must not hang the test:
        // past the deadline its group is killed, which closes them.
        let collect = |rx: std::sync::mpsc::Receiver<Vec<u8>>| {
            let left = deadline.saturating_duration_since(Instant::now());
            rx.recv_timeout(left).unwrap_or_else(|_| {
                kill_group(child.id());
                rx.recv_timeout(Duration::from_secs(5)).unwrap_or_default()
            })
        };
        let stdout = collect(out);
        let stderr = collect(err);
        Output {
            status,
            stdout,
            stderr,
            what: format!(
                "{} {}",
                Path::new(self.command.get_program())
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy(),
                self.command
                    .get_args()
                    .map(|a| a.to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        }
    }

    /// [`Test::run`] on a blocking thread, for a test that serves something
    /// on its tokio runtime meanwhile (the reference server, a fake).
    pub async fn run_async(mut self) -> Output {
        tokio::task::spawn_blocking(move || self.run())
            .await
            .expect("the command's thread panicked")
    }
}

fn reader(pipe: Option<impl Read + Send + 'static>) -> std::sync::mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        let _ = tx.send(buf);
    });
    rx
}

fn kill_group(pid: u32) {
    if let Ok(pid) = i32::try_from(pid) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// What a finished command printed. The assertion methods panic with the
/// whole output, and chain: `.code(2).stderr_contains("...")`.
#[derive(Debug, Clone)]
pub struct Output {
    pub status: ExitStatus,
    /// The bytes on stdout, as [`std::process::Output`] has them.
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    what: String,
}

impl Output {
    /// The exit code (`None` when a signal ended it).
    pub fn exit_code(&self) -> Option<i32> {
        self.status.code()
    }

    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    #[track_caller]
    fn fail(&self, why: &str) -> ! {
        panic!(
            "`{}`: {why}\n--- exit: {:?}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.what,
            self.status.code(),
            self.stdout_text(),
            self.stderr_text()
        )
    }

    #[track_caller]
    pub fn code(&self, code: i32) -> &Output {
        if self.status.code() != Some(code) {
            self.fail(&format!("expected exit code {code}"));
        }
        self
    }

    #[track_caller]
    pub fn success(&self) -> &Output {
        self.code(0)
    }

    /// Any exit code but 0.
    #[track_caller]
    pub fn failure(&self) -> &Output {
        if self.status.success() {
            self.fail("expected a failure");
        }
        self
    }

    #[track_caller]
    pub fn stdout_contains(&self, needle: impl AsRef<str>) -> &Output {
        if !self.stdout_text().contains(needle.as_ref()) {
            self.fail(&format!("stdout lacks {:?}", needle.as_ref()));
        }
        self
    }

    #[track_caller]
    pub fn stderr_contains(&self, needle: impl AsRef<str>) -> &Output {
        if !self.stderr_text().contains(needle.as_ref()) {
            self.fail(&format!("stderr lacks {:?}", needle.as_ref()));
        }
        self
    }

    #[track_caller]
    pub fn stdout_lacks(&self, needle: impl AsRef<str>) -> &Output {
        if self.stdout_text().contains(needle.as_ref()) {
            self.fail(&format!("stdout has {:?}", needle.as_ref()));
        }
        self
    }

    #[track_caller]
    pub fn stderr_lacks(&self, needle: impl AsRef<str>) -> &Output {
        if self.stderr_text().contains(needle.as_ref()) {
            self.fail(&format!("stderr has {:?}", needle.as_ref()));
        }
        self
    }

    #[track_caller]
    pub fn stdout_is_empty(&self) -> &Output {
        if !self.stdout.is_empty() {
            self.fail("expected nothing on stdout");
        }
        self
    }

    #[track_caller]
    pub fn stderr_is_empty(&self) -> &Output {
        if !self.stderr.is_empty() {
            self.fail("expected nothing on stderr");
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_runs_with_stdin_and_its_output_is_asserted() {
        Test::program("sh")
            .args(["-c", "cat; echo oops >&2; exit 3"])
            .stdin("hello")
            .run()
            .code(3)
            .failure()
            .stdout_contains("hello")
            .stderr_contains("oops")
            .stdout_lacks("oops");
    }

    #[test]
    fn no_colour_and_no_inherited_github_variables() {
        let out = Test::program("sh")
            .args(["-c", "echo \"$NO_COLOR:${GITHUB_REF-unset}\""])
            .run();
        out.success().stdout_contains("1:unset");
    }

    #[test]
    fn a_command_past_its_deadline_is_killed_with_its_children() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("alive");
        let result = std::panic::catch_unwind(|| {
            Test::program("sh")
                .args([
                    "-c",
                    &format!("(sleep 2; touch '{}') & sleep 30", marker.display()),
                ])
                .timeout(Duration::from_millis(300))
                .run()
        });
        assert!(
            result.is_err(),
            "a command past its deadline must fail the test"
        );
        std::thread::sleep(Duration::from_millis(2500));
        assert!(!marker.exists(), "the grandchild outlived the timeout");
    }

    #[tokio::test]
    async fn run_async_leaves_the_runtime_free() {
        let mut t = Test::program("echo");
        t.arg("async");
        t.run_async().await.success().stdout_contains("async");
    }
}
