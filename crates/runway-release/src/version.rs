//! SemVer 2.0.0 bumps: major/minor/patch, pre-release lines (`alpha`, `beta`,
//! `rc`) and their promotion, and the Python spelling of the same versions.
//!
//! Build metadata never takes part: a bump drops it, and comparisons ignore it
//! (SemVer 2.0.0 §10), so `1.2.0+abc` and `1.2.0` are the same release.

use std::cmp::Ordering;

use semver::{BuildMetadata, Prerelease, Version};

use crate::error::{ReleaseError, Result};

/// Which number a release moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Patch,
    Minor,
    Major,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Patch => "patch",
            Level::Minor => "minor",
            Level::Major => "major",
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A pre-release line, in the order they normally come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PreKind {
    Alpha,
    Beta,
    Rc,
}

impl PreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PreKind::Alpha => "alpha",
            PreKind::Beta => "beta",
            PreKind::Rc => "rc",
        }
    }

    pub fn parse(s: &str) -> Option<PreKind> {
        match s {
            "alpha" | "a" => Some(PreKind::Alpha),
            "beta" | "b" => Some(PreKind::Beta),
            "rc" | "c" => Some(PreKind::Rc),
            _ => None,
        }
    }
}

/// Parses a version as written in a version file or tag: SemVer, or the
/// PEP 440 spelling of a SemVer pre-release (`1.2.0rc1`, `1.2.0a2`, `1.2.0b1`).
pub fn parse(text: &str) -> std::result::Result<Version, NotAVersion> {
    let t = text.trim();
    match Version::parse(t) {
        Ok(v) => Ok(v),
        Err(e) => from_pep440(t).ok_or(NotAVersion(e)),
    }
}

/// Why a text is not a version: SemVer's own reason.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct NotAVersion(semver::Error);

/// Why a version given by a user is refused ([`check_input`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("a version is needed (`1.4.0`)")]
    Empty,
    #[error("longer than {MAX_INPUT_LEN} characters")]
    TooLong,
    #[error("{0:?} cannot be part of a version")]
    Character(char),
    #[error("not a SemVer (`1.4.0`) or PEP 440 (`1.4.0rc1`) version")]
    NotSemverOrPep440,
    #[error("not a SemVer version (`1.4.0`, `2.0.0-rc.1`)")]
    NotSemver,
}

/// The longest version accepted from a user.
pub const MAX_INPUT_LEN: usize = 128;

/// Checks a version given on the command line (`--version`, `--to`) or to an
/// MCP tool, before it reaches a command line, an image tag or the ledger:
/// a SemVer version (`1.4.0`, `2.0.0-rc.1+build.5`), or, when the project is
/// Python (`python`), a PEP 440 one (`1.4.0rc1`, `1.4.post2`, `2!1.0.dev3`).
/// One leading `v` is dropped (`v1.4.0` is `1.4.0`, as a tag would read);
/// nothing else is rewritten or trimmed, so a newline, a space, an escape or
/// a path (`../../x`) is refused. Returns the version to use, or why not.
pub fn check_input(text: &str, python: bool) -> std::result::Result<String, InputError> {
    let v = text.strip_prefix('v').unwrap_or(text);
    if v.is_empty() {
        return Err(InputError::Empty);
    }
    if text.len() > MAX_INPUT_LEN {
        return Err(InputError::TooLong);
    }
    if let Some(c) = v
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '!' | '_')))
    {
        return Err(InputError::Character(c));
    }
    if Version::parse(v).is_ok() {
        return Ok(v.to_owned());
    }
    if python {
        if REGEX_PEP440_ANY.is_match(v) {
            return Ok(v.to_owned());
        }
        return Err(InputError::NotSemverOrPep440);
    }
    Err(InputError::NotSemver)
}

/// Whether the project at `root` is a Python one (`pyproject.toml`,
/// `setup.py` or `setup.cfg`), whose versions may be written as PEP 440.
pub fn python_project(root: &std::path::Path) -> bool {
    ["pyproject.toml", "setup.py", "setup.cfg"]
        .iter()
        .any(|f| root.join(f).is_file())
}

/// A PEP 440 public version with an optional local part: epoch, release,
/// pre, post and dev segments with the separators the spec allows.
static REGEX_PEP440_ANY: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)^(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?[0-9]*)?(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?(?:[-_.]?dev[-_.]?[0-9]*)?(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?$",
    )
    .expect("static regex")
});

fn from_pep440(t: &str) -> Option<Version> {
    let re = &*REGEX_PEP440;
    let c = re.captures(t)?;
    let kind = PreKind::parse(&c["kind"])?;
    let n: u64 = c["n"].parse().ok()?;
    let mut v = Version::parse(&c["base"]).ok()?;
    v.pre = Prerelease::new(&format!("{}.{n}", kind.as_str())).ok()?;
    Some(v)
}

static REGEX_PEP440: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"^(?P<base>\d+\.\d+\.\d+)[.-]?(?P<kind>a|b|rc|c|alpha|beta)\.?(?P<n>\d+)$")
        .expect("static regex")
});

