//! Readable errors: every operation returns [`ApiError`]; [`ErrorExt`] lists
//! Cloudflare's `code: message` pairs and writes one clear line per failure.

use std::error::Error as _;
use std::fmt;

use crate::{Error, types};

/// The error every operation returns: progenitor's [`Error`] carrying
/// Cloudflare's failure envelope for 4XX and 5XX responses.
pub type ApiError = Error<types::ApiResponseCommonFailure>;

/// How much of a body that is not the expected JSON a report shows.
const BODY_PREVIEW_CHARS: usize = 200;

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

/// Helpers on [`ApiError`].
pub trait ErrorExt {
    /// The `errors` of Cloudflare's failure envelope; empty when the failure
    /// did not come with one (network errors, invalid requests, non-JSON bodies).
    fn cloudflare_errors(&self) -> &[types::ResponseInfo];

    /// A one-line description for people: what failed, the HTTP status, and
    /// each Cloudflare `code: message`.
    fn report(&self) -> ErrorReport<'_>;
}

impl ErrorExt for ApiError {
    fn cloudflare_errors(&self) -> &[types::ResponseInfo] {
        match self {
            Error::ErrorResponse(response) => &response.errors,
            _ => &[],
        }
    }

    fn report(&self) -> ErrorReport<'_> {
        ErrorReport(self)
    }
}

/// The readable form of an [`ApiError`], from [`ErrorExt::report`].
pub struct ErrorReport<'a>(&'a ApiError);

impl fmt::Display for ErrorReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Error::ErrorResponse(response) => {
                write!(
                    f,
                    "Cloudflare API error, HTTP {}: {}",
                    response.status(),
                    response.as_ref()
                )
            }
            Error::InvalidRequest(reason) => {
                write!(f, "invalid request, nothing was sent: {reason}")
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
                write_chain(f, e)
            }
            Error::ResponseBodyError(e) => {
                f.write_str("the response body could not be read: ")?;
                write_chain(f, e)
            }
            Error::InvalidResponsePayload(body, e) => {
                let text = String::from_utf8_lossy(body);
                let preview: String = text.chars().take(BODY_PREVIEW_CHARS).collect();
                let cut = if preview.len() < text.len() {
                    "…"
                } else {
                    ""
                };
                write!(
                    f,
                    "the response is not the JSON this API describes ({e}); body ({} bytes): {preview:?}{cut}",
                    body.len()
                )
            }
            Error::UnexpectedResponse(response) => {
                write!(
                    f,
                    "unexpected response: HTTP {} from {}",
                    response.status(),
                    response.url()
                )
            }
            Error::InvalidUpgrade(e) => {
                f.write_str("invalid response upgrade: ")?;
                write_chain(f, e)
            }
            Error::Custom(message) => f.write_str(message),
        }
    }
}

impl fmt::Debug for ErrorReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `error: cause: cause…`: reqwest keeps the useful part (e.g. "Connection
/// refused") in the sources, not in its own message.
fn write_chain(f: &mut fmt::Formatter<'_>, error: &reqwest::Error) -> fmt::Result {
    write!(f, "{error}")?;
    let mut source = error.source();
    while let Some(cause) = source {
        write!(f, ": {cause}")?;
        source = cause.source();
    }
    Ok(())
}
