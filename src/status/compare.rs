//! Findings: the declared workers of one Octopus server and space against what it has
//! registered, and the writes that `--apply` / `--prune` would make. Pure: no I/O.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::apply::Planned;
use super::client::Method;
use super::{
    EnvironmentStatus, Finding, FindingKind, MachinePolicyResource, Registered, StatusOptions, WorkerPoolResource,
    WorkerResource, WorkerStatus, Write, WriteOutcome,
};
use crate::model::{Environment, Fleet, Worker};

/// One server's share of the report, its planned writes, and what the user should know
/// of them.
pub struct Compared {
    pub environments: Vec<EnvironmentStatus>,
    pub plan: Vec<Planned>,
    pub warnings: Vec<String>,
}

/// Which registration belongs to which declared worker.
///
/// By name, as Octopus compares names (without case); else by the Helm release and
/// namespace in `KubernetesAgentDetails`, when that pair belongs to exactly one declared
/// worker not matched by name and to exactly one registration not matched by name (the
/// same pair in two clusters, `deploy` in `octopus-agent-deploy`, is common: the API does
/// not say which cluster a registration runs in, so a shared pair matches nothing).
#[derive(Debug, Default)]
struct Identity {
    /// By index in `fleet.workers`: the index in `Registered::workers`, and whether the
    /// match is by release and namespace (a rename).
    by_worker: HashMap<usize, (usize, bool)>,
    /// Registrations some declared worker has.
    matched: HashSet<usize>,
}

impl Identity {
    fn new(judged: &[(usize, &Worker)], registered: &Registered) -> Self {
        let mut by_name: HashMap<String, usize> = HashMap::new();
        for (index, (worker, _)) in registered.workers.iter().enumerate() {
            by_name.entry(worker.name.to_lowercase()).or_insert(index);
        }
        let mut identity = Identity::default();
        let mut unmatched: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        for &(index, worker) in judged {
            match by_name.get(&worker.display_name.value.to_lowercase()) {
                Some(&registration) => {
                    identity.by_worker.insert(index, (registration, false));
                    identity.matched.insert(registration);
                }
                None => unmatched
                    .entry((worker.name.as_str(), worker.namespace.value.as_str()))
                    .or_default()
                    .push(index),
            }
        }
        let mut pairs: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        for (index, (worker, _)) in registered.workers.iter().enumerate() {
            if identity.matched.contains(&index) || !worker.is_kubernetes_agent() {
                continue;
            }
            let details = worker.agent_details();
            let release = details.and_then(|details| details.helm_release_name.as_deref());
            let namespace = details.and_then(|details| details.kubernetes_namespace.as_deref());
            if let (Some(release), Some(namespace)) = (release, namespace) {
                pairs.entry((release, namespace)).or_default().push(index);
            }
        }
        for (pair, registrations) in pairs {
            if let ([registration], Some([worker])) =
                (registrations.as_slice(), unmatched.get(&pair).map(Vec::as_slice))
            {
                identity.by_worker.insert(*worker, (*registration, true));
                identity.matched.insert(*registration);
            }
        }
        identity
    }
}

/// What the space has, indexed for lookups by id, name or slug.
struct Space<'a> {
    registered: &'a Registered,
    pools: Vec<&'a WorkerPoolResource>,
    policies: HashMap<&'a str, &'a MachinePolicyResource>,
}

impl<'a> Space<'a> {
    fn new(registered: &'a Registered) -> Self {
        Self {
            registered,
            pools: registered.pools.iter().collect(),
            policies: registered
                .policies
                .iter()
                .map(|policy| (policy.id.as_str(), policy))
                .collect(),
        }
    }

