//! `confirm`, the tool that asks its caller for input the 2026-07-28 way:
//! multi round-trip requests (basic/patterns/mrtr.mdx). It needs the
//! `elicitation` client capability: a request that does not declare it gets
//! -32021 (MissingRequiredClientCapability) naming it; one that does gets an
//! `InputRequiredResult` with one `elicitation/create` and a sealed
//! `requestState`; the retry carrying the answer and that state, echoed
//! intact, gets the result.
//!
//! The state is the request it belongs to (tool, action) and an expiry,
//! sealed with HMAC-SHA256 under a key made when the server starts: the
//! server keeps nothing between the rounds, and a state that was altered,
//! expired or belongs to another request is refused (mrtr.mdx § Server
//! Requirements: `requestState` is attacker-controlled input). It proves
//! nothing about who sends it: the bearer token is checked on every round.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rmcp::ErrorData as McpError;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ClientCapabilities, ContentBlock,
    ElicitationCapability, InputRequest, InputRequests, InputRequiredResult, JsonObject,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::faults::Faults;

/// The tool's name.
pub const CONFIRM: &str = "confirm";

/// The key of the one input request `confirm` makes.
const ASK: &str = "confirm";

/// How long a sealed state stays good.
const STATE_TTL: Duration = Duration::from_secs(300);

/// The key `requestState` is sealed with; one per server run.
#[derive(Clone)]
pub(crate) struct StateKey([u8; 32]);

impl std::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateKey(..)")
    }
}

impl StateKey {
    /// A fresh key from two random UUIDs (v4: 122 random bits each).
    pub fn random() -> StateKey {
        let mut k = [0u8; 32];
        k[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        k[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        StateKey(k)
    }

    fn mac(&self, msg: &[u8]) -> [u8; 32] {
        hmac_sha256(&self.0, msg)
    }

    /// `rs1.<payload hex>.<mac hex>`: the payload readable, its integrity sealed.
    pub fn seal(&self, payload: &Value) -> String {
        let body = payload.to_string();
        format!(
            "rs1.{}.{}",
            hex(body.as_bytes()),
            hex(&self.mac(body.as_bytes()))
        )
    }

    /// The payload of a state this key sealed, if it is intact.
    pub fn open(&self, state: &str) -> Option<Value> {
        let rest = state.strip_prefix("rs1.")?;
        let (body, mac) = rest.split_once('.')?;
        let body = unhex(body)?;
        let want = hex(&self.mac(&body));
        // Compare every byte, whatever the first difference.
        let same = want.len() == mac.len()
            && want
                .bytes()
                .zip(mac.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        same.then(|| serde_json::from_slice(&body).ok())?
    }
}

/// HMAC (RFC 2104) over SHA-256.
fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&ipad)
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize()
        .into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `confirm`'s definition: one required string, `action`.
pub fn definition() -> rmcp::model::Tool {
    let schema = json!({
        "type": "object",
        "properties": {"action": {"type": "string", "description": "what to ask the user to confirm"}},
        "required": ["action"],
        "additionalProperties": false,
    });
    let Value::Object(map) = schema else {
        unreachable!("a literal object")
    };
    rmcp::model::Tool::new(
        CONFIRM,
        "Asks the user to confirm an action (elicitation through multi round-trip requests), then says whether they did",
        std::sync::Arc::new(map),
    )
}

fn text(s: String) -> CallToolResponse {
    CallToolResult::success(vec![ContentBlock::text(s)]).into()
}

/// One round of `confirm`. `stateless`: the request is of 2026-07-28 or later;
/// `caps`: the client capabilities the request declared.
pub(crate) fn call(
    params: &CallToolRequestParams,
    stateless: bool,
    caps: Option<&ClientCapabilities>,
    key: &StateKey,
    faults: &Faults,
) -> Result<CallToolResponse, McpError> {
    let action = params
        .arguments
        .as_ref()
        .and_then(|a: &JsonObject| a.get("action"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            McpError::invalid_params("tool `confirm` needs a string argument `action`", None)
        })?
        .to_owned();
    if !stateless {
        // The session era asks with a server-to-client request, which this
        // server does not send.
        return Ok(text(format!(
            "not confirmed: `{action}` (no way to ask this client)"
        )));
    }
    if caps.is_none_or(|c| c.elicitation.is_none()) {
        if faults.missing_capability_wrong_code {
            return Err(McpError::invalid_request(
                "tool `confirm` cannot ask this client (the `missing-capability-wrong-code` fault)",
                None,
            ));
        }
        let mut need = ClientCapabilities::default();
        need.elicitation = Some(ElicitationCapability::default());
        return Err(McpError::missing_required_client_capability(need));
    }
    let answer = params
        .input_responses
        .as_ref()
        .and_then(|r| r.get(ASK).cloned());
    match (&params.request_state, answer) {
        (Some(state), Some(answer)) => {
            if faults.request_state_rejected {
                return Err(McpError::invalid_params(
                    "`requestState` failed verification (the `request-state-rejected` fault)",
                    None,
                ));
            }
            let payload = key.open(state).filter(|p| {
                p["tool"] == CONFIRM
                    && p["action"] == action.as_str()
                    && p["exp"].as_u64().is_some_and(|exp| exp >= now_secs())
            });
            if payload.is_none() {
                return Err(McpError::invalid_params(
                    "`requestState` failed verification: altered, expired, or not this request's",
                    None,
                ));
            }
            let confirmed = answer["action"] == "accept" && answer["content"]["confirm"] == true;
            Ok(text(if confirmed {
                format!("confirmed: `{action}`")
            } else {
                format!("not confirmed: `{action}`")
            }))
        }
        // The first round, or a retry that lacks the answer: ask (again).
        _ => ask(&action, key),
    }
}

fn ask(action: &str, key: &StateKey) -> Result<CallToolResponse, McpError> {
    let request: InputRequest = serde_json::from_value(json!({
        "method": "elicitation/create",
        "params": {
            "mode": "form",
            "message": format!("Confirm `{action}`?"),
            "requestedSchema": {
                "type": "object",
                "properties": {"confirm": {"type": "boolean", "title": "Confirm"}},
                "required": ["confirm"],
            },
        },
    }))
    .map_err(|e| McpError::internal_error(format!("building the input request: {e}"), None))?;
    let mut requests = InputRequests::new();
    requests.insert(ASK.to_owned(), request);
    let state = key.seal(&json!({
        "tool": CONFIRM,
        "action": action,
        "exp": now_secs() + STATE_TTL.as_secs(),
    }));
    let mut result: InputRequiredResult = serde_json::from_value(json!({
        "resultType": "input_required",
        "requestState": state,
    }))
    .map_err(|e| McpError::internal_error(format!("building the result: {e}"), None))?;
    result.input_requests = Some(requests);
    Ok(result.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_sealed_state_opens_only_intact_and_under_its_key() {
        let key = StateKey::random();
        let state = key.seal(&json!({"tool": "confirm", "action": "x"}));
        assert_eq!(key.open(&state).unwrap()["action"], "x");
        let mut altered = state.clone();
        altered.replace_range(5..6, if &state[5..6] == "7" { "8" } else { "7" });
        assert!(key.open(&altered).is_none());
        assert!(StateKey::random().open(&state).is_none());
        assert!(key.open("rs1.zz.00").is_none());
    }
}
