//! Test plumbing: config repositories in temp dirs and a fluent way to run workergen.

#![allow(dead_code)] // each test file uses its own part of the plumbing

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::LazyLock;

use regex::Regex;

/// Whether `name` is a DNS-1123 label, by the regular expression and length Kubernetes
/// validates with (`dns1123LabelFmt` in k8s.io/apimachinery `pkg/util/validation`): an
/// oracle written apart from `workergen::names`, so a test does not check the code by
/// itself.
pub fn is_dns_label(name: &str) -> bool {
    static LABEL: LazyLock<Regex> = LazyLock::new(|| Regex::new("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$").unwrap());
    name.len() <= 63 && LABEL.is_match(name)
}

/// Whether `name` is a DNS-1123 subdomain, as Kubernetes validates object names such as
/// Secrets (`dns1123SubdomainFmt`): dot-separated labels, at most 253 characters.
pub fn is_dns_subdomain(name: &str) -> bool {
    static SUBDOMAIN: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$").unwrap());
    name.len() <= 253 && SUBDOMAIN.is_match(name)
}

/// Where `document` does not match the JSON Schema `docs/<schema>` of this repository.
pub fn schema_errors(schema: &str, document: &serde_json::Value) -> Vec<String> {
    let text = std::fs::read_to_string(example_repo().join("docs").join(schema)).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    validator
        .iter_errors(document)
        .map(|error| format!("{}: {error}", error.instance_path()))
        .collect()
}

/// Checks `document` against the JSON Schema `docs/<schema>`, listing every place that
/// does not match.
pub fn assert_matches_schema(schema: &str, document: &serde_json::Value) {
    let errors = schema_errors(schema, document);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// The example config repository at the root of this crate.
pub fn example_repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Copies the files `workergen.yaml` and `environments/` of `from` into `to`.
pub fn copy_config(from: &Path, to: &Path) {
    std::fs::copy(from.join("workergen.yaml"), to.join("workergen.yaml")).unwrap();
    copy_dir(&from.join("environments"), &to.join("environments"));
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A run of the workergen binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from_output(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Runs `workergen -C dir --color never <args>`.
pub fn workergen(dir: &Path, args: &[&str]) -> Run {
    workergen_env(dir, args, std::iter::empty::<(&str, &str)>())
}

/// Runs `workergen -C dir --color never <args>` with extra environment variables.
pub fn workergen_env<K, V>(dir: &Path, args: &[&str], envs: impl IntoIterator<Item = (K, V)>) -> Run
where
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let output = workergen_command(dir, args)
        .envs(envs)
        .output()
        .expect("workergen runs");
    Run::from_output(output)
}

/// `workergen -C dir --color never <args>`, with `NO_COLOR` removed, ready to run.
fn workergen_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_workergen"));
    command
        .arg("-C")
        .arg(dir)
        .arg("--color")
        .arg("never")
        .args(args)
        .env_remove("NO_COLOR");
    command
}

/// Runs `git <args>` in `dir` with a fixed identity and date, no user or system
/// configuration, and no inherited repository variables; panics unless it succeeds.
/// Returns stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_AUTHOR_DATE", "2025-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2025-01-01T00:00:00Z")
        // `git status` must not refresh the index behind a test's back.
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?} failed in {}:\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `git init -b main` in `dir`.
pub fn git_init(dir: &Path) {
    git(dir, &["init", "--quiet", "-b", "main"]);
}

/// Stages everything and commits it; returns the new commit's id.
pub fn commit_all(dir: &Path, message: &str) -> String {
    git(dir, &["add", "--all"]);
    git(dir, &["commit", "--quiet", "--allow-empty", "-m", message]);
    git(dir, &["rev-parse", "HEAD"]).trim().to_string()
}

/// A Git repository in a temp dir whose one commit, on `main`, is the example fleet.
pub fn example_git_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git_init(dir.path());
    copy_config(&example_repo(), dir.path());
    commit_all(dir.path(), "the example fleet");
    dir
}

