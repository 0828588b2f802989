//! The exit codes every Runway command uses (../shared/DESIGN.md, "Verbs").

/// What a command run ended as; the binary maps it to a process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything succeeded.
    Success,
    /// A check or gate failed.
    Failed,
    /// Usage or configuration error.
    Usage,
    /// Unexpected internal error.
    Internal,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::Internal => 3,
        }
    }
}
