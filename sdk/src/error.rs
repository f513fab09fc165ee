//! Readable errors: every operation returns [`ApiError`], which sorts itself
//! into an [`ErrorKind`], lists Cloudflare's `code: message` pairs and prints
//! as one clear line however it is printed (`{}`, `{:?}`, `?` out of `main`,
//! anyhow).

use std::borrow::Cow;
use std::error::Error as _;
use std::fmt;
use std::time::{Duration, SystemTime};

use crate::runtime::attempts::recorded_attempts;
use crate::runtime::refusal::{NotSent, ResponseTooLarge, in_chain};
use crate::runtime::retry::server_delay;
use crate::{Error, types};

/// What the generated operations fail with underneath: progenitor's
/// [`Error`], carrying Cloudflare's failure envelope for 4XX and 5XX.
pub type RawError = Error<types::ApiResponseCommonFailure>;

/// The error every operation returns.
///
/// It prints as one readable line, bounded and with the client's secrets
/// scrubbed, however it is printed: `{}`, `{:?}` (so `?` out of `main`),
/// anyhow's `{:#}` and `{:?}`, and [`report`](Self::report). The line already
/// holds the causes (e.g. "Connection refused"), so
/// [`source`](std::error::Error::source) is `None` and a chain printer shows
/// nothing twice; `{:#?}` shows the fields.
///
/// Branch on [`kind`](Self::kind), read Cloudflare's
/// [`cloudflare_errors`](Self::cloudflare_errors), or reach progenitor's
/// variant underneath (status, headers, the transport error) through
/// [`raw`](Self::raw) or `*err` (it derefs to a [`RawError`]):
///
/// ```
/// use cloudflare_secondary_dns::{ApiError, Error};
///
/// fn status_line(err: &ApiError) -> String {
///     match err.raw() {
///         Error::ErrorResponse(response) => format!("HTTP {}", response.status()),
///         _ => err.to_string(),
///     }
/// }
/// ```
pub struct ApiError(Box<Failed>);

/// Progenitor's error and the attempts it took.
struct Failed {
    raw: RawError,
    attempts: u32,
}

impl From<RawError> for ApiError {
    /// Takes the attempt count the runtime recorded (a response header, or a
    /// transport error's URL fragment, where a `reqwest::Error` has room for
    /// it) and removes it from the URL: the URL a caller sees is the one
    /// requested, and the count is [`ApiError::attempts`].
    fn from(mut raw: RawError) -> Self {
        let attempts = raw.attempts();
        if let Error::CommunicationError(e) | Error::ResponseBodyError(e) = &mut raw
            && let Some(url) = e.url_mut()
        {
            forget_attempts(url);
        }
        Self(Box::new(Failed { raw, attempts }))
    }
}

impl std::ops::Deref for ApiError {
    type Target = RawError;

    fn deref(&self) -> &RawError {
        &self.0.raw
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.report().fmt(f)
    }
}

impl fmt::Debug for ApiError {
    /// The report's line; with `{:#?}`, the kind, status, attempts and report
    /// as fields.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            f.debug_struct("ApiError")
                .field("kind", &self.kind())
                .field("http_status", &self.http_status())
                .field("attempts", &self.attempts())
                .field("report", &self.report())
                .finish()
        } else {
            self.report().fmt(f)
        }
    }
}

impl std::error::Error for ApiError {}

/// How much of a body that is not the expected JSON a report shows.
const BODY_PREVIEW_CHARS: usize = 240;

impl fmt::Display for types::ResponseInfo {
    /// `code: message`, then `(at <pointer>)` when Cloudflare names the field.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(pointer) = self.source.as_ref().and_then(|s| s.pointer.as_deref()) {
            write!(f, " (at {pointer})")?;
        }
        Ok(())
    }
}

impl fmt::Display for types::ApiResponseCommonFailure {
    /// Each error as `code: message`, separated by `; `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.errors.is_empty() {
            return f.write_str("no error details");
        }
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            error.fmt(f)?;
        }
        Ok(())
    }
}

