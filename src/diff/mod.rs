//! Diff: what a change to the declarations does, per worker and key path, and why.
//!
//! Both sides are rendered in memory; [`compute_with_committed`] compares each worker's Helm values
//! and manifest leaf by leaf (so formatting and key order never show), names the
//! declaration that caused each change from the provenance kept at merge, groups one
//! declaration change that touches many workers, and adds the Octopus facts a reviewer
//! needs ([`risk`]).

pub mod committed;
pub mod json;
pub mod markdown;
pub mod risk;
pub mod text;

use std::borrow::Borrow as _;
use std::collections::{BTreeMap, HashSet};

use rayon::prelude::*;
use serde::Serialize;

use crate::decl::Engine;
use crate::model::{Fleet, Worker};
use crate::render::model::{Body, Document, Output};
use crate::render::templates::{TemplateError, Templates};
use crate::source::{Layer, Loc};
use crate::yaml::{self, Lists, Node, Value};

/// One side of a diff: a resolved fleet and its templates.
pub struct Side<'a> {
    pub label: String,
    pub fleet: &'a Fleet,
    pub templates: &'a Templates,
}

/// What one worker renders to.
#[derive(Debug, Clone)]
pub struct WorkerState {
    pub id: String,
    pub environment: String,
    pub cluster: String,
    pub name: String,
    pub engine: Engine,
    /// The agent's namespace; `None` when the rendered files do not say (engine `none`).
    pub namespace: Option<String>,
    /// The chart version; `None` when the rendered files do not say (engine `none`).
    pub chart_version: Option<String>,
    pub values: Node,
    /// The values file's text (without the marker line), for the unified diff.
    pub values_text: String,
    pub manifest: Option<(&'static str, Node)>,
    /// The worker's Namespace and ExternalSecrets, by file name
    /// (`namespace.yaml`, `externalsecret-auth.yaml`, `externalsecret-certificate.yaml`).
    pub objects: BTreeMap<String, Node>,
    pub values_path: String,
}

/// The object name a change of a worker's own file is reported under.
pub fn object_of_file(file: &str) -> Option<&'static str> {
    match file {
        "namespace.yaml" => Some("namespace"),
        "externalsecret-auth.yaml" => Some("externalsecret-auth"),
        "externalsecret-certificate.yaml" => Some("externalsecret-certificate"),
        _ => None,
    }
}

/// The chart CRD a cluster deploys, changed between base and head: shown once
/// per cluster, not per worker, since one object of the cluster owns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrdChange {
    /// `<env>/<cluster>`.
    pub cluster: String,
    /// The chart version the CRD comes from, before and after.
    pub old: String,
    pub new: String,
}

/// The declaration that set a value: file, line, column and layer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Cause {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub layer: &'static str,
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// One changed leaf of a worker's rendered output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// `values`, `helmrelease` or `application`.
    pub object: &'static str,
    /// The key path, dotted; keys with dots or slashes in brackets.
    pub path: String,
    pub old: Option<serde_json::Value>,
    pub new: Option<serde_json::Value>,
    pub cause: Option<Cause>,
    /// The index of the [`Group`] this change belongs to, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Added,
    Removed,
    Changed,
}

/// What happens to one worker.
#[derive(Debug, Clone, Serialize)]
pub struct WorkerDiff {
    pub id: String,
    pub environment: String,
    pub cluster: String,
    pub name: String,
    pub status: Status,
    pub changes: Vec<Change>,
    pub risks: Vec<risk::Risk>,
    #[serde(skip)]
    pub unified: Option<String>,
}

/// One declaration change seen in many workers.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub cause: Cause,
    pub object: &'static str,
    pub path: String,
    pub old: Option<serde_json::Value>,
    pub new: Option<serde_json::Value>,
    pub workers: Vec<String>,
}

/// The whole diff.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub base: String,
    pub head: String,
    pub workers: Vec<WorkerDiff>,
    pub unchanged: usize,
    pub groups: Vec<Group>,
    /// How many workers of each environment are added, changed, removed and unchanged.
    #[serde(skip)]
    pub per_environment: BTreeMap<String, Counts>,
    /// Workers whose committed `rendered/` files on the head side differ from a fresh
    /// render of its declarations (someone forgot `workergen render`, or edited by hand).
    pub drift: Vec<String>,
    /// Clusters whose chart CRD changes (a chart bump), each once.
    pub crds: Vec<CrdChange>,
}

