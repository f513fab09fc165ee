//! Waiting for Cloudflare to act, which no other client offers: after Force
//! AXFR until Cloudflare has asked the primary again (the serial changed, or
//! `checked_time` moved: the primary had nothing newer), after pointing a
//! secondary zone at its primaries until its first transfer, until a serial
//! is reached, and after Enable until outgoing transfers report `Enabled`.
//! Like the AWS SDK's waiters: poll with a growing, jittered interval until
//! the condition holds or the deadline passes, then fail with a typed error
//! that says what was last seen. The deadline is a deadline: a read still in
//! flight when it passes is cut, and the wait ends then with
//! [`WaitError::TimedOut`].
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use cloudflare_secondary_dns::prelude::*;
//!
//! let client = Client::from_env()?;
//! let zone = "269d8f4853475ca241c4e730be286b20";
//! let before = client.get_incoming().zone_id(zone).send().await?.into_result()?;
//! client.force_axfr().zone_id(zone).send().await?;
//! let after = client
//!     .wait_for_transfer()
//!     .zone_id(zone)
//!     .refreshed_since(&before)
//!     .timeout(Duration::from_secs(300))
//!     .wait()
//!     .await?;
//! if after.soa_serial == before.soa_serial {
//!     // Cloudflare checked (`checked_time` moved); the primary had nothing newer.
//!     println!("checked; the primary's serial is still {:?}", after.soa_serial);
//! } else {
//!     println!("transferred: serial {:?}", after.soa_serial);
//! }
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder, Sleeper};

use crate::error::OneLine;
use crate::types::Incoming;
use crate::{
    ApiError, Client, InvalidIdentifier, ResponseExt, Timestamp, TransferStatus, ZoneIdentifier,
};

/// How long a waiter waits unless told otherwise.
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(300);
/// The first interval between polls; it grows by half each poll...
pub const DEFAULT_FIRST_POLL_INTERVAL: Duration = Duration::from_secs(2);
/// ... up to this (each less a random 0–25 %).
pub const DEFAULT_MAX_POLL_INTERVAL: Duration = Duration::from_secs(30);

/// Why a wait ended without its condition.
#[derive(Debug)]
#[non_exhaustive]
pub enum WaitError {
    /// The zone id given is not one; nothing was sent.
    InvalidZoneId(InvalidIdentifier),
    /// A poll failed (the configuration is gone, credentials, …).
    Api(ApiError),
    /// The deadline passed first (a read still in flight then was cut).
    TimedOut {
        /// What was waited for, e.g. "the zone's SOA serial to change from 2019102400".
        condition: String,
        /// How long it waited.
        waited: Duration,
        /// How many reads it made.
        polls: u32,
        /// What the last read showed, e.g. "soa_serial 2019102400, checked_time …",
        /// or that no read had completed.
        last_seen: String,
    },
}

impl fmt::Display for WaitError {
    /// One line, whatever the server sent (its text, e.g. a `checked_time`,
    /// has its line breaks and control characters escaped).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidZoneId(invalid) => invalid.fmt(f),
            Self::Api(error) => error.fmt(f),
            Self::TimedOut {
                condition,
                waited,
                polls,
                last_seen,
            } => {
                use fmt::Write as _;
                write!(
                    OneLine(f),
                    "timed out after {} s ({polls} reads) waiting for {condition}; last seen: {last_seen}",
                    waited.as_secs()
                )
            }
        }
    }
}

impl std::error::Error for WaitError {}

impl From<ApiError> for WaitError {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

/// When a secondary zone's transfer counts as arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SerialCondition {
    /// The serial differs from this one; `ChangedFrom(None)`: the zone has a
    /// serial at all (its first transfer happened), the default.
    ChangedFrom(Option<u32>),
    /// The serial has reached this one, in RFC 1982 serial arithmetic (a
    /// serial that wrapped past 2³² counts as later).
    Reached(u32),
}

impl SerialCondition {
    fn holds(self, serial: Option<u32>) -> bool {
        match (self, serial) {
            (_, None) => false,
            (Self::ChangedFrom(before), now) => now != before,
            (Self::Reached(target), Some(now)) => {
                now == target || (now.wrapping_sub(target) as i32) > 0
            }
        }
    }
}

impl fmt::Display for SerialCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ChangedFrom(None) => f.write_str("the zone's first transfer (an SOA serial)"),
            Self::ChangedFrom(Some(serial)) => {
                write!(f, "the zone's SOA serial to change from {serial}")
            }
            Self::Reached(serial) => write!(f, "the zone's SOA serial to reach {serial}"),
        }
    }
}

