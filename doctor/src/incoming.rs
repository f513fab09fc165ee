//! The checks of a zone Cloudflare is secondary for (I1–I9).

use std::net::SocketAddr;
use std::time::Duration;

use cloudflare_secondary_dns::types::{Incoming, Zone};
use cloudflare_secondary_dns::{ZoneStatus, ZoneType};
use domain::base::Serial;

use crate::Doctor;
use crate::key::{Decoding, KeyAlgorithm, SecretForm};
use crate::peers::{PeerFacts, read_peers};
use crate::probe::{
    self, Answered, ProbeError, SoaAnswer, Transfer, TransferKind, Transport, TsigFailure,
};
use crate::report::{Check, Verdict};

/// Cloudflare's refresh when `auto_refresh_seconds` is not set.
const DEFAULT_REFRESH: u32 = 86_400;

pub(crate) async fn diagnose(
    doctor: &Doctor,
    zone: &Zone,
    incoming: Incoming,
    checks: &mut Vec<Check>,
) {
    checks.push(zone_check(zone));
    checks.push(config_check(zone, &incoming));
    let peers = read_peers(doctor, zone, &incoming.peers, "I3", checks).await;
    // The primary's serial, from the first peer that gave one.
    let mut primary: Option<(u32, bool)> = None;
    for peer in &peers {
        checks.push(peer_check(peer));
        checks.push(key_check(peer));
        let Some(address) = peer.address() else {
            continue;
        };
        let (reachability, soa) = soa_check(doctor, peer, address, &zone.name).await;
        checks.push(reachability);
        let (transfer_check, transfer) =
            transfer_checks(doctor, peer, address, &zone.name, incoming.soa_serial).await;
        checks.push(transfer_check);
        if primary.is_none() {
            primary = transfer
                .map(|t| (t.serial, true))
                .or(soa.map(|soa| (soa.serial, false)));
        }
    }
    checks.push(serial_check(primary.map(|p| p.0), incoming.soa_serial));
    checks.push(staleness_check(doctor, zone, &incoming, primary, &peers));
    checks.push(served_check(doctor, zone, incoming.soa_serial).await);
    if doctor.options.send_notify {
        checks.push(notify_check(doctor, zone, primary.map(|p| p.0), &peers).await);
    }
    if let Some(timeout) = doctor.options.fix {
        checks.push(fix_check(doctor, zone, &incoming, timeout).await);
    }
}

/// I10: a NOTIFY to Cloudflare's targets, signed as the primary signs it.
async fn notify_check(
    doctor: &Doctor,
    zone: &Zone,
    serial: Option<u32>,
    peers: &[PeerFacts],
) -> Check {
    let check = Check::named("I10", "NOTIFY to Cloudflare");
    let targets: Vec<SocketAddr> = match &doctor.options.notify_to {
        Some(targets) => targets.clone(),
        None => doctor
            .options
            .addresses
            .notify_targets
            .iter()
            .filter_map(|ip| ip.parse::<std::net::IpAddr>().ok())
            .map(|ip| SocketAddr::new(ip, 53))
            .collect(),
    };
    let key = peers.iter().find_map(PeerFacts::signing_key);
    let serial = serial.unwrap_or_default();
    let (mut acknowledged, mut refused, mut silent) = (Vec::new(), Vec::new(), Vec::new());
    for target in targets {
        match probe::notify(target, &zone.name, serial, key, &doctor.options.limits).await {
            Ok(()) => acknowledged.push(target.to_string()),
            Err(err @ (ProbeError::Rcode { .. } | ProbeError::Tsig(_))) => {
                refused.push(format!("{target}: {err}"))
            }
            Err(err) => silent.push(format!("{target}: {err}")),
        }
    }
    if !refused.is_empty() {
        return check.failure(
            format!("refused: {}", refused.join("; ")),
            format!(
                "Cloudflare takes NOTIFYs only from a peer's IP or an ACL's range: run this from \
                 the primary, or allow the address it sends from: cf-secondary-dns acls create \
                 --name notify-source --ip-range <its /24 or /64> (zone {})",
                zone.name
            ),
        );
    }
    if acknowledged.is_empty() {
        return check.warning(
            format!("no answer: {}", silent.join("; ")),
            "check that this host reaches Cloudflare's NOTIFY targets over UDP port 53",
        );
    }
    check.ok(format!("acknowledged by {}", acknowledged.join(", ")))
}

