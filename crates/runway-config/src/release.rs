//! `[release]`: how versions, changelogs and tags are made. Owned by runway-release.
//!
//! Every key has a default that matches what most projects do (tags `v1.2.3`,
//! `CHANGELOG.md`, releases from `main`), so an empty table is a working one.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseConfig {
    /// Prefix of release tags (`v1.2.3`).
    #[serde(default = "default_tag_prefix")]
    pub tag_prefix: String,
    /// Version files. Empty means "detect them" (what `runway init` writes down).
    #[serde(default)]
    pub files: Vec<VersionFileConfig>,
    /// Detected version files to leave alone (`["uv.lock"]`), without listing the others.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// The number of a pre-release line's first version: `1` (`1.2.0-rc.1`, the
    /// default) or `0` (`1.2.0-rc.0`, `1.2.0rc0`).
    #[serde(default = "one")]
    pub prerelease_start: u64,
    /// Branches a release may be cut from (`runway release check`).
    #[serde(default = "default_branches")]
    pub branches: Vec<String>,
    /// The branch hotfixes are cherry-picked back onto.
    #[serde(default = "default_main_branch")]
    pub main_branch: String,
    /// Before 1.0.0 a breaking change bumps the minor version (release-please's `bump-minor-pre-major`).
    #[serde(default = "yes")]
    pub bump_minor_pre_major: bool,
    /// Before 1.0.0 a feature bumps the patch version (release-please's `bump-patch-for-minor-pre-major`).
    #[serde(default)]
    pub bump_patch_for_minor_pre_major: bool,
    /// Commit types that make a patch release (besides `fix`).
    #[serde(default = "default_patch_types")]
    pub patch_types: Vec<String>,
    #[serde(default)]
    pub changelog: ChangelogConfig,
    /// Commands that must pass before a release (`runway release check`).
    #[serde(default)]
    pub gates: Vec<GateConfig>,
    /// Each check of `runway release check` (and the deploy's `release_check`
    /// gate) by id, or a gate by name: `fail` (the default), `warn` or `off`.
    #[serde(default)]
    pub checks: std::collections::BTreeMap<String, CheckLevel>,
    /// The committed tool surface of the last release.
    #[serde(default = "default_surface")]
    pub surface_file: String,
    /// Where to reach the server to capture its tool surface at release time.
    #[serde(default)]
    pub surface_source: Option<SurfaceSource>,
    /// A monorepo's packages, each released on its own (`--package NAME`).
    #[serde(default)]
    pub packages: Vec<PackageConfig>,
    /// Where the release pipeline publishes (`runway release verify-artifacts`).
    #[serde(default)]
    pub artifacts: crate::artifacts::ArtifactsConfig,
    /// What `runway release report` judges a release by.
    #[serde(default)]
    pub criteria: CriteriaConfig,
    /// The notifiers (`[notifiers.<name>]`, `webhook` or `slack`) that
    /// `runway release announce` posts the release notes to.
    #[serde(default)]
    pub announce: Vec<String>,
    /// Steps done by hand in a vendor's product (close the GitHub milestone,
    /// press Deploy on Smithery's dashboard): `runway release steps` shows
    /// each with its data, `runway release step NAME` records it done.
    #[serde(default)]
    pub steps: Vec<ReleaseStep>,
}

/// One `[[release.steps]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseStep {
    /// What `runway release step NAME` calls it (`milestone`).
    pub name: String,
    /// What to do, with `{version}` and `{tag}` filled in: `Close the
    /// milestone {tag}: https://github.com/acme/mcp/milestones`.
    pub text: String,
    /// `before` the release is cut (a pre-release check) or `after` it
    /// (default `after`).
    #[serde(default)]
    pub when: StepWhen,
}

/// When a `[[release.steps]]` entry is due.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepWhen {
    Before,
    #[default]
    After,
}

impl StepWhen {
    pub fn as_str(self) -> &'static str {
        match self {
            StepWhen::Before => "before",
            StepWhen::After => "after",
        }
    }
}

