//! The three ways Cloudflare authenticates an API call.

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};

const X_AUTH_EMAIL: HeaderName = HeaderName::from_static("x-auth-email");
const X_AUTH_KEY: HeaderName = HeaderName::from_static("x-auth-key");
const X_AUTH_USER_SERVICE_KEY: HeaderName = HeaderName::from_static("x-auth-user-service-key");
use secrecy::{ExposeSecret, SecretString};

use crate::ConfigError;
use crate::redact::Secrets;

/// Environment variables read by [`Credentials::from_env`], in the order they are tried.
pub const API_TOKEN_VAR: &str = "CLOUDFLARE_API_TOKEN";
/// The account email that goes with [`API_KEY_VAR`].
pub const EMAIL_VAR: &str = "CLOUDFLARE_EMAIL";
/// The Global API Key that goes with [`EMAIL_VAR`].
pub const API_KEY_VAR: &str = "CLOUDFLARE_API_KEY";
/// An Origin CA user service key.
pub const USER_SERVICE_KEY_VAR: &str = "CLOUDFLARE_API_USER_SERVICE_KEY";

/// How requests authenticate. Secrets are held as [`SecretString`]: they
/// print as `[REDACTED]` in `Debug` and are sent as sensitive headers.
///
/// Surrounding whitespace is trimmed when credentials are made (a token
/// pasted with its newline works); anything else that is not visible ASCII
/// (a space inside, a control character, `ö`, smart quotes) is refused by
/// [`ClientBuilder::build`](crate::ClientBuilder::build) and
/// [`Credentials::from_env`] with a [`ConfigError::InvalidCredential`] that
/// names the credential and never shows it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Credentials {
    /// An API token, sent as `Authorization: Bearer <token>` (recommended).
    ApiToken {
        /// The token.
        token: SecretString,
    },
    /// The account email and Global API Key, sent as `X-Auth-Email` and `X-Auth-Key`.
    ApiKey {
        /// The account email.
        email: String,
        /// The Global API Key.
        key: SecretString,
    },
    /// A user service key, sent as `X-Auth-User-Service-Key`. Cloudflare
    /// accepts it only on a few endpoints (Origin CA); prefer an API token.
    UserServiceKey {
        /// The key.
        key: SecretString,
    },
}

impl Credentials {
    /// An API token (`Authorization: Bearer …`).
    pub fn api_token(token: impl Into<String>) -> Self {
        Self::ApiToken {
            token: trimmed_secret(token.into()),
        }
    }

    /// An account email with its Global API Key (`X-Auth-Email` + `X-Auth-Key`).
    pub fn api_key(email: impl Into<String>, key: impl Into<String>) -> Self {
        let mut email = email.into();
        trim_in_place(&mut email);
        Self::ApiKey {
            email,
            key: trimmed_secret(key.into()),
        }
    }

    /// A user service key (`X-Auth-User-Service-Key`).
    pub fn user_service_key(key: impl Into<String>) -> Self {
        Self::UserServiceKey {
            key: trimmed_secret(key.into()),
        }
    }

