//! The `process` target: the server as a detached local process.
//!
//! For a single VM, the demo and the end-to-end tests. The server is started
//! from the environment's command line (`{version}`, `{port}` substituted) in
//! its own process group, with stdin closed and stdout and stderr appended to
//! `.runway/process/<env>.log`, so it outlives the `runway` that started it and
//! a terminal's Ctrl-C does not reach it. `.runway/process/<env>.json` keeps
//! what runs (pid, group, the exact command line) and what ran before it, so
//! `rollback` starts exactly the previous command line again, from any later
//! `runway`. Stopping kills the whole group: SIGTERM, then SIGKILL.
//!
//! The log is bounded each time Runway touches the environment (a deploy, a
//! status, a watch sample, `logs`): past `log_max_bytes` only its newer half is
//! kept.

pub use runway_process as child;

use std::{
    fs,
    io::{Read, Seek, SeekFrom, Write},
    path::{Path, PathBuf},
    process::Stdio,
    sync::Mutex,
    time::Duration,
};

use async_trait::async_trait;
use runway_config::{DeployConfig, TargetKind};
use serde::{Deserialize, Serialize};

use self::child::Vars;
use crate::{ArtifactCheck, DeployError, DeployRequest, Deployed, Logs, Target, health};

/// The line that opens each start's output in the process log
/// (`--- runway: starting staging 1.2.0 ---`): what follows the last one is
/// the newest start's own output.
pub const RUN_MARKER: &str = "--- runway: starting ";

/// How the process target is set up (from `[environments.<name>.deploy]`).
#[derive(Debug, Clone)]
pub struct ProcessSettings {
    pub environment: String,
    /// The project root; state lives in `<root>/.runway/process/`.
    pub root: PathBuf,
    /// The command line template.
    pub command: Vec<String>,
    pub port: Option<u16>,
    /// Where the server runs.
    pub workdir: PathBuf,
    pub log_max_bytes: u64,
    /// Time between SIGTERM and SIGKILL when stopping.
    pub stop_grace: Duration,
}

impl ProcessSettings {
    pub fn from_config(
        environment: &str,
        config: &DeployConfig,
        root: &Path,
    ) -> Result<ProcessSettings, DeployError> {
        // The name becomes file names under `.runway/process/`; the config
        // refuses anything else at load, and this keeps a caller that built
        // its own settings from escaping that directory.
        runway_config::environment::check_name(environment).map_err(|message| {
            DeployError::Config {
                environment: environment.to_owned(),
                field: "environments".into(),
                message: message.to_string(),
            }
        })?;
        let command = config.command.clone().ok_or_else(|| DeployError::Config {
            environment: environment.to_owned(),
            field: "deploy.command".into(),
            message: "the `process` target needs `command`".into(),
        })?;
        Ok(ProcessSettings {
            environment: environment.to_owned(),
            root: root.to_owned(),
            command,
            port: config.port,
            workdir: root.join(config.workdir.as_deref().unwrap_or(".")),
            log_max_bytes: config
                .log_max_bytes
                .map(|v| u64::from(v.get()))
                .unwrap_or(u64::from(DeployConfig::DEFAULT_LOG_MAX_BYTES)),
            stop_grace: Duration::from_secs(5),
        })
    }
}

/// What runs now, as written in the state file.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Running {
    deployed: Deployed,
    pid: u32,
    pgid: i32,
    argv: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct State {
    #[serde(default)]
    current: Option<Running>,
    /// What ran before `current`: the rollback artifact.
    #[serde(default)]
    previous: Option<Deployed>,
}

pub struct ProcessTarget {
    s: ProcessSettings,
    /// Children started by this `runway`, reaped so none lingers as a zombie.
    children: Mutex<Vec<std::process::Child>>,
}

impl ProcessTarget {
    pub fn new(settings: ProcessSettings) -> ProcessTarget {
        ProcessTarget {
            s: settings,
            children: Mutex::new(Vec::new()),
        }
    }

    fn dir(&self) -> PathBuf {
        self.s.root.join(".runway").join("process")
    }

    pub fn state_path(&self) -> PathBuf {
        self.dir().join(format!("{}.json", self.s.environment))
    }

