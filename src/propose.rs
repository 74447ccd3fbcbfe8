//! Propose: commit the re-rendered tree on a branch, built in memory, and push it.
//!
//! The commit's tree is the base revision's tree with `<output>/` replaced by a fresh
//! render of the base's declarations; its parent is the base. Everything is written to
//! the object database with a tree builder: the working tree, the index, HEAD and every
//! other branch stay as they are.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use git2::{BranchType, Oid, Repository, Signature, Tree};

use crate::diagnostic::Report;
use crate::diff::Diff;
use crate::git::{ConfigRepo, GitError, Revision};
use crate::hint::Hint;
use crate::model::Fleet;
use crate::render::output::MARKER;
use crate::render::templates::{TemplateError, Templates};
use crate::render::Scope;

const FILE_MODE: i32 = 0o100644;
const TREE_MODE: i32 = 0o040000;

/// Why propose stopped.
#[derive(Debug, thiserror::Error)]
pub enum ProposeError {
    #[error("branch `{branch}` exists and points elsewhere")]
    BranchExists { branch: String },
    #[error("branch `{branch}` is checked out{}", worktree.as_ref().map(|w| format!(" in worktree `{w}`")).unwrap_or_default())]
    CheckedOut { branch: String, worktree: Option<String> },
    #[error("files without the workergen marker are in the way in `{output}/`: {}", paths.join(", "))]
    Foreign { output: String, paths: Vec<String> },
    #[error("{message}")]
    Retired { message: String, hint: String },
    #[error("`--author` must look like `Name <email>`, not `{0}`")]
    Author(String),
    #[error("no author: {}", .0.message())]
    NoSignature(git2::Error),
    #[error("`{0}` is not a valid branch name")]
    BranchName(String),
    #[error("no remote `{remote}`{}", if known.is_empty() { String::new() } else { format!("; there are: {}", known.join(", ")) })]
    NoRemote { remote: String, known: Vec<String> },
    #[error("cannot write the PR body to `{}`: {source}", path.display())]
    BodyFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the remote's `{branch}` is at {found}, not at {expected} as last fetched; someone else pushed to it")]
    Lease {
        branch: String,
        expected: String,
        found: String,
    },
    #[error("push to `{remote}` was rejected: {message}")]
    Rejected { remote: String, message: String },
    /// The push did not get through to the remote's host: nothing about the local
    /// repository is at fault, whatever class libgit2 gives the failure (a refused
    /// connection is an OS error to it).
    #[error("cannot reach the remote `{remote}`: {}", .source.message())]
    Unreachable { remote: String, source: git2::Error },
    #[error("git: {}", .0.message())]
    Git(#[from] git2::Error),
    #[error(transparent)]
    Repo(#[from] GitError),
    #[error("cannot read the declarations of {label}: {source}")]
    Read {
        label: String,
        #[source]
        source: std::io::Error,
    },
    /// The base's declarations have errors; `report` holds them, to print with `fleet`'s
    /// sources.
    #[error("the declarations of {label} are invalid")]
    Declarations {
        label: String,
        fleet: Box<Fleet>,
        report: Report,
    },
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A step after the commit failed; the branch the commit made was put back, unless
    /// `rollback` says why it could not be.
    #[error("{error}")]
    RolledBack {
        error: Box<ProposeError>,
        branch: String,
        rollback: Option<git2::Error>,
    },
}

impl Hint for ProposeError {
    fn hint(&self) -> Option<String> {
        let hint = match self {
            ProposeError::BranchName(_) => {
                "e.g. `--branch workergen/chart-3.13.2` (see `git check-ref-format --branch`)"
            }
            ProposeError::NoRemote { .. } => "name a configured remote (`git remote -v`), e.g. `--push origin`",
            ProposeError::BodyFile { .. } => "choose a `--body-file` in a folder that exists and that you can write to",
            ProposeError::BranchExists { .. } => "pass `--force` to replace it, or choose another `--branch`",
            ProposeError::CheckedOut { .. } => {
                "propose never moves a checked-out branch (it would change that checkout): choose another `--branch`"
            }
            ProposeError::Foreign { .. } => {
                "move those files out of the output folder, or pass `--force` to replace them"
            }
            ProposeError::Author(_) => "e.g. `--author \"Workers Bot <workers-bot@example.com>\"`",
            ProposeError::NoSignature(_) => "set `user.name` and `user.email` in git config, or pass `--author`",
            ProposeError::Lease { .. } => "fetch, look at what changed, and run propose again",
            ProposeError::Rejected { .. } => {
                "check the credentials and the remote's branch protection; replacing a branch needs `--force`"
            }
            ProposeError::Unreachable { .. } => {
                "the remote's host could not be reached: check the remote's URL (`git remote -v`) and the network"
            }
            ProposeError::Retired { hint, .. } => return Some(hint.clone()),
            ProposeError::Git(error) => return error.hint(),
            ProposeError::Repo(error) => return error.hint(),
            ProposeError::Read { .. } | ProposeError::Declarations { .. } | ProposeError::Template(_) => return None,
            ProposeError::RolledBack { error, .. } => return error.hint(),
        };
        Some(hint.to_string())
    }
}

impl ProposeError {
    /// Whether the input (rather than Git or the network) is at fault.
    pub fn is_usage(&self) -> bool {
        match self {
            ProposeError::RolledBack { error, .. } => error.is_usage(),
            _ => matches!(
                self,
                ProposeError::BranchExists { .. }
                    | ProposeError::CheckedOut { .. }
                    | ProposeError::Foreign { .. }
                    | ProposeError::Retired { .. }
                    | ProposeError::Author(_)
                    | ProposeError::BranchName(_)
                    | ProposeError::NoRemote { .. }
                    | ProposeError::Declarations { .. }
                    | ProposeError::Template(_)
            ),
        }
    }

    /// What became of the branch after a failed step, printed after the error and its
    /// hint: put back, or left for the user to delete.
    pub fn rollback_note(&self) -> Option<String> {
        let ProposeError::RolledBack { branch, rollback, .. } = self else {
            return None;
        };
        Some(match rollback {
            None => format!("note: branch {branch} was put back as it was"),
            Some(error) => format!(
                "error: cannot put branch {branch} back: {}\n  hint: delete it with `git branch -D {branch}`",
                error.message()
            ),
        })
    }
}

/// A folder of the new tree being built.
#[derive(Default)]
struct Folder {
    files: BTreeMap<String, Oid>,
    folders: BTreeMap<String, Folder>,
}

impl Folder {
    fn insert(&mut self, path: &[&str], blob: Oid) {
        match path {
            [name] => {
                self.files.insert((*name).to_string(), blob);
            }
            [first, rest @ ..] => self.folders.entry((*first).to_string()).or_default().insert(rest, blob),
            [] => {}
        }
    }

    fn contains(&self, path: &[&str]) -> bool {
        match path {
            [name] => self.files.contains_key(*name) || self.folders.contains_key(*name),
            [first, rest @ ..] => self.folders.get(*first).is_some_and(|folder| folder.contains(rest)),
            [] => true,
        }
    }

    /// Writes the folder's tree; `None` when it holds nothing (Git stores no empty trees).
    fn write(&self, repository: &Repository) -> Result<Option<Oid>, git2::Error> {
        let mut builder = repository.treebuilder(None)?;
        for (name, blob) in &self.files {
            builder.insert(name, *blob, FILE_MODE)?;
        }
        for (name, folder) in &self.folders {
            if let Some(tree) = folder.write(repository)? {
                builder.insert(name, tree, TREE_MODE)?;
            }
        }
        if builder.is_empty() {
            return Ok(None);
        }
        builder.write().map(Some)
    }
}

/// The tree at `path` (components) of `tree`, if it is a folder.
fn subtree<'r>(repository: &'r Repository, tree: &Tree<'r>, path: &str) -> Option<Tree<'r>> {
    if path.is_empty() {
        return repository.find_tree(tree.id()).ok();
    }
    let entry = tree.get_path(Path::new(path)).ok()?;
    repository.find_tree(entry.id()).ok()
}

/// The new output tree: the rendered files, plus files of the base's output folder that
/// workergen did not write (kept where nothing of ours goes).
fn output_tree(
    repository: &Repository,
    base_output: Option<&Tree<'_>>,
    files: &crate::render::output::Files,
    output: &str,
    force: bool,
) -> Result<Option<Oid>, ProposeError> {
    let mut folder = Folder::default();
    for (path, bytes) in files {
        let path = path.to_string_lossy().replace('\\', "/");
        let parts: Vec<&str> = path.split('/').collect();
        folder.insert(&parts, repository.blob(bytes)?);
    }
    let mut in_the_way = Vec::new();
    if let Some(base_output) = base_output {
        for (path, blob) in crate::git::blobs(base_output)? {
            let content = repository.find_blob(blob)?;
            if content.content().starts_with(MARKER.as_bytes()) {
                continue;
            }
            let parts: Vec<&str> = path.split('/').collect();
            if folder.contains(&parts) {
                in_the_way.push(format!("{output}/{path}"));
            } else {
                folder.insert(&parts, blob);
            }
        }
    }
    if !in_the_way.is_empty() && !force {
        return Err(ProposeError::Foreign {
            output: output.to_string(),
            paths: in_the_way,
        });
    }
    Ok(folder.write(repository)?)
}

/// `tree` with the folder at `path` replaced by `new` (or removed for `None`).
fn replace(
    repository: &Repository,
    tree: Option<&Tree<'_>>,
    path: &[&str],
    new: Option<Oid>,
) -> Result<Option<Oid>, git2::Error> {
    let Some((first, rest)) = path.split_first() else {
        return Ok(new);
    };
    let mut builder = repository.treebuilder(tree)?;
    let replacement = if rest.is_empty() {
        new
    } else {
        let child = tree
            .and_then(|tree| tree.get_name(first))
            .filter(|entry| entry.kind() == Some(git2::ObjectType::Tree))
            .map(|entry| repository.find_tree(entry.id()))
            .transpose()?;
        replace(repository, child.as_ref(), rest, new)?
    };
    match replacement {
        Some(oid) => {
            builder.insert(first, oid, TREE_MODE)?;
        }
        None => {
            if builder.get(first)?.is_some() {
                builder.remove(first)?;
            }
        }
    }
    if builder.is_empty() {
        return Ok(None);
    }
    builder.write().map(Some)
}

/// The branch [`commit`] made or found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProposedBranch {
    pub branch: String,
    pub commit: String,
    pub parent: String,
    /// False when the branch already held this tree.
    pub created: bool,
    /// True when an existing branch was moved to the new commit (a push must replace it).
    pub replaced: bool,
    /// Where a replaced branch pointed before, to put it back if a later step fails.
    #[serde(skip)]
    pub previous: Option<Oid>,
}

/// What `propose` takes from the command line.
#[derive(Debug, Clone, Default)]
pub struct ProposeOptions {
    /// The revision whose declarations are rendered and on which the commit is made.
    pub base: String,
    /// The branch to commit on (default `workergen/<rendered tree id>`).
    pub branch: Option<String>,
    /// `Name <email>`, else git config's `user.name` and `user.email`.
    pub author: Option<String>,
    /// The remote to push the branch to.
    pub push: Option<String>,
    /// Replace an existing branch and files workergen did not write.
    pub force: bool,
    /// Where to write the PR body (written only once the branch and push succeeded).
    pub body_file: Option<PathBuf>,
    pub auth: PushAuth,
}

impl ProposeOptions {
    /// Checks `--author` and `--branch`, which need no repository.
    pub fn check(&self) -> Result<(), ProposeError> {
        if let Some(author) = &self.author {
            parse_author(author)?;
        }
        if let Some(branch) = &self.branch {
            check_branch_name(branch)?;
        }
        Ok(())
    }
}

/// What [`propose`] did.
#[derive(Debug, Clone)]
pub enum Proposal {
    /// `<output>/` at the base already holds a fresh render: nothing was written.
    UpToDate {
        output: String,
        /// The base's label, for messages.
        base: String,
        /// The base commit.
        parent: String,
    },
    /// A branch holds the fresh render: made now, or found holding it already.
    Branch {
        branch: ProposedBranch,
        /// The PR body: the committed rendered tree against the fresh render.
        body: String,
        /// The remote it was pushed to.
        pushed: Option<String>,
    },
}

impl Proposal {
    /// What was done, for stderr: `created branch ... at ... (parent ...)`.
    pub fn summary(&self) -> String {
        match self {
            Proposal::UpToDate { output, base, .. } => {
                format!("`{output}/` at {base} is up to date: no branch created")
            }
            Proposal::Branch { branch, pushed, .. } => {
                let verb = if branch.created { "created" } else { "unchanged:" };
                let mut text = format!(
                    "{verb} branch {} at {} (parent {})",
                    branch.branch,
                    &branch.commit[..12],
                    &branch.parent[..branch.parent.len().min(12)]
                );
                if let Some(remote) = pushed {
                    text.push_str(&format!("\npushed {} to {remote}", branch.branch));
                }
                text
            }
        }
    }

