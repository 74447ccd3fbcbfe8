//! Issue 9, "Git, output and propose": symbolic links read the same on disk and in Git,
//! output independent of the order of workers, `check` and `diff` agreeing on
//! staleness, engine `none`, read errors, `explain` and the small promises (`init -q`,
//! the man page). Each test failed before the fix it names.

use std::path::Path;

use crate::util::{commit_all, copy_config, example_git_repo, example_repo, git, git_init, replace_once, workergen};

fn assert_code(run: &crate::util::Run, code: i32) {
    assert_eq!(run.code, code, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
}

#[cfg(unix)]
fn symlink(target: &str, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// A cluster file moved out of `environments/` and linked back reads the same on disk
/// and in Git: `diff` between the commit with the file and the one with the link sees
/// no change (Git used to parse the link's target path as the file's YAML).
#[cfg(unix)]
#[test]
fn issue_9_a_symlinked_cluster_file_reads_the_same_in_git_and_on_disk() {
    let repo = example_git_repo();
    let dir = repo.path();
    std::fs::create_dir(dir.join("shared")).unwrap();
    std::fs::rename(
        dir.join("environments/staging/eu-west-1.yaml"),
        dir.join("shared/staging-eu-west-1.yaml"),
    )
    .unwrap();
    symlink(
        "../../shared/staging-eu-west-1.yaml",
        &dir.join("environments/staging/eu-west-1.yaml"),
    );
    commit_all(dir, "the staging cluster file, linked");
    assert_code(&workergen(dir, &["validate"]), 0);
    let diff = workergen(dir, &["diff", "--base", "HEAD~1", "--head", "HEAD", "--exit-code"]);
    assert_code(&diff, 0);
    let diff = workergen(dir, &["diff", "--base", "HEAD", "--exit-code"]);
    assert_code(&diff, 0);
}

/// A link whose target does not exist is an error naming it, on disk and in Git
/// (it used to be skipped: its workers silently vanished).
#[cfg(unix)]
#[test]
fn issue_9_a_dangling_link_is_an_error_on_disk_and_in_git() {
    let repo = example_git_repo();
    let dir = repo.path();
    symlink("ghost-target.yaml", &dir.join("environments/production/ghost.yaml"));
    let validate = workergen(dir, &["validate"]);
    assert_code(&validate, 2);
    assert!(
        validate
            .stderr
            .contains("environments/production/ghost.yaml:1:1: error: `environments/production/ghost.yaml` is a symbolic link to `ghost-target.yaml`, which does not exist"),
        "{}",
        validate.stderr
    );
    assert!(validate.stderr.contains("hint:"), "{}", validate.stderr);
    commit_all(dir, "a dangling link");
    let diff = workergen(dir, &["diff", "--base", "HEAD", "--head", "HEAD"]);
    assert_code(&diff, 2);
    assert!(
        diff.stderr.contains(
            "`environments/production/ghost.yaml` is a symbolic link to `ghost-target.yaml`, which does not exist"
        ),
        "{}",
        diff.stderr
    );
}

/// Links out of the config repository, and loops, are refused the same way on disk and
/// in Git (Git holds only the link, so its target is not part of the revision).
#[cfg(unix)]
#[test]
fn issue_9_links_leaving_the_repository_and_loops_are_refused() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::copy(
        example_repo().join("environments/staging/eu-west-1.yaml"),
        outside.path().join("cluster.yaml"),
    )
    .unwrap();
    for (name, targets, message) in [
        (
            "outside",
            vec![(
                "environments/staging/outside.yaml",
                outside.path().join("cluster.yaml").display().to_string(),
            )],
            "outside the config repository",
        ),
        (
            "escape",
            vec![("environments/staging/escape.yaml", "../../../escape.yaml".to_string())],
            "outside the config repository",
        ),
        (
            "loop",
            vec![
                ("environments/staging/a.yaml", "b.yaml".to_string()),
                ("environments/staging/b.yaml", "a.yaml".to_string()),
            ],
            "symbolic links (a loop?)",
        ),
    ] {
        let repo = example_git_repo();
        let dir = repo.path();
        for (link, target) in &targets {
            symlink(target, &dir.join(link));
        }
        let validate = workergen(dir, &["validate"]);
        assert_code(&validate, 2);
        assert!(validate.stderr.contains(message), "{name}: {}", validate.stderr);
        commit_all(dir, name);
        let diff = workergen(dir, &["diff", "--base", "HEAD", "--head", "HEAD"]);
        assert_code(&diff, 2);
        assert!(diff.stderr.contains(message), "{name}: {}", diff.stderr);
    }
}

/// A cluster file with workers `a` and `b`, in that order or the other.
fn two_workers(first: &str, second: &str) -> String {
    format!(
        "cluster:\n  destination:\n    server: https://staging-zz.k8s.example.com\ndefaults:\n  workerPools:\n    - Staging Workers\nworkers:\n  {first}: {{}}\n  {second}: {{}}\n"
    )
}

fn files_under(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files_under(root, &path, out);
        } else {
            let relative = path.strip_prefix(root).unwrap().display().to_string();
            out.push((relative, std::fs::read(&path).unwrap()));
        }
    }
}

