//! YAML as workergen sees it: a tree of [`Node`]s, each knowing where it was written.
//!
//! We parse with `saphyr-parser` (the maintained successor of yaml-rust, panic-free, with
//! a span on every event) and build our own tree so that every node keeps its file, line
//! and column through merging, and so that the limits against hostile input (file size,
//! nesting depth, alias expansion) are ours to set.

mod de;
mod emit;
mod parse;
mod path;
pub(crate) mod portable;

pub(crate) use de::{from_node, from_node_keeping_text, from_node_partial};
pub(crate) use emit::{emit, emit_after};
#[cfg(test)]
pub(crate) use parse::parse_test;
pub(crate) use parse::parse_with_credentials;
pub use parse::{parse, Limits};
pub(crate) use path::{leaves, KeyPath, Lists, Segment};

use std::collections::HashMap;
use std::fmt;

use crate::source::{Layer, Loc};

/// A YAML value with its place of writing.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub(crate) value: Value,
    pub(crate) loc: Loc,
    /// The layer a worker field was set in; [`Layer::None`] outside worker fields.
    pub(crate) layer: Layer,
    /// A plain scalar's text as written (no quotes, no tag); `None` for every other node.
    ///
    /// A text field reads a plain scalar as this text, so `tag: 9.20` is "9.20" and not
    /// the number 9.2, and `values` refuses the plain scalars that YAML 1.1 (Helm) and
    /// YAML 1.2 read differently, since Helm would deploy the other reading.
    pub(crate) plain: Option<Box<str>>,
    /// Whether `loc` is a place in a declaration; for any other origin it is not.
    pub(crate) origin: crate::source::Origin,
}

/// The YAML 1.2 core-schema value of a node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    /// A float, or an integer beyond 64 bits, kept as written so it renders back unchanged.
    Float(String),
    Str(String),
    Seq(Vec<Node>),
    Map(Map),
}

/// A mapping key and where it stands.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub(crate) name: String,
    pub(crate) loc: Loc,
    /// Written as a plain scalar (no quotes, no tag), so that a key only YAML 1.1 reads
    /// as something else than text (`yes`, `on`, `n`) can be refused where Helm reads it.
    pub(crate) plain: bool,
}

/// The same key whatever its spelling: `plain` says how it was written, not what it is.
impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.loc == other.loc
    }
}

impl Key {
    /// A key workergen made (a template's output, a built-in object): it has no place in
    /// any declaration.
    pub(crate) fn generated(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            loc: Loc::default(),
            plain: false,
        }
    }
}

/// A YAML mapping in the order written; keys are unique (duplicates are refused when parsing).
///
/// Lookups by name go through a hash index once a map has more than `INDEXED_FROM` entries,
/// so merging or checking a map with many keys stays linear (a hostile file with 73,000
/// keys under `values.agent` took 41 s with a scan per lookup). The entries are private:
/// [`Map::entries`] reads them in order, and every change goes through the methods here,
/// which keep the index, so the index is always right and never second-guessed.
#[derive(Clone, Default)]
pub(crate) struct Map {
    entries: Vec<(Key, Node)>,
    /// Boxed: most maps are small, and every [`Node`] holds room for a map (a bare
    /// `HashMap` would make every `Value` 40 bytes larger).
    #[allow(clippy::box_collection)]
    index: Option<Box<HashMap<String, usize>>>,
}

/// Maps of at most this many entries are searched by a scan, which is faster for them.
const INDEXED_FROM: usize = 16;

// The hash index is a cache of `entries`: showing it would only repeat them.
#[allow(clippy::missing_fields_in_debug)]
impl fmt::Debug for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Map").field("entries", &self.entries).finish()
    }
}

impl PartialEq for Map {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl Map {
    /// A map of `entries`, whose keys must be unique.
    pub(crate) fn from_entries(entries: Vec<(Key, Node)>) -> Self {
        let mut map = Self { entries, index: None };
        map.reindex();
        map
    }

    /// The entries, in order.
    pub(crate) fn entries(&self) -> &[(Key, Node)] {
        &self.entries
    }

    /// The values, in order, open to change.
    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut Node> {
        self.entries.iter_mut().map(|(_, node)| node)
    }

