//! One import input: a `helm get values -o yaml RELEASE` output saved as `<release>.yaml`
//! (its first line may be Helm's `USER-SUPPLIED VALUES:`), or a wizard command line.
//!
//! The text kept for messages (in [`Sources`]) has every credential's value masked
//! ([`super::credentials::mask`]), so an excerpt of an input never shows one.

use super::command::{self, CommandError, Install};
use super::credentials;
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, Loc, Sources};
use crate::yaml::{self, Limits, Node, Value};

/// What one input file holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// `helm get values` output: the release comes from the file name.
    Values { release: String, values: Node },
    /// A `helm upgrade --install` command line.
    Command(Install),
}

/// Why an input file could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InputError {
    #[error("{file}: {source}")]
    Command { file: String, source: CommandError },
    #[error("{file}: not `helm get values -o yaml` output: {message}")]
    Yaml {
        file: String,
        message: String,
        loc: Option<Loc>,
    },
    #[error("{file}: the values are not a mapping")]
    NotMap { file: String },
    #[error("{file}: name it <release>.yaml, after the release its values came from")]
    Release { file: String },
    #[error("{file}: `helm get values --all` output (`COMPUTED VALUES:`) holds every chart default, not what the install set")]
    Computed { file: String, line: u32 },
    #[error("{file}: the input is empty")]
    Empty { file: String },
}

/// Reads the input `file` (its path, for the release name and messages) holding `text`,
/// adding its masked text to `sources` and the credential values found to `secrets`.
pub fn read(file: &str, text: &str, sources: &mut Sources, secrets: &mut Vec<String>) -> Result<Input, InputError> {
    // A file saved by PowerShell or Notepad may start with a byte order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let id = FileId(u32::try_from(sources.len()).expect("fewer than 2^32 files"));
    let result = read_as(file, text, id);
    // The values a parse found under credential keys, and those written after one.
    match &result {
        Ok(Input::Values { values, .. }) => credentials::secret_texts(values, secrets),
        Ok(Input::Command(install)) => {
            let tree = super::tree::from_set(&super::helm_set::SetValue::Map(install.values.clone()), Loc::default());
            credentials::secret_texts(&tree, secrets);
        }
        Err(_) => {}
    }
    let (shown, found) = credentials::mask(text, secrets);
    secrets.extend(found);
    let added = sources.add(file, shown);
    debug_assert_eq!(added, id);
    result
}

fn read_as(file: &str, text: &str, id: FileId) -> Result<Input, InputError> {
    // A saved command may start with comment lines (`# from the wizard`): blanked.
    let uncommented: String = text
        .lines()
        .map(|line| if line.trim_start().starts_with('#') { "" } else { line })
        .collect::<Vec<_>>()
        .join("\n");
    let body = uncommented.trim_start();
    if body.is_empty() {
        return Err(InputError::Empty { file: file.to_owned() });
    }
    if body.starts_with("helm ") || body.starts_with("helm\t") {
        return command::parse(body)
            .map(Input::Command)
            .map_err(|source| InputError::Command {
                file: file.to_owned(),
                source,
            });
    }
    if let Some(line) = text.lines().position(|line| line.trim_end() == "COMPUTED VALUES:") {
        return Err(InputError::Computed {
            file: file.to_owned(),
            line: u32::try_from(line + 1).unwrap_or(u32::MAX),
        });
    }
    let release = release_of(file).ok_or_else(|| InputError::Release { file: file.to_owned() })?;
    // Helm's header line is blanked, not cut, so places stay those of the file.
    let body = match text.split_once('\n') {
        Some((first, rest)) if first.trim_end() == "USER-SUPPLIED VALUES:" => format!("\n{rest}"),
        _ if text.trim_end() == "USER-SUPPLIED VALUES:" => String::new(),
        _ => text.to_owned(),
    };
    if body.trim().is_empty() {
        return Err(InputError::Empty { file: file.to_owned() });
    }
    let values = yaml::parse(&body, id, Limits::default()).map_err(|diagnostic| InputError::Yaml {
        file: file.to_owned(),
        message: diagnostic.message,
        loc: diagnostic.loc,
    })?;
    match values.value {
        Value::Map(_) => Ok(Input::Values { release, values }),
        // `helm get values` prints `null` when nothing was supplied: nothing to adopt.
        Value::Null => Err(InputError::Empty { file: file.to_owned() }),
        _ => Err(InputError::NotMap { file: file.to_owned() }),
    }
}

/// `build-01` for `some/dir/build-01.yaml` (or `.yml`).
fn release_of(file: &str) -> Option<String> {
    let name = file.rsplit(['/', '\\']).next()?;
    let stem = name.strip_suffix(".yaml").or_else(|| name.strip_suffix(".yml"))?;
    (!stem.is_empty()).then(|| stem.to_owned())
}

