//! Update a zone-transfer peer: the SDK's main job, end to end.
//!
//! ```text
//! cargo run --example update_peer -- --account-id <id> --peer-id <id> --name <name> \
//!     [--ip <ip>] [--port <n>] [--ixfr-enable <true|false>] [--tsig-id <id>]
//! ```
//!
//! With Cloudflare credentials in the environment (`CLOUDFLARE_API_TOKEN`, or
//! `CLOUDFLARE_EMAIL` + `CLOUDFLARE_API_KEY`) it calls the API at
//! `CLOUDFLARE_BASE_URL` (default: Cloudflare). With none, it starts a local
//! stand-in of the API on 127.0.0.1 and fills missing arguments with the
//! seed's example values, so it runs on a fresh machine.

use std::process::ExitCode;

use clap::Parser;
use cloudflare_secondary_dns::{PeerIp, types};
use secondary_dns_stand_in::{EXAMPLE_ACCOUNT_ID, EXAMPLE_PEER_ID, example_peer};

mod common;
use common::{client_from_env_or_stand_in, exit_status, fail};

#[derive(Parser)]
#[command(about = "Update a Cloudflare Secondary DNS peer")]
struct Args {
    /// Account identifier (32 lowercase hex characters).
    #[arg(long)]
    account_id: Option<cloudflare_secondary_dns::AccountIdentifier>,
    /// Peer identifier (32 lowercase hex characters).
    #[arg(long)]
    peer_id: Option<cloudflare_secondary_dns::PeerIdentifier>,
    /// The name of the peer.
    #[arg(long)]
    name: Option<String>,
    /// IPv4/IPv6 address of the primary or secondary nameserver.
    #[arg(long)]
    ip: Option<PeerIp>,
    /// DNS port of the primary or secondary nameserver.
    #[arg(long)]
    port: Option<u16>,
    /// Enable IXFR (default is AXFR); secondary zones only.
    #[arg(long, value_name = "true|false")]
    ixfr_enable: Option<bool>,
    /// TSIG key used for zone transfers.
    #[arg(long)]
    tsig_id: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = Args::parse();

    let target = match client_from_env_or_stand_in(None).await {
        Ok(target) => target,
        Err(err) => return fail(&err.to_string()),
    };
    if target.stand_in.is_some() {
        args.fill_from_seed_example();
    }
    let client = target.client;

    let (Some(account_id), Some(peer_id), Some(name)) = (args.account_id, args.peer_id, args.name)
    else {
        eprintln!(
            "error: --account-id, --peer-id and --name are required when calling the real API"
        );
        return ExitCode::from(2);
    };
    // Bodies are built through their builders: the types are
    // `#[non_exhaustive]`, so a field Cloudflare adds breaks no caller.
    let body = types::PeerUpdate::builder()
        .name(name)
        .ip(args.ip)
        .port(args.port)
        .ixfr_enable(args.ixfr_enable)
        .tsig_id(args.tsig_id);

    match client
        .update_peer()
        .account_id(account_id)
        .peer_id(peer_id)
        .body(body)
        .send()
        .await
    {
        Ok(response) => {
            print_envelope(&response.into_inner());
            exit_status(true)
        }
        Err(err) => fail(&err.report().to_string()),
    }
}

impl Args {
    /// Missing arguments take the seed's example values (stand-in only;
    /// `ixfr_enable` is left out, as in the seed's request).
    fn fill_from_seed_example(&mut self) {
        let example = example_peer();
        let text = |field: &str| example[field].as_str().map(str::to_owned);
        self.account_id
            .get_or_insert_with(|| EXAMPLE_ACCOUNT_ID.parse().unwrap());
        self.peer_id
            .get_or_insert_with(|| EXAMPLE_PEER_ID.parse().unwrap());
        self.name = self.name.take().or_else(|| text("name"));
        self.ip = self
            .ip
            .take()
            .or_else(|| text("ip").and_then(|ip| ip.parse().ok()));
        self.port = self
            .port
            .or_else(|| example["port"].as_u64().and_then(|p| p.try_into().ok()));
        self.tsig_id = self.tsig_id.take().or_else(|| text("tsig_id"));
    }
}

fn print_envelope(envelope: &types::SinglePeerResponse) {
    match &envelope.result {
        Some(peer) => {
            let or_unset = |value: Option<String>| value.unwrap_or_else(|| "(not set)".to_owned());
            println!("Updated peer {}", peer.id);
            println!("  name:        {}", peer.name);
            println!(
                "  ip:          {}",
                or_unset(peer.ip.as_ref().map(PeerIp::to_string))
            );
            println!(
                "  port:        {}",
                or_unset(peer.port.map(|p| p.to_string()))
            );
            println!(
                "  ixfr_enable: {}",
                or_unset(peer.ixfr_enable.map(|i| i.to_string()))
            );
            println!("  tsig_id:     {}", or_unset(peer.tsig_id.clone()));
        }
        None => println!("Updated; the API returned no peer."),
    }
    for (label, entries) in [
        ("Messages", &envelope.messages),
        ("Errors reported with the success", &envelope.errors),
    ] {
        if !entries.is_empty() {
            println!("{label}:");
            for entry in entries.iter() {
                println!("  {entry}");
            }
        }
    }
}
