//! Shared by the `ledger_*` tests: a fresh ledger on either backend and a
//! `runway` command pointed at it.

#![allow(dead_code)]

use std::process::Command;

use runway_ledger::{
    Ledger, LedgerUrl,
    testing::{ScratchDb, pg_url_or_skip},
};

/// An empty ledger for one test.
pub struct Fresh {
    /// The URL to hand to `runway` (with the password, as a user would).
    pub arg: String,
    pub url: LedgerUrl,
    pub dir: tempfile::TempDir,
    pg: Option<ScratchDb>,
}

impl Fresh {
    pub async fn sqlite() -> Fresh {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.db");
        let arg = format!("sqlite://{}", path.display());
        let url = LedgerUrl::parse(&arg, dir.path()).unwrap();
        // Outside a project's `.runway/`, a ledger is created on purpose.
        runway_ledger::open(&url).await.unwrap().close().await;
        Fresh {
            arg,
            url,
            dir,
            pg: None,
        }
    }

    /// `None` (after saying so) when `RUNWAY_SKIP_PG=1`; panics when PostgreSQL is not configured.
    pub async fn postgres(test: &str) -> Option<Fresh> {
        let base = pg_url_or_skip(test)?;
        let db = ScratchDb::create(&base)
            .await
            .expect("create a scratch database");
        Some(Fresh {
            arg: db.url_with_password(),
            url: db.url.clone(),
            dir: tempfile::tempdir().unwrap(),
            pg: Some(db),
        })
    }

    pub async fn open(&self) -> Box<dyn Ledger> {
        let mut l = runway_ledger::open(&self.url)
            .await
            .expect("open the ledger");
        l.set_operator("seed".into());
        l
    }

    /// `runway` with this ledger, a fixed operator, no colour, run in the temp dir.
    pub fn runway(&self) -> Command {
        let mut t = runway_testkit::Test::new();
        t.current_dir(self.dir.path())
            .env("RUNWAY_LEDGER_URL", &self.arg)
            .env("RUNWAY_OPERATOR", "dana");
        t.into_command()
    }

    pub async fn finish(self) {
        if let Some(db) = self.pg {
            db.drop().await.expect("drop the scratch database");
        }
    }
}

/// Runs `c`, returning (exit code, stdout, stderr).
pub fn run(c: &mut Command) -> (i32, String, String) {
    let out = c.output().expect("run runway");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `c` and insists on success, returning stdout.
pub fn ok(c: &mut Command) -> String {
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "runway failed\nstdout:\n{out}\nstderr:\n{err}");
    out
}

/// Runs each case on both backends as `case::sqlite` and `case::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let fresh = super::ledger_support::Fresh::sqlite().await;
                super::$case(&fresh).await;
                fresh.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(fresh) = super::ledger_support::Fresh::postgres(stringify!($case)).await else {
                    return;
                };
                super::$case(&fresh).await;
                fresh.finish().await;
            }
        }
    )*};
}

/// The verdict gate `name` got in deployment `d`, as recorded.
pub fn gate_of(d: &runway_ledger::DeploymentView, name: &str) -> runway_ledger::GateRecord {
    d.deployment
        .gates
        .iter()
        .find(|g| g.name == name)
        .cloned()
        .unwrap_or_else(|| panic!("no `{name}` gate recorded: {:?}", d.deployment.gates))
}
