//! DNS probes of a primary (or of Cloudflare): an SOA query over UDP or TCP
//! and a transfer (AXFR, or IXFR from a serial), each signed with a TSIG key
//! when one is given, as Cloudflare signs them.
//!
//! Messages are built, parsed, signed and verified by NLnet Labs' `domain`;
//! the I/O loop is ours so that every read has a deadline and a transfer a
//! byte cap. A transfer is streamed: records are counted, never kept.
//!
//! Two TSIG behaviours of `domain` 0.12 are worked around by reading the
//! answer's TSIG error before verifying its MAC: a correct BADTIME answer
//! (RFC 8945 §5.2.3) fails `domain`'s MAC check, and a server built on
//! `domain` answers a wrong MAC with the TSIG error FORMERR, not BADSIG.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use domain::base::iana::{Rcode, TsigRcode};
use domain::base::{Message, MessageBuilder, Name, ParsedName, Rtype, Serial, Ttl};
use domain::rdata::tsig::Time48;
use domain::rdata::{Soa, Tsig};
use domain::tsig::{ClientSequence, ClientTransaction, Key, ValidationError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{Instant, timeout_at};

use crate::key::SigningKey;

/// The default wait for one answer (an SOA, or the next message of a
/// transfer): 5 s.
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// The default bound on a whole transfer: 60 s.
pub const DEFAULT_TRANSFER_TIMEOUT: Duration = Duration::from_secs(60);
/// The default cap on the bytes a transfer may bring: 64 MiB.
pub const DEFAULT_MAX_TRANSFER_BYTES: u64 = 64 * 1024 * 1024;

/// How long and how much a probe may take.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct ProbeLimits {
    /// The wait for one answer or message ([`DEFAULT_PROBE_TIMEOUT`]).
    pub timeout: Duration,
    /// The bound on a whole transfer ([`DEFAULT_TRANSFER_TIMEOUT`]).
    pub transfer_timeout: Duration,
    /// The cap on a transfer's bytes ([`DEFAULT_MAX_TRANSFER_BYTES`]).
    pub max_transfer_bytes: u64,
}

impl Default for ProbeLimits {
    fn default() -> Self {
        ProbeLimits {
            timeout: DEFAULT_PROBE_TIMEOUT,
            transfer_timeout: DEFAULT_TRANSFER_TIMEOUT,
            max_transfer_bytes: DEFAULT_MAX_TRANSFER_BYTES,
        }
    }
}

impl ProbeLimits {
    /// Sets the wait for one answer.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// Sets the bound on a whole transfer.
    pub fn transfer_timeout(mut self, timeout: Duration) -> Self {
        self.transfer_timeout = timeout;
        self
    }
    /// Sets the cap on a transfer's bytes.
    pub fn max_transfer_bytes(mut self, bytes: u64) -> Self {
        self.max_transfer_bytes = bytes;
        self
    }
}

/// UDP or TCP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// One datagram each way.
    Udp,
    /// Length-prefixed messages over a connection (transfers always).
    Tcp,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        })
    }
}

/// What a primary said about our TSIG signature, or what we found wrong
/// with its own.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TsigFailure {
    /// NOTAUTH with BADKEY: it knows no key of that name and algorithm.
    BadKey,
    /// NOTAUTH with BADSIG: it has the key's name but another secret.
    BadSig,
    /// NOTAUTH with BADTIME: the clocks differ by more than the fudge
    /// (300 s). `skew` is the primary's time minus ours, in seconds.
    BadTime { skew: Option<i64> },
    /// NOTAUTH with another TSIG error (a server built on `domain` says
    /// FORMERR where it could not verify the MAC).
    Other { error: String },
    /// The answer carries no TSIG although the request was signed.
    Unsigned,
    /// The answer's own signature does not verify with the key.
    AnswerInvalid { why: String },
}

