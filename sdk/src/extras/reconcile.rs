//! Zone transfers as code: a desired state (TSIG keys, peers and ACLs by
//! name, zones with their incoming or outgoing configuration), the plan
//! that would make the live account so, and its ordered apply. No state
//! file: every plan reads the account as it is, so an interrupted apply is
//! finished by planning and applying again.
//!
//! ```no_run
//! use cloudflare_secondary_dns::extras::reconcile::{
//!     Desired, DesiredIncoming, DesiredPeer, DesiredZone,
//! };
//! use cloudflare_secondary_dns::{AccountIdentifier, Client};
//!
//! # async fn f(client: &Client, account: &AccountIdentifier) -> Result<(), Box<dyn std::error::Error>> {
//! let mut desired = Desired::default();
//! desired.peers.insert("bind-1".into(), DesiredPeer::at("192.0.2.53".parse()?, 53));
//! desired.zones.insert(
//!     "example.com".into(),
//!     DesiredZone::incoming(DesiredIncoming::from(vec!["bind-1".to_owned()])),
//! );
//! let plan = client.plan(account, &desired, false).await?;
//! for change in &plan.changes {
//!     println!("{change}");
//! }
//! client.apply(account, &plan, |change| println!("done: {change}")).await?;
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use futures_util::TryStreamExt;

use crate::extras::zones::{ZoneListError, ZoneQuery};
use crate::types::{
    Acl, AclInput, Incoming, IncomingInput, Outgoing, OutgoingInput, Peer, PeerCreate, PeerUpdate,
    Tsig, TsigInput, Zone, ZoneAccountRef, ZoneCreate,
};
use crate::{
    AccountIdentifier, ApiError, Client, ErrorKind, IpRange, PeerIp, ResponseExt, TransferStatus,
    ZoneType,
};

/// How many zones an apply changes at once.
pub const APPLY_CONCURRENCY: usize = 8;

/// A TSIG key as it should be (named by the map's key).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DesiredTsig {
    /// `hmac-sha256.`, as Cloudflare stores it.
    pub algorithm: String,
    /// The secret (its `Debug` is redacted).
    pub secret: crate::secret::TsigSecret,
}

impl DesiredTsig {
    /// A key of `algorithm` with `secret`.
    pub fn new(algorithm: impl Into<String>, secret: impl Into<crate::secret::TsigSecret>) -> Self {
        DesiredTsig {
            algorithm: algorithm.into(),
            secret: secret.into(),
        }
    }
}

/// A peer as it should be (named by the map's key).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DesiredPeer {
    /// Its address.
    pub ip: Option<PeerIp>,
    /// Its port.
    pub port: Option<u16>,
    /// IXFR on.
    pub ixfr: Option<bool>,
    /// Its TSIG key, by name.
    pub tsig: Option<String>,
}

impl DesiredPeer {
    /// A peer at `ip` and `port`.
    pub fn at(ip: PeerIp, port: u16) -> Self {
        DesiredPeer {
            ip: Some(ip),
            port: Some(port),
            ..Self::default()
        }
    }
}

/// A zone's incoming configuration as it should be.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DesiredIncoming {
    /// Its primaries, by peer name.
    pub peers: Vec<String>,
    /// How often Cloudflare refreshes (Cloudflare's default 86,400 s when unset).
    pub auto_refresh_seconds: Option<u32>,
}

impl From<Vec<String>> for DesiredIncoming {
    fn from(peers: Vec<String>) -> Self {
        DesiredIncoming {
            peers,
            auto_refresh_seconds: None,
        }
    }
}

/// A zone's outgoing configuration as it should be.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DesiredOutgoing {
    /// Its secondaries, by peer name.
    pub peers: Vec<String>,
    /// Enabled or disabled (left as it is when unset).
    pub enabled: Option<bool>,
}

impl From<Vec<String>> for DesiredOutgoing {
    fn from(peers: Vec<String>) -> Self {
        DesiredOutgoing {
            peers,
            enabled: None,
        }
    }
}

/// A zone as it should be (named by the map's key).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DesiredZone {
    /// Its type; a zone missing from the account is created with it.
    pub type_: Option<ZoneType>,
    /// Cloudflare is secondary.
    pub incoming: Option<DesiredIncoming>,
    /// Cloudflare is primary.
    pub outgoing: Option<DesiredOutgoing>,
    /// The zone's DNS settings that concern transfers (left as they are
    /// when unset).
    pub dns_settings: Option<DesiredDnsSettings>,
}

/// A zone's DNS settings that concern transfers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DesiredDnsSettings {
    /// Serve the secondaries' apex NS records (Cloudflare as primary).
    pub multi_provider: Option<bool>,
    /// Keep records edited at Cloudflare over transferred ones (Cloudflare
    /// as secondary).
    pub secondary_overrides: Option<bool>,
}

impl DesiredZone {
    /// A secondary zone transferring in.
    pub fn incoming(incoming: DesiredIncoming) -> Self {
        DesiredZone {
            type_: Some(ZoneType::Secondary),
            incoming: Some(incoming),
            ..Self::default()
        }
    }
    /// A zone transferring out.
    pub fn outgoing(outgoing: DesiredOutgoing) -> Self {
        DesiredZone {
            outgoing: Some(outgoing),
            ..Self::default()
        }
    }
}

