//! The runtime: what every request goes through after the generated code
//! has built it. Read top-down, each file importing only those below it
//! (`tests/tests/layout.rs` checks the order):
//!
//! | stage | file | what it does |
//! |---|---|---|
//! | orchestrator | `mod.rs` | the hooks progenitor calls: prepare, then the attempt loop; the decoding every `send()` ends with |
//! | configuration | `policy.rs` | what the loop is configured with, shared by clones |
//! | pacing | `pacing.rs` | the client-wide gate before each attempt (rate limit) |
//! | sending | `transport.rs` | one attempt: send, replay, read within the size limit |
//! | server signals | `ratelimit_headers.rs` | what a response says of the rate limit |
//! | retry decision | `retry.rs` | after each attempt: stop, or retry after how long |
//! | connections | `connections.rs` | the pooled HTTP client and its unpooled twin |
//! | telemetry | `telemetry.rs` | spans and events (feature `tracing`) |
//! | outcome | `outcome.rs` | an attempt's result, and the response handed back |
//! | refusals | `refusal.rs` | failures the client decides itself, as transport errors |
//! | attempts | `attempts.rs` | the attempt count, recorded for the caller's error |
//!
//! The loop, for one request: wait at the pacer → send one attempt → let the
//! pacer learn from the response → decide: stop, or sleep and go again.

use std::borrow::Cow;
use std::sync::atomic::AtomicU32;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use progenitor_client::{ClientHooks, ClientInfo, Error, OperationInfo};
use reqwest::Method;
use reqwest::header::HeaderName;
use serde::Deserialize;

pub(crate) mod attempts;
mod connections;
mod outcome;
pub(crate) mod pacing;
mod policy;
mod ratelimit_headers;
pub(crate) mod refusal;
pub mod retry;
#[cfg(feature = "tracing")]
mod telemetry;
mod transport;

pub(crate) use connections::{FreshConnections, HttpSettings};
pub use policy::{ClientPolicy, DEFAULT_MAX_PACING_WAIT, DEFAULT_MAX_RESPONSE_BYTES};

use self::attempts::record_in_error;
use self::outcome::{Failure, Outcome};
use self::refusal::as_transport_error;
use self::retry::{Decision, RetryPolicy};
use self::transport::Sender;
use crate::Client;
use crate::redact::Secrets;
use crate::response_fixups::Rejection;

