//! The `jwks` gate (dynamic-mcp pre-deploy 3-4: JWKS URL, issuer, audience,
//! scopes): the key set the server trusts is served and sound, and a test
//! token, when one is given, verifies against it with the issuer, audience,
//! lifetime and scopes the server expects.
//!
//! [`fetch`] observes (bounded in size and time through runway-verify's
//! `http::fetch`); [`judge`] is a pure function of what was observed, the
//! token and the clock. The token is a secret: no verdict ever holds it, only
//! the variable's name and claims that are not secret (`iss`, `aud`, `kid`,
//! times, scope names).

use base64::Engine as _;
use jsonwebtoken::{
    Algorithm, DecodingKey, Validation,
    errors::ErrorKind,
    jwk::{Jwk, JwkSet},
};
use runway_config::deploy::JwksGate;
use serde_json::Value;

use crate::verdict::{GateStatus, Verdict};

const GATE: &str = "jwks";

/// The most of a key set read: real ones are a few KiB.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;

/// What fetching the key set gave: the status and body, or why there was none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The URL as fetched (`${VAR}` resolved; a key set URL is not secret).
    pub url: String,
    /// `issuer` and `audience` with their `${VAR}`s resolved (the server's
    /// own `MCP_AUTH_ISSUER`, `MCP_AUTH_AUDIENCE`).
    pub issuer: Option<String>,
    pub audience: Option<String>,
    /// `required_scopes` with their `${VAR}`s resolved.
    pub required_scopes: Vec<String>,
    pub outcome: Result<(u16, Vec<u8>, bool), String>,
}

/// Fetches the key set at `cfg.url`, bounded by `cfg.timeout()` and
/// [`MAX_JWKS_BYTES`], with the `${VAR}`s of `url`, `issuer`, `audience`
/// and `required_scopes` resolved first.
pub async fn fetch(cfg: &JwksGate) -> Fetched {
    let resolve = |field: &str, v: &str| {
        runway_config::interpolate::interpolate_env(v)
            .map_err(|var| format!("`{var}` is not set (used by `gates.jwks.{field}`)"))
    };
    let fields = (
        resolve("url", &cfg.url),
        cfg.issuer
            .as_deref()
            .map(|v| resolve("issuer", v))
            .transpose(),
        cfg.audience
            .as_deref()
            .map(|v| resolve("audience", v))
            .transpose(),
        cfg.required_scopes
            .iter()
            .map(|v| resolve("required_scopes", v))
            .collect::<Result<Vec<_>, _>>(),
    );
    let (url, issuer, audience, required_scopes) = match fields {
        (Ok(u), Ok(i), Ok(a), Ok(s)) => (u, i, a, s),
        (u, i, a, s) => {
            let why = [u.err(), i.err(), a.err(), s.err()]
                .into_iter()
                .flatten()
                .next();
            return Fetched {
                url: cfg.url.clone(),
                issuer: cfg.issuer.clone(),
                audience: cfg.audience.clone(),
                required_scopes: cfg.required_scopes.clone(),
                outcome: Err(why.unwrap_or_default()),
            };
        }
    };
    let limits = runway_verify::http::Limits {
        timeout: cfg.timeout(),
        max_body: MAX_JWKS_BYTES,
    };
    let client = runway_verify::http::client(limits);
    let outcome = match client
        .get(&url)
        .header("accept", "application/json")
        .build()
    {
        Err(e) => Err(format!("not a URL Runway can fetch: {e}")),
        Ok(req) => runway_verify::http::fetch(&client, req, limits)
            .await
            .map(|o| (o.status, o.body, o.truncated))
            .map_err(|e| e.to_string()),
    };
    Fetched {
        url,
        issuer,
        audience,
        required_scopes,
        outcome,
    }
}

/// The test token as found: the variable's name and its value when it is
/// set and not empty.
pub type TestToken = (String, Option<String>);

/// The test token: `None` when no `test_token_env` is configured, else the
/// variable's name and its value when it is set and not empty.
pub fn token_from_env(cfg: &JwksGate) -> Option<TestToken> {
    let var = cfg.test_token_env.as_deref()?;
    let value = std::env::var(var).ok().filter(|v| !v.trim().is_empty());
    Some((var.to_owned(), value.map(|v| v.trim().to_owned())))
}

fn refuse(detail: impl Into<String>, hint: &str) -> Verdict {
    Verdict::new(GATE, GateStatus::Refuse, detail).hint(hint)
}

