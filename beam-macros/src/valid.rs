//! One check per rule, each with a spanned error; everything that passes here expands.

use std::collections::HashMap;

use syn::visit::Visit;
use syn::{ReturnType, Type};

use crate::ast::{Actor, Handler, Receiver, Role};
use crate::attr::Kind;
use crate::ctxt::Ctxt;

/// Method names a handler cannot take: `ActorRef` has them itself (or will), or a prelude
/// trait it implements does, so `actor_ref.name(..)` would not reach the handler.
const RESERVED: &[&str] = &[
    "id",
    "is_alive",
    "exit_reason",
    "stop",
    "stop_with",
    "kill",
    "link",
    "unlink",
    "links",
    "monitor",
    "monitored_by",
    "wait_for_exit",
    "waiting",
    "clone",
    "clone_from",
    "clone_into",
    "to_owned",
    "eq",
    "ne",
    "cmp",
    "partial_cmp",
    "lt",
    "le",
    "gt",
    "ge",
    "max",
    "min",
    "clamp",
    "into",
    "try_into",
];

pub(crate) fn check(cx: &Ctxt, actor: &Actor) {
    check_impl(cx, actor);
    let mut once: HashMap<&'static str, ()> = HashMap::new();
    let mut variants: HashMap<String, String> = HashMap::new();
    for h in &actor.handlers {
        check_signature(cx, h);
        check_receiver(cx, h);
        check_params(cx, h);
        check_return(cx, h);
        if !h.kind.is_message() {
            if let Some(cfg) = h.cfgs.first() {
                cx.error_spanned_by(
                    cfg,
                    format_args!(
                        "`#[cfg]` on `#[{}]` is not supported; put it on the whole impl block",
                        h.kind.name()
                    ),
                );
            }
        }
        if h.kind.is_message() {
            let name = h.sig.ident.to_string();
            if RESERVED.contains(&name.as_str()) {
                cx.error_spanned_by(
                    &h.sig.ident,
                    format_args!(
                        "`{name}` is a method of `ActorRef` itself; give this handler another name"
                    ),
                );
            }
            let variant = h.variant().to_string();
            if let Some(first) = variants.get(&variant) {
                cx.error_spanned_by(
                    &h.sig.ident,
                    format_args!(
                        "handlers `{first}` and `{name}` both make the message variant `{variant}`; rename one"
                    ),
                );
            } else {
                variants.insert(variant, name);
            }
        } else if once.insert(h.kind.name(), ()).is_some() {
            cx.error_spanned_by(
                &h.attr,
                format_args!("duplicate `#[{}]`: an actor has at most one", h.kind.name()),
            );
        }
    }
}

fn check_impl(cx: &Ctxt, actor: &Actor) {
    let item = &actor.item;
    if let Some((_, path, _)) = &item.trait_ {
        cx.error_spanned_by(
            path,
            "`#[actor]` goes on an inherent impl block (`impl Counter`), not a trait impl",
        );
    }
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        cx.error_spanned_by(
            &item.generics,
            "`#[actor]` does not support generic actor types; wrap the generic type in a concrete one",
        );
    }
    if let Some(unsafety) = &item.unsafety {
        cx.error_spanned_by(unsafety, "`#[actor]` impl blocks cannot be `unsafe`");
    }
    let named = match &*item.self_ty {
        Type::Path(p) => {
            p.qself.is_none()
                && p.path
                    .segments
                    .last()
                    .is_some_and(|s| s.arguments.is_empty())
        }
        _ => false,
    };
    if !named {
        cx.error_spanned_by(
            &item.self_ty,
            "`#[actor]` needs a named type without generic arguments, like `impl Counter`",
        );
    }
}

fn check_signature(cx: &Ctxt, h: &Handler) {
    let attr = h.kind.name();
    let sig = &h.sig;
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        cx.error_spanned_by(
            &sig.generics,
            format_args!("`#[{attr}]` handlers cannot be generic: a message needs concrete types"),
        );
    }
    if let Some(t) = &sig.unsafety {
        cx.error_spanned_by(t, format_args!("`#[{attr}]` handlers cannot be `unsafe`"));
    }
    if let Some(t) = &sig.constness {
        cx.error_spanned_by(t, format_args!("`#[{attr}]` handlers cannot be `const`"));
    }
    if let Some(abi) = &sig.abi {
        cx.error_spanned_by(abi, format_args!("`#[{attr}]` handlers cannot be `extern`"));
    }
    if let Some(v) = &sig.variadic {
        cx.error_spanned_by(v, format_args!("`#[{attr}]` handlers cannot be variadic"));
    }
}