/// `[release.criteria]`: a release's success criteria, judged by `runway
/// release report` from the ledger. The defaults are MockLoop's
/// `RELEASE_SUCCESS_CRITERIA`: no critical issues, an error rate under 1%;
/// and no deployment of it rolled back.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CriteriaConfig {
    /// Deployments of the release rolled back (automatically or by `runway rollback`); default 0.
    #[serde(default)]
    pub max_rollbacks: u32,
    /// P0 and P1 incidents blamed on the release's deployments; default 0.
    #[serde(default)]
    pub max_incidents_p0_p1: u32,
    /// Verification runs of the release that passed, as a fraction of those
    /// recorded (`0.99`: 99%); default `0.99`.
    #[serde(default = "default_pass_rate")]
    pub min_verify_pass_rate: f64,
}

impl Default for CriteriaConfig {
    fn default() -> Self {
        CriteriaConfig {
            max_rollbacks: 0,
            max_incidents_p0_p1: 0,
            min_verify_pass_rate: default_pass_rate(),
        }
    }
}

fn default_pass_rate() -> f64 {
    0.99
}

/// One package of a monorepo: its directory, its tags and its version files.
/// Keys left out take the `[release]` value, scoped to the package.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PackageConfig {
    /// How `--package` names it.
    pub name: String,
    /// Its directory, relative to the project root; only commits that touch it count.
    pub path: String,
    /// Prefix of its release tags; default `<name>-v` (`server-v1.2.0`).
    #[serde(default)]
    pub tag_prefix: Option<String>,
    /// Its version files, relative to `path`; empty means "detect them there".
    #[serde(default)]
    pub files: Vec<VersionFileConfig>,
    /// Detected files (relative to `path`) to leave alone.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Its changelog, relative to `path`; default `CHANGELOG.md`.
    #[serde(default)]
    pub changelog: Option<String>,
}

/// How `runway release` reaches the MCP server to list its tools: a command
/// that speaks MCP on stdio, or a URL. The token is named, never written here.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SurfaceSource {
    /// `["python", "-m", "my_server"]`, run from the project root.
    pub command: Option<Vec<String>>,
    /// `http://127.0.0.1:8000/mcp`; `${VAR}` is interpolated.
    pub url: Option<String>,
    /// Environment variable holding a bearer token for `url`.
    pub token_env: Option<String>,
    /// Extra environment for `command`.
    #[serde(default)]
    pub env: std::collections::BTreeMap<String, String>,
}

