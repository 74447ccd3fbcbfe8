//! Text to [`Node`] tree, with limits against hostile input.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};

use super::{Key, Map, Node, Value};
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, Loc};

/// Bounds on what one file may make us build.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest nesting of maps and lists.
    pub(crate) max_depth: usize,
    /// Most nodes in the tree, counting every copy an alias makes (alias bombs).
    pub(crate) max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 64,
            max_nodes: 500_000,
        }
    }
}

enum Frame {
    Seq {
        anchor: usize,
        loc: Loc,
        items: Vec<Node>,
        first_node: usize,
    },
    Map {
        anchor: usize,
        loc: Loc,
        map: Map,
        key: Option<Key>,
        /// Whether `key` is a plain `<<`, YAML 1.1's merge key (a quoted `"<<"` is a key).
        merge_key: bool,
        first_node: usize,
    },
}

struct Builder {
    file: FileId,
    /// The key path to the node being built, and whether it is under a credential key.
    credentials: crate::redact::FileSecrets,
    /// Where each value under a credential-like key stands.
    spans: Vec<crate::redact::ValueSpan>,
    /// For each open map or list, where it starts when it stands under a credential-like
    /// key: the whole collection is one value to hide, `{value: x}` as much as `x`.
    open: Vec<Option<(u32, usize)>>,
    /// Where the last scalar ended, which is where a block collection ends.
    last_end: (u32, usize),
    limits: Limits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    nodes: usize,
    root: Option<Node>,
}

/// Parses one YAML document into a tree; an empty file is a `null` node at 1:1.
///
/// The first problem (syntax, a duplicate key, a limit) is returned as a diagnostic.
pub fn parse(text: &str, file: FileId, limits: Limits) -> Result<Node, Diagnostic> {
    parse_with_credentials(text, file, limits).map(|(root, _)| root)
}

/// [`parse`], and where each value under a credential-like key stands in `text`, for
/// the excerpts of diagnostics to hide (`crate::redact`).
pub(crate) fn parse_with_credentials(
    text: &str,
    file: FileId,
    limits: Limits,
) -> Result<(Node, Vec<crate::redact::ValueSpan>), Diagnostic> {
    refuse_other_yaml_version(text, file)?;
    let mut builder = Builder {
        file,
        credentials: crate::redact::FileSecrets::new(),
        spans: Vec::new(),
        open: Vec::new(),
        last_end: (1, 0),
        limits,
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        root: None,
    };
    let mut documents = 0;
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|error| scan_error(&error, file))?;
        let loc = builder.loc(&span);
        match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(Diagnostic::error(
                        loc,
                        "a second YAML document: workergen reads one document per file",
                    )
                    .with_hint("remove the `---` and what follows, or move it to a file of its own"));
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                builder.credential_span(&span, value.is_empty());
                builder.scalar(&value, style, anchor, tag.as_deref(), loc)?;
            }
            Event::SequenceStart(anchor, tag) => {
                builder.open_credential(&span);
                builder.start(anchor, tag.as_deref(), loc, false)?;
            }
            Event::MappingStart(anchor, tag) => {
                builder.open_credential(&span);
                builder.start(anchor, tag.as_deref(), loc, true)?;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                builder.close_credential(&span);
                builder.end()?;
            }
            Event::Alias(anchor) => builder.alias(anchor, loc)?,
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
    }
    let root = builder.root.unwrap_or_else(|| Node::null(Loc::new(file, 1, 1)));
    Ok((root, builder.spans))
}

/// A `%YAML` directive for another version than 1.2, before the document: workergen
/// reads YAML 1.2 whatever it says, so `%YAML 1.1` would promise readings (`yes` as
/// true, `0777` as 511) that nothing here makes.
fn refuse_other_yaml_version(text: &str, file: FileId) -> Result<(), Diagnostic> {
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_end();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("%TAG") {
            continue;
        }
        let Some(version) = trimmed.strip_prefix("%YAML") else {
            return Ok(());
        };
        let version = version.split_whitespace().next().unwrap_or_default();
        if version != "1.2" {
            return Err(Diagnostic::error(
                Loc::new(file, to_u32(index + 1), 1),
                format!("`%YAML {version}`: workergen reads YAML 1.2 only"),
            )
            .with_hint("remove the directive (or write `%YAML 1.2`); the file is then read as YAML 1.2, where `yes` is text and `0777` is 777"));
        }
    }
    Ok(())
}