fn check_receiver(cx: &Ctxt, h: &Handler) {
    const INIT: &str = "`#[init]` takes no receiver: it builds the actor from the spawn arguments";
    let attr = h.kind.name();
    match (&h.receiver, h.kind == Kind::Init) {
        (Receiver::None, true) | (Receiver::Ref, false) => {}
        (Receiver::Ref, true) => cx.error_spanned_by(h.sig.inputs.first(), INIT),
        (Receiver::Other(r), true) => cx.error_spanned_by(r, INIT),
        (Receiver::Other(r), false) => cx.error_spanned_by(
            r,
            format_args!(
                "`#[{attr}]` handlers take `&self` or `&mut self`, not `self` by value: the actor keeps its state"
            ),
        ),
        (Receiver::None, false) => cx.error_spanned_by(
            &h.sig.ident,
            format_args!("`#[{attr}]` handlers take `&self` or `&mut self`"),
        ),
    }
}

fn check_params(cx: &Ctxt, h: &Handler) {
    let last = h.params.len().saturating_sub(1);
    let mut replies = 0;
    let mut args = 0;
    for (i, p) in h.params.iter().enumerate() {
        match p.role {
            Role::Ctx { mutable } => {
                if !mutable {
                    cx.error_spanned_by(p.ty(), "the context is taken as `ctx: &mut Ctx<Self>`");
                }
                if i != last {
                    cx.error_spanned_by(&p.arg, "`ctx: &mut Ctx<Self>` must be the last parameter");
                }
            }
            Role::Reply => {
                replies += 1;
                if h.kind != Kind::Call {
                    cx.error_spanned_by(
                        p.ty(),
                        "`Reply` parameters are only for `#[call]` handlers",
                    );
                } else if replies > 1 {
                    cx.error_spanned_by(&p.arg, "a `#[call]` handler takes at most one `Reply`");
                } else if h.params[i + 1..].iter().any(|q| q.role == Role::Arg) {
                    cx.error_spanned_by(
                        &p.arg,
                        "the `Reply` parameter comes after the message arguments",
                    );
                }
            }
            Role::Reason => {}
            Role::Arg => {
                args += 1;
                check_arg(cx, h, p);
            }
        }
    }
    let expected = match h.kind {
        Kind::Info => Some((
            1,
            "`#[info]` takes one argument, `info: Info` (and optionally `ctx`)",
        )),
        Kind::Continue => Some((
            1,
            "`#[handle_continue]` takes one argument, the value given to `ctx.continue_with` (and optionally `ctx`)",
        )),
        Kind::Terminate => Some((
            0,
            "`#[terminate]` takes only `reason: &ExitReason` and `ctx: &mut Ctx<Self>`, both optional",
        )),
        _ => None,
    };
    if let Some((n, msg)) = expected {
        if args != n {
            cx.error_spanned_by(&h.sig.inputs, msg);
        }
    }
}

fn check_arg(cx: &Ctxt, h: &Handler, p: &crate::ast::Param) {
    match p.ident() {
        None => cx.error_spanned_by(
            &p.arg.pat,
            "handler arguments must be plain names, not patterns: they become message fields",
        ),
        Some(ident) if h.kind == Kind::Call && ident == "reply" => cx.error_spanned_by(
            ident,
            "`reply` is the reply port's field in `#[call]` messages; rename this argument",
        ),
        Some(_) => {}
    }
    check_owned(
        cx,
        p.ty(),
        "`impl Trait` arguments are not supported in handlers: a message field needs a concrete type",
        "handler arguments must be owned (`'static`): a message outlives the sender's borrow",
    );
}

/// Rejects `impl Trait` and non-`'static` borrows anywhere in `ty`.
fn check_owned(cx: &Ctxt, ty: &Type, impl_trait: &str, borrow: &str) {
    let mut finder = Finder::default();
    finder.visit_type(ty);
    if let Some(tokens) = finder.impl_trait {
        cx.error_spanned_by(tokens, impl_trait);
    } else if let Some(tokens) = finder.borrow {
        cx.error_spanned_by(tokens, borrow);
    }
}

#[derive(Default)]
struct Finder {
    impl_trait: Option<proc_macro2::TokenStream>,
    borrow: Option<proc_macro2::TokenStream>,
}