/// Moving a worker within its file changes no byte of the output (the kustomization's
/// `resources` followed the file's order), for every engine and for `--stdout`.
#[test]
fn issue_9_output_does_not_depend_on_the_order_of_workers() {
    for engine in ["flux", "argocd", "none"] {
        let mut trees = Vec::new();
        let mut streams = Vec::new();
        for (first, second) in [("alpha", "beta"), ("beta", "alpha")] {
            let temp = tempfile::tempdir().unwrap();
            let dir = temp.path();
            copy_config(&example_repo(), dir);
            replace_once(
                &dir.join("workergen.yaml"),
                "engine: flux",
                &format!("engine: {engine}"),
            );
            std::fs::write(dir.join("environments/staging/zz.yaml"), two_workers(first, second)).unwrap();
            assert_code(&workergen(dir, &["render"]), 0);
            let mut files = Vec::new();
            files_under(&dir.join("rendered"), &dir.join("rendered/staging/zz"), &mut files);
            trees.push(files);
            let stdout = workergen(dir, &["render", "--stdout", "--env", "staging", "--cluster", "zz"]);
            assert_code(&stdout, 0);
            streams.push(stdout.stdout);
        }
        assert!(!trees[0].is_empty());
        assert_eq!(trees[0], trees[1], "engine {engine}");
        assert_eq!(streams[0], streams[1], "engine {engine}");
    }
}

/// A committed file edited by hand in a way that parses the same (a comment) is stale
/// for `check`, and now drift for `diff` too: both compare bytes of the files
/// workergen owns (diff used to compare parsed values and miss it, and never looked at
/// `kustomization.yaml`).
#[test]
fn issue_9_check_and_diff_agree_on_staleness() {
    let repo = example_git_repo();
    let dir = repo.path();
    assert_code(&workergen(dir, &["render"]), 0);
    commit_all(dir, "rendered");
    for (file, owner) in [
        (
            "rendered/production/eu-west-1/deploy/values.yaml",
            "production/eu-west-1/deploy",
        ),
        (
            "rendered/production/eu-west-1/kustomization.yaml",
            "production/eu-west-1",
        ),
    ] {
        git(dir, &["checkout", "--quiet", "--", "."]);
        let path = dir.join(file);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("# edited by hand\n");
        std::fs::write(&path, text).unwrap();
        // The cluster's declarations change without changing its render, so diff renders
        // the cluster and looks at its committed files.
        let cluster = dir.join("environments/production/eu-west-1.yaml");
        let mut declarations = std::fs::read_to_string(&cluster).unwrap();
        declarations.push_str("# a comment\n");
        std::fs::write(&cluster, declarations).unwrap();

        let check = workergen(dir, &["check"]);
        assert_code(&check, 1);
        assert_eq!(check.stdout, format!("stale: {file}\n"));
        let diff = workergen(dir, &["diff", "--base", "HEAD", "--format", "json"]);
        assert_code(&diff, 0);
        let document: serde_json::Value = serde_json::from_str(&diff.stdout).unwrap();
        assert_eq!(document["drift"], serde_json::json!([owner]), "{file}");
    }
}

