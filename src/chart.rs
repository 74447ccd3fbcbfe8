//! The kubernetes-agent chart's values for a worker: the worker field → value table
//! (`FIELD_VALUES`) and `values`, which turns a worker into the exact Helm values it
//! sets, each leaf still pointing at the declaration that set it. The chart's own key
//! trees, which `values` keys are checked against, are in `chart_values`.

use std::collections::BTreeMap;

use crate::diagnostic::Diagnostic;
use crate::model::{Fleet, Worker};
use crate::source::Loc;
use crate::yaml::{self, Key, KeyPath, Lists, Node, Value};

pub(crate) use crate::chart_values::MAJORS;
pub use crate::chart_values::{check_keys, reference, ChartValues};

/// Sets `node` at `path` in the map `root`, creating maps on the way.
fn set(root: &mut Node, path: &[&str], node: Node) {
    let (last, parents) = path.split_last().expect("a non-empty path");
    let mut current = root;
    for name in parents {
        let map = current.as_map_mut().expect("values are maps down to the leaves");
        current = map.get_or_push(name, node.loc, || Node::map(node.loc));
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
        plain: false,
    }
}

/// How a [`FieldValue`] sets its chart value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Set {
    /// The field's node as it is.
    Copy,
    /// The field, or else the worker's own key (`agent.name`).
    OrWorkerKey,
    /// An image, `repo:tag` or the object, as the chart's `{repository, tag, pullPolicy}`.
    Image,
    /// The pools, and `enabled: true` beside their `initial` block (`agent.worker.enabled`).
    Pools,
}

/// One declaration field and the chart value it sets.
///
/// `field` is dotted as written in a worker; a field under `octopus.` is read from the
/// worker's environment's `octopus` block, every other one from the worker's merged fields.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldValue {
    pub(crate) field: &'static str,
    pub(crate) value: &'static str,
    pub(crate) set: Set,
}

const fn row(field: &'static str, value: &'static str, set: Set) -> FieldValue {
    FieldValue { field, value, set }
}

/// Every declaration field that sets a chart value, in the order [`typed_values`] sets
/// them; `explain` reads it to accept either name. A test checks that every leaf of the
/// worker schema is here (or sets no value), so a new field cannot be dropped silently.
pub(crate) const FIELD_VALUES: &[FieldValue] = &[
    row("displayName", "agent.name", Set::OrWorkerKey),
    row("octopus.serverUrl", "agent.serverUrl", Set::Copy),
    row("octopus.serverCommsAddress", "agent.serverCommsAddress", Set::Copy),
    row("octopus.serverCommsAddresses", "agent.serverCommsAddresses", Set::Copy),
    row("octopus.space", "agent.space", Set::Copy),
    row(
        "octopus.auth.bearerTokenSecret",
        "agent.bearerTokenSecretName",
        Set::Copy,
    ),
    row("octopus.auth.apiKeySecret", "agent.serverApiKeySecretName", Set::Copy),
    row(
        "octopus.auth.usernamePasswordSecret",
        "agent.usernamePasswordSecretName",
        Set::Copy,
    ),
    row(
        "octopus.serverCertificateSecret",
        "agent.serverCertificateSecretName",
        Set::Copy,
    ),
    row("workerPools", "agent.worker.initial.workerPools", Set::Pools),
    row("machinePolicy", "agent.machinePolicyName", Set::Copy),
    row("logLevel", "agent.logLevel", Set::Copy),
    row("pollingConnectionCount", "agent.pollingConnectionCount", Set::Copy),
    row("agent.image", "agent.image", Set::Image),
    row("agent.resources", "agent.resources", Set::Copy),
    row("agent.nodeSelector", "agent.nodeSelector", Set::Copy),
    row("agent.tolerations", "agent.tolerations", Set::Copy),
    row("agent.affinity", "agent.affinity", Set::Copy),
    row(
        "agent.serviceAccount.annotations",
        "agent.serviceAccount.annotations",
        Set::Copy,
    ),
    row("scriptPods.image", "scriptPods.worker.image", Set::Image),
    row("scriptPods.resources", "scriptPods.resources", Set::Copy),
    row("scriptPods.tolerations", "scriptPods.tolerations", Set::Copy),
    row("scriptPods.affinity", "scriptPods.affinity", Set::Copy),
    row("scriptPods.securityContext", "scriptPods.securityContext", Set::Copy),
    row(
        "scriptPods.serviceAccount.annotations",
        "scriptPods.serviceAccount.annotations",
        Set::Copy,
    ),
    // The chart names the proxies as the environment variables they become.
    row("scriptPods.proxies.http", "scriptPods.proxies.http_proxy", Set::Copy),
    row("scriptPods.proxies.https", "scriptPods.proxies.https_proxy", Set::Copy),
    row("scriptPods.proxies.noProxy", "scriptPods.proxies.no_proxy", Set::Copy),
    row("storage.storageClassName", "persistence.storageClassName", Set::Copy),
    row("storage.size", "persistence.size", Set::Copy),
    row("storage.accessModes", "persistence.accessModes", Set::Copy),
];

