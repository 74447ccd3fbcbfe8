//! The layering rule, in one place.
//!
//! Worker fields are written in four layers, lowest first: `workergen.yaml` `defaults`,
//! environment `defaults`, cluster `defaults`, and the worker itself. The same rule
//! layers `chart:` blocks. [`overlay`] is that rule; nothing else merges declarations.

use crate::source::Loc;
use crate::yaml::{KeyPath, Node, Value};

/// Lays `upper` over `lower`, in place.
///
/// The rule: two maps merge key by key, recursively; anything else in `upper` (a
/// scalar, a list, or a map over a non-map) replaces what `lower` had; a key whose
/// value in `upper` is an explicit `null` is removed, so the next layer down (or the
/// chart's own default) applies again, at every depth (`requests: {cpu: null}`), and a
/// map that removals leave empty goes too. An `upper` that is `null` as a whole (an
/// empty `defaults:`) changes nothing. Every node keeps the place and layer it was
/// written in.
pub fn overlay(lower: &mut Node, upper: &Node) {
    match (&mut lower.value, &upper.value) {
        (_, Value::Null) => {}
        (Value::Map(lower_map), Value::Map(upper_map)) => {
            // All removals in one pass: one `remove` per null shifts the whole map
            // each time, which is quadratic in a map with many keys.
            if upper_map.entries().iter().any(|(_, child)| child.is_null()) {
                lower_map.retain(|key, _| !upper_map.get(&key.name).is_some_and(Node::is_null));
            }
            for (key, upper_child) in upper_map.entries() {
                if upper_child.is_null() {
                    continue;
                }
                match lower_map.get_mut(&key.name) {
                    Some(lower_child) => {
                        // A map written empty (`{}`) stays when removals find nothing
                        // in it to remove.
                        let was_empty = lower_child.as_map().is_some_and(crate::yaml::Map::is_empty);
                        overlay(lower_child, upper_child);
                        if !was_empty && emptied(lower_child, upper_child) {
                            lower_map.remove(&key.name);
                        }
                    }
                    None => {
                        let child = without_nulls(upper_child);
                        if !emptied(&child, upper_child) {
                            lower_map.insert(key.clone(), child);
                        }
                    }
                }
            }
        }
        _ => *lower = without_nulls(upper),
    }
}

/// Merges `layers`, lowest first, into one map.
pub fn merge<'a>(layers: impl IntoIterator<Item = &'a Node>, empty: Node) -> Node {
    layers.into_iter().fold(empty, |mut merged, layer| {
        overlay(&mut merged, layer);
        merged
    })
}

/// The removals (`null`s) in `upper` that find nothing in `lower` to remove, with their
/// key paths: a lower layer of the same tree never set that key. For `values`, such a
/// `null` may have been meant for a typed field's value, which `values` cannot remove.
pub fn idle_removals(lower: Option<&Node>, upper: &Node) -> Vec<(KeyPath, Loc)> {
    fn walk(lower: Option<&Node>, upper: &Node, path: &KeyPath, out: &mut Vec<(KeyPath, Loc)>) {
        let Value::Map(upper_map) = &upper.value else {
            return;
        };
        let lower_map = lower.and_then(Node::as_map);
        for (key, child) in upper_map.entries() {
            let below = lower_map.and_then(|map| map.get(&key.name));
            if child.is_null() {
                if below.is_none() {
                    out.push((path.child(&key.name), child.loc));
                }
            } else {
                walk(below, child, &path.child(&key.name), out);
            }
        }
    }
    let mut out = Vec::new();
    walk(lower, upper, &KeyPath::new(), &mut out);
    out
}

/// Whether `merged` is a map left empty only by removals: `upper` wrote keys into it,
/// and they all removed something (`requests: {cpu: null}`). Such a map is dropped, so
/// a removal leaves nothing behind; a map written empty (`{}`) stays.
fn emptied(merged: &Node, upper: &Node) -> bool {
    let written = upper.as_map().is_some_and(|map| !map.is_empty());
    written && merged.as_map().is_some_and(crate::yaml::Map::is_empty)
}

/// A copy without `null` map values: removing what is not there leaves nothing behind.
fn without_nulls(node: &Node) -> Node {
    let mut copy = node.clone();
    strip_nulls(&mut copy);
    copy
}

