//! One worker's own rules: name, pools, chart, quantities, images, `values`.

use crate::chart;
use crate::decl::ImageSpec;
use crate::diagnostic::Diagnostic;
use crate::model::{Fleet, Worker};
use crate::names::{dns_suggestion, is_dns_label};
use crate::quantity::Quantity;
use crate::yaml::{Node, Value};

/// The longest worker name: the default namespace `octopus-agent-<worker>` must fit 63.
pub(crate) const MAX_WORKER_NAME: usize = 49;

pub(crate) fn check(fleet: &Fleet, worker: &Worker) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    check_name(worker, &mut diagnostics);
    check_namespace_reserved(fleet, worker, &mut diagnostics);
    check_fields(worker, &mut diagnostics);
    check_log_level(worker, &mut diagnostics);
    check_values_secret_names(worker, &mut diagnostics);
    check_proxies(worker, &mut diagnostics);
    super::kubernetes::check(worker, &mut diagnostics);
    check_duplicate_pools(worker, &mut diagnostics);
    check_chart(worker, &mut diagnostics);
    check_quantities(worker, &mut diagnostics);
    check_images(worker, &mut diagnostics);
    chart::check_values(fleet, worker, &mut diagnostics);
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

/// Namespaces an agent must not be installed in: Kubernetes' own, and the GitOps
/// controllers' (a worker's script pods get `*/*/*` in their namespace). `default` is
/// allowed: it is an ordinary namespace, only a poor habit.
const RESERVED_NAMESPACES: &[&str] = &["kube-system", "kube-public", "kube-node-lease", "flux-system", "argocd"];

fn check_namespace_reserved(fleet: &Fleet, worker: &Worker, diagnostics: &mut Vec<Diagnostic>) {
    let namespace = worker.namespace.value.as_str();
    let settings = &fleet.settings;
    let gitops = [settings.flux.namespace.as_str(), settings.argocd.namespace.as_str()];
    if RESERVED_NAMESPACES.contains(&namespace) || gitops.contains(&namespace) {
        diagnostics.push(
            Diagnostic::error(
                worker.namespace.loc.unwrap_or(worker.name_loc),
                format!("namespace `{namespace}` is reserved for the cluster or its GitOps controller"),
            )
            .with_hint(format!(
                "the agent's script pods may do anything in its namespace: give the worker its own, e.g. the default `octopus-agent-{}`",
                worker.name
            )),
        );
    }
}

/// The log levels the agent (Tentacle, which logs through NLog) knows, compared
/// case-insensitively as NLog does; the chart passes `agent.logLevel` on unchecked.
const LOG_LEVELS: &[&str] = &["Trace", "Debug", "Info", "Warn", "Error", "Fatal", "Off"];

