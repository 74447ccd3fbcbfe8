//! What the Octopus API returns: the fields of its WorkerResource, KubernetesTentacle
//! endpoint, worker pool, machine policy and space that `status` reads. Unknown fields
//! are ignored, so a newer server's additions do not break the read.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SpaceResource {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WorkerPoolResource {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub slug: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MachinePolicyResource {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub is_default: bool,
    #[serde(default)]
    pub machine_update_policy: Option<MachineUpdatePolicy>,
}

impl MachinePolicyResource {
    /// Whether Octopus upgrades Kubernetes agents under this policy: only `Update` (the
    /// default when the field is absent) does; `NeverUpdate` and `Block` (which prohibits
    /// updates, OctopusClients' `MachineUpdatePolicy`) do not.
    pub fn upgrades_agents(&self) -> bool {
        self.machine_update_policy
            .as_ref()
            .and_then(|policy| policy.kubernetes_agent_update_behavior.as_deref())
            .is_none_or(|behavior| behavior.eq_ignore_ascii_case("Update"))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MachineUpdatePolicy {
    #[serde(default)]
    pub kubernetes_agent_update_behavior: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WorkerResource {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub worker_pool_ids: Vec<String>,
    #[serde(default)]
    pub machine_policy_id: Option<String>,
    #[serde(default)]
    pub is_disabled: bool,
    #[serde(default)]
    pub health_status: Option<String>,
    #[serde(default)]
    pub status_summary: Option<String>,
    #[serde(default)]
    pub endpoint: Option<EndpointResource>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointResource {
    #[serde(default)]
    pub communication_style: Option<String>,
    #[serde(default)]
    pub upgrade_locked: bool,
    #[serde(default)]
    pub kubernetes_agent_details: Option<AgentDetails>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AgentDetails {
    #[serde(default)]
    pub agent_version: Option<String>,
    #[serde(default)]
    pub helm_release_name: Option<String>,
    #[serde(default)]
    pub kubernetes_namespace: Option<String>,
}

impl WorkerResource {
    pub fn is_kubernetes_agent(&self) -> bool {
        self.endpoint
            .as_ref()
            .and_then(|endpoint| endpoint.communication_style.as_deref())
            == Some("KubernetesTentacle")
    }

    pub fn agent_details(&self) -> Option<&AgentDetails> {
        self.endpoint
            .as_ref()
            .and_then(|endpoint| endpoint.kubernetes_agent_details.as_ref())
    }
}

/// One Octopus server and space, as read: the typed workers and, for PUT, each worker
/// exactly as the server sent it.
#[derive(Debug, Clone)]
pub struct Registered {
    pub space_id: String,
    /// Every space the key sees, to tell which environments name this one.
    pub spaces: Vec<SpaceResource>,
    pub workers: Vec<(WorkerResource, Box<serde_json::value::RawValue>)>,
    pub pools: Vec<WorkerPoolResource>,
    pub policies: Vec<MachinePolicyResource>,
}
