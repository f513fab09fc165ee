//! Shared test support: the spec's examples as fixtures, the stand-in of the
//! API (`stand-in/`) and a stable JSON record of the requests a server
//! received, and a lean server for load, fuzz and benchmark runs.
//!
//! Used by the integration tests in `tests/tests/` and the benchmarks.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use cloudflare_secondary_dns::{ApiError, Client, ResponseValue, types};
use serde_json::{Value, json};
use wiremock::MockServer;

mod lean_server;
pub use lean_server::{LeanRequest, LeanResponse, LeanServer, lean_response, start_lean_server};
pub use secondary_dns_stand_in::{
    EXAMPLE_ACCOUNT_ID, EXAMPLE_ACL_ID, EXAMPLE_PEER_ID, EXAMPLE_TSIG_ID, EXAMPLE_ZONE_ID,
    FIRST_SERIAL, RecordedRequest, StandIn,
};

/// The spec fragment, the single source of truth for fixtures too.
pub const SPEC_YAML: &str = include_str!("../../openapi/secondary-dns.yaml");

/// The Update Peer path, with the identifier rules of the spec.
pub const UPDATE_PEER_PATH: &str = "^/accounts/[0-9a-f]{32}/secondary_dns/peers/[0-9a-f]{32}$";

static SPEC: LazyLock<Value> = LazyLock::new(|| {
    serde_yaml_ng::from_str(SPEC_YAML).expect("openapi/secondary-dns.yaml is valid YAML")
});

/// The spec as JSON.
pub fn spec() -> &'static Value {
    &SPEC
}

fn update_peer_operation() -> &'static Value {
    &SPEC["paths"]["/accounts/{account_id}/secondary_dns/peers/{peer_id}"]["put"]
}

/// The request body example of Update Peer (the seed's `curl -d`).
pub fn update_peer_request_example() -> &'static Value {
    let example = &update_peer_operation()["requestBody"]["content"]["application/json"]["example"];
    assert!(
        example.is_object(),
        "the spec lost the Update Peer request example"
    );
    example
}

/// The 200 response example of Update Peer (the seed's response).
pub fn update_peer_response_example() -> &'static Value {
    let example =
        &update_peer_operation()["responses"]["200"]["content"]["application/json"]["example"];
    assert!(
        example.is_object(),
        "the spec lost the Update Peer response example"
    );
    example
}

/// The spec's example TSIG secret (128 hex characters).
pub fn example_tsig_secret() -> &'static str {
    SPEC["components"]["schemas"]["TsigSecret"]["example"]
        .as_str()
        .expect("the spec lost the TSIG secret example")
}

/// The example of the failure envelope (Cloudflare's "No route for the URI").
pub fn failure_example() -> &'static Value {
    let example = &SPEC["components"]["schemas"]["ApiResponseCommonFailure"]["example"];
    assert!(
        example.is_object(),
        "the spec lost the failure envelope example"
    );
    example
}

/// Starts the stateful stand-in of the API (`stand-in/`) on 127.0.0.1.
pub async fn start_stand_in() -> StandIn {
    StandIn::start().await
}

/// A server whose received requests a test can read.
pub trait RecordsRequests {
    /// Every request received so far, in order.
    fn received(&self) -> impl Future<Output = Vec<RecordedRequest>>;
}

impl RecordsRequests for StandIn {
    async fn received(&self) -> Vec<RecordedRequest> {
        self.requests()
    }
}

impl RecordsRequests for MockServer {
    async fn received(&self) -> Vec<RecordedRequest> {
        self.received_requests()
            .await
            .expect("request recording is on")
            .into_iter()
            .map(|request| RecordedRequest {
                method: request.method.as_str().to_owned(),
                path: request.url.path().to_owned(),
                query: request.url.query().map(str::to_owned),
                headers: request
                    .headers
                    .iter()
                    .map(|(name, value)| {
                        (
                            name.as_str().to_owned(),
                            bytes::Bytes::copy_from_slice(value.as_bytes()),
                        )
                    })
                    .collect(),
                body: request.body.into(),
            })
            .collect()
    }
}

/// Every request `server` received, as stable JSON: method, path, query,
/// headers (sorted; `host` dropped because it holds the random port) and
/// the JSON body.
pub async fn recorded_requests(server: &impl RecordsRequests) -> Vec<Value> {
    server
        .received()
        .await
        .iter()
        .map(|request| {
            let headers: BTreeMap<&str, &str> = request
                .headers
                .iter()
                .filter(|(name, _)| name != "host")
                .map(|(name, value)| {
                    (
                        name.as_str(),
                        std::str::from_utf8(value).expect("ASCII header"),
                    )
                })
                .collect();
            let body = if request.body.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&request.body).expect("the request body is JSON")
            };
            json!({
                "method": request.method,
                "path": request.path,
                "query": request.query,
                "headers": headers,
                "body": body,
            })
        })
        .collect()
}

/// Update Peer on the seed's example account and peer, with `body`.
pub async fn update_example_peer(
    client: &Client,
    body: types::builder::PeerUpdate,
) -> Result<ResponseValue<types::SinglePeerResponse>, ApiError> {
    client
        .update_peer()
        .account_id(EXAMPLE_ACCOUNT_ID)
        .peer_id(EXAMPLE_PEER_ID)
        .body(body)
        .send()
        .await
}
