//! Boolean constants for the envelope's `success` field.
//!
//! The spec says `success: {type: boolean, enum: [true]}`, but typify maps
//! that to a plain `bool`, so a 200 body carrying `"success": false` would
//! decode as a success. The generator swaps these types in (see
//! `xtask/src/lib.rs`), so such a body is refused as an invalid payload.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// A boolean that can only hold `VALUE`: it serializes as `VALUE` and refuses
/// to deserialize from anything else.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ConstBool<const VALUE: bool>;

/// `success: true` in a successful response envelope.
pub type ConstTrue = ConstBool<true>;
/// `success: false` in a failure envelope.
pub type ConstFalse = ConstBool<false>;

impl<const VALUE: bool> ConstBool<VALUE> {
    /// The one value this type holds.
    pub const VALUE: bool = VALUE;
}

impl<const VALUE: bool> From<ConstBool<VALUE>> for bool {
    fn from(_: ConstBool<VALUE>) -> bool {
        VALUE
    }
}

impl<const VALUE: bool> fmt::Display for ConstBool<VALUE> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        VALUE.fmt(f)
    }
}

impl<const VALUE: bool> Serialize for ConstBool<VALUE> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bool(VALUE)
    }
}

impl<'de, const VALUE: bool> Deserialize<'de> for ConstBool<VALUE> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let found = bool::deserialize(deserializer)?;
        if found == VALUE {
            Ok(ConstBool)
        } else {
            Err(de::Error::invalid_value(
                de::Unexpected::Bool(found),
                &if VALUE { "`true`" } else { "`false`" },
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_its_constant() {
        assert_eq!(
            serde_json::from_str::<ConstTrue>("true").unwrap(),
            ConstBool
        );
        assert_eq!(
            serde_json::from_str::<ConstFalse>("false").unwrap(),
            ConstBool
        );
        let err = serde_json::from_str::<ConstTrue>("false").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid value: boolean `false`, expected `true`"),
            "{err}"
        );
        assert!(serde_json::from_str::<ConstFalse>("true").is_err());
        assert!(serde_json::from_str::<ConstTrue>("\"true\"").is_err());
        assert!(serde_json::from_str::<ConstTrue>("null").is_err());
    }

    #[test]
    fn serializes_as_its_constant() {
        assert_eq!(
            serde_json::to_string(&ConstTrue::default()).unwrap(),
            "true"
        );
        assert_eq!(
            serde_json::to_string(&ConstFalse::default()).unwrap(),
            "false"
        );
        assert!(bool::from(ConstTrue::default()));
        const { assert!(!ConstFalse::VALUE) };
    }
}
