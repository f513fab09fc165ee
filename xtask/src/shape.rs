//! The sdk's own shape on top of progenitor's output, where progenitor has no
//! setting for it. Each pass works on the parsed code (syn), by rule, never on
//! a hand list of operations or types, so an operation or schema Cloudflare
//! adds is shaped like the others with no edit here.
//!
//! On the client (`generated.rs`):
//! - every operation's `send()` returns the sdk's `ApiError`, which prints
//!   readably, instead of progenitor's `Error`, whose `Display` dumps headers
//!   and `Debug` of the envelope;
//! - every builder setter has a doc line: the field's description from the
//!   spec (types) or the parameter's (operations), and whether it is required;
//! - the `Client` page names the crate's version beside the spec's;
//! - every response envelope implements `crate::envelope::Envelope`
//!   (`into_result()`, and an envelope made of just its result);
//! - the resource an update returns turns into that update's body
//!   (`From<&Peer> for PeerUpdate`), for every `PUT` of the spec;
//! - every struct converts from a reference to itself (so `&body` is accepted
//!   wherever a value or its builder is).
//!
//! On the mocks (`sdk-httpmock`): every matcher and response takes what the
//! client's setters take (`"…"` ids, builders, a bare resource for `ok`).

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::Span;
use quote::ToTokens;
use syn::{
    Attribute, Fields, File, GenericArgument, Ident, ImplItem, Item, ItemImpl, ItemMod, ItemStruct,
    PathArguments, ReturnType, Type, parse_quote,
};

use crate::Result;

/// What the passes need to know of the spec.
pub struct SpecFacts {
    /// Operation builder name (`UpdatePeer`) → parameter name → description.
    pub parameters: BTreeMap<String, BTreeMap<String, String>>,
    /// For each `PUT`: the request body's type and the 200 response's envelope type.
    pub updates: Vec<(String, String)>,
    /// Type → field → the description of the named schema the field refers
    /// to (typify documents a field only from a description of its own).
    pub referenced_docs: BTreeMap<String, BTreeMap<String, String>>,
    /// Every operation, in the spec's order.
    pub operations: Vec<OperationFacts>,
    /// Type → the limits of its fields that typify does not check (`maxItems`,
    /// `minItems`, an integer's `minimum` above what its Rust type implies).
    pub limits: BTreeMap<String, Vec<Limit>>,
    /// The types that hold a secret schema (see [`SECRET_SCHEMAS`]), directly
    /// or through the schemas they refer to.
    pub secret_bearing: BTreeSet<String>,
    /// Every component schema as JSON, by its name in the spec, for errors
    /// that print the overlay action to write.
    pub schemas_json: BTreeMap<String, serde_json::Value>,
    /// Operation builder name → each flag (path parameter or body field,
    /// `kebab-case`) → an example value that parses (see [`example_value`]).
    pub flag_examples: BTreeMap<String, Vec<(String, String)>>,
}

/// The schemas whose values are secrets (the generator replaces them with
/// types that never print).
pub const SECRET_SCHEMAS: [&str; 1] = ["TsigSecret"];

/// What the runtime and the CLI need to know of one operation.
#[derive(Clone, Debug)]
pub struct OperationFacts {
    /// `update_peer`.
    pub id: String,
    /// `UpdatePeer`, the builder's and the CLI command's name.
    pub builder: String,
    /// The request body's type, if it has one.
    pub body: Option<String>,
    /// The 200 response's envelope type.
    pub success: Option<String>,
    /// `x-cli-group`: the CLI command the operation is a subcommand of.
    pub group: Option<String>,
    /// How many properties the request body's schema has (0: none, or an
    /// empty body such as Force AXFR's).
    pub body_fields: usize,
}

