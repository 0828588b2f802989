//! Arbitrary bytes as an HTTP response body under each content type the MCP
//! client accepts: decoding must return messages or an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runway_verify::mcp::wire;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let content_type = match selector % 4 {
        0 => Some("text/event-stream"),
        1 => Some("application/json"),
        2 => Some("application/json; charset=utf-8"),
        _ => None,
    };
    if let Ok(messages) = wire::decode_body(content_type, body) {
        let _ = wire::response_for(&messages, &json!(1));
        for m in &messages {
            let _ = m.id();
        }
    }
});
