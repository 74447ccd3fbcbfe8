//! `workergen.yaml`: the EULA, the output folder, the GitOps engine's settings.

use crate::decl::Engine;
use crate::diagnostic::{Diagnostic, Report};
use crate::model::Fleet;
use crate::source::Loc;
use crate::validate::is_dns_label;

pub fn check(fleet: &Fleet, report: &mut Report) {
    let settings = &fleet.settings;
    let Some(file) = settings.file else {
        return;
    };
    let top = Loc::new(file, 1, 1);
    if !settings.accept_eula.value {
        report.push(
            Diagnostic::error(
                settings.accept_eula.loc.unwrap_or(top),
                "the Octopus customer agreement is not accepted: `acceptEula: true` is required",
            )
            .with_hint("read https://octopus.com/company/customer-agreement and, if you agree, set `acceptEula: true` in workergen.yaml"),
        );
    }
    let output = &settings.output.value;
    let safe = !output.is_empty()
        && !output.starts_with('/')
        && output
            .split('/')
            .all(|part| !part.is_empty() && part != ".." && part != "." && part != ".git");
    if !safe {
        report.push(
            Diagnostic::error(
                settings.output.loc.unwrap_or(top),
                format!("`output: {output}` must be a relative folder inside the repository"),
            )
            .with_hint("use a plain folder name such as `rendered`"),
        );
    }
    if settings.engine.value == Engine::Argocd && settings.argocd.repo_url.is_none() {
        report.push(
            Diagnostic::error(
                settings.engine.loc.unwrap_or(top),
                "engine `argocd` needs `gitops.argocd.repoURL`, the Git repository Argo CD reads `values.yaml` from",
            )
            .with_hint("set `gitops.argocd.repoURL` to this repository's clone URL"),
        );
    }
    for (namespace, what) in [
        (&settings.argocd.namespace, "gitops.argocd.namespace"),
        (&settings.flux.namespace, "gitops.flux.namespace"),
    ] {
        if !is_dns_label(namespace) {
            report.push(Diagnostic::error(
                top,
                format!("`{what}: {namespace}` is not a valid namespace name"),
            ));
        }
    }
    if !is_flux_duration(&settings.flux.interval) {
        report.push(
            Diagnostic::error(
                top,
                format!("`gitops.flux.interval: {}` is not a duration", settings.flux.interval),
            )
            .with_hint("write it as Flux does, e.g. `10m`, `1h` or `1h30m`"),
        );
    }
}

/// Flux's duration pattern: `^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`.
fn is_flux_duration(text: &str) -> bool {
    let mut rest = text;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let number = &rest[..digits];
        let valid_number = match number.split_once('.') {
            Some((whole, fraction)) => !whole.is_empty() && !fraction.is_empty() && !fraction.contains('.'),
            None => !number.is_empty(),
        };
        if !valid_number {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ms", "s", "m", "h"].into_iter().find(|unit| rest.starts_with(unit));
        match unit {
            Some(unit) => rest = &rest[unit.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flux_durations() {
        for good in ["10m", "1h30m", "1.5h", "500ms", "30s"] {
            assert!(is_flux_duration(good), "{good}");
        }
        for bad in ["", "10", "m", "10 m", "1d", "1..5h"] {
            assert!(!is_flux_duration(bad), "{bad}");
        }
    }
}