/// How often to read.
#[derive(Clone, Copy, Debug)]
struct Polling {
    timeout: Duration,
    first: Duration,
    max: Duration,
}

impl Default for Polling {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_WAIT_TIMEOUT,
            first: DEFAULT_FIRST_POLL_INTERVAL,
            max: DEFAULT_MAX_POLL_INTERVAL,
        }
    }
}

impl Polling {
    /// Reads with `read` until `done`, or the deadline. `describe` says what
    /// a read showed, for the timeout error.
    async fn run<T, Read, Fut>(
        self,
        condition: String,
        mut read: Read,
        done: impl Fn(&T) -> bool,
        describe: impl Fn(&T) -> String,
        observe: Option<&Observer<'_, T>>,
    ) -> Result<T, WaitError>
    where
        Read: FnMut() -> Fut,
        Fut: Future<Output = Result<T, WaitError>>,
    {
        let start = Instant::now();
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut intervals = ExponentialBuilder::new()
            .with_min_delay(self.first.min(self.max))
            .with_max_delay(self.max)
            .with_factor(1.5)
            .without_max_times()
            .build();
        let mut polls = 0;
        let mut last_seen = None;
        loop {
            if polls > 0 && tokio::time::Instant::now() >= deadline {
                // The last interval ended at the deadline: no read starts.
                return Err(WaitError::TimedOut {
                    condition,
                    waited: start.elapsed(),
                    polls,
                    last_seen: last_seen.unwrap_or_default(),
                });
            }
            polls += 1;
            // The read in flight is cut at the deadline: a slow or hung
            // server cannot stretch the wait past it.
            let Ok(seen) = tokio::time::timeout_at(deadline, read()).await else {
                return Err(WaitError::TimedOut {
                    condition,
                    waited: start.elapsed(),
                    polls,
                    last_seen: last_seen.unwrap_or_else(|| {
                        "nothing (no read completed before the deadline)".to_owned()
                    }),
                });
            };
            let seen = seen?;
            if let Some(observe) = observe {
                (observe.0)(&seen);
            }
            if done(&seen) {
                return Ok(seen);
            }
            let waited = start.elapsed();
            let Some(left) = self.timeout.checked_sub(waited).filter(|l| !l.is_zero()) else {
                return Err(WaitError::TimedOut {
                    condition,
                    waited,
                    polls,
                    last_seen: describe(&seen),
                });
            };
            last_seen = Some(describe(&seen));
            // Less a random 0–25 %, so that waiters started together spread out.
            let interval = intervals.next().unwrap_or(self.max);
            let interval = interval.mul_f64(1.0 - 0.25 * fastrand::f64());
            backon::TokioSleeper.sleep(interval.min(left)).await;
        }
    }
}

/// What a waiter calls with each read (see `on_read`).
struct Observer<'a, T>(Box<dyn Fn(&T) + Send + Sync + 'a>);

impl<T> fmt::Debug for Observer<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Observer")
    }
}

/// Waits for a secondary zone's transfer: [`Client::wait_for_transfer`].
#[derive(Debug)]
#[must_use = "a waiter does nothing until `.wait().await`"]
pub struct WaitForTransfer<'a> {
    client: &'a Client,
    zone_id: Result<ZoneIdentifier, InvalidIdentifier>,
    condition: TransferCondition,
    polling: Polling,
    observer: Option<Observer<'a, Incoming>>,
}

/// What a [`WaitForTransfer`] waits for.
#[derive(Clone, Debug)]
enum TransferCondition {
    Serial(SerialCondition),
    /// Cloudflare asked the primary again since a read: the serial changed,
    /// or `checked_time` moved on (the primary had nothing newer).
    Refreshed {
        serial: Option<u32>,
        checked_time: Option<Timestamp>,
    },
}

impl TransferCondition {
    fn holds(&self, zone: &Incoming) -> bool {
        match self {
            Self::Serial(condition) => condition.holds(zone.soa_serial),
            Self::Refreshed {
                serial,
                checked_time,
            } => {
                let serial_changed = zone.soa_serial.is_some() && zone.soa_serial != *serial;
                serial_changed || checked_later(checked_time.as_ref(), zone.checked_time.as_ref())
            }
        }
    }
}

/// Whether `now` is a check after `before`: later as a time when both are
/// RFC 3339, otherwise a different text (and `now` is there).
fn checked_later(before: Option<&Timestamp>, now: Option<&Timestamp>) -> bool {
    match (before, now) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(before), Some(now)) => match (before.time(), now.time()) {
            (Some(before), Some(now)) => now > before,
            _ => before.as_str() != now.as_str(),
        },
    }
}

