//! Says why a Cloudflare secondary zone does not transfer.
//!
//! Cloudflare's API never says why a transfer failed: `force_axfr` answers
//! `"OK"` and the incoming configuration has only a serial and two times.
//! The doctor joins what the API knows (the zone, its configuration, its
//! peers and their TSIG keys, *with their secrets*) with what the primary
//! answers when sent the very SOA query and AXFR/IXFR Cloudflare sends,
//! signed with the same key name, algorithm and secret. Only the source
//! address differs, and that difference is itself a diagnosis: a transfer
//! that works from here while Cloudflare stays behind means the primary's
//! allow-list refuses Cloudflare's addresses (which changed on 2026-12-01,
//! see [`CloudflareAddresses`]).
//!
//! ```no_run
//! use cloudflare_secondary_dns::Client;
//! use cloudflare_secondary_dns_doctor::{Doctor, Verdict};
//!
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! let doctor = Doctor::new(Client::from_env()?);
//! let report = doctor.zone_named("example.com", None).await?;
//! for check in report.checks.iter().filter(|c| c.verdict >= Verdict::Warning) {
//!     println!("{} {}: {}", check.id, check.title, check.seen);
//!     if let Some(todo) = &check.todo {
//!         println!("    → {todo}");
//!     }
//! }
//! println!("{}", report.summary());
//! # Ok(()) }
//! ```
//!
//! # The checks
//! Incoming (Cloudflare is secondary): **I1** the zone's type and status,
//! **I2** the incoming configuration, **I3** each peer has an IP and a port,
//! **I4** its TSIG key (algorithm, name, the secret's form: base64, hex or
//! neither, never its value), **I5** the primary answers SOA over UDP and
//! TCP, **I6** a signed AXFR (and an IXFR from Cloudflare's serial when the
//! peer has `ixfr_enable`), every message's TSIG verified, a TSIG error
//! named for its cause, **I7** the primary's serial against Cloudflare's in
//! RFC 1982 order, **I8** staleness against `auto_refresh_seconds` (and the
//! allow-list lines for BIND, NSD, Knot and PowerDNS when it is the cause),
//! **I9** the serial Cloudflare's name servers serve.
//!
//! Outgoing (Cloudflare is primary): **O1** the configuration and its
//! enabled status, **O2** the peers and their one shared TSIG key, **O3**
//! `multi_provider`, **O4** SOA and a signed AXFR at Cloudflare's transfer
//! address, **O5** the serial each secondary serves.
//!
//! Opt-in ([`DoctorOptions`]): **I10** a NOTIFY, signed with the peer's key,
//! to Cloudflare's NOTIFY targets (`send_notify`), and **I12** a forced
//! transfer waited for with the sdk's waiter (`fix`).
//!
//! # A fleet
//! [`Doctor::fleet`] diagnoses every zone with a transfer configuration, a
//! bounded number at a time, as a stream of reports in the order they
//! complete; API calls are paced by the client's pacer, and peers and keys
//! are read once per run. [`ZoneReport::trouble`] ranks them, and
//! [`ZoneReport::unchanged_since_cutoff`] marks a zone Cloudflare has not
//! changed since its old transfer addresses stopped working.
//!
//! # Bounds
//! Every probe waits at most [`ProbeLimits::timeout`] for an answer (5 s),
//! a transfer at most [`ProbeLimits::transfer_timeout`] (60 s) and
//! [`ProbeLimits::max_transfer_bytes`] (64 MiB); records are counted, never
//! kept. A primary that answers with a wrong id, a malformed or truncated
//! message, a bad TSIG, an endless stream, another zone or nothing gets a
//! typed [`ProbeError`], never a hang or a panic.

mod addresses;
mod incoming;
pub mod key;
mod outgoing;
mod peers;
pub mod probe;
mod report;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use cloudflare_secondary_dns::extras::zones::{FindZoneError, ZoneListError, ZoneQuery};
use cloudflare_secondary_dns::types::Zone;
use cloudflare_secondary_dns::types::{Peer, Tsig};
use cloudflare_secondary_dns::{
    AccountIdentifier, ApiError, Client, ErrorKind, ResponseExt, ZoneIdentifier, ZoneType,
};
use futures_util::{Stream, StreamExt};
use time::OffsetDateTime;

pub use addresses::CloudflareAddresses;
pub use probe::{ProbeError, ProbeLimits, TsigFailure};
pub use report::{Check, Direction, Verdict, ZoneReport};

