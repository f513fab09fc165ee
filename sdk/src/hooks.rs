//! What every request goes through: the generated code builds it, these hooks
//! send it under the retry policy, read the response within the size limit,
//! and hand back a response that is safe to decode and to print.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU32, Ordering};
#[cfg(feature = "tracing")]
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use progenitor_client::{ClientHooks, ClientInfo, Error, OperationInfo};
use reqwest::header::{CONTENT_LENGTH, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, ResponseBuilderExt, StatusCode, Url, Version};
use serde::Deserialize;

use crate::Client;
use crate::error::ResponseTooLarge;
use crate::policy::ClientPolicy;
use crate::redact::Secrets;
use crate::response_fixups::{self, Rejection};
use crate::retry::{Failure, status_is_retryable};

/// Response header in which the client records how many attempts a request
/// took, when it took more than one. The client sets it; a server's own
/// header of that name is dropped, so no server can forge the count.
pub const ATTEMPTS_HEADER: &str = "x-sdk-attempts";

// Overrides the generated `impl ClientHooks for &Client` (auto-ref
// specialization, see `progenitor_client::ClientHooks`).
impl ClientHooks<ClientPolicy> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _: &OperationInfo,
    ) -> Result<(), Error<E>> {
        // progenitor always sends `api-version: <info.version>` ("4.0.0");
        // Cloudflare's own SDKs use that header for a date: send the pinned
        // date, if any, and never the spec's version.
        let policy = self.inner();
        match &policy.api_version {
            Some(date) => {
                request.headers_mut().insert("api-version", date.clone());
            }
            None => {
                request.headers_mut().remove("api-version");
            }
        }
        if let Some(timeout) = policy.timeout {
            *request.timeout_mut() = Some(timeout);
        }
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let policy = self.inner();
        let secrets = request_secrets(&policy.secrets, &request, info.operation_id);
        // A request that is not idempotent goes on a new connection, so that
        // it never meets a pooled connection the server is closing, and is
        // never replayed: a server may have acted on it.
        let idempotent = is_idempotent(request.method());
        let http = match (&policy.fresh_connections, idempotent) {
            (Some(fresh), false) => fresh.client().unwrap_or(self.client()),
            _ => self.client(),
        };
        let sender = Sender {
            http,
            policy,
            info,
            secrets: &secrets,
            replay_allowed: idempotent,
            replays: AtomicU32::new(0),
        };
        // A streamed body cannot be sent twice: such a request gets one
        // attempt and no replay. Every body this API sends is buffered.
        let replayable = request.body().is_none_or(|body| body.as_bytes().is_some());
        let (outcome, attempts) = if !replayable {
            (sender.attempt(request, None, 1).await, 1)
        } else if policy.retry.max_retries == 0 {
            (sender.attempt(copy(&request), Some(&request), 1).await, 1)
        } else {
            let mut attempt_number = 0;
            let (sender, original) = (&sender, &request);
            policy
                .retry
                .run(|| {
                    attempt_number += 1;
                    sender.attempt(copy(original), Some(original), attempt_number)
                })
                .await
        };
        // Replays were sent too: they count as attempts.
        let attempts = attempts + sender.replays.load(Ordering::Relaxed);
        match outcome {
            Ok(response) => Ok(response.finish(info.operation_id, attempts, &secrets)),
            // Retries spent on an error status: hand on the last response.
            Err(Failure::Status(response)) => {
                Ok(response.finish(info.operation_id, attempts, &secrets))
            }
            Err(Failure::Transport(error) | Failure::TooLarge(error)) => {
                Err(with_attempts(error, attempts))
            }
        }
    }

    async fn post<E>(
        &self,
        result: &reqwest::Result<reqwest::Response>,
        _: &OperationInfo,
    ) -> Result<(), Error<E>> {
        // A success body that would not decode: hand on the bounded, scrubbed
        // rejection instead of letting the generated code keep the whole body.
        if let Ok(response) = result
            && let Some(rejection) = response.extensions().get::<Rejection>()
        {
            return Err(Error::InvalidResponsePayload(
                rejection.payload.clone(),
                serde::de::Error::custom(&rejection.reason),
            ));
        }
        Ok(())
    }
}

/// A copy of a request whose body is buffered (checked by the caller).
fn copy(request: &reqwest::Request) -> reqwest::Request {
    request.try_clone().expect("a buffered body clones")
}

