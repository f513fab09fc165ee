//! The pacer: a gate every attempt passes before it is sent, shared by a
//! client and all its clones, so that together they stay under Cloudflare's
//! rate limit (1,200 requests per 5 minutes per user; going over blocks
//! every call for 5 minutes).
//!
//! Three things hold a request back, checked in this order:
//! 1. a pause: a 429 (for its `Retry-After`), or `Ratelimit` saying no
//!    requests remain (`r=0`, until the reset): every request waits;
//! 2. `Ratelimit` saying fewer remain than the client would send at its own
//!    pace before the window can reset (someone else — the dashboard,
//!    another tool — is using the budget): requests are spread so that the
//!    rest last until the reset;
//! 3. the client's own share: a GCRA limiter (`governor`) for the configured
//!    [`RateLimit`], which lets a short burst through and then one request
//!    per [`RateLimit::interval`].
//!
//! A call waits at most its `max_pacing_wait`; a request whose turn is
//! further away fails at once with the time to come back, without being sent.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota};

use super::ratelimit_headers::ServerSignal;
use super::refusal::{Held, NotSent};

/// A rate limit to stay under: at most `requests` in any `window`.
/// [`RateLimit::CLOUDFLARE`] is the default of every client.
///
/// The pacer lets [`burst`](Self::burst) requests through at once, then one
/// every [`interval`](Self::interval); any `window` then holds at most
/// `burst + window / interval − 1` requests, which is kept 1 % under the
/// limit (the margin absorbs requests that reach Cloudflare in another order
/// than they were sent, and a few clicks in the dashboard):
/// - `burst = max(1, requests / 75)`: 16 for 1,200, so a command-line run
///   or a short script never waits;
/// - `margin = requests / 100`: 12 for 1,200;
/// - `interval = window / (requests − margin − burst + 1)`: 300 s / 1,173 =
///   255.8 ms for Cloudflare's limit (3.91 requests/s, 97.8 % of 4/s).
///
/// ```
/// # use std::time::Duration;
/// # use cloudflare_secondary_dns::RateLimit;
/// let cloudflare = RateLimit::CLOUDFLARE;
/// assert_eq!((cloudflare.requests(), cloudflare.window()), (1200, Duration::from_secs(300)));
/// assert_eq!(cloudflare.burst(), 16);
/// assert_eq!(cloudflare.interval().as_millis(), 255);
/// assert_eq!(cloudflare.most_in_any_window(), 1188);
/// // An Enterprise account whose limit Cloudflare raised:
/// let raised = RateLimit::new(6000, Duration::from_secs(300))?;
/// # let _ = raised;
/// # Ok::<(), cloudflare_secondary_dns::InvalidRateLimit>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    requests: NonZeroU32,
    window: Duration,
}

/// A [`RateLimit`] that cannot be paced: no requests, a window outside
/// 1 ms ..= 24 h, or a pace faster than one request per microsecond.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "a rate limit needs at least 1 request per window of 1 ms to 24 h, at most one \
     request per microsecond; got {requests} per {window:?}"
)]
pub struct InvalidRateLimit {
    /// The requests asked for.
    pub requests: u32,
    /// The window asked for.
    pub window: Duration,
}

impl RateLimit {
    /// Cloudflare's documented limit for every user: 1,200 requests per 300 s,
    /// counted across the dashboard, every token and every tool.
    pub const CLOUDFLARE: RateLimit = RateLimit {
        requests: NonZeroU32::new(1200).expect("1200 is not zero"),
        window: Duration::from_secs(300),
    };

    /// At most `requests` per `window`.
    ///
    /// # Errors
    /// [`InvalidRateLimit`] for 0 requests, a window shorter than 1 ms or
    /// longer than 24 h, or a pace faster than 1 request per µs (1,000,000
    /// a second: no limit to pace, use
    /// [`ClientBuilder::no_rate_limit`](crate::ClientBuilder::no_rate_limit)).
    pub fn new(requests: u32, window: Duration) -> Result<Self, InvalidRateLimit> {
        let invalid = InvalidRateLimit { requests, window };
        if window < Duration::from_millis(1) || window > Duration::from_secs(24 * 3600) {
            return Err(invalid);
        }
        let limit = Self {
            requests: NonZeroU32::new(requests).ok_or(invalid)?,
            window,
        };
        if limit.interval() < Duration::from_micros(1) {
            return Err(invalid);
        }
        Ok(limit)
    }

