//! Explain: a worker's effective values and manifest, each leaf with where it came from.
//!
//! The values are the chart's own defaults (at the worker's chart major) with the
//! worker's values laid over them the way Helm does, so every leaf is either set by a
//! declaration (`file:line:column`, layer) or a chart default.

use serde::Serialize;

use crate::chart;
use crate::diff::Cause;
use crate::merge::overlay;
use crate::model::{Fleet, Worker};
use crate::render::templates::{TemplateError, Templates};
use crate::yaml::{self, Lists, Node};

/// One leaf and its origin.
#[derive(Debug, Clone, Serialize)]
pub struct Leaf {
    pub path: String,
    pub value: serde_json::Value,
    /// The declaration that set it; `None` for a chart default or a generated field.
    pub source: Option<Cause>,
    /// `declaration`, `chart default` or `generated`.
    pub origin: &'static str,
}

/// Everything `explain` says about a worker.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub worker: String,
    pub chart: String,
    pub engine: String,
    /// False for an uninstalled worker (`installed: false`): nothing is rendered for it.
    pub installed: bool,
    /// True for a worker kept installed but disabled in Octopus (`disabled: true`).
    pub disabled: bool,
    /// The chart value path a declaration field name given as KEY stands for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_as_chart_value: Option<String>,
    pub values: Vec<Leaf>,
    /// The manifest's file name (`helmrelease.yaml`, `application.yaml`), if any.
    pub manifest_file: Option<&'static str>,
    pub manifest: Vec<Leaf>,
    /// The effective `secrets.externalSecret` of the worker's cluster: where
    /// its ExternalSecrets read each credential, and which file and layer set it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<Leaf>,
    /// The effective `octopus:` of the worker's cluster: the environment's, with the keys
    /// a cluster file sets over it, each with the file and layer that set it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub octopus: Vec<Leaf>,
}

impl Explanation {
    /// Whether it shows no leaf at all (a KEY that matches nothing).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty() && self.manifest.is_empty() && self.secrets.is_empty() && self.octopus.is_empty()
    }
}

