//! Hostile responses, generated at random from a seed, sent by a local server
//! through the real response path (hooks, fix-ups, generated decoding): every
//! case must end in `Ok` or a typed error that agrees with the response. The
//! bodies and headers echo the client's own secrets (its API token, the TSIG
//! secret it sent) and carry TSIG secrets of their own: none may reach an
//! error's text, which stays a few KiB whatever the body, and no server
//! header may change the attempt count. Nothing may panic.
//!
//! Run longer with:
//! `HOSTILE_CASES=1000000 cargo test --release -p sdk-tests --test hostile_responses -- --nocapture`
//! (`HOSTILE_SEED=<n>` replays another sequence; a failure prints its case number and seed.)

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cloudflare_secondary_dns::{ApiError, Client, Credentials, Error, ErrorKind, types};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sdk_tests::{
    EXAMPLE_ACCOUNT_ID, lean_response, start_lean_server, update_peer_response_example,
};
use serde_json::{Value, json};

/// CI's bounded pass; the command above runs as many as asked.
const DEFAULT_CASES: usize = 5_000;
const IN_FLIGHT: usize = 64;
const SECRET_MARK: &str = "tsig-SECRET-";
/// The client's API token, which servers echo.
const TOKEN: &str = "cf-TOKEN/SECRET\"0123456789abcdef";
/// The TSIG secret Update TSIG sends, which servers echo.
const SENT_SECRET: &str = "sent-TSIG-SECRET-7f3a9c";
/// The longest error text allowed, for `{}`, `{:?}` and `report()` together.
const MAX_ERROR_TEXT: usize = 12 * 1024;
/// The longest error text seen, for the summary.
static LONGEST_ERROR_TEXT: AtomicUsize = AtomicUsize::new(0);

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One generated response.
struct Case {
    status: u16,
    content_type: &'static str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// A secret the client knows, in a form a server might echo it.
fn echo(rng: &mut StdRng) -> String {
    let secret = [TOKEN, SENT_SECRET][rng.random_range(0..2)];
    let encoded = encodings(secret)[rng.random_range(0..ENCODINGS)].clone();
    match rng.random_range(0..4) {
        0 => encoded,
        1 => format!("Bearer {encoded}"),
        2 => serde_json::to_string(&encoded).unwrap(),
        _ => format!("<b>{encoded}</b>"),
    }
}

const ENCODINGS: usize = 7;

/// Every form `echo` writes `secret` in: as it is, JSON-escaped, with JSON
/// `\u` escapes for every character or every other one, and with every byte
/// percent-encoded in upper, lower or mixed hex case.
fn encodings(secret: &str) -> [String; ENCODINGS] {
    let json = serde_json::to_string(secret).unwrap();
    let unicode = |every: usize| -> String {
        secret
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i % every == 0 {
                    format!("\\u{:04x}", c as u32)
                } else if c == '"' {
                    "\\\"".to_owned()
                } else {
                    c.to_string()
                }
            })
            .collect()
    };
    let percent = |case: usize| -> String {
        secret
            .bytes()
            .enumerate()
            .map(|(i, b)| match (case, i % 2) {
                (0, _) | (2, 0) => format!("%{b:02X}"),
                _ => format!("%{b:02x}"),
            })
            .collect()
    };
    [
        secret.to_owned(),
        json[1..json.len() - 1].to_owned(),
        unicode(1),
        unicode(2),
        percent(0),
        percent(1),
        percent(2),
    ]
}

