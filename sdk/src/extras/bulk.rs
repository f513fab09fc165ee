//! Bulk work: configuring many zones as secondaries of the same peers, from a
//! list, with a bounded number of calls in flight, at the pace the client's
//! rate limit allows (its pacer is shared by every call), resumable: a zone
//! that already has an incoming configuration is reported as such and left
//! as it is, so a rerun after an interruption skips what was done, at one
//! call per zone either way (see [`Client::configure_incoming`]).
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use cloudflare_secondary_dns::extras::bulk::{Configured, read_zone_list};
//! use cloudflare_secondary_dns::prelude::*;
//! use futures_util::StreamExt;
//!
//! let client = Client::from_env()?;
//! let file = std::io::BufReader::new(std::fs::File::open("zones.txt")?);
//! let zones = read_zone_list(file).filter_map(|line| line.map_err(|e| eprintln!("{e}")).ok());
//! let peers = ["23ff594956f20c2a721606e94745a8aa".parse()?];
//! let mut reports = client.configure_incoming(zones, &peers, 16);
//! while let Some(report) = reports.next().await {
//!     match &report.outcome {
//!         Ok(Configured::AlreadyConfigured(_)) => println!("{}: already configured", report.zone.name),
//!         Ok(_) => println!("{}: configured", report.zone.name),
//!         Err(err) => println!("{}: {}", report.zone.name, err.report()),
//!     }
//! }
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::io::{BufRead, Read};
use std::sync::atomic::{AtomicU8, Ordering};

use std::collections::HashMap;

use futures_util::{Stream, StreamExt, TryStreamExt};

use crate::extras::zones::{ZoneListError, ZoneQuery};
use crate::types::{Incoming, IncomingInput};
use crate::{
    AccountIdentifier, ApiError, Client, ErrorKind, PeerIdentifier, ResponseExt, ZoneIdentifier,
    ZoneName,
};

/// The longest line of a zone list read (a zone id, a space and a name of at
/// most 253 characters fit in 300).
pub const MAX_LINE_BYTES: usize = 1024;

/// One zone of a list: where it was, its id and its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneEntry {
    /// The line it was read from (1-based; 0 when it came from elsewhere).
    pub line: usize,
    /// The zone.
    pub zone_id: ZoneIdentifier,
    /// The zone's name, as its incoming configuration will carry it.
    pub name: String,
}

/// A line of a zone list that is not `<zone id> <zone name>`, or the list
/// could not be read on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneLineError {
    /// The line (1-based).
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
    /// The list could not be read (an I/O error): this is its last item.
    pub unreadable: bool,
}

impl fmt::Display for ZoneLineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for ZoneLineError {}

/// Reads a zone list lazily: one zone per line, `<zone id> <zone name>`
/// separated by spaces or tabs; blank lines and lines starting with `#` are
/// skipped, and so is a byte-order mark at the start. Each bad line is an
/// error naming it (a bad id, a missing or extra field, a line over
/// [`MAX_LINE_BYTES`], text that is not UTF-8, a name with a control
/// character such as NUL), and reading goes on with the next; nothing is
/// held beyond one line. A read error (a directory given as the file, a
/// failing pipe) ends the list: it is its last item, marked
/// [`unreadable`](ZoneLineError::unreadable), since reading on would fail
/// the same way for ever.
pub fn read_zone_list<R: BufRead>(
    reader: R,
) -> impl Iterator<Item = Result<ZoneEntry, ZoneLineError>> {
    zone_lines(reader, false).map(|read| match read? {
        ZoneLine::Zone(zone) => Ok(zone),
        ZoneLine::Named { line, .. } => Err(ZoneLineError {
            line,
            reason: "expected `<zone id> <zone name>`, got 1 field(s)".to_owned(),
            unreadable: false,
        }),
    })
}

/// A line of a zone list read by [`read_zone_lines`]: a zone with its id,
/// or a zone given by its name alone, whose id [`ZoneIds::resolve`] finds.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ZoneLine {
    /// `<zone id> <zone name>`.
    Zone(ZoneEntry),
    /// `<zone name>`: a zone's name, checked as [`ZoneName::new`] checks it.
    Named {
        /// The line it was read from (1-based).
        line: usize,
        /// The zone's name.
        name: ZoneName,
    },
}

