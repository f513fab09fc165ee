//! What the SDK costs over a request written by hand, against an in-process
//! HTTP/1.1 keep-alive server on 127.0.0.1 answering the seed's response.
//!
//! `cargo bench -p sdk-tests --bench sdk_overhead` runs criterion on each
//! measurement, then an interleaved comparison: rounds that alternate which
//! side goes first, whose per-round ratios give the medians reported in
//! BENCHMARKS.md. `-- --quick` shortens the criterion part.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use cloudflare_secondary_dns::{Client, ClientInfo, Credentials, RateLimit, types};
use common::{Side, by_hand, call, via_sdk};
use criterion::{Criterion, Throughput};
use reqwest::header::{ACCEPT, HeaderValue};
use sdk_tests::{
    EXAMPLE_ACCOUNT_ID, LeanServer, lean_response, start_lean_server, update_peer_request_example,
    update_peer_response_example,
};
use tokio::runtime::Runtime;

const IN_FLIGHT: usize = 64;
/// Requests per iteration of the concurrent measurement.
const BATCH: usize = 256;

struct Bench {
    runtime: Runtime,
    _server: LeanServer,
    /// The SDK as users get it: retries on (default policy).
    sdk: Arc<Client>,
    /// The same, retries off.
    sdk_no_retry: Arc<Client>,
    /// The same as `sdk`, the pacer off (`no_rate_limit`).
    sdk_unpaced: Arc<Client>,
    /// The server's base URL.
    base_url: String,
    body: types::PeerUpdate,
}

impl Bench {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let response = update_peer_response_example().to_string();
        let server = runtime.block_on(start_lean_server(move |_| {
            lean_response(200, "application/json", response.clone())
        }));
        let build = |retries, paced: bool| {
            let builder = Client::builder(Credentials::api_token("bench-token"))
                .base_url(&server.url)
                .max_retries(retries);
            // The pacer on, its limit far away: its gate's cost is measured.
            let builder = if paced {
                builder.rate_limit(RateLimit::new(1_000_000, Duration::from_secs(1)).unwrap())
            } else {
                builder.no_rate_limit()
            };
            Arc::new(builder.build().unwrap())
        };
        let (sdk, sdk_no_retry, sdk_unpaced) = (build(2, true), build(0, true), build(2, false));
        let base_url = server.url.clone();
        let body = serde_json::from_value(update_peer_request_example().clone()).unwrap();
        Bench {
            runtime,
            _server: server,
            sdk,
            sdk_no_retry,
            sdk_unpaced,
            base_url,
            body,
        }
    }
}

