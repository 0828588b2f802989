//! kubernetes (being written)
