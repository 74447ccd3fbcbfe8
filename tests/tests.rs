//! Integration tests: one binary, split by feature.

// The tests read their own settings (reference charts, tools) from the environment;
// `clippy.toml` routes only the crate's reads through `src/env.rs`.
#![allow(clippy::disallowed_methods)]

mod apiserver;
mod chart_pull;
mod cluster_objects;
mod cluster_octopus;
mod corpus;
mod diff;
mod git_output;
mod helm;
mod import;
mod lifecycle;
mod merge;
mod niceties;
mod octopus_api;
mod propose;
mod render;
mod report;
mod scalars;
mod schema;
mod status;
mod structure;
mod util;
mod validate;
