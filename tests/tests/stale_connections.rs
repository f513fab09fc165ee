//! A server that closes each keep-alive connection just after its response,
//! without `Connection: close`: the client's next request may go out on a
//! pooled connection the server is closing (it resets it, unread). An
//! idempotent request (GET, PUT, DELETE) is then sent again on a new
//! connection, whatever `max_retries` says, and counts as an attempt, not as
//! a retry. A create (POST) is never sent again that way (see
//! `at_most_once.rs`): it goes on a new connection of its own, so it never
//! meets a closing one.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cloudflare_secondary_dns::{Client, Credentials, types};
use sdk_tests::{EXAMPLE_ACCOUNT_ID, EXAMPLE_PEER_ID, update_peer_response_example};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Answers one request per connection, then closes it 1 ms later without
/// reading further. Counts the requests it answered.
async fn closing_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let answered = Arc::new(AtomicUsize::new(0));
    let body = serde_json::to_vec(update_peer_response_example()).unwrap();
    let counter = answered.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (body, counter) = (body.clone(), counter.clone());
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 8192];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&body).await;
                tokio::time::sleep(Duration::from_millis(1)).await;
                // Dropped with the next request unread: the kernel resets it.
            });
        }
    });
    (url, answered)
}

fn client_without_retries(url: &str) -> Client {
    Client::builder(Credentials::api_token("t0ken"))
        .base_url(url)
        .max_retries(0)
        .build()
        .unwrap()
}

async fn back_to_back(client: &Client, calls: usize) -> Vec<String> {
    let mut failures = Vec::new();
    for _ in 0..calls {
        let outcome = client
            .get_peer()
            .account_id(EXAMPLE_ACCOUNT_ID)
            .peer_id(EXAMPLE_PEER_ID)
            .send()
            .await;
        match outcome {
            Ok(_) => {}
            Err(err) => failures.push(format!("{}", err.report())),
        }
    }
    failures
}

async fn creates_back_to_back(client: &Client, calls: usize) -> Vec<String> {
    let mut failures = Vec::new();
    for _ in 0..calls {
        let outcome = client
            .create_peer()
            .account_id(EXAMPLE_ACCOUNT_ID)
            .body(types::PeerCreate::builder().name("my-peer-1"))
            .send()
            .await;
        if let Err(err) = outcome {
            failures.push(format!("{}", err.report()));
        }
    }
    failures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_stay_reliable_on_closing_keep_alive_connections_without_a_replay() {
    let (url, answered) = closing_server().await;
    let client = client_without_retries(&url);
    // Reads and creates interleaved: every create follows a read whose
    // connection the server is closing.
    for _ in 0..30 {
        assert_eq!(back_to_back(&client, 1).await, Vec::<String>::new());
        assert_eq!(creates_back_to_back(&client, 1).await, Vec::<String>::new());
    }
    assert_eq!(answered.load(Ordering::SeqCst), 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_keep_alive_connections_are_replayed_even_with_retries_off() {
    let (url, answered) = closing_server().await;
    let client = client_without_retries(&url);
    let failures = back_to_back(&client, 30).await;
    assert!(
        failures.is_empty(),
        "{} of 30 failed: {failures:?}",
        failures.len()
    );
    // Each call was answered once: the replays were of requests never read.
    assert_eq!(answered.load(Ordering::SeqCst), 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_is_not_a_retry() {
    let (url, answered) = closing_server().await;
    // Retries on, with a backoff long enough to show if one were taken.
    let client = Client::builder(Credentials::api_token("t0ken"))
        .base_url(&url)
        .retry_backoff(Duration::from_secs(5), Duration::from_secs(5))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let failures = back_to_back(&client, 30).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(answered.load(Ordering::SeqCst), 30);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a retry's backoff was slept: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_server_that_resets_every_request_fails_after_one_replay() {
    // Accepts, reads the request, and resets the connection without answering.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut buffer = [0u8; 16];
            let _ = stream.read(&mut buffer).await;
            let _ = stream.set_zero_linger();
        }
    });
    let client = client_without_retries(&url);
    let failures = back_to_back(&client, 1).await;
    assert_eq!(failures.len(), 1);
    // The first connection and one fresh one: a replay, never a loop; it
    // was sent, so it is counted.
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
    assert!(
        failures[0].ends_with("(after 2 attempts)"),
        "{}",
        failures[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_and_deletes_are_replayed_like_reads() {
    let (url, answered) = closing_server().await;
    let client = client_without_retries(&url);
    let mut failures = Vec::new();
    for _ in 0..30 {
        let update = client
            .update_peer()
            .account_id(EXAMPLE_ACCOUNT_ID)
            .peer_id(EXAMPLE_PEER_ID)
            .body(types::PeerUpdate::builder().name("my-peer-1"))
            .send()
            .await;
        let delete = client
            .delete_peer()
            .account_id(EXAMPLE_ACCOUNT_ID)
            .peer_id(EXAMPLE_PEER_ID)
            .send()
            .await;
        failures.extend(update.err().map(|e| e.report().to_string()));
        failures.extend(delete.err().map(|e| e.report().to_string()));
    }
    assert!(
        failures.is_empty(),
        "{} of 60 failed: {failures:?}",
        failures.len()
    );
    assert_eq!(answered.load(Ordering::SeqCst), 60);
}
