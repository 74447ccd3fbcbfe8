//! The fleet report as a stable JSON document (docs/report-json.md): the same facts as
//! the page, for scripts and dashboards.

use super::FleetReport;

/// The document, pretty-printed, with a final newline.
pub fn render(report: &FleetReport) -> String {
    let text = serde_json::to_string_pretty(report).unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"));
    format!("{text}\n")
}
