//! The switches that make the reference server misbehave, one per check Runway must catch.
//!
//! Each fault breaks exactly one line of the contract in `REFERENCE_API.md`, so a test
//! can turn one on and assert that the matching check (and only that one) fails.

use std::fmt;

/// Which faults are on. `Faults::default()` is the well-behaved server.
///
/// Field names are the kebab-case fault names in snake case.
#[derive(Default, Clone, Debug, PartialEq, Eq)]
pub struct Faults {
    /// `no-auth`: `/mcp` accepts requests with no token or any token.
    pub no_auth: bool,
    /// `wrong-token-accepted`: any non-empty bearer token is accepted (a missing one is not).
    pub wrong_token_accepted: bool,
    /// `no-www-authenticate`: 401 responses lack `WWW-Authenticate`.
    pub no_www_authenticate: bool,
    /// `token-in-query`: the token is also accepted as `?access_token=`.
    pub token_in_query: bool,
    /// `session-without-token`: a request carrying `Mcp-Session-Id` skips the token check.
    pub session_without_token: bool,
    /// `no-prm`: the protected-resource metadata answers 404.
    pub no_prm: bool,
    /// `wrong-version`: `serverInfo.version` is `0.0.0-wrong`.
    pub wrong_version: bool,
    /// `failing-tool`: `echo` answers `isError: true`.
    pub failing_tool: bool,
    /// `slow-tool=MS`: every tool call is delayed by this many milliseconds.
    pub slow_tool: Option<u64>,
    /// `fail-after=N`: the first N tool calls succeed, every later one fails with
    /// a JSON-RPC internal error: a fault that a first verify passes and only
    /// traffic shows (the deploy demo's bad release).
    pub fail_after: Option<u64>,
    /// `missing-headers`: no security headers on any response.
    pub missing_headers: bool,
    /// `cors-wildcard`: `Access-Control-Allow-Origin: *` with `Access-Control-Allow-Credentials: true`.
    pub cors_wildcard: bool,
    /// `cors-echo`: any `Origin` is echoed in `Access-Control-Allow-Origin`.
    pub cors_echo: bool,
    /// `bad-origin-accepted`: a foreign `Origin` on `/mcp` is not refused with 403.
    pub bad_origin_accepted: bool,
    /// `no-rate-limit`: no 429, however many requests arrive.
    pub no_rate_limit: bool,
    /// `wrong-error-codes`: unknown method answers -32603, malformed JSON answers HTTP 500.
    pub wrong_error_codes: bool,
    /// `broken-pagination`: the last `tools/list` page points back to the first.
    pub broken_pagination: bool,
    /// `bad-input-schema`: one tool's `inputSchema` is not valid JSON Schema.
    pub bad_input_schema: bool,
    /// `bad-output`: `add` returns `structuredContent` that violates its `outputSchema`.
    pub bad_output: bool,
    /// `few-tools`: only 3 tools are listed.
    pub few_tools: bool,
    /// `unhealthy`: `/health` answers 503 `{"status":"unhealthy"}`.
    pub unhealthy: bool,
    /// `not-ready`: `/readyz` answers 503.
    pub not_ready: bool,
    /// `no-metrics`: `/metrics` answers 404.
    pub no_metrics: bool,
    /// `bad-metrics`: `/metrics` is not parseable Prometheus text.
    pub bad_metrics: bool,
    /// `no-session-delete`: `DELETE /mcp` does not end the session.
    pub no_session_delete: bool,
    /// `hang`: `tools/call` is never answered (the server sleeps up to 60 s, or until shutdown).
    pub hang: bool,
    /// `garbage`: `tools/list` answers with bytes that are not JSON.
    pub garbage: bool,
    /// `broken-resource-read`: `resources/read` of a listed resource answers an internal error.
    pub broken_resource_read: bool,
    /// `broken-resource-templates`: `resources/templates/list` answers an internal
    /// error, though `resources` is declared.
    pub broken_resource_templates: bool,
    /// `broken-prompt-get`: `prompts/get` answers an internal error even with every
    /// declared argument.
    pub broken_prompt_get: bool,
    /// `bad-annotations`: `echo`'s `annotations.readOnlyHint` is the string `"yes"`.
    pub bad_annotations: bool,
    /// `stateless-get-stream`: in the stateless era, `GET /mcp` answers 200 with an
    /// event stream instead of 405.
    pub stateless_get_stream: bool,
    /// `no-server-info-meta`: stateless-era results carry no `_meta` `io.modelcontextprotocol/serverInfo`.
    pub no_server_info_meta: bool,
    /// `no-result-type`: stateless-era results other than `server/discover`'s carry no `resultType`.
    pub no_result_type: bool,
    /// `no-cache-hints`: cacheable results (`tools/list`, `server/discover`, ...) carry no `ttlMs` or `cacheScope`.
    pub no_cache_hints: bool,
    /// `bad-discover`: the `server/discover` result's `capabilities` is an array, not an object.
    pub bad_discover: bool,
    /// `header-mismatch-accepted`: `Mcp-Method`/`Mcp-Name` headers are not checked against the body (HTTP).
    pub header_mismatch_accepted: bool,
    /// `unsupported-version-accepted`: a request at a protocol version the server does not support is served as 2026-07-28.
    pub unsupported_version_accepted: bool,
    /// `meta-not-validated`: a stateless request whose `_meta` lacks `clientCapabilities` is served.
    pub meta_not_validated: bool,
    /// `unknown-method-400`: in the stateless era an unknown method answers HTTP 400 instead of 404 (HTTP).
    pub unknown_method_400: bool,
    /// `old-resource-not-found`: a missing resource answers -32002 (the 2025-11-25 code) in both eras.
    pub old_resource_not_found: bool,
    /// `unknown-tool-result`: a call of an unknown tool answers an `isError` result, not -32602.
    pub unknown_tool_result: bool,
    /// `session-id-echoed`: a stateless request's `Mcp-Session-Id` is echoed in the answer (HTTP).
    pub session_id_echoed: bool,
    /// `stateless-delete-accepted`: `DELETE /mcp` without a session answers 200, not 405 (HTTP).
    pub stateless_delete_accepted: bool,
    /// `unknown-session-400`: an unknown `Mcp-Session-Id` answers 400 instead of 404 (HTTP).
    pub unknown_session_400: bool,
    /// `shuffled-tools`: every other `tools/list` gives its page in reverse order.
    pub shuffled_tools: bool,
    /// `crash-on-unknown-method`: an unknown method stops the server (stdio: the process exits; HTTP: the listener closes).
    pub crash_on_unknown_method: bool,
    /// `system-role-prompt`: the `status` prompt's message has the role `system` (only `user`/`assistant` exist).
    pub system_role_prompt: bool,
    /// `ack-without-subscription-id`: the `subscriptions/listen` acknowledgment carries no `_meta` `subscriptionId`.
    pub ack_without_subscription_id: bool,
    /// `log-without-level`: `tools/list` sends a `notifications/message` though the request set no log level.
    pub log_without_level: bool,
    /// `input-required-undeclared`: in the stateless era every tool call answers an `InputRequiredResult` asking for elicitation, whatever the client declared.
    pub input_required_undeclared: bool,
    /// `missing-capability-wrong-code`: `confirm` called by a client that did not declare `elicitation` answers -32600, not -32021 (MissingRequiredClientCapability).
    pub missing_capability_wrong_code: bool,
    /// `request-state-rejected`: `confirm`'s retry is refused though its `requestState` is echoed intact.
    pub request_state_rejected: bool,
    /// `request-state-auth`: a POST whose params carry a `requestState` skips the bearer-token check (HTTP).
    pub request_state_auth: bool,
    /// `tasks-capability-unchecked`: `tasks/*` from a client that did not declare the Tasks extension are served as if it had.
    pub tasks_capability_unchecked: bool,
    /// `unknown-task-served`: `tasks/get` of a task id the server never issued answers a `working` task, not -32602.
    pub unknown_task_served: bool,
    /// `task-undeclared`: in the stateless era every tool call answers a task (`resultType: "task"`), whatever the client declared.
    pub task_undeclared: bool,
    /// `mcp-name-base64-rejected`: an `Mcp-Name` in its Base64 form (`=?base64?...?=`) is compared undecoded and refused with -32020 (HTTP).
    pub mcp_name_base64_rejected: bool,
    /// `log-errors`: every `tools/list` and tool call logs an ERROR line (in
    /// the `--log-requests` format, plain text when none is set), though it
    /// is answered: a release whose errors only its output shows.
    pub log_errors: bool,
    /// `hog-memory=MB`: the server holds this many MiB more of resident
    /// memory from its start (a release that leaks or over-allocates).
    pub hog_memory: Option<u64>,
    /// `reject-tokens=PCT`: a valid token whose [`token_bucket`] is below `PCT` is
    /// refused with 401, as if a release broke validation for that share of users.
    /// Which tokens are refused is fixed by the token, so a probe whose token lands
    /// in the other buckets passes every time while the users behind it do not.
    pub reject_tokens: Option<u8>,
    /// `flaky-tool=PCT`: `PCT` of every 100 `echo` calls answer HTTP 500 with a
    /// JSON-RPC internal error (spread evenly, deterministic); other tools work.
    pub flaky_tool: Option<u8>,
    /// `slow-method=METHOD:MS`: every request of that MCP method (e.g. `tools/call`)
    /// waits `MS` milliseconds before it is answered.
    pub slow_method: Option<(String, u64)>,
}

