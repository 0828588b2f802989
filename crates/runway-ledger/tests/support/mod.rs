//! What the ledger's integration tests share: a fresh ledger per backend and
//! the macro that runs one case on SQLite and on PostgreSQL.

#![allow(dead_code)]

use runway_ledger::{
    Ledger, LedgerUrl,
    testing::{ScratchDb, pg_url_or_skip},
};

/// A fresh, empty ledger on one backend, and what must be cleaned up after.
pub struct Fresh {
    pub url: LedgerUrl,
    _dir: Option<tempfile::TempDir>,
    pg: Option<ScratchDb>,
}

impl Fresh {
    pub async fn sqlite() -> Fresh {
        let dir = tempfile::tempdir().unwrap();
        let url = LedgerUrl::parse("sqlite://.runway/ledger.db", dir.path()).unwrap();
        Fresh {
            url,
            _dir: Some(dir),
            pg: None,
        }
    }

    pub async fn postgres(test: &str) -> Option<Fresh> {
        let base = pg_url_or_skip(test)?;
        let db = ScratchDb::create(&base)
            .await
            .expect("create a scratch database");
        Some(Fresh {
            url: db.url.clone(),
            _dir: None,
            pg: Some(db),
        })
    }

    pub async fn open(&self) -> Box<dyn Ledger> {
        let mut l = runway_ledger::open(&self.url)
            .await
            .expect("open the ledger");
        l.set_operator("alice".into());
        l
    }

    pub async fn finish(self) {
        if let Some(db) = self.pg {
            db.drop().await.expect("drop the scratch database");
        }
    }
}

/// Runs `case` on both backends as two tests, `case::sqlite` and `case::postgres`.
macro_rules! both_backends {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let fresh = crate::support::Fresh::sqlite().await;
                super::$case(&fresh).await;
                fresh.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(fresh) = crate::support::Fresh::postgres(stringify!($case)).await else {
                    return;
                };
                super::$case(&fresh).await;
                fresh.finish().await;
            }
        }
    )*};
}
