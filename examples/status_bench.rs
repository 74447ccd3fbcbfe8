//! The `status` benchmark (issue 12): 20 environments, 10,000 workers, served by the test
//! Octopus API (tests/octopus_api.rs) on 127.0.0.1; reports the wall time of
//! `workergen status --format json` and the number of requests the server saw.
//!
//!     cargo run --release --example status_bench -- target/release/workergen [RUNS]
//!
//! bench/status.sh builds both and runs it. Every 100th worker is registered in the
//! wrong pool, so the report has findings to write.

#[path = "../tests/octopus_api.rs"]
mod octopus_api;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use octopus_api::{policy, pool, worker, FakeOctopus, Space, State};

const ENVIRONMENTS: usize = 20;
const CLUSTERS: usize = 50;
const WORKERS: usize = 10;
const KEY: &str = "API-BENCHMARK000000000";

fn main() {
    let mut args = std::env::args().skip(1);
    let binary = args.next().expect("usage: status_bench WORKERGEN_BINARY [RUNS]");
    let runs: usize = args.next().map_or(3, |runs| runs.parse().expect("RUNS is a number"));
    let api = FakeOctopus::start(state(), 8);
    let dir = tempfile::tempdir().expect("a temp dir");
    write_repo(dir.path(), &api.url);
    let mut times = Vec::new();
    for _ in 0..runs {
        let before = api.requests().len();
        let start = Instant::now();
        let output = Command::new(&binary)
            .arg("-C")
            .arg(dir.path())
            .args(["-q", "status", "--format", "json"])
            .env("OCTOPUS_API_KEY", KEY)
            .env("CI", "true")
            .output()
            .expect("workergen runs");
        let elapsed = start.elapsed();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let document: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        let requests = api.requests().len() - before;
        println!(
            "status: {:.3} s, {requests} requests, {} workers, {} findings",
            elapsed.as_secs_f64(),
            document["summary"]["workers"],
            document["summary"]["findings"]
        );
        times.push(elapsed.as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{ENVIRONMENTS} environments, {} workers: best {:.3} s, median {:.3} s",
        ENVIRONMENTS * CLUSTERS * WORKERS,
        times[0],
        times[times.len() / 2]
    );
}

fn name(environment: usize, cluster: usize, worker: usize) -> String {
    format!("env-{environment:02}-cluster-{cluster:02}-worker-{worker:02}")
}

fn state() -> State {
    let mut state = State {
        api_key: KEY.into(),
        ..State::default()
    };
    for environment in 0..ENVIRONMENTS {
        let mut workers = Vec::new();
        for cluster in 0..CLUSTERS {
            for index in 0..WORKERS {
                let id = format!("Workers-{}", workers.len() + 1);
                let serial = cluster * WORKERS + index;
                let pools: &[&str] = if serial % 100 == 0 {
                    &["WorkerPools-1"]
                } else {
                    &["WorkerPools-2"]
                };
                workers.push(worker(
                    &id,
                    &name(environment, cluster, index),
                    pools,
                    "MachinePolicies-2",
                ));
            }
        }
        state.spaces.insert(
            format!("Spaces-{}", environment + 1),
            Space {
                name: format!("env-{environment:02}"),
                workers,
                pools: vec![
                    pool("WorkerPools-1", "Default Worker Pool", "default-worker-pool"),
                    pool("WorkerPools-2", "Linux Build Workers", "linux-build-workers"),
                ],
                policies: vec![
                    policy("MachinePolicies-1", "Default Machine Policy", true, "Update"),
                    policy("MachinePolicies-2", "GitOps", false, "NeverUpdate"),
                ],
            },
        );
    }
    state
}

fn write_repo(root: &Path, url: &str) {
    let write = |path: &Path, text: String| {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("a folder");
        std::fs::write(path, text).expect("a file");
    };
    write(
        &root.join("workergen.yaml"),
        "acceptEula: true\ndefaults:\n  machinePolicy: GitOps\n  workerPools: [Linux Build Workers]\n".into(),
    );
    for environment in 0..ENVIRONMENTS {
        let folder = root.join(format!("environments/env-{environment:02}"));
        write(
            &folder.join("environment.yaml"),
            format!(
                "octopus:\n  serverUrl: {url}\n  serverCommsAddresses: [https://octopus.example.com:10943/]\n  space: env-{environment:02}\n  auth: {{ bearerTokenSecret: octopus-worker-token }}\n"
            ),
        );
        for cluster in 0..CLUSTERS {
            let mut text =
                format!("cluster:\n  destination: {{ server: https://cluster-{cluster:02}.example.com }}\nworkers:\n");
            for index in 0..WORKERS {
                text.push_str(&format!("  worker-{index:02}: {{}}\n"));
            }
            write(&folder.join(format!("cluster-{cluster:02}.yaml")), text);
        }
    }
}
