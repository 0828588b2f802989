//! Reading a bearer token from the variable or file that `runway.toml` or a flag names.
//!
//! One rule for every command: the value is trimmed, and an unset or empty
//! value is an error naming the variable (or file), never an empty
//! `Authorization: Bearer ` header. The token comes back as a [`Secret`].

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
};

use runway_core::{Diagnostic, Exit, Secret};

/// Why no token could be read. `origin` says who named the variable or file
/// (`` `--token-env` ``, `` `environments.prod.token_env` ``).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("environment variable `{var}` ({origin}) is not set")]
    Unset { var: String, origin: String },
    #[error("environment variable `{var}` ({origin}) is empty")]
    Empty { var: String, origin: String },
    #[error("environment variable `{var}` ({origin}) is not valid UTF-8")]
    NotUnicode { var: String, origin: String },
    #[error("cannot read the token file `{}` ({origin})", path.display())]
    ReadFile {
        path: PathBuf,
        origin: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the token file `{}` ({origin}) is empty", path.display())]
    EmptyFile { path: PathBuf, origin: String },
}

impl Diagnostic for TokenError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            TokenError::Unset { var, .. } | TokenError::Empty { var, .. } => {
                format!("export `{var}` with the bearer token")
            }
            TokenError::NotUnicode { var, .. } => {
                format!("a bearer token is text: set `{var}` to it")
            }
            TokenError::ReadFile { .. } | TokenError::EmptyFile { .. } => {
                "write the bearer token into the file, on one line".to_owned()
            }
        })
    }

    fn exit(&self) -> Exit {
        Exit::Usage
    }
}

/// The token in the environment variable `var`.
pub fn from_env(var: &str, origin: &str) -> Result<Secret, TokenError> {
    from_value(var, origin, std::env::var_os(var))
}

/// The token from a variable's value as looked up (`None`: unset). Split
/// from [`from_env`] so the rule is testable without touching the process environment.
pub fn from_value(var: &str, origin: &str, value: Option<OsString>) -> Result<Secret, TokenError> {
    let value = value.ok_or_else(|| TokenError::Unset {
        var: var.to_owned(),
        origin: origin.to_owned(),
    })?;
    let value = value.into_string().map_err(|_| TokenError::NotUnicode {
        var: var.to_owned(),
        origin: origin.to_owned(),
    })?;
    match value.trim() {
        "" => Err(TokenError::Empty {
            var: var.to_owned(),
            origin: origin.to_owned(),
        }),
        t => Ok(Secret::new(t)),
    }
}

/// The token in the file at `path` (trimmed; a trailing newline is not part of it).
pub fn from_file(path: &Path, origin: &str) -> Result<Secret, TokenError> {
    let text = std::fs::read_to_string(path).map_err(|source| TokenError::ReadFile {
        path: path.to_owned(),
        origin: origin.to_owned(),
        source,
    })?;
    match text.trim() {
        "" => Err(TokenError::EmptyFile {
            path: path.to_owned(),
            origin: origin.to_owned(),
        }),
        t => Ok(Secret::new(t)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_trimmed() {
        let t = from_value("T", "`--token-env`", Some(" abc123\n".into())).unwrap();
        assert_eq!(t.expose(), "abc123");
    }

    #[test]
    fn an_empty_or_blank_token_is_an_error_naming_the_variable() {
        for v in ["", "  \n"] {
            let e = from_value("MCP_TOKEN", "`--token-env`", Some(v.into())).unwrap_err();
            assert!(matches!(e, TokenError::Empty { .. }), "{e:?}");
            assert_eq!(
                e.to_string(),
                "environment variable `MCP_TOKEN` (`--token-env`) is empty"
            );
            assert_eq!(e.exit(), Exit::Usage);
        }
    }

    #[test]
    fn an_unset_token_names_the_variable_and_says_what_to_do() {
        let e = from_value("MCP_TOKEN", "`environments.prod.token_env`", None).unwrap_err();
        assert!(e.to_string().contains("`MCP_TOKEN`"), "{e}");
        assert!(
            e.to_string().contains("`environments.prod.token_env`"),
            "{e}"
        );
        assert_eq!(
            e.hint().unwrap(),
            "export `MCP_TOKEN` with the bearer token"
        );
    }

    #[test]
    fn token_files_are_trimmed_and_must_not_be_empty() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("token");
        std::fs::write(&p, "s3cr3t\n").unwrap();
        assert_eq!(from_file(&p, "`--token-file`").unwrap().expose(), "s3cr3t");
        std::fs::write(&p, "\n").unwrap();
        let e = from_file(&p, "`--token-file`").unwrap_err();
        assert!(matches!(e, TokenError::EmptyFile { .. }), "{e:?}");
        let e = from_file(&dir.path().join("missing"), "`--token-file`").unwrap_err();
        assert!(matches!(e, TokenError::ReadFile { .. }), "{e:?}");
    }
}
