//! A small Octopus API on 127.0.0.1 for the `status` tests and benchmark: the resource
//! shapes of WORKER-NOTES.md section 10 (as OctopusClients' `WorkerResource`,
//! `WorkerPoolResource`, `MachinePolicyResource` and `SpaceResource` serialize them),
//! served from fixtures; it records every request, applies PUT and DELETE to its state,
//! and can be told to fail (401 for a wrong key, any status with `Retry-After`, slowly,
//! a redirect, a body of any size). It takes the API key as `X-Octopus-ApiKey` and an
//! access token as `Authorization: Bearer`, and answers `GET /api` to anyone.

#![allow(dead_code)] // the benchmark uses only part of it

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub body: Option<Value>,
    /// The credential sent, if any (`X-Octopus-ApiKey` or `Authorization`).
    pub credential: Option<String>,
}

/// Answer `status` (after `delay`) to the next `times` requests whose path contains
/// `path`, instead of serving them.
#[derive(Debug, Clone)]
pub struct Fault {
    pub method: &'static str,
    pub path: String,
    pub status: u16,
    /// The `Retry-After` header as sent: seconds or an HTTP date.
    pub retry_after: Option<String>,
    /// The `Location` header (for a redirect).
    pub location: Option<String>,
    /// Answer 200 with a body of this many bytes, streamed: a JSON array (never closed)
    /// of `body_item` repeated (default: a space).
    pub body_bytes: Option<u64>,
    pub body_item: Option<String>,
    pub times: usize,
    pub delay: Duration,
}

impl Fault {
    pub fn new(method: &'static str, path: &str, status: u16, times: usize) -> Self {
        Self {
            method,
            path: path.to_string(),
            status,
            retry_after: None,
            location: None,
            body_bytes: None,
            body_item: None,
            times,
            delay: Duration::ZERO,
        }
    }

    /// A redirect of `method path` to `location`.
    pub fn redirect(method: &'static str, path: &str, status: u16, location: &str) -> Self {
        let mut fault = Self::new(method, path, status, 1);
        fault.location = Some(location.to_string());
        fault
    }
}

/// One space's resources.
#[derive(Debug, Clone, Default)]
pub struct Space {
    pub name: String,
    pub workers: Vec<Value>,
    pub pools: Vec<Value>,
    pub policies: Vec<Value>,
}

#[derive(Debug, Default)]
pub struct State {
    /// By space id.
    pub spaces: BTreeMap<String, Space>,
    pub api_key: String,
    /// An access token accepted as `Authorization: Bearer`, besides the API key.
    pub access_token: Option<String>,
    /// What `GET /api` says: `InstallationId`.
    pub installation_id: String,
    pub requests: Vec<Recorded>,
    pub faults: Vec<Fault>,
}

pub struct FakeOctopus {
    pub url: String,
    pub state: Arc<Mutex<State>>,
    server: Arc<tiny_http::Server>,
    threads: usize,
}

impl FakeOctopus {
    /// Starts serving `state` on a free port of 127.0.0.1 with `threads` handlers.
    pub fn start(state: State, threads: usize) -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("a free port"));
        let port = server.server_addr().to_ip().expect("an IP address").port();
        let state = Arc::new(Mutex::new(state));
        for _ in 0..threads {
            let server = Arc::clone(&server);
            let state = Arc::clone(&state);
            std::thread::spawn(move || {
                while let Ok(request) = server.recv() {
                    handle(request, &state);
                }
            });
        }
        Self {
            url: format!("http://127.0.0.1:{port}/"),
            state,
            server,
            threads,
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The writes received: PUT and DELETE requests.
    pub fn writes(&self) -> Vec<Recorded> {
        self.requests().into_iter().filter(|r| r.method != "GET").collect()
    }

    pub fn fail(&self, fault: Fault) {
        self.state.lock().unwrap().faults.push(fault);
    }

    pub fn worker(&self, space: &str, id: &str) -> Option<Value> {
        let state = self.state.lock().unwrap();
        state.spaces[space].workers.iter().find(|w| w["Id"] == id).cloned()
    }
}

impl Drop for FakeOctopus {
    fn drop(&mut self) {
        // Handlers still sleeping in a slow answer end on their own.
        for _ in 0..self.threads {
            self.server.unblock();
        }
    }
}