impl fmt::Display for TsigFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TsigFailure::BadKey => {
                f.write_str("BADKEY (the primary knows no key of this name and algorithm)")
            }
            TsigFailure::BadSig => {
                f.write_str("BADSIG (the primary's secret for this key differs)")
            }
            TsigFailure::BadTime { skew: Some(skew) } => {
                write!(
                    f,
                    "BADTIME (the primary's clock is {skew:+} s from this host's)"
                )
            }
            TsigFailure::BadTime { skew: None } => f.write_str("BADTIME (the clocks differ)"),
            TsigFailure::Other { error } => write!(
                f,
                "TSIG error {error} (the primary could not verify the signature; \
                 most often the secret differs)"
            ),
            TsigFailure::Unsigned => f.write_str("the answer is not signed"),
            TsigFailure::AnswerInvalid { why } => {
                write!(f, "the answer's signature does not verify: {why}")
            }
        }
    }
}

/// Why a probe got no usable answer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProbeError {
    /// Nothing came back within the wait (or the transfer's bound).
    TimedOut { waited: Duration },
    /// The connection was refused or the network is unreachable.
    Unreachable { detail: String },
    /// The connection closed before the answer (or the transfer) ended.
    Closed { after_messages: u32 },
    /// An answer that is not a DNS answer to our request.
    Malformed { detail: String },
    /// An answer with another message id.
    WrongId { sent: u16, got: u16 },
    /// An answer about another name than the zone.
    OtherZone { name: String },
    /// An error RCODE (REFUSED, NOTAUTH, SERVFAIL, NXDOMAIN, …).
    Rcode { rcode: String },
    /// A TSIG problem.
    Tsig(TsigFailure),
    /// An answer without the zone's SOA.
    NoSoa,
    /// The transfer passed the byte cap.
    TooLarge { bytes: u64 },
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeError::TimedOut { waited } => {
                write!(f, "no answer within {:.1} s", waited.as_secs_f64())
            }
            ProbeError::Unreachable { detail } => write!(f, "unreachable: {detail}"),
            ProbeError::Closed { after_messages } => write!(
                f,
                "the connection closed after {after_messages} message(s), before the end"
            ),
            ProbeError::Malformed { detail } => write!(f, "a malformed answer: {detail}"),
            ProbeError::WrongId { sent, got } => {
                write!(f, "an answer with id {got}, not the {sent} sent")
            }
            ProbeError::OtherZone { name } => write!(f, "an answer for another name ({name})"),
            ProbeError::Rcode { rcode } => write!(f, "{rcode}"),
            ProbeError::Tsig(failure) => write!(f, "{failure}"),
            ProbeError::NoSoa => f.write_str("an answer without the zone's SOA"),
            ProbeError::TooLarge { bytes } => write!(
                f,
                "stopped after {:.1} MB (the transfer cap)",
                *bytes as f64 / 1_000_000.0
            ),
        }
    }
}

impl std::error::Error for ProbeError {}

/// An SOA answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SoaAnswer {
    /// The zone's serial.
    pub serial: u32,
    /// Whether the AA bit was set (an authoritative answer).
    pub authoritative: bool,
}

/// What a transfer was asked as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferKind {
    /// The whole zone.
    Axfr,
    /// The changes since a serial.
    Ixfr { since: u32 },
}

/// How a transfer was answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answered {
    /// With the whole zone.
    Axfr,
    /// With changes.
    Incremental,
    /// With the SOA alone: nothing newer than the serial asked from.
    UpToDate,
}

/// A transfer that completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Transfer {
    /// What was asked.
    pub asked: TransferKind,
    /// How it was answered.
    pub answered: Answered,
    /// The serial of the first (and last) SOA.
    pub serial: u32,
    /// Records received, the SOAs included.
    pub records: u64,
    /// Messages received.
    pub messages: u32,
    /// Bytes received.
    pub bytes: u64,
}

/// Asks `server` for `zone`'s SOA over `transport`, signed with `key`.
pub async fn query_soa(
    server: SocketAddr,
    zone: &str,
    transport: Transport,
    key: Option<&SigningKey>,
    limits: &ProbeLimits,
) -> Result<SoaAnswer, ProbeError> {
    let zone_name = zone_name(zone)?;
    let (request, id, mut verifier) = request(&zone_name, Rtype::SOA, None, key, false)?;
    let deadline = Instant::now() + limits.timeout;
    let bytes = match transport {
        Transport::Udp => exchange_udp(server, &request, deadline, limits.timeout).await?,
        Transport::Tcp => {
            let mut stream = connect(server, deadline, limits.timeout).await?;
            send_tcp(&mut stream, &request, deadline, limits.timeout).await?;
            read_tcp(&mut stream, deadline, limits.timeout, 0).await?
        }
    };
    let mut message = parse(bytes)?;
    check_answer(&message, id, &zone_name, Rtype::SOA, true)?;
    verifier.verify(&mut message)?;
    check_rcode(&message)?;
    let serial = answer_soas(&message, &zone_name)?
        .first()
        .copied()
        .ok_or(ProbeError::NoSoa)?;
    Ok(SoaAnswer {
        serial,
        authoritative: message.header().aa(),
    })
}

