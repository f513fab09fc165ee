//! A stateful, in-memory stand-in of Cloudflare's Secondary DNS API (peers,
//! TSIG keys, ACLs, and zones' incoming and outgoing transfers), served over
//! HTTP/1.1 on 127.0.0.1. The examples fall back to it when no credentials
//! are set; the tests record what the sdk sends to it.
//!
//! It is written against the HTTP contract (plain JSON, no sdk types), so
//! tests of the sdk against it are not circular. It starts with the seed's
//! example peer, the TSIG key that peer names and the spec's example ACL, in
//! the example account (the spec's examples; a test in `tests/` keeps them
//! equal), and no zone configuration. Its error codes are its own, in
//! Cloudflare's envelope; Cloudflare's real codes may differ.
//!
//! Zones (`/zones`) are modelled per account: unique names (a second one is
//! refused with 400 and code 1061, "`<name>` already exists"), a type
//! (`full` unless asked) and a status (a new zone is `pending`, as a real one
//! is until the registrar lists its name servers; it stays so here), name
//! servers (`…secondary.cloudflare.com` for a secondary zone) and DNS
//! settings. It starts with [`SEEDED_SECONDARY_ZONE`] and
//! [`SEEDED_FULL_ZONE`]. On a zone it models, an incoming configuration
//! needs a secondary zone and an outgoing one a zone that is not secondary
//! (400 otherwise, saying so), and deleting the zone removes its
//! configuration. A zone id it does not model takes either configuration,
//! as before it modelled zones (the tests of transfers use the spec's
//! example zone id).
//!
//! Zones' configurations follow the rules Cloudflare documents: a zone has one configuration,
//! incoming (secondary) or outgoing (primary), whose peers must exist; a peer
//! a zone names cannot be deleted (nor a TSIG key a peer names). Force AXFR
//! starts a simulated transfer that completes by the second read after it
//! (the served `soa_serial` grows by one and `checked_time` moves), so that a
//! caller polling for it sees it arrive; creating an incoming configuration
//! starts the first one. Outgoing transfers are disabled until enabled, and
//! Force NOTIFY needs them enabled.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

mod rate_limit;
use rate_limit::{Limiter, Verdict, seconds_up};
#[cfg(feature = "primary")]
pub mod primary;
pub use rate_limit::{RateLimit, RateLimitStats};

/// The seed's example account (`update-peer.txt`).
pub const EXAMPLE_ACCOUNT_ID: &str = "01a7362d577a6c3019a474fd6f485823";
/// The seed's example peer.
pub const EXAMPLE_PEER_ID: &str = "23ff594956f20c2a721606e94745a8aa";
/// The TSIG key the seed's example peer names.
pub const EXAMPLE_TSIG_ID: &str = "69cd1e104af3e6ed3cb344f263fd0d5a";
/// The spec's example TSIG secret (128 hex characters).
pub const EXAMPLE_TSIG_SECRET: &str = "caf79a7804b04337c9c66ccd7bef9190a1e1679b5dd03d8aa10f7ad45e1a9dab92b417896c15d4d007c7c14194538d2a5d0feffdecc5a7f0e1c570cfa700837c";

/// The spec's example ACL (its id is the spec's example of the schema ACL and
/// peer ids share upstream).
pub const EXAMPLE_ACL_ID: &str = "23ff594956f20c2a721606e94745a8aa";
/// The spec's example zone id (no zone is configured at the start).
pub const EXAMPLE_ZONE_ID: &str = "269d8f4853475ca241c4e730be286b20";
/// The secondary zone the stand-in starts with (`example.com`, pending).
pub const SEEDED_SECONDARY_ZONE: (&str, &str) = ("5ec0de00000000000000000000000001", "example.com");
/// The full zone the stand-in starts with (`example.net`, active).
pub const SEEDED_FULL_ZONE: (&str, &str) = ("f0110000000000000000000000000001", "example.net");
/// The serial a zone's first simulated transfer brings (the spec's example).
pub const FIRST_SERIAL: u64 = 2_019_102_400;

/// The spec's example ACL, as the stand-in starts with it.
pub fn example_acl() -> Value {
    json!({"id": EXAMPLE_ACL_ID, "name": "my-acl-1", "ip_range": "192.0.2.53/28"})
}

/// The seed's example peer, as the stand-in starts with it.
pub fn example_peer() -> Value {
    json!({
        "id": EXAMPLE_PEER_ID,
        "name": "my-peer-1",
        "ip": "192.0.2.53",
        "ixfr_enable": false,
        "port": 53,
        "tsig_id": EXAMPLE_TSIG_ID,
    })
}

/// The TSIG key the stand-in starts with.
pub fn example_tsig() -> Value {
    json!({
        "id": EXAMPLE_TSIG_ID,
        "name": "tsig.customer.cf.",
        "secret": EXAMPLE_TSIG_SECRET,
        "algo": "hmac-sha512.",
    })
}

/// One request as the stand-in received it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// `GET`, `PUT`, …
    pub method: String,
    /// The path, still percent-encoded.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// Every header, names in lower case, in the order received.
    pub headers: Vec<(String, Bytes)>,
    /// The whole body.
    pub body: Bytes,
}

impl RecordedRequest {
    /// The first value of the header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&Bytes> {
        self.headers
            .iter()
            .find(|(known, _)| known == name)
            .map(|(_, value)| value)
    }
}

/// A running stand-in; it stops when dropped.
pub struct StandIn {
    url: String,
    state: Arc<Mutex<State>>,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    limiter: Option<Arc<Mutex<Limiter>>>,
    accept_loop: JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

impl StandIn {
    /// Starts a seeded stand-in on a free port of 127.0.0.1.
    ///
    /// # Panics
    /// If no loopback port can be bound.
    pub async fn start() -> StandIn {
        Self::start_with(None).await
    }

