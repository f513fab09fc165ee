//! One pipeline: the vendored upstream subset and `openapi/overlay.yaml` make
//! `openapi/secondary-dns.yaml` (and the README's table of differences),
//! which makes `sdk/src/generated.rs`. The committed outputs are what the
//! inputs make; nothing is skipped silently; a field Cloudflare adds reaches
//! the request and response types with no overlay edit.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use xtask::fragment;
use xtask::upstream::{self, ImportOptions};

fn root() -> PathBuf {
    xtask::workspace_root()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn vendored() -> Value {
    serde_json::from_str(&read(&root().join(upstream::SUBSET_PATH))).unwrap()
}

fn overlay_text() -> String {
    read(&root().join(fragment::OVERLAY_PATH))
}

/// A copy of the pipeline's inputs in a fresh directory under the target
/// dir, so that imports and generations never touch the repository.
fn scratch_workspace(name: &str) -> PathBuf {
    let dir = root().join("target/pipeline-tests").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("openapi/upstream")).unwrap();
    for file in [
        upstream::SUBSET_PATH,
        upstream::PROVENANCE_PATH,
        fragment::OVERLAY_PATH,
        fragment::README_PATH,
        "Cargo.lock",
    ] {
        std::fs::copy(root().join(file), dir.join(file)).unwrap();
    }
    dir
}

#[test]
fn every_committed_output_is_what_the_inputs_make() {
    let outputs = xtask::generate_workspace(&root()).expect("the pipeline runs");
    let paths: Vec<&str> = outputs.files.iter().map(|(path, _)| *path).collect();
    assert_eq!(
        paths,
        [
            xtask::SPEC_PATH,
            fragment::README_PATH,
            xtask::GENERATED_PATH,
            xtask::HTTPMOCK_PATH,
            xtask::CLI_PATH,
        ]
    );
    for (path, fresh) in &outputs.files {
        let committed = read(&root().join(path));
        assert!(
            committed == *fresh,
            "{path} is stale; run `cargo xtask generate`:\n{}",
            xtask::short_diff_of(path, &committed, fresh, 40)
        );
    }
}

#[test]
fn the_spec_names_both_inputs_and_their_hashes() {
    let spec = read(&root().join(xtask::SPEC_PATH));
    let subset_hash = upstream::sha256_hex(read(&root().join(upstream::SUBSET_PATH)).as_bytes());
    let overlay_hash = upstream::sha256_hex(overlay_text().as_bytes());
    let header: Vec<&str> = spec.lines().take(4).collect();
    assert!(header[0].contains("DO NOT EDIT"), "{header:?}");
    assert!(
        header[1].contains(upstream::SUBSET_PATH) && header[1].contains(&subset_hash),
        "{header:?}"
    );
    assert!(
        header[2].contains(fragment::OVERLAY_PATH) && header[2].contains(&overlay_hash),
        "{header:?}"
    );
}

#[test]
fn every_action_matches_something_and_the_table_lists_each_one() {
    let built = fragment::build(&read(&root().join(upstream::SUBSET_PATH)), &overlay_text())
        .expect("the overlay applies");
    assert!(built.applied.len() >= 40, "{}", built.applied.len());
    for action in &built.applied {
        assert!(action.matched >= 1, "{action:?}");
    }
    // Union targets match every schema they name.
    let copies = built
        .applied
        .iter()
        .find(|a| a.target == "$.components.schemas['Peer','PeerUpdate']")
        .unwrap();
    assert_eq!(copies.matched, 2);

    let readme = read(&root().join(fragment::README_PATH));
    for action in &built.applied {
        let why: String = action
            .description
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            readme.contains(&why.replace('|', "\\|")),
            "the README's table lacks {why:?}"
        );
    }
}

#[test]
fn nothing_of_upstream_is_left_unreferenced_in_the_spec() {
    let spec: Value = serde_yaml_ng::from_str(&read(&root().join(xtask::SPEC_PATH))).unwrap();
    let schemas: Vec<&String> = spec["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert!(
        schemas
            .iter()
            .all(|name| !name.starts_with("secondary-dns_")),
        "{schemas:?}"
    );
    assert!(schemas.contains(&&"PeerUpdate".to_owned()), "{schemas:?}");
}

#[test]
fn an_upstream_rename_fails_the_generation_naming_the_action() {
    let mut renamed = vendored();
    let schemas = renamed["components"]["schemas"].as_object_mut().unwrap();
    let peer = schemas.remove("secondary-dns_peer").unwrap();
    schemas.insert("secondary-dns_peer_v2".to_owned(), peer);
    // Keep the document closed under its references.
    let text = serde_json::to_string(&renamed).unwrap().replace(
        "schemas/secondary-dns_peer\"",
        "schemas/secondary-dns_peer_v2\"",
    );
    let err = fragment::build(&text, &overlay_text())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("openapi/overlay.yaml: overlay action"),
        "{err}"
    );
    assert!(err.contains("copies of upstream's peer"), "{err}");
    assert!(err.contains("update the action"), "{err}");

    // A renamed property fails too: the port override targets it by name.
    let mut renamed = vendored();
    let properties = renamed["components"]["schemas"]["secondary-dns_peer"]["properties"]
        .as_object_mut()
        .unwrap();
    let port = properties.remove("port").unwrap();
    properties.insert("dns_port".to_owned(), port);
    let err = fragment::build(&renamed.to_string(), &overlay_text())
        .unwrap_err()
        .to_string();
    assert!(err.contains("Ports are integers"), "{err}");
}