/// [`parse`] of a test's YAML as file 0 with the default limits; panics on an error.
#[cfg(test)]
pub(crate) fn parse_test(text: &str) -> Node {
    parse(text, FileId(0), Limits::default()).unwrap()
}

fn scan_error(error: &ScanError, file: FileId) -> Diagnostic {
    let marker = error.marker();
    let loc = Loc::new(file, to_u32(marker.line()), to_u32(marker.col() + 1));
    let info = error.info();
    let diagnostic = Diagnostic::error(loc, format!("invalid YAML: {info}"));
    if info.contains("tab") {
        diagnostic.with_hint("YAML indents with spaces; replace the tabs at the start of the line")
    } else {
        diagnostic
    }
}

fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

impl Builder {
    fn loc(&self, span: &Span) -> Loc {
        Loc::new(
            self.file,
            to_u32(span.start.line().max(1)),
            to_u32(span.start.col() + 1),
        )
    }

    fn count(&mut self, nodes: usize, loc: Loc) -> Result<(), Diagnostic> {
        self.nodes += nodes;
        if self.nodes > self.limits.max_nodes {
            return Err(Diagnostic::error(
                loc,
                format!("this file expands to more than {} YAML nodes", self.limits.max_nodes),
            )
            .with_hint("aliases (`*name`) copy what they refer to; nested aliases multiply quickly"));
        }
        Ok(())
    }

    /// Keeps the span of a scalar value that stands under a credential-like key (not a
    /// key, not an empty value).
    fn credential_span(&mut self, span: &Span, empty: bool) {
        let end = (to_u32(span.end.line().max(1)), span.end.col());
        if !empty {
            self.last_end = end;
        }
        if empty || self.map_awaits_key() || !self.credentials.is_under() {
            return;
        }
        self.spans.push(crate::redact::ValueSpan {
            start: (to_u32(span.start.line().max(1)), span.start.col()),
            end,
        });
    }

    /// A map or list starts at `span`: remembers where, when it is under a
    /// credential-like key.
    fn open_credential(&mut self, span: &Span) {
        let under = !self.map_awaits_key() && self.credentials.is_under();
        self.open
            .push(under.then(|| (to_u32(span.start.line().max(1)), span.start.col())));
    }

    /// A map or list ends at `span`: a flow collection at its closing bracket, a block
    /// one (whose end token takes no room) where its last scalar ended.
    fn close_credential(&mut self, span: &Span) {
        let Some(Some(start)) = self.open.pop() else {
            return;
        };
        let end = if span.start.index() == span.end.index() {
            self.last_end
        } else {
            (to_u32(span.end.line().max(1)), span.end.col())
        };
        self.last_end = end;
        if end > start {
            self.spans.push(crate::redact::ValueSpan { start, end });
        }
    }

