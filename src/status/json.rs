//! `status --format json`: a stable, versioned document for other tools
//! (docs/status-json.md, schema docs/status-json.schema.json).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{EnvironmentStatus, StatusReport, Write};

/// The schema version; bumped on any incompatible change.
pub const VERSION: u32 = 1;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary<'a> {
    environments: usize,
    workers: usize,
    findings: usize,
    /// Findings no write of this run fixed: what `--exit-code` counts.
    open: usize,
    by_kind: BTreeMap<&'a str, usize>,
}

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    summary: Summary<'a>,
    environments: &'a [EnvironmentStatus],
    writes: &'a [Write],
}

/// The JSON document, pretty-printed, ending with a newline.
pub fn render(report: &StatusReport) -> String {
    let document = Document {
        version: VERSION,
        summary: Summary {
            environments: report.environments.len(),
            workers: report.worker_count(),
            findings: report.findings().count(),
            open: report.open_findings(),
            by_kind: report.counts(),
        },
        environments: &report.environments,
        writes: &report.writes,
    };
    let mut text = serde_json::to_string_pretty(&document).expect("the report serializes");
    text.push('\n');
    text
}
