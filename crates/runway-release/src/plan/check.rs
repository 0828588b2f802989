//! `runway release check`: the pre-release gate of the runbooks (clean tree,
//! release branch, versions agree, tag matches, changelog entry, tool
//! surface, and the user's gate commands).

use std::path::Path;
use std::time::Duration;

use runway_config::ReleaseConfig;
use runway_config::release::CheckLevel;
use semver::Version;
use serde::Serialize;

use super::{PlanOptions, Status, file_semver, level_between, run_gate, short, status};
use crate::changelog;
use crate::error::Result;
use crate::files::{Kind, VersionFile};
use crate::git;
use crate::version;

/// The outcome of one `check` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RowStatus {
    Pass,
    Fail,
    /// Failed, but `[release.checks]` (or the nature of the problem) makes it a warning.
    Warn,
    Skip,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckRow {
    pub name: String,
    pub status: RowStatus,
    pub detail: String,
    pub hints: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u128>,
}

impl CheckRow {
    pub(crate) fn new(name: &str, ok: bool, detail: impl Into<String>) -> CheckRow {
        CheckRow {
            name: name.to_owned(),
            status: if ok { RowStatus::Pass } else { RowStatus::Fail },
            detail: detail.into(),
            hints: Vec::new(),
            duration_ms: None,
        }
    }

    pub(crate) fn hint(mut self, h: impl Into<String>) -> CheckRow {
        self.hints.push(h.into());
        self
    }
}

#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// The tag being released (`v1.2.3` or `refs/tags/v1.2.3`).
    pub tag: Option<String>,
    pub run_gates: bool,
}

