//! `workergen import` (issue 13): wizard command lines and `helm get values` outputs
//! adopted as declarations, the round trip, credentials never written or shown, and
//! real Helm agreeing that the declarations render the install's manifests.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{helm_template_args, real_helm, reference_chart, workergen, workergen_env, Run};

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

/// `workergen import` of fixtures, saying the chart version the `helm get values`
/// inputs were installed with (`3.13.2`) unless `extra` says one.
fn import(dir: &Path, env: &str, cluster: &str, extra: &[&str], files: &[&str]) -> Run {
    let files: Vec<String> = files.iter().map(|name| fixture(name)).collect();
    let mut args = vec!["import", "--env", env, "--cluster", cluster];
    if !extra.contains(&"--installed-version") {
        args.extend(["--installed-version", "3.13.2"]);
    }
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
            "--installed-version",
            "3.13.2",
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

/// The manifests the real chart 3.13.2 renders for `release` in `namespace` from the
/// values file `values` alone.
fn from_values(values: &Path, release: &str, namespace: &str) -> String {
    helm(
        "3.13.2",
        release,
        namespace,
        &["--values".to_owned(), values.display().to_string()],
    )
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
    let swap = token_as_secret();
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
        let installed = helm("3.13.2", release, namespace, &[install, swap.clone()].concat());
        let values: PathBuf = dir
            .path()
            .join(format!("rendered/production/eu-west-1/{release}/values.yaml"));
        let ours = from_values(&values, release, namespace);
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
    let ours = from_values(&values, "legacy-wizard", "legacy-agents");
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
        &[
            "import",
            "--env",
            "production",
            "--cluster",
            "eu-west-1",
            "--installed-version",
            "3.13.2",
            &odd_path,
        ],
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
    // A 2.x agent: its version goes into the import line, which then migrates it.
    custom["Endpoint"]["KubernetesAgentDetails"]["AgentVersion"] = "2.51.2".into();
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

/// Installs of one environment made with another credential than the environment's: the
/// cluster file keeps theirs in its own `octopus:`, and Helm renders the same manifests
/// from the install's values and from the declarations.
#[test]
fn a_cluster_whose_workers_use_other_credentials_gets_its_own_octopus_block() {
    let dir = repo();
    let first = import(dir.path(), "production", "eu-west-1", &[], &["deploy.sh"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let run = import(dir.path(), "production", "team-b", &[], &["team-b.yaml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let cluster = std::fs::read_to_string(dir.path().join("environments/production/team-b.yaml")).unwrap();
    let parsed: serde_yaml::Value = serde_yaml::from_str(&cluster).unwrap();
    assert_eq!(
        parsed["octopus"]["auth"]["apiKeySecret"].as_str(),
        Some("team-b-octopus-key"),
        "{cluster}"
    );
    let environment = std::fs::read_to_string(dir.path().join("environments/production/environment.yaml")).unwrap();
    assert!(
        environment.contains("bearerTokenSecret: octopus-worker-token"),
        "{environment}"
    );
    let validate = workergen(dir.path(), &["validate"]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    let render = workergen(dir.path(), &["render"]);
    assert_eq!(render.code, 0, "{}", render.stderr);
    let values = dir.path().join("rendered/production/team-b/team-b/values.yaml");
    let text = std::fs::read_to_string(&values).unwrap();
    assert!(text.contains("serverApiKeySecretName: team-b-octopus-key"), "{text}");
    assert!(!text.contains("bearerTokenSecretName"), "{text}");

    // The same release into a cluster that has other workers would change theirs: refused.
    let mixed = import(dir.path(), "production", "eu-west-1", &[], &["team-b.yaml"]);
    assert_eq!(mixed.code, 2, "{}", mixed.stderr);
    assert!(
        mixed
            .stderr
            .contains("reads its credential from Secret `team-b-octopus-key`")
            || mixed.stderr.contains("authenticates with"),
        "{}",
        mixed.stderr
    );

    if real_helm().is_none() {
        return;
    }
    let installed = from_values(Path::new(&fixture("team-b.yaml")), "team-b", "octopus-agent-team-b");
    let ours = from_values(&values, "team-b", "octopus-agent-team-b");
    assert_eq!(installed, ours, "the manifests differ");
    assert!(installed.contains("team-b-octopus-key"));
}

/// A `helm get values` file without `--installed-version` could be a 2.x release read as
/// 3.x (no move to the 3.x layout: the next sync changes its storage): import asks.
#[test]
fn a_values_file_without_a_version_stops_and_asks_for_one() {
    let dir = repo();
    let before = files(dir.path());
    let legacy = fixture("legacy-builder.yaml");
    let run = workergen(
        dir.path(),
        &["import", "--env", "staging", "--cluster", "legacy", &legacy],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "legacy-builder.yaml:1:1: error: the chart version `legacy-builder` was installed with is not known"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: pass `--installed-version`"),
        "{}",
        run.stderr
    );
    assert_eq!(files(dir.path()), before, "nothing written");
    assert_no_secret(&run, dir.path());

    let banana = workergen(
        dir.path(),
        &[
            "import",
            "--env",
            "staging",
            "--cluster",
            "legacy",
            "--installed-version",
            "banana",
            &legacy,
        ],
    );
    assert_eq!(banana.code, 2, "{}", banana.stderr);
    assert!(
        banana
            .stderr
            .contains("--installed-version `banana` is not a chart version"),
        "{}",
        banana.stderr
    );
    assert_eq!(files(dir.path()), before);

    // A command line says its version itself.
    let command = import(dir.path(), "production", "eu-west-1", &[], &["deploy.sh"]);
    assert_eq!(command.code, 0, "{}", command.stderr);
}

/// Helm's table header and a byte order mark are read; `--all` output (with or without
/// its `COMPUTED VALUES:` header) and an empty file are refused, each at its place.
#[test]
fn helm_headers_and_a_bom_are_read_and_all_values_or_nothing_are_refused() {
    let dir = repo();
    let run = import(dir.path(), "production", "eu-west-1", &[], &["bom-build.yaml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("ok      bom-build: renders the imported values"),
        "{}",
        run.stdout
    );
    assert_no_secret(&run, dir.path());

    let before = files(dir.path());
    let all = import(dir.path(), "production", "eu-west-1", &[], &["build-linux-all.yaml"]);
    assert_eq!(all.code, 2, "{}", all.stderr);
    assert!(
        all.stderr.contains("build-linux-all.yaml:1:1: error: `"),
        "{}",
        all.stderr
    );
    assert!(
        all.stderr
            .contains("default values: `helm get values --all` output, not what the install set"),
        "{}",
        all.stderr
    );
    assert!(
        all.stderr
            .contains("hint: save `helm get values -o yaml RELEASE -n NAMESPACE` without `--all`"),
        "{}",
        all.stderr
    );

    let inputs = tempfile::tempdir().unwrap();
    let computed = inputs.path().join("computed.yaml");
    std::fs::write(
        &computed,
        "USER-SUPPLIED VALUES:\nagent:\n  name: x\n\nCOMPUTED VALUES:\nagent:\n  name: x\n",
    )
    .unwrap();
    let empty = inputs.path().join("empty.yaml");
    std::fs::write(&empty, "\u{feff}USER-SUPPLIED VALUES:\nnull\n").unwrap();
    let blank = inputs.path().join("blank.sh");
    std::fs::write(&blank, "\n  \n").unwrap();
    for (path, expected) in [
        (
            &computed,
            "computed.yaml:5:1: error: `helm get values --all` output (`COMPUTED VALUES:`)",
        ),
        (&empty, "empty.yaml:1:1: error: the input is empty"),
        (&blank, "blank.sh:1:1: error: the input is empty"),
    ] {
        let path = path.display().to_string();
        let run = workergen(
            dir.path(),
            &[
                "import",
                "--env",
                "production",
                "--cluster",
                "eu-west-1",
                "--installed-version",
                "3.13.2",
                &path,
            ],
        );
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains(expected), "{expected}\n{}", run.stderr);
    }
    assert_eq!(files(dir.path()), before, "nothing written");

    if real_helm().is_none() {
        return;
    }
    let render = workergen(dir.path(), &["render"]);
    assert_eq!(render.code, 0, "{}", render.stderr);
    // The install's values as Helm read them (it reads the file without the mark).
    let text = std::fs::read_to_string(fixture("bom-build.yaml")).unwrap();
    let install = inputs.path().join("bom-build-install.yaml");
    std::fs::write(&install, text.trim_start_matches('\u{feff}')).unwrap();
    let swap = token_as_secret();
    let installed = helm(
        "3.13.2",
        "bom-build",
        "octopus-agent-bom-build",
        &[vec!["--values".to_owned(), install.display().to_string()], swap.clone()].concat(),
    );
    let values = dir.path().join("rendered/production/eu-west-1/bom-build/values.yaml");
    let ours = from_values(&values, "bom-build", "octopus-agent-bom-build");
    assert_eq!(installed, ours, "the manifests differ");
}

/// The wizard's PowerShell command (backtick continuations, PowerShell quoting) reads as
/// the same install as its bash twin, and Helm renders the install's manifests from it.
#[test]
fn a_powershell_wizard_command_reads_as_its_bash_twin() {
    let bash = repo();
    let run = import(bash.path(), "production", "eu-west-1", &[], &["deploy.sh"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let powershell = repo();
    let run = import(powershell.path(), "production", "eu-west-1", &[], &["deploy.ps1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_no_secret(&run, powershell.path());
    assert_eq!(
        environment_files(powershell.path(), "production"),
        environment_files(bash.path(), "production")
    );

    // An unquoted comma would make PowerShell pass two arguments: refused at its place.
    let inputs = tempfile::tempdir().unwrap();
    let split = inputs.path().join("split.ps1");
    std::fs::write(
        &split,
        "helm upgrade --install `\n  --set agent.name=a,agent.space=b `\n  r oci://registry-1.docker.io/octopusdeploy/kubernetes-agent\n",
    )
    .unwrap();
    let split_path = split.display().to_string();
    let refused = workergen(
        powershell.path(),
        &["import", "--env", "production", "--cluster", "eu-west-1", &split_path],
    );
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("PowerShell reads an unquoted ','"),
        "{}",
        refused.stderr
    );

    if real_helm().is_none() {
        return;
    }
    let render = workergen(powershell.path(), &["render"]);
    assert_eq!(render.code, 0, "{}", render.stderr);
    let swap = token_as_secret();
    // What PowerShell passes to helm is what bash passes for the twin.
    let installed = helm(
        "3.13.2",
        "deploy",
        "octopus-agent-deploy",
        &[set_arguments(&fixture("deploy.sh")), swap.clone()].concat(),
    );
    let values = powershell
        .path()
        .join("rendered/production/eu-west-1/deploy/values.yaml");
    let ours = from_values(&values, "deploy", "octopus-agent-deploy");
    assert_eq!(installed, ours, "the manifests differ");
}

/// The wizard command of `deploy.sh` with `extra` before its release, in `dir`.
fn command_with(dir: &Path, name: &str, extra: &str) -> String {
    let text = std::fs::read_to_string(fixture("deploy.sh")).unwrap();
    let text = text.replace("  deploy \\\n", &format!("  {extra} \\\n  deploy \\\n"));
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Where Helm's `--set` and import read a value differently, import now reads it as Helm
/// does, or refuses with Helm's reason; a file `validate` would refuse is never written;
/// a command for another chart names it.
#[test]
fn set_values_read_as_helm_reads_them_or_are_refused_with_its_reason() {
    let dir = repo();
    let inputs = tempfile::tempdir().unwrap();
    let before = files(dir.path());
    for (extra, expected) in [
        ("--set a=null,a.b=1", "\"a.b\" is set both as null and as a map"),
        (
            "--set-string agent.worker.enabled=true",
            "`agent.worker.enabled` of `deploy` is the text \"true\" (`--set-string`), not a boolean",
        ),
        (
            "--set 'scriptPods.tolerations[65536].key=x'",
            "error: file is larger than 1024 KiB",
        ),
    ] {
        let path = command_with(inputs.path(), "deploy.sh", extra);
        let run = workergen(
            dir.path(),
            &["import", "--env", "production", "--cluster", "eu-west-1", &path],
        );
        assert_eq!(run.code, 2, "{extra}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "{extra}: {}", run.stderr);
        assert_no_secret(&run, dir.path());
    }
    let other = inputs.path().join("other.sh");
    std::fs::write(
        &other,
        std::fs::read_to_string(fixture("deploy.sh"))
            .unwrap()
            .replace("octopusdeploy/kubernetes-agent", "bitnami/nginx"),
    )
    .unwrap();
    let other_path = other.display().to_string();
    let run = workergen(
        dir.path(),
        &["import", "--env", "production", "--cluster", "eu-west-1", &other_path],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the chart \"oci://registry-1.docker.io/bitnami/nginx\" is not the Kubernetes agent chart"),
        "{}",
        run.stderr
    );
    assert_eq!(files(dir.path()), before, "nothing written");

    // `falſe` is `false` to Helm (Unicode case folding): a boolean, as the chart gets it.
    let path = command_with(
        inputs.path(),
        "deploy.sh",
        "--set scriptPods.podTemplate.enabled=FAL\u{17f}E",
    );
    let run = workergen(
        dir.path(),
        &["import", "--env", "production", "--cluster", "eu-west-1", &path],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let cluster = std::fs::read_to_string(dir.path().join("environments/production/eu-west-1.yaml")).unwrap();
    let parsed: serde_yaml::Value = serde_yaml::from_str(&cluster).unwrap();
    assert_eq!(
        parsed["workers"]["deploy"]["values"]["scriptPods"]["podTemplate"]["enabled"],
        serde_yaml::Value::Bool(false),
        "{cluster}"
    );
    if real_helm().is_none() {
        return;
    }
    let render = workergen(dir.path(), &["render"]);
    assert_eq!(render.code, 0, "{}", render.stderr);
    let swap = token_as_secret();
    let installed = helm(
        "3.13.2",
        "deploy",
        "octopus-agent-deploy",
        &[set_arguments(&path), swap.clone()].concat(),
    );
    let values = dir.path().join("rendered/production/eu-west-1/deploy/values.yaml");
    let ours = from_values(&values, "deploy", "octopus-agent-deploy");
    assert_eq!(installed, ours, "the manifests differ");
}

/// A value the planned declaration would refuse is shown at the input line it came from,
/// the unwritten file beside it.
#[test]
fn errors_in_the_planned_declarations_point_at_the_input_lines() {
    let dir = repo();
    let inputs = tempfile::tempdir().unwrap();
    let path = command_with(inputs.path(), "deploy.sh", "--set persistence.size=lots");
    let run = workergen(
        dir.path(),
        &["import", "--env", "production", "--cluster", "eu-west-1", &path],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let (line, column) = crate::util::position_of(Path::new(&path), "persistence.size=lots");
    assert!(
        run.stderr.contains(&format!(
            "deploy.sh:{line}:{column}: error: `lots` is not a Kubernetes quantity"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("note: environments/production/eu-west-1.yaml:")
            && run.stderr.contains("in the declaration import would write"),
        "{}",
        run.stderr
    );
    assert!(!dir.path().join("environments/production/eu-west-1.yaml").exists());
    assert_no_secret(&run, dir.path());

    let values = inputs.path().join("sized.yaml");
    let text = std::fs::read_to_string(fixture("build-linux.yaml")).unwrap();
    std::fs::write(&values, text.replace("size: 20Gi", "size: 20 gigs")).unwrap();
    let values_path = values.display().to_string();
    let run = import(dir.path(), "production", "eu-west-1", &[], &[]);
    assert_eq!(run.code, 2, "no input: {}", run.stderr);
    let run = workergen(
        dir.path(),
        &[
            "import",
            "--env",
            "production",
            "--cluster",
            "eu-west-1",
            "--installed-version",
            "3.13.2",
            &values_path,
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let (line, column) = crate::util::position_of(&values, "20 gigs");
    assert!(
        run.stderr.contains(&format!(
            "sized.yaml:{line}:{column}: error: `20 gigs` is not a Kubernetes quantity"
        )),
        "{}",
        run.stderr
    );
}

/// An integer of 1000000 or more under `--set` renders differently from the same number
/// in any values file (Helm reads the file's as a float): refused, with that reason, which
/// the real chart confirms.
#[test]
fn a_set_integer_no_values_file_can_render_is_refused_and_helm_agrees_why() {
    let dir = repo();
    let inputs = tempfile::tempdir().unwrap();
    let path = inputs.path().join("deploy.sh");
    let text = std::fs::read_to_string(fixture("deploy.sh")).unwrap();
    std::fs::write(
        &path,
        text.replace("pollingConnectionCount=10 ", "pollingConnectionCount=1000000 "),
    )
    .unwrap();
    let path = path.display().to_string();
    let run = workergen(
        dir.path(),
        &["import", "--env", "production", "--cluster", "eu-west-1", &path],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let (line, column) = crate::util::position_of(Path::new(&path), "agent.pollingConnectionCount=1000000");
    assert!(
        run.stderr.contains(&format!(
            "deploy.sh:{line}:{column}: error: `agent.pollingConnectionCount=1000000`"
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("templates print as `1e+06`"), "{}", run.stderr);
    assert!(!dir.path().join("environments/production").exists());

    if real_helm().is_none() {
        return;
    }
    let values = inputs.path().join("values.yaml");
    std::fs::write(&values, "agent:\n  pollingConnectionCount: 1000000\n").unwrap();
    // The install's other values (`--set` wins over `--values`: its own count is left out).
    let base: Vec<String> = set_arguments(&fixture("deploy.sh"))
        .chunks(2)
        .filter(|pair| !pair[1].starts_with("agent.pollingConnectionCount="))
        .flatten()
        .cloned()
        .collect();
    let from_set = helm(
        "3.13.2",
        "deploy",
        "octopus-agent-deploy",
        &[
            base.clone(),
            ["--set", "agent.pollingConnectionCount=1000000"]
                .map(String::from)
                .to_vec(),
        ]
        .concat(),
    );
    let from_file = helm(
        "3.13.2",
        "deploy",
        "octopus-agent-deploy",
        &[base, vec!["--values".to_owned(), values.display().to_string()]].concat(),
    );
    assert_ne!(
        from_set, from_file,
        "Helm renders both alike: the refusal is not needed"
    );
    assert!(from_file.contains("1e+06"), "the float form");
}

/// `--set` arguments that put the token as import declares it: no plaintext token, the
/// Secret that holds it instead.
fn token_as_secret() -> Vec<String> {
    [
        "--set",
        "agent.bearerToken=",
        "--set",
        "agent.bearerTokenSecretName=octopus-worker-token",
    ]
    .map(String::from)
    .to_vec()
}

/// `--set a=null` deletes a chart default, which no declaration can do: the data alone
/// cannot tell whether that matters, so without `--chart` the import stops and says so;
/// with the real chart, a deletion that renders the same manifests is adopted, and one
/// that breaks the chart is refused with Helm's own error.
#[test]
fn a_deleted_chart_default_is_settled_by_the_real_chart() {
    let (Some(helm), Some(chart)) = (real_helm(), reference_chart("3.13.2")) else {
        return;
    };
    let inputs = tempfile::tempdir().unwrap();
    let command = |name: &str, extra: &str| {
        let text = std::fs::read_to_string(fixture("deploy.sh"))
            .unwrap()
            .replace("  deploy \\\n", &format!("  --set {extra} \\\n  deploy \\\n"));
        let path = inputs.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let harmless = command("harmless.sh", "agent.machinePolicyName=null");
    let breaking = command("breaking.sh", "agent.securityContext=null");
    let path = format!(
        "{}:{}",
        helm.parent().unwrap().display(),
        std::env::var("PATH").unwrap()
    );
    let chart = chart.display().to_string();
    let run_import = |dir: &Path, extra: &[&str], file: &str| {
        let mut args = vec!["import", "--env", "production", "--cluster", "eu-west-1"];
        args.extend(extra);
        args.push(file);
        workergen_env(dir, &args, [("PATH", path.as_str())])
    };

    let dir = repo();
    let run = run_import(dir.path(), &[], &harmless);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stdout.contains("agent.machinePolicyName (imported null")
            && run
                .stdout
                .contains("`--chart` lets the chart tell whether that matters"),
        "{}",
        run.stdout
    );
    assert!(!dir.path().join("environments/production/eu-west-1.yaml").exists());

    let run = run_import(dir.path(), &["--chart", &chart], &harmless);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "ok      deploy: renders the imported values and the same manifests (+ agent.bearerTokenSecretName, agent.machinePolicyName deleted by the install changes nothing)"
        ),
        "{}",
        run.stdout
    );

    let dir = repo();
    let run = run_import(dir.path(), &["--chart", &chart], &breaking);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stdout.contains("agent.securityContext (imported null")
            && run.stdout.contains("the chart fails on the install's values")
            && run.stdout.contains("readOnlyRootFilesystem"),
        "{}",
        run.stdout
    );
    assert!(!dir.path().join("environments/production/eu-west-1.yaml").exists());

    // A path that is no chart is a usage error before anything is read.
    let run = run_import(dir.path(), &["--chart", inputs.path().to_str().unwrap()], &harmless);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("is neither a chart folder"), "{}", run.stderr);
}