/// How many workers are added, changed, removed and unchanged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    pub unchanged: usize,
}

impl Counts {
    /// Counts one worker: with the status of its change, or `None` when unchanged.
    pub fn count(&mut self, status: Option<Status>) {
        let counter = match status {
            Some(Status::Added) => &mut self.added,
            Some(Status::Changed) => &mut self.changed,
            Some(Status::Removed) => &mut self.removed,
            None => &mut self.unchanged,
        };
        *counter += 1;
    }
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.workers.is_empty()
    }

    pub fn count(&self, status: Status) -> usize {
        self.workers.iter().filter(|worker| worker.status == status).count()
    }
}

/// An environment and cluster by name.
pub type ClusterKey = (String, String);

fn cluster_key(fleet: &Fleet, worker: &Worker) -> ClusterKey {
    let cluster = fleet.cluster_of(worker);
    (
        fleet.environments[cluster.environment].name.clone(),
        cluster.name.clone(),
    )
}

/// Builds the output of a side, only that of `clusters` when given.
fn output_in(side: &Side<'_>, clusters: Option<&HashSet<ClusterKey>>) -> Result<Output, TemplateError> {
    let fleet = side.fleet;
    crate::render::build_where(
        fleet,
        side.templates,
        &|cluster| {
            clusters.is_none_or(|clusters| {
                clusters.contains(&(
                    fleet.environments[cluster.environment].name.clone(),
                    cluster.name.clone(),
                ))
            })
        },
        false,
    )
}

/// The clusters whose workers can render differently: their cluster file or their
/// environment file differs, or they are on one side only. `None` when anything shared
/// differs (`workergen.yaml`, the templates): then every cluster can.
///
/// A worker's rendering depends only on these files, so the others need no render at
/// all; this is what keeps a one-worker change fast in a fleet of thousands.
pub fn dirty_clusters(base: &Side<'_>, head: &Side<'_>) -> Option<HashSet<ClusterKey>> {
    let text =
        |fleet: &Fleet, file: Option<crate::source::FileId>| file.map(|file| fleet.sources.text(file).to_string());
    if !base.templates.same_as(head.templates)
        || text(base.fleet, base.fleet.settings.file) != text(head.fleet, head.fleet.settings.file)
    {
        return None;
    }
    let inputs = |fleet: &Fleet| -> BTreeMap<ClusterKey, (String, String)> {
        fleet
            .clusters
            .iter()
            .map(|cluster| {
                let environment = &fleet.environments[cluster.environment];
                let key = (environment.name.clone(), cluster.name.clone());
                let texts = (
                    fleet.sources.text(environment.file).to_string(),
                    fleet.sources.text(cluster.file).to_string(),
                );
                (key, texts)
            })
            .collect()
    };
    let (before, after) = (inputs(base.fleet), inputs(head.fleet));
    let mut dirty: HashSet<ClusterKey> = after
        .iter()
        .filter(|(key, texts)| before.get(*key) != Some(*texts))
        .map(|(key, _)| key.clone())
        .collect();
    dirty.extend(before.keys().filter(|key| !after.contains_key(*key)).cloned());
    Some(dirty)
}

/// The worker states of an output, built or read back (`output_name`: the output
/// folder, for the values files' paths). A worker is known by its values.
pub fn states_of(output: Output, output_name: &str) -> BTreeMap<String, WorkerState> {
    let tree = |document: Document| match document.body {
        Body::Tree { node, .. } => Some(node),
        Body::Text(_) => None,
    };
    let mut states = BTreeMap::new();
    for cluster in output.clusters {
        for worker in cluster.workers {
            let id = format!("{}/{}/{}", cluster.environment, cluster.name, worker.name);
            let Some(values) = worker.values.and_then(tree) else {
                continue;
            };
            let manifest = worker
                .manifest
                .and_then(|document| Some((document.manifest_file(), tree(document)?)));
            let engine = output.engine.unwrap_or(match manifest {
                Some(("application.yaml", _)) => Engine::Argocd,
                Some(_) => Engine::Flux,
                None => Engine::None,
            });
            let objects = worker
                .objects
                .into_iter()
                .filter(|document| object_of_file(document.file_name()).is_some())
                .filter_map(|document| Some((document.file_name().to_owned(), tree(document)?)))
                .collect();
            let state = WorkerState {
                values_path: format!("{output_name}/{id}/values.yaml"),
                id: id.clone(),
                environment: cluster.environment.clone(),
                cluster: cluster.name.clone(),
                name: worker.name,
                engine,
                namespace: worker.namespace,
                chart_version: worker.chart_version,
                values_text: yaml::emit(&values),
                values,
                manifest,
                objects,
            };
            states.insert(id, state);
        }
    }
    states
}