/// Reads a zone list as [`read_zone_list`] does, but a line may also hold a
/// zone's name alone (`example.com`), read as [`ZoneLine::Named`]: its id
/// is found with [`Client::zone_ids`] (one paged list for the whole file,
/// not a call per zone), then [`ZoneIds::resolve`].
pub fn read_zone_lines<R: BufRead>(
    reader: R,
) -> impl Iterator<Item = Result<ZoneLine, ZoneLineError>> {
    zone_lines(reader, true)
}

/// The lines of a zone list; a name alone is one only with `names_alone`.
fn zone_lines<R: BufRead>(
    reader: R,
    names_alone: bool,
) -> impl Iterator<Item = Result<ZoneLine, ZoneLineError>> {
    let mut reader = reader;
    let mut line = 0;
    let mut buffer = Vec::with_capacity(128);
    let mut ended = false;
    std::iter::from_fn(move || {
        loop {
            if ended {
                return None;
            }
            line += 1;
            buffer.clear();
            let error = |reason: String| {
                Some(Err(ZoneLineError {
                    line,
                    reason,
                    unreadable: false,
                }))
            };
            let read =
                Read::take(&mut reader, MAX_LINE_BYTES as u64 + 1).read_until(b'\n', &mut buffer);
            match read {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    ended = true;
                    return Some(Err(ZoneLineError {
                        line,
                        reason: format!("could not be read: {e}"),
                        unreadable: true,
                    }));
                }
            }
            if line == 1 && buffer.starts_with(b"\xef\xbb\xbf") {
                // A byte-order mark (editors on Windows write one).
                buffer.drain(..3);
            }
            if buffer.len() > MAX_LINE_BYTES && buffer.last() != Some(&b'\n') {
                // Skip the rest of the line, a bounded chunk at a time.
                loop {
                    buffer.clear();
                    match Read::take(&mut reader, 64 * 1024).read_until(b'\n', &mut buffer) {
                        Ok(0) => break,
                        Ok(_) if buffer.last() == Some(&b'\n') => break,
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
                return error(format!("is longer than {MAX_LINE_BYTES} bytes"));
            }
            let Ok(text) = std::str::from_utf8(&buffer) else {
                return error("is not UTF-8 text".to_owned());
            };
            let text = text.trim();
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            let mut fields = text.split_ascii_whitespace();
            let (Some(id), Some(name), None) = (fields.next(), fields.next(), fields.next()) else {
                let count = text.split_ascii_whitespace().count();
                if count == 1 && names_alone {
                    return match ZoneName::new(text) {
                        Ok(name) => Some(Ok(ZoneLine::Named { line, name })),
                        Err(e) => error(format!(
                            "expected `<zone id> <zone name>` or a zone's name alone: {e}"
                        )),
                    };
                }
                return error(format!(
                    "expected `<zone id> <zone name>`, got {count} field(s)"
                ));
            };
            if let Some(c) = name.chars().find(|c| c.is_control()) {
                return error(format!(
                    "the zone name has a control character ({})",
                    c.escape_unicode()
                ));
            }
            return match id.parse::<ZoneIdentifier>() {
                Ok(zone_id) => Some(Ok(ZoneLine::Zone(ZoneEntry {
                    line,
                    zone_id,
                    name: name.to_owned(),
                }))),
                Err(e) => error(e.to_string()),
            };
        }
    })
}

/// Every zone's id by its name, from one paged list ([`Client::zone_ids`]):
/// what turns a list's [`ZoneLine::Named`] into a [`ZoneEntry`].
#[derive(Clone, Debug, Default)]
pub struct ZoneIds {
    /// Name (lowercase, no trailing dot) → the ids of the zones so named (one
    /// per account).
    by_name: HashMap<String, Vec<ZoneIdentifier>>,
}

impl ZoneIds {
    /// The zone a line names: as it is for `<zone id> <zone name>`; for a
    /// name alone, the one zone so named, or an error naming the line (no
    /// zone, or several in different accounts).
    pub fn resolve(&self, line: ZoneLine) -> Result<ZoneEntry, ZoneLineError> {
        let (line, name) = match line {
            ZoneLine::Zone(zone) => return Ok(zone),
            ZoneLine::Named { line, name } => (line, name),
        };
        let fail = |reason: String| ZoneLineError {
            line,
            reason,
            unreadable: false,
        };
        match self.by_name.get(name.as_str()).map(Vec::as_slice) {
            Some([zone_id]) => Ok(ZoneEntry {
                line,
                zone_id: *zone_id,
                name: name.to_string(),
            }),
            Some(several) if several.len() > 1 => Err(fail(format!(
                "{} zones are named {name} (in different accounts): give its id",
                several.len()
            ))),
            _ => Err(fail(format!("no zone is named {name}"))),
        }
    }

    /// How many zones are known.
    pub fn len(&self) -> usize {
        self.by_name.values().map(Vec::len).sum()
    }

    /// Whether no zone is known.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

impl Client {
    /// Every zone's id by its name (of `account`, when given), from one
    /// paged list ([`Client::all_zones`]: 50 zones a call), to resolve a
    /// zone list's names without a call per zone.
    pub async fn zone_ids(
        &self,
        account: Option<&AccountIdentifier>,
    ) -> Result<ZoneIds, ZoneListError> {
        let mut query = ZoneQuery::new();
        if let Some(account) = account {
            query = query.account(*account);
        }
        let mut ids = ZoneIds::default();
        let mut zones = std::pin::pin!(self.all_zones(query));
        while let Some(zone) = zones.try_next().await? {
            // A zone whose id is not one cannot be configured: left out.
            if let Ok(zone_id) = zone.id.parse::<ZoneIdentifier>() {
                let name = zone.name.strip_suffix('.').unwrap_or(&zone.name);
                ids.by_name
                    .entry(name.to_ascii_lowercase())
                    .or_default()
                    .push(zone_id);
            }
        }
        Ok(ids)
    }
}

/// What a zone ended up with.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Configured {
    /// Its incoming configuration was created.
    Created(Incoming),
    /// It had one already, left as it is (it may name other peers).
    AlreadyConfigured(Incoming),
}

impl Configured {
    /// The zone's configuration, either way.
    pub fn incoming(&self) -> &Incoming {
        match self {
            Configured::Created(incoming) | Configured::AlreadyConfigured(incoming) => incoming,
        }
    }
}

/// One zone's outcome.
#[derive(Debug)]
#[non_exhaustive]
pub struct ZoneReport {
    /// The zone, as given.
    pub zone: ZoneEntry,
    /// Its configuration, or why it has none.
    pub outcome: Result<Configured, ApiError>,
}

impl Client {
    /// Gives each zone an incoming configuration naming `peers`, at most
    /// `concurrency` zones at a time (at least 1), yielding one report per
    /// zone as it completes (not in input order). Zones are taken from
    /// `zones` only as slots free up, so a long list is never held.
    ///
    /// One call per zone, new or already configured: the first zones are
    /// created first (Create Incoming; when that is refused, Get Incoming
    /// tells a zone already configured, reported as
    /// [`Configured::AlreadyConfigured`] and left unchanged, from a real
    /// failure, whose create error is reported). Once most of the last
    /// [`RECENT_ZONES`] zones were already configured (a rerun), zones are
    /// read first instead (Get Incoming; a 404 then creates), and created
    /// first again once most were new. A rerun of a list done to 90 % thus
    /// costs about one call per zone, not two; only the few zones at each
    /// switch cost two. A create that Cloudflare acted on but whose answer
    /// was lost is found on the rerun, never made twice. Calls go through the
    /// client's pacer: a 429 pauses them all.
    pub fn configure_incoming<'a, Z>(
        &'a self,
        zones: Z,
        peers: &'a [PeerIdentifier],
        concurrency: usize,
    ) -> impl Stream<Item = ZoneReport> + 'a
    where
        Z: IntoIterator<Item = ZoneEntry>,
        Z::IntoIter: 'a,
    {
        let recent = std::sync::Arc::new(Recent::default());
        futures_util::stream::iter(zones)
            .map(move |zone| {
                let recent = recent.clone();
                async move {
                    let outcome = if recent.mostly_configured() {
                        self.read_then_create(&zone, peers).await
                    } else {
                        self.create_then_read(&zone, peers).await
                    };
                    if let Ok(configured) = &outcome {
                        recent.record(matches!(configured, Configured::AlreadyConfigured(_)));
                    }
                    ZoneReport { zone, outcome }
                }
            })
            .buffer_unordered(concurrency.max(1))
    }

    /// For a zone that is probably configured: Get, and Create on a 404.
    async fn read_then_create(
        &self,
        zone: &ZoneEntry,
        peers: &[PeerIdentifier],
    ) -> Result<Configured, ApiError> {
        let read = self
            .get_incoming()
            .zone_id(zone.zone_id)
            .send()
            .await
            .and_then(ResponseExt::into_result);
        match read {
            Ok(incoming) => Ok(Configured::AlreadyConfigured(incoming)),
            Err(missing) if missing.kind() == ErrorKind::NotFound => {
                self.create_then_read(zone, peers).await
            }
            Err(failed) => Err(failed),
        }
    }

    /// For a zone that is probably new: Create, and Get when refused.
    async fn create_then_read(
        &self,
        zone: &ZoneEntry,
        peers: &[PeerIdentifier],
    ) -> Result<Configured, ApiError> {
        let created = self
            .create_incoming()
            .zone_id(zone.zone_id)
            .body(
                IncomingInput::builder()
                    .name(zone.name.as_str())
                    .peers(peers.to_vec()),
            )
            .send()
            .await
            .and_then(ResponseExt::into_result);
        let refused = match created {
            Ok(incoming) => return Ok(Configured::Created(incoming)),
            Err(refused) => refused,
        };
        // Only a refusal on the request itself can mean "already configured".
        if !matches!(
            refused.kind(),
            ErrorKind::BadRequest | ErrorKind::Conflict | ErrorKind::Unprocessable
        ) {
            return Err(refused);
        }
        match self.get_incoming().zone_id(zone.zone_id).send().await {
            Ok(existing) => match existing.into_result() {
                Ok(incoming) => Ok(Configured::AlreadyConfigured(incoming)),
                Err(_) => Err(refused),
            },
            Err(_) => Err(refused),
        }
    }
}

