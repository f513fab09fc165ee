//! Building a [`Client`]: credentials, base URL, timeouts and user agent.
//!
//! The generated `Client::new` has no authentication and fixed 15 s
//! timeouts; [`Client::builder`] is the way in.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::{HeaderName, HeaderValue, USER_AGENT};

use crate::redact::Secrets;
use crate::runtime::pacing::{InvalidRateLimit, Pacer, RateLimit};
use crate::runtime::retry::RetryPolicy;
use crate::runtime::{
    ClientPolicy, DEFAULT_MAX_PACING_WAIT, DEFAULT_MAX_RESPONSE_BYTES, FreshConnections,
    HttpSettings,
};
use crate::{Client, Credentials};

/// Cloudflare's API, used unless [`ClientBuilder::base_url`] or
/// `CLOUDFLARE_BASE_URL` says otherwise.
pub const DEFAULT_BASE_URL: &str = "https://api.cloudflare.com/client/v4";
/// The environment variable [`Client::from_env`] reads the base URL from.
pub const BASE_URL_VAR: &str = "CLOUDFLARE_BASE_URL";
/// Total time allowed for one request, from connecting to the last body byte.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Time allowed to open the connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// `cloudflare-secondary-dns/<version>`.
pub const DEFAULT_USER_AGENT: &str =
    concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

