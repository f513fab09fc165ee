//! Cloudflare identifiers for path parameters: 32 lowercase hexadecimal
//! characters, checked before any request is built.
//!
//! The spec states the rule (`minLength`, `maxLength`, `pattern`) and the
//! generator swaps these types in for its `AccountIdentifier`,
//! `PeerIdentifier`, `TsigIdentifier`, `ZoneIdentifier` and `AclIdentifier`
//! schemas (see `xtask/src/lib.rs`).
//! typify's own types check the pattern with a backtracking regex (about
//! 1 500 instructions per id, measured with callgrind) and keep the reason
//! from the caller; a byte check costs a small fraction of that and
//! [`InvalidIdentifier`] says what is wrong. A test keeps the two rules equal.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What an identifier names; gives its parameter name to error messages.
pub trait IdentifierKind {
    /// The path parameter, e.g. `peer_id`.
    const PARAMETER: &'static str;
}

/// Marks an account identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Account {}
/// Marks a peer identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Peer {}
/// Marks a TSIG key identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tsig {}
/// Marks a zone identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Zone {}
/// Marks an ACL identifier (upstream types it with the peer-id schema; an
/// ACL id is not a peer id, and the types keep them apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Acl {}

impl IdentifierKind for Account {
    const PARAMETER: &'static str = "account_id";
}
impl IdentifierKind for Peer {
    const PARAMETER: &'static str = "peer_id";
}
impl IdentifierKind for Tsig {
    const PARAMETER: &'static str = "tsig_id";
}
impl IdentifierKind for Zone {
    const PARAMETER: &'static str = "zone_id";
}
impl IdentifierKind for Acl {
    const PARAMETER: &'static str = "acl_id";
}

/// An account identifier.
pub type AccountIdentifier = Identifier<Account>;
/// A peer identifier.
pub type PeerIdentifier = Identifier<Peer>;
/// A TSIG key identifier.
pub type TsigIdentifier = Identifier<Tsig>;
/// A zone identifier.
pub type ZoneIdentifier = Identifier<Zone>;
/// An ACL identifier.
pub type AclIdentifier = Identifier<Acl>;

/// A checked Cloudflare identifier: exactly 32 characters `0-9a-f`, held
/// inline and `Copy`, so that making or passing one allocates nothing.
#[derive(PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identifier<K> {
    /// 32 ASCII bytes `0-9a-f`, checked by `new`: inline, so that an id
    /// costs no allocation.
    id: [u8; 32],
    kind: PhantomData<K>,
}

/// Why a value is not an identifier. It names the parameter and the value
/// (identifiers are not secrets), escaped. `Debug` is the same message, so
/// that `?` out of `main` prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct InvalidIdentifier {
    parameter: &'static str,
    value: String,
}

impl fmt::Display for InvalidIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} must be 32 lowercase hexadecimal characters, got {:?}",
            self.parameter, self.value
        )
    }
}

impl fmt::Debug for InvalidIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for InvalidIdentifier {}

/// An identifier given as one converts without error.
impl From<std::convert::Infallible> for InvalidIdentifier {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

impl<K: IdentifierKind> Identifier<K> {
    /// Checks `id`.
    pub fn new(id: impl AsRef<str>) -> Result<Self, InvalidIdentifier> {
        let given = id.as_ref();
        match <[u8; 32]>::try_from(given.as_bytes()) {
            Ok(id) if is_lowercase_hex(&id) => Ok(Self {
                id,
                kind: PhantomData,
            }),
            _ => Err(InvalidIdentifier {
                parameter: K::PARAMETER,
                value: given.to_owned(),
            }),
        }
    }
}

/// Whether every byte is `0-9a-f`: checked without an early exit, which
/// the compiler turns into a few vector instructions (ids are checked on
/// every request).
fn is_lowercase_hex(id: &[u8; 32]) -> bool {
    id.iter().fold(true, |all, &b| {
        all & (b.is_ascii_digit() | (b'a'..=b'f').contains(&b))
    })
}

impl<K> Identifier<K> {
    /// The identifier.
    pub fn as_str(&self) -> &str {
        // ASCII by construction: never the empty fallback.
        std::str::from_utf8(&self.id).unwrap_or_default()
    }
}

impl<K> Copy for Identifier<K> {}

impl<K> Clone for Identifier<K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K> fmt::Debug for Identifier<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<K> fmt::Display for Identifier<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<K> AsRef<str> for Identifier<K> {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl<K> From<Identifier<K>> for String {
    fn from(id: Identifier<K>) -> String {
        id.as_str().to_owned()
    }
}

impl<K: IdentifierKind> FromStr for Identifier<K> {
    type Err = InvalidIdentifier;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl<K: IdentifierKind> TryFrom<&str> for Identifier<K> {
    type Error = InvalidIdentifier;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl<K: IdentifierKind> TryFrom<String> for Identifier<K> {
    type Error = InvalidIdentifier;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

// Ids read from a response (`peer.id`) can be passed as they are.
impl<K: IdentifierKind> TryFrom<&String> for Identifier<K> {
    type Error = InvalidIdentifier;
    fn try_from(s: &String) -> Result<Self, Self::Error> {
        Self::new(s.as_str())
    }
}

impl<K> From<&Identifier<K>> for Identifier<K> {
    fn from(id: &Identifier<K>) -> Self {
        *id
    }
}

impl<K> Serialize for Identifier<K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de, K: IdentifierKind> Deserialize<'de> for Identifier<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::new(String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_32_lowercase_hex_characters() {
        assert!(PeerIdentifier::new("23ff594956f20c2a721606e94745a8aa").is_ok());
        for bad in [
            "",
            ".",
            "..",
            "23FF594956F20C2A721606E94745A8AA",
            "23ff594956f20c2a721606e94745a8a",
            "23ff594956f20c2a721606e94745a8aa0",
            "23ff594956f20c2a721606e94745a8\u{e9}",
        ] {
            assert!(PeerIdentifier::new(bad).is_err(), "{bad:?}");
        }
        let err = TsigIdentifier::try_from("../zones").unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"tsig_id must be 32 lowercase hexadecimal characters, got "../zones""#
        );
        let err = AccountIdentifier::try_from("a\r\nb").unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"account_id must be 32 lowercase hexadecimal characters, got "a\r\nb""#
        );
    }

    #[test]
    fn serde_checks_too() {
        let id: PeerIdentifier =
            serde_json::from_str(r#""23ff594956f20c2a721606e94745a8aa""#).unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            r#""23ff594956f20c2a721606e94745a8aa""#
        );
        assert!(serde_json::from_str::<PeerIdentifier>(r#"".."#).is_err());
    }
}