/// The pre-release gate of the runbooks: every row must pass.
pub fn check(
    root: &Path,
    cfg: &ReleaseConfig,
    plan: &PlanOptions,
    opts: &CheckOptions,
) -> Result<Vec<CheckRow>> {
    let st = status(root, cfg, plan)?;
    let mut rows = Vec::new();

    let dirty = git::dirty_paths(root)?;
    rows.push(if dirty.is_empty() {
        CheckRow::new("clean tree", true, "no uncommitted changes")
    } else {
        let shown: Vec<String> = dirty.iter().take(5).map(|p| format!("`{p}`")).collect();
        CheckRow::new(
            "clean tree",
            false,
            format!("uncommitted changes: {}", shown.join(", ")),
        )
        .hint(if dirty.iter().any(|p| p == "runway.toml") {
            "`runway.toml` (and `.gitignore`, if `runway init` added `.runway/` to it) must be committed too: `git add runway.toml .gitignore && git commit -m \"chore: add runway.toml\"`"
        } else {
            "commit or stash them before releasing"
        })
    });

    rows.push(branch_row(root, cfg, &st));

    let listing: Vec<String> = st
        .files
        .iter()
        .flat_map(|f| {
            f.locations
                .iter()
                .map(move |l| format!("{}: {}", f.path.display(), l.version))
        })
        .collect();
    rows.push(if st.files.is_empty() {
        let dynamic = st.dynamic.iter().any(|d| d.from_git_tags);
        CheckRow {
            status: if dynamic {
                RowStatus::Pass
            } else {
                RowStatus::Skip
            },
            ..CheckRow::new(
                "version files agree",
                true,
                if dynamic {
                    "the version comes from the git tag"
                } else {
                    "no version files"
                },
            )
        }
    } else if st.files_agree {
        CheckRow::new("version files agree", true, listing.join(", "))
    } else {
        let mut row = CheckRow::new("version files agree", false, listing.join(", "));
        for h in disagreement_hints(&st.files) {
            row = row.hint(h);
        }
        row.hint("set them all with `runway release bump --version X.Y.Z --no-git`")
    });

    let tag = opts
        .tag
        .as_deref()
        .map(|t| t.strip_prefix("refs/tags/").unwrap_or(t).to_owned());
    let release_version: Option<String> = match &tag {
        Some(t) => {
            let (row, v) = tag_row(root, cfg, &st, t);
            rows.push(row);
            v
        }
        None => st.file_version.clone(),
    };

    match &release_version {
        Some(v) => {
            let text = std::fs::read_to_string(root.join(&cfg.changelog.path)).unwrap_or_default();
            rows.push(if changelog::has_entry(&text, v) {
                CheckRow::new(
                    "changelog entry",
                    true,
                    format!("`{}` has `{v}`", cfg.changelog.path),
                )
            } else {
                CheckRow::new(
                    "changelog entry",
                    false,
                    format!("`{}` has no entry for `{v}`", cfg.changelog.path),
                )
                .hint("write it with `runway release changelog --write`")
            });
            let tag_name = tag
                .clone()
                .unwrap_or_else(|| format!("{}{v}", cfg.tag_prefix));
            rows.push(match (git::tag_commit(root, &tag_name)?, &st.head) {
                (None, _) => CheckRow::new("tag target", true, format!("`{tag_name}` is not tagged yet")),
                (Some(c), Some(h)) if c == *h => {
                    CheckRow::new("tag target", true, format!("`{tag_name}` points at HEAD"))
                }
                (Some(c), _) => CheckRow::new(
                    "tag target",
                    false,
                    format!(
                        "`{tag_name}` already points at {}, not at HEAD {}",
                        short(&c),
                        st.head.as_deref().map_or("(none)", short)
                    ),
                )
                .hint(if tag.is_some() {
                    if git::tag_on_remote(root, &tag_name) == Some(true) {
                        format!(
                            "`{tag_name}` is already pushed to `origin`, so it is published: release a new version (`runway release bump patch`) instead of moving it"
                        )
                    } else {
                        format!(
                            "release a new version, or move the tag: `git tag -d {tag_name}` then `git push origin :refs/tags/{tag_name}`"
                        )
                    }
                } else {
                    format!(
                        "the version in the files was already released as `{tag_name}`; bump it first: `runway release bump auto`"
                    )
                }),
            });
        }
        None => rows.push(CheckRow {
            status: RowStatus::Skip,
            ..CheckRow::new("changelog entry", true, "no version to look for")
        }),
    }

    if let Some(d) = &st.surface {
        let base = st.last_tag.as_ref().map(|t| t.version.clone());
        let target = release_version
            .as_deref()
            .and_then(|v| Version::parse(v).ok());
        let required = base
            .as_ref()
            .and_then(|b| d.required_for(b, cfg.bump_minor_pre_major));
        rows.push(match (base, target, required) {
            (Some(b), Some(t), Some(req))
                if version::cmp_release(&t, &b).is_gt() && level_between(&b, &t) < req =>
            {
                CheckRow::new(
                    "tool surface",
                    false,
                    format!(
                        "{} since `{b}` needs a {req} release, but `{t}` is a {} release",
                        d.decisive().map_or("a change".into(), |c| c.detail.clone()),
                        level_between(&b, &t)
                    ),
                )
                .hint(format!("release with `runway release bump {req}`"))
            }
            (_, _, None) => CheckRow::new("tool surface", true, "unchanged since the last release"),
            _ => CheckRow::new(
                "tool surface",
                true,
                format!("{} change(s), covered by the version", d.changes.len()),
            ),
        });
    }

    rows.extend(server_json_rows(root, release_version.as_deref()));

    if opts.run_gates {
        for g in &cfg.gates {
            if cfg.checks.get(&g.name) == Some(&CheckLevel::Off) {
                rows.push(CheckRow {
                    status: RowStatus::Skip,
                    ..CheckRow::new(&g.name, true, "turned off in `[release.checks]`")
                });
                continue;
            }
            rows.push(run_gate(
                root,
                &g.name,
                &g.run,
                Duration::from_secs(g.timeout_secs),
            ));
        }
    }
    Ok(apply_levels(rows, cfg))
}

/// The `[release.checks]` id of a row: its own checks by id, gates by name.
fn row_id(name: &str) -> &str {
    match name {
        "clean tree" => "clean_tree",
        "release branch" => "release_branch",
        "version files agree" | "version files at tag" => "versions_agree",
        "tag matches version" | "tag" => "tag_matches",
        "changelog entry" | "changelog at tag" => "changelog",
        "tag target" => "tag_target",
        "tool surface" => "tool_surface",
        n if n.starts_with("server.json") => "server_json",
        other => other,
    }
}

