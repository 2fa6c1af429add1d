//! An error accumulator: every error found is reported, together.

/// Collects every error, to report them together.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(first) => first.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// How many errors were collected.
    pub(crate) fn count(&self) -> usize {
        self.0
            .as_ref()
            .map_or(0, |error| error.clone().into_iter().count())
    }

    /// `Err` with every error collected, if any.
    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}
