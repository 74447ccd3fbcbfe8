//! `workergen chart pull` against a real OCI registry (CNCF Distribution, from
//! `WORKERGEN_TEST_TOOLS`) that real Helm pushed the reference charts into: plain HTTP,
//! TLS with a private CA, TLS with basic auth from the registry config `helm registry
//! login` wrote; digests refused when the registry's bytes change; a second pull and
//! `validate` work with the registry stopped. Without the tools these tests print why and
//! pass.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{copy_config, example_repo, reference_chart, replace_once, tool, workergen_env, Run};

/// A registry of `registry-env.sh`, stopped when dropped.
struct Registry {
    script: PathBuf,
    run: tempfile::TempDir,
    host: String,
    ca: Option<PathBuf>,
    login: Option<(String, String)>,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(&self.script)
            .arg("stop")
            .arg(self.run.path().join("registry"))
            .status();
    }
}

impl Registry {
    fn start(mode: &str) -> Option<Self> {
        let script = tool("registry-env.sh")?;
        let bin = script.parent().unwrap().to_path_buf();
        let run = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let output = Command::new("bash")
            .arg(&script)
            .arg("start")
            .arg(&bin)
            .arg(run.path().join("registry"))
            .arg(mode)
            .env("PORT", port.to_string())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "registry-env.sh: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let env = fs::read_to_string(run.path().join("registry/env")).unwrap();
        let value = |name: &str| {
            env.lines()
                .find_map(|line| line.strip_prefix(&format!("{name}=")))
                .map(str::to_string)
        };
        let login = value("REGISTRY_USER").zip(value("REGISTRY_PASSWORD"));
        Some(Self {
            host: value("REGISTRY").unwrap(),
            ca: value("REGISTRY_CA").map(PathBuf::from),
            login,
            script,
            run,
        })
    }

    fn stop(&self) {
        let status = Command::new("bash")
            .arg(&self.script)
            .arg("stop")
            .arg(self.run.path().join("registry"))
            .status();
        assert!(status.unwrap().success());
    }

    /// Helm's own homes and registry config, inside the run folder.
    fn helm_config(&self) -> PathBuf {
        self.run.path().join("helm/registry.json")
    }

