//! A check context for a `runway.toml` environment: its URL, its token and its settings.
//!
//! `runway verify production` and every later command that verifies an
//! environment (deploy, watch) resolve the environment the same way, so the
//! lookup lives here rather than in a command: find `[environments.<name>]`,
//! interpolate its `url`, read its `token_env`/`token_file` with the one token
//! rule of [`runway_config::token`], and apply its settings to a [`Context`].

use std::path::PathBuf;

use runway_config::{ConfigError, Loaded, TokenError};
use runway_core::{Diagnostic, Exit, Secret};

use crate::context::{Context, Suite, Transport};

/// Why an environment could not be turned into a check context.
#[derive(Debug, thiserror::Error)]
pub enum EnvironmentError {
    #[error("no environment `{name}` in `{}`", path.display())]
    Unknown {
        name: String,
        path: PathBuf,
        known: Vec<String>,
    },
    #[error("environment `{name}` in `{}` has no `url`", path.display())]
    NoUrl { name: String, path: PathBuf },
    #[error(
        "environment variable `{var}` is not set (referenced by `environments.{name}.url` in `{}`)",
        path.display()
    )]
    UrlVariable {
        name: String,
        var: String,
        path: PathBuf,
    },
    #[error("`{url}` is not a valid URL: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("`{url}` is not an http or https URL")]
    NotHttp { url: String },
    #[error(transparent)]
    Token(#[from] TokenError),
    /// A setting of the environment is wrong; the error names its line.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl Diagnostic for EnvironmentError {
    fn hint(&self) -> Option<String> {
        match self {
            EnvironmentError::Unknown { known, .. } if known.is_empty() => {
                Some("add an `[environments.<name>]` table with a `url`".into())
            }
            EnvironmentError::Unknown { name, known, .. } => {
                let list = known
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                Some(
                    match runway_config::suggest::nearest(name, known.iter().map(String::as_str)) {
                        Some(near) => format!("did you mean `{near}`? known environments: {list}"),
                        None => format!("known environments: {list}"),
                    },
                )
            }
            EnvironmentError::NoUrl { name, .. } => Some(format!(
                "add `url = \"https://host/mcp\"` to `[environments.{name}]`"
            )),
            EnvironmentError::UrlVariable { var, .. } => {
                Some(format!("export `{var}`, or write the URL out"))
            }
            EnvironmentError::BadUrl { .. } | EnvironmentError::NotHttp { .. } => {
                Some("write the MCP endpoint URL as `https://host/mcp`".into())
            }
            EnvironmentError::Token(e) => e.hint(),
            EnvironmentError::Config(e) => e.hint(),
        }
    }

    fn exit(&self) -> Exit {
        Exit::Usage
    }
}

/// What to do about a broken `[release.surface_source]`.
const SURFACE_FIX: &str = "fix `[release.surface_source]` in runway.toml, or pass `--no-surface` to release without comparing tool surfaces";

/// Why `[release.surface_source]` could not be turned into a check context.
#[derive(Debug, thiserror::Error)]
pub enum SurfaceSourceError {
    #[error("environment variable `{var}` is not set (referenced by `release.surface_source.url`)")]
    UrlVariable { var: String },
    #[error("`release.surface_source.url` `{url}` is not a URL: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("`release.surface_source` names no server")]
    NoServer,
    #[error(transparent)]
    Token(#[from] TokenError),
}

impl Diagnostic for SurfaceSourceError {
    fn hint(&self) -> Option<String> {
        match self {
            SurfaceSourceError::Token(e) => e.hint(),
            _ => Some(SURFACE_FIX.into()),
        }
    }

    fn exit(&self) -> Exit {
        Exit::Usage
    }
}

/// The context that captures the tool surface from `[release.surface_source]`
/// (`runway release status`, and `release_status` over MCP): its command run
/// from the project `root`, or its URL with `${VAR}` interpolated and its
/// `token_env` read.
pub fn surface_source_context(
    root: &std::path::Path,
    src: &runway_config::release::SurfaceSource,
) -> Result<Context, SurfaceSourceError> {
    let transport = match (&src.command, &src.url) {
        (Some(cmd), _) if !cmd.is_empty() => Transport::Stdio {
            program: cmd[0].clone(),
            args: cmd[1..].to_vec(),
            env: src
                .env
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            // The command in `runway.toml` is written relative to the project root.
            cwd: Some(root.to_path_buf()),
        },
        (_, Some(url)) => {
            let url = runway_config::interpolate::interpolate_env(url).map_err(|var| {
                SurfaceSourceError::UrlVariable {
                    var: var.to_string(),
                }
            })?;
            let parsed = url::Url::parse(&url).map_err(|e| SurfaceSourceError::BadUrl {
                url: url.clone(),
                reason: e.to_string(),
            })?;
            Transport::Http { url: parsed }
        }
        _ => return Err(SurfaceSourceError::NoServer),
    };
    let token = match &src.token_env {
        Some(var) => Some(runway_config::token::from_env(
            var,
            "`release.surface_source.token_env`",
        )?),
        None => None,
    };
    Ok(Context::new(transport, token, Suite::Smoke))
}

/// Parses a target URL, which must be `http` or `https`.
pub fn parse_url(s: &str) -> Result<url::Url, EnvironmentError> {
    let u = url::Url::parse(s).map_err(|e| EnvironmentError::BadUrl {
        url: s.to_owned(),
        reason: e.to_string(),
    })?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(EnvironmentError::NotHttp { url: s.to_owned() });
    }
    Ok(u)
}

