//! The committed client is exactly what the generator makes from the spec,
//! and its text is pinned by an insta snapshot so a regeneration shows up as
//! a reviewable diff.

const COMMITTED: &str = include_str!("../../sdk/src/generated.rs");

fn fresh() -> String {
    xtask::generate_from_workspace(&xtask::workspace_root()).expect("the spec generates")
}

#[test]
fn committed_generated_code_is_fresh() {
    let fresh = fresh();
    assert!(
        fresh == COMMITTED,
        "sdk/src/generated.rs is stale; run `cargo xtask generate`:\n{}",
        xtask::short_diff(COMMITTED, &fresh, 40)
    );
}

#[test]
fn generated_code_snapshot() {
    insta::assert_snapshot!("generated_rs", fresh());
}

#[test]
fn generation_is_deterministic_and_follows_the_spec() {
    let spec = std::fs::read_to_string(xtask::workspace_root().join(xtask::SPEC_PATH)).unwrap();
    let first = xtask::generate_sdk(&spec, "0.0.0-test").unwrap();
    assert_eq!(first, xtask::generate_sdk(&spec, "0.0.0-test").unwrap());

    // A changed description changes the code, and the header's spec hash.
    let edited = spec.replace("description: Modify Peer.", "description: Modify a Peer.");
    assert_ne!(edited, spec);
    let changed = xtask::generate_sdk(&edited, "0.0.0-test").unwrap();
    assert!(changed.contains("Modify a Peer."));
    assert_ne!(
        first.lines().nth(3),
        changed.lines().nth(3),
        "the spec hash did not change"
    );
    let diff = xtask::short_diff(&first, &changed, 40);
    assert!(
        diff.contains("-Modify Peer.") && diff.contains("+Modify a Peer."),
        "{diff}"
    );
}

#[test]
fn an_invalid_spec_is_a_clear_error() {
    let err = xtask::generate_sdk(
        "openapi: 3.1.0\ninfo: {title: t, version: v}\npaths: {}\n",
        "0",
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("progenitor could not generate"),
        "{err}"
    );
    let err = xtask::generate_sdk("{not yaml", "0").unwrap_err();
    assert!(
        err.to_string().contains("not a valid OpenAPI 3.0 document"),
        "{err}"
    );
}

#[test]
fn the_generator_version_comes_from_the_lockfile() {
    let lock = "[[package]]\nname = \"progenitor\"\nversion = \"9.8.7\"\n";
    assert_eq!(xtask::locked_progenitor_version(lock).unwrap(), "9.8.7");
    assert!(xtask::locked_progenitor_version("").is_err());
    assert!(COMMITTED.contains("// progenitor 0.15.1; spec sha256 "));
}

/// Every struct and enum of the spec's schemas can grow without breaking
/// consumers: each is `#[non_exhaustive]` (structs are built through their
/// builders) and derives `JsonSchema` with the `schemars` feature (the CLI
/// needs it). The list comes from what progenitor makes of the spec, so a
/// schema Cloudflare adds gets both with no edit.
#[test]
fn every_generated_struct_and_enum_is_non_exhaustive() {
    let types = COMMITTED
        .split("pub mod builder {")
        .next()
        .expect("the types module comes before its builders");
    let mut found = Vec::new();
    let lines: Vec<&str> = types.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        let Some(name) = trimmed
            .strip_prefix("pub struct ")
            .or_else(|| trimmed.strip_prefix("pub enum "))
        else {
            continue;
        };
        let name = name.split([' ', '(', '<']).next().unwrap();
        if name == "ConversionError" {
            continue; // progenitor's own error type, not a schema
        }
        // Back to the item before (a derive may span lines).
        let attributes: Vec<&str> = lines[..i]
            .iter()
            .rev()
            .map(|l| l.trim())
            .take_while(|l| !(l.is_empty() || l.ends_with('}') || l.ends_with(';')))
            .collect();
        assert!(
            attributes.contains(&"#[non_exhaustive]"),
            "types::{name} is not #[non_exhaustive]"
        );
        assert!(
            attributes
                .contains(&r#"#[cfg_attr(feature = "schemars", derive(::schemars::JsonSchema))]"#),
            "types::{name} does not derive JsonSchema with the schemars feature"
        );
        found.push(name.to_owned());
    }
    let spec = serde_yaml_ng::from_str(sdk_tests::SPEC_YAML).unwrap();
    let mut expected: Vec<String> = xtask::generated_types(&spec)
        .unwrap()
        .into_iter()
        .filter(|(_, kind)| *kind != xtask::TypeKind::Newtype)
        .map(|(name, _)| name)
        .collect();
    found.sort();
    expected.sort();
    assert_eq!(found, expected);
    assert!(found.contains(&"PeerUpdate".to_owned()), "{found:?}");
}
