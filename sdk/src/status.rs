//! The string results of Cloudflare's transfer actions, typed so that a
//! caller can match on them; a string Cloudflare adds still decodes (as
//! `Other`) and is written back as it came. The generator swaps these types
//! in for the spec's `TransferStatus` and `ForceOutcome` schemas (see
//! `xtask/src/lib.rs`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Whether a primary zone's outgoing transfers are on: the result of Enable,
/// Disable and Get Outgoing Status.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransferStatus {
    /// `"Enabled"`: Cloudflare sends NOTIFYs and serves AXFR/IXFR.
    Enabled,
    /// `"Disabled"`.
    Disabled,
    /// Any other string Cloudflare sends, verbatim.
    Other(String),
}

/// The result of Force AXFR and Force NOTIFY: `"OK"` when Cloudflare took
/// the request (the transfer itself happens later).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ForceOutcome {
    /// `"OK"`.
    Ok,
    /// Any other string Cloudflare sends, verbatim.
    Other(String),
}

impl TransferStatus {
    /// The string Cloudflare sends.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Enabled => "Enabled",
            Self::Disabled => "Disabled",
            Self::Other(text) => text,
        }
    }
}

impl ForceOutcome {
    /// The string Cloudflare sends.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Ok => "OK",
            Self::Other(text) => text,
        }
    }
}

impl From<String> for TransferStatus {
    fn from(text: String) -> Self {
        match text.as_str() {
            "Enabled" => Self::Enabled,
            "Disabled" => Self::Disabled,
            _ => Self::Other(text),
        }
    }
}

impl From<String> for ForceOutcome {
    fn from(text: String) -> Self {
        match text.as_str() {
            "OK" => Self::Ok,
            _ => Self::Other(text),
        }
    }
}

/// Display, serde and the conversions the generated code asks of a
/// replaced type, the same for both.
macro_rules! string_result {
    ($name:ident) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                Self::from(text.to_owned())
            }
        }
        impl From<&$name> for $name {
            fn from(value: &$name) -> Self {
                value.clone()
            }
        }
        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(text))
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self::from)
            }
        }
    };
}

pub(crate) use string_result;

string_result!(TransferStatus);
string_result!(ForceOutcome);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_strings_match_and_others_are_kept() {
        for (text, status) in [
            ("Enabled", TransferStatus::Enabled),
            ("Disabled", TransferStatus::Disabled),
            ("Paused", TransferStatus::Other("Paused".into())),
            ("enabled", TransferStatus::Other("enabled".into())),
        ] {
            let read: TransferStatus = serde_json::from_str(&format!("{text:?}")).unwrap();
            assert_eq!(read, status);
            assert_eq!(serde_json::to_string(&read).unwrap(), format!("{text:?}"));
        }
        let ok: ForceOutcome = serde_json::from_str("\"OK\"").unwrap();
        assert_eq!(ok, ForceOutcome::Ok);
        assert_eq!(ForceOutcome::from("queued").to_string(), "queued");
        assert!(serde_json::from_str::<TransferStatus>("null").is_err());
    }
}