fn check_log_level(worker: &Worker, diagnostics: &mut Vec<Diagnostic>) {
    for path in [&["logLevel"][..], &["values", "agent", "logLevel"][..]] {
        let Some(node) = worker.fields.get_path(path.iter().copied()) else {
            continue;
        };
        let Some(level) = node.as_str() else {
            continue;
        };
        if !LOG_LEVELS.iter().any(|known| known.eq_ignore_ascii_case(level)) {
            diagnostics.push(
                Diagnostic::error(
                    node.loc,
                    format!("`{}: {level}` is not a log level the agent knows", path.join(".")),
                )
                .with_hint(format!(
                    "one of {}",
                    LOG_LEVELS
                        .iter()
                        .map(|level| format!("`{level}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
        }
    }
}

/// Secret names given through `values` are Kubernetes object names too.
fn check_values_secret_names(worker: &Worker, diagnostics: &mut Vec<Diagnostic>) {
    for path in [
        &["values", "agent", "bearerTokenSecretName"][..],
        &["values", "agent", "serverApiKeySecretName"][..],
        &["values", "agent", "usernamePasswordSecretName"][..],
        &["values", "agent", "serverCertificateSecretName"][..],
        &["values", "global", "serverCertificateSecretName"][..],
    ] {
        let Some(node) = worker.fields.get_path(path.iter().copied()) else {
            continue;
        };
        // `""` is the chart's own "not set".
        let Some(name) = node.as_str().filter(|name| !name.is_empty()) else {
            continue;
        };
        if !crate::names::is_dns_subdomain(name) {
            diagnostics.push(crate::validate::invalid_secret_name(node.loc, &path.join("."), name));
        } else if crate::validate::yaml_reads_unquoted_as_non_string(name) {
            diagnostics.push(crate::validate::unquoted_secret_name(node.loc, &path.join("."), name));
        }
    }
}

/// Proxy URLs, typed or through `values`, carry no credential: the chart writes them
/// into the script pods' environment, and workergen into committed files.
fn check_proxies(worker: &Worker, diagnostics: &mut Vec<Diagnostic>) {
    for path in [
        &["scriptPods", "proxies", "http"][..],
        &["scriptPods", "proxies", "https"][..],
        &["values", "scriptPods", "proxies", "http_proxy"][..],
        &["values", "scriptPods", "proxies", "https_proxy"][..],
    ] {
        let Some(node) = worker.fields.get_path(path.iter().copied()) else {
            continue;
        };
        if let Some(url) = node
            .as_str()
            .filter(|url| crate::validate::url_has_credentials(url, false))
        {
            diagnostics.push(crate::validate::url_with_credentials(node.loc, &path.join("."), url));
        }
    }
}

/// The same pool twice in one `workerPools` list (Octopus matches names case-insensitively),
/// and a pool with a comma, which the chart's comma-joined `WorkerPools` would split.
fn check_duplicate_pools(worker: &Worker, diagnostics: &mut Vec<Diagnostic>) {
    for path in [
        &["workerPools"][..],
        &["values", "agent", "worker", "initial", "workerPools"][..],
    ] {
        let Some(Value::Seq(items)) = worker.fields.get_path(path.iter().copied()).map(|node| &node.value) else {
            continue;
        };
        let mut seen: Vec<(String, &Node)> = Vec::new();
        for item in items {
            let Some(text) = item.scalar_text() else {
                continue;
            };
            if text.contains(',') {
                diagnostics.push(
                    Diagnostic::error(
                        item.loc,
                        format!("pool `{}` in `{}` has a comma", text.trim(), path.join(".")),
                    )
                    .with_hint("the chart passes the pools to the agent comma-joined (`WorkerPools`), so Octopus would read two pools: name the pool without a comma, or by its slug or ID"),
                );
            }
            let key = text.trim().to_lowercase();
            if let Some((_, first)) = seen.iter().find(|(name, _)| *name == key) {
                diagnostics.push(
                    Diagnostic::error(
                        item.loc,
                        format!("pool `{}` is listed twice in `{}`", text.trim(), path.join(".")),
                    )
                    .with_related(first.loc, "first listed here")
                    .with_hint("list each worker pool once"),
                );
            } else {
                seen.push((key, item));
            }
        }
    }
}

fn check_fields(worker: &Worker, diagnostics: &mut Vec<Diagnostic>) {
    let spec = &worker.spec;
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
        Some(pools) if pools.iter().any(|pool| pool.trim().is_empty()) => {
            // The empty item itself, not the list that holds it.
            let list = worker.fields.get("workerPools");
            let item = list.and_then(|list| match &list.value {
                crate::yaml::Value::Seq(items) => items
                    .iter()
                    .find(|item| item.as_str().is_none_or(|text| text.trim().is_empty())),
                _ => None,
            });
            diagnostics.push(
                Diagnostic::error(
                    item.map_or_else(|| node_loc(worker, &["workerPools"]), |item| item.loc),
                    "`workerPools` holds an empty pool name",
                )
                .with_hint("remove the empty item, or give the pool's name, slug or ID"),
            );
        }
        Some(_) => {}
    }
    // A machine policy given through `values` counts as one: the chart reads it
    // either way.
    let policy_in_values = worker
        .fields
        .get_path(["values", "agent", "machinePolicyName"])
        .is_some_and(|node| !node.is_null());
    if spec.machine_policy.is_none() && !policy_in_values {
        diagnostics.push(
            Diagnostic::warning(worker.name_loc, format!("worker `{}` has no `machinePolicy`", worker.name))
                .with_hint("Octopus may then upgrade the release behind Git's back: use a machine policy whose machine updates are set to \"Manually\""),
        );
    }
    if worker.display_name.value.trim().is_empty() {
        diagnostics.push(Diagnostic::error(
            node_loc(worker, &["displayName"]),
            "`displayName` is empty",
        ));
    }
    if let Some(modes) = &spec.access_modes {
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
    let without_v = version
        .strip_prefix(['v', 'V'])
        .filter(|rest| crate::version::is_semver(rest));
    if let Some(rest) = without_v {
        // `v2.51.2` is no range: a Git tag's spelling, which chart versions do not use.
        diagnostics.push(
            Diagnostic::error(at, format!("chart version `{version}` starts with `v`"))
                .with_hint(format!("chart versions are SemVer without a `v`: write `{rest}`")),
        );
    } else if !crate::version::looks_exact(version) {
        diagnostics.push(
            Diagnostic::error(at, format!("chart version `{version}` is not an exact version"))
                .with_hint("ranges are refused so renders are reproducible: write e.g. `3.13.2`"),
        );
    } else if !crate::version::is_semver(version) {
        diagnostics.push(
            Diagnostic::error(at, format!("chart version `{version}` is not a valid SemVer version")).with_hint(
                "Helm and OCI registries want SemVer 2.0: numbers without leading zeros, e.g. `3.13.2` (not `03.13.2`)",
            ),
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
    if chart.name.value != crate::model::DEFAULT_CHART_NAME {
        diagnostics.push(
            Diagnostic::error(
                chart.name.loc.unwrap_or(worker.name_loc),
                format!("chart `{}` is not the Octopus Kubernetes agent chart", chart.name.value),
            )
            .with_hint(format!(
                "workergen renders values for `{}` only; a mirror keeps the name, only `repository` changes",
                crate::model::DEFAULT_CHART_NAME
            )),
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

fn check_quantities(worker: &Worker, diagnostics: &mut Vec<Diagnostic>) {
    for owner in ["agent", "scriptPods"] {
        // Requests and limits from the typed fields and from `values`: a typed request
        // above a `values` limit is as wrong as two typed ones, since the chart gets both.
        let typed_prefix = format!("{owner}.resources");
        let values_prefix = format!("values.{owner}.resources");
        let mut requests = Vec::new();
        let mut limits = Vec::new();
        if let Some(resources) = worker.fields.get_path([owner, "resources"]) {
            for (kind, found) in [("requests", &mut requests), ("limits", &mut limits)] {
                let parsed = resources
                    .get(kind)
                    .map(|node| quantities(node, diagnostics))
                    .unwrap_or_default();
                found.extend(
                    parsed
                        .into_iter()
                        .map(|(name, quantity, node)| (name, quantity, node, typed_prefix.as_str())),
                );
            }
        }
        if let Some(resources) = worker.fields.get_path(["values", owner, "resources"]) {
            for (kind, found) in [("requests", &mut requests), ("limits", &mut limits)] {
                let parsed = resources.get(kind).map(quantities_quietly).unwrap_or_default();
                found.extend(
                    parsed
                        .into_iter()
                        .map(|(name, quantity, node)| (name, quantity, node, values_prefix.as_str())),
                );
            }
        }
        for (name, request, request_node, request_prefix) in &requests {
            for (_, limit, limit_node, limit_prefix) in limits.iter().filter(|(limit_name, ..)| limit_name == name) {
                if request > limit {
                    let note = if request_prefix == limit_prefix {
                        "the limit is set here".to_string()
                    } else {
                        format!("the limit, `{limit_prefix}.limits.{name}`, is set here")
                    };
                    diagnostics.push(
                        Diagnostic::error(
                            request_node.loc,
                            format!("`{request_prefix}.requests.{name}` is more than its limit"),
                        )
                        .with_related(limit_node.loc, note)
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

/// The valid quantities of a `values` map; the chart check reports the rest.
fn quantities_quietly(node: &Node) -> Vec<(String, Quantity, &Node)> {
    let Value::Map(map) = &node.value else {
        return Vec::new();
    };
    map.entries()
        .iter()
        .filter_map(|(key, value)| {
            let quantity = Quantity::parse(&value.scalar_text()?).ok()?;
            (!quantity.is_negative()).then(|| (key.name.clone(), quantity, value))
        })
        .collect()
}

fn quantities<'a>(node: &'a Node, diagnostics: &mut Vec<Diagnostic>) -> Vec<(String, Quantity, &'a Node)> {
    let Value::Map(map) = &node.value else {
        return Vec::new();
    };
    map.entries()
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
