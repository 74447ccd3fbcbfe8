//! The built-in templates, written in Rust: through minijinja and a parse of the text back,
//! `render --stdout` of a 10,000-worker fleet took 1.0 s of CPU, built here 0.58 s.
//!
//! A built-in template's output is parsed back into a tree and emitted canonically;
//! here the same tree is built straight from the template context, without running
//! the template, writing the `yaml` filter's text, or reading it back (together half
//! of `render`). Each function below is its template, line for line: the same keys,
//! the same values, the same conditions. A config repo that overrides a template gets
//! the template (see [`super::object_node`]), and so does a context the template would
//! fail on (such as an Argo CD destination with neither `server` nor `name`): each
//! function returns `None` there, and the template gives its own error.
//!
//! The tests below render fleets of every engine and shape, and random values, both
//! ways and compare the bytes: a template edited without its function here fails them.

use super::Context;
use crate::yaml::{Key, Map, Node, Value};

/// The tree template `name` would give for `context`, or `None` to run the template.
pub(super) fn object(name: &str, context: &Context) -> Option<Node> {
    match name {
        "helmrelease.yaml.j2" => helmrelease(context),
        "application.yaml.j2" => application(context),
        "namespace.yaml.j2" => namespace(context),
        "externalsecret.yaml.j2" => externalsecret(context),
        "cluster-application.yaml.j2" => cluster_application(context),
        "ocirepository.yaml.j2" => Some(ocirepository(context)),
        "kustomization.yaml.j2" => Some(kustomization(context)),
        "kustomizeconfig.yaml.j2" => Some(kustomizeconfig()),
        _ => None,
    }
}

/// `{{ text | yaml }}`: a string.
pub(super) fn text(text: &str) -> Node {
    Node::generated(Value::Str(text.to_string()))
}

/// A `key: value` block.
fn map<const N: usize>(entries: [(&str, Node); N]) -> Node {
    map_of(entries)
}

/// A map with its entries in key order, as the emitter writes them: it then writes
/// them without sorting a copy.
pub(super) fn map_of<'a>(entries: impl IntoIterator<Item = (&'a str, Node)>) -> Node {
    let mut entries: Vec<(Key, Node)> = entries
        .into_iter()
        .map(|(name, node)| (Key::generated(name), node))
        .collect();
    entries.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    Node::generated(Value::Map(Map::from_entries(entries)))
}

/// `- item` lines; a key followed by no item at all reads as null.
pub(super) fn list(items: Vec<Node>) -> Node {
    if items.is_empty() {
        Node::generated(Value::Null)
    } else {
        Node::generated(Value::Seq(items))
    }
}

/// `{{ labels | yaml(4) }}`.
fn labels(context: &Context) -> Node {
    map_of(context.labels.iter().map(|(name, value)| (*name, text(value))))
}

/// `{{ values | yaml(N) }}`: the worker's values as they are, taken from the context
/// (each context builds one object). Only the stream reads them, by their bytes: they
/// keep the places they were declared at.
fn values(context: &Context) -> Option<Node> {
    context.values.as_ref()?.take()
}

/// `{% if cluster.destination.server is defined %} server {% else %} name`, where an
/// undefined `name` fails the template: `None` then.
fn destination(context: &Context) -> Option<(&'static str, Node)> {
    let destination = &context.cluster.destination;
    let (key, value) = match destination.get("server") {
        Some(server) => ("server", server),
        None => ("name", destination.get("name")?),
    };
    Some((key, text(value)))
}

/// `helmrelease.yaml.j2`.
fn helmrelease(context: &Context) -> Option<Node> {
    let worker = context.worker.as_ref()?;
    let strategy = || map([("name", text("RetryOnFailure")), ("retryInterval", text("5m"))]);
    let ignore = |kind: &str, name: &str| {
        map([
            ("paths", list(vec![text("/data")])),
            ("target", map([("kind", text(kind)), ("name", text(name))])),
        ])
    };
    let values = if context.inline {
        ("values", values(context)?)
    } else {
        (
            "valuesFrom",
            list(vec![map([
                ("kind", text("ConfigMap")),
                ("name", text(&worker.values_config_map)),
                ("valuesKey", text("values.yaml")),
            ])]),
        )
    };
    Some(map([
        ("apiVersion", text("helm.toolkit.fluxcd.io/v2")),
        ("kind", text("HelmRelease")),
        (
            "metadata",
            map([
                ("name", text(worker.name)),
                ("namespace", text(context.flux.namespace)),
                ("labels", labels(context)),
            ]),
        ),
        (
            "spec",
            map([
                ("interval", text(context.flux.interval)),
                ("releaseName", text(worker.name)),
                ("targetNamespace", text(worker.namespace)),
                ("storageNamespace", text(worker.namespace)),
                (
                    "chartRef",
                    map([
                        ("kind", text("OCIRepository")),
                        ("name", text(&context.chart.source_name)),
                    ]),
                ),
                (
                    "install",
                    map([
                        ("createNamespace", Node::generated(Value::Bool(true))),
                        ("crds", text("Skip")),
                        ("strategy", strategy()),
                    ]),
                ),
                ("upgrade", map([("crds", text("Skip")), ("strategy", strategy())])),
                (
                    "driftDetection",
                    map([
                        ("mode", text("enabled")),
                        (
                            "ignore",
                            list(vec![
                                ignore("ConfigMap", "tentacle-config"),
                                ignore("Secret", "tentacle-secret"),
                            ]),
                        ),
                    ]),
                ),
                values,
            ]),
        ),
    ]))
}

