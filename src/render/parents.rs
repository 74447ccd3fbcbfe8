//! The parents: what Flux or Argo CD must hold so that every worker of every cluster
//! file is installed, and pruned when Git no longer declares it.
//!
//! - Flux runs in each destination cluster. `_flux/<destination>/` holds, per
//!   destination, one `Kustomization` per cluster file deployed there (`prune: true`,
//!   applying `<env>/<cluster>/`), and what those cluster files share in that cluster:
//!   the chart's `OCIRepository` per version and the chart's CRD. The user's one-time
//!   setup is one `Kustomization` per Flux cluster that applies that folder.
//! - Argo CD holds every Application in its own namespace. `_argocd/` holds one parent
//!   Application per cluster file (`prune: true`, `allowEmpty: true`, the resources
//!   finalizer), holding that file's Applications, and the `AppProject` they run in.
//!   The user's one-time setup is one Application per Argo CD instance that applies
//!   that folder.
//!
//! A retired cluster file's parent leaves its folder, so the engine deletes the parent
//! and, through its finalizer (Argo CD) or its inventory (Flux), what it installed.
//! What is shared in a destination has exactly one owner there: its folder under
//! `_flux/` (Flux), or the `_cluster` Application of the first cluster file that
//! deploys workers there (Argo CD, for the CRD).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::cluster_objects::kustomization;
use super::model::Document;
use super::native::{list, map_of as map, text};
use super::{cluster_labels, marker, object_node, Context, TemplateError, Templates};
use crate::crds::{self, Crd};
use crate::decl::Engine;
use crate::model::{Cluster, Destination, Fleet, Worker};
use crate::names;
use crate::source::FileId;
use crate::yaml::{Node, Value};

/// The folder of the Flux parents, one subfolder per destination cluster.
pub(crate) const FLUX_FOLDER: &str = "_flux";

/// The folder of the Argo CD parents and the `AppProject`.
pub(crate) const ARGOCD_FOLDER: &str = "_argocd";

/// The Argo CD cluster itself, where the parents put the Applications they hold.
const IN_CLUSTER: &str = "https://kubernetes.default.svc";

/// The cluster-scoped kinds the chart and workergen's own objects create: the workers'
/// Namespaces, the chart's CRD, the auto-upgrader's and script pods' ClusterRoles and
/// ClusterRoleBinding, and the PersistentVolume of the chart's (deprecated) NFS storage.
const CLUSTER_KINDS: [(&str, &str); 5] = [
    ("", "Namespace"),
    ("", "PersistentVolume"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
];

/// Where each cluster file deploys and what its destination shares, for the whole fleet.
#[derive(Debug, Default)]
pub(crate) struct Plan<'f> {
    /// The first installed worker of each cluster, by cluster index: a cluster's
    /// workers share its chart, so it speaks for them.
    first: Vec<Option<&'f Worker>>,
    /// Each cluster's destination folder, by cluster index.
    destinations: Vec<String>,
    /// The clusters of each destination, in fleet order (environment, then cluster).
    clusters: BTreeMap<String, Vec<usize>>,
    /// The newest chart CRD among each destination's installed workers.
    crds: BTreeMap<String, Crd>,
    /// The first cluster of each destination with installed workers.
    owners: BTreeMap<String, usize>,
}

impl<'f> Plan<'f> {
    pub(crate) fn of(fleet: &'f Fleet) -> Self {
        let destinations: Vec<String> = fleet.clusters.iter().map(destination_folder).collect();
        let mut clusters: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (index, folder) in destinations.iter().enumerate() {
            clusters.entry(folder.clone()).or_default().push(index);
        }
        let first = first_workers(fleet);
        let mut versions: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        let mut owners = BTreeMap::new();
        for (index, worker) in first.iter().enumerate() {
            let Some(worker) = worker else { continue };
            let folder = destinations[index].as_str();
            versions
                .entry(folder)
                .or_default()
                .insert(worker.chart.version.value.as_str());
            // Clusters come in fleet order: the first with workers owns the destination.
            owners.entry(folder.to_string()).or_insert(index);
        }
        let crds = versions
            .into_iter()
            .filter_map(|(folder, versions)| Some((folder.to_string(), crds::for_chart(crds::newest(versions)?))))
            .collect();
        Self {
            first,
            destinations,
            clusters,
            crds,
            owners,
        }
    }

