//! Fix-ups of a complete response body before the generated code decodes it.

use bytes::Bytes;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::types;

/// Makes any failure body decodable as Cloudflare's failure envelope, so that
/// every 4XX/5XX arrives as `Error::ErrorResponse` with its status. A body
/// that is not the envelope (an HTML page from a proxy, other JSON, nothing)
/// is kept whole in `result`: JSON as it was, anything else as text, empty as
/// null; `errors` is then empty.
pub(crate) fn failure_envelope(body: Bytes) -> Bytes {
    if decodes_as::<types::ApiResponseCommonFailure>(&body) {
        return body;
    }
    let wrap = |original: Value| {
        let envelope = json!({"success": false, "errors": [], "messages": [], "result": original});
        serde_json::to_vec(&envelope).expect("a JSON value serializes")
    };
    let as_text = || Value::String(String::from_utf8_lossy(&body).into_owned());
    let wrapped = match serde_json::from_slice(&body) {
        _ if body.is_empty() => wrap(Value::Null),
        Ok(json) => wrap(json),
        Err(_) => wrap(as_text()),
    };
    // JSON nested just under serde_json's depth limit is over it once wrapped:
    // keep such a body as text.
    if decodes_as::<types::ApiResponseCommonFailure>(&wrapped) {
        Bytes::from(wrapped)
    } else {
        Bytes::from(wrap(as_text()))
    }
}

/// A TSIG success body that fails to decode becomes
/// `Error::InvalidResponsePayload`, whose `Display` prints the whole body; a
/// failure envelope is printed whole too (its `result` is free-form JSON). So
/// every `"secret"` value is replaced in failure bodies and in success bodies
/// that will not decode; a success body that decodes is left untouched.
///
/// Redaction must not make a body decode that did not: the caller would get a
/// made-up secret. Values keep their JSON type, and in the rare case where the
/// secret alone made the body invalid, a note is appended that keeps it so.
pub(crate) fn hide_tsig_secrets(status: StatusCode, operation_id: &str, body: Bytes) -> Bytes {
    let decodes = |body: &[u8]| match operation_id {
        "list_tsigs" => decodes_as::<types::TsigCollectionResponse>(body),
        "delete_tsig" => decodes_as::<types::IdResponse>(body),
        _ => decodes_as::<types::SingleTsigResponse>(body),
    };
    if status.is_success() && decodes(&body) {
        return body;
    }
    let mut redacted = redact_secret_members(&body);
    if status.is_success() && decodes(&redacted) {
        redacted.extend_from_slice(b"\n(secrets redacted; the original body did not decode)");
    }
    Bytes::from(redacted)
}

fn decodes_as<T: DeserializeOwned>(body: &[u8]) -> bool {
    serde_json::from_slice::<T>(body).is_ok()
}

const SECRET_KEY: &[u8] = b"\"secret\"";
const REDACTED: &[u8] = b"[REDACTED]";

/// Replaces the value of every `secret` member: in JSON as parsed (so escaped
/// keys are found too), or, in a body that does not parse (a truncated one),
/// wherever `"secret"` stands.
fn redact_secret_members(body: &[u8]) -> Vec<u8> {
    match serde_json::from_slice::<Value>(body) {
        Ok(mut value) => {
            redact_parsed(&mut value);
            serde_json::to_vec(&value).expect("a JSON value serializes")
        }
        Err(_) => redact_lexically(body),
    }
}

