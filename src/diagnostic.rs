//! User-facing problems with declarations: where, what, and how to fix it.
//!
//! A [`Diagnostic`] points at a [`Loc`]; [`Report::render`] prints
//! `file:line:column: error: message`, the source line with a caret under the
//! spot, any related places, and a `hint:`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use crate::source::{FileId, Loc, Sources};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Severity {
    Error,
    Warning,
}

/// One problem found in the declarations.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub(crate) severity: Severity,
    pub(crate) loc: Option<Loc>,
    pub message: String,
    /// Other places that take part, such as the first of two duplicates.
    pub(crate) related: Vec<(Loc, String)>,
    pub(crate) hint: Option<String>,
    /// The line holds a secret: show it only up to the key.
    pub(crate) redact: bool,
    /// Texts read from the file that may be credentials (a value where a Secret name or
    /// a URL belongs): never printed, in the excerpt, the message, a note or the hint.
    pub(crate) hidden: Vec<String>,
}

impl Diagnostic {
    pub(crate) fn error(loc: impl Into<Option<Loc>>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            loc: loc.into(),
            message: message.into(),
            related: Vec::new(),
            hint: None,
            redact: false,
            hidden: Vec::new(),
        }
    }

    /// Shows the source line only up to the key, so a secret on it never reaches a log.
    #[must_use]
    pub(crate) fn redacted(mut self) -> Self {
        self.redact = true;
        self
    }

    /// Never prints `text` (each of its lines, for a multi-line value): where it stands
    /// on an excerpted line, that part shows as `<redacted>`, and it is scrubbed from the
    /// message, notes and hint. For a value read where a Secret name or a URL belongs,
    /// which someone may have pasted a credential into.
    #[must_use]
    pub(crate) fn hiding(mut self, text: &str) -> Self {
        self.hidden.extend(hidden_pieces(text));
        self
    }

    pub(crate) fn warning(loc: impl Into<Option<Loc>>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(loc, message)
        }
    }

    #[must_use]
    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    #[must_use]
    pub(crate) fn with_hint_opt(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }

    #[must_use]
    pub(crate) fn with_related(mut self, loc: Loc, note: impl Into<String>) -> Self {
        self.related.push((loc, note.into()));
        self
    }
}

/// The diagnostics of a run, collected rather than stopping at the first.
#[derive(Debug, Default, Clone)]
pub struct Report {
    diagnostics: Vec<Diagnostic>,
}

impl Report {
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    pub(crate) fn extend(&mut self, diagnostics: impl IntoIterator<Item = Diagnostic>) {
        self.diagnostics.extend(diagnostics);
    }

    /// Appends what `other` found (a part checked on its own), in its order.
    pub(crate) fn append(&mut self, other: Report) {
        self.diagnostics.extend(other.diagnostics);
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity == Severity::Error)
    }

    pub(crate) fn count(&self, severity: Severity) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == severity).count()
    }

    pub(crate) fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// Sorts by file path, line and column (problems without a place first) and drops
    /// exact repeats, such as one bad default seen through many workers.
    pub fn sort(&mut self, sources: &Sources) {
        self.diagnostics.sort_by(|a, b| {
            let key = |d: &Diagnostic| d.loc.map(|loc| (sources.path(loc.file), loc.line, loc.col));
            key(a)
                .cmp(&key(b))
                .then_with(|| a.severity.cmp(&b.severity))
                .then_with(|| a.message.cmp(&b.message))
        });
        self.diagnostics.dedup();
    }

    /// Prints the diagnostics, at most `SHOWN_PER_FILE` of each file, for a
    /// terminal or a log; a file with more gets one line saying how many were left out.
    pub fn render(&self, sources: &Sources, color: bool) -> String {
        let mut out = String::new();
        let mut excerpts = Excerpts::new(sources);
        let mut shown: HashMap<Option<FileId>, usize> = HashMap::new();
        let mut hidden: BTreeMap<Option<FileId>, usize> = BTreeMap::new();
        for diagnostic in &self.diagnostics {
            let file = diagnostic.loc.map(|loc| loc.file);
            let count = shown.entry(file).or_default();
            if *count < SHOWN_PER_FILE {
                *count += 1;
                render_one(&mut out, diagnostic, &mut excerpts, color);
            } else {
                *hidden.entry(file).or_default() += 1;
            }
        }
        for (file, count) in hidden {
            let place = file.map_or_else(
                || "with no place in a file".to_owned(),
                |file| format!("in {}", sources.path(file)),
            );
            let _ = writeln!(
                out,
                "note: {count} more {} {place} not shown (the first {SHOWN_PER_FILE} are above)",
                if count == 1 { "problem" } else { "problems" },
            );
        }
        out
    }
}

