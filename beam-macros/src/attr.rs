//! beam's helper attributes on methods: recognising them, taking them off, parsing their
//! options (`crash_on_err`), and rejecting their misuse (repeated, combined, or given
//! arguments they do not take).

use syn::punctuated::Punctuated;
use syn::{Attribute, Meta, Path, Token};

use crate::ctxt::Ctxt;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Call,
    Cast,
    Init,
    Info,
    Terminate,
    Continue,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Call => "call",
            Kind::Cast => "cast",
            Kind::Init => "init",
            Kind::Info => "info",
            Kind::Terminate => "terminate",
            Kind::Continue => "handle_continue",
        }
    }

    fn from_attr(attr: &Attribute) -> Option<Kind> {
        let last = attr.path().segments.last()?;
        Some(match last.ident.to_string().as_str() {
            "call" => Kind::Call,
            "cast" => Kind::Cast,
            "init" => Kind::Init,
            "info" => Kind::Info,
            "terminate" => Kind::Terminate,
            "handle_continue" => Kind::Continue,
            _ => return None,
        })
    }

    /// Whether the handler may be marked `crash_on_err`: it runs for a message or a system
    /// event and its `Err` can stop the actor.
    fn takes_crash_on_err(self) -> bool {
        !matches!(self, Kind::Init | Kind::Terminate)
    }

    /// Whether the handler becomes a message (a variant and a method on the ref).
    pub(crate) fn is_message(self) -> bool {
        matches!(self, Kind::Call | Kind::Cast)
    }
}

/// A helper attribute found on a method.
pub(crate) struct Helper {
    pub(crate) kind: Kind,
    /// The attribute, for spans.
    pub(crate) attr: Attribute,
    /// The `crash_on_err` option, kept for spans: an `Err` from the handler stops the actor.
    pub(crate) crash_on_err: Option<Path>,
}

/// Removes beam's helper attributes from `attrs` and returns the one the method has.
pub(crate) fn take(cx: &Ctxt, attrs: &mut Vec<Attribute>) -> Option<Helper> {
    let mut found: Option<Helper> = None;
    attrs.retain(|attr| {
        let Some(kind) = Kind::from_attr(attr) else {
            return true;
        };
        let crash_on_err = options(cx, kind, attr);
        match &found {
            None => {
                found = Some(Helper {
                    kind,
                    attr: attr.clone(),
                    crash_on_err,
                });
            }
            Some(first) if first.kind == kind => {
                cx.error_spanned_by(
                    attr,
                    format_args!("duplicate `#[{}]` attribute", kind.name()),
                );
            }
            Some(first) => cx.error_spanned_by(
                attr,
                format_args!(
                    "a method cannot be both `#[{}]` and `#[{}]`",
                    first.kind.name(),
                    kind.name()
                ),
            ),
        }
        false
    });
    found
}

/// The options in `#[call(..)]`: only `crash_on_err`, once. `#[init]` and `#[terminate]`
/// take none.
fn options(cx: &Ctxt, kind: Kind, attr: &Attribute) -> Option<Path> {
    let name = kind.name();
    let list = match &attr.meta {
        Meta::Path(_) => return None,
        Meta::List(list) if kind.takes_crash_on_err() => list,
        Meta::NameValue(_) if kind.takes_crash_on_err() => {
            cx.error_spanned_by(
                attr,
                format_args!(
                    "`#[{name}]` takes its options in parentheses: `#[{name}(crash_on_err)]`"
                ),
            );
            return None;
        }
        _ => {
            cx.error_spanned_by(attr, format_args!("`#[{name}]` takes no arguments"));
            return None;
        }
    };
    let metas = match list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated) {
        Ok(metas) => metas,
        Err(err) => {
            cx.syn_error(err);
            return None;
        }
    };
    let mut crash_on_err: Option<Path> = None;
    for meta in metas {
        let path = meta.path();
        if !path.is_ident("crash_on_err") {
            cx.error_spanned_by(
                path,
                format_args!(
                    "unknown `#[{name}]` option `{}`; expected `crash_on_err`",
                    quote::ToTokens::to_token_stream(path)
                        .to_string()
                        .replace(' ', "")
                ),
            );
        } else if crash_on_err.is_some() {
            cx.error_spanned_by(
                path,
                format_args!("duplicate `crash_on_err` option in `#[{name}]`"),
            );
        } else {
            if !matches!(meta, Meta::Path(_)) {
                cx.error_spanned_by(
                    &meta,
                    format_args!("`crash_on_err` takes no value: `#[{name}(crash_on_err)]`"),
                );
            }
            crash_on_err = Some(path.clone());
        }
    }
    crash_on_err
}

/// The `#[doc]` attributes, to carry over to generated items.
pub(crate) fn docs(attrs: &[Attribute]) -> Vec<Attribute> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .cloned()
        .collect()
}

/// The `#[cfg(..)]` attributes, to carry over to generated items.
pub(crate) fn cfgs(attrs: &[Attribute]) -> Vec<Attribute> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg"))
        .cloned()
        .collect()
}
