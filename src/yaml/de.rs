//! Typed declarations from [`Node`]s, with every problem located.
//!
//! A serde `Deserializer` over our tree: a type error names the node's file, line and
//! column, and unknown keys at every level (ours and those of k8s-openapi's types, which
//! would otherwise ignore them) are collected, with a did-you-mean hint, instead of
//! stopping at the first. Type errors are collected too, so one run shows them all: a value
//! of the wrong type is reported and read as a neutral stand-in so the read goes on, and a
//! second pass reads the entry holding it as absent, so the rest of the fragment is still
//! usable ([`from_node_partial`]). A `null` map value is a removal (a layer writes it to
//! drop an inherited value): it reads as absent, whatever the type of the key.
//!
//! A text field reads a plain scalar as the text written: `tag: 9.20` is the string
//! "9.20", not the number 9.2, and `displayName: 007` is "007", as written.
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

/// Passes over one fragment at most: each pass after the first skips the entries that
/// failed, so hostile input cannot make a read quadratic.
const MAX_PASSES: usize = 8;

/// The longest value a type error quotes; longer ones are cut.
const MAX_QUOTED: usize = 40;

/// A failure to read a node as the type asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct DeError {
    pub loc: Option<Loc>,
    pub message: String,
    hint: Option<String>,
    /// Whether the message already names the key whose value failed.
    named: bool,
    /// What was found, in the user's words, when this is a type mismatch.
    found: Option<String>,
    /// Already reported, or only a consequence of a reported error: say nothing.
    silent: bool,
    /// The field a struct missed.
    missing: Option<&'static str>,
}

impl DeError {
    fn new(loc: Option<Loc>, message: String, hint: Option<String>) -> Self {
        Self {
            loc,
            message,
            hint,
            named: false,
            found: None,
            silent: false,
            missing: None,
        }
    }

    fn at(mut self, loc: Loc) -> Self {
        self.loc.get_or_insert(loc);
        self
    }

    fn silenced(mut self) -> Self {
        self.silent = true;
        self
    }

    /// Names the key whose value failed, once, at the innermost level; a mismatch right
    /// at a field we know gets that field's own description of what it holds.
    fn named(mut self, key: &str, value: &Node) -> Self {
        if self.named {
            return self;
        }
        if let (Some(found), Some(expected), true) = (&self.found, field_expectation(key), self.loc == Some(value.loc))
        {
            self.message = format!("expected {expected}, found {found}");
            self.hint = Some(hint_for(expected, value));
        }
        self.message = format!("`{key}`: {}", self.message);
        self.named = true;
        self
    }

    /// `node` is not `what`.
    fn expected(node: &Node, what: &str) -> Self {
        let found = found(node);
        Self {
            found: Some(found.clone()),
            ..Self::new(
                Some(node.loc),
                format!("expected {what}, found {found}"),
                Some(hint_for(what, node)),
            )
        }
    }

    pub fn into_diagnostic(self, fallback: Loc) -> Diagnostic {
        let loc = self.loc.unwrap_or(fallback);
        let hint = self.hint.unwrap_or_else(|| GENERIC_HINT.to_string());
        Diagnostic::error(loc, self.message).with_hint(hint)
    }
}

const GENERIC_HINT: &str = "`workergen schema` writes the JSON Schemas that list every field and its type";

/// What a field holds, in the user's words, for the fields whose type alone says too little.
fn field_expectation(key: &str) -> Option<&'static str> {
    Some(match key {
        "workerPools" => "a list of pool names",
        "serverCommsAddresses" => "a list of polling URLs",
        "accessModes" => "a list of access modes",
        "tolerations" => "a list of tolerations",
        "nodeSelector" | "annotations" | "labels" => "a map of names to text values",
        "requests" | "limits" => "a map of resources to quantities, such as `cpu: 500m`",
        "size" => QUANTITY,
        // The agent opens at least one polling connection (its type refuses 0).
        "pollingConnectionCount" => "a whole number from 1 to 4294967295",
        key if key.ends_with("Secret") => "the name of a Secret",
        _ => return None,
    })
}

