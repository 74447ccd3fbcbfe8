//! [`Node`] tree to YAML text, byte for byte the same for the same tree.
//!
//! Keys are sorted, indentation is two spaces, and strings are quoted whenever a
//! YAML 1.1 or 1.2 reader (Helm, kubectl, Argo CD, Flux) could read them as anything
//! but the same string.

use super::{Node, Value};

/// Renders `node` as a block-style YAML document (no `---`), ending with a newline.
pub fn emit(node: &Node) -> String {
    let mut out = String::new();
    match &node.value {
        Value::Map(map) if !map.is_empty() => emit_map_entries(&mut out, node, 0),
        Value::Seq(items) if !items.is_empty() => emit_seq_items(&mut out, node, 0),
        _ => {
            out.push_str(&scalar(node));
            out.push('\n');
        }
    }
    out
}

/// A map key as YAML would need it written (quoted when it must be).
pub fn emit_plain_key(key: &str) -> String {
    quote(key)
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

fn emit_map_entries(out: &mut String, node: &Node, level: usize) {
    let Value::Map(map) = &node.value else {
        return;
    };
    let mut entries: Vec<_> = map.entries.iter().collect();
    entries.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    for (key, child) in entries {
        indent(out, level);
        out.push_str(&quote(&key.name));
        out.push(':');
        emit_child(out, child, level);
    }
}

fn emit_seq_items(out: &mut String, node: &Node, level: usize) {
    let Value::Seq(items) = &node.value else {
        return;
    };
    for item in items {
        indent(out, level);
        out.push('-');
        match &item.value {
            Value::Map(map) if !map.is_empty() => {
                // The first entry sits on the dash's line, the rest line up under it.
                let mut nested = String::new();
                emit_map_entries(&mut nested, item, level + 1);
                out.push(' ');
                out.push_str(nested.trim_start_matches(' '));
            }
            Value::Seq(items) if !items.is_empty() => {
                out.push('\n');
                emit_seq_items(out, item, level + 1);
            }
            _ => {
                out.push(' ');
                out.push_str(&scalar(item));
                out.push('\n');
            }
        }
    }
}

fn emit_child(out: &mut String, child: &Node, level: usize) {
    match &child.value {
        Value::Map(map) if !map.is_empty() => {
            out.push('\n');
            emit_map_entries(out, child, level + 1);
        }
        Value::Seq(items) if !items.is_empty() => {
            out.push('\n');
            emit_seq_items(out, child, level + 1);
        }
        _ => {
            out.push(' ');
            out.push_str(&scalar(child));
            out.push('\n');
        }
    }
}

fn scalar(node: &Node) -> String {
    match &node.value {
        Value::Null => "null".into(),
        Value::Bool(value) => value.to_string(),
        Value::Int(value) => value.to_string(),
        Value::Float(text) => text.clone(),
        Value::Str(text) => quote(text),
        Value::Seq(_) => "[]".into(),
        Value::Map(_) => "{}".into(),
    }
}

/// Words that some YAML reader takes for a boolean or null.
const RESERVED: &[&str] = &["y", "yes", "n", "no", "on", "off", "true", "false", "null", "~", ""];

fn plain_is_safe(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == '/' || first == '_') {
        return false;
    }
    if RESERVED.contains(&text.to_ascii_lowercase().as_str()) {
        return false;
    }
    if text.ends_with(':') || text.contains(": ") || text.contains(" #") || text.ends_with(' ') {
        return false;
    }
    text.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':' | '@' | '=' | '+' | ' ' | ','))
        && !text.contains(", ")
}

fn quote(text: &str) -> String {
    if plain_is_safe(text) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;
    use crate::yaml::{parse, Limits};

    fn round_trip(text: &str) -> String {
        emit(&parse(text, FileId(0), Limits::default()).unwrap())
    }

    #[test]
    fn sorts_keys_and_indents_lists() {
        let out = round_trip("b: 1\na:\n  list: [x, {k: v, a: 1}, [1, 2]]\n  empty: {}\n  none: []\n");
        assert_eq!(
            out,
            "a:\n  empty: {}\n  list:\n    - x\n    - a: 1\n      k: v\n    -\n      - 1\n      - 2\n  none: []\nb: 1\n"
        );
    }

    #[test]
    fn quotes_what_a_reader_could_misread() {
        let out = round_trip("a: \"yes\"\nb: \"1\"\nc: \"6.5.0-ubuntu\"\nd: plain/text:tag\ne: \"x: y\"\nf: \"\"\ng: \"on\"\nh: \"a\\nb\"\n");
        assert_eq!(
            out,
            "a: \"yes\"\nb: \"1\"\nc: \"6.5.0-ubuntu\"\nd: plain/text:tag\ne: \"x: y\"\nf: \"\"\ng: \"on\"\nh: \"a\\nb\"\n"
        );
    }

    #[test]
    fn emitted_text_parses_back_to_the_same_values() {
        let text = "k:\n  - {name: \"a b\", v: '#x', w: \"-1\", z: \"@x\"}\n  - \"key: v\"\n";
        let first = parse(text, FileId(0), Limits::default()).unwrap();
        let again = parse(&emit(&first), FileId(0), Limits::default()).unwrap();
        assert_eq!(emit(&first), emit(&again));
        assert_eq!(
            serde_json::to_value(&first).unwrap(),
            serde_json::to_value(&again).unwrap()
        );
    }
}
