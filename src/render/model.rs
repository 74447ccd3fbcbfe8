//! The output as data: what a render builds before any byte exists. Per worker its
//! values tree and its objects, per cluster its own files and CRD, and what the clusters
//! share (the CRD copies and the parents), each document with the declaration files
//! behind it. [`emit_cluster`] and [`Output::emit`] add the markers and make the bytes
//! of a tree on disk or of the `--stdout` stream; `diff`, `explain`, `propose` and
//! `import`'s round trip read the trees themselves, and the committed `rendered/` is read
//! back into the same shape by [`Output::read`].

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::crds::Crd;
use crate::decl::Engine;
use crate::model::Fleet;
use crate::source::{FileId, Origin};
use crate::yaml::{self, Limits, Node};

use super::output::{self, FilePath};

/// One file of the output, relative to the output folder.
#[derive(Debug, Clone)]
pub struct Document {
    pub path: PathBuf,
    pub body: Body,
}

/// What a document holds.
#[derive(Debug, Clone)]
pub enum Body {
    /// An object, written after the marker that names the declaration files behind it.
    Tree { node: Node, sources: BTreeSet<FileId> },
    /// Text written as it is, its marker included: the chart's CRD and the kustomizations
    /// that only list files.
    Text(String),
}

impl Document {
    pub(crate) fn tree(path: PathBuf, node: Node, sources: BTreeSet<FileId>) -> Self {
        Self {
            path,
            body: Body::Tree { node, sources },
        }
    }

    pub(crate) fn text(path: PathBuf, text: String) -> Self {
        Self {
            path,
            body: Body::Text(text),
        }
    }

    /// The tree, for a document that is one.
    pub fn node(&self) -> Option<&Node> {
        match &self.body {
            Body::Tree { node, .. } => Some(node),
            Body::Text(_) => None,
        }
    }

    /// The file's name, without its folder.
    pub fn file_name(&self) -> &str {
        self.path.file_name().and_then(|name| name.to_str()).unwrap_or_default()
    }

    /// A worker manifest's file name, as the static name the diff and `explain` report it
    /// under: `application.yaml` (Argo CD) or `helmrelease.yaml` (Flux).
    pub fn manifest_file(&self) -> &'static str {
        match self.file_name() {
            "application.yaml" => "application.yaml",
            _ => "helmrelease.yaml",
        }
    }

    /// The document as written: the marker naming its sources, then the tree; or its text.
    pub(crate) fn bytes(&self, fleet: &Fleet) -> String {
        match &self.body {
            Body::Tree { node, sources } => yaml::emit_after(super::marker(fleet, sources), node),
            Body::Text(text) => text.clone(),
        }
    }
}

/// One installed worker's output.
#[derive(Debug, Clone)]
pub struct WorkerTree {
    pub name: String,
    /// The namespace it is installed in, and its chart version: the declared ones, or,
    /// read back, what its manifest says.
    pub namespace: Option<String>,
    pub chart_version: Option<String>,
    /// Its `values.yaml`; `None` in a stream whose manifest took the values in.
    pub values: Option<Document>,
    /// `helmrelease.yaml` or `application.yaml`; `None` for engine `none`.
    pub manifest: Option<Document>,
    /// Its Namespace and ExternalSecrets.
    pub objects: Vec<Document>,
}

/// One cluster file's output.
#[derive(Debug, Clone)]
pub struct ClusterTree {
    pub environment: String,
    pub name: String,
    /// Its installed workers, by name.
    pub workers: Vec<WorkerTree>,
    /// The chart's source in the stream (Flux): on disk it is its destination's.
    pub source: Option<Document>,
    /// Its kustomizations and, under Argo CD, its own Application: files that are no
    /// object of the stream.
    pub files: Vec<Document>,
    /// The chart CRD its objects deploy.
    pub crd: Option<Crd>,
}

impl ClusterTree {
    /// `env/cluster/worker` of one of its workers.
    pub fn worker_id(&self, worker: &WorkerTree) -> String {
        format!("{}/{}/{}", self.environment, self.name, worker.name)
    }
}

/// A render as data.
#[derive(Debug, Clone, Default)]
pub struct Output {
    /// Built for the `--stdout` stream.
    pub inline: bool,
    /// The engine built for; `None` read back (each manifest says it).
    pub engine: Option<Engine>,
    pub clusters: Vec<ClusterTree>,
    /// What the clusters share: `_crds/<version>/`, and the parents (`_flux/`, `_argocd/`).
    pub shared: Vec<Document>,
    /// The CRD at the head of the stream.
    pub stream_crd: Option<Crd>,
}

/// One cluster's bytes: its files for disk, or its objects for the stream.
#[derive(Debug, Default)]
pub(crate) struct Emitted {
    pub(crate) files: Vec<(PathBuf, Vec<u8>)>,
    pub(crate) objects: Vec<String>,
}

