//! `names!`: typed name constants. Each entry `vis NAME: Actor = "text";` becomes a
//! `const NAME: Name<Actor>`; two entries with the same text do not compile.

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Attribute, Ident, LitStr, Path, Token, Type, Visibility};

use crate::ctxt::Ctxt;
use crate::paths;

struct Entry {
    attrs: Vec<Attribute>,
    vis: Visibility,
    ident: Ident,
    ty: Type,
    name: LitStr,
}

struct Input {
    krate: Option<Path>,
    entries: Vec<Entry>,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut krate = None;
        if input.peek(Token![crate]) && input.peek2(Token![=]) {
            input.parse::<Token![crate]>()?;
            input.parse::<Token![=]>()?;
            krate = Some(input.parse::<Path>()?);
            input.parse::<Token![;]>()?;
        }
        let mut entries = Vec::new();
        while !input.is_empty() {
            let attrs = input.call(Attribute::parse_outer)?;
            let vis = input.parse()?;
            let ident = input.parse()?;
            input.parse::<Token![:]>()?;
            let ty = input.parse()?;
            input.parse::<Token![=]>()?;
            let name = input.parse()?;
            input.parse::<Token![;]>()?;
            entries.push(Entry {
                attrs,
                vis,
                ident,
                ty,
                name,
            });
        }
        Ok(Input { krate, entries })
    }
}

pub(crate) fn names(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<Input>(input) {
        Ok(input) => input,
        Err(err) => return err.to_compile_error(),
    };
    let cx = Ctxt::default();
    let krate = paths::krate(input.krate.as_ref());
    let mut seen: HashMap<String, &Ident> = HashMap::new();
    let mut out = TokenStream::new();
    for entry in &input.entries {
        let text = entry.name.value();
        if text.is_empty() {
            cx.error_spanned_by(&entry.name, "an actor name cannot be empty");
        } else if let Some(first) = seen.get(&text) {
            cx.error_spanned_by(
                &entry.name,
                format_args!("duplicate name \"{text}\" in `names!`: `{first}` already uses it"),
            );
        } else {
            seen.insert(text.clone(), &entry.ident);
        }
        let Entry {
            attrs,
            vis,
            ident,
            ty,
            name,
        } = entry;
        let has_docs = attrs.iter().any(|a| a.path().is_ident("doc"));
        let doc = (!has_docs).then(|| {
            let doc = format!(" The name \"{text}\".");
            quote!(#[doc = #doc])
        });
        let check = quote_spanned! {ty.span()=>
            const _: fn() = || {
                fn __is_actor<A: #krate::Actor>() {}
                __is_actor::<#ty>();
            };
        };
        out.extend(quote! {
            #(#attrs)*
            #doc
            #vis const #ident: #krate::Name<#ty> = #krate::Name::<#ty>::from_static(#name);
            #check
        });
    }
    let errors = cx.into_compile_errors();
    quote!(#out #errors)
}
