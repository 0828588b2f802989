//! One way for every library error to say what the user can do about it.
//!
//! Each library's error type implements [`Diagnostic`]; the binary's error
//! reporter walks an error's `source()` chain, asks every link that is a
//! `Diagnostic` for its hints and its exit code, and prints `error:` /
//! `Caused by:` / `hint:`. Libraries never format hints into their messages.

use crate::Exit;

/// An error that knows how to help: a hint, and whether the user or Runway caused it.
pub trait Diagnostic: std::error::Error {
    /// What to do about it, as one sentence (literals in backticks, no trailing period).
    fn hint(&self) -> Option<String> {
        None
    }

    /// The exit code this error means: [`Exit::Usage`] when the user's input,
    /// files or environment caused it, [`Exit::Internal`] otherwise.
    fn exit(&self) -> Exit {
        Exit::Internal
    }
}
