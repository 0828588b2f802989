//! Git: read history with gix, write with the `git` command.
//!
//! Reading must be fast on big repositories, so it walks from HEAD back to the
//! last release tag only, never the whole history, and maps tags to commits
//! once. Writing (commit, tag, cherry-pick, switch) goes through the `git`
//! command so the user's hooks, signing and configuration apply.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chrono::{DateTime, Utc};

use semver::Version;
use serde::Serialize;

use crate::commits::RawCommit;
use crate::error::{ReleaseError, Result};

/// A release tag: `<prefix><semver>` pointing at a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tag {
    pub name: String,
    pub version: Version,
    /// The commit it points at (peeled), full hex.
    pub commit: String,
}

/// What history says about the next release.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    /// `None` before the first commit.
    pub head: Option<String>,
    /// `None` when HEAD is detached.
    pub branch: Option<String>,
    pub shallow: bool,
    /// The nearest release tag reachable from HEAD.
    pub last_tag: Option<Tag>,
    /// HEAD back to (excluding) the last tag, newest first.
    pub commits: Vec<RawCommit>,
    /// True when the walk hit a shallow boundary before finding a tag, so
    /// `commits` is incomplete.
    pub incomplete: bool,
}

impl History {
    /// Refuses to go on when history is cut short by a shallow clone.
    pub fn require_complete(&self) -> Result<()> {
        if self.incomplete {
            return Err(ReleaseError::git_hint(
                "this is a shallow clone and no release tag is reachable from HEAD, so the commits since the last release are unknown",
                "run `git fetch --unshallow --tags` (in GitHub Actions: `actions/checkout` with `fetch-depth: 0`)",
            ));
        }
        Ok(())
    }
}

/// Upper bound on commits read in one walk; far above any real release range.
const MAX_WALK: usize = 2_000_000;

fn repo_err(e: impl std::fmt::Display) -> ReleaseError {
    ReleaseError::Repo(e.to_string())
}

/// Opens the repository containing `root`.
pub fn open(root: &Path) -> Result<gix::Repository> {
    gix::discover(root).map_err(|e| {
        ReleaseError::git_hint(
            format!("`{}` is not inside a git repository: {e}", root.display()),
            "run `git init` or pass `--no-git`",
        )
    })
}

/// Every release tag with `prefix`, by the commit it points at.
pub fn tags(repo: &gix::Repository, prefix: &str) -> Result<HashMap<gix::ObjectId, Vec<Tag>>> {
    let mut map: HashMap<gix::ObjectId, Vec<Tag>> = HashMap::new();
    let refs = repo.references().map_err(repo_err)?;
    for r in refs.tags().map_err(repo_err)?.peeled().map_err(repo_err)? {
        let Ok(r) = r else { continue };
        let full = r.name().as_bstr().to_string();
        let name = full.strip_prefix("refs/tags/").unwrap_or(&full);
        let Some(v) = name.strip_prefix(prefix) else {
            continue;
        };
        // PEP 440 tags (`v2.0.0rc1`) are the same releases as their SemVer spelling.
        let Ok(version) = crate::version::parse(v) else {
            continue;
        };
        let Some(id) = r.try_id() else { continue };
        let id = id.detach();
        map.entry(id).or_default().push(Tag {
            name: name.to_owned(),
            version,
            commit: id.to_string(),
        });
    }
    Ok(map)
}

/// The highest release tag on one commit (a commit can carry `v1.0.0-rc.2` and `v1.0.0`).
fn best(tags: &[Tag]) -> Option<&Tag> {
    tags.iter().max_by(|a, b| a.version.cmp(&b.version))
}

/// Reads HEAD, the last release tag and the commits since it.
pub fn history(root: &Path, prefix: &str) -> Result<History> {
    let repo = open(root)?;
    let shallow = repo.is_shallow().map_err(repo_err)?;
    let head = repo.head().map_err(repo_err)?;
    let branch = head
        .referent_name()
        .filter(|_| !head.is_detached())
        .map(|n| n.shorten().to_string());
    let Some(head_id) = head.id().map(|i| i.detach()) else {
        return Ok(History {
            head: None,
            branch,
            shallow,
            last_tag: None,
            commits: Vec::new(),
            incomplete: false,
        });
    };
    let tag_map = tags(&repo, prefix)?;
    walk_back(root, &repo, prefix, head_id, branch, shallow, tag_map)
}

