//! What a response says about the server's rate limit: `Ratelimit`
//! (`"default";r=50;t=30`: requests remaining, seconds until the window
//! resets; the IETF httpapi rate-limit-headers draft, an RFC 9651 list read
//! with `sfv`), and for a 429 its `Retry-After`. Anything malformed or
//! out of range is ignored, never trusted: a negative, fractional or garbage
//! value, an item without both parameters, a header over 1 KiB.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName};

use super::retry::server_delay;

/// The longest `Ratelimit` value read; Cloudflare's is about 30 bytes.
const MAX_HEADER_BYTES: usize = 1024;

/// Read on every response: a name, not a `&str` parsed each time.
const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// The server's word on its rate limit, from one response.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ServerSignal {
    /// The most restrictive `Ratelimit` item: fewest requests remaining.
    pub(crate) remaining: Option<Remaining>,
    /// The response was a 429.
    pub(crate) too_many_requests: bool,
    /// The delay a 429 asked for (`retry-after-ms` or `retry-after`).
    pub(crate) retry_after: Option<Duration>,
}

/// `r` and `t` of one `Ratelimit` item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Remaining {
    pub(crate) requests: u64,
    /// Whole seconds, rounded up: the reset lies in `(reset − 1 s, reset]`.
    pub(crate) reset: Duration,
}

pub(crate) fn read(status: StatusCode, headers: &HeaderMap) -> ServerSignal {
    let too_many_requests = status == StatusCode::TOO_MANY_REQUESTS;
    ServerSignal {
        remaining: headers
            .get_all(RATELIMIT)
            .iter()
            .filter_map(|value| parse_ratelimit(value.as_bytes()))
            .min_by_key(|remaining| remaining.requests),
        too_many_requests,
        retry_after: too_many_requests
            .then(|| server_delay(headers, SystemTime::now()))
            .flatten(),
    }
}

/// The item of a `Ratelimit` list with the fewest requests remaining.
fn parse_ratelimit(value: &[u8]) -> Option<Remaining> {
    if value.len() > MAX_HEADER_BYTES {
        return None;
    }
    let list: sfv::List = sfv::Parser::new(value).parse().ok()?;
    list.iter()
        .filter_map(|entry| match entry {
            sfv::ListEntry::Item(item) => {
                let number = |key: &str| {
                    let value = i64::from(item.params.get(key)?.as_integer()?);
                    u64::try_from(value).ok()
                };
                Some(Remaining {
                    requests: number("r")?,
                    reset: Duration::from_secs(number("t")?),
                })
            }
            sfv::ListEntry::InnerList(_) => None,
        })
        .min_by_key(|remaining| remaining.requests)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remaining(value: &str) -> Option<(u64, u64)> {
        parse_ratelimit(value.as_bytes()).map(|r| (r.requests, r.reset.as_secs()))
    }

    #[test]
    fn cloudflare_s_header_and_hostile_ones() {
        assert_eq!(remaining(r#""default";r=50;t=30"#), Some((50, 30)));
        assert_eq!(remaining(r#"default;r=0;t=2"#), Some((0, 2)));
        // Several policies: the one with the fewest requests left.
        assert_eq!(
            remaining(r#""burst";r=90;t=10, "default";r=7;t=200"#),
            Some((7, 200))
        );
        // Largest integer RFC 9651 allows: read, then bounded by the pacer.
        assert_eq!(
            remaining(r#""default";r=999999999999999;t=999999999999999"#),
            Some((999_999_999_999_999, 999_999_999_999_999))
        );
        for hostile in [
            r#""default";r=-1;t=30"#,
            r#""default";r=5;t=-30"#,
            r#""default";r=5.5;t=30"#,
            r#""default";r=5;t=3.5"#,
            r#""default";r=5"#,
            r#""default";t=5"#,
            r#""default";r="5";t=5"#,
            r#""default";r=9999999999999999;t=5"#,
            "garbage ;;; r=5",
            "",
            r#"("a" "b");r=1;t=1"#,
        ] {
            assert_eq!(remaining(hostile), None, "{hostile}");
        }
        let long = format!(r#""default";r=1;t=1, {}"#, "a".repeat(MAX_HEADER_BYTES));
        assert_eq!(remaining(&long), None);
    }

    #[test]
    fn retry_after_only_with_a_429() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "7".parse().unwrap());
        headers.insert("ratelimit", r#""default";r=0;t=7"#.parse().unwrap());
        let limited = read(StatusCode::TOO_MANY_REQUESTS, &headers);
        assert!(limited.too_many_requests);
        assert_eq!(limited.retry_after, Some(Duration::from_secs(7)));
        assert_eq!(limited.remaining.map(|r| r.requests), Some(0));
        let ok = read(StatusCode::OK, &headers);
        assert_eq!((ok.too_many_requests, ok.retry_after), (false, None));
    }
}
