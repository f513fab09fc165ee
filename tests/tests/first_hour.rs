//! What a newcomer does in the first hour: print an error however Rust
//! prints errors, take the resource out of a success, and change one field
//! of what was read.

use cloudflare_secondary_dns::prelude::*;
use cloudflare_secondary_dns::{ConfigError, PeerIp};
use sdk_tests::{EXAMPLE_PEER_ID, start_stand_in};
use secondary_dns_stand_in::{EXAMPLE_ACCOUNT_ID, EXAMPLE_TSIG_ID};
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "first-hour-token-0123456789";

fn client(base_url: &str) -> Client {
    Client::builder(Credentials::api_token(TOKEN))
        .base_url(base_url)
        .max_retries(0)
        .build()
        .unwrap()
}

async fn server_answering(status: u16, body: serde_json::Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(&server)
        .await;
    server
}

async fn get_example_peer(client: &Client) -> Result<types::Peer, ApiError> {
    client
        .get_peer()
        .account_id(EXAMPLE_ACCOUNT_ID)
        .peer_id(EXAMPLE_PEER_ID)
        .send()
        .await?
        .into_result()
}

/// Every natural way of printing `err`, each of which must be the report.
fn printed(err: ApiError) -> Vec<(&'static str, String)> {
    let report = err.report().to_string();
    let mut ways = vec![
        ("report", report),
        ("{}", err.to_string()),
        ("{:?}", format!("{err:?}")),
    ];
    // `?` out of a `main` returning `Result<(), Box<dyn Error>>` prints `Error: {:?}`.
    let boxed: Box<dyn std::error::Error> = Box::new(err);
    ways.push(("Box<dyn Error> {:?}", format!("{boxed:?}")));
    let err = *boxed.downcast::<ApiError>().unwrap();
    // And through anyhow (which needs Send + Sync + 'static), as `?` would.
    let anyhow = anyhow::Error::from(err);
    ways.push(("anyhow {:#}", format!("{anyhow:#}")));
    // anyhow's `{:?}` adds a "Caused by:" list when there are sources; the
    // report already holds the causes, so there is none.
    // (A backtrace follows when RUST_BACKTRACE asks for one: anyhow's, not ours.)
    let debug = format!("{anyhow:?}");
    let debug = debug.split("\n\nStack backtrace:").next().unwrap();
    assert!(!debug.contains("Caused by"), "{debug}");
    ways.push(("anyhow {:?}", debug.to_owned()));
    ways
}

fn assert_all_print_the_report(ways: &[(&str, String)], expected: &str) {
    for (way, text) in ways {
        assert_eq!(text, &ways[0].1, "{way} differs from the report");
        assert!(!text.contains(TOKEN), "{way} shows the token");
        assert!(!text.contains('\n'), "{way} is not one line: {text}");
    }
    assert!(ways[0].1.contains(expected), "{}", ways[0].1);
}

#[tokio::test]
async fn an_api_error_prints_as_its_report_however_it_is_printed() {
    // A 404 whose message echoes the token: every way scrubs it.
    let server = server_answering(
        404,
        json!({"success": false, "errors": [{"code": 1003, "message": format!("no peer for {TOKEN}\nforged")}],
               "messages": [], "result": null}),
    )
    .await;
    let err = get_example_peer(&client(&server.uri())).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let ways = printed(err);
    assert_all_print_the_report(
        &ways,
        "Cloudflare API error, HTTP 404 Not Found: 1003: no peer for [REDACTED]\\nforged",
    );
    // Not progenitor's dump.
    assert!(!ways[1].1.contains("headers"), "{}", ways[1].1);
}

