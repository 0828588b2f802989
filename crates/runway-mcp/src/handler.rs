//! The rmcp `ServerHandler`: tools, resources and prompts over Runway's operations,
//! shared by the stdio and HTTP transports.

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CustomRequest, CustomResult, ErrorCode,
    GetPromptRequestParams, GetPromptResponse, GetPromptResult, Implementation, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ProgressNotificationParam, Prompt, PromptArgument, PromptMessage, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, Resource, ResourceContents, ResourceTemplate, Role,
    ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};

use crate::error::OpError;
use crate::ops::Workspace;
use crate::plans::{Binding, Plans};
use crate::tools;

const CHANGELOG_URI: &str = "runway://changelog";
const CONFIG_URI: &str = "runway://config";
const DEPLOYMENT_TEMPLATE: &str = "runway://deployments/{id}";
const INCIDENT_TEMPLATE: &str = "runway://incidents/{id}";

/// The handler. Cheap to clone; rmcp makes one per session, and the clones
/// share the workspace and the plan store.
#[derive(Clone, Debug)]
pub(crate) struct Runway {
    pub ws: Arc<Workspace>,
    pub plans: Arc<Plans>,
    /// Which server this is in the process: over stdio, the plans' binding.
    instance: u64,
}

impl Runway {
    pub fn new(ws: Arc<Workspace>) -> Runway {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let plans = Arc::new(Plans::new(ws.plan_ttl()));
        Runway {
            ws,
            plans,
            instance: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// What a plan asked for in this request is bound to: what the HTTP layer
    /// established (session, connection, token), else this stdio server.
    fn binding(&self, context: &RequestContext<RoleServer>) -> Binding {
        context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<crate::plans::HttpCaller>())
            .map(|c| c.0.clone())
            .unwrap_or(Binding::Stdio {
                instance: self.instance,
            })
    }
}

fn op_error(e: OpError) -> McpError {
    match e {
        OpError::Argument { .. } => McpError::invalid_params(e.to_text(), None),
        OpError::Ledger(runway_ledger::LedgerError::NotFound { .. }) => {
            McpError::resource_not_found(e.to_text(), None)
        }
        other => McpError::internal_error(other.to_text(), None),
    }
}

impl Runway {
    /// The config first (always readable when listed), then the changelog once it exists.
    fn resources(&self) -> Vec<Resource> {
        let mut out = Vec::new();
        if self.ws.config.is_some() {
            out.push(
                Resource::new(CONFIG_URI, "config")
                    .with_title("runway.toml")
                    .with_description("The project's `runway.toml`, with secret values removed")
                    .with_mime_type("application/toml"),
            );
        }
        if self.ws.changelog_path().is_file() {
            out.push(
                Resource::new(CHANGELOG_URI, "changelog")
                    .with_title("Changelog")
                    .with_description("The project's changelog file as it is on disk")
                    .with_mime_type("text/markdown"),
            );
        }
        out
    }

    fn templates() -> Vec<ResourceTemplate> {
        vec![
            ResourceTemplate::new(DEPLOYMENT_TEMPLATE, "deployment")
                .with_title("Deployment record")
                .with_description(
                    "A deployment's ledger record with its view (`runway ledger show ID --format json`)",
                )
                .with_mime_type("application/json"),
            ResourceTemplate::new(INCIDENT_TEMPLATE, "incident")
                .with_title("Incident record")
                .with_description("An incident's ledger record with its timeline")
                .with_mime_type("application/json"),
        ]
    }

    fn prompts() -> Vec<Prompt> {
        vec![
            Prompt::new(
                "release_readiness",
                Some(
                    "Review whether the next release is ready: the computed version, the commits, the changelog entry",
                ),
                None,
            ),
            Prompt::new(
                "postmortem",
                Some(
                    "Write the postmortem of an incident from its ledger record, its deployment and that deployment's verification",
                ),
                Some(vec![
                    PromptArgument::new("incident")
                        .with_description("the incident's id, or a unique prefix")
                        .with_required(true),
                ]),
            ),
        ]
    }