/// I12: force a transfer and wait for Cloudflare to check the primary.
async fn fix_check(doctor: &Doctor, zone: &Zone, before: &Incoming, timeout: Duration) -> Check {
    let check = Check::named("I12", "forced transfer");
    let forced = doctor.client.force_axfr().zone_id(&zone.id).send().await;
    if let Err(err) = forced {
        return check.failure(
            format!("force_axfr: {err}"),
            "check the credentials' permissions",
        );
    }
    let waited = doctor
        .client
        .wait_for_transfer()
        .zone_id(&zone.id)
        .refreshed_since(before)
        .timeout(timeout)
        .poll_interval(Duration::from_millis(500), Duration::from_secs(5))
        .wait()
        .await;
    match waited {
        Ok(after) if after.soa_serial != before.soa_serial => check.ok(format!(
            "transferred: serial {} (was {})",
            after
                .soa_serial
                .map_or("none".to_owned(), |s| s.to_string()),
            before
                .soa_serial
                .map_or("none".to_owned(), |s| s.to_string())
        )),
        Ok(after) => check.warning(
            format!(
                "checked at {}; the serial is still {}",
                after.checked_time.as_ref().map_or("-", |t| t.as_str()),
                after
                    .soa_serial
                    .map_or("none".to_owned(), |s| s.to_string())
            ),
            "Cloudflare asked and the primary had nothing newer (or refused it: see I8)",
        ),
        Err(err) => check.failure(
            format!("Cloudflare reports OK but: {err}"),
            "the transfer did not arrive: see the failures above",
        ),
    }
}

/// Whether Cloudflare's last recorded change of the zone predates the day
/// its old transfer addresses stopped working (and that day has passed).
pub(crate) fn unchanged_since_cutoff(doctor: &Doctor, incoming: &Incoming) -> bool {
    let cutoff = doctor
        .options
        .addresses
        .old_sources_until
        .midnight()
        .assume_utc();
    let modified = incoming.modified_time.as_ref().and_then(|t| t.time());
    modified.is_some_and(|m| m < cutoff) && doctor.now() >= cutoff
}

/// I1: a secondary zone, and its status.
pub(crate) fn zone_check(zone: &Zone) -> Check {
    let check = Check::named("I1", "zone type and status");
    let kind = zone.type_.as_ref().map_or("-", ZoneType::as_str);
    let status = zone.status.as_ref().map_or("-", ZoneStatus::as_str);
    if zone.type_ != Some(ZoneType::Secondary) {
        return check.failure(
            format!("a {kind} zone: only a secondary zone takes its records from a primary"),
            format!(
                "convert it: cf-secondary-dns zones convert --zone {} --to secondary",
                zone.name
            ),
        );
    }
    match &zone.status {
        Some(ZoneStatus::Active) => check.ok(format!("secondary, {status}")),
        Some(ZoneStatus::Pending) | Some(ZoneStatus::Initializing) => check.warning(
            format!(
                "secondary, {status}: the registrar does not list Cloudflare's name servers yet"
            ),
            format!(
                "set the name servers at {}'s registrar: {}",
                zone.name,
                zone.name_servers.join(", ")
            ),
        ),
        _ => check.warning(
            format!("secondary, {status}"),
            "Cloudflare answers only for an active zone: check its name servers at the registrar",
        ),
    }
}

