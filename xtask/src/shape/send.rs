//! Every operation's `send()`, without the work the sdk does not need on
//! each request (issue 24, item 18: the allocations it removes are measured
//! in BENCHMARKS.md):
//! - a path identifier goes into the URL as it is: the sdk's identifier
//!   types are 32 characters `0-9a-f`, which percent-encoding leaves alone,
//!   so `encode_path(&id.to_string())` (two strings) is `id.as_str()`;
//! - no `api-version` header is built: the client's `pre` hook sets the
//!   pinned date or removes the header on every request;
//! - the response's headers move into the `ResponseValue` instead of being
//!   cloned (`crate::runtime::response_value`): the response is dropped
//!   right after.

use syn::punctuated::Punctuated;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, ImplItemFn, Stmt, Token};

use super::*;

/// The fields of an operation's builder that hold one of the sdk's path
/// identifiers (`Result<crate::PeerIdentifier, String>`).
pub(super) fn identifier_fields(builder: &ItemStruct) -> BTreeSet<String> {
    let identifiers: Vec<String> = crate::PATH_IDENTIFIER_KINDS
        .iter()
        .map(|kind| format!("Result<crate::{kind}Identifier,String>"))
        .collect();
    named_fields(builder)
        .filter(|field| identifiers.contains(&quote_type(&field.ty)))
        .filter_map(|field| field.ident.as_ref().map(Ident::to_string))
        .collect()
}

/// Trims one `send()`; fails when progenitor's output no longer has the
/// shape this pass reads, so that a new progenitor is noticed here.
pub(super) fn lean_send(function: &mut ImplItemFn, identifiers: &BTreeSet<String>) -> Result<()> {
    let stmts = &mut function.block.stmts;
    let before = stmts.len();
    stmts.retain(|stmt| !appends_api_version(stmt));
    if stmts.len() + 1 != before {
        return Err(format!(
            "`{}` builds no `api-version` header: progenitor changed",
            function.sig.ident
        )
        .into());
    }
    // The header map is dropped when nothing else goes in it.
    let header_map_uses = stmts
        .iter()
        .map(|stmt| count_ident(stmt.to_token_stream(), "header_map"))
        .sum::<usize>();
    let mut pass = Lean {
        identifiers,
        drop_header_map: header_map_uses == 2,
        error: None,
    };
    if pass.drop_header_map {
        stmts.retain(|stmt| !declares(stmt, "header_map"));
    }
    for stmt in stmts.iter_mut() {
        pass.visit_stmt_mut(stmt);
    }
    match pass.error {
        Some(error) => Err(error.into()),
        None => Ok(()),
    }
}

struct Lean<'a> {
    identifiers: &'a BTreeSet<String>,
    drop_header_map: bool,
    error: Option<String>,
}

impl VisitMut for Lean<'_> {
    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        if !mac.path.is_ident("format") {
            return;
        }
        let parser = Punctuated::<Expr, Token![,]>::parse_terminated;
        let Ok(mut arguments) = mac.parse_body_with(parser) else {
            self.error = Some("a `format!` in send() does not parse".to_owned());
            return;
        };
        for argument in arguments.iter_mut() {
            if let Some(identifier) = encoded_identifier(argument, self.identifiers) {
                *argument = parse_quote!(#identifier.as_str());
            }
        }
        mac.tokens = arguments.to_token_stream();
    }

    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            // `.headers(header_map)` in the request's chain.
            Expr::MethodCall(call)
                if self.drop_header_map
                    && call.method == "headers"
                    && call.args.len() == 1
                    && call.args[0].to_token_stream().to_string() == "header_map" =>
            {
                *expr = (*call.receiver).clone();
                self.visit_expr_mut(expr);
            }
            Expr::Call(call) if is_path(&call.func, &["ResponseValue", "from_response"]) => {
                *call.func = parse_quote!(crate::runtime::response_value);
                visit_mut::visit_expr_call_mut(self, call);
            }
            _ => visit_mut::visit_expr_mut(self, expr),
        }
    }
}

/// `encode_path(&id.to_string())` where `id` is a path identifier: `id`.
fn encoded_identifier(argument: &Expr, identifiers: &BTreeSet<String>) -> Option<Ident> {
    let Expr::Call(call) = argument else {
        return None;
    };
    if !is_path(&call.func, &["encode_path"]) || call.args.len() != 1 {
        return None;
    }
    let Expr::Reference(reference) = &call.args[0] else {
        return None;
    };
    let Expr::MethodCall(to_string) = &*reference.expr else {
        return None;
    };
    if to_string.method != "to_string" || !to_string.args.is_empty() {
        return None;
    }
    let Expr::Path(receiver) = &*to_string.receiver else {
        return None;
    };
    let identifier = receiver.path.get_ident()?;
    identifiers
        .contains(&identifier.to_string())
        .then(|| identifier.clone())
}

/// `header_map.append(HeaderName::from_static("api-version"), …);`
fn appends_api_version(stmt: &Stmt) -> bool {
    let Stmt::Expr(Expr::MethodCall(call), Some(_)) = stmt else {
        return false;
    };
    call.method == "append"
        && call.receiver.to_token_stream().to_string() == "header_map"
        && call.args.first().is_some_and(|name| {
            name.to_token_stream()
                .to_string()
                .contains("\"api-version\"")
        })
}

/// `let [mut] name = …;`
fn declares(stmt: &Stmt, name: &str) -> bool {
    let Stmt::Local(local) = stmt else {
        return false;
    };
    matches!(&local.pat, syn::Pat::Ident(pat) if pat.ident == name)
}

fn is_path(expr: &Expr, segments: &[&str]) -> bool {
    let Expr::Path(path) = expr else {
        return false;
    };
    path.path.segments.len() == segments.len()
        && path
            .path
            .segments
            .iter()
            .zip(segments)
            .all(|(segment, name)| segment.ident == name)
}

/// How often the identifier `name` occurs in `tokens`, macros included.
fn count_ident(tokens: proc_macro2::TokenStream, name: &str) -> usize {
    tokens
        .into_iter()
        .map(|tree| match tree {
            proc_macro2::TokenTree::Ident(ident) => usize::from(ident == name),
            proc_macro2::TokenTree::Group(group) => count_ident(group.stream(), name),
            _ => 0,
        })
        .sum()
}