fn respond(request: tiny_http::Request, status: u16, body: &Value, fault: Option<&Fault>) {
    let mut response = tiny_http::Response::from_string(body.to_string())
        .with_status_code(status)
        .with_header(tiny_http::Header::from_bytes("Content-Type", "application/json").unwrap());
    if let Some(value) = fault.and_then(|fault| fault.retry_after.as_ref()) {
        response = response.with_header(tiny_http::Header::from_bytes("Retry-After", value.as_bytes()).unwrap());
    }
    if let Some(value) = fault.and_then(|fault| fault.location.as_ref()) {
        response = response.with_header(tiny_http::Header::from_bytes("Location", value.as_bytes()).unwrap());
    }
    let _ = request.respond(response);
}

/// `[` then `item,` repeated to `bytes`, never closed, made as it is sent: the server
/// holds none of it.
struct Huge {
    item: Vec<u8>,
    left: u64,
    started: bool,
}

impl std::io::Read for Huge {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let item = self.item.as_slice();
        let mut written = 0;
        if !self.started && !buffer.is_empty() {
            buffer[0] = b'[';
            self.started = true;
            written = 1;
        }
        while written + item.len() <= buffer.len() && self.left >= item.len() as u64 {
            buffer[written..written + item.len()].copy_from_slice(item);
            written += item.len();
            self.left -= item.len() as u64;
        }
        Ok(written)
    }
}

fn handle(mut request: tiny_http::Request, state: &Mutex<State>) {
    let method = request.method().as_str().to_string();
    let path = request.url().to_string();
    let header = |name: &'static str| {
        request
            .headers()
            .iter()
            .find(|header| header.field.equiv(name))
            .map(|header| header.value.as_str().to_string())
    };
    let key = header("X-Octopus-ApiKey");
    let authorization = header("Authorization");
    let mut text = String::new();
    let _ = request.as_reader().read_to_string(&mut text);
    let body = serde_json::from_str(&text).ok();
    let fault = {
        let mut state = state.lock().unwrap();
        state.requests.push(Recorded {
            method: method.clone(),
            path: path.clone(),
            body,
            credential: key.clone().or(authorization.clone()),
        });
        if method == "GET" && path == "/api" {
            let root = json!({"Application": "Octopus Deploy", "Version": "2025.3.1", "InstallationId": state.installation_id, "Links": {}});
            drop(state);
            return respond(request, 200, &root, None);
        }
        let bearer = state.access_token.as_ref().map(|token| format!("Bearer {token}"));
        let authenticated =
            key.as_deref() == Some(state.api_key.as_str()) || (bearer.is_some() && authorization == bearer);
        if !authenticated {
            drop(state);
            let error = json!({"ErrorMessage": "You must be logged in to perform this action.", "Errors": ["Invalid API key."]});
            return respond(request, 401, &error, None);
        }
        let found = state
            .faults
            .iter_mut()
            .find(|fault| fault.times > 0 && fault.method == method && path.contains(&fault.path));
        found.map(|fault| {
            fault.times -= 1;
            fault.clone()
        })
    };
    if let Some(fault) = fault {
        std::thread::sleep(fault.delay);
        if let Some(bytes) = fault.body_bytes {
            let item = fault
                .body_item
                .clone()
                .unwrap_or_else(|| r#"{"Id":"Spaces-1","Name":"Default"}"#.to_string());
            let huge = Huge {
                item: format!("{item},").into_bytes(),
                left: bytes,
                started: false,
            };
            let response = tiny_http::Response::new(200.into(), Vec::new(), huge, None, None);
            let _ = request.respond(response);
            return;
        }
        if fault.status != 200 {
            let error = json!({"ErrorMessage": format!("fault {}", fault.status)});
            return respond(request, fault.status, &error, Some(&fault));
        }
    }
    let (status, answer) = serve(&method, &path, &text, state);
    respond(request, status, &answer, None);
}

fn not_found() -> (u16, Value) {
    (
        404,
        json!({"ErrorMessage": "The resource you requested was not found."}),
    )
}

