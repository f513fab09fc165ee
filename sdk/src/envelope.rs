//! Cloudflare's response envelope: the resource it carries ([`Envelope`],
//! [`ResponseExt::into_result`]) and its informational lists, `errors` and
//! `messages` ([`Messages`]).
//!
//! On `errors` and `messages`:
//! Cloudflare documents both as required arrays, but real responses omit
//! them or send `null`; refusing such a response would lose a valid
//! `result`. The generator swaps this type in for the spec's `Messages`
//! schema (see `xtask/src/lib.rs`), so absent and `null` decode as empty.

use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize};

use crate::types::ResponseInfo;
use crate::{ApiError, ResponseValue};

/// A success envelope (`{"success": true, "errors": [], "messages": [],
/// "result": …}`) and the resource it carries. Implemented by the generator
/// for every envelope type of the spec (`xtask/src/shape/client.rs`).
pub trait Envelope: Sized {
    /// What `result` holds: a resource (`Peer`), a list (`Vec<Peer>`) or an id.
    type Result;

    /// The `result`, if Cloudflare sent one.
    fn take_result(self) -> Option<Self::Result>;

    /// An envelope of just `result`: `success: true`, empty `errors` and
    /// `messages`, no other field (e.g. for a mock's answer). `From<Result>`
    /// does the same.
    fn with_result(result: Self::Result) -> Self;
}

/// [`into_result`](ResponseExt::into_result) on what an operation returns.
pub trait ResponseExt {
    /// What the envelope carries.
    type Result;

    /// The resource itself, or an [`ErrorKind::InvalidResponse`](crate::ErrorKind::InvalidResponse)
    /// naming `result` when Cloudflare's success envelope left it out (or
    /// sent `null`).
    ///
    /// ```no_run
    /// # use cloudflare_secondary_dns::{ApiError, Client, prelude::*};
    /// # async fn f(client: &Client) -> Result<(), ApiError> {
    /// let peer = client
    ///     .get_peer()
    ///     .account_id("01a7362d577a6c3019a474fd6f485823")
    ///     .peer_id("23ff594956f20c2a721606e94745a8aa")
    ///     .send()
    ///     .await?
    ///     .into_result()?;
    /// println!("{} at {:?}", peer.name, peer.ip);
    /// # Ok(()) }
    /// ```
    fn into_result(self) -> Result<Self::Result, ApiError>;
}

impl<E: Envelope> ResponseExt for ResponseValue<E> {
    type Result = E::Result;

    fn into_result(self) -> Result<E::Result, ApiError> {
        self.into_inner()
            .take_result()
            .ok_or_else(ApiError::missing_result)
    }
}

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

impl crate::types::ApiResponseCommonFailure {
    /// Cloudflare's failure envelope with one error, `code: message`
    /// (`success: false`, no messages, `result: null`): what a mock answers
    /// with (`then.client_error(404, ApiResponseCommonFailure::new(1003,
    /// "peer not found"))`, or the mocks' `then.failure(404, 1003, "…")`).
    ///
    /// ```
    /// use cloudflare_secondary_dns::types::ApiResponseCommonFailure;
    ///
    /// let failure = ApiResponseCommonFailure::new(1003, "peer not found");
    /// assert_eq!(failure.to_string(), "1003: peer not found");
    /// assert_eq!(
    ///     serde_json::to_value(&failure).unwrap(),
    ///     serde_json::json!({
    ///         "success": false, "errors": [{"code": 1003, "message": "peer not found"}],
    ///         "messages": [], "result": null,
    ///     })
    /// );
    /// ```
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        let error = ResponseInfo {
            code,
            documentation_url: None,
            message: message.into(),
            source: None,
        };
        Self {
            errors: Messages(vec![error]),
            messages: Messages::default(),
            result: Some(serde_json::Value::Null),
            success: crate::const_bool::ConstFalse::default(),
        }
    }
}
