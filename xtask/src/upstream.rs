//! Cloudflare's published spec, cut down to its Secondary DNS part: the
//! subset vendored under `openapi/upstream/` (`import`), and what changed
//! for these operations between it and a newer download (`diff`).
//!
//! The subset keeps upstream's values exactly: the selected paths whole, every
//! component they reference (transitively), the security schemes their
//! requirements name, and the document's `openapi`, `info`, `servers` and
//! `security`. Keys come out sorted (serde_json's map), which changes no value.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::Result;

/// The vendored subset, relative to the workspace root.
pub const SUBSET_PATH: &str = "openapi/upstream/secondary-dns.json";
/// Where the subset came from, relative to the workspace root.
pub const PROVENANCE_PATH: &str = "openapi/upstream/provenance.json";
/// The rule for the paths taken, one rule rather than a list of operations:
/// every path with a `secondary_dns` segment (account-level peers, TSIG keys
/// and ACLs; zone-level incoming and outgoing transfers), so that an
/// operation Cloudflare adds there is taken by the next import, plus the
/// zone paths a transfer setup needs ([`ZONE_PATHS`]: the zone itself, made
/// secondary or found by name, and its DNS settings), whole.
pub const PATH_RULE: &str = "every path with a `secondary_dns` segment, plus `/zones`, \
                             `/zones/{zone_id}` and `/zones/{zone_id}/dns_settings`";
/// The segment [`PATH_RULE`] looks for.
pub const PATH_SEGMENT: &str = "secondary_dns";
/// The zone paths [`PATH_RULE`] takes beside the Secondary DNS ones: a
/// secondary zone must exist (`POST /zones`, type `secondary`) before it can
/// transfer, operators name zones by name (`GET /zones?name=`), and a primary
/// zone's apex NS records reach its secondaries only with `multi_provider`
/// (`/dns_settings`).
pub const ZONE_PATHS: [&str; 3] = [
    "/zones",
    "/zones/{zone_id}",
    "/zones/{zone_id}/dns_settings",
];
/// Where Cloudflare publishes the whole spec.
pub const DEFAULT_SOURCE: &str = "https://github.com/cloudflare/api-schemas (openapi.json)";

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// What `import` records besides the file's own hash.
#[derive(Debug, Default)]
pub struct ImportOptions<'a> {
    /// The upstream commit the file was taken at.
    pub commit: Option<&'a str>,
    /// The date of that commit.
    pub date: Option<&'a str>,
    /// Where it was published (default [`DEFAULT_SOURCE`]).
    pub source: Option<&'a str>,
}

fn read_spec(file: &Path) -> Result<(Vec<u8>, Value)> {
    let shown = file.display();
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let document = parse_document(&bytes).map_err(|e| format!("{shown}: {e}"))?;
    Ok((bytes, document))
}

