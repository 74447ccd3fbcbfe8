//! `diff --format markdown`: a pull-request body or comment, never over 65,536 characters.
//!
//! Summary table first, then every risk note (grouped by note, worker lists folded),
//! then declaration changes seen in many workers, then one `<details>` per cluster.
//! When the whole would be too long, clusters are left out (and said so) before any
//! risk note is.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::text::fold;
use super::{json_text, Counts, Diff, Status, WorkerDiff};

/// GitHub's limit for a comment or pull-request body.
pub const LIMIT: usize = 65_536;

/// Room kept for the closing note that says what was left out.
const RESERVE: usize = 600;

fn code(text: &str) -> String {
    let text = text.replace('`', "'").replace('|', "\\|").replace('\n', " ");
    format!("`{text}`")
}

fn summary(diff: &Diff) -> String {
    let mut out = String::from("## workergen diff\n\n");
    let _ = writeln!(
        out,
        "{} → {}: **{} added, {} changed, {} removed**, {} unchanged\n",
        code(&diff.base),
        code(&diff.head),
        diff.count(Status::Added),
        diff.count(Status::Changed),
        diff.count(Status::Removed),
        diff.unchanged
    );
    out.push_str("| environment | added | changed | removed | unchanged |\n|---|---:|---:|---:|---:|\n");
    for (environment, counts) in &diff.per_environment {
        let Counts {
            added,
            changed,
            removed,
            unchanged,
        } = counts;
        let _ = writeln!(out, "| {environment} | {added} | {changed} | {removed} | {unchanged} |");
    }
    out
}

fn drift(diff: &Diff, shown: usize) -> String {
    if diff.drift.is_empty() {
        return String::new();
    }
    let names: Vec<String> = diff.drift.iter().map(|id| code(id)).collect();
    format!(
        "\n> ⚠️ The committed rendered files differ from the declarations for {}: {}. Run `workergen render` and commit.\n",
        super::text::drift_owners(&diff.drift),
        fold(&names, shown)
    )
}

fn risks(diff: &Diff, shown: usize) -> String {
    let mut by_message: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for worker in &diff.workers {
        // A new worker's note says what its install does to Octopus, as in text and json.
        for risk in &worker.risks {
            by_message.entry(&risk.message).or_default().push(worker.id.clone());
        }
    }
    if by_message.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n### ⚠️ Risky changes\n\n");
    for (message, workers) in by_message {
        let names: Vec<String> = workers.iter().map(|id| code(id)).collect();
        let _ = writeln!(out, "- {message}: {}", fold(&names, shown));
    }
    out
}

fn groups(diff: &Diff, shown: usize) -> String {
    if diff.groups.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n### Changes shared by many workers\n\n");
    for group in &diff.groups {
        let names: Vec<String> = group.workers.iter().map(|id| code(id)).collect();
        // A worker's own objects are named: two ExternalSecrets share paths.
        let object = match group.object {
            "values" | "helmrelease" | "application" => String::new(),
            other => format!("{} ", code(other)),
        };
        let _ = writeln!(
            out,
            "- `{}:{}` changed {object}{} {} → {} for **{} workers**: {}",
            group.cause.file,
            group.cause.line,
            code(&group.path),
            code(&json_text(group.old.as_ref())),
            code(&json_text(group.new.as_ref())),
            group.workers.len(),
            fold(&names, shown)
        );
    }
    out
}

