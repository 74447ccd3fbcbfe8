//! `diff --format json`: a stable, versioned document for other tools (docs/diff-json.md).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Diff, Group, Status, WorkerDiff};

/// The schema version; bumped on any incompatible change.
pub const VERSION: u32 = 1;

#[derive(Serialize)]
struct Counts {
    added: usize,
    changed: usize,
    removed: usize,
    unchanged: usize,
}

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    base: &'a str,
    head: &'a str,
    summary: Counts,
    environments: BTreeMap<&'a str, Counts>,
    groups: &'a [Group],
    workers: &'a [WorkerDiff],
    drift: &'a [String],
}

pub fn render(diff: &Diff) -> String {
    let counts = |[added, changed, removed, unchanged]: [usize; 4]| Counts {
        added,
        changed,
        removed,
        unchanged,
    };
    let document = Document {
        version: VERSION,
        base: &diff.base,
        head: &diff.head,
        summary: counts([
            diff.count(Status::Added),
            diff.count(Status::Changed),
            diff.count(Status::Removed),
            diff.unchanged,
        ]),
        environments: diff
            .per_environment
            .iter()
            .map(|(name, numbers)| (name.as_str(), counts(*numbers)))
            .collect(),
        groups: &diff.groups,
        workers: &diff.workers,
        drift: &diff.drift,
    };
    let mut text = serde_json::to_string_pretty(&document).expect("the diff serializes");
    text.push('\n');
    text
}
