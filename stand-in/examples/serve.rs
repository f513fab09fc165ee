//! Serves the stand-in until interrupted, for trying the CLI (or anything
//! else) without Cloudflare:
//!
//! ```text
//! cargo run -p secondary-dns-stand-in --example serve
//! cargo run -p secondary-dns-stand-in --example serve -- --rate-limit 1200/3   # Cloudflare's policy, time ÷ 100
//! ```
//!
//! It prints the environment to paste into another shell. `--rate-limit
//! LIMIT/SECONDS` enforces Cloudflare's rate limit with that window (and as
//! long a lockout).

use std::time::Duration;

use secondary_dns_stand_in::{
    EXAMPLE_ACCOUNT_ID, RateLimit, SEEDED_FULL_ZONE, SEEDED_SECONDARY_ZONE, StandIn,
};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let policy = match args.as_slice() {
        [] => None,
        [flag, value] if flag == "--rate-limit" => match value
            .split_once('/')
            .and_then(|(limit, seconds)| Some((limit.parse().ok()?, seconds.parse::<f64>().ok()?)))
            .and_then(|(limit, seconds)| {
                let window = Duration::try_from_secs_f64(seconds).ok()?;
                Some(RateLimit {
                    limit,
                    window,
                    lockout: window,
                })
            }) {
            Some(policy) => Some(policy),
            None => {
                eprintln!("error: --rate-limit takes LIMIT/SECONDS, e.g. 1200/3");
                std::process::exit(2);
            }
        },
        _ => {
            eprintln!("usage: serve [--rate-limit LIMIT/SECONDS]");
            std::process::exit(2);
        }
    };
    let stand_in = match policy {
        Some(policy) => StandIn::start_rate_limited(policy).await,
        None => StandIn::start().await,
    };
    println!("# A stand-in of Cloudflare's Secondary DNS API is listening. In another shell:");
    println!("export CLOUDFLARE_API_TOKEN=stand-in-token");
    println!("export CLOUDFLARE_BASE_URL={}", stand_in.uri());
    println!("export CLOUDFLARE_ACCOUNT_ID={EXAMPLE_ACCOUNT_ID}");
    if let Some(policy) = policy {
        println!(
            "# Rate limited: {} requests per {:?} per credential, then {:?} of 429s",
            policy.limit, policy.window, policy.lockout
        );
    }
    println!(
        "# Zones: {} (secondary, id {}) and {} (full, id {})",
        SEEDED_SECONDARY_ZONE.1, SEEDED_SECONDARY_ZONE.0, SEEDED_FULL_ZONE.1, SEEDED_FULL_ZONE.0
    );
    println!("# then e.g.: cf-secondary-dns peers list --format table   (Ctrl-C here stops it)");
    let _ = tokio::signal::ctrl_c().await;
}