/// Replaces the one occurrence of `from` in the file at `path` with `to`; panics when
/// `from` is absent or not unique, so an edit of the example fleet never goes unnoticed.
pub fn replace_once(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert_eq!(
        text.matches(from).count(),
        1,
        "`{from}` should occur once in {}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// The 1-based line and column where `needle` starts in the file at `path`; it must
/// occur once.
pub fn position_of(path: &Path, needle: &str) -> (usize, usize) {
    let text = std::fs::read_to_string(path).unwrap();
    assert_eq!(
        text.matches(needle).count(),
        1,
        "`{needle}` should occur once in {}",
        path.display()
    );
    let offset = text.find(needle).unwrap();
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = offset - before.rfind('\n').map_or(0, |newline| newline + 1) + 1;
    (line, column)
}

/// Runs `workergen -C dir --color never <args>` like [`workergen`], but gives up after
/// `limit`: the run is killed and the test fails naming the limit, so a quadratic path
/// on hostile input fails the test instead of hanging it.
pub fn workergen_within(dir: &Path, args: &[&str], limit: std::time::Duration) -> Run {
    let output_dir = tempfile::tempdir().unwrap();
    let stdout_path = output_dir.path().join("stdout");
    let stderr_path = output_dir.path().join("stderr");
    let mut child = workergen_command(dir, args)
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .expect("workergen runs");
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("workergen {args:?} took more than {limit:?} in {}", dir.display());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let read = |path: &Path| String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: read(&stdout_path),
        stderr: read(&stderr_path),
    }
}

// Real consumers: the test tools, the reference charts and the reference CRDs of
// `../shared`, which `.ci/run` names in `WORKERGEN_TEST_*`. One policy for all three: a
// variable that is not set makes the test that needs it skip, saying so; a variable that
// is set but names nothing usable is a broken setup and panics. Nothing here looks beside
// the clone, so a fresh clone's `cargo test` behaves the same with or without `../shared`.

/// Reports that the running test skips because `variable` is not set, on the process's
/// stderr: written to the handle rather than with `eprintln!`, which the test harness
/// captures and hides for a test that passes, so the run lists every skip.
pub fn skipping(needs: &str, variable: &str) {
    use std::io::Write as _;
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let _ = writeln!(
        std::io::stderr(),
        "skipping {test}: it needs {needs} and {variable} is not set (`bash .ci/run` sets it)"
    );
}

/// The test tool `name` (`helm`, `crd-apiserver-env.sh`, ...) in the folder named by
/// `WORKERGEN_TEST_TOOLS`, or `None` after [`skipping`].
pub fn tool(name: &str) -> Option<PathBuf> {
    let Some(folder) = std::env::var_os("WORKERGEN_TEST_TOOLS") else {
        skipping(&format!("`{name}`"), "WORKERGEN_TEST_TOOLS");
        return None;
    };
    let path = Path::new(&folder).join(name);
    assert!(
        path.is_file(),
        "WORKERGEN_TEST_TOOLS={} has no `{name}`: run `bash ../shared/tools/install.sh .tools`",
        Path::new(&folder).display()
    );
    Some(path)
}

/// The headless Chromium named by `WORKERGEN_TEST_BROWSER` (Debian's
/// `chromium-headless-shell`), or `None` after [`skipping`].
pub fn browser() -> Option<PathBuf> {
    let Some(path) = std::env::var_os("WORKERGEN_TEST_BROWSER") else {
        skipping("a headless Chromium", "WORKERGEN_TEST_BROWSER");
        return None;
    };
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "WORKERGEN_TEST_BROWSER={} is no file: `apt-get install chromium-headless-shell`",
        path.display()
    );
    Some(path)
}

/// The folder of the reference chart `version` (`chart-<version>`) under
/// `WORKERGEN_TEST_CHARTS`, or `None` after [`skipping`].
pub fn reference_chart(version: &str) -> Option<PathBuf> {
    let Some(charts) = std::env::var_os("WORKERGEN_TEST_CHARTS") else {
        skipping(&format!("the reference chart {version}"), "WORKERGEN_TEST_CHARTS");
        return None;
    };
    let chart = Path::new(&charts).join(format!("chart-{version}"));
    assert!(
        chart.join("Chart.yaml").is_file(),
        "WORKERGEN_TEST_CHARTS={} has no chart-{version} (it should name ../shared/reference/kubernetes-agent)",
        Path::new(&charts).display()
    );
    Some(chart)
}

/// Helm and the reference charts, which every `helm template` of the real chart needs:
/// `None` (after [`skipping`]) when either is missing.
pub fn real_helm() -> Option<PathBuf> {
    let helm = tool("helm")?;
    REFERENCE_CHARTS
        .iter()
        .all(|version| reference_chart(version).is_some())
        .then_some(helm)
}

/// The chart versions of `../shared/reference/kubernetes-agent`.
pub const REFERENCE_CHARTS: [&str; 2] = ["2.51.2", "3.13.2"];

