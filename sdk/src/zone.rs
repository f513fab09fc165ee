//! A zone's name, type and status. The name is checked before anything is
//! sent (a zone's name is what an operator types); the type and status are
//! enums that keep a value Cloudflare adds (`Other`). The generator swaps
//! these in for the overlay's `ZoneName`, `ZoneType` and `ZoneStatus`
//! schemas (see `xtask/src/lib.rs`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::status::string_result;

/// The longest name DNS allows, in bytes, without the root's trailing dot.
pub const MAX_ZONE_NAME_LEN: usize = 253;
/// The longest label DNS allows, in bytes.
pub const MAX_LABEL_LEN: usize = 63;

/// A zone's domain name, as Cloudflare names zones: ASCII, lowercase, no
/// trailing dot (`example.com`).
///
/// Built from text with [`ZoneName::new`] (or `parse`, `TryFrom`), which
/// refuses what cannot be a zone's name before any request: spaces and
/// control characters, an empty label, a label over 63 bytes or one that
/// starts or ends with `-`, a name over 253 bytes, a single label
/// (`com`). One trailing dot (`example.com.`, as zone files write it) is
/// dropped and upper case is lowered, since DNS names are the same either
/// way. An internationalized name is taken only in its ASCII form
/// (`xn--mnchen-3ya.de`): the error for `münchen.de` says which.
///
/// ```
/// use cloudflare_secondary_dns::ZoneName;
///
/// let name: ZoneName = "Example.COM.".parse()?;
/// assert_eq!(name.as_str(), "example.com");
/// assert!("exa mple.com".parse::<ZoneName>().is_err());
/// let idn = "münchen.de".parse::<ZoneName>().unwrap_err();
/// assert!(idn.to_string().contains("xn--mnchen-3ya.de"));
/// # Ok::<(), cloudflare_secondary_dns::InvalidZoneName>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ZoneName(String);

/// Why a text is not a zone's name. `Debug` is the message.
#[derive(Clone, PartialEq, Eq)]
pub struct InvalidZoneName {
    shown: String,
    why: String,
}

impl InvalidZoneName {
    fn new(text: &str, why: impl Into<String>) -> Self {
        // Bounded and made visible: the name is echoed into messages and
        // terminals (`{:?}` escapes control characters).
        let shown = if text.chars().count() > 64 {
            format!("{}…", text.chars().take(64).collect::<String>())
        } else {
            text.to_owned()
        };
        Self {
            shown,
            why: why.into(),
        }
    }
}

impl fmt::Display for InvalidZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a zone name: {}", self.shown, self.why)
    }
}

impl fmt::Debug for InvalidZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for InvalidZoneName {}

impl ZoneName {
    /// Checks `text` as a zone's name; see the type's documentation.
    pub fn new(text: &str) -> Result<Self, InvalidZoneName> {
        let fail = |why: String| Err(InvalidZoneName::new(text, why));
        if let Some(bad) = text.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return fail(format!(
                "it holds {bad:?} (a name has no spaces or control characters)"
            ));
        }
        if !text.is_ascii() {
            return match idna::domain_to_ascii(text) {
                Ok(ascii) if ascii.is_ascii() => fail(format!(
                    "an internationalized name is given in its ASCII form: {}",
                    ascii.trim_end_matches('.')
                )),
                _ => fail("it holds characters a domain name cannot (a name is ASCII: letters, digits, `-`; an internationalized one in its `xn--` form)".to_owned()),
            };
        }
        let name = text.strip_suffix('.').unwrap_or(text).to_ascii_lowercase();
        if name.is_empty() {
            return fail("it is empty".to_owned());
        }
        if name.len() > MAX_ZONE_NAME_LEN {
            return fail(format!(
                "it is {} bytes long (at most {MAX_ZONE_NAME_LEN})",
                name.len()
            ));
        }
        let labels: Vec<&str> = name.split('.').collect();
        if labels.len() < 2 {
            return fail(
                "a zone is a domain under a suffix (`example.com`), not a single label".to_owned(),
            );
        }
        for label in &labels {
            if label.is_empty() {
                return fail(
                    "it has an empty label (two dots in a row, or a leading dot)".to_owned(),
                );
            }
            if label.len() > MAX_LABEL_LEN {
                return fail(format!(
                    "the label {:?} is {} bytes long (at most {MAX_LABEL_LEN})",
                    InvalidZoneName::new(label, "").shown,
                    label.len()
                ));
            }
            if let Some(bad) = label
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
            {
                return fail(format!(
                    "it holds {bad:?} (a label has letters, digits, `-` and `_`)"
                ));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return fail(format!("the label {label:?} starts or ends with `-`"));
            }
        }
        Ok(Self(name))
    }

    /// The name: lowercase, without a trailing dot.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `other` (a name Cloudflare sent, say) names this zone: the
    /// same name but for case and one trailing dot.
    pub fn matches(&self, other: &str) -> bool {
        other
            .strip_suffix('.')
            .unwrap_or(other)
            .eq_ignore_ascii_case(&self.0)
    }
}

impl FromStr for ZoneName {
    type Err = InvalidZoneName;

    fn from_str(text: &str) -> Result<Self, InvalidZoneName> {
        Self::new(text)
    }
}

impl TryFrom<&str> for ZoneName {
    type Error = InvalidZoneName;