/// Replaces the subset and provenance under `root` with the Secondary DNS
/// part of `file`. A file that is not an OpenAPI document, or has none of the
/// paths, is refused before anything is written. Returns a summary line.
pub fn import_file(root: &Path, file: &Path, options: &ImportOptions<'_>) -> Result<String> {
    let (bytes, document) = read_spec(file)?;
    let subset = subset(&document).map_err(|e| format!("{}: {e}", file.display()))?;
    let provenance = provenance(
        &bytes,
        options.source.unwrap_or(DEFAULT_SOURCE),
        options.commit,
        options.date,
    );
    for (path, value) in [(SUBSET_PATH, &subset), (PROVENANCE_PATH, &provenance)] {
        let path = root.join(path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        // Written beside, then renamed: a reader never sees half a file.
        let temporary = path.with_extension("json.tmp");
        std::fs::write(&temporary, to_file_text(value))
            .and_then(|()| std::fs::rename(&temporary, &path))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let operations: usize = subset["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(_, item)| METHODS.iter().filter(|m| item.get(**m).is_some()).count())
        .sum();
    Ok(format!(
        "wrote {SUBSET_PATH} ({operations} operations, {} components) and {PROVENANCE_PATH}",
        subset["components"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(_, section)| section.as_object().map_or(0, Map::len))
            .sum::<usize>()
    ))
}

/// What changed between the subset vendored under `root` and `file`'s:
/// `None` when nothing did, else the report (one change a line).
pub fn diff_file(root: &Path, file: &Path) -> Result<Option<String>> {
    let vendored_path = root.join(SUBSET_PATH);
    let vendored = std::fs::read(&vendored_path)
        .map_err(|e| format!("cannot read {}: {e}", vendored_path.display()))?;
    let vendored = parse_document(&vendored)?;
    let (_, document) = read_spec(file)?;
    let fresh = subset(&document).map_err(|e| format!("{}: {e}", file.display()))?;
    let changes = diff(&vendored, &fresh);
    if changes.is_empty() {
        let note = if vendored == fresh {
            None
        } else {
            Some(
                "no change in operations, parameters, properties, responses or security; \
                 descriptions, examples or other details differ (`upstream import` takes them)\n"
                    .to_owned(),
            )
        };
        return Ok(note);
    }
    Ok(Some(
        changes.iter().map(|line| format!("{line}\n")).collect(),
    ))
}

/// Parses a whole downloaded spec (JSON, or YAML).
pub fn parse_document(bytes: &[u8]) -> Result<Value> {
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(value) => value,
        Err(json_error) => serde_yaml_ng::from_slice(bytes).map_err(|_| {
            format!("not an OpenAPI document: it is neither JSON ({json_error}) nor YAML")
        })?,
    };
    match value.get("openapi") {
        Some(Value::String(v)) if v.starts_with("3.") => {}
        Some(Value::String(v)) => {
            return Err(format!("not an OpenAPI 3 document (`openapi: {v}`)").into());
        }
        Some(other) => {
            return Err(format!("not an OpenAPI 3 document (`openapi: {other}`)").into());
        }
        None => return Err("not an OpenAPI document: it has no `openapi` version".into()),
    }
    if !value.get("paths").is_some_and(Value::is_object) {
        return Err("not an OpenAPI document: it has no `paths` object".into());
    }
    Ok(value)
}

/// Whether [`PATH_RULE`] takes `path`.
pub fn is_taken(path: &str) -> bool {
    ZONE_PATHS.contains(&path) || path.split('/').any(|segment| segment == PATH_SEGMENT)
}

/// The Secondary DNS subset of a whole spec.
pub fn subset(whole: &Value) -> Result<Value> {
    let paths: Map<String, Value> = whole["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(path, _)| is_taken(path))
        .map(|(path, item)| (path.clone(), item.clone()))
        .collect();
    // The zone paths alone are not the Secondary DNS API (every spec of
    // Cloudflare's has them).
    if !paths
        .keys()
        .any(|path| path.split('/').any(|segment| segment == PATH_SEGMENT))
    {
        return Err(format!(
            "none of the Secondary DNS paths (every path with a `{PATH_SEGMENT}` segment) is in \
             this document"
        )
        .into());
    }

    // Every `#/components/...` reference, followed until nothing new turns up.
    let mut components: BTreeMap<(String, String), Value> = BTreeMap::new();
    let mut pending: Vec<String> = Vec::new();
    collect_refs(&Value::Object(paths.clone()), &mut pending);
    while let Some(reference) = pending.pop() {
        let Some(pointer) = reference.strip_prefix('#') else {
            return Err(format!("external reference {reference:?} is not supported").into());
        };
        let segments: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
        let [kind @ "components", section, name] = segments[..] else {
            return Err(format!("reference {reference:?} is not to a component").into());
        };
        let key = (section.to_owned(), unescape(name));
        if components.contains_key(&key) {
            continue;
        }
        let target = whole
            .pointer(pointer)
            .ok_or_else(|| format!("reference {reference:?} does not resolve ({kind})"))?;
        collect_refs(target, &mut pending);
        components.insert(key, target.clone());
    }

    // Security schemes are named by requirements, not referenced.
    let mut schemes = BTreeSet::new();
    let global_security = whole.get("security").cloned();
    let mut requirements: Vec<&Value> = global_security.iter().collect();
    for item in paths.values() {
        for method in METHODS {
            if let Some(security) = item.get(method).and_then(|op| op.get("security")) {
                requirements.push(security);
            }
        }
    }
    for requirement in requirements.iter().filter_map(|r| r.as_array()).flatten() {
        schemes.extend(
            requirement
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k.clone()),
        );
    }
    for scheme in schemes {
        let definition = whole["components"]["securitySchemes"]
            .get(&scheme)
            .ok_or_else(|| format!("security scheme {scheme:?} is not defined"))?;
        components.insert(("securitySchemes".to_owned(), scheme), definition.clone());
    }

    let mut sections: Map<String, Value> = Map::new();
    for ((section, name), value) in components {
        sections
            .entry(section)
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .expect("sections are objects")
            .insert(name, value);
    }
    let mut out = Map::new();
    for key in ["openapi", "info", "servers", "security"] {
        if let Some(value) = whole.get(key) {
            out.insert(key.to_owned(), value.clone());
        }
    }
    out.insert("paths".to_owned(), Value::Object(paths));
    out.insert("components".to_owned(), Value::Object(sections));
    Ok(Value::Object(out))
}

fn collect_refs(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(members) => {
            for (key, member) in members {
                match (key.as_str(), member) {
                    ("$ref", Value::String(reference)) => found.push(reference.clone()),
                    _ => collect_refs(member, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, found)),
        _ => {}
    }
}

/// A JSON pointer segment as a key (`~1` is `/`, `~0` is `~`).
fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Where a subset came from: enough to find the same file again and to see
/// that it is the same.
pub fn provenance(whole: &[u8], source: &str, commit: Option<&str>, date: Option<&str>) -> Value {
    json!({
        "source": source,
        "commit": commit,
        "date": date,
        "sha256": sha256_hex(whole),
        "bytes": whole.len(),
        "paths": PATH_RULE,
    })
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// The text a value is written as in the repository: pretty JSON, one newline.
pub fn to_file_text(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("a JSON value serializes");
    text.push('\n');
    text
}

/// A readable list of what changed for the Secondary DNS operations from
/// `old` to `new` (both subsets, or whole documents): operations, parameters,
/// request and response properties (added, removed, retyped, required),
/// response codes and security. Empty when nothing did.
pub fn diff(old: &Value, new: &Value) -> Vec<String> {
    let (old_ops, new_ops) = (operations(old), operations(new));
    let mut out = Vec::new();
    for (key, new_op) in &new_ops {
        match old_ops.get(key) {
            None => out.push(format!("+ operation {key} ({})", op_id(new_op))),
            Some(old_op) => {
                let mut changes = Vec::new();
                diff_operation(old, old_op, new, new_op, &mut changes);
                if !changes.is_empty() {
                    out.push(format!("~ operation {key} ({})", op_id(new_op)));
                    out.extend(changes.into_iter().map(|c| format!("    {c}")));
                }
            }
        }
    }
    for (key, old_op) in &old_ops {
        if !new_ops.contains_key(key) {
            out.push(format!("- operation {key} ({})", op_id(old_op)));
        }
    }
    let (old_schemes, new_schemes) = (
        &old["components"]["securitySchemes"],
        &new["components"]["securitySchemes"],
    );
    let empty = Map::new();
    let (old_map, new_map) = (
        old_schemes.as_object().unwrap_or(&empty),
        new_schemes.as_object().unwrap_or(&empty),
    );
    for (name, scheme) in new_map {
        match old_map.get(name) {
            None => out.push(format!("+ security scheme {name}: {scheme}")),
            Some(old_scheme) if old_scheme != scheme => out.push(format!(
                "~ security scheme {name}: {old_scheme} -> {scheme}"
            )),
            Some(_) => {}
        }
    }
    for name in old_map.keys().filter(|name| !new_map.contains_key(*name)) {
        out.push(format!("- security scheme {name}"));
    }
    out
}

/// `METHOD path` → operation, for the Secondary DNS paths.
fn operations(doc: &Value) -> BTreeMap<String, &Value> {
    let mut out = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        if !is_taken(path) {
            continue;
        }
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.insert(format!("{} {path}", method.to_uppercase()), op);
            }
        }
    }
    out
}

fn op_id(op: &Value) -> &str {
    op["operationId"].as_str().unwrap_or("no operationId")
}

fn diff_operation(old: &Value, old_op: &Value, new: &Value, new_op: &Value, out: &mut Vec<String>) {
    if old_op["operationId"] != new_op["operationId"] {
        out.push(format!(
            "operationId: {} -> {}",
            old_op["operationId"], new_op["operationId"]
        ));
    }
    // Parameters, by where and name.
    let params = |doc: &Value, op: &Value| -> BTreeMap<String, (bool, String)> {
        op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| resolve(doc, p))
            .map(|p| {
                (
                    format!(
                        "{} `{}`",
                        p["in"].as_str().unwrap_or("?"),
                        p["name"].as_str().unwrap_or("?")
                    ),
                    (p["required"] == json!(true), type_of(doc, &p["schema"])),
                )
            })
            .collect()
    };
    let (old_params, new_params) = (params(old, old_op), params(new, new_op));
    diff_maps("parameter", &old_params, &new_params, out);

    // The request body's properties.
    let body = |doc: &Value, op: &Value| {
        let body = resolve(doc, &op["requestBody"]);
        let mut props = BTreeMap::new();
        if let Some(schema) = body["content"]["application/json"].get("schema") {
            flatten(doc, schema, "", &mut props, 0);
        }
        (
            body.get("required") == Some(&json!(true)),
            body.is_object(),
            props,
        )
    };
    let (old_body, new_body) = (body(old, old_op), body(new, new_op));
    match (old_body.1, new_body.1) {
        (false, true) => out.push("+ request body".to_owned()),
        (true, false) => out.push("- request body".to_owned()),
        _ => {}
    }
    if old_body.0 != new_body.0 && old_body.1 && new_body.1 {
        out.push(format!(
            "request body required: {} -> {}",
            old_body.0, new_body.0
        ));
    }
    diff_maps("request property", &old_body.2, &new_body.2, out);

    // Responses: codes, then each common code's properties.
    let responses = |op: &Value| -> BTreeSet<String> {
        op["responses"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(code, _)| code.clone())
            .collect()
    };
    let (old_codes, new_codes) = (responses(old_op), responses(new_op));
    for code in new_codes.difference(&old_codes) {
        out.push(format!("+ response {code}"));
    }
    for code in old_codes.difference(&new_codes) {
        out.push(format!("- response {code}"));
    }
    for code in old_codes.intersection(&new_codes) {
        let props = |doc: &Value, op: &Value| {
            let response = resolve(doc, &op["responses"][code]);
            let mut props = BTreeMap::new();
            if let Some(schema) = response["content"]["application/json"].get("schema") {
                flatten(doc, schema, "", &mut props, 0);
            }
            props
        };
        diff_maps(
            &format!("response {code} property"),
            &props(old, old_op),
            &props(new, new_op),
            out,
        );
    }

    if old_op["security"] != new_op["security"] {
        out.push(format!(
            "security: {} -> {}",
            security_text(&old_op["security"]),
            security_text(&new_op["security"])
        ));
    }
}