/// Sends `server` a NOTIFY for `zone` at `serial` over UDP, signed with
/// `key`, as a primary tells its secondaries of a change; `Ok` when it
/// answers NOERROR.
pub async fn notify(
    server: SocketAddr,
    zone: &str,
    serial: u32,
    key: Option<&SigningKey>,
    limits: &ProbeLimits,
) -> Result<(), ProbeError> {
    let zone_name = zone_name(zone)?;
    let (request, id, mut verifier) =
        build(&zone_name, Rtype::SOA, None, Some(serial), key, false)?;
    let deadline = Instant::now() + limits.timeout;
    let bytes = exchange_udp(server, &request, deadline, limits.timeout).await?;
    let mut message = parse(bytes)?;
    check_answer(&message, id, &zone_name, Rtype::SOA, false)?;
    verifier.verify(&mut message)?;
    check_rcode(&message)
}

/// Transfers `zone` from `server` over TCP (AXFR, or IXFR from a serial),
/// signed with `key`; every signed message's TSIG is verified, records are
/// counted, not kept.
pub async fn transfer(
    server: SocketAddr,
    zone: &str,
    kind: TransferKind,
    key: Option<&SigningKey>,
    limits: &ProbeLimits,
) -> Result<Transfer, ProbeError> {
    let zone_name = zone_name(zone)?;
    let (qtype, since) = match kind {
        TransferKind::Axfr => (Rtype::AXFR, None),
        TransferKind::Ixfr { since } => (Rtype::IXFR, Some(since)),
    };
    let (request, id, mut verifier) = request(&zone_name, qtype, since, key, true)?;
    let started = Instant::now();
    let deadline = started + limits.transfer_timeout;
    let mut stream = connect(server, deadline, limits.timeout).await?;
    send_tcp(&mut stream, &request, deadline, limits.timeout).await?;
    let mut reader = XfrReader::new(kind);
    let (mut messages, mut bytes) = (0u32, 0u64);
    loop {
        let received = match read_tcp(&mut stream, deadline, limits.timeout, messages).await {
            Err(ProbeError::TimedOut { .. }) if Instant::now() >= deadline => {
                return Err(ProbeError::TimedOut {
                    waited: limits.transfer_timeout,
                });
            }
            other => other?,
        };
        bytes += received.len() as u64 + 2;
        if bytes > limits.max_transfer_bytes {
            return Err(ProbeError::TooLarge { bytes });
        }
        let mut message = parse(received)?;
        check_answer(&message, id, &zone_name, qtype, messages == 0)?;
        verifier.verify(&mut message)?;
        check_rcode(&message)?;
        messages += 1;
        let answer = message.answer().map_err(malformed)?;
        for record in answer {
            let record = record.map_err(malformed)?;
            let soa = if record.rtype() == Rtype::SOA {
                let Some(soa) = record
                    .into_record::<Soa<ParsedName<_>>>()
                    .map_err(malformed)?
                else {
                    continue;
                };
                if !same_name(&soa.owner().to_string(), &zone_name) {
                    return Err(ProbeError::OtherZone {
                        name: soa.owner().to_string(),
                    });
                }
                Some(soa.data().serial().into_int())
            } else {
                None
            };
            reader.record(soa)?;
        }
        if let Some(answered) = reader.finished() {
            verifier.done()?;
            return Ok(Transfer {
                asked: kind,
                answered,
                serial: reader.serial.unwrap_or_default(),
                records: reader.records,
                messages,
                bytes,
            });
        }
    }
}

/// Follows the records of an AXFR or IXFR answer to its end (RFC 5936 §2.2,
/// RFC 1995 §4), keeping only counts and serials.
struct XfrReader {
    kind: TransferKind,
    serial: Option<u32>,
    records: u64,
    /// The form seen once the second record arrived.
    answered: Option<Answered>,
    /// In an incremental answer: whether the current diff is adding.
    adding: bool,
    done: bool,
}

