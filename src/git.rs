//! The config repository's Git side: finding it, choosing the base, reading revisions.
//!
//! Everything here only reads: the working tree, the index, refs and config are never
//! modified (`diff` and `check` are safe to run anywhere).

use std::path::{Path, PathBuf};

use git2::{Commit, Repository};

use crate::hint::Hint;
use crate::load::{ENVIRONMENTS, MAX_FILE_BYTES, REPO_FILE};
use crate::render::templates::OVERRIDES;
use crate::tree::git::GitTree;

/// A Git problem, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("`{}` is not in a Git repository", dir.display())]
    NotARepository { dir: PathBuf },
    #[error("the Git repository at `{}` has no working tree", dir.display())]
    Bare { dir: PathBuf },
    #[error("unknown revision `{revision}`")]
    UnknownRevision { revision: String, shallow: bool },
    #[error("`{revision}` names a {kind}, not a commit")]
    NotACommit { revision: String, kind: String },
    #[error("no base to compare with: the current branch has no upstream, and there is no `origin/main` or `main`")]
    NoBase,
    #[error("`{revision}` has no `{path}`")]
    NoDeclarations { revision: String, path: String },
    /// `-C` names a folder that is no config repository, in the working tree as in the
    /// base: saying the base lacks the declarations would send the user after the base.
    #[error("no `{REPO_FILE}` in `{}`", dir.display())]
    NotAConfigRepo {
        dir: PathBuf,
        /// The config repository the folder is inside of, as the path to pass to `-C`.
        enclosing: Option<PathBuf>,
    },
    #[error("git: {}", .0.message())]
    Other(#[from] git2::Error),
}

impl Hint for GitError {
    fn hint(&self) -> Option<String> {
        match self {
            GitError::NotARepository { .. } => Some("run in a clone of the config repository, or pass `-C DIR`".into()),
            GitError::Bare { .. } => Some("run in a clone with a working tree, or pass `--head REV`".into()),
            GitError::UnknownRevision { shallow: true, .. } => Some(
                "this is a shallow clone that may lack it: fetch with full depth (`git fetch --unshallow`, or `fetch-depth: 0` in CI)".into(),
            ),
            GitError::UnknownRevision { .. } => Some("name a branch, tag or commit, e.g. `--base origin/main`".into()),
            GitError::NotACommit { .. } => {
                Some("workergen compares commits: name a branch, tag or commit, e.g. `--base HEAD~1`".into())
            }
            GitError::NoBase => Some("pass `--base REV`".into()),
            GitError::NotAConfigRepo {
                enclosing: Some(enclosing), ..
            } => Some(format!(
                "the folder is inside the config repository `{}`: pass `-C {}`",
                enclosing.display(),
                enclosing.display()
            )),
            GitError::NotAConfigRepo { enclosing: None, .. } => {
                Some("run workergen in a config repository (or pass `-C DIR`), or create one with `workergen init`".into())
            }
            GitError::NoDeclarations { .. } => Some(
                "compare with a revision that has the declarations, or pass `--allow-empty-base` to treat every worker as added".into(),
            ),
            GitError::Other(error) => error.hint(),
        }
    }
}

/// What to do about a libgit2 error, in words (its class and code say it only in numbers).
impl Hint for git2::Error {
    fn hint(&self) -> Option<String> {
        use git2::{ErrorClass, ErrorCode};
        let hint = match (self.code(), self.class()) {
            (ErrorCode::Auth, _) | (_, ErrorClass::Ssh) => {
                "the remote refused the credentials: give an https token as `WORKERGEN_GIT_TOKEN`, or load an ssh key into the ssh agent"
            }
            (ErrorCode::Certificate, _) => "the remote's TLS certificate is not trusted: check the URL, or the system's CA certificates",
            (ErrorCode::Locked, _) => "another git process holds a lock in this repository: wait for it, or remove its stale `.lock` file",
            (ErrorCode::NotFastForward | ErrorCode::Modified, _) => {
                "the branch changed while propose ran: fetch and run propose again"
            }
            (_, ErrorClass::Net | ErrorClass::Http) => "check the remote's URL (`git remote -v`) and the network",
            (_, ErrorClass::Config) => "check the git configuration (`git config --list --show-origin`)",
            (_, ErrorClass::Reference) => "check the branch name and the repository's refs (`git show-ref`)",
            (_, ErrorClass::Os | ErrorClass::Filesystem) => "check that the repository's `.git` folder is writable and the disk not full",
            _ => "the same operation with the git CLI may say more",
        };
        Some(hint.to_string())
    }
}