/// What kind of failure an [`ApiError`] is, so that callers can branch
/// without matching status numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// 400: the request was refused as invalid.
    BadRequest,
    /// 401: the credentials were missing or wrong.
    Authentication,
    /// 403: the credentials lack a permission.
    PermissionDenied,
    /// 404: no such account, peer or TSIG key.
    NotFound,
    /// 409: the request conflicts with the current state.
    Conflict,
    /// 422: the request was understood but cannot be processed.
    Unprocessable,
    /// 429: too many requests; `retry_after` is the delay the server asked
    /// for. Also a request the client's pacer did not send because its turn
    /// was further away than the call may wait
    /// ([`ClientBuilder::max_pacing_wait`](crate::ClientBuilder::max_pacing_wait)):
    /// then [`ApiError::http_status`] is `None` and `retry_after` is when it
    /// could go.
    RateLimited {
        /// From `retry-after-ms` or `retry-after`, when the response had one;
        /// for a request not sent, the time until its turn.
        retry_after: Option<Duration>,
    },
    /// 500 and above.
    Server,
    /// Any other status the API does not document (e.g. a redirect or 405).
    OtherStatus,
    /// No response: the connection failed or was cut before the response was complete.
    Connection,
    /// No response within the configured time.
    Timeout,
    /// A response whose body is not what the API describes (e.g. `success: false` in a 200).
    InvalidResponse,
    /// Refused before sending (e.g. an invalid id): nothing reached the network.
    InvalidRequest,
    // Added last: earlier variants keep their discriminants.
    /// A response larger than
    /// [`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes):
    /// refused before or while reading it, and not retried.
    ResponseTooLarge {
        /// The limit, in bytes.
        limit: u64,
        /// The size the response announced (`Content-Length`), if it did.
        content_length: Option<u64>,
    },
}

impl ApiError {
    /// A success envelope without its `result`: an invalid response.
    pub(crate) fn missing_result() -> Self {
        let reason = <serde_json::Error as serde::de::Error>::missing_field("result");
        Error::InvalidResponsePayload(bytes::Bytes::new(), reason).into()
    }

    /// Progenitor's error underneath, to match on its variant.
    pub fn raw(&self) -> &RawError {
        &self.0.raw
    }

    /// Progenitor's error underneath, owned (the attempt count stays with
    /// [`attempts`](Self::attempts)).
    pub fn into_raw(self) -> RawError {
        self.0.raw
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.0.raw.kind()
    }

    /// The HTTP status, when there was a response.
    pub fn http_status(&self) -> Option<u16> {
        self.0.raw.http_status()
    }

    /// The delay the server asked for (`retry-after-ms` or `retry-after`),
    /// whatever the status; for a request the pacer did not send, the time
    /// until its turn.
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.raw.retry_after()
    }

    /// How many attempts were made before this error (1 when it was not retried).
    pub fn attempts(&self) -> u32 {
        self.0.attempts
    }

    /// The `errors` of Cloudflare's failure envelope (code, message,
    /// documentation_url, source.pointer), from a 4XX/5XX or from a 200 that
    /// says `success: false`; empty when the failure did not come with them
    /// (network errors, invalid requests, non-JSON bodies). At most the first
    /// five are kept, each text cut to 200 characters.
    pub fn cloudflare_errors(&self) -> Cow<'_, [types::ResponseInfo]> {
        self.0.raw.cloudflare_errors()
    }

    /// A one-line description for people: what failed, the HTTP status, each
    /// Cloudflare `code: message`, and the number of attempts.
    pub fn report(&self) -> ErrorReport<'_> {
        ErrorReport(&self.0)
    }
}

/// What an [`ApiError`] knows, computed on progenitor's error underneath.
trait Inspect {
    fn kind(&self) -> ErrorKind;
    fn http_status(&self) -> Option<u16>;
    fn retry_after(&self) -> Option<Duration>;
    fn attempts(&self) -> u32;
    fn cloudflare_errors(&self) -> Cow<'_, [types::ResponseInfo]>;
}

