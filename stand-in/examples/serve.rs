//! Serves the stand-in until interrupted, for trying the CLI (or anything
//! else) without Cloudflare:
//!
//! ```text
//! cargo run -p secondary-dns-stand-in --example serve
//! CLOUDFLARE_API_TOKEN=x CLOUDFLARE_BASE_URL=<printed URL> \
//!     CLOUDFLARE_ACCOUNT_ID=01a7362d577a6c3019a474fd6f485823 cf-secondary-dns list-peers
//! ```

use secondary_dns_stand_in::StandIn;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let stand_in = StandIn::start().await;
    println!("{}", stand_in.uri());
    let _ = tokio::signal::ctrl_c().await;
}
