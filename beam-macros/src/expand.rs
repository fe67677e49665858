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
    /// The type `ActorRef::waiting` gives.
    pub(crate) waiting: Ident,
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
        waiting: format_ident!("__{}Waiting", type_ident, span = Span::mixed_site()),
        self_ty,
        type_ident,
    };
    let message = r#gen::message::generate(actor, &names);
    let api = r#gen::actor_ref::generate(actor, &names);
    let actor_impl = actor_impl(actor, opts, &names);
    let checks = checks(actor, &names);
    quote! {
        #checks
        #item
        #message
        const _: () = {
            #api
            #actor_impl
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

/// The arguments of a call to the user's method, in declared order. Generated locals are
/// reported at the parameter's type, so a type mismatch blames the user's declaration.
fn call_args(h: &Handler) -> Vec<TokenStream> {
    h.params
        .iter()
        .map(|p| {
            let at = |name: &str| {
                let span = Span::mixed_site().located_at(p.ty().span());
                Ident::new(name, span).into_token_stream()
            };
            match p.role {
                Role::Arg if h.kind == Kind::Info => at("__info"),
                Role::Arg => {
                    let ident = p.ident().expect("validated: arguments are identifiers");
                    quote!(#ident)
                }
                Role::Reply => at("__reply"),
                Role::Ctx { .. } => at("__ctx"),
                Role::Reason => at("__reason"),
            }
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

/// Runs a handler whose value nobody receives. With `crash_on_err` it returns
/// `Result<(), E>` and an `Err` stops the actor with `ExitReason::Error`; without, it
/// returns `()`. Both are checked by a trait bound spanned on the return type, which names
/// the fix, so an alias is judged by what it stands for.
fn run(h: &Handler, p: &TokenStream) -> TokenStream {
    let call = invoke(h, true);
    let Some(ty) = h.output() else {
        return quote!(#call;);
    };
    let value = local("__value");
    if h.crash_on_err.is_some() {
        let ctx = local("__ctx");
        let failure = quote_spanned!(ty.span()=> <#ty as #p::HandlerResult>::failure(#value));
        return quote! {
            let #value = #call;
            #p::fail(#ctx, #failure);
        };
    }
    let bound = match h.kind {
        Kind::Call => "ReplyCallReturn",
        Kind::Info => "InfoReturn",
        Kind::Continue => "ContinueReturn",
        _ => "CastReturn",
    };
    let bound = Ident::new(bound, ty.span());
    let done = quote_spanned!(ty.span()=> <#ty as #p::#bound>::done(#value));
    quote! {
        let #value = #call;
        #done;
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
        waiting,
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
                quote_spanned!(ret.span()=> <#ret as #p::InitResult<Self>>::into_init(#value))
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

    // Whether `init` can run at once in the spawner (no `#[init]`, or a sync one): then a
    // spawn needs no hand-shake with the new task.
    let init_now = match find(actor, Kind::Init) {
        Some(h) if h.is_async() => quote!(::core::result::Result::Err(#args)),
        _ => quote!(::core::result::Result::Ok({ #init_body })),
    };

    let arm = |h: &Handler| {
        let cfgs = &h.cfgs;
        let variant = h.variant();
        let fields: Vec<&Ident> = h.args().filter_map(|a| a.ident()).collect();
        match h.kind {
            Kind::Call if h.has(&Role::Reply) => {
                let run = run(h, p);
                quote! {
                    #(#cfgs)* #msg::#variant { #(#fields,)* reply: #reply } => { #run }
                }
            }
            Kind::Call => {
                let call = invoke(h, true);
                // With `crash_on_err`, the `Result` is replied first; then an `Err` stops
                // the actor. Without, the value is only the reply.
                let output = h.crash_on_err.as_ref().and(h.output());
                let (check, fail) = match output {
                    Some(ty) => {
                        let failure = local("__failure");
                        (
                            quote_spanned!(ty.span()=>
                                let #failure = <#ty as #p::CallResult>::failure(&#value);
                            ),
                            quote!(#p::fail(#ctx, #failure);),
                        )
                    }
                    None => (TokenStream::new(), TokenStream::new()),
                };
                quote! {
                    #(#cfgs)* #msg::#variant { #(#fields,)* reply: #reply } => {
                        let #value = #call;
                        #check
                        let _ = #reply.send(#value);
                        #fail
                    }
                }
            }
            _ => {
                let run = run(h, p);
                quote! {
                    #(#cfgs)* #msg::#variant { #(#fields,)* } => { #run }
                }
            }
        }
    };
    let messages = || actor.handlers.iter().filter(|h| h.kind.is_message());
    let arms = messages().map(arm);
    // The synchronous handlers run at once, without a future; the async ones' messages
    // are given back for `__handle`.
    let now_arms = messages().map(|h| {
        if h.is_async() {
            let cfgs = &h.cfgs;
            let variant = h.variant();
            quote! {
                #(#cfgs)* #m @ #msg::#variant { .. } => return ::core::result::Result::Err(#m),
            }
        } else {
            let arm = arm(h);
            quote! { #arm }
        }
    });
    let now_body = if messages().any(|h| !h.is_async()) {
        quote! {
            match #m {
                #(#now_arms)*
            }
            #[allow(unreachable_code)]
            ::core::result::Result::Ok(())
        }
    } else {
        quote!(::core::result::Result::Err(#m))
    };

    // What telemetry and tracing report of a message: its handler's name and kind, and
    // whether it runs at once (`__handle_now`) or as a future (`__handle`).
    let describe_arms = messages().map(|h| {
        let cfgs = &h.cfgs;
        let variant = h.variant();
        let ident = h.sig.ident.to_string();
        let name = ident.strip_prefix("r#").unwrap_or(&ident);
        let kind = match h.kind {
            Kind::Call => quote!(#p::HandlerKind::Call),
            _ => quote!(#p::HandlerKind::Cast),
        };
        let sync = !h.is_async();
        quote! {
            #(#cfgs)* #msg::#variant { .. } => #p::Describe { name: #name, kind: #kind, sync: #sync },
        }
    });
    let async_init = find(actor, Kind::Init).is_some_and(Handler::is_async);

    let info_body = match find(actor, Kind::Info) {
        Some(h) => run(h, p),
        None => TokenStream::new(),
    };

    let (continue_ty, continue_body) = match find(actor, Kind::Continue) {
        Some(h) => {
            let arg = h.args().next().expect("validated: one argument");
            let ident = arg.ident().expect("validated: an identifier");
            let ty = replace_self(arg.ty(), self_ty);
            let run = run(h, p);
            (quote!(#ty), quote!(let #ident = #args; #run))
        }
        None => (quote!(#p::Infallible), quote!(match #args {})),
    };

    let terminates = find(actor, Kind::Terminate).is_some();
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
        #[diagnostic::do_not_recommend]
        impl #krate::Actor for #self_ty {
            type Args = #args_ty;
            type Msg = #msg;
            type Continue = #continue_ty;
            type Api = #api;
            type Waiting<'__a> = #waiting<'__a>;
            const MAILBOX: ::core::option::Option<::core::primitive::usize> = #mailbox;
            const TERMINATES: ::core::primitive::bool = #terminates;
            const ASYNC_INIT: ::core::primitive::bool = #async_init;

            fn __describe(#m: &Self::Msg) -> #p::Describe {
                match *#m {
                    #(#describe_arms)*
                }
            }

            #[allow(unused_variables)]
            fn __init_now(
                #args: Self::Args,
                #ctx: &mut #p::Ctx<Self>,
            ) -> ::core::result::Result<
                ::core::result::Result<Self, #p::InitError>,
                Self::Args,
            > {
                #init_now
            }

            #[allow(unused_variables, clippy::unused_async)]
            async fn __init(
                #args: Self::Args,
                #ctx: &mut #p::Ctx<Self>,
            ) -> ::core::result::Result<Self, #p::InitError> {
                #init_body
            }

            #[allow(unused_variables, unreachable_code, clippy::needless_return)]
            fn __handle_now(
                &mut self,
                #m: #msg,
                #ctx: &mut #p::Ctx<Self>,
            ) -> ::core::result::Result<(), #msg> {
                #now_body
            }

            // Not `async fn`s: those keep a second copy of their by-value arguments (the
            // whole message) across every await of the handler.
            #[allow(unused_variables, clippy::manual_async_fn)]
            fn __handle(
                &mut self,
                #m: #msg,
                #ctx: &mut #p::Ctx<Self>,
            ) -> impl #p::Future<Output = ()> + ::core::marker::Send {
                async move {
                    match #m {
                        #(#arms)*
                    }
                }
            }

            #[allow(unused_variables, clippy::unused_async)]
            async fn __info(&mut self, #info: #p::Info, #ctx: &mut #p::Ctx<Self>) {
                #info_body
            }

            #[allow(unused_variables, clippy::manual_async_fn)]
            fn __continue(
                &mut self,
                #args: Self::Continue,
                #ctx: &mut #p::Ctx<Self>,
            ) -> impl #p::Future<Output = ()> + ::core::marker::Send {
                async move { #continue_body }
            }

            #[allow(unused_variables, clippy::unused_async)]
            async fn __terminate(&mut self, #reason: &#p::ExitReason, #ctx: &mut #p::Ctx<Self>) {
                #terminate_body
            }
        }
    }
}

/// `tokens` with every span set to `span`, so rustc blames the user's token.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let proc_macro2::TokenTree::Group(g) = &tt {
                let mut group = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                tt = proc_macro2::TokenTree::Group(group);
            } else {
                tt.set_span(span);
            }
            tt
        })
        .collect()
}

/// Compile-time checks spanned on the user's types: the actor and each message argument and
/// reply type must be `Send + 'static`. They are bounds of items emitted first, so a
/// violation is reported before the errors it causes in the generated code.
fn checks(actor: &Actor, n: &Names) -> TokenStream {
    let p = &n.p;
    let bound = |ty: &Type, span: Span, check: &str| {
        let p = respan(p.clone(), span);
        let check = Ident::new(check, span);
        quote_spanned!(span=> #ty: #p::#check,)
    };
    let state = bound(&n.self_ty, n.self_ty.span(), "ActorState");
    let mut out = quote! {
        const _: () = {
            #[allow(dead_code)]
            struct __BeamChecks where #state;
        };
    };
    for h in &actor.handlers {
        let carried = matches!(
            h.kind,
            Kind::Call | Kind::Cast | Kind::Init | Kind::Continue
        );
        if !carried {
            continue;
        }
        let mut bounds: Vec<TokenStream> = h
            .args()
            .map(|arg| {
                let ty = replace_self(arg.ty(), &n.self_ty);
                bound(&ty, arg.ty().span(), "MessageArg")
            })
            .collect();
        if h.kind == Kind::Call {
            let span = match (&h.sig.output, h.reply_type()) {
                (_, Some(t)) => t.span(),
                (ReturnType::Type(_, t), None) => t.span(),
                (ReturnType::Default, None) => h.sig.ident.span(),
            };
            bounds.push(bound(&reply_type(h, &n.self_ty), span, "MessageReply"));
        }
        if bounds.is_empty() {
            continue;
        }
        let cfgs = &h.cfgs;
        out.extend(quote! {
            #(#cfgs)*
            const _: () = {
                #[allow(dead_code)]
                struct __BeamChecks where #(#bounds)*;
            };
        });
    }
    out
}
