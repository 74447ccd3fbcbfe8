//! Render: each worker's Helm values and the Argo CD or Flux objects that deploy them.
//!
//! A render builds the output as data first (`model::Output`: per worker its values
//! and objects as trees, per cluster its own files, the shared parents and CRDs), then
//! emits the bytes ([`render`] does both per cluster, in parallel, so only a few
//! clusters' trees are alive at once); nothing is written when anything fails, then
//! [`output::write_tree`] writes the files safely, or [`stream`] prints them. Every file
//! starts with the ownership marker naming the declarations it came from, and every
//! tree is written canonically (sorted keys, one quoting style), so the bytes only
//! depend on the declarations.

pub(crate) mod cluster_objects;
mod folder;
pub(crate) mod model;
mod native;
pub mod output;
pub(crate) mod parents;
pub(crate) mod retire;
pub mod templates;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use rayon::prelude::*;
use serde::Serialize;

use crate::chart;
use crate::decl::Engine;
use crate::model::{Cluster, Destination, Fleet, Worker};
use crate::names;
use crate::source::{FileId, Origin};
use crate::yaml::{self, Limits, Node};
use model::{ClusterTree, Document, Output, WorkerTree};
use templates::{TemplateError, Templates};

/// Which part of the fleet to render: `--env` and `--cluster`.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub(crate) environment: Option<String>,
    pub(crate) cluster: Option<String>,
}

impl Scope {
    /// A scope from `--env` and `--cluster`, where an empty value means all (so the
    /// Argo CD plugin's `--cluster "$ARGOCD_ENV_CLUSTER"` works with the variable unset).
    pub(crate) fn new(environment: Option<&str>, cluster: Option<&str>) -> Self {
        let given = |value: Option<&str>| value.filter(|value| !value.is_empty()).map(str::to_string);
        Self {
            environment: given(environment),
            cluster: given(cluster),
        }
    }

    /// Whether the scope is the whole fleet.
    pub(crate) fn is_all(&self) -> bool {
        self.environment.is_none() && self.cluster.is_none()
    }

    pub(crate) fn includes(&self, fleet: &Fleet, cluster: &Cluster) -> bool {
        self.matches(&fleet.environments[cluster.environment].name, &cluster.name)
    }

    /// Whether the cluster `environment/cluster` is in the scope.
    pub(crate) fn matches(&self, environment: &str, cluster: &str) -> bool {
        self.environment.as_ref().is_none_or(|wanted| wanted == environment)
            && self.cluster.as_ref().is_none_or(|wanted| wanted == cluster)
    }
}

/// The files of one render, relative to the output folder, and the folders it owns.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// The files to write; empty for an inline render (`--stdout` reads `objects`).
    pub files: output::Files,
    /// Folders (relative to the output folder) in which stale files are removed.
    pub scope: Vec<PathBuf>,
    /// Rendered objects, for `--stdout`, in output order; empty unless inline.
    pub(crate) objects: Vec<String>,
    pub(crate) workers: usize,
    /// The folders of the parents this render wrote (see [`parents::scope`]).
    pub(crate) parents: Vec<PathBuf>,
}

/// What a worker's templates see. Documented in README ("Templates").
///
/// Its names are borrowed from the fleet: each worker has two or three contexts, and
/// copying every name into each was a tenth of `render`.
#[derive(Debug, Serialize)]
struct WorkerInfo<'a> {
    name: &'a str,
    namespace: &'a str,
    environment: &'a str,
    cluster: &'a str,
    display_name: &'a str,
    application_name: String,
    values_config_map: String,
    /// `<output>/<env>/<cluster>/<worker>/values.yaml`, from the repository root.
    values_path: String,
    /// `<worker>/values.yaml`, from the cluster folder.
    values_file: String,
    /// `<worker>/helmrelease.yaml` or `<worker>/application.yaml`, from the cluster folder.
    manifest_path: String,
}

