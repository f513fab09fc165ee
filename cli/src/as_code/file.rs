//! The transfers file: TOML written by people, checked with the line and
//! column of each problem before any request, read into the sdk's
//! [`Desired`] state; and written back from the live account (`export`).

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use cloudflare_secondary_dns::extras::reconcile::{
    Desired, DesiredDnsSettings, DesiredIncoming, DesiredOutgoing, DesiredPeer, DesiredTsig,
    DesiredZone,
};
use cloudflare_secondary_dns::{IpRange, PeerIp, ZoneName, ZoneType};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// Cloudflare's limit of peers per zone.
const MAX_PEERS: usize = 30;
/// Cloudflare's shortest refresh.
const MIN_REFRESH: u32 = 300;
/// The algorithms a TSIG key may name (as primaries spell them).
const ALGORITHMS: [&str; 6] = [
    "hmac-md5.sig-alg.reg.int",
    "hmac-sha1",
    "hmac-sha224",
    "hmac-sha256",
    "hmac-sha384",
    "hmac-sha512",
];

/// Zone transfers as code: TSIG keys, peers and ACLs by name, and zones
/// with their incoming or outgoing configuration.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransfersFile {
    /// TSIG keys by name (the key's DNS name, e.g. `xfr.example.com.`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "BTreeMap<String, TsigEntry>")]
    pub tsigs: BTreeMap<String, Spanned<TsigEntry>>,
    /// Peers (primaries or secondaries) by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "BTreeMap<String, PeerEntry>")]
    pub peers: BTreeMap<String, Spanned<PeerEntry>>,
    /// ACLs by name: the ranges Cloudflare accepts NOTIFYs and transfer requests from.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "BTreeMap<String, AclEntry>")]
    pub acls: BTreeMap<String, Spanned<AclEntry>>,
    /// Zones by name (`example.com`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "BTreeMap<String, ZoneEntry>")]
    pub zones: BTreeMap<String, Spanned<ZoneEntry>>,
}

/// A TSIG key.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TsigEntry {
    /// `hmac-sha256` (or `hmac-sha256.`), `hmac-sha512`, …
    #[schemars(with = "String")]
    pub algorithm: Spanned<String>,
    /// Never inline: `env:VARIABLE` or `file:PATH` (the secret as base64).
    #[schemars(with = "String", regex(pattern = "^(env|file):.+"))]
    pub secret: Spanned<String>,
}

/// A peer.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PeerEntry {
    /// Its IPv4 or IPv6 address.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub ip: Option<Spanned<String>>,
    /// Its port (53).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// IXFR on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ixfr: Option<bool>,
    /// Its TSIG key, by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub tsig: Option<Spanned<String>>,
}

/// An ACL.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AclEntry {
    /// A CIDR range, at most a /24 (IPv4) or a /64 (IPv6).
    #[schemars(with = "String")]
    pub range: Spanned<String>,
}

/// A zone.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ZoneEntry {
    /// `secondary` or `full`; a zone missing from the account is created with it.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub type_: Option<Spanned<String>>,
    /// Cloudflare is secondary: it transfers the zone from these peers.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<IncomingEntry>")]
    pub incoming: Option<Spanned<IncomingEntry>>,
    /// Cloudflare is primary: these peers transfer the zone from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<OutgoingEntry>")]
    pub outgoing: Option<Spanned<OutgoingEntry>>,
    /// The zone's DNS settings that concern transfers (left as they are when unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_settings: Option<DnsSettingsEntry>,
}

/// A zone's DNS settings that concern transfers.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DnsSettingsEntry {
    /// Serve the secondaries' apex NS records (Cloudflare as primary).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multi_provider: Option<bool>,
    /// Keep records edited at Cloudflare over transferred ones (Cloudflare as secondary).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secondary_overrides: Option<bool>,
}

/// A zone's incoming configuration.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncomingEntry {
    /// Its primaries, by peer name (1 to 30).
    #[schemars(with = "Vec<String>")]
    pub peers: Spanned<Vec<String>>,
    /// How often Cloudflare refreshes, in seconds (at least 300; 86400 when unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<u32>")]
    pub auto_refresh_seconds: Option<Spanned<u32>>,
}

/// A zone's outgoing configuration.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutgoingEntry {
    /// Its secondaries, by peer name (1 to 30).
    #[schemars(with = "Vec<String>")]
    pub peers: Spanned<Vec<String>>,
    /// Outgoing transfers enabled (left as they are when unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// A problem of the file, at a line and column.
#[derive(Debug)]
pub struct FileError(pub String);

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FileError {}

/// Reads and checks `path`; every problem is named with its line and
/// column, all of them before any request.
pub fn read(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Desired, FileError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|err| FileError(format!("cannot read {shown}: {err}")))?;
    parse(&shown, &text, env)
}

