//! A bulk job under Cloudflare's rate limit, time scaled down by 100: the
//! stand-in allows 1,200 requests per 3 s per credential and blocks for 3 s
//! once over (Cloudflare: per 300 s, 300 s). The job: `CALLS` list calls from
//! `TASKS` tasks on clones of one client. For the pacer on (`RateLimit` 1,200
//! per 3 s, the scaled default) and off (today's official SDKs: retries
//! only), alternating, `ROUNDS` rounds each: wall time as a ratio to the
//! theoretical minimum (calls ÷ allowed rate), 429s, lockouts, failed calls.
//!
//! Scaling time down changes one thing for the pacer off: a 3 s lockout is
//! within the 60 s a retry waits for `Retry-After`, where Cloudflare's 300 s
//! is not. So the pacer off also runs against the real 300 s lockout (the
//! window still scaled): what a bulk job without pacing meets at Cloudflare.
//!
//! `cargo bench -p sdk-tests --bench rate_limited_bulk` (about 3 minutes);
//! `BULK_ROUNDS`, `BULK_CALLS`, `BULK_TASKS` change the job.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cloudflare_secondary_dns::{Client, Credentials, RateLimit};
use sdk_tests::{EXAMPLE_ACCOUNT_ID, StandIn};
use secondary_dns_stand_in::RateLimit as ServerPolicy;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Run {
    wall: Duration,
    limited: u64,
    lockouts: u64,
    failed: usize,
}

async fn job(paced: bool, calls: usize, tasks: usize, policy: ServerPolicy) -> Run {
    let stand_in = StandIn::start_rate_limited(policy).await;
    let builder = Client::builder(Credentials::api_token("bulk-token")).base_url(stand_in.uri());
    let builder = if paced {
        builder.rate_limit(RateLimit::new(policy.limit, policy.window).expect("a valid limit"))
    } else {
        builder.no_rate_limit()
    };
    let client = builder.build().expect("a client");
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..tasks)
        .map(|_| {
            let (client, next) = (client.clone(), next.clone());
            tokio::spawn(async move {
                let mut failed = 0;
                while next.fetch_add(1, Ordering::Relaxed) < calls {
                    let sent = client
                        .list_peers()
                        .account_id(EXAMPLE_ACCOUNT_ID)
                        .send()
                        .await;
                    failed += usize::from(sent.is_err());
                }
                failed
            })
        })
        .collect();
    let mut failed = 0;
    for worker in workers {
        failed += worker.await.expect("a worker");
    }
    let wall = started.elapsed();
    let stats = stand_in.rate_limit_stats();
    Run {
        wall,
        limited: stats.limited,
        lockouts: stats.lockouts,
        failed,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing: run only for bench.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rounds = setting("BULK_ROUNDS", 5);
    let calls = setting("BULK_CALLS", 5000);
    let tasks = setting("BULK_TASKS", 64);
    let policy = ServerPolicy::CLOUDFLARE.scaled(0.01);
    let minimum = policy.window.as_secs_f64() * calls as f64 / f64::from(policy.limit);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    println!(
        "{calls} calls from {tasks} tasks; the stand-in allows {} per {:?}, lockout {:?}; \
         theoretical minimum {minimum:.2} s",
        policy.limit, policy.window, policy.lockout
    );
    let real_lockout = ServerPolicy {
        lockout: ServerPolicy::CLOUDFLARE.lockout,
        ..policy
    };
    let modes = [
        ("pacer on", true, policy),
        ("pacer off", false, policy),
        ("pacer off, 300 s lockout", false, real_lockout),
    ];
    let mut results: Vec<Vec<Run>> = modes.iter().map(|_| Vec::new()).collect();
    for round in 0..rounds {
        // Rotate which goes first, so that drift favours none.
        for k in 0..modes.len() {
            let index = (round + k) % modes.len();
            let (name, paced, policy) = modes[index];
            let run = runtime.block_on(job(paced, calls, tasks, policy));
            println!(
                "round {round} {name:>24}: {:6.2} s = {:5.3} x minimum, {:5} x 429, {} lockouts, \
                 {:5} failed",
                run.wall.as_secs_f64(),
                run.wall.as_secs_f64() / minimum,
                run.limited,
                run.lockouts,
                run.failed
            );
            // Let the next stand-in start from a quiet machine.
            std::thread::sleep(Duration::from_millis(500));
            results[index].push(run);
        }
    }
    for ((name, _, _), runs) in modes.iter().zip(&results) {
        let ratio = median(
            runs.iter()
                .map(|r| r.wall.as_secs_f64() / minimum)
                .collect(),
        );
        let limited = median(runs.iter().map(|r| r.limited as f64).collect());
        let lockouts = median(runs.iter().map(|r| r.lockouts as f64).collect());
        let failed = median(runs.iter().map(|r| r.failed as f64).collect());
        let worst = runs
            .iter()
            .map(|r| r.wall.as_secs_f64() / minimum)
            .fold(0.0, f64::max);
        println!(
            "median {name:>24}: {ratio:5.3} x minimum (worst {worst:5.3}), {limited} x 429, \
             {lockouts} lockouts, {failed} failed calls"
        );
    }
}
