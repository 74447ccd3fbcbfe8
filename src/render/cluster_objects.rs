//! What a cluster needs besides its releases, so a worker starts from Git alone:
//! each worker's Namespace, one ExternalSecret per credential Secret (with
//! `secrets.externalSecret`), and exactly one owner of the chart's CRD.
//!
//! Where they land:
//! - Flux runs in the workload cluster: the cluster's `kustomization.yaml` lists them all,
//!   each worker's in its folder (`<worker>/namespace.yaml`, `<worker>/externalsecret-*.yaml`),
//!   and the CRD through `../../_crds/<version>`.
//! - Argo CD Applications live in the Argo CD cluster: the workload cluster's objects go to
//!   `<cluster>/_cluster/` (no worker can be named `_cluster`), deployed by one more
//!   Application per cluster, `cluster-application.yaml`, in an earlier sync wave.
//!
//! The CRD is written once per version at `<output>/_crds/<version>/`, with its own
//! `kustomization.yaml` adding the annotations that keep Flux and Argo CD from ever pruning
//! or deleting it, and referenced by each cluster: 1,000 clusters share one 426 KB copy.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::model::Document;
use super::{marker, object_node, worker_info, Context, TemplateError, Templates};
use crate::crds::{self, Crd};
use crate::decl::{Engine, RemoteRefSpec};
use crate::model::{Cluster, ExternalSecret, Fleet, Worker};
use crate::names;
use crate::source::FileId;
use crate::yaml::Node;

/// The folder, inside a cluster's folder, of the objects an Argo CD cluster Application deploys.
pub(crate) const CLUSTER_FOLDER: &str = "_cluster";

/// The file of a cluster's own Argo CD Application, beside its kustomization.
pub(crate) const CLUSTER_APPLICATION_FILE: &str = "cluster-application.yaml";

/// ESO's `refreshInterval` when the declaration gives none.
const DEFAULT_REFRESH_INTERVAL: &str = "1h";

/// The annotations the CRD carries (through `_crds/<version>/kustomization.yaml`, or
/// written into it for `--stdout`): never pruned or deleted by Flux or Argo CD, so removing
/// a worker, or every worker of a cluster, never removes it; and applied server-side by
/// Argo CD (Flux always is), since 426 KB do not fit client-side apply's annotation.
const CRD_ANNOTATIONS: [(&str, &str); 2] = [
    (
        "argocd.argoproj.io/sync-options",
        "Prune=false,Delete=false,ServerSideApply=true",
    ),
    ("kustomize.toolkit.fluxcd.io/prune", "disabled"),
];

/// One credential Secret of a worker, as `externalsecret.yaml.j2` sees it (`secret`).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SecretInfo {
    /// The Secret's name (from `octopus.auth` or `octopus.serverCertificateSecret`), also the ExternalSecret's.
    pub(super) name: String,
    /// `auth` or `certificate`: which of the worker's Secrets.
    pub(super) role: &'static str,
    pub(super) store_kind: String,
    pub(super) store_name: String,
    pub(super) refresh_interval: String,
    pub(super) data: Vec<DataInfo>,
}

/// One key of the Secret and where the store keeps its value.
#[derive(Debug, Clone, Serialize)]
pub(super) struct DataInfo {
    pub(super) secret_key: &'static str,
    pub(super) key: String,
    pub(super) property: Option<String>,
    pub(super) version: Option<String>,
}

/// A cluster's Argo CD Application, as `cluster-application.yaml.j2` sees it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ClusterApplicationInfo {
    pub(super) name: String,
    /// `<output>/<env>/<cluster>/_cluster`, from the repository root.
    pub(super) path: String,
}

/// The cluster's own objects: each worker's, its own files, and what its kustomization lists.
#[derive(Debug, Default)]
pub(crate) struct ClusterObjects {
    /// Each worker's Namespace and ExternalSecrets, in the order of the workers.
    pub(crate) objects: Vec<Vec<Document>>,
    /// Under Argo CD, the `_cluster` kustomization and the cluster's Application.
    pub(crate) files: Vec<Document>,
    /// Entries for the cluster's `kustomization.yaml` `resources`.
    pub(crate) resources: Vec<String>,
    /// The CRD the cluster uses.
    pub(crate) crd: Option<Crd>,
}

/// The CRD of the newest chart version among `workers`.
pub(crate) fn cluster_crd(workers: &[&Worker]) -> Option<Crd> {
    crds::newest(workers.iter().map(|worker| worker.chart.version.value.as_str())).map(crds::for_chart)
}

