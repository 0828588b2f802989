//! Yanking a release: what to do on each index, and whether the index now
//! says it is done (`runway release yank`).
//!
//! PyPI has no API to yank (the Hangar runbook: "use the PyPI web interface
//! ... There is no CLI command for yanking"), so the step is the exact
//! manage page; npm's is `npm deprecate`; a Docker registry has nothing like
//! it. Whether it happened is read back the way `verify-artifacts` reads the
//! listing: the PEP 691 JSON or PEP 503 HTML project page, where PEP 592
//! marks each file of a yanked version `yanked` / `data-yanked`, and the npm
//! packument, where a deprecated version has a `deprecated` message.

use serde::Serialize;

use crate::{
    Listing, NPM_DEFAULT_REGISTRY, Outcome, Settings, Source, Spec, Wanted, http, listing,
    normalize_python_name, pypi::file_version,
};

/// The step that yanks one artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct YankStep {
    pub source: Source,
    /// `demo==1.2.0`, `@acme/demo@1.2.0`, `127.0.0.1:5000/acme/demo:1.2.0`.
    pub artifact: String,
    /// The exact page to open (PyPI) or command to run (npm, Docker).
    pub action: String,
    /// What to do with it, in a sentence.
    pub note: String,
    /// Whether [`check_yanked`] can read the index to confirm it.
    pub checkable: bool,
}

/// The steps for every source `specs` names, `reason` in the npm command.
pub fn yank_steps(specs: &[Spec], wanted: &Wanted, reason: &str) -> Vec<YankStep> {
    specs
        .iter()
        .map(|s| match s {
            Spec::Pypi {
                index_url, package, ..
            } => {
                let host = url::Url::parse(index_url)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .unwrap_or_default();
                let (action, note) = match host.as_str() {
                    "pypi.org" | "test.pypi.org" => (
                        format!(
                            "https://{host}/manage/project/{}/release/{}/",
                            normalize_python_name(package),
                            wanted.python
                        ),
                        format!(
                            "open the page, click \"Yank\" and give the reason (PyPI has no API for it): {reason}"
                        ),
                    ),
                    _ => (
                        format!(
                            "{}/{}/",
                            crate::hide_credentials(index_url),
                            normalize_python_name(package)
                        ),
                        "this index is not PyPI: yank the version with its own tools; `--confirm` reads this page for PEP 592's `data-yanked`".to_owned(),
                    ),
                };
                YankStep {
                    source: Source::Pypi,
                    artifact: format!("{package}=={}", wanted.python),
                    action,
                    note,
                    checkable: true,
                }
            }
            Spec::Npm {
                registry, package, ..
            } => {
                let mut action = format!(
                    "npm deprecate {package}@{} \"{}\"",
                    wanted.version,
                    double_quoted(reason)
                );
                if registry.trim_end_matches('/') != NPM_DEFAULT_REGISTRY {
                    action.push_str(&format!(
                        " --registry {}",
                        crate::hide_credentials(registry)
                    ));
                }
                YankStep {
                    source: Source::Npm,
                    artifact: format!("{package}@{}", wanted.version),
                    action,
                    note: "run it as a maintainer of the package (`npm login` first)".to_owned(),
                    checkable: true,
                }
            }
            Spec::Docker {
                registry,
                image,
                tag,
            } => {
                let host = registry
                    .split_once("://")
                    .map_or(registry.as_str(), |(_, h)| h);
                YankStep {
                    source: Source::Docker,
                    artifact: format!("{host}/{image}:{tag}"),
                    action: format!(
                        "docker pull {host}/{image}:PREVIOUS && docker tag {host}/{image}:PREVIOUS {host}/{image}:latest && docker push {host}/{image}:latest"
                    ),
                    note: "a registry has no yank: point `latest` back at the previous version (PREVIOUS)".to_owned(),
                    checkable: false,
                }
            }
        })
        .collect()
}

/// Inside `"..."` for a POSIX shell: `\`, `"`, `$` and `` ` `` escaped.
fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '"' | '$' | '`') {
            out.push('\\');
        }
        if c == '\n' || c == '\r' {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// What one index says about the version now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct YankState {
    pub source: Source,
    pub artifact: String,
    /// The index URL (credentials hidden).
    pub index: String,
    /// Every file of the version is yanked (PyPI), or the version is deprecated (npm).
    pub yanked: bool,
    /// The reason the index gives, when it gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The index could not be read; `yanked` is then `false`.
    pub unreachable: bool,
    pub message: String,
}

/// Reads each checkable source's listing and says whether it reports the version yanked.
pub async fn check_yanked(specs: &[Spec], wanted: &Wanted, settings: &Settings) -> Vec<YankState> {
    http::install_crypto_provider();
    let client = http::client(settings.limits(crate::MAX_LISTING));
    let mut out = Vec::new();
    for s in specs {
        match s {
            Spec::Pypi {
                index_url, package, ..
            } => out.push(pypi(&client, settings, wanted, index_url, package).await),
            Spec::Npm {
                registry, package, ..
            } => out.push(npm(&client, settings, wanted, registry, package).await),
            Spec::Docker { .. } => {}
        }
    }
    out
}