fn cluster_section(cluster: &str, workers: &[&WorkerDiff]) -> String {
    let count = |status| workers.iter().filter(|worker| worker.status == status).count();
    let mut out = format!(
        "\n<details><summary><b>{cluster}</b>: {} added, {} changed, {} removed</summary>\n\n",
        count(Status::Added),
        count(Status::Changed),
        count(Status::Removed)
    );
    out.push_str("| worker | change | key | old | new | set at |\n|---|---|---|---|---|---|\n");
    for worker in workers {
        match worker.status {
            Status::Added | Status::Removed => {
                let _ = writeln!(out, "| {} | {:?} | | | | |", code(&worker.name), worker.status);
            }
            Status::Changed => {
                for change in &worker.changes {
                    let cause = change
                        .cause
                        .as_ref()
                        .map(|cause| code(&cause.to_string()))
                        .unwrap_or_default();
                    let shared = if change.group.is_some() { " (shared)" } else { "" };
                    let _ = writeln!(
                        out,
                        "| {} | {}{shared} | {} | {} | {} | {cause} |",
                        code(&worker.name),
                        change.object,
                        code(&change.path),
                        code(&json_text(change.old.as_ref())),
                        code(&json_text(change.new.as_ref()))
                    );
                }
            }
        }
    }
    out.push_str("\n</details>\n");
    out
}

/// The markdown body, at most [`LIMIT`] characters.
pub fn render(diff: &Diff) -> String {
    let mut out = summary(diff);
    out.push_str(&drift(diff, 10));
    if !diff.crds.is_empty() {
        out.push('\n');
        // Folded like every list here: the body stays within its limit for any fleet.
        for line in super::text::crds(diff).lines().take(10) {
            out.push_str(&format!("- {line}\n"));
        }
        if diff.crds.len() > 10 {
            out.push_str(&format!(
                "- (+{} more clusters with a new chart CRD)\n",
                diff.crds.len() - 10
            ));
        }
    }
    if diff.is_empty() {
        out.push_str("\nNo worker changes.\n");
        return out;
    }
    // Risk notes are kept whole; only their worker lists fold harder when needed.
    let mut risk_text = risks(diff, 20);
    for shown in [5, 1] {
        if out.len() + risk_text.len() + RESERVE <= LIMIT {
            break;
        }
        risk_text = risks(diff, shown);
    }
    out.push_str(&risk_text);
    let mut left_out = Vec::new();
    let group_text = groups(diff, 20);
    if out.len() + group_text.len() + RESERVE <= LIMIT {
        out.push_str(&group_text);
    } else {
        left_out.push(format!("{} shared changes", diff.groups.len()));
    }
    let mut clusters: BTreeMap<String, Vec<&WorkerDiff>> = BTreeMap::new();
    for worker in &diff.workers {
        clusters
            .entry(format!("{}/{}", worker.environment, worker.cluster))
            .or_default()
            .push(worker);
    }
    let sections: Vec<(String, Vec<&WorkerDiff>)> = clusters.into_iter().collect();
    finish(
        out,
        &sections,
        |cluster, workers| cluster_section(cluster, workers),
        left_out,
        "diff",
    )
}

/// Appends one `<details>` section per cluster while they fit under [`LIMIT`] (keeping
/// room for the closing note), then says what was left out and how to see everything
/// (`workergen <command>`), and cuts as a last resort: `diff` and `status` fold alike.
pub(crate) fn finish<T>(
    mut out: String,
    sections: &[(String, T)],
    section: impl Fn(&str, &T) -> String,
    mut left_out: Vec<String>,
    command: &str,
) -> String {
    let mut skipped = 0;
    for (title, items) in sections {
        let text = section(title, items);
        if skipped == 0 && out.len() + text.len() + RESERVE <= LIMIT {
            out.push_str(&text);
        } else {
            skipped += 1;
        }
    }
    if skipped > 0 {
        left_out.push(format!("the details of {skipped} of {} clusters", sections.len()));
    }
    if !left_out.is_empty() {
        let _ = writeln!(
            out,
            "\n> Shortened to fit {LIMIT} characters: left out {}. Run `workergen {command}` for everything.",
            left_out.join(" and ")
        );
    }
    truncate(out)
}

/// A last resort that never cuts inside a character.
fn truncate(mut out: String) -> String {
    if out.len() > LIMIT {
        let note = "\n\n> Cut at 65,536 characters.\n";
        let mut end = LIMIT - note.len();
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
        out.push_str(note);
    }
    out
}
