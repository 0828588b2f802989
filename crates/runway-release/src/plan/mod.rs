//! The release operations the command line offers: status, bump, changelog,
//! check, hotfix and the release notes. Each reads the project once, decides, and returns data
//! for the binary to print.
//!
//! One module per job: `status` decides the next version, `entry` renders and
//! writes the changelog entry, `bump` writes and tags it (through `write`,
//! which is all-or-none), `check` is the pre-release gate, `gate` runs the
//! user's gate commands, `hotfix` branches from a tag and back, `notes` renders one version's
//! release notes with the changelog's renderer.

use runway_core::ToolSurface;
use semver::Version;

use crate::error::{ReleaseError, Result};
use crate::files::VersionFile;
use crate::version::{self, Level, PreKind};

mod bump;
mod check;
mod entry;
mod gate;
mod hotfix;
mod notes;
mod status;
mod write;

pub use bump::{BumpOptions, BumpResult, Bumped, Requested, bump};
pub use check::{CheckOptions, CheckRow, RowStatus, check, check_at_tag};
pub use entry::{changelog_entry, release_date, write_changelog};
pub use gate::run_gate;
pub use hotfix::{Conflict, HotfixFinish, HotfixStart, hotfix_finish, hotfix_start};
pub use notes::{NO_CHANGES, Notes, notes};
pub use status::{Group, Status, status};
pub use write::{FileChange, unified_diff, write_all};

/// Options shared by everything that computes the next version.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub pre: Option<PreKind>,
    /// The surface the server has now (captured by the binary), compared with the committed one.
    pub surface: Option<ToolSurface>,
    /// Work without a git repository (only `--no-git` bumps).
    pub allow_no_repo: bool,
    /// A monorepo package's directory (relative to the root): its version files
    /// are found there, and only commits that touch it count.
    pub package_dir: Option<std::path::PathBuf>,
}

/// The semver release a version file states (Python files may use PEP 440).
pub(crate) fn file_semver(f: &VersionFile, loc: usize) -> Result<Version> {
    let l = &f.locations[loc];
    version::parse(&l.version).map_err(|reason| ReleaseError::BadVersion {
        path: f.path.clone(),
        line: Some(l.line),
        version: l.version.clone(),
        reason: reason.to_string(),
    })
}

pub(crate) fn short(sha: &str) -> &str {
    &sha[..sha.len().min(7)]
}

pub(crate) fn level_between(from: &Version, to: &Version) -> Level {
    if to.major != from.major {
        Level::Major
    } else if to.minor != from.minor {
        Level::Minor
    } else {
        Level::Patch
    }
}
