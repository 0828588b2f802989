//! The two eras of the MCP specification.
//!
//! The session era (2025-06-18, 2025-11-25) opens with `initialize` and keeps
//! state behind `Mcp-Session-Id`. The stateless era (2026-07-28 on) has no
//! handshake: a client calls `server/discover` and sends the protocol version
//! with every request. A report always says which one the target spoke.

use serde::{Deserialize, Serialize};

/// Protocol versions of the session era, newest first.
pub const SESSION_ERA_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];
/// Protocol versions of the stateless era, newest first.
pub const STATELESS_ERA_VERSIONS: &[&str] = &["2026-07-28"];

/// The client-to-server request methods of both eras. A server that gets
/// one of these it could not decode should answer invalid params (-32602),
/// not method not found (-32601).
pub const STANDARD_REQUEST_METHODS: &[&str] = &[
    "initialize",
    "server/discover",
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
];

/// Which era (and which version in it) a server negotiated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Era {
    /// `initialize` handshake with sessions; `version` is the negotiated protocol version.
    Session { version: String },
    /// `server/discover` and per-request metadata; `version` is the selected protocol version.
    Stateless { version: String },
    /// The deprecated HTTP+SSE transport of 2024-11-05 (a GET endpoint that streams an `endpoint` event).
    LegacySse,
    /// Nothing that speaks MCP answered.
    Unknown,
}

impl Era {
    /// Classifies a protocol version string into its era.
    pub fn from_version(version: &str) -> Era {
        if version >= "2026-07-28" {
            Era::Stateless {
                version: version.to_owned(),
            }
        } else {
            Era::Session {
                version: version.to_owned(),
            }
        }
    }

    pub fn version(&self) -> Option<&str> {
        match self {
            Era::Session { version } | Era::Stateless { version } => Some(version),
            Era::LegacySse | Era::Unknown => None,
        }
    }

    /// A short human label: `stateless (2026-07-28)`, `session (2025-11-25)`, `legacy HTTP+SSE`.
    pub fn label(&self) -> String {
        match self {
            Era::Session { version } => format!("session ({version})"),
            Era::Stateless { version } => format!("stateless ({version})"),
            Era::LegacySse => "legacy HTTP+SSE".to_owned(),
            Era::Unknown => "unknown".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_fall_into_their_era() {
        assert_eq!(
            Era::from_version("2025-06-18"),
            Era::Session {
                version: "2025-06-18".into()
            }
        );
        assert_eq!(
            Era::from_version("2025-11-25"),
            Era::Session {
                version: "2025-11-25".into()
            }
        );
        assert_eq!(
            Era::from_version("2026-07-28"),
            Era::Stateless {
                version: "2026-07-28".into()
            }
        );
        assert_eq!(
            Era::from_version("2027-01-01").label(),
            "stateless (2027-01-01)"
        );
    }
}