    fn map_awaits_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }

    fn scalar(
        &mut self,
        text: &str,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        loc: Loc,
    ) -> Result<(), Diagnostic> {
        self.count(1, loc)?;
        if self.map_awaits_key() {
            if style == ScalarStyle::Plain && tag.is_none() && text != "<<" {
                refuse_non_text_key(text, loc)?;
            }
            self.credentials.enter(text);
            if let Some(Frame::Map { key, merge_key, .. }) = self.stack.last_mut() {
                *key = Some(Key {
                    name: text.to_string(),
                    loc,
                    plain: style == ScalarStyle::Plain && tag.is_none(),
                });
                *merge_key = text == "<<" && style == ScalarStyle::Plain && tag.is_none();
            }
            return Ok(());
        }
        // An empty value (`displayName: !!str`, an empty `|-`) starts where the next token
        // does, often on the next line: it is the key's, on the key's line.
        let loc = match self.stack.last() {
            Some(Frame::Map { key: Some(key), .. }) if text.is_empty() && loc.line > key.loc.line => key.loc,
            _ => loc,
        };
        let value = resolve_scalar(text, style, tag, loc)?;
        let mut node = Node::new(value, loc);
        if style == ScalarStyle::Plain && tag.is_none() {
            node.plain = Some(text.into());
        }
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), 1));
        }
        self.attach(node)
    }

    fn start(&mut self, anchor: usize, tag: Option<&Tag>, loc: Loc, is_map: bool) -> Result<(), Diagnostic> {
        if let Some(tag) = tag {
            let expected = if is_map { "map" } else { "seq" };
            if !(tag.is_yaml_core_schema() && tag.suffix == expected) {
                return Err(unsupported_tag(tag, loc));
            }
        }
        if self.map_awaits_key() {
            return Err(Diagnostic::error(
                loc,
                "a map key must be a plain value, not a map or a list",
            ));
        }
        if self.stack.len() >= self.limits.max_depth {
            return Err(Diagnostic::error(
                loc,
                format!("maps and lists nest deeper than {} levels here", self.limits.max_depth),
            ));
        }
        self.count(1, loc)?;
        let first_node = self.nodes;
        self.stack.push(if is_map {
            Frame::Map {
                anchor,
                loc,
                map: Map::default(),
                key: None,
                merge_key: false,
                first_node,
            }
        } else {
            Frame::Seq {
                anchor,
                loc,
                items: Vec::new(),
                first_node,
            }
        });
        Ok(())
    }

    fn end(&mut self) -> Result<(), Diagnostic> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let (anchor, node, first_node) = match frame {
            Frame::Seq {
                anchor,
                loc,
                items,
                first_node,
            } => (anchor, Node::new(Value::Seq(items), loc), first_node),
            Frame::Map {
                anchor,
                loc,
                map,
                first_node,
                ..
            } => (anchor, Node::new(Value::Map(map), loc), first_node),
        };
        if anchor > 0 {
            let size = self.nodes - first_node + 1;
            self.anchors.insert(anchor, (node.clone(), size));
        }
        self.attach(node)
    }

    fn alias(&mut self, anchor: usize, loc: Loc) -> Result<(), Diagnostic> {
        let Some((node, size)) = self.anchors.get(&anchor).cloned() else {
            return Err(Diagnostic::error(loc, "this alias refers to no anchor"));
        };
        if self.map_awaits_key() {
            return Err(Diagnostic::error(loc, "an alias cannot be a map key"));
        }
        self.count(size, loc)?;
        let mut node = node;
        relocate(&mut node, loc);
        self.attach(node)
    }

    fn attach(&mut self, node: Node) -> Result<(), Diagnostic> {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                map, key, merge_key, ..
            }) => {
                let key = key.take().expect("a map value follows its key");
                if *merge_key {
                    return Err(Diagnostic::error(key.loc, "YAML merge keys (`<<`) are not supported")
                        .with_hint("put shared settings in a `defaults` block: workergen layers them"));
                }
                if let Some((first, _)) = map.get_entry(&key.name) {
                    return Err(Diagnostic::error(key.loc, format!("duplicate key `{}`", key.name))
                        .with_related(first.loc, "first set here")
                        .with_hint("a key may appear once per map; remove one of the two"));
                }
                map.push(key, node);
                self.credentials.leave();
            }
        }
        Ok(())
    }
}

/// Points an alias's copy at the alias, so messages name the place that used it.
fn relocate(node: &mut Node, loc: Loc) {
    node.loc = loc;
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|item| relocate(item, loc)),
        Value::Map(map) => map.entries_mut().for_each(|(_, key_loc, item)| {
            *key_loc = loc;
            relocate(item, loc);
        }),
        _ => {}
    }
}

/// Map keys are text to workergen, and written as text; a plain key that YAML reads as a
/// number, boolean or null (`0x1F`, `1.0`, `~`, `TRUE`, `007`) is something else to every
/// other reader (Helm makes `0x1F` the key "31"): refused, with the quoted spelling.
fn refuse_non_text_key(text: &str, loc: Loc) -> Result<(), Diagnostic> {
    let yaml12 = match resolve_plain(text) {
        Value::Str(_) => None,
        Value::Null => Some("null"),
        Value::Bool(_) => Some("a boolean"),
        _ => Some("a number"),
    };
    let Some(kind) = yaml12 else {
        return Ok(());
    };
    let shown = if text.is_empty() {
        "an empty key".to_string()
    } else {
        format!("`{text}`")
    };
    Err(Diagnostic::error(
        loc,
        format!("the plain map key {shown} is {kind} to YAML, and keys are text"),
    )
    .with_hint(format!(
        "quote it, `\"{text}\":`, so every reader (Helm included) reads the same text"
    )))
}

