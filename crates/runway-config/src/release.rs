//! `[release]`: how versions, changelogs and tags are made. Owned by runway-release.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseConfig {
    /// Prefix of release tags (`v1.2.3`).
    #[serde(default = "default_tag_prefix")]
    pub tag_prefix: String,
}

fn default_tag_prefix() -> String {
    "v".to_owned()
}

impl Default for ReleaseConfig {
    fn default() -> Self {
        ReleaseConfig {
            tag_prefix: default_tag_prefix(),
        }
    }
}