/// The whole desired state of an account's zone transfers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Desired {
    /// TSIG keys by name.
    pub tsigs: BTreeMap<String, DesiredTsig>,
    /// Peers by name.
    pub peers: BTreeMap<String, DesiredPeer>,
    /// ACLs (their IP range) by name.
    pub acls: BTreeMap<String, IpRange>,
    /// Zones by name.
    pub zones: BTreeMap<String, DesiredZone>,
}

/// What a change is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Object {
    /// A TSIG key, by name.
    Tsig(String),
    /// A peer, by name.
    Peer(String),
    /// An ACL, by name.
    Acl(String),
    /// A zone, by name.
    Zone(String),
    /// A zone's incoming configuration.
    Incoming(String),
    /// A zone's outgoing configuration.
    Outgoing(String),
    /// A zone's outgoing transfers, enabled or not.
    OutgoingEnabled(String),
    /// A zone's DNS settings.
    DnsSettings(String),
}

impl Object {
    /// The zone it concerns, if any.
    pub fn zone(&self) -> Option<&str> {
        match self {
            Object::Zone(name)
            | Object::Incoming(name)
            | Object::Outgoing(name)
            | Object::OutgoingEnabled(name)
            | Object::DnsSettings(name) => Some(name),
            Object::Tsig(_) | Object::Peer(_) | Object::Acl(_) => None,
        }
    }
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Object::Tsig(name) => write!(f, "tsig {name}"),
            Object::Peer(name) => write!(f, "peer {name}"),
            Object::Acl(name) => write!(f, "acl {name}"),
            Object::Zone(name) => write!(f, "zone {name}"),
            Object::Incoming(name) => write!(f, "zone {name} incoming"),
            Object::Outgoing(name) => write!(f, "zone {name} outgoing"),
            Object::OutgoingEnabled(name) => write!(f, "zone {name} outgoing transfers"),
            Object::DnsSettings(name) => write!(f, "zone {name} dns settings"),
        }
    }
}

/// Create, update or delete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Made anew.
    Create,
    /// Changed in place.
    Update,
    /// Removed (only with pruning).
    Delete,
}

/// One field's change: `field: old → new`. A secret's values are never
/// kept: its `old` and `new` are `None`, and it reads `secret: (changes)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldChange {
    /// The field.
    pub field: &'static str,
    /// What it is (`None`: unset, or a new object).
    pub old: Option<String>,
    /// What it becomes.
    pub new: Option<String>,
}

impl fmt::Display for FieldChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".to_owned());
        if self.field == "secret" {
            return f.write_str("secret: (changes)");
        }
        write!(
            f,
            "{}: {} → {}",
            self.field,
            show(&self.old),
            show(&self.new)
        )
    }
}

/// One change of a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// What it is about.
    pub object: Object,
    /// What is done.
    pub action: Action,
    /// The fields that change (for a create, those it sets).
    pub fields: Vec<FieldChange>,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let action = match self.action {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        };
        write!(f, "{action} {}", self.object)?;
        if !self.fields.is_empty() {
            let fields: Vec<String> = self.fields.iter().map(ToString::to_string).collect();
            write!(f, " ({})", fields.join(", "))?;
        }
        Ok(())
    }
}

/// What the account holds now, as a plan read it.
#[derive(Clone, Debug, Default)]
struct Live {
    tsigs: BTreeMap<String, Tsig>,
    peers: BTreeMap<String, Peer>,
    acls: BTreeMap<String, Acl>,
    zones: BTreeMap<String, Zone>,
    incoming: BTreeMap<String, Incoming>,
    outgoing: BTreeMap<String, (Outgoing, Option<TransferStatus>)>,
    dns_settings: BTreeMap<String, crate::types::DnsSettings>,
}

/// A plan: the changes that make the account as desired, in the order they
/// are applied, and how many objects already are.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Plan {
    /// The changes, in apply order.
    pub changes: Vec<Change>,
    /// Objects the desired state names that need no change.
    pub unchanged: usize,
    /// Objects the account holds that the plan considered (for a pruning
    /// threshold).
    pub existing: usize,
    desired: Desired,
    live: Live,
}

impl Plan {
    /// No change at all.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// How many changes of `action`.
    pub fn count(&self, action: Action) -> usize {
        self.changes.iter().filter(|c| c.action == action).count()
    }

    /// `Plan: 2 to create, 1 to update, 0 to delete, 7 unchanged.`
    pub fn summary(&self) -> String {
        format!(
            "Plan: {} to create, {} to update, {} to delete, {} unchanged.",
            self.count(Action::Create),
            self.count(Action::Update),
            self.count(Action::Delete),
            self.unchanged
        )
    }
}