/// The Git repository holding a config repository, and where in it the config is.
pub struct ConfigRepo {
    pub repository: Repository,
    /// The config repository's folder relative to the work tree (`""` at its top).
    pub prefix: String,
    /// The folder as `-C` gave it, for messages.
    dir: PathBuf,
}

/// A revision chosen as a side of a diff.
pub struct Revision<'r> {
    pub commit: Commit<'r>,
    /// How it was chosen, for messages: `origin/main (merge-base 1a2b3c4)`.
    pub label: String,
}

fn short(commit: &Commit<'_>) -> String {
    commit.id().to_string()[..7].to_string()
}

impl ConfigRepo {
    /// Finds the repository that holds `dir`.
    pub fn open(dir: &Path) -> Result<Self, GitError> {
        let repository = Repository::discover(dir).map_err(|_| GitError::NotARepository { dir: dir.to_path_buf() })?;
        let workdir = repository
            .workdir()
            .ok_or_else(|| GitError::Bare { dir: dir.to_path_buf() })?
            .to_path_buf();
        let canonical = |path: &Path| path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let prefix = canonical(dir)
            .strip_prefix(canonical(&workdir))
            .map(|rest| rest.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        Ok(Self {
            repository,
            prefix,
            dir: dir.to_path_buf(),
        })
    }

    /// The commit `revision` names.
    pub fn revision(&self, revision: &str) -> Result<Revision<'_>, GitError> {
        let object = self
            .repository
            .revparse_single(revision)
            .map_err(|_| GitError::UnknownRevision {
                revision: revision.to_string(),
                shallow: self.repository.is_shallow(),
            })?;
        // `HEAD^{tree}` or a blob's id exists, but holds no commit to compare.
        let commit = object.peel_to_commit().map_err(|_| GitError::NotACommit {
            revision: revision.to_string(),
            kind: object
                .kind()
                .map_or_else(|| "object".to_string(), |kind| kind.to_string()),
        })?;
        let label = format!("{revision} ({})", short(&commit));
        Ok(Revision { commit, label })
    }

