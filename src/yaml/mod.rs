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
pub mod portable;

pub use de::{from_node, from_node_keeping_text, from_node_partial, DeError};
pub use emit::{emit, emit_plain_key};
pub use parse::{parse, Limits};
pub use path::KeyPath;

use crate::merge::Layer;
use crate::source::Loc;

/// A YAML value with its place of writing.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub loc: Loc,
    /// The layer a worker field was set in; [`Layer::None`] outside worker fields.
    pub layer: Layer,
    /// A plain scalar's text as written (no quotes, no tag); `None` for every other node.
    ///
    /// A text field reads a plain scalar as this text, so `tag: 9.20` is "9.20" and not
    /// the number 9.2, and `values` refuses the plain scalars that YAML 1.1 (Helm) and
    /// YAML 1.2 read differently (issue 9).
    pub plain: Option<Box<str>>,
}

/// The YAML 1.2 core-schema value of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
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
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub loc: Loc,
}

/// A YAML mapping in the order written; keys are unique (duplicates are refused when parsing).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Map {
    pub entries: Vec<(Key, Node)>,
}

impl Map {
    pub fn get(&self, name: &str) -> Option<&Node> {
        self.entries
            .iter()
            .find(|(key, _)| key.name == name)
            .map(|(_, node)| node)
    }

    pub fn get_entry(&self, name: &str) -> Option<(&Key, &Node)> {
        self.entries
            .iter()
            .find(|(key, _)| key.name == name)
            .map(|(key, node)| (key, node))
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut Node> {
        self.entries
            .iter_mut()
            .find(|(key, _)| key.name == name)
            .map(|(_, node)| node)
    }

    /// Sets `name` to `node`, replacing the value (and keeping the key's place) if present.
    pub fn insert(&mut self, key: Key, node: Node) {
        match self.entries.iter_mut().find(|(existing, _)| existing.name == key.name) {
            Some(entry) => entry.1 = node,
            None => self.entries.push((key, node)),
        }
    }

    pub fn remove(&mut self, name: &str) -> Option<Node> {
        let index = self.entries.iter().position(|(key, _)| key.name == name)?;
        Some(self.entries.remove(index).1)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(key, _)| key.name.as_str())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Node {
    pub fn new(value: Value, loc: Loc) -> Self {
        Self {
            value,
            loc,
            layer: Layer::None,
            plain: None,
        }
    }

    pub fn null(loc: Loc) -> Self {
        Self::new(Value::Null, loc)
    }

    pub fn string(text: impl Into<String>, loc: Loc) -> Self {
        Self::new(Value::Str(text.into()), loc)
    }

    pub fn map(loc: Loc) -> Self {
        Self::new(Value::Map(Map::default()), loc)
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    pub fn as_map(&self) -> Option<&Map> {
        match &self.value {
            Value::Map(map) => Some(map),
            _ => None,
        }
    }

    pub fn as_map_mut(&mut self) -> Option<&mut Map> {
        match &mut self.value {
            Value::Map(map) => Some(map),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(text) => Some(text),
            _ => None,
        }
    }

    /// The child at `name`, when this node is a map that has it.
    pub fn get(&self, name: &str) -> Option<&Node> {
        self.as_map()?.get(name)
    }

    /// The node at a dotted path of map keys.
    pub fn get_path<'a>(&self, path: impl IntoIterator<Item = &'a str>) -> Option<&Node> {
        path.into_iter().try_fold(self, |node, name| node.get(name))
    }

    /// A scalar as text, as it would read in YAML (`None` for maps and lists).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Null => Some("null".into()),
            Value::Bool(value) => Some(value.to_string()),
            Value::Int(value) => Some(value.to_string()),
            Value::Float(text) | Value::Str(text) => Some(text.clone()),
            Value::Seq(_) | Value::Map(_) => None,
        }
    }

    /// What kind of value this is, for messages: "a string", "a map", ...
    pub fn kind(&self) -> &'static str {
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
    pub fn set_layer(&mut self, layer: Layer) {
        self.layer = layer;
        match &mut self.value {
            Value::Seq(items) => items.iter_mut().for_each(|item| item.set_layer(layer)),
            Value::Map(map) => map.entries.iter_mut().for_each(|(_, node)| node.set_layer(layer)),
            _ => {}
        }
    }

    /// Calls `visit` with the key path and node of every leaf (scalars, lists, empty maps).
    pub fn for_each_leaf<'a>(&'a self, path: &mut Vec<&'a str>, visit: &mut dyn FnMut(&[&'a str], &'a Node)) {
        match &self.value {
            Value::Map(map) if !map.is_empty() => {
                for (key, node) in &map.entries {
                    path.push(&key.name);
                    node.for_each_leaf(path, visit);
                    path.pop();
                }
            }
            _ => visit(path, self),
        }
    }
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
                let mut sorted: Vec<_> = map.entries.iter().collect();
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