    /// A pool as registration accepts it: by id, name (any case) or slug.
    fn pool(&self, reference: &str) -> Option<&'a WorkerPoolResource> {
        self.pools.iter().copied().find(|pool| {
            pool.id == reference || pool.name.eq_ignore_ascii_case(reference) || pool.slug.as_deref() == Some(reference)
        })
    }

    fn pool_name(&self, id: &str) -> String {
        self.pools
            .iter()
            .find(|pool| pool.id == id)
            .map_or_else(|| id.to_string(), |pool| pool.name.clone())
    }

    /// A policy by id or name (any case), as `--policy` accepts it.
    fn policy(&self, reference: &str) -> Option<&'a MachinePolicyResource> {
        self.registered
            .policies
            .iter()
            .find(|policy| policy.id == reference || policy.name.eq_ignore_ascii_case(reference))
    }

    fn default_policy(&self) -> Option<&'a MachinePolicyResource> {
        self.registered.policies.iter().find(|policy| policy.is_default)
    }

    fn policy_name(&self, id: &str) -> String {
        self.policies
            .get(id)
            .map_or_else(|| id.to_string(), |policy| policy.name.clone())
    }
}

/// Which environments one read of a server and space serves.
pub struct ServerScope<'a> {
    /// Names the server; holds its orphans in the report.
    pub lead: &'a Environment,
    /// The selected environments read through it: shown in the report.
    pub shown: Vec<&'a Environment>,
    /// Every environment of the fleet on this server and space, selected or not: a
    /// worker any of them declares is no orphan.
    pub judged: Vec<&'a Environment>,
    /// Whether this space's orphans are reported here (once per server and space, even
    /// when environments name the space differently).
    pub orphans: bool,
}

/// Compares one server and space.
pub fn compare(fleet: &Fleet, scope: &ServerScope<'_>, registered: &Registered, options: &StatusOptions) -> Compared {
    let space = Space::new(registered);
    let names: Vec<&str> = scope
        .judged
        .iter()
        .map(|environment| environment.name.as_str())
        .collect();
    let in_server = |worker: &Worker| names.contains(&fleet.environments[worker.environment].name.as_str());
    let judged: Vec<(usize, &Worker)> = fleet
        .workers
        .iter()
        .enumerate()
        .filter(|(_, worker)| worker.installed && in_server(worker))
        .collect();
    let identity = Identity::new(&judged, registered);
    let mut statuses: BTreeMap<&str, EnvironmentStatus> = BTreeMap::new();
    for environment in &scope.shown {
        statuses.insert(
            &environment.name,
            EnvironmentStatus {
                name: environment.name.clone(),
                server_url: environment.octopus.server_url.clone().unwrap_or_default(),
                space: environment.octopus.space.clone().unwrap_or_else(|| "Default".into()),
                space_id: registered.space_id.clone(),
                workers: Vec::new(),
            },
        );
    }
    let mut plan = Vec::new();
    let mut warnings = Vec::new();
    for (index, worker) in fleet.workers.iter().enumerate() {
        let environment = &fleet.environments[worker.environment];
        let Some(status) = statuses.get_mut(environment.name.as_str()) else {
            continue;
        };
        let cluster = &fleet.clusters[worker.cluster].name;
        if !worker.installed || options.cluster.as_ref().is_some_and(|only| only != cluster) {
            continue;
        }
        let found = identity
            .by_worker
            .get(&index)
            .map(|&(registration, renamed)| (&registered.workers[registration], renamed));
        let (worker_status, planned) = compare_worker(fleet, worker, found, &space, options);
        status.workers.push(worker_status);
        if let Some(mut planned) = planned {
            planned.write.environment.clone_from(&environment.name);
            warnings.extend(planned.warning.take());
            plan.push(planned);
        }
    }
    if scope.orphans && options.cluster.is_none() {
        let mut orphans: Vec<&WorkerResource> = registered
            .workers
            .iter()
            .enumerate()
            .filter(|(index, (worker, _))| worker.is_kubernetes_agent() && !identity.matched.contains(index))
            .map(|(_, (worker, _))| worker)
            .collect();
        orphans.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        if let Some(status) = statuses.get_mut(scope.lead.name.as_str()) {
            for worker in orphans {
                status.workers.push(orphan(worker));
                if options.prune {
                    plan.push(prune(worker, &scope.lead.name, &registered.space_id, options.force));
                }
            }
        }
    }
    Compared {
        environments: statuses.into_values().collect(),
        plan,
        warnings,
    }
}

