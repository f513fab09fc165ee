//! The checks of a zone Cloudflare is primary for (O1–O5).

use std::collections::BTreeSet;

use cloudflare_secondary_dns::types::{Outgoing, Zone};
use cloudflare_secondary_dns::{ResponseExt, TransferStatus};

use crate::Doctor;
use crate::peers::read_peers;
use crate::probe::{self, TransferKind, Transport};
use crate::report::Check;

pub(crate) async fn diagnose(
    doctor: &Doctor,
    zone: &Zone,
    outgoing: Outgoing,
    checks: &mut Vec<Check>,
) {
    let name = &zone.name;
    // O1: configured, and enabled (Terraform never enables it).
    let status = doctor
        .client
        .get_outgoing_status()
        .zone_id(&zone.id)
        .send()
        .await
        .and_then(ResponseExt::into_result);
    let check = Check::named("O1", "outgoing configuration and status");
    checks.push(match status {
        Ok(TransferStatus::Enabled) => {
            check.ok(format!("{} peer(s), Enabled", outgoing.peers.len()))
        }
        Ok(status) => check.failure(
            format!("{status}: Cloudflare sends no NOTIFY and refuses transfers"),
            format!("cf-secondary-dns outgoing enable --zone {name}"),
        ),
        Err(err) => check.failure(
            format!("cannot read the status: {err}"),
            "check the credentials and the API's reachability",
        ),
    });

    // O2: every peer has an IP (the NOTIFY target), and one shared key.
    let peers = read_peers(doctor, zone, &outgoing.peers, "O2", checks).await;
    let keys: BTreeSet<Option<&str>> = peers.iter().map(|p| p.peer.tsig_id.as_deref()).collect();
    let check = Check::named("O2", "peers and their TSIG key");
    let without_ip: Vec<&str> = peers
        .iter()
        .filter(|p| p.address().is_none())
        .map(|p| p.peer.name.as_str())
        .collect();
    checks.push(if peers.is_empty() {
        check.failure(
            "no peers: no secondary is told of changes",
            format!("cf-secondary-dns outgoing update --zone {name} --peers <peer id>"),
        )
    } else if !without_ip.is_empty() {
        check.failure(
            format!("no IP for {}: Cloudflare cannot NOTIFY it", without_ip.join(", ")),
            "cf-secondary-dns peers update --peer-id <id> --ip <secondary's address> --port 53",
        )
    } else if keys.len() > 1 && keys.iter().any(Option::is_some) {
        check.failure(
            "the peers use different TSIG keys (or some none): Cloudflare requires one shared key once any peer has one",
            "link the same TSIG key to every peer of the zone",
        )
    } else {
        check.ok(format!(
            "{} peer(s) with IPs, {}",
            peers.len(),
            if keys.iter().any(Option::is_some) { "one shared TSIG key" } else { "no TSIG" }
        ))
    });

    // O3: multi_provider, so the secondaries' apex NS records are served.
    let settings = doctor
        .client
        .get_dns_settings()
        .zone_id(&zone.id)
        .send()
        .await
        .and_then(ResponseExt::into_result);
    let check = Check::named("O3", "multi-provider");
    checks.push(match settings.map(|s| s.multi_provider) {
        Ok(Some(true)) => check.ok("on: the secondaries' apex NS records are served"),
        Ok(_) => check.warning(
            "off: Cloudflare ignores apex NS records for the secondaries",
            format!("cf-secondary-dns dns-settings update --zone {name} --multi-provider true"),
        ),
        Err(err) => check.skipped(format!("cannot read the DNS settings: {err}")),
    });

    // O4: SOA and a signed AXFR at Cloudflare's transfer address.
    let transfer_ip = doctor.options.addresses.outgoing_transfer;
    let limits = &doctor.options.limits;
    let key = peers.iter().find_map(|p| p.signing_key());
    let check = Check::named("O4", format!("transfer from Cloudflare ({transfer_ip})"));
    let mut cloudflare_serial = outgoing.soa_serial;
    checks.push(match probe::transfer(transfer_ip, name, TransferKind::Axfr, key, limits).await {
        Ok(transfer) => {
            cloudflare_serial = Some(transfer.serial);
            check.ok(format!(
                "AXFR: {} records, serial {}{}",
                transfer.records,
                transfer.serial,
                if key.is_some() { ", TSIG verified" } else { "" }
            ))
        }
        Err(err @ probe::ProbeError::Rcode { .. }) => check.warning(
            format!("{err}: this host is neither a peer's IP nor in an ACL"),
            "run the doctor from the secondary's host, or add this host as an ACL (acls create)",
        ),
        Err(err) => check.failure(
            err.to_string(),
            "make the key the peers share the one the secondaries use, and check this host reaches Cloudflare",
        ),
    });

    // O5: the serial each secondary serves.
    for peer in &peers {
        let check = Check::named("O5", format!("served by {}", peer.label()));
        let Some(address) = peer.address() else {
            checks.push(check.skipped("no IP"));
            continue;
        };
        checks.push(match (probe::query_soa(address, name, Transport::Udp, None, limits).await, cloudflare_serial) {
            (Ok(soa), Some(serial)) if soa.serial == serial => check.ok(format!("serial {serial}, as Cloudflare")),
            (Ok(soa), serial) => check.warning(
                format!(
                    "serial {}, Cloudflare has {}",
                    soa.serial,
                    serial.map_or("none".to_owned(), |s| s.to_string())
                ),
                format!(
                    "cf-secondary-dns outgoing force-notify --zone {name}, and let the secondary accept \
                     NOTIFY from {}",
                    doctor.options.addresses.transfer_sources.join(", ")
                ),
            ),
            (Err(err), _) => check.failure(
                err.to_string(),
                "the secondary does not answer for the zone: check its address and configuration",
            ),
        });
    }
}
