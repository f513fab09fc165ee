//! The times of a zone's transfer configuration (`checked_time`,
//! `created_time`, `modified_time`, `last_transferred_time`).
//!
//! Cloudflare writes them as RFC 3339 (`2019-10-24T17:09:42.883908+01:00`).
//! They are informational: a time written in another form must not make the
//! whole configuration undecodable, so a [`Timestamp`] keeps the text it was
//! read from, with the parsed time when it is one, and is written back as it
//! was read. The generator swaps this type in for the spec's `Timestamp`
//! schema (see `xtask/src/lib.rs`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A time Cloudflare reports, with its UTC offset.
///
/// ```
/// use cloudflare_secondary_dns::Timestamp;
///
/// let at = Timestamp::from("2019-10-24T17:09:42.883908+01:00");
/// assert_eq!(at.time().map(|t| t.unix_timestamp()), Some(1_571_933_382));
/// let odd = Timestamp::from("yesterday");
/// assert_eq!((odd.time(), odd.as_str()), (None, "yesterday"));
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Timestamp {
    text: String,
    time: Option<OffsetDateTime>,
}

impl Timestamp {
    /// The time, or `None` when Cloudflare wrote something that is not
    /// RFC 3339.
    pub fn time(&self) -> Option<OffsetDateTime> {
        self.time
    }

    /// The text as Cloudflare wrote it.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(time: OffsetDateTime) -> Self {
        let text = time.format(&Rfc3339).unwrap_or_else(|_| time.to_string());
        Self {
            text,
            time: Some(time),
        }
    }
}

impl From<String> for Timestamp {
    /// Any text: parsed when it is RFC 3339, kept as it is in any case.
    fn from(text: String) -> Self {
        let time = OffsetDateTime::parse(&text, &Rfc3339).ok();
        Self { text, time }
    }
}

impl From<&str> for Timestamp {
    fn from(text: &str) -> Self {
        Self::from(text.to_owned())
    }
}

impl From<&Timestamp> for Timestamp {
    fn from(at: &Timestamp) -> Self {
        at.clone()
    }
}

impl std::str::FromStr for Timestamp {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self::from(text))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.time {
            Some(_) => write!(f, "Timestamp({})", self.text),
            None => write!(f, "Timestamp(unparsed {:?})", self.text),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_round_trips_as_written_and_other_text_is_kept() {
        for text in [
            "2019-10-24T17:09:42.883908+01:00",
            "2026-12-02T10:00:00Z",
            "",
            "2019-10-24 17:09:42",
        ] {
            let at: Timestamp = serde_json::from_str(&format!("{text:?}")).unwrap();
            assert_eq!(at.as_str(), text);
            assert_eq!(serde_json::to_string(&at).unwrap(), format!("{text:?}"));
        }
        let at = Timestamp::from("2019-10-24T17:09:42.883908+01:00");
        let time = at.time().unwrap();
        assert_eq!(
            (time.microsecond(), time.offset().whole_hours()),
            (883_908, 1)
        );
        assert_eq!(Timestamp::from(time), at);
        assert!(Timestamp::from("2019-10-24 17:09:42").time().is_none());
        assert!(serde_json::from_str::<Timestamp>("17").is_err());
    }
}
