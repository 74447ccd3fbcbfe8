//! Day 2 in Git, as the engines see it: every lifecycle step of a fleet (add, remove,
//! remove the last worker, retire a cluster, retire an environment, move a worker, two
//! cluster files on one destination), under Flux and Argo CD. Each step renders, then
//! builds every path the engines watch with `kubectl kustomize`, starting from the
//! one-time object's path and following each parent to the path it applies, and checks
//! what is pruned, what is kept, and that no watched path vanishes while it still
//! installs something.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use crate::util::{copy_config, example_repo, replace_once, workergen};

/// What the engine applies: per watched path (from the repository root), the objects
/// its build yields, as `Kind namespace/name`.
type Watched = BTreeMap<String, BTreeSet<String>>;

/// The documents of `kubectl kustomize <folder>`.
fn kustomize(folder: &Path) -> Vec<serde_yaml::Value> {
    let output = Command::new("kubectl")
        .arg("kustomize")
        .arg(folder)
        .output()
        .expect("kubectl is installed");
    assert!(
        output.status.success(),
        "kubectl kustomize {}: {}",
        folder.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|document| serde::Deserialize::deserialize(document).unwrap())
        .filter(|value: &serde_yaml::Value| !value.is_null())
        .collect()
}

fn field<'a>(value: &'a serde_yaml::Value, path: &[&str]) -> Option<&'a str> {
    let mut node = value;
    for key in path {
        node = node.get(*key)?;
    }
    node.as_str()
}

/// Every path the engine of `repo` watches, built: the one-time object's paths
/// (`rendered/_flux/*` or `rendered/_argocd`), then each path a parent there applies.
fn watched(repo: &Path, engine: &str) -> Watched {
    let mut todo: Vec<String> = match engine {
        "flux" => std::fs::read_dir(repo.join("rendered/_flux"))
            .map(|entries| {
                entries
                    .map(|entry| format!("rendered/_flux/{}", entry.unwrap().file_name().to_string_lossy()))
                    .collect()
            })
            .unwrap_or_default(),
        _ => vec!["rendered/_argocd".to_string()],
    };
    let mut watched = Watched::new();
    while let Some(path) = todo.pop() {
        if watched.contains_key(&path) {
            continue;
        }
        let mut objects = BTreeSet::new();
        for document in kustomize(&repo.join(&path)) {
            let kind = field(&document, &["kind"]).unwrap_or_default();
            let name = field(&document, &["metadata", "name"]).unwrap_or_default();
            let namespace = field(&document, &["metadata", "namespace"]).unwrap_or_default();
            objects.insert(format!("{kind} {namespace}/{name}"));
            // A parent: the path it applies is watched too.
            let child = match kind {
                "Kustomization" => field(&document, &["spec", "path"]).map(|path| path.trim_start_matches("./")),
                "Application" => field(&document, &["spec", "source", "path"]),
                _ => None,
            };
            if let Some(child) = child {
                todo.push(child.to_string());
            }
        }
        watched.insert(path, objects);
    }
    watched
}

/// The objects that install a worker: HelmReleases, and Applications that deploy the chart.
fn installs(objects: &BTreeSet<String>, engine: &str) -> BTreeSet<String> {
    let kind = if engine == "flux" {
        "HelmRelease "
    } else {
        "Application "
    };
    objects
        .iter()
        .filter(|object| object.starts_with(kind))
        .filter(|object| !object.contains("--cluster") && !object.contains('.'))
        .cloned()
        .collect()
}

/// All the workers the engine installs, over every watched path, as `path: object`.
fn installed(watched: &Watched, engine: &str) -> BTreeSet<String> {
    watched
        .iter()
        .flat_map(|(path, objects)| {
            installs(objects, engine)
                .into_iter()
                .map(move |object| format!("{path}: {object}"))
        })
        .collect()
}

/// A config repository of the example fleet under `engine`, rendered.
fn fleet(engine: &str) -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    copy_config(&example_repo(), repo.path());
    replace_once(
        &repo.path().join("workergen.yaml"),
        "  engine: flux\n",
        &format!("  engine: {engine}\n"),
    );
    render(repo.path());
    repo
}

