//! Integration tests: one binary, split by feature.

mod apiserver;
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
