//! The reference server's tool catalogue: 17 small, deterministic tools
//! (`confirm`, which asks its caller for input, lives in `mrtr`).
//!
//! Schemas are written out by hand (not derived) so the faults can bend exactly one of
//! them, and so what a client sees is exactly what this file says.

use std::sync::Arc;
use std::time::Duration;

use rmcp::ErrorData as McpError;
use rmcp::model::{CallToolResult, ContentBlock, JsonObject, Tool, ToolAnnotations};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::faults::Faults;

/// The `bad-annotations` fault, applied to the bytes of a `tools/list` answer (rmcp's
/// types cannot hold a mistyped hint): `echo`'s `readOnlyHint` becomes a string.
/// Only `echo` declares `readOnlyHint`, so only its annotations change.
pub fn mistype_annotations(bytes: &[u8]) -> Vec<u8> {
    const FROM: &[u8] = br#""readOnlyHint":true"#;
    const TO: &[u8] = br#""readOnlyHint":"yes""#;
    let mut out = Vec::with_capacity(bytes.len() + 4);
    let mut rest = bytes;
    while let Some(i) = rest.windows(FROM.len()).position(|w| w == FROM) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(TO);
        rest = &rest[i + FROM.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// How long `hang` keeps a `tools/call` waiting when the server is not shut down first.
pub const HANG_FOR: Duration = Duration::from_secs(60);

/// The longest sleep `slow` accepts, in milliseconds.
pub const SLOW_MAX_MS: u64 = 5000;

/// Tool names in list order; `few-tools` keeps only [`FEW_TOOLS`].
pub const TOOL_NAMES: &[&str] = &[
    "echo",
    "add",
    "slow",
    "fail",
    "subtract",
    "multiply",
    "divide",
    "upper",
    "lower",
    "reverse",
    "length",
    "concat",
    "repeat",
    "word_count",
    "is_even",
    "greet",
    "confirm",
];

/// What `few-tools` leaves: enough for a smoke test, too few for a surface check.
pub const FEW_TOOLS: &[&str] = &["echo", "add", "fail"];

/// The tool whose `inputSchema` `bad-input-schema` breaks.
pub const BAD_SCHEMA_TOOL: &str = "upper";

fn object(value: Value) -> Arc<JsonObject> {
    match value {
        Value::Object(map) => Arc::new(map),
        // Every schema below is an object literal; this arm only keeps the function total.
        other => Arc::new(JsonObject::from_iter([("const".to_owned(), other)])),
    }
}

fn props(properties: Value, required: &[&str]) -> Arc<JsonObject> {
    object(json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    }))
}

fn text_arg(description: &str) -> Value {
    json!({"type": "string", "description": description})
}

fn number_arg(description: &str) -> Value {
    json!({"type": "number", "description": description})
}

/// The tools currently offered, in list order.
pub fn catalogue(faults: &Faults) -> Vec<Tool> {
    let all = TOOL_NAMES
        .iter()
        .filter_map(|name| definition(name, faults));
    if faults.few_tools {
        all.filter(|t| FEW_TOOLS.contains(&t.name.as_ref()))
            .collect()
    } else {
        all.collect()
    }
}

/// One tool's definition, if the name is in the catalogue (faults applied).
pub fn definition(name: &str, faults: &Faults) -> Option<Tool> {
    if faults.few_tools && !FEW_TOOLS.contains(&name) {
        return None;
    }
    let two_numbers = || {
        props(
            json!({"a": number_arg("first operand"), "b": number_arg("second operand")}),
            &["a", "b"],
        )
    };
    let one_text = || props(json!({"text": text_arg("the input text")}), &["text"]);
    let tool = match name {
        "echo" => Tool::new(
            "echo",
            "Returns the message unchanged",
            props(json!({"message": text_arg("what to echo")}), &["message"]),
        )
        .with_annotations(
            ToolAnnotations::with_title("Echo")
                .read_only(true)
                .idempotent(true)
                .open_world(false),
        ),
        "add" => Tool::new("add", "Adds two numbers", two_numbers()).with_raw_output_schema(
            object(json!({
                "type": "object",
                "properties": {"sum": {"type": "number"}},
                "required": ["sum"],
                "additionalProperties": false,
            })),
        ),
        "slow" => Tool::new(
            "slow",
            "Sleeps for `ms` milliseconds, then answers `done`",
            props(
                json!({"ms": {"type": "integer", "minimum": 0, "maximum": SLOW_MAX_MS, "description": "how long to sleep"}}),
                &["ms"],
            ),
        ),
        "fail" => Tool::new(
            "fail",
            "Always fails with a tool error (`isError: true`)",
            props(json!({}), &[]),
        ),
        "subtract" => Tool::new("subtract", "Subtracts b from a", two_numbers()),
        "multiply" => Tool::new("multiply", "Multiplies two numbers", two_numbers()),
        "divide" => Tool::new(
            "divide",
            "Divides a by b; b = 0 is a tool error",
            two_numbers(),
        ),
        "upper" if faults.bad_input_schema => Tool::new(
            "upper",
            "Upper-cases the text",
            object(json!({"type": "strng", "properties": {"text": {"type": "string"}}})),
        ),
        "upper" => Tool::new("upper", "Upper-cases the text", one_text()),
        "lower" => Tool::new("lower", "Lower-cases the text", one_text()),
        "reverse" => Tool::new("reverse", "Reverses the characters of the text", one_text()),
        "length" => Tool::new("length", "Counts the characters of the text", one_text()),
        "concat" => Tool::new(
            "concat",
            "Joins two strings",
            props(
                json!({"left": text_arg("first part"), "right": text_arg("second part")}),
                &["left", "right"],
            ),
        ),
        "repeat" => Tool::new(
            "repeat",
            "Repeats the text `times` times (at most 100)",
            props(
                json!({"text": text_arg("what to repeat"), "times": {"type": "integer", "minimum": 0, "maximum": 100}}),
                &["text", "times"],
            ),
        ),
        "word_count" => Tool::new(
            "word_count",
            "Counts whitespace-separated words",
            one_text(),
        ),
        "is_even" => Tool::new(
            "is_even",
            "Says whether an integer is even",
            props(json!({"n": {"type": "integer"}}), &["n"]),
        ),
        "greet" => Tool::new(
            "greet",
            "Greets someone by name",
            props(json!({"name": text_arg("who to greet")}), &["name"]),
        ),
        crate::mrtr::CONFIRM => crate::mrtr::definition(),
        _ => return None,
    };
    Some(tool)
}

