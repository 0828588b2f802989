//! The `runway` binary's tests, one module a command area, in one test binary:
//! each `tests/*.rs` file used to link the whole dependency tree again.
//!
//! Run one area with `cargo test -p runway --test cli deploy_docker::`.

#[macro_use]
mod ledger_support;
mod docker_support;
mod release_support;

mod cli_basics;
mod deploy_cli;
mod deploy_docker;
mod deploy_logs;
mod deploy_traffic;
mod deploy_trust;
mod ledger_cli;
mod ledger_reliability;
mod mcp_cli;
mod mcp_clients;
mod mcp_deploy;
mod mcp_secrets;
mod monitor_cli;
mod monitor_locations;
mod monitor_shared;
mod monitor_traffic;
mod monitor_web;
mod preflight_cli;
mod release_artifacts;
mod release_cli;
mod release_fixtures;
mod release_gates;
mod release_histories;
mod release_init;
mod release_post;
mod release_surface;
mod serve_reference;
mod triage_cli;
mod verify_cli;
mod verify_flags;
mod verify_record;
mod verify_rules;
mod verify_stdio;
