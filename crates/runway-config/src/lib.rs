//! `runway.toml`: the project's single configuration file.
//!
//! Loading is strict: an unknown key or a bad value is an error that names the
//! file, line and column, because a typo in a threshold silently ignored is a
//! check silently skipped. Each top-level table has its own module, owned by
//! the capability that reads it.

pub mod artifacts;
pub mod deploy;
mod duration;
pub mod environment;
mod error;
pub mod interpolate;
pub mod ledger;
pub mod mcp;
pub mod monitor;
pub mod placeholders;
pub mod release;
pub mod sources;
pub mod suggest;
pub mod suite;
pub mod token;
pub mod validate;
pub mod web;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde::Deserialize;

pub use artifacts::ArtifactsConfig;
pub use deploy::{
    AnalysisConfig, DeployConfig, GatesConfig, ProbeKind, RollbackConfig, TargetKind, WindowConfig,
};
pub use environment::EnvironmentConfig;
pub use error::ConfigError;
pub use ledger::LedgerConfig;
pub use mcp::McpConfig;
pub use monitor::{AlertConfig, MonitorConfig, NotifierConfig};
pub use release::{ReleaseConfig, ReleaseStep, StepWhen};
pub use token::TokenError;
pub use web::WebConfig;

/// The file name Runway looks for.
pub const FILE_NAME: &str = "runway.toml";

/// The whole `runway.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub project: ProjectConfig,
    #[serde(default)]
    pub release: ReleaseConfig,
    #[serde(default)]
    pub ledger: LedgerConfig,
    /// Named places to run (staging, production...).
    #[serde(default)]
    pub environments: BTreeMap<String, EnvironmentConfig>,
    /// Alert rules over the monitored environments (`runway monitor`).
    #[serde(default)]
    pub alerts: Vec<AlertConfig>,
    /// Where alerts go.
    #[serde(default)]
    pub notifiers: monitor::Notifiers,
    /// `runway monitor --listen`: the dashboard, status page and API.
    #[serde(default)]
    pub web: WebConfig,
    /// What `runway mcp` lets a client do.
    #[serde(default)]
    pub mcp: McpConfig,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    pub name: Option<String>,
}

/// A loaded config and where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub path: PathBuf,
    /// The directory holding `runway.toml`: the project root.
    pub root: PathBuf,
    /// The file's text, so that a problem found after parsing still names its line.
    pub text: String,
}

impl Loaded {
    /// An error about a dotted `field` (`environments.prod.url`) of this file,
    /// located at the field's key when it can be found.
    pub fn error_at(&self, field: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::invalid_at(&self.path, &self.text, field, message.into())
    }
}

impl Config {
    /// Parses `text` as if read from `path` (used in error messages).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let config: Config =
            toml::from_str(text).map_err(|e| ConfigError::from_toml(path, text, &e))?;
        config.validate(path, text)?;
        Ok(config)
    }

    /// Reads and parses the file at `path`.
    pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let config = Config::parse(&text, path)?;
        let root = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Ok(Loaded {
            config,
            path: path.to_owned(),
            root,
            text,
        })
    }

    /// Looks for `runway.toml` in `start` and its parents; `Ok(None)` when there is none.
    pub fn discover(start: &Path) -> Result<Option<Loaded>, ConfigError> {
        let mut dir = Some(start);
        while let Some(d) = dir {
            let candidate = d.join(FILE_NAME);
            if candidate.is_file() {
                return Config::load(&candidate).map(Some);
            }
            dir = d.parent();
        }
        Ok(None)
    }

    /// Checks that cannot be expressed in serde types (cross-field rules).
    fn validate(&self, path: &Path, text: &str) -> Result<(), ConfigError> {
        self.release
            .validate()
            .map_err(|(field, message)| ConfigError::invalid_at(path, text, &field, message))?;
        self.mcp
            .validate()
            .map_err(|(field, message)| ConfigError::invalid_at(path, text, &field, message))?;
        for name in self.environments.keys() {
            environment::check_name(name).map_err(|message| {
                let (line, column) = error::locate_table_key(text, "environments", name);
                ConfigError::Invalid {
                    path: path.to_owned(),
                    line,
                    column,
                    message: format!("`environments`: {message}"),
                    hint: None,
                }
            })?;
        }
        check_references(path, text)?;
        for (name, env) in &self.environments {
            if let Some(d) = &env.deploy {
                for (key, value) in placeholders::templates(d) {
                    placeholders::check(value).map_err(|message| {
                        ConfigError::invalid_at(
                            path,
                            text,
                            &format!("environments.{name}.deploy.{key}"),
                            message.to_string(),
                        )
                    })?;
                }
            }
        }
        for (name, env) in &self.environments {
            env.validate(name)
                .map_err(|(field, message)| ConfigError::invalid_at(path, text, &field, message))?;
        }
        for (name, n) in &self.notifiers {
            monitor::check_notifier_name(name).map_err(|message| {
                ConfigError::invalid_at(path, text, &format!("notifiers.{name}"), message)
            })?;
            n.validate().map_err(|(key, message)| {
                ConfigError::invalid_at(path, text, &format!("notifiers.{name}.{key}"), message)
            })?;
        }
        for name in &self.release.announce {
            let message = match self.notifiers.get(name) {
                None => {
                    let near = suggest::nearest(name, self.notifiers.keys().map(String::as_str))
                        .map(|n| format!(" (did you mean `{n}`?)"))
                        .unwrap_or_default();
                    format!(
                        "`{name}` is not a notifier{near}: add a `[notifiers.{name}]` table (`type = \"webhook\"` or `\"slack\"`, `url`)"
                    )
                }
                Some(n) if n.kind == monitor::NotifierKind::Alertmanager => format!(
                    "notifier `{name}` is an `alertmanager`, which takes alerts, not announcements: name a `webhook` or `slack` notifier"
                ),
                Some(_) => continue,
            };
            return Err(ConfigError::invalid_at(
                path,
                text,
                "release.announce",
                message,
            ));
        }
        monitor::validate(self).map_err(|(span, message)| {
            let (line, column) = span
                .map(|s| error::line_col(text, s.start))
                .unwrap_or((1, 1));
            ConfigError::Invalid {
                path: path.to_owned(),
                line,
                column,
                message,
                hint: None,
            }
        })?;
        Ok(())
    }

    pub fn environment(&self, name: &str) -> Option<&EnvironmentConfig> {
        self.environments.get(name)
    }
}

