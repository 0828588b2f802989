//! `runway verify`: run a check suite against a URL, a `runway.toml`
//! environment or a stdio command, print the report, exit 0 or 1.
//!
//! Flags become a `runway_verify::Context`; an environment name is resolved
//! by `Context::for_environment`; the engine and the renderers do the rest.

use std::{io::Write, path::PathBuf, time::Duration};

use anyhow::Context as _;
use runway_config::token;
use runway_core::Exit;
use runway_verify::{
    Context, LoadSettings, LoadTarget, SmokeCall, Suite, Transport,
    report::{self, Format},
};

use super::Ctx;
use crate::args::{Choice, EraArg, ReportFormat, SuiteArg};
use crate::error::{UsageError, usage};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 no check failed, 1 a check failed, 2 usage or configuration error, 3 internal error.

Examples:
  runway verify https://mcp.example.com/mcp --token-env MCP_TOKEN
  runway verify production --format github
  runway verify --stdio -- python -m my_server
  runway verify --server-json server.json --token-env MCP_TOKEN"
)]
pub struct Args {
    /// The MCP endpoint URL (`https://host/mcp`) or an environment name from `runway.toml`.
    #[arg(value_name = "URL|ENV", required_unless_present_any = ["stdio", "server_json"])]
    pub target: Option<String>,

    /// Verify every remote an MCP Registry `server.json` lists (`remotes[].url`),
    /// one report each: the registry does not check that they still work.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["target", "stdio", "record"])]
    pub server_json: Option<PathBuf>,

    /// Let `--server-json` verify `http://` remotes on a loopback address
    /// (tests against a local server); anything else must be HTTPS.
    #[arg(long, hide = true, requires = "server_json")]
    pub allow_http_loopback: bool,

    /// Verify a server spoken to over stdin/stdout: the command follows `--`.
    #[arg(long, requires = "command")]
    pub stdio: bool,

    /// The stdio server's command line (after `--`).
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,

    /// Read the bearer token from this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with = "token_file")]
    pub token_env: Option<String>,

    /// Read the bearer token from this file.
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,

    /// Send the token as is in this header (`X-API-Key`) instead of
    /// `Authorization: Bearer` (`auth_header` of an environment). The token
    /// still comes from `--token-env` or `--token-file`.
    #[arg(long, value_name = "NAME")]
    pub auth_header: Option<String>,

    /// Check suite (default: the environment's `suite`, else `smoke`).
    #[arg(long, value_name = "SUITE", value_parser = Choice::<SuiteArg>::new())]
    pub suite: Option<SuiteArg>,

    /// MCP era to verify on a server that speaks both (default: `auto`).
    #[arg(long, value_name = "ERA", value_parser = Choice::<EraArg>::new())]
    pub era: Option<EraArg>,

    /// Output format.
    #[arg(long, value_name = "FORMAT", default_value = "human", value_parser = Choice::<ReportFormat>::new())]
    pub format: ReportFormat,

    /// Append this run to the ledger: every check with its (redacted) evidence.
    #[arg(long)]
    pub record: bool,

    /// The environment the recorded run belongs to (default: the environment
    /// named as the target, else `adhoc`).
    #[arg(long = "env", value_name = "NAME", requires = "record")]
    pub record_env: Option<String>,

    /// Link the recorded run to this deployment (an id from `runway ledger list`).
    #[arg(long, value_name = "ID", requires = "record")]
    pub deployment: Option<String>,

    #[command(flatten)]
    pub ledger: super::LedgerOpt,

    /// Per-request timeout in seconds.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,

    /// Time budget of the whole run in seconds.
    #[arg(long, value_name = "SECS")]
    pub run_timeout: Option<f64>,

    /// The server must report this version (`serverInfo.version` and the health `version`).
    #[arg(long, value_name = "VERSION")]
    pub expect_version: Option<String>,

    /// The server must list at least this many tools.
    #[arg(long, value_name = "N")]
    pub expect_tools: Option<usize>,

    /// A tool the server must list (repeatable).
    #[arg(long, value_name = "NAME")]
    pub require_tool: Vec<String>,

    /// A smoke call: `name` or `name={"json":"arguments"}` (repeatable).
    #[arg(long, value_name = "CALL")]
    pub call: Vec<String>,

