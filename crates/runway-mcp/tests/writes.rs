//! The writing tools: off (not listed, refused by name) unless `[mcp]
//! allow_writes = true`; on, each write needs a fresh plan id made for the
//! same tool and arguments, and lands in the ledger under the client's name.

use rmcp::ServiceExt as _;
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, Implementation,
};
use serde_json::{Value, json};

const CLIENT: &str = "writes-test-agent";

type Client = rmcp::service::RunningService<rmcp::RoleClient, ClientConfig>;

async fn client(ws: runway_mcp::Workspace) -> Client {
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    let (sr, sw) = tokio::io::split(server_io);
    tokio::spawn(runway_mcp::serve_io(ws, sr, sw));
    let (cr, cw) = tokio::io::split(client_io);
    ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new(CLIENT, "1.0.0"),
    )
    .serve((cr, cw))
    .await
    .unwrap()
}

fn workspace(dir: &std::path::Path, toml: &str) -> runway_mcp::Workspace {
    std::fs::write(dir.join("runway.toml"), toml).unwrap();
    runway_mcp::Workspace::at(dir).unwrap()
}

const WRITES: &str = "[project]\nname = \"t\"\n[mcp]\nallow_writes = true\n";

fn params(name: &str, args: Value) -> CallToolRequestParams {
    let mut p = CallToolRequestParams::new(name.to_owned());
    p.arguments = args.as_object().cloned();
    p
}

async fn ok(c: &Client, name: &str, args: Value) -> Value {
    let r = c.call_tool(params(name, args.clone())).await.unwrap();
    assert_ne!(r.is_error, Some(true), "{name} {args}: {}", text(&r));
    r.structured_content.unwrap()
}

