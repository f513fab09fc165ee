//! Cloudflare's global rate limit, as the stand-in enforces it when asked
//! (off by default): "1200 requests per five minute period per user … all API
//! calls for the next five minutes will be blocked, receiving a HTTP 429".
//! Counted per credential, in fixed windows from a credential's first
//! request; every answer carries `Ratelimit` and `Ratelimit-Policy` (the IETF
//! draft's fields, as Cloudflare sends them since 2025-09), a 429 also
//! `Retry-After`. Time can be scaled down so that tests and benchmarks run
//! the policy in seconds.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A rate-limit policy: at most `limit` requests per `window` per
/// credential; going over blocks the credential for `lockout`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub limit: u32,
    /// The window.
    pub window: Duration,
    /// How long a credential is blocked once over.
    pub lockout: Duration,
}

impl RateLimit {
    /// Cloudflare's documented policy: 1,200 requests per 300 s per user,
    /// then every call blocked for 300 s.
    pub const CLOUDFLARE: RateLimit = RateLimit {
        limit: 1200,
        window: Duration::from_secs(300),
        lockout: Duration::from_secs(300),
    };

    /// The same policy with its times multiplied by `factor` (0.01: 1,200
    /// requests per 3 s, 3 s blocked).
    pub fn scaled(self, factor: f64) -> Self {
        Self {
            window: self.window.mul_f64(factor),
            lockout: self.lockout.mul_f64(factor),
            ..self
        }
    }
}

/// What the limiter decided for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Served; this many requests remain until the window resets.
    Allowed { remaining: u32, reset: Duration },
    /// Refused with 429 until `retry_after` has passed.
    Limited { retry_after: Duration },
}

#[derive(Debug)]
struct Counter {
    window_start: Instant,
    count: u32,
    blocked_until: Option<Instant>,
}

/// What a rate-limited stand-in counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateLimitStats {
    /// Responses 429 sent.
    pub limited: u64,
    /// Times a credential went over and was blocked.
    pub lockouts: u64,
}

#[derive(Debug)]
pub(crate) struct Limiter {
    policy: RateLimit,
    counters: HashMap<String, Counter>,
    pub(crate) stats: RateLimitStats,
}

impl Limiter {
    pub(crate) fn new(policy: RateLimit) -> Self {
        Self {
            policy,
            counters: HashMap::new(),
            stats: RateLimitStats::default(),
        }
    }

    pub(crate) fn policy(&self) -> RateLimit {
        self.policy
    }

    /// Counts a request of `credential` at `now`.
    pub(crate) fn check(&mut self, credential: &str, now: Instant) -> Verdict {
        let policy = self.policy;
        let counter = self
            .counters
            .entry(credential.to_owned())
            .or_insert(Counter {
                window_start: now,
                count: 0,
                blocked_until: None,
            });
        if let Some(until) = counter.blocked_until {
            if now < until {
                self.stats.limited += 1;
                return Verdict::Limited {
                    retry_after: until - now,
                };
            }
            // The lockout is over: a fresh window.
            *counter = Counter {
                window_start: now,
                count: 0,
                blocked_until: None,
            };
        }
        if now.duration_since(counter.window_start) >= policy.window {
            counter.window_start = now;
            counter.count = 0;
        }
        if counter.count >= policy.limit {
            counter.blocked_until = Some(now + policy.lockout);
            self.stats.limited += 1;
            self.stats.lockouts += 1;
            return Verdict::Limited {
                retry_after: policy.lockout,
            };
        }
        counter.count += 1;
        Verdict::Allowed {
            remaining: policy.limit - counter.count,
            reset: policy
                .window
                .saturating_sub(now.duration_since(counter.window_start)),
        }
    }
}

/// Whole seconds, rounded up (as `Retry-After` and the `t=` and `w=`
/// parameters are written).
pub(crate) fn seconds_up(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_the_limit_blocks_for_the_lockout_then_starts_afresh() {
        let policy = RateLimit {
            limit: 3,
            window: Duration::from_secs(10),
            lockout: Duration::from_secs(5),
        };
        let mut limiter = Limiter::new(policy);
        let t0 = Instant::now();
        for left in [2, 1, 0] {
            assert!(
                matches!(limiter.check("a", t0), Verdict::Allowed { remaining, .. } if remaining == left)
            );
        }
        assert_eq!(
            limiter.check("a", t0 + Duration::from_secs(1)),
            Verdict::Limited {
                retry_after: Duration::from_secs(5)
            }
        );
        assert_eq!(
            limiter.check("a", t0 + Duration::from_secs(4)),
            Verdict::Limited {
                retry_after: Duration::from_secs(2)
            }
        );
        // Another credential has its own count.
        assert!(matches!(
            limiter.check("b", t0),
            Verdict::Allowed { remaining: 2, .. }
        ));
        assert!(matches!(
            limiter.check("a", t0 + Duration::from_secs(6)),
            Verdict::Allowed { remaining: 2, .. }
        ));
        assert_eq!(
            limiter.stats,
            RateLimitStats {
                limited: 2,
                lockouts: 1
            }
        );
        // A new window resets the count.
        let mut limiter = Limiter::new(policy);
        for _ in 0..3 {
            limiter.check("a", t0);
        }
        assert!(matches!(
            limiter.check("a", t0 + Duration::from_secs(10)),
            Verdict::Allowed { remaining: 2, .. }
        ));
        assert_eq!(seconds_up(Duration::from_millis(2100)), 3);
        assert_eq!(seconds_up(Duration::from_secs(3)), 3);
        assert_eq!(
            RateLimit::CLOUDFLARE.scaled(0.01).window,
            Duration::from_secs(3)
        );
    }
}
