//! The mocks (`sdk-httpmock/src/generated.rs`): matchers and responses take
//! what the client's setters take.

use super::*;

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