    /// Each entry's name, its key's place and its value, the place and the value open to
    /// change; the names are not, so the index stays right.
    pub(crate) fn entries_mut(&mut self) -> impl Iterator<Item = (&str, &mut Loc, &mut Node)> {
        self.entries
            .iter_mut()
            .map(|(key, node)| (key.name.as_str(), &mut key.loc, node))
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Node> {
        self.position(name).map(|index| &self.entries[index].1)
    }

    pub(crate) fn get_entry(&self, name: &str) -> Option<(&Key, &Node)> {
        self.position(name).map(|index| {
            let (key, node) = &self.entries[index];
            (key, node)
        })
    }

    pub(crate) fn get_mut(&mut self, name: &str) -> Option<&mut Node> {
        self.position(name).map(|index| &mut self.entries[index].1)
    }

    /// Sets `name` to `node`, replacing the value (and keeping the key's place) if present.
    pub(crate) fn insert(&mut self, key: Key, node: Node) {
        match self.position(&key.name) {
            Some(index) => self.entries[index].1 = node,
            None => self.push(key, node),
        }
    }

    /// Appends an entry whose key the map does not have yet (the caller has checked).
    pub(crate) fn push(&mut self, key: Key, node: Node) {
        if let Some(index) = &mut self.index {
            index.insert(key.name.clone(), self.entries.len());
        }
        self.entries.push((key, node));
        if self.index.is_none() && self.entries.len() > INDEXED_FROM {
            self.reindex();
        }
    }

    /// The value at `name`, added first (`make`, at the end, its key at `loc`) when the
    /// map lacks it: one search of the map, not one to ask, one to add and one to fetch.
    pub(crate) fn get_or_push(&mut self, name: &str, loc: Loc, make: impl FnOnce() -> Node) -> &mut Node {
        let index = match self.position(name) {
            Some(index) => index,
            None => {
                let key = Key {
                    name: name.to_string(),
                    loc,
                    plain: false,
                };
                self.push(key, make());
                self.entries.len() - 1
            }
        };
        &mut self.entries[index].1
    }

    pub(crate) fn remove(&mut self, name: &str) -> Option<Node> {
        let position = self.position(name)?;
        let (_, node) = self.entries.remove(position);
        if let Some(index) = &mut self.index {
            index.remove(name);
            index.values_mut().filter(|i| **i > position).for_each(|i| *i -= 1);
        }
        Some(node)
    }

    /// Keeps the entries for which `keep` is true, in order.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&Key, &Node) -> bool) {
        self.entries.retain(|(key, node)| keep(key, node));
        self.reindex();
    }

    /// [`Map::retain`] with each value open to change.
    pub(crate) fn retain_mut(&mut self, mut keep: impl FnMut(&Key, &mut Node) -> bool) {
        self.entries.retain_mut(|(key, node)| keep(key, node));
        self.reindex();
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(key, _)| key.name.as_str())
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Where `name` is in `entries`: through the index of a large map, by a scan of a
    /// small one.
    fn position(&self, name: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(name).copied(),
            None => self.entries.iter().position(|(key, _)| key.name == name),
        }
    }

    /// Builds the index afresh, or drops it for a small map.
    fn reindex(&mut self) {
        self.index = (self.entries.len() > INDEXED_FROM).then(|| {
            Box::new(
                self.entries
                    .iter()
                    .enumerate()
                    .map(|(position, (key, _))| (key.name.clone(), position))
                    .collect(),
            )
        });
    }
}

impl Node {
    pub(crate) fn new(value: Value, loc: Loc) -> Self {
        Self {
            value,
            loc,
            layer: Layer::None,
            plain: None,
            origin: crate::source::Origin::Declared,
        }
    }

    /// Where this node was declared; `None` for a chart default or a generated node.
    pub(crate) fn declared_at(&self) -> Option<Loc> {
        (self.origin == crate::source::Origin::Declared).then_some(self.loc)
    }

    /// Sets the origin of this node and everything below it.
    pub(crate) fn set_origin(&mut self, origin: crate::source::Origin) {
        self.origin = origin;
        match &mut self.value {
            Value::Seq(items) => items.iter_mut().for_each(|item| item.set_origin(origin)),
            Value::Map(map) => map.values_mut().for_each(|node| node.set_origin(origin)),
            _ => {}
        }
    }

