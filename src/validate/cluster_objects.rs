//! What each cluster gets besides its workers, so it deploys from Git alone:
//! `secrets.externalSecret`, the chart's CRD and, under Argo CD, the cluster's own
//! Application.
//!
//! `remoteRefs` must name exactly the Secret keys the environment's credential kind
//! needs: a missing one leaves the worker without its credential at its next pod start,
//! an extra one is a mistake about which credential is in use.

use std::collections::HashSet;

use crate::decl::{Engine, RemoteRefSpec};
use crate::diagnostic::{did_you_mean, Diagnostic, Report};
use crate::model::{Cluster, ExternalSecret, Fleet, Worker};
use crate::names::{application_name, cluster_application_name, is_dns_subdomain};
use crate::source::Loc;
use crate::yaml::Node;

use super::names::MAX_APPLICATION_NAME;

/// The store kinds ESO has.
const STORE_KINDS: [&str; 2] = ["ClusterSecretStore", "SecretStore"];

/// A remote reference: its key under `remoteRefs`, the Secret key it fills, and the
/// `octopus` field that makes it needed.
struct Needed {
    reference: &'static str,
    secret_key: &'static str,
    because: &'static str,
}

/// Checks every cluster with enabled workers.
pub(crate) fn check(fleet: &Fleet, report: &mut Report) {
    let mut by_cluster: Vec<Vec<&Worker>> = vec![Vec::new(); fleet.clusters.len()];
    for worker in fleet.workers.iter().filter(|worker| worker.installed) {
        by_cluster[worker.cluster].push(worker);
    }
    let applications: HashSet<String> = match fleet.settings.engine.value {
        Engine::Argocd => fleet
            .workers
            .iter()
            .filter(|worker| worker.installed)
            .map(|worker| {
                let cluster = fleet.cluster_of(worker);
                application_name(
                    &fleet.environments[cluster.environment].name,
                    &cluster.name,
                    &worker.name,
                )
            })
            .collect(),
        _ => HashSet::new(),
    };
    // One warning per chart version written somewhere, naming every cluster it reaches
    // (it was one per cluster, the same line over and over).
    let mut without_crd: Vec<(&crate::model::Located<String>, Vec<&Cluster>)> = Vec::new();
    for (cluster, workers) in fleet.clusters.iter().zip(&by_cluster) {
        let newest = crate::crds::newest(workers.iter().map(|worker| worker.chart.version.value.as_str()));
        let Some(worker) = workers
            .iter()
            .find(|worker| Some(worker.chart.version.value.as_str()) == newest)
        else {
            continue;
        };
        if lacks_crd(&worker.chart.version.value) {
            match without_crd.iter_mut().find(|(version, _)| {
                version.value == worker.chart.version.value && version.loc == worker.chart.version.loc
            }) {
                Some((_, clusters)) => clusters.push(cluster),
                None => without_crd.push((&worker.chart.version, vec![cluster])),
            }
        }
        if fleet.settings.engine.value == Engine::Argocd {
            check_application_name(fleet, cluster, &applications, report);
        }
        if let Some(external_secret) = &cluster.external_secret {
            check_external_secret(cluster, external_secret, report);
        }
    }
    for (version, clusters) in without_crd {
        check_crd(fleet, version, &clusters, report);
    }
}

/// Whether workergen has no copy of the CRD of chart `version` (an invalid version, or a
/// major without a reference chart, is an error already).
fn lacks_crd(version: &str) -> bool {
    let known_major = version.split('.').next().and_then(|major| major.parse().ok());
    !crate::crds::for_chart(version).exact
        && crate::version::is_semver(version)
        && known_major.and_then(crate::chart_values::reference).is_some()
}

/// Warns once that workergen has no copy of the CRD of chart `version`, the newest of
/// each of `clusters`; engine `none` renders no CRD, so it is not warned about.
fn check_crd(fleet: &Fleet, version: &crate::model::Located<String>, clusters: &[&Cluster], report: &mut Report) {
    if fleet.settings.engine.value == Engine::None {
        return;
    }
    let crd = crate::crds::for_chart(&version.value);
    let at = version.loc.unwrap_or_else(|| Loc::new(clusters[0].file, 1, 1));
    let names: Vec<String> = clusters
        .iter()
        .map(|cluster| format!("`{}/{}`", fleet.environments[cluster.environment].name, cluster.name))
        .collect();
    report.push(
        Diagnostic::warning(
            at,
            format!(
                "workergen has no copy of the CRD `{}` of chart {}: {} {} {} the CRD of chart {}",
                crate::crds::NAME,
                version.value,
                if names.len() == 1 { "cluster" } else { "clusters" },
                names.join(", "),
                if names.len() == 1 { "gets" } else { "get" },
                crd.version
            ),
        )
        .with_hint("the newest CRD workergen has that is not newer than the chart is used (else the oldest); upgrade workergen for the chart's own CRD"),
    );
}

