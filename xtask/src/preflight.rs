//! Checks the spec (after the overlay) before progenitor reads it. What
//! progenitor or the shape passes would panic on, or what needs a
//! maintainer's decision, stops the generation here: every problem at once,
//! each naming the operation or `$ref`, with the overlay action to paste into
//! `openapi/overlay.yaml` (its `description:` says why, to be filled in).
//!
//! Anything these checks miss and the generator still panics on is turned
//! into an error by [`without_panics`].

use std::cell::RefCell;
use std::fmt::Write as _;
use std::sync::Once;

use serde_json::Value;

use crate::Result;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every problem of `spec` (the spec as JSON), or `Ok` when there is none.
pub fn check(spec: &Value) -> Result<()> {
    let mut problems = Vec::new();
    if let Some(paths) = spec.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            for method in METHODS {
                if let Some(operation) = item.get(method) {
                    check_operation(spec, path, item, method, operation, &mut problems);
                }
            }
        }
    }
    check_references(spec, spec, "$", &mut problems);
    if problems.is_empty() {
        return Ok(());
    }
    let mut text = format!(
        "{} problem(s) in the spec before generation (openapi/secondary-dns.yaml, made from \
         openapi/upstream/ and openapi/overlay.yaml):",
        problems.len()
    );
    for problem in problems {
        let _ = write!(text, "\n\n{problem}");
    }
    Err(text.into())
}

fn check_operation(
    spec: &Value,
    path: &str,
    item: &Value,
    method: &str,
    operation: &Value,
    problems: &mut Vec<String>,
) {
    let target = format!("$.paths['{path}'].{method}");
    let shown = format!("{} {path}", method.to_ascii_uppercase());
    let id = operation.get("operationId").and_then(Value::as_str);
    if !id.is_some_and(is_method_name) {
        let name = suggested_method_name(id, method, path);
        let upstream = id.map_or("no operationId".to_owned(), |id| format!("upstream `{id}`"));
        problems.push(format!(
            "operation {shown} has no method name ({upstream}). Add, under \"Method names\":\n\
             \x20 - target: {target}\n\
             \x20   description: Method name `{name}` ({upstream}).\n\
             \x20   update: {{operationId: {name}}}"
        ));
    }
    let declared: Vec<&str> = [item.get("parameters"), operation.get("parameters")]
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .filter(|p| p.get("in").and_then(Value::as_str) == Some("path"))
        .filter_map(|p| p.get("name").and_then(Value::as_str))
        .collect();
    for name in template_parameters(path) {
        if declared.contains(&name) {
            continue;
        }
        let schema =
            declared_schema_elsewhere(spec, name).unwrap_or_else(|| r#"{type: string}"#.to_owned());
        problems.push(format!(
            "operation {shown} does not declare its path parameter `{name}`. Add, at the end \
             of openapi/overlay.yaml:\n\
             \x20 - target: {target}\n\
             \x20   description: Upstream does not declare `{name}`, which its path holds.\n\
             \x20   update:\n\
             \x20     parameters:\n\
             \x20       - {{in: path, name: {name}, required: true, schema: {schema}}}"
        ));
    }
    if operation.get("x-cli-group").is_none() {
        let tag = operation
            .get("tags")
            .and_then(|t| t.get(0))
            .and_then(Value::as_str);
        let (target, group) = match tag {
            Some(tag) => (
                format!("$.paths.*[?@.tags[0] == '{tag}']"),
                tag_group_name(tag),
            ),
            None => (target.clone(), "GROUP".to_owned()),
        };
        problems.push(format!(
            "operation {shown} has no `x-cli-group` (tag {}). Add, under \"Command-line groups\":\n\
             \x20 - target: {target}\n\
             \x20   description: CLI group `{group}` (WHY).\n\
             \x20   update: {{x-cli-group: {group}}}",
            tag.map_or("none".to_owned(), |t| format!("`{t}`"))
        ));
    }
}

/// Every `$ref` must point into this document, at something that is there.
fn check_references(spec: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    match value {
        Value::Object(members) => {
            for (key, member) in members {
                let here = format!("{at}['{key}']");
                match member {
                    Value::String(reference) if key == "$ref" => {
                        let found = reference
                            .strip_prefix('#')
                            .and_then(|pointer| spec.pointer(pointer));
                        if found.is_none() {
                            problems.push(format!(
                                "`$ref: {reference}` at {at} points at nothing in the spec: \
                                 add the schema it names, or retarget the reference, with an \
                                 overlay action on {at} (update: {{$ref: '#/components/schemas/…'}})"
                            ));
                        }
                    }
                    _ => check_references(spec, member, &here, problems),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check_references(spec, item, &format!("{at}[{i}]"), problems);
            }
        }
        _ => {}
    }
}

/// A name the generator makes a method of: `update_peer`.
fn is_method_name(id: &str) -> bool {
    let mut bytes = id.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// `secondary-dns-(-peer)-patch-peer` → `patch_peer`; without an id,
/// `patch` and the path's last literal segment.
fn suggested_method_name(id: Option<&str>, method: &str, path: &str) -> String {
    let from_id = id.map(|id| {
        let rest = id.rsplit_once(")-").map_or(id, |(_, rest)| rest);
        let rest = rest.strip_prefix("secondary-dns-").unwrap_or(rest);
        snake(rest)
    });
    match from_id {
        Some(name) if is_method_name(&name) => name,
        _ => {
            let segment = path
                .rsplit('/')
                .find(|s| !s.is_empty() && !s.starts_with('{'))
                .unwrap_or("resource");
            snake(&format!("{method}_{segment}"))
        }
    }
}

fn snake(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_owned();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("op_{out}")
    } else {
        out
    }
}

/// `Secondary DNS (Peer)` → `peers`.
fn tag_group_name(tag: &str) -> String {
    let inner = tag
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map_or(tag, |(inner, _)| inner);
    let name = snake(inner);
    if name.ends_with('s') {
        name
    } else {
        format!("{name}s")
    }
}

/// The `{name}`s of a path template.
fn template_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
}

/// The schema another operation declares a path parameter of that name
/// with, as YAML flow text.
fn declared_schema_elsewhere(spec: &Value, name: &str) -> Option<String> {
    let paths = spec.get("paths")?.as_object()?;
    paths
        .values()
        .flat_map(|item| {
            std::iter::once(item)
                .chain(METHODS.iter().filter_map(|m| item.get(*m)))
                .filter_map(|holder| holder.get("parameters")?.as_array())
                .flatten()
        })
        .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
        .and_then(|p| p.get("schema"))
        .map(|schema| match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => format!("{{$ref: '{reference}'}}"),
            None => schema.to_string(),
        })
}

