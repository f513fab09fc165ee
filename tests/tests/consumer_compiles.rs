//! A consumer's program keeps compiling when Cloudflare adds optional
//! fields: the generated structs are `#[non_exhaustive]` and built through
//! builders, so a regeneration that grows `PeerUpdate` and `Peer` breaks
//! nobody. The new fields (a boolean, a string enum, a nested object) also
//! reach every crate of the workspace with no edit: the CLI (which needs
//! `JsonSchema` on every type, the sdk's `schemars` feature) and the typed
//! mocks compile from the same regeneration.
//!
//! The README's first program and its mocks test are compiled too, as a
//! newcomer would paste them into a crate of their own (the README's
//! `Cargo.toml` lines as its manifest).
//!
//! This runs `cargo check` on a copy of the workspace (the sdk, the CLI and
//! the mocks, regenerated from a spec with the added fields, and a consumer
//! crate), so it takes a few minutes the first time. It is ignored by default; CI runs it:
//! `cargo test -p sdk-tests --test consumer_compiles -- --ignored`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// How a consumer uses the crate: bodies from builders, fields read, errors
/// matched by kind. No struct literal, no exhaustive struct pattern.
const CONSUMER: &str = r#"
use cloudflare_secondary_dns::{Client, Credentials, ErrorKind, ResponseExt, types};

async fn sync(client: &Client) -> Result<(), Box<dyn std::error::Error>> {
    let body = types::PeerUpdate::builder()
        .name("my-peer-1")
        .ip(Some("192.0.2.53".parse()?))
        .port(Some(53))
        .ixfr_enable(Some(false));
    let response = client
        .update_peer()
        .account_id("01a7362d577a6c3019a474fd6f485823")
        .peer_id("23ff594956f20c2a721606e94745a8aa")
        .body(body)
        .send()
        .await;
    match response.and_then(ResponseExt::into_result) {
        Ok(peer) => {
            println!("{} {:?} {:?}", peer.name, peer.ip, peer.port);
            let mut again = types::PeerUpdate::from(&peer);
            again.port = Some(5353);
        }
        Err(err) if err.kind() == ErrorKind::NotFound => println!("gone"),
        Err(err) => return Err(err.into()),
    }
    let tsig = types::TsigInput::builder()
        .name("tsig.customer.cf.")
        .algo("hmac-sha512.")
        .secret("c0ffee");
    let _ = client.create_tsig().account_id("01a7362d577a6c3019a474fd6f485823").body(tsig);
    Ok(())
}

fn main() {
    let client = Client::builder(Credentials::api_token("t")).build().unwrap();
    let _ = sync(&client);
}
"#;

