//! The `#[persistent_hash(..)]` options: `crate = "path"` on the item, `skip` on
//! a field. Unknown or repeated options are spanned errors.

use syn::meta::ParseNestedMeta;
use syn::{Attribute, LitStr};

pub(super) use crate::ctxt::Errors;

/// The attribute's name.
const ATTR: &str = "persistent_hash";

/// The `crate = "path"` option of the item, if given.
pub(super) fn container_crate(attrs: &[Attribute], errors: &mut Errors) -> Option<syn::Path> {
    let mut krate: Option<syn::Path> = None;
    for attr in attrs.iter().filter(|attr| attr.path().is_ident(ATTR)) {
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                let path = crate_path(&meta)?;
                if krate.is_some() {
                    return Err(meta.error(format!("duplicate {ATTR} attribute `crate`")));
                }
                krate = Some(path);
                Ok(())
            } else {
                Err(unknown(&meta, "`crate`"))
            }
        });
        if let Err(error) = parsed {
            errors.push(error);
        }
    }
    krate
}

/// Whether the field carries `#[persistent_hash(skip)]`.
pub(super) fn field_skip(attrs: &[Attribute], errors: &mut Errors) -> bool {
    let mut skip = false;
    for attr in attrs.iter().filter(|attr| attr.path().is_ident(ATTR)) {
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") {
                if skip {
                    return Err(meta.error(format!("duplicate {ATTR} attribute `skip`")));
                }
                skip = true;
                Ok(())
            } else {
                Err(unknown(&meta, "`skip`"))
            }
        });
        if let Err(error) = parsed {
            errors.push(error);
        }
    }
    skip
}

/// Variants take no options: a `#[persistent_hash(..)]` there is an error.
pub(super) fn reject_on_variant(attrs: &[Attribute], errors: &mut Errors) {
    for attr in attrs.iter().filter(|attr| attr.path().is_ident(ATTR)) {
        errors.push(syn::Error::new_spanned(
            attr,
            format!(
                "{ATTR} attributes are not supported on enum variants; \
                 `skip` goes on fields, `crate` on the enum"
            ),
        ));
    }
}

/// `crate = "::path"` (a string, as serde does) or `crate = ::path`.
fn crate_path(meta: &ParseNestedMeta<'_>) -> syn::Result<syn::Path> {
    let value = meta.value()?;
    if value.peek(LitStr) {
        value.parse::<LitStr>()?.parse()
    } else {
        value.parse()
    }
}

/// "unknown persistent_hash attribute `x`; expected …", spanned on `x`.
fn unknown(meta: &ParseNestedMeta<'_>, expected: &str) -> syn::Error {
    let name = meta
        .path
        .segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect::<Vec<_>>()
        .join("::");
    meta.error(format!(
        "unknown {ATTR} attribute `{name}`; expected {expected}"
    ))
}