    /// The documented fields of `propose --output json`, also when there is nothing to
    /// propose.
    pub fn json(&self) -> serde_json::Value {
        match self {
            Proposal::UpToDate { parent, .. } => serde_json::json!({
                "changed": false,
                "branch": null,
                "commit": null,
                "parent": parent,
                "created": false,
                "pushed": null,
                "body": "",
            }),
            Proposal::Branch { branch, body, pushed } => serde_json::json!({
                "changed": true,
                "branch": branch.branch,
                "commit": branch.commit,
                "parent": branch.parent,
                "created": branch.created,
                "pushed": pushed,
                "body": body,
            }),
        }
    }
}

/// Renders the base's declarations, commits the result on a branch and pushes it: the
/// whole of `workergen propose`. Everything that can be checked is checked before a
/// branch exists (a half-made branch is worse than none), and a failure after the commit
/// puts the branch back.
pub fn propose(repo: &ConfigRepo, options: &ProposeOptions) -> Result<Proposal, ProposeError> {
    options.check()?;
    let signature = signature(&repo.repository, options.author.as_deref())?;
    if let Some(remote) = &options.push {
        check_remote(repo, remote)?;
    }
    let base = repo.revision(&options.base)?;
    let (fleet, templates) = load_base(repo, &base)?;
    // Built once: its bytes are the new tree, its trees the pull request's diff.
    let built = crate::render::build(&fleet, &templates, &Scope::default(), false)?;
    let (files, _) = built.emit(&fleet);
    if !options.force {
        let committed = repo.rendered_files(&base, &fleet.settings.output.value)?;
        let retired = crate::render::retire::retired_in(&committed, &files);
        if let Some((message, hint)) = crate::render::retire::message(&fleet.settings.output.value, &retired) {
            return Err(ProposeError::Retired { message, hint });
        }
    }
    let output = fleet.settings.output.value.clone();
    let head_states = crate::diff::states_of(built, &output);
    let (rendered_id, new_tree) = new_tree(repo, &base, &files, &output, options.force)?;
    let Some(new_tree) = new_tree else {
        return Ok(Proposal::UpToDate {
            output,
            base: base.label.clone(),
            parent: base.commit.id().to_string(),
        });
    };
    let diff = body_diff(repo, &base, &fleet, &output, head_states)?;
    let body = crate::diff::markdown::render(&diff);
    // Written beside its place first, so an unwritable `--body-file` stops propose
    // before the branch exists; moved into place once the branch (and push) succeeded.
    let body_file = options
        .body_file
        .as_deref()
        .map(|path| PendingFile::write(path, &body))
        .transpose()?;
    let branch = options
        .branch
        .clone()
        .unwrap_or_else(|| format!("workergen/{}", &rendered_id.to_string()[..12]));
    let output_path = crate::tree::join(&repo.prefix, &output);
    let made = commit(
        repo,
        &base,
        new_tree,
        rendered_id,
        &branch,
        &message(&diff),
        &signature,
        options.force,
        &output_path,
    )?;
    publish(repo, &made, options, body_file).map_err(|error| undo(repo, &made, error))?;
    Ok(Proposal::Branch {
        branch: made,
        body,
        pushed: options.push.clone(),
    })
}

/// The base's declarations and templates, when they are valid.
fn load_base(repo: &ConfigRepo, base: &Revision<'_>) -> Result<(Fleet, Templates), ProposeError> {
    let tree = repo.required_declarations(base)?;
    let (fleet, report) = crate::load_fleet(&tree).map_err(|source| ProposeError::Read {
        label: base.label.clone(),
        source,
    })?;
    if report.has_errors() {
        return Err(ProposeError::Declarations {
            label: base.label.clone(),
            fleet: Box::new(fleet),
            report,
        });
    }
    let templates = Templates::load(&tree)?;
    Ok((fleet, templates))
}

/// The PR body's diff: `<output>/` as committed at the base against the fresh render.
fn body_diff(
    repo: &ConfigRepo,
    base: &Revision<'_>,
    fleet: &Fleet,
    output: &str,
    fresh: BTreeMap<String, crate::diff::WorkerState>,
) -> Result<Diff, ProposeError> {
    let committed = repo.rendered_files(base, output)?;
    let base_states =
        crate::diff::states_from_rendered(committed.iter().map(|(p, b)| (p.as_str(), b.as_slice())), output);
    let empty = Fleet::empty();
    let base_label = format!("{output}/ at {}", base.label);
    Ok(crate::diff::compare_states(
        (&base_label, &empty, base_states),
        ("fresh render", fleet, fresh),
    ))
}

/// The steps after the commit: the push (a replaced branch needs a forced push, always
/// with the lease), then the PR body moved into place.
fn publish(
    repo: &ConfigRepo,
    made: &ProposedBranch,
    options: &ProposeOptions,
    body_file: Option<PendingFile>,
) -> Result<(), ProposeError> {
    if let Some(remote) = &options.push {
        push(
            repo,
            remote,
            &made.branch,
            options.force || made.replaced,
            &options.auth,
        )?;
    }
    if let Some(pending) = body_file {
        pending.finish()?;
    }
    Ok(())
}

/// A file written under a temporary name in its folder, renamed into place by
/// [`PendingFile::finish`] or removed when dropped unfinished.
struct PendingFile {
    temporary: tempfile::NamedTempFile,
    path: std::path::PathBuf,
}

impl PendingFile {
    fn write(path: &std::path::Path, text: &str) -> Result<Self, ProposeError> {
        use std::io::Write as _;
        let body_error = |source| ProposeError::BodyFile {
            path: path.to_path_buf(),
            source,
        };
        let name = path
            .file_name()
            .ok_or_else(|| body_error(std::io::Error::other("it names no file")))?;
        if path.is_dir() {
            return Err(body_error(std::io::Error::other("it is a folder")));
        }
        let folder = path.parent().filter(|folder| !folder.as_os_str().is_empty());
        let mut prefix = std::ffi::OsString::from(".");
        prefix.push(name);
        prefix.push(".workergen-");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        // Readable as a file written by `std::fs::write` is (the umask applies), not
        // only by its owner as a temporary file is by default.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let mut temporary = builder
            .tempfile_in(folder.unwrap_or(std::path::Path::new(".")))
            .map_err(body_error)?;
        temporary.write_all(text.as_bytes()).map_err(body_error)?;
        Ok(Self {
            temporary,
            path: path.to_path_buf(),
        })
    }

