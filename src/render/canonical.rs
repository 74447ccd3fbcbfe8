//! A template's output as canonical YAML, without the full parser where it can.
//!
//! Every rendered object is parsed back and emitted canonically (sorted keys, one
//! quoting style). The templates write plain block YAML: `key: value` lines, `- `
//! items, double-quoted or plain scalars, `{}` and `[]`, comments. [`block`] reads
//! exactly that subset, line by line, several times faster than `saphyr-parser`
//! (the parse-back was a quarter of `render`), and gives up (`None`) on
//! anything else (a tab, a flow collection, a single-quoted or block scalar, an anchor,
//! a tag, a duplicate key, a plain scalar with a character it does not know), so
//! the caller falls back to [`crate::yaml::parse`]. Whatever it reads, it reads to the
//! same values as the full parser (a differential test below checks random documents).

use crate::yaml::{resolve_plain, Key, Map, Node, Value};

/// One line with content: its indentation and the rest.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    indent: usize,
    text: &'a str,
}

/// The document in `text` when it is a block map or list of the subset, else `None`.
pub(crate) fn block(text: &str) -> Option<Node> {
    if text.contains(['\t', '\r']) {
        return None;
    }
    let mut lines = Vec::new();
    for raw in text.split('\n') {
        let text = raw.trim_start_matches(' ');
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        if raw.starts_with("---") || raw.starts_with("...") || raw.starts_with('%') {
            return None;
        }
        lines.push(Line {
            indent: raw.len() - text.len(),
            text,
        });
    }
    if lines.first()?.indent != 0 {
        return None;
    }
    let mut at = 0;
    let node = collection(&mut lines, &mut at, 0)?;
    (at == lines.len()).then_some(node)
}

/// The map or list whose first line is `lines[*at]`, at indentation `indent`.
fn collection(lines: &mut [Line], at: &mut usize, indent: usize) -> Option<Node> {
    let first = lines[*at].text;
    if first == "-" || first.starts_with("- ") {
        sequence(lines, at, indent)
    } else {
        map(lines, at, indent)
    }
}

fn sequence(lines: &mut [Line], at: &mut usize, indent: usize) -> Option<Node> {
    let mut items = Vec::new();
    while *at < lines.len() && lines[*at].indent == indent {
        let text = lines[*at].text;
        let rest = if text == "-" {
            ""
        } else {
            text.strip_prefix("- ")?.trim_start_matches(' ')
        };
        let item = if rest.is_empty() {
            *at += 1;
            nested(lines, at, indent)?
        } else if entry_key(rest).is_some() {
            // `- key: value`: a map whose first entry shares the dash's line.
            let column = indent + (text.len() - rest.len());
            lines[*at] = Line {
                indent: column,
                text: rest,
            };
            map(lines, at, column)?
        } else {
            *at += 1;
            scalar(rest)?
        };
        items.push(item);
    }
    ended(lines, *at, indent)?;
    Some(Node::generated(Value::Seq(items)))
}

fn map(lines: &mut [Line], at: &mut usize, indent: usize) -> Option<Node> {
    let mut map = Map::default();
    while *at < lines.len() && lines[*at].indent == indent {
        let (name, rest) = entry_key(lines[*at].text)?;
        *at += 1;
        let child = if rest.is_empty() {
            nested(lines, at, indent)?
        } else {
            scalar(rest)?
        };
        if map.get(&name).is_some() {
            return None;
        }
        map.push(Key::generated(name), child);
    }
    ended(lines, *at, indent)?;
    Some(Node::generated(Value::Map(map)))
}

/// What follows a `key:` or `-` with nothing after it: a more indented block, or null.
fn nested(lines: &mut [Line], at: &mut usize, indent: usize) -> Option<Node> {
    match lines.get(*at) {
        Some(line) if line.indent > indent => {
            let column = line.indent;
            collection(lines, at, column)
        }
        // `key:` followed by `- item` at the same indentation is valid YAML, but not ours.
        Some(line) if line.indent == indent && line.text.starts_with('-') => None,
        // Nothing: an empty plain scalar, as the full parser reads it.
        _ => Some(Node {
            plain: Some("".into()),
            ..Node::generated(Value::Null)
        }),
    }
}

