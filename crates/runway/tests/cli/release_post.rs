//! After the release: `runway release notes|report|yank|announce` through
//! the binary. Notes against real git histories (the same entry the
//! changelog gets); the report against a ledger seeded through the library
//! on SQLite and PostgreSQL; yank against the local pypiserver the setup
//! starts (which has no yank, so it reports the version not yanked) and a
//! PEP 503 page with `data-yanked` plus an npm packument served on
//! 127.0.0.1; announce against a webhook receiver on 127.0.0.1.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpListener,
    path::Path,
    sync::{Arc, Mutex},
};

use runway_core::{CheckResult, Era, Report, Severity};
use runway_ledger::{
    Deployment, DeploymentEnd, Ledger, Outcome, Release, ReleaseFact, release_facts,
};
use runway_testkit::{Output, Test};

use crate::ledger_support;
use crate::release_support::git;
use ledger_support::Fresh;

fn runway(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Test::new()
        .args(args)
        .current_dir(dir)
        .env("RUNWAY_OPERATOR", "dana")
        .env_remove("RUNWAY_LEDGER_URL")
        .envs(env.iter().copied())
        .run()
}

fn commit(dir: &Path, file: &str, message: &str) {
    std::fs::write(dir.join(file), message).unwrap();
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
}

/// A repository with `v1.0.0` and `v1.1.0` tagged on GitHub-hosted history.
fn released_repo(toml: &str) -> tempfile::TempDir {
    let dir = runway_testkit::Repo::new().dir;
    let d = dir.path();
    std::fs::write(d.join("runway.toml"), toml).unwrap();
    git(
        d,
        &[
            "remote",
            "add",
            "origin",
            "https://github.com/acme/demo.git",
        ],
    );
    commit(d, "a", "feat: first release");
    git(d, &["tag", "v1.0.0"]);
    commit(d, "b", "fix(api): handle an empty body (#12)");
    commit(d, "c", "feat: streaming results");
    commit(d, "d", "chore: tidy");
    dir
}

/// The changelog entry without its `## ` heading, as the notes print it.
fn without_heading(entry: &str) -> String {
    entry.split_once('\n').unwrap().1.trim().to_owned()
}

#[test]
fn notes_are_the_changelog_entry_of_the_release_without_its_heading() {
    let dir = released_repo("");
    let d = dir.path();
    // Not tagged yet: the next version's notes are exactly what `changelog` renders.
    let entry = runway(d, &["release", "changelog"], &[]);
    entry.success();
    let entry = entry.stdout_text();
    assert!(
        entry.starts_with("## [1.1.0](https://github.com/acme/demo/compare/v1.0.0...v1.1.0)"),
        "{entry}"
    );
    let next = runway(d, &["release", "notes"], &[]);
    next.success()
        .stderr_contains("`v1.1.0` is not tagged yet: these are the commits since `v1.0.0`");
    let body = without_heading(&entry);
    assert!(
        body.contains("### Features") && body.contains("### Bug Fixes"),
        "{body}"
    );
    assert_eq!(
        next.stdout_text(),
        format!(
            "{body}\n\n**Full Changelog**: https://github.com/acme/demo/compare/v1.0.0...v1.1.0\n"
        )
    );
    // Tagged, with a later commit on top: the tag's notes keep its own commits only.
    git(d, &["tag", "v1.1.0"]);
    commit(d, "e", "fix: after the release");
    let tagged = runway(d, &["release", "notes", "v1.1.0"], &[]);
    tagged.success().stderr_lacks("not tagged yet");
    assert_eq!(tagged.stdout_text(), next.stdout_text());
    assert!(!tagged.stdout_text().contains("after the release"));
    let json: serde_json::Value = serde_json::from_str(
        &runway(d, &["release", "notes", "1.1.0", "--format", "json"], &[]).stdout_text(),
    )
    .unwrap();
    assert_eq!(json["tag"], "v1.1.0");
    assert_eq!(json["tagged"], true);
    assert_eq!(json["previous_tag"], "v1.0.0");
    assert_eq!(json["commits"], 3);
    assert_eq!(json["markdown"], tagged.stdout_text());
    // The first release has no previous tag and no compare link.
    let first = runway(d, &["release", "notes", "1.0.0"], &[]);
    first.success();
    assert!(
        first
            .stdout_text()
            .starts_with("### Features\n\n- first release"),
        "{}",
        first.stdout_text()
    );
    assert!(!first.stdout_text().contains("Full Changelog"));
    // Without a version: the next one (1.1.1) now that 1.1.0 is tagged.
    runway(d, &["release", "notes"], &[])
        .success()
        .stdout_contains("after the release")
        .stderr_contains("`v1.1.1` is not tagged yet");
    // A version below the last release that was never tagged, or not a version at all.
    runway(d, &["release", "notes", "1.0.5"], &[])
        .code(2)
        .stdout_is_empty()
        .stderr_contains(
            "there is no release tag `v1.0.5` for `1.0.5`; the release tags are `v1.1.0`, `v1.0.0`",
        )
        .stderr_contains("hint: name one of those versions");
    runway(d, &["release", "notes", "latest"], &[])
        .code(2)
        .stderr_contains("`latest` is not a version");
}

