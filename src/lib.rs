//! workergen: Octopus Deploy Kubernetes Workers declared in Git, rendered for Argo CD and Flux.
//!
//! The pipeline, one module per stage: [`load`] reads the declarations through a
//! [`tree::FileTree`], [`model::resolve`] merges the layers ([`merge`]) and types them,
//! [`validate`] checks every rule, and `render` writes the Helm values and manifests.

pub mod app;
pub mod chart;
pub mod cli;
pub mod decl;
pub mod diagnostic;
pub mod diff;
pub mod git;
pub mod load;
pub mod merge;
pub mod model;
pub mod propose;
pub mod quantity;
pub mod render;
pub mod source;
pub mod tree;
pub mod validate;
pub mod yaml;

use diagnostic::Report;
use model::Fleet;

/// Loads, merges and validates the config repository in `tree`.
///
/// Input problems are in the returned [`Report`]; only a failure to read is an error.
pub fn load_fleet(tree: &dyn tree::FileTree) -> std::io::Result<(Fleet, Report)> {
    let mut report = Report::new();
    let loaded = load::load(tree, &mut report)?;
    validate::credentials::check_files(&loaded, &mut report);
    let fleet = model::resolve(loaded, &mut report);
    validate::validate(&fleet, &mut report);
    report.sort(&fleet.sources);
    Ok((fleet, report))
}
