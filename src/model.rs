//! The resolved fleet: every worker with its layers merged, what render consumes.
//!
//! [`resolve`] checks each written fragment once (types, unknown keys), merges the
//! worker layers and the `chart:` blocks with `merge::overlay`, and keeps the
//! merged [`Node`] tree of each worker so every value still knows where it was set.

use crate::decl::{
    self, ChartSpec, ClusterSpec, Engine, ExternalSecretSpec, GitopsSpec, OctopusSpec, SecretsSpec, WorkerSpec,
};
use crate::diagnostic::{did_you_mean, Diagnostic, Report};
use crate::load::{EnvironmentFiles, Loaded, Parsed};
use crate::merge;
use crate::source::{FileId, Layer, Loc, Sources};
use rayon::prelude::*;

use crate::yaml::{from_node, from_node_keeping_text, from_node_partial, portable, Node, Value};

pub(crate) const DEFAULT_CHART_REPOSITORY: &str = "oci://registry-1.docker.io/octopusdeploy";
pub(crate) const DEFAULT_CHART_NAME: &str = "kubernetes-agent";
pub(crate) const DEFAULT_CHART_VERSION: &str = "3.13.2";

/// Most value nodes the workers of one cluster file may merge to, counted as the sum over
/// its workers of the nodes of every layer each merges (repository, environment and cluster
/// `defaults`, its own fields). Defaults are copied into every worker: without a bound,
/// 20,000 keys of defaults under 1,000 workers make 20 million nodes from a 300 KB file,
/// enough to exhaust memory. The 10,000-worker benchmark fleet merges at most about 350 per
/// file.
pub(crate) const MAX_MERGED_NODES: usize = 1_000_000;

/// A value and where it was written (`None` for a built-in default).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Located<T> {
    pub(crate) value: T,
    pub(crate) loc: Option<Loc>,
}

impl<T> Located<T> {
    fn default_value(value: T) -> Self {
        Self { value, loc: None }
    }
}

/// `workergen.yaml`, with defaults filled in.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) file: Option<FileId>,
    pub(crate) accept_eula: Located<bool>,
    pub(crate) output: Located<String>,
    pub(crate) engine: Located<Engine>,
    pub(crate) argocd: Argocd,
    pub(crate) flux: Flux,
    /// The prefix of the labels workergen adds (`labelPrefix`).
    pub(crate) label_prefix: Located<String>,
    /// The keys of those labels, made once from the prefix.
    pub(crate) label_keys: LabelKeys,
    /// `workergen.yaml` as written, to point at its settings.
    pub(crate) node: Option<Node>,
}

impl Settings {
    /// Where the setting at `path` was written, or the top of `workergen.yaml`.
    pub(crate) fn loc_of(&self, path: &[&str]) -> Option<Loc> {
        let node = self.node.as_ref()?;
        Some(node.get_path(path.iter().copied()).map_or(node.loc, |found| found.loc))
    }
}

/// The keys of workergen's own labels: `<prefix>/environment`, `/cluster` and `/worker`.
#[derive(Debug, Clone)]
pub(crate) struct LabelKeys {
    pub(crate) environment: String,
    pub(crate) cluster: String,
    pub(crate) worker: String,
}