/// A tag as it is written: the non-specific `!`, `!local`, `!!str`, `!e!x`.
fn tag_text(tag: &Tag) -> String {
    match tag.handle.as_str() {
        "" => tag.suffix.clone(),
        "!" => format!("!{}", tag.suffix),
        "!!" | "tag:yaml.org,2002:" => format!("!!{}", tag.suffix),
        handle => format!("{handle}{}", tag.suffix),
    }
}

fn unsupported_tag(tag: &Tag, loc: Loc) -> Diagnostic {
    Diagnostic::error(loc, format!("the YAML tag `{}` is not supported", tag_text(tag)))
        .with_hint("remove the tag; write strings in quotes where needed")
}

fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>, loc: Loc) -> Result<Value, Diagnostic> {
    if let Some(tag) = tag {
        if !tag.is_yaml_core_schema() {
            return Err(unsupported_tag(tag, loc));
        }
        return resolve_tagged(text, &tag.suffix, loc).unwrap_or_else(|| Err(unsupported_tag(tag, loc)));
    }
    if style != ScalarStyle::Plain {
        return Ok(Value::Str(text.to_string()));
    }
    Ok(resolve_plain(text))
}

/// A scalar with a core-schema tag, which must hold a value of its type in YAML 1.2
/// (`!!bool yes` is true to YAML 1.1 and nothing to YAML 1.2: refused, as Helm would read
/// it as the YAML 1.1 boolean). `None` for a tag that is not a scalar type.
fn resolve_tagged(text: &str, suffix: &str, loc: Loc) -> Option<Result<Value, Diagnostic>> {
    let value = resolve_plain(text);
    let fits = match suffix {
        "str" => return Some(Ok(Value::Str(text.to_string()))),
        "null" => matches!(value, Value::Null),
        "bool" => matches!(value, Value::Bool(_)),
        "int" => matches!(value, Value::Int(_)) || (matches!(value, Value::Float(_)) && !is_float(text)),
        "float" => matches!(value, Value::Int(_) | Value::Float(_)),
        _ => return None,
    };
    if fits {
        // `!!float 1` is the float 1.
        return Some(Ok(match value {
            Value::Int(_) if suffix == "float" => Value::Float(text.to_string()),
            value => value,
        }));
    }
    let noun = match suffix {
        "bool" => "a boolean",
        "int" => "an integer",
        "float" => "a number",
        _ => "null",
    };
    let mut diagnostic = Diagnostic::error(loc, format!("`!!{suffix} {text}` is not {noun} in YAML 1.2"));
    diagnostic = match (suffix, super::portable::yaml11_bool(text)) {
        ("bool", Some(value)) => diagnostic.with_hint(format!(
            "YAML 1.1 (Helm) reads `{text}` as {value}, YAML 1.2 as the text \"{text}\": write `{value}`"
        )),
        _ => diagnostic.with_hint(format!("remove the tag, or write {noun} as YAML 1.2 writes it")),
    };
    Some(Err(diagnostic))
}

/// The YAML 1.2 core schema for plain scalars.
pub(crate) fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN"
        | ".NAN" => return Value::Float(text.to_string()),
        _ => {}
    }
    if let Some(value) = resolve_int(text) {
        return value;
    }
    if is_float(text) {
        return Value::Float(text.to_string());
    }
    Value::Str(text.to_string())
}

fn resolve_int(text: &str) -> Option<Value> {
    let parsed = if let Some(hex) = text.strip_prefix("0x") {
        (!hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit())).then(|| i64::from_str_radix(hex, 16))
    } else if let Some(octal) = text.strip_prefix("0o") {
        (!octal.is_empty() && octal.chars().all(|c| c.is_digit(8))).then(|| i64::from_str_radix(octal, 8))
    } else {
        let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
        (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())).then(|| text.parse::<i64>())
    }?;
    // Out of range for 64 bits: keep it as written, as a number.
    Some(parsed.map_or_else(|_| Value::Float(text.to_string()), Value::Int))
}