/// A collection at `indent` ends where the next line is less indented (or none is left).
fn ended(lines: &[Line], at: usize, indent: usize) -> Option<()> {
    lines.get(at).is_none_or(|line| line.indent < indent).then_some(())
}

/// `key: rest` or `key:` (rest empty): the key's name and the value's text.
fn entry_key(text: &str) -> Option<(String, &str)> {
    let (name, after) = if let Some(quoted) = text.strip_prefix('"') {
        let (name, used) = double_quoted(quoted)?;
        (name, &quoted[used..])
    } else {
        let end = text.find(':')?;
        let name = &text[..end];
        if !name.chars().next().is_some_and(plain_start) || !name.chars().all(plain_char) || name.ends_with(' ') {
            return None;
        }
        // A plain key YAML reads as no text (`1:`, `true:`) is the full parser's to refuse.
        if !matches!(resolve_plain(name), Value::Str(_)) {
            return None;
        }
        (name.to_string(), &text[end..])
    };
    let after = after.strip_prefix(':')?;
    if after.is_empty() {
        return Some((name, ""));
    }
    let rest = after.strip_prefix(' ')?.trim_start_matches(' ');
    if rest.starts_with('#') {
        return None;
    }
    Some((name, rest))
}

/// A value on the rest of a line: `{}`, `[]`, a double-quoted or a plain scalar.
fn scalar(text: &str) -> Option<Node> {
    let text = text.trim_end_matches(' ');
    match text {
        "{}" => return Some(Node::generated(Value::Map(Map::default()))),
        "[]" => return Some(Node::generated(Value::Seq(Vec::new()))),
        _ => {}
    }
    if let Some(quoted) = text.strip_prefix('"') {
        let (value, used) = double_quoted(quoted)?;
        return (used == quoted.len()).then(|| Node::generated(Value::Str(value)));
    }
    let plain = text.chars().next().is_some_and(plain_start)
        && text.chars().all(plain_char)
        && !text.contains(": ")
        && !text.ends_with(':');
    plain.then(|| Node {
        plain: Some(text.into()),
        ..Node::generated(resolve_plain(text))
    })
}

/// A plain scalar's first character, of those [`block`] knows: never an indicator.
fn plain_start(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '/' | '.' | '$' | '~')
}

/// A plain scalar's other characters, of those [`block`] knows (no `#`, no quotes,
/// no brackets; a `,` is no indicator outside flow collections).
fn plain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '/' | '.' | '$' | '-' | '+' | '=' | '@' | ':' | ' ' | '~' | ',')
}

