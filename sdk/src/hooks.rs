//! What every request goes through: the generated code builds it, these hooks
//! send it under the retry policy, and hand back a response ready to decode.

#[cfg(feature = "tracing")]
use std::time::Instant;

use bytes::Bytes;
use progenitor_client::{ClientHooks, ClientInfo, Error, OperationInfo};
use reqwest::header::{CONTENT_LENGTH, HeaderMap, HeaderName, HeaderValue};
use reqwest::{ResponseBuilderExt, StatusCode, Url, Version};

use crate::Client;
use crate::response_fixups;
use crate::retry::{Failure, RetryPolicy, status_is_retryable};

/// Response header the client adds when a request took more than one attempt.
pub const ATTEMPTS_HEADER: &str = "x-sdk-attempts";

// Overrides the generated `impl ClientHooks for &Client` (auto-ref
// specialization, see `progenitor_client::ClientHooks`).
impl ClientHooks<RetryPolicy> for Client {
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
        let policy = self.inner();
        // A streamed body cannot be sent twice: such a request gets one attempt.
        let replayable = request.body().is_none_or(|body| body.as_bytes().is_some());
        let (outcome, attempts) = if replayable && policy.max_retries > 0 {
            let mut attempt_number = 0;
            policy
                .run(|| {
                    attempt_number += 1;
                    let copy = request.try_clone().expect("a buffered body clones");
                    attempt(self.client(), copy, info, attempt_number)
                })
                .await
        } else {
            (attempt(self.client(), request, info, 1).await, 1)
        };
        match outcome {
            Ok(response) => Ok(response.finish(info.operation_id, attempts)),
            // Retries spent on an error status: hand on the last response.
            Err(Failure::Status(response)) => Ok(response.finish(info.operation_id, attempts)),
            Err(Failure::Transport(error)) => Err(with_attempts(error, attempts)),
        }
    }
}

/// A response read to its end, so that a body cut off mid-way is a failed
/// (retryable) attempt rather than an error after the hook has returned.
pub(crate) struct Buffered {
    pub(crate) status: StatusCode,
    version: Version,
    headers: HeaderMap,
    url: Url,
    body: Bytes,
}

async fn attempt(
    http: &reqwest::Client,
    request: reqwest::Request,
    info: &OperationInfo,
    attempt_number: u32,
) -> Result<Buffered, Failure> {
    #[cfg(feature = "tracing")]
    let (span, started) = (
        crate::telemetry::attempt_span(info, &request, attempt_number),
        Instant::now(),
    );
    #[cfg(not(feature = "tracing"))]
    let _ = (info, attempt_number);

    let outcome = async {
        let mut response = http.execute(request).await.map_err(Failure::Transport)?;
        let (status, version, url) = (
            response.status(),
            response.version(),
            response.url().clone(),
        );
        let headers = std::mem::take(response.headers_mut());
        let body = response.bytes().await.map_err(Failure::Transport)?;
        let buffered = Buffered {
            status,
            version,
            headers,
            url,
            body,
        };
        if !status.is_success() && status_is_retryable(status, &buffered.headers) {
            Err(Failure::Status(Box::new(buffered)))
        } else {
            Ok(buffered)
        }
    };
    #[cfg(feature = "tracing")]
    let outcome = tracing::Instrument::instrument(outcome, span.clone());
    let outcome = outcome.await;

    #[cfg(feature = "tracing")]
    crate::telemetry::attempt_finished(&span, &outcome, started.elapsed());
    outcome
}

impl Buffered {
    pub(crate) fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The response handed to the generated code: failure bodies made
    /// decodable, TSIG secrets kept out of error text, attempts recorded.
    fn finish(mut self, operation_id: &str, attempts: u32) -> reqwest::Response {
        let original_len = self.body.len();
        if operation_id.contains("tsig") {
            self.body = response_fixups::hide_tsig_secrets(self.status, operation_id, self.body);
        }
        if !self.status.is_success() {
            self.body = response_fixups::failure_envelope(self.body);
        }
        if self.body.len() != original_len {
            self.headers
                .insert(CONTENT_LENGTH, HeaderValue::from(self.body.len()));
        }
        if attempts > 1 {
            self.headers.insert(
                HeaderName::from_static(ATTEMPTS_HEADER),
                HeaderValue::from(attempts),
            );
        }
        let mut response = http::Response::builder()
            .status(self.status)
            .version(self.version)
            .url(self.url);
        if let Some(headers) = response.headers_mut() {
            *headers = self.headers;
        }
        response
            .body(self.body)
            .expect("status, version and headers come from a valid response")
            .into()
    }
}

/// Records the attempts in the error's URL fragment (`#attempts=3`): a
/// `reqwest::Error` has no other place for it, and the fragment is never sent.
fn with_attempts(mut error: reqwest::Error, attempts: u32) -> reqwest::Error {
    if attempts > 1
        && let Some(url) = error.url_mut()
    {
        url.set_fragment(Some(&format!("attempts={attempts}")));
    }
    error
}

/// The attempts recorded by the hooks: the response header, or the URL
/// fragment of a transport error; 1 when neither is there.
pub(crate) fn recorded_attempts(headers: Option<&HeaderMap>, url: Option<&Url>) -> u32 {
    let from_header = headers
        .and_then(|h| h.get(ATTEMPTS_HEADER))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let from_fragment = url
        .and_then(Url::fragment)
        .and_then(|f| f.strip_prefix("attempts="))
        .and_then(|n| n.parse().ok());
    from_header.or(from_fragment).unwrap_or(1)
}