/// The leaves of `node` at or below `key` (all without one), by path.
fn leaves(fleet: &Fleet, node: &Node, key: Option<&str>) -> Vec<Leaf> {
    let inside = |path: &str| match key {
        Some(key) => path == key || path.starts_with(&format!("{key}.")) || path.starts_with(&format!("{key}[")),
        None => true,
    };
    let mut out: Vec<Leaf> = yaml::leaves(node, Lists::Whole)
        .into_iter()
        .map(|(path, leaf)| (path.to_string(), leaf))
        .filter(|(path, _)| inside(path))
        .map(|(path, leaf)| Leaf {
            path,
            value: serde_json::to_value(leaf).unwrap_or(serde_json::Value::Null),
            source: crate::diff::cause(fleet, leaf),
            origin: leaf.origin.describe(),
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// Explains `worker`; with `key`, only the leaves at or below that dotted path.
pub fn explain(
    fleet: &Fleet,
    templates: &Templates,
    worker: &Worker,
    key: Option<&str>,
) -> Result<Explanation, TemplateError> {
    // A declaration field name (`workerPools`, `storage.size`) means its chart value.
    let chart_key = key.and_then(chart::chart_path_of_field);
    let values_key = chart_key.as_deref().or(key);
    if !worker.installed {
        return Ok(Explanation {
            worker: fleet.worker_id(worker),
            chart: format!("{} {}", worker.chart.name.value, worker.chart.version.value),
            engine: fleet.settings.engine.value.as_str().to_string(),
            installed: false,
            disabled: worker.disabled,
            key_as_chart_value: chart_key,
            values: Vec::new(),
            manifest_file: None,
            manifest: Vec::new(),
            secrets: Vec::new(),
            octopus: Vec::new(),
        });
    }
    // The worker as a render builds it: its values tree and its manifest.
    let built = crate::render::build_one(fleet, templates, worker)?;
    let values = built
        .values
        .as_ref()
        .and_then(crate::render::model::Document::node)
        .cloned()
        // On disk every installed worker has its values file.
        .unwrap_or_else(|| Node::map(worker.name_loc));
    let mut effective = match worker.chart.major().and_then(chart::reference) {
        Some(reference) => reference.root.clone(),
        None => Node::map(values.loc),
    };
    overlay(&mut effective, &values);
    let manifest = built
        .manifest
        .as_ref()
        .and_then(|document| Some((document.manifest_file(), document.node()?)));
    Ok(Explanation {
        worker: fleet.worker_id(worker),
        chart: format!("{} {}", worker.chart.name.value, worker.chart.version.value),
        engine: fleet.settings.engine.value.as_str().to_string(),
        installed: true,
        disabled: worker.disabled,
        values: leaves(fleet, &effective, values_key),
        key_as_chart_value: chart_key.clone(),
        manifest_file: manifest.as_ref().map(|(file, _)| *file),
        manifest: manifest
            .as_ref()
            .map(|(_, node)| leaves(fleet, node, key))
            .unwrap_or_default(),
        secrets: secrets(fleet, worker, key),
        octopus: octopus(fleet, worker, key),
    })
}

/// The leaves of the worker's effective `octopus:` block, by their full path
/// (`octopus.auth.bearerTokenSecret`); with `key`, those at or below it.
fn octopus(fleet: &Fleet, worker: &Worker, key: Option<&str>) -> Vec<Leaf> {
    block_leaves(fleet, "octopus", &fleet.cluster_of(worker).octopus_node, key)
}

/// The leaves of `node`, a declaration block known as `prefix`, by their full path;
/// with `key`, those at or below it (none when `key` is outside the block).
fn block_leaves(fleet: &Fleet, prefix: &str, node: &Node, key: Option<&str>) -> Vec<Leaf> {
    let inner = match key {
        None => None,
        Some(key) if prefix.starts_with(key) => None,
        Some(key) => match key.strip_prefix(prefix).and_then(|rest| rest.strip_prefix('.')) {
            Some(rest) => Some(rest),
            None => return Vec::new(),
        },
    };
    let mut found = leaves(fleet, node, inner);
    for leaf in &mut found {
        leaf.path = format!("{prefix}.{}", leaf.path);
    }
    found
}

/// The leaves of the worker's effective `secrets.externalSecret`, by their full path
/// (`secrets.externalSecret.storeRef.name`); with `key`, those at or below it.
fn secrets(fleet: &Fleet, worker: &Worker, key: Option<&str>) -> Vec<Leaf> {
    match &fleet.cluster_of(worker).external_secret {
        Some(external_secret) => block_leaves(fleet, "secrets.externalSecret", &external_secret.node, key),
        None => Vec::new(),
    }
}

/// The text report: one line per leaf, value then origin.
pub fn render_text(explanation: &Explanation) -> String {
    let mut out = format!(
        "{} (chart {}, engine {})\n",
        explanation.worker, explanation.chart, explanation.engine
    );
    if !explanation.installed {
        out.push_str("\nuninstalled (`installed: false`): workergen renders no files for it, so the engine uninstalls its release (its namespace stays)\n");
        return out;
    }
    if explanation.disabled {
        out.push_str("disabled in Octopus (`disabled: true`): installed and registered, but Octopus sends it no work (`workergen status --apply` sets it)\n");
    }
    if let Some(chart_key) = &explanation.key_as_chart_value {
        out.push_str(&format!("(the declaration field sets the chart value `{chart_key}`)\n"));
    }
    let section = |out: &mut String, title: &str, leaves: &[Leaf]| {
        if leaves.is_empty() {
            return;
        }
        out.push_str(&format!("\n{title}:\n"));
        let lines: Vec<(String, String)> = leaves
            .iter()
            .map(|leaf| {
                let origin = match &leaf.source {
                    Some(cause) => format!("{cause} ({})", cause.layer),
                    None => leaf.origin.to_string(),
                };
                (format!("{} = {}", leaf.path, compact(&leaf.value)), origin)
            })
            .collect();
        let width = lines
            .iter()
            .map(|(left, _)| left.chars().count())
            .max()
            .unwrap_or(0)
            .min(72);
        for (left, origin) in lines {
            out.push_str(&format!("  {left:<width$}  {origin}\n"));
        }
    };
    section(&mut out, "values.yaml", &explanation.values);
    if let Some(file) = explanation.manifest_file {
        section(&mut out, file, &explanation.manifest);
    }
    section(&mut out, "secrets (the worker's ExternalSecrets)", &explanation.secrets);
    section(
        &mut out,
        "octopus (the cluster's, over the environment's)",
        &explanation.octopus,
    );
    out
}

fn compact(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) if !text.is_empty() && !text.contains(char::is_whitespace) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use crate::chart::chart_path_of_field;

    #[test]
    fn declaration_fields_map_to_chart_values() {
        assert_eq!(
            chart_path_of_field("workerPools").as_deref(),
            Some("agent.worker.initial.workerPools")
        );
        assert_eq!(chart_path_of_field("storage.size").as_deref(), Some("persistence.size"));
        assert_eq!(
            chart_path_of_field("scriptPods.image.tag").as_deref(),
            Some("scriptPods.worker.image.tag")
        );
        // Chart paths, and fields named as the chart names them, stay as they are.
        assert_eq!(chart_path_of_field("agent.image"), None);
        assert_eq!(chart_path_of_field("scriptPods.resources.requests"), None);
        assert_eq!(chart_path_of_field("workerPoolsExtra"), None);
        assert_eq!(chart_path_of_field("agent.worker.initial.workerPools"), None);
        // Above the rows: `storage` is `persistence` as a whole; `scriptPods` and
        // `octopus` are no one chart value.
        assert_eq!(chart_path_of_field("storage").as_deref(), Some("persistence"));
        assert_eq!(
            chart_path_of_field("storage.other").as_deref(),
            Some("persistence.other")
        );
        assert_eq!(chart_path_of_field("scriptPods"), None);
        assert_eq!(chart_path_of_field("scriptPods.proxies"), None);
        assert_eq!(chart_path_of_field("octopus.auth"), None);
    }
}