#[derive(Debug, Serialize)]
struct ClusterInfo<'a> {
    name: &'a str,
    environment: &'a str,
    destination: BTreeMap<&'static str, &'a str>,
}

#[derive(Debug, Serialize)]
struct ChartInfo<'a> {
    repository: &'a str,
    /// The repository without its `oci://` scheme, as Argo CD wants it.
    repository_host: &'a str,
    /// `oci://<repository>/<name>`, as Flux wants it.
    oci_url: String,
    name: &'a str,
    version: &'a str,
    /// The name of the cluster's `OCIRepository` for this chart and version.
    source_name: String,
    /// The version as an OCI tag: Helm pushes `+` (build metadata) as `_`.
    oci_tag: String,
}

#[derive(Debug, Serialize)]
struct ArgocdInfo<'a> {
    namespace: &'a str,
    project: &'a str,
    #[serde(rename = "repoURL")]
    repo_url: Option<&'a str>,
    #[serde(rename = "targetRevision")]
    target_revision: &'a str,
}

#[derive(Debug, Serialize)]
struct FluxInfo<'a> {
    namespace: &'a str,
    interval: &'a str,
}

#[derive(Debug, Serialize)]
struct Context<'a> {
    engine: &'static str,
    inline: bool,
    cluster: ClusterInfo<'a>,
    chart: ChartInfo<'a>,
    argocd: ArgocdInfo<'a>,
    flux: FluxInfo<'a>,
    labels: BTreeMap<&'a str, &'a str>,
    /// (externalsecret) the labels of the credential Secret: `labels` less the
    /// instance label, which engines use to track what they own.
    secret_labels: BTreeMap<&'a str, &'a str>,
    worker: Option<WorkerInfo<'a>>,
    workers: Vec<WorkerInfo<'a>>,
    /// The worker's values, numbers as written (see [`templates::values_value`]).
    values: Option<Values>,
    /// (externalsecret) the credential Secret (see [`cluster_objects::SecretInfo`]).
    secret: Option<cluster_objects::SecretInfo>,
    /// (cluster-application) the cluster's own Argo CD Application: `name`, `path`.
    cluster_application: Option<cluster_objects::ClusterApplicationInfo>,
    /// (kustomization) the cluster's own resources after the workers' manifests: their
    /// Namespaces, ExternalSecrets and the CRD.
    cluster_resources: Vec<String>,
}

/// A worker's values in a template context: the tree itself, which the built-in
/// templates written in Rust ([`native`]) take into the object they build (no copy
/// of the tree per object), turned into a template value only when a template reads it.
#[derive(Debug)]
struct Values(std::cell::RefCell<Option<Node>>);

impl Values {
    fn new(values: Node) -> Self {
        Self(std::cell::RefCell::new(Some(values)))
    }

    /// The tree, once: the object that inlines it owns it then.
    fn take(&self) -> Option<Node> {
        self.0.borrow_mut().take()
    }
}

impl Serialize for Values {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // A minijinja value serializes as itself into a template context.
        match &*self.0.borrow() {
            Some(values) => templates::values_value(values).serialize(serializer),
            None => serializer.serialize_none(),
        }
    }
}

/// The value of `app.kubernetes.io/part-of` on every object workergen renders.
pub(crate) const PART_OF: &str = "octopus-workers";

/// The labels of a cluster's objects: the recommended `app.kubernetes.io` ones and
/// workergen's own, under the configured prefix.
pub(crate) fn cluster_labels<'a>(
    fleet: &'a Fleet,
    environment: &'a str,
    cluster: &'a str,
) -> BTreeMap<&'a str, &'a str> {
    let keys = &fleet.settings.label_keys;
    BTreeMap::from([
        ("app.kubernetes.io/managed-by", "workergen"),
        ("app.kubernetes.io/part-of", PART_OF),
        (keys.environment.as_str(), environment),
        (keys.cluster.as_str(), cluster),
    ])
}