    fn finish(self) -> Result<(), ProposeError> {
        self.temporary
            .persist(&self.path)
            .map(drop)
            .map_err(|error| ProposeError::BodyFile {
                path: self.path,
                source: error.error,
            })
    }
}

/// Checks `--branch` before anything is written.
pub fn check_branch_name(branch: &str) -> Result<(), ProposeError> {
    if git2::Branch::name_is_valid(branch).unwrap_or(false) {
        Ok(())
    } else {
        Err(ProposeError::BranchName(branch.to_string()))
    }
}

/// Checks that `--push REMOTE` names a configured remote, before anything is written.
pub fn check_remote(repo: &ConfigRepo, remote: &str) -> Result<(), ProposeError> {
    if repo.repository.find_remote(remote).is_ok() {
        return Ok(());
    }
    let known = repo
        .repository
        .remotes()
        .map(|names| names.iter().flatten().flatten().map(str::to_string).collect())
        .unwrap_or_default();
    Err(ProposeError::NoRemote {
        remote: remote.to_string(),
        known,
    })
}

/// Undoes what [`commit`] did to the branch: deletes a branch it created, or moves a
/// branch it replaced back. Called when a later step (push, PR body) fails, so no
/// failure leaves a branch behind.
pub fn roll_back(repo: &ConfigRepo, proposal: &ProposedBranch) -> Result<(), git2::Error> {
    if !proposal.created {
        return Ok(());
    }
    let name = format!("refs/heads/{}", proposal.branch);
    match proposal.previous {
        Some(previous) => {
            repo.repository
                .reference(&name, previous, true, "workergen propose: roll back")?;
        }
        None => repo.repository.find_reference(&name)?.delete()?,
    }
    Ok(())
}

/// `error`, after [`roll_back`] put the branch [`commit`] made back as it was.
pub fn undo(repo: &ConfigRepo, proposal: &ProposedBranch, error: ProposeError) -> ProposeError {
    if !proposal.created {
        return error;
    }
    ProposeError::RolledBack {
        error: Box::new(error),
        branch: proposal.branch.clone(),
        rollback: roll_back(repo, proposal).err(),
    }
}

/// The new tree for the base with `<prefix>/<output>` replaced by `files`; `None` when it
/// equals the base's tree.
pub fn new_tree(
    repo: &ConfigRepo,
    base: &Revision<'_>,
    files: &crate::render::output::Files,
    output: &str,
    force: bool,
) -> Result<(Oid, Option<Oid>), ProposeError> {
    let repository = &repo.repository;
    let base_tree = repository.find_tree(base.commit.tree_id())?;
    let output_path = crate::tree::join(&repo.prefix, output);
    let base_output = subtree(repository, &base_tree, &output_path);
    let rendered = output_tree(repository, base_output.as_ref(), files, &output_path, force)?;
    let parts: Vec<&str> = output_path.split('/').filter(|part| !part.is_empty()).collect();
    let tree = replace(repository, Some(&base_tree), &parts, rendered)?
        .map_or_else(|| repository.treebuilder(None)?.write(), Ok)?;
    let rendered_id = rendered.unwrap_or(tree);
    Ok((rendered_id, (tree != base_tree.id()).then_some(tree)))
}

/// Parses `Name <email>`.
pub fn parse_author(text: &str) -> Result<(String, String), ProposeError> {
    let (name, rest) = text.split_once('<').ok_or_else(|| ProposeError::Author(text.into()))?;
    let email = rest
        .strip_suffix('>')
        .ok_or_else(|| ProposeError::Author(text.into()))?;
    let name = name.trim();
    if name.is_empty() || email.trim().is_empty() || email.contains(['<', '>']) {
        return Err(ProposeError::Author(text.into()));
    }
    Ok((name.to_string(), email.trim().to_string()))
}

/// The author and committer: `--author`, else git config's `user.name` and `user.email`.
pub fn signature(repository: &Repository, author: Option<&str>) -> Result<Signature<'static>, ProposeError> {
    match author {
        Some(text) => {
            let (name, email) = parse_author(text)?;
            Ok(Signature::now(&name, &email)?)
        }
        None => repository.signature().map_err(ProposeError::NoSignature),
    }
}

