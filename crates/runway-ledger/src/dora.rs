//! DORA metrics.
