//! One worker's own rules: name, pools, chart, quantities, images, `values`.

use crate::chart;
use crate::decl::{ImageSpec, WorkerSpec};
use crate::diagnostic::Diagnostic;
use crate::model::{Fleet, Worker};
use crate::quantity::Quantity;
use crate::validate::{dns_suggestion, is_dns_label};
use crate::yaml::{Node, Value};

/// The longest worker name: the default namespace `octopus-agent-<worker>` must fit 63.
pub const MAX_WORKER_NAME: usize = 49;

pub fn check(fleet: &Fleet, worker: &Worker) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    check_name(worker, &mut diagnostics);
    check_fields(worker, &mut diagnostics);
    check_chart(worker, &mut diagnostics);
    check_quantities(worker, &mut diagnostics);
    check_images(worker, &mut diagnostics);
    if let Some(values) = worker.fields.get("values") {
        if let Some(reference) = worker.chart.major().and_then(chart::reference) {
            chart::check_keys(values, reference, &mut diagnostics);
        }
    }
    chart::values(fleet, worker, &mut diagnostics);
    diagnostics
}

fn check_name(worker: &Worker, diagnostics: &mut Vec<Diagnostic>) {
    let name = &worker.name;
    let name_ok = is_dns_label(name) && name.len() <= MAX_WORKER_NAME;
    if !is_dns_label(name) {
        diagnostics.push(
            Diagnostic::error(worker.name_loc, format!("worker name `{name}` is not a DNS-1123 label")).with_hint(
                format!(
                    "use lowercase letters, digits and `-`, e.g. `{}`; the name is the Helm release name",
                    dns_suggestion(name)
                ),
            ),
        );
    } else if name.len() > MAX_WORKER_NAME {
        diagnostics.push(
            Diagnostic::error(
                worker.name_loc,
                format!(
                    "worker name `{name}` is {} characters long; at most {MAX_WORKER_NAME} are allowed",
                    name.len()
                ),
            )
            .with_hint("the default namespace `octopus-agent-<worker>` must fit in 63 characters"),
        );
    }
    let namespace = &worker.namespace.value;
    // A default namespace is only as good as the name: that error is enough.
    let defaulted = worker.namespace.loc.is_none();
    if !is_dns_label(namespace) && (name_ok || !defaulted) {
        diagnostics.push(
            Diagnostic::error(
                worker.namespace.loc.unwrap_or(worker.name_loc),
                format!("namespace `{namespace}` is not a DNS-1123 label of at most 63 characters"),
            )
            .with_hint(format!("e.g. `{}`", dns_suggestion(namespace))),
        );
    }
}

fn check_fields(worker: &Worker, diagnostics: &mut Vec<Diagnostic>) {
    let spec: &WorkerSpec = &worker.spec;
    match &spec.worker_pools {
        None => diagnostics.push(
            Diagnostic::error(
                worker.name_loc,
                format!("worker `{}` has no `workerPools`", worker.name),
            )
            .with_hint("set `workerPools: [<pool name, slug or ID>]` on the worker or in a `defaults` layer"),
        ),
        Some(pools) if pools.is_empty() => diagnostics.push(
            Diagnostic::error(node_loc(worker, &["workerPools"]), "`workerPools` is empty")
                .with_hint("a worker must join at least one worker pool"),
        ),
        Some(pools) if pools.iter().any(|pool| pool.trim().is_empty()) => diagnostics.push(Diagnostic::error(
            node_loc(worker, &["workerPools"]),
            "`workerPools` holds an empty pool name",
        )),
        Some(_) => {}
    }
    if spec.machine_policy.is_none() {
        diagnostics.push(
            Diagnostic::warning(worker.name_loc, format!("worker `{}` has no `machinePolicy`", worker.name))
                .with_hint("Octopus may then upgrade the release behind Git's back: use a machine policy whose machine updates are set to \"Manually\""),
        );
    }
    if spec.polling_connection_count == Some(0) {
        diagnostics.push(Diagnostic::error(
            node_loc(worker, &["pollingConnectionCount"]),
            "`pollingConnectionCount` must be at least 1",
        ));
    }
    if worker.display_name.value.trim().is_empty() {
        diagnostics.push(Diagnostic::error(
            node_loc(worker, &["displayName"]),
            "`displayName` is empty",
        ));
    }
    if let Some(modes) = spec.storage.as_ref().and_then(|storage| storage.access_modes.as_ref()) {
        const MODES: &[&str] = &["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"];
        for mode in modes.iter().filter(|mode| !MODES.contains(&mode.as_str())) {
            diagnostics.push(
                Diagnostic::error(
                    node_loc(worker, &["storage", "accessModes"]),
                    format!("`{mode}` is not an access mode"),
                )
                .with_hint("one of `ReadWriteOnce`, `ReadOnlyMany`, `ReadWriteMany`, `ReadWriteOncePod`"),
            );
        }
    }
}

