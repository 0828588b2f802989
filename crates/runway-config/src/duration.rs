//! Durations as `runway.toml` writes them (`15s`, `10m`, `1h 30m`), shared
//! by every table that takes one; a module of its own so that the tables do
//! not import each other for it.

use std::{fmt, time::Duration};

use serde::{Deserialize, Deserializer, de::Error as _};

/// A duration written as `15s`, `10m`, `1h` or `1h 30m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DurationValue(pub Duration);

impl DurationValue {
    pub fn get(self) -> Duration {
        self.0
    }
}

impl fmt::Display for DurationValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match humantime::parse_duration(s.trim()) {
            Ok(v) if !v.is_zero() => Ok(DurationValue(v)),
            Ok(_) => Err(D::Error::custom(format!(
                "`{s}` must be longer than zero (e.g. `15s`, `10m`, `1h`)"
            ))),
            Err(_) => Err(D::Error::custom(format!(
                "`{s}` is not a duration: write it as `15s`, `10m` or `1h`"
            ))),
        }
    }
}
