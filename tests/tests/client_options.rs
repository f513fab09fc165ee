//! Per-client and per-call options, shown on the wire: default headers, the
//! `api-version` pin, and `Client::with_options` (timeout and retries for
//! some calls, on the same connection pool).

use std::sync::atomic::Ordering;
use std::time::Duration;

use cloudflare_secondary_dns::{CallOptions, Client, ConfigError, Credentials, ErrorKind, types};
use sdk_tests::{
    lean_response, recorded_requests, start_lean_server, start_stand_in, update_example_peer,
    update_peer_response_example,
};
use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn builder(url: &str) -> cloudflare_secondary_dns::ClientBuilder {
    Client::builder(Credentials::api_token("test-token-123")).base_url(url)
}

async fn one_update(client: &Client) -> Result<(), cloudflare_secondary_dns::ApiError> {
    update_example_peer(client, types::PeerUpdate::builder().name("my-peer-1"))
        .await
        .map(drop)
}

#[tokio::test]
async fn default_headers_and_the_api_version_pin_are_sent_with_every_request() {
    let server = start_stand_in().await;
    let client = builder(&server.uri())
        .default_header("X-Team", "dns-operations")
        .default_header("x-request-source", "first")
        .default_header("X-Request-Source", "replaced")
        .api_version("2024-08-06")
        .build()
        .unwrap();
    one_update(&client).await.unwrap();
    client
        .list_tsigs()
        .account_id(sdk_tests::EXAMPLE_ACCOUNT_ID)
        .send()
        .await
        .unwrap();
    let requests = recorded_requests(&server).await;
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(request["headers"]["api-version"], "2024-08-06");
        assert_eq!(request["headers"]["x-team"], "dns-operations");
        assert_eq!(request["headers"]["x-request-source"], "replaced");
    }
    insta::assert_json_snapshot!(
        "update_peer_with_default_headers_and_api_version",
        requests[0]
    );
    // The values are marked sensitive: the client's Debug output hides them.
    let debug = format!("{client:?}");
    assert!(!debug.contains("dns-operations"), "{debug}");
}

#[tokio::test]
async fn without_a_pin_no_api_version_is_sent() {
    let server = start_stand_in().await;
    let client = builder(&server.uri()).build().unwrap();
    one_update(&client).await.unwrap();
    let requests = recorded_requests(&server).await;
    assert!(requests[0]["headers"].get("api-version").is_none());
}

#[test]
fn headers_the_client_sets_itself_are_refused_by_name() {
    for (name, because) in [
        ("Authorization", "Credentials"),
        ("X-Auth-Key", "Credentials"),
        ("X-Auth-Email", "Credentials"),
        ("X-Auth-User-Service-Key", "Credentials"),
        ("User-Agent", "user_agent"),
        ("api-version", "api_version"),
        ("Content-Length", "body"),
    ] {
        let err = builder("http://127.0.0.1:1")
            .default_header(name, "hunter2")
            .build()
            .unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(
            matches!(&err, ConfigError::InvalidHeader { name: shown, .. } if shown == name),
            "{text}"
        );
        assert!(text.contains(because), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }
    let err = builder("http://127.0.0.1:1")
        .api_version("August 2024")
        .build()
        .unwrap_err();
    assert!(matches!(err, ConfigError::InvalidApiVersion), "{err:?}");
}

/// A server that answers 503 to everything, counting requests.
async fn always_unavailable() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({
            "success": false, "errors": [{"code": 10000, "message": "unavailable"}]
        })))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn with_options_changes_the_retries_of_the_calls_made_through_it() {
    let mut seen = Vec::new();
    for retries in [0, 1, 4] {
        let server = always_unavailable().await;
        let client = builder(&server.uri())
            .retry_backoff(Duration::from_millis(1), Duration::from_millis(2))
            .build()
            .unwrap();
        let err = one_update(&client.with_options(CallOptions::new().max_retries(retries)))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        let through_options = recorded_requests(&server).await.len();
        // The original client keeps its own policy (two retries).
        one_update(&client).await.unwrap_err();
        let requests = recorded_requests(&server).await;
        seen.push(json!({
            "with_options_max_retries": retries,
            "requests_through_with_options": through_options,
            "then_requests_through_the_client": requests.len() - through_options,
            "all_to_the_update_path": requests.iter().all(|r| r["path"] == requests[0]["path"]),
        }));
    }
    insta::assert_json_snapshot!("with_options_max_retries", seen);
}

#[tokio::test]
async fn with_options_changes_the_timeout_of_the_calls_made_through_it() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(update_peer_response_example())
                .set_delay(Duration::from_millis(300)),
        )
        .mount(&server)
        .await;
    let client = builder(&server.uri()).max_retries(0).build().unwrap();
    let quick = client.with_options(CallOptions::new().timeout(Duration::from_millis(50)));
    let err = one_update(&quick).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{}", err.report());
    // The client's own timeout (60 s) still applies to calls made through it.
    one_update(&client).await.unwrap();
    assert_eq!(recorded_requests(&server).await.len(), 2);
}

#[tokio::test]
async fn a_client_with_options_shares_the_connection_pool() {
    let body = update_peer_response_example().to_string();
    let server =
        start_lean_server(move |_| lean_response(200, "application/json", body.clone())).await;
    let client = builder(&server.url).build().unwrap();
    one_update(&client).await.unwrap();
    for retries in 0..5 {
        let clone = client.with_options(CallOptions::new().max_retries(retries));
        one_update(&clone).await.unwrap();
    }
    one_update(&client).await.unwrap();
    assert_eq!(
        server.connections.load(Ordering::SeqCst),
        1,
        "every call reused the first connection"
    );
}
