//! The maintainers' loop starts from Cloudflare's published spec: the
//! Secondary DNS subset is cut from a whole document exactly, a document that
//! is not one (or lacks these paths) is refused with nothing written, and
//! `upstream diff` says what changed for these operations.
//!
//! Fixtures are small crafted files in `tests/fixtures/upstream/`: a "whole"
//! spec (the vendored subset plus unrelated paths, schemas and schemes), and
//! two that must be refused. Nothing here reads `../shared/`.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use xtask::upstream::{self, ImportOptions};

fn root() -> PathBuf {
    xtask::workspace_root()
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/upstream").join(name)
}

fn vendored() -> Value {
    let text = std::fs::read(root().join(upstream::SUBSET_PATH)).unwrap();
    upstream::parse_document(&text).unwrap()
}

/// A fresh directory under the target dir, so that imports never touch the repo.
fn scratch(name: &str) -> PathBuf {
    let dir = root().join("target/upstream-tests").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_subset_of_a_whole_spec_is_exactly_the_vendored_one() {
    let whole =
        upstream::parse_document(&std::fs::read(fixture("whole-spec.json")).unwrap()).unwrap();
    let subset = upstream::subset(&whole).unwrap();
    assert_eq!(subset, vendored());
    // The unrelated parts were in the input and are not in the output.
    for unrelated in [
        "/zones/{zone_id}/dns_records",
        "/accounts/{account_id}/secondary_dns_archive/peers",
    ] {
        assert!(whole["paths"].get(unrelated).is_some());
        assert!(subset["paths"].get(unrelated).is_none(), "{unrelated}");
    }
    assert!(
        subset["components"]["schemas"]
            .get("dns-records_list")
            .is_none()
    );
    assert!(
        subset["components"]["securitySchemes"]
            .get("oauth")
            .is_none()
    );
    assert!(subset["components"].get("responses").is_none());
}

#[test]
fn the_vendored_subset_is_closed_under_its_references() {
    let subset = vendored();
    let mut references = Vec::new();
    collect(&subset, &mut references);
    assert!(references.len() > 20, "{}", references.len());
    for reference in references {
        let pointer = reference.strip_prefix('#').unwrap();
        assert!(
            subset.pointer(pointer).is_some(),
            "{reference} does not resolve"
        );
    }
    let schemes: Vec<&String> = subset["components"]["securitySchemes"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(
        schemes,
        ["api_email", "api_key", "api_token", "user_service_key"]
    );
    let provenance: Value =
        serde_json::from_slice(&std::fs::read(root().join(upstream::PROVENANCE_PATH)).unwrap())
            .unwrap();
    assert_eq!(provenance["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(provenance["commit"], "cca3064f");
}

fn collect(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(members) => {
            for (key, member) in members {
                match member {
                    Value::String(reference) if key == "$ref" => out.push(reference.clone()),
                    _ => collect(member, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect(item, out)),
        _ => {}
    }
}

#[test]
fn import_writes_the_subset_and_its_provenance() {
    let dir = scratch("import");
    let options = ImportOptions {
        commit: Some("0123abcd"),
        date: Some("2026-11-28"),
        source: None,
    };
    let summary = upstream::import_file(&dir, &fixture("whole-spec.json"), &options).unwrap();
    assert!(summary.contains("28 operations"), "{summary}");
    let written = std::fs::read_to_string(dir.join(upstream::SUBSET_PATH)).unwrap();
    let committed = std::fs::read_to_string(root().join(upstream::SUBSET_PATH)).unwrap();
    assert_eq!(written, committed, "the same text as the committed subset");
    let provenance: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(upstream::PROVENANCE_PATH)).unwrap(),
    )
    .unwrap();
    let fixture_bytes = std::fs::read(fixture("whole-spec.json")).unwrap();
    assert_eq!(provenance["sha256"], upstream::sha256_hex(&fixture_bytes));
    assert_eq!(provenance["bytes"], fixture_bytes.len());
    assert_eq!(provenance["commit"], "0123abcd");
    assert_eq!(provenance["source"], upstream::DEFAULT_SOURCE);
}

#[test]
fn a_file_that_is_not_the_spec_is_refused_and_nothing_is_written() {
    let dir = scratch("refused");
    let cases = [
        (
            "not-openapi.json",
            "not an OpenAPI document: it has no `openapi` version",
        ),
        ("no-secondary-dns.json", "none of the Secondary DNS paths"),
        ("missing.json", "cannot read"),
    ];
    for (name, expected) in cases {
        let err = upstream::import_file(&dir, &fixture(name), &ImportOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{name}: {err}");
        assert!(
            !dir.join("openapi").exists(),
            "{name}: something was written"
        );
    }
    let err = upstream::parse_document(b"\x00\x01 not text")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("not an OpenAPI document: it is neither JSON"),
        "{err}"
    );
    let err = upstream::parse_document(b"openapi: 2.0\npaths: {}")
        .unwrap_err()
        .to_string();
    assert_eq!(err, "not an OpenAPI 3 document (`openapi: 2.0`)");
}

#[test]
fn a_yaml_spec_is_read_too() {
    let yaml = serde_yaml_ng::to_string(&vendored()).unwrap();
    let document = upstream::parse_document(yaml.as_bytes()).unwrap();
    assert_eq!(upstream::subset(&document).unwrap(), vendored());
}

/// The vendored subset with crafted changes, as Cloudflare might publish them.
fn changed_upstream() -> Value {
    let mut spec = vendored();
    let schemas = &mut spec["components"]["schemas"];
    // An optional field on peers, and one on TSIG keys.
    schemas["secondary-dns_peer"]["properties"]["enabled"] =
        json!({"type": "boolean", "description": "Whether transfers use this peer."});
    schemas["secondary-dns_tsig"]["properties"]["comment"] = json!({"type": "string"});
    // A retyped field, and one that becomes required.
    schemas["secondary-dns_port"]["type"] = json!("integer");
    schemas["secondary-dns_peer"]["required"] = json!(["id", "name", "ip"]);
    // A removed field.
    schemas["secondary-dns_tsig"]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("algo");
    let paths = &mut spec["paths"];
    let update = &mut paths["/accounts/{account_id}/secondary_dns/peers/{peer_id}"]["put"];
    update["responses"]["5XX"] = json!({"description": "Update Peer server failure"});
    update["security"] = json!([{"api_token": []}, {"api_email": [], "api_key": []}]);
    update["operationId"] = json!("secondary-dns-peer-update");
    let list = &mut paths["/accounts/{account_id}/secondary_dns/peers"]["get"];
    list["parameters"]
        .as_array_mut()
        .unwrap()
        .push(json!({"in": "query", "name": "page", "schema": {"type": "integer"}}));
    // A removed operation and a new one.
    paths["/accounts/{account_id}/secondary_dns/tsigs/{tsig_id}"]
        .as_object_mut()
        .unwrap()
        .remove("delete");
    paths["/accounts/{account_id}/secondary_dns/peers/{peer_id}"]["patch"] = json!({
        "operationId": "secondary-dns-peer-patch",
        "responses": {"200": {"description": "ok"}}
    });
    spec["components"]["securitySchemes"]["api_token"]["bearerFormat"] = json!("opaque");
    spec
}

fn write_fixture(dir: &Path, name: &str, spec: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, upstream::to_file_text(spec)).unwrap();
    path
}

#[test]
fn upstream_diff_reports_each_kind_of_change() {
    let dir = scratch("diff");
    let unchanged = upstream::diff_file(&root(), &fixture("whole-spec.json")).unwrap();
    assert_eq!(unchanged, None, "the whole spec carries the same subset");

    let report = upstream::diff_file(
        &root(),
        &write_fixture(&dir, "changed.json", &changed_upstream()),
    )
    .unwrap()
    .expect("changes are reported");
    insta::assert_snapshot!("upstream_diff_of_crafted_changes", report);

    let mut details = vendored();
    details["components"]["schemas"]["secondary-dns_ip"]["description"] = json!("Reworded.");
    let report = upstream::diff_file(&root(), &write_fixture(&dir, "details.json", &details))
        .unwrap()
        .expect("a changed description is still a change");
    assert!(report.starts_with("no change in operations"), "{report}");
}
