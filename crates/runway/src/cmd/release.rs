//! `runway release`: status, bump, changelog, check and hotfix; after the
//! release, notes, report, yank and announce (`release_post.rs`).
//!
//! The work happens in runway-release; this module parses flags, prints
//! (data on stdout, the rest on stderr) and picks the exit code.

use std::io::Write;
use std::path::{Path, PathBuf};

use runway_config::ReleaseConfig;
use runway_core::{Exit, ToolSurface};
use runway_release::plan::{self, BumpResult, PlanOptions, Requested, RowStatus};
use runway_release::version::{Level, PreKind};
use runway_runbook::release::{ReleaseScope, SurfaceChoice};

use super::Ctx;
use super::release_artifacts::VerifyArtifactsArgs;
use super::{release_post, release_steps};
use crate::args::{PackageArg, ReleaseFormat as Format};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// The version in each file, the last tag, commits since, and the next version.
    Status(StatusArgs),
    /// Write the next version into every file and the changelog, commit and tag.
    #[command(disable_version_flag = true)]
    Bump(BumpArgs),
    /// Print the changelog entry for the next release, or prepend it with `--write`.
    Changelog(ChangelogArgs),
    /// The pre-release gate: clean tree, branch, versions, tag, changelog, gates.
    Check(CheckArgs),
    /// Emergency fixes from a release tag.
    #[command(subcommand)]
    Hotfix(HotfixCommand),
    /// Install and run what the release published (`[release.artifacts]`: PyPI,
    /// npm, Docker) and record the verdicts with the release in the ledger.
    #[command(disable_version_flag = true)]
    VerifyArtifacts(VerifyArtifactsArgs),
    /// A release's notes as Markdown on stdout, grouped like the changelog
    /// (`runway release notes | gh release create vX.Y.Z --notes-file -`).
    #[command(disable_version_flag = true)]
    Notes(release_post::NotesArgs),
    /// What happened since a release, from the ledger: deployments, rollbacks,
    /// incidents, verification, against `[release.criteria]` (exit 1 when one is not met).
    #[command(disable_version_flag = true)]
    Report(release_post::ReportArgs),
    /// Yank a release: print the PyPI page and the npm command and record it;
    /// `--confirm` reads the indexes back and records what they report.
    #[command(disable_version_flag = true)]
    Yank(release_post::YankArgs),
    /// Post a release's notes to the `[release] announce` notifiers and record it.
    #[command(disable_version_flag = true)]
    Announce(release_post::AnnounceArgs),
    /// The `[[release.steps]]` done by hand (a GitHub milestone, a vendor's
    /// dashboard), each with its data and whether it was recorded done.
    #[command(disable_version_flag = true)]
    Steps(release_steps::StepsArgs),
    /// Record a `[[release.steps]]` step done for a release.
    #[command(disable_version_flag = true)]
    Step(release_steps::StepArgs),
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LevelArg {
    Auto,
    Major,
    Minor,
    Patch,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PreArg {
    Alpha,
    Beta,
    Rc,
}

impl From<PreArg> for PreKind {
    fn from(p: PreArg) -> PreKind {
        match p {
            PreArg::Alpha => PreKind::Alpha,
            PreArg::Beta => PreKind::Beta,
            PreArg::Rc => PreKind::Rc,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct SurfaceArg {
    /// The server's current tool surface (JSON, as in `.runway/tool-surface.json`),
    /// compared with the committed one to require the right bump.
    #[arg(long, value_name = "FILE")]
    pub surface: Option<PathBuf>,
    /// Do not capture the live tool surface from `[release.surface_source]`.
    #[arg(long, conflicts_with = "surface")]
    pub no_surface: bool,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub package: PackageArg,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Compute the next version on this pre-release line.
    #[arg(long, value_enum)]
    pub pre: Option<PreArg>,
    #[command(flatten)]
    pub surface: SurfaceArg,
}

#[derive(Debug, clap::Args)]
pub struct BumpArgs {
    #[command(flatten)]
    pub package: PackageArg,
    /// Which number to move; `auto` reads the commits since the last tag.
    #[arg(value_enum, required_unless_present = "set_version")]
    pub level: Option<LevelArg>,
    /// Put the version on a pre-release line (`1.2.0-rc.1`, then `rc.2`).
    #[arg(long, value_enum)]
    pub pre: Option<PreArg>,
    /// Set this exact version instead.
    #[arg(long = "version", id = "set_version", value_name = "X.Y.Z", conflicts_with_all = ["level", "pre"])]
    pub version: Option<String>,
    /// Print the unified diff it would write, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Only edit the files: no commit, no tag.
    #[arg(long)]
    pub no_git: bool,
    /// Bump even with uncommitted changes in the tree.
    #[arg(long)]
    pub allow_dirty: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[command(flatten)]
    pub surface: SurfaceArg,
}

#[derive(Debug, clap::Args)]
#[command(disable_version_flag = true)]
pub struct ChangelogArgs {
    #[command(flatten)]
    pub package: PackageArg,
    /// Prepend the entry to the changelog file instead of printing it.
    #[arg(long)]
    pub write: bool,
    /// The version of the entry (default: the next version).
    #[arg(long = "version", id = "set_version", value_name = "X.Y.Z")]
    pub version: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub package: PackageArg,
    /// The tag being released; defaults to `GITHUB_REF` when it names a tag.
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
    /// Skip the `[[release.gates]]` commands.
    #[arg(long)]
    pub no_gates: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[command(flatten)]
    pub surface: SurfaceArg,
    /// The ledger where `[[release.steps]]` with `when = "before"` are
    /// recorded done (`runway release step`).
    #[command(flatten)]
    pub ledger: super::LedgerOpt,
}

#[derive(Debug, clap::Subcommand)]
pub enum HotfixCommand {
    /// Create `hotfix/X.Y.Z+1` from a release tag.
    Start {
        /// The release to fix (`v1.0.0` or `1.0.0`).
        tag: String,
    },
    /// Patch release on the hotfix branch, then cherry-pick the fix onto the main branch.
    Finish,
}

/// Where the tool surface comes from: `--surface FILE`, `--no-surface`, else `[release.surface_source]`.
fn surface_choice(arg: &SurfaceArg) -> SurfaceChoice {
    match (&arg.surface, arg.no_surface) {
        (Some(path), _) => SurfaceChoice::File(path.clone()),
        (None, true) => SurfaceChoice::Skip,
        (None, false) => SurfaceChoice::Configured,
    }
}

/// The server's current tool surface: from `--surface FILE`, else captured live
/// from `[release.surface_source]` (a stdio command or a URL), else none.
async fn load_surface(
    scope: &ReleaseScope,
    arg: &SurfaceArg,
) -> anyhow::Result<Option<ToolSurface>> {
    Ok(scope.surface(&surface_choice(arg), capturing).await?)
}

/// Says where a live capture reads the surface from (it can take seconds).
fn capturing(from: &str) {
    eprintln!("capturing the tool surface from `{from}`");
}

/// `value` as pretty JSON on stdout (`--format json`).
pub(super) fn json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

pub async fn run(ctx: &Ctx, cmd: Command) -> anyhow::Result<Exit> {
    let project = ctx.project()?;
    let package = match &cmd {
        Command::Status(a) => a.package.package.as_deref(),
        Command::Bump(a) => a.package.package.as_deref(),
        Command::Changelog(a) => a.package.package.as_deref(),
        Command::Check(a) => a.package.package.as_deref(),
        Command::VerifyArtifacts(a) => a.package.package.as_deref(),
        Command::Notes(a) => a.package.package.as_deref(),
        Command::Report(a) => a.package.package.as_deref(),
        Command::Yank(a) => a.package.package.as_deref(),
        Command::Announce(a) => a.package.package.as_deref(),
        Command::Steps(a) => a.package.package.as_deref(),
        Command::Step(a) => a.package.package.as_deref(),
        Command::Hotfix(_) => None,
    };
    let scope = if matches!(cmd, Command::Hotfix(_)) {
        ReleaseScope::whole(&project)
    } else {
        ReleaseScope::new(&project, package)?
    };
    match cmd {
        Command::Status(a) => status(&scope, a).await,
        Command::Bump(a) => bump(&scope, a).await,
        Command::Changelog(a) => changelog(&scope, a).await,
        Command::Check(a) => check(ctx, &scope, a).await,
        Command::Hotfix(HotfixCommand::Start { tag }) => {
            hotfix_start(&scope.root, &scope.cfg, &tag)
        }
        Command::Hotfix(HotfixCommand::Finish) => hotfix_finish(&scope.root, &scope.cfg),
        Command::VerifyArtifacts(a) => super::release_artifacts::run(ctx, &scope, a).await,
        Command::Notes(a) => release_post::notes(&scope, a).await,
        Command::Report(a) => release_post::report(ctx, &scope, a).await,
        Command::Yank(a) => release_post::yank(ctx, &scope, a).await,
        Command::Announce(a) => release_post::announce(ctx, &scope, a).await,
        Command::Steps(a) => release_steps::steps(ctx, &scope, a).await,
        Command::Step(a) => release_steps::step(ctx, &scope, a).await,
    }
}

async fn status(scope: &ReleaseScope, a: StatusArgs) -> anyhow::Result<Exit> {
    let st = scope
        .status(
            a.pre.map(Into::into),
            &surface_choice(&a.surface),
            capturing,
        )
        .await?;
    if a.format == Format::Json {
        json(&st)?;
        return Ok(Exit::Success);
    }
    let mut o = String::new();
    o.push_str("version files:\n");
    if st.tag_is_version() {
        o.push_str("  (none: the git tag is the version)\n");
    } else if st.files.is_empty() {
        o.push_str("  (none)\n");
    }
    for f in &st.files {
        for l in &f.locations {
            o.push_str(&format!(
                "  {}:{}  {}  {}\n",
                f.path.display(),
                l.line,
                l.field,
                l.version
            ));
        }
    }
    if !st.files.is_empty() {
        o.push_str(&format!(
            "  {}\n",
            if st.files_agree {
                "all agree"
            } else {
                "they DISAGREE"
            }
        ));
    }
    o.push_str(&format!(
        "last release:  {}\n",
        st.last_tag
            .as_ref()
            .map_or("(no release tag)".to_owned(), |t| {
                format!(
                    "{} ({})",
                    crate::term::shown(&t.name),
                    &t.commit[..7.min(t.commit.len())]
                )
            })
    ));
    o.push_str(&format!(
        "branch:        {}\n",
        st.branch.as_deref().unwrap_or("(detached HEAD)")
    ));
    o.push_str(&format!("commits since: {}\n", st.commits));
    for g in &st.groups {
        o.push_str(&format!("  {:<10} {}\n", g.kind, g.count));
    }
    if let Some(d) = &st.surface {
        o.push_str(&format!("tool surface:  {} change(s)\n", d.changes.len()));
        for c in &d.changes {
            o.push_str(&format!(
                "  [{}] {}\n",
                c.required,
                crate::term::shown(&c.detail)
            ));
        }
    }
    match (&st.next, st.level) {
        (Some(n), level) => o.push_str(&format!(
            "next version:  {n}{}{}\n",
            level.map_or(String::new(), |l| format!(" ({l})")),
            st.decided_by.as_ref().map_or(String::new(), |d| format!(
                ", decided by {}",
                crate::term::shown(d)
            ))
        )),
        (None, _) => o.push_str("next version:  nothing to release\n"),
    }
    let entry_version = st.next.as_deref().unwrap_or(&st.current);
    let has = if st.next.is_some() {
        st.changelog_has_next
    } else {
        st.changelog_has_current
    };
    o.push_str(&format!(
        "changelog:     `{}` {} for {entry_version}\n",
        st.changelog,
        if has { "has an entry" } else { "has no entry" }
    ));
    out!("{o}")?;
    let mut err = anstream::stderr();
    for n in &st.notes {
        let _ = writeln!(err, "note: {}", crate::term::shown_text(n));
    }
    Ok(Exit::Success)
}

async fn bump(scope: &ReleaseScope, a: BumpArgs) -> anyhow::Result<Exit> {
    let (root, cfg) = (&scope.root, &scope.cfg);
    let requested = match (&a.version, a.level) {
        (Some(v), _) => Requested::Exact(v.clone()),
        (None, Some(LevelArg::Auto)) => Requested::Auto,
        (None, Some(LevelArg::Major)) => Requested::Level(Level::Major),
        (None, Some(LevelArg::Minor)) => Requested::Level(Level::Minor),
        (None, Some(LevelArg::Patch)) => Requested::Level(Level::Patch),
        (None, None) => {
            return Err(crate::error::usage(
                "say which bump: `auto`, `major`, `minor`, `patch`, or `--version X.Y.Z`",
            ));
        }
    };
    let plan_opts = PlanOptions {
        allow_no_repo: a.no_git,
        ..scope.options(
            a.pre.map(Into::into),
            load_surface(scope, &a.surface).await?,
        )
    };
    let opts = plan::BumpOptions {
        dry_run: a.dry_run,
        no_git: a.no_git,
        allow_dirty: a.allow_dirty,
        date: plan::release_date(),
    };
    let result = plan::bump(root, cfg, &requested, &plan_opts, &opts)?;
    if a.format == Format::Json {
        json(&result)?;
        return Ok(Exit::Success);
    }
    let mut err = anstream::stderr();
    match result {
        BumpResult::NothingToRelease { reason } => {
            let _ = writeln!(err, "{}", crate::term::shown_text(&reason));
        }
        BumpResult::Bumped(b) => {
            for w in &b.warnings {
                let _ = writeln!(err, "warning: {}", crate::term::shown_text(w));
            }
            if a.dry_run {
                out!("{}", b.diff)?;
                let _ = writeln!(
                    err,
                    "dry run: would release {} (tag `{}`); nothing was written",
                    if b.from == b.to {
                        format!("`{}`, the first release", b.to)
                    } else {
                        format!("`{}` → `{}`", b.from, b.to)
                    },
                    b.tag
                );
            } else {
                if b.from == b.to {
                    // A first release: the files' version, tagged as it is.
                    let _ = writeln!(
                        err,
                        "released `{}` (the first release: the version in the files)",
                        crate::term::shown(&b.to)
                    );
                } else {
                    let _ = writeln!(
                        err,
                        "released `{}` → `{}`",
                        crate::term::shown(&b.from),
                        crate::term::shown(&b.to)
                    );
                }
                for c in &b.changes {
                    let _ = writeln!(err, "  wrote `{}`", c.path.display());
                }
                if let Some(d) = &b.decided_by {
                    let _ = writeln!(err, "  decided by {}", crate::term::shown(d));
                }
                if b.tagged {
                    let _ = writeln!(
                        err,
                        "committed {} and tagged `{}`; publish it with:",
                        b.commit.as_deref().map_or("", |c| &c[..7.min(c.len())]),
                        b.tag
                    );
                    for p in &b.push {
                        outln!("{p}")?;
                    }
                } else {
                    let _ = writeln!(err, "no commit or tag (`--no-git`)");
                }
            }
        }
    }
    Ok(Exit::Success)
}

async fn changelog(scope: &ReleaseScope, a: ChangelogArgs) -> anyhow::Result<Exit> {
    let entry = scope.changelog_entry(a.version.clone()).await?;
    let mut err = anstream::stderr();
    let Some(version) = entry.version.clone() else {
        let _ = writeln!(
            err,
            "{}",
            entry.reason.as_deref().unwrap_or("nothing to release")
        );
        return Ok(Exit::Success);
    };
    for w in &entry.warnings {
        let _ = writeln!(err, "warning: {}", crate::term::shown_text(w));
    }
    if !a.write {
        out!("{}", entry.text)?;
        return Ok(Exit::Success);
    }
    scope.write_changelog(&entry).await?;
    let _ = writeln!(err, "prepended the `{version}` entry to `{}`", entry.path);
    Ok(Exit::Success)
}

async fn check(ctx: &Ctx, scope: &ReleaseScope, a: CheckArgs) -> anyhow::Result<Exit> {
    let (root, cfg) = (&scope.root, &scope.cfg);
    let tag = a.tag.or_else(|| {
        std::env::var("GITHUB_REF")
            .ok()
            .filter(|r| r.starts_with("refs/tags/"))
    });
    let plan_opts = scope.options(None, load_surface(scope, &a.surface).await?);
    let mut rows = plan::check(
        root,
        cfg,
        &plan_opts,
        &plan::CheckOptions {
            tag: tag.clone(),
            run_gates: !a.no_gates,
        },
    )?;
    let version = tag.map(|t| t.trim_start_matches("refs/tags/").to_owned());
    rows.extend(release_steps::before_steps_row(ctx, scope, version, &a.ledger).await);
    let failed = rows.iter().any(|r| r.status == RowStatus::Fail);
    if a.format == Format::Json {
        json(&serde_json::json!({ "passed": !failed, "checks": rows }))?;
    } else {
        let mut table = comfy_table::Table::new();
        table.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
        table.set_header(["check", "result", "detail"]);
        for r in &rows {
            let status = match r.status {
                RowStatus::Pass => "pass",
                RowStatus::Fail => "FAIL",
                RowStatus::Warn => "warn",
                RowStatus::Skip => "skip",
            };
            let detail = match r.duration_ms {
                Some(ms) => format!("{} ({ms} ms)", r.detail),
                None => r.detail.clone(),
            };
            table.add_row([r.name.as_str(), status, &crate::term::shown(&detail)]);
        }
        outln!("{table}")?;
        let mut err = anstream::stderr();
        for r in rows
            .iter()
            .filter(|r| matches!(r.status, RowStatus::Fail | RowStatus::Warn))
        {
            if r.detail.starts_with("Version mismatch!") {
                let _ = writeln!(
                    err,
                    "{} {}",
                    crate::term::error_label(),
                    crate::term::shown(&r.detail)
                );
            }
            for h in &r.hints {
                let _ = writeln!(
                    err,
                    "{} {}",
                    crate::term::hint_label(),
                    crate::term::shown_text(h)
                );
            }
        }
    }
    Ok(if failed { Exit::Failed } else { Exit::Success })
}

fn hotfix_start(root: &Path, cfg: &ReleaseConfig, tag: &str) -> anyhow::Result<Exit> {
    let h = plan::hotfix_start(root, cfg, tag)?;
    outln!("{}", h.branch)?;
    let mut err = anstream::stderr();
    let _ = writeln!(
        err,
        "switched to `{}` from `{}`; commit the fix with a regression test, then run `runway release hotfix finish`",
        h.branch, h.from_tag
    );
    Ok(Exit::Success)
}

fn hotfix_finish(root: &Path, cfg: &ReleaseConfig) -> anyhow::Result<Exit> {
    let f = plan::hotfix_finish(root, cfg, &plan::release_date())?;
    let mut err = anstream::stderr();
    let _ = writeln!(
        err,
        "released `{}` and tagged `{}` on the hotfix branch",
        f.bumped.to, f.bumped.tag
    );
    let hotfix_branch = format!("hotfix/{}", f.bumped.to);
    match &f.conflict {
        None => {
            let _ = writeln!(
                err,
                "cherry-picked {} commit(s) onto `{}`; publish with:",
                f.picked.len(),
                f.main
            );
            outln!("git push origin {hotfix_branch}")?;
            outln!("git push origin {}", f.bumped.tag)?;
            outln!("git push origin {}", f.main)?;
            Ok(Exit::Success)
        }
        Some(c) => {
            let _ = writeln!(
                err,
                "{} cherry-picking onto `{}` conflicts in {}; it was aborted, `{}` is unchanged",
                crate::term::error_label(),
                f.main,
                c.files
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                f.main
            );
            let _ = writeln!(
                err,
                "{} resolve it by hand: `{}`",
                crate::term::hint_label(),
                c.command
            );
            outln!("git push origin {hotfix_branch}")?;
            outln!("git push origin {}", f.bumped.tag)?;
            Ok(Exit::Failed)
        }
    }
}