/// How many diagnostics [`Report::render`] prints per file. A hostile file can hold
/// 70,000 unknown keys; the first ones show what is wrong with it, and the
/// log stays readable.
pub(crate) const SHOWN_PER_FILE: usize = 50;

/// ANSI colour for terminal output, or plain text: every coloured word of the
/// diagnostics and of `diff --format text` goes through one of these.
pub(crate) struct Paint {
    color: bool,
}

impl Paint {
    pub(crate) fn new(color: bool) -> Self {
        Self { color }
    }

    /// `text` in the SGR style `code` (`1;31` is bold red), or `text` as it is.
    pub(crate) fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// Text safe for a terminal: control characters (from a hostile file) are escaped, so
/// no escape sequence reaches a reviewer's terminal or a CI log.
fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\t') {
        return std::borrow::Cow::Borrowed(text);
    }
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                format!("\\u{{{:x}}}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

fn render_one(out: &mut String, diagnostic: &Diagnostic, excerpts: &mut Excerpts, color: bool) {
    let paint = Paint { color };
    let label = match diagnostic.severity {
        Severity::Error => paint.paint("1;31", "error"),
        Severity::Warning => paint.paint("1;33", "warning"),
    };
    // The values of credentials on the excerpted lines: never printed, not even
    // inside a message or a hint, since logs are kept and shared.
    // What the diagnostic hides, and every credential the parser found in the files it
    // shows: the text scanner below only adds what a file that did not parse hides.
    let mut hidden = diagnostic.hidden.clone();
    let locs = || {
        diagnostic
            .loc
            .iter()
            .chain(diagnostic.related.iter().map(|(loc, _)| loc))
    };
    for loc in locs() {
        hidden.extend(excerpts.sources.secrets(loc.file).iter().cloned());
    }
    let mut secrets = hidden.clone();
    let mut snippets = Vec::new();
    for loc in locs() {
        snippets.push(excerpts.snippet(*loc, &paint, diagnostic.redact, &hidden, &mut secrets));
    }
    let scrub = |text: &str| printable(&scrub_secrets(text, &secrets)).into_owned();
    let mut snippets = snippets.into_iter();
    let sources = excerpts.sources;
    match diagnostic.loc {
        Some(loc) => {
            let place = paint.paint("1", &sources.display(loc).to_string());
            let _ = writeln!(out, "{place}: {label}: {}", scrub(&diagnostic.message));
            out.push_str(&snippets.next().unwrap_or_default());
        }
        None => {
            let _ = writeln!(out, "{label}: {}", scrub(&diagnostic.message));
        }
    }
    for (loc, note) in &diagnostic.related {
        let _ = writeln!(out, "  note: {}: {}", sources.display(*loc), scrub(note));
        out.push_str(&snippets.next().unwrap_or_default());
    }
    if let Some(hint) = &diagnostic.hint {
        let _ = writeln!(out, "  {}: {}", paint.paint("1;36", "hint"), scrub(hint));
    }
}

/// The widest source line an excerpt shows; longer lines are cut around the caret.
const EXCERPT_WIDTH: usize = 120;

/// What replaces a credential's value in an excerpt.
const REDACTED: &str = "<redacted>";

/// The flag of line `line` (1-based) of `file` in `lines`, which `find` fills once per
/// file from its text.
fn line_flag(
    lines: &mut std::collections::HashMap<crate::source::FileId, Vec<bool>>,
    sources: &Sources,
    file: crate::source::FileId,
    line: u32,
    find: fn(&str) -> Vec<bool>,
) -> bool {
    let lines = lines.entry(file).or_insert_with(|| find(sources.text(file)));
    line.checked_sub(1)
        .and_then(|index| lines.get(index as usize))
        .copied()
        .unwrap_or(false)
}

/// Source lines for excerpts, with the lines that continue a credential's value (an
/// unclosed quote, a block scalar, a nested map) found once per file.
struct Excerpts<'a> {
    sources: &'a Sources,
    continuations: std::collections::HashMap<crate::source::FileId, Vec<bool>>,
    /// Per file, the lines that hold one remote reference of `secrets.externalSecret`
    /// ([`remote_ref_lines`]): shown, since they name places in a store, not credentials.
    remote_refs: std::collections::HashMap<crate::source::FileId, Vec<bool>>,
}

