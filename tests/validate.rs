//! `workergen validate` on the example fleet.

use crate::util::{example_repo, workergen};

#[test]
fn the_example_environments_validate() {
    let run = workergen(&example_repo(), &["validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "2 environments, 4 clusters, 12 workers (1 uninstalled): ok\n"
    );
}

#[test]
fn the_committed_example_render_is_up_to_date() {
    let run = workergen(&example_repo(), &["check"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

/// A copy of the corpus's small valid repository, to change one thing in.
fn base_repo() -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    crate::util::copy_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/_base"),
        repo.path(),
    );
    repo
}

#[test]
fn issue_9_output_symlinked_out_of_the_repository_is_refused() {
    let repo = base_repo();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), repo.path().join("rendered")).unwrap();
    let run = workergen(repo.path(), &["validate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("workergen.yaml:1:1: error: `output: rendered` is a symlink to"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("outside the repository"), "{}", run.stderr);
    let run = workergen(repo.path(), &["render"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        std::fs::read_dir(outside.path()).unwrap().count(),
        0,
        "render wrote outside the repository"
    );
}

#[test]
fn issue_9_output_symlinked_inside_the_repository_is_fine() {
    let repo = base_repo();
    std::fs::create_dir(repo.path().join("generated")).unwrap();
    std::os::unix::fs::symlink("generated", repo.path().join("rendered")).unwrap();
    let run = workergen(repo.path(), &["validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn issue_9_machine_policy_in_values_silences_the_warning() {
    let repo = base_repo();
    let settings = repo.path().join("workergen.yaml");
    let text = std::fs::read_to_string(&settings).unwrap();
    let text = text.replace(
        "defaults:\n  machinePolicy: GitOps Workers\n",
        "defaults:\n  values:\n    agent:\n      machinePolicyName: GitOps Workers\n",
    );
    std::fs::write(&settings, text).unwrap();
    let run = workergen(repo.path(), &["validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "1 environment, 1 cluster, 2 workers: ok\n");
}