/// The cluster's own Application (`<env>-<cluster>--cluster`) fits 63 characters and
/// is no worker's Application name (`<env>-<cluster>-<worker>` with a worker `x--cluster`).
fn check_application_name(fleet: &Fleet, cluster: &Cluster, workers: &HashSet<String>, report: &mut Report) {
    let name = cluster_application_name(&fleet.environments[cluster.environment].name, &cluster.name);
    if workers.contains(&name) {
        report.push(
            Diagnostic::error(
                Loc::new(cluster.file, 1, 1),
                format!("the cluster's Argo CD Application name `{name}` is also a worker's Application name"),
            )
            .with_hint("a worker's Application is `<env>-<cluster>-<worker>`: rename the worker whose name ends in `--cluster`"),
        );
    }
    if name.len() > MAX_APPLICATION_NAME {
        report.push(
            Diagnostic::error(
                Loc::new(cluster.file, 1, 1),
                format!(
                    "the cluster's Argo CD Application name `{name}` is {} characters long; at most {MAX_APPLICATION_NAME} are allowed",
                    name.len()
                ),
            )
            .with_hint("the Application that deploys the cluster's Namespaces, Secrets and CRD is named `<env>-<cluster>--cluster`: shorten the cluster (or environment) name"),
        );
    }
}

fn check_external_secret(cluster: &Cluster, external_secret: &ExternalSecret, report: &mut Report) {
    let node = &external_secret.node;
    let spec = &external_secret.spec;
    check_store_ref(node, spec.store_ref.as_ref(), report);
    if let Some(interval) = &spec.refresh_interval {
        if !super::duration::is_go_duration(interval) {
            let at = node.get("refreshInterval").map_or(node.loc, |found| found.loc);
            report.push(
                Diagnostic::error(at, format!("`refreshInterval: {interval}` is not a duration"))
                    .with_hint("write a duration as ESO reads it, such as `1h`, `15m` or `1h30m`"),
            );
        }
    }
    let Some(needed) = needed_refs(cluster) else {
        // No single credential kind: reported with `octopus.auth`.
        return;
    };
    let refs = node.as_map().and_then(|map| map.get_entry("remoteRefs"));
    let Some((refs_key, refs_node)) = refs.filter(|(_, refs)| !refs.is_null()) else {
        let list = needed
            .iter()
            .map(|need| format!("`{}: {{ key: ... }}`", need.reference))
            .collect::<Vec<_>>()
            .join(", ");
        report.push(
            Diagnostic::error(node.loc, "`secrets.externalSecret` has no `remoteRefs`").with_hint(format!(
                "add `remoteRefs:` with {list}: where the store keeps each credential"
            )),
        );
        return;
    };
    check_refs(cluster, (refs_key.loc, refs_node), &needed, report);
}

fn check_store_ref(node: &Node, store_ref: Option<&crate::decl::StoreRefSpec>, report: &mut Report) {
    let Some(store_ref) = store_ref else {
        report.push(
            Diagnostic::error(node.loc, "`secrets.externalSecret` has no `storeRef`")
                .with_hint("add `storeRef: { kind: ClusterSecretStore, name: <your store> }`: the External Secrets store to read the credentials from"),
        );
        return;
    };
    let store_node = node.get("storeRef").unwrap_or(node);
    match store_ref.kind.as_deref() {
        None => report.push(
            Diagnostic::error(store_node.loc, "`storeRef` has no `kind`")
                .with_hint("add `kind: ClusterSecretStore` (one store for the cluster) or `kind: SecretStore` (a store in each worker's namespace)"),
        ),
        Some(kind) if !STORE_KINDS.contains(&kind) => {
            let at = store_node.get("kind").map_or(store_node.loc, |found| found.loc);
            let hint = did_you_mean(kind, STORE_KINDS)
                .map(|close| format!("did you mean `{close}`?"))
                .unwrap_or_else(|| "the kind is `ClusterSecretStore` or `SecretStore`".to_string());
            report.push(Diagnostic::error(at, format!("unknown store kind `{kind}`")).with_hint(hint));
        }
        Some(_) => {}
    }
    match store_ref.name.as_deref() {
        None => report.push(
            Diagnostic::error(store_node.loc, "`storeRef` has no `name`")
                .with_hint("add `name:` with the name of the store"),
        ),
        Some(name) if !is_dns_subdomain(name) => {
            let at = store_node.get("name").map_or(store_node.loc, |found| found.loc);
            report.push(
                Diagnostic::error(at, format!("store name `{name}` is not a valid Kubernetes name")).with_hint(
                    format!(
                        "a store name is a DNS-1123 subdomain: lowercase letters, digits, `-` and `.`, such as `{}`",
                        crate::names::dns_suggestion(name)
                    ),
                ),
            );
        }
        Some(_) => {}
    }
}

