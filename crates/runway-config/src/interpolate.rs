//! `${VAR}` interpolation for values that name hosts, paths or commands.
//!
//! Secrets are never interpolated into the config: a token is referenced by
//! the *name* of its variable (`token_env`) or file (`token_file`) so that it
//! never sits in a parsed struct that might be printed.

/// Replaces `${VAR}` with the variable's value; `$$` is a literal `$`.
/// Returns the name of the first unset variable as the error.
pub fn interpolate(value: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
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
                .ok_or_else(|| format!("unterminated `${{` in `{value}`"))?;
            let name = &body[..end];
            let (name, default) = match name.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (name, None),
            };
            match lookup(name).or_else(|| default.map(str::to_owned)) {
                Some(v) => out.push_str(&v),
                None => return Err(name.to_owned()),
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
pub fn interpolate_env(value: &str) -> Result<String, String> {
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
        assert_eq!(interpolate("${NOPE}", env).unwrap_err(), "NOPE");
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