    pub fn pid_path(&self) -> PathBuf {
        self.dir().join(format!("{}.pid", self.s.environment))
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir().join(format!("{}.log", self.s.environment))
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DeployError + '_ {
        move |source| DeployError::Io {
            path: path.to_owned(),
            source,
        }
    }

    fn load(&self) -> Result<State, DeployError> {
        let path = self.state_path();
        match fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| DeployError::State {
                path: path.clone(),
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
            Err(e) => Err(Self::io(&path)(e)),
        }
    }

    fn save(&self, state: &State) -> Result<(), DeployError> {
        let dir = self.dir();
        fs::create_dir_all(&dir).map_err(Self::io(&dir))?;
        let path = self.state_path();
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(state).map_err(|e| DeployError::State {
            path: path.clone(),
            message: e.to_string(),
        })?;
        fs::write(&tmp, text).map_err(Self::io(&tmp))?;
        fs::rename(&tmp, &path).map_err(Self::io(&path))?;
        let pid = self.pid_path();
        match &state.current {
            Some(r) => fs::write(&pid, format!("{}\n", r.pid)).map_err(Self::io(&pid))?,
            None => {
                let _ = fs::remove_file(&pid);
            }
        }
        Ok(())
    }

    fn reap(&self) {
        let mut kids = self.children.lock().unwrap_or_else(|p| p.into_inner());
        kids.retain_mut(|c| matches!(c.try_wait(), Ok(None)));
    }

    fn is_running(&self, r: &Running) -> bool {
        self.reap();
        child::alive(r.pid) && child::group_of(r.pid).is_none_or(|g| g == r.pgid)
    }

    /// Stops what runs now, if anything; the state keeps it as the current record.
    pub async fn stop(&self) -> Result<(), DeployError> {
        let state = self.load()?;
        if let Some(r) = &state.current
            && self.is_running(r)
        {
            child::kill_group(r.pgid, self.s.stop_grace).await;
        }
        self.reap();
        Ok(())
    }

    /// Keeps the log under its bound: past `log_max_bytes`, only the newer half stays.
    fn trim_log(&self) {
        let path = self.log_path();
        let Ok(meta) = fs::metadata(&path) else {
            return;
        };
        if meta.len() <= self.s.log_max_bytes {
            return;
        }
        let keep = self.s.log_max_bytes / 2;
        if let Ok(tail) = read_tail(&path, keep)
            && let Ok(mut f) = fs::OpenOptions::new().write(true).open(&path)
        {
            let _ = f.set_len(0);
            let _ = f.write_all(&tail);
        }
    }

