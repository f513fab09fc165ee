//! The retry decision: after each attempt, whether to try again and after
//! how long.
//!
//! It follows Cloudflare's official SDKs: connection errors, timeouts and the
//! statuses 408, 409, 429 and 5xx are retried; a response header
//! `x-should-retry: true|false` overrides that; the delay is
//! `min(initial · 2^n, max)` less up to 25 % jitter, unless the server asks
//! for a delay with `retry-after-ms` or `retry-after`. One difference: a
//! server delay longer than 60 s is not slept through nor cut short: the error
//! is returned at once, with the delay it asked for (see `ApiError::retry_after`).
//! With the pacer on, a 429's wait is the pacer's (it pauses every request
//! of the client, up to each call's `max_pacing_wait`), so a retry after a
//! 429 is scheduled at once and waits at the pacer's gate.
//!
//! The exponential schedule comes from `backon`; this module only says what
//! is retryable and how long the server asked to wait.

use std::time::{Duration, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use super::outcome::{Failure, Outcome};

/// How many times, and how patiently, a failed request is retried. Set it with
/// [`ClientBuilder::max_retries`](crate::ClientBuilder::max_retries) and
/// [`ClientBuilder::retry_backoff`](crate::ClientBuilder::retry_backoff).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 2; 0 disables retrying).
    pub max_retries: u32,
    /// The delay before the first retry (default 0.5 s); doubled for each further one.
    pub initial_backoff: Duration,
    /// The longest computed delay (default 8 s).
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
        }
    }
}

/// The longest delay a server may ask for and still be waited for.
pub const MAX_SERVER_DELAY: Duration = Duration::from_secs(60);

/// What to do after an attempt.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Hand the outcome to the caller.
    Stop,
    /// Try again after this delay.
    RetryAfter(Duration),
}

fn retryable(failure: &Failure) -> bool {
    match failure {
        // Builder and redirect errors would fail the same way again.
        Failure::Transport(e) => !(e.is_builder() || e.is_redirect()),
        Failure::Status(_) => true,
        Failure::TooLarge(_) | Failure::NotSent(_) => false,
    }
}

/// Whether a complete error response should be retried.
pub(crate) fn status_is_retryable(status: StatusCode, headers: &HeaderMap) -> bool {
    match headers.get("x-should-retry").map(|v| v.as_bytes()) {
        Some(b"true") => return true,
        Some(b"false") => return false,
        _ => {}
    }
    matches!(status.as_u16(), 408 | 409 | 429) || status.is_server_error()
}

/// The delay a response asks for: `retry-after-ms` (milliseconds), else
/// `retry-after` as seconds or as an HTTP date. `None` when absent, invalid
/// or not in the future.
pub fn server_delay(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let delay = if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        Duration::try_from_secs_f64(ms / 1000.0).ok()?
    } else {
        let value = header("retry-after")?;
        match value.parse::<f64>() {
            Ok(seconds) => Duration::try_from_secs_f64(seconds).ok()?,
            Err(_) => httpdate::parse_http_date(value)
                .ok()?
                .duration_since(now)
                .ok()?,
        }
    };
    (!delay.is_zero()).then_some(delay)
}

/// The computed delay less a random 0–25 %, so that clients that failed
/// together do not retry together.
fn with_jitter(delay: Duration) -> Duration {
    delay.mul_f64(1.0 - 0.25 * fastrand::f64())
}

impl RetryPolicy {
    /// The computed delays, before jitter: `min(initial · 2ⁿ, max)`, one per
    /// retry allowed. An initial delay longer than the maximum is clamped to
    /// it (backon would otherwise start from the initial one).
    pub(crate) fn schedule(&self) -> impl Iterator<Item = Duration> + use<> {
        ExponentialBuilder::new()
            .with_min_delay(self.initial_backoff.min(self.max_backoff))
            .with_max_delay(self.max_backoff)
            .with_factor(2.0)
            .with_max_times(self.max_retries as usize)
            .build()
    }

    /// After an attempt: stop, or retry after a delay taken from `schedule`
    /// (which ends when the retries are spent). `paced`: a pacer holds every
    /// request during a 429's pause, so such a retry need not sleep itself.
    pub(crate) fn decide(
        outcome: &Outcome,
        schedule: &mut impl Iterator<Item = Duration>,
        paced: bool,
    ) -> Decision {
        let Err(failure) = outcome else {
            return Decision::Stop;
        };
        if !retryable(failure) {
            return Decision::Stop;
        }
        let Some(computed) = schedule.next() else {
            return Decision::Stop;
        };
        let Failure::Status(response) = failure else {
            return Decision::RetryAfter(with_jitter(computed));
        };
        if paced && response.status == StatusCode::TOO_MANY_REQUESTS {
            return Decision::RetryAfter(Duration::ZERO);
        }
        match server_delay(response.headers(), SystemTime::now()) {
            Some(asked) if asked <= MAX_SERVER_DELAY => Decision::RetryAfter(asked),
            Some(_) => Decision::Stop, // asked to come back much later: give up now
            None => Decision::RetryAfter(with_jitter(computed)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (k.parse().unwrap(), HeaderValue::from_str(v).unwrap()))
            .collect()
    }

    #[test]
    fn server_delays() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let delay = |pairs: &[(&'static str, &str)]| server_delay(&headers(pairs), now);
        assert_eq!(delay(&[("retry-after", "1")]), Some(Duration::from_secs(1)));
        assert_eq!(
            delay(&[("retry-after", " 2.5 ")]),
            Some(Duration::from_millis(2500))
        );
        assert_eq!(
            delay(&[("retry-after-ms", "150"), ("retry-after", "9")]),
            Some(Duration::from_millis(150))
        );
        let in_30s = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            delay(&[("retry-after", &in_30s)]),
            Some(Duration::from_secs(30))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(delay(&[("retry-after", &past)]), None);
        assert_eq!(delay(&[("retry-after", "0")]), None);
        assert_eq!(delay(&[("retry-after", "-1")]), None);
        assert_eq!(delay(&[("retry-after", "soon")]), None);
        assert_eq!(delay(&[("retry-after", "1e300")]), None);
        assert_eq!(delay(&[]), None);
    }

    #[test]
    fn delays_are_min_of_initial_doubled_and_max() {
        let policy = |initial, max| RetryPolicy {
            max_retries: 5,
            initial_backoff: Duration::from_millis(initial),
            max_backoff: Duration::from_millis(max),
        };
        let delays = |p: RetryPolicy| p.schedule().map(|d| d.as_millis()).collect::<Vec<_>>();
        assert_eq!(delays(policy(500, 8000)), [500, 1000, 2000, 4000, 8000]);
        assert_eq!(delays(policy(100, 300)), [100, 200, 300, 300, 300]);
        // An initial delay over the maximum is clamped: never 3 s for a 20 ms cap.
        assert_eq!(delays(policy(3000, 20)), [20, 20, 20, 20, 20]);
    }

    #[test]
    fn jitter_takes_off_at_most_a_quarter() {
        for _ in 0..1000 {
            let d = with_jitter(Duration::from_secs(8));
            assert!(
                d <= Duration::from_secs(8) && d >= Duration::from_secs(6),
                "{d:?}"
            );
        }
    }
}
