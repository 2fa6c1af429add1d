//! The options of `#[ttl_cache(..)]`, parsed into typed values. Every error is
//! collected; a repeated option is reported at its second occurrence.

use proc_macro2::{Span, TokenStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ExprUnary, Ident, Lit, LitStr, Meta, Path, Token, UnOp};

use crate::ctxt::Errors;

/// Every option, in the order the error message lists them.
pub(super) const OPTIONS: &[&str] = &[
    "ttl",
    "max_entries",
    "identifier",
    "version",
    "typed",
    "skip",
    "key",
    "backend",
    "serializer",
    "single_flight",
    "cache_none",
    "fail_closed",
    "result",
    "option",
    "associated",
    "crate",
];

/// How long results live.
pub(super) enum Ttl {
    /// The default.
    Default,
    /// `ttl = None`: never expires.
    Never,
    /// A literal, checked here, in nanoseconds.
    Nanos(u128),
    /// Any other expression, converted at run time through `IntoTtl`.
    Expr(Expr),
}

/// The parsed options.
pub(super) struct Args {
    pub(super) ttl: Ttl,
    pub(super) max_entries: Option<Expr>,
    pub(super) identifier: Option<LitStr>,
    pub(super) version: u32,
    pub(super) typed: bool,
    /// Parameter names to leave out of the key (`self` included), with spans.
    pub(super) skip: Vec<Ident>,
    pub(super) key: Option<Expr>,
    pub(super) backend: Option<Expr>,
    pub(super) serializer: Option<Path>,
    pub(super) single_flight: bool,
    /// `single_flight = fleet`: across processes too.
    pub(super) fleet: bool,
    /// `cache_none = …` and where it was written.
    pub(super) cache_none: Option<(bool, Span)>,
    /// `fail_closed`: where it was written, when given.
    pub(super) fail_closed: Option<Span>,
    /// `result`: the return type is a `Result` under another name.
    pub(super) result: bool,
    /// `option`: the return type is an `Option` under another name.
    pub(super) option: bool,
    /// `associated`: an associated fn whose signature and body never say `Self`.
    pub(super) associated: bool,
    pub(super) krate: Option<Path>,
}

impl Args {
    /// Parses every option; errors go to `errors`.
    pub(super) fn parse(tokens: TokenStream, errors: &mut Errors) -> Self {
        let mut args = Args {
            ttl: Ttl::Default,
            max_entries: None,
            identifier: None,
            version: 0,
            typed: false,
            skip: Vec::new(),
            key: None,
            backend: None,
            serializer: None,
            single_flight: true,
            fleet: false,
            cache_none: None,
            fail_closed: None,
            result: false,
            option: false,
            associated: false,
            krate: None,
        };
        let parser = Punctuated::<Meta, Token![,]>::parse_terminated;
        let metas = match syn::parse::Parser::parse2(parser, tokens) {
            Ok(metas) => metas,
            Err(error) => {
                errors.push(error);
                return args;
            }
        };
        let mut seen: Vec<String> = Vec::new();
        for meta in metas {
            let name = path_name(meta.path());
            if OPTIONS.contains(&name.as_str()) {
                if seen.contains(&name) {
                    errors.push(syn::Error::new_spanned(
                        meta.path(),
                        format!("duplicate option `{name}`"),
                    ));
                    continue;
                }
                seen.push(name.clone());
            }
            if let Err(error) = args.apply(&name, meta) {
                errors.push(error);
            }
        }
        args
    }