/// The repository's own copy of the chart's CRD folder (`chart/crds`), which workergen
/// embeds: the tests use it rather than a reference chart, so they run on a fresh clone.
pub fn own_chart_crds() -> PathBuf {
    example_repo().join("chart/crds")
}

/// The folder of the reference CRDs (Flux, Argo CD, External Secrets) named by
/// `WORKERGEN_TEST_CRDS`, or `None` after [`skipping`].
pub fn test_crds() -> Option<PathBuf> {
    let Some(folder) = std::env::var_os("WORKERGEN_TEST_CRDS") else {
        skipping("the reference CRDs", "WORKERGEN_TEST_CRDS");
        return None;
    };
    let folder = PathBuf::from(folder);
    let has_yaml = std::fs::read_dir(&folder).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|entry| entry.path().extension().is_some_and(|ext| ext == "yaml"))
    });
    assert!(
        has_yaml,
        "WORKERGEN_TEST_CRDS={} holds no .yaml files (it should name ../shared/reference/crds)",
        folder.display()
    );
    Some(folder)
}

/// `helm template RELEASE CHART --namespace NAMESPACE --values VALUES` with the real
/// Helm and the reference chart `chart_version`, offline: the manifests, or Helm's
/// error. Check [`real_helm`] first to skip without Helm or the charts.
pub fn helm_template(values: &Path, chart_version: &str, release: &str, namespace: &str) -> Result<String, String> {
    helm_template_args(chart_version, release, namespace, [Path::new("--values"), values]).map_err(|error| {
        format!(
            "helm template {release} (chart {chart_version}, namespace {namespace}, values {}) failed:\n{error}",
            values.display()
        )
    })
}

/// `helm template RELEASE CHART --namespace NAMESPACE ARGS...` with the real Helm and the
/// reference chart `chart_version`, offline: the manifests, or Helm's error output.
pub fn helm_template_args<S: AsRef<std::ffi::OsStr>>(
    chart_version: &str,
    release: &str,
    namespace: &str,
    args: impl IntoIterator<Item = S>,
) -> Result<String, String> {
    let helm = tool("helm").ok_or("helm is not available (WORKERGEN_TEST_TOOLS is not set)")?;
    let chart = reference_chart(chart_version).ok_or("no reference charts (WORKERGEN_TEST_CHARTS is not set)")?;
    // Helm keeps no state for `template` of a local chart; its folders point into a
    // temp dir all the same, so no user setting or cache can change the result.
    let home = tempfile::tempdir().map_err(|error| error.to_string())?;
    let output = Command::new(helm)
        .arg("template")
        .arg(release)
        .arg(chart)
        .arg("--namespace")
        .arg(namespace)
        .args(args)
        .env("HELM_CACHE_HOME", home.path().join("cache"))
        .env("HELM_CONFIG_HOME", home.path().join("config"))
        .env("HELM_DATA_HOME", home.path().join("data"))
        .env_remove("KUBECONFIG")
        .output()
        .map_err(|error| format!("cannot run helm: {error}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// One `helm template` run: a values file and the release it is installed as.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HelmRun {
    pub values: PathBuf,
    pub chart_version: String,
    pub release: String,
    pub namespace: String,
}

/// [`helm_template`] for every run, on two threads (a run takes 0.1–0.3 s), in the
/// order given.
pub fn helm_template_all(runs: &[HelmRun]) -> Vec<Result<String, String>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<Result<String, String>>>> =
        runs.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(run) = runs.get(index) else { break };
                let result = helm_template(&run.values, &run.chart_version, &run.release, &run.namespace);
                *results[index].lock().unwrap() = Some(result);
            });
        }
    });
    results
        .into_iter()
        .map(|result| result.into_inner().unwrap().expect("every run finished"))
        .collect()
}

/// The credential a worker registers with, as declared under `octopus.auth`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// `bearerTokenSecret`: the Secret's key `bearer-token`.
    BearerToken(String),
    /// `apiKeySecret`: the Secret's key `api-key`.
    ApiKey(String),
    /// `usernamePasswordSecret`: the Secret's keys `username` and `password`.
    UsernamePassword(String),
}

impl Credential {
    /// The agent's environment variables for it, each with its Secret and key, as the
    /// chart's templates (`pre-install-tentacle-pod.yaml`, `tentacle-deployment.yaml`) write them.
    fn env(&self) -> Vec<(&'static str, String, &'static str)> {
        match self {
            Credential::BearerToken(secret) => vec![("BearerToken", secret.clone(), "bearer-token")],
            Credential::ApiKey(secret) => vec![("ServerApiKey", secret.clone(), "api-key")],
            Credential::UsernamePassword(secret) => vec![
                ("ServerUsername", secret.clone(), "username"),
                ("ServerPassword", secret.clone(), "password"),
            ],
        }
    }
}

