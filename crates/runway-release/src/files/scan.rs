//! Version strings outside the usual version files: a constant in
//! `src/version.ts` (`serviceVersion = '0.1.0'`), a version hard-coded in a
//! `/health` handler, `FastMCP("srv", version="0.1.0")`. `runway init` offers
//! each with its line and a regex entry for `[release].files`, and names the
//! lines that hold the version but that it could not classify.
//!
//! The walk is bounded (depth, file count, file size) and skips dependency,
//! build and VCS directories, so it costs the same on a checkout with
//! `node_modules` as without.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

/// A version string a release must move, with the entry that moves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Found {
    pub path: PathBuf,
    pub line: usize,
    /// The line, trimmed (at most 120 characters).
    pub text: String,
    /// A `[release].files` regex whose first group is this version.
    pub regex: String,
    /// The version the line says: the one looked for, or another one on a
    /// constant that names the server's own version (`serviceVersion =
    /// '0.1.0'` beside a manifest at `0.4.1`): a release that never moved it.
    pub value: String,
}

impl Found {
    /// The line says another version than the one looked for.
    pub fn disagrees(&self, version: Option<&str>) -> bool {
        version.is_some_and(|v| v.trim_start_matches('v') != self.value)
    }
}

/// Lines that hold the version but are not a version assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unclassified {
    pub path: PathBuf,
    pub line: usize,
    pub text: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Scan {
    /// The version looked for (the version files', or the one most assigned).
    pub version: Option<String>,
    pub found: Vec<Found>,
    pub unclassified: Vec<Unclassified>,
    /// Lines in tests that hold the version (not listed).
    pub in_tests: usize,
}

const SKIP_DIRS: &[&str] = &[
    ".git",
    "node_modules",
    "target",
    "dist",
    "build",
    ".venv",
    "venv",
    "env",
    "__pycache__",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "vendor",
    "coverage",
    ".next",
    ".runway",
    "site-packages",
    "docs",
    "doc",
    "examples",
    "fixtures",
    "testdata",
];
const EXTENSIONS: &[&str] = &[
    "ts", "mts", "cts", "js", "mjs", "cjs", "py", "go", "rs", "java", "kt", "rb", "cs",
];
const MAX_DEPTH: usize = 8;
const MAX_FILES: usize = 5_000;
const MAX_BYTES: u64 = 512 * 1024;