impl LabelKeys {
    pub(crate) fn new(prefix: &str) -> Self {
        Self {
            environment: format!("{prefix}/environment"),
            cluster: format!("{prefix}/cluster"),
            worker: format!("{prefix}/worker"),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Argocd {
    pub(crate) namespace: String,
    pub(crate) project: String,
    pub(crate) repo_url: Option<String>,
    pub(crate) target_revision: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Flux {
    pub(crate) namespace: String,
    pub(crate) interval: String,
    /// The source the rendered `Kustomization`s read: (kind, name).
    pub(crate) source_kind: String,
    pub(crate) source_name: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Environment {
    pub(crate) name: String,
    pub(crate) file: FileId,
    /// The `octopus:` block as written, for provenance.
    pub(crate) octopus_node: Node,
    pub(crate) octopus: OctopusSpec,
    /// False when `environment.yaml` could not be read or is empty.
    pub(crate) readable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Destination {
    Server(String),
    Name(String),
}

#[derive(Debug, Clone)]
pub(crate) struct Cluster {
    pub(crate) environment: usize,
    pub(crate) name: String,
    pub(crate) file: FileId,
    pub(crate) destination: Option<Destination>,
    pub(crate) destination_loc: Loc,
    /// `cluster.destination` as written, so that a rule about its `server` or `name`
    /// points at the value.
    pub(crate) destination_node: Option<Node>,
    /// `cluster:` had a type error, reported already: rules about it stay silent.
    pub(crate) destination_reported: bool,
    /// `secrets.externalSecret` of the environment and the cluster file, merged; `None`
    /// when neither sets it (the credential Secrets must then exist already).
    pub(crate) external_secret: Option<ExternalSecret>,
    /// The effective `octopus:` of the cluster's workers: the environment's, with each key
    /// the cluster file's `octopus:` sets (`auth`, `serverCertificateSecret`) replacing
    /// the environment's whole. Every node keeps the file and layer that set it.
    pub(crate) octopus_node: Node,
    pub(crate) octopus: OctopusSpec,
    /// The cluster file's own `octopus:` block, when it has one.
    pub(crate) octopus_written: Option<Node>,
}

/// The effective `secrets.externalSecret` of a cluster: where its ExternalSecrets read
/// each credential from.
#[derive(Debug, Clone)]
pub(crate) struct ExternalSecret {
    /// The merged block: every node keeps the file, line and layer that set it.
    pub(crate) node: Node,
    /// The merged block, typed (fields with a type error read as absent: reported).
    pub(crate) spec: ExternalSecretSpec,
}

/// The effective chart of a worker.
#[derive(Debug, Clone)]
pub(crate) struct Chart {
    pub(crate) repository: Located<String>,
    pub(crate) name: Located<String>,
    pub(crate) version: Located<String>,
}

impl Chart {
    /// The major version, when the version starts with a number.
    pub(crate) fn major(&self) -> Option<u64> {
        self.version.value.split('.').next()?.parse().ok()
    }
}

/// What validation and `status` read of a worker's typed fields. The merged fields are
/// typed whole once, as a check, and that `WorkerSpec` dropped: kept, its Kubernetes
/// types were 4 KB a worker, 40 MB of a 10,000-worker fleet, and the kernel zeroes
/// every new page.
#[derive(Debug, Clone)]
pub(crate) struct WorkerFacts {
    pub(crate) worker_pools: Option<Vec<String>>,
    pub(crate) machine_policy: Option<String>,
    /// `storage.accessModes`.
    pub(crate) access_modes: Option<Vec<String>>,
}

impl WorkerFacts {
    fn of(spec: WorkerSpec) -> Self {
        Self {
            worker_pools: spec.worker_pools,
            machine_policy: spec.machine_policy,
            access_modes: spec.storage.and_then(|storage| storage.access_modes),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Worker {
    pub(crate) environment: usize,
    pub(crate) cluster: usize,
    pub(crate) name: String,
    pub(crate) name_loc: Loc,
    /// The merged worker fields; every node keeps its file, line, column and layer.
    pub(crate) fields: Node,
    /// What later stages read of the merged fields, typed.
    pub(crate) spec: WorkerFacts,
    pub(crate) chart: Chart,
    /// `installed: false` leaves the worker out of the output: the engines uninstall it.
    pub(crate) installed: bool,
    /// `disabled: true`: installed, but disabled in Octopus (`IsDisabled`).
    pub(crate) disabled: bool,
    pub(crate) namespace: Located<String>,
    pub(crate) display_name: Located<String>,
    /// The `null`s of the worker's `values` layers that remove nothing a lower `values`
    /// layer set ([`merge::idle_removals`]): validate refuses those that a typed field's
    /// value stands at, which `values` cannot remove.
    pub(crate) idle_removals: Vec<(crate::yaml::KeyPath, Loc)>,
}

/// Everything declared, resolved.
#[derive(Debug, Clone)]
pub struct Fleet {
    pub sources: Sources,
    pub(crate) settings: Settings,
    pub(crate) environments: Vec<Environment>,
    pub(crate) clusters: Vec<Cluster>,
    /// Sorted by environment, cluster and name.
    pub(crate) workers: Vec<Worker>,
}

impl Fleet {
    /// A fleet with no declarations at all (`diff --allow-empty-base`).
    pub(crate) fn empty() -> Self {
        let loaded = Loaded {
            sources: Sources::new(),
            repo: None,
            environments: Vec::new(),
        };
        resolve(loaded, &mut Report::new())
    }

    pub(crate) fn environment_of(&self, worker: &Worker) -> &Environment {
        &self.environments[worker.environment]
    }

    pub(crate) fn cluster_of(&self, worker: &Worker) -> &Cluster {
        &self.clusters[worker.cluster]
    }

    /// `<env>/<cluster>/<worker>`.
    pub(crate) fn worker_id(&self, worker: &Worker) -> String {
        let cluster = self.cluster_of(worker);
        format!(
            "{}/{}/{}",
            self.environments[cluster.environment].name, cluster.name, worker.name
        )
    }
}

/// A file's top-level map, or a diagnostic if it is empty or not a map.
fn top_map<'a>(parsed: &'a Parsed, expected: &[&str], report: &mut Report) -> Option<&'a Node> {
    let root = parsed.root.as_ref()?;
    match &root.value {
        Value::Map(map) => {
            for (key, _) in map.entries() {
                if !expected.contains(&key.name.as_str()) {
                    let hint = did_you_mean(&key.name, expected.iter().copied())
                        .map(|close| format!("did you mean `{close}`?"))
                        .unwrap_or_else(|| format!("expected one of {}", backticked(expected)));
                    report.push(Diagnostic::error(key.loc, format!("unknown key `{}`", key.name)).with_hint(hint));
                }
            }
            Some(root)
        }
        Value::Null => {
            report.push(
                Diagnostic::error(root.loc, "file is empty")
                    .with_hint(format!("expected a map with {}", backticked(expected))),
            );
            None
        }
        _ => {
            report.push(Diagnostic::error(
                root.loc,
                format!("expected a map, found {}", root.kind()),
            ));
            None
        }
    }
}

fn backticked(items: &[&str]) -> String {
    items
        .iter()
        .map(|item| format!("`{item}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A typed read of `root.key` (if present and not null); problems go to `report`. A
/// field with a type error reads as absent (it is reported, once).
fn typed<T: serde::de::DeserializeOwned + Default>(root: Option<&Node>, key: &str, report: &mut Report) -> T {
    typed_checked(root, key, report).0
}

/// [`typed`], and whether the read found no type error.
fn typed_checked<T: serde::de::DeserializeOwned + Default>(
    root: Option<&Node>,
    key: &str,
    report: &mut Report,
) -> (T, bool) {
    let Some(node) = root.and_then(|root| root.get(key)).filter(|node| !node.is_null()) else {
        return (T::default(), true);
    };
    let mut diagnostics = Vec::new();
    let value = from_node_partial(node, &mut diagnostics);
    let clean = diagnostics.is_empty();
    report.extend(diagnostics);
    (value.unwrap_or_default(), clean)
}

/// A typed read of `node` (unless null) that turns its text fields into the text written.
fn typed_keeping_text<T: serde::de::DeserializeOwned + Default>(node: &mut Node, report: &mut Report) -> T {
    if node.is_null() {
        return T::default();
    }
    let mut diagnostics = Vec::new();
    let value = from_node_keeping_text(node, &mut diagnostics);
    report.extend(diagnostics);
    value.unwrap_or_default()
}

/// A fragment of a file with its nodes tagged with `layer`; an empty map when absent.
fn fragment(root: Option<&Node>, key: &str, layer: Layer) -> Node {
    match root.and_then(|root| root.get(key)) {
        Some(node) if !node.is_null() => {
            let mut node = node.clone();
            node.set_layer(layer);
            node
        }
        Some(node) => Node::map(node.loc),
        None => Node::map(Loc::default()),
    }
}

fn located<T: Clone>(value: Option<T>, node: Option<&Node>, default: T) -> Located<T> {
    match value {
        Some(value) => Located {
            value,
            loc: node.map(|node| node.loc),
        },
        None => Located::default_value(default),
    }
}

/// The prefix of workergen's own labels when `labelPrefix` is not set: a name that is
/// no organisation's domain, so it claims nobody else's keys.
pub(crate) const DEFAULT_LABEL_PREFIX: &str = "workergen";

/// A setting of `workergen.yaml` typed, its type errors reported.
fn setting<T: serde::de::DeserializeOwned>(node: Option<&Node>, report: &mut Report) -> Option<T> {
    let mut diagnostics = Vec::new();
    let value = node.and_then(|node| from_node(node, &mut diagnostics));
    report.extend(diagnostics);
    value
}

fn resolve_settings(loaded: &Loaded, report: &mut Report) -> (Settings, Option<Node>) {
    let root = loaded
        .repo
        .as_ref()
        .and_then(|parsed| top_map(parsed, decl::REPO_KEYS, report));
    let accept_eula = root.and_then(|root| root.get("acceptEula"));
    let accept: Option<bool> = setting(accept_eula, report);
    let output_node = root.and_then(|root| root.get("output"));
    let output: Option<String> = setting(output_node, report);
    let gitops: GitopsSpec = typed(root, "gitops", report);
    let prefix_node = root.and_then(|root| root.get("labelPrefix"));
    let label_prefix: Option<String> = setting(prefix_node, report);
    let engine_node = root.and_then(|root| root.get_path(["gitops", "engine"]));
    let argocd = gitops.argocd.unwrap_or_default();
    let flux = gitops.flux.unwrap_or_default();
    let settings = Settings {
        file: loaded.repo.as_ref().map(|parsed| parsed.file),
        accept_eula: located(accept, accept_eula, false),
        output: located(output, output_node, "rendered".to_string()),
        engine: located(gitops.engine, engine_node, Engine::Flux),
        argocd: Argocd {
            namespace: argocd.namespace.unwrap_or_else(|| "argocd".into()),
            project: argocd.project.unwrap_or_else(|| "default".into()),
            repo_url: argocd.repo_url,
            target_revision: argocd.target_revision.unwrap_or_else(|| "HEAD".into()),
        },
        flux: Flux {
            namespace: flux.namespace.unwrap_or_else(|| "flux-system".into()),
            interval: flux.interval.unwrap_or_else(|| "10m".into()),
            source_kind: flux
                .source_ref
                .as_ref()
                .and_then(|source| source.kind.clone())
                .unwrap_or_else(|| "GitRepository".into()),
            source_name: flux
                .source_ref
                .and_then(|source| source.name)
                .unwrap_or_else(|| "flux-system".into()),
        },
        label_keys: LabelKeys::new(label_prefix.as_deref().unwrap_or(DEFAULT_LABEL_PREFIX)),
        label_prefix: located(label_prefix, prefix_node, DEFAULT_LABEL_PREFIX.to_string()),
        node: root.cloned(),
    };
    (settings, root.cloned())
}

fn resolve_chart(layers: &[Node]) -> Chart {
    let merged = merge::merge(layers, Node::map(Loc::default()));
    let mut ignored = Vec::new();
    let spec: ChartSpec = from_node(&merged, &mut ignored).unwrap_or_default();
    Chart {
        repository: located(
            spec.repository,
            merged.get("repository"),
            DEFAULT_CHART_REPOSITORY.into(),
        ),
        name: located(spec.name, merged.get("name"), DEFAULT_CHART_NAME.into()),
        version: located(spec.version, merged.get("version"), DEFAULT_CHART_VERSION.into()),
    }
}

/// Checks a fragment of worker fields where it is written, and turns the scalars of its
/// text fields into the text written (`tag: 9.20` is "9.20").
fn check_fragment(node: &mut Node, report: &mut Report) {
    if node.is_null() {
        return;
    }
    let mut diagnostics = Vec::new();
    let _: Option<WorkerSpec> = from_node_keeping_text(node, &mut diagnostics);
    image_references_as_objects(node);
    if let Some(map) = node.as_map() {
        for (key, child) in map.entries() {
            if key.name == "values" {
                portable::check(child, &mut diagnostics);
            } else {
                portable::check_numbers(child, &mut diagnostics);
            }
        }
    }
    report.extend(diagnostics);
}

/// Turns each `repo:tag` image of a fragment into the object `{repository, tag}`, where
/// it is written, so the layers merge it as they merge the object form: a worker's
/// `{tag: 6.6.0}` over a lower layer's `harbor.dc1/worker-tools:6.5.0` keeps the lower
/// repository (a string would be replaced whole, and the chart's default repository
/// would come back). A reference that does not split stays text, for validate to refuse.
fn image_references_as_objects(node: &mut Node) {
    for owner in ["agent", "scriptPods"] {
        let Some(image) = node
            .as_map_mut()
            .and_then(|map| map.get_mut(owner))
            .and_then(|owner| owner.as_map_mut().and_then(|map| map.get_mut("image")))
        else {
            continue;
        };
        let Value::Str(reference) = &image.value else {
            continue;
        };
        let Some((repository, tag)) = crate::decl::ImageSpec::split_reference(reference) else {
            continue;
        };
        let entries = [("repository", repository), ("tag", tag)]
            .into_iter()
            .map(|(name, text)| {
                let key = crate::yaml::Key {
                    name: name.to_string(),
                    loc: image.loc,
                    plain: false,
                };
                let node = Node {
                    value: Value::Str(text.to_string()),
                    plain: None,
                    ..image.clone()
                };
                (key, node)
            })
            .collect();
        image.value = Value::Map(crate::yaml::Map::from_entries(entries));
    }
}

/// Merges and types every worker; problems go to `report`.
pub fn resolve(loaded: Loaded, report: &mut Report) -> Fleet {
    let (settings, repo_root) = resolve_settings(&loaded, report);
    let repo_root = repo_root.as_ref();
    typed::<ChartSpec>(repo_root, "chart", report);
    let mut repo_defaults = fragment(repo_root, "defaults", Layer::Repo);
    check_fragment(&mut repo_defaults, report);
    let repo_chart = fragment(repo_root, "chart", Layer::Repo);

    let mut environments = Vec::new();
    let mut clusters = Vec::new();
    let mut workers = Vec::new();
    for files in &loaded.environments {
        let Some(parsed) = &files.environment else {
            continue;
        };
        let root = top_map(parsed, decl::ENVIRONMENT_KEYS, report);
        let mut octopus_node = root
            .and_then(|root| root.get("octopus"))
            .cloned()
            .unwrap_or_else(|| Node::map(Loc::new(parsed.file, 1, 1)));
        let octopus: OctopusSpec = typed_keeping_text(&mut octopus_node, report);
        typed::<ChartSpec>(root, "chart", report);
        let environment_secrets = secrets_fragment(root, report);
        let mut environment_defaults = fragment(root, "defaults", Layer::Environment);
        check_fragment(&mut environment_defaults, report);
        let environment_chart = fragment(root, "chart", Layer::Environment);
        let environment_index = environments.len();
        environments.push(Environment {
            name: files.name.clone(),
            file: parsed.file,
            octopus_node,
            octopus,
            readable: root.is_some(),
        });
        // Clusters resolve independently: in parallel, each with its own report. A
        // readable cluster file (a map) gets the next index, known before resolving.
        let inherited = Inherited {
            defaults: [&repo_defaults, &environment_defaults],
            charts: [&repo_chart, &environment_chart],
            secrets: &environment_secrets,
            octopus: (
                &environments[environment_index].octopus_node,
                &environments[environment_index].octopus,
            ),
        };
        let resolved = resolve_clusters(files, inherited, environment_index, clusters.len());
        let mut environment_majors = std::collections::BTreeSet::new();
        for (cluster, local) in resolved {
            report.append(local);
            let Some((cluster, cluster_workers)) = cluster else {
                continue;
            };
            environment_majors.extend(enabled_majors(&cluster_workers));
            debug_assert!(cluster_workers.iter().all(|worker| worker.cluster == clusters.len()));
            clusters.push(cluster);
            workers.extend(cluster_workers);
        }
        for major in &environment_majors {
            if let Some(reference) = crate::chart_values::reference(*major) {
                check_values_keys(&environment_defaults, reference, report);
            }
        }
    }
    for major in enabled_majors(&workers) {
        if let Some(reference) = crate::chart_values::reference(major) {
            check_values_keys(&repo_defaults, reference, report);
        }
    }
    Fleet {
        sources: loaded.sources,
        settings,
        environments,
        clusters,
        workers,
    }
}

/// A cluster file resolved on its own: the cluster and workers (if readable), and its problems.
type ResolvedCluster = (Option<(Cluster, Vec<Worker>)>, Report);

/// The cluster files of an environment, resolved independently: in parallel, each with
/// its own report. A readable cluster file (a map) gets the next index from `first`.
fn resolve_clusters(
    files: &EnvironmentFiles,
    inherited: Inherited<'_>,
    environment: usize,
    first: usize,
) -> Vec<ResolvedCluster> {
    let places = cluster_places(files, environment, first);
    files
        .clusters
        .par_iter()
        .zip(places)
        .map(|((_, parsed), place)| {
            let mut local = Report::new();
            let cluster = resolve_cluster(parsed, place, inherited, &mut local);
            (cluster, local)
        })
        .collect()
}

/// What a cluster file inherits from `workergen.yaml` and its environment.
#[derive(Clone, Copy)]
struct Inherited<'a> {
    /// The `defaults` of `workergen.yaml` and of the environment, lowest first.
    defaults: [&'a Node; 2],
    /// The `chart:` blocks of `workergen.yaml` and of the environment, lowest first.
    charts: [&'a Node; 2],
    /// The environment's `secrets:` block.
    secrets: &'a Node,
    /// The environment's `octopus:` block, as written and typed.
    octopus: (&'a Node, &'a OctopusSpec),
}

/// Where a cluster file stands in the fleet.
#[derive(Clone, Copy)]
struct Place<'a> {
    environment: usize,
    /// The index the cluster gets in [`Fleet::clusters`].
    cluster: usize,
    environment_name: &'a str,
    cluster_name: &'a str,
}

/// The place of each cluster file of an environment, in order. Only a readable file (a
/// map: what [`top_map`] accepts) becomes a cluster, so only it takes up an index; the
/// others keep the next one, which they never use.
fn cluster_places(files: &EnvironmentFiles, environment: usize, first: usize) -> Vec<Place<'_>> {
    let mut next = first;
    files
        .clusters
        .iter()
        .map(|(cluster_name, parsed)| {
            let place = Place {
                environment,
                cluster: next,
                environment_name: &files.name,
                cluster_name,
            };
            if parsed.root.as_ref().is_some_and(|root| root.as_map().is_some()) {
                next += 1;
            }
            place
        })
        .collect()
}

/// A cluster's effective `octopus:`: the environment's, with each key of the cluster
/// file's `octopus:` replacing the environment's whole (an `auth` of another kind must not
/// merge into two kinds); and the cluster file's own block.
fn resolve_octopus(
    root: &Node,
    environment: (&Node, &OctopusSpec),
    report: &mut Report,
) -> (Node, OctopusSpec, Option<Node>) {
    let (environment_node, environment_spec) = environment;
    let Some(written) = root.get("octopus").filter(|node| !node.is_null()) else {
        return (environment_node.clone(), environment_spec.clone(), None);
    };
    let mut written = written.clone();
    let spec: crate::decl::ClusterOctopusSpec = typed_keeping_text(&mut written, report);
    written.set_layer(Layer::Cluster);
    let mut node = environment_node.clone();
    let mut octopus = environment_spec.clone();
    let Some(map) = written.as_map() else {
        return (node, octopus, None);
    };
    for (key, value) in map.entries() {
        if value.is_null() {
            continue;
        }
        match key.name.as_str() {
            "auth" if spec.auth.is_some() => octopus.auth.clone_from(&spec.auth),
            "serverCertificateSecret" if spec.server_certificate_secret.is_some() => {
                octopus
                    .server_certificate_secret
                    .clone_from(&spec.server_certificate_secret);
            }
            _ => continue,
        }
        if let Some(target) = node.as_map_mut() {
            target.insert(key.clone(), value.clone());
        }
    }
    (node, octopus, Some(written))
}

/// One cluster file: its cluster and workers (their `cluster` index is set by the caller).
fn resolve_cluster(
    parsed: &Parsed,
    place: Place<'_>,
    inherited: Inherited<'_>,
    report: &mut Report,
) -> Option<(Cluster, Vec<Worker>)> {
    let root = top_map(parsed, decl::CLUSTER_KEYS, report)?;
    let (cluster_spec, cluster_clean): (ClusterSpec, bool) = typed_checked(Some(root), "cluster", report);
    typed::<ChartSpec>(Some(root), "chart", report);
    let mut cluster_defaults = fragment(Some(root), "defaults", Layer::Cluster);
    check_fragment(&mut cluster_defaults, report);
    let cluster_chart = fragment(Some(root), "chart", Layer::Cluster);
    let cluster_secrets = secrets_fragment(Some(root), report);
    let (octopus_node, octopus, octopus_written) = resolve_octopus(root, inherited.octopus, report);
    let [repo_chart, environment_chart] = inherited.charts;
    let chart = resolve_chart(&[repo_chart.clone(), environment_chart.clone(), cluster_chart]);
    let cluster = Cluster {
        environment: place.environment,
        name: place.cluster_name.to_string(),
        file: parsed.file,
        destination: cluster_spec.destination.and_then(|d| match (d.server, d.name) {
            (Some(server), None) => Some(Destination::Server(server)),
            (None, Some(name)) => Some(Destination::Name(name)),
            _ => None,
        }),
        destination_loc: root
            .get_path(["cluster", "destination"])
            .or_else(|| root.get("cluster"))
            .map_or(root.loc, |node| node.loc),
        destination_node: root.get_path(["cluster", "destination"]).cloned(),
        destination_reported: !cluster_clean,
        external_secret: resolve_external_secret(inherited.secrets, &cluster_secrets),
        octopus_node,
        octopus,
        octopus_written,
    };
    let [repo_defaults, environment_defaults] = inherited.defaults;
    let layers = [repo_defaults.clone(), environment_defaults.clone(), cluster_defaults];
    if !merged_size_within_limit(root, &layers, report) {
        return Some((cluster, Vec::new()));
    }
    let workers = resolve_workers(root, &layers, &chart, place, report);
    if workers.iter().any(|worker| worker.installed) {
        if let Some(reference) = chart.major().and_then(crate::chart_values::reference) {
            check_values_keys(&layers[2], reference, report);
        }
    }
    Some((cluster, workers))
}

/// The `secrets:` block of a file, checked where it is written (types, unknown keys; its
/// text fields keep the text as written).
fn secrets_fragment(root: Option<&Node>, report: &mut Report) -> Node {
    // No layer: `secrets:` is no worker-field layer; its place names its file's part
    // (`environment` or `cluster`) in `diff` and `explain`.
    let mut node = fragment(root, "secrets", Layer::None);
    let _: SecretsSpec = typed_keeping_text(&mut node, report);
    node
}

/// The environment's and the cluster's `secrets.externalSecret`, merged like `chart:`
/// (a cluster file overrides field by field; `externalSecret: null` turns delivery off).
fn resolve_external_secret(environment: &Node, cluster: &Node) -> Option<ExternalSecret> {
    // A cluster that switches to another store (kind or name) and writes a remote
    // reference takes that reference whole: the environment's `property` and `version`
    // of the same reference name a place in the other store, and the ExternalSecret
    // would never sync. References it does not write are the environment's, whole.
    let store = |node: &Node, key: &str| {
        node.get_path(["externalSecret", "storeRef", key])
            .and_then(Node::as_str)
            .map(str::to_string)
    };
    let switches = ["kind", "name"].iter().any(|key| {
        store(cluster, key).is_some_and(|value| store(environment, key).is_some_and(|lower| lower != value))
    });
    let mut environment = environment.clone();
    let written: Vec<String> = cluster
        .get_path(["externalSecret", "remoteRefs"])
        .and_then(Node::as_map)
        .map(|refs| refs.keys().map(str::to_string).collect())
        .unwrap_or_default();
    let lower_refs = environment
        .as_map_mut()
        .and_then(|map| map.get_mut("externalSecret"))
        .and_then(Node::as_map_mut)
        .and_then(|map| map.get_mut("remoteRefs"))
        .and_then(Node::as_map_mut);
    if let (true, Some(lower_refs)) = (switches, lower_refs) {
        for name in &written {
            lower_refs.remove(name);
        }
    }
    let merged = merge::merge([&environment, cluster], Node::map(Loc::default()));
    let node = merged.get("externalSecret").filter(|node| !node.is_null())?.clone();
    let mut ignored = Vec::new();
    let spec = from_node_partial(&node, &mut ignored).unwrap_or_default();
    Some(ExternalSecret { node, spec })
}

/// Checks the keys of a fragment's `values` against the chart, where they are written:
/// once per fragment, not once per worker that merges it, so a large shared fragment
/// is not checked a thousand times.
fn check_values_keys(fragment: &Node, reference: &crate::chart_values::ChartValues, report: &mut Report) {
    if let Some(values) = fragment.get("values") {
        let mut diagnostics = Vec::new();
        crate::chart_values::check_keys(values, reference, &mut diagnostics);
        report.extend(diagnostics);
    }
}

/// The chart majors of the enabled workers in `workers`, each once, in order.
fn enabled_majors(workers: &[Worker]) -> std::collections::BTreeSet<u64> {
    workers
        .iter()
        .filter(|worker| worker.installed)
        .filter_map(|worker| worker.chart.major())
        .collect()
}

/// Nodes in `node`, itself included.
fn node_count(node: &Node) -> usize {
    1 + match &node.value {
        Value::Map(map) => map.entries().iter().map(|(_, child)| node_count(child)).sum(),
        Value::Seq(items) => items.iter().map(node_count).sum(),
        _ => 0,
    }
}

/// Whether the workers of a cluster file stay within [`MAX_MERGED_NODES`]; if not, the
/// error is reported at its `workers:` and none of them is merged.
fn merged_size_within_limit(root: &Node, layers: &[Node; 3], report: &mut Report) -> bool {
    let Some(Value::Map(workers)) = root.get("workers").map(|node| &node.value) else {
        return true;
    };
    let defaults: usize = layers.iter().map(node_count).sum();
    let merged = workers
        .entries()
        .iter()
        .map(|(_, own)| defaults + node_count(own))
        .fold(0usize, usize::saturating_add);
    if merged <= MAX_MERGED_NODES {
        return true;
    }
    let key = root
        .as_map()
        .and_then(|map| map.get_entry("workers"))
        .map_or(root.loc, |(key, _)| key.loc);
    report.push(
        Diagnostic::error(
            key,
            format!(
                "the {} workers of this file merge to {merged} value nodes, more than the {MAX_MERGED_NODES} allowed",
                workers.len()
            ),
        )
        .with_hint(format!(
            "the `defaults` above these workers hold {defaults} nodes and are copied into each of them: keep large shared `values` smaller, or split the workers over more cluster files"
        )),
    );
    false
}

/// The workers of a cluster file, each merged over `layers` (repo, environment and
/// cluster `defaults`) and typed.
fn resolve_workers(
    root: &Node,
    layers: &[Node; 3],
    chart: &Chart,
    place: Place<'_>,
    report: &mut Report,
) -> Vec<Worker> {
    let mut workers = Vec::new();
    let Some(entries) = worker_entries(root, report) else {
        return workers;
    };
    // The three `defaults` layers are the same for every worker of the file: merged once,
    // not per worker, then each worker's own fields over a copy, as `merge::merge` of all
    // four would. The root keeps the worker key's place, as a merge into
    // `Node::map(key.loc)` gives it, unless a layer replaced the root.
    let base = merge::merge(layers, Node::map(Loc::default()));
    let seeded = base.loc == Loc::default();
    let defaults_idle = idle_values_removals(layers);
    for (key, node) in entries {
        let mut own = if node.is_null() {
            Node::map(key.loc)
        } else {
            node.clone()
        };
        own.set_layer(Layer::Worker);
        check_fragment(&mut own, report);
        let mut fields = base.clone();
        if seeded {
            fields.loc = key.loc;
        }
        merge::overlay(&mut fields, &own);
        let mut ignored = Vec::new();
        let Some(mut spec) = from_node::<WorkerSpec>(&fields, &mut ignored) else {
            continue;
        };
        let namespace = located(
            spec.namespace.take(),
            fields.get("namespace"),
            crate::names::default_namespace(&key.name),
        );
        let display_name = located(
            spec.display_name.take(),
            fields.get("displayName"),
            format!("{}-{}-{}", place.environment_name, place.cluster_name, key.name),
        );
        report.extend(fields.get("enabled").map(|node| retired_enabled(node, spec.enabled)));
        if spec.installed.unwrap_or(true) {
            if let Some(reference) = chart.major().and_then(crate::chart_values::reference) {
                check_values_keys(&own, reference, report);
            }
        }
        workers.push(Worker {
            environment: place.environment,
            cluster: place.cluster,
            name: key.name.clone(),
            name_loc: key.loc,
            installed: spec.installed.unwrap_or(true),
            disabled: spec.disabled.unwrap_or(false),
            spec: WorkerFacts::of(spec),
            fields,
            chart: chart.clone(),
            namespace,
            display_name,
            idle_removals: [&defaults_idle[..], &own_idle_removals(&base, &own)].concat(),
        });
    }
    workers
}

/// The entries under a cluster file's `workers:`; `None` when there are none, or when it
/// is no map (reported).
fn worker_entries<'a>(root: &'a Node, report: &mut Report) -> Option<&'a [(crate::yaml::Key, Node)]> {
    let workers_node = root.get("workers")?;
    match &workers_node.value {
        Value::Map(map) => Some(map.entries()),
        Value::Null => None,
        _ => {
            report.push(Diagnostic::error(
                workers_node.loc,
                format!(
                    "`workers` must be a map of worker names to their fields, found {}",
                    workers_node.kind()
                ),
            ));
            None
        }
    }
}

/// The idle removals ([`merge::idle_removals`]) of a worker's own `values` over the
/// `values` its `defaults` merge to (`base`).
fn own_idle_removals(base: &Node, own: &Node) -> Vec<(crate::yaml::KeyPath, Loc)> {
    own.get("values")
        .map(|values| merge::idle_removals(base.get("values"), values))
        .unwrap_or_default()
}

/// The idle removals ([`merge::idle_removals`]) of the `values` of the `defaults` layers,
/// each over the layers below it.
fn idle_values_removals(layers: &[Node; 3]) -> Vec<(crate::yaml::KeyPath, Loc)> {
    let mut below: Option<Node> = None;
    let mut idle = Vec::new();
    for values in layers.iter().filter_map(|layer| layer.get("values")) {
        idle.extend(merge::idle_removals(below.as_ref(), values));
        match &mut below {
            Some(below) => merge::overlay(below, values),
            None => below = Some(merge::merge([values], Node::map(Loc::default()))),
        }
    }
    idle
}

/// The error for the retired `enabled` key, at its line: it meant "uninstall" to
/// workergen and "kept but unused" to Octopus, so it is replaced by one word for each.
fn retired_enabled(node: &Node, value: Option<bool>) -> Diagnostic {
    let hint = match value {
        Some(false) => "to uninstall the worker (remove it from the cluster; its namespace stays) write `installed: false`; to keep it installed but disabled in Octopus (no work is sent to it) write `disabled: true`",
        _ => "remove the line: workers are installed and enabled unless `installed: false` or `disabled: true` says otherwise",
    };
    Diagnostic::error(
        node.loc,
        "`enabled` is no longer a worker field: it said two different things",
    )
    .with_hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Loads, resolves and validates a repository of `files`, keeping the report as
    /// collected (before [`Report::sort`] drops repeats).
    fn unsorted_report(files: &[(&str, &str)]) -> Report {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let mut report = Report::new();
        let loaded = crate::load::load(&crate::tree::fs::FsTree::new(dir.path()), &mut report).unwrap();
        let fleet = resolve(loaded, &mut report);
        crate::validate::validate(&fleet, &mut report);
        report
    }

    const WORKERGEN: &str = "acceptEula: true\ngitops:\n  engine: flux\n";
    const ENVIRONMENT: &str = "octopus:\n  serverUrl: https://octopus.example.com/\n  serverCommsAddresses:\n    - https://octopus.example.com:10943/\n  space: Default\n  auth:\n    bearerTokenSecret: octopus-worker-token\n";

    #[test]
    fn unknown_values_keys_of_defaults_are_checked_once_per_fragment_not_per_worker() {
        let report = unsorted_report(&[
            ("workergen.yaml", &format!("{WORKERGEN}defaults:\n  values:\n    agent:\n      repoTypo: 1\n")),
            (
                "environments/prod/environment.yaml",
                &format!("{ENVIRONMENT}defaults:\n  values:\n    agent:\n      environmentTypo: 1\n"),
            ),
            (
                "environments/prod/eu.yaml",
                "cluster:\n  destination:\n    server: https://eu.example.com\ndefaults:\n  workerPools: [Deploy]\n  values:\n    agent:\n      clusterTypo: 1\nworkers:\n  a: {}\n  b: {}\n  c:\n    values:\n      agent:\n        workerTypo: 1\n",
            ),
            (
                "environments/prod/us.yaml",
                "cluster:\n  destination:\n    server: https://us.example.com\ndefaults:\n  workerPools: [Deploy]\nworkers:\n  d: {}\n  e: {}\n",
            ),
        ]);
        for typo in ["repoTypo", "environmentTypo", "clusterTypo", "workerTypo"] {
            let found = report
                .diagnostics()
                .iter()
                .filter(|diagnostic| diagnostic.message.contains(&format!("`values.agent.{typo}`")))
                .count();
            assert_eq!(found, 1, "{typo}: {:#?}", report.diagnostics());
        }
    }

    #[test]
    fn a_cluster_file_merging_too_many_nodes_is_refused_at_its_workers() {
        let mut cluster = String::from(
            "cluster:\n  destination:\n    server: https://eu.example.com\ndefaults:\n  workerPools: [Deploy]\n  values:\n    agent:\n      nodeSelector:\n",
        );
        for key in 0..2_000 {
            cluster.push_str(&format!("        k{key}: v\n"));
        }
        cluster.push_str("workers:\n");
        for worker in 0..500 {
            cluster.push_str(&format!("  w{worker}: {{}}\n"));
        }
        let report = unsorted_report(&[
            ("workergen.yaml", WORKERGEN),
            ("environments/prod/environment.yaml", ENVIRONMENT),
            ("environments/prod/eu.yaml", &cluster),
        ]);
        let refusals: Vec<_> = report
            .diagnostics()
            .iter()
            .filter(|diagnostic| {
                diagnostic
                    .message
                    .contains("value nodes, more than the 1000000 allowed")
            })
            .collect();
        assert_eq!(refusals.len(), 1, "{:#?}", report.diagnostics());
        let loc = refusals[0].loc.unwrap();
        assert_eq!((loc.line, loc.col), (2009, 1));
        assert!(refusals[0]
            .message
            .starts_with("the 500 workers of this file merge to "));

        // Half the workers stay within the limit.
        let within: String = cluster
            .lines()
            .take(2009 + 250)
            .map(|line| format!("{line}\n"))
            .collect();
        let report = unsorted_report(&[
            ("workergen.yaml", WORKERGEN),
            ("environments/prod/environment.yaml", ENVIRONMENT),
            ("environments/prod/eu.yaml", &within),
        ]);
        assert!(!report.has_errors(), "{:#?}", report.diagnostics());
    }
}
