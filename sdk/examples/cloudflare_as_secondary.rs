//! Cloudflare as a secondary nameserver, the documented workflow end to end,
//! from the zone's name: the zone found (or created as a secondary zone, with
//! the name servers to set at the registrar), a TSIG key, a peer pointed at
//! your primary with it, an optional ACL for NOTIFYs from other addresses,
//! the zone's incoming configuration, a forced AXFR, a wait until the
//! transfer has arrived, the serial; then clean up (a zone it created stays).
//!
//! ```text
//! cargo run --example cloudflare_as_secondary -- [--account-id <id>] [--zone <name>]
//!     [--zone-id <id>] [--primary-ip <ip>] [--notify-range <cidr>] [--keep]
//! ```
//!
//! With Cloudflare credentials in the environment it works on your account
//! (`--account-id` is required; the TSIG secret is read from `TSIG_SECRET`).
//! With none, it runs against a local stand-in of the API on 127.0.0.1, where
//! `example.com` is a secondary zone already.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use cloudflare_secondary_dns::extras::zones::FindZoneError;
use cloudflare_secondary_dns::prelude::*;
use cloudflare_secondary_dns::{
    AccountIdentifier, IpRange, PeerIp, ZoneIdentifier, ZoneName, ZoneType,
};
use secondary_dns_stand_in::{EXAMPLE_ACCOUNT_ID, EXAMPLE_TSIG_SECRET};

mod common;
use common::{client_from_env_or_stand_in, exit_status, fail};

