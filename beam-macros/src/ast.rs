//! The model of an `#[actor]` impl block: the handlers, their receivers and parameters,
//! each keeping the user's tokens for spans. Building it never fails; `valid.rs` judges it.

use syn::{
    Attribute, FnArg, GenericArgument, Ident, ImplItem, ItemImpl, Pat, PatType, PathArguments,
    ReturnType, Signature, Type, Visibility,
};

use crate::attr::{self, Kind};
use crate::ctxt::Ctxt;

pub(crate) struct Actor {
    /// The impl block with beam's helper attributes taken off: emitted as written.
    pub(crate) item: ItemImpl,
    pub(crate) handlers: Vec<Handler>,
}

pub(crate) struct Handler {
    pub(crate) kind: Kind,
    /// The helper attribute, for spans.
    pub(crate) attr: Attribute,
    /// `crash_on_err` in the attribute: an `Err` returned by the handler stops the actor.
    pub(crate) crash_on_err: Option<syn::Path>,
    pub(crate) vis: Visibility,
    pub(crate) docs: Vec<Attribute>,
    /// `#[cfg(..)]` attributes, carried onto everything generated for the handler.
    pub(crate) cfgs: Vec<Attribute>,
    pub(crate) sig: Signature,
    pub(crate) receiver: Receiver,
    pub(crate) params: Vec<Param>,
}

pub(crate) enum Receiver {
    None,
    /// `&self` or `&mut self`.
    Ref,
    /// `self`, `mut self` or `self: Type`: not allowed.
    Other(syn::Receiver),
}

pub(crate) struct Param {
    pub(crate) arg: PatType,
    pub(crate) role: Role,
}

#[derive(PartialEq, Eq, Debug)]
pub(crate) enum Role {
    /// An argument carried in the message.
    Arg,
    /// `ctx: &mut Ctx<Self>` (or a wrongly shared `&Ctx<Self>`).
    Ctx { mutable: bool },
    /// `reply: Reply<T>`, for a `#[call]` that answers later.
    Reply,
    /// `reason: &ExitReason`, for `#[terminate]`.
    Reason,
}

impl Param {
    /// The parameter's name, when it is a plain identifier.
    pub(crate) fn ident(&self) -> Option<&Ident> {
        match &*self.arg.pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => Some(&p.ident),
            _ => None,
        }
    }

    pub(crate) fn ty(&self) -> &Type {
        &self.arg.ty
    }
}

impl Handler {
    /// The parameters carried in the message, in order.
    pub(crate) fn args(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|p| p.role == Role::Arg)
    }

    pub(crate) fn has(&self, role: &Role) -> bool {
        self.params.iter().any(|p| &p.role == role)
    }

    /// The `T` of a `Reply<T>` parameter.
    pub(crate) fn reply_type(&self) -> Option<&Type> {
        self.params
            .iter()
            .find(|p| p.role == Role::Reply)
            .and_then(|p| last_generic(p.ty()))
    }

    pub(crate) fn is_async(&self) -> bool {
        self.sig.asyncness.is_some()
    }

    /// The declared return type, unless it is `()` (written or not).
    pub(crate) fn output(&self) -> Option<&Type> {
        match &self.sig.output {
            ReturnType::Default => None,
            ReturnType::Type(_, ty) if matches!(&**ty, Type::Tuple(t) if t.elems.is_empty()) => {
                None
            }
            ReturnType::Type(_, ty) => Some(ty),
        }
    }

    /// Whether the declared return type is spelled `Result<..>` (any path ending so, such
    /// as `io::Result<()>`). Only for messages: what a handler's result does is decided by
    /// `crash_on_err` and checked on the type itself, so an alias behaves the same.
    pub(crate) fn spelled_result(&self) -> bool {
        matches!(self.output(), Some(Type::Path(p)) if p.qself.is_none()
            && p.path.segments.last().is_some_and(|s| s.ident == "Result"))
    }
}

pub(crate) fn build(cx: &Ctxt, mut item: ItemImpl) -> Actor {
    let mut handlers = Vec::new();
    for impl_item in &mut item.items {
        let ImplItem::Fn(method) = impl_item else {
            reject_on_non_method(cx, impl_item);
            continue;
        };
        let Some(attr::Helper {
            kind,
            attr,
            crash_on_err,
        }) = attr::take(cx, &mut method.attrs)
        else {
            continue;
        };
        // Handlers take their arguments by value because messages own them.
        method
            .attrs
            .push(syn::parse_quote!(#[allow(clippy::needless_pass_by_value)]));
        let mut receiver = Receiver::None;
        let mut params = Vec::new();
        for input in &method.sig.inputs {
            match input {
                FnArg::Receiver(r) if r.reference.is_some() && r.colon_token.is_none() => {
                    receiver = Receiver::Ref;
                }
                FnArg::Receiver(r) => receiver = Receiver::Other(r.clone()),
                FnArg::Typed(arg) => params.push(Param {
                    role: role_of(kind, &arg.ty),
                    arg: arg.clone(),
                }),
            }
        }
        handlers.push(Handler {
            kind,
            attr,
            crash_on_err,
            vis: method.vis.clone(),
            docs: attr::docs(&method.attrs),
            cfgs: attr::cfgs(&method.attrs),
            sig: method.sig.clone(),
            receiver,
            params,
        });
    }
    Actor { item, handlers }
}

/// A helper attribute on an associated const, type or macro: taken off, with an error.
fn reject_on_non_method(cx: &Ctxt, item: &mut ImplItem) {
    let attrs = match item {
        ImplItem::Const(c) => &mut c.attrs,
        ImplItem::Type(t) => &mut t.attrs,
        ImplItem::Macro(m) => &mut m.attrs,
        _ => return,
    };
    if let Some(helper) = attr::take(cx, attrs) {
        cx.error_spanned_by(
            helper.attr,
            format_args!("`#[{}]` goes on a method", helper.kind.name()),
        );
    }
}

fn role_of(kind: Kind, ty: &Type) -> Role {
    match ty {
        Type::Reference(r) if last_ident_is(&r.elem, "Ctx") => Role::Ctx {
            mutable: r.mutability.is_some(),
        },
        Type::Reference(r) if kind == Kind::Terminate && last_ident_is(&r.elem, "ExitReason") => {
            Role::Reason
        }
        Type::Path(_) if last_ident_is(ty, "Reply") && last_generic(ty).is_some() => Role::Reply,
        _ => Role::Arg,
    }
}

fn last_ident_is(ty: &Type, name: &str) -> bool {
    match ty {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == name),
        _ => false,
    }
}

/// The single generic type argument of the type's last path segment.
fn last_generic(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let PathArguments::AngleBracketed(args) = &p.path.segments.last()?.arguments else {
        return None;
    };
    match args.args.iter().collect::<Vec<_>>().as_slice() {
        [GenericArgument::Type(t)] => Some(t),
        _ => None,
    }
}

impl Handler {
    /// The message variant: the method name in UpperCamelCase, spanned on the method name.
    pub(crate) fn variant(&self) -> Ident {
        let name = self.sig.ident.to_string();
        let name = name.strip_prefix("r#").unwrap_or(&name);
        let mut out = String::with_capacity(name.len());
        for part in name.split('_').filter(|p| !p.is_empty()) {
            let mut chars = part.chars();
            if let Some(first) = chars.next() {
                out.extend(first.to_uppercase());
                out.push_str(chars.as_str());
            }
        }
        if out.is_empty() {
            out.push_str("Message");
        }
        Ident::new(&out, self.sig.ident.span())
    }
}
