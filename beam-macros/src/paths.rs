//! Paths the generated code names: everything through the runtime crate's `__private`
//! module (or the path given with `crate = ..`), and `Self` resolved to the actor type
//! where generated items live outside the impl block.

use proc_macro2::TokenStream;
use quote::quote;
use syn::visit_mut::VisitMut;
use syn::{Path, Type};

/// The runtime crate: `::beam_runtime` unless renamed.
pub(crate) fn krate(custom: Option<&Path>) -> TokenStream {
    match custom {
        Some(path) => quote!(#path),
        None => quote!(::beam_runtime),
    }
}

/// Replaces every `Self` type inside `ty` with `self_ty`.
pub(crate) fn replace_self(ty: &Type, self_ty: &Type) -> Type {
    struct ReplaceSelf<'a>(&'a Type);
    impl VisitMut for ReplaceSelf<'_> {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            if let Type::Path(p) = ty {
                if p.qself.is_none() && p.path.is_ident("Self") {
                    *ty = self.0.clone();
                    return;
                }
            }
            syn::visit_mut::visit_type_mut(self, ty);
        }
    }
    let mut ty = ty.clone();
    ReplaceSelf(self_ty).visit_type_mut(&mut ty);
    ty
}