/// Why a plan or an apply stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReconcileError {
    /// A call failed.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The zone list stopped.
    #[error(transparent)]
    Zones(#[from] ZoneListError),
    /// The account holds several objects of one name: a name cannot say
    /// which is meant.
    #[error("the account has {count} {kind}s named {name:?}; rename or delete all but one")]
    DuplicateName {
        /// `tsig`, `peer` or `acl`.
        kind: &'static str,
        /// The name.
        name: String,
        /// How many.
        count: usize,
    },
    /// A name the desired state uses and does not define.
    #[error("{user} names {kind} {name:?}, which is not defined")]
    Undefined {
        /// What names it.
        user: String,
        /// `tsig` or `peer`.
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// A zone named in the desired state exists twice (in two accounts).
    #[error("{name} names several zones; the account's is not among them or is not alone")]
    AmbiguousZone {
        /// The zone's name.
        name: String,
    },
}

fn by_name<T>(
    items: Vec<T>,
    name: impl Fn(&T) -> &str,
    kind: &'static str,
) -> Result<BTreeMap<String, T>, ReconcileError> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for item in &items {
        *counts.entry(name(item).to_owned()).or_default() += 1;
    }
    if let Some((name, count)) = counts.into_iter().find(|(_, count)| *count > 1) {
        return Err(ReconcileError::DuplicateName { kind, name, count });
    }
    Ok(items
        .into_iter()
        .map(|item| (name(&item).to_owned(), item))
        .collect())
}

fn trimmed(zone: &str) -> String {
    zone.trim_end_matches('.').to_ascii_lowercase()
}

impl Client {
    /// Reads the account (its TSIG keys, peers and ACLs, and the zones
    /// `desired` names with their configurations) and returns the changes
    /// that make it as `desired`. What `desired` does not name is left
    /// alone unless `prune`, which deletes account objects it does not name
    /// and configurations of its zones that it leaves out.
    pub async fn plan(
        &self,
        account: &AccountIdentifier,
        desired: &Desired,
        prune: bool,
    ) -> Result<Plan, ReconcileError> {
        check_names(desired)?;
        let live = self.read_live(account, desired).await?;
        let tally = diff(desired, &live, prune);
        Ok(Plan {
            changes: tally.changes,
            unchanged: tally.unchanged,
            existing: live.tsigs.len() + live.peers.len() + live.acls.len(),
            desired: desired.clone(),
            live,
        })
    }

    async fn read_live(
        &self,
        account: &AccountIdentifier,
        desired: &Desired,
    ) -> Result<Live, ReconcileError> {
        let tsigs = self
            .list_tsigs()
            .account_id(account)
            .send()
            .await?
            .into_result()?;
        let peers = self
            .list_peers()
            .account_id(account)
            .send()
            .await?
            .into_result()?;
        let acls = self
            .list_acls()
            .account_id(account)
            .send()
            .await?
            .into_result()?;
        let mut live = Live {
            tsigs: by_name(tsigs, |t| &t.name, "tsig")?,
            peers: by_name(peers, |p| &p.name, "peer")?,
            acls: by_name(acls, |a| &a.name, "acl")?,
            ..Live::default()
        };
        if desired.zones.is_empty() {
            return Ok(live);
        }
        // One paged list for every zone the desired state names.
        let wanted: BTreeSet<String> = desired.zones.keys().map(|z| trimmed(z)).collect();
        let zones: Vec<Zone> = self
            .all_zones(ZoneQuery::new().account(*account))
            .try_collect()
            .await?;
        for zone in zones {
            let name = trimmed(&zone.name);
            if !wanted.contains(&name) {
                continue;
            }
            if live.zones.insert(name.clone(), zone).is_some() {
                return Err(ReconcileError::AmbiguousZone { name });
            }
        }
        for (name, zone) in &live.zones {
            let desired_zone = desired
                .zones
                .iter()
                .find(|(n, _)| trimmed(n) == *name)
                .map(|(_, z)| z);
            let secondary = zone.type_ == Some(ZoneType::Secondary);
            if secondary || desired_zone.is_some_and(|z| z.incoming.is_some()) {
                match self.get_incoming().zone_id(&zone.id).send().await {
                    Ok(read) => {
                        live.incoming.insert(name.clone(), read.into_result()?);
                    }
                    Err(err) if err.kind() == ErrorKind::NotFound => {}
                    Err(err) => return Err(err.into()),
                }
            }
            if desired_zone.is_some_and(|z| z.dns_settings.is_some()) {
                let settings = self.get_dns_settings().zone_id(&zone.id).send().await?;
                live.dns_settings
                    .insert(name.clone(), settings.into_result()?);
            }
            if !secondary {
                match self.get_outgoing().zone_id(&zone.id).send().await {
                    Ok(read) => {
                        let outgoing = read.into_result()?;
                        let status = self
                            .get_outgoing_status()
                            .zone_id(&zone.id)
                            .send()
                            .await?
                            .into_result()?;
                        live.outgoing.insert(name.clone(), (outgoing, Some(status)));
                    }
                    Err(err) if err.kind() == ErrorKind::NotFound => {}
                    Err(err) => return Err(err.into()),
                }
            }
        }
        Ok(live)
    }

