//! `names!`: typed registry keys as constants. An entry `vis NAME: Actor = "text";` becomes a
//! `const NAME: Name<Actor>`, `vis NAME: Group<Actor> = "text";` a `Group<Actor>` and
//! `vis NAME: Topic<Event> = "text";` a `Topic<Event>`. Two names with the same text do not
//! compile, nor two groups (or topics) of the same type with the same text.

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{
    Attribute, GenericArgument, Ident, LitStr, Path, PathArguments, Token, Type, Visibility,
};

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

/// What an entry declares.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Name,
    Group,
    Topic,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Name => "name",
            Kind::Group => "group",
            Kind::Topic => "topic",
        }
    }
}

/// Splits `Group<T>` and `Topic<T>` (by the last path segment; actor types cannot be
/// generic, so no actor is spelled so) from a plain actor type.
fn classify(ty: &Type) -> (Kind, &Type) {
    if let Type::Path(path) = ty {
        if path.qself.is_none() {
            if let Some(last) = path.path.segments.last() {
                let kind = if last.ident == "Group" {
                    Some(Kind::Group)
                } else if last.ident == "Topic" {
                    Some(Kind::Topic)
                } else {
                    None
                };
                if let (Some(kind), PathArguments::AngleBracketed(args)) = (kind, &last.arguments) {
                    if let [GenericArgument::Type(inner)] =
                        args.args.iter().collect::<Vec<_>>().as_slice()
                    {
                        return (kind, inner);
                    }
                }
            }
        }
    }
    (Kind::Name, ty)
}

pub(crate) fn names(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<Input>(input) {
        Ok(input) => input,
        Err(err) => return err.to_compile_error(),
    };
    let cx = Ctxt::default();
    let krate = paths::krate(input.krate.as_ref());
    // Names are one namespace; a group or topic is told apart by its type too.
    let mut seen: HashMap<(Kind, String, String), &Ident> = HashMap::new();
    let mut out = TokenStream::new();
    for entry in &input.entries {
        let text = entry.name.value();
        let (kind, ty) = classify(&entry.ty);
        let noun = kind.noun();
        let typed = match kind {
            Kind::Name => String::new(),
            Kind::Group | Kind::Topic => quote!(#ty).to_string(),
        };
        let seen_key = (kind, typed, text.clone());
        if text.is_empty() {
            let article = if kind == Kind::Name { "an actor" } else { "a" };
            cx.error_spanned_by(
                &entry.name,
                format_args!("{article} {noun} cannot be empty"),
            );
        } else if let Some(first) = seen.get(&seen_key) {
            cx.error_spanned_by(
                &entry.name,
                format_args!("duplicate {noun} \"{text}\" in `names!`: `{first}` already uses it"),
            );
        } else {
            seen.insert(seen_key, &entry.ident);
        }
        let Entry {
            attrs,
            vis,
            ident,
            name,
            ..
        } = entry;
        let has_docs = attrs.iter().any(|a| a.path().is_ident("doc"));
        let doc = (!has_docs).then(|| {
            let doc = format!(" The {noun} \"{text}\".");
            quote!(#[doc = #doc])
        });
        let (key, check) = match kind {
            Kind::Name => (quote!(Name), None),
            Kind::Group => (quote!(Group), None),
            Kind::Topic => (
                quote!(Topic),
                Some(quote_spanned! {ty.span()=>
                    const _: fn() = || {
                        fn __is_event<E: ::core::clone::Clone + ::core::marker::Send + 'static>() {}
                        __is_event::<#ty>();
                    };
                }),
            ),
        };
        let check = check.unwrap_or_else(|| {
            quote_spanned! {ty.span()=>
                const _: fn() = || {
                    fn __is_actor<A: #krate::Actor>() {}
                    __is_actor::<#ty>();
                };
            }
        });
        out.extend(quote! {
            #(#attrs)*
            #doc
            #vis const #ident: #krate::#key<#ty> = #krate::#key::<#ty>::from_static(#name);
            #check
        });
    }
    let errors = cx.into_compile_errors();
    quote!(#out #errors)
}
