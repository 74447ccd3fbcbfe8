//! Helm's `--set` / `--set-string` grammar (Helm's `pkg/strvals`), parsed into a value tree.
//!
//! One `--set` argument holds pairs separated by commas: `a.b=c,d[0]=e,f={x,y}`.
//! A backslash makes the next character literal anywhere (`a\.b=c` is the key `a.b`,
//! `a=b\,c` the value `b,c`). `{a,b}` right after `=` is a list; `[i]` indexes a list
//! (padded with nulls up to `i`). `--set` types each scalar as Helm does: `true`/`false`
//! (any case) are booleans, `null` (any case) is null, a base-10 integer that fits in 64
//! bits and has no leading zero is an integer (`0` itself too), anything else a string;
//! `--set-string` keeps every scalar a string. An empty value (`a=`) is the empty string.
//!
//! Where Helm silently accepts input it cannot mean (an empty key, an index with nothing
//! after it) or fails with a recovered panic (`a=1,a.b=2`), we refuse with a [`SetError`].

use std::fmt;

/// The largest list index Helm accepts (`strvals.MaxIndex`).
pub const MAX_INDEX: usize = 65_536;
/// The deepest dotted name Helm accepts (`strvals.MaxNestedNameLevel`).
pub const MAX_NESTING: usize = 30;

/// A value as `--set` builds it; maps keep the order keys were first set in.
#[derive(Debug, Clone, PartialEq)]
pub enum SetValue {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<SetValue>),
    Map(SetMap),
}

/// A map of `--set` values in the order first set.
pub type SetMap = Vec<(String, SetValue)>;

/// Why a `--set` argument could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetError {
    #[error("key {key:?} has no value")]
    NoValue { key: String },
    #[error("a key in {text:?} is empty")]
    EmptyKey { text: String },
    #[error("list value of {key:?} must end with '}}'")]
    UnterminatedList { key: String },
    #[error("index {index:?} of {key:?} is not a list index from 0 to {MAX_INDEX}")]
    BadIndex { key: String, index: String },
    #[error("unexpected {found:?} after the index of {key:?} (expected '=', '.' or '[')")]
    AfterIndex { key: String, found: String },
    #[error("{key:?} is set both as {was} and as {now}")]
    Conflict {
        key: String,
        was: &'static str,
        now: &'static str,
    },
    #[error("a name in {text:?} is nested deeper than {MAX_NESTING} levels")]
    TooDeep { text: String },
}

/// How scalars are typed: `--set` infers, `--set-string` keeps strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typing {
    Infer,
    Strings,
}

/// Parses one `--set` (or `--set-string`) argument into `into`, as Helm's `ParseInto` does:
/// later pairs (and later arguments) overwrite what earlier ones set at the same key.
pub fn parse_into(text: &str, typing: Typing, into: &mut SetMap) -> Result<(), SetError> {
    let mut parser = Parser {
        chars: text.chars().collect(),
        at: 0,
        typing,
        text,
    };
    while !parser.at_end() {
        parser.pair(into)?;
    }
    Ok(())
}

/// Parses `--set` arguments (in order, each with its typing) into one map.
#[cfg(test)]
pub fn parse_all<'a>(args: impl IntoIterator<Item = (&'a str, Typing)>) -> Result<SetMap, SetError> {
    let mut map = SetMap::new();
    for (text, typing) in args {
        parse_into(text, typing, &mut map)?;
    }
    Ok(map)
}

/// How Helm types one `--set` scalar (`strvals.typedVal`).
pub fn typed(text: &str, typing: Typing) -> SetValue {
    if typing == Typing::Strings {
        return SetValue::Str(text.to_owned());
    }
    if equal_fold(text, "true") {
        return SetValue::Bool(true);
    }
    if equal_fold(text, "false") {
        return SetValue::Bool(false);
    }
    if equal_fold(text, "null") {
        return SetValue::Null;
    }
    if text == "0" {
        return SetValue::Int(0);
    }
    if !text.is_empty() && !text.starts_with('0') {
        if let Ok(int) = text.parse::<i64>() {
            return SetValue::Int(int);
        }
    }
    SetValue::Str(text.to_owned())
}

