//! 10 000 Update Peer calls, 64 in flight, on one client against a local
//! server: no errors, every request answered exactly once, memory bounded.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use std::time::Duration;

use cloudflare_secondary_dns::{Client, Credentials, RateLimit, types};
use sdk_tests::{
    EXAMPLE_ACCOUNT_ID, lean_response, start_lean_server, update_peer_response_example,
};

const REQUESTS: usize = 10_000;
const IN_FLIGHT: usize = 64;

/// Resident memory of this process, in KiB.
fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Sends requests `range` with `IN_FLIGHT` workers sharing one client;
/// returns the number of errors.
async fn run(client: &Arc<Client>, range: std::ops::Range<usize>) -> usize {
    let next = Arc::new(AtomicUsize::new(range.start));
    let workers: Vec<_> = (0..IN_FLIGHT)
        .map(|_| {
            let (client, next, end) = (client.clone(), next.clone(), range.end);
            tokio::spawn(async move {
                let mut errors = 0;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= end {
                        return errors;
                    }
                    let result = client
                        .update_peer()
                        .account_id(EXAMPLE_ACCOUNT_ID)
                        .peer_id(format!("{i:032x}"))
                        .body(types::PeerUpdate::builder().name("load"))
                        .send()
                        .await;
                    if let Err(err) = result {
                        eprintln!("request {i}: {err}");
                        errors += 1;
                    }
                }
            })
        })
        .collect();
    let mut errors = 0;
    for worker in workers {
        errors += worker.await.expect("no worker panics");
    }
    errors
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_updates_sixty_four_in_flight() {
    // The server counts requests per peer id, then answers the seed's response.
    let counts = Arc::new(Mutex::new(HashMap::<String, u32>::new()));
    let seen = counts.clone();
    let body = update_peer_response_example().to_string();
    let server = start_lean_server(move |request| {
        let peer_id = request
            .uri()
            .path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        *seen.lock().unwrap().entry(peer_id).or_default() += 1;
        lean_response(200, "application/json", body.clone())
    })
    .await;
    let client = Arc::new(
        Client::builder(Credentials::api_token("t"))
            .base_url(&server.url)
            // The pacer stays on (every request passes its gate), its limit far away.
            .rate_limit(RateLimit::new(1_000_000, Duration::from_secs(1)).unwrap())
            .build()
            .unwrap(),
    );

    let warm_up = REQUESTS / 10;
    assert_eq!(run(&client, 0..warm_up).await, 0);
    let after_warm_up = resident_kib();
    assert_eq!(
        run(&client, warm_up..REQUESTS).await,
        0,
        "errors under load"
    );
    let growth_kib = resident_kib().saturating_sub(after_warm_up);
    eprintln!(
        "{REQUESTS} requests, {IN_FLIGHT} in flight; resident memory grew {growth_kib} KiB after warm-up"
    );

    let counts = counts.lock().unwrap();
    assert_eq!(counts.len(), REQUESTS, "some requests never arrived");
    assert!(
        counts.values().all(|&n| n == 1),
        "some requests were sent twice"
    );
    // 9 000 more requests must not cost memory in proportion: a leak of even
    // 2 KiB a request would show as 18 MiB.
    assert!(
        growth_kib < 16 * 1024,
        "resident memory grew {growth_kib} KiB"
    );
}