/// Which of 100 buckets a token falls in (FNV-1a of its bytes), for `reject-tokens`.
pub fn token_bucket(token: &str) -> u8 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in token.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % 100) as u8
}

/// Whether the `n`-th event (0-based) is one of the `pct` in every 100, spread evenly.
pub(crate) fn in_share(n: u64, pct: u8) -> bool {
    let pct = u64::from(pct.min(100));
    (n + 1) * pct / 100 != n * pct / 100
}

/// Accessors for every boolean fault, in the order of [`Faults::NAMES`] (minus the ones that take a value).
type Flag = fn(&mut Faults) -> &mut bool;

const FLAGS: &[(&str, Flag)] = &[
    ("no-auth", |f| &mut f.no_auth),
    ("wrong-token-accepted", |f| &mut f.wrong_token_accepted),
    ("no-www-authenticate", |f| &mut f.no_www_authenticate),
    ("token-in-query", |f| &mut f.token_in_query),
    ("session-without-token", |f| &mut f.session_without_token),
    ("no-prm", |f| &mut f.no_prm),
    ("wrong-version", |f| &mut f.wrong_version),
    ("failing-tool", |f| &mut f.failing_tool),
    ("missing-headers", |f| &mut f.missing_headers),
    ("cors-wildcard", |f| &mut f.cors_wildcard),
    ("cors-echo", |f| &mut f.cors_echo),
    ("bad-origin-accepted", |f| &mut f.bad_origin_accepted),
    ("no-rate-limit", |f| &mut f.no_rate_limit),
    ("wrong-error-codes", |f| &mut f.wrong_error_codes),
    ("broken-pagination", |f| &mut f.broken_pagination),
    ("bad-input-schema", |f| &mut f.bad_input_schema),
    ("bad-output", |f| &mut f.bad_output),
    ("few-tools", |f| &mut f.few_tools),
    ("unhealthy", |f| &mut f.unhealthy),
    ("not-ready", |f| &mut f.not_ready),
    ("no-metrics", |f| &mut f.no_metrics),
    ("bad-metrics", |f| &mut f.bad_metrics),
    ("no-session-delete", |f| &mut f.no_session_delete),
    ("hang", |f| &mut f.hang),
    ("garbage", |f| &mut f.garbage),
    ("broken-resource-read", |f| &mut f.broken_resource_read),
    ("broken-resource-templates", |f| {
        &mut f.broken_resource_templates
    }),
    ("broken-prompt-get", |f| &mut f.broken_prompt_get),
    ("bad-annotations", |f| &mut f.bad_annotations),
    ("stateless-get-stream", |f| &mut f.stateless_get_stream),
    ("no-server-info-meta", |f| &mut f.no_server_info_meta),
    ("no-result-type", |f| &mut f.no_result_type),
    ("no-cache-hints", |f| &mut f.no_cache_hints),
    ("bad-discover", |f| &mut f.bad_discover),
    ("header-mismatch-accepted", |f| {
        &mut f.header_mismatch_accepted
    }),
    ("unsupported-version-accepted", |f| {
        &mut f.unsupported_version_accepted
    }),
    ("meta-not-validated", |f| &mut f.meta_not_validated),
    ("unknown-method-400", |f| &mut f.unknown_method_400),
    ("old-resource-not-found", |f| &mut f.old_resource_not_found),
    ("unknown-tool-result", |f| &mut f.unknown_tool_result),
    ("session-id-echoed", |f| &mut f.session_id_echoed),
    ("stateless-delete-accepted", |f| {
        &mut f.stateless_delete_accepted
    }),
    ("unknown-session-400", |f| &mut f.unknown_session_400),
    ("shuffled-tools", |f| &mut f.shuffled_tools),
    ("crash-on-unknown-method", |f| {
        &mut f.crash_on_unknown_method
    }),
    ("system-role-prompt", |f| &mut f.system_role_prompt),
    ("ack-without-subscription-id", |f| {
        &mut f.ack_without_subscription_id
    }),
    ("log-without-level", |f| &mut f.log_without_level),
    ("input-required-undeclared", |f| {
        &mut f.input_required_undeclared
    }),
    ("missing-capability-wrong-code", |f| {
        &mut f.missing_capability_wrong_code
    }),
    ("request-state-rejected", |f| &mut f.request_state_rejected),
    ("request-state-auth", |f| &mut f.request_state_auth),
    ("tasks-capability-unchecked", |f| {
        &mut f.tasks_capability_unchecked
    }),
    ("unknown-task-served", |f| &mut f.unknown_task_served),
    ("task-undeclared", |f| &mut f.task_undeclared),
    ("mcp-name-base64-rejected", |f| {
        &mut f.mcp_name_base64_rejected
    }),
    ("log-errors", |f| &mut f.log_errors),
];

