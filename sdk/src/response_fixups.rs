//! Fix-ups of a complete response body before the generated code decodes it.
//!
//! Whatever the server sends, what reaches an error is small (a few KiB) and
//! holds none of the client's secrets: failure bodies are rebuilt as a compact
//! envelope ([`compact_failure`]), and a success body that will not decode is
//! replaced by a short preview and the reason ([`check_success`]).

use std::fmt::Write as _;

use bytes::Bytes;
use serde::de::{DeserializeOwned, IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::const_bool::ConstFalse;
use crate::redact::{REDACTED, Secrets, bounded, bounded_with_rest};
use crate::types;

/// How many `errors` and `messages` of a failure envelope are kept.
pub(crate) const MAX_ERRORS: usize = 5;
pub(crate) const MAX_MESSAGES: usize = 3;
/// Longest `message` and `documentation_url` kept, in characters.
pub(crate) const MAX_TEXT_CHARS: usize = 200;
/// Longest `source.pointer` kept.
const MAX_POINTER_CHARS: usize = 100;
/// The kept errors and messages together, as JSON: errors come first, and an
/// entry that would pass this is left out.
const MAX_KEPT_ENTRIES_BYTES: usize = 3 * 1024;
/// A failure's free-form `result` (or a non-envelope body) is kept as JSON up
/// to this size, and as a text preview beyond it.
const MAX_RESULT_JSON_BYTES: usize = 1024;
/// How much of a body a preview shows, in characters.
pub(crate) const PREVIEW_CHARS: usize = 200;
/// A body up to this size is parsed before its preview is cut, so that
/// `secret` members are found however their keys are escaped.
const PARSED_PREVIEW_MAX_BYTES: usize = 64 * 1024;

/// Rebuilds any failure body as a compact, scrubbed failure envelope that
/// the generated code decodes into `Error::ErrorResponse`: at most
/// [`MAX_ERRORS`] errors and [`MAX_MESSAGES`] messages, each text cut to
/// [`MAX_TEXT_CHARS`], and `result` as small JSON or a text preview. A body
/// that is not the envelope (an HTML page from a proxy, other JSON, nothing)
/// is kept the same way in `result`, with `errors` empty.
///
/// Returns the envelope and whether the body was Cloudflare's envelope.
///
/// Memory: the body is scanned in place (borrowed `result`, skipped excess
/// items); only kept strings are copied, so the peak is under twice the body.
pub(crate) fn compact_failure(body: &[u8], secrets: &Secrets) -> (Bytes, bool) {
    let (envelope, is_envelope) = match serde_json::from_slice::<FailureProbe<'_>>(body) {
        Ok(probe) => {
            let result = probe.result.map_or(Value::Null, |raw| {
                small_json_or_preview(raw.get().as_bytes(), secrets)
            });
            let mut budget = MAX_KEPT_ENTRIES_BYTES;
            let mut keep = |entries: &[types::ResponseInfo]| {
                let mut kept = Vec::new();
                for entry in entries {
                    let entry = compact_info(entry, secrets);
                    let size = entry.to_string().len();
                    if size > budget {
                        break;
                    }
                    budget -= size;
                    kept.push(entry);
                }
                kept
            };
            let errors = keep(&probe.errors.0);
            let messages = keep(&probe.messages.0);
            let envelope = json!({
                "success": false,
                "errors": errors,
                "messages": messages,
                "result": result,
            });
            (envelope, true)
        }
        Err(_) if body.is_empty() => (wrapped(Value::Null), false),
        Err(_) => (wrapped(small_json_or_preview(body, secrets)), false),
    };
    let bytes = serde_json::to_vec(&envelope).expect("a JSON value serializes");
    // JSON nested just under serde_json's depth limit is over it once
    // wrapped: keep such a result as text.
    if decodes_as::<types::ApiResponseCommonFailure>(&bytes) {
        (Bytes::from(bytes), is_envelope)
    } else {
        let mut envelope = envelope;
        envelope["result"] = Value::String(preview(body, secrets));
        let bytes = serde_json::to_vec(&envelope).expect("a JSON value serializes");
        (Bytes::from(bytes), is_envelope)
    }
}

fn wrapped(result: Value) -> Value {
    json!({"success": false, "errors": [], "messages": [], "result": result})
}