/// What the doctor may do, and where it looks.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DoctorOptions {
    /// Timeouts and the transfer cap.
    pub limits: ProbeLimits,
    /// Cloudflare's addresses (the published ones by default); tests point
    /// [`outgoing_transfer`](CloudflareAddresses::outgoing_transfer) at loopback.
    pub addresses: CloudflareAddresses,
    /// Where to ask for the serial Cloudflare serves (I9). `None`: the
    /// zone's name servers, port 53, through the system's resolver.
    pub served_by: Option<Vec<SocketAddr>>,
    /// The time staleness is judged at (`None`: now).
    pub now: Option<OffsetDateTime>,
    /// I10 (opt-in): send a NOTIFY, signed with the peer's key, to
    /// Cloudflare's NOTIFY targets, as the primary would.
    pub send_notify: bool,
    /// Where I10 sends it (`None`: Cloudflare's published NOTIFY targets,
    /// port 53).
    pub notify_to: Option<Vec<SocketAddr>>,
    /// I12 (opt-in): force a transfer and wait up to this long for
    /// Cloudflare to check the primary again. It changes nothing but the
    /// zone's serial at Cloudflare.
    pub fix: Option<std::time::Duration>,
}

impl Default for DoctorOptions {
    fn default() -> Self {
        DoctorOptions {
            limits: ProbeLimits::default(),
            addresses: CloudflareAddresses::published().clone(),
            served_by: None,
            now: None,
            send_notify: false,
            notify_to: None,
            fix: None,
        }
    }
}

impl DoctorOptions {
    /// Sets the timeouts and the transfer cap.
    pub fn limits(mut self, limits: ProbeLimits) -> Self {
        self.limits = limits;
        self
    }
    /// Sets where Cloudflare transfers from and to.
    pub fn addresses(mut self, addresses: CloudflareAddresses) -> Self {
        self.addresses = addresses;
        self
    }
    /// Sets Cloudflare's transfer address for outgoing zones (O4).
    pub fn outgoing_transfer(mut self, address: SocketAddr) -> Self {
        self.addresses.outgoing_transfer = address;
        self
    }
    /// Sets where the served serial is asked (I9).
    pub fn served_by(mut self, servers: Vec<SocketAddr>) -> Self {
        self.served_by = Some(servers);
        self
    }
    /// Sends a NOTIFY to `targets` (I10); `None` for Cloudflare's.
    pub fn send_notify(mut self, targets: Option<Vec<SocketAddr>>) -> Self {
        self.send_notify = true;
        self.notify_to = targets;
        self
    }
    /// Forces a transfer and waits up to `timeout` for it (I12).
    pub fn fix(mut self, timeout: std::time::Duration) -> Self {
        self.fix = Some(timeout);
        self
    }
    /// Judges staleness at `now`.
    pub fn now(mut self, now: OffsetDateTime) -> Self {
        self.now = Some(now);
        self
    }
}

/// Diagnoses zones: reads them through the API (paced by the client's
/// pacer) and probes their primaries or secondaries over DNS.
#[derive(Clone, Debug)]
pub struct Doctor {
    client: Client,
    options: DoctorOptions,
    /// Account objects read during one fleet run (zones share peers and
    /// keys); `None` outside one, so a long-lived doctor never answers
    /// from a stale copy.
    cache: Option<Arc<AccountCache>>,
}

/// Peers and TSIG keys by id, read once per fleet run.
#[derive(Debug, Default)]
pub(crate) struct AccountCache {
    pub peers: Mutex<HashMap<String, Peer>>,
    pub tsigs: Mutex<HashMap<String, Tsig>>,
}

/// The default number of zones a fleet run diagnoses at once (their API
/// calls are paced by the client's pacer whatever this is; it bounds the
/// DNS probes in flight).
pub const DEFAULT_FLEET_CONCURRENCY: usize = 8;

impl Doctor {
    /// A doctor with the default options.
    pub fn new(client: Client) -> Self {
        Doctor {
            client,
            options: DoctorOptions::default(),
            cache: None,
        }
    }