impl XfrReader {
    fn new(kind: TransferKind) -> Self {
        XfrReader {
            kind,
            serial: None,
            records: 0,
            answered: None,
            adding: false,
            done: false,
        }
    }

    fn record(&mut self, soa: Option<u32>) -> Result<(), ProbeError> {
        if self.done {
            return Err(ProbeError::Malformed {
                detail: "records after the transfer's closing SOA".to_owned(),
            });
        }
        self.records += 1;
        let Some(first) = self.serial else {
            self.serial = Some(soa.ok_or(ProbeError::Malformed {
                detail: "the transfer does not start with the zone's SOA".to_owned(),
            })?);
            return Ok(());
        };
        if self.answered.is_none() {
            // The second record tells the form: an SOA in an IXFR is the
            // start of the first diff (RFC 1995 §4); anything else, a zone.
            let incremental = matches!(self.kind, TransferKind::Ixfr { .. }) && soa.is_some();
            self.answered = Some(if incremental {
                Answered::Incremental
            } else {
                Answered::Axfr
            });
            if incremental {
                return Ok(());
            }
        }
        match (self.answered, soa) {
            (Some(Answered::Axfr), Some(serial)) => {
                if serial != first {
                    return Err(ProbeError::Malformed {
                        detail: format!("the closing SOA has serial {serial}, the first {first}"),
                    });
                }
                self.done = true;
            }
            (Some(Answered::Incremental), Some(serial)) => {
                if self.adding && serial == first {
                    self.done = true;
                }
                self.adding = !self.adding;
            }
            _ => {}
        }
        Ok(())
    }

    /// How the transfer was answered, once it has ended.
    fn finished(&self) -> Option<Answered> {
        if self.done {
            return self.answered;
        }
        // An IXFR answered with the SOA alone, whose serial is not newer.
        match (self.kind, self.serial, self.records) {
            (TransferKind::Ixfr { since }, Some(serial), 1)
                if Serial(serial) <= Serial(since) || serial == since =>
            {
                Some(Answered::UpToDate)
            }
            _ => None,
        }
    }
}

/// Verifies an answer's TSIG: none, one answer, or a sequence.
enum Verifier {
    None,
    One(ClientTransaction<Arc<Key>>),
    Sequence(ClientSequence<Arc<Key>>),
}

impl Verifier {
    fn verify(&mut self, message: &mut Message<Vec<u8>>) -> Result<(), ProbeError> {
        if matches!(self, Verifier::None) {
            return Ok(());
        }
        // The primary's verdict on our signature comes first: domain would
        // read a correct BADTIME answer as a MAC failure.
        if let Some(failure) = tsig_error(message) {
            return Err(ProbeError::Tsig(failure));
        }
        // An unsigned refusal is a refusal first (the RCODE is checked next).
        if message.header().rcode() != Rcode::NOERROR && !has_tsig(message) {
            return Ok(());
        }
        let now = Time48::now();
        let result = match self {
            Verifier::None => Ok(()),
            Verifier::One(transaction) => transaction.answer(message, now),
            Verifier::Sequence(sequence) => sequence.answer(message, now),
        };
        result.map_err(|err| ProbeError::Tsig(validation_failure(err)))
    }

    fn done(self) -> Result<(), ProbeError> {
        match self {
            Verifier::Sequence(sequence) => sequence
                .done()
                .map_err(|err| ProbeError::Tsig(validation_failure(err))),
            _ => Ok(()),
        }
    }
}

fn validation_failure(err: ValidationError) -> TsigFailure {
    match err {
        ValidationError::ServerUnsigned => TsigFailure::Unsigned,
        ValidationError::ServerBadKey => TsigFailure::BadKey,
        ValidationError::ServerBadSig => TsigFailure::BadSig,
        ValidationError::ServerBadTime { client, server } => TsigFailure::BadTime {
            skew: Some(seconds(server) - seconds(client)),
        },
        other => TsigFailure::AnswerInvalid {
            why: other.to_string(),
        },
    }
}

