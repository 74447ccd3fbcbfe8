//! User-facing problems with declarations: where, what, and how to fix it.
//!
//! A [`Diagnostic`] points at a [`Loc`]; [`Report::render`] prints
//! `file:line:column: error: message`, the source line with a caret under the
//! spot, any related places, and a `hint:`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use crate::redact::{self, Redactor};
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
        self.hidden.extend(redact::hidden_pieces(text));
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
        let mut redactor = Redactor::new(sources);
        let mut shown: HashMap<Option<FileId>, usize> = HashMap::new();
        let mut hidden: BTreeMap<Option<FileId>, usize> = BTreeMap::new();
        for diagnostic in &self.diagnostics {
            let file = diagnostic.loc.map(|loc| loc.file);
            let count = shown.entry(file).or_default();
            if *count < SHOWN_PER_FILE {
                *count += 1;
                render_one(&mut out, diagnostic, &mut redactor, sources, color);
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

fn render_one(out: &mut String, diagnostic: &Diagnostic, redactor: &mut Redactor, sources: &Sources, color: bool) {
    let paint = Paint { color };
    let label = match diagnostic.severity {
        Severity::Error => paint.paint("1;31", "error"),
        Severity::Warning => paint.paint("1;33", "warning"),
    };
    // Credentials are never printed, not even inside a message or a hint, since logs are
    // kept and shared: the redactor says what to hide, and every text it hid is scrubbed
    // from the words too.
    let locs = || {
        diagnostic
            .loc
            .iter()
            .chain(diagnostic.related.iter().map(|(loc, _)| loc))
    };
    let hidden = redactor.hidden(&diagnostic.hidden, locs());
    let mut secrets = hidden.clone();
    let mut snippets = Vec::new();
    for loc in locs() {
        let line = redactor.line(*loc, diagnostic.redact, &hidden, &mut secrets);
        snippets.push(
            line.map(|(line, caret)| excerpt(*loc, &line, caret, &paint))
                .unwrap_or_default(),
        );
    }
    let scrub = |text: &str| printable(&redact::scrub(text, &secrets)).into_owned();
    let mut snippets = snippets.into_iter();
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

/// The excerpt of `line` (the redacted source line at `loc`) with a caret under the
/// character at `caret`, cut to [`EXCERPT_WIDTH`].
fn excerpt(loc: Loc, line: &str, caret: usize, paint: &Paint) -> String {
    let (line, caret) = cut_to_width(line, caret, EXCERPT_WIDTH);
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

/// The widest source line an excerpt shows; longer lines are cut around the caret.
const EXCERPT_WIDTH: usize = 120;

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
