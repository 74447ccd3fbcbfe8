//! `status --format text`: for a terminal. Per environment, the orphans first, then each
//! cluster with its workers' problems first and the workers in sync folded into a line.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{shown, EnvironmentStatus, StatusReport, WorkerStatus, WriteOutcome};
use crate::diff::text::fold;

/// Workers in sync named per cluster before the rest are counted.
const IN_SYNC_SHOWN: usize = 8;

/// The whole text report.
pub fn render(report: &StatusReport) -> String {
    let mut out = String::new();
    for environment in &report.environments {
        render_environment(&mut out, environment);
    }
    if !report.writes.is_empty() {
        out.push_str("writes:\n");
        for write in &report.writes {
            let _ = writeln!(
                out,
                "  {} {} {}: {} [{}]",
                write.environment,
                write.method,
                shown(&write.path),
                write.change,
                outcome(write.outcome)
            );
        }
    }
    let _ = writeln!(out, "{}", summary(report));
    out
}

pub fn outcome(outcome: WriteOutcome) -> &'static str {
    match outcome {
        WriteOutcome::Done => "done",
        WriteOutcome::Failed => "failed",
        WriteOutcome::NotDone => "not done",
        WriteOutcome::DryRun => "dry run: not sent",
        WriteOutcome::Kept => "kept",
    }
}

/// `3 environments, 12 workers: 4 findings (2 pools, 1 missing, 1 orphaned)`.
pub fn summary(report: &StatusReport) -> String {
    let total: usize = report.findings().count();
    let mut text = format!(
        "{}, {}: ",
        super::counted(report.environments.len(), "environment"),
        super::counted(report.worker_count(), "worker")
    );
    if total == 0 {
        text.push_str("in sync");
        return text;
    }
    let counts: Vec<String> = report
        .counts()
        .iter()
        .map(|(kind, count)| format!("{count} {kind}"))
        .collect();
    let _ = write!(text, "{} ({})", super::counted(total, "finding"), counts.join(", "));
    let fixed = total - report.open_findings();
    if fixed > 0 {
        let _ = write!(text, ", {fixed} fixed");
    }
    text
}

fn render_environment(out: &mut String, environment: &EnvironmentStatus) {
    let _ = writeln!(
        out,
        "{}: {} space {} ({})",
        environment.name, environment.server_url, environment.space, environment.space_id
    );
    let orphans: Vec<&WorkerStatus> = environment
        .workers
        .iter()
        .filter(|worker| worker.cluster.is_none())
        .collect();
    if !orphans.is_empty() {
        out.push_str("  not declared\n");
        for worker in orphans {
            render_worker(out, worker);
        }
    }
    let mut clusters: BTreeMap<&str, Vec<&WorkerStatus>> = BTreeMap::new();
    for worker in &environment.workers {
        if let Some(cluster) = &worker.cluster {
            clusters.entry(cluster).or_default().push(worker);
        }
    }
    // Clusters with problems first, then the ones in sync.
    let (troubled, clean): (Vec<_>, Vec<_>) = clusters
        .into_iter()
        .partition(|(_, workers)| workers.iter().any(|worker| !worker.findings.is_empty()));
    for (cluster, workers) in troubled {
        let _ = writeln!(out, "  {cluster}");
        let mut in_sync = Vec::new();
        for worker in workers {
            if worker.findings.is_empty() {
                in_sync.push(worker.worker.clone().unwrap_or_default());
            } else {
                render_worker(out, worker);
            }
        }
        if !in_sync.is_empty() {
            let _ = writeln!(out, "    in sync: {}", fold(&in_sync, IN_SYNC_SHOWN));
        }
    }
    if !clean.is_empty() {
        let names: Vec<String> = clean
            .iter()
            .map(|(cluster, workers)| format!("{cluster} ({})", workers.len()))
            .collect();
        let _ = writeln!(out, "  in sync: {}", fold(&names, IN_SYNC_SHOWN));
    }
    if environment.workers.is_empty() {
        out.push_str("  no workers declared\n");
    }
}

fn render_worker(out: &mut String, worker: &WorkerStatus) {
    let id = worker.id.as_deref().map(|id| format!(", {id}")).unwrap_or_default();
    let name = shown(&worker.name);
    match &worker.worker {
        Some(key) => {
            let _ = writeln!(out, "    {key} (`{name}`{})", shown(&id));
        }
        None => {
            let id = worker.id.as_deref().map(|id| format!(" ({id})")).unwrap_or_default();
            let _ = writeln!(out, "    `{name}`{}", shown(&id));
            // What tells a live agent from a dead one, before anyone prunes it.
            let text = |value: Option<&String>| {
                value.map_or_else(|| "unknown".to_string(), |value| format!("`{}`", shown(value)))
            };
            let _ = writeln!(
                out,
                "      release {} in namespace {}, health {}, last seen: {}",
                text(worker.helm_release.as_ref()),
                text(worker.namespace.as_ref()),
                text(worker.health_status.as_ref()),
                shown(worker.status_summary.as_deref().unwrap_or("unknown"))
            );
        }
    }
    for finding in &worker.findings {
        let fixed = if finding.fixed { " [fixed]" } else { "" };
        let _ = writeln!(out, "      {}: {}{fixed}", finding.kind.name(), finding.kind.describe());
    }
}
