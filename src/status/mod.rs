//! `workergen status`: the declared workers against what
//! each Octopus server has registered, and the fixes Helm cannot make.
//!
//! Octopus reads `workerPools` and the machine policy once, at registration; a removed
//! worker stays registered; a policy that lets Octopus upgrade agents fights Flux and
//! Argo CD. No GitOps tool sees this. [`status`] runs in three phases:
//!
//! 1. read: per Octopus server and space (environments that share one are asked once,
//!    so an orphan is judged against every declaration for that space), concurrently,
//!    the four `GET .../all` endpoints ([`client`]);
//! 2. compare: findings per worker ([`compare`]), a pure function of what was read;
//! 3. write, only with `--apply` / `--prune`: PUT the whole worker back with its pools and
//!    policy changed, DELETE orphans ([`apply`]); each write is reported as it is made.
//!
//! The outputs are [`text`], [`markdown`] and [`json`] (docs/status-json.md).

pub mod apply;
pub mod client;
pub mod compare;
pub mod json;
pub mod markdown;
mod report;
pub mod resource;
pub mod text;

pub use report::{EnvironmentStatus, Finding, FindingKind, StatusReport, WorkerStatus, Write, WriteOutcome};
pub use resource::{MachinePolicyResource, Registered, SpaceResource, WorkerPoolResource, WorkerResource};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::Deserialize;

use crate::diagnostic::Diagnostic;
use crate::model::{Environment, Fleet};
use crate::source::Loc;
use client::{Client, ClientOptions, Credential, Method, TransportKind};

/// The variable that holds the API key when `octopus.apiKeyEnv` names none.
pub const DEFAULT_API_KEY_ENV: &str = "OCTOPUS_API_KEY";

