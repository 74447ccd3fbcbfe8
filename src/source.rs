//! The declaration files of one run and positions inside them.
//!
//! Every node of every parsed file carries a [`Loc`]; the text stays here so a
//! diagnostic can show the line it points at. A merged value also carries its [`Layer`],
//! the level of the layering it came from.

use std::fmt;

/// An index into [`Sources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileId(pub u32);

/// A position in a declaration file: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Loc {
    pub file: FileId,
    pub line: u32,
    pub col: u32,
}

impl Loc {
    pub(crate) fn new(file: FileId, line: u32, col: u32) -> Self {
        Self { file, line, col }
    }
}

/// Where a node of a tree came from, so provenance never guesses from its location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Origin {
    /// Written in a declaration file, at the node's [`Loc`].
    #[default]
    Declared,
    /// A default from the chart's own values.yaml.
    ChartDefault,
    /// Made by workergen: a template's output, or rendered files read back.
    Generated,
}

impl Origin {
    /// The origin as `explain` names it.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Origin::Declared => "declaration",
            Origin::ChartDefault => "chart default",
            Origin::Generated => "generated",
        }
    }
}

/// Where a credential's value stands in a file that parsed, as the parser read it: from
/// `start` to `end`, each a 1-based line and a 0-based character column (`end` just past
/// the value). A value over several lines (a block scalar, a quoted or plain scalar that
/// wraps) covers each of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ValueSpan {
    pub(crate) start: (u32, usize),
    pub(crate) end: (u32, usize),
}

impl ValueSpan {
    /// The characters of `line` (line number `number`) this value covers; on a line it
    /// continues onto, from the first character after the indentation.
    pub(crate) fn on_line(&self, number: u32, line: &[char]) -> Option<std::ops::Range<usize>> {
        if number < self.start.0 || number > self.end.0 {
            return None;
        }
        let from = if number == self.start.0 {
            self.start.1
        } else {
            line.iter().take_while(|c| **c == ' ' || **c == '\t').count()
        };
        let to = if number == self.end.0 { self.end.1 } else { line.len() };
        (from < to.min(line.len())).then(|| from..to.min(line.len()))
    }
}

/// One file that was read: its path in the config repository and its text.
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    pub(crate) path: String,
    pub(crate) text: String,
    /// The byte offset where each line starts, so finding a line is a binary search
    /// rather than a scan of the file (one scan per diagnostic made a file with 73,000
    /// unknown keys take tens of seconds).
    line_starts: Vec<usize>,
    /// The credentials the parser found in the file (values under credential-like keys,
    /// aliases resolved): never printed from any part of it.
    secrets: Vec<String>,
    /// Where the parser found those values; `None` when the file did not parse.
    value_spans: Option<Vec<ValueSpan>>,
}

impl SourceFile {
    fn new(path: String, text: String) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(offset, _)| offset + 1))
            .collect();
        Self {
            path,
            text,
            line_starts,
            secrets: Vec::new(),
            value_spans: None,
        }
    }

    /// The text of line `index` (0-based), without its line ending.
    fn line(&self, index: usize) -> Option<&str> {
        let start = *self.line_starts.get(index)?;
        let end = self.line_starts.get(index + 1).map_or(self.text.len(), |next| next - 1);
        Some(self.text[start..end].trim_end_matches('\r'))
    }
}

/// All files read in one run.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Keeps `text` under `path` and returns its id.
    pub(crate) fn add(&mut self, path: impl Into<String>, text: impl Into<String>) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).expect("fewer than 2^32 files"));
        self.files.push(SourceFile::new(path.into(), text.into()));
        id
    }

    pub(crate) fn len(&self) -> usize {
        self.files.len()
    }

    /// Records what the parser of file `id` found: the credentials, which diagnostics
    /// never print wherever in the file they stand (an anchor's line included), and where
    /// each value under a credential-like key stands.
    pub(crate) fn set_parsed(&mut self, id: FileId, secrets: Vec<String>, spans: Vec<ValueSpan>) {
        let file = &mut self.files[id.0 as usize];
        file.secrets = secrets;
        file.value_spans = Some(spans);
    }

    /// Where the values under credential-like keys stand in file `id`, when it parsed
    /// ([`Sources::set_parsed`]).
    pub(crate) fn value_spans(&self, id: FileId) -> Option<&[ValueSpan]> {
        self.files[id.0 as usize].value_spans.as_deref()
    }

    /// The credentials found in file `id` ([`Sources::set_parsed`]).
    pub(crate) fn secrets(&self, id: FileId) -> &[String] {
        &self.files[id.0 as usize].secrets
    }

    pub(crate) fn path(&self, id: FileId) -> &str {
        &self.files[id.0 as usize].path
    }

    pub(crate) fn text(&self, id: FileId) -> &str {
        &self.files[id.0 as usize].text
    }

    /// The text of line `line` (1-based) of a file, without its line ending.
    pub(crate) fn line(&self, id: FileId, line: u32) -> Option<&str> {
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        self.files[id.0 as usize].line(index)
    }

    /// `path:line:column` of a location.
    pub(crate) fn display(&self, loc: Loc) -> LocDisplay<'_> {
        LocDisplay { sources: self, loc }
    }
}

/// Formats a [`Loc`] as `path:line:column`.
pub(crate) struct LocDisplay<'a> {
    sources: &'a Sources,
    loc: Loc,
}

impl fmt::Display for LocDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.sources.path(self.loc.file),
            self.loc.line,
            self.loc.col
        )
    }
}

/// Where a worker field was set, lowest precedence first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Layer {
    /// Not a layered worker field.
    #[default]
    None,
    /// `workergen.yaml` `defaults` (or its `chart:`).
    Repo,
    /// `environment.yaml` `defaults` (or its `chart:`).
    Environment,
    /// A cluster file's `defaults` (or its `chart:`).
    Cluster,
    /// The worker's own entry under `workers:`.
    Worker,
}

impl Layer {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Layer::None => "",
            Layer::Repo => "workergen.yaml defaults",
            Layer::Environment => "environment defaults",
            Layer::Cluster => "cluster defaults",
            Layer::Worker => "worker",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_one_based_and_locations_display() {
        let mut sources = Sources::new();
        let id = sources.add("a.yaml", "one\r\ntwo\n");
        assert_eq!(sources.line(id, 1), Some("one"));
        assert_eq!(sources.line(id, 2), Some("two"));
        assert_eq!(sources.line(id, 0), None);
        assert_eq!(sources.display(Loc::new(id, 2, 3)).to_string(), "a.yaml:2:3");
        // The empty line after the last line ending, and no line beyond it.
        assert_eq!(sources.line(id, 3), Some(""));
        assert_eq!(sources.line(id, 4), None);
    }

    #[test]
    fn lines_of_a_file_without_a_final_line_ending() {
        let mut sources = Sources::new();
        let id = sources.add("a.yaml", "a\n\nb\r\n\rc");
        let lines: Vec<_> = (1..=5).map(|line| sources.line(id, line)).collect();
        assert_eq!(lines, [Some("a"), Some(""), Some("b"), Some("\rc"), None]);
        let empty = sources.add("b.yaml", "");
        assert_eq!(sources.line(empty, 1), Some(""));
        assert_eq!(sources.line(empty, 2), None);
    }
}
