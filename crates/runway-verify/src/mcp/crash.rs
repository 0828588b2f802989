//! A probe that takes the server down. One unknown method that kills the
//! process must read as one failure naming the crash and the probe that
//! caused it (`mcp.crash`), not as eight unrelated defects: the checks whose
//! requests met the dead server afterwards are reported as consequences.

use std::time::Duration;

use runway_core::{CheckResult, Status};
use serde_json::json;

use super::{Conn, Connected};

/// Why the server is gone, if it is: the stdio child exited (or closed its
/// stdout), or nothing listens any more on the HTTP endpoint's port.
pub(super) async fn crashed(c: &mut Connected) -> Option<String> {
    match &mut c.conn {
        Conn::Sdk(s) => {
            let child = s.child.as_ref()?;
            // A child that is dying may need a moment to be reaped.
            let seen = child.settle(Duration::from_millis(50)).await;
            if seen.exit.is_none() && !seen.stdout_closed {
                return None;
            }
            let mut why = match &seen.exit {
                Some(e) => format!("the process exited ({e})"),
                None => "the process closed its stdout".to_owned(),
            };
            if let Some(tail) = seen.stderr_summary(3) {
                why.push_str(&format!("; stderr: {tail}"));
            }
            Some(why)
        }
        Conn::Http(h) => {
            let host = h
                .url
                .host_str()?
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned();
            let port = h.url.port_or_known_default()?;
            let limit = Duration::from_secs(2);
            let addrs: Vec<std::net::SocketAddr> =
                tokio::time::timeout(limit, tokio::net::lookup_host((host.as_str(), port)))
                    .await
                    .ok()?
                    .ok()?
                    .collect();
            let mut refused = false;
            for addr in addrs {
                match tokio::time::timeout(limit, tokio::net::TcpStream::connect(addr)).await {
                    Ok(Ok(_)) => {
                        refused = false;
                        break;
                    }
                    Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                        refused = true
                    }
                    _ => return None,
                }
            }
            if refused {
                return Some(format!("nothing listens on {host}:{port} any more"));
            }
            // Still listening, but is it serving? A server whose MCP side died
            // answers everything with a 5xx or drops the connection. Any
            // answer below 500 (a -32601 for `ping` in the stateless era
            // included) means it is alive.
            let reply = h.rpc("ping", serde_json::json!({})).await;
            let stateless = matches!(h.era, runway_core::Era::Stateless { .. });
            match (reply.evidence.status, &reply.outcome) {
                (_, Ok(_)) => return None,
                (Some(s), _) if s < 500 && stateless => return None,
                _ => {}
            }
            // The session may just be gone: a new connection tells.
            let mut again = h.fresh();
            let choice = if stateless {
                crate::context::EraChoice::Stateless
            } else {
                crate::context::EraChoice::Session
            };
            let verdict = match again.handshake(choice).await {
                Ok(_) => None,
                Err(f) => match f.evidence.status {
                    Some(s) if s >= 500 => Some(format!(
                        "it now answers HTTP {s} to everything (a new handshake got {s})"
                    )),
                    None => Some(format!("it no longer answers ({})", f.message)),
                    _ => None,
                },
            };
            again.end_session().await;
            verdict
        }
    }
}

/// Rewrites `batch` (the checks of the step during which the server died)
/// and returns the one `mcp.crash` failure. The probe that killed it is the
/// first check of the batch that did not pass (else the last one); it and
/// every failing check after it become consequences of the crash.
pub(super) fn attribute(batch: &mut [CheckResult], why: &str) -> CheckResult {
    let trigger = batch
        .iter()
        .position(|c| matches!(c.status, Status::Fail | Status::Warn))
        .or_else(|| batch.len().checked_sub(1));
    let Some(t) = trigger else {
        return CheckResult::fail(
            "mcp.crash",
            format!("the server died during the MCP checks: {why}"),
            "a request must never take the server down: answer what you cannot handle with a JSON-RPC error",
        );
    };
    let trigger_id = batch[t].id.clone();
    let request = batch[t].evidence.request.clone();
    for c in batch.iter_mut().skip(t) {
        if matches!(c.status, Status::Fail | Status::Warn) || c.id == trigger_id {
            c.message = if c.id == trigger_id {
                format!(
                    "the server died on this probe (see `mcp.crash`): {}",
                    c.message
                )
            } else {
                format!("consequence of the crash on `{trigger_id}`: {}", c.message)
            };
            c.status = Status::Skip;
            c.hint = None;
        }
    }
    let mut r = CheckResult::fail(
        "mcp.crash",
        format!(
            "the server died on the `{trigger_id}` probe: {why}; the MCP checks after it did not run"
        ),
        "a request must never take the server down: answer what you cannot handle with a JSON-RPC error (and keep serving)",
    );
    r.evidence.request = request;
    r.evidence.details = json!({"probe": trigger_id, "cause": why});
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_failure_names_the_probe_and_later_failures_are_consequences() {
        let mut batch = vec![
            CheckResult::pass("mcp.errors.parse", "ok"),
            CheckResult::fail("mcp.errors.method_not_found", "connection reset", "h"),
            CheckResult::fail("mcp.errors.invalid_params", "connection refused", "h"),
        ];
        let crash = attribute(&mut batch, "the process exited (exit status 1)");
        assert_eq!(crash.id, "mcp.crash");
        assert_eq!(crash.status, Status::Fail);
        assert!(
            crash.message.contains("`mcp.errors.method_not_found`"),
            "{}",
            crash.message
        );
        assert_eq!(batch[0].status, Status::Pass);
        assert_eq!(batch[1].status, Status::Skip);
        assert!(
            batch[2]
                .message
                .starts_with("consequence of the crash on `mcp.errors.method_not_found`")
        );
        assert!(batch.iter().all(|c| c.status != Status::Fail));
    }
}
