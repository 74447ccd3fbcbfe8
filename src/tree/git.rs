//! A Git tree object as a [`FileTree`]: the declarations of any revision, read straight
//! from the object database with git2, with no checkout and no temporary worktree.
//!
//! `git2::Repository` is not `Sync`, and loading reads files in parallel, so the tree
//! takes a snapshot of the entries it is asked for (blobs read once, kept in memory).

use std::collections::BTreeMap;
use std::io;

use git2::{ObjectType, Oid, Repository, Tree};

use super::{Entry, FileTree, LinkError, MAX_LINKS};

/// Git's file mode of a symbolic link: a blob holding the target path.
const LINK_MODE: i32 = 0o120000;

/// How deep below a root the snapshot goes: declarations are two folders down, so a
/// folder link that loops back on itself stops here.
const MAX_DEPTH: usize = 8;

/// A file of the snapshot: its bytes, its size when it was over the limit, or why a
/// symbolic link could not be followed.
#[derive(Debug, Clone)]
enum Blob {
    Bytes(Vec<u8>),
    TooLarge(usize),
    Link(LinkError),
}

/// An in-memory snapshot of part of a Git tree.
#[derive(Debug, Clone, Default)]
pub(crate) struct GitTree {
    files: BTreeMap<String, Blob>,
    /// Folder path to its sorted entries.
    folders: BTreeMap<String, Vec<Entry>>,
    description: String,
}

fn git_error(error: git2::Error) -> io::Error {
    io::Error::other(error.message().to_string())
}

impl GitTree {
    /// Snapshots the entries `roots` (top-level files or folders) of `tree`. Files larger
    /// than `limit` are not kept; reading one is a [`io::ErrorKind::FileTooLarge`] error.
    pub(crate) fn snapshot(
        repository: &Repository,
        tree: &Tree<'_>,
        roots: &[&str],
        limit: u64,
        description: impl Into<String>,
    ) -> io::Result<Self> {
        let mut snapshot = Self {
            description: description.into(),
            ..Self::default()
        };
        let mut top = Vec::new();
        for root in roots {
            let Some(entry) = tree.get_name(root) else {
                continue;
            };
            let followed = snapshot.follow(repository, tree, &entry, root);
            top.push(Entry {
                name: (*root).to_string(),
                is_dir: matches!(followed, Ok((ObjectType::Tree, _))),
            });
            snapshot.add(repository, tree, followed, root, limit, 0)?;
        }
        top.sort();
        snapshot.folders.insert(String::new(), top);
        Ok(snapshot)
    }

    /// The object `entry` (at `path`) stands for: itself, or for a symbolic link the
    /// object it leads to inside `root` (links in the target followed too, at most
    /// [`MAX_LINKS`]), as on disk.
    fn follow(
        &self,
        repository: &Repository,
        root: &Tree<'_>,
        entry: &git2::TreeEntry<'_>,
        path: &str,
    ) -> Result<(ObjectType, Oid), LinkError> {
        if entry.filemode() != LINK_MODE {
            return Ok((entry.kind().unwrap_or(ObjectType::Any), entry.id()));
        }
        let target = link_target(repository, entry.id());
        let dangling = || LinkError::Dangling {
            path: path.to_string(),
            target: target.clone(),
        };
        let outside = || LinkError::Outside {
            path: path.to_string(),
            target: target.clone(),
        };
        // Components still to walk (the next one last), and those walked.
        let mut pending: Vec<String> = path.split('/').rev().map(str::to_string).collect();
        let mut walked: Vec<String> = Vec::new();
        let mut links = 0;
        while let Some(part) = pending.pop() {
            match part.as_str() {
                "" | "." => continue,
                ".." => {
                    walked.pop().ok_or_else(outside)?;
                    continue;
                }
                _ => {}
            }
            let mut candidate = walked.clone();
            candidate.push(part);
            let found = root
                .get_path(std::path::Path::new(&candidate.join("/")))
                .map_err(|_| dangling())?;
            if found.filemode() == LINK_MODE {
                links += 1;
                if links > MAX_LINKS {
                    return Err(LinkError::TooMany { path: path.to_string() });
                }
                let next = link_target(repository, found.id());
                if next.starts_with('/') {
                    return Err(outside());
                }
                pending.extend(next.split('/').rev().map(str::to_string));
            } else {
                walked = candidate;
            }
        }
        if walked.is_empty() {
            return Ok((ObjectType::Tree, root.id()));
        }
        let found = root
            .get_path(std::path::Path::new(&walked.join("/")))
            .map_err(|_| dangling())?;
        Ok((found.kind().unwrap_or(ObjectType::Any), found.id()))
    }

