//! `#[actor]`: parse, validate, then generate. Generation assumes a valid model; on any
//! error the user's impl block is emitted unchanged (helper attributes taken off) beside
//! every error, so the rest of the crate and the IDE keep working.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, ReturnType, Type};

use crate::args::{self, Options};
use crate::ast::{self, Actor, Handler, Role};
use crate::attr::Kind;
use crate::ctxt::Ctxt;
use crate::paths::{self, replace_self};
use crate::{r#gen, valid};

pub(crate) fn actor(args: TokenStream, input: TokenStream) -> TokenStream {
    let cx = Ctxt::default();
    let item = match syn::parse2::<syn::Item>(input.clone()) {
        Ok(syn::Item::Impl(item)) => item,
        Ok(_) => {
            cx.error_at(
                Span::call_site(),
                "`#[actor]` goes on an inherent impl block, like `#[actor] impl Counter { .. }`",
            );
            let errors = cx.into_compile_errors();
            return quote!(#errors #input);
        }
        Err(err) => {
            let err = err.to_compile_error();
            return quote!(#err #input);
        }
    };
    let opts = args::parse(&cx, args);
    let actor = ast::build(&cx, item);
    valid::check(&cx, &actor);
    if cx.has_errors() {
        let item = &actor.item;
        let errors = cx.into_compile_errors();
        return quote!(#item #errors);
    }
    generate(&actor, &opts)
}

/// Names shared by the generators.
pub(crate) struct Names {
    pub(crate) krate: TokenStream,
    /// `<crate>::__private`.
    pub(crate) p: TokenStream,
    pub(crate) self_ty: Type,
    pub(crate) type_ident: Ident,
    pub(crate) msg: Ident,
    pub(crate) api: Ident,
}

/// A local of generated code, hygienic against the user's names.
pub(crate) fn local(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

fn generate(actor: &Actor, opts: &Options) -> TokenStream {
    let item = &actor.item;
    let self_ty = (*item.self_ty).clone();
    let type_ident = match &self_ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.clone()),
        _ => None,
    }
    .expect("validated: the self type is a named path");
    let krate = paths::krate(opts.krate.as_ref());
    let names = Names {
        p: quote!(#krate::__private),
        krate,
        msg: opts
            .msg
            .clone()
            .unwrap_or_else(|| format_ident!("{}Msg", type_ident)),
        api: format_ident!("__{}Api", type_ident, span = Span::mixed_site()),
        self_ty,
        type_ident,
    };
    let message = r#gen::message::generate(actor, &names);
    let api = r#gen::actor_ref::generate(actor, &names);
    let actor_impl = actor_impl(actor, opts, &names);
    let checks = checks(actor, &names);
    quote! {
        #item
        #message
        const _: () = {
            #api
            #actor_impl
            #checks
        };
    }
}

/// The reply type of a `#[call]`: the `T` of its `Reply<T>`, or its return type.
pub(crate) fn reply_type(h: &Handler, self_ty: &Type) -> Type {
    if let Some(t) = h.reply_type() {
        return replace_self(t, self_ty);
    }
    match &h.sig.output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => replace_self(ty, self_ty),
    }
}

/// The arguments of a call to the user's method, in declared order.
fn call_args(h: &Handler) -> Vec<TokenStream> {
    h.params
        .iter()
        .map(|p| match p.role {
            Role::Arg => {
                let ident = p.ident().expect("validated: arguments are identifiers");
                quote!(#ident)
            }
            Role::Reply => local("__reply").into_token_stream(),
            Role::Ctx { .. } => local("__ctx").into_token_stream(),
            Role::Reason => local("__reason").into_token_stream(),
        })
        .collect()
}

/// `Self::method(self, args..)`, awaited if the method is async.
fn invoke(h: &Handler, receiver: bool) -> TokenStream {
    let name = &h.sig.ident;
    let args = call_args(h);
    let recv = receiver.then(|| quote!(self,));
    let call = quote!(Self::#name(#recv #(#args),*));
    if h.is_async() {
        quote!(#call.await)
    } else {
        call
    }
}

fn find(actor: &Actor, kind: Kind) -> Option<&Handler> {
    actor.handlers.iter().find(|h| h.kind == kind)
}

fn actor_impl(actor: &Actor, opts: &Options, n: &Names) -> TokenStream {
    let Names {
        krate,
        p,
        self_ty,
        msg,
        api,
        ..
    } = n;
    let ctx = local("__ctx");
    let args = local("__args");
    let m = local("__msg");
    let reply = local("__reply");
    let value = local("__value");
    let reason = local("__reason");
    let info = local("__info");

    let (args_ty, init_body) = match find(actor, Kind::Init) {
        None => (quote!(Self), quote!(::core::result::Result::Ok(#args))),
        Some(h) => {
            let idents: Vec<&Ident> = h.args().filter_map(|a| a.ident()).collect();
            let tys: Vec<Type> = h.args().map(|a| replace_self(a.ty(), self_ty)).collect();
            let (args_ty, unpack) = match tys.as_slice() {
                [] => (quote!(()), quote!(let () = #args;)),
                [ty] => {
                    let i = idents[0];
                    (quote!(#ty), quote!(let #i = #args;))
                }
                _ => (quote!((#(#tys,)*)), quote!(let (#(#idents,)*) = #args;)),
            };
            let call = invoke(h, false);
            let ret = match &h.sig.output {
                ReturnType::Type(_, ty) => ty,
                ReturnType::Default => unreachable!("validated: init returns a value"),
            };
            let returns_self = matches!(&**ret, Type::Path(tp) if tp.qself.is_none()
                && (tp.path.is_ident("Self") || **ret == *self_ty));
            let wrap = if returns_self {
                quote!(::core::result::Result::Ok(#value))
            } else {
                quote_spanned!(ret.span()=> #p::InitResult::<Self>::into_init(#value))
            };
            (
                args_ty,
                quote! {
                    #unpack
                    let #value = #call;
                    #wrap
                },
            )
        }
    };

    let arms = actor
        .handlers
        .iter()
        .filter(|h| h.kind.is_message())
        .map(|h| {
            let variant = h.variant();
            let fields: Vec<&Ident> = h.args().filter_map(|a| a.ident()).collect();
            let call = invoke(h, true);
            match h.kind {
                Kind::Call if h.has(&Role::Reply) => quote! {
                    #msg::#variant { #(#fields,)* reply: #reply } => { #call; }
                },
                Kind::Call => quote! {
                    #msg::#variant { #(#fields,)* reply: #reply } => {
                        let #value = #call;
                        let _ = #reply.send(#value);
                    }
                },
                _ => quote! {
                    #msg::#variant { #(#fields,)* } => { #call; }
                },
            }
        });

    let info_body = match find(actor, Kind::Info) {
        Some(h) => {
            let name = &h.sig.ident;
            let rest = h.has_ctx().then(|| quote!(, #ctx));
            let call = quote!(Self::#name(self, #info #rest));
            if h.is_async() {
                quote!(#call.await;)
            } else {
                quote!(#call;)
            }
        }
        None => TokenStream::new(),
    };

    let (continue_ty, continue_body) = match find(actor, Kind::Continue) {
        Some(h) => {
            let arg = h.args().next().expect("validated: one argument");
            let ident = arg.ident().expect("validated: an identifier");
            let ty = replace_self(arg.ty(), self_ty);
            let call = invoke(h, true);
            (quote!(#ty), quote!(let #ident = #args; #call;))
        }
        None => (quote!(#p::Infallible), quote!(match #args {})),
    };

    let terminate_body = match find(actor, Kind::Terminate) {
        Some(h) => {
            let call = invoke(h, true);
            quote!(#call;)
        }
        None => TokenStream::new(),
    };

    let mailbox = match &opts.mailbox {
        Some(n) => quote!(::core::option::Option::Some(#n)),
        None => quote!(::core::option::Option::None),
    };

    quote! {
        impl #krate::Actor for #self_ty {
            type Args = #args_ty;
            type Msg = #msg;
            type Continue = #continue_ty;
            type Api = #api;
            const MAILBOX: ::core::option::Option<usize> = #mailbox;

            #[allow(unused_variables, clippy::unused_async)]
            async fn __init(
                #args: Self::Args,
                #ctx: &mut #p::Ctx<Self>,
            ) -> ::core::result::Result<Self, #p::InitError> {
                #init_body
            }

            #[allow(unused_variables, clippy::unused_async)]
            async fn __handle(&mut self, #m: #msg, #ctx: &mut #p::Ctx<Self>) {
                match #m {
                    #(#arms)*
                }
            }

            #[allow(unused_variables, clippy::unused_async)]
            async fn __info(&mut self, #info: #p::Info, #ctx: &mut #p::Ctx<Self>) {
                #info_body
            }

            #[allow(unused_variables, clippy::unused_async)]
            async fn __continue(&mut self, #args: Self::Continue, #ctx: &mut #p::Ctx<Self>) {
                #continue_body
            }

            #[allow(unused_variables, clippy::unused_async)]
            async fn __terminate(&mut self, #reason: &#p::ExitReason, #ctx: &mut #p::Ctx<Self>) {
                #terminate_body
            }
        }
    }
}

/// Compile-time checks spanned on the user's types: each message argument and reply type
/// must be `Send + 'static`.
fn checks(actor: &Actor, n: &Names) -> TokenStream {
    let p = &n.p;
    let mut asserts = Vec::new();
    for h in &actor.handlers {
        let carried = matches!(
            h.kind,
            Kind::Call | Kind::Cast | Kind::Init | Kind::Continue
        );
        if !carried {
            continue;
        }
        for arg in h.args() {
            let ty = replace_self(arg.ty(), &n.self_ty);
            asserts.push(quote_spanned!(arg.ty().span()=> #p::assert_message_arg::<#ty>();));
        }
        if h.kind == Kind::Call {
            let ty = reply_type(h, &n.self_ty);
            let span = match (&h.sig.output, h.reply_type()) {
                (_, Some(t)) => t.span(),
                (ReturnType::Type(_, t), None) => t.span(),
                (ReturnType::Default, None) => h.sig.ident.span(),
            };
            asserts.push(quote_spanned!(span=> #p::assert_message_arg::<#ty>();));
        }
    }
    quote! {
        #[allow(dead_code)]
        fn __beam_checks() {
            #(#asserts)*
        }
    }
}
