//! Tracing (feature `tracing`): one span per attempt. Spans and events carry
//! the operation id, method, URL path, attempt number, status and duration:
//! never header values, never bodies, so never a credential.

use std::time::Duration;

use progenitor_client::OperationInfo;
use tracing::field::Empty;

use crate::hooks::Buffered;
use crate::retry::Failure;

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
    tracing::info!(
        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
        "retrying"
    );
}

pub(crate) fn replayed_on_a_fresh_connection() {
    tracing::info!("the pooled connection was closed before a response; sent again on a new one");
}