/// The `syncPolicy` of the Argo CD Applications, with its one sync option.
fn sync_policy(option: &str) -> Node {
    map([
        (
            "automated",
            map([
                ("prune", Node::generated(Value::Bool(true))),
                ("selfHeal", Node::generated(Value::Bool(true))),
            ]),
        ),
        ("syncOptions", list(vec![text(option)])),
    ])
}

/// `{{ argocd.repoURL | yaml }}`: null when there is none.
fn repo_url(context: &Context) -> Node {
    context
        .argocd
        .repo_url
        .map_or_else(|| Node::generated(Value::Null), text)
}

/// `application.yaml.j2`.
fn application(context: &Context) -> Option<Node> {
    let worker = context.worker.as_ref()?;
    // Before the values are taken: the template gets them when this gives up.
    let destination = destination(context)?;
    let helm_values = if context.inline {
        ("valuesObject", values(context)?)
    } else {
        (
            "valueFiles",
            list(vec![text(&format!("$values/{}", worker.values_path))]),
        )
    };
    let mut sources = vec![map([
        ("repoURL", text(context.chart.repository_host)),
        ("chart", text(context.chart.name)),
        ("targetRevision", text(context.chart.version)),
        (
            "helm",
            map([
                ("releaseName", text(worker.name)),
                ("skipCrds", Node::generated(Value::Bool(true))),
                helm_values,
            ]),
        ),
    ])];
    if !context.inline {
        sources.push(map([
            ("repoURL", repo_url(context)),
            ("targetRevision", text(context.argocd.target_revision)),
            ("ref", text("values")),
        ]));
    }
    Some(map([
        ("apiVersion", text("argoproj.io/v1alpha1")),
        ("kind", text("Application")),
        (
            "metadata",
            map([
                ("name", text(&worker.application_name)),
                ("namespace", text(context.argocd.namespace)),
                ("labels", labels(context)),
                ("finalizers", list(vec![text("resources-finalizer.argocd.argoproj.io")])),
            ]),
        ),
        (
            "spec",
            map([
                ("project", text(context.argocd.project)),
                ("destination", map([destination, ("namespace", text(worker.namespace))])),
                ("sources", list(sources)),
                ("syncPolicy", sync_policy("CreateNamespace=true")),
            ]),
        ),
    ]))
}

/// The sync wave of the plugin's stream (`--stdout` under Argo CD), where the templates
/// add one.
fn stream_wave(context: &Context) -> Option<(&'static str, Node)> {
    (context.engine == "argocd" && context.inline).then(|| ("argocd.argoproj.io/sync-wave", text("-1")))
}

/// `namespace.yaml.j2`.
fn namespace(context: &Context) -> Option<Node> {
    let worker = context.worker.as_ref()?;
    let mut annotations = vec![
        ("kustomize.toolkit.fluxcd.io/prune", text("disabled")),
        ("argocd.argoproj.io/sync-options", text("Prune=false,Delete=false")),
    ];
    annotations.extend(stream_wave(context));
    Some(map([
        ("apiVersion", text("v1")),
        ("kind", text("Namespace")),
        (
            "metadata",
            map([
                ("name", text(worker.namespace)),
                ("labels", labels(context)),
                ("annotations", map_of(annotations)),
            ]),
        ),
    ]))
}