/// Case `index` of sequence `seed`: the server and the checker make the same one.
fn case(seed: u64, index: usize) -> Case {
    let mut rng = StdRng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    const STATUSES: &[u16] = &[
        200, 200, 200, 200, 200, 200, 201, 204, 206, 301, 304, 400, 401, 403, 404, 409, 422, 429,
        500, 502, 503, 504, 599,
    ];
    let status = STATUSES[rng.random_range(0..STATUSES.len())];
    let content_type =
        ["application/json", "text/html", "application/octet-stream"][rng.random_range(0..3)];
    let mut body = match rng.random_range(0..10) {
        0 => (0..rng.random_range(0..512))
            .map(|_| rng.random())
            .collect(),
        1 => mutated(&mut rng, envelope_for(index))
            .to_string()
            .into_bytes(),
        2 => {
            let full = mutated(&mut rng, envelope_for(index))
                .to_string()
                .into_bytes();
            full[..rng.random_range(0..=full.len())].to_vec()
        }
        3 => nested(&mut rng),
        4 => huge(&mut rng, index),
        5 => {
            let mut envelope = envelope_for(index);
            let success = [
                Value::Null,
                json!(false),
                json!("true"),
                json!(1),
                json!([true]),
            ];
            match rng.random_range(0..=success.len()) {
                0 => drop(envelope.as_object_mut().unwrap().remove("success")),
                n => envelope["success"] = success[n - 1].clone(),
            }
            envelope.to_string().into_bytes()
        }
        6 => {
            let failure = failure(&mut rng);
            mutated(&mut rng, failure).to_string().into_bytes()
        }
        7 => failure(&mut rng).to_string().into_bytes(),
        8 => Vec::new(),
        _ => {
            // A string with bytes that are not UTF-8.
            let mut body = envelope_for(index).to_string().into_bytes();
            if let Some(at) = body.windows(4).position(|w| w == b"name") {
                body.splice(at + 8..at + 8, [0xff, 0xfe, 0xc3]);
            }
            body
        }
    };
    // Echo a secret somewhere in the raw body: in a string, or anywhere
    // between words (an echo that splits a key makes it another key).
    if rng.random_bool(0.2) {
        let at = rng.random_range(0..=body.len());
        let echoed = echo(&mut rng);
        let quote = body[..at].iter().rposition(|&b| b == b'"');
        let mut at = if rng.random_bool(0.5) {
            quote.map_or(at, |q| q + 1)
        } else {
            at
        };
        while at > 0
            && at < body.len()
            && body[at - 1].is_ascii_alphanumeric()
            && body[at].is_ascii_alphanumeric()
        {
            at -= 1;
        }
        body.splice(at..at, echoed.bytes());
    }
    let mut headers = Vec::new();
    for _ in 0..rng.random_range(0..4) {
        headers.push(match rng.random_range(0..7) {
            0 => ("x-echo".to_owned(), echo(&mut rng)),
            1 => ("x-sdk-attempts".to_owned(), "99".to_owned()),
            2 => ("retry-after".to_owned(), "1".to_owned()),
            3 => ("x-long".to_owned(), "v".repeat(rng.random_range(0..8000))),
            4 => (
                format!("x-many-{}", rng.random::<u16>()),
                "w".repeat(rng.random_range(0..200)),
            ),
            5 => ("cf-ray".to_owned(), "8c0ffee0-AMS".to_owned()),
            // A name that echoes the secret (names arrive lower-cased).
            _ => (format!("x-{SENT_SECRET}"), "1".to_owned()),
        });
    }
    if rng.random_bool(0.05) {
        headers.extend((0..90).map(|i| (format!("x-flood-{i}"), "f".repeat(300))));
    }
    Case {
        status,
        content_type,
        headers,
        body,
    }
}

/// A third of the cases go to Update Peer, a third to TSIG Details (whose
/// bodies carry a secret), a third to Update TSIG (which sends one).
fn is_tsig(index: usize) -> bool {
    !index.is_multiple_of(3)
}

fn sends_a_secret(index: usize) -> bool {
    index % 3 == 2
}

fn envelope_for(index: usize) -> Value {
    if is_tsig(index) {
        json!({"errors": [], "messages": [], "success": true, "result": {
            "id": "69cd1e104af3e6ed3cb344f263fd0d5a", "name": "tsig.customer.cf.",
            "algo": "hmac-sha512.", "secret": format!("{SECRET_MARK}{index}")}})
    } else {
        update_peer_response_example().clone()
    }
}

