//! `workergen import` (issue 13): wizard command lines and `helm get values` outputs
//! adopted as declarations, the round trip, credentials never written or shown, and
//! real Helm agreeing that the declarations render the install's manifests.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{helm_template_args, real_helm, workergen, Run};

/// The plaintext credentials in the fixtures: none may appear in any output or file.
const SECRETS: &[&str] = &[
    "wizard-token-7f3a9c",
    "values-token-5b2e1d",
    "API-LEGACYKEY0123456789ABCDEF",
    "API-WIZARDKEY9876543210FEDCBA",
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t",
    "ZXJ0X2Zvcl90ZXN0czEwCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K",
];

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
        .display()
        .to_string()
}

/// A config repository from `workergen init --accept-eula`, without its example environment.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let run = workergen(dir.path(), &["init", "--accept-eula"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::remove_dir_all(dir.path().join("environments/example")).unwrap();
    dir
}

fn import(dir: &Path, env: &str, cluster: &str, extra: &[&str], files: &[&str]) -> Run {
    let files: Vec<String> = files.iter().map(|name| fixture(name)).collect();
    let mut args = vec!["import", "--env", env, "--cluster", cluster];
    args.extend(extra);
    args.extend(files.iter().map(String::as_str));
    workergen(dir, &args)
}

