//! An ACL's address range, the same type read and written.
//!
//! Like [`PeerIp`](crate::PeerIp): callers make an [`IpRange`] only from a
//! CIDR within Cloudflare's documented limits (at most a /24 for IPv4 and a
//! /64 for IPv6), checked before any request; decoding keeps what Cloudflare
//! sends, a range as one (host bits and all: Cloudflare's own example is
//! `192.0.2.53/28`) and anything else verbatim, so an ACL is never lost and
//! `AclInput::from(&acl)` sends back what it read. The generator swaps this
//! type in for the spec's `IpRange` schema (see `xtask/src/lib.rs`).

use std::fmt;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The widest IPv4 range an ACL may hold (Cloudflare: "CIDRs are limited to
/// a maximum of /24 for IPv4").
pub const MIN_IPV4_PREFIX: u8 = 24;
/// The widest IPv6 range an ACL may hold ("… and /64 for IPv6").
pub const MIN_IPV6_PREFIX: u8 = 64;

/// An IPv4 or IPv6 CIDR range of an ACL.
///
/// ```
/// use cloudflare_secondary_dns::IpRange;
///
/// let range: IpRange = "192.0.2.53/28".parse()?;
/// assert_eq!(range.net().map(|net| net.prefix_len()), Some(28));
/// assert!("192.0.2.0/16".parse::<IpRange>().is_err(), "wider than a /24");
/// assert!("192.0.2.53".parse::<IpRange>().is_err(), "not a CIDR");
/// # Ok::<(), cloudflare_secondary_dns::InvalidIpRange>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IpRange(Repr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    Net(IpNet),
    /// What Cloudflare sent that is not a CIDR, kept to be sent back unchanged.
    Verbatim(String),
}

impl IpRange {
    /// The range, or `None` when Cloudflare sent text that is not a CIDR.
    pub fn net(&self) -> Option<IpNet> {
        match &self.0 {
            Repr::Net(net) => Some(*net),
            Repr::Verbatim(_) => None,
        }
    }

    /// The text Cloudflare sent when it is not a CIDR.
    pub fn unparsed(&self) -> Option<&str> {
        match &self.0 {
            Repr::Net(_) => None,
            Repr::Verbatim(text) => Some(text),
        }
    }
}

/// A value that is not a CIDR within Cloudflare's limits, given as an ACL's
/// range. `Debug` is the message.
#[derive(Clone, PartialEq, Eq)]
pub struct InvalidIpRange {
    shown: String,
    why: &'static str,
}

impl fmt::Display for InvalidIpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not an ACL's ip_range: {}", self.shown, self.why)
    }
}

impl fmt::Debug for InvalidIpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for InvalidIpRange {}

impl TryFrom<IpNet> for IpRange {
    type Error = InvalidIpRange;

    fn try_from(net: IpNet) -> Result<Self, InvalidIpRange> {
        let (widest, family) = match net {
            IpNet::V4(_) => (MIN_IPV4_PREFIX, "IPv4"),
            IpNet::V6(_) => (MIN_IPV6_PREFIX, "IPv6"),
        };
        if net.prefix_len() < widest {
            return Err(InvalidIpRange {
                shown: net.to_string(),
                why: match family {
                    "IPv4" => "Cloudflare allows at most a /24 for IPv4",
                    _ => "Cloudflare allows at most a /64 for IPv6",
                },
            });
        }
        Ok(Self(Repr::Net(net)))
    }
}

impl FromStr for IpRange {
    type Err = InvalidIpRange;

    fn from_str(text: &str) -> Result<Self, InvalidIpRange> {
        let net = text.parse::<IpNet>().map_err(|_| InvalidIpRange {
            shown: text.chars().take(64).collect(),
            why: "expected an IPv4 or IPv6 CIDR such as 192.0.2.48/28",
        })?;
        Self::try_from(net)
    }
}

impl TryFrom<&str> for IpRange {
    type Error = InvalidIpRange;

    fn try_from(text: &str) -> Result<Self, InvalidIpRange> {
        text.parse()
    }
}

impl TryFrom<String> for IpRange {
    type Error = InvalidIpRange;

    fn try_from(text: String) -> Result<Self, InvalidIpRange> {
        text.parse()
    }
}

impl From<&IpRange> for IpRange {
    fn from(range: &IpRange) -> Self {
        range.clone()
    }
}

impl fmt::Display for IpRange {
    /// The range, or the text Cloudflare sent.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Net(net) => net.fmt(f),
            Repr::Verbatim(text) => text.fmt(f),
        }
    }
}

impl fmt::Debug for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Net(net) => write!(f, "IpRange({net})"),
            Repr::Verbatim(text) => write!(f, "IpRange(unparsed {text:?})"),
        }
    }
}

impl Serialize for IpRange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IpRange {
    /// Any string: a CIDR as one (whatever its width), anything else verbatim.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(match text.parse::<IpNet>() {
            Ok(net) => Self(Repr::Net(net)),
            Err(_) => Self(Repr::Verbatim(text)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_round_trips_and_other_text_is_kept_verbatim() {
        for text in ["192.0.2.53/28", "2001:db8::/64", "10.0.0.0/8"] {
            let range: IpRange = serde_json::from_str(&format!("{text:?}")).unwrap();
            assert_eq!(range.net(), Some(text.parse().unwrap()));
            assert_eq!(serde_json::to_string(&range).unwrap(), format!("{text:?}"));
        }
        for text in ["", "192.0.2.53", "any"] {
            let range: IpRange = serde_json::from_str(&format!("{text:?}")).unwrap();
            assert_eq!((range.net(), range.unparsed()), (None, Some(text)));
            assert_eq!(serde_json::to_string(&range).unwrap(), format!("{text:?}"));
        }
    }

    #[test]
    fn callers_are_held_to_cloudflares_limits() {
        assert!("192.0.2.0/24".parse::<IpRange>().is_ok());
        assert!("2001:db8::/64".parse::<IpRange>().is_ok());
        let wide = "10.0.0.0/8".parse::<IpRange>().unwrap_err().to_string();
        assert_eq!(
            wide,
            r#""10.0.0.0/8" is not an ACL's ip_range: Cloudflare allows at most a /24 for IPv4"#
        );
        let wide = "2001:db8::/48".parse::<IpRange>().unwrap_err().to_string();
        assert!(wide.ends_with("at most a /64 for IPv6"), "{wide}");
        let not = "192.0.2.53".parse::<IpRange>().unwrap_err().to_string();
        assert!(not.contains("expected an IPv4 or IPv6 CIDR"), "{not}");
    }
}