const SLOW_TOOL: &str = "slow-tool";
const HOG_MEMORY: &str = "hog-memory";
const FAIL_AFTER: &str = "fail-after";
const REJECT_TOKENS: &str = "reject-tokens";
const FLAKY_TOOL: &str = "flaky-tool";
const SLOW_METHOD: &str = "slow-method";

/// Parses the `PCT` of `name=PCT` (0-100).
fn percent(name: &str, item: &str, value: Option<&str>) -> Result<u8, String> {
    value
        .ok_or_else(|| format!("fault `{name}` needs a percentage, e.g. `{name}=30`"))?
        .parse::<u8>()
        .ok()
        .filter(|p| *p <= 100)
        .ok_or_else(|| format!("fault `{item}` needs a whole percentage 0-100, e.g. `{name}=30`"))
}

/// Parses the `METHOD:MS` of `slow-method=METHOD:MS`.
fn method_delay(item: &str, value: Option<&str>) -> Result<(String, u64), String> {
    let example = "e.g. `slow-method=tools/call:800`";
    let value = value
        .ok_or_else(|| format!("fault `slow-method` needs a method and milliseconds, {example}"))?;
    let (method, ms) = value
        .rsplit_once(':')
        .ok_or_else(|| format!("fault `{item}` needs `METHOD:MS`, {example}"))?;
    let ms = ms
        .trim()
        .parse::<u64>()
        .map_err(|_| format!("fault `{item}` needs a whole number of milliseconds, {example}"))?;
    let method = method.trim();
    if method.is_empty() {
        return Err(format!("fault `{item}` names no method, {example}"));
    }
    Ok((method.to_owned(), ms))
}

