//! What the examples share: the real API when credentials are set, a local
//! stand-in of it otherwise, so that they run on a fresh machine.

use std::process::ExitCode;

use cloudflare_secondary_dns::{Client, ConfigError, Credentials, RateLimit};
use secondary_dns_stand_in::{RateLimit as StandInPolicy, StandIn};

/// Where an example sends its requests.
pub struct Target {
    /// The client to use.
    pub client: Client,
    /// The local stand-in when there were no credentials; it serves until dropped.
    pub stand_in: Option<StandIn>,
}

/// The real API when credentials are in the environment (`Client::from_env`),
/// otherwise a fresh stand-in on 127.0.0.1, announced on stderr. With
/// `rate_limit`, the stand-in enforces it and the client paces itself to it.
pub async fn client_from_env_or_stand_in(
    rate_limit: Option<StandInPolicy>,
) -> Result<Target, ConfigError> {
    match Client::from_env() {
        Ok(client) => Ok(Target {
            client,
            stand_in: None,
        }),
        Err(ConfigError::MissingCredentials) => {
            let stand_in = match rate_limit {
                Some(policy) => StandIn::start_rate_limited(policy).await,
                None => StandIn::start().await,
            };
            eprintln!(
                "No Cloudflare credentials in the environment (CLOUDFLARE_API_TOKEN, or \
                 CLOUDFLARE_EMAIL + CLOUDFLARE_API_KEY): using a local stand-in of the API at {}",
                stand_in.uri()
            );
            let mut builder =
                Client::builder(Credentials::api_token("stand-in-token")).base_url(stand_in.uri());
            if let Some(policy) = rate_limit {
                eprintln!(
                    "The stand-in allows {} requests per {:?}, and the client keeps to that",
                    policy.limit, policy.window
                );
                builder = builder.rate_limit(RateLimit::new(policy.limit, policy.window)?);
            }
            let client = builder.build()?;
            Ok(Target {
                client,
                stand_in: Some(stand_in),
            })
        }
        Err(err) => Err(err),
    }
}

/// Says why on stderr and ends the example with a failure.
pub fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

/// The exit status of a run that did (or did not) succeed.
pub fn exit_status(succeeded: bool) -> ExitCode {
    if succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