/// Where a merged field was written, or the worker's name if it was not.
fn node_loc(worker: &Worker, path: &[&str]) -> crate::source::Loc {
    worker
        .fields
        .get_path(path.iter().copied())
        .map_or(worker.name_loc, |node| node.loc)
}

fn check_chart(worker: &Worker, diagnostics: &mut Vec<Diagnostic>) {
    let chart = &worker.chart;
    let version = &chart.version.value;
    let at = chart.version.loc.unwrap_or(worker.name_loc);
    if !is_exact_version(version) {
        diagnostics.push(
            Diagnostic::error(at, format!("chart version `{version}` is not an exact version"))
                .with_hint("ranges are refused so renders are reproducible: write e.g. `3.13.2`"),
        );
    } else if chart.major().and_then(chart::reference).is_none() {
        diagnostics.push(
            Diagnostic::error(
                at,
                format!("chart version `{version}` is of a major workergen does not know"),
            )
            .with_hint(format!("supported: {}", chart::MAJORS)),
        );
    }
    let repository = &chart.repository.value;
    if !repository.starts_with("oci://") || repository.len() <= "oci://".len() {
        diagnostics.push(
            Diagnostic::error(
                chart.repository.loc.unwrap_or(worker.name_loc),
                format!("chart repository `{repository}` is not an `oci://` registry"),
            )
            .with_hint("the kubernetes-agent chart is published at `oci://registry-1.docker.io/octopusdeploy` (or a mirror of it)"),
        );
    }
}

/// `MAJOR.MINOR.PATCH`, optionally with a `-prerelease` and `+build`: no ranges, no wildcards.
fn is_exact_version(version: &str) -> bool {
    let core = version.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()))
        && version[core.len()..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.'))
}

fn check_quantities(worker: &Worker, diagnostics: &mut Vec<Diagnostic>) {
    for owner in ["agent", "scriptPods"] {
        let Some(resources) = worker.fields.get_path([owner, "resources"]) else {
            continue;
        };
        let requests = resources
            .get("requests")
            .map(|node| quantities(node, diagnostics))
            .unwrap_or_default();
        let limits = resources
            .get("limits")
            .map(|node| quantities(node, diagnostics))
            .unwrap_or_default();
        for (name, request, request_node) in &requests {
            if let Some((_, limit, limit_node)) = limits.iter().find(|(limit_name, ..)| limit_name == name) {
                if request > limit {
                    diagnostics.push(
                        Diagnostic::error(
                            request_node.loc,
                            format!("`{owner}.resources.requests.{name}` is more than its limit"),
                        )
                        .with_related(limit_node.loc, "the limit is set here")
                        .with_hint("Kubernetes refuses a request above its limit"),
                    );
                }
            }
        }
    }
    if let Some(size) = worker.fields.get_path(["storage", "size"]) {
        quantity(size, diagnostics);
    }
}

fn quantities<'a>(node: &'a Node, diagnostics: &mut Vec<Diagnostic>) -> Vec<(String, Quantity, &'a Node)> {
    let Value::Map(map) = &node.value else {
        return Vec::new();
    };
    map.entries
        .iter()
        .filter_map(|(key, value)| Some((key.name.clone(), quantity(value, diagnostics)?, value)))
        .collect()
}

fn quantity(node: &Node, diagnostics: &mut Vec<Diagnostic>) -> Option<Quantity> {
    let text = node.scalar_text()?;
    match Quantity::parse(&text) {
        Ok(quantity) if quantity.is_negative() => {
            diagnostics.push(Diagnostic::error(node.loc, format!("quantity `{text}` is negative")));
            None
        }
        Ok(quantity) => Some(quantity),
        Err(error) => {
            diagnostics.push(Diagnostic::error(node.loc, error.message).with_hint_opt(error.hint));
            None
        }
    }
}

fn check_images(worker: &Worker, diagnostics: &mut Vec<Diagnostic>) {
    for owner in ["agent", "scriptPods"] {
        let Some(image) = worker.fields.get_path([owner, "image"]) else {
            continue;
        };
        if let Value::Str(reference) = &image.value {
            if ImageSpec::split_reference(reference).is_none() {
                diagnostics.push(
                    Diagnostic::error(image.loc, format!("image `{reference}` is not `repository:tag`"))
                        .with_hint("give the tag, e.g. `octopusdeploy/worker-tools:6.5.0-ubuntu.22.04`, or the object form with `repository`, `tag` and `pullPolicy`"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_versions_only() {
        for good in ["3.13.2", "2.51.2", "3.0.0-beta.1", "3.1.0+build.5"] {
            assert!(is_exact_version(good), "{good}");
        }
        for bad in [
            "3",
            "3.13",
            "^3.13.2",
            "~3.13.2",
            "3.*.*",
            "3.x",
            ">=3.0.0",
            "3.13.2 || 3.14.0",
            "",
        ] {
            assert!(!is_exact_version(bad), "{bad}");
        }
    }
}