/// `BATCH` requests, `IN_FLIGHT` at a time, through the SDK or by hand.
async fn concurrent(
    bench_sdk: Arc<Client>,
    base_url: Arc<str>,
    body: Arc<types::PeerUpdate>,
    side: Side,
) {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..IN_FLIGHT {
        let (client, base_url, body) = (bench_sdk.clone(), base_url.clone(), body.clone());
        tasks.spawn(async move {
            for _ in 0..BATCH / IN_FLIGHT {
                black_box(call(side, &client, &base_url, &body).await);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
}

fn criterion_benches(c: &mut Criterion, b: &Bench) {
    let http = b.sdk.client().clone();
    let mut group = c.benchmark_group("update_peer_sequential");
    group.bench_function("sdk", |x| {
        x.to_async(&b.runtime).iter(|| via_sdk(&b.sdk, &b.body))
    });
    group.bench_function("hand_written", |x| {
        x.to_async(&b.runtime)
            .iter(|| by_hand(&http, &b.base_url, &b.body))
    });
    group.finish();

    let (url, body): (Arc<str>, _) = (b.base_url.as_str().into(), Arc::new(b.body.clone()));
    let mut group = c.benchmark_group("update_peer_64_in_flight");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("sdk", |x| {
        x.to_async(&b.runtime)
            .iter(|| concurrent(b.sdk.clone(), url.clone(), body.clone(), Side::Sdk))
    });
    group.bench_function("hand_written", |x| {
        x.to_async(&b.runtime)
            .iter(|| concurrent(b.sdk.clone(), url.clone(), body.clone(), Side::ByHand))
    });
    group.finish();

    let mut group = c.benchmark_group("retry_layer");
    group.bench_function("retries_on", |x| {
        x.to_async(&b.runtime).iter(|| via_sdk(&b.sdk, &b.body))
    });
    group.bench_function("retries_off", |x| {
        x.to_async(&b.runtime)
            .iter(|| via_sdk(&b.sdk_no_retry, &b.body))
    });
    group.finish();

    let response = update_peer_response_example().to_string().into_bytes();
    let mut group = c.benchmark_group("codec");
    group.bench_function("encode_peer_update", |x| {
        x.iter(|| serde_json::to_vec(black_box(&b.body)).unwrap())
    });
    group.bench_function("decode_single_peer_response", |x| {
        x.iter(|| {
            serde_json::from_slice::<types::SinglePeerResponse>(black_box(&response)).unwrap()
        })
    });
    group.finish();

    let root = xtask::workspace_root();
    let committed = std::fs::read_to_string(root.join(xtask::GENERATED_PATH)).unwrap();
    c.bench_function("xtask_generate_check_in_process", |x| {
        x.iter(|| assert!(xtask::generate_from_workspace(&root).unwrap() == committed))
    });
}

/// Wall and CPU time (all threads: client and server) of one run.
#[derive(Clone, Copy, Default)]
struct Spent {
    wall: Duration,
    cpu: Duration,
}

fn measure(f: impl FnOnce()) -> Spent {
    let (started, cpu) = (Instant::now(), process_cpu());
    f();
    Spent {
        wall: started.elapsed(),
        cpu: process_cpu() - cpu,
    }
}

/// Rounds alternating which side runs first; returns the median of the
/// per-round wall-time ratios a/b and the mean time of each side.
fn interleaved(
    rounds: usize,
    mut run_a: impl FnMut() -> Spent,
    mut run_b: impl FnMut() -> Spent,
) -> (f64, Spent, Spent) {
    let mut ratios = Vec::new();
    let (mut total_a, mut total_b) = (Spent::default(), Spent::default());
    for round in 0..rounds {
        let (a, b) = if round % 2 == 0 {
            let a = run_a();
            (a, run_b())
        } else {
            let b = run_b();
            (run_a(), b)
        };
        for (total, run) in [(&mut total_a, a), (&mut total_b, b)] {
            total.wall += run.wall;
            total.cpu += run.cpu;
        }
        ratios.push(a.wall.as_secs_f64() / b.wall.as_secs_f64());
    }
    ratios.sort_by(f64::total_cmp);
    let mean = |t: Spent| Spent {
        wall: t.wall / rounds as u32,
        cpu: t.cpu / rounds as u32,
    };
    (ratios[rounds / 2], mean(total_a), mean(total_b))
}

fn interleaved_summary(b: &Bench, quick: bool, only_throughput: bool) {
    let (rounds, sequential, batches) = if quick { (5, 500, 10) } else { (15, 3000, 40) };
    let http = b.sdk.client().clone();
    let one_by_one = |client: &Arc<Client>| {
        let client = client.clone();
        move || {
            measure(|| {
                b.runtime.block_on(async {
                    for _ in 0..sequential {
                        black_box(via_sdk(&client, &b.body).await);
                    }
                })
            })
        }
    };
    let by_hand_one_by_one = || {
        measure(|| {
            b.runtime.block_on(async {
                for _ in 0..sequential {
                    black_box(by_hand(&http, &b.base_url, &b.body).await);
                }
            })
        })
    };
    let (url, body): (Arc<str>, _) = (b.base_url.as_str().into(), Arc::new(b.body.clone()));
    let many_on = |client: &Arc<Client>, side: Side| {
        let (client, url, body) = (client.clone(), url.clone(), body.clone());
        move || {
            measure(|| {
                b.runtime.block_on(async {
                    for _ in 0..batches {
                        concurrent(client.clone(), url.clone(), body.clone(), side).await;
                    }
                })
            })
        }
    };
    let many = |side: Side| many_on(&b.sdk, side);
    let per_request = |t: Duration, n: usize| t.as_secs_f64() * 1e6 / n as f64;
    let requests = batches * BATCH;

    println!(
        "\ninterleaved comparison: {rounds} rounds, alternating order, median of per-round ratios"
    );
    println!("(cpu = CPU time of the whole process, client and server, per request)");
    println!(
        "(the sdk's feature `tracing` {}: `--no-default-features` measures the sdk as users get it by default)",
        if cfg!(feature = "tracing") {
            "ON"
        } else {
            "off"
        }
    );
    if !only_throughput {
        let (ratio, sdk, hand) = interleaved(rounds, one_by_one(&b.sdk), by_hand_one_by_one);
        println!(
            "1. sequential     sdk {:6.2} µs/req (cpu {:5.2})  hand-written {:6.2} µs/req (cpu {:5.2})  sdk/hand = {ratio:.3}",
            per_request(sdk.wall, sequential),
            per_request(sdk.cpu, sequential),
            per_request(hand.wall, sequential),
            per_request(hand.cpu, sequential),
        );
    }
    let (ratio, sdk, hand) = interleaved(rounds, many(Side::Sdk), many(Side::ByHand));
    println!(
        "2. {IN_FLIGHT} in flight   sdk {:6.0} req/s (cpu {:5.2})   hand-written {:6.0} req/s (cpu {:5.2})   throughput sdk/hand = {:.3} (goal ≥ 0.90)",
        requests as f64 / sdk.wall.as_secs_f64(),
        per_request(sdk.cpu, requests),
        requests as f64 / hand.wall.as_secs_f64(),
        per_request(hand.cpu, requests),
        1.0 / ratio
    );
    let (ratio, guarded, hand) =
        interleaved(rounds, many(Side::ByHandWithSafeguards), many(Side::ByHand));
    println!(
        "2b. {IN_FLIGHT} in flight  hand-written with the sdk's safeguards {:6.0} req/s (cpu {:5.2})   hand-written {:6.0} req/s (cpu {:5.2})   throughput = {:.3} (the design's floor)",
        requests as f64 / guarded.wall.as_secs_f64(),
        per_request(guarded.cpu, requests),
        requests as f64 / hand.wall.as_secs_f64(),
        per_request(hand.cpu, requests),
        1.0 / ratio
    );
    if only_throughput {
        return;
    }
    let (ratio, on, off) = interleaved(rounds, one_by_one(&b.sdk), one_by_one(&b.sdk_no_retry));
    println!(
        "3. retry layer    on  {:6.2} µs/req (cpu {:5.2})  off          {:6.2} µs/req (cpu {:5.2})  on/off = {ratio:.3}",
        per_request(on.wall, sequential),
        per_request(on.cpu, sequential),
        per_request(off.wall, sequential),
        per_request(off.cpu, sequential),
    );
    // Creates go on a connection of their own (never replayed, never on a
    // pooled connection the server may be closing): what that costs against
    // a POST on a pooled connection, here on loopback (a TCP handshake; over
    // HTTPS add a TLS one). Fewer requests: each leaves a socket in TIME_WAIT.
    let creates = sequential / 10;
    let peers_url = format!(
        "{}/accounts/{EXAMPLE_ACCOUNT_ID}/secondary_dns/peers",
        b.base_url
    );
    let create_body = types::PeerCreate::builder().name("my-peer-1");
    let sdk_creates = || {
        let create_body = create_body.clone();
        measure(|| {
            b.runtime.block_on(async {
                for _ in 0..creates {
                    let created = b
                        .sdk
                        .create_peer()
                        .account_id(EXAMPLE_ACCOUNT_ID)
                        .body(create_body.clone())
                        .send()
                        .await
                        .unwrap();
                    black_box(created);
                }
            })
        })
    };
    let pooled_creates = || {
        let body: types::PeerCreate = create_body.clone().try_into().unwrap();
        measure(|| {
            b.runtime.block_on(async {
                for _ in 0..creates {
                    let response = http
                        .post(&peers_url)
                        .header(ACCEPT, HeaderValue::from_static("application/json"))
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    let bytes = response.bytes().await.unwrap();
                    black_box(serde_json::from_slice::<types::SinglePeerResponse>(&bytes).unwrap());
                }
            })
        })
    };
    let (ratio, own, pooled) = interleaved(rounds, sdk_creates, pooled_creates);
    println!(
        "4. create (POST)  sdk, own connection {:6.2} µs/req (cpu {:5.2})  hand-written, pooled {:6.2} µs/req (cpu {:5.2})  own/pooled = {ratio:.3}",
        per_request(own.wall, creates),
        per_request(own.cpu, creates),
        per_request(pooled.wall, creates),
        per_request(pooled.cpu, creates),
    );
    let (ratio, on, off) = interleaved(rounds, one_by_one(&b.sdk), one_by_one(&b.sdk_unpaced));
    println!(
        "6. pacer, 1 by 1  on  {:6.2} µs/req (cpu {:5.2})  off          {:6.2} µs/req (cpu {:5.2})  on/off = {ratio:.3}",
        per_request(on.wall, sequential),
        per_request(on.cpu, sequential),
        per_request(off.wall, sequential),
        per_request(off.cpu, sequential),
    );
    let (ratio, on, off) = interleaved(
        rounds,
        many_on(&b.sdk, Side::Sdk),
        many_on(&b.sdk_unpaced, Side::Sdk),
    );
    println!(
        "7. pacer, {IN_FLIGHT} in flight  on {:6.0} req/s (cpu {:5.2})   off {:6.0} req/s (cpu {:5.2})   throughput on/off = {:.3}",
        requests as f64 / on.wall.as_secs_f64(),
        per_request(on.cpu, requests),
        requests as f64 / off.wall.as_secs_f64(),
        per_request(off.cpu, requests),
        1.0 / ratio
    );
    let mut check_times: Vec<f64> = (0..5)
        .map(|_| {
            let started = Instant::now();
            let status = std::process::Command::new(env!("CARGO"))
                .args(["xtask", "generate", "--check"])
                .current_dir(xtask::workspace_root())
                .output()
                .expect("cargo runs");
            assert!(status.status.success(), "generate --check failed");
            started.elapsed().as_secs_f64()
        })
        .collect();
    check_times.sort_by(f64::total_cmp);
    println!(
        "5. `cargo xtask generate --check`, warm: median {:.0} ms over 5 runs (cargo's own start-up included)",
        check_times[2] * 1e3
    );
}

/// CPU time used so far by all threads of this process (Linux schedstat).
fn process_cpu() -> Duration {
    let tasks = std::fs::read_dir("/proc/self/task").expect("Linux /proc");
    let nanos: u64 = tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(nanos)
}

/// `BENCH_PART=criterion` or `BENCH_PART=interleaved` runs one part only;
/// `BENCH_PART=throughput` only the interleaved measurements at 64 in
/// flight (2 and 2b), to compare two builds of the sdk side by side.
fn main() {
    let bench = Bench::new();
    let part = std::env::var("BENCH_PART").unwrap_or_default();
    let only_throughput = part == "throughput";
    if part != "interleaved" && !only_throughput {
        let mut criterion = Criterion::default().configure_from_args();
        criterion_benches(&mut criterion, &bench);
        criterion.final_summary();
    }
    // `cargo test --benches` runs this binary in test mode: skip the long part.
    if part == "criterion" || !std::env::args().any(|a| a == "--bench") {
        return;
    }
    interleaved_summary(
        &bench,
        std::env::args().any(|a| a == "--quick"),
        only_throughput,
    );
}
