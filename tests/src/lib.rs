//! Shared test support: the spec's examples as fixtures, a stateful stand-in
//! of the API on 127.0.0.1 and a stable JSON record of the requests it
//! received, and a lean server for load, fuzz and benchmark runs.
//!
//! Used by the integration tests in `tests/tests/`, the examples and the benchmarks.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use cloudflare_secondary_dns::{ApiError, Client, ConfigError, Credentials, ResponseValue, types};
use serde_json::{Value, json};
use wiremock::MockServer;

mod lean_server;
mod stand_in;
pub use lean_server::{LeanRequest, LeanResponse, LeanServer, lean_response, start_lean_server};
pub use stand_in::{EXAMPLE_TSIG_ID, start_stand_in};

/// The spec fragment, the single source of truth for fixtures too.
pub const SPEC_YAML: &str = include_str!("../../openapi/secondary-dns.yaml");

/// The Update Peer path, with the identifier rules of the spec.
pub const UPDATE_PEER_PATH: &str = "^/accounts/[0-9a-f]{32}/secondary_dns/peers/[0-9a-f]{32}$";

/// The seed's example identifiers.
pub const EXAMPLE_ACCOUNT_ID: &str = "01a7362d577a6c3019a474fd6f485823";
/// The peer id of the seed's example response.
pub const EXAMPLE_PEER_ID: &str = "23ff594956f20c2a721606e94745a8aa";

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

/// Every request `server` received, as stable JSON: method, path, query,
/// headers (sorted; `host` dropped because it holds the random port) and
/// the JSON body.
pub async fn recorded_requests(server: &MockServer) -> Vec<Value> {
    let requests = server
        .received_requests()
        .await
        .expect("request recording is on");
    requests
        .iter()
        .map(|request| {
            let headers: BTreeMap<&str, &str> = request
                .headers
                .iter()
                .filter(|(name, _)| *name != "host")
                .map(|(name, value)| (name.as_str(), value.to_str().expect("ASCII header")))
                .collect();
            let body = if request.body.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&request.body).expect("the request body is JSON")
            };
            json!({
                "method": request.method.as_str(),
                "path": request.url.path(),
                "query": request.url.query(),
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

/// Where an example sends its requests.
pub struct Target {
    /// The client to use.
    pub client: Client,
    /// The local stand-in when there were no credentials; it serves until dropped.
    pub stand_in: Option<MockServer>,
}

/// The real API when credentials are in the environment (`Client::from_env`),
/// otherwise a fresh stand-in on 127.0.0.1, announced on stderr.
pub async fn client_from_env_or_stand_in() -> Result<Target, ConfigError> {
    match Client::from_env() {
        Ok(client) => Ok(Target {
            client,
            stand_in: None,
        }),
        Err(ConfigError::MissingCredentials) => {
            let stand_in = start_stand_in().await;
            eprintln!(
                "No Cloudflare credentials in the environment (CLOUDFLARE_API_TOKEN, or \
                 CLOUDFLARE_EMAIL + CLOUDFLARE_API_KEY): using a local stand-in of the API at {}",
                stand_in.uri()
            );
            let client = Client::builder(Credentials::api_token("stand-in-token"))
                .base_url(stand_in.uri())
                .build()?;
            Ok(Target {
                client,
                stand_in: Some(stand_in),
            })
        }
        Err(err) => Err(err),
    }
}
