//! Cloudflare as the primary nameserver, the documented workflow end to end,
//! from the zone's name: a peer for your secondary, the zone's outgoing
//! configuration, multi-provider on when your secondaries are in the zone's
//! apex NS records, enable outgoing transfers (and wait until they are), read
//! the status, force a NOTIFY, disable; then clean up.
//!
//! ```text
//! cargo run --example cloudflare_as_primary -- [--account-id <id>] [--zone <name>]
//!     [--zone-id <id>] [--secondary-ip <ip>] [--secondaries-at-apex] [--keep]
//! ```
//!
//! With Cloudflare credentials in the environment it works on your account
//! (`--account-id`, and a full zone whose outgoing transfers your account
//! team has allowed). With none, it runs against a local stand-in of the API
//! on 127.0.0.1, where `example.net` is a full zone.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use cloudflare_secondary_dns::prelude::*;
use cloudflare_secondary_dns::{AccountIdentifier, PeerIp, ZoneIdentifier, ZoneName};
use secondary_dns_stand_in::EXAMPLE_ACCOUNT_ID;

mod common;
use common::{client_from_env_or_stand_in, exit_status, fail};

#[derive(Parser)]
#[command(about = "Make Cloudflare the primary of your zone: peer, outgoing, enable, NOTIFY")]
struct Args {
    /// Account identifier (required against the real API).
    #[arg(long)]
    account_id: Option<AccountIdentifier>,
    /// The zone's name (a full zone at Cloudflare).
    #[arg(long, default_value = "example.net")]
    zone: ZoneName,
    /// The zone's id instead, when known (no lookup).
    #[arg(long)]
    zone_id: Option<ZoneIdentifier>,
    /// Your secondaries are listed in the zone's apex NS records: turn on
    /// multi-provider, without which Cloudflare ignores them in outgoing
    /// transfers (always shown against the stand-in).
    #[arg(long)]
    secondaries_at_apex: bool,
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
        .or_else(|| on_stand_in.then(|| EXAMPLE_ACCOUNT_ID.parse().unwrap()));
    let Some(account_id) = account_id else {
        return fail("--account-id is required when calling the real API");
    };
    let zone_id = match &args.zone_id {
        Some(zone_id) => *zone_id,
        None => match target
            .client
            .find_zone(args.zone.as_str(), Some(&account_id))
            .await
        {
            Ok(zone) => match zone.id.parse() {
                Ok(zone_id) => zone_id,
                Err(err) => return fail(&format!("the zone's id: {err}")),
            },
            Err(err) => return fail(&err.to_string()),
        },
    };
    let multi_provider = args.secondaries_at_apex || on_stand_in;
    let mut created = Created::default();
    let outcome = set_up(
        &target.client,
        (&account_id, &zone_id),
        &args,
        multi_provider,
        &mut created,
    )
    .await;
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
    multi_provider: bool,
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
                .name(args.zone.as_str())
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

    // Secondaries listed at the apex are ignored in outgoing transfers
    // unless the zone is multi-provider.
    if multi_provider {
        let settings = client
            .update_dns_settings()
            .zone_id(zone_id)
            .body(types::DnsSettings::builder().multi_provider(Some(true)))
            .send()
            .await?
            .into_result()?;
        println!(
            "   multi-provider {}: outgoing transfers carry the zone's apex NS records (your \
             secondaries); without it Cloudflare drops them",
            if settings.multi_provider == Some(true) {
                "on"
            } else {
                "still off"
            }
        );
    }

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
