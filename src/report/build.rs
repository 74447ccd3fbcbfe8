//! The [`FleetReport`] from the fleet and the output model: each installed worker's
//! values tree, as a render builds it, laid over the chart's defaults the way Helm lays
//! it (as `explain` does), each value still pointing at the declaration that set it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Context as _;

use super::{
    ClusterReport, EnvironmentReport, Field, FindingReport, FleetReport, ImageUse, PoolUse, ReportScope, Resources,
    ScriptPodSums, Sum, Summary, WorkerReport, WorkerStatusReport,
};
use crate::failure::Failure;
use crate::model::{Fleet, Worker};
use crate::quantity::Quantity;
use crate::render::model::{ClusterTree, Output};
use crate::render::templates::Templates;
use crate::render::{output, Drift, Scope};
use crate::source::Layer;
use crate::status::StatusReport;
use crate::yaml::{self, Lists, Node};

/// The chart values the page shows per worker, in its order.
const FIELDS: &[&str] = &[
    "agent.machinePolicyName",
    "agent.pollingConnectionCount",
    "agent.image",
    "scriptPods.worker.image",
    "scriptPods.resources.requests.cpu",
    "scriptPods.resources.requests.memory",
    "scriptPods.resources.requests.ephemeral-storage",
    "scriptPods.resources.limits.cpu",
    "scriptPods.resources.limits.memory",
    "scriptPods.resources.limits.ephemeral-storage",
    "persistence.size",
    "persistence.storageClassName",
];

/// The report of the clusters in `scope`; `directory` holds the committed output that
/// staleness compares with; `status`, when asked, what Octopus said.
pub fn build(
    fleet: &Fleet,
    templates: &Templates,
    scope: &Scope,
    directory: &Path,
    status: Option<&StatusReport>,
) -> Result<FleetReport, Failure> {
    let output = crate::render::build(fleet, templates, scope, false)?;
    let rendered = staleness(fleet, &output, directory)?;
    let statuses = status.map(status_by_worker).unwrap_or_default();
    let mut environments: Vec<EnvironmentReport> = Vec::new();
    for (index, cluster) in fleet.clusters.iter().enumerate() {
        if !scope.includes(fleet, cluster) {
            continue;
        }
        let environment = &fleet.environments[cluster.environment].name;
        let tree = output
            .clusters
            .iter()
            .find(|tree| &tree.environment == environment && tree.name == cluster.name);
        let workers = fleet
            .workers
            .iter()
            .filter(|worker| worker.cluster == index)
            .map(|worker| worker_report(fleet, worker, tree, &statuses))
            .collect();
        let key = format!("{environment}/{}", cluster.name);
        let state = rendered.get(&key).copied().unwrap_or(super::Rendered::Absent);
        let report = cluster_report(&cluster.name, workers, state);
        match environments.last_mut().filter(|last| &last.name == environment) {
            Some(last) => last.clusters.push(report),
            None => environments.push(EnvironmentReport {
                name: environment.clone(),
                chart_versions: Vec::new(),
                behind: false,
                clusters: vec![report],
            }),
        }
    }
    mark_laggards(&mut environments);
    let images = images(&environments);
    let pools = pools(&environments);
    let orphans = status.map(orphans).unwrap_or_default();
    let summary = summary(&environments, status);
    Ok(FleetReport {
        version: super::JSON_VERSION,
        scope: ReportScope {
            environment: scope.environment.clone(),
            cluster: scope.cluster.clone(),
        },
        summary,
        environments,
        images,
        pools,
        status_asked: status.is_some(),
        orphans,
    })
}

