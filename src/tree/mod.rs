//! The one abstraction over "a tree of files" that loading goes through.
//!
//! Everything above this module reads declarations through [`FileTree`], never
//! through `std::fs`: the working tree ([`fs::FsTree`]) and a Git tree object
//! (for `diff` and `propose`) then load the very same way.

pub mod fs;
pub(crate) mod git;

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

/// How many symbolic links one path may go through, as Linux's `MAXSYMLINKS` bounds it.
pub(crate) const MAX_LINKS: usize = 40;

/// A symbolic link a tree will not follow. Both trees return it (inside an
/// [`io::Error`]) when a link is read, so a link behaves the same on disk and in Git.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LinkError {
    #[error("`{path}` is a symbolic link to `{target}`, which does not exist")]
    Dangling { path: String, target: String },
    #[error("`{path}` is a symbolic link to `{target}`, outside the config repository")]
    Outside { path: String, target: String },
    #[error("`{path}` goes through more than {MAX_LINKS} symbolic links (a loop?)")]
    TooMany { path: String },
}

impl LinkError {
    pub(crate) fn hint(&self) -> &'static str {
        match self {
            LinkError::Dangling { .. } => "point the link at a file that exists, or remove it",
            LinkError::Outside { .. } => {
                "a declaration must be in the repository (Git stores only the link): copy the file in, or link within the repository"
            }
            LinkError::TooMany { .. } => "replace the chain of links with one link to the file",
        }
    }

    /// The link error inside `error`, if that is what it is.
    pub(crate) fn of(error: &io::Error) -> Option<&LinkError> {
        error.get_ref().and_then(|inner| inner.downcast_ref::<LinkError>())
    }

    pub(crate) fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, self)
    }
}

/// A path that is neither a regular file nor a link to one (a FIFO, a device, a socket,
/// a folder where a file is read): never opened, since reading a FIFO waits for a writer
/// forever and `/dev/zero` never ends.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{path}` is not a regular file")]
pub(crate) struct NotAFile {
    pub(crate) path: String,
}

impl NotAFile {
    pub(crate) const HINT: &'static str =
        "workergen reads only regular files (and links to them): remove it, or replace it with a file";

    /// The error inside `error`, if that is what it is.
    pub(crate) fn of(error: &io::Error) -> Option<&NotAFile> {
        error.get_ref().and_then(|inner| inner.downcast_ref::<NotAFile>())
    }
}

/// The bytes of the regular file at `full` (shown as `path` in errors), at most `limit`
/// of them: anything but a regular file (or a link to one) is a [`NotAFile`] error
/// without being opened, a larger file an error of kind [`io::ErrorKind::FileTooLarge`]
/// after reading `limit + 1` bytes, so neither waits nor fills memory.
pub(crate) fn read_regular_file(path: &str, full: &std::path::Path, limit: u64) -> io::Result<Vec<u8>> {
    use std::io::Read as _;
    if !std::fs::metadata(full)?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            NotAFile { path: path.to_string() },
        ));
    }
    let file = std::fs::File::open(full)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("larger than {limit} bytes"),
        ));
    }
    Ok(bytes)
}

/// Joins two tree paths with `/`, treating `""` as the root.
pub(crate) fn join(folder: &str, name: &str) -> String {
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