/// The remote references the cluster's credential kind needs (its own `octopus:` over the
/// environment's), or `None` when it has not exactly one kind.
fn needed_refs(cluster: &Cluster) -> Option<Vec<Needed>> {
    let octopus = &cluster.octopus;
    let auth = octopus.auth.as_ref()?;
    let kinds = [
        auth.bearer_token_secret.is_some(),
        auth.api_key_secret.is_some(),
        auth.username_password_secret.is_some(),
    ];
    if kinds.iter().filter(|set| **set).count() != 1 {
        return None;
    }
    let need = |reference, secret_key, because| Needed {
        reference,
        secret_key,
        because,
    };
    let mut needed = if kinds[0] {
        vec![need("bearerToken", "bearer-token", "octopus.auth.bearerTokenSecret")]
    } else if kinds[1] {
        vec![need("apiKey", "api-key", "octopus.auth.apiKeySecret")]
    } else {
        vec![
            need("username", "username", "octopus.auth.usernamePasswordSecret"),
            need("password", "password", "octopus.auth.usernamePasswordSecret"),
        ]
    };
    if octopus.server_certificate_secret.is_some() {
        needed.push(need(
            "serverCertificate",
            "octopus-server-certificate.pem",
            "octopus.serverCertificateSecret",
        ));
    }
    Some(needed)
}

/// The references `remoteRefs` can hold (`decl::RemoteRefsSpec`); another key is reported
/// as unknown (or as a plaintext credential) where it is typed.
const REFERENCES: [&str; 5] = ["bearerToken", "apiKey", "username", "password", "serverCertificate"];

/// Every needed reference present with a `key`, and no other. `refs` is where the
/// `remoteRefs` key stands, and its value.
fn check_refs(cluster: &Cluster, refs: (Loc, &Node), needed: &[Needed], report: &mut Report) {
    let (refs_at, refs) = refs;
    let Some(map) = refs.as_map() else {
        return;
    };
    let octopus = &cluster.octopus_node;
    let set_at = |field: &str| {
        octopus
            .get_path(field.trim_start_matches("octopus.").split('.'))
            .map_or(octopus.loc, |found| found.loc)
    };
    for need in needed {
        match map.get_entry(need.reference) {
            None => report.push(
                Diagnostic::error(refs_at, format!("`remoteRefs` has no `{}`", need.reference))
                    .with_related(set_at(need.because), format!("`{}` is set here", need.because))
                    .with_hint(format!(
                        "`{}` names a Secret with the key `{}`: add `{}: {{ key: <its key in the store> }}`",
                        need.because, need.secret_key, need.reference
                    )),
            ),
            Some((key, value)) => check_ref(key.loc, need.reference, value, report),
        }
    }
    let auth_at = octopus.get("auth").map_or(octopus.loc, |auth| auth.loc);
    for (key, _) in map.entries() {
        if needed.iter().any(|need| need.reference == key.name) || !REFERENCES.contains(&key.name.as_str()) {
            continue;
        }
        let (kind, hint, related) = match key.name.as_str() {
            "serverCertificate" => (
                "`octopus.serverCertificateSecret` is not set".to_string(),
                "remove it, or set `octopus.serverCertificateSecret` to the Secret the agent reads its server's CA from".to_string(),
                (octopus.loc, "the environment's `octopus` block is here"),
            ),
            _ => (
                format!("the workers authenticate with `{}`", needed[0].because),
                format!(
                    "remove it: `{}` needs {}",
                    needed[0].because,
                    needed
                        .iter()
                        .filter(|need| need.because == needed[0].because)
                        .map(|need| format!("`{}`", need.reference))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
                (auth_at, "`octopus.auth` is here"),
            ),
        };
        report.push(
            Diagnostic::error(key.loc, format!("`remoteRefs.{}` is not used: {kind}", key.name))
                .with_related(related.0, related.1)
                .with_hint(hint),
        );
    }
}

/// A reference has a non-empty `key`.
fn check_ref(at: Loc, reference: &str, node: &Node, report: &mut Report) {
    let mut ignored = Vec::new();
    let spec: Option<RemoteRefSpec> = crate::yaml::from_node_partial(node, &mut ignored);
    let key = spec.and_then(|spec| spec.key);
    if key.as_deref().is_none_or(|key| key.trim().is_empty()) {
        let at = node.get("key").map_or(at, |found| found.loc);
        report.push(
            Diagnostic::error(at, format!("`remoteRefs.{reference}` has no `key`")).with_hint(
                "give the key (path) of the value in the secret store, e.g. `{ key: octopus/production/worker-token }`",
            ),
        );
    }
}
