//! Typed declarations from [`Node`]s, with every problem located.
//!
//! A serde `Deserializer` over our tree: a type error names the node's file, line and
//! column, and unknown keys at every level (ours and those of k8s-openapi's types, which
//! would otherwise ignore them) are collected, with a did-you-mean hint, instead of
//! stopping at the first.
//!
//! A text field reads a plain scalar as the text written: `tag: 9.20` is the string
//! "9.20", not the number 9.2, and `displayName: 007` is "007" (issue 9).
//! [`from_node_keeping_text`] also turns those nodes into strings, so they are written
//! quoted and Helm reads the same text.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};

use super::{Key, Node, Value};
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::source::Loc;

/// A failure to read a node as the type asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct DeError {
    pub loc: Option<Loc>,
    pub message: String,
    /// Whether the message already names the key whose value failed.
    named: bool,
}

impl DeError {
    fn at(mut self, loc: Loc) -> Self {
        self.loc.get_or_insert(loc);
        self
    }

    /// Names the key whose value failed, once, at the innermost level.
    fn named(mut self, key: &str) -> Self {
        if !self.named {
            self.message = format!("`{key}`: {}", self.message);
            self.named = true;
        }
        self
    }

    fn expected(node: &Node, what: &str) -> Self {
        Self {
            loc: Some(node.loc),
            message: format!("expected {what}, found {}", node.kind()),
            named: false,
        }
    }

    pub fn into_diagnostic(self, fallback: Loc) -> Diagnostic {
        let loc = self.loc.unwrap_or(fallback);
        let hint = self
            .message
            .contains("found a boolean")
            .then(|| "quote the value to keep it a string, e.g. `\"true\"`".to_string());
        Diagnostic::error(loc, self.message).with_hint_opt(hint)
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self {
            loc: None,
            message: message.to_string(),
            named: false,
        }
    }
}

/// Reads `node` as a `T`. Unknown keys are pushed to `diagnostics` (reading goes on);
/// a type error ends the read and is pushed too, and `None` is returned.
pub fn from_node<T: DeserializeOwned>(node: &Node, diagnostics: &mut Vec<Diagnostic>) -> Option<T> {
    read(node, &RefCell::new(Vec::new()), diagnostics)
}

/// Reads `node` as a `T` like [`from_node`], and turns every scalar that `T` reads as
/// text (a `String` field, a Kubernetes quantity) into a string node of its text as
/// written: `tag: 9.20` becomes the string "9.20", written quoted, which Helm reads as
/// the same text.
pub fn from_node_keeping_text<T: DeserializeOwned>(node: &mut Node, diagnostics: &mut Vec<Diagnostic>) -> Option<T> {
    let texts = RefCell::new(Vec::new());
    let value = read(node, &texts, diagnostics);
    let texts: HashSet<usize> = texts.into_inner().into_iter().collect();
    if !texts.is_empty() {
        keep_text(node, &texts);
    }
    value
}

/// Turns the scalars at the addresses in `texts` into strings of their text.
fn keep_text(node: &mut Node, texts: &HashSet<usize>) {
    if texts.contains(&address(node)) {
        if let Some(text) = as_text(node) {
            node.value = Value::Str(text.into_owned());
            node.plain = None;
        }
    }
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|item| keep_text(item, texts)),
        Value::Map(map) => map.entries.iter_mut().for_each(|(_, child)| keep_text(child, texts)),
        _ => {}
    }
}

/// Where a node is in memory: it names the node between reading and [`keep_text`].
fn address(node: &Node) -> usize {
    std::ptr::from_ref(node) as usize
}

/// A scalar that is not a string, as the text written: a plain scalar exactly as
/// written, a tagged one as YAML writes its value.
fn as_text(node: &Node) -> Option<Cow<'_, str>> {
    match &node.value {
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => match &node.plain {
            Some(text) => Some(Cow::Borrowed(text)),
            None => node.scalar_text().map(Cow::Owned),
        },
        _ => None,
    }
}

