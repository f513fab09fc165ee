//! Cloudflare's published zone-transfer addresses, read from one data file
//! (`cloudflare-addresses.toml`, with its source) at build time.

use std::net::SocketAddr;
use std::sync::OnceLock;

use serde::Deserialize;
use time::Date;

const DATA: &str = include_str!("../cloudflare-addresses.toml");

/// Where Cloudflare transfers from and to, as its documentation publishes it.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct CloudflareAddresses {
    /// Cloudflare as secondary: the sources of its SOA queries, transfers
    /// and NOTIFYs (addresses or CIDR ranges). Primaries must allow these.
    pub transfer_sources: Vec<String>,
    /// Since when [`transfer_sources`](Self::transfer_sources) are in use.
    #[serde(with = "iso_date")]
    pub transfer_sources_since: Date,
    /// The source ranges used before, which stopped working on
    /// [`old_sources_until`](Self::old_sources_until).
    pub old_transfer_sources: Vec<String>,
    /// The day the old ranges stopped working (2026-12-01).
    #[serde(with = "iso_date")]
    pub old_sources_until: Date,
    /// Cloudflare as secondary: where a primary sends NOTIFY.
    pub notify_targets: Vec<String>,
    /// Cloudflare as primary: where secondaries query SOA and transfer from.
    pub outgoing_transfer: SocketAddr,
}

impl CloudflareAddresses {
    /// The published addresses (the data file compiled in).
    pub fn published() -> &'static CloudflareAddresses {
        static PUBLISHED: OnceLock<CloudflareAddresses> = OnceLock::new();
        PUBLISHED.get_or_init(|| {
            // The file is part of the crate and tested; a broken one is a
            // build defect, caught by `published_addresses_parse`.
            toml::from_str(DATA).expect("cloudflare-addresses.toml is valid")
        })
    }

    /// The lines that let Cloudflare transfer from a primary, for BIND, NSD,
    /// Knot and PowerDNS, naming `key` when the peer has one.
    pub fn allow_list_lines(&self, zone: &str, key: Option<&str>) -> Vec<String> {
        let sources = &self.transfer_sources;
        let bind_key = key.map_or(String::new(), |key| format!(" key \"{key}\";"));
        let bind = format!(
            "BIND:     zone \"{zone}\" {{ allow-transfer {{ {}{bind_key} }}; }};",
            sources
                .iter()
                .map(|s| format!("{s};"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let nsd = sources
            .iter()
            .map(|s| format!("provide-xfr: {s} {}", key.unwrap_or("NOKEY")))
            .collect::<Vec<_>>()
            .join("; ");
        let knot_key = key.map_or(String::new(), |key| format!(", key: {key}"));
        let knot = format!(
            "Knot:     acl: [{{ id: cloudflare, address: [{}]{knot_key}, action: transfer }}]",
            sources.join(", ")
        );
        let pdns = format!("PowerDNS: allow-axfr-ips={}", sources.join(","));
        vec![bind, format!("NSD:      {nsd}"), knot, pdns]
    }
}

mod iso_date {
    use serde::{Deserialize, Deserializer};
    use time::{Date, Month};

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        let text = String::deserialize(deserializer)?;
        let parts: Vec<&str> = text.split('-').collect();
        let parsed = match parts.as_slice() {
            [year, month, day] => (|| {
                let month = Month::try_from(month.parse::<u8>().ok()?).ok()?;
                Date::from_calendar_date(year.parse().ok()?, month, day.parse().ok()?).ok()
            })(),
            _ => None,
        };
        parsed.ok_or_else(|| serde::de::Error::custom(format!("not a YYYY-MM-DD date: {text}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_addresses_parse() {
        let published = CloudflareAddresses::published();
        assert_eq!(published.transfer_sources[0], "104.30.167.163");
        assert_eq!(published.old_sources_until.to_string(), "2026-12-01");
        assert_eq!(published.outgoing_transfer.to_string(), "172.65.64.6:53");
        assert_eq!(published.notify_targets.len(), 4);
    }

    #[test]
    fn allow_list_lines_name_every_source_and_the_key() {
        let lines = CloudflareAddresses::published().allow_list_lines("example.com", Some("k."));
        assert_eq!(lines.len(), 4);
        for line in &lines {
            assert!(line.contains("104.30.167.173"), "{line}");
        }
        assert!(lines[0].contains("key \"k.\";"), "{}", lines[0]);
    }
}
