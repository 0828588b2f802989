//! Settings of the release tool a project already uses, carried over:
//! release-please (`release-please-config.json`, `.release-please-manifest.json`)
//! and git-cliff (`cliff.toml`). What could be taken over is written into
//! `[release]`; what could not is named, so nothing is dropped in silence.

use std::path::Path;

/// One changelog section: a commit type and its heading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub kind: String,
    pub section: String,
    pub hidden: bool,
}

/// A version file another tool moved (release-please's `extra-files`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraFile {
    pub path: String,
    /// JSON field paths (`$.version`), or none for a regex file.
    pub fields: Vec<String>,
    pub regex: Option<String>,
}

/// One package of a release-please monorepo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub path: String,
    pub tag_prefix: String,
    pub version: Option<String>,
}

/// What was carried over, and what was not.
#[derive(Debug, Clone, Default)]
pub struct Migration {
    /// `release-please-config.json` or `cliff.toml`.
    pub sources: Vec<String>,
    pub bump_minor_pre_major: Option<bool>,
    pub bump_patch_for_minor_pre_major: Option<bool>,
    pub sections: Vec<Section>,
    pub extra_files: Vec<ExtraFile>,
    pub packages: Vec<Package>,
    pub changelog_path: Option<String>,
    /// The root package's tag prefix, when the tool's settings decide it.
    pub tag_prefix: Option<String>,
    pub release_type: Option<String>,
    /// `release-please's skip-changelog`: the changelog gate should be off.
    pub skip_changelog: bool,
    /// Lines for the report: "took over ...".
    pub taken: Vec<String>,
    /// Lines for the report: "could not take over ...".
    pub not_taken: Vec<String>,
}

fn read(root: &Path, rel: &str) -> Option<String> {
    let p = root.join(rel);
    if std::fs::metadata(&p).ok()?.len() > 1024 * 1024 {
        return None;
    }
    std::fs::read_to_string(p).ok()
}

/// Reads release-please's and git-cliff's settings, if there are any.
pub fn migrate(root: &Path) -> Migration {
    let mut m = Migration::default();
    release_please(root, &mut m);
    if m.sources.is_empty() {
        release_plz(root, &mut m);
    }
    if m.sources.is_empty() || m.sources == ["release-plz.toml"] {
        cliff(root, &mut m);
    }
    m
}

/// release-plz: before 1.0 a breaking change bumps the minor; a feature
/// bumps the patch (`features_always_increment_minor`, default false), but
/// with cargo-semver-checks on (the default) an API break it finds bumps the
/// minor whatever the commits say.
fn release_plz(root: &Path, m: &mut Migration) {
    let Some(text) = read(root, "release-plz.toml").or_else(|| read(root, ".release-plz.toml"))
    else {
        return;
    };
    let doc: toml::Table = match text.parse() {
        Ok(d) => d,
        Err(e) => {
            m.not_taken.push(format!(
                "`release-plz.toml` does not parse: {}",
                e.message()
            ));
            return;
        }
    };
    m.sources.push("release-plz.toml".into());
    let workspace = |key: &str| {
        doc.get("workspace")
            .and_then(|w| w.get(key))
            .and_then(|v| v.as_bool())
    };
    let minor = workspace("features_always_increment_minor").unwrap_or(false);
    let semver_checks = workspace("semver_check").unwrap_or(true);
    m.bump_minor_pre_major = Some(true);
    // Runway cannot see API breaks, so with semver checks on a 0.x feature
    // stays a minor: over-bumping is safe, under-bumping breaks `^0.y` users.
    let patch_for_feat = !minor && !semver_checks;
    m.bump_patch_for_minor_pre_major = Some(patch_for_feat);
    m.taken.push(format!(
        "release-plz's pre-1.0 rule: a breaking change bumps the minor, a feature the {}",
        if patch_for_feat { "patch" } else { "minor" }
    ));
    if semver_checks {
        m.not_taken.push(
            "cargo-semver-checks (release-plz bumps the minor for an API break it finds; Runway reads commits and the MCP tool surface, so before 1.0 a feature is kept a minor)".into(),
        );
    }
}

/// Keys release-please has that Runway does something else about, or nothing.
const NOT_TAKEN: &[(&str, &str)] = &[
    ("draft", "GitHub release drafts are the pipeline's business"),
    ("prerelease", "use `runway release bump --pre rc`"),
    (
        "pull-request-title-pattern",
        "Runway commits `chore(release): X.Y.Z` itself, with no pull request",
    ),
    ("pull-request-header", "Runway opens no pull request"),
    ("changelog-type", "Runway writes Keep a Changelog entries"),
    ("versioning", "Runway bumps by SemVer"),
    ("separate-pull-requests", "Runway opens no pull request"),
    (
        "group-pull-request-title-pattern",
        "Runway opens no pull request",
    ),
    (
        "plugins",
        "release-please plugins have no Runway equivalent",
    ),
    ("release-label", "Runway labels no pull request"),
    ("extra-label", "Runway labels no pull request"),
    ("changelog-host", "links follow `origin`"),
    (
        "initial-version",
        "the first release is the version in the files",
    ),
];

