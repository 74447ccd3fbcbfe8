//! `--env` / `--cluster`: whether they name something, and which problems concern the
//! part of the fleet they select.
//!
//! A scoped command (the Argo CD plugin renders one cluster per Application) must not be
//! blocked by a mistake in another team's cluster file, unless that mistake reaches into
//! the scope: a file every cluster reads, or a collision across the boundary.

use crate::diagnostic::{Diagnostic, Report, Severity};
use crate::failure::Failure;
use crate::model::Fleet;
use crate::render::Scope;
use crate::source::{FileId, Loc};

/// Whether the declaration file at `path` can change what the scope renders:
/// everything outside `environments/` (`workergen.yaml`, templates), the scope's
/// cluster files, and the `environment.yaml` of environments with a cluster in it.
pub fn file_in_scope(path: &str, scope: &Scope, fleet: &Fleet) -> bool {
    let Some(rest) = path
        .strip_prefix(crate::load::ENVIRONMENTS)
        .and_then(|rest| rest.strip_prefix('/'))
    else {
        return true;
    };
    let Some((environment, file)) = rest.split_once('/') else {
        return false;
    };
    // An environment folder (`environments/<env>/`) is scoped as its environment.yaml.
    if file == crate::load::ENVIRONMENT_FILE || file.is_empty() {
        return scope.environment.as_ref().is_none_or(|wanted| wanted == environment)
            && scope.cluster.as_ref().is_none_or(|cluster| {
                let wanted = format!("{}/{environment}/{cluster}.yaml", crate::load::ENVIRONMENTS);
                (0..fleet.sources.len()).any(|id| fleet.sources.path(FileId(id as u32)) == wanted)
            });
    }
    let stem = file
        .strip_suffix(".yaml")
        .or_else(|| file.strip_suffix(".yml"))
        .unwrap_or(file);
    scope.matches(environment, stem)
}

/// The problems that concern the scope: those in its files (see [`file_in_scope`]),
/// those that also point into them (a collision across its boundary), and those of no
/// file; and how many errors were left out.
pub fn only_in_scope(report: Report, fleet: &Fleet, scope: &Scope) -> (Report, usize) {
    if scope.is_all() {
        return (report, 0);
    }
    let concerns = |diagnostic: &Diagnostic| {
        let in_scope = |loc: &Loc| file_in_scope(fleet.sources.path(loc.file), scope, fleet);
        diagnostic.loc.as_ref().is_none_or(in_scope) || diagnostic.related.iter().any(|(loc, _)| in_scope(loc))
    };
    let (kept, left): (Vec<_>, Vec<_>) = report.diagnostics().iter().cloned().partition(concerns);
    let errors = left.iter().filter(|d| d.severity == Severity::Error).count();
    let mut report = Report::new();
    report.extend(kept);
    (report, errors)
}

/// Checks that `--env` / `--cluster` name something that exists.
pub fn check(fleet: &Fleet, scope: &Scope) -> Result<(), Failure> {
    if let Some(environment) = &scope.environment {
        if !fleet.environments.iter().any(|e| &e.name == environment) {
            let known: Vec<_> = fleet.environments.iter().map(|e| e.name.as_str()).collect();
            return Err(Failure::usage(format!(
                "no environment `{environment}`; there are: {}",
                known.join(", ")
            )));
        }
    }
    if let Some(cluster) = &scope.cluster {
        let found = fleet.clusters.iter().any(|c| {
            &c.name == cluster
                && scope
                    .environment
                    .as_ref()
                    .is_none_or(|e| e == &fleet.environments[c.environment].name)
        });
        if !found {
            return Err(Failure::usage(format!(
                "no cluster `{cluster}` in the selected environments"
            )));
        }
    }
    Ok(())
}
