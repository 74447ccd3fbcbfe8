//! [`Node`] tree to YAML text, byte for byte the same for the same tree.
//!
//! Keys are sorted, indentation is two spaces, and strings are quoted whenever a
//! YAML 1.1 or 1.2 reader (Helm, kubectl, Argo CD, Flux) could read them as anything
//! but the same string. Inside quotes, every character a reader may not take raw, or
//! would take for a line break, is escaped; a key too long to be a YAML implicit key
//! is written as an explicit `? ` key, which every reader takes whatever its length.

use super::{Node, Value};

/// Renders `node` as a block-style YAML document (no `---`), ending with a newline.
pub fn emit(node: &Node) -> String {
    emit_after(String::new(), node)
}

/// [`emit`] written after `head` (a rendered file's marker line), in one string.
///
/// The document is written into a buffer each thread keeps, then copied once into a
/// string of its exact size: grown from nothing, each of the 33,000 files of a
/// 10,000-worker render was reallocated (and copied) about ten times, into up to twice
/// the memory it needs.
pub(crate) fn emit_after(head: String, node: &Node) -> String {
    thread_local! {
        static BUFFER: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    BUFFER.with_borrow_mut(|out| {
        out.clear();
        out.push_str(&head);
        match &node.value {
            Value::Map(map) if !map.is_empty() => emit_map_entries(out, node, 0),
            Value::Seq(items) if !items.is_empty() => emit_seq_items(out, node, 0),
            _ => {
                push_scalar(out, node);
                out.push('\n');
            }
        }
        out.as_str().to_owned()
    })
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
    if map.entries().is_sorted_by(|a, b| a.0.name <= b.0.name) {
        // Already in key order (the built-in objects are built so): no sorted copy.
        for (key, child) in map.entries() {
            emit_entry(out, key, child, level);
        }
        return;
    }
    let mut entries: Vec<_> = map.entries().iter().collect();
    entries.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    for (key, child) in entries {
        emit_entry(out, key, child, level);
    }
}

/// One `key: value` of a map, at `level`.
fn emit_entry(out: &mut String, key: &super::Key, child: &Node, level: usize) {
    indent(out, level);
    // Written in place (no string per key); the rare long key moves behind `? `.
    let start = out.len();
    push_quoted(out, &key.name);
    if out.len() - start > MAX_IMPLICIT_KEY && out[start..].chars().count() > MAX_IMPLICIT_KEY {
        out.insert_str(start, "? ");
        out.push('\n');
        indent(out, level);
    }
    out.push(':');
    emit_child(out, child, level);
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
                // Written in place: the entries' indentation is cut from the first (a key
                // never starts with a space: it is plain from a letter, `/`, `_`, or quoted).
                out.push(' ');
                let start = out.len();
                emit_map_entries(out, item, level + 1);
                let spaces = out[start..].len() - out[start..].trim_start_matches(' ').len();
                out.drain(start..start + spaces);
            }
            Value::Seq(items) if !items.is_empty() => {
                out.push('\n');
                emit_seq_items(out, item, level + 1);
            }
            _ => {
                out.push(' ');
                push_scalar(out, item);
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
            push_scalar(out, child);
            out.push('\n');
        }
    }
}

/// Writes a scalar (or an empty collection) in place: render emits every file through
/// here, so no string is made per value: one per value of 10,000 workers is millions.
fn push_scalar(out: &mut String, node: &Node) {
    match &node.value {
        Value::Null => out.push_str("null"),
        Value::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
        Value::Int(value) => {
            use std::fmt::Write as _;
            let _ = write!(out, "{value}");
        }
        Value::Float(text) => out.push_str(text),
        Value::Str(text) => push_quoted(out, text),
        Value::Seq(_) => out.push_str("[]"),
        Value::Map(_) => out.push_str("{}"),
    }
}

/// The longest key written as `key: value`. YAML allows 1024 characters for an implicit
/// key; readers count them differently, so we stay well below.
const MAX_IMPLICIT_KEY: usize = 1000;

/// Words that some YAML reader takes for a boolean or null.
const RESERVED: &[&str] = &["y", "yes", "n", "no", "on", "off", "true", "false", "null", "~", ""];

