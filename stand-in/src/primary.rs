//! A primary name server on loopback, for the doctor's tests and
//! `serve --primary`: one zone served over UDP and TCP (SOA, AXFR, IXFR),
//! TSIG checked and answered as BIND answers (NOTAUTH with BADKEY, BADSIG or
//! BADTIME), NOTIFYs counted, and each way a primary goes wrong on cue
//! ([`Behaviour`]). Messages and TSIG through NLnet Labs' `domain`.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use domain::base::iana::{Rcode, TsigRcode};
use domain::base::{Message, MessageBuilder, Name, ParsedName, Rtype, Serial, ToName, Ttl};
use domain::rdata::tsig::Time48;
use domain::rdata::{A, Ns, Soa, Tsig};
use domain::tsig::{Algorithm, Key, KeyName, ServerSequence, ServerTransaction};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinHandle;

/// Records per AXFR message (so that a zone of a few hundred records
/// takes several messages, as a real transfer does).
const RECORDS_PER_MESSAGE: usize = 50;

/// How the primary behaves: well, or one of the ways primaries go wrong.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Behaviour {
    /// Answers as a healthy primary does.
    #[default]
    Healthy,
    /// REFUSED to everything (an allow-list without this host).
    Refuse,
    /// Answers over UDP; accepts TCP connections and never answers on them.
    TcpSilent,
    /// Answers nothing at all (UDP and TCP).
    Silent,
    /// Answers IXFR with the whole zone (as PowerDNS does).
    IxfrAsAxfr,
    /// Answers with another message id.
    WrongId,
    /// Announces a message and sends half of it, then closes.
    Truncated,
    /// Sends bytes that are not a DNS message.
    Garbage,
    /// An AXFR that never ends (records without the closing SOA).
    Endless,
    /// Answers about another zone.
    OtherZone,
    /// Answers signed requests without a signature.
    Unsigned,
    /// Signs its answers with another secret under the key's name.
    BadSignature,
}

/// What the primary holds; change it while it runs.
#[derive(Debug)]
pub struct PrimaryState {
    /// The zone (`example.com.`).
    pub zone: String,
    /// How many A records beside SOA and NS.
    pub records: usize,
    /// The TSIG key the primary requires for transfers (and checks on any
    /// signed request), if any: name, algorithm, secret bytes.
    pub key: Option<(String, String, Vec<u8>)>,
    /// Seconds the primary's clock is off by (BADTIME past 300).
    pub clock_skew: i64,
    /// How it behaves.
    pub behaviour: Behaviour,
    /// Serve any zone asked for (the same records under its name), as a
    /// primary of many zones does; for fleet tests and benchmarks.
    pub any_zone: bool,
}

/// A running primary; it stops when dropped.
pub struct Primary {
    addr: SocketAddr,
    serial: Arc<AtomicU32>,
    notifies: Arc<AtomicU32>,
    state: Arc<Mutex<PrimaryState>>,
    _tasks: Tasks,
}

