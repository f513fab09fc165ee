//! How many attempts a request took, recorded where the caller's error can
//! read it back. The bottom of the runtime: it imports nothing of it.

use reqwest::Url;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// Response header in which the client records how many attempts a request
/// took, when it took more than one. The client sets it; a server's own
/// header of that name is dropped, so no server can forge the count.
pub const ATTEMPTS_HEADER: &str = "x-sdk-attempts";

/// [`ATTEMPTS_HEADER`] as a header name: looked up on every response, and a
/// `&str` would be parsed each time.
pub(crate) const ATTEMPTS: HeaderName = HeaderName::from_static(ATTEMPTS_HEADER);

/// Replaces any `x-sdk-attempts` a server sent with the client's count
/// (absent when the request took one attempt).
pub(crate) fn record_in_headers(headers: &mut HeaderMap, attempts: u32) {
    headers.remove(ATTEMPTS);
    if attempts > 1 {
        headers.insert(ATTEMPTS, HeaderValue::from(attempts));
    }
}

/// Records the attempts in the error's URL fragment (`#attempts=3`): a
/// `reqwest::Error` has no other place for it. The URL is the one the client
/// built (base URLs with a fragment are refused, redirects are not
/// followed), so the fragment is the client's alone.
pub(crate) fn record_in_error(mut error: reqwest::Error, attempts: u32) -> reqwest::Error {
    if attempts > 1
        && let Some(url) = error.url_mut()
    {
        url.set_fragment(Some(&format!("attempts={attempts}")));
    }
    error
}

/// The attempts recorded by the runtime: the response header, or the URL
/// fragment of a transport error; 1 when neither is there.
pub(crate) fn recorded_attempts(headers: Option<&HeaderMap>, url: Option<&Url>) -> u32 {
    let from_header = headers
        .and_then(|h| h.get(ATTEMPTS))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let from_fragment = url
        .and_then(Url::fragment)
        .and_then(|f| f.strip_prefix("attempts="))
        .and_then(|n| n.parse().ok());
    from_header.or(from_fragment).unwrap_or(1)
}