/// Adds the labels that name a worker: its release is the chart's instance.
pub(crate) fn add_worker_labels<'a>(labels: &mut BTreeMap<&'a str, &'a str>, fleet: &'a Fleet, worker: &'a Worker) {
    labels.insert(fleet.settings.label_keys.worker.as_str(), &worker.name);
    labels.insert("app.kubernetes.io/name", "kubernetes-agent");
    labels.insert("app.kubernetes.io/instance", &worker.name);
}

/// The marker line every generated file starts with.
fn marker(fleet: &Fleet, files: &BTreeSet<FileId>) -> String {
    let mut paths: Vec<&str> = files.iter().map(|id| fleet.sources.path(*id)).collect();
    paths.sort_unstable();
    format!("{}{}. Do not edit.\n", output::MARKER, paths.join(", "))
}

fn files_of(node: &Node, files: &mut BTreeSet<FileId>) {
    node.for_each_leaf(&mut Vec::new(), &mut |_, leaf| {
        if let Some(loc) = leaf.declared_at() {
            files.insert(loc.file);
        }
    });
}

fn worker_info<'a>(fleet: &'a Fleet, worker: &'a Worker, engine: Engine) -> WorkerInfo<'a> {
    let cluster = fleet.cluster_of(worker);
    let environment = &fleet.environments[cluster.environment].name;
    let manifest = if engine == Engine::Argocd {
        "application.yaml"
    } else {
        "helmrelease.yaml"
    };
    WorkerInfo {
        name: &worker.name,
        namespace: &worker.namespace.value,
        environment,
        cluster: &cluster.name,
        display_name: &worker.display_name.value,
        application_name: names::application_name(environment, &cluster.name, &worker.name),
        values_config_map: names::values_config_map(&worker.name),
        values_path: format!(
            "{}/{environment}/{}/{}/values.yaml",
            fleet.settings.output.value, cluster.name, worker.name
        ),
        values_file: format!("{}/values.yaml", worker.name),
        manifest_path: format!("{}/{manifest}", worker.name),
    }
}

fn chart_info(worker: &Worker) -> ChartInfo<'_> {
    let chart = &worker.chart;
    let repository = chart.repository.value.trim_end_matches('/');
    let version = chart.version.value.as_str();
    ChartInfo {
        repository_host: repository.strip_prefix("oci://").unwrap_or(repository),
        oci_url: format!("{repository}/{}", chart.name.value),
        source_name: names::oci_repository_name(&chart.name.value, version),
        oci_tag: version.replace('+', "_"),
        repository,
        name: &chart.name.value,
        version,
    }
}

fn context<'a>(fleet: &'a Fleet, cluster: &'a Cluster, first: &'a Worker, inline: bool) -> Context<'a> {
    let settings = &fleet.settings;
    let environment = fleet.environments[cluster.environment].name.as_str();
    let destination = match &cluster.destination {
        Some(Destination::Server(server)) => BTreeMap::from([("server", server.as_str())]),
        Some(Destination::Name(name)) => BTreeMap::from([("name", name.as_str())]),
        None => BTreeMap::new(),
    };
    let labels = cluster_labels(fleet, environment, &cluster.name);
    Context {
        engine: settings.engine.value.as_str(),
        inline,
        cluster: ClusterInfo {
            name: &cluster.name,
            environment,
            destination,
        },
        chart: chart_info(first),
        argocd: ArgocdInfo {
            namespace: &settings.argocd.namespace,
            project: &settings.argocd.project,
            repo_url: settings.argocd.repo_url.as_deref(),
            target_revision: &settings.argocd.target_revision,
        },
        flux: FluxInfo {
            namespace: &settings.flux.namespace,
            interval: &settings.flux.interval,
        },
        labels,
        secret_labels: BTreeMap::new(),
        worker: None,
        workers: Vec::new(),
        values: None,
        secret: None,
        cluster_application: None,
        cluster_resources: Vec::new(),
    }
}

