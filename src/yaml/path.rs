//! [`KeyPath`]: the one way to name a place in a values tree.
//!
//! A dotted string cannot tell `{a: {b: 1}}` from `{"a.b": 1}`, and chart
//! values have keys with dots in them (`nodeSelector: {kubernetes.io/os: linux}`). A
//! `KeyPath` keeps the keys apart; its `Display` writes `a.b` for ordinary keys and
//! brackets the others: `agent.nodeSelector["kubernetes.io/os"]`, `a["b.c"]`; a list
//! item is its index in brackets: `spec.sources[0].targetRevision`.

use std::fmt;

use super::{Node, Value};

/// One step of a [`KeyPath`]: a map key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// The keys (and list indexes) from the root of a tree down to one node.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyPath(pub Vec<Segment>);

impl KeyPath {
    pub fn new() -> Self {
        Self::default()
    }

    #[cfg(test)]
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Self {
        Self(
            names
                .iter()
                .map(|name| Segment::Key(name.as_ref().to_string()))
                .collect(),
        )
    }

    /// This path with `name` appended.
    pub fn child(&self, name: &str) -> Self {
        let mut path = self.clone();
        path.0.push(Segment::Key(name.to_string()));
        path
    }

    /// This path with the list index `index` appended.
    pub fn item(&self, index: usize) -> Self {
        let mut path = self.clone();
        path.0.push(Segment::Index(index));
        path
    }

    /// `prefix` followed by this path.
    pub fn under(&self, prefix: &str) -> Self {
        let mut path = Self(vec![Segment::Key(prefix.to_string())]);
        path.0.extend(self.0.iter().cloned());
        path
    }

    /// Whether `self` is `other` or lies below it.
    #[cfg(test)]
    pub fn starts_with(&self, other: &KeyPath) -> bool {
        self.0.starts_with(&other.0)
    }

    /// The paths above this one, nearest first (not the empty root).
    #[cfg(test)]
    pub fn ancestors(&self) -> impl Iterator<Item = KeyPath> + '_ {
        (1..self.0.len()).rev().map(|length| KeyPath(self.0[..length].to_vec()))
    }

    /// One key as it reads in a path: bare, or bracketed and quoted when it holds a
    /// `.`, `/` or space (or is empty), so that no two paths read the same.
    pub fn segment(name: &str) -> String {
        if name.is_empty() || name.contains(['.', '/', ' ', '[', ']', '"']) {
            format!("[{name:?}]")
        } else {
            name.to_string()
        }
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, segment) in self.0.iter().enumerate() {
            let part = match segment {
                Segment::Key(name) => Self::segment(name),
                Segment::Index(index) => format!("[{index}]"),
            };
            if position > 0 && !part.starts_with('[') {
                f.write_str(".")?;
            }
            f.write_str(&part)?;
        }
        Ok(())
    }
}

/// How [`leaves`] treats a non-empty list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lists {
    /// A list is one leaf, as Helm values replace lists whole.
    Whole,
    /// Down into the items, for manifests (`spec.sources[0].targetRevision`).
    Items,
}

/// The leaves of a tree with their paths, in the order written: scalars, empty maps,
/// empty lists, and non-empty lists as `lists` says.
pub fn leaves(node: &Node, lists: Lists) -> Vec<(KeyPath, &Node)> {
    let mut out = Vec::new();
    collect(node, KeyPath::new(), lists, &mut out);
    out
}

fn collect<'a>(node: &'a Node, path: KeyPath, lists: Lists, out: &mut Vec<(KeyPath, &'a Node)>) {
    match &node.value {
        Value::Map(map) if !map.is_empty() => {
            for (key, child) in map.entries() {
                collect(child, path.child(&key.name), lists, out);
            }
        }
        Value::Seq(items) if lists == Lists::Items && !items.is_empty() => {
            for (index, item) in items.iter().enumerate() {
                collect(item, path.item(index), lists, out);
            }
        }
        _ => out.push((path, node)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_keys_that_would_read_as_two() {
        assert_eq!(KeyPath::from_names(&["a", "b"]).to_string(), "a.b");
        assert_eq!(KeyPath::from_names(&["a.b"]).to_string(), "[\"a.b\"]");
        assert_eq!(KeyPath::from_names(&["a", "b.c"]).to_string(), "a[\"b.c\"]");
        assert_eq!(
            KeyPath::from_names(&["agent", "nodeSelector", "kubernetes.io/os"]).to_string(),
            "agent.nodeSelector[\"kubernetes.io/os\"]"
        );
        assert_ne!(KeyPath::from_names(&["a", "b"]), KeyPath::from_names(&["a.b"]));
        let item = KeyPath::from_names(&["spec", "sources"]).item(0).child("repoURL");
        assert_eq!(item.to_string(), "spec.sources[0].repoURL");
        assert_eq!(KeyPath::new().item(1).to_string(), "[1]");
    }

    #[test]
    fn leaves_take_lists_whole_or_by_item() {
        let node = super::super::parse(
            "a: {b: [1, {c: 2}], e: {}}\nf: []\n",
            crate::source::FileId(0),
            super::super::Limits::default(),
        )
        .unwrap();
        let paths = |lists| -> Vec<String> { leaves(&node, lists).iter().map(|(path, _)| path.to_string()).collect() };
        assert_eq!(paths(Lists::Whole), ["a.b", "a.e", "f"]);
        assert_eq!(paths(Lists::Items), ["a.b[0]", "a.b[1].c", "a.e", "f"]);
    }

    #[test]
    fn prefixes_are_whole_keys() {
        let path = KeyPath::from_names(&["agent", "nodeSelector", "pool"]);
        assert!(path.starts_with(&KeyPath::from_names(&["agent", "nodeSelector"])));
        assert!(!path.starts_with(&KeyPath::from_names(&["agent", "node"])));
        let ancestors: Vec<String> = path.ancestors().map(|p| p.to_string()).collect();
        assert_eq!(ancestors, ["agent.nodeSelector", "agent"]);
    }
}
