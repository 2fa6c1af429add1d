//! The function as written, and the checks it must pass: what the expansion
//! needs to know (receiver, arguments, return kind, free or associated), with
//! every unsupported form reported as a spanned error.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{
    FnArg, GenericArgument, GenericParam, Ident, ItemFn, Pat, PathArguments, ReturnType, Type,
};

use super::args::Args;
use crate::ctxt::Errors;

/// What the return value's kind means for storing it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Returns {
    /// Every value is stored.
    Plain,
    /// Only `Ok` values are stored.
    Result,
    /// `Option`: `None` is stored unless `cache_none = false`.
    Option,
}

/// Where the function lives, which decides the shape of its wrapper.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Form {
    /// A free function: a `struct name {}` wrapper in the type namespace.
    Free,
    /// A method or associated function: an associated `name_cache()`.
    Associated,
}

/// A parameter that goes into the key.
pub(super) struct KeyPart {
    /// The binding (`self` for the receiver).
    pub(super) tokens: TokenStream,
    /// Where a missing `PersistentHash` is reported.
    pub(super) span: Span,
}

/// The validated function.
pub(super) struct Function {
    pub(super) item: ItemFn,
    pub(super) ret: Type,
    pub(super) returns: Returns,
    pub(super) form: Form,
    /// In key order: the receiver (unless skipped), then the parameters.
    pub(super) key_parts: Vec<KeyPart>,
}

impl Function {
    /// Checks `item` against `args`; `None` when an error was found.
    pub(super) fn analyze(item: ItemFn, args: &Args, errors: &mut Errors) -> Option<Self> {
        let before = errors_len(errors);
        let sig = &item.sig;
        if let Some(constness) = &sig.constness {
            errors.push(syn::Error::new(
                constness.span,
                "`#[ttl_cache]` cannot cache a `const fn`",
            ));
        }
        for param in &sig.generics.params {
            match param {
                GenericParam::Lifetime(_) => {}
                GenericParam::Type(ty) => errors.push(syn::Error::new_spanned(
                    &ty.ident,
                    "`#[ttl_cache]` does not support generic type parameters yet; \
                     cache a non-generic function per concrete type, or take \
                     `impl PersistentHash` arguments",
                )),
                GenericParam::Const(konst) => errors.push(syn::Error::new_spanned(
                    &konst.ident,
                    "`#[ttl_cache]` does not support const generic parameters; \
                     cache a non-generic function per value",
                )),
            }
        }
        let ret = match &sig.output {
            ReturnType::Default => {
                errors.push(syn::Error::new_spanned(
                    &sig.ident,
                    "a cached function must return its result: add a return type (`-> T`)",
                ));
                None
            }
            ReturnType::Type(_, ty) => {
                check_return(ty, errors);
                Some((**ty).clone())
            }
        };

        // With `key = …` no argument is part of the key.
        let skipped = |name: &str| args.key.is_some() || args.skip.iter().any(|s| s == name);
        let mut key_parts = Vec::new();
        let mut has_receiver = false;
        let mut names: Vec<String> = Vec::new();
        for input in &sig.inputs {
            match input {
                FnArg::Receiver(receiver) => {
                    has_receiver = true;
                    names.push("self".into());
                    if skipped("self") {
                        continue;
                    }
                    if receiver.mutability.is_some() && receiver.reference.is_some() {
                        errors.push(syn::Error::new_spanned(
                            receiver,
                            "`&mut self` cannot be part of the key; add `skip(self)` \
                             if the result does not depend on it",
                        ));
                    }
                    key_parts.push(KeyPart {
                        tokens: receiver.self_token.to_token_stream(),
                        span: receiver.span(),
                    });
                }
                FnArg::Typed(pat_type) => {
                    let ident = match &*pat_type.pat {
                        Pat::Ident(pat) if pat.subpat.is_none() => Some(&pat.ident),
                        _ => None,
                    };
                    let Some(ident) = ident else {
                        if args.key.is_some() {
                            continue;
                        }
                        errors.push(syn::Error::new_spanned(
                            &pat_type.pat,
                            "`#[ttl_cache]` needs a name for each argument: \
                             bind it (`arg: T`) and destructure in the body",
                        ));
                        continue;
                    };
                    names.push(ident.to_string());
                    if skipped(&ident.to_string()) {
                        continue;
                    }
                    if let Type::Reference(reference) = &*pat_type.ty
                        && let Some(mutability) = &reference.mutability
                    {
                        errors.push(syn::Error::new(
                            mutability
                                .span
                                .join(reference.elem.span())
                                .unwrap_or(mutability.span),
                            format!(
                                "a `&mut` argument cannot be part of the key; \
                                     add `skip({ident})` if the result does not depend on it"
                            ),
                        ));
                    }
                    // The whole write carries the type's span, so a missing
                    // `PersistentHash` is reported on the argument's type.
                    let span = pat_type.ty.span();
                    let mut ident = ident.clone();
                    ident.set_span(span);
                    key_parts.push(KeyPart {
                        tokens: ident.to_token_stream(),
                        span,
                    });
                }
            }
        }
        for skip in &args.skip {
            if !names.iter().any(|name| skip == name) {
                errors.push(syn::Error::new_spanned(
                    skip,
                    format!("`skip({skip})` names no parameter of `{}`", sig.ident),
                ));
            }
        }

        let returns = ret
            .as_ref()
            .map_or(Returns::Plain, |ret| returns(ret, args));
        if let Some((_, span)) = args.cache_none
            && returns != Returns::Option
        {
            errors.push(syn::Error::new(
                span,
                "`cache_none` applies to functions returning `Option` \
                     (add `option` if the return type is an alias of `Option`)",
            ));
        }
        if let Some(span) = args.fail_closed
            && returns != Returns::Result
        {
            errors.push(syn::Error::new(
                span,
                "`fail_closed` needs a function returning `Result<T, E>` with \
                     `E: From<BackendError>`, so that a backend error can be returned \
                     (add `result` if the return type is an alias of `Result`)",
            ));
        }
        if args.result && args.option {
            errors.push(syn::Error::new(
                Span::call_site(),
                "`result` and `option` cannot both be given",
            ));
        }
        let form = if has_receiver || args.associated || mentions_self(&item) {
            Form::Associated
        } else {
            Form::Free
        };
        if errors_len(errors) > before {
            return None;
        }
        Some(Self {
            ret: ret?,
            item,
            returns,
            form,
            key_parts,
        })
    }

