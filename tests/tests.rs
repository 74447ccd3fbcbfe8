//! Integration tests: one binary, split by feature.

mod corpus;
mod diff;
mod niceties;
mod propose;
mod render;
mod scalars;
mod schema;
mod util;
mod validate;