    fn add(
        &mut self,
        repository: &Repository,
        root: &Tree<'_>,
        followed: Result<(ObjectType, Oid), LinkError>,
        path: &str,
        limit: u64,
        depth: usize,
    ) -> io::Result<()> {
        let (kind, id) = match followed {
            Ok(found) => found,
            Err(error) => {
                self.files.insert(path.to_string(), Blob::Link(error));
                return Ok(());
            }
        };
        match kind {
            ObjectType::Tree if depth < MAX_DEPTH => {
                let subtree = repository.find_tree(id).map_err(git_error)?;
                let mut entries = Vec::new();
                for child in &subtree {
                    let Ok(name) = child.name() else {
                        continue;
                    };
                    let child_path = super::join(path, name);
                    let followed = self.follow(repository, root, &child, &child_path);
                    entries.push(Entry {
                        name: name.to_string(),
                        is_dir: matches!(followed, Ok((ObjectType::Tree, _))),
                    });
                    self.add(repository, root, followed, &child_path, limit, depth + 1)?;
                }
                entries.sort();
                self.folders.insert(path.to_string(), entries);
            }
            ObjectType::Blob => {
                let blob = repository.find_blob(id).map_err(git_error)?;
                let content = if blob.size() as u64 > limit {
                    Blob::TooLarge(blob.size())
                } else {
                    Blob::Bytes(blob.content().to_vec())
                };
                self.files.insert(path.to_string(), content);
            }
            // Submodules and anything else hold no declarations.
            _ => {}
        }
        Ok(())
    }

    /// Every file of the snapshot under `folder` (all of them for `""`), with its bytes.
    #[cfg(test)]
    pub(crate) fn files_under<'a>(&'a self, folder: &'a str) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        self.files.iter().filter_map(move |(path, blob)| {
            let inside = folder.is_empty() || path.strip_prefix(folder).is_some_and(|rest| rest.starts_with('/'));
            match blob {
                Blob::Bytes(bytes) if inside => Some((path.as_str(), bytes.as_slice())),
                _ => None,
            }
        })
    }
}

impl FileTree for GitTree {
    fn list(&self, path: &str) -> io::Result<Option<Vec<Entry>>> {
        if let Some(Blob::Link(error)) = self.files.get(path) {
            return Err(error.clone().into_io());
        }
        Ok(self.folders.get(path).cloned())
    }

    fn read(&self, path: &str, limit: u64) -> io::Result<Option<Vec<u8>>> {
        match self.files.get(path) {
            None => Ok(None),
            Some(Blob::Bytes(bytes)) if bytes.len() as u64 <= limit => Ok(Some(bytes.clone())),
            Some(Blob::Bytes(bytes)) => Err(too_large(bytes.len(), limit)),
            Some(Blob::TooLarge(size)) => Err(too_large(*size, limit)),
            Some(Blob::Link(error)) => Err(error.clone().into_io()),
        }
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}

/// The path a symbolic link's blob holds.
fn link_target(repository: &Repository, id: Oid) -> String {
    repository
        .find_blob(id)
        .map(|blob| String::from_utf8_lossy(blob.content()).into_owned())
        .unwrap_or_default()
}

fn too_large(size: usize, limit: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        format!("{size} bytes, larger than {limit}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_commit_without_a_checkout() {
        let dir = tempfile::tempdir().unwrap();
        let repository = Repository::init(dir.path()).unwrap();
        let mut index = repository.index().unwrap();
        let add = |index: &mut git2::Index, path: &str, text: &str| {
            let id = repository.blob(text.as_bytes()).unwrap();
            let entry = git2::IndexEntry {
                ctime: git2::IndexTime::new(0, 0),
                mtime: git2::IndexTime::new(0, 0),
                dev: 0,
                ino: 0,
                mode: 0o100644,
                uid: 0,
                gid: 0,
                file_size: text.len() as u32,
                id,
                flags: 0,
                flags_extended: 0,
                path: path.as_bytes().to_vec(),
            };
            index.add(&entry).unwrap();
        };
        add(&mut index, "workergen.yaml", "acceptEula: true\n");
        add(&mut index, "environments/prod/environment.yaml", "octopus: {}\n");
        add(&mut index, "environments/prod/eu.yaml", "workers: {}\n");
        add(&mut index, "rendered/x.yaml", "x\n");
        let tree_id = index.write_tree().unwrap();
        let tree = repository.find_tree(tree_id).unwrap();
        let snapshot =
            GitTree::snapshot(&repository, &tree, &["workergen.yaml", "environments"], 1024, "test").unwrap();
        assert_eq!(
            snapshot.read("workergen.yaml", 1024).unwrap().unwrap(),
            b"acceptEula: true\n"
        );
        assert!(snapshot.read("rendered/x.yaml", 1024).unwrap().is_none());
        let names: Vec<_> = snapshot
            .list("environments/prod")
            .unwrap()
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["environment.yaml", "eu.yaml"]);
        assert_eq!(
            snapshot.read("workergen.yaml", 4).unwrap_err().kind(),
            io::ErrorKind::FileTooLarge
        );
        assert_eq!(snapshot.files_under("environments").count(), 2);
    }
}
