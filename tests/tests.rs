//! Integration tests: one binary, split by feature.

mod corpus;
mod diff;
mod helm;
mod niceties;
mod propose;
mod render;
mod schema;
mod util;
mod validate;
