//! Procedural macros for `cache-core`. Use them through `cache-core`, which
//! re-exports them; generated code names only `::cache_core::…` paths.

use proc_macro::TokenStream;

mod ctxt;
mod derive;
mod ttl_cache;

/// Derives `PersistentHash` for a struct or an enum.
///
/// Fields marked `#[persistent_hash(skip)]` do not take part in the encoding.
/// See `cache_core::PersistentHash` for the encoding rules.
#[proc_macro_derive(PersistentHash, attributes(persistent_hash))]
pub fn derive_persistent_hash(input: TokenStream) -> TokenStream {
    derive::expand(syn::parse_macro_input!(input as syn::DeriveInput)).into()
}

/// Caches a function's results for a time-to-live. Documented, with every
/// option, at `cache_core::ttl_cache`.
#[proc_macro_attribute]
pub fn ttl_cache(args: TokenStream, item: TokenStream) -> TokenStream {
    ttl_cache::expand(args.into(), item.into()).into()
}
