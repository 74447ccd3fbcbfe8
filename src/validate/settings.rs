//! `workergen.yaml`: the EULA, the output folder, the GitOps engine's settings.

use std::path::Path;

use crate::decl::Engine;
use crate::diagnostic::{Diagnostic, Report};
use crate::model::{Fleet, Settings};
use crate::names::{dns_suggestion, is_dns_label, is_dns_subdomain};
use crate::source::Loc;

pub(crate) fn check(fleet: &Fleet, report: &mut Report) {
    let settings = &fleet.settings;
    let Some(file) = settings.file else {
        return;
    };
    let top = Loc::new(file, 1, 1);
    // Where a setting was written: its own line, not the top of the file,
    // so the caret points at what to change.
    let at = |path: &[&str]| settings.loc_of(path).unwrap_or(top);
    if !settings.accept_eula.value {
        report.push(
            Diagnostic::error(
                settings.accept_eula.loc.unwrap_or(top),
                "the Octopus customer agreement is not accepted: `acceptEula: true` is required",
            )
            .with_hint("read https://octopus.com/company/customer-agreement and, if you agree, set `acceptEula: true` in workergen.yaml"),
        );
    }
    check_output(settings, top, report);
    if settings.engine.value == Engine::Argocd {
        check_argocd(settings, top, report);
    }
    for (namespace, path) in [
        (&settings.argocd.namespace, ["gitops", "argocd", "namespace"]),
        (&settings.flux.namespace, ["gitops", "flux", "namespace"]),
    ] {
        if !is_dns_label(namespace) {
            report.push(
                Diagnostic::error(
                    at(&path),
                    format!("`{}: {namespace}` is not a valid namespace name", path.join(".")),
                )
                .with_hint(format!(
                    "namespaces are DNS-1123 labels, e.g. `{}`",
                    dns_suggestion(namespace)
                )),
            );
        }
    }
    check_label_prefix(settings, top, report);
    if settings.engine.value == Engine::Flux {
        let kinds = ["GitRepository", "OCIRepository", "Bucket"];
        if !kinds.contains(&settings.flux.source_kind.as_str()) {
            report.push(
                Diagnostic::error(
                    at(&["gitops", "flux", "sourceRef", "kind"]),
                    format!(
                        "`gitops.flux.sourceRef.kind: {}` is not a Flux source kind",
                        settings.flux.source_kind
                    ),
                )
                .with_hint("one of `GitRepository` (what `flux bootstrap` makes), `OCIRepository` or `Bucket`"),
            );
        }
        if !is_dns_subdomain(&settings.flux.source_name) {
            report.push(
                Diagnostic::error(
                    at(&["gitops", "flux", "sourceRef", "name"]),
                    format!(
                        "`gitops.flux.sourceRef.name: {}` is not a Kubernetes name",
                        settings.flux.source_name
                    ),
                )
                .with_hint(
                    "the name of the Flux source of this repository in `gitops.flux.namespace`, e.g. `flux-system`",
                ),
            );
        }
    }
    if !super::duration::is_flux_duration(&settings.flux.interval) {
        report.push(
            Diagnostic::error(
                at(&["gitops", "flux", "interval"]),
                format!("`gitops.flux.interval: {}` is not a duration", settings.flux.interval),
            )
            .with_hint("write it as Flux does, e.g. `10m`, `1h` or `1h30m`"),
        );
    }
}

/// `labelPrefix`: a label key prefix (a DNS subdomain) that Kubernetes does not reserve.
fn check_label_prefix(settings: &Settings, top: Loc, report: &mut Report) {
    let prefix = &settings.label_prefix;
    let loc = prefix.loc.unwrap_or(top);
    let value = prefix.value.as_str();
    let reserved = ["kubernetes.io", "k8s.io"]
        .iter()
        .any(|domain| value == *domain || value.ends_with(&format!(".{domain}")));
    if !is_dns_subdomain(value) {
        report.push(
            Diagnostic::error(loc, format!("`labelPrefix: {value}` is not a label key prefix")).with_hint(
                "a label prefix is a DNS subdomain: lowercase letters, digits, `-` and `.`, e.g. `workers.example.com`",
            ),
        );
    } else if reserved {
        report.push(
            Diagnostic::error(loc, format!("`labelPrefix: {value}` is reserved for Kubernetes")).with_hint(
                "use a domain of your own organisation, e.g. `workers.example.com`, or leave it out for `workergen`",
            ),
        );
    }
}

/// The folders of the config repository that hold input: output there would mix with it.
const INPUT_FOLDERS: &[&str] = &["environments", "templates", "schemas"];

