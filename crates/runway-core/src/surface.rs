//! The tool surface of an MCP server: what a client can call.
//!
//! Recorded with every release, so the next release can tell whether it
//! removed or narrowed something a client depends on (a breaking change).

use serde::{Deserialize, Serialize};

/// One tool as a client sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSignature {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "inputSchema")]
    pub input_schema: serde_json::Value,
    #[serde(
        rename = "outputSchema",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub output_schema: Option<serde_json::Value>,
}

/// Every tool a server lists, sorted by name so the committed file diffs cleanly.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolSurface {
    /// The server's own name and version, as it reported them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    pub tools: Vec<ToolSignature>,
}

impl ToolSurface {
    pub fn new(mut tools: Vec<ToolSignature>) -> ToolSurface {
        tools.sort_by(|a, b| a.name.cmp(&b.name));
        ToolSurface {
            server: None,
            server_version: None,
            tools,
        }
    }

    pub fn tool(&self, name: &str) -> Option<&ToolSignature> {
        self.tools.iter().find(|t| t.name == name)
    }
}