/// `text` with its control characters escaped (`\u{1b}` as `\x1b`, a newline as `\n`),
/// so that a string from the API cannot move the cursor, clear the screen or forge a
/// line of the report.
/// `1 worker`, `2 workers`: a count with its noun.
pub(crate) fn counted(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("{count} {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

pub fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    let escaped = |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(escaped) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            // Bidirectional overrides reorder what a terminal shows.
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// What the user asked of `status`.
#[derive(Debug, Clone, Default)]
pub struct StatusOptions {
    /// Only this environment.
    pub environment: Option<String>,
    /// Only this cluster's workers (orphans cannot be told apart by cluster: none shown).
    pub cluster: Option<String>,
    /// Set pools and machine policy of registered declared workers.
    pub apply: bool,
    /// Delete orphaned workers.
    pub prune: bool,
    /// With `prune`: delete Healthy orphans too.
    pub force: bool,
    /// Plan and print the writes of `apply` / `prune` without making them.
    pub dry_run: bool,
    pub client: ClientOptions,
}

/// What `status` tells its caller while it works.
pub trait Events: Sync {
    /// This many Octopus servers (and spaces) are about to be read.
    fn reading(&self, _servers: usize) {}
    /// One Octopus server and space has been read.
    fn server_read(&self) {}
    /// An orphan is about to be deleted: what is known of it, printed first.
    fn deleting(&self, _write: &Write) {}
    /// A write was made (or failed); printed as it happens.
    fn wrote(&self, _write: &Write) {}
    /// A request is waiting before a retry (the server is busy, or asked to wait).
    fn waiting(&self, _message: &str) {}
    /// Something the user should know that is no finding (a policy that upgrades agents).
    fn warning(&self, _message: &str) {}
}

impl Events for () {}

/// Why `status` could not finish.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("environment `{environment}`: the {} variable `{variable}` is not set", if *token { "access token" } else { "API key" })]
    MissingApiKey {
        environment: String,
        variable: String,
        /// The variable was named by `accessTokenEnv`.
        token: bool,
        loc: Loc,
    },
    #[error("environment `{environment}`: `octopus.{field}: {variable}` is not an environment variable name")]
    BadApiKeyEnv {
        environment: String,
        field: &'static str,
        variable: String,
        loc: Loc,
    },
    #[error("no environment `{name}`; there are: {known}")]
    UnknownEnvironment { name: String, known: String },
    #[error("no cluster `{name}` in the selected environments")]
    UnknownCluster { name: String },
    #[error("`--prune` deletes every orphan of a space, so it cannot be limited with `--cluster`")]
    PruneWithCluster,
    #[error("environment `{environment}`: {method} {url} answered {status}{}", message.as_ref().map(|m| format!(": {m}")).unwrap_or_default())]
    Http {
        environment: String,
        method: Method,
        url: String,
        status: u16,
        message: Option<String>,
    },
    #[error("environment `{environment}`: {method} {url}: {kind}: {detail}")]
    Transport {
        environment: String,
        method: Method,
        url: String,
        kind: TransportKind,
        detail: String,
    },
    #[error("environment `{environment}`: {method} {url} answered {status}, a redirect to `{location}`, which is not followed{}", if *cross_origin { " (another origin)" } else { "" })]
    Redirect {
        environment: String,
        method: Method,
        url: String,
        status: u16,
        location: String,
        cross_origin: bool,
    },
    #[error("environment `{environment}`: {url}: the response is larger than {} MB", limit / 1_000_000)]
    TooLarge {
        environment: String,
        url: String,
        limit: u64,
    },
    #[error("environment `{environment}`: cannot tell whether {url} is the same Octopus server as another environment's: {cause}")]
    Identity {
        environment: String,
        url: String,
        cause: Box<StatusError>,
    },
    #[error("environment `{environment}`: set `octopus.apiKeyEnv` or `octopus.accessTokenEnv`, not both")]
    TwoCredentials { environment: String, loc: Loc },
    #[error("environment `{environment}`: {url}: not the response Octopus gives: {detail}")]
    Response {
        environment: String,
        url: String,
        detail: String,
    },
    #[error("environment `{environment}`: {server} has no space `{space}`")]
    SpaceNotFound {
        environment: String,
        server: String,
        space: String,
        known: Vec<String>,
    },
    /// A write failed part-way; the report says which writes were made.
    #[error("{cause}")]
    Incomplete {
        report: Box<StatusReport>,
        cause: Box<StatusError>,
    },
}

impl StatusError {
    /// Bad input (exit 2) rather than an API or network failure (exit 3).
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            StatusError::MissingApiKey { .. }
                | StatusError::BadApiKeyEnv { .. }
                | StatusError::TwoCredentials { .. }
                | StatusError::UnknownEnvironment { .. }
                | StatusError::UnknownCluster { .. }
                | StatusError::PruneWithCluster
        )
    }

    /// Where in the declarations the problem is, as a diagnostic to print with its line.
    pub fn diagnostic(&self) -> Option<Diagnostic> {
        match self {
            StatusError::MissingApiKey { loc, .. }
            | StatusError::BadApiKeyEnv { loc, .. }
            | StatusError::TwoCredentials { loc, .. } => {
                Some(Diagnostic::error(*loc, self.to_string()).with_hint_opt(self.hint()))
            }
            _ => None,
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            StatusError::MissingApiKey { variable, token: false, .. } => Some(format!(
                "export `{variable}` with an Octopus API key that may view and edit workers (`export {variable}=API-...`), or name another variable in `octopus.apiKeyEnv`"
            )),
            StatusError::MissingApiKey { variable, token: true, .. } => Some(format!(
                "export `{variable}` with an Octopus access token (a service account's, from an OIDC exchange), or name another variable in `octopus.accessTokenEnv`"
            )),
            StatusError::TwoCredentials { .. } => Some(
                "an API key (`API-...`) goes in the variable `apiKeyEnv` names, an access token (OIDC, a service account's) in the one `accessTokenEnv` names".into(),
            ),
            StatusError::BadApiKeyEnv { .. } => {
                Some("letters, digits and `_`, not starting with a digit, e.g. `OCTOPUS_PRODUCTION_API_KEY`".into())
            }
            StatusError::PruneWithCluster => Some("run `--prune` with `--env` only, or without a scope".into()),
            StatusError::Http { status: 401, .. } => Some(
                "Octopus refused the credential: check that the variable holds a valid, unexpired API key (`octopus.apiKeyEnv`) or access token (`octopus.accessTokenEnv`) for this server".into(),
            ),
            StatusError::Http { status: 403, method: Method::Get, .. } => Some(
                "the key's user may not read this: `status` needs WorkerView and MachinePolicyView in the space (and SpaceView to list spaces)".into(),
            ),
            StatusError::Http { status: 403, method: Method::Put, .. } => Some(
                "the key's user may not change workers: `--apply` needs WorkerEdit in the space (`status` alone needs only WorkerView and MachinePolicyView)".into(),
            ),
            StatusError::Http { status: 403, method: Method::Delete, .. } => Some(
                "the key's user may not delete workers: `--prune` needs WorkerEdit in the space (`status` alone needs only WorkerView and MachinePolicyView)".into(),
            ),
            StatusError::Redirect { cross_origin: true, location, .. } => Some(format!(
                "the credential is sent only to `octopus.serverUrl`'s origin; if the server really is at `{}`, set `octopus.serverUrl` to it",
                crate::server_url::origin(location)
            )),
            StatusError::Redirect { location, .. } => Some(format!(
                "a write is never sent again after a redirect (it would arrive as a GET, and nothing would be written): set `octopus.serverUrl` so that `{location}` is not redirected"
            )),
            StatusError::TooLarge { .. } => Some(
                "check that `octopus.serverUrl` is the Octopus Server; only the `workers/all` of a very large space can pass the limit, and `WORKERGEN_HTTP_MAX_BODY_MB` raises it (default 100)".into(),
            ),
            StatusError::Identity { .. } => Some(
                "`--prune` deletes only when every environment's server is known (`GET /api` names it by its `InstallationId`): make the server reachable, or prune with `--env` once it is".into(),
            ),
            StatusError::Http { status: 404, .. } => Some(
                "not found: check `octopus.space` and `octopus.serverUrl` (the Octopus Server's URL, without `/api`)".into(),
            ),
            StatusError::Http { status, .. } if *status == 429 || *status >= 500 => {
                Some("the server kept failing after retries: try again later, or check its health".into())
            }
            StatusError::Transport {
                kind: TransportKind::Tls,
                ..
            } => Some(
                "the server's certificate is not trusted: when it comes from a private CA (as `octopus.serverCertificateSecret` suggests), point `SSL_CERT_FILE` at that CA's PEM file; the Secret reaches only the agents".into(),
            ),
            StatusError::Transport {
                kind: TransportKind::Timeout,
                ..
            } => Some("the server did not answer in time; set `WORKERGEN_HTTP_TIMEOUT` (seconds) to wait longer".into()),
            StatusError::Transport {
                kind: TransportKind::Connect,
                ..
            } => Some("check `octopus.serverUrl` and that this machine reaches the server".into()),
            StatusError::SpaceNotFound { known, .. } => Some(format!(
                "`octopus.space` names a space by name or id; the API key sees: {}",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )),
            StatusError::Response { .. } => Some(
                "check that `octopus.serverUrl` is the Octopus Server itself (not a proxy's login page) and that it is a supported version".into(),
            ),
            StatusError::Incomplete { cause, .. } => cause.hint(),
            _ => None,
        }
    }
}