fn security_text(security: &Value) -> String {
    match security.as_array() {
        None => "(document default)".to_owned(),
        Some(requirements) => requirements
            .iter()
            .map(|r| {
                r.as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>()
                    .join(" + ")
            })
            .collect::<Vec<_>>()
            .join(" | "),
    }
}

/// Reports what was added, removed or changed between two `name → (required, type)` maps.
fn diff_maps(
    what: &str,
    old: &BTreeMap<String, (bool, String)>,
    new: &BTreeMap<String, (bool, String)>,
    out: &mut Vec<String>,
) {
    let required = |r: bool| if r { ", required" } else { "" };
    for (name, (req, ty)) in new {
        match old.get(name) {
            None => out.push(format!("+ {what} {name}: {ty}{}", required(*req))),
            Some((old_req, old_ty)) => {
                if old_ty != ty {
                    out.push(format!("~ {what} {name}: {old_ty} -> {ty}"));
                }
                if old_req != req {
                    let now = if *req {
                        "now required"
                    } else {
                        "no longer required"
                    };
                    out.push(format!("~ {what} {name}: {now}"));
                }
            }
        }
    }
    for (name, (_, ty)) in old {
        if !new.contains_key(name) {
            out.push(format!("- {what} {name}: {ty}"));
        }
    }
}

