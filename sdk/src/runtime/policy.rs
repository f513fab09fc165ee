//! What the runtime is configured with, beyond the HTTP client itself. The
//! generated `Client` has one slot for such state (progenitor's inner type);
//! the orchestrator (`runtime/mod.rs`) reads it for every request.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderValue;

use super::connections::FreshConnections;
use super::pacing::{Pacer, RateLimit};
use super::retry::{MAX_SERVER_DELAY, RetryPolicy};
use crate::redact::Secrets;

/// The largest response body read by default: 16 MiB. Cloudflare's bodies
/// are KiB; 10 000 peers are about 2 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;

/// The longest a call waits for the pacer by default (60 s, as long as the
/// retry policy waits for a server's `Retry-After`); past it the call fails
/// at once with [`ErrorKind::RateLimited`](crate::ErrorKind::RateLimited).
pub const DEFAULT_MAX_PACING_WAIT: Duration = MAX_SERVER_DELAY;

/// The per-request policy of a [`Client`](crate::Client): retries, pacing,
/// the response size limit and the secrets kept out of errors. Made by
/// [`ClientBuilder::build`](crate::ClientBuilder::build); `Default` is for
/// [`Client::new_with_client`](crate::Client::new_with_client) with a
/// `reqwest::Client` of your own (it knows no secrets then, and has no
/// unpooled twin: creates go on your client's pool, and are still never
/// replayed outside the retry budget). Both pace at [`RateLimit::CLOUDFLARE`].
#[derive(Clone, Debug)]
pub struct ClientPolicy {
    pub(crate) retry: RetryPolicy,
    pub(crate) max_response_bytes: u64,
    /// `api-version` sent with every request, if pinned.
    pub(crate) api_version: Option<HeaderValue>,
    /// A per-call timeout that overrides the HTTP client's (see `Client::with_options`).
    pub(crate) timeout: Option<Duration>,
    pub(crate) secrets: Secrets,
    /// How to open a connection outside the pool, for a request whose pooled
    /// connection turned out to be closed; `None` replays on the same client.
    pub(crate) fresh_connections: Option<Arc<FreshConnections>>,
    /// Shared by every clone of the client; `None` when pacing is off.
    pub(crate) pacer: Option<Arc<Pacer>>,
    /// The longest a call waits for the pacer.
    pub(crate) max_pacing_wait: Duration,
}

impl Default for ClientPolicy {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            api_version: None,
            timeout: None,
            secrets: Secrets::default(),
            fresh_connections: None,
            pacer: Some(Arc::new(Pacer::new(RateLimit::CLOUDFLARE))),
            max_pacing_wait: DEFAULT_MAX_PACING_WAIT,
        }
    }
}

impl ClientPolicy {
    /// This policy with another retry policy.
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// This policy with another response size limit.
    #[must_use]
    pub fn with_max_response_bytes(mut self, max_response_bytes: u64) -> Self {
        self.max_response_bytes = max_response_bytes;
        self
    }

    /// This policy pacing at `limit` (`None`: no pacing), with a pacer of its
    /// own (not shared with the clients made from this policy before).
    #[must_use]
    pub fn with_rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.pacer = limit.map(|limit| Arc::new(Pacer::new(limit)));
        self
    }

    /// The retry policy.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The largest response body the client reads.
    pub fn max_response_bytes(&self) -> u64 {
        self.max_response_bytes
    }

    /// The limit the client paces itself to, if it does.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.pacer.as_ref().map(|pacer| pacer.limit())
    }
}