/// The Secrets a worker reads and the ExternalSecret of each, when delivery is on.
pub(crate) fn secrets(fleet: &Fleet, worker: &Worker) -> Vec<SecretInfo> {
    let cluster = fleet.cluster_of(worker);
    let Some(external_secret) = &cluster.external_secret else {
        return Vec::new();
    };
    let octopus = &cluster.octopus;
    let refs = external_secret.spec.remote_refs.clone().unwrap_or_default();
    let mut found = Vec::new();
    if let Some(auth) = &octopus.auth {
        let kinds: [(&Option<String>, Vec<SecretKey<'_>>); 3] = [
            (&auth.bearer_token_secret, vec![("bearer-token", &refs.bearer_token)]),
            (&auth.api_key_secret, vec![("api-key", &refs.api_key)]),
            (
                &auth.username_password_secret,
                vec![("username", &refs.username), ("password", &refs.password)],
            ),
        ];
        if let Some((Some(name), keys)) = kinds.iter().find(|(name, _)| name.is_some()) {
            found.push(secret_info(external_secret, name, "auth", keys));
        }
    }
    if let Some(name) = &octopus.server_certificate_secret {
        let keys = [("octopus-server-certificate.pem", &refs.server_certificate)];
        found.push(secret_info(external_secret, name, "certificate", &keys));
    }
    found
}

/// A key of a Secret and its remote reference, if declared.
type SecretKey<'a> = (&'static str, &'a Option<RemoteRefSpec>);

fn secret_info(external_secret: &ExternalSecret, name: &str, role: &'static str, keys: &[SecretKey<'_>]) -> SecretInfo {
    let spec = &external_secret.spec;
    let store = spec.store_ref.clone().unwrap_or_default();
    SecretInfo {
        name: name.to_string(),
        role,
        store_kind: store.kind.unwrap_or_default(),
        store_name: store.name.unwrap_or_default(),
        refresh_interval: spec
            .refresh_interval
            .clone()
            .unwrap_or_else(|| DEFAULT_REFRESH_INTERVAL.to_string()),
        data: keys
            .iter()
            .map(|(secret_key, reference)| {
                let reference = (*reference).clone().unwrap_or_default();
                DataInfo {
                    secret_key,
                    key: reference.key.unwrap_or_default(),
                    property: reference.property,
                    version: reference.version,
                }
            })
            .collect(),
    }
}

/// What a template can tell apart in a worker's Secrets (for `context_shape`): which
/// Secrets, and which optional fields of their references are set.
pub(crate) fn secrets_shape(fleet: &Fleet, worker: &Worker) -> Vec<(&'static str, Vec<(bool, bool)>)> {
    secrets(fleet, worker)
        .into_iter()
        .map(|secret| {
            let fields = secret
                .data
                .iter()
                .map(|item| (item.property.is_some(), item.version.is_some()))
                .collect();
            (secret.role, fields)
        })
        .collect()
}

/// The file name of a worker's ExternalSecret for the Secret of `role`.
pub(crate) fn external_secret_file(role: &str) -> String {
    format!("externalsecret-{role}.yaml")
}

/// A worker's Namespace and ExternalSecrets, by file name (in the worker's folder), as trees.
pub(crate) fn worker_objects(
    fleet: &Fleet,
    templates: &Templates,
    worker: &Worker,
    inline: bool,
) -> Result<Vec<(String, Node)>, TemplateError> {
    let engine = fleet.settings.engine.value;
    if engine == Engine::None {
        return Ok(Vec::new());
    }
    let mut context = super::context(fleet, fleet.cluster_of(worker), worker, inline);
    super::add_worker_labels(&mut context.labels, fleet, worker);
    context.secret_labels = context.labels.clone();
    context.secret_labels.remove("app.kubernetes.io/instance");
    context.worker = Some(worker_info(fleet, worker, engine));
    let mut objects = vec![(
        "namespace.yaml".to_string(),
        object_node(templates, "namespace.yaml.j2", &context)?,
    )];
    for secret in secrets(fleet, worker) {
        let file = external_secret_file(secret.role);
        context.secret = Some(secret);
        objects.push((file, object_node(templates, "externalsecret.yaml.j2", &context)?));
    }
    Ok(objects)
}

/// The declaration files behind a worker's Namespace and ExternalSecrets, for their marker.
fn object_files(fleet: &Fleet, cluster: &Cluster, worker: &Worker) -> BTreeSet<FileId> {
    let mut files = BTreeSet::from([cluster.file]);
    files.extend(worker.namespace.loc.map(|loc| loc.file));
    if let Some(external_secret) = &cluster.external_secret {
        files.insert(fleet.environment_of(worker).file);
        super::files_of(&external_secret.node, &mut files);
    }
    files
}

