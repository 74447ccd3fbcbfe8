//! `report`: the fleet page. What a platform team asks of the whole fleet every week
//! (which chart version runs where, which clusters lag, which pools have whom to serve
//! them, what the script pods of a cluster ask of its autoscaler, which workers differ
//! from their cluster's defaults, what Octopus thinks of them) as one [`FleetReport`],
//! built from the output model of a render (never from rendered bytes read back), then
//! written as a self-contained HTML page ([`html`]), markdown ([`markdown`]) or a
//! stable JSON document ([`json`], docs/report-json.md). The same facts in each.

mod build;
pub mod html;
pub mod json;
pub mod markdown;

use std::path::Path;

use serde::Serialize;

use crate::cli::{ReportArgs, ReportFormat};
use crate::console::{status_failure, write_stdout, Context, StatusEvents};
use crate::diff::Cause;
use crate::failure::{Failure, Outcome};
use crate::model::Fleet;
use crate::render::templates::Templates;
use crate::render::Scope;
use crate::status::{client::ClientOptions, StatusOptions, StatusReport};
use crate::tree::fs::FsTree;

pub use build::build;

/// The version of the JSON document; a change that removes or renames a field bumps it.
pub const JSON_VERSION: u32 = 1;

/// The script-pod requests a worker row shows.
pub const REQUESTS: [&str; 3] = [
    "scriptPods.resources.requests.cpu",
    "scriptPods.resources.requests.memory",
    "scriptPods.resources.requests.ephemeral-storage",
];
/// The script-pod limits a worker row shows.
pub const LIMITS: [&str; 3] = [
    "scriptPods.resources.limits.cpu",
    "scriptPods.resources.limits.memory",
    "scriptPods.resources.limits.ephemeral-storage",
];
/// The columns of a worker row, in the page and in markdown.
pub const WORKER_HEADERS: [&str; 11] = [
    "Worker",
    "Namespace",
    "Chart",
    "Pools",
    "Agent image",
    "Worker tools",
    "Script-pod requests",
    "Script-pod limits",
    "Storage",
    "Set on the worker",
    "Octopus",
];