/// Whether Octopus reached the agent at its last health check: a live agent, which the
/// engines of some cluster still run (a worker declared under another spelling, or in a
/// repository this one does not see).
fn alive(worker: &WorkerResource) -> bool {
    matches!(worker.health_status.as_deref(), Some("Healthy" | "HasWarning"))
}

/// The DELETE of an orphan, with what is known of it; kept (not sent) when it is alive
/// and `force` is not given.
fn prune(worker: &WorkerResource, environment: &str, space_id: &str, force: bool) -> Planned {
    let kept = alive(worker) && !force;
    let mut change = format!(
        "delete orphaned worker `{}` ({}): {}",
        worker.name,
        worker.id,
        facts(worker)
    );
    if kept {
        change.push_str("; kept: it is alive, `--force` deletes it");
    }
    Planned {
        write: Write {
            environment: environment.to_string(),
            method: Method::Delete,
            path: format!("/api/{space_id}/workers/{}", worker.id),
            worker: worker.name.clone(),
            change: super::shown(&change).into_owned(),
            outcome: if kept {
                WriteOutcome::Kept
            } else {
                WriteOutcome::NotDone
            },
        },
        body: None,
        fixes: vec!["orphaned"],
        warning: None,
    }
}

/// What the registration says of where it runs and when Octopus last reached it.
fn facts(worker: &WorkerResource) -> String {
    let details = worker.agent_details();
    let text = |value: Option<&String>| value.map_or_else(|| "unknown".to_string(), |value| format!("`{value}`"));
    format!(
        "release {} in namespace {}, health {}, last seen: {}",
        text(details.and_then(|details| details.helm_release_name.as_ref())),
        text(details.and_then(|details| details.kubernetes_namespace.as_ref())),
        text(worker.health_status.as_ref()),
        worker.status_summary.as_deref().unwrap_or("unknown")
    )
}

fn orphan(worker: &WorkerResource) -> WorkerStatus {
    let details = worker.agent_details();
    WorkerStatus {
        name: worker.name.clone(),
        cluster: None,
        worker: None,
        id: Some(worker.id.clone()),
        health_status: worker.health_status.clone(),
        agent_version: agent_version(worker),
        helm_release: details.and_then(|details| details.helm_release_name.clone()),
        namespace: details.and_then(|details| details.kubernetes_namespace.clone()),
        status_summary: worker.status_summary.clone(),
        findings: vec![Finding {
            kind: FindingKind::Orphaned,
            fixed: false,
        }],
    }
}

fn agent_version(worker: &WorkerResource) -> Option<String> {
    worker
        .endpoint
        .as_ref()
        .and_then(|endpoint| endpoint.kubernetes_agent_details.as_ref())
        .and_then(|details| details.agent_version.clone())
}

fn finding(kind: FindingKind) -> Finding {
    Finding { kind, fixed: false }
}

/// What `--apply` would change in one registered worker: the whole resource with the
/// changed fields, what changed in words, and which findings that fixes.
struct Change<'a> {
    /// The worker as Octopus sent it.
    raw: &'a serde_json::value::RawValue,
    /// The fields that change, and their new values.
    edits: Vec<(&'static str, serde_json::Value)>,
    changes: Vec<String>,
    fixes: Vec<&'static str>,
    /// The new policy lets Octopus upgrade the agent: said, with one that would not.
    warning: Option<String>,
}

/// The declared pools resolved to ids (each once), and an `unknownPool` finding for each
/// reference the space does not have.
fn resolve_pools(declared: &[String], space: &Space<'_>, findings: &mut Vec<Finding>) -> Vec<String> {
    let mut pool_ids = Vec::new();
    for reference in declared {
        match space.pool(reference) {
            Some(pool) if !pool_ids.contains(&pool.id) => pool_ids.push(pool.id.clone()),
            Some(_) => {}
            None => findings.push(finding(FindingKind::UnknownPool {
                pool: reference.clone(),
            })),
        }
    }
    pool_ids
}