/// I2: the configuration's name, peers and refresh.
fn config_check(zone: &Zone, incoming: &Incoming) -> Check {
    let check = Check::named("I2", "incoming configuration");
    let same_name = incoming
        .name
        .trim_end_matches('.')
        .eq_ignore_ascii_case(&zone.name);
    let refresh = incoming.auto_refresh_seconds.unwrap_or(DEFAULT_REFRESH);
    let seen = format!(
        "{} peer(s), refresh every {refresh} s{}",
        incoming.peers.len(),
        if incoming.auto_refresh_seconds.is_none() {
            " (Cloudflare's default)"
        } else {
            ""
        }
    );
    if incoming.peers.is_empty() {
        return check.failure(
            "no peers: Cloudflare has no primary to transfer from",
            format!(
                "link the primary: cf-secondary-dns incoming update --zone {} --peers <peer id>",
                zone.name
            ),
        );
    }
    if !same_name {
        return check.failure(
            format!(
                "{seen}, but named {:?}, not the zone {}",
                incoming.name, zone.name
            ),
            format!("update it with --name {}.", zone.name),
        );
    }
    if incoming.peers.len() > 30 || refresh < 300 {
        return check.failure(
            format!("{seen}: outside Cloudflare's limits (1 to 30 peers, refresh ≥ 300 s)"),
            "update the configuration within the limits",
        );
    }
    check.ok(seen)
}

/// I3: an IP and a port.
fn peer_check(peer: &PeerFacts) -> Check {
    let check = Check::named("I3", peer.label());
    let id = &peer.peer.id;
    match (&peer.peer.ip, peer.peer.port) {
        (None, _) => check.failure(
            "no IP: Cloudflare does not know where the primary is (a peer made by create has only a name)",
            format!("cf-secondary-dns peers update --peer-id {id} --ip <primary's address> --port 53"),
        ),
        (Some(ip), _) if ip.addr().is_none() => check.failure(
            format!("the IP {ip} is not an address"),
            format!("cf-secondary-dns peers update --peer-id {id} --ip <primary's address>"),
        ),
        (Some(ip), None) => check.warning(
            format!("{ip}, no port (probed at 53)"),
            format!("set it: cf-secondary-dns peers update --peer-id {id} --port 53"),
        ),
        (Some(ip), Some(port)) => check.ok(format!(
            "{ip} port {port}, IXFR {}",
            if peer.peer.ixfr_enable == Some(true) { "on" } else { "off" }
        )),
    }
}

/// I4: the key's algorithm, name and secret's form.
fn key_check(peer: &PeerFacts) -> Check {
    let check = Check::named("I4", format!("TSIG key of {}", peer.label()));
    let Some(lint) = &peer.key else {
        return match &peer.key_error {
            Some(err) => check.failure(err.clone(), "relink an existing TSIG key to the peer"),
            None => check.skipped("the peer has no TSIG key: transfers are unsigned"),
        };
    };
    let Some(algorithm) = lint.algorithm else {
        return check.failure(
            format!("unknown algorithm {:?}", lint.algo),
            "use one the primary knows, e.g. hmac-sha256: cf-secondary-dns tsigs update --algo hmac-sha256.",
        );
    };
    if let Some(problem) = &lint.name_problem {
        return check.failure(
            format!("the key's name {:?}: {problem}", lint.name),
            "name the key exactly as the primary does",
        );
    }
    let seen = format!(
        "{} {}, secret {}",
        lint.name,
        algorithm.as_str(),
        lint.secret.describe()
    );
    match &lint.secret {
        SecretForm::Empty | SecretForm::Neither { .. } => check.failure(
            seen,
            "store the secret as base64, as the primary's key file has it (tsigs update --secret-file)",
        ),
        SecretForm::Hex { .. } => check.warning(
            seen,
            "primaries hold TSIG secrets as base64; if the transfer (I6) works only with the \
             secret read as hex, store its base64 form at Cloudflare",
        ),
        SecretForm::Base64 { .. } if algorithm == KeyAlgorithm::HmacMd5 => check.warning(
            seen,
            "hmac-md5 is obsolete and cannot be tested here: move the key to hmac-sha256",
        ),
        SecretForm::Base64 { .. } => check.ok(seen),
    }
}