impl fmt::Display for TransferCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Serial(condition) => condition.fmt(f),
            Self::Refreshed {
                serial,
                checked_time,
            } => {
                let serial = serial.map_or_else(|| "none".to_owned(), |s| s.to_string());
                let checked = checked_time.as_ref().map_or("none", Timestamp::as_str);
                write!(
                    f,
                    "Cloudflare to check the primary again (the SOA serial to change from \
                     {serial}, or checked_time to move on from {checked})"
                )
            }
        }
    }
}

/// Waits for a primary zone's outgoing transfers to be enabled:
/// [`Client::wait_for_outgoing_enabled`].
#[derive(Debug)]
#[must_use = "a waiter does nothing until `.wait().await`"]
pub struct WaitForOutgoingEnabled<'a> {
    client: &'a Client,
    zone_id: Result<ZoneIdentifier, InvalidIdentifier>,
    polling: Polling,
    observer: Option<Observer<'a, TransferStatus>>,
}

impl Client {
    /// A waiter that reads the secondary zone's configuration
    /// (`get_incoming`) until its SOA serial meets a condition (by default:
    /// the zone has one). Set the zone with `.zone_id(..)`, then
    /// `.wait().await`.
    pub fn wait_for_transfer(&self) -> WaitForTransfer<'_> {
        WaitForTransfer {
            client: self,
            zone_id: ZoneIdentifier::new(""),
            condition: TransferCondition::Serial(SerialCondition::ChangedFrom(None)),
            polling: Polling::default(),
            observer: None,
        }
    }

    /// A waiter that reads a primary zone's outgoing transfer status
    /// (`get_outgoing_status`) until it is `Enabled`.
    pub fn wait_for_outgoing_enabled(&self) -> WaitForOutgoingEnabled<'_> {
        WaitForOutgoingEnabled {
            client: self,
            zone_id: ZoneIdentifier::new(""),
            polling: Polling::default(),
            observer: None,
        }
    }
}

/// The settings both waiters share.
macro_rules! polling_setters {
    ($read:ty) => {
        /// Calls `observe` with each read, as it arrives (e.g. to show
        /// progress: the serial or status seen so far).
        pub fn on_read(mut self, observe: impl Fn(&$read) + Send + Sync + 'a) -> Self {
            self.observer = Some(Observer(Box::new(observe)));
            self
        }

        /// The zone (32 lowercase hexadecimal characters; a bad one fails
        /// `wait` before any request).
        pub fn zone_id<V>(mut self, zone_id: V) -> Self
        where
            V: TryInto<ZoneIdentifier>,
            V::Error: Into<InvalidIdentifier>,
        {
            self.zone_id = zone_id.try_into().map_err(Into::into);
            self
        }

        /// How long to wait in all (default [`DEFAULT_WAIT_TIMEOUT`]).
        pub fn timeout(mut self, timeout: Duration) -> Self {
            self.polling.timeout = timeout;
            self
        }

        /// The first interval between reads and the longest (defaults
        /// [`DEFAULT_FIRST_POLL_INTERVAL`], [`DEFAULT_MAX_POLL_INTERVAL`]);
        /// each interval is half again the last, less up to a quarter.
        pub fn poll_interval(mut self, first: Duration, max: Duration) -> Self {
            self.polling.first = first;
            self.polling.max = max;
            self
        }
    };
}

impl<'a> WaitForTransfer<'a> {
    polling_setters!(Incoming);

    /// Waits until Cloudflare has asked the primary again since `before`
    /// (the configuration read before Force AXFR): the serial differs from
    /// `before`'s, or `checked_time` is later than `before`'s. The second is
    /// the answer when the primary had nothing newer (a resync of a zone
    /// whose serial was not bumped): compare the result's `soa_serial` with
    /// `before`'s to tell a transfer from a check.
    pub fn refreshed_since(mut self, before: &Incoming) -> Self {
        self.condition = TransferCondition::Refreshed {
            serial: before.soa_serial,
            checked_time: before.checked_time.clone(),
        };
        self
    }

    /// Waits until the serial differs from `before` (what was read before
    /// Force AXFR; `None` when the zone had none). It waits to the deadline
    /// when the primary has nothing newer: after Force AXFR,
    /// [`refreshed_since`](Self::refreshed_since) is usually what is meant.
    pub fn serial_changed_from(mut self, before: Option<u32>) -> Self {
        self.condition = TransferCondition::Serial(SerialCondition::ChangedFrom(before));
        self
    }

    /// Waits until the serial has reached `serial` (RFC 1982 order).
    pub fn serial_reached(mut self, serial: u32) -> Self {
        self.condition = TransferCondition::Serial(SerialCondition::Reached(serial));
        self
    }