/// The chart CRD version of every cluster with enabled workers in `clusters` (all for `None`).
fn cluster_crds(fleet: &Fleet, clusters: Option<&HashSet<ClusterKey>>) -> BTreeMap<ClusterKey, &'static str> {
    let mut by_cluster: BTreeMap<ClusterKey, Vec<&Worker>> = BTreeMap::new();
    for worker in fleet.workers.iter().filter(|worker| worker.installed) {
        let key = cluster_key(fleet, worker);
        if clusters.is_none_or(|clusters| clusters.contains(&key)) {
            by_cluster.entry(key).or_default().push(worker);
        }
    }
    by_cluster
        .into_iter()
        .filter_map(|(key, workers)| {
            let crd = crate::render::cluster_objects::cluster_crd(&workers)?;
            Some((key, crd.version))
        })
        .collect()
}

/// The clusters on both sides whose CRD version differs.
fn crd_changes(base: &Fleet, head: &Fleet, clusters: Option<&HashSet<ClusterKey>>) -> Vec<CrdChange> {
    if head.settings.engine.value == Engine::None {
        return Vec::new();
    }
    let before = cluster_crds(base, clusters);
    cluster_crds(head, clusters)
        .into_iter()
        .filter_map(|(key, new)| {
            let old = before.get(&key)?;
            (*old != new).then(|| CrdChange {
                cluster: format!("{}/{}", key.0, key.1),
                old: (*old).to_string(),
                new: new.to_string(),
            })
        })
        .collect()
}

/// Leaves by path: (JSON value, node). Values files treat a list as one leaf (Helm
/// replaces lists whole); manifests go down into lists (`spec.sources[0].targetRevision`).
/// Keyed by the path as written, so changes list in the order a reader expects.
fn leaves(node: &Node, into_lists: bool) -> BTreeMap<String, (serde_json::Value, &Node)> {
    let lists = if into_lists { Lists::Items } else { Lists::Whole };
    yaml::leaves(node, lists)
        .into_iter()
        .map(|(path, leaf)| {
            let value = serde_json::to_value(leaf).unwrap_or(serde_json::Value::Null);
            (path.to_string(), (value, leaf))
        })
        .collect()
}

/// The declaration that set `node`; `None` for a chart default or a generated node.
pub fn cause(fleet: &Fleet, node: &Node) -> Option<Cause> {
    let loc = node.declared_at()?;
    Some(Cause {
        file: fleet.sources.path(loc.file).to_string(),
        line: loc.line,
        column: loc.col,
        layer: layer_name(node.layer, fleet, loc),
    })
}

fn layer_name(layer: Layer, fleet: &Fleet, loc: Loc) -> &'static str {
    match layer {
        Layer::None if Some(loc.file) == fleet.settings.file => "workergen.yaml",
        Layer::None if fleet.environments.iter().any(|e| e.file == loc.file) => "environment",
        Layer::None => "cluster",
        other => other.describe(),
    }
}

/// Compares the leaves of two trees; `cause` of a change is the new value's declaration,
/// or the old one's for a removal.
fn compare(
    object: &'static str,
    old: Option<&Node>,
    new: Option<&Node>,
    base: &Fleet,
    head: &Fleet,
    generated: &dyn Fn(&str) -> Option<Cause>,
) -> Vec<Change> {
    let into_lists = object != "values";
    let old_leaves = old.map(|node| leaves(node, into_lists)).unwrap_or_default();
    let new_leaves = new.map(|node| leaves(node, into_lists)).unwrap_or_default();
    let mut changes = Vec::new();
    let mut paths: Vec<&String> = old_leaves.keys().chain(new_leaves.keys()).collect();
    paths.sort();
    paths.dedup();
    for path in paths {
        let before = old_leaves.get(path);
        let after = new_leaves.get(path);
        if before.map(|(value, _)| value) == after.map(|(value, _)| value) {
            continue;
        }
        let cause = match (before, after) {
            // An override removed in a more specific layer: the removal is the cause,
            // not the unchanged default that now shows through.
            (Some((_, old)), Some((_, new))) if old.layer > new.layer && new.layer != Layer::None => cause(base, old),
            (_, Some((_, node))) => cause(head, node),
            (Some((_, node)), None) => cause(base, node),
            (None, None) => None,
        }
        .or_else(|| generated(path));
        changes.push(Change {
            object,
            path: path.clone(),
            old: before.map(|(value, _)| value.clone()),
            new: after.map(|(value, _)| value.clone()),
            cause,
            group: None,
        });
    }
    changes
}

