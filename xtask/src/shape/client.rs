//! The client (`sdk/src/generated.rs`): readable errors, documented setters,
//! envelopes, conversions and the limits typify does not check.

use super::*;

/// Shapes the generated client.
pub fn client(file: &mut File, facts: &SpecFacts) -> Result<()> {
    document_referenced_fields(file, facts)?;
    let structs = type_structs(file)?;
    document_type_setters(file, &structs)?;
    let builder = module_mut(&mut file.items, "builder")?;
    let builder_structs: BTreeMap<String, ItemStruct> = items_mut(builder)?
        .iter()
        .filter_map(|item| match item {
            Item::Struct(s) => Some((s.ident.to_string(), s.clone())),
            _ => None,
        })
        .collect();
    for item in items_mut(builder)? {
        if let Item::Impl(block) = item
            && let Some(name) = self_type_name(block)
        {
            let identifiers = builder_structs
                .get(&name)
                .map(send::identifier_fields)
                .unwrap_or_default();
            let parameters = facts.parameters.get(&name);
            let query = facts.query_parameters.get(&name);
            let empty_body = facts
                .operations
                .iter()
                .any(|o| o.builder == name && o.body.is_some() && o.body_fields == 0);
            for member in &mut block.items {
                if let ImplItem::Fn(function) = member {
                    let setter = function.sig.ident.to_string();
                    if setter == "send" {
                        send::lean_send(function, &identifiers)?;
                        return_api_error(function)?;
                    } else if setter != "new" {
                        let doc = operation_setter_doc(&setter, parameters, query, empty_body);
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
pub(super) fn enforce_limits(
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
pub(super) fn operation_table(facts: &SpecFacts) -> Item {
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
pub(super) fn document_referenced_fields(file: &mut File, facts: &SpecFacts) -> Result<()> {
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

/// (No doc line may start with `*`: prettyplease writes a doc as a block
/// comment, whose leading `*` rustdoc takes for decoration.)
///
/// The setters of `types::builder::X` get the doc of `types::X`'s field, and
/// say whether the field is required (the builder's default is an error
/// saying no value was supplied) or what leaving it out means.
pub(super) fn document_type_setters(
    file: &mut File,
    structs: &BTreeMap<String, ItemStruct>,
) -> Result<()> {
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

pub(super) fn quote_string(block: &ItemImpl) -> String {
    block.to_token_stream().to_string()
}

/// An operation builder's setter doc: the parameter's description from the
/// spec, for a path parameter that it is required and checked before
/// sending, for a query parameter that it is optional; for the body, what it
/// takes.
pub(super) fn operation_setter_doc(
    setter: &str,
    parameters: Option<&BTreeMap<String, String>>,
    query: Option<&BTreeSet<String>>,
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
            if query.is_some_and(|query| query.contains(setter)) {
                return format!(
                    "{description}\n\nOptional: a query parameter, sent only when set; a \
                     value of the wrong type fails `send()` with `ErrorKind::InvalidRequest` \
                     before anything is sent."
                );
            }
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
pub(super) fn return_api_error(function: &mut syn::ImplItemFn) -> Result<()> {
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

pub(super) fn result_ok(ty: &Type) -> Option<Type> {
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
pub(super) fn name_crate_version(attrs: &mut [Attribute]) {
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
pub(super) fn envelope_impls(structs: &BTreeMap<String, ItemStruct>) -> Vec<Item> {
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

/// The error for a field an Update sends that the resource it returns lacks,
/// with the overlay action that gives the resource the field.
pub(super) fn field_only_in_request(
    facts: &SpecFacts,
    body: &str,
    resource: &str,
    field: &str,
) -> String {
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
pub(super) fn update_from_resource(
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
pub(super) fn from_reference(structs: &BTreeMap<String, ItemStruct>) -> Vec<Item> {
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
