//! With the `tracing` feature, each attempt is a span with the operation,
//! method, path, attempt, status and duration; no header value, no body, and
//! no credential appears at any level.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cloudflare_secondary_dns::{Client, Credentials, types};
use sdk_tests::{
    EXAMPLE_ACCOUNT_ID, EXAMPLE_TSIG_ID, update_example_peer, update_peer_response_example,
};
use serde_json::json;
use tracing_subscriber::fmt::format::FmtSpan;
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};

const TOKEN: &str = "tok-SECRET-91c2";
const API_KEY: &str = "key-SECRET-77ab";
const TSIG_SECRET: &str = "tsig-SECRET-0f0f";

/// Everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// One test in this binary: it owns the global subscriber.
#[tokio::test]
async fn attempts_are_traced_without_secrets() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(503).set_body_json(json!({"success": false, "errors": []})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::path_regex("/peers/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(update_peer_response_example()))
        .mount(&server)
        .await;
    let tsig =
        json!({"id": EXAMPLE_TSIG_ID, "name": "n", "algo": "hmac-sha512.", "secret": TSIG_SECRET});
    Mock::given(wiremock::matchers::path_regex("/tsigs/"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"errors": [], "messages": [], "success": true, "result": tsig}),
            ),
        )
        .mount(&server)
        .await;

    for credentials in [
        Credentials::api_token(TOKEN),
        Credentials::api_key("user@example.com", API_KEY),
    ] {
        let client = Client::builder(credentials)
            .base_url(server.uri())
            .retry_backoff(Duration::from_millis(1), Duration::from_millis(1))
            .build()
            .unwrap();
        update_example_peer(&client, types::PeerUpdate::builder().name("body-name-x1"))
            .await
            .unwrap();
        let tsig = client
            .get_tsig()
            .account_id(EXAMPLE_ACCOUNT_ID)
            .tsig_id(EXAMPLE_TSIG_ID)
            .send()
            .await
            .unwrap();
        assert_eq!(
            tsig.into_inner().result.unwrap().secret.expose_secret(),
            TSIG_SECRET
        );
    }

    // The pacer's events: a pause every request keeps (a 429 said 1 s), and
    // a request it delayed, each with how long and why.
    let limited = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(
                    json!({"success": false, "errors": [], "messages": [], "result": null}),
                ),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&limited)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(update_peer_response_example()))
        .mount(&limited)
        .await;
    let client = Client::builder(Credentials::api_token(TOKEN))
        .base_url(limited.uri())
        .build()
        .unwrap();
    update_example_peer(&client, types::PeerUpdate::builder().name("body-name-x1"))
        .await
        .unwrap();

    let output = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for expected in [
        "rate limit: every request of this client is paused pause_ms=1000 reason=\"429\"",
        "the pacer delayed the request delay_ms=",
        "reason=\"429\"",
        "cloudflare_request",
        "operation_id=\"update_peer\"",
        "operation_id=\"get_tsig\"",
        "method=PUT",
        "path=\"/accounts/01a7362d577a6c3019a474fd6f485823/secondary_dns/peers/23ff594956f20c2a721606e94745a8aa\"",
        "attempt=1",
        "attempt=2",
        "status=503",
        "status=200",
        "duration_ms=",
        "retrying",
    ] {
        assert!(
            output.contains(expected),
            "missing {expected:?} in:\n{output}"
        );
    }
    for forbidden in [
        TOKEN,
        API_KEY,
        TSIG_SECRET,
        "SECRET",
        "Bearer",
        "body-name-x1",
        "my-peer-1",
        "user@example.com",
    ] {
        assert!(
            !output.contains(forbidden),
            "{forbidden:?} was traced:\n{output}"
        );
    }
}
