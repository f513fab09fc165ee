//! The maintainers' loop starts from Cloudflare's published spec: the
//! Secondary DNS subset is cut from a whole document exactly, a document that
//! is not one (or lacks these paths) is refused with nothing written, and
//! `upstream diff` says what changed for these operations.
//!
//! The "whole" spec the import cuts from is made here from the vendored
//! subset plus unrelated paths, schemas and schemes (`whole_spec`), so an
//! import of a newer spec never leaves a fixture behind to edit by hand. The
//! two small files in `tests/fixtures/upstream/` are inputs that must be
//! refused. Nothing here reads `../shared/`.

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

/// Cloudflare's whole document as far as the import cares: the vendored
/// subset with parts of the API that are not Secondary DNS around it (a path
/// that only starts like one, another product's path, schema, scheme, and a
/// `responses` component nothing references).
fn whole_spec() -> Value {
    let mut whole = vendored();
    let paths = whole["paths"].as_object_mut().unwrap();
    paths.insert(
        "/accounts/{account_id}/secondary_dns_archive/peers".into(),
        json!({"get": {"operationId": "not-a-peer-path",
                       "responses": {"200": {"description": "ok"}}}}),
    );
    paths.insert(
        "/zones/{zone_id}/dns_records".into(),
        json!({"get": {
            "operationId": "dns-records-list",
            "parameters": [{"in": "path", "name": "zone_id", "required": true,
                            "schema": {"$ref": "#/components/schemas/dns-records_identifier"}}],
            "responses": {"200": {"description": "ok", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/dns-records_list"}}}}},
            "security": [{"oauth": []}]
        }}),
    );
    let components = whole["components"].as_object_mut().unwrap();
    let schemas = components["schemas"].as_object_mut().unwrap();
    schemas.insert(
        "dns-records_identifier".into(),
        json!({"type": "string", "maxLength": 32}),
    );
    schemas.insert(
        "dns-records_list".into(),
        json!({"type": "array", "items": {"$ref": "#/components/schemas/dns-records_identifier"}}),
    );
    components["securitySchemes"]["oauth"] = json!({"type": "oauth2", "flows": {}});
    components.insert(
        "responses".into(),
        json!({"unused": {"description": "never referenced"}}),
    );
    whole
}

/// The whole spec as a file, as `upstream import` and `diff` read it.
fn whole_spec_file(dir: &Path) -> PathBuf {
    write_fixture(dir, "whole-spec.json", &whole_spec())
}

/// Where two documents differ: at most `LIMIT` JSON pointers, each with both
/// values cut short, so that a failure never prints whole documents.
fn differences(left: &Value, right: &Value) -> String {
    const LIMIT: usize = 10;
    fn walk(path: &str, left: &Value, right: &Value, out: &mut Vec<String>) {
        if out.len() >= LIMIT || left == right {
            return;
        }
        match (left, right) {
            (Value::Object(a), Value::Object(b)) => {
                let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
                keys.sort();
                keys.dedup();
                for key in keys {
                    let (x, y) = (
                        a.get(key).unwrap_or(&Value::Null),
                        b.get(key).unwrap_or(&Value::Null),
                    );
                    walk(
                        &format!("{path}/{}", key.replace('~', "~0").replace('/', "~1")),
                        x,
                        y,
                        out,
                    );
                }
            }
            (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
                for (i, (x, y)) in a.iter().zip(b).enumerate() {
                    walk(&format!("{path}/{i}"), x, y, out);
                }
            }
            _ => {
                let short = |v: &Value| v.to_string().chars().take(120).collect::<String>();
                out.push(format!("{path}: {} ≠ {}", short(left), short(right)));
            }
        }
    }
    let mut out = Vec::new();
    walk("", left, right, &mut out);
    out.join("\n")
}

/// `assert_eq!` for documents, printing only where they differ.
fn assert_same_document(left: &Value, right: &Value, what: &str) {
    assert!(
        left == right,
        "{what} differ (first differences):\n{}",
        differences(left, right)
    );
}

#[test]
fn a_failed_document_comparison_prints_only_the_differences() {
    let mut changed = vendored();
    changed["components"]["schemas"]["secondary-dns_port"]["type"] = json!("integer");
    let report = differences(&vendored(), &changed);
    assert_eq!(
        report,
        "/components/schemas/secondary-dns_port/type: \"number\" ≠ \"integer\""
    );
    let mut all_changed = Value::Object(Default::default());
    for i in 0..50 {
        all_changed[format!("k{i}")] = json!("x".repeat(1000));
    }
    let report = differences(&json!({}), &all_changed);
    assert_eq!(report.lines().count(), 10);
    assert!(report.len() < 2000, "{} bytes", report.len());
}

#[test]
fn the_subset_of_a_whole_spec_is_exactly_the_vendored_one() {
    let whole = whole_spec();
    let subset = upstream::subset(&whole).unwrap();
    assert_same_document(&subset, &vendored(), "the subset and the vendored file");
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
    // Whatever commit the last import named: a hex prefix.
    let commit = provenance["commit"].as_str().unwrap_or_default();
    assert!(
        commit.len() >= 7 && commit.bytes().all(|b| b.is_ascii_hexdigit()),
        "provenance commit {commit:?}"
    );
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
    let input = whole_spec_file(&dir);
    let summary = upstream::import_file(&dir, &input, &options).unwrap();
    let operations = operation_count(&vendored());
    assert!(
        summary.contains(&format!("({operations} operations")),
        "{summary}"
    );
    let written = std::fs::read_to_string(dir.join(upstream::SUBSET_PATH)).unwrap();
    let committed = std::fs::read_to_string(root().join(upstream::SUBSET_PATH)).unwrap();
    if written != committed {
        let parse = |text: &str| upstream::parse_document(text.as_bytes()).unwrap();
        assert_same_document(
            &parse(&written),
            &parse(&committed),
            "the import and the committed subset",
        );
        panic!(
            "the same document as the committed subset, written differently (run `cargo xtask upstream import`)"
        );
    }
    let provenance: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(upstream::PROVENANCE_PATH)).unwrap(),
    )
    .unwrap();
    let fixture_bytes = std::fs::read(&input).unwrap();
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
    assert_same_document(
        &upstream::subset(&document).unwrap(),
        &vendored(),
        "the YAML subset and the vendored one",
    );
}

