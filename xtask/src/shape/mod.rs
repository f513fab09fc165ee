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
//! - every `send()` puts path identifiers into the URL as they are, builds no
//!   `api-version` header the `pre` hook replaces, and moves the response's
//!   headers instead of cloning them (`send.rs`).
//!
//! On the mocks (`sdk-httpmock`): every matcher and response takes what the
//! client's setters take (`"…"` ids, builders, a bare resource for `ok`).
//!
//! | stage | file | what it does |
//! |---|---|---|
//! | spec facts | `facts.rs` | what the passes need to know of the spec (operations, limits, secrets, flag examples) |
//! | client | `client.rs` | the passes over the client listed above |
//! | request path | `send.rs` | every `send()` without the per-request work the sdk does not need |
//! | mocks | `mocks.rs` | the pass over the mocks |
//! | CLI | `cli.rs` | what the command-line tool reads of each operation |
//! | helpers | `mod.rs` | reading and writing syn items, shared by the passes |

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::Span;
use quote::ToTokens;
use syn::{
    Attribute, Fields, File, GenericArgument, Ident, ImplItem, Item, ItemImpl, ItemMod, ItemStruct,
    PathArguments, ReturnType, Type, parse_quote,
};

use crate::Result;

mod cli;
mod client;
mod facts;
mod mocks;
mod send;

pub use cli::cli;
pub use client::client;
use facts::pascal_case;
pub use facts::{Limit, OperationFacts, Rule, SECRET_SCHEMAS, SpecFacts, example_value};
pub use mocks::mocks;

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
