//! The value checks `runway.toml`'s tables share, as serde
//! `deserialize_with` functions: each refuses a bad value with a message that
//! says what a good one looks like, and serde puts the file, line and column
//! in front of it.

use std::num::NonZeroU32;

use serde::{Deserialize, Deserializer, de::Error as _};

pub(crate) fn ratio<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = f64::deserialize(d)?;
    if (0.0..=1.0).contains(&v) {
        Ok(Some(v))
    } else {
        Err(D::Error::custom(format!(
            "`{v}` must be between 0 and 1 (0.95 means 95%)"
        )))
    }
}

pub(crate) fn positive_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = f64::deserialize(d)?;
    if v.is_finite() && v > 0.0 {
        Ok(Some(v))
    } else {
        Err(D::Error::custom(format!(
            "`{v}` must be a number greater than 0"
        )))
    }
}

pub(crate) fn path<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = String::deserialize(d)?;
    if v.starts_with('/') || v.starts_with("http://") || v.starts_with("https://") {
        Ok(Some(v))
    } else {
        Err(D::Error::custom(format!(
            "`{v}` must be an absolute path (`/health`) or a URL"
        )))
    }
}

pub(crate) fn object<'de, D: Deserializer<'de>>(d: D) -> Result<serde_json::Value, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    if v.is_object() {
        Ok(v)
    } else {
        Err(D::Error::custom(
            "`arguments` must be a table, e.g. `arguments = { message = \"hi\" }`",
        ))
    }
}

pub(crate) fn burst<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NonZeroU32>, D::Error> {
    let v = NonZeroU32::deserialize(d)?;
    if v.get() <= 1000 {
        Ok(Some(v))
    } else {
        Err(D::Error::custom(format!(
            "`{v}` is more than the maximum burst of 1000"
        )))
    }
}

pub(crate) fn empty_object() -> serde_json::Value {
    serde_json::json!({})
}

pub(crate) fn command_line<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<String>>, D::Error> {
    let v = Vec::<String>::deserialize(d)?;
    if v.first().is_none_or(|p| p.trim().is_empty()) {
        return Err(D::Error::custom(
            "a command is a non-empty list: the program, then its arguments (`[\"python3\", \"server.py\", \"{port}\"]`)",
        ));
    }
    Ok(Some(v))
}

pub(crate) fn port<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    let v = u16::deserialize(d)?;
    if v == 0 {
        return Err(D::Error::custom(
            "`0` is not a port the server can be reached on: give a fixed port (`18710`)",
        ));
    }
    Ok(Some(v))
}

/// Headers Runway sets itself on an MCP request, or that the HTTP layer owns:
/// a token cannot travel in one of them.
pub const RESERVED_HEADERS: &[&str] = &[
    "accept",
    "authorization",
    "connection",
    "content-length",
    "content-type",
    "host",
    "last-event-id",
    "mcp-method",
    "mcp-name",
    "mcp-protocol-version",
    "mcp-session-id",
    "origin",
    "transfer-encoding",
];

/// Checks a header name that carries the token (`X-API-Key`): an HTTP token
/// (RFC 9110 section 5.6.2), not one Runway sets itself; `Authorization` is
/// the default and takes `Bearer <token>`.
pub fn header_name(name: &str) -> Result<(), HeaderNameError> {
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(tchar) {
        return Err(HeaderNameError::NotAToken(name.to_owned()));
    }
    let lower = name.to_ascii_lowercase();
    if lower == "authorization" {
        return Err(HeaderNameError::Default);
    }
    if RESERVED_HEADERS.contains(&lower.as_str()) {
        return Err(HeaderNameError::Reserved(name.to_owned()));
    }
    Ok(())
}

/// Why a name cannot be the header that carries the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderNameError {
    #[error("{0:?} is not an HTTP header name: use letters, digits and `-` (`X-API-Key`)")]
    NotAToken(String),
    #[error(
        "`Authorization` is the default (`Authorization: Bearer <token>`): leave the header unset, or name the header the server reads the token from as is (`X-API-Key`)"
    )]
    Default,
    #[error(
        "`{0}` is a header Runway or HTTP sets itself: name the header the server reads the token from (`X-API-Key`)"
    )]
    Reserved(String),
}

pub(crate) fn auth_header<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = String::deserialize(d)?;
    header_name(&v).map_err(D::Error::custom)?;
    Ok(Some(v))
}
