//! What a helper attribute expands to when it is not inside an `#[actor]` impl block: the
//! item unchanged, plus an error that says where it belongs.

use proc_macro2::{Span, TokenStream};
use quote::quote;

pub(crate) fn stray(name: &str, item: TokenStream) -> TokenStream {
    let msg = format!("`#[{name}]` must be used inside an `#[actor]` impl block");
    let err = syn::Error::new(Span::call_site(), msg).to_compile_error();
    quote!(#err #item)
}