#[tokio::test]
async fn a_connection_error_prints_its_cause_once() {
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = unused.local_addr().unwrap();
    drop(unused);
    let err = get_example_peer(&client(&format!("http://{address}")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection);
    let ways = printed(err);
    assert_all_print_the_report(&ways, "could not connect to the API");
    let report = &ways[0].1;
    assert_eq!(
        report.matches("Connection refused").count(),
        1,
        "the cause once: {report}"
    );
}

#[tokio::test]
async fn the_alternate_debug_shows_the_fields() {
    let server = server_answering(
        429,
        json!({"success": false, "errors": [{"code": 10100, "message": "slow down"}], "messages": []}),
    )
    .await;
    let err = get_example_peer(&client(&server.uri())).await.unwrap_err();
    let fields = format!("{err:#?}");
    for part in [
        "ApiError {",
        "kind: RateLimited",
        "http_status: Some(",
        "429",
        "report:",
    ] {
        assert!(fields.contains(part), "{part}: {fields}");
    }
}

#[test]
fn configuration_errors_print_their_message_out_of_main() {
    let err = Client::builder(Credentials::api_token(TOKEN))
        .base_url("ftp://api.example.com")
        .build()
        .unwrap_err();
    assert!(matches!(err, ConfigError::InvalidBaseUrl { .. }), "{err}");
    let boxed: Box<dyn std::error::Error> = Box::new(err);
    assert_eq!(format!("{boxed:?}"), boxed.to_string());
    assert!(boxed.to_string().contains("must be https"), "{boxed}");

    let id = cloudflare_secondary_dns::PeerIdentifier::try_from("not-an-id").unwrap_err();
    assert_eq!(format!("{id:?}"), id.to_string());
    let ip = "ns1.example.com".parse::<PeerIp>().unwrap_err();
    assert_eq!(format!("{ip:?}"), ip.to_string());
}

#[tokio::test]
async fn into_result_gives_the_resource_or_a_typed_invalid_response() {
    let stand_in = start_stand_in().await;
    let client = client(&stand_in.uri());
    let peer = get_example_peer(&client).await.unwrap();
    assert_eq!(peer.id, EXAMPLE_PEER_ID);
    let peers = client
        .list_peers()
        .account_id(EXAMPLE_ACCOUNT_ID)
        .send()
        .await
        .unwrap()
        .into_result()
        .unwrap();
    assert_eq!(peers, [peer]);

    // A success envelope without its result.
    for body in [
        json!({"success": true, "errors": [], "messages": []}),
        json!({"success": true, "errors": [], "messages": [], "result": null}),
    ] {
        let server = server_answering(200, body).await;
        let err = get_example_peer(&client_at(&server)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidResponse);
        assert_eq!(
            err.to_string(),
            "the response is not the JSON this API describes (missing field `result`)"
        );
    }
}

fn client_at(server: &MockServer) -> Client {
    client(&server.uri())
}

#[tokio::test]
async fn a_peer_read_and_written_back_is_unchanged() {
    let stand_in = start_stand_in().await;
    let client = client(&stand_in.uri());
    let peer = get_example_peer(&client).await.unwrap();
    assert!(peer.ip.is_some() && peer.port.is_some() && peer.tsig_id.is_some());

    // The update body carries every field of the peer (all but the read-only id).
    let update = types::PeerUpdate::from(&peer);
    let mut expected = serde_json::to_value(&peer).unwrap();
    expected.as_object_mut().unwrap().remove("id");
    assert_eq!(serde_json::to_value(&update).unwrap(), expected);

    let written = client
        .update_peer()
        .account_id(EXAMPLE_ACCOUNT_ID)
        .peer_id(EXAMPLE_PEER_ID)
        .body(&update)
        .send()
        .await
        .unwrap()
        .into_result()
        .unwrap();
    assert_eq!(written, peer);

    // One field changed: only that one differs.
    let mut update = types::PeerUpdate::from(&peer);
    update.port = Some(5353);
    let written = client
        .update_peer()
        .account_id(EXAMPLE_ACCOUNT_ID)
        .peer_id(EXAMPLE_PEER_ID)
        .body(update)
        .send()
        .await
        .unwrap()
        .into_result()
        .unwrap();
    assert_eq!(written.port, Some(5353));
    assert_eq!(
        (&written.ip, &written.tsig_id, &written.name),
        (&peer.ip, &peer.tsig_id, &peer.name)
    );
}

#[test]
fn an_ip_cloudflare_sends_that_is_not_one_keeps_the_peer_and_goes_back_verbatim() {
    for ip in ["", "ns1.example.com"] {
        let peer: types::Peer = serde_json::from_value(json!({
            "id": EXAMPLE_PEER_ID, "name": "odd", "ip": ip, "port": 53
        }))
        .unwrap();
        let kept = peer.ip.as_ref().unwrap();
        assert_eq!((kept.addr(), kept.unparsed()), (None, Some(ip)));
        let update = serde_json::to_value(types::PeerUpdate::from(&peer)).unwrap();
        assert_eq!(update, json!({"name": "odd", "ip": ip, "port": 53}));
    }
    // A caller's ip is an address, typed: the same type as the peer's.
    let peer: types::Peer = serde_json::from_value(json!({
        "id": EXAMPLE_PEER_ID, "name": "p", "ip": "2001:db8::53"
    }))
    .unwrap();
    let update = types::PeerUpdate::builder()
        .name("p")
        .ip(peer.ip.clone())
        .try_into()
        .map(|update: types::PeerUpdate| update.ip);
    assert_eq!(update.unwrap(), Some("2001:db8::53".parse().unwrap()));
}

#[tokio::test]
async fn a_tsig_key_read_and_written_back_is_unchanged() {
    let stand_in = start_stand_in().await;
    let client = client(&stand_in.uri());
    let tsig = client
        .get_tsig()
        .account_id(EXAMPLE_ACCOUNT_ID)
        .tsig_id(EXAMPLE_TSIG_ID)
        .send()
        .await
        .unwrap()
        .into_result()
        .unwrap();
    let input = types::TsigInput::from(&tsig);
    assert_eq!(
        (&input.name, &input.algo, &input.secret),
        (&tsig.name, &tsig.algo, &tsig.secret)
    );
    let written = client
        .update_tsig()
        .account_id(EXAMPLE_ACCOUNT_ID)
        .tsig_id(EXAMPLE_TSIG_ID)
        .body(input)
        .send()
        .await
        .unwrap()
        .into_result()
        .unwrap();
    assert_eq!(written, tsig);
}

#[tokio::test]
async fn a_rate_limited_error_says_when_to_come_back() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "125")
                .set_body_json(json!({"success": false, "messages": [],
                    "errors": [{"code": 10100, "message": "More than 1200 requests per 300 seconds reached"}]})),
        )
        .mount(&server)
        .await;
    let err = get_example_peer(&client_at(&server)).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cloudflare API error, HTTP 429 Too Many Requests: 10100: More than 1200 requests per 300 \
         seconds reached; retry after 2 min 5 s"
    );
}
