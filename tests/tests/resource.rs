//! The whole peer and TSIG resource: a real workflow against the stateful
//! stand-in, and the decoding of every response shape.

use cloudflare_secondary_dns::{ApiError, Client, Credentials, Error, types};
use sdk_tests::{EXAMPLE_ACCOUNT_ID, EXAMPLE_PEER_ID, EXAMPLE_TSIG_ID, start_stand_in};
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};

const ACCOUNT: &str = EXAMPLE_ACCOUNT_ID;
const UNKNOWN_ID: &str = "0123456789abcdef0123456789abcdef";

fn client_for(base_url: &str) -> Client {
    Client::builder(Credentials::api_token("t"))
        .base_url(base_url)
        .build()
        .unwrap()
}

fn tsig_input(name: &str) -> types::builder::TsigInput {
    types::TsigInput::builder()
        .name(name)
        .algo("hmac-sha512.")
        .secret("0f".repeat(64))
}

/// The status and Cloudflare codes of a typed error.
fn status_and_codes(err: &ApiError) -> (u16, Vec<i64>) {
    match err.raw() {
        Error::ErrorResponse(response) => (
            response.status().as_u16(),
            response.errors.iter().map(|e| e.code).collect(),
        ),
        other => panic!("not a typed error response: {other:?}"),
    }
}

#[tokio::test]
async fn create_list_get_update_delete_stay_consistent() {
    let server = start_stand_in().await;
    let client = client_for(&server.uri());

    let tsig = client
        .create_tsig()
        .account_id(ACCOUNT)
        .body(tsig_input("t.example."))
        .send()
        .await
        .unwrap();
    let tsig = tsig.into_inner().result.unwrap();
    assert_eq!(
        tsig.secret.expose_secret(),
        "0f".repeat(64),
        "the secret round-trips exactly"
    );

    let created = client
        .create_peer()
        .account_id(ACCOUNT)
        .body(types::PeerCreate::builder().name("p1"))
        .send()
        .await;
    let created = created.unwrap().into_inner().result.unwrap();
    assert_eq!(
        (
            created.name.as_str(),
            created.ip.as_ref().map(ToString::to_string).as_deref(),
            created.port
        ),
        ("p1", None, None)
    );

    let update = types::PeerUpdate::builder()
        .name("p1")
        .ip(Some("2001:db8::53".parse().unwrap()))
        .port(Some(5353))
        .ixfr_enable(Some(true))
        .tsig_id(Some(tsig.id.clone()));
    let updated = client
        .update_peer()
        .account_id(ACCOUNT)
        .peer_id(created.id.as_str())
        .body(update)
        .send()
        .await;
    let updated = updated.unwrap().into_inner().result.unwrap();
    assert_eq!(updated.ip, Some("2001:db8::53".parse().unwrap()));
    assert_eq!(
        (updated.port, updated.ixfr_enable),
        (Some(5353), Some(true))
    );
    assert_eq!(updated.tsig_id.as_ref(), Some(&tsig.id));

    let fetched = client
        .get_peer()
        .account_id(ACCOUNT)
        .peer_id(created.id.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.into_inner().result.unwrap(), updated);

    let listed = client
        .list_peers()
        .account_id(ACCOUNT)
        .send()
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<&str> = listed
        .result
        .iter()
        .flatten()
        .map(|p| p.id.as_str())
        .collect();
    assert_eq!(ids, [EXAMPLE_PEER_ID, created.id.as_str()]);
    assert_eq!(listed.result_info.unwrap().total_count, Some(2));

    // A TSIG in use cannot go; once its peer is gone, it can.
    let in_use = client
        .delete_tsig()
        .account_id(ACCOUNT)
        .tsig_id(tsig.id.as_str())
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_and_codes(&in_use), (400, vec![1005]));
    let deleted = client
        .delete_peer()
        .account_id(ACCOUNT)
        .peer_id(created.id.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(
        deleted.into_inner().result.unwrap().id.as_deref(),
        Some(created.id.as_str())
    );
    client
        .delete_tsig()
        .account_id(ACCOUNT)
        .tsig_id(tsig.id.as_str())
        .send()
        .await
        .unwrap();

    let gone = client
        .get_peer()
        .account_id(ACCOUNT)
        .peer_id(created.id.as_str())
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_and_codes(&gone), (404, vec![1003]));
    let tsigs = client
        .list_tsigs()
        .account_id(ACCOUNT)
        .send()
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<&str> = tsigs
        .result
        .iter()
        .flatten()
        .map(|t| t.id.as_str())
        .collect();
    assert_eq!(ids, [EXAMPLE_TSIG_ID]);
}