fn passing(checks: usize) -> Report {
    Report::new(
        "http://127.0.0.1:9/mcp",
        Era::from_version("2025-11-25"),
        "smoke",
        chrono::Utc::now(),
        10.0,
        (0..checks)
            .map(|i| CheckResult::pass(format!("http.c{i}"), "ok"))
            .collect(),
    )
}

fn failing() -> Report {
    Report::new(
        "http://127.0.0.1:9/mcp",
        Era::from_version("2025-11-25"),
        "smoke",
        chrono::Utc::now(),
        10.0,
        vec![CheckResult::fail("http.health", "503", "start it")],
    )
}

/// 1.0.0: verified on staging, rolled back on prod, one P1 open; 2 of 3 verifies passed.
async fn seed_release(l: &dyn Ledger) {
    l.record_release(&Release {
        version: "1.0.0".into(),
        tag: Some("v1.0.0".into()),
        ..Release::default()
    })
    .await
    .unwrap();
    let staging = l
        .record_deployment(&Deployment::new("staging", "1.0.0"))
        .await
        .unwrap();
    l.record_verification(&passing(3), "staging", Some(&staging))
        .await
        .unwrap();
    l.finish_deployment(&staging, &DeploymentEnd::new(Outcome::Verified))
        .await
        .unwrap();
    let prod = l
        .record_deployment(&Deployment::new("prod", "1.0.0"))
        .await
        .unwrap();
    l.record_verification(&passing(3), "prod", Some(&prod))
        .await
        .unwrap();
    l.record_verification(&failing(), "prod", Some(&prod))
        .await
        .unwrap();
    l.finish_deployment(&prod, &DeploymentEnd::new(Outcome::RolledBack))
        .await
        .unwrap();
    l.open_incident(Severity::P1, "logins | fail", Some(&prod))
        .await
        .unwrap();
}

fn report_of(f: &Fresh, args: &[&str]) -> (i32, String, String) {
    let mut c = f.runway();
    c.args(["release", "report"]).args(args);
    ledger_support::run(&mut c)
}

both_backends!(the_report_judges_a_release_by_its_criteria);