/// The value at a `$ref` (followed repeatedly), or the value itself.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    let mut value = value;
    for _ in 0..32 {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => match reference.strip_prefix('#').and_then(|p| doc.pointer(p)) {
                Some(target) => value = target,
                None => return &Value::Null,
            },
            None => return value,
        }
    }
    &Value::Null
}

/// A schema's type in a few words: `string`, `number`, `array of integer`,
/// `object`, `enum [true]`, `anyOf(object | string)`.
fn type_of(doc: &Value, schema: &Value) -> String {
    let schema = resolve(doc, schema);
    let mut text = if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        let types: Vec<String> = parts
            .iter()
            .map(|p| type_of(doc, p))
            .filter(|t| t != "any")
            .collect();
        match types.as_slice() {
            [] => "any".to_owned(),
            [one] => one.clone(),
            _ => format!("allOf({})", types.join(" & ")),
        }
    } else if let Some((kind, parts)) = ["anyOf", "oneOf"]
        .iter()
        .find_map(|k| schema.get(*k).and_then(Value::as_array).map(|p| (k, p)))
    {
        let types: Vec<String> = parts.iter().map(|p| type_of(doc, p)).collect();
        format!("{kind}({})", types.join(" | "))
    } else {
        match schema.get("type").and_then(Value::as_str) {
            Some("array") => format!("array of {}", type_of(doc, &schema["items"])),
            Some(ty) => ty.to_owned(),
            None if schema.get("properties").is_some() => "object".to_owned(),
            None => "any".to_owned(),
        }
    };
    if let Some(format) = schema.get("format").and_then(Value::as_str) {
        let _ = write!(text, " ({format})");
    }
    if let Some(values) = schema.get("enum") {
        let _ = write!(text, " enum {values}");
    }
    if schema.get("nullable") == Some(&json!(true)) {
        text.push_str(", nullable");
    }
    text
}