fn redact_parsed(value: &mut Value) {
    match value {
        Value::Object(members) => {
            for (key, member) in members.iter_mut() {
                if key == "secret" {
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

fn redact_lexically(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = find(rest, SECRET_KEY) {
        let (before, after_key) = rest.split_at(at + SECRET_KEY.len());
        out.extend_from_slice(before);
        let value_start = after_key
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b':'))
            .unwrap_or(after_key.len());
        out.extend_from_slice(&after_key[..value_start]);
        let value = &after_key[value_start..];
        let value_len = if value.first() == Some(&b'"') {
            out.push(b'"');
            out.extend_from_slice(REDACTED);
            out.push(b'"');
            string_literal_len(value)
        } else {
            out.extend_from_slice(REDACTED);
            value
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']'))
                .unwrap_or(value.len())
        };
        rest = &value[value_len..];
    }
    out.extend_from_slice(rest);
    out
}

/// The length of the JSON string literal at the start of `s` (quotes
/// included), or all of `s` when it is cut before the closing quote.
fn string_literal_len(s: &[u8]) -> usize {
    let mut escaped = false;
    for (i, &b) in s.iter().enumerate().skip(1) {
        match b {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'"' => return i + 1,
            _ => {}
        }
    }
    s.len()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(s: &str) -> String {
        String::from_utf8(redact_secret_members(s.as_bytes())).unwrap()
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
    fn secrets_are_replaced_in_fragments() {
        assert_eq!(
            redact(r#"{"result":{"secret":"ab\"c\\","algo":"x"},"secret" : 12"#),
            r#"{"result":{"secret":"[REDACTED]","algo":"x"},"secret" : [REDACTED]"#
        );
        // Cut inside the value, or right after the key.
        assert_eq!(
            redact(r#"{"name":"n","secret":"caf79a78"#),
            r#"{"name":"n","secret":"[REDACTED]""#
        );
        assert_eq!(redact(r#"{"secret""#), r#"{"secret"[REDACTED]"#);
        assert_eq!(redact("no secrets here"), "no secrets here");
    }

    #[test]
    fn redaction_never_makes_a_tsig_body_decode() {
        let tsig = |secret: &str| {
            format!(
                r#"{{"errors":[],"messages":[],"success":true,"result":{{"id":"i","name":"n","algo":"a","secret":{secret}}}}}"#
            )
        };
        let hidden = |body: String| {
            let out = hide_tsig_secrets(StatusCode::OK, "get_tsig", Bytes::from(body));
            let decodes = decodes_as::<types::SingleTsigResponse>(&out);
            (decodes, String::from_utf8(out.to_vec()).unwrap())
        };
        // A valid body is untouched; a secret of the wrong type stays wrong.
        assert_eq!(hidden(tsig(r#""s3cr3t""#)), (true, tsig(r#""s3cr3t""#)));
        let (decodes, text) = hidden(tsig("12345"));
        assert!(!decodes && !text.contains("12345"), "{text}");
        // An invalid escape made only the secret invalid: still not decodable.
        let (decodes, text) = hidden(tsig(r#""s3\q""#));
        assert!(!decodes && !text.contains("s3"), "{text}");
    }

    fn envelope(body: &str) -> Value {
        serde_json::from_slice(&failure_envelope(Bytes::from(body.to_owned()))).unwrap()
    }

    #[test]
    fn failure_bodies_become_envelopes_without_losing_anything() {
        let real = r#"{"success":false,"errors":[{"code":7003,"message":"No route for the URI"}]}"#;
        assert_eq!(
            failure_envelope(Bytes::from(real)),
            Bytes::from(real),
            "an envelope is left as it is"
        );
        assert_eq!(envelope("<html>502</html>")["result"], "<html>502</html>");
        assert_eq!(
            envelope(r#"{"error":"nope"}"#)["result"],
            json!({"error": "nope"})
        );
        assert_eq!(envelope("")["result"], Value::Null);
        assert_eq!(
            envelope("{\"success\":false,")["result"],
            "{\"success\":false,"
        );
        assert_eq!(envelope("x")["errors"], json!([]));
        // Nested JSON that would pass serde_json's depth limit once wrapped.
        let deep = format!("{}1{}", "[".repeat(127), "]".repeat(127));
        assert_eq!(envelope(&deep)["result"], Value::String(deep.clone()));
    }
}