/// For a manifest field, the declaration behind it on the head side: the chart, the
/// namespace (or, when defaulted, the worker), the cluster's destination, or a setting
/// of `workergen.yaml`.
fn manifest_cause<'a>(head: &'a Fleet, worker: Option<&'a Worker>) -> impl Fn(&str) -> Option<Cause> + 'a {
    move |path: &str| {
        let worker = worker?;
        let chart = &worker.chart;
        let settings = &head.settings;
        let (loc, layer) = match path {
            "spec.chartRef.name" | "spec.sources[0].targetRevision" => (chart.version.loc, "chart"),
            "spec.sources[0].repoURL" | "spec.sources[0].chart" => (chart.repository.loc.or(chart.name.loc), "chart"),
            "spec.sources[1].repoURL" => (settings.loc_of(&["gitops", "argocd", "repoURL"]), "workergen.yaml"),
            "spec.sources[1].targetRevision" => (
                settings.loc_of(&["gitops", "argocd", "targetRevision"]),
                "workergen.yaml",
            ),
            "spec.interval" => (settings.loc_of(&["gitops", "flux", "interval"]), "workergen.yaml"),
            "spec.project" => (settings.loc_of(&["gitops", "argocd", "project"]), "workergen.yaml"),
            "metadata.namespace" => (settings.loc_of(&["gitops"]), "workergen.yaml"),
            _ if path.ends_with("Namespace") || path == "spec.destination.namespace" => match worker.namespace.loc {
                Some(loc) => (
                    Some(loc),
                    layer_name(
                        worker.fields.get("namespace").map_or(Layer::Worker, |n| n.layer),
                        head,
                        loc,
                    ),
                ),
                None => (Some(worker.name_loc), "worker"),
            },
            _ if path.starts_with("spec.destination") => (Some(head.cluster_of(worker).destination_loc), "cluster"),
            _ => (None, ""),
        };
        let loc = loc?;
        Some(Cause {
            file: head.sources.path(loc.file).to_string(),
            line: loc.line,
            column: loc.col,
            layer,
        })
    }
}

/// Whether a change of a worker's Namespace or ExternalSecret at `path` tells a reviewer
/// something: the namespace, the Secret, where the store keeps it and how often it is read.
/// Their labels, kinds and fixed policies follow from those and would only repeat them.
fn is_telling(object: &str, path: &str) -> bool {
    if object == "namespace" {
        return path == "metadata.name";
    }
    path == "metadata.namespace"
        || path == "spec.target.name"
        || path == "spec.refreshInterval"
        || path.starts_with("spec.secretStoreRef.")
        || path.starts_with("spec.data")
}

/// For a field of a worker's ExternalSecret, the part of `secrets.externalSecret` behind
/// it on the head side; for its namespace, the worker's namespace.
fn external_secret_cause<'a>(head: &'a Fleet, worker: Option<&'a Worker>) -> impl Fn(&str) -> Option<Cause> + 'a {
    let namespace = manifest_cause(head, worker);
    move |path: &str| {
        let worker = worker?;
        if path == "metadata.namespace" {
            return namespace("spec.destination.namespace");
        }
        let external_secret = head.cluster_of(worker).external_secret.as_ref()?;
        let field = if path.starts_with("spec.secretStoreRef") {
            "storeRef"
        } else if path.starts_with("spec.data") {
            "remoteRefs"
        } else if path == "spec.refreshInterval" {
            "refreshInterval"
        } else {
            ""
        };
        let node = external_secret.node.get(field).unwrap_or(&external_secret.node);
        let loc = node.declared_at()?;
        Some(Cause {
            file: head.sources.path(loc.file).to_string(),
            line: loc.line,
            column: loc.col,
            layer: layer_name(node.layer, head, loc),
        })
    }
}

