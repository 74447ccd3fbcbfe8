//! Integration tests: one binary, split by feature.

mod niceties;
mod schema;
mod util;
mod validate;
