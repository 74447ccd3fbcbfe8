//! `diff --format text`: a key-path summary, then unified diffs of the values files.

use std::fmt::Write as _;

use super::{json_text, Diff, Status};
use crate::diagnostic::Paint;

/// How many worker names a folded list shows.
const FOLD: usize = 10;

/// A list of names, the first few shown.
pub fn fold(names: &[String], shown: usize) -> String {
    let mut text = names.iter().take(shown).cloned().collect::<Vec<_>>().join(", ");
    if names.len() > shown {
        let _ = write!(text, " (+{} more)", names.len() - shown);
    }
    text
}

pub fn summary_line(diff: &Diff) -> String {
    format!(
        "{} added, {} changed, {} removed, {} unchanged",
        diff.count(Status::Added),
        diff.count(Status::Changed),
        diff.count(Status::Removed),
        diff.unchanged
    )
}

/// The chart CRD changes, one line per cluster (not per worker: one object owns it).
pub fn crds(diff: &Diff) -> String {
    diff.crds
        .iter()
        .map(|change| {
            format!(
                "{}: the chart's CRD `{}` is updated from chart {} to {}, once for the cluster (no release applies it)\n",
                change.cluster,
                crate::crds::NAME,
                change.old,
                change.new
            )
        })
        .collect()
}

/// What the stale rendered files belong to, counted by kind: `<env>/<cluster>/<worker>`
/// is a worker, `<env>/<cluster>` a cluster's own files, anything else (`_crds/<version>`)
/// a shared folder. "5 workers" counted a cluster folder as a worker.
pub(super) fn drift_owners(drift: &[String]) -> String {
    let parts = |owner: &String| owner.split('/').count();
    let workers = drift.iter().filter(|owner| parts(owner) == 3).count();
    let clusters = drift
        .iter()
        .filter(|owner| parts(owner) == 2 && !owner.starts_with('_'))
        .count();
    let shared = drift.len() - workers - clusters;
    let counted = |count: usize, one: &str, many: &str| match count {
        0 => None,
        1 => Some(format!("1 {one}")),
        _ => Some(format!("{count} {many}")),
    };
    let found: Vec<String> = [
        counted(workers, "worker", "workers"),
        counted(clusters, "cluster", "clusters"),
        counted(shared, "shared folder", "shared folders"),
    ]
    .into_iter()
    .flatten()
    .collect();
    match found.as_slice() {
        [.., last] if found.len() > 1 => format!("{} and {last}", found[..found.len() - 1].join(", ")),
        _ => found.join(""),
    }
}

/// The whole text report.
pub fn render(diff: &Diff, color: bool) -> String {
    let paint = Paint::new(color);
    let mut out = String::new();
    let _ = writeln!(out, "{} -> {}: {}", diff.base, diff.head, summary_line(diff));
    if !diff.drift.is_empty() {
        let _ = writeln!(
            out,
            "{} the rendered files in {} are stale for {}: {} (run `workergen render`)",
            paint.paint("1;35", "!"),
            diff.head,
            drift_owners(&diff.drift),
            fold(&diff.drift, FOLD)
        );
    }
    out.push_str(&crds(diff));
    if diff.is_empty() {
        return out;
    }
    for group in &diff.groups {
        let _ = writeln!(
            out,
            "\n{} changed {} `{}` {} -> {} for {} workers:\n    {}",
            paint.paint("1", &format!("{}:{}", group.cause.file, group.cause.line)),
            group.object,
            group.path,
            json_text(group.old.as_ref()),
            json_text(group.new.as_ref()),
            group.workers.len(),
            fold(&group.workers, FOLD)
        );
    }
    let mut only_shared = 0;
    for worker in &diff.workers {
        let shared_only = worker.status == Status::Changed
            && worker.risks.is_empty()
            && worker.changes.iter().all(|change| change.group.is_some());
        if shared_only {
            only_shared += 1;
            continue;
        }
        worker_section(&mut out, worker, &paint);
    }
    if only_shared > 0 {
        let _ = writeln!(
            out,
            "\n{only_shared} more worker{} changed only by the shared changes above",
            if only_shared == 1 { "" } else { "s" }
        );
    }
    unified_section(&mut out, diff, &paint);
    out
}

/// One worker's own changes and risks (its grouped changes are counted, not repeated).
fn worker_section(out: &mut String, worker: &super::WorkerDiff, paint: &Paint) {
    let (sign, code, label) = match worker.status {
        Status::Added => ("+", "32", " (added)"),
        Status::Removed => ("-", "31", " (removed)"),
        Status::Changed => ("~", "33", ""),
    };
    let _ = writeln!(out, "\n{}", paint.paint(code, &format!("{sign} {}{label}", worker.id)));
    let mut grouped = 0;
    for change in &worker.changes {
        if worker.status == Status::Changed && change.group.is_some() {
            grouped += 1;
            continue;
        }
        if worker.status != Status::Changed {
            continue;
        }
        let cause = change
            .cause
            .as_ref()
            .map(|cause| format!("  ({cause}, {})", cause.layer))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "    {} {}: {} -> {}{cause}",
            change.object,
            change.path,
            json_text(change.old.as_ref()),
            json_text(change.new.as_ref())
        );
    }
    if grouped > 0 {
        let _ = writeln!(
            out,
            "    and {grouped} grouped change{} above",
            if grouped == 1 { "" } else { "s" }
        );
    }
    for risk in &worker.risks {
        let _ = writeln!(out, "    {} {}", paint.paint("1;35", "!"), risk.message);
    }
}

/// The unified diffs of the changed values files, colored by line.
fn unified_section(out: &mut String, diff: &Diff, paint: &Paint) {
    let unified: Vec<&str> = diff
        .workers
        .iter()
        .filter_map(|worker| worker.unified.as_deref())
        .collect();
    if !unified.is_empty() {
        out.push('\n');
        for text in unified {
            for line in text.lines() {
                let code = match line.as_bytes().first() {
                    Some(b'+') if !line.starts_with("+++") => "32",
                    Some(b'-') if !line.starts_with("---") => "31",
                    Some(b'@') => "36",
                    _ => "",
                };
                let _ = writeln!(
                    out,
                    "{}",
                    if code.is_empty() {
                        line.to_string()
                    } else {
                        paint.paint(code, line)
                    }
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::drift_owners;

    #[test]
    fn stale_owners_are_counted_by_kind() {
        let owners = |list: &[&str]| drift_owners(&list.iter().map(|owner| (*owner).to_string()).collect::<Vec<_>>());
        assert_eq!(owners(&["p/eu", "p/eu/a", "p/eu/b"]), "2 workers and 1 cluster");
        assert_eq!(owners(&["p/eu/a"]), "1 worker");
        assert_eq!(owners(&["_crds/3.13.2", "p/eu"]), "1 cluster and 1 shared folder");
        assert_eq!(
            owners(&["_crds/3.13.2", "p/eu", "p/eu/a"]),
            "1 worker, 1 cluster and 1 shared folder"
        );
    }
}
