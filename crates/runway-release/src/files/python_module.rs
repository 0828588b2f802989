//! `__version__ = "..."` in a Python module, and the usual places one lives.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use super::{Location, line_col, loc, no_version, splice};
use crate::error::Result;

static VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^__version__\s*(?::\s*str\s*)?=\s*['"](?P<v>[^'"\n]+)['"]"#)
        .expect("static regex")
});

pub(super) fn read(text: &str) -> Vec<Location> {
    VERSION
        .captures(text)
        .and_then(|c| c.name("v"))
        .map(|m| vec![loc("__version__", m.as_str(), line_col(text, m.start()).0)])
        .unwrap_or_default()
}

pub(super) fn write(rel: &Path, text: &str, new: &str) -> Result<String> {
    let m = VERSION
        .captures(text)
        .and_then(|c| c.name("v"))
        .ok_or_else(|| no_version(rel))?;
    Ok(splice(text, m.range(), new))
}

/// `pkg/__init__.py`, `src/pkg/__init__.py` and their `__about__.py`/`_version.py`.
pub(super) fn candidates(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for base in ["", "src"] {
        let dir = root.join(base);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut pkgs: Vec<PathBuf> = entries
            .flatten()
            .take(1000)
            .map(|e| e.path())
            .filter(|p| p.join("__init__.py").is_file())
            .collect();
        pkgs.sort();
        for pkg in pkgs {
            for file in ["__init__.py", "__about__.py", "_version.py", "version.py"] {
                let p = pkg.join(file);
                if p.is_file()
                    && let Ok(rel) = p.strip_prefix(root)
                {
                    out.push(rel.to_owned());
                }
            }
        }
    }
    out
}