    /// The default base: the merge-base of HEAD and the current branch's upstream, else
    /// of HEAD and `origin/main`, else of HEAD and `main`.
    pub fn default_base(&self) -> Result<Revision<'_>, GitError> {
        let head = self.revision("HEAD")?;
        let upstream = self
            .repository
            .head()
            .ok()
            .filter(git2::Reference::is_branch)
            .and_then(|reference| git2::Branch::wrap(reference).upstream().ok())
            .and_then(|branch| branch.name().ok().flatten().map(str::to_string));
        for candidate in upstream.iter().map(String::as_str).chain(["origin/main", "main"]) {
            let Ok(other) = self.revision(candidate) else {
                continue;
            };
            let base = match self.repository.merge_base(head.commit.id(), other.commit.id()) {
                Ok(id) => self.repository.find_commit(id)?,
                Err(_) if self.repository.is_shallow() => {
                    return Err(GitError::UnknownRevision {
                        revision: format!("merge-base of HEAD and {candidate}"),
                        shallow: true,
                    })
                }
                Err(_) => continue,
            };
            let label = format!("merge-base of HEAD and {candidate} ({})", short(&base));
            return Ok(Revision { commit: base, label });
        }
        Err(GitError::NoBase)
    }

    /// The declarations (and template overrides) of a revision, read from Git objects.
    /// `None` when the revision has no `workergen.yaml` there.
    pub fn declarations(&self, revision: &Revision<'_>) -> Result<Option<GitTree>, GitError> {
        let Some(tree) = self.config_tree(revision)? else {
            return Ok(None);
        };
        if tree.get_name(REPO_FILE).is_none() {
            return Ok(None);
        }
        let snapshot = GitTree::snapshot(
            &self.repository,
            &tree,
            &[REPO_FILE, ENVIRONMENTS, OVERRIDES],
            MAX_FILE_BYTES,
            revision.label.clone(),
        )
        .map_err(|error| git2::Error::from_str(&error.to_string()))?;
        Ok(Some(snapshot))
    }

    /// [`Self::declarations`], where a revision without them is an error.
    pub fn required_declarations(&self, revision: &Revision<'_>) -> Result<GitTree, GitError> {
        self.declarations(revision)?.ok_or_else(|| {
            if self.dir.join(REPO_FILE).is_file() {
                GitError::NoDeclarations {
                    revision: revision.label.clone(),
                    path: self.repo_file_path(),
                }
            } else {
                GitError::NotAConfigRepo {
                    dir: self.dir.clone(),
                    enclosing: self.enclosing_config(),
                }
            }
        })
    }

    /// The nearest folder above `-C`'s, within the work tree, that holds a
    /// `workergen.yaml`: where the user most likely meant to point (`-C environments`
    /// inside a config repository).
    fn enclosing_config(&self) -> Option<PathBuf> {
        let workdir = self.repository.workdir()?.canonicalize().ok()?;
        let dir = self.dir.canonicalize().ok()?;
        let found = dir
            .ancestors()
            .skip(1)
            .take_while(|folder| folder.starts_with(&workdir))
            .find(|folder| folder.join(REPO_FILE).is_file())?;
        // Relative to where workergen runs when it is below it (`.` for `-C environments`
        // run at the config repository's top), else as it is.
        let here = std::env::current_dir().and_then(|here| here.canonicalize()).ok();
        Some(
            match here.and_then(|here| found.strip_prefix(here).ok().map(Path::to_path_buf)) {
                Some(relative) if relative.as_os_str().is_empty() => PathBuf::from("."),
                Some(relative) => relative,
                None => found.to_path_buf(),
            },
        )
    }

    /// The config folder's tree at a revision.
    fn config_tree<'r>(&'r self, revision: &Revision<'r>) -> Result<Option<git2::Tree<'r>>, GitError> {
        let root = self.repository.find_tree(revision.commit.tree_id())?;
        if self.prefix.is_empty() {
            return Ok(Some(root));
        }
        match root.get_path(Path::new(&self.prefix)) {
            Ok(entry) => Ok(Some(self.repository.find_tree(entry.id())?)),
            Err(_) => Ok(None),
        }
    }

    /// The files under the config repo's output folder at a revision, by path relative to
    /// that folder.
    pub fn rendered_files(&self, revision: &Revision<'_>, output: &str) -> Result<Vec<(String, Vec<u8>)>, git2::Error> {
        let Some(tree) = self
            .config_tree(revision)
            .map_err(|error| git2::Error::from_str(&error.to_string()))?
        else {
            return Ok(Vec::new());
        };
        let Ok(entry) = tree.get_path(Path::new(output)) else {
            return Ok(Vec::new());
        };
        let Ok(output_tree) = self.repository.find_tree(entry.id()) else {
            return Ok(Vec::new());
        };
        let mut files = Vec::new();
        for (path, blob) in blobs(&output_tree)? {
            files.push((path, self.repository.find_blob(blob)?.content().to_vec()));
        }
        Ok(files)
    }

    /// The path of the config repository's `workergen.yaml` in the Git tree, for messages.
    pub fn repo_file_path(&self) -> String {
        crate::tree::join(&self.prefix, REPO_FILE)
    }
}

/// Every blob under `tree`, by `/`-separated path.
pub fn blobs(tree: &git2::Tree<'_>) -> Result<Vec<(String, git2::Oid)>, git2::Error> {
    let mut out = Vec::new();
    tree.walk(git2::TreeWalkMode::PreOrder, |folder, entry| {
        if entry.kind() == Some(git2::ObjectType::Blob) {
            if let Ok(name) = entry.name() {
                out.push((format!("{folder}{name}"), entry.id()));
            }
        }
        git2::TreeWalkResult::Ok
    })?;
    Ok(out)
}
