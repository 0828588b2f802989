//! The check engine behind `runway verify`.
//!
//! A check is a function from a [`Context`] (the target, a bounded HTTP
//! client, the credentials and thresholds) to one or more
//! [`runway_core::CheckResult`]s. Checks never panic on what a server sends:
//! every failure is a result with evidence and a hint. Positive-path MCP
//! traffic goes through `rmcp`; every status-code, header and negative check
//! uses raw HTTP so that nothing retries or re-initialises behind our back.

pub mod checks;
pub mod context;
pub mod engine;
pub mod environment;
pub mod http;
pub mod load;
pub mod mcp;
pub mod report;
pub mod spec;
pub mod text;

/// Re-exported so callers build [`Transport::Http`] without a dependency of their own.
pub use url;

pub use environment::{EnvironmentError, SurfaceSourceError};

pub use context::{
    AuthScheme, CallExpect, Context, Endpoint, EraChoice, Expectations, HttpPaths, LoadSettings,
    LoadTarget, Origin, Pattern, Progress, RateLimitSettings, SmokeCall, Suite, Thresholds,
    Toggles, Transport,
};

#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_false_alarms;