fn has_tsig(message: &Message<Vec<u8>>) -> bool {
    message.additional().is_ok_and(|section| {
        section
            .filter_map(Result::ok)
            .any(|record| record.rtype() == Rtype::TSIG)
    })
}

/// The TSIG error a primary's answer (one DNS message) carries, if it is a
/// NOTAUTH with one: read from the record alone, before (and whatever) its
/// MAC says, as the doctor reads every answer.
pub fn answer_tsig_failure(answer: &[u8]) -> Option<TsigFailure> {
    tsig_error(&Message::from_octets(answer.to_vec()).ok()?)
}

/// The TSIG error of a NOTAUTH answer, read before any MAC check.
fn tsig_error(message: &Message<Vec<u8>>) -> Option<TsigFailure> {
    if message.header().rcode() != Rcode::NOTAUTH {
        return None;
    }
    let additional = message.additional().ok()?;
    for record in additional {
        let Ok(record) = record else { break };
        if record.rtype() != Rtype::TSIG {
            continue;
        }
        let Ok(Some(tsig)) = record.into_record::<Tsig<_, ParsedName<_>>>() else {
            break;
        };
        let data = tsig.data();
        return Some(match data.error() {
            TsigRcode::BADKEY => TsigFailure::BadKey,
            TsigRcode::BADSIG => TsigFailure::BadSig,
            TsigRcode::BADTIME => TsigFailure::BadTime {
                skew: data
                    .other_time()
                    .map(|server| seconds(server) - seconds(data.time_signed())),
            },
            other => TsigFailure::Other {
                error: other.to_string(),
            },
        });
    }
    None
}

/// A TSIG time as signed seconds (48 bits always fit).
fn seconds(time: Time48) -> i64 {
    u64::from(time) as i64
}

fn zone_name(zone: &str) -> Result<Name<Vec<u8>>, ProbeError> {
    let absolute = if zone.ends_with('.') {
        zone.to_owned()
    } else {
        format!("{zone}.")
    };
    Name::from_str(&absolute).map_err(|err| ProbeError::Malformed {
        detail: format!("the zone name {zone:?} is not a domain name: {err}"),
    })
}

/// Builds a request (signed when `key` is given) with a random id.
fn request(
    zone: &Name<Vec<u8>>,
    qtype: Rtype,
    ixfr_since: Option<u32>,
    key: Option<&SigningKey>,
    sequence: bool,
) -> Result<(Vec<u8>, u16, Verifier), ProbeError> {
    build(zone, qtype, ixfr_since, None, key, sequence)
}

/// A request: a query (with an IXFR's serial in authority), or a NOTIFY
/// (RFC 1996: opcode NOTIFY, the zone's SOA and its serial in answer).
fn build(
    zone: &Name<Vec<u8>>,
    qtype: Rtype,
    ixfr_since: Option<u32>,
    notify_serial: Option<u32>,
    key: Option<&SigningKey>,
    sequence: bool,
) -> Result<(Vec<u8>, u16, Verifier), ProbeError> {
    let id = fastrand::u16(..);
    let too_long = |_| ProbeError::Malformed {
        detail: "the request does not fit in a DNS message".to_owned(),
    };
    let mut builder = MessageBuilder::new_vec();
    builder.header_mut().set_id(id);
    if notify_serial.is_some() {
        builder
            .header_mut()
            .set_opcode(domain::base::iana::Opcode::NOTIFY);
        builder.header_mut().set_aa(true);
    }
    let mut question = builder.question();
    question.push((zone, qtype)).map_err(too_long)?;
    let mut answer = question.answer();
    if let Some(serial) = notify_serial {
        answer.push((zone, 0, bare_soa(serial))).map_err(too_long)?;
    }
    let mut authority = answer.authority();
    if let Some(serial) = ixfr_since {
        // RFC 1995 §3: the client's SOA in the authority section; only its
        // serial is read.
        authority
            .push((zone, 0, bare_soa(serial)))
            .map_err(too_long)?;
    }
    let mut additional = authority.additional();
    let now = Time48::now();
    let verifier = match (key, sequence) {
        (None, _) => Verifier::None,
        (Some(key), false) => Verifier::One(
            ClientTransaction::request(key.key().clone(), &mut additional, now)
                .map_err(too_long)?,
        ),
        (Some(key), true) => Verifier::Sequence(
            ClientSequence::request(key.key().clone(), &mut additional, now).map_err(too_long)?,
        ),
    };
    Ok((additional.finish(), id, verifier))
}

