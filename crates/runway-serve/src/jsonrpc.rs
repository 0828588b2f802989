//! The JSON-RPC envelope of a message POSTed to an MCP endpoint, checked
//! before the SDK sees it: an SDK's transport answers malformed JSON or a
//! batch with a bare 415, where a client needs HTTP 400 and a JSON-RPC error
//! (-32700 parse error, -32600 invalid request) it can read.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};

/// JSON-RPC's parse error.
pub const PARSE_ERROR: i32 = -32700;
/// JSON-RPC's invalid request.
pub const INVALID_REQUEST: i32 = -32600;

/// Largest message read (rmcp's own default).
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// A JSON-RPC error response: `{"jsonrpc":"2.0","id":ID,"error":{...}}`.
pub fn error(status: StatusCode, id: Value, code: i32, message: &str) -> Response {
    let body = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// Checks the JSON-RPC 2.0 envelope. `Ok(Some(method))` for requests and
/// notifications, `Ok(None)` for a response to a server request,
/// `Err(reason)` for an invalid request (a batch among them: no MCP version
/// Runway serves allows one).
pub fn classify(value: &Value) -> Result<Option<&str>, &'static str> {
    let Some(obj) = value.as_object() else {
        return Err(if value.is_array() {
            "Invalid Request: batches are not supported"
        } else {
            "Invalid Request: not a JSON-RPC object"
        });
    };
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err("Invalid Request: `jsonrpc` must be \"2.0\"");
    }
    if let Some(id) = obj.get("id")
        && !(id.is_string() || id.is_i64() || id.is_u64())
    {
        return Err("Invalid Request: `id` must be a string or an integer");
    }
    match obj.get("method") {
        Some(Value::String(m)) => Ok(Some(m)),
        Some(_) => Err("Invalid Request: `method` must be a string"),
        None if obj.contains_key("id")
            && (obj.contains_key("result") || obj.contains_key("error")) =>
        {
            Ok(None)
        }
        None => Err("Invalid Request: no `method`"),
    }
}

/// A message that passed [`read`]: its bytes (to hand on unchanged) and value.
#[derive(Debug)]
pub struct Message {
    pub bytes: axum::body::Bytes,
    pub value: Value,
}

impl Message {
    /// The request's method (`None` for a response to the server).
    pub fn method(&self) -> Option<&str> {
        self.value.get("method").and_then(Value::as_str)
    }

    /// The request's id, or null.
    pub fn id(&self) -> Value {
        self.value.get("id").cloned().unwrap_or(Value::Null)
    }
}

/// Reads a POSTed body (at most [`MAX_BODY`] bytes) and checks it is one
/// JSON-RPC message; otherwise the answer to send: 413, or 400 with -32700
/// (not JSON) or -32600 (a batch, or not a JSON-RPC message).
pub async fn read(body: Body) -> Result<Message, Response> {
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return Err(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            Value::Null,
            INVALID_REQUEST,
            &format!("Invalid Request: the body is unreadable or larger than {MAX_BODY} bytes"),
        ));
    };
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            Value::Null,
            PARSE_ERROR,
            &format!("Parse error: {e}"),
        )
    })?;
    if let Err(reason) = classify(&value) {
        let id = value
            .get("id")
            .filter(|id| id.is_string() || id.is_i64() || id.is_u64())
            .cloned()
            .unwrap_or(Value::Null);
        return Err(error(StatusCode::BAD_REQUEST, id, INVALID_REQUEST, reason));
    }
    Ok(Message { bytes, value })
}

/// The `_meta` key a 2026-07-28 result names its server under.
pub const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";

/// Adds `_meta` `io.modelcontextprotocol/serverInfo` to one JSON-RPC message
/// when it is a stateless-era result (one with `resultType`): 2026-07-28
/// basic/index.mdx § `_meta` asks servers to name themselves in every result.
/// `true` when it changed the message.
pub fn add_server_info(msg: &mut Value, name: &str, version: &str) -> bool {
    let Some(result) = msg.get_mut("result").and_then(Value::as_object_mut) else {
        return false;
    };
    if !result.contains_key("resultType") {
        return false;
    }
    let meta = result.entry("_meta").or_insert_with(|| json!({}));
    let Value::Object(m) = meta else {
        return false;
    };
    if m.contains_key(SERVER_INFO) {
        return false;
    }
    m.insert(
        SERVER_INFO.into(),
        json!({"name": name, "version": version}),
    );
    true
}

/// [`add_server_info`] on a body of one JSON message (a stdio line, a JSON
/// answer); other bytes come back unchanged.
pub fn add_server_info_bytes(bytes: &[u8], name: &str, version: &str) -> Vec<u8> {
    let Ok(mut v) = serde_json::from_slice::<Value>(bytes) else {
        return bytes.to_vec();
    };
    if !add_server_info(&mut v, name, version) {
        return bytes.to_vec();
    }
    let mut out = v.to_string().into_bytes();
    if bytes.ends_with(b"\n") {
        out.push(b'\n');
    }
    out
}

/// [`add_server_info`] on an HTTP answer with a JSON body (bounded by
/// [`MAX_BODY`]); event streams and other answers pass unchanged.
pub async fn with_server_info(resp: Response, name: &str, version: &str) -> Response {
    let json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    if !json {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            Value::Null,
            -32603,
            "the answer could not be read",
        );
    };
    let out = add_server_info_bytes(&bytes, name, version);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stateless_results_name_the_server_and_others_are_left_alone() {
        let out = add_server_info_bytes(
            br#"{"jsonrpc":"2.0","id":1,"result":{"resultType":"complete","tools":[]}}"#,
            "runway",
            "1.0.0",
        );
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["result"]["_meta"][SERVER_INFO]["name"], "runway");
        let session = br#"{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}"#;
        assert_eq!(
            add_server_info_bytes(session, "runway", "1"),
            session.to_vec()
        );
        let error = br#"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"x"}}"#;
        assert_eq!(add_server_info_bytes(error, "runway", "1"), error.to_vec());
    }

    #[test]
    fn classify_sorts_requests_responses_and_junk() {
        assert_eq!(
            classify(&json!({"jsonrpc":"2.0","id":1,"method":"ping"})),
            Ok(Some("ping"))
        );
        assert_eq!(
            classify(&json!({"jsonrpc":"2.0","id":1,"result":{}})),
            Ok(None)
        );
        assert!(classify(&json!([])).is_err());
        assert!(classify(&json!({"jsonrpc":"1.0","id":1,"method":"ping"})).is_err());
        assert!(classify(&json!({"jsonrpc":"2.0","id":{},"method":"ping"})).is_err());
        assert!(classify(&json!({"jsonrpc":"2.0","id":1,"method":3})).is_err());
        assert!(classify(&json!("x")).is_err());
    }

    async fn refusal(body: &'static str) -> (u16, Value) {
        let resp = read(Body::from(body)).await.unwrap_err();
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn malformed_json_and_a_batch_are_400_with_their_codes() {
        let (status, body) = refusal("{\"jsonrpc\": ").await;
        assert_eq!((status, &body["error"]["code"]), (400, &json!(-32700)));
        assert_eq!(body["id"], Value::Null);
        let (status, body) = refusal(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#).await;
        assert_eq!((status, &body["error"]["code"]), (400, &json!(-32600)));
        let (_, body) = refusal(r#"{"jsonrpc":"2.0","id":7}"#).await;
        assert_eq!(body["id"], 7);
        let ok = read(Body::from(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#))
            .await
            .unwrap();
        assert_eq!(ok.method(), Some("ping"));
    }
}
