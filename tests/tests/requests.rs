//! The exact HTTP requests the SDK sends, pinned as insta JSON snapshots.

use cloudflare_secondary_dns::{Client, Credentials, types};
use sdk_tests::{
    EXAMPLE_ACCOUNT_ID, EXAMPLE_PEER_ID, example_tsig_secret, recorded_requests, start_stand_in,
    update_example_peer, update_peer_request_example,
};
use serde_json::Value;

/// Sends one Update Peer with `credentials` and `body`; returns the request
/// the server received.
async fn sent_request(credentials: Credentials, body: types::builder::PeerUpdate) -> Value {
    let server = start_stand_in().await;
    let client = Client::builder(credentials)
        .base_url(server.uri())
        .build()
        .unwrap();
    let response = update_example_peer(&client, body).await.unwrap();
    assert_eq!(response.status(), 200);
    let mut requests = recorded_requests(&server).await;
    assert_eq!(requests.len(), 1, "exactly one request per call");
    let request = requests.remove(0);
    assert!(
        request["headers"].get("api-version").is_none(),
        "progenitor's api-version header leaked"
    );
    request
}

fn all_fields() -> types::builder::PeerUpdate {
    types::PeerUpdate::builder()
        .name("my-peer-1")
        .ip(Some("192.0.2.53".parse().unwrap()))
        .ixfr_enable(Some(false))
        .port(Some(53))
        .tsig_id(Some("69cd1e104af3e6ed3cb344f263fd0d5a".to_owned()))
}

#[tokio::test]
async fn update_peer_with_all_five_fields() {
    let request = sent_request(Credentials::api_token("test-token-123"), all_fields()).await;
    // The seed's curl body, plus ixfr_enable.
    let mut expected = update_peer_request_example().clone();
    expected["ixfr_enable"] = false.into();
    assert_eq!(request["body"], expected);
    insta::assert_json_snapshot!(request);
}

#[tokio::test]
async fn update_peer_with_name_only() {
    let body = types::PeerUpdate::builder().name("my-peer-1");
    let request = sent_request(Credentials::api_token("test-token-123"), body).await;
    insta::assert_json_snapshot!(request);
}

#[tokio::test]
async fn an_ipv6_address_is_sent_in_its_canonical_form() {
    let body = types::PeerUpdate::builder()
        .name("v6")
        .ip(Some("2001:DB8:0:0::53".parse().unwrap()));
    let request = sent_request(Credentials::api_token("t"), body).await;
    assert_eq!(request["body"]["ip"], "2001:db8::53");
}

#[tokio::test]
async fn auth_with_api_token() {
    let request = sent_request(Credentials::api_token("test-token-123"), all_fields()).await;
    insta::assert_json_snapshot!(request["headers"]);
}

#[tokio::test]
async fn auth_with_email_and_api_key() {
    let credentials = Credentials::api_key("user@example.com", "144c9defac04969c7bfad8efaa8ea194");
    let request = sent_request(credentials, all_fields()).await;
    insta::assert_json_snapshot!(request["headers"]);
}

#[tokio::test]
async fn auth_with_user_service_key() {
    let credentials = Credentials::user_service_key("v1.0-test-service-key");
    let request = sent_request(credentials, all_fields()).await;
    insta::assert_json_snapshot!(request["headers"]);
}

#[tokio::test]
async fn a_custom_user_agent_replaces_the_default() {
    let server = start_stand_in().await;
    let client = Client::builder(Credentials::api_token("t"))
        .base_url(format!("{}/", server.uri()))
        .user_agent("peer-sync/2.1")
        .build()
        .unwrap();
    update_example_peer(&client, types::PeerUpdate::builder().name("x"))
        .await
        .unwrap();
    let requests = recorded_requests(&server).await;
    assert_eq!(requests[0]["headers"]["user-agent"], "peer-sync/2.1");
    // A trailing slash on the base URL does not double the slash.
    assert_eq!(
        requests[0]["path"],
        format!("/accounts/{EXAMPLE_ACCOUNT_ID}/secondary_dns/peers/{EXAMPLE_PEER_ID}")
    );
}

/// One request of each operation, in a real order against the stand-in;
/// each is pinned in its own snapshot.
#[tokio::test]
async fn every_operation_sends_the_documented_request() {
    let server = start_stand_in().await;
    let client = Client::builder(Credentials::api_token("test-token-123"))
        .base_url(server.uri())
        .build()
        .unwrap();
    let account = EXAMPLE_ACCOUNT_ID;
    let tsig = |name: &str| {
        types::TsigInput::builder()
            .name(name)
            .algo("hmac-sha512.")
            .secret(example_tsig_secret())
    };

    client
        .list_peers()
        .account_id(account)
        .send()
        .await
        .unwrap();
    let tsig_id = client
        .create_tsig()
        .account_id(account)
        .body(tsig("tsig.customer.cf."))
        .send()
        .await
        .unwrap();
    let tsig_id = tsig_id.into_inner().result.unwrap().id;
    client
        .get_tsig()
        .account_id(account)
        .tsig_id(tsig_id.as_str())
        .send()
        .await
        .unwrap();
    client
        .update_tsig()
        .account_id(account)
        .tsig_id(tsig_id.as_str())
        .body(tsig("tsig2.customer.cf."))
        .send()
        .await
        .unwrap();
    client
        .list_tsigs()
        .account_id(account)
        .send()
        .await
        .unwrap();
    let peer = client
        .create_peer()
        .account_id(account)
        .body(types::PeerCreate::builder().name("my-peer-2"))
        .send()
        .await
        .unwrap();
    let peer_id = peer.into_inner().result.unwrap().id;
    client
        .get_peer()
        .account_id(account)
        .peer_id(peer_id.as_str())
        .send()
        .await
        .unwrap();
    client
        .delete_peer()
        .account_id(account)
        .peer_id(peer_id.as_str())
        .send()
        .await
        .unwrap();
    client
        .delete_tsig()
        .account_id(account)
        .tsig_id(tsig_id.as_str())
        .send()
        .await
        .unwrap();

    let requests = recorded_requests(&server).await;
    let operations = [
        "list_peers",
        "create_tsig",
        "get_tsig",
        "update_tsig",
        "list_tsigs",
        "create_peer",
        "get_peer",
        "delete_peer",
        "delete_tsig",
    ];
    assert_eq!(requests.len(), operations.len());
    for (operation, request) in operations.iter().zip(&requests) {
        assert!(
            request["headers"].get("api-version").is_none(),
            "{operation} sent api-version"
        );
        insta::assert_json_snapshot!(*operation, request);
    }
}
