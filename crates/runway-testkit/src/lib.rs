//! What every test that runs the `runway` binary, or needs a git repository, shares.
//!
//! Tests read like the feature (just's `tests/test.rs`):
//!
//! ```no_run
//! use runway_testkit::Test;
//! Test::new()
//!     .args(["verify", "http://127.0.0.1:9/mcp", "--format", "yaml"])
//!     .run()
//!     .code(2)
//!     .stderr_contains("unknown format `yaml`");
//! ```
//!
//! [`Test`] runs the real binary, bounded in time (the whole process group is
//! killed past the deadline), with no colour and no inherited `GITHUB_*`
//! variables. [`git::Repo`] is a throw-away repository with a pinned identity
//! and dates. Dev-only: no shipped crate depends on this one.

pub mod cli;
pub mod git;

pub use cli::{Output, Test, runway_bin};
pub use git::Repo;