    /// A node workergen made (a template's output, a built-in object): it has no place
    /// in any declaration.
    pub(crate) fn generated(value: Value) -> Self {
        Self {
            origin: crate::source::Origin::Generated,
            ..Self::new(value, Loc::default())
        }
    }

    pub(crate) fn null(loc: Loc) -> Self {
        Self::new(Value::Null, loc)
    }

    pub(crate) fn string(text: impl Into<String>, loc: Loc) -> Self {
        Self::new(Value::Str(text.into()), loc)
    }

    pub(crate) fn map(loc: Loc) -> Self {
        Self::new(Value::Map(Map::default()), loc)
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    pub(crate) fn as_map(&self) -> Option<&Map> {
        match &self.value {
            Value::Map(map) => Some(map),
            _ => None,
        }
    }

    pub(crate) fn as_map_mut(&mut self) -> Option<&mut Map> {
        match &mut self.value {
            Value::Map(map) => Some(map),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(text) => Some(text),
            _ => None,
        }
    }

    /// The child at `name`, when this node is a map that has it.
    pub(crate) fn get(&self, name: &str) -> Option<&Node> {
        self.as_map()?.get(name)
    }

    /// The node at a dotted path of map keys.
    pub(crate) fn get_path<'a>(&self, path: impl IntoIterator<Item = &'a str>) -> Option<&Node> {
        path.into_iter().try_fold(self, |node, name| node.get(name))
    }

    /// The credentials under this tree ([`crate::redact::FileSecrets`]): every string and
    /// number at or under a credential-like key, aliases resolved (an alias is a copy).
    pub(crate) fn credentials(&self) -> Vec<String> {
        fn walk(node: &Node, secrets: &mut crate::redact::FileSecrets) {
            match &node.value {
                Value::Map(map) => {
                    for (key, child) in &map.entries {
                        secrets.enter(&key.name);
                        walk(child, secrets);
                        secrets.leave();
                    }
                }
                Value::Seq(items) => items.iter().for_each(|item| walk(item, secrets)),
                Value::Str(text) | Value::Float(text) => secrets.scalar(text),
                Value::Int(value) => secrets.scalar(&value.to_string()),
                Value::Null | Value::Bool(_) => {}
            }
        }
        let mut secrets = crate::redact::FileSecrets::new();
        walk(self, &mut secrets);
        secrets.finish()
    }

    /// A scalar as text, as it would read in YAML (`None` for maps and lists).
    pub(crate) fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Null => Some("null".into()),
            Value::Bool(value) => Some(value.to_string()),
            Value::Int(value) => Some(value.to_string()),
            Value::Float(text) | Value::Str(text) => Some(text.clone()),
            Value::Seq(_) | Value::Map(_) => None,
        }
    }

    /// What kind of value this is, for messages: "a string", "a map", ...
    pub(crate) fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
        }
    }

    /// Sets the layer of this node and everything below it.
    pub(crate) fn set_layer(&mut self, layer: Layer) {
        self.layer = layer;
        match &mut self.value {
            Value::Seq(items) => items.iter_mut().for_each(|item| item.set_layer(layer)),
            Value::Map(map) => map.values_mut().for_each(|node| node.set_layer(layer)),
            _ => {}
        }
    }

    /// Calls `visit` with the key path and node of every leaf (scalars, lists, empty maps).
    pub(crate) fn for_each_leaf<'a>(&'a self, path: &mut Vec<&'a str>, visit: &mut dyn FnMut(&[&'a str], &'a Node)) {
        match &self.value {
            Value::Map(map) if !map.is_empty() => {
                for (key, node) in map.entries() {
                    path.push(&key.name);
                    node.for_each_leaf(path, visit);
                    path.pop();
                }
            }
            _ => visit(path, self),
        }
    }
}

/// Parses text that no declaration file holds (the chart's values.yaml, a template's
/// output, rendered files read back): every node is of `origin`, and its locations point
/// into `text`, which is no file of the run's sources.
pub(crate) fn parse_undeclared(
    text: &str,
    origin: crate::source::Origin,
    limits: Limits,
) -> Result<Node, crate::diagnostic::Diagnostic> {
    let mut node = parse(text, crate::source::FileId::default(), limits)?;
    node.set_origin(origin);
    Ok(node)
}