    /// Applies `plan` in Cloudflare's order (TSIG keys, peers created by
    /// name then updated, ACLs; then each zone's own changes: the zone, its
    /// configuration, enable; deletes last), calling `landed` after each
    /// change. Zones go [`APPLY_CONCURRENCY`] at a time, each zone's changes
    /// in order; every call is paced by the client's pacer. A create whose
    /// answer is lost (a connection cut, a timeout, a 5xx) is looked for by
    /// name before it is sent again, so no object is made twice; an apply
    /// that stops is finished by a new plan and apply. The first failure
    /// stops it (the zones in flight finish their change).
    pub async fn apply(
        &self,
        account: &AccountIdentifier,
        plan: &Plan,
        landed: impl FnMut(&Change) + Send,
    ) -> Result<(), ReconcileError> {
        use futures_util::StreamExt;
        let landed = std::sync::Mutex::new(landed);
        let report = |change: &Change| {
            let mut landed = landed.lock().unwrap_or_else(|e| e.into_inner());
            landed(change);
        };
        let mut ids = Ids::from(&plan.live);
        let is_zone = |change: &Change| {
            change.action != Action::Delete
                && matches!(
                    change.object,
                    Object::Zone(_)
                        | Object::Incoming(_)
                        | Object::Outgoing(_)
                        | Object::OutgoingEnabled(_)
                        | Object::DnsSettings(_)
                )
        };
        // The account's objects first: zones name them.
        for change in plan
            .changes
            .iter()
            .filter(|c| !is_zone(c) && c.action != Action::Delete)
        {
            self.apply_one(account, plan, change, &mut ids).await?;
            report(change);
        }
        // Then each zone's changes, in order, several zones at once (by
        // index: a stream item without borrows keeps the future `Send`).
        let mut zones: Vec<(String, Vec<usize>)> = Vec::new();
        for (index, change) in plan.changes.iter().enumerate().filter(|(_, c)| is_zone(c)) {
            let zone = change.object.zone().unwrap_or_default().to_owned();
            match zones.iter_mut().find(|(name, _)| *name == zone) {
                Some((_, indices)) => indices.push(index),
                None => zones.push((zone, vec![index])),
            }
        }
        let ids_now = &ids;
        let report = &report;
        let mut running = futures_util::stream::iter(zones)
            .map(|(_, indices)| {
                let mut ids = ids_now.clone();
                async move {
                    for index in indices {
                        let change = &plan.changes[index];
                        self.apply_one(account, plan, change, &mut ids).await?;
                        report(change);
                    }
                    Ok::<_, ReconcileError>(())
                }
            })
            .buffer_unordered(APPLY_CONCURRENCY);
        while let Some(done) = running.next().await {
            done?;
        }
        drop(running);
        // Deletes last: configurations before the peers they name.
        for change in plan.changes.iter().filter(|c| c.action == Action::Delete) {
            self.apply_one(account, plan, change, &mut ids).await?;
            report(change);
        }
        Ok(())
    }