/// What `check` would say of each cluster's committed files, by `<env>/<cluster>`; none
/// at all without an output folder.
fn staleness(fleet: &Fleet, output: &Output, directory: &Path) -> Result<BTreeMap<String, super::Rendered>, Failure> {
    let name = &fleet.settings.output.value;
    let root = directory.join(name);
    if !root.is_dir() {
        return Ok(BTreeMap::new());
    }
    let found = output::read_owned(&root).with_context(|| format!("cannot read `{name}/`"))?;
    // The files found, by cluster folder, read once for all clusters.
    let mut by_cluster: BTreeMap<String, output::Files> = BTreeMap::new();
    for (path, bytes) in found {
        let mut parts = path.as_path().iter().filter_map(|part| part.to_str());
        if let (Some(environment), Some(cluster)) = (parts.next(), parts.next()) {
            let key = format!("{environment}/{cluster}");
            by_cluster.entry(key).or_default().insert(path, bytes);
        }
    }
    let mut states = BTreeMap::new();
    for cluster in &output.clusters {
        let emitted = crate::render::model::emit_cluster(fleet, cluster, false);
        let wanted: output::Files = emitted
            .files
            .into_iter()
            .map(|(path, bytes)| (path.into(), bytes))
            .collect();
        let key = format!("{}/{}", cluster.environment, cluster.name);
        let there = by_cluster.remove(&key).unwrap_or_default();
        let drift = Drift::between(&wanted, &there);
        let state = if drift.is_empty() {
            super::Rendered::UpToDate
        } else {
            super::Rendered::Stale {
                stale: drift.stale.len(),
                missing: drift.missing.len(),
                extra: drift.extra.len(),
            }
        };
        states.insert(key, state);
    }
    Ok(states)
}

type Statuses = BTreeMap<String, WorkerStatusReport>;

/// What Octopus said of each declared worker, by `<env>/<cluster>/<worker>`.
fn status_by_worker(status: &StatusReport) -> Statuses {
    let mut found = BTreeMap::new();
    for environment in &status.environments {
        for worker in &environment.workers {
            if let (Some(cluster), Some(name)) = (&worker.cluster, &worker.worker) {
                found.insert(format!("{}/{cluster}/{name}", environment.name), status_of(worker));
            }
        }
    }
    found
}

fn status_of(worker: &crate::status::WorkerStatus) -> WorkerStatusReport {
    WorkerStatusReport {
        name: worker.name.clone(),
        health: worker.health_status.clone(),
        agent_version: worker.agent_version.clone(),
        findings: worker
            .findings
            .iter()
            .filter(|finding| !finding.fixed)
            .map(|finding| FindingReport {
                kind: finding.kind.name(),
                message: finding.kind.describe(),
            })
            .collect(),
    }
}

fn orphans(status: &StatusReport) -> Vec<WorkerStatusReport> {
    let all = status.environments.iter().flat_map(|environment| &environment.workers);
    all.filter(|worker| worker.cluster.is_none()).map(status_of).collect()
}

fn worker_report(fleet: &Fleet, worker: &Worker, tree: Option<&ClusterTree>, statuses: &Statuses) -> WorkerReport {
    let id = fleet.worker_id(worker);
    let built = tree.and_then(|tree| tree.workers.iter().find(|built| built.name == worker.name));
    let values = built
        .and_then(|built| built.values.as_ref())
        .and_then(crate::render::model::Document::node);
    let reference = worker.chart.major().and_then(crate::chart::reference);
    let (fields, own) = match values {
        Some(values) => (
            FIELDS
                .iter()
                .filter_map(|path| field(fleet, path, values, reference.map(|reference| &reference.root)))
                .collect(),
            own_values(fleet, worker, values),
        ),
        None => (Vec::new(), Vec::new()),
    };
    WorkerReport {
        name: worker.name.clone(),
        status: statuses.get(&id).cloned(),
        id,
        installed: worker.installed,
        disabled: worker.disabled,
        namespace: built
            .and_then(|built| built.namespace.clone())
            .or_else(|| worker.installed.then(|| worker.namespace.value.clone())),
        chart_version: worker.chart.version.value.clone(),
        pools: worker.spec.worker_pools.clone().unwrap_or_default(),
        fields,
        own,
    }
}

