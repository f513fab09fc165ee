//! The sdk says exactly what happened and stays bounded (issue 24): an empty
//! body says so, the attempt count stays out of URLs, a waiter's deadline
//! holds during a read, a forced AXFR with nothing newer is an answer, a bulk
//! rerun costs one call per zone, the stand-in takes the Python SDK's empty
//! bodies, and a mocked failure is one line.

use std::time::{Duration, Instant};

use cloudflare_secondary_dns::extras::bulk::{Configured, ZoneEntry};
use cloudflare_secondary_dns::{
    Client, Credentials, Error, ErrorKind, ResponseExt, WaitError, types,
};
use cloudflare_secondary_dns_httpmock::MockServerExt;
use futures_util::StreamExt;
use sdk_tests::{EXAMPLE_ACCOUNT_ID, EXAMPLE_PEER_ID, start_stand_in};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ZONE: &str = "269d8f4853475ca241c4e730be286b20";

fn client(base_url: &str) -> Client {
    Client::builder(Credentials::api_token("test-token"))
        .base_url(base_url)
        .no_rate_limit()
        .build()
        .unwrap()
}

/// Makes Cloudflare a secondary of `ZONE` from the example peer.
async fn configure_zone(client: &Client) {
    client
        .create_incoming()
        .zone_id(ZONE)
        .body(
            types::IncomingInput::builder()
                .name("example.com.")
                .peers(vec![EXAMPLE_PEER_ID.parse().unwrap()]),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_200_with_an_empty_body_says_so() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(Vec::new(), "application/json"))
        .mount(&server)
        .await;
    let err = client(&server.uri())
        .get_incoming()
        .zone_id(ZONE)
        .send()
        .await
        .unwrap_err();
    let report = err.report().to_string();
    assert!(report.ends_with("; body: \"\""), "{report}");
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
}

#[tokio::test]
async fn the_attempt_count_is_never_part_of_a_url() {
    // Nothing listens on a port just released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::builder(Credentials::api_token("test-token"))
        .base_url(format!("http://127.0.0.1:{port}"))
        .max_retries(2)
        .no_rate_limit()
        .build()
        .unwrap();
    let err = client
        .list_peers()
        .account_id(EXAMPLE_ACCOUNT_ID)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert_eq!(err.attempts(), 3);
    let report = err.report().to_string();
    assert!(!report.contains('#'), "{report}");
    assert!(report.ends_with("(after 3 attempts)"), "{report}");
    let Error::CommunicationError(e) = err.raw() else {
        panic!("{err}")
    };
    assert_eq!(e.url().and_then(|u| u.fragment()), None);
}

