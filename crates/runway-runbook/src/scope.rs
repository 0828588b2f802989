//! The configuration half of a deployment's scope (seed 003: "Scope changes
//! (config/code)"): the environment's settings as deployed, one entry per
//! dotted key, and the lines that say what changed since the previous
//! deployment.
//!
//! The settings are read from `runway.toml`'s own text (the
//! `[environments.<name>]` table and everything under it), so a new key is
//! covered without a change here. A plain `deploy.env` value is kept as the
//! server received it (`${HOST}` resolved), so the record says what ran and a
//! rollback can give it back; a secret one (`DeployConfig::is_secret_env`)
//! only as a digest the caller computes: a rotated secret shows as changed,
//! its value never appears in the record or in the lines.

use std::collections::BTreeMap;

use runway_core::Secret;
use sha2::{Digest, Sha256};

/// Where the server's variables live, relative to the environment's table.
const ENV_PREFIX: &str = "deploy.env.";
/// How a secret setting's value was kept before ledgers had a key: the first
/// 16 hex digits of its SHA-256 (still read, never written by new code that
/// has a ledger key).
const DIGEST_TAG: &str = "sha256:";
/// How a secret setting's value is kept: a keyed digest.
const KEYED_TAG: &str = "hmac:";

/// Whether a recorded setting's value is a digest of a secret.
pub fn is_digest(value: &str) -> bool {
    value.starts_with(DIGEST_TAG) || value.starts_with(KEYED_TAG)
}

/// The settings of environment `name` in `text` (a `runway.toml`): plain
/// `deploy.env` values as resolved in `vars`, and secret ones (the keys of
/// `digests`) as their digest. A file that does not parse gives no settings
/// (loading it already failed).
pub fn settings(
    text: &str,
    name: &str,
    vars: &[(String, Secret)],
    digests: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Ok(doc) = text.parse::<toml::Table>() else {
        return out;
    };
    let Some(toml::Value::Table(env)) = doc
        .get("environments")
        .and_then(|e| e.as_table())
        .and_then(|e| e.get(name))
    else {
        return out;
    };
    flatten("", env, &mut out);
    for (key, value) in out.iter_mut() {
        if let Some(var) = key.strip_prefix(ENV_PREFIX) {
            if let Some(d) = digests.get(var) {
                *value = d.clone();
            } else if let Some((_, v)) = vars.iter().find(|(k, _)| k == var) {
                *value = toml::Value::String(v.expose().to_owned()).to_string();
            }
        }
    }
    out
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut BTreeMap<String, String>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            other => {
                out.insert(key, other.to_string());
            }
        }
    }
}

/// The unkeyed digest of a secret value (`sha256:` + 16 hex digits), for a
/// caller without a ledger key.
pub fn digest(value: &str) -> String {
    let hash = Sha256::digest(value.as_bytes());
    let hex: String = hash.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{DIGEST_TAG}{hex}")
}

/// One line per setting that differs between `previous` and `now`: added
/// (`+ key = value`), removed (`- key`) or changed (`key: old → new`). A
/// secret setting says only that it was added, removed or changed. A
/// previous deployment recorded before settings were kept gives no lines.
pub fn changes(previous: &BTreeMap<String, String>, now: &BTreeMap<String, String>) -> Vec<String> {
    if previous.is_empty() {
        return Vec::new();
    }
    let mut lines = Vec::new();
    for (k, v) in now {
        match previous.get(k) {
            None if is_digest(v) => lines.push(format!("+ {k} (value not shown)")),
            None => lines.push(format!("+ {k} = {v}")),
            Some(old) if old == v => {}
            Some(old) if is_digest(v) || is_digest(old) => {
                lines.push(format!("{k}: changed (value not shown)"))
            }
            Some(old) => lines.push(format!("{k}: {old} → {v}")),
        }
    }
    for k in previous.keys() {
        if !now.contains_key(k) {
            lines.push(format!("- {k}"));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: &str = r#"
[environments.prod]
url = "http://127.0.0.1:1/mcp"
[environments.prod.deploy]
target = "process"
command = ["server", "{version}"]
env = { API_KEY = "${KEY}", MODE = "fast" }
[environments.prod.analysis]
p95_max_ms = 2000
[environments.staging]
url = "http://127.0.0.1:2/mcp"
"#;

    fn vars(key: &str, mode: &str) -> Vec<(String, Secret)> {
        vec![
            ("API_KEY".into(), Secret::new(key)),
            ("MODE".into(), Secret::new(mode)),
        ]
    }

    fn digests(key: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("API_KEY".to_owned(), digest(key))])
    }

    #[test]
    fn the_settings_are_the_environments_keys_with_secrets_as_digests() {
        let s = settings(
            V1,
            "prod",
            &vars("s3cr3t-value", "fast"),
            &digests("s3cr3t-value"),
        );
        assert_eq!(s["url"], "\"http://127.0.0.1:1/mcp\"");
        assert_eq!(s["deploy.command"], "[\"server\", \"{version}\"]");
        assert_eq!(s["analysis.p95_max_ms"], "2000");
        assert!(s["deploy.env.API_KEY"].starts_with(DIGEST_TAG));
        assert_eq!(
            s["deploy.env.MODE"], "\"fast\"",
            "a plain value is kept as it is"
        );
        assert!(
            !s.values()
                .any(|v| v.contains("s3cr3t") || v.contains("${KEY}"))
        );
        assert!(!s.contains_key("staging.url") && !s.keys().any(|k| k.contains("127.0.0.1:2")));
        let none = BTreeMap::new();
        assert!(settings("not toml [", "prod", &[], &none).is_empty());
        assert!(settings(V1, "nowhere", &[], &none).is_empty());
    }

    #[test]
    fn changes_name_each_added_removed_and_changed_setting_but_no_secret() {
        let before = settings(
            V1,
            "prod",
            &vars("old-secret-1", "fast"),
            &digests("old-secret-1"),
        );
        let v2 = V1
            .replace(
                "p95_max_ms = 2000",
                "p95_max_ms = 1500\navailability_min = 0.95",
            )
            .replace("url = \"http://127.0.0.1:1/mcp\"\n", "");
        let after = settings(
            &v2,
            "prod",
            &vars("new-secret-2", "slow"),
            &digests("new-secret-2"),
        );
        let lines = changes(&before, &after);
        assert_eq!(
            lines,
            vec![
                "+ analysis.availability_min = 0.95".to_owned(),
                "analysis.p95_max_ms: 2000 → 1500".to_owned(),
                "deploy.env.API_KEY: changed (value not shown)".to_owned(),
                "deploy.env.MODE: \"fast\" → \"slow\"".to_owned(),
                "- url".to_owned(),
            ]
        );
        assert!(!lines.iter().any(|l| l.contains("secret")));
        assert!(changes(&after, &after).is_empty());
        assert!(changes(&BTreeMap::new(), &after).is_empty());
    }
}
