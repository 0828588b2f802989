//! Where a ledger lives, and how to name it in a message without leaking its password.
//!
//! A PostgreSQL URL usually carries a password. Every error, log line and
//! listing shows [`LedgerUrl`]'s `Display`, which drops it; only the backend
//! that connects ever sees [`LedgerUrl::connect_string`].

use std::{
    fmt,
    path::{Path, PathBuf},
};

use runway_core::{Redactor, Secret};

use crate::LedgerError;

/// The default SQLite ledger, relative to the project root.
pub const DEFAULT_SQLITE_PATH: &str = ".runway/ledger.db";

/// A parsed ledger location.
#[derive(Clone, PartialEq, Eq)]
pub enum LedgerUrl {
    /// A SQLite database file.
    Sqlite { path: PathBuf },
    /// A PostgreSQL server; `raw` is the URL as given (with any password).
    Postgres { raw: String, shown: String },
}

impl LedgerUrl {
    /// Parses `sqlite://PATH`, `sqlite:PATH`, `postgres://...`, `postgresql://...` or a
    /// bare file path. A relative SQLite path is resolved against `base`.
    pub fn parse(input: &str, base: &Path) -> Result<LedgerUrl, LedgerError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(LedgerError::Url {
                url: String::new(),
                reason: "the ledger URL is empty".into(),
            });
        }
        if input.starts_with("postgres://") || input.starts_with("postgresql://") {
            let parsed = url::Url::parse(input).map_err(|e| LedgerError::Url {
                url: hide_password_crudely(input),
                reason: e.to_string(),
            })?;
            let mut shown = parsed.clone();
            let _ = shown.set_password(None);
            let pairs: Vec<(String, String)> = parsed
                .query_pairs()
                .filter(|(k, _)| !k.eq_ignore_ascii_case("password"))
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            if pairs.is_empty() {
                shown.set_query(None);
            } else {
                shown.query_pairs_mut().clear().extend_pairs(pairs);
            }
            return Ok(LedgerUrl::Postgres {
                raw: input.to_owned(),
                shown: shown.to_string(),
            });
        }
        let path = if let Some(rest) = input.strip_prefix("sqlite://") {
            rest
        } else if let Some(rest) = input.strip_prefix("sqlite:") {
            rest
        } else if input.contains("://") {
            return Err(LedgerError::Url {
                url: hide_password_crudely(input),
                reason: "unsupported scheme: use `sqlite://PATH` or `postgres://USER@HOST:PORT/DB`"
                    .into(),
            });
        } else {
            input
        };
        // Drop SQLite URL options (`?mode=rwc`): Runway sets its own.
        let path = path.split('?').next().unwrap_or(path);
        if path.is_empty() || path == ":memory:" {
            return Err(LedgerError::Url {
                url: input.to_owned(),
                reason: "a ledger must be a file: give a path such as `sqlite://.runway/ledger.db`"
                    .into(),
            });
        }
        let path = Path::new(path);
        let path = if path.is_absolute() {
            path.to_owned()
        } else {
            base.join(path)
        };
        Ok(LedgerUrl::Sqlite { path })
    }

    /// The default ledger of a project: `.runway/ledger.db` under `root`.
    pub fn default_for(root: &Path) -> LedgerUrl {
        LedgerUrl::Sqlite {
            path: root.join(DEFAULT_SQLITE_PATH),
        }
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            LedgerUrl::Sqlite { .. } => "sqlite",
            LedgerUrl::Postgres { .. } => "postgres",
        }
    }

    /// The URL with its password, for the driver only.
    pub(crate) fn connect_string(&self) -> Secret {
        match self {
            LedgerUrl::Sqlite { path } => Secret::new(format!("sqlite://{}", path.display())),
            LedgerUrl::Postgres { raw, .. } => Secret::new(raw.clone()),
        }
    }

    /// The password in the URL, if any, so it can be redacted from driver messages.
    pub fn password(&self) -> Option<Secret> {
        match self {
            LedgerUrl::Sqlite { .. } => None,
            LedgerUrl::Postgres { raw, .. } => {
                let u = url::Url::parse(raw).ok()?;
                let from_query = u
                    .query_pairs()
                    .find(|(k, _)| k.eq_ignore_ascii_case("password"))
                    .map(|(_, v)| v.into_owned());
                let p = u.password().map(percent_decode).or(from_query)?;
                Some(Secret::new(p))
            }
        }
    }

    /// A redactor that knows this URL's password (both raw and percent-encoded).
    pub fn redactor(&self) -> Redactor {
        let mut r = Redactor::new();
        if let Some(p) = self.password() {
            r.add(&p);
        }
        if let LedgerUrl::Postgres { raw, .. } = self
            && let Some(p) = url::Url::parse(raw)
                .ok()
                .and_then(|u| u.password().map(str::to_owned))
        {
            r.add(&Secret::new(p));
        }
        r
    }
}

/// `%40` → `@`; a `+` stays a `+` (this is a URL's userinfo, not a form).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// For a URL too broken to parse: cut everything between `://user:` and `@`.
fn hide_password_crudely(input: &str) -> String {
    match (input.find("://"), input.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &input[s + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}@{}", &input[..s + 3], user, &input[at + 1..]),
                None => input.to_owned(),
            }
        }
        _ => input.to_owned(),
    }
}

impl fmt::Display for LedgerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LedgerUrl::Sqlite { path } => write!(f, "sqlite://{}", path.display()),
            LedgerUrl::Postgres { shown, .. } => f.write_str(shown),
        }
    }
}

impl fmt::Debug for LedgerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LedgerUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_url_prints_without_its_password() {
        let u = LedgerUrl::parse(
            "postgres://runway:s3cr%40t+pw@127.0.0.1:5432/runway?sslmode=disable&password=other-pw",
            Path::new("/p"),
        )
        .unwrap();
        let shown = u.to_string();
        assert_eq!(
            shown,
            "postgres://runway@127.0.0.1:5432/runway?sslmode=disable"
        );
        assert!(!format!("{u:?}").contains("s3cr"));
        assert_eq!(u.password().unwrap().expose(), "s3cr@t+pw");
        let r = u.redactor();
        assert_eq!(
            r.redact("x s3cr@t+pw y s3cr%40t+pw"),
            "x [redacted] y [redacted]"
        );
        assert!(u.connect_string().expose().contains("s3cr%40t+pw"));
    }

    #[test]
    fn sqlite_paths_resolve_against_the_project() {
        let base = Path::new("/proj");
        assert_eq!(
            LedgerUrl::parse("sqlite://.runway/l.db", base).unwrap(),
            LedgerUrl::Sqlite {
                path: "/proj/.runway/l.db".into()
            }
        );
        assert_eq!(
            LedgerUrl::parse("/abs/l.db", base).unwrap().to_string(),
            "sqlite:///abs/l.db"
        );
        assert_eq!(
            LedgerUrl::default_for(base).to_string(),
            "sqlite:///proj/.runway/ledger.db"
        );
    }

    #[test]
    fn unknown_schemes_and_memory_databases_are_refused() {
        let e = LedgerUrl::parse("mysql://u:pw@h/db", Path::new("/")).unwrap_err();
        assert!(e.to_string().contains("unsupported scheme"), "{e}");
        assert!(!e.to_string().contains("pw@"), "{e}");
        let e = LedgerUrl::parse("sqlite::memory:", Path::new("/")).unwrap_err();
        assert!(e.to_string().contains("must be a file"), "{e}");
    }
}
