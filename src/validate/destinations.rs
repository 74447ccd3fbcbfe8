//! What cluster files that deploy to one destination cluster share, and the names
//! that must stay apart across environments: each destination's folder of parents,
//! the parents' names, and the Argo CD Application names (all in one namespace).

use rustc_hash::FxHashMap as HashMap;

use crate::decl::Engine;
use crate::diagnostic::{Diagnostic, Report};
use crate::model::{Cluster, Destination, Fleet};
use crate::names::{application_name, cluster_application_name, parent_name};
use crate::render::parents::destination_folder;
use crate::source::Loc;

use super::names::{destination_key, MAX_APPLICATION_NAME};

pub(crate) fn check(fleet: &Fleet, report: &mut Report) {
    if fleet.settings.engine.value == Engine::None {
        return;
    }
    check_folders(fleet, report);
    for cluster in &fleet.clusters {
        let environment = &fleet.environments[cluster.environment].name;
        let name = parent_name(environment, &cluster.name);
        if name.len() > MAX_APPLICATION_NAME {
            let what = match fleet.settings.engine.value {
                Engine::Argocd => "Argo CD Application",
                _ => "Flux Kustomization",
            };
            report.push(
                Diagnostic::error(
                    Loc::new(cluster.file, 1, 1),
                    format!(
                        "the cluster file's parent {what} `{name}` is {} characters long; at most {MAX_APPLICATION_NAME} are allowed",
                        name.len()
                    ),
                )
                .with_hint("the parent is named `<env>.<cluster>`, and the engine labels what it applies with that name (label values fit 63 characters): shorten the cluster (or environment) name"),
            );
        }
    }
    if fleet.settings.engine.value == Engine::Argocd {
        check_cluster_applications(fleet, report);
    }
}

/// Where a cluster's destination is written, or the top of its file.
fn destination_loc(cluster: &Cluster) -> Loc {
    cluster
        .destination_node
        .as_ref()
        .map_or(cluster.destination_loc, |node| node.loc)
}

/// Each destination gets a folder of its own under `_flux/`: two destinations spelt
/// differently must not end in one folder, or one would own the other's parents.
fn check_folders(fleet: &Fleet, report: &mut Report) {
    let mut seen: HashMap<String, (&Cluster, String)> = HashMap::default();
    for cluster in &fleet.clusters {
        let Some(destination @ (Destination::Server(written) | Destination::Name(written))) = &cluster.destination
        else {
            continue;
        };
        if written.trim().is_empty() {
            // An empty `name` or `server` is reported as such.
            continue;
        }
        let key = destination_key(destination);
        let folder = destination_folder(cluster);
        if folder.is_empty() {
            report.push(
                Diagnostic::error(destination_loc(cluster), "the destination gives no folder name")
                    .with_hint("the parents of a destination are written to `_flux/<destination>/`, named after its `name` or its server's host: use letters or digits in it"),
            );
            continue;
        }
        match seen.get(&folder) {
            Some((first, first_key)) if *first_key != key => report.push(
                Diagnostic::error(
                    destination_loc(cluster),
                    format!(
                        "this destination and the one of `{}` differ but would share the folder `{}/{folder}`",
                        fleet.sources.path(first.file),
                        crate::render::parents::FLUX_FOLDER
                    ),
                )
                .with_related(destination_loc(first), "the other one is here")
                .with_hint("name the same cluster the same way in both files (the same `server` URL, or the same `name`), or give different clusters names that differ in letters or digits"),
            ),
            Some(_) => {}
            None => {
                seen.insert(folder, (cluster, key));
            }
        }
    }
}

/// Argo CD keeps every Application in one namespace: a cluster's own Application
/// (`<env>-<cluster>--cluster`) must be no other cluster's and no worker's, in any
/// environment (`a-b`/`c` and `a`/`b-c` both make `a-b-c--cluster`).
fn check_cluster_applications(fleet: &Fleet, report: &mut Report) {
    let mut taken: HashMap<String, (Loc, String)> = HashMap::default();
    for worker in fleet.workers.iter().filter(|worker| worker.installed) {
        let cluster = fleet.cluster_of(worker);
        let environment = &fleet.environments[cluster.environment].name;
        let name = application_name(environment, &cluster.name, &worker.name);
        taken
            .entry(name)
            .or_insert_with(|| (worker.name_loc, format!("worker `{}`", fleet.worker_id(worker))));
    }
    let with_workers: rustc_hash::FxHashSet<usize> = fleet
        .workers
        .iter()
        .filter(|worker| worker.installed)
        .map(|worker| worker.cluster)
        .collect();
    let clusters = fleet
        .clusters
        .iter()
        .enumerate()
        .filter(|(index, _)| with_workers.contains(index));
    for (_, cluster) in clusters {
        let environment = &fleet.environments[cluster.environment].name;
        let name = cluster_application_name(environment, &cluster.name);
        let here = Loc::new(cluster.file, 1, 1);
        let id = format!("cluster `{environment}/{}`", cluster.name);
        match taken.get(&name) {
            // A worker of the same cluster file is reported by the cluster's own check.
            Some((loc, _)) if loc.file == cluster.file => {}
            Some((loc, other)) => report.push(
                Diagnostic::error(
                    here,
                    format!("the Argo CD Application name `{name}` is generated for both {id} and {other}"),
                )
                .with_related(*loc, "the other one is here")
                .with_hint("Argo CD keeps all Applications in one namespace, and `<env>-<cluster>` joins names with `-`: rename the cluster file (or environment) so they differ"),
            ),
            None => {
                taken.insert(name, (here, id));
            }
        }
    }
}
