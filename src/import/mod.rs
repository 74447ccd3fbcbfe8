//! `workergen import`: existing installs (`helm get values` outputs and the install
//! wizard's `helm upgrade --install` command lines) turned into declarations, so teams
//! can move the workers they already run under Git without a reinstall.
//!
//! Built in steps. So far: [`helm_set`], the `--set` grammar as Helm parses it;
//! [`command`], the wizard command line; [`input`], which reads one input file as either
//! a command line or `helm get values` output. Factoring into declarations, writing and
//! the round trip are still to come.

pub mod command;
pub mod helm_set;
pub mod input;
