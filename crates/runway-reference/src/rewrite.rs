//! What the reference server adds to rmcp's messages, and the faults that
//! live in the bytes, the same for both transports: HTTP bodies (JSON or SSE
//! `data:` lines) and stdio lines pass through here.
//!
//! Outgoing: every stateless-era result (rmcp marks them with `resultType`)
//! gets `_meta` `io.modelcontextprotocol/serverInfo` (a SHOULD of 2026-07-28
//! basic/index.mdx § `_meta`), unless `no-server-info-meta`; `no-result-type`,
//! `no-cache-hints`, `bad-discover`, `system-role-prompt`,
//! `input-required-undeclared` and `task-undeclared` break results.
//! Incoming: `unsupported-version-accepted`, `meta-not-validated` and
//! `tasks-capability-unchecked` repair a request before rmcp can refuse it.

use serde_json::{Value, json};

use crate::faults::Faults;
use crate::handler::{STATELESS_VERSION, Shared, WRONG_VERSION};

/// The `_meta` keys of 2026-07-28 this module touches.
const PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
/// The Tasks extension's identifier.
const TASKS: &str = "io.modelcontextprotocol/tasks";

/// Rewrites one outgoing JSON-RPC message.
pub(crate) fn outgoing(msg: &mut Value, shared: &Shared) {
    let f = &shared.faults;
    if f.old_resource_not_found
        && msg.pointer("/error/code").and_then(Value::as_i64) == Some(-32602)
        && msg.pointer("/error/data/uri").is_some()
    {
        msg["error"]["code"] = json!(-32002);
    }
    if f.ack_without_subscription_id
        && msg.get("method").and_then(Value::as_str)
            == Some("notifications/subscriptions/acknowledged")
        && let Some(Value::Object(meta)) = msg.pointer_mut("/params/_meta")
    {
        meta.remove("io.modelcontextprotocol/subscriptionId");
    }
    let Some(result) = msg.get_mut("result").and_then(Value::as_object_mut) else {
        return;
    };
    if f.system_role_prompt
        && let Some(Value::Array(messages)) = result.get_mut("messages")
        && let Some(first) = messages.first_mut()
        && first.get("role").is_some()
    {
        first["role"] = json!("system");
    }
    if !result.contains_key("resultType") {
        // A session-era result: nothing of 2026-07-28 to add or break.
        return;
    }
    if f.input_required_undeclared && result.contains_key("content") {
        // A tool result turned into a request for input the client never
        // declared it could give.
        result.clear();
        result.insert("resultType".into(), json!("input_required"));
        result.insert(
            "inputRequests".into(),
            json!({"confirm": {"method": "elicitation/create", "params": {
                "message": "Really?",
                "requestedSchema": {"type": "object", "properties": {}}
            }}}),
        );
    }
    if f.task_undeclared && result.contains_key("content") {
        // A tool result turned into a task handle, though the client never
        // declared the Tasks extension.
        result.clear();
        for (k, v) in [
            ("resultType", json!("task")),
            ("taskId", json!("runway-reference-task")),
            ("status", json!("working")),
            ("createdAt", json!("2026-12-01T00:00:00Z")),
            ("lastUpdatedAt", json!("2026-12-01T00:00:00Z")),
            ("ttlMs", json!(60000)),
        ] {
            result.insert(k.into(), v);
        }
    }
    if !f.no_server_info_meta {
        let version = if f.wrong_version {
            WRONG_VERSION
        } else {
            shared.version.as_str()
        };
        let meta = result.entry("_meta").or_insert_with(|| json!({}));
        if let Value::Object(m) = meta {
            m.insert(
                SERVER_INFO.into(),
                json!({"name": "runway-reference", "version": version}),
            );
        }
    }
    if f.bad_discover && result.contains_key("supportedVersions") {
        result.insert(
            "capabilities".into(),
            json!(["tools", "resources", "prompts"]),
        );
    }
    if f.no_cache_hints {
        result.remove("ttlMs");
        result.remove("cacheScope");
    }
    // The discovery result keeps it: without it rmcp's own client (the
    // stdio handshake) cannot read the result at all.
    if f.no_result_type && !result.contains_key("supportedVersions") {
        result.remove("resultType");
    }
}