/// One declared worker's findings, and the PUT that `--apply` makes for it. `found` is
/// its registration, and whether it was found by release and namespace (renamed).
fn compare_worker(
    fleet: &Fleet,
    worker: &Worker,
    found: Option<(&(WorkerResource, Box<serde_json::value::RawValue>), bool)>,
    space: &Space<'_>,
    options: &StatusOptions,
) -> (WorkerStatus, Option<Planned>) {
    let name = &worker.display_name.value;
    let declared_pools: Vec<String> = worker.spec.worker_pools.clone().unwrap_or_default();
    let mut findings = Vec::new();
    let pool_ids = resolve_pools(&declared_pools, space, &mut findings);
    let mut status = WorkerStatus {
        name: name.clone(),
        cluster: Some(fleet.clusters[worker.cluster].name.clone()),
        worker: Some(worker.name.clone()),
        id: None,
        health_status: None,
        agent_version: None,
        helm_release: None,
        namespace: None,
        status_summary: None,
        findings: Vec::new(),
    };
    let Some(((registered, raw), renamed)) = found else {
        findings.insert(0, finding(FindingKind::Missing));
        status.findings = findings;
        return (status, None);
    };
    registered_facts(&mut status, registered);
    let mut change = Change {
        raw,
        edits: Vec::new(),
        changes: Vec::new(),
        fixes: Vec::new(),
        warning: None,
    };
    let unknown_pool = !findings.is_empty();
    if renamed {
        restore_name(registered, name, &mut findings, &mut change);
    }
    compare_pools(
        registered,
        &declared_pools,
        &pool_ids,
        unknown_pool,
        space,
        &mut findings,
        &mut change,
    );
    compare_policy(registered, worker, space, &mut findings, &mut change);
    compare_disabled(registered, worker, &mut findings, &mut change);
    findings.extend(state_findings(registered, space));
    status.findings = findings;
    let planned = (options.apply && !change.changes.is_empty()).then(|| Planned {
        write: Write {
            environment: String::new(),
            method: Method::Put,
            path: format!("/api/{}/workers/{}", space.registered.space_id, registered.id),
            worker: name.clone(),
            change: change.changes.join("; "),
            outcome: WriteOutcome::NotDone,
        },
        body: Some(change.body()),
        fixes: change.fixes,
        warning: change.warning,
    });
    (status, planned)
}

impl Change<'_> {
    /// The PUT body: the worker as Octopus sent it, with the edits made. Parsed only for a
    /// worker that is written.
    fn body(&self) -> serde_json::Value {
        // `raw` was read as JSON already: it parses again.
        let mut body: serde_json::Value = serde_json::from_str(self.raw.get()).unwrap_or_default();
        for (field, value) in &self.edits {
            body[*field] = value.clone();
        }
        body
    }
}

/// What the registration says of itself, into the worker's status.
fn registered_facts(status: &mut WorkerStatus, registered: &WorkerResource) {
    status.id = Some(registered.id.clone());
    status.health_status.clone_from(&registered.health_status);
    status.agent_version = agent_version(registered);
    let details = registered.agent_details();
    status.helm_release = details.and_then(|details| details.helm_release_name.clone());
    status.namespace = details.and_then(|details| details.kubernetes_namespace.clone());
    status.status_summary.clone_from(&registered.status_summary);
}

/// The `renamed` finding (first), and the declared name for `--apply` to restore.
fn restore_name(registered: &WorkerResource, name: &str, findings: &mut Vec<Finding>, change: &mut Change) {
    findings.insert(
        0,
        finding(FindingKind::Renamed {
            registered: registered.name.clone(),
        }),
    );
    change.edits.push(("Name", serde_json::json!(name)));
    change
        .changes
        .push(super::shown(&format!("name `{}` -> `{name}`", registered.name)).into_owned());
    change.fixes.push("renamed");
}