    /// A Prometheus series `/metrics` must expose (repeatable).
    #[arg(long, value_name = "SERIES")]
    pub require_metric: Vec<String>,

    /// Run only these check groups or ids (repeatable): `--only auth --only http.health`.
    #[arg(long, value_name = "CHECK")]
    pub only: Vec<String>,

    /// Do not run these check groups or ids (repeatable).
    #[arg(long, value_name = "CHECK")]
    pub skip: Vec<String>,

    /// Load run: concurrent workers.
    #[arg(long, value_name = "N")]
    pub load_concurrency: Option<usize>,

    /// Load run: number of requests.
    #[arg(long, value_name = "N")]
    pub load_requests: Option<u64>,

    /// Load run: duration in seconds.
    #[arg(long, value_name = "SECS")]
    pub load_duration: Option<f64>,

    /// Load run: requests per second (latency measured from intended send times).
    #[arg(long, value_name = "RPS")]
    pub load_rate: Option<f64>,

    /// Load run: `GET` this path (default `/health`).
    #[arg(long, value_name = "PATH", conflicts_with = "load_call")]
    pub load_path: Option<String>,

    /// Load run: call this tool instead, `name={"json":"arguments"}`.
    #[arg(long, value_name = "CALL")]
    pub load_call: Option<String>,

    /// A missing rate limit (no 429) fails instead of warning.
    #[arg(long)]
    pub require_rate_limit: bool,

    /// The health route (`/health/live`): given, a 404 there fails
    /// (`health_path` of an environment).
    #[arg(long, value_name = "PATH")]
    pub health_path: Option<String>,

    /// The liveness route: given, a 404 there fails (`livez_path`).
    #[arg(long, value_name = "PATH")]
    pub livez_path: Option<String>,

    /// The readiness route: given, a 404 there fails (`readyz_path`).
    #[arg(long, value_name = "PATH")]
    pub readyz_path: Option<String>,

    /// The Prometheus metrics route: given, a 404 there fails (`metrics_path`).
    #[arg(long, value_name = "PATH")]
    pub metrics_path: Option<String>,

    /// Budget for the p95 of tool calls, in milliseconds (default 1000;
    /// `thresholds.tool_p95_ms`).
    #[arg(long, value_name = "MS")]
    pub tool_p95_ms: Option<u64>,

    /// Budget for the p95 of plain HTTP requests, in milliseconds (default
    /// 2000; `thresholds.api_p95_ms`).
    #[arg(long, value_name = "MS")]
    pub api_p95_ms: Option<u64>,

    /// Largest error rate of a load run, 0-1 (default 0.01;
    /// `thresholds.max_error_rate`).
    #[arg(long, value_name = "RATIO")]
    pub max_error_rate: Option<f64>,

    /// Warn when the TLS certificate expires in fewer days (default 14;
    /// `thresholds.tls_min_days`).
    #[arg(long, value_name = "DAYS")]
    pub tls_min_days: Option<u32>,
}

/// Parses `name={"a":1}` (or a bare `name`) into a tool name and JSON object arguments.
pub fn parse_call(flag: &str, s: &str) -> Result<(String, serde_json::Value), UsageError> {
    let (name, args) = match s.split_once('=') {
        Some((n, a)) => (n.trim(), a.trim()),
        None => (s.trim(), ""),
    };
    if name.is_empty() {
        return Err(UsageError::new(format!("`{flag}`: `{s}` has no tool name"))
            .with_hint(format!("write `{flag} 'echo={{\"message\":\"hi\"}}'`")));
    }
    if args.is_empty() {
        return Ok((name.to_owned(), serde_json::json!({})));
    }
    let value: serde_json::Value = serde_json::from_str(args).map_err(|e| {
        UsageError::new(format!(
            "`{flag}`: the arguments of `{name}` are not valid JSON: {e}"
        ))
        .with_hint(format!(
            "quote the whole value: `{flag} '{name}={{\"key\":\"value\"}}'`"
        ))
    })?;
    if !value.is_object() {
        return Err(UsageError::new(format!(
            "`{flag}`: the arguments of `{name}` must be a JSON object, not `{args}`"
        )));
    }
    Ok((name.to_owned(), value))
}

