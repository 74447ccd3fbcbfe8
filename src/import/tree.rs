//! Small edits of value trees that import needs: taking a value out at a key path (and
//! the maps that only held it), putting one in, comparing two trees as data, and
//! turning a `--set` tree into a [`Node`].

use crate::source::Loc;
use crate::yaml::{Key, Map, Node, Value};

use super::helm_set::SetValue;

/// Takes the node at `path` out of the map `root`; a map left empty by taking it out
/// goes too (a map written empty, `{}`, is kept when it is not on the path).
pub(crate) fn take(root: &mut Node, path: &[&str]) -> Option<Node> {
    let (first, rest) = path.split_first()?;
    let map = root.as_map_mut()?;
    if rest.is_empty() {
        return map.remove(first);
    }
    let child = map.get_mut(first)?;
    let taken = take(child, rest)?;
    if child.as_map().is_some_and(Map::is_empty) {
        map.remove(first);
    }
    Some(taken)
}

/// Puts `node` at `path` in the map `root`, making maps on the way (a non-map on the way
/// is replaced).
pub(crate) fn put(root: &mut Node, path: &[&str], node: Node) {
    let Some((last, parents)) = path.split_last() else {
        *root = node;
        return;
    };
    let mut current = root;
    for name in parents {
        if current.as_map().is_none() {
            *current = Node::map(node.loc);
        }
        let map = current.as_map_mut().expect("made a map above");
        if map.get(name).is_none_or(|child| child.as_map().is_none()) {
            map.insert(key(name, node.loc), Node::map(node.loc));
        }
        current = map.get_mut(name).expect("inserted above");
    }
    if current.as_map().is_none() {
        *current = Node::map(node.loc);
    }
    current
        .as_map_mut()
        .expect("made a map above")
        .insert(key(last, node.loc), node);
}

pub(crate) fn key(name: &str, loc: Loc) -> Key {
    Key {
        name: name.to_owned(),
        loc,
        plain: false,
    }
}

/// Whether two trees hold the same data: maps compared key by key whatever their order,
/// scalars by value (a number by its text), places ignored.
pub(crate) fn same(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Map(left), Value::Map(right)) => {
            left.len() == right.len()
                && left
                    .entries()
                    .iter()
                    .all(|(key, node)| right.get(&key.name).is_some_and(|other| same(node, other)))
        }
        (Value::Seq(left), Value::Seq(right)) => {
            left.len() == right.len() && left.iter().zip(right).all(|(a, b)| same(a, b))
        }
        (left, right) => left == right,
    }
}

/// A `--set` value as a tree, every node at `loc`.
pub(crate) fn from_set(value: &SetValue, loc: Loc) -> Node {
    let value = match value {
        SetValue::Null => Value::Null,
        SetValue::Bool(value) => Value::Bool(*value),
        SetValue::Int(value) => Value::Int(*value),
        SetValue::Str(text) => Value::Str(text.clone()),
        SetValue::List(items) => Value::Seq(items.iter().map(|item| from_set(item, loc)).collect()),
        SetValue::Map(entries) => Value::Map(Map::from_entries(
            entries
                .iter()
                .map(|(name, value)| (key(name, loc), from_set(value, loc)))
                .collect(),
        )),
    };
    Node::new(value, loc)
}

/// Points each key (and its value) of a tree read from a command line at the first place
/// the command names its `--set` path (`agent.serverUrl`), else at its parent's place.
pub(crate) fn locate_in(node: &mut Node, text: &str, file: crate::source::FileId, prefix: &str) {
    let Some(map) = node.as_map_mut() else {
        return;
    };
    for (name, key_loc, child) in map.entries_mut() {
        let path = if prefix.is_empty() {
            super::helm_set::escape_name(name)
        } else {
            format!("{prefix}.{}", super::helm_set::escape_name(name))
        };
        if let Some(loc) = super::input::locate(text, &path, file) {
            *key_loc = loc;
            child.loc = loc;
        }
        locate_in(child, text, file, &path);
    }
}

/// Every leaf (scalar, list, empty map) of `node` with its key path.
pub(crate) fn leaves(node: &Node) -> Vec<(Vec<String>, &Node)> {
    let mut out = Vec::new();
    node.for_each_leaf(&mut Vec::new(), &mut |path, leaf| {
        out.push((path.iter().map(|name| (*name).to_owned()).collect(), leaf));
    });
    out
}

/// A key path as `a.b.c`, a name with a dot in brackets (`nodeSelector["kubernetes.io/os"]`).
pub(crate) fn dotted(path: &[String]) -> String {
    path.iter()
        .fold(crate::yaml::KeyPath::new(), |dotted, name| dotted.child(name))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_test as node;

    #[test]
    fn taking_drops_the_maps_it_empties_only() {
        let mut root = node("a: {b: {c: 1}, d: {}}\n");
        assert!(take(&mut root, &["a", "b", "c"]).is_some());
        assert!(same(&root, &node("a: {d: {}}\n")));
        assert!(take(&mut root, &["a", "x"]).is_none());
        assert!(take(&mut root, &["a", "d"]).is_some());
        assert!(same(&root, &node("{}\n")));
    }

    #[test]
    fn putting_makes_the_maps_on_the_way() {
        let mut root = node("a: 1\n");
        put(&mut root, &["b", "c"], Node::string("x", Loc::default()));
        assert!(same(&root, &node("{a: 1, b: {c: x}}\n")));
    }

    #[test]
    fn sameness_ignores_order_but_not_types() {
        assert!(same(&node("{a: 1, b: [x]}\n"), &node("{b: [x], a: 1}\n")));
        assert!(!same(&node("{a: 1}\n"), &node("{a: '1'}\n")));
        assert!(!same(&node("{a: [x, y]}\n"), &node("{a: [y, x]}\n")));
    }

    #[test]
    fn a_set_tree_becomes_nodes() {
        let set = SetValue::Map(vec![(
            "a".into(),
            SetValue::List(vec![SetValue::Int(1), SetValue::Str("x".into()), SetValue::Null]),
        )]);
        assert!(same(&from_set(&set, Loc::default()), &node("a: [1, x, null]\n")));
    }
}
