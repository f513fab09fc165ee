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
        // typify's integer width; the value's range is checked by the schema's bounds.
        .with_format("uint32", |_: &str| true)
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

/// Every `example` of an operation's request or response media, with the
/// pointer of its schema.
fn operation_examples() -> Vec<(String, Value)> {
    let mut examples = Vec::new();
    for item in spec()["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            let request = std::iter::once(&operation["requestBody"]);
            let responses = operation["responses"]
                .as_object()
                .into_iter()
                .flat_map(|r| r.values());
            for media in request
                .chain(responses)
                .filter_map(|r| r["content"].get("application/json"))
            {
                if let (Some(example), Some(schema)) =
                    (media.get("example"), media["schema"]["$ref"].as_str())
                {
                    examples.push((schema.trim_start_matches('#').to_owned(), example.clone()));
                }
            }
        }
    }
    examples
}

#[test]
fn every_example_validates_against_its_schema() {
    let operation_examples = operation_examples();
    assert!(
        operation_examples.len() >= 6,
        "operation examples went missing: {operation_examples:?}"
    );
    let schema_examples = schema_examples();
    assert!(
        schema_examples.len() >= 30,
        "schema examples went missing: {}",
        schema_examples.len()
    );
    for (pointer, example) in operation_examples.iter().chain(&schema_examples) {
        let errors = errors(&validator(pointer), example);
        assert!(
            errors.is_empty(),
            "example for {pointer} is invalid: {errors:?}"
        );
    }
    // The seed's two examples are among them.
    assert!(operation_examples.contains(&(
        "/components/schemas/PeerUpdate".to_owned(),
        update_peer_request_example().clone()
    )));
    assert!(operation_examples.contains(&(
        "/components/schemas/SinglePeerResponse".to_owned(),
        update_peer_response_example().clone()
    )));
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

/// The sdk checks path identifiers by hand (sdk/src/ids.rs); they must accept
/// exactly what the spec's identifier schemas accept.
#[test]
fn hand_written_identifiers_follow_the_spec() {
    use cloudflare_secondary_dns::{
        AccountIdentifier, AclIdentifier, PeerIdentifier, TsigIdentifier, ZoneIdentifier,
    };
    use rand::{Rng, SeedableRng};
    let schemas = [
        "AccountIdentifier",
        "PeerIdentifier",
        "TsigIdentifier",
        "ZoneIdentifier",
        "AclIdentifier",
    ]
    .map(|name| validator(&format!("/components/schemas/{name}")));
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let alphabet: Vec<char> = "0123456789abcdefABCDEFgz./%-\u{e9}\n ".chars().collect();
    let mut accepted = 0;
    for _ in 0..20_000 {
        let len = [0, 1, 2, 31, 32, 32, 32, 33, 64][rng.random_range(0..9)];
        // Mostly hex, so that valid ids are common too.
        let id: String = (0..len)
            .map(|_| {
                if rng.random_bool(0.97) {
                    alphabet[rng.random_range(0..16)]
                } else {
                    alphabet[rng.random_range(0..alphabet.len())]
                }
            })
            .collect();
        let by_spec = schemas
            .iter()
            .map(|v| v.is_valid(&json!(id)))
            .collect::<Vec<_>>();
        let by_sdk = [
            AccountIdentifier::try_from(id.as_str()).is_ok(),
            PeerIdentifier::try_from(id.as_str()).is_ok(),
            TsigIdentifier::try_from(id.as_str()).is_ok(),
            ZoneIdentifier::try_from(id.as_str()).is_ok(),
            AclIdentifier::try_from(id.as_str()).is_ok(),
        ];
        assert_eq!(by_spec, by_sdk, "{id:?}");
        accepted += usize::from(by_sdk[0]);
    }
    assert!(accepted > 1000, "too few valid ids generated: {accepted}");
}

#[test]
fn the_stand_in_starts_with_the_spec_examples() {
    use secondary_dns_stand_in as stand_in;
    let schemas = &spec()["components"]["schemas"];
    assert_eq!(
        schemas["AccountIdentifier"]["example"],
        stand_in::EXAMPLE_ACCOUNT_ID
    );
    assert_eq!(
        schemas["PeerIdentifier"]["example"],
        stand_in::EXAMPLE_PEER_ID
    );
    assert_eq!(
        schemas["TsigIdentifier"]["example"],
        stand_in::EXAMPLE_TSIG_ID
    );
    assert_eq!(
        schemas["TsigSecret"]["example"],
        stand_in::EXAMPLE_TSIG_SECRET
    );
    assert_eq!(
        update_peer_response_example()["result"],
        stand_in::example_peer()
    );
    let tsig = stand_in::example_tsig();
    for field in ["name", "algo"] {
        assert_eq!(
            tsig[field], schemas["Tsig"]["properties"][field]["example"],
            "{field}"
        );
    }
    assert_eq!(stand_in::example_acl(), example_of("Acl"));
    assert_eq!(
        schemas["ZoneIdentifier"]["example"],
        stand_in::EXAMPLE_ZONE_ID
    );
    assert_eq!(
        schemas["Incoming"]["properties"]["soa_serial"]["example"],
        stand_in::FIRST_SERIAL
    );
}

/// An instance of the schema `name` made of the spec's own examples: each
/// property's example (or that of the schema it refers to), recursively.
fn example_of(name: &str) -> Value {
    fn build(schema: &Value) -> Value {
        let schemas = &spec()["components"]["schemas"];
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let name = reference.trim_start_matches("#/components/schemas/");
            return build(&schemas[name]);
        }
        if let Some(example) = schema.get("example") {
            return example.clone();
        }
        if let Some([only]) = schema
            .get("allOf")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            return build(only);
        }
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            return Value::Object(
                properties
                    .iter()
                    .map(|(field, property)| (field.clone(), build(property)))
                    .collect(),
            );
        }
        if let Some(items) = schema.get("items") {
            return json!([build(items)]);
        }
        panic!("no example for {schema}");
    }
    build(&spec()["components"]["schemas"][name])
}