fn root() -> PathBuf {
    xtask::workspace_root()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The three generated files, by workspace path.
struct Generated {
    files: Vec<(&'static str, String)>,
}

impl Generated {
    fn committed() -> Self {
        let files = [xtask::GENERATED_PATH, xtask::HTTPMOCK_PATH, xtask::CLI_PATH]
            .map(|path| (path, std::fs::read_to_string(root().join(path)).unwrap()));
        Self {
            files: files.into(),
        }
    }

    fn from_spec(spec: &str) -> Self {
        let version = "0.0.0-test";
        Self {
            files: vec![
                (
                    xtask::GENERATED_PATH,
                    xtask::generate_sdk(spec, version).unwrap(),
                ),
                (
                    xtask::HTTPMOCK_PATH,
                    xtask::generate_httpmock(spec, version).unwrap(),
                ),
                (xtask::CLI_PATH, xtask::generate_cli(spec, version).unwrap()),
            ],
        }
    }

    fn sdk(&self) -> &str {
        &self.files[0].1
    }
}

/// A workspace of the sdk, the mocks and the CLI (with `generated` as their
/// generated code), the doctor, the stand-in the examples use, and the consumer.
fn workspace(dir: &Path, generated: &Generated) {
    let _ = std::fs::remove_dir_all(dir);
    for crate_dir in ["sdk", "sdk-httpmock", "cli"] {
        copy_dir(
            &root().join(crate_dir).join("src"),
            &dir.join(crate_dir).join("src"),
        );
        let manifest = format!("{crate_dir}/Cargo.toml");
        std::fs::copy(root().join(&manifest), dir.join(&manifest)).unwrap();
    }
    // The CLI's dev-dependencies are read (not built) to resolve the workspace.
    for (path, code) in &generated.files {
        std::fs::write(dir.join(path), code).unwrap();
    }
    // The crate's front page (its rustdoc).
    std::fs::copy(root().join("sdk/README.md"), dir.join("sdk/README.md")).unwrap();
    std::fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    // The sdk's examples' dev-dependency, and the CLI's doctor.
    copy_dir(&root().join("stand-in"), &dir.join("stand-in"));
    copy_dir(&root().join("doctor"), &dir.join("doctor"));
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let members = manifest
        .lines()
        .find(|l| l.starts_with("members = "))
        .expect("the workspace lists its members");
    let manifest = manifest.replace(
        members,
        r#"members = ["sdk", "sdk-httpmock", "doctor", "cli", "stand-in", "consumer"]"#,
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::create_dir_all(dir.join("consumer/src")).unwrap();
    std::fs::create_dir_all(dir.join("consumer/tests")).unwrap();
    // What the README tells a newcomer to write in Cargo.toml, with paths.
    std::fs::write(
        dir.join("consumer/Cargo.toml"),
        "[package]\nname = \"consumer\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\ncloudflare-secondary-dns = { path = \"../sdk\" }\n\
         tokio = { version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }\n\n\
         [dev-dependencies]\ncloudflare-secondary-dns-httpmock = { path = \"../sdk-httpmock\" }\n\
         httpmock = \"0.9\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("consumer/src/main.rs"), CONSUMER).unwrap();
    // The README's first program and its mocks test, exactly as written.
    let readme = std::fs::read_to_string(root().join("sdk/README.md")).unwrap();
    std::fs::create_dir_all(dir.join("consumer/src/bin")).unwrap();
    std::fs::write(
        dir.join("consumer/src/bin/readme_usage.rs"),
        rust_block(&readme, "## Usage", "```rust,no_run\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("consumer/tests/readme_mocks.rs"),
        rust_block(
            &readme,
            "## Testing your code: typed mocks",
            "```rust,ignore\n",
        ),
    )
    .unwrap();
}

/// The first code block opened by `fence` after the heading `section`.
fn rust_block(readme: &str, section: &str, fence: &str) -> String {
    let from = readme
        .find(section)
        .unwrap_or_else(|| panic!("the README has no {section:?}"));
    readme[from..]
        .split(fence)
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap_or_else(|| panic!("no {fence:?} block under {section:?}"))
        .to_owned()
}

fn check(dir: &Path) -> Result<(), String> {
    let output = Command::new(env!("CARGO"))
        .args([
            "check",
            "--offline",
            "--quiet",
            "--all-targets",
            "-p",
            "consumer",
        ])
        .args([
            "-p",
            "cf-secondary-dns",
            "-p",
            "cloudflare-secondary-dns-httpmock",
        ])
        .current_dir(dir)
        // Its own target dir: the outer `cargo test` holds the workspace's.
        .env("CARGO_TARGET_DIR", root().join("target/consumer-check"))
        .output()
        .expect("cargo runs");
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// The spec the pipeline makes when Cloudflare adds optional fields to its
/// peer schema, as an additive upstream change would: a boolean `enabled`,
/// a string enum `mode` and a nested object `limits`.
fn spec_with_new_optional_fields() -> String {
    let subset = std::fs::read_to_string(root().join(xtask::upstream::SUBSET_PATH)).unwrap();
    let mut upstream: serde_json::Value = serde_json::from_str(&subset).unwrap();
    let properties = &mut upstream["components"]["schemas"]["secondary-dns_peer"]["properties"];
    properties["enabled"] =
        serde_json::json!({"type": "boolean", "description": "Whether transfers use this peer."});
    properties["mode"] = serde_json::json!({"type": "string", "enum": ["axfr", "ixfr"]});
    properties["limits"] = serde_json::json!({
        "type": "object",
        "properties": {"max_per_hour": {"type": "integer"}}
    });
    let overlay = std::fs::read_to_string(root().join(xtask::fragment::OVERLAY_PATH)).unwrap();
    xtask::fragment::build(&upstream.to_string(), &overlay)
        .unwrap()
        .yaml
}

#[test]
#[ignore = "compiles a copy of the workspace (a minute or two); CI runs it with --ignored"]
fn a_consumer_keeps_compiling_when_an_optional_field_is_added() {
    let dir = root().join("target/consumer-workspace");
    workspace(&dir, &Generated::committed());
    check(&dir).unwrap_or_else(|e| panic!("the workspace does not compile today:\n{e}"));

    let grown = Generated::from_spec(&spec_with_new_optional_fields());
    for field in [
        "pub enabled: ::std::option::Option<bool>",
        "pub mode: ::std::option::Option<SecondaryDnsPeerMode>",
        "pub limits: ::std::option::Option<SecondaryDnsPeerLimits>",
    ] {
        assert!(grown.sdk().contains(field), "{field}");
    }
    workspace(&dir, &grown);
    check(&dir).unwrap_or_else(|e| panic!("new optional fields broke a crate:\n{e}"));

    // Not vacuous: the same consumer with a struct literal breaks on that change.
    let literal = CONSUMER.replace(
        "let body = types::PeerUpdate::builder()",
        "let _literal = types::PeerUpdate { name: String::new(), ip: None, port: None, \
         ixfr_enable: None, tsig_id: None };\n    let body = types::PeerUpdate::builder()",
    );
    std::fs::write(dir.join("consumer/src/main.rs"), literal).unwrap();
    let err = check(&dir).expect_err("a struct literal of a non_exhaustive type does not compile");
    assert!(
        err.contains("non-exhaustive") || err.contains("non_exhaustive"),
        "{err}"
    );
}