/// Each row of [`FIELD_VALUES`] with its paths split once, not per worker.
static ROW_PATHS: std::sync::LazyLock<Vec<RowPaths>> = std::sync::LazyLock::new(|| {
    FIELD_VALUES
        .iter()
        .map(|row| RowPaths {
            octopus: row.field.starts_with("octopus."),
            field: row.field.trim_start_matches("octopus.").split('.').collect(),
            to: row.value.split('.').collect(),
        })
        .collect()
});

/// A row's declaration path (below `octopus` for the environment's block) and value path.
struct RowPaths {
    /// Whether the field is in the environment's `octopus` block.
    octopus: bool,
    field: Vec<&'static str>,
    to: Vec<&'static str>,
}

/// The last field a row's path started with (in `octopus:` or in the worker's fields)
/// and what it holds.
type Parent<'a> = Option<(bool, &'static str, Option<&'a Node>)>;

impl FieldValue {
    /// The field's node for `worker`, if set. Rows come grouped by their first field
    /// name (`agent.*`, `scriptPods.*`), so `parent` keeps the last one looked up: each
    /// group's is found once, not once per row.
    fn node<'a>(paths: &RowPaths, fleet: &'a Fleet, worker: &'a Worker, parent: &mut Parent<'a>) -> Option<&'a Node> {
        let (first, rest) = paths.field.split_first()?;
        let top = match *parent {
            Some((octopus, name, node)) if octopus == paths.octopus && name == *first => node,
            _ => {
                let root = if paths.octopus {
                    &fleet.cluster_of(worker).octopus_node
                } else {
                    &worker.fields
                };
                let node = root.get(first);
                *parent = Some((paths.octopus, first, node));
                node
            }
        };
        rest.iter().try_fold(top?, |node, name| node.get(name))
    }

    /// Sets this row's chart value in `values` from `worker`'s declarations.
    fn apply<'a>(
        &self,
        paths: &RowPaths,
        values: &mut Node,
        fleet: &'a Fleet,
        worker: &'a Worker,
        parent: &mut Parent<'a>,
    ) {
        let node = Self::node(paths, fleet, worker, parent);
        let to = &paths.to;
        match (self.set, node) {
            (Set::OrWorkerKey, None) => set(
                values,
                to,
                Node {
                    // The default name comes from the worker's own key.
                    layer: crate::source::Layer::Worker,
                    ..Node::string(worker.display_name.value.clone(), worker.name_loc)
                },
            ),
            (_, None) => {}
            (Set::Copy | Set::OrWorkerKey, Some(node)) => set(values, to, node.clone()),
            (Set::Image, Some(image)) => set_image(values, to, image),
            (Set::Pools, Some(pools)) => {
                let enabled = [&to[..to.len() - 2], &["enabled"]].concat();
                let enabled_node = Node {
                    value: Value::Bool(true),
                    ..pools.clone()
                };
                set(values, &enabled, enabled_node);
                set(values, to, pools.clone());
            }
        }
    }
}

/// An image, `repo:tag` or the object, as the chart's `{repository, tag, pullPolicy}`.
fn set_image(values: &mut Node, to: &[&str], image: &Node) {
    match &image.value {
        Value::Str(reference) => {
            if let Some((repository, tag)) = crate::decl::ImageSpec::split_reference(reference) {
                for (name, text) in [("repository", repository), ("tag", tag)] {
                    let node = Node {
                        value: Value::Str(text.into()),
                        ..image.clone()
                    };
                    set(values, &[to, &[name]].concat(), node);
                }
            }
        }
        Value::Map(_) => set(values, to, image.clone()),
        _ => {}
    }
}

