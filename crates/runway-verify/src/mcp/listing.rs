//! Reading a `<kind>/list` to its end: cursors followed with a page cap and
//! loop detection, for tools, resources and prompts alike.

use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

use runway_core::{CheckResult, Evidence};
use serde_json::{Value, json};

use super::{Conn, Connected, MAX_PAGES, timed};

/// A listing problem, already phrased for the report.
pub(super) struct Problem {
    pub(super) message: String,
    pub(super) hint: String,
    pub(super) evidence: Evidence,
}

pub(super) struct Listing {
    pub(super) items: Vec<Value>,
    pub(super) pages: usize,
    pub(super) problem: Option<Problem>,
    pub(super) last_evidence: Evidence,
    pub(super) elapsed: Duration,
}

/// Follows `nextCursor` through `<kind>/list` with a page cap and loop detection.
pub(super) async fn list_all(conn: &mut Conn, kind: &str, max_pages: usize) -> Listing {
    let start = Instant::now();
    let method = format!("{kind}/list");
    let mut items: Vec<Value> = Vec::new();
    let mut seen_cursors = HashSet::new();
    let mut seen_names = HashSet::new();
    let mut cursor: Option<String> = None;
    let mut last_evidence = Evidence::default();
    let problem = |message: String, hint: &str, evidence: Evidence| {
        Some(Problem {
            message,
            hint: hint.to_owned(),
            evidence,
        })
    };
    for page in 1..=max_pages {
        let params = match &cursor {
            Some(c) => json!({"cursor": c}),
            None => json!({}),
        };
        let reply = conn.rpc(&method, params).await;
        last_evidence = reply.evidence.clone();
        let mut result = match reply.outcome {
            Ok(v) => v,
            Err(e) => {
                return Listing {
                    items,
                    pages: page,
                    problem: problem(
                        format!("`{method}` page {page} failed: {e}"),
                        "answer the request with a JSON-RPC result (see the evidence)",
                        reply.evidence,
                    ),
                    last_evidence,
                    elapsed: start.elapsed(),
                };
            }
        };
        let Some(list) = result.get(kind).and_then(Value::as_array) else {
            return Listing {
                items,
                pages: page,
                problem: problem(
                    format!("`{method}` page {page} has no `{kind}` array"),
                    "return the list in the `{kind}` field of the result",
                    reply.evidence,
                ),
                last_evidence,
                elapsed: start.elapsed(),
            };
        };
        let key = if kind == "resources" { "uri" } else { "name" };
        let names: Vec<String> = list
            .iter()
            .filter_map(|t| t.get(key).and_then(Value::as_str).map(str::to_owned))
            .collect();
        if page > 1 && !names.is_empty() && names.iter().all(|n| seen_names.contains(n)) {
            return Listing {
                items,
                pages: page,
                problem: problem(
                    format!(
                        "`{method}` pagination loops: page {page} repeats items already listed ({})",
                        names.join(", ")
                    ),
                    "make `nextCursor` point past the current page and omit it on the last page",
                    reply.evidence,
                ),
                last_evidence,
                elapsed: start.elapsed(),
            };
        }
        seen_names.extend(names);
        // The page's items move into the listing (a copy of every tool's
        // schema, for every run in flight, was a measurable share of the
        // monitor's heap).
        if let Some(Value::Array(list)) = result.get_mut(kind).map(Value::take) {
            items.extend(list);
        }
        match result.get("nextCursor") {
            None | Some(Value::Null) => {
                return Listing {
                    items,
                    pages: page,
                    problem: None,
                    last_evidence,
                    elapsed: start.elapsed(),
                };
            }
            Some(Value::String(c)) if !seen_cursors.contains(c) => {
                seen_cursors.insert(c.clone());
                cursor = Some(c.clone());
            }
            Some(other) => {
                let msg = if other.is_string() {
                    format!("`{method}` pagination loops: cursor {other} came back on page {page}")
                } else {
                    format!("`{method}` page {page}: `nextCursor` is {other}, not a string")
                };
                return Listing {
                    items,
                    pages: page,
                    problem: problem(
                        msg,
                        "make `nextCursor` an opaque string that moves forward, and omit it on the last page",
                        reply.evidence,
                    ),
                    last_evidence,
                    elapsed: start.elapsed(),
                };
            }
        }
    }
    Listing {
        items,
        pages: max_pages,
        problem: problem(
            format!("`{method}` still had a `nextCursor` after {max_pages} pages"),
            "end pagination: omit `nextCursor` on the last page",
            last_evidence.clone(),
        ),
        last_evidence,
        elapsed: start.elapsed(),
    }
}

pub(super) async fn list_capability_check(c: &mut Connected, kind: &str) -> CheckResult {
    let id = format!("mcp.{kind}.list");
    let advertised = c.capabilities.get(kind).is_some_and(|v| !v.is_null());
    if !advertised {
        return CheckResult::skip(id, format!("the server does not advertise `{kind}`"));
    }
    let listing = list_all(&mut c.conn, kind, MAX_PAGES).await;
    let r = match listing.problem {
        Some(p) => {
            return timed(
                CheckResult::fail(id, p.message, p.hint),
                p.evidence,
                listing.elapsed,
            );
        }
        None => CheckResult::pass(
            &id,
            format!(
                "{} in {}",
                crate::text::count(listing.items.len(), kind.trim_end_matches('s')),
                crate::text::count(listing.pages, "page")
            ),
        ),
    };
    timed(r, listing.last_evidence, listing.elapsed)
}
