//! `workergen status` (issue 12) against a small Octopus API of our own on 127.0.0.1
//! (tests/octopus_api.rs): every finding, `--apply` and `--prune` with their recorded
//! bodies, idempotence, retries, timeouts, the failure modes and their exit codes.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::octopus_api::{policy, pool, worker, FakeOctopus, Fault, Space, State};
use crate::util::{position_of, workergen_env, Run};

const KEY: &str = "API-TESTKEY0123456789";
const STAGING_KEY: &str = "API-STAGINGKEY987654";

const WORKERGEN_YAML: &str = "acceptEula: true\ngitops:\n  engine: flux\n";

fn environment_yaml(url: &str, space: &str, extra: &str) -> String {
    format!(
        "octopus:\n  serverUrl: {url}\n  serverCommsAddresses: [https://octopus.example.com:10943/]\n  space: {space}\n  auth: {{ bearerTokenSecret: octopus-worker-token }}\n{extra}"
    )
}

const EU_WEST_1: &str = "\
cluster:
  destination: { server: https://eu-west-1.k8s.example.com }
defaults:
  machinePolicy: GitOps
workers:
  build:
    workerPools: [Linux Build Workers]
  deploy:
    workerPools: [deploy-workers]
  ghost:
    workerPools: [Linux Build Workers]
  sick:
    disabled: true
    workerPools: [WorkerPools-3]
  typo:
    workerPools: [Linux Builds]
  fine:
    workerPools: [Deploy Workers, Linux Build Workers]
  retired:
    installed: false
    workerPools: [Deploy Workers]
";

const US_EAST_1: &str = "\
cluster:
  destination: { server: https://us-east-1.k8s.example.com }
workers:
  locked:
    workerPools: [Deploy Workers]
";

const STAGING_EU: &str = "\
cluster:
  destination: { name: staging-eu }
workers:
  build:
    machinePolicy: GitOps
    workerPools: [Staging Workers]
";

fn pools() -> Vec<Value> {
    vec![
        pool("WorkerPools-1", "Default Worker Pool", "default-worker-pool"),
        pool("WorkerPools-2", "Linux Build Workers", "linux-build-workers"),
        pool("WorkerPools-3", "Deploy Workers", "deploy-workers"),
    ]
}

fn policies() -> Vec<Value> {
    vec![
        policy("MachinePolicies-1", "Default Machine Policy", true, "Update"),
        policy("MachinePolicies-2", "GitOps", false, "NeverUpdate"),
    ]
}

/// The registrations behind every finding; see each worker's comment.
fn production() -> Space {
    let mut sick = worker(
        "Workers-4",
        "production-eu-west-1-sick",
        &["WorkerPools-3"],
        "MachinePolicies-2",
    );
    sick["HealthStatus"] = "Unavailable".into();
    sick["IsDisabled"] = true.into();
    let mut locked = worker(
        "Workers-7",
        "production-us-east-1-locked",
        &["WorkerPools-3"],
        "MachinePolicies-1",
    );
    locked["Endpoint"]["UpgradeLocked"] = true.into();
    let mut listening = worker("Workers-9", "a-listening-vm", &["WorkerPools-1"], "MachinePolicies-1");
    let mut gone = worker("Workers-10", "old-worker", &["WorkerPools-3"], "MachinePolicies-2");
    gone["HealthStatus"] = "Unavailable".into();
    gone["StatusSummary"] = "The machine was unavailable at 2026-10-02".into();
    listening["Endpoint"]["CommunicationStyle"] = "TentaclePassive".into();
    Space {
        name: "Default".into(),
        workers: vec![
            // pools: registered in the default pool, declared in Linux Build Workers.
            worker(
                "Workers-1",
                "production-eu-west-1-build",
                &["WorkerPools-1"],
                "MachinePolicies-2",
            ),
            // machinePolicy and autoUpgrade: the default policy upgrades agents.
            worker(
                "Workers-2",
                "production-eu-west-1-deploy",
                &["WorkerPools-3"],
                "MachinePolicies-1",
            ),
            sick,
            // unknownPool (and pools: the known part differs).
            worker(
                "Workers-5",
                "production-eu-west-1-typo",
                &["WorkerPools-2"],
                "MachinePolicies-2",
            ),
            worker(
                "Workers-6",
                "production-eu-west-1-fine",
                &["WorkerPools-2", "WorkerPools-3"],
                "MachinePolicies-2",
            ),
            // The default policy upgrades agents, but this one is locked: no finding.
            locked,
            // orphaned: the declaration says `installed: false`.
            worker(
                "Workers-8",
                "production-eu-west-1-retired",
                &["WorkerPools-3"],
                "MachinePolicies-2",
            ),
            // Not a Kubernetes agent: never an orphan.
            listening,
            // orphaned: declared nowhere, and gone (a Healthy orphan needs `--force`).
            gone,
        ],
        pools: pools(),
        policies: policies(),
    }
}

fn staging() -> Space {
    let mut pools = pools();
    pools.push(pool("WorkerPools-11", "Staging Workers", "staging-workers"));
    Space {
        name: "Staging".into(),
        workers: vec![worker(
            "Workers-21",
            "staging-staging-eu-build",
            &["WorkerPools-11"],
            "MachinePolicies-2",
        )],
        pools,
        policies: policies(),
    }
}

fn state() -> State {
    let mut state = State {
        api_key: KEY.into(),
        ..State::default()
    };
    state.spaces.insert("Spaces-1".into(), production());
    state.spaces.insert("Spaces-2".into(), staging());
    state
}

/// A config repository whose two environments are two spaces of `api`; staging reads
/// its key from `STAGING_OCTOPUS_KEY`.
struct Fixture {
    api: FakeOctopus,
    dir: tempfile::TempDir,
}

impl Fixture {
    /// The port of the test Octopus server, to write its URL another way.
    fn port(&self) -> String {
        self.api
            .url
            .trim_end_matches('/')
            .rsplit(':')
            .next()
            .unwrap()
            .to_string()
    }

    fn new() -> Self {
        Self::with_state(state())
    }

    fn with_state(state: State) -> Self {
        let api = FakeOctopus::start(state, 4);
        let dir = tempfile::tempdir().unwrap();
        let fixture = Self { api, dir };
        fixture.write_repo(&fixture.api.url.clone(), "Default");
        fixture
    }

    fn write_repo(&self, url: &str, space: &str) {
        let root = self.dir.path();
        let write = |path: &str, text: &str| {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("workergen.yaml", WORKERGEN_YAML);
        write(
            "environments/production/environment.yaml",
            &environment_yaml(url, space, ""),
        );
        write("environments/production/eu-west-1.yaml", EU_WEST_1);
        write("environments/production/us-east-1.yaml", US_EAST_1);
        write(
            "environments/staging/environment.yaml",
            &environment_yaml(url, "Staging", "  apiKeyEnv: STAGING_OCTOPUS_KEY\n"),
        );
        write("environments/staging/staging-eu.yaml", STAGING_EU);
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    fn run_env(&self, args: &[&str], extra: &[(&str, &str)]) -> Run {
        let mut envs = vec![
            ("OCTOPUS_API_KEY", KEY),
            ("STAGING_OCTOPUS_KEY", KEY),
            ("WORKERGEN_HTTP_BACKOFF_MS", "10"),
            ("CI", "true"),
        ];
        envs.extend_from_slice(extra);
        let mut all = vec!["status"];
        all.extend_from_slice(args);
        let run = workergen_env(self.dir.path(), &all, envs);
        for key in [KEY, STAGING_KEY] {
            assert!(
                !run.stdout.contains(key) && !run.stderr.contains(key),
                "the API key was printed"
            );
        }
        run
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }
}

fn kinds(document: &Value) -> Vec<String> {
    let mut found = Vec::new();
    for environment in document["environments"].as_array().unwrap() {
        for worker in environment["workers"].as_array().unwrap() {
            for finding in worker["findings"].as_array().unwrap() {
                found.push(format!(
                    "{}/{} {}",
                    environment["name"].as_str().unwrap(),
                    worker["name"].as_str().unwrap(),
                    finding["kind"].as_str().unwrap()
                ));
            }
        }
    }
    found
}

fn check_schema(document: &Value) {
    crate::util::assert_matches_schema("status-json.schema.json", document);
}

/// Replaces the random port so snapshots are stable.
fn stable(text: &str, url: &str) -> String {
    text.replace(url, "http://127.0.0.1:PORT/")
}

#[test]
fn every_finding_is_reported_and_nothing_is_written() {
    let fixture = Fixture::new();
    let run = fixture.run(&["--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let document: Value = serde_json::from_str(&run.stdout).unwrap();
    check_schema(&document);
    assert_eq!(
        kinds(&document),
        [
            "production/production-eu-west-1-build pools",
            "production/production-eu-west-1-deploy machinePolicy",
            "production/production-eu-west-1-deploy autoUpgrade",
            "production/production-eu-west-1-ghost missing",
            "production/production-eu-west-1-sick unhealthy",
            "production/production-eu-west-1-typo unknownPool",
            "production/production-eu-west-1-typo pools",
            "production/old-worker orphaned",
            "production/production-eu-west-1-retired orphaned",
        ]
    );
    assert_eq!(document["version"], 1);
    assert_eq!(document["summary"]["findings"], 9);
    let build = &document["environments"][0]["workers"][0];
    assert_eq!(
        build["findings"][0]["declared"],
        serde_json::json!(["Linux Build Workers"])
    );
    assert_eq!(
        build["findings"][0]["registered"],
        serde_json::json!(["Default Worker Pool"])
    );
    // The exact endpoints of DESIGN section 13, each once, reads only.
    let mut paths: Vec<String> = fixture
        .api
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "GET /api/Spaces-1/machinepolicies/all",
            "GET /api/Spaces-1/workerpools/all",
            "GET /api/Spaces-1/workers/all",
            "GET /api/Spaces-2/machinepolicies/all",
            "GET /api/Spaces-2/workerpools/all",
            "GET /api/Spaces-2/workers/all",
            "GET /api/spaces/all",
            "GET /api/spaces/all",
        ]
    );
    assert_eq!(fixture.run(&["--exit-code"]).code, 1);
}

#[test]
fn text_and_markdown_reports() {
    let fixture = Fixture::new();
    let text = fixture.run(&[]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    insta::assert_snapshot!("status_text", stable(&text.stdout, &fixture.api.url));
    let markdown = fixture.run(&["--format", "markdown"]);
    assert_eq!(markdown.code, 0, "{}", markdown.stderr);
    assert!(markdown.stdout.len() < 65_536);
    insta::assert_snapshot!("status_markdown", stable(&markdown.stdout, &fixture.api.url));
    assert!(fixture.api.writes().is_empty());
}

#[test]
fn in_sync_exits_0_even_with_exit_code() {
    let fixture = Fixture::new();
    let run = fixture.run(&["--env", "staging", "--exit-code"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("in sync"), "{}", run.stdout);
    let markdown = fixture.run(&["--env", "staging", "--format", "markdown"]);
    assert!(
        markdown.stdout.contains("✅ In sync: 1 worker in 1 environment"),
        "{}",
        markdown.stdout
    );
}

#[test]
fn apply_puts_the_whole_worker_back_with_pools_and_policy_changed() {
    let fixture = Fixture::new();
    let before_build = fixture.api.worker("Spaces-1", "Workers-1").unwrap();
    let before_deploy = fixture.api.worker("Spaces-1", "Workers-2").unwrap();
    let run = fixture.run(&["--apply", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let writes = fixture.api.writes();
    let summary: Vec<String> = writes.iter().map(|w| format!("{} {}", w.method, w.path)).collect();
    // Not `typo`: its unknown pool would be dropped. Not `sick` (disabled in Octopus as
    // declared), `ghost` or orphans.
    assert_eq!(
        summary,
        [
            "PUT /api/Spaces-1/workers/Workers-1",
            "PUT /api/Spaces-1/workers/Workers-2"
        ]
    );
    let mut expected_build = before_build;
    expected_build["WorkerPoolIds"] = serde_json::json!(["WorkerPools-2"]);
    assert_eq!(writes[0].body.as_ref(), Some(&expected_build));
    let mut expected_deploy = before_deploy;
    expected_deploy["MachinePolicyId"] = "MachinePolicies-2".into();
    assert_eq!(writes[1].body.as_ref(), Some(&expected_deploy));
    // Each write is printed.
    assert!(
        run.stderr.contains("PUT production /api/Spaces-1/workers/Workers-1: pools [Default Worker Pool] -> [Linux Build Workers] [done]"),
        "{}",
        run.stderr
    );
    let document: Value = serde_json::from_str(&run.stdout).unwrap();
    check_schema(&document);
    assert_eq!(document["writes"][0]["outcome"], "done");
    // pools (build), machinePolicy and autoUpgrade (deploy, now on a NeverUpdate policy).
    assert_eq!(document["summary"]["open"], 6);

    let again = fixture.run(&["--apply", "--exit-code"]);
    assert_eq!(fixture.api.writes().len(), 2, "a second --apply writes nothing");
    assert_eq!(again.code, 1, "findings that --apply cannot fix remain");
    assert!(!again.stdout.contains("pools [Default"), "{}", again.stdout);
}

/// `disabled: true` keeps a worker installed but disabled in Octopus: `status` reports
/// it while Octopus has it enabled, and `--apply` sets `IsDisabled`, once.
#[test]
fn a_worker_declared_disabled_is_disabled_in_octopus_by_apply() {
    let fixture = Fixture::new();
    let path = fixture.dir.path().join("environments/production/eu-west-1.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.replacen("  fine:\n", "  fine:\n    disabled: true\n", 1);
    std::fs::write(&path, text).unwrap();
    let before = fixture.api.worker("Spaces-1", "Workers-6").unwrap();
    let run = fixture.run(&["--env", "production", "--format", "json"]);
    let document: Value = serde_json::from_str(&run.stdout).unwrap();
    let findings: Vec<String> = document["environments"][0]["workers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|worker| {
            let name = worker["name"].as_str().unwrap().to_string();
            worker["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|finding| finding["kind"] == "disabled")
                .map(move |finding| format!("{name} {finding}"))
                .collect::<Vec<_>>()
        })
        .collect();
    // `sick` is disabled in both; `fine` only in Git.
    assert_eq!(
        findings,
        [r#"production-eu-west-1-fine {"declared":true,"fixed":false,"kind":"disabled","registered":false}"#]
    );
    let apply = fixture.run(&["--env", "production", "--apply"]);
    assert!(apply.stderr.contains("disabled in Octopus [done]"), "{}", apply.stderr);
    let mut expected = before;
    expected["IsDisabled"] = true.into();
    let writes = fixture.api.writes();
    let put = writes.iter().find(|write| write.path.ends_with("/Workers-6")).unwrap();
    assert_eq!(put.body.as_ref(), Some(&expected));
}

#[test]
fn prune_deletes_orphans_only_and_once() {
    let fixture = Fixture::new();
    let run = fixture.run(&["--prune", "--force"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let writes: Vec<String> = fixture
        .api
        .writes()
        .iter()
        .map(|w| format!("{} {} {:?}", w.method, w.path, w.body))
        .collect();
    assert_eq!(
        writes,
        [
            "DELETE /api/Spaces-1/workers/Workers-10 None",
            "DELETE /api/Spaces-1/workers/Workers-8 None",
        ]
    );
    assert!(
        fixture.api.worker("Spaces-1", "Workers-9").is_some(),
        "not a Kubernetes agent"
    );
    fixture.run(&["--prune", "--force"]);
    assert_eq!(fixture.api.writes().len(), 2, "a second --prune deletes nothing");
    let prune_cluster = fixture.run(&["--prune", "--cluster", "eu-west-1"]);
    assert_eq!(prune_cluster.code, 2, "{}", prune_cluster.stderr);
}

#[test]
fn prune_keeps_a_healthy_orphan_without_force_and_says_what_it_knows_first() {
    let fixture = Fixture::new();
    let run = fixture.run(&["--prune", "--exit-code"]);
    assert_eq!(run.code, 1, "the kept orphan is still a finding: {}", run.stderr);
    let writes: Vec<String> = fixture
        .api
        .writes()
        .iter()
        .map(|w| format!("{} {}", w.method, w.path))
        .collect();
    assert_eq!(
        writes,
        ["DELETE /api/Spaces-1/workers/Workers-10"],
        "only the Unavailable one"
    );
    // Each orphan's release, namespace, health and last contact, before it is deleted.
    let deleting = run
        .stderr
        .find("deleting: delete orphaned worker `old-worker`")
        .expect(&run.stderr);
    let done = run
        .stderr
        .find("DELETE production /api/Spaces-1/workers/Workers-10")
        .expect(&run.stderr);
    assert!(deleting < done, "{}", run.stderr);
    assert!(
        run.stderr.contains("release `old-worker` in namespace `octopus-agent-old-worker`, health `Unavailable`, last seen: The machine was unavailable at 2026-10-02"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("health `Healthy`")
            && run.stderr.contains("kept: it is alive, `--force` deletes it [kept]"),
        "{}",
        run.stderr
    );
    let json = fixture.run(&["--prune", "--format", "json"]);
    let document: Value = serde_json::from_str(&json.stdout).unwrap();
    check_schema(&document);
    assert_eq!(document["writes"][0]["outcome"], "kept", "{document}");
    assert!(fixture.api.worker("Spaces-1", "Workers-8").is_some());
}

#[test]
fn dry_run_prints_the_writes_and_sends_none() {
    let fixture = Fixture::new();
    let run = fixture.run(&["--apply", "--prune", "--force", "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(fixture.api.writes().is_empty(), "{:?}", fixture.api.writes());
    for line in [
        "PUT production /api/Spaces-1/workers/Workers-1: pools [Default Worker Pool] -> [Linux Build Workers] [dry run: not sent]",
        "DELETE production /api/Spaces-1/workers/Workers-8: delete orphaned worker `production-eu-west-1-retired` (Workers-8): release `production-eu-west-1-retired`",
    ] {
        assert!(run.stderr.contains(line), "{line}\n{}", run.stderr);
    }
    assert!(!run.stderr.contains("deleting:"), "{}", run.stderr);
    let json = fixture.run(&["--apply", "--dry-run", "--format", "json"]);
    let document: Value = serde_json::from_str(&json.stdout).unwrap();
    check_schema(&document);
    assert_eq!(document["writes"][0]["outcome"], "dryRun");
    assert_eq!(
        document["summary"]["open"], document["summary"]["findings"],
        "nothing fixed"
    );
}

#[test]
fn a_failure_part_way_says_what_was_done_and_what_was_not() {
    let fixture = Fixture::new();
    fixture.api.fail(Fault::new("PUT", "/workers/Workers-2", 400, 1));
    let run = fixture.run(&["--apply", "--prune"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("answered 400"), "{}", run.stderr);
    assert!(
        run.stderr.contains("1 of 3 writes done before the failure; not done:"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("DELETE production /api/Spaces-1/workers/Workers-10"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("[failed]") && run.stdout.contains("[not done]"),
        "{}",
        run.stdout
    );
    // The first PUT was made, the failed one was not retried, nothing after it was sent.
    let writes: Vec<String> = fixture.api.writes().iter().map(|w| w.path.clone()).collect();
    assert_eq!(
        writes,
        ["/api/Spaces-1/workers/Workers-1", "/api/Spaces-1/workers/Workers-2"]
    );
}

#[test]
fn server_errors_and_429_are_retried_with_backoff() {
    let fixture = Fixture::new();
    fixture.api.fail(Fault::new("GET", "/api/Spaces-1/workers/all", 500, 2));
    let mut busy = Fault::new("GET", "/api/Spaces-2/workerpools/all", 429, 1);
    busy.retry_after = Some("1".into());
    fixture.api.fail(busy);
    let start = Instant::now();
    let run = fixture.run(&["--env", "production"]);
    let run_staging = fixture.run(&["--env", "staging"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run_staging.code, 0, "{}", run_staging.stderr);
    assert!(start.elapsed() >= Duration::from_secs(1), "Retry-After is honoured");
    let count = |path: &str| fixture.api.requests().iter().filter(|r| r.path == path).count();
    assert_eq!(count("/api/Spaces-1/workers/all"), 3);
    assert_eq!(count("/api/Spaces-2/workerpools/all"), 2);
}

#[test]
fn a_server_that_keeps_failing_exits_3_after_the_retries() {
    let fixture = Fixture::new();
    fixture
        .api
        .fail(Fault::new("GET", "/api/Spaces-1/machinepolicies/all", 503, 10));
    let run = fixture.run(&["--env", "production"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("answered 503"), "{}", run.stderr);
    assert!(
        run.stderr.contains("hint: the server kept failing after retries"),
        "{}",
        run.stderr
    );
    let tries = fixture
        .api
        .requests()
        .iter()
        .filter(|r| r.path == "/api/Spaces-1/machinepolicies/all")
        .count();
    assert_eq!(tries, 4);
}

#[test]
fn client_errors_are_never_retried_and_hint_at_the_cause() {
    let fixture = Fixture::new();
    fixture
        .api
        .fail(Fault::new("GET", "/api/Spaces-1/workerpools/all", 404, 5));
    let run = fixture.run(&["--env", "production"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("hint: not found: check `octopus.space`"),
        "{}",
        run.stderr
    );
    let tries = fixture
        .api
        .requests()
        .iter()
        .filter(|r| r.path == "/api/Spaces-1/workerpools/all")
        .count();
    assert_eq!(tries, 1);

    fixture.api.fail(Fault::new("GET", "/api/Spaces-1/workers/all", 403, 1));
    let forbidden = fixture.run(&["--env", "production"]);
    assert_eq!(forbidden.code, 3);
    assert!(forbidden.stderr.contains("needs WorkerView"), "{}", forbidden.stderr);
}

#[test]
fn a_wrong_key_exits_3_with_a_hint_and_is_never_printed() {
    let fixture = Fixture::new();
    let run = fixture.run_env(&["--env", "staging"], &[("STAGING_OCTOPUS_KEY", STAGING_KEY)]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("answered 401: You must be logged in"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: Octopus refused the credential"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_missing_key_variable_exits_2_naming_it_and_where_it_is_set() {
    let fixture = Fixture::new();
    let run = fixture.run_env(&["--env", "staging"], &[("STAGING_OCTOPUS_KEY", "")]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let file = fixture.root().join("environments/staging/environment.yaml");
    let (line, column) = position_of(&file, "STAGING_OCTOPUS_KEY");
    assert!(
        run.stderr
            .contains(&format!("environments/staging/environment.yaml:{line}:{column}")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("`STAGING_OCTOPUS_KEY` is not set"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: export `STAGING_OCTOPUS_KEY`"),
        "{}",
        run.stderr
    );
    assert!(
        fixture.api.requests().is_empty(),
        "nothing is asked before every key is there"
    );

    let default = workergen_env(fixture.root(), &["status", "--env", "production"], [("CI", "true")]);
    assert_eq!(default.code, 2, "{}", default.stderr);
    assert!(
        default.stderr.contains("`OCTOPUS_API_KEY` is not set"),
        "{}",
        default.stderr
    );
}

#[test]
fn a_slow_server_times_out_quickly() {
    let fixture = Fixture::new();
    let mut slow = Fault::new("GET", "/api/Spaces-1/workers/all", 200, 1);
    slow.delay = Duration::from_secs(3);
    fixture.api.fail(slow);
    let start = Instant::now();
    let run = fixture.run_env(&["--env", "production"], &[("WORKERGEN_HTTP_TIMEOUT", "0.3")]);
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("timed out"), "{}", run.stderr);
    assert!(
        run.stderr.contains("hint: the server did not answer in time"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unknown_space_and_a_tls_failure_exit_3_with_hints() {
    let fixture = Fixture::new();
    fixture.write_repo(&fixture.api.url.clone(), "Nope");
    let run = fixture.run(&["--env", "production"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("has no space `Nope`"), "{}", run.stderr);
    assert!(
        run.stderr.contains("the API key sees: `Default`, `Staging`"),
        "{}",
        run.stderr
    );

    // A server that answers a TLS hello in plain HTTP: the handshake fails.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            use std::io::Write as _;
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    fixture.write_repo(&format!("https://127.0.0.1:{port}/"), "Default");
    let tls = fixture.run_env(&["--env", "production"], &[("WORKERGEN_HTTP_TIMEOUT", "5")]);
    assert_eq!(tls.code, 3, "{}", tls.stderr);
    assert!(tls.stderr.contains("TLS failed"), "{}", tls.stderr);
    assert!(tls.stderr.contains("serverCertificateSecret"), "{}", tls.stderr);
}

#[test]
fn scope_errors_exit_2() {
    let fixture = Fixture::new();
    assert_eq!(fixture.run(&["--env", "nope"]).code, 2);
    assert_eq!(fixture.run(&["--cluster", "nope"]).code, 2);
    let cluster = fixture.run(&["--cluster", "us-east-1", "--format", "json"]);
    assert_eq!(cluster.code, 0, "{}", cluster.stderr);
    let document: Value = serde_json::from_str(&cluster.stdout).unwrap();
    assert_eq!(document["summary"]["workers"], 1, "one worker, no orphans: {document}");
    assert!(fixture.api.writes().is_empty());
}

#[test]
fn the_documented_example_matches_the_schema() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/status-json.md")).unwrap();
    let start = text.find("```json\n").unwrap() + "```json\n".len();
    let end = start + text[start..].find("```").unwrap();
    let example: Value = serde_json::from_str(&text[start..end]).unwrap();
    check_schema(&example);
    let mut wrong = example.clone();
    wrong["environments"][0]["workers"][0]["findings"][0]["kind"] = "poolz".into();
    assert!(
        !crate::util::schema_errors("status-json.schema.json", &wrong).is_empty(),
        "the schema refuses an unknown kind"
    );
}

#[test]
fn environments_sharing_a_space_are_judged_together() {
    let fixture = Fixture::new();
    let root = fixture.root();
    let url = fixture.api.url.clone();
    std::fs::create_dir_all(root.join("environments/shared")).unwrap();
    // Same server and space as production, written differently (no trailing `/`).
    std::fs::write(
        root.join("environments/shared/environment.yaml"),
        environment_yaml(url.trim_end_matches('/'), "Spaces-1", ""),
    )
    .unwrap();
    std::fs::write(
        root.join("environments/shared/legacy.yaml"),
        "cluster:\n  destination: { name: legacy }\nworkers:\n  old:\n    displayName: old-worker\n    machinePolicy: GitOps\n    workerPools: [Deploy Workers]\n",
    )
    .unwrap();
    let run = fixture.run(&["--format", "json", "--prune", "--force"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let document: Value = serde_json::from_str(&run.stdout).unwrap();
    check_schema(&document);
    let found = kinds(&document);
    assert!(
        found.contains(&"production/production-eu-west-1-retired orphaned".to_string()),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|kind| kind.contains("old-worker orphaned")),
        "declared in `shared`: {found:?}"
    );
    let spaces = fixture
        .api
        .requests()
        .iter()
        .filter(|r| r.path == "/api/spaces/all")
        .count();
    // Named differently (`Default`, `Spaces-1`), the space is read twice, yet its orphans
    // are reported and deleted once.
    assert_eq!(spaces, 3);
    assert_eq!(
        found.iter().filter(|kind| kind.ends_with("orphaned")).count(),
        1,
        "{found:?}"
    );
    let deleted: Vec<String> = fixture.api.writes().iter().map(|w| w.path.clone()).collect();
    assert_eq!(deleted, ["/api/Spaces-1/workers/Workers-8"]);
}

/// `environment.yaml` of an environment named `other` on `url` and `space`, with one
/// cluster `legacy` that declares `workers` (YAML under `workers:`).
fn other_environment(fixture: &Fixture, url: &str, space: &str, workers: &str) {
    let root = fixture.root();
    std::fs::create_dir_all(root.join("environments/other")).unwrap();
    std::fs::write(
        root.join("environments/other/environment.yaml"),
        environment_yaml(url, space, ""),
    )
    .unwrap();
    std::fs::write(
        root.join("environments/other/legacy.yaml"),
        format!("cluster:\n  destination: {{ name: legacy }}\nworkers:\n{workers}"),
    )
    .unwrap();
}

fn deletes(fixture: &Fixture) -> Vec<String> {
    fixture
        .api
        .writes()
        .iter()
        .filter(|write| write.method == "DELETE")
        .map(|write| write.path.clone())
        .collect()
}

#[test]
fn a_worker_renamed_in_octopus_or_in_git_is_found_by_release_and_namespace_and_never_deleted() {
    let mut state = state();
    let space = state.spaces.get_mut("Spaces-1").unwrap();
    // `build`, renamed in the Octopus UI after its install.
    space.workers[0]["Name"] = "Build agent (eu)".into();
    space.workers[0]["Endpoint"]["KubernetesAgentDetails"]["HelmReleaseName"] = "build".into();
    space.workers[0]["Endpoint"]["KubernetesAgentDetails"]["KubernetesNamespace"] = "octopus-agent-build".into();
    // `fine`, whose `displayName` changes in Git below: Octopus keeps the old name.
    space.workers[4]["Endpoint"]["KubernetesAgentDetails"]["HelmReleaseName"] = "fine".into();
    space.workers[4]["Endpoint"]["KubernetesAgentDetails"]["KubernetesNamespace"] = "octopus-agent-fine".into();
    // `deploy`, whose name differs only in case: Octopus's names compare without case.
    space.workers[1]["Name"] = "Production-EU-West-1-Deploy".into();
    let fixture = Fixture::with_state(state);
    let cluster = fixture.root().join("environments/production/eu-west-1.yaml");
    let text = std::fs::read_to_string(&cluster).unwrap();
    std::fs::write(
        &cluster,
        text.replace("  fine:\n", "  fine:\n    displayName: fine-linux\n"),
    )
    .unwrap();

    // What a reviewer sees before anything is deleted.
    let dry_run = fixture.run(&["--env", "production", "--prune", "--dry-run"]);
    assert_eq!(dry_run.code, 0, "{}", dry_run.stderr);
    assert!(fixture.api.writes().is_empty());
    assert!(
        dry_run
            .stderr
            .contains("Workers-10: delete orphaned worker `old-worker` (Workers-10): release `old-worker`"),
        "each write is printed as it is (not) made: {}",
        dry_run.stderr
    );
    insta::assert_snapshot!(
        "status_prune_dry_run_renamed",
        stable(
            &format!(
                "$ workergen status --env production --prune --dry-run\n{}",
                dry_run.stdout
            ),
            &fixture.api.url
        )
    );

    let run = fixture.run(&["--prune", "--force", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let document: Value = serde_json::from_str(&run.stdout).unwrap();
    check_schema(&document);
    let found = kinds(&document);
    for kind in [
        "production/production-eu-west-1-build renamed",
        "production/fine-linux renamed",
    ] {
        assert!(found.contains(&kind.to_string()), "{kind}: {found:?}");
    }
    assert!(
        !found
            .iter()
            .any(|kind| kind.contains("missing") && !kind.contains("ghost")),
        "{found:?}"
    );
    assert!(
        !found
            .iter()
            .any(|kind| kind.ends_with("orphaned") && !kind.contains("old-worker") && !kind.contains("retired")),
        "{found:?}"
    );
    assert_eq!(
        deletes(&fixture),
        ["/api/Spaces-1/workers/Workers-10", "/api/Spaces-1/workers/Workers-8"],
        "only the true orphans, even with --force"
    );

    // `--apply` restores the declared names, in the same PUT as any other fix.
    let before = fixture.api.worker("Spaces-1", "Workers-1").unwrap();
    let apply = fixture.run(&["--apply"]);
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    assert!(
        apply.stderr.contains("name `Build agent (eu)` -> `production-eu-west-1-build`; pools [Default Worker Pool] -> [Linux Build Workers] [done]"),
        "{}",
        apply.stderr
    );
    let mut expected = before;
    expected["Name"] = "production-eu-west-1-build".into();
    expected["WorkerPoolIds"] = serde_json::json!(["WorkerPools-2"]);
    assert_eq!(fixture.api.worker("Spaces-1", "Workers-1"), Some(expected));
    assert_eq!(
        fixture.api.worker("Spaces-1", "Workers-6").unwrap()["Name"],
        "fine-linux"
    );
    assert_eq!(
        fixture.api.worker("Spaces-1", "Workers-2").unwrap()["Name"],
        "Production-EU-West-1-Deploy",
        "a name that differs in case is the same name: left alone"
    );
    let again = fixture.run(&["--format", "json"]);
    let found = kinds(&serde_json::from_str(&again.stdout).unwrap());
    assert!(!found.iter().any(|kind| kind.ends_with("renamed")), "{found:?}");
}

#[test]
fn a_release_and_namespace_shared_by_two_declarations_matches_nothing_and_is_not_pruned() {
    let mut state = state();
    let space = state.spaces.get_mut("Spaces-1").unwrap();
    space.workers[0]["Name"] = "Build agent (eu)".into();
    space.workers[0]["Endpoint"]["KubernetesAgentDetails"]["HelmReleaseName"] = "build".into();
    space.workers[0]["Endpoint"]["KubernetesAgentDetails"]["KubernetesNamespace"] = "octopus-agent-build".into();
    let fixture = Fixture::with_state(state);
    // Another cluster of the same server and space has a `build` in `octopus-agent-build`
    // too: the API does not say which cluster the registration runs in.
    let us_east = fixture.root().join("environments/production/us-east-1.yaml");
    let text = std::fs::read_to_string(&us_east).unwrap();
    std::fs::write(&us_east, format!("{text}  build:\n    workerPools: [Deploy Workers]\n")).unwrap();
    let run = fixture.run(&["--prune", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let found = kinds(&serde_json::from_str(&run.stdout).unwrap());
    assert!(
        found.contains(&"production/Build agent (eu) orphaned".to_string()),
        "{found:?}"
    );
    assert!(
        found.contains(&"production/production-eu-west-1-build missing".to_string()),
        "{found:?}"
    );
    assert!(
        found.contains(&"production/production-us-east-1-build missing".to_string()),
        "{found:?}"
    );
    assert_eq!(
        deletes(&fixture),
        ["/api/Spaces-1/workers/Workers-10"],
        "the ambiguous registration is Healthy: kept without --force"
    );
}

#[test]
fn the_same_server_spelt_two_ways_is_one_server_and_its_workers_are_not_orphans() {
    let fixture = Fixture::new();
    fixture.api.state.lock().unwrap().installation_id = "a3a4b3e0-0f0d-4bd7-9b5a-aa2f1a3c4a11".into();
    let port = fixture.port();
    // `localhost` and `127.0.0.1` are two URLs of one server, and `default` is `Default`.
    other_environment(
        &fixture,
        &format!("http://LOCALHOST:{port}"),
        "default",
        "  old:\n    displayName: old-worker\n    machinePolicy: GitOps\n    workerPools: [Deploy Workers]\n",
    );
    let run = fixture.run(&["--env", "production", "--prune", "--force", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let found = kinds(&serde_json::from_str(&run.stdout).unwrap());
    assert!(
        !found.iter().any(|kind| kind.contains("old-worker orphaned")),
        "{found:?}"
    );
    assert_eq!(deletes(&fixture), ["/api/Spaces-1/workers/Workers-8"]);
    let roots: Vec<_> = fixture
        .api
        .requests()
        .into_iter()
        .filter(|request| request.path == "/api")
        .collect();
    assert_eq!(roots.len(), 2, "each URL is asked who it is");
    assert!(
        roots.iter().all(|request| request.credential.is_none()),
        "`GET /api` needs no key, and gets none"
    );

    // Two servers that say they are different stay two: then the orphan is one.
    let other = FakeOctopus::start(
        State {
            api_key: KEY.into(),
            installation_id: "another-installation".into(),
            ..State::default()
        },
        1,
    );
    other_environment(
        &fixture,
        other.url.trim_end_matches('/'),
        "Default",
        "  old:\n    displayName: old-worker\n    workerPools: [Deploy Workers]\n",
    );
    let run = fixture.run(&["--env", "production", "--format", "json"]);
    let found = kinds(&serde_json::from_str(&run.stdout).unwrap());
    assert!(
        found.iter().any(|kind| kind.contains("old-worker orphaned")),
        "{found:?}"
    );

    // A server that cannot say who it is stops `--prune`, which would delete on a guess.
    drop(other);
    let prune = fixture.run_env(&["--env", "production", "--prune"], &[("WORKERGEN_HTTP_TIMEOUT", "2")]);
    assert_eq!(prune.code, 3, "{}", prune.stderr);
    assert!(prune.stderr.contains("cannot tell whether"), "{}", prune.stderr);
    assert_eq!(deletes(&fixture), ["/api/Spaces-1/workers/Workers-8"]);
}

#[test]
fn display_names_are_unique_per_server_however_it_is_spelt() {
    let fixture = Fixture::new();
    // The production server written another way, its space in another case.
    let port = fixture.port();
    other_environment(
        &fixture,
        &format!("http://127.0.0.1:{port}//"),
        "default",
        "  old:\n    displayName: Production-EU-West-1-Build\n    workerPools: [Deploy Workers]\n",
    );
    let run = workergen_env(fixture.root(), &["validate"], [("CI", "true")]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("display name `production-eu-west-1-build` is used by `other/legacy/old` and `production/eu-west-1/build` on the same Octopus server and space"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_redirected_write_is_an_error_naming_the_new_location_and_is_never_resent() {
    for status in [301, 302, 307, 308] {
        for (method, flag, path) in [
            ("PUT", "--apply", "/api/Spaces-1/workers/Workers-1"),
            ("DELETE", "--prune", "/api/Spaces-1/workers/Workers-10"),
        ] {
            let fixture = Fixture::new();
            let location = format!("{}octopus{path}", fixture.api.url);
            fixture.api.fail(Fault::redirect(method, path, status, &location));
            let run = fixture.run(&["--env", "production", flag]);
            assert_eq!(run.code, 3, "{method} {status}: {}", run.stderr);
            assert!(
                run.stderr.contains(&format!(
                    "{method} {}{} answered {status}, a redirect to `{location}`, which is not followed",
                    fixture.api.url.trim_end_matches('/'),
                    path
                )),
                "{}",
                run.stderr
            );
            assert!(
                run.stderr
                    .contains("hint: a write is never sent again after a redirect"),
                "{}",
                run.stderr
            );
            assert!(!run.stderr.contains("[done]"), "{}", run.stderr);
            let sent: Vec<String> = fixture
                .api
                .requests()
                .iter()
                .filter(|request| request.path.contains("/workers/Workers-"))
                .map(|request| format!("{} {}", request.method, request.path))
                .collect();
            assert_eq!(
                sent,
                [format!("{method} {path}")],
                "{status}: neither resent nor turned into a GET"
            );
        }
    }
}

#[test]
fn a_redirect_to_another_origin_is_not_followed_and_the_key_never_goes_there() {
    let fixture = Fixture::new();
    let elsewhere = FakeOctopus::start(
        State {
            api_key: KEY.into(),
            ..State::default()
        },
        1,
    );
    let location = format!("{}api/Spaces-1/workers/all", elsewhere.url);
    fixture
        .api
        .fail(Fault::redirect("GET", "/api/Spaces-1/workers/all", 302, &location));
    let run = fixture.run(&["--env", "production"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("(another origin)"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("hint: the credential is sent only to `octopus.serverUrl`'s origin"),
        "{}",
        run.stderr
    );
    assert!(elsewhere.requests().is_empty(), "{:?}", elsewhere.requests());

    // A GET redirected within the server's own origin is followed, with the key.
    let same = format!("{}api/Spaces-1/workers/all", fixture.api.url);
    fixture
        .api
        .fail(Fault::redirect("GET", "/api/Spaces-1/workers/all", 301, &same));
    let run = fixture.run(&["--env", "production"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn retry_after_is_read_in_both_forms_capped_and_announced() {
    let fixture = Fixture::new();
    let mut busy = Fault::new("GET", "/api/Spaces-1/workers/all", 503, 1);
    busy.retry_after = Some("100000".into());
    fixture.api.fail(busy);
    let start = Instant::now();
    let run = fixture.run_env(&["--env", "production"], &[("WORKERGEN_HTTP_MAX_WAIT_MS", "300")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
    assert!(
        run.stderr.contains("waiting: environment `production`: GET")
            && run
                .stderr
                .contains("answered 503: fault 503; retrying in 0.3 s (it asked for 100000 s; waits are cut to 0.3 s)"),
        "{}",
        run.stderr
    );

    // An HTTP date: read, and capped the same way.
    let mut dated = Fault::new("GET", "/api/Spaces-1/workerpools/all", 429, 1);
    dated.retry_after = Some("Fri, 31 Dec 9999 23:59:59 GMT".into());
    fixture.api.fail(dated);
    let start = Instant::now();
    let run = fixture.run_env(&["--env", "production"], &[("WORKERGEN_HTTP_MAX_WAIT_MS", "200")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
    assert!(run.stderr.contains("waits are cut to 0.2 s"), "{}", run.stderr);
}

#[test]
fn the_retry_budget_is_the_runs_not_each_requests() {
    let fixture = Fixture::new();
    // Two requests each asked to wait: the first wait fits the run's budget, the second
    // would pass it, so the run stops at the second answer rather than wait again.
    for path in ["/api/Spaces-1/workers/all", "/api/Spaces-1/workerpools/all"] {
        let mut busy = Fault::new("GET", path, 503, 1);
        busy.retry_after = Some("1".into());
        fixture.api.fail(busy);
    }
    let run = fixture.run_env(
        &["--env", "production"],
        &[
            ("WORKERGEN_HTTP_MAX_WAIT_MS", "300"),
            ("WORKERGEN_HTTP_RETRY_BUDGET_MS", "400"),
        ],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(run.stderr.matches("retrying in 0.3 s").count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("answered 503"), "{}", run.stderr);
}

/// The largest resident set `pid` reached (`VmHWM`, kB), polled until it exits.
#[cfg(target_os = "linux")]
fn peak_kb(child: &mut std::process::Child) -> u64 {
    let mut peak = 0;
    loop {
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
        if let Some(line) = status.lines().find(|line| line.starts_with("VmHWM:")) {
            let kb: u64 = line.split_whitespace().nth(1).unwrap_or("0").parse().unwrap_or(0);
            peak = peak.max(kb);
        }
        if child.try_wait().unwrap().is_some() {
            return peak;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs `status --env production` with a 300 MB answer at `path`; its exit code, stderr
/// and peak resident set (kB).
#[cfg(target_os = "linux")]
fn with_a_300_mb_answer(path: &str, item: Option<String>, envs: &[(&str, &str)]) -> (Option<i32>, String, u64) {
    let fixture = Fixture::new();
    let mut huge = Fault::new("GET", path, 200, 1);
    huge.body_bytes = Some(300_000_000);
    huge.body_item = item;
    fixture.api.fail(huge);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_workergen"))
        .args(["-C"])
        .arg(fixture.root())
        .args(["--color", "never", "status", "--env", "production"])
        .env("OCTOPUS_API_KEY", KEY)
        .envs(envs.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let peak = peak_kb(&mut child);
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        peak,
    )
}

#[cfg(target_os = "linux")]
#[test]
fn a_300_mb_body_stays_bounded_in_memory_with_a_short_message() {
    // Spaces, pools and policies: at most 10 MB, whatever the server sends.
    let (code, stderr, peak) = with_a_300_mb_answer("/api/spaces/all", None, &[]);
    eprintln!("spaces/all: peak resident set {peak} kB");
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains("/api/spaces/all: the response is larger than 10 MB"),
        "{stderr}"
    );
    let message: Vec<&str> = stderr.lines().skip_while(|line| !line.starts_with("error")).collect();
    assert!(
        message.len() <= 2 && message.iter().all(|line| line.len() < 400),
        "a short message: {message:?}"
    );
    assert!(peak > 0 && peak < 100_000, "peak {peak} kB");
    // `workers/all` of workers as Octopus sends them, up to its limit (here 20 MB): memory
    // grows with what is parsed (each worker is kept whole for a PUT), and stops there.
    let item = worker(
        "Workers-1",
        "production-eu-west-1-build",
        &["WorkerPools-2"],
        "MachinePolicies-2",
    )
    .to_string();
    let (code, stderr, peak) = with_a_300_mb_answer(
        "/api/Spaces-1/workers/all",
        Some(item),
        &[("WORKERGEN_HTTP_MAX_BODY_MB", "20")],
    );
    eprintln!("workers/all: peak resident set {peak} kB");
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains("workers/all: the response is larger than 20 MB"),
        "{stderr}"
    );
    assert!(peak > 0 && peak < 120_000, "peak {peak} kB");
}

#[test]
fn strings_from_the_api_are_shown_with_their_control_characters_escaped() {
    let mut state = state();
    let space = state.spaces.get_mut("Spaces-1").unwrap();
    space.workers[8]["Name"] = "old\u{1b}[2J\r\nproduction: all in sync\u{7}".into();
    space.workers[8]["StatusSummary"] = "\u{1b}]0;owned\u{7}gone".into();
    let fixture = Fixture::with_state(state);
    fixture.api.fail(Fault::new("PUT", "/workers/Workers-1", 400, 1));
    for format in ["text", "markdown"] {
        let run = fixture.run(&["--env", "production", "--format", format]);
        assert!(
            !run.stdout.contains('\u{1b}') && !run.stdout.contains('\r'),
            "{format}: {:?}",
            run.stdout
        );
        assert!(!run.stdout.contains('\u{7}'), "{format}");
        assert!(
            run.stdout.contains("old\\x1b[2J\\r\\nproduction: all in sync\\x07"),
            "{format}: {}",
            run.stdout
        );
    }
    let run = fixture.run(&["--env", "production", "--prune", "--apply", "--force"]);
    assert!(
        !run.stderr.contains('\u{1b}') && !run.stderr.contains('\u{7}'),
        "{:?}",
        run.stderr
    );
}

#[test]
fn a_ca_file_without_certificates_is_an_error_naming_it() {
    let fixture = Fixture::new();
    let file = fixture.root().join("not-a-ca.pem");
    std::fs::write(
        &file,
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let run = fixture.run_env(&["--env", "production"], &[("SSL_CERT_FILE", file.to_str().unwrap())]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "`SSL_CERT_FILE` `{}` holds no PEM certificate",
            file.display()
        )),
        "{}",
        run.stderr
    );
    assert!(fixture.api.requests().is_empty());
}

#[test]
fn a_403_names_the_permissions_of_what_was_refused() {
    for (method, path, flag, needs) in [
        (
            "GET",
            "/api/Spaces-1/machinepolicies/all",
            None,
            "`status` needs WorkerView and MachinePolicyView",
        ),
        (
            "PUT",
            "/workers/Workers-1",
            Some("--apply"),
            "`--apply` needs WorkerEdit",
        ),
        (
            "DELETE",
            "/workers/Workers-10",
            Some("--prune"),
            "`--prune` needs WorkerEdit",
        ),
    ] {
        let fixture = Fixture::new();
        fixture.api.fail(Fault::new(method, path, 403, 1));
        let mut args = vec!["--env", "production"];
        args.extend(flag);
        let run = fixture.run(&args);
        assert_eq!(run.code, 3, "{}", run.stderr);
        assert!(run.stderr.contains(needs), "{method}: {}", run.stderr);
    }
}

#[test]
fn block_and_never_update_do_not_upgrade_and_apply_warns_of_a_policy_that_does() {
    let mut state = state();
    let space = state.spaces.get_mut("Spaces-1").unwrap();
    space
        .policies
        .push(policy("MachinePolicies-3", "Frozen", false, "Block"));
    // `fine` is moved to the blocking policy in Octopus: nothing to say.
    space.workers[4]["MachinePolicyId"] = "MachinePolicies-3".into();
    let fixture = Fixture::with_state(state);
    let cluster = fixture.root().join("environments/production/eu-west-1.yaml");
    let text = std::fs::read_to_string(&cluster).unwrap();
    std::fs::write(
        &cluster,
        text.replace("  fine:\n", "  fine:\n    machinePolicy: Frozen\n")
            .replace("  build:\n", "  build:\n    machinePolicy: Default Machine Policy\n"),
    )
    .unwrap();
    let run = fixture.run(&["--env", "production", "--format", "json"]);
    let found = kinds(&serde_json::from_str(&run.stdout).unwrap());
    assert!(!found.iter().any(|kind| kind.contains("fine")), "{found:?}");

    let apply = fixture.run(&["--env", "production", "--apply"]);
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    assert!(
        apply.stderr.contains("warning: `--apply` puts `production-eu-west-1-build` on policy `Default Machine Policy`, which lets Octopus upgrade the agent behind Git's back; declare `machinePolicy: Frozen`"),
        "{}",
        apply.stderr
    );
}

#[test]
fn an_access_token_is_sent_as_a_bearer_token() {
    let mut state = state();
    state.access_token = Some("eyJhbGciOiJSUzI1NiJ9.token".into());
    let fixture = Fixture::with_state(state);
    let staging = fixture.root().join("environments/staging/environment.yaml");
    let text = std::fs::read_to_string(&staging).unwrap();
    std::fs::write(
        &staging,
        text.replace("apiKeyEnv: STAGING_OCTOPUS_KEY", "accessTokenEnv: STAGING_TOKEN"),
    )
    .unwrap();
    let run = fixture.run_env(
        &["--env", "staging", "--exit-code"],
        &[("STAGING_TOKEN", "eyJhbGciOiJSUzI1NiJ9.token")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("eyJhbGci") && !run.stdout.contains("eyJhbGci"));
    let sent: Vec<Option<String>> = fixture.api.requests().iter().map(|r| r.credential.clone()).collect();
    assert!(
        sent.iter()
            .all(|credential| credential.as_deref() == Some("Bearer eyJhbGciOiJSUzI1NiJ9.token")),
        "{sent:?}"
    );
    let missing = fixture.run_env(&["--env", "staging"], &[("STAGING_TOKEN", "")]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(
        missing
            .stderr
            .contains("the access token variable `STAGING_TOKEN` is not set"),
        "{}",
        missing.stderr
    );

    std::fs::write(
        &staging,
        text.replace(
            "apiKeyEnv: STAGING_OCTOPUS_KEY",
            "apiKeyEnv: STAGING_OCTOPUS_KEY\n  accessTokenEnv: STAGING_TOKEN",
        ),
    )
    .unwrap();
    let validate = workergen_env(fixture.root(), &["validate"], [("CI", "true")]);
    assert_eq!(validate.code, 2, "{}", validate.stderr);
    assert!(
        validate
            .stderr
            .contains("`octopus.apiKeyEnv` and `octopus.accessTokenEnv` are both set"),
        "{}",
        validate.stderr
    );
    let both = fixture.run_env(&["--env", "staging"], &[("STAGING_TOKEN", "x")]);
    assert_eq!(both.code, 2, "{}", both.stderr);
    assert!(
        both.stderr.contains("environments/staging/environment.yaml:"),
        "{}",
        both.stderr
    );
    // `status` validates the declarations first: the same error, before any request.
    assert!(
        both.stderr
            .contains("`octopus.apiKeyEnv` and `octopus.accessTokenEnv` are both set"),
        "{}",
        both.stderr
    );
}

#[test]
fn report_with_status_shows_what_octopus_says_of_each_worker() {
    let fixture = Fixture::new();
    let status: Value = serde_json::from_str(&fixture.run(&["--format", "json"]).stdout).unwrap();
    let envs = [("OCTOPUS_API_KEY", KEY), ("STAGING_OCTOPUS_KEY", KEY), ("CI", "true")];
    let run = workergen_env(fixture.root(), &["report", "--status", "--format", "json"], envs);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    crate::util::assert_matches_schema("report-json.schema.json", &report);
    assert_eq!(report["statusAsked"], true);
    // The same open findings as `status`, each on its worker; the orphans apart.
    let open = |document: &Value| {
        let workers = document["environments"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|environment| {
                let clusters = environment["clusters"].as_array();
                let declared = clusters
                    .into_iter()
                    .flatten()
                    .flat_map(|cluster| cluster["workers"].as_array().unwrap());
                let listed = environment["workers"].as_array().into_iter().flatten();
                declared.chain(listed).cloned().collect::<Vec<_>>()
            });
        workers
            .map(|worker| {
                let findings = worker["findings"]
                    .as_array()
                    .or(worker["status"]["findings"].as_array());
                findings
                    .map(|all| all.iter().filter(|finding| finding["fixed"] != true).count())
                    .unwrap_or(0)
            })
            .sum::<usize>()
    };
    assert!(open(&status) > 0);
    let orphans: usize = report["orphans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|orphan| orphan["findings"].as_array().unwrap().len())
        .sum();
    assert_eq!(open(&report) + orphans, open(&status), "{}", run.stdout);
    assert_eq!(report["summary"]["findings"], open(&status));
    assert!(run.stdout.contains("\"health\": \"Healthy\""), "{}", run.stdout);
    let page = workergen_env(fixture.root(), &["report", "--status"], envs);
    assert_eq!(page.code, 0, "{}", page.stderr);
    assert!(!page.stdout.contains("Status was not asked"));
    assert!(
        page.stdout.contains("<select name=\"f\">"),
        "a status page filters by finding"
    );
}