/// Cloudflare's failure envelope, read without copying what is not kept.
#[derive(Deserialize)]
struct FailureProbe<'a> {
    #[allow(dead_code)]
    success: ConstFalse,
    errors: FirstFew<MAX_ERRORS>,
    #[serde(default)]
    messages: FirstFew<MAX_MESSAGES>,
    #[serde(default, borrow)]
    result: Option<&'a RawValue>,
}

/// The first `N` entries of a list (`null` is empty); the rest are skipped
/// without being kept.
#[derive(Default)]
struct FirstFew<const N: usize>(Vec<types::ResponseInfo>);

impl<'de, const N: usize> Deserialize<'de> for FirstFew<N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FirstFewVisitor<const N: usize>;
        impl<'de, const N: usize> Visitor<'de> for FirstFewVisitor<N> {
            type Value = FirstFew<N>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of errors or messages")
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(FirstFew(Vec::new()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut kept = Vec::new();
                while kept.len() < N {
                    match seq.next_element()? {
                        Some(info) => kept.push(info),
                        None => return Ok(FirstFew(kept)),
                    }
                }
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(FirstFew(kept))
            }
        }
        deserializer.deserialize_any(FirstFewVisitor::<N>)
    }
}

fn compact_info(info: &types::ResponseInfo, secrets: &Secrets) -> Value {
    let mut out = Map::new();
    out.insert("code".into(), info.code.into());
    out.insert(
        "message".into(),
        bounded(info.message.as_bytes(), MAX_TEXT_CHARS, secrets).into(),
    );
    if let Some(url) = &info.documentation_url {
        out.insert(
            "documentation_url".into(),
            bounded(url.as_bytes(), MAX_TEXT_CHARS, secrets).into(),
        );
    }
    if let Some(pointer) = info.source.as_ref().and_then(|s| s.pointer.as_deref()) {
        out.insert(
            "source".into(),
            json!({"pointer": bounded(pointer.as_bytes(), MAX_POINTER_CHARS, secrets)}),
        );
    }
    Value::Object(out)
}

/// Small valid JSON as scrubbed JSON (with `secret` members redacted);
/// anything else as a scrubbed text preview.
fn small_json_or_preview(text: &[u8], secrets: &Secrets) -> Value {
    if text.len() <= MAX_RESULT_JSON_BYTES
        && let Ok(mut value) = serde_json::from_slice::<Value>(text)
    {
        redact_parsed(&mut value);
        scrub_value(&mut value, secrets);
        return value;
    }
    Value::String(preview(text, secrets))
}

/// The start of a body for people: `secret` members redacted, the client's
/// secrets scrubbed, at most [`PREVIEW_CHARS`] characters.
pub(crate) fn preview(body: &[u8], secrets: &Secrets) -> String {
    if body.len() <= PARSED_PREVIEW_MAX_BYTES
        && let Ok(mut value) = serde_json::from_slice::<Value>(body)
    {
        redact_parsed(&mut value);
        scrub_value(&mut value, secrets);
        let text = serde_json::to_string(&value).expect("a JSON value serializes");
        return bounded(text.as_bytes(), PREVIEW_CHARS, secrets);
    }
    // Not JSON (or too large to parse): where a `secret` member's value ends
    // is a guess. Show nothing from the first `secret` on.
    let window = &body[..body.len().min(PREVIEW_CHARS * 4 + secrets.longest())];
    let shown = find_secret_key(window).unwrap_or(window.len());
    bounded_with_rest(&window[..shown], PREVIEW_CHARS, secrets, body.len() - shown)
}

/// Where the word `secret` (any case) or a key escaped after `"secr` first
/// stands: in text that is not JSON, any of them may start a secret member.
fn find_secret_key(text: &[u8]) -> Option<usize> {
    text.windows(6)
        .position(|w| w.eq_ignore_ascii_case(b"secret") || w.eq_ignore_ascii_case(b"\"secr\\"))
}

