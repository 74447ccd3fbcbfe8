//! `import --from-octopus`: the Kubernetes workers an environment's Octopus space has
//! registered, as a starting point for an import: each one's Helm release and namespace
//! (from its `KubernetesAgentDetails`), its pools, whether a declaration already names it,
//! and the `helm get values` line that saves its values.
//!
//! It reads `GET /api/spaces/all`, `GET /api/{spaceId}/workers/all` and
//! `GET /api/{spaceId}/workerpools/all` with the client `status` uses (same API key
//! variable, retries, timeouts), and writes nothing.

use std::fmt::Write as _;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use serde::Deserialize;

use crate::model::Fleet;
use crate::status::client::{Client, ClientOptions};
use crate::status::{SpaceResource, StatusError, WorkerPoolResource};

/// A registered worker: the fields the listing reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Registered {
    name: String,
    #[serde(default)]
    worker_pool_ids: Vec<String>,
    #[serde(default)]
    endpoint: Option<Endpoint>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Endpoint {
    #[serde(default)]
    communication_style: Option<String>,
    #[serde(default)]
    kubernetes_agent_details: Option<Details>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Details {
    #[serde(default)]
    agent_version: Option<String>,
    #[serde(default)]
    helm_release_name: Option<String>,
    #[serde(default)]
    kubernetes_namespace: Option<String>,
}

/// One line of the listing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Listed {
    pub(crate) name: String,
    pub(crate) release: Option<String>,
    pub(crate) namespace: Option<String>,
    /// The chart version the agent runs (`AgentVersion`): what `--installed-version` needs.
    pub(crate) version: Option<String>,
    pub(crate) pools: Vec<String>,
    /// `<env>/<cluster>/<worker>` of the declaration whose display name it is.
    pub(crate) declared: Option<String>,
}

/// Why the environment cannot be asked.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ListError {
    #[error("no environment `{0}` in this repository")]
    NoEnvironment(String),
    #[error("environment `{0}` has no `octopus.serverUrl`")]
    NoServer(String),
    #[error("`{variable}` is not set: it holds the API key (or access token) for environment `{environment}`")]
    NoKey { environment: String, variable: String },
    #[error(transparent)]
    Api(#[from] StatusError),
}