/// How many of the last zones decide whether the next is read or created first.
pub const RECENT_ZONES: u32 = 8;

/// The last [`RECENT_ZONES`] outcomes, as bits (1: already configured).
#[derive(Default)]
struct Recent(AtomicU8);

impl Recent {
    fn record(&self, already_configured: bool) {
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((bits << 1) | u8::from(already_configured))
            });
    }

    /// Whether more than half of the last zones were already configured.
    fn mostly_configured(&self) -> bool {
        self.0.load(Ordering::Relaxed).count_ones() > RECENT_ZONES / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_lists_are_read_line_by_line_with_errors_naming_the_line() {
        let long = "a".repeat(MAX_LINE_BYTES + 10);
        let text = format!(
            "# zones to move\n\n269d8f4853475ca241c4e730be286b20 example.com.\n\
             \t369d8f4853475ca241c4e730be286b20\texample.net.  \n\
             not-an-id example.org.\n\
             469d8f4853475ca241c4e730be286b20\n\
             569d8f4853475ca241c4e730be286b20 a. b.\n\
             {long}\n\
             669d8f4853475ca241c4e730be286b20 \u{fffd}.\n\
             769d8f4853475ca241c4e730be286b20 last.example."
        );
        let mut bytes = text.into_bytes();
        let bad_utf8 = bytes
            .windows(3)
            .position(|w| w == "\u{fffd}".as_bytes())
            .unwrap();
        bytes[bad_utf8] = 0xff;
        let read: Vec<_> = read_zone_list(&bytes[..])
            .map(|r| match r {
                Ok(zone) => format!("{} {} {}", zone.line, zone.zone_id, zone.name),
                Err(e) => e.to_string(),
            })
            .collect();
        assert_eq!(
            read,
            [
                "3 269d8f4853475ca241c4e730be286b20 example.com.",
                "4 369d8f4853475ca241c4e730be286b20 example.net.",
                "line 5: zone_id must be 32 lowercase hexadecimal characters, got \"not-an-id\"",
                "line 6: expected `<zone id> <zone name>`, got 1 field(s)",
                "line 7: expected `<zone id> <zone name>`, got 3 field(s)",
                "line 8: is longer than 1024 bytes",
                "line 9: is not UTF-8 text",
                "10 769d8f4853475ca241c4e730be286b20 last.example.",
            ]
        );
    }

    #[test]
    fn a_line_may_name_its_zone_alone_and_is_resolved_from_one_list() {
        let text = "269d8f4853475ca241c4e730be286b20 example.com.\n\
                    Example.NET.\n\
                    exa_mple..org\n\
                    shared.example\n\
                    missing.example\n";
        let lines: Vec<_> = read_zone_lines(text.as_bytes()).collect();
        assert_eq!(
            lines[1],
            Ok(ZoneLine::Named {
                line: 2,
                name: ZoneName::new("example.net").unwrap()
            })
        );
        let bad = lines[2].as_ref().unwrap_err().to_string();
        assert!(
            bad.starts_with("line 3: expected `<zone id> <zone name>` or a zone's name alone: "),
            "{bad}"
        );
        let id = |n: u8| format!("{n:032x}").parse::<ZoneIdentifier>().unwrap();
        let mut ids = ZoneIds::default();
        ids.by_name.insert("example.net".to_owned(), vec![id(1)]);
        ids.by_name
            .insert("shared.example".to_owned(), vec![id(2), id(3)]);
        let resolved: Vec<String> = lines
            .into_iter()
            .filter_map(Result::ok)
            .map(|line| match ids.resolve(line) {
                Ok(zone) => format!("{} {} {}", zone.line, zone.zone_id, zone.name),
                Err(e) => e.to_string(),
            })
            .collect();
        assert_eq!(
            resolved,
            [
                "1 269d8f4853475ca241c4e730be286b20 example.com.",
                "2 00000000000000000000000000000001 example.net",
                "line 4: 2 zones are named shared.example (in different accounts): give its id",
                "line 5: no zone is named missing.example",
            ]
        );
        // The list of ids only still refuses a name alone.
        let strict: Vec<_> = read_zone_list("example.net\n".as_bytes()).collect();
        assert_eq!(
            strict[0].as_ref().unwrap_err().to_string(),
            "line 1: expected `<zone id> <zone name>`, got 1 field(s)"
        );
    }

    #[test]
    fn a_byte_order_mark_is_skipped_and_a_control_character_refused() {
        let text = "\u{feff}269d8f4853475ca241c4e730be286b20 example.com.\n\
                    369d8f4853475ca241c4e730be286b20 exa\0mple.net.\n";
        let read: Vec<_> = read_zone_list(text.as_bytes())
            .map(|r| r.map(|zone| zone.name).map_err(|e| e.to_string()))
            .collect();
        assert_eq!(
            read,
            [
                Ok("example.com.".to_owned()),
                Err("line 2: the zone name has a control character (\\u{0})".to_owned())
            ]
        );
    }

    /// A reader that fails every read, as a directory opened as a file does.
    struct Failing;

    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("Is a directory"))
        }
    }

    #[test]
    fn a_read_error_ends_the_list() {
        let read: Vec<_> = read_zone_list(std::io::BufReader::new(Failing))
            .take(5)
            .collect();
        assert_eq!(read.len(), 1, "{read:?}");
        let error = read[0].as_ref().unwrap_err();
        assert!(error.unreadable, "{error:?}");
        assert_eq!(
            error.to_string(),
            "line 1: could not be read: Is a directory"
        );
    }

    #[test]
    fn most_of_the_recent_zones_decide() {
        let recent = Recent::default();
        assert!(!recent.mostly_configured());
        for _ in 0..4 {
            recent.record(true);
        }
        assert!(!recent.mostly_configured(), "4 of 8 is not most");
        recent.record(true);
        assert!(recent.mostly_configured());
        for _ in 0..4 {
            recent.record(false);
        }
        assert!(!recent.mostly_configured());
    }
}
