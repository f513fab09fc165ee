//! The two sides every benchmark compares: an Update Peer call through the
//! sdk, and the same request by hand on the sdk's own `reqwest::Client`.
#![allow(dead_code)]

use cloudflare_secondary_dns::{Client, ClientInfo, types};
use reqwest::ResponseBuilderExt;
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
    let response = update_peer(http, base_url, body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

/// The hand-written Update Peer, from its own copy of the body.
fn update_peer(
    http: &reqwest::Client,
    base_url: &str,
    body: &types::PeerUpdate,
) -> reqwest::RequestBuilder {
    let body = body.clone();
    http.put(peer_url(base_url))
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .json(&body)
}

pub fn peer_url(base_url: &str) -> String {
    format!("{base_url}/accounts/{EXAMPLE_ACCOUNT_ID}/secondary_dns/peers/{EXAMPLE_PEER_ID}")
}

/// By hand again, with what the SDK does for every request besides sending
/// it (the floor of its design): a copy of the request kept for a retry, the
/// body read chunk by chunk against a size limit, and the response rebuilt
/// around the read body for a second reader (progenitor's `exec` hook must
/// hand back a `reqwest::Response`).
async fn by_hand_with_safeguards(
    http: &reqwest::Client,
    base_url: &str,
    body: &types::PeerUpdate,
) -> types::SinglePeerResponse {
    let request = update_peer(http, base_url, body).build().unwrap();
    let kept_for_a_retry = request.try_clone().unwrap();
    let mut response = http.execute(request).await.unwrap();
    let (status, version, url) = (
        response.status(),
        response.version(),
        response.url().clone(),
    );
    let headers = std::mem::take(response.headers_mut());
    let mut read = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        read.extend_from_slice(&chunk);
        assert!(read.len() <= 16 << 20, "over the size limit");
    }
    drop(kept_for_a_retry);
    let mut rebuilt = http::Response::builder()
        .status(status)
        .version(version)
        .url(url);
    *rebuilt.headers_mut().unwrap() = headers;
    let response: reqwest::Response = rebuilt.body(bytes::Bytes::from(read)).unwrap().into();
    assert_eq!(response.status(), 200);
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

/// Who makes the call.
#[derive(Clone, Copy)]
pub enum Side {
    Sdk,
    ByHand,
    ByHandWithSafeguards,
}

/// One Update Peer call, made by `side` (by hand on the sdk's own
/// `reqwest::Client`).
pub async fn call(
    side: Side,
    client: &Client,
    base_url: &str,
    body: &types::PeerUpdate,
) -> types::SinglePeerResponse {
    match side {
        Side::Sdk => via_sdk(client, body).await,
        Side::ByHand => by_hand(client.client(), base_url, body).await,
        Side::ByHandWithSafeguards => {
            by_hand_with_safeguards(client.client(), base_url, body).await
        }
    }
}