/// The history of the release tagged `release`, read as [`history`] reads
/// HEAD's: from the tag's commit back to the highest earlier release tag
/// reachable from it (`head` is the tag's commit, `branch` is `None`). Tags
/// of `release`'s version or above are not bases, so the walk passes the
/// tag's own commit: these are the commits that release brought.
pub fn history_of_tag(root: &Path, prefix: &str, release: &Tag) -> Result<History> {
    let repo = open(root)?;
    let shallow = repo.is_shallow().map_err(repo_err)?;
    let start = gix::ObjectId::from_hex(release.commit.as_bytes()).map_err(repo_err)?;
    let mut tag_map = tags(&repo, prefix)?;
    for list in tag_map.values_mut() {
        list.retain(|t| t.version < release.version);
    }
    tag_map.retain(|_, list| !list.is_empty());
    walk_back(root, &repo, prefix, start, None, shallow, tag_map)
}

/// The walk of [`history`] and [`history_of_tag`] from `head_id`.
fn walk_back(
    root: &Path,
    repo: &gix::Repository,
    prefix: &str,
    head_id: gix::ObjectId,
    branch: Option<String>,
    shallow: bool,
    tag_map: HashMap<gix::ObjectId, Vec<Tag>>,
) -> Result<History> {
    let mut commits = Vec::new();
    let mut nearest: Option<Tag> = None;
    let mut saw_merge = false;
    let walk = repo
        .rev_walk([head_id])
        .sorting(gix::revision::walk::Sorting::ByCommitTime(
            Default::default(),
        ))
        .all()
        .map_err(repo_err)?;
    for info in walk {
        let info = info.map_err(repo_err)?;
        if let Some(t) = tag_map.get(&info.id).and_then(|t| best(t)) {
            nearest = Some(t.clone());
            break;
        }
        if commits.len() >= MAX_WALK {
            return Err(ReleaseError::git(format!(
                "more than {MAX_WALK} commits since the last release tag; tag the last release (`git tag -a {prefix}X.Y.Z <commit>`)"
            )));
        }
        let parents: Vec<String> = info.parent_ids().map(|p| p.to_string()).collect();
        saw_merge |= parents.len() > 1;
        commits.push(raw(repo, info.id, parents)?);
    }

    // The base is the highest release reachable, not the nearest tag: a later
    // `0.19.0-hotfix` (a pre-release by SemVer) must not hide `0.19.0`.
    let mut last_tag = nearest.clone();
    if let Some(near) = &nearest {
        let root_dir = repo.workdir().map(Path::to_path_buf);
        let mut higher: Vec<&Tag> = tag_map
            .values()
            .filter_map(|t| best(t))
            .filter(|t| t.version > near.version)
            .collect();
        higher.sort_by(|a, b| b.version.cmp(&a.version));
        let dir = root_dir.as_deref().unwrap_or(root);
        let head_hex = head_id.to_string();
        let reachable = if higher.len() > 16 {
            // Many tags above the nearest one (an old checkout, other
            // branches' lines): one `git tag --merged` instead of a process each.
            let merged: HashSet<String> = run(
                dir,
                &[
                    "tag",
                    "--merged",
                    &head_hex,
                    "--list",
                    &format!("{prefix}*"),
                ],
            )?
            .lines()
            .map(|l| l.trim().to_owned())
            .collect();
            higher.into_iter().find(|t| merged.contains(&t.name))
        } else {
            higher
                .into_iter()
                .find(|t| is_ancestor(dir, &t.commit, &head_hex))
        };
        if let Some(t) = reachable {
            last_tag = Some(t.clone());
        }
    }

    // With merges, commit-time order can visit commits that the tag already
    // contains before reaching the tag; hide the tag's ancestry to be exact.
    // When the base is not the nearest tag, both tags' ancestries are released.
    let base_differs = last_tag.as_ref().map(|t| &t.commit) != nearest.as_ref().map(|t| &t.commit);
    if (saw_merge || base_differs)
        && let Some(t) = &last_tag
    {
        let mut hidden = vec![gix::ObjectId::from_hex(t.commit.as_bytes()).map_err(repo_err)?];
        if let Some(n) = nearest.as_ref().filter(|_| base_differs) {
            hidden.push(gix::ObjectId::from_hex(n.commit.as_bytes()).map_err(repo_err)?);
        }
        commits.clear();
        let walk = repo
            .rev_walk([head_id])
            .sorting(gix::revision::walk::Sorting::ByCommitTime(
                Default::default(),
            ))
            .with_hidden(hidden)
            .all()
            .map_err(repo_err)?;
        for info in walk.take(MAX_WALK) {
            let info = info.map_err(repo_err)?;
            let parents: Vec<String> = info.parent_ids().map(|p| p.to_string()).collect();
            commits.push(raw(repo, info.id, parents)?);
        }
    }

    Ok(History {
        head: Some(head_id.to_string()),
        branch,
        shallow,
        incomplete: shallow && last_tag.is_none(),
        last_tag,
        commits,
    })
}