    /// The destination folder of cluster `index`.
    pub(crate) fn destination(&self, index: usize) -> &str {
        &self.destinations[index]
    }

    /// The CRD the cluster's own objects deploy under Argo CD: its destination's, when
    /// the cluster is that destination's owner.
    pub(crate) fn owned_crd(&self, index: usize) -> Option<Crd> {
        let folder = self.destination(index);
        (self.owners.get(folder) == Some(&index))
            .then(|| self.crds.get(folder).copied())
            .flatten()
    }

    /// The CRDs the destinations of `folders` deploy (each written once under `_crds/`).
    pub(crate) fn crds_of<'a>(&'a self, folders: impl IntoIterator<Item = &'a str>) -> Vec<Crd> {
        folders
            .into_iter()
            .filter_map(|folder| self.crds.get(folder).copied())
            .collect()
    }
}

/// The folder a cluster file's destination gets under `_flux/`.
pub(crate) fn destination_folder(cluster: &Cluster) -> String {
    match &cluster.destination {
        Some(Destination::Server(server)) => names::destination_folder(Some(server), None),
        Some(Destination::Name(name)) => names::destination_folder(None, Some(name)),
        None => names::destination_folder(None, Some(&cluster.name)),
    }
}

/// The parents' files for the destinations in `touched` (Flux), or the whole `_argocd/`
/// folder (Argo CD), relative to the output folder.
pub(crate) fn files(
    fleet: &Fleet,
    templates: &Templates,
    plan: &Plan,
    touched: &BTreeSet<&str>,
) -> Result<Vec<Document>, TemplateError> {
    match fleet.settings.engine.value {
        Engine::Flux => {
            let touched: Vec<&str> = touched.iter().copied().collect();
            // One destination per task, as the clusters are rendered.
            let per_destination: Vec<Vec<Document>> = touched
                .par_iter()
                .map(|folder| flux_destination(fleet, templates, plan, folder))
                .collect::<Result<_, _>>()?;
            Ok(per_destination.into_iter().flatten().collect())
        }
        Engine::Argocd => Ok(argocd(fleet, plan)),
        Engine::None => Ok(Vec::new()),
    }
}

/// The first installed worker of each cluster, by cluster index.
fn first_workers(fleet: &Fleet) -> Vec<Option<&Worker>> {
    let mut first = vec![None; fleet.clusters.len()];
    for worker in fleet.workers.iter().filter(|worker| worker.installed) {
        first[worker.cluster].get_or_insert(worker);
    }
    first
}

/// `_flux/<destination>/`: its kustomization, the chart sources and the CRD its cluster
/// files share, and one `Kustomization` per cluster file.
fn flux_destination(
    fleet: &Fleet,
    templates: &Templates,
    plan: &Plan,
    folder: &str,
) -> Result<Vec<Document>, TemplateError> {
    let root = PathBuf::from(FLUX_FOLDER).join(folder);
    let clusters = plan.clusters.get(folder).map(Vec::as_slice).unwrap_or_default();
    let mut files = Vec::new();
    let mut resources = Vec::new();
    if let Some(crd) = plan.crds.get(folder) {
        resources.push(format!("../../{}/{}", crds::FOLDER, crd.version));
    }
    let mut sources = BTreeSet::new();
    for index in clusters {
        let cluster = &fleet.clusters[*index];
        let Some(worker) = plan.first[*index] else {
            continue;
        };
        let name = names::oci_repository_name(&worker.chart.name.value, &worker.chart.version.value);
        if !sources.insert(name.clone()) {
            continue;
        }
        let mut source_files = cluster_files(fleet, cluster);
        for source in [&worker.chart.repository, &worker.chart.name, &worker.chart.version] {
            source_files.extend(source.loc.map(|loc| loc.file));
        }
        let context: Context = super::context(fleet, cluster, worker, false);
        let node = object_node(templates, "ocirepository.yaml.j2", &context)?;
        let file = format!("ocirepository-{name}.yaml");
        files.push(Document::tree(root.join(&file), node, source_files));
        resources.push(file);
    }
    let mut all_files = BTreeSet::new();
    for index in clusters {
        let cluster = &fleet.clusters[*index];
        let environment = fleet.environments[cluster.environment].name.as_str();
        let own_files = cluster_files(fleet, cluster);
        let file = format!("{environment}/{}.yaml", cluster.name);
        let node = flux_kustomization(fleet, environment, cluster);
        all_files.extend(own_files.iter().copied());
        files.push(Document::tree(root.join(&file), node, own_files));
        resources.push(file);
    }
    let text = kustomization(&marker(fleet, &all_files), &resources);
    files.push(Document::text(root.join("kustomization.yaml"), text));
    Ok(files)
}