/// Rewrites one incoming JSON-RPC message; `true` when it changed.
pub(crate) fn incoming(msg: &mut Value, f: &Faults) -> bool {
    let tasks_method = msg
        .get("method")
        .and_then(Value::as_str)
        .is_some_and(|m| m.starts_with("tasks/"));
    let Some(meta) = msg
        .pointer_mut("/params/_meta")
        .and_then(Value::as_object_mut)
    else {
        return false;
    };
    if !meta.contains_key(PROTOCOL_VERSION) {
        return false;
    }
    let mut changed = false;
    if f.unsupported_version_accepted
        && meta.get(PROTOCOL_VERSION).and_then(Value::as_str) != Some(STATELESS_VERSION)
    {
        meta.insert(PROTOCOL_VERSION.into(), json!(STATELESS_VERSION));
        changed = true;
    }
    if f.meta_not_validated && !meta.contains_key(CLIENT_CAPABILITIES) {
        meta.insert(CLIENT_CAPABILITIES.into(), json!({}));
        changed = true;
    }
    if f.tasks_capability_unchecked && tasks_method {
        // Serve `tasks/*` as if the client had declared the extension.
        let caps = meta.entry(CLIENT_CAPABILITIES).or_insert_with(|| json!({}));
        if let Value::Object(c) = caps {
            let ext = c.entry("extensions").or_insert_with(|| json!({}));
            if let Value::Object(e) = ext
                && !e.contains_key(TASKS)
            {
                e.insert(TASKS.into(), json!({}));
                changed = true;
            }
        }
    }
    changed
}

/// Whether any incoming rewrite is on.
pub(crate) fn rewrites_incoming(f: &Faults) -> bool {
    f.unsupported_version_accepted || f.meta_not_validated || f.tasks_capability_unchecked
}

/// [`outgoing`] over a body or a chunk: one JSON message, or SSE lines whose
/// `data:` holds one. Bytes that are neither pass unchanged.
pub(crate) fn outgoing_bytes(bytes: &[u8], shared: &Shared) -> Vec<u8> {
    let bytes = if shared.faults.bad_annotations {
        crate::tools::mistype_annotations(bytes)
    } else {
        bytes.to_vec()
    };
    if let Ok(mut v) = serde_json::from_slice::<Value>(&bytes) {
        outgoing(&mut v, shared);
        let mut out = v.to_string().into_bytes();
        if bytes.ends_with(b"\n") {
            out.push(b'\n');
        }
        return out;
    }
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return bytes;
    };
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\r', '\n']);
        let end = &line[body.len()..];
        match body.strip_prefix("data:") {
            Some(data) => match serde_json::from_str::<Value>(data.trim_start()) {
                Ok(mut v) => {
                    outgoing(&mut v, shared);
                    out.push_str("data: ");
                    out.push_str(&v.to_string());
                    out.push_str(end);
                }
                Err(_) => out.push_str(line),
            },
            None => out.push_str(line),
        }
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(faults: &str) -> Shared {
        Shared {
            version: "1.2.3".into(),
            faults: Faults::parse(faults).unwrap(),
            era: crate::EraSupport::Both,
            shutdown: tokio_util::sync::CancellationToken::new(),
            calls: Default::default(),
            listings: Default::default(),
            state_key: crate::mrtr::StateKey::random(),
            log_requests: None,
            logged: Default::default(),
            _hog: Vec::new(),
        }
    }

    #[test]
    fn stateless_results_get_server_info_and_session_results_do_not() {
        let s = shared("");
        let mut v =
            json!({"jsonrpc": "2.0", "id": 1, "result": {"resultType": "complete", "tools": []}});
        outgoing(&mut v, &s);
        assert_eq!(v["result"]["_meta"][SERVER_INFO]["version"], "1.2.3");
        let mut v = json!({"jsonrpc": "2.0", "id": 1, "result": {"tools": []}});
        outgoing(&mut v, &s);
        assert!(v["result"].get("_meta").is_none());
    }

    #[test]
    fn sse_data_lines_are_rewritten_in_place() {
        let s = shared("no-cache-hints");
        let sse = b"id: 0\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"resultType\":\"complete\",\"ttlMs\":0,\"cacheScope\":\"public\"}}\n\n";
        let out = String::from_utf8(outgoing_bytes(sse, &s)).unwrap();
        assert!(out.starts_with("id: 0\ndata: {"), "{out}");
        assert!(!out.contains("ttlMs"), "{out}");
        assert!(out.ends_with("}\n\n"), "{out}");
    }

    #[test]
    fn incoming_repairs_only_what_its_faults_allow() {
        let mut v = json!({"params": {"_meta": {PROTOCOL_VERSION: "1999-01-01"}}});
        assert!(!incoming(&mut v, &Faults::default()));
        let f = Faults::parse("unsupported-version-accepted,meta-not-validated").unwrap();
        assert!(incoming(&mut v, &f));
        assert_eq!(v["params"]["_meta"][PROTOCOL_VERSION], STATELESS_VERSION);
        assert_eq!(v["params"]["_meta"][CLIENT_CAPABILITIES], json!({}));
    }
}
