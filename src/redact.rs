//! Credentials never printed: which keys hold one, what a file holds under them, and how
//! an excerpted line, a message or a hint hides them.
//!
//! Two readers find them. Where a file parses, the parser does: it follows the key path
//! with [`FileSecrets`] and keeps the [`ValueSpan`] of every value at or under a
//! credential-like key ([`is_credential_key`]), and the tree's values there, aliases
//! resolved, are hidden wherever else they stand in that file (the line of an anchor
//! too). Where a file does not parse there is no tree, only text: the line scanner here
//! finds credential keys on the excerpted line itself (block or flow style, quoted or
//! not) and the lines that continue their values. Diagnostics ask [`Redactor::line`] for
//! each excerpt and [`scrub`] for each message, note and hint; nothing else decides what
//! is hidden.

use std::collections::HashMap;
use std::ops::Range;

pub(crate) use crate::source::ValueSpan;
use crate::source::{FileId, Loc, Sources};

/// The credentials of one parsed file, gathered while its tree is walked key by key:
/// every scalar at or under a credential-like key, but the remote references of
/// `secrets.externalSecret.remoteRefs`, which name places in a store.
#[derive(Debug, Default)]
pub(crate) struct FileSecrets {
    /// The keys from the root to the current node, and whether each is at or under a
    /// credential-like key.
    path: Vec<(String, bool)>,
    found: Vec<String>,
}

impl FileSecrets {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Steps down into the value of map key `key`.
    pub(crate) fn enter(&mut self, key: &str) {
        let under = self.is_under();
        // Below `secrets.externalSecret.remoteRefs`, keys name places in a store.
        let refs = self.path.len() >= REMOTE_REFS.len()
            && self
                .path
                .iter()
                .take(REMOTE_REFS.len())
                .map(|(name, _)| name.as_str())
                .eq(REMOTE_REFS);
        self.path
            .push((key.to_string(), !refs && (under || is_credential_key(key))));
    }

    /// Steps back up from the last key entered.
    pub(crate) fn leave(&mut self) {
        self.path.pop();
    }

    /// Whether the current node is at or under a credential-like key.
    pub(crate) fn is_under(&self) -> bool {
        self.path.last().is_some_and(|(_, under)| *under)
    }

    /// A scalar at the current place, as written (`text` of a string, the digits of a
    /// number): kept when it stands under a credential-like key.
    pub(crate) fn scalar(&mut self, text: &str) {
        if self.is_under() {
            self.found.extend(hidden_pieces(text));
        }
    }

    /// The credentials found, sorted, without repeats or short values (`pw` would
    /// mangle unrelated text; a credential is longer).
    pub(crate) fn finish(mut self) -> Vec<String> {
        self.found.retain(|secret| secret.chars().count() >= 3);
        self.found.sort();
        self.found.dedup();
        self.found
    }
}

/// What an excerpt of a declaration file may show: its lines with every credential
/// replaced by `<redacted>`. What each file's text says about its lines (those that
/// continue a credential's value, those that hold a remote reference) is worked out
/// once per file and kept.
pub(crate) struct Redactor<'a> {
    sources: &'a Sources,
    continuations: HashMap<FileId, Vec<bool>>,
    /// Per file, the lines that hold one remote reference of `secrets.externalSecret`
    /// ([`remote_ref_lines`]): shown, since they name places in a store, not credentials.
    remote_refs: HashMap<FileId, Vec<bool>>,
}

impl<'a> Redactor<'a> {
    pub(crate) fn new(sources: &'a Sources) -> Self {
        Self {
            sources,
            continuations: HashMap::new(),
            remote_refs: HashMap::new(),
        }
    }

