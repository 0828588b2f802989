//! Why a JSON-RPC call of the raw client produced no usable result.

use std::time::Duration;

use serde_json::Value;

use super::wire::DecodeError;

/// Why a JSON-RPC call produced no usable result.
#[derive(Debug, Clone)]
pub enum RpcFailure {
    Transport(String),
    Timeout(Duration),
    Status(u16),
    Decode(DecodeError),
    /// The body parsed but held no response for our request id.
    NoResponse,
    /// HTTP 429 to Runway's own request, after one retry: no verdict.
    RateLimited,
    /// A JSON-RPC error came back, but with an id that is not the request's.
    WrongId {
        id: Value,
        code: i64,
        message: String,
    },
    Error {
        code: i64,
        message: String,
        data: Option<Value>,
    },
}

impl std::fmt::Display for RpcFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RpcFailure::Transport(e) => write!(f, "{e}"),
            RpcFailure::Timeout(d) => write!(f, "no answer within {} ms", d.as_millis()),
            RpcFailure::Status(s) => write!(f, "HTTP {s}"),
            RpcFailure::Decode(e) => write!(f, "{e}"),
            RpcFailure::NoResponse => f.write_str("the body held no JSON-RPC response to our id"),
            RpcFailure::WrongId { id, code, message } => write!(
                f,
                "JSON-RPC error {code} ({message}) with id {id}, not the request's"
            ),
            RpcFailure::RateLimited => {
                f.write_str("HTTP 429: the server rate-limited Runway's requests (retried once)")
            }
            RpcFailure::Error { code, message, .. } => {
                write!(f, "JSON-RPC error {code}: {message}")
            }
        }
    }
}