/// The cluster file and `workergen.yaml`.
fn cluster_files(fleet: &Fleet, cluster: &Cluster) -> BTreeSet<FileId> {
    let mut files = BTreeSet::from([cluster.file]);
    files.extend(fleet.settings.file);
    files
}

/// The path of a cluster file's folder as the engines read it, from the repository root.
fn cluster_path(fleet: &Fleet, environment: &str, cluster: &Cluster) -> String {
    format!("{}/{environment}/{}", fleet.settings.output.value, cluster.name)
}

fn boolean(value: bool) -> Node {
    Node::generated(Value::Bool(value))
}

fn labels(fleet: &Fleet, environment: Option<&str>, cluster: Option<&str>) -> Node {
    let labels = match (environment, cluster) {
        (Some(environment), Some(cluster)) => cluster_labels(fleet, environment, cluster),
        _ => BTreeMap::from([
            ("app.kubernetes.io/managed-by", "workergen"),
            ("app.kubernetes.io/part-of", super::PART_OF),
        ]),
    };
    map(labels.into_iter().map(|(name, value)| (name, text(value))))
}

/// A cluster file's Flux `Kustomization`: applies its folder and prunes what left it;
/// deleted (its cluster file retired), it prunes everything it applied.
fn flux_kustomization(fleet: &Fleet, environment: &str, cluster: &Cluster) -> Node {
    let flux = &fleet.settings.flux;
    map([
        ("apiVersion", text("kustomize.toolkit.fluxcd.io/v1")),
        ("kind", text("Kustomization")),
        (
            "metadata",
            map([
                ("name", text(&names::parent_name(environment, &cluster.name))),
                ("namespace", text(&flux.namespace)),
                ("labels", labels(fleet, Some(environment), Some(&cluster.name))),
            ]),
        ),
        (
            "spec",
            map([
                ("interval", text(&flux.interval)),
                (
                    "path",
                    text(&format!("./{}", cluster_path(fleet, environment, cluster))),
                ),
                ("prune", boolean(true)),
                // Ready only when every HelmRelease is: a failing worker shows on its parent.
                ("wait", boolean(true)),
                ("timeout", text("10m")),
                ("retryInterval", text("2m")),
                (
                    "sourceRef",
                    map([("kind", text(&flux.source_kind)), ("name", text(&flux.source_name))]),
                ),
            ]),
        ),
    ])
}

/// `_argocd/`: the `AppProject` (unless the project is Argo CD's `default`) and one
/// parent Application per cluster file.
fn argocd(fleet: &Fleet, plan: &Plan) -> Vec<Document> {
    let root = PathBuf::from(ARGOCD_FOLDER);
    let settings_files: BTreeSet<FileId> = fleet.settings.file.into_iter().collect();
    // Every cluster file decides what the root folder lists.
    let mut all = settings_files.clone();
    all.extend(fleet.clusters.iter().map(|cluster| cluster.file));
    let whole = marker(fleet, &all);
    let mut files = Vec::new();
    let mut resources = Vec::new();
    if fleet.settings.argocd.project != "default" {
        files.push(Document::tree(
            root.join("appproject.yaml"),
            app_project(fleet, plan),
            all.clone(),
        ));
        resources.push("appproject.yaml".to_string());
    }
    for cluster in &fleet.clusters {
        let environment = fleet.environments[cluster.environment].name.as_str();
        let file = format!("{environment}/{}.yaml", cluster.name);
        let mut own = settings_files.clone();
        own.insert(cluster.file);
        let node = argocd_parent(fleet, environment, cluster);
        files.push(Document::tree(root.join(&file), node, own));
        resources.push(file);
    }
    files.push(Document::text(
        root.join("kustomization.yaml"),
        kustomization(&whole, &resources),
    ));
    files
}