fn serve(method: &str, path: &str, body: &str, state: &Mutex<State>) -> (u16, Value) {
    let mut state = state.lock().unwrap();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method, parts.as_slice()) {
        ("GET", ["api", "spaces", "all"]) => (
            200,
            Value::Array(
                state
                    .spaces
                    .iter()
                    .map(|(id, space)| json!({"Id": id, "Name": space.name, "Slug": space.name.to_lowercase(), "IsDefault": id == "Spaces-1", "TaskQueueStopped": false, "SpaceManagersTeams": [], "Links": {"Self": format!("/api/spaces/{id}")}}))
                    .collect(),
            ),
        ),
        ("GET", ["api", space, kind, "all"]) => {
            let Some(space) = state.spaces.get(*space) else {
                return not_found();
            };
            match *kind {
                "workers" => (200, Value::Array(space.workers.clone())),
                "workerpools" => (200, Value::Array(space.pools.clone())),
                "machinepolicies" => (200, Value::Array(space.policies.clone())),
                _ => not_found(),
            }
        }
        ("PUT", ["api", space, "workers", id]) => {
            let Ok(new) = serde_json::from_str::<Value>(body) else {
                return (400, json!({"ErrorMessage": "bad JSON"}));
            };
            let Some(space) = state.spaces.get_mut(*space) else {
                return not_found();
            };
            match space.workers.iter_mut().find(|worker| worker["Id"] == *id) {
                Some(worker) => {
                    *worker = new.clone();
                    (200, new)
                }
                None => not_found(),
            }
        }
        ("DELETE", ["api", space, "workers", id]) => {
            let Some(space) = state.spaces.get_mut(*space) else {
                return not_found();
            };
            let before = space.workers.len();
            space.workers.retain(|worker| worker["Id"] != *id);
            if space.workers.len() == before {
                not_found()
            } else {
                (200, json!({}))
            }
        }
        _ => not_found(),
    }
}

/// A worker as `workers/all` lists it: every field OctopusClients' `WorkerResource`
/// carries, so a PUT that sends the whole resource back can be checked.
pub fn worker(id: &str, name: &str, pools: &[&str], policy: &str) -> Value {
    json!({
        "Id": id,
        "Name": name,
        "SpaceId": "Spaces-1",
        "WorkerPoolIds": pools,
        "MachinePolicyId": policy,
        "IsDisabled": false,
        "HealthStatus": "Healthy",
        "HasLatestCalamari": true,
        "StatusSummary": "Octopus was able to successfully establish a connection with this machine on 2026-11-01",
        "IsInProcess": false,
        "Thumbprint": "96203ED84246201C26A2F4360D7CBC36AC1D232D",
        "Uri": format!("poll://{}/", id.to_lowercase()),
        "OperatingSystem": "Linux",
        "ShellName": "Bash",
        "ShellVersion": "5.2.15",
        "Architecture": "x64",
        "Endpoint": {
            "Id": null,
            "CommunicationStyle": "KubernetesTentacle",
            "TentacleEndpointConfiguration": {
                "CommunicationMode": "Polling",
                "Thumbprint": "96203ED84246201C26A2F4360D7CBC36AC1D232D",
                "Uri": format!("poll://{}/", id.to_lowercase())
            },
            "KubernetesAgentDetails": {
                "AgentVersion": "3.13.2",
                "TentacleVersion": "9.2.4285",
                "UpgradeStatus": "UpToDate",
                "HelmReleaseName": name,
                "KubernetesNamespace": format!("octopus-agent-{name}")
            },
            "UpgradeLocked": false,
            "DefaultNamespace": null,
            "Links": {}
        },
        "Links": {"Self": format!("/api/Spaces-1/workers/{id}")}
    })
}

pub fn pool(id: &str, name: &str, slug: &str) -> Value {
    json!({
        "Id": id,
        "Name": name,
        "Slug": slug,
        "WorkerPoolType": "StaticWorkerPool",
        "IsDefault": id == "WorkerPools-1",
        "CanAddWorkers": true,
        "SortOrder": 1,
        "Description": null,
        "SpaceId": "Spaces-1",
        "Links": {}
    })
}

/// A machine policy; `update` is its `KubernetesAgentUpdateBehavior`.
pub fn policy(id: &str, name: &str, default: bool, update: &str) -> Value {
    json!({
        "Id": id,
        "Name": name,
        "IsDefault": default,
        "SpaceId": "Spaces-1",
        "MachineUpdatePolicy": {
            "CalamariUpdateBehavior": "UpdateOnDeployment",
            "TentacleUpdateBehavior": "NeverUpdate",
            "KubernetesAgentUpdateBehavior": update,
            "TentacleUpdateAccountId": null
        },
        "Links": {}
    })
}
