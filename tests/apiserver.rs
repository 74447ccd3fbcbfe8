//! The rendered objects as a real Kubernetes API server reads them (issue 11, "tests
//! against the real things").
//!
//! One etcd + `crd-apiserver` (Kubernetes' own apiextensions-apiserver, from
//! `../shared/tools`) serves the whole test run: the first test that needs it starts it
//! on free ports and installs the real CRDs (every CRD in `WORKERGEN_TEST_CRDS`: Flux,
//! Argo CD, External Secrets; and the chart's `scriptpodtemplates.agent.octopus.com`),
//! waiting until each is `Established`. Then every YAML document workergen renders for
//! the example fleet, with both engines, is checked where it would be applied:
//! - a custom resource (any `apiVersion` but core `v1` and kustomize's own) goes through
//!   `kubectl apply --server-side --dry-run=server --validate=strict`: the server's
//!   OpenAPI schema, its CEL rules, and strict field validation (an unknown field is an
//!   error); a kind no CRD defines is "no matches for kind";
//! - a core object, which this server does not serve, is read with k8s-openapi's type
//!   for its kind (Namespace, ConfigMap, Secret; any other core kind fails) and must
//!   come back unchanged, so no field is unknown, and its name must be valid;
//! - kustomize's own files are built with `kubectl kustomize` in every folder that has
//!   one, and the output (what Flux, or an Argo CD app-of-apps, applies) is checked the
//!   same way, as is `workergen render --stdout` (the Argo CD plugin mode);
//! - a document that is no object (a values file, a kustomize configuration) must be a
//!   file a kustomization or an Application reads; any other is a failure.
//!
//! The checks name no folder or kind workergen renders (the tests only require a few
//! kinds to have been seen): objects added to the rendered tree are checked without a
//! change to this file. Without the tools
//! (`WORKERGEN_TEST_TOOLS`, `WORKERGEN_TEST_CRDS`; `.ci/run` sets both) these tests
//! print why and pass.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use serde_json::Value as Json;
use workergen::source::FileId;
use workergen::yaml::{parse, Limits};

use crate::util::{
    copy_config, copy_dir, example_repo, is_dns_label, is_dns_subdomain, own_chart_crds, replace_once, test_crds, tool,
    workergen,
};

/// Stops the server once the pipe on its stdin closes: when the guard drops, or when
/// the test process ends in any way (the kernel closes the pipe). It ignores the
/// terminal's signals so that Ctrl-C still cleans up. `$1` is `crd-apiserver-env.sh`,
/// `$2` the run dir, `$3` the temp dir holding it.
const WATCHDOG: &str = r#"trap '' INT TERM HUP; cat >/dev/null; bash "$1" stop "$2"; rm -rf "$3""#;

/// A running etcd + crd-apiserver on free ports of 127.0.0.1, with a temp dir of its own.
///
/// A watchdog process stops both and removes the dir when this guard drops (also while
/// a panic unwinds) and, for the shared server, which lives in a `static` that is never
/// dropped, when the test process ends.
pub struct ApiServer {
    run_dir: PathBuf,
    base_dir: PathBuf,
    watchdog: Child,
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        drop(self.watchdog.stdin.take());
        let _ = self.watchdog.wait();
    }
}

impl ApiServer {
    /// Starts etcd and the server with `crd-apiserver-env.sh start` from the `tools`
    /// folder; tries three times, with new ports each time, as another process may
    /// take a port between our probe and the server's bind.
    pub fn start(tools: &Path) -> Result<Self, String> {
        let mut failures = Vec::new();
        for _ in 0..3 {
            match Self::try_start(tools) {
                Ok(server) => return Ok(server),
                Err(failure) => failures.push(failure),
            }
        }
        Err(format!("crd-apiserver did not start:\n{}", failures.join("\n")))
    }

