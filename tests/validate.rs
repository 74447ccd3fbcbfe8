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

/// A FIFO where a cluster file goes is refused without being opened: reading it would
/// wait for a writer forever.
#[test]
fn a_fifo_in_an_environment_is_refused_without_waiting() {
    let repo = base_repo();
    let fifo = repo.path().join("environments/prod/us-east-1.yaml");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let run = crate::util::workergen_within(repo.path(), &["validate"], std::time::Duration::from_secs(20));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "environments/prod/us-east-1.yaml:1:1: error: `environments/prod/us-east-1.yaml` is not a regular file"
        ),
        "{}",
        run.stderr
    );
}

/// `import` reads only regular files within the size limit: a FIFO does not hang it,
/// `/dev/zero` does not fill memory, a folder is a usage mistake (exit 2, not 3).
#[test]
fn import_reads_only_regular_files_within_the_limit() {
    let repo = base_repo();
    let fifo = repo.path().join("release.yaml");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let big = repo.path().join("big.yaml");
    std::fs::write(&big, "a: b\n".repeat(300_000)).unwrap();
    let limit = std::time::Duration::from_secs(20);
    for (input, says) in [
        (fifo.display().to_string(), "is not a regular file"),
        ("/dev/zero".to_string(), "is not a regular file"),
        (
            repo.path().join("environments").display().to_string(),
            "is not a regular file",
        ),
        (big.display().to_string(), "it is larger than 1024 KiB"),
    ] {
        let run = crate::util::workergen_within(
            repo.path(),
            &["import", "--env", "prod", "--cluster", "eu-west-1", &input],
            limit,
        );
        assert_eq!(run.code, 2, "{input}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{input}: {}", run.stderr);
    }
}

/// Without `environments/`, `render` is refused and leaves the rendered tree alone
/// (it deleted every rendered file, having found nothing to render).
#[test]
fn render_without_environments_deletes_nothing() {
    let repo = base_repo();
    let run = workergen(repo.path(), &["render"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let before = std::fs::read_dir(repo.path().join("rendered/prod")).unwrap().count();
    assert!(before > 0);
    std::fs::remove_dir_all(repo.path().join("environments")).unwrap();
    let run = workergen(repo.path(), &["render"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no `environments/` folder"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_dir(repo.path().join("rendered/prod")).unwrap().count(),
        before
    );
}

/// `validate --env`/`--cluster` counts what it selected, not the whole fleet.
#[test]
fn a_scoped_validate_summarises_its_scope() {
    for (args, summary) in [
        (
            &["validate", "--cluster", "eu-west-1"][..],
            "2 environments, 2 clusters, 7 workers (1 uninstalled): ok\n",
        ),
        (
            &["validate", "--env", "production", "--cluster", "us-east-1"][..],
            "1 environment, 1 cluster, 3 workers: ok\n",
        ),
        (
            &["validate"][..],
            "2 environments, 4 clusters, 12 workers (1 uninstalled): ok\n",
        ),
    ] {
        let run = workergen(&example_repo(), args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr, summary, "{args:?}");
    }
}

/// `-C` naming a file is a usage mistake: exit 2 with a hint, not an I/O failure (3).
#[test]
fn a_file_given_as_the_folder_is_a_usage_mistake() {
    let file = example_repo().join("workergen.yaml");
    for command in ["validate", "render", "diff", "check"] {
        let run = workergen(&file, &[command]);
        assert_eq!(run.code, 2, "{command}: {}", run.stderr);
        assert!(
            run.stderr.contains("is a file, not a folder"),
            "{command}: {}",
            run.stderr
        );
    }
}