async fn the_report_judges_a_release_by_its_criteria(f: &Fresh) {
    let l = f.open().await;
    seed_release(l.as_ref()).await;
    l.close().await;
    // The seeds' numbers (no runway.toml: the defaults): every criterion unmet.
    let (code, out, err) = report_of(f, &["1.0.0"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.starts_with("# Release report: 1.0.0\n"), "{out}");
    for line in [
        "**Result: criteria NOT met**",
        "| `max_rollbacks` | ≤ 0 | 1 of 2 deployment(s) | **not met** |",
        "| `max_incidents_p0_p1` | ≤ 0 | 1 (1 open) | **not met** |",
        "| `min_verify_pass_rate` | ≥ 99% | 66.67% (2 of 3 runs) | **not met** |",
        "| prod | 1 | rolled_back 1 | - | - |",
        "| staging | 1 | verified 1 | - | - |",
        "| P1 | detected (open) | prod | logins \\| fail |",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
    assert!(
        err.contains(
            "`1.0.0` does not meet `max_rollbacks`, `max_incidents_p0_p1`, `min_verify_pass_rate`"
        ),
        "{err}"
    );
    // Criteria the history meets: exit 0, and the tag spelling works too.
    std::fs::write(
        f.dir.path().join("runway.toml"),
        "[release.criteria]\nmax_rollbacks = 1\nmax_incidents_p0_p1 = 1\nmin_verify_pass_rate = 0.6\n",
    )
    .unwrap();
    let (code, out, err) = report_of(f, &["v1.0.0", "--format", "json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["passed"], true);
    assert_eq!(json["verification"]["runs"], 3);
    assert_eq!(json["criteria"][2]["threshold"], "≥ 60%");
    assert_eq!(json["rollbacks"][0]["environment"], "prod");
    // A version the ledger never saw names the ones it has.
    let (code, out, err) = report_of(f, &["9.9.9"]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(err.contains("has no record of release `9.9.9`"), "{err}");
    assert!(err.contains("hint: the ledger has `1.0.0`"), "{err}");
    // A criterion that is not a fraction is refused at its line.
    std::fs::write(
        f.dir.path().join("runway.toml"),
        "[release.criteria]\nmin_verify_pass_rate = 99\n",
    )
    .unwrap();
    let (code, _, err) = report_of(f, &["1.0.0"]);
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "runway.toml:2:1: `release.criteria.min_verify_pass_rate`: `99` is not a fraction"
        ),
        "{err}"
    );
}

type Handler = Arc<dyn Fn(&str, &str, &[u8]) -> (u16, &'static str, String) + Send + Sync>;

/// A bare HTTP/1.1 server on 127.0.0.1:0 (one request per connection), each
/// request answered by `handler(method, path, body)`; it records every request.
struct Stub {
    url: String,
    seen: Arc<Mutex<Vec<(String, String, String)>>>,
}

fn stub(handler: Handler) -> Stub {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let mut parts = line.split_whitespace();
            let method = parts.next().unwrap_or("").to_owned();
            let path = parts.next().unwrap_or("").to_owned();
            let mut length = 0usize;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(':')
                    && k.eq_ignore_ascii_case("content-length")
                {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let (status, ctype, answer) = handler(&method, &path, &body);
            log.lock()
                .unwrap()
                .push((method, path, String::from_utf8_lossy(&body).into_owned()));
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    Stub { url, seen }
}

/// A PEP 503 page for `demo-cli` 1.2.0 (yanked or not) and an npm packument
/// for `demo` 1.2.0 (deprecated or not), switched by `yanked`.
fn indexes(yanked: Arc<Mutex<bool>>) -> Stub {
    stub(Arc::new(move |_, path, _| {
        let y = *yanked.lock().unwrap();
        match path {
            "/simple/demo-cli/" => {
                let attr = if y {
                    " data-yanked=\"crashes on start\""
                } else {
                    ""
                };
                (
                    200,
                    "text/html",
                    format!(
                        "<html><body><a href=\"/f/demo_cli-1.1.0-py3-none-any.whl\">demo_cli-1.1.0-py3-none-any.whl</a>\n<a href=\"/f/demo_cli-1.2.0-py3-none-any.whl\"{attr}>demo_cli-1.2.0-py3-none-any.whl</a>\n</body></html>"
                    ),
                )
            }
            "/npm/demo" => {
                let dep = if y {
                    r#","deprecated":"crashes on start""#
                } else {
                    ""
                };
                (
                    200,
                    "application/json",
                    format!(
                        r#"{{"name":"demo","versions":{{"1.1.0":{{}},"1.2.0":{{"version":"1.2.0"{dep}}}}}}}"#
                    ),
                )
            }
            _ => (404, "text/plain", "not found".into()),
        }
    }))
}

fn yank_repo(toml: &str) -> tempfile::TempDir {
    let dir = runway_testkit::Repo::new().dir;
    let d = dir.path();
    std::fs::write(d.join("runway.toml"), toml).unwrap();
    commit(d, "a", "feat: first");
    git(d, &["tag", "v1.2.0"]);
    dir
}

async fn facts(dir: &Path, version: &str) -> Vec<ReleaseFact> {
    let url = runway_ledger::LedgerUrl::parse(
        &format!("sqlite://{}", dir.join(".runway/ledger.db").display()),
        dir,
    )
    .unwrap();
    let l = runway_ledger::open(&url).await.unwrap();
    let r = l
        .release_record(version)
        .await
        .unwrap()
        .expect("a release record");
    l.close().await;
    release_facts(&r).into_iter().map(|(_, f)| f).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yank_prints_the_pypi_page_and_confirm_reads_the_index_back() {
    // PyPI itself: the exact manage page, recorded with the reason.
    let dir = yank_repo("[release.artifacts.pypi]\npackage = \"Demo_CLI\"\n");
    let d = dir.path();
    runway(d, &["release", "yank", "v1.2.0", "--reason", "crashes on start"], &[])
        .success()
        .stderr_contains("open the page, click \"Yank\" and give the reason (PyPI has no API for it): crashes on start")
        .stderr_contains("once it is done, run `runway release yank 1.2.0 --confirm`");
    let out = runway(d, &["release", "yank", "1.2.0", "--reason", "x"], &[]);
    assert_eq!(
        out.stdout_text(),
        "https://pypi.org/manage/project/demo-cli/release/1.2.0/\n"
    );
    match &facts(d, "1.2.0").await[0] {
        ReleaseFact::Yanked(y) => {
            assert_eq!(y.reason, "crashes on start");
            assert_eq!(
                y.steps[0].action,
                "https://pypi.org/manage/project/demo-cli/release/1.2.0/"
            );
        }
        other => panic!("{other:?}"),
    }
    // A version never released, and an empty reason, are refused before anything is recorded.
    runway(d, &["release", "yank", "9.9.9", "--reason", "x"], &[])
        .code(2)
        .stderr_contains("there is no release `9.9.9`: no tag `v9.9.9` and no release record of it in the ledger");
    runway(d, &["release", "yank", "1.2.0", "--reason", "  "], &[])
        .code(2)
        .stderr_contains("`--reason` is empty");
    runway(d, &["release", "yank", "1.2.0"], &[])
        .code(2)
        .stderr_contains("--reason");

    // Indexes on 127.0.0.1: not yanked yet, then yanked.
    let yanked = Arc::new(Mutex::new(false));
    let server = indexes(yanked.clone());
    let dir = yank_repo(&format!(
        "[release.artifacts.pypi]\nindex_url = \"{0}/simple\"\npackage = \"demo-cli\"\n[release.artifacts.npm]\nregistry = \"{0}/npm\"\npackage = \"demo\"\n",
        server.url
    ));
    let d = dir.path();
    runway(d, &["release", "yank", "1.2.0", "--confirm"], &[])
        .code(2)
        .stderr_contains("no yank of `1.2.0` is recorded, so there is nothing to confirm")
        .stderr_contains("hint: run `runway release yank 1.2.0 --reason TEXT` first");
    let steps = runway(
        d,
        &[
            "release",
            "yank",
            "1.2.0",
            "--reason",
            "crashes on \"start\"",
        ],
        &[],
    );
    steps.success();
    assert_eq!(
        steps.stdout_text(),
        format!(
            "{0}/simple/demo-cli/\nnpm deprecate demo@1.2.0 \"crashes on \\\"start\\\"\" --registry {0}/npm\n",
            server.url
        )
    );
    runway(d, &["release", "yank", "1.2.0", "--confirm"], &[])
        .code(1)
        .stdout_contains("NOT YANKED pypi  demo-cli==1.2.0")
        .stdout_contains("0 of 1 file(s) of 1.2.0 are yanked: pip still installs it")
        .stdout_contains("1.2.0 is not deprecated")
        .stderr_contains("not every index reports `1.2.0` yanked yet");
    *yanked.lock().unwrap() = true;
    runway(d, &["release", "yank", "1.2.0", "--confirm"], &[])
        .success()
        .stdout_contains("yanked     pypi  demo-cli==1.2.0")
        .stdout_contains("all 1 file(s) of 1.2.0 are yanked (\"crashes on start\")")
        .stdout_contains("1.2.0 is deprecated (\"crashes on start\")")
        .stderr_contains("every index reports `1.2.0` yanked");
    let recorded = facts(d, "1.2.0").await;
    let names: Vec<&str> = recorded.iter().map(ReleaseFact::name).collect();
    assert_eq!(names, ["yanked", "yank_confirmed", "yank_confirmed"]);
    match &recorded[2] {
        ReleaseFact::YankConfirmed(c) => {
            assert!(c.confirmed);
            assert_eq!(
                c.checks[0].index_reason.as_deref(),
                Some("crashes on start")
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        server
            .seen
            .lock()
            .unwrap()
            .iter()
            .any(|(m, p, _)| m == "GET" && p == "/simple/demo-cli/")
    );
}

#[test]
fn the_local_pypi_index_reports_a_version_it_cannot_yank_as_not_yanked() {
    let packages = tempfile::tempdir().unwrap();
    crate::release_artifacts::build_wheel(packages.path(), "1.2.0", "demo-cli 1.2.0");
    let index = crate::release_artifacts::pypi_index(packages.path());
    let dir = yank_repo(&format!(
        "[release.artifacts.pypi]\nindex_url = \"{}\"\npackage = \"demo-cli\"\n",
        index.url
    ));
    let d = dir.path();
    runway(
        d,
        &["release", "yank", "1.2.0", "--reason", "bad wheel"],
        &[],
    )
    .success();
    runway(
        d,
        &["release", "yank", "1.2.0", "--confirm", "--format", "json"],
        &[],
    )
    .code(1)
    .stdout_contains("\"confirmed\": false")
    .stdout_contains("0 of 1 file(s) of 1.2.0 are yanked: pip still installs it");
}

fn announce_repo(hook: &str) -> tempfile::TempDir {
    released_repo(&format!(
        "[project]\nname = \"demo\"\n[release]\nannounce = [\"team\"]\n[notifiers.team]\ntype = \"webhook\"\nurl = \"{hook}/hook/${{HOOK_SECRET}}\"\n"
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announce_posts_the_notes_and_records_that_it_was_sent() {
    let status = Arc::new(Mutex::new(200u16));
    let s = status.clone();
    let receiver = stub(Arc::new(move |_, _, _| {
        (*s.lock().unwrap(), "text/plain", "ok".into())
    }));
    let dir = announce_repo(&receiver.url);
    let d = dir.path();
    let env = [("HOOK_SECRET", "hook-s3cret-41")];
    // The next version is not tagged: nothing is announced.
    runway(d, &["release", "announce"], &env)
        .code(2)
        .stderr_contains("`v1.1.0` is not tagged yet: announce a release once it is cut");
    assert!(receiver.seen.lock().unwrap().is_empty());
    git(d, &["tag", "v1.1.0"]);
    // Without its variable the notifier is refused, naming it and not the value.
    runway(d, &["release", "announce"], &[])
        .code(2)
        .stderr_contains("notifier `team`: `url` uses `${HOOK_SECRET}`, which is not set");
    let notes = runway(d, &["release", "notes"], &[]).stdout_text();
    runway(d, &["release", "announce"], &env)
        .success()
        .stdout_contains("sent    team (webhook)")
        .stderr_contains("announced `v1.1.0` to 1 of 1 notifier(s)");
    let seen = receiver.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, "POST");
    assert_eq!(seen[0].1, "/hook/hook-s3cret-41");
    let body: serde_json::Value = serde_json::from_str(&seen[0].2).unwrap();
    assert_eq!(body["event"], "release");
    assert_eq!(body["tag"], "v1.1.0");
    assert_eq!(body["title"], "demo v1.1.0 released");
    assert_eq!(body["notes"], notes.as_str());
    // A re-run posts nothing to a notifier that took it.
    runway(d, &["release", "announce"], &env)
        .success()
        .stdout_is_empty()
        .stderr_contains("`v1.1.0` was already announced to `team`; `--again` posts it again");
    assert_eq!(receiver.seen.lock().unwrap().len(), 1);
    // Posted again, the receiver refuses: exit 1, the failure recorded, the secret nowhere.
    *status.lock().unwrap() = 500;
    let failed = runway(d, &["release", "announce", "1.1.0", "--again"], &env);
    failed
        .code(1)
        .stdout_contains("FAILED  team (webhook): webhook answered HTTP 500")
        .stdout_lacks("hook-s3cret-41")
        .stderr_lacks("hook-s3cret-41");
    let recorded = facts(d, "1.1.0").await;
    let sent: Vec<bool> = recorded
        .iter()
        .map(|f| match f {
            ReleaseFact::Announced(a) => a.sent,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(sent, [true, false]);
    // `ledger show` of the release and the report list both announcements.
    let release_id = match facts(d, "1.1.0").await.len() {
        2 => {
            let url = runway_ledger::LedgerUrl::parse(
                &format!("sqlite://{}", d.join(".runway/ledger.db").display()),
                d,
            )
            .unwrap();
            let l = runway_ledger::open(&url).await.unwrap();
            let id = l.release_record("1.1.0").await.unwrap().unwrap().id;
            l.close().await;
            id
        }
        n => panic!("{n} facts"),
    };
    runway(d, &["ledger", "show", &release_id], &[])
        .success()
        .stdout_contains("announced to team\n")
        .stdout_contains("announced to team (failed)");
    runway(d, &["release", "report", "1.1.0"], &[])
        .success()
        .stdout_contains("announced to team (dana)")
        .stdout_contains("announced to team (failed) (dana)");
}

#[test]
fn announce_without_notifiers_says_what_to_add() {
    let dir = released_repo("");
    git(dir.path(), &["tag", "v1.1.0"]);
    runway(dir.path(), &["release", "announce"], &[])
        .code(2)
        .stderr_contains("names no notifier to announce to")
        .stderr_contains("add `announce = [\"team\"]` under `[release]`");
}

/// Hangar's "Close milestone in GitHub" and Tabcorp's Smithery dashboard:
/// steps done by hand in a vendor's product, shown with the release's data
/// and recorded done on the release record.
#[tokio::test]
async fn release_steps_show_each_step_with_its_data_and_step_records_it_done() {
    let d = yank_repo(
        r#"[[release.steps]]
name = "milestone"
when = "before"
text = "No blocking issues in the {tag} milestone: https://github.com/acme/demo/milestone/{version}"

[[release.steps]]
name = "smithery"
text = "Press Deploy for {version} on https://smithery.ai/@acme/demo"
"#,
    );
    let dir = d.path();
    let o = runway(dir, &["release", "steps", "1.2.0"], &[]);
    o.success()
        .stdout_contains("pending before milestone  No blocking issues in the v1.2.0 milestone: https://github.com/acme/demo/milestone/1.2.0")
        .stdout_contains("pending after  smithery  Press Deploy for 1.2.0 on https://smithery.ai/@acme/demo")
        .stderr_contains("0 of 2 step(s) of 1.2.0 done");

    runway(
        dir,
        &[
            "release",
            "step",
            "milestone",
            "--version",
            "1.2.0",
            "--note",
            "0 open issues",
        ],
        &[],
    )
    .success()
    .stdout_contains("recorded step `milestone` done for 1.2.0");
    let o = runway(dir, &["release", "steps", "1.2.0", "--format", "json"], &[]);
    o.success();
    let doc: serde_json::Value = serde_json::from_str(&o.stdout_text()).unwrap();
    assert_eq!(doc["pending"], 1, "{doc}");
    assert_eq!(doc["steps"][0]["done"], true, "{doc}");
    assert_eq!(doc["steps"][0]["note"], "0 open issues", "{doc}");
    assert_eq!(doc["steps"][1]["done"], false, "{doc}");
    // Recorded on the release record, with who did it.
    let facts = facts(dir, "1.2.0").await;
    let done = facts
        .iter()
        .find_map(|f| match f {
            ReleaseFact::StepDone(s) => Some(s),
            _ => None,
        })
        .expect("a step_done fact");
    assert_eq!(done.name, "milestone");
    assert_eq!(done.when, "before");
    assert!(done.text.contains("the v1.2.0 milestone"), "{done:?}");

    // A name that is not a step: exit 2, naming the steps.
    runway(
        dir,
        &["release", "step", "milestones", "--version", "1.2.0"],
        &[],
    )
    .code(2)
    .stderr_contains("no step `milestones`")
    .stderr_contains("milestone, smithery");
}

/// `runway release check` holds the release while a `when = "before"` step
/// of the version being released is not recorded done; `after` steps do not
/// hold it.
#[test]
fn release_check_fails_while_a_before_step_is_not_recorded_done() {
    let d = yank_repo(
        r#"[[release.steps]]
name = "milestone"
when = "before"
text = "No blocking issues in the {tag} milestone"

[[release.steps]]
name = "smithery"
text = "Press Deploy for {version}"
"#,
    );
    let dir = d.path();
    let row = |ledger: Option<&str>| {
        let mut args = vec![
            "release",
            "check",
            "--tag",
            "v1.2.0",
            "--no-gates",
            "--format",
            "json",
        ];
        if let Some(l) = ledger {
            args.extend(["--ledger", l]);
        }
        let o = runway(dir, &args, &[]);
        let doc: serde_json::Value = serde_json::from_str(&o.stdout_text()).unwrap();
        let row = doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "steps before release")
            .cloned()
            .unwrap_or_else(|| panic!("no steps row: {doc}"));
        (o.status.code(), doc["passed"].clone(), row)
    };

    // A ledger that is not there cannot say: a warning that says where to look.
    let (_, _, r) = row(Some("sqlite://nowhere/ledger.db"));
    assert_eq!(r["status"], "warn", "{r}");
    assert!(
        r["detail"].as_str().unwrap().contains("cannot be read"),
        "{r}"
    );

    // Nor does the project's default ledger before it exists, and the check
    // does not create it (a new `.runway/` would dirty the tree).
    let (_, _, r) = row(None);
    assert_eq!(r["status"], "warn", "{r}");
    assert!(!dir.join(".runway").exists());

    runway(dir, &["ledger", "init"], &[]).success();
    let (code, passed, r) = row(None);
    assert_eq!(r["status"], "fail", "{r}");
    assert_eq!((code, passed), (Some(1), serde_json::json!(false)), "{r}");
    let detail = r["detail"].as_str().unwrap();
    assert!(
        detail.contains("`milestone`") && !detail.contains("smithery"),
        "{r}"
    );
    assert!(
        r["hints"][0]
            .as_str()
            .unwrap()
            .contains("No blocking issues in the v1.2.0 milestone; then `runway release step milestone --version 1.2.0`"),
        "{r}"
    );

    runway(
        dir,
        &["release", "step", "milestone", "--version", "1.2.0"],
        &[],
    )
    .success();
    let (_, _, r) = row(None);
    assert_eq!(r["status"], "pass", "{r}");
    assert_eq!(r["detail"], "1 step(s) before 1.2.0 recorded done", "{r}");
}
