//! `workergen diff` and `workergen check` against real Git repositories.
//!
//! Every repository is built in a temp dir with the `git` CLI (fixed identity and
//! date, no user configuration), never from this crate's own history. Most start from
//! one commit holding the example fleet and edit the working tree from there.

use std::collections::BTreeSet;
use std::path::Path;

use crate::util::{
    commit_all, copy_config, example_git_repo, example_repo, git, git_init, position_of, replace_once, workergen, Run,
};

const PRODUCTION: &str = "environments/production/environment.yaml";
const PROD_EU: &str = "environments/production/eu-west-1.yaml";
const PROD_US: &str = "environments/production/us-east-1.yaml";
const STAGING: &str = "environments/staging/environment.yaml";
const STAGING_EU: &str = "environments/staging/eu-west-1.yaml";

const REINSTALL_POOLS: &str = "`agent.worker.initial.workerPools`: the agent restarts (its Deployment's `WorkerPools` changes), but the worker registered in Octopus keeps its pools: run `workergen status --apply` after the sync to move it";
/// The note of a removed worker under Flux: which parent prunes which HelmRelease.
fn uninstall(environment: &str, cluster: &str, worker: &str) -> String {
    format!(
        "uninstalls the agent: the Flux Kustomization `{environment}.{cluster}` prunes the HelmRelease `flux-system/{worker}`, \
         and helm-controller uninstalls the release; the worker stays registered in Octopus until `workergen status --prune` \
         (or the Octopus UI) deletes it"
    )
}
const INSTALL: &str = "installs a new agent, which registers a new worker in Octopus (an install adopted with `workergen import` is upgraded in place as the same Helm release and keeps its registration)";
/// The note beside [`uninstall`] for a worker whose Namespace was rendered (issue 11).
fn kept_namespace(namespace: &str) -> String {
    format!("its Namespace `{namespace}` and the Secrets in it stay (workergen marks Namespaces never to be pruned): delete them by hand when they are no longer needed")
}

/// Filters the short commit hashes out of a snapshot.
pub(crate) const HASH_FILTER: (&str, &str) = (r"\b[0-9a-f]{7}\b", "[HASH]");

fn ok(run: &Run) {
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
}

fn diff(dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["diff"];
    all.extend_from_slice(args);
    workergen(dir, &all)
}

fn json(dir: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let run = diff(dir, &all);
    ok(&run);
    serde_json::from_str(&run.stdout).unwrap_or_else(|error| panic!("{error}:\n{}", run.stdout))
}

/// The worker of that id in a JSON document.
fn worker<'a>(document: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    document["workers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|worker| worker["id"] == id)
        .unwrap_or_else(|| panic!("no worker `{id}` in\n{document:#}"))
}