fn check_output(settings: &Settings, top: Loc, report: &mut Report) {
    let output = &settings.output.value;
    let at = settings.output.loc.unwrap_or(top);
    let safe = !output.is_empty()
        && !output.starts_with('/')
        && output
            .split('/')
            .all(|part| !part.is_empty() && part != ".." && part != "." && part != ".git");
    if !safe {
        report.push(
            Diagnostic::error(
                at,
                format!("`output: {output}` must be a relative folder inside the repository"),
            )
            .with_hint("use a plain folder name such as `rendered`"),
        );
        return;
    }
    let first = output.split('/').next().unwrap_or_default();
    if INPUT_FOLDERS.contains(&first) {
        report.push(
            Diagnostic::error(at, format!("`output: {output}` is inside `{first}/`, which workergen reads"))
                .with_hint("workergen owns its output folder and deletes what it no longer renders: use a folder of its own such as `rendered`"),
        );
    }
}

fn check_argocd(settings: &Settings, top: Loc, report: &mut Report) {
    let at = |path: &[&str]| settings.loc_of(path).unwrap_or(top);
    match settings.argocd.repo_url.as_deref() {
        None => report.push(
            Diagnostic::error(
                settings.engine.loc.unwrap_or(top),
                "engine `argocd` needs `gitops.argocd.repoURL`, the Git repository Argo CD reads `values.yaml` from",
            )
            .with_hint("set `gitops.argocd.repoURL` to this repository's clone URL"),
        ),
        Some(url) if crate::validate::url_has_credentials(url, true) => report.push(crate::validate::url_with_credentials(
            at(&["gitops", "argocd", "repoURL"]),
            "gitops.argocd.repoURL",
            url,
        )),
        Some(url) if !is_git_url(url) => report.push(
            Diagnostic::error(
                at(&["gitops", "argocd", "repoURL"]),
                format!("`gitops.argocd.repoURL: {url}` is not a Git repository URL"),
            )
            .with_hint("this repository's clone URL, e.g. `https://git.example.com/platform/workers.git` or `git@git.example.com:platform/workers.git`"),
        ),
        Some(_) => {}
    }
    if settings.argocd.project.trim().is_empty() {
        report.push(
            Diagnostic::error(at(&["gitops", "argocd", "project"]), "`gitops.argocd.project` is empty")
                .with_hint("the Argo CD project of the Applications; `default` if you have none"),
        );
    }
    if settings.argocd.target_revision.trim().is_empty() {
        report.push(
            Diagnostic::error(
                at(&["gitops", "argocd", "targetRevision"]),
                "`gitops.argocd.targetRevision` is empty",
            )
            .with_hint("the branch Argo CD reads, e.g. `main`, or leave it out for `HEAD`"),
        );
    }
}

/// A URL Argo CD can clone: `https://`, `http://`, `ssh://`, `git://` with a host, or
/// the scp-like `user@host:path`.
fn is_git_url(url: &str) -> bool {
    if url.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let with_scheme = ["https://", "http://", "ssh://", "git://", "git+ssh://"]
        .iter()
        .find_map(|scheme| url.strip_prefix(scheme));
    match with_scheme {
        Some(rest) => {
            let host = rest.split('/').next().unwrap_or_default();
            let host = host.rsplit('@').next().unwrap_or_default();
            !host.is_empty() && !host.starts_with(':')
        }
        None => url.split_once('@').is_some_and(|(user, rest)| {
            !user.is_empty()
                && !user.contains('/')
                && rest
                    .split_once(':')
                    .is_some_and(|(host, path)| !host.is_empty() && !path.is_empty())
        }),
    }
}

/// The output folder, when it is (or passes through) a symlink: it must stay inside
/// the repository at `root`, or render would write outside it.
pub(crate) fn check_output_link(root: &Path, fleet: &Fleet, report: &mut Report) {
    let settings = &fleet.settings;
    let Some(file) = settings.file else {
        return;
    };
    let Ok(repository) = root.canonicalize() else {
        return;
    };
    let mut path = root.to_path_buf();
    for part in settings.output.value.split('/').filter(|part| !part.is_empty()) {
        path.push(part);
        let is_link = std::fs::symlink_metadata(&path).is_ok_and(|meta| meta.file_type().is_symlink());
        if !is_link {
            continue;
        }
        let inside = path.canonicalize().is_ok_and(|target| target.starts_with(&repository));
        if !inside {
            let target = std::fs::read_link(&path)
                .map(|target| target.display().to_string())
                .unwrap_or_default();
            report.push(
                Diagnostic::error(
                    settings.output.loc.unwrap_or(Loc::new(file, 1, 1)),
                    format!(
                        "`output: {}` is a symlink to `{target}`, outside the repository",
                        settings.output.value
                    ),
                )
                .with_hint("workergen writes only inside the repository: remove the symlink or point `output` at a real folder"),
            );
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_urls() {
        for good in [
            "https://git.example.com/platform/workers.git",
            "ssh://git@git.example.com/platform/workers.git",
            "git@github.com:platform/workers.git",
            "http://localhost:3000/a",
        ] {
            assert!(is_git_url(good), "{good}");
        }
        for bad in [
            "",
            "workers.git",
            "https://",
            "git.example.com/platform",
            "https://a b",
            "git@:x",
            "ftp://x/y",
        ] {
            assert!(!is_git_url(bad), "{bad}");
        }
    }
}
