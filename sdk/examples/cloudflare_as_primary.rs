//! Cloudflare as the primary nameserver, the documented workflow end to end:
//! a peer for your secondary, the zone's outgoing configuration, enable
//! outgoing transfers (and wait until they are), read the status, force a
//! NOTIFY, disable; then clean up.
//!
//! ```text
//! cargo run --example cloudflare_as_primary -- [--account-id <id>] [--zone-id <id>]
//!     [--zone-name <name.>] [--secondary-ip <ip>] [--keep]
//! ```
//!
//! With Cloudflare credentials in the environment it works on your account
//! (`--account-id` and `--zone-id` of a full zone whose outgoing transfers
//! your account team has allowed). With none, it runs against a local
//! stand-in of the API on 127.0.0.1.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use cloudflare_secondary_dns::prelude::*;
use cloudflare_secondary_dns::{AccountIdentifier, PeerIp, ZoneIdentifier};
use secondary_dns_stand_in::{EXAMPLE_ACCOUNT_ID, EXAMPLE_ZONE_ID};

mod common;
use common::{client_from_env_or_stand_in, exit_status, fail};

#[derive(Parser)]
#[command(about = "Make Cloudflare the primary of your zone: peer, outgoing, enable, NOTIFY")]
struct Args {
    /// Account identifier (required against the real API).
    #[arg(long)]
    account_id: Option<AccountIdentifier>,
    /// The zone (required against the real API).
    #[arg(long)]
    zone_id: Option<ZoneIdentifier>,
    /// The zone's name, with its trailing dot.
    #[arg(long, default_value = "example.com.")]
    zone_name: String,
    /// Your secondary nameserver, which Cloudflare NOTIFYs.
    #[arg(long, default_value = "192.0.2.54")]
    secondary_ip: PeerIp,
    /// Keep what was created (and transfers enabled) instead of cleaning up.
    #[arg(long)]
    keep: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let target = match client_from_env_or_stand_in(None).await {
        Ok(target) => target,
        Err(err) => return fail(&err.to_string()),
    };
    let on_stand_in = target.stand_in.is_some();
    let account_id = args
        .account_id
        .clone()
        .or_else(|| on_stand_in.then(|| EXAMPLE_ACCOUNT_ID.parse().unwrap()));
    let zone_id = args
        .zone_id
        .clone()
        .or_else(|| on_stand_in.then(|| EXAMPLE_ZONE_ID.parse().unwrap()));
    let (Some(account_id), Some(zone_id)) = (account_id, zone_id) else {
        return fail("--account-id and --zone-id are required when calling the real API");
    };
    let mut created = Created::default();
    let outcome = set_up(&target.client, (&account_id, &zone_id), &args, &mut created).await;
    if let Err(err) = &outcome {
        eprintln!("error: {err}");
    }
    if !args.keep || outcome.is_err() {
        created
            .clean_up(&target.client, &account_id, &zone_id)
            .await;
    }
    exit_status(outcome.is_ok())
}

/// What this run created, so that it can be removed even after a failure.
#[derive(Default)]
struct Created {
    peer_id: Option<String>,
    outgoing: bool,
}

async fn set_up(
    client: &Client,
    (account_id, zone_id): (&AccountIdentifier, &ZoneIdentifier),
    args: &Args,
    created: &mut Created,
) -> Result<(), Box<dyn std::error::Error>> {
    // 1. A peer for the secondary Cloudflare NOTIFYs.
    let peer = client
        .create_peer()
        .account_id(account_id)
        .body(types::PeerCreate::builder().name("secondary-ns"))
        .send()
        .await?
        .into_result()?;
    created.peer_id = Some(peer.id.clone());
    client
        .update_peer()
        .account_id(account_id)
        .peer_id(peer.id.as_str())
        .body(
            types::PeerUpdate::builder()
                .name(peer.name.as_str())
                .ip(Some(args.secondary_ip.clone()))
                .port(Some(53)),
        )
        .send()
        .await?;
    println!(
        "1. created peer {} for the secondary {}",
        peer.id, args.secondary_ip
    );

    // 2. The zone's outgoing configuration names the peer.
    let zone = client
        .create_outgoing()
        .zone_id(zone_id)
        .body(
            types::OutgoingInput::builder()
                .name(args.zone_name.as_str())
                .peers(vec![peer.id.parse()?]),
        )
        .send()
        .await?
        .into_result()?;
    created.outgoing = true;
    println!(
        "2. configured {} as a primary for peer {}",
        zone.name, peer.id
    );

    // 3. Enable outgoing transfers (Cloudflare sends a NOTIFY), and wait.
    let enabled = client
        .enable_outgoing()
        .zone_id(zone_id)
        .send()
        .await?
        .into_result()?;
    let status = client
        .wait_for_outgoing_enabled()
        .zone_id(zone_id)
        .timeout(Duration::from_secs(120))
        .poll_interval(Duration::from_millis(200), Duration::from_secs(10))
        .wait()
        .await?;
    println!("3. enabled outgoing transfers: {enabled}");

    // 4. The status, and what the zone reports.
    let zone = client
        .get_outgoing()
        .zone_id(zone_id)
        .send()
        .await?
        .into_result()?;
    println!(
        "4. status {status}; serial {}, last transferred {}",
        zone.soa_serial.map_or("none".to_owned(), |s| s.to_string()),
        zone.last_transferred_time
            .as_ref()
            .map_or("never", |t| t.as_str())
    );

    // 5. NOTIFY the secondaries now.
    let notified = client
        .force_notify()
        .zone_id(zone_id)
        .send()
        .await?
        .into_result()?;
    println!("5. forced a NOTIFY: {notified}");

    // 6. Stop: disable (also clears the IXFR backlog).
    if !args.keep {
        let disabled = client
            .disable_outgoing()
            .zone_id(zone_id)
            .send()
            .await?
            .into_result()?;
        println!("6. disabled outgoing transfers: {disabled}");
    }
    Ok(())
}

impl Created {
    /// The configuration first: a peer in use by a zone cannot be deleted.
    async fn clean_up(
        self,
        client: &Client,
        account_id: &AccountIdentifier,
        zone_id: &ZoneIdentifier,
    ) {
        let report = |what: &str, result: Result<(), ApiError>| match result {
            Ok(()) => println!("   deleted {what}"),
            Err(err) => eprintln!("could not delete {what}: {err}"),
        };
        println!("7. cleaning up");
        if self.outgoing {
            let done = client.delete_outgoing().zone_id(zone_id).send().await;
            report("the outgoing configuration", done.map(drop));
        }
        if let Some(id) = self.peer_id {
            let done = client
                .delete_peer()
                .account_id(account_id)
                .peer_id(id.as_str())
                .send()
                .await;
            report(&format!("peer {id}"), done.map(drop));
        }
    }
}
