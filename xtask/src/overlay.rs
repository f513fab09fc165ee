//! Applying an OpenAPI Overlay (1.0 or 1.1) to Cloudflare's spec: each
//! deliberate difference from upstream is one action with a `description`
//! saying why.
//!
//! The engine is `roas-overlay` (RFC 9535 targets through `serde_json_path`,
//! the Overlay merge rules, 1.1's `copy`), run with `ErrorOnZeroMatch`: an
//! action whose target matches nothing fails, naming the action, so an
//! upstream rename is never skipped quietly. On any error the document is
//! left as it was. `cargo xtask generate` applies `openapi/overlay.yaml` to
//! the vendored subset (see `fragment`).

use enumset::EnumSet;
use roas_overlay::apply::{Apply, ApplyOptions};
use roas_overlay::common::apply::{compile_path, locate};
use roas_overlay::validation::{Validate, ValidationOptions};
use serde_json::Value;

use crate::Result;

/// One applied action: what it was for, and how many nodes it changed.
#[derive(Debug, PartialEq, Eq)]
pub struct Applied {
    pub description: String,
    pub target: String,
    pub matched: usize,
}

/// Parses an overlay document (YAML or JSON, Overlay 1.0.x or 1.1.x).
/// Every action must say why it exists.
pub fn parse(text: &str) -> Result<roas_overlay::v1_1::Overlay> {
    let value: Value = serde_yaml_ng::from_str(text)
        .map_err(|e| format!("the overlay is not YAML or JSON: {e}"))?;
    let version = value["overlay"].as_str().unwrap_or_default().to_owned();
    let overlay: roas_overlay::v1_1::Overlay = if version.starts_with("1.0.") {
        let v1_0: roas_overlay::v1_0::Overlay = serde_json::from_value(value)
            .map_err(|e| format!("not an Overlay 1.0 document: {e}"))?;
        v1_0.into()
    } else {
        serde_json::from_value(value)
            .map_err(|e| format!("not an Overlay 1.1 document (`overlay: {version}`): {e}"))?
    };
    overlay
        .validate(EnumSet::<ValidationOptions>::empty())
        .map_err(|e| format!("invalid overlay: {e}"))?;
    for (index, action) in overlay.actions.iter().enumerate() {
        if action
            .description
            .as_deref()
            .is_none_or(|d| d.trim().is_empty())
        {
            return Err(format!(
                "overlay action {index} (target {:?}) has no description: say why it exists",
                action.target
            )
            .into());
        }
    }
    Ok(overlay)
}

/// The extension by which an action that overrides upstream says what it
/// was written against: the value (or, for an object, the members) every
/// node it targets holds just before it applies. A member written as `null`
/// must be absent. When upstream changes what an action overrides (retypes
/// `port`, adds a required field), `generate` fails naming the action,
/// instead of masking the change; the maintainer decides, then updates it.
pub const EXPECTS: &str = "x-upstream-was";

/// Applies `overlay` to `document` in place, one action after another.
/// Fails, naming the action by its description, when a target matches
/// nothing, cannot be applied, or no longer holds what the action's
/// [`EXPECTS`] says; the document is then left as it was.
pub fn apply(overlay: &roas_overlay::v1_1::Overlay, document: &mut Value) -> Result<Vec<Applied>> {
    let original = document.clone();
    let outcome = apply_each(overlay, document);
    if outcome.is_err() {
        *document = original;
    }
    outcome
}

fn apply_each(overlay: &roas_overlay::v1_1::Overlay, document: &mut Value) -> Result<Vec<Applied>> {
    let options = ApplyOptions::ErrorOnZeroMatch | ApplyOptions::ErrorOnMixedKindMatch;
    let mut applied = Vec::with_capacity(overlay.actions.len());
    for (index, action) in overlay.actions.iter().enumerate() {
        let description = action.description.clone().unwrap_or_default();
        let failed =
            |problem: String| format!("overlay action {index} ({description:?}) {problem}");
        if let Some(expected) = action.extensions.as_ref().and_then(|e| e.get(EXPECTS)) {
            check_expectation(&action.target, expected, document).map_err(failed)?;
        }
        let single = roas_overlay::v1_1::Overlay {
            actions: vec![action.clone()],
            ..overlay.clone()
        };
        let report = single.apply(document, options).map_err(|e| {
            failed(format!(
                "failed: {}; if Cloudflare renamed or moved what it targets, update the action",
                e.kind
            ))
        })?;
        let outcome = report
            .actions
            .into_iter()
            .next()
            .expect("one action applied");
        applied.push(Applied {
            description,
            target: outcome.target,
            matched: outcome.matched,
        });
    }
    Ok(applied)
}

/// Every node `target` matches holds `expected` (see [`EXPECTS`]).
fn check_expectation(
    target: &str,
    expected: &Value,
    document: &Value,
) -> std::result::Result<(), String> {
    let path = compile_path(target).map_err(|e| format!("has an invalid target: {e}"))?;
    for pointer in locate(document, &path) {
        let found = document.pointer(&pointer).unwrap_or(&Value::Null);
        if !holds(found, expected) {
            return Err(format!(
                "was written against upstream's {expected} at {pointer}, but upstream now has \
                 {found}: decide what the sdk should do with Cloudflare's change, then update \
                 the action and its {EXPECTS}"
            ));
        }
    }
    Ok(())
}

