//! How a command ends: an [`Outcome`] when it ran to the end, a [`Failure`] when it
//! stopped, and the exit code of each in one table ([`Failure::exit_code`]).
//!
//! Every stage keeps its own error type; [`Failure`] gathers them at the command edge
//! (with `From`, so the commands use `?`), as cargo's `CliError` does. What the user
//! can do about a failure comes from its [`Hint`].

use std::fmt;

use crate::git::GitError;
use crate::hint::Hint;
use crate::init::InitError;
use crate::propose::ProposeError;
use crate::render::output::OutputError;
use crate::render::templates::TemplateError;
use crate::status::StatusError;

/// How a run ended, as the process exit code. A CI job tells the outcomes apart: 1 asks
/// for a review (like `diff --exit-code`), 2 for a fix to the input, 3 for a look at the
/// machine (disk, network, Git).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: success.
    Success,
    /// 1: changes found (`diff --exit-code`, `check`).
    Changes,
    /// 2: invalid input or usage.
    Invalid,
    /// 3: I/O, Git or internal failure.
    Failure,
}

impl Outcome {
    /// [`Outcome::Changes`] when `changes`, else [`Outcome::Success`].
    pub fn changes_if(changes: bool) -> Self {
        if changes {
            Outcome::Changes
        } else {
            Outcome::Success
        }
    }
}

impl From<Outcome> for std::process::ExitCode {
    fn from(outcome: Outcome) -> Self {
        std::process::ExitCode::from(match outcome {
            Outcome::Success => 0,
            Outcome::Changes => 1,
            Outcome::Invalid => 2,
            Outcome::Failure => 3,
        })
    }
}

/// Why a command stopped.
#[derive(Debug)]
pub enum Failure {
    /// The input is invalid, and its diagnostics are already printed.
    Reported,
    /// The command line names something that does not exist, or asks for the impossible.
    Usage { message: String, hint: Option<String> },
    /// Finding the repository or a revision, or reading Git objects.
    Git(GitError),
    /// A step of `propose`.
    Propose(ProposeError),
    /// A template that does not load or render; shown at its line.
    Template(TemplateError),
    /// Writing the rendered tree into `output`, the output folder.
    Output { output: String, error: OutputError },
    /// `init` refused to overwrite, or could not write.
    Init(InitError),
    /// `status`: a bad API key variable (input), or the Octopus API or the network.
    Status(StatusError),
    /// Anything else: I/O with the path in its context, or a bug.
    Other(anyhow::Error),
}

impl Failure {
    /// A usage mistake without a hint.
    pub fn usage(message: impl Into<String>) -> Self {
        Failure::Usage {
            message: message.into(),
            hint: None,
        }
    }

    /// A usage mistake and what to do instead.
    pub fn usage_with_hint(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Failure::Usage {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// `no worker `id``, with the closest of the fleet's worker `ids` as the hint, else
    /// their form.
    pub fn no_worker(id: &str, ids: &[String]) -> Self {
        let hint = match crate::diagnostic::did_you_mean(id, ids.iter().map(String::as_str)) {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!(
                "name it as `<env>/<cluster>/<worker>`, e.g. `{}`",
                ids.first().map_or("production/eu-west-1/deploy", String::as_str)
            ),
        };
        Failure::usage_with_hint(format!("no worker `{id}`"), hint)
    }

    /// The exit code: 2 when the input or the command line is at fault, 3 otherwise.
    pub fn exit_code(&self) -> Outcome {
        match self {
            Failure::Reported
            | Failure::Usage { .. }
            | Failure::Template(_)
            | Failure::Output {
                error: OutputError::Foreign { .. },
                ..
            }
            | Failure::Init(InitError::Exists(_))
            | Failure::Git(GitError::NotAConfigRepo { .. }) => Outcome::Invalid,
            Failure::Propose(error) if error.is_usage() => Outcome::Invalid,
            Failure::Status(error) if error.is_input() => Outcome::Invalid,
            Failure::Git(_)
            | Failure::Propose(_)
            | Failure::Output { .. }
            | Failure::Init(_)
            | Failure::Status(_)
            | Failure::Other(_) => Outcome::Failure,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Reported => f.write_str("the input is invalid"),
            Failure::Usage { message, .. } => f.write_str(message),
            Failure::Git(error) => error.fmt(f),
            Failure::Propose(error) => error.fmt(f),
            Failure::Template(error) => error.fmt(f),
            Failure::Output {
                error: error @ OutputError::Foreign { .. },
                ..
            } => error.fmt(f),
            Failure::Output { error, .. } => write!(f, "cannot write the rendered tree: {}", chain(error)),
            Failure::Init(error) => f.write_str(&chain(error)),
            Failure::Status(error) => error.fmt(f),
            Failure::Other(error) => write!(f, "{error:#}"),
        }
    }
}

impl Hint for Failure {
    fn hint(&self) -> Option<String> {
        match self {
            Failure::Usage { hint, .. } => hint.clone(),
            Failure::Git(error) => error.hint(),
            Failure::Propose(error) => error.hint(),
            Failure::Status(error) => Hint::hint(error),
            Failure::Output {
                output,
                error: OutputError::Foreign { .. },
            } => Some(format!(
                "workergen owns `{output}/`; move those files away, or pass `--force` to replace them"
            )),
            Failure::Init(InitError::Exists(_)) => {
                Some("run `workergen init` in an empty folder, or `-C DIR` for another one".into())
            }
            Failure::Reported
            | Failure::Template(_)
            | Failure::Output { .. }
            | Failure::Init(_)
            | Failure::Other(_) => None,
        }
    }
}

/// An error and its causes, `: `-separated (as anyhow's `{:#}` prints them).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        text.push_str(&format!(": {error}"));
        cause = error.source();
    }
    text
}