/// `workergen: update 12 workers in production, staging`, then the workers.
pub fn message(diff: &Diff) -> String {
    let mut environments: Vec<&str> = diff.workers.iter().map(|worker| worker.environment.as_str()).collect();
    environments.sort_unstable();
    environments.dedup();
    let count = diff.workers.len();
    let noun = if count == 1 { "worker" } else { "workers" };
    let mut text = if count == 0 {
        "workergen: re-render\n".to_string()
    } else {
        format!("workergen: update {count} {noun} in {}\n", environments.join(", "))
    };
    if count > 0 {
        text.push('\n');
    }
    const SHOWN: usize = 200;
    for worker in diff.workers.iter().take(SHOWN) {
        let status = match worker.status {
            crate::diff::Status::Added => "added",
            crate::diff::Status::Removed => "removed",
            crate::diff::Status::Changed => "changed",
        };
        text.push_str(&format!("- {} ({status})\n", worker.id));
    }
    if count > SHOWN {
        text.push_str(&format!("- and {} more\n", count - SHOWN));
    }
    text
}

/// Whether `branch` is checked out here or in any linked worktree, and where.
fn checked_out(repository: &Repository, branch: &str) -> Result<Option<Option<String>>, git2::Error> {
    let reference = format!("refs/heads/{branch}");
    let is_head = |repo: &Repository| {
        repo.head().ok().and_then(|head| head.name().ok().map(str::to_string)) == Some(reference.clone())
    };
    if repository.head_detached().ok() != Some(true) && is_head(repository) {
        return Ok(Some(None));
    }
    for name in repository.worktrees()?.iter().filter_map(|name| name.ok().flatten()) {
        let Ok(worktree) = repository.find_worktree(name) else {
            continue;
        };
        if let Ok(linked) = Repository::open_from_worktree(&worktree) {
            if is_head(&linked) {
                return Ok(Some(Some(name.to_string())));
            }
        }
    }
    Ok(None)
}