    async fn start(
        &self,
        argv: Vec<String>,
        mut deployed: Deployed,
        request: &DeployRequest,
    ) -> Result<Deployed, DeployError> {
        let mut state = self.load()?;
        if let Some(r) = &state.current {
            if self.is_running(r) {
                let what = format!("{} (pid {})", r.deployed.version, r.pid);
                request.steps.intend(&format!("stop {what}")).await?;
                child::kill_group(r.pgid, self.s.stop_grace).await;
                request.steps.did(&format!("stopped {what}")).await;
            }
            state.previous = Some(r.deployed.clone());
        }
        request
            .steps
            .intend(&format!(
                "start {} (`{}`)",
                deployed.version,
                child::display(&argv)
            ))
            .await?;
        let dir = self.dir();
        fs::create_dir_all(&dir).map_err(Self::io(&dir))?;
        let log = self.log_path();
        self.trim_log();
        let mut out = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(Self::io(&log))?;
        let _ = writeln!(
            out,
            "{RUN_MARKER}{} {} ---",
            request.environment, deployed.version
        );
        // With a keeper, the server writes into a pipe and the keeper bounds the file.
        let keeper = LOG_KEEPER.get();
        let (stdout, stderr, keeper_in) = match keeper {
            Some(_) => {
                let (r, w) = std::io::pipe().map_err(Self::io(&log))?;
                let w2 = w.try_clone().map_err(Self::io(&log))?;
                (Stdio::from(w), Stdio::from(w2), Some(r))
            }
            None => {
                let err = out.try_clone().map_err(Self::io(&log))?;
                (Stdio::from(out), Stdio::from(err), None)
            }
        };
        let (program, args) = argv.split_first().ok_or_else(|| DeployError::Config {
            environment: self.s.environment.clone(),
            field: "deploy.command".into(),
            message: "the command line is empty".into(),
        })?;
        let mut cmd = std::process::Command::new(program);
        cmd.args(args)
            .current_dir(&self.s.workdir)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        for (k, v) in &request.env {
            cmd.env(k, v.expose());
        }
        let mut spawned = cmd.spawn().map_err(|source| DeployError::Spawn {
            program: program.clone(),
            source,
        })?;
        // Our copies of the pipe's write end go, so the keeper sees the end.
        drop(cmd);
        let pid = spawned.id();
        let pgid = i32::try_from(pid).unwrap_or(i32::MAX);
        let mut keeper_child: Option<std::process::Child> = None;
        if let (Some(argv), Some(input)) = (keeper, keeper_in)
            && let Some((program, args)) = argv.split_first()
        {
            let mut k = std::process::Command::new(program);
            k.args(args)
                .arg("--file")
                .arg(&log)
                .arg("--max-bytes")
                .arg(self.s.log_max_bytes.to_string())
                .current_dir(&self.s.workdir)
                .stdin(Stdio::from(input))
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            // In the server's group: stopping the server stops its keeper.
            std::os::unix::process::CommandExt::process_group(&mut k, pgid);
            match k.spawn() {
                Ok(c) => keeper_child = Some(c),
                Err(source) => {
                    child::kill_group(pgid, self.s.stop_grace).await;
                    return Err(DeployError::Spawn {
                        program: program.clone(),
                        source,
                    });
                }
            }
        }
        deployed.revision = Some(pid.to_string());
        deployed.since = Some(chrono::Utc::now());
        deployed.detail = serde_json::json!({
            "command": argv,
            "pid": pid,
            "log": log.display().to_string(),
            "workdir": self.s.workdir.display().to_string(),
        });
        if !request.env_record.is_empty()
            && let Ok(env) = serde_json::to_value(&request.env_record)
        {
            deployed.detail["env"] = env;
        }
        state.current = Some(Running {
            deployed: deployed.clone(),
            pid,
            pgid,
            argv: argv.clone(),
        });
        self.save(&state)?;
        request
            .steps
            .did(&format!("started {} (pid {pid})", deployed.version))
            .await;

        let log_for_error = log.clone();
        // A server that exited: its last words are still in the keeper's
        // pipe. The keeper writes them and ends at the pipe's end; wait for
        // that (bounded) so the log read next holds them.
        let mut exited: Option<(std::time::Instant, String)> = None;
        let mut gone = || {
            if exited.is_none()
                && let Ok(Some(status)) = spawned.try_wait()
            {
                exited = Some((std::time::Instant::now(), child::describe(&status)));
            }
            let (at, status) = exited.as_ref()?;
            let draining = keeper_child
                .as_mut()
                .is_some_and(|k| matches!(k.try_wait(), Ok(None)));
            if draining && at.elapsed() < KEEPER_DRAIN {
                return None;
            }
            Some(DeployError::Exited {
                status: status.clone(),
                log: String::from_utf8_lossy(&read_tail(&log_for_error, 4096).unwrap_or_default())
                    .into_owned(),
            })
        };
        let waited = health::wait(&request.health, &mut gone).await;
        let mut children = self.children.lock().unwrap_or_else(|p| p.into_inner());
        children.push(spawned);
        children.extend(keeper_child);
        drop(children);
        waited.map(|()| deployed)
    }
}

/// The program that keeps a server's log bounded after `runway` exits, when
/// one is set: an argv to which `--file PATH --max-bytes N` is appended, whose
/// stdin is the server's stdout and stderr. The binary sets its own
/// `runway process-log` at start-up; without one (a library caller), the
/// server appends to the log directly and it is trimmed whenever Runway
/// touches the environment.
static LOG_KEEPER: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

/// How long a server's exit waits for its log keeper to write what was left
/// in the pipe.
const KEEPER_DRAIN: Duration = Duration::from_secs(2);

/// Sets the log keeper for every process target of this process (once).
pub fn set_log_keeper(argv: Vec<String>) {
    let _ = LOG_KEEPER.set(argv);
}

