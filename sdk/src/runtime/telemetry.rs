//! Tracing (feature `tracing`): one span per attempt, and the pacer's events.
//! Spans and events carry the operation id, method, URL path, attempt
//! number, status, durations and reasons: never header values, never bodies,
//! so never a credential. The bottom of the runtime beside `outcome`.

use std::time::Duration;

use progenitor_client::OperationInfo;
use tracing::field::Empty;

use super::outcome::{Buffered, Failure};
use super::refusal::{Held, NotSent};

pub(crate) fn attempt_span(
    info: &OperationInfo,
    request: &reqwest::Request,
    attempt: u32,
) -> tracing::Span {
    tracing::info_span!(
        "cloudflare_request",
        operation_id = info.operation_id,
        method = %request.method(),
        path = request.url().path(),
        attempt,
        status = Empty,
        duration_ms = Empty,
    )
}

pub(crate) fn attempt_finished(
    span: &tracing::Span,
    outcome: &Result<Buffered, Failure>,
    elapsed: Duration,
) {
    span.record(
        "duration_ms",
        u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
    );
    match outcome {
        Ok(response) => {
            span.record("status", response.status.as_u16());
            tracing::info!(parent: span, "attempt finished");
        }
        Err(Failure::Status(response)) => {
            span.record("status", response.status.as_u16());
            tracing::warn!(parent: span, "attempt failed with a retryable status");
        }
        Err(Failure::NotSent(_)) => {}
        Err(Failure::TooLarge(_)) => {
            tracing::warn!(parent: span, "the response is larger than the limit");
        }
        Err(Failure::Transport(error)) => {
            let kind = if error.is_timeout() {
                "timeout"
            } else {
                "connection"
            };
            tracing::warn!(parent: span, kind, "attempt failed before a complete response");
        }
    }
}

pub(crate) fn retry_scheduled(delay: Duration) {
    tracing::info!(delay_ms = millis(delay), "retrying");
}

pub(crate) fn replayed_on_a_fresh_connection() {
    tracing::info!("the pooled connection was closed before a response; sent again on a new one");
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// A request the pacer held before sending it (debug: at the client's own
/// pace this is every request past the burst).
pub(crate) fn request_delayed(delay: Duration, held: Held) {
    tracing::debug!(
        delay_ms = millis(delay),
        reason = held.as_str(),
        "the pacer delayed the request"
    );
}

/// Every request of the client is paused: a 429, or `Ratelimit` said `r=0`.
pub(crate) fn client_paused(pause: Duration, held: Held) {
    tracing::info!(
        pause_ms = millis(pause),
        reason = held.as_str(),
        "rate limit: every request of this client is paused"
    );
}

pub(crate) fn not_sent(refused: &NotSent) {
    tracing::warn!(
        retry_after_ms = millis(refused.retry_after),
        max_wait_ms = millis(refused.max_wait),
        reason = refused.held.as_str(),
        "rate limit: the request was not sent, its turn is later than the call may wait"
    );
}
