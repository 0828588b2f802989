//! Domain types shared by every Runway crate.
//!
//! This crate does no I/O (but for listening for Ctrl-C and SIGTERM in
//! [`Shutdown`]). It defines the nouns of ../shared/DESIGN.md that
//! more than one crate needs to agree on: a check result and the report that
//! holds them, the MCP protocol era a server speaks, incident severities, the
//! tool surface recorded with a release, and the [`Secret`] wrapper that keeps
//! tokens out of every output; and the one [`Shutdown`] signal every
//! long-running operation stops on.

pub mod check;
pub mod diagnostic;
pub mod era;
pub mod exit;
pub mod secret;
pub mod severity;
pub mod shown;
pub mod shutdown;
pub mod surface;

pub use check::{CheckResult, Evidence, REPORT_SCHEMA, Report, Status, Summary};
pub use diagnostic::Diagnostic;
pub use era::Era;
pub use exit::Exit;
pub use secret::{Redactor, Secret};
pub use severity::Severity;
pub use shutdown::{Shutdown, ShutdownHandle};
pub use surface::{ToolSignature, ToolSurface};