#[tokio::test]
async fn a_waiters_deadline_holds_during_a_slow_read() {
    let server = MockServer::start().await;
    let zone = serde_json::json!({
        "success": true, "errors": [], "messages": [],
        "result": {"id": ZONE, "name": "example.com.", "peers": [EXAMPLE_PEER_ID]},
    });
    Mock::given(method("GET"))
        .and(path_regex("/incoming$"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(zone)
                .set_delay(Duration::from_secs(20)),
        )
        .mount(&server)
        .await;
    let client = client(&server.uri());
    let started = Instant::now();
    let err = client
        .wait_for_transfer()
        .zone_id(ZONE)
        .timeout(Duration::from_secs(1))
        .wait()
        .await
        .unwrap_err();
    let took = started.elapsed();
    let WaitError::TimedOut {
        last_seen, polls, ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(*polls, 1);
    assert!(last_seen.contains("no read completed"), "{last_seen}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[tokio::test]
async fn a_forced_axfr_with_nothing_newer_is_an_answer() {
    let server = start_stand_in().await;
    let client = client(&server.uri());
    configure_zone(&client).await;
    let first = client
        .wait_for_transfer()
        .zone_id(ZONE)
        .poll_interval(Duration::from_millis(10), Duration::from_millis(50))
        .wait()
        .await
        .unwrap();
    server.hold_serial(ZONE);
    client.force_axfr().zone_id(ZONE).send().await.unwrap();
    let seen = std::sync::Mutex::new(Vec::new());
    let after = client
        .wait_for_transfer()
        .zone_id(ZONE)
        .refreshed_since(&first)
        .poll_interval(Duration::from_millis(10), Duration::from_millis(50))
        .timeout(Duration::from_secs(20))
        .on_read(|zone| seen.lock().unwrap().push(zone.soa_serial))
        .wait()
        .await
        .unwrap();
    assert_eq!(after.soa_serial, first.soa_serial, "the serial stays");
    assert_ne!(after.checked_time, first.checked_time, "Cloudflare checked");
    assert!(!seen.lock().unwrap().is_empty(), "on_read saw each read");
    // The old condition would have waited to its deadline.
    let err = client
        .wait_for_transfer()
        .zone_id(ZONE)
        .serial_changed_from(first.soa_serial)
        .timeout(Duration::from_millis(300))
        .poll_interval(Duration::from_millis(10), Duration::from_millis(50))
        .wait()
        .await
        .unwrap_err();
    assert!(matches!(err, WaitError::TimedOut { .. }), "{err}");
}

#[tokio::test]
async fn a_bulk_rerun_costs_about_one_call_per_zone() {
    let server = start_stand_in().await;
    let client = client(&server.uri());
    let zones: Vec<ZoneEntry> = (0..60u32)
        .map(|i| ZoneEntry {
            line: i as usize + 1,
            zone_id: format!("{:032x}", 0xabc0_0000 + i).parse().unwrap(),
            name: format!("zone{i}.example."),
        })
        .collect();
    let peers = [EXAMPLE_PEER_ID.parse().unwrap()];
    let run = |zones: Vec<ZoneEntry>| {
        let client = &client;
        let peers = &peers;
        async move {
            let reports: Vec<_> = client.configure_incoming(zones, peers, 4).collect().await;
            reports
                .iter()
                .map(|r| match &r.outcome {
                    Ok(Configured::AlreadyConfigured(_)) => "already",
                    Ok(_) => "created",
                    Err(_) => "failed",
                })
                .fold((0, 0, 0), |(c, a, f), o| match o {
                    "created" => (c + 1, a, f),
                    "already" => (c, a + 1, f),
                    _ => (c, a, f + 1),
                })
        }
    };
    assert_eq!(run(zones[..50].to_vec()).await, (50, 0, 0));
    assert_eq!(server.requests().len(), 50, "one create per new zone");
    // The rerun: 50 done, 10 new.
    assert_eq!(run(zones.clone()).await, (10, 50, 0));
    let rerun = server.requests().len() - 50;
    // Before: 2 calls per configured zone (100 + 10). Now the first few
    // configured zones and the switch back cost 2, the rest 1.
    assert!(rerun <= 60 + 2 * 8 + 4, "{rerun} calls for 60 zones");
}

#[tokio::test]
async fn the_stand_in_takes_actions_with_no_body_as_cloudflare_does() {
    let server = start_stand_in().await;
    let client = client(&server.uri());
    configure_zone(&client).await;
    // What Cloudflare's Python SDK 5.9 sends: a JSON content type, no body.
    let response = reqwest::Client::new()
        .post(format!(
            "{}/zones/{ZONE}/secondary_dns/force_axfr",
            server.uri()
        ))
        .bearer_auth("test-token")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["result"], "OK");
}

#[tokio::test]
async fn a_mocked_failure_is_one_line() {
    let server = httpmock::MockServer::start_async().await;
    server.get_peer(|when, then| {
        when.account_id(EXAMPLE_ACCOUNT_ID).peer_id(EXAMPLE_PEER_ID);
        then.failure(404, 1003, "peer not found");
    });
    server.list_peers(|when, then| {
        when.account_id(EXAMPLE_ACCOUNT_ID);
        then.failure(503, 10001, "service unavailable");
    });
    let client = Client::builder(Credentials::api_token("test-token"))
        .base_url(server.base_url())
        .max_retries(0)
        .build()
        .unwrap();
    let err = client
        .get_peer()
        .account_id(EXAMPLE_ACCOUNT_ID)
        .peer_id(EXAMPLE_PEER_ID)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.cloudflare_errors()[0].code, 1003);
    assert_eq!(
        err.to_string(),
        "Cloudflare API error, HTTP 404 Not Found: 1003: peer not found"
    );
    let err = client
        .list_peers()
        .account_id(EXAMPLE_ACCOUNT_ID)
        .send()
        .await
        .map(|r| r.into_result())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
}
