//! Names that must be unique across workers: namespaces, release-name prefixes,
//! Argo CD Application names, and Octopus display names.

use rustc_hash::FxHashMap as HashMap;

use crate::decl::Engine;
use crate::diagnostic::{Diagnostic, Report};
use crate::model::{Destination, Fleet, Worker};
use crate::source::Loc;

/// The chart cuts the release name to its first 35 characters in the names of its
/// cluster-scoped objects, so two releases whose first 35 characters match collide.
pub(crate) const RELEASE_PREFIX: usize = 35;

/// The longest Argo CD Application name: Argo CD tracks resources by a label whose
/// value is the Application's name, and label values fit 63 characters.
pub(crate) const MAX_APPLICATION_NAME: usize = 63;

/// A destination cluster, spelt the same way whichever file names it.
pub(super) fn destination_key(destination: &Destination) -> String {
    match destination {
        // Case, a default port and a trailing `/` do not make another cluster.
        Destination::Server(server) => format!("server {}", crate::names::destination_folder(Some(server), None)),
        Destination::Name(name) => format!("name {name}"),
    }
}

/// The names already taken, each with the first worker that took it.
#[derive(Default)]
struct Seen<'a> {
    namespaces: HashMap<(usize, &'a str), &'a Worker>,
    prefixes: HashMap<(String, String), &'a Worker>,
    applications: HashMap<String, &'a Worker>,
    display_names: HashMap<(&'a str, String, String), &'a Worker>,
    releases: HashMap<(&'a str, &'a str), &'a Worker>,
    shared_namespaces: HashMap<(&'a str, &'a str), &'a Worker>,
}

/// What names are compared within, made once for the fleet rather than per worker.
struct Keys {
    /// Each cluster's [`destination_key`], by cluster index.
    destinations: Vec<Option<String>>,
    /// Each environment's Octopus server URL as compared (normalised: scheme, host case,
    /// default port, trailing `/`), by environment index.
    servers: Vec<String>,
}

/// Reports each name that two enabled workers share where it must be unique.
pub(crate) fn check(fleet: &Fleet, report: &mut Report) {
    let keys = Keys {
        destinations: fleet
            .clusters
            .iter()
            .map(|cluster| cluster.destination.as_ref().map(destination_key))
            .collect(),
        servers: fleet
            .environments
            .iter()
            .map(|environment| {
                crate::server_url::normalize(environment.octopus.server_url.as_deref().unwrap_or_default())
            })
            .collect(),
    };
    let mut seen = Seen::default();
    for worker in fleet.workers.iter().filter(|worker| worker.installed) {
        check_in_destination(fleet, &keys, worker, &mut seen, report);
        check_namespace(worker, &mut seen, report);
        check_release_prefix(fleet, &keys, worker, &mut seen, report);
        if fleet.settings.engine.value == Engine::Argocd {
            check_application(fleet, worker, &mut seen, report);
        }
        check_display_name(fleet, &keys, worker, &mut seen, report);
    }
}

/// In the worker's destination cluster: its namespace and its release name, unique.
fn check_in_destination<'a>(
    fleet: &'a Fleet,
    keys: &'a Keys,
    worker: &'a Worker,
    seen: &mut Seen<'a>,
    report: &mut Report,
) {
    let Some(destination) = keys.destinations[worker.cluster].as_deref() else {
        return;
    };
    let key = (destination, worker.name.as_str());
    check_shared_namespace(fleet, worker, destination, &mut seen.shared_namespaces, report);
    if let Some(first) = seen.releases.insert(key, worker) {
        report.push(collision(
            worker.name_loc,
            format!(
                "worker `{}` is deployed twice to the same cluster: by `{}` and `{}`",
                worker.name,
                fleet.worker_id(first),
                fleet.worker_id(worker)
            ),
            first.name_loc,
            "the worker name is the Helm release name, which names the chart's cluster-wide ClusterRoles (and, under Flux, the HelmRelease and its `<worker>-values` ConfigMap in the shared Flux namespace): two releases of one name in one cluster fight over them; rename one worker",
        ));
    }
}

/// One worker per namespace within a cluster file.
fn check_namespace<'a>(worker: &'a Worker, seen: &mut Seen<'a>, report: &mut Report) {
    let namespace = worker.namespace.value.as_str();
    if let Some(first) = seen.namespaces.insert((worker.cluster, namespace), worker) {
        report.push(collision(
            worker.namespace.loc.unwrap_or(worker.name_loc),
            format!("namespace `{namespace}` is used by two workers of this cluster"),
            first.namespace.loc.unwrap_or(first.name_loc),
            "one agent per namespace: give each worker its own `namespace`",
        ));
    }
}

