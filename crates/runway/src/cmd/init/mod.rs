//! `runway init`: read the repository and write a `runway.toml` that works
//! for it: the package's name, every version string a release must move,
//! the tag scheme its tags already use, the settings of the release tool it
//! used before, and staging and production environments built from what it
//! holds (a console script, a Dockerfile, a compose file, manifests), with
//! the seeds' operational defaults. What only the user knows is marked
//! `FILL IN`, and listed when init ends.

use std::io::Write;
use std::path::{Path, PathBuf};

use runway_core::Exit;
use runway_release::files;

use super::Ctx;

mod inspect;
mod migrate;
mod render;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rewrite an existing `runway.toml`.
    #[arg(long)]
    pub force: bool,
    /// Print the file instead of writing it.
    #[arg(long)]
    pub dry_run: bool,
}

/// Picks the tag prefix from the tags that exist, then from the release
/// tool's settings, then `v`.
fn tag_choice(
    root: &Path,
    name: &str,
    migration: &migrate::Migration,
) -> anyhow::Result<render::TagChoice> {
    let schemes = match runway_release::git::open(root) {
        Ok(_) => runway_release::tags::schemes(root)?,
        Err(_) => Vec::new(),
    };
    let Some(top) = schemes.first() else {
        return Ok(match &migration.tag_prefix {
            Some(p) => render::TagChoice {
                prefix: p.clone(),
                why: format!("from {}; no release tag yet", migration.sources.join(", ")),
                ..Default::default()
            },
            None => render::TagChoice {
                prefix: "v".into(),
                why: "no release tag yet: the first will be `vX.Y.Z`".into(),
                ..Default::default()
            },
        });
    };
    let components: Vec<&runway_release::tags::TagScheme> =
        schemes.iter().filter(|s| s.component().is_some()).collect();
    let plain = schemes.iter().find(|s| s.component().is_none());
    let short = name.rsplit('/').next().unwrap_or(name);
    // The scheme to write: the one naming this package, else the plain one
    // (`v1.2.3`, `1.2.3`), else the most used.
    let chosen = schemes
        .iter()
        .find(|s| s.component() == Some(short))
        .or(plain.filter(|p| p.count * 2 >= top.count))
        .unwrap_or(top);
    let mut choice = render::TagChoice {
        highest: Some(chosen.highest.clone()),
        prefix: chosen.prefix.clone(),
        why: format!(
            "{} tag(s) read `{}X.Y.Z` (highest `{}`)",
            chosen.count, chosen.prefix, chosen.highest_tag
        ),
        ..Default::default()
    };
    for s in schemes.iter().filter(|s| s.prefix != chosen.prefix).take(8) {
        let together = s
            .commits
            .iter()
            .filter(|c| chosen.commits.contains(c))
            .count();
        if s.component().is_some() && together * 2 < s.count && components.len() > 1 {
            // Released on its own: a package of a monorepo.
            let comp = s.component().unwrap_or_default().to_owned();
            if let Some(path) = package_dir(root, &comp) {
                choice.packages.push((comp, path, s.prefix.clone()));
                continue;
            }
        }
        choice.others.push(format!(
            "also {} tag(s) `{}X.Y.Z` (highest `{}`){}",
            s.count,
            s.prefix,
            s.highest_tag,
            if together * 2 >= s.count {
                ", released together with these"
            } else {
                ""
            }
        ));
    }
    Ok(choice)
}

/// Where a component's package lives: `<c>`, `packages/<c>`, `crates/<c>`...
fn package_dir(root: &Path, component: &str) -> Option<String> {
    [
        "",
        "packages/",
        "crates/",
        "libs/",
        "apps/",
        "servers/",
        "src/",
    ]
    .iter()
    .map(|base| format!("{base}{component}"))
    .find(|p| root.join(p).is_dir())
}