/// The sync policy of the parents: prune what left Git, also the last Application.
fn parent_sync_policy() -> Node {
    map([(
        "automated",
        map([
            ("prune", boolean(true)),
            ("selfHeal", boolean(true)),
            ("allowEmpty", boolean(true)),
        ]),
    )])
}

/// A cluster file's parent Application: holds its Applications in the Argo CD
/// namespace; deleted (its cluster file retired), its finalizer deletes them, and
/// theirs what they installed.
fn argocd_parent(fleet: &Fleet, environment: &str, cluster: &Cluster) -> Node {
    let argocd = &fleet.settings.argocd;
    map([
        ("apiVersion", text("argoproj.io/v1alpha1")),
        ("kind", text("Application")),
        (
            "metadata",
            map([
                ("name", text(&names::parent_name(environment, &cluster.name))),
                ("namespace", text(&argocd.namespace)),
                ("labels", labels(fleet, Some(environment), Some(&cluster.name))),
                ("finalizers", list(vec![text("resources-finalizer.argocd.argoproj.io")])),
            ]),
        ),
        (
            "spec",
            map([
                ("project", text(&argocd.project)),
                (
                    "source",
                    map([
                        ("repoURL", text(argocd.repo_url.as_deref().unwrap_or_default())),
                        ("targetRevision", text(&argocd.target_revision)),
                        ("path", text(&cluster_path(fleet, environment, cluster))),
                    ]),
                ),
                (
                    "destination",
                    map([("server", text(IN_CLUSTER)), ("namespace", text(&argocd.namespace))]),
                ),
                ("syncPolicy", parent_sync_policy()),
            ]),
        ),
    ])
}

/// The `AppProject` the Applications run in: the Git repository and the chart
/// registries as sources; the Argo CD namespace and every destination cluster as
/// destinations; exactly the cluster-scoped kinds the chart and workergen's objects need.
fn app_project(fleet: &Fleet, plan: &Plan) -> Node {
    let argocd = &fleet.settings.argocd;
    let mut sources: BTreeSet<String> = argocd.repo_url.iter().cloned().collect();
    for worker in fleet.workers.iter().filter(|worker| worker.installed) {
        let repository = worker.chart.repository.value.trim_end_matches('/');
        sources.insert(repository.strip_prefix("oci://").unwrap_or(repository).to_string());
    }
    let mut destinations = vec![map([
        ("server", text(IN_CLUSTER)),
        ("namespace", text(&argocd.namespace)),
    ])];
    let mut seen = BTreeSet::new();
    for (folder, clusters) in &plan.clusters {
        let Some(cluster) = clusters.first().map(|index| &fleet.clusters[*index]) else {
            continue;
        };
        if !seen.insert(folder) {
            continue;
        }
        let (key, value) = match &cluster.destination {
            Some(Destination::Server(server)) => ("server", server.as_str()),
            Some(Destination::Name(name)) => ("name", name.as_str()),
            None => continue,
        };
        destinations.push(map([(key, text(value)), ("namespace", text("*"))]));
    }
    let kinds = CLUSTER_KINDS
        .iter()
        .map(|(group, kind)| map([("group", text(group)), ("kind", text(kind))]))
        .collect();
    map([
        ("apiVersion", text("argoproj.io/v1alpha1")),
        ("kind", text("AppProject")),
        (
            "metadata",
            map([
                ("name", text(&argocd.project)),
                ("namespace", text(&argocd.namespace)),
                ("labels", labels(fleet, None, None)),
            ]),
        ),
        (
            "spec",
            map([
                (
                    "description",
                    text("Octopus Deploy Kubernetes workers, rendered by workergen"),
                ),
                ("sourceRepos", list(sources.iter().map(|source| text(source)).collect())),
                ("destinations", list(destinations)),
                ("clusterResourceWhitelist", list(kinds)),
            ]),
        ),
    ])
}

/// The folders the parents of `touched` destinations are written in (for a scoped render).
pub(crate) fn scope(engine: Engine, touched: &BTreeSet<&str>) -> Vec<PathBuf> {
    match engine {
        Engine::Flux => touched
            .iter()
            .map(|folder| Path::new(FLUX_FOLDER).join(folder))
            .collect(),
        Engine::Argocd => vec![PathBuf::from(ARGOCD_FOLDER)],
        Engine::None => Vec::new(),
    }
}
