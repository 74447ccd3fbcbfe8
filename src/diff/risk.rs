//! The Octopus facts a reviewer needs, in plain words: what a change does to the agent.
//!
//! The notes depend on the engine: under Flux the chart is a real Helm release with
//! Helm's hook semantics; under Argo CD there is no release and the chart's pre-install
//! registration hook runs again on every sync.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Change, Status, WorkerDiff, WorkerState};
use crate::decl::Engine;
use crate::quantity::Quantity;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RiskKind {
    /// An install-time-only value changed.
    ReinstallOnly,
    /// The worker is removed.
    Uninstall,
    /// A new agent replaces the old one (namespace or release name changed).
    Replace,
    /// Script pod requests changed.
    Autoscaling,
    /// The chart's major version changed.
    ChartMajor,
    /// A new worker is installed.
    Install,
    /// How a credential Secret is delivered changes (External Secrets or not,
    /// or another store): an existing Secret may be overwritten or stop being refreshed.
    Credentials,
    /// A value of the agent's Deployment that Octopus learns only at registration
    /// changed: the agent restarts, the registered worker keeps the old value.
    Restart,
}

/// Install-time values that are also in the agent's Deployment (the `WorkerPools`
/// environment variable, the credential's `secretKeyRef`): an upgrade restarts the agent.
const POOLS: &str = "agent.worker.initial.workerPools";
const SECRET_NAMES: &[&str] = &[
    "agent.bearerTokenSecretName",
    "agent.serverApiKeySecretName",
    "agent.usernamePasswordSecretName",
];

/// One note for one worker.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Risk {
    pub kind: RiskKind,
    pub message: String,
}

/// Values the agent reads only at its first registration (a later change does not reach
/// the worker registered in Octopus), plus persistence (a PVC's spec cannot change in place).
const INSTALL_TIME: &[&str] = &[
    "agent.worker.initial.workerPools",
    "agent.name",
    "agent.space",
    "agent.machinePolicyName",
    "agent.bearerTokenSecretName",
    "agent.serverApiKeySecretName",
    "agent.usernamePasswordSecretName",
    "agent.certificate",
    "agent.serverSubscriptionId",
];

fn is_install_time(path: &str) -> bool {
    path.starts_with("persistence.")
        || path == "persistence"
        || INSTALL_TIME
            .iter()
            .any(|value| path == *value || path.starts_with(&format!("{value}.")))
}

/// The notes for one worker's change.
///
/// `cluster_retired`: the worker's cluster file is gone from the head.
pub fn notes(
    status: Status,
    before: Option<&WorkerState>,
    after: Option<&WorkerState>,
    changes: &[Change],
    cluster_retired: bool,
) -> Vec<Risk> {
    let engine = after.or(before).map_or(Engine::Flux, |state| state.engine);
    let mut notes = Vec::new();
    match status {
        Status::Added => notes.push(Risk {
            kind: RiskKind::Install,
            // An install adopted with `workergen import` runs under the same release name
            // and namespace. helm-controller (Flux 2.4 and later) adopts a Helm release
            // it finds in storage and upgrades it; Argo CD keeps no Helm release, takes
            // the objects over and runs the chart's registration hook at every sync.
            message: match engine {
                Engine::Argocd => "installs a new agent, which registers a new worker in Octopus (an install adopted with `workergen import` has its objects taken over by the Application)",
                _ => "installs a new agent, which registers a new worker in Octopus (an install adopted with `workergen import` is upgraded in place as the same Helm release and keeps its registration)",
            }
            .into(),
        }),
        Status::Removed => notes.push(Risk {
            kind: RiskKind::Uninstall,
            message: removed_note(engine, before, cluster_retired),
        }),
        Status::Changed => changed_notes(engine, before, after, changes, &mut notes),
    }
    if let (Status::Removed, Some(namespace)) = (status, before.and_then(|state| state.objects.get("namespace.yaml"))) {
        let name = namespace
            .get_path(["metadata", "name"])
            .and_then(crate::yaml::Node::scalar_text);
        notes.push(Risk {
            kind: RiskKind::Uninstall,
            message: format!(
                "its Namespace `{}` and the Secrets in it stay (workergen marks Namespaces never to be pruned): delete them by hand when they are no longer needed",
                name.unwrap_or_default()
            ),
        });
    }
    notes.sort();
    notes.dedup();
    notes
}

