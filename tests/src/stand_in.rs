//! A stateful, in-memory stand-in of the Secondary DNS peers and TSIG API,
//! served on 127.0.0.1 by wiremock. It is written against the HTTP contract
//! (plain JSON, no sdk types), so tests of the sdk against it are not circular.
//!
//! It starts with the seed's example peer and the TSIG key that peer names,
//! in the example account. Its error codes are its own, in Cloudflare's
//! envelope; Cloudflare's real codes may differ.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers::any};

use crate::{EXAMPLE_ACCOUNT_ID, example_tsig_secret, update_peer_response_example};

/// The seed's TSIG key (the one its example peer's `tsig_id` names).
pub const EXAMPLE_TSIG_ID: &str = "69cd1e104af3e6ed3cb344f263fd0d5a";

/// Starts the stand-in on a free port of 127.0.0.1; requests are recorded
/// (see [`crate::recorded_requests`]).
pub async fn start_stand_in() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(StandIn::seeded())
        .mount(&server)
        .await;
    server
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Peer,
    Tsig,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Peer => "peer",
            Kind::Tsig => "TSIG",
        }
    }
}

#[derive(Default)]
struct Account {
    peers: BTreeMap<String, Map<String, Value>>,
    tsigs: BTreeMap<String, Map<String, Value>>,
}

impl Account {
    fn records(&mut self, kind: Kind) -> &mut BTreeMap<String, Map<String, Value>> {
        match kind {
            Kind::Peer => &mut self.peers,
            Kind::Tsig => &mut self.tsigs,
        }
    }
}

#[derive(Default)]
struct State {
    accounts: BTreeMap<String, Account>,
    ids_issued: u64,
}

struct StandIn(Arc<Mutex<State>>);

impl StandIn {
    fn seeded() -> Self {
        let mut account = Account::default();
        let peer = update_peer_response_example()["result"]
            .as_object()
            .expect("seed peer")
            .clone();
        let peer_id = peer["id"].as_str().expect("seed peer id").to_owned();
        account.peers.insert(peer_id, peer);
        let tsig = json!({
            "id": EXAMPLE_TSIG_ID,
            "name": "tsig.customer.cf.",
            "secret": example_tsig_secret(),
            "algo": "hmac-sha512.",
        });
        account.tsigs.insert(
            EXAMPLE_TSIG_ID.to_owned(),
            tsig.as_object().unwrap().clone(),
        );
        let mut state = State::default();
        state
            .accounts
            .insert(EXAMPLE_ACCOUNT_ID.to_owned(), account);
        StandIn(Arc::new(Mutex::new(state)))
    }
}

impl Respond for StandIn {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match handle(&mut state, request) {
            Ok((status, result, result_info)) => {
                let mut body =
                    json!({"errors": [], "messages": [], "success": true, "result": result});
                if let Some(info) = result_info {
                    body["result_info"] = info;
                }
                ResponseTemplate::new(status).set_body_json(body)
            }
            Err((status, code, message)) => ResponseTemplate::new(status).set_body_json(json!({
                "errors": [{"code": code, "message": message}],
                "messages": [],
                "success": false,
                "result": null,
            })),
        }
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

fn handle(state: &mut State, request: &Request) -> Outcome {
    let authenticated = request.headers.contains_key("authorization")
        || (request.headers.contains_key("x-auth-email")
            && request.headers.contains_key("x-auth-key"))
        || request.headers.contains_key("x-auth-user-service-key");
    if !authenticated {
        return Err((401, 10000, "Authentication error".to_owned()));
    }
    let segments: Vec<&str> = request
        .url
        .path()
        .trim_start_matches('/')
        .split('/')
        .collect();
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
            };
            let record = account.records(kind).get_mut(id).expect("checked above");
            // Fields left out of an update keep their value.
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

fn checked_peer_create(
    body: &Map<String, Value>,
) -> Result<Map<String, Value>, (u16, u32, String)> {
    Ok(Map::from_iter([required_string(body, "name")?]))
}

fn checked_peer_update(
    body: &Map<String, Value>,
    account: &Account,
) -> Result<Map<String, Value>, (u16, u32, String)> {
    let mut fields = checked_peer_create(body)?;
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
            _ => false,
        };
        if !valid {
            return Err(invalid(format!("invalid value for {field}")));
        }
        fields.insert(field.clone(), value.clone());
    }
    Ok(fields)
}

fn checked_tsig(body: &Map<String, Value>) -> Result<Map<String, Value>, (u16, u32, String)> {
    Ok(Map::from_iter([
        required_string(body, "name")?,
        required_string(body, "secret")?,
        required_string(body, "algo")?,
    ]))
}
