//! `runway-mcp` driven by rmcp's client over an in-memory pipe: every tool has
//! both schemas, results are the CLI's JSON, bad arguments are -32602, and the
//! `runway.toml` resource never shows a secret.

use rmcp::ServiceExt as _;
use rmcp::model::{CallToolRequestParams, ReadResourceRequestParams, ResourceContents};
use serde_json::json;

async fn client(ws: runway_mcp::Workspace) -> rmcp::service::RunningService<rmcp::RoleClient, ()> {
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    let (sr, sw) = tokio::io::split(server_io);
    tokio::spawn(runway_mcp::serve_io(ws, sr, sw));
    let (cr, cw) = tokio::io::split(client_io);
    ().serve((cr, cw)).await.unwrap()
}

fn workspace(dir: &std::path::Path, toml: &str) -> runway_mcp::Workspace {
    std::fs::write(dir.join("runway.toml"), toml).unwrap();
    runway_mcp::Workspace::at(dir).unwrap()
}

fn call(name: &str, args: serde_json::Value) -> CallToolRequestParams {
    let mut p = CallToolRequestParams::new(name.to_owned());
    p.arguments = args.as_object().cloned();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_is_listed_read_only_with_both_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let c = client(workspace(dir.path(), "[project]\nname = \"t\"\n")).await;
    let tools = c.list_all_tools().await.unwrap();
    let names: Vec<String> = tools.iter().map(|t| t.name.to_string()).collect();
    assert_eq!(names, runway_mcp::TOOL_NAMES);
    for t in &tools {
        assert!(t.output_schema.is_some(), "{} has no outputSchema", t.name);
        let a = t.annotations.as_ref().unwrap();
        assert_eq!(a.read_only_hint, Some(true), "{}", t.name);
    }
    c.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_in_the_ledger_is_listed_and_shown_as_the_cli_prints_it() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path(), "[project]\nname = \"t\"\n");
    let ledger = runway_ledger::open(&ws.ledger).await.unwrap();
    let id = ledger
        .open_incident(runway_core::Severity::P1, "tools time out", None)
        .await
        .unwrap();
    let record = serde_json::to_value(ledger.get(&id).await.unwrap()).unwrap();
    ledger.close().await;

    let c = client(ws).await;
    let listed = c.call_tool(call("incident_list", json!({}))).await.unwrap();
    let listed = listed.structured_content.unwrap();
    assert_eq!(listed["incidents"][0]["id"], json!(id));
    let shown = c
        .call_tool(call("incident_show", json!({"id": id})))
        .await
        .unwrap();
    assert_eq!(shown.structured_content.unwrap(), record);
    let all = c
        .call_tool(call("ledger_list", json!({"kind": "incident"})))
        .await
        .unwrap();
    assert_eq!(all.structured_content.unwrap()["records"][0], record);
    let missing = c
        .call_tool(call("ledger_show", json!({"id": "nope-123"})))
        .await
        .unwrap();
    assert_eq!(missing.is_error, Some(true));
    c.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrongly_typed_or_unknown_arguments_are_invalid_params() {
    let dir = tempfile::tempdir().unwrap();
    let c = client(workspace(dir.path(), "[project]\nname = \"t\"\n")).await;
    for (tool, args) in [
        ("verify", json!({"target": 12345})),
        ("ledger_list", json!({"colour": "red"})),
    ] {
        let err = c.call_tool(call(tool, args)).await.unwrap_err();
        let text = format!("{err:?}");
        assert!(
            text.contains("-32602")
                || text.contains("InvalidParams")
                || text.contains("INVALID_PARAMS"),
            "{tool}: {text}"
        );
    }
    let bad_kind = c
        .call_tool(call("ledger_list", json!({"kind": "party"})))
        .await
        .unwrap();
    assert_eq!(bad_kind.is_error, Some(true));
    c.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_resource_has_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let toml = "[project]\nname = \"t\"\n[ledger]\nurl = \"postgres://runway:pg-secret-4242@127.0.0.1:5432/runway\"\n";
    let c = client(workspace(dir.path(), toml)).await;
    let read = c
        .read_resource(ReadResourceRequestParams::new("runway://config"))
        .await
        .unwrap();
    let ResourceContents::TextResourceContents { text, .. } = &read.contents[0] else {
        panic!("not text: {read:?}");
    };
    assert!(!text.contains("pg-secret-4242"), "{text}");
    assert!(text.contains("name = \"t\""), "{text}");
    let templates = c.list_all_resource_templates().await.unwrap();
    let uris: Vec<&str> = templates.iter().map(|t| t.uri_template.as_str()).collect();
    assert_eq!(
        uris,
        ["runway://deployments/{id}", "runway://incidents/{id}"]
    );
    c.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_tools_take_the_package_as_the_cli_takes_package() {
    let dir = runway_testkit::git::release_fixture("monorepo");
    let c = client(runway_mcp::Workspace::at(dir.path()).unwrap()).await;
    // No package named in a project of several: refused, naming them.
    let none = c
        .call_tool(call("release_status", json!({})))
        .await
        .unwrap();
    assert_eq!(none.is_error, Some(true));
    let text = serde_json::to_string(&none.content).unwrap();
    assert!(text.contains("say which one"), "{text}");
    assert!(
        text.contains("`server`") && text.contains("`client`"),
        "{text}"
    );
    let unknown = c
        .call_tool(call("release_status", json!({"package": "nope"})))
        .await
        .unwrap();
    assert_eq!(unknown.is_error, Some(true));
    assert!(
        serde_json::to_string(&unknown.content)
            .unwrap()
            .contains("no package `nope`")
    );
    // The client package: its own tag line and only the commits under its path.
    let st = c
        .call_tool(call("release_status", json!({"package": "client"})))
        .await
        .unwrap();
    assert_ne!(st.is_error, Some(true), "{st:?}");
    let st = st.structured_content.unwrap();
    assert_eq!(st["current"], json!("0.2.0"), "{st}");
    assert_eq!(st["next"], json!("0.2.1"), "{st}");
    let entry = c
        .call_tool(call("changelog_preview", json!({"package": "client"})))
        .await
        .unwrap()
        .structured_content
        .unwrap();
    assert_eq!(entry["version"], json!("0.2.1"), "{entry}");
    assert!(
        entry["text"].as_str().unwrap().contains("retry on 503"),
        "{entry}"
    );
    // The notes of that next version are the entry without its heading; the
    // tagged release before it has only the commits under the package's path.
    let notes = c
        .call_tool(call("release_notes", json!({"package": "client"})))
        .await
        .unwrap()
        .structured_content
        .unwrap();
    assert_eq!(notes["tagged"], json!(false), "{notes}");
    assert_eq!(notes["previous_tag"], json!("client/v0.2.0"), "{notes}");
    let body = entry["text"]
        .as_str()
        .unwrap()
        .split_once('\n')
        .unwrap()
        .1
        .trim();
    assert_eq!(notes["markdown"], json!(format!("{body}\n")), "{notes}");
    let tagged = c
        .call_tool(call(
            "release_notes",
            json!({"package": "server", "version": "server-v1.4.0"}),
        ))
        .await
        .unwrap()
        .structured_content
        .unwrap();
    assert_eq!(tagged["tagged"], json!(true), "{tagged}");
    assert_eq!(tagged["tag"], json!("server-v1.4.0"), "{tagged}");
    assert!(
        !tagged["markdown"].as_str().unwrap().contains("search tool"),
        "{tagged}"
    );
    let missing = c
        .call_tool(call(
            "release_notes",
            json!({"package": "client", "version": "0.1.0"}),
        ))
        .await
        .unwrap();
    assert_eq!(missing.is_error, Some(true));
    assert!(
        serde_json::to_string(&missing.content)
            .unwrap()
            .contains("there is no release tag `client/v0.1.0`"),
        "{missing:?}"
    );
    c.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_report_judges_the_criteria_and_an_unknown_version_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(
        dir.path(),
        "[project]\nname = \"t\"\n[release.criteria]\nmax_rollbacks = 1\n",
    );
    let ledger = runway_ledger::open(&ws.ledger).await.unwrap();
    let dep = ledger
        .record_deployment(&runway_ledger::Deployment::new("prod", "1.0.0"))
        .await
        .unwrap();
    ledger
        .finish_deployment(
            &dep,
            &runway_ledger::DeploymentEnd::new(runway_ledger::Outcome::RolledBack),
        )
        .await
        .unwrap();
    ledger
        .open_incident(runway_core::Severity::P0, "data loss", Some(&dep))
        .await
        .unwrap();
    ledger.close().await;
    let c = client(ws).await;
    let r = c
        .call_tool(call("release_report", json!({"version": "v1.0.0"})))
        .await
        .unwrap();
    // Missing a criterion is a result, not an error.
    assert_ne!(r.is_error, Some(true), "{r:?}");
    let r = r.structured_content.unwrap();
    assert_eq!(r["passed"], json!(false), "{r}");
    let met: Vec<serde_json::Value> = r["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| json!([c["name"], c["met"]]))
        .collect();
    assert_eq!(
        met,
        [
            json!(["max_rollbacks", true]),
            json!(["max_incidents_p0_p1", false]),
            json!(["min_verify_pass_rate", null]),
        ]
    );
    let unknown = c
        .call_tool(call("release_report", json!({"version": "2.0.0"})))
        .await
        .unwrap();
    assert_eq!(unknown.is_error, Some(true));
    assert!(
        serde_json::to_string(&unknown.content)
            .unwrap()
            .contains("has no record of release `2.0.0`"),
        "{unknown:?}"
    );
    let no_version = c
        .call_tool(call("release_report", json!({})))
        .await
        .unwrap_err();
    assert!(no_version.to_string().contains("version"), "{no_version}");
    c.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn since_takes_a_date_as_the_cli_does() {
    let dir = tempfile::tempdir().unwrap();
    let c = client(workspace(dir.path(), "[project]\nname = \"t\"\n")).await;
    for tool in ["incident_list", "dora", "ledger_list"] {
        let ok = c
            .call_tool(call(tool, json!({"since": "2026-01-31"})))
            .await
            .unwrap();
        assert_ne!(ok.is_error, Some(true), "{tool}: {ok:?}");
        let bad = c
            .call_tool(call(tool, json!({"since": "soon"})))
            .await
            .unwrap();
        assert_eq!(bad.is_error, Some(true), "{tool}");
        let text = serde_json::to_string(&bad.content).unwrap();
        assert!(text.contains("`soon` is not a duration"), "{tool}: {text}");
    }
    c.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triage_reads_an_environment_as_the_cli_does_and_refuses_an_unknown_one() {
    let dir = tempfile::tempdir().unwrap();
    // A port nothing listens on: the server is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let ws = workspace(
        dir.path(),
        &format!("[environments.staging]\nurl = \"http://127.0.0.1:{port}/mcp\"\n"),
    );
    let ledger = runway_ledger::open(&ws.ledger).await.unwrap();
    let id = ledger
        .open_incident_in(
            runway_core::Severity::P0,
            "server down",
            None,
            Some("staging"),
        )
        .await
        .unwrap();
    ledger.close().await;

    let c = client(ws).await;
    let tools = c.list_all_tools().await.unwrap();
    let t = tools.iter().find(|t| t.name == "triage").unwrap();
    assert_eq!(t.annotations.as_ref().unwrap().read_only_hint, Some(true));
    let got = c
        .call_tool(call(
            "triage",
            json!({"environment": "staging", "window": "1s"}),
        ))
        .await
        .unwrap();
    assert_eq!(got.is_error, Some(false), "{got:?}");
    let s = got.structured_content.unwrap();
    assert_eq!(s["environment"], "staging");
    assert_eq!(s["healthy"], false, "{s:#}");
    assert_eq!(s["readiness"]["ok"], false, "{s:#}");
    assert_eq!(s["readiness"]["health"]["status"], "failed", "{s:#}");
    assert_eq!(s["traffic"]["configured"], false);
    assert_eq!(s["incidents"][0]["id"], json!(id));
    assert_eq!(s["incidents"][0]["severity"], "P0");
    assert!(s["lock"].is_null());
    let problems = s["problems"].as_array().unwrap();
    assert!(
        problems[0].as_str().unwrap().starts_with("not healthy"),
        "{s:#}"
    );
    assert!(
        problems
            .last()
            .unwrap()
            .as_str()
            .unwrap()
            .starts_with("P0 incident")
    );

    let unknown = c
        .call_tool(call("triage", json!({"environment": "nope"})))
        .await
        .unwrap();
    assert_eq!(unknown.is_error, Some(true));
    let bad = c
        .call_tool(call(
            "triage",
            json!({"environment": "staging", "window": "2h"}),
        ))
        .await
        .unwrap();
    assert_eq!(bad.is_error, Some(true));
    c.cancel().await.unwrap();
}