/// Set or removed on every request: a name, not a `&str` parsed each time.
const API_VERSION: HeaderName = HeaderName::from_static("api-version");

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
                request.headers_mut().insert(API_VERSION, date.clone());
            }
            None => {
                request.headers_mut().remove(API_VERSION);
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
        let fresh_connections = policy.fresh_connections.as_deref();
        let http = match (fresh_connections, idempotent) {
            (Some(fresh), false) => fresh.client().unwrap_or(self.client()),
            _ => self.client(),
        };
        let sender = Sender {
            http,
            fresh_connections,
            max_response_bytes: policy.max_response_bytes,
            info,
            secrets: &secrets,
            replay_allowed: idempotent,
            replays: AtomicU32::new(0),
        };
        let (outcome, attempts) = run_attempts(policy, &sender, request).await;
        // Replays were sent too: they count as attempts.
        let attempts = attempts + sender.replays();
        match outcome {
            Ok(response) => Ok(response.finish(info.operation_id, attempts, &secrets)),
            // Retries spent on an error status: hand on the last response.
            Err(Failure::Status(response)) => {
                Ok(response.finish(info.operation_id, attempts, &secrets))
            }
            Err(Failure::Transport(error) | Failure::TooLarge(error) | Failure::NotSent(error)) => {
                Err(record_in_error(error, attempts))
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

impl Client {
    /// What the client's pacer knows now (shared with every clone): the
    /// requests Cloudflare said remain and when its window resets, a pause
    /// in force, requests sent and waiting. `None` when pacing is off
    /// ([`ClientBuilder::no_rate_limit`](crate::ClientBuilder::no_rate_limit)).
    pub fn rate_limit_status(&self) -> Option<pacing::RateLimitStatus> {
        self.inner().pacer.as_ref().map(|pacer| pacer.status())
    }
}

/// The attempt loop: pace, send, learn, decide. Returns the last outcome and
/// the attempts sent (a request the pacer refused first is 1 attempt, unsent).
async fn run_attempts(
    policy: &ClientPolicy,
    sender: &Sender<'_>,
    request: reqwest::Request,
) -> (Outcome, u32) {
    let pacer = policy.pacer.as_deref();
    // `None`: the call waits for the pacer however long it takes.
    let deadline = Instant::now().checked_add(policy.max_pacing_wait);
    let pace = async || match pacer {
        Some(pacer) => pacer.ready(deadline, policy.max_pacing_wait).await,
        None => Ok(()),
    };
    let learn = |signal| {
        if let Some(pacer) = pacer {
            pacer.observe(signal);
        }
    };
    // A streamed body cannot be sent twice: such a request gets one attempt
    // and no replay. Every body this API sends is buffered.
    if request.body().is_some_and(|body| body.as_bytes().is_none()) {
        if let Err(refused) = pace().await {
            return (Err(not_sent(refused, &request).await), 1);
        }
        let (outcome, signal) = sender.attempt(request, None, 1).await;
        learn(signal);
        return (outcome, 1);
    }
    let mut schedule = policy.retry.schedule();
    let mut last = None;
    let mut attempt = 0;
    loop {
        if let Err(refused) = pace().await {
            // A retry the pacer will not hold that long: the caller gets the
            // response that asked for it (a 429 says when to come back).
            return match last {
                Some(outcome) => (outcome, attempt),
                None => (Err(not_sent(refused, &request).await), 1),
            };
        }
        attempt += 1;
        let (outcome, signal) = sender
            .attempt(copy(&request), Some(&request), attempt)
            .await;
        learn(signal);
        match RetryPolicy::decide(&outcome, &mut schedule, pacer.is_some()) {
            Decision::Stop => return (outcome, attempt),
            Decision::RetryAfter(delay) => {
                #[cfg(feature = "tracing")]
                telemetry::retry_scheduled(delay);
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                last = Some(outcome);
            }
        }
    }
}

/// A copy of a request whose body is buffered (checked by the caller).
fn copy(request: &reqwest::Request) -> reqwest::Request {
    request.try_clone().expect("a buffered body clones")
}

async fn not_sent(refused: refusal::NotSent, request: &reqwest::Request) -> Failure {
    Failure::NotSent(as_transport_error(refused, request.url()).await)
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

/// What the generated `send` decodes a response with: progenitor's
/// `ResponseValue::from_response`, but the headers are moved out of the
/// response, which is dropped right after, instead of cloned, and integral
/// floats (`53.0`) are read as integers (`response_fixups::decode`).
pub(crate) async fn response_value<T, E>(
    mut response: reqwest::Response,
) -> Result<progenitor_client::ResponseValue<T>, Error<E>>
where
    T: serde::de::DeserializeOwned,
{
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let body = whole_body(&mut response)
        .await
        .map_err(Error::ResponseBodyError)?;
    let inner = crate::response_fixups::decode(body)
        .map_err(|(body, error)| Error::InvalidResponsePayload(body, error))?;
    Ok(progenitor_client::ResponseValue::new(
        inner, status, headers,
    ))
}

/// The body the runtime handed on in one chunk (`Buffered::finish`), taken
/// as it is: `bytes()` would gather it into a list first.
async fn whole_body(response: &mut reqwest::Response) -> reqwest::Result<Bytes> {
    let first = response.chunk().await?.unwrap_or_default();
    let Some(second) = response.chunk().await? else {
        return Ok(first);
    };
    let mut joined = BytesMut::from(&first[..]);
    joined.extend_from_slice(&second);
    while let Some(more) = response.chunk().await? {
        joined.extend_from_slice(&more);
    }
    Ok(joined.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response_of(chunks: &[&'static [u8]]) -> reqwest::Response {
        let stream = futures_util::stream::iter(
            chunks
                .iter()
                .map(|chunk| Ok::<_, std::io::Error>(Bytes::from_static(chunk)))
                .collect::<Vec<_>>(),
        );
        http::Response::new(reqwest::Body::wrap_stream(stream)).into()
    }

    #[tokio::test]
    async fn a_body_is_whole_in_one_chunk_or_many() {
        for chunks in [&[][..], &[&b"{}"[..]], &[b"{\"a\"", b":", b"1}"]] {
            let body = whole_body(&mut response_of(chunks)).await.unwrap();
            assert_eq!(body, chunks.concat(), "{chunks:?}");
        }
        let value: progenitor_client::ResponseValue<serde_json::Value> =
            response_value::<_, ()>(response_of(&[b"{\"port\":", b"53.0}"]))
                .await
                .unwrap();
        assert_eq!(value.into_inner(), serde_json::json!({"port": 53.0}));
    }
}