fn state(o: &Outcome, yanked: bool, reason: Option<String>, message: String) -> YankState {
    YankState {
        source: o.base.source,
        artifact: o.base.artifact.clone(),
        index: o.base.index.clone(),
        yanked,
        reason,
        unreachable: false,
        message,
    }
}

fn unreachable(o: &Outcome, message: String) -> YankState {
    YankState {
        unreachable: true,
        ..state(o, false, None, message)
    }
}

async fn pypi(
    client: &reqwest::Client,
    settings: &Settings,
    wanted: &Wanted,
    index_url: &str,
    package: &str,
) -> YankState {
    let o = Outcome::new(
        Source::Pypi,
        format!("{package}=={}", wanted.python),
        index_url,
        &wanted.python,
    );
    let page = format!("{index_url}/{}/", normalize_python_name(package));
    let accept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";
    let check = "`release.artifacts.pypi.index_url`";
    let (body, content_type) = match listing(client, settings, &page, accept, &o, check).await {
        Ok(Listing::Body(b, t)) => (b, t),
        Ok(Listing::NotFound) => {
            return unreachable(
                &o,
                format!("`{package}` is not on `{}` at all", o.base.index),
            );
        }
        Err(e) => return unreachable(&o, e.message),
    };
    let text = String::from_utf8_lossy(&body);
    let files = if content_type.contains("vnd.pypi.simple.v1+json") {
        simple_json_yanked(&text, package)
    } else {
        simple_index_yanked(&text, package)
    };
    let of_version: Vec<&(String, Option<String>)> = files
        .iter()
        .filter(|(v, _)| *v == wanted.python || *v == wanted.version)
        .collect();
    if of_version.is_empty() {
        return state(
            &o,
            false,
            None,
            format!(
                "`{}` lists no file of {package} {}",
                o.base.index, wanted.python
            ),
        );
    }
    let yanked = of_version.iter().filter(|(_, y)| y.is_some()).count();
    let reason = of_version
        .iter()
        .find_map(|(_, y)| y.clone().filter(|r| !r.is_empty()));
    let all = yanked == of_version.len();
    let message = if all {
        format!(
            "all {} file(s) of {} are yanked{}",
            of_version.len(),
            wanted.python,
            reason
                .as_ref()
                .map(|r| format!(" (\"{r}\")"))
                .unwrap_or_default()
        )
    } else {
        format!(
            "{yanked} of {} file(s) of {} are yanked: pip still installs it",
            of_version.len(),
            wanted.python
        )
    };
    state(&o, all, reason, message)
}

/// Each file of `package` a PEP 503 page lists, as (version, yank reason):
/// `Some("")` for a bare `data-yanked`, `None` when not yanked.
pub fn simple_index_yanked(page: &str, package: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for chunk in page.split("</a>") {
        let Some(start) = chunk.rfind("<a") else {
            continue;
        };
        let anchor = &chunk[start..];
        let Some((tag, text)) = anchor.split_once('>') else {
            continue;
        };
        let Some(v) = file_version(text.trim(), package) else {
            continue;
        };
        out.push((v.to_owned(), attribute(tag, "data-yanked").map(unescape)));
    }
    out
}

/// PEP 691: `files[]` with `filename` and `yanked` (false, true or a reason).
fn simple_json_yanked(page: &str, package: &str) -> Vec<(String, Option<String>)> {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(page) else {
        return Vec::new();
    };
    v.get("files")
        .and_then(|f| f.as_array())
        .into_iter()
        .flatten()
        .filter_map(|f| {
            let name = f.get("filename")?.as_str()?;
            let version = file_version(name, package)?.to_owned();
            let yanked = match f.get("yanked") {
                Some(serde_json::Value::Bool(true)) => Some(String::new()),
                Some(serde_json::Value::String(r)) => Some(r.clone()),
                _ => None,
            };
            Some((version, yanked))
        })
        .collect()
}

/// The value of attribute `name` in an HTML start tag (`""` when it has none).
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = tag;
    while let Some(i) = rest.find(name) {
        let before = rest[..i].chars().last();
        let after = &rest[i + name.len()..];
        rest = after;
        let ends = after
            .chars()
            .next()
            .is_none_or(|c| c.is_whitespace() || matches!(c, '=' | '>' | '/'));
        if !before.is_some_and(char::is_whitespace) || !ends {
            continue;
        }
        let after = after.trim_start();
        let Some(value) = after.strip_prefix('=') else {
            return Some("");
        };
        let value = value.trim_start();
        return Some(match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or(""),
            _ => value
                .split(|c: char| c.is_whitespace() || c == '>')
                .next()
                .unwrap_or(""),
        });
    }
    None
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

