//! Failures the client decides on itself (a body over the size limit, a
//! request the pacer will not hold that long), turned into the
//! `reqwest::Error` the generated code expects from a transport, with the
//! typed cause as its source. Imports nothing of the runtime.

use std::error::Error as _;
use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use reqwest::Url;

/// A response larger than the client reads
/// ([`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes)).
/// It is the source of the transport error the operation returns; most code
/// matches [`ErrorKind::ResponseTooLarge`](crate::ErrorKind::ResponseTooLarge) instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseTooLarge {
    /// The limit, in bytes.
    pub limit: u64,
    /// The size the response announced (`Content-Length`), if it did.
    pub content_length: Option<u64>,
}

impl fmt::Display for ResponseTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.content_length {
            Some(length) if length > self.limit => write!(
                f,
                "the response announced {length} bytes, over the limit of {} bytes; \
                 nothing was read (raise it with ClientBuilder::max_response_bytes)",
                self.limit
            ),
            _ => write!(
                f,
                "the response grew past the limit of {} bytes while being read \
                 (raise it with ClientBuilder::max_response_bytes)",
                self.limit
            ),
        }
    }
}

impl std::error::Error for ResponseTooLarge {}

/// Why the pacer held a request back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Held {
    /// The client's own share of the rate limit: its turn had not come.
    Pacing,
    /// `Ratelimit` said few requests remain: they are spread until the reset.
    ServerLow,
    /// `Ratelimit` said none remain (`r=0`): every request waits for the reset.
    ServerExhausted,
    /// A 429: every request waits for its `Retry-After`.
    TooManyRequests,
}

impl Held {
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Held::Pacing => "pacing",
            Held::ServerLow => "few requests remain",
            Held::ServerExhausted => "no requests remain",
            Held::TooManyRequests => "429",
        }
    }
}

/// A request the pacer did not send: its turn was further away than the
/// call may wait (`max_pacing_wait`). Surfaces as
/// [`ErrorKind::RateLimited`](crate::ErrorKind::RateLimited) with no HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NotSent {
    /// How long until the request could be sent.
    pub(crate) retry_after: Duration,
    pub(crate) held: Held,
    /// The longest the call would wait.
    pub(crate) max_wait: Duration,
}

impl fmt::Display for NotSent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self.held {
            Held::Pacing => "its turn under the client's rate limit",
            Held::ServerLow | Held::ServerExhausted => {
                "Cloudflare's rate-limit window to reset (Ratelimit header)"
            }
            Held::TooManyRequests => "the pause Cloudflare asked for with a 429",
        };
        write!(
            f,
            "not sent: it would wait {} ms for {why}, longer than the {} ms it may wait \
             (max_pacing_wait)",
            self.retry_after.as_millis(),
            self.max_wait.as_millis()
        )
    }
}

impl std::error::Error for NotSent {}

/// The first `T` among an error's sources.
pub(crate) fn in_chain<T: std::error::Error + 'static>(error: &reqwest::Error) -> Option<&T> {
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(found) = cause.downcast_ref::<T>() {
            return Some(found);
        }
        source = cause.source();
    }
    None
}

/// `cause` as a `reqwest::Error` for `url`: reqwest makes its errors only
/// itself, so one is made by reading a body whose only chunk fails with it.
pub(crate) async fn as_transport_error<E>(cause: E, url: &Url) -> reqwest::Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter([Err::<Bytes, _>(cause)]));
    let response = reqwest::Response::from(http::Response::new(body));
    let error = response
        .bytes()
        .await
        .expect_err("a body whose only chunk is an error fails");
    error.with_url(url.clone())
}