fn text(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A call the server answers with a tool error; returns its text.
async fn refused(c: &Client, name: &str, args: Value) -> String {
    let r = c.call_tool(params(name, args.clone())).await.unwrap();
    assert_eq!(
        r.is_error,
        Some(true),
        "{name} {args} was not refused: {r:?}"
    );
    text(&r)
}

async fn plan(c: &Client, tool: &str, args: Value) -> String {
    let p = ok(c, &format!("{tool}_plan"), args.clone()).await;
    assert_eq!(p["tool"], json!(tool));
    let mut expected = args.as_object().cloned().unwrap();
    expected.insert("plan_id".into(), p["plan_id"].clone());
    assert_eq!(p["arguments"], Value::Object(expected));
    p["plan_id"].as_str().unwrap().to_owned()
}

fn with_plan(args: &Value, plan_id: &str) -> Value {
    let mut a = args.clone();
    a["plan_id"] = json!(plan_id);
    a
}

async fn ledger_incidents(ws_dir: &std::path::Path) -> Vec<runway_ledger::Record> {
    let url = runway_ledger::LedgerUrl::default_for(ws_dir);
    runway_ledger::testing::records_of(&url, runway_ledger::Kind::Incident)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_allow_writes_the_writing_tools_are_not_listed_and_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let c = client(workspace(
        dir.path(),
        "[project]\nname = \"t\"\n[mcp]\nallow_writes = false\n",
    ))
    .await;
    let names: Vec<String> = c
        .list_all_tools()
        .await
        .unwrap()
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    assert_eq!(names, runway_mcp::TOOL_NAMES);
    for w in runway_mcp::WRITE_TOOLS {
        // `deploy`'s plan is the reading tool `deploy_plan`, listed either way.
        let plan = format!("{w}_plan");
        let names = if *w == "deploy" {
            vec![w.to_string()]
        } else {
            vec![w.to_string(), plan]
        };
        for name in names {
            let err = c
                .call_tool(params(&name, json!({"id": "inc-1", "plan_id": "plan-x"})))
                .await
                .unwrap_err();
            let msg = format!("{err:?}");
            assert!(msg.contains("allow_writes = true"), "{name}: {msg}");
        }
    }
    assert!(ledger_incidents(dir.path()).await.is_empty());
    c.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_is_opened_acknowledged_and_resolved_in_two_steps_as_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let c = client(workspace(dir.path(), WRITES)).await;
    let tools = c.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    for w in runway_mcp::WRITE_TOOLS {
        let t = tools.iter().find(|t| t.name == *w).unwrap();
        assert_eq!(
            t.annotations.as_ref().unwrap().read_only_hint,
            Some(false),
            "{w}"
        );
        let schema = serde_json::to_value(&t.input_schema).unwrap();
        assert!(
            schema["required"]
                .as_array()
                .unwrap()
                .contains(&json!("plan_id")),
            "{w}: {schema}"
        );
        assert!(names.contains(&format!("{w}_plan").as_str()), "{names:?}");
    }

    let open = json!({"severity": "P1", "title": "tools/call times out"});
    // No plan id, an unknown one, one for other arguments: refused, nothing written.
    let e = refused(&c, "incident_open", open.clone()).await;
    assert!(
        e.contains("needs a `plan_id` from `incident_open_plan`"),
        "{e}"
    );
    let e = refused(&c, "incident_open", with_plan(&open, "plan-0000")).await;
    assert!(e.contains("there is no plan `plan-0000`"), "{e}");
    let p = plan(&c, "incident_open", open.clone()).await;
    let other = json!({"severity": "P0", "title": "tools/call times out"});
    let e = refused(&c, "incident_open", with_plan(&other, &p)).await;
    assert!(e.contains("other arguments"), "{e}");
    let e = refused(&c, "incident_ack", with_plan(&json!({"id": "inc-x"}), &p)).await;
    assert!(
        e.contains("made for `incident_open`, not `incident_ack`"),
        "{e}"
    );
    assert!(ledger_incidents(dir.path()).await.is_empty());

    let opened = ok(&c, "incident_open", with_plan(&open, &p)).await;
    let id = opened["id"].as_str().unwrap().to_owned();
    assert_eq!(opened["operator"], json!(CLIENT));
    assert_eq!(opened["body"]["title"], json!("tools/call times out"));
    // Used once: a second write with it is refused, and nothing more is written.
    let e = refused(&c, "incident_open", with_plan(&open, &p)).await;
    assert!(e.contains("already used"), "{e}");
    assert!(e.contains("hint: call `incident_open_plan`"), "{e}");
    assert_eq!(ledger_incidents(dir.path()).await.len(), 1);

    let ack = json!({"id": id, "note": "looking"});
    let plan_ack = ok(&c, "incident_ack_plan", ack.clone()).await;
    assert_eq!(plan_ack["would"]["from"], json!("detected"));
    assert_eq!(plan_ack["would"]["to"], json!("acknowledged"));
    let plan_id = plan_ack["plan_id"].as_str().unwrap();
    let acked = ok(&c, "incident_ack", with_plan(&ack, plan_id)).await;
    let last = acked["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["status"], json!("acknowledged"));
    assert_eq!(last["operator"], json!(CLIENT));

    // A plan for an illegal move is refused at plan time.
    let e = refused(&c, "incident_ack_plan", json!({"id": id})).await;
    assert!(e.contains("acknowledged"), "{e}");

    let resolve = json!({"id": id});
    let p = plan(&c, "incident_resolve", resolve.clone()).await;
    let resolved = ok(&c, "incident_resolve", with_plan(&resolve, &p)).await;
    let last = resolved["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["status"], json!("resolved"));

    let record = &ledger_incidents(dir.path()).await[0];
    assert_eq!(record.operator, CLIENT);
    assert_eq!(record.status(), Some("resolved"));
    assert!(
        record.events.iter().all(|e| e.operator == CLIENT),
        "{record:?}"
    );
    c.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_plan_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let toml = format!("{WRITES}plan_ttl = \"1s\"\n");
    let c = client(workspace(dir.path(), &toml)).await;
    let open = json!({"severity": "P3", "title": "slow"});
    let p = plan(&c, "incident_open", open.clone()).await;
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    let e = refused(&c, "incident_open", with_plan(&open, &p)).await;
    assert!(e.contains("has expired: a plan lasts 1s"), "{e}");
    assert!(ledger_incidents(dir.path()).await.is_empty());
    c.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_changelog_write_writes_the_planned_entry_and_notes_it_in_the_ledger() {
    let repo = runway_testkit::git::Repo::new();
    repo.pyproject("1.0.0");
    repo.write("runway.toml", WRITES);
    repo.commit_all("chore: start");
    repo.tag("v1.0.0");
    repo.commit("feat: a deploy_status tool");
    repo.commit("fix: retry the handshake once");
    let ws = runway_mcp::Workspace {
        root: repo.path().to_path_buf(),
        config: runway_config::Config::discover(repo.path()).unwrap(),
        ledger: runway_ledger::LedgerUrl::default_for(repo.path()),
    };
    let c = client(ws).await;
    let p = ok(&c, "changelog_write_plan", json!({})).await;
    assert_eq!(p["would"]["version"], json!("1.1.0"));
    let planned = p["would"]["text"].as_str().unwrap().to_owned();
    assert!(planned.contains("a deploy_status tool"), "{planned}");
    assert!(!repo.join("CHANGELOG.md").exists(), "the plan wrote");

    let written = ok(&c, "changelog_write", json!({"plan_id": p["plan_id"]})).await;
    assert_eq!(written["version"], json!("1.1.0"));
    let on_disk = repo.read("CHANGELOG.md");
    assert!(on_disk.contains(&planned), "{on_disk}");

    // Planning it again: the entry is there now.
    let e = refused(&c, "changelog_write_plan", json!({})).await;
    assert!(e.contains("1.1.0"), "{e}");

    let ledger = runway_ledger::open(&runway_ledger::LedgerUrl::default_for(repo.path()))
        .await
        .unwrap();
    let record = ledger
        .get(written["ledger_id"].as_str().unwrap())
        .await
        .unwrap();
    ledger.close().await;
    assert_eq!(record.kind, runway_ledger::Kind::Release);
    assert_eq!(record.operator, CLIENT);
    assert_eq!(record.version.as_deref(), Some("1.1.0"));
    assert_eq!(record.status(), Some(runway_mcp::CHANGELOG_WRITTEN));
    c.cancel().await.unwrap();
}