    /// The texts never to print for a diagnostic at `locs` that hides `hidden` itself:
    /// those and every credential the parser found in the files of `locs`.
    pub(crate) fn hidden<'l>(&self, hidden: &[String], locs: impl IntoIterator<Item = &'l Loc>) -> Vec<String> {
        let mut all = hidden.to_vec();
        for loc in locs {
            all.extend(self.sources.secrets(loc.file).iter().cloned());
        }
        all
    }

    /// Line `loc.line` of its file with every credential on it replaced by `<redacted>`,
    /// and the caret (`loc`'s column, as a character index) moved with the text; `None`
    /// when the file has no such line. `hidden` ([`Redactor::hidden`]) is hidden wherever
    /// it stands; with `force`, so is the value after the first `:` at or after the caret,
    /// whatever its key. Each text redacted is added to `secrets`, for [`scrub`].
    pub(crate) fn line(
        &mut self,
        loc: Loc,
        force: bool,
        hidden: &[String],
        secrets: &mut Vec<String>,
    ) -> Option<(String, usize)> {
        let line = self.sources.line(loc.file, loc.line)?;
        let caret = loc.col.saturating_sub(1) as usize;
        if let Some(values) = self.sources.value_spans(loc.file) {
            // The file parsed: its parser said where every credential's value stands.
            let chars: Vec<char> = line.chars().collect();
            let mut spans: Vec<Range<usize>> = values
                .iter()
                .filter_map(|value| value.on_line(loc.line, &chars))
                .collect();
            spans.extend(hidden_spans(&chars, hidden));
            if force {
                spans.extend(value_after_colon(&chars, caret, &spans));
            }
            return Some(redact_spans(&chars, caret, spans, secrets));
        }
        // The file did not parse: the text scanner reads the line (and the lines above it).
        Some(if self.continues_credential(loc.file, loc.line) {
            let indent: String = line.chars().take_while(|c| *c == ' ' || *c == '\t').collect();
            secrets.push(line.trim().to_string());
            let shown = format!("{indent}{REDACTED}");
            let caret = caret.min(indent.chars().count());
            (shown, caret)
        } else if !force && self.is_remote_ref(loc.file, loc.line) {
            // `bearerToken: { key: octopus/worker-token }` under `remoteRefs`: no credential.
            let chars: Vec<char> = line.chars().collect();
            let found = credential_keys(&chars);
            let mut others: Vec<_> = found.iter().skip(1).map(|found| found.value.clone()).collect();
            others.extend(hidden_spans(&chars, hidden));
            redact_spans(&chars, caret, others, secrets)
        } else {
            redact_line(line, caret, force, hidden, secrets)
        })
    }

    /// Whether line `line` (1-based) of `file` is a remote reference line.
    fn is_remote_ref(&mut self, file: FileId, line: u32) -> bool {
        line_flag(&mut self.remote_refs, self.sources, file, line, remote_ref_lines)
    }

    /// Whether line `line` (1-based) of `file` continues a credential's value.
    fn continues_credential(&mut self, file: FileId, line: u32) -> bool {
        line_flag(
            &mut self.continuations,
            self.sources,
            file,
            line,
            credential_continuations,
        )
    }
}

/// What replaces a credential's value in an excerpt.
pub(crate) const REDACTED: &str = "<redacted>";

/// The flag of line `line` (1-based) of `file` in `lines`, which `find` fills once per
/// file from its text.
fn line_flag(
    lines: &mut HashMap<FileId, Vec<bool>>,
    sources: &Sources,
    file: FileId,
    line: u32,
    find: fn(&str) -> Vec<bool>,
) -> bool {
    let lines = lines.entry(file).or_insert_with(|| find(sources.text(file)));
    line.checked_sub(1)
        .and_then(|index| lines.get(index as usize))
        .copied()
        .unwrap_or(false)
}

/// `line` with the value of every credential-like key replaced by `<redacted>`, and
/// the caret (a character index) moved with the text. With `force`, the value after
/// the first `:` at or after the caret is redacted whatever the key.
fn redact_line(line: &str, caret: usize, force: bool, hidden: &[String], secrets: &mut Vec<String>) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    let mut spans: Vec<Range<usize>> = credential_keys(&chars).into_iter().map(|found| found.value).collect();
    spans.extend(hidden_spans(&chars, hidden));
    if force {
        spans.extend(value_after_colon(&chars, caret, &spans));
    }
    redact_spans(&chars, caret, spans, secrets)
}

