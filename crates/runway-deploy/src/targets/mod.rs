//! The deploy targets, one folder each: every way Runway can put a version
//! in an environment, each a [`crate::Target`].

pub mod command;
#[cfg(feature = "docker")]
pub mod docker;
#[cfg(feature = "kubernetes")]
pub mod kubernetes;
pub mod process;