impl<'ast> Visit<'ast> for Finder {
    fn visit_type_impl_trait(&mut self, t: &'ast syn::TypeImplTrait) {
        self.impl_trait.get_or_insert_with(|| quote::quote!(#t));
    }
    fn visit_type_reference(&mut self, t: &'ast syn::TypeReference) {
        if t.lifetime.as_ref().is_none_or(|l| l.ident != "static") {
            self.borrow.get_or_insert_with(|| quote::quote!(#t));
        }
        syn::visit::visit_type_reference(self, t);
    }
    // Borrows in `fn(&str)` and `Fn(&str)` are the callee's own (higher-ranked), not held.
    fn visit_type_bare_fn(&mut self, _: &'ast syn::TypeBareFn) {}
    fn visit_parenthesized_generic_arguments(
        &mut self,
        _: &'ast syn::ParenthesizedGenericArguments,
    ) {
    }
    fn visit_lifetime(&mut self, l: &'ast syn::Lifetime) {
        if l.ident != "static" {
            self.borrow.get_or_insert_with(|| quote::quote!(#l));
        }
    }
}

fn check_return(cx: &Ctxt, h: &Handler) {
    let output = &h.sig.output;
    match h.kind {
        Kind::Init if h.output().is_none() => cx.error_spanned_by(
            &h.sig.ident,
            "`#[init]` must return `Self` or `Result<Self, E>`",
        ),
        Kind::Init => {}
        Kind::Terminate if h.output().is_some() => {
            cx.error_spanned_by(output, "`#[terminate]` handlers return nothing");
        }
        Kind::Terminate => {}
        _ => check_handler_return(cx, h),
    }
    if h.kind == Kind::Call {
        let reply = match (h.reply_type(), output) {
            (Some(ty), _) => Some(ty),
            (None, ReturnType::Type(_, ty)) => Some(&**ty),
            (None, ReturnType::Default) => None,
        };
        if let Some(ty) = reply {
            check_owned(
                cx,
                ty,
                "`#[call]` cannot reply with `impl Trait`: the reply needs a concrete type",
                "`#[call]` replies must be owned (`'static`): a reply outlives the handler's borrow",
            );
        }
    }
}

/// What a message or event handler returns. A `#[call]`'s value is its reply, whatever its
/// type; the others' values reach nobody, so they return `()`. With `crash_on_err` they
/// return a `Result` (`Result<(), E>` if nobody receives the value). Only what the tokens
/// settle is judged here; a path that may be an alias is left to the trait bounds of the
/// generated code, spanned on the type, so an alias is judged by what it stands for.
fn check_handler_return(cx: &Ctxt, h: &Handler) {
    let name = h.kind.name();
    let replies = h.kind == Kind::Call && !h.has(&Role::Reply);
    let shape = if replies {
        "Result<T, E>"
    } else {
        "Result<(), E>"
    };
    let who = if h.kind == Kind::Call {
        "a `#[call]` that takes a `Reply` returns".to_owned()
    } else {
        format!("`#[{name}]` handlers return")
    };
    match (&h.crash_on_err, h.output()) {
        (Some(opt), None) => cx.error_spanned_by(
            opt,
            format_args!("`crash_on_err` needs a `{shape}` return type, not `()`"),
        ),
        (Some(_), Some(ty)) if certainly_not_result(ty) => cx.error_spanned_by(
            ty,
            format_args!("`#[{name}(crash_on_err)]` must return `{shape}`"),
        ),
        (None, Some(ty)) if !replies && h.spelled_result() => cx.error_spanned_by(
            ty,
            format_args!("{who} `()`: write `#[{name}(crash_on_err)]` to crash on an `Err`"),
        ),
        (None, Some(ty)) if !replies && certainly_not_result(ty) => {
            let why = match h.kind {
                Kind::Cast => ": use `#[call]` to reply",
                Kind::Call => ": it answers through the `Reply`",
                _ => "",
            };
            cx.error_spanned_by(ty, format_args!("{who} `()`{why}"));
        }
        _ => {}
    }
}

/// Whether `ty` cannot be a `Result` whatever the aliases in scope: not a path, or a
/// primitive or a prelude type other than `Result`.
fn certainly_not_result(ty: &Type) -> bool {
    const NOT_RESULT: &[&str] = &[
        "bool", "char", "str", "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32",
        "u64", "u128", "usize", "f32", "f64", "String", "Vec", "Option", "Box",
    ];
    match ty {
        Type::Path(p) if p.qself.is_none() && p.path.leading_colon.is_none() => {
            match p.path.segments.iter().collect::<Vec<_>>().as_slice() {
                [only] => NOT_RESULT.contains(&only.ident.to_string().as_str()),
                _ => false,
            }
        }
        Type::Path(_) | Type::Group(_) | Type::Paren(_) | Type::Macro(_) => false,
        _ => true,
    }
}
