//! Writes the `impl PersistentHash` from the model; no decisions here.
//!
//! Structs: `STRUCT`, the number of hashed fields, the fields in declaration
//! order. Enums: `ENUM`, the variant's name (length-prefixed), the number of
//! hashed fields, the fields. The fingerprint: `TYPE` with the item's name, then
//! the fingerprints of the bounded type parameters and the values of the const
//! parameters, in declaration order.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Ident, LitByteStr};

use super::{Body, Field, Input, Shape, Variant};

pub(super) fn impl_block(input: &Input<'_>) -> TokenStream {
    let Input {
        ident,
        generics,
        hashed_params,
        const_params,
        krate,
        sink_ty,
        body,
    } = input;
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let sink = Ident::new("__sink", Span::mixed_site());
    let hash_body = match body {
        Body::Struct(fields) => struct_body(input, fields, &sink),
        Body::Enum(variants) => enum_body(input, variants, &sink),
    };
    let name = name_literal(ident);
    quote! {
        #[automatically_derived]
        impl #impl_generics #krate::hash::PersistentHash for #ident #ty_generics #where_clause {
            #[inline]
            fn persistent_hash<#sink_ty: #krate::hash::HashSink + ?::core::marker::Sized>(
                &self,
                #sink: &mut #sink_ty,
            ) {
                #hash_body
            }

            fn type_fingerprint<#sink_ty: #krate::hash::HashSink + ?::core::marker::Sized>(
                #sink: &mut #sink_ty,
            ) {
                #krate::hash::HashSink::write_tagged_bytes(#sink, #krate::hash::tag::TYPE, #name);
                #(<#hashed_params as #krate::hash::PersistentHash>::type_fingerprint(#sink);)*
                #(#krate::hash::PersistentHash::persistent_hash(&#const_params, #sink);)*
            }
        }
    }
}

/// The name as written, without `r#`, as a byte string.
fn name_literal(ident: &Ident) -> LitByteStr {
    LitByteStr::new(ident.unraw().to_string().as_bytes(), ident.span())
}

fn struct_body(input: &Input<'_>, fields: &[Field<'_>], sink: &Ident) -> TokenStream {
    let krate = &input.krate;
    let hashed: Vec<&Field<'_>> = fields.iter().filter(|f| !f.skip).collect();
    let count = hashed.len();
    let calls = hashed.iter().map(|field| {
        let member = &field.member;
        hash_call(
            krate,
            field,
            quote_spanned!(field.ty.span()=> &self.#member),
            sink,
        )
    });
    quote! {
        #krate::hash::HashSink::write_tag(#sink, #krate::hash::tag::STRUCT);
        #krate::hash::HashSink::write_len(#sink, #count);
        #(#calls)*
    }
}

/// `PersistentHash::persistent_hash(value, sink);`, spanned on the field's type so
/// that a type without the trait is reported at the field.
fn hash_call(
    krate: &syn::Path,
    field: &Field<'_>,
    value: TokenStream,
    sink: &Ident,
) -> TokenStream {
    quote_spanned! {field.ty.span()=>
        #krate::hash::PersistentHash::persistent_hash(#value, #sink);
    }
}

fn enum_body(input: &Input<'_>, variants: &[Variant<'_>], sink: &Ident) -> TokenStream {
    if variants.is_empty() {
        return quote!(match *self {});
    }
    let krate = &input.krate;
    let arms = variants.iter().map(|variant| {
        let ident = variant.ident;
        let name = name_literal(ident);
        let bindings: Vec<Option<Ident>> = variant
            .fields
            .iter()
            .enumerate()
            .map(|(index, field)| {
                let span = Span::mixed_site().located_at(field.ty.span());
                (!field.skip).then(|| format_ident!("__field{}", index, span = span))
            })
            .collect();
        let pattern = pattern(variant, &bindings);
        let calls: Vec<TokenStream> = variant
            .fields
            .iter()
            .zip(&bindings)
            .filter_map(|(field, binding)| {
                binding
                    .as_ref()
                    .map(|binding| hash_call(krate, field, quote!(#binding), sink))
            })
            .collect();
        let count = calls.len();
        quote! {
            Self::#ident #pattern => {
                #krate::hash::HashSink::write_tagged_bytes(#sink, #krate::hash::tag::ENUM, #name);
                #krate::hash::HashSink::write_len(#sink, #count);
                #(#calls)*
            }
        }
    });
    quote! {
        match self {
            #(#arms)*
        }
    }
}

/// The pattern after `Self::Variant`: hashed fields bound, skipped ones ignored.
fn pattern(variant: &Variant<'_>, bindings: &[Option<Ident>]) -> TokenStream {
    match variant.shape {
        Shape::Unit => TokenStream::new(),
        Shape::Unnamed => {
            let items = bindings.iter().map(|binding| match binding {
                Some(binding) => quote!(#binding),
                None => quote!(_),
            });
            quote!((#(#items),*))
        }
        Shape::Named => {
            let items = variant.fields.iter().zip(bindings).map(|(field, binding)| {
                let member = &field.member;
                match binding {
                    Some(binding) => quote!(#member: #binding),
                    None => quote!(#member: _),
                }
            });
            quote!({ #(#items),* })
        }
    }
}