/// Why a `--faults` list is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    #[error("unknown fault `{item}`; valid faults: {}", Faults::NAMES.join(", "))]
    Unknown { item: String },
    #[error("fault `{name}` takes no value (got `{item}`)")]
    NoValue { name: String, item: String },
    /// A fault that takes a value got none or a bad one: what it needs.
    #[error("{0}")]
    Value(String),
}

impl Faults {
    /// Every fault name, kebab-case. Five take a value: `slow-tool=MS`, `fail-after=N`,
    /// `reject-tokens=PCT`, `flaky-tool=PCT`, `slow-method=METHOD:MS`.
    pub const NAMES: &'static [&'static str] = &[
        "no-auth",
        "wrong-token-accepted",
        "no-www-authenticate",
        "token-in-query",
        "session-without-token",
        "no-prm",
        "wrong-version",
        "failing-tool",
        "slow-tool",
        "fail-after",
        "missing-headers",
        "cors-wildcard",
        "cors-echo",
        "bad-origin-accepted",
        "no-rate-limit",
        "wrong-error-codes",
        "broken-pagination",
        "bad-input-schema",
        "bad-output",
        "few-tools",
        "unhealthy",
        "not-ready",
        "no-metrics",
        "bad-metrics",
        "no-session-delete",
        "hang",
        "garbage",
        "broken-resource-read",
        "broken-resource-templates",
        "broken-prompt-get",
        "bad-annotations",
        "stateless-get-stream",
        "no-server-info-meta",
        "no-result-type",
        "no-cache-hints",
        "bad-discover",
        "header-mismatch-accepted",
        "unsupported-version-accepted",
        "meta-not-validated",
        "unknown-method-400",
        "old-resource-not-found",
        "unknown-tool-result",
        "session-id-echoed",
        "stateless-delete-accepted",
        "unknown-session-400",
        "shuffled-tools",
        "crash-on-unknown-method",
        "system-role-prompt",
        "ack-without-subscription-id",
        "log-without-level",
        "input-required-undeclared",
        "missing-capability-wrong-code",
        "request-state-rejected",
        "request-state-auth",
        "tasks-capability-unchecked",
        "unknown-task-served",
        "task-undeclared",
        "mcp-name-base64-rejected",
        "log-errors",
        "hog-memory",
        "reject-tokens",
        "flaky-tool",
        "slow-method",
    ];

    /// Parses a comma-separated list such as `no-auth,slow-tool=1500`.
    ///
    /// Blank items are ignored, so `""` is the well-behaved server. The error names the bad
    /// item and lists the valid names.
    pub fn parse(list: &str) -> Result<Faults, FaultError> {
        let mut faults = Faults::default();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, value) = match item.split_once('=') {
                Some((n, v)) => (n.trim(), Some(v.trim())),
                None => (item, None),
            };
            if name == SLOW_TOOL {
                let ms = value
                    .ok_or_else(|| {
                        FaultError::Value(
                            "fault `slow-tool` needs a delay in milliseconds, e.g. `slow-tool=1500`"
                                .to_owned(),
                        )
                    })?
                    .parse::<u64>()
                    .map_err(|_| {
                        FaultError::Value(format!(
                            "fault `{item}` needs a whole number of milliseconds, e.g. `slow-tool=1500`"
                        ))
                    })?;
                faults.slow_tool = Some(ms);
                continue;
            }
            if name == FAIL_AFTER {
                let n = value
                    .ok_or_else(|| {
                        FaultError::Value(
                            "fault `fail-after` needs a number of tool calls, e.g. `fail-after=5`"
                                .to_owned(),
                        )
                    })?
                    .parse::<u64>()
                    .map_err(|_| {
                        FaultError::Value(format!(
                            "fault `{item}` needs a whole number of tool calls, e.g. `fail-after=5`"
                        ))
                    })?;
                faults.fail_after = Some(n);
                continue;
            }
            if name == HOG_MEMORY {
                let mb = value
                    .and_then(|v| v.parse::<u64>().ok())
                    .filter(|mb| (1..=4096).contains(mb))
                    .ok_or_else(|| {
                        FaultError::Value(format!(
                            "fault `{item}` needs a whole number of MiB, 1-4096, e.g. `hog-memory=200`"
                        ))
                    })?;
                faults.hog_memory = Some(mb);
                continue;
            }
            if name == REJECT_TOKENS {
                faults.reject_tokens = Some(percent(name, item, value).map_err(FaultError::Value)?);
                continue;
            }
            if name == FLAKY_TOOL {
                faults.flaky_tool = Some(percent(name, item, value).map_err(FaultError::Value)?);
                continue;
            }
            if name == SLOW_METHOD {
                faults.slow_method = Some(method_delay(item, value).map_err(FaultError::Value)?);
                continue;
            }
            let Some((_, flag)) = FLAGS.iter().find(|(n, _)| *n == name) else {
                return Err(FaultError::Unknown {
                    item: item.to_owned(),
                });
            };
            if value.is_some() {
                return Err(FaultError::NoValue {
                    name: name.to_owned(),
                    item: item.to_owned(),
                });
            }
            *flag(&mut faults) = true;
        }
        Ok(faults)
    }

    /// The names of the faults that are on, in [`Faults::NAMES`] order (`slow-tool=MS` with its value).
    pub fn enabled(&self) -> Vec<String> {
        let mut copy = self.clone();
        let mut out = Vec::new();
        for name in Self::NAMES {
            if *name == SLOW_TOOL {
                if let Some(ms) = self.slow_tool {
                    out.push(format!("{SLOW_TOOL}={ms}"));
                }
                continue;
            }
            if *name == FAIL_AFTER {
                if let Some(n) = self.fail_after {
                    out.push(format!("{FAIL_AFTER}={n}"));
                }
                continue;
            }
            match *name {
                HOG_MEMORY => {
                    if let Some(mb) = self.hog_memory {
                        out.push(format!("{HOG_MEMORY}={mb}"));
                    }
                    continue;
                }
                REJECT_TOKENS => {
                    if let Some(p) = self.reject_tokens {
                        out.push(format!("{REJECT_TOKENS}={p}"));
                    }
                    continue;
                }
                FLAKY_TOOL => {
                    if let Some(p) = self.flaky_tool {
                        out.push(format!("{FLAKY_TOOL}={p}"));
                    }
                    continue;
                }
                SLOW_METHOD => {
                    if let Some((m, ms)) = &self.slow_method {
                        out.push(format!("{SLOW_METHOD}={m}:{ms}"));
                    }
                    continue;
                }
                _ => {}
            }
            if let Some((_, flag)) = FLAGS.iter().find(|(n, _)| n == name)
                && *flag(&mut copy)
            {
                out.push((*name).to_owned());
            }
        }
        out
    }

    /// True when no fault is on.
    pub fn is_empty(&self) -> bool {
        *self == Faults::default()
    }
}