/// `[release.checks]`: a check set to `off` is skipped, one set to `warn`
/// warns instead of failing.
fn apply_levels(rows: Vec<CheckRow>, cfg: &ReleaseConfig) -> Vec<CheckRow> {
    rows.into_iter()
        .map(|mut r| {
            match cfg.checks.get(row_id(&r.name)) {
                Some(CheckLevel::Off) => {
                    r.status = RowStatus::Skip;
                    r.detail = format!(
                        "turned off in `[release.checks]` ({} = \"off\")",
                        row_id(&r.name)
                    );
                    r.hints.clear();
                }
                Some(CheckLevel::Warn) if r.status == RowStatus::Fail => {
                    r.status = RowStatus::Warn;
                }
                _ => {}
            }
            r
        })
        .collect()
}

/// The MCP Registry's rules over the project's `server.json`, one row each;
/// nothing when the project has none.
fn server_json_rows(root: &Path, version: Option<&str>) -> Vec<CheckRow> {
    let path = root.join(crate::server_json::FILE);
    if !path.is_file() {
        return Vec::new();
    }
    let doc = match crate::server_json::read(&path) {
        Ok(d) => d,
        Err(e) => {
            return vec![
                CheckRow::new("server.json", false, e.to_string()).hint(format!(
                    "the MCP Registry reads `server.json` as a JSON object: {}",
                    crate::server_json::SCHEMA_DOC
                )),
            ];
        }
    };
    crate::server_json::check(&doc, root, version)
        .into_iter()
        .map(|r| {
            if r.ok() {
                CheckRow::new(r.name, true, r.passed)
            } else {
                CheckRow::new(r.name, false, r.problems.join("; ")).hint(r.hint)
            }
        })
        .collect()
}

fn branch_row(root: &Path, cfg: &ReleaseConfig, st: &Status) -> CheckRow {
    let allowed = cfg
        .branches
        .iter()
        .map(|b| format!("`{b}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match (&st.branch, &st.head) {
        (Some(b), _) if cfg.branches.iter().any(|a| a == b) => {
            CheckRow::new("release branch", true, format!("on `{b}`"))
        }
        (Some(b), _) if b.starts_with("hotfix/") => {
            CheckRow::new("release branch", true, format!("on hotfix branch `{b}`"))
        }
        (Some(b), _) => CheckRow::new(
            "release branch",
            false,
            format!("on `{b}`; releases are cut from {allowed}"),
        )
        .hint("switch to a release branch, or add this one to `[release].branches`"),
        (None, Some(head)) => {
            // CI checks out a tag as a detached HEAD: accept it when a release branch contains it.
            let container = cfg.branches.iter().find_map(|b| {
                [b.clone(), format!("origin/{b}")]
                    .into_iter()
                    .find(|r| git::is_ancestor(root, head, r))
            });
            match container {
                Some(r) => CheckRow::new("release branch", true, format!("detached HEAD, contained in `{r}`")),
                None => CheckRow::new(
                    "release branch",
                    false,
                    format!("detached HEAD {} is on none of {allowed}", short(head)),
                )
                .hint("fetch the release branch (`git fetch origin main`) or tag a commit that is on it"),
            }
        }
        (None, None) => CheckRow::new("release branch", false, "the repository has no commits"),
    }
}

/// The command that rewrites a lock file from its manifest, for a stale one.
fn refresh_command(f: &VersionFile) -> Option<&'static str> {
    match f.kind {
        Kind::UvLock { .. } => Some("uv lock"),
        Kind::CargoLock { .. } => Some("cargo update --workspace"),
        Kind::PackageLock => Some("npm install --package-lock-only"),
        _ => None,
    }
}

/// One hint per file that disagrees with the first one found (the manifest):
/// which file, what it says, and the command that fixes it.
fn disagreement_hints(files: &[VersionFile]) -> Vec<String> {
    let Some(reference) = files.first() else {
        return Vec::new();
    };
    let Ok(want) = file_semver(reference, 0) else {
        return Vec::new();
    };
    let mut hints = Vec::new();
    for f in files {
        for (i, l) in f.locations.iter().enumerate() {
            if file_semver(f, i).is_ok_and(|v| version::same_release(&v, &want)) {
                continue;
            }
            let fix = match refresh_command(f) {
                Some(cmd) => format!("run `{cmd}` and commit `{}`", f.path.display()),
                None => format!(
                    "set it with `runway release bump --version {} --no-git`",
                    reference.version()
                ),
            };
            hints.push(format!(
                "`{}` ({}) says `{}` but `{}` says `{}`: {fix}",
                f.path.display(),
                l.field,
                l.version,
                reference.path.display(),
                reference.version()
            ));
            break;
        }
    }
    hints
}

