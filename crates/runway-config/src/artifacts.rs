//! `[release.artifacts]`: where a release's published artifacts are, so
//! `runway release verify-artifacts` can install and run them. Owned by
//! runway-deploy's `artifacts` module.
//!
//! Each source is optional; a project lists the ones its pipeline publishes.
//! Names default to the project's own files (`pyproject.toml`'s
//! `[project].name` and first `[project.scripts]` entry, `package.json`'s
//! `name` and `bin`), which the verifier reads when a key is left out.

use serde::Deserialize;

use crate::duration::DurationValue;

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ArtifactsConfig {
    /// How long one step (an install, a `--version` run, a registry request)
    /// may take before it is stopped and counted as failed; default `5m`.
    #[serde(default)]
    pub timeout: Option<DurationValue>,
    #[serde(default)]
    pub pypi: Option<PypiArtifact>,
    #[serde(default)]
    pub npm: Option<NpmArtifact>,
    #[serde(default)]
    pub docker: Option<DockerArtifact>,
}

/// A package on a PyPI-compatible index (PEP 503 "simple" API).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PypiArtifact {
    /// The simple index (`https://pypi.org/simple`, the default); `${VAR}` is interpolated.
    #[serde(default)]
    pub index_url: Option<String>,
    /// The distribution name; default `[project].name` of `pyproject.toml`.
    #[serde(default)]
    pub package: Option<String>,
    /// The console script run with `--version`; default the first
    /// `[project.scripts]` entry, else the package name.
    #[serde(default)]
    pub script: Option<String>,
}

/// A package on an npm registry.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct NpmArtifact {
    /// The registry (`https://registry.npmjs.org`, the default); `${VAR}` is interpolated.
    #[serde(default)]
    pub registry: Option<String>,
    /// The package name; default `name` of `package.json`.
    #[serde(default)]
    pub package: Option<String>,
    /// The executable run with `--version`; default the first `bin` entry of
    /// `package.json` (or the package name without its scope).
    #[serde(default)]
    pub bin: Option<String>,
}

/// An image in a registry that speaks the Docker Registry HTTP API v2.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DockerArtifact {
    /// The repository in the registry (`acme/server`).
    pub image: String,
    /// The registry's base URL (`https://registry-1.docker.io`, `http://127.0.0.1:5000`);
    /// `${VAR}` is interpolated. The image is run as `HOST[:PORT]/IMAGE:TAG`.
    pub registry: String,
    /// The tag for a version; `{version}` is replaced (default `"{version}"`).
    #[serde(default)]
    pub tag: Option<String>,
}

impl ArtifactsConfig {
    /// Whether any source is configured.
    pub fn is_empty(&self) -> bool {
        self.pypi.is_none() && self.npm.is_none() && self.docker.is_none()
    }

    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        let url = |field: &str, v: &Option<String>| -> Result<(), (String, String)> {
            match v {
                Some(u) if !u.contains("${") && !is_http_url(u) => Err((
                    field.to_owned(),
                    format!("`{u}` is not an http:// or https:// URL"),
                )),
                _ => Ok(()),
            }
        };
        let name = |field: &str, v: &Option<String>| -> Result<(), (String, String)> {
            match v {
                Some(n) if n.trim().is_empty() || n.chars().any(char::is_whitespace) => Err((
                    field.to_owned(),
                    format!("`{n}` is not a name: it must be non-empty, without spaces"),
                )),
                _ => Ok(()),
            }
        };
        if let Some(p) = &self.pypi {
            url("release.artifacts.pypi.index_url", &p.index_url)?;
            name("release.artifacts.pypi.package", &p.package)?;
            name("release.artifacts.pypi.script", &p.script)?;
            if p.script.as_deref().is_some_and(|s| s.contains('/')) {
                return Err((
                    "release.artifacts.pypi.script".into(),
                    "name the console script (`my-server`), not a path".into(),
                ));
            }
        }
        if let Some(n) = &self.npm {
            url("release.artifacts.npm.registry", &n.registry)?;
            name("release.artifacts.npm.package", &n.package)?;
            name("release.artifacts.npm.bin", &n.bin)?;
            if n.bin.as_deref().is_some_and(|s| s.contains('/')) {
                return Err((
                    "release.artifacts.npm.bin".into(),
                    "name the executable (`my-server`), not a path".into(),
                ));
            }
        }
        if let Some(d) = &self.docker {
            url(
                "release.artifacts.docker.registry",
                &Some(d.registry.clone()),
            )?;
            let image = d.image.trim();
            if image.is_empty()
                || image.contains(':')
                || image.contains('@')
                || image.starts_with('/')
                || image.ends_with('/')
                || image
                    .chars()
                    .any(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(c)))
            {
                return Err((
                    "release.artifacts.docker.image".into(),
                    format!(
                        "`{}` is not a repository name: lower-case letters, digits, `.`, `_`, `-` and `/`, without a registry host or tag (`acme/server`)",
                        d.image
                    ),
                ));
            }
            if let Some(t) = &d.tag
                && !t.contains("{version}")
            {
                return Err((
                    "release.artifacts.docker.tag".into(),
                    format!("`{t}` must contain `{{version}}` (e.g. `\"v{{version}}\"`)"),
                ));
            }
        }
        Ok(())
    }
}