fn failure(rng: &mut StdRng) -> Value {
    let code = [
        json!(1003),
        json!(-1),
        json!(1e300),
        json!(u64::MAX),
        json!("1003"),
        Value::Null,
    ];
    json!({"success": false, "errors": [{"code": code[rng.random_range(0..code.len())], "message": "m"}],
           "messages": [], "result": null})
}

fn random_value(rng: &mut StdRng) -> Value {
    match rng.random_range(0..10) {
        0 => Value::Null,
        1 => json!(rng.random::<bool>()),
        2 => json!(rng.random_range(-70_000i64..140_000)),
        3 => [
            json!(53.5),
            json!(1e308),
            json!(-0.0),
            json!(65536),
            json!(53.0),
            json!(1e1),
        ][rng.random_range(0..6)]
        .clone(),
        4 => json!(u64::MAX),
        5 => json!("é\u{0}\u{202e}😀"),
        6 => json!("x".repeat(rng.random_range(0..3000))),
        7 if rng.random_bool(0.5) => json!(echo(rng)),
        7 => json!([1, "two", null]),
        8 => json!({"unknown": {"deeper": [true]}}),
        _ => json!(""),
    }
}

/// A JSON pointer to a random member or item of `value` (or to `value`).
fn random_pointer(rng: &mut StdRng, value: &Value) -> String {
    let mut pointer = String::new();
    let mut at = value;
    while rng.random_bool(0.6) {
        match at {
            Value::Object(members) if !members.is_empty() => {
                let (key, member) = members
                    .iter()
                    .nth(rng.random_range(0..members.len()))
                    .unwrap();
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                at = member;
            }
            Value::Array(items) if !items.is_empty() => {
                let index = rng.random_range(0..items.len());
                pointer.push_str(&format!("/{index}"));
                at = &items[index];
            }
            _ => break,
        }
    }
    pointer
}

/// `value` with 1–4 random changes: a member replaced, removed or added.
fn mutated(rng: &mut StdRng, mut value: Value) -> Value {
    for _ in 0..rng.random_range(1..=4) {
        let pointer = random_pointer(rng, &value);
        let replacement = random_value(rng);
        let choice = rng.random_range(0..3);
        let key_at = rng.random::<u16>();
        let target = value
            .pointer_mut(&pointer)
            .expect("the pointer was just made from this value");
        match (choice, target) {
            (0, Value::Object(members)) if !members.is_empty() => {
                let key = members
                    .keys()
                    .nth(usize::from(key_at) % members.len())
                    .unwrap()
                    .clone();
                members.remove(&key);
            }
            (1, Value::Object(members)) => {
                members.insert(format!("unknown_{key_at}"), replacement);
            }
            (_, target) => *target = replacement,
        }
    }
    value
}

fn nested(rng: &mut StdRng) -> Vec<u8> {
    // Half near serde_json's depth limit of 128, where wrapping a body can cross it.
    let depth = if rng.random_bool(0.5) {
        rng.random_range(120..136)
    } else {
        rng.random_range(1..5000)
    };
    let (open, close) = if rng.random_bool(0.5) {
        ("[", "]")
    } else {
        ("{\"a\":", "}")
    };
    format!("{}1{}", open.repeat(depth), close.repeat(depth)).into_bytes()
}

fn huge(rng: &mut StdRng, index: usize) -> Vec<u8> {
    let mut envelope = envelope_for(index);
    if rng.random_range(0..100) == 0 {
        envelope["result"]["name"] = json!("n".repeat(rng.random_range(1..2_000_000)));
    } else {
        envelope["messages"] = json!(vec![
            json!({"code": 1000, "message": "m"});
            rng.random_range(0..5000)
        ]);
    }
    envelope.to_string().into_bytes()
}