/// Compares base and head, also reporting drift between the head's fresh render and `committed`,
/// the head's committed `rendered/` files (paths relative to the output folder).
///
/// `committed` reads the head's committed rendered files (paths relative to the output
/// folder) of the given clusters, or of all clusters for `None`; drift is reported for
/// the clusters that are rendered (`workergen check` covers the whole tree).
pub fn compute_with_committed(
    base: &Side<'_>,
    head: &Side<'_>,
    committed: Option<&CommittedReader<'_>>,
) -> Result<Diff, TemplateError> {
    let dirty = dirty_clusters(base, head);
    let (base_output, head_output) =
        rayon::join(|| output_in(base, dirty.as_ref()), || output_in(head, dirty.as_ref()));
    let (base_output, head_output) = (base_output?, head_output?);
    let drifted = committed.map(|read| committed_drift(head.fleet, &head_output, dirty.as_ref(), read));
    let mut diff = compare_states(
        (
            &base.label,
            base.fleet,
            states_of(base_output, &base.fleet.settings.output.value),
        ),
        (
            &head.label,
            head.fleet,
            states_of(head_output, &head.fleet.settings.output.value),
        ),
    );
    // The workers of clean clusters are unchanged without a render.
    if let Some(dirty) = &dirty {
        for worker in head.fleet.workers.iter().filter(|worker| worker.installed) {
            let key = cluster_key(head.fleet, worker);
            if !dirty.contains(&key) {
                diff.unchanged += 1;
                diff.per_environment.entry(key.0).or_default().count(None);
            }
        }
    }
    diff.drift = drifted.unwrap_or_default();
    diff.crds = crd_changes(base.fleet, head.fleet, dirty.as_ref());
    Ok(diff)
}

/// What is drifted in the head's committed rendered files of the `dirty` clusters (all
/// for `None`): the same byte comparison as `workergen check` ([`crate::render::Drift`]),
/// over the files workergen owns (those with its marker). Each drifted file names its
/// worker (`env/cluster/worker`), or its cluster (`env/cluster`) for a cluster's own
/// files such as `kustomization.yaml`.
fn committed_drift(
    fleet: &Fleet,
    head: &Output,
    dirty: Option<&HashSet<ClusterKey>>,
    read: &CommittedReader<'_>,
) -> Vec<String> {
    let (mut fresh, _) = head.emit(fleet);
    if dirty.is_some() {
        // Only the dirty clusters' folders are read: the shared `_crds/` and the parents'
        // folders (`_flux/`, `_argocd/`) are not among them.
        fresh.retain(|path, _| {
            ![
                crate::crds::FOLDER,
                crate::render::parents::FLUX_FOLDER,
                crate::render::parents::ARGOCD_FOLDER,
            ]
            .iter()
            .any(|folder| path.starts_with(folder))
        });
    }
    let found: crate::render::output::Files = read(dirty)
        .into_iter()
        .filter(|(_, bytes)| bytes.starts_with(crate::render::output::MARKER.as_bytes()))
        .map(|(path, bytes)| (std::path::PathBuf::from(path).into(), bytes))
        .collect();
    // A cluster without workers renders a folder that builds to nothing. Outside the
    // scope (its workers left out of the fleet) none is read: compare only the folders
    // of clusters with workers, or with committed files.
    let with_workers: HashSet<std::path::PathBuf> = fleet
        .workers
        .iter()
        .map(|worker| {
            let (environment, cluster) = cluster_key(fleet, worker);
            std::path::Path::new(&environment).join(cluster)
        })
        .collect();
    let cluster_of = |path: &std::path::Path| path.iter().take(2).collect::<std::path::PathBuf>();
    let committed: HashSet<std::path::PathBuf> = found.keys().map(|path| cluster_of(path.borrow())).collect();
    fresh.retain(|path, _| {
        let path: &std::path::Path = path.borrow();
        let cluster = cluster_of(path);
        path.as_os_str().as_encoded_bytes().starts_with(b"_")
            || with_workers.contains(&cluster)
            || committed.contains(&cluster)
    });
    let drift = crate::render::Drift::between(&fresh, &found);
    let mut owners: Vec<String> = [drift.missing, drift.stale, drift.extra]
        .into_iter()
        .flatten()
        .map(|path| {
            let path = path.to_string_lossy().replace('\\', "/");
            let parts: Vec<&str> = path.split('/').collect();
            // A worker's files name the worker, a cluster's the cluster, the shared
            // folders (`_crds/<version>`, `_flux/<destination>`, `_argocd`) themselves.
            let depth = if path.starts_with('_') { 2 } else { 3 };
            parts[..parts.len().saturating_sub(1).min(depth)].join("/")
        })
        .collect();
    owners.sort();
    owners.dedup();
    owners
}