fn is_http_url(u: &str) -> bool {
    let rest = u
        .strip_prefix("http://")
        .or_else(|| u.strip_prefix("https://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use crate::Config;
    use std::path::Path;

    fn err(text: &str) -> String {
        Config::parse(text, Path::new("/p/runway.toml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn every_source_parses_with_its_keys() {
        let text = r#"
[release.artifacts]
timeout = "90s"

[release.artifacts.pypi]
index_url = "http://127.0.0.1:8080/simple"
package = "demo-server"
script = "demo-server"

[release.artifacts.npm]
registry = "http://127.0.0.1:4873"
package = "@acme/demo-server"
bin = "demo-server"

[release.artifacts.docker]
image = "acme/demo-server"
registry = "http://127.0.0.1:5000"
tag = "v{version}"
"#;
        let c = Config::parse(text, Path::new("runway.toml")).unwrap();
        let a = &c.release.artifacts;
        assert_eq!(a.timeout.unwrap().get().as_secs(), 90);
        let p = a.pypi.as_ref().unwrap();
        assert_eq!(p.index_url.as_deref(), Some("http://127.0.0.1:8080/simple"));
        assert_eq!(p.script.as_deref(), Some("demo-server"));
        let n = a.npm.as_ref().unwrap();
        assert_eq!(n.package.as_deref(), Some("@acme/demo-server"));
        let d = a.docker.as_ref().unwrap();
        assert_eq!(d.image, "acme/demo-server");
        assert_eq!(d.tag.as_deref(), Some("v{version}"));
        assert!(!a.is_empty());
        assert!(
            Config::parse("", Path::new("runway.toml"))
                .unwrap()
                .release
                .artifacts
                .is_empty()
        );
    }

    #[test]
    fn a_bad_artifact_key_names_its_line_and_column() {
        let e = err("[release.artifacts.pypi]\nindex = \"http://127.0.0.1/simple\"\n");
        assert!(e.contains("/p/runway.toml:2:1"), "{e}");
        assert!(e.contains("index"), "{e}");

        let e = err("[release.artifacts.npm]\nregistry = \"127.0.0.1:4873\"\n");
        assert!(e.contains("/p/runway.toml:2:1"), "{e}");
        assert!(e.contains("not an http:// or https:// URL"), "{e}");

        let e = err(
            "[release.artifacts.docker]\nregistry = \"http://127.0.0.1:5000\"\nimage = \"127.0.0.1:5000/acme/server:1.0\"\n",
        );
        assert!(e.contains("/p/runway.toml:3:1"), "{e}");
        assert!(e.contains("not a repository name"), "{e}");

        let e = err("[release.artifacts.docker]\nregistry = \"http://127.0.0.1:5000\"\n");
        assert!(e.contains("/p/runway.toml:1:"), "{e}");
        assert!(e.contains("image"), "{e}");

        let e = err(
            "[release.artifacts.docker]\nimage = \"acme/s\"\nregistry = \"http://127.0.0.1:5000\"\ntag = \"latest\"\n",
        );
        assert!(e.contains("/p/runway.toml:4:1"), "{e}");
        assert!(e.contains("{version}"), "{e}");

        let e = err("[release.artifacts]\ntimeout = \"soon\"\n");
        assert!(e.contains("/p/runway.toml:2:"), "{e}");

        let e = err("[release.artifacts.pypi]\nscript = \"bin/demo\"\n");
        assert!(e.contains("not a path"), "{e}");
    }
}
