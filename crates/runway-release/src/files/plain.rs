//! Files whose whole content is the version (`VERSION`), and `[release].files`
//! entries with a user `regex` whose `version` group (or first group) is it.

use std::path::Path;

use regex::Regex;

use super::{Location, line_col, loc, no_version, splice};
use crate::error::{ReleaseError, Result};

pub(super) fn read(text: &str) -> Vec<Location> {
    let t = text.trim();
    if t.is_empty() {
        return Vec::new();
    }
    let start = text.find(t).unwrap_or(0);
    vec![loc("content", t, line_col(text, start).0)]
}

pub(super) fn write(text: &str, new: &str) -> String {
    let t = text.trim();
    let start = text.find(t).unwrap_or(0);
    splice(text, start..start + t.len(), new)
}

pub(super) fn read_regex(text: &str, pattern: &str) -> Result<Vec<Location>> {
    let re = user_regex(pattern)?;
    Ok(regex_version(&re, text)
        .map(|m| {
            vec![loc(
                &format!("/{pattern}/"),
                m.as_str(),
                line_col(text, m.start()).0,
            )]
        })
        .unwrap_or_default())
}

pub(super) fn write_regex(rel: &Path, text: &str, pattern: &str, new: &str) -> Result<String> {
    let re = user_regex(pattern)?;
    let m = regex_version(&re, text).ok_or_else(|| no_version(rel))?;
    Ok(splice(text, m.range(), new))
}

fn user_regex(pattern: &str) -> Result<Regex> {
    let re = Regex::new(pattern).map_err(|e| {
        ReleaseError::Config(format!(
            "`release.files` regex `{pattern}` does not compile: {e}"
        ))
    })?;
    if re.captures_len() < 2 {
        return Err(ReleaseError::Config(format!(
            "`release.files` regex `{pattern}` needs a capture group (named `version` or the first group) around the version"
        )));
    }
    Ok(re)
}

fn regex_version<'t>(re: &Regex, text: &'t str) -> Option<regex::Match<'t>> {
    let c = re.captures(text)?;
    c.name("version").or_else(|| c.get(1))
}
