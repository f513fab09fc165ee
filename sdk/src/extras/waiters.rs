//! Waiting for Cloudflare to act, which no other client offers: after Force
//! AXFR (or pointing a secondary zone at its primaries) until the zone's
//! serial has changed or reached a value, and after Enable until outgoing
//! transfers report `Enabled`. Like the AWS SDK's waiters: poll with a
//! growing, jittered interval until the condition holds or the deadline
//! passes, then fail with a typed error that says what was last seen.
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
//!     .serial_changed_from(before.soa_serial)
//!     .timeout(Duration::from_secs(300))
//!     .wait()
//!     .await?;
//! println!("serial {:?}", after.soa_serial);
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder, Sleeper};

use crate::types::Incoming;
use crate::{ApiError, Client, InvalidIdentifier, ResponseExt, TransferStatus, ZoneIdentifier};

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
    /// The deadline passed first.
    TimedOut {
        /// What was waited for, e.g. "the zone's SOA serial to change from 2019102400".
        condition: String,
        /// How long it waited.
        waited: Duration,
        /// How many reads it made.
        polls: u32,
        /// What the last read showed, e.g. "soa_serial 2019102400, checked_time …".
        last_seen: String,
    },
}

impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidZoneId(invalid) => invalid.fmt(f),
            Self::Api(error) => error.fmt(f),
            Self::TimedOut {
                condition,
                waited,
                polls,
                last_seen,
            } => write!(
                f,
                "timed out after {} s ({polls} reads) waiting for {condition}; last seen: {last_seen}",
                waited.as_secs()
            ),
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
    ) -> Result<T, WaitError>
    where
        Read: FnMut() -> Fut,
        Fut: Future<Output = Result<T, WaitError>>,
    {
        let start = Instant::now();
        let mut intervals = ExponentialBuilder::new()
            .with_min_delay(self.first.min(self.max))
            .with_max_delay(self.max)
            .with_factor(1.5)
            .without_max_times()
            .build();
        let mut polls = 0;
        loop {
            polls += 1;
            let seen = read().await?;
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
            // Less a random 0–25 %, so that waiters started together spread out.
            let interval = intervals.next().unwrap_or(self.max);
            let interval = interval.mul_f64(1.0 - 0.25 * fastrand::f64());
            backon::TokioSleeper.sleep(interval.min(left)).await;
        }
    }
}

/// Waits for a secondary zone's transfer: [`Client::wait_for_transfer`].
#[derive(Debug)]
#[must_use = "a waiter does nothing until `.wait().await`"]
pub struct WaitForTransfer<'a> {
    client: &'a Client,
    zone_id: Result<ZoneIdentifier, InvalidIdentifier>,
    condition: SerialCondition,
    polling: Polling,
}

/// Waits for a primary zone's outgoing transfers to be enabled:
/// [`Client::wait_for_outgoing_enabled`].
#[derive(Debug)]
#[must_use = "a waiter does nothing until `.wait().await`"]
pub struct WaitForOutgoingEnabled<'a> {
    client: &'a Client,
    zone_id: Result<ZoneIdentifier, InvalidIdentifier>,
    polling: Polling,
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
            condition: SerialCondition::ChangedFrom(None),
            polling: Polling::default(),
        }
    }

    /// A waiter that reads a primary zone's outgoing transfer status
    /// (`get_outgoing_status`) until it is `Enabled`.
    pub fn wait_for_outgoing_enabled(&self) -> WaitForOutgoingEnabled<'_> {
        WaitForOutgoingEnabled {
            client: self,
            zone_id: ZoneIdentifier::new(""),
            polling: Polling::default(),
        }
    }
}

/// The settings both waiters share.
macro_rules! polling_setters {
    () => {
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

impl WaitForTransfer<'_> {
    polling_setters!();

    /// Waits until the serial differs from `before` (what was read before
    /// Force AXFR; `None` when the zone had none).
    pub fn serial_changed_from(mut self, before: Option<u32>) -> Self {
        self.condition = SerialCondition::ChangedFrom(before);
        self
    }

    /// Waits until the serial has reached `serial` (RFC 1982 order).
    pub fn serial_reached(mut self, serial: u32) -> Self {
        self.condition = SerialCondition::Reached(serial);
        self
    }

    /// Waits until `condition` holds (what the two methods above set).
    pub fn until(mut self, condition: SerialCondition) -> Self {
        self.condition = condition;
        self
    }

    /// Reads until the condition holds; returns the configuration read last.
    pub async fn wait(self) -> Result<Incoming, WaitError> {
        let zone_id = self.zone_id.map_err(WaitError::InvalidZoneId)?;
        let condition = self.condition;
        let client = self.client;
        self.polling
            .run(
                condition.to_string(),
                || {
                    let zone_id = zone_id.clone();
                    async move {
                        let response = client.get_incoming().zone_id(zone_id).send().await?;
                        Ok(response.into_result()?)
                    }
                },
                |zone: &Incoming| condition.holds(zone.soa_serial),
                |zone: &Incoming| {
                    let serial = zone
                        .soa_serial
                        .map_or_else(|| "none".to_owned(), |s| s.to_string());
                    let checked = zone.checked_time.as_ref().map_or("none", |t| t.as_str());
                    format!("soa_serial {serial}, checked_time {checked}")
                },
            )
            .await
    }
}

impl WaitForOutgoingEnabled<'_> {
    polling_setters!();

    /// Reads until the status is `Enabled`.
    pub async fn wait(self) -> Result<TransferStatus, WaitError> {
        let zone_id = self.zone_id.map_err(WaitError::InvalidZoneId)?;
        let client = self.client;
        self.polling
            .run(
                "outgoing transfers to be enabled".to_owned(),
                || {
                    let zone_id = zone_id.clone();
                    async move {
                        let response = client.get_outgoing_status().zone_id(zone_id).send().await?;
                        Ok(response.into_result()?)
                    }
                },
                |status: &TransferStatus| *status == TransferStatus::Enabled,
                |status: &TransferStatus| format!("status {status}"),
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
