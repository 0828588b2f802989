//! How Runway's own HTTP servers hold under hostile clients, in one place.
//!
//! `runway mcp --listen`, `runway monitor --listen` (runway-web) and the
//! reference server each answer different requests, but the bar they are held
//! to is the one `runway verify` holds other servers to, so the pieces live
//! here once instead of a copy per server:
//!
//! - [`serve`]: the accept loop, with a deadline for each request's headers
//!   (slowloris), a cap on open connections, and the Host allow-list
//!   ([`Hosts`], against DNS rebinding) in front of every route;
//! - [`headers`]: the one list of security headers;
//! - [`auth`]: the bearer token, compared in constant time;
//! - [`ratelimit`]: a fixed-window budget per client address;
//! - [`jsonrpc`]: the JSON-RPC envelope of a POSTed MCP message, with the
//!   -32700/-32600 answers (HTTP 400) an SDK's transport does not give.
//!
//! No routes and no protocol here: each server brings its `axum::Router`.

mod accept;
pub mod auth;
pub mod headers;
pub mod hosts;
pub mod jsonrpc;
pub mod ratelimit;

pub use accept::{
    ConnectionId, HEADER_READ_TIMEOUT, Limits, MAX_CONNECTIONS, SHUTDOWN_GRACE, serve,
};
pub use hosts::Hosts;
pub use ratelimit::{Limiter, RateLimit};