/// The cluster's own objects (see the module doc), for the cluster in `folder`.
/// `crd` is the chart CRD these objects deploy (see [`super::build_cluster`]): on disk
/// under Flux none, as the cluster's destination folder deploys it.
pub(crate) fn build(
    fleet: &Fleet,
    templates: &Templates,
    cluster: &Cluster,
    workers: &[&Worker],
    crd: Option<Crd>,
    folder: &Path,
    inline: bool,
) -> Result<ClusterObjects, TemplateError> {
    let engine = fleet.settings.engine.value;
    let mut out = ClusterObjects::default();
    if engine == Engine::None {
        return Ok(out);
    }
    out.crd = crd;
    let (objects_folder, depth) = match engine {
        Engine::Argocd => (folder.join(CLUSTER_FOLDER), 3),
        _ => (folder.to_path_buf(), 2),
    };
    let mut listed = Vec::new();
    if let Some(crd) = out.crd.filter(|_| !inline) {
        listed.push(format!("{}{}/{}", "../".repeat(depth), crds::FOLDER, crd.version));
    }
    for worker in workers {
        let sources = object_files(fleet, cluster, worker);
        let mut objects = Vec::new();
        for (file, node) in worker_objects(fleet, templates, worker, inline)? {
            let relative = format!("{}/{file}", worker.name);
            objects.push(Document::tree(objects_folder.join(&relative), node, sources.clone()));
            listed.push(relative);
        }
        out.objects.push(objects);
    }
    match engine {
        Engine::Argocd => {
            let mut files = BTreeSet::from([cluster.file]);
            files.extend(fleet.settings.file);
            let text = kustomization(&marker(fleet, &files), &listed);
            out.files
                .push(Document::text(objects_folder.join("kustomization.yaml"), text));
            if !inline {
                let node = cluster_application(fleet, templates, cluster, workers[0], folder)?;
                out.files
                    .push(Document::tree(folder.join(CLUSTER_APPLICATION_FILE), node, files));
                out.resources.push(CLUSTER_APPLICATION_FILE.to_string());
            }
        }
        _ => out.resources = listed,
    }
    Ok(out)
}

/// The cluster's Argo CD Application, deploying its `_cluster` folder.
fn cluster_application(
    fleet: &Fleet,
    templates: &Templates,
    cluster: &Cluster,
    first: &Worker,
    folder: &Path,
) -> Result<Node, TemplateError> {
    let environment = &fleet.environments[cluster.environment].name;
    let mut context: Context = super::context(fleet, cluster, first, false);
    context.cluster_application = Some(ClusterApplicationInfo {
        name: names::cluster_application_name(environment, &cluster.name),
        path: format!(
            "{}/{}/{CLUSTER_FOLDER}",
            fleet.settings.output.value,
            folder.to_string_lossy().replace('\\', "/")
        ),
    });
    object_node(templates, "cluster-application.yaml.j2", &context)
}

/// A kustomization listing `resources` (which may be none: it then builds to nothing).
pub(super) fn kustomization(marker: &str, resources: &[String]) -> String {
    let mut text = format!("{marker}apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n");
    if resources.is_empty() {
        text.push_str("resources: []\n");
        return text;
    }
    text.push_str("resources:\n");
    for resource in resources {
        // Generated file names and paths (`.yaml` or a `/` in each): YAML reads them as text.
        text.push_str(&format!("  - {resource}\n"));
    }
    text
}

/// The files of `rendered/_crds/<version>/` for each CRD in `used`.
pub(crate) fn crd_files(used: impl IntoIterator<Item = Crd>) -> Vec<Document> {
    let versions: std::collections::BTreeMap<&str, Crd> = used.into_iter().map(|crd| (crd.version, crd)).collect();
    let mut files = Vec::new();
    for (version, crd) in versions {
        let folder = PathBuf::from(crds::FOLDER).join(version);
        let marker = format!(
            "{}the chart kubernetes-agent {version}, crds/{}. Do not edit.\n",
            super::output::MARKER,
            crds::FILE
        );
        let text = format!("{marker}{}", String::from_utf8_lossy(crd.bytes));
        files.push(Document::text(folder.join(crds::FILE), text));
        let mut text = kustomization(&marker, &[crds::FILE.to_string()]);
        text.push_str("commonAnnotations:\n");
        for (key, value) in CRD_ANNOTATIONS {
            text.push_str(&format!("  {key}: {value}\n"));
        }
        text.push_str("labels:\n  - pairs:\n      app.kubernetes.io/managed-by: workergen\n");
        files.push(Document::text(folder.join("kustomization.yaml"), text));
    }
    files
}

