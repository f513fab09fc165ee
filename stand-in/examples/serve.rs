//! Serves the stand-in until interrupted, for trying the CLI (or anything
//! else) without Cloudflare:
//!
//! ```text
//! cargo run -p secondary-dns-stand-in --example serve
//! ```
//!
//! It prints the environment to paste into another shell.

use secondary_dns_stand_in::{EXAMPLE_ACCOUNT_ID, StandIn};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let stand_in = StandIn::start().await;
    println!("# A stand-in of Cloudflare's Secondary DNS API is listening. In another shell:");
    println!("export CLOUDFLARE_API_TOKEN=stand-in-token");
    println!("export CLOUDFLARE_BASE_URL={}", stand_in.uri());
    println!("export CLOUDFLARE_ACCOUNT_ID={EXAMPLE_ACCOUNT_ID}");
    println!("# then e.g.: cf-secondary-dns peers list --format table   (Ctrl-C here stops it)");
    let _ = tokio::signal::ctrl_c().await;
}