/// The tree of template `name` for `context`: built in Rust for a built-in template
/// ([`native`], the one definition of workergen's manifests), else the output of the
/// config repository's template, parsed.
fn object_node(templates: &Templates, name: &str, context: &Context) -> Result<Node, TemplateError> {
    if templates.is_builtin(name) {
        if let Some(node) = native::object(name, context) {
            return Ok(node);
        }
    }
    let text = templates.render(name, context)?;
    let node = parse_object(templates, name, &text)?;
    // An empty output (or `null`, or a bare scalar) would be written as a file of
    // `null`, which kustomize and Argo CD read as no object at all.
    if !matches!(node.value, yaml::Value::Map(_) | yaml::Value::Seq(_)) {
        return Err(TemplateError::new(
            template_path(templates, name),
            "the template renders no object (its output is empty, `null` or a bare value)",
        ));
    }
    Ok(node)
}

/// Parses the output `text` of template `name` with the full parser.
fn parse_object(templates: &Templates, name: &str, text: &str) -> Result<Node, TemplateError> {
    let node = yaml::parse_undeclared(text, Origin::Generated, Limits::default()).map_err(|diagnostic| {
        TemplateError::new(
            template_path(templates, name),
            format!(
                "the template's output is not valid YAML (output line {}): {}",
                diagnostic.loc.map_or(0, |loc| loc.line),
                diagnostic.message
            ),
        )
    })?;
    Ok(node)
}

/// One installed worker's output on disk, as a render of its cluster builds it.
pub(crate) fn build_one(fleet: &Fleet, templates: &Templates, worker: &Worker) -> Result<WorkerTree, TemplateError> {
    let cluster = fleet.cluster_of(worker);
    let crd = cluster_objects::cluster_crd(&[worker]);
    let mut built = build_cluster(fleet, templates, cluster, &[worker], crd, false)?;
    Ok(built.workers.remove(0))
}

/// The template and file name of the worker's own manifest and the template's
/// context, or `None` for engine `none`.
fn manifest_context<'a>(
    fleet: &'a Fleet,
    worker: &'a Worker,
    values: Node,
    inline: bool,
) -> Option<(&'static str, &'static str, Context<'a>)> {
    let engine = fleet.settings.engine.value;
    let (template, file) = match engine {
        Engine::None => return None,
        Engine::Argocd => ("application.yaml.j2", "application.yaml"),
        Engine::Flux => ("helmrelease.yaml.j2", "helmrelease.yaml"),
    };
    let mut context = context(fleet, fleet.cluster_of(worker), worker, inline);
    add_worker_labels(&mut context.labels, fleet, worker);
    context.values = Some(Values::new(values));
    context.worker = Some(worker_info(fleet, worker, engine));
    Some((template, file, context))
}

/// The files a worker's values came from, for its marker.
pub(crate) fn values_files(fleet: &Fleet, worker: &Worker, values: &Node) -> BTreeSet<FileId> {
    let mut files = BTreeSet::from([fleet.cluster_of(worker).file]);
    files_of(values, &mut files);
    files
}

fn template_path(templates: &Templates, name: &str) -> String {
    if templates.overridden.iter().any(|overridden| overridden == name) {
        format!("{}/{name}", templates::OVERRIDES)
    } else {
        format!("{name} (built in)")
    }
}