/// Adds `.runway/` to `.gitignore` (created if missing); true when it changed.
fn ignore_runway_dir(root: &Path) -> anyhow::Result<bool> {
    let path = root.join(".gitignore");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let covered = text.lines().any(|l| {
        let l = l.trim();
        l == ".runway" || l == ".runway/" || l == "/.runway" || l == "/.runway/"
    });
    if covered {
        return Ok(false);
    }
    let mut new = text.clone();
    if !new.is_empty() && !new.ends_with('\n') {
        new.push('\n');
    }
    new.push_str("# Runway's local state (ledger, process logs)\n.runway/\n");
    std::fs::write(&path, new)
        .map_err(|e| anyhow::anyhow!("failed to write `{}`: {e}", path.display()))?;
    Ok(true)
}

fn rel(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<Exit> {
    let root = ctx.dir();
    let target = root.join(runway_config::FILE_NAME);
    let mut err = anstream::stderr();
    if target.exists() && !args.force && !args.dry_run {
        let _ = writeln!(
            err,
            "`{}` already exists; nothing changed (pass `--force` to rewrite it from the repository)",
            target.display()
        );
        return Ok(Exit::Success);
    }
    let det = files::detect(&root)?;
    let inspection = inspect::inspect(&root);
    let migration = migrate::migrate(&root);
    let (name, name_from) = match &inspection.name {
        Some(n) => (n.value.clone(), n.from.clone()),
        None => (
            root.canonicalize()
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "project".to_owned()),
            "the directory's name: no package manifest names it".to_owned(),
        ),
    };
    let known: Vec<PathBuf> = det
        .files
        .iter()
        .map(|f| f.path.clone())
        .chain(migration.extra_files.iter().map(|e| PathBuf::from(&e.path)))
        .collect();
    let tags = tag_choice(&root, &name, &migration)?;
    let version = det.files.first().map(|f| f.version().to_owned());
    // Files far behind the released tags (semantic-release leaves `1.0.0` or
    // `0.0.0-development` in package.json; the version lives in the tags):
    // that version is no release's, so there is nothing to look for.
    let behind = match (&version, &tags.highest) {
        (Some(v), Some(h)) => runway_release::version::parse(v)
            .is_ok_and(|v| runway_release::version::cmp_release(&v, h).is_lt()),
        _ => false,
    };
    let scan = if behind {
        let _ = writeln!(
            err,
            "the version files say `{}` but the tags reach `{}`: the version lives in the tags (as semantic-release keeps it); not looking for other version strings",
            version.as_deref().unwrap_or_default(),
            tags.highest
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        );
        files::scan::Scan::default()
    } else {
        files::scan::scan(&root, version.as_deref(), &known)
    };

    for f in &det.files {
        for l in &f.locations {
            let _ = writeln!(
                err,
                "found `{}` {} = `{}` (line {})",
                f.path.display(),
                l.field,
                l.version,
                l.line
            );
        }
    }
    for f in &scan.found {
        if f.disagrees(scan.version.as_deref()) {
            let _ = writeln!(
                err,
                "found `{}`:{}: {} says `{}`, not `{}`: no release moved it, and the server reports what it says; added to `[release].files`, so `runway release check` fails until they agree (`runway release bump --version X.Y.Z` sets them all)",
                rel(&f.path),
                f.line,
                crate::term::shown_text(&f.text),
                f.value,
                scan.version.as_deref().unwrap_or_default()
            );
        } else {
            let _ = writeln!(
                err,
                "found `{}`:{}: {} (a version string a release must move)",
                rel(&f.path),
                f.line,
                crate::term::shown_text(&f.text)
            );
        }
    }
    if scan.unclassified.len() > 10 {
        let _ = writeln!(
            err,
            "could not classify {} lines holding `{}`; the first 10:",
            scan.unclassified.len(),
            scan.version.as_deref().unwrap_or_default()
        );
    }
    for u in scan.unclassified.iter().take(10) {
        let _ = writeln!(
            err,
            "could not classify `{}`:{}: {} (holds `{}`; add it to `[release].files` with a `regex` if a release must move it)",
            rel(&u.path),
            u.line,
            crate::term::shown_text(&u.text),
            scan.version.as_deref().unwrap_or_default()
        );
    }
    if scan.in_tests > 0 {
        let _ = writeln!(
            err,
            "{} line(s) in tests hold `{}` too (left alone)",
            scan.in_tests,
            scan.version.as_deref().unwrap_or_default()
        );
    }
    for d in &det.dynamic {
        let _ = writeln!(
            err,
            "`{}`:{} declares a dynamic version; it lives in {}",
            d.declared_in.display(),
            d.line,
            d.lives_in
        );
    }
    if det.files.is_empty() && det.dynamic.is_empty() && scan.found.is_empty() {
        let _ = writeln!(
            err,
            "no version file found; add `[release].files` entries with `path` and `regex` to `runway.toml`"
        );
    }
    let _ = writeln!(err, "tags: `{}X.Y.Z` ({})", tags.prefix, tags.why);
    for t in &migration.taken {
        let _ = writeln!(err, "took over from {}: {t}", migration.sources.join(", "));
    }
    for t in &migration.not_taken {
        let _ = writeln!(err, "could not take over: {t}");
    }
    let (staging, production) = render::targets(&inspection);
    for (env, t) in [("staging", staging), ("production", production)] {
        if let Some(t) = t {
            let _ = writeln!(err, "{env}: the {} target", describe(t, &inspection));
        }
    }

    let text = render::render(&render::Input {
        name: &name,
        name_from: &name_from,
        det: &det,
        scan: &scan,
        tags: &tags,
        migration: &migration,
        inspection: &inspection,
        has_changelog: root
            .join(
                migration
                    .changelog_path
                    .as_deref()
                    .unwrap_or("CHANGELOG.md"),
            )
            .is_file(),
    });
    // What init writes must load: a bad line here is Runway's bug, not the user's.
    if let Err(e) = runway_config::Config::parse(&text, &target) {
        anyhow::bail!(
            "`runway init` produced a `runway.toml` that does not load ({e}); please report it"
        );
    }
    if args.dry_run {
        out!("{text}")?;
        return Ok(Exit::Success);
    }
    std::fs::write(&target, &text)
        .map_err(|e| anyhow::anyhow!("failed to write `{}`: {e}", target.display()))?;
    let _ = writeln!(err, "wrote `{}`", target.display());
    let in_git = runway_release::git::open(&root).is_ok();
    let ignored = if in_git {
        ignore_runway_dir(&root)?
    } else {
        false
    };
    if ignored {
        let _ = writeln!(err, "added `.runway/` to `.gitignore`");
    }
    let fill: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(render::FILL_IN) && !l.starts_with("# Lines marked"))
        .map(|(n, l)| (n + 1, l))
        .collect();
    for (n, l) in &fill {
        let _ = writeln!(err, "fill in: runway.toml:{n}: {}", l.trim());
    }
    if in_git {
        let files = if ignored {
            "runway.toml .gitignore"
        } else {
            "runway.toml"
        };
        let _ = writeln!(
            err,
            "next: commit them (`git add {files} && git commit -m \"chore: add runway.toml\"`) so `runway release check` finds a clean tree, then `runway plan staging`"
        );
    }
    Ok(Exit::Success)
}

fn describe(t: render::Target, i: &inspect::Inspection) -> String {
    match t {
        render::Target::Process => format!(
            "process ({}, on 127.0.0.1:{})",
            i.process.as_ref().map_or("", |p| p.from.as_str()),
            render::port(i)
        ),
        render::Target::Compose => format!(
            "command (`docker compose up -d`, {})",
            i.compose.as_ref().map_or("", |c| c.from.as_str())
        ),
        render::Target::Docker => "docker (Dockerfile)".to_owned(),
        render::Target::Kubernetes => format!(
            "kubernetes (Deployment `{}` in {})",
            i.kubernetes.as_ref().map_or("", |k| k.value.name.as_str()),
            i.kubernetes.as_ref().map_or("", |k| k.from.as_str())
        ),
    }
}
