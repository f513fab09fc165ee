//! What one attempt produced, and how it is handed to the generated code:
//! a response read to its end (`Buffered`), or the failure the retry decision
//! looks at. Responses that errors may print are scrubbed and bounded here.

use bytes::Bytes;
use reqwest::header::{CONTENT_LENGTH, HeaderMap, HeaderName, HeaderValue};
use reqwest::{ResponseBuilderExt, StatusCode, Url, Version};

use super::attempts::{ATTEMPTS_HEADER, record_in_headers};
use crate::redact::Secrets;
use crate::response_fixups;

/// One attempt's outcome.
pub(crate) type Outcome = Result<Buffered, Failure>;

/// A response read to its end, so that a body cut off mid-way is a failed
/// (retryable) attempt rather than an error after the hook has returned.
pub(crate) struct Buffered {
    pub(crate) status: StatusCode,
    pub(crate) version: Version,
    pub(crate) headers: HeaderMap,
    pub(crate) url: Url,
    pub(crate) body: Bytes,
}

/// One attempt's outcome that the retry decision may act on.
pub(crate) enum Failure {
    /// No usable response: connection refused or reset, timeout, body cut off.
    Transport(reqwest::Error),
    /// A complete response whose status (or `x-should-retry`) asks for a retry.
    Status(Box<Buffered>),
    /// A body over the size limit: it would be as large again (not retried).
    TooLarge(reqwest::Error),
    /// Not sent: the pacer would have held it longer than the call may wait.
    NotSent(reqwest::Error),
}

/// Headers that errors print (progenitor's `Display` and `Debug` show them
/// all): scrubbed of secrets, values cut to 200 bytes, at most 1 KiB in all,
/// the ones that matter for retries and rate limits first. A server's
/// `x-sdk-attempts` is dropped.
pub(crate) fn sanitized_headers(headers: &HeaderMap, secrets: &Secrets) -> HeaderMap {
    const FIRST: [&str; 7] = [
        "retry-after",
        "retry-after-ms",
        "x-should-retry",
        "ratelimit",
        "ratelimit-policy",
        "content-type",
        "cf-ray",
    ];
    const MAX_VALUE_BYTES: usize = 200;
    const MAX_NAME_BYTES: usize = 64;
    let mut budget: usize = 1024;
    let mut kept = HeaderMap::new();
    let mut keep = |name: &HeaderName, value: &HeaderValue| {
        // A name cannot be scrubbed (`[REDACTED]` is no header name): a
        // header whose name echoes a secret is dropped. The names the client
        // reads itself are its own constants, so never an echo.
        if name == ATTEMPTS_HEADER
            || name.as_str().len() > MAX_NAME_BYTES
            || (!FIRST.contains(&name.as_str()) && secrets.in_header_name(name.as_str()))
        {
            return;
        }
        let scrubbed = secrets.scrub(value.as_bytes());
        let cut = &scrubbed[..scrubbed.len().min(MAX_VALUE_BYTES)];
        let cost = name.as_str().len() + cut.len();
        if cost > budget {
            return;
        }
        if let Ok(value) = HeaderValue::from_bytes(cut) {
            budget -= cost;
            kept.append(name.clone(), value);
        }
    };
    for name in FIRST {
        for value in headers.get_all(name) {
            keep(&HeaderName::from_static(name), value);
        }
    }
    for (name, value) in headers {
        if !FIRST.contains(&name.as_str()) {
            keep(name, value);
        }
    }
    kept
}

impl Buffered {
    pub(crate) fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The response handed to the generated code: a success body checked
    /// (and refused in a bounded way when it will not decode), attempts
    /// recorded by the client alone.
    pub(crate) fn finish(
        mut self,
        operation_id: &str,
        attempts: u32,
        secrets: &Secrets,
    ) -> reqwest::Response {
        let mut rejection = None;
        let received_len = self.body.len();
        if self.status == StatusCode::OK {
            match response_fixups::check_success(operation_id, &self.body, secrets) {
                Ok(None) => {}
                Ok(Some(normalized)) => self.body = normalized,
                Err(rejected) => {
                    self.body = Bytes::new();
                    self.headers = sanitized_headers(&self.headers, secrets);
                    rejection = Some(rejected);
                }
            }
        }
        record_in_headers(&mut self.headers, attempts);
        if self.body.len() != received_len || self.status.as_u16() >= 400 {
            self.headers
                .insert(CONTENT_LENGTH, HeaderValue::from(self.body.len()));
        }
        let mut response = http::Response::builder()
            .status(self.status)
            .version(self.version)
            .url(self.url);
        if let Some(headers) = response.headers_mut() {
            *headers = self.headers;
        }
        if let (Some(extensions), Some(rejection)) = (response.extensions_mut(), rejection) {
            extensions.insert(rejection);
        }
        response
            .body(self.body)
            .expect("status, version and headers come from a valid response")
            .into()
    }
}