/// The CRD as one object of the `--stdout` stream: the chart's bytes with the
/// annotations the `_crds` kustomization adds (and, under Argo CD, a sync wave before the
/// Namespaces), inserted as lines into its `metadata.annotations`; no leading `---`.
pub(crate) fn crd_object(crd: Crd, engine: Engine) -> String {
    let text = String::from_utf8_lossy(crd.bytes);
    let text = text.strip_prefix("---\n").unwrap_or(&text);
    let mut annotations: Vec<(&str, &str)> = CRD_ANNOTATIONS.to_vec();
    if engine == Engine::Argocd {
        annotations.push(("argocd.argoproj.io/sync-wave", "\"-2\""));
    }
    let lines: String = annotations
        .iter()
        .map(|(key, value)| format!("    {key}: {value}\n"))
        .collect();
    let anchor = "\nmetadata:\n  annotations:\n";
    let header = format!(
        "{}the chart kubernetes-agent {}, crds/{}. Do not edit.\n",
        super::output::MARKER,
        crd.version,
        crds::FILE
    );
    match text.find(anchor) {
        Some(at) => {
            let split = at + anchor.len();
            format!("{header}{}{lines}{}", &text[..split], &text[split..])
        }
        None => {
            let at = text.find("\nmetadata:\n").map_or(0, |at| at + "\nmetadata:\n".len());
            format!("{header}{}  annotations:\n{lines}{}", &text[..at], &text[at..])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;

    #[test]
    fn the_stream_crd_is_the_charts_with_the_protecting_annotations() {
        let crd = crds::for_chart("3.13.2");
        for engine in [Engine::Flux, Engine::Argocd] {
            let text = crd_object(crd, engine);
            let node = yaml::parse_undeclared(
                &text,
                crate::source::Origin::Generated,
                yaml::Limits {
                    max_depth: 256,
                    max_nodes: 2_000_000,
                },
            )
            .unwrap();
            let annotations = node.get_path(["metadata", "annotations"]).unwrap();
            for (key, value) in CRD_ANNOTATIONS {
                assert_eq!(annotations.get(key).and_then(Node::scalar_text).as_deref(), Some(value));
            }
            let wave = annotations
                .get("argocd.argoproj.io/sync-wave")
                .and_then(Node::scalar_text);
            assert_eq!(wave.as_deref(), (engine == Engine::Argocd).then_some("-2"));
            assert_eq!(
                annotations
                    .get("controller-gen.kubebuilder.io/version")
                    .and_then(Node::scalar_text)
                    .as_deref(),
                Some("v0.18.0")
            );
            assert_eq!(
                node.get_path(["metadata", "name"])
                    .and_then(Node::scalar_text)
                    .as_deref(),
                Some(crds::NAME)
            );
            // Only the annotation lines are added: the rest is the chart's, byte for byte.
            let original = String::from_utf8_lossy(crd.bytes);
            let added = text.lines().count() - original.lines().count();
            // The marker and the new annotations, less the leading `---` line.
            let new_annotations = annotations.as_map().unwrap().len() - 1;
            assert_eq!(added, 1 + new_annotations - 1);
        }
    }

    #[test]
    fn crd_files_hold_one_copy_per_version_with_a_protecting_kustomization() {
        let files = crd_files([
            crds::for_chart("3.13.2"),
            crds::for_chart("3.13.2"),
            crds::for_chart("2.51.2"),
        ]);
        let paths: Vec<String> = files
            .iter()
            .map(|document| document.path.to_string_lossy().into_owned())
            .collect();
        let text = |document: &Document| match &document.body {
            super::super::model::Body::Text(text) => text.clone(),
            super::super::model::Body::Tree { .. } => panic!("a CRD file is text"),
        };
        assert_eq!(
            paths,
            [
                "_crds/2.51.2/script-pod-template.yaml",
                "_crds/2.51.2/kustomization.yaml",
                "_crds/3.13.2/script-pod-template.yaml",
                "_crds/3.13.2/kustomization.yaml"
            ]
        );
        let crd = text(&files[2]);
        assert!(crd.as_bytes().ends_with(crds::for_chart("3.13.2").bytes));
        assert!(crd.starts_with(super::super::output::MARKER));
        assert_eq!(
            text(&files[3]),
            "# Generated by workergen from the chart kubernetes-agent 3.13.2, crds/script-pod-template.yaml. Do not edit.\n\
             apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - script-pod-template.yaml\n\
             commonAnnotations:\n  argocd.argoproj.io/sync-options: Prune=false,Delete=false,ServerSideApply=true\n  \
             kustomize.toolkit.fluxcd.io/prune: disabled\nlabels:\n  - pairs:\n      app.kubernetes.io/managed-by: workergen\n"
        );
    }
}