/// Builds one cluster file's output. `crd` is the chart CRD its own objects deploy
/// (under Argo CD, when it owns its destination's; inline, its own newest).
fn build_cluster(
    fleet: &Fleet,
    templates: &Templates,
    cluster: &Cluster,
    workers: &[&Worker],
    crd: Option<crate::crds::Crd>,
    inline: bool,
) -> Result<ClusterTree, TemplateError> {
    let engine = fleet.settings.engine.value;
    let folder = PathBuf::from(&fleet.environments[cluster.environment].name).join(&cluster.name);
    let mut out = ClusterTree {
        environment: fleet.environments[cluster.environment].name.clone(),
        name: cluster.name.clone(),
        workers: Vec::with_capacity(workers.len()),
        source: None,
        files: Vec::new(),
        crd: None,
    };
    let mut cluster_files = BTreeSet::from([cluster.file]);
    cluster_files.extend(fleet.settings.file);
    let Some(first) = workers.first() else {
        // No worker installed: a folder that builds to nothing, so the engine prunes
        // what it applied from there before.
        if engine != Engine::None && !inline {
            let text = cluster_objects::kustomization(&marker(fleet, &cluster_files), &[]);
            out.files.push(Document::text(folder.join("kustomization.yaml"), text));
        }
        return Ok(out);
    };
    let base = context(fleet, cluster, first, inline);
    // On disk, the chart's source is its destination's (see [`parents`]).
    if engine == Engine::Flux && inline {
        let mut files = cluster_files.clone();
        for source in [
            &workers[0].chart.repository,
            &workers[0].chart.name,
            &workers[0].chart.version,
        ] {
            files.extend(source.loc.map(|loc| loc.file));
        }
        let node = object_node(templates, "ocirepository.yaml.j2", &base)?;
        out.source = Some(Document::tree(folder.join("ocirepository.yaml"), node, files));
    }
    let mut infos = Vec::new();
    for worker in workers {
        out.workers
            .push(build_worker(fleet, templates, worker, &folder, &cluster_files, inline)?);
        infos.push(worker_info(fleet, worker, engine));
    }
    let own = cluster_objects::build(fleet, templates, cluster, workers, crd, &folder, inline)?;
    out.crd = own.crd;
    for (tree, objects) in out.workers.iter_mut().zip(own.objects) {
        tree.objects = objects;
    }
    out.files.extend(own.files);
    if engine != Engine::None {
        let mut context = base;
        context.workers = infos;
        context.cluster_resources = own.resources;
        // Built inline too (a template error fails `--stdout` as it fails a render to
        // disk), but no object of the stream.
        let node = object_node(templates, "kustomization.yaml.j2", &context)?;
        out.files.push(Document::tree(
            folder.join("kustomization.yaml"),
            node,
            cluster_files.clone(),
        ));
        if engine == Engine::Flux {
            let node = object_node(templates, "kustomizeconfig.yaml.j2", &context)?;
            out.files
                .push(Document::tree(folder.join("kustomizeconfig.yaml"), node, cluster_files));
        }
    }
    Ok(out)
}

/// One worker's values and manifest. The manifest's context lends the values to the
/// template; a manifest that does not take them in (every one on disk) gives them back,
/// so the values tree is never copied.
fn build_worker(
    fleet: &Fleet,
    templates: &Templates,
    worker: &Worker,
    folder: &std::path::Path,
    cluster_files: &BTreeSet<FileId>,
    inline: bool,
) -> Result<WorkerTree, TemplateError> {
    let values = chart::values_of_valid(fleet, worker);
    let files = values_files(fleet, worker, &values);
    let worker_folder = folder.join(&worker.name);
    let mut tree = WorkerTree {
        name: worker.name.clone(),
        namespace: Some(worker.namespace.value.clone()),
        chart_version: Some(worker.chart.version.value.clone()),
        values: None,
        manifest: None,
        objects: Vec::new(),
    };
    let values = if fleet.settings.engine.value == Engine::None {
        Some(values)
    } else if let Some((template, file, context)) = manifest_context(fleet, worker, values, inline) {
        let mut manifest_files = files.clone();
        manifest_files.extend(cluster_files.iter().copied());
        let node = object_node(templates, template, &context)?;
        tree.manifest = Some(Document::tree(worker_folder.join(file), node, manifest_files));
        context.values.and_then(|values| values.take())
    } else {
        None
    };
    tree.values = values.map(|values| Document::tree(worker_folder.join("values.yaml"), values, files));
    Ok(tree)
}

/// Renders the clusters in `scope`; `inline` puts the values into the objects (`--stdout`).
pub fn render(fleet: &Fleet, templates: &Templates, scope: &Scope, inline: bool) -> Result<Rendered, TemplateError> {
    render_with_progress(fleet, templates, scope, inline, &|| {})
}

