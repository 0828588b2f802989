//! One line of output per `tools/list` and tool call, when asked
//! (`Options::log_requests`, `runway serve-reference --log-requests`): the
//! server output that Runway's `logs` check and `logs` analysis source read.

use std::io::Write as _;

/// How each request is logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `2026-12-05T13:00:00.000Z INFO req-1 tools/list served`
    Text,
    /// `{"timestamp":"...","level":"INFO","correlation_id":"req-1","message":"tools/list served"}`
    Json,
}

/// One log line (without its newline).
pub fn line(format: LogFormat, level: &str, correlation_id: &str, message: &str) -> String {
    let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    match format {
        LogFormat::Text => format!("{timestamp} {level} {correlation_id} {message}"),
        LogFormat::Json => serde_json::json!({
            "timestamp": timestamp,
            "level": level,
            "correlation_id": correlation_id,
            "message": message,
        })
        .to_string(),
    }
}

/// Writes one line to stdout (errors ignored: logging never fails a request).
pub fn emit(format: LogFormat, level: &str, correlation_id: &str, message: &str) {
    let text = line(format, level, correlation_id, message);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_carry_the_four_fields() {
        let l = line(LogFormat::Json, "ERROR", "req-7", "tools/call echo");
        let v: serde_json::Value = serde_json::from_str(&l).unwrap();
        for k in ["timestamp", "level", "correlation_id", "message"] {
            assert!(v.get(k).is_some(), "{k} in {l}");
        }
        assert_eq!(v["level"], "ERROR");
        let t = line(LogFormat::Text, "INFO", "req-1", "tools/list");
        assert!(t.ends_with(" INFO req-1 tools/list"), "{t}");
        assert!(serde_json::from_str::<serde_json::Value>(&t).is_err());
    }
}