/// Whether `text` is the lowercase ASCII `word` under Unicode simple case folding, as Go's
/// `strings.EqualFold` (which Helm uses) compares: besides ASCII case, `ſ` (U+017F) folds
/// to `s` and the Kelvin sign (U+212A) to `k`, the only letters outside ASCII that fold
/// to an ASCII one.
fn equal_fold(text: &str, word: &str) -> bool {
    let folded = text.chars().map(|c| match c {
        '\u{17f}' => 's',
        '\u{212a}' => 'k',
        c => c.to_ascii_lowercase(),
    });
    folded.eq(word.chars())
}

/// One step of a key path.
enum Step {
    Name(String),
    Index(usize),
}

struct Parser<'a> {
    chars: Vec<char>,
    at: usize,
    typing: Typing,
    text: &'a str,
}

impl Parser<'_> {
    fn at_end(&self) -> bool {
        self.at >= self.chars.len()
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    /// Reads up to (and consumes) the first unescaped stop character; `None` at the end.
    fn until(&mut self, stops: &[char]) -> (String, Option<char>) {
        let mut read = String::new();
        while let Some(c) = self.peek() {
            self.at += 1;
            if stops.contains(&c) {
                return (read, Some(c));
            }
            if c == '\\' {
                // Helm drops a backslash at the very end.
                if let Some(next) = self.peek() {
                    read.push(next);
                    self.at += 1;
                }
                continue;
            }
            read.push(c);
        }
        (read, None)
    }

    /// One `path=value` pair and the comma after it.
    fn pair(&mut self, into: &mut SetMap) -> Result<(), SetError> {
        let path = self.path()?;
        let shown = shown(&path);
        let value = self.value(&shown)?;
        set(into, &path, value, &shown)
    }

    /// The key path up to and including `=`.
    fn path(&mut self) -> Result<Vec<Step>, SetError> {
        let mut path = Vec::new();
        loop {
            let (name, stop) = self.until(&['=', '[', ',', '.']);
            if name.is_empty() {
                return Err(SetError::EmptyKey {
                    text: self.text.to_owned(),
                });
            }
            path.push(Step::Name(name));
            // Helm counts the dots between names; list indexes do not nest a name.
            let names = path.iter().filter(|step| matches!(step, Step::Name(_))).count();
            if names > MAX_NESTING + 1 {
                return Err(SetError::TooDeep {
                    text: self.text.to_owned(),
                });
            }
            let mut stop = stop;
            while stop == Some('[') {
                path.push(Step::Index(self.index(&path)?));
                stop = self.after_index(&path)?;
            }
            match stop {
                Some('=') => return Ok(path),
                // A `.`: the next name follows.
                Some('.') => {}
                _ => return Err(SetError::NoValue { key: shown(&path) }),
            }
        }
    }

    fn index(&mut self, path: &[Step]) -> Result<usize, SetError> {
        let (text, stop) = self.until(&[']']);
        let bad = || SetError::BadIndex {
            key: shown(path),
            index: text.clone(),
        };
        if stop.is_none() {
            return Err(bad());
        }
        let index: i64 = text.parse().map_err(|_| bad())?;
        usize::try_from(index).ok().filter(|i| *i <= MAX_INDEX).ok_or_else(bad)
    }

    /// What follows `]`: `=`, `.` or another `[`.
    fn after_index(&mut self, path: &[Step]) -> Result<Option<char>, SetError> {
        let (text, stop) = self.until(&['[', '.', '=']);
        match stop {
            Some(stop) if text.is_empty() => Ok(Some(stop)),
            None if text.is_empty() => Err(SetError::NoValue { key: shown(path) }),
            _ => Err(SetError::AfterIndex {
                key: shown(path),
                found: text,
            }),
        }
    }

    /// The value after `=`: a `{...}` list or a scalar, with the comma that ends it.
    fn value(&mut self, key: &str) -> Result<SetValue, SetError> {
        if self.peek() != Some('{') {
            let (text, _) = self.until(&[',']);
            return Ok(typed(&text, self.typing));
        }
        self.at += 1;
        let mut items = Vec::new();
        loop {
            let (text, stop) = self.until(&[',', '}']);
            match stop {
                Some(',') => items.push(typed(&text, self.typing)),
                Some(_) => {
                    items.push(typed(&text, self.typing));
                    if self.peek() == Some(',') {
                        self.at += 1;
                    }
                    return Ok(SetValue::List(items));
                }
                None => return Err(SetError::UnterminatedList { key: key.to_owned() }),
            }
        }
    }
}