fn raw(repo: &gix::Repository, id: gix::ObjectId, parent_ids: Vec<String>) -> Result<RawCommit> {
    let commit = repo.find_commit(id).map_err(repo_err)?;
    let message = commit.message_raw_sloppy().to_string();
    Ok(RawCommit {
        id: id.to_string(),
        message,
        parents: parent_ids.len(),
        parent_ids,
    })
}

/// The commits since `since` (all of HEAD's history without it) that change
/// something under `dir`, as full ids: a monorepo package's own commits.
pub fn commits_touching(root: &Path, since: Option<&str>, dir: &Path) -> Result<HashSet<String>> {
    commits_touching_until(root, since, "HEAD", dir)
}

/// [`commits_touching`] up to `until` (a commit or tag) instead of HEAD.
pub fn commits_touching_until(
    root: &Path,
    since: Option<&str>,
    until: &str,
    dir: &Path,
) -> Result<HashSet<String>> {
    let range = match since {
        Some(c) => format!("{c}..{until}"),
        None => until.to_owned(),
    };
    let dir = dir.to_string_lossy();
    let out = run(root, &["log", "--format=%H", &range, "--", &dir])?;
    Ok(out.lines().map(|l| l.trim().to_owned()).collect())
}

/// The commit a tag name points at, if the tag exists.
pub fn tag_commit(root: &Path, name: &str) -> Result<Option<String>> {
    let repo = open(root)?;
    let full = format!("refs/tags/{name}");
    match repo.try_find_reference(full.as_str()).map_err(repo_err)? {
        Some(mut r) => Ok(Some(r.peel_to_id().map_err(repo_err)?.to_string())),
        None => Ok(None),
    }
}

/// Every release tag, highest version first (for `hotfix start`).
pub fn release_tags(root: &Path, prefix: &str) -> Result<Vec<Tag>> {
    let repo = open(root)?;
    let mut all: Vec<Tag> = tags(&repo, prefix)?.into_values().flatten().collect();
    all.sort_by(|a, b| b.version.cmp(&a.version));
    Ok(all)
}

/// A release tag, on any branch, whose version is `v` however it is spelt
/// (`v2.0.0-rc.1` or the PEP 440 `v2.0.0rc1`); build metadata is ignored.
pub fn tag_for_version(root: &Path, prefix: &str, v: &Version) -> Result<Option<Tag>> {
    Ok(release_tags(root, prefix)?
        .into_iter()
        .find(|t| crate::version::same_release(&t.version, v)))
}

/// How long asking `origin` about a tag may take.
const REMOTE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Whether `origin` has the tag: `Some(false)` when there is no `origin` or it
/// lacks the tag, `None` when it could not be asked (offline, slow, refused).
/// Bounded by [`REMOTE_TIMEOUT`]; git never prompts for credentials.
pub fn tag_on_remote(root: &Path, tag: &str) -> Option<bool> {
    if remote_url(root).is_none() {
        return Some(false);
    }
    let mut child = Command::new("git")
        .args(["ls-remote", "--tags", "origin", &format!("refs/tags/{tag}")])
        .current_dir(root)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let start = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                if !status.success() {
                    return None;
                }
                let mut out = String::new();
                let mut stdout = child.stdout.take()?;
                std::io::Read::read_to_string(
                    &mut std::io::Read::take(&mut stdout, 64 * 1024),
                    &mut out,
                )
                .ok()?;
                return Some(!out.trim().is_empty());
            }
            Ok(None) if start.elapsed() < REMOTE_TIMEOUT => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// What to say about an existing tag: delete it only if nobody has it yet.
pub fn existing_tag_hint(root: &Path, tag: &str) -> String {
    match tag_on_remote(root, tag) {
        Some(true) => format!(
            "`{tag}` is already pushed to `origin`, so it is published: release a new version instead (`runway release bump --version X.Y.Z`)"
        ),
        Some(false) => format!(
            "pick another version, or delete the tag (`git tag -d {tag}`): it has not been pushed"
        ),
        None => format!(
            "pick another version; delete the tag (`git tag -d {tag}`) only if it was never pushed (`origin` could not be asked)"
        ),
    }
}

