//! The head's committed rendered files, read for drift
//! ([`super::compute_with_committed`]): from a revision's Git objects, or from the
//! output folder of the working tree.

use std::cell::RefCell;
use std::collections::HashSet;
use std::path::PathBuf;

use super::ClusterKey;
use crate::git::{ConfigRepo, Revision};
use crate::render::output::{self, OutputError};
use crate::render::Scope;

/// Where the head's committed rendered files are.
pub enum Committed<'a> {
    /// `<output>/` at a revision (`diff --head REV`).
    Revision {
        repo: &'a ConfigRepo,
        revision: &'a Revision<'a>,
    },
    /// The output folder on disk.
    WorkingTree(PathBuf),
}

impl<'a> Committed<'a> {
    /// At `head` if there is one, else in the output folder `root` on disk.
    pub fn new(repo: &'a ConfigRepo, head: Option<&'a Revision<'a>>, root: PathBuf) -> Self {
        match head {
            Some(revision) => Committed::Revision { repo, revision },
            None => Committed::WorkingTree(root),
        }
    }
}

/// Why the committed rendered files could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read `{path}` at {revision}: {message}")]
    Git {
        path: String,
        revision: String,
        message: String,
    },
    #[error(transparent)]
    Disk(#[from] OutputError),
}

/// Reads the committed rendered files of a diff's head within a scope. A file that
/// cannot be read is an error, never an empty file that would show as drift: the
/// first one is kept, for [`CommittedFiles::finish`] after the diff.
pub struct CommittedFiles<'a> {
    at: Committed<'a>,
    output: String,
    scope: &'a Scope,
    error: RefCell<Option<ReadError>>,
}

impl<'a> CommittedFiles<'a> {
    pub fn new(at: Committed<'a>, output: &str, scope: &'a Scope) -> Self {
        Self {
            at,
            output: output.to_string(),
            scope,
            error: RefCell::new(None),
        }
    }

    /// The files of `clusters` (all for `None`) in the scope, by path relative to the
    /// output folder.
    pub fn read(&self, clusters: Option<&HashSet<ClusterKey>>) -> Vec<(String, Vec<u8>)> {
        let folders: Vec<String> = match clusters {
            None => vec![String::new()],
            Some(clusters) => {
                let mut folders: Vec<String> = clusters
                    .iter()
                    .map(|(environment, cluster)| format!("{environment}/{cluster}"))
                    .collect();
                folders.sort();
                folders
            }
        };
        let mut files = Vec::new();
        for folder in folders {
            match self.read_folder(&folder) {
                Ok(found) => files.extend(
                    found
                        .into_iter()
                        .map(|(path, bytes)| (crate::tree::join(&folder, &path), bytes))
                        .filter(|(path, _)| self.in_scope(path)),
                ),
                Err(error) => {
                    self.error.borrow_mut().get_or_insert(error);
                }
            }
        }
        files
    }

    /// The first file that could not be read, if any.
    pub fn finish(self) -> Result<(), ReadError> {
        self.error.into_inner().map_or(Ok(()), Err)
    }

    fn in_scope(&self, path: &str) -> bool {
        let mut parts = path.split('/');
        match (parts.next(), parts.next()) {
            (Some(environment), Some(cluster)) => self.scope.matches(environment, cluster),
            _ => self.scope.is_all(),
        }
    }

    fn read_folder(&self, folder: &str) -> Result<Vec<(String, Vec<u8>)>, ReadError> {
        match &self.at {
            Committed::Revision { repo, revision } => {
                let path = crate::tree::join(&self.output, folder);
                repo.rendered_files(revision, &path).map_err(|error| ReadError::Git {
                    path,
                    revision: revision.label.clone(),
                    message: error.message().to_string(),
                })
            }
            Committed::WorkingTree(root) => Ok(output::read_owned(&root.join(folder))?
                .into_iter()
                .map(|(path, bytes)| (path.to_string_lossy().replace('\\', "/"), bytes))
                .collect()),
        }
    }
}
