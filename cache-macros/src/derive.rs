//! `#[derive(PersistentHash)]`.
//!
//! Three stages: this module reads the item into a small model (which fields
//! take part, which type parameters need a bound), [`attr`] reads the
//! `#[persistent_hash(..)]` options, and [`expand`] writes the impl without
//! making decisions. Every error found is reported, together, spanned on the
//! token at fault.

mod attr;
mod expand;

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::{Data, DeriveInput, Generics, Ident, Member, Type};

use attr::Errors;

/// The item as the derive sees it.
struct Input<'a> {
    ident: &'a Ident,
    /// The item's generics, with a `PersistentHash` bound added for every type
    /// parameter that a hashed field mentions.
    generics: Generics,
    /// The type parameters that got that bound, in declaration order.
    hashed_params: Vec<&'a Ident>,
    /// The const parameters, in declaration order.
    const_params: Vec<&'a Ident>,
    /// The path of the runtime crate: `crate = "path"`, else
    /// [`runtime_crate`](crate::runtime::runtime_crate)'s.
    krate: syn::Path,
    /// The name of the sink's type parameter: unlike local bindings, generic
    /// parameters are not hygienic, so it must differ from the item's own.
    sink_ty: Ident,
    body: Body<'a>,
}

enum Body<'a> {
    Struct(Vec<Field<'a>>),
    Enum(Vec<Variant<'a>>),
}

struct Variant<'a> {
    ident: &'a Ident,
    shape: Shape,
    fields: Vec<Field<'a>>,
}

/// How a variant's fields are written in a pattern.
#[derive(Clone, Copy)]
enum Shape {
    Named,
    Unnamed,
    Unit,
}

struct Field<'a> {
    member: Member,
    ty: &'a Type,
    skip: bool,
}

/// Expands `#[derive(PersistentHash)]`; on error, only the spanned errors.
pub(crate) fn expand(input: DeriveInput) -> TokenStream {
    match Input::from_syn(&input) {
        Ok(model) => expand::impl_block(&model),
        Err(error) => error.to_compile_error(),
    }
}

impl<'a> Input<'a> {
    fn from_syn(input: &'a DeriveInput) -> syn::Result<Self> {
        let mut errors = Errors::default();
        let body = match &input.data {
            Data::Struct(data) => Body::Struct(fields(&data.fields, &mut errors)),
            Data::Enum(data) => Body::Enum(
                data.variants
                    .iter()
                    .map(|variant| {
                        attr::reject_on_variant(&variant.attrs, &mut errors);
                        Variant {
                            ident: &variant.ident,
                            shape: shape(&variant.fields),
                            fields: fields(&variant.fields, &mut errors),
                        }
                    })
                    .collect(),
            ),
            Data::Union(data) => {
                errors.push(syn::Error::new(
                    data.union_token.span,
                    "`PersistentHash` cannot be derived for a union: which field to \
                     hash is not known; implement it by hand or use a struct or an enum",
                ));
                Body::Struct(Vec::new())
            }
        };
        let krate = attr::container_crate(&input.attrs, &mut errors);
        errors.finish()?;

        let mentioned = mentioned_idents(&body);
        let hashed_params: Vec<&Ident> = input
            .generics
            .type_params()
            .map(|param| &param.ident)
            .filter(|ident| mentioned.contains(*ident))
            .collect();
        let const_params = input
            .generics
            .const_params()
            .map(|param| &param.ident)
            .collect();
        let krate = krate.unwrap_or_else(crate::runtime::runtime_crate);
        let mut generics = input.generics.clone();
        let predicates = &mut generics.make_where_clause().predicates;
        for ident in &hashed_params {
            predicates.push(syn::parse_quote!(#ident: #krate::hash::PersistentHash));
        }
        let mut sink_ty = String::from("__PersistentHashSink");
        while input
            .generics
            .type_params()
            .any(|param| param.ident == sink_ty)
        {
            sink_ty.push('_');
        }
        let sink_ty = Ident::new(&sink_ty, Span::mixed_site());
        Ok(Input {
            ident: &input.ident,
            generics,
            hashed_params,
            const_params,
            krate,
            sink_ty,
            body,
        })
    }
}

fn shape(fields: &syn::Fields) -> Shape {
    match fields {
        syn::Fields::Named(_) => Shape::Named,
        syn::Fields::Unnamed(_) => Shape::Unnamed,
        syn::Fields::Unit => Shape::Unit,
    }
}

fn fields<'a>(fields: &'a syn::Fields, errors: &mut Errors) -> Vec<Field<'a>> {
    fields
        .iter()
        .enumerate()
        .map(|(index, field)| Field {
            member: match &field.ident {
                Some(ident) => Member::Named(ident.clone()),
                None => Member::Unnamed(syn::Index {
                    index: index as u32,
                    span: Span::call_site(),
                }),
            },
            ty: &field.ty,
            skip: attr::field_skip(&field.attrs, errors),
        })
        .collect()
}

/// Every identifier in the types of the hashed fields. A type parameter among
/// them gets a `PersistentHash` bound; one used only by skipped fields does not,
/// so a `#[persistent_hash(skip)] PhantomData<T>` needs nothing of `T`.
fn mentioned_idents(body: &Body<'_>) -> Vec<Ident> {
    fn collect(tokens: TokenStream, out: &mut Vec<Ident>) {
        for token in tokens {
            match token {
                TokenTree::Ident(ident) => out.push(ident),
                TokenTree::Group(group) => collect(group.stream(), out),
                TokenTree::Punct(_) | TokenTree::Literal(_) => {}
            }
        }
    }
    let all_fields: Vec<&Field<'_>> = match body {
        Body::Struct(fields) => fields.iter().collect(),
        Body::Enum(variants) => variants.iter().flat_map(|v| &v.fields).collect(),
    };
    let mut out = Vec::new();
    for field in all_fields.into_iter().filter(|field| !field.skip) {
        collect(quote::ToTokens::to_token_stream(field.ty), &mut out);
    }
    out
}
