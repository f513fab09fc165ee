//! The HTTP clients requests go out on: the pooled one, and an unpooled twin
//! built on first need for requests that must not meet a pooled connection
//! the server is closing (see `transport`).

use std::sync::OnceLock;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::redirect::Policy;

/// The HTTP client settings shared by the pooled client and its unpooled twin.
#[derive(Debug)]
pub(crate) struct HttpSettings {
    pub(crate) headers: HeaderMap,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) root_certificates: Vec<reqwest::Certificate>,
}

impl HttpSettings {
    pub(crate) fn client_builder(&self) -> reqwest::ClientBuilder {
        let builder = reqwest::Client::builder()
            .default_headers(self.headers.clone())
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            // The API does not redirect; following one would carry the
            // X-Auth-* headers (which reqwest does not strip) to another host.
            .redirect(Policy::none())
            .tls_certs_merge(self.root_certificates.iter().cloned());
        // With both TLS features on, rustls (the default) is used.
        #[cfg(all(feature = "native-tls", not(feature = "rustls")))]
        let builder = builder.tls_backend_native();
        builder
    }
}

/// The settings of the pooled client, to build an unpooled twin on first need.
#[derive(Debug)]
pub(crate) struct FreshConnections {
    pub(crate) settings: HttpSettings,
    pub(crate) client: OnceLock<reqwest::Client>,
}

impl FreshConnections {
    pub(crate) fn new(settings: HttpSettings) -> Self {
        Self {
            settings,
            client: OnceLock::new(),
        }
    }

    /// A client that never reuses a connection, built once.
    pub(crate) fn client(&self) -> Option<&reqwest::Client> {
        if let Some(client) = self.client.get() {
            return Some(client);
        }
        let built = self
            .settings
            .client_builder()
            .pool_max_idle_per_host(0)
            .build()
            .ok()?;
        Some(self.client.get_or_init(|| built))
    }
}