/// Every response of the operations beyond peers and TSIG keys, made of the
/// spec's examples, validates against its schema, decodes as its type and
/// encodes back unchanged.
#[test]
fn every_new_response_decodes_from_the_spec_examples() {
    fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(name: &str) -> T {
        let example = example_of(name);
        let validator = validator(&format!("/components/schemas/{name}"));
        assert_eq!(errors(&validator, &example), Vec::<String>::new(), "{name}");
        let decoded: T = serde_json::from_value(example.clone())
            .unwrap_or_else(|e| panic!("{name}: {e}: {example}"));
        assert_eq!(serde_json::to_value(&decoded).unwrap(), example, "{name}");
        decoded
    }
    let acls: types::AclCollectionResponse = round_trip("AclCollectionResponse");
    let acl = &acls.result.as_ref().unwrap()[0];
    assert_eq!(acl.ip_range.to_string(), "192.0.2.53/28");
    assert_eq!(acl.ip_range.net().map(|n| n.prefix_len()), Some(28));
    round_trip::<types::SingleAclResponse>("SingleAclResponse");
    let incoming: types::SingleIncomingResponse = round_trip("SingleIncomingResponse");
    let zone = incoming.result.unwrap();
    assert_eq!(zone.soa_serial, Some(2_019_102_400));
    assert_eq!(zone.auto_refresh_seconds, Some(86_400));
    let checked = zone.checked_time.unwrap();
    assert_eq!(checked.as_str(), "2019-10-24T17:09:42.883908+01:00");
    assert_eq!(checked.time().unwrap().unix_timestamp(), 1_571_933_382);
    assert_eq!(zone.peers.len(), 2);
    let outgoing: types::SingleOutgoingResponse = round_trip("SingleOutgoingResponse");
    assert!(outgoing.result.unwrap().last_transferred_time.is_some());
    let status: types::TransferStatusResponse = round_trip("TransferStatusResponse");
    assert_eq!(
        status.result,
        Some(cloudflare_secondary_dns::TransferStatus::Enabled)
    );
    let forced: types::ForceResponse = round_trip("ForceResponse");
    assert_eq!(
        forced.result,
        Some(cloudflare_secondary_dns::ForceOutcome::Ok)
    );
    round_trip::<types::IdResponse>("IdResponse");
    // A time in another form, and a status Cloudflare adds, still decode.
    let mut odd = example_of("SingleIncomingResponse");
    odd["result"]["modified_time"] = json!("24 Oct 2019 17:09");
    let decoded: types::SingleIncomingResponse = serde_json::from_value(odd).unwrap();
    let modified = decoded.result.unwrap().modified_time.unwrap();
    assert_eq!(
        (modified.time(), modified.as_str()),
        (None, "24 Oct 2019 17:09")
    );
    let mut paused = example_of("TransferStatusResponse");
    paused["result"] = json!("Paused");
    let decoded: types::TransferStatusResponse = serde_json::from_value(paused).unwrap();
    assert_eq!(
        decoded.result,
        Some(cloudflare_secondary_dns::TransferStatus::Other(
            "Paused".into()
        ))
    );
}