impl serde::Serialize for Node {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match &self.value {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(value) => serializer.serialize_bool(*value),
            Value::Int(value) => serializer.serialize_i64(*value),
            Value::Float(text) => match text.parse::<f64>() {
                Ok(value) if value.is_finite() => serializer.serialize_f64(value),
                _ => serializer.serialize_str(text),
            },
            Value::Str(text) => serializer.serialize_str(text),
            Value::Seq(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Map(map) => {
                let mut sorted: Vec<_> = map.entries().iter().collect();
                sorted.sort_by(|a, b| a.0.name.cmp(&b.0.name));
                let mut out = serializer.serialize_map(Some(sorted.len()))?;
                for (key, node) in sorted {
                    out.serialize_entry(&key.name, node)?;
                }
                out.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_found_behind_aliases_but_not_in_remote_references() {
        let root = parse_test(
            "a: &x S3CRET-anchored\nauth:\n  password: *x\n  token: {nested: S3CRET-nested, n: 12345}\n  automountServiceAccountToken: true\n  bearerTokenSecret: octopus-worker-token\nsecrets:\n  externalSecret:\n    remoteRefs:\n      password: {key: vault/path, property: pw}\n",
        );
        assert_eq!(root.credentials(), ["12345", "S3CRET-anchored", "S3CRET-nested"]);
    }

    fn key(name: &str) -> Key {
        Key::generated(name)
    }

    fn int(value: i64) -> Node {
        Node::new(Value::Int(value), Loc::default())
    }

    fn names(map: &Map) -> Vec<&str> {
        map.keys().collect()
    }

    /// Every lookup agrees with a scan of `entries`, in small and indexed maps alike.
    fn assert_lookups(map: &Map, absent: &[&str]) {
        for (position, (key, node)) in map.entries().iter().enumerate() {
            assert_eq!(map.position(&key.name), Some(position), "{}", key.name);
            assert_eq!(map.get(&key.name), Some(node));
        }
        for name in absent {
            assert_eq!(map.get(name), None, "{name}");
        }
    }

    #[test]
    fn a_large_map_is_indexed_and_keeps_its_order() {
        let mut map = Map::default();
        for i in 0..1000 {
            map.insert(key(&format!("k{i}")), int(i));
        }
        assert!(map.index.is_some());
        assert_eq!(map.len(), 1000);
        assert_eq!(names(&map)[..3], ["k0", "k1", "k2"]);
        // Replacing keeps the key's place.
        map.insert(key("k1"), int(-1));
        assert_eq!(map.get("k1"), Some(&int(-1)));
        assert_eq!(names(&map)[1], "k1");
        assert_lookups(&map, &["k1000", "k"]);
        *map.get_mut("k999").unwrap() = int(7);
        assert_eq!(
            map.get_entry("k999").map(|(key, node)| (key.name.as_str(), node)),
            Some(("k999", &int(7)))
        );
    }

    #[test]
    fn removing_and_retaining_keep_lookups_right() {
        let mut map = Map::default();
        for i in 0..100 {
            map.push(key(&format!("k{i}")), int(i));
        }
        assert_eq!(map.remove("k10"), Some(int(10)));
        assert_eq!(map.remove("k10"), None);
        assert_lookups(&map, &["k10"]);
        map.retain(|_, node| matches!(node.value, Value::Int(i) if i % 2 == 0));
        assert_eq!(map.len(), 49);
        assert_lookups(&map, &["k1", "k99"]);
        // Small again: no index, found by a scan.
        map.retain(|key, _| key.name.len() == 2);
        assert_eq!(names(&map), ["k0", "k2", "k4", "k6", "k8"]);
        assert!(map.index.is_none());
        assert_lookups(&map, &["k10"]);
        map.insert(key("k1"), int(1));
        assert_eq!(names(&map), ["k0", "k2", "k4", "k6", "k8", "k1"]);
    }

    #[test]
    fn equality_and_debug_ignore_the_index() {
        let mut indexed = Map::default();
        let mut scanned = Map::default();
        for i in 0..20 {
            indexed.push(key(&format!("k{i}")), int(i));
            scanned.entries.push((key(&format!("k{i}")), int(i)));
        }
        assert!(indexed.index.is_some() && scanned.index.is_none());
        assert_eq!(indexed, scanned);
        assert_eq!(format!("{indexed:?}"), format!("{scanned:?}"));
    }
}