impl From<GitError> for Failure {
    fn from(error: GitError) -> Self {
        Failure::Git(error)
    }
}

impl From<ProposeError> for Failure {
    fn from(error: ProposeError) -> Self {
        Failure::Propose(error)
    }
}

impl From<TemplateError> for Failure {
    fn from(error: TemplateError) -> Self {
        Failure::Template(error)
    }
}

impl From<StatusError> for Failure {
    fn from(error: StatusError) -> Self {
        Failure::Status(error)
    }
}

impl From<InitError> for Failure {
    fn from(error: InitError) -> Self {
        Failure::Init(error)
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Failure::Other(error)
    }
}

/// `-C` names a folder: a file there (`-C workergen.yaml`) is a usage mistake (exit 2),
/// not an I/O failure.
pub(crate) fn directory_is_a_folder(directory: &std::path::Path) -> Result<(), Failure> {
    if directory.exists() && !directory.is_dir() {
        return Err(Failure::usage_with_hint(
            format!("`-C {}` is a file, not a folder", directory.display()),
            "pass the config repository's folder, e.g. `-C .`",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        let io = || std::io::Error::other("disk full");
        let cases = [
            (Failure::Reported, Outcome::Invalid),
            (Failure::usage("no environment `x`"), Outcome::Invalid),
            (Failure::Git(GitError::NoBase), Outcome::Failure),
            (
                Failure::Propose(ProposeError::BranchName("a..b".into())),
                Outcome::Invalid,
            ),
            (
                Failure::Propose(ProposeError::Rejected {
                    remote: "origin".into(),
                    message: "protected".into(),
                }),
                Outcome::Failure,
            ),
            (
                Failure::Template(TemplateError::new("t".into(), "bad")),
                Outcome::Invalid,
            ),
            (
                Failure::Output {
                    output: "rendered".into(),
                    error: OutputError::Foreign { paths: Vec::new() },
                },
                Outcome::Invalid,
            ),
            (
                Failure::Output {
                    output: "rendered".into(),
                    error: OutputError::RootNotDirectory { path: "r".into() },
                },
                Outcome::Failure,
            ),
            (Failure::Init(InitError::Exists(Vec::new())), Outcome::Invalid),
            (
                Failure::Init(InitError::Io {
                    path: "w".into(),
                    source: io(),
                }),
                Outcome::Failure,
            ),
            (Failure::Other(anyhow::anyhow!("bug")), Outcome::Failure),
        ];
        for (failure, code) in cases {
            assert_eq!(failure.exit_code(), code, "{failure}");
        }
    }

    #[test]
    fn causes_are_chained() {
        let failure = Failure::Init(InitError::Io {
            path: "workergen.yaml".into(),
            source: std::io::Error::other("disk full"),
        });
        assert_eq!(failure.to_string(), "cannot write `workergen.yaml`: disk full");
    }
}
