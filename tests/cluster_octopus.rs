//! A cluster file's own `octopus:` (its workers' credentials), layered over the
//! environment's like `chart:` and `secrets:`: rendered, validated, explained.

use crate::util::{position_of, workergen};

const ENVIRONMENT: &str = "\
octopus:
  serverUrl: https://octopus.example.com/
  serverCommsAddresses: [https://octopus.example.com:10943/]
  auth: { bearerTokenSecret: octopus-worker-token }
";

/// A repository with two clusters of one environment; `legacy.yaml` gets `legacy_octopus`.
fn repo(legacy_octopus: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("workergen.yaml", "acceptEula: true\ngitops:\n  engine: flux\n");
    write("environments/production/environment.yaml", ENVIRONMENT);
    write(
        "environments/production/eu-west-1.yaml",
        "cluster:\n  destination: { server: https://eu-west-1.k8s.example.com }\nworkers:\n  build:\n    workerPools: [Linux]\n    machinePolicy: GitOps\n",
    );
    write(
        "environments/production/legacy.yaml",
        &format!(
            "cluster:\n  destination: {{ server: https://legacy.k8s.example.com }}\n{legacy_octopus}workers:\n  old:\n    workerPools: [Linux]\n    machinePolicy: GitOps\n"
        ),
    );
    dir
}

fn values(dir: &std::path::Path, cluster: &str, worker: &str) -> String {
    std::fs::read_to_string(dir.join(format!("rendered/production/{cluster}/{worker}/values.yaml"))).unwrap()
}

#[test]
fn a_cluster_keeps_its_own_credential_and_the_others_the_environments() {
    let dir = repo("octopus:\n  auth: { apiKeySecret: legacy-api-key }\n  serverCertificateSecret: legacy-ca\n");
    let run = workergen(dir.path(), &["render"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let legacy = values(dir.path(), "legacy", "old");
    assert!(legacy.contains("serverApiKeySecretName: legacy-api-key"), "{legacy}");
    assert!(legacy.contains("legacy-ca"), "{legacy}");
    assert!(
        !legacy.contains("octopus-worker-token"),
        "the kind is replaced whole: {legacy}"
    );
    let build = values(dir.path(), "eu-west-1", "build");
    assert!(build.contains("bearerTokenSecretName: octopus-worker-token"), "{build}");
    assert!(!build.contains("legacy"), "{build}");

    let explain = workergen(dir.path(), &["explain", "production/legacy/old", "octopus"]);
    assert_eq!(explain.code, 0, "{}", explain.stderr);
    let legacy_file = dir.path().join("environments/production/legacy.yaml");
    let (line, column) = position_of(&legacy_file, "legacy-api-key");
    let line_of = |start: &str| {
        explain
            .stdout
            .lines()
            .find(|text| text.trim_start().starts_with(start))
            .map(|text| text.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    };
    assert_eq!(
        line_of("octopus.auth.apiKeySecret"),
        format!("octopus.auth.apiKeySecret = legacy-api-key environments/production/legacy.yaml:{line}:{column} (cluster defaults)"),
        "{}",
        explain.stdout
    );
    assert!(
        line_of("octopus.serverUrl").starts_with(
            "octopus.serverUrl = https://octopus.example.com/ environments/production/environment.yaml:2:14"
        ),
        "{}",
        explain.stdout
    );
}

#[test]
fn a_cluster_octopus_block_sets_credentials_only() {
    let dir = repo("octopus:\n  serverUrl: https://other.example.com/\n");
    let run = workergen(dir.path(), &["validate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let legacy_file = dir.path().join("environments/production/legacy.yaml");
    let (line, column) = position_of(&legacy_file, "serverUrl");
    assert!(
        run.stderr.contains(&format!(
            "environments/production/legacy.yaml:{line}:{column}: error: unknown key `serverUrl`"
        )),
        "{}",
        run.stderr
    );

    let two_kinds = repo("octopus:\n  auth: { apiKeySecret: a, bearerTokenSecret: b }\n");
    let run = workergen(two_kinds.path(), &["validate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("environments/production/legacy.yaml:"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("sets more than one credential kind"),
        "{}",
        run.stderr
    );

    let bad_name = repo("octopus:\n  auth: { apiKeySecret: Legacy_Key }\n");
    let run = workergen(bad_name.path(), &["validate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        // The value may be a credential: never shown.
        run.stderr
            .contains("`octopus.auth.apiKeySecret` is not a valid Secret name (the value is not shown"),
        "{}",
        run.stderr
    );
}