/// A field's limit that the generated type does not enforce.
#[derive(Clone, Debug, PartialEq)]
pub struct Limit {
    pub field: String,
    pub rule: Rule,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rule {
    MaxItems(u64),
    MinItems(u64),
    Minimum(u64),
}

impl SpecFacts {
    pub fn of(spec: &openapiv3::OpenAPI) -> Self {
        let mut parameters = BTreeMap::new();
        let mut updates = Vec::new();
        let mut operations = Vec::new();
        for (_, item) in spec.paths.iter() {
            let Some(item) = item.as_item() else { continue };
            for (method, operation) in item.iter() {
                let Some(id) = &operation.operation_id else {
                    continue;
                };
                let builder = pascal_case(id);
                let mut described = BTreeMap::new();
                for parameter in operation.parameters.iter().chain(&item.parameters) {
                    if let Some(parameter) = parameter.as_item() {
                        let data = parameter.parameter_data_ref();
                        if let Some(description) = &data.description {
                            described.insert(data.name.clone(), description.clone());
                        }
                    }
                }
                parameters.insert(builder.clone(), described);
                let success = operation
                    .responses
                    .responses
                    .get(&openapiv3::StatusCode::Code(200))
                    .and_then(response_type);
                let body = operation.request_body.as_ref().and_then(body_type);
                let body_fields = body
                    .as_ref()
                    .and_then(|name| {
                        let schemas = &spec.components.as_ref()?.schemas;
                        let (_, schema) = schemas.iter().find(|(n, _)| pascal_case(n) == *name)?;
                        match &schema.as_item()?.schema_kind {
                            openapiv3::SchemaKind::Type(openapiv3::Type::Object(object)) => {
                                Some(object.properties.len())
                            }
                            _ => None,
                        }
                    })
                    .unwrap_or(0);
                operations.push(OperationFacts {
                    id: id.clone(),
                    builder,
                    body,
                    body_fields,
                    success,
                    group: operation
                        .extensions
                        .get("x-cli-group")
                        .and_then(|g| g.as_str())
                        .map(str::to_owned),
                });
                if method == "put"
                    && let Some(body) = operation.request_body.as_ref().and_then(body_type)
                    && let Some(envelope) = operation
                        .responses
                        .responses
                        .get(&openapiv3::StatusCode::Code(200))
                        .and_then(response_type)
                {
                    updates.push((body, envelope));
                }
            }
        }
        let mut referenced_docs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let schemas = spec.components.as_ref().map(|c| &c.schemas);
        for (name, schema) in schemas.into_iter().flatten() {
            let Some(schema) = schema.as_item() else {
                continue;
            };
            let openapiv3::SchemaKind::Type(openapiv3::Type::Object(object)) = &schema.schema_kind
            else {
                continue;
            };
            for (field, property) in &object.properties {
                let target = match property {
                    openapiv3::ReferenceOr::Reference { reference } => Some(reference.as_str()),
                    openapiv3::ReferenceOr::Item(item) => match &item.schema_kind {
                        openapiv3::SchemaKind::AllOf { all_of } if all_of.len() == 1 => {
                            match &all_of[0] {
                                openapiv3::ReferenceOr::Reference { reference } => {
                                    Some(reference.as_str())
                                }
                                openapiv3::ReferenceOr::Item(_) => None,
                            }
                        }
                        _ => None,
                    },
                };
                let described = target
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                    .and_then(|r| schemas?.get(r)?.as_item())
                    .and_then(|referenced| referenced.schema_data.description.clone());
                if let Some(description) = described {
                    referenced_docs
                        .entry(pascal_case(name))
                        .or_default()
                        .insert(field.clone(), description);
                }
            }
        }
        let components = spec.components.as_ref();
        let schemas_json: BTreeMap<String, serde_json::Value> = components
            .map(|c| &c.schemas)
            .into_iter()
            .flatten()
            .filter_map(|(name, schema)| Some((name.clone(), serde_json::to_value(schema).ok()?)))
            .collect();
        let mut flag_examples = BTreeMap::new();
        for (_, item) in spec.paths.iter() {
            let Some(item) = item.as_item() else { continue };
            for (_, operation) in item.iter() {
                let Some(id) = &operation.operation_id else {
                    continue;
                };
                let mut examples = Vec::new();
                for parameter in operation.parameters.iter().chain(&item.parameters) {
                    let Some(data) = parameter.as_item().map(|p| p.parameter_data_ref()) else {
                        continue;
                    };
                    if let openapiv3::ParameterSchemaOrContent::Schema(schema) = &data.format
                        && let Ok(schema) = serde_json::to_value(schema)
                    {
                        examples.push((
                            data.name.replace('_', "-"),
                            example_value(&schema, &schemas_json),
                        ));
                    }
                }
                let body = operation.request_body.as_ref().and_then(body_type);
                let properties = body
                    .and_then(|name| schemas_json.iter().find(|(n, _)| pascal_case(n) == name))
                    .and_then(|(_, schema)| schema.get("properties")?.as_object());
                for (field, schema) in properties.into_iter().flatten() {
                    examples.push((
                        field.replace('_', "-"),
                        example_value(schema, &schemas_json),
                    ));
                }
                flag_examples.insert(pascal_case(id), examples);
            }
        }
        Self {
            parameters,
            updates,
            referenced_docs,
            operations,
            flag_examples,
            limits: limits(&schemas_json),
            secret_bearing: secret_bearing(&schemas_json),
            schemas_json,
        }
    }
}

/// An example of a value of `schema` as a flag takes it: the spec's
/// `example` (an array's first item: a flag takes one value per use), else
/// its first enum value, else a placeholder of its type that parses (`true`,
/// `1` or the minimum, a 32-hex id, `192.0.2.53`, `example`). `$ref`s and
/// single `allOf`s are followed.
pub fn example_value(
    schema: &serde_json::Value,
    schemas: &BTreeMap<String, serde_json::Value>,
) -> String {
    use serde_json::Value;
    let text = |value: &Value| match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let mut schema = schema;
    for _ in 0..8 {
        if let Some(example) = schema.get("example") {
            return match example {
                Value::Array(items) if !items.is_empty() => text(&items[0]),
                other => text(other),
            };
        }
        let next = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .and_then(|name| schemas.get(name))
            .or_else(|| match schema.get("allOf").and_then(Value::as_array) {
                Some(all) if all.len() == 1 => Some(&all[0]),
                _ => None,
            })
            .or_else(|| schema.get("items"));
        match next {
            Some(next) => schema = next,
            None => break,
        }
    }
    if let Some(first) = schema.get("enum").and_then(|e| e.get(0)) {
        return text(first);
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("boolean") => "true".to_owned(),
        Some("integer" | "number") => schema.get("minimum").map_or_else(|| "1".to_owned(), text),
        _ if schema.get("pattern").and_then(Value::as_str) == Some("^[0-9a-f]{32}$") => {
            "0123456789abcdef0123456789abcdef".to_owned()
        }
        _ if schema.get("format").and_then(Value::as_str) == Some("ip") => "192.0.2.53".to_owned(),
        _ => "example".to_owned(),
    }
}

/// The limits of each schema's properties that typify leaves unchecked.
fn limits(schemas: &BTreeMap<String, serde_json::Value>) -> BTreeMap<String, Vec<Limit>> {
    let mut out: BTreeMap<String, Vec<Limit>> = BTreeMap::new();
    for (name, schema) in schemas {
        let properties = schema.get("properties").and_then(|p| p.as_object());
        for (field, property) in properties.into_iter().flatten() {
            let number = |key: &str| property.get(key).and_then(serde_json::Value::as_u64);
            let mut rules = Vec::new();
            if let Some(n) = number("maxItems") {
                rules.push(Rule::MaxItems(n));
            }
            if let Some(n) = number("minItems").filter(|n| *n > 0) {
                rules.push(Rule::MinItems(n));
            }
            // 0 is implied by an unsigned type, 1 by typify's NonZero types.
            if property.get("type").and_then(|t| t.as_str()) == Some("integer")
                && let Some(n) = number("minimum").filter(|n| *n > 1)
            {
                rules.push(Rule::Minimum(n));
            }
            for rule in rules {
                out.entry(pascal_case(name)).or_default().push(Limit {
                    field: field.clone(),
                    rule,
                });
            }
        }
    }
    out
}

/// The schemas that reach a secret schema through their `$ref`s.
fn secret_bearing(schemas: &BTreeMap<String, serde_json::Value>) -> BTreeSet<String> {
    fn refs(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(members) => {
                for (key, member) in members {
                    match (key.as_str(), member.as_str()) {
                        ("$ref", Some(target)) => {
                            if let Some(name) = target.strip_prefix("#/components/schemas/") {
                                out.push(name.to_owned());
                            }
                        }
                        _ => refs(member, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|item| refs(item, out)),
            _ => {}
        }
    }
    let mut bearing: BTreeSet<String> = SECRET_SCHEMAS.iter().map(|s| (*s).to_owned()).collect();
    loop {
        let before = bearing.len();
        for (name, schema) in schemas {
            let mut found = Vec::new();
            refs(schema, &mut found);
            if found.iter().any(|r| bearing.contains(r)) {
                bearing.insert(name.clone());
            }
        }
        if bearing.len() == before {
            break;
        }
    }
    bearing.into_iter().map(|name| pascal_case(&name)).collect()
}

fn body_type(body: &openapiv3::ReferenceOr<openapiv3::RequestBody>) -> Option<String> {
    let body = body.as_item()?;
    schema_name(body.content.get("application/json")?.schema.as_ref()?)
}

fn response_type(response: &openapiv3::ReferenceOr<openapiv3::Response>) -> Option<String> {
    let response = response.as_item()?;
    schema_name(response.content.get("application/json")?.schema.as_ref()?)
}

fn schema_name(schema: &openapiv3::ReferenceOr<openapiv3::Schema>) -> Option<String> {
    match schema {
        openapiv3::ReferenceOr::Reference { reference } => reference
            .strip_prefix("#/components/schemas/")
            .map(pascal_case),
        openapiv3::ReferenceOr::Item(_) => None,
    }
}

/// `update_peer` → `UpdatePeer`, as progenitor names an operation's builder
/// (and `SinglePeerResponse` stays itself, as typify names a schema).
fn pascal_case(name: &str) -> String {
    name.split(['_', '-', ' '])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// Shapes the generated client.
pub fn client(file: &mut File, facts: &SpecFacts) -> Result<()> {
    document_referenced_fields(file, facts)?;
    let structs = type_structs(file)?;
    document_type_setters(file, &structs)?;
    let builder = module_mut(&mut file.items, "builder")?;
    for item in items_mut(builder)? {
        if let Item::Impl(block) = item
            && let Some(name) = self_type_name(block)
        {
            let parameters = facts.parameters.get(&name);
            let empty_body = facts
                .operations
                .iter()
                .any(|o| o.builder == name && o.body.is_some() && o.body_fields == 0);
            for member in &mut block.items {
                if let ImplItem::Fn(function) = member {
                    let setter = function.sig.ident.to_string();
                    if setter == "send" {
                        return_api_error(function)?;
                    } else if setter != "new" {
                        let doc = operation_setter_doc(&setter, parameters, empty_body);
                        function.attrs.push(doc_attr(&doc));
                    }
                }
            }
        }
    }
    for item in &mut file.items {
        if let Item::Struct(client) = item
            && client.ident == "Client"
        {
            name_crate_version(&mut client.attrs);
        }
        // progenitor's constructors take a base URL and a policy, and set no
        // credentials: they come after the sdk's own on the page and say so.
        if let Item::Impl(block) = item
            && block.trait_.is_none()
            && self_type_name(block).as_deref() == Some("Client")
        {
            for member in &mut block.items {
                let ImplItem::Fn(function) = member else {
                    continue;
                };
                let doc = match function.sig.ident.to_string().as_str() {
                    "new" => {
                        "Lower level: a client of `baseurl` with `inner`, its \
                         [`ClientPolicy`](crate::ClientPolicy), over a default \
                         `reqwest::Client` (15 s timeouts) that sends no credentials. Most \
                         callers want [`Client::builder`] or [`Client::from_env`]."
                    }
                    "new_with_client" => {
                        "Lower level: a client of `baseurl` over your own `reqwest::Client` \
                         (its default headers carry the credentials), with `inner`, its \
                         [`ClientPolicy`](crate::ClientPolicy). Most callers want \
                         [`Client::builder`] or [`Client::from_env`], which build both."
                    }
                    _ => continue,
                };
                function.attrs.retain(|a| !a.path().is_ident("doc"));
                function.attrs.push(doc_attr(doc));
            }
        }
    }
    enforce_limits(file, facts, &structs)?;
    file.items.extend(envelope_impls(&structs));
    file.items.extend(update_from_resource(&structs, facts)?);
    file.items.extend(from_reference(&structs));
    file.items.push(operation_table(facts));
    Ok(())
}

/// A builder's conversion into its type (which every request body goes
/// through before it is sent) refuses a value past a limit of the spec that
/// typify does not check, naming the field: `peers` with 31 ids fails before
/// any request, as a bad id does.
fn enforce_limits(
    file: &mut File,
    facts: &SpecFacts,
    structs: &BTreeMap<String, ItemStruct>,
) -> Result<()> {
    let types = module_mut(&mut file.items, "types")?;
    let builder = module_mut(items_mut(types)?, "builder")?;
    for item in items_mut(builder)? {
        let Item::Impl(block) = item else { continue };
        let Some((path, _)) = &block.trait_ else {
            continue;
        };
        if path.segments.last().is_none_or(|s| s.ident != "TryFrom") {
            continue;
        }
        let Type::Path(target) = &*block.self_ty else {
            continue;
        };
        let Some(name) = target.path.segments.last().map(|s| s.ident.to_string()) else {
            continue;
        };
        let (Some(limits), Some(strukt)) = (facts.limits.get(&name), structs.get(&name)) else {
            continue;
        };
        let mut checks: Vec<syn::Stmt> = Vec::new();
        for limit in limits {
            let Some(field) = named_fields(strukt).find(|f| {
                f.ident
                    .as_ref()
                    .is_some_and(|i| i.to_string().trim_start_matches("r#") == limit.field)
            }) else {
                return Err(format!("{name} has no field `{}` for its limit", limit.field).into());
            };
            let ident = field.ident.clone().expect("named");
            let label = &limit.field;
            let optional = option_inner(&field.ty).is_some();
            checks.push(match (limit.rule, optional) {
                (Rule::MaxItems(n) | Rule::MinItems(n), _) => {
                    let len: syn::Expr = if optional {
                        parse_quote!(built.#ident.as_ref().map_or(0, |items| items.len()))
                    } else {
                        parse_quote!(built.#ident.len())
                    };
                    let n = n as usize;
                    let (bad, words): (syn::Expr, &str) = match limit.rule {
                        Rule::MaxItems(_) => (parse_quote!(count > #n), "at most"),
                        _ => (parse_quote!(count < #n), "at least"),
                    };
                    let message = format!("`{label}` has {{}} items; {words} {n} are allowed");
                    parse_quote! {
                        {
                            let count = #len;
                            if #bad {
                                return Err(format!(#message, count).into());
                            }
                        }
                    }
                }
                (Rule::Minimum(n), false) => {
                    let message = format!("`{label}` is {{}}; it must be at least {n}");
                    parse_quote! {
                        if built.#ident < #n as _ {
                            return Err(format!(#message, built.#ident).into());
                        }
                    }
                }
                (Rule::Minimum(n), true) => {
                    let message = format!("`{label}` is {{}}; it must be at least {n}");
                    parse_quote! {
                        if let Some(value) = built.#ident && value < #n as _ {
                            return Err(format!(#message, value).into());
                        }
                    }
                }
            });
        }
        for member in &mut block.items {
            let ImplItem::Fn(function) = member else {
                continue;
            };
            let Some(syn::Stmt::Expr(syn::Expr::Call(call), None)) = function.block.stmts.last()
            else {
                return Err(format!("the conversion into {name} does not end in `Ok(..)`").into());
            };
            let Some(literal) = call.args.first().cloned() else {
                return Err(format!("the conversion into {name} does not end in `Ok(..)`").into());
            };
            let stmts = &function.block.stmts[..function.block.stmts.len() - 1];
            function.block = parse_quote!({
                #(#stmts)*
                let built = #literal;
                #(#checks)*
                Ok(built)
            });
        }
    }
    Ok(())
}

/// What the runtime needs per operation, derived from the spec: the
/// envelope a success decodes as, and which operations carry a secret (sent
/// or received), so that an operation Cloudflare adds needs no hand-written
/// arm (sdk/src/response_fixups.rs, sdk/src/runtime/mod.rs).
fn operation_table(facts: &SpecFacts) -> Item {
    let mut checks = Vec::new();
    let mut sends = Vec::new();
    let mut carries = Vec::new();
    for operation in &facts.operations {
        let id = &operation.id;
        if let Some(success) = &operation.success {
            let success = Ident::new(success, Span::call_site());
            checks.push(
                quote::quote!(#id => Some(crate::response_fixups::check_as::<types::#success>)),
            );
        }
        let body_secret = operation
            .body
            .as_ref()
            .is_some_and(|b| facts.secret_bearing.contains(b));
        let success_secret = operation
            .success
            .as_ref()
            .is_some_and(|s| facts.secret_bearing.contains(s));
        if body_secret {
            sends.push(id.clone());
        }
        if body_secret || success_secret {
            carries.push(id.clone());
        }
    }
    let ids: Vec<&String> = facts.operations.iter().map(|o| &o.id).collect();
    parse_quote! {
        /// Per operation, what the runtime needs (generated from the spec).
        pub(crate) mod operations {
            use super::types;

            /// Every operation id, in the spec's order.
            #[allow(dead_code)]
            pub(crate) const ALL: &[&str] = &[#(#ids),*];

            /// How a success body of `operation_id` is checked before the
            /// generated code decodes it (as the 200 response's envelope).
            pub(crate) fn success_check(
                operation_id: &str,
            ) -> ::std::option::Option<crate::response_fixups::SuccessCheck> {
                match operation_id {
                    #(#checks,)*
                    _ => None,
                }
            }

            /// Whether the request body of `operation_id` holds a secret.
            pub(crate) fn sends_secret(operation_id: &str) -> bool {
                matches!(operation_id, #(#sends)|*)
            }

            /// Whether the request or the response of `operation_id` holds a secret.
            pub(crate) fn carries_secret(operation_id: &str) -> bool {
                matches!(operation_id, #(#carries)|*)
            }
        }
    }
}

/// A field whose schema is a named one (`$ref`) gets that schema's
/// description, when it has none of its own.
fn document_referenced_fields(file: &mut File, facts: &SpecFacts) -> Result<()> {
    let types = module_mut(&mut file.items, "types")?;
    for item in items_mut(types)? {
        let Item::Struct(s) = item else { continue };
        let Some(docs) = facts.referenced_docs.get(&s.ident.to_string()) else {
            continue;
        };
        if let Fields::Named(named) = &mut s.fields {
            for field in named.named.iter_mut() {
                let name = field
                    .ident
                    .as_ref()
                    .map(Ident::to_string)
                    .unwrap_or_default();
                if let Some(doc) = docs.get(&name)
                    && doc_text(&field.attrs).is_empty()
                {
                    field.attrs.insert(0, doc_attr(doc));
                }
            }
        }
    }
    Ok(())
}

/// The structs of `mod types`, by name.
fn type_structs(file: &File) -> Result<BTreeMap<String, ItemStruct>> {
    let types = module(&file.items, "types")?;
    let items = &types.content.as_ref().ok_or("`mod types` has no body")?.1;
    Ok(items
        .iter()
        .filter_map(|item| match item {
            Item::Struct(s) => Some((s.ident.to_string(), s.clone())),
            _ => None,
        })
        .collect())
}

fn module<'a>(items: &'a [Item], name: &str) -> Result<&'a ItemMod> {
    items
        .iter()
        .find_map(|item| match item {
            Item::Mod(m) if m.ident == name => Some(m),
            _ => None,
        })
        .ok_or_else(|| format!("progenitor's output has no `mod {name}`").into())
}

fn module_mut<'a>(items: &'a mut [Item], name: &str) -> Result<&'a mut ItemMod> {
    items
        .iter_mut()
        .find_map(|item| match item {
            Item::Mod(m) if m.ident == name => Some(m),
            _ => None,
        })
        .ok_or_else(|| format!("progenitor's output has no `mod {name}`").into())
}

fn items_mut(module: &mut ItemMod) -> Result<&mut Vec<Item>> {
    let name = module.ident.to_string();
    Ok(&mut module
        .content
        .as_mut()
        .ok_or_else(|| format!("`mod {name}` has no body"))?
        .1)
}

fn self_type_name(block: &ItemImpl) -> Option<String> {
    if block.trait_.is_some() {
        return None;
    }
    match &*block.self_ty {
        Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

fn doc_attr(text: &str) -> Attribute {
    parse_quote!(#[doc = #text])
}

/// The doc text of an item (its `///` lines joined).
fn doc_text(attrs: &[Attribute]) -> String {
    attrs
        .iter()
        .filter_map(|attr| match &attr.meta {
            syn::Meta::NameValue(nv) if nv.path.is_ident("doc") => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(text),
                    ..
                }) => Some(text.value()),
                _ => None,
            },
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned()
}

/// `Option<T>` → `T`.
fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    match &last.arguments {
        PathArguments::AngleBracketed(args) => match args.args.first()? {
            GenericArgument::Type(inner) => Some(inner),
            _ => None,
        },
        _ => None,
    }
}

fn named_fields(s: &ItemStruct) -> impl Iterator<Item = &syn::Field> {
    match &s.fields {
        Fields::Named(named) => Some(named.named.iter()),
        _ => None,
    }
    .into_iter()
    .flatten()
}

/// (No doc line may start with `*`: prettyplease writes a doc as a block
/// comment, whose leading `*` rustdoc takes for decoration.)
///
/// The setters of `types::builder::X` get the doc of `types::X`'s field, and
/// say whether the field is required (the builder's default is an error
/// saying no value was supplied) or what leaving it out means.
fn document_type_setters(file: &mut File, structs: &BTreeMap<String, ItemStruct>) -> Result<()> {
    let types = module_mut(&mut file.items, "types")?;
    let builder = module_mut(items_mut(types)?, "builder")?;
    let items = items_mut(builder)?;
    // Which fields each builder's `Default` leaves as an error: the required ones.
    let mut required: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for item in items.iter() {
        if let Item::Impl(block) = item
            && block
                .trait_
                .as_ref()
                .is_some_and(|(path, _)| path.segments.last().is_some_and(|s| s.ident == "Default"))
            && let Type::Path(path) = &*block.self_ty
            && let Some(name) = path.path.segments.last()
        {
            let text = quote_string(block);
            let missing = structs
                .get(&name.ident.to_string())
                .into_iter()
                .flat_map(named_fields)
                .filter_map(|field| field.ident.as_ref().map(Ident::to_string))
                .filter(|field| text.contains(&format!("no value supplied for {field}\"")))
                .collect();
            required.insert(name.ident.to_string(), missing);
        }
    }
    for item in items.iter_mut() {
        let Item::Impl(block) = item else { continue };
        let Some(name) = self_type_name(block) else {
            continue;
        };
        let Some(target) = structs.get(&name) else {
            continue;
        };
        for member in &mut block.items {
            let ImplItem::Fn(function) = member else {
                continue;
            };
            let setter = function.sig.ident.to_string();
            let Some(field) =
                named_fields(target).find(|f| f.ident.as_ref().is_some_and(|i| *i == setter))
            else {
                continue;
            };
            let description = doc_text(&field.attrs);
            let is_required = required.get(&name).is_some_and(|r| r.contains(&setter));
            let mut doc = if description.is_empty() {
                format!("Sets `{setter}`.")
            } else {
                description
            };
            if is_required {
                doc.push_str(
                    "\n\nThis field is **required**: building without it fails (`no value supplied for ",
                );
                doc.push_str(&setter);
                doc.push_str("`).");
            } else if option_inner(&field.ty).is_some() {
                doc.push_str("\n\nOptional: `None` by default, and then not sent.");
            } else {
                // A field with the spec's default (`#[serde(default = ..)]`).
                let attrs: String = field
                    .attrs
                    .iter()
                    .map(|a| a.to_token_stream().to_string().replace(' ', ""))
                    .collect();
                let default = attrs
                    .split_once("default_u64::<")
                    .or_else(|| attrs.split_once("default_i64::<"))
                    .and_then(|(_, rest)| rest.split_once(','))
                    .and_then(|(_, rest)| rest.split_once('>'))
                    .map(|(value, _)| value.trim().to_owned());
                match default {
                    Some(value) => doc.push_str(&format!(
                        "\n\nOptional: `{value}` (the spec's default) when not set, and sent as such."
                    )),
                    None => doc.push_str("\n\nOptional: the spec's default when not set."),
                }
            }
            function.attrs.push(doc_attr(&doc));
        }
    }
    Ok(())
}

fn quote_string(block: &ItemImpl) -> String {
    block.to_token_stream().to_string()
}

/// An operation builder's setter doc: the parameter's description from the
/// spec, for a path parameter that it is required and checked before
/// sending; for the body, what it takes.
fn operation_setter_doc(
    setter: &str,
    parameters: Option<&BTreeMap<String, String>>,
    empty_body: bool,
) -> String {
    match setter {
        "body" | "body_map" if empty_body => "Not needed: the body is the empty JSON object the \
                                              spec requires (`{}`), sent without being set."
            .to_owned(),
        "body" => "The request body: the body type (or a reference to it), or its builder.\n\n\
                   It is **required**."
            .to_owned(),
        "body_map" => "Changes the body's builder with a closure (starting from an empty \
                       builder when no body was set)."
            .to_owned(),
        _ => {
            let description = parameters
                .and_then(|p| p.get(setter))
                .cloned()
                .unwrap_or_else(|| format!("The `{setter}` parameter."));
            format!(
                "{description}\n\nIt is **required**: a 32-character lowercase hexadecimal \
                 identifier, as `&str`, `String` or its typed identifier; a value that is \
                 not one fails `send()` with `ErrorKind::InvalidRequest` before anything is sent."
            )
        }
    }
}

/// `send() -> Result<ResponseValue<T>, Error<E>>` becomes
/// `send() -> Result<ResponseValue<T>, crate::ApiError>`, its body unchanged
/// inside an `async` block whose error is converted once.
fn return_api_error(function: &mut syn::ImplItemFn) -> Result<()> {
    let ReturnType::Type(_, returned) = &function.sig.output else {
        return Err("an operation's send() returns nothing".into());
    };
    let raw: Type = (**returned).clone();
    let Some(ok) = result_ok(&raw) else {
        return Err("an operation's send() does not return a Result".into());
    };
    function.sig.output = parse_quote!(-> Result<#ok, crate::ApiError>);
    let body = &function.block;
    function.block = parse_quote!({
        let raw: #raw = async move #body.await;
        raw.map_err(crate::ApiError::from)
    });
    Ok(())
}

fn result_ok(ty: &Type) -> Option<Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    match &last.arguments {
        PathArguments::AngleBracketed(args) => match args.args.first()? {
            GenericArgument::Type(ok) => Some(ok.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// progenitor writes the spec's `info.version` as "Version: 4.0.0", which
/// reads as the crate's version; say whose each version is.
fn name_crate_version(attrs: &mut [Attribute]) {
    for attr in attrs {
        let doc = doc_text(std::slice::from_ref(attr));
        if let Some(at) = doc.find("Version: ") {
            let spec_version = doc[at + "Version: ".len()..].trim().to_owned();
            let before = doc[..at].to_owned();
            let line = format!(
                "Cloudflare's API spec version {spec_version} (`ClientInfo::api_version`)."
            );
            // A user starts from the sdk's constructors, not progenitor's
            // `new(baseurl, policy)`.
            let start = "Start with [`Client::from_env`] (credentials and base URL from the \
                environment) or [`Client::builder`] (credentials, retries, timeouts, the rate \
                limit). Clones share the connections and the pacer: build one client and \
                clone it. The multi-call workflows (waiters, bulk) are in \
                [`extras`](crate::extras).\n\n\
                ```no_run\n\
                # fn main() -> Result<(), Box<dyn std::error::Error>> {\n\
                use cloudflare_secondary_dns::{Client, Credentials};\n\n\
                let client = Client::from_env()?;\n\
                let client = Client::builder(Credentials::api_token(\"…\"))\n    \
                .max_retries(3)\n    .build()?;\n\
                # Ok(())\n\
                # }\n\
                ```\n\n";
            *attr = parse_quote!(#[doc = concat!(
                #before,
                #start,
                "Crate version ", env!("CARGO_PKG_VERSION"), "; ", #line
            )]);
        }
    }
}

/// A struct with `success: crate::const_bool::ConstTrue` and an optional
/// `result` is a response envelope: `Envelope` gives its result, and makes
/// one of just a result (success, empty lists, no `result_info`).
fn envelope_impls(structs: &BTreeMap<String, ItemStruct>) -> Vec<Item> {
    let mut impls = Vec::new();
    for (name, s) in structs {
        let is_success = named_fields(s).any(|f| {
            f.ident.as_ref().is_some_and(|i| i == "success")
                && quote_type(&f.ty).ends_with("ConstTrue")
        });
        let Some(result) = named_fields(s)
            .find(|f| f.ident.as_ref().is_some_and(|i| i == "result"))
            .and_then(|f| option_inner(&f.ty))
        else {
            continue;
        };
        if !is_success {
            continue;
        }
        let name = Ident::new(name, Span::call_site());
        let result = qualify(result);
        let others: Vec<&Ident> = named_fields(s)
            .filter_map(|f| f.ident.as_ref())
            .filter(|i| *i != "result")
            .collect();
        impls.push(parse_quote! {
            impl crate::envelope::Envelope for types::#name {
                type Result = #result;
                fn take_result(self) -> ::std::option::Option<#result> {
                    self.result
                }
                fn with_result(result: #result) -> Self {
                    Self {
                        result: ::std::option::Option::Some(result),
                        #(#others: ::std::default::Default::default(),)*
                    }
                }
            }
        });
        impls.push(parse_quote! {
            impl ::std::convert::From<#result> for types::#name {
                fn from(result: #result) -> Self {
                    <Self as crate::envelope::Envelope>::with_result(result)
                }
            }
        });
    }
    impls
}

fn quote_type(ty: &Type) -> String {
    ty.to_token_stream().to_string().replace(' ', "")
}

/// A type as written inside `mod types` (`Peer`, `Vec<Peer>`), as seen from
/// the crate root: names of the module's own types get `types::`.
fn qualify(ty: &Type) -> Type {
    let text = quote_type(ty);
    let qualified = qualify_text(&text);
    syn::parse_str(&qualified).unwrap_or_else(|_| ty.clone())
}

fn qualify_text(text: &str) -> String {
    // A bare capitalised name (not after `::`) is one of `mod types`' own.
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(|c: char| c.is_ascii_uppercase()) {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        let end = from
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(from.len());
        let word = &from[..end];
        let qualified_already = out.ends_with("::") || out.ends_with(|c: char| c.is_alphanumeric());
        if !qualified_already && !matches!(word, "Option" | "Vec" | "String" | "Self") {
            out.push_str("types::");
        }
        out.push_str(word);
        rest = &from[end..];
    }
    out.push_str(rest);
    out
}

/// The error for a field an Update sends that the resource it returns lacks,
/// with the overlay action that gives the resource the field.
fn field_only_in_request(facts: &SpecFacts, body: &str, resource: &str, field: &str) -> String {
    let schema_named = |ty: &str| {
        facts
            .schemas_json
            .iter()
            .find(|(name, _)| pascal_case(name) == ty)
    };
    let resource_schema = schema_named(resource).map_or(resource, |(name, _)| name.as_str());
    let property = schema_named(body)
        .and_then(|(_, schema)| schema.get("properties")?.get(field))
        .map_or_else(|| "{type: string}".to_owned(), ToString::to_string);
    format!(
        "{body}.{field} has no field in {resource} (the resource Update returns): a \
         read-modify-write would lose it. If Cloudflare returns it, add at the end of \
         openapi/overlay.yaml:\n\
         \x20 - target: $.components.schemas['{resource_schema}'].properties\n\
         \x20   description: Cloudflare returns `{field}` too (WHY: where it is documented).\n\
         \x20   update:\n\
         \x20     {field}: {property}\n\
         (or, if it is write-only, remove it from the request with an action on \
         $.components.schemas['{body}'].properties.{field})"
    )
}

/// For each `PUT`: its body converts from the resource its envelope returns,
/// field by field, so read-modify-write is `Body::from(&resource)` then a
/// change. A body field the resource lacks, or holds with another type, fails
/// the generation naming it: the round trip would lose or change the value.
fn update_from_resource(
    structs: &BTreeMap<String, ItemStruct>,
    facts: &SpecFacts,
) -> Result<Vec<Item>> {
    let mut impls = Vec::new();
    for (body, envelope) in &facts.updates {
        let (Some(body_struct), Some(envelope_struct)) = (structs.get(body), structs.get(envelope))
        else {
            continue;
        };
        let Some(resource) = named_fields(envelope_struct)
            .find(|f| f.ident.as_ref().is_some_and(|i| i == "result"))
            .and_then(|f| option_inner(&f.ty))
            .map(quote_type)
        else {
            continue;
        };
        let Some(resource_struct) = structs.get(&resource) else {
            continue;
        };
        let mut fields = Vec::new();
        for field in named_fields(body_struct) {
            let ident = field.ident.as_ref().expect("named");
            let counterpart = named_fields(resource_struct)
                .find(|f| f.ident.as_ref() == Some(ident))
                .ok_or_else(|| field_only_in_request(facts, body, &resource, &ident.to_string()))?;
            if quote_type(&counterpart.ty) != quote_type(&field.ty) {
                return Err(format!(
                    "{body}.{ident} is `{}` but {resource}.{ident} is `{}`: the same field must \
                     have the same type read and written; fix it in the overlay",
                    quote_type(&field.ty),
                    quote_type(&counterpart.ty)
                )
                .into());
            }
            fields.push(ident.clone());
        }
        let body = Ident::new(body, Span::call_site());
        let resource = Ident::new(&resource, Span::call_site());
        impls.push(parse_quote! {
            impl ::std::convert::From<&types::#resource> for types::#body {
                fn from(resource: &types::#resource) -> Self {
                    Self {
                        #(#fields: resource.#fields.clone(),)*
                    }
                }
            }
        });
    }
    Ok(impls)
}

/// `From<&X> for X` for every struct: a reference is accepted wherever a
/// value or a builder is (`.body(&body)`, `then.ok(&envelope)`).
fn from_reference(structs: &BTreeMap<String, ItemStruct>) -> Vec<Item> {
    structs
        .keys()
        .map(|name| {
            let name = Ident::new(name, Span::call_site());
            parse_quote! {
                impl ::std::convert::From<&types::#name> for types::#name {
                    fn from(value: &types::#name) -> Self {
                        value.clone()
                    }
                }
            }
        })
        .collect()
}

/// Shapes the generated CLI: each command knows its group (`x-cli-group`:
/// `peers`, `incoming`, …) and its body's schema, and every operation with a
/// body asks the config for an edited body (`CliConfig::edited_body`), one
/// generic hook instead of one hand-written hook per operation.
pub fn cli(file: &mut File, facts: &SpecFacts) -> Result<()> {
    for item in &mut file.items {
        let Item::Trait(config) = item else { continue };
        if config.ident != "CliConfig" {
            continue;
        }
        for member in &mut config.items {
            let syn::TraitItem::Fn(function) = member else {
                continue;
            };
            let name = function.sig.ident.to_string();
            let Some(operation) = facts
                .operations
                .iter()
                .find(|o| name.strip_prefix("execute_") == Some(o.id.as_str()))
            else {
                continue;
            };
            let (Some(body), true) = (&operation.body, operation.body_fields > 0) else {
                continue;
            };
            let body = Ident::new(body, Span::call_site());
            let command = Ident::new(&operation.builder, Span::call_site());
            function.default = Some(parse_quote!({
                if let Some(body) =
                    self.edited_body::<types::#body>(matches, CliCommand::#command)?
                {
                    *request = request.clone().body(body);
                }
                Ok(())
            }));
        }
        config.items.push(parse_quote! {
            /// The body to send, made by the config (e.g. from the flags and
            /// the resource as read), or `None` to send what the generated
            /// code made of the flags.
            fn edited_body<B>(
                &self,
                matches: &::clap::ArgMatches,
                operation: CliCommand,
            ) -> anyhow::Result<Option<B>>
            where
                B: schemars::JsonSchema + serde::de::DeserializeOwned + serde::Serialize,
            {
                Ok(None)
            }
        });
    }
    let mut groups = Vec::new();
    let mut schemas = Vec::new();
    let mut body_limits = Vec::new();
    let mut flag_examples = Vec::new();
    for operation in &facts.operations {
        let command = Ident::new(&operation.builder, Span::call_site());
        let examples = facts
            .flag_examples
            .get(&operation.builder)
            .into_iter()
            .flatten()
            .map(|(flag, example)| quote::quote!((#flag, #example)));
        flag_examples.push(quote::quote!(CliCommand::#command => &[#(#examples),*]));
        let group = operation.group.as_deref().ok_or_else(|| {
            format!(
                "operation {} has no `x-cli-group`: give its tag a group in the overlay",
                operation.id
            )
        })?;
        groups.push(quote::quote!(CliCommand::#command => #group));
        if let (Some(body), true) = (&operation.body, operation.body_fields > 0) {
            let body = Ident::new(body, Span::call_site());
            schemas.push(quote::quote!(
                CliCommand::#command => Some(schemars::schema_for!(types::#body))
            ));
            // The spec's limits the body's type does not carry, so that the
            // CLI checks its flags against them before any request (an
            // update's read included).
            let limits = facts.limits.get(body.to_string().as_str());
            let limits = limits.into_iter().flatten().map(|limit| {
                let field = &limit.field;
                let (rule, n) = match limit.rule {
                    Rule::MaxItems(n) => ("maxItems", n),
                    Rule::MinItems(n) => ("minItems", n),
                    Rule::Minimum(n) => ("minimum", n),
                };
                quote::quote!((#field, #rule, #n))
            });
            body_limits.push(quote::quote!(
                CliCommand::#command => &[#(#limits),*]
            ));
        }
    }
    file.items.push(parse_quote! {
        impl CliCommand {
            /// The command this operation is a subcommand of (the spec's `x-cli-group`).
            pub fn group(&self) -> &'static str {
                match self {
                    #(#groups,)*
                }
            }

            /// The JSON Schema of the request body, if the operation sends one
            /// with fields.
            pub fn body_schema(&self) -> Option<schemars::schema::RootSchema> {
                match self {
                    #(#schemas,)*
                    _ => None,
                }
            }

            /// An example value for each of the command's flags (path
            /// parameters and body fields, `(flag, value)`): the spec's
            /// `example`, else a placeholder of the flag's type that parses.
            pub fn flag_examples(&self) -> &'static [(&'static str, &'static str)] {
                match self {
                    #(#flag_examples,)*
                }
            }

            /// The spec's limits of the body's fields that its JSON Schema
            /// does not say: `(field, "maxItems" | "minItems" | "minimum", n)`.
            pub fn body_limits(&self) -> &'static [(&'static str, &'static str, u64)] {
                match self {
                    #(#body_limits,)*
                    _ => &[],
                }
            }
        }
    });
    Ok(())
}

/// Shapes the generated mocks: a `When` or `Then` method that takes
/// `value: &T` takes any `V: TryInto<T>` instead (what the client's setters
/// take: an id as `&str`, a body's builder, a resource for an envelope, or
/// `&T` as before). A value that does not convert panics with the reason:
/// a mock is test code, and its setup is wrong.
pub fn mocks(file: &mut File) -> Result<()> {
    let operations = module_mut(&mut file.items, "operations")?;
    for item in items_mut(operations)? {
        let Item::Impl(block) = item else { continue };
        let Some(name) = self_type_name(block) else {
            continue;
        };
        if !(name.ends_with("When") || name.ends_with("Then")) {
            continue;
        }
        for member in &mut block.items {
            let ImplItem::Fn(function) = member else {
                continue;
            };
            let method = function.sig.ident.to_string();
            let mut taken = None;
            for input in &mut function.sig.inputs {
                if let syn::FnArg::Typed(arg) = input
                    && let syn::Pat::Ident(pat) = &*arg.pat
                    && pat.ident == "value"
                    && let Type::Reference(reference) = &*arg.ty
                {
                    taken = Some((*reference.elem).clone());
                    arg.ty = parse_quote!(V);
                }
            }
            let Some(target) = taken else { continue };
            function.sig.generics = parse_quote!(<V>);
            function.sig.generics.where_clause = Some(parse_quote!(
                where V: ::std::convert::TryInto<#target>, V::Error: ::std::fmt::Display
            ));
            let what = format!("{name}::{method}");
            let body = &function.block.stmts;
            function.block = parse_quote!({
                let value: #target = match value.try_into() {
                    Ok(value) => value,
                    Err(e) => panic!("{}: the mock's value is invalid: {}", #what, e),
                };
                let value = &value;
                #(#body)*
            });
        }
        // A failure in one line: `then.failure(404, 1003, "peer not found")`
        // (the envelope made for you, 4XX or 5XX as the status is).
        let answers = |method: &str| {
            block.items.iter().any(
                |member| matches!(member, ImplItem::Fn(function) if function.sig.ident == method),
            )
        };
        if answers("client_error") && answers("server_error") {
            block.items.push(parse_quote! {
                /// Answers `status` (4XX or 5XX) with Cloudflare's failure
                /// envelope holding one error, `code: message`.
                pub fn failure(self, status: u16, code: i64, message: &str) -> Self {
                    let failure = types::ApiResponseCommonFailure::new(code, message);
                    if status >= 500 {
                        self.server_error(status, failure)
                    } else {
                        self.client_error(status, failure)
                    }
                }
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_progenitor() {
        assert_eq!(pascal_case("update_peer"), "UpdatePeer");
        assert_eq!(pascal_case("SinglePeerResponse"), "SinglePeerResponse");
    }

    #[test]
    fn own_types_are_qualified() {
        assert_eq!(qualify_text("Peer"), "types::Peer");
        assert_eq!(
            qualify_text("::std::vec::Vec<Peer>"),
            "::std::vec::Vec<types::Peer>"
        );
        assert_eq!(qualify_text("crate::PeerIp"), "crate::PeerIp");
    }
}
