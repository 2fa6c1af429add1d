//! The expansion: `quote!` only, every decision was made in `args` and `item`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;

use super::args::{Args, Ttl};
use super::item::{Form, Function, Returns};

/// The function with its body routed through its cache, and its wrapper.
pub(super) fn expand(function: Function, args: &Args) -> TokenStream {
    let krate = args
        .krate
        .clone()
        .unwrap_or_else(crate::runtime::runtime_crate);
    let private = quote!(#krate::__private);
    let ident = function.ident().clone();
    let site_fn = match function.form {
        Form::Free => format_ident!("cache"),
        Form::Associated => format_ident!("{}_cache", ident),
    };
    let site_path = match function.form {
        Form::Free => quote!(#ident::#site_fn()),
        Form::Associated => quote!(Self::#site_fn()),
    };

    let site = Ident::new("__ttl_cache_site", Span::mixed_site());
    let key = Ident::new("__ttl_cache_key", Span::mixed_site());
    let sink = Ident::new("__ttl_cache_sink", Span::mixed_site());
    let hit = Ident::new("__ttl_cache_hit", Span::mixed_site());
    let miss = Ident::new("__ttl_cache_miss", Span::mixed_site());
    let static_site = Ident::new("__TTL_CACHE_SITE", Span::mixed_site());

    let key_writes: Vec<TokenStream> = match &args.key {
        Some(expr) => vec![quote!(#sink.arg(&(#expr));)],
        None => function
            .key_parts
            .iter()
            .map(|part| {
                let tokens = &part.tokens;
                quote_spanned!(part.span=> #sink.arg(&#tokens);)
            })
            .collect(),
    };
    let (key_builder, serializer) = match &args.backend {
        None => {
            let typed = args.typed;
            (quote!(mem_key(#typed)), None)
        }
        Some(_) => {
            let serializer = args
                .serializer
                .as_ref()
                .map_or_else(|| quote!(#private::MessagePack), |path| quote!(#path));
            let typed = args.typed;
            (quote!(site_key(#typed)), Some(serializer))
        }
    };
    let outcome = match (function.returns, args.cache_none) {
        (Returns::Result, _) if args.fail_closed.is_some() => quote!(#private::OkOrRefuse),
        (Returns::Result, _) => quote!(#private::OkOnly),
        (Returns::Option, Some((false, _))) => quote!(#private::SomeOnly),
        _ => quote!(#private::Always),
    };
    let ret = &function.ret;
    let block = &function.item.block;
    let is_async = function.item.sig.asyncness.is_some();
    let build_key = quote!(
        let #key = {
            let mut #sink = #site.#key_builder;
            #(#key_writes)*
            #sink.finish()
        };
    );
    let site_let = quote!(let #site: &'static #private::CachedFn = #site_path;);
    let body = if is_async {
        // An async hit is returned from the function's own `poll`, and only a
        // miss awaits (see `CachedFn::memo_async_hit`). The key lives in an
        // inner block, which ends before the await: a borrowed local whose
        // scope spans an await gets a slot in the function's future.
        let (hit_call, miss_call) = match &serializer {
            None => (
                quote!(memo_async_hit::<#outcome, #ret>),
                quote!(memo_async_miss::<#outcome, #ret, _>),
            ),
            Some(ser) => (
                quote!(stored_async_hit::<#outcome, #ret>),
                quote!(stored_async_miss::<#outcome, #ser, #ret, _>),
            ),
        };
        quote!({
            #site_let
            let #miss = {
                #build_key
                if let #private::Some(#hit) = #site.#hit_call(&#key) {
                    return #hit;
                }
                #site.#miss_call(#key, async move #block)
            };
            #miss.await
        })
    } else {
        let call = match &serializer {
            None => quote!(memo::<#outcome, #ret>),
            Some(ser) => quote!(stored::<#outcome, #ser, #ret>),
        };
        quote!({
            #site_let
            #build_key
            #site.#call(#key, move || -> #ret #block)
        })
    };

    let spec = site_spec(&function, args, &private, serializer.as_ref());
    let site_def = quote! {
        static #static_site: #private::CachedFn = #private::CachedFn::new(#spec);
        &#static_site
    };

    let item = &function.item;
    let attrs = &item.attrs;
    let vis = &item.vis;
    let sig = &item.sig;
    let rewritten = quote! {
        #(#attrs)*
        #vis #sig #body
    };
    let name = ident.to_string();
    match function.form {
        Form::Free => {
            let doc = format!(
                "The cache of the function `{name}`: `{name}::cache_info()`, \
                 `{name}::cache_clear()`, `{name}::cache_parameters()`, `{name}::cache()`."
            );
            quote! {
                #rewritten

                #[doc = #doc]
                #[allow(non_camel_case_types)]
                #vis struct #ident {}

                impl #ident {
                    /// The function's cache handle.
                    #vis fn cache() -> &'static #private::CachedFn {
                        #site_def
                    }

                    /// Hits, misses, size and the other counters of the function's cache.
                    #vis fn cache_info() -> #private::CacheInfo {
                        Self::cache().cache_info()
                    }

                    /// Empties the function's cache and resets its counters.
                    #vis fn cache_clear() {
                        Self::cache().cache_clear()
                    }

                    /// The function's cache settings.
                    #vis fn cache_parameters() -> #private::CacheParameters {
                        Self::cache().cache_parameters()
                    }
                }
            }
        }
        Form::Associated => {
            let doc = format!(
                "The cache of `{name}`: `cache_info()`, `cache_clear()`, `cache_parameters()`."
            );
            quote! {
                #rewritten

                #[doc = #doc]
                #vis fn #site_fn() -> &'static #private::CachedFn {
                    #site_def
                }
            }
        }
    }
}

/// The `SiteSpec` literal: the settings, with run-time expressions in
/// non-capturing closures so they are evaluated once, on first use.
fn site_spec(
    function: &Function,
    args: &Args,
    private: &TokenStream,
    serializer: Option<&TokenStream>,
) -> TokenStream {
    let name = function.ident().to_string();
    let (identity, shared) = match &args.identifier {
        Some(identifier) => (quote!(#identifier), true),
        None => (
            quote!(#private::concat!(#private::module_path!(), "::", #name)),
            false,
        ),
    };
    let ttl = match &args.ttl {
        Ttl::Default => quote!(#private::Some(#private::DEFAULT_TTL)),
        Ttl::Never => quote!(#private::None),
        Ttl::Nanos(nanos) => {
            let secs = (nanos / 1_000_000_000) as u64;
            let subsec = (nanos % 1_000_000_000) as u32;
            quote!(#private::Some(#private::Duration::new(#secs, #subsec)))
        }
        Ttl::Expr(expr) => quote!(#private::IntoTtl::into_ttl(#expr)),
    };
    let max_entries = match &args.max_entries {
        Some(expr) => quote!({ let max_entries: usize = #expr; max_entries }),
        None => quote!(#private::DEFAULT_MAX_ENTRIES),
    };
    let backend = match &args.backend {
        Some(expr) => quote!(#private::Some(|| #private::IntoBackend::into_backend(#expr))),
        None => quote!(#private::None),
    };
    let serializer_name = match serializer {
        Some(ser) => {
            quote!(|| #private::Serializer::name(&<#ser as ::core::default::Default>::default()))
        }
        None => quote!(|| "none"),
    };
    let version = args.version;
    let typed = args.typed;
    let single_flight = args.single_flight;
    let fleet = args.fleet;
    let cache_none = args.cache_none.is_none_or(|(value, _)| value);
    let fail_closed = args.fail_closed.is_some();
    quote! {
        #private::SiteSpec {
            identity: #identity,
            shared: #shared,
            version: #version,
            typed: #typed,
            single_flight: #single_flight,
            fleet: #fleet,
            cache_none: #cache_none,
            fail_closed: #fail_closed,
            ttl: || #ttl,
            max_entries: || #max_entries,
            backend: #backend,
            serializer: #serializer_name,
        }
    }
}
