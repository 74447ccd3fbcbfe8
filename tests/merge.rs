//! Layering as Helm will see it (issue 9): `null` removes at every depth, and a `values`
//! block that only removes things conflicts with nothing.

use std::path::Path;

use crate::util::{copy_dir, workergen};

fn base_repo() -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/_base"),
        repo.path(),
    );
    repo
}

fn write(repo: &Path, rel: &str, text: &str) {
    std::fs::write(repo.join(rel), text).unwrap();
}

const CLUSTER_HEAD: &str = "cluster:\n  destination:\n    server: https://eu-west-1.k8s.example.com\nworkers:\n";

fn values_of(repo: &Path, worker: &str) -> serde_json::Value {
    let path = repo.join(format!("rendered/prod/eu-west-1/{worker}/values.yaml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let node = workergen::yaml::parse(&text, workergen::source::FileId(0), workergen::yaml::Limits::default()).unwrap();
    serde_json::to_value(&node).unwrap()
}

fn render_ok(repo: &Path) {
    let run = workergen(repo, &["render"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn null_removes_leaves_set_by_a_lower_layer() {
    let repo = base_repo();
    write(
        repo.path(),
        "workergen.yaml",
        "chart:\n  version: 3.13.2\nacceptEula: true\ngitops:\n  engine: flux\ndefaults:\n  machinePolicy: GitOps Workers\n  workerPools: [Pool]\n  agent:\n    nodeSelector: {pool: workers, zone: a}\n  scriptPods:\n    resources:\n      requests: {cpu: 25m, memory: 100Mi}\n      limits: {memory: 1Gi}\n    serviceAccount:\n      annotations: {k: v, j: w}\n",
    );
    write(
        repo.path(),
        "environments/prod/eu-west-1.yaml",
        &format!(
            "{CLUSTER_HEAD}  build:\n    agent:\n      nodeSelector: {{pool: null}}\n    scriptPods:\n      resources:\n        requests: {{cpu: null}}\n        limits: {{memory: null}}\n      serviceAccount:\n        annotations: {{k: null}}\n  deploy: {{}}\n"
        ),
    );
    render_ok(repo.path());
    let build = values_of(repo.path(), "build");
    assert_eq!(build["agent"]["nodeSelector"], serde_json::json!({"zone": "a"}));
    assert_eq!(
        build["scriptPods"]["resources"],
        serde_json::json!({"requests": {"memory": "100Mi"}})
    );
    assert_eq!(
        build["scriptPods"]["serviceAccount"],
        serde_json::json!({"annotations": {"j": "w"}})
    );
    // The worker without removals keeps every inherited leaf.
    let deploy = values_of(repo.path(), "deploy");
    assert_eq!(
        deploy["agent"]["nodeSelector"],
        serde_json::json!({"pool": "workers", "zone": "a"})
    );
    assert_eq!(
        deploy["scriptPods"]["resources"],
        serde_json::json!({"requests": {"cpu": "25m", "memory": "100Mi"}, "limits": {"memory": "1Gi"}})
    );
}

#[test]
fn null_at_the_lowest_layer_is_accepted_and_renders_nothing() {
    let repo = base_repo();
    write(
        repo.path(),
        "environments/prod/eu-west-1.yaml",
        &format!(
            "{CLUSTER_HEAD}  build:\n    workerPools: [Pool]\n    agent:\n      nodeSelector: {{pool: null}}\n      serviceAccount: {{annotations: {{k: null}}}}\n    scriptPods:\n      resources:\n        requests: {{cpu: null, memory: 1Gi}}\n        limits: {{memory: null}}\n  deploy:\n    workerPools: [Pool]\n"
        ),
    );
    render_ok(repo.path());
    let build = values_of(repo.path(), "build");
    assert_eq!(build["agent"].get("nodeSelector"), None);
    assert_eq!(build["agent"].get("serviceAccount"), None);
    assert_eq!(
        build["scriptPods"]["resources"],
        serde_json::json!({"requests": {"memory": "1Gi"}})
    );
}

#[test]
fn a_values_block_that_only_removes_conflicts_with_nothing() {
    let repo = base_repo();
    let typed = "    workerPools: [Pool]\n    scriptPods:\n      image: octopusdeploy/worker-tools:6.5.0\n      resources: {requests: {cpu: 100m}}\n    agent:\n      nodeSelector: {pool: a}\n";
    write(
        repo.path(),
        "environments/prod/eu-west-1.yaml",
        &format!(
            "{CLUSTER_HEAD}  build:\n{typed}    values: {{scriptPods: {{disruptionBudgetEnabled: null}}}}\n  deploy:\n{typed}    values: {{agent: {{affinity: null}}}}\n  test:\n{typed}    values: {{scriptPods: {{}}}}\n"
        ),
    );
    let run = workergen(repo.path(), &["validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("set both"), "{}", run.stderr);
    render_ok(repo.path());
    assert_eq!(
        values_of(repo.path(), "test")["scriptPods"]["resources"]["requests"]["cpu"],
        "100m"
    );
}

#[test]
fn a_values_removal_of_a_lower_values_leaf_conflicts_with_nothing() {
    let repo = base_repo();
    write(
        repo.path(),
        "environments/prod/eu-west-1.yaml",
        &format!(
            "{CLUSTER_HEAD}  build:\n    workerPools: [Pool]\n    scriptPods: {{image: 'octopusdeploy/worker-tools:6.5.0'}}\n    values: {{scriptPods: {{disruptionBudgetEnabled: null}}}}\n  deploy:\n    workerPools: [Pool]\n"
        ),
    );
    write(
        repo.path(),
        "environments/prod/environment.yaml",
        "octopus:\n  serverUrl: https://octopus.example.com/\n  serverCommsAddresses: [https://octopus.example.com:10943/]\n  space: Default\n  auth: {bearerTokenSecret: octopus-worker-token}\ndefaults:\n  values: {scriptPods: {disruptionBudgetEnabled: false}}\n",
    );
    render_ok(repo.path());
    assert_eq!(
        values_of(repo.path(), "build")["scriptPods"].get("disruptionBudgetEnabled"),
        None
    );
    assert_eq!(
        values_of(repo.path(), "deploy")["scriptPods"]["disruptionBudgetEnabled"],
        false
    );
}

/// The string form of an image merges exactly like the object form: a worker's `{tag}`
/// over a lower layer's `repo:tag` keeps that repository (it rendered the chart's
/// default, Docker Hub's, with the new tag), and `repo:tag@sha256:…` is taken with the
/// digest kept on the tag, as `{tag: "…@sha256:…"}` is.
#[test]
fn image_strings_merge_like_objects_and_take_a_digest() {
    let repo = base_repo();
    write(
        repo.path(),
        "environments/prod/eu-west-1.yaml",
        &format!(
            "{CLUSTER_HEAD}  build:\n    scriptPods:\n      image: {{tag: 6.6.0}}\n  deploy:\n    agent:\n      image: octopusdeploy/kubernetes-agent-tentacle:9.1@sha256:0123456789abcdef\ndefaults:\n  workerPools: [Pool]\n  scriptPods:\n    image: harbor.dc1.example.com/worker-tools:6.5.0\n"
        ),
    );
    render_ok(repo.path());
    let build = values_of(repo.path(), "build");
    assert_eq!(
        build["scriptPods"]["worker"]["image"],
        serde_json::json!({"repository": "harbor.dc1.example.com/worker-tools", "tag": "6.6.0"})
    );
    let deploy = values_of(repo.path(), "deploy");
    assert_eq!(
        deploy["agent"]["image"],
        serde_json::json!({"repository": "octopusdeploy/kubernetes-agent-tentacle", "tag": "9.1@sha256:0123456789abcdef"})
    );
    assert_eq!(
        deploy["scriptPods"]["worker"]["image"],
        serde_json::json!({"repository": "harbor.dc1.example.com/worker-tools", "tag": "6.5.0"})
    );
}

/// A cluster's `secrets:` that switches to another store and writes a remote reference
/// takes it whole: the environment's `property` and `version` of it name places in the
/// other store (the ExternalSecret never synced).
#[test]
fn a_store_switch_inherits_no_remote_reference() {
    let repo = base_repo();
    let environment = std::fs::read_to_string(repo.path().join("environments/prod/environment.yaml")).unwrap();
    write(
        repo.path(),
        "environments/prod/environment.yaml",
        &format!("{environment}secrets:\n  externalSecret:\n    storeRef: {{kind: ClusterSecretStore, name: vault}}\n    remoteRefs:\n      bearerToken: {{key: octopus/worker-token, property: token, version: \"3\"}}\n"),
    );
    let cluster = |refs: &str| {
        format!("{CLUSTER_HEAD}  build: {{}}\ndefaults:\n  workerPools: [Pool]\nsecrets:\n  externalSecret:\n    storeRef: {{kind: ClusterSecretStore, name: aws}}\n{refs}")
    };
    write(
        repo.path(),
        "environments/prod/eu-west-1.yaml",
        &cluster("    remoteRefs:\n      bearerToken: {key: prod/octopus-token}\n"),
    );
    render_ok(repo.path());
    let path = repo
        .path()
        .join("rendered/prod/eu-west-1/build/externalsecret-auth.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("key: prod/octopus-token"), "{text}");
    assert!(text.contains("name: aws"), "{text}");
    assert!(!text.contains("property") && !text.contains("version"), "{text}");
    // A reference it does not write is the environment's, whole (the same layout in
    // another store).
    write(repo.path(), "environments/prod/eu-west-1.yaml", &cluster(""));
    render_ok(repo.path());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("key: octopus/worker-token") && text.contains("property: token"),
        "{text}"
    );
}