/// Whether the value at dotted `key` is `${VAR}`-interpolated: URLs, the
/// expected version, registries and indexes, `deploy.env` values and
/// notifier headers. (Commands, regexes and queries are not: a `${` there is
/// the shell's or the pattern's.)
fn interpolated(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key);
    matches!(last, "url" | "index_url" | "registry" | "expect_version")
        || key.contains(".deploy.env.")
        || key.contains(".headers.")
}

/// Every interpolated string whose `${` is never closed is refused, naming
/// its key: it would otherwise reach a URL or a server as written.
fn check_references(path: &Path, text: &str) -> Result<(), ConfigError> {
    fn walk(value: &toml::Value, at: &str, out: &mut Option<(String, String)>) {
        if out.is_some() {
            return;
        }
        match value {
            toml::Value::String(s) if interpolated(at) => {
                if let Err(e) = interpolate::check_terminated(s) {
                    *out = Some((at.to_owned(), e.to_string()));
                }
            }
            toml::Value::Array(items) => {
                for v in items {
                    walk(v, at, out);
                }
            }
            toml::Value::Table(t) => {
                for (k, v) in t {
                    let key = if at.is_empty() {
                        k.clone()
                    } else {
                        format!("{at}.{k}")
                    };
                    walk(v, &key, out);
                }
            }
            _ => {}
        }
    }
    let Ok(doc) = toml::from_str::<toml::Value>(text) else {
        return Ok(());
    };
    let mut found = None;
    walk(&doc, "", &mut found);
    match found {
        Some((field, message)) => Err(ConfigError::invalid_at(path, text, &field, message)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use runway_core::{Diagnostic, Exit};

    use super::*;

    #[test]
    fn an_unterminated_reference_is_refused_at_load_naming_its_key() {
        let text = "[environments.prod]\nurl = \"http://${NOPE/mcp\"\n";
        let msg = Config::parse(text, Path::new("/p/runway.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("/p/runway.toml:2:1: `environments.prod.url`: unterminated `${`"),
            "{msg}"
        );
    }

    #[test]
    fn a_dollar_brace_outside_interpolated_values_is_left_alone() {
        let text = "[environments.prod]\nurl = \"http://127.0.0.1:9/mcp\"\n[[environments.prod.calls]]\ntool = \"echo\"\nexpect_match = '\\$\\{x'\n[environments.prod.deploy]\ntarget = \"process\"\ncommand = [\"sh\", \"-c\", \"echo ${x\"]\nenv = { A = \"${OK}\" }\n";
        Config::parse(text, Path::new("/p/runway.toml")).unwrap();
        let bad = text.replace("${OK}", "${OK");
        let msg = Config::parse(&bad, Path::new("/p/runway.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("`environments.prod.deploy.env.A`: unterminated `${`"),
            "{msg}"
        );
    }

    #[test]
    fn an_unknown_placeholder_is_refused_at_load_naming_its_key() {
        let text = "[environments.prod]\nurl = \"http://127.0.0.1:9/mcp\"\n[environments.prod.deploy]\ntarget = \"process\"\ncommand = [\"srv\", \"{port}\"]\nenv = { A = '{\"json\": 1}', B = \"x-{nope}\" }\n";
        let msg = Config::parse(text, Path::new("/p/runway.toml"))
            .unwrap_err()
            .to_string();
        assert!(msg.starts_with("/p/runway.toml:6:1: `environments.prod.deploy.env.B`: `{nope}` is not a placeholder"), "{msg}");
        assert!(
            msg.contains("`{version}`, `{port}`, `{image}`, `{sha}`"),
            "{msg}"
        );
    }

    #[test]
    fn empty_file_is_a_valid_config() {
        let c = Config::parse("", Path::new("runway.toml")).unwrap();
        assert!(c.environments.is_empty());
    }

    #[test]
    fn unknown_top_level_key_names_file_line_and_column() {
        let text = "[project]\nname = \"x\"\n\n[relase]\ntag_prefix = \"v\"\n";
        let err = Config::parse(text, Path::new("/p/runway.toml")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("/p/runway.toml:4:"), "{msg}");
        assert!(msg.contains("relase"), "{msg}");
    }

    fn parse_err(text: &str) -> ConfigError {
        Config::parse(text, Path::new("/p/runway.toml")).unwrap_err()
    }

    #[test]
    fn a_misspelt_key_suggests_the_nearest_valid_one_naming_file_line_and_table() {
        let e = parse_err("[environments.prod]\nurl = \"http://x/mcp\"\nmin_tool = 3\n");
        let msg = e.to_string();
        assert!(
            msg.starts_with(
                "/p/runway.toml:3:1: unknown field `min_tool` in `[environments.prod]`, expected one of"
            ),
            "{msg}"
        );
        assert_eq!(e.hint().as_deref(), Some("did you mean `min_tools`?"));
        assert_eq!(e.exit(), Exit::Usage);
    }

    #[test]
    fn a_misspelt_key_is_located_in_nested_inline_and_array_tables() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "[relase]\ntag_prefix = \"v\"\n",
                "at the top level",
                "release",
            ),
            (
                "[environments.p.thresholds]\ntool_p95ms = 5\n",
                "in `[environments.p.thresholds]`",
                "tool_p95_ms",
            ),
            (
                "[environments.p]\n[[environments.p.calls]]\ntool = \"echo\"\nexpect_txt = \"hi\"\n",
                "in `[[environments.p.calls]]`",
                "expect_text",
            ),
            (
                "[environments.p.load]\ncall = { tool = \"echo\", arguments = {}, argumnts = {} }\n",
                "in `[environments.p.load.call]`",
                "arguments",
            ),
            (
                "[environments.p]\nthresholds = { tool_p95 = 300 }\n",
                "in `[environments.p.thresholds]`",
                "tool_p95_ms",
            ),
            (
                "[environments.p]\nthresholds.api_p59_ms = 5\n",
                "in `[environments.p.thresholds]`",
                "api_p95_ms",
            ),
        ];
        for (text, place, near) in cases {
            let e = parse_err(text);
            assert!(e.to_string().contains(place), "{text:?}: {e}");
            assert_eq!(
                e.hint(),
                Some(format!("did you mean `{near}`?")),
                "{text:?}: {e}"
            );
        }
    }

    #[test]
    fn a_misspelt_value_suggests_the_nearest_variant() {
        let e = parse_err("[environments.p]\nsuite = \"smok\"\n");
        assert!(e.to_string().contains("unknown variant `smok`"), "{e}");
        assert_eq!(e.hint().as_deref(), Some("did you mean `smoke`?"));
        let e = parse_err("[environments.p]\nchecks = { ratelimt = true }\n");
        assert!(
            e.to_string()
                .contains("unknown check `ratelimt` (did you mean `ratelimit`?)"),
            "{e}"
        );
    }

    #[test]
    fn a_key_far_from_every_valid_one_gets_no_guess() {
        let e = parse_err("[environments.p]\nbanana = 1\n");
        assert!(
            e.to_string()
                .contains("unknown field `banana` in `[environments.p]`"),
            "{e}"
        );
        assert_eq!(e.hint(), None);
    }

    #[test]
    fn discover_walks_up_to_the_project_root() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), "[project]\nname = \"demo\"\n").unwrap();
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        let loaded = Config::discover(&nested).unwrap().unwrap();
        assert_eq!(loaded.config.project.name.as_deref(), Some("demo"));
        assert_eq!(loaded.root, dir.path());
    }

    #[test]
    fn an_error_found_after_loading_names_the_line_of_its_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(
            &path,
            "[environments.prod]\nurl = \"http://127.0.0.1:9/mcp\"\nexpect_version = \"${V}\"\n",
        )
        .unwrap();
        let loaded = Config::load(&path).unwrap();
        let msg = loaded
            .error_at("environments.prod.expect_version", "`V` is not set")
            .to_string();
        assert!(msg.contains(&format!("{}:3:1:", path.display())), "{msg}");
        assert!(
            msg.contains("`environments.prod.expect_version`: `V` is not set"),
            "{msg}"
        );
    }
}