/// The server's tasks, stopped when it is dropped.
struct Tasks(Vec<JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

struct Shared {
    serial: Arc<AtomicU32>,
    notifies: Arc<AtomicU32>,
    state: Arc<Mutex<PrimaryState>>,
}

impl Primary {
    /// Starts a primary for `zone` at `serial` on a free port of 127.0.0.1
    /// (the same port for UDP and TCP), with 10 A records and no key.
    ///
    /// # Panics
    /// If no loopback port can be bound for both.
    pub async fn start(zone: &str, serial: u32) -> Primary {
        let (tcp, udp) = bind_pair().await;
        let addr = tcp.local_addr().expect("bound");
        let zone = if zone.ends_with('.') {
            zone.to_owned()
        } else {
            format!("{zone}.")
        };
        let state = Arc::new(Mutex::new(PrimaryState {
            zone,
            records: 10,
            key: None,
            clock_skew: 0,
            behaviour: Behaviour::Healthy,
            any_zone: false,
        }));
        let serial = Arc::new(AtomicU32::new(serial));
        let notifies = Arc::new(AtomicU32::new(0));
        let shared = || {
            Arc::new(Shared {
                serial: serial.clone(),
                notifies: notifies.clone(),
                state: state.clone(),
            })
        };
        let tasks = Tasks(vec![
            tokio::spawn(serve_udp(udp, shared())),
            tokio::spawn(serve_tcp(tcp, shared())),
        ]);
        Primary {
            addr,
            serial,
            notifies,
            state,
            _tasks: tasks,
        }
    }

    /// Where it listens (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Requires (and checks) `name`'s key: `algorithm` as `hmac-sha256`,
    /// `secret` its bytes.
    pub fn require_key(&self, name: &str, algorithm: &str, secret: &[u8]) {
        self.with_state(|state| {
            state.key = Some((name.to_owned(), algorithm.to_owned(), secret.to_vec()));
        });
    }

    /// The zone's serial now.
    pub fn serial(&self) -> u32 {
        self.serial.load(Ordering::SeqCst)
    }

    /// Sets the zone's serial.
    pub fn set_serial(&self, serial: u32) {
        self.serial.store(serial, Ordering::SeqCst);
    }

    /// NOTIFYs received so far.
    pub fn notifies(&self) -> u32 {
        self.notifies.load(Ordering::SeqCst)
    }

    /// Sets how it behaves.
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        self.with_state(|state| state.behaviour = behaviour);
    }

    /// Changes what it holds.
    pub fn with_state<T>(&self, change: impl FnOnce(&mut PrimaryState) -> T) -> T {
        change(&mut self.state.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

async fn bind_pair() -> (TcpListener, UdpSocket) {
    for _ in 0..50 {
        let tcp = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let port = tcp.local_addr().expect("bound").port();
        if let Ok(udp) = UdpSocket::bind(("127.0.0.1", port)).await {
            return (tcp, udp);
        }
    }
    panic!("no loopback port free for both UDP and TCP");
}

/// The zone's records, in AXFR order between the two SOAs.
struct Snapshot {
    zone: Name<Vec<u8>>,
    serial: u32,
    records: usize,
    key: Option<Arc<Key>>,
    now: Time48,
    behaviour: Behaviour,
    any_zone: bool,
}

impl Shared {
    fn snapshot(&self) -> Option<Snapshot> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let key = match &state.key {
            None => None,
            Some((name, algorithm, secret)) => {
                let name = KeyName::from_str(name.trim_end_matches('.')).ok()?;
                let algorithm = Algorithm::from_str(algorithm).ok()?;
                Some(Arc::new(
                    Key::new(algorithm, secret, name, None, None).ok()?,
                ))
            }
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
            + state.clock_skew;
        Some(Snapshot {
            zone: Name::from_str(&state.zone).ok()?,
            serial: self.serial.load(Ordering::SeqCst),
            records: state.records,
            key,
            now: Time48::from_u64(now.max(0) as u64),
            behaviour: state.behaviour,
            any_zone: state.any_zone,
        })
    }
}

async fn serve_udp(socket: UdpSocket, shared: Arc<Shared>) {
    let mut buffer = vec![0; 65_535];
    loop {
        let Ok((len, from)) = socket.recv_from(&mut buffer).await else {
            continue;
        };
        let Some(snapshot) = shared.snapshot() else {
            continue;
        };
        if snapshot.behaviour == Behaviour::Silent {
            continue;
        }
        for answer in answers(&shared, &snapshot, buffer[..len].to_vec(), false) {
            let _ = socket.send_to(&answer, from).await;
        }
    }
}

async fn serve_tcp(listener: TcpListener, shared: Arc<Shared>) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(serve_connection(stream, shared.clone()));
    }
}

async fn serve_connection(mut stream: TcpStream, shared: Arc<Shared>) {
    loop {
        let Some(request) = read_framed(&mut stream).await else {
            return;
        };
        let Some(snapshot) = shared.snapshot() else {
            return;
        };
        match snapshot.behaviour {
            Behaviour::Silent | Behaviour::TcpSilent => {
                // Hold the connection open, answering nothing.
                let mut sink = [0u8; 512];
                while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
                return;
            }
            Behaviour::Truncated => {
                let _ = stream.write_all(&[0x01, 0x00]).await;
                let _ = stream.write_all(&[0u8; 128]).await;
                return;
            }
            Behaviour::Endless => {
                endless(&mut stream, &snapshot, &request).await;
                return;
            }
            _ => {}
        }
        for answer in answers(&shared, &snapshot, request, true) {
            if !write_framed(&mut stream, &answer).await {
                return;
            }
        }
    }
}

/// One DNS message over TCP (RFC 1035 §4.2.2: its length first); `None`
/// once the connection ends.
async fn read_framed(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await.ok()?;
    let mut message = vec![0; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut message).await.ok()?;
    Some(message)
}

/// Writes one DNS message over TCP; `false` once the client is gone.
async fn write_framed(stream: &mut TcpStream, message: &[u8]) -> bool {
    let mut framed = (message.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(message);
    stream.write_all(&framed).await.is_ok()
}

/// Answers one request: each message to send, in order.
fn answers(shared: &Shared, snapshot: &Snapshot, request: Vec<u8>, tcp: bool) -> Vec<Vec<u8>> {
    if snapshot.behaviour == Behaviour::Garbage {
        return vec![b"not a DNS message at all".to_vec()];
    }
    let Ok(mut request) = Message::from_octets(request) else {
        return Vec::new();
    };
    if request.header().qr() {
        return Vec::new();
    }
    let Some(question) = request.first_question() else {
        return error(&request, Rcode::FORMERR);
    };
    let (qname, qtype) = (question.qname().to_name::<Vec<u8>>(), question.qtype());
    if snapshot.behaviour == Behaviour::Refuse {
        return error(&request, Rcode::REFUSED);
    }
    let transfer = qtype == Rtype::AXFR || qtype == Rtype::IXFR;
    // TSIG: checked on any signed request; required for transfers when the
    // primary has a key.
    let signer = match &snapshot.key {
        None => Signer::None,
        Some(key) => match tsig_request(key, &mut request, snapshot.now, transfer) {
            Ok(signer) => signer,
            Err(answer) => return vec![answer],
        },
    };
    if request.header().opcode() == domain::base::iana::Opcode::NOTIFY {
        shared.notifies.fetch_add(1, Ordering::SeqCst);
        let Ok(answer) = MessageBuilder::new_vec().start_answer(&request, Rcode::NOERROR) else {
            return Vec::new();
        };
        let mut additional = answer.additional();
        let mut signer = signer;
        signer.sign(&mut additional, snapshot.now);
        return vec![additional.finish()];
    }
    let signer = match (&snapshot.key, snapshot.behaviour) {
        (Some(key), Behaviour::BadSignature) => impostor(key, &request, snapshot.now, transfer),
        _ => signer,
    };
    if transfer && snapshot.key.is_some() && matches!(signer, Signer::None) {
        return error(&request, Rcode::NOTAUTH);
    }
    let zone = if snapshot.any_zone {
        qname.clone()
    } else {
        snapshot.zone.clone()
    };
    if !qname.name_eq(&zone) && snapshot.behaviour != Behaviour::OtherZone {
        return error(&request, Rcode::NOTAUTH);
    }
    if transfer && !tcp {
        return error(&request, Rcode::FORMERR);
    }
    let owner = if snapshot.behaviour == Behaviour::OtherZone {
        Name::from_str("other.example.").expect("a name")
    } else {
        zone
    };
    let mut records: Vec<Rr> = Vec::new();
    let soa = Rr::Soa(snapshot.serial);
    match qtype {
        Rtype::SOA => records.push(soa),
        Rtype::AXFR => records.extend(zone_records(snapshot)),
        Rtype::IXFR => {
            let since = ixfr_since(&request).unwrap_or(0);
            if Serial(since) >= Serial(snapshot.serial) {
                records.push(soa);
            } else if snapshot.behaviour == Behaviour::IxfrAsAxfr || since + 1 != snapshot.serial {
                records.extend(zone_records(snapshot));
            } else {
                // One diff: the serial moved on and one record was added.
                records.extend([
                    soa,
                    Rr::Soa(since),
                    Rr::Soa(snapshot.serial),
                    Rr::A(250),
                    soa,
                ]);
            }
        }
        _ => return error(&request, Rcode::NOTIMP),
    }
    let chunks: Vec<&[Rr]> = records.chunks(RECORDS_PER_MESSAGE).collect();
    let mut signer = signer;
    let mut messages = Vec::new();
    for chunk in chunks {
        let Ok(answer) = MessageBuilder::new_vec().start_answer(&request, Rcode::NOERROR) else {
            break;
        };
        let mut answer = answer;
        answer.header_mut().set_aa(true);
        if snapshot.behaviour == Behaviour::WrongId {
            let id = request.header().id().wrapping_add(1);
            answer.header_mut().set_id(id);
        }
        for record in chunk {
            let _ = record.push(&mut answer, &owner);
        }
        let mut additional = answer.additional();
        if snapshot.behaviour != Behaviour::Unsigned {
            signer.sign(&mut additional, snapshot.now);
        }
        messages.push(additional.finish());
    }
    messages
}

#[derive(Clone, Copy)]
enum Rr {
    Soa(u32),
    Ns,
    A(u8),
}

impl Rr {
    fn push(
        self,
        answer: &mut domain::base::message_builder::AnswerBuilder<Vec<u8>>,
        zone: &Name<Vec<u8>>,
    ) -> Result<(), domain::base::message_builder::PushError> {
        let ns = Name::<Vec<u8>>::from_str("ns1.example.").expect("a name");
        let ttl = Ttl::from_secs(3600);
        match self {
            Rr::Soa(serial) => {
                let rname = Name::<Vec<u8>>::from_str("hostmaster.example.").expect("a name");
                let soa = Soa::new(ns, rname, Serial(serial), ttl, ttl, ttl, ttl);
                answer.push((zone, 3600, soa))
            }
            Rr::Ns => answer.push((zone, 3600, Ns::new(ns))),
            Rr::A(host) => answer.push((zone, 3600, A::from_octets(192, 0, 2, host))),
        }
    }
}

fn zone_records(snapshot: &Snapshot) -> Vec<Rr> {
    let mut records = vec![Rr::Soa(snapshot.serial), Rr::Ns];
    records.extend((0..snapshot.records).map(|i| Rr::A((i % 250) as u8)));
    records.push(Rr::Soa(snapshot.serial));
    records
}

fn ixfr_since(request: &Message<Vec<u8>>) -> Option<u32> {
    let authority = request.authority().ok()?;
    for record in authority {
        let record = record.ok()?;
        if let Ok(Some(soa)) = record.into_record::<Soa<ParsedName<_>>>() {
            return Some(soa.data().serial().into_int());
        }
    }
    None
}

enum Signer {
    None,
    One(Option<ServerTransaction<Arc<Key>>>),
    Sequence(ServerSequence<Arc<Key>>),
}

impl Signer {
    fn sign(
        &mut self,
        additional: &mut domain::base::message_builder::AdditionalBuilder<Vec<u8>>,
        now: Time48,
    ) {
        match self {
            Signer::None => {}
            Signer::One(transaction) => {
                if let Some(transaction) = transaction.take() {
                    let _ = transaction.answer(additional, now);
                }
            }
            Signer::Sequence(sequence) => {
                let _ = sequence.answer(additional, now);
            }
        }
    }
}

/// A signer of answers with another secret under `key`'s name: a request
/// like `request`, signed with that secret, verified with it.
fn impostor(key: &Arc<Key>, request: &Message<Vec<u8>>, now: Time48, sequence: bool) -> Signer {
    let name = key.name().clone();
    let Ok(other) = Key::new(
        key.algorithm(),
        b"another secret entirely",
        name,
        None,
        None,
    ) else {
        return Signer::None;
    };
    let other = Arc::new(other);
    let Some(question) = request.first_question() else {
        return Signer::None;
    };
    let mut builder = MessageBuilder::new_vec();
    builder.header_mut().set_id(request.header().id());
    let mut questions = builder.question();
    if questions.push(question).is_err() {
        return Signer::None;
    }
    let mut additional = questions.additional();
    if domain::tsig::ClientTransaction::request(other.clone(), &mut additional, now).is_err() {
        return Signer::None;
    }
    let Ok(mut forged) = Message::from_octets(additional.finish()) else {
        return Signer::None;
    };
    tsig_request(&other, &mut forged, now, sequence).unwrap_or(Signer::None)
}

/// Checks a request's TSIG as BIND does; the error answer otherwise.
fn tsig_request(
    key: &Arc<Key>,
    request: &mut Message<Vec<u8>>,
    now: Time48,
    sequence: bool,
) -> Result<Signer, Vec<u8>> {
    let signed_with = request_tsig(request);
    let original = request.clone();
    let checked = if sequence {
        ServerSequence::request(key, request, now).map(|s| s.map(Signer::Sequence))
    } else {
        ServerTransaction::request(key, request, now).map(|t| t.map(|t| Signer::One(Some(t))))
    };
    match checked {
        Ok(Some(signer)) => Ok(signer),
        Ok(None) => Ok(Signer::None),
        Err(err) => {
            // domain answers a wrong MAC with the TSIG error FORMERR; BIND
            // (and RFC 8945 §5.2.2) with BADSIG. Be BIND.
            let error = match (err.error(), signed_with) {
                (TsigRcode::FORMERR, Some((name, algorithm)))
                    if name.eq_ignore_ascii_case(&key.name().to_string())
                        && algorithm == key.algorithm() =>
                {
                    TsigRcode::BADSIG
                }
                (error, _) => error,
            };
            if error == TsigRcode::BADTIME {
                let builder = MessageBuilder::new_vec();
                return Err(err
                    .build_message(&original, builder)
                    .map(|m| m.finish())
                    .unwrap_or_default());
            }
            Err(unsigned_error(&original, error))
        }
    }
}

/// The name and algorithm of a request's TSIG.
fn request_tsig(request: &Message<Vec<u8>>) -> Option<(String, Algorithm)> {
    for record in request.additional().ok()? {
        let record = record.ok()?;
        if let Ok(Some(tsig)) = record.into_record::<Tsig<_, ParsedName<_>>>() {
            let name = tsig.owner().to_string();
            return Some((name, Algorithm::from_name(tsig.data().algorithm())?));
        }
    }
    None
}

/// NOTAUTH with an unsigned TSIG carrying `error` (RFC 8945 §5.2).
fn unsigned_error(request: &Message<Vec<u8>>, error: TsigRcode) -> Vec<u8> {
    let Ok(answer) = MessageBuilder::new_vec().start_answer(request, Rcode::NOTAUTH) else {
        return Vec::new();
    };
    let mut additional = answer.additional();
    let tsig = request.additional().ok().and_then(|section| {
        section.filter_map(Result::ok).find_map(|record| {
            record
                .into_record::<Tsig<_, ParsedName<_>>>()
                .ok()
                .flatten()
        })
    });
    if let Some(tsig) = tsig {
        let data = tsig.data();
        if let Ok(rdata) = Tsig::new(
            data.algorithm().to_name::<Vec<u8>>(),
            data.time_signed(),
            data.fudge(),
            Vec::new(),
            request.header().id(),
            error,
            Vec::new(),
        ) {
            let _ = additional.push((
                tsig.owner().to_name::<Vec<u8>>(),
                tsig.class(),
                tsig.ttl(),
                rdata,
            ));
        }
    }
    additional.finish()
}

fn error(request: &Message<Vec<u8>>, rcode: Rcode) -> Vec<Vec<u8>> {
    match MessageBuilder::new_vec().start_answer(request, rcode) {
        Ok(answer) => vec![answer.finish()],
        Err(_) => Vec::new(),
    }
}

/// An AXFR that never closes: the opening SOA, then A records until the
/// client goes away.
async fn endless(stream: &mut TcpStream, snapshot: &Snapshot, request: &[u8]) {
    let Ok(request) = Message::from_octets(request.to_vec()) else {
        return;
    };
    let mut first = true;
    loop {
        let Ok(mut answer) = MessageBuilder::new_vec().start_answer(&request, Rcode::NOERROR)
        else {
            return;
        };
        if first {
            let _ = Rr::Soa(snapshot.serial).push(&mut answer, &snapshot.zone);
            first = false;
        }
        for i in 0..RECORDS_PER_MESSAGE {
            let _ = Rr::A(i as u8).push(&mut answer, &snapshot.zone);
        }
        let message = answer.finish();
        if !write_framed(stream, &message).await {
            return;
        }
    }
}

/// What a name server knows: a zone's serial by its name (lower case, no
/// trailing dot), or `None` for a zone it does not serve.
pub type Serials = Arc<dyn Fn(&str) -> Option<u32> + Send + Sync>;

/// A name server on loopback that answers SOA queries (UDP and TCP) for the
/// zones `serials` knows, REFUSED for others: Cloudflare's name servers as
/// the doctor's served-serial check (I9) asks them.
pub struct NameServer {
    addr: SocketAddr,
    _tasks: Tasks,
}

impl NameServer {
    /// Starts one on a free port of 127.0.0.1 (UDP and TCP alike).
    ///
    /// # Panics
    /// If no loopback port can be bound for both.
    pub async fn start(serials: Serials) -> NameServer {
        let (tcp, udp) = bind_pair().await;
        let addr = tcp.local_addr().expect("bound");
        let udp_serials = serials.clone();
        let udp_task = tokio::spawn(async move {
            let mut buffer = vec![0; 65_535];
            while let Ok((len, from)) = udp.recv_from(&mut buffer).await {
                if let Some(answer) = soa_answer(&udp_serials, buffer[..len].to_vec()) {
                    let _ = udp.send_to(&answer, from).await;
                }
            }
        });
        let tcp_task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = tcp.accept().await {
                let serials = serials.clone();
                tokio::spawn(async move {
                    loop {
                        let Some(request) = read_framed(&mut stream).await else {
                            return;
                        };
                        let Some(answer) = soa_answer(&serials, request) else {
                            return;
                        };
                        if !write_framed(&mut stream, &answer).await {
                            return;
                        }
                    }
                });
            }
        });
        NameServer {
            addr,
            _tasks: Tasks(vec![udp_task, tcp_task]),
        }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

fn soa_answer(serials: &Serials, request: Vec<u8>) -> Option<Vec<u8>> {
    let request = Message::from_octets(request).ok()?;
    if request.header().qr() {
        return None;
    }
    let question = request.first_question()?;
    let name = question.qname().to_string().to_ascii_lowercase();
    let serial = (question.qtype() == Rtype::SOA)
        .then(|| serials(name.trim_end_matches('.')))
        .flatten();
    let Some(serial) = serial else {
        return error(&request, Rcode::REFUSED).pop();
    };
    let mut answer = MessageBuilder::new_vec()
        .start_answer(&request, Rcode::NOERROR)
        .ok()?;
    answer.header_mut().set_aa(true);
    Rr::Soa(serial)
        .push(&mut answer, &question.qname().to_name::<Vec<u8>>())
        .ok()?;
    Some(answer.finish())
}
