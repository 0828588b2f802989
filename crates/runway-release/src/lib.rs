//! Version files, semantic versions, conventional commits, changelogs and tags.