/// Sets `gitops.engine: none` in a repository's `workergen.yaml`.
fn engine_none(dir: &Path) {
    replace_once(&dir.join("workergen.yaml"), "engine: flux", "engine: none");
}

/// Under engine `none` the rendered files do not say the namespace or chart version:
/// propose's body (committed files against a fresh render) used to add a namespace and
/// a "new major version" note to every changed worker.
#[test]
fn issue_9_engine_none_adds_no_false_risk_notes() {
    let repo = example_git_repo();
    let dir = repo.path();
    engine_none(dir);
    assert_code(&workergen(dir, &["render"]), 0);
    commit_all(dir, "engine none, rendered");
    replace_once(
        &dir.join("environments/staging/eu-west-1.yaml"),
        "          cpu: 500m",
        "          cpu: 750m",
    );
    commit_all(dir, "more cpu for terraform, not rendered");
    let propose = workergen(
        dir,
        &["propose", "--author", "Test <test@example.com>", "--branch", "bump"],
    );
    assert_code(&propose, 0);
    assert!(
        propose.stdout.contains("staging/eu-west-1/terraform"),
        "{}",
        propose.stdout
    );
    assert!(propose.stdout.contains("cpu request raised"), "{}", propose.stdout);
    for false_note in ["a new major version", "namespace `"] {
        assert!(
            !propose.stdout.contains(false_note),
            "{false_note}:\n{}",
            propose.stdout
        );
    }
    let diff = workergen(
        dir,
        &["diff", "--base", "HEAD~1", "--head", "HEAD", "--format", "markdown"],
    );
    assert_code(&diff, 0);
    for false_note in ["a new major version", "namespace `"] {
        assert!(!diff.stdout.contains(false_note), "{false_note}:\n{}", diff.stdout);
    }
}

/// `render --stdout` under engine `none` writes each worker's values as a document
/// named by a comment (it used to write nothing and exit 0).
#[test]
fn issue_9_render_stdout_under_engine_none_writes_the_values() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    copy_config(&example_repo(), dir);
    engine_none(dir);
    let run = workergen(dir, &["render", "--stdout", "--env", "staging"]);
    assert_code(&run, 0);
    let documents: Vec<&str> = run.stdout.split("---\n").filter(|doc| !doc.is_empty()).collect();
    assert_eq!(documents.len(), 3, "{}", run.stdout);
    assert!(
        documents[0].starts_with("# Helm values of worker `staging/eu-west-1/build-linux` (staging/eu-west-1/build-linux/values.yaml):\n# Generated by workergen"),
        "{}",
        documents[0]
    );
    assert!(documents[0].contains("agent:\n"), "{}", documents[0]);
}

/// A committed rendered file that cannot be read (here: its object is missing from a
/// damaged repository) makes `diff` fail with exit 3 naming the folder, instead of
/// reading as empty and showing every worker as drifted.
#[test]
fn issue_9_a_committed_file_that_cannot_be_read_is_an_error() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    git_init(dir);
    copy_config(&example_repo(), dir);
    commit_all(dir, "the example fleet");
    replace_once(
        &dir.join("environments/staging/eu-west-1.yaml"),
        "          cpu: 500m",
        "          cpu: 750m",
    );
    assert_code(&workergen(dir, &["render"]), 0);
    commit_all(dir, "more cpu, rendered");
    let blob = git(
        dir,
        &["rev-parse", "HEAD:rendered/staging/eu-west-1/terraform/values.yaml"],
    );
    let blob = blob.trim();
    std::fs::remove_file(dir.join(".git/objects").join(&blob[..2]).join(&blob[2..])).unwrap();
    let diff = workergen(dir, &["diff", "--base", "HEAD~1", "--head", "HEAD"]);
    assert_code(&diff, 3);
    assert!(
        diff.stderr.contains("cannot read `rendered/staging/eu-west-1`"),
        "{}",
        diff.stderr
    );
    assert!(!diff.stdout.contains("stale"), "{}", diff.stdout);
}