/// How to fix a value that is not `what`.
fn hint_for(what: &str, node: &Node) -> String {
    let scalar = !matches!(node.value, Value::Seq(_) | Value::Map(_));
    if what.starts_with("a list") {
        "write a list: `[a, b]`, or one `- item` per line below the key".into()
    } else if what.starts_with("a map") {
        "write `key: value` pairs, indented below the key".into()
    } else if what.starts_with("a whole number") {
        "write the number without quotes or units, e.g. `2`".into()
    } else if what.starts_with("a number") {
        "write the number without quotes, e.g. `1.5`".into()
    } else if what.starts_with("`true`") {
        "write `true` or `false` without quotes".into()
    } else if what.starts_with("a Kubernetes quantity") {
        "a number of cores or bytes, optionally with a unit: `m`, `k`, `M`, `G`, `Ki`, `Mi`, `Gi`".into()
    } else if what.starts_with("the name of") {
        "write the name on one line, e.g. `octopus-worker-token`".into()
    } else if what == "text" && scalar {
        "quote the value to keep it as text, e.g. `\"true\"`".into()
    } else if what == "text" {
        "write a single value here, not a list or a map".into()
    } else {
        GENERIC_HINT.into()
    }
}

/// What `node` is, in the user's words, quoting short scalars.
fn found(node: &Node) -> String {
    match &node.value {
        Value::Null => "an empty value (`null`)".into(),
        Value::Bool(value) => format!("`{value}`"),
        Value::Int(value) => format!("the number `{value}`"),
        Value::Float(text) => format!("the number `{}`", quoted(text)),
        Value::Str(text) => format!("the text `{}`", quoted(text)),
        Value::Seq(_) => "a list".into(),
        Value::Map(_) => "a map".into(),
    }
}

/// `text`, cut to a readable length and kept on one line.
fn quoted(text: &str) -> String {
    let mut cut: String = text
        .chars()
        .take(MAX_QUOTED)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > MAX_QUOTED {
        cut.push('…');
    }
    cut
}

/// "a whole number from 0 to 4294967295"; only "a whole number" when any fits.
fn whole_number(min: i128, max: i128) -> String {
    if min <= i64::MIN.into() && max >= i64::MAX.into() {
        "a whole number".into()
    } else {
        format!("a whole number from {min} to {max}")
    }
}

/// A serde expectation ("u32", "a sequence", "struct Toleration") in the user's words.
fn user_expectation(expected: &str) -> String {
    let range = whole_number;
    match expected {
        "u8" => range(0, u8::MAX.into()),
        "u16" => range(0, u16::MAX.into()),
        "u32" => range(0, u32::MAX.into()),
        // `pollingConnectionCount`: zero is refused by the type, so the range says so.
        "a nonzero u32" => range(1, u32::MAX.into()),
        "u64" => range(0, u64::MAX.into()),
        "i8" => range(i8::MIN.into(), i8::MAX.into()),
        "i16" => range(i16::MIN.into(), i16::MAX.into()),
        "i32" => range(i32::MIN.into(), i32::MAX.into()),
        "i64" => range(i64::MIN.into(), i64::MAX.into()),
        "f32" | "f64" => "a number".into(),
        "a string" | "string" | "a borrowed string" => "text".into(),
        "a boolean" => "`true` or `false`".into(),
        "a sequence" => "a list".into(),
        "Quantity" => QUANTITY.into(),
        "IntOrString" => "a number or a name".into(),
        other if other.starts_with("struct ") || other.starts_with("a map") || other == "map" => "a map".into(),
        other => other.into(),
    }
}

const QUANTITY: &str = "a Kubernetes quantity such as `500m` or `2Gi`";

/// A serde `Unexpected` in the user's words.
fn user_found(unexpected: de::Unexpected<'_>) -> String {
    use de::Unexpected;
    match unexpected {
        Unexpected::Bool(value) => format!("`{value}`"),
        Unexpected::Unsigned(value) => format!("the number `{value}`"),
        Unexpected::Signed(value) => format!("the number `{value}`"),
        Unexpected::Float(value) => format!("the number `{value}`"),
        Unexpected::Char(value) => format!("the text `{value}`"),
        Unexpected::Str(text) => format!("the text `{}`", quoted(text)),
        Unexpected::Unit | Unexpected::Option => "an empty value (`null`)".into(),
        Unexpected::Seq => "a list".into(),
        Unexpected::Map => "a map".into(),
        Unexpected::Other(other) => other.into(),
        _ => "another kind of value".into(),
    }
}

