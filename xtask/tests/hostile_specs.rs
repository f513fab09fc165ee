//! What Cloudflare might publish, fed to the generator: each case ends in
//! generated code or in an error that names the problem (and, where the
//! overlay can fix it, the action to paste), never in a panic. The cases
//! start from the committed spec (`openapi/secondary-dns.yaml`) and change
//! one thing each.

use serde_json::{Value, json};

const PROGENITOR: &str = "0.15.1";

fn committed_spec() -> Value {
    let text = std::fs::read_to_string(xtask::workspace_root().join(xtask::SPEC_PATH)).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

/// The three outputs made from `spec`: `Ok` if all are made, else the
/// first error's text. A panic would fail the test.
fn generate(spec: &Value) -> Result<(), String> {
    let yaml = serde_yaml_ng::to_string(spec).unwrap();
    xtask::generate_sdk(&yaml, PROGENITOR).map_err(|e| e.to_string())?;
    xtask::generate_httpmock(&yaml, PROGENITOR).map_err(|e| e.to_string())?;
    xtask::generate_cli(&yaml, PROGENITOR).map_err(|e| e.to_string())?;
    Ok(())
}

const PEER: &str = "/accounts/{account_id}/secondary_dns/peers/{peer_id}";

#[test]
fn the_committed_spec_generates() {
    generate(&committed_spec()).unwrap();
}

#[test]
fn an_operation_cloudflare_adds_names_the_actions_it_needs() {
    let mut spec = committed_spec();
    spec["paths"][PEER]["patch"] = json!({
        "operationId": "secondary-dns-(-peer)-patch-peer",
        "tags": ["Secondary DNS (Peer)"],
        "responses": {"200": {"description": "ok"}}
    });
    let error = generate(&spec).unwrap_err();
    for expected in [
        "4 problem(s)",
        "operation PATCH /accounts/{account_id}/secondary_dns/peers/{peer_id} has no method name \
         (upstream `secondary-dns-(-peer)-patch-peer`)",
        "  - target: $.paths['/accounts/{account_id}/secondary_dns/peers/{peer_id}'].patch\n    \
         description: Method name `patch_peer` (upstream `secondary-dns-(-peer)-patch-peer`).\n    \
         update: {operationId: patch_peer}",
        "does not declare its path parameter `account_id`",
        "- {in: path, name: peer_id, required: true, schema: {$ref: '#/components/schemas/PeerIdentifier'}}",
        "  - target: $.paths.*[?@.tags[0] == 'Secondary DNS (Peer)']\n    \
         description: CLI group `peers` (WHY).\n    update: {x-cli-group: peers}",
    ] {
        assert!(error.contains(expected), "{expected:?} not in:\n{error}");
    }
    assert!(!error.contains("panicked"), "{error}");

    // The actions it printed, applied: the operation generates.
    let patch = &mut spec["paths"][PEER]["patch"];
    patch["operationId"] = json!("patch_peer");
    patch["x-cli-group"] = json!("peers");
    patch["parameters"] = json!([
        {"in": "path", "name": "account_id", "required": true,
         "schema": {"$ref": "#/components/schemas/AccountIdentifier"}},
        {"in": "path", "name": "peer_id", "required": true,
         "schema": {"$ref": "#/components/schemas/PeerIdentifier"}}
    ]);
    generate(&spec).unwrap();
}

#[test]
fn a_field_only_in_a_request_prints_the_action_to_type_it() {
    let mut spec = committed_spec();
    spec["components"]["schemas"]["PeerUpdate"]["properties"]["comment"] =
        json!({"type": "string", "description": "A note."});
    let error = generate(&spec).unwrap_err();
    for expected in [
        "PeerUpdate.comment has no field in Peer",
        "  - target: $.components.schemas['Peer'].properties\n",
        "      comment: {\"description\":\"A note.\",\"type\":\"string\"}",
    ] {
        assert!(error.contains(expected), "{expected:?} not in:\n{error}");
    }
    // In both, as the error says: it generates.
    spec["components"]["schemas"]["Peer"]["properties"]["comment"] =
        json!({"type": "string", "description": "A note."});
    generate(&spec).unwrap();
}

/// Changes as Cloudflare publishes them (in the upstream subset, each field a
/// `$ref` to a named schema), through the overlay and the generator, with
/// no overlay action added: a new optional boolean and a new string enum in
/// the incoming configuration's request and response.
#[test]
fn additive_upstream_changes_generate_with_no_decision() {
    let root = xtask::workspace_root();
    let read = |path: &str| std::fs::read_to_string(root.join(path)).unwrap();
    let mut subset: Value = serde_json::from_str(&read(xtask::upstream::SUBSET_PATH)).unwrap();
    let schemas = &mut subset["components"]["schemas"];
    schemas["secondary-dns_notify_primary"] =
        json!({"type": "boolean", "description": "Whether to notify.", "example": true});
    schemas["secondary-dns_transfer_mode"] =
        json!({"type": "string", "enum": ["axfr", "ixfr"], "example": "ixfr"});
    let added = json!({
        "notify_primary": {"$ref": "#/components/schemas/secondary-dns_notify_primary"},
        "transfer_mode": {"$ref": "#/components/schemas/secondary-dns_transfer_mode"}
    });
    for pointer in [
        "/secondary-dns_dns-secondary-secondary-zone/properties",
        "/secondary-dns_single_response_incoming/allOf/1/properties/result/properties",
    ] {
        let properties = schemas.pointer_mut(pointer).unwrap();
        for (name, property) in added.as_object().unwrap() {
            properties[name] = property.clone();
        }
    }
    let fragment = xtask::fragment::build(
        &serde_json::to_string(&subset).unwrap(),
        &read(xtask::fragment::OVERLAY_PATH),
    )
    .unwrap();
    let spec: Value = serde_yaml_ng::from_str(&fragment.yaml).unwrap();
    for schema in ["Incoming", "IncomingInput"] {
        for field in ["notify_primary", "transfer_mode"] {
            assert!(
                spec["components"]["schemas"][schema]["properties"]
                    .get(field)
                    .is_some(),
                "{schema}.{field}"
            );
        }
    }
    generate(&spec).unwrap();
}

#[test]
fn a_reference_to_nowhere_is_named_where_it_is() {
    let mut spec = committed_spec();
    spec["components"]["schemas"]["Peer"]["properties"]["ip"] =
        json!({"$ref": "#/components/schemas/Missing"});
    let error = generate(&spec).unwrap_err();
    assert!(
        error.contains(
            "`$ref: #/components/schemas/Missing` at $['components']['schemas']['Peer']\
             ['properties']['ip'] points at nothing"
        ),
        "{error}"
    );
}

#[test]
fn hostile_inputs_end_in_code_or_an_error_never_a_panic() {
    // Each case with what it ends in: `None` generated code, `Some` an error
    // holding that text.
    type Change = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Change, Option<&str>)> = vec![
        (
            "a schema that refers to itself",
            Box::new(|spec| {
                spec["components"]["schemas"]["Peer"]["properties"]["next"] =
                    json!({"$ref": "#/components/schemas/Peer"});
            }),
            None,
        ),
        (
            "two schemas that refer to each other",
            Box::new(|spec| {
                let schemas = &mut spec["components"]["schemas"];
                schemas["A"] = json!({"type": "object", "properties":
                    {"b": {"$ref": "#/components/schemas/B"}}});
                schemas["B"] = json!({"type": "object", "properties":
                    {"a": {"$ref": "#/components/schemas/A"}}});
                schemas["Peer"]["properties"]["a"] = json!({"$ref": "#/components/schemas/A"});
            }),
            None,
        ),
        (
            "a schema and a property whose names are not identifiers",
            Box::new(|spec| {
                let schemas = &mut spec["components"]["schemas"];
                schemas["9 lives/☃ (v2)"] = json!({"type": "object", "properties":
                    {"fn": {"type": "string"}, "a-b c": {"type": "integer"}, "": {"type": "string"}}});
                schemas["Peer"]["properties"]["weird"] =
                    json!({"$ref": "#/components/schemas/9 lives~1☃ (v2)"});
            }),
            None,
        ),
        (
            "an operation id that is a Rust keyword",
            Box::new(|spec| {
                spec["paths"][PEER]["get"]["operationId"] = json!("type");
            }),
            None,
        ),
        (
            "a reference outside the document",
            Box::new(|spec| {
                spec["components"]["schemas"]["Peer"]["properties"]["ip"] =
                    json!({"$ref": "https://example.com/schema.json"});
            }),
            Some(
                "`$ref: https://example.com/schema.json` at $['components']['schemas']['Peer']['properties']['ip'] points at nothing",
            ),
        ),
        (
            "a path parameter declared twice",
            Box::new(|spec| {
                let parameters = spec["paths"][PEER]["get"]["parameters"]
                    .as_array_mut()
                    .unwrap();
                let first = parameters[0].clone();
                parameters.push(first);
            }),
            None,
        ),
        (
            "an enum of mixed types",
            Box::new(|spec| {
                spec["components"]["schemas"]["Peer"]["properties"]["mode"] =
                    json!({"enum": ["a", 1, null, true]});
            }),
            Some(
                "the generator stopped on the spec's types: multiple implied types for an un-typed enum",
            ),
        ),
    ];
    for (name, change, expected) in cases {
        let mut spec = committed_spec();
        change(&mut spec);
        let outcome = generate(&spec);
        match (expected, outcome) {
            (None, Ok(())) => {}
            (Some(text), Err(error)) => assert!(error.contains(text), "{name}: {error}"),
            (expected, outcome) => panic!("{name}: expected {expected:?}, got {outcome:?}"),
        }
    }
}
