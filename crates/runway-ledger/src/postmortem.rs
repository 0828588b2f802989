//! Postmortems.
