//! A Git tree object as a [`FileTree`]: the declarations of any revision, read straight
//! from the object database with git2, with no checkout and no temporary worktree.
//!
//! `git2::Repository` is not `Sync`, and loading reads files in parallel, so the tree
//! takes a snapshot of the entries it is asked for (blobs read once, kept in memory).

use std::collections::BTreeMap;
use std::io;

use git2::{ObjectType, Repository, Tree};

use super::{Entry, FileTree};

/// A file of the snapshot: its bytes, or its size when it was over the limit.
#[derive(Debug, Clone)]
enum Blob {
    Bytes(Vec<u8>),
    TooLarge(usize),
}

/// An in-memory snapshot of part of a Git tree.
#[derive(Debug, Clone, Default)]
pub struct GitTree {
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
    pub fn snapshot(
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
            top.push(Entry {
                name: (*root).to_string(),
                is_dir: entry.kind() == Some(ObjectType::Tree),
            });
            snapshot.add(repository, &entry, root, limit)?;
        }
        top.sort();
        snapshot.folders.insert(String::new(), top);
        Ok(snapshot)
    }

    fn add(&mut self, repository: &Repository, entry: &git2::TreeEntry<'_>, path: &str, limit: u64) -> io::Result<()> {
        match entry.kind() {
            Some(ObjectType::Tree) => {
                let subtree = repository.find_tree(entry.id()).map_err(git_error)?;
                let mut entries = Vec::new();
                for child in subtree.iter() {
                    let Ok(name) = child.name() else {
                        continue;
                    };
                    entries.push(Entry {
                        name: name.to_string(),
                        is_dir: child.kind() == Some(ObjectType::Tree),
                    });
                    self.add(repository, &child, &super::join(path, name), limit)?;
                }
                entries.sort();
                self.folders.insert(path.to_string(), entries);
            }
            Some(ObjectType::Blob) => {
                let blob = repository.find_blob(entry.id()).map_err(git_error)?;
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
    pub fn files_under<'a>(&'a self, folder: &'a str) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
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
        Ok(self.folders.get(path).cloned())
    }

    fn read(&self, path: &str, limit: u64) -> io::Result<Option<Vec<u8>>> {
        match self.files.get(path) {
            None => Ok(None),
            Some(Blob::Bytes(bytes)) if bytes.len() as u64 <= limit => Ok(Some(bytes.clone())),
            Some(Blob::Bytes(bytes)) => Err(too_large(bytes.len(), limit)),
            Some(Blob::TooLarge(size)) => Err(too_large(*size, limit)),
        }
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
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