    pub(super) fn ident(&self) -> &Ident {
        &self.item.sig.ident
    }
}

fn errors_len(errors: &Errors) -> usize {
    errors.count()
}

/// `Result`/`Option` by name (or by the `result`/`option` options).
fn returns(ret: &Type, args: &Args) -> Returns {
    if args.result {
        return Returns::Result;
    }
    if args.option {
        return Returns::Option;
    }
    match last_segment(ret) {
        Some(name) if name == "Result" => Returns::Result,
        Some(name) if name == "Option" => Returns::Option,
        _ => Returns::Plain,
    }
}

fn last_segment(ty: &Type) -> Option<&Ident> {
    match ty {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last().map(|s| &s.ident),
        Type::Paren(paren) => last_segment(&paren.elem),
        Type::Group(group) => last_segment(&group.elem),
        _ => None,
    }
}

/// Rejects return types that cannot be stored: `impl Trait`, borrows.
fn check_return(ty: &Type, errors: &mut Errors) {
    match ty {
        Type::ImplTrait(_) => errors.push(syn::Error::new_spanned(
            ty,
            "a cached function cannot return `impl Trait`: the stored value needs a \
             nameable type; return a concrete type (or a `Box<dyn Trait>` inside an `Arc`)",
        )),
        Type::Reference(reference) => {
            let is_static = reference
                .lifetime
                .as_ref()
                .is_some_and(|lifetime| lifetime.ident == "static");
            if is_static {
                check_return(&reference.elem, errors);
            } else {
                errors.push(syn::Error::new_spanned(
                    reference,
                    "a cached function cannot return a borrowed value: it outlives the call; \
                     return an owned type (or an `Arc`)",
                ));
            }
        }
        Type::Path(path) => {
            for segment in &path.path.segments {
                if let PathArguments::AngleBracketed(generic) = &segment.arguments {
                    for arg in &generic.args {
                        match arg {
                            GenericArgument::Type(inner) => check_return(inner, errors),
                            GenericArgument::Lifetime(lifetime) if lifetime.ident != "static" => {
                                errors.push(syn::Error::new_spanned(
                                    lifetime,
                                    "a cached function cannot return a borrowed value: \
                                     the stored value must be `'static`",
                                ));
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        Type::Tuple(tuple) => tuple
            .elems
            .iter()
            .for_each(|elem| check_return(elem, errors)),
        Type::Array(array) => check_return(&array.elem, errors),
        Type::Slice(slice) => check_return(&slice.elem, errors),
        Type::Paren(paren) => check_return(&paren.elem, errors),
        Type::Group(group) => check_return(&group.elem, errors),
        _ => {}
    }
}

/// Whether `Self` appears in the signature or the body: then the function is
/// an associated function (a free function cannot name `Self`).
fn mentions_self(item: &ItemFn) -> bool {
    fn walk(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|token| match token {
            TokenTree::Ident(ident) => ident == "Self",
            TokenTree::Group(group) => walk(group.stream()),
            _ => false,
        })
    }
    walk(item.sig.to_token_stream()) || walk(item.block.to_token_stream())
}