fn plain_is_safe(text: &str) -> bool {
    // One pass over the bytes (every character allowed plain is ASCII): render quotes
    // every key and string through here, so a scan per character class would be paid
    // millions of times.
    let bytes = text.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == b'/' || first == b'_') || matches!(last, b':' | b' ') {
        return false;
    }
    if bytes.len() <= 5 && RESERVED.iter().any(|word| word.eq_ignore_ascii_case(text)) {
        return false;
    }
    // `#` is never plain, so ` #` needs no check of its own; `: ` and `, ` do.
    let mut previous = 0u8;
    for &byte in bytes {
        if !PLAIN_BYTES[usize::from(byte)] || (byte == b' ' && matches!(previous, b':' | b',')) {
            return false;
        }
        previous = byte;
    }
    true
}

/// The bytes a plain scalar may hold, all ASCII: letters, digits and `_-./:@=+ ,`. A
/// table: the emitter asks for every byte of every key and string, so the answer is
/// one load.
const PLAIN_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut index = 0;
    while index < table.len() {
        let byte = index as u8;
        table[index] = byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'_' | b'-' | b'.' | b'/' | b':' | b'@' | b'=' | b'+' | b' ' | b','
            );
        index += 1;
    }
    table
};

/// Writes `text` plain when that is safe, else double-quoted.
fn push_quoted(out: &mut String, text: &str) {
    if plain_is_safe(text) {
        out.push_str(text);
        return;
    }
    out.reserve(text.len() + 2);
    out.push('"');
    // Most quoted text is printable ASCII without `"` or `\` (`"512Mi"`, `"1.0"`):
    // copied whole, not character by character, which is most of the quoting done.
    if text
        .bytes()
        .all(|byte| matches!(byte, b' '..=b'~') && byte != b'"' && byte != b'\\')
    {
        out.push_str(text);
    } else {
        push_escaped(out, text);
    }
    out.push('"');
}

/// The inside of a double-quoted scalar, escaped character by character.
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => escape(out, c),
            c => out.push(c),
        }
    }
}

/// Whether `c` must be escaped inside double quotes: controls (C0, DEL, C1 including
/// NEL), the line and paragraph separators (line breaks to YAML 1.1), the byte order
/// mark, and the non-characters (`U+FFFE` makes Go's reader refuse the whole file).
fn needs_escape(c: char) -> bool {
    let code = u32::from(c);
    c.is_control() || matches!(code, 0x2028 | 0x2029 | 0xFEFF | 0xFDD0..=0xFDEF) || code & 0xFFFE == 0xFFFE
}

