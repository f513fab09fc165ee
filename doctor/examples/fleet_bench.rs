//! The doctor over a fleet: 1,000 secondary zones on the stand-in, each
//! with a peer at a primary on loopback (signed SOA over UDP and TCP, a
//! signed AXFR each), the stand-in enforcing Cloudflare's rate limit with
//! time scaled 100× (1,200 requests per 3 s) and the client pacing itself to
//! it. Prints the wall time, the API requests, the pacer's minimum for them
//! and the peak memory (BENCHMARKS.md, "Doctor fleet").
//!
//! ```text
//! cargo run --release -p cloudflare-secondary-dns-doctor --example fleet_bench -- [ZONES] [CONCURRENCY]
//! ```

use std::time::{Duration, Instant};

use cloudflare_secondary_dns::extras::zones::ZoneQuery;
use cloudflare_secondary_dns::{Client, Credentials, RateLimit};
use cloudflare_secondary_dns_doctor::{Doctor, DoctorOptions, Verdict};
use futures_util::StreamExt;
use secondary_dns_stand_in::primary::Primary;
use secondary_dns_stand_in::{FIRST_SERIAL, RateLimit as StandInPolicy, StandIn};

const SECRET: &[u8] = b"a shared TSIG secret of 32 bytes";
const SECRET_B64: &str = "YSBzaGFyZWQgVFNJRyBzZWNyZXQgb2YgMzIgYnl0ZXM=";

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let zones: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let concurrency: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(8);
    // Cloudflare's 1,200 requests per 300 s, time scaled 100×.
    let window = Duration::from_secs(3);
    let stand_in = StandIn::start_rate_limited(StandInPolicy {
        limit: 1200,
        window,
        lockout: window,
    })
    .await;
    let primary = Primary::start("example.com", FIRST_SERIAL as u32).await;
    primary.require_key("xfr.example.com.", "hmac-sha256", SECRET);
    primary.with_state(|state| state.any_zone = true);
    stand_in.seed_fleet(
        zones,
        &primary,
        "xfr.example.com.",
        "hmac-sha256.",
        SECRET_B64,
    );
    let name_server = stand_in.start_name_server().await;
    let client = Client::builder(Credentials::api_token("bench-token"))
        .base_url(stand_in.uri())
        .rate_limit(RateLimit::new(1200, window).expect("a valid limit"))
        .build()
        .expect("a client");
    let doctor = Doctor::new(client)
        .with_options(DoctorOptions::default().served_by(vec![name_server.addr()]));

    let started = Instant::now();
    let mut counts = [0usize; 4];
    let mut fleet = std::pin::pin!(doctor.fleet(ZoneQuery::new(), concurrency));
    while let Some(report) = fleet.next().await {
        let report = report.expect("the zone list");
        counts[report.verdict() as usize] += 1;
    }
    let elapsed = started.elapsed();
    let requests = stand_in.requests().len();
    // The pacer's own rule: a burst at once, then one request per interval.
    let limit = RateLimit::new(1200, window).expect("a valid limit");
    let floor =
        requests.saturating_sub(limit.burst() as usize) as f64 * limit.interval().as_secs_f64();
    let real = RateLimit::CLOUDFLARE;
    let real_floor =
        requests.saturating_sub(real.burst() as usize) as f64 * real.interval().as_secs_f64();
    println!(
        "{} zones, concurrency {concurrency}: {:.2} s; {requests} API requests \
         (the pacer's minimum {floor:.2} s at 1200 per {window:?}, ratio {:.3}; at Cloudflare's \
         real rate {real_floor:.0} s); {} answered 429",
        counts.iter().sum::<usize>(),
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() / floor,
        stand_in.rate_limit_stats().limited,
    );
    println!(
        "verdicts: {} ok, {} warning, {} failure, {} skipped; peak memory {} kB",
        counts[Verdict::Ok as usize],
        counts[Verdict::Warning as usize],
        counts[Verdict::Failure as usize],
        counts[Verdict::Skipped as usize],
        peak_kb().map_or("?".to_owned(), |kb| kb.to_string()),
    );
}

/// The process's peak resident memory (Linux: VmHWM).
fn peak_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