/// I5: SOA over UDP and TCP, signed as Cloudflare signs it.
async fn soa_check(
    doctor: &Doctor,
    peer: &PeerFacts,
    address: SocketAddr,
    zone: &str,
) -> (Check, Option<SoaAnswer>) {
    let check = Check::named("I5", format!("SOA at {} ({address})", peer.label()));
    let limits = &doctor.options.limits;
    let key = peer.signing_key();
    let udp = probe::query_soa(address, zone, Transport::Udp, key, limits).await;
    let tcp = probe::query_soa(address, zone, Transport::Tcp, key, limits).await;
    let answered = |r: &Result<SoaAnswer, ProbeError>| {
        !matches!(
            r,
            Err(ProbeError::TimedOut { .. }
                | ProbeError::Unreachable { .. }
                | ProbeError::Closed { .. })
        )
    };
    let soa = tcp.as_ref().ok().or(udp.as_ref().ok()).copied();
    let verdict = match (&udp, &tcp) {
        (Ok(u), Ok(t)) if u.authoritative && t.authoritative => check.ok(format!(
            "serial {} over UDP and TCP, authoritative",
            t.serial
        )),
        (Ok(_), Ok(t)) => check.warning(
            format!("serial {} but not authoritative (no AA bit)", t.serial),
            "the primary answers from a cache or a forwarder: point the peer at the primary itself",
        ),
        (u, t) if answered(u) && !answered(t) => check.failure(
            format!("UDP answers but TCP does not ({}): transfers use TCP", t.as_ref().err().map(ToString::to_string).unwrap_or_default()),
            format!("open TCP port {} on the primary (firewall) to Cloudflare's addresses", address.port()),
        ),
        (u, t) if !answered(u) && !answered(t) => check.failure(
            format!(
                "unreachable over UDP and TCP: {}",
                match t {
                    // Said once: "unreachable over …: connection refused".
                    Err(ProbeError::Unreachable { detail }) => detail.clone(),
                    other => other.as_ref().err().map(ToString::to_string).unwrap_or_default(),
                }
            ),
            "check the peer's IP and port, and that the primary listens and is not firewalled",
        ),
        (_, Err(ProbeError::Tsig(failure))) | (Err(ProbeError::Tsig(failure)), _) => check.ok(format!(
            "answers over UDP and TCP; its TSIG verdict, {failure}, is in I6"
        )),
        (_, Err(err @ ProbeError::Rcode { .. })) | (Err(err @ ProbeError::Rcode { .. }), _) => {
            rcode_failure(check, err, zone)
        }
        (u, t) => check.failure(
            format!(
                "UDP: {}; TCP: {}",
                outcome(u),
                outcome(t)
            ),
            "the primary's answers are not usable DNS answers for the zone: check what listens there",
        ),
    };
    (verdict, soa)
}

fn outcome(result: &Result<SoaAnswer, ProbeError>) -> String {
    match result {
        Ok(soa) => format!("serial {}", soa.serial),
        Err(err) => err.to_string(),
    }
}

fn rcode_failure(check: crate::report::CheckBuilder, err: &ProbeError, zone: &str) -> Check {
    let todo = match err {
        ProbeError::Rcode { rcode } if rcode == "REFUSED" => format!(
            "the primary refuses this host: allow it for the test, and Cloudflare's addresses, \
             in its configuration of {zone}"
        ),
        _ => format!("the primary is not authoritative for {zone}: configure the zone there"),
    };
    check.failure(err.to_string(), todo)
}