fn parse<T: for<'de> Deserialize<'de>>(name: &str, args: &JsonObject) -> Result<T, McpError> {
    serde_json::from_value(Value::Object(args.clone())).map_err(|e| {
        McpError::invalid_params(format!("invalid arguments for tool `{name}`: {e}"), None)
    })
}

fn text(s: impl Into<String>) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(s)])
}

/// Prints a number the way a person would write it: `3`, not `3.0`.
fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Message {
    message: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Pair {
    a: f64,
    b: f64,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Ms {
    ms: u64,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Nothing {}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Text {
    text: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Concat {
    left: String,
    right: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Repeat {
    text: String,
    times: u32,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Int {
    n: i64,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Name {
    name: String,
}

/// Sleeps, but wakes early (returning `false`) when the server shuts down.
pub async fn sleep_unless_cancelled(d: Duration, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        () = tokio::time::sleep(d) => true,
        () = shutdown.cancelled() => false,
    }
}

/// Runs one tool call. Unknown tools and ill-typed arguments are JSON-RPC -32602.
pub async fn call(
    name: &str,
    arguments: Option<JsonObject>,
    faults: &Faults,
    shutdown: &CancellationToken,
) -> Result<CallToolResult, McpError> {
    if definition(name, faults).is_none() {
        return Err(McpError::invalid_params(
            format!("unknown tool `{name}`"),
            Some(
                json!({"tools": catalogue(faults).iter().map(|t| t.name.to_string()).collect::<Vec<_>>()}),
            ),
        ));
    }
    let args = arguments.unwrap_or_default();
    if faults.hang {
        // Over HTTP the request never reaches here (`http.rs` holds it); this is for stdio.
        sleep_unless_cancelled(HANG_FOR, shutdown).await;
        return Err(McpError::internal_error("the `hang` fault gave up", None));
    }
    if let Some(ms) = faults.slow_tool
        && !sleep_unless_cancelled(Duration::from_millis(ms), shutdown).await
    {
        return Err(McpError::internal_error(
            "the server is shutting down",
            None,
        ));
    }
    let result = match name {
        "echo" => {
            let m: Message = parse(name, &args)?;
            if faults.failing_tool {
                CallToolResult::error(vec![ContentBlock::text(format!(
                    "echo failed on purpose (fault `failing-tool`): {}",
                    m.message
                ))])
            } else {
                text(m.message)
            }
        }
        "add" => {
            let p: Pair = parse(name, &args)?;
            let sum = p.a + p.b;
            let structured = if faults.bad_output {
                json!({"sum": number_text(sum)})
            } else {
                json!({"sum": sum})
            };
            let mut r = text(number_text(sum));
            r.structured_content = Some(structured);
            r
        }
        "slow" => {
            let Ms { ms } = parse(name, &args)?;
            if ms > SLOW_MAX_MS {
                return Err(McpError::invalid_params(
                    format!("`ms` must be at most {SLOW_MAX_MS} (got {ms})"),
                    None,
                ));
            }
            if !sleep_unless_cancelled(Duration::from_millis(ms), shutdown).await {
                return Err(McpError::internal_error(
                    "the server is shutting down",
                    None,
                ));
            }
            text("done")
        }
        "fail" => {
            let Nothing {} = parse(name, &args)?;
            CallToolResult::error(vec![ContentBlock::text(
                "this tool always fails: it exists to test error handling",
            )])
        }
        "subtract" => {
            let p: Pair = parse(name, &args)?;
            text(number_text(p.a - p.b))
        }
        "multiply" => {
            let p: Pair = parse(name, &args)?;
            text(number_text(p.a * p.b))
        }
        "divide" => {
            let p: Pair = parse(name, &args)?;
            if p.b == 0.0 {
                CallToolResult::error(vec![ContentBlock::text("cannot divide by zero")])
            } else {
                text(number_text(p.a / p.b))
            }
        }
        "upper" => text(parse::<Text>(name, &args)?.text.to_uppercase()),
        "lower" => text(parse::<Text>(name, &args)?.text.to_lowercase()),
        "reverse" => text(
            parse::<Text>(name, &args)?
                .text
                .chars()
                .rev()
                .collect::<String>(),
        ),
        "length" => text(parse::<Text>(name, &args)?.text.chars().count().to_string()),
        "concat" => {
            let c: Concat = parse(name, &args)?;
            text(c.left + &c.right)
        }
        "repeat" => {
            let r: Repeat = parse(name, &args)?;
            if r.times > 100 {
                return Err(McpError::invalid_params(
                    format!("`times` must be at most 100 (got {})", r.times),
                    None,
                ));
            }
            text(r.text.repeat(r.times as usize))
        }
        "word_count" => text(
            parse::<Text>(name, &args)?
                .text
                .split_whitespace()
                .count()
                .to_string(),
        ),
        "is_even" => text((parse::<Int>(name, &args)?.n % 2 == 0).to_string()),
        "greet" => text(format!("Hello, {}!", parse::<Name>(name, &args)?.name)),
        _ => {
            return Err(McpError::invalid_params(
                format!("unknown tool `{name}`"),
                None,
            ));
        }
    };
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: Value) -> Option<JsonObject> {
        v.as_object().cloned()
    }

    #[test]
    fn the_catalogue_has_seventeen_tools_and_few_tools_has_three() {
        let good = catalogue(&Faults::default());
        assert_eq!(good.len(), 17);
        for name in ["echo", "add", "slow", "fail"] {
            assert!(good.iter().any(|t| t.name == name), "{name}");
        }
        for t in &good {
            assert_eq!(
                t.input_schema.get("type"),
                Some(&json!("object")),
                "{}",
                t.name
            );
        }
        let few = catalogue(&Faults {
            few_tools: true,
            ..Faults::default()
        });
        assert_eq!(few.len(), 3);
    }

    #[tokio::test]
    async fn add_returns_the_sum_as_text_and_structured_content() {
        let ct = CancellationToken::new();
        let r = call(
            "add",
            args(json!({"a": 2, "b": 3.5})),
            &Faults::default(),
            &ct,
        )
        .await
        .unwrap();
        assert_eq!(r.structured_content, Some(json!({"sum": 5.5})));
        assert_eq!(r.content[0].as_text().unwrap().text, "5.5");
        let bad = Faults {
            bad_output: true,
            ..Faults::default()
        };
        let r = call("add", args(json!({"a": 2, "b": 3})), &bad, &ct)
            .await
            .unwrap();
        assert_eq!(r.structured_content, Some(json!({"sum": "5"})));
    }

    #[tokio::test]
    async fn wrong_argument_types_and_unknown_tools_are_invalid_params() {
        let ct = CancellationToken::new();
        let f = Faults::default();
        let e = call("add", args(json!({"a": "two", "b": 3})), &f, &ct)
            .await
            .unwrap_err();
        assert_eq!(e.code.0, -32602);
        let e = call("nope", None, &f, &ct).await.unwrap_err();
        assert_eq!(e.code.0, -32602);
        let e = call("slow", args(json!({"ms": 5001})), &f, &ct)
            .await
            .unwrap_err();
        assert_eq!(e.code.0, -32602);
    }

    #[tokio::test]
    async fn hang_never_answers_until_shutdown() {
        let ct = CancellationToken::new();
        let hang = Faults {
            hang: true,
            ..Faults::default()
        };
        let pending = call("echo", args(json!({"message": "x"})), &hang, &ct);
        tokio::pin!(pending);
        let early = tokio::time::timeout(Duration::from_millis(200), &mut pending).await;
        assert!(early.is_err(), "answered while hanging");
        ct.cancel();
        let late = tokio::time::timeout(Duration::from_secs(2), pending).await;
        assert!(late.unwrap().is_err());
    }

    #[tokio::test]
    async fn slow_stops_sleeping_when_the_server_shuts_down() {
        let ct = CancellationToken::new();
        ct.cancel();
        let started = std::time::Instant::now();
        let e = call("slow", args(json!({"ms": 5000})), &Faults::default(), &ct)
            .await
            .unwrap_err();
        assert_eq!(e.code.0, -32603);
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
