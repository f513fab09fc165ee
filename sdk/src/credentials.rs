//! The three ways Cloudflare authenticates an API call.

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use crate::ConfigError;

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
            token: SecretString::from(token.into()),
        }
    }

    /// An account email with its Global API Key (`X-Auth-Email` + `X-Auth-Key`).
    pub fn api_key(email: impl Into<String>, key: impl Into<String>) -> Self {
        Self::ApiKey {
            email: email.into(),
            key: SecretString::from(key.into()),
        }
    }

    /// A user service key (`X-Auth-User-Service-Key`).
    pub fn user_service_key(key: impl Into<String>) -> Self {
        Self::UserServiceKey {
            key: SecretString::from(key.into()),
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
    /// is, and [`ConfigError::EnvVarNotUnicode`] for a variable that is not UTF-8.
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
            return Ok(Self::api_token(token));
        }
        match (lookup(EMAIL_VAR)?, lookup(API_KEY_VAR)?) {
            (Some(email), Some(key)) => return Ok(Self::api_key(email, key)),
            (Some(_), None) => {
                return Err(ConfigError::IncompleteApiKey {
                    missing: API_KEY_VAR,
                });
            }
            (None, Some(_)) => return Err(ConfigError::IncompleteApiKey { missing: EMAIL_VAR }),
            (None, None) => {}
        }
        match lookup(USER_SERVICE_KEY_VAR)? {
            Some(key) => Ok(Self::user_service_key(key)),
            None => Err(ConfigError::MissingCredentials),
        }
    }

    /// The headers that carry these credentials; secrets are marked sensitive
    /// so that `Debug` of the HTTP client shows `Sensitive` instead.
    pub(crate) fn headers(&self) -> Result<HeaderMap, ConfigError> {
        let mut headers = HeaderMap::new();
        match self {
            Self::ApiToken { token } => {
                let value = format!("Bearer {}", token.expose_secret());
                headers.insert(AUTHORIZATION, sensitive(&value, "API token")?);
            }
            Self::ApiKey { email, key } => {
                let email =
                    HeaderValue::from_str(email).map_err(|_| ConfigError::InvalidCredential {
                        what: "account email",
                    })?;
                headers.insert(HeaderName::from_static("x-auth-email"), email);
                headers.insert(
                    HeaderName::from_static("x-auth-key"),
                    sensitive(key.expose_secret(), "API key")?,
                );
            }
            Self::UserServiceKey { key } => {
                headers.insert(
                    HeaderName::from_static("x-auth-user-service-key"),
                    sensitive(key.expose_secret(), "user service key")?,
                );
            }
        }
        Ok(headers)
    }
}

/// A header value marked sensitive; the error names the credential, never its value.
fn sensitive(value: &str, what: &'static str) -> Result<HeaderValue, ConfigError> {
    let mut header =
        HeaderValue::from_str(value).map_err(|_| ConfigError::InvalidCredential { what })?;
    header.set_sensitive(true);
    Ok(header)
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
    fn a_token_that_cannot_be_a_header_is_refused_without_echoing_it() {
        let err = Credentials::api_token("secret\r\nx-evil: 1")
            .headers()
            .unwrap_err();
        assert!(matches!(
            err,
            ConfigError::InvalidCredential { what: "API token" }
        ));
        assert!(!format!("{err} {err:?}").contains("secret"));
    }

    #[test]
    fn secret_headers_are_sensitive() {
        let headers = Credentials::api_key("user@example.com", "k")
            .headers()
            .unwrap();
        assert!(headers["x-auth-key"].is_sensitive());
        assert_eq!(headers["x-auth-email"], "user@example.com");
        let headers = Credentials::api_token("t").headers().unwrap();
        assert!(headers[AUTHORIZATION].is_sensitive());
        assert_eq!(headers[AUTHORIZATION], "Bearer t");
        let headers = Credentials::user_service_key("s").headers().unwrap();
        assert!(headers["x-auth-user-service-key"].is_sensitive());
    }
}
