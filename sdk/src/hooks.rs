//! Adjustments to every request the generated code sends and every response
//! it decodes.

use progenitor_client::{ClientHooks, ClientInfo, Error, OperationInfo};
use reqwest::ResponseBuilderExt;
use reqwest::header::{CONTENT_LENGTH, HeaderValue};
use serde::de::DeserializeOwned;

use crate::{Client, types};

// Overrides the generated `impl ClientHooks for &Client` (auto-ref
// specialization, see `progenitor_client::ClientHooks`).
impl ClientHooks for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _: &OperationInfo,
    ) -> Result<(), Error<E>> {
        // progenitor always sends `api-version: <info.version>` ("4.0.0");
        // Cloudflare's own SDKs use that header for a date, so don't send ours.
        request.headers_mut().remove("api-version");
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let response = self.client().execute(request).await?;
        if info.operation_id.contains("tsig") {
            hide_secrets_from_decode_errors(response, info.operation_id).await
        } else {
            Ok(response)
        }
    }
}

/// A TSIG response that fails to decode becomes `Error::InvalidResponsePayload`,
/// whose `Display` prints the whole body, secret included; a failure envelope
/// is printed whole too (its `result` is free-form JSON). So every `"secret"`
/// value is replaced in failure bodies and in success bodies that will not
/// decode; a success body that decodes is handed on untouched.
async fn hide_secrets_from_decode_errors(
    response: reqwest::Response,
    operation_id: &str,
) -> reqwest::Result<reqwest::Response> {
    let status = response.status();
    if !(status.is_success() || status.is_client_error() || status.is_server_error()) {
        return Ok(response); // not decoded: UnexpectedResponse keeps no body text
    }
    let (version, mut headers, url) = (
        response.version(),
        response.headers().clone(),
        response.url().clone(),
    );
    let mut body = response.bytes().await?.to_vec();

    let decodes = status.is_success()
        && match operation_id {
            "list_tsigs" => decodes_as::<types::TsigCollectionResponse>(&body),
            "delete_tsig" => decodes_as::<types::IdResponse>(&body),
            _ => decodes_as::<types::SingleTsigResponse>(&body),
        };
    if !decodes {
        body = redact_secret_members(&body);
        headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
    let mut rebuilt = http::Response::builder()
        .status(status)
        .version(version)
        .url(url);
    if let Some(slot) = rebuilt.headers_mut() {
        *slot = headers;
    }
    Ok(rebuilt
        .body(body)
        .expect("status, version and headers come from a valid response")
        .into())
}

fn decodes_as<T: DeserializeOwned>(body: &[u8]) -> bool {
    serde_json::from_slice::<T>(body).is_ok()
}

const SECRET_KEY: &[u8] = b"\"secret\"";
const REDACTED: &[u8] = b"[REDACTED]";

/// Replaces the value of every `"secret"` member with `[REDACTED]`, in valid
/// JSON or in a fragment of it (a truncated body).
pub(crate) fn redact_secret_members(body: &[u8]) -> Vec<u8> {
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
            string_literal_len(value)
        } else {
            value
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']'))
                .unwrap_or(value.len())
        };
        if value.first() == Some(&b'"') {
            out.push(b'"');
            out.extend_from_slice(REDACTED);
            out.push(b'"');
        } else {
            out.extend_from_slice(REDACTED);
        }
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
    use super::redact_secret_members;

    fn redact(s: &str) -> String {
        String::from_utf8(redact_secret_members(s.as_bytes())).unwrap()
    }

    #[test]
    fn secrets_are_replaced_wherever_they_stand() {
        assert_eq!(
            redact(r#"{"result":{"secret":"ab\"c\\","algo":"x"},"secret" : 12}"#),
            r#"{"result":{"secret":"[REDACTED]","algo":"x"},"secret" : [REDACTED]}"#
        );
        assert_eq!(
            redact(r#"[{"secret":"a"},{"secret":"b"}]"#),
            r#"[{"secret":"[REDACTED]"},{"secret":"[REDACTED]"}]"#
        );
        // Cut inside the value, or right after the key.
        assert_eq!(
            redact(r#"{"name":"n","secret":"caf79a78"#),
            r#"{"name":"n","secret":"[REDACTED]""#
        );
        assert_eq!(redact(r#"{"secret""#), r#"{"secret"[REDACTED]"#);
        assert_eq!(redact("no secrets here"), "no secrets here");
    }
}