/// One version file named in `runway.toml`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct VersionFileConfig {
    /// Relative to the project root.
    pub path: String,
    /// A regex whose `version` named group (or first group) is the version.
    /// Without it the kind is detected from the file name.
    #[serde(default)]
    pub regex: Option<String>,
    /// For a JSON file: the fields that hold the version, by path
    /// (`["$.version", "$.packages[*].version"]`).
    #[serde(default)]
    pub fields: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangelogConfig {
    #[serde(default = "default_changelog_path")]
    pub path: String,
    /// Sections in display order. Types not listed are hidden.
    #[serde(default = "default_sections")]
    pub sections: Vec<SectionConfig>,
    /// Where commits that are not Conventional Commits go: `other` (a section) or `warn` (left out, with a warning).
    #[serde(default = "default_non_conventional")]
    pub non_conventional: NonConventional,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum NonConventional {
    Other,
    Warn,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SectionConfig {
    /// The commit type (`feat`, `fix`...).
    #[serde(rename = "type")]
    pub kind: String,
    /// The heading (`Features`).
    pub section: String,
    #[serde(default)]
    pub hidden: bool,
}

/// What a failing check does: stop the release, warn, or not run at all.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CheckLevel {
    Fail,
    Warn,
    Off,
}

/// The ids of `runway release check`'s own checks, for `[release.checks]`.
pub const CHECK_IDS: &[&str] = &[
    "clean_tree",
    "release_branch",
    "versions_agree",
    "tag_matches",
    "changelog",
    "tag_target",
    "tool_surface",
    "server_json",
];

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GateConfig {
    pub name: String,
    /// Run with `sh -c` in the project root.
    pub run: String,
    /// Seconds before the gate is stopped and counted as failed.
    #[serde(default = "default_gate_timeout")]
    pub timeout_secs: u64,
}

fn yes() -> bool {
    true
}

fn one() -> u64 {
    1
}

fn default_tag_prefix() -> String {
    "v".to_owned()
}

fn default_branches() -> Vec<String> {
    vec!["main".to_owned(), "master".to_owned()]
}

fn default_main_branch() -> String {
    "main".to_owned()
}

fn default_patch_types() -> Vec<String> {
    vec!["fix".to_owned(), "perf".to_owned(), "revert".to_owned()]
}

fn default_surface() -> String {
    ".runway/tool-surface.json".to_owned()
}

fn default_changelog_path() -> String {
    "CHANGELOG.md".to_owned()
}

fn default_non_conventional() -> NonConventional {
    NonConventional::Other
}

fn default_gate_timeout() -> u64 {
    1800
}

fn default_sections() -> Vec<SectionConfig> {
    let s = |kind: &str, section: &str, hidden: bool| SectionConfig {
        kind: kind.to_owned(),
        section: section.to_owned(),
        hidden,
    };
    vec![
        s("feat", "Features", false),
        s("fix", "Bug Fixes", false),
        s("perf", "Performance", false),
        s("revert", "Reverts", false),
        s("docs", "Documentation", false),
        s("refactor", "Refactoring", true),
        s("style", "Styles", true),
        s("test", "Tests", true),
        s("build", "Build System", true),
        s("ci", "Continuous Integration", true),
        s("chore", "Miscellaneous", true),
    ]
}

impl Default for ChangelogConfig {
    fn default() -> Self {
        ChangelogConfig {
            path: default_changelog_path(),
            sections: default_sections(),
            non_conventional: default_non_conventional(),
        }
    }
}

impl Default for ReleaseConfig {
    fn default() -> Self {
        ReleaseConfig {
            tag_prefix: default_tag_prefix(),
            files: Vec::new(),
            exclude: Vec::new(),
            prerelease_start: 1,
            branches: default_branches(),
            main_branch: default_main_branch(),
            bump_minor_pre_major: true,
            bump_patch_for_minor_pre_major: false,
            patch_types: default_patch_types(),
            changelog: ChangelogConfig::default(),
            gates: Vec::new(),
            checks: Default::default(),
            surface_file: default_surface(),
            surface_source: None,
            packages: Vec::new(),
            artifacts: crate::artifacts::ArtifactsConfig::default(),
            criteria: CriteriaConfig::default(),
            announce: Vec::new(),
            steps: Vec::new(),
        }
    }
}

impl ReleaseConfig {
    /// The settings of one package, as a whole `[release]` table: tag prefix,
    /// files and changelog are the package's own (files and `exclude` relative
    /// to the package directory, the changelog relative to the project root);
    /// the rest is inherited. `None` for an unknown name.
    pub fn package(&self, name: &str) -> Option<(PackageConfig, ReleaseConfig)> {
        let p = self.packages.iter().find(|p| p.name == name)?.clone();
        let mut c = self.clone();
        c.packages = Vec::new();
        c.tag_prefix = p
            .tag_prefix
            .clone()
            .unwrap_or_else(|| format!("{}-v", p.name));
        c.files = p.files.clone();
        c.exclude = p.exclude.clone();
        let changelog = p.changelog.clone().unwrap_or_else(|| "CHANGELOG.md".into());
        c.changelog.path = format!("{}/{changelog}", p.path.trim_end_matches('/'));
        Some((p, c))
    }

    /// Cross-field rules: returns the offending dotted field and why.
    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        self.artifacts.validate()?;
        for (i, step) in self.steps.iter().enumerate() {
            let ok = !step.name.is_empty()
                && step
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !ok {
                return Err((
                    format!("release.steps.{i}.name"),
                    format!(
                        "`{}` is not a step name: use letters, digits, `-` and `_` (`milestone`)",
                        step.name
                    ),
                ));
            }
            if self.steps[..i].iter().any(|s| s.name == step.name) {
                return Err((
                    format!("release.steps.{i}.name"),
                    format!("`{}` names two steps: give each its own name", step.name),
                ));
            }
            if step.text.trim().is_empty() {
                return Err((
                    format!("release.steps.{i}.text"),
                    "is empty: say what to do and where".into(),
                ));
            }
        }
        let rate = self.criteria.min_verify_pass_rate;
        if !(0.0..=1.0).contains(&rate) {
            return Err((
                "release.criteria.min_verify_pass_rate".into(),
                format!("`{rate}` is not a fraction between 0 and 1: write `0.99` for 99%"),
            ));
        }
        for (i, f) in self.files.iter().enumerate() {
            if f.path.trim().is_empty() {
                return Err((
                    format!("release.files.{i}.path"),
                    "must not be empty".into(),
                ));
            }
        }
        for (i, f) in self.files.iter().enumerate() {
            if f.regex.is_some() && f.fields.is_some() {
                return Err((
                    format!("release.files.{i}.fields"),
                    "set `regex` or `fields`, not both".into(),
                ));
            }
            if f.fields.as_ref().is_some_and(|fs| fs.is_empty()) {
                return Err((
                    format!("release.files.{i}.fields"),
                    "name at least one field, e.g. `[\"$.version\"]`".into(),
                ));
            }
        }
        for (i, p) in self.packages.iter().enumerate() {
            if p.name.trim().is_empty() || p.path.trim().is_empty() {
                return Err((
                    format!("release.packages.{i}"),
                    "every package needs a `name` and a `path`".into(),
                ));
            }
            if self.packages[..i].iter().any(|o| o.name == p.name) {
                return Err((
                    format!("release.packages.{i}.name"),
                    format!("`{}` names two packages", p.name),
                ));
            }
        }
        for key in self.checks.keys() {
            if !CHECK_IDS.contains(&key.as_str()) && !self.gates.iter().any(|g| &g.name == key) {
                let names = CHECK_IDS
                    .iter()
                    .copied()
                    .chain(self.gates.iter().map(|g| g.name.as_str()));
                let near = crate::suggest::nearest(key, names)
                    .map(|n| format!(" (did you mean `{n}`?)"))
                    .unwrap_or_default();
                return Err((
                    format!("release.checks.{key}"),
                    format!(
                        "`{key}` is neither a check ({}) nor the name of a `[[release.gates]]`{near}",
                        CHECK_IDS.join(", ")
                    ),
                ));
            }
        }
        if self.prerelease_start > 1 {
            return Err((
                "release.prerelease_start".into(),
                "must be `0` or `1`".into(),
            ));
        }
        if let Some(src) = &self.surface_source {
            match (&src.command, &src.url) {
                (Some(_), Some(_)) | (None, None) => {
                    return Err((
                        "release.surface_source.command".into(),
                        "set exactly one of `command` (stdio) or `url` (streamable HTTP)".into(),
                    ));
                }
                (Some(c), None) if c.is_empty() || c[0].trim().is_empty() => {
                    return Err((
                        "release.surface_source.command".into(),
                        "must name a program, e.g. `[\"python\", \"-m\", \"my_server\"]`".into(),
                    ));
                }
                _ => {}
            }
        }
        for g in &self.gates {
            if g.name.trim().is_empty() {
                return Err((
                    "release.gates.name".into(),
                    "every gate needs a `name`".into(),
                ));
            }
            if g.run.trim().is_empty() {
                return Err((
                    "release.gates.run".into(),
                    format!("gate `{}` needs a `run` command", g.name),
                ));
            }
            if g.timeout_secs == 0 {
                return Err((
                    "release.gates.timeout_secs".into(),
                    "must be at least 1".into(),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::Config;
    use std::path::Path;

    #[test]
    fn empty_release_table_has_working_defaults() {
        let c = Config::parse("[release]\n", Path::new("runway.toml")).unwrap();
        assert_eq!(c.release.tag_prefix, "v");
        assert_eq!(c.release.changelog.path, "CHANGELOG.md");
        assert!(c.release.bump_minor_pre_major);
        assert!(!c.release.bump_patch_for_minor_pre_major);
        assert!(
            c.release
                .changelog
                .sections
                .iter()
                .any(|s| s.kind == "chore" && s.hidden)
        );
    }

    #[test]
    fn release_steps_parse_and_bad_names_or_empty_texts_are_refused() {
        let text = "[[release.steps]]
name = \"milestone\"
when = \"before\"
text = \"Close the {tag} milestone\"

[[release.steps]]
name = \"smithery\"
text = \"Press Deploy\"
";
        let c = Config::parse(text, Path::new("runway.toml")).unwrap();
        assert_eq!(c.release.steps.len(), 2);
        assert_eq!(c.release.steps[0].when, super::StepWhen::Before);
        assert_eq!(c.release.steps[1].when, super::StepWhen::After);
        for (from, to, needle) in [
            (
                "name = \"smithery\"",
                "name = \"milestone\"",
                "names two steps",
            ),
            (
                "name = \"smithery\"",
                "name = \"smith ery\"",
                "is not a step name",
            ),
            ("text = \"Press Deploy\"", "text = \" \"", "is empty"),
            ("when = \"before\"", "when = \"during\"", "during"),
        ] {
            let e = Config::parse(&text.replace(from, to), Path::new("/p/runway.toml"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(needle), "{to}: {e}");
        }
    }

    #[test]
    fn criteria_default_to_the_seeds_numbers_and_a_rate_is_a_fraction() {
        let c = Config::parse("", Path::new("runway.toml")).unwrap();
        let d = c.release.criteria;
        assert_eq!(
            (
                d.max_rollbacks,
                d.max_incidents_p0_p1,
                d.min_verify_pass_rate
            ),
            (0, 0, 0.99)
        );
        let text = "[release.criteria]
max_rollbacks = 1
min_verify_pass_rate = 0.95
";
        let c = Config::parse(text, Path::new("runway.toml")).unwrap();
        assert_eq!(c.release.criteria.max_rollbacks, 1);
        assert_eq!(c.release.criteria.max_incidents_p0_p1, 0);
        assert_eq!(c.release.criteria.min_verify_pass_rate, 0.95);
        let bad = "[release.criteria]
min_verify_pass_rate = 99
";
        let msg = Config::parse(bad, Path::new("/p/runway.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("/p/runway.toml:2:1: `release.criteria.min_verify_pass_rate`: `99` is not a fraction"),
            "{msg}"
        );
        let typo = "[release.criteria]
max_rollback = 1
";
        let e = Config::parse(typo, Path::new("/p/runway.toml")).unwrap_err();
        assert_eq!(
            runway_core::Diagnostic::hint(&e).as_deref(),
            Some("did you mean `max_rollbacks`?")
        );
    }

    #[test]
    fn announce_names_webhook_or_slack_notifiers() {
        let ok = "[release]
announce = [\"team\"]
[notifiers.team]
type = \"slack\"
url = \"https://hooks.example/x\"
";
        let c = Config::parse(ok, Path::new("runway.toml")).unwrap();
        assert_eq!(c.release.announce, ["team"]);
        let missing = ok.replace("[\"team\"]", "[\"teem\"]");
        let msg = Config::parse(&missing, Path::new("/p/runway.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("/p/runway.toml:2:1: `release.announce`: `teem` is not a notifier (did you mean `team`?)"),
            "{msg}"
        );
        let am = ok.replace("\"slack\"", "\"alertmanager\"");
        let msg = Config::parse(&am, Path::new("/p/runway.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("is an `alertmanager`, which takes alerts"),
            "{msg}"
        );
    }

    #[test]
    fn surface_source_takes_a_command_or_a_url_but_not_both() {
        let ok = "[release.surface_source]\ncommand = [\"python\", \"-m\", \"srv\"]\n";
        let c = Config::parse(ok, Path::new("runway.toml")).unwrap();
        let src = c.release.surface_source.unwrap();
        assert_eq!(src.command.unwrap(), ["python", "-m", "srv"]);

        let both =
            "[release.surface_source]\ncommand = [\"srv\"]\nurl = \"http://127.0.0.1:1/mcp\"\n";
        let err = Config::parse(both, Path::new("/p/runway.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/p/runway.toml:2:"), "{err}");
        assert!(err.contains("exactly one of"), "{err}");

        let empty = "[release.surface_source]\ncommand = []\n";
        let err = Config::parse(empty, Path::new("runway.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("must name a program"), "{err}");

        let typo = "[release.surface_source]\ncomand = [\"srv\"]\n";
        let err = Config::parse(typo, Path::new("runway.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("comand"), "{err}");
    }

    #[test]
    fn files_gates_and_sections_parse() {
        let text = r#"
[release]
tag_prefix = "release-"
files = [{ path = "Cargo.toml" }, { path = "src/ver.txt", regex = 'VERSION=(\S+)' }]

[release.changelog]
non_conventional = "warn"
sections = [{ type = "feat", section = "New" }]

[[release.gates]]
name = "tests"
run = "pytest"
"#;
        let c = Config::parse(text, Path::new("runway.toml")).unwrap();
        assert_eq!(c.release.tag_prefix, "release-");
        assert_eq!(c.release.files.len(), 2);
        assert_eq!(c.release.files[1].regex.as_deref(), Some(r"VERSION=(\S+)"));
        assert_eq!(c.release.gates[0].run, "pytest");
        assert_eq!(c.release.gates[0].timeout_secs, 1800);
        assert_eq!(
            c.release.changelog.non_conventional,
            super::NonConventional::Warn
        );
    }

    #[test]
    fn a_gate_without_a_command_is_located() {
        let text = "[release]\n\n[[release.gates]]\nname = \"x\"\nrun = \"\"\n";
        let err = Config::parse(text, Path::new("runway.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("runway.toml:5:"), "{err}");
        assert!(err.contains("run"), "{err}");
    }

    #[test]
    fn checks_turn_a_gate_off_or_into_a_warning() {
        let text = "[release]\nchecks = { changelog = \"off\", tests = \"warn\" }\n\n[[release.gates]]\nname = \"tests\"\nrun = \"true\"\n";
        let c = Config::parse(text, Path::new("runway.toml")).unwrap();
        assert_eq!(c.release.checks["changelog"], super::CheckLevel::Off);
        assert_eq!(c.release.checks["tests"], super::CheckLevel::Warn);
        let err = Config::parse(
            "[release]\nchecks = { changelgo = \"off\" }\n",
            Path::new("runway.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("runway.toml:2:"), "{err}");
        assert!(err.contains("changelgo"), "{err}");
        assert!(err.contains("(did you mean `changelog`?)"), "{err}");
        let err = Config::parse(
            "[release]\nchecks = { server_jsn = \"warn\" }\n",
            Path::new("runway.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("(did you mean `server_json`?)"), "{err}");
        let err = Config::parse(
            "[release]\nchecks = { changelog = \"maybe\" }\n",
            Path::new("runway.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("runway.toml:2:"), "{err}");
    }

    #[test]
    fn unknown_release_key_is_an_error() {
        let err = Config::parse("[release]\ntag_prefx = \"v\"\n", Path::new("runway.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("runway.toml:2:"), "{err}");
    }
}