    fn helm(&self, args: &[&str]) -> String {
        let mut command = Command::new(tool("helm").unwrap());
        let home = self.run.path().join("helm");
        command
            .args(args)
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_DATA_HOME", home.join("data"))
            .env("HELM_REGISTRY_CONFIG", self.helm_config());
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "helm {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Packages `chart` (a chart folder) and pushes it; returns the packaged bytes.
    fn push(&self, chart: &Path) -> Vec<u8> {
        let package = self.run.path().join("pkg");
        self.helm(&["package", chart.to_str().unwrap(), "-d", package.to_str().unwrap()]);
        let version = fs::read_to_string(chart.join("Chart.yaml"))
            .unwrap()
            .lines()
            .find_map(|line| {
                line.strip_prefix("version: ")
                    .map(|v| v.trim().trim_matches('"').to_string())
            })
            .unwrap();
        let tgz = package.join(format!("kubernetes-agent-{version}.tgz"));
        let target = format!("oci://{}/octopusdeploy", self.host);
        let mut args = vec!["push", tgz.to_str().unwrap(), target.as_str()];
        let ca = self.ca.as_ref().map(|ca| ca.to_str().unwrap().to_string());
        match &ca {
            Some(ca) => args.extend(["--ca-file", ca.as_str()]),
            None => args.push("--plain-http"),
        }
        self.helm(&args);
        fs::read(tgz).unwrap()
    }

    /// `helm registry login`, which writes [`Self::helm_config`].
    fn login(&self) {
        let (user, password) = self.login.clone().unwrap();
        let home = self.run.path().join("helm");
        let mut child = Command::new(tool("helm").unwrap())
            .args([
                "registry",
                "login",
                &self.host,
                "-u",
                &user,
                "--password-stdin",
                "--ca-file",
            ])
            .arg(self.ca.as_ref().unwrap())
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_REGISTRY_CONFIG", self.helm_config())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        child.stdin.take().unwrap().write_all(password.as_bytes()).unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "helm registry login: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// The example fleet with `chart.repository` at `registry`, in a new folder.
fn config_repo(registry: &Registry) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_config(&example_repo(), dir.path());
    replace_once(
        &dir.path().join("workergen.yaml"),
        "oci://registry-1.docker.io/octopusdeploy",
        &format!("oci://{}/octopusdeploy", registry.host),
    );
    dir
}

/// `workergen <args>` with a home of its own (no user's registry config), plus `vars`.
fn run(dir: &Path, args: &[&str], vars: &[(&str, &Path)]) -> Run {
    let home = dir.join(".home");
    fs::create_dir_all(&home).unwrap();
    let mut envs: Vec<(String, PathBuf)> = vec![
        ("HOME".into(), home.clone()),
        ("DOCKER_CONFIG".into(), home.join("docker")),
        ("HELM_REGISTRY_CONFIG".into(), home.join("helm.json")),
    ];
    for (name, value) in vars {
        envs.retain(|(n, _)| n != name);
        envs.push(((*name).to_string(), value.to_path_buf()));
    }
    workergen_env(dir, args, envs)
}

fn sha256(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    format!(
        "sha256:{}",
        digest.as_ref().iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

fn vendored(dir: &Path, version: &str) -> PathBuf {
    dir.join(format!("charts/kubernetes-agent-{version}.tgz"))
}

#[test]
fn plain_pull_vendors_the_layer_bytes_and_locks_them_idempotently_and_offline() {
    let (Some(registry), Some(chart_13), Some(chart_8)) = (
        Registry::start("plain"),
        reference_chart("3.13.2"),
        reference_chart("3.8.0"),
    ) else {
        return;
    };
    let pushed_13 = registry.push(&chart_13);
    let pushed_8 = registry.push(&chart_8);
    let repo = config_repo(&registry);
    let dir = repo.path();

    let pulled = run(dir, &["chart", "pull", "--plain-http"], &[]);
    assert_eq!(pulled.code, 0, "{}", pulled.stderr);
    assert_eq!(
        fs::read(vendored(dir, "3.13.2")).unwrap(),
        pushed_13,
        "the exact layer bytes"
    );
    let lock = fs::read_to_string(dir.join("workergen.lock")).unwrap();
    assert!(lock.contains(&format!("layer: {}", sha256(&pushed_13))), "{lock}");

    let traversal = run(dir, &["chart", "pull", "--plain-http", "../../3.8.0"], &[]);
    assert_eq!(traversal.code, 2, "{}", traversal.stderr);
    assert!(
        traversal.stderr.contains("is not a chart version"),
        "{}",
        traversal.stderr
    );

    // A version the registry lacks fails the pull, and the one before it stays locked.
    let missing = run(dir, &["chart", "pull", "--plain-http", "3.8.0", "9.9.9"], &[]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(
        missing
            .stderr
            .contains("has no `octopusdeploy/kubernetes-agent:9.9.9` (HTTP 404"),
        "{}",
        missing.stderr
    );
    let named = run(dir, &["chart", "pull", "--plain-http", "3.8.0"], &[]);
    assert_eq!(named.code, 0, "{}", named.stderr);
    assert!(named.stderr.contains("matches workergen.lock"), "{}", named.stderr);
    assert_eq!(fs::read(vendored(dir, "3.8.0")).unwrap(), pushed_8);
    let lock = fs::read_to_string(dir.join("workergen.lock")).unwrap();
    let versions: Vec<&str> = lock
        .lines()
        .filter_map(|line| line.strip_prefix("    version: "))
        .collect();
    assert_eq!(versions, ["\"3.8.0\"", "\"3.13.2\""], "SemVer order:\n{lock}");

    // Idempotent: nothing rewritten, the lock byte for byte the same.
    let modified = fs::metadata(vendored(dir, "3.13.2")).unwrap().modified().unwrap();
    let again = run(dir, &["chart", "pull", "--plain-http", "3.8.0", "3.13.2"], &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stderr.contains("matches workergen.lock"), "{}", again.stderr);
    assert_eq!(fs::read_to_string(dir.join("workergen.lock")).unwrap(), lock);
    assert_eq!(
        fs::metadata(vendored(dir, "3.13.2")).unwrap().modified().unwrap(),
        modified
    );

    // Offline: the registry gone, a pull of what is vendored and `validate` still pass.
    registry.stop();
    let offline = run(dir, &["chart", "pull", "--plain-http"], &[]);
    assert_eq!(offline.code, 0, "{}", offline.stderr);
    let validate = run(dir, &["validate"], &[]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);

    // Vendored bytes that are not the locked ones: `validate` refuses, naming the fix.
    let mut bytes = pushed_13.clone();
    bytes[100] ^= 1;
    fs::write(vendored(dir, "3.13.2"), bytes).unwrap();
    let tampered = run(dir, &["validate"], &[]);
    assert_eq!(tampered.code, 2, "{}", tampered.stderr);
    assert!(
        tampered.stderr.contains("workergen chart pull 3.13.2"),
        "{}",
        tampered.stderr
    );
}

#[test]
fn tls_with_a_private_ca_needs_ssl_cert_file() {
    let (Some(registry), Some(chart)) = (Registry::start("tls"), reference_chart("3.13.2")) else {
        return;
    };
    let pushed = registry.push(&chart);
    let repo = config_repo(&registry);
    let dir = repo.path();
    let untrusted = run(dir, &["chart", "pull"], &[]);
    assert_eq!(untrusted.code, 3, "{}", untrusted.stderr);
    assert!(!vendored(dir, "3.13.2").exists());
    let ca = registry.ca.clone().unwrap();
    let pulled = run(dir, &["chart", "pull"], &[("SSL_CERT_FILE", &ca)]);
    assert_eq!(pulled.code, 0, "{}", pulled.stderr);
    assert_eq!(fs::read(vendored(dir, "3.13.2")).unwrap(), pushed);
    let refused = run(
        dir,
        &["chart", "pull", "--plain-http", "3.8.0"],
        &[("SSL_CERT_FILE", &ca)],
    );
    assert_ne!(refused.code, 0, "plain HTTP against a TLS registry fails");
}

#[test]
fn tls_auth_reads_the_credentials_helm_registry_login_wrote() {
    let (Some(registry), Some(chart)) = (Registry::start("tls-auth"), reference_chart("3.13.2")) else {
        return;
    };
    registry.login();
    let pushed = registry.push(&chart);
    let repo = config_repo(&registry);
    let dir = repo.path();
    let ca = registry.ca.clone().unwrap();
    let anonymous = run(dir, &["chart", "pull"], &[("SSL_CERT_FILE", &ca)]);
    assert_eq!(anonymous.code, 2, "{}", anonymous.stderr);
    assert!(anonymous.stderr.contains("helm registry login"), "{}", anonymous.stderr);
    let config = registry.helm_config();
    let pulled = run(
        dir,
        &["chart", "pull"],
        &[("SSL_CERT_FILE", &ca), ("HELM_REGISTRY_CONFIG", &config)],
    );
    assert_eq!(pulled.code, 0, "{}", pulled.stderr);
    assert_eq!(fs::read(vendored(dir, "3.13.2")).unwrap(), pushed);
    // The same file as Docker's config: `DOCKER_CONFIG` names its folder.
    fs::remove_file(vendored(dir, "3.13.2")).unwrap();
    let docker = dir.join(".docker");
    fs::create_dir_all(&docker).unwrap();
    fs::copy(&config, docker.join("config.json")).unwrap();
    let from_docker = run(
        dir,
        &["chart", "pull"],
        &[("SSL_CERT_FILE", &ca), ("DOCKER_CONFIG", &docker)],
    );
    assert_eq!(from_docker.code, 0, "{}", from_docker.stderr);
}

#[test]
fn a_registry_answering_other_bytes_for_a_locked_version_is_refused() {
    let (Some(registry), Some(chart)) = (Registry::start("plain"), reference_chart("3.13.2")) else {
        return;
    };
    registry.push(&chart);
    let repo = config_repo(&registry);
    let dir = repo.path();
    assert_eq!(run(dir, &["chart", "pull", "--plain-http"], &[]).code, 0);
    let lock = fs::read_to_string(dir.join("workergen.lock")).unwrap();

    // The tag moved: the same version pushed again with other bytes.
    let changed = tempfile::tempdir().unwrap();
    crate::util::copy_dir(&chart, changed.path());
    fs::write(changed.path().join("README.md"), "changed after locking\n").unwrap();
    registry.push(changed.path());
    fs::remove_file(vendored(dir, "3.13.2")).unwrap();
    let moved = run(dir, &["chart", "pull", "--plain-http"], &[]);
    assert_eq!(moved.code, 2, "{}", moved.stderr);
    assert!(moved.stderr.contains("workergen.lock locks"), "{}", moved.stderr);
    assert!(!vendored(dir, "3.13.2").exists(), "nothing written");
    assert_eq!(fs::read_to_string(dir.join("workergen.lock")).unwrap(), lock);

    // A blob changed in the registry's storage: its bytes no longer hash to the manifest's digest.
    fs::remove_file(dir.join("workergen.lock")).unwrap();
    let blobs = registry
        .run
        .path()
        .join("registry/data/docker/registry/v2/blobs/sha256");
    let mut corrupted = 0;
    for prefix in fs::read_dir(&blobs).unwrap() {
        for blob in fs::read_dir(prefix.unwrap().path()).unwrap() {
            let data = blob.unwrap().path().join("data");
            let bytes = fs::read(&data).unwrap();
            if bytes.starts_with(&[0x1f, 0x8b]) {
                let mut changed = bytes.clone();
                let last = changed.len() - 1;
                changed[last] ^= 1;
                fs::write(&data, changed).unwrap();
                corrupted += 1;
            }
        }
    }
    assert!(corrupted > 0);
    let broken = run(dir, &["chart", "pull", "--plain-http"], &[]);
    assert_eq!(broken.code, 2, "{}", broken.stderr);
    assert!(broken.stderr.contains("not the manifest's"), "{}", broken.stderr);
    assert!(!vendored(dir, "3.13.2").exists(), "nothing written");
}

/// A token server and registry front of the test's own on 127.0.0.1, as Docker Hub
/// answers: `401` with a `Bearer` challenge unless the request carries the token its
/// `/token` endpoint hands out (anonymously), else the real registry's answer.
struct TokenFront {
    server: std::sync::Arc<tiny_http::Server>,
    port: u16,
    /// The query strings `/token` was asked with.
    token_queries: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Drop for TokenFront {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

const TOKEN: &str = "anonymous-pull-token";

impl TokenFront {
    fn start(registry: &str) -> Self {
        let server = std::sync::Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = server.server_addr().to_ip().unwrap().port();
        let token_queries = std::sync::Arc::default();
        let (thread_server, queries, upstream) = (
            std::sync::Arc::clone(&server),
            std::sync::Arc::clone(&token_queries),
            format!("http://{registry}"),
        );
        std::thread::spawn(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .build()
                .new_agent();
            while let Ok(request) = thread_server.recv() {
                Self::answer(request, port, &agent, &upstream, &queries);
            }
        });
        Self {
            server,
            port,
            token_queries,
        }
    }

    fn answer(
        request: tiny_http::Request,
        port: u16,
        agent: &ureq::Agent,
        upstream: &str,
        queries: &std::sync::Mutex<Vec<String>>,
    ) {
        let header = |name: &str| {
            request
                .headers()
                .iter()
                .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
                .map(|h| h.value.as_str().to_string())
        };
        let url = request.url().to_string();
        if let Some(query) = url.strip_prefix("/token?") {
            queries.lock().unwrap().push(query.to_string());
            let body = format!(r#"{{"token":"{TOKEN}","expires_in":300}}"#);
            let _ = request.respond(tiny_http::Response::from_string(body));
            return;
        }
        if header("Authorization").as_deref() != Some(&format!("Bearer {TOKEN}")) {
            let challenge = format!(
                r#"Bearer realm="http://127.0.0.1:{port}/token",service="test-registry",scope="repository:octopusdeploy/kubernetes-agent:pull""#
            );
            let response = tiny_http::Response::from_string("{}")
                .with_status_code(401)
                .with_header(tiny_http::Header::from_bytes("WWW-Authenticate", challenge.as_bytes()).unwrap());
            let _ = request.respond(response);
            return;
        }
        let mut forwarded = agent.get(format!("{upstream}{url}"));
        if let Some(accept) = header("Accept") {
            forwarded = forwarded.header("Accept", accept);
        }
        let mut answer = forwarded.call().unwrap();
        let digest = answer
            .headers()
            .get("docker-content-digest")
            .map(|v| v.to_str().unwrap().to_string());
        let body = answer.body_mut().read_to_vec().unwrap();
        let mut response = tiny_http::Response::from_data(body).with_status_code(answer.status().as_u16());
        if let Some(digest) = digest {
            response = response
                .with_header(tiny_http::Header::from_bytes("Docker-Content-Digest", digest.as_bytes()).unwrap());
        }
        let _ = request.respond(response);
    }
}

#[test]
fn the_anonymous_token_flow_gets_a_pull_token_from_the_realm() {
    let (Some(registry), Some(chart)) = (Registry::start("plain"), reference_chart("3.13.2")) else {
        return;
    };
    let pushed = registry.push(&chart);
    let front = TokenFront::start(&registry.host);
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    copy_config(&example_repo(), dir);
    replace_once(
        &dir.join("workergen.yaml"),
        "oci://registry-1.docker.io/octopusdeploy",
        &format!("oci://127.0.0.1:{}/octopusdeploy", front.port),
    );
    let pulled = run(dir, &["chart", "pull", "--plain-http"], &[]);
    assert_eq!(pulled.code, 0, "{}", pulled.stderr);
    assert_eq!(fs::read(vendored(dir, "3.13.2")).unwrap(), pushed);
    let queries = front.token_queries.lock().unwrap().clone();
    assert!(!queries.is_empty());
    assert!(
        queries.iter().all(|query| query.contains("service=test-registry")
            && query.contains("scope=repository%3Aoctopusdeploy%2Fkubernetes-agent%3Apull")),
        "{queries:?}"
    );
}