/// Checks the outcome of case `index` against what its response was.
fn check(index: usize, case: &Case, outcome: Result<(), ApiError>) -> Result<(), String> {
    let tsig = is_tsig(index);
    // The documented JSON, where a number written as an integral float
    // (`53.0`) stands for the integer.
    let decodes = |body: &[u8]| {
        if tsig {
            serde_json::from_slice::<types::SingleTsigResponse>(body).is_ok()
        } else {
            serde_json::from_slice::<types::SinglePeerResponse>(body).is_ok()
        }
    };
    let decodes = decodes(&case.body)
        || serde_json::from_slice::<Value>(&case.body)
            .ok()
            .map(integral_floats_as_integers)
            .is_some_and(|value| decodes(value.to_string().as_bytes()));
    let status = case.status;
    match (outcome.as_ref().map_err(|e| e.raw()), status) {
        (Ok(()), 200) if decodes => {}
        (Err(Error::InvalidResponsePayload(..)), 200) if !decodes => {}
        (Err(Error::ErrorResponse(response)), 400..=599) if response.status() == status => {
            let kind = outcome.as_ref().err().map(ApiError::kind);
            let kind_ok = match kind.expect("an error") {
                ErrorKind::Server => status >= 500,
                ErrorKind::RateLimited { .. } => status == 429,
                _ => status < 500,
            };
            if !kind_ok {
                return Err(format!("kind {kind:?} for HTTP {status}"));
            }
        }
        (Err(Error::UnexpectedResponse(response)), _)
            if response.status() == status && status != 200 => {}
        _ => {
            return Err(format!(
                "HTTP {status}, decodes: {decodes}: unexpected outcome {outcome:?}"
            ));
        }
    }
    if let Err(err) = &outcome {
        let text = format!("{err} {err:?} {}", err.report());
        // The client knows the TSIG secret only in the requests that send it.
        let sent = if sends_a_secret(index) {
            SENT_SECRET
        } else {
            TOKEN
        };
        // Whole secrets, in every form echoed and as `{:?}` escapes it: a
        // server that sends a cut token has not echoed it. Header names are
        // lower-cased, so the text is searched in lower case too.
        let lower = text.to_ascii_lowercase();
        let mut forms: Vec<String> = Vec::new();
        for secret in [TOKEN, sent] {
            for form in encodings(secret) {
                let debug = format!("{form:?}");
                forms.push(debug[1..debug.len() - 1].to_owned());
                forms.push(form);
            }
        }
        if let Some(form) = forms
            .iter()
            .find(|f| f.len() > 6 && lower.contains(&f.to_ascii_lowercase()))
        {
            let at = lower.find(&form.to_ascii_lowercase()).unwrap();
            return Err(format!(
                "{form:?} reached the error text at byte {at}: {text:.2000}"
            ));
        }
        for secret in [SECRET_MARK, TOKEN, sent] {
            if let Some(at) = text.find(secret) {
                let around: String = text[..at].chars().rev().take(200).collect();
                let around: String = around.chars().rev().collect();
                let after: String = text[at..].chars().take(100).collect();
                return Err(format!(
                    "{secret:?} reached the error text: …{around}{after}…"
                ));
            }
        }
        LONGEST_ERROR_TEXT.fetch_max(text.len(), Ordering::Relaxed);
        if text.len() > MAX_ERROR_TEXT {
            return Err(format!("error text of {} bytes", text.len()));
        }
        if err.attempts() != 1 {
            return Err(format!(
                "{} attempts reported with retries off",
                err.attempts()
            ));
        }
    }
    Ok(())
}

