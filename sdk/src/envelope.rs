//! The envelope's informational lists, `errors` and `messages`.
//!
//! Cloudflare documents both as required arrays, but real responses omit
//! them or send `null`; refusing such a response would lose a valid
//! `result`. The generator swaps this type in for the spec's `Messages`
//! schema (see `xtask/src/lib.rs`), so absent and `null` decode as empty.

use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize};

use crate::types::ResponseInfo;

/// A list of Cloudflare `errors` or `messages`: `code`, `message`, and
/// optionally `documentation_url` and `source.pointer`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Messages(pub Vec<ResponseInfo>);

impl Deref for Messages {
    type Target = Vec<ResponseInfo>;

    fn deref(&self) -> &Vec<ResponseInfo> {
        &self.0
    }
}

impl From<Vec<ResponseInfo>> for Messages {
    fn from(value: Vec<ResponseInfo>) -> Self {
        Self(value)
    }
}

impl From<Messages> for Vec<ResponseInfo> {
    fn from(value: Messages) -> Self {
        value.0
    }
}

impl<'de> Deserialize<'de> for Messages {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<Vec<ResponseInfo>>::deserialize(deserializer).map(|v| Self(v.unwrap_or_default()))
    }
}
