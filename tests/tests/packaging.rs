//! The published crates (sdk, mocks, doctor, CLI) package with only what a consumer
//! needs: their sources, manifest, lock file and README. No example, test or
//! snapshot that needs the workspace (the stand-in is not published).
//! `cargo package --list` reads the manifests only; nothing is built.

use std::process::Command;

fn packaged(package: &str) -> Vec<String> {
    let output = Command::new(env!("CARGO"))
        .args([
            "package",
            "--list",
            "--allow-dirty",
            "--offline",
            "-p",
            package,
        ])
        .current_dir(xtask::workspace_root())
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo package -p {package}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_published_crates_hold_only_what_a_consumer_needs() {
    const AROUND_THE_SOURCES: [&str; 5] = [
        ".cargo_vcs_info.json",
        "Cargo.lock",
        "Cargo.toml",
        "Cargo.toml.orig",
        "README.md",
    ];
    for (package, root) in [
        ("cloudflare-secondary-dns", "src/lib.rs"),
        ("cloudflare-secondary-dns-httpmock", "src/lib.rs"),
        ("cloudflare-secondary-dns-doctor", "src/lib.rs"),
        ("cf-secondary-dns", "src/main.rs"),
    ] {
        let files = packaged(package);
        let extra: Vec<&String> = files
            .iter()
            .filter(|f| {
                !f.starts_with("src/")
                    && !AROUND_THE_SOURCES.contains(&f.as_str())
                    // The doctor's data file of Cloudflare's addresses (compiled in).
                    && f.as_str() != "cloudflare-addresses.toml"
                // cargo lists `.cargo_vcs_info.json` only from a clean checkout.
            })
            .collect();
        assert!(extra.is_empty(), "{package} would ship {extra:?}");
        for needed in [root, "README.md", "Cargo.toml"] {
            assert!(
                files.iter().any(|f| f == needed),
                "{package} lacks {needed}: {files:?}"
            );
        }
        assert!(
            !files
                .iter()
                .any(|f| f.ends_with(".snap") || f.contains("/tests/")),
            "{package}: {files:?}"
        );
    }
    // The sdk's generated code is in it (committed, not built by a script).
    assert!(packaged("cloudflare-secondary-dns").contains(&"src/generated.rs".to_owned()));
}