/// Every number that is an integral float, as an integer (independent of the
/// sdk's lexical rewrite: this one works on parsed JSON).
fn integral_floats_as_integers(value: Value) -> Value {
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 => json!(f as i64),
            _ => Value::Number(n),
        },
        Value::Array(items) => items.into_iter().map(integral_floats_as_integers).collect(),
        Value::Object(members) => members
            .into_iter()
            .map(|(k, v)| (k, integral_floats_as_integers(v)))
            .collect(),
        other => other,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_responses_end_in_ok_or_a_typed_error() {
    let cases: usize = env_or("HOSTILE_CASES", DEFAULT_CASES);
    let seed: u64 = env_or("HOSTILE_SEED", 0x5eed);
    let server = start_lean_server(move |request| {
        let index = request
            .uri()
            .path()
            .rsplit('/')
            .next()
            .and_then(|id| usize::from_str_radix(id, 16).ok());
        let case = case(
            seed,
            index.expect("the case number is the last path segment"),
        );
        let mut response = lean_response(case.status, case.content_type, case.body);
        for (name, value) in case.headers {
            response.headers_mut().append(
                name.parse::<http::HeaderName>().unwrap(),
                value.parse().unwrap(),
            );
        }
        response
    })
    .await;
    let client = Arc::new(
        Client::builder(Credentials::api_token(TOKEN))
            .base_url(&server.url)
            .max_retries(0)
            // Thousands of requests at once: this test is about responses.
            .no_rate_limit()
            .build()
            .unwrap(),
    );

    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..IN_FLIGHT)
        .map(|_| {
            let (client, next) = (client.clone(), next.clone());
            tokio::spawn(async move {
                let (mut failures, mut tally) = (Vec::new(), [0usize; 4]);
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= cases {
                        return (failures, tally);
                    }
                    let id = format!("{index:032x}");
                    let outcome = if sends_a_secret(index) {
                        let body = types::TsigInput::builder()
                            .name("tsig.customer.cf.")
                            .algo("hmac-sha512.")
                            .secret(SENT_SECRET);
                        let call = client.update_tsig().account_id(EXAMPLE_ACCOUNT_ID);
                        call.tsig_id(id).body(body).send().await.map(drop)
                    } else if is_tsig(index) {
                        let call = client.get_tsig().account_id(EXAMPLE_ACCOUNT_ID).tsig_id(id);
                        call.send().await.map(drop)
                    } else {
                        let body = types::PeerUpdate::builder().name("fuzz");
                        client
                            .update_peer()
                            .account_id(EXAMPLE_ACCOUNT_ID)
                            .peer_id(id)
                            .body(body)
                            .send()
                            .await
                            .map(drop)
                    };
                    tally[match outcome.as_ref().map_err(|e| e.raw()) {
                        Ok(()) => 0,
                        Err(Error::ErrorResponse(_)) => 1,
                        Err(Error::InvalidResponsePayload(..)) => 2,
                        Err(_) => 3,
                    }] += 1;
                    if let Err(problem) = check(index, &case(seed, index), outcome) {
                        failures.push(format!("case {index} (seed {seed:#x}): {problem}"));
                    }
                }
            })
        })
        .collect();
    let (mut failures, mut tally) = (Vec::new(), [0usize; 4]);
    for worker in workers {
        let (worker_failures, worker_tally) = worker.await.expect("a worker panicked");
        failures.extend(worker_failures);
        tally
            .iter_mut()
            .zip(worker_tally)
            .for_each(|(total, n)| *total += n);
    }
    let [ok, typed, invalid, other] = tally;
    eprintln!(
        "{cases} hostile responses (seed {seed:#x}): {ok} Ok, {typed} ErrorResponse, \
         {invalid} InvalidResponsePayload, {other} other errors; {} failures; \
         longest error text ({{}}, {{:?}} and report together): {} bytes",
        failures.len(),
        LONGEST_ERROR_TEXT.load(Ordering::Relaxed)
    );
    // Every outcome happened, so the checks were not vacuous.
    assert!(
        cases < 1000 || tally.iter().all(|&n| n > 0),
        "an outcome never happened: {tally:?}"
    );
    assert!(
        failures.is_empty(),
        "{} failures, first ones:\n{}",
        failures.len(),
        failures[..failures.len().min(10)].join("\n")
    );
}