/// `a.b[0].c` for messages.
fn shown(path: &[Step]) -> String {
    let mut text = String::new();
    for step in path {
        match step {
            Step::Name(name) if text.is_empty() => text.push_str(&escape_name(name)),
            Step::Name(name) => {
                text.push('.');
                text.push_str(&escape_name(name));
            }
            Step::Index(index) => text.push_str(&format!("[{index}]")),
        }
    }
    text
}

/// A key name as it would be written in `--set` (the grammar's characters escaped).
pub fn escape_name(name: &str) -> String {
    let mut escaped = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '\\' | '.' | '[' | ']' | '=' | ',') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

impl SetValue {
    fn kind(&self) -> &'static str {
        match self {
            SetValue::Map(_) => "a map",
            SetValue::List(_) => "a list",
            _ => "a scalar",
        }
    }
}

/// Sets `value` at `path` below `map`, making maps and lists on the way.
fn set(map: &mut SetMap, path: &[Step], value: SetValue, key: &str) -> Result<(), SetError> {
    let Some((Step::Name(name), rest)) = path.split_first() else {
        unreachable!("a path starts with a name")
    };
    let slot = match map.iter().position(|(existing, _)| existing == name) {
        // Helm fails on a name set to null and then below (a recovered panic: the null is
        // no map or list to go into).
        Some(at) if map[at].1 == SetValue::Null && !rest.is_empty() => {
            return Err(SetError::Conflict {
                key: key.to_owned(),
                was: "null",
                now: if matches!(rest.first(), Some(Step::Index(_))) {
                    "a list"
                } else {
                    "a map"
                },
            })
        }
        Some(at) => &mut map[at].1,
        None => {
            map.push((name.clone(), SetValue::Null));
            let last = map.len() - 1;
            &mut map[last].1
        }
    };
    set_in(slot, rest, value, key, false)
}

/// Sets `value` at `path` below `slot`; `list_item` when `slot` is an item of a list.
fn set_in(slot: &mut SetValue, path: &[Step], value: SetValue, key: &str, list_item: bool) -> Result<(), SetError> {
    match path.first() {
        None => {
            *slot = value;
            Ok(())
        }
        Some(Step::Name(_)) => {
            make(slot, SetValue::Map(SetMap::new()), key, list_item)?;
            let SetValue::Map(map) = slot else {
                unreachable!("made a map")
            };
            set(map, path, value, key)
        }
        Some(Step::Index(index)) => {
            make(slot, SetValue::List(Vec::new()), key, false)?;
            let SetValue::List(list) = slot else {
                unreachable!("made a list")
            };
            if list.len() <= *index {
                list.resize(index + 1, SetValue::Null);
            }
            set_in(&mut list[*index], &path[1..], value, key, true)
        }
    }
}

/// Makes `slot` of `shape`'s kind: a null becomes it; a different kind is a conflict, except
/// that Helm replaces a list item that is not a map when a map is set inside it.
fn make(slot: &mut SetValue, shape: SetValue, key: &str, list_item: bool) -> Result<(), SetError> {
    let replace = list_item && matches!(shape, SetValue::Map(_));
    if *slot == SetValue::Null || (replace && !matches!(slot, SetValue::Map(_))) {
        *slot = shape;
        return Ok(());
    }
    if std::mem::discriminant(slot) == std::mem::discriminant(&shape) {
        return Ok(());
    }
    Err(SetError::Conflict {
        key: key.to_owned(),
        was: slot.kind(),
        now: shape.kind(),
    })
}

