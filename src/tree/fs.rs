//! The working tree on disk, as a [`FileTree`].

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::{Entry, FileTree};

/// A folder on disk seen as a [`FileTree`].
#[derive(Debug, Clone)]
pub struct FsTree {
    root: PathBuf,
}

impl FsTree {
    /// A tree rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn path(&self, path: &str) -> PathBuf {
        if path.is_empty() {
            self.root.clone()
        } else {
            self.root.join(path)
        }
    }
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
        let Some(file) = not_found_is_none(std::fs::File::open(self.path(path)))? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        file.take(limit + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > limit {
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                format!("larger than {limit} bytes"),
            ));
        }
        Ok(Some(bytes))
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
        assert!(tree.list("missing").unwrap().is_none());
    }
}