fn section_of(v: &serde_json::Value) -> Option<Section> {
    Some(Section {
        kind: v.get("type")?.as_str()?.to_owned(),
        section: v.get("section")?.as_str()?.to_owned(),
        hidden: v.get("hidden").and_then(|h| h.as_bool()).unwrap_or(false),
    })
}

fn release_please(root: &Path, m: &mut Migration) {
    let Some(text) = read(root, "release-please-config.json") else {
        return;
    };
    let config: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            m.not_taken.push(format!(
                "`release-please-config.json` is not valid JSON (line {}): nothing taken over",
                e.line()
            ));
            return;
        }
    };
    m.sources.push("release-please-config.json".into());
    let manifest: serde_json::Value = read(root, ".release-please-manifest.json")
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let empty = serde_json::Map::new();
    let packages = config
        .get("packages")
        .and_then(|p| p.as_object())
        .unwrap_or(&empty);
    // A key set on the package wins over the top level; release-please's
    // defaults apply when neither has it.
    let get = |pkg: &serde_json::Value, key: &str| -> Option<serde_json::Value> {
        pkg.get(key).or_else(|| config.get(key)).cloned()
    };
    let root_pkg = packages.get(".").cloned().unwrap_or_default();
    let b = |v: Option<serde_json::Value>| v.and_then(|v| v.as_bool());

    // release-please's default is false; Runway's is true: always write it.
    let bmpm = b(get(&root_pkg, "bump-minor-pre-major")).unwrap_or(false);
    m.bump_minor_pre_major = Some(bmpm);
    m.taken.push(format!(
        "bump-minor-pre-major = {bmpm}{}",
        if get(&root_pkg, "bump-minor-pre-major").is_none() {
            " (release-please's default)"
        } else {
            ""
        }
    ));
    let bpfm = b(get(&root_pkg, "bump-patch-for-minor-pre-major")).unwrap_or(false);
    m.bump_patch_for_minor_pre_major = Some(bpfm);
    m.taken
        .push(format!("bump-patch-for-minor-pre-major = {bpfm}"));
    if let Some(t) = get(&root_pkg, "release-type").and_then(|t| t.as_str().map(str::to_owned)) {
        m.taken.push(format!(
            "release-type `{t}` (its version files are detected, not configured)"
        ));
        m.release_type = Some(t);
    }
    if let Some(s) = get(&root_pkg, "changelog-sections").and_then(|s| s.as_array().cloned()) {
        m.sections = s.iter().filter_map(section_of).collect();
        m.taken
            .push(format!("{} changelog sections", m.sections.len()));
    }
    if let Some(p) = get(&root_pkg, "changelog-path").and_then(|p| p.as_str().map(str::to_owned)) {
        m.taken.push(format!("changelog-path `{p}`"));
        m.changelog_path = Some(p);
    }
    if b(get(&root_pkg, "skip-changelog")) == Some(true) {
        m.skip_changelog = true;
        m.taken
            .push("skip-changelog (the changelog gate is turned off)".into());
    }
    let include_v = b(get(&root_pkg, "include-v-in-tag")).unwrap_or(true);
    let separator = get(&root_pkg, "tag-separator")
        .and_then(|s| s.as_str().map(str::to_owned))
        .unwrap_or_else(|| "-".into());
    let v = if include_v { "v" } else { "" };
    if packages.contains_key(".") || packages.is_empty() {
        let with_component = b(root_pkg.get("include-component-in-tag").cloned()).unwrap_or(false);
        let component = root_pkg
            .get("component")
            .or_else(|| root_pkg.get("package-name"))
            .and_then(|c| c.as_str());
        m.tag_prefix = Some(match (with_component, component) {
            (true, Some(c)) => format!("{c}{separator}{v}"),
            _ => v.to_owned(),
        });
    }
    for (path, pkg) in packages {
        if let Some(files) = pkg.get("extra-files").and_then(|f| f.as_array()) {
            for f in files {
                extra_file(path, f, m);
            }
        }
        if path == "." {
            continue;
        }
        let name = pkg
            .get("component")
            .or_else(|| pkg.get("package-name"))
            .and_then(|n| n.as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| path.rsplit('/').next().unwrap_or(path).to_owned());
        let with_component = b(get(pkg, "include-component-in-tag")).unwrap_or(true);
        let tag_prefix = if with_component {
            format!("{name}{separator}{v}")
        } else {
            v.to_owned()
        };
        m.packages.push(Package {
            name,
            path: path.clone(),
            tag_prefix,
            version: manifest
                .get(path)
                .and_then(|v| v.as_str())
                .map(str::to_owned),
        });
    }
    if !m.packages.is_empty() {
        m.taken.push(format!(
            "{} package(s) of the monorepo: {}",
            m.packages.len(),
            m.packages
                .iter()
                .map(|p| format!("`{}` ({})", p.name, p.path))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut left: Vec<String> = Vec::new();
    for (key, why) in NOT_TAKEN {
        let set = config.get(key).is_some() || packages.values().any(|p| p.get(key).is_some());
        if set {
            left.push(format!("`{key}` ({why})"));
        }
    }
    m.not_taken.extend(left);
}

fn extra_file(pkg_path: &str, f: &serde_json::Value, m: &mut Migration) {
    let join = |p: &str| {
        if pkg_path == "." {
            p.trim_start_matches("./").to_owned()
        } else {
            format!(
                "{}/{}",
                pkg_path.trim_end_matches('/'),
                p.trim_start_matches("./")
            )
        }
    };
    let (path, kind, jsonpath) = match f {
        serde_json::Value::String(p) => (join(p), "generic", None),
        serde_json::Value::Object(o) => {
            let Some(p) = o.get("path").and_then(|p| p.as_str()) else {
                return;
            };
            (
                join(p),
                o.get("type").and_then(|t| t.as_str()).unwrap_or("generic"),
                o.get("jsonpath").and_then(|j| j.as_str()),
            )
        }
        _ => return,
    };
    match (kind, jsonpath) {
        ("json", Some(jp)) => {
            match m.extra_files.iter_mut().find(|e| e.path == path) {
                Some(e) => e.fields.push(jp.to_owned()),
                None => m.extra_files.push(ExtraFile {
                    path: path.clone(),
                    fields: vec![jp.to_owned()],
                    regex: None,
                }),
            }
            m.taken.push(format!("extra file `{path}` field `{jp}`"));
        }
        ("generic", _) => {
            m.extra_files.push(ExtraFile {
                path: path.clone(),
                fields: Vec::new(),
                // release-please's inline marker on the version's line.
                regex: Some(
                    r"([0-9]+\.[0-9]+\.[0-9]+[0-9A-Za-z.+-]*)[^\n]*x-release-please-version".into(),
                ),
            });
            m.taken.push(format!(
                "extra file `{path}` (the line marked `x-release-please-version`)"
            ));
        }
        (other, _) => m.not_taken.push(format!(
            "extra file `{path}` of type `{other}`: add a `regex` for it to `[release].files`"
        )),
    }
}

/// git-cliff: `[git] commit_parsers` groups become sections, `tag_pattern` the prefix.
fn cliff(root: &Path, m: &mut Migration) {
    let Some(text) = read(root, "cliff.toml") else {
        return;
    };
    let doc: toml::Table = match text.parse() {
        Ok(d) => d,
        Err(e) => {
            m.not_taken
                .push(format!("`cliff.toml` does not parse: {}", e.message()));
            return;
        }
    };
    m.sources.push("cliff.toml".into());
    let parsers = doc
        .get("git")
        .and_then(|g| g.get("commit_parsers"))
        .and_then(|p| p.as_array())
        .cloned()
        .unwrap_or_default();
    let type_of = regex::Regex::new(r"^\^?\(?([a-z]+)").expect("static regex");
    for p in &parsers {
        let Some(msg) = p.get("message").and_then(|m| m.as_str()) else {
            continue;
        };
        let Some(kind) = type_of.captures(msg).map(|c| c[1].to_owned()) else {
            m.not_taken
                .push(format!("commit parser `{msg}` (not a commit type)"));
            continue;
        };
        let skip = p.get("skip").and_then(|s| s.as_bool()).unwrap_or(false);
        let group = p
            .get("group")
            .and_then(|g| g.as_str())
            .map(strip_cliff_markup)
            .unwrap_or_else(|| kind.clone());
        if m.sections.iter().any(|s| s.kind == kind) {
            continue;
        }
        m.sections.push(Section {
            kind,
            section: group,
            hidden: skip,
        });
    }
    if !m.sections.is_empty() {
        m.taken.push(format!(
            "{} changelog sections from `commit_parsers`",
            m.sections.len()
        ));
    }
    if let Some(tp) = doc
        .get("git")
        .and_then(|g| g.get("tag_pattern"))
        .and_then(|t| t.as_str())
    {
        let prefix: String = tp
            .trim_start_matches('^')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        let prefix = prefix
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .to_owned();
        m.taken
            .push(format!("tag_pattern `{tp}` → tag prefix `{prefix}`"));
        m.tag_prefix = Some(prefix);
    }
    if doc.get("changelog").and_then(|c| c.get("body")).is_some() {
        m.not_taken.push(
            "the `[changelog] body` template (Runway writes Keep a Changelog entries)".into(),
        );
    }
    for key in ["commit_preprocessors", "link_parsers"] {
        if doc.get("git").and_then(|g| g.get(key)).is_some() {
            m.not_taken.push(format!("`[git] {key}`"));
        }
    }
}

/// `<!-- 0 -->🚀 Features` → `Features`: git-cliff's ordering comments and emoji.
fn strip_cliff_markup(g: &str) -> String {
    let g = match (g.find("<!--"), g.find("-->")) {
        (Some(a), Some(b)) if a < b => format!("{}{}", &g[..a], &g[b + 3..]),
        _ => g.to_owned(),
    };
    g.trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (p, t) in files {
            std::fs::write(d.path().join(p), t).unwrap();
        }
        d
    }

    #[test]
    fn release_please_defaults_and_settings_are_carried_over() {
        let d = project(&[(
            "release-please-config.json",
            r#"{"release-type":"python","packages":{".":{"package-name":"mcp-hangar",
            "include-component-in-tag":false,"skip-changelog":true,"draft":false,
            "extra-files":[{"type":"json","path":"server.json","jsonpath":"$.version"},
                           {"type":"json","path":"server.json","jsonpath":"$.packages[0].version"},
                           "src/version.txt"],
            "changelog-sections":[{"type":"feat","section":"Added"},{"type":"chore","section":"Changed","hidden":true}]}}}"#,
        )]);
        let m = migrate(d.path());
        assert_eq!(m.bump_minor_pre_major, Some(false));
        assert_eq!(m.tag_prefix.as_deref(), Some("v"));
        assert_eq!(m.release_type.as_deref(), Some("python"));
        assert!(m.skip_changelog);
        assert_eq!(m.sections.len(), 2);
        assert!(m.sections[1].hidden);
        assert_eq!(
            m.extra_files[0].fields,
            ["$.version", "$.packages[0].version"]
        );
        assert!(m.extra_files[1].regex.is_some());
        assert!(
            m.not_taken.iter().any(|n| n.contains("draft")),
            "{:?}",
            m.not_taken
        );
    }

    #[test]
    fn a_release_please_monorepo_becomes_packages() {
        let d = project(&[
            (
                "release-please-config.json",
                r#"{"bump-minor-pre-major":true,"packages":{"packages/server":{"component":"server"},"packages/client":{}}}"#,
            ),
            (
                ".release-please-manifest.json",
                r#"{"packages/server":"1.2.0","packages/client":"0.3.0"}"#,
            ),
        ]);
        let m = migrate(d.path());
        assert_eq!(m.bump_minor_pre_major, Some(true));
        let names: Vec<(&str, &str, Option<&str>)> = m
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.tag_prefix.as_str(), p.version.as_deref()))
            .collect();
        assert_eq!(
            names,
            [
                ("client", "client-v", Some("0.3.0")),
                ("server", "server-v", Some("1.2.0"))
            ]
        );
    }

    #[test]
    fn release_plz_keeps_a_pre_1_0_feature_a_minor_unless_semver_checks_are_off() {
        let d = project(&[("release-plz.toml", "[[package]]\nname = \"rmcp\"\n")]);
        let m = migrate(d.path());
        assert_eq!(m.sources, ["release-plz.toml"]);
        assert_eq!(m.bump_minor_pre_major, Some(true));
        assert_eq!(m.bump_patch_for_minor_pre_major, Some(false));
        assert!(
            m.not_taken
                .iter()
                .any(|n| n.contains("cargo-semver-checks"))
        );
        let d = project(&[("release-plz.toml", "[workspace]\nsemver_check = false\n")]);
        assert_eq!(migrate(d.path()).bump_patch_for_minor_pre_major, Some(true));
    }

    #[test]
    fn cliff_parsers_become_sections() {
        let d = project(&[(
            "cliff.toml",
            "[changelog]\nbody = \"x\"\n[git]\ntag_pattern = \"v[0-9].*\"\ncommit_parsers = [\n { message = \"^feat\", group = \"<!-- 0 -->🚀 Features\" },\n { message = \"^fix\", group = \"Bug Fixes\" },\n { message = \"^chore\\\\(release\\\\)\", skip = true },\n { body = \".*security\", group = \"Security\" },\n]\n",
        )]);
        let m = migrate(d.path());
        assert_eq!(m.sources, ["cliff.toml"]);
        assert_eq!(m.sections[0].section, "Features");
        assert_eq!(m.sections[2].kind, "chore");
        assert!(m.sections[2].hidden);
        assert_eq!(m.tag_prefix.as_deref(), Some("v"));
        assert!(m.not_taken.iter().any(|n| n.contains("body")));
    }
}