fn error_from_serde(expected: &dyn de::Expected, found: String) -> DeError {
    let expected = user_expectation(&expected.to_string());
    let hint = match expected.as_str() {
        "a list" => "write a list: `[a, b]`, or one `- item` per line below the key",
        "a map" => "write `key: value` pairs, indented below the key",
        QUANTITY => "a number of cores or bytes, optionally with a unit: `m`, `k`, `M`, `G`, `Ki`, `Mi`, `Gi`",
        image if image.starts_with("`repository:tag`") => {
            "write e.g. `octopusdeploy/worker-tools:6.5.0-ubuntu.22.04`, or the object form with `repository`, `tag` and `pullPolicy`"
        }
        _ => GENERIC_HINT,
    };
    DeError {
        found: Some(found.clone()),
        ..DeError::new(None, format!("expected {expected}, found {found}"), Some(hint.into()))
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
        Self::new(None, message.to_string(), None)
    }

    fn invalid_type(unexpected: de::Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        error_from_serde(expected, user_found(unexpected))
    }

    fn invalid_value(unexpected: de::Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        error_from_serde(expected, user_found(unexpected))
    }

    fn invalid_length(length: usize, expected: &dyn de::Expected) -> Self {
        error_from_serde(expected, format!("{length} items"))
    }

    fn missing_field(field: &'static str) -> Self {
        Self {
            missing: Some(field),
            ..Self::new(
                None,
                format!("`{field}` is required here"),
                Some(format!("add `{field}`, or remove the whole entry")),
            )
        }
    }

    fn duplicate_field(field: &'static str) -> Self {
        Self::new(
            None,
            format!("`{field}` is given twice"),
            Some("keep one of them".into()),
        )
    }
}

/// Reads `node` as a `T`. Unknown keys and type errors are pushed to `diagnostics`, all
/// of them; `None` is returned when there was any type error.
pub fn from_node<T: DeserializeOwned>(node: &Node, diagnostics: &mut Vec<Diagnostic>) -> Option<T> {
    let (value, clean) = read(node, &RefCell::new(Vec::new()), diagnostics);
    value.filter(|_| clean)
}

/// Like [`from_node`], but a map entry that holds a type error reads as absent instead of
/// failing the whole read: the caller keeps the fields that are right, and the rules that
/// need a failed field stay silent (it is reported already).
pub fn from_node_partial<T: DeserializeOwned>(node: &Node, diagnostics: &mut Vec<Diagnostic>) -> Option<T> {
    read(node, &RefCell::new(Vec::new()), diagnostics).0
}

/// Reads `node` as a `T` like [`from_node_partial`], and turns every scalar that `T` reads as
/// text (a `String` field, a Kubernetes quantity) into a string node of its text as
/// written: `tag: 9.20` becomes the string "9.20", written quoted, which Helm reads as
/// the same text.
pub fn from_node_keeping_text<T: DeserializeOwned>(node: &mut Node, diagnostics: &mut Vec<Diagnostic>) -> Option<T> {
    let texts = RefCell::new(Vec::new());
    let value = read(node, &texts, diagnostics).0;
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
        Value::Map(map) => map.values_mut().for_each(|child| keep_text(child, texts)),
        _ => {}
    }
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

/// What one pass collects, shared by every level of the read.
struct State<'a> {
    unknown: RefCell<Vec<Diagnostic>>,
    errors: RefCell<Vec<DeError>>,
    /// The value nodes (by address) of the innermost map entries that held an error.
    failed: RefCell<Vec<usize>>,
    /// The value nodes that this pass reads as absent.
    skip: &'a HashSet<usize>,
    /// The addresses of the non-string scalars read as text.
    texts: &'a RefCell<Vec<usize>>,
}

fn address(node: &Node) -> usize {
    std::ptr::from_ref::<Node>(node) as usize
}