/// The same list [`Faults::parse`] reads, so a value round-trips.
impl fmt::Display for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.enabled().join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_alone_and_turns_exactly_one_fault_on() {
        for name in Faults::NAMES {
            let item = match *name {
                "slow-tool" => "slow-tool=10".to_owned(),
                "fail-after" => "fail-after=3".to_owned(),
                "reject-tokens" => "reject-tokens=30".to_owned(),
                "flaky-tool" => "flaky-tool=20".to_owned(),
                "slow-method" => "slow-method=tools/call:800".to_owned(),
                "hog-memory" => "hog-memory=200".to_owned(),
                _ => (*name).to_owned(),
            };
            let faults = Faults::parse(&item).unwrap();
            assert_eq!(faults.enabled(), vec![item.clone()], "{item}");
        }
        assert_eq!(FLAGS.len() + 6, Faults::NAMES.len());
    }

    #[test]
    fn a_list_round_trips_through_display() {
        let faults = Faults::parse(" no-auth , slow-tool=1500,garbage,fail-after=0").unwrap();
        assert!(faults.no_auth && faults.garbage);
        assert_eq!(faults.slow_tool, Some(1500));
        assert_eq!(faults.fail_after, Some(0));
        assert_eq!(Faults::parse(&faults.to_string()).unwrap(), faults);
        assert!(Faults::parse("").unwrap().is_empty());
    }

    #[test]
    fn an_unknown_fault_is_named_and_the_valid_ones_listed() {
        let err = Faults::parse("no-auth,nope").unwrap_err().to_string();
        assert!(err.contains("`nope`"), "{err}");
        assert!(
            err.contains("wrong-token-accepted") && err.contains("garbage"),
            "{err}"
        );
    }

    #[test]
    fn traffic_faults_need_their_values() {
        assert!(
            Faults::parse("reject-tokens")
                .unwrap_err()
                .to_string()
                .contains("percentage")
        );
        assert!(
            Faults::parse("reject-tokens=130")
                .unwrap_err()
                .to_string()
                .contains("0-100")
        );
        assert!(
            Faults::parse("slow-method=tools/call")
                .unwrap_err()
                .to_string()
                .contains("METHOD:MS")
        );
        assert!(
            Faults::parse("slow-method=:5")
                .unwrap_err()
                .to_string()
                .contains("no method")
        );
        let f = Faults::parse("slow-method=tools/call:250,flaky-tool=0").unwrap();
        assert_eq!(f.slow_method, Some(("tools/call".to_owned(), 250)));
        assert_eq!(Faults::parse(&f.to_string()).unwrap(), f);
    }

    #[test]
    fn a_share_is_spread_evenly_and_exact_per_hundred() {
        for pct in [0u8, 1, 30, 50, 99, 100] {
            let hits = (0..1000).filter(|n| in_share(*n, pct)).count();
            assert_eq!(hits, usize::from(pct) * 10, "{pct}");
            let first = (0..100).filter(|n| in_share(*n, pct)).count();
            assert_eq!(first, usize::from(pct), "{pct}");
        }
        // 30%: never more than one in a row.
        assert!(!(0..100).any(|n| in_share(n, 30) && in_share(n + 1, 30)));
    }

    #[test]
    fn token_buckets_are_stable_and_spread() {
        assert_eq!(token_bucket("user-1"), token_bucket("user-1"));
        let below_30 = (0..1000)
            .filter(|i| token_bucket(&format!("user-{i}")) < 30)
            .count();
        assert!((230..370).contains(&below_30), "{below_30}");
    }

    #[test]
    fn slow_tool_needs_a_number_and_others_take_no_value() {
        assert!(
            Faults::parse("slow-tool")
                .unwrap_err()
                .to_string()
                .contains("milliseconds")
        );
        assert!(
            Faults::parse("slow-tool=fast")
                .unwrap_err()
                .to_string()
                .contains("slow-tool=fast")
        );
        assert!(
            Faults::parse("hang=1")
                .unwrap_err()
                .to_string()
                .contains("takes no value")
        );
    }
}
