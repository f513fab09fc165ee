//! The two sides every benchmark compares: an Update Peer call through the
//! sdk, and the same request by hand on the sdk's own `reqwest::Client`.
#![allow(dead_code)]

use cloudflare_secondary_dns::{Client, types};
use reqwest::header::{ACCEPT, HeaderValue};
use sdk_tests::{EXAMPLE_ACCOUNT_ID, EXAMPLE_PEER_ID};

pub async fn via_sdk(client: &Client, body: &types::PeerUpdate) -> types::SinglePeerResponse {
    client
        .update_peer()
        .account_id(EXAMPLE_ACCOUNT_ID)
        .peer_id(EXAMPLE_PEER_ID)
        .body(body.clone())
        .send()
        .await
        .unwrap()
        .into_inner()
}

/// The same request by hand on the SDK's own `reqwest::Client` (same
/// default headers), decoding the same envelope. Like the SDK call, it starts
/// from its own copy of the body, as an application building one per request,
/// and makes the URL from the base URL and the two ids, as any client of
/// Update Peer does.
pub async fn by_hand(
    http: &reqwest::Client,
    base_url: &str,
    body: &types::PeerUpdate,
) -> types::SinglePeerResponse {
    let body = body.clone();
    let response = http
        .put(peer_url(base_url))
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

pub fn peer_url(base_url: &str) -> String {
    format!("{base_url}/accounts/{EXAMPLE_ACCOUNT_ID}/secondary_dns/peers/{EXAMPLE_PEER_ID}")
}