impl fmt::Display for SetValue {
    /// The value as `--set` would write it back (scalars only; lists as `{a,b}`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetValue::Null => f.write_str("null"),
            SetValue::Bool(b) => write!(f, "{b}"),
            SetValue::Int(i) => write!(f, "{i}"),
            SetValue::Str(s) => f.write_str(s),
            SetValue::List(items) => {
                let items: Vec<String> = items.iter().map(ToString::to_string).collect();
                write!(f, "{{{}}}", items.join(","))
            }
            SetValue::Map(_) => f.write_str("{...}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn set(text: &str) -> Result<SetMap, SetError> {
        parse_all([(text, Typing::Infer)])
    }

    fn s(text: &str) -> SetValue {
        SetValue::Str(text.to_owned())
    }

    fn map(entries: &[(&str, SetValue)]) -> SetValue {
        SetValue::Map(entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    #[test]
    fn dotted_keys_nest_and_merge() {
        let got = set("agent.serverUrl=https://o.example.com/,agent.space=Default").unwrap();
        let want = map(&[(
            "agent",
            map(&[("serverUrl", s("https://o.example.com/")), ("space", s("Default"))]),
        )]);
        assert_eq!(SetValue::Map(got), want);
    }

    #[test]
    fn backslash_escapes_dots_commas_and_itself() {
        let got = set(r"podAnnotations.example\.com/team=a\,b,x=c\\d").unwrap();
        let want = map(&[
            ("podAnnotations", map(&[("example.com/team", s("a,b"))])),
            ("x", s(r"c\d")),
        ]);
        assert_eq!(SetValue::Map(got), want);
    }

    #[test]
    fn braces_are_lists_and_brackets_index() {
        let got = set("agent.workerPools={Pool A,pool-b},t[1].key=k,t[1].effect=NoSchedule,n[0][1]=2").unwrap();
        let pools = SetValue::List(vec![s("Pool A"), s("pool-b")]);
        let toleration = map(&[("key", s("k")), ("effect", s("NoSchedule"))]);
        let want = map(&[
            ("agent", map(&[("workerPools", pools)])),
            ("t", SetValue::List(vec![SetValue::Null, toleration])),
            (
                "n",
                SetValue::List(vec![SetValue::List(vec![SetValue::Null, SetValue::Int(2)])]),
            ),
        ]);
        assert_eq!(SetValue::Map(got), want);
    }

    #[test]
    fn types_are_inferred_as_helm_does() {
        let cases = [
            ("TRUE", SetValue::Bool(true)),
            ("False", SetValue::Bool(false)),
            ("Null", SetValue::Null),
            ("0", SetValue::Int(0)),
            ("-12", SetValue::Int(-12)),
            ("+7", SetValue::Int(7)),
            ("007", s("007")),
            ("1.5", s("1.5")),
            ("9223372036854775808", s("9223372036854775808")),
            ("", s("")),
            ("yes", s("yes")),
            ("1e3", s("1e3")),
            // Go's `strings.EqualFold`: `ſ` is an `s`, the Kelvin sign a `k`.
            ("fal\u{17f}e", SetValue::Bool(false)),
            ("FAL\u{17f}E", SetValue::Bool(false)),
            ("tru\u{e9}", s("tru\u{e9}")),
        ];
        for (text, want) in cases {
            assert_eq!(typed(text, Typing::Infer), want, "{text:?}");
            assert_eq!(typed(text, Typing::Strings), s(text), "{text:?}");
        }
    }

    #[test]
    fn set_string_keeps_strings_and_later_args_win() {
        let got = parse_all([("a=1,b=true", Typing::Infer), ("a=1", Typing::Strings)]).unwrap();
        assert_eq!(
            got,
            vec![("a".to_owned(), s("1")), ("b".to_owned(), SetValue::Bool(true))]
        );
    }

    #[test]
    fn list_details_follow_helm() {
        assert_eq!(
            set("a={}").unwrap(),
            vec![("a".to_owned(), SetValue::List(vec![s("")]))]
        );
        assert_eq!(
            set("a={1,x},b=2").unwrap()[0].1,
            SetValue::List(vec![SetValue::Int(1), s("x")])
        );
        assert_eq!(set("a=,b=1").unwrap()[0].1, s(""));
        assert_eq!(set("a=1,").unwrap().len(), 1);
    }

    #[test]
    fn bad_input_is_refused() {
        let bad = [
            "a",
            "a,b=1",
            "=1",
            "a..b=1",
            "a={x,y",
            "a[x]=1",
            "a[-1]=1",
            "a[65537]=1",
            "a[0]x=1",
            "a[0]",
            "a=1,a.b=2",
            "a.b=1,a[0]=2",
            // Helm: a recovered panic, the null is no map (or list) to go into.
            "a=null,a.b=1",
            "a=null,a[0]=1",
        ];
        for text in bad {
            assert!(set(text).is_err(), "{text:?} parsed: {:?}", set(text));
        }
        let deep = vec!["k"; MAX_NESTING + 2].join(".") + "=1";
        assert!(matches!(set(&deep), Err(SetError::TooDeep { .. })));
        // Indexes are no nesting for Helm: 31 names with an index on each are fine.
        let indexed = vec!["k[0]"; MAX_NESTING + 1].join(".") + "=1";
        assert!(set(&indexed).is_ok(), "{:?}", set(&indexed));
        // A null then set again whole is fine, as in Helm.
        assert!(set("a=null,a=1").is_ok());
    }

    #[test]
    fn a_map_set_inside_a_scalar_list_item_replaces_it() {
        let got = set("a[0]=x,a[0].b=1").unwrap();
        assert_eq!(got[0].1, SetValue::List(vec![map(&[("b", SetValue::Int(1))])]));
    }

    fn name() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9._=,\\[\\]\\\\{} -]{1,8}"
    }