/// [`render`], calling `tick` after each cluster (for a progress bar). Each cluster is
/// built and emitted on its own thread, so the trees of only a few clusters are alive at
/// once: a fleet's bytes are far smaller than its trees.
pub(crate) fn render_with_progress(
    fleet: &Fleet,
    templates: &Templates,
    scope: &Scope,
    inline: bool,
    tick: &(dyn Fn() + Sync),
) -> Result<Rendered, TemplateError> {
    let include = |cluster: &Cluster| scope.includes(fleet, cluster);
    let emit = |cluster: ClusterTree| {
        let mut emitted = model::emit_cluster(fleet, &cluster, inline);
        // In path order here, in parallel: the clusters' files then come nearly in
        // order, which the sort of the whole finds.
        emitted.files.sort_unstable_by(|a, b| output::path_order(&a.0, &b.0));
        tick();
        (emitted, cluster.crd)
    };
    let built = build_selected(fleet, templates, &include, inline, &emit)?;
    let stream_crd = inline
        .then(|| model::stream_crd(built.clusters.iter().map(|(_, crd)| *crd)))
        .flatten();
    let shared = model::shared_bytes(fleet, &built.shared);
    let clusters = built.clusters.into_iter().map(|(emitted, _)| emitted);
    let (files, objects) = model::assemble(fleet, shared, clusters, stream_crd);
    let mut rendered = Rendered {
        files,
        objects,
        workers: built.workers,
        parents: built.parents,
        ..Rendered::default()
    };
    rendered.scope = render_scope(fleet, scope, &built.selected, &mut rendered);
    Ok(rendered)
}

/// The folders a render of `scope` owns: stale files go from these only.
fn render_scope(fleet: &Fleet, scope: &Scope, selected: &[usize], rendered: &mut Rendered) -> Vec<PathBuf> {
    let mut folders = match (&scope.environment, &scope.cluster) {
        (None, None) => vec![PathBuf::new()],
        (Some(environment), None) => vec![PathBuf::from(environment)],
        _ => selected
            .iter()
            .map(|index| {
                let cluster = &fleet.clusters[*index];
                PathBuf::from(&fleet.environments[cluster.environment].name).join(&cluster.name)
            })
            .collect(),
    };
    if !scope.is_all() {
        // A part of the fleet owns the parents of the destinations it deploys to, and the
        // CRD folders it uses (stale ones go with a whole render).
        folders.extend(rendered.parents.iter().cloned());
        let crd_folders: BTreeSet<PathBuf> = rendered
            .files
            .keys()
            .filter(|path| path.starts_with(crate::crds::FOLDER))
            .filter_map(|path| path.parent().map(PathBuf::from))
            .collect();
        folders.extend(crd_folders);
    }
    folders
}

/// The output of the clusters in `scope` as data: what `diff`, `explain`, `propose` and
/// `import` read ([`Output::emit`] gives its bytes).
pub(crate) fn build(
    fleet: &Fleet,
    templates: &Templates,
    scope: &Scope,
    inline: bool,
) -> Result<Output, TemplateError> {
    build_where(fleet, templates, &|cluster| scope.includes(fleet, cluster), inline)
}

/// [`build`] of the clusters `include` selects.
pub(crate) fn build_where(
    fleet: &Fleet,
    templates: &Templates,
    include: &(dyn Fn(&Cluster) -> bool + Sync),
    inline: bool,
) -> Result<Output, TemplateError> {
    let built = build_selected(fleet, templates, include, inline, &|cluster| cluster)?;
    let stream_crd = inline
        .then(|| model::stream_crd(built.clusters.iter().map(|cluster| cluster.crd)))
        .flatten();
    Ok(Output {
        inline,
        engine: Some(fleet.settings.engine.value),
        clusters: built.clusters,
        shared: built.shared,
        stream_crd,
    })
}

