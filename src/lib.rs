//! workergen: Octopus Deploy Kubernetes Workers declared in Git, rendered for Argo CD and Flux.
//!
//! The pipeline, one module per stage: [`load`] reads the declarations through a
//! [`tree::FileTree`], [`model::resolve`] merges the layers (`merge`) and types them,
//! [`validate`] checks every rule, and `render` writes the Helm values and manifests.

pub(crate) mod about;
pub mod app;
pub mod chart;
pub(crate) mod chart_values;
pub mod cli;
pub(crate) mod console;
pub(crate) mod crds;
pub(crate) mod decl;
pub mod diagnostic;
pub(crate) mod diff;
pub(crate) mod env;
pub(crate) mod explain;
pub(crate) mod failure;
pub(crate) mod git;
pub(crate) mod hint;
pub(crate) mod import;
pub(crate) mod init;
pub mod load;
pub(crate) mod merge;
pub mod model;
pub(crate) mod names;
pub(crate) mod propose;
pub(crate) mod quantity;
pub(crate) mod redact;
pub mod render;
pub(crate) mod report;
pub(crate) mod scope;
pub mod server_url;
pub mod source;
pub(crate) mod status;
pub mod tree;
pub mod validate;
pub(crate) mod vendor;
pub(crate) mod version;
pub mod yaml;

use diagnostic::Report;
use model::Fleet;

/// Loads, merges and validates the config repository in `tree`.
///
/// Input problems are in the returned [`Report`]; only a failure to read is an error.
pub(crate) fn load_fleet(tree: &dyn tree::FileTree) -> std::io::Result<(Fleet, Report)> {
    load_fleet_timed(tree, &mut Timings::default())
}

/// [`load_fleet`], recording how long each stage took.
pub(crate) fn load_fleet_timed(tree: &dyn tree::FileTree, timings: &mut Timings) -> std::io::Result<(Fleet, Report)> {
    let mut report = Report::new();
    let loaded = timings.time("load", || load::load(tree, &mut report))?;
    let mut fleet = timings.time("merge", || {
        validate::credentials::check_files(&loaded, &mut report);
        model::resolve(loaded, &mut report)
    });
    timings.time("validate", || {
        validate::validate(&fleet, &mut report);
        validate::check_templates_folder(tree, &mut fleet, &mut report)?;
        report.sort(&fleet.sources);
        Ok::<_, std::io::Error>(())
    })?;
    Ok((fleet, report))
}

/// How long each stage of a run took, for `-v`.
#[derive(Debug, Default, Clone)]
pub(crate) struct Timings {
    stages: Vec<(&'static str, std::time::Duration)>,
}

impl Timings {
    /// Runs `stage`, adding its duration under `name`.
    pub(crate) fn time<T>(&mut self, name: &'static str, stage: impl FnOnce() -> T) -> T {
        let start = std::time::Instant::now();
        let result = stage();
        let elapsed = start.elapsed();
        match self.stages.iter_mut().find(|(stage, _)| *stage == name) {
            Some((_, total)) => *total += elapsed,
            None => self.stages.push((name, elapsed)),
        }
        result
    }

    /// `timings: load 12.3 ms, merge 4.0 ms, ...`.
    pub(crate) fn summary(&self) -> String {
        let parts: Vec<String> = self
            .stages
            .iter()
            .map(|(name, duration)| format!("{name} {:.1} ms", duration.as_secs_f64() * 1000.0))
            .collect();
        format!("timings: {}", parts.join(", "))
    }
}