    async fn apply_one(
        &self,
        account: &AccountIdentifier,
        plan: &Plan,
        change: &Change,
        ids: &mut Ids,
    ) -> Result<(), ReconcileError> {
        let desired = &plan.desired;
        match (&change.object, change.action) {
            (Object::Tsig(name), Action::Create | Action::Update) => {
                let tsig = &desired.tsigs[name];
                let body = TsigInput::builder()
                    .name(name.as_str())
                    .algo(tsig.algorithm.as_str())
                    .secret(tsig.secret.clone());
                let made = match ids.tsigs.get(name) {
                    Some(id) => {
                        let sent = self
                            .update_tsig()
                            .account_id(account)
                            .tsig_id(id.as_str())
                            .body(body);
                        sent.send().await?.into_result()?.id
                    }
                    None => {
                        let sent = self
                            .create_tsig()
                            .account_id(account)
                            .body(body)
                            .send()
                            .await;
                        self.created(account, &change.object, sent, |t| t.id.clone())
                            .await?
                    }
                };
                ids.tsigs.insert(name.clone(), made);
            }
            (Object::Peer(name), Action::Create | Action::Update) => {
                let peer_id = match ids.peers.get(name) {
                    Some(id) => id.clone(),
                    None => {
                        let body = PeerCreate::builder().name(name.as_str());
                        let sent = self
                            .create_peer()
                            .account_id(account)
                            .body(body)
                            .send()
                            .await;
                        let id = self
                            .created(account, &change.object, sent, |p| p.id.clone())
                            .await?;
                        ids.peers.insert(name.clone(), id.clone());
                        id
                    }
                };
                let peer = &desired.peers[name];
                let tsig_id = match &peer.tsig {
                    Some(tsig) => Some(ids.tsig(tsig, name)?),
                    None => None,
                };
                let body = PeerUpdate::builder()
                    .name(name.as_str())
                    .ip(peer.ip.clone())
                    .port(peer.port)
                    .ixfr_enable(peer.ixfr)
                    .tsig_id(tsig_id);
                self.update_peer()
                    .account_id(account)
                    .peer_id(peer_id.as_str())
                    .body(body)
                    .send()
                    .await?
                    .into_result()?;
            }
            (Object::Acl(name), Action::Create | Action::Update) => {
                let body = AclInput::builder()
                    .name(name.as_str())
                    .ip_range(desired.acls[name].clone());
                match ids.acls.get(name) {
                    Some(id) => {
                        let sent = self.update_acl().account_id(account).acl_id(id.as_str());
                        sent.body(body).send().await?.into_result()?;
                    }
                    None => {
                        let sent = self
                            .create_acl()
                            .account_id(account)
                            .body(body)
                            .send()
                            .await;
                        let id = self
                            .created(account, &change.object, sent, |a| a.id.clone())
                            .await?;
                        ids.acls.insert(name.clone(), id);
                    }
                }
            }
            (Object::Zone(name), Action::Create) => {
                let zone_type = desired_zone(desired, name).and_then(|z| z.type_.clone());
                let body = ZoneCreate::builder()
                    .name(name.as_str())
                    .account(ZoneAccountRef::builder().id(*account))
                    .type_(zone_type);
                let sent = self.create_zone().body(body).send().await;
                let id = self
                    .created(account, &change.object, sent, |z| z.id.clone())
                    .await?;
                ids.zones.insert(name.clone(), id);
            }
            (Object::Zone(name), Action::Update) => {
                let zone_type = desired_zone(desired, name).and_then(|z| z.type_.clone());
                let body = crate::types::ZoneEdit::builder().type_(zone_type);
                self.edit_zone()
                    .zone_id(ids.zone(name)?.as_str())
                    .body(body)
                    .send()
                    .await?
                    .into_result()?;
            }
            (Object::Incoming(name), Action::Create | Action::Update) => {
                let zone = desired_zone(desired, name);
                let incoming = zone
                    .and_then(|z| z.incoming.as_ref())
                    .cloned()
                    .unwrap_or_default();
                let peers = incoming
                    .peers
                    .iter()
                    .map(|peer| ids.peer(peer, name))
                    .collect::<Result<Vec<_>, _>>()?;
                let body = IncomingInput::builder()
                    .name(format!("{name}."))
                    .peers(
                        peers
                            .iter()
                            .filter_map(|p| p.parse().ok())
                            .collect::<Vec<_>>(),
                    )
                    .auto_refresh_seconds(incoming.auto_refresh_seconds);
                let zone_id = ids.zone(name)?;
                if change.action == Action::Create {
                    self.create_incoming()
                        .zone_id(zone_id.as_str())
                        .body(body)
                        .send()
                        .await?
                        .into_result()?;
                } else {
                    self.update_incoming()
                        .zone_id(zone_id.as_str())
                        .body(body)
                        .send()
                        .await?
                        .into_result()?;
                }
            }
            (Object::Outgoing(name), Action::Create | Action::Update) => {
                let zone = desired_zone(desired, name);
                let outgoing = zone
                    .and_then(|z| z.outgoing.as_ref())
                    .cloned()
                    .unwrap_or_default();
                let peers = outgoing
                    .peers
                    .iter()
                    .map(|peer| ids.peer(peer, name))
                    .collect::<Result<Vec<_>, _>>()?;
                let body = OutgoingInput::builder().name(format!("{name}.")).peers(
                    peers
                        .iter()
                        .filter_map(|p| p.parse().ok())
                        .collect::<Vec<_>>(),
                );
                let zone_id = ids.zone(name)?;
                if change.action == Action::Create {
                    self.create_outgoing()
                        .zone_id(zone_id.as_str())
                        .body(body)
                        .send()
                        .await?
                        .into_result()?;
                } else {
                    self.update_outgoing()
                        .zone_id(zone_id.as_str())
                        .body(body)
                        .send()
                        .await?
                        .into_result()?;
                }
            }
            (Object::OutgoingEnabled(name), _) => {
                let zone_id = ids.zone(name)?;
                let enable = desired_zone(desired, name)
                    .and_then(|z| z.outgoing.as_ref())
                    .and_then(|o| o.enabled)
                    .unwrap_or(false);
                if enable {
                    self.enable_outgoing()
                        .zone_id(zone_id.as_str())
                        .send()
                        .await?
                        .into_result()?;
                } else {
                    self.disable_outgoing()
                        .zone_id(zone_id.as_str())
                        .send()
                        .await?
                        .into_result()?;
                }
            }
            (Object::DnsSettings(name), _) => {
                let wanted = desired_zone(desired, name)
                    .and_then(|z| z.dns_settings.clone())
                    .unwrap_or_default();
                let body = crate::types::DnsSettings::builder()
                    .multi_provider(wanted.multi_provider)
                    .secondary_overrides(wanted.secondary_overrides);
                self.update_dns_settings()
                    .zone_id(ids.zone(name)?.as_str())
                    .body(body)
                    .send()
                    .await?
                    .into_result()?;
            }
            (Object::Incoming(name), Action::Delete) => {
                let zone_id = ids.zone(name)?;
                ignore_gone(
                    self.delete_incoming()
                        .zone_id(zone_id.as_str())
                        .send()
                        .await,
                )?;
            }
            (Object::Outgoing(name), Action::Delete) => {
                let zone_id = ids.zone(name)?;
                ignore_gone(
                    self.delete_outgoing()
                        .zone_id(zone_id.as_str())
                        .send()
                        .await,
                )?;
            }
            (Object::Acl(name), Action::Delete) => {
                if let Some(id) = ids.acls.get(name) {
                    ignore_gone(
                        self.delete_acl()
                            .account_id(account)
                            .acl_id(id.as_str())
                            .send()
                            .await,
                    )?;
                }
            }
            (Object::Peer(name), Action::Delete) => {
                if let Some(id) = ids.peers.get(name) {
                    ignore_gone(
                        self.delete_peer()
                            .account_id(account)
                            .peer_id(id.as_str())
                            .send()
                            .await,
                    )?;
                }
            }
            (Object::Tsig(name), Action::Delete) => {
                if let Some(id) = ids.tsigs.get(name) {
                    ignore_gone(
                        self.delete_tsig()
                            .account_id(account)
                            .tsig_id(id.as_str())
                            .send()
                            .await,
                    )?;
                }
            }
            (Object::Zone(_), Action::Delete) => {}
        }
        Ok(())
    }