/// `explain` on an uninstalled worker says so and shows no rendered values.
#[test]
fn issue_9_explain_says_a_worker_is_uninstalled() {
    let run = workergen(&example_repo(), &["explain", "staging/eu-west-1/load-test"]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("uninstalled (`installed: false`)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("renders no files"), "{}", run.stdout);
    assert!(!run.stdout.contains("values.yaml:"), "{}", run.stdout);
    let json = workergen(
        &example_repo(),
        &["explain", "staging/eu-west-1/load-test", "--format", "json"],
    );
    assert_code(&json, 0);
    let document: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(document["installed"], false);
    assert_eq!(document["disabled"], false);
    assert_eq!(document["values"], serde_json::json!([]));
    assert_eq!(document["manifest_file"], serde_json::Value::Null);
}

/// `explain` takes declaration field names as well as chart value paths.
#[test]
fn issue_9_explain_accepts_declaration_field_names() {
    for (field, chart_value) in [
        ("workerPools", "agent.worker.initial.workerPools"),
        ("machinePolicy", "agent.machinePolicyName"),
        ("scriptPods.image", "scriptPods.worker.image"),
        ("storage.size", "persistence.size"),
        ("agent.image", "agent.image.repository"),
    ] {
        let run = workergen(&example_repo(), &["explain", "staging/eu-west-1/terraform", field]);
        assert_code(&run, 0);
        assert!(
            run.stdout.contains(&format!("  {chart_value}")),
            "{field}:\n{}",
            run.stdout
        );
    }
    let run = workergen(&example_repo(), &["explain", "staging/eu-west-1/terraform", "storage"]);
    assert!(run.stdout.contains("the chart value `persistence`"), "{}", run.stdout);
}

/// `init -q` prints nothing.
#[test]
fn issue_9_init_quiet_is_quiet() {
    let temp = tempfile::tempdir().unwrap();
    let run = workergen(temp.path(), &["-q", "init"]);
    assert_code(&run, 0);
    assert_eq!(run.stderr, "");
    assert_eq!(run.stdout, "");
    assert!(temp.path().join("workergen.yaml").is_file());
}

/// The man page lists the exit codes and points at no page that does not exist (it
/// named `workergen-validate(1)` and the like).
#[test]
fn issue_9_the_man_page_lists_exit_codes_and_no_missing_pages() {
    let run = workergen(&example_repo(), &["man"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains(".SH \"EXIT STATUS\""), "{}", run.stdout);
    for code in ["0", "1", "2", "3"] {
        assert!(run.stdout.contains(&format!(".TP\n\\fB{code}\\fR\n")), "{code}");
    }
    assert!(run.stdout.contains("\\fBworkergen validate\\fR"), "{}", run.stdout);
    assert!(!run.stdout.contains("(1)"), "{}", run.stdout);
}

/// `--env`/`--cluster` (the Argo CD plugin's per-Application mode) is not blocked by
/// errors in files outside the scope, unless they collide with it; an empty value means
/// all; `check`, `validate` and `diff` take the scope too.
#[test]
fn issue_9_a_scoped_command_is_not_blocked_by_errors_outside_its_scope() {
    let repo = example_git_repo();
    let dir = repo.path();
    assert_code(&workergen(dir, &["render"]), 0);
    commit_all(dir, "rendered");
    std::fs::write(dir.join("environments/production/us-east-1.yaml"), "cluster: [\n").unwrap();

    let run = workergen(dir, &["render", "--stdout", "--env", "staging"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("kind: HelmRelease"), "{}", run.stdout);
    assert!(run.stderr.contains("note: 1 error in files outside"), "{}", run.stderr);
    // The README's plugin command with `ARGOCD_ENV_CLUSTER` unset.
    let plugin = workergen(
        dir,
        &["render", "--stdout", "--quiet", "--env", "staging", "--cluster", ""],
    );
    assert_code(&plugin, 0);
    assert_eq!(plugin.stdout, run.stdout);
    assert_eq!(plugin.stderr, "");
    assert_code(
        &workergen(
            dir,
            &["render", "--stdout", "--env", "production", "--cluster", "eu-west-1"],
        ),
        0,
    );
    for args in [
        &["render", "--stdout", "--env", "", "--cluster", ""][..],
        &["render", "--stdout", "--env", "production", "--cluster", "us-east-1"],
        &["validate"],
    ] {
        let run = workergen(dir, args);
        assert_code(&run, 2);
        assert!(
            run.stderr.contains("environments/production/us-east-1.yaml"),
            "{args:?}: {}",
            run.stderr
        );
    }
    assert_code(&workergen(dir, &["validate", "--env", "staging"]), 0);
    assert_code(&workergen(dir, &["check", "--env", "staging"]), 0);
    assert_code(
        &workergen(dir, &["check", "--env", "production", "--cluster", "eu-west-1"]),
        0,
    );
    let diff = workergen(dir, &["diff", "--base", "HEAD", "--env", "staging", "--exit-code"]);
    assert_code(&diff, 0);

    // A collision across the boundary still stops it: a display name outside the scope
    // taking one of the scope's.
    std::fs::write(
        dir.join("environments/production/us-east-1.yaml"),
        "cluster:\n  destination:\n    server: https://prod-us-east-1.k8s.example.com\nworkers:\n  other:\n    workerPools: [Production Deploy Workers]\n    displayName: production-eu-west-1-deploy\n",
    )
    .unwrap();
    let run = workergen(
        dir,
        &["render", "--stdout", "--env", "production", "--cluster", "eu-west-1"],
    );
    assert_code(&run, 2);
    assert!(run.stderr.contains("production-eu-west-1-deploy"), "{}", run.stderr);
}

/// A whole environment folder linked from `environments/` to nowhere, or out of the
/// repository, is an error (exit 2) naming it with a hint, on disk and in Git: the
/// dangling one used to be skipped silently, the outside one to exit 3.
#[cfg(unix)]
#[test]
fn issue_9_a_broken_environment_folder_link_is_an_input_error_on_disk_and_in_git() {
    let outside = tempfile::tempdir().unwrap();
    copy_config(&example_repo(), outside.path());
    for (name, target, message) in [
        ("ghost", "missing-folder".to_string(), "which does not exist"),
        (
            "elsewhere",
            outside.path().join("environments/staging").display().to_string(),
            "outside the config repository",
        ),
    ] {
        let repo = example_git_repo();
        let dir = repo.path();
        symlink(&target, &dir.join("environments").join(name));
        let expected = format!(
            "environments/{name}:1:1: error: `environments/{name}` is a symbolic link to `{target}`, {message}"
        );
        let validate = workergen(dir, &["validate"]);
        assert_code(&validate, 2);
        assert!(validate.stderr.contains(&expected), "{name}: {}", validate.stderr);
        assert!(validate.stderr.contains("hint:"), "{name}: {}", validate.stderr);
        commit_all(dir, name);
        let diff = workergen(dir, &["diff", "--base", "HEAD", "--head", "HEAD"]);
        assert_code(&diff, 2);
        assert!(diff.stderr.contains(&expected), "{name}: {}", diff.stderr);
    }
}

/// An environment folder without its environment.yaml is reported at the folder, so a
/// command scoped to another environment is not blocked by it (it named no file, and
/// blocked every scope).
#[test]
fn issue_9_an_environment_folder_without_environment_yaml_blocks_only_its_scope() {
    let repo = example_git_repo();
    let dir = repo.path();
    std::fs::create_dir(dir.join("environments/other")).unwrap();
    std::fs::copy(
        dir.join("environments/staging/eu-west-1.yaml"),
        dir.join("environments/other/eu-west-1.yaml"),
    )
    .unwrap();
    let validate = workergen(dir, &["validate"]);
    assert_code(&validate, 2);
    assert!(
        validate.stderr.contains(
            "environments/other/:1:1: error: environment folder `environments/other` has no `environment.yaml`"
        ),
        "{}",
        validate.stderr
    );
    let scoped = workergen(dir, &["validate", "--env", "staging"]);
    assert_code(&scoped, 0);
    assert!(
        scoped.stderr.contains("note: 1 error in files outside"),
        "{}",
        scoped.stderr
    );
    assert_code(&workergen(dir, &["render", "--stdout", "--env", "staging"]), 0);
    assert_code(&workergen(dir, &["validate", "--env", "other"]), 2);
    assert_code(&workergen(dir, &["validate", "--cluster", "eu-west-1"]), 2);
}