/// Builds the check context from flags and, for an environment name, `runway.toml`.
pub fn build_context(ctx: &Ctx, args: &Args) -> anyhow::Result<Context> {
    context_for(ctx, args, args.target.as_deref())
}

/// [`build_context`] for `target` (a URL or an environment name) instead of the one argv named.
fn context_for(ctx: &Ctx, args: &Args, target: Option<&str>) -> anyhow::Result<Context> {
    let token = match (&args.token_env, &args.token_file) {
        (Some(var), _) => Some(token::from_env(var, "`--token-env`")?),
        (None, Some(p)) => Some(token::from_file(p, "`--token-file`")?),
        (None, None) => None,
    };
    let mut c = if args.stdio {
        if target.is_some() {
            return Err(usage(
                "`--stdio` takes the command after `--`, not a URL or environment",
            ));
        }
        let mut parts = args.command.iter().cloned();
        let program = parts
            .next()
            .ok_or_else(|| usage("`--stdio` needs a command after `--`"))?;
        let transport = Transport::Stdio {
            program,
            args: parts.collect(),
            env: Vec::new(),
            cwd: None,
        };
        Context::new(transport, token, Suite::Smoke)
    } else {
        let target = target.unwrap_or_default().to_owned();
        if target.contains("://") {
            let url = runway_verify::environment::parse_url(&target)?;
            Context::new(Transport::Http { url }, token, Suite::Smoke)
        } else {
            let loaded = ctx.config()?.ok_or_else(|| {
                UsageError::new(format!("`{target}` is not a URL and there is no `runway.toml` to find an environment in"))
                    .with_hint("pass the MCP endpoint URL (`https://host/mcp`) or run `runway init`")
            })?;
            Context::for_environment(&loaded, &target, token)?
        }
    };
    if let Some(h) = &args.auth_header {
        runway_config::validate::header_name(h)
            .map_err(|e| usage(format!("`--auth-header`: {e}")))?;
        if c.auth == runway_verify::context::AuthScheme::OAuth {
            return Err(usage(
                "`--auth-header`: the environment says `auth = \"oauth\"`, whose tokens travel in `Authorization: Bearer`",
            ));
        }
        c.auth_header = Some(h.clone());
    }
    if let Some(s) = args.suite {
        c.suite = s.into();
    }
    if let Some(e) = args.era {
        c.era = e.into();
    }
    if let Some(t) = args.timeout {
        if !(t.is_finite() && t > 0.0) {
            return Err(usage(
                "`--timeout` must be a number of seconds greater than 0",
            ));
        }
        c.limits.timeout = Duration::from_secs_f64(t);
    }
    if let Some(v) = &args.expect_version {
        c.expect.version = Some(v.clone());
    }
    if let Some(n) = args.expect_tools {
        c.expect.min_tools = Some(n);
    }
    c.expect
        .required_tools
        .extend(args.require_tool.iter().cloned());
    for raw in &args.call {
        let (tool, arguments) = parse_call("--call", raw)?;
        c.expect.calls.push(SmokeCall {
            tool,
            arguments,
            expect: Default::default(),
        });
    }
    c.required_metrics
        .extend(args.require_metric.iter().cloned());
    c.toggles.only.extend(args.only.iter().cloned());
    c.toggles.disabled.extend(args.skip.iter().cloned());
    if args.require_rate_limit {
        c.rate_limit.required = true;
    }
    for (flag, value, slot, example) in [
        (
            "--health-path",
            &args.health_path,
            &mut c.paths.health,
            "/health",
        ),
        (
            "--livez-path",
            &args.livez_path,
            &mut c.paths.livez,
            "/livez",
        ),
        (
            "--readyz-path",
            &args.readyz_path,
            &mut c.paths.readyz,
            "/readyz",
        ),
        (
            "--metrics-path",
            &args.metrics_path,
            &mut c.paths.metrics,
            "/metrics",
        ),
    ] {
        let Some(p) = value else { continue };
        if !p.starts_with('/') || p.chars().any(|ch| ch.is_control() || ch.is_whitespace()) {
            return Err(usage(format!(
                "`{flag}` {p:?} must be a path starting with `/`, such as `{example}`"
            )));
        }
        *slot = Some(runway_verify::context::Endpoint::required_at(p));
    }
    for (flag, value, slot) in [
        (
            "--tool-p95-ms",
            args.tool_p95_ms,
            &mut c.thresholds.tool_p95,
        ),
        ("--api-p95-ms", args.api_p95_ms, &mut c.thresholds.api_p95),
    ] {
        match value {
            Some(0) => return Err(usage(format!("`{flag}` must be at least 1"))),
            Some(ms) => *slot = Duration::from_millis(ms),
            None => {}
        }
    }

    if let Some(r) = args.max_error_rate {
        if !(0.0..=1.0).contains(&r) {
            return Err(usage(
                "`--max-error-rate` must be between 0 and 1 (0.01 means 1%)",
            ));
        }
        c.thresholds.max_error_rate = r;
    }
    match args.tls_min_days {
        Some(0) => return Err(usage("`--tls-min-days` must be at least 1")),
        Some(d) => c.thresholds.tls_min_days = i64::from(d),
        None => {}
    }

    let load_flags = args.load_concurrency.is_some()
        || args.load_requests.is_some()
        || args.load_duration.is_some()
        || args.load_rate.is_some()
        || args.load_path.is_some()
        || args.load_call.is_some();
    if load_flags {
        let mut s = c.load.clone().unwrap_or_default();
        if let Some(n) = args.load_concurrency {
            if n == 0 {
                return Err(usage("`--load-concurrency` must be at least 1"));
            }
            s.concurrency = n;
        }
        if args.load_requests.is_some() || args.load_duration.is_some() {
            s.requests = args.load_requests;
            s.duration = match args.load_duration {
                Some(d) if d.is_finite() && d > 0.0 => Some(Duration::from_secs_f64(d)),
                Some(_) => {
                    return Err(usage(
                        "`--load-duration` must be a number of seconds greater than 0",
                    ));
                }
                None => None,
            };
        }
        if let Some(r) = args.load_rate {
            if !(r.is_finite() && r > 0.0) {
                return Err(usage("`--load-rate` must be greater than 0"));
            }
            s.rate = Some(r);
        }
        if let Some(p) = &args.load_path {
            s.target = LoadTarget::Http { path: p.clone() };
        }
        if let Some(raw) = &args.load_call {
            let (tool, arguments) = parse_call("--load-call", raw)?;
            s.target = LoadTarget::ToolCall { tool, arguments };
        }
        c.load = Some(s);
    }
    // The run budget covers a requested load run plus the other checks.
    let load_time = c
        .load
        .as_ref()
        .and_then(|l: &LoadSettings| l.duration)
        .unwrap_or_default();
    c.run_timeout = match args.run_timeout {
        Some(t) if t.is_finite() && t > 0.0 => Duration::from_secs_f64(t),
        Some(_) => {
            return Err(usage(
                "`--run-timeout` must be a number of seconds greater than 0",
            ));
        }
        None => Duration::from_secs(300) + load_time,
    };
    Ok(c)
}

