//! Integration tests: one binary, split by feature.

mod corpus;
mod diff;
mod niceties;
mod octopus_api;
mod propose;
mod render;
mod schema;
mod status;
mod util;
mod validate;
