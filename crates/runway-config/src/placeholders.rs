//! `{version}`, `{port}`, `{image}` and `{sha}`: the placeholders a deploy
//! substitutes in its commands, environment and image. A misspelt one
//! (`{verison}`) would reach a server or a shell as written, so any other
//! `{name}` in those fields is refused when `runway.toml` is loaded.
//! `${VAR}` references and braces that are not a lone identifier
//! (`{"a":1}`, `{ x }`, `{}`) are not placeholders and stay as written.

/// The placeholders a deploy fills in.
pub const KNOWN: [&str; 4] = ["version", "port", "image", "sha"];

/// The `{name}`s of `value` (outside `${...}`), in order.
pub fn placeholders(value: &str) -> Vec<&str> {
    let bytes = value.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            // `$${X}` is the text `${X}` (for a shell), `${VAR}` a reference:
            // neither holds a placeholder; skip to the `}` (or the end).
            b'$' if bytes.get(i + 1) == Some(&b'$') && bytes.get(i + 2) != Some(&b'{') => i += 2,
            b'$' if bytes.get(i + 1) == Some(&b'{') || bytes.get(i + 1) == Some(&b'$') => {
                i = value[i..]
                    .find('}')
                    .map(|e| i + e + 1)
                    .unwrap_or(bytes.len());
            }
            b'{' => {
                let rest = &value[i + 1..];
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                let name = &rest[..end];
                if rest[end..].starts_with('}')
                    && name
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                {
                    out.push(name);
                    i += end + 2;
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// A placeholder that Runway does not fill in; its message says which ones exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{{{placeholder}}}` is not a placeholder; the known ones are {}",
    known_list()
)]
pub struct PlaceholderError {
    /// The name between the braces.
    pub placeholder: String,
}

fn known_list() -> String {
    KNOWN
        .iter()
        .map(|k| format!("`{{{k}}}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first unknown placeholder of `value`, with the message that says
/// which ones exist.
pub fn check(value: &str) -> Result<(), PlaceholderError> {
    match placeholders(value).into_iter().find(|p| !KNOWN.contains(p)) {
        None => Ok(()),
        Some(p) => Err(PlaceholderError {
            placeholder: p.to_owned(),
        }),
    }
}

/// The fields of a deploy table where placeholders are filled in, each with
/// its key under `deploy` (`command`, `env.PORT`, `image`...).
pub fn templates(d: &crate::DeployConfig) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    for (key, argv) in [
        ("command", &d.command),
        ("deploy", &d.deploy),
        ("rollback", &d.rollback),
        ("status", &d.status),
    ] {
        for a in argv.iter().flatten() {
            out.push((key.to_owned(), a.as_str()));
        }
    }
    for (k, v) in &d.env {
        out.push((format!("env.{k}"), v.as_str()));
    }
    for (key, v) in [("image", &d.image), ("manual", &d.manual)] {
        if let Some(v) = v {
            out.push((key.to_owned(), v.as_str()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_lone_identifiers_in_braces_only() {
        assert_eq!(
            placeholders("run {version} --port={port} ${HOME} {\"a\":1} { x } {} {9x} $${y} {sha}"),
            vec!["version", "port", "sha"]
        );
        assert!(check("{version}-{image}").is_ok());
        let e = check("srv --x {nope}").unwrap_err().to_string();
        assert!(e.starts_with("`{nope}` is not a placeholder"), "{e}");
        assert!(
            e.contains("`{version}`, `{port}`, `{image}`, `{sha}`"),
            "{e}"
        );
        assert!(check("${NOPE}").is_ok());
        assert!(check("${UNTERMINATED {nope}").is_ok());
    }
}