/// The bytes of one cluster's output. On disk every document is a file; in the stream
/// the Namespaces and ExternalSecrets come first (the objects the others use), then the
/// chart's source, then each worker's manifest (with engine `none`, its values, named by
/// a comment, as no manifest carries them).
pub(crate) fn emit_cluster(fleet: &Fleet, cluster: &ClusterTree, inline: bool) -> Emitted {
    let mut out = Emitted::default();
    if !inline {
        let documents = cluster
            .workers
            .iter()
            .flat_map(|worker| worker.values.iter().chain(&worker.manifest).chain(&worker.objects));
        for document in documents.chain(&cluster.source).chain(&cluster.files) {
            out.files
                .push((document.path.clone(), document.bytes(fleet).into_bytes()));
        }
        return out;
    }
    for worker in &cluster.workers {
        out.objects
            .extend(worker.objects.iter().map(|object| object.bytes(fleet)));
    }
    out.objects
        .extend(cluster.source.iter().map(|source| source.bytes(fleet)));
    let engine = fleet.settings.engine.value;
    for worker in &cluster.workers {
        out.objects
            .extend(worker.manifest.iter().map(|manifest| manifest.bytes(fleet)));
        if let Some(values) = worker.values.as_ref().filter(|_| engine == Engine::None) {
            out.objects.push(format!(
                "# Helm values of worker `{}` ({}):\n{}",
                cluster.worker_id(worker),
                values.path.display(),
                values.bytes(fleet)
            ));
        }
    }
    out
}

/// The CRD at the head of a stream: the newest the clusters deploy, once.
pub(crate) fn stream_crd(crds: impl Iterator<Item = Option<Crd>>) -> Option<Crd> {
    crate::crds::newest(crds.flatten().map(|crd| crd.version)).map(crate::crds::for_chart)
}

/// The shared documents as written, by path.
pub(crate) fn shared_bytes(fleet: &Fleet, shared: &[Document]) -> Vec<(PathBuf, String)> {
    shared
        .iter()
        .map(|document| (document.path.clone(), document.bytes(fleet)))
        .collect()
}

/// The whole output's bytes from the shared documents (as written) and each
/// cluster's emission: the files by path, and the stream's objects in order, the CRD
/// first. Each cluster's files come nearly in path order, which the sort of the whole
/// (in `from_iter`) finds.
pub(crate) fn assemble(
    fleet: &Fleet,
    shared: Vec<(PathBuf, String)>,
    clusters: impl IntoIterator<Item = Emitted>,
    stream_crd: Option<Crd>,
) -> (output::Files, Vec<String>) {
    let clusters: Vec<Emitted> = clusters.into_iter().collect();
    // Sized for every file at once: the list of 35,000 is not regrown at the end.
    let count = shared.len() + clusters.iter().map(|emitted| emitted.files.len()).sum::<usize>();
    let mut files: Vec<(FilePath, Vec<u8>)> = Vec::with_capacity(count);
    files.extend(shared.into_iter().map(|(path, text)| (path.into(), text.into_bytes())));
    let mut objects = Vec::new();
    objects.extend(stream_crd.map(|crd| super::cluster_objects::crd_object(crd, fleet.settings.engine.value)));
    for emitted in clusters {
        files.extend(emitted.files.into_iter().map(|(path, bytes)| (path.into(), bytes)));
        objects.extend(emitted.objects);
    }
    (files.into_iter().collect(), objects)
}

impl Output {
    /// The bytes of the whole output: the files for disk (by path), or the stream's
    /// objects in order.
    pub(crate) fn emit(&self, fleet: &Fleet) -> (output::Files, Vec<String>) {
        let clusters = self
            .clusters
            .iter()
            .map(|cluster| emit_cluster(fleet, cluster, self.inline));
        assemble(fleet, shared_bytes(fleet, &self.shared), clusters, self.stream_crd)
    }

    /// Every installed worker's output with the cluster it is in.
    pub fn workers(&self) -> impl Iterator<Item = (&ClusterTree, &WorkerTree)> {
        self.clusters
            .iter()
            .flat_map(|cluster| cluster.workers.iter().map(move |worker| (cluster, worker)))
    }

