//! `workergen import`: existing installs (`helm get values` outputs and the install
//! wizard's `helm upgrade --install` command lines) turned into declarations, so teams
//! can move the workers they already run under Git without a reinstall.
//!
//! The stages, in order ([`run`]): [`input`] reads each file ([`command`] the wizard's
//! command line, [`helm_set`] its `--set` grammar); [`credentials`] takes plaintext
//! credentials out (they become Secret references, never written); [`factor`] reads the
//! chart values back into worker fields through the field → value table; [`plan`] lays
//! the workers over the layers they inherit and plans the cluster and environment files;
//! [`roundtrip`] runs load, validate and render on the planned files in memory and
//! compares each worker's rendered values with the imported ones. Nothing is written
//! unless every input reads, factors and round-trips. [`octopus`] lists what an Octopus
//! space has registered (`--from-octopus`), as a starting point.

mod at_input;
mod auth;
pub mod command;
pub(crate) mod credentials;
pub(crate) mod factor;
pub mod helm_set;
pub mod input;
pub(crate) mod manifests;
pub(crate) mod octopus;
pub(crate) mod plan;
mod print;
pub(crate) mod roundtrip;
mod run;
pub(crate) mod tree;
mod write;

pub(crate) use run::{run, Options};