/// Environments that share one Octopus server and space, asked once.
#[derive(Debug)]
struct Server<'a> {
    /// The lead environment's `serverUrl`, where requests go.
    url: String,
    /// What makes two URLs one server: see [`identities`].
    identity: String,
    /// `octopus.space` as written (default `Default`).
    space: String,
    /// Every environment of the fleet on this server whose `space` is written alike.
    environments: Vec<&'a Environment>,
    /// The first selected environment: names the server in errors, holds the orphans in
    /// the report.
    lead: &'a Environment,
    credential: Credential,
}

/// Each environment's server, as a key: the normalised URL, or the server's
/// `InstallationId` when [`identities`] learnt it.
struct Identities(std::collections::HashMap<String, String>);

impl Identities {
    fn of(&self, environment: &Environment) -> String {
        let url = crate::server_url::normalize(environment.octopus.server_url.as_deref().unwrap_or_default());
        self.0.get(&url).cloned().unwrap_or(url)
    }
}

/// Compares the declared fleet with what its Octopus servers have registered; with
/// `--apply` / `--prune` in `options`, fixes what it may.
///
/// `variable` reads an environment variable (so tests inject keys); `events` hears of
/// progress and of each write.
pub fn status(
    fleet: &Fleet,
    options: &StatusOptions,
    variable: &dyn Fn(&str) -> Option<String>,
    events: &dyn Events,
) -> Result<StatusReport, StatusError> {
    let selected = select(fleet, options)?;
    for &index in &selected {
        credential(&fleet.environments[index], variable)?;
    }
    let requests = Arc::new(AtomicUsize::new(0));
    let waiting = |message: &str| events.waiting(message);
    let identities = identities(fleet, options, &requests, &waiting)?;
    let servers = servers(fleet, &selected, &identities, variable)?;
    events.reading(servers.len());
    let registered = read_all(&servers, &options.client, &requests, events)?;
    let mut report = StatusReport {
        environments: Vec::new(),
        writes: Vec::new(),
        wrote: options.apply || options.prune,
        requests: 0,
    };
    let mut plans = Vec::new();
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for (server, registered) in servers.iter().zip(&registered) {
        let orphans = !seen.contains(&(server.identity.as_str(), registered.space_id.as_str()));
        seen.push((&server.identity, &registered.space_id));
        let scope = compare::ServerScope {
            lead: server.lead,
            shown: server
                .environments
                .iter()
                .copied()
                .filter(|environment| {
                    selected
                        .iter()
                        .any(|&index| fleet.environments[index].name == environment.name)
                })
                .collect(),
            judged: fleet
                .environments
                .iter()
                .filter(|environment| {
                    identities.of(environment) == server.identity
                        && find_space(&registered.spaces, &space_of(environment))
                            .is_some_and(|found| found.id == registered.space_id)
                })
                .collect(),
            orphans,
        };
        let compared = compare::compare(fleet, &scope, registered, options);
        for warning in &compared.warnings {
            events.warning(warning);
        }
        report.environments.extend(compared.environments);
        plans.push(compared.plan);
    }
    report.environments.sort_by(|a, b| a.name.cmp(&b.name));
    let failure = if report.wrote {
        let clients: Vec<Client<'_>> = servers
            .iter()
            .map(|server| client(server, &options.client, &requests, &waiting))
            .collect();
        apply::apply(&clients, plans, &mut report, options.dry_run, events)
    } else {
        None
    };
    report.requests = requests.load(Ordering::Relaxed);
    match failure {
        None => Ok(report),
        Some(cause) => Err(StatusError::Incomplete {
            report: Box::new(report),
            cause: Box::new(cause),
        }),
    }
}