/// Whether `found` holds `expected`: objects member by member (`null`
/// meaning absent; other members of `found` do not matter), arrays as the
/// same items in any order, anything else equal.
fn holds(found: &Value, expected: &Value) -> bool {
    match (found, expected) {
        (Value::Object(found), Value::Object(expected)) => {
            expected
                .iter()
                .all(|(key, want)| match (found.get(key), want) {
                    (None, Value::Null) => true,
                    (None, _) => false,
                    (Some(have), want) => holds(have, want),
                })
        }
        (Value::Array(found), Value::Array(expected)) => {
            found.len() == expected.len() && expected.iter().all(|want| found.contains(want))
        }
        (found, expected) => found == expected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn document() -> Value {
        json!({
            "paths": {"/p": {"put": {"operationId": "secondary-dns-(-peer)-update-peer"}}},
            "components": {"schemas": {
                "secondary-dns_peer": {"type": "object", "properties": {
                    "port": {"type": "number"},
                    "name": {"type": "string"}
                }}
            }}
        })
    }

    const OVERLAY: &str = r#"
overlay: 1.1.0
info: {title: test, version: 1.0.0}
actions:
  - target: $.paths['/p'].put
    description: Method names come from operation ids.
    update: {operationId: update_peer}
  - target: $.components.schemas
    description: The request body is its own schema.
    update: {PeerUpdate: {type: object}}
  - target: $.components.schemas.PeerUpdate
    description: Its fields are upstream's, so new ones arrive by themselves.
    copy: $.components.schemas['secondary-dns_peer']
  - target: $.components.schemas.PeerUpdate.properties.port
    description: Ports are integers.
    update: {type: integer, minimum: 0, maximum: 65535}
  - target: $.components.schemas['secondary-dns_peer']
    description: Replaced by PeerUpdate.
    remove: true
"#;

    #[test]
    fn actions_apply_in_order_and_report_what_they_matched() {
        let overlay = parse(OVERLAY).unwrap();
        let mut doc = document();
        let applied = apply(&overlay, &mut doc).unwrap();
        assert_eq!(applied.len(), 5);
        assert!(applied.iter().all(|a| a.matched == 1), "{applied:?}");
        assert_eq!(doc["paths"]["/p"]["put"]["operationId"], "update_peer");
        let peer_update = &doc["components"]["schemas"]["PeerUpdate"];
        assert_eq!(peer_update["properties"]["port"]["type"], "integer");
        assert_eq!(peer_update["properties"]["name"]["type"], "string");
        assert!(
            doc["components"]["schemas"]
                .get("secondary-dns_peer")
                .is_none()
        );
    }

    #[test]
    fn a_field_added_upstream_reaches_the_derived_schema_with_no_overlay_edit() {
        let overlay = parse(OVERLAY).unwrap();
        let mut doc = document();
        doc["components"]["schemas"]["secondary-dns_peer"]["properties"]["enabled"] =
            json!({"type": "boolean"});
        apply(&overlay, &mut doc).unwrap();
        assert_eq!(
            doc["components"]["schemas"]["PeerUpdate"]["properties"]["enabled"]["type"],
            "boolean"
        );
    }

    #[test]
    fn a_target_that_matches_nothing_fails_naming_the_action() {
        let overlay = parse(OVERLAY).unwrap();
        let mut doc = document();
        // Upstream renames the schema the overlay copies from.
        let schemas = doc["components"]["schemas"].as_object_mut().unwrap();
        let peer = schemas.remove("secondary-dns_peer").unwrap();
        schemas.insert("secondary-dns_peer_v2".to_owned(), peer);
        let before = doc.clone();
        let err = apply(&overlay, &mut doc).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "overlay action 2 (\"Its fields are upstream's, so new ones arrive by themselves.\") failed"
            ),
            "{err}"
        );
        assert_eq!(doc, before, "nothing is applied when an action fails");
    }

    #[test]
    fn an_action_fails_when_upstream_no_longer_holds_what_it_overrides() {
        let expecting = OVERLAY.replace(
            "    update: {type: integer, minimum: 0, maximum: 65535}",
            "    update: {type: integer, minimum: 0, maximum: 65535}\n    x-upstream-was: {type: number, format: null}",
        );
        let overlay = parse(&expecting).unwrap();
        apply(&overlay, &mut document()).expect("upstream still has a number");
        for changed in [
            json!({"type": "string"}),
            json!({"type": "number", "format": "int32"}),
        ] {
            let mut doc = document();
            doc["components"]["schemas"]["secondary-dns_peer"]["properties"]["port"] =
                changed.clone();
            let before = doc.clone();
            let err = apply(&overlay, &mut doc).unwrap_err().to_string();
            assert!(
                err.starts_with(
                    "overlay action 3 (\"Ports are integers.\") was written against upstream's"
                ),
                "{err}"
            );
            assert!(err.contains(&changed.to_string()), "{err}");
            assert_eq!(doc, before, "nothing is applied when an action fails");
        }
    }

    #[test]
    fn expectations_match_members_absence_and_lists_in_any_order() {
        let found = json!({"type": "number", "description": "d", "required": ["id", "name"]});
        assert!(holds(&found, &json!({"type": "number"})));
        assert!(holds(&found, &json!({"format": null})));
        assert!(holds(&found, &json!({"required": ["name", "id"]})));
        assert!(!holds(&found, &json!({"required": ["id"]})));
        assert!(!holds(
            &found,
            &json!({"required": ["id", "name", "enabled"]})
        ));
        assert!(!holds(&found, &json!({"type": null})));
        assert!(!holds(&found, &json!({"minimum": 0})));
    }

    #[test]
    fn every_action_must_say_why() {
        let err = parse(
            "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n  - target: $.paths\n    remove: true\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("has no description"), "{err}");
        let err = parse("openapi: 3.0.3").unwrap_err().to_string();
        assert!(err.contains("not an Overlay"), "{err}");
    }
}