fn risk_messages(worker: &serde_json::Value) -> Vec<&str> {
    worker["risks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|risk| risk["message"].as_str().unwrap())
        .collect()
}

/// The realistic change of the snapshots: one worker's pools, and a cluster default
/// (the node pool label of the agents) that three workers inherit.
fn realistic_change(dir: &Path) {
    replace_once(
        &dir.join(PROD_EU),
        "      - Database Workers\n",
        "      - Database Workers\n      - DBA Workers\n",
    );
    replace_once(
        &dir.join(PROD_EU),
        "    node.example.com/pool: octopus-workers\n",
        "    node.example.com/pool: octopus-workers-v2\n",
    );
}

// 1. Per worker: added, removed, changed, renamed, moved to another namespace.

#[test]
fn an_added_worker_is_listed_with_an_install_note() {
    let repo = example_git_repo();
    let dir = repo.path();
    std::fs::write(
        dir.join(STAGING_EU),
        std::fs::read_to_string(dir.join(STAGING_EU)).unwrap()
            + "  windows-build:\n    workerPools: [Windows Build Workers]\n",
    )
    .unwrap();
    let run = diff(dir, &[]);
    ok(&run);
    let first = run.stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("merge-base of HEAD and main (")
            && first.ends_with(") -> working tree: 1 added, 0 changed, 0 removed, 12 unchanged"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!(
            "\n+ staging/eu-west-1/windows-build (added)\n    ! {INSTALL}\n"
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.starts_with("base: merge-base of HEAD and main ("),
        "{}",
        run.stderr
    );
}

#[test]
fn a_removed_worker_uninstalls_the_agent() {
    let repo = example_git_repo();
    let dir = repo.path();
    // One worker deleted, one disabled: both are removed.
    replace_once(
        &dir.join(STAGING_EU),
        "  terraform:\n    workerPools:\n      - Terraform Workers\n    scriptPods:\n      resources:\n        requests:\n          \
         cpu: 500m\n          memory: 1Gi\n",
        "",
    );
    replace_once(&dir.join(PROD_US), "  deploy: {}\n", "  deploy: { installed: false }\n");
    let run = diff(dir, &[]);
    ok(&run);
    assert!(
        run.stdout.contains(&format!(
            "\n- production/us-east-1/deploy (removed)\n    ! {}\n    ! {}\n",
            kept_namespace("octopus-agent-deploy"),
            uninstall("production", "us-east-1", "deploy")
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("0 added, 0 changed, 2 removed, 10 unchanged"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!(
            "\n- staging/eu-west-1/terraform (removed)\n    ! {}\n    ! {}\n",
            kept_namespace("octopus-agent-terraform"),
            uninstall("staging", "eu-west-1", "terraform")
        )),
        "{}",
        run.stdout
    );
}

#[test]
fn changed_pools_show_the_key_path_old_new_cause_and_the_reinstall_note() {
    let repo = example_git_repo();
    let dir = repo.path();
    replace_once(
        &dir.join(PROD_EU),
        "      - Database Workers\n",
        "      - Database Workers\n      - DBA Workers\n",
    );
    // The head declaration: the pools list of db-migrations, where it starts.
    let (line, column) = position_of(&dir.join(PROD_EU), "- Database Workers");
    let run = diff(dir, &[]);
    ok(&run);
    assert!(
        run.stdout.contains("0 added, 1 changed, 0 removed, 11 unchanged"),
        "{}",
        run.stdout
    );
    let expected = format!(
        "\n~ production/eu-west-1/db-migrations\n    values agent.worker.initial.workerPools: [\"Database Workers\"] -> \
         [\"Database Workers\",\"DBA Workers\"]  ({PROD_EU}:{line}:{column}, worker)\n    ! {REINSTALL_POOLS}\n"
    );
    assert!(run.stdout.contains(&expected), "{expected}\nnot in\n{}", run.stdout);
    // The unified diff of the values file follows.
    assert!(
        run.stdout
            .contains("--- a/rendered/production/eu-west-1/db-migrations/values.yaml\n+++ b/rendered/production/eu-west-1/db-migrations/values.yaml\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("\n+        - DBA Workers\n"), "{}", run.stdout);

    let document = json(dir, &[]);
    let worker = worker(&document, "production/eu-west-1/db-migrations");
    assert_eq!(worker["status"], "changed");
    let changes = worker["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{worker:#}");
    assert_eq!(
        changes[0],
        serde_json::json!({
            "object": "values",
            "path": "agent.worker.initial.workerPools",
            "old": ["Database Workers"],
            "new": ["Database Workers", "DBA Workers"],
            "cause": {"file": PROD_EU, "line": line, "column": column, "layer": "worker"},
        })
    );
    assert_eq!(
        worker["risks"],
        serde_json::json!([{"kind": "restart", "message": REINSTALL_POOLS}])
    );
}

#[test]
fn a_rename_is_a_removal_and_an_addition_that_looks_like_a_rename() {
    let repo = example_git_repo();
    let dir = repo.path();
    // `deploy` takes its pools from the cluster defaults; so does `deployer`.
    replace_once(&dir.join(PROD_US), "  deploy: {}\n", "  deployer: {}\n");
    let run = diff(dir, &[]);
    ok(&run);
    assert!(
        run.stdout.contains("1 added, 0 changed, 1 removed, 11 unchanged"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!(
            "\n- production/us-east-1/deploy (removed)\n    ! {}\n    ! {}\n",
            kept_namespace("octopus-agent-deploy"),
            uninstall("production", "us-east-1", "deploy")
        )),
        "{}",
        run.stdout
    );
    let rename = "looks like a rename of `deploy`: a new release name installs a new agent (a new worker in Octopus) and removes the old one";
    assert!(
        run.stdout.contains(&format!(
            "\n+ production/us-east-1/deployer (added)\n    ! {rename}\n    ! {INSTALL}\n"
        )),
        "{}",
        run.stdout
    );

    // In JSON: one `replace` note on the added worker.
    let document = json(dir, &[]);
    let added = worker(&document, "production/us-east-1/deployer");
    assert!(risk_messages(added).contains(&rename), "{added:#}");
    let replace: Vec<_> = added["risks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|risk| risk["kind"] == "replace")
        .collect();
    assert_eq!(replace.len(), 1, "{added:#}");
}

#[test]
fn other_pools_are_no_rename() {
    let repo = example_git_repo();
    let dir = repo.path();
    replace_once(
        &dir.join(PROD_US),
        "  deploy: {}\n",
        "  deployer:\n    workerPools: [Other Pool]\n",
    );
    let document = json(dir, &[]);
    let added = worker(&document, "production/us-east-1/deployer");
    assert_eq!(risk_messages(added), [INSTALL], "{added:#}");
}

#[test]
fn a_namespace_change_installs_a_new_agent_and_removes_the_old_one() {
    let repo = example_git_repo();
    let dir = repo.path();
    replace_once(
        &dir.join(PROD_US),
        "  terraform:\n",
        "  terraform:\n    namespace: octopus-terraform\n",
    );
    let (line, column) = position_of(&dir.join(PROD_US), "octopus-terraform");
    let run = diff(dir, &[]);
    ok(&run);
    assert!(
        run.stdout.contains("0 added, 1 changed, 0 removed, 11 unchanged"),
        "{}",
        run.stdout
    );
    let cause = format!("({PROD_US}:{line}:{column}, worker)");
    for field in ["spec.storageNamespace", "spec.targetNamespace"] {
        let expected = format!("    helmrelease {field}: octopus-agent-terraform -> octopus-terraform  {cause}\n");
        assert!(run.stdout.contains(&expected), "{expected}\nnot in\n{}", run.stdout);
    }
    assert!(
        run.stdout.contains(
            "    ! namespace `octopus-agent-terraform` -> `octopus-terraform`: installs a new agent in `octopus-terraform` and removes the old one; the Namespace `octopus-agent-terraform` and the Secrets in it stay (workergen marks Namespaces never to be pruned): delete them by hand when they are no longer needed\n"
        ),
        "{}",
        run.stdout
    );
}

/// A namespace back to its default: the change still has a cause (the removed
/// declaration, or the worker's entry), not none.
#[test]
fn a_namespace_back_to_its_default_names_the_removed_declaration() {
    let repo = example_git_repo();
    let dir = repo.path();
    replace_once(&dir.join(PROD_EU), "    namespace: octopus-db-migrations\n", "");
    let document = json(dir, &[]);
    let worker = worker(&document, "production/eu-west-1/db-migrations");
    assert_eq!(
        risk_messages(worker),
        ["namespace `octopus-db-migrations` -> `octopus-agent-db-migrations`: installs a new agent in `octopus-agent-db-migrations` and removes the old one; the Namespace `octopus-db-migrations` and the Secrets in it stay (workergen marks Namespaces never to be pruned): delete them by hand when they are no longer needed"]
    );
    for change in worker["changes"].as_array().unwrap() {
        // The removed `namespace:` of the base, or the worker's entry in the head.
        assert_eq!(change["cause"]["file"], PROD_EU, "{change:#}");
    }
}

/// An added or removed worker lists its values leaf by leaf; an empty root (the side
/// that does not exist) is no leaf and no change.
#[test]
fn added_and_removed_workers_list_only_real_leaves() {
    let repo = example_git_repo();
    let dir = repo.path();
    replace_once(
        &dir.join(PROD_US),
        "  deploy: {}\n",
        "  deployer:\n    workerPools: [Other Pool]\n",
    );
    let document = json(dir, &[]);
    for id in ["production/us-east-1/deploy", "production/us-east-1/deployer"] {
        let worker = worker(&document, id);
        for change in worker["changes"].as_array().unwrap() {
            assert_ne!(change["path"], "", "{id}: a change of the whole root:\n{change:#}");
            assert!(
                change["old"].is_null() != change["new"].is_null(),
                "{id}: an added or removed worker's change has exactly one side:\n{change:#}"
            );
        }
    }
}

// 2. A default that changes many workers is one line.

#[test]
fn a_changed_default_is_grouped() {
    let repo = example_git_repo();
    let dir = repo.path();
    replace_once(
        &dir.join(PRODUCTION),
        "  pollingConnectionCount: 10\n",
        "  pollingConnectionCount: 12\n",
    );
    replace_once(
        &dir.join(PROD_US),
        "    storageClassName: gp3\n",
        "    storageClassName: gp3-encrypted\n",
    );
    let (polling, _) = position_of(&dir.join(PRODUCTION), "pollingConnectionCount: 12");
    let (storage, _) = position_of(&dir.join(PROD_US), "storageClassName: gp3-encrypted");
    let run = diff(dir, &[]);
    ok(&run);
    // Every production worker but terraform, which sets its own count.
    let expected = format!(
        "\n{PRODUCTION}:{polling} changed values `agent.pollingConnectionCount` 10 -> 12 for 8 workers:\n    \
         production/ap-southeast-2/deploy, production/ap-southeast-2/k8s-deploy, production/eu-west-1/build-linux, \
         production/eu-west-1/db-migrations, production/eu-west-1/deploy, production/eu-west-1/smoke-tests, \
         production/us-east-1/aws-infra, production/us-east-1/deploy\n"
    );
    assert!(run.stdout.contains(&expected), "{expected}\nnot in\n{}", run.stdout);
    let expected = format!(
        "\n{PROD_US}:{storage} changed values `persistence.storageClassName` gp3 -> gp3-encrypted for 3 workers:\n    \
         production/us-east-1/aws-infra, production/us-east-1/deploy, production/us-east-1/terraform\n"
    );
    assert!(run.stdout.contains(&expected), "{expected}\nnot in\n{}", run.stdout);
    // The grouped change is not repeated per worker.
    assert_eq!(
        run.stdout.matches("agent.pollingConnectionCount").count(),
        1,
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("0 added, 9 changed, 0 removed, 3 unchanged"),
        "{}",
        run.stdout
    );

    let document = json(dir, &[]);
    let groups = document["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{document:#}");
    assert_eq!(groups[0]["cause"]["file"], PRODUCTION);
    assert_eq!(groups[0]["cause"]["line"], polling);
    assert_eq!(groups[0]["cause"]["layer"], "environment defaults");
    assert_eq!(groups[0]["path"], "agent.pollingConnectionCount");
    assert_eq!((&groups[0]["old"], &groups[0]["new"]), (&10.into(), &12.into()));
    assert_eq!(groups[0]["workers"].as_array().unwrap().len(), 8);
    assert_eq!(groups[1]["cause"]["layer"], "cluster defaults");
    assert_eq!(groups[1]["workers"].as_array().unwrap().len(), 3);
}

/// Under Argo CD a chart version bump changes `targetRevision` inside the
/// Application's `spec.sources` list: one group, caused by the version's line.
#[test]
fn an_argocd_chart_version_bump_is_grouped_by_its_declaration() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    git_init(dir);
    copy_config(&example_repo(), dir);
    replace_once(&dir.join("workergen.yaml"), "  engine: flux\n", "  engine: argocd\n");
    commit_all(dir, "the example fleet under Argo CD");
    replace_once(
        &dir.join("workergen.yaml"),
        "  version: 3.13.2\n",
        "  version: 3.13.3\n",
    );
    let (line, _) = position_of(&dir.join("workergen.yaml"), "version: 3.13.3");
    let document = json(dir, &[]);
    // Staging takes its chart version from its environment.yaml.
    assert_eq!(document["summary"]["changed"], 9, "{:#}", document["summary"]);
    let groups = document["groups"].as_array().unwrap();
    let group = groups
        .iter()
        .find(|group| group["object"] == "application")
        .unwrap_or_else(|| panic!("no group for the Applications: {:#}", document["groups"]));
    assert_eq!(group["cause"]["file"], "workergen.yaml", "{group:#}");
    assert_eq!(group["cause"]["line"], line, "{group:#}");
    assert!(group["path"].as_str().unwrap().ends_with("targetRevision"), "{group:#}");
    assert_eq!(
        (&group["old"], &group["new"]),
        (&"3.13.2".into(), &"3.13.3".into()),
        "{group:#}"
    );
    assert_eq!(group["workers"].as_array().unwrap().len(), 9, "{group:#}");
}

// 3. Formatting is no change; `--exit-code`.

#[test]
fn a_formatting_only_change_is_no_change() {
    let repo = example_git_repo();
    let dir = repo.path();
    // Reorder keys, reindent, flow style, quote a string, add comments.
    replace_once(
        &dir.join(STAGING_EU),
        "  terraform:\n    workerPools:\n      - Terraform Workers\n    scriptPods:\n      resources:\n        requests:\n          \
         cpu: 500m\n          memory: 1Gi\n",
        "  # Terraform plans and applies.\n  terraform:\n        scriptPods:\n            resources:\n                \
         requests: {memory: 1Gi, cpu: \"500m\"}   # sized for plans\n        workerPools: [\"Terraform Workers\"]\n",
    );
    replace_once(
        &dir.join(STAGING),
        "  pollingConnectionCount: 2\n  storage:\n    size: 5Gi\n",
        "  storage: { size: '5Gi' }\n  pollingConnectionCount: 2 # unchanged\n",
    );
    assert_ne!(git(dir, &["status", "--porcelain"]), "", "the files did change");
    let run = diff(dir, &["--exit-code"]);
    ok(&run);
    assert!(
        run.stdout.contains(": 0 added, 0 changed, 0 removed, 12 unchanged\n"),
        "{}",
        run.stdout
    );
    for format in ["markdown", "json"] {
        let run = diff(dir, &["--exit-code", "--format", format]);
        ok(&run);
    }
    let document = json(dir, &[]);
    assert_eq!(document["workers"], serde_json::json!([]));
    assert_eq!(document["groups"], serde_json::json!([]));
}

#[test]
fn exit_code_is_1_for_a_real_change_and_0_without_the_flag() {
    let repo = example_git_repo();
    let dir = repo.path();
    replace_once(
        &dir.join(STAGING),
        "  pollingConnectionCount: 2\n",
        "  pollingConnectionCount: 3\n",
    );
    for format in ["text", "markdown", "json"] {
        let run = diff(dir, &["--exit-code", "--format", format]);
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        assert!(!run.stdout.is_empty());
        ok(&diff(dir, &["--format", format]));
    }
}

// 4. Snapshots of the three formats.

#[test]
fn snapshots_of_a_realistic_change() {
    let repo = example_git_repo();
    let dir = repo.path();
    realistic_change(dir);
    insta::with_settings!({filters => vec![HASH_FILTER]}, {
        for format in ["text", "markdown", "json"] {
            let run = diff(dir, &["--base", "main", "--format", format]);
            ok(&run);
            assert_eq!(run.stderr.lines().collect::<Vec<_>>().len(), 1, "{}", run.stderr);
            insta::assert_snapshot!(format!("realistic_change_{format}"), run.stdout);
        }
    });
}

// 5. Nothing but stdout and stderr changes.

/// What `diff` and `check` must leave as they found it.
#[derive(Debug, PartialEq)]
struct GitState {
    status: String,
    index: Vec<u8>,
    head: String,
    refs: String,
    config: Vec<u8>,
    files: Vec<(String, Vec<u8>)>,
}

fn git_state(dir: &Path) -> GitState {
    // The index first: nothing below may refresh it.
    let index = std::fs::read(dir.join(".git/index")).unwrap();
    let config = std::fs::read(dir.join(".git/config")).unwrap();
    let mut files = Vec::new();
    collect_files(dir, dir, &mut files);
    GitState {
        index,
        config,
        status: git(dir, &["status", "--porcelain=v2", "--branch", "--untracked-files=all"]),
        head: git(dir, &["rev-parse", "HEAD"]),
        refs: git(dir, &["for-each-ref"]),
        files,
    }
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.file_name().is_some_and(|name| name == ".git") {
            continue;
        }
        if path.is_dir() {
            collect_files(root, &path, out);
        } else {
            let name = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            out.push((name, std::fs::read(&path).unwrap()));
        }
    }
}

#[test]
fn diff_and_check_leave_the_working_tree_index_and_refs_untouched() {
    let repo = example_git_repo();
    let dir = repo.path();
    ok(&workergen(dir, &["render", "-q"]));
    commit_all(dir, "rendered");
    // A staged change, an unstaged change, an untracked file, a stale rendered tree.
    realistic_change(dir);
    git(dir, &["add", PROD_EU]);
    replace_once(
        &dir.join(STAGING),
        "  pollingConnectionCount: 2\n",
        "  pollingConnectionCount: 3\n",
    );
    std::fs::write(dir.join("notes.txt"), "untracked\n").unwrap();
    git(dir, &["update-index", "-q", "--refresh"]);
    let before = git_state(dir);
    for format in ["text", "markdown", "json"] {
        ok(&diff(dir, &["--format", format]));
        assert_eq!(diff(dir, &["--format", format, "--exit-code"]).code, 1);
        ok(&diff(dir, &["--format", format, "--base", "HEAD~1", "--head", "HEAD"]));
    }
    assert_eq!(workergen(dir, &["check"]).code, 1);
    assert_eq!(git_state(dir), before);
}

// 6. Git problems: exit 3 with a hint.

#[test]
fn outside_a_git_repository_is_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    copy_config(&example_repo(), dir.path());
    let run = diff(dir.path(), &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("is not in a Git repository"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: "), "{}", run.stderr);
    assert_eq!(run.stdout, "");
}

/// A revision that names a tree (or a blob) is said to be one, not "unknown".
#[test]
fn a_base_that_names_a_tree_says_so() {
    let repo = example_git_repo();
    let run = diff(repo.path(), &["--base", "HEAD^{tree}"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("`HEAD^{tree}` names a tree, not a commit"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: workergen compares commits"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unknown_base_is_exit_3() {
    let repo = example_git_repo();
    let run = diff(repo.path(), &["--base", "nope"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("unknown revision `nope`"), "{}", run.stderr);
    assert!(
        run.stderr.contains("hint: name a branch, tag or commit"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
    let run = diff(repo.path(), &["--head", "nope"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
}

#[test]
fn a_shallow_clone_lacking_the_base_is_exit_3_with_a_full_depth_hint() {
    let origin = example_git_repo();
    for count in [3, 4] {
        replace_once(
            &origin.path().join(STAGING),
            &format!("  pollingConnectionCount: {}\n", count - 1),
            &format!("  pollingConnectionCount: {count}\n"),
        );
        commit_all(origin.path(), &format!("{count} polling connections"));
    }
    let parent = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    git(parent.path(), &["clone", "--quiet", "--depth", "1", &url, "clone"]);
    let clone = parent.path().join("clone");
    let run = diff(&clone, &["--base", "HEAD~2"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("shallow"), "{}", run.stderr);
    assert!(run.stderr.contains("full depth"), "{}", run.stderr);
    assert!(run.stderr.contains("--unshallow"), "{}", run.stderr);
    // What the clone has still works: the default base is origin/main's merge-base.
    let run = diff(&clone, &["--exit-code"]);
    ok(&run);
    assert!(
        run.stderr.starts_with("base: merge-base of HEAD and origin/main ("),
        "{}",
        run.stderr
    );
}

#[test]
fn a_base_without_declarations_is_exit_3_unless_allowed_empty() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    git_init(dir);
    std::fs::write(dir.join("README.md"), "# workers\n").unwrap();
    commit_all(dir, "readme");
    copy_config(&example_repo(), dir);
    commit_all(dir, "the example fleet");
    let run = diff(dir, &["--base", "HEAD~1"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("has no `workergen.yaml`"), "{}", run.stderr);
    assert!(run.stderr.contains("--allow-empty-base"), "{}", run.stderr);
    assert_eq!(run.stdout, "");

    let run = diff(dir, &["--base", "HEAD~1", "--allow-empty-base"]);
    ok(&run);
    assert!(
        run.stdout.contains(": 12 added, 0 changed, 0 removed, 0 unchanged\n"),
        "{}",
        run.stdout
    );
    let document = json(dir, &["--base", "HEAD~1", "--allow-empty-base"]);
    let workers = document["workers"].as_array().unwrap();
    assert_eq!(workers.len(), 12);
    assert!(workers.iter().all(|worker| worker["status"] == "added"), "{document:#}");
    assert_eq!(
        diff(dir, &["--base", "HEAD~1", "--allow-empty-base", "--exit-code"]).code,
        1
    );
}

/// `-C` at a folder inside the config repository (not a config repository itself) is
/// told so, with the folder to pass instead: not that the base lacks the declarations,
/// which sent the user after the base and `--allow-empty-base`.
#[test]
fn a_folder_inside_the_config_repository_names_the_repository() {
    let repo = example_git_repo();
    let run = diff(&repo.path().join("environments"), &["--base", "HEAD"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("error: no `workergen.yaml` in `"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("hint: the folder is inside the config repository `"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("--allow-empty-base"), "{}", run.stderr);
    // A config repository in a subfolder of the Git repository is found there.
    let mono = tempfile::tempdir().unwrap();
    git_init(mono.path());
    std::fs::create_dir(mono.path().join("fleet")).unwrap();
    copy_config(&example_repo(), &mono.path().join("fleet"));
    commit_all(mono.path(), "the fleet in a subfolder");
    ok(&diff(&mono.path().join("fleet"), &["--base", "HEAD"]));
}

// The default base.

#[test]
fn the_default_base_is_the_merge_base_with_main() {
    let repo = example_git_repo();
    let dir = repo.path();
    let fork = git(dir, &["rev-parse", "--short=7", "HEAD"]).trim().to_string();
    git(dir, &["switch", "--quiet", "-c", "feature"]);
    realistic_change(dir);
    commit_all(dir, "feature");
    // main moves on after the fork: its change is not the feature's.
    git(dir, &["switch", "--quiet", "main"]);
    replace_once(
        &dir.join(STAGING),
        "  pollingConnectionCount: 2\n",
        "  pollingConnectionCount: 3\n",
    );
    commit_all(dir, "main moves on");
    git(dir, &["switch", "--quiet", "feature"]);
    let run = diff(dir, &[]);
    ok(&run);
    assert!(
        run.stderr
            .starts_with(&format!("base: merge-base of HEAD and main ({fork})\n")),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("0 added, 3 changed, 0 removed, 9 unchanged"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("staging/"), "{}", run.stdout);
}

#[test]
fn the_default_base_follows_the_branch_upstream() {
    let origin = example_git_repo();
    git(origin.path(), &["switch", "--quiet", "-c", "release"]);
    replace_once(
        &origin.path().join(STAGING),
        "  pollingConnectionCount: 2\n",
        "  pollingConnectionCount: 3\n",
    );
    commit_all(origin.path(), "release");
    let release = git(origin.path(), &["rev-parse", "--short=7", "HEAD"])
        .trim()
        .to_string();
    let parent = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    git(parent.path(), &["clone", "--quiet", &url, "clone"]);
    let clone = parent.path().join("clone");
    git(
        &clone,
        &["switch", "--quiet", "-c", "topic", "--track", "origin/release"],
    );
    let run = diff(&clone, &["--exit-code"]);
    ok(&run);
    assert!(
        run.stderr
            .starts_with(&format!("base: merge-base of HEAD and origin/release ({release})\n")),
        "{}",
        run.stderr
    );
}

// 7. Two commits, whatever the working tree holds.

#[test]
fn head_compares_two_commits_without_reading_the_working_tree() {
    let repo = example_git_repo();
    let dir = repo.path();
    let base = git(dir, &["rev-parse", "--short=7", "HEAD"]).trim().to_string();
    realistic_change(dir);
    let head = commit_all(dir, "realistic change");
    // The working tree now holds another change and an invalid file.
    std::fs::write(dir.join("workergen.yaml"), "acceptEula: [oops\n").unwrap();
    assert_eq!(diff(dir, &[]).code, 2, "the working tree is invalid");
    let run = diff(dir, &["--base", "HEAD~1", "--head", "HEAD", "--exit-code"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let first = run.stdout.lines().next().unwrap();
    assert_eq!(
        first,
        format!(
            "HEAD~1 ({base}) -> HEAD ({}): 0 added, 3 changed, 0 removed, 9 unchanged",
            &head[..7]
        )
    );
    assert!(
        run.stdout.contains("~ production/eu-west-1/db-migrations\n"),
        "{}",
        run.stdout
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("workergen.yaml")).unwrap(),
        "acceptEula: [oops\n"
    );
    // The same commits the other way round.
    let document = json(dir, &["--base", &head, "--head", "HEAD~1"]);
    let worker = worker(&document, "production/eu-west-1/db-migrations");
    let pools = worker["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|change| change["path"] == "agent.worker.initial.workerPools")
        .unwrap_or_else(|| panic!("{worker:#}"));
    assert_eq!(pools["old"], serde_json::json!(["Database Workers", "DBA Workers"]));
    assert_eq!(pools["new"], serde_json::json!(["Database Workers"]));
    assert!(document["base"].as_str().unwrap().starts_with(&format!("{head} (")));
}

// 8. The markdown cap.

const CLUSTERS: usize = 200;
const WORKERS_PER_CLUSTER: usize = 10;

/// A fleet of 2,000 workers: one environment, 200 clusters of 10 workers, each with
/// its own pool; cluster c010 sets script pod requests in its defaults.
fn write_large_fleet(dir: &Path) {
    std::fs::write(dir.join("workergen.yaml"), "acceptEula: true\n").unwrap();
    let environment = dir.join("environments/fleet");
    std::fs::create_dir_all(&environment).unwrap();
    std::fs::write(
        environment.join("environment.yaml"),
        "octopus:\n  serverUrl: https://octopus.example.com/\n  serverCommsAddresses: [https://octopus.example.com:10943/]\n  \
         space: Default\n  auth: { bearerTokenSecret: octopus-worker-token }\ndefaults:\n  pollingConnectionCount: 3\n",
    )
    .unwrap();
    for cluster in 0..CLUSTERS {
        let mut text = format!("cluster:\n  destination: {{ server: https://c{cluster:03}.k8s.example.com }}\n");
        if cluster == 10 {
            text.push_str("defaults:\n  scriptPods:\n    resources:\n      requests: { cpu: 250m }\n");
        }
        text.push_str("workers:\n");
        for worker in 0..WORKERS_PER_CLUSTER {
            text.push_str(&format!(
                "  worker-{worker}:\n    workerPools: [Pool {cluster:03}-{worker}]\n"
            ));
        }
        std::fs::write(environment.join(format!("c{cluster:03}.yaml")), text).unwrap();
    }
}

#[test]
fn markdown_is_capped_and_keeps_the_summary_and_every_risk_note() {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    git_init(dir);
    write_large_fleet(dir);
    commit_all(dir, "2,000 workers");
    let environment = dir.join("environments/fleet");
    // All 2,000 workers: the environment default.
    replace_once(
        &environment.join("environment.yaml"),
        "pollingConnectionCount: 3",
        "pollingConnectionCount: 4",
    );
    // Each worker of the first 100 clusters: its own pools.
    for cluster in 0..100 {
        let path = environment.join(format!("c{cluster:03}.yaml"));
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("]\n", ", Shared Pool]\n")).unwrap();
    }
    // Script pod requests of one cluster, a removed and an added worker.
    replace_once(&environment.join("c010.yaml"), "cpu: 250m", "cpu: 500m");
    replace_once(
        &environment.join("c199.yaml"),
        "  worker-9:\n    workerPools: [Pool 199-9]\n",
        "",
    );
    let path = environment.join("c150.yaml");
    let text = std::fs::read_to_string(&path).unwrap() + "  worker-new:\n    workerPools: [New Pool]\n";
    std::fs::write(&path, text).unwrap();

    let run = diff(dir, &["--format", "markdown"]);
    ok(&run);
    let markdown = &run.stdout;
    let length = markdown.chars().count();
    assert!(length <= 65_536, "{length} characters");
    assert!(markdown.starts_with("## workergen diff\n"), "{}", &markdown[..200]);
    assert!(markdown.contains("**1 added, 1999 changed, 1 removed**, 0 unchanged"));
    let table = "| environment | added | changed | removed | unchanged |\n|---|---:|---:|---:|---:|\n| fleet | 1 | 1999 | 1 | 0 |\n";
    let table_at = markdown.find(table).expect("the summary table");
    // A new worker's note is listed as in text and json.
    for note in [
        REINSTALL_POOLS,
        &uninstall("fleet", "c199", "worker-9"),
        INSTALL,
        "script pod cpu request raised 250m -> 500m: ",
    ] {
        let at = markdown.find(note).unwrap_or_else(|| panic!("`{note}` is missing"));
        assert!(at > table_at, "risk notes come after the summary table");
    }
    assert!(markdown.contains("### ⚠️ Risky changes"));
    assert!(
        markdown.contains("> Shortened to fit"),
        "{}",
        &markdown[markdown.len() - 500..]
    );
    assert!(markdown.contains("left out"));
    assert!(markdown.contains("for **1999 workers**"), "the shared change is there");
    assert!(markdown.ends_with('\n'));
}

// 9. `check`.

#[test]
fn check_passes_after_render_and_lists_stale_missing_and_extra_files() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    copy_config(&example_repo(), dir);
    ok(&workergen(dir, &["render", "-q"]));
    let run = workergen(dir, &["check"]);
    ok(&run);
    assert_eq!(run.stdout, "");

    // A changed declaration, not re-rendered: the three staging values files are stale.
    replace_once(
        &dir.join(STAGING),
        "  pollingConnectionCount: 2\n",
        "  pollingConnectionCount: 3\n",
    );
    let run = workergen(dir, &["check"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "stale: rendered/staging/eu-west-1/build-linux/values.yaml\n\
         stale: rendered/staging/eu-west-1/deploy/values.yaml\n\
         stale: rendered/staging/eu-west-1/terraform/values.yaml\n"
    );
    assert!(run.stderr.contains("run `workergen render`"), "{}", run.stderr);
    ok(&workergen(dir, &["render", "-q"]));
    ok(&workergen(dir, &["check"]));

    // A deleted rendered file.
    std::fs::remove_file(dir.join("rendered/production/us-east-1/terraform/helmrelease.yaml")).unwrap();
    let run = workergen(dir, &["check"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "missing: rendered/production/us-east-1/terraform/helmrelease.yaml\n"
    );
    assert!(run.stderr.contains("run `workergen render`"), "{}", run.stderr);
    ok(&workergen(dir, &["render", "-q"]));

    // A worker taken out: its files are workergen's and no longer wanted.
    replace_once(&dir.join(STAGING_EU), "  deploy: {}\n", "");
    let run = workergen(dir, &["check"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "extra: rendered/staging/eu-west-1/deploy/helmrelease.yaml\nextra: rendered/staging/eu-west-1/deploy/namespace.yaml\nextra: rendered/staging/eu-west-1/deploy/values.yaml\n"
        ),
        "{}",
        run.stdout
    );
    // The cluster's kustomization lists one worker fewer.
    assert!(
        run.stdout
            .contains("stale: rendered/staging/eu-west-1/kustomization.yaml\n"),
        "{}",
        run.stdout
    );
    ok(&workergen(dir, &["render", "-q"]));
    ok(&workergen(dir, &["check"]));
}

// DESIGN section 7: "When `rendered/` is committed, the committed tree is compared too,
// and drift is reported."

#[test]
fn drift_of_the_committed_rendered_tree_is_reported() {
    let repo = example_git_repo();
    let dir = repo.path();
    ok(&workergen(dir, &["render", "-q"]));
    commit_all(dir, "rendered");
    // A declaration change committed without `workergen render`: the committed
    // rendered/ no longer matches the declarations of the same commit.
    replace_once(
        &dir.join(STAGING),
        "  pollingConnectionCount: 2\n",
        "  pollingConnectionCount: 3\n",
    );
    commit_all(dir, "forgot to render");
    let run = diff(dir, &["--base", "HEAD~1", "--head", "HEAD"]);
    ok(&run);
    let all = format!("{}{}", run.stdout, run.stderr).to_lowercase();
    assert!(
        ["drift", "stale", "out of date"].iter().any(|word| all.contains(word)),
        "the committed rendered/ differs from a fresh render and nothing says so:\n{}{}",
        run.stdout,
        run.stderr
    );
}

// 10. JSON.

/// Validates a document against docs/diff-json.schema.json.
fn assert_matches_schema(document: &serde_json::Value) {
    crate::util::assert_matches_schema("diff-json.schema.json", document);
}

#[test]
fn the_json_document_is_versioned_and_every_change_has_a_cause() {
    let repo = example_git_repo();
    let dir = repo.path();
    realistic_change(dir);
    let document = json(dir, &[]);
    assert_eq!(document["version"], 1);
    assert!(document["base"]
        .as_str()
        .unwrap()
        .starts_with("merge-base of HEAD and main ("));
    assert_eq!(document["head"], "working tree");
    assert_eq!(
        document["summary"],
        serde_json::json!({"added": 0, "changed": 3, "removed": 0, "unchanged": 9})
    );
    assert_eq!(
        document["environments"],
        serde_json::json!({
            "production": {"added": 0, "changed": 3, "removed": 0, "unchanged": 6},
            "staging": {"added": 0, "changed": 0, "removed": 0, "unchanged": 3},
        })
    );
    let groups = document["groups"].as_array().unwrap();
    let workers = document["workers"].as_array().unwrap();
    assert_eq!(workers.len(), 3);
    let mut seen = BTreeSet::new();
    for worker in workers {
        let id = worker["id"].as_str().unwrap();
        assert!(seen.insert(id), "`{id}` twice");
        assert_eq!(
            id,
            format!(
                "{}/{}/{}",
                worker["environment"].as_str().unwrap(),
                worker["cluster"].as_str().unwrap(),
                worker["name"].as_str().unwrap()
            )
        );
        assert_eq!(worker["status"], "changed");
        for change in worker["changes"].as_array().unwrap() {
            let cause = &change["cause"];
            assert!(
                cause["file"]
                    .as_str()
                    .is_some_and(|file| file.starts_with("environments/")),
                "{change:#}"
            );
            assert!(cause["line"].as_u64().is_some_and(|line| line > 0), "{change:#}");
            assert!(cause["column"].as_u64().is_some_and(|column| column > 0), "{change:#}");
            assert!(["values", "helmrelease", "application"].contains(&change["object"].as_str().unwrap()));
            if let Some(index) = change.get("group") {
                let group = &groups[index.as_u64().unwrap() as usize];
                assert_eq!(group["path"], change["path"]);
                assert_eq!(group["old"], change["old"]);
                assert_eq!(group["new"], change["new"]);
                assert_eq!(group["cause"], change["cause"]);
                assert!(group["workers"].as_array().unwrap().iter().any(|member| member == id));
            }
        }
    }
    assert_eq!(groups.len(), 1, "{document:#}");
    assert_eq!(groups[0]["path"], "agent.nodeSelector[\"node.example.com/pool\"]");
    assert_eq!(groups[0]["workers"].as_array().unwrap().len(), 3);
    assert_matches_schema(&document);
}

#[test]
fn the_json_schema_covers_added_removed_and_empty_diffs() {
    let repo = example_git_repo();
    let dir = repo.path();
    assert_matches_schema(&json(dir, &[]));
    replace_once(&dir.join(PROD_US), "  deploy: {}\n", "  deployer: {}\n");
    replace_once(
        &dir.join(PROD_US),
        "  terraform:\n",
        "  terraform:\n    namespace: octopus-terraform\n",
    );
    replace_once(
        &dir.join(PROD_EU),
        "    storageClassName: gp3\n",
        "    storageClassName: gp3-encrypted\n",
    );
    replace_once(
        &dir.join(STAGING_EU),
        "          cpu: \"1\"\n",
        "          cpu: \"2\"\n",
    );
    let document = json(dir, &[]);
    let kinds: BTreeSet<&str> = document["workers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|worker| worker["risks"].as_array().unwrap())
        .map(|risk| risk["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["autoscaling", "install", "reinstall-only", "replace", "uninstall"]),
        "{document:#}"
    );
    assert_matches_schema(&document);
}

/// A renamed credential Secret is in the agent's Deployment (`secretKeyRef`): the note
/// says the agent restarts and the Secret must exist first, not "no effect on an
/// upgrade".
#[test]
fn a_renamed_credential_secret_restarts_the_agent() {
    let repo = example_git_repo();
    let dir = repo.path();
    replace_once(
        &dir.join("environments/production/environment.yaml"),
        "bearerTokenSecret: octopus-worker-token",
        "bearerTokenSecret: octopus-worker-token-2",
    );
    let run = diff(dir, &[]);
    ok(&run);
    assert!(
        run.stdout.contains("! `agent.bearerTokenSecretName`: the agent restarts and reads its credential from the newly named Secret, which must exist in its namespace first (else its pod fails with `CreateContainerConfigError`); the registration in Octopus stays\n"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("no effect on an upgrade"), "{}", run.stdout);
}
