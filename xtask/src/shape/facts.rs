//! What the passes need to know of the spec: its operations, the limits and
//! secrets of its schemas, an example for each flag.

use super::*;

/// What the passes need to know of the spec.
pub struct SpecFacts {
    /// Operation builder name (`UpdatePeer`) → parameter name → description.
    pub parameters: BTreeMap<String, BTreeMap<String, String>>,
    /// Operation builder name → the setters of its query parameters (the
    /// others are path identifiers): optional, sent only when set.
    pub query_parameters: BTreeMap<String, BTreeSet<String>>,
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
        let mut query_parameters = BTreeMap::new();
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
                let mut query = BTreeSet::new();
                for parameter in operation.parameters.iter().chain(&item.parameters) {
                    if let Some(parameter) = parameter.as_item() {
                        let data = parameter.parameter_data_ref();
                        let setter = setter_name(&data.name);
                        if let Some(description) = &data.description {
                            described.insert(setter.clone(), description.clone());
                        }
                        if matches!(parameter, openapiv3::Parameter::Query { .. }) {
                            query.insert(setter);
                        }
                    }
                }
                parameters.insert(builder.clone(), described);
                query_parameters.insert(builder.clone(), query);
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
            query_parameters,
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
pub(super) fn limits(
    schemas: &BTreeMap<String, serde_json::Value>,
) -> BTreeMap<String, Vec<Limit>> {
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
pub(super) fn secret_bearing(schemas: &BTreeMap<String, serde_json::Value>) -> BTreeSet<String> {
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

pub(super) fn body_type(body: &openapiv3::ReferenceOr<openapiv3::RequestBody>) -> Option<String> {
    let body = body.as_item()?;
    schema_name(body.content.get("application/json")?.schema.as_ref()?)
}

pub(super) fn response_type(
    response: &openapiv3::ReferenceOr<openapiv3::Response>,
) -> Option<String> {
    let response = response.as_item()?;
    schema_name(response.content.get("application/json")?.schema.as_ref()?)
}

pub(super) fn schema_name(schema: &openapiv3::ReferenceOr<openapiv3::Schema>) -> Option<String> {
    match schema {
        openapiv3::ReferenceOr::Reference { reference } => reference
            .strip_prefix("#/components/schemas/")
            .map(pascal_case),
        openapiv3::ReferenceOr::Item(_) => None,
    }
}

/// `update_peer` → `UpdatePeer`, as progenitor names an operation's builder
/// (and `SinglePeerResponse` stays itself, as typify names a schema).
pub(super) fn pascal_case(name: &str) -> String {
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

/// The builder setter progenitor makes of a parameter's name (`account.id`
/// → `account_id`, `match` → `match_`).
fn setter_name(name: &str) -> String {
    let mut setter: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if syn::parse_str::<syn::Ident>(&setter).is_err() {
        setter.push('_');
    }
    setter
}