    /// A rendered tree read back (paths relative to the output folder, such as the
    /// `rendered/` committed in Git): the files workergen writes become the same
    /// documents, as trees where they parse. Provenance is not in the bytes: the trees'
    /// sources are empty. A worker is known by its `values.yaml`.
    pub fn read<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Self {
        let mut read = Self::default();
        let mut others = Vec::new();
        for (path, bytes) in files {
            let parts: Vec<&str> = path.split('/').collect();
            let document = document_of(path, bytes);
            match parts.as_slice() {
                [first, ..] if first.starts_with('_') => read.shared.push(document),
                // A worker's Namespace and ExternalSecrets under Argo CD.
                [environment, cluster, super::cluster_objects::CLUSTER_FOLDER, worker, _] => {
                    let tree = read.worker_mut(environment, cluster, worker);
                    tree.objects.push(document);
                }
                [environment, cluster, worker, file] => {
                    let tree = read.worker_mut(environment, cluster, worker);
                    match *file {
                        "values.yaml" => tree.values = Some(document),
                        "helmrelease.yaml" | "application.yaml" => tree.manifest = Some(document),
                        _ => tree.objects.push(document),
                    }
                }
                [environment, cluster, "ocirepository.yaml"] => {
                    read.cluster_mut(environment, cluster).source = Some(document);
                }
                [environment, cluster, ..] => others.push(((*environment).to_owned(), (*cluster).to_owned(), document)),
                _ => read.shared.push(document),
            }
        }
        for (environment, cluster, document) in others {
            read.cluster_mut(&environment, &cluster).files.push(document);
        }
        // Only folders with a `values.yaml` are workers: anything else in a cluster folder
        // is the cluster's.
        for cluster in &mut read.clusters {
            let (workers, rest): (Vec<WorkerTree>, Vec<WorkerTree>) =
                cluster.workers.drain(..).partition(|worker| worker.values.is_some());
            cluster.workers = workers;
            for worker in rest {
                cluster.files.extend(worker.manifest.into_iter().chain(worker.objects));
            }
        }
        read.read_facts();
        read
    }

    /// The namespace and chart version of each worker read back, from its manifest: an
    /// Application names both; a HelmRelease names its namespace and its chart source,
    /// whose tag is the version (the source is its destination's under `_flux/`, or, in a
    /// tree rendered before the sources moved there, the cluster's own).
    fn read_facts(&mut self) {
        let mut tags = std::collections::BTreeMap::new();
        for document in &self.shared {
            let Some(node) = document.node() else { continue };
            let field = |path: &[&str]| node.get_path(path.iter().copied())?.scalar_text();
            if document.file_name().starts_with("ocirepository-") {
                if let (Some(name), Some(tag)) = (field(&["metadata", "name"]), field(&["spec", "ref", "tag"])) {
                    tags.insert(name, tag);
                }
            }
        }
        for cluster in &mut self.clusters {
            let own_tag = cluster
                .source
                .as_ref()
                .and_then(Document::node)
                .and_then(|node| node.get_path(["spec", "ref", "tag"])?.scalar_text());
            for worker in &mut cluster.workers {
                let Some(manifest) = &worker.manifest else { continue };
                let Some(node) = manifest.node() else { continue };
                let text = |path: &[&str]| node.get_path(path.iter().copied()).and_then(Node::scalar_text);
                if manifest.file_name() == "application.yaml" {
                    worker.namespace = text(&["spec", "destination", "namespace"]);
                    worker.chart_version = node
                        .get_path(["spec", "sources"])
                        .and_then(|sources| match &sources.value {
                            yaml::Value::Seq(items) => items.first().and_then(|first| first.get("targetRevision")),
                            _ => None,
                        })
                        .and_then(Node::scalar_text);
                } else {
                    worker.namespace = text(&["spec", "targetNamespace"]);
                    worker.chart_version = text(&["spec", "chartRef", "name"])
                        .and_then(|source| tags.get(&source).cloned())
                        .or_else(|| own_tag.clone());
                }
            }
        }
    }

    fn cluster_mut(&mut self, environment: &str, name: &str) -> &mut ClusterTree {
        let at = match self
            .clusters
            .iter()
            .position(|cluster| cluster.environment == environment && cluster.name == name)
        {
            Some(at) => at,
            None => {
                self.clusters.push(ClusterTree {
                    environment: environment.to_owned(),
                    name: name.to_owned(),
                    workers: Vec::new(),
                    source: None,
                    files: Vec::new(),
                    crd: None,
                });
                self.clusters.len() - 1
            }
        };
        &mut self.clusters[at]
    }

    fn worker_mut(&mut self, environment: &str, cluster: &str, name: &str) -> &mut WorkerTree {
        let cluster = self.cluster_mut(environment, cluster);
        let at = match cluster.workers.iter().position(|worker| worker.name == name) {
            Some(at) => at,
            None => {
                cluster.workers.push(WorkerTree {
                    name: name.to_owned(),
                    namespace: None,
                    chart_version: None,
                    values: None,
                    manifest: None,
                    objects: Vec::new(),
                });
                cluster.workers.len() - 1
            }
        };
        &mut cluster.workers[at]
    }
}

/// A committed file as a document: a tree where it parses (its marker is a comment),
/// else its text.
fn document_of(path: &str, bytes: &[u8]) -> Document {
    let text = String::from_utf8_lossy(bytes);
    // A CRD is the chart's bytes, no object of ours to compare by key.
    let parsed = (!path.ends_with(crate::crds::FILE))
        .then(|| yaml::parse_undeclared(&text, Origin::Generated, Limits::default()).ok())
        .flatten();
    match parsed {
        Some(node) => Document::tree(PathBuf::from(path), node, BTreeSet::new()),
        None => Document::text(PathBuf::from(path), text.into_owned()),
    }
}
