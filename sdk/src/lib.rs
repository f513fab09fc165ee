#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
compile_error!(
    "cloudflare-secondary-dns needs a TLS implementation: enable the `rustls` feature (a default) \
     or `native-tls`"
);

// First, so that the `Client` page lists its constructors (`builder`,
// `from_env`) before the generated methods.
mod config;

// Generated from openapi/ by `cargo xtask generate`; never edited by hand.
// Lints are relaxed here only: the code is progenitor's, not ours.
#[rustfmt::skip]
#[allow(missing_docs, unused_imports, clippy::all, clippy::pedantic)]
mod generated;

pub mod const_bool;
mod credentials;
pub mod envelope;
mod error;
pub mod extras;
pub mod ids;
mod ip_range;
mod options;
mod peer_ip;
mod redact;
mod response_fixups;
mod runtime;
#[cfg(feature = "schemars")]
mod schema;
pub mod secret;
mod status;
mod timestamp;
mod zone;

pub use config::{
    BASE_URL_VAR, ClientBuilder, ConfigError, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_TIMEOUT, DEFAULT_USER_AGENT,
};
pub use credentials::{API_KEY_VAR, API_TOKEN_VAR, Credentials, EMAIL_VAR, USER_SERVICE_KEY_VAR};
pub use envelope::{Envelope, ResponseExt};
pub use error::{ApiError, ErrorKind, ErrorReport, RawError};
pub use extras::waiters::WaitError;
pub use generated::*;
pub use ids::{
    AccountIdentifier, AclIdentifier, InvalidIdentifier, PeerIdentifier, TsigIdentifier,
    ZoneIdentifier,
};
pub use ip_range::{InvalidIpRange, IpRange, MIN_IPV4_PREFIX, MIN_IPV6_PREFIX};
pub use options::CallOptions;
pub use peer_ip::{InvalidPeerIp, PeerIp};
pub use runtime::attempts::ATTEMPTS_HEADER;
pub use runtime::pacing::{InvalidRateLimit, RateLimit, RateLimitStatus};
pub use runtime::refusal::ResponseTooLarge;
pub use runtime::retry;
pub use runtime::{ClientPolicy, DEFAULT_MAX_PACING_WAIT, DEFAULT_MAX_RESPONSE_BYTES};
pub use status::{ForceOutcome, TransferStatus};
pub use timestamp::Timestamp;
pub use zone::{InvalidZoneName, MAX_LABEL_LEN, MAX_ZONE_NAME_LEN, ZoneName, ZoneStatus, ZoneType};
/// The CIDR and time crates the sdk's [`IpRange`] and [`Timestamp`] hold.
pub use {ipnet, time};

/// What most programs import: `use cloudflare_secondary_dns::prelude::*;`
/// brings the client, its error and [`ResponseExt::into_result`].
pub mod prelude {
    pub use crate::{ApiError, Client, Credentials, ErrorKind, ResponseExt, types};
}
