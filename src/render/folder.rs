//! A folder of an existing output tree, opened once: listed, and what it holds opened
//! by name relative to it, never following a symbolic link.
//!
//! A re-render looks at every file of the tree. Opened by its whole path, each file
//! cost the kernel a lookup of every folder above it, and each listing a `stat` of
//! its own; relative to an open folder, a file is one name away.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::path::Path;

/// What a folder entry is, without following a symbolic link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Kind {
    Folder,
    File,
    /// A symbolic link, a socket, a FIFO or a device.
    Other,
}

/// An open folder.
pub(super) struct Folder {
    #[cfg(unix)]
    dir: rustix::fs::Dir,
    #[cfg(not(unix))]
    path: std::path::PathBuf,
}

#[cfg(unix)]
impl Folder {
    /// Opens the folder at `path` (a symbolic link there is followed: the output folder
    /// itself may be one).
    pub(super) fn open(path: &Path) -> io::Result<Folder> {
        use rustix::fs::{Mode, OFlags};
        let fd = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Folder {
            dir: rustix::fs::Dir::new(fd)?,
        })
    }

    /// Opens the folder `name` in this one; an error if it is a symbolic link.
    pub(super) fn open_folder(&self, name: &OsStr) -> io::Result<Folder> {
        use rustix::fs::{Mode, OFlags};
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(self.dir.fd()?, name, flags, Mode::empty())?;
        Ok(Folder {
            dir: rustix::fs::Dir::new(fd)?,
        })
    }

    /// Opens the file `name` in this one for reading: an error if it is a symbolic link,
    /// and no wait if it is a FIFO.
    pub(super) fn open_file(&self, name: &OsStr) -> io::Result<File> {
        use rustix::fs::{Mode, OFlags};
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        Ok(File::from(rustix::fs::openat(
            self.dir.fd()?,
            name,
            flags,
            Mode::empty(),
        )?))
    }

    /// The entries of the folder (not `.` and `..`), in the order the file system gives.
    pub(super) fn entries(&mut self) -> io::Result<Vec<(OsString, Kind)>> {
        use rustix::fs::FileType;
        use std::os::unix::ffi::OsStrExt;
        let mut entries = Vec::new();
        while let Some(entry) = self.dir.read() {
            let entry = entry?;
            let name = OsStr::from_bytes(entry.file_name().to_bytes());
            if name == "." || name == ".." {
                continue;
            }
            let file_type = match entry.file_type() {
                // Some file systems do not say in a listing.
                FileType::Unknown => {
                    let flags = rustix::fs::AtFlags::SYMLINK_NOFOLLOW;
                    let stat = rustix::fs::statat(self.dir.fd()?, name, flags)?;
                    FileType::from_raw_mode(stat.st_mode)
                }
                known => known,
            };
            let kind = match file_type {
                FileType::Directory => Kind::Folder,
                FileType::RegularFile => Kind::File,
                _ => Kind::Other,
            };
            entries.push((name.to_os_string(), kind));
        }
        Ok(entries)
    }
}

/// Elsewhere, by path: the same answers, a lookup of the whole path each.
#[cfg(not(unix))]
impl Folder {
    pub(super) fn open(path: &Path) -> io::Result<Folder> {
        Ok(Folder {
            path: path.to_path_buf(),
        })
    }

    pub(super) fn open_folder(&self, name: &OsStr) -> io::Result<Folder> {
        let path = self.path.join(name);
        if std::fs::symlink_metadata(&path)?.is_dir() {
            Ok(Folder { path })
        } else {
            Err(io::Error::other("not a folder"))
        }
    }

    pub(super) fn open_file(&self, name: &OsStr) -> io::Result<File> {
        let path = self.path.join(name);
        if std::fs::symlink_metadata(&path)?.is_symlink() {
            return Err(io::Error::other("a symbolic link"));
        }
        File::open(path)
    }

    pub(super) fn entries(&mut self) -> io::Result<Vec<(OsString, Kind)>> {
        std::fs::read_dir(&self.path)?
            .map(|entry| {
                let entry = entry?;
                let file_type = entry.file_type()?;
                let kind = if file_type.is_dir() {
                    Kind::Folder
                } else if file_type.is_file() {
                    Kind::File
                } else {
                    Kind::Other
                };
                Ok((entry.file_name(), kind))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_say_what_each_is_without_following_links() {
        let tmp = tempfile::TempDir::new().unwrap();
        std::fs::create_dir(tmp.path().join("sub")).unwrap();
        std::fs::write(tmp.path().join("file.yaml"), b"x").unwrap();
        std::fs::write(tmp.path().join("sub/inner.yaml"), b"inner").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(tmp.path().join("sub"), tmp.path().join("link")).unwrap();
            std::os::unix::fs::symlink(tmp.path().join("file.yaml"), tmp.path().join("file-link")).unwrap();
        }
        let mut folder = Folder::open(tmp.path()).unwrap();
        let mut entries = folder.entries().unwrap();
        entries.sort();
        let mut expected = vec![
            (OsString::from("file.yaml"), Kind::File),
            (OsString::from("sub"), Kind::Folder),
        ];
        if cfg!(unix) {
            expected.push((OsString::from("file-link"), Kind::Other));
            expected.push((OsString::from("link"), Kind::Other));
            expected.sort();
        }
        assert_eq!(entries, expected);

        let mut sub = folder.open_folder(OsStr::new("sub")).unwrap();
        assert_eq!(sub.entries().unwrap(), [(OsString::from("inner.yaml"), Kind::File)]);
        let mut text = String::new();
        io::Read::read_to_string(&mut sub.open_file(OsStr::new("inner.yaml")).unwrap(), &mut text).unwrap();
        assert_eq!(text, "inner");
        if cfg!(unix) {
            assert!(
                folder.open_folder(OsStr::new("link")).is_err(),
                "a linked folder is not entered"
            );
            assert!(
                folder.open_file(OsStr::new("file-link")).is_err(),
                "a linked file is not opened"
            );
        }
        let missing = folder.open_file(OsStr::new("missing.yaml")).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }
}