    /// The requests allowed per window.
    pub fn requests(&self) -> u32 {
        self.requests.get()
    }

    /// The window.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Requests the pacer lets through at once: `max(1, requests / 75)`.
    pub fn burst(&self) -> u32 {
        (self.requests() / 75).max(1)
    }

    /// The pace after a burst: `window / (requests − requests/100 − burst + 1)`.
    pub fn interval(&self) -> Duration {
        self.window / self.steady()
    }

    /// The most requests the pacer lets into any one window:
    /// `requests − requests / 100`.
    pub fn most_in_any_window(&self) -> u32 {
        self.burst() + self.steady() - 1
    }

    fn steady(&self) -> u32 {
        // ≥ 1: burst ≤ requests, and the margin is 0 below 100 requests.
        self.requests() - self.requests() / 100 - self.burst() + 1
    }

    fn quota(&self) -> Quota {
        let burst = NonZeroU32::new(self.burst()).expect("burst is at least 1");
        // `new` refuses an interval under 1 µs.
        Quota::with_period(self.interval())
            .expect("the interval is not zero")
            .allow_burst(burst)
    }
}

/// What a [`Client`](crate::Client)'s pacer knows, for a progress display:
/// [`Client::rate_limit_status`](crate::Client::rate_limit_status).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimitStatus {
    /// The limit the client keeps to.
    pub limit: RateLimit,
    /// Requests Cloudflare said remain in its window (`Ratelimit`'s `r`),
    /// from the latest response, until that window has reset.
    pub server_remaining: Option<u64>,
    /// When Cloudflare's window resets (`Ratelimit`'s `t`, counted from the
    /// latest response).
    pub server_resets_in: Option<Duration>,
    /// How long every request is paused for (after a 429, or `r=0`).
    pub paused_for: Option<Duration>,
    /// Requests sent through this client and its clones.
    pub sent: u64,
    /// Requests waiting for their turn now.
    pub waiting: usize,
}

/// A pause when a 429 says nothing of how long.
const UNSPECIFIED_PAUSE: Duration = Duration::from_secs(1);

/// The pacer of a client and its clones (they share it through an `Arc`).
pub(crate) struct Pacer {
    limit: RateLimit,
    local: DefaultDirectRateLimiter,
    clock: DefaultClock,
    /// Waiters take turns in order (tokio's mutex is fair), so that one
    /// request wakes per slot instead of every waiter.
    queue: tokio::sync::Mutex<()>,
    server: Mutex<ServerState>,
    waiting: AtomicUsize,
    sent: AtomicU64,
}

#[derive(Default)]
struct ServerState {
    pause: Option<(Instant, Held)>,
    view: Option<ServerView>,
    last_sent: Option<Instant>,
}

/// The latest `Ratelimit` item, in this client's clock.
#[derive(Clone, Copy)]
struct ServerView {
    remaining: u64,
    resets_at: Instant,
    /// `t` is rounded up to whole seconds: the reset may come up to 1 s sooner.
    earliest_reset: Instant,
}

impl std::fmt::Debug for Pacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pacer").field("limit", &self.limit).finish()
    }
}

/// Counts a request among the waiting while it lives.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn enter(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count)
    }
}

