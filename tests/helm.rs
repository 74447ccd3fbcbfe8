//! The rendered values as the real chart reads them (issue 9, "real consumers").
//!
//! Every values.yaml workergen renders for the example fleet (the committed
//! `rendered/` tree, which is the Flux golden tree, and the Argo CD render) goes through
//! `helm template` of the reference chart at the worker's chart version, as the
//! release and namespace the GitOps object installs it as. The chart must produce
//! the registration environment the declarations ask for: `ServerUrl`, `WorkerPools`
//! and the credential's `secretKeyRef`. Without the test tools (`WORKERGEN_TEST_TOOLS`,
//! set by `.ci/run`) these tests print why and pass.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use workergen::source::FileId;
use workergen::yaml::{parse, Limits};

use crate::util::{
    check_registration, copy_config, example_repo, helm_template_all, real_helm, replace_once, workergen, Credential,
    HelmRun, Registration,
};

/// The example fleet's enabled workers (`<env>/<cluster>/<worker>`) and their pools, as
/// declared under `environments/`.
const EXAMPLE_POOLS: [(&str, &[&str]); 12] = [
    (
        "production/ap-southeast-2/deploy",
        &["Production Deploy Workers - APAC"],
    ),
    (
        "production/ap-southeast-2/k8s-deploy",
        &["Kubernetes Deploy Workers - APAC"],
    ),
    ("production/eu-west-1/build-linux", &["Linux Build Workers"]),
    ("production/eu-west-1/db-migrations", &["Database Workers"]),
    ("production/eu-west-1/deploy", &["Production Deploy Workers"]),
    ("production/eu-west-1/smoke-tests", &["Smoke Test Workers"]),
    ("production/us-east-1/aws-infra", &["AWS Infrastructure Workers"]),
    ("production/us-east-1/deploy", &["Production Deploy Workers"]),
    ("production/us-east-1/terraform", &["Terraform Workers"]),
    ("staging/eu-west-1/build-linux", &["Linux Build Workers"]),
    ("staging/eu-west-1/deploy", &["Staging Workers"]),
    ("staging/eu-west-1/terraform", &["Terraform Workers"]),
];

/// What a worker of the example fleet registers with: its pools, and its environment's
/// `octopus:` server and credential.
fn example_registration(worker: &str) -> Registration {
    let (_, pools) = EXAMPLE_POOLS
        .iter()
        .find(|(path, _)| *path == worker)
        .unwrap_or_else(|| panic!("`{worker}` is not an enabled worker of the example fleet"));
    let (server_url, credential) = if worker.starts_with("production/") {
        (
            "https://octopus.example.com/",
            Credential::BearerToken("octopus-worker-token".into()),
        )
    } else {
        (
            "https://octopus-staging.example.com/",
            Credential::ApiKey("octopus-staging-worker-api-key".into()),
        )
    };
    Registration {
        worker_pools: pools.iter().map(|pool| (*pool).to_string()).collect(),
        server_url: server_url.into(),
        credential,
    }
}

/// Every chart source of the rendered tree `rendered` (`_flux/<destination>/ocirepository-*.yaml`).
fn flux_sources(rendered: &Path) -> Vec<Json> {
    let mut sources = Vec::new();
    for destination in fs::read_dir(rendered.join("_flux")).unwrap() {
        for file in fs::read_dir(destination.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            if path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("ocirepository-")
            {
                sources.extend(yaml_documents(&path));
            }
        }
    }
    sources
}

fn yaml_documents(path: &Path) -> Vec<Json> {
    let text = fs::read_to_string(path).unwrap();
    text.split("\n---\n")
        .filter(|document| document.lines().any(|line| !line.is_empty() && !line.starts_with('#')))
        .map(|document| {
            let node = parse(document, FileId(0), Limits::default()).unwrap();
            serde_json::to_value(&node).unwrap()
        })
        .collect()
}

fn text(value: &Json, what: &str) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {value}"))
        .to_string()
}

/// How the GitOps object next to `worker/values.yaml` installs it: the chart version,
/// release name and namespace, read from the HelmRelease (and its OCIRepository) or
/// the Argo CD Application.
fn helm_run(worker: &Path) -> HelmRun {
    let values = worker.join("values.yaml");
    let flux = worker.join("helmrelease.yaml");
    if flux.is_file() {
        let release = &yaml_documents(&flux)[0];
        let source = text(&release["spec"]["chartRef"]["name"], "chartRef.name");
        // `rendered/<env>/<cluster>/<worker>`: the sources are its destination's, under `_flux/`.
        let repositories = flux_sources(worker.ancestors().nth(3).unwrap());
        let repository = repositories
            .iter()
            .find(|repository| repository["metadata"]["name"] == source.as_str())
            .unwrap_or_else(|| panic!("no OCIRepository `{source}` for {}", flux.display()));
        return HelmRun {
            values,
            chart_version: text(&repository["spec"]["ref"]["tag"], "ref.tag"),
            release: text(&release["spec"]["releaseName"], "releaseName"),
            namespace: text(&release["spec"]["targetNamespace"], "targetNamespace"),
        };
    }
    let application = &yaml_documents(&worker.join("application.yaml"))[0];
    let chart = application["spec"]["sources"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|source| source["chart"] == "kubernetes-agent")
        .unwrap_or_else(|| panic!("no chart source in {}", worker.display()));
    HelmRun {
        values,
        chart_version: text(&chart["targetRevision"], "targetRevision"),
        release: text(&chart["helm"]["releaseName"], "helm.releaseName"),
        namespace: text(
            &application["spec"]["destination"]["namespace"],
            "destination.namespace",
        ),
    }
}