/// Cloudflare's spec with new optional fields on the peer (a named boolean
/// schema, as Cloudflare writes them, and a nested object) and on the TSIG
/// key (an inline string).
fn upstream_with_new_fields() -> Value {
    let mut grown = vendored();
    let schemas = &mut grown["components"]["schemas"];
    schemas["secondary-dns_enabled"] = json!({
        "description": "Whether zone transfers use this peer.",
        "example": true,
        "type": "boolean"
    });
    schemas["secondary-dns_transfer_limits"] = json!({
        "type": "object",
        "properties": {"max_per_hour": {"type": "integer", "example": 10}}
    });
    schemas["secondary-dns_peer"]["properties"]["enabled"] =
        json!({"$ref": "#/components/schemas/secondary-dns_enabled"});
    schemas["secondary-dns_peer"]["properties"]["limits"] =
        json!({"$ref": "#/components/schemas/secondary-dns_transfer_limits"});
    schemas["secondary-dns_tsig"]["properties"]["comment"] =
        json!({"description": "A note about the key.", "type": "string"});
    // A string enum, named as Cloudflare names its field schemas, and an
    // inline nested object.
    schemas["secondary-dns_transfer_mode"] = json!({
        "description": "How the peer transfers the zone.",
        "type": "string",
        "enum": ["axfr", "ixfr"]
    });
    schemas["secondary-dns_peer"]["properties"]["mode"] =
        json!({"$ref": "#/components/schemas/secondary-dns_transfer_mode"});
    schemas["secondary-dns_tsig"]["properties"]["rotation"] = json!({
        "type": "object",
        "properties": {"every_days": {"type": "integer", "example": 90}}
    });
    grown
}

/// The attribute lines right above the declaration `pub {item} {name}`
/// (back to the end of the item before it).
fn attributes_of<'a>(code: &'a str, item: &str, name: &str) -> Vec<&'a str> {
    let declaration = format!("pub {item} {name} ");
    let at = code
        .find(&declaration)
        .unwrap_or_else(|| panic!("no {item} {name}"));
    code[..at]
        .lines()
        .rev()
        .take_while(|l| l.trim() != "}")
        .map(str::trim)
        .filter(|l| l.starts_with('#'))
        .collect()
}

/// The struct `name` in generated code, from its declaration to its end.
fn struct_body<'a>(code: &'a str, name: &str) -> &'a str {
    let start = code
        .find(&format!("pub struct {name} {{"))
        .unwrap_or_else(|| panic!("no struct {name}"));
    let end = start + code[start..].find("\n    }").unwrap();
    &code[start..end]
}

