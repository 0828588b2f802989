//! Version files, semantic versions, conventional commits, changelogs and tags.
//!
//! The library behind `runway release`: everything here returns data; the
//! binary decides how to print it and which exit code it means. The tool
//! surface comparison lives here too, so a release can require the bump its
//! surface change needs without depending on the MCP client that captures it.

pub mod changelog;
pub mod commits;
pub mod error;
pub mod files;
pub mod git;
pub mod plan;
pub mod redact;
pub mod server_json;
pub mod surface;
pub mod tags;
pub mod version;

pub use error::{ReleaseError, Result};
pub use surface::{SurfaceChange, SurfaceDiff, compare_surfaces};
