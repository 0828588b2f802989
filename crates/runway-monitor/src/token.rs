//! When the configured bearer token expires: the `exp` claim of a JWT.
//!
//! Only the payload is decoded (base64url, no signature check: the monitor
//! does not trust the token, it only reads when it stops working). A token
//! that is not a JWT, or has no numeric `exp`, has no expiry to alert on.

use chrono::{DateTime, Utc};

/// The `exp` of a JWT (`header.payload.signature`), if it has one.
pub fn jwt_expiry(token: &str) -> Option<DateTime<Utc>> {
    let mut parts = token.trim().split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || payload.len() > 64 * 1024 {
        return None;
    }
    let bytes = base64url(payload)?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_f64()?;
    if !exp.is_finite() {
        return None;
    }
    DateTime::from_timestamp(exp.trunc() as i64, 0)
}

/// Unpadded (or padded) base64url.
fn base64url(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_exp_from_a_jwt_and_nothing_from_anything_else() {
        // {"alg":"none"} . {"sub":"monitor","exp":1796000000} . sig
        let t = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJtb25pdG9yIiwiZXhwIjoxNzk2MDAwMDAwfQ.c2ln";
        assert_eq!(jwt_expiry(t).map(|d| d.timestamp()), Some(1_796_000_000));
        assert_eq!(base64url("aGk").as_deref(), Some(&b"hi"[..]));
        assert_eq!(base64url("aGk=").as_deref(), Some(&b"hi"[..]));
        assert_eq!(jwt_expiry("opaque-token-123"), None);
        assert_eq!(jwt_expiry("a.b!.c"), None);
        // {"sub":"x"}: no exp.
        assert_eq!(jwt_expiry("e30.eyJzdWIiOiJ4In0.c2ln"), None);
        assert_eq!(jwt_expiry("a.b.c.d"), None);
    }
}
