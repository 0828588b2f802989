//! The deployed version's output, as the `logs` analysis source and the
//! `logs` check read it: through [`Target::logs`], always bounded, and only
//! the running version's part of it (the process target's log file holds
//! every version's output, each after its start marker).

use std::time::Duration;

use async_trait::async_trait;
use runway_signals::logs::{LogFeed, Tail};

use crate::{Logs, Target, process::RUN_MARKER};

/// The part of `logs` the running version printed: what follows the last
/// start marker (the process target's), and all of it when there is none
/// (a container's logs are its own). Found, the marker means nothing of the
/// version's output was cut.
pub fn current_run(logs: &Logs) -> Tail {
    let text = &logs.text;
    let marker = text
        .match_indices(RUN_MARKER)
        .map(|(i, _)| i)
        .filter(|&i| i == 0 || text.as_bytes()[i - 1] == b'\n')
        .last();
    match marker {
        Some(i) => {
            let after = text[i..]
                .find('\n')
                .map(|n| i + n + 1)
                .unwrap_or(text.len());
            Tail {
                text: text[after..].to_owned(),
                truncated: false,
            }
        }
        None => Tail {
            text: text.clone(),
            truncated: logs.truncated,
        },
    }
}

/// How many bytes the `logs` check reads at most: enough for its lines.
pub fn check_bytes(lines: usize) -> usize {
    (lines * 2048).clamp(64 * 1024, 4 * 1024 * 1024)
}

/// What the `logs` check found in a sample of the output.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LogsCheck {
    /// Lines checked (the newest complete ones, blank ones left out).
    pub checked: usize,
    /// The first line that breaks the policy: its number in the sample
    /// (1 is the oldest line checked), what is wrong, and the line itself,
    /// redacted and cut to 200 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offense: Option<(usize, String, String)>,
}

impl LogsCheck {
    pub fn ok(&self) -> bool {
        self.offense.is_none()
    }

    /// One sentence for the output and the record.
    pub fn summary(&self, source: &str) -> String {
        match &self.offense {
            None if self.checked == 0 => {
                format!("no output to check in {source}: nothing was judged")
            }
            None => format!(
                "the last {} lines of {source} are JSON with the required fields",
                self.checked
            ),
            Some((n, why, line)) => format!(
                "line {n} of the last {} of {source} {why}: {line}",
                self.checked
            ),
        }
    }
}

/// Checks that each of the newest `lines` complete lines of `tail` is a
/// JSON object with every key of `fields` (Hostaway 6).
pub fn check_json_lines(
    tail: &Tail,
    fields: &[String],
    lines: usize,
    redactor: &runway_core::Redactor,
) -> LogsCheck {
    let all: Vec<&str> = runway_signals::logs::complete_lines(tail)
        .into_iter()
        .filter(|l| !l.trim().is_empty())
        .collect();
    let sample = &all[all.len().saturating_sub(lines)..];
    let mut offense = None;
    for (i, line) in sample.iter().enumerate() {
        let why = match serde_json::from_str::<serde_json::Value>(line) {
            Ok(serde_json::Value::Object(map)) => {
                let missing: Vec<&str> = fields
                    .iter()
                    .filter(|f| !map.contains_key(f.as_str()))
                    .map(String::as_str)
                    .collect();
                if missing.is_empty() {
                    continue;
                }
                format!("lacks `{}`", missing.join("`, `"))
            }
            Ok(_) => "is JSON but not an object".to_owned(),
            Err(_) => "is not JSON".to_owned(),
        };
        let shown = redactor.redact(line);
        let shown = match shown.char_indices().nth(200) {
            Some((cut, _)) => format!("{}…", &shown[..cut]),
            None => shown,
        };
        offense = Some((i + 1, why, shown));
        break;
    }
    LogsCheck {
        checked: sample.len(),
        offense,
    }
}

/// A target's output as a [`LogFeed`].
pub struct TargetLogs {
    target: Box<dyn Target>,
}