/// Whether to colour stdout: a terminal and no `NO_COLOR`.
pub fn stdout_color() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Shows a progress bar on an interactive stderr while a load run goes.
fn attach_progress(c: &mut Context) -> Option<indicatif::ProgressBar> {
    if !crate::term::stderr_is_interactive() {
        return None;
    }
    let bar = indicatif::ProgressBar::hidden();
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("load {bar:30} {pos}/{len} requests ({per_sec})")
    {
        bar.set_style(style);
    }
    let b = bar.clone();
    c.progress = Some(runway_verify::Progress(std::sync::Arc::new(
        move |done, total| {
            if total > 0 && b.length() != Some(total) {
                b.set_length(total);
            }
            b.set_position(done);
        },
    )));
    Some(bar)
}

/// Prints `report` in `format` to stdout (and the GitHub step summary when asked for).
pub fn emit(
    report: &runway_core::Report,
    format: Format,
    redactor: &runway_core::Redactor,
) -> anyhow::Result<()> {
    let text = report::render(report, format, stdout_color(), redactor);
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .context("cannot write the report to stdout")?;
    if format == Format::Github
        && let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty())
    {
        let md = redactor.redact(&report::github::step_summary(report));
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(md.as_bytes()))
            .with_context(|| {
                format!(
                    "cannot append to `GITHUB_STEP_SUMMARY` (`{}`)",
                    PathBuf::from(&path).display()
                )
            })?;
    }
    Ok(())
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<Exit> {
    let format: Format = args.format.into();
    if let Some(file) = &args.server_json {
        return run_server_json(ctx, &args, file, format).await;
    }
    let mut c = build_context(ctx, &args)?;
    // Open the ledger before the run, so a bad ledger URL costs nothing.
    let ledger = if args.record {
        let mut l = ctx.open_ledger(&args.ledger).await?;
        l.set_redactor(c.redactor.clone());
        Some(l)
    } else {
        None
    };
    let wants_load = c
        .toggles
        .state("load.latency")
        .unwrap_or(runway_verify::engine::in_suite("load", c.suite) || c.load.is_some());
    let bar = if wants_load {
        attach_progress(&mut c)
    } else {
        None
    };
    let mut report = runway_verify::engine::run(&c).await;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    // The server's output is read through the environment's deploy target:
    // only an environment has one.
    if matches!(c.origin, runway_verify::context::Origin::Environment(_))
        && let Some(loaded) = ctx.config()?
    {
        runway_runbook::logcheck::add_to_report(&mut report, &c, &loaded).await;
    }
    only_matched(&c, &report)?;
    // A closed stdout must not cost the record: write it, then report the pipe.
    let emitted = emit(&report, format, &c.redactor);
    if let Some(l) = ledger {
        let env = record_environment(&args);
        let id = l
            .record_verification(&report, &env, args.deployment.as_deref())
            .await?;
        eprintln!("recorded verification `{id}` for environment `{env}`");
    }
    emitted?;
    Ok(if report.ok() {
        Exit::Success
    } else {
        Exit::Failed
    })
}