/// I6: the signed AXFR, then IXFR from Cloudflare's serial when enabled.
async fn transfer_checks(
    doctor: &Doctor,
    peer: &PeerFacts,
    address: SocketAddr,
    zone: &str,
    cloudflare_serial: Option<u32>,
) -> (Check, Option<Transfer>) {
    let signed = if peer.peer.tsig_id.is_some() {
        "signed "
    } else {
        ""
    };
    let check = Check::named("I6", format!("{signed}transfer from {}", peer.label()));
    if let Some(why) = peer.unsigned_for_cause() {
        return (
            check.warning(
                format!("cannot test: {why}"),
                "Cloudflare signs its transfers with this key; fix the key (I4) to test them",
            ),
            None,
        );
    }
    let limits = &doctor.options.limits;
    let keys: Vec<_> = peer
        .key
        .iter()
        .flat_map(|k| k.signing_keys.iter())
        .collect();
    let first = keys.first().copied();
    let axfr = probe::transfer(address, zone, TransferKind::Axfr, first, limits).await;
    let axfr = match axfr {
        Ok(transfer) => transfer,
        Err(err) => {
            // A wrong secret: is it the same bytes written as hex?
            if let (ProbeError::Tsig(TsigFailure::BadSig | TsigFailure::Other { .. }), Some(hex)) =
                (&err, keys.get(1))
                && let Ok(transfer) =
                    probe::transfer(address, zone, TransferKind::Axfr, Some(hex), limits).await
            {
                return (
                    check.failure(
                        format!(
                            "{err} with the secret read as {}; the transfer works with it read as {} \
                             ({} records, serial {}): Cloudflare holds the key in hex where \
                             the primary has these bytes",
                            first.map_or(Decoding::Base64, |k| k.decoding),
                            hex.decoding,
                            transfer.records,
                            transfer.serial
                        ),
                        "store the key's base64 form at Cloudflare (e.g. `xxd -r -p key.hex | base64`, \
                         then cf-secondary-dns tsigs update --secret-file), as the primary has it",
                    ),
                    Some(transfer),
                );
            }
            return (transfer_failure(check, &err, peer, zone), None);
        }
    };
    let signed = if first.is_some() {
        ", every message's TSIG verified"
    } else {
        " (unsigned: the peer has no key)"
    };
    let mut seen = format!(
        "AXFR: {} records in {} message(s), serial {}{signed}",
        axfr.records, axfr.messages, axfr.serial
    );
    let (Some(true), Some(since)) = (peer.peer.ixfr_enable, cloudflare_serial) else {
        return (check.ok(seen), Some(axfr));
    };
    match probe::transfer(address, zone, TransferKind::Ixfr { since }, first, limits).await {
        Ok(ixfr) if ixfr.answered == Answered::Axfr => (
            check.warning(
                format!("{seen}; IXFR from {since} was answered with the whole zone"),
                "the primary falls back to AXFR (PowerDNS always does): ixfr_enable gains nothing; \
                 turn it off on the peer or accept full transfers",
            ),
            Some(axfr),
        ),
        Ok(ixfr) => {
            seen.push_str(&format!(
                "; IXFR from {since}: {}",
                match ixfr.answered {
                    Answered::UpToDate => "up to date".to_owned(),
                    _ => format!("{} records", ixfr.records),
                }
            ));
            (check.ok(seen), Some(axfr))
        }
        Err(err) => (
            check.warning(
                format!("{seen}; IXFR from {since} failed: {err}"),
                "Cloudflare asks IXFR first for this peer: fix the primary's IXFR or turn ixfr_enable off",
            ),
            Some(axfr),
        ),
    }
}

fn transfer_failure(
    check: crate::report::CheckBuilder,
    err: &ProbeError,
    peer: &PeerFacts,
    zone: &str,
) -> Check {
    let key = peer.key.as_ref();
    let key_name = key.map_or("-", |k| k.name.as_str());
    let algo = key
        .and_then(|k| k.algorithm)
        .map_or("-", KeyAlgorithm::as_str);
    let tsig_id = peer.peer.tsig_id.as_deref().unwrap_or("<tsig id>");
    let todo = match err {
        ProbeError::Tsig(TsigFailure::BadKey) => format!(
            "the primary has no key named {key_name} with {algo}: name the key and choose the \
             algorithm exactly as the primary's configuration does (tsigs update --tsig-id {tsig_id} --name … --algo …)"
        ),
        ProbeError::Tsig(TsigFailure::BadSig | TsigFailure::Other { .. }) => format!(
            "the secret differs: copy the primary's secret for {key_name} (base64) into Cloudflare: \
             cf-secondary-dns tsigs update --tsig-id {tsig_id} --name {key_name} --algo {algo}. \
             --secret-file FILE"
        ),
        ProbeError::Tsig(TsigFailure::BadTime { .. }) => {
            "set the primary's clock right (NTP): TSIG allows 300 s".to_owned()
        }
        ProbeError::Tsig(TsigFailure::Unsigned) => format!(
            "the primary transfers {zone} without checking the key: configure the key for the zone's transfers"
        ),
        ProbeError::Tsig(TsigFailure::AnswerInvalid { .. }) => {
            "the primary signs with another secret than Cloudflare's: make both the same".to_owned()
        }
        ProbeError::Rcode { rcode } if rcode == "REFUSED" || rcode == "NOTAUTH" => format!(
            "the primary refuses the transfer: its allow-transfer for {zone} must name the key \
             (or this host, for the test) and Cloudflare's transfer addresses"
        ),
        ProbeError::Rcode { .. } => {
            format!("the primary does not serve {zone}: configure the zone there")
        }
        ProbeError::TimedOut { .. } | ProbeError::Unreachable { .. } => {
            "the primary does not answer transfers: check that TCP is open and it listens"
                .to_owned()
        }
        ProbeError::TooLarge { .. } => {
            "the zone is larger than the doctor's cap: raise it (--max-transfer-mb)".to_owned()
        }
        _ => "the primary's transfer is not usable: check its logs for the zone".to_owned(),
    };
    if matches!(err, ProbeError::TooLarge { .. }) {
        return check.warning(err.to_string(), todo);
    }
    check.failure(err.to_string(), todo)
}