/// The environment a worker registers with Octopus through: what a declaration says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub worker_pools: Vec<String>,
    pub server_url: String,
    pub credential: Credential,
}

/// The environment variable names the chart reads a credential from.
const CREDENTIAL_ENV: [&str; 5] = [
    "BearerToken",
    "ServerApiKey",
    "ServerUsername",
    "ServerPassword",
    "TentacleCertificateBase64",
];

/// Checks that the manifests of `helm template` register the worker as `expected`: the
/// registration hook Pod (`helm.sh/hook: pre-install`, which runs `register.sh`) and the
/// agent's Deployment both have `ServerUrl`, `WorkerPools` (comma-joined) and exactly
/// the credential's `secretKeyRef`s. Returns every difference, or `Ok` when there is none.
pub fn check_registration(manifests: &str, expected: &Registration) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    let containers = agent_containers(manifests).map_err(|problem| vec![problem])?;
    for kind in ["Pod", "Deployment"] {
        if !containers.iter().any(|(owner, _)| owner.starts_with(kind)) {
            problems.push(format!(
                "no {kind} with an agent container (one whose env has `ServerUrl`)"
            ));
        }
    }
    let pools = expected.worker_pools.join(",");
    for (owner, env) in &containers {
        let value = |name: &str| env.iter().find(|(key, _)| key == name).map(|(_, value)| value);
        let mut expect = |name: &str, wanted: &EnvValue| match value(name) {
            Some(found) if found == wanted => {}
            found => problems.push(format!("{owner}: `{name}` is {found:?}, expected {wanted:?}")),
        };
        expect("ServerUrl", &EnvValue::Text(expected.server_url.clone()));
        expect("WorkerPools", &EnvValue::Text(pools.clone()));
        expect("WorkerEnabled", &EnvValue::Text("true".into()));
        let credential = expected.credential.env();
        for (name, secret, key) in &credential {
            expect(name, &EnvValue::SecretKey(secret.clone(), (*key).to_string()));
        }
        for name in CREDENTIAL_ENV {
            if value(name).is_some() && !credential.iter().any(|(wanted, _, _)| *wanted == name) {
                problems.push(format!("{owner}: unexpected credential `{name}`: {:?}", value(name)));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// An environment variable's value: text, or a Secret's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    Text(String),
    SecretKey(String, String),
    Other(String),
}

/// A container's environment: each variable's name and value.
pub type Env = Vec<(String, EnvValue)>;

/// Every container of a Pod, Deployment or Job whose env has `ServerUrl`, as
/// `("<Kind>/<name>", env)`.
pub fn agent_containers(manifests: &str) -> Result<Vec<(String, Env)>, String> {
    let mut found = Vec::new();
    for document in manifests.split("\n---\n") {
        let text = document.trim_start_matches("---\n");
        if !text.lines().any(|line| !line.is_empty() && !line.starts_with('#')) {
            continue;
        }
        let node = workergen::yaml::parse(text, workergen::source::FileId(0), workergen::yaml::Limits::default())
            .map_err(|error| format!("helm wrote a document that is not YAML: {}\n{text}", error.message))?;
        let object = serde_json::to_value(&node).map_err(|error| error.to_string())?;
        let kind = object["kind"].as_str().unwrap_or_default();
        let pod_spec = match kind {
            "Pod" => &object["spec"],
            "Deployment" | "Job" | "StatefulSet" => &object["spec"]["template"]["spec"],
            _ => continue,
        };
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        for container in pod_spec["containers"].as_array().into_iter().flatten() {
            let env: Env = container["env"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|variable| {
                    (
                        variable["name"].as_str().unwrap_or_default().to_string(),
                        env_value(variable),
                    )
                })
                .collect();
            if env.iter().any(|(key, _)| key == "ServerUrl") {
                found.push((format!("{kind}/{name}"), env));
            }
        }
    }
    Ok(found)
}

fn env_value(variable: &serde_json::Value) -> EnvValue {
    if let Some(text) = variable["value"].as_str() {
        return EnvValue::Text(text.to_string());
    }
    let key_ref = &variable["valueFrom"]["secretKeyRef"];
    match (key_ref["name"].as_str(), key_ref["key"].as_str()) {
        (Some(name), Some(key)) => EnvValue::SecretKey(name.to_string(), key.to_string()),
        _ => EnvValue::Other(variable.to_string()),
    }
}
