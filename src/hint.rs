//! [`Hint`]: what the user can do about a failure, printed on a `hint:` line under its
//! `error:` line.
//!
//! A leaf: every error type implements it beside its variants (which know what went
//! wrong), and the command edge prints it in one place ([`crate::failure`]), as uv's
//! `uv-errors` and cargo's `CliError` keep the advice apart from where it is printed.

/// A failure that can say what to do about it.
pub trait Hint {
    /// The advice, if there is any: lowercase, no trailing period, literals in backticks.
    fn hint(&self) -> Option<String>;
}