/// The Helm values a worker sets, before its `values` passthrough: `agent.acceptEula`
/// from the settings, then every row of [`FIELD_VALUES`].
pub(crate) fn typed_values(fleet: &Fleet, worker: &Worker) -> Node {
    let mut values = Node::map(worker.name_loc);
    let accept = &fleet.settings.accept_eula;
    let accept_loc = accept.loc.unwrap_or(worker.name_loc);
    set(&mut values, &["agent", "acceptEula"], Node::string("Y", accept_loc));
    let mut parent = None;
    for (row, paths) in FIELD_VALUES.iter().zip(ROW_PATHS.iter()) {
        row.apply(paths, &mut values, fleet, worker, &mut parent);
    }
    values
}

/// The chart value path a declaration field path stands for (`storage.size` ->
/// `persistence.size`, `scriptPods.image` -> `scriptPods.worker.image`); `None` when
/// `path` names no declaration field that maps to another name.
///
/// A path at or below a row maps through it; a path above rows (`storage`) maps when
/// all the rows below it rename the same parent (`storage.*` -> `persistence.*`).
pub(crate) fn chart_path_of_field(path: &str) -> Option<String> {
    let below_row = FIELD_VALUES.iter().find_map(|row| {
        let rest = path.strip_prefix(row.field)?;
        (rest.is_empty() || rest.starts_with('.')).then(|| format!("{}{rest}", row.value))
    });
    below_row
        .or_else(|| {
            // The nearest parent (or the path itself) whose rows all agree.
            let cuts = path.match_indices('.').map(|(at, _)| at).chain([path.len()]);
            let mut parents: Vec<usize> = cuts.collect();
            parents.reverse();
            parents.into_iter().find_map(|at| {
                let (parent, rest) = path.split_at(at);
                renamed_parent(parent).map(|renamed| format!("{renamed}{rest}"))
            })
        })
        .filter(|mapped| mapped != path)
}

/// What every row below `parent` renames it to, if they agree.
fn renamed_parent(parent: &str) -> Option<&'static str> {
    let mut renamed = FIELD_VALUES
        .iter()
        .filter_map(|row| Some((row, row.field.strip_prefix(parent)?.strip_prefix('.')?)))
        .map(|(row, rest)| row.value.strip_suffix(rest)?.strip_suffix('.'));
    let first = renamed.next()??;
    renamed.all(|other| other == Some(first)).then_some(first)
}

/// The leaves of a values tree by key path. An empty map is not a leaf: over the
/// chart's defaults it sets nothing (Helm merges maps), so it sets no value.
pub(crate) fn leaves(values: &Node) -> BTreeMap<KeyPath, &Node> {
    yaml::leaves(values, Lists::Whole)
        .into_iter()
        .filter(|(_, node)| !node.as_map().is_some_and(crate::yaml::Map::is_empty))
        .collect()
}