/// The selected environments (by index), after checking `--env` / `--cluster`.
fn select(fleet: &Fleet, options: &StatusOptions) -> Result<Vec<usize>, StatusError> {
    if options.prune && options.cluster.is_some() {
        return Err(StatusError::PruneWithCluster);
    }
    let selected: Vec<usize> = (0..fleet.environments.len())
        .filter(|&index| {
            options
                .environment
                .as_ref()
                .is_none_or(|name| &fleet.environments[index].name == name)
        })
        .collect();
    if let Some(name) = &options.environment {
        if selected.is_empty() {
            let known: Vec<&str> = fleet.environments.iter().map(|e| e.name.as_str()).collect();
            return Err(StatusError::UnknownEnvironment {
                name: name.clone(),
                known: known.join(", "),
            });
        }
    }
    if let Some(name) = &options.cluster {
        let found = fleet
            .clusters
            .iter()
            .any(|cluster| &cluster.name == name && selected.contains(&cluster.environment));
        if !found {
            return Err(StatusError::UnknownCluster { name: name.clone() });
        }
    }
    Ok(selected)
}

/// `octopus.space` (default `Default`).
fn space_of(environment: &Environment) -> String {
    environment.octopus.space.clone().unwrap_or_else(|| "Default".into())
}

/// Octopus's root document: who the server is.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RootDocument {
    #[serde(default)]
    installation_id: Option<String>,
}

