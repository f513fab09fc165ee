//! Set up an incoming zone transfer end to end: create a TSIG key, create a
//! peer, point it at the primary nameserver with that key, list the peers,
//! then clean up.
//!
//! ```text
//! cargo run --example zone_transfer_setup -- [--account-id <id>] [--primary-ip <ip>] [--port <n>]
//!     [--peer-name <name>] [--tsig-name <name>] [--tsig-algo <algo>] [--keep]
//! ```
//!
//! With Cloudflare credentials in the environment it works on your account
//! (`--account-id` required; the TSIG secret is read from `TSIG_SECRET`).
//! With none, it runs against a local stand-in of the API on 127.0.0.1.

use std::process::ExitCode;

use clap::Parser;
use cloudflare_secondary_dns::PeerIp;
use cloudflare_secondary_dns::prelude::*;
use secondary_dns_stand_in::{EXAMPLE_ACCOUNT_ID, EXAMPLE_TSIG_SECRET};

mod common;
use common::{client_from_env_or_stand_in, exit_status, fail};

#[derive(Parser)]
#[command(about = "Create a TSIG key and a zone-transfer peer that uses it, then clean up")]
struct Args {
    /// Account identifier (required against the real API).
    #[arg(long)]
    account_id: Option<cloudflare_secondary_dns::AccountIdentifier>,
    /// The primary nameserver Cloudflare will send AXFR/IXFR requests to.
    #[arg(long, default_value = "192.0.2.53")]
    primary_ip: PeerIp,
    /// Its DNS port.
    #[arg(long, default_value_t = 53)]
    port: u16,
    /// Name of the new peer.
    #[arg(long, default_value = "sdk-example-peer")]
    peer_name: String,
    /// Name of the new TSIG key.
    #[arg(long, default_value = "tsig.customer.cf.")]
    tsig_name: String,
    /// TSIG algorithm.
    #[arg(long, default_value = "hmac-sha512.")]
    tsig_algo: String,
    /// Keep the peer and the key instead of deleting them at the end.
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
    let Some(account_id) = args
        .account_id
        .or_else(|| on_stand_in.then(|| EXAMPLE_ACCOUNT_ID.parse().unwrap()))
    else {
        return fail("--account-id is required when calling the real API");
    };
    let secret = match std::env::var("TSIG_SECRET") {
        Ok(secret) if !secret.is_empty() => secret,
        // The spec's example secret, used only against the stand-in.
        _ if on_stand_in => EXAMPLE_TSIG_SECRET.to_owned(),
        _ => return fail("set TSIG_SECRET to the key shared with your primary nameserver"),
    };

    let mut created = Created::default();
    let outcome = set_up(&target.client, &account_id, &args, secret, &mut created).await;
    if let Err(err) = &outcome {
        eprintln!("error: {}", err.report());
    }
    if !args.keep || outcome.is_err() {
        created.clean_up(&target.client, &account_id).await;
    }
    exit_status(outcome.is_ok())
}

/// What this run created, so that it can be removed even after a failure.
#[derive(Default)]
struct Created {
    tsig_id: Option<String>,
    peer_id: Option<String>,
}

async fn set_up(
    client: &Client,
    account_id: &cloudflare_secondary_dns::AccountIdentifier,
    args: &Args,
    secret: String,
    created: &mut Created,
) -> Result<(), ApiError> {
    let key = types::TsigInput::builder()
        .name(args.tsig_name.as_str())
        .algo(args.tsig_algo.as_str())
        .secret(secret);
    let tsig = client
        .create_tsig()
        .account_id(*account_id)
        .body(key)
        .send()
        .await?
        .into_result()?;
    println!(
        "1. created TSIG key {} ({}, {}; secret not shown)",
        tsig.id, tsig.name, tsig.algo
    );
    created.tsig_id = Some(tsig.id.clone());

    let new_peer = types::PeerCreate::builder().name(args.peer_name.as_str());
    let peer = client
        .create_peer()
        .account_id(*account_id)
        .body(new_peer)
        .send()
        .await?
        .into_result()?;
    println!("2. created peer {} ({})", peer.id, peer.name);
    created.peer_id = Some(peer.id.clone());

    let update = types::PeerUpdate::builder()
        .name(peer.name.as_str())
        .ip(Some(args.primary_ip.clone()))
        .port(Some(args.port))
        .tsig_id(Some(tsig.id.clone()))
        .ixfr_enable(Some(true));
    let updated = client
        .update_peer()
        .account_id(*account_id)
        .peer_id(peer.id.as_str())
        .body(update)
        .send()
        .await?
        .into_result()?;
    println!(
        "3. pointed peer {} at {}:{} with TSIG {} and IXFR on",
        updated.id,
        updated
            .ip
            .as_ref()
            .map_or("?".to_owned(), ToString::to_string),
        updated.port.map_or("?".to_owned(), |p| p.to_string()),
        updated.tsig_id.as_deref().unwrap_or("?"),
    );

    let peers = client
        .list_peers()
        .account_id(*account_id)
        .send()
        .await?
        .into_result()?;
    println!("4. the account has {} peer(s):", peers.len());
    for peer in &peers {
        println!(
            "   {}  {:<20} {}",
            peer.id,
            peer.name,
            peer.ip.as_ref().map_or("-".to_owned(), ToString::to_string)
        );
    }
    Ok(())
}

impl Created {
    async fn clean_up(
        self,
        client: &Client,
        account_id: &cloudflare_secondary_dns::AccountIdentifier,
    ) {
        // The peer first: a TSIG key in use by a peer cannot be deleted.
        if let Some(peer_id) = self.peer_id {
            match client
                .delete_peer()
                .account_id(*account_id)
                .peer_id(peer_id.as_str())
                .send()
                .await
            {
                Ok(_) => println!("5. deleted peer {peer_id}"),
                Err(err) => eprintln!("could not delete peer {peer_id}: {}", err.report()),
            }
        }
        if let Some(tsig_id) = self.tsig_id {
            match client
                .delete_tsig()
                .account_id(*account_id)
                .tsig_id(tsig_id.as_str())
                .send()
                .await
            {
                Ok(_) => println!("6. deleted TSIG key {tsig_id}"),
                Err(err) => eprintln!("could not delete TSIG key {tsig_id}: {}", err.report()),
            }
        }
    }
}
