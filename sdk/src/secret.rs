//! The TSIG secret: a credential that goes to the wire exactly and nowhere else.
//!
//! Generated types derive `Debug`, so a plain `String` would print the secret
//! in every `{:?}` of a `Tsig`. The generator swaps this type in for the
//! spec's `TsigSecret` schema (see `xtask/src/lib.rs`).

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A TSIG secret. `Debug` prints `TsigSecret([REDACTED])`; serialization
/// writes the secret itself, because the API needs it.
#[derive(Clone)]
pub struct TsigSecret(SecretString);

impl TsigSecret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(SecretString::from(secret.into()))
    }

    /// The secret itself. Every use is a place where it can leak: keep them few.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for TsigSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TsigSecret([REDACTED])")
    }
}

impl PartialEq for TsigSecret {
    fn eq(&self, other: &Self) -> bool {
        self.expose_secret() == other.expose_secret()
    }
}

impl Eq for TsigSecret {}

impl From<String> for TsigSecret {
    fn from(secret: String) -> Self {
        Self::new(secret)
    }
}

impl From<&str> for TsigSecret {
    fn from(secret: &str) -> Self {
        Self::new(secret)
    }
}

impl Serialize for TsigSecret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.expose_secret())
    }
}

impl<'de> Deserialize<'de> for TsigSecret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret_and_serde_keeps_it_exact() {
        let secret = TsigSecret::from("c0ffee\"\\\u{e9}");
        assert_eq!(format!("{secret:?}"), "TsigSecret([REDACTED])");
        let json = serde_json::to_string(&secret).unwrap();
        assert_eq!(json, r#""c0ffee\"\\é""#);
        assert_eq!(serde_json::from_str::<TsigSecret>(&json).unwrap(), secret);
        assert_ne!(secret, TsigSecret::from("other"));
    }
}