impl Waiting<'_> {
    /// Whether this request is the only one waiting.
    fn alone(&self) -> bool {
        self.0.load(Ordering::Relaxed) == 1
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Pacer {
    pub(crate) fn new(limit: RateLimit) -> Self {
        let clock = DefaultClock::default();
        Self {
            limit,
            local: DefaultDirectRateLimiter::direct_with_clock(limit.quota(), clock.clone()),
            clock,
            queue: tokio::sync::Mutex::new(()),
            server: Mutex::new(ServerState::default()),
            waiting: AtomicUsize::new(0),
            sent: AtomicU64::new(0),
        }
    }

    pub(crate) fn limit(&self) -> RateLimit {
        self.limit
    }

    fn server(&self) -> std::sync::MutexGuard<'_, ServerState> {
        // The state is a few plain values, valid after any panic.
        self.server
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits for this request's turn; refuses at once when the turn is after
    /// `deadline` (`None`: waits however long).
    pub(crate) async fn ready(
        &self,
        deadline: Option<Instant>,
        max_wait: Duration,
    ) -> Result<(), NotSent> {
        #[cfg(feature = "tracing")]
        let started = Instant::now();
        let waiting = Waiting::enter(&self.waiting);
        // The common case, far from the limit: nobody else waiting, nothing
        // holding requests back, a cell free. One lock, no queue.
        if waiting.alone() && self.try_admit(Instant::now()).is_ok() {
            return Ok(());
        }
        // A pause that outlasts the call's deadline: refuse at once, not after
        // queueing behind requests that are waiting it out.
        let now = Instant::now();
        if let (Some(deadline), Some((until, held))) = (deadline, self.hold(now))
            && until > deadline
        {
            return Err(self.refuse(until.saturating_duration_since(now), held, max_wait));
        }
        let turn = match deadline {
            None => Ok(self.queue.lock().await),
            Some(deadline) => tokio::time::timeout_at(deadline.into(), self.queue.lock()).await,
        };
        let Ok(_turn) = turn else {
            // Still behind others at the deadline: come back after the pause,
            // if one began meanwhile, or after the queue's turns.
            let now = Instant::now();
            let behind = u32::try_from(self.waiting.load(Ordering::Relaxed)).unwrap_or(u32::MAX);
            let (retry_after, held) = match self.hold(now) {
                Some((until, held)) => (until.saturating_duration_since(now), held),
                None => (self.limit.interval().saturating_mul(behind), Held::Pacing),
            };
            return Err(self.refuse(retry_after, held, max_wait));
        };
        let mut held_by = None;
        loop {
            let now = Instant::now();
            let Err((until, held)) = self.try_admit(now) else {
                #[cfg(feature = "tracing")]
                if let Some(held) = held_by {
                    super::telemetry::request_delayed(now - started, held);
                }
                let _ = held_by;
                return Ok(());
            };
            if deadline.is_some_and(|deadline| until > deadline) {
                return Err(self.refuse(until.saturating_duration_since(now), held, max_wait));
            }
            held_by = Some(held);
            tokio::time::sleep_until(until.into()).await;
        }
    }

    /// Admits the request now, unless a pause or the spacing `Ratelimit`
    /// asks for holds it, or the client's own share has no cell free: then
    /// when to try again, and why.
    fn try_admit(&self, now: Instant) -> Result<(), (Instant, Held)> {
        let mut state = self.server();
        if let Some(hold) = self.hold_in(&state, now) {
            return Err(hold);
        }
        match self.local.check() {
            Ok(()) => {
                state.last_sent = Some(now);
                self.sent.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(not_until) => Err((
                now + not_until.wait_time_from(self.clock.now()),
                Held::Pacing,
            )),
        }
    }

    fn refuse(&self, retry_after: Duration, held: Held, max_wait: Duration) -> NotSent {
        let refused = NotSent {
            retry_after,
            held,
            max_wait,
        };
        #[cfg(feature = "tracing")]
        super::telemetry::not_sent(&refused);
        refused
    }

    /// A pause, or the spacing `Ratelimit` asks for, that holds a request now.
    fn hold(&self, now: Instant) -> Option<(Instant, Held)> {
        self.hold_in(&self.server(), now)
    }

    fn hold_in(&self, state: &ServerState, now: Instant) -> Option<(Instant, Held)> {
        if let Some((until, held)) = state.pause
            && until > now
        {
            return Some((until, held));
        }
        let view = state
            .view
            .filter(|v| now < v.resets_at && v.remaining > 0)?;
        let horizon = view.earliest_reset.saturating_duration_since(now);
        let remaining = u32::try_from(view.remaining).unwrap_or(u32::MAX);
        if self.limit.interval().saturating_mul(remaining) >= horizon {
            return None; // at the client's own pace, what remains lasts until the reset
        }
        let next = state.last_sent? + horizon / remaining;
        (next > now).then_some((next, Held::ServerLow))
    }

    /// Learns from a response: its `Ratelimit`, and a 429's pause.
    pub(crate) fn observe(&self, signal: ServerSignal) {
        if signal == ServerSignal::default() {
            return;
        }
        let now = Instant::now();
        // A server cannot hold the client longer than two windows: Cloudflare's
        // lockout is one window, and a hostile `t` or `Retry-After` is cut here.
        let longest = self.limit.window.saturating_mul(2);
        let mut state = self.server();
        let mut pause_for = None;
        if let Some(remaining) = signal.remaining {
            let reset = remaining.reset.min(longest);
            state.view = Some(ServerView {
                remaining: remaining.requests,
                resets_at: now + reset,
                earliest_reset: now + reset.saturating_sub(Duration::from_secs(1)),
            });
            if remaining.requests == 0 && !reset.is_zero() {
                pause_for = Some((reset, Held::ServerExhausted));
            }
        }
        if signal.too_many_requests {
            let asked = signal
                .retry_after
                .or(pause_for.map(|(reset, _)| reset))
                .unwrap_or(UNSPECIFIED_PAUSE);
            pause_for = Some((asked.min(longest), Held::TooManyRequests));
        }
        if let Some((duration, held)) = pause_for {
            let until = now + duration;
            if state.pause.is_none_or(|(current, _)| until > current) {
                state.pause = Some((until, held));
                #[cfg(feature = "tracing")]
                super::telemetry::client_paused(duration, held);
            }
        }
    }

    pub(crate) fn status(&self) -> RateLimitStatus {
        let now = Instant::now();
        let state = self.server();
        let view = state.view.filter(|v| now < v.resets_at);
        RateLimitStatus {
            limit: self.limit,
            server_remaining: view.map(|v| v.remaining),
            server_resets_in: view.map(|v| v.resets_at - now),
            paused_for: state
                .pause
                .and_then(|(until, _)| (until > now).then(|| until - now)),
            sent: self.sent.load(Ordering::Relaxed),
            waiting: self.waiting.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::RateLimiter;
    use governor::clock::FakeRelativeClock;

    /// Drives the limiter the pacer builds on a fake clock, one check per
    /// `step`, and returns the most requests it let into any `window`.
    fn most_in_a_window(limit: RateLimit, step: Duration, span: Duration) -> usize {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::direct_with_clock(limit.quota(), clock.clone());
        let mut admitted = std::collections::VecDeque::new();
        let (mut elapsed, mut most) = (Duration::ZERO, 0);
        while elapsed < span {
            if limiter.check().is_ok() {
                admitted.push_back(elapsed);
            }
            // The server's windows are half-open: [start, start + window).
            while admitted
                .front()
                .is_some_and(|first| *first + limit.window() <= elapsed)
            {
                admitted.pop_front();
            }
            most = most.max(admitted.len());
            clock.advance(step);
            elapsed += step;
        }
        most
    }

    #[test]
    fn no_window_holds_more_than_the_limit_less_its_margin() {
        let cloudflare = RateLimit::CLOUDFLARE;
        let most = most_in_a_window(
            cloudflare,
            Duration::from_millis(7),
            Duration::from_secs(1000),
        );
        assert_eq!(most, 1188);
        assert!(most <= cloudflare.requests() as usize);
        for (requests, window_ms) in [
            (1, 1000),
            (2, 1000),
            (10, 1000),
            (99, 1000),
            (1200, 3000),
            (6000, 300),
        ] {
            let limit = RateLimit::new(requests, Duration::from_millis(window_ms)).unwrap();
            let step = limit.interval() / 3;
            let most =
                most_in_a_window(limit, step.max(Duration::from_nanos(1)), limit.window() * 4);
            assert!(
                most <= limit.most_in_any_window() as usize && most <= requests as usize,
                "{requests} per {window_ms} ms: {most} in one window"
            );
        }
    }

    #[test]
    fn parameters_follow_from_the_limit() {
        let cloudflare = RateLimit::CLOUDFLARE;
        assert_eq!(cloudflare.burst(), 16);
        assert_eq!(cloudflare.interval(), Duration::from_secs(300) / 1173);
        assert_eq!(cloudflare.most_in_any_window(), 1188);
        let tiny = RateLimit::new(1, Duration::from_secs(1)).unwrap();
        assert_eq!(
            (tiny.burst(), tiny.interval(), tiny.most_in_any_window()),
            (1, Duration::from_secs(1), 1)
        );
        assert!(RateLimit::new(0, Duration::from_secs(1)).is_err());
        assert!(RateLimit::new(10, Duration::ZERO).is_err());
        assert!(RateLimit::new(10, Duration::from_secs(25 * 3600)).is_err());
        assert!(RateLimit::new(10_000_000, Duration::from_millis(1)).is_err());
        assert!(RateLimit::new(u32::MAX, Duration::from_secs(1)).is_err());
        assert!(RateLimit::new(1_000_000, Duration::from_secs(1)).is_ok());
        assert!(RateLimit::new(u32::MAX, Duration::from_secs(24 * 3600)).is_ok());
    }
}