    /// Waits until `condition` holds (what the two methods above set).
    pub fn until(mut self, condition: SerialCondition) -> Self {
        self.condition = TransferCondition::Serial(condition);
        self
    }

    /// Reads until the condition holds; returns the configuration read last.
    pub async fn wait(self) -> Result<Incoming, WaitError> {
        let zone_id = self.zone_id.map_err(WaitError::InvalidZoneId)?;
        let condition = &self.condition;
        let client = self.client;
        self.polling
            .run(
                condition.to_string(),
                || async move {
                    let response = client.get_incoming().zone_id(zone_id).send().await?;
                    Ok(response.into_result()?)
                },
                |zone: &Incoming| condition.holds(zone),
                |zone: &Incoming| {
                    let serial = zone
                        .soa_serial
                        .map_or_else(|| "none".to_owned(), |s| s.to_string());
                    let checked = zone.checked_time.as_ref().map_or("none", |t| t.as_str());
                    format!("soa_serial {serial}, checked_time {checked}")
                },
                self.observer.as_ref(),
            )
            .await
    }
}

impl<'a> WaitForOutgoingEnabled<'a> {
    polling_setters!(TransferStatus);

    /// Reads until the status is `Enabled`.
    pub async fn wait(self) -> Result<TransferStatus, WaitError> {
        let zone_id = self.zone_id.map_err(WaitError::InvalidZoneId)?;
        let client = self.client;
        self.polling
            .run(
                "outgoing transfers to be enabled".to_owned(),
                || async move {
                    let response = client.get_outgoing_status().zone_id(zone_id).send().await?;
                    Ok(response.into_result()?)
                },
                |status: &TransferStatus| *status == TransferStatus::Enabled,
                |status: &TransferStatus| format!("status {status}"),
                self.observer.as_ref(),
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_conditions_follow_rfc_1982() {
        use SerialCondition::*;
        assert!(!ChangedFrom(None).holds(None));
        assert!(ChangedFrom(None).holds(Some(0)));
        assert!(ChangedFrom(Some(5)).holds(Some(6)));
        assert!(!ChangedFrom(Some(5)).holds(Some(5)));
        assert!(Reached(10).holds(Some(10)));
        assert!(Reached(10).holds(Some(11)));
        assert!(!Reached(10).holds(Some(9)));
        // Past the wrap: 5 comes after 4294967290.
        assert!(Reached(u32::MAX - 5).holds(Some(5)));
        assert!(!Reached(5).holds(Some(u32::MAX - 5)));
    }

    #[test]
    fn a_check_counts_when_checked_time_moves_on() {
        let at = |t: &str| Some(Timestamp::from(t.to_owned()));
        let before = at("2026-12-03T10:00:00Z");
        assert!(!checked_later(before.as_ref(), before.as_ref()));
        assert!(!checked_later(before.as_ref(), None));
        assert!(checked_later(
            before.as_ref(),
            at("2026-12-03T10:00:01Z").as_ref()
        ));
        // The same instant in another offset is no new check.
        assert!(!checked_later(
            before.as_ref(),
            at("2026-12-03T11:00:00+01:00").as_ref()
        ));
        assert!(!checked_later(
            before.as_ref(),
            at("2026-12-03T09:59:59Z").as_ref()
        ));
        assert!(checked_later(None, at("yesterday").as_ref()));
        assert!(checked_later(
            at("yesterday").as_ref(),
            at("today").as_ref()
        ));
    }

    #[test]
    fn a_timeout_is_one_line_whatever_the_server_sent() {
        let error = WaitError::TimedOut {
            condition: "outgoing transfers to be enabled".to_owned(),
            waited: Duration::from_secs(2),
            polls: 1,
            last_seen: "checked_time 2026\nforged: yes\u{202e}".to_owned(),
        };
        let text = error.to_string();
        assert!(!text.contains('\n') && !text.contains('\u{202e}'), "{text}");
        assert!(
            text.ends_with("checked_time 2026\\nforged: yes\\u{202e}"),
            "{text}"
        );
    }

    #[test]
    fn a_timeout_says_what_it_saw() {
        let error = WaitError::TimedOut {
            condition: SerialCondition::ChangedFrom(Some(2019102400)).to_string(),
            waited: Duration::from_secs(30),
            polls: 5,
            last_seen: "soa_serial 2019102400, checked_time none".to_owned(),
        };
        assert_eq!(
            error.to_string(),
            "timed out after 30 s (5 reads) waiting for the zone's SOA serial to change from \
             2019102400; last seen: soa_serial 2019102400, checked_time none"
        );
    }
}
