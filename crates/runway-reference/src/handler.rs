//! The MCP side of the reference server: an rmcp `ServerHandler` with tools, resources
//! and prompts, shared by the HTTP and stdio transports.
//!
//! `tools/list` pagination is done here rather than by rmcp so that `broken-pagination`
//! can make the cursor loop.

use std::borrow::Cow;
use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CancelTaskParams, CustomRequest, CustomResult,
    ErrorCode, GetPromptRequestParams, GetPromptResponse, GetPromptResult, GetTaskParams,
    GetTaskResult, Implementation, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, Prompt, PromptArgument,
    PromptMessage, ProtocolVersion, ReadResourceRequestParams, ReadResourceResponse,
    ReadResourceResult, Resource, ResourceContents, ResourceTemplate, Role, ServerCapabilities,
    ServerConfig, TASKS_EXTENSION_ID, Tool, UpdateTaskParams,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use tokio_util::sync::CancellationToken;

use crate::EraSupport;
use crate::faults::Faults;
use crate::tools;

/// Tools per `tools/list` page.
pub const PAGE_SIZE: usize = 5;

/// The version `wrong-version` reports instead of the real one.
pub const WRONG_VERSION: &str = "0.0.0-wrong";

/// The protocol version the stateless era is served at.
pub const STATELESS_VERSION: &str = "2026-07-28";

/// What every request handler needs; one per server, shared by all sessions.
#[derive(Debug)]
pub(crate) struct Shared {
    pub version: String,
    pub faults: Faults,
    pub era: EraSupport,
    /// Cancelled when the server stops, so sleeping tools wake up.
    pub shutdown: CancellationToken,
    /// Tool calls answered so far (for `fail-after`).
    pub calls: std::sync::atomic::AtomicU64,
    /// `tools/list` pages served so far (for `shuffled-tools`).
    pub listings: std::sync::atomic::AtomicU64,
    /// What `confirm` seals its `requestState` with.
    pub state_key: crate::mrtr::StateKey,
    /// One output line per request, in this format (`log-errors` logs in text without one).
    pub log_requests: Option<crate::requestlog::LogFormat>,
    /// Requests logged so far (their correlation ids).
    pub logged: std::sync::atomic::AtomicU64,
    /// The memory `hog-memory` holds (touched, so it is resident).
    pub _hog: Vec<u8>,
}

impl Shared {
    /// Logs a served request, at ERROR under the `log-errors` fault.
    pub fn log_request(&self, what: &str) {
        let format = match (self.log_requests, self.faults.log_errors) {
            (Some(f), _) => f,
            (None, true) => crate::requestlog::LogFormat::Text,
            (None, false) => return,
        };
        let n = self
            .logged
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        let (level, message) = if self.faults.log_errors {
            (
                "ERROR",
                format!("{what} failed on purpose (fault `log-errors`)"),
            )
        } else {
            ("INFO", format!("{what} served"))
        };
        crate::requestlog::emit(format, level, &format!("req-{n}"), &message);
    }
}

/// The rmcp handler. Cheap to clone; rmcp makes one per session.
#[derive(Clone, Debug)]
pub(crate) struct Reference {
    pub shared: Arc<Shared>,
}