/// `externalsecret.yaml.j2`.
fn externalsecret(context: &Context) -> Option<Node> {
    let worker = context.worker.as_ref()?;
    let secret = context.secret.as_ref()?;
    let mut metadata = vec![
        ("name", text(&secret.name)),
        ("namespace", text(worker.namespace)),
        ("labels", labels(context)),
    ];
    if let Some(wave) = stream_wave(context) {
        metadata.push(("annotations", map([wave])));
    }
    let data = secret
        .data
        .iter()
        .map(|item| {
            let mut remote = vec![("key", text(&item.key))];
            remote.extend(item.property.as_deref().map(|property| ("property", text(property))));
            remote.extend(item.version.as_deref().map(|version| ("version", text(version))));
            map([("secretKey", text(item.secret_key)), ("remoteRef", map_of(remote))])
        })
        .collect();
    Some(map([
        ("apiVersion", text("external-secrets.io/v1")),
        ("kind", text("ExternalSecret")),
        ("metadata", map_of(metadata)),
        (
            "spec",
            map([
                ("refreshInterval", text(&secret.refresh_interval)),
                (
                    "secretStoreRef",
                    map([("kind", text(&secret.store_kind)), ("name", text(&secret.store_name))]),
                ),
                (
                    "target",
                    map([
                        ("name", text(&secret.name)),
                        ("creationPolicy", text("Orphan")),
                        ("deletionPolicy", text("Retain")),
                        (
                            "template",
                            map([(
                                "metadata",
                                map([(
                                    "labels",
                                    map_of(context.secret_labels.iter().map(|(name, value)| (*name, text(value)))),
                                )]),
                            )]),
                        ),
                    ]),
                ),
                ("data", list(data)),
            ]),
        ),
    ]))
}

/// `cluster-application.yaml.j2`.
fn cluster_application(context: &Context) -> Option<Node> {
    let application = context.cluster_application.as_ref()?;
    let destination = destination(context)?;
    Some(map([
        ("apiVersion", text("argoproj.io/v1alpha1")),
        ("kind", text("Application")),
        (
            "metadata",
            map([
                ("name", text(&application.name)),
                ("namespace", text(context.argocd.namespace)),
                ("labels", labels(context)),
                ("annotations", map([("argocd.argoproj.io/sync-wave", text("-1"))])),
                ("finalizers", list(vec![text("resources-finalizer.argocd.argoproj.io")])),
            ]),
        ),
        (
            "spec",
            map([
                ("project", text(context.argocd.project)),
                ("destination", map([destination])),
                (
                    "source",
                    map([
                        ("repoURL", repo_url(context)),
                        ("targetRevision", text(context.argocd.target_revision)),
                        ("path", text(&application.path)),
                    ]),
                ),
                ("syncPolicy", sync_policy("ServerSideApply=true")),
            ]),
        ),
    ]))
}

/// `ocirepository.yaml.j2`.
fn ocirepository(context: &Context) -> Node {
    map([
        ("apiVersion", text("source.toolkit.fluxcd.io/v1")),
        ("kind", text("OCIRepository")),
        (
            "metadata",
            map([
                ("name", text(&context.chart.source_name)),
                ("namespace", text(context.flux.namespace)),
                ("labels", labels(context)),
            ]),
        ),
        (
            "spec",
            map([
                ("interval", text(context.flux.interval)),
                ("url", text(&context.chart.oci_url)),
                ("ref", map([("tag", text(&context.chart.oci_tag))])),
                (
                    "layerSelector",
                    map([
                        ("mediaType", text("application/vnd.cncf.helm.chart.content.v1.tar+gzip")),
                        ("operation", text("copy")),
                    ]),
                ),
            ]),
        ),
    ])
}

/// `kustomization.yaml.j2`.
fn kustomization(context: &Context) -> Node {
    let flux = context.engine == "flux";
    let mut resources = Vec::new();
    resources.extend(context.workers.iter().map(|worker| text(&worker.manifest_path)));
    resources.extend(context.cluster_resources.iter().map(|resource| text(resource)));
    let mut entries = vec![
        ("apiVersion", text("kustomize.config.k8s.io/v1beta1")),
        ("kind", text("Kustomization")),
        ("resources", list(resources)),
    ];
    if flux {
        let generators = context
            .workers
            .iter()
            .map(|worker| {
                map([
                    ("name", text(&worker.values_config_map)),
                    ("namespace", text(context.flux.namespace)),
                    (
                        "files",
                        list(vec![text(&format!("values.yaml={}", worker.values_file))]),
                    ),
                ])
            })
            .collect();
        entries.push(("configMapGenerator", list(generators)));
        entries.push(("configurations", list(vec![text("kustomizeconfig.yaml")])));
    }
    map_of(entries)
}

