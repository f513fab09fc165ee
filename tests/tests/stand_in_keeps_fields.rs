//! The stand-in never drifts silently from the contract it stands in for:
//! every field of every create and update body in the spec
//! (`openapi/secondary-dns.yaml`), sent with its example value, comes back
//! from a get of the resource with that value, and so does a field the spec
//! does not have yet (what Cloudflare adds next). A field the stand-in drops
//! fails this test, naming the operation and the field.

use serde_json::{Map, Value, json};

use secondary_dns_stand_in::{
    EXAMPLE_ACCOUNT_ID, EXAMPLE_ACL_ID, EXAMPLE_PEER_ID, EXAMPLE_TSIG_ID, SEEDED_FULL_ZONE, StandIn,
};

const METHODS: [&str; 3] = ["post", "put", "patch"];
/// The zone each direction is configured on (a zone is one or the other).
const INCOMING_ZONE: &str = "269d8f4853475ca241c4e730be286b20";
const OUTGOING_ZONE: &str = "369d8f4853475ca241c4e730be286b20";

fn spec() -> Value {
    let text = std::fs::read_to_string(xtask::workspace_root().join(xtask::SPEC_PATH)).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

/// A JSON value for `schema`: its example (an array's first item only, as a
/// one-item array: the stand-in knows one example peer), else its first enum
/// value, else a value of its type.
/// Whether `read` holds `sent`: the same value, or an object with at least
/// `sent`'s members.
fn holds(read: &Value, sent: &Value) -> bool {
    match (read, sent) {
        (Value::Object(read), Value::Object(sent)) => sent
            .iter()
            .all(|(key, value)| read.get(key).is_some_and(|read| holds(read, value))),
        _ => read == sent,
    }
}

fn example(schema: &Value, spec: &Value) -> Value {
    let mut schema = schema;
    for _ in 0..8 {
        let next = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| spec.pointer(r.strip_prefix('#')?))
            .or_else(|| match schema.get("allOf").and_then(Value::as_array) {
                Some(all) if all.len() == 1 => Some(&all[0]),
                _ => None,
            });
        match next {
            Some(next) if schema.get("example").is_none() => schema = next,
            _ => break,
        }
    }
    if let Some(example) = schema.get("example") {
        return match example {
            Value::Array(items) if !items.is_empty() => json!([items[0]]),
            other => other.clone(),
        };
    }
    if let Some(first) = schema.get("enum").and_then(|e| e.get(0)) {
        return first.clone();
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("boolean") => json!(true),
        Some("integer" | "number") => schema.get("minimum").cloned().unwrap_or(json!(1)),
        Some("array") => json!([example(&schema["items"], spec)]),
        Some("object") if schema.get("properties").is_some() => Value::Object(
            schema["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(field, property)| (field.clone(), example(property, spec)))
                .collect(),
        ),
        _ => json!("example"),
    }
}

fn concrete(path: &str) -> String {
    let zone = if path.contains("/outgoing") {
        OUTGOING_ZONE
    } else if path.ends_with("/dns_settings") {
        // DNS settings are a modelled zone's.
        SEEDED_FULL_ZONE.0
    } else {
        INCOMING_ZONE
    };
    path.replace("{account_id}", EXAMPLE_ACCOUNT_ID)
        .replace("{peer_id}", EXAMPLE_PEER_ID)
        .replace("{tsig_id}", EXAMPLE_TSIG_ID)
        .replace("{acl_id}", EXAMPLE_ACL_ID)
        .replace("{zone_id}", zone)
}

#[tokio::test]
async fn every_field_a_body_sends_is_kept_and_returned() {
    let spec = spec();
    let server = StandIn::start().await;
    let http = reqwest::Client::new();
    let call = |method: reqwest::Method, path: String, body: Option<Value>| {
        let request = http
            .request(method, format!("{}{path}", server.uri()))
            .bearer_auth("test-token");
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            let envelope: Value = response.json().await.unwrap();
            (status, envelope)
        }
    };
    let mut checked = Vec::new();
    let mut dropped = Vec::new();
    // Creates first (a zone's update needs its configuration), then updates.
    for method in METHODS {
        for (path, item) in spec["paths"].as_object().unwrap() {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let id = operation["operationId"].as_str().unwrap();
            if !(id.starts_with("create_") || id.starts_with("update_")) {
                continue;
            }
            let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
            let schema = schema
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| spec.pointer(r.strip_prefix('#').unwrap()))
                .unwrap_or(schema);
            let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
                continue;
            };
            let mut body: Map<String, Value> = properties
                .iter()
                .map(|(field, property)| (field.clone(), example(property, &spec)))
                .collect();
            body.insert("x_added_upstream".to_owned(), json!({"kept": [1, "two"]}));
            if path == "/zones" {
                // The example's name is a zone the stand-in is seeded with.
                body.insert("name".to_owned(), json!("fields.example"));
            }
            let (status, envelope) = call(
                method.to_ascii_uppercase().parse().unwrap(),
                concrete(path),
                Some(Value::Object(body.clone())),
            )
            .await;
            assert_eq!(status, 200, "{id} {method} {}: {envelope}", concrete(path));
            // Read it back as a get would (a create of a collection's member
            // is read at its new id).
            let read_path = if path.ends_with("/peers")
                || path.ends_with("/tsigs")
                || path.ends_with("/acls")
                || path == "/zones"
            {
                format!(
                    "{}/{}",
                    concrete(path),
                    envelope["result"]["id"].as_str().unwrap()
                )
            } else {
                concrete(path)
            };
            let (status, read) = call(reqwest::Method::GET, read_path, None).await;
            assert_eq!(status, 200, "{id}: {read}");
            for (field, sent) in &body {
                // An object is kept when what was sent of it is (the
                // stand-in adds an account's name, as Cloudflare does).
                if !read["result"]
                    .get(field)
                    .is_some_and(|read| holds(read, sent))
                {
                    dropped.push(format!(
                        "{id}.{field}: sent {sent}, read back {}",
                        read["result"].get(field).unwrap_or(&Value::Null)
                    ));
                }
                checked.push(format!("{id}.{field}"));
            }
        }
    }
    assert!(
        dropped.is_empty(),
        "the stand-in lost fields:\n{}",
        dropped.join("\n")
    );
    // Every create and update with a body: peers, TSIG keys, ACLs, both
    // directions of zone configuration.
    for id in [
        "create_peer",
        "update_peer",
        "create_tsig",
        "update_tsig",
        "create_acl",
        "update_acl",
        "create_incoming",
        "update_incoming",
        "create_outgoing",
        "update_outgoing",
        "create_zone",
        "update_dns_settings",
    ] {
        assert!(
            checked.iter().any(|c| c.starts_with(&format!("{id}."))),
            "{id} was not checked: {checked:?}"
        );
    }
}