/// The vendored subset with crafted changes, as Cloudflare might publish them.
/// Names and types are ones Cloudflare will not publish (`crafted_…`, a
/// string port), so that an import of a newer spec does not make one of them
/// a no-op and this report changes only when `upstream diff` does (the one
/// exception: a peer's `ip` made required upstream).
fn changed_upstream() -> Value {
    let mut spec = vendored();
    let schemas = &mut spec["components"]["schemas"];
    // An optional field on peers, and one on TSIG keys.
    schemas["secondary-dns_peer"]["properties"]["crafted_enabled"] =
        json!({"type": "boolean", "description": "Whether transfers use this peer."});
    schemas["secondary-dns_tsig"]["properties"]["crafted_comment"] = json!({"type": "string"});
    // A retyped field, and one that becomes required.
    schemas["secondary-dns_port"]["type"] = json!("string");
    let required = schemas["secondary-dns_peer"]["required"]
        .as_array_mut()
        .unwrap();
    required.extend([json!("ip"), json!("crafted_enabled")]);
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
    paths["/accounts/{account_id}/secondary_dns/peers/{peer_id}"]["trace"] = json!({
        "operationId": "crafted-peer-trace",
        "responses": {"200": {"description": "ok"}}
    });
    spec["components"]["securitySchemes"]["api_token"]["bearerFormat"] = json!("opaque");
    spec
}

/// The operations of a spec: one per method under each path.
fn operation_count(spec: &Value) -> usize {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    spec["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| METHODS.iter().filter(|m| item.get(**m).is_some()).count())
        .sum()
}

fn write_fixture(dir: &Path, name: &str, spec: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, upstream::to_file_text(spec)).unwrap();
    path
}

#[test]
fn upstream_diff_reports_each_kind_of_change() {
    let dir = scratch("diff");
    let unchanged = upstream::diff_file(&root(), &whole_spec_file(&dir)).unwrap();
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
