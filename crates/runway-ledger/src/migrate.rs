//! Embedded, forward-only schema migrations and the schema-version guard.
//!
//! Each backend has its own directory of numbered SQL files, compiled into the
//! binary. Opening a ledger applies the missing ones inside one write
//! transaction (SQLite `BEGIN IMMEDIATE`, PostgreSQL an advisory lock), so two
//! processes opening a fresh ledger at once cannot both migrate it. A ledger
//! whose version is higher than this build knows was written by a newer
//! Runway and is refused rather than misread.

/// One migration: its version, name and SQL. (`pub` only because the
/// backend's dialect trait names it; the module is private.)
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

pub(crate) const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/sqlite/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "deployments",
        sql: include_str!("../migrations/sqlite/0002_deployments.sql"),
    },
    Migration {
        version: 3,
        name: "monitor",
        sql: include_str!("../migrations/sqlite/0003_monitor.sql"),
    },
    Migration {
        version: 4,
        name: "alerts",
        sql: include_str!("../migrations/sqlite/0004_alerts.sql"),
    },
    Migration {
        version: 5,
        name: "schedule",
        sql: include_str!("../migrations/sqlite/0005_schedule.sql"),
    },
    Migration {
        version: 6,
        name: "meta",
        sql: include_str!("../migrations/sqlite/0006_meta.sql"),
    },
    Migration {
        version: 7,
        name: "summary",
        sql: include_str!("../migrations/sqlite/0007_summary.sql"),
    },
    Migration {
        version: 8,
        name: "locations",
        sql: include_str!("../migrations/sqlite/0008_locations.sql"),
    },
];

pub(crate) const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "deployments",
        sql: include_str!("../migrations/postgres/0002_deployments.sql"),
    },
    Migration {
        version: 3,
        name: "monitor",
        sql: include_str!("../migrations/postgres/0003_monitor.sql"),
    },
    Migration {
        version: 4,
        name: "alerts",
        sql: include_str!("../migrations/postgres/0004_alerts.sql"),
    },
    Migration {
        version: 5,
        name: "schedule",
        sql: include_str!("../migrations/postgres/0005_schedule.sql"),
    },
    Migration {
        version: 6,
        name: "meta",
        sql: include_str!("../migrations/postgres/0006_meta.sql"),
    },
    Migration {
        version: 7,
        name: "summary",
        sql: include_str!("../migrations/postgres/0007_summary.sql"),
    },
    Migration {
        version: 8,
        name: "locations",
        sql: include_str!("../migrations/postgres/0008_locations.sql"),
    },
];

/// The newest schema this build reads and writes.
pub const SCHEMA_VERSION: i64 = 8;

/// The table that records applied migrations; its highest version is the schema version.
pub(crate) const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS runway_migrations (
    version    BIGINT NOT NULL PRIMARY KEY,
    name       TEXT   NOT NULL,
    applied_at TEXT   NOT NULL
)";

pub(crate) const CURRENT_VERSION: &str =
    "SELECT COALESCE(MAX(version), 0) AS v FROM runway_migrations";

pub(crate) const RECORD: &str =
    "INSERT INTO runway_migrations (version, name, applied_at) VALUES ($1, $2, $3)";

/// The key of the per-ledger settings key in `runway_meta`.
pub(crate) const SETTINGS_KEY: &str = "settings_key";

/// Stores a key unless one is there (a concurrent first open keeps the first).
pub(crate) const INSERT_META: &str =
    "INSERT INTO runway_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING";

pub(crate) const READ_META: &str = "SELECT value FROM runway_meta WHERE key = $1";

/// A new settings key: 32 bytes from the operating system's generator, as hex.
pub(crate) fn new_settings_key() -> std::io::Result<String> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(key.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_have_the_same_numbered_migrations_ending_at_the_schema_version() {
        for set in [SQLITE, POSTGRES] {
            let versions: Vec<i64> = set.iter().map(|m| m.version).collect();
            let expected: Vec<i64> = (1..=SCHEMA_VERSION).collect();
            assert_eq!(versions, expected);
        }
        for (a, b) in SQLITE.iter().zip(POSTGRES) {
            assert_eq!(a.name, b.name);
        }
    }
}