fn render(repo: &Path) {
    let run = workergen(repo, &["render"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// Renders after a change and checks that every path watched before that still
/// installs something is still there; returns the new watched paths.
fn step(repo: &Path, engine: &str, before: &Watched) -> Watched {
    render(repo);
    let after = watched(repo, engine);
    for (path, objects) in before {
        if !installs(objects, engine).is_empty() {
            assert!(
                after.contains_key(path),
                "{engine}: `{path}` vanished while it installed {:?}",
                installs(objects, engine)
            );
        }
    }
    after
}

/// A worker's installing object under `engine`, as [`installed`] lists it.
fn worker(engine: &str, environment: &str, cluster: &str, name: &str) -> String {
    let path = format!("rendered/{environment}/{cluster}");
    if engine == "flux" {
        format!("{path}: HelmRelease flux-system/{name}")
    } else {
        format!("{path}: Application argocd/{environment}-{cluster}-{name}")
    }
}

/// The lines of worker `name` in a cluster file's `workers:` (indented by two spaces,
/// its fields by four).
fn worker_block(text: &str, name: &str) -> String {
    let header = format!("  {name}:");
    let mut lines = text.lines().skip_while(|line| !line.starts_with(&header));
    let mut block = format!("{}\n", lines.next().expect("the worker is declared"));
    for line in lines.take_while(|line| line.starts_with("    ") || line.is_empty()) {
        block.push_str(line);
        block.push('\n');
    }
    block
}

const US_EAST: &str = "environments/production/us-east-1.yaml";

#[test]
fn every_lifecycle_step_prunes_what_git_no_longer_declares_under_both_engines() {
    for engine in ["flux", "argocd"] {
        let repo = fleet(engine);
        let repo = repo.path();
        let start = watched(repo, engine);
        let deploy = worker(engine, "production", "us-east-1", "deploy");
        let terraform = worker(engine, "production", "us-east-1", "terraform");
        assert!(installed(&start, engine).contains(&deploy), "{engine}: {start:#?}");
        assert_eq!(installed(&start, engine).len(), 12, "{engine}: {start:#?}");

        // Add a worker.
        let file = repo.join(US_EAST);
        replace_once(
            &file,
            "workers:\n",
            "workers:\n  canary:\n    workerPools: [Canary Workers]\n",
        );
        let added = step(repo, engine, &start);
        let canary = worker(engine, "production", "us-east-1", "canary");
        assert_eq!(
            installed(&added, engine),
            &installed(&start, engine) | &BTreeSet::from([canary.clone()]),
            "{engine}"
        );

        // Remove one: uninstalled (`installed: false`) and deleted alike.
        replace_once(
            &file,
            "    workerPools: [Canary Workers]\n",
            "    workerPools: [Canary Workers]\n    installed: false\n",
        );
        let removed = step(repo, engine, &added);
        assert_eq!(installed(&removed, engine), installed(&start, engine), "{engine}");

        // Remove the last workers of the cluster file: its folder stays and builds to
        // no worker, so its parent prunes them; the file's parent stays.
        std::fs::write(
            &file,
            "cluster:\n  destination:\n    name: prod-us-east-1\nworkers: {}\n",
        )
        .unwrap();
        let emptied = step(repo, engine, &removed);
        let folder = "rendered/production/us-east-1";
        assert!(emptied.contains_key(folder), "{engine}: {emptied:#?}");
        assert!(installs(&emptied[folder], engine).is_empty(), "{engine}: {emptied:#?}");
        assert!(!installed(&emptied, engine).contains(&deploy), "{engine}");
        assert!(!installed(&emptied, engine).contains(&terraform), "{engine}");
        assert_eq!(installed(&emptied, engine).len(), 9, "{engine}");

        // Retire the cluster: delete the (now empty) file. Its parent goes, and with
        // the last cluster file of the destination, the destination's folder.
        std::fs::remove_file(&file).unwrap();
        let retired = step(repo, engine, &emptied);
        assert!(!retired.contains_key(folder), "{engine}: {retired:#?}");
        assert!(!repo.join(folder).exists(), "{engine}");
        assert_eq!(installed(&retired, engine).len(), 9, "{engine}");
        if engine == "flux" {
            assert!(!repo.join("rendered/_flux/prod-us-east-1").exists());
        } else {
            assert!(!repo.join("rendered/_argocd/production/us-east-1.yaml").exists());
        }

        // Move a worker to another cluster file: uninstalled in one, installed in the other.
        let eu = repo.join("environments/production/eu-west-1.yaml");
        let ap = repo.join("environments/production/ap-southeast-2.yaml");
        let text = std::fs::read_to_string(&eu).unwrap();
        let block = worker_block(&text, "smoke-tests");
        std::fs::write(&eu, text.replacen(&block, "", 1)).unwrap();
        let ap_text = std::fs::read_to_string(&ap).unwrap();
        std::fs::write(&ap, ap_text.replacen("workers:\n", &format!("workers:\n{block}"), 1)).unwrap();
        let moved = step(repo, engine, &retired);
        let old = worker(engine, "production", "eu-west-1", "smoke-tests");
        let new = worker(engine, "production", "ap-southeast-2", "smoke-tests");
        assert!(installed(&moved, engine).contains(&new), "{engine}: {moved:#?}");
        assert!(!installed(&moved, engine).contains(&old), "{engine}: {moved:#?}");
        assert_eq!(installed(&moved, engine).len(), 9, "{engine}");

        // Retire an environment: deleting it while it installs workers is refused.
        let staging = repo.join("environments/staging");
        let saved = tempfile::tempdir().unwrap();
        crate::util::copy_dir(&staging, saved.path());
        std::fs::remove_dir_all(&staging).unwrap();
        let refused = workergen(repo, &["render"]);
        assert_eq!(refused.code, 2, "{engine}: {}", refused.stderr);
        assert!(
            refused.stderr.contains("`rendered/staging/eu-west-1`")
                && refused.stderr.contains("hint: retire in two changes"),
            "{}",
            refused.stderr
        );
        assert_eq!(
            watched(repo, engine),
            moved,
            "{engine}: a refused render writes nothing"
        );
        // Step 1: no workers; step 2: the environment goes.
        crate::util::copy_dir(saved.path(), &staging);
        let cluster = staging.join("eu-west-1.yaml");
        let text = std::fs::read_to_string(&cluster).unwrap();
        let head = &text[..text.find("\nworkers:").unwrap()];
        std::fs::write(&cluster, format!("{head}\nworkers: {{}}\n")).unwrap();
        let emptied = step(repo, engine, &moved);
        assert!(
            installs(&emptied["rendered/staging/eu-west-1"], engine).is_empty(),
            "{engine}"
        );
        std::fs::remove_dir_all(&staging).unwrap();
        let gone = step(repo, engine, &emptied);
        assert!(gone.keys().all(|path| !path.contains("staging")), "{engine}: {gone:#?}");
        assert!(!repo.join("rendered/staging").exists(), "{engine}");
    }
}

#[test]
fn two_cluster_files_on_one_destination_share_one_owner_of_the_crd_and_the_chart_source() {
    for engine in ["flux", "argocd"] {
        let repo = fleet(engine);
        let repo = repo.path();
        // A second environment deploying to production's eu-west-1 cluster, spelt
        // another way (case, default port, trailing slash).
        let qa = repo.join("environments/qa");
        std::fs::create_dir_all(&qa).unwrap();
        std::fs::copy(
            repo.join("environments/staging/environment.yaml"),
            qa.join("environment.yaml"),
        )
        .unwrap();
        std::fs::write(
            qa.join("shared.yaml"),
            "cluster:\n  destination:\n    server: https://PROD-EU-WEST-1.k8s.example.com:443/\nworkers:\n  qa-runner:\n    workerPools: [QA Workers]\n    displayName: qa-runner\n",
        )
        .unwrap();
        let run = workergen(repo, &["render"]);
        assert_eq!(run.code, 0, "{engine}: {}", run.stderr);
        let all = watched(repo, engine);
        let crds: Vec<&String> = all
            .iter()
            .filter(|(_, objects)| {
                objects
                    .iter()
                    .any(|object| object.starts_with("CustomResourceDefinition "))
            })
            .map(|(path, _)| path)
            .collect();
        if engine == "flux" {
            let destination = "rendered/_flux/prod-eu-west-1.k8s.example.com";
            assert_eq!(crds.len(), 4, "one CRD owner per destination: {crds:?}");
            let objects = &all[destination];
            let children: Vec<&String> = objects
                .iter()
                .filter(|object| object.starts_with("Kustomization "))
                .collect();
            assert_eq!(
                children,
                [
                    "Kustomization flux-system/production.eu-west-1",
                    "Kustomization flux-system/qa.shared"
                ],
                "{objects:#?}"
            );
            let sources = objects
                .iter()
                .filter(|object| object.starts_with("OCIRepository "))
                .count();
            assert_eq!(sources, 1, "{objects:#?}");
            // Nothing else owns the source or the CRD.
            for (path, objects) in &all {
                if path != destination && !path.starts_with("rendered/_flux/") {
                    assert!(
                        !objects.iter().any(|object| object.starts_with("OCIRepository ")),
                        "{path}"
                    );
                }
            }
        } else {
            // The first cluster file of the destination (production before qa) owns it.
            assert!(
                crds.contains(&&"rendered/production/eu-west-1/_cluster".to_string()),
                "{crds:?}"
            );
            assert!(!crds.contains(&&"rendered/qa/shared/_cluster".to_string()), "{crds:?}");
            assert!(installed(&all, engine).contains(&worker(engine, "qa", "shared", "qa-runner")));
        }
    }
}
