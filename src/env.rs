//! The process environment: the one place workergen reads it, so the commands take what
//! they need as values (a [`crate::console::Context`], a lookup function) and tests can
//! hand them their own. `clippy.toml` refuses `std::env::var` and `var_os` elsewhere.

use std::ffi::OsString;

/// The variable `name`, if set (whatever its bytes).
#[allow(clippy::disallowed_methods)]
pub(crate) fn var_os(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

/// The variable `name`, if set and valid UTF-8.
#[allow(clippy::disallowed_methods)]
pub(crate) fn var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The variable `name`, if set to something other than the empty string.
pub(crate) fn non_empty(name: &str) -> Option<String> {
    var(name).filter(|value| !value.is_empty())
}
