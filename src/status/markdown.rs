//! `status --format markdown`: a CI comment or a scheduled job's issue body, never over
//! 65,536 characters.
//!
//! A verdict and a table per environment first, then each finding kind with its workers
//! (lists folded like `diff` folds them), the writes, and one `<details>` per cluster.
//! When the whole would be too long, the worker lists fold harder, then clusters and
//! writes are left out (and the body says so).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{StatusReport, WorkerStatus};
use crate::diff::markdown::LIMIT;
use crate::diff::text::fold;

/// Room kept for the closing note that says what was left out.
const RESERVE: usize = 600;

/// The finding kinds, in the order the table shows them.
const KINDS: [&str; 9] = [
    "missing",
    "renamed",
    "orphaned",
    "pools",
    "machinePolicy",
    "autoUpgrade",
    "unhealthy",
    "disabled",
    "unknownPool",
];

fn code(text: &str) -> String {
    let text = super::shown(text).replace('`', "'").replace('|', "\\|");
    format!("`{text}`")
}

fn summary(report: &StatusReport) -> String {
    let mut out = String::from("## workergen status\n\n");
    let total = report.findings().count();
    if total == 0 {
        let _ = writeln!(
            out,
            "✅ In sync: {} in {} match what Octopus has registered.",
            super::counted(report.worker_count(), "worker"),
            super::counted(report.environments.len(), "environment")
        );
        return out;
    }
    let open = report.open_findings();
    let _ = write!(
        out,
        "⚠️ **{}** in {} of {}",
        super::counted(total, "finding"),
        super::counted(
            report
                .environments
                .iter()
                .flat_map(|environment| &environment.workers)
                .filter(|worker| !worker.findings.is_empty())
                .count(),
            "worker"
        ),
        super::counted(report.environments.len(), "environment")
    );
    if open < total {
        let _ = write!(out, " ({} fixed by this run)", total - open);
    }
    out.push_str(".\n\n| environment | workers |");
    for kind in KINDS {
        let _ = write!(out, " {kind} |");
    }
    out.push_str("\n|---|---:|");
    out.push_str(&"---:|".repeat(KINDS.len()));
    out.push('\n');
    for environment in &report.environments {
        let _ = write!(
            out,
            "| {} | {} |",
            environment.name,
            environment.workers.iter().filter(|w| w.cluster.is_some()).count()
        );
        for kind in KINDS {
            let count = environment
                .workers
                .iter()
                .flat_map(|worker| &worker.findings)
                .filter(|finding| finding.kind.name() == kind)
                .count();
            let _ = write!(out, " {count} |");
        }
        out.push('\n');
    }
    out
}

fn qualified(environment: &str, worker: &WorkerStatus) -> String {
    code(&format!("{environment}/{}", worker.label()))
}

/// Each finding kind with the workers that have it.
fn by_kind(report: &StatusReport, shown: usize) -> String {
    let mut kinds: BTreeMap<usize, (&str, Vec<String>)> = BTreeMap::new();
    for environment in &report.environments {
        for worker in &environment.workers {
            for finding in &worker.findings {
                let name = finding.kind.name();
                let order = KINDS.iter().position(|kind| *kind == name).unwrap_or(KINDS.len());
                kinds
                    .entry(order)
                    .or_insert_with(|| (name, Vec::new()))
                    .1
                    .push(qualified(&environment.name, worker));
            }
        }
    }
    if kinds.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n### Findings\n\n");
    for (name, workers) in kinds.values() {
        let _ = writeln!(
            out,
            "- **{name}** ({}, {}): {}",
            workers.len(),
            explain(name),
            fold(workers, shown)
        );
    }
    out
}

/// What a finding kind means and what fixes it.
fn explain(kind: &str) -> &'static str {
    match kind {
        "missing" => "declared, not registered: the install has not run or failed to register",
        "renamed" => "registered under another name, found by Helm release and namespace: `status --apply` restores the declared name",
        "orphaned" => "registered, declared nowhere: `status --prune` deletes those not Healthy (`--force`: all)",
        "pools" => "read only at registration, Helm cannot change them: `status --apply` sets them",
        "machinePolicy" => "read only at registration: `status --apply` sets it",
        "autoUpgrade" => "Octopus upgrades these agents behind Git's back: use a policy with manual updates",
        "unhealthy" => "Octopus cannot reach or use these workers",
        "disabled" => "disabled (or enabled) in Octopus other than the declaration's `disabled`: `status --apply` sets it",
        _ => "no such worker pool in the space",
    }
}

fn writes(report: &StatusReport, shown: usize) -> String {
    if report.writes.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n### Writes\n\n");
    let lines: Vec<String> = report
        .writes
        .iter()
        .map(|write| {
            format!(
                "- {} {} {} ({}): {}",
                super::text::outcome(write.outcome),
                write.method,
                code(&write.worker),
                write.environment,
                super::shown(&write.change).replace('|', "\\|")
            )
        })
        .collect();
    for line in lines.iter().take(shown) {
        out.push_str(line);
        out.push('\n');
    }
    if lines.len() > shown {
        let _ = writeln!(out, "- … and {} more", lines.len() - shown);
    }
    out
}

fn cluster_section(title: &str, workers: &[&WorkerStatus]) -> String {
    let findings: usize = workers.iter().map(|worker| worker.findings.len()).sum();
    let mut out = format!("\n<details><summary><b>{title}</b>: {findings} findings</summary>\n\n");
    out.push_str("| worker | Octopus name | finding | detail |\n|---|---|---|---|\n");
    for worker in workers {
        for finding in &worker.findings {
            let fixed = if finding.fixed { " (fixed)" } else { "" };
            let _ = writeln!(
                out,
                "| {} | {} | {}{fixed} | {} |",
                code(worker.worker.as_deref().unwrap_or("-")),
                code(&worker.name),
                finding.kind.name(),
                finding.kind.describe().replace('|', "\\|")
            );
        }
    }
    out.push_str("\n</details>\n");
    out
}

/// The markdown body, at most [`LIMIT`] characters.
pub fn render(report: &StatusReport) -> String {
    let mut out = summary(report);
    if report.findings().count() == 0 && report.writes.is_empty() {
        return out;
    }
    let mut kind_text = by_kind(report, 20);
    for shown in [5, 1] {
        if out.len() + kind_text.len() + RESERVE <= LIMIT {
            break;
        }
        kind_text = by_kind(report, shown);
    }
    out.push_str(&kind_text);
    let mut left_out = Vec::new();
    let mut write_text = writes(report, 50);
    if out.len() + write_text.len() + RESERVE > LIMIT {
        write_text = writes(report, 5);
    }
    if out.len() + write_text.len() + RESERVE <= LIMIT {
        out.push_str(&write_text);
    } else {
        left_out.push(format!("{} writes", report.writes.len()));
    }
    let mut sections: Vec<(String, Vec<&WorkerStatus>)> = Vec::new();
    for environment in &report.environments {
        let mut clusters: BTreeMap<String, Vec<&WorkerStatus>> = BTreeMap::new();
        for worker in environment.workers.iter().filter(|worker| !worker.findings.is_empty()) {
            let cluster = worker.cluster.as_deref().unwrap_or("(not declared)");
            clusters
                .entry(format!("{}/{cluster}", environment.name))
                .or_default()
                .push(worker);
        }
        sections.extend(clusters);
    }
    crate::diff::markdown::finish(
        out,
        &sections,
        |title, workers| cluster_section(title, workers),
        left_out,
        "status",
    )
}
