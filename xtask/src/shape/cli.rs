//! The CLI (`cli/src/generated.rs`): each operation's group, body schema,
//! limits and flag examples, for the hand-written command-line layer.

use super::*;

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