    /// A create's id; when its answer was lost (the request may have
    /// landed), the id of the object found by name instead, or the error.
    async fn created<E: crate::envelope::Envelope>(
        &self,
        account: &AccountIdentifier,
        object: &Object,
        sent: Result<progenitor_client::ResponseValue<E>, ApiError>,
        id: impl Fn(&E::Result) -> String,
    ) -> Result<String, ReconcileError> {
        match sent.and_then(ResponseExt::into_result) {
            Ok(made) => Ok(id(&made)),
            Err(err) if lost(&err) => match self.find_id(account, object).await? {
                Some(found) => Ok(found),
                None => Err(err.into()),
            },
            Err(err) => Err(err.into()),
        }
    }

    /// The id of the object of that name, read anew.
    async fn find_id(
        &self,
        account: &AccountIdentifier,
        object: &Object,
    ) -> Result<Option<String>, ReconcileError> {
        let named = |name: &str, candidate: &str| name == candidate;
        Ok(match object {
            Object::Tsig(name) => {
                let all = self.list_tsigs().account_id(account).send().await?;
                let all = all.into_result()?;
                all.into_iter().find(|t| named(name, &t.name)).map(|t| t.id)
            }
            Object::Peer(name) => {
                let all = self.list_peers().account_id(account).send().await?;
                let all = all.into_result()?;
                all.into_iter().find(|p| named(name, &p.name)).map(|p| p.id)
            }
            Object::Acl(name) => {
                let all = self.list_acls().account_id(account).send().await?;
                let all = all.into_result()?;
                all.into_iter().find(|a| named(name, &a.name)).map(|a| a.id)
            }
            Object::Zone(name) => match self.find_zone(name, Some(account)).await {
                Ok(zone) => Some(zone.id),
                Err(crate::extras::zones::FindZoneError::Api(err)) => return Err(err.into()),
                Err(_) => None,
            },
            _ => None,
        })
    }
}

/// A create's answer that may have been lost after the request landed.
fn lost(err: &ApiError) -> bool {
    matches!(
        err.kind(),
        ErrorKind::Connection | ErrorKind::Timeout | ErrorKind::Server
    )
}

fn ignore_gone<T>(sent: Result<T, ApiError>) -> Result<(), ReconcileError> {
    match sent {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err.into()),
    }
}

fn desired_zone<'a>(desired: &'a Desired, name: &str) -> Option<&'a DesiredZone> {
    desired
        .zones
        .iter()
        .find(|(n, _)| trimmed(n) == name)
        .map(|(_, z)| z)
}

/// Ids by name, as read and as created during an apply.
#[derive(Clone, Default)]
struct Ids {
    tsigs: HashMap<String, String>,
    peers: HashMap<String, String>,
    acls: HashMap<String, String>,
    zones: HashMap<String, String>,
}

impl Ids {
    fn from(live: &Live) -> Ids {
        Ids {
            tsigs: live
                .tsigs
                .iter()
                .map(|(n, t)| (n.clone(), t.id.clone()))
                .collect(),
            peers: live
                .peers
                .iter()
                .map(|(n, p)| (n.clone(), p.id.clone()))
                .collect(),
            acls: live
                .acls
                .iter()
                .map(|(n, a)| (n.clone(), a.id.clone()))
                .collect(),
            zones: live
                .zones
                .iter()
                .map(|(n, z)| (n.clone(), z.id.clone()))
                .collect(),
        }
    }

    fn tsig(&self, name: &str, user: &str) -> Result<String, ReconcileError> {
        self.tsigs
            .get(name)
            .cloned()
            .ok_or_else(|| ReconcileError::Undefined {
                user: format!("peer {user}"),
                kind: "tsig",
                name: name.to_owned(),
            })
    }

    fn peer(&self, name: &str, zone: &str) -> Result<String, ReconcileError> {
        self.peers
            .get(name)
            .cloned()
            .ok_or_else(|| ReconcileError::Undefined {
                user: format!("zone {zone}"),
                kind: "peer",
                name: name.to_owned(),
            })
    }

    fn zone(&self, name: &str) -> Result<String, ReconcileError> {
        self.zones
            .get(name)
            .cloned()
            .ok_or_else(|| ReconcileError::Undefined {
                user: "the plan".to_owned(),
                kind: "zone",
                name: name.to_owned(),
            })
    }
}