/// `kustomizeconfig.yaml.j2`.
fn kustomizeconfig() -> Node {
    map([(
        "nameReference",
        list(vec![map([
            ("kind", text("ConfigMap")),
            ("version", text("v1")),
            (
                "fieldSpecs",
                list(vec![map([
                    ("path", text("spec/valuesFrom/name")),
                    ("kind", text("HelmRelease")),
                ])]),
            ),
        ])]),
    )])
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use proptest::prelude::*;

    use super::super::{manifest_context, object_node, render, Rendered, Scope, Templates};
    use crate::decl::Engine;
    use crate::model::Fleet;
    use crate::tree::fs::FsTree;
    use crate::yaml::{emit, Node};

    /// The example config repo of this repository, copied with `gitops.engine: <engine>`.
    fn example(engine: &str) -> (tempfile::TempDir, Fleet) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().unwrap();
        let settings = std::fs::read_to_string(root.join("workergen.yaml")).unwrap();
        let settings = settings.replace("  engine: flux\n", &format!("  engine: {engine}\n"));
        assert!(settings.contains(&format!("engine: {engine}\n")));
        std::fs::write(dir.path().join("workergen.yaml"), settings).unwrap();
        for environment in ["production", "staging"] {
            let from = root.join("environments").join(environment);
            let to = dir.path().join("environments").join(environment);
            std::fs::create_dir_all(&to).unwrap();
            for entry in std::fs::read_dir(&from).unwrap() {
                let entry = entry.unwrap();
                std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
            }
        }
        let (fleet, report) = crate::load_fleet(&FsTree::new(dir.path())).unwrap();
        assert!(!report.has_errors(), "{report:?}");
        (dir, fleet)
    }

    fn both_ways(fleet: &Fleet, inline: bool) -> (Rendered, Rendered) {
        let templates = Templates::load(&crate::tree::git::GitTree::default()).unwrap();
        let native = render(fleet, &templates, &Scope::default(), inline).unwrap();
        let by_template = render(fleet, &templates.run_builtin_templates(), &Scope::default(), inline).unwrap();
        (native, by_template)
    }

    #[test]
    fn every_builtin_object_is_its_templates_byte_for_byte() {
        for engine in ["flux", "argocd", "none"] {
            let (_dir, mut fleet) = example(engine);
            for variant in 0..2 {
                if variant == 1 {
                    // Argo CD without a `repoURL` (the templates write `null`).
                    fleet.settings.argocd.repo_url = None;
                }
                for inline in [false, true] {
                    let (native, by_template) = both_ways(&fleet, inline);
                    assert_eq!(
                        native.files.keys().collect::<Vec<_>>(),
                        by_template.files.keys().collect::<Vec<_>>()
                    );
                    for (path, bytes) in &native.files {
                        assert_eq!(
                            String::from_utf8_lossy(bytes),
                            String::from_utf8_lossy(&by_template.files[path]),
                            "{engine} {}",
                            path.display()
                        );
                    }
                    assert_eq!(native.objects, by_template.objects, "{engine}, inline {inline}");
                    // Not vacuous: every worker's values file, or every worker's object.
                    let (count, at_least) = if inline {
                        (native.objects.len(), 12)
                    } else {
                        (native.files.len(), 12)
                    };
                    assert!(count >= at_least, "{engine}, inline {inline}: {count}");
                }
            }
        }
    }

    #[test]
    fn a_context_the_template_fails_on_gets_the_templates_error() {
        let (_dir, mut fleet) = example("argocd");
        for cluster in &mut fleet.clusters {
            cluster.destination = None;
        }
        let templates = Templates::load(&crate::tree::git::GitTree::default()).unwrap();
        let error = render(&fleet, &templates, &Scope::default(), false).unwrap_err();
        assert!(error.message.contains("undefined"), "{error:?}");
        assert_eq!(error.path, "application.yaml.j2 (built in)");
        let by_template = render(&fleet, &templates.run_builtin_templates(), &Scope::default(), false);
        assert_eq!(Some(error), by_template.err());
    }

    /// One worker's manifest with `values` inlined, both ways.
    fn manifest_both_ways(fleet: &Fleet, values: &Node) -> (String, String) {
        let templates = Templates::load(&crate::tree::git::GitTree::default()).unwrap();
        let worker = fleet.workers.iter().find(|worker| worker.installed).unwrap();
        // A context each: the built object takes the values from its context.
        let (template, _, context) = manifest_context(fleet, worker, values.clone(), true).unwrap();
        let native = object_node(&templates, template, &context).unwrap();
        assert!(context.values.as_ref().unwrap().take().is_none(), "taken by the object");
        let (_, _, context) = manifest_context(fleet, worker, values.clone(), true).unwrap();
        let templates = templates.run_builtin_templates();
        let by_template = object_node(&templates, template, &context).unwrap();
        (emit(&native), emit(&by_template))
    }

    #[test]
    fn inlined_values_are_the_templates_byte_for_byte() {
        let (_dir, mut fleet) = example("flux");
        for engine in [Engine::Flux, Engine::Argocd] {
            fleet.settings.engine.value = engine;
            let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(128));
            runner
                .run(&super::super::canonical::tests::tree(), |values| {
                    let (native, by_template) = manifest_both_ways(&fleet, &values);
                    prop_assert_eq!(native, by_template);
                    Ok(())
                })
                .unwrap();
        }
    }
}