    fn scalar() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9.=,\\\\{} -]{0,10}"
    }

    fn escape_value(text: &str) -> String {
        text.chars()
            .flat_map(|c| {
                if matches!(c, '\\' | ',') {
                    vec!['\\', c]
                } else {
                    vec![c]
                }
            })
            .collect()
    }

    proptest! {
        /// Any names and values, escaped, read back as written (a value starting with `{`
        /// is escaped so it stays a scalar).
        #[test]
        fn escaped_pairs_read_back(pairs in proptest::collection::vec((name(), name(), scalar()), 1..6)) {
            let mut text = String::new();
            let mut want = SetMap::new();
            for (outer, inner, value) in &pairs {
                let mut escaped = escape_value(value);
                if escaped.starts_with('{') {
                    escaped.insert(0, '\\');
                }
                if !text.is_empty() {
                    text.push(',');
                }
                text.push_str(&format!("{}.{}={escaped}", escape_name(outer), escape_name(inner)));
                let entry = match want.iter().position(|(k, _)| k == outer) {
                    Some(at) => &mut want[at].1,
                    None => { want.push((outer.clone(), SetValue::Map(SetMap::new()))); &mut want.last_mut().unwrap().1 }
                };
                let SetValue::Map(inner_map) = entry else { unreachable!() };
                match inner_map.iter().position(|(k, _)| k == inner) {
                    Some(at) => inner_map[at].1 = SetValue::Str(value.clone()),
                    None => inner_map.push((inner.clone(), SetValue::Str(value.clone()))),
                }
            }
            prop_assert_eq!(parse_all([(text.as_str(), Typing::Strings)]).unwrap(), want);
        }

        /// Parsing never panics, whatever the input.
        #[test]
        fn never_panics(text in "[a-z0-9.=,\\[\\]{}\\\\]{0,24}") {
            let _ = set(&text);
        }

        /// Integers round-trip; `--set` never types a string with a leading zero as a number.
        #[test]
        fn integers_are_typed(int in any::<i64>(), digits in "0[0-9]{1,5}") {
            prop_assert_eq!(typed(&int.to_string(), Typing::Infer), SetValue::Int(int));
            prop_assert_eq!(typed(&digits, Typing::Infer), SetValue::Str(digits.clone()));
        }
    }
}