/// Checks `text` (named `shown` in messages).
pub fn parse(
    shown: &str,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Desired, FileError> {
    let file: TransfersFile = toml::from_str(text).map_err(|err| {
        let at = err
            .span()
            .map(|span| at(shown, text, &span))
            .unwrap_or_else(|| shown.to_owned());
        FileError(format!("{at}: {}", err.message()))
    })?;
    let mut problems = Vec::new();
    let mut problem = |span: Range<usize>, message: String| {
        problems.push(format!("{}: {message}", at(shown, text, &span)));
    };
    let mut desired = Desired::default();
    for (name, entry) in &file.tsigs {
        let algorithm = entry.get_ref().algorithm.get_ref();
        let bare = algorithm.trim_end_matches('.').to_ascii_lowercase();
        if !ALGORITHMS.contains(&bare.as_str()) {
            problem(
                entry.get_ref().algorithm.span(),
                format!(
                    "tsig {name}: unknown algorithm {algorithm:?} (hmac-sha256, hmac-sha512, …)"
                ),
            );
        }
        let secret = entry.get_ref().secret.get_ref();
        let value = match secret.split_once(':') {
            Some(("env", variable)) => env(variable).ok_or(format!(
                "tsig {name}: the environment variable {variable} is not set"
            )),
            Some(("file", file)) => std::fs::read_to_string(file)
                .map(|text| text.trim().to_owned())
                .map_err(|err| format!("tsig {name}: cannot read the secret file {file}: {err}")),
            _ => Err(format!(
                "tsig {name}: a secret is never written inline: give env:VARIABLE or file:PATH"
            )),
        };
        match value {
            Ok(value) if !value.is_empty() => {
                let algo = format!("{bare}.");
                desired
                    .tsigs
                    .insert(name.clone(), DesiredTsig::new(algo, value));
            }
            Ok(_) => problem(
                entry.get_ref().secret.span(),
                format!("tsig {name}: the secret is empty"),
            ),
            Err(message) => problem(entry.get_ref().secret.span(), message),
        }
    }
    for (name, entry) in &file.peers {
        let peer = entry.get_ref();
        let mut desired_peer = DesiredPeer::default();
        desired_peer.port = peer.port;
        desired_peer.ixfr = peer.ixfr;
        if let Some(ip) = &peer.ip {
            match ip.get_ref().parse::<PeerIp>() {
                Ok(ip) => desired_peer.ip = Some(ip),
                Err(err) => problem(ip.span(), format!("peer {name}: {err}")),
            }
        }
        if let Some(tsig) = &peer.tsig {
            if !file.tsigs.contains_key(tsig.get_ref()) {
                problem(
                    tsig.span(),
                    format!(
                        "peer {name} names tsig {:?}, which is not defined",
                        tsig.get_ref()
                    ),
                );
            }
            desired_peer.tsig = Some(tsig.get_ref().clone());
        }
        desired.peers.insert(name.clone(), desired_peer);
    }
    for (name, entry) in &file.acls {
        let range = &entry.get_ref().range;
        match range.get_ref().parse::<IpRange>() {
            Ok(parsed) => {
                desired.acls.insert(name.clone(), parsed);
            }
            Err(err) => problem(range.span(), format!("acl {name}: {err}")),
        }
    }
    let check_peers = |zone: &str,
                       peers: &Spanned<Vec<String>>,
                       problem: &mut dyn FnMut(Range<usize>, String)| {
        if peers.get_ref().is_empty() || peers.get_ref().len() > MAX_PEERS {
            problem(
                peers.span(),
                format!(
                    "zone {zone}: {} peers; a zone links 1 to {MAX_PEERS}",
                    peers.get_ref().len()
                ),
            );
        }
        for peer in peers.get_ref() {
            if !file.peers.contains_key(peer) {
                problem(
                    peers.span(),
                    format!("zone {zone} names peer {peer:?}, which is not defined"),
                );
            }
        }
    };
    for (name, entry) in &file.zones {
        let zone = entry.get_ref();
        let zone_name = match ZoneName::new(name) {
            Ok(zone_name) => zone_name,
            Err(err) => {
                problem(entry.span(), format!("zone {name:?}: {err}"));
                continue;
            }
        };
        let mut desired_zone = DesiredZone::default();
        if zone.incoming.is_some() && zone.outgoing.is_some() {
            problem(
                entry.span(),
                format!("zone {name} is both incoming and outgoing; a zone transfers one way"),
            );
        }
        if let Some(type_) = &zone.type_ {
            match type_.get_ref().as_str() {
                "secondary" | "full" | "partial" => {
                    desired_zone.type_ = Some(ZoneType::from(type_.get_ref().as_str()))
                }
                other => problem(
                    type_.span(),
                    format!("zone {name}: type {other:?} (secondary or full)"),
                ),
            }
        }
        if let Some(incoming) = &zone.incoming {
            let incoming = incoming.get_ref();
            check_peers(name, &incoming.peers, &mut problem);
            let refresh = incoming.auto_refresh_seconds.as_ref();
            if let Some(refresh) = refresh.filter(|r| *r.get_ref() < MIN_REFRESH) {
                problem(
                    refresh.span(),
                    format!(
                        "zone {name}: auto_refresh_seconds {} is under Cloudflare's {MIN_REFRESH}",
                        refresh.get_ref()
                    ),
                );
            }
            let mut desired_incoming = DesiredIncoming::from(incoming.peers.get_ref().clone());
            desired_incoming.auto_refresh_seconds = refresh.map(|r| *r.get_ref());
            desired_zone.incoming = Some(desired_incoming);
            if desired_zone.type_.is_none() {
                desired_zone.type_ = Some(ZoneType::Secondary);
            }
        }
        if let Some(outgoing) = &zone.outgoing {
            let outgoing = outgoing.get_ref();
            check_peers(name, &outgoing.peers, &mut problem);
            let mut desired_outgoing = DesiredOutgoing::from(outgoing.peers.get_ref().clone());
            desired_outgoing.enabled = outgoing.enabled;
            desired_zone.outgoing = Some(desired_outgoing);
        }
        if let Some(settings) = &zone.dns_settings {
            let mut wanted = DesiredDnsSettings::default();
            wanted.multi_provider = settings.multi_provider;
            wanted.secondary_overrides = settings.secondary_overrides;
            desired_zone.dns_settings = Some(wanted);
        }
        desired
            .zones
            .insert(zone_name.as_str().to_owned(), desired_zone);
    }
    if problems.is_empty() {
        Ok(desired)
    } else {
        Err(FileError(problems.join("\n")))
    }
}

/// `FILE:LINE:COLUMN` of a byte span's start (both counted from 1).
fn at(shown: &str, text: &str, span: &Range<usize>) -> String {
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("{shown}:{line}:{column}")
}

/// The JSON Schema of the file, for editors.
pub fn schema() -> schemars::schema::RootSchema {
    schemars::schema_for!(TransfersFile)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "XFR_SECRET").then(|| "c2VjcmV0".to_owned())
    }

    const GOOD: &str = r#"