/// `runway verify --server-json FILE`: each remote the file lists, verified
/// as `runway verify URL` would with the same flags, one report each (a JSON
/// array of reports with `--format json`). A remote that is not HTTPS, or
/// whose URL still holds `{variables}`, gets a report of one check saying so.
async fn run_server_json(
    ctx: &Ctx,
    args: &Args,
    file: &std::path::Path,
    format: Format,
) -> anyhow::Result<Exit> {
    use runway_core::{CheckResult, Era, Report};
    use runway_release::server_json;

    if format == Format::Junit {
        return Err(usage(
            "`--server-json` makes one report per remote: use `--format human`, `json` or `github`",
        ));
    }
    let doc = server_json::read(file).map_err(|e| {
        UsageError::new(e.to_string()).with_hint(format!(
            "`server.json` is the MCP Registry's format: {}",
            server_json::SCHEMA_DOC
        ))
    })?;
    let remotes = server_json::remotes(&doc);
    if remotes.is_empty() {
        return Err(UsageError::new(format!(
            "`{}` lists no `remotes` to verify",
            file.display()
        ))
        .with_hint("a server the registry lists only as a package runs locally: verify it with `runway verify --stdio -- COMMAND`")
        .into());
    }
    let name = doc
        .get("name")
        .and_then(|n| n.as_str())
        .unwrap_or("server.json");
    let mut reports = Vec::new();
    // Every context holds the same token: any one's redactor hides it.
    let mut redactor = runway_core::Redactor::new();
    for r in &remotes {
        let label = format!("{name} remotes[{}]", r.index);
        let refused = |id: &str, status: runway_core::Status, message: String, hint: &str| {
            let mut check = CheckResult::new(id, status, message);
            check.hint = Some(hint.to_owned());
            Report::new(
                format!("{label} ({})", r.url),
                Era::Unknown,
                "smoke",
                chrono::Utc::now(),
                0.0,
                vec![check],
            )
        };
        if r.url.contains('{') {
            reports.push(refused(
                "server_json.remote",
                runway_core::Status::Skip,
                format!(
                    "`remotes[{}].url` `{}` is a template: a client fills in its `{{variables}}`",
                    r.index, r.url
                ),
                "verify the URL a client ends up with: `runway verify URL`",
            ));
            continue;
        }
        let url = match runway_verify::environment::parse_url(&r.url) {
            Ok(u) => u,
            Err(e) => {
                reports.push(refused(
                    "server_json.remote",
                    runway_core::Status::Fail,
                    format!("`remotes[{}].url`: {e}", r.index),
                    "list the remote's full `https://host/path` URL",
                ));
                continue;
            }
        };
        let host = url.host_str().unwrap_or_default();
        let loopback = host == "localhost"
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if url.scheme() != "https"
            && !(args.allow_http_loopback && loopback && url.scheme() == "http")
        {
            reports.push(refused(
                "server_json.remote",
                runway_core::Status::Fail,
                format!("`remotes[{}].url` `{}` is not HTTPS", r.index, r.url),
                "clients send their credentials to a listed remote: serve it over HTTPS",
            ));
            continue;
        }
        let mut c = context_for(ctx, args, Some(&r.url))?;
        c.display = c.redactor.redact(&format!("{label} ({})", r.url));
        redactor = c.redactor.clone();
        let report = runway_verify::engine::run(&c).await;
        only_matched(&c, &report)?;
        reports.push(report);
    }
    if format == Format::Json {
        let values: Vec<serde_json::Value> = reports
            .iter()
            .map(|r| {
                serde_json::from_str(&report::render(r, Format::Json, false, &redactor))
                    .context("a report did not render as JSON")
            })
            .collect::<anyhow::Result<_>>()?;
        let text = serde_json::to_string_pretty(&values)? + "\n";
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|_| out.flush())
            .context("cannot write the reports to stdout")?;
    } else {
        for r in &reports {
            emit(r, format, &redactor)?;
        }
    }
    Ok(if reports.iter().all(runway_core::Report::ok) {
        Exit::Success
    } else {
        Exit::Failed
    })
}