/// The text of a double-quoted scalar whose opening quote is already consumed, and the
/// bytes used including the closing quote. Only the escapes the emitter writes.
fn double_quoted(text: &str) -> Option<(String, usize)> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices();
    while let Some((index, c)) = chars.next() {
        match c {
            '"' => return Some((out, index + 1)),
            '\\' => {
                let (_, escape) = chars.next()?;
                let width = match escape {
                    '"' | '\\' | 'n' | 't' | 'r' => {
                        out.push(match escape {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            other => other,
                        });
                        continue;
                    }
                    'u' => 4,
                    'U' => 8,
                    _ => return None,
                };
                let digits: String = (0..width)
                    .map(|_| chars.next().map(|(_, c)| c))
                    .collect::<Option<_>>()?;
                if !digits.chars().all(|c| c.is_ascii_hexdigit()) {
                    return None;
                }
                out.push(char::from_u32(u32::from_str_radix(&digits, 16).ok()?)?);
            }
            c if c.is_control() => return None,
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::yaml::{emit, parse_undeclared, Limits};
    use proptest::prelude::*;

    fn full(text: &str) -> Option<Node> {
        parse_undeclared(text, crate::source::Origin::Generated, Limits::default()).ok()
    }

    /// What a test compares: the values and the plain texts, not the places.
    fn shape(node: &Node) -> String {
        format!("{}|{:?}", emit(node), collect_plain(node))
    }

    fn collect_plain(node: &Node) -> Vec<Option<String>> {
        let mut out = vec![node.plain.as_deref().map(str::to_string)];
        match &node.value {
            Value::Seq(items) => items.iter().for_each(|item| out.extend(collect_plain(item))),
            Value::Map(map) => map.entries().iter().for_each(|(key, child)| {
                out.push(Some(key.name.clone()));
                out.extend(collect_plain(child));
            }),
            _ => {}
        }
        out
    }

    #[test]
    fn reads_what_the_templates_write() {
        let text = "# comment\napiVersion: v1\nkind: HelmRelease\nmetadata:\n  name: \"w-1\"\n  labels:\n    app.kubernetes.io/managed-by: workergen\n  # inside\n  finalizers:\n    - resources-finalizer.argocd.argoproj.io\nspec:\n  sources:\n    - repoURL: registry-1.docker.io/octopusdeploy\n      helm:\n        valueFiles:\n          - \"$values/rendered/a/b/values.yaml\"\n    - ref: values\n  n: 3\n  f: 1e3\n  t: true\n  e: {}\n  l: []\n  z: ~\n  q: \"a\\\"b\\\\c\\u00e9\"\n  nested:\n    -\n      - 1\n";
        let fast = block(text).expect("the subset");
        assert_eq!(shape(&fast), shape(&full(text).unwrap()));
    }

    #[test]
    fn reads_raw_separators_in_quotes_as_the_full_parser_does() {
        for text in ["a: \"x\u{2028}y\u{2029}z\"\n", "a: \"\u{feff}x\"\n", "- \"é 😀\"\n"] {
            let fast = block(text).expect("the subset");
            assert_eq!(shape(&fast), shape(&full(text).unwrap()), "{text:?}");
        }
        assert!(block("a: \"x\u{85}\"\n").is_none(), "a raw control character");
    }

    #[test]
    fn gives_up_outside_the_subset() {
        for text in [
            "a: 'x'\n",
            "a: [1]\n",
            "a: {b: c}\n",
            "a: |\n  x\n",
            "a: &x 1\n",
            "a: !!str 1\n",
            "a: 1\na: 2\n",
            "a:\n- x\n",
            "a: b #c\n",
            "a:\tb\n",
            "? a\n: b\n",
            "---\na: 1\n",
            "a: \"\\x41\"\n",
            "  a: 1\n",
            "a: 1\n  b: 2\n",
            "plain\n",
            "a: é\n",
            "a: x # y\n",
            "a: b\n c\n",
        ] {
            assert!(block(text).is_none(), "{text:?}");
        }
    }

    /// Lines of the subset and just outside it, to stitch into documents.
    fn line() -> impl Strategy<Value = String> {
        let indent = prop::sample::select(vec!["", "  ", "    ", "      ", " ", "   "]);
        let head = prop::sample::select(vec!["", "- ", "-", "- - ", "-  "]);
        let key = prop::sample::select(vec![
            "a:", "b:", "a.b/c-d:", "\"q k\":", "\"a\":", "x: ", "y:  ", "1:", "true:", "\"\":", "a :", "-a:", "$v:",
        ]);
        let value = prop::sample::select(vec![
            "",
            " 1",
            " -1",
            " 1.5",
            " 1e3",
            " 0x1F",
            " 0o17",
            " 007",
            " yes",
            " true",
            " True",
            " null",
            " ~",
            " .inf",
            " -.Inf",
            " .nan",
            " {}",
            " []",
            " plain text",
            " a=b,c",
            " a:b",
            " $values/x",
            " \"quoted: #x\"",
            " \"esc \\n \\t \\\" \\\\ \\u00e9 \\U0001f600\"",
            " \"bad \\x\"",
            " \"raw \u{2028} \u{2029} \u{feff} é\"",
            " \"raw \u{85}\"",
            " \"unterminated",
            " 'single'",
            " a #c",
            " x ",
            " @at",
            " ~tilde",
            " a+b",
            " -",
            " - x",
        ]);
        (indent, head, key, value).prop_map(|(indent, head, key, value)| format!("{indent}{head}{key}{value}"))
    }

    /// Scalars as the templates and the `yaml` filter write them, and a few more.
    fn leaf() -> impl Strategy<Value = Node> {
        let text = prop::sample::select(vec![
            "plain",
            "a b",
            "a,b",
            "a, b",
            "x:y",
            "x: y",
            "yes",
            "1",
            "-1",
            "1e3",
            "0x1F",
            ".inf",
            "~",
            "null",
            "",
            " lead",
            "trail ",
            "a#b",
            "a #b",
            "q\"q",
            "back\\slash",
            "line\nbreak",
            "tab\there",
            "é",
            "😀",
            "\u{85}",
            "\u{2028}",
            "\u{feff}",
            "-",
            "- a",
            "$values/x",
            "@at",
            "a=b",
            "v1.2.3+build",
            "{}",
            "[]",
        ]);
        prop_oneof![
            text.prop_map(|text| Node::generated(Value::Str(text.to_string()))),
            any::<i64>().prop_map(|value| Node::generated(Value::Int(value))),
            prop::sample::select(vec!["1.5", "1e3", "-.inf", ".nan", "1.10"])
                .prop_map(|text| Node::generated(Value::Float(text.to_string()))),
            any::<bool>().prop_map(|value| Node::generated(Value::Bool(value))),
            Just(Node::generated(Value::Null)),
        ]
    }

    pub(in crate::render) fn tree() -> impl Strategy<Value = Node> {
        let key = prop::sample::select(vec![
            "a",
            "b",
            "app.kubernetes.io/name",
            "with space",
            "x:y",
            "1",
            "true",
            "",
            "#k",
            "é",
        ]);
        leaf().prop_recursive(4, 40, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(|items| Node::generated(Value::Seq(items))),
                prop::collection::btree_map(key.clone(), inner, 0..5).prop_map(|entries| {
                    let entries = entries
                        .into_iter()
                        .map(|(name, node)| (Key::generated(name), node))
                        .collect();
                    Node::generated(Value::Map(Map::from_entries(entries)))
                }),
            ]
        })
    }

    /// `text` with comment lines and trailing spaces added after the lines `marks` picks.
    fn decorate(text: &str, marks: &[u8]) -> String {
        let mut out = String::new();
        for (index, line) in text.lines().enumerate() {
            out.push_str(line);
            match marks.get(index % marks.len().max(1)).copied().unwrap_or(0) % 4 {
                1 => out.push_str("  "),
                2 => out.push_str("\n  # a comment"),
                3 => out.push('\n'),
                _ => {}
            }
            out.push('\n');
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Canonical documents, decorated like template output: where `block` reads
        /// them (it reads all but a few shapes), it reads what the full parser reads.
        #[test]
        fn agrees_on_emitted_trees(node in tree(), marks in prop::collection::vec(any::<u8>(), 1..8)) {
            prop_assume!(matches!(&node.value, Value::Map(map) if !map.is_empty()) || matches!(&node.value, Value::Seq(items) if !items.is_empty()));
            let text = decorate(&emit(&node), &marks);
            let full = full(&text).expect("emitted YAML parses");
            if let Some(fast) = block(&text) {
                prop_assert_eq!(shape(&fast), shape(&full), "{:?}", text);
            }
        }

        /// Whatever `block` reads, the full parser reads to the same values and texts.
        #[test]
        fn agrees_with_the_full_parser(lines in prop::collection::vec(line(), 1..12)) {
            let text = lines.join("\n") + "\n";
            if let Some(fast) = block(&text) {
                let full = full(&text);
                prop_assert!(full.is_some(), "the full parser refuses {text:?}");
                prop_assert_eq!(shape(&fast), shape(&full.unwrap()), "{:?}", text);
            }
        }

        /// Every canonical document is in the subset when its strings are.
        #[test]
        fn reads_canonical_output(lines in prop::collection::vec(line(), 1..12)) {
            let text = lines.join("\n") + "\n";
            if let Some(node) = full(&text).filter(|node| matches!(node.value, Value::Map(_) | Value::Seq(_))) {
                let canonical = emit(&node);
                if let Some(fast) = block(&canonical) {
                    prop_assert_eq!(emit(&fast), canonical);
                }
            }
        }
    }
}
