//! What `status` found: per environment and worker, the findings and the writes made or
//! planned. The [`super::text`], [`super::markdown`] and [`super::json`] outputs print it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::client::Method;
use super::shown;

/// Everything `status` found, sorted: environments by name, then declared workers by
/// cluster and name, then orphans by name.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    pub environments: Vec<EnvironmentStatus>,
    /// The writes made or planned (`--apply`, `--prune`), in the order they were made.
    pub writes: Vec<Write>,
    /// Whether `--apply` / `--prune` were given.
    #[serde(skip)]
    pub wrote: bool,
    /// HTTP requests sent, retries included (for `-v` and the benchmark).
    #[serde(skip)]
    pub requests: usize,
}

impl StatusReport {
    /// Findings no write has fixed: what `--exit-code` counts.
    pub fn open_findings(&self) -> usize {
        self.findings().filter(|(_, finding)| !finding.fixed).count()
    }

    pub fn findings(&self) -> impl Iterator<Item = (&WorkerStatus, &Finding)> {
        self.environments
            .iter()
            .flat_map(|environment| &environment.workers)
            .flat_map(|worker| worker.findings.iter().map(move |finding| (worker, finding)))
    }

    /// How many findings of each kind, by kind name.
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for (_, finding) in self.findings() {
            *counts.entry(finding.kind.name()).or_default() += 1;
        }
        counts
    }

    pub fn worker_count(&self) -> usize {
        self.environments
            .iter()
            .map(|environment| environment.workers.len())
            .sum()
    }
}

/// One environment as its Octopus server sees it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentStatus {
    pub name: String,
    pub server_url: String,
    pub space: String,
    pub space_id: String,
    pub workers: Vec<WorkerStatus>,
}

/// A declared worker, or a registered one no declaration names.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkerStatus {
    /// The name in Octopus (`agent.name`).
    pub name: String,
    /// The declaring cluster; `None` for an orphan.
    pub cluster: Option<String>,
    /// The declaration's key (the Helm release name); `None` for an orphan.
    pub worker: Option<String>,
    /// The Octopus id, when registered.
    pub id: Option<String>,
    pub health_status: Option<String>,
    pub agent_version: Option<String>,
    /// What the registration says of its Helm release (`KubernetesAgentDetails`).
    pub helm_release: Option<String>,
    pub namespace: Option<String>,
    /// Octopus's last word on the connection (`StatusSummary`), e.g. when it last reached it.
    pub status_summary: Option<String>,
    pub findings: Vec<Finding>,
}

impl WorkerStatus {
    /// `<cluster>/<worker>`, or the Octopus name for an orphan.
    pub fn label(&self) -> String {
        match (&self.cluster, &self.worker) {
            (Some(cluster), Some(worker)) => format!("{cluster}/{worker}"),
            _ => self.name.clone(),
        }
    }
}

/// One problem with one worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    #[serde(flatten)]
    pub kind: FindingKind,
    /// A write of this run fixed it.
    pub fixed: bool,
}

/// What `status` finds about one worker (`missing`, `orphaned`, `pools`, ...); `kind` in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum FindingKind {
    /// Declared, not registered.
    Missing,
    /// Registered under another name, found by its Helm release and namespace.
    Renamed { registered: String },
    /// A Kubernetes agent worker registered in this server and space that no enabled
    /// declaration names.
    Orphaned,
    /// Registered pools differ from `workerPools` (names; an id when the pool is gone).
    Pools {
        declared: Vec<String>,
        registered: Vec<String>,
    },
    /// The registered machine policy differs from `machinePolicy` (or from the space's
    /// default policy when none is declared); `exists` is false when no policy has the
    /// declared name.
    MachinePolicy {
        declared: String,
        registered: String,
        exists: bool,
    },
    /// The worker's policy lets Octopus upgrade the agent behind Git's back, and the
    /// worker is not upgrade-locked.
    AutoUpgrade { policy: String },
    /// Health `Unhealthy` or `Unavailable`.
    Unhealthy { health_status: String },
    /// Disabled in Octopus (`IsDisabled`) other than declared: `declared` is the
    /// worker's `disabled` field.
    Disabled { declared: bool, registered: bool },
    /// A declared pool that no pool of the space has as its name, slug or id.
    UnknownPool { pool: String },
}

impl FindingKind {
    /// The JSON `kind`.
    pub fn name(&self) -> &'static str {
        match self {
            FindingKind::Missing => "missing",
            FindingKind::Renamed { .. } => "renamed",
            FindingKind::Orphaned => "orphaned",
            FindingKind::Pools { .. } => "pools",
            FindingKind::MachinePolicy { .. } => "machinePolicy",
            FindingKind::AutoUpgrade { .. } => "autoUpgrade",
            FindingKind::Unhealthy { .. } => "unhealthy",
            FindingKind::Disabled { .. } => "disabled",
            FindingKind::UnknownPool { .. } => "unknownPool",
        }
    }

    /// A sentence for text and markdown, API strings escaped.
    pub fn describe(&self) -> String {
        shown(&self.sentence()).into_owned()
    }

    fn sentence(&self) -> String {
        let list = |names: &[String]| {
            if names.is_empty() {
                "(none)".to_string()
            } else {
                names.join(", ")
            }
        };
        match self {
            FindingKind::Missing => "declared but not registered in Octopus".into(),
            FindingKind::Renamed { registered } => format!(
                "registered as `{registered}` (its Helm release and namespace match): `--apply` restores the declared name"
            ),
            FindingKind::Orphaned => "registered in Octopus, declared nowhere".into(),
            FindingKind::Pools { declared, registered } => {
                format!("declared [{}], registered [{}]", list(declared), list(registered))
            }
            FindingKind::MachinePolicy {
                declared,
                registered,
                exists,
            } => format!(
                "registered `{registered}`, declared `{declared}`{}",
                if *exists { "" } else { " (no such policy)" }
            ),
            FindingKind::AutoUpgrade { policy } => {
                format!("policy `{policy}` lets Octopus upgrade the agent behind Git's back")
            }
            FindingKind::Unhealthy { health_status } => format!("health `{health_status}`"),
            FindingKind::Disabled { declared: false, .. } => {
                "disabled in Octopus, installed and declared enabled: `--apply` enables it".into()
            }
            FindingKind::Disabled { .. } => {
                "enabled in Octopus, declared `disabled: true`: `--apply` disables it".into()
            }
            FindingKind::UnknownPool { pool } => format!("no worker pool `{pool}` in the space"),
        }
    }
}

/// A write to Octopus, planned from a finding.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Write {
    pub environment: String,
    #[serde(serialize_with = "serialize_method")]
    pub method: Method,
    /// The path under the server URL, e.g. `/api/Spaces-1/workers/Workers-3`.
    pub path: String,
    /// The worker's Octopus name.
    pub worker: String,
    /// What changes, in words.
    pub change: String,
    pub outcome: WriteOutcome,
}

fn serialize_method<S: serde::Serializer>(method: &Method, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(method)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum WriteOutcome {
    Done,
    Failed,
    /// Not attempted: an earlier write of the same server failed.
    NotDone,
    /// `--dry-run`: planned, not sent.
    DryRun,
    /// Not attempted: the orphan is Healthy and `--force` was not given.
    Kept,
}