/// Every string, key and number of `value` scrubbed of `secrets`.
fn scrub_value(value: &mut Value, secrets: &Secrets) {
    match value {
        Value::String(text) => {
            if let std::borrow::Cow::Owned(clean) = secrets.scrub_str(text) {
                *text = clean;
            }
        }
        Value::Number(number) => {
            if secrets.contains_any(number.to_string().as_bytes()) {
                *value = Value::String(REDACTED.to_owned());
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| scrub_value(v, secrets)),
        Value::Object(members) => {
            let old = std::mem::take(members);
            for (key, mut member) in old {
                scrub_value(&mut member, secrets);
                members.insert(secrets.scrub_str(&key).into_owned(), member);
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

/// Why a success body was refused, ready for `Error::InvalidResponsePayload`.
#[derive(Clone, Debug)]
pub(crate) struct Rejection {
    /// A compact failure envelope (for `success: false`) or a body preview.
    pub(crate) payload: Bytes,
    /// What is wrong, naming the field.
    pub(crate) reason: String,
}

/// A success body up to this size, holding none of the client's secrets and
/// not from an operation that carries a secret, is handed on without being decoded here: if it
/// does not decode, progenitor's error holds it whole, which is small enough
/// to print. Decoding every body twice cost 6-8 % of throughput at 64 in
/// flight (BENCHMARKS.md).
pub(crate) const UNCHECKED_MAX_BYTES: usize = 1024;

/// Readies a success body for the generated code. `Ok(None)`: hand it on as
/// it is (a small body without secrets: [`decode`] writes its integral
/// floats as integers if it needs to). `Ok(Some(body))`: hand on this one,
/// where integral numbers written as floats (`53.0`) are written as
/// integers. `Err`: it does not decode (checked for bodies that are large, or
/// carry the client's or a TSIG secret); the rejection holds a bounded,
/// scrubbed preview and the reason, naming the field.
pub(crate) fn check_success(
    operation_id: &str,
    body: &[u8],
    secrets: &Secrets,
) -> Result<Option<Bytes>, Rejection> {
    let small_and_clean = body.len() <= UNCHECKED_MAX_BYTES
        && !crate::generated::operations::carries_secret(operation_id)
        && !secrets.contains_any(body);
    if small_and_clean {
        return Ok(None);
    }
    let normalized = integral_floats_as_integers(body);
    let candidate = normalized.as_deref().unwrap_or(body);
    let checked = crate::generated::operations::success_check(operation_id);
    let Some(Err(invalid)) = checked.map(|check| check(candidate)) else {
        return Ok(normalized.map(Bytes::from));
    };
    let (envelope, is_failure) = compact_failure(body, secrets);
    if is_failure {
        return Err(Rejection {
            payload: envelope,
            reason: "`success` is false in a 200 response".to_owned(),
        });
    }
    Err(Rejection {
        payload: Bytes::from(preview(body, secrets)),
        reason: invalid.reason(secrets),
    })
}

/// Decodes a body for the generated code (`runtime::response_value`): as it
/// is or, when that fails and it holds integral floats (`53.0`), with them
/// written as integers. The scan for floats is paid only by a body that
/// needs it: scanning every body cost a third of the sdk's own work per
/// request (issue 24, item 18). `Err` holds the body decoding failed on.
pub(crate) fn decode<T: DeserializeOwned>(body: Bytes) -> Result<T, (Bytes, serde_json::Error)> {
    match serde_json::from_slice(&body) {
        Ok(value) => Ok(value),
        Err(error) => match integral_floats_as_integers(&body) {
            Some(normalized) => {
                serde_json::from_slice(&normalized).map_err(|e| (Bytes::from(normalized), e))
            }
            None => Err((body, error)),
        },
    }
}

/// For a decoding error of a body handed on unchecked: the key of the member
/// being read where decoding stopped (serde's own message names a missing or
/// unknown field, but not the one whose value was wrong).
pub(crate) fn key_at(body: &[u8], error: &serde_json::Error) -> Option<String> {
    if error.line() == 0 {
        return None;
    }
    let line_start = body
        .split_inclusive(|&b| b == b'\n')
        .take(error.line() - 1)
        .map(<[u8]>::len)
        .sum::<usize>();
    let end = (line_start + error.column()).min(body.len());
    let (mut key, mut last_string, mut i) = (None, None::<(usize, usize)>, 0);
    while i < end {
        match body[i] {
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < end && body[i] != b'"' {
                    i += if body[i] == b'\\' { 2 } else { 1 };
                }
                last_string = Some((start, i.min(end)));
                i += 1;
            }
            b':' => {
                key = last_string;
                i += 1;
            }
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            _ => {
                last_string = None;
                i += 1;
            }
        }
    }
    let (start, stop) = key?;
    let text = String::from_utf8_lossy(&body[start..stop]);
    Some(text.chars().take(MAX_POINTER_CHARS).collect())
}

/// A success body's decoding error, with the path of the field.
pub(crate) struct Invalid {
    path: String,
    error: serde_json::Error,
}

impl Invalid {
    fn reason(&self, secrets: &Secrets) -> String {
        // serde's message quotes the offending value: never for a secret.
        if self.path.rsplit('.').next() == Some("secret") {
            return format!(
                "at {}: not a valid TSIG secret (value not shown)",
                self.path
            );
        }
        // The path names the field; serde_json's position would be that of
        // the normalized body, not the one received. serde's message quotes
        // the offending value, which may be the whole body: read only its start.
        let mut message = BoundedText::new(MAX_TEXT_CHARS * 8 + secrets.longest());
        let _ = write!(message, "{}", self.error);
        let message = message.0;
        let message = match message.rfind(" at line ") {
            Some(at) if message[at..].contains(" column ") => &message[..at],
            _ => &message,
        };
        let text = match self.path.as_str() {
            "" | "." => message.to_owned(),
            path => format!("at {path}: {message}"),
        };
        bounded(text.as_bytes(), MAX_TEXT_CHARS * 2, secrets)
    }
}

/// A `fmt::Write` that keeps the first `limit` bytes and drops the rest.
struct BoundedText(String, usize);

impl BoundedText {
    fn new(limit: usize) -> Self {
        Self(String::new(), limit)
    }
}

impl std::fmt::Write for BoundedText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let room = self.1.saturating_sub(self.0.len());
        let mut end = s.len().min(room);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.0.push_str(&s[..end]);
        Ok(())
    }
}

/// How a success body is checked: decoded as the operation's envelope. The
/// generated `operations::success_check` gives each operation's, from the spec.
pub(crate) type SuccessCheck = fn(&[u8]) -> Result<(), Invalid>;

#[cfg(test)]
fn knows_operation(operation_id: &str) -> bool {
    crate::generated::operations::success_check(operation_id).is_some()
}

pub(crate) fn check_as<T: DeserializeOwned>(body: &[u8]) -> Result<(), Invalid> {
    // The common case first, at the cost of a plain decode; the path of the
    // failing field is tracked only once decoding has failed.
    if serde_json::from_slice::<T>(body).is_ok() {
        return Ok(());
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Ok(_) => deserializer.end().map_err(|error| Invalid {
            path: String::new(),
            error,
        }),
        Err(error) => Err(Invalid {
            path: error.path().to_string(),
            error: error.into_inner(),
        }),
    }
}

/// `body` with every number written as an integral float (`53.0`, `5.3e1`)
/// written as an integer, or `None` when there is none. Cloudflare's schema
/// types ports and counts as `number`; the sdk decodes them as integers.
/// Non-integral numbers (and those past 2^53) are left for decoding to refuse.
fn integral_floats_as_integers(body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut copied, mut i, mut in_string, mut changed) = (0, 0, false, false);
    while i < body.len() {
        if in_string {
            // Most of a body is strings: jump to the next quote or escape.
            match memchr::memchr2(b'"', b'\\', &body[i..]) {
                Some(at) if body[i + at] == b'\\' => i += at + 2,
                Some(at) => {
                    in_string = false;
                    i += at + 1;
                }
                None => break,
            }
            continue;
        }
        let byte = body[i];
        match byte {
            b'"' => {
                in_string = true;
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < body.len()
                    && matches!(body[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                {
                    i += 1;
                }
                let token = &body[start..i];
                if token.iter().any(|b| matches!(b, b'.' | b'e' | b'E'))
                    && let Some(integer) = integral(token)
                {
                    out.extend_from_slice(&body[copied..start]);
                    out.extend_from_slice(integer.to_string().as_bytes());
                    (copied, changed) = (i, true);
                }
            }
            _ => i += 1,
        }
    }
    if !changed {
        return None;
    }
    out.extend_from_slice(&body[copied..]);
    Some(out)
}

fn integral(token: &[u8]) -> Option<i64> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    let value: f64 = std::str::from_utf8(token).ok()?.parse().ok()?;
    (value.is_finite() && value.fract() == 0.0 && value.abs() <= EXACT).then_some(value as i64)
}

fn decodes_as<T: DeserializeOwned>(body: &[u8]) -> bool {
    serde_json::from_slice::<T>(body).is_ok()
}

/// Replaces the value of every member whose key contains `secret` (any case:
/// `secret`, `tsig_secret`, `Secret`) in parsed JSON; escaped keys are found
/// too, as they are unescaped by then.
fn redact_parsed(value: &mut Value) {
    match value {
        Value::Object(members) => {
            for (key, member) in members.iter_mut() {
                if key.to_ascii_lowercase().contains("secret") {
                    // Same JSON type, so decoding fails (or not) as before.
                    *member = match member {
                        Value::String(_) => Value::String("[REDACTED]".to_owned()),
                        Value::Number(_) => Value::from(0),
                        Value::Bool(_) => Value::Bool(false),
                        Value::Array(_) => Value::Array(Vec::new()),
                        Value::Object(_) => Value::Object(Default::default()),
                        Value::Null => Value::Null,
                    };
                } else {
                    redact_parsed(member);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_parsed),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(s: &str) -> String {
        match serde_json::from_str::<Value>(s) {
            Ok(mut value) => {
                redact_parsed(&mut value);
                value.to_string()
            }
            Err(_) => unreachable!("only JSON here"),
        }
    }

    #[test]
    fn secrets_are_replaced_in_parsed_json() {
        assert_eq!(
            redact(r#"{"result":{"secret":"ab\"c\\","algo":"x"},"secret" : 12}"#),
            r#"{"result":{"algo":"x","secret":"[REDACTED]"},"secret":0}"#
        );
        assert_eq!(
            redact(r#"[{"secret":"a"},{"secret":{"x":1}},{"secret":[7]},{"secret":true}]"#),
            r#"[{"secret":"[REDACTED]"},{"secret":{}},{"secret":[]},{"secret":false}]"#
        );
        assert_eq!(
            redact(r#"{"secr\u0065t":"s"}"#),
            r#"{"secret":"[REDACTED]"}"#,
            "escaped keys too"
        );
        assert_eq!(redact(r#""no secrets here""#), r#""no secrets here""#);
    }

    #[test]
    fn previews_of_broken_json_stop_at_a_secret_key() {
        let shown = |body: &str| preview(body.as_bytes(), &Secrets::default());
        assert_eq!(
            shown(r#"{"name":"n","secret":"caf79a78"#),
            r#"{"name":"n","… (17 more bytes)"#
        );
        assert_eq!(shown(r#"{"secr\u0065t":"s3cr3t", "#), "{… (24 more bytes)");
        assert_eq!(shown("nothing hidden here"), "nothing hidden here");
        let long = format!("{{\"pad\":\"{}\",\"secret\":\"s3cr3t\"", "p".repeat(70_000));
        assert!(!shown(&long).contains("s3cr3t"));
    }

    fn compact(body: &str) -> (Value, bool) {
        let secrets = Secrets::new(["t0ken-value"]);
        let (bytes, is_envelope) = compact_failure(body.as_bytes(), &secrets);
        assert!(decodes_as::<types::ApiResponseCommonFailure>(&bytes));
        (serde_json::from_slice(&bytes).unwrap(), is_envelope)
    }

    #[test]
    fn failure_bodies_become_compact_envelopes() {
        let real = r#"{"success":false,"errors":[{"code":7003,"message":"No route for the URI"}],"messages":[],"result":null}"#;
        let (envelope, is_envelope) = compact(real);
        assert!(is_envelope);
        assert_eq!(envelope, serde_json::from_str::<Value>(real).unwrap());
        // Informational lists may be absent or null.
        let (envelope, is_envelope) = compact(r#"{"success":false,"errors":null,"messages":null}"#);
        assert!(is_envelope);
        assert_eq!(envelope["errors"], json!([]));

        let (envelope, is_envelope) = compact("<html>502</html>");
        assert_eq!(
            (envelope["result"].clone(), is_envelope),
            (json!("<html>502</html>"), false)
        );
        assert_eq!(
            compact(r#"{"error":"nope"}"#).0["result"],
            json!({"error": "nope"})
        );
        assert_eq!(compact("").0["result"], Value::Null);
        assert_eq!(
            compact("{\"success\":false,").0["result"],
            "{\"success\":false,"
        );
        assert_eq!(compact("x").0["errors"], json!([]));
        // Nested JSON that would pass serde_json's depth limit once wrapped.
        let deep = format!("{}1{}", "[".repeat(127), "]".repeat(127));
        let result = compact(&deep).0["result"].as_str().unwrap().to_owned();
        assert_eq!(
            result,
            format!("{}… (55 more bytes)", &deep[..PREVIEW_CHARS])
        );
    }

    #[test]
    fn compact_envelopes_are_bounded_and_scrubbed() {
        let error = |i: usize| json!({"code": 1000 + i, "message": format!("t0ken-value {}", "m".repeat(10_000))});
        let body = json!({
            "success": false,
            "errors": (0..1000).map(error).collect::<Vec<_>>(),
            "messages": (0..1000).map(error).collect::<Vec<_>>(),
            "result": {"echo": "t0ken-value", "secret": "tsig", "big": "x".repeat(5000)},
        })
        .to_string();
        let (envelope, is_envelope) = compact(&body);
        assert!(is_envelope);
        assert_eq!(envelope["errors"].as_array().unwrap().len(), MAX_ERRORS);
        assert_eq!(envelope["messages"].as_array().unwrap().len(), MAX_MESSAGES);
        let text = envelope.to_string();
        assert!(text.len() < 6 * 1024, "{} bytes", text.len());
        assert!(
            !text.contains("t0ken-value") && !text.contains("tsig"),
            "{text}"
        );
        assert!(
            envelope["errors"][0]["message"]
                .as_str()
                .unwrap()
                .starts_with("[REDACTED] mmm")
        );
        assert!(
            envelope["result"].is_string(),
            "a large result is a preview"
        );
    }

    /// A Get Peer body with `port`, padded past the unchecked size when `large`.
    fn peer(port: &str, large: bool) -> String {
        let pad = if large {
            "p".repeat(UNCHECKED_MAX_BYTES)
        } else {
            String::new()
        };
        format!(
            r#"{{"success":true,"result":{{"id":"i","name":"a.b 1.0","port":{port}}},"pad":"{pad}"}}"#
        )
    }

    #[test]
    fn integral_floats_decode_whatever_the_size() {
        let secrets = Secrets::default();
        // A small body is handed on as it is; decoding fixes its floats.
        let small = peer("53.0", false);
        assert!(matches!(
            check_success("get_peer", small.as_bytes(), &secrets),
            Ok(None)
        ));
        let decoded: types::SinglePeerResponse = decode(Bytes::from(small)).unwrap();
        assert_eq!(decoded.result.unwrap().port, Some(53));
        let not_integral = decode::<types::SinglePeerResponse>(Bytes::from(peer("53.5", false)));
        let (payload, error) = not_integral.unwrap_err();
        assert!(error.to_string().contains("53.5"), "{error}");
        assert_eq!(payload, peer("53.5", false), "the body it failed on");
        for large in [false, true] {
            let body = peer("53.0", large);
            let fixed = match check_success("get_peer", body.as_bytes(), &secrets).unwrap() {
                Some(fixed) => fixed,
                None => Bytes::from(body),
            };
            let fixed: types::SinglePeerResponse = decode(fixed).unwrap();
            assert_eq!(fixed.result.as_ref().unwrap().port, Some(53));
            assert_eq!(
                fixed.result.unwrap().name,
                "a.b 1.0",
                "strings are untouched"
            );
            let fixed = check_success("get_peer", peer("5.3e1", large).as_bytes(), &secrets);
            assert!(
                matches!(fixed, Ok(Some(_))) == large,
                "only a large body is fixed here"
            );
            let as_is = check_success("get_peer", peer("53", large).as_bytes(), &secrets);
            assert!(matches!(as_is, Ok(None)));
        }
        let list = r#"{"success":true,"errors":[],"messages":null,"result":[],"result_info":{"count":1.0,"page":2e0}}"#;
        assert!(check_success("list_peers", list.as_bytes(), &secrets).is_ok());
    }

    #[test]
    fn a_large_body_that_does_not_decode_is_refused_naming_the_field() {
        let secrets = Secrets::default();
        for (port, expected) in [
            (
                "53.5",
                "at result.port: invalid type: floating point `53.5`, expected u16",
            ),
            (
                "70000.0",
                "at result.port: invalid value: integer `70000`, expected u16",
            ),
            (
                "-1.0",
                "at result.port: invalid value: integer `-1`, expected u16",
            ),
        ] {
            let rejected =
                check_success("get_peer", peer(port, true).as_bytes(), &secrets).unwrap_err();
            assert_eq!(rejected.reason, expected);
            assert!(rejected.payload.len() < PREVIEW_CHARS + 40);
        }
    }

    #[test]
    fn a_small_body_is_handed_on_unless_it_holds_a_secret() {
        let secrets = Secrets::new(["t0ken-value"]);
        let broken = peer("\"fifty-three\"", false);
        let outcome = check_success("get_peer", broken.as_bytes(), &secrets);
        assert!(matches!(outcome, Ok(None)));
        let echoing = broken.replace("a.b 1.0", "t0ken-value");
        let rejected = check_success("get_peer", echoing.as_bytes(), &secrets).unwrap_err();
        assert!(!String::from_utf8_lossy(&rejected.payload).contains("t0ken"));
        // A TSIG body is always checked.
        let tsig = r#"{"success":true,"result":{"id":"i","name":"n","algo":"a","secret":7}}"#;
        assert!(check_success("get_tsig", tsig.as_bytes(), &Secrets::default()).is_err());
    }

    #[test]
    fn the_key_being_read_is_found_from_the_error_position() {
        let body = "{\"result\":{\"id\":\"i\",\n\"port\":53.5,\"name\":\"n\"}}";
        let error = serde_json::from_str::<types::SinglePeerResponse>(body).unwrap_err();
        assert_eq!(key_at(body.as_bytes(), &error).as_deref(), Some("port"));
        let custom: serde_json::Error = serde::de::Error::custom("x");
        assert_eq!(key_at(body.as_bytes(), &custom), None);
    }

    #[test]
    fn success_false_in_a_large_200_keeps_its_errors() {
        let body = format!(
            r#"{{"success":false,"errors":[{{"code":1003,"message":"Invalid or missing name"}}],"messages":[],"result":"{}"}}"#,
            "r".repeat(UNCHECKED_MAX_BYTES)
        );
        let rejected =
            check_success("update_peer", body.as_bytes(), &Secrets::default()).unwrap_err();
        let envelope: types::ApiResponseCommonFailure =
            serde_json::from_slice(&rejected.payload).unwrap();
        assert_eq!(envelope.errors[0].code, 1003);
    }

    #[test]
    fn a_refused_tsig_body_never_shows_a_secret() {
        let secrets = Secrets::new(["sent-secret"]);
        let body =
            r#"{"success":true,"result":{"id":"i","name":"n","algo":"a","secr\u0065t":12345}}"#;
        let rejected = check_success("get_tsig", body.as_bytes(), &secrets).unwrap_err();
        assert_eq!(
            rejected.reason,
            "at result.secret: not a valid TSIG secret (value not shown)"
        );
        assert!(!String::from_utf8_lossy(&rejected.payload).contains("12345"));
        let big = format!(
            r#"{{"success":true,"result":[{{"secret":"received-secret","name":"sent-secret"}}],"pad":"{}""#,
            "x".repeat(100_000)
        );
        let rejected = check_success("list_tsigs", big.as_bytes(), &secrets).unwrap_err();
        let payload = String::from_utf8_lossy(&rejected.payload).into_owned();
        assert!(
            !payload.contains("secret\":\"received") && !payload.contains("sent-secret"),
            "{payload}"
        );
        assert!(payload.len() < PREVIEW_CHARS + 100, "{}", payload.len());
    }

    #[test]
    fn every_operation_of_the_spec_has_a_success_check() {
        let spec = include_str!("../../openapi/secondary-dns.yaml");
        let mut operations: Vec<&str> = spec
            .lines()
            .filter_map(|line| line.trim().strip_prefix("operationId: "))
            .collect();
        assert_eq!(operations.len(), 35);
        let mut generated = crate::generated::operations::ALL.to_vec();
        operations.sort_unstable();
        generated.sort_unstable();
        assert_eq!(operations, generated);
        for operation in operations {
            assert!(knows_operation(operation), "{operation}");
        }
        assert!(!knows_operation("not_an_operation"));
    }
}