async fn npm(
    client: &reqwest::Client,
    settings: &Settings,
    wanted: &Wanted,
    registry: &str,
    package: &str,
) -> YankState {
    let o = Outcome::new(
        Source::Npm,
        format!("{package}@{}", wanted.version),
        registry,
        &wanted.version,
    );
    let url = format!("{registry}/{}", package.replace('/', "%2f"));
    let check = "`release.artifacts.npm.registry`";
    let body = match listing(
        client,
        settings,
        &url,
        "application/vnd.npm.install-v1+json, application/json",
        &o,
        check,
    )
    .await
    {
        Ok(Listing::Body(b, _)) => b,
        Ok(Listing::NotFound) => {
            return unreachable(
                &o,
                format!("`{package}` is not on `{}` at all", o.base.index),
            );
        }
        Err(e) => return unreachable(&o, e.message),
    };
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let Some(v) = doc.get("versions").and_then(|v| v.get(&wanted.version)) else {
        return state(
            &o,
            false,
            None,
            format!("`{}` has no {package} {}", o.base.index, wanted.version),
        );
    };
    match v.get("deprecated").and_then(|d| d.as_str()) {
        Some(r) if !r.is_empty() => state(
            &o,
            true,
            Some(r.to_owned()),
            format!("{} is deprecated (\"{r}\")", wanted.version),
        ),
        _ => state(
            &o,
            false,
            None,
            format!("{} is not deprecated", wanted.version),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted() -> Wanted {
        Wanted {
            version: "1.2.0-rc.1".into(),
            python: "1.2.0rc1".into(),
        }
    }

    #[test]
    fn a_pep_503_page_marks_yanked_files_with_their_reason() {
        let page = r#"<html><body>
<a href="demo_cli-1.1.0-py3-none-any.whl#sha256=aa">demo_cli-1.1.0-py3-none-any.whl</a><br>
<a href="demo_cli-1.2.0rc1-py3-none-any.whl" data-yanked="broken &quot;wheel&quot;">demo_cli-1.2.0rc1-py3-none-any.whl</a>
<a data-yanked href="demo-cli-1.2.0rc1.tar.gz">demo-cli-1.2.0rc1.tar.gz</a>
<a href="other-1.2.0rc1.tar.gz" data-yanked="x">other-1.2.0rc1.tar.gz</a>
</body></html>"#;
        assert_eq!(
            simple_index_yanked(page, "demo-cli"),
            [
                ("1.1.0".to_owned(), None),
                ("1.2.0rc1".to_owned(), Some("broken \"wheel\"".to_owned())),
                ("1.2.0rc1".to_owned(), Some(String::new())),
            ]
        );
        // `data-yanked-by` is another attribute, not a yank.
        assert_eq!(
            attribute("<a data-yanked-by=\"x\" href=y", "data-yanked"),
            None
        );
    }

    #[test]
    fn a_pep_691_page_gives_yanked_as_a_flag_or_a_reason() {
        let page = r#"{"meta":{"api-version":"1.1"},"name":"demo-cli","files":[
            {"filename":"demo_cli-1.2.0rc1-py3-none-any.whl","url":"x","hashes":{},"yanked":"bad build"},
            {"filename":"demo_cli-1.2.0rc1.tar.gz","url":"x","hashes":{},"yanked":true},
            {"filename":"demo_cli-1.1.0.tar.gz","url":"x","hashes":{},"yanked":false}]}"#;
        assert_eq!(
            simple_json_yanked(page, "demo-cli"),
            [
                ("1.2.0rc1".to_owned(), Some("bad build".to_owned())),
                ("1.2.0rc1".to_owned(), Some(String::new())),
                ("1.1.0".to_owned(), None),
            ]
        );
    }

    #[test]
    fn steps_name_the_exact_page_and_command() {
        let specs = vec![
            Spec::Pypi {
                index_url: "https://pypi.org/simple".into(),
                package: "Demo_CLI".into(),
                script: "demo-cli".into(),
            },
            Spec::Npm {
                registry: "https://registry.npmjs.org".into(),
                package: "@acme/demo".into(),
                bin: "demo".into(),
            },
            Spec::Npm {
                registry: "http://127.0.0.1:4873".into(),
                package: "demo".into(),
                bin: "demo".into(),
            },
        ];
        let steps = yank_steps(&specs, &wanted(), "crashes on \"start\" $HOME");
        assert_eq!(
            steps[0].action,
            "https://pypi.org/manage/project/demo-cli/release/1.2.0rc1/"
        );
        assert!(steps[0].note.ends_with(": crashes on \"start\" $HOME"));
        assert_eq!(steps[0].artifact, "Demo_CLI==1.2.0rc1");
        assert_eq!(
            steps[1].action,
            r#"npm deprecate @acme/demo@1.2.0-rc.1 "crashes on \"start\" \$HOME""#
        );
        assert!(
            steps[2]
                .action
                .ends_with(" --registry http://127.0.0.1:4873"),
            "{}",
            steps[2].action
        );
    }
}