impl Inspect for RawError {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::ErrorResponse(response) => match response.status().as_u16() {
                400 => ErrorKind::BadRequest,
                401 => ErrorKind::Authentication,
                403 => ErrorKind::PermissionDenied,
                404 => ErrorKind::NotFound,
                409 => ErrorKind::Conflict,
                422 => ErrorKind::Unprocessable,
                429 => ErrorKind::RateLimited {
                    retry_after: self.retry_after(),
                },
                500.. => ErrorKind::Server,
                _ => ErrorKind::OtherStatus,
            },
            Error::UnexpectedResponse(_) => ErrorKind::OtherStatus,
            Error::CommunicationError(e) if let Some(not_sent) = in_chain::<NotSent>(e) => {
                ErrorKind::RateLimited {
                    retry_after: Some(not_sent.retry_after),
                }
            }
            Error::CommunicationError(e) | Error::ResponseBodyError(e)
                if let Some(too_large) = in_chain::<ResponseTooLarge>(e) =>
            {
                ErrorKind::ResponseTooLarge {
                    limit: too_large.limit,
                    content_length: too_large.content_length,
                }
            }
            Error::CommunicationError(e) | Error::ResponseBodyError(e) if e.is_timeout() => {
                ErrorKind::Timeout
            }
            Error::CommunicationError(_) | Error::ResponseBodyError(_) => ErrorKind::Connection,
            Error::InvalidResponsePayload(..) | Error::InvalidUpgrade(_) => {
                ErrorKind::InvalidResponse
            }
            Error::InvalidRequest(_) | Error::Custom(_) => ErrorKind::InvalidRequest,
        }
    }

    fn http_status(&self) -> Option<u16> {
        match self {
            // The runtime refuses only bodies of the one success status every
            // operation documents; progenitor keeps no status for it.
            Error::InvalidResponsePayload(..) => Some(200),
            _ => self.status().map(|s| s.as_u16()),
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        let headers = match self {
            Error::ErrorResponse(response) => response.headers(),
            Error::UnexpectedResponse(response) => response.headers(),
            Error::CommunicationError(e) => return in_chain::<NotSent>(e).map(|n| n.retry_after),
            _ => return None,
        };
        server_delay(headers, SystemTime::now())
    }

    fn attempts(&self) -> u32 {
        match self {
            Error::ErrorResponse(response) => recorded_attempts(Some(response.headers()), None),
            Error::UnexpectedResponse(response) => {
                recorded_attempts(Some(response.headers()), None)
            }
            Error::CommunicationError(e) | Error::ResponseBodyError(e) => {
                recorded_attempts(None, e.url())
            }
            _ => 1,
        }
    }

    fn cloudflare_errors(&self) -> Cow<'_, [types::ResponseInfo]> {
        match self {
            Error::ErrorResponse(response) => Cow::Borrowed(&response.errors),
            // A 200 with `success: false`: the runtime hands on its compact envelope.
            Error::InvalidResponsePayload(payload, _) => {
                serde_json::from_slice::<types::ApiResponseCommonFailure>(payload)
                    .map_or(Cow::Borrowed(&[]), |envelope| Cow::Owned(envelope.errors.0))
            }
            _ => Cow::Borrowed(&[]),
        }
    }
}

/// The readable form of an [`ApiError`], from [`ApiError::report`].
pub struct ErrorReport<'a>(&'a Failed);

impl fmt::Display for ErrorReport<'_> {
    /// One line whatever the server sent (line breaks, control characters
    /// and bidi controls written as escapes).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(&mut OneLine(f))
    }
}

/// Writes text on one line, so that a server's text can neither forge a
/// line in a log nor steer a terminal: line breaks (`\n`, `\r`, U+0085,
/// U+2028, U+2029) and other control characters are written as escapes
/// (`\n`, `\u{1b}`), and so are the bidirectional controls (U+202E…) that
/// would reorder what a reader sees.
pub(crate) struct OneLine<'a, W: ?Sized>(pub(crate) &'a mut W);

impl<W: fmt::Write + ?Sized> fmt::Write for OneLine<'_, W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let mut rest = text;
        while let Some(at) = rest.find(needs_escape) {
            let c = rest[at..].chars().next().expect("found at a char boundary");
            self.0.write_str(&rest[..at])?;
            match c {
                '\n' => self.0.write_str("\\n")?,
                '\r' => self.0.write_str("\\r")?,
                _ => write!(self.0, "{}", c.escape_unicode())?,
            }
            rest = &rest[at + c.len_utf8()..];
        }
        self.0.write_str(rest)
    }
}

/// Whether a character is written as an escape by [`OneLine`].
fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{061c}' | '\u{200e}' | '\u{200f}'
                | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