/// The `pools` finding, and the new pool ids for `--apply` when every declared pool
/// exists (an unknown pool would be dropped: only a complete list is written).
fn compare_pools(
    registered: &WorkerResource,
    declared_pools: &[String],
    pool_ids: &[String],
    unknown_pool: bool,
    space: &Space<'_>,
    findings: &mut Vec<Finding>,
    change: &mut Change,
) {
    let registered_ids: HashSet<&str> = registered.worker_pool_ids.iter().map(String::as_str).collect();
    let declared_ids: HashSet<&str> = pool_ids.iter().map(String::as_str).collect();
    if registered_ids == declared_ids {
        return;
    }
    let mut registered_names: Vec<String> = registered
        .worker_pool_ids
        .iter()
        .map(|id| space.pool_name(id))
        .collect();
    registered_names.sort();
    findings.push(finding(FindingKind::Pools {
        declared: declared_pools.to_vec(),
        registered: registered_names.clone(),
    }));
    if unknown_pool {
        return;
    }
    change.edits.push(("WorkerPoolIds", serde_json::json!(pool_ids)));
    let mut declared_names: Vec<String> = pool_ids.iter().map(|id| space.pool_name(id)).collect();
    declared_names.sort();
    change.changes.push(format!(
        "pools [{}] -> [{}]",
        registered_names.join(", "),
        declared_names.join(", ")
    ));
    change.fixes.push("pools");
}

/// The `machinePolicy` finding (against the space's default policy when none is
/// declared), and the new policy for `--apply` when it exists.
fn compare_policy(
    registered: &WorkerResource,
    worker: &Worker,
    space: &Space<'_>,
    findings: &mut Vec<Finding>,
    change: &mut Change,
) {
    let registered_policy = registered.machine_policy_id.as_deref().unwrap_or_default();
    let wanted = match &worker.spec.machine_policy {
        Some(reference) => Some((reference.clone(), space.policy(reference))),
        None => space.default_policy().map(|policy| (policy.name.clone(), Some(policy))),
    };
    let Some((declared, target)) = wanted else { return };
    if target.is_some_and(|policy| policy.id == registered_policy) {
        return;
    }
    findings.push(finding(FindingKind::MachinePolicy {
        declared: declared.clone(),
        registered: space.policy_name(registered_policy),
        exists: target.is_some(),
    }));
    if let Some(policy) = target {
        change.edits.push(("MachinePolicyId", serde_json::json!(policy.id)));
        change.changes.push(
            super::shown(&format!(
                "machine policy `{}` -> `{}`",
                space.policy_name(registered_policy),
                policy.name
            ))
            .into_owned(),
        );
        change.fixes.push("machinePolicy");
        if !policy.upgrades_agents() {
            change.fixes.push("autoUpgrade");
        } else if !upgrade_locked(registered) {
            change.warning = Some(upgrading_policy(&worker.display_name.value, policy, space));
        }
    }
}

/// The warning for an `--apply` that moves a worker to a policy under which Octopus
/// upgrades its agent: which policy of the space would not.
fn upgrading_policy(name: &str, policy: &MachinePolicyResource, space: &Space<'_>) -> String {
    let mut others: Vec<&str> = space
        .registered
        .policies
        .iter()
        .filter(|other| !other.upgrades_agents())
        .map(|other| other.name.as_str())
        .collect();
    others.sort_unstable();
    let instead = match others.first() {
        Some(other) => format!("declare `machinePolicy: {other}`, whose Kubernetes agent updates are not `Update`"),
        None => {
            "no policy of the space has Kubernetes agent updates `NeverUpdate` or `Block`: create one and declare it"
                .into()
        }
    };
    super::shown(&format!(
        "`--apply` puts `{name}` on policy `{}`, which lets Octopus upgrade the agent behind Git's back; {instead}",
        policy.name
    ))
    .into_owned()
}

fn upgrade_locked(registered: &WorkerResource) -> bool {
    registered
        .endpoint
        .as_ref()
        .is_some_and(|endpoint| endpoint.upgrade_locked)
}

