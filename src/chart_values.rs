//! The kubernetes-agent chart's own values: the key trees of 3.13.2 and 2.51.2 and the
//! check of a `values` block's keys against them.
//!
//! The key trees come from the chart's own `values.yaml` files, committed under `chart/`
//! and embedded at build time. This sits below the model (which checks each written
//! `values` block once, where it is written) and below [`crate::chart`] (which maps
//! resolved workers to values), so neither imports the other for it.

use std::sync::OnceLock;

use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::source::Origin;
use crate::yaml::{parse_undeclared, Limits, Node, Value};

const VALUES_3: &str = include_str!("../chart/values-3.13.2.yaml");
const VALUES_2: &str = include_str!("../chart/values-2.51.2.yaml");

/// Chart values that hold free-form maps (Kubernetes objects, labels): any key below them is fine.
const FREE_FORM: &[&str] = &[
    "resources",
    "affinity",
    "annotations",
    "labels",
    "nodeSelector",
    "securityContext",
    "spec",
    "podSpec",
    "podMetadata",
    "scriptContainerSpec",
    "watchdogContainerSpec",
];

/// The reference values of one chart major.
pub struct ChartValues {
    pub version: &'static str,
    pub root: Node,
}

/// The reference values for a chart major we know, 2 or 3.
pub fn reference(major: u64) -> Option<&'static ChartValues> {
    static THREE: OnceLock<ChartValues> = OnceLock::new();
    static TWO: OnceLock<ChartValues> = OnceLock::new();
    let load = |version: &'static str, text: &str| ChartValues {
        version,
        root: parse_undeclared(text, Origin::ChartDefault, Limits::default()).expect("the embedded chart values parse"),
    };
    match major {
        3 => Some(THREE.get_or_init(|| load("3.13.2", VALUES_3))),
        2 => Some(TWO.get_or_init(|| load("2.51.2", VALUES_2))),
        _ => None,
    }
}

/// The supported chart majors, for messages.
pub const MAJORS: &str = "2.x (checked against 2.51.2) and 3.x (checked against 3.13.2)";

/// Checks that every key under a worker's `values` is a value of the chart.
pub fn check_keys(values: &Node, chart: &ChartValues, diagnostics: &mut Vec<Diagnostic>) {
    check_level(values, &chart.root, &mut vec!["values"], chart.version, diagnostics);
}

/// How many unknown keys of one map get a did-you-mean.
const SUGGESTED_PER_MAP: usize = 100;

fn is_free_form(name: &str, reference: &Node) -> bool {
    FREE_FORM.contains(&name) || matches!(&reference.value, Value::Map(map) if map.is_empty())
}

/// For `'agent.logLevel': Debug`, one key with a dot in it where the chart has the path
/// `agent.logLevel`: a hint that shows the nesting (a did-you-mean would say `agent`).
fn dotted_key_hint(name: &str, reference: &Node) -> Option<String> {
    if !name.contains('.') || reference.get_path(name.split('.')).is_none() {
        return None;
    }
    let parts: Vec<&str> = name.split('.').collect();
    let (last, parents) = parts.split_last()?;
    let opened: String = parents.iter().map(|part| format!("{{{part}: ")).collect();
    Some(format!(
        "the key `{name}` has a dot in it, and chart values are nested maps: write `{opened}{{{last}: ...}}{}`",
        "}".repeat(parents.len())
    ))
}

fn check_level<'a>(
    given: &'a Node,
    reference: &Node,
    path: &mut Vec<&'a str>,
    version: &str,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let (Value::Map(given_map), Value::Map(reference_map)) = (&given.value, &reference.value) else {
        return;
    };
    let mut unknown = 0;
    for (key, child) in given_map.entries() {
        let Some(reference_child) = reference_map.get(&key.name) else {
            if crate::decl::is_plaintext_key(&key.name) {
                // `Password`: refused, with a better hint, by the plaintext credential check.
                continue;
            }
            // Suggestions cost a comparison with every chart key: past the first
            // ones of a map they help nobody and made a hostile file slow.
            unknown += 1;
            let close = if unknown <= SUGGESTED_PER_MAP {
                did_you_mean(&key.name, reference_map.keys())
            } else {
                None
            };
            let hint = dotted_key_hint(&key.name, reference)
                .or_else(|| close.map(|close| format!("did you mean `{close}`?")))
                .unwrap_or_else(|| {
                    format!(
                        "see the chart's values.yaml ({version}) for the values under `{}`",
                        path.join(".")
                    )
                });
            diagnostics.push(
                Diagnostic::error(
                    key.loc,
                    format!(
                        "`{}{}` is not a value of the kubernetes-agent chart {version}",
                        path.join("."),
                        // A key with a dot in it is shown as the one key it is.
                        if key.name.contains('.') {
                            format!("[\"{}\"]", key.name)
                        } else {
                            format!(".{}", key.name)
                        }
                    ),
                )
                .with_hint(hint),
            );
            continue;
        };
        path.push(&key.name);
        let reference_is_map = matches!(reference_child.value, Value::Map(_));
        let given_is_map = matches!(child.value, Value::Map(_));
        if is_free_form(&key.name, reference_child) {
            // Any key below is fine.
        } else if reference_is_map && given_is_map {
            check_level(child, reference_child, path, version, diagnostics);
        } else if reference_is_map != given_is_map && !child.is_null() {
            let expected = if reference_is_map { "a map" } else { "a single value" };
            diagnostics.push(Diagnostic::error(
                child.loc,
                format!(
                    "`{}` is {expected} in the chart, found {}",
                    path.join("."),
                    child.kind()
                ),
            ));
        }
        path.pop();
    }
}