/// Every name used is defined (peers' keys, zones' peers).
fn check_names(desired: &Desired) -> Result<(), ReconcileError> {
    for (name, peer) in &desired.peers {
        if let Some(tsig) = &peer.tsig
            && !desired.tsigs.contains_key(tsig)
        {
            return Err(ReconcileError::Undefined {
                user: format!("peer {name}"),
                kind: "tsig",
                name: tsig.clone(),
            });
        }
    }
    for (zone, desired_zone) in &desired.zones {
        let incoming = desired_zone.incoming.iter().flat_map(|i| &i.peers);
        let outgoing = desired_zone.outgoing.iter().flat_map(|o| &o.peers);
        for peer in incoming.chain(outgoing) {
            if !desired.peers.contains_key(peer) {
                return Err(ReconcileError::Undefined {
                    user: format!("zone {zone}"),
                    kind: "peer",
                    name: peer.clone(),
                });
            }
        }
    }
    Ok(())
}

fn algo(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.').to_ascii_lowercase())
}

fn field(field: &'static str, old: Option<String>, new: Option<String>) -> Option<FieldChange> {
    (old != new).then_some(FieldChange { field, old, new })
}

/// Create what is not there, update what differs, nothing otherwise.
fn action_for<T>(current: Option<T>, fields: &[FieldChange]) -> Option<Action> {
    match (current, fields.is_empty()) {
        (None, _) => Some(Action::Create),
        (Some(_), false) => Some(Action::Update),
        (Some(_), true) => None,
    }
}

/// The changes found so far, and the objects that need none.
#[derive(Default)]
struct Tally {
    changes: Vec<Change>,
    unchanged: usize,
}

fn push(tally: &mut Tally, object: Object, action: Option<Action>, fields: Vec<FieldChange>) {
    match action {
        Some(action) => tally.changes.push(Change {
            object,
            action,
            fields,
        }),
        None => tally.unchanged += 1,
    }
}