/// When the fleet names more than one server URL (after [`crate::server_url::normalize`]),
/// asks each for its `InstallationId` (`GET /api`, which Octopus answers without a key:
/// none is sent), so that an HA node and its load balancer, or two host names of one
/// server, are one server. A URL that does not answer keeps its own identity, unless
/// `--prune` would delete on that guess: then it is an error.
fn identities(
    fleet: &Fleet,
    options: &StatusOptions,
    requests: &Arc<AtomicUsize>,
    waiting: &(dyn Fn(&str) + Sync),
) -> Result<Identities, StatusError> {
    let mut urls: Vec<(String, &Environment)> = Vec::new();
    for environment in &fleet.environments {
        let Some(url) = environment.octopus.server_url.as_deref() else {
            continue;
        };
        let normalized = crate::server_url::normalize(url);
        if !urls.iter().any(|(known, _)| *known == normalized) {
            urls.push((normalized, environment));
        }
    }
    if urls.len() < 2 {
        return Ok(Identities(std::collections::HashMap::new()));
    }
    let answers: Vec<Result<RootDocument, StatusError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = urls
            .iter()
            .map(|(_, environment)| {
                scope.spawn(move || {
                    let url = environment.octopus.server_url.as_deref().unwrap_or_default();
                    Client::new(
                        url,
                        Credential::None,
                        &environment.name,
                        &options.client,
                        Arc::clone(requests),
                        waiting,
                    )
                    .get::<RootDocument>("/api")
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("a server's identity is read"))
            .collect()
    });
    let mut identities = std::collections::HashMap::new();
    for ((normalized, environment), answer) in urls.into_iter().zip(answers) {
        match answer {
            Ok(RootDocument {
                installation_id: Some(id),
            }) if !id.trim().is_empty() => {
                identities.insert(normalized, format!("installation:{}", id.trim().to_ascii_lowercase()));
            }
            Err(cause) if options.prune => {
                return Err(StatusError::Identity {
                    environment: environment.name.clone(),
                    url: environment.octopus.server_url.clone().unwrap_or_default(),
                    cause: Box::new(cause),
                })
            }
            // No id, or no answer (and nothing is deleted on the guess): the URL stands.
            Ok(_) | Err(_) => {}
        }
    }
    Ok(Identities(identities))
}

/// Groups the selected environments by server and space; reads each group's credential.
fn servers<'a>(
    fleet: &'a Fleet,
    selected: &[usize],
    identities: &Identities,
    variable: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Server<'a>>, StatusError> {
    let mut servers: Vec<Server<'a>> = Vec::new();
    for &index in selected {
        let environment = &fleet.environments[index];
        let credential = credential(environment, variable)?;
        let identity = identities.of(environment);
        let space = space_of(environment);
        if servers
            .iter()
            .any(|server| server.identity == identity && server.space.eq_ignore_ascii_case(&space))
        {
            continue;
        }
        let environments = fleet
            .environments
            .iter()
            .filter(|other| identities.of(other) == identity && space_of(other).eq_ignore_ascii_case(&space))
            .collect();
        servers.push(Server {
            url: environment.octopus.server_url.clone().unwrap_or_default(),
            identity,
            space,
            environments,
            lead: environment,
            credential,
        });
    }
    Ok(servers)
}