/// What the engine does with a removed worker, and what stays behind.
fn removed_note(engine: Engine, before: Option<&WorkerState>, cluster_retired: bool) -> String {
    let Some(before) = before else {
        return String::new();
    };
    let parent = crate::names::parent_name(&before.environment, &before.cluster);
    let manifest = before.manifest.as_ref().map(|(_, node)| node);
    let field = |path: [&str; 2]| {
        manifest
            .and_then(|node| node.get_path(path))
            .and_then(crate::yaml::Node::scalar_text)
            .unwrap_or_default()
    };
    let registered =
        "the worker stays registered in Octopus until `workergen status --prune` (or the Octopus UI) deletes it";
    if cluster_retired && engine != Engine::None {
        return format!(
            "its cluster file is deleted while its folder still installs it: `workergen render` refuses that; remove the workers (or set `installed: false`) in one change, so the parent `{parent}` uninstalls them, and delete the file in a later one"
        );
    }
    match engine {
        Engine::Argocd => format!(
            "uninstalls the agent: the parent Application `{parent}` prunes the Application `{}`, whose resources finalizer deletes the agent's objects; {registered}",
            field(["metadata", "name"])
        ),
        Engine::Flux => format!(
            "uninstalls the agent: the Flux Kustomization `{parent}` prunes the HelmRelease `{}/{}`, and helm-controller uninstalls the release; {registered}",
            field(["metadata", "namespace"]),
            field(["metadata", "name"])
        ),
        Engine::None => format!(
            "deletes the worker's values file; with engine `none`, whatever installed the release must uninstall it; {registered}"
        ),
    }
}