/// The PEP 440 spelling Python tools normalise to (`1.2.0rc1`); a release is unchanged.
pub fn to_pep440(v: &Version) -> String {
    let base = format!("{}.{}.{}", v.major, v.minor, v.patch);
    if v.pre.is_empty() {
        return base;
    }
    match pre_parts(v) {
        Some((kind, n)) => {
            let k = match kind {
                PreKind::Alpha => "a",
                PreKind::Beta => "b",
                PreKind::Rc => "rc",
            };
            format!("{base}{k}{n}")
        }
        None => v.to_string(),
    }
}

/// `(kind, number)` of a `kind.N` pre-release.
pub fn pre_parts(v: &Version) -> Option<(PreKind, u64)> {
    let mut it = v.pre.as_str().split('.');
    let kind = PreKind::parse(it.next()?)?;
    let n = it.next().map_or(Some(0), |n| n.parse().ok())?;
    if it.next().is_some() {
        return None;
    }
    Some((kind, n))
}

/// Compares two versions as releases: build metadata ignored.
pub fn cmp_release(a: &Version, b: &Version) -> Ordering {
    strip_build(a).cmp(&strip_build(b))
}

pub fn same_release(a: &Version, b: &Version) -> bool {
    cmp_release(a, b) == Ordering::Equal
}

fn strip_build(v: &Version) -> Version {
    let mut v = v.clone();
    v.build = BuildMetadata::EMPTY;
    v
}

fn release_of(v: &Version) -> Version {
    Version::new(v.major, v.minor, v.patch)
}

/// The release a level leads to. A pre-release is promoted when the level is
/// already covered by it (`1.2.0-rc.1` + minor = `1.2.0`), as `npm version` does.
fn release_bump(v: &Version, level: Level) -> Version {
    let pre = !v.pre.is_empty();
    match level {
        Level::Major if pre && v.minor == 0 && v.patch == 0 => release_of(v),
        Level::Major => Version::new(v.major + 1, 0, 0),
        Level::Minor if pre && v.patch == 0 => release_of(v),
        Level::Minor => Version::new(v.major, v.minor + 1, 0),
        Level::Patch if pre => release_of(v),
        Level::Patch => Version::new(v.major, v.minor, v.patch + 1),
    }
}

/// The next version from `current` for `level`, on the `pre` line when given.
///
/// `1.1.0` + minor + rc = `1.2.0-rc.1`; again = `1.2.0-rc.2`; + minor = `1.2.0`.
pub fn bump(current: &Version, level: Level, pre: Option<PreKind>) -> Result<Version> {
    bump_from(current, level, pre, 1)
}

/// [`bump`] with a new pre-release line numbered from `start` (`0` or `1`,
/// `[release].prerelease_start`): `1.2.0-rc.0` or `1.2.0-rc.1`.
pub fn bump_from(
    current: &Version,
    level: Level,
    pre: Option<PreKind>,
    start: u64,
) -> Result<Version> {
    let base = release_bump(current, level);
    let Some(kind) = pre else {
        return Ok(base);
    };
    let continuing = !current.pre.is_empty() && base == release_of(current);
    let n = if continuing {
        match pre_parts(current) {
            Some((k, n)) if k == kind => n + 1,
            Some((k, _)) if k > kind => {
                return Err(ReleaseError::Bump(format!(
                    "`{current}` is already on the `{}` line; `--pre {}` would go backwards; use `--pre {}` or drop `--pre` to release `{base}`",
                    k.as_str(),
                    kind.as_str(),
                    k.as_str()
                )));
            }
            _ => start,
        }
    } else {
        start
    };
    let mut next = base;
    next.pre = Prerelease::new(&format!("{}.{n}", kind.as_str()))
        .map_err(|e| ReleaseError::Bump(e.to_string()))?;
    Ok(next)
}

