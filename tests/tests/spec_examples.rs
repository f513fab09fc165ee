//! Every example in the spec validates against its schema (a real JSON
//! Schema validator, not our generated types), and the seed's request and
//! response examples round-trip through the generated types unchanged.

use cloudflare_secondary_dns::types;
use jsonschema::{Draft, Validator};
use sdk_tests::{failure_example, spec, update_peer_request_example, update_peer_response_example};
use serde_json::{Value, json};

/// A validator for the schema at `pointer` (a JSON pointer into the spec),
/// resolving `$ref`s against the whole spec. OpenAPI 3.0 schemas are a
/// dialect of JSON Schema draft 4 (`nullable` and `example` are ignored).
fn validator(pointer: &str) -> Validator {
    let mut root = spec().clone();
    root["$ref"] = json!(format!("#{pointer}"));
    jsonschema::options()
        .with_draft(Draft::Draft4)
        .should_validate_formats(true)
        .should_ignore_unknown_formats(false)
        .with_format("ip", |s: &str| s.parse::<std::net::IpAddr>().is_ok())
        .build(&root)
        .unwrap_or_else(|e| panic!("the schema at {pointer} does not compile: {e}"))
}

fn errors(validator: &Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Every `example` on a component schema and on each of its properties, with
/// the pointer of the schema it illustrates.
fn schema_examples() -> Vec<(String, Value)> {
    let mut examples = Vec::new();
    for (name, schema) in spec()["components"]["schemas"].as_object().unwrap() {
        let pointer = format!("/components/schemas/{name}");
        if let Some(example) = schema.get("example") {
            examples.push((pointer.clone(), example.clone()));
        }
        for (property, property_schema) in schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if let Some(example) = property_schema.get("example") {
                examples.push((format!("{pointer}/properties/{property}"), example.clone()));
            }
        }
    }
    examples
}

const PUT: &str = "/paths/~1accounts~1{account_id}~1secondary_dns~1peers~1{peer_id}/put";

#[test]
fn every_example_validates_against_its_schema() {
    let mut checked = vec![
        (
            "/components/schemas/PeerUpdate".to_owned(),
            update_peer_request_example().clone(),
        ),
        (
            "/components/schemas/SinglePeerResponse".to_owned(),
            update_peer_response_example().clone(),
        ),
    ];
    checked.extend(schema_examples());
    assert!(
        checked.len() >= 20,
        "only {} examples found; did the spec lose them?",
        checked.len()
    );
    for (pointer, example) in &checked {
        let errors = errors(&validator(pointer), example);
        assert!(
            errors.is_empty(),
            "example for {pointer} is invalid: {errors:?}"
        );
    }
    // The operation's media examples are the ones checked above.
    assert_eq!(
        &spec()
            .pointer(&format!(
                "{PUT}/requestBody/content/application~1json/example"
            ))
            .unwrap(),
        &update_peer_request_example()
    );
}

#[test]
fn the_validator_rejects_what_the_schemas_forbid() {
    let response = validator("/components/schemas/SinglePeerResponse");
    let request = validator("/components/schemas/PeerUpdate");
    let failure = validator("/components/schemas/ApiResponseCommonFailure");
    let with = |base: &Value, pointer: &str, value: Value| {
        let mut changed = base.clone();
        *changed.pointer_mut(pointer).unwrap() = value;
        changed
    };
    let seed_response = update_peer_response_example();
    let seed_request = update_peer_request_example();
    assert!(!errors(&response, &with(seed_response, "/success", json!(false))).is_empty());
    assert!(
        !errors(
            &response,
            &with(seed_response, "/result/port", json!(70000))
        )
        .is_empty()
    );
    assert!(
        !errors(
            &response,
            &with(seed_response, "/result", json!({"id": "x"}))
        )
        .is_empty()
    );
    assert!(!errors(&request, &with(seed_request, "/ip", json!("not-an-ip"))).is_empty());
    assert!(!errors(&request, &with(seed_request, "/port", json!(53.5))).is_empty());
    assert!(!errors(&request, &json!({"ip": "192.0.2.53"})).is_empty());
    assert!(!errors(&failure, &with(failure_example(), "/success", json!(true))).is_empty());
}

#[test]
fn the_request_example_round_trips_through_peer_update() {
    let example = update_peer_request_example();
    let body: types::PeerUpdate = serde_json::from_value(example.clone()).unwrap();
    assert_eq!(body.ip, Some("192.0.2.53".parse().unwrap()));
    assert_eq!(body.port, Some(53));
    assert_eq!(&serde_json::to_value(&body).unwrap(), example);
}

#[test]
fn the_response_example_round_trips_through_single_peer_response() {
    let example = update_peer_response_example();
    let envelope: types::SinglePeerResponse = serde_json::from_value(example.clone()).unwrap();
    assert_eq!(envelope.result.as_ref().unwrap().port, Some(53));
    assert_eq!(&serde_json::to_value(&envelope).unwrap(), example);
}

#[test]
fn the_failure_example_decodes() {
    let failure: types::ApiResponseCommonFailure =
        serde_json::from_value(failure_example().clone()).unwrap();
    assert_eq!(failure.to_string(), "7003: No route for the URI");
}
