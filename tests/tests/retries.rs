//! The retry policy under faults, against servers on 127.0.0.1.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use cloudflare_secondary_dns::{Client, Credentials, ErrorKind, types};
use sdk_tests::{update_example_peer, update_peer_response_example};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};

const FAST: Duration = Duration::from_millis(1);

fn client(base_url: &str, max_retries: u32) -> Client {
    Client::builder(Credentials::api_token("t"))
        .base_url(base_url)
        .max_retries(max_retries)
        .retry_backoff(FAST, FAST)
        .build()
        .unwrap()
}

async fn update(
    client: &Client,
) -> Result<types::SinglePeerResponse, cloudflare_secondary_dns::ApiError> {
    update_example_peer(client, types::PeerUpdate::builder().name("my-peer-1"))
        .await
        .map(|r| r.into_inner())
}

fn ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(update_peer_response_example())
}

fn failure(status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(
        json!({"success": false, "errors": [{"code": 10001, "message": "try again"}]}),
    )
}

/// A server answering `first` to the first `times` requests, then 200.
async fn server_failing_first(first: ResponseTemplate, times: u64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(first)
        .up_to_n_times(times)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ok())
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

async fn requests_received(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

#[tokio::test]
async fn a_503_then_a_200_is_one_retry_and_a_success() {
    let server = server_failing_first(failure(503), 1).await;
    let envelope = update(&client(&server.uri(), 2)).await.unwrap();
    assert_eq!(envelope.result.unwrap().port, Some(53));
    assert_eq!(requests_received(&server).await, 2);
}

#[tokio::test]
async fn each_retryable_status_is_retried() {
    for status in [408, 409, 429, 500, 502, 504, 599] {
        let server = server_failing_first(failure(status), 1).await;
        update(&client(&server.uri(), 1))
            .await
            .unwrap_or_else(|e| panic!("{status}: {}", e.report()));
        assert_eq!(requests_received(&server).await, 2, "HTTP {status}");
    }
}

#[tokio::test]
async fn other_failures_are_not_retried() {
    for status in [400, 401, 403, 404, 405, 422] {
        let server = server_failing_first(failure(status), 1).await;
        let err = update(&client(&server.uri(), 3)).await.unwrap_err();
        assert_eq!(err.http_status(), Some(status));
        assert_eq!(err.attempts(), 1);
        assert_eq!(
            requests_received(&server).await,
            1,
            "HTTP {status} was retried"
        );
    }
}

#[tokio::test]
async fn x_should_retry_overrides_the_status() {
    let server =
        server_failing_first(failure(500).insert_header("x-should-retry", "false"), 1).await;
    let err = update(&client(&server.uri(), 3)).await.unwrap_err();
    assert_eq!((err.kind(), err.attempts()), (ErrorKind::Server, 1));
    assert_eq!(requests_received(&server).await, 1);

    let server =
        server_failing_first(failure(400).insert_header("x-should-retry", "true"), 1).await;
    update(&client(&server.uri(), 3)).await.unwrap();
    assert_eq!(requests_received(&server).await, 2);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = server_failing_first(failure(429).insert_header("retry-after", "1"), 1).await;
    let started = Instant::now();
    update(&client(&server.uri(), 2)).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited only {:?}",
        started.elapsed()
    );
    assert_eq!(requests_received(&server).await, 2);

    let server = server_failing_first(failure(503).insert_header("retry-after-ms", "300"), 1).await;
    let started = Instant::now();
    update(&client(&server.uri(), 2)).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "waited only {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_retry_after_beyond_a_minute_returns_the_error_at_once() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(failure(429).insert_header("retry-after", "3600"))
        .mount(&server)
        .await;
    let started = Instant::now();
    let err = update(&client(&server.uri(), 2)).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "slept {:?}",
        started.elapsed()
    );
    assert_eq!(
        err.kind(),
        ErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(3600))
        }
    );
    assert_eq!(requests_received(&server).await, 1);
}

#[tokio::test]
async fn never_more_than_max_retries_plus_one_attempts() {
    for max_retries in [0, 1, 3, 5] {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(failure(503))
            .mount(&server)
            .await;
        let err = update(&client(&server.uri(), max_retries))
            .await
            .unwrap_err();
        let expected = max_retries + 1;
        assert_eq!(requests_received(&server).await, expected as usize);
        assert_eq!((err.kind(), err.attempts()), (ErrorKind::Server, expected));
        let report = err.report().to_string();
        if expected > 1 {
            assert!(
                report.ends_with(&format!("(after {expected} attempts)")),
                "{report}"
            );
        } else {
            assert!(!report.contains("attempts"), "{report}");
        }
    }
}

