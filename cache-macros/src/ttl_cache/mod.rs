//! `#[ttl_cache]`: [`args`] reads the options, [`item`] reads and checks the
//! function, [`expand`] writes the cached function and its wrapper. On any
//! error the function is re-emitted unchanged beside every error found, so
//! one mistake does not cascade.

mod args;
mod expand;
mod item;

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::ItemFn;

use crate::ctxt::Errors;
use args::Args;
use item::Function;

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let item: ItemFn = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(error) => {
            let mut out = syn::Error::new(
                error.span(),
                "`#[ttl_cache]` applies to a function, method or `async fn`",
            )
            .to_compile_error();
            out.extend(input);
            return out;
        }
    };
    let mut errors = Errors::default();
    let args = Args::parse(args, &mut errors);
    let function = Function::analyze(item.clone(), &args, &mut errors);
    match (errors.finish(), function) {
        (Ok(()), Some(function)) => expand::expand(function, &args),
        (result, _) => fallback(result.err(), &item),
    }
}

/// The user's function unchanged, after the errors.
fn fallback(error: Option<syn::Error>, item: &ItemFn) -> TokenStream {
    let mut out = error.map_or_else(TokenStream::new, |error| error.to_compile_error());
    item.to_tokens(&mut out);
    out
}
