//! A create is delivered at most `max_retries + 1` times, and exactly once
//! with retries off, whatever the connection does after the server has read
//! it. The server here reads each POST whole (head and body), counts it, and
//! then closes or resets the connection without answering: from the client's
//! side that looks just like a keep-alive connection closed as the request
//! went out, but here the server has acted on it. GETs are answered, so that
//! the client holds a pooled connection when the POST goes out.
//! (HTTP/2 cases are in `http2.rs`.)

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cloudflare_secondary_dns::{CallOptions, Client, Credentials, ErrorKind, types};
use sdk_tests::{EXAMPLE_ACCOUNT_ID, EXAMPLE_PEER_ID, update_peer_response_example};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Copy)]
enum Hangup {
    /// FIN after reading the request.
    Close,
    /// RST after reading the request.
    Reset,
}

#[derive(Default)]
struct Counts {
    posts: AtomicUsize,
    gets: AtomicUsize,
    connections: AtomicUsize,
}

/// Reads one request (head and `content-length` body); `None` at EOF.
async fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut request = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if request.len() >= end + 4 + length {
                return Some(head);
            }
        }
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
    }
}

async fn hanging_up_server(hangup: Hangup) -> (String, Arc<Counts>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let counts = Arc::new(Counts::default());
    let body = serde_json::to_vec(update_peer_response_example()).unwrap();
    let shared = counts.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (counts, body) = (shared.clone(), body.clone());
            counts.connections.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                while let Some(head) = read_request(&mut stream).await {
                    if head.starts_with("post ") {
                        counts.posts.fetch_add(1, Ordering::SeqCst);
                        if let Hangup::Reset = hangup {
                            let _ = stream.set_zero_linger();
                        }
                        return; // dropped unanswered
                    }
                    counts.gets.fetch_add(1, Ordering::SeqCst);
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(head.as_bytes()).await;
                    let _ = stream.write_all(&body).await;
                }
            });
        }
    });
    (url, counts)
}

fn client(url: &str, max_retries: u32) -> Client {
    Client::builder(Credentials::api_token("t0ken"))
        .base_url(url)
        .max_retries(max_retries)
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(2))
        .build()
        .unwrap()
}

async fn create(client: &Client) -> cloudflare_secondary_dns::ApiError {
    client
        .create_peer()
        .account_id(EXAMPLE_ACCOUNT_ID)
        .body(types::PeerCreate::builder().name("my-peer-1"))
        .send()
        .await
        .expect_err("the server never answers a POST")
}

async fn warm_the_pool(client: &Client) {
    client
        .get_peer()
        .account_id(EXAMPLE_ACCOUNT_ID)
        .peer_id(EXAMPLE_PEER_ID)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn with_retries_off_a_create_is_delivered_exactly_once() {
    for hangup in [Hangup::Close, Hangup::Reset] {
        // A client with no pooled connection, and one that has one.
        for warm in [false, true] {
            let (url, counts) = hanging_up_server(hangup).await;
            let client = client(&url, 0);
            if warm {
                warm_the_pool(&client).await;
            }
            let err = create(&client).await;
            assert_eq!(err.kind(), ErrorKind::Connection, "{}", err.report());
            assert_eq!(err.attempts(), 1, "{}", err.report());
            assert_eq!(counts.posts.load(Ordering::SeqCst), 1, "warm pool: {warm}");
        }
    }
}

#[tokio::test]
async fn per_call_retries_off_deliver_a_create_exactly_once() {
    let (url, counts) = hanging_up_server(Hangup::Close).await;
    let client = client(&url, 2);
    warm_the_pool(&client).await;
    let once = client.with_options(CallOptions::new().max_retries(0));
    create(&once).await;
    assert_eq!(counts.posts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn with_retries_a_create_is_delivered_at_most_max_retries_plus_one_times() {
    for max_retries in [1, 2, 4] {
        let (url, counts) = hanging_up_server(Hangup::Reset).await;
        let client = client(&url, max_retries);
        warm_the_pool(&client).await;
        let err = create(&client).await;
        let posts = counts.posts.load(Ordering::SeqCst);
        assert_eq!(posts, max_retries as usize + 1, "max_retries {max_retries}");
        assert_eq!(err.attempts() as usize, posts, "{}", err.report());
    }
}

#[tokio::test]
async fn creates_go_on_new_connections_and_reads_on_pooled_ones() {
    let (url, counts) = hanging_up_server(Hangup::Close).await;
    let client = client(&url, 0);
    for _ in 0..3 {
        warm_the_pool(&client).await;
    }
    assert_eq!(counts.connections.load(Ordering::SeqCst), 1);
    create(&client).await;
    // The create did not take the pooled connection: the next read reuses it.
    assert_eq!(counts.connections.load(Ordering::SeqCst), 2);
    warm_the_pool(&client).await;
    assert_eq!(counts.connections.load(Ordering::SeqCst), 2);
    assert_eq!(counts.gets.load(Ordering::SeqCst), 4);
}