fn is_float(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(index) => (&body[..index], Some(&body[index + 1..])),
        None => (body, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (mantissa, None),
    };
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = match fraction {
        Some(fraction) => digits(whole) && digits(fraction) && !(whole.is_empty() && fraction.is_empty()),
        None => !whole.is_empty() && digits(whole),
    };
    let exponent_ok = exponent.is_none_or(|exponent| {
        let exponent = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
        !exponent.is_empty() && digits(exponent)
    });
    mantissa_ok && exponent_ok && (fraction.is_some() || exponent.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::parse_test as parse_ok;

    fn parse_err(text: &str) -> Diagnostic {
        parse(text, FileId(0), Limits::default()).unwrap_err()
    }

    #[test]
    fn resolves_core_schema_scalars() {
        let node = parse_ok("a: 1\nb: \"1\"\nc: true\nd: ~\ne: 1.5\nf: yes\ng: 0x10\nh: 6.5.0\ni: 1e3\n");
        let value = |key: &str| node.get(key).unwrap().value.clone();
        assert_eq!(value("a"), Value::Int(1));
        assert_eq!(value("b"), Value::Str("1".into()));
        assert_eq!(value("c"), Value::Bool(true));
        assert_eq!(value("d"), Value::Null);
        assert_eq!(value("e"), Value::Float("1.5".into()));
        assert_eq!(value("f"), Value::Str("yes".into()));
        assert_eq!(value("g"), Value::Int(16));
        assert_eq!(value("h"), Value::Str("6.5.0".into()));
        assert_eq!(value("i"), Value::Float("1e3".into()));
    }

    #[test]
    fn keeps_line_and_column_of_every_node() {
        let node = parse_ok("workers:\n  build:\n    workerPools: [a, b]\n");
        let pools = node.get_path(["workers", "build", "workerPools"]).unwrap();
        assert_eq!((pools.loc.line, pools.loc.col), (3, 18));
        let (key, _) = node
            .get("workers")
            .unwrap()
            .as_map()
            .unwrap()
            .get_entry("build")
            .unwrap();
        assert_eq!((key.loc.line, key.loc.col), (2, 3));
    }

    #[test]
    fn refuses_other_yaml_versions_and_places_what_yaml_places_late() {
        let error = parse_err("# c\n%YAML 1.1\n---\na: yes\n");
        assert_eq!(error.message, "`%YAML 1.1`: workergen reads YAML 1.2 only");
        assert_eq!(error.loc.unwrap().line, 2);
        assert!(parse("%YAML 1.2\n---\na: 1\n", FileId(0), Limits::default()).is_ok());
        assert!(parse("a: \"%YAML 1.1\"\n", FileId(0), Limits::default()).is_ok());
        // The non-specific tag `!` is shown as written, not as `!!`.
        let error = parse_err("a: ! 12\n");
        assert!(error.message.contains("`!`"), "{}", error.message);
        // An empty value is placed on its key's line.
        for text in ["a: !!str\nb: 1\n", "a: |-\nb: 1\n", "a:\nb: 1\n"] {
            let node = parse_test(text);
            assert_eq!(node.get("a").unwrap().loc.line, 1, "{text:?}");
        }
    }

    #[test]
    fn refuses_plain_keys_yaml_reads_as_no_text() {
        for key in [
            "0x1F", "1.0", "~", "TRUE", "007", "NULL", "+1", "-0", "1e3", "null", "false", "12", ".inf",
        ] {
            let error = parse_err(&format!("a:\n  {key}: v\n"));
            assert!(
                error.message.starts_with("the plain map key"),
                "{key}: {}",
                error.message
            );
            assert_eq!((error.loc.unwrap().line, error.loc.unwrap().col), (2, 3), "{key}");
            assert!(error.hint.unwrap().contains(&format!("\"{key}\":")), "{key}");
        }
        for key in ["\"0x1F\"", "'1.0'", "a1", "v1.0", "x~", "kubernetes.io/os", "!!str 12"] {
            let text = format!("a:\n  {key}: v\n");
            assert!(parse(&text, FileId(0), Limits::default()).is_ok(), "{key}");
        }
    }

    #[test]
    fn refuses_duplicate_keys_naming_both() {
        let error = parse_err("a: 1\nb: 2\na: 3\n");
        assert_eq!(error.message, "duplicate key `a`");
        assert_eq!(error.loc.unwrap().line, 3);
        assert_eq!(error.related[0].0.line, 1);
    }

    #[test]
    fn stops_alias_bombs() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..10 {
            let prev = level - 1;
            text.push_str(&format!("a{level}: &a{level} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"));
        }
        let error = parse_err(&text);
        assert!(
            error.message.contains("more than 500000 YAML nodes"),
            "{}",
            error.message
        );
    }

    #[test]
    fn stops_deep_nesting() {
        let text = "[".repeat(100) + &"]".repeat(100);
        let error = parse_err(&text);
        assert!(error.message.contains("deeper than 64"), "{}", error.message);
    }

    #[test]
    fn aliases_copy_and_empty_is_null() {
        let node = parse_ok("a: &x {k: v}\nb: *x\n");
        assert_eq!(node.get_path(["b", "k"]).unwrap().as_str(), Some("v"));
        assert!(parse_ok("").is_null());
        assert!(parse_ok("# only a comment\n").is_null());
    }

    #[test]
    fn refuses_second_document_and_merge_keys() {
        assert!(parse_err("a: 1\n---\nb: 2\n")
            .message
            .contains("a second YAML document"));
        assert!(parse_err("a: &x {k: v}\nb:\n  <<: *x\n").message.contains("merge keys"));
    }

    #[test]
    fn a_quoted_merge_key_is_an_ordinary_key() {
        let node = parse_ok("a:\n  \"<<\": 1\n  '<<x': 2\n");
        assert_eq!(node.get_path(["a", "<<"]).unwrap().value, Value::Int(1));
        assert!(parse_err("a: {<<: {b: 1}}\n").message.contains("merge keys"));
    }

    #[test]
    fn keeps_the_text_of_plain_scalars() {
        let node = parse_ok("a: 9.20\nb: 007\nc: \"9.20\"\nd: 0x1F\ne: True\nf: !!int 7\ng: [1e3]\nh: {k: x}\n");
        let plain = |key: &str| node.get(key).unwrap().plain.as_deref().map(str::to_string);
        assert_eq!(plain("a").as_deref(), Some("9.20"));
        assert_eq!(plain("b").as_deref(), Some("007"));
        assert_eq!(node.get("b").unwrap().value, Value::Int(7));
        assert_eq!(plain("c"), None);
        assert_eq!(plain("d").as_deref(), Some("0x1F"));
        assert_eq!(plain("e").as_deref(), Some("True"));
        assert_eq!(plain("f"), None);
        assert_eq!(node.get("g").unwrap().plain, None);
        let Value::Seq(items) = &node.get("g").unwrap().value else {
            panic!("a list")
        };
        assert_eq!(items[0].plain.as_deref(), Some("1e3"));
        assert_eq!(node.get("h").unwrap().plain, None);
    }

    #[test]
    fn tagged_scalars_must_be_of_their_type() {
        let node = parse_ok("a: !!int 7\nb: !!float 1\nc: !!bool true\nd: !!str 7\ne: !!null ~\n");
        let value = |key: &str| node.get(key).unwrap().value.clone();
        assert_eq!(value("a"), Value::Int(7));
        assert_eq!(value("b"), Value::Float("1".into()));
        assert_eq!(value("c"), Value::Bool(true));
        assert_eq!(value("d"), Value::Str("7".into()));
        assert_eq!(value("e"), Value::Null);
        let error = parse_err("a: !!bool yes\n");
        assert_eq!(error.message, "`!!bool yes` is not a boolean in YAML 1.2");
        assert_eq!(
            error.hint.as_deref(),
            Some("YAML 1.1 (Helm) reads `yes` as true, YAML 1.2 as the text \"yes\": write `true`")
        );
        assert_eq!((error.loc.unwrap().line, error.loc.unwrap().col), (1, 4));
        assert!(parse_err("a: !!int abc\n").message.contains("is not an integer"));
        assert!(parse_err("a: !!null x\n").message.contains("is not null"));
        assert!(parse_err("a: !!float x\n").message.contains("is not a number"));
    }
}
