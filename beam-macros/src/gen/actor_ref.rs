//! The typed methods of `ActorRef<A>`: a hidden type the ref derefs to, with one method per
//! `#[call]` (returning a `Call`) and `#[cast]` (returning `Result<(), SendError>`), and the
//! hidden type `ActorRef::waiting` gives, with one method per `#[cast]` returning a `Cast`
//! that waits for room.

use proc_macro2::TokenStream;
use quote::quote;

use syn::{Ident, Type};

use crate::ast::{Actor, Handler};
use crate::attr::Kind;
use crate::expand::{Names, local, reply_type};
use crate::paths::replace_self;

/// What every method generated for a handler shares.
struct Method<'a> {
    /// Its `#[cfg]`s and doc comments.
    attrs: TokenStream,
    /// `vis fn name`.
    head: TokenStream,
    /// Its message variant.
    variant: Ident,
    /// Its arguments' names.
    idents: Vec<&'a Ident>,
    /// Its arguments, typed, `Self` replaced by the actor's type.
    params: TokenStream,
}

impl<'a> Method<'a> {
    fn of(h: &'a Handler, self_ty: &Type) -> Self {
        let (docs, cfgs, vis, name) = (&h.docs, &h.cfgs, &h.vis, &h.sig.ident);
        let idents: Vec<_> = h
            .args()
            .map(|a| a.ident().expect("validated: arguments are identifiers"))
            .collect();
        let tys = h.args().map(|a| replace_self(a.ty(), self_ty));
        Method {
            attrs: quote!(#(#cfgs)* #(#docs)*),
            head: quote!(#vis fn #name),
            variant: h.variant(),
            params: quote!(#(#idents: #tys),*),
            idents,
        }
    }
}

pub(crate) fn generate(actor: &Actor, n: &Names) -> TokenStream {
    let Names {
        p,
        msg,
        self_ty,
        api,
        waiting,
        ..
    } = n;
    let raw = local("__raw");
    let reply = local("__reply");
    let rx = local("__rx");
    let methods = actor
        .handlers
        .iter()
        .filter(|h| h.kind.is_message())
        .map(|h| {
            let Method {
                attrs,
                head,
                variant,
                idents,
                params,
            } = Method::of(h, self_ty);
            if h.kind == Kind::Call {
                let ret = reply_type(h, self_ty);
                quote! {
                    #attrs
                    #head(&self, #params) -> #p::Call<'_, #self_ty, #ret> {
                        let (#reply, #rx) = #p::reply_pair(&self.#raw);
                        #p::call(&self.#raw, #msg::#variant { #(#idents,)* reply: #reply }, #rx)
                    }
                }
            } else {
                // Inline: the body is one call to `cast`, inline itself down to the mailbox's
                // push, so a cast compiles into its caller without a call of its own.
                quote! {
                    #attrs
                    #[inline]
                    #head(&self, #params) -> ::core::result::Result<(), #p::SendError> {
                        #p::cast(&self.#raw, #msg::#variant { #(#idents,)* })
                    }
                }
            }
        });
    let waiting_methods = actor
        .handlers
        .iter()
        .filter(|h| h.kind == Kind::Cast)
        .map(|h| {
            let Method {
                attrs,
                head,
                variant,
                idents,
                params,
            } = Method::of(h, self_ty);
            quote! {
                #attrs
                #[inline]
                #head(self, #params) -> #p::Cast<'__a, #self_ty> {
                    #p::cast_waiting(self.#raw, #msg::#variant { #(#idents,)* })
                }
            }
        });
    quote! {
        #[doc(hidden)]
        #[allow(unreachable_pub, missing_debug_implementations)]
        pub struct #api {
            #raw: #p::RawRef<#self_ty>,
        }

        #[diagnostic::do_not_recommend]
        impl #p::Api<#self_ty> for #api {
            fn from_raw(raw: #p::RawRef<#self_ty>) -> Self {
                Self { #raw: raw }
            }
            fn raw(&self) -> &#p::RawRef<#self_ty> {
                &self.#raw
            }
        }

        #[allow(dead_code, clippy::unused_self)]
        impl #api {
            #(#methods)*
        }

        #[doc(hidden)]
        #[allow(unreachable_pub, missing_debug_implementations)]
        pub struct #waiting<'__a> {
            #raw: &'__a #p::RawRef<#self_ty>,
        }

        #[diagnostic::do_not_recommend]
        impl<'__a> #p::WaitingApi<'__a, #self_ty> for #waiting<'__a> {
            fn from_raw(raw: &'__a #p::RawRef<#self_ty>) -> Self {
                Self { #raw: raw }
            }
        }

        #[allow(dead_code, clippy::unused_self)]
        impl<'__a> #waiting<'__a> {
            #(#waiting_methods)*
        }
    }
}
