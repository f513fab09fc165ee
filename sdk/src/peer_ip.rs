//! A peer's address, the same type read and written.
//!
//! A request's address must be an IP (a bad one fails when parsed, never as
//! a 400); a response's must not lose the peer if Cloudflare ever stores
//! something else there (an empty string, a name). So a [`PeerIp`] is made
//! by callers only from an [`IpAddr`] or a string that parses as one, while
//! decoding keeps any string Cloudflare sends, verbatim, and sends it back as
//! it was: `PeerUpdate::from(&peer)` never changes an address it did not set.
//! The generator swaps this type in for the spec's `PeerIp` schema (see
//! `xtask/src/lib.rs`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The IPv4 or IPv6 address of a peer's nameserver.
///
/// ```
/// use std::net::{IpAddr, Ipv4Addr};
/// use cloudflare_secondary_dns::PeerIp;
///
/// let ip: PeerIp = "192.0.2.53".parse()?;
/// assert_eq!(ip.addr(), Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 53))));
/// assert_eq!(ip, PeerIp::from(Ipv4Addr::new(192, 0, 2, 53)));
/// assert!("ns1.example.com".parse::<PeerIp>().is_err());
/// # Ok::<(), cloudflare_secondary_dns::InvalidPeerIp>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PeerIp(Repr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    Addr(IpAddr),
    /// What Cloudflare sent that is not an IP, kept to be sent back unchanged.
    Verbatim(String),
}

impl PeerIp {
    /// The address, or `None` when Cloudflare sent text that is not one.
    pub fn addr(&self) -> Option<IpAddr> {
        match &self.0 {
            Repr::Addr(addr) => Some(*addr),
            Repr::Verbatim(_) => None,
        }
    }

    /// The text Cloudflare sent when it is not an IP address.
    pub fn unparsed(&self) -> Option<&str> {
        match &self.0 {
            Repr::Addr(_) => None,
            Repr::Verbatim(text) => Some(text),
        }
    }
}

impl From<IpAddr> for PeerIp {
    fn from(addr: IpAddr) -> Self {
        Self(Repr::Addr(addr))
    }
}

impl From<Ipv4Addr> for PeerIp {
    fn from(addr: Ipv4Addr) -> Self {
        IpAddr::from(addr).into()
    }
}

impl From<Ipv6Addr> for PeerIp {
    fn from(addr: Ipv6Addr) -> Self {
        IpAddr::from(addr).into()
    }
}

/// A string that is not an IPv4 or IPv6 address, given as a peer's ip.
/// `Debug` is the message.
#[derive(Clone, PartialEq, Eq)]
pub struct InvalidPeerIp {
    shown: String,
}

impl fmt::Display for InvalidPeerIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not an IPv4 or IPv6 address", self.shown)
    }
}

impl fmt::Debug for InvalidPeerIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for InvalidPeerIp {}

impl FromStr for PeerIp {
    type Err = InvalidPeerIp;

    fn from_str(text: &str) -> Result<Self, InvalidPeerIp> {
        text.parse::<IpAddr>()
            .map(Self::from)
            .map_err(|_| InvalidPeerIp {
                shown: text.chars().take(64).collect(),
            })
    }
}

impl TryFrom<&str> for PeerIp {
    type Error = InvalidPeerIp;

    fn try_from(text: &str) -> Result<Self, InvalidPeerIp> {
        text.parse()
    }
}

impl TryFrom<String> for PeerIp {
    type Error = InvalidPeerIp;

    fn try_from(text: String) -> Result<Self, InvalidPeerIp> {
        text.parse()
    }
}

impl From<&PeerIp> for PeerIp {
    fn from(ip: &PeerIp) -> Self {
        ip.clone()
    }
}

impl fmt::Display for PeerIp {
    /// The address, or the text Cloudflare sent.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Addr(addr) => addr.fmt(f),
            Repr::Verbatim(text) => text.fmt(f),
        }
    }
}

impl fmt::Debug for PeerIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Addr(addr) => write!(f, "PeerIp({addr})"),
            Repr::Verbatim(text) => write!(f, "PeerIp(unparsed {text:?})"),
        }
    }
}

impl Serialize for PeerIp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PeerIp {
    /// Any string: an address as one, anything else kept verbatim.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(match text.parse::<IpAddr>() {
            Ok(addr) => Self::from(addr),
            Err(_) => Self(Repr::Verbatim(text)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_round_trips_and_other_text_is_kept_verbatim() {
        for text in ["192.0.2.53", "2001:db8::53"] {
            let ip: PeerIp = serde_json::from_str(&format!("{text:?}")).unwrap();
            assert_eq!(ip.addr(), Some(text.parse().unwrap()));
            assert_eq!(serde_json::to_string(&ip).unwrap(), format!("{text:?}"));
        }
        for text in ["", "ns1.example.com", "192.0.2.300"] {
            let ip: PeerIp = serde_json::from_str(&format!("{text:?}")).unwrap();
            assert_eq!((ip.addr(), ip.unparsed()), (None, Some(text)));
            assert_eq!(serde_json::to_string(&ip).unwrap(), format!("{text:?}"));
            let refused = text.parse::<PeerIp>().unwrap_err();
            assert!(
                refused
                    .to_string()
                    .contains("is not an IPv4 or IPv6 address")
            );
        }
        assert!(serde_json::from_str::<PeerIp>("53").is_err());
    }
}