/// Commits `tree` on `branch` with the base as parent. An existing branch that already
/// holds this tree is left alone; one that holds the same render on another base is
/// moved (the same proposal, brought up to date); any other is replaced only with
/// `force`. A checked-out branch is never moved.
#[allow(clippy::too_many_arguments)]
pub fn commit(
    repo: &ConfigRepo,
    base: &Revision<'_>,
    tree: Oid,
    rendered: Oid,
    branch: &str,
    message: &str,
    signature: &Signature<'_>,
    force: bool,
    output_path: &str,
) -> Result<ProposedBranch, ProposeError> {
    let repository = &repo.repository;
    let mut previous = None;
    if let Ok(existing) = repository.find_branch(branch, BranchType::Local) {
        let current = existing.get().peel_to_commit()?;
        if current.tree_id() == tree {
            return Ok(ProposedBranch {
                branch: branch.to_string(),
                commit: current.id().to_string(),
                parent: current.parent_id(0).map(|id| id.to_string()).unwrap_or_default(),
                created: false,
                replaced: false,
                previous: None,
            });
        }
        let current_tree = repository.find_tree(current.tree_id())?;
        let same_render = subtree(repository, &current_tree, output_path).map(|t| t.id()) == Some(rendered);
        if !force && !same_render {
            return Err(ProposeError::BranchExists {
                branch: branch.to_string(),
            });
        }
        if let Some(worktree) = checked_out(repository, branch)? {
            return Err(ProposeError::CheckedOut {
                branch: branch.to_string(),
                worktree,
            });
        }
        previous = Some(current.id());
    }
    let tree = repository.find_tree(tree)?;
    // No reference to update here: HEAD and the current branch stay where they are.
    let id = repository.commit(None, signature, signature, message, &tree, &[&base.commit])?;
    repository.reference(
        &format!("refs/heads/{branch}"),
        id,
        true,
        &format!("workergen propose: {}", message.lines().next().unwrap_or_default()),
    )?;
    Ok(ProposedBranch {
        branch: branch.to_string(),
        commit: id.to_string(),
        parent: base.commit.id().to_string(),
        created: true,
        replaced: previous.is_some(),
        previous,
    })
}

