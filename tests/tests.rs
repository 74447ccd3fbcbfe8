//! Integration tests: one binary, split by feature.

mod util;
mod validate;