fn escape(out: &mut String, c: char) {
    let code = u32::from(c);
    if code <= 0xFFFF {
        out.push_str(&format!("\\u{code:04x}"));
    } else {
        out.push_str(&format!("\\U{code:08x}"));
    }
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

    fn string(text: &str) -> Node {
        Node::string(text, crate::source::Loc::default())
    }

    #[test]
    fn quotes_every_string_a_yaml11_reader_takes_for_something_else() {
        let texts = [
            "~",
            "null",
            "Null",
            "NULL",
            "true",
            "False",
            "y",
            "Y",
            "n",
            "yes",
            "No",
            "on",
            "OFF",
            ".inf",
            "-.Inf",
            ".nan",
            "1",
            "-0",
            "0.5",
            "1e3",
            "0x1F",
            "0o17",
            "0b101",
            "0777",
            "1_000",
            "12:30",
            "190:20:30.15",
            "2001-12-14",
            "2001-12-14t21:59:43.10-05:00",
            "=",
            "<<",
            "-",
            "- a",
            "?",
            "? a",
            ":",
            "a:",
            "a: b",
            "#x",
            "a #x",
            "&a",
            "*a",
            "!t",
            "%",
            "@",
            "`",
            "'",
            "\"",
            "|",
            ">",
            "[",
            "]",
            "{",
            "}",
            ",",
            " lead",
            "trail ",
            "",
            "\t",
            "a\nb",
        ];
        for text in texts {
            let out = emit(&string(text));
            assert!(out.starts_with('"'), "{text:?} was written {out:?}");
        }
        for text in [
            "plain",
            "octopusdeploy/worker-tools:6.5.0-ubuntu.22.04",
            "Linux Workers",
            "a=b",
        ] {
            assert_eq!(emit(&string(text)), format!("{text}\n"));
        }
    }

    #[test]
    fn escapes_what_a_reader_may_not_take_raw() {
        let text = "a \u{2028} b \u{2029} c\u{85}d\u{FEFF}e\u{FFFE}f\u{FFFF}g\u{FDD0}h\u{1FFFE}i\u{10FFFF}j\u{7F}k\u{1B}l\u{9F}m";
        assert_eq!(
            emit(&string(text)),
            "\"a \\u2028 b \\u2029 c\\u0085d\\ufeffe\\ufffef\\uffffg\\ufdd0h\\U0001fffei\\U0010ffffj\\u007fk\\u001bl\\u009fm\"\n"
        );
        // What may stand raw stays raw.
        assert_eq!(emit(&string("é \u{FFFD} 😀")), "\"é \u{FFFD} 😀\"\n");
        let back = parse(&emit(&string(text)), FileId(0), Limits::default()).unwrap();
        assert_eq!(back.as_str(), Some(text));
    }

    #[test]
    fn writes_long_keys_as_explicit_keys() {
        let long = "k".repeat(1100);
        let text = format!("a:\n  ? \"{long}\"\n  : 1\n  short: 2\nb:\n  - ? \"{long}\"\n    : [x]\n    c: {{? \"{long}\" : {{d: e}}}}\n");
        let node = parse(&text, FileId(0), Limits::default()).unwrap();
        let out = emit(&node);
        let expected = format!(
            "a:\n  ? {long}\n  : 1\n  short: 2\nb:\n  - c:\n      ? {long}\n      :\n        d: e\n    ? {long}\n    :\n      - x\n"
        );
        assert_eq!(out, expected);
        let back = parse(&out, FileId(0), Limits::default()).unwrap();
        assert_eq!(emit(&back), out);
        assert_eq!(
            serde_json::to_value(&back).unwrap(),
            serde_json::to_value(&node).unwrap()
        );
        // A key that fits stays implicit.
        let fits = "k".repeat(MAX_IMPLICIT_KEY);
        assert_eq!(
            emit(&parse(&format!("{fits}: 1\n"), FileId(0), Limits::default()).unwrap()),
            format!("{fits}: 1\n")
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

    /// The rule written character by character, as clear as it gets, kept as the reference
    /// the one-pass scan must agree with.
    fn plain_is_safe_reference(text: &str) -> bool {
        let Some(first) = text.chars().next() else {
            return false;
        };
        if !(first.is_ascii_alphabetic() || first == '/' || first == '_') {
            return false;
        }
        if RESERVED.iter().any(|word| word.eq_ignore_ascii_case(text)) {
            return false;
        }
        if text.ends_with(':') || text.contains(": ") || text.contains(" #") || text.ends_with(' ') {
            return false;
        }
        text.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':' | '@' | '=' | '+' | ' ' | ',')
        }) && !text.contains(", ")
    }

    proptest::proptest! {
        /// Text copied whole inside quotes is exactly what escaping it character by
        /// character writes.
        #[test]
        fn quoted_text_is_escaped_as_character_by_character(text in "[ -~\\x{0}-\\x{1f}\\x{7f}-\\x{a0}\\x{2028}\\x{feff}\\x{fffe}]{0,12}") {
            let mut quoted = String::new();
            push_quoted(&mut quoted, &text);
            let mut escaped = String::new();
            push_escaped(&mut escaped, &text);
            if !plain_is_safe(&text) {
                proptest::prop_assert_eq!(quoted, format!("\"{escaped}\""));
            }
        }

        #[test]
        fn plain_is_safe_decides_as_the_reference_rule(text in "[a-zA-Z_/ :,#.@=+-~\\x{e9}0-9]{0,8}") {
            proptest::prop_assert_eq!(plain_is_safe(&text), plain_is_safe_reference(&text), "{:?}", text);
        }
    }

    #[test]
    fn plain_is_safe_on_edge_cases() {
        for text in [
            "", "~", "Yes", "FALSE", "nulls", "a:", "a: b", "a:b", "a #b", "a#b", "a, b", "a,b", "a ", "/x", "_y",
            "\u{e9}",
        ] {
            assert_eq!(plain_is_safe(text), plain_is_safe_reference(text), "{text:?}");
        }
    }
}