    fn try_from(text: &str) -> Result<Self, InvalidZoneName> {
        Self::new(text)
    }
}

impl TryFrom<String> for ZoneName {
    type Error = InvalidZoneName;

    fn try_from(text: String) -> Result<Self, InvalidZoneName> {
        Self::new(&text)
    }
}

impl TryFrom<&String> for ZoneName {
    type Error = InvalidZoneName;

    fn try_from(text: &String) -> Result<Self, InvalidZoneName> {
        Self::new(text)
    }
}

impl From<&ZoneName> for ZoneName {
    fn from(name: &ZoneName) -> Self {
        name.clone()
    }
}

impl AsRef<str> for ZoneName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ZoneName({:?})", self.0)
    }
}

impl Serialize for ZoneName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ZoneName {
    /// Checked as [`ZoneName::new`] checks it: the type is only in what a
    /// caller sends (a zone's name as Cloudflare returns it is a string).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::new(&text).map_err(serde::de::Error::custom)
    }
}

/// How a zone's records are kept at Cloudflare.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ZoneType {
    /// `"full"`: Cloudflare is the zone's authoritative DNS; its records are
    /// edited at Cloudflare (a primary for outgoing transfers).
    Full,
    /// `"partial"`: a CNAME setup; another provider is authoritative.
    Partial,
    /// `"secondary"`: the zone's records come only from its primaries, by
    /// zone transfer (incoming transfers).
    Secondary,
    /// Any other string Cloudflare sends, verbatim.
    Other(String),
}

impl ZoneType {
    /// The string Cloudflare sends.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Full => "full",
            Self::Partial => "partial",
            Self::Secondary => "secondary",
            Self::Other(text) => text,
        }
    }
}

impl From<String> for ZoneType {
    fn from(text: String) -> Self {
        match text.as_str() {
            "full" => Self::Full,
            "partial" => Self::Partial,
            "secondary" => Self::Secondary,
            _ => Self::Other(text),
        }
    }
}

/// Where a zone is in its life at Cloudflare.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ZoneStatus {
    /// `"initializing"`: just created.
    Initializing,
    /// `"pending"`: waiting for the registrar to list Cloudflare's name
    /// servers (a new secondary zone stays here until they do).
    Pending,
    /// `"active"`: Cloudflare answers for the zone.
    Active,
    /// `"moved"`: the registrar no longer lists Cloudflare's name servers.
    Moved,
    /// Any other string Cloudflare sends, verbatim.
    Other(String),
}

impl ZoneStatus {
    /// The string Cloudflare sends.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Initializing => "initializing",
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Moved => "moved",
            Self::Other(text) => text,
        }
    }
}

impl From<String> for ZoneStatus {
    fn from(text: String) -> Self {
        match text.as_str() {
            "initializing" => Self::Initializing,
            "pending" => Self::Pending,
            "active" => Self::Active,
            "moved" => Self::Moved,
            _ => Self::Other(text),
        }
    }
}

string_result!(ZoneType);
string_result!(ZoneStatus);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zone_name_is_lowercase_ascii_without_the_trailing_dot() {
        for (given, kept) in [
            ("example.com", "example.com"),
            ("Example.COM.", "example.com"),
            ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
            ("_sub.example.com", "_sub.example.com"),
        ] {
            assert_eq!(ZoneName::new(given).unwrap().as_str(), kept);
        }
        let longest = format!("{}.com", vec!["a".repeat(63); 3].join("."));
        assert_eq!(longest.len(), 195);
        assert!(ZoneName::new(&longest).is_ok());
        assert!(
            ZoneName::new("example.com")
                .unwrap()
                .matches("EXAMPLE.com.")
        );
        assert!(!ZoneName::new("example.com").unwrap().matches("example.net"));
    }

    #[test]
    fn what_cannot_be_a_zone_name_is_refused_with_the_reason() {
        let label_64 = format!("{}.com", "a".repeat(64));
        let long_300 = format!("{}.com", vec!["a".repeat(60); 5].join("."));
        for (given, says) in [
            ("exa mple.com", "' '"),
            ("example.com\u{7}", "'\\u{7}'"),
            ("", "empty"),
            (".", "empty"),
            ("com", "single label"),
            ("example..com", "empty label"),
            ("example.com..", "empty label"),
            (".example.com", "empty label"),
            (label_64.as_str(), "64 bytes long"),
            (long_300.as_str(), "308 bytes long"),
            ("-example.com", "starts or ends with `-`"),
            ("exa*mple.com", "'*'"),
            ("münchen.de", "ASCII form: xn--mnchen-3ya.de"),
        ] {
            let error = ZoneName::new(given).unwrap_err().to_string();
            assert!(error.contains(says), "{given:?}: {error}");
            assert!(error.len() < 300, "{error}");
        }
    }

    #[test]
    fn types_and_statuses_keep_what_cloudflare_adds() {
        assert_eq!(ZoneType::from("secondary"), ZoneType::Secondary);
        assert_eq!(ZoneType::from("dns_only").as_str(), "dns_only");
        assert_eq!(ZoneStatus::from("pending"), ZoneStatus::Pending);
        let status: ZoneStatus = serde_json::from_str("\"read only\"").unwrap();
        assert_eq!(serde_json::to_string(&status).unwrap(), "\"read only\"");
    }
}
