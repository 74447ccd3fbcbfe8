//! `--apply` and `--prune`: the writes planned by `compare`, made one at a time.
//!
//! A PUT sends the whole worker back as the server sent it in `workers/all`, with only
//! `WorkerPoolIds` and `MachinePolicyId` changed (the API replaces the resource). The
//! first failure stops all further writes, so the report says exactly which were made
//! and which were not. An orphan's DELETE is announced with what is known of it before
//! it is sent; one that is alive without `--force` is kept, and `--dry-run` sends nothing.

use super::client::{Client, Method};
use super::{Events, StatusError, StatusReport, Write, WriteOutcome};

/// A write and what it fixes.
#[derive(Debug, Clone)]
pub struct Planned {
    pub write: Write,
    /// The PUT body; `None` for a DELETE.
    pub body: Option<serde_json::Value>,
    /// The finding kinds of that worker that the write fixes.
    pub fixes: Vec<&'static str>,
    /// What the user should know of the write (taken into the report's warnings).
    pub warning: Option<String>,
}

/// Makes the writes, server by server (`clients` and `plans` side by side); records each
/// in `report` and marks the findings it fixed. Returns the failure that stopped it.
pub fn apply(
    clients: &[Client<'_>],
    plans: Vec<Vec<Planned>>,
    report: &mut StatusReport,
    dry_run: bool,
    events: &dyn Events,
) -> Option<StatusError> {
    let mut failure = None;
    for (client, plan) in clients.iter().zip(plans) {
        for mut planned in plan {
            if planned.write.outcome == WriteOutcome::Kept {
                events.wrote(&planned.write);
                report.writes.push(planned.write);
                continue;
            }
            if failure.is_some() {
                report.writes.push(planned.write);
                continue;
            }
            if dry_run {
                planned.write.outcome = WriteOutcome::DryRun;
                events.wrote(&planned.write);
                report.writes.push(planned.write);
                continue;
            }
            if planned.write.method == Method::Delete {
                events.deleting(&planned.write);
            }
            let result = match (planned.write.method, &planned.body) {
                (Method::Put, Some(body)) => client.put(&planned.write.path, body),
                _ => client.delete(&planned.write.path),
            };
            match result {
                Ok(()) => {
                    planned.write.outcome = WriteOutcome::Done;
                    mark_fixed(report, &planned);
                }
                Err(error) => {
                    planned.write.outcome = WriteOutcome::Failed;
                    failure = Some(error);
                }
            }
            events.wrote(&planned.write);
            report.writes.push(planned.write);
        }
    }
    failure
}

fn mark_fixed(report: &mut StatusReport, planned: &Planned) {
    let Some(environment) = report
        .environments
        .iter_mut()
        .find(|environment| environment.name == planned.write.environment)
    else {
        return;
    };
    for worker in environment
        .workers
        .iter_mut()
        .filter(|worker| worker.name == planned.write.worker)
    {
        // An orphan and a declared worker may share a name only across spaces; the
        // method tells them apart.
        if (planned.write.method == Method::Delete) != worker.cluster.is_none() {
            continue;
        }
        for finding in &mut worker.findings {
            if planned.fixes.contains(&finding.kind.name()) {
                finding.fixed = true;
            }
        }
    }
}