fn tag_row(root: &Path, cfg: &ReleaseConfig, st: &Status, tag: &str) -> (CheckRow, Option<String>) {
    let Some(raw) = tag.strip_prefix(cfg.tag_prefix.as_str()) else {
        return (
            CheckRow::new(
                "tag matches version",
                false,
                format!("tag `{tag}` does not start with `{}`", cfg.tag_prefix),
            )
            .hint(format!("release tags look like `{}1.2.3`", cfg.tag_prefix)),
            None,
        );
    };
    let Ok(tag_version) = Version::parse(raw) else {
        return (
            CheckRow::new(
                "tag matches version",
                false,
                format!(
                    "tag `{tag}` is not `{}` followed by a SemVer 2.0.0 version",
                    cfg.tag_prefix
                ),
            ),
            None,
        );
    };
    if st.files.is_empty() {
        return (
            CheckRow::new(
                "tag matches version",
                true,
                "the version comes from the git tag",
            ),
            Some(tag_version.to_string()),
        );
    }
    for f in &st.files {
        for (i, l) in f.locations.iter().enumerate() {
            let same = file_semver(f, i).is_ok_and(|v| version::same_release(&v, &tag_version));
            if !same {
                let shown = if f.is_python() {
                    version::to_pep440(&tag_version)
                } else {
                    tag_version.to_string()
                };
                return (
                    CheckRow::new(
                        "tag matches version",
                        false,
                        format!(
                            "Version mismatch! {}: {}, Git tag: {}",
                            f.path.display(),
                            l.version,
                            raw
                        ),
                    )
                    .hint(match refresh_command(f) {
                        // The manifest is right and the lock file was not refreshed.
                        Some(cmd) if st.files.iter().any(|m| {
                            m.path != f.path
                                && file_semver(m, 0)
                                    .is_ok_and(|v| version::same_release(&v, &tag_version))
                        }) => format!(
                            "`{}` is stale: run `{cmd}` and commit it",
                            f.path.display()
                        ),
                        _ => format!(
                            "either update `{}` to match the tag: `runway release bump --version {shown} --no-git`",
                            f.path.display()
                        ),
                    })
                    .hint(if git::tag_on_remote(root, tag) == Some(true) {
                        format!(
                            "`{tag}` is already pushed to `origin`: if anything was published from it, do not move it; release the fix as the next version (`runway release bump patch`)"
                        )
                    } else {
                        format!(
                            "or delete the tag and re-create it with the right version: `git push origin :refs/tags/{tag}` and `git tag -d {tag}`"
                        )
                    }),
                    Some(tag_version.to_string()),
                );
            }
        }
    }
    (
        CheckRow::new(
            "tag matches version",
            true,
            format!("`{tag}` matches every version file"),
        ),
        Some(tag_version.to_string()),
    )
}

