//! The options of `#[actor(...)]`: `crate = path`, `mailbox = N`, `msg = Name`.

use proc_macro2::TokenStream;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Ident, LitInt, LitStr, Path, Token};

use crate::ctxt::Ctxt;

#[derive(Default)]
pub(crate) struct Options {
    /// `crate = path`: where the runtime is, for a renamed dependency.
    pub(crate) krate: Option<Path>,
    /// `mailbox = N`: a bounded mailbox of N messages.
    pub(crate) mailbox: Option<LitInt>,
    /// `msg = Name`: the name of the message enum.
    pub(crate) msg: Option<Ident>,
}

/// One `key = value` option, with the key kept for error spans.
struct Opt {
    key: Ident,
    value: TokenStream,
}

impl Parse for Opt {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let key = if input.peek(Token![crate]) {
            let kw: Token![crate] = input.parse()?;
            Ident::new("crate", kw.span)
        } else {
            input.parse::<Ident>()?
        };
        input
            .parse::<Token![=]>()
            .map_err(|e| syn::Error::new(e.span(), format_args!("expected `{key} = ...`")))?;
        let mut value = TokenStream::new();
        while !input.is_empty() && !input.peek(Token![,]) {
            let tt: proc_macro2::TokenTree = input.parse()?;
            value.extend([tt]);
        }
        if value.is_empty() {
            return Err(syn::Error::new(
                key.span(),
                format_args!("`{key}` needs a value"),
            ));
        }
        Ok(Opt { key, value })
    }
}

pub(crate) fn parse(cx: &Ctxt, args: TokenStream) -> Options {
    let mut opts = Options::default();
    let parsed = match Punctuated::<Opt, Token![,]>::parse_terminated.parse2(args) {
        Ok(parsed) => parsed,
        Err(err) => {
            cx.syn_error(err);
            return opts;
        }
    };
    let mut seen: Vec<String> = Vec::new();
    for opt in parsed {
        let key = opt.key.to_string();
        if seen.contains(&key) {
            cx.error_spanned_by(
                &opt.key,
                format_args!("duplicate `{key}` option in `#[actor]`"),
            );
            continue;
        }
        seen.push(key.clone());
        match key.as_str() {
            "crate" => match parse_crate(opt.value) {
                Ok(path) => opts.krate = Some(path),
                Err(err) => cx.syn_error(err),
            },
            "mailbox" => match syn::parse2::<LitInt>(opt.value.clone()) {
                Ok(lit) => match lit.base10_parse::<usize>() {
                    Ok(0) => cx.error_spanned_by(&lit, "`mailbox` must be at least 1"),
                    Ok(_) => opts.mailbox = Some(lit),
                    Err(err) => cx.syn_error(err),
                },
                Err(_) => cx.error_spanned_by(
                    opt.value,
                    "`mailbox` takes a capacity: `#[actor(mailbox = 64)]`",
                ),
            },
            "msg" => match syn::parse2::<Ident>(opt.value.clone()) {
                Ok(ident) => opts.msg = Some(ident),
                Err(_) => cx.error_spanned_by(
                    opt.value,
                    "`msg` takes the name of the message enum: `#[actor(msg = CounterMessage)]`",
                ),
            },
            _ => cx.error_spanned_by(
                &opt.key,
                format_args!(
                    "unknown `#[actor]` option `{key}`; expected `crate`, `mailbox` or `msg`"
                ),
            ),
        }
    }
    opts
}

/// `crate = path` or `crate = "path"` (as tokio spells it).
fn parse_crate(value: TokenStream) -> syn::Result<Path> {
    if let Ok(lit) = syn::parse2::<LitStr>(value.clone()) {
        return lit.parse::<Path>();
    }
    syn::parse2::<Path>(value.clone()).map_err(|_| {
        syn::Error::new_spanned(value, "`crate` takes a path: `#[actor(crate = my_beam)]`")
    })
}
