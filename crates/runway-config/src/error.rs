//! Configuration errors that name the file, line and column, and what to do about them.

use std::path::{Path, PathBuf};

use runway_core::{Diagnostic, Exit};

/// A configuration problem, located as precisely as the input allows.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("failed to read `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, has an unknown key, or a value of the wrong type.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// A `${VAR}` reference names a variable that is not set.
    #[error("{}: environment variable `{var}` is not set (referenced by `{field}`)", path.display())]
    MissingEnv {
        path: PathBuf,
        field: String,
        var: String,
    },
}

impl Diagnostic for ConfigError {
    fn hint(&self) -> Option<String> {
        match self {
            ConfigError::Read { .. } => Some(
                "check the path and its permissions, or pass `-C DIR` for another project".into(),
            ),
            ConfigError::Invalid { .. } => None,
            ConfigError::MissingEnv { var, .. } => {
                Some(format!("export `{var}`, or remove the reference"))
            }
        }
    }

    /// Every configuration problem is the user's to fix.
    fn exit(&self) -> Exit {
        Exit::Usage
    }
}

impl ConfigError {
    pub(crate) fn from_toml(path: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
        let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
        ConfigError::Invalid {
            path: path.to_owned(),
            line,
            column,
            message: e.message().trim().to_owned(),
        }
    }

    /// An error about a dotted `field` (`environments.prod.url`), located at
    /// the field's key in the text when it can be found.
    pub(crate) fn invalid_at(path: &Path, text: &str, field: &str, message: String) -> ConfigError {
        // A key inside an inline table or an array (`deploy.env.KEY`) has no
        // header of its own: the nearest enclosing key that can be found.
        let mut at = field;
        let (line, column) = loop {
            if let Some(found) = locate_field(text, at) {
                break found;
            }
            match at.rsplit_once('.') {
                Some((parent, _)) if parent.contains('.') => at = parent,
                _ => break (1, 1),
            }
        };
        ConfigError::Invalid {
            path: path.to_owned(),
            line,
            column,
            message: format!("`{field}`: {message}"),
        }
    }
}

/// 1-based line and column of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

/// Where the key `name` of table `table` is defined: a `[table."name"...]`
/// header, a `"name" = ...` line under `[table]`, or failing both the first
/// line that quotes it; (1, 1) when it cannot be found. Used for keys that
/// `locate_field` cannot split on dots (`"../../package"`).
pub(crate) fn locate_table_key(text: &str, table: &str, name: &str) -> (usize, usize) {
    let quoted = [format!("\"{name}\""), format!("'{name}'"), name.to_owned()];
    let col = |line: &str| line.len() - line.trim_start().len() + 1;
    let mut in_table = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if let Some(header) = t.strip_prefix('[') {
            let header = header.trim_start_matches('[').trim_start();
            if let Some(rest) = header.strip_prefix(table) {
                let rest = rest.trim_start();
                if let Some(key) = rest.strip_prefix('.') {
                    let key = key.trim_start();
                    if quoted.iter().any(|q| {
                        key.strip_prefix(q.as_str()).is_some_and(|after| {
                            let after = after.trim_start();
                            after.starts_with('.') || after.starts_with(']')
                        })
                    }) {
                        return (i + 1, col(line));
                    }
                }
                in_table = rest.starts_with(']');
            } else {
                in_table = false;
            }
            continue;
        }
        if in_table
            && quoted.iter().any(|q| {
                t.strip_prefix(q.as_str()).is_some_and(|after| {
                    let after = after.trim_start();
                    after.starts_with('=') || after.starts_with('.')
                })
            })
        {
            return (i + 1, col(line));
        }
    }
    text.lines()
        .enumerate()
        .find(|(_, l)| l.contains(&quoted[0]) || l.contains(&quoted[1]))
        .map(|(i, l)| (i + 1, col(l)))
        .unwrap_or((1, 1))
}

/// Finds the line that sets the last key of `field`, after the table header of its parents.
fn locate_field(text: &str, field: &str) -> Option<(usize, usize)> {
    let mut parts: Vec<&str> = field.split('.').collect();
    let key = parts.pop()?;
    let table = parts.join(".");
    let mut in_table = table.is_empty();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if t.starts_with('[') {
            let name = t
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .replace(['"', ' '], "");
            in_table = name == table;
            continue;
        }
        if in_table {
            let k = t.split('=').next().unwrap_or("").trim().trim_matches('"');
            if k == key && t.contains('=') {
                return Some((i + 1, line.len() - t.len() + 1));
            }
        }
    }
    // A key that is missing (a required name, say): the header of its table.
    text.lines().enumerate().find_map(|(i, line)| {
        let t = line.trim_start();
        let name = t
            .strip_prefix('[')?
            .split(']')
            .next()?
            .trim()
            .replace(['"', ' '], "");
        (!table.is_empty() && name == table).then(|| (i + 1, line.len() - t.len() + 1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let t = "a\nbc\nd";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 3), (2, 2));
        assert_eq!(line_col(t, 5), (3, 1));
    }

    #[test]
    fn locates_a_key_that_has_dots_and_slashes() {
        let t = "[environments.prod]\nurl = \"x\"\n\n[environments.\"../../package\".deploy]\ntarget = \"process\"\n";
        assert_eq!(locate_table_key(t, "environments", "../../package"), (4, 1));
        let t = "[environments]\nok = { url = \"x\" }\n'a b' = { url = \"y\" }\n";
        assert_eq!(locate_table_key(t, "environments", "a b"), (3, 1));
    }

    #[test]
    fn locates_a_key_inside_its_table() {
        let t = "[environments.prod]\n  url = \"x\"\n[environments.staging]\nurl = \"y\"\n";
        assert_eq!(locate_field(t, "environments.staging.url"), Some((4, 1)));
        assert_eq!(locate_field(t, "environments.prod.url"), Some((2, 3)));
        // A key the table lacks: its header.
        assert_eq!(
            locate_field(t, "environments.staging.token_env"),
            Some((3, 1))
        );
        assert_eq!(locate_field(t, "environments.qa.url"), None);
    }
}