fn read<T: DeserializeOwned>(node: &Node, texts: &RefCell<Vec<usize>>, diagnostics: &mut Vec<Diagnostic>) -> Option<T> {
    let unknown = RefCell::new(Vec::new());
    let result = T::deserialize(NodeDe {
        node,
        unknown: &unknown,
        texts,
    });
    diagnostics.extend(unknown.into_inner());
    match result {
        Ok(value) => Some(value),
        Err(error) => {
            diagnostics.push(error.into_diagnostic(node.loc));
            None
        }
    }
}

fn unknown_key(key: &Key, fields: &'static [&'static str]) -> Option<Diagnostic> {
    if crate::validate::credentials::is_plaintext_key(&key.name) {
        // Reported, with a better hint, by the plaintext credential check.
        return None;
    }
    let diagnostic = Diagnostic::error(key.loc, format!("unknown key `{}`", key.name));
    let hint = match did_you_mean(&key.name, fields.iter().copied()) {
        Some(close) => Some(format!("did you mean `{close}`?")),
        None if fields.len() <= 12 => Some(format!(
            "expected one of {}",
            fields.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
        )),
        None => None,
    };
    Some(diagnostic.with_hint_opt(hint))
}

struct NodeDe<'a> {
    node: &'a Node,
    unknown: &'a RefCell<Vec<Diagnostic>>,
    /// The addresses of the non-string scalars read as text.
    texts: &'a RefCell<Vec<usize>>,
}

impl<'a> NodeDe<'a> {
    fn child(&self, node: &'a Node) -> Self {
        Self {
            node,
            unknown: self.unknown,
            texts: self.texts,
        }
    }

    /// The node as text, if it is a scalar other than `null`; a number or boolean read
    /// this way is remembered for [`keep_text`].
    fn text(&self) -> Option<Cow<'a, str>> {
        if let Value::Str(text) = &self.node.value {
            return Some(Cow::Borrowed(text));
        }
        let text = as_text(self.node)?;
        self.texts.borrow_mut().push(address(self.node));
        Some(text)
    }
}

macro_rules! forward_to_any {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.deserialize_any(visitor)
        })*
    };
}

macro_rules! integer {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            match self.node.value {
                Value::Int(value) => visitor.visit_i64(value).map_err(|e: DeError| e.at(self.node.loc)),
                _ => Err(DeError::expected(self.node, "a whole number")),
            }
        })*
    };
}