/// `--only` names checks: one that matches no check of the run (a typo, a
/// check of another suite or transport), or a run where nothing ran, is a
/// usage error (exit 2) naming it, never an empty pass.
fn only_matched(c: &Context, report: &runway_core::Report) -> Result<(), UsageError> {
    let ran: Vec<&str> = report
        .checks
        .iter()
        .filter(|r| r.id != "engine.nothing")
        .map(|r| r.id.as_str())
        .collect();
    for want in &c.toggles.only {
        let one = std::slice::from_ref(want);
        if !ran
            .iter()
            .any(|id| runway_verify::Toggles::matches(one, id))
        {
            let mut groups: Vec<&str> = ran
                .iter()
                .map(|id| id.split('.').next().unwrap_or(id))
                .collect();
            groups.sort_unstable();
            groups.dedup();
            return Err(UsageError::new(format!(
                "`--only {want}` matched no check of this run"
            ))
            .with_hint(if ran.is_empty() {
                "name a check id (`http.health`, `mcp.tools.list`) or a group (`auth`, `mcp`); `docs/checks.md` lists them".to_owned()
            } else {
                format!(
                    "name a check id or a group of this suite and transport (groups that ran: {}); `docs/checks.md` lists them",
                    groups.join(", ")
                )
            }));
        }
    }
    Ok(())
}

/// The environment a recorded run is filed under: `--env`, else the target
/// when it names an environment rather than a URL, else `adhoc`.
fn record_environment(args: &Args) -> String {
    if let Some(e) = &args.record_env {
        return e.clone();
    }
    match &args.target {
        Some(t) if !args.stdio && !t.contains("://") => t.clone(),
        _ => "adhoc".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_parse_with_or_without_arguments() {
        assert_eq!(
            parse_call("--call", r#"echo={"message":"hi"}"#).unwrap(),
            ("echo".into(), serde_json::json!({"message": "hi"}))
        );
        assert_eq!(
            parse_call("--call", "list").unwrap().1,
            serde_json::json!({})
        );
        let e = parse_call("--call", "echo={message:hi}").unwrap_err();
        assert!(
            e.message
                .starts_with("`--call`: the arguments of `echo` are not valid JSON"),
            "{}",
            e.message
        );
        assert!(
            parse_call("--load-call", "echo=[1]")
                .unwrap_err()
                .message
                .contains("`--load-call`")
        );
        assert!(parse_call("--call", "={}").is_err());
    }
}