/// Credentials for a push, as git finds them, plus a CI token.
#[derive(Debug, Clone, Default)]
pub struct PushAuth {
    /// A token for https remotes (`WORKERGEN_GIT_TOKEN`), used as the password.
    pub token: Option<String>,
    /// The user name to pair with the token (`WORKERGEN_GIT_USERNAME`, default
    /// `x-access-token`).
    pub username: Option<String>,
}

/// Pushes `branch` to `remote`. With `force`, the remote branch is replaced only if it
/// is still where we last saw it (force-with-lease: the remote-tracking ref, or absent).
pub fn push(
    repo: &ConfigRepo,
    remote_name: &str,
    branch: &str,
    force: bool,
    auth: &PushAuth,
) -> Result<(), ProposeError> {
    let repository = &repo.repository;
    let mut remote = repository.find_remote(remote_name)?;
    let tracking = format!("refs/remotes/{remote_name}/{branch}");
    let expected = repository.refname_to_id(&tracking).unwrap_or(Oid::ZERO_SHA1);
    let config = repository.config()?;
    let lease_failure = std::cell::RefCell::new(None);
    let rejection = std::cell::RefCell::new(None);
    let result = {
        let mut attempts = 0;
        let mut callbacks = git2::RemoteCallbacks::new();
        callbacks.credentials(|url, username, allowed| {
            attempts += 1;
            if attempts > 4 {
                return Err(git2::Error::from_str("no credentials were accepted"));
            }
            credentials(&config, url, username, allowed, auth, attempts)
        });
        callbacks.push_negotiation(|updates| {
            for update in updates {
                if force && update.src() != expected {
                    *lease_failure.borrow_mut() = Some((expected, update.src()));
                    return Err(git2::Error::from_str("stale lease"));
                }
            }
            Ok(())
        });
        callbacks.push_update_reference(|_, status| {
            if let Some(message) = status {
                *rejection.borrow_mut() = Some(message.to_string());
            }
            Ok(())
        });
        let mut options = git2::PushOptions::new();
        options.remote_callbacks(callbacks);
        let refspec = format!(
            "{}refs/heads/{branch}:refs/heads/{branch}",
            if force { "+" } else { "" }
        );
        remote.push(&[refspec.as_str()], Some(&mut options))
    };
    if let Some((expected, found)) = lease_failure.into_inner() {
        let show = |oid: Oid| {
            if oid.is_zero() {
                "nothing".to_string()
            } else {
                oid.to_string()[..7].to_string()
            }
        };
        return Err(ProposeError::Lease {
            branch: branch.to_string(),
            expected: show(expected),
            found: show(found),
        });
    }
    result.map_err(|error| unreachable(remote_name, error))?;
    if let Some(message) = rejection.into_inner() {
        return Err(ProposeError::Rejected {
            remote: remote_name.to_string(),
            message,
        });
    }
    Ok(())
}

