//! A throw-away git repository with deterministic authors and dates: the one
//! shared by every crate's tests (`runway-testkit`).

pub use runway_testkit::Repo;