#[test]
fn fields_added_upstream_reach_the_request_and_response_types() {
    let dir = scratch_workspace("new-fields");
    let file = dir.join("cloudflare-openapi.json");
    std::fs::write(&file, upstream_with_new_fields().to_string()).unwrap();
    upstream::import_file(&dir, &file, &ImportOptions::default()).expect("the import runs");

    let outputs = xtask::generate_workspace(&dir).expect("the grown upstream generates");
    let code = &outputs
        .files
        .iter()
        .find(|(path, _)| *path == xtask::GENERATED_PATH)
        .unwrap()
        .1;
    for peer in ["Peer", "PeerUpdate"] {
        let body = struct_body(code, peer);
        assert!(
            body.contains("pub enabled: ::std::option::Option<bool>"),
            "{peer}:\n{body}"
        );
        assert!(
            body.contains("pub limits: ::std::option::Option<SecondaryDnsTransferLimits>"),
            "{peer}:\n{body}"
        );
        // Today's fields keep today's types.
        assert!(
            body.contains("pub port: ::std::option::Option<u16>"),
            "{body}"
        );
    }
    for peer in ["Peer", "PeerUpdate"] {
        let body = struct_body(code, peer);
        assert!(
            body.contains("pub ip: ::std::option::Option<crate::PeerIp>"),
            "{body}"
        );
        // A new enum or nested object is one type, read and written alike.
        assert!(
            body.contains("pub mode: ::std::option::Option<SecondaryDnsTransferMode>"),
            "{body}"
        );
    }
    for tsig in ["Tsig", "TsigInput"] {
        assert!(
            struct_body(code, tsig)
                .contains("pub rotation: ::std::option::Option<SecondaryDnsTsigRotation>"),
            "{tsig}"
        );
    }
    // ... so that a resource read turns into its update body, new fields included.
    for (resource, body) in [("Peer", "PeerUpdate"), ("Tsig", "TsigInput")] {
        let conversion = format!("impl ::std::convert::From<&types::{resource}> for types::{body}");
        let at = code
            .find(&conversion)
            .unwrap_or_else(|| panic!("no {conversion}"));
        let end = at + code[at..].find("\n}").unwrap();
        for field in ["mode", "enabled", "limits", "rotation", "comment"] {
            let copied = format!("{field}: resource.{field}.clone()");
            let names_it = code[at..end].contains(&copied);
            let has_it = struct_body(code, body).contains(&format!("pub {field}:"));
            assert_eq!(names_it, has_it, "{conversion}: {field}");
        }
    }
    for tsig in ["Tsig", "TsigInput"] {
        let body = struct_body(code, tsig);
        assert!(
            body.contains("pub comment: ::std::option::Option<::std::string::String>"),
            "{tsig}:\n{body}"
        );
        assert!(
            body.contains("pub secret: crate::secret::TsigSecret"),
            "{body}"
        );
    }
    assert!(code.contains("pub struct SecondaryDnsTransferLimits {"));
    // Every new type, struct or enum, is growable and derives JsonSchema for
    // the CLI: none needs an edit of the generator settings.
    let spec = serde_yaml_ng::from_str(
        &outputs
            .files
            .iter()
            .find(|(path, _)| *path == xtask::SPEC_PATH)
            .unwrap()
            .1,
    )
    .unwrap();
    let types = xtask::generated_types(&spec).unwrap();
    let mut new_types = Vec::new();
    for (name, kind) in &types {
        let item = match kind {
            xtask::TypeKind::Struct => "struct",
            xtask::TypeKind::Enum => "enum",
            xtask::TypeKind::Newtype => continue,
        };
        let attributes = attributes_of(code, item, name);
        assert!(
            attributes.contains(&"#[non_exhaustive]"),
            "{name}: {attributes:?}"
        );
        assert!(
            attributes
                .contains(&r#"#[cfg_attr(feature = "schemars", derive(::schemars::JsonSchema))]"#),
            "{name}: {attributes:?}"
        );
        if !read(&root().join(xtask::GENERATED_PATH)).contains(&format!("pub {item} {name} ")) {
            new_types.push(format!("{item} {name}"));
        }
    }
    assert_eq!(
        new_types,
        [
            "struct SecondaryDnsTransferLimits",
            "enum SecondaryDnsTransferMode",
            "struct SecondaryDnsTsigRotation",
        ],
        "{types:?}"
    );
    // The README's table did not change: no overlay edit was needed.
    assert_eq!(
        outputs
            .files
            .iter()
            .find(|(path, _)| *path == fragment::README_PATH)
            .unwrap()
            .1,
        read(&root().join(fragment::README_PATH))
    );
}

/// When Cloudflare changes what an overlay action overrides, generation
/// fails naming the action and showing upstream's new value: a new required
/// request field, `port` retyped to a string, a bound added upstream, a
/// Delete that gains a body. Nothing is masked silently.
#[test]
fn upstream_changes_to_what_the_overlay_overrides_fail_naming_the_action() {
    let peer = "/components/schemas/secondary-dns_peer";
    // What changed, the change, and the description of the action that must fail.
    type Case = (&'static str, fn(&mut Value), &'static str);
    let cases: [Case; 5] = [
        (
            "a new required field",
            |spec| {
                let peer = spec
                    .pointer_mut("/components/schemas/secondary-dns_peer")
                    .unwrap();
                peer["required"] = json!(["id", "name", "enabled"]);
            },
            "Upstream's required list for a peer",
        ),
        (
            "a TSIG key's new required field",
            |spec| {
                let tsig = spec
                    .pointer_mut("/components/schemas/secondary-dns_tsig")
                    .unwrap();
                tsig["required"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!("comment"));
            },
            "Upstream's required list for a TSIG key",
        ),
        (
            "port retyped",
            |spec| {
                let port = spec
                    .pointer_mut("/components/schemas/secondary-dns_port")
                    .unwrap();
                port["type"] = json!("string");
            },
            "Ports are integers",
        ),
        (
            "a bound on port",
            |spec| {
                let port = spec
                    .pointer_mut("/components/schemas/secondary-dns_port")
                    .unwrap();
                port["minimum"] = json!(1);
            },
            "Ports are integers",
        ),
        (
            "a Delete body",
            |spec| {
                let delete = spec
                    .pointer_mut("/paths/~1accounts~1{account_id}~1secondary_dns~1peers~1{peer_id}/delete/requestBody/content/application~1json")
                    .unwrap();
                delete["schema"] =
                    json!({"type": "object", "properties": {"force": {"type": "boolean"}}});
            },
            "DELETE sends no body",
        ),
    ];
    assert!(vendored().pointer(peer).is_some());
    fragment::build(&vendored().to_string(), &overlay_text()).expect("today's upstream holds");
    for (what, change, action) in cases {
        let mut changed = vendored();
        change(&mut changed);
        let err = fragment::build(&changed.to_string(), &overlay_text())
            .expect_err(what)
            .to_string();
        assert!(
            err.starts_with("openapi/overlay.yaml: overlay action"),
            "{what}: {err}"
        );
        assert!(err.contains(action), "{what}: {err}");
        assert!(
            err.contains("was written against upstream's"),
            "{what}: {err}"
        );
        assert!(err.contains("x-upstream-was"), "{what}: {err}");
    }
}