/// A push failure that happened on the way to the remote's host ([`ProposeError::Unreachable`]),
/// or the libgit2 error as it is (credentials, certificates and the rest have their own hints).
fn unreachable(remote: &str, error: git2::Error) -> ProposeError {
    use git2::{ErrorClass, ErrorCode};
    let on_the_way = matches!(error.code(), ErrorCode::GenericError)
        && matches!(error.class(), ErrorClass::Os | ErrorClass::Net | ErrorClass::Http);
    if on_the_way {
        ProposeError::Unreachable {
            remote: remote.to_string(),
            source: error,
        }
    } else {
        ProposeError::Git(error)
    }
}

fn credentials(
    config: &git2::Config,
    url: &str,
    username: Option<&str>,
    allowed: git2::CredentialType,
    auth: &PushAuth,
    attempt: u32,
) -> Result<git2::Cred, git2::Error> {
    if allowed.contains(git2::CredentialType::USER_PASS_PLAINTEXT) {
        if let (Some(token), 1) = (&auth.token, attempt) {
            let user = auth.username.as_deref().or(username).unwrap_or("x-access-token");
            return git2::Cred::userpass_plaintext(user, token);
        }
        if let Ok(cred) = git2::Cred::credential_helper(config, url, username) {
            return Ok(cred);
        }
    }
    if allowed.contains(git2::CredentialType::SSH_KEY) {
        return git2::Cred::ssh_key_from_agent(username.unwrap_or("git"));
    }
    if allowed.contains(git2::CredentialType::USERNAME) {
        return git2::Cred::username(username.unwrap_or("git"));
    }
    git2::Cred::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authors() {
        assert_eq!(
            parse_author("Workers Bot <bot@example.com>").unwrap(),
            ("Workers Bot".to_string(), "bot@example.com".to_string())
        );
        assert!(parse_author("bot@example.com").is_err());
        assert!(parse_author("<bot@example.com>").is_err());
        assert!(parse_author("Bot <>").is_err());
    }
}
