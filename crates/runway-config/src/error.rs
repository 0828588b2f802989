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
        /// What to do about it ("did you mean `min_tools`?"), when known.
        hint: Option<String>,
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
            ConfigError::Invalid { hint, .. } => hint.clone(),
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
        let mut message = e.message().trim().to_owned();
        let mut hint = None;
        if let Some((kind, name)) = unknown_name(&message) {
            if let Some(near) =
                crate::suggest::nearest(name, crate::suggest::expected_names(&message))
            {
                hint = Some(format!("did you mean `{near}`?"));
            }
            // serde does not say where the key is: name its table.
            if kind == "field" {
                let table = e
                    .span()
                    .map(|s| table_at(text, s.start))
                    .unwrap_or_default();
                let place = if table.is_empty() {
                    "at the top level".to_owned()
                } else {
                    format!("in `{table}`")
                };
                let name = name.to_owned();
                message = message.replacen(
                    &format!("unknown field `{name}`"),
                    &format!("unknown field `{name}` {place}"),
                    1,
                );
            }
        }
        ConfigError::Invalid {
            path: path.to_owned(),
            line,
            column,
            message,
            hint,
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
            hint: None,
        }
    }
}

/// `("field", "suit")` from serde's "unknown field `suit`, expected ...", and
/// `("variant", "smok")` from "unknown variant `smok`, expected ...".
fn unknown_name(message: &str) -> Option<(&str, &str)> {
    let rest = message.strip_prefix("unknown ")?;
    let (kind, rest) = rest.split_once(" `")?;
    let (name, _) = rest.split_once('`')?;
    matches!(kind, "field" | "variant").then_some((kind, name))
}

/// The table that holds the key at byte `offset`, as the file spells it:
/// the last `[header]` or `[[header]]` before it, followed by the keys of the
/// inline tables (`call = { ... }`) and the dotted prefix (`load.rate`) that
/// the key sits in. Empty at the top level.
pub(crate) fn table_at(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let mut header = String::new();
    let mut array = false;
    let mut body_start = 0;
    let mut pos = 0;
    for line in before.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with('[') && pos + line.len() <= offset {
            array = t.starts_with("[[");
            header = t
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .to_owned();
            body_start = pos + line.len();
        }
        pos += line.len();
    }
    // Inline tables open since the header: a stack of their keys.
    let mut stack: Vec<String> = Vec::new();
    let mut key = String::new();
    let mut quote: Option<char> = None;
    let mut comment = false;
    for ch in text[body_start.min(offset)..offset].chars() {
        if comment {
            if ch == '\n' {
                comment = false;
                key.clear();
            }
            continue;
        }
        if let Some(q) = quote {
            if ch == q {
                quote = None;
            }
            key.push(ch);
            continue;
        }
        match ch {
            '"' | '\'' => {
                quote = Some(ch);
                key.push(ch);
            }
            '#' => comment = true,
            '{' => {
                stack.push(key.trim().trim_end_matches('=').trim().to_owned());
                key.clear();
            }
            '}' => {
                stack.pop();
                key.clear();
            }
            '\n' | ',' => key.clear(),
            '=' => key.push(ch),
            _ if key.contains('=') => {}
            _ => key.push(ch),
        }
    }
    // Inside a value (`x = [...]`) the key is not ours to add.
    let dotted = if key.contains('=') {
        String::new()
    } else {
        key.trim().trim_end_matches('.').trim().to_owned()
    };
    let mut path: Vec<String> = Some(header)
        .into_iter()
        .chain(stack)
        .filter(|k| !k.is_empty())
        .collect();
    let nested = path.len() > 1 || !dotted.is_empty();
    if !dotted.is_empty() {
        path.push(dotted);
    }
    match path.join(".") {
        p if p.is_empty() => p,
        p if array && !nested => format!("[[{p}]]"),
        p => format!("[{p}]"),
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
    fn the_table_of_a_key_is_its_header_inline_tables_and_dotted_prefix() {
        let at = |t: &str| table_at(t, t.find("HERE").unwrap());
        assert_eq!(at("HERE = 1"), "");
        assert_eq!(at("[a.b]\nx = 1\nHERE = 1"), "[a.b]");
        assert_eq!(at("[[a.calls]]\nHERE = 1"), "[[a.calls]]");
        assert_eq!(at("[a]\nx = { y = \"}{\", z = { HERE = 1 } }"), "[a.x.z]");
        assert_eq!(at("[a]\nx = { y = 1 } # {\nHERE = 1"), "[a]");
        assert_eq!(at("[a]\nload.HERE = 1"), "[a.load]");
        assert_eq!(at("[ \"a b\" . c ]\nHERE = 1"), "[\"a b\" . c]");
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