    fn apply(&mut self, name: &str, meta: Meta) -> syn::Result<()> {
        match name {
            "ttl" => self.ttl = ttl(value(meta)?)?,
            "max_entries" => self.max_entries = Some(max_entries(value(meta)?)?),
            "identifier" => {
                let lit = lit_str(value(meta)?, "identifier = \"name\"")?;
                if lit.value().is_empty() {
                    return Err(syn::Error::new(lit.span(), "identifier must not be empty"));
                }
                self.identifier = Some(lit);
            }
            "version" => {
                let expr = value(meta)?;
                self.version = match &expr {
                    Expr::Lit(ExprLit {
                        lit: Lit::Int(int), ..
                    }) if !is_negative(int.base10_digits()) => int.base10_parse::<u32>()?,
                    _ => {
                        return Err(syn::Error::new_spanned(
                            expr,
                            "expected `version = N`, N a u32 literal",
                        ));
                    }
                };
            }
            "typed" => self.typed = flag(meta)?,
            "single_flight" => match &meta {
                Meta::NameValue(pair) if matches!(&pair.value, Expr::Path(path) if path.path.is_ident("fleet")) =>
                {
                    self.single_flight = true;
                    self.fleet = true;
                }
                _ => {
                    self.single_flight = flag(meta).map_err(|error| {
                        syn::Error::new(
                            error.span(),
                            "expected `single_flight`, `single_flight = true|false` or \
                             `single_flight = fleet`",
                        )
                    })?;
                }
            },
            "cache_none" => {
                let span = meta.span();
                self.cache_none = Some((flag(meta)?, span));
            }
            "fail_closed" => {
                let span = meta.span();
                self.fail_closed = flag(meta)?.then_some(span);
            }
            "result" => self.result = flag(meta)?,
            "option" => self.option = flag(meta)?,
            "associated" => self.associated = flag(meta)?,
            "skip" => {
                let list = meta.require_list()?;
                let names = list.parse_args_with(|input: syn::parse::ParseStream<'_>| {
                    Punctuated::<Ident, Token![,]>::parse_terminated_with(
                        input,
                        syn::ext::IdentExt::parse_any,
                    )
                })?;
                if names.is_empty() {
                    return Err(syn::Error::new_spanned(list, "expected `skip(arg, ...)`"));
                }
                self.skip.extend(names);
            }
            "key" => self.key = Some(value(meta)?),
            "backend" => self.backend = Some(value(meta)?),
            "serializer" => {
                let expr = value(meta)?;
                match expr {
                    Expr::Path(path) if path.qself.is_none() => self.serializer = Some(path.path),
                    other => {
                        return Err(syn::Error::new_spanned(
                            other,
                            "expected `serializer = Path`, a type implementing `Serializer + Default`",
                        ));
                    }
                }
            }
            "crate" => {
                let lit = lit_str(value(meta)?, "crate = \"path\"")?;
                self.krate = Some(lit.parse()?);
            }
            _ => {
                return Err(syn::Error::new_spanned(
                    meta.path(),
                    format!(
                        "unknown option `{name}`; expected one of: {}",
                        OPTIONS.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn path_name(path: &Path) -> String {
    path.segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

/// The value of `name = value`.
fn value(meta: Meta) -> syn::Result<Expr> {
    match meta {
        Meta::NameValue(pair) => Ok(pair.value),
        other => {
            let name = path_name(other.path());
            Err(syn::Error::new_spanned(
                other,
                format!("expected `{name} = …`"),
            ))
        }
    }
}

/// `name` (true) or `name = true|false`.
fn flag(meta: Meta) -> syn::Result<bool> {
    match meta {
        Meta::Path(_) => Ok(true),
        Meta::NameValue(pair) => match pair.value {
            Expr::Lit(ExprLit {
                lit: Lit::Bool(b), ..
            }) => Ok(b.value),
            other => Err(syn::Error::new_spanned(other, "expected `true` or `false`")),
        },
        Meta::List(list) => Err(syn::Error::new_spanned(
            list,
            "expected a flag: `name` or `name = true|false`",
        )),
    }
}

fn lit_str(expr: Expr, expected: &str) -> syn::Result<LitStr> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Ok(lit),
        other => Err(syn::Error::new_spanned(
            other,
            format!("expected `{expected}`"),
        )),
    }
}

/// `ttl = 30`, `ttl = 1.5`, `ttl = None`, or a `Duration`-like expression.
fn ttl(expr: Expr) -> syn::Result<Ttl> {
    match &expr {
        Expr::Lit(ExprLit { lit, .. }) => match lit {
            Lit::Int(int) if is_negative(int.base10_digits()) => {
                Err(syn::Error::new(int.span(), "ttl must not be negative"))
            }
            Lit::Float(float) if is_negative(float.base10_digits()) => {
                Err(syn::Error::new(float.span(), "ttl must not be negative"))
            }
            Lit::Int(int) => {
                let secs = int
                    .base10_parse::<u64>()
                    .map_err(|_| syn::Error::new(int.span(), "ttl in seconds must fit in a u64"))?;
                Ok(Ttl::Nanos(u128::from(secs) * 1_000_000_000))
            }
            Lit::Float(float) => {
                let secs = float.base10_parse::<f64>()?;
                if !secs.is_finite() || secs >= u64::MAX as f64 {
                    return Err(syn::Error::new(
                        float.span(),
                        "ttl in seconds must be finite and fit in a u64",
                    ));
                }
                Ok(Ttl::Nanos((secs * 1e9).round() as u128))
            }
            other => Err(syn::Error::new_spanned(
                other,
                "malformed ttl: expected seconds (`30`, `1.5`), a `Duration` expression, or `None` for no expiry",
            )),
        },
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(minus),
            ..
        }) => Err(syn::Error::new(minus.span, "ttl must not be negative")),
        Expr::Path(path) if path.qself.is_none() && path.path.is_ident("None") => Ok(Ttl::Never),
        _ => Ok(Ttl::Expr(expr)),
    }
}

/// `max_entries = 1000` (checked) or any `usize` expression.
fn max_entries(expr: Expr) -> syn::Result<Expr> {
    match &expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => {
            if is_negative(int.base10_digits()) {
                return Err(syn::Error::new(
                    int.span(),
                    "max_entries must not be negative",
                ));
            }
            int.base10_parse::<usize>()?;
            Ok(expr)
        }
        Expr::Lit(other) => Err(syn::Error::new_spanned(
            other,
            "expected `max_entries = N`, N a usize",
        )),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(minus),
            ..
        }) => Err(syn::Error::new(
            minus.span,
            "max_entries must not be negative",
        )),
        _ => Ok(expr),
    }
}

/// A literal's digits with a sign: syn reads `-5` as one literal when it ends
/// the attribute, and as a negation followed by `5` otherwise.
fn is_negative(digits: &str) -> bool {
    digits.starts_with('-')
}