impl Context {
    /// The context for `[environments.<name>]` of `loaded`: its URL (with
    /// `${VAR}`s interpolated), its settings, and `token` if the caller has one
    /// (a flag wins), else the environment's `token_env` or `token_file`.
    pub fn for_environment(
        loaded: &Loaded,
        name: &str,
        token: Option<Secret>,
    ) -> Result<Context, EnvironmentError> {
        let Some(env) = loaded.config.environment(name) else {
            return Err(EnvironmentError::Unknown {
                name: name.to_owned(),
                path: loaded.path.clone(),
                known: loaded.config.environments.keys().cloned().collect(),
            });
        };
        let raw = env.url.as_deref().ok_or_else(|| EnvironmentError::NoUrl {
            name: name.to_owned(),
            path: loaded.path.clone(),
        })?;
        let url = runway_config::interpolate::interpolate_env(raw).map_err(|var| {
            EnvironmentError::UrlVariable {
                name: name.to_owned(),
                var: var.to_string(),
                path: loaded.path.clone(),
            }
        })?;
        let token = match token {
            Some(t) => Some(t),
            None => match (&env.token_env, &env.token_file) {
                (Some(var), _) => Some(runway_config::token::from_env(
                    var,
                    &format!("`environments.{name}.token_env`"),
                )?),
                (None, Some(file)) => Some(runway_config::token::from_file(
                    &loaded.root.join(file),
                    &format!("`environments.{name}.token_file`"),
                )?),
                (None, None) => None,
            },
        };
        let url = parse_url(&url)?;
        let mut c = Context::new(Transport::Http { url }, token, Suite::Smoke);
        c.apply_environment(name, env)
            .map_err(|e| loaded.error_at(&e.field, e.message))?;
        c.display = format!("{name} ({})", c.display);
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded(text: &str) -> (tempfile::TempDir, Loaded) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runway.toml");
        std::fs::write(&path, text).unwrap();
        let l = runway_config::Config::load(&path).unwrap();
        (dir, l)
    }

    #[test]
    fn an_environment_gives_its_url_settings_and_file_token() {
        let (dir, l) = loaded(
            "[environments.prod]\nurl = \"http://127.0.0.1:9/mcp\"\ntoken_file = \"tok\"\nsuite = \"full\"\n",
        );
        std::fs::write(dir.path().join("tok"), "abcd-1234\n").unwrap();
        let c = Context::for_environment(&l, "prod", None).unwrap();
        assert_eq!(c.suite, Suite::Full);
        assert_eq!(c.token.as_ref().unwrap().expose(), "abcd-1234");
        assert_eq!(c.display, "prod (http://127.0.0.1:9/mcp)");
        let flag = Context::for_environment(&l, "prod", Some(Secret::new("flag-token"))).unwrap();
        assert_eq!(flag.token.unwrap().expose(), "flag-token");
    }

    #[test]
    fn an_unknown_environment_lists_the_known_ones() {
        let (_d, l) = loaded("[environments.prod]\nurl = \"http://127.0.0.1:9/mcp\"\n");
        let e = Context::for_environment(&l, "staging", None).unwrap_err();
        assert!(
            e.to_string().starts_with("no environment `staging` in `"),
            "{e}"
        );
        assert_eq!(e.hint().unwrap(), "known environments: `prod`");
        assert_eq!(e.exit(), Exit::Usage);
        let e = Context::for_environment(&l, "prdo", None).unwrap_err();
        assert_eq!(
            e.hint().unwrap(),
            "did you mean `prod`? known environments: `prod`"
        );
    }

    #[test]
    fn a_bad_setting_names_the_file_line_and_column() {
        let (_d, l) = loaded(
            "[environments.prod]\nurl = \"http://127.0.0.1:9/mcp\"\n\n[[environments.prod.calls]]\ntool = \"echo\"\nexpect_match = \"(\"\n",
        );
        let e = Context::for_environment(&l, "prod", None).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, EnvironmentError::Config(_)), "{e:?}");
        assert!(msg.contains(&format!("{}:6:1:", l.path.display())), "{msg}");
        assert!(
            msg.contains("`(` is not a valid regular expression"),
            "{msg}"
        );
    }

    #[test]
    fn a_url_must_be_http() {
        assert!(matches!(
            parse_url("ftp://h/mcp"),
            Err(EnvironmentError::NotHttp { .. })
        ));
        assert!(matches!(
            parse_url("not a url"),
            Err(EnvironmentError::BadUrl { .. })
        ));
    }
}