    /// Reads credentials from the environment, as Cloudflare's official SDKs
    /// do: `CLOUDFLARE_API_TOKEN`, else `CLOUDFLARE_EMAIL` with
    /// `CLOUDFLARE_API_KEY`, else `CLOUDFLARE_API_USER_SERVICE_KEY`. Empty
    /// variables count as unset.
    ///
    /// # Errors
    /// [`ConfigError::MissingCredentials`] when none is set,
    /// [`ConfigError::IncompleteApiKey`] when only one of the email/key pair
    /// is, [`ConfigError::EnvVarNotUnicode`] for a variable that is not UTF-8,
    /// and [`ConfigError::InvalidCredential`] for a value that is not header text.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| match std::env::var(name) {
            Ok(value) if value.is_empty() => Ok(None),
            Ok(value) => Ok(Some(value)),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError::EnvVarNotUnicode { name }),
        })
    }

    fn from_lookup(
        lookup: impl Fn(&'static str) -> Result<Option<String>, ConfigError>,
    ) -> Result<Self, ConfigError> {
        if let Some(token) = lookup(API_TOKEN_VAR)? {
            return Self::api_token(token).validated(true);
        }
        match (lookup(EMAIL_VAR)?, lookup(API_KEY_VAR)?) {
            (Some(email), Some(key)) => return Self::api_key(email, key).validated(true),
            (Some(_), None) => {
                return Err(ConfigError::IncompleteApiKey {
                    missing: API_KEY_VAR,
                });
            }
            (None, Some(_)) => return Err(ConfigError::IncompleteApiKey { missing: EMAIL_VAR }),
            (None, None) => {}
        }
        match lookup(USER_SERVICE_KEY_VAR)? {
            Some(key) => Self::user_service_key(key).validated(true),
            None => Err(ConfigError::MissingCredentials),
        }
    }

    /// These credentials, if every value can be sent as header text.
    fn validated(self, from_env: bool) -> Result<Self, ConfigError> {
        let invalid = |what: [&'static str; 2], reason| ConfigError::InvalidCredential {
            what: what[usize::from(from_env)],
            reason,
        };
        match &self {
            Self::ApiToken { token } => header_text(token.expose_secret())
                .map_err(|r| invalid(["API token", "API token in CLOUDFLARE_API_TOKEN"], r))?,
            Self::ApiKey { email, key } => {
                header_text(email).map_err(|r| {
                    invalid(["account email", "account email in CLOUDFLARE_EMAIL"], r)
                })?;
                header_text(key.expose_secret())
                    .map_err(|r| invalid(["API key", "API key in CLOUDFLARE_API_KEY"], r))?;
            }
            Self::UserServiceKey { key } => header_text(key.expose_secret()).map_err(|r| {
                invalid(
                    [
                        "user service key",
                        "user service key in CLOUDFLARE_API_USER_SERVICE_KEY",
                    ],
                    r,
                )
            })?,
        }
        Ok(self)
    }

    /// The secret values, for scrubbing from error text.
    pub(crate) fn secrets(&self) -> Secrets {
        match self {
            Self::ApiToken { token } => Secrets::new([token.expose_secret()]),
            Self::ApiKey { key, .. } => Secrets::new([key.expose_secret()]),
            Self::UserServiceKey { key } => Secrets::new([key.expose_secret()]),
        }
    }

    /// The header names any credentials may use: a default header may not
    /// set them (`ClientBuilder::default_header`).
    pub(crate) const HEADER_NAMES: [HeaderName; 4] = [
        AUTHORIZATION,
        X_AUTH_EMAIL,
        X_AUTH_KEY,
        X_AUTH_USER_SERVICE_KEY,
    ];

    /// The headers that carry these credentials; secrets are marked sensitive
    /// so that `Debug` of the HTTP client shows `Sensitive` instead.
    pub(crate) fn headers(&self) -> Result<HeaderMap, ConfigError> {
        let mut headers = HeaderMap::new();
        match self.clone().validated(false)? {
            Self::ApiToken { token } => {
                let value = format!("Bearer {}", token.expose_secret());
                headers.insert(AUTHORIZATION, sensitive(&value));
            }
            Self::ApiKey { email, key } => {
                headers.insert(X_AUTH_EMAIL, sensitive(&email));
                headers.insert(X_AUTH_KEY, sensitive(key.expose_secret()));
            }
            Self::UserServiceKey { key } => {
                headers.insert(X_AUTH_USER_SERVICE_KEY, sensitive(key.expose_secret()));
            }
        }
        Ok(headers)
    }
}

/// Why `value` cannot be a credential header, if it cannot: HTTP allows more
/// (obs-text bytes), but Cloudflare's credentials are visible ASCII, and
/// anything else is a paste or encoding mistake better caught here than as a 400.
fn header_text(value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        Err("is empty")
    } else if !value.is_ascii() {
        Err("contains a non-ASCII character")
    } else if !value.bytes().all(|b| b.is_ascii_graphic()) {
        Err("contains a space or a control character")
    } else {
        Ok(())
    }
}

/// A header value marked sensitive, from text that [`header_text`] accepted.
fn sensitive(value: &str) -> HeaderValue {
    let mut header = HeaderValue::from_str(value).expect("visible ASCII is a valid header value");
    header.set_sensitive(true);
    header
}

/// Trims surrounding whitespace without copying the secret.
fn trim_in_place(value: &mut String) {
    value.truncate(value.trim_end().len());
    let leading = value.len() - value.trim_start().len();
    value.drain(..leading);
}

