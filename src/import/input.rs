//! One import input: a `helm get values -o yaml RELEASE` output saved as `<release>.yaml`
//! (its first line may be Helm's `USER-SUPPLIED VALUES:`), or a wizard command line.

use super::command::{self, CommandError, Install};
use crate::source::Sources;
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
    Yaml { file: String, message: String },
    #[error("{file}: the values are not a mapping")]
    NotMap { file: String },
    #[error("{file}: name it <release>.yaml, after the release its values came from")]
    Release { file: String },
}

/// Reads the input `file` (its path, for the release name and messages) holding `text`.
pub fn read(file: &str, text: &str, sources: &mut Sources) -> Result<Input, InputError> {
    let body = text.trim_start();
    if body.starts_with("helm ") || body.starts_with("helm\t") {
        return command::parse(body)
            .map(Input::Command)
            .map_err(|source| InputError::Command {
                file: file.to_owned(),
                source,
            });
    }
    let release = release_of(file).ok_or_else(|| InputError::Release { file: file.to_owned() })?;
    let body = match text.split_once('\n') {
        Some((first, rest)) if first.trim_end() == "USER-SUPPLIED VALUES:" => rest,
        _ if text.trim_end() == "USER-SUPPLIED VALUES:" => "",
        _ => text,
    };
    let id = sources.add(file, body);
    let values = yaml::parse(body, id, Limits::default()).map_err(|diagnostic| InputError::Yaml {
        file: file.to_owned(),
        message: diagnostic.message,
    })?;
    match values.value {
        // `helm get values` prints `null` when nothing was supplied.
        Value::Map(_) | Value::Null => Ok(Input::Values { release, values }),
        _ => Err(InputError::NotMap { file: file.to_owned() }),
    }
}

/// `build-01` for `some/dir/build-01.yaml` (or `.yml`).
fn release_of(file: &str) -> Option<String> {
    let name = file.rsplit(['/', '\\']).next()?;
    let stem = name.strip_suffix(".yaml").or_else(|| name.strip_suffix(".yml"))?;
    (!stem.is_empty()).then(|| stem.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_values_output_names_its_release_by_file() {
        let mut sources = Sources::new();
        let text = "USER-SUPPLIED VALUES:\nagent:\n  space: Default\n";
        let Input::Values { release, values } = read("dir/build-01.yaml", text, &mut sources).unwrap() else {
            panic!("not values")
        };
        assert_eq!(release, "build-01");
        assert!(matches!(values.value, Value::Map(_)));
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
}