impl InputError {
    /// The error as a diagnostic at its place in the file `id` (whose text is `text`),
    /// with the credential values of `secrets` scrubbed from its message.
    pub(crate) fn diagnostic(&self, id: FileId, text: &str, secrets: &[String]) -> Diagnostic {
        let start = Loc::new(id, 1, 1);
        let (loc, message, hint) = match self {
            InputError::Command { source, .. } => {
                let needle = match source {
                    CommandError::Set { arg, .. } => Some(arg.as_str()),
                    CommandError::Unsupported { flag } | CommandError::MissingValue { flag } => Some(flag.as_str()),
                    CommandError::NotAgentChart { chart } => Some(chart.as_str()),
                    CommandError::Positionals { found } => found.first().map(String::as_str),
                    _ => None,
                };
                let loc = needle.and_then(|needle| locate(text, needle, id)).unwrap_or(start);
                let hint = match source {
                    CommandError::NotAgentChart { .. } => "import adopts installs of the Kubernetes agent chart (`oci://registry-1.docker.io/octopusdeploy/kubernetes-agent`); keep other releases out of this import",
                    _ => "import reads the command exactly as the install wizard printed it (`helm upgrade --install ... RELEASE oci://.../kubernetes-agent`)",
                };
                (loc, source.to_string(), hint)
            }
            InputError::Yaml { message, loc, .. } => (
                loc.unwrap_or(start),
                format!("not `helm get values -o yaml` output: {message}"),
                "save the output of `helm get values -o yaml RELEASE -n NAMESPACE` as it is",
            ),
            InputError::NotMap { .. } => (
                start,
                "the values are not a mapping".to_owned(),
                "save the output of `helm get values -o yaml RELEASE -n NAMESPACE` as it is",
            ),
            InputError::Release { .. } => (
                start,
                "the release is named by the file name, and this one does not end in `.yaml`".to_owned(),
                "name the file `<release>.yaml`, after the release its values came from",
            ),
            InputError::Computed { line, .. } => (
                Loc::new(id, *line, 1),
                "`helm get values --all` output (`COMPUTED VALUES:`) holds every chart default, not what the install set".to_owned(),
                COMPUTED_HINT,
            ),
            InputError::Empty { .. } => (
                start,
                "the input is empty: no values and no command".to_owned(),
                "save the output of `helm get values -o yaml RELEASE -n NAMESPACE`, or the wizard's `helm upgrade --install` command, in the file",
            ),
        };
        let diagnostic = Diagnostic::error(loc, credentials::scrub(&message, secrets)).with_hint(hint);
        match self {
            // The caret stands on the chart, no credential: the line is shown as it is
            // (its credentials are masked in the kept text already), so the chart it names
            // can be read.
            InputError::Command {
                source: CommandError::NotAgentChart { .. },
                ..
            } => diagnostic,
            _ => diagnostic.redacted(),
        }
    }
}

/// What to do with `helm get values --all` output.
pub(crate) const COMPUTED_HINT: &str = "save `helm get values -o yaml RELEASE -n NAMESPACE` without `--all`: only the values the install set, so that the chart's defaults keep coming from the chart";

/// The place of the first `needle` in `text` (a word of a command line, as the shell
/// gave it; quotes may stand around it in the file, so its first line is looked for).
pub(crate) fn locate(text: &str, needle: &str, id: FileId) -> Option<Loc> {
    let probe = needle.lines().next().filter(|probe| !probe.is_empty())?;
    let probe = probe
        .split(['"', '\'', '\\'])
        .next()
        .filter(|probe| !probe.is_empty())?;
    let at = text.find(probe)?;
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    Some(Loc::new(id, u32::try_from(line).ok()?, u32::try_from(col).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(file: &str, text: &str, sources: &mut Sources) -> Result<Input, InputError> {
        super::read(file, text, sources, &mut Vec::new())
    }

    #[test]
    fn get_values_output_names_its_release_by_file() {
        let mut sources = Sources::new();
        let text = "USER-SUPPLIED VALUES:\nagent:\n  space: Default\n";
        let Input::Values { release, values } = read("dir/build-01.yaml", text, &mut sources).unwrap() else {
            panic!("not values")
        };
        assert_eq!(release, "build-01");
        assert!(matches!(values.value, Value::Map(_)));
        // Places are those of the file.
        assert_eq!(values.get("agent").unwrap().loc.line, 3);
    }

    #[test]
    fn a_command_line_is_a_command_and_bad_files_are_named() {
        let mut sources = Sources::new();
        let text = "helm upgrade --install r oci://registry-1.docker.io/octopusdeploy/kubernetes-agent\n";
        assert!(matches!(read("wizard.sh", text, &mut sources), Ok(Input::Command(_))));
        assert!(matches!(
            read("values.txt", "a: 1\n", &mut sources),
            Err(InputError::Release { .. })
        ));
        assert!(matches!(
            read("r.yaml", "- 1\n", &mut sources),
            Err(InputError::NotMap { .. })
        ));
        assert!(matches!(
            read("r.yaml", "a: [\n", &mut sources),
            Err(InputError::Yaml { .. })
        ));
        assert!(matches!(
            read("r.yaml", "helm install --values x r kubernetes-agent", &mut sources),
            Err(InputError::Command { .. })
        ));
    }

    #[test]
    fn credentials_never_reach_the_kept_text_or_a_message() {
        let mut sources = Sources::new();
        let mut secrets = Vec::new();
        let text = "helm upgrade --install \\\n  --set agent.bearerToken=tok-123456,agent.x[=1 \\\n  r oci://registry-1.docker.io/octopusdeploy/kubernetes-agent\n";
        let error = super::read("w.sh", text, &mut sources, &mut secrets).unwrap_err();
        let diagnostic = error.diagnostic(FileId(0), text, &secrets);
        assert!(!diagnostic.message.contains("tok-123456"), "{}", diagnostic.message);
        assert_eq!(diagnostic.loc.map(|loc| (loc.line, loc.col)), Some((2, 9)));
        let mut report = crate::diagnostic::Report::new();
        report.push(diagnostic);
        let shown = report.render(&sources, false);
        assert!(!shown.contains("tok-123456"), "{shown}");
        assert!(!sources.text(FileId(0)).contains("tok-123456"));
        let cert = "agent:\n  serverCertificate: |\n    MIIBcertline1\n    MIIBcertline2\n";
        super::read("c.yaml", cert, &mut sources, &mut secrets).unwrap();
        assert!(!sources.text(FileId(1)).contains("MIIB"));
    }
}
