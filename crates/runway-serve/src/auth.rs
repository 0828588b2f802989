//! The bearer token of `Authorization: Bearer <token>`, compared in constant time.

use http::{HeaderMap, header};

/// The token of `Authorization: Bearer <token>`, if the header has that form.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
}

/// Equal in time whatever the first differing byte, so timing does not leak a token.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole_and_the_scheme_ignores_case() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert!(!same_secret("", "a"));
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "bEaReR  t0k ".parse().unwrap());
        assert_eq!(bearer(&h), Some("t0k"));
        h.insert(header::AUTHORIZATION, "Basic dTpw".parse().unwrap());
        assert_eq!(bearer(&h), None);
    }
}