/// Every file under `dir` (but `schemas/`), by relative path.
fn files(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(dir).unwrap().display().to_string();
            if relative == "schemas" || relative == ".git" {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((relative, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn assert_no_secret(run: &Run, dir: &Path) {
    for secret in SECRETS {
        assert!(!run.stdout.contains(secret), "stdout shows {secret}:\n{}", run.stdout);
        assert!(!run.stderr.contains(secret), "stderr shows {secret}:\n{}", run.stderr);
        for (path, text) in files(dir) {
            assert!(!text.contains(secret), "{path} holds {secret}");
        }
    }
}

/// stdout and stderr with the fixtures' folder shown as `<fixtures>`.
fn shown(run: &Run) -> String {
    let fixtures = fixture("");
    format!(
        "exit {}\n--- stdout\n{}--- stderr\n{}",
        run.code, run.stdout, run.stderr
    )
    .replace(&fixtures, "<fixtures>/")
}

fn environment_files(dir: &Path, env: &str) -> String {
    files(dir)
        .into_iter()
        .filter(|(path, _)| path.starts_with(&format!("environments/{env}/")))
        .map(|(path, text)| format!("=== {path}\n{text}"))
        .collect()
}

#[test]
fn a_wizard_command_and_helm_get_values_round_trip() {
    let dir = repo();
    let run = import(
        dir.path(),
        "production",
        "eu-west-1",
        &[],
        &["deploy.sh", "build-linux.yaml"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_no_secret(&run, dir.path());
    insta::assert_snapshot!("import_production_output", shown(&run));
    insta::assert_snapshot!("import_production_files", environment_files(dir.path(), "production"));
    let validate = workergen(dir.path(), &["validate"]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    let render = workergen(dir.path(), &["render"]);
    assert_eq!(render.code, 0, "{}", render.stderr);
    assert_no_secret(&render, dir.path());
}

#[test]
fn importing_the_same_installs_twice_changes_nothing() {
    let dir = repo();
    let first = import(
        dir.path(),
        "production",
        "eu-west-1",
        &[],
        &["deploy.sh", "build-linux.yaml"],
    );
    assert_eq!(first.code, 0, "{}", first.stderr);
    let before = files(dir.path());
    let second = import(
        dir.path(),
        "production",
        "eu-west-1",
        &[],
        &["build-linux.yaml", "deploy.sh"],
    );
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(files(dir.path()), before);
    assert!(
        second
            .stderr
            .contains("unchanged environments/production/eu-west-1.yaml"),
        "{}",
        second.stderr
    );
    // One at a time gives the same workers (the second joins the first's file).
    let one_by_one = repo();
    for input in ["deploy.sh", "build-linux.yaml"] {
        let run = import(one_by_one.path(), "production", "eu-west-1", &[], &[input]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let validate = workergen(one_by_one.path(), &["validate"]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
}

#[test]
fn a_2x_install_is_migrated_to_the_3x_layout() {
    let dir = repo();
    let run = import(
        dir.path(),
        "staging",
        "legacy",
        &["--installed-version", "2.51.2"],
        &["legacy-builder.yaml", "legacy-wizard.sh"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_no_secret(&run, dir.path());
    insta::assert_snapshot!("import_legacy_output", shown(&run));
    insta::assert_snapshot!("import_legacy_files", environment_files(dir.path(), "staging"));
    let values = std::fs::read_to_string(dir.path().join("environments/staging/legacy.yaml")).unwrap();
    assert!(values.contains("ReadWriteMany"), "{values}");
}

#[test]
fn an_environment_that_disagrees_is_an_error_and_nothing_is_written() {
    let dir = repo();
    let environment = dir.path().join("environments/production");
    std::fs::create_dir_all(&environment).unwrap();
    std::fs::write(
        environment.join("environment.yaml"),
        "octopus:\n  serverUrl: https://other.example.com/\n  serverCommsAddresses: [https://octopus-node1.example.com:10943/, https://octopus-node2.example.com:10943/]\n  auth: {apiKeySecret: octopus-api}\n",
    )
    .unwrap();
    let before = files(dir.path());
    let run = import(
        dir.path(),
        "production",
        "eu-west-1",
        &[],
        &["deploy.sh", "build-linux.yaml"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(files(dir.path()), before);
    assert_no_secret(&run, dir.path());
    insta::assert_snapshot!("import_environment_conflict", shown(&run));
}

#[test]
fn an_existing_worker_is_replaced_only_with_force() {
    let dir = repo();
    let first = import(dir.path(), "production", "eu-west-1", &[], &["deploy.sh"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let inputs = tempfile::tempdir().unwrap();
    let changed = inputs.path().join("deploy.sh");
    let text = std::fs::read_to_string(fixture("deploy.sh")).unwrap();
    std::fs::write(
        &changed,
        text.replace("pollingConnectionCount=10", "pollingConnectionCount=3"),
    )
    .unwrap();
    let before = files(dir.path());
    let changed_path = changed.display().to_string();
    let args = [
        "import",
        "--env",
        "production",
        "--cluster",
        "eu-west-1",
        changed_path.as_str(),
    ];
    let refused = workergen(dir.path(), &args);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("worker `deploy` is already declared"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("--force"), "{}", refused.stderr);
    assert_eq!(files(dir.path()), before);
    let forced = workergen(dir.path(), &[&args[..], &["--force"]].concat());
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    let cluster = std::fs::read_to_string(dir.path().join("environments/production/eu-west-1.yaml")).unwrap();
    assert!(cluster.contains("pollingConnectionCount: 3"), "{cluster}");
    assert_no_secret(&forced, dir.path());
}

#[test]
fn a_bad_input_writes_nothing_and_shows_no_credential() {
    let dir = repo();
    let inputs = tempfile::tempdir().unwrap();
    let bad = inputs.path().join("broken.sh");
    std::fs::write(
        &bad,
        "helm upgrade --install \\\n  --set agent.bearerToken=wizard-token-7f3a9c,agent.worker.initial.workerPools[x]=a \\\n  broken oci://registry-1.docker.io/octopusdeploy/kubernetes-agent\n",
    )
    .unwrap();
    let plain = inputs.path().join("leaky.yaml");
    std::fs::write(
        &plain,
        "agent:\n  name: leaky\n  pollingProxy:\n    host: proxy\n    password: values-token-5b2e1d\n",
    )
    .unwrap();
    let before = files(dir.path());
    let bad_path = bad.display().to_string();
    let plain_path = plain.display().to_string();
    let deploy = fixture("deploy.sh");
    let run = workergen(
        dir.path(),
        &[
            "import",
            "--env",
            "production",
            "--cluster",
            "eu-west-1",
            &deploy,
            &bad_path,
            &plain_path,
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(files(dir.path()), before);
    assert_no_secret(&run, dir.path());
    let text = shown(&run).replace(&inputs.path().display().to_string(), "<inputs>");
    insta::assert_snapshot!("import_bad_inputs", text);
}

/// `helm template` of the real chart with `values` and `--set` arguments.
fn helm(chart_version: &str, release: &str, namespace: &str, args: &[String]) -> String {
    helm_template_args(chart_version, release, namespace, args).unwrap_or_else(|error| panic!("{error}"))
}

/// The `--set` and `--set-string` arguments of a wizard command, as the shell passes
/// them: bash runs the file with `helm` a function that prints its arguments.
fn set_arguments(command_file: &str) -> Vec<String> {
    let script = format!("helm() {{ printf '%s\\0' \"$@\"; }}\n. '{command_file}'\n");
    let output = Command::new("bash").arg("-c").arg(script).output().unwrap();
    let words: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .split('\0')
        .map(str::to_owned)
        .collect();
    let mut out = Vec::new();
    for pair in words.windows(2) {
        if pair[0] == "--set" || pair[0] == "--set-string" {
            out.extend(pair.iter().cloned());
        }
    }
    out
}

/// The round trip as Helm sees it: the chart rendered with the install's own values
/// and with workergen's rendered values.yaml gives the same manifests. The install's
/// plaintext credential is swapped for the same Secret reference workergen declares
/// (an empty value is the chart's "not set"): the one change the import makes on
/// purpose, so the manifests can be equal.
#[test]
fn helm_renders_the_same_manifests_from_the_install_and_from_the_declarations() {
    if real_helm().is_none() {
        return;
    }
    let dir = repo();
    let run = import(
        dir.path(),
        "production",
        "eu-west-1",
        &[],
        &["deploy.sh", "build-linux.yaml"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let render = workergen(dir.path(), &["render"]);
    assert_eq!(render.code, 0, "{}", render.stderr);
    let swap = [
        "--set",
        "agent.bearerToken=",
        "--set",
        "agent.bearerTokenSecretName=octopus-worker-token",
    ]
    .map(String::from);
    let cases: [(&str, &str, Vec<String>); 2] = [
        ("deploy", "octopus-agent-deploy", set_arguments(&fixture("deploy.sh"))),
        (
            "build-linux",
            "octopus-agent-build-linux",
            vec!["--values".to_owned(), fixture("build-linux.yaml")],
        ),
    ];
    for (release, namespace, install) in cases {
        assert!(!install.is_empty(), "no arguments read for {release}");
        let installed = helm("3.13.2", release, namespace, &[install, swap.to_vec()].concat());
        let values: PathBuf = dir
            .path()
            .join(format!("rendered/production/eu-west-1/{release}/values.yaml"));
        let ours = helm(
            "3.13.2",
            release,
            namespace,
            &["--values".to_owned(), values.display().to_string()],
        );
        assert_eq!(installed, ours, "{release}: the manifests differ");
        assert!(installed.contains("octopus-worker-token"));
    }
}

/// The 2.x install as Octopus upgrades it (chart 3.13.2 with the chart's to-v3
/// migration values laid over the install's) against workergen's values.
#[test]
fn helm_agrees_on_the_migrated_2x_install() {
    if real_helm().is_none() {
        return;
    }
    let dir = repo();
    let run = import(
        dir.path(),
        "staging",
        "legacy",
        &["--installed-version", "2.51.2"],
        &["legacy-wizard.sh"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let render = workergen(dir.path(), &["render"]);
    assert_eq!(render.code, 0, "{}", render.stderr);
    let swap = [
        "--set",
        "agent.serverApiKey=",
        "--set",
        "agent.serverApiKeySecretName=octopus-worker-api-key",
        "--set",
        "agent.serverCertificate=",
        "--set",
        "agent.serverCertificateSecretName=octopus-internal-ca",
        // to-v3: a storage class is named, so no NFS; ReadWriteMany as 2.x had it.
        "--set",
        "persistence.accessModes={ReadWriteMany}",
        "--set",
        "persistence.nfs.enabled=false",
    ]
    .map(String::from);
    let install = set_arguments(&fixture("legacy-wizard.sh"));
    let installed = helm(
        "3.13.2",
        "legacy-wizard",
        "legacy-agents",
        &[install, swap.to_vec()].concat(),
    );
    let values = dir.path().join("rendered/staging/legacy/legacy-wizard/values.yaml");
    let ours = helm(
        "3.13.2",
        "legacy-wizard",
        "legacy-agents",
        &["--values".to_owned(), values.display().to_string()],
    );
    assert_eq!(installed, ours);
    assert!(ours.contains("ReadWriteMany"));
}

/// A release whose values a declaration cannot give back (a `null` that removes a chart
/// default: in a declaration, `null` removes an inherited value instead) is named with
/// the key path, and nothing is written.
#[test]
fn a_worker_that_would_not_round_trip_is_refused() {
    let dir = repo();
    let inputs = tempfile::tempdir().unwrap();
    let values = std::fs::read_to_string(fixture("build-linux.yaml")).unwrap();
    let odd = inputs.path().join("odd.yaml");
    std::fs::write(
        &odd,
        values.replace("scriptPods:\n", "scriptPods:\n  affinity:\n    nodeAffinity: null\n"),
    )
    .unwrap();
    let before = files(dir.path());
    let odd_path = odd.display().to_string();
    let run = workergen(
        dir.path(),
        &["import", "--env", "production", "--cluster", "eu-west-1", &odd_path],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(files(dir.path()), before);
    assert_no_secret(&run, dir.path());
    insta::assert_snapshot!(
        "import_no_round_trip",
        shown(&run).replace(&inputs.path().display().to_string(), "<inputs>")
    );
}

/// `--from-octopus` lists the space's Kubernetes workers (not its other machines), says
/// which a declaration names already, and how to save the values of the others; it
/// never prints the API key.
#[test]
fn from_octopus_lists_the_registered_kubernetes_workers() {
    use crate::octopus_api::{pool, worker, FakeOctopus, Space, State};
    const KEY: &str = "API-IMPORTKEY0123456789";
    let mut listening = worker("Workers-9", "windows-box", &["WorkerPools-1"], "MachinePolicies-1");
    listening["Endpoint"]["CommunicationStyle"] = "TentaclePassive".into();
    let mut custom = worker("Workers-3", "legacy-agent", &["WorkerPools-2"], "MachinePolicies-1");
    custom["Endpoint"]["KubernetesAgentDetails"]["KubernetesNamespace"] = "agents".into();
    let space = Space {
        name: "Default".into(),
        workers: vec![
            worker(
                "Workers-1",
                "production-eu-west-1-deploy",
                &["WorkerPools-1"],
                "MachinePolicies-1",
            ),
            custom,
            listening,
        ],
        pools: vec![
            pool("WorkerPools-1", "Linux Workers", "linux-workers"),
            pool("WorkerPools-2", "Legacy", "legacy"),
        ],
        policies: vec![],
    };
    let mut state = State {
        api_key: KEY.into(),
        ..State::default()
    };
    state.spaces.insert("Spaces-1".into(), space);
    let api = FakeOctopus::start(state, 2);
    let dir = repo();
    let environment = dir.path().join("environments/production");
    std::fs::create_dir_all(&environment).unwrap();
    std::fs::write(
        environment.join("environment.yaml"),
        format!("octopus:\n  serverUrl: {}\n  serverCommsAddress: https://o.example.com:10943/\n  auth: {{bearerTokenSecret: t}}\n", api.url),
    )
    .unwrap();
    std::fs::write(
        environment.join("eu-west-1.yaml"),
        "workers:\n  deploy:\n    workerPools: [Linux Workers]\n",
    )
    .unwrap();
    let before = files(dir.path());
    let run = crate::util::workergen_env(
        dir.path(),
        &["import", "--env", "production", "--from-octopus"],
        [("OCTOPUS_API_KEY", KEY), ("WORKERGEN_HTTP_BACKOFF_MS", "10")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains(KEY) && !run.stderr.contains(KEY));
    assert_eq!(files(dir.path()), before);
    let requests: Vec<String> = api
        .requests()
        .into_iter()
        .map(|request| format!("{} {}", request.method, request.path))
        .collect();
    assert_eq!(
        requests,
        [
            "GET /api/spaces/all",
            "GET /api/Spaces-1/workers/all",
            "GET /api/Spaces-1/workerpools/all"
        ]
    );
    insta::assert_snapshot!("import_from_octopus", shown(&run));
    let unset = workergen(dir.path(), &["import", "--env", "production", "--from-octopus"]);
    assert_eq!(unset.code, 2, "{}", unset.stderr);
    assert!(
        unset.stderr.contains("`OCTOPUS_API_KEY` is not set"),
        "{}",
        unset.stderr
    );
}

/// A cluster file with workers of its own keeps them, its `defaults` and its comments:
/// the imported worker is written into its `workers` map as text, against its defaults.
#[test]
fn a_cluster_file_with_other_workers_keeps_them_and_its_comments() {
    let dir = repo();
    let first = import(dir.path(), "production", "eu-west-1", &[], &["deploy.sh"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let path = dir.path().join("environments/production/eu-west-1.yaml");
    let written = std::fs::read_to_string(&path).unwrap();
    let edited = written.replace("workers:\n", "workers:\n  # maintained by the platform team\n");
    std::fs::write(&path, &edited).unwrap();
    let run = import(dir.path(), "production", "eu-west-1", &[], &["build-linux.yaml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("ok      build-linux"), "{}", run.stdout);
    let after = std::fs::read_to_string(&path).unwrap();
    assert!(
        after.starts_with(&edited.trim_end_matches('\n')[..edited.find("  deploy:").unwrap()]),
        "{after}"
    );
    assert!(
        after.contains("# maintained by the platform team") && after.contains("  build-linux:\n"),
        "{after}"
    );
    let validate = workergen(dir.path(), &["validate"]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    let again = import(dir.path(), "production", "eu-west-1", &[], &["build-linux.yaml"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), after);
}

/// `--secret-name` names the credential Secret of a new environment (an existing one
/// keeps its own: asking for another is an error), and `--dry-run` prints the files
/// without writing them.
#[test]
fn secret_name_and_dry_run() {
    let dir = repo();
    let before = files(dir.path());
    let dry = import(
        dir.path(),
        "production",
        "eu-west-1",
        &["--secret-name", "agent-token", "--dry-run"],
        &["deploy.sh"],
    );
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert_eq!(files(dir.path()), before);
    assert!(
        dry.stdout.contains("# environments/production/environment.yaml\n"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("bearerTokenSecret: agent-token"), "{}", dry.stdout);
    assert!(dry.stderr.contains("dry run: nothing written"), "{}", dry.stderr);
    assert!(
        dry.stderr
            .contains("kubectl create secret generic agent-token -n octopus-agent-deploy"),
        "{}",
        dry.stderr
    );
    assert_no_secret(&dry, dir.path());
    let real = import(
        dir.path(),
        "production",
        "eu-west-1",
        &["--secret-name", "agent-token"],
        &["deploy.sh"],
    );
    assert_eq!(real.code, 0, "{}", real.stderr);
    let other = import(
        dir.path(),
        "production",
        "eu-west-1",
        &["--secret-name", "other"],
        &["build-linux.yaml"],
    );
    assert_eq!(other.code, 2, "{}", other.stderr);
    assert!(
        other
            .stderr
            .contains("--secret-name `other`, and the environment already names Secret `agent-token`"),
        "{}",
        other.stderr
    );
}

/// A credential given as `--secret-name` is refused and printed nowhere: not in the
/// message, not in a suggested name.
#[test]
fn a_credential_given_as_the_secret_name_is_refused_unseen() {
    let dir = repo();
    let key = "API-ABCDEFGHIJKLMNOPQRSTUVWXYZ12";
    let run = import(
        dir.path(),
        "production",
        "eu-west-1",
        &["--secret-name", key],
        &["deploy.sh"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("--secret-name is not a valid Secret name"),
        "{}",
        run.stderr
    );
    let shown = format!("{}{}", run.stdout, run.stderr).to_lowercase();
    assert!(!shown.contains(&key.to_lowercase()), "{shown}");
}

/// Usage mistakes exit 2 with a hint: a file that is not there, a name that is no label,
/// a folder that is no config repository.
#[test]
fn usage_mistakes_exit_2() {
    let dir = repo();
    let missing = workergen(
        dir.path(),
        &[
            "import",
            "--env",
            "production",
            "--cluster",
            "eu",
            "/nonexistent/r.yaml",
        ],
    );
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("cannot read `/nonexistent/r.yaml`"),
        "{}",
        missing.stderr
    );
    let deploy = fixture("deploy.sh");
    let label = workergen(dir.path(), &["import", "--env", "Prod", "--cluster", "eu", &deploy]);
    assert_eq!(label.code, 2, "{}", label.stderr);
    assert!(
        label.stderr.contains("--env `Prod` is not a DNS-1123 label"),
        "{}",
        label.stderr
    );
    let empty = tempfile::tempdir().unwrap();
    let no_repo = workergen(empty.path(), &["import", "--env", "p", "--cluster", "eu", &deploy]);
    assert_eq!(no_repo.code, 2, "{}", no_repo.stderr);
    assert!(
        no_repo.stderr.contains("run `workergen init` first"),
        "{}",
        no_repo.stderr
    );
}