    async fn read(&self, uri: &str) -> Result<ResourceContents, McpError> {
        let json = |value: serde_json::Value| ResourceContents::TextResourceContents {
            uri: uri.to_owned(),
            mime_type: Some("application/json".to_owned()),
            text: serde_json::to_string_pretty(&value).unwrap_or_default(),
            meta: None,
        };
        if uri == CHANGELOG_URI {
            let text = self.ws.changelog_text().await.map_err(op_error)?;
            let text = text.ok_or_else(|| {
                McpError::resource_not_found("the project has no changelog file yet", None)
            })?;
            return Ok(ResourceContents::TextResourceContents {
                uri: uri.to_owned(),
                mime_type: Some("text/markdown".to_owned()),
                text,
                meta: None,
            });
        }
        if uri == CONFIG_URI {
            let text = self.ws.config_text().ok_or_else(|| {
                McpError::resource_not_found("the project has no `runway.toml`", None)
            })?;
            return Ok(ResourceContents::TextResourceContents {
                uri: uri.to_owned(),
                mime_type: Some("application/toml".to_owned()),
                text,
                meta: None,
            });
        }
        for (prefix, kind) in [
            ("runway://deployments/", runway_ledger::Kind::Deployment),
            ("runway://incidents/", runway_ledger::Kind::Incident),
        ] {
            if let Some(id) = uri.strip_prefix(prefix).filter(|id| !id.is_empty()) {
                let value = self.ws.ledger_show(id).await.map_err(op_error)?;
                if value.get("kind").and_then(|k| k.as_str()) != Some(kind.as_str()) {
                    return Err(McpError::resource_not_found(
                        format!("`{id}` is not a {kind} record"),
                        None,
                    ));
                }
                return Ok(json(value));
            }
        }
        Err(McpError::resource_not_found(
            format!(
                "no resource `{uri}`: read `{CHANGELOG_URI}`, `{CONFIG_URI}`, `{DEPLOYMENT_TEMPLATE}` or `{INCIDENT_TEMPLATE}`"
            ),
            None,
        ))
    }
}

impl ServerHandler for Runway {
    /// A method of the spec arrives here only when its params did not decode:
    /// that is invalid params (-32602), not an unknown method (-32601).
    async fn on_custom_request(
        &self,
        request: CustomRequest,
        _context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, McpError> {
        let known = runway_core::era::STANDARD_REQUEST_METHODS.contains(&request.method.as_str());
        let (code, what) = if known {
            (ErrorCode::INVALID_PARAMS, "invalid params for")
        } else {
            (ErrorCode::METHOD_NOT_FOUND, "method not found:")
        };
        Err(McpError::new(
            code,
            format!("{what} `{}`", request.method),
            None,
        ))
    }

    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_prompts()
                .build(),
        )
        .with_server_info(
            Implementation::new("runway", env!("CARGO_PKG_VERSION"))
                .with_title("Runway: release, deploy and verify MCP servers"),
        )
        .with_instructions(
            if self.ws.writes_allowed() {
                "Runway's view of this project: call `release_status` for the next release, `verify` to check a server, `ledger_list`/`incident_list` for what happened, `dora` for delivery metrics. Writes take two steps: call the `*_plan` tool, show its `summary`, then call the write with the same arguments and the returned `plan_id`"
            } else {
                "Runway's view of this project: call `release_status` for the next release, `verify` to check a server, `ledger_list`/`incident_list` for what happened, `dora` for delivery metrics"
            },
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(tools::catalogue(
            self.ws.writes_allowed(),
        )))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        tools::definition(name, self.ws.writes_allowed())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        // Progress goes out in order through one task, so a fast run cannot reorder it.
        let token = context.meta.get_progress_token();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(f64, f64, String)>();
        let peer = context.peer.clone();
        let forward = tokio::spawn(async move {
            while let Some((done, total, message)) = rx.recv().await {
                if let Some(token) = &token {
                    let mut p = ProgressNotificationParam::new(token.clone(), done);
                    p.total = (total > 0.0).then_some(total);
                    p.message = Some(message);
                    let _ = peer.notify_progress(p).await;
                }
            }
        });
        let progress = move |done: f64, total: f64, message: String| {
            let _ = tx.send((done, total, message));
        };
        // The stateless era names the client in each request's `_meta` (rmcp then
        // fills the peer info with its own name); the session era in `initialize`.
        let client = context
            .meta
            .client_info()
            .map(|i| i.name)
            .or_else(|| context.peer.peer_info().map(|i| i.client_info.name.clone()));
        let caller = tools::Caller {
            plans: &self.plans,
            binding: self.binding(&context),
            operator: crate::writes::operator_name(client.as_deref()),
        };
        let result = tools::call(
            &self.ws,
            &request.name,
            request.arguments,
            crate::ops::Running {
                cancel: &context.ct,
                progress: &progress,
            },
            &caller,
        )
        .await;
        drop(progress);
        let _ = forward.await;
        result.map(CallToolResponse::from).map_err(|bad| {
            McpError::invalid_params(format!("`{}`: {}", bad.tool, bad.message), None)
        })
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        Ok(ListResourcesResult::with_all_items(self.resources()))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(ListResourceTemplatesResult::with_all_items(
            Self::templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let contents = self.read(&request.uri).await?;
        Ok(ReadResourceResult::new(vec![contents]).into())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        Ok(ListPromptsResult::with_all_items(Self::prompts()))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let text = match request.name.as_str() {
            "postmortem" => {
                let id = request
                    .arguments
                    .as_ref()
                    .and_then(|a| a.get("incident"))
                    .and_then(|v| v.as_str())
                    .ok_or_else(|| {
                        McpError::invalid_params(
                            "prompt `postmortem` needs a string argument `incident`",
                            None,
                        )
                    })?;
                let draft = self.ws.postmortem(id).await.map_err(op_error)?;
                format!(
                    "Write the blameless postmortem of this incident. Keep every fact and time from the draft below (it comes from Runway's ledger), fill in the sections marked for a human where the record allows, and list the open questions.\n\n{draft}"
                )
            }
            "release_readiness" => {
                // A project Runway cannot read yet (no git history) still gets a review
                // prompt, one that says what is missing.
                let status = self
                    .ws
                    .release_status(None, None, false)
                    .await
                    .unwrap_or_else(|e| serde_json::json!({"error": e.to_text()}));
                let entry = self.ws.changelog_preview(None, None).await.unwrap_or_else(
                    |e| serde_json::json!({"text": format!("(none: {})", e.to_text())}),
                );
                format!(
                    "Review whether this release is ready to ship. Check that the computed bump matches the changes (breaking changes need a major, new tools a minor), that the changelog entry is accurate and readable, and that nothing in the notes blocks a release. Answer with a verdict and what to fix.\n\nRelease status (`runway release status --format json`):\n```json\n{}\n```\n\nChangelog entry:\n{}\n",
                    serde_json::to_string_pretty(&status).unwrap_or_default(),
                    entry
                        .get("text")
                        .and_then(|t| t.as_str())
                        .unwrap_or("(none)")
                )
            }
            other => {
                return Err(McpError::invalid_params(
                    format!("no prompt `{other}`: use `postmortem` or `release_readiness`"),
                    None,
                ));
            }
        };
        Ok(GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)]).into())
    }
}
