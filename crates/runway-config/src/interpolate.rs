//! `${VAR}` interpolation for values that name hosts, paths or commands.
//!
//! Secrets are never interpolated into the config: a token is referenced by
//! the *name* of its variable (`token_env`) or file (`token_file`) so that it
//! never sits in a parsed struct that might be printed.

/// Why a value cannot be interpolated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterpolateError {
    /// `${VAR}` names a variable that is not set (and has no `:-default`).
    #[error("environment variable `{var}` is not set")]
    Unset { var: String },
    /// A `${` with no `}` after it.
    #[error(
        "unterminated `${{` in {value:?}: close it with `}}` (`${{VAR}}`), or write `$$` for a literal `$`"
    )]
    Unterminated { value: String },
}

/// Replaces `${VAR}` with the variable's value; `$$` is a literal `$`.
/// Stops at the first unset variable or unterminated `${`.
pub fn resolve(
    value: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, InterpolateError> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(stripped) = after.strip_prefix('$') {
            out.push('$');
            rest = stripped;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body
                .find('}')
                .ok_or_else(|| InterpolateError::Unterminated {
                    value: value.to_owned(),
                })?;
            let name = &body[..end];
            let (name, default) = match name.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (name, None),
            };
            match lookup(name).or_else(|| default.map(str::to_owned)) {
                Some(v) => out.push_str(&v),
                None => {
                    return Err(InterpolateError::Unset {
                        var: name.to_owned(),
                    });
                }
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Every problem of `value` at once: each unset variable (in order, once),
/// or the unterminated `${`.
pub fn problems(value: &str, lookup: impl Fn(&str) -> Option<String>) -> Vec<InterpolateError> {
    let mut unset: Vec<String> = Vec::new();
    // Each round finds one more unset variable; there are at most as many as `${`.
    for _ in 0..=value.matches("${").count() {
        match resolve(value, |name| {
            lookup(name).or_else(|| unset.iter().any(|u| u == name).then(String::new))
        }) {
            Ok(_) => break,
            Err(InterpolateError::Unset { var }) => unset.push(var),
            Err(e) => return vec![e],
        }
    }
    unset
        .into_iter()
        .map(|var| InterpolateError::Unset { var })
        .collect()
}

/// Why [`interpolate`] stopped. Its text is the bare name of the unset
/// variable, which callers put in their own sentence, or for an
/// unterminated `${` the whole [`InterpolateError`] text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unresolved {
    #[error("{var}")]
    Unset { var: String },
    #[error("{}", InterpolateError::Unterminated { value: value.clone() })]
    Unterminated { value: String },
}

impl From<InterpolateError> for Unresolved {
    fn from(e: InterpolateError) -> Self {
        match e {
            InterpolateError::Unset { var } => Unresolved::Unset { var },
            InterpolateError::Unterminated { value } => Unresolved::Unterminated { value },
        }
    }
}

/// Replaces `${VAR}` with the variable's value; `$$` is a literal `$`.
/// Returns the name of the first unset variable as the error. An
/// unterminated `${` is refused when `runway.toml` is loaded (see
/// [`check_terminated`]), so it does not reach here from the config; from
/// elsewhere it comes back as the whole [`InterpolateError`] text.
pub fn interpolate(
    value: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, Unresolved> {
    resolve(value, lookup).map_err(Unresolved::from)
}

/// Whether every `${` in `value` is closed (`$$` escapes a `$`).
pub fn check_terminated(value: &str) -> Result<(), InterpolateError> {
    match resolve(value, |_| Some(String::new())) {
        Err(e @ InterpolateError::Unterminated { .. }) => Err(e),
        _ => Ok(()),
    }
}

/// The names of the variables `value` uses (`${VAR}` and `${VAR:-default}`),
/// in order; `$$` escapes and an unterminated `${` name nothing.
pub fn variables(value: &str) -> Vec<String> {
    let names = std::cell::RefCell::new(Vec::new());
    let _ = interpolate(value, |k| {
        names.borrow_mut().push(k.to_owned());
        Some(String::new())
    });
    names.into_inner()
}

/// [`interpolate`] against the process environment.
pub fn interpolate_env(value: &str) -> Result<String, Unresolved> {
    interpolate(value, |k| std::env::var(k).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(k: &str) -> Option<String> {
        (k == "HOST").then(|| "api.example.com".to_owned())
    }

    #[test]
    fn replaces_vars_defaults_and_escapes() {
        assert_eq!(
            interpolate("https://${HOST}/mcp", env).unwrap(),
            "https://api.example.com/mcp"
        );
        assert_eq!(interpolate("${PORT:-8080}", env).unwrap(), "8080");
        assert_eq!(interpolate("cost $$5 $x", env).unwrap(), "cost $5 $x");
        assert_eq!(interpolate("${NOPE}", env).unwrap_err().to_string(), "NOPE");
    }

    #[test]
    fn an_unterminated_reference_says_so() {
        let e = resolve("https://${NOPE/mcp", env).unwrap_err();
        assert_eq!(
            e,
            InterpolateError::Unterminated {
                value: "https://${NOPE/mcp".into()
            }
        );
        assert!(e.to_string().starts_with("unterminated `${`"), "{e}");
        assert!(check_terminated("$${x").is_ok());
        assert!(check_terminated("a ${B} c").is_ok());
        assert!(check_terminated("a ${B").is_err());
    }

    #[test]
    fn problems_lists_every_unset_variable_once() {
        assert_eq!(
            problems("${A}-${HOST}-${B}-${A}-${C:-x}", env),
            vec![
                InterpolateError::Unset { var: "A".into() },
                InterpolateError::Unset { var: "B".into() }
            ]
        );
        assert!(problems("${HOST}", env).is_empty());
    }

    #[test]
    fn variables_lists_every_reference() {
        assert_eq!(
            variables("postgres://u:${DB_PASSWORD}@${HOST:-db}/x $${NOT}"),
            vec!["DB_PASSWORD".to_owned(), "HOST".to_owned()]
        );
        assert!(variables("plain").is_empty());
    }
}
