//! Procedural macros of beam. Use them through the `beam-runtime` crate, which re-exports
//! them: `#[actor]` on an inherent `impl` block, its helper attributes on the methods, and
//! `names!` for typed registry keys (names, groups, topics). The documentation with examples lives on the
//! re-exports in `beam-runtime`.

mod args;
mod ast;
mod attr;
mod ctxt;
mod expand;
mod fallback;
mod r#gen;
mod paths;
mod valid;

use proc_macro::TokenStream;

/// Turns an inherent `impl` block into an actor: a message enum, dispatch, and typed methods
/// on `ActorRef<Self>`. Options: `crate = path`, `mailbox = N`, `msg = Name`.
#[proc_macro_attribute]
pub fn actor(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::actor(args.into(), input.into()).into()
}

/// Marks a request/reply handler inside an `#[actor]` impl block. Option: `crash_on_err`.
#[proc_macro_attribute]
pub fn call(_args: TokenStream, input: TokenStream) -> TokenStream {
    fallback::stray("call", input.into()).into()
}

/// Marks a fire-and-forget handler inside an `#[actor]` impl block. Option: `crash_on_err`.
#[proc_macro_attribute]
pub fn cast(_args: TokenStream, input: TokenStream) -> TokenStream {
    fallback::stray("cast", input.into()).into()
}

/// Marks the constructor of an actor inside an `#[actor]` impl block.
#[proc_macro_attribute]
pub fn init(_args: TokenStream, input: TokenStream) -> TokenStream {
    fallback::stray("init", input.into()).into()
}

/// Marks the system-message handler inside an `#[actor]` impl block. Option: `crash_on_err`.
#[proc_macro_attribute]
pub fn info(_args: TokenStream, input: TokenStream) -> TokenStream {
    fallback::stray("info", input.into()).into()
}

/// Marks the hook run when an actor stops, inside an `#[actor]` impl block.
#[proc_macro_attribute]
pub fn terminate(_args: TokenStream, input: TokenStream) -> TokenStream {
    fallback::stray("terminate", input.into()).into()
}

/// Marks the deferred-work handler (OTP's `handle_continue`) inside an `#[actor]` impl block.
/// Option: `crash_on_err`.
#[proc_macro_attribute]
pub fn handle_continue(_args: TokenStream, input: TokenStream) -> TokenStream {
    fallback::stray("handle_continue", input.into()).into()
}

/// Declares typed registry keys (names, groups, topics) as constants; duplicates do not compile.
#[proc_macro]
pub fn names(input: TokenStream) -> TokenStream {
    r#gen::registry::names(input.into()).into()
}
