//! Procedural macros for `cache-core`. Use them through `cache-core`, which
//! re-exports them; generated code names only `::cache_core::…` paths.

use proc_macro::TokenStream;

mod derive;

/// Derives `PersistentHash` for a struct or an enum.
///
/// Fields marked `#[persistent_hash(skip)]` do not take part in the encoding.
/// See `cache_core::PersistentHash` for the encoding rules.
#[proc_macro_derive(PersistentHash, attributes(persistent_hash))]
pub fn derive_persistent_hash(input: TokenStream) -> TokenStream {
    derive::expand(syn::parse_macro_input!(input as syn::DeriveInput)).into()
}