    /// Starts a seeded stand-in that enforces `policy` as Cloudflare does
    /// (see [`RateLimit`]): per credential, `Ratelimit` and
    /// `Ratelimit-Policy` on every response, 429 code 10100 with
    /// `Retry-After` once over, and every request refused for the lockout.
    ///
    /// # Panics
    /// If no loopback port can be bound.
    pub async fn start_rate_limited(policy: RateLimit) -> StandIn {
        Self::start_with(Some(policy)).await
    }

    async fn start_with(policy: Option<RateLimit>) -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free loopback port");
        let url = format!("http://{}", listener.local_addr().expect("bound"));
        let state = Arc::new(Mutex::new(State::seeded()));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let limiter = policy.map(|policy| Arc::new(Mutex::new(Limiter::new(policy))));
        let recorded = requests.clone();
        let shared_limiter = limiter.clone();
        let shared_state = state.clone();
        let accept_loop = tokio::spawn(async move {
            let state = shared_state;
            while let Ok((stream, _)) = listener.accept().await {
                let (state, recorded) = (state.clone(), recorded.clone());
                let limiter = shared_limiter.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request: http::Request<Incoming>| {
                        let (state, recorded) = (state.clone(), recorded.clone());
                        let limiter = limiter.clone();
                        async move {
                            let request = record(request).await;
                            let response = match &limiter {
                                None => respond(&state, &request),
                                Some(limiter) => rate_limited(limiter, &state, &request),
                            };
                            lock(&recorded).push(request);
                            Ok::<_, Infallible>(response)
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        StandIn {
            url,
            state,
            requests,
            limiter,
            accept_loop,
        }
    }

    /// What the rate limit refused so far (zeros when it is off).
    pub fn rate_limit_stats(&self) -> RateLimitStats {
        self.limiter
            .as_ref()
            .map(|limiter| lock(limiter).stats)
            .unwrap_or_default()
    }

    /// `http://127.0.0.1:<port>`: the base URL to give a client.
    pub fn uri(&self) -> String {
        self.url.clone()
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.requests).clone()
    }

    /// From now on the primary of `zone_id` has nothing newer: a transfer
    /// Cloudflare makes of it (after Force AXFR) checks the primary
    /// (`checked_time` moves on) but keeps the serial, as when a zone is
    /// resynced without a bumped serial.
    pub fn hold_serial(&self, zone_id: &str) {
        lock(&self.state).serial_held.insert(zone_id.to_owned());
    }
}

/// The TSIG key `StandIn::wire_primary` adds (its id; feature `primary`).
pub const PRIMARY_TSIG_ID: &str = "5ec0de00000000000000000000000002";
/// The peer `StandIn::wire_primary` adds (its id), named `local-primary`.
pub const PRIMARY_PEER_ID: &str = "5ec0de00000000000000000000000003";

#[cfg(feature = "primary")]
impl StandIn {
    /// Wires the seeded secondary zone (`example.com`) to `primary` as if
    /// its first transfer had landed: a TSIG key `key_name` (`algo`, the
    /// base64 `secret`), a peer `local-primary` at the primary's address
    /// with that key and IXFR on, the zone's incoming configuration at the
    /// primary's serial, and the zone active (as once its registrar lists
    /// Cloudflare's name servers).
    pub fn wire_primary(
        &self,
        primary: &primary::Primary,
        key_name: &str,
        algo: &str,
        secret: &str,
    ) {
        let (zone_id, zone_name) = SEEDED_SECONDARY_ZONE;
        let addr = primary.addr();
        let mut state = lock(&self.state);
        let account = state
            .accounts
            .entry(EXAMPLE_ACCOUNT_ID.to_owned())
            .or_default();
        let object = |value: Value| value.as_object().cloned().unwrap_or_default();
        account.tsigs.insert(
            PRIMARY_TSIG_ID.to_owned(),
            object(
                json!({"id": PRIMARY_TSIG_ID, "name": key_name, "algo": algo, "secret": secret}),
            ),
        );
        account.peers.insert(
            PRIMARY_PEER_ID.to_owned(),
            object(
                json!({"id": PRIMARY_PEER_ID, "name": "local-primary", "ip": addr.ip().to_string(),
                          "port": addr.port(), "ixfr_enable": true, "tsig_id": PRIMARY_TSIG_ID}),
            ),
        );
        let record = object(json!({
            "id": zone_id, "name": format!("{zone_name}."), "peers": [PRIMARY_PEER_ID],
            "auto_refresh_seconds": 86400, "soa_serial": primary.serial(),
            "created_time": now(), "modified_time": now(), "checked_time": now(),
        }));
        state.zones.insert(
            zone_id.to_owned(),
            Config::Incoming {
                record,
                transfer_in: None,
            },
        );
        if let Some(zone) = state.zone_records.get_mut(zone_id) {
            zone.insert("status".to_owned(), json!("active"));
        }
    }

    /// Starts a name server on loopback that answers SOA for the stand-in's
    /// zones with the serial each holds (`soa_serial` of its incoming or
    /// outgoing configuration), as Cloudflare's name servers would.
    pub async fn start_name_server(&self) -> primary::NameServer {
        let state = self.state.clone();
        primary::NameServer::start(Arc::new(move |name: &str| {
            let state = lock(&state);
            let (zone_id, _) = state.zone_records.iter().find(|(_, zone)| {
                zone.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })?;
            let record = match state.zones.get(zone_id)? {
                Config::Incoming { record, .. } | Config::Outgoing { record, .. } => record,
            };
            record
                .get("soa_serial")
                .and_then(Value::as_u64)
                .and_then(|serial| u32::try_from(serial).ok())
        }))
        .await
    }

    /// Seeds `count` secondary zones (`zone-0001.example` …), each with an
    /// incoming configuration whose one peer is `primary` (key as for
    /// [`wire_primary`](Self::wire_primary)), at the primary's serial: a
    /// fleet for the doctor, made directly (no API calls to pace). The
    /// primary should serve any zone (`PrimaryState::any_zone`).
    pub fn seed_fleet(
        &self,
        count: usize,
        primary: &primary::Primary,
        key_name: &str,
        algo: &str,
        secret: &str,
    ) {
        self.wire_primary(primary, key_name, algo, secret);
        let mut state = lock(&self.state);
        for i in 1..=count {
            let zone_id = format!("f1ee7{i:027x}");
            let name = format!("zone-{i:04}.example");
            let zone = new_zone(&zone_id, &name, EXAMPLE_ACCOUNT_ID, "secondary", "active");
            state.zone_records.insert(zone_id.clone(), zone);
            let record = json!({
                "id": zone_id, "name": format!("{name}."), "peers": [PRIMARY_PEER_ID],
                "auto_refresh_seconds": 86400, "soa_serial": primary.serial(),
                "created_time": now(), "modified_time": now(), "checked_time": now(),
            });
            state.zones.insert(
                zone_id,
                Config::Incoming {
                    record: record.as_object().cloned().unwrap_or_default(),
                    transfer_in: None,
                },
            );
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn record(request: http::Request<Incoming>) -> RecordedRequest {
    let (head, body) = request.into_parts();
    // A body that fails to arrive is recorded as empty.
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    RecordedRequest {
        method: head.method.as_str().to_owned(),
        path: head.uri.path().to_owned(),
        query: head.uri.query().map(str::to_owned),
        headers: head
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    Bytes::copy_from_slice(value.as_bytes()),
                )
            })
            .collect(),
        body,
    }
}

/// The credential a request is counted under (Cloudflare counts per user).
fn credential(request: &RecordedRequest) -> String {
    ["authorization", "x-auth-key", "x-auth-user-service-key"]
        .iter()
        .find_map(|name| request.header(name))
        .map(|value| String::from_utf8_lossy(value).into_owned())
        .unwrap_or_default()
}

/// Counts the request; answers it, or with Cloudflare's 429 once over.
fn rate_limited(
    limiter: &Mutex<Limiter>,
    state: &Mutex<State>,
    request: &RecordedRequest,
) -> http::Response<Full<Bytes>> {
    let (verdict, policy) = {
        let mut limiter = lock(limiter);
        (
            limiter.check(&credential(request), std::time::Instant::now()),
            limiter.policy(),
        )
    };
    let window = seconds_up(policy.window);
    let quota = format!("\"default\";q={};w={window}", policy.limit);
    let (mut response, remaining, reset) = match verdict {
        Verdict::Allowed { remaining, reset } => (respond(state, request), remaining, reset),
        Verdict::Limited { retry_after } => {
            let body = json!({
                "success": false,
                "errors": [{"code": 10100, "message": format!(
                    "More than {} requests per {window} seconds reached. Please wait and consider \
                     throttling your request speed", policy.limit)}],
                "messages": [],
                "result": null,
            });
            let response = http::Response::builder()
                .status(429)
                .header("content-type", "application/json")
                .header("retry-after", seconds_up(retry_after).to_string())
                .body(Full::new(Bytes::from(body.to_string())))
                .expect("a valid status and header");
            (response, 0, retry_after)
        }
    };
    let headers = response.headers_mut();
    let current = format!("\"default\";r={remaining};t={}", seconds_up(reset));
    for (name, value) in [("ratelimit", current), ("ratelimit-policy", quota)] {
        if let Ok(value) = http::HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

fn respond(state: &Mutex<State>, request: &RecordedRequest) -> http::Response<Full<Bytes>> {
    let (status, body) = match handle(&mut lock(state), request) {
        Ok((status, result, result_info)) => {
            let mut body = json!({"errors": [], "messages": [], "success": true, "result": result});
            if let Some(info) = result_info {
                body["result_info"] = info;
            }
            (status, body)
        }
        Err((status, code, message)) => (
            status,
            json!({
                "errors": [{"code": code, "message": message}],
                "messages": [],
                "success": false,
                "result": null,
            }),
        ),
    };
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a valid status and header")
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Peer,
    Tsig,
    Acl,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Peer => "peer",
            Kind::Tsig => "TSIG",
            Kind::Acl => "ACL",
        }
    }
}

#[derive(Default)]
struct Account {
    peers: BTreeMap<String, Map<String, Value>>,
    tsigs: BTreeMap<String, Map<String, Value>>,
    acls: BTreeMap<String, Map<String, Value>>,
}

impl Account {
    fn records(&mut self, kind: Kind) -> &mut BTreeMap<String, Map<String, Value>> {
        match kind {
            Kind::Peer => &mut self.peers,
            Kind::Tsig => &mut self.tsigs,
            Kind::Acl => &mut self.acls,
        }
    }
}

/// A zone's one configuration.
enum Config {
    /// Cloudflare is the secondary; a transfer may be on its way (reads to
    /// wait before it lands).
    Incoming {
        record: Map<String, Value>,
        transfer_in: Option<u8>,
    },
    /// Cloudflare is the primary.
    Outgoing {
        record: Map<String, Value>,
        enabled: bool,
    },
}

#[derive(Default)]
struct State {
    accounts: BTreeMap<String, Account>,
    zones: BTreeMap<String, Config>,
    /// The zones themselves (`/zones`), by id.
    zone_records: BTreeMap<String, Map<String, Value>>,
    /// Each zone's DNS settings, by zone id.
    dns_settings: BTreeMap<String, Map<String, Value>>,
    ids_issued: u64,
    /// Zones whose primary has nothing newer (see [`StandIn::hold_serial`]).
    serial_held: std::collections::BTreeSet<String>,
}

impl State {
    fn seeded() -> Self {
        let mut account = Account::default();
        for (records, record) in [
            (&mut account.peers, example_peer()),
            (&mut account.tsigs, example_tsig()),
            (&mut account.acls, example_acl()),
        ] {
            let record = record.as_object().expect("an object").clone();
            let id = record["id"].as_str().expect("an id").to_owned();
            records.insert(id, record);
        }
        let mut state = State::default();
        state
            .accounts
            .insert(EXAMPLE_ACCOUNT_ID.to_owned(), account);
        for ((id, name), kind, status) in [
            (SEEDED_SECONDARY_ZONE, "secondary", "pending"),
            (SEEDED_FULL_ZONE, "full", "active"),
        ] {
            let zone = new_zone(id, name, EXAMPLE_ACCOUNT_ID, kind, status);
            state.zone_records.insert(id.to_owned(), zone);
        }
        state
    }
}

type Outcome = Result<(u16, Value, Option<Value>), (u16, u32, String)>;

fn not_found_route() -> (u16, u32, String) {
    (404, 7003, "No route for the URI".to_owned())
}

fn invalid(message: impl Into<String>) -> (u16, u32, String) {
    (400, 1004, message.into())
}

fn is_identifier(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn handle(state: &mut State, request: &RecordedRequest) -> Outcome {
    let has = |name: &str| request.header(name).is_some();
    let authenticated = has("authorization")
        || (has("x-auth-email") && has("x-auth-key"))
        || has("x-auth-user-service-key");
    if !authenticated {
        return Err((401, 10000, "Authentication error".to_owned()));
    }
    let segments: Vec<&str> = request.path.trim_start_matches('/').split('/').collect();
    if let ["zones", zone_id, "secondary_dns", ref rest @ ..] = segments[..] {
        if !is_identifier(zone_id) {
            return Err(not_found_route());
        }
        if let Some(refused) = config_refused(state, zone_id, rest, request) {
            return Err(refused);
        }
        return zone(state, zone_id, rest, request);
    }
    match segments[..] {
        ["zones"] => return zones(state, request),
        ["zones", zone_id] if is_identifier(zone_id) => return one_zone(state, zone_id, request),
        ["zones", zone_id, "dns_settings"] if is_identifier(zone_id) => {
            return dns_settings(state, zone_id, request);
        }
        _ => {}
    }
    let (account_id, kind, id) = match segments[..] {
        [
            "accounts",
            account,
            "secondary_dns",
            collection,
            ref rest @ ..,
        ] if rest.len() <= 1 => {
            let kind = match collection {
                "peers" => Kind::Peer,
                "tsigs" => Kind::Tsig,
                "acls" => Kind::Acl,
                _ => return Err(not_found_route()),
            };
            (account, kind, rest.first().copied())
        }
        _ => return Err(not_found_route()),
    };
    if !is_identifier(account_id) || id.is_some_and(|id| !is_identifier(id)) {
        return Err(not_found_route());
    }
    let body = || -> Result<Map<String, Value>, (u16, u32, String)> {
        match serde_json::from_slice(&request.body) {
            Ok(Value::Object(body)) => Ok(body),
            _ => Err(invalid("the request body must be a JSON object")),
        }
    };
    let not_found = |kind: Kind| (404, 1003, format!("{} not found", kind.name()));
    let account = state.accounts.entry(account_id.to_owned()).or_default();

    match (request.method.as_str(), id) {
        ("GET", None) => {
            let all: Vec<Value> = account
                .records(kind)
                .values()
                .cloned()
                .map(Value::Object)
                .collect();
            let n = all.len();
            Ok((
                200,
                Value::Array(all),
                Some(json!({"count": n, "page": 1, "per_page": n.max(1), "total_count": n})),
            ))
        }
        ("POST", None) => {
            let fields = match kind {
                Kind::Peer => checked_peer_create(&body()?)?,
                Kind::Tsig => checked_tsig(&body()?)?,
                Kind::Acl => checked_acl(&body()?)?,
            };
            state.ids_issued += 1;
            let id = format!(
                "{:032x}",
                0x5eed_0000_0000_0000_0000_0000_0000_0000u128 + u128::from(state.ids_issued)
            );
            let mut record = Map::from_iter([("id".to_owned(), Value::String(id.clone()))]);
            record.extend(fields);
            let account = state.accounts.get_mut(account_id).expect("created above");
            account.records(kind).insert(id, record.clone());
            Ok((200, Value::Object(record), None))
        }
        ("GET", Some(id)) => match account.records(kind).get(id) {
            Some(record) => Ok((200, Value::Object(record.clone()), None)),
            None => Err(not_found(kind)),
        },
        ("PUT", Some(id)) => {
            if !account.records(kind).contains_key(id) {
                return Err(not_found(kind));
            }
            let fields = match kind {
                Kind::Peer => checked_peer_update(&body()?, account)?,
                Kind::Tsig => checked_tsig(&body()?)?,
                Kind::Acl => checked_acl(&body()?)?,
            };
            let record = account.records(kind).get_mut(id).expect("checked above");
            // A PUT replaces the resource: a field left out is cleared, as in
            // Cloudflare's PUTs ("a full replace"); the id stays.
            record.retain(|field, _| field == "id");
            record.extend(fields);
            Ok((200, Value::Object(record.clone()), None))
        }
        ("DELETE", Some(id)) => {
            if kind == Kind::Tsig
                && account
                    .peers
                    .values()
                    .any(|peer| peer.get("tsig_id").and_then(Value::as_str) == Some(id))
            {
                return Err((400, 1005, "TSIG is in use by a peer".to_owned()));
            }
            if kind == Kind::Peer
                && let Some(zone_id) = zone_naming(&state.zones, id)
            {
                return Err((400, 1005, format!("peer is in use by the zone {zone_id}")));
            }
            let account = state.accounts.get_mut(account_id).expect("created above");
            match account.records(kind).remove(id) {
                Some(_) => Ok((200, json!({"id": id}), None)),
                None => Err(not_found(kind)),
            }
        }
        _ => Err(not_found_route()),
    }
}

fn required_string(
    body: &Map<String, Value>,
    field: &str,
) -> Result<(String, Value), (u16, u32, String)> {
    match body.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Ok((field.to_owned(), Value::String(s.clone()))),
        _ => Err(invalid(format!(
            "{field} is required and must be a non-empty string"
        ))),
    }
}

/// Fields Cloudflare sets itself: a request's value for one is not kept.
const SERVER_OWNED: [&str; 5] = [
    "id",
    "created_time",
    "modified_time",
    "checked_time",
    "soa_serial",
];

/// The checked `fields` plus every other field of `body` as it was sent, so
/// that a field Cloudflare adds to a resource is stored and returned with no
/// edit here (`tests/tests/stand_in_keeps_fields.rs` checks every field the
/// spec's request bodies hold).
fn with_the_rest(body: &Map<String, Value>, mut fields: Map<String, Value>) -> Map<String, Value> {
    for (field, value) in body {
        if !fields.contains_key(field) && !SERVER_OWNED.contains(&field.as_str()) {
            fields.insert(field.clone(), value.clone());
        }
    }
    fields
}

fn checked_peer_create(
    body: &Map<String, Value>,
) -> Result<Map<String, Value>, (u16, u32, String)> {
    Ok(with_the_rest(
        body,
        Map::from_iter([required_string(body, "name")?]),
    ))
}

fn checked_peer_update(
    body: &Map<String, Value>,
    account: &Account,
) -> Result<Map<String, Value>, (u16, u32, String)> {
    let mut fields = Map::from_iter([required_string(body, "name")?]);
    for (field, value) in body {
        let valid = match (field.as_str(), value) {
            ("name", _) => continue,
            ("ip", Value::String(ip)) => ip.parse::<IpAddr>().is_ok(),
            ("port", Value::Number(port)) => port.as_u64().is_some_and(|p| p <= 65535),
            ("ixfr_enable", Value::Bool(_)) => true,
            ("tsig_id", Value::String(tsig_id)) => {
                if !account.tsigs.contains_key(tsig_id) {
                    return Err(invalid(format!(
                        "tsig_id {tsig_id} names no TSIG of this account"
                    )));
                }
                true
            }
            ("ip" | "port" | "ixfr_enable" | "tsig_id", _) => false,
            // A field the stand-in does not know: kept as sent (below).
            _ => continue,
        };
        if !valid {
            return Err(invalid(format!("invalid value for {field}")));
        }
        fields.insert(field.clone(), value.clone());
    }
    Ok(with_the_rest(body, fields))
}

fn checked_tsig(body: &Map<String, Value>) -> Result<Map<String, Value>, (u16, u32, String)> {
    let fields = Map::from_iter([
        required_string(body, "name")?,
        required_string(body, "secret")?,
        required_string(body, "algo")?,
    ]);
    Ok(with_the_rest(body, fields))
}

fn checked_acl(body: &Map<String, Value>) -> Result<Map<String, Value>, (u16, u32, String)> {
    let (field, range) = required_string(body, "ip_range")?;
    let text = range.as_str().unwrap_or_default();
    let valid = text.split_once('/').is_some_and(|(address, prefix)| {
        let longest = match address.parse::<IpAddr>() {
            Ok(IpAddr::V4(_)) => 32,
            Ok(IpAddr::V6(_)) => 128,
            Err(_) => return false,
        };
        prefix.parse::<u8>().is_ok_and(|p| p <= longest)
    });
    if !valid {
        return Err(invalid(format!("ip_range {text:?} is not a CIDR")));
    }
    let fields = Map::from_iter([required_string(body, "name")?, (field, range)]);
    Ok(with_the_rest(body, fields))
}

/// The zone whose configuration names `peer_id`, if one does.
fn zone_naming(zones: &BTreeMap<String, Config>, peer_id: &str) -> Option<String> {
    zones.iter().find_map(|(zone_id, config)| {
        let (Config::Incoming { record, .. } | Config::Outgoing { record, .. }) = config;
        let peers = record.get("peers").and_then(Value::as_array)?;
        peers
            .iter()
            .any(|p| p.as_str() == Some(peer_id))
            .then(|| zone_id.clone())
    })
}

/// Now, as Cloudflare writes a time (RFC 3339, microseconds).
fn now() -> Value {
    let now = time::OffsetDateTime::now_utc();
    let now = now
        .replace_nanosecond(now.microsecond() * 1000)
        .unwrap_or(now);
    Value::String(
        now.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    )
}

/// A zone's configuration body: name, peers (known to some account, at most
/// 30) and, for incoming, `auto_refresh_seconds` (at least 300, 86400 when
/// left out).
fn checked_zone_body(
    state: &State,
    body: &Map<String, Value>,
    incoming: bool,
) -> Result<Map<String, Value>, (u16, u32, String)> {
    let mut fields = Map::from_iter([required_string(body, "name")?]);
    let Some(Value::Array(peers)) = body.get("peers") else {
        return Err(invalid("peers is required and must be a list of peer ids"));
    };
    if peers.len() > 30 {
        return Err(invalid("a zone links at most 30 peers"));
    }
    for peer in peers {
        let known = peer.as_str().is_some_and(|id| {
            state
                .accounts
                .values()
                .any(|account| account.peers.contains_key(id))
        });
        if !known {
            return Err((400, 1004, format!("peer {peer} does not exist")));
        }
    }
    fields.insert("peers".to_owned(), Value::Array(peers.clone()));
    if incoming {
        let refresh = match body.get("auto_refresh_seconds") {
            None => 86_400,
            Some(value) => value.as_u64().filter(|s| *s >= 300).ok_or_else(|| {
                invalid("auto_refresh_seconds must be an integer of at least 300")
            })?,
        };
        fields.insert("auto_refresh_seconds".to_owned(), refresh.into());
    }
    Ok(with_the_rest(body, fields))
}

/// `/zones/{zone_id}/secondary_dns/...`.
fn zone(state: &mut State, zone_id: &str, rest: &[&str], request: &RecordedRequest) -> Outcome {
    let method = request.method.as_str();
    let body = || -> Result<Map<String, Value>, (u16, u32, String)> {
        match serde_json::from_slice(&request.body) {
            Ok(Value::Object(body)) => Ok(body),
            _ => Err(invalid("the request body must be a JSON object")),
        }
    };
    let no_incoming = || {
        (
            404,
            1003,
            "secondary zone configuration not found".to_owned(),
        )
    };
    let no_outgoing = || (404, 1003, "primary zone configuration not found".to_owned());
    // The four actions take `{}`, or no body at all (Cloudflare's Python SDK
    // 5.9 sends none, with `Content-Type: application/json`, and Cloudflare
    // serves it).
    let empty_or_object = || -> Result<(), (u16, u32, String)> {
        if request.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        body().map(drop)
    };
    let ok = |value: Value| Ok((200, value, None));
    match (method, rest) {
        ("POST", ["incoming" | "outgoing"]) => {
            let incoming = rest[0] == "incoming";
            let fields = checked_zone_body(state, &body()?, incoming)?;
            if state.zones.contains_key(zone_id) {
                return Err((400, 1006, "the zone already has a configuration".to_owned()));
            }
            let mut record = Map::from_iter([("id".to_owned(), Value::String(zone_id.to_owned()))]);
            record.extend(fields);
            record.insert("created_time".to_owned(), now());
            record.insert("checked_time".to_owned(), now());
            let config = if incoming {
                record.insert("modified_time".to_owned(), now());
                // The first transfer is on its way.
                Config::Incoming {
                    record: record.clone(),
                    transfer_in: Some(1),
                }
            } else {
                record.insert("soa_serial".to_owned(), FIRST_SERIAL.into());
                Config::Outgoing {
                    record: record.clone(),
                    enabled: false,
                }
            };
            state.zones.insert(zone_id.to_owned(), config);
            ok(Value::Object(record))
        }
        ("GET", ["incoming"]) => match state.zones.get_mut(zone_id) {
            Some(Config::Incoming {
                record,
                transfer_in,
            }) => {
                let held = state.serial_held.contains(zone_id);
                match transfer_in {
                    Some(0) => {
                        let serial = record.get("soa_serial").and_then(Value::as_u64);
                        let serial = match serial {
                            None => FIRST_SERIAL,
                            Some(serial) if held => serial,
                            Some(serial) => (serial + 1) % (1 << 32),
                        };
                        record.insert("soa_serial".to_owned(), serial.into());
                        record.insert("checked_time".to_owned(), now());
                        *transfer_in = None;
                    }
                    Some(reads) => *reads -= 1,
                    None => {}
                }
                ok(Value::Object(record.clone()))
            }
            _ => Err(no_incoming()),
        },
        ("GET", ["outgoing"]) => match state.zones.get(zone_id) {
            Some(Config::Outgoing { record, .. }) => ok(Value::Object(record.clone())),
            _ => Err(no_outgoing()),
        },
        ("PUT", ["incoming" | "outgoing"]) => {
            let incoming = rest[0] == "incoming";
            let fields = checked_zone_body(state, &body()?, incoming)?;
            let record = match (state.zones.get_mut(zone_id), incoming) {
                (Some(Config::Incoming { record, .. }), true)
                | (Some(Config::Outgoing { record, .. }), false) => record,
                (_, true) => return Err(no_incoming()),
                (_, false) => return Err(no_outgoing()),
            };
            record.extend(fields);
            if incoming {
                record.insert("modified_time".to_owned(), now());
            }
            ok(Value::Object(record.clone()))
        }
        ("DELETE", ["incoming" | "outgoing"]) => {
            let incoming = rest[0] == "incoming";
            match (state.zones.get(zone_id), incoming) {
                (Some(Config::Incoming { .. }), true) | (Some(Config::Outgoing { .. }), false) => {
                    state.zones.remove(zone_id);
                    ok(json!({"id": zone_id}))
                }
                (_, true) => Err(no_incoming()),
                (_, false) => Err(no_outgoing()),
            }
        }
        ("POST", ["force_axfr"]) => {
            empty_or_object()?;
            match state.zones.get_mut(zone_id) {
                Some(Config::Incoming { transfer_in, .. }) => {
                    *transfer_in = Some(1);
                    ok(json!("OK"))
                }
                _ => Err(no_incoming()),
            }
        }
        ("POST", ["outgoing", action @ ("enable" | "disable" | "force_notify")]) => {
            empty_or_object()?;
            let Some(Config::Outgoing { record, enabled }) = state.zones.get_mut(zone_id) else {
                return Err(no_outgoing());
            };
            match *action {
                "enable" => {
                    // Enabling sends a NOTIFY; the secondaries transfer.
                    *enabled = true;
                    record.insert("last_transferred_time".to_owned(), now());
                    ok(json!("Enabled"))
                }
                "disable" => {
                    *enabled = false;
                    ok(json!("Disabled"))
                }
                _ if !*enabled => {
                    Err((400, 1007, "outgoing zone transfers are disabled".to_owned()))
                }
                _ => {
                    record.insert("last_transferred_time".to_owned(), now());
                    ok(json!("OK"))
                }
            }
        }
        ("GET", ["outgoing", "status"]) => match state.zones.get(zone_id) {
            Some(Config::Outgoing { enabled, .. }) => {
                ok(json!(if *enabled { "Enabled" } else { "Disabled" }))
            }
            _ => Err(no_outgoing()),
        },
        _ => Err(not_found_route()),
    }
}

/// A zone as Cloudflare answers with it.
fn new_zone(
    id: &str,
    name: &str,
    account_id: &str,
    kind: &str,
    status: &str,
) -> Map<String, Value> {
    let name_servers = if kind == "secondary" {
        json!([
            "ns1001.secondary.cloudflare.com",
            "ns1002.secondary.cloudflare.com"
        ])
    } else {
        json!(["bob.ns.cloudflare.com", "lola.ns.cloudflare.com"])
    };
    let zone = json!({
        "id": id,
        "name": name,
        "type": kind,
        "status": status,
        "paused": false,
        "account": {"id": account_id, "name": "Example Account Name"},
        "name_servers": name_servers,
        "original_name_servers": null,
        "original_registrar": null,
        "original_dnshost": null,
        "created_on": now(),
        "modified_on": now(),
        "activated_on": if status == "active" { now() } else { Value::Null },
        "development_mode": 0,
        "meta": {"step": 2, "page_rule_quota": 3, "phishing_detected": false},
        "owner": {"id": null, "name": null, "type": "user"},
        "vanity_name_servers": [],
        "permissions": ["#zone:read", "#zone:edit"],
        "plan": {"id": "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "name": "Free Website", "legacy_id": "free"},
    });
    zone.as_object().expect("an object").clone()
}

fn zone_not_found() -> (u16, u32, String) {
    (404, 1001, "Invalid zone identifier".to_owned())
}

/// The refusal of a configuration request on a zone of the wrong type (on a
/// zone the stand-in models).
fn config_refused(
    state: &State,
    zone_id: &str,
    rest: &[&str],
    request: &RecordedRequest,
) -> Option<(u16, u32, String)> {
    let zone = state.zone_records.get(zone_id)?;
    let kind = zone.get("type").and_then(Value::as_str).unwrap_or("full");
    let name = zone.get("name").and_then(Value::as_str).unwrap_or_default();
    let incoming = matches!(rest, ["incoming"] | ["force_axfr"]);
    if request.method != "POST" || !matches!(rest, ["incoming"] | ["outgoing"]) {
        return None;
    }
    match (incoming, kind == "secondary") {
        (true, false) => Some((
            400,
            1008,
            format!(
                "{name} is a {kind} zone, not a secondary zone: an incoming configuration needs \
                 a zone of type secondary (create it so, or convert it)"
            ),
        )),
        (false, true) => Some((
            400,
            1008,
            format!(
                "{name} is a secondary zone: its records come from its primaries, so Cloudflare \
                 cannot be its primary (an outgoing configuration needs a full zone)"
            ),
        )),
        _ => None,
    }
}

fn query_pairs(request: &RecordedRequest) -> Vec<(String, String)> {
    form_urlencoded::parse(request.query.as_deref().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn json_body(request: &RecordedRequest) -> Result<Map<String, Value>, (u16, u32, String)> {
    match serde_json::from_slice(&request.body) {
        Ok(Value::Object(body)) => Ok(body),
        _ => Err(invalid("the request body must be a JSON object")),
    }
}

/// `GET /zones` (filtered by `name`, `status`, `type`, `account.id`; paged
/// by `page` and `per_page`, 20 by default, 5 to 50) and `POST /zones`.
fn zones(state: &mut State, request: &RecordedRequest) -> Outcome {
    match request.method.as_str() {
        "GET" => {
            let query = query_pairs(request);
            let get = |key: &str| {
                query
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v.as_str())
            };
            let page: usize = get("page")
                .and_then(|p| p.parse().ok())
                .filter(|p| *p >= 1)
                .unwrap_or(1);
            let per_page: usize = get("per_page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(20)
                .clamp(5, 50);
            let matches = |zone: &Map<String, Value>| {
                let field = |name: &str| zone.get(name).and_then(Value::as_str);
                get("name")
                    .is_none_or(|name| field("name").is_some_and(|n| n.eq_ignore_ascii_case(name)))
                    && get("status").is_none_or(|s| field("status") == Some(s))
                    && get("type").is_none_or(|t| field("type") == Some(t))
                    && get("account.id").is_none_or(|a| zone["account"]["id"].as_str() == Some(a))
            };
            // In name order, so that pages are stable.
            let mut found: Vec<Value> = state
                .zone_records
                .values()
                .filter(|zone| matches(zone))
                .cloned()
                .map(Value::Object)
                .collect();
            found.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
            let total = found.len();
            let shown: Vec<Value> = found
                .into_iter()
                .skip((page - 1) * per_page)
                .take(per_page)
                .collect();
            let info = json!({
                "count": shown.len(),
                "page": page,
                "per_page": per_page,
                "total_count": total,
                "total_pages": total.div_ceil(per_page).max(1),
            });
            Ok((200, Value::Array(shown), Some(info)))
        }
        "POST" => {
            let body = json_body(request)?;
            let (_, name) = required_string(&body, "name")?;
            let name = name.as_str().unwrap_or_default().to_owned();
            let Some(account_id) = body
                .get("account")
                .and_then(|a| a.get("id"))
                .and_then(Value::as_str)
                .filter(|id| is_identifier(id))
            else {
                return Err(invalid("account.id is required"));
            };
            let kind = match body.get("type") {
                None => "full",
                Some(Value::String(kind))
                    if matches!(kind.as_str(), "full" | "partial" | "secondary") =>
                {
                    kind
                }
                Some(other) => return Err(invalid(format!("invalid zone type {other}"))),
            };
            let taken = state.zone_records.values().any(|zone| {
                zone["account"]["id"].as_str() == Some(account_id)
                    && zone["name"]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case(&name))
            });
            if taken {
                return Err((400, 1061, format!("{name} already exists")));
            }
            state.ids_issued += 1;
            let id = format!(
                "{:032x}",
                0x20e0_0000_0000_0000_0000_0000_0000_0000u128 + u128::from(state.ids_issued)
            );
            let mut zone = new_zone(&id, &name, account_id, kind, "pending");
            // A field it does not know is kept, as Cloudflare does with one
            // it has just added.
            for (field, value) in &body {
                if !matches!(field.as_str(), "name" | "account" | "type") {
                    zone.entry(field.clone()).or_insert_with(|| value.clone());
                }
            }
            state.zone_records.insert(id, zone.clone());
            Ok((200, Value::Object(zone), None))
        }
        _ => Err(not_found_route()),
    }
}

/// `GET`, `PATCH` (one property at a time: `type`, `paused`,
/// `vanity_name_servers`) and `DELETE /zones/{zone_id}`.
fn one_zone(state: &mut State, zone_id: &str, request: &RecordedRequest) -> Outcome {
    if !state.zone_records.contains_key(zone_id) {
        return Err(zone_not_found());
    }
    match request.method.as_str() {
        "GET" => Ok((
            200,
            Value::Object(state.zone_records[zone_id].clone()),
            None,
        )),
        "PATCH" => {
            let body = json_body(request)?;
            if body.len() != 1 {
                return Err(invalid("a zone edit changes exactly one property"));
            }
            let zone = state.zone_records.get_mut(zone_id).expect("checked above");
            for (field, value) in body {
                match (field.as_str(), &value) {
                    ("type", Value::String(kind))
                        if matches!(kind.as_str(), "full" | "partial" | "secondary") =>
                    {
                        let fresh = new_zone(zone_id, "", "", kind, "pending");
                        zone.insert("name_servers".to_owned(), fresh["name_servers"].clone());
                    }
                    ("paused", Value::Bool(_)) => {}
                    ("vanity_name_servers", Value::Array(_)) => {}
                    _ => return Err(invalid(format!("{field} cannot be set to {value}"))),
                }
                zone.insert(field, value);
            }
            zone.insert("modified_on".to_owned(), now());
            Ok((200, Value::Object(zone.clone()), None))
        }
        "DELETE" => {
            state.zone_records.remove(zone_id);
            state.zones.remove(zone_id);
            state.dns_settings.remove(zone_id);
            Ok((200, json!({"id": zone_id}), None))
        }
        _ => Err(not_found_route()),
    }
}

/// `GET` and `PATCH /zones/{zone_id}/dns_settings` (a PATCH sets the fields
/// it holds).
fn dns_settings(state: &mut State, zone_id: &str, request: &RecordedRequest) -> Outcome {
    if !state.zone_records.contains_key(zone_id) {
        return Err(zone_not_found());
    }
    let settings = state
        .dns_settings
        .entry(zone_id.to_owned())
        .or_insert_with(|| {
            json!({
                "foundation_dns": false,
                "multi_provider": false,
                "nameservers": {"type": "cloudflare.standard"},
                "ns_ttl": 86400,
                "secondary_overrides": false,
                "zone_mode": "standard",
            })
            .as_object()
            .expect("an object")
            .clone()
        });
    match request.method.as_str() {
        "GET" => Ok((200, Value::Object(settings.clone()), None)),
        "PATCH" => {
            let body = json_body(request)?;
            for (field, value) in &body {
                let valid = match (field.as_str(), value) {
                    (
                        "multi_provider" | "secondary_overrides" | "foundation_dns",
                        Value::Bool(_),
                    ) => true,
                    ("ns_ttl", Value::Number(ttl)) => {
                        ttl.as_u64().is_some_and(|t| (30..=86_400).contains(&t))
                    }
                    ("multi_provider" | "secondary_overrides" | "foundation_dns" | "ns_ttl", _) => {
                        false
                    }
                    _ => true,
                };
                if !valid {
                    return Err(invalid(format!("invalid value for {field}")));
                }
            }
            settings.extend(body);
            Ok((200, Value::Object(settings.clone()), None))
        }
        _ => Err(not_found_route()),
    }
}