/// Everything the fleet page shows, in the order it shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetReport {
    pub version: u32,
    /// `--env` and `--cluster`, when given.
    pub scope: ReportScope,
    pub summary: Summary,
    pub environments: Vec<EnvironmentReport>,
    /// Agent and worker-tools images, and which clusters run each.
    pub images: Vec<ImageUse>,
    /// Every pool a declared worker names, per environment, and the clusters whose workers
    /// serve it.
    pub pools: Vec<PoolUse>,
    /// Whether `--status` was given: without it no worker has a `status`.
    pub status_asked: bool,
    /// Registered in Octopus, declared nowhere (with `--status`).
    pub orphans: Vec<WorkerStatusReport>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ReportScope {
    pub environment: Option<String>,
    pub cluster: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub environments: usize,
    pub clusters: usize,
    /// Declared workers, installed or not.
    pub workers: usize,
    pub uninstalled: usize,
    pub disabled: usize,
    /// Every chart version in use, oldest first; the last is the newest.
    pub chart_versions: Vec<String>,
    /// Clusters whose committed output differs from a fresh render (what `check` says).
    pub stale_clusters: usize,
    /// Open Octopus findings; `None` without `--status`.
    pub findings: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentReport {
    pub name: String,
    /// The chart versions its workers run, oldest first.
    pub chart_versions: Vec<String>,
    /// Whether any of its workers runs a chart older than the newest in use.
    pub behind: bool,
    pub clusters: Vec<ClusterReport>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterReport {
    pub name: String,
    pub chart_versions: Vec<String>,
    pub behind: bool,
    /// The committed output against a fresh render.
    pub rendered: Rendered,
    /// One script pod per installed worker, summed: what a burst asks of the autoscaler.
    pub script_pods: ScriptPodSums,
    /// The persistent volumes of its installed workers, summed.
    pub storage: Sum,
    pub workers: Vec<WorkerReport>,
}

/// What `check` would say of one cluster's committed files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum Rendered {
    /// No output folder at all: nothing was rendered (or committed) yet.
    Absent,
    UpToDate,
    Stale {
        stale: usize,
        missing: usize,
        extra: usize,
    },
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScriptPodSums {
    pub requests: Resources,
    pub limits: Resources,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resources {
    pub cpu: Sum,
    pub memory: Sum,
    pub ephemeral_storage: Sum,
}

/// A quantity summed over a cluster's installed workers.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sum {
    /// The sum in Kubernetes notation; `None` when no worker sets it.
    pub total: Option<String>,
    /// Installed workers that set it.
    pub set_by: usize,
    /// Installed workers that leave it unset (no bound, for a limit).
    pub unset_by: usize,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkerReport {
    pub name: String,
    /// `<env>/<cluster>/<worker>`, as `explain` takes it.
    pub id: String,
    pub installed: bool,
    pub disabled: bool,
    pub namespace: Option<String>,
    pub chart_version: String,
    pub pools: Vec<String>,
    /// The effective fields the page shows, each with where it came from.
    pub fields: Vec<Field>,
    /// The values its own entry sets over its cluster's defaults.
    pub own: Vec<Field>,
    /// What Octopus says of it (with `--status`).
    pub status: Option<WorkerStatusReport>,
}

/// One effective value and its origin.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    /// The chart value path (`scriptPods.resources.requests.cpu`).
    pub path: String,
    pub value: String,
    /// The declaration that set it, as `explain` shows it; `None` for a chart default
    /// or a generated value.
    pub source: Option<Cause>,
    /// `declaration`, `chart default` or `generated`.
    pub origin: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkerStatusReport {
    /// The name in Octopus.
    pub name: String,
    pub health: Option<String>,
    pub agent_version: Option<String>,
    /// Each open finding's kind and what it says.
    pub findings: Vec<FindingReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FindingReport {
    pub kind: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageUse {
    /// `agent` or `worker-tools`.
    pub kind: &'static str,
    pub image: String,
    pub clusters: Vec<ClusterCount>,
}

/// A cluster, `<env>/<cluster>`, and how many of its installed workers run an image.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterCount {
    pub cluster: String,
    pub workers: usize,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolUse {
    /// The environment, whose Octopus server the pool is in.
    pub environment: String,
    pub name: String,
    /// `<env>/<cluster>` of the installed, enabled workers that serve it.
    pub clusters: Vec<String>,
    pub workers: usize,
    /// Declared workers naming it that serve nothing (uninstalled or disabled).
    pub idle_workers: usize,
}

impl PoolUse {
    /// `none`, `one cluster` or `several clusters`: the first two stand out.
    pub fn served(&self) -> &'static str {
        match self.clusters.len() {
            0 => "none",
            1 => "one cluster",
            _ => "several clusters",
        }
    }
}

impl Field {
    /// Where it came from, short: the file's name and line (within one cluster the
    /// name tells its files apart), or `chart default` / `generated`.
    pub fn origin_text(&self) -> String {
        match &self.source {
            Some(cause) => {
                let name = cause.file.rsplit('/').next().unwrap_or(&cause.file);
                format!("{name}:{}", cause.line)
            }
            None => self.origin.to_string(),
        }
    }

    /// The chart value path without the part every field of its kind shares.
    pub fn label(&self) -> &str {
        self.path
            .strip_prefix("scriptPods.resources.")
            .or_else(|| self.path.strip_prefix("agent."))
            .unwrap_or(&self.path)
    }
}

impl Sum {
    /// The total, with the workers that leave it unset when some do; `-` for none.
    pub fn text(&self) -> String {
        match (&self.total, self.unset_by) {
            (None, _) => "-".to_string(),
            (Some(total), 0) => total.clone(),
            (Some(total), unset) => format!("{total} ({unset} unset)"),
        }
    }
}

impl Rendered {
    pub fn text(self) -> String {
        match self {
            Rendered::Absent => "not rendered".to_string(),
            Rendered::UpToDate => "up to date".to_string(),
            Rendered::Stale { stale, missing, extra } => {
                format!("out of date: {stale} stale, {missing} missing, {extra} extra")
            }
        }
    }
}

impl WorkerReport {
    /// The field at the chart value `path`.
    pub fn field(&self, path: &str) -> Option<&Field> {
        self.fields.iter().find(|field| field.path == path)
    }

    /// What the worker is, beyond installed and enabled.
    pub fn state(&self) -> Option<&'static str> {
        match (self.installed, self.disabled) {
            (false, _) => Some("uninstalled"),
            (true, true) => Some("disabled in Octopus"),
            (true, false) => None,
        }
    }
}

impl WorkerStatusReport {
    /// Health and version, then each finding.
    pub fn text(&self) -> String {
        let mut parts = vec![self.health.clone().unwrap_or_else(|| "not registered".to_string())];
        parts.extend(self.agent_version.iter().map(|version| format!("agent {version}")));
        parts.extend(self.findings.iter().map(|finding| finding.message.clone()));
        parts.join("; ")
    }
}

impl FleetReport {
    /// The summary line the page, the markdown and a CI log start with.
    pub fn summary_line(&self) -> String {
        let summary = &self.summary;
        let mut line = format!(
            "{} environments, {} clusters, {} workers ({} uninstalled, {} disabled); chart versions {}; {} clusters with stale rendered output",
            summary.environments,
            summary.clusters,
            summary.workers,
            summary.uninstalled,
            summary.disabled,
            summary.chart_versions.join(", "),
            summary.stale_clusters,
        );
        match summary.findings {
            Some(findings) => line.push_str(&format!("; {findings} open Octopus findings")),
            None => line.push_str("; Octopus status not asked (--status)"),
        }
        line
    }

    /// Every cluster with its environment.
    pub fn clusters(&self) -> impl Iterator<Item = (&EnvironmentReport, &ClusterReport)> {
        self.environments
            .iter()
            .flat_map(|environment| environment.clusters.iter().map(move |cluster| (environment, cluster)))
    }
}

/// `report`: loads nothing itself (the command layer hands it the valid fleet); builds,
/// with `--status`, asks Octopus, and writes the page to `--output` or stdout.
pub fn run(fleet: &Fleet, directory: &Path, args: &ReportArgs, context: &Context) -> Result<Outcome, Failure> {
    let scope = Scope::new(args.env.as_deref(), args.cluster.as_deref());
    crate::scope::check(fleet, &scope)?;
    let templates = Templates::load(&FsTree::new(directory))?;
    let status = if args.status {
        Some(ask_octopus(fleet, &scope, context)?)
    } else {
        None
    };
    let report = build(fleet, &templates, &scope, directory, status.as_ref())?;
    let text = match args.format {
        ReportFormat::Html => html::render(&report),
        ReportFormat::Markdown => markdown::render(&report),
        ReportFormat::Json => json::render(&report),
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, text)
                .map_err(|error| anyhow::Error::from(error).context(format!("cannot write `{}`", path.display())))?;
            if !context.quiet {
                eprintln!("wrote {}", path.display());
            }
        }
        None => write_stdout(&text)?,
    }
    Ok(Outcome::Success)
}

/// `status` as the `status` command runs it, reading only.
fn ask_octopus(fleet: &Fleet, scope: &Scope, context: &Context) -> Result<StatusReport, Failure> {
    let client = ClientOptions::from_env(crate::env::var_os).map_err(Failure::usage)?;
    let options = StatusOptions {
        environment: scope.environment.clone(),
        cluster: scope.cluster.clone(),
        client,
        ..StatusOptions::default()
    };
    let events = StatusEvents::new(context, fleet.workers.len());
    let result = crate::status::status(fleet, &options, &crate::env::var, &events);
    events.finish();
    result.map_err(|error| status_failure(error, fleet, context))
}
