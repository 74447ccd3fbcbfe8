//! `init`, `explain`, `completions` and `man`: the everyday commands.

use crate::util::{example_repo, workergen};

#[test]
fn init_with_the_eula_validates_and_renders_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let run = workergen(dir.path(), &["init", "--accept-eula"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let repo_file = std::fs::read_to_string(dir.path().join("workergen.yaml")).unwrap();
    assert!(repo_file.starts_with("# yaml-language-server: $schema=schemas/workergen.schema.json\n"));
    assert!(repo_file.contains("acceptEula: true"));
    assert!(dir.path().join("schemas/cluster.schema.json").is_file());
    let run = workergen(dir.path(), &["validate"]);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (0, "1 environment, 1 cluster, 1 worker: ok\n")
    );
    let run = workergen(dir.path(), &["render"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(dir
        .path()
        .join("rendered/example/cluster-1/deploy/helmrelease.yaml")
        .is_file());
}

#[test]
fn init_without_the_eula_says_what_to_do_and_validate_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let run = workergen(dir.path(), &["init", "--engine", "argocd"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("set `acceptEula: true`"), "{}", run.stderr);
    let repo_file = std::fs::read_to_string(dir.path().join("workergen.yaml")).unwrap();
    assert!(repo_file.contains("acceptEula: false") && repo_file.contains("engine: argocd"));
    let run = workergen(dir.path(), &["validate"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("workergen.yaml:") && run.stderr.contains("acceptEula: true"),
        "{}",
        run.stderr
    );
}

#[test]
fn init_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("workergen.yaml"), "mine\n").unwrap();
    let run = workergen(dir.path(), &["init", "--accept-eula"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("refusing to overwrite"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("workergen.yaml")).unwrap(),
        "mine\n"
    );
    assert!(!dir.path().join("environments").exists());
}

#[test]
fn explain_names_where_each_value_came_from() {
    let run = workergen(
        &example_repo(),
        &["explain", "production/eu-west-1/build-linux", "agent"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let line = |prefix: &str| {
        run.stdout
            .lines()
            .find(|line| line.trim_start().starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` in\n{}", run.stdout))
            .to_string()
    };
    assert!(line("agent.name =").contains("environments/production/eu-west-1.yaml:"));
    assert!(line("agent.name =").contains("(worker)"));
    assert!(line("agent.machinePolicyName =").contains("workergen.yaml:"));
    assert!(line("agent.logLevel =").ends_with("chart default"));
    assert!(line("agent.pollingConnectionCount =").contains("(environment defaults)"));
    // KEY narrows both sections; without it the manifest's fields show too.
    assert!(!run.stdout.contains("helmrelease.yaml:"), "{}", run.stdout);
    let run = workergen(&example_repo(), &["explain", "production/eu-west-1/build-linux"]);
    assert!(run.stdout.contains("helmrelease.yaml:\n"), "{}", run.stdout);
    assert!(run.stdout.contains("spec.releaseName = build-linux"), "{}", run.stdout);
}

#[test]
fn explain_json_and_unknown_workers() {
    let run = workergen(
        &example_repo(),
        &[
            "explain",
            "production/eu-west-1/build-linux",
            "agent.name",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let leaf = &json["values"][0];
    assert_eq!(leaf["path"], "agent.name");
    assert_eq!(leaf["value"], "prod-eu-build-linux");
    assert_eq!(leaf["source"]["file"], "environments/production/eu-west-1.yaml");
    assert_eq!(leaf["source"]["layer"], "worker");
    let run = workergen(&example_repo(), &["explain", "production/eu-west-1/build-linx"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("did you mean `production/eu-west-1/build-linux`?"),
        "{}",
        run.stderr
    );
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish"] {
        let run = workergen(&example_repo(), &["completions", shell]);
        assert_eq!(run.code, 0);
        assert!(
            run.stdout.contains("explain") && run.stdout.contains("propose"),
            "{shell}"
        );
    }
    let run = workergen(&example_repo(), &["man"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.starts_with(".ie") || run.stdout.contains(".TH workergen"),
        "{}",
        &run.stdout[..200]
    );
}

#[test]
fn verbose_prints_stage_timings() {
    let run = workergen(&example_repo(), &["-v", "validate"]);
    assert_eq!(run.code, 0);
    let timings = run
        .stderr
        .lines()
        .find(|line| line.starts_with("timings:"))
        .expect("a timings line");
    for stage in ["load", "merge", "validate"] {
        assert!(timings.contains(stage), "{timings}");
    }
}
