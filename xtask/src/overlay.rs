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

/// Applies `overlay` to `document` in place. Fails, naming the action by
/// its description, when a target matches nothing or cannot be applied.
pub fn apply(overlay: &roas_overlay::v1_1::Overlay, document: &mut Value) -> Result<Vec<Applied>> {
    let options = ApplyOptions::ErrorOnZeroMatch | ApplyOptions::ErrorOnMixedKindMatch;
    let report = overlay.apply(document, options).map_err(|e| {
        let description = overlay
            .actions
            .get(e.action_index)
            .and_then(|a| a.description.clone())
            .unwrap_or_default();
        format!(
            "overlay action {} ({description:?}) failed: {}; if Cloudflare renamed or moved \
             what it targets, update the action",
            e.action_index, e.kind
        )
    })?;
    Ok(report
        .actions
        .into_iter()
        .map(|outcome| Applied {
            description: overlay.actions[outcome.index]
                .description
                .clone()
                .unwrap_or_default(),
            target: outcome.target,
            matched: outcome.matched,
        })
        .collect())
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