fn changed_notes(
    engine: Engine,
    before: Option<&WorkerState>,
    after: Option<&WorkerState>,
    changes: &[Change],
    notes: &mut Vec<Risk>,
) {
    let install_time: Vec<&str> = changes
        .iter()
        .filter(|change| change.object == "values" && is_install_time(&change.path))
        .map(|change| change.path.as_str())
        .collect();
    let (persistence, registration): (Vec<&str>, Vec<&str>) = install_time
        .into_iter()
        .partition(|path| path.starts_with("persistence"));
    let list = |paths: &[&str]| {
        paths
            .iter()
            .map(|path| format!("`{path}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (restarts, registration): (Vec<&str>, Vec<&str>) = registration
        .into_iter()
        .partition(|path| path.starts_with(POOLS) || SECRET_NAMES.contains(path));
    restart_notes(&restarts, notes);
    if !registration.is_empty() {
        let paths = list(&registration);
        let message = match engine {
            Engine::Argocd => format!(
                "{paths}: read only when the agent first registers; Argo CD reruns the registration hook at this sync, but an agent that is already registered keeps its old registration: check the worker in Octopus, or reinstall"
            ),
            _ => format!("{paths}: no effect on an upgrade; takes effect only on reinstall"),
        };
        notes.push(Risk {
            kind: RiskKind::ReinstallOnly,
            message,
        });
    }
    if !persistence.is_empty() {
        notes.push(Risk {
            kind: RiskKind::ReinstallOnly,
            message: format!(
                "{}: a PersistentVolumeClaim cannot change in place, so the upgrade fails on it (a larger size works only where the storage class allows expansion); takes effect only on reinstall",
                list(&persistence)
            ),
        });
    }
    if let (Some(before), Some(after)) = (before, after) {
        // A side read back from rendered files may not know them (engine `none` renders
        // only values): unknown is not a change.
        if let (Some(old), Some(new)) = (&before.namespace, &after.namespace) {
            if old != new {
                notes.push(Risk {
                    kind: RiskKind::Replace,
                    message: format!("namespace `{old}` -> `{new}`: installs a new agent in `{new}` and removes the old one; the Namespace `{old}` and the Secrets in it stay (workergen marks Namespaces never to be pruned): delete them by hand when they are no longer needed"),
                });
            }
        }
        let major = |version: &str| version.split('.').next().map(str::to_string);
        if let (Some(old), Some(new)) = (&before.chart_version, &after.chart_version) {
            if major(old) != major(new) {
                notes.push(Risk {
                    kind: RiskKind::ChartMajor,
                    message: format!("chart {old} -> {new}: a new major version; review the chart's migration notes"),
                });
            }
        }
        autoscaling(before, after, notes);
        credentials(before, after, notes);
    }
}

/// The notes for changed install-time values that the agent's Deployment also holds:
/// the upgrade restarts the agent, and Octopus does not learn the new value.
fn restart_notes(paths: &[&str], notes: &mut Vec<Risk>) {
    let listed = |wanted: &dyn Fn(&str) -> bool| {
        paths
            .iter()
            .filter(|path| wanted(path))
            .map(|path| format!("`{path}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let pools = listed(&|path| path.starts_with(POOLS));
    if !pools.is_empty() {
        notes.push(Risk {
            kind: RiskKind::Restart,
            message: format!("{pools}: the agent restarts (its Deployment's `WorkerPools` changes), but the worker registered in Octopus keeps its pools: run `workergen status --apply` after the sync to move it"),
        });
    }
    let secrets = listed(&|path| SECRET_NAMES.contains(&path));
    if !secrets.is_empty() {
        notes.push(Risk {
            kind: RiskKind::Restart,
            message: format!("{secrets}: the agent restarts and reads its credential from the newly named Secret, which must exist in its namespace first (else its pod fails with `CreateContainerConfigError`); the registration in Octopus stays"),
        });
    }
}

/// What an ExternalSecret says about its Secret: (Secret name, namespace, store, remote keys).
fn delivery(object: &crate::yaml::Node) -> (String, String, String, String) {
    let text = |path: &[&str]| {
        object
            .get_path(path.iter().copied())
            .and_then(crate::yaml::Node::scalar_text)
    };
    let store = format!(
        "{} `{}`",
        text(&["spec", "secretStoreRef", "kind"]).unwrap_or_default(),
        text(&["spec", "secretStoreRef", "name"]).unwrap_or_default()
    );
    let keys = match object.get_path(["spec", "data"]).map(|data| &data.value) {
        Some(crate::yaml::Value::Seq(items)) => items
            .iter()
            .filter_map(|item| {
                let key = item.get_path(["remoteRef", "key"])?.scalar_text()?;
                let property = item
                    .get_path(["remoteRef", "property"])
                    .and_then(crate::yaml::Node::scalar_text);
                Some(match property {
                    Some(property) => format!("`{key}` ({property})"),
                    None => format!("`{key}`"),
                })
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    };
    (
        text(&["spec", "target", "name"]).unwrap_or_default(),
        text(&["metadata", "namespace"]).unwrap_or_default(),
        store,
        keys,
    )
}

/// Delivery of a credential Secret turned on or off, or read from another store or key.
/// Remote keys are places in the store, never secret values (workergen has none).
fn credentials(before: &WorkerState, after: &WorkerState, notes: &mut Vec<Risk>) {
    for file in ["externalsecret-auth.yaml", "externalsecret-certificate.yaml"] {
        let message = match (before.objects.get(file), after.objects.get(file)) {
            (None, Some(new)) => {
                let (secret, namespace, store, keys) = delivery(new);
                format!(
                    "External Secrets now delivers Secret `{secret}` in `{namespace}` from {store} ({keys}): an existing Secret of that name is overwritten with the store's values, so check the store holds the right credential before this merges"
                )
            }
            (Some(old), None) => {
                let (secret, namespace, ..) = delivery(old);
                format!(
                    "Secret `{secret}` in `{namespace}` is no longer delivered by External Secrets: its ExternalSecret is removed, the Secret stays as it is (creationPolicy `Orphan`) and is no longer refreshed from the store"
                )
            }
            (Some(old), Some(new)) => {
                let (secret, _, old_store, old_keys) = delivery(old);
                let (_, _, new_store, new_keys) = delivery(new);
                if (&old_store, &old_keys) == (&new_store, &new_keys) {
                    continue;
                }
                format!(
                    "Secret `{secret}` is read from {new_store} ({new_keys}) instead of {old_store} ({old_keys}): External Secrets rewrites it at its next refresh; the agent reads its credential only when it registers, so a different credential reaches Octopus only on reinstall"
                )
            }
            (None, None) => continue,
        };
        notes.push(Risk {
            kind: RiskKind::Credentials,
            message,
        });
    }
}

fn request(state: &WorkerState, resource: &str) -> Option<Quantity> {
    Quantity::parse(&super::value_at(
        state,
        &["scriptPods", "resources", "requests", resource],
    )?)
    .ok()
}

fn autoscaling(before: &WorkerState, after: &WorkerState, notes: &mut Vec<Risk>) {
    for resource in ["cpu", "memory"] {
        let (Some(old), Some(new)) = (request(before, resource), request(after, resource)) else {
            continue;
        };
        let text =
            |state| super::value_at(state, &["scriptPods", "resources", "requests", resource]).unwrap_or_default();
        let message = if new > old {
            format!(
                "script pod {resource} request raised {} -> {}: each deployment step reserves more, so the cluster autoscaler adds nodes earlier and script pods may stay pending longer while it does",
                text(before),
                text(after)
            )
        } else if new < old {
            format!(
                "script pod {resource} request lowered {} -> {}: if it is below what steps really use, nodes fill up without the autoscaler adding any, and steps are throttled or evicted",
                text(before),
                text(after)
            )
        } else {
            continue;
        };
        notes.push(Risk {
            kind: RiskKind::Autoscaling,
            message,
        });
    }
}

/// Marks a removed and an added worker of the same cluster with the same pools as a
/// rename: a new release name installs a new agent and removes the old one.
pub fn renames(workers: &mut [WorkerDiff], base: &BTreeMap<String, WorkerState>, head: &BTreeMap<String, WorkerState>) {
    let pools = |state: &WorkerState| {
        state
            .values
            .get_path(["agent", "worker", "initial", "workerPools"])
            .and_then(|node| serde_json::to_string(node).ok())
    };
    let removed: Vec<(String, String, Option<String>)> = workers
        .iter()
        .filter(|worker| worker.status == Status::Removed)
        .filter_map(|worker| base.get(&worker.id))
        .map(|state| {
            (
                format!("{}/{}", state.environment, state.cluster),
                state.name.clone(),
                pools(state),
            )
        })
        .collect();
    let mut used = vec![false; removed.len()];
    for worker in workers.iter_mut().filter(|worker| worker.status == Status::Added) {
        let Some(state) = head.get(&worker.id) else { continue };
        let cluster = format!("{}/{}", state.environment, state.cluster);
        // Each removed worker is the source of one rename at most.
        let renamed_from = removed
            .iter()
            .enumerate()
            .find(|(index, (other_cluster, _, other_pools))| {
                !used[*index] && *other_cluster == cluster && *other_pools == pools(state)
            });
        if let Some((index, (_, old_name, _))) = renamed_from {
            used[index] = true;
            worker.risks.push(Risk {
                kind: RiskKind::Replace,
                message: format!(
                    "looks like a rename of `{old_name}`: a new release name installs a new agent (a new worker in Octopus) and removes the old one"
                ),
            });
            worker.risks.sort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_time_values() {
        assert!(is_install_time("agent.worker.initial.workerPools"));
        assert!(is_install_time("persistence.size"));
        assert!(is_install_time("agent.name"));
        assert!(!is_install_time("agent.nameOverride"));
        assert!(!is_install_time("scriptPods.resources.requests.cpu"));
    }
}
