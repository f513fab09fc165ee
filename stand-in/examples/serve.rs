//! Serves the stand-in until interrupted, for trying the CLI (or anything
//! else) without Cloudflare:
//!
//! ```text
//! cargo run -p secondary-dns-stand-in --example serve
//! cargo run -p secondary-dns-stand-in --example serve -- --rate-limit 1200/3   # Cloudflare's policy, time ÷ 100
//! cargo run -p secondary-dns-stand-in --example serve -- --primary   # and a primary for `doctor`
//! ```
//!
//! It prints the environment to paste into another shell. `--rate-limit
//! LIMIT/SECONDS` enforces Cloudflare's rate limit with that window (and as
//! long a lockout). `--primary` also starts a primary name server on
//! 127.0.0.1 for `example.com` (TSIG-signed AXFR and IXFR) and wires the
//! seeded zone to it, so that `doctor --zone example.com` finds it healthy.

use std::time::Duration;

use secondary_dns_stand_in::primary::{NameServer, Primary};
use secondary_dns_stand_in::{
    EXAMPLE_ACCOUNT_ID, FIRST_SERIAL, PRIMARY_TSIG_ID, RateLimit, SEEDED_FULL_ZONE,
    SEEDED_SECONDARY_ZONE, StandIn,
};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let with_primary = args.iter().any(|a| a == "--primary");
    args.retain(|a| a != "--primary");
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
            eprintln!("usage: serve [--rate-limit LIMIT/SECONDS] [--primary]");
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
    let _primary = if with_primary {
        Some(start_primary(&stand_in).await)
    } else {
        None
    };
    println!("# then e.g.: cf-secondary-dns peers list --format table   (Ctrl-C here stops it)");
    let _ = tokio::signal::ctrl_c().await;
}

/// The key both sides share (base64, as a primary's key file holds it).
const PRIMARY_SECRET: &[u8] = b"a shared TSIG secret of 32 bytes";
const PRIMARY_SECRET_BASE64: &str = "YSBzaGFyZWQgVFNJRyBzZWNyZXQgb2YgMzIgYnl0ZXM=";

async fn start_primary(stand_in: &StandIn) -> (Primary, NameServer) {
    let primary = Primary::start(SEEDED_SECONDARY_ZONE.1, FIRST_SERIAL as u32).await;
    primary.require_key("xfr.example.com.", "hmac-sha256", PRIMARY_SECRET);
    stand_in.wire_primary(
        &primary,
        "xfr.example.com.",
        "hmac-sha256.",
        PRIMARY_SECRET_BASE64,
    );
    let name_server = stand_in.start_name_server().await;
    let addr = primary.addr();
    println!(
        "# A primary for {} listens on {addr} (UDP and TCP), key xfr.example.com. (hmac-sha256);",
        SEEDED_SECONDARY_ZONE.1
    );
    println!(
        "# the zone's peer local-primary points at it. Cloudflare's name servers are played by {}. Try:",
        name_server.addr()
    );
    println!(
        "#   cf-secondary-dns doctor --zone example.com --name-server {} --format table",
        name_server.addr()
    );
    println!("#   echo b3RoZXIgc2VjcmV0 > wrong.key");
    println!(
        "#   cf-secondary-dns tsigs update --tsig-id {PRIMARY_TSIG_ID} --name xfr.example.com. \\\n\
         #       --algo hmac-sha256. --secret-file wrong.key   # the doctor then names BADSIG"
    );
    (primary, name_server)
}
