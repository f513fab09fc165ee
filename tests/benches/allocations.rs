//! Allocations per request, the SDK against the same request by hand, and
//! the connections each side opens at 64 in flight (a pool that fails to
//! reuse would cost a handshake per request). Counted, not timed: a global
//! allocator that counts every allocation in the process (the in-process
//! server's too, the same for both sides, so the difference is the SDK's).
//!
//! `cargo bench -p sdk-tests --no-default-features --bench allocations`
//! (`ONE_SIDE=sdk`, `ONE_SIDE=safeguards` or `ONE_SIDE=hand` on the built
//! binary runs one side at 64 in flight for a profiler, see BENCHMARKS.md).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

mod common;

use cloudflare_secondary_dns::{Client, ClientInfo, Credentials, RateLimit, types};
use common::{Side, by_hand, call};
use sdk_tests::{
    EXAMPLE_ACCOUNT_ID, EXAMPLE_PEER_ID, lean_response, start_lean_server,
    update_peer_request_example, update_peer_response_example,
};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is handed to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const REQUESTS: u64 = 2_048;
const IN_FLIGHT: usize = 64;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let response = update_peer_response_example().to_string();
    let server = runtime.block_on(start_lean_server(move |_| {
        lean_response(200, "application/json", response.clone())
    }));
    let build = |paced: bool| {
        let builder = Client::builder(Credentials::api_token("bench-token")).base_url(&server.url);
        let builder = if paced {
            builder
                .rate_limit(RateLimit::new(1_000_000, std::time::Duration::from_secs(1)).unwrap())
        } else {
            builder.no_rate_limit()
        };
        Arc::new(builder.build().unwrap())
    };
    let (sdk, unpaced) = (build(true), build(false));
    let url: Arc<str> = server.url.as_str().into();
    let body: Arc<types::PeerUpdate> =
        Arc::new(serde_json::from_value(update_peer_request_example().clone()).unwrap());

    let count = |label: &str, run: &dyn Fn()| {
        run(); // warm: connections open, lazy statics set
        let (allocations, bytes) = (
            ALLOCATIONS.load(Ordering::Relaxed),
            BYTES.load(Ordering::Relaxed),
        );
        let connections = server.connections.load(Ordering::SeqCst);
        run();
        let allocations = ALLOCATIONS.load(Ordering::Relaxed) - allocations;
        let bytes = BYTES.load(Ordering::Relaxed) - bytes;
        let connections = server.connections.load(Ordering::SeqCst) - connections;
        println!(
            "{label:<38} {:7.1} allocations/request {:8.0} bytes/request   {connections} new connections",
            allocations as f64 / REQUESTS as f64,
            bytes as f64 / REQUESTS as f64,
        );
    };
    let runtime = &runtime;
    let sequential = |client: Arc<Client>, side: Side| {
        let (url, body) = (url.clone(), body.clone());
        move || {
            runtime.block_on(async {
                for _ in 0..REQUESTS {
                    black_box(call(side, &client, &url, &body).await);
                }
            })
        }
    };
    let concurrent = |client: Arc<Client>, side: Side| {
        let (url, body) = (url.clone(), body.clone());
        move || {
            runtime.block_on(async {
                let mut tasks = tokio::task::JoinSet::new();
                for _ in 0..IN_FLIGHT {
                    let (client, url, body) = (client.clone(), url.clone(), body.clone());
                    tasks.spawn(async move {
                        for _ in 0..REQUESTS / IN_FLIGHT as u64 {
                            black_box(call(side, &client, &url, &body).await);
                        }
                    });
                }
                while let Some(done) = tasks.join_next().await {
                    done.unwrap();
                }
            })
        }
    };
    // For a profiler (`ONE_SIDE=sdk perf record …`): one side only, 64 in
    // flight, 20 runs.
    if let Ok(side) = std::env::var("ONE_SIDE") {
        let run = concurrent(
            sdk.clone(),
            match side.as_str() {
                "sdk" => Side::Sdk,
                "safeguards" => Side::ByHandWithSafeguards,
                _ => Side::ByHand,
            },
        );
        let (started, cpu) = (std::time::Instant::now(), process_cpu());
        for _ in 0..20 {
            run();
        }
        let requests = 20.0 * REQUESTS as f64;
        println!(
            "{side}: {:.1} µs wall, {:.1} µs CPU per request (64 in flight)",
            started.elapsed().as_secs_f64() * 1e6 / requests,
            (process_cpu() - cpu) * 1e6 / requests
        );
        return;
    }
    // A future's size is copied each time it moves (into its caller's state,
    // into a task): a large one costs on every request.
    let sdk_call = sdk
        .update_peer()
        .account_id(EXAMPLE_ACCOUNT_ID)
        .peer_id(EXAMPLE_PEER_ID)
        .body((*body).clone())
        .send();
    let hand_call = by_hand(sdk.client(), &url, &body);
    println!(
        "one call's future: sdk {} bytes, hand-written {} bytes",
        std::mem::size_of_val(&sdk_call),
        std::mem::size_of_val(&hand_call)
    );
    drop((sdk_call, hand_call));
    println!("{REQUESTS} Update Peer requests per line (client and in-process server)");
    count(
        "sequential, hand-written",
        &sequential(sdk.clone(), Side::ByHand),
    );
    count(
        "sequential, with the sdk's safeguards",
        &sequential(sdk.clone(), Side::ByHandWithSafeguards),
    );
    count("sequential, sdk", &sequential(sdk.clone(), Side::Sdk));
    count(
        "sequential, sdk without pacer",
        &sequential(unpaced.clone(), Side::Sdk),
    );
    count(
        "64 in flight, hand-written",
        &concurrent(sdk.clone(), Side::ByHand),
    );
    count("64 in flight, sdk", &concurrent(sdk.clone(), Side::Sdk));
}

/// CPU seconds of the whole process (all threads: client and server).
fn process_cpu() -> f64 {
    let tasks = std::fs::read_dir("/proc/self/task").expect("Linux /proc");
    let nanos: u64 = tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    nanos as f64 / 1e9
}