/// I7: the primary's serial against Cloudflare's (RFC 1982).
fn serial_check(primary: Option<u32>, cloudflare: Option<u32>) -> Check {
    let check = Check::named("I7", "serials");
    match (primary, cloudflare) {
        (None, _) => check.skipped("no serial from the primary"),
        (Some(p), None) => check.warning(
            format!("primary {p}; Cloudflare has none: the zone was never transferred"),
            "see I8, or force a transfer: cf-secondary-dns incoming force-axfr --zone … --wait",
        ),
        (Some(p), Some(c)) if p == c => check.ok(format!("{p} on both")),
        (Some(p), Some(c)) if Serial(p) > Serial(c) => check.warning(
            format!("the primary is ahead: {p}, Cloudflare has {c}"),
            "see I8 for why Cloudflare is behind",
        ),
        (Some(p), Some(c)) if Serial(p) < Serial(c) => check.failure(
            format!("the primary's serial went backwards: {p}, Cloudflare has {c}"),
            format!(
                "Cloudflare transfers only a newer serial: raise the primary's above {c} \
                 (RFC 1982: in steps under 2^31)"
            ),
        ),
        (Some(p), Some(c)) => check.failure(
            format!("{p} and {c} are 2^31 apart: their order is undefined (RFC 1982)"),
            "raise the primary's serial by less than 2^31 past Cloudflare's",
        ),
    }
}

/// I8: how long since Cloudflare checked, and what a lag means.
fn staleness_check(
    doctor: &Doctor,
    zone: &Zone,
    incoming: &Incoming,
    primary: Option<(u32, bool)>,
    peers: &[PeerFacts],
) -> Check {
    let check = Check::named("I8", "staleness");
    let now = doctor.now();
    let refresh = incoming.auto_refresh_seconds.unwrap_or(DEFAULT_REFRESH);
    let checked = incoming.checked_time.as_ref().and_then(|t| t.time());
    let age = checked.map(|t| (now - t).whole_seconds().max(0));
    let checked_text = match (checked, age) {
        (Some(_), Some(age)) => format!(
            "checked {} ago ({})",
            human(age),
            incoming.checked_time.as_ref().map_or("", |t| t.as_str())
        ),
        _ => "never checked".to_owned(),
    };
    let Some((p, transferred_here)) = primary else {
        return check.skipped(format!(
            "no serial from the primary; Cloudflare {checked_text}"
        ));
    };
    let behind = incoming.soa_serial.is_none_or(|c| Serial(p) > Serial(c));
    if !behind {
        return check.ok(format!("up to date; {checked_text}"));
    }
    let addresses = &doctor.options.addresses;
    let key = peers
        .first()
        .and_then(|p| p.key.as_ref())
        .map(|k| k.name.as_str());
    let allow = addresses.allow_list_lines(&zone.name, key).join("\n");
    let sources = addresses.transfer_sources.join(", ");
    let since_cutoff = unchanged_since_cutoff(doctor, incoming);
    let recent = age.is_some_and(|age| age <= i64::from(refresh) + 300);
    if transferred_here && (recent || since_cutoff) {
        let why = if since_cutoff {
            format!(
                "; its serial has not moved since before {}, when Cloudflare's old transfer \
                 addresses stopped working",
                addresses.old_sources_until
            )
        } else {
            String::new()
        };
        return check.failure(
            format!(
                "Cloudflare {checked_text} and is still behind while the transfer works from \
                 this host: the primary refuses Cloudflare's addresses{why}"
            ),
            format!("allow Cloudflare's transfer sources ({sources}) on the primary:\n{allow}"),
        );
    }
    if !recent {
        return check.warning(
            format!("Cloudflare {checked_text}; it refreshes every {refresh} s"),
            format!(
                "send NOTIFY to {} or force a transfer (incoming force-axfr --zone {} --wait)",
                addresses.notify_targets.join(", "),
                zone.name
            ),
        );
    }
    check.warning(
        format!(
            "Cloudflare {checked_text} and is behind; the transfer did not work from here either"
        ),
        "fix the failures above first",
    )
}