/// What [`build_selected`] gives: each selected cluster's output through `each`, and
/// what they share.
struct Built<T> {
    clusters: Vec<T>,
    shared: Vec<Document>,
    parents: Vec<PathBuf>,
    /// The indices of the clusters selected (with workers or not).
    selected: Vec<usize>,
    workers: usize,
}

/// Builds the clusters `include` selects, each on a thread and handed to `each` there,
/// and the files they share.
fn build_selected<T: Send>(
    fleet: &Fleet,
    templates: &Templates,
    include: &(dyn Fn(&Cluster) -> bool + Sync),
    inline: bool,
    each: &(dyn Fn(ClusterTree) -> T + Sync),
) -> Result<Built<T>, TemplateError> {
    let engine = fleet.settings.engine.value;
    let mut by_cluster: BTreeMap<usize, Vec<&Worker>> = BTreeMap::new();
    for worker in fleet.workers.iter().filter(|worker| worker.installed) {
        by_cluster.entry(worker.cluster).or_default().push(worker);
    }
    // By name, not by the order of the cluster file: moving a worker within its file
    // changes no output byte (kustomization `resources`, `--stdout` order).
    for workers in by_cluster.values_mut() {
        workers.sort_by(|a, b| a.name.cmp(&b.name));
    }
    let selected: Vec<(usize, &Cluster, Vec<&Worker>)> = fleet
        .clusters
        .iter()
        .enumerate()
        .filter(|(_, cluster)| include(cluster))
        .map(|(index, cluster)| (index, cluster, by_cluster.remove(&index).unwrap_or_default()))
        .collect();
    // On disk, a cluster without installed workers still has its folder (it builds to
    // nothing, so the engine prunes); in the stream it has nothing.
    let folders = !inline && engine != Engine::None;
    let plan = if folders {
        parents::Plan::of(fleet)
    } else {
        parents::Plan::default()
    };
    let clusters: Vec<T> = selected
        .par_iter()
        .filter(|(_, _, workers)| folders || !workers.is_empty())
        .map(|(index, cluster, workers)| {
            let crd = match engine {
                _ if inline => cluster_objects::cluster_crd(workers),
                Engine::Argocd => plan.owned_crd(*index),
                _ => None,
            };
            build_cluster(fleet, templates, cluster, workers, crd, inline).map(each)
        })
        .collect::<Result<_, _>>()?;
    let (shared, parents) = if folders {
        shared_files(fleet, templates, &plan, selected.iter().map(|(index, _, _)| *index))?
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(Built {
        clusters,
        shared,
        parents,
        workers: selected.iter().map(|(_, _, workers)| workers.len()).sum(),
        selected: selected.iter().map(|(index, _, _)| *index).collect(),
    })
}

/// The files the clusters `selected` share with the others of their destinations: one
/// copy of each CRD version the destinations deploy, and the parents; with the folders
/// of the parents.
fn shared_files(
    fleet: &Fleet,
    templates: &Templates,
    plan: &parents::Plan,
    selected: impl Iterator<Item = usize>,
) -> Result<(Vec<Document>, Vec<PathBuf>), TemplateError> {
    let touched: BTreeSet<&str> = selected.map(|index| plan.destination(index)).collect();
    let mut files = cluster_objects::crd_files(plan.crds_of(touched.iter().copied()));
    files.extend(parents::files(fleet, templates, plan, &touched)?);
    Ok((files, parents::scope(fleet.settings.engine.value, &touched)))
}

/// Renders, both ways (files and `--stdout`), the first cluster with workers, then, where
/// the config repo overrides a template, one worker of every other shape of template
/// context (see `context_shape`), so template
/// errors and undefined variables surface at `validate` time for every cluster the
/// templates will see, not only the first, instead of at `render` time.
pub(crate) fn check_templates(fleet: &Fleet, templates: &Templates) -> Result<(), TemplateError> {
    let Some(first) = fleet.workers.iter().find(|worker| worker.installed) else {
        return Ok(());
    };
    let cluster = fleet.cluster_of(first);
    let workers: Vec<&Worker> = fleet
        .workers
        .iter()
        .filter(|worker| worker.installed && worker.cluster == first.cluster)
        .collect();
    let crd = cluster_objects::cluster_crd(&workers);
    build_cluster(fleet, templates, cluster, &workers, crd, false)?;
    build_cluster(fleet, templates, cluster, &workers, crd, true)?;
    if templates.all_builtin() {
        // Built in Rust for every context a valid fleet has ([`native`]): no shape
        // can fail where the first cluster did not, and hashing every worker's shape
        // would cost a tenth of `validate`.
        return Ok(());
    }
    let mut shapes = std::collections::HashSet::from([context_shape(fleet, first)]);
    for worker in fleet.workers.iter().filter(|worker| worker.installed) {
        if shapes.insert(context_shape(fleet, worker)) {
            let cluster = fleet.cluster_of(worker);
            let named = |mut error: TemplateError| {
                error.message = format!("{} (rendering `{}`)", error.message, fleet.worker_id(worker));
                error
            };
            let crd = cluster_objects::cluster_crd(&[worker]);
            build_cluster(fleet, templates, cluster, &[worker], crd, false).map_err(named)?;
            build_cluster(fleet, templates, cluster, &[worker], crd, true).map_err(named)?;
        }
    }
    Ok(())
}

/// What a template can tell apart in a worker's context without its values: the kind
/// of destination (`server` or `name`), the chart version's form, and which keys the
/// environment's `octopus` block and the worker's merged fields hold (they decide the
/// keys of `values`). Two workers of one shape render or fail alike.
fn context_shape(fleet: &Fleet, worker: &Worker) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let destination = match &fleet.cluster_of(worker).destination {
        Some(Destination::Server(_)) => 1u8,
        Some(Destination::Name(_)) => 2,
        None => 0,
    };
    destination.hash(&mut hasher);
    let version = &worker.chart.version.value;
    (version.contains('-'), version.contains('+')).hash(&mut hasher);
    cluster_objects::secrets_shape(fleet, worker).hash(&mut hasher);
    for node in [&fleet.cluster_of(worker).octopus_node, &worker.fields] {
        node.for_each_leaf(&mut Vec::new(), &mut |path, leaf| {
            path.hash(&mut hasher);
            leaf.kind().hash(&mut hasher);
            if let yaml::Value::Seq(items) = &leaf.value {
                items.is_empty().hash(&mut hasher);
            }
        });
        0xffu8.hash(&mut hasher);
    }
    hasher.finish()
}