/// The passes of one read: the value (partial when entries were skipped), and whether
/// the node read without a type error.
fn read<T: DeserializeOwned>(
    node: &Node,
    texts: &RefCell<Vec<usize>>,
    diagnostics: &mut Vec<Diagnostic>,
) -> (Option<T>, bool) {
    let mut skip = HashSet::new();
    let mut errors: Vec<DeError> = Vec::new();
    let mut unknown: Vec<Diagnostic> = Vec::new();
    // Later passes find again what earlier ones found: keep each once, in linear time.
    let mut seen_errors: HashSet<(Option<Loc>, String)> = HashSet::new();
    let mut seen_unknown: HashSet<Diagnostic> = HashSet::new();
    let mut value = None;
    for _ in 0..MAX_PASSES {
        let state = State {
            unknown: RefCell::new(Vec::new()),
            errors: RefCell::new(Vec::new()),
            failed: RefCell::new(Vec::new()),
            skip: &skip,
            texts,
        };
        let result = T::deserialize(NodeDe { node, state: &state });
        let mut pass_errors = state.errors.into_inner();
        let result = result.map_err(|error| {
            if !error.silent {
                pass_errors.push(error.at(node.loc));
            }
        });
        for diagnostic in state.unknown.into_inner() {
            if seen_unknown.insert(diagnostic.clone()) {
                unknown.push(diagnostic);
            }
        }
        let clean = pass_errors.is_empty() && result.is_ok();
        for error in pass_errors {
            if seen_errors.insert((error.loc, error.message.clone())) {
                errors.push(error);
            }
        }
        let failed = state.failed.into_inner();
        let before = skip.len();
        skip.extend(failed);
        value = result.ok();
        if clean || skip.len() == before {
            break;
        }
    }
    let no_errors = errors.is_empty();
    diagnostics.extend(unknown);
    diagnostics.extend(errors.into_iter().map(|error| error.into_diagnostic(node.loc)));
    (value, no_errors)
}

fn unknown_key(key: &Key, fields: &'static [&'static str]) -> Option<Diagnostic> {
    if crate::decl::is_plaintext_key(&key.name) {
        // Reported, with a better hint, by the plaintext credential check.
        return None;
    }
    let diagnostic = Diagnostic::error(key.loc, format!("unknown key `{}`", key.name));
    // A retired field is an error of its own where it is written: never a suggestion.
    let fields: Vec<&str> = fields
        .iter()
        .copied()
        .filter(|field| !crate::decl::RETIRED_FIELDS.contains(field))
        .collect();
    let hint = match did_you_mean(&key.name, fields.iter().copied()) {
        Some(close) => Some(format!("did you mean `{close}`?")),
        None if fields.len() <= 16 => Some(format!(
            "expected one of {}",
            fields.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
        )),
        None => None,
    };
    Some(diagnostic.with_hint_opt(hint))
}

struct NodeDe<'a> {
    node: &'a Node,
    state: &'a State<'a>,
}

impl<'a> NodeDe<'a> {
    fn child(&self, node: &'a Node) -> Self {
        Self {
            node,
            state: self.state,
        }
    }

    /// The node as text, if it is a scalar other than `null`; a number or boolean read
    /// this way is remembered for [`keep_text`].
    fn text(&self) -> Option<Cow<'a, str>> {
        if let Value::Str(text) = &self.node.value {
            return Some(Cow::Borrowed(text));
        }
        let text = as_text(self.node)?;
        self.state.texts.borrow_mut().push(address(self.node));
        Some(text)
    }

    /// The entries a map or struct reads: `null` values are removals, and entries that
    /// failed in an earlier pass read as absent.
    fn present(&self, entry: &(Key, Node)) -> bool {
        !entry.1.is_null() && !self.state.skip.contains(&address(&entry.1))
    }

    /// Reports that the node is not `what`, and reads `neutral` instead so the read goes
    /// on and finds the other errors; the value read is never used as the user's.
    fn mismatch<'de, V: Visitor<'de>>(
        &self,
        what: &str,
        visitor: V,
        neutral: impl FnOnce(V) -> Result<V::Value, DeError>,
    ) -> Result<V::Value, DeError> {
        self.state.errors.borrow_mut().push(DeError::expected(self.node, what));
        neutral(visitor).map_err(DeError::silenced)
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
    ($($method:ident: $type:ty),*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            match self.node.value {
                Value::Int(value) if <$type>::try_from(value).is_ok() => {
                    visitor.visit_i64(value).map_err(|e: DeError| e.at(self.node.loc))
                }
                _ => {
                    let what = whole_number(<$type>::MIN.into(), <$type>::MAX.into());
                    self.mismatch(&what, visitor, |visitor| visitor.visit_i64(0))
                }
            }
        })*
    };
}