/// Every worker folder (`<env>/<cluster>/<worker>`, holding a values.yaml) of a rendered tree.
fn worker_folders(rendered: &Path) -> BTreeMap<String, PathBuf> {
    let mut found = BTreeMap::new();
    for environment in fs::read_dir(rendered).unwrap() {
        for cluster in fs::read_dir(environment.unwrap().path()).unwrap() {
            let cluster = cluster.unwrap().path();
            if !cluster.is_dir() {
                continue;
            }
            for worker in fs::read_dir(&cluster).unwrap() {
                let worker = worker.unwrap().path();
                if worker.join("values.yaml").is_file() {
                    let relative = worker.strip_prefix(rendered).unwrap();
                    found.insert(relative.to_string_lossy().replace('\\', "/"), worker);
                }
            }
        }
    }
    found
}

/// Runs every worker of each rendered tree through the chart (identical runs once) and
/// checks its registration.
fn assert_every_worker_registers(trees: &[(&str, &Path)]) {
    // Runs by what Helm sees (values bytes, version, release, namespace), with their workers.
    type Seen = (Vec<u8>, String, String, String);
    let mut runs: BTreeMap<Seen, (HelmRun, Vec<String>)> = BTreeMap::new();
    for (name, rendered) in trees {
        let workers = worker_folders(rendered);
        let declared: Vec<&str> = EXAMPLE_POOLS.iter().map(|(path, _)| *path).collect();
        assert_eq!(
            workers.keys().collect::<Vec<_>>(),
            declared,
            "{name}: the rendered workers"
        );
        for (worker, folder) in workers {
            let run = helm_run(&folder);
            let key = (
                fs::read(&run.values).unwrap(),
                run.chart_version.clone(),
                run.release.clone(),
                run.namespace.clone(),
            );
            runs.entry(key).or_insert_with(|| (run, Vec::new())).1.push(worker);
        }
    }
    let (helm_runs, workers): (Vec<HelmRun>, Vec<Vec<String>>) = runs.into_values().unzip();
    let mut problems = Vec::new();
    for ((run, workers), manifests) in helm_runs.iter().zip(&workers).zip(helm_template_all(&helm_runs)) {
        let manifests = match manifests {
            Ok(manifests) => manifests,
            Err(error) => {
                problems.push(error);
                continue;
            }
        };
        for worker in workers {
            if let Err(found) = check_registration(&manifests, &example_registration(worker)) {
                problems.push(format!(
                    "{worker} ({}):\n  {}",
                    run.values.display(),
                    found.join("\n  ")
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_example_worker_registers_through_the_real_chart() {
    if real_helm().is_none() {
        return;
    }
    // The committed tree is the Flux render (`the_committed_example_tree_is_a_fresh_render`).
    let argocd = tempfile::tempdir().unwrap();
    copy_config(&example_repo(), argocd.path());
    replace_once(
        &argocd.path().join("workergen.yaml"),
        "  engine: flux\n",
        "  engine: argocd\n",
    );
    let run = workergen(argocd.path(), &["render"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_every_worker_registers(&[
        ("flux (committed)", &example_repo().join("rendered")),
        ("argocd", &argocd.path().join("rendered")),
    ]);
}

/// The check above is only worth something if it fails when the chart would not
/// register the worker as declared.
#[test]
fn the_registration_check_catches_what_the_chart_would_not_register() {
    if real_helm().is_none() {
        return;
    }
    let worker = "production/eu-west-1/deploy";
    let original = example_repo().join("rendered").join(worker).join("values.yaml");
    let dir = tempfile::tempdir().unwrap();
    let variant = |name: &str, from: &str, to: &str| {
        let path = dir.path().join(format!("{name}.yaml"));
        fs::copy(&original, &path).unwrap();
        replace_once(&path, from, to);
        HelmRun {
            values: path,
            chart_version: "3.13.2".into(),
            release: "deploy".into(),
            namespace: "octopus-agent-deploy".into(),
        }
    };
    let cases = [
        (
            variant(
                "other-pool",
                "- Production Deploy Workers\n",
                "- Production Deploy Workers,Staging\n",
            ),
            "`WorkerPools` is Some(Text(\"Production Deploy Workers,Staging\")), expected Text(\"Production Deploy Workers\")",
        ),
        (
            variant(
                "no-credential",
                "  bearerTokenSecretName: octopus-worker-token\n",
                "",
            ),
            "`BearerToken` is None, expected SecretKey(\"octopus-worker-token\", \"bearer-token\")",
        ),
        (
            variant(
                "api-key-too",
                "  bearerTokenSecretName: octopus-worker-token\n",
                "  bearerTokenSecretName: octopus-worker-token\n  serverApiKeySecretName: other\n",
            ),
            "unexpected credential `ServerApiKey`",
        ),
        (
            variant("worker-disabled", "    enabled: true\n", "    enabled: false\n"),
            "`WorkerEnabled` is Some(Text(\"false\")), expected Text(\"true\")",
        ),
    ];
    let runs: Vec<HelmRun> = cases.iter().map(|(run, _)| run.clone()).collect();
    for ((run, wanted), manifests) in cases.iter().zip(helm_template_all(&runs)) {
        let manifests = manifests.unwrap();
        let problems = check_registration(&manifests, &example_registration(worker))
            .expect_err(&format!("{}: the check passed", run.values.display()));
        assert!(
            problems.iter().any(|problem| problem.contains(wanted)),
            "{}: {problems:#?}",
            run.values.display()
        );
    }
}