/// The findings about the registered worker itself: `autoUpgrade`, `unhealthy`.
fn state_findings(registered: &WorkerResource, space: &Space<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let registered_policy = registered.machine_policy_id.as_deref().unwrap_or_default();
    if let Some(policy) = space.policies.get(registered_policy) {
        if policy.upgrades_agents() && !upgrade_locked(registered) {
            findings.push(finding(FindingKind::AutoUpgrade {
                policy: policy.name.clone(),
            }));
        }
    }
    if let Some(health) = &registered.health_status {
        if health == "Unhealthy" || health == "Unavailable" {
            findings.push(finding(FindingKind::Unhealthy {
                health_status: health.clone(),
            }));
        }
    }
    findings
}

/// The `disabled` finding when Octopus's `IsDisabled` is not the declared `disabled`,
/// and the flag for `--apply` to set.
fn compare_disabled(registered: &WorkerResource, worker: &Worker, findings: &mut Vec<Finding>, change: &mut Change) {
    if registered.is_disabled == worker.disabled {
        return;
    }
    findings.push(finding(FindingKind::Disabled {
        declared: worker.disabled,
        registered: registered.is_disabled,
    }));
    change.edits.push(("IsDisabled", serde_json::json!(worker.disabled)));
    change.changes.push(format!(
        "{} in Octopus",
        if worker.disabled { "disabled" } else { "enabled" }
    ));
    change.fixes.push("disabled");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registered() -> Registered {
        let pool = |id: &str, name: &str, slug: &str| WorkerPoolResource {
            id: id.into(),
            name: name.into(),
            slug: Some(slug.into()),
        };
        let policy = |id: &str, name: &str, default: bool, update: Option<&str>| MachinePolicyResource {
            id: id.into(),
            name: name.into(),
            is_default: default,
            machine_update_policy: Some(super::super::resource::MachineUpdatePolicy {
                kubernetes_agent_update_behavior: update.map(str::to_string),
            }),
        };
        Registered {
            space_id: "Spaces-1".into(),
            spaces: Vec::new(),
            workers: Vec::new(),
            pools: vec![
                pool("WorkerPools-1", "Default Worker Pool", "default-worker-pool"),
                pool("WorkerPools-2", "Linux Build Workers", "linux-build-workers"),
            ],
            policies: vec![
                policy("MachinePolicies-1", "Default Machine Policy", true, None),
                policy("MachinePolicies-2", "GitOps", false, Some("NeverUpdate")),
                policy("MachinePolicies-3", "Frozen", false, Some("Block")),
                policy("MachinePolicies-4", "Latest", false, Some("Update")),
            ],
        }
    }

    #[test]
    fn pools_resolve_by_id_name_in_any_case_or_slug() {
        let registered = registered();
        let space = Space::new(&registered);
        for reference in [
            "WorkerPools-2",
            "Linux Build Workers",
            "linux build workers",
            "linux-build-workers",
        ] {
            assert_eq!(
                space.pool(reference).map(|pool| pool.id.as_str()),
                Some("WorkerPools-2"),
                "{reference}"
            );
        }
        assert!(space.pool("Linux Builds").is_none());
        assert_eq!(
            space.pool_name("WorkerPools-9"),
            "WorkerPools-9",
            "a pool that is gone shows its id"
        );
    }

    #[test]
    fn policies_resolve_by_id_or_name_and_know_who_upgrades_agents() {
        let registered = registered();
        let space = Space::new(&registered);
        assert_eq!(space.policy("gitops").map(|p| p.id.as_str()), Some("MachinePolicies-2"));
        assert_eq!(
            space.policy("MachinePolicies-1").map(|p| p.name.as_str()),
            Some("Default Machine Policy")
        );
        assert_eq!(space.default_policy().map(|p| p.id.as_str()), Some("MachinePolicies-1"));
        assert!(
            registered.policies[0].upgrades_agents(),
            "no behaviour given: Octopus's default, Update"
        );
        assert!(!registered.policies[1].upgrades_agents());
        assert!(!registered.policies[2].upgrades_agents(), "Block prohibits updates");
        assert!(registered.policies[3].upgrades_agents());
        let warning = upgrading_policy("w", &registered.policies[3], &space);
        assert!(
            warning.ends_with("declare `machinePolicy: Frozen`, whose Kubernetes agent updates are not `Update`"),
            "{warning}"
        );
    }
}