[tsigs."xfr.example.com."]
algorithm = "hmac-sha256"
secret = "env:XFR_SECRET"

[peers.bind-1]
ip = "192.0.2.53"
port = 53
ixfr = true
tsig = "xfr.example.com."

[acls.notify-src]
range = "192.0.2.0/28"

[zones."example.com".incoming]
peers = ["bind-1"]
auto_refresh_seconds = 3600
"#;

    #[test]
    fn a_good_file_reads_into_the_desired_state() {
        let desired = parse("a.toml", GOOD, &env).unwrap();
        assert_eq!(desired.tsigs["xfr.example.com."].algorithm, "hmac-sha256.");
        assert_eq!(desired.peers["bind-1"].port, Some(53));
        let zone = &desired.zones["example.com"];
        assert_eq!(zone.type_, Some(ZoneType::Secondary));
        assert_eq!(
            zone.incoming.as_ref().unwrap().auto_refresh_seconds,
            Some(3600)
        );
    }

    /// Each bad file is refused with the place of its problem.
    #[test]
    fn bad_files_are_refused_with_line_and_column() {
        let cases = [
            (
                GOOD.replace("port = 53", "port = 53\ncolour = \"red\""),
                "a.toml:9:1",
                "unknown field `colour`",
            ),
            (
                GOOD.replace(
                    "[acls.notify-src]",
                    "[peers.bind-1]\nip = \"192.0.2.1\"\n[acls.notify-src]",
                ),
                "a.toml:",
                "duplicate key",
            ),
            (
                GOOD.replace("peers = [\"bind-1\"]", "peers = [\"bind-2\"]"),
                "a.toml:16:9",
                "names peer \"bind-2\", which is not defined",
            ),
            (
                GOOD.replace("192.0.2.0/28", "192.0.0.0/16"),
                "a.toml:13:9",
                "at most a /24",
            ),
            (
                GOOD.replace("3600", "299"),
                "a.toml:17:24",
                "under Cloudflare's 300",
            ),
            (
                GOOD.replace("env:XFR_SECRET", "c2VjcmV0"),
                "a.toml:4:10",
                "never written inline",
            ),
            (
                GOOD.replace("env:XFR_SECRET", "env:NOT_SET"),
                "a.toml:4:10",
                "NOT_SET is not set",
            ),
            (
                GOOD.replace("hmac-sha256", "sha256"),
                "a.toml:3:13",
                "unknown algorithm",
            ),
            (
                format!("{GOOD}\n[zones.\"example.com\".outgoing]\npeers = [\"bind-1\"]\n"),
                "a.toml:",
                "both incoming and outgoing",
            ),
            (
                GOOD.replace(
                    "peers = [\"bind-1\"]",
                    &format!("peers = [{}]", vec!["\"bind-1\""; 31].join(", ")),
                ),
                "a.toml:16:9",
                "31 peers; a zone links 1 to 30",
            ),
        ];
        for (text, place, message) in cases {
            let err = parse("a.toml", &text, &env).unwrap_err().to_string();
            assert!(err.starts_with(place), "{place} expected: {err}");
            assert!(err.contains(message), "{message} expected: {err}");
        }
    }
}