/// The environment's API key (`octopus.apiKeyEnv`, default `OCTOPUS_API_KEY`) or access
/// token (`octopus.accessTokenEnv`), read from the variable it names.
pub(crate) fn credential(
    environment: &Environment,
    variable: &dyn Fn(&str) -> Option<String>,
) -> Result<Credential, StatusError> {
    let node = &environment.octopus_node;
    let octopus = &environment.octopus;
    let (field, name, token) = match (&octopus.api_key_env, &octopus.access_token_env) {
        (Some(_), Some(_)) => {
            return Err(StatusError::TwoCredentials {
                environment: environment.name.clone(),
                loc: node.get("accessTokenEnv").map_or(node.loc, |child| child.loc),
            })
        }
        (None, Some(name)) => ("accessTokenEnv", name.clone(), true),
        (Some(name), None) => ("apiKeyEnv", name.clone(), false),
        (None, None) => ("apiKeyEnv", DEFAULT_API_KEY_ENV.to_string(), false),
    };
    let loc = node.get(field).map_or(node.loc, |child| child.loc);
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(StatusError::BadApiKeyEnv {
            environment: environment.name.clone(),
            field,
            variable: name,
            loc,
        });
    }
    match variable(&name) {
        Some(secret) if !secret.trim().is_empty() => {
            let secret = secret.trim().to_string();
            Ok(if token {
                Credential::Bearer(secret)
            } else {
                Credential::ApiKey(secret)
            })
        }
        _ => Err(StatusError::MissingApiKey {
            environment: environment.name.clone(),
            variable: name,
            token,
            loc,
        }),
    }
}

fn client<'w>(
    server: &Server<'_>,
    options: &ClientOptions,
    requests: &Arc<AtomicUsize>,
    waiting: &'w (dyn Fn(&str) + Sync),
) -> Client<'w> {
    Client::new(
        &server.url,
        server.credential.clone(),
        &server.lead.name,
        options,
        Arc::clone(requests),
        waiting,
    )
}

/// The most servers read at once: the work is waiting on the network, not the CPU.
const READERS: usize = 16;

/// Reads every server, several at once; the first error in environment order wins.
fn read_all(
    servers: &[Server<'_>],
    options: &ClientOptions,
    requests: &Arc<AtomicUsize>,
    events: &dyn Events,
) -> Result<Vec<Registered>, StatusError> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Registered, StatusError>>>> =
        Mutex::new(servers.iter().map(|_| None).collect());
    let waiting = |message: &str| events.waiting(message);
    std::thread::scope(|scope| {
        for _ in 0..servers.len().min(READERS) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(server) = servers.get(index) else {
                    break;
                };
                let result = read(&client(server, options, requests, &waiting), server);
                events.server_read();
                if let Ok(mut results) = results.lock() {
                    results[index] = Some(result);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    results
        .into_iter()
        .map(|result| result.expect("every server is read"))
        .collect()
}

/// A space by id or name (any case), as `octopus.space` and the chart's `agent.space` take it.
fn find_space<'a>(spaces: &'a [SpaceResource], reference: &str) -> Option<&'a SpaceResource> {
    spaces
        .iter()
        .find(|space| space.id == reference || space.name.eq_ignore_ascii_case(reference))
}

/// The four reads of one server and space.
fn read(client: &Client<'_>, server: &Server<'_>) -> Result<Registered, StatusError> {
    let spaces: Vec<SpaceResource> = client.get("/api/spaces/all")?;
    let Some(space) = find_space(&spaces, &server.space) else {
        let mut known: Vec<String> = spaces.iter().map(|space| format!("`{}`", space.name)).collect();
        known.sort();
        return Err(StatusError::SpaceNotFound {
            environment: server.lead.name.clone(),
            server: server.url.clone(),
            space: server.space.clone(),
            known,
        });
    };
    let space_id = space.id.clone();
    let raw: Vec<Box<serde_json::value::RawValue>> = client.get_large(&format!("/api/{space_id}/workers/all"))?;
    let mut workers = Vec::with_capacity(raw.len());
    for value in raw {
        let worker = serde_json::from_str::<WorkerResource>(value.get()).map_err(|error| StatusError::Response {
            environment: server.lead.name.clone(),
            url: client.url(&format!("/api/{space_id}/workers/all")),
            detail: error.to_string(),
        })?;
        workers.push((worker, value));
    }
    let pools = client.get(&format!("/api/{space_id}/workerpools/all"))?;
    let policies = client.get(&format!("/api/{space_id}/machinepolicies/all"))?;
    Ok(Registered {
        space_id,
        spaces,
        workers,
        pools,
        policies,
    })
}

impl crate::hint::Hint for StatusError {
    fn hint(&self) -> Option<String> {
        StatusError::hint(self)
    }
}