/// `runway process-log`: copies `input` to the end of `path` until it ends,
/// keeping the file at most `max_bytes` long (past it, only the newer half
/// stays), so a server that runs for months cannot fill the disk.
pub fn keep_log(path: &Path, max_bytes: u64, mut input: impl Read) -> std::io::Result<()> {
    let max_bytes = max_bytes.max(1024);
    let mut f = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let mut size = f.metadata()?.len();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        f.write_all(&buf[..n])?;
        size += n as u64;
        if size > max_bytes {
            let tail = read_tail(path, max_bytes / 2)?;
            f.set_len(0)?;
            f.write_all(&tail)?;
            size = tail.len() as u64;
        }
    }
}

/// The last `max` bytes of a file.
fn read_tail(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let mut f = fs::File::open(path)?;
    let len = f.metadata()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(max)))?;
    let mut v = Vec::new();
    f.take(max).read_to_end(&mut v)?;
    Ok(v)
}

fn argv_of(d: &Deployed) -> Option<Vec<String>> {
    let arr = d.detail.get("command")?.as_array()?;
    let v: Vec<String> = arr
        .iter()
        .map(|a| a.as_str().map(str::to_owned))
        .collect::<Option<_>>()?;
    (!v.is_empty()).then_some(v)
}

#[async_trait]
impl Target for ProcessTarget {
    fn kind(&self) -> TargetKind {
        TargetKind::Process
    }

    async fn current(&self) -> Result<Option<Deployed>, DeployError> {
        self.trim_log();
        let state = self.load()?;
        Ok(state
            .current
            .filter(|r| self.is_running(r))
            .map(|r| r.deployed))
    }

    async fn check_artifact(&self, previous: &Deployed) -> ArtifactCheck {
        let Some(argv) = argv_of(previous) else {
            return ArtifactCheck {
                ok: false,
                what: format!("no recorded command line for {}", previous.version),
                hint: Some(
                    "deploy the previous version once with Runway so its command line is kept"
                        .into(),
                ),
            };
        };
        let shown = child::display(&argv);
        match child::runnable(&argv[0], &self.s.workdir) {
            Some(_) => ArtifactCheck {
                ok: true,
                what: format!("previous command `{shown}` is runnable"),
                hint: None,
            },
            None => ArtifactCheck {
                ok: false,
                what: format!(
                    "previous command `{shown}`: `{}` is not found or not executable",
                    argv[0]
                ),
                hint: Some(format!(
                    "install `{}` or fix the environment's `deploy.command`",
                    argv[0]
                )),
            },
        }
    }

    async fn deploy(&self, request: &DeployRequest) -> Result<Deployed, DeployError> {
        let vars = Vars {
            version: request.version.clone(),
            port: request.port.or(self.s.port),
            image: request.image.clone(),
            sha: request.sha.clone(),
        };
        if let Some(p) = vars.missing(&self.s.command) {
            return Err(DeployError::Config {
                environment: self.s.environment.clone(),
                field: "deploy.command".into(),
                message: format!("the command line uses `{p}`, which has no value here"),
            });
        }
        let argv = vars.apply_all(&self.s.command);
        let deployed = Deployed {
            version: request.version.clone(),
            image: None,
            digest: None,
            revision: None,
            since: None,
            detail: serde_json::Value::Null,
        };
        self.start(argv, deployed, request).await
    }

    async fn rollback(
        &self,
        to: &Deployed,
        request: &DeployRequest,
    ) -> Result<Deployed, DeployError> {
        let argv = argv_of(to).ok_or_else(|| DeployError::NothingToRollBack {
            environment: self.s.environment.clone(),
            why: format!("no command line is recorded for {}", to.version),
        })?;
        let mut back = to.clone();
        back.detail = serde_json::Value::Null;
        self.start(argv, back, request).await
    }

    async fn stop_current(&self) -> Result<bool, DeployError> {
        self.stop().await?;
        Ok(true)
    }

    async fn logs(&self, max_bytes: usize) -> Result<Logs, DeployError> {
        self.trim_log();
        let path = self.log_path();
        let len = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let bytes = match read_tail(&path, max_bytes as u64) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Self::io(&path)(e)),
        };
        Ok(Logs {
            source: path.display().to_string(),
            version: None,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            truncated: len > max_bytes as u64,
        })
    }
}

impl ProcessTarget {
    /// What ran before what runs now, as the state file remembers it.
    pub fn previous(&self) -> Result<Option<Deployed>, DeployError> {
        Ok(self.load()?.previous)
    }
}