/// Long worker names deployed to one cluster (by any cluster file of any environment)
/// differ within the chart's release prefix: the chart's cluster-scoped
/// `octopus-agent-auto-upgrader-<release>` objects are cut there, so two such releases
/// would share them, and removing one would delete the other's.
fn check_release_prefix<'a>(
    fleet: &'a Fleet,
    keys: &'a Keys,
    worker: &'a Worker,
    seen: &mut Seen<'a>,
    report: &mut Report,
) {
    if worker.name.chars().count() < RELEASE_PREFIX {
        return;
    }
    let prefix: String = worker.name.chars().take(RELEASE_PREFIX).collect();
    let destination = keys.destinations[worker.cluster]
        .clone()
        .unwrap_or_else(|| format!("cluster {}", worker.cluster));
    // The same name twice in one destination is reported as such.
    match seen.prefixes.get(&(destination.clone(), prefix.clone())) {
        Some(first) if first.name != worker.name => report.push(collision(
            worker.name_loc,
            format!(
                "workers `{}` and `{}` are deployed to the same cluster and share their first {RELEASE_PREFIX} characters",
                fleet.worker_id(first),
                fleet.worker_id(worker)
            ),
            first.name_loc,
            "the chart cuts the release name there in the names of its cluster-scoped ClusterRole and ClusterRoleBinding, so both releases would share them; make the names differ earlier",
        )),
        Some(_) => {}
        None => {
            seen.prefixes.insert((destination, prefix), worker);
        }
    }
}

/// The worker's Argo CD Application name: short enough, and unique.
fn check_application<'a>(fleet: &'a Fleet, worker: &'a Worker, seen: &mut Seen<'a>, report: &mut Report) {
    let cluster = fleet.cluster_of(worker);
    let environment = &fleet.environments[cluster.environment].name;
    let application = crate::names::application_name(environment, &cluster.name, &worker.name);
    if application.len() > MAX_APPLICATION_NAME {
        report.push(
            Diagnostic::error(
                worker.name_loc,
                format!(
                    "Argo CD Application name `{application}` is {} characters long; at most {MAX_APPLICATION_NAME} are allowed",
                    application.len()
                ),
            )
            .with_hint("Application names are `<env>-<cluster>-<worker>`, and Argo CD tracks their resources by a label of that value: shorten the worker (or cluster) name"),
        );
    }
    if let Some(first) = seen.applications.insert(application.clone(), worker) {
        report.push(collision(
            worker.name_loc,
            format!(
                "Argo CD Application name `{application}` is generated for both `{}` and `{}`",
                fleet.worker_id(first),
                fleet.worker_id(worker)
            ),
            first.name_loc,
            "Application names are `<env>-<cluster>-<worker>`; rename one worker (or cluster) so they differ",
        ));
    }
}

/// One display name per Octopus server and space.
fn check_display_name<'a>(
    fleet: &'a Fleet,
    keys: &'a Keys,
    worker: &'a Worker,
    seen: &mut Seen<'a>,
    report: &mut Report,
) {
    let octopus = &fleet.environment_of(worker).octopus;
    let server = keys.servers[worker.environment].as_str();
    // Octopus compares space and worker names without case: `default` is `Default`.
    let space = octopus.space.as_deref().unwrap_or("Default").to_lowercase();
    let name = worker.display_name.value.as_str();
    if let Some(first) = seen.display_names.insert((server, space, name.to_lowercase()), worker) {
        report.push(collision(
            worker.display_name.loc.unwrap_or(worker.name_loc),
            format!(
                "display name `{name}` is used by `{}` and `{}` on the same Octopus server and space",
                fleet.worker_id(first),
                fleet.worker_id(worker)
            ),
            first.display_name.loc.unwrap_or(first.name_loc),
            "Octopus silently takes over an existing worker with the same name; give each worker its own `displayName`",
        ));
    }
}

/// An explicit `namespace` used by workers of two cluster files (of different
/// environments, say) that deploy to the same destination cluster: the second agent
/// would be installed over the first one's namespace. Namespaces left to their default
/// (`octopus-agent-<worker>`) collide only with the same worker name, reported as such.
fn check_shared_namespace<'a>(
    fleet: &Fleet,
    worker: &'a Worker,
    destination: &'a str,
    seen: &mut HashMap<(&'a str, &'a str), &'a Worker>,
    report: &mut Report,
) {
    if worker.namespace.loc.is_none() {
        return;
    }
    let namespace = worker.namespace.value.as_str();
    let key = (destination, namespace);
    match seen.get(&key) {
        Some(first) if first.cluster != worker.cluster => report.push(collision(
            worker.namespace.loc.unwrap_or(worker.name_loc),
            format!(
                "namespace `{namespace}` is used by `{}` and `{}`, which deploy to the same cluster",
                fleet.worker_id(first),
                fleet.worker_id(worker)
            ),
            first.namespace.loc.unwrap_or(first.name_loc),
            "both cluster files name the same destination, and one agent per namespace: give each worker its own `namespace`",
        )),
        Some(_) => {}
        None => {
            seen.insert(key, worker);
        }
    }
}

fn collision(loc: Loc, message: String, first: Loc, hint: &str) -> Diagnostic {
    Diagnostic::error(loc, message)
        .with_related(first, "the other one is here")
        .with_hint(hint)
}
