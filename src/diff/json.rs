//! `diff --format json`: a stable, versioned document for other tools (docs/diff-json.md).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Counts, Diff, Group, Status, WorkerDiff};

/// The schema version; bumped on any incompatible change.
pub const VERSION: u32 = 1;

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
    crds: &'a [super::CrdChange],
}

pub fn render(diff: &Diff) -> String {
    let document = Document {
        version: VERSION,
        base: &diff.base,
        head: &diff.head,
        summary: Counts {
            added: diff.count(Status::Added),
            changed: diff.count(Status::Changed),
            removed: diff.count(Status::Removed),
            unchanged: diff.unchanged,
        },
        environments: diff
            .per_environment
            .iter()
            .map(|(name, counts)| (name.as_str(), *counts))
            .collect(),
        groups: &diff.groups,
        workers: &diff.workers,
        drift: &diff.drift,
        crds: &diff.crds,
    };
    let mut text = serde_json::to_string_pretty(&document).expect("the diff serializes");
    text.push('\n');
    text
}