/// How the files on disk differ from a fresh render.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Drift {
    /// Wanted and absent.
    pub(crate) missing: Vec<PathBuf>,
    /// Present with other bytes.
    pub(crate) stale: Vec<PathBuf>,
    /// Generated by workergen, present, and no longer wanted.
    pub(crate) extra: Vec<PathBuf>,
}

impl Drift {
    pub(crate) fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.stale.is_empty() && self.extra.is_empty()
    }

    /// Compares the wanted files with the generated files found.
    pub(crate) fn between(wanted: &output::Files, found: &output::Files) -> Self {
        let mut drift = Self::default();
        for (path, bytes) in wanted {
            match found.get(path) {
                None => drift.missing.push(path.to_path_buf()),
                Some(existing) if existing != bytes => drift.stale.push(path.to_path_buf()),
                Some(_) => {}
            }
        }
        drift.extra = found
            .keys()
            .filter(|path| !wanted.contains_key(*path))
            .map(|path| path.to_path_buf())
            .collect();
        drift
    }
}

/// All objects as one multi-document YAML stream, in pieces: written out as they
/// come, the whole stream (26 MB for 10,000 workers) is never copied into one string.
pub fn stream(rendered: &Rendered) -> impl Iterator<Item = &str> {
    rendered.objects.iter().flat_map(|object| ["---\n", object.as_str()])
}