impl<'a> Excerpts<'a> {
    fn new(sources: &'a Sources) -> Self {
        Self {
            sources,
            continuations: std::collections::HashMap::new(),
            remote_refs: std::collections::HashMap::new(),
        }
    }

    /// Whether line `line` (1-based) of `file` is a remote reference line.
    fn is_remote_ref(&mut self, file: crate::source::FileId, line: u32) -> bool {
        line_flag(&mut self.remote_refs, self.sources, file, line, remote_ref_lines)
    }

    /// Whether line `line` (1-based) of `file` continues a credential's value.
    fn continues_credential(&mut self, file: crate::source::FileId, line: u32) -> bool {
        line_flag(
            &mut self.continuations,
            self.sources,
            file,
            line,
            credential_continuations,
        )
    }

    /// The excerpt of the line at `loc` with a caret under the spot, credentials redacted
    /// and their values added to `secrets`.
    fn snippet(
        &mut self,
        loc: Loc,
        paint: &Paint,
        redact: bool,
        hidden: &[String],
        secrets: &mut Vec<String>,
    ) -> String {
        let Some(line) = self.sources.line(loc.file, loc.line) else {
            return String::new();
        };
        let caret = loc.col.saturating_sub(1) as usize;
        let (line, caret) = if self.continues_credential(loc.file, loc.line) {
            let indent: String = line.chars().take_while(|c| *c == ' ' || *c == '\t').collect();
            secrets.push(line.trim().to_string());
            let shown = format!("{indent}{REDACTED}");
            let caret = caret.min(indent.chars().count());
            (shown, caret)
        } else if !redact && self.is_remote_ref(loc.file, loc.line) {
            // `bearerToken: { key: octopus/worker-token }` under `remoteRefs`: no credential.
            let chars: Vec<char> = line.chars().collect();
            let found = credential_keys(&chars);
            let mut others: Vec<_> = found.iter().skip(1).map(|found| found.value.clone()).collect();
            others.extend(hidden_spans(&chars, hidden));
            redact_spans(&chars, caret, others, secrets)
        } else {
            redact_line(line, caret, redact, hidden, secrets)
        };
        let (line, caret) = cut_to_width(&line, caret, EXCERPT_WIDTH);
        let number = loc.line.to_string();
        let gutter = " ".repeat(number.len());
        // Keep tabs in the padding so the caret lines up under tab-indented text.
        let padding: String = line
            .chars()
            .take(caret)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let bar = paint.paint("1;34", "|");
        let mut out = String::new();
        let _ = writeln!(out, "  {number} {bar} {}", printable(&line));
        let _ = writeln!(out, "  {gutter} {bar} {padding}{}", paint.paint("1;31", "^"));
        out
    }
}