/// The client's secrets, plus the TSIG secret an operation sends (Create and
/// Update TSIG: the spec says which, see `generated::operations`).
fn request_secrets<'a>(
    secrets: &'a Secrets,
    request: &reqwest::Request,
    operation_id: &str,
) -> Cow<'a, Secrets> {
    #[derive(Deserialize)]
    struct TsigBody<'a> {
        #[serde(borrow)]
        secret: Option<Cow<'a, str>>,
    }
    let sent = crate::generated::operations::sends_secret(operation_id)
        .then(|| request.body().and_then(reqwest::Body::as_bytes))
        .flatten()
        .and_then(|body| serde_json::from_slice::<TsigBody<'_>>(body).ok())
        .and_then(|body| body.secret);
    match sent {
        Some(secret) => Cow::Owned(secrets.with([&*secret])),
        None => Cow::Borrowed(secrets),
    }
}

/// Whether sending `method` twice has the effect of sending it once (RFC 9110
/// §9.2.2): only such a request may be replayed outside the retry budget.
fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

/// What one attempt needs.
struct Sender<'a> {
    http: &'a reqwest::Client,
    policy: &'a ClientPolicy,
    info: &'a OperationInfo,
    secrets: &'a Secrets,
    /// Whether a request cut off before any response byte may be sent again.
    replay_allowed: bool,
    /// Replays sent, over all attempts.
    replays: AtomicU32,
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

impl Sender<'_> {
    async fn attempt(
        &self,
        request: reqwest::Request,
        original: Option<&reqwest::Request>,
        attempt_number: u32,
    ) -> Result<Buffered, Failure> {
        #[cfg(feature = "tracing")]
        let (span, started) = (
            crate::telemetry::attempt_span(self.info, &request, attempt_number),
            Instant::now(),
        );
        #[cfg(not(feature = "tracing"))]
        let _ = (self.info, attempt_number);

        let outcome = async {
            let mut response = self.send(request, original).await?;
            let (status, version, url) = (
                response.status(),
                response.version(),
                response.url().clone(),
            );
            let headers = std::mem::take(response.headers_mut());
            let body = read_bounded(&mut response, &url, self.policy.max_response_bytes).await?;
            if status == StatusCode::OK {
                return Ok(Buffered {
                    status,
                    version,
                    headers,
                    url,
                    body,
                });
            }
            let retry = !status.is_success() && status_is_retryable(status, &headers);
            // Compact now, so that a response kept across retries is small.
            let body = if status.as_u16() >= 400 {
                response_fixups::compact_failure(&body, self.secrets).0
            } else {
                body
            };
            let buffered = Buffered {
                status,
                version,
                headers: sanitized_headers(&headers, self.secrets),
                url,
                body,
            };
            if retry {
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

    /// Sends the request; if it is idempotent and its connection turns out to
    /// be closed before any byte of a response, sends it once more on a new
    /// connection. That is what a server closing an idle keep-alive
    /// connection as the request went out looks like; it does not take from
    /// the retry budget, but it counts as an attempt. A request that is not
    /// idempotent is never sent again here: the client cannot tell a request
    /// the server never read from one it read, acted on, and then dropped.
    /// (hyper itself resends a request it provably never wrote, and reqwest
    /// one that HTTP/2 refused: REFUSED_STREAM, or a graceful GOAWAY below it.)
    async fn send(
        &self,
        request: reqwest::Request,
        original: Option<&reqwest::Request>,
    ) -> Result<reqwest::Response, Failure> {
        match self.http.execute(request).await {
            Ok(response) => Ok(response),
            Err(error) if self.replay_allowed && closed_before_response(&error) => {
                let Some(again) = original.and_then(reqwest::Request::try_clone) else {
                    return Err(Failure::Transport(error));
                };
                self.replays.fetch_add(1, Ordering::Relaxed);
                #[cfg(feature = "tracing")]
                crate::telemetry::replayed_on_a_fresh_connection();
                let fresh = self
                    .policy
                    .fresh_connections
                    .as_ref()
                    .and_then(|f| f.client())
                    .unwrap_or(self.http);
                Box::pin(fresh.execute(again))
                    .await
                    .map_err(Failure::Transport)
            }
            Err(error) => Err(Failure::Transport(error)),
        }
    }
}

/// Whether sending failed because the connection was closed or reset before
/// any byte of a response came back: what a reused keep-alive connection
/// that the server has just closed looks like. Connect errors and timeouts
/// are not this (they are the retry policy's), nor is a response cut off
/// once it has started.
fn closed_before_response(error: &reqwest::Error) -> bool {
    use std::error::Error as _;
    use std::io::ErrorKind;
    if error.is_connect() || error.is_timeout() || !error.is_request() {
        return false;
    }
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(hyper) = cause.downcast_ref::<hyper::Error>()
            && (hyper.is_incomplete_message() || hyper.is_canceled())
        {
            return true;
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::BrokenPipe
                    | ErrorKind::UnexpectedEof
            );
        }
        source = cause.source();
    }
    false
}