/// I9: the serial Cloudflare's name servers serve.
async fn served_check(doctor: &Doctor, zone: &Zone, cloudflare: Option<u32>) -> Check {
    let check = Check::named("I9", "served serial");
    let servers = match &doctor.options.served_by {
        Some(servers) => servers.clone(),
        None => resolve(&zone.name_servers, doctor.options.limits.timeout).await,
    };
    if servers.is_empty() {
        return check.skipped("no name server to ask");
    }
    let mut seen = Vec::new();
    let mut verdict = Verdict::Ok;
    for server in servers {
        match probe::query_soa(
            server,
            &zone.name,
            Transport::Udp,
            None,
            &doctor.options.limits,
        )
        .await
        {
            Ok(soa) if Some(soa.serial) == cloudflare => {
                seen.push(format!("{server}: {}", soa.serial))
            }
            Ok(soa) => {
                verdict = Verdict::Warning;
                seen.push(format!(
                    "{server}: {} (the API says {})",
                    soa.serial,
                    cloudflare.map_or("none".to_owned(), |c| c.to_string())
                ));
            }
            Err(err) => {
                verdict = Verdict::Warning;
                seen.push(format!("{server}: {err}"));
            }
        }
    }
    let seen = seen.join("; ");
    match verdict {
        Verdict::Ok => check.ok(seen),
        _ => check.warning(
            seen,
            "Cloudflare's name servers serve another serial than its API reports: propagation \
             inside Cloudflare takes a few minutes; report it if it stays",
        ),
    }
}

async fn resolve(names: &[String], wait: Duration) -> Vec<SocketAddr> {
    let mut addresses = Vec::new();
    for name in names {
        if let Ok(Ok(found)) =
            tokio::time::timeout(wait, tokio::net::lookup_host((name.as_str(), 53))).await
        {
            addresses.extend(found.take(1));
        }
    }
    addresses
}

fn human(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7_200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3_600),
        s => format!("{} days", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_compare_in_rfc_1982_order() {
        let verdict = |p, c| serial_check(Some(p), Some(c)).verdict;
        assert_eq!(verdict(7, 7), Verdict::Ok);
        assert_eq!(verdict(8, 7), Verdict::Warning);
        assert_eq!(verdict(6, 7), Verdict::Failure);
        // Wrapped past 2^32: numerically smaller, yet ahead.
        assert_eq!(verdict(5, u32::MAX - 5), Verdict::Warning);
        assert_eq!(verdict(u32::MAX - 5, 5), Verdict::Failure);
        // 2^31 apart: undefined.
        assert_eq!(verdict(0, 1 << 31), Verdict::Failure);
        assert!(
            serial_check(Some(0), Some(1 << 31))
                .seen
                .contains("undefined")
        );
        assert_eq!(serial_check(None, Some(1)).verdict, Verdict::Skipped);
    }
}