/// `line` with the value of every credential-like key replaced by `<redacted>`, and
/// the caret (a character index) moved with the text. With `force`, the value after
/// the first `:` at or after the caret is redacted whatever the key.
fn redact_line(line: &str, caret: usize, force: bool, hidden: &[String], secrets: &mut Vec<String>) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    let mut spans: Vec<std::ops::Range<usize>> = credential_keys(&chars).into_iter().map(|found| found.value).collect();
    spans.extend(hidden_spans(&chars, hidden));
    if force && !spans.iter().any(|span| span.start >= caret) {
        if let Some(colon) = (caret..chars.len()).find(|&index| chars[index] == ':') {
            let start = skip_blanks(&chars, colon + 1);
            spans.push(start..chars.len());
        }
    }
    redact_spans(&chars, caret, spans, secrets)
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
fn hidden_spans(chars: &[char], hidden: &[String]) -> Vec<std::ops::Range<usize>> {
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
    mut spans: Vec<std::ops::Range<usize>>,
    secrets: &mut Vec<String>,
) -> (String, usize) {
    spans.retain(|span| span.start < span.end);
    spans.sort_by_key(|span| span.start);
    // Overlapping spans (a credential key's value that also holds a hidden text) are
    // redacted as one.
    let mut merged: Vec<std::ops::Range<usize>> = Vec::new();
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

/// At most `width` characters of `line` around the caret, with `…` where text was cut.
fn cut_to_width(line: &str, caret: usize, width: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= width {
        return (line.to_string(), caret);
    }
    let start = caret.saturating_sub(width / 2).min(chars.len() - width);
    let end = start + width;
    let mut text = String::new();
    let mut caret = caret - start;
    if start > 0 {
        text.push('…');
        caret += 1;
    }
    text.extend(&chars[start..end]);
    if end < chars.len() {
        text.push('…');
    }
    (text, caret)
}

/// Replaces every credential value of `secrets` (but very short ones, which would
/// mangle the text) in a message or hint.
fn scrub_secrets(text: &str, secrets: &[String]) -> String {
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
    value: std::ops::Range<usize>,
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

/// Suggests the closest of `candidates` to a misspelt `word`, if one is close.
pub(crate) fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_lowercase();
    candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(&word, &candidate.to_lowercase()), candidate))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_place_line_caret_and_hint() {
        let mut sources = Sources::new();
        let id = sources.add("envs/a.yaml", "workers:\n  w:\n    workerPool: [a]\n");
        let mut report = Report::new();
        report.push(
            Diagnostic::error(Loc::new(id, 3, 5), "unknown key `workerPool`").with_hint("did you mean `workerPools`?"),
        );
        assert_eq!(
            report.render(&sources, false),
            "envs/a.yaml:3:5: error: unknown key `workerPool`\n  3 |     workerPool: [a]\n    |     ^\n  hint: did you mean `workerPools`?\n"
        );
    }

    #[test]
    fn sorts_by_path_then_line_and_drops_repeats() {
        let mut sources = Sources::new();
        let b = sources.add("b.yaml", "");
        let a = sources.add("a.yaml", "");
        let mut report = Report::new();
        report.push(Diagnostic::error(Loc::new(b, 1, 1), "x"));
        report.push(Diagnostic::error(Loc::new(a, 9, 1), "y"));
        report.push(Diagnostic::error(Loc::new(a, 2, 1), "z"));
        report.push(Diagnostic::error(Loc::new(a, 2, 1), "z"));
        report.sort(&sources);
        let order: Vec<_> = report.diagnostics().iter().map(|d| d.message.as_str()).collect();
        assert_eq!(order, ["z", "y", "x"]);
    }

    #[test]
    fn prints_at_most_fifty_per_file_and_says_how_many_more() {
        let mut sources = Sources::new();
        let text: String = (0..200).map(|i| format!("k{i}: 1\n")).collect();
        let a = sources.add("a.yaml", text.clone());
        let b = sources.add("b.yaml", text);
        let mut report = Report::new();
        for line in 1..=120 {
            report.push(Diagnostic::error(Loc::new(a, line, 1), "unknown key"));
        }
        for line in 1..=51 {
            report.push(Diagnostic::warning(Loc::new(b, line, 1), "odd key"));
        }
        report.push(Diagnostic::error(None, "no place"));
        report.sort(&sources);
        let text = report.render(&sources, false);
        assert_eq!(text.matches(": error: unknown key").count(), 50, "{text}");
        assert_eq!(text.matches(": warning: odd key").count(), 50, "{text}");
        assert!(text.contains("a.yaml:50:1: error"), "{text}");
        assert!(!text.contains("a.yaml:51:1: error"), "{text}");
        assert!(
            text.ends_with(
                "note: 70 more problems in a.yaml not shown (the first 50 are above)\n\
             note: 1 more problem in b.yaml not shown (the first 50 are above)\n"
            ),
            "{text}"
        );
        assert!(text.starts_with("error: no place\n"), "{text}");
    }

    #[test]
    fn remote_references_are_shown_and_nothing_else() {
        let text = "octopus:\n  auth: { bearerTokenSecret: t }\nsecrets:\n  externalSecret:\n    remoteRefs:\n      bearerToken: { key: octopus/token, property: p }\n      password: hunter2\n      apiKey: { key: a, password: hunter3 }\n      username: {key: u}\n    bearerToken: { key: elsewhere }\ndefaults:\n  values:\n    secrets:\n      externalSecret:\n        remoteRefs:\n          password: { key: x }\n";
        let shown = remote_ref_lines(text);
        let shown_lines: Vec<usize> = (0..shown.len()).filter(|at| shown[*at]).map(|at| at + 1).collect();
        assert_eq!(shown_lines, [6, 9]);
        let mut sources = Sources::new();
        let id = sources.add("env.yaml".to_string(), text.to_string());
        let mut report = Report::new();
        for line in [6, 7, 8, 10, 16] {
            report.push(Diagnostic::error(Loc::new(id, line, 7), format!("problem {line}")));
        }
        let rendered = report.render(&sources, false);
        assert!(
            rendered.contains("  6 |       bearerToken: { key: octopus/token, property: p }\n"),
            "{rendered}"
        );
        for hidden in ["hunter2", "hunter3", "elsewhere", "{ key: x }"] {
            assert!(!rendered.contains(hidden), "{hidden}: {rendered}");
        }
    }

    #[test]
    fn redacts_secrets_on_the_line() {
        let mut sources = Sources::new();
        let id = sources.add("a.yaml", "auth:\n  bearerToken: s3cr3t\n");
        let mut report = Report::new();
        report.push(Diagnostic::error(Loc::new(id, 2, 3), "plaintext credential `bearerToken` is refused").redacted());
        let text = report.render(&sources, false);
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(text.contains("  2 |   bearerToken: <redacted>\n"), "{text}");
    }

    fn rendered(text: &str, line: u32, col: u32, message: &str) -> String {
        let mut sources = Sources::new();
        let id = sources.add("a.yaml", text);
        let mut report = Report::new();
        report.push(Diagnostic::error(Loc::new(id, line, col), message).with_hint("hint text"));
        report.render(&sources, false)
    }

    #[test]
    fn redacts_credentials_whatever_the_diagnostic() {
        // Issue 9: a duplicate key, a syntax error, a type error: the excerpt never
        // shows the value of a credential-like key, in any spelling or style.
        for (line, shown) in [
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
            let text = rendered(&format!("a:\n{line}\n"), 2, 5, "duplicate key `hunter2`");
            assert!(!text.contains("hunter2"), "{text}");
            assert!(text.contains(&format!("  2 | {shown}\n")), "{text}");
        }
    }

    #[test]
    fn booleans_and_nulls_are_no_secrets() {
        let text = rendered("spec:\n  automountServiceAccountToken: false\n", 2, 3, "x");
        assert!(text.contains("automountServiceAccountToken: false"), "{text}");
        let text = rendered("agent: {password: null, bearerToken: abcdef}\n", 1, 1, "x");
        assert!(text.contains("password: null, bearerToken: <redacted>}"), "{text}");
    }

    #[test]
    fn secret_names_are_shown() {
        let text = rendered("auth:\n  bearerTokenSecret: my-token\n", 2, 3, "x");
        assert!(text.contains("bearerTokenSecret: my-token"), "{text}");
        let text = rendered("auth:\n  usernamePasswordSecret: creds\n", 2, 3, "x");
        assert!(text.contains("usernamePasswordSecret: creds"), "{text}");
    }

    #[test]
    fn redacts_lines_that_continue_a_credential() {
        let text = "auth:\n  password: \"hunter2\n    more-hunter3\n  end\"\nspace: x\n";
        for line in 2..=4 {
            let shown = rendered(text, line, 3, "invalid YAML");
            assert!(!shown.contains("hunter"), "{shown}");
        }
        assert!(rendered(text, 5, 1, "x").contains("space: x"));
        let block = "auth:\n  token: |\n    hunter2\n  other: 1\n";
        assert!(!rendered(block, 3, 5, "x").contains("hunter2"));
        assert!(rendered(block, 4, 3, "x").contains("other: 1"));
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

    #[test]
    fn hidden_texts_never_print() {
        let mut sources = Sources::new();
        let text = "octopus:\n  auth:\n    apiKeySecret: API-ABCDEFGHIJKLMNOPQRSTUVWXYZ12 # pasted\n";
        let id = sources.add("e.yaml", text);
        let mut report = Report::new();
        report.push(
            Diagnostic::error(Loc::new(id, 3, 19), "bad API-ABCDEFGHIJKLMNOPQRSTUVWXYZ12")
                .with_hint("not api-abcdefghijklmnopqrstuvwxyz12 nor API-ABCDEFGHIJKLMNOPQRSTUVWXYZ12")
                .hiding("API-ABCDEFGHIJKLMNOPQRSTUVWXYZ12"),
        );
        let out = report.render(&sources, false);
        assert!(!out.contains("API-ABCDEFGHIJKLMNOPQRSTUVWXYZ12"), "{out}");
        assert!(out.contains("    apiKeySecret: <redacted> # pasted\n"), "{out}");
        // A multi-line value is hidden line by line.
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n";
        let diagnostic = Diagnostic::error(None, "x").hiding(pem);
        assert_eq!(diagnostic.hidden.len(), 3);
    }

    #[test]
    fn cuts_long_lines_around_the_caret() {
        let line = format!("k: {}X{}", "a".repeat(300), "b".repeat(300));
        let text = rendered(&format!("{line}\n"), 1, 304, "x");
        let excerpt = text.lines().nth(1).unwrap();
        let caret = text.lines().nth(2).unwrap();
        assert!(excerpt.starts_with("  1 | …") && excerpt.ends_with('…'), "{excerpt}");
        assert_eq!(excerpt.chars().count(), "  1 | ".len() + EXCERPT_WIDTH + 2);
        let caret_at = caret.chars().position(|c| c == '^').unwrap();
        assert_eq!(excerpt.chars().nth(caret_at), Some('X'), "{text}");
    }

    #[test]
    fn escapes_control_characters() {
        let mut sources = Sources::new();
        let id = sources.add("a.yaml", "k\u{1b}[31m: 1\n");
        let mut report = Report::new();
        report.push(Diagnostic::error(Loc::new(id, 1, 1), "unknown key `k\u{1b}[31m`"));
        let text = report.render(&sources, false);
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(text.contains("k\\u{1b}[31m"), "{text}");
    }

    #[test]
    fn suggests_close_names_only() {
        let fields = ["workerPools", "machinePolicy", "displayName"];
        assert_eq!(did_you_mean("workerPool", fields), Some("workerPools"));
        assert_eq!(did_you_mean("machinepolicy", fields), Some("machinePolicy"));
        assert_eq!(did_you_mean("zzz", fields), None);
    }
}