/// The effective value at `path`: the worker's, else the chart's default.
fn field(fleet: &Fleet, path: &str, values: &Node, reference: Option<&Node>) -> Option<Field> {
    let node = values
        .get_path(path.split('.'))
        .or_else(|| reference.and_then(|reference| reference.get_path(path.split('.'))))?;
    let value = match node.get("repository") {
        // An image: `repository:tag`, set by one declaration field.
        Some(repository) => {
            let tag = node.get("tag").and_then(Node::scalar_text).unwrap_or_default();
            let repository = repository.scalar_text().unwrap_or_default();
            if tag.is_empty() {
                repository
            } else {
                format!("{repository}:{tag}")
            }
        }
        None => text(node),
    };
    let source_node = node.get("repository").unwrap_or(node);
    Some(Field {
        path: path.to_string(),
        value,
        source: crate::diff::cause(fleet, source_node),
        origin: source_node.origin.describe(),
    })
}

fn text(node: &Node) -> String {
    node.scalar_text()
        .unwrap_or_else(|| serde_json::to_string(node).unwrap_or_default())
}

/// The values the worker's own entry sets: how it differs from its cluster's defaults.
/// Its name in Octopus made from its key, and the switch that follows from its pools,
/// are no difference.
fn own_values(fleet: &Fleet, worker: &Worker, values: &Node) -> Vec<Field> {
    let named = worker.fields.get("displayName").is_some();
    yaml::leaves(values, Lists::Whole)
        .into_iter()
        .filter(|(_, leaf)| leaf.layer == Layer::Worker && leaf.declared_at().is_some())
        .filter(|(path, _)| {
            let path = path.to_string();
            path != "agent.worker.enabled" && (named || path != "agent.name")
        })
        .map(|(path, leaf)| Field {
            path: path.to_string(),
            value: text(leaf),
            source: crate::diff::cause(fleet, leaf),
            origin: leaf.origin.describe(),
        })
        .collect()
}

fn cluster_report(name: &str, workers: Vec<WorkerReport>, rendered: super::Rendered) -> ClusterReport {
    let installed: Vec<&WorkerReport> = workers.iter().filter(|worker| worker.installed).collect();
    let sum = |path: &str| sum_of(&installed, path);
    let resources = |kind: &str| Resources {
        cpu: sum(&format!("scriptPods.resources.{kind}.cpu")),
        memory: sum(&format!("scriptPods.resources.{kind}.memory")),
        ephemeral_storage: sum(&format!("scriptPods.resources.{kind}.ephemeral-storage")),
    };
    ClusterReport {
        name: name.to_string(),
        chart_versions: versions(workers.iter().map(|worker| worker.chart_version.as_str())),
        behind: false,
        rendered,
        script_pods: ScriptPodSums {
            requests: resources("requests"),
            limits: resources("limits"),
        },
        storage: sum("persistence.size"),
        workers,
    }
}

/// The sum of the quantity at `path` over `workers`, in the notation of its kind.
fn sum_of(workers: &[&WorkerReport], path: &str) -> Sum {
    let mut total = Quantity::ZERO;
    let mut set_by = 0;
    for worker in workers {
        let value = worker.fields.iter().find(|field| field.path == path);
        if let Some(quantity) = value.and_then(|field| Quantity::parse(&field.value).ok()) {
            total = total + quantity;
            set_by += 1;
        }
    }
    let binary = !path.ends_with(".cpu");
    Sum {
        total: (set_by > 0).then(|| total.to_text(binary)),
        set_by,
        unset_by: workers.len() - set_by,
    }
}

/// Distinct versions, oldest first.
fn versions<'a>(all: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut distinct: Vec<String> = all.collect::<BTreeSet<_>>().into_iter().map(str::to_string).collect();
    distinct.sort_by_key(|version| version_key(version));
    distinct
}

/// A version's order: numbers as numbers (`3.10.0` after `3.9.1`), the rest as text.
pub(super) fn version_key(version: &str) -> Vec<(u64, String)> {
    version
        .split(['.', '-', '+'])
        .map(|part| match part.parse::<u64>() {
            Ok(number) => (number, String::new()),
            Err(_) => (0, part.to_string()),
        })
        .collect()
}