/// Compares desired with live, in apply order.
fn diff(desired: &Desired, live: &Live, prune: bool) -> Tally {
    let mut tally = Tally::default();
    for (name, tsig) in &desired.tsigs {
        let current = live.tsigs.get(name);
        let fields: Vec<FieldChange> = [
            // Compared as primaries read them: any case, with or without the dot.
            field(
                "algo",
                current.map(|t| algo(&t.algo)),
                Some(algo(&tsig.algorithm)),
            ),
            (current.map(|t| &t.secret) != Some(&tsig.secret)).then_some(FieldChange {
                field: "secret",
                old: None,
                new: None,
            }),
        ]
        .into_iter()
        .flatten()
        .collect();
        let action = action_for(current, &fields);
        push(&mut tally, Object::Tsig(name.clone()), action, fields);
    }
    for (name, peer) in &desired.peers {
        let current = live.peers.get(name);
        let tsig_name = |id: &Option<String>| {
            id.as_ref().map(|id| {
                live.tsigs
                    .values()
                    .find(|t| &t.id == id)
                    .map_or_else(|| format!("(id {id})"), |t| t.name.clone())
            })
        };
        let fields: Vec<FieldChange> = [
            field(
                "ip",
                current.and_then(|p| p.ip.as_ref().map(ToString::to_string)),
                peer.ip.as_ref().map(ToString::to_string),
            ),
            field(
                "port",
                current.and_then(|p| p.port.map(|p| p.to_string())),
                peer.port.map(|p| p.to_string()),
            ),
            field(
                "ixfr",
                current.and_then(|p| p.ixfr_enable.map(|i| i.to_string())),
                peer.ixfr.map(|i| i.to_string()),
            ),
            field(
                "tsig",
                current.and_then(|p| tsig_name(&p.tsig_id)),
                peer.tsig.clone(),
            ),
        ]
        .into_iter()
        .flatten()
        .collect();
        let action = action_for(current, &fields);
        push(&mut tally, Object::Peer(name.clone()), action, fields);
    }
    for (name, range) in &desired.acls {
        let current = live.acls.get(name);
        let fields: Vec<FieldChange> = field(
            "ip_range",
            current.map(|a| a.ip_range.to_string()),
            Some(range.to_string()),
        )
        .into_iter()
        .collect();
        let action = action_for(current, &fields);
        push(&mut tally, Object::Acl(name.clone()), action, fields);
    }
    let peer_names = |ids: &[crate::PeerIdentifier]| -> Vec<String> {
        let mut names: Vec<String> = ids
            .iter()
            .map(|id| {
                live.peers
                    .values()
                    .find(|p| p.id == id.as_str())
                    .map_or_else(|| format!("(id {})", id.as_str()), |p| p.name.clone())
            })
            .collect();
        names.sort();
        names
    };
    let sorted = |peers: &[String]| {
        let mut peers = peers.to_vec();
        peers.sort();
        peers
    };
    for (zone_name, zone) in &desired.zones {
        let name = trimmed(zone_name);
        let current = live.zones.get(&name);
        match current {
            None => push(
                &mut tally,
                Object::Zone(name.clone()),
                Some(Action::Create),
                field(
                    "type",
                    None,
                    zone.type_.as_ref().map(|t| t.as_str().to_owned()),
                )
                .into_iter()
                .collect(),
            ),
            Some(current) => {
                let change = zone.type_.as_ref().and_then(|wanted| {
                    field(
                        "type",
                        current.type_.as_ref().map(|t| t.as_str().to_owned()),
                        Some(wanted.as_str().to_owned()),
                    )
                });
                let action = change.is_some().then_some(Action::Update);
                push(
                    &mut tally,
                    Object::Zone(name.clone()),
                    action,
                    change.into_iter().collect(),
                );
            }
        }
        if let Some(incoming) = &zone.incoming {
            let current = live.incoming.get(&name);
            let fields: Vec<FieldChange> = [
                field(
                    "peers",
                    current.map(|c| peer_names(&c.peers).join(", ")),
                    Some(sorted(&incoming.peers).join(", ")),
                ),
                incoming.auto_refresh_seconds.and_then(|wanted| {
                    field(
                        "auto_refresh_seconds",
                        current.and_then(|c| c.auto_refresh_seconds.map(|s| s.to_string())),
                        Some(wanted.to_string()),
                    )
                }),
            ]
            .into_iter()
            .flatten()
            .collect();
            let action = action_for(current, &fields);
            push(&mut tally, Object::Incoming(name.clone()), action, fields);
        } else if prune && live.incoming.contains_key(&name) {
            push(
                &mut tally,
                Object::Incoming(name.clone()),
                Some(Action::Delete),
                Vec::new(),
            );
        }
        if let Some(outgoing) = &zone.outgoing {
            let current = live.outgoing.get(&name);
            let fields: Vec<FieldChange> = field(
                "peers",
                current.map(|(c, _)| peer_names(&c.peers).join(", ")),
                Some(sorted(&outgoing.peers).join(", ")),
            )
            .into_iter()
            .collect();
            let action = action_for(current, &fields);
            push(&mut tally, Object::Outgoing(name.clone()), action, fields);
            if let Some(enabled) = outgoing.enabled {
                let now = current
                    .and_then(|(_, status)| status.as_ref())
                    .map(|status| *status == TransferStatus::Enabled);
                let change = field(
                    "enabled",
                    Some(now.unwrap_or(false).to_string()),
                    Some(enabled.to_string()),
                );
                let action = change.is_some().then_some(Action::Update);
                push(
                    &mut tally,
                    Object::OutgoingEnabled(name.clone()),
                    action,
                    change.into_iter().collect(),
                );
            }
        } else if prune && live.outgoing.contains_key(&name) {
            push(
                &mut tally,
                Object::Outgoing(name.clone()),
                Some(Action::Delete),
                Vec::new(),
            );
        }
    }
    for (zone_name, zone) in &desired.zones {
        let Some(wanted) = &zone.dns_settings else {
            continue;
        };
        let name = trimmed(zone_name);
        let current = live.dns_settings.get(&name);
        let flag = |value: Option<bool>| value.map(|v| v.to_string());
        let fields: Vec<FieldChange> = [
            wanted.multi_provider.and_then(|v| {
                field(
                    "multi_provider",
                    flag(current.and_then(|c| c.multi_provider)),
                    flag(Some(v)),
                )
            }),
            wanted.secondary_overrides.and_then(|v| {
                field(
                    "secondary_overrides",
                    flag(current.and_then(|c| c.secondary_overrides)),
                    flag(Some(v)),
                )
            }),
        ]
        .into_iter()
        .flatten()
        .collect();
        // A zone to be created has its settings once it exists: an update.
        let action = (!fields.is_empty()).then_some(Action::Update);
        push(&mut tally, Object::DnsSettings(name), action, fields);
    }
    if prune {
        // Deletes last, in the reverse of the creation order.
        for name in live.acls.keys().filter(|n| !desired.acls.contains_key(*n)) {
            push(
                &mut tally,
                Object::Acl(name.clone()),
                Some(Action::Delete),
                Vec::new(),
            );
        }
        for name in live
            .peers
            .keys()
            .filter(|n| !desired.peers.contains_key(*n))
        {
            push(
                &mut tally,
                Object::Peer(name.clone()),
                Some(Action::Delete),
                Vec::new(),
            );
        }
        for name in live
            .tsigs
            .keys()
            .filter(|n| !desired.tsigs.contains_key(*n))
        {
            push(
                &mut tally,
                Object::Tsig(name.clone()),
                Some(Action::Delete),
                Vec::new(),
            );
        }
    }
    // Creates and updates in Cloudflare's order, deletes after them; the
    // configuration deletes come before the peers they name.
    tally
        .changes
        .sort_by_key(|change| match (&change.object, change.action) {
            (_, Action::Delete) => match change.object {
                Object::Incoming(_) | Object::Outgoing(_) => 10,
                Object::Acl(_) => 11,
                Object::Peer(_) => 12,
                _ => 13,
            },
            (Object::Tsig(_), _) => 0,
            (Object::Peer(_), _) => 1,
            (Object::Acl(_), _) => 2,
            (Object::Zone(_), _) => 3,
            (Object::Incoming(_) | Object::Outgoing(_), _) => 4,
            (Object::OutgoingEnabled(_) | Object::DnsSettings(_), _) => 5,
        });
    tally
}
