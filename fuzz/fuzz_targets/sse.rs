//! Arbitrary bytes as an SSE stream: the parser must not panic, what it
//! reports as incomplete must lie within the input, and no event's data may
//! hold a CR (a line terminator in SSE).
#![no_main]

use libfuzzer_sys::fuzz_target;
use runway_verify::mcp::wire;

fuzz_target!(|data: &[u8]| {
    let parsed = wire::parse_sse(data);
    assert!(parsed.incomplete <= data.len());
    for ev in &parsed.events {
        assert!(!ev.data.contains('\r'));
    }
    let _ = wire::legacy_endpoint(data);
});
