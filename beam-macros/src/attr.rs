//! beam's helper attributes on methods: recognising them, taking them off, and rejecting
//! their misuse (repeated, combined, or given arguments).

use syn::{Attribute, Meta};

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

    /// Whether the handler becomes a message (a variant and a method on the ref).
    pub(crate) fn is_message(self) -> bool {
        matches!(self, Kind::Call | Kind::Cast)
    }
}

/// Removes beam's helper attributes from `attrs` and returns the one the method has, with
/// the attribute kept for spans.
pub(crate) fn take(cx: &Ctxt, attrs: &mut Vec<Attribute>) -> Option<(Kind, Attribute)> {
    let mut found: Option<(Kind, Attribute)> = None;
    attrs.retain(|attr| {
        let Some(kind) = Kind::from_attr(attr) else {
            return true;
        };
        if !matches!(attr.meta, Meta::Path(_)) {
            cx.error_spanned_by(
                attr,
                format_args!("`#[{}]` takes no arguments", kind.name()),
            );
        }
        match &found {
            None => found = Some((kind, attr.clone())),
            Some((first, _)) if *first == kind => {
                cx.error_spanned_by(
                    attr,
                    format_args!("duplicate `#[{}]` attribute", kind.name()),
                );
            }
            Some((first, _)) => cx.error_spanned_by(
                attr,
                format_args!(
                    "a method cannot be both `#[{}]` and `#[{}]`",
                    first.name(),
                    kind.name()
                ),
            ),
        }
        false
    });
    found
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