/// Every property below `schema`, by dotted path (`result.port`,
/// `result[].id`), with whether it is required and its type. `allOf` parts
/// are merged; `$ref`s are followed (to a bounded depth, for cycles).
fn flatten(
    doc: &Value,
    schema: &Value,
    prefix: &str,
    out: &mut BTreeMap<String, (bool, String)>,
    depth: usize,
) {
    if depth > 16 {
        return;
    }
    let schema = resolve(doc, schema);
    let mut required: BTreeSet<&str> = BTreeSet::new();
    let mut properties: Vec<(&String, &Value)> = Vec::new();
    let mut parts = vec![schema];
    let mut i = 0;
    while i < parts.len() {
        let part = parts[i];
        for sub in part
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            parts.push(resolve(doc, sub));
        }
        required.extend(
            part["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str),
        );
        properties.extend(part["properties"].as_object().into_iter().flatten());
        i += 1;
    }
    if schema.get("type").and_then(Value::as_str) == Some("array") {
        flatten(
            doc,
            &schema["items"],
            &format!("{prefix}[]"),
            out,
            depth + 1,
        );
    }
    for (name, property) in properties {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        // A later allOf part may restate a property: the first type stays, `required` merges.
        let entry = out
            .entry(path.clone())
            .or_insert_with(|| (false, type_of(doc, property)));
        entry.0 |= required.contains(name.as_str());
        flatten(doc, property, &path, out, depth + 1);
    }
}