/// Cursors are opaque to clients; inside they are the offset of the page, hex-encoded.
fn encode_cursor(offset: usize) -> String {
    format!("rw{}", hex(format!("page:{offset}").as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let digits = cursor.strip_prefix("rw")?;
    if digits.len() % 2 != 0 || digits.len() > 64 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(digits.get(i..i + 2)?, 16).ok())
        .collect();
    let text = String::from_utf8(bytes?).ok()?;
    text.strip_prefix("page:")?.parse().ok()
}

const README_URI: &str = "runway://reference/readme";
const CONFIG_URI: &str = "runway://reference/config";
const TOOL_TEMPLATE: &str = "runway://reference/tools/{name}";

impl Reference {
    pub fn new(shared: Arc<Shared>) -> Self {
        Reference { shared }
    }

    fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    fn resources(&self) -> Vec<Resource> {
        vec![
            Resource::new(README_URI, "readme")
                .with_title("About the reference server")
                .with_description("What this server is for, in plain text")
                .with_mime_type("text/plain"),
            Resource::new(CONFIG_URI, "config")
                .with_title("Server configuration")
                .with_description("The version and the faults that are on, as JSON")
                .with_mime_type("application/json"),
        ]
    }

    fn prompts(&self) -> Vec<Prompt> {
        vec![
            Prompt::new(
                "greeting",
                Some("Greets someone by name"),
                Some(vec![
                    PromptArgument::new("name")
                        .with_description("who to greet")
                        .with_required(true),
                ]),
            ),
            Prompt::new("status", Some("Asks how the server is doing"), None),
            Prompt::new(
                "summarize",
                Some("Asks for a one-line summary of a text"),
                Some(vec![
                    PromptArgument::new("text")
                        .with_description("the text to summarize")
                        .with_required(true),
                ]),
            ),
        ]
    }

    /// One `tools/list` page starting at the cursor's offset.
    fn page(&self, cursor: Option<&str>) -> Result<ListToolsResult, McpError> {
        let all = tools::catalogue(self.faults());
        let offset = match cursor {
            None => 0,
            Some(c) => decode_cursor(c)
                .filter(|o| *o < all.len() && o % PAGE_SIZE == 0)
                .ok_or_else(|| McpError::invalid_params(format!("invalid cursor `{c}`"), None))?,
        };
        let end = (offset + PAGE_SIZE).min(all.len());
        let next = if end < all.len() {
            Some(encode_cursor(end))
        } else if self.faults().broken_pagination {
            Some(encode_cursor(0))
        } else {
            None
        };
        let mut items = all[offset..end].to_vec();
        let n = self
            .shared
            .listings
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if self.faults().shuffled_tools && n % 2 == 1 {
            items.reverse();
        }
        let mut result = ListToolsResult::with_all_items(items);
        result.next_cursor = next;
        Ok(result)
    }
}

impl ServerHandler for Reference {
    fn get_info(&self) -> ServerConfig {
        let version = if self.faults().wrong_version {
            WRONG_VERSION.to_owned()
        } else {
            self.shared.version.clone()
        };
        let mut capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_tool_list_changed()
            .enable_resources()
            .enable_prompts()
            .build();
        // The Tasks extension (`io.modelcontextprotocol/tasks`): no tool ever
        // makes a task, but `tasks/*` are served as the extension demands
        // (-32021 to a client that did not declare it, -32602 for an unknown id).
        capabilities
            .extensions
            .get_or_insert_with(Default::default)
            .insert(TASKS_EXTENSION_ID.to_owned(), Default::default());
        ServerConfig::new(capabilities)
            .with_server_info(
                Implementation::new("runway-reference", version)
                    .with_title("Runway reference server"),
            )
            .with_instructions(
                "A reference MCP server for testing: call `echo`, `add`, `slow` or `fail`",
            )
    }

    /// `subscriptions/listen` (2026-07-28): the tool list never changes, but
    /// clients may listen; rmcp acknowledges, then the stream idles.
    fn accepted_subscription_filter(
        &self,
        requested: &rmcp::model::SubscriptionFilter,
    ) -> Option<rmcp::model::SubscriptionFilter> {
        Some(requested.clone())
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        match self.shared.era {
            EraSupport::Both => Cow::Borrowed(ProtocolVersion::KNOWN_VERSIONS),
            EraSupport::SessionOnly => {
                Cow::Borrowed(ProtocolVersion::known_up_to(&ProtocolVersion::V_2025_11_25))
            }
            EraSupport::StatelessOnly => Cow::Owned(vec![ProtocolVersion::V_2026_07_28]),
        }
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        self.shared.log_request("tools/list");
        // Logging is deprecated (SEP-2577) but still specified: the fault
        // breaks its per-request rule.
        #[allow(deprecated)]
        if self.faults().log_without_level {
            let _ = context
                .peer
                .notify_logging_message(rmcp::model::LoggingMessageNotificationParam::new(
                    rmcp::model::LoggingLevel::Info,
                    serde_json::json!("listing tools (the `log-without-level` fault)"),
                ))
                .await;
        }
        self.page(request.as_ref().and_then(|r| r.cursor.as_deref()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        tools::definition(name, self.faults())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        if request.name == crate::mrtr::CONFIRM && !self.faults().few_tools {
            let stateless = context
                .protocol_version()
                .is_some_and(|v| v.as_str() >= STATELESS_VERSION);
            return crate::mrtr::call(
                &request,
                stateless,
                context.client_capabilities().as_ref(),
                &self.shared.state_key,
                self.faults(),
            );
        }
        let n = self
            .shared
            .calls
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.shared
            .log_request(&format!("tools/call {}", request.name));
        if self.faults().unknown_tool_result
            && tools::definition(&request.name, self.faults()).is_none()
        {
            return Ok(CallToolResponse::from(rmcp::model::CallToolResult::error(
                vec![rmcp::model::ContentBlock::text(format!(
                    "unknown tool `{}`",
                    request.name
                ))],
            )));
        }
        if let Some(limit) = self.faults().fail_after
            && n >= limit
        {
            return Err(McpError::internal_error(
                format!(
                    "tool call {} failed on purpose (fault `fail-after={limit}`)",
                    n + 1
                ),
                None,
            ));
        }
        tools::call(
            &request.name,
            request.arguments,
            self.faults(),
            &self.shared.shutdown,
        )
        .await
        .map(CallToolResponse::from)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        Ok(ListResourcesResult::with_all_items(self.resources()))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        if self.faults().broken_resource_read {
            return Err(McpError::internal_error(
                format!(
                    "the `broken-resource-read` fault: `{}` cannot be read",
                    request.uri
                ),
                None,
            ));
        }
        let contents = match request.uri.as_str() {
            README_URI => ResourceContents::text(
                "The Runway reference MCP server. It exists so Runway's checks have something \
                 real to verify, with switches (faults) that break one contract line each.",
                README_URI,
            ),
            CONFIG_URI => ResourceContents::TextResourceContents {
                uri: CONFIG_URI.to_owned(),
                mime_type: Some("application/json".to_owned()),
                text: serde_json::json!({
                    "version": self.shared.version,
                    "faults": self.faults().enabled(),
                })
                .to_string(),
                meta: None,
            },
            // -32602 from 2026-07-28 (which forbids -32002), and a code
            // 2025-11-25 clients accept too (`old-resource-not-found` turns it
            // back into -32002 in `rewrite`, past rmcp, which would map it).
            other => {
                return Err(McpError::invalid_params(
                    format!("no resource `{other}`"),
                    Some(serde_json::json!({"uri": other})),
                ));
            }
        };
        Ok(ReadResourceResult::new(vec![contents]).into())
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        if self.faults().broken_resource_templates {
            return Err(McpError::internal_error(
                "the `broken-resource-templates` fault: the templates cannot be listed",
                None,
            ));
        }
        Ok(ListResourceTemplatesResult::with_all_items(vec![
            ResourceTemplate::new(TOOL_TEMPLATE, "tool")
                .with_title("A tool's definition")
                .with_description("The definition of one tool, by name, as JSON")
                .with_mime_type("application/json"),
        ]))
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        Ok(ListPromptsResult::with_all_items(self.prompts()))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        if self.faults().broken_prompt_get {
            return Err(McpError::internal_error(
                format!(
                    "the `broken-prompt-get` fault: prompt `{}` failed",
                    request.name
                ),
                None,
            ));
        }
        let arg = |key: &str| -> Result<String, McpError> {
            request
                .arguments
                .as_ref()
                .and_then(|a| a.get(key))
                .and_then(|v| v.as_str())
                .map(str::to_owned)
                .ok_or_else(|| {
                    McpError::invalid_params(
                        format!("prompt `{}` needs a string argument `{key}`", request.name),
                        None,
                    )
                })
        };
        let text = match request.name.as_str() {
            "greeting" => format!("Say hello to {}.", arg("name")?),
            "summarize" => format!("Summarize in one line:\n\n{}", arg("text")?),
            "status" => "How is the Runway reference server doing?".to_owned(),
            other => {
                return Err(McpError::invalid_params(
                    format!("no prompt `{other}`"),
                    None,
                ));
            }
        };
        Ok(GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)]).into())
    }

    /// No task is ever made, so every id is unknown: -32602, which the
    /// extension demands of `tasks/get` (§ Error Handling), and asks of
    /// `tasks/update` and `tasks/cancel`. `unknown-task-served` answers
    /// `tasks/get` with a `working` task instead.
    async fn get_task(
        &self,
        request: GetTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetTaskResult, McpError> {
        if self.faults().unknown_task_served {
            return serde_json::from_value(serde_json::json!({
                "resultType": "complete",
                "taskId": request.task_id,
                "status": "working",
                "createdAt": "2026-12-01T00:00:00Z",
                "lastUpdatedAt": "2026-12-01T00:00:00Z",
                "ttlMs": 60000,
            }))
            .map_err(|e| McpError::internal_error(format!("building the task: {e}"), None));
        }
        Err(unknown_task(&request.task_id))
    }

    async fn update_task(
        &self,
        request: UpdateTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        Err(unknown_task(&request.task_id))
    }

    async fn cancel_task(
        &self,
        request: CancelTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        Err(unknown_task(&request.task_id))
    }

    async fn on_custom_request(
        &self,
        request: CustomRequest,
        _context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, McpError> {
        // A method of the spec arrives here only when its params did not
        // decode (over stdio; the HTTP side checks them before rmcp does):
        // that is invalid params, not an unknown method.
        if !self.faults().wrong_error_codes
            && runway_core::era::STANDARD_REQUEST_METHODS.contains(&request.method.as_str())
        {
            return Err(McpError::new(
                ErrorCode::INVALID_PARAMS,
                format!("invalid params for `{}`", request.method),
                None,
            ));
        }
        if self.faults().crash_on_unknown_method {
            // The whole server stops, as a process that panicked would.
            self.shared.shutdown.cancel();
        }
        let code = if self.faults().wrong_error_codes {
            ErrorCode::INTERNAL_ERROR
        } else {
            ErrorCode::METHOD_NOT_FOUND
        };
        Err(McpError::new(
            code,
            format!("method not found: `{}`", request.method),
            None,
        ))
    }
}

fn unknown_task(id: &str) -> McpError {
    McpError::invalid_params(
        format!("no task `{id}`"),
        Some(serde_json::json!({"taskId": id})),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(faults: Faults) -> Reference {
        Reference::new(Arc::new(Shared {
            version: "1.2.3".into(),
            faults,
            era: EraSupport::Both,
            shutdown: CancellationToken::new(),
            calls: Default::default(),
            listings: Default::default(),
            state_key: crate::mrtr::StateKey::random(),
            log_requests: None,
            logged: Default::default(),
            _hog: Vec::new(),
        }))
    }

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        assert_eq!(decode_cursor(&encode_cursor(10)), Some(10));
        assert_eq!(decode_cursor("rwzz"), None);
        assert_eq!(decode_cursor("10"), None);
    }

    #[test]
    fn pages_walk_every_tool_once_then_stop() {
        let r = reference(Faults::default());
        let mut cursor: Option<String> = None;
        let mut names = Vec::new();
        for _ in 0..10 {
            let page = r.page(cursor.as_deref()).unwrap();
            assert!(page.tools.len() <= PAGE_SIZE);
            names.extend(page.tools.iter().map(|t| t.name.to_string()));
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        assert!(cursor.is_none());
        assert_eq!(names, tools::TOOL_NAMES);
    }

    #[test]
    fn broken_pagination_loops_back_to_the_first_page() {
        let r = reference(Faults {
            broken_pagination: true,
            ..Faults::default()
        });
        let mut cursor = r.page(None).unwrap().next_cursor;
        for _ in 0..3 {
            cursor = r.page(cursor.as_deref()).unwrap().next_cursor;
        }
        assert_eq!(cursor, Some(encode_cursor(0)));
        assert!(r.page(Some("bogus")).is_err());
    }
}