/// The body, read chunk by chunk and refused as soon as it passes `limit`
/// (or before reading, when `Content-Length` announces more). Never holds
/// more than the limit plus one chunk.
async fn read_bounded(
    response: &mut reqwest::Response,
    url: &Url,
    limit: u64,
) -> Result<Bytes, Failure> {
    let announced = response.content_length();
    if announced.is_some_and(|length| length > limit) {
        // Boxed: a rare path should not grow every attempt's future.
        return Err(Box::pin(too_large(limit, announced, url)).await);
    }
    // Most bodies arrive in one chunk: keep it without copying.
    let mut single: Option<Bytes> = None;
    let mut joined: Option<BytesMut> = None;
    let mut received: u64 = 0;
    let body_error = |error: reqwest::Error| match error.url() {
        Some(_) => Failure::Transport(error),
        // The attempt count is recorded in the URL (see `with_attempts`).
        None => Failure::Transport(error.with_url(url.clone())),
    };
    while let Some(chunk) = response.chunk().await.map_err(body_error)? {
        received += chunk.len() as u64;
        if received > limit {
            return Err(Box::pin(too_large(limit, announced, url)).await);
        }
        if let Some(buffer) = joined.as_mut() {
            buffer.extend_from_slice(&chunk);
        } else if let Some(first) = single.take() {
            let expected = announced.map_or(2 * received, |length| length.min(limit));
            let mut buffer = BytesMut::with_capacity(usize::try_from(expected).unwrap_or(0));
            buffer.extend_from_slice(&first);
            buffer.extend_from_slice(&chunk);
            joined = Some(buffer);
        } else {
            single = Some(chunk);
        }
    }
    Ok(joined.map(BytesMut::freeze).or(single).unwrap_or_default())
}

/// The error for a body over the limit, as a `reqwest::Error` (what `exec`
/// returns) whose source is the typed [`ResponseTooLarge`]: reqwest makes
/// errors only itself, so one is made by reading a body that fails with it.
async fn too_large(limit: u64, content_length: Option<u64>, url: &Url) -> Failure {
    let cause = ResponseTooLarge {
        limit,
        content_length,
    };
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter([Err::<Bytes, _>(cause)]));
    let response = reqwest::Response::from(http::Response::new(body));
    let error = response
        .bytes()
        .await
        .expect_err("a body whose only chunk is an error fails");
    Failure::TooLarge(error.with_url(url.clone()))
}

/// Headers that errors print (progenitor's `Display` and `Debug` show them
/// all): scrubbed of secrets, values cut to 200 bytes, at most 1 KiB in all,
/// the ones that matter for retries first. A server's `x-sdk-attempts` is dropped.
fn sanitized_headers(headers: &HeaderMap, secrets: &Secrets) -> HeaderMap {
    const FIRST: [&str; 5] = [
        "retry-after",
        "retry-after-ms",
        "x-should-retry",
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
    fn finish(mut self, operation_id: &str, attempts: u32, secrets: &Secrets) -> reqwest::Response {
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
        self.headers.remove(ATTEMPTS_HEADER);
        if attempts > 1 {
            self.headers.insert(
                HeaderName::from_static(ATTEMPTS_HEADER),
                HeaderValue::from(attempts),
            );
        }
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

/// Records the attempts in the error's URL fragment (`#attempts=3`): a
/// `reqwest::Error` has no other place for it. The URL is the one the client
/// built (base URLs with a fragment are refused, redirects are not
/// followed), so the fragment is the client's alone.
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