/// `release check` for a version that is already released, judged at its tag
/// rather than on the working tree, so an older release can be deployed
/// again: the tag exists, the version files at the tag say that version, and
/// the changelog at the tag has its entry. The tree at the tag is read from
/// `git archive` into a temporary directory; the working tree is not touched.
pub fn check_at_tag(root: &Path, cfg: &ReleaseConfig, version: &str) -> Result<Vec<CheckRow>> {
    let tag = format!("{}{version}", cfg.tag_prefix);
    let mut rows = Vec::new();
    let Some(commit) = git::tag_commit(root, &tag)? else {
        rows.push(
            CheckRow::new("tag", false, format!("there is no tag `{tag}`")).hint(format!(
                "release {version} first (`runway release bump auto`), or name a released version"
            )),
        );
        return Ok(rows);
    };
    rows.push(CheckRow::new(
        "tag",
        true,
        format!("`{tag}` is {}", short(&commit)),
    ));

    let tree = tempfile::tempdir().map_err(|e| {
        crate::error::ReleaseError::git(format!("cannot make a temporary directory: {e}"))
    })?;
    let top = git::toplevel(root)?;
    let rel = root
        .canonicalize()
        .ok()
        .and_then(|r| {
            r.strip_prefix(top.canonicalize().ok()?)
                .ok()
                .map(Path::to_path_buf)
        })
        .unwrap_or_default();
    let treeish = if rel.as_os_str().is_empty() {
        commit.clone()
    } else {
        format!("{commit}:{}", rel.display())
    };
    extract(root, &treeish, tree.path())?;

    let det = crate::files::load_except(tree.path(), &cfg.files, &cfg.exclude);
    rows.push(match det {
        Err(e) => CheckRow::new(
            "version files at tag",
            false,
            format!("cannot read them at `{tag}`: {e}"),
        ),
        Ok(d) if d.files.is_empty() => {
            CheckRow::new("version files at tag", true, "the version comes from the git tag")
        }
        Ok(d) => {
            let wanted = version::parse(version).ok();
            let mut wrong = Vec::new();
            let mut stale_locks = Vec::new();
            let mut listing = Vec::new();
            for f in &d.files {
                for (i, l) in f.locations.iter().enumerate() {
                    listing.push(format!("{}: {}", f.path.display(), l.version));
                    let same = match (file_semver(f, i), &wanted) {
                        (Ok(v), Some(w)) => v == *w,
                        _ => l.version == version,
                    };
                    if !same {
                        match refresh_command(f) {
                            Some(cmd) => stale_locks.push((f.path.display().to_string(), l.version.clone(), cmd)),
                            None => wrong.push(format!("{} says {}", f.path.display(), l.version)),
                        }
                    }
                }
            }
            if wrong.is_empty() && !stale_locks.is_empty() {
                // The release is real (its manifest says it); only a lock
                // file was not refreshed when it was bumped.
                let mut row = CheckRow {
                    status: RowStatus::Warn,
                    ..CheckRow::new(
                        "version files at tag",
                        true,
                        format!(
                            "at `{tag}`, {} (a stale lock file; the manifest says {version})",
                            stale_locks
                                .iter()
                                .map(|(p, v, _)| format!("{p} says {v}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                };
                for (p, _, cmd) in &stale_locks {
                    row = row.hint(format!(
                        "run `{cmd}` and commit `{p}` so the next release carries a fresh lock file"
                    ));
                }
                row
            } else if wrong.is_empty() {
                CheckRow::new("version files at tag", true, listing.join(", "))
            } else {
                CheckRow::new(
                    "version files at tag",
                    false,
                    format!("at `{tag}`, {} (expected {version})", wrong.join(", ")),
                )
                .hint("the tag points at a commit whose version files were not bumped; re-tag the bump commit")
            }
        }
    });

    let text = std::fs::read_to_string(tree.path().join(&cfg.changelog.path)).unwrap_or_default();
    rows.push(if changelog::has_entry(&text, version) {
        CheckRow::new(
            "changelog at tag",
            true,
            format!("`{}` has `{version}`", cfg.changelog.path),
        )
    } else {
        CheckRow::new(
            "changelog at tag",
            false,
            format!(
                "`{}` at `{tag}` has no entry for `{version}`",
                cfg.changelog.path
            ),
        )
        .hint("write the entry with `runway release changelog --write` before tagging")
    });
    Ok(apply_levels(rows, cfg))
}

/// Writes the tree `treeish` into `into` (`git archive | tar -x`).
fn extract(root: &Path, treeish: &str, into: &Path) -> Result<()> {
    use std::process::{Command, Stdio};
    let fail = |what: String| crate::error::ReleaseError::git(what);
    let mut archive = Command::new("git")
        .args(["archive", "--format=tar", treeish])
        .current_dir(root)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| fail(format!("could not run `git archive`: {e}")))?;
    let Some(out) = archive.stdout.take() else {
        return Err(fail("`git archive` gave no output".into()));
    };
    let untar = Command::new("tar")
        .args(["-x", "-C"])
        .arg(into)
        .stdin(out)
        .stderr(Stdio::null())
        .status()
        .map_err(|e| fail(format!("could not run `tar`: {e}")))?;
    let archived = archive
        .wait()
        .map_err(|e| fail(format!("`git archive` failed: {e}")))?;
    if !archived.success() || !untar.success() {
        return Err(fail(format!("`git archive {treeish} | tar -x` failed")));
    }
    Ok(())
}