/// Why a client could not be configured. No variant carries a secret.
/// `Debug` is the message (what `?` out of `main` prints).
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No credentials were found in the environment.
    #[error(
        "no Cloudflare credentials: set CLOUDFLARE_API_TOKEN, or CLOUDFLARE_EMAIL and \
         CLOUDFLARE_API_KEY, or CLOUDFLARE_API_USER_SERVICE_KEY"
    )]
    MissingCredentials,
    /// Only half of the email/API key pair was set.
    #[error("CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY go together, but {missing} is not set")]
    IncompleteApiKey {
        /// The variable that is missing.
        missing: &'static str,
    },
    /// An environment variable is set but is not valid UTF-8.
    #[error("the environment variable {name} is not valid UTF-8")]
    EnvVarNotUnicode {
        /// The variable.
        name: &'static str,
    },
    /// A credential is not header text: only visible ASCII characters can be
    /// sent (surrounding whitespace is trimmed when the credential is made).
    #[error("the {what} cannot be sent in an HTTP header: it {reason}")]
    InvalidCredential {
        /// Which credential, and the variable it came from (never its value).
        what: &'static str,
        /// What is wrong with it, e.g. "contains a non-ASCII character".
        reason: &'static str,
    },
    /// The base URL could not be used.
    #[error("invalid base URL {url:?}: {reason}")]
    InvalidBaseUrl {
        /// The URL without user info, query or fragment, and with the
        /// client's credentials scrubbed: never a secret.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The user agent cannot be sent in an HTTP header.
    #[error("the user agent contains characters that cannot be sent in an HTTP header")]
    InvalidUserAgent,
    /// A default header cannot be sent, or is one the client sets itself.
    #[error("the default header {name:?} cannot be used: {reason}")]
    InvalidHeader {
        /// The header's name as given (never its value).
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The `api-version` pin is not a date.
    #[error("the api-version must be a date like 2024-08-06 (YYYY-MM-DD)")]
    InvalidApiVersion,
    /// A rate limit that cannot be paced.
    #[error(transparent)]
    InvalidRateLimit(#[from] InvalidRateLimit),
    /// The HTTP client could not be built (for example, TLS could not start).
    #[error("could not build the HTTP client")]
    HttpClient(#[source] reqwest::Error),
}

impl fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Configures a [`Client`]; made by [`Client::builder`].
#[derive(Clone, Debug)]
#[must_use]
pub struct ClientBuilder {
    credentials: Credentials,
    base_url: String,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
    retry: RetryPolicy,
    max_response_bytes: u64,
    default_headers: Vec<(String, String)>,
    api_version: Option<String>,
    root_certificates: Vec<reqwest::Certificate>,
    rate_limit: Option<RateLimit>,
    max_pacing_wait: Duration,
}

/// Headers the client sets itself besides the credentials' own, refused by
/// [`ClientBuilder::default_header`] with the reason why.
const RESERVED_HEADERS: &[(&str, &str)] = &[
    ("user-agent", "use ClientBuilder::user_agent"),
    ("api-version", "use ClientBuilder::api_version"),
    ("host", "the client sets it from the base URL"),
    ("content-length", "the client sets it from the body"),
    ("content-type", "the client sets it from the body"),
    ("transfer-encoding", "the client sets it from the body"),
    ("connection", "the connection is managed by the client"),
];

impl Client {
    /// Starts configuring a client that authenticates with `credentials`.
    pub fn builder(credentials: Credentials) -> ClientBuilder {
        ClientBuilder {
            credentials,
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            retry: RetryPolicy::default(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            default_headers: Vec::new(),
            api_version: None,
            root_certificates: Vec::new(),
            rate_limit: Some(RateLimit::CLOUDFLARE),
            max_pacing_wait: DEFAULT_MAX_PACING_WAIT,
        }
    }

    /// A client configured from the environment: credentials as
    /// [`Credentials::from_env`], the base URL from `CLOUDFLARE_BASE_URL`
    /// (default [`DEFAULT_BASE_URL`]), everything else default.
    pub fn from_env() -> Result<Client, ConfigError> {
        let mut builder = Client::builder(Credentials::from_env()?);
        match std::env::var(BASE_URL_VAR) {
            Ok(url) if !url.is_empty() => builder = builder.base_url(url),
            Ok(_) | Err(std::env::VarError::NotPresent) => {}
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(ConfigError::EnvVarNotUnicode { name: BASE_URL_VAR });
            }
        }
        builder.build()
    }
}

impl ClientBuilder {
    /// The API root, e.g. `https://api.cloudflare.com/client/v4`. Plain
    /// `http://` is accepted only for loopback hosts (local test servers), so
    /// credentials never cross a network in clear text.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// How many times a failed request is retried after its first attempt
    /// (default 2; 0 disables retrying). Connection errors, timeouts and the
    /// statuses 408, 409, 429 and 5xx are retried; see [`RetryPolicy`].
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.retry.max_retries = max_retries;
        self
    }

    /// The delay before the first retry (default 0.5 s, doubled for each
    /// further one) and the longest computed delay (default 8 s): the n-th
    /// retry waits `min(initial · 2ⁿ, max)`, so an `initial` longer than
    /// `max` waits `max`. A server's `retry-after` of up to 60 s is used instead.
    pub fn retry_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.retry.initial_backoff = initial;
        self.retry.max_backoff = max;
        self
    }

    /// Total time allowed for one attempt of a request (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Time allowed to open a connection (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The largest response body the client reads (default 16 MiB). A larger
    /// `Content-Length` fails before the body is read; a body that grows past
    /// it fails as soon as it does, never holding more than the limit plus one
    /// network chunk. Either way the error is
    /// [`ErrorKind::ResponseTooLarge`](crate::ErrorKind::ResponseTooLarge),
    /// and is not retried.
    pub fn max_response_bytes(mut self, max_response_bytes: u64) -> Self {
        self.max_response_bytes = max_response_bytes;
        self
    }

    /// The `User-Agent` header (default `cloudflare-secondary-dns/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// A header sent with every request, e.g. a tracing or team header.
    /// Setting a name again replaces its value. The headers the client sets
    /// itself are refused by [`build`](Self::build): the credentials'
    /// (`Authorization`, `X-Auth-*`), `User-Agent` and `api-version` (they
    /// have their own settings) and the framing headers (`Host`,
    /// `Content-Length`, `Content-Type`, `Transfer-Encoding`, `Connection`).
    /// A value must be visible ASCII (spaces and tabs allowed): anything else
    /// (`ü`, a bidi control) is refused by `build`, never sent as obs-text.
    /// Values are marked sensitive, so they never appear in `Debug` output.
    pub fn default_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.default_headers
            .retain(|(known, _)| !known.eq_ignore_ascii_case(&name));
        self.default_headers.push((name, value.into()));
        self
    }

    /// Pins the API version: every request carries `api-version: <date>`, as
    /// Cloudflare's official SDKs send (they send the date the client was
    /// made). By default no `api-version` header is sent. `build` refuses a
    /// value that is not a real `YYYY-MM-DD` date (`2024-02-30` is refused).
    pub fn api_version(mut self, date: impl Into<String>) -> Self {
        self.api_version = Some(date.into());
        self
    }

    /// Trusts `certificate` as a root, besides the platform's roots: for a
    /// TLS-inspecting proxy, or a local server with its own certificate.
    pub fn add_root_certificate(mut self, certificate: reqwest::Certificate) -> Self {
        self.root_certificates.push(certificate);
        self
    }

    /// The rate limit the client paces itself to (default
    /// [`RateLimit::CLOUDFLARE`], 1,200 requests per 5 minutes): for an
    /// account whose limit Cloudflare raised, or a lower share when other
    /// tools use the same user. The client and all its clones share one
    /// pacer; separate clients do not. See [`RateLimit`] for how the pace
    /// follows from the limit.
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// No pacing: requests go out as soon as they are made, as with
    /// Cloudflare's official SDKs (a 429 is then only retried, and a
    /// lockout fails the calls that meet it).
    pub fn no_rate_limit(mut self) -> Self {
        self.rate_limit = None;
        self
    }

    /// The longest a call waits for the pacer (default 60 s,
    /// [`DEFAULT_MAX_PACING_WAIT`](crate::DEFAULT_MAX_PACING_WAIT)): its turn
    /// under the rate limit, or a pause every request keeps after a 429 or
    /// a `Ratelimit` that says none remain. A call whose turn is further away
    /// fails at once, unsent, with
    /// [`ErrorKind::RateLimited`](crate::ErrorKind::RateLimited) and the time
    /// to come back; `Duration::MAX` waits however long it takes. Per call:
    /// [`CallOptions::max_pacing_wait`](crate::CallOptions::max_pacing_wait).
    pub fn max_pacing_wait(mut self, max_wait: Duration) -> Self {
        self.max_pacing_wait = max_wait;
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the setting that cannot be used.
    pub fn build(self) -> Result<Client, ConfigError> {
        let secrets = self.credentials.secrets();
        let base_url = checked_base_url(&self.base_url, &secrets)?;
        let mut headers = self.credentials.headers()?;
        let user_agent =
            HeaderValue::from_str(&self.user_agent).map_err(|_| ConfigError::InvalidUserAgent)?;
        headers.insert(USER_AGENT, user_agent);
        for (name, value) in &self.default_headers {
            let (name, value) = checked_header(name, value)?;
            headers.insert(name, value);
        }
        let api_version = self
            .api_version
            .as_deref()
            .map(checked_api_version)
            .transpose()?;
        let settings = HttpSettings {
            headers,
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
            root_certificates: self.root_certificates,
        };
        let http = settings
            .client_builder()
            .build()
            .map_err(ConfigError::HttpClient)?;
        let policy = ClientPolicy {
            retry: self.retry,
            max_response_bytes: self.max_response_bytes,
            api_version,
            timeout: None,
            secrets,
            fresh_connections: Some(Arc::new(FreshConnections::new(settings))),
            pacer: self.rate_limit.map(|limit| Arc::new(Pacer::new(limit))),
            max_pacing_wait: self.max_pacing_wait,
        };
        Ok(Client::new_with_client(&base_url, http, policy))
    }
}

fn checked_header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), ConfigError> {
    let invalid = |reason| ConfigError::InvalidHeader {
        name: name.to_owned(),
        reason,
    };
    let parsed =
        HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid("not a valid header name"))?;
    if Credentials::HEADER_NAMES.contains(&parsed) {
        return Err(invalid("credentials are set with Credentials"));
    }
    if let Some((_, reason)) = RESERVED_HEADERS
        .iter()
        .find(|(reserved, _)| parsed.as_str() == *reserved)
    {
        return Err(invalid(reason));
    }
    // `HeaderValue` also takes bytes above 0x7F (obs-text), which servers
    // read in different ways: only visible ASCII, spaces and tabs are sent.
    let not_text = || invalid("its value is not visible ASCII text");
    if !value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
    {
        return Err(not_text());
    }
    let mut value = HeaderValue::from_str(value).map_err(|_| not_text())?;
    value.set_sensitive(true);
    Ok((parsed, value))
}