thread_local! {
    /// Set while this thread runs [`without_panics`]: its panics are caught
    /// and their message kept here instead of printed.
    static CAUGHT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `f`, turning a panic inside it (progenitor's, typify's or a shape
/// pass's) into an error that names `what` and the panic's message. The
/// panic is not printed; other threads' panics print as before.
pub fn without_panics<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let caught = CAUGHT.with(|c| {
                let mut c = c.borrow_mut();
                match c.as_mut() {
                    Some(slot) => {
                        *slot = format!(
                            "{}{}",
                            panic_message(info.payload()),
                            info.location()
                                .map(|l| format!(" (at {}:{})", l.file(), l.line()))
                                .unwrap_or_default()
                        );
                        true
                    }
                    None => false,
                }
            });
            if !caught {
                previous(info);
            }
        }));
    });
    let outer = CAUGHT.with(|c| c.borrow_mut().replace(String::new()));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    let message = CAUGHT.with(|c| std::mem::replace(&mut *c.borrow_mut(), outer));
    match result {
        Ok(result) => result,
        Err(_) => Err(format!(
            "the generator stopped on {what}: {}. This input needs an overlay action \
             (openapi/overlay.yaml) or a generator setting (xtask/src/lib.rs); please also \
             add it to xtask/tests/hostile_specs.rs",
            message.unwrap_or_default()
        )
        .into()),
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_are_suggested_from_upstream_ids() {
        let name = |id, method, path| suggested_method_name(id, method, path);
        assert_eq!(
            name(Some("secondary-dns-(-peer)-patch-peer"), "patch", "/a/{b}"),
            "patch_peer"
        );
        assert_eq!(
            name(None, "get", "/accounts/{id}/secondary_dns/peers/{peer_id}"),
            "get_peers"
        );
        assert_eq!(name(Some("(-)-"), "get", "/x/9lives"), "get_9lives");
        assert!(is_method_name("list_peers"));
        assert!(!is_method_name("secondary-dns-(-peer)-list-peers"));
        assert_eq!(tag_group_name("Secondary DNS (Peer)"), "peers");
        assert_eq!(
            template_parameters("/a/{x}/b/{y}").collect::<Vec<_>>(),
            ["x", "y"]
        );
    }
}