/// An SOA that carries only a serial (what NOTIFY and IXFR requests send).
fn bare_soa(serial: u32) -> Soa<Name<Vec<u8>>> {
    let root = Name::root_vec();
    let zero = Ttl::ZERO;
    Soa::new(root.clone(), root, Serial(serial), zero, zero, zero, zero)
}

fn parse(bytes: Vec<u8>) -> Result<Message<Vec<u8>>, ProbeError> {
    Message::from_octets(bytes).map_err(|_| ProbeError::Malformed {
        detail: "shorter than a DNS header".to_owned(),
    })
}

fn malformed(err: impl fmt::Display) -> ProbeError {
    ProbeError::Malformed {
        detail: err.to_string(),
    }
}

/// An answer to our request: the id, the QR bit, and the question (which a
/// transfer's later messages may leave out).
fn check_answer(
    message: &Message<Vec<u8>>,
    id: u16,
    zone: &Name<Vec<u8>>,
    qtype: Rtype,
    question_required: bool,
) -> Result<(), ProbeError> {
    let header = message.header();
    if header.id() != id {
        return Err(ProbeError::WrongId {
            sent: id,
            got: header.id(),
        });
    }
    if !header.qr() {
        return Err(ProbeError::Malformed {
            detail: "a query, not an answer".to_owned(),
        });
    }
    match message.first_question() {
        Some(question) => {
            let name = question.qname().to_string();
            if !same_name(&name, zone) {
                return Err(ProbeError::OtherZone { name });
            }
            if question.qtype() != qtype {
                return Err(ProbeError::Malformed {
                    detail: format!("an answer to a {} query, not {qtype}", question.qtype()),
                });
            }
        }
        // A refusal may come without the question; the RCODE says why.
        None if question_required && header.rcode() == Rcode::NOERROR => {
            return Err(ProbeError::Malformed {
                detail: "an answer without the question".to_owned(),
            });
        }
        None => {}
    }
    Ok(())
}

fn check_rcode(message: &Message<Vec<u8>>) -> Result<(), ProbeError> {
    let rcode = message.header().rcode();
    if rcode == Rcode::NOERROR {
        Ok(())
    } else {
        Err(ProbeError::Rcode {
            rcode: rcode.to_string(),
        })
    }
}

/// The serials of the zone's SOA records in the answer section.
fn answer_soas(message: &Message<Vec<u8>>, zone: &Name<Vec<u8>>) -> Result<Vec<u32>, ProbeError> {
    let mut serials = Vec::new();
    for record in message.answer().map_err(malformed)? {
        let record = record.map_err(malformed)?;
        if record.rtype() != Rtype::SOA {
            continue;
        }
        if let Some(soa) = record
            .into_record::<Soa<ParsedName<_>>>()
            .map_err(malformed)?
            && same_name(&soa.owner().to_string(), zone)
        {
            serials.push(soa.data().serial().into_int());
        }
    }
    Ok(serials)
}

/// Whether a name as `domain` displays it (with or without the root's dot)
/// is the zone, in any case.
fn same_name(name: &str, zone: &Name<Vec<u8>>) -> bool {
    let zone = zone.to_string();
    name.trim_end_matches('.')
        .eq_ignore_ascii_case(zone.trim_end_matches('.'))
}

fn io_failure(err: std::io::Error) -> ProbeError {
    match err.kind() {
        std::io::ErrorKind::UnexpectedEof => ProbeError::Closed { after_messages: 0 },
        _ => ProbeError::Unreachable {
            detail: err.to_string(),
        },
    }
}

/// The earlier of the overall deadline and one wait from now.
fn next_deadline(deadline: Instant, wait: Duration) -> Instant {
    deadline.min(Instant::now() + wait)
}

async fn exchange_udp(
    server: SocketAddr,
    request: &[u8],
    deadline: Instant,
    wait: Duration,
) -> Result<Vec<u8>, ProbeError> {
    let local: SocketAddr = if server.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let socket = UdpSocket::bind(local).await.map_err(io_failure)?;
    socket.connect(server).await.map_err(io_failure)?;
    socket.send(request).await.map_err(io_failure)?;
    let mut buffer = vec![0; 65_535];
    match timeout_at(next_deadline(deadline, wait), socket.recv(&mut buffer)).await {
        Err(_) => Err(ProbeError::TimedOut { waited: wait }),
        Ok(Err(err)) => Err(io_failure(err)),
        Ok(Ok(len)) => {
            buffer.truncate(len);
            Ok(buffer)
        }
    }
}

