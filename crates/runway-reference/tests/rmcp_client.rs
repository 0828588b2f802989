//! rmcp's own client (what `runway-verify` uses for the positive path) talks to the
//! reference server in both eras.

mod common;

use common::*;
use rmcp::ServiceExt as _;
use rmcp::model::{CallToolRequestParams, ProtocolVersion};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt as _};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use runway_reference::Faults;
use serde_json::json;

fn transport(url: &str) -> StreamableHttpClientTransport<reqwest::Client> {
    StreamableHttpClientTransport::with_client(
        {
            install_crypto_provider();
            reqwest::Client::new()
        },
        StreamableHttpClientTransportConfig::with_uri(url).auth_header(TOKEN),
    )
}

#[tokio::test]
async fn the_rmcp_client_initializes_lists_and_calls() {
    let server = start(Faults::default()).await;
    let client = tokio::time::timeout(TIMEOUT, ().serve(transport(&server.mcp_url)))
        .await
        .unwrap()
        .unwrap();
    let info = client.peer_info().unwrap();
    assert!(info.protocol_version.has_initialize(), "{info:?}");
    assert_eq!(info.server_info.as_ref().unwrap().version, "9.8.7");
    let tools = tokio::time::timeout(TIMEOUT, client.list_all_tools())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tools.len(), 17);
    let args = json!({"a": 1, "b": 2}).as_object().cloned().unwrap();
    let sum = client
        .call_tool(CallToolRequestParams::new("add").with_arguments(args))
        .await
        .unwrap();
    assert_eq!(sum.structured_content, Some(json!({"sum": 3.0})));
    client.cancel().await.unwrap();
    server.shutdown().await;
}

#[tokio::test]
async fn the_rmcp_client_discovers_the_stateless_era() {
    let server = start(Faults::default()).await;
    let client = tokio::time::timeout(
        TIMEOUT,
        ().serve_with_lifecycle(
            transport(&server.mcp_url),
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        ),
    )
    .await
    .unwrap()
    .unwrap();
    let info = client.peer_info().unwrap();
    assert_eq!(info.protocol_version, ProtocolVersion::V_2026_07_28);
    let tools = tokio::time::timeout(TIMEOUT, client.list_all_tools())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tools.len(), 17);
    let args = json!({"message": "hello"}).as_object().cloned().unwrap();
    let echo = client
        .call_tool(CallToolRequestParams::new("echo").with_arguments(args))
        .await
        .unwrap();
    assert_eq!(echo.content[0].as_text().unwrap().text, "hello");
    client.cancel().await.unwrap();
    server.shutdown().await;
}