/// For a diagnostic that hides its line's value whatever the key: the rest of the line
/// after the first `:` at or after the caret, unless a span found already starts there.
fn value_after_colon(chars: &[char], caret: usize, spans: &[Range<usize>]) -> Option<Range<usize>> {
    if spans.iter().any(|span| span.start >= caret) {
        return None;
    }
    let colon = (caret..chars.len()).find(|&index| chars[index] == ':')?;
    Some(skip_blanks(chars, colon + 1)..chars.len())
}

/// The pieces of a hidden value to look for: each of its lines, trimmed, but blank ones.
pub(crate) fn hidden_pieces(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|piece| !piece.is_empty())
        .map(String::from)
        .collect()
}

/// Where each of the `hidden` texts stands in `chars` (every occurrence).
fn hidden_spans(chars: &[char], hidden: &[String]) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    for piece in hidden {
        let piece: Vec<char> = piece.chars().collect();
        if piece.is_empty() || piece.len() > chars.len() {
            continue;
        }
        let mut at = 0;
        while at + piece.len() <= chars.len() {
            if chars[at..at + piece.len()] == piece[..] {
                spans.push(at..at + piece.len());
                at += piece.len();
            } else {
                at += 1;
            }
        }
    }
    spans
}

/// `chars` with each of `spans` replaced by `<redacted>`, and the caret moved with the text.
fn redact_spans(
    chars: &[char],
    caret: usize,
    mut spans: Vec<Range<usize>>,
    secrets: &mut Vec<String>,
) -> (String, usize) {
    spans.retain(|span| span.start < span.end);
    spans.sort_by_key(|span| span.start);
    // Overlapping spans (a credential key's value that also holds a hidden text) are
    // redacted as one.
    let mut merged: Vec<Range<usize>> = Vec::new();
    for span in spans {
        match merged.last_mut() {
            Some(last) if span.start < last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    let spans = merged;
    let mut text = String::new();
    let mut new_caret = caret;
    let mut at = 0;
    for span in &spans {
        if span.start < at {
            continue;
        }
        text.extend(&chars[at..span.start]);
        secrets.extend(secret_texts(&chars[span.clone()]));
        text.push_str(REDACTED);
        let removed = span.len() as isize - REDACTED.len() as isize;
        if caret >= span.end {
            new_caret = (new_caret as isize - removed) as usize;
        } else if caret > span.start {
            new_caret = new_caret.min(text.chars().count() - REDACTED.len());
        }
        at = span.end;
    }
    text.extend(&chars[at.min(chars.len())..]);
    (text, new_caret)
}

/// The texts of a redacted value to scrub from messages: as written, and without its
/// quotes or trailing comment.
fn secret_texts(value: &[char]) -> [String; 2] {
    let raw: String = value.iter().collect();
    let core = match value.first() {
        Some('"' | '\'') => match close_quote(value, 0) {
            Some(end) => value[1..end - 1].iter().collect(),
            None => value[1..].iter().collect(),
        },
        _ => raw.split(" #").next().unwrap_or_default().trim().to_string(),
    };
    [raw, core]
}

/// Replaces every credential value of `secrets` (but very short ones, which would
/// mangle the text) in a message or hint.
pub(crate) fn scrub(text: &str, secrets: &[String]) -> String {
    let mut text = text.to_string();
    for secret in secrets.iter().filter(|secret| secret.chars().count() >= 3) {
        if text.contains(secret.as_str()) {
            text = text.replace(secret.as_str(), REDACTED);
        }
    }
    text
}

/// Whether a key would hold a credential, whatever its spelling: compared lowercase,
/// without `_`, `-`, `.` or spaces, so `Password`, `server_api_key` and `serverApikey`
/// all count. Keys that *name* a Secret (`bearerTokenSecret`,
/// `usernamePasswordSecretName`, `serverCertificateSecret`) are not credentials.
///
/// This decides what an excerpt hides, so it errs on the side of hiding; the keys
/// refused outright are `decl::is_plaintext_key`, all of
/// which this matches too.
pub(crate) fn is_credential_key(name: &str) -> bool {
    // Every key of every file is asked, and a fleet has few distinct keys: each thread
    // remembers its answers (the near-miss distances were most of `load`).
    thread_local! {
        static KNOWN: std::cell::RefCell<rustc_hash::FxHashMap<String, bool>> = std::cell::RefCell::default();
    }
    if let Some(known) = KNOWN.with(|known| known.borrow().get(name).copied()) {
        return known;
    }
    let answer = credential_key(name);
    KNOWN.with(|known| known.borrow_mut().insert(name.to_string(), answer));
    answer
}

/// [`is_credential_key`], worked out.
fn credential_key(name: &str) -> bool {
    let key = normalize_key(name);
    const EXACT: &[&str] = &[
        "bearertoken",
        "token",
        "serverapikey",
        "apikey",
        "username",
        "password",
        "passwd",
        "pwd",
        "certificate",
        "secret",
        "clientsecret",
        "privatekey",
        "secretkey",
    ];
    if EXACT.contains(&key.as_str()) {
        return true;
    }
    let names_a_secret = ["secret", "secretname", "secretref", "secretkeyref", "secrets"]
        .iter()
        .any(|suffix| key.ends_with(suffix));
    if names_a_secret {
        return false;
    }
    key.contains("password")
        || key.contains("passwd")
        || key.ends_with("token")
        || key.ends_with("apikey")
        || key.ends_with("privatekey")
        || near_credential_key(&key)
}

/// Whether a (normalized) key is a near miss of a credential key: `serverapikeyy`,
/// `passwrd`, `bearertokn`. Such a key is refused as unknown, and the hint names the
/// key it was meant to be; its value is then most likely that credential.
fn near_credential_key(key: &str) -> bool {
    const KEYS: &[&str] = &[
        "bearertoken",
        "serverapikey",
        "apikey",
        "password",
        "passwd",
        "certificate",
        "clientsecret",
        "privatekey",
        "secretkey",
        "username",
        "token",
        "secret",
    ];
    KEYS.iter().any(|candidate| {
        // One edit for short keys, two for long ones: `token` is not `taken`-proof, but
        // hiding a harmless value costs less than printing a credential.
        let allowed = if candidate.len() >= 8 { 2 } else { 1 };
        // Each edit changes the length by one at most: most keys are ruled out by their
        // length alone, without the distance (every key of every file comes here).
        key.len().abs_diff(candidate.len()) <= allowed && strsim::damerau_levenshtein(key, candidate) <= allowed
    })
}

/// A key lowercased, with everything but letters and digits dropped.
pub(crate) fn normalize_key(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// A credential key found on a line: where its key starts and its value's characters.
struct FoundKey {
    key_col: usize,
    value: Range<usize>,
    /// The value is in a flow collection (`{password: x}`).
    flow: bool,
    /// The value opens a quote the line does not close.
    open_quote: Option<char>,
}

fn skip_blanks(chars: &[char], mut at: usize) -> usize {
    while at < chars.len() && (chars[at] == ' ' || chars[at] == '\t') {
        at += 1;
    }
    at
}

/// The index just past the quote opened at `open`, or `None` when the line ends first.
fn close_quote(chars: &[char], open: usize) -> Option<usize> {
    let quote = chars[open];
    let mut at = open + 1;
    while at < chars.len() {
        match chars[at] {
            '\\' if quote == '"' => at += 2,
            '\'' if quote == '\'' && chars.get(at + 1) == Some(&'\'') => at += 2,
            c if c == quote => return Some(at + 1),
            _ => at += 1,
        }
    }
    None
}

/// A mapping key starting at `at` (plain or quoted) and the index after its `:`.
fn parse_key(chars: &[char], at: usize, flow: bool) -> Option<(String, usize)> {
    if matches!(chars.get(at), Some('"' | '\'')) {
        let end = close_quote(chars, at)?;
        let colon = skip_blanks(chars, end);
        return (chars.get(colon) == Some(&':')).then(|| (chars[at + 1..end - 1].iter().collect(), colon + 1));
    }
    let mut index = at;
    while index < chars.len() {
        let c = chars[index];
        let next = chars.get(index + 1).copied();
        if c == ':' && (next.is_none_or(|n| n == ' ' || n == '\t' || (flow && ",}]".contains(n)))) {
            return Some((chars[at..index].iter().collect(), index + 1));
        }
        if flow && ",{}[]".contains(c) {
            return None;
        }
        if c == '#' && index > at && chars[index - 1] == ' ' {
            return None;
        }
        index += 1;
    }
    None
}

/// The end of a value starting at `start`: the line's end in block context, the next
/// `,`, `}` or `]` at the same depth in a flow collection. Also the quote it leaves open.
fn value_end(chars: &[char], start: usize, flow: bool) -> (usize, Option<char>) {
    let mut depth = 0usize;
    let mut index = start;
    while index < chars.len() {
        match chars[index] {
            '"' | '\'' => match close_quote(chars, index) {
                Some(end) => index = end,
                None => return (chars.len(), Some(chars[index])),
            },
            '{' | '[' if flow => {
                depth += 1;
                index += 1;
            }
            '}' | ']' | ',' if flow && depth == 0 => return (index, None),
            '}' | ']' if flow => {
                depth -= 1;
                index += 1;
            }
            _ => index += 1,
        }
    }
    (chars.len(), None)
}

/// Every credential key on one line of YAML, in block or flow style.
fn credential_keys(chars: &[char]) -> Vec<FoundKey> {
    let mut found = Vec::new();
    let mut depth = 0usize;
    let mut key_start = true;
    let mut index = 0;
    while index < chars.len() {
        let c = chars[index];
        if key_start {
            let blank = chars.get(index + 1).is_none_or(|n| *n == ' ' || *n == '\t');
            if c == ' ' || c == '\t' || ((c == '-' || c == '?') && blank) {
                index += 1;
                continue;
            }
            key_start = false;
            let flow = depth > 0;
            if let Some((key, after)) = parse_key(chars, index, flow) {
                if is_credential_key(key.trim()) {
                    let start = skip_blanks(chars, after);
                    let (end, open_quote) = value_end(chars, start, flow);
                    let mut end = end;
                    while end > start && (chars[end - 1] == ' ' || chars[end - 1] == '\t') {
                        end -= 1;
                    }
                    // `automountServiceAccountToken: false` holds no secret: show it.
                    let value: String = chars[start..end].iter().collect();
                    if ["true", "false", "null", "~"].contains(&value.as_str()) {
                        index = end.max(after);
                        continue;
                    }
                    found.push(FoundKey {
                        key_col: index,
                        value: start..end,
                        flow,
                        open_quote,
                    });
                    index = end.max(after);
                    continue;
                }
                index = after;
                continue;
            }
        }
        match c {
            '"' | '\'' => index = close_quote(chars, index).unwrap_or(chars.len()),
            '{' | '[' => {
                depth += 1;
                key_start = true;
                index += 1;
            }
            ',' if depth > 0 => {
                key_start = true;
                index += 1;
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                index += 1;
            }
            '#' if index == 0 || chars[index - 1] == ' ' || chars[index - 1] == '\t' => break,
            _ => index += 1,
        }
    }
    found
}

/// The path of `remoteRefs` in an environment or cluster file, and the keys below it
/// that name where a store keeps a credential (as `decl::RemoteRefsSpec` spells them).
pub(crate) const REMOTE_REFS: [&str; 3] = ["secrets", "externalSecret", "remoteRefs"];
const REMOTE_REF_KEYS: [&str; 4] = ["bearerToken", "apiKey", "username", "password"];

/// For each line of `text`, whether it is exactly one remote reference in block style at
/// `secrets.externalSecret.remoteRefs` (followed by indentation), as a one-line flow map
/// of nothing but `key`, `property` and `version`: `  bearerToken: { key: a/b, property: c }`.
/// Anything else (a scalar, a multi-line map, another key inside) is not such a line and
/// stays redacted like any credential.
fn remote_ref_lines(text: &str) -> Vec<bool> {
    let mut lines = Vec::new();
    // The block keys above the current line: (indent, key).
    let mut path: Vec<(usize, String)> = Vec::new();
    for line in text.split('\n') {
        let chars: Vec<char> = line.trim_end_matches('\r').chars().collect();
        let indent = skip_blanks(&chars, 0);
        if indent == chars.len() || chars[indent] == '#' {
            lines.push(false);
            continue;
        }
        while path.last().is_some_and(|(at, _)| *at >= indent) {
            path.pop();
        }
        let Some((key, after)) = parse_key(&chars, indent, false) else {
            // A list item or anything else: nothing below it is at the path.
            path.push((indent, "[]".to_string()));
            lines.push(false);
            continue;
        };
        let at_refs =
            path.len() == REMOTE_REFS.len() && path.iter().zip(REMOTE_REFS).all(|((_, name), want)| name == want);
        let value: String = chars[skip_blanks(&chars, after)..].iter().collect();
        lines.push(at_refs && REMOTE_REF_KEYS.contains(&key.as_str()) && is_reference_map(value.trim_end()));
        path.push((indent, key));
    }
    lines
}

/// Whether `value` is a one-line flow map whose keys are all `key`, `property` or
/// `version` (no quotes, no nesting: anything unusual is not).
fn is_reference_map(value: &str) -> bool {
    let Some(inner) = value.strip_prefix('{').and_then(|rest| rest.strip_suffix('}')) else {
        return false;
    };
    !inner.contains(['{', '}', '[', ']', '"', '\'', '#'])
        && inner.split(',').all(|entry| {
            entry
                .split_once(':')
                .is_some_and(|(key, _)| ["key", "property", "version"].contains(&key.trim()))
        })
}

/// For each line of `text`, whether it continues the value of a credential key on an
/// earlier line: inside a quote it opened, or indented below it (a block scalar, a
/// multi-line plain scalar, a nested map). Such lines are shown as `<redacted>`.
fn credential_continuations(text: &str) -> Vec<bool> {
    let mut lines = Vec::new();
    let mut quote: Option<char> = None;
    let mut block_indent: Option<usize> = None;
    for line in text.split('\n') {
        let chars: Vec<char> = line.trim_end_matches('\r').chars().collect();
        if let Some(open) = quote {
            lines.push(true);
            let closes = (0..chars.len()).find(|&at| {
                chars[at] == open
                    && (open != '"' || at == 0 || chars[at - 1] != '\\')
                    && (open != '\'' || chars.get(at + 1) != Some(&'\''))
            });
            if closes.is_some() {
                quote = None;
            }
            continue;
        }
        let indent = skip_blanks(&chars, 0);
        if let Some(key_indent) = block_indent {
            if indent == chars.len() || indent > key_indent {
                lines.push(true);
                continue;
            }
            block_indent = None;
        }
        lines.push(false);
        for found in credential_keys(&chars) {
            if found.open_quote.is_some() {
                quote = found.open_quote;
            } else if !found.flow {
                block_indent = Some(found.key_col);
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Line `line` of `text` as an excerpt shows it, with a diagnostic at column `col`.
    fn shown(text: &str, line: u32, col: u32) -> String {
        let mut sources = Sources::new();
        let id = sources.add("a.yaml", text);
        let mut redactor = Redactor::new(&sources);
        let hidden = redactor.hidden(&[], [&Loc::new(id, line, col)]);
        let (line, _) = redactor
            .line(Loc::new(id, line, col), false, &hidden, &mut Vec::new())
            .unwrap();
        line
    }

    #[test]
    fn remote_references_are_shown_and_nothing_else() {
        let text = "octopus:\n  auth: { bearerTokenSecret: t }\nsecrets:\n  externalSecret:\n    remoteRefs:\n      bearerToken: { key: octopus/token, property: p }\n      password: hunter2\n      apiKey: { key: a, password: hunter3 }\n      username: {key: u}\n    bearerToken: { key: elsewhere }\ndefaults:\n  values:\n    secrets:\n      externalSecret:\n        remoteRefs:\n          password: { key: x }\n";
        let flags = remote_ref_lines(text);
        let shown_lines: Vec<usize> = (0..flags.len()).filter(|at| flags[*at]).map(|at| at + 1).collect();
        assert_eq!(shown_lines, [6, 9]);
        let rendered: String = [6, 7, 8, 10, 16].map(|line| shown(text, line, 7) + "\n").concat();
        assert!(
            rendered.contains("      bearerToken: { key: octopus/token, property: p }\n"),
            "{rendered}"
        );
        for hidden in ["hunter2", "hunter3", "elsewhere", "{ key: x }"] {
            assert!(!rendered.contains(hidden), "{hidden}: {rendered}");
        }
    }

    #[test]
    fn redacts_credentials_whatever_the_diagnostic() {
        // A duplicate key, a syntax error, a type error: the excerpt never
        // shows the value of a credential-like key, in any spelling or style.
        for (line, expected) in [
            ("    bearerToken: hunter2", "    bearerToken: <redacted>"),
            ("    Password: hunter2", "    Password: <redacted>"),
            ("    serverApikey: hunter2", "    serverApikey: <redacted>"),
            ("    bearer_token: \"hunter2", "    bearer_token: <redacted>"),
            (
                "  auth: {bearerTokenSecret: x, bearerToken: hunter2}",
                "  auth: {bearerTokenSecret: x, bearerToken: <redacted>}",
            ),
            (
                "  agent: {password: hunter2, space: D}",
                "  agent: {password: <redacted>, space: D}",
            ),
            ("  - {\"password\":\"hunter2\"}", "  - {\"password\":<redacted>}"),
            ("  - password: 'hunter2' # old", "  - password: <redacted>"),
        ] {
            assert_eq!(shown(&format!("a:\n{line}\n"), 2, 5), expected);
        }
    }

    #[test]
    fn booleans_and_nulls_are_no_secrets() {
        let text = shown("spec:\n  automountServiceAccountToken: false\n", 2, 3);
        assert!(text.contains("automountServiceAccountToken: false"), "{text}");
        let text = shown("agent: {password: null, bearerToken: abcdef}\n", 1, 1);
        assert!(text.contains("password: null, bearerToken: <redacted>}"), "{text}");
    }

    #[test]
    fn secret_names_are_shown() {
        let text = shown("auth:\n  bearerTokenSecret: my-token\n", 2, 3);
        assert!(text.contains("bearerTokenSecret: my-token"), "{text}");
        let text = shown("auth:\n  usernamePasswordSecret: creds\n", 2, 3);
        assert!(text.contains("usernamePasswordSecret: creds"), "{text}");
    }

    #[test]
    fn redacts_lines_that_continue_a_credential() {
        let text = "auth:\n  password: \"hunter2\n    more-hunter3\n  end\"\nspace: x\n";
        for line in 2..=4 {
            let excerpt = shown(text, line, 3);
            assert!(!excerpt.contains("hunter"), "{excerpt}");
        }
        assert!(shown(text, 5, 1).contains("space: x"));
        let block = "auth:\n  token: |\n    hunter2\n  other: 1\n";
        assert!(!shown(block, 3, 5).contains("hunter2"));
        assert!(shown(block, 4, 3).contains("other: 1"));
    }

    #[test]
    fn keys_that_name_a_secret_are_no_credentials() {
        for key in [
            "bearerTokenSecret",
            "apiKeySecret",
            "usernamePasswordSecret",
            "serverCertificateSecret",
            "bearerTokenSecretName",
            "imagePullSecrets",
        ] {
            assert!(!is_credential_key(key), "{key}");
        }
        for key in [
            "bearerToken",
            "BEARER-TOKEN",
            "Password",
            "serverApikey",
            "api_key",
            "dbPassword",
            "accessToken",
            "secret",
            // Near misses, refused as unknown keys with a hint naming the credential key.
            "serverApiKeyy",
            "passwrd",
            "bearerTokn",
            "pasword",
        ] {
            assert!(is_credential_key(key), "{key}");
        }
        for key in ["workerPools", "tolerations", "name", "key", "image", "tag", "space"] {
            assert!(!is_credential_key(key), "{key}");
        }
    }
}
