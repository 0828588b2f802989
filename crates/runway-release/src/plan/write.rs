//! All-or-none writes: every new file is written next to its target first,
//! then renamed into place; if a rename fails, the files already replaced are
//! put back, so a failed bump never leaves half the version files changed.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{ReleaseError, Result};

/// One file a bump writes.
#[derive(Debug, Clone, Serialize)]
pub struct FileChange {
    pub path: PathBuf,
    /// `None` when the file is new.
    #[serde(skip)]
    pub before: Option<String>,
    #[serde(skip)]
    pub after: String,
}

/// Unified diff of every change, as `git diff` would show it.
pub fn unified_diff(changes: &[FileChange]) -> String {
    let mut out = String::new();
    for c in changes {
        let p = c.path.to_string_lossy().replace('\\', "/");
        let before = c.before.as_deref().unwrap_or("");
        let old = if c.before.is_some() {
            format!("a/{p}")
        } else {
            "/dev/null".into()
        };
        let diff = similar::TextDiff::from_lines(before, &c.after);
        out.push_str(
            &diff
                .unified_diff()
                .context_radius(3)
                .header(&old, &format!("b/{p}"))
                .to_string(),
        );
    }
    out
}

fn tmp_path(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dest.with_file_name(format!(".{name}.runway-{}.tmp", std::process::id()))
}

/// Writes every change or none: temp files first, then renames, undoing on failure.
pub fn write_all(root: &Path, changes: &[FileChange]) -> Result<()> {
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let cleanup = |staged: &[(PathBuf, PathBuf)]| {
        for (tmp, _) in staged {
            let _ = std::fs::remove_file(tmp);
        }
    };
    for c in changes {
        let dest = root.join(&c.path);
        let tmp = tmp_path(&dest);
        if let Err(source) = std::fs::write(&tmp, &c.after) {
            cleanup(&staged);
            return Err(ReleaseError::Write { path: dest, source });
        }
        if let Ok(meta) = std::fs::metadata(&dest) {
            let _ = std::fs::set_permissions(&tmp, meta.permissions());
        }
        staged.push((tmp, dest));
    }
    for (i, (tmp, dest)) in staged.iter().enumerate() {
        if let Err(source) = std::fs::rename(tmp, dest) {
            for (c, (_, done)) in changes[..i].iter().zip(&staged[..i]) {
                let _ = match &c.before {
                    Some(b) => std::fs::write(done, b),
                    None => std::fs::remove_file(done),
                };
            }
            cleanup(&staged[i..]);
            return Err(ReleaseError::Write {
                path: dest.clone(),
                source,
            });
        }
    }
    Ok(())
}