async fn connect(
    server: SocketAddr,
    deadline: Instant,
    wait: Duration,
) -> Result<TcpStream, ProbeError> {
    match timeout_at(next_deadline(deadline, wait), TcpStream::connect(server)).await {
        Err(_) => Err(ProbeError::TimedOut { waited: wait }),
        Ok(Err(err)) => Err(io_failure(err)),
        Ok(Ok(stream)) => Ok(stream),
    }
}

async fn send_tcp(
    stream: &mut TcpStream,
    request: &[u8],
    deadline: Instant,
    wait: Duration,
) -> Result<(), ProbeError> {
    // RFC 1035 §4.2.2: each message is preceded by its length.
    let len = u16::try_from(request.len()).map_err(|_| ProbeError::Malformed {
        detail: "the request is longer than a TCP message".to_owned(),
    })?;
    let mut framed = Vec::with_capacity(request.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(request);
    match timeout_at(next_deadline(deadline, wait), stream.write_all(&framed)).await {
        Err(_) => Err(ProbeError::TimedOut { waited: wait }),
        Ok(result) => result.map_err(io_failure),
    }
}

async fn read_tcp(
    stream: &mut TcpStream,
    deadline: Instant,
    wait: Duration,
    messages: u32,
) -> Result<Vec<u8>, ProbeError> {
    let read = async {
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).await?;
        let mut message = vec![0; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut message).await?;
        Ok::<_, std::io::Error>(message)
    };
    match timeout_at(next_deadline(deadline, wait), read).await {
        Err(_) => Err(ProbeError::TimedOut { waited: wait }),
        Ok(Err(err)) if err.kind() == std::io::ErrorKind::UnexpectedEof => {
            Err(ProbeError::Closed {
                after_messages: messages,
            })
        }
        Ok(Err(err)) => Err(io_failure(err)),
        Ok(Ok(message)) => Ok(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_axfr_ends_at_its_second_soa() {
        let mut reader = XfrReader::new(TransferKind::Axfr);
        for soa in [Some(7), None, None] {
            reader.record(soa).unwrap();
            assert_eq!(reader.finished(), None);
        }
        reader.record(Some(7)).unwrap();
        assert_eq!(reader.finished(), Some(Answered::Axfr));
        assert!(reader.record(None).is_err(), "records after the end");
    }

    #[test]
    fn an_ixfr_is_read_as_diffs_or_as_a_zone() {
        // SOA 9, (SOA 7, del, SOA 8, add), (SOA 8, del, SOA 9, add), SOA 9
        let mut reader = XfrReader::new(TransferKind::Ixfr { since: 7 });
        let diffs = [
            Some(9),
            Some(7),
            None,
            Some(8),
            None,
            Some(8),
            None,
            Some(9),
            None,
        ];
        for soa in diffs {
            reader.record(soa).unwrap();
            assert_eq!(reader.finished(), None);
        }
        reader.record(Some(9)).unwrap();
        assert_eq!(reader.finished(), Some(Answered::Incremental));

        let mut fallback = XfrReader::new(TransferKind::Ixfr { since: 7 });
        for soa in [Some(9), None, None, Some(9)] {
            fallback.record(soa).unwrap();
        }
        assert_eq!(fallback.finished(), Some(Answered::Axfr));

        let mut current = XfrReader::new(TransferKind::Ixfr { since: 9 });
        current.record(Some(9)).unwrap();
        assert_eq!(current.finished(), Some(Answered::UpToDate));
    }

    #[test]
    fn an_axfr_must_start_and_end_with_the_same_soa() {
        let mut reader = XfrReader::new(TransferKind::Axfr);
        assert!(reader.record(None).is_err());
        let mut reader = XfrReader::new(TransferKind::Axfr);
        reader.record(Some(1)).unwrap();
        reader.record(None).unwrap();
        assert!(reader.record(Some(2)).is_err());
    }
}
