//! Per-call settings: [`Client::with_options`] returns a client that differs
//! only in them and shares the original's connection pool.

use std::time::Duration;

use crate::Client;

/// Settings that override a client's for the calls made through
/// [`Client::with_options`]. Unset ones keep the client's.
///
/// ```
/// # use std::time::Duration;
/// # use cloudflare_secondary_dns::{CallOptions, Client, Credentials};
/// # let client = Client::builder(Credentials::api_token("token")).build().unwrap();
/// // One quick probe that must not wait for retries:
/// let quick = client.with_options(
///     CallOptions::new().timeout(Duration::from_secs(2)).max_retries(0),
/// );
/// # let _ = quick;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
#[must_use]
pub struct CallOptions {
    timeout: Option<Duration>,
    max_retries: Option<u32>,
    retry_backoff: Option<(Duration, Duration)>,
    max_pacing_wait: Option<Duration>,
}

impl CallOptions {
    /// No overrides.
    pub fn new() -> Self {
        Self::default()
    }

    /// Total time allowed for one attempt, instead of the client's timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Retries after the first attempt, instead of the client's (0 disables them).
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = Some(max_retries);
        self
    }

    /// The first and the longest computed delay between retries:
    /// `min(initial · 2ⁿ, max)`, so an `initial` longer than `max` waits `max`.
    pub fn retry_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.retry_backoff = Some((initial, max));
        self
    }

    /// The longest these calls wait for the pacer, instead of the client's
    /// ([`ClientBuilder::max_pacing_wait`](crate::ClientBuilder::max_pacing_wait)):
    /// `Duration::ZERO` fails at once whenever a call would wait,
    /// `Duration::MAX` waits out any pause.
    pub fn max_pacing_wait(mut self, max_wait: Duration) -> Self {
        self.max_pacing_wait = Some(max_wait);
        self
    }
}

impl Client {
    /// This client with `options` applied to every call made through it.
    /// Cheap: the clone shares the connection pool, credentials, pacer and limits
    /// (a few reference counts and the base URL are copied), so it can be
    /// made per call.
    pub fn with_options(&self, options: CallOptions) -> Client {
        let mut policy = self.inner.clone();
        if let Some(timeout) = options.timeout {
            policy.timeout = Some(timeout);
        }
        if let Some(max_retries) = options.max_retries {
            policy.retry.max_retries = max_retries;
        }
        if let Some((initial, max)) = options.retry_backoff {
            policy.retry.initial_backoff = initial;
            policy.retry.max_backoff = max;
        }
        if let Some(max_wait) = options.max_pacing_wait {
            policy.max_pacing_wait = max_wait;
        }
        Client::new_with_client(&self.baseurl, self.client.clone(), policy)
    }
}
