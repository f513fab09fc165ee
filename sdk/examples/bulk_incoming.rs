//! Moving many zones to Cloudflare as secondaries: an incoming configuration
//! naming the same peer for every zone of a list, with a bounded number of
//! zones in flight, a progress bar, a report line per zone (configured,
//! already configured, or the typed error), at the pace Cloudflare's rate
//! limit allows (the client's pacer; no 429, no 5-minute lockout).
//! Resumable: a rerun skips the zones already configured.
//!
//! ```text
//! cargo run --example bulk_incoming -- --zones zones.txt --peer-id <id> [--concurrency 16]
//! ```
//!
//! `zones.txt` holds one zone per line, `<zone id> <zone name>` (`#` starts a
//! comment line). With Cloudflare credentials in the environment it works on
//! your zones (created as type secondary). With none, it runs against a local
//! stand-in that enforces Cloudflare's rate limit with time scaled down 100×
//! (1,200 requests per 3 s), on a generated list of `--count` zones, twice:
//! the second run shows the resumption.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use cloudflare_secondary_dns::PeerIdentifier;
use cloudflare_secondary_dns::extras::bulk::{Configured, ZoneEntry, read_zone_list};
use cloudflare_secondary_dns::prelude::*;
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use secondary_dns_stand_in::{EXAMPLE_PEER_ID, RateLimit as StandInPolicy};

mod common;
use common::{client_from_env_or_stand_in, exit_status, fail};

#[derive(Parser)]
#[command(about = "Configure incoming zone transfers for every zone of a list")]
struct Args {
    /// The zone list: `<zone id> <zone name>` per line (required against the real API).
    #[arg(long)]
    zones: Option<PathBuf>,
    /// The peer (your primary) every zone transfers from (required against the real API).
    #[arg(long)]
    peer_id: Option<PeerIdentifier>,
    /// Zones in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Against the stand-in: how many zones the generated list holds.
    #[arg(long, default_value_t = 200)]
    count: usize,
}

struct Totals {
    configured: usize,
    already: usize,
    failed: usize,
    bad_lines: usize,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    // Without credentials: a stand-in with Cloudflare's policy, 100× faster
    // (1,200 requests per 3 s, 3 s locked out).
    let target =
        match client_from_env_or_stand_in(Some(StandInPolicy::CLOUDFLARE.scaled(0.01))).await {
            Ok(target) => target,
            Err(err) => return fail(&err.to_string()),
        };
    let (client, stand_in) = (target.client, target.stand_in);
    let on_stand_in = stand_in.is_some();
    let zones = match (&args.zones, on_stand_in) {
        (Some(path), _) => path.clone(),
        (None, true) => match generated_zone_list(args.count) {
            Ok(path) => path,
            Err(err) => return fail(&format!("could not write a zone list: {err}")),
        },
        (None, false) => return fail("--zones is required when calling the real API"),
    };
    let peer_id = match (&args.peer_id, on_stand_in) {
        (Some(peer_id), _) => *peer_id,
        (None, true) => EXAMPLE_PEER_ID.parse().expect("the stand-in's peer"),
        (None, false) => return fail("--peer-id is required when calling the real API"),
    };

    let runs = if on_stand_in { 2 } else { 1 };
    let mut succeeded = true;
    for run in 1..=runs {
        let started = Instant::now();
        let sent_before = client.rate_limit_status().map_or(0, |s| s.sent);
        let totals = match configure(&client, &zones, &peer_id, args.concurrency).await {
            Ok(totals) => totals,
            Err(err) => return fail(&format!("{}: {err}", zones.display())),
        };
        let sent = client.rate_limit_status().map_or(0, |s| s.sent) - sent_before;
        let limited = stand_in
            .as_ref()
            .map(|s| format!(", {} answered 429", s.rate_limit_stats().limited))
            .unwrap_or_default();
        let resumed = if run > 1 { " (resumed)" } else { "" };
        println!(
            "run {run}{resumed}: {} configured, {} already configured, {} failed, {} bad lines \
             ({sent} requests in {:.1} s{limited})",
            totals.configured,
            totals.already,
            totals.failed,
            totals.bad_lines,
            started.elapsed().as_secs_f64()
        );
        succeeded &= totals.failed == 0 && totals.bad_lines == 0;
    }
    if args.zones.is_none() {
        let _ = std::fs::remove_file(&zones);
    }
    exit_status(succeeded)
}

/// One pass over the list: a report line per zone, a progress bar on stderr.
async fn configure(
    client: &Client,
    zones: &PathBuf,
    peer_id: &PeerIdentifier,
    concurrency: usize,
) -> std::io::Result<Totals> {
    // Counted first (a cheap read) so that the bar knows its length.
    let lines = std::io::BufReader::new(std::fs::File::open(zones)?);
    let count = read_zone_list(lines).count();
    let progress = ProgressBar::new(count as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} zones, {per_sec}, eta {eta} {msg}")
            .expect("a valid template"),
    );
    let mut totals = Totals {
        configured: 0,
        already: 0,
        failed: 0,
        bad_lines: 0,
    };
    let lines = std::io::BufReader::new(std::fs::File::open(zones)?);
    let mut bad_lines = Vec::new();
    let entries = read_zone_list(lines).filter_map(|line| match line {
        Ok(zone) => Some(zone),
        Err(err) => {
            bad_lines.push(err);
            None
        }
    });
    let peers = [*peer_id];
    let mut reports = client.configure_incoming(entries, &peers, concurrency);
    while let Some(report) = reports.next().await {
        let ZoneEntry {
            line,
            zone_id,
            name,
        } = &report.zone;
        let said = match &report.outcome {
            Ok(Configured::AlreadyConfigured(existing)) => {
                totals.already += 1;
                if existing.peers.contains(peer_id) {
                    "already configured".to_owned()
                } else {
                    format!("already configured, with other peers: {:?}", existing.peers)
                }
            }
            Ok(_) => {
                totals.configured += 1;
                "configured".to_owned()
            }
            Err(err) => {
                totals.failed += 1;
                format!("failed: {}", err.report())
            }
        };
        progress.suspend(|| println!("line {line} {zone_id} {name}: {said}"));
        progress.inc(1);
        if let Some(status) = client.rate_limit_status() {
            let left = status.server_remaining.map_or(String::new(), |r| {
                format!(", Cloudflare: {r} requests left")
            });
            progress.set_message(format!("({} sent{left})", status.sent));
        }
    }
    drop(reports);
    progress.finish_and_clear();
    for err in &bad_lines {
        println!("{}: {err}", zones.display());
    }
    totals.bad_lines = bad_lines.len();
    Ok(totals)
}

/// A list of `count` made-up zones for the stand-in, in the temp directory.
fn generated_zone_list(count: usize) -> std::io::Result<PathBuf> {
    let path = std::env::temp_dir().join(format!("bulk_incoming_{}.txt", std::process::id()));
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
    writeln!(file, "# zone id, zone name")?;
    for n in 0..count {
        writeln!(
            file,
            "{:032x} zone-{n}.example.",
            0xc0ffee_u128 << 64 | n as u128
        )?;
    }
    file.flush()?;
    Ok(path)
}