    fn try_start(tools: &Path) -> Result<Self, String> {
        let script = tools.join("crd-apiserver-env.sh");
        let base_dir = tempfile::Builder::new()
            .prefix("workergen-apiserver-")
            .tempdir()
            .map_err(|error| format!("no temp dir: {error}"))?
            .keep();
        let run_dir = base_dir.join("run");
        let watchdog = Command::new("sh")
            .args(["-c", WATCHDOG, "watchdog"])
            .arg(&script)
            .arg(&run_dir)
            .arg(&base_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| format!("cannot run sh: {error}"))?;
        // From here on, dropping `server` stops whatever has started.
        let server = Self {
            run_dir,
            base_dir,
            watchdog,
        };
        let (port, etcd_port) = free_ports().map_err(|error| format!("no free ports: {error}"))?;
        let output = Command::new("bash")
            .arg(&script)
            .arg("start")
            .arg(tools)
            .arg(&server.run_dir)
            .env("PORT", port.to_string())
            .env("ETCD_PORT", etcd_port.to_string())
            .output()
            .map_err(|error| format!("cannot run {}: {error}", script.display()))?;
        let ports = format!("ports {port} (server) and {etcd_port} (etcd)");
        if !output.status.success() {
            return Err(format!(
                "{ports}: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        // A port taken meanwhile makes etcd or the server exit while the readiness
        // probe may have reached another process listening there.
        for process in ["etcd", "apiserver"] {
            if !alive(&server.run_dir.join(format!("{process}.pid"))) {
                let log = fs::read_to_string(server.run_dir.join(format!("{process}.log"))).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(5).collect();
                return Err(format!("{ports}: {process} exited after starting: {tail:?}"));
            }
        }
        Ok(server)
    }

    /// The process ids of etcd and the server.
    pub fn pids(&self) -> Vec<u32> {
        ["etcd", "apiserver"]
            .iter()
            .filter_map(|process| fs::read_to_string(self.run_dir.join(format!("{process}.pid"))).ok())
            .filter_map(|pid| pid.trim().parse().ok())
            .collect()
    }

    /// `kubectl <args>` against this server with `input` on stdin.
    pub fn kubectl<S: AsRef<OsStr>>(&self, args: impl IntoIterator<Item = S>, input: &str) -> Output {
        let mut child = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(self.run_dir.join("kubeconfig"))
            .arg("--cache-dir")
            .arg(self.base_dir.join("kubectl-cache"))
            // A server that stops answering fails the test instead of hanging it.
            .arg("--request-timeout=120s")
            .args(args)
            .env_remove("KUBECONFIG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl is installed");
        let mut stdin = child.stdin.take().unwrap();
        let input = input.to_string();
        // A command that reads no stdin closes it early: the write's error is ignored,
        // and a short read shows in what kubectl reports.
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let output = child.wait_with_output().expect("kubectl runs");
        let _ = writer.join();
        output
    }

    /// `kubectl apply --server-side --dry-run=server --validate=strict` of the YAML
    /// `stream`: the objects it applied (`kind.group/name`), or the server's error.
    pub fn dry_run(&self, stream: &str) -> Result<Vec<String>, String> {
        let (applied, error) = self.dry_run_output(stream);
        error.map_or(Ok(applied), Err)
    }

    /// What [`Self::dry_run`] applied, and its error if any: kubectl goes on after an
    /// object the server rejects.
    fn dry_run_output(&self, stream: &str) -> (Vec<String>, Option<String>) {
        let output = self.kubectl(
            [
                "apply",
                "--server-side",
                "--dry-run=server",
                "--validate=strict",
                "-o",
                "name",
                "-f",
                "-",
            ],
            stream,
        );
        let applied = String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        let error = (!output.status.success()).then(|| String::from_utf8_lossy(&output.stderr).trim().to_string());
        (applied, error)
    }

    /// [`Self::dry_run`] of every document in one call; when that fails, again one by
    /// one for each object kubectl did not apply as often as it was given (`-o name`
    /// has no namespace), so that each problem names its document.
    fn dry_run_all(&self, documents: &[&Document]) -> Vec<String> {
        if documents.is_empty() {
            return Vec::new();
        }
        let stream: String = documents.iter().map(|document| document.stream()).collect();
        let (applied, error) = self.dry_run_output(&stream);
        if error.is_none() && applied.len() == documents.len() {
            return Vec::new();
        }
        let mut given: BTreeMap<String, usize> = BTreeMap::new();
        for document in documents {
            *given.entry(document.applied_name()).or_default() += 1;
        }
        for name in &applied {
            let name = name.split_once('/').map(|(resource, name)| {
                let kind = resource.split('.').next().unwrap_or_default();
                format!("{kind}/{name}")
            });
            if let Some(count) = name.and_then(|name| given.get_mut(&name)) {
                *count = count.saturating_sub(1);
            }
        }
        let problems: Vec<String> = documents
            .iter()
            .filter(|document| given[&document.applied_name()] > 0)
            .filter_map(|document| {
                let error = self.dry_run(&document.stream()).err()?;
                Some(format!("{}: the API server rejects it:\n  {error}", document.name()))
            })
            .collect();
        if problems.is_empty() {
            let error = error.unwrap_or_else(|| format!("it applied {} objects: {applied:?}", applied.len()));
            vec![format!(
                "the API server rejects {} documents together:\n  {error}",
                documents.len()
            )]
        } else {
            problems
        }
    }

    /// Installs the CRDs in `files` with server-side apply (the chart's is too big for
    /// a client-side apply's annotation) and waits until each is `Established`.
    fn install_crds(&self, files: &[PathBuf]) -> Result<Vec<String>, String> {
        let mut args: Vec<&OsStr> = ["apply", "--server-side", "-o", "name"].map(OsStr::new).to_vec();
        for file in files {
            args.extend([OsStr::new("-f"), file.as_os_str()]);
        }
        let output = self.kubectl(args, "");
        if !output.status.success() {
            return Err(format!(
                "kubectl apply of the CRDs failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let names: Vec<String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| line.strip_prefix("customresourcedefinition.apiextensions.k8s.io/"))
            .map(str::to_string)
            .collect();
        if names.len() != files.len() {
            return Err(format!("{} CRD files installed {names:?}", files.len()));
        }
        self.wait_established(&names)?;
        Ok(names)
    }

    /// Polls until every CRD of `names` has the condition `Established=True` (`kubectl
    /// wait` fails while the conditions are still empty).
    fn wait_established(&self, names: &[String]) -> Result<(), String> {
        let started = Instant::now();
        let query = r#"jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Established")].status}{"\n"}{end}"#;
        loop {
            let output = self.kubectl(["get", "customresourcedefinitions", "-o", query], "");
            let listed = String::from_utf8_lossy(&output.stdout).into_owned();
            let established: BTreeSet<&str> = listed.lines().filter_map(|line| line.strip_suffix("=True")).collect();
            let waiting: Vec<&String> = names
                .iter()
                .filter(|name| !established.contains(name.as_str()))
                .collect();
            if waiting.is_empty() {
                return Ok(());
            }
            // About 8 s on 2 cores with the rest of the tests running; 120 s is a hang.
            if started.elapsed() > Duration::from_secs(120) {
                return Err(format!(
                    "CRDs not established after 120 s: {waiting:?}\n{listed}{}",
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Whether the process whose id is in `pid_file` runs (exists and is no zombie).
fn alive(pid_file: &Path) -> bool {
    let Some(pid) = fs::read_to_string(pid_file)
        .ok()
        .and_then(|pid| pid.trim().parse::<u32>().ok())
    else {
        return false;
    };
    process_alive(pid)
}

fn process_alive(pid: u32) -> bool {
    // `/proc/<pid>/stat` is `pid (command) state ...`; the command may hold spaces.
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
        !matches!(state.and_then(|rest| rest.chars().next()), Some('Z' | 'X') | None)
    })
}

/// A port for the server, and one for etcd whose peer port (`+10`, the script's rule)
/// is free too, as the kernel hands out unused ports to a bind to port 0. Another
/// process may bind one before the server does; [`ApiServer::start`] retries then.
fn free_ports() -> std::io::Result<(u16, u16)> {
    let server = TcpListener::bind("127.0.0.1:0")?;
    for _ in 0..100 {
        let etcd = TcpListener::bind("127.0.0.1:0")?;
        let port = etcd.local_addr()?.port();
        let peer_free = port
            .checked_add(10)
            .is_some_and(|peer| TcpListener::bind(("127.0.0.1", peer)).is_ok());
        if peer_free {
            return Ok((server.local_addr()?.port(), port));
        }
    }
    Err(std::io::Error::other("no port with a free port 10 above it"))
}

/// The CRD files to install: those of `crds` (its `.yaml` files that define a
/// CustomResourceDefinition; `compat/` holds older copies of the same CRDs) and the
/// chart's `crds/` (the repository's own copy, which workergen embeds).
fn crd_files(crds: &Path) -> Vec<PathBuf> {
    let chart_crds = own_chart_crds();
    let mut files = Vec::new();
    for folder in [crds, chart_crds.as_path()] {
        let mut found: Vec<PathBuf> = fs::read_dir(folder)
            .unwrap_or_else(|error| panic!("{}: {error}", folder.display()))
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
            .filter(|path| {
                fs::read_to_string(path)
                    .unwrap()
                    .lines()
                    .any(|line| line == "kind: CustomResourceDefinition")
            })
            .collect();
        assert!(!found.is_empty(), "no CRD in {}", folder.display());
        found.sort();
        files.extend(found);
    }
    files
}

/// The server of this test run, started and given the CRDs by the first test that
/// asks; `None` (after printing why) without the tools or the CRDs.
fn shared_server() -> Option<&'static ApiServer> {
    static SERVER: OnceLock<Result<ApiServer, String>> = OnceLock::new();
    let script = tool("crd-apiserver-env.sh")?;
    let crds = test_crds()?;
    let server = SERVER.get_or_init(|| {
        let started = Instant::now();
        let server = ApiServer::start(script.parent().unwrap())?;
        let ready = started.elapsed();
        let installing = Instant::now();
        let names = server.install_crds(&crd_files(&crds))?;
        eprintln!(
            "crd-apiserver: ready in {} ms; {} CRDs established {} ms later",
            ready.as_millis(),
            names.len(),
            installing.elapsed().as_millis()
        );
        Ok(server)
    });
    Some(server.as_ref().unwrap_or_else(|error| panic!("{error}")))
}

// Documents and where they go.

/// One YAML document: where it is from, its text as written and its data.
#[derive(Debug)]
struct Document {
    /// The file or command it is from, and its place there when it has company.
    origin: String,
    /// The rendered file it is in (`None` for a command's output).
    file: Option<PathBuf>,
    text: String,
    value: Json,
}

impl Document {
    /// The documents of `text`, from `origin`: the text between `---` lines (a `---`
    /// line's own content after a space starts the next document) that holds more
    /// than comments.
    fn parse_all(origin: &str, file: Option<&Path>, text: &str) -> Result<Vec<Document>, String> {
        let mut texts = vec![String::new()];
        for line in text.split_inclusive('\n') {
            if line.trim_end() == "---" {
                texts.push(String::new());
            } else if let Some(rest) = line.strip_prefix("--- ") {
                texts.push(rest.to_string());
            } else {
                texts.last_mut().unwrap().push_str(line);
            }
        }
        texts.retain(|text| {
            text.lines()
                .any(|line| !line.trim().is_empty() && !line.starts_with('#'))
        });
        let count = texts.len();
        texts
            .into_iter()
            .enumerate()
            .map(|(index, text)| {
                let origin = if count > 1 {
                    format!("{origin} (document {} of {count})", index + 1)
                } else {
                    origin.to_string()
                };
                let node = parse(&text, FileId(0), Limits::default())
                    .map_err(|error| format!("{origin}: not YAML: {}", error.message))?;
                let value = serde_json::to_value(&node).map_err(|error| format!("{origin}: {error}"))?;
                Ok(Document {
                    origin,
                    file: file.map(Path::to_path_buf),
                    text,
                    value,
                })
            })
            .collect()
    }

    fn field(&self, name: &str) -> Option<&str> {
        self.value.get(name).and_then(Json::as_str)
    }

    /// `origin: Kind namespace/name`.
    fn name(&self) -> String {
        let metadata = &self.value["metadata"];
        let namespace = metadata["namespace"]
            .as_str()
            .map(|namespace| format!("{namespace}/"))
            .unwrap_or_default();
        format!(
            "{}: {} {namespace}{}",
            self.origin,
            self.field("kind").unwrap_or("(no kind)"),
            metadata["name"].as_str().unwrap_or("(no name)")
        )
    }

    /// `kind/name` as `kubectl apply -o name` prints it, less the group: the kind in
    /// lowercase.
    fn applied_name(&self) -> String {
        let kind = self.field("kind").unwrap_or_default().to_lowercase();
        format!("{kind}/{}", self.value["metadata"]["name"].as_str().unwrap_or_default())
    }

    /// The document as one entry of a YAML stream.
    fn stream(&self) -> String {
        let newline = if self.text.ends_with('\n') { "" } else { "\n" };
        format!("---\n{}{newline}", self.text)
    }
}

/// The file names `kubectl kustomize` reads in a folder.
const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Where a document is checked.
#[derive(Debug, PartialEq, Eq)]
enum Class {
    /// By the API server.
    Custom,
    /// Read by kustomize, which `kubectl kustomize` runs.
    Kustomize,
    /// Checked here: a core object, or data a kustomization or Application reads.
    Done,
}

/// How many documents of each `apiVersion kind` were checked.
type Seen = BTreeMap<String, usize>;

/// Where `document` is checked, or why it cannot be: a core object with k8s-openapi
/// here, a custom resource by the server, kustomize's files by kustomize; a document
/// without `apiVersion` and `kind` must be in one of `data_files`.
fn classify(document: &Document, data_files: &BTreeSet<PathBuf>) -> Result<Class, String> {
    match (document.field("apiVersion"), document.field("kind")) {
        (None, None) => {
            let read = document.file.as_ref().is_some_and(|file| data_files.contains(file));
            if read {
                Ok(Class::Done)
            } else {
                Err(format!(
                    "{}: not a Kubernetes object (no `apiVersion` and `kind`), and no kustomization or \
                     Application reads this file as data",
                    document.origin
                ))
            }
        }
        (Some("v1"), Some(kind)) => check_core(kind, &document.value)
            .map(|()| Class::Done)
            .map_err(|problem| format!("{}: {problem}", document.name())),
        // The reference CRDs hold no AppProject CRD: checked here against the fields of
        // Argo CD's `AppProjectSpec` that workergen writes.
        (Some("argoproj.io/v1alpha1"), Some("AppProject")) => check_app_project(&document.value)
            .map(|()| Class::Done)
            .map_err(|problem| format!("{}: {problem}", document.name())),
        (Some(api_version), Some(_)) if api_version.starts_with("kustomize.config.k8s.io/") => {
            let built = document
                .file
                .as_ref()
                .and_then(|file| file.file_name())
                .is_some_and(|name| {
                    KUSTOMIZATION_FILES
                        .iter()
                        .any(|kustomization| name == OsStr::new(kustomization))
                });
            if built {
                Ok(Class::Kustomize)
            } else {
                Err(format!(
                    "{}: a kustomize file that `kubectl kustomize` does not read (not a {})",
                    document.name(),
                    KUSTOMIZATION_FILES.join(" or ")
                ))
            }
        }
        (Some(_), Some(_)) => Ok(Class::Custom),
        _ => Err(format!(
            "{}: an object needs both `apiVersion` and `kind`",
            document.name()
        )),
    }
}

/// An Argo CD `AppProject` as workergen writes it: only fields of Argo CD's
/// `AppProject` type, each destination with a `namespace` and exactly one of `server`
/// and `name`, each whitelisted kind with its `group`.
fn check_app_project(value: &Json) -> Result<(), String> {
    let keys = |value: &Json, allowed: &[&str], what: &str| -> Result<(), String> {
        let map = value.as_object().ok_or(format!("`{what}` is not a map"))?;
        match map.keys().find(|key| !allowed.contains(&key.as_str())) {
            Some(key) => Err(format!("`{what}.{key}` is not a field of an AppProject")),
            None => Ok(()),
        }
    };
    keys(value, &["apiVersion", "kind", "metadata", "spec"], "")?;
    keys(&value["metadata"], &["name", "namespace", "labels"], "metadata")?;
    let spec = &value["spec"];
    keys(
        spec,
        &["description", "sourceRepos", "destinations", "clusterResourceWhitelist"],
        "spec",
    )?;
    let list = |name: &str| spec[name].as_array().cloned().unwrap_or_default();
    if list("sourceRepos").is_empty() || !list("sourceRepos").iter().all(Json::is_string) {
        return Err("`spec.sourceRepos` is not a list of repositories".into());
    }
    for destination in list("destinations") {
        keys(&destination, &["server", "name", "namespace"], "spec.destinations[]")?;
        let (server, name) = (destination.get("server"), destination.get("name"));
        if server.is_some() == name.is_some() || !destination["namespace"].is_string() {
            return Err(format!(
                "destination {destination} needs a `namespace` and one of `server` or `name`"
            ));
        }
    }
    for kind in list("clusterResourceWhitelist") {
        keys(&kind, &["group", "kind"], "spec.clusterResourceWhitelist[]")?;
        if !kind["group"].is_string() || !kind["kind"].is_string() {
            return Err(format!("whitelisted kind {kind} needs `group` and `kind`"));
        }
    }
    Ok(())
}

/// Reads a core object with its k8s-openapi type: it must deserialize and come back
/// unchanged (k8s-openapi ignores unknown fields, so a field it drops is one Kubernetes
/// does not have), and its name must be valid for its kind.
fn check_core(kind: &str, value: &Json) -> Result<(), String> {
    let dns_label = match kind {
        "Namespace" => round_trip::<Namespace>(value).map(|()| true),
        "ConfigMap" => round_trip::<ConfigMap>(value).map(|()| false),
        "Secret" => round_trip::<Secret>(value).map(|()| false),
        _ => Err(format!(
            "core kind `{kind}` has no check here (the API server serves only custom resources); \
             add its k8s-openapi type to `check_core`"
        )),
    }?;
    let name = value["metadata"]["name"].as_str().unwrap_or_default();
    let valid = if dns_label {
        is_dns_label(name)
    } else {
        is_dns_subdomain(name)
    };
    if valid {
        Ok(())
    } else {
        let rule = if dns_label {
            "a DNS label (RFC 1123)"
        } else {
            "a DNS subdomain (RFC 1123)"
        };
        Err(format!("metadata.name `{name}` is not {rule}"))
    }
}

fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(value: &Json) -> Result<(), String> {
    let typed: T = serde_json::from_value(value.clone()).map_err(|error| format!("k8s-openapi: {error}"))?;
    let back = serde_json::to_value(&typed).map_err(|error| error.to_string())?;
    let mut differences = Vec::new();
    compare(value, &back, String::new(), &mut differences);
    if differences.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "fields Kubernetes does not have or read differently: {}",
            differences.join(", ")
        ))
    }
}

/// The paths where `back` (the round trip) differs from `original`.
fn compare(original: &Json, back: &Json, path: String, differences: &mut Vec<String>) {
    match (original, back) {
        (Json::Object(original), Json::Object(back)) => {
            for (key, value) in original {
                let at = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                compare(value, back.get(key).unwrap_or(&Json::Null), at, differences);
            }
        }
        (Json::Array(original), Json::Array(back)) if original.len() == back.len() => {
            for (index, (value, read)) in original.iter().zip(back).enumerate() {
                compare(value, read, format!("{path}[{index}]"), differences);
            }
        }
        _ if original == back => {}
        _ => differences.push(format!("`{path}` ({original} read as {back})")),
    }
}

/// The files kustomizations and Argo CD Applications among `documents` read as data:
/// kustomize `configurations` and generator `files`/`envs`, relative to their
/// kustomization, and `$values/...` Helm value files, relative to `repo`. Canonical paths.
fn data_files(documents: &[Document], repo: &Path) -> BTreeSet<PathBuf> {
    let mut files = BTreeSet::new();
    for document in documents {
        let Some(file) = &document.file else { continue };
        let folder = file.parent().unwrap();
        let value = &document.value;
        let strings = |value: &Json| -> Vec<String> {
            value
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Json::as_str)
                .map(str::to_string)
                .collect()
        };
        let mut read: Vec<PathBuf> = Vec::new();
        if document
            .field("apiVersion")
            .is_some_and(|version| version.starts_with("kustomize.config.k8s.io/"))
        {
            read.extend(strings(&value["configurations"]).iter().map(|path| folder.join(path)));
            for generator in ["configMapGenerator", "secretGenerator"] {
                for entry in value[generator].as_array().into_iter().flatten() {
                    for path in strings(&entry["files"]).iter().chain(&strings(&entry["envs"])) {
                        let path = path.split_once('=').map_or(path.as_str(), |(_, path)| path);
                        read.push(folder.join(path));
                    }
                }
            }
        }
        if document.field("kind") == Some("Application") {
            let spec = &value["spec"];
            let sources = spec["sources"]
                .as_array()
                .into_iter()
                .flatten()
                .chain([&spec["source"]]);
            for source in sources {
                let value_files = strings(&source["helm"]["valueFiles"]);
                read.extend(
                    value_files
                        .iter()
                        .filter_map(|path| path.strip_prefix("$values/"))
                        .map(|path| repo.join(path)),
                );
            }
        }
        files.extend(read.iter().filter_map(|path| fs::canonicalize(path).ok()));
    }
    files
}

/// Every `.yaml`/`.yml` file under `folder`, and every folder with a kustomization.
fn walk(folder: &Path, files: &mut Vec<PathBuf>, kustomizations: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, files, kustomizations);
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy();
        if KUSTOMIZATION_FILES.contains(&name.as_ref()) {
            kustomizations.push(folder.to_path_buf());
        }
        if name.ends_with(".yaml") || name.ends_with(".yml") {
            files.push(path);
        }
    }
}

/// `kubectl kustomize <folder>`'s documents, or its error.
fn kustomize(folder: &Path, origin: &str) -> Result<Vec<Document>, String> {
    let output = Command::new("kubectl")
        .arg("kustomize")
        .arg(folder)
        .output()
        .expect("kubectl is installed");
    if !output.status.success() {
        return Err(format!(
            "{origin} failed:\n  {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Document::parse_all(origin, None, &String::from_utf8_lossy(&output.stdout))
}

/// Every document workergen renders in `repo`, whose rendered tree is `repo/rendered`:
/// each file of the tree, `kubectl kustomize` of each folder with a kustomization, and
/// `workergen render --stdout`. Problems reading them are added to `problems`.
fn rendered_documents(repo: &Path, problems: &mut Vec<String>) -> Vec<Document> {
    let root = repo.join("rendered");
    let (mut files, mut kustomizations) = (Vec::new(), Vec::new());
    walk(&root, &mut files, &mut kustomizations);
    assert!(!files.is_empty(), "nothing rendered in {}", root.display());
    let mut documents = Vec::new();
    let mut add = |read: Result<Vec<Document>, String>| match read {
        Ok(read) => documents.extend(read),
        Err(problem) => problems.push(problem),
    };
    for file in &files {
        let relative = file.strip_prefix(repo).unwrap().display().to_string();
        let canonical = fs::canonicalize(file).unwrap();
        add(Document::parse_all(
            &relative,
            Some(&canonical),
            &fs::read_to_string(file).unwrap(),
        ));
    }
    for folder in &kustomizations {
        let origin = format!("kubectl kustomize {}", folder.strip_prefix(repo).unwrap().display());
        add(kustomize(folder, &origin));
    }
    let run = workergen(repo, &["render", "--stdout"]);
    if run.code == 0 {
        add(Document::parse_all("workergen render --stdout", None, &run.stdout));
    } else {
        problems.push(format!(
            "workergen render --stdout exited {}:\n{}",
            run.code, run.stderr
        ));
    }
    documents
}

/// Checks every document workergen renders in `repo` (see [`rendered_documents`]) where
/// it would be applied; returns what was checked, or every problem.
fn check_rendered(server: &ApiServer, repo: &Path) -> Result<Seen, Vec<String>> {
    let mut problems = Vec::new();
    let documents = rendered_documents(repo, &mut problems);
    let data = data_files(&documents, repo);
    let mut seen = Seen::new();
    let mut custom = Vec::new();
    for document in &documents {
        match classify(document, &data) {
            Ok(class) => {
                if class == Class::Custom {
                    custom.push(document);
                }
                let kind = match (document.field("apiVersion"), document.field("kind")) {
                    (Some(api_version), Some(kind)) => format!("{api_version} {kind}"),
                    _ => "(data)".to_string(),
                };
                *seen.entry(kind).or_default() += 1;
            }
            Err(problem) => problems.push(problem),
        }
    }
    problems.extend(server.dry_run_all(&custom));
    if problems.is_empty() {
        Ok(seen)
    } else {
        Err(problems)
    }
}

/// Asserts that the rendered example in `repo` passes, and that the check saw at
/// least `kinds` (so that it cannot pass by checking nothing).
fn assert_accepted(server: &ApiServer, repo: &Path, engine: &str, kinds: &[&str]) {
    let seen = check_rendered(server, repo).unwrap_or_else(|problems| panic!("{engine}:\n{}", problems.join("\n")));
    eprintln!("{engine}: checked {seen:#?}");
    for kind in kinds {
        assert!(seen.contains_key(*kind), "{engine}: no `{kind}` was checked: {seen:#?}");
    }
}

#[test]
fn every_rendered_flux_object_is_accepted_by_the_api_server() {
    let Some(server) = shared_server() else { return };
    // The committed tree is the Flux render (`the_committed_example_tree_is_a_fresh_render`).
    assert_accepted(
        server,
        &example_repo(),
        "flux",
        &[
            "helm.toolkit.fluxcd.io/v2 HelmRelease",
            "source.toolkit.fluxcd.io/v1 OCIRepository",
            "kustomize.toolkit.fluxcd.io/v1 Kustomization",
            "v1 ConfigMap",
            "kustomize.config.k8s.io/v1beta1 Kustomization",
            "(data)",
        ],
    );
}

#[test]
fn every_rendered_argocd_object_is_accepted_by_the_api_server() {
    let Some(server) = shared_server() else { return };
    let repo = tempfile::tempdir().unwrap();
    copy_config(&example_repo(), repo.path());
    replace_once(
        &repo.path().join("workergen.yaml"),
        "  engine: flux\n",
        "  engine: argocd\n",
    );
    let run = workergen(repo.path(), &["render"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_accepted(
        server,
        repo.path(),
        "argocd",
        &[
            "argoproj.io/v1alpha1 Application",
            "argoproj.io/v1alpha1 AppProject",
            "kustomize.config.k8s.io/v1beta1 Kustomization",
            "(data)",
        ],
    );
}

// The checks fail where they should.

/// A file of the committed (Flux) example tree with the one `from` replaced by `to`.
fn edited(file: &str, from: &str, to: &str) -> String {
    let text = fs::read_to_string(example_repo().join("rendered").join(file)).unwrap();
    assert_eq!(text.matches(from).count(), 1, "`{from}` should occur once in {file}");
    text.replacen(from, to, 1)
}

/// An ExternalSecret as DESIGN section 12 has workergen write one: the worker's bearer
/// token Secret, in its namespace, from a ClusterSecretStore.
const EXTERNAL_SECRET: &str = "\
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: octopus-worker-token
  namespace: octopus-agent-deploy
spec:
  refreshInterval: 1h
  secretStoreRef:
    kind: ClusterSecretStore
    name: octopus
  target:
    name: octopus-worker-token
  data:
    - secretKey: bearer-token
      remoteRef:
        key: octopus/production/worker-token
";

fn external_secret(from: &str, to: &str) -> String {
    assert_eq!(EXTERNAL_SECRET.matches(from).count(), 1, "`{from}` once");
    EXTERNAL_SECRET.replacen(from, to, 1)
}

#[test]
fn the_api_server_accepts_an_external_secret_and_rejects_broken_objects() {
    let Some(server) = shared_server() else { return };
    let release = "production/eu-west-1/deploy/helmrelease.yaml";
    let repository = "_flux/prod-eu-west-1.k8s.example.com/ocirepository-kubernetes-agent-3-13-2.yaml";
    assert_eq!(
        server.dry_run(EXTERNAL_SECRET),
        Ok(vec![
            "externalsecret.external-secrets.io/octopus-worker-token".to_string()
        ])
    );
    let cases = [
        (
            "a wrong-typed field (schema)",
            edited(release, "  releaseName: deploy\n", "  releaseName: deploy\n  maxHistory: many\n"),
            ".spec.maxHistory: expected numeric (int or float), got string",
        ),
        (
            "an interval that is no duration (pattern)",
            edited(release, "interval: \"10m\"", "interval: \"10 minutes\""),
            "spec.interval in body should match '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$'",
        ),
        (
            "neither chart nor chartRef (a CEL rule)",
            edited(release, "  chartRef:\n    kind: OCIRepository\n    name: kubernetes-agent-3-13-2\n", ""),
            "The HelmRelease \"deploy\" is invalid: spec: Invalid value: either chart or chartRef must be set",
        ),
        (
            "an unknown field (strict field validation)",
            edited(release, "  releaseName: deploy\n", "  releaseName: deploy\n  releaseNmae: deploy\n"),
            ".spec.releaseNmae: field not declared in schema",
        ),
        (
            "an OCIRepository url that is not oci:// (pattern)",
            edited(repository, "url: oci://", "url: https://"),
            "spec.url in body should match '^oci://.*$'",
        ),
        (
            "an ExternalSecret store of an unknown kind (enum)",
            external_secret("kind: ClusterSecretStore", "kind: Vault"),
            "spec.secretStoreRef.kind: Unsupported value: \"Vault\": supported values: \"SecretStore\", \"ClusterSecretStore\"",
        ),
        (
            "an ExternalSecret remote ref without a key (required)",
            external_secret("        key: octopus", "        property: octopus"),
            "The ExternalSecret \"octopus-worker-token\" is invalid: spec.data[0].remoteRef.key: Required value",
        ),
        (
            "an ExternalSecret secret key with a space (pattern)",
            external_secret("secretKey: bearer-token", "secretKey: bearer token"),
            "spec.data[0].secretKey in body should match '^[-._a-zA-Z0-9]+$'",
        ),
        (
            "a kind no CRD defines",
            "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: widget\n".to_string(),
            "no matches for kind \"Widget\" in version \"example.com/v1\"",
        ),
    ];
    for (what, text, message) in cases {
        match server.dry_run(&text) {
            Ok(applied) => panic!("{what}: the API server accepted {applied:?}:\n{text}"),
            Err(error) => assert!(error.contains(message), "{what}: expected `{message}` in:\n{error}"),
        }
    }
}

#[test]
fn a_broken_rendered_object_or_a_stray_document_fails_the_check_naming_its_file() {
    let Some(server) = shared_server() else { return };
    let repo = tempfile::tempdir().unwrap();
    copy_config(&example_repo(), repo.path());
    copy_dir(&example_repo().join("rendered"), &repo.path().join("rendered"));
    let broken = "rendered/production/eu-west-1/deploy/helmrelease.yaml";
    replace_once(
        &repo.path().join(broken),
        "  releaseName: deploy\n",
        "  releaseName: deploy\n  maxHistory: many\n",
    );
    fs::write(repo.path().join("rendered/production/notes.yaml"), "owner: platform\n").unwrap();
    let problems = check_rendered(server, repo.path()).expect_err("a broken tree passed");
    let rejected = "HelmRelease flux-system/deploy: the API server rejects it:\n  \
                    Error from server: failed to create typed patch object (flux-system/deploy; \
                    helm.toolkit.fluxcd.io/v2, Kind=HelmRelease): .spec.maxHistory: \
                    expected numeric (int or float), got string";
    // The other clusters' `deploy` HelmReleases are fine: three problems, no more.
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert_eq!(
        problems[0],
        "rendered/production/notes.yaml: not a Kubernetes object (no `apiVersion` and `kind`), and no \
         kustomization or Application reads this file as data"
    );
    assert_eq!(problems[1], format!("{broken}: {rejected}"));
    let kustomized = problems[2]
        .strip_prefix("kubectl kustomize rendered/production/eu-west-1 (document ")
        .and_then(|rest| rest.split_once("): "));
    assert_eq!(
        kustomized.map(|(_, problem)| problem),
        Some(rejected),
        "{}",
        problems[2]
    );
}

/// Maps of short keys and values: plain, quoted, or a block scalar.
fn yaml_maps() -> impl proptest::strategy::Strategy<Value = Vec<BTreeMap<String, String>>> {
    use proptest::prelude::*;
    let value = prop_oneof!["[a-z0-9]{1,8}", "[ -~]{0,12}", "(---|#)[ a-z]{0,6}"];
    proptest::collection::vec(
        proptest::collection::btree_map("[a-z][a-z0-9-]{0,8}", value, 1..4),
        0..5,
    )
}

/// Writes `maps` as one stream the ways rendered files and kubectl write them: a
/// leading `---` or none, comments, `--- ` with content, values quoted or as blocks.
fn yaml_stream(maps: &[BTreeMap<String, String>], leading: bool) -> String {
    let mut stream = String::from(if leading { "---\n# a comment\n" } else { "" });
    for (index, map) in maps.iter().enumerate() {
        if index > 0 {
            stream.push_str(if index % 2 == 0 { "---\n" } else { "--- " });
        }
        for (key, value) in map {
            let quoted = serde_json::to_string(value).unwrap();
            if value.chars().all(|c| c.is_ascii_alphanumeric()) {
                stream.push_str(&format!("{key}: {quoted}\n"));
            } else if value.trim() == value && !value.is_empty() {
                stream.push_str(&format!("{key}: |-\n  {value}\n"));
            } else {
                stream.push_str(&format!("{key}: {quoted}\n"));
            }
        }
    }
    stream
}

#[test]
fn property_every_document_of_a_stream_is_read_once_with_its_data() {
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let config = Config {
        cases: 256,
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::ChaCha,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let result = runner.run(&(yaml_maps(), proptest::bool::ANY), |(maps, leading)| {
        let stream = yaml_stream(&maps, leading);
        let documents = Document::parse_all("stream", None, &stream)
            .map_err(|error| proptest::test_runner::TestCaseError::fail(format!("{error}\n{stream}")))?;
        let read: Vec<Json> = documents.iter().map(|document| document.value.clone()).collect();
        let written: Vec<Json> = maps.iter().map(|map| serde_json::to_value(map).unwrap()).collect();
        proptest::prop_assert_eq!(read, written, "{}", stream);
        // Each document, written again as one stream, reads back alone.
        for document in &documents {
            let again = Document::parse_all("again", None, &document.stream()).unwrap();
            proptest::prop_assert_eq!(&again[0].value, &document.value);
        }
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}

/// A document of `text`, as if it were the file `file`.
fn document(text: &str, file: Option<&Path>) -> Document {
    let mut documents = Document::parse_all("test.yaml", file, text).unwrap();
    assert_eq!(documents.len(), 1);
    documents.remove(0)
}

#[test]
fn core_objects_are_read_with_k8s_openapi_and_unknown_kinds_fields_and_names_fail() {
    let no_data = BTreeSet::new();
    let namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: octopus-agent-deploy\n  labels:\n    app.kubernetes.io/managed-by: workergen\n";
    assert_eq!(classify(&document(namespace, None), &no_data), Ok(Class::Done));
    let config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deploy-values-abc\n  namespace: flux-system\ndata:\n  values.yaml: |\n    a: 1\n";
    assert_eq!(classify(&document(config_map, None), &no_data), Ok(Class::Done));
    let custom = "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: a\n";
    assert_eq!(classify(&document(custom, None), &no_data), Ok(Class::Custom));
    // Not core `v1`: the API server's "no matches for kind" rejects it.
    let other_version = namespace.replace("apiVersion: v1\n", "apiVersion: v2\n");
    assert_eq!(classify(&document(&other_version, None), &no_data), Ok(Class::Custom));
    let kustomization = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n";
    let built = Path::new("/rendered/production/eu-west-1/kustomization.yaml");
    assert_eq!(
        classify(&document(kustomization, Some(built)), &no_data),
        Ok(Class::Kustomize)
    );
    let unread = Path::new("/rendered/production/eu-west-1/extra.yaml");
    let problem = classify(&document(kustomization, Some(unread)), &no_data).unwrap_err();
    assert!(
        problem.contains("a kustomize file that `kubectl kustomize` does not read"),
        "{problem}"
    );
    let cases = [
        (
            format!("{namespace}spec:\n  finalizer: [kubernetes]\n"),
            "test.yaml: Namespace octopus-agent-deploy: fields Kubernetes does not have or read differently: `spec.finalizer` ([\"kubernetes\"] read as null)",
        ),
        (
            namespace.replace("name: octopus-agent-deploy", "name: Octopus_Agent"),
            "metadata.name `Octopus_Agent` is not a DNS label (RFC 1123)",
        ),
        (
            config_map.replace("values.yaml: |\n    a: 1\n", "retries: 3\n"),
            "k8s-openapi: invalid type: integer `3`, expected a string",
        ),
        (
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\ndata:\n  bearer-token: not base64!\n".to_string(),
            "test.yaml: Secret token: k8s-openapi:",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: pod\n".to_string(),
            "core kind `Pod` has no check here",
        ),
        (
            "apiVersion: v1\nmetadata:\n  name: a\n".to_string(),
            "test.yaml: (no kind) a: an object needs both `apiVersion` and `kind`",
        ),
        (
            "agent:\n  acceptEula: \"Y\"\n".to_string(),
            "test.yaml: not a Kubernetes object (no `apiVersion` and `kind`), and no kustomization or Application reads this file as data",
        ),
    ];
    for (text, message) in cases {
        let problem = classify(&document(&text, None), &no_data).expect_err(&text);
        assert!(problem.contains(message), "expected `{message}` in:\n{problem}");
    }
}

#[test]
fn a_document_that_is_no_object_passes_only_in_a_file_read_as_data() {
    let repo = tempfile::tempdir().unwrap();
    let cluster = repo.path().join("rendered/production/eu-west-1");
    fs::create_dir_all(cluster.join("deploy")).unwrap();
    let write = |path: &str, text: &str| {
        let path = cluster.join(path);
        fs::write(&path, text).unwrap();
        fs::canonicalize(path).unwrap()
    };
    let values = write("deploy/values.yaml", "agent:\n  acceptEula: \"Y\"\n");
    let config = write("kustomizeconfig.yaml", "nameReference: []\n");
    let stray = write("deploy/notes.yaml", "owner: platform\n");
    let env_file = write("deploy/settings.env", "A=1\n");
    let kustomization = write(
        "kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nconfigurations:\n  - kustomizeconfig.yaml\n\
         configMapGenerator:\n  - name: deploy-values\n    files:\n      - values.yaml=deploy/values.yaml\n    envs:\n      - deploy/settings.env\n",
    );
    let application = write(
        "deploy/application.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: a\nspec:\n  sources:\n    - helm:\n        valueFiles:\n          - $values/rendered/production/eu-west-1/deploy/notes.yaml\n",
    );
    let read = |file: &Path| document(&fs::read_to_string(file).unwrap(), Some(file));
    let only_kustomization = data_files(&[read(&kustomization)], repo.path());
    assert_eq!(
        only_kustomization,
        BTreeSet::from([values.clone(), config.clone(), env_file.clone()])
    );
    assert_eq!(classify(&read(&values), &only_kustomization), Ok(Class::Done));
    assert!(
        classify(&read(&stray), &only_kustomization).is_err(),
        "no one reads notes.yaml"
    );
    let both = data_files(&[read(&kustomization), read(&application)], repo.path());
    assert_eq!(both, BTreeSet::from([values, config, env_file, stray.clone()]));
    assert_eq!(
        classify(&read(&stray), &both),
        Ok(Class::Done),
        "an Application's value file"
    );
}

#[test]
fn a_server_stops_when_its_guard_drops_even_in_a_panic() {
    let Some(script) = tool("crd-apiserver-env.sh") else {
        return;
    };
    let started = Instant::now();
    let server = ApiServer::start(script.parent().unwrap()).unwrap();
    eprintln!("a server without CRDs: ready in {} ms", started.elapsed().as_millis());
    let output = server.kubectl(["get", "customresourcedefinitions", "-o", "name"], "");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let pids = server.pids();
    assert_eq!(pids.len(), 2, "etcd and the server");
    assert!(pids.iter().all(|pid| process_alive(*pid)));
    let base_dir = server.base_dir.clone();
    let stopping = Instant::now();
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _server = server;
        panic!("a test failing while it holds a server (this panic is expected)");
    }));
    assert!(unwound.is_err());
    eprintln!("stopped in {} ms", stopping.elapsed().as_millis());
    for pid in pids {
        assert!(!process_alive(pid), "process {pid} still runs");
    }
    assert!(!base_dir.exists(), "{} is left behind", base_dir.display());
}