/// Nothing: what a failed list or map reads as while the read goes on.
fn empty_seq() -> de::value::SeqDeserializer<std::iter::Empty<()>, DeError> {
    de::value::SeqDeserializer::new(std::iter::empty())
}

fn empty_map() -> de::value::MapDeserializer<'static, std::iter::Empty<((), ())>, DeError> {
    de::value::MapDeserializer::new(std::iter::empty())
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
                entries: map
                    .entries()
                    .iter()
                    .filter(|entry| self.present(entry))
                    .collect::<Vec<_>>()
                    .into_iter(),
                value: None,
            }),
        };
        result.map_err(|e| e.at(loc))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.value {
            Value::Bool(value) => visitor.visit_bool(value),
            _ => self.mismatch("`true` or `false`", visitor, |visitor| visitor.visit_bool(false)),
        }
    }

    integer!(deserialize_i8: i8, deserialize_i16: i16, deserialize_i32: i32, deserialize_i64: i64, deserialize_u8: u8, deserialize_u16: u16, deserialize_u32: u32, deserialize_u64: u64);

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Int(value) => visitor.visit_i64(*value),
            Value::Float(text) => match text.parse::<f64>() {
                Ok(value) => visitor.visit_f64(value),
                Err(_) => self.mismatch("a number", visitor, |visitor| visitor.visit_f64(0.0)),
            },
            _ => self.mismatch("a number", visitor, |visitor| visitor.visit_f64(0.0)),
        }
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        // Scalars read as the text written: `tag: 9.20` is the string "9.20".
        match self.text() {
            Some(text) => visitor.visit_str(&text).map_err(|e: DeError| e.at(self.node.loc)),
            None => self.mismatch("text", visitor, |visitor| visitor.visit_str("")),
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
            _ => self.mismatch("an empty value (`null`)", visitor, Visitor::visit_unit),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Seq(_) => self.deserialize_any(visitor),
            _ => self.mismatch("a list", visitor, |visitor| visitor.visit_seq(empty_seq())),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Map(_) => self.deserialize_any(visitor),
            _ => self.mismatch("a map", visitor, |visitor| visitor.visit_map(empty_map())),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let Value::Map(map) = &self.node.value else {
            return self.mismatch("a map", visitor, |visitor| visitor.visit_map(empty_map()));
        };
        let mut known = Vec::with_capacity(map.entries().len());
        let mut skipped = Vec::new();
        for entry in map.entries() {
            if !fields.contains(&entry.0.name.as_str()) {
                if let Some(diagnostic) = unknown_key(&entry.0, fields) {
                    self.state.unknown.borrow_mut().push(diagnostic);
                }
            } else if self.present(entry) {
                known.push(entry);
            } else if !entry.1.is_null() {
                skipped.push(entry.0.name.as_str());
            }
        }
        let loc = self.node.loc;
        visitor
            .visit_map(MapAccess {
                de: &self,
                entries: known.into_iter(),
                value: None,
            })
            .map_err(|e| {
                // A field missing only because its failed value was skipped: said already.
                let skipped_field = e.missing.is_some_and(|field| skipped.contains(&field));
                let e = e.at(loc);
                if skipped_field {
                    e.silenced()
                } else {
                    e
                }
            })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let first = variants.first().copied().unwrap_or_default();
        let neutral = |visitor: V| visitor.visit_enum(first.into_deserializer());
        match &self.node.value {
            Value::Str(text) if variants.contains(&text.as_str()) => {
                visitor.visit_enum(text.as_str().into_deserializer())
            }
            Value::Str(text) => {
                let hint = match did_you_mean(text, variants.iter().copied()) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => "write one of the values listed, spelled exactly (case matters)".into(),
                };
                let listed = variants.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ");
                self.state.errors.borrow_mut().push(DeError::new(
                    Some(self.node.loc),
                    format!("`{}` is not one of {listed}", quoted(text)),
                    Some(hint),
                ));
                neutral(visitor).map_err(DeError::silenced)
            }
            _ => self.mismatch("text", visitor, neutral),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, DeError> {
        // A Kubernetes quantity is text (`cpu: 1.10` is "1.10"): Helm would read a number
        // as a 64-bit float and write it back in its own way.
        if name == "Quantity" {
            let scalar = matches!(self.node.value, Value::Str(_) | Value::Int(_) | Value::Float(_));
            if let Some(text) = self.text().filter(|_| scalar) {
                let text: de::value::StringDeserializer<DeError> = text.into_owned().into_deserializer();
                return visitor.visit_newtype_struct(text).map_err(|e| e.at(self.node.loc));
            }
            let neutral = |visitor: V| visitor.visit_newtype_struct("0".into_deserializer());
            return self.mismatch(QUANTITY, visitor, neutral);
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
        let state = self.de.state;
        let (errors_before, failed_before) = (state.errors.borrow().len(), state.failed.borrow().len());
        let result = seed
            .deserialize(self.de.child(value))
            .map_err(|e| e.at(value.loc).named(&key.name, value));
        let mut errors = state.errors.borrow_mut();
        for error in &mut errors[errors_before..] {
            *error = std::mem::replace(error, <DeError as de::Error>::custom("")).named(&key.name, value);
        }
        // The innermost entry that holds an error is read as absent in the next pass.
        let failed_here = errors.len() > errors_before || result.is_err();
        if failed_here && state.failed.borrow().len() == failed_before {
            state.failed.borrow_mut().push(address(value));
        }
        result
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
        assert_eq!(diagnostics[0].message, "`name`: expected text, found a list");
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

    // Every type error of a fragment in one run, each with a hint, in the
    // user's words.
    #[test]
    fn collects_every_type_error_with_hints() {
        let (value, diagnostics) = read::<Sample>("workerPools: Build\ncount: abc\ninner: {name: [x]}\n");
        assert!(value.is_none());
        let messages: Vec<_> = diagnostics
            .iter()
            .map(|d| (d.loc.unwrap().line, d.message.clone(), d.hint.is_some()))
            .collect();
        assert_eq!(
            messages,
            vec![
                (
                    1,
                    "`workerPools`: expected a list of pool names, found the text `Build`".into(),
                    true
                ),
                (
                    2,
                    "`count`: expected a whole number from 0 to 4294967295, found the text `abc`".into(),
                    true
                ),
                (3, "`name`: expected text, found a list".into(), true),
            ]
        );
    }

    #[test]
    fn out_of_range_numbers_say_the_range() {
        let (_, diagnostics) = read::<Sample>("count: -1\n");
        assert_eq!(
            diagnostics[0].message,
            "`count`: expected a whole number from 0 to 4294967295, found the number `-1`"
        );
    }

    #[test]
    fn a_partial_read_keeps_the_fields_that_are_right() {
        let node = parse("workerPools: [a]\ncount: [1]\n", FileId(0), Limits::default()).unwrap();
        let mut diagnostics = Vec::new();
        let value: Sample = from_node_partial(&node, &mut diagnostics).unwrap();
        assert_eq!(value.worker_pools, Some(vec!["a".to_string()]));
        assert_eq!(value.count, None);
        assert_eq!(diagnostics.len(), 1);
        assert!(from_node::<Sample>(&node, &mut Vec::new()).is_none());
    }

    #[test]
    fn null_map_values_are_removals_at_every_depth() {
        use k8s_openapi::api::core::v1::ResourceRequirements;
        let (value, diagnostics) =
            read::<ResourceRequirements>("requests: {cpu: null, memory: 1Gi}\nlimits: {memory: null}\n");
        assert_eq!(diagnostics, Vec::new());
        let value = value.unwrap();
        assert_eq!(value.requests.unwrap().keys().collect::<Vec<_>>(), ["memory"]);
        assert!(value.limits.unwrap().is_empty());
        let (value, diagnostics) = read::<std::collections::BTreeMap<String, String>>("pool: null\nzone: a\n");
        assert_eq!(diagnostics, Vec::new());
        assert_eq!(value.unwrap().len(), 1);
    }

    #[test]
    fn quantities_of_the_wrong_type_say_what_a_quantity_is() {
        use k8s_openapi::api::core::v1::ResourceRequirements;
        let (value, diagnostics) = read::<ResourceRequirements>("requests: {cpu: [1], memory: {a: b}}\n");
        assert!(value.is_none());
        let messages: Vec<_> = diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "`cpu`: expected a Kubernetes quantity such as `500m` or `2Gi`, found a list",
                "`memory`: expected a Kubernetes quantity such as `500m` or `2Gi`, found a map"
            ]
        );
        assert!(diagnostics.iter().all(|d| d.hint.is_some()));
    }
}
