//! Opening a ledger from its URL: which backend, and whether a missing
//! SQLite file may be created.

use crate::{
    DEFAULT_SQLITE_PATH, Ledger, LedgerUrl, OpenOptions, PostgresLedger, Result, SqliteLedger,
};

/// Opens (creating when missing) the ledger at `url` and applies migrations.
pub async fn open(url: &LedgerUrl) -> Result<Box<dyn Ledger>> {
    open_with(url, OpenOptions::default()).await
}

/// Whether a command of the project at `root` may create the ledger at
/// `url`: only the project's own `.runway/ledger.db` is made on first use;
/// anywhere else a missing SQLite file is most likely a typo, and
/// `runway ledger init` creates it on purpose. (A PostgreSQL database is
/// never created by Runway, only its tables.)
pub fn may_create(url: &LedgerUrl, root: &std::path::Path) -> bool {
    match (url, LedgerUrl::default_for(root)) {
        (LedgerUrl::Sqlite { path }, LedgerUrl::Sqlite { path: default }) => {
            // The same file, or the same place spelt through a symlink or `..`.
            *path == default
                || (path.ends_with(DEFAULT_SQLITE_PATH)
                    && matches!(
                        (
                            path.ancestors().nth(2).and_then(|p| p.canonicalize().ok()),
                            root.canonicalize().ok()
                        ),
                        (Some(a), Some(b)) if a == b
                    ))
        }
        _ => true,
    }
}

/// Opens the ledger a command of the project at `root` uses, creating it
/// only where [`may_create`] allows.
pub async fn open_for_project(
    url: &LedgerUrl,
    root: &std::path::Path,
    options: OpenOptions,
) -> Result<Box<dyn Ledger>> {
    let create = options.create && may_create(url, root);
    open_with(url, OpenOptions { create, ..options }).await
}

/// [`open`] with explicit pool options.
pub async fn open_with(url: &LedgerUrl, options: OpenOptions) -> Result<Box<dyn Ledger>> {
    match url {
        LedgerUrl::Sqlite { .. } => Ok(Box::new(SqliteLedger::open(url, &options).await?)),
        LedgerUrl::Postgres { .. } => Ok(Box::new(PostgresLedger::open(url, &options).await?)),
    }
}