fn algorithm(name: &str) -> Option<Algorithm> {
    name.parse().ok()
}

fn alg_name(a: Algorithm) -> &'static str {
    match a {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::EdDSA => "EdDSA",
    }
}

fn when(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| secs.to_string())
}

/// One key as served, with its `kid` (or its place) for messages.
struct Key {
    name: String,
    kid: Option<String>,
    jwk: Jwk,
}

/// Judges the key set and the test token at `now` (seconds since the epoch).
pub fn judge(cfg: &JwksGate, fetched: &Fetched, token: Option<TestToken>, now: i64) -> Verdict {
    let cfg = &JwksGate {
        issuer: fetched.issuer.clone(),
        audience: fetched.audience.clone(),
        required_scopes: fetched.required_scopes.clone(),
        ..cfg.clone()
    };
    let url = &fetched.url;
    let (status, body, truncated) = match &fetched.outcome {
        Ok(o) => o,
        Err(why) => {
            return refuse(
                format!("{url}: {why}"),
                "the server validates tokens with this key set: check `gates.jwks.url` and that the issuer is up",
            );
        }
    };
    if !(200..300).contains(status) {
        return refuse(
            format!("{url} answered HTTP {status}, not a key set"),
            "check `gates.jwks.url` (it is usually `<issuer>/.well-known/jwks.json`)",
        );
    }
    if *truncated {
        return refuse(
            format!(
                "{url}: the key set is larger than {} KiB (or arrived too slowly)",
                MAX_JWKS_BYTES / 1024
            ),
            "check `gates.jwks.url` serves the key set, not another document",
        );
    }
    let malformed = |why: String| {
        refuse(
            format!("{url} does not serve a JWK set (RFC 7517): {why}"),
            "`gates.jwks.url` must serve `{\"keys\": [...]}`: check the URL and the issuer's configuration",
        )
    };
    let doc: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return malformed(format!("not JSON ({e})")),
    };
    let Some(raw_keys) = doc.get("keys").and_then(Value::as_array) else {
        return malformed("no `keys` array".into());
    };
    if raw_keys.is_empty() {
        return malformed("`keys` is empty".into());
    }
    let mut keys = Vec::new();
    for (i, raw) in raw_keys.iter().enumerate() {
        let kid = raw.get("kid").and_then(Value::as_str).map(str::to_owned);
        let name = match &kid {
            Some(k) => format!("key `{k}`"),
            None => format!("key #{}", i + 1),
        };
        if let Some(alg) = raw.get("alg").and_then(Value::as_str)
            && !cfg.algorithms.iter().any(|a| a == alg)
        {
            return refuse(
                format!(
                    "{url}: {name} has `alg` {alg}, not one of `gates.jwks.algorithms` ({})",
                    cfg.algorithms.join(", ")
                ),
                "add the algorithm to `gates.jwks.algorithms` if the issuer really signs with it, or fix the issuer's key set",
            );
        }
        if let Some(exp) = raw.get("exp").and_then(Value::as_i64)
            && exp <= now
        {
            return refuse(
                format!("{url}: {name} expired at {}", when(exp)),
                "the issuer must rotate its keys: publish a current key before deploying",
            );
        }
        let jwk: Jwk = match serde_json::from_value(raw.clone()) {
            Ok(j) => j,
            Err(e) => return malformed(format!("{name} does not parse ({e})")),
        };
        keys.push(Key { name, kid, jwk });
    }
    // The whole set once more, as the server's own library would read it.
    if let Err(e) = serde_json::from_value::<JwkSet>(doc.clone()) {
        return malformed(e.to_string());
    }
    let kids: Vec<&str> = keys.iter().filter_map(|k| k.kid.as_deref()).collect();
    let served = format!(
        "{url}: {} key(s){}",
        keys.len(),
        if kids.is_empty() {
            String::new()
        } else {
            format!(" ({})", kids.join(", "))
        }
    );

    let Some((var, value)) = token else {
        if cfg.issuer.is_some() || cfg.audience.is_some() || !cfg.required_scopes.is_empty() {
            return Verdict::new(
                GATE,
                GateStatus::Warn,
                format!("{served}; issuer, audience and scopes not exercised (no test token)"),
            )
            .hint("set `gates.jwks.test_token_env` to a variable holding a token from the issuer");
        }
        return Verdict::new(GATE, GateStatus::Pass, served);
    };
    let Some(token) = value else {
        return refuse(
            format!("{served}; `{var}` (the test token) is not set"),
            &format!(
                "export {var} with a token from the issuer, or remove `gates.jwks.test_token_env`"
            ),
        );
    };
    match verify_token(cfg, &keys, &token, &var) {
        Ok(what) => Verdict::new(GATE, GateStatus::Pass, format!("{served}; {what}")),
        Err((detail, hint)) => refuse(
            format!("{served}; the test token in `{var}` {detail}"),
            &hint,
        ),
    }
}