impl TargetLogs {
    pub fn new(target: Box<dyn Target>) -> TargetLogs {
        TargetLogs { target }
    }
}

#[async_trait]
impl LogFeed for TargetLogs {
    async fn tail(&self, max_bytes: usize) -> Result<Tail, String> {
        let logs = self
            .target
            .logs(max_bytes)
            .await
            .map_err(|e| e.to_string())?;
        Ok(current_run(&logs))
    }

    async fn running_for(&self) -> Option<Duration> {
        let since = self.target.current().await.ok()??.since?;
        (chrono::Utc::now() - since).to_std().ok()
    }
}

#[cfg(test)]
mod tests {
    use runway_config::sources::LogsPolicyConfig;

    use super::*;

    fn fields(f: &[&str]) -> Vec<String> {
        f.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn json_lines_need_every_field_and_the_first_offense_is_named_redacted() {
        let hostaway = fields(&["timestamp", "level", "correlation_id", "message"]);
        let mut redactor = runway_core::Redactor::new();
        redactor.add(&runway_core::Secret::new("hunter2-hunter2"));
        let good = r#"{"timestamp":"2026-12-05T13:00:00Z","level":"INFO","correlation_id":"req-1","message":"ok"}"#;
        let tail = Tail {
            text: format!("{good}\n\n{good}\n"),
            truncated: false,
        };
        let c = check_json_lines(&tail, &hostaway, 200, &redactor);
        assert!(c.ok(), "{c:?}");
        assert_eq!(c.checked, 2);

        let no_id = r#"{"timestamp":"t","level":"INFO","message":"token hunter2-hunter2"}"#;
        let tail = Tail {
            text: format!("{good}\n{no_id}\nplain text\n"),
            truncated: false,
        };
        let c = check_json_lines(&tail, &hostaway, 200, &redactor);
        let (n, why, line) = c.offense.clone().unwrap();
        assert_eq!((n, why.as_str()), (2, "lacks `correlation_id`"));
        assert!(!line.contains("hunter2-hunter2"), "{line}");
        assert!(
            c.summary("x.log")
                .starts_with("line 2 of the last 3 of x.log lacks")
        );
        // The default fields do not ask for `correlation_id`.
        let default = fields(&LogsPolicyConfig::DEFAULT_FIELDS);
        let c = check_json_lines(&tail, &default, 200, &redactor);
        assert_eq!(c.offense.unwrap().1, "is not JSON");
        // Only the newest `lines` are sampled.
        let c = check_json_lines(&tail, &default, 1, &redactor);
        assert_eq!((c.checked, c.offense.unwrap().0), (1, 1));
        let c = check_json_lines(&tail, &default, 2, &redactor);
        assert_eq!(c.offense.unwrap().0, 2);
        // Nothing printed: nothing judged, not a failure.
        let c = check_json_lines(&Tail::default(), &default, 200, &redactor);
        assert!(c.ok() && c.summary("x.log").contains("nothing was judged"));
        assert_eq!(
            check_json_lines(
                &Tail {
                    text: "[1]\n".into(),
                    truncated: false
                },
                &default,
                5,
                &redactor
            )
            .offense
            .unwrap()
            .1,
            "is JSON but not an object"
        );
    }

    #[test]
    fn only_the_running_versions_output_is_read() {
        let logs = Logs {
            source: "x.log".into(),
            version: None,
            text: format!(
                "{RUN_MARKER}staging 1.0.0 ---\nERROR old\n{RUN_MARKER}staging 1.1.0 ---\nINFO new\n"
            ),
            truncated: true,
        };
        assert_eq!(
            current_run(&logs),
            Tail {
                text: "INFO new\n".into(),
                truncated: false
            }
        );
        let container = Logs {
            text: "a\nb\n".into(),
            truncated: true,
            ..logs
        };
        assert_eq!(current_run(&container).text, "a\nb\n");
        assert!(current_run(&container).truncated);
    }
}