/// Reads committed rendered files of some clusters (all for `None`).
pub type CommittedReader<'a> = dyn Fn(Option<&HashSet<ClusterKey>>) -> Vec<(String, Vec<u8>)> + 'a;

/// One side of [`compare_states`]: its label, the fleet its causes point into, its states.
pub type States<'a> = (&'a str, &'a Fleet, BTreeMap<String, WorkerState>);

/// Compares rendered states; causes are looked up in each side's fleet.
pub fn compare_states(base: States<'_>, head: States<'_>) -> Diff {
    let (base_label, base_fleet, base_states) = base;
    let (head_label, head_fleet, head_states) = head;
    let head_workers: BTreeMap<String, &Worker> = head_fleet
        .workers
        .iter()
        .map(|worker| (head_fleet.worker_id(worker), worker))
        .collect();
    let mut ids: Vec<&String> = base_states.keys().chain(head_states.keys()).collect();
    ids.sort();
    ids.dedup();
    let results: Vec<Option<WorkerDiff>> = ids
        .par_iter()
        .map(|id| {
            let before = base_states.get(*id);
            let after = head_states.get(*id);
            worker_diff(before, after, base_fleet, head_fleet, head_workers.get(*id).copied())
        })
        .collect();
    let mut per_environment: BTreeMap<String, Counts> = BTreeMap::new();
    let mut workers = Vec::new();
    let mut unchanged = 0;
    for (id, result) in ids.iter().zip(results) {
        let environment = id.split('/').next().unwrap_or_default().to_string();
        let counts = per_environment.entry(environment).or_default();
        counts.count(result.as_ref().map(|diff| diff.status));
        match result {
            Some(diff) => workers.push(diff),
            None => unchanged += 1,
        }
    }
    risk::renames(&mut workers, &base_states, &head_states);
    let groups = group(&mut workers);
    Diff {
        base: base_label.to_string(),
        head: head_label.to_string(),
        workers,
        unchanged,
        groups,
        per_environment,
        drift: Vec::new(),
        crds: Vec::new(),
    }
}

/// Worker states read back from a rendered tree (paths relative to the output folder),
/// such as the `rendered/` committed in Git. Their values have no provenance.
pub fn states_from_rendered<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    output: &str,
) -> BTreeMap<String, WorkerState> {
    states_of(Output::read(files), output)
}

fn worker_diff(
    before: Option<&WorkerState>,
    after: Option<&WorkerState>,
    base: &Fleet,
    head: &Fleet,
    head_worker: Option<&Worker>,
) -> Option<WorkerDiff> {
    let any = after.or(before)?;
    let status = match (before, after) {
        (None, Some(_)) => Status::Added,
        (Some(_), None) => Status::Removed,
        _ => Status::Changed,
    };
    let generated = manifest_cause(head, head_worker);
    let mut changes = compare(
        "values",
        before.map(|state| &state.values),
        after.map(|state| &state.values),
        base,
        head,
        &|_| None,
    );
    let object = match any.manifest.as_ref().map(|(file, _)| *file) {
        Some("application.yaml") => "application",
        _ => "helmrelease",
    };
    changes.extend(compare(
        object,
        before.and_then(|state| state.manifest.as_ref().map(|(_, node)| node)),
        after.and_then(|state| state.manifest.as_ref().map(|(_, node)| node)),
        base,
        head,
        &generated,
    ));
    changes.extend(object_changes(before, after, base, head, head_worker));
    if status == Status::Changed && changes.is_empty() {
        return None;
    }
    let unified = (status == Status::Changed).then(|| {
        let (old, new) = (&before?.values_text, &after?.values_text);
        Some(
            similar::TextDiff::from_lines(old.as_str(), new.as_str())
                .unified_diff()
                .context_radius(3)
                .header(&format!("a/{}", any.values_path), &format!("b/{}", any.values_path))
                .to_string(),
        )
    });
    let cluster_retired = !head
        .clusters
        .iter()
        .any(|cluster| cluster.name == any.cluster && head.environments[cluster.environment].name == any.environment);
    let risks = risk::notes(status, before, after, &changes, cluster_retired);
    Some(WorkerDiff {
        id: any.id.clone(),
        environment: any.environment.clone(),
        cluster: any.cluster.clone(),
        name: any.name.clone(),
        status,
        changes,
        risks,
        unified: unified.flatten(),
    })
}