/// The `origin` remote URL, if any.
pub fn remote_url(root: &Path) -> Option<String> {
    let repo = open(root).ok()?;
    let remote = repo.find_remote("origin").ok()?;
    remote
        .url(gix::remote::Direction::Fetch)
        .map(|u| u.to_bstring().to_string())
}

/// Runs `git` in `root`; a failure carries the command and git's own words.
pub fn run(root: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(root)
        .output()
        .map_err(|e| {
            ReleaseError::git_hint(
                format!("could not run `git`: {e}"),
                "install git and make sure it is on `PATH`",
            )
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(ReleaseError::git(crate::redact::redact_output(&format!(
            "`git {}` failed: {}",
            args.join(" "),
            stderr.trim()
        ))));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Paths with uncommitted changes (untracked files included), as `git status` lists them.
pub fn dirty_paths(root: &Path) -> Result<Vec<String>> {
    let out = run(root, &["status", "--porcelain"])?;
    Ok(out
        .lines()
        .filter(|l| l.len() > 3)
        .map(|l| l[3..].to_owned())
        .collect())
}

/// Refuses a dirty tree with the paths that make it dirty.
pub fn require_clean(root: &Path) -> Result<()> {
    let dirty = dirty_paths(root)?;
    if dirty.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = dirty.iter().take(10).map(|p| format!("`{p}`")).collect();
    let more = if dirty.len() > 10 {
        format!(" and {} more", dirty.len() - 10)
    } else {
        String::new()
    };
    Err(ReleaseError::git_hint(
        format!(
            "the working tree has uncommitted changes: {}{more}",
            shown.join(", ")
        ),
        "commit or stash them (`git stash --include-untracked`), or pass `--allow-dirty`",
    ))
}

/// Refuses a detached HEAD for operations that commit.
pub fn require_branch(h: &History) -> Result<&str> {
    h.branch.as_deref().ok_or_else(|| {
        ReleaseError::git_hint(
            "HEAD is detached, so a release commit would belong to no branch",
            "check out the release branch first (`git switch main`), or pass `--no-git` to only edit files",
        )
    })
}

/// True when `commit` is an ancestor of (or equal to) `of`.
pub fn is_ancestor(root: &Path, commit: &str, of: &str) -> bool {
    Command::new("git")
        .args(["merge-base", "--is-ancestor", commit, of])
        .current_dir(root)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The top of the work tree containing `root`.
pub fn toplevel(root: &Path) -> Result<PathBuf> {
    let repo = open(root)?;
    repo.workdir()
        .map(Path::to_path_buf)
        .ok_or_else(|| ReleaseError::git("the repository is bare; run Runway in a work tree"))
}

/// Commit time of each SHA the repository at `repo` knows (for the DORA lead
/// time); unknown SHAs, no repository or no `git` leave them absent.
///
/// Every SHA goes to one `git log --no-walk --ignore-missing --stdin` (the
/// batch form of `git show -s --format=%ct`), so ten thousand deployments cost
/// one process, not ten thousand.
pub fn commit_times(repo: &Path, shas: &HashSet<String>) -> HashMap<String, DateTime<Utc>> {
    let mut valid: Vec<&String> = shas
        .iter()
        .filter(|s| s.len() >= 4 && s.len() <= 64 && s.chars().all(|c| c.is_ascii_hexdigit()))
        .collect();
    valid.sort();
    if valid.is_empty() {
        return HashMap::new();
    }
    let input: String = valid.iter().map(|s| format!("{s}\n")).collect();
    // `--ignore-missing` skips the ones this repository does not have instead
    // of failing the lot.
    let args = [
        "log",
        "--no-walk=unsorted",
        "--ignore-missing",
        "--no-notes",
        "--format=%H %ct",
        "--stdin",
    ];
    if let Some(out) = git_with_stdin(repo, &args, &input) {
        return match_commit_times(&valid, &out);
    }
    // A SHA that names a tree or a blob fails `git log`: sort them out first.
    let Some(check) = git_with_stdin(repo, &["cat-file", "--batch-check"], &input) else {
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
    match git_with_stdin(repo, &args, &input) {
        Some(out) => match_commit_times(&commits, &out),
        None => HashMap::new(),
    }
}

/// Maps `git log --format='%H %ct'` output back to the SHAs as the caller
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

/// `git -C repo ARGS` with `input` on stdin; its stdout when it succeeds.
fn git_with_stdin(repo: &Path, args: &[&str], input: &str) -> Option<String> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    // Written from a thread: git may fill its stdout before it has read all of stdin.
    let input = input.to_owned();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().ok()?;
    let _ = writer.join();
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
