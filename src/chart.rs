//! The kubernetes-agent chart: its value key trees and the worker field → value mapping.
//!
//! The key trees come from the chart's own `values.yaml` at 3.13.2 and 2.51.2,
//! committed under `chart/` and embedded at build time. [`values`] turns a worker into
//! the exact Helm values it sets, each leaf still pointing at the declaration that set it.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::model::{Fleet, Worker};
use crate::source::{FileId, Loc};
use crate::yaml::{parse, Key, KeyPath, Limits, Node, Value};

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
        root: parse(text, FileId(u32::MAX), Limits::default()).expect("the embedded chart values parse"),
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
    for (key, child) in &given_map.entries {
        let Some(reference_child) = reference_map.get(&key.name) else {
            if crate::decl::is_plaintext_key(&key.name) {
                // `Password`: refused, with a better hint, by the plaintext credential check.
                continue;
            }
            // Suggestions cost a comparison with every chart key: past the first
            // ones of a map they help nobody and made a hostile file slow (issue 9).
            unknown += 1;
            let close = if unknown <= SUGGESTED_PER_MAP {
                did_you_mean(&key.name, reference_map.keys())
            } else {
                None
            };
            let hint = close
                .map(|close| format!("did you mean `{close}`?"))
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
                        "`{}.{}` is not a value of the kubernetes-agent chart {version}",
                        path.join("."),
                        key.name
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

/// Sets `node` at `path` in the map `root`, creating maps on the way.
fn set(root: &mut Node, path: &[&str], node: Node) {
    let (last, parents) = path.split_last().expect("a non-empty path");
    let mut current = root;
    for name in parents {
        let map = current.as_map_mut().expect("values are maps down to the leaves");
        if map.get(name).is_none() {
            map.insert(key(name, node.loc), Node::map(node.loc));
        }
        current = map.get_mut(name).expect("just inserted");
    }
    current
        .as_map_mut()
        .expect("values are maps down to the leaves")
        .insert(key(last, node.loc), node);
}

fn key(name: &str, loc: Loc) -> Key {
    Key {
        name: name.to_string(),
        loc,
    }
}

/// Copies the field at `from` (if set) to the chart value at `to`.
fn copy(values: &mut Node, fields: &Node, from: &[&str], to: &[&str]) {
    if let Some(node) = fields.get_path(from.iter().copied()) {
        set(values, to, node.clone());
    }
}

/// An image field, `repo:tag` or the object, as the chart's `{repository, tag, pullPolicy}`.
fn copy_image(values: &mut Node, fields: &Node, from: &[&str], to: &[&str]) {
    let Some(image) = fields.get_path(from.iter().copied()) else {
        return;
    };
    match &image.value {
        Value::Str(reference) => {
            if let Some((repository, tag)) = crate::decl::ImageSpec::split_reference(reference) {
                let mut path = to.to_vec();
                path.push("repository");
                set(
                    values,
                    &path,
                    Node {
                        value: Value::Str(repository.into()),
                        ..image.clone()
                    },
                );
                *path.last_mut().expect("pushed") = "tag";
                set(
                    values,
                    &path,
                    Node {
                        value: Value::Str(tag.into()),
                        ..image.clone()
                    },
                );
            }
        }
        Value::Map(_) => set(values, to, image.clone()),
        _ => {}
    }
}

/// The Helm values a worker sets, before its `values` passthrough.
pub fn typed_values(fleet: &Fleet, worker: &Worker) -> Node {
    let fields = &worker.fields;
    let mut values = Node::map(worker.name_loc);
    let accept = &fleet.settings.accept_eula;
    let accept_loc = accept.loc.unwrap_or(worker.name_loc);
    set(&mut values, &["agent", "acceptEula"], Node::string("Y", accept_loc));
    let display = &worker.display_name;
    set(
        &mut values,
        &["agent", "name"],
        fields.get("displayName").cloned().unwrap_or_else(|| Node {
            // The default name comes from the worker's own key.
            layer: crate::source::Layer::Worker,
            ..Node::string(display.value.clone(), worker.name_loc)
        }),
    );

    let octopus = &fleet.environment_of(worker).octopus_node;
    copy(&mut values, octopus, &["serverUrl"], &["agent", "serverUrl"]);
    copy(
        &mut values,
        octopus,
        &["serverCommsAddress"],
        &["agent", "serverCommsAddress"],
    );
    copy(
        &mut values,
        octopus,
        &["serverCommsAddresses"],
        &["agent", "serverCommsAddresses"],
    );
    copy(&mut values, octopus, &["space"], &["agent", "space"]);
    copy(
        &mut values,
        octopus,
        &["auth", "bearerTokenSecret"],
        &["agent", "bearerTokenSecretName"],
    );
    copy(
        &mut values,
        octopus,
        &["auth", "apiKeySecret"],
        &["agent", "serverApiKeySecretName"],
    );
    copy(
        &mut values,
        octopus,
        &["auth", "usernamePasswordSecret"],
        &["agent", "usernamePasswordSecretName"],
    );
    copy(
        &mut values,
        octopus,
        &["serverCertificateSecret"],
        &["agent", "serverCertificateSecretName"],
    );

    if let Some(pools) = fields.get("workerPools") {
        set(
            &mut values,
            &["agent", "worker", "enabled"],
            Node {
                value: Value::Bool(true),
                ..pools.clone()
            },
        );
        set(
            &mut values,
            &["agent", "worker", "initial", "workerPools"],
            pools.clone(),
        );
    }
    copy(&mut values, fields, &["machinePolicy"], &["agent", "machinePolicyName"]);
    copy(&mut values, fields, &["logLevel"], &["agent", "logLevel"]);
    copy(
        &mut values,
        fields,
        &["pollingConnectionCount"],
        &["agent", "pollingConnectionCount"],
    );
    copy_image(&mut values, fields, &["agent", "image"], &["agent", "image"]);
    for name in ["resources", "nodeSelector", "tolerations", "affinity"] {
        copy(&mut values, fields, &["agent", name], &["agent", name]);
    }
    copy(
        &mut values,
        fields,
        &["agent", "serviceAccount", "annotations"],
        &["agent", "serviceAccount", "annotations"],
    );

    copy_image(
        &mut values,
        fields,
        &["scriptPods", "image"],
        &["scriptPods", "worker", "image"],
    );
    for name in ["resources", "tolerations", "affinity", "securityContext"] {
        copy(&mut values, fields, &["scriptPods", name], &["scriptPods", name]);
    }
    copy(
        &mut values,
        fields,
        &["scriptPods", "serviceAccount", "annotations"],
        &["scriptPods", "serviceAccount", "annotations"],
    );
    for (from, to) in [
        ("http", "http_proxy"),
        ("https", "https_proxy"),
        ("noProxy", "no_proxy"),
    ] {
        copy(
            &mut values,
            fields,
            &["scriptPods", "proxies", from],
            &["scriptPods", "proxies", to],
        );
    }
    for name in ["storageClassName", "size", "accessModes"] {
        copy(&mut values, fields, &["storage", name], &["persistence", name]);
    }
    values
}

/// Declaration fields (dotted, as written in a worker) and the chart value each sets,
/// as [`typed_values`] copies them; for `explain`, which accepts either name.
pub const FIELD_VALUES: &[(&str, &str)] = &[
    ("displayName", "agent.name"),
    ("workerPools", "agent.worker.initial.workerPools"),
    ("machinePolicy", "agent.machinePolicyName"),
    ("logLevel", "agent.logLevel"),
    ("pollingConnectionCount", "agent.pollingConnectionCount"),
    ("agent.image", "agent.image"),
    ("agent.resources", "agent.resources"),
    ("agent.nodeSelector", "agent.nodeSelector"),
    ("agent.tolerations", "agent.tolerations"),
    ("agent.affinity", "agent.affinity"),
    ("agent.serviceAccount.annotations", "agent.serviceAccount.annotations"),
    ("scriptPods.image", "scriptPods.worker.image"),
    ("scriptPods.resources", "scriptPods.resources"),
    ("scriptPods.tolerations", "scriptPods.tolerations"),
    ("scriptPods.affinity", "scriptPods.affinity"),
    ("scriptPods.securityContext", "scriptPods.securityContext"),
    (
        "scriptPods.serviceAccount.annotations",
        "scriptPods.serviceAccount.annotations",
    ),
    ("scriptPods.proxies.http", "scriptPods.proxies.http_proxy"),
    ("scriptPods.proxies.https", "scriptPods.proxies.https_proxy"),
    ("scriptPods.proxies.noProxy", "scriptPods.proxies.no_proxy"),
    ("storage", "persistence"),
    ("octopus.serverUrl", "agent.serverUrl"),
    ("octopus.serverCommsAddress", "agent.serverCommsAddress"),
    ("octopus.serverCommsAddresses", "agent.serverCommsAddresses"),
    ("octopus.space", "agent.space"),
    ("octopus.auth.bearerTokenSecret", "agent.bearerTokenSecretName"),
    ("octopus.auth.apiKeySecret", "agent.serverApiKeySecretName"),
    (
        "octopus.auth.usernamePasswordSecret",
        "agent.usernamePasswordSecretName",
    ),
    ("octopus.serverCertificateSecret", "agent.serverCertificateSecretName"),
];

/// The chart value path a declaration field path stands for (`storage.size` ->
/// `persistence.size`, `scriptPods.image` -> `scriptPods.worker.image`); `None` when
/// `path` names no declaration field that maps to another name.
pub fn chart_path_of_field(path: &str) -> Option<String> {
    FIELD_VALUES.iter().find_map(|(field, value)| {
        let rest = path.strip_prefix(field)?;
        (rest.is_empty() || rest.starts_with('.'))
            .then(|| format!("{value}{rest}"))
            .filter(|mapped| mapped != path)
    })
}

/// The leaves of a values tree by key path. An empty map is not a leaf: over the
/// chart's defaults it sets nothing (Helm merges maps), so it sets no value.
pub fn leaves(values: &Node) -> BTreeMap<KeyPath, &Node> {
    let mut leaves = BTreeMap::new();
    values.for_each_leaf(&mut Vec::new(), &mut |path, node| {
        if !node.as_map().is_some_and(|map| map.is_empty()) {
            leaves.insert(KeyPath::from_names(path), node);
        }
    });
    leaves
}

/// The worker's full Helm values: the typed fields, then `values` merged over them.
///
/// A leaf set both ways is an error naming both places (one source of truth per leaf).
/// Conflicts are judged after all layers are merged, and a removal (`null`) is no value:
/// a `values` block that only removes things conflicts with nothing.
pub fn values(fleet: &Fleet, worker: &Worker, diagnostics: &mut Vec<Diagnostic>) -> Node {
    let mut values = typed_values(fleet, worker);
    let Some(passthrough) = worker.fields.get("values") else {
        return values;
    };
    {
        let typed = leaves(&values);
        for (path, node) in leaves(passthrough) {
            if let Some((typed_path, typed_node)) = conflicting(&typed, &path) {
                diagnostics.push(
                    Diagnostic::error(
                        node.loc,
                        format!(
                            "chart value `{typed_path}` is set both by a worker field and by `{}`",
                            path.under("values")
                        ),
                    )
                    .with_related(typed_node.loc, "the worker field is set here")
                    .with_hint("set it in one place only: prefer the worker field and remove it from `values`"),
                );
            }
        }
    }
    crate::merge::overlay(&mut values, passthrough);
    values
}

/// A typed leaf that the `values` leaf at `path` would also set: the same leaf, one below
/// it, or one above it.
fn conflicting<'a>(typed: &BTreeMap<KeyPath, &'a Node>, path: &KeyPath) -> Option<(KeyPath, &'a Node)> {
    if let Some(node) = typed.get(path) {
        return Some((path.clone(), node));
    }
    // Paths below `path` sort right after it.
    if let Some((found, node)) = typed.range(path.clone()..).next().filter(|(p, _)| p.starts_with(path)) {
        return Some((found.clone(), node));
    }
    path.ancestors()
        .find_map(|parent| typed.get(&parent).map(|node| (parent, *node)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, major: u64) -> Vec<String> {
        let node = parse(text, FileId(0), Limits::default()).unwrap();
        let mut diagnostics = Vec::new();
        check_keys(&node, reference(major).unwrap(), &mut diagnostics);
        diagnostics
            .into_iter()
            .map(|d| format!("{} | {}", d.message, d.hint.unwrap_or_default()))
            .collect()
    }

    #[test]
    fn accepts_chart_values_and_free_form_maps() {
        let text = "scriptPods:\n  pendingPodsTimeoutMinutes: 30\n  podTemplate: {podSpec: {anything: here}}\nagent:\n  affinity: {podAntiAffinity: {}}\n  metadata: {labels: {team: a}}\n";
        assert_eq!(check(text, 3), Vec::<String>::new());
    }

    #[test]
    fn refuses_keys_the_chart_does_not_have_with_a_hint() {
        assert_eq!(
            check("scriptPods:\n  pendingPodTimeoutMinutes: 30\n", 3),
            ["`values.scriptPods.pendingPodTimeoutMinutes` is not a value of the kubernetes-agent chart 3.13.2 | did you mean `pendingPodsTimeoutMinutes`?"]
        );
    }

    #[test]
    fn checks_against_the_effective_major() {
        // calamariImageVolume arrived in 3.x.
        let text = "scriptPods:\n  calamariImageVolume: {enabled: true}\n";
        assert!(check(text, 3).is_empty());
        assert_eq!(check(text, 2).len(), 1);
        assert!(reference(1).is_none());
    }

    #[test]
    fn refuses_a_map_for_a_single_value() {
        assert_eq!(
            check("agent:\n  logLevel: {a: b}\n", 3),
            ["`values.agent.logLevel` is a single value in the chart, found a map | "]
        );
    }

    fn typed(paths: &[&[&str]]) -> BTreeMap<KeyPath, &'static Node> {
        static LEAF: OnceLock<Node> = OnceLock::new();
        let leaf = LEAF.get_or_init(|| Node::string("x", Loc::default()));
        paths.iter().map(|path| (KeyPath::from_names(path), leaf)).collect()
    }

    // Issue 9: `{a: {b: 1}}` and `{"a.b": 1}` are different paths.
    #[test]
    fn conflicts_compare_whole_keys_not_dotted_strings() {
        let typed = typed(&[
            &["agent", "nodeSelector", "kubernetes.io/os"],
            &["scriptPods", "worker", "image"],
        ]);
        let nested = KeyPath::from_names(&["agent", "nodeSelector", "kubernetes", "io/os"]);
        assert!(conflicting(&typed, &nested).is_none());
        let same = KeyPath::from_names(&["agent", "nodeSelector", "kubernetes.io/os"]);
        let (path, _) = conflicting(&typed, &same).unwrap();
        assert_eq!(path.to_string(), "agent.nodeSelector[\"kubernetes.io/os\"]");
        let above = KeyPath::from_names(&["scriptPods", "worker"]);
        assert_eq!(
            conflicting(&typed, &above).unwrap().0.to_string(),
            "scriptPods.worker.image"
        );
        let below = KeyPath::from_names(&["scriptPods", "worker", "image", "tag"]);
        assert_eq!(
            conflicting(&typed, &below).unwrap().0.to_string(),
            "scriptPods.worker.image"
        );
        assert!(conflicting(&typed, &KeyPath::from_names(&["scriptPods", "work"])).is_none());
    }

    #[test]
    fn an_empty_map_is_no_leaf() {
        let node = parse("scriptPods: {}\nagent: {name: a}\n", FileId(0), Limits::default()).unwrap();
        let paths: Vec<String> = leaves(&node).keys().map(|path| path.to_string()).collect();
        assert_eq!(paths, ["agent.name"]);
    }
}
