//! `runway.toml` with secrets removed, for the `runway://config` resource.
//!
//! Secrets belong in the environment (`token_env`, `token_file`), but a file
//! may still hold one by mistake: a password in a ledger URL, a literal
//! `token = "..."`. Before the text leaves the process, every value of a
//! secret-looking key and every URL's credentials become `[redacted]`, and the
//! values of secret-looking environment variables are scrubbed as the release
//! gates' output is.

use std::sync::OnceLock;

use regex::Regex;

const REDACTED: &str = "[redacted]";

fn secret_key() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // `key = value` where the key names a secret; `_env`/`_file` keys name where one is, and stay.
        Regex::new(
            r#"(?im)^(\s*"?[A-Za-z0-9_.-]*(?:token|password|passwd|secret|api_key|apikey|credential|private_key)[A-Za-z0-9_-]*"?\s*=\s*)(.+)$"#,
        )
        .expect("a valid regex")
    })
}

fn url_credentials() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"([A-Za-z][A-Za-z0-9+.-]*://)([^/@\s:]+)(:[^/@\s]*)?@").expect("a valid regex")
    })
}

/// `text` with secret values and URL credentials replaced.
pub fn config_text(text: &str) -> String {
    let keyed = secret_key().replace_all(text, |c: &regex::Captures<'_>| {
        let key = c[1].trim().trim_end_matches('=').trim().trim_matches('"');
        if key.ends_with("_env") || key.ends_with("_file") {
            c[0].to_owned()
        } else {
            format!("{}\"{REDACTED}\"", &c[1])
        }
    });
    let urls = url_credentials().replace_all(&keyed, |c: &regex::Captures<'_>| {
        format!("{}{REDACTED}@", &c[1])
    });
    runway_release::redact::redact_output(&urls)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_values_and_url_passwords_are_removed_and_names_stay() {
        let text = "[ledger]\nurl = \"postgres://runway:hunter2-pw@db:5432/runway\"\n\
                    [environments.prod]\nurl = \"https://mcp.example.com/mcp\"\n\
                    token_env = \"PROD_TOKEN\"\ntoken = \"sk-live-abcdef\"\n\
                    api_key=\"k-123\"\n";
        let out = config_text(text);
        assert!(!out.contains("hunter2-pw"), "{out}");
        assert!(!out.contains("sk-live-abcdef"), "{out}");
        assert!(!out.contains("k-123"), "{out}");
        assert!(out.contains("token_env = \"PROD_TOKEN\""), "{out}");
        assert!(out.contains("https://mcp.example.com/mcp"), "{out}");
        assert!(
            out.contains("postgres://[redacted]@db:5432/runway"),
            "{out}"
        );
        assert!(out.contains("token = \"[redacted]\""), "{out}");
    }
}
