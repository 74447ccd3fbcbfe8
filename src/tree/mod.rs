//! The one abstraction over "a tree of files" that loading goes through.
//!
//! Everything above this module reads declarations through [`FileTree`], never
//! through `std::fs`: the working tree ([`fs::FsTree`]) and a Git tree object
//! (for `diff` and `propose`) then load the very same way.

pub mod fs;
pub mod git;

use std::io;

/// One entry of a folder listing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    /// The entry's name, without any folder.
    pub name: String,
    /// Whether the entry is a folder.
    pub is_dir: bool,
}

/// A read-only tree of files addressed by `/`-separated paths relative to its root.
///
/// The empty path `""` is the root itself.
pub trait FileTree: Sync {
    /// The entries of the folder at `path`, sorted by name; `Ok(None)` when there is no
    /// such folder.
    fn list(&self, path: &str) -> io::Result<Option<Vec<Entry>>>;

    /// The bytes of the file at `path`; `Ok(None)` when there is no such file.
    ///
    /// `limit` bounds what is read: a larger file is an error of kind
    /// [`io::ErrorKind::FileTooLarge`], so a huge file never fills memory.
    fn read(&self, path: &str, limit: u64) -> io::Result<Option<Vec<u8>>>;

    /// A short description of where the tree comes from, for messages.
    fn describe(&self) -> String;
}

/// Joins two tree paths with `/`, treating `""` as the root.
pub fn join(folder: &str, name: &str) -> String {
    if folder.is_empty() {
        name.to_string()
    } else {
        format!("{folder}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_treats_empty_as_root() {
        assert_eq!(join("", "a.yaml"), "a.yaml");
        assert_eq!(join("environments/prod", "a.yaml"), "environments/prod/a.yaml");
    }
}