#[derive(Parser)]
#[command(about = "Make Cloudflare a secondary of your zone: TSIG, peer, ACL, incoming, AXFR")]
struct Args {
    /// Account identifier (required against the real API).
    #[arg(long)]
    account_id: Option<AccountIdentifier>,
    /// The zone's name: found at Cloudflare, or created there as a secondary zone.
    #[arg(long, default_value = "example.com")]
    zone: ZoneName,
    /// The zone's id instead, when known (no lookup).
    #[arg(long)]
    zone_id: Option<ZoneIdentifier>,
    /// Your primary nameserver, which Cloudflare transfers the zone from.
    #[arg(long, default_value = "192.0.2.53")]
    primary_ip: PeerIp,
    /// Other addresses your primary sends NOTIFYs from (an ACL), if any.
    #[arg(long)]
    notify_range: Option<IpRange>,
    /// How long to wait for the transfer, in seconds.
    #[arg(long, default_value_t = 300)]
    wait_seconds: u64,
    /// Keep what was created instead of deleting it at the end.
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
        None => match secondary_zone(&target.client, &account_id, &args.zone).await {
            Ok(zone_id) => zone_id,
            Err(err) => return fail(&err.to_string()),
        },
    };
    let secret = match std::env::var("TSIG_SECRET") {
        Ok(secret) if !secret.is_empty() => secret,
        // The spec's example secret, used only against the stand-in.
        _ if on_stand_in => EXAMPLE_TSIG_SECRET.to_owned(),
        _ => return fail("set TSIG_SECRET to the key shared with your primary nameserver"),
    };
    // Against the stand-in, show the optional ACL step too.
    let notify_range = args
        .notify_range
        .clone()
        .or_else(|| on_stand_in.then(|| "198.51.100.0/28".parse().unwrap()));

    let mut created = Created::default();
    let outcome = set_up(
        &target.client,
        (&account_id, &zone_id),
        &args,
        notify_range,
        secret,
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

/// Step 0, the zone by its name: found, or created as a secondary zone.
/// Says which, and the name servers to set at the registrar (Cloudflare
/// keeps a new zone `pending` until the registrar lists them).
async fn secondary_zone(
    client: &Client,
    account_id: &AccountIdentifier,
    name: &ZoneName,
) -> Result<ZoneIdentifier, Box<dyn std::error::Error>> {
    let (zone, how) = match client.find_zone(name.as_str(), Some(account_id)).await {
        Ok(zone) => (zone, "found"),
        Err(FindZoneError::NotFound { .. }) => {
            let body = types::ZoneCreate::builder()
                .name(name.clone())
                .account(types::ZoneAccountRef::builder().id(*account_id))
                .type_(Some(ZoneType::Secondary));
            let zone = client
                .create_zone()
                .body(body)
                .send()
                .await?
                .into_result()?;
            (zone, "created")
        }
        Err(err) => return Err(err.into()),
    };
    let kind = zone.type_.as_ref().map_or("-", ZoneType::as_str);
    println!("0. zone {} {how} ({kind}, id {})", zone.name, zone.id);
    if zone.type_ != Some(ZoneType::Secondary) {
        return Err(format!(
            "{} is a {kind} zone: a secondary zone's records come only from its primaries; \
             convert it (zones edit --type secondary) or name another",
            zone.name
        )
        .into());
    }
    println!(
        "   name servers to set at the registrar: {}",
        zone.name_servers.join(", ")
    );
    Ok(zone.id.parse()?)
}

/// What this run created, so that it can be removed even after a failure.
#[derive(Default)]
struct Created {
    tsig_id: Option<String>,
    peer_id: Option<String>,
    acl_id: Option<String>,
    incoming: bool,
}

async fn set_up(
    client: &Client,
    (account_id, zone_id): (&AccountIdentifier, &ZoneIdentifier),
    args: &Args,
    notify_range: Option<IpRange>,
    secret: String,
    created: &mut Created,
) -> Result<(), Box<dyn std::error::Error>> {
    // 1. The TSIG key your primary signs transfers with.
    let tsig = client
        .create_tsig()
        .account_id(account_id)
        .body(
            types::TsigInput::builder()
                .name("tsig.customer.cf.")
                .algo("hmac-sha512.")
                .secret(secret),
        )
        .send()
        .await?
        .into_result()?;
    created.tsig_id = Some(tsig.id.clone());
    println!("1. created TSIG key {} ({})", tsig.id, tsig.name);

    // 2. A peer for the primary: created by name, then pointed at it.
    let peer = client
        .create_peer()
        .account_id(account_id)
        .body(types::PeerCreate::builder().name("primary-ns"))
        .send()
        .await?
        .into_result()?;
    created.peer_id = Some(peer.id.clone());
    let peer = client
        .update_peer()
        .account_id(account_id)
        .peer_id(peer.id.as_str())
        .body(
            types::PeerUpdate::builder()
                .name(peer.name.as_str())
                .ip(Some(args.primary_ip.clone()))
                .port(Some(53))
                .ixfr_enable(Some(true))
                .tsig_id(Some(tsig.id.clone())),
        )
        .send()
        .await?
        .into_result()?;
    println!(
        "2. created peer {} for the primary {}",
        peer.id, args.primary_ip
    );

    // 3. Optional: an ACL, when NOTIFYs come from other addresses.
    match notify_range {
        Some(range) => {
            let acl = client
                .create_acl()
                .account_id(account_id)
                .body(
                    types::AclInput::builder()
                        .name("primary-notify")
                        .ip_range(range),
                )
                .send()
                .await?
                .into_result()?;
            created.acl_id = Some(acl.id.clone());
            println!("3. created ACL {} for {}", acl.id, acl.ip_range);
        }
        None => println!("3. no ACL (NOTIFYs come from the peer's address)"),
    }

    // 4. The zone's incoming configuration names the peer.
    let zone = client
        .create_incoming()
        .zone_id(zone_id)
        .body(
            types::IncomingInput::builder()
                .name(args.zone.as_str())
                .peers(vec![peer.id.parse()?]),
        )
        .send()
        .await?
        .into_result()?;
    created.incoming = true;
    println!(
        "4. configured {} as a secondary of peer {} (refresh every {})",
        zone.name,
        peer.id,
        zone.auto_refresh_seconds.map_or_else(
            || "day, Cloudflare's default".to_owned(),
            |s| format!("{s} s")
        )
    );

    // 5. Ask for a transfer now, and 6. wait until it has arrived.
    let before = client
        .get_incoming()
        .zone_id(zone_id)
        .send()
        .await?
        .into_result()?
        .soa_serial;
    let outcome = client
        .force_axfr()
        .zone_id(zone_id)
        .send()
        .await?
        .into_result()?;
    println!("5. forced an AXFR: {outcome}");
    let zone = client
        .wait_for_transfer()
        .zone_id(zone_id)
        .serial_changed_from(before)
        .timeout(Duration::from_secs(args.wait_seconds))
        .poll_interval(Duration::from_millis(200), Duration::from_secs(10))
        .wait()
        .await?;

    // 7. The serial Cloudflare now serves.
    println!(
        "6. transferred: serial {} (checked {})",
        zone.soa_serial.map_or("none".to_owned(), |s| s.to_string()),
        zone.checked_time.as_ref().map_or("-", |t| t.as_str())
    );
    Ok(())
}

impl Created {
    /// In reverse order: a peer in use by a zone, or a TSIG key in use by a
    /// peer, cannot be deleted.
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
        if self.incoming {
            let done = client.delete_incoming().zone_id(zone_id).send().await;
            report("the incoming configuration", done.map(drop));
        }
        if let Some(id) = self.acl_id {
            let done = client
                .delete_acl()
                .account_id(account_id)
                .acl_id(id.as_str())
                .send()
                .await;
            report(&format!("ACL {id}"), done.map(drop));
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
        if let Some(id) = self.tsig_id {
            let done = client
                .delete_tsig()
                .account_id(account_id)
                .tsig_id(id.as_str())
                .send()
                .await;
            report(&format!("TSIG key {id}"), done.map(drop));
        }
    }
}