/// The token's claims, read without verifying, for messages only.
fn unverified_claims(token: &str) -> Value {
    token
        .split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p.trim_end_matches('='))
                .ok()
        })
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null)
}

fn shown(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "none".into(),
        Some(Value::String(s)) => format!("`{s}`"),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map_or_else(|| x.to_string(), |s| format!("`{s}`"))
            })
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    }
}

type Refusal = (String, String);

fn verify_token(cfg: &JwksGate, keys: &[Key], token: &str, var: &str) -> Result<String, Refusal> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| {
        (
            format!("is not a JWT ({e})"),
            format!("`{var}` must hold a signed JWT (three base64url parts) from the issuer"),
        )
    })?;
    let alg = alg_name(header.alg);
    if !cfg.algorithms.iter().any(|a| a == alg) {
        return Err((
            format!(
                "is signed with {alg}, not one of `gates.jwks.algorithms` ({})",
                cfg.algorithms.join(", ")
            ),
            "fix `gates.jwks.algorithms` or the issuer's signing algorithm".into(),
        ));
    }
    let key = match &header.kid {
        Some(kid) => keys.iter().find(|k| k.kid.as_deref() == Some(kid)),
        None if keys.len() == 1 => keys.first(),
        None => None,
    };
    let Some(key) = key else {
        let kid = header.kid.as_deref().unwrap_or("(none)");
        return Err((
            format!("has `kid` {kid}, which is not in the key set"),
            "the token was signed by a key the server will not find: check `gates.jwks.url` points at the token's issuer"
                .into(),
        ));
    };
    let decoding = DecodingKey::from_jwk(&key.jwk).map_err(|e| {
        (
            format!("cannot be checked: {} is not a usable key ({e})", key.name),
            "fix the issuer's key set".into(),
        )
    })?;
    let Some(algorithm) = algorithm(alg) else {
        return Err((
            format!("uses an unknown `alg` {alg}"),
            "fix `gates.jwks.algorithms`".into(),
        ));
    };
    let mut v = Validation::new(algorithm);
    v.leeway = 30;
    v.validate_exp = true;
    v.validate_nbf = true;
    let mut required = vec!["exp"];
    match &cfg.issuer {
        Some(iss) => {
            v.set_issuer(&[iss]);
            required.push("iss");
        }
        None => v.iss = None,
    }
    match &cfg.audience {
        Some(aud) => {
            v.set_audience(&[aud]);
            required.push("aud");
        }
        None => v.validate_aud = false,
    }
    v.set_required_spec_claims(&required);
    let claims = unverified_claims(token);
    let verified = match jsonwebtoken::decode::<Value>(token, &decoding, &v) {
        Ok(d) => d.claims,
        Err(e) => {
            let (detail, hint) = match e.kind() {
                ErrorKind::InvalidSignature => (
                    format!("does not verify with {}", key.name),
                    "the token was not signed by this key set's owner: check `gates.jwks.url`".to_owned(),
                ),
                ErrorKind::ExpiredSignature => (
                    format!(
                        "expired at {}",
                        claims.get("exp").and_then(Value::as_i64).map_or_else(|| "?".into(), when)
                    ),
                    format!("put a fresh token from the issuer in `{var}`"),
                ),
                ErrorKind::ImmatureSignature => (
                    format!(
                        "is not valid before {}",
                        claims.get("nbf").and_then(Value::as_i64).map_or_else(|| "?".into(), when)
                    ),
                    "check the clocks of the issuer and this host".to_owned(),
                ),
                ErrorKind::InvalidIssuer => (
                    format!(
                        "has `iss` {}, not `{}`",
                        shown(claims.get("iss")),
                        cfg.issuer.as_deref().unwrap_or_default()
                    ),
                    "fix `gates.jwks.issuer` (it must match the server's configured issuer) or use a token from that issuer".to_owned(),
                ),
                ErrorKind::InvalidAudience => (
                    format!(
                        "has `aud` {}, not `{}`",
                        shown(claims.get("aud")),
                        cfg.audience.as_deref().unwrap_or_default()
                    ),
                    "fix `gates.jwks.audience` (the server's resource identifier) or issue the token for it".to_owned(),
                ),
                ErrorKind::MissingRequiredClaim(c) => (
                    format!("has no `{c}` claim"),
                    format!("the server requires `{c}`: issue a token that carries it"),
                ),
                ErrorKind::InvalidAlgorithm => (
                    format!("is signed with {alg}, which {} does not allow", key.name),
                    "fix `gates.jwks.algorithms` or the issuer's signing algorithm".to_owned(),
                ),
                _ => (
                    format!("does not verify ({e})"),
                    format!("put a valid token from the issuer in `{var}`"),
                ),
            };
            return Err((detail, hint));
        }
    };
    let granted: Vec<String> = match (verified.get("scope"), verified.get("scp")) {
        (Some(Value::String(s)), _) => s.split_whitespace().map(str::to_owned).collect(),
        (_, Some(Value::Array(a))) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        (_, Some(Value::String(s))) => s.split_whitespace().map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    let missing: Vec<&str> = cfg
        .required_scopes
        .iter()
        .map(String::as_str)
        .filter(|s| !granted.iter().any(|g| g == s))
        .collect();
    if !missing.is_empty() {
        return Err((
            format!(
                "lacks scope(s) {} (grants: {})",
                missing.join(", "),
                if granted.is_empty() { "none".into() } else { granted.join(" ") }
            ),
            "issue the token with `gates.jwks.required_scopes`, or fix that list to what the server requires".into(),
        ));
    }
    let mut what = vec![format!(
        "test token from `{var}` verifies with {} ({alg})",
        key.name
    )];
    if let Some(i) = &cfg.issuer {
        what.push(format!("iss `{i}`"));
    }
    if let Some(a) = &cfg.audience {
        what.push(format!("aud `{a}`"));
    }
    if let Some(exp) = verified.get("exp").and_then(Value::as_i64) {
        what.push(format!("valid until {}", when(exp)));
    }
    if !cfg.required_scopes.is_empty() {
        what.push(format!("scopes {}", cfg.required_scopes.join(" ")));
    }
    Ok(what.join(", "))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use jsonwebtoken::{EncodingKey, Header};
    use ring::{
        rand::SystemRandom,
        signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _},
    };
    use runway_config::{Config, GatesConfig};
    use serde_json::json;

    use super::*;
    use crate::gates;

    /// A P-256 signing key made for the test, with its public half as a JWK.
    struct TestKey {
        kid: String,
        pkcs8: Vec<u8>,
        x: String,
        y: String,
    }

    impl TestKey {
        fn new(kid: &str) -> TestKey {
            let rng = SystemRandom::new();
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .unwrap()
                .as_ref()
                .to_vec();
            let pair =
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, &rng).unwrap();
            let point = pair.public_key().as_ref();
            assert_eq!(point.len(), 65, "an uncompressed P-256 point");
            let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
            TestKey {
                kid: kid.to_owned(),
                x: b64(&point[1..33]),
                y: b64(&point[33..]),
                pkcs8,
            }
        }

        fn jwk(&self) -> Value {
            json!({"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256",
                   "kid": self.kid, "x": self.x, "y": self.y})
        }

        fn sign(&self, claims: &Value) -> String {
            let mut h = Header::new(Algorithm::ES256);
            h.kid = Some(self.kid.clone());
            jsonwebtoken::encode(&h, claims, &EncodingKey::from_ec_der(&self.pkcs8)).unwrap()
        }
    }

    fn now() -> i64 {
        jiff::Timestamp::now().as_second()
    }

    fn good_claims() -> Value {
        json!({"iss": "https://auth.example.com", "aud": "https://mcp.example.com",
               "sub": "ci", "exp": now() + 600, "nbf": now() - 10,
               "scope": "mcp:read mcp:write"})
    }

    /// Serves `body` at `/.well-known/jwks.json` on 127.0.0.1; the URL.
    async fn serve(body: String) -> String {
        let app = axum::Router::new().route(
            "/.well-known/jwks.json",
            axum::routing::get(move || {
                let body = body.clone();
                async move { ([("content-type", "application/json")], body) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/.well-known/jwks.json")
    }

    fn gates_for(url: &str, extra: &str) -> GatesConfig {
        let text = format!(
            "[environments.p.gates.jwks]\nurl = \"{url}\"\nissuer = \"https://auth.example.com\"\n\
             audience = \"https://mcp.example.com\"\nalgorithms = [\"ES256\"]\n\
             required_scopes = [\"mcp:read\"]\ntest_token_env = \"MCP_TEST_TOKEN\"\n{extra}"
        );
        let c = Config::parse(&text, Path::new("runway.toml")).unwrap();
        c.environments["p"].gates.clone().unwrap()
    }

    /// The gate end to end: fetch from `url`, then judge with `token`.
    async fn run(g: &GatesConfig, token: Option<&str>) -> Verdict {
        let fetched = fetch(g.jwks.as_ref().unwrap()).await;
        let token = Some(("MCP_TEST_TOKEN".to_owned(), token.map(str::to_owned)));
        gates::jwks(Some(g), Some((&fetched, token)), now())
    }

    fn refused_with(v: &Verdict, needle: &str) {
        assert_eq!(v.status, GateStatus::Refuse, "{v:?}");
        assert!(v.detail.contains(needle), "`{needle}` not in: {}", v.detail);
        assert!(v.hint.is_some(), "{v:?}");
    }

    #[tokio::test]
    async fn a_good_token_verifies_against_the_served_key_set() {
        let key = TestKey::new("k1");
        let other = TestKey::new("k2");
        let url = serve(json!({"keys": [other.jwk(), key.jwk()]}).to_string()).await;
        let g = gates_for(&url, "");
        let token = key.sign(&good_claims());
        let v = run(&g, Some(&token)).await;
        assert_eq!(v.status, GateStatus::Pass, "{v:?}");
        assert!(v.detail.contains("2 key(s) (k2, k1)"), "{}", v.detail);
        assert!(
            v.detail.contains("verifies with key `k1` (ES256)"),
            "{}",
            v.detail
        );
        assert!(v.detail.contains("scopes mcp:read"), "{}", v.detail);
        // The token is a secret: no part of it is shown.
        for part in token.split('.') {
            assert!(!v.detail.contains(part), "{}", v.detail);
        }
        // `scp` as an array grants scopes too.
        let mut c = good_claims();
        c.as_object_mut().unwrap().remove("scope");
        c["scp"] = json!(["mcp:read"]);
        let v = run(&g, Some(&key.sign(&c))).await;
        assert_eq!(v.status, GateStatus::Pass, "{v:?}");
    }

    #[tokio::test]
    async fn each_bad_token_refuses_naming_what_is_wrong() {
        let key = TestKey::new("k1");
        let url = serve(json!({"keys": [key.jwk()]}).to_string()).await;
        let g = gates_for(&url, "");
        let with = |k: &str, v: Value| {
            let mut c = good_claims();
            c[k] = v;
            key.sign(&c)
        };
        let v = run(&g, Some(&with("iss", json!("https://evil.example.com")))).await;
        refused_with(
            &v,
            "has `iss` `https://evil.example.com`, not `https://auth.example.com`",
        );
        assert!(v.hint.as_deref().unwrap().contains("gates.jwks.issuer"));
        let v = run(&g, Some(&with("aud", json!("https://other.example.com")))).await;
        refused_with(
            &v,
            "has `aud` `https://other.example.com`, not `https://mcp.example.com`",
        );
        assert!(v.hint.as_deref().unwrap().contains("gates.jwks.audience"));
        let v = run(&g, Some(&with("exp", json!(now() - 3600)))).await;
        refused_with(&v, "expired at");
        let v = run(&g, Some(&with("nbf", json!(now() + 3600)))).await;
        refused_with(&v, "is not valid before");
        let v = run(&g, Some(&with("scope", json!("mcp:write")))).await;
        refused_with(&v, "lacks scope(s) mcp:read (grants: mcp:write)");
        assert!(
            v.hint
                .as_deref()
                .unwrap()
                .contains("gates.jwks.required_scopes")
        );
        // Signed by a key the set does not hold.
        let stranger = TestKey::new("k9");
        let v = run(&g, Some(&stranger.sign(&good_claims()))).await;
        refused_with(&v, "has `kid` k9, which is not in the key set");
        // Same kid, another key: the signature does not verify.
        let forger = TestKey::new("k1");
        let v = run(&g, Some(&forger.sign(&good_claims()))).await;
        refused_with(&v, "does not verify with key `k1`");
        let v = run(&g, Some("not-a-token")).await;
        refused_with(&v, "is not a JWT");
        let v = run(&g, None).await;
        refused_with(&v, "`MCP_TEST_TOKEN` (the test token) is not set");
    }

    #[tokio::test]
    async fn issuer_and_audience_may_come_from_the_servers_own_variables() {
        let key = TestKey::new("k1");
        let url = serve(json!({"keys": [key.jwk()]}).to_string()).await;
        let mut g = gates_for(&url, "");
        let j = g.jwks.as_mut().unwrap();
        j.issuer = Some("${RUNWAY_JWKS_TEST_ISSUER_UNSET}".into());
        let v = run(&g, Some(&key.sign(&good_claims()))).await;
        refused_with(
            &v,
            "`RUNWAY_JWKS_TEST_ISSUER_UNSET` is not set (used by `gates.jwks.issuer`)",
        );
        // `PATH` is always set and is no issuer: resolved, then compared.
        g.jwks.as_mut().unwrap().issuer = Some("${PATH}".into());
        let v = run(&g, Some(&key.sign(&good_claims()))).await;
        refused_with(&v, "has `iss` `https://auth.example.com`, not `");
        assert!(!v.detail.contains("${PATH}"), "{}", v.detail);
    }

    /// A 2048-bit RSA key made for this test only (`openssl genpkey`), and
    /// its modulus as the JWK's `n`: `RS256` is the gate's default algorithm.
    const RSA_TEST_KEY: &str = include_str!("../testdata/jwks-test-rsa.pem");
    const RSA_TEST_N: &str = "hmCqLbIQ8fiwl5jBgOBLh4Otc_YGf8MXViDFFkEV4ZtIA4FN2wA5YsQq8SWvYbIAdnSASgl6o09KLk-m7ruEkh5on9L3FaZAuFvAyK4wo7jgGRan-wbOPW_iHuAB8RR6Guw_HZI3UFAv9dfhVDGpuUG-c2V81wz_rI1aJt4gpg6VxM5EEkNQ3An9n-WAv05PDWSJF85J77_DW-EuMmeDuANTbMvcTpEpJSjX_U8LnM_pkGfWKcQ_wNqr60uo-q9-epV1NuQblwfqhuyDGbnnRKAkmMUIkfDPbgzhSPA0ngBNQISvROTT8FIns4ZRVgTAIBAOjyiRKx0AYSxNk1HLlw";

    #[tokio::test]
    async fn an_rs256_token_verifies_against_an_rsa_key_set_and_a_foreign_key_refuses() {
        let jwk = json!({"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "r1",
                                  "n": RSA_TEST_N, "e": "AQAB"}]});
        let url = serve(jwk.to_string()).await;
        let mut g = gates_for(&url, "");
        g.jwks.as_mut().unwrap().algorithms = vec!["RS256".into()];
        let mut h = Header::new(Algorithm::RS256);
        h.kid = Some("r1".into());
        let body: String = RSA_TEST_KEY
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
        let key = EncodingKey::from_rsa_der(&der);
        let token = jsonwebtoken::encode(&h, &good_claims(), &key).unwrap();
        let v = run(&g, Some(&token)).await;
        assert_eq!(v.status, GateStatus::Pass, "{}", v.detail);
        assert!(v.detail.contains("(RS256)"), "{}", v.detail);
        // The same claims signed by another key under the same kid: refused.
        let other = TestKey::new("r1");
        let mut forged = other.sign(&good_claims());
        forged.replace_range(
            ..forged.find('.').unwrap(),
            &token[..token.find('.').unwrap()],
        );
        let v = run(&g, Some(&forged)).await;
        assert_eq!(v.status, GateStatus::Refuse, "{}", v.detail);
    }

    #[tokio::test]
    async fn required_scopes_may_come_from_a_variable() {
        let key = TestKey::new("k1");
        let url = serve(json!({"keys": [key.jwk()]}).to_string()).await;
        let mut g = gates_for(&url, "");
        g.jwks.as_mut().unwrap().required_scopes = vec!["${RUNWAY_JWKS_TEST_SCOPE_UNSET}".into()];
        let v = run(&g, Some(&key.sign(&good_claims()))).await;
        refused_with(
            &v,
            "`RUNWAY_JWKS_TEST_SCOPE_UNSET` is not set (used by `gates.jwks.required_scopes`)",
        );
        // `PATH` is set and is no scope the token grants: resolved, then compared.
        g.jwks.as_mut().unwrap().required_scopes = vec!["${PATH}".into()];
        let v = run(&g, Some(&key.sign(&good_claims()))).await;
        refused_with(&v, "lacks scope(s) ");
        assert!(!v.detail.contains("${PATH}"), "{}", v.detail);
    }

    #[tokio::test]
    async fn a_disallowed_algorithm_refuses_on_the_key_and_on_the_token() {
        let key = TestKey::new("k1");
        let url = serve(json!({"keys": [key.jwk()]}).to_string()).await;
        let g = gates_for(&url, "").jwks.unwrap();
        let only_rs = JwksGate {
            algorithms: vec!["RS256".into()],
            ..g.clone()
        };
        let g2 = GatesConfig {
            jwks: Some(only_rs.clone()),
            ..Default::default()
        };
        let v = run(&g2, Some(&key.sign(&good_claims()))).await;
        refused_with(
            &v,
            "key `k1` has `alg` ES256, not one of `gates.jwks.algorithms` (RS256)",
        );
        // A key with no `alg` member: the token's own algorithm is judged.
        let mut bare = key.jwk();
        bare.as_object_mut().unwrap().remove("alg");
        let url = serve(json!({"keys": [bare]}).to_string()).await;
        let g3 = GatesConfig {
            jwks: Some(JwksGate { url, ..only_rs }),
            ..Default::default()
        };
        let v = run(&g3, Some(&key.sign(&good_claims()))).await;
        refused_with(
            &v,
            "is signed with ES256, not one of `gates.jwks.algorithms` (RS256)",
        );
    }

    #[tokio::test]
    async fn a_malformed_or_expired_key_set_refuses() {
        let key = TestKey::new("k1");
        let token = key.sign(&good_claims());
        for (body, needle) in [
            ("<html>login</html>".to_owned(), "not JSON"),
            (json!({"issuer": "x"}).to_string(), "no `keys` array"),
            (json!({"keys": []}).to_string(), "`keys` is empty"),
            (
                json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1"}]}).to_string(),
                "key `k1` does not parse",
            ),
        ] {
            let url = serve(body).await;
            let v = run(&gates_for(&url, ""), Some(&token)).await;
            refused_with(&v, "does not serve a JWK set (RFC 7517)");
            assert!(v.detail.contains(needle), "{needle}: {}", v.detail);
        }
        let mut expired = key.jwk();
        expired["exp"] = json!(now() - 60);
        let url = serve(json!({"keys": [expired]}).to_string()).await;
        let v = run(&gates_for(&url, ""), Some(&token)).await;
        refused_with(&v, "key `k1` expired at");
        // Nothing listening: a refusal naming the URL, not a hang.
        let dead = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}/jwks.json", l.local_addr().unwrap())
        };
        let v = run(&gates_for(&dead, "timeout = \"2s\"\n"), Some(&token)).await;
        refused_with(&v, &dead);
    }

    #[tokio::test]
    async fn without_a_test_token_issuer_and_audience_are_a_warning() {
        let key = TestKey::new("k1");
        let url = serve(json!({"keys": [key.jwk()]}).to_string()).await;
        let g = gates_for(&url, "");
        let fetched = fetch(g.jwks.as_ref().unwrap()).await;
        let v = gates::jwks(Some(&g), Some((&fetched, None)), now());
        assert_eq!(v.status, GateStatus::Warn, "{v:?}");
        assert!(v.hint.as_deref().unwrap().contains("test_token_env"));
        assert_eq!(gates::jwks(None, None, now()).status, GateStatus::Skipped);
    }

    #[test]
    fn bad_jwks_config_is_refused_naming_the_field() {
        for (text, needle) in [
            ("url = \"jwks.json\"\n", "jwks.url"),
            (
                "url = \"https://a/j\"\nalgorithms = [\"HS256\"]\n",
                "jwks.algorithms",
            ),
            (
                "url = \"https://a/j\"\nalgorithms = []\n",
                "jwks.algorithms",
            ),
            ("url = \"https://a/j\"\nissuer_url = \"x\"\n", "issuer_url"),
        ] {
            let e = Config::parse(
                &format!("[environments.p.gates.jwks]\n{text}"),
                Path::new("runway.toml"),
            )
            .unwrap_err()
            .to_string();
            assert!(e.contains(needle), "{needle}: {e}");
        }
    }
}
