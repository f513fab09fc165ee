//! Adjustments to every request the generated code sends.

use progenitor_client::{ClientHooks, Error, OperationInfo};

use crate::Client;

// Overrides the generated `impl ClientHooks for &Client` (auto-ref
// specialization, see `progenitor_client::ClientHooks`).
impl ClientHooks for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _: &OperationInfo,
    ) -> Result<(), Error<E>> {
        // progenitor always sends `api-version: <info.version>` ("4.0.0");
        // Cloudflare's own SDKs use that header for a date, so don't send ours.
        request.headers_mut().remove("api-version");
        Ok(())
    }
}
