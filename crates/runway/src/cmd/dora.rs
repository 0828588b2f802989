//! `runway dora`: the four DORA metrics from the ledger and git.
//!
//! Deployments and incidents come from the ledger; each deployment's commit
//! time comes from the project's git repository, looked up once per distinct
//! SHA for the whole run in a single `git log --no-walk --ignore-missing
//! --format='%H %ct' --stdin` (the batch form of `git show -s --format=%ct`),
//! so ten thousand deployments cost one process, not ten thousand.

use std::{
    collections::{HashMap, HashSet},
    io::Write as _,
    path::Path,
    process::Stdio,
};

use chrono::{DateTime, Utc};
use runway_core::Exit;
use runway_ledger::{Filter, Kind, Outcome, dora};
use tokio::io::AsyncWriteExt as _;

use super::{
    Ctx,
    ledger::{LedgerOpt, ledger_error, open_ledger, parse_when},
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this environment (default: every environment).
    #[arg(long = "env", value_name = "ENV")]
    pub environment: Option<String>,
    /// The window: a duration back from now (`90d`, `12w`) or an RFC 3339 time.
    #[arg(long, value_name = "WHEN", default_value = "90d")]
    pub since: String,
    #[arg(long, value_enum, default_value = "human")]
    pub format: DoraFormat,
    #[command(flatten)]
    pub ledger: LedgerOpt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DoraFormat {
    Human,
    Json,
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<Exit> {
    let since = parse_when("--since", &args.since)?;
    let until = Utc::now();
    let ledger = open_ledger(ctx, &args.ledger).await?;
    let mut filter = Filter {
        kind: Some(Kind::Deployment),
        environment: args.environment.clone(),
        since: Some(since),
        ..Filter::default()
    };
    // A deployment's outcome and end are its latest status event: no need for the rest.
    let deployments = ledger.query_latest(&filter).await.map_err(ledger_error)?;
    filter.kind = Some(Kind::Incident);
    let incidents = ledger.query(&filter, false).await.map_err(ledger_error)?;
    ledger.close().await;

    let shas: HashSet<String> = deployments
        .iter()
        .filter(|d| d.outcome() == Some(Outcome::Verified))
        .filter_map(|d| d.deployment().ok().and_then(|b| b.git_sha))
        .collect();
    let repo = ctx
        .config()
        .ok()
        .flatten()
        .map(|l| l.root)
        .unwrap_or_else(|| ctx.dir());
    let commit_times = commit_times(&repo, &shas).await;

    let report = dora::compute(
        &deployments,
        &incidents,
        &commit_times,
        args.environment.as_deref(),
        since,
        until,
    );
    let mut out = std::io::stdout().lock();
    match args.format {
        DoraFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        DoraFormat::Human => write_human(&mut out, &report)?,
    }
    for n in &report.notes {
        eprintln!("note: {n}");
    }
    Ok(Exit::Success)
}

fn write_human(out: &mut impl std::io::Write, r: &dora::DoraReport) -> std::io::Result<()> {
    use runway_ledger::postmortem::human_duration;
    let hours = |h: f64| human_duration(chrono::Duration::milliseconds((h * 3_600_000.0) as i64));
    let days = (r.until - r.since).num_days();
    writeln!(
        out,
        "DORA metrics for {}, {} to {} ({days} days): {} deployment(s), {} failed",
        r.environment.as_deref().unwrap_or("every environment"),
        r.since.format("%Y-%m-%d"),
        r.until.format("%Y-%m-%d"),
        r.deployments,
        r.failed_deployments
    )?;
    let o = &r.outcomes;
    writeln!(
        out,
        "  {} verified, {} rolled back, {} failed, {} aborted (not counted); {} rollback(s), {} restore(s)",
        o.verified, o.rolled_back, o.failed, o.aborted, r.rollbacks, r.restores
    )?;
    let band = |m: &dora::Metric| m.band.map(|b| b.as_str()).unwrap_or("n/a");
    let rows = [
        (
            "deployment frequency",
            r.deployment_frequency
                .value
                .map(|v| format!("{v:.2} per day"))
                .unwrap_or_else(|| "n/a".into()),
            band(&r.deployment_frequency),
        ),
        (
            "lead time for changes",
            r.lead_time_for_changes
                .value
                .map(|v| {
                    format!(
                        "{} (median of {})",
                        hours(v),
                        r.lead_time_for_changes.sample
                    )
                })
                .unwrap_or_else(|| "n/a (no verified deployment with a known commit)".into()),
            band(&r.lead_time_for_changes),
        ),
        (
            "change failure rate",
            r.change_failure_rate
                .value
                .map(|v| format!("{v:.1}% ({} of {})", r.failed_deployments, r.deployments))
                .unwrap_or_else(|| "n/a (no deployments)".into()),
            band(&r.change_failure_rate),
        ),
        (
            "failed-deployment recovery",
            r.failed_deployment_recovery_time
                .value
                .map(|v| {
                    format!(
                        "{} (median of {})",
                        hours(v),
                        r.failed_deployment_recovery_time.sample
                    )
                })
                .unwrap_or_else(|| "n/a (no recovered failures)".into()),
            band(&r.failed_deployment_recovery_time),
        ),
    ];
    for (name, value, band) in rows {
        writeln!(out, "  {name:<28}{band:<8}{value}")?;
    }
    Ok(())
}

/// Commit time of each SHA the repository at `repo` knows; unknown SHAs (or
/// no repository, or no `git`) are simply absent.
pub(crate) async fn commit_times(
    repo: &Path,
    shas: &HashSet<String>,
) -> HashMap<String, DateTime<Utc>> {
    let valid: Vec<&String> = shas
        .iter()
        .filter(|s| s.len() >= 4 && s.len() <= 64 && s.chars().all(|c| c.is_ascii_hexdigit()))
        .collect();
    if valid.is_empty() {
        return HashMap::new();
    }
    let input: String = valid.iter().map(|s| format!("{s}\n")).collect();
    // One process for every SHA: `--ignore-missing` skips the ones this
    // repository does not have instead of failing the lot.
    let args = [
        "log",
        "--no-walk=unsorted",
        "--ignore-missing",
        "--no-notes",
        "--format=%H %ct",
        "--stdin",
    ];
    if let Some(out) = git_with_stdin(repo, &args, &input).await {
        return match_commit_times(&valid, &out);
    }
    // A SHA that names a tree or a blob fails `git log`: sort them out first.
    let Some(check) = git_with_stdin(repo, &["cat-file", "--batch-check"], &input).await else {
        return HashMap::new();
    };
    // One output line per input line: `<full sha> commit <size>` or `<input> missing`.
    let commits: Vec<&String> = check
        .lines()
        .zip(&valid)
        .filter(|(line, _)| line.split_whitespace().nth(1) == Some("commit"))
        .map(|(_, sha)| *sha)
        .collect();
    let input: String = commits.iter().map(|s| format!("{s}\n")).collect();
    match git_with_stdin(repo, &args, &input).await {
        Some(out) => match_commit_times(&commits, &out),
        None => HashMap::new(),
    }
}

/// Maps `git log --format='%H %ct'` output back to the SHAs as the ledger
/// holds them, which may be abbreviated.
fn match_commit_times(wanted: &[&String], out: &str) -> HashMap<String, DateTime<Utc>> {
    let exact: HashSet<&str> = wanted.iter().map(|s| s.as_str()).collect();
    let short: Vec<&str> = wanted
        .iter()
        .map(|s| s.as_str())
        .filter(|s| s.len() < 40)
        .collect();
    let mut times = HashMap::new();
    for line in out.lines() {
        let Some((full, secs)) = line.split_once(' ') else {
            continue;
        };
        let Some(t) = secs
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(|s| DateTime::from_timestamp(s, 0))
        else {
            continue;
        };
        if exact.contains(full) {
            times.insert(full.to_owned(), t);
        }
        for s in short.iter().filter(|s| full.starts_with(**s)) {
            times.insert((*s).to_owned(), t);
        }
    }
    times
}

async fn git_with_stdin(repo: &Path, args: &[&str], input: &str) -> Option<String> {
    let mut child = tokio::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let input = input.to_owned();
    let writer = tokio::spawn(async move {
        let _ = stdin.write_all(input.as_bytes()).await;
    });
    let out = child.wait_with_output().await.ok()?;
    let _ = writer.await;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_times_match_full_and_abbreviated_shas() {
        let full = "60c452b05b809facfdff7f9edeff769c2425a0ae".to_owned();
        let short = "9f09e3bd".to_owned();
        let missing = "1111111111111111111111111111111111111111".to_owned();
        let wanted = vec![&full, &short, &missing];
        let out = "60c452b05b809facfdff7f9edeff769c2425a0ae 1795161924\n\
                   9f09e3bd32de934a428035475b41ef099d30b39f 1795148964\n\
                   garbage\n";
        let t = match_commit_times(&wanted, out);
        assert_eq!(t.len(), 2);
        assert_eq!(t[&full].timestamp(), 1_795_161_924);
        assert_eq!(t[&short].timestamp(), 1_795_148_964);
        assert!(!t.contains_key(&missing));
    }
}
