//! What the client applies to every request beyond the HTTP client itself.
//! The generated `Client` has one slot for such state (progenitor's inner
//! type); the hooks (`hooks.rs`) read it.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::header::HeaderValue;

use crate::config::HttpSettings;

use crate::redact::Secrets;
use crate::retry::RetryPolicy;

/// The largest response body read by default: 16 MiB. Cloudflare's bodies
/// are KiB; 10 000 peers are about 2 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;

/// The per-request policy of a [`Client`](crate::Client): retries, the
/// response size limit and the secrets kept out of errors. Made by
/// [`ClientBuilder::build`](crate::ClientBuilder::build); `Default` is for
/// [`Client::new_with_client`](crate::Client::new_with_client) with a
/// `reqwest::Client` of your own (it knows no secrets then, and has no
/// unpooled twin: creates go on your client's pool, and are still never
/// replayed outside the retry budget).
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

    /// The retry policy.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The largest response body the client reads.
    pub fn max_response_bytes(&self) -> u64 {
        self.max_response_bytes
    }
}

/// The settings of the pooled client, to build an unpooled twin on first need.
#[derive(Debug)]
pub(crate) struct FreshConnections {
    pub(crate) settings: HttpSettings,
    pub(crate) client: OnceLock<reqwest::Client>,
}

impl FreshConnections {
    /// A client that never reuses a connection, built once.
    pub(crate) fn client(&self) -> Option<&reqwest::Client> {
        if let Some(client) = self.client.get() {
            return Some(client);
        }
        let built = self
            .settings
            .client_builder()
            .pool_max_idle_per_host(0)
            .build()
            .ok()?;
        Some(self.client.get_or_init(|| built))
    }
}