fn checked_api_version(date: &str) -> Result<HeaderValue, ConfigError> {
    let bytes = date.as_bytes();
    let shape = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape {
        return Err(ConfigError::InvalidApiVersion);
    }
    // A real calendar date (proleptic Gregorian), not only its shape.
    let number = |range: std::ops::Range<usize>| -> u32 {
        date[range].parse().expect("digits, checked above")
    };
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(ConfigError::InvalidApiVersion),
    };
    if year == 0 || day == 0 || day > days_in_month {
        return Err(ConfigError::InvalidApiVersion);
    }
    HeaderValue::from_str(date).map_err(|_| ConfigError::InvalidApiVersion)
}

/// Checks the base URL and returns it without a trailing slash (the
/// generated code appends `/accounts/...`). Errors show the URL without its
/// user info, query or fragment and scrubbed of `secrets`: a token pasted
/// into the URL by mistake is never echoed.
fn checked_base_url(raw: &str, secrets: &Secrets) -> Result<String, ConfigError> {
    let invalid = |shown: &str, reason| ConfigError::InvalidBaseUrl {
        url: secrets.scrub_str(shown).into_owned(),
        reason,
    };
    let Ok(url) = Url::parse(raw) else {
        return Err(invalid(&shown_unparsed(raw), "not an absolute URL"));
    };
    let shown = {
        let mut shown = url.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        shown.set_query(None);
        shown.set_fragment(None);
        shown.to_string()
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            &shown,
            "credentials in the URL are not allowed; use Credentials",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(&shown, "a query or fragment is not allowed"));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(invalid(
                &shown,
                "plain http is allowed only for loopback hosts; use https",
            ));
        }
        _ => return Err(invalid(&shown, "the scheme must be https")),
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// What can safely be shown of a base URL that does not parse: anything up to
/// an `@` may be user info, anything from `?` or `#` a query or fragment.
fn shown_unparsed(raw: &str) -> String {
    let raw = raw.split(['?', '#']).next().unwrap_or_default();
    match raw.rfind('@') {
        Some(at) => {
            let scheme = raw.find("://").map_or("", |end| &raw[..end + 3]);
            format!("{scheme}…@{}", &raw[at + 1..])
        }
        None => raw.to_owned(),
    }
}

