//! `workergen import`: existing installs (`helm get values` outputs and the install
//! wizard's `helm upgrade --install` command lines) turned into declarations (DESIGN.md
//! section 14).
//!
//! Built in steps; so far [`helm_set`], the `--set` grammar as Helm parses it, and
//! [`command`], the wizard command line.

pub mod command;
pub mod helm_set;
