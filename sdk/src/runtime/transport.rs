//! Sending one attempt: on the pooled connection or, for a request that must
//! not be replayed, on a fresh one; a replay of an idempotent request whose
//! pooled connection turned out to be closed; the response read to its end
//! within the size limit. What the server said about its rate limit is read
//! off the raw headers here, before any are dropped.

use std::sync::atomic::{AtomicU32, Ordering};
#[cfg(feature = "tracing")]
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use progenitor_client::OperationInfo;
use reqwest::{StatusCode, Url};

use super::connections::FreshConnections;
use super::outcome::{Buffered, Failure, Outcome, sanitized_headers};
use super::ratelimit_headers::{self, ServerSignal};
use super::refusal::{ResponseTooLarge, as_transport_error};
use super::retry::status_is_retryable;
use crate::redact::Secrets;
use crate::response_fixups;

/// What an attempt needs, the same for every attempt of one request.
pub(crate) struct Sender<'a> {
    pub(crate) http: &'a reqwest::Client,
    pub(crate) fresh_connections: Option<&'a FreshConnections>,
    pub(crate) max_response_bytes: u64,
    pub(crate) info: &'a OperationInfo,
    pub(crate) secrets: &'a Secrets,
    /// Whether a request cut off before any response byte may be sent again.
    pub(crate) replay_allowed: bool,
    /// Replays sent, over all attempts.
    pub(crate) replays: AtomicU32,
}

impl Sender<'_> {
    /// Replays sent so far: they count as attempts.
    pub(crate) fn replays(&self) -> u32 {
        self.replays.load(Ordering::Relaxed)
    }

    /// One attempt: `request` is sent, `original` (a copy) is what a replay sends.
    pub(crate) async fn attempt(
        &self,
        request: reqwest::Request,
        original: Option<&reqwest::Request>,
        attempt_number: u32,
    ) -> (Outcome, ServerSignal) {
        #[cfg(feature = "tracing")]
        let (span, started) = (
            super::telemetry::attempt_span(self.info, &request, attempt_number),
            Instant::now(),
        );
        #[cfg(not(feature = "tracing"))]
        let _ = (self.info, attempt_number);

        let mut signal = ServerSignal::default();
        let outcome = async {
            let mut response = self.send(request, original).await?;
            let (status, version, url) = (
                response.status(),
                response.version(),
                response.url().clone(),
            );
            let headers = std::mem::take(response.headers_mut());
            signal = ratelimit_headers::read(status, &headers);
            let body = read_bounded(&mut response, &url, self.max_response_bytes).await?;
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
        super::telemetry::attempt_finished(&span, &outcome, started.elapsed());
        (outcome, signal)
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
                super::telemetry::replayed_on_a_fresh_connection();
                let fresh = self
                    .fresh_connections
                    .and_then(FreshConnections::client)
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
        // The attempt count is recorded in the URL (see `attempts`).
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

/// The error for a body over the limit, whose source is the typed
/// [`ResponseTooLarge`].
async fn too_large(limit: u64, content_length: Option<u64>, url: &Url) -> Failure {
    let cause = ResponseTooLarge {
        limit,
        content_length,
    };
    Failure::TooLarge(as_transport_error(cause, url).await)
}