/// The worker's full Helm values: the typed fields, then `values` merged over them.
///
/// A leaf set both ways is an error naming both places (one source of truth per leaf).
/// Conflicts are judged after all layers are merged, and a removal (`null`) is no value:
/// a `values` block that only removes things conflicts with nothing.
pub(crate) fn values(fleet: &Fleet, worker: &Worker, diagnostics: &mut Vec<Diagnostic>) -> Node {
    let mut values = typed_values(fleet, worker);
    refuse_removals_of_typed_values(&values, worker, diagnostics);
    let Some(passthrough) = worker.fields.get("values") else {
        return values;
    };
    {
        for (path, node) in leaves(passthrough) {
            if let Some((typed_path, typed_node)) = conflicting(&values, &path) {
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

/// A `values` null that finds nothing in the lower `values` layers to remove, where a
/// typed field sets the chart value: `values` lays over the typed fields, and a removal
/// there would only remove what `values` itself set, so the typed value would stay and
/// the `null` say otherwise. Refused at the `null`, naming the worker field.
fn refuse_removals_of_typed_values(typed: &Node, worker: &Worker, diagnostics: &mut Vec<Diagnostic>) {
    for (path, loc) in &worker.idle_removals {
        let names = path.0.iter().map(|segment| match segment {
            yaml::Segment::Key(name) => Some(name.as_str()),
            yaml::Segment::Index(_) => None,
        });
        let Some(node) = names
            .collect::<Option<Vec<_>>>()
            .and_then(|names| typed.get_path(names))
        else {
            continue;
        };
        let Some((typed_path, typed_node)) = first_leaf(node, path.clone()) else {
            continue;
        };
        diagnostics.push(
            Diagnostic::error(
                *loc,
                format!(
                    "`{}: null` removes nothing: chart value `{typed_path}` is set by a worker field, which `values` cannot remove",
                    path.under("values")
                ),
            )
            .with_related(typed_node.loc, "the worker field is set here")
            .with_hint("remove the worker field's value where it is set, or write `null` for the worker field itself (not under `values`); then drop this `null`"),
        );
    }
}

/// [`values`] without looking for conflicts, for a fleet that passed `validate` (which
/// reported them): `render` ignored what it found, and the search, leaf paths sorted
/// per worker, was a fifth of building the values.
pub(crate) fn values_of_valid(fleet: &Fleet, worker: &Worker) -> Node {
    let mut values = typed_values(fleet, worker);
    if let Some(passthrough) = worker.fields.get("values") {
        crate::merge::overlay(&mut values, passthrough);
    }
    values
}

/// The problems [`values`] finds, for `validate`, without keeping the tree: a worker
/// without a `values` block has none, so its values are built only once, by `render`
/// (building every worker's values in `validate` only to drop them doubled the work).
pub(crate) fn check_values(fleet: &Fleet, worker: &Worker, diagnostics: &mut Vec<Diagnostic>) {
    if worker.fields.get("values").is_some() || !worker.idle_removals.is_empty() {
        values(fleet, worker, diagnostics);
    }
}

/// A typed leaf that the `values` leaf at `path` would also set: the same leaf, one below
/// it (the first in path order), or one above it. Leaves are those of [`leaves`]: a list
/// is one leaf, an empty map none.
///
/// Found by walking down `typed` along `path`, not by listing every typed leaf of every
/// worker by path (that listing was half of `validate`'s per-worker checks).
fn conflicting<'a>(typed: &'a Node, path: &KeyPath) -> Option<(KeyPath, &'a Node)> {
    let mut node = typed;
    for (depth, segment) in path.0.iter().enumerate() {
        let yaml::Segment::Key(name) = segment else {
            return None;
        };
        match &node.value {
            Value::Map(map) => node = map.get(name)?,
            // A leaf above `path` (never the root, which is a map).
            _ => return Some((KeyPath(path.0[..depth].to_vec()), node)),
        }
    }
    match &node.value {
        Value::Map(_) => first_leaf(node, path.clone()),
        _ => Some((path.clone(), node)),
    }
}

/// The first leaf at or below `node` (which stands at `path`) in path order.
fn first_leaf(node: &Node, path: KeyPath) -> Option<(KeyPath, &Node)> {
    let Value::Map(map) = &node.value else {
        return Some((path, node));
    };
    let mut children: Vec<&(Key, Node)> = map.entries().iter().collect();
    children.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    children
        .into_iter()
        .find_map(|(key, child)| first_leaf(child, path.child(&key.name)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;
    use crate::yaml::{parse, Limits};

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

    /// A typed values tree with a leaf at each of `paths`.
    fn typed(paths: &[&[&str]]) -> Node {
        let mut root = Node::map(Loc::default());
        for path in paths {
            set(&mut root, path, Node::string("x", Loc::default()));
        }
        root
    }

    // `{a: {b: 1}}` and `{"a.b": 1}` are different paths: Helm reads the second as one key.
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

    /// The properties of a schema, through `$ref`, `anyOf`, `oneOf` and `allOf`.
    fn properties<'a>(
        root: &'a serde_json::Value,
        schema: &'a serde_json::Value,
    ) -> Option<&'a serde_json::Map<String, serde_json::Value>> {
        if let Some(reference) = schema.get("$ref").and_then(|r| r.as_str()) {
            let name = reference.rsplit('/').next()?;
            return properties(root, &root["$defs"][name]);
        }
        if let Some(properties) = schema.get("properties").and_then(|p| p.as_object()) {
            return Some(properties);
        }
        ["anyOf", "oneOf", "allOf"]
            .iter()
            .filter_map(|key| schema.get(*key)?.as_array())
            .flatten()
            .find_map(|alternative| properties(root, alternative))
    }

    /// The field paths of the worker schema, down to the rows of [`FIELD_VALUES`] or to
    /// the leaves; each with whether a row covers it.
    fn worker_fields(
        root: &serde_json::Value,
        schema: &serde_json::Value,
        prefix: &str,
        out: &mut Vec<(String, bool)>,
    ) {
        for (name, child) in properties(root, schema).into_iter().flatten() {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            let covered = FIELD_VALUES.iter().any(|row| row.field == path);
            out.push((path.clone(), covered));
            if !covered {
                worker_fields(root, child, &path, out);
            }
        }
    }

    // A field added to the worker schema either sets a chart value through
    // `FIELD_VALUES` or is named here, never dropped silently from the output.
    #[test]
    fn every_worker_field_sets_a_chart_value() {
        // Fields that set no chart value: the release namespace, the two switches, the passthrough.
        const NO_VALUE: &[&str] = &["namespace", "installed", "disabled", "values"];
        let schema = serde_json::to_value(schemars::schema_for!(crate::decl::WorkerSpec)).unwrap();
        let mut fields = Vec::new();
        worker_fields(&schema, &schema, "", &mut fields);
        let parents: Vec<&str> = fields
            .iter()
            .filter_map(|(path, _)| Some(&path[..path.rfind('.')?]))
            .collect();
        let dropped: Vec<&str> = fields
            .iter()
            .filter(|(path, covered)| !covered && !parents.contains(&path.as_str()))
            .map(|(path, _)| path.as_str())
            .filter(|path| !NO_VALUE.contains(path))
            .collect();
        assert_eq!(dropped, Vec::<&str>::new(), "worker fields that set no chart value");
        // And every worker row names a field of the schema.
        for row in FIELD_VALUES.iter().filter(|row| !row.field.starts_with("octopus.")) {
            assert!(
                fields.iter().any(|(path, _)| path == row.field),
                "`{}` is no worker field",
                row.field
            );
        }
    }

    #[test]
    fn an_empty_map_is_no_leaf() {
        let node = parse("scriptPods: {}\nagent: {name: a}\n", FileId(0), Limits::default()).unwrap();
        let paths: Vec<String> = leaves(&node).keys().map(std::string::ToString::to_string).collect();
        assert_eq!(paths, ["agent.name"]);
    }

    /// The conflict search as it was: every typed leaf listed by path, then the leaf at
    /// `path`, the first below it, or one above it.
    fn conflicting_by_listing<'a>(typed: &'a Node, path: &KeyPath) -> Option<(KeyPath, &'a Node)> {
        let typed = leaves(typed);
        if let Some(node) = typed.get(path) {
            return Some((path.clone(), node));
        }
        if let Some((found, node)) = typed.range(path.clone()..).next().filter(|(p, _)| p.starts_with(path)) {
            return Some((found.clone(), node));
        }
        path.ancestors()
            .find_map(|parent| typed.get(&parent).map(|node| (parent, *node)))
    }

    fn values_tree() -> impl proptest::strategy::Strategy<Value = Node> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            any::<i64>().prop_map(|value| Node::new(Value::Int(value), Loc::default())),
            Just(Node::string("x", Loc::default())),
            Just(Node::map(Loc::default())),
            Just(Node::new(Value::Seq(Vec::new()), Loc::default())),
            Just(Node::new(
                Value::Seq(vec![Node::string("item", Loc::default())]),
                Loc::default()
            )),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop::collection::btree_map(prop::sample::select(vec!["a", "b", "c", "a.b", "B"]), inner, 0..4).prop_map(
                |entries| {
                    let entries = entries
                        .into_iter()
                        .map(|(name, node)| (key(name, Loc::default()), node))
                        .collect();
                    Node::new(Value::Map(crate::yaml::Map::from_entries(entries)), Loc::default())
                },
            )
        })
    }

    proptest::proptest! {
        /// Walking the typed tree (fast) finds what listing its leaves found, for every
        /// `values` leaf: the same path and the same node.
        #[test]
        fn conflicts_are_found_as_by_listing_every_leaf(typed in values_tree(), passthrough in values_tree()) {
            let typed = Node { value: Value::Map(typed.as_map().cloned().unwrap_or_default()), ..typed };
            for (path, _) in leaves(&passthrough) {
                let walked = conflicting(&typed, &path).map(|(path, node)| (path, std::ptr::from_ref(node)));
                let listed = conflicting_by_listing(&typed, &path).map(|(path, node)| (path, std::ptr::from_ref(node)));
                proptest::prop_assert_eq!(walked, listed, "at {}", path);
            }
        }
    }
}
