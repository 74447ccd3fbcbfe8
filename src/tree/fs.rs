//! The working tree on disk, as a [`FileTree`].

use std::io;
use std::path::{Path, PathBuf};

use super::{Entry, FileTree, LinkError};

/// A folder on disk seen as a [`FileTree`].
///
/// Symbolic links are followed as `GitTree` (the snapshot of a Git commit) follows them in Git: only
/// inside the root, and a dangling link is an error rather than a missing file.
#[derive(Debug, Clone)]
pub struct FsTree {
    root: PathBuf,
    canonical_root: std::sync::OnceLock<PathBuf>,
}

impl FsTree {
    /// A tree rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            canonical_root: std::sync::OnceLock::new(),
        }
    }

    /// When `path` is a symbolic link, checks that it leads to something inside the root.
    fn check_link(&self, path: &str, full: &Path) -> io::Result<()> {
        let is_link = std::fs::symlink_metadata(full).is_ok_and(|meta| meta.file_type().is_symlink());
        if !is_link {
            return Ok(());
        }
        let target = std::fs::read_link(full)
            .map(|target| target.to_string_lossy().into_owned())
            .unwrap_or_default();
        let root = self
            .canonical_root
            .get_or_init(|| self.root.canonicalize().unwrap_or_else(|_| self.root.clone()));
        let error = match full.canonicalize() {
            Ok(real) if real.starts_with(root) => return Ok(()),
            Ok(_) => LinkError::Outside {
                path: path.to_string(),
                target,
            },
            // ELOOP: too many links.
            Err(error) if error.raw_os_error() == Some(40) => LinkError::TooMany { path: path.to_string() },
            // A missing target outside the root is first of all outside, as in Git.
            Err(error) if error.kind() == io::ErrorKind::NotFound && leaves_root(path, &target) => LinkError::Outside {
                path: path.to_string(),
                target,
            },
            Err(error) if error.kind() == io::ErrorKind::NotFound => LinkError::Dangling {
                path: path.to_string(),
                target,
            },
            Err(error) => return Err(error),
        };
        Err(error.into_io())
    }

    fn path(&self, path: &str) -> PathBuf {
        if path.is_empty() {
            self.root.clone()
        } else {
            self.root.join(path)
        }
    }
}

/// Whether the link at `path` (relative to the root) with `target` points out of the
/// root, read without the file system (the target may not exist).
fn leaves_root(path: &str, target: &str) -> bool {
    if Path::new(target).is_absolute() {
        return true;
    }
    let mut depth = path.split('/').count() - 1;
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." if depth == 0 => return true,
            ".." => depth -= 1,
            _ => depth += 1,
        }
    }
    false
}

fn not_found_is_none<T>(result: io::Result<T>) -> io::Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

impl FileTree for FsTree {
    fn list(&self, path: &str) -> io::Result<Option<Vec<Entry>>> {
        let folder = self.path(path);
        if !path.is_empty() {
            self.check_link(path, &folder)?;
        }
        if !folder.is_dir() {
            return Ok(None);
        }
        let Some(read_dir) = not_found_is_none(std::fs::read_dir(&folder))? else {
            return Ok(None);
        };
        let mut entries = Vec::new();
        for entry in read_dir {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            // Follow symbolic links, as Git checkouts of the config repo would.
            let is_dir = entry.path().is_dir();
            entries.push(Entry { name, is_dir });
        }
        entries.sort();
        Ok(Some(entries))
    }

    fn read(&self, path: &str, limit: u64) -> io::Result<Option<Vec<u8>>> {
        let full = self.path(path);
        self.check_link(path, &full)?;
        not_found_is_none(super::read_regular_file(path, &full, limit))
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }
}

/// The root folder of a tree, for callers that also write beside it.
impl AsRef<Path> for FsTree {
    fn as_ref(&self) -> &Path {
        &self.root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_leaving_the_root_are_seen_without_the_file_system() {
        assert!(!leaves_root("environments/prod/eu.yaml", "../staging/eu.yaml"));
        assert!(!leaves_root("environments/prod/eu.yaml", "../../shared/eu.yaml"));
        assert!(leaves_root("environments/prod/eu.yaml", "../../../eu.yaml"));
        assert!(leaves_root("environments/prod/eu.yaml", "/etc/eu.yaml"));
        assert!(leaves_root("workergen.yaml", "../workergen.yaml"));
        assert!(!leaves_root("workergen.yaml", "./a/../workergen.yaml"));
    }

    #[test]
    fn lists_sorted_and_reads_with_limit() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("b")).unwrap();
        std::fs::write(dir.path().join("a.yaml"), "x: 1\n").unwrap();
        let tree = FsTree::new(dir.path());
        let entries = tree.list("").unwrap().unwrap();
        assert_eq!(
            entries,
            vec![
                Entry {
                    name: "a.yaml".into(),
                    is_dir: false
                },
                Entry {
                    name: "b".into(),
                    is_dir: true
                }
            ]
        );
        assert_eq!(tree.read("a.yaml", 100).unwrap().unwrap(), b"x: 1\n");
        assert_eq!(tree.read("a.yaml", 2).unwrap_err().kind(), io::ErrorKind::FileTooLarge);
        assert!(tree.read("missing.yaml", 100).unwrap().is_none());
        // A FIFO is refused without being opened (opening it would wait for a writer).
        let fifo = dir.path().join("fifo.yaml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        let error = tree.read("fifo.yaml", 100).unwrap_err();
        assert_eq!(
            super::super::NotAFile::of(&error).map(|found| found.path.as_str()),
            Some("fifo.yaml")
        );
        assert!(tree.list("missing").unwrap().is_none());
    }
}