fn is_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        let ok = |raw: &str| checked_base_url(raw, &Secrets::default()).unwrap();
        assert_eq!(
            ok("https://api.cloudflare.com/client/v4/"),
            "https://api.cloudflare.com/client/v4"
        );
        assert_eq!(ok("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(ok("http://127.3.4.5:1/v4"), "http://127.3.4.5:1/v4");
        assert_eq!(ok("http://[::1]:8080/"), "http://[::1]:8080");
        assert_eq!(ok("http://localhost:9"), "http://localhost:9");

        let reason = |raw: &str| match checked_base_url(raw, &Secrets::default()).unwrap_err() {
            ConfigError::InvalidBaseUrl { reason, .. } => reason,
            other => panic!("{other:?}"),
        };
        assert!(reason("http://api.cloudflare.com/client/v4").contains("loopback"));
        assert!(reason("http://10.0.0.1").contains("loopback"));
        assert!(reason("http://localhost.evil.example").contains("loopback"));
        assert!(reason("ftp://127.0.0.1").contains("scheme"));
        assert!(reason("api.cloudflare.com").contains("absolute"));
        assert!(reason("").contains("absolute"));
        assert!(reason("https://h/v4?x=1").contains("query"));
    }

    #[test]
    fn default_headers_the_client_sets_itself_are_refused() {
        for name in [
            "Authorization",
            "x-auth-key",
            "X-Auth-Email",
            "user-agent",
            "API-Version",
            "host",
        ] {
            let err = checked_header(name, "v").unwrap_err();
            assert!(
                matches!(&err, ConfigError::InvalidHeader { name: shown, .. } if shown == name),
                "{err:?}"
            );
        }
        assert!(checked_header("x-team", "dns").is_ok());
        let err = checked_header("bad name", "v").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the default header \"bad name\" cannot be used: not a valid header name"
        );
        let err = checked_header("x-team", "line\nbreak-hunter2").unwrap_err();
        assert!(!format!("{err} {err:?}").contains("hunter2"), "{err:?}");
        assert!(checked_header("x-team", "dns ops\tteam ~!").is_ok());
        for value in ["hünter2", "\u{202e}hunter2", "hunter2\u{7f}"] {
            let err = checked_header("x-team", value).unwrap_err();
            assert_eq!(
                err.to_string(),
                "the default header \"x-team\" cannot be used: its value is not visible ASCII text"
            );
        }
    }

    #[test]
    fn api_versions_are_dates() {
        for good in [
            "2024-08-06",
            "2024-02-29",
            "2000-02-29",
            "2023-12-31",
            "0001-01-01",
        ] {
            assert!(checked_api_version(good).is_ok(), "{good}");
        }
        for bad in [
            "2024-02-30",
            "2023-02-29",
            "1900-02-29",
            "2024-13-01",
            "2024-04-31",
            "2024-01-00",
            "0000-00-00",
            "0000-01-01",
            "9999-99-99",
            "",
            "2024-8-6",
            "2024/08/06",
            "20240806",
            "2024-08-06x",
            "v4",
        ] {
            assert!(checked_api_version(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn user_info_in_the_base_url_is_refused_and_never_echoed() {
        let secrets = Secrets::new(["tok3n-in-the-path"]);
        for raw in [
            "https://user:hunter2@api.cloudflare.com",
            "https://hunter2@api.cloudflare.com/client/v4",
            "https://hunter2:@api.cloudflare.com",
            "hunter2@api.cloudflare.com",
            "https://hunter2@",
            "https://api.cloudflare.com/v4?token=hunter2",
            "https://api.cloudflare.com/v4#hunter2",
            "http://api.cloudflare.com/tok3n-in-the-path",
        ] {
            let err = checked_base_url(raw, &secrets).unwrap_err();
            let text = format!("{err} {err:?}");
            assert!(!text.contains("hunter2"), "{raw}: {text}");
            assert!(!text.contains("tok3n"), "{raw}: {text}");
        }
        let err = checked_base_url("https://hunter2@api.cloudflare.com/x", &secrets).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid base URL \"https://api.cloudflare.com/x\": credentials in the URL are not \
             allowed; use Credentials"
        );
    }
}