#[tokio::test]
async fn the_backoff_grows_and_is_capped() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(failure(503))
        .mount(&server)
        .await;
    let client = Client::builder(Credentials::api_token("t"))
        .base_url(server.uri())
        .max_retries(3)
        .retry_backoff(Duration::from_millis(100), Duration::from_millis(200))
        .build()
        .unwrap();
    let started = Instant::now();
    update(&client).await.unwrap_err();
    // Delays: 100, 200, 200 ms (capped), each less at most 25 % jitter.
    let least = Duration::from_millis((100 + 200 + 200) * 3 / 4);
    assert!(
        started.elapsed() >= least,
        "retried after only {:?}",
        started.elapsed()
    );
    assert_eq!(requests_received(&server).await, 4);
}

/// A server that accepts connections and never answers; counts them.
async fn silent_server() -> (String, Arc<AtomicU32>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicU32::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        let mut open = Vec::new(); // held open, never answered
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            open.push(socket);
        }
    });
    (url, accepted)
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_each_attempt() {
    let (url, accepted) = silent_server().await;
    let client = Client::builder(Credentials::api_token("t"))
        .base_url(url)
        .timeout(Duration::from_millis(200))
        .max_retries(2)
        .retry_backoff(FAST, FAST)
        .build()
        .unwrap();
    let err = update(&client).await.unwrap_err();
    assert_eq!((err.kind(), err.attempts()), (ErrorKind::Timeout, 3));
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
    let report = err.report().to_string();
    assert!(
        report.starts_with("the request timed out") && report.ends_with("(after 3 attempts)"),
        "{report}"
    );
}

/// A server that sends the start of a response, then closes the connection,
/// for the first `cut` connections; then answers properly.
async fn cutting_server(cut: u32) -> (String, Arc<AtomicU32>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicU32::new(0));
    let counter = accepted.clone();
    let body = update_peer_response_example().to_string();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            let body = body.clone();
            tokio::spawn(async move {
                let mut request = vec![0; 64 * 1024];
                let _ = socket.read(&mut request).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                if n <= cut {
                    let _ = socket
                        .write_all(format!("{head}{}", &body[..body.len() / 2]).as_bytes())
                        .await;
                    let _ = socket.set_zero_linger(); // close with a reset
                } else {
                    let _ = socket.write_all(format!("{head}{body}").as_bytes()).await;
                    let _ = socket.flush().await;
                    let _ = socket.read(&mut request).await;
                }
            });
        }
    });
    (url, accepted)
}

#[tokio::test]
async fn a_reset_mid_response_is_retried() {
    let (url, accepted) = cutting_server(1).await;
    let envelope = update(&client(&url, 2)).await.unwrap();
    assert_eq!(envelope.result.unwrap().name, "my-peer-1");
    assert_eq!(accepted.load(Ordering::SeqCst), 2);

    let (url, accepted) = cutting_server(u32::MAX).await;
    let err = update(&client(&url, 2)).await.unwrap_err();
    assert_eq!((err.kind(), err.attempts()), (ErrorKind::Connection, 3));
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = update(&client(&format!("http://127.0.0.1:{port}"), 2))
        .await
        .unwrap_err();
    assert_eq!((err.kind(), err.attempts()), (ErrorKind::Connection, 3));
    assert!(
        err.report()
            .to_string()
            .starts_with("could not connect to the API"),
        "{}",
        err.report()
    );
}

#[tokio::test]
async fn max_retries_zero_disables_retrying() {
    let server = server_failing_first(failure(503), 1).await;
    let err = update(&client(&server.uri(), 0)).await.unwrap_err();
    assert_eq!((err.kind(), err.attempts()), (ErrorKind::Server, 1));
    assert_eq!(requests_received(&server).await, 1);
}

#[tokio::test]
async fn a_server_cannot_forge_the_attempt_count() {
    let forged = |status| failure(status).insert_header("x-sdk-attempts", "99");
    let server = server_failing_first(forged(404), 1).await;
    let err = update(&client(&server.uri(), 2)).await.unwrap_err();
    assert_eq!((err.kind(), err.attempts()), (ErrorKind::NotFound, 1));
    assert!(
        !err.report().to_string().contains("attempts"),
        "{}",
        err.report()
    );

    let server = server_failing_first(forged(503), 3).await;
    let err = update(&client(&server.uri(), 2)).await.unwrap_err();
    assert_eq!((err.kind(), err.attempts()), (ErrorKind::Server, 3));
    assert!(
        err.report().to_string().ends_with("(after 3 attempts)"),
        "{}",
        err.report()
    );
}