/// `<something version something> = | : '<X.Y.Z>'` on one line.
static ASSIGN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)(?P<lhs>[\w"'.$]*version[\w"'$]*)\s*(?::\s*[\w.]+\s*)?(?:=|:|=>)\s*(?P<q>['"`])(?P<v>v?[0-9]+\.[0-9]+\.[0-9]+(?:[-.+]?[0-9A-Za-z.]+)?)['"`]"#,
    )
    .expect("static regex")
});

fn is_test_path(rel: &Path) -> bool {
    rel.components().any(|c| {
        let s = c.as_os_str().to_string_lossy();
        s == "tests" || s == "test" || s == "__tests__" || s == "spec"
    }) || rel.file_name().is_some_and(|n| {
        let n = n.to_string_lossy();
        n.starts_with("test_")
            || n.contains(".test.")
            || n.contains(".spec.")
            || n.ends_with("_test.go")
    })
}

fn source_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().take(10_000).collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let Ok(ft) = e.file_type() else { continue };
            let name = e.file_name().to_string_lossy().into_owned();
            let path = e.path();
            if ft.is_dir() {
                if depth < MAX_DEPTH
                    && !SKIP_DIRS.contains(&name.as_str())
                    && !name.starts_with('.')
                {
                    stack.push((path, depth + 1));
                }
            } else if ft.is_file()
                && path
                    .extension()
                    .is_some_and(|x| EXTENSIONS.contains(&x.to_string_lossy().as_ref()))
                && !name.ends_with(".d.ts")
                && !name.ends_with(".min.js")
            {
                if let Ok(rel) = path.strip_prefix(root) {
                    out.push(rel.to_path_buf());
                }
                if out.len() >= MAX_FILES {
                    return out;
                }
            }
        }
    }
    out.sort();
    out
}

fn read_small(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.len() > MAX_BYTES {
        return None;
    }
    std::fs::read_to_string(path).ok()
}

fn shorten(line: &str) -> String {
    let t = line.trim();
    match t.char_indices().nth(120) {
        Some((i, _)) => format!("{}...", &t[..i]),
        None => t.to_owned(),
    }
}

/// True when `v` occurs in `line` as a whole version (not inside `10.1.0.5`).
fn holds(line: &str, v: &str) -> Option<usize> {
    if v.is_empty() {
        return None;
    }
    let mut from = 0;
    while let Some(i) = line[from..].find(v) {
        let start = from + i;
        let end = start + v.len();
        let before = line[..start].chars().next_back();
        let after = line[end..].chars().next();
        let edge = |c: Option<char>| c.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '.'));
        if edge(before) && edge(after) {
            return Some(start);
        }
        from = end;
    }
    None
}

/// The assignment of `v` on `line`, as the regex that finds it again: the
/// text from the assigned name to the version, escaped, then a group around
/// the version (indentation and what follows may change).
fn assignment(line: &str, v: &str) -> Option<String> {
    assignment_where(line, |value, _| value == v)
}

/// A name that holds the project's own version (`serviceVersion`,
/// `SERVER_VERSION`, `__version__`, `VERSION`), not a dependency's or a
/// protocol's (`minNodeVersion`, `protocolVersion`). A plain lowercase
/// `version` counts only in a file named for it (`src/version.ts`).
fn own_version_name(lhs: &str, rel: &Path) -> bool {
    let last: String = lhs
        .rsplit('.')
        .next()
        .unwrap_or(lhs)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if last == "__version__" || last == "VERSION" {
        return true;
    }
    let name: String = last
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    if name == "version" {
        return rel
            .file_stem()
            .is_some_and(|s| s.to_string_lossy().to_ascii_lowercase().contains("version"));
    }
    matches!(
        name.as_str(),
        "serviceversion"
            | "serverversion"
            | "appversion"
            | "applicationversion"
            | "packageversion"
            | "pkgversion"
            | "mcpversion"
            | "mcpserverversion"
            | "currentversion"
            | "releaseversion"
            | "buildversion"
    )
}

/// An assignment of another version than `v` to a name that holds the
/// project's own version: `(regex, value)`.
fn other_own_version(line: &str, v: &str, rel: &Path) -> Option<(String, String)> {
    let mut value = None;
    let regex = assignment_where(line, |found, lhs| {
        if found != v && own_version_name(lhs, rel) {
            value = Some(found.to_owned());
            true
        } else {
            false
        }
    })?;
    Some((regex, value?))
}

fn assignment_where(line: &str, mut wanted: impl FnMut(&str, &str) -> bool) -> Option<String> {
    ASSIGN.captures_iter(line).find_map(|c| {
        let m = c.name("v")?;
        let lhs_text = c.name("lhs")?.as_str();
        if !wanted(m.as_str().trim_start_matches('v'), lhs_text) {
            return None;
        }
        let start = m.start() + usize::from(m.as_str().starts_with('v'));
        let lhs = c.name("lhs")?.start();
        Some(format!(
            "{}([0-9][0-9A-Za-z.+-]*)",
            regex::escape(&line[lhs..start])
        ))
    })
}

/// Scans the project's sources for `version` (or, without it, for the version
/// most often assigned to a `*version*` name), skipping `known` files.
pub fn scan(root: &Path, version: Option<&str>, known: &[PathBuf]) -> Scan {
    let files: Vec<(PathBuf, String)> = source_files(root)
        .into_iter()
        .filter(|rel| !known.contains(rel))
        .filter_map(|rel| read_small(&root.join(&rel)).map(|t| (rel, t)))
        .collect();
    let version = match version {
        Some(v) => Some(v.trim_start_matches('v').to_owned()),
        None => most_assigned(&files),
    };
    let mut scan = Scan {
        version: version.clone(),
        ..Scan::default()
    };
    let Some(v) = version else {
        return scan;
    };
    for (rel, text) in &files {
        let mut first_in_file = true;
        let test = is_test_path(rel);
        for (n, line) in text.lines().enumerate() {
            if holds(line, &v).is_none() {
                // A constant of the server's own version that a release
                // never moved (`serviceVersion = '0.1.0'` at 0.4.1).
                if !test
                    && first_in_file
                    && let Some((regex, value)) = other_own_version(line, &v, rel)
                {
                    first_in_file = false;
                    scan.found.push(Found {
                        path: rel.clone(),
                        line: n + 1,
                        text: shorten(line),
                        regex,
                        value,
                    });
                }
                continue;
            }
            // Tests hold versions of their own making: counted, not listed.
            if test {
                scan.in_tests += 1;
                continue;
            }
            let regex = assignment(line, &v).filter(|_| first_in_file);
            if let Some(regex) = regex {
                first_in_file = false;
                scan.found.push(Found {
                    path: rel.clone(),
                    line: n + 1,
                    text: shorten(line),
                    regex,
                    value: v.clone(),
                });
            } else {
                scan.unclassified.push(Unclassified {
                    path: rel.clone(),
                    line: n + 1,
                    text: shorten(line),
                });
            }
            if scan.unclassified.len() >= 50 {
                return scan;
            }
        }
    }
    scan
}

fn most_assigned(files: &[(PathBuf, String)]) -> Option<String> {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for (rel, text) in files {
        if is_test_path(rel) {
            continue;
        }
        for c in ASSIGN.captures_iter(text) {
            let v = c["v"].trim_start_matches('v').to_owned();
            *counts.entry(v).or_default() += 1;
        }
    }
    counts.into_iter().max_by_key(|(_, n)| *n).map(|(v, _)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (p, t) in files {
            let p = d.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, t).unwrap();
        }
        d
    }

    #[test]
    fn constants_and_health_handlers_are_found_with_a_regex_that_reads_them() {
        let d = project(&[
            ("src/version.ts", "export const serviceVersion = '0.1.0';\n"),
            (
                "src/server.py",
                "import x\n\n@app.get('/health')\ndef health():\n    return {\"status\": \"ok\", \"version\": \"0.1.0\"}\n",
            ),
            ("src/client.ts", "const ua = `my-server/0.1.0 (node)`;\n"),
            ("tests/test_v.py", "assert VERSION == \"0.1.0\"\n"),
            ("node_modules/x/index.js", "const version = '0.1.0';\n"),
            ("src/other.ts", "const version = '10.1.0';\n"),
        ]);
        let s = scan(d.path(), Some("0.1.0"), &[]);
        let found: Vec<(String, usize)> = s
            .found
            .iter()
            .map(|f| (f.path.to_string_lossy().into_owned(), f.line))
            .collect();
        assert_eq!(
            found,
            [
                ("src/server.py".to_owned(), 5),
                ("src/version.ts".to_owned(), 1)
            ]
        );
        for f in &s.found {
            let text = std::fs::read_to_string(d.path().join(&f.path)).unwrap();
            let re = Regex::new(&f.regex).unwrap();
            assert_eq!(&re.captures(&text).unwrap()[1], "0.1.0", "{}", f.regex);
        }
        assert_eq!(
            s.found[1].regex,
            r"serviceVersion = '([0-9][0-9A-Za-z.+-]*)"
        );
        let unclassified: Vec<String> = s
            .unclassified
            .iter()
            .map(|u| u.path.to_string_lossy().into_owned())
            .collect();
        assert_eq!(unclassified, ["src/client.ts"]);
        assert_eq!(s.in_tests, 1);
    }

    /// dynamic-mcp 0.4.1: `src/version.ts` still says 0.1.0 and the server
    /// reports it. The constant is offered (it disagrees); a dependency's or
    /// the protocol's version is not.
    #[test]
    fn a_constant_of_the_servers_own_version_left_behind_is_found() {
        let d = project(&[
            ("src/version.ts", "export const serviceVersion = '0.1.0';\n"),
            (
                "src/deps.ts",
                "const minNodeVersion = '18.0.0';\nconst protocolVersion = '2025.6.18';\nconst version = '2.0.0';\n",
            ),
            ("src/health.py", "VERSION = \"0.3.9\"\n"),
            ("tests/version.test.ts", "const version = '0.0.1';\n"),
        ]);
        let s = scan(d.path(), Some("0.4.1"), &[]);
        let found: Vec<(String, &str)> = s
            .found
            .iter()
            .map(|f| (f.path.to_string_lossy().into_owned(), f.value.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("src/health.py".to_owned(), "0.3.9"),
                ("src/version.ts".to_owned(), "0.1.0")
            ]
        );
        assert!(s.found.iter().all(|f| f.disagrees(Some("0.4.1"))));
        let text = std::fs::read_to_string(d.path().join("src/version.ts")).unwrap();
        let re = Regex::new(&s.found[1].regex).unwrap();
        assert_eq!(&re.captures(&text).unwrap()[1], "0.1.0");
    }

    #[test]
    fn without_a_version_file_the_most_assigned_version_is_looked_for() {
        let d = project(&[
            (
                "src/index.ts",
                "const server = new McpServer({ name: 'x', version: '1.2.3' });\n",
            ),
            ("src/health.ts", "res.json({ version: \"1.2.3\" })\n"),
        ]);
        let s = scan(d.path(), None, &[]);
        assert_eq!(s.version.as_deref(), Some("1.2.3"));
        assert_eq!(s.found.len(), 2);
    }
}