/// Each environment's and cluster's versions, and whether they run one older than the
/// newest in use.
fn mark_laggards(environments: &mut [EnvironmentReport]) {
    let all = environments
        .iter()
        .flat_map(|environment| &environment.clusters)
        .flat_map(|cluster| cluster.chart_versions.iter().map(String::as_str));
    let Some(newest) = versions(all).pop() else { return };
    for environment in environments {
        for cluster in &mut environment.clusters {
            cluster.behind = cluster.chart_versions.iter().any(|version| *version != newest);
        }
        let theirs = environment.clusters.iter().flat_map(|cluster| &cluster.chart_versions);
        environment.chart_versions = versions(theirs.map(String::as_str));
        environment.behind = environment.clusters.iter().any(|cluster| cluster.behind);
    }
}

/// The installed workers with the cluster each is in, `<env>/<cluster>`.
fn installed(environments: &[EnvironmentReport]) -> impl Iterator<Item = (String, &WorkerReport)> {
    environments.iter().flat_map(|environment| {
        environment.clusters.iter().flat_map(move |cluster| {
            let key = format!("{}/{}", environment.name, cluster.name);
            cluster
                .workers
                .iter()
                .filter(|worker| worker.installed)
                .map(move |worker| (key.clone(), worker))
        })
    })
}

fn images(environments: &[EnvironmentReport]) -> Vec<ImageUse> {
    let mut uses: BTreeMap<(&'static str, String), BTreeMap<String, usize>> = BTreeMap::new();
    for (cluster, worker) in installed(environments) {
        for (kind, path) in [("agent", "agent.image"), ("worker-tools", "scriptPods.worker.image")] {
            if let Some(field) = worker.fields.iter().find(|field| field.path == path) {
                let clusters = uses.entry((kind, field.value.clone())).or_default();
                *clusters.entry(cluster.clone()).or_default() += 1;
            }
        }
    }
    uses.into_iter()
        .map(|((kind, image), clusters)| ImageUse {
            kind,
            image,
            clusters: clusters
                .into_iter()
                .map(|(cluster, workers)| super::ClusterCount { cluster, workers })
                .collect(),
        })
        .collect()
}

/// Pools by environment: each environment is its own Octopus server (or space), so a
/// pool of the same name in two environments is two pools.
fn pools(environments: &[EnvironmentReport]) -> Vec<PoolUse> {
    let mut uses: BTreeMap<(&str, &str), PoolUse> = BTreeMap::new();
    for environment in environments {
        for cluster in &environment.clusters {
            for worker in &cluster.workers {
                let serves = worker.installed && !worker.disabled;
                for pool in &worker.pools {
                    let entry = uses.entry((&environment.name, pool)).or_insert_with(|| PoolUse {
                        environment: environment.name.clone(),
                        name: pool.clone(),
                        clusters: Vec::new(),
                        workers: 0,
                        idle_workers: 0,
                    });
                    if !serves {
                        entry.idle_workers += 1;
                        continue;
                    }
                    entry.workers += 1;
                    let key = format!("{}/{}", environment.name, cluster.name);
                    if entry.clusters.last() != Some(&key) {
                        entry.clusters.push(key);
                    }
                }
            }
        }
    }
    uses.into_values().collect()
}

fn summary(environments: &[EnvironmentReport], status: Option<&StatusReport>) -> Summary {
    let clusters = || environments.iter().flat_map(|environment| &environment.clusters);
    let workers = || clusters().flat_map(|cluster| &cluster.workers);
    let all = clusters().flat_map(|cluster| cluster.chart_versions.iter().map(String::as_str));
    Summary {
        environments: environments.len(),
        clusters: clusters().count(),
        workers: workers().count(),
        uninstalled: workers().filter(|worker| !worker.installed).count(),
        disabled: workers().filter(|worker| worker.disabled).count(),
        chart_versions: versions(all),
        stale_clusters: clusters()
            .filter(|cluster| matches!(cluster.rendered, super::Rendered::Stale { .. }))
            .count(),
        findings: status.map(StatusReport::open_findings),
    }
}