    /// Every zone `query` selects that has a transfer configuration (or is
    /// a secondary zone without one), diagnosed `concurrency` at a time, in
    /// the order they complete. Zones are listed page by page as the stream
    /// is polled; peers and keys are read once for the whole run. A failed
    /// list ends the stream with its error.
    pub fn fleet(
        &self,
        query: ZoneQuery,
        concurrency: usize,
    ) -> impl Stream<Item = Result<ZoneReport, ZoneListError>> + '_ {
        let doctor = Doctor {
            cache: Some(Arc::default()),
            ..self.clone()
        };
        let doctor = Arc::new(doctor);
        self.client
            .all_zones(query)
            .map(move |zone| {
                let doctor = doctor.clone();
                async move {
                    match zone {
                        Ok(zone) => Ok(doctor.diagnose(zone).await),
                        Err(err) => Err(err),
                    }
                }
            })
            .buffer_unordered(concurrency.max(1))
            .filter(|report| {
                let keep = !matches!(report, Ok(r) if r.direction == Direction::None);
                async move { keep }
            })
    }

    /// Replaces the options.
    pub fn with_options(mut self, options: DoctorOptions) -> Self {
        self.options = options;
        self
    }

    /// The options in force.
    pub fn options(&self) -> &DoctorOptions {
        &self.options
    }

    /// Diagnoses the zone named `name` (found with one list call, in
    /// `account` when given).
    pub async fn zone_named(
        &self,
        name: &str,
        account: Option<&AccountIdentifier>,
    ) -> Result<ZoneReport, FindZoneError> {
        let zone = self.client.find_zone(name, account).await?;
        Ok(self.diagnose(zone).await)
    }

    /// Diagnoses the zone `zone_id`. Every failure, of the API or of DNS,
    /// is a check in the report; a zone that cannot be read is one failed
    /// check.
    pub async fn zone(&self, zone_id: &ZoneIdentifier) -> ZoneReport {
        let sent = self.client.get_zone().zone_id(zone_id).send().await;
        match sent.and_then(ResponseExt::into_result) {
            Ok(zone) => self.diagnose(zone).await,
            Err(err) => self.unreadable(zone_id.as_str(), &err),
        }
    }

    fn unreadable(&self, zone_id: &str, err: &ApiError) -> ZoneReport {
        let check = Check::named("I1", "zone").failure(
            format!("cannot read the zone: {err}"),
            match err.kind() {
                ErrorKind::NotFound => "check the zone id (zones list)",
                _ => "check the credentials and the API's reachability",
            },
        );
        ZoneReport {
            zone_id: zone_id.to_owned(),
            zone_name: None,
            direction: Direction::None,
            checks: vec![check],
            unchanged_since_cutoff: false,
        }
    }

    /// Diagnoses a zone already read.
    pub async fn diagnose(&self, zone: Zone) -> ZoneReport {
        let mut report = ZoneReport {
            zone_id: zone.id.clone(),
            zone_name: Some(zone.name.clone()),
            direction: Direction::None,
            checks: Vec::new(),
            unchanged_since_cutoff: false,
        };
        let secondary = zone.type_ == Some(ZoneType::Secondary);
        let incoming = if secondary || zone.type_.is_none() {
            self.read(self.client.get_incoming().zone_id(&zone.id).send().await)
        } else {
            Err(None)
        };
        match incoming {
            Ok(config) => {
                report.direction = Direction::Incoming;
                report.unchanged_since_cutoff = incoming::unchanged_since_cutoff(self, &config);
                incoming::diagnose(self, &zone, config, &mut report.checks).await;
                return report;
            }
            Err(Some(err)) if err.kind() != ErrorKind::NotFound => {
                report.direction = Direction::Incoming;
                report.checks.push(incoming::zone_check(&zone));
                report
                    .checks
                    .push(Check::named("I2", "incoming configuration").failure(
                        format!("cannot read it: {err}"),
                        "check the credentials and the API's reachability",
                    ));
                return report;
            }
            _ if secondary => {
                report.direction = Direction::Incoming;
                report.checks.push(incoming::zone_check(&zone));
                report
                    .checks
                    .push(Check::named("I2", "incoming configuration").failure(
                    "none: the zone has no incoming configuration, so Cloudflare transfers nothing",
                    format!(
                        "create it: cf-secondary-dns incoming create --zone {} --peers <peer id>",
                        zone.name
                    ),
                ));
                return report;
            }
            _ => {}
        }
        match self.read(self.client.get_outgoing().zone_id(&zone.id).send().await) {
            Ok(config) => {
                report.direction = Direction::Outgoing;
                outgoing::diagnose(self, &zone, config, &mut report.checks).await;
            }
            Err(Some(err)) if err.kind() != ErrorKind::NotFound => {
                report.direction = Direction::Outgoing;
                report
                    .checks
                    .push(Check::named("O1", "outgoing configuration").failure(
                        format!("cannot read it: {err}"),
                        "check the credentials and the API's reachability",
                    ));
            }
            _ => {
                let kind = zone.type_.as_ref().map_or("-", ZoneType::as_str);
                report.checks.push(Check::named("I1", "zone").warning(
                    format!("a {kind} zone with neither an incoming nor an outgoing configuration"),
                    "nothing transfers: configure incoming (a secondary zone) or outgoing \
                     (a full zone) transfers",
                ));
            }
        }
        report
    }

    /// A call's resource, or its error (`None` when there was none to read).
    fn read<T: ResponseExt>(
        &self,
        sent: Result<T, ApiError>,
    ) -> Result<T::Result, Option<ApiError>> {
        sent.and_then(ResponseExt::into_result).map_err(Some)
    }

    /// The zone's account, for its peers and keys.
    fn account(&self, zone: &Zone) -> Option<AccountIdentifier> {
        zone.account
            .as_ref()
            .and_then(|account| account.id.as_deref())
            .and_then(|id| id.parse().ok())
    }

    fn now(&self) -> OffsetDateTime {
        self.options.now.unwrap_or_else(OffsetDateTime::now_utc)
    }
}