fn strip_nulls(node: &mut Node) {
    if let Value::Map(map) = &mut node.value {
        map.retain_mut(|_, child| {
            if child.is_null() {
                return false;
            }
            let written = child.as_map().is_some_and(|map| !map.is_empty());
            strip_nulls(child);
            !(written && child.as_map().is_some_and(crate::yaml::Map::is_empty))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, Layer, Loc};
    use crate::yaml::{emit, parse, Limits};

    fn layer(text: &str, file: u32, layer: Layer) -> Node {
        let mut node = parse(text, FileId(file), Limits::default()).unwrap();
        node.set_layer(layer);
        node
    }

    fn merged(layers: &[Node]) -> Node {
        merge(layers, Node::map(Loc::default()))
    }

    #[test]
    fn null_removes_across_three_layers() {
        let repo = layer(
            "agent: {nodeSelector: {pool: workers}, logLevel: Info}\n",
            0,
            Layer::Repo,
        );
        let environment = layer("agent: {nodeSelector: {zone: a}}\n", 1, Layer::Environment);
        let cluster = layer("agent: {nodeSelector: null}\n", 2, Layer::Cluster);
        let result = merged(&[repo.clone(), environment.clone(), cluster]);
        assert_eq!(emit(&result), "agent:\n  logLevel: Info\n");
        // Without the removal, the first two layers merge key by key.
        let result = merged(&[repo, environment]);
        assert_eq!(
            emit(&result),
            "agent:\n  logLevel: Info\n  nodeSelector:\n    pool: workers\n    zone: a\n"
        );
    }

    #[test]
    fn a_removed_value_can_be_set_again_higher_up() {
        let repo = layer("machinePolicy: a\n", 0, Layer::Repo);
        let cluster = layer("machinePolicy: null\n", 1, Layer::Cluster);
        let worker = layer("machinePolicy: b\n", 2, Layer::Worker);
        let result = merged(&[repo, cluster, worker]);
        let policy = result.get("machinePolicy").unwrap();
        assert_eq!(policy.as_str(), Some("b"));
        assert_eq!(policy.layer, Layer::Worker);
    }

    #[test]
    fn lists_are_replaced_not_concatenated() {
        let repo = layer("workerPools: [a, b]\n", 0, Layer::Repo);
        let worker = layer("workerPools: [c]\n", 1, Layer::Worker);
        let result = merged(&[repo, worker]);
        assert_eq!(emit(&result), "workerPools:\n  - c\n");
    }

    #[test]
    fn every_leaf_keeps_file_line_column_and_layer() {
        let repo = layer(
            "scriptPods:\n  resources:\n    requests: {cpu: 25m, memory: 100Mi}\n",
            0,
            Layer::Repo,
        );
        let environment = layer(
            "scriptPods:\n  resources:\n    requests:\n      cpu: 500m\n",
            1,
            Layer::Environment,
        );
        let worker = layer("scriptPods: {image: 'a:b'}\n", 2, Layer::Worker);
        let result = merged(&[repo, environment, worker]);
        let mut leaves = Vec::new();
        result.for_each_leaf(&mut Vec::new(), &mut |path, node| {
            leaves.push((path.join("."), node.loc.file.0, node.loc.line, node.loc.col, node.layer));
        });
        assert_eq!(
            leaves,
            vec![
                ("scriptPods.resources.requests.cpu".into(), 1, 4, 12, Layer::Environment),
                ("scriptPods.resources.requests.memory".into(), 0, 3, 34, Layer::Repo),
                ("scriptPods.image".into(), 2, 1, 21, Layer::Worker),
            ]
        );
    }

    #[test]
    fn an_empty_layer_changes_nothing_and_nulls_never_survive() {
        let repo = layer("a: {b: 1}\n", 0, Layer::Repo);
        let empty = layer("", 1, Layer::Environment);
        let worker = layer("c: {d: null, e: 2}\n", 2, Layer::Worker);
        let result = merged(&[repo, empty, worker]);
        assert_eq!(emit(&result), "a:\n  b: 1\nc:\n  e: 2\n");
    }

    // A removal leaves nothing behind, not even the map that held it.
    #[test]
    fn maps_emptied_by_removals_go_but_written_empty_maps_stay() {
        let repo = layer(
            "scriptPods: {resources: {requests: {cpu: 25m}}}\nagent: {nodeSelector: {}}\n",
            0,
            Layer::Repo,
        );
        let worker = layer("scriptPods: {resources: {requests: {cpu: null}}}\n", 1, Layer::Worker);
        assert_eq!(emit(&merged(&[repo, worker])), "agent:\n  nodeSelector: {}\n");
        // At the lowest layer, a map of removals is no map at all.
        let lowest = layer(
            "values: {scriptPods: {disruptionBudgetEnabled: null}}\nb: {}\n",
            0,
            Layer::Worker,
        );
        assert_eq!(emit(&merged(&[lowest])), "b: {}\n");
        // Removing what an empty map does not hold leaves the map, at every depth.
        let cluster = layer("values: {a: {e: {}, f: {m: {}}}}\n", 0, Layer::Cluster);
        let worker = layer("values: {a: {e: {x: null}, f: {m: {x: null}}}}\n", 1, Layer::Worker);
        assert_eq!(
            emit(&merged(&[cluster, worker])),
            "values:\n  a:\n    e: {}\n    f:\n      m: {}\n"
        );
    }

    #[test]
    fn idle_removals_are_the_nulls_that_find_nothing_below() {
        let lower = layer("a: {b: 1, c: {d: 2}}\ne: 3\n", 0, Layer::Cluster);
        let upper = layer(
            "a: {b: null, c: {d: null, x: null}, y: null}\ne: {z: null}\nf: {g: null}\n",
            1,
            Layer::Worker,
        );
        let idle: Vec<String> = idle_removals(Some(&lower), &upper)
            .into_iter()
            .map(|(path, loc)| format!("{path}@{}:{}", loc.line, loc.col))
            .collect();
        assert_eq!(idle, ["a.c.x@1:30", "a.y@1:40", "e.z@2:8", "f.g@3:8"]);
        assert_eq!(idle_removals(None, &upper).len(), 6);
    }
}