fn trimmed_secret(mut value: String) -> SecretString {
    trim_in_place(&mut value);
    SecretString::from(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_vars(vars: &[(&str, &str)]) -> Result<Credentials, ConfigError> {
        Credentials::from_lookup(|name| {
            Ok(vars
                .iter()
                .find(|(n, v)| *n == name && !v.is_empty())
                .map(|(_, v)| v.to_string()))
        })
    }

    #[test]
    fn token_wins_over_the_other_styles() {
        let creds = from_vars(&[
            (USER_SERVICE_KEY_VAR, "service"),
            (EMAIL_VAR, "user@example.com"),
            (API_KEY_VAR, "key"),
            (API_TOKEN_VAR, "token"),
        ])
        .unwrap();
        assert!(
            matches!(creds, Credentials::ApiToken { token } if token.expose_secret() == "token")
        );
    }

    #[test]
    fn email_and_key_come_before_the_service_key() {
        let creds = from_vars(&[
            (USER_SERVICE_KEY_VAR, "service"),
            (EMAIL_VAR, "user@example.com"),
            (API_KEY_VAR, "key"),
        ])
        .unwrap();
        assert!(matches!(creds, Credentials::ApiKey { email, key }
            if email == "user@example.com" && key.expose_secret() == "key"));
        let creds = from_vars(&[(USER_SERVICE_KEY_VAR, "service")]).unwrap();
        assert!(
            matches!(creds, Credentials::UserServiceKey { key } if key.expose_secret() == "service")
        );
    }

    #[test]
    fn half_an_api_key_pair_names_the_missing_variable() {
        let err = from_vars(&[(EMAIL_VAR, "user@example.com")]).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::IncompleteApiKey {
                missing: API_KEY_VAR
            }
        ));
        let err = from_vars(&[(API_KEY_VAR, "key"), (USER_SERVICE_KEY_VAR, "s")]).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::IncompleteApiKey { missing: EMAIL_VAR }
        ));
        assert!(err.to_string().contains("CLOUDFLARE_EMAIL"), "{err}");
    }

    #[test]
    fn nothing_set_names_every_variable() {
        let err = from_vars(&[(API_TOKEN_VAR, "")]).unwrap_err();
        assert!(matches!(err, ConfigError::MissingCredentials));
        let message = err.to_string();
        for var in [API_TOKEN_VAR, EMAIL_VAR, API_KEY_VAR, USER_SERVICE_KEY_VAR] {
            assert!(message.contains(var), "{var} missing from: {message}");
        }
    }

    #[test]
    fn a_credential_that_is_not_header_text_is_refused_without_echoing_it() {
        let cases = [
            (
                Credentials::api_token("s3cret\r\nx-evil: 1"),
                "API token",
                "space or a control",
            ),
            (
                Credentials::api_token("t\u{f6}k3n"),
                "API token",
                "non-ASCII",
            ),
            (
                Credentials::api_token("\u{201c}s3cret\u{201d}"),
                "API token",
                "non-ASCII",
            ),
            (
                Credentials::api_token("s3 cret"),
                "API token",
                "space or a control",
            ),
            (Credentials::api_token(" \n"), "API token", "empty"),
            (
                Credentials::api_key("j\u{f6}rg@example.com", "k3y"),
                "account email",
                "non-ASCII",
            ),
            (
                Credentials::api_key("a@example.com", "s3\tcret"),
                "API key",
                "control",
            ),
            (
                Credentials::user_service_key("s3\u{0}"),
                "user service key",
                "control",
            ),
        ];
        for (credentials, what, reason) in cases {
            let err = credentials.headers().unwrap_err();
            let text = format!("{err} {err:?}");
            assert!(
                matches!(&err, ConfigError::InvalidCredential { what: w, reason: r }
                    if *w == what && r.contains(reason)),
                "{text}"
            );
            assert!(!text.contains("s3") && !text.contains("k3"), "{text}");
        }
    }

    #[test]
    fn surrounding_whitespace_is_trimmed() {
        let headers = Credentials::api_token("  t0ken\r\n").headers().unwrap();
        assert_eq!(headers[AUTHORIZATION], "Bearer t0ken");
        let headers = Credentials::api_key(" a@example.com\n", "\tk3y ")
            .headers()
            .unwrap();
        assert_eq!(headers["x-auth-email"], "a@example.com");
        assert_eq!(headers["x-auth-key"], "k3y");
    }

    #[test]
    fn from_env_refuses_a_bad_value_and_names_the_variable() {
        let err = from_vars(&[(API_TOKEN_VAR, "t\u{f6}k")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the API token in CLOUDFLARE_API_TOKEN cannot be sent in an HTTP header: \
             it contains a non-ASCII character"
        );
        let err = from_vars(&[(EMAIL_VAR, "a@example.com"), (API_KEY_VAR, "k\u{0}")]).unwrap_err();
        assert!(err.to_string().contains("CLOUDFLARE_API_KEY"), "{err}");
    }

    #[test]
    fn secret_headers_are_sensitive() {
        let headers = Credentials::api_key("user@example.com", "k")
            .headers()
            .unwrap();
        assert!(headers["x-auth-key"].is_sensitive());
        assert_eq!(headers["x-auth-email"], "user@example.com");
        // The email identifies the account: kept out of Debug output too.
        assert!(headers["x-auth-email"].is_sensitive());
        let headers = Credentials::api_token("t").headers().unwrap();
        assert!(headers[AUTHORIZATION].is_sensitive());
        assert_eq!(headers[AUTHORIZATION], "Bearer t");
        let headers = Credentials::user_service_key("s").headers().unwrap();
        assert!(headers["x-auth-user-service-key"].is_sensitive());
    }
}