impl<'de> de::Deserializer<'de> for NodeDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let loc = self.node.loc;
        let result = match &self.node.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(value) => visitor.visit_bool(*value),
            Value::Int(value) => visitor.visit_i64(*value),
            Value::Float(text) => match text.parse::<f64>() {
                Ok(value) => visitor.visit_f64(value),
                Err(_) => visitor.visit_str(text),
            },
            Value::Str(text) => visitor.visit_str(text),
            Value::Seq(items) => visitor.visit_seq(SeqAccess {
                de: &self,
                items: items.iter(),
            }),
            Value::Map(map) => visitor.visit_map(MapAccess {
                de: &self,
                entries: map.entries.iter().collect::<Vec<_>>().into_iter(),
                value: None,
            }),
        };
        result.map_err(|e| e.at(loc))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.value {
            Value::Bool(value) => visitor.visit_bool(value),
            _ => Err(DeError::expected(self.node, "`true` or `false`")),
        }
    }

    integer!(deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64);

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Int(value) => visitor.visit_i64(*value),
            Value::Float(text) => match text.parse::<f64>() {
                Ok(value) => visitor.visit_f64(value),
                Err(_) => Err(DeError::expected(self.node, "a number")),
            },
            _ => Err(DeError::expected(self.node, "a number")),
        }
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        // Scalars read as the text written: `tag: 9.20` is the string "9.20".
        match self.text() {
            Some(text) => visitor.visit_str(&text).map_err(|e: DeError| e.at(self.node.loc)),
            None => Err(DeError::expected(self.node, "a string")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.value {
            Value::Null => visitor.visit_unit(),
            _ => Err(DeError::expected(self.node, "null")),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Seq(_) => self.deserialize_any(visitor),
            _ => Err(DeError::expected(self.node, "a list")),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Map(_) => self.deserialize_any(visitor),
            _ => Err(DeError::expected(self.node, "a map")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let Value::Map(map) = &self.node.value else {
            return Err(DeError::expected(self.node, "a map"));
        };
        let mut known = Vec::with_capacity(map.entries.len());
        for entry in &map.entries {
            if fields.contains(&entry.0.name.as_str()) {
                known.push(entry);
            } else if let Some(diagnostic) = unknown_key(&entry.0, fields) {
                self.unknown.borrow_mut().push(diagnostic);
            }
        }
        let loc = self.node.loc;
        visitor
            .visit_map(MapAccess {
                de: &self,
                entries: known.into_iter(),
                value: None,
            })
            .map_err(|e| e.at(loc))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Str(text) => visitor
                .visit_enum(text.as_str().into_deserializer())
                .map_err(|_: DeError| DeError {
                    loc: Some(self.node.loc),
                    message: format!(
                        "`{text}` is not one of {}",
                        variants.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")
                    ),
                    named: false,
                }),
            _ => Err(DeError::expected(self.node, "a string")),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, DeError> {
        // A Kubernetes quantity is text (`cpu: 1.10` is "1.10"): Helm would read a number
        // as a 64-bit float and write it back in its own way.
        if name == "Quantity" && !matches!(self.node.value, Value::Seq(_) | Value::Map(_)) {
            if let Some(text) = self.text() {
                let text: de::value::StringDeserializer<DeError> = text.into_owned().into_deserializer();
                return visitor.visit_newtype_struct(text).map_err(|e| e.at(self.node.loc));
            }
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    forward_to_any!(deserialize_i128 deserialize_u128 deserialize_char deserialize_bytes deserialize_byte_buf deserialize_identifier);

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }
}

struct SeqAccess<'a, 'b> {
    de: &'b NodeDe<'a>,
    items: std::slice::Iter<'a, Node>,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_, '_> {
    type Error = DeError;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            Some(item) => seed
                .deserialize(self.de.child(item))
                .map(Some)
                .map_err(|e| e.at(item.loc)),
            None => Ok(None),
        }
    }
}

struct MapAccess<'a, 'b> {
    de: &'b NodeDe<'a>,
    entries: std::vec::IntoIter<&'a (Key, Node)>,
    value: Option<(&'a Key, &'a Node)>,
}

impl<'de> de::MapAccess<'de> for MapAccess<'_, '_> {
    type Error = DeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, DeError> {
        let Some(entry) = self.entries.next() else {
            return Ok(None);
        };
        let (key, value) = (&entry.0, &entry.1);
        self.value = Some((key, value));
        let key_de: de::value::StrDeserializer<'_, DeError> = key.name.as_str().into_deserializer();
        seed.deserialize(key_de).map(Some).map_err(|e| e.at(key.loc))
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let (key, value) = self.value.take().expect("a value follows its key");
        seed.deserialize(self.de.child(value))
            .map_err(|e| e.at(value.loc).named(&key.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;
    use crate::yaml::{parse, Limits};
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Sample {
        worker_pools: Option<Vec<String>>,
        count: Option<u32>,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Inner {
        name: String,
    }

    fn read<T: DeserializeOwned>(text: &str) -> (Option<T>, Vec<Diagnostic>) {
        let node = parse(text, FileId(0), Limits::default()).unwrap();
        let mut diagnostics = Vec::new();
        let value = from_node(&node, &mut diagnostics);
        (value, diagnostics)
    }

    #[test]
    fn collects_every_unknown_key_with_hints() {
        let (value, diagnostics) = read::<Sample>("workerPool: [a]\ncount: 3\ninner: {name: x, nmae: y}\n");
        assert_eq!(value.unwrap().count, Some(3));
        let messages: Vec<_> = diagnostics
            .iter()
            .map(|d| (d.message.clone(), d.hint.clone()))
            .collect();
        assert_eq!(
            messages,
            vec![
                (
                    "unknown key `workerPool`".into(),
                    Some("did you mean `workerPools`?".into())
                ),
                ("unknown key `nmae`".into(), Some("did you mean `name`?".into())),
            ]
        );
        assert_eq!(diagnostics[1].loc.unwrap().line, 3);
    }

    #[test]
    fn type_errors_point_at_the_node() {
        let (value, diagnostics) = read::<Sample>("count: 3\ninner:\n  name: [x]\n");
        assert!(value.is_none());
        assert_eq!(diagnostics[0].message, "`name`: expected a string, found a list");
        assert_eq!(
            (diagnostics[0].loc.unwrap().line, diagnostics[0].loc.unwrap().col),
            (3, 9)
        );
    }

    #[test]
    fn text_fields_keep_the_text_as_written() {
        let (value, diagnostics) =
            read::<Sample>("workerPools: [0x1F, 1e3, 9.20, 007, true, \"x\", !!int 5]\ninner: {name: 1.10}\n");
        assert_eq!(diagnostics, []);
        let value = value.unwrap();
        assert_eq!(
            value.worker_pools.unwrap(),
            ["0x1F", "1e3", "9.20", "007", "true", "x", "5"]
        );
        assert_eq!(value.inner.unwrap().name, "1.10");
    }

    #[test]
    fn keeping_text_turns_text_fields_into_strings_and_leaves_the_rest() {
        use k8s_openapi::api::core::v1::ResourceRequirements;
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Fields {
            tag: Option<String>,
            count: Option<u32>,
            selector: Option<std::collections::BTreeMap<String, String>>,
            resources: Option<ResourceRequirements>,
            other: Option<IgnoredAny>,
        }
        use serde::de::IgnoredAny;
        let text = "tag: 9.20\ncount: 3\nselector: {zone: 010}\nresources: {requests: {cpu: 1.10, memory: 1e3}}\nother: {a: 9.20}\n";
        let mut node = parse(text, FileId(0), Limits::default()).unwrap();
        let mut diagnostics = Vec::new();
        let fields: Fields = from_node_keeping_text(&mut node, &mut diagnostics).unwrap();
        assert_eq!(diagnostics, []);
        assert_eq!(fields.tag.as_deref(), Some("9.20"));
        let requests = fields.resources.unwrap().requests.unwrap();
        assert_eq!(requests["cpu"].0, "1.10");
        let value = |path: &[&str]| node.get_path(path.iter().copied()).unwrap().value.clone();
        assert_eq!(value(&["tag"]), Value::Str("9.20".into()));
        assert_eq!(value(&["count"]), Value::Int(3));
        assert_eq!(value(&["selector", "zone"]), Value::Str("010".into()));
        assert_eq!(value(&["resources", "requests", "cpu"]), Value::Str("1.10".into()));
        assert_eq!(value(&["resources", "requests", "memory"]), Value::Str("1e3".into()));
        // Not a text field: the number stays a number.
        assert_eq!(value(&["other", "a"]), Value::Float("9.20".into()));
        assert_eq!(crate::yaml::emit(&node), "count: 3\nother:\n  a: 9.20\nresources:\n  requests:\n    cpu: \"1.10\"\n    memory: \"1e3\"\nselector:\n  zone: \"010\"\ntag: \"9.20\"\n");
    }

    #[test]
    fn checks_kubernetes_types_for_unknown_fields() {
        use k8s_openapi::api::core::v1::Toleration;
        let (value, diagnostics) = read::<Vec<Toleration>>("- key: a\n  operator: Exists\n  efect: NoSchedule\n");
        assert_eq!(value.unwrap()[0].key.as_deref(), Some("a"));
        assert_eq!(diagnostics[0].message, "unknown key `efect`");
        assert_eq!(diagnostics[0].hint.as_deref(), Some("did you mean `effect`?"));
    }
}
