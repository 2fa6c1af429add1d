//! The path of the runtime crate as the calling crate names it: `::ttl_cache`
//! when it depends on the `ttl-cache` facade, else `::cache_core`, each under
//! the name the caller gave it in its `Cargo.toml` (a `package = …` rename is
//! followed). An explicit `crate = "path"` option wins over both.

use proc_macro_crate::FoundCrate;
use proc_macro2::Span;
use syn::{Ident, Path, PathSegment};

/// The runtime crates, most preferred first, each with the name its own
/// doctests and examples know it by (proc-macro-crate answers `Itself` for
/// them). Neither library uses the macros in its own code.
const RUNTIMES: [(&str, &str); 2] = [("ttl-cache", "ttl_cache"), ("cache-core", "cache_core")];

/// `::ttl_cache`, `::cache_core`, or the name the caller's manifest gives one
/// of them, read from the manifest of the crate being compiled.
pub(crate) fn runtime_crate() -> Path {
    resolve(|package| proc_macro_crate::crate_name(package).ok())
}

/// The first of [`RUNTIMES`] that `lookup` finds among the caller's
/// dependencies (or as the caller itself). Falls back to `::cache_core` when it
/// finds neither: the manifest could not be read (no Cargo), or the caller
/// reaches the runtime through a re-export, which is what `crate = "path"` is
/// for.
fn resolve(mut lookup: impl FnMut(&str) -> Option<FoundCrate>) -> Path {
    let ident = RUNTIMES
        .iter()
        .find_map(|&(package, own_name)| match lookup(package)? {
            FoundCrate::Itself => Some(Ident::new(own_name, Span::call_site())),
            // Cargo only accepts identifier-like names; anything else is skipped.
            FoundCrate::Name(name) => syn::parse_str::<Ident>(&name).ok(),
        })
        .unwrap_or_else(|| Ident::new(RUNTIMES[1].1, Span::call_site()));
    Path {
        leading_colon: Some(Default::default()),
        segments: std::iter::once(PathSegment::from(ident)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use quote::ToTokens;

    use super::*;

    /// The path `resolve` gives when the caller's manifest names `deps`.
    fn path_for(deps: &[(&str, FoundCrate)]) -> String {
        let path = resolve(|package| {
            deps.iter()
                .find(|(name, _)| *name == package)
                .map(|(_, found)| found.clone())
        });
        path.to_token_stream().to_string().replace(' ', "")
    }

    fn name(name: &str) -> FoundCrate {
        FoundCrate::Name(name.to_owned())
    }

    #[test]
    fn the_facade_is_preferred() {
        assert_eq!(path_for(&[("ttl-cache", name("ttl_cache"))]), "::ttl_cache");
        let both = [
            ("cache-core", name("cache_core")),
            ("ttl-cache", name("ttl_cache")),
        ];
        assert_eq!(path_for(&both), "::ttl_cache");
    }

    #[test]
    fn cache_core_without_the_facade() {
        assert_eq!(
            path_for(&[("cache-core", name("cache_core"))]),
            "::cache_core"
        );
    }

    #[test]
    fn renamed_dependencies_are_followed() {
        assert_eq!(path_for(&[("ttl-cache", name("memo"))]), "::memo");
        assert_eq!(path_for(&[("cache-core", name("runtime"))]), "::runtime");
    }

    #[test]
    fn the_runtime_crates_name_themselves() {
        assert_eq!(
            path_for(&[("ttl-cache", FoundCrate::Itself)]),
            "::ttl_cache"
        );
        assert_eq!(
            path_for(&[("cache-core", FoundCrate::Itself)]),
            "::cache_core"
        );
    }

    #[test]
    fn neither_falls_back_to_cache_core() {
        assert_eq!(path_for(&[]), "::cache_core");
        // A name that is not an identifier is skipped, not a panic.
        assert_eq!(
            path_for(&[("ttl-cache", name("not an ident"))]),
            "::cache_core"
        );
    }
}