/// Lists the `KubernetesTentacle` workers of `environment`'s Octopus server and space.
/// `variable` reads an environment variable (the API key).
pub(crate) fn list(
    fleet: &Fleet,
    environment: &str,
    options: &ClientOptions,
    variable: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Listed>, ListError> {
    let declared = fleet
        .environments
        .iter()
        .find(|candidate| candidate.name == environment)
        .ok_or_else(|| ListError::NoEnvironment(environment.to_owned()))?;
    let octopus = &declared.octopus;
    let url = octopus
        .server_url
        .clone()
        .ok_or_else(|| ListError::NoServer(environment.to_owned()))?;
    let credential = crate::status::credential(declared, variable).map_err(|error| match error {
        StatusError::MissingApiKey { variable, .. } => ListError::NoKey {
            environment: environment.to_owned(),
            variable,
        },
        other => ListError::Api(other),
    })?;
    let quiet = |_: &str| {};
    let client = Client::new(
        &url,
        credential,
        environment,
        options,
        Arc::new(AtomicUsize::new(0)),
        &quiet,
    );
    let space = octopus.space.clone().unwrap_or_else(|| "Default".to_owned());
    let spaces: Vec<SpaceResource> = client.get("/api/spaces/all")?;
    let found = spaces
        .iter()
        .find(|candidate| candidate.id == space || candidate.name.eq_ignore_ascii_case(&space))
        .ok_or_else(|| StatusError::SpaceNotFound {
            environment: environment.to_owned(),
            server: url.clone(),
            space: space.clone(),
            known: spaces.iter().map(|space| format!("`{}`", space.name)).collect(),
        })?;
    let workers: Vec<Registered> = client.get_large(&format!("/api/{}/workers/all", found.id))?;
    let pools: Vec<WorkerPoolResource> = client.get(&format!("/api/{}/workerpools/all", found.id))?;
    let mut listed: Vec<Listed> = workers
        .into_iter()
        .filter(|worker| {
            worker
                .endpoint
                .as_ref()
                .and_then(|endpoint| endpoint.communication_style.as_deref())
                == Some("KubernetesTentacle")
        })
        .map(|worker| listed(worker, &pools, fleet, environment))
        .collect();
    listed.sort();
    Ok(listed)
}

fn listed(worker: Registered, pools: &[WorkerPoolResource], fleet: &Fleet, environment: &str) -> Listed {
    let details = worker.endpoint.and_then(|endpoint| endpoint.kubernetes_agent_details);
    let declared = fleet
        .workers
        .iter()
        .find(|declared| {
            // Octopus compares worker names without case.
            fleet.environment_of(declared).name == environment
                && declared.display_name.value.to_lowercase() == worker.name.to_lowercase()
        })
        .map(|declared| fleet.worker_id(declared));
    Listed {
        pools: worker
            .worker_pool_ids
            .iter()
            .map(|id| {
                pools
                    .iter()
                    .find(|pool| &pool.id == id)
                    .map_or_else(|| id.clone(), |pool| pool.name.clone())
            })
            .collect(),
        release: details.as_ref().and_then(|details| details.helm_release_name.clone()),
        version: details
            .as_ref()
            .and_then(|details| details.agent_version.clone())
            .filter(|version| super::plan::is_version(version)),
        namespace: details.and_then(|details| details.kubernetes_namespace),
        name: worker.name,
        declared,
    }
}

/// The listing for a terminal: one line per worker, then how to import the others.
pub(crate) fn render(listed: &[Listed], environment: &str) -> String {
    let mut text = String::new();
    for worker in listed {
        let _ = writeln!(
            text,
            "{}  release {}  namespace {}  version {}  pools [{}]  {}",
            crate::status::shown(&worker.name),
            worker.release.as_deref().unwrap_or("?"),
            worker.namespace.as_deref().unwrap_or("?"),
            worker.version.as_deref().unwrap_or("?"),
            worker.pools.join(", "),
            worker
                .declared
                .as_ref()
                .map_or_else(|| "not declared".to_owned(), |id| format!("declared as {id}")),
        );
    }
    let missing: Vec<&Listed> = listed.iter().filter(|worker| worker.declared.is_none()).collect();
    if missing.is_empty() {
        return text;
    }
    text.push_str(
        "\nto import the workers not declared yet, save each release's values (with its cluster's kubectl context):\n",
    );
    // By chart version: one import takes one `--installed-version`.
    let mut files: std::collections::BTreeMap<Option<&str>, Vec<String>> = std::collections::BTreeMap::new();
    for worker in &missing {
        match (&worker.release, &worker.namespace) {
            (Some(release), Some(namespace)) => {
                let version = worker.version.as_deref();
                let _ = writeln!(
                    text,
                    "  helm get values -o yaml {release} -n {namespace} > {release}.yaml{}",
                    version
                        .map(|version| format!("   # chart {version}"))
                        .unwrap_or_default()
                );
                files.entry(version).or_default().push(format!("{release}.yaml"));
            }
            _ => {
                let _ = writeln!(
                    text,
                    "  # {}: Octopus does not know its release (an agent older than 2.x?); find it with `helm list -A`",
                    worker.name
                );
            }
        }
    }
    if !files.is_empty() {
        text.push_str("then, per cluster:\n");
    }
    for (version, files) in files {
        let version = match version {
            Some(version) => format!("--installed-version {version}"),
            // Octopus does not say: `helm list -n NAMESPACE` does.
            None => "--installed-version VERSION".to_owned(),
        };
        let _ = writeln!(
            text,
            "  workergen import --env {environment} --cluster CLUSTER {version} {}",
            files.join(" ")
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listing_says_how_to_import_what_is_not_declared() {
        let listed = [
            Listed {
                name: "prod-a".into(),
                release: Some("a".into()),
                namespace: Some("octopus-agent-a".into()),
                version: Some("2.51.2".into()),
                pools: vec!["Linux".into()],
                declared: None,
            },
            Listed {
                name: "prod-b".into(),
                release: None,
                namespace: None,
                version: None,
                pools: vec![],
                declared: Some("prod/eu/b".into()),
            },
        ];
        assert_eq!(
            render(&listed, "prod"),
            "prod-a  release a  namespace octopus-agent-a  version 2.51.2  pools [Linux]  not declared\n\
             prod-b  release ?  namespace ?  version ?  pools []  declared as prod/eu/b\n\
             \nto import the workers not declared yet, save each release's values (with its cluster's kubectl context):\n\
             \x20 helm get values -o yaml a -n octopus-agent-a > a.yaml   # chart 2.51.2\n\
             then, per cluster:\n\
             \x20 workergen import --env prod --cluster CLUSTER --installed-version 2.51.2 a.yaml\n"
        );
    }
}