impl ErrorReport<'_> {
    fn write_to(&self, f: &mut dyn fmt::Write) -> fmt::Result {
        let raw = &self.0.raw;
        match raw {
            Error::ErrorResponse(response) => {
                write!(
                    f,
                    "Cloudflare API error, HTTP {}: {}",
                    response.status(),
                    response.as_ref()
                )?;
                if response.status() == 429
                    && let Some(delay) = server_delay(response.headers(), SystemTime::now())
                {
                    write_retry_after(f, delay)?;
                }
                // A body that was not Cloudflare's envelope is kept in `result`.
                if let (true, Some(body)) = (response.errors.is_empty(), &response.result) {
                    match body {
                        serde_json::Value::String(text) => write!(f, "; body: {}", preview(text))?,
                        other => write!(f, "; body: {}", preview(&other.to_string()))?,
                    }
                }
            }
            Error::InvalidRequest(reason) => match refused_identifier(reason) {
                Some(parameter) => write!(
                    f,
                    "invalid request, nothing was sent: {parameter} must be 32 lowercase hexadecimal characters"
                )?,
                None => write!(f, "invalid request, nothing was sent: {reason}")?,
            },
            Error::CommunicationError(e)
                if let Some(too_large) = in_chain::<ResponseTooLarge>(e) =>
            {
                write!(f, "{too_large}")?;
            }
            Error::CommunicationError(e) if let Some(not_sent) = in_chain::<NotSent>(e) => {
                write!(f, "rate limited, {not_sent}")?;
                write_retry_after(f, not_sent.retry_after)?;
            }
            Error::CommunicationError(e) => {
                let what = if e.is_timeout() {
                    "the request timed out"
                } else if e.is_connect() {
                    "could not connect to the API"
                } else {
                    "the request failed"
                };
                write!(f, "{what}: ")?;
                write_chain(f, e)?;
            }
            Error::ResponseBodyError(e) => {
                f.write_str("the response body could not be read: ")?;
                write_chain(f, e)?;
            }
            Error::InvalidResponsePayload(payload, reason) => {
                let errors = raw.cloudflare_errors();
                if errors.is_empty() {
                    // The payload is the runtime's preview of a large body, or a
                    // small body handed on whole (see `response_fixups`).
                    f.write_str("the response is not the JSON this API describes (")?;
                    let message = reason.to_string();
                    let names_a_field = ["missing field", "unknown field", "duplicate field"]
                        .iter()
                        .any(|m| message.starts_with(m));
                    match crate::response_fixups::key_at(payload, reason) {
                        Some(key) if !names_a_field => write!(f, "at `{key}`: {message}")?,
                        _ => f.write_str(&message)?,
                    }
                    f.write_str(")")?;
                    // An empty body says so (`body: ""`); an envelope found
                    // without its `result` has no body to show.
                    if !payload.is_empty() || reason.is_eof() {
                        write!(f, "; body: {}", preview(&String::from_utf8_lossy(payload)))?;
                    }
                } else {
                    f.write_str("Cloudflare API error in a 200 response (success: false): ")?;
                    for (i, error) in errors.iter().enumerate() {
                        if i > 0 {
                            f.write_str("; ")?;
                        }
                        write!(f, "{error}")?;
                    }
                }
            }
            Error::UnexpectedResponse(response) => {
                write!(
                    f,
                    "unexpected response: HTTP {} from {}",
                    response.status(),
                    response.url()
                )?;
            }
            Error::InvalidUpgrade(e) => {
                f.write_str("invalid response upgrade: ")?;
                write_chain(f, e)?;
            }
            Error::Custom(message) => f.write_str(message)?,
        }
        match self.0.attempts {
            1 => Ok(()),
            n => write!(f, " (after {n} attempts)"),
        }
    }
}

/// `; retry after 2 min 5 s`: when a rate-limited caller may come back.
fn write_retry_after(f: &mut dyn fmt::Write, delay: Duration) -> fmt::Result {
    let seconds = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
    match (seconds / 60, seconds % 60) {
        (0, s) => write!(f, "; retry after {s} s"),
        (m, 0) => write!(f, "; retry after {m} min"),
        (m, s) => write!(f, "; retry after {m} min {s} s"),
    }
}

/// The parameter named by the generated builder's message for an identifier
/// it refused: "conversion to `crate :: PeerIdentifier` for peer_id failed".
fn refused_identifier(reason: &str) -> Option<&str> {
    let rest = reason.strip_prefix("conversion to `crate :: ")?;
    let (_, parameter) = rest.split_once("Identifier` for ")?;
    parameter.strip_suffix(" failed")
}

/// Removes the runtime's `#attempts=N` from a URL.
fn forget_attempts(url: &mut reqwest::Url) {
    if url.fragment().is_some_and(|f| f.starts_with("attempts=")) {
        url.set_fragment(None);
    }
}

/// The first characters of a body, escaped, with `…` when cut.
fn preview(text: &str) -> String {
    let shown: String = text.chars().take(BODY_PREVIEW_CHARS).collect();
    let cut = if shown.len() < text.len() { "…" } else { "" };
    format!("{shown:?}{cut}")
}

impl fmt::Debug for ErrorReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `error: cause: cause…`: reqwest keeps the useful part (e.g. "Connection
/// refused") in the sources, not in its own message.
fn write_chain(f: &mut dyn fmt::Write, error: &reqwest::Error) -> fmt::Result {
    write!(f, "{error}")?;
    let mut source = error.source();
    while let Some(cause) = source {
        write!(f, ": {cause}")?;
        source = cause.source();
    }
    Ok(())
}