/// An explicit `--version`: must be valid and move forward.
pub fn explicit(current: &Version, requested: &str) -> Result<Version> {
    let v = Version::parse(requested.trim().trim_start_matches('v')).map_err(|e| {
        ReleaseError::Bump(format!(
            "`--version {requested}` is not a SemVer 2.0.0 version: {e}"
        ))
    })?;
    if cmp_release(&v, current) != Ordering::Greater {
        return Err(ReleaseError::Bump(format!(
            "`--version {v}` is not greater than the current version `{current}`"
        )));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_from_a_user_is_semver_or_pep_440_in_a_python_project() {
        assert_eq!(check_input("1.4.0", false).unwrap(), "1.4.0");
        assert_eq!(check_input("v1.4.0", false).unwrap(), "1.4.0");
        assert_eq!(
            check_input("2.0.0-rc.1+b.5", false).unwrap(),
            "2.0.0-rc.1+b.5"
        );
        for bad in [
            "",
            "v",
            "1.0.0\n",
            " 1.0.0",
            "1.0.0 x",
            "../../x",
            "1.0.0/..",
            "\u{1b}[31m1.0.0",
            "1.0",
            "vv1.0.0",
            "1.0.0rc1",
        ] {
            assert!(check_input(bad, false).is_err(), "{bad:?}");
        }
        for ok in [
            "1.4.0rc1",
            "1.4",
            "1.4.post2",
            "2!1.0.dev3",
            "1.0.0a1",
            "1.0+local.7",
        ] {
            assert_eq!(check_input(ok, true).unwrap(), ok);
        }
        for bad in ["1.0.0\n", "../../x", "1.0.0 rc1", "x1"] {
            assert!(check_input(bad, true).is_err(), "{bad:?}");
        }
        assert!(check_input(&"1".repeat(200), false).is_err());
    }

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn plain_bumps_reset_lower_numbers_and_drop_build_metadata() {
        let c = v("1.2.3+build.5");
        assert_eq!(bump(&c, Level::Patch, None).unwrap(), v("1.2.4"));
        assert_eq!(bump(&c, Level::Minor, None).unwrap(), v("1.3.0"));
        assert_eq!(bump(&c, Level::Major, None).unwrap(), v("2.0.0"));
    }

    #[test]
    fn a_pre_release_line_can_start_at_zero() {
        let rc0 = bump_from(&v("1.1.0"), Level::Minor, Some(PreKind::Rc), 0).unwrap();
        assert_eq!(rc0, v("1.2.0-rc.0"));
        assert_eq!(to_pep440(&rc0), "1.2.0rc0");
        let rc1 = bump_from(&rc0, Level::Minor, Some(PreKind::Rc), 0).unwrap();
        assert_eq!(rc1, v("1.2.0-rc.1"));
        // Moving to a later line starts it at zero too.
        let a = bump_from(&v("1.1.0"), Level::Minor, Some(PreKind::Alpha), 0).unwrap();
        assert_eq!(
            bump_from(&a, Level::Minor, Some(PreKind::Beta), 0).unwrap(),
            v("1.2.0-beta.0")
        );
    }

    #[test]
    fn rc_line_goes_rc1_rc2_then_promotes() {
        let c = v("1.1.0");
        let rc1 = bump(&c, Level::Minor, Some(PreKind::Rc)).unwrap();
        assert_eq!(rc1, v("1.2.0-rc.1"));
        let rc2 = bump(&rc1, Level::Minor, Some(PreKind::Rc)).unwrap();
        assert_eq!(rc2, v("1.2.0-rc.2"));
        assert_eq!(
            bump(&rc2, Level::Patch, Some(PreKind::Rc)).unwrap(),
            v("1.2.0-rc.3")
        );
        assert_eq!(bump(&rc2, Level::Minor, None).unwrap(), v("1.2.0"));
        assert_eq!(bump(&rc2, Level::Patch, None).unwrap(), v("1.2.0"));
        assert_eq!(bump(&rc2, Level::Major, None).unwrap(), v("2.0.0"));
    }

    #[test]
    fn pre_lines_move_forward_only() {
        let beta = v("2.0.0-beta.3");
        assert_eq!(
            bump(&beta, Level::Major, Some(PreKind::Rc)).unwrap(),
            v("2.0.0-rc.1")
        );
        let err = bump(&v("2.0.0-rc.1"), Level::Major, Some(PreKind::Alpha)).unwrap_err();
        assert!(err.to_string().contains("backwards"), "{err}");
    }

    #[test]
    fn a_bigger_level_than_the_pre_release_covers_starts_a_new_line() {
        assert_eq!(
            bump(&v("1.2.1-alpha.2"), Level::Minor, Some(PreKind::Alpha)).unwrap(),
            v("1.3.0-alpha.1")
        );
    }

    #[test]
    fn explicit_version_must_move_forward() {
        assert_eq!(explicit(&v("1.0.0"), "v1.4.0").unwrap(), v("1.4.0"));
        assert!(explicit(&v("1.0.0"), "1.0.0+meta").is_err());
        assert!(explicit(&v("1.0.0"), "0.9.0").is_err());
        assert!(
            explicit(&v("1.0.0"), "one")
                .unwrap_err()
                .to_string()
                .contains("SemVer")
        );
    }

    #[test]
    fn pep440_round_trips_semver_pre_releases() {
        assert_eq!(parse("1.2.0rc1").unwrap(), v("1.2.0-rc.1"));
        assert_eq!(parse("1.2.0a2").unwrap(), v("1.2.0-alpha.2"));
        assert_eq!(parse("1.2.0b1").unwrap(), v("1.2.0-beta.1"));
        assert_eq!(to_pep440(&v("1.2.0-rc.1")), "1.2.0rc1");
        assert_eq!(to_pep440(&v("1.2.0")), "1.2.0");
        assert!(parse("1.2").is_err());
    }

    #[test]
    fn build_metadata_is_ignored_when_comparing() {
        assert!(same_release(&v("1.0.0+a"), &v("1.0.0+b")));
        assert!(!same_release(&v("1.0.0-rc.1"), &v("1.0.0")));
    }
}