/// The telling changes of a worker's Namespace and ExternalSecrets ([`is_telling`]).
fn object_changes(
    before: Option<&WorkerState>,
    after: Option<&WorkerState>,
    base: &Fleet,
    head: &Fleet,
    head_worker: Option<&Worker>,
) -> Vec<Change> {
    let generated = manifest_cause(head, head_worker);
    let mut changes = Vec::new();
    let no_objects = BTreeMap::new();
    let (old_objects, new_objects) = (
        before.map_or(&no_objects, |state| &state.objects),
        after.map_or(&no_objects, |state| &state.objects),
    );
    let mut files: Vec<&String> = old_objects.keys().chain(new_objects.keys()).collect();
    files.sort();
    files.dedup();
    let secret_cause = external_secret_cause(head, head_worker);
    // A Namespace's name is the worker's namespace.
    let namespace_cause = |_: &str| generated("spec.destination.namespace");
    for file in files {
        let Some(object) = object_of_file(file) else { continue };
        let cause: &dyn Fn(&str) -> Option<Cause> = if object == "namespace" {
            &namespace_cause
        } else {
            &secret_cause
        };
        let mut object_changes = compare(object, old_objects.get(file), new_objects.get(file), base, head, cause);
        object_changes.retain(|change| is_telling(object, &change.path));
        changes.extend(object_changes);
    }
    changes
}

/// Groups changes with the same cause line, path and values across two or more workers.
fn group(workers: &mut [WorkerDiff]) -> Vec<Group> {
    type Key = (String, u32, &'static str, String, String, String);
    let mut by_key: BTreeMap<Key, Vec<(usize, usize)>> = BTreeMap::new();
    for (worker_index, worker) in workers.iter().enumerate() {
        if worker.status != Status::Changed {
            continue;
        }
        for (change_index, change) in worker.changes.iter().enumerate() {
            let Some(cause) = &change.cause else { continue };
            let key = (
                cause.file.clone(),
                cause.line,
                change.object,
                change.path.clone(),
                json_text(change.old.as_ref()),
                json_text(change.new.as_ref()),
            );
            by_key.entry(key).or_default().push((worker_index, change_index));
        }
    }
    let mut found: Vec<(Group, Vec<(usize, usize)>)> = by_key
        .into_values()
        .filter(|members| members.len() >= 2)
        .map(|members| {
            let (first_worker, first_change) = members[0];
            let change = &workers[first_worker].changes[first_change];
            let group = Group {
                cause: change.cause.clone().expect("grouped changes have a cause"),
                object: change.object,
                path: change.path.clone(),
                old: change.old.clone(),
                new: change.new.clone(),
                workers: members.iter().map(|(worker, _)| workers[*worker].id.clone()).collect(),
            };
            (group, members)
        })
        .collect();
    // Largest first; ties by where they were written.
    found.sort_by(|(a, _), (b, _)| {
        b.workers
            .len()
            .cmp(&a.workers.len())
            .then_with(|| a.cause.cmp(&b.cause))
    });
    for (index, (_, members)) in found.iter().enumerate() {
        for (worker, change) in members {
            workers[*worker].changes[*change].group = Some(index);
        }
    }
    found.into_iter().map(|(group, _)| group).collect()
}

/// A value for display: strings bare, everything else as JSON; `(unset)` for none.
pub fn json_text(value: Option<&serde_json::Value>) -> String {
    match value {
        None => "(unset)".to_string(),
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// The leaf value of a state's values at a dotted path, as text.
pub fn value_at(state: &WorkerState, path: &[&str]) -> Option<String> {
    state
        .values
        .get_path(path.iter().copied())
        .and_then(|node| match &node.value {
            Value::Seq(_) | Value::Map(_) => None,
            _ => node.scalar_text(),
        })
}