#[tokio::test]
async fn unknown_ids_are_typed_404s() {
    let server = start_stand_in().await;
    let client = client_for(&server.uri());
    let peer = || types::PeerUpdate::builder().name("x");
    let errors = [
        client
            .get_peer()
            .account_id(ACCOUNT)
            .peer_id(UNKNOWN_ID)
            .send()
            .await
            .map(drop),
        client
            .update_peer()
            .account_id(ACCOUNT)
            .peer_id(UNKNOWN_ID)
            .body(peer())
            .send()
            .await
            .map(drop),
        client
            .delete_peer()
            .account_id(ACCOUNT)
            .peer_id(UNKNOWN_ID)
            .send()
            .await
            .map(drop),
        client
            .get_tsig()
            .account_id(ACCOUNT)
            .tsig_id(UNKNOWN_ID)
            .send()
            .await
            .map(drop),
        client
            .update_tsig()
            .account_id(ACCOUNT)
            .tsig_id(UNKNOWN_ID)
            .body(tsig_input("x"))
            .send()
            .await
            .map(drop),
        client
            .delete_tsig()
            .account_id(ACCOUNT)
            .tsig_id(UNKNOWN_ID)
            .send()
            .await
            .map(drop),
    ];
    for result in errors {
        assert_eq!(status_and_codes(&result.unwrap_err()), (404, vec![1003]));
    }
}

#[tokio::test]
async fn a_peer_can_only_name_an_existing_tsig() {
    let server = start_stand_in().await;
    let client = client_for(&server.uri());
    let body = types::PeerUpdate::builder()
        .name("x")
        .tsig_id(Some(UNKNOWN_ID.to_owned()));
    let err = client
        .update_peer()
        .account_id(ACCOUNT)
        .peer_id(EXAMPLE_PEER_ID)
        .body(body)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_and_codes(&err), (400, vec![1004]));
    assert!(
        err.report().to_string().contains("names no TSIG"),
        "{}",
        err.report()
    );
}

/// A list answered with `result` set to `result`.
async fn list_peers_answering(result: Option<Value>) -> types::PeerCollectionResponse {
    let mut body = json!({"errors": [], "messages": [], "success": true,
                          "result_info": {"count": 0, "page": 1, "per_page": 20, "total_count": 0}});
    if let Some(result) = result {
        body["result"] = result;
    }
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    client_for(&server.uri())
        .list_peers()
        .account_id(ACCOUNT)
        .send()
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test]
async fn lists_decode_empty_null_and_missing_results() {
    assert_eq!(
        list_peers_answering(Some(json!([]))).await.result,
        Some(vec![])
    );
    assert_eq!(list_peers_answering(Some(Value::Null)).await.result, None);
    let missing = list_peers_answering(None).await;
    assert_eq!(missing.result, None);
    let info = missing.result_info.unwrap();
    assert_eq!(
        (info.count, info.page, info.per_page, info.total_count),
        (Some(0), Some(1), Some(20), Some(0))
    );
}

#[tokio::test]
async fn every_response_shape_decodes() {
    let tsig = json!({"id": EXAMPLE_TSIG_ID, "name": "tsig.customer.cf.", "secret": "ab".repeat(64), "algo": "hmac-sha512."});
    let envelope =
        |result: Value| json!({"errors": [], "messages": [], "success": true, "result": result});

    let single: types::SingleTsigResponse = serde_json::from_value(envelope(tsig.clone())).unwrap();
    assert_eq!(single.result.unwrap().algo, "hmac-sha512.");
    let list: types::TsigCollectionResponse =
        serde_json::from_value(envelope(json!([tsig, tsig]))).unwrap();
    assert_eq!(list.result.unwrap().len(), 2);
    let deleted: types::IdResponse =
        serde_json::from_value(envelope(json!({"id": EXAMPLE_PEER_ID}))).unwrap();
    assert_eq!(deleted.result.unwrap().id.as_deref(), Some(EXAMPLE_PEER_ID));
    let created: types::SinglePeerResponse =
        serde_json::from_value(envelope(json!({"id": "x", "name": "n"}))).unwrap();
    assert_eq!(created.result.unwrap().ip, None);
    // A TSIG missing a required field is refused, naming the field.
    let err = serde_json::from_value::<types::Tsig>(json!({"id": "x", "name": "n", "secret": "s"}))
        .unwrap_err();
    assert!(err.to_string().contains("missing field `algo`"), "{err}");
}
